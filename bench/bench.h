/*
 * bench.h - the benchmark framework shared by every bench/ section.
 *
 * Design
 * ------
 * build/ingenium-bench runs a table of sections (bench_main.c). A section is
 * a function `void bench_xxx(struct bench_ctx *ctx)` that measures one part
 * of the engine and records its figures with bench_result() /
 * bench_result_median(). Results go into a preallocated report
 * (bench_report.h), which prints the table and writes the JSON at the end.
 * The targets of issue 6 are ratios between recorded results, computed in
 * bench_main.c after every section has run.
 *
 * Rules every section follows:
 *   - Every figure is measured several times (ctx->repeats, fewer under
 *     --quick) and recorded as the median, with min and max as the spread.
 *   - Two-thread measurements pin their threads to ctx->cpu_a and
 *     ctx->cpu_b with bench_pin_self(). A failure to pin is noted in the
 *     report and the run goes on unpinned.
 *   - Every wait is bounded. A thread that sees no progress for
 *     BENCH_STALL_NS gives up, tells its peer through a shared abort flag,
 *     and the section reports the failure with bench_fail() instead of a
 *     number. ingenium-bench then exits non-zero.
 *   - Timing uses CLOCK_MONOTONIC (ig_clock_mono_ns, a vDSO call), never
 *     the TSC directly.
 *
 * Owner: the main thread owns the context and the report. Worker threads a
 * section starts only read the context (quick, counts) and report back
 * through their own structs, which the section reads after joining them.
 */
#ifndef IG_BENCH_H
#define IG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct bench_report;

/* A thread that makes no progress for this long gives up. */
#define BENCH_STALL_NS INT64_C(3000000000)
/* Most repeats a section may take of one measurement. */
#define BENCH_MAX_REPEATS 16

struct bench_ctx {
	bool quick;               /* --quick: smaller counts, fewer repeats */
	uint32_t repeats;         /* repeats per measurement (5, or 3 quick) */
	int cpu_a;                /* CPU of the first thread of a pair */
	int cpu_b;                /* CPU of the second thread of a pair */
	struct bench_report *rep; /* where results go */
	const char *section;      /* name of the running section */
	uint32_t failures;        /* bench_fail() calls so far */
	uint32_t pin_failures;    /* bench_pin_self() failures (atomic add) */
};

/* A section: measures and records. See bench_main.c for the table. */
typedef void (*bench_section_fn)(struct bench_ctx *ctx);

/* The sections. Each lives in its own bench/bench_<name>.c and is listed
 * in the sections[] table of bench_main.c. */
void bench_floor(struct bench_ctx *ctx);
void bench_rings(struct bench_ctx *ctx);
void bench_fixed(struct bench_ctx *ctx);
/* bench_pipeline.c (issue 6 items 3-6; register them in bench_main.c's
 * sections[] table when that file lands). */
void bench_pipeline(struct bench_ctx *ctx);
struct ig_config;
/* The pipeline sections' engine: a synthetic SYN feed (seed 7, 100.00,
 * 10 bps), the paper venue, one sma_cross 2/4 of qty 1 with every risk
 * limit unset, ring 4096, one strategy thread; the caller sets the rate,
 * count and threading. Overwrites *cfg. */
void bench_pipeline_config(struct ig_config *cfg);

/* The risk section's limits (live-looking: qty 10, notional 100k, ...). */
struct ig_cfg_risk;
void bench_risk_limits(struct ig_cfg_risk *lim);

/* An OMS for timing its handler: cfg from bench_pipeline_config with
 * bench_risk_limits (rate, open-order, position and staleness checks off),
 * one strategy thread, data clock, a first quote at 100 / 100.01. Returns
 * 0 or -1 (init failed). ig_oms_destroy() it. */
struct ig_oms;
int bench_oms_init(struct ig_oms *oms, struct ig_config *cfg);

/* A market buy intent of 0.01 with client id k through the OMS handler,
 * then its fill (trade id k at 100) with a null emitter. Returns the ns
 * the intent took (time_fill false) or the fill (true), the clock's own
 * cost included. */
