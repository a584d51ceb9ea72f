/*
 * bench_report.h - collects benchmark figures, prints the table, writes JSON.
 *
 * Design
 * ------
 * A report is one fixed-size struct: results, targets, sections and notes
 * live in arrays inside it, sized by the BENCH_REPORT_* limits below, so
 * recording never allocates. (The struct is large; allocate it with calloc
 * or as a static.) A result is {name, value, unit}; a figure measured
 * several times also carries its min, max and repeat count. Names are
 * unique: adding a name twice is refused, so a copy-paste slip cannot hide
 * a figure. Each result remembers the section it was recorded in, for the
 * table's headers.
 *
 * The JSON written by bench_report_write_json() is:
 *
 *   { "machine":   { "cpu_model": "...", "cores": 2 },
 *     "commit":    "abc1234" | "unknown",
 *     "timestamp": "2025-01-01T00:00:00Z",       (UTC, ISO 8601)
 *     "quick":     false,
 *     "duration_s": 81.2,
 *     "results": [ { "name", "value", "unit"            always
 *                    "min", "max", "repeats" }, ... ], when repeats > 1
 *     "targets": [ { "name", "value", "baseline", "ratio", "target",
 *                    "cmp": ">=" | "<=", "met": bool, "description" }, ... ],
 *     "notes":   [ "...", ... ],
 *     "failures": [ "...", ... ] }
 *
 * For a target, ratio = value / baseline and met = (ratio cmp target).
 * A target without a baseline (an absolute bound) has "baseline": null and
 * "ratio": null, and met = (value cmp target).
 *
 * Owner: the main thread.
 */
#ifndef IG_BENCH_REPORT_H
#define IG_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_REPORT_MAX_RESULTS 1024
#define BENCH_REPORT_MAX_TARGETS 32
#define BENCH_REPORT_MAX_SECTIONS 32
#define BENCH_REPORT_MAX_NOTES 64
#define BENCH_REPORT_NAME_MAX 96
#define BENCH_REPORT_UNIT_MAX 16
#define BENCH_REPORT_TEXT_MAX 240

enum bench_cmp {
	BENCH_GE = 0, /* met when ratio (or value) >= target */
	BENCH_LE,     /* met when ratio (or value) <= target */
};

struct bench_result_row {
	char name[BENCH_REPORT_NAME_MAX];
	char unit[BENCH_REPORT_UNIT_MAX];
	double value;      /* the figure (the median when repeats > 1) */
	double min;        /* smallest repeat */
	double max;        /* largest repeat */
	uint32_t repeats;  /* how many runs the figure summarises */
	uint32_t section;  /* index into sections[] */
};

struct bench_target_row {
	char name[BENCH_REPORT_NAME_MAX];
	char text[BENCH_REPORT_TEXT_MAX]; /* human description */
	double value;      /* the measured figure */
	double baseline;   /* the baseline figure, same run */
	bool has_baseline; /* false: absolute bound on value */
	double ratio;      /* value / baseline */
	double target;     /* bound on ratio (or value) */
	enum bench_cmp cmp;
	bool met;
};

struct bench_report {
	bool quick;
	int64_t started_ns; /* CLOCK_MONOTONIC at init, for duration_s */
	uint32_t n_results;
	uint32_t n_targets;
	uint32_t n_sections;
	uint32_t n_notes;
	uint32_t n_failures;
	uint32_t dropped;   /* rows refused: full or duplicate */
	char sections[BENCH_REPORT_MAX_SECTIONS][BENCH_REPORT_NAME_MAX];
	char notes[BENCH_REPORT_MAX_NOTES][BENCH_REPORT_TEXT_MAX];
	char failures[BENCH_REPORT_MAX_NOTES][BENCH_REPORT_TEXT_MAX];
	struct bench_result_row results[BENCH_REPORT_MAX_RESULTS];
	struct bench_target_row targets[BENCH_REPORT_MAX_TARGETS];
};

/* Empties rep. Nothing to destroy: the report owns no memory. */
void bench_report_init(struct bench_report *rep, bool quick);

/* Starts a section: later results are listed under its header. */
void bench_report_section(struct bench_report *rep, const char *name);

/* Adds a result. repeats = 1 for a single measurement (min = max = value).
 * Returns 0, or -1 if the name is already used, too long, or the report is
 * full (the row is then counted in rep->dropped and a warning printed). */
int bench_report_add(struct bench_report *rep, const char *name, double value, const char *unit,
		     double min, double max, uint32_t repeats);

/* The result called name, or NULL. */
const struct bench_result_row *bench_report_find(const struct bench_report *rep,
						 const char *name);

/* Evaluates and adds a target: value and baseline are looked up by result
 * name (baseline_name NULL = absolute bound). Returns 0, 1 if a figure it
 * needs was not measured in this run (nothing is added), -1 if full. */
int bench_report_target(struct bench_report *rep, const char *name, const char *text,
			const char *value_name, const char *baseline_name, enum bench_cmp cmp,
			double target);

/* Adds a note or a failure line (truncated to BENCH_REPORT_TEXT_MAX). */
void bench_report_note(struct bench_report *rep, const char *text);
void bench_report_failure(struct bench_report *rep, const char *text);

/* Prints the results table (one block per section), then the targets
 * table, notes and failures. */
void bench_report_print(const struct bench_report *rep, FILE *out);

/* Writes the JSON described above to path (through path.tmp and rename).
 * Returns 0 or -1 with a message on stderr. */
int bench_report_write_json(const struct bench_report *rep, const char *path);

#endif