int64_t bench_oms_order_fill(struct ig_oms *oms, uint64_t k, bool time_fill);
void bench_inline(struct bench_ctx *ctx);
void bench_sweep(struct bench_ctx *ctx);
void bench_risk(struct bench_ctx *ctx);
void bench_journal(struct bench_ctx *ctx);
void bench_api(struct bench_ctx *ctx);
void bench_store(struct bench_ctx *ctx);
void bench_store_t2o(struct bench_ctx *ctx);
void bench_book(struct bench_ctx *ctx);

/* Records one figure under the current section. Main thread. */
void bench_result(struct bench_ctx *ctx, const char *name, double value, const char *unit);

/* Records the median of samples[0..n) (n >= 1), with min and max as its
 * spread. Sorts samples in place. Returns the median. Main thread. */
double bench_result_median(struct bench_ctx *ctx, const char *name, double *samples, uint32_t n,
			   const char *unit);

/* Records the largest of samples[0..n): for "max" figures, where the worst
 * case over all repeats is the honest answer. Returns it. Main thread. */
double bench_result_max(struct bench_ctx *ctx, const char *name, const double *samples, uint32_t n,
			const char *unit);

/* Median of samples[0..n) (sorts in place); 0 when n == 0. */
double bench_median(double *samples, uint32_t n);

/* Reports a measurement that could not be made (stall, setup failure).
 * printf-style. Counts in ctx->failures; the run exits non-zero. */
void bench_fail(struct bench_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds a note to the report (printed and written to the JSON). */
void bench_note(struct bench_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Pins the calling thread to cpu. Returns 0, or -1 after counting the
 * failure in ctx->pin_failures (the caller goes on unpinned). Any thread. */
int bench_pin_self(struct bench_ctx *ctx, int cpu);

/*
 * Stall watch for one thread's wait loop. Call bench_watch_idle() each time
 * the loop found nothing to do and bench_watch_progress() when it did work.
 * Only every `every` idle calls does it read the clock, so it costs nothing
 * on a spinning hot path. Returns true once the thread has been idle for
 * BENCH_STALL_NS or *abort is set: the caller must then give up.
 */
struct bench_watch {
	uint32_t idle;        /* idle calls since the last clock read */
	uint32_t every;       /* read the clock every this many idle calls */
	int64_t since_ns;     /* first idle clock read since progress, 0 = none */
	const int *abort;     /* shared flag; nonzero = give up */
};

static inline void bench_watch_init(struct bench_watch *w, uint32_t every, const int *abort)
{
	w->idle = 0;
	w->every = every;
	w->since_ns = 0;
	w->abort = abort;
}

static inline void bench_watch_progress(struct bench_watch *w)
{
	w->idle = 0;
	w->since_ns = 0;
}

static inline bool bench_watch_idle(struct bench_watch *w)
{
	int64_t now;

	if (++w->idle < w->every)
		return false;
	w->idle = 0;
	if (__atomic_load_n(w->abort, __ATOMIC_RELAXED) != 0)
		return true;
	now = ig_clock_mono_ns();
	if (w->since_ns == 0) {
		w->since_ns = now;
		return false;
	}
	return now - w->since_ns > BENCH_STALL_NS;
}

/* Sets *abort so the peer thread gives up too. */
static inline void bench_abort(int *abort)
{
	__atomic_store_n(abort, 1, __ATOMIC_RELAXED);
}

/*
 * Start line for two threads: each calls it once; both return together.
 * Returns false (and sets *abort) if the peer did not arrive within
 * BENCH_STALL_NS.
 */
bool bench_start_line(int *arrived, int *abort);

/* Measured cost of one ig_clock_mono_ns() call, ns (median of batches). */
double bench_clock_cost_ns(void);

/* Removes a SQLite database file and its -wal and -shm companions. */
void bench_remove_sqlite(const char *path);

#endif
