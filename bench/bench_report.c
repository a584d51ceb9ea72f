/*
 * bench_report.c - the result table and the JSON file (see bench_report.h).
 *
 * Method notes for docs/benchmarks.md
 * -----------------------------------
 * Every figure is printed as value, unit and, when it was measured more than
 * once, its spread "[min .. max] xN" over the N repeats: on a noisy VM the
 * spread says how far to trust the median. The targets table gives, for each
 * target of issue 6, the figure, the baseline measured in the same run, their
 * ratio, the bound and whether it is met. The machine block of the JSON comes
 * from /proc/cpuinfo ("model name") and sysconf(_SC_NPROCESSORS_ONLN); the
 * commit from `git rev-parse --short HEAD` ("unknown" outside a work tree).
 */
#include "bench_report.h"

#include "core/clock.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void bench_report_init(struct bench_report *rep, bool quick)
{
	memset(rep, 0, sizeof(*rep));
	rep->quick = quick;
	rep->started_ns = ig_clock_mono_ns();
	/* Section 0 collects results recorded before any section starts. */
	copy_str(rep->sections[0], sizeof(rep->sections[0]), "general");
	rep->n_sections = 1;
}

void bench_report_section(struct bench_report *rep, const char *name)
{
	if (rep->n_sections >= BENCH_REPORT_MAX_SECTIONS) {
		fprintf(stderr, "bench: too many sections, '%s' listed under the last\n", name);
		return;
	}
	copy_str(rep->sections[rep->n_sections], BENCH_REPORT_NAME_MAX, name);
	rep->n_sections++;
}

const struct bench_result_row *bench_report_find(const struct bench_report *rep, const char *name)
{
	for (uint32_t i = 0; i < rep->n_results; i++)
		if (strcmp(rep->results[i].name, name) == 0)
			return &rep->results[i];
	return NULL;
}

int bench_report_add(struct bench_report *rep, const char *name, double value, const char *unit,
		     double min, double max, uint32_t repeats)
{
	struct bench_result_row *row;

	if (strlen(name) >= BENCH_REPORT_NAME_MAX || strlen(unit) >= BENCH_REPORT_UNIT_MAX) {
		fprintf(stderr, "bench: result name or unit too long: %s\n", name);
		goto refused;
	}
	if (bench_report_find(rep, name) != NULL) {
		fprintf(stderr, "bench: duplicate result name %s (bug in a section)\n", name);
		goto refused;
	}
	if (rep->n_results >= BENCH_REPORT_MAX_RESULTS) {
		fprintf(stderr, "bench: report full, dropped %s\n", name);
		goto refused;
	}
	row = &rep->results[rep->n_results++];
	copy_str(row->name, sizeof(row->name), name);
	copy_str(row->unit, sizeof(row->unit), unit);
	row->value = value;
	row->min = min;
	row->max = max;
	row->repeats = repeats;
	row->section = rep->n_sections - 1;
	return 0;
refused:
	rep->dropped++;
	return -1;
}

int bench_report_target(struct bench_report *rep, const char *name, const char *text,
			const char *value_name, const char *baseline_name, enum bench_cmp cmp,
			double target)
{
	const struct bench_result_row *v = bench_report_find(rep, value_name);
	const struct bench_result_row *b = NULL;
	struct bench_target_row *t;
	double x;

	if (baseline_name != NULL)
		b = bench_report_find(rep, baseline_name);
	if (v == NULL || (baseline_name != NULL && b == NULL))
		return 1;
	if (rep->n_targets >= BENCH_REPORT_MAX_TARGETS) {
		fprintf(stderr, "bench: too many targets, dropped %s\n", name);
		return -1;
	}
	t = &rep->targets[rep->n_targets++];
	memset(t, 0, sizeof(*t));
	copy_str(t->name, sizeof(t->name), name);
	copy_str(t->text, sizeof(t->text), text);
	t->value = v->value;
	t->has_baseline = b != NULL;
	t->baseline = b != NULL ? b->value : 0.0;
	t->ratio = b != NULL && b->value != 0.0 ? v->value / b->value : NAN;
	t->target = target;
	t->cmp = cmp;
	x = b != NULL ? t->ratio : t->value;
	/* A NaN ratio (zero baseline) meets nothing. */
	t->met = cmp == BENCH_GE ? x >= target : x <= target;
	return 0;
}

void bench_report_note(struct bench_report *rep, const char *text)
{
	if (rep->n_notes < BENCH_REPORT_MAX_NOTES)
		copy_str(rep->notes[rep->n_notes++], BENCH_REPORT_TEXT_MAX, text);
}

void bench_report_failure(struct bench_report *rep, const char *text)
{
	if (rep->n_failures < BENCH_REPORT_MAX_NOTES)
		copy_str(rep->failures[rep->n_failures++], BENCH_REPORT_TEXT_MAX, text);
}

/* Prints v with 3 significant-ish digits but never in exponent form. */
static void fmt_value(char *buf, size_t cap, double v)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, cap, "n/a");
	else if (a >= 1000.0 || v == floor(v))
		snprintf(buf, cap, "%.0f", v);
	else if (a >= 100.0)
		snprintf(buf, cap, "%.1f", v);
	else if (a >= 1.0)
		snprintf(buf, cap, "%.2f", v);
	else
		snprintf(buf, cap, "%.4f", v);
}

static const char *cmp_str(enum bench_cmp cmp)
{
	return cmp == BENCH_GE ? ">=" : "<=";
}

void bench_report_print(const struct bench_report *rep, FILE *out)
{
	size_t w = 10;
	char v[48], lo[48], hi[48];

	for (uint32_t i = 0; i < rep->n_results; i++) {
		size_t n = strlen(rep->results[i].name);
		if (n > w)
			w = n;
	}
	for (uint32_t s = 0; s < rep->n_sections; s++) {
		bool any = false;

		for (uint32_t i = 0; i < rep->n_results; i++) {
			const struct bench_result_row *r = &rep->results[i];

			if (r->section != s)
				continue;
			if (!any) {
				fprintf(out, "\n== %s ==\n", rep->sections[s]);
				fprintf(out, "%-*s %12s  %-8s %s\n", (int)w, "name", "value", "unit",
					"spread [min .. max] x repeats");
				any = true;
			}
			fmt_value(v, sizeof(v), r->value);
			if (r->repeats > 1) {
				fmt_value(lo, sizeof(lo), r->min);
				fmt_value(hi, sizeof(hi), r->max);
				fprintf(out, "%-*s %12s  %-8s [%s .. %s] x%u\n", (int)w, r->name, v,
					r->unit, lo, hi, r->repeats);
			} else {
				fprintf(out, "%-*s %12s  %s\n", (int)w, r->name, v, r->unit);
			}
		}
	}
	if (rep->n_targets > 0) {
		size_t tw = 6;
		for (uint32_t i = 0; i < rep->n_targets; i++) {
			size_t n = strlen(rep->targets[i].name);
			if (n > tw)
				tw = n;
		}
		fprintf(out, "\n== Targets (ratio = value / baseline, medians, same run) ==\n");
		fprintf(out, "%-*s %10s %10s %9s %9s  %s\n", (int)tw, "target", "value", "baseline",
			"ratio", "bound", "result");
		for (uint32_t i = 0; i < rep->n_targets; i++) {
			const struct bench_target_row *t = &rep->targets[i];
			char b[48], r[48], tg[64];

			fmt_value(v, sizeof(v), t->value);
			if (t->has_baseline) {
				fmt_value(b, sizeof(b), t->baseline);
				fmt_value(r, sizeof(r), t->ratio);
			} else {
				snprintf(b, sizeof(b), "-");
				snprintf(r, sizeof(r), "-");
			}
			fmt_value(hi, sizeof(hi), t->target);
			snprintf(tg, sizeof(tg), "%s %s", cmp_str(t->cmp), hi);
			fprintf(out, "%-*s %10s %10s %9s %9s  %s\n", (int)tw, t->name, v, b, r, tg,
				t->met ? "MET" : "NOT MET");
			fprintf(out, "%-*s   %s\n", (int)tw, "", t->text);
		}
	}
	if (rep->n_notes > 0) {
		fprintf(out, "\nNotes:\n");
		for (uint32_t i = 0; i < rep->n_notes; i++)
			fprintf(out, "  - %s\n", rep->notes[i]);
	}
	if (rep->n_failures > 0 || rep->dropped > 0) {
		fprintf(out, "\nFAILURES:\n");
		for (uint32_t i = 0; i < rep->n_failures; i++)
			fprintf(out, "  - %s\n", rep->failures[i]);
		if (rep->dropped > 0)
			fprintf(out, "  - %u result rows refused (duplicate, too long or full)\n",
				rep->dropped);
	}
}

/* "model name" from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	copy_str(buf, cap, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon;

		if (strncmp(line, "model name", 10) != 0)
			continue;
		colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		copy_str(buf, cap, colon);
		break;
	}
	fclose(f);
}

/* `git rev-parse --short HEAD`, or "unknown". */
static void git_commit(char *buf, size_t cap)
{
	FILE *p = popen("git rev-parse --short HEAD 2>/dev/null", "r");

	copy_str(buf, cap, "unknown");
	if (p == NULL)
		return;
	if (fgets(buf, (int)cap, p) == NULL || buf[0] == '\0' || buf[0] == '\n')
		copy_str(buf, cap, "unknown");
	buf[strcspn(buf, "\n")] = '\0';
	if (pclose(p) != 0)
		copy_str(buf, cap, "unknown");
}

static json_t *string_list(const char (*items)[BENCH_REPORT_TEXT_MAX], uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

/* json_real refuses NaN and infinities; those become null. */
static json_t *real_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

int bench_report_write_json(const struct bench_report *rep, const char *path)
{
	char model[256], commit[64], stamp[32], tmp[4096];
	time_t now = time(NULL);
	struct tm tm;
	json_t *root, *machine, *results, *targets;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int rc = -1;

	cpu_model(model, sizeof(model));
	git_commit(commit, sizeof(commit));
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);

	root = json_object();
	machine = json_object();
	json_object_set_new(machine, "cpu_model", json_string(model));
	json_object_set_new(machine, "cores", json_integer(cores));
	json_object_set_new(root, "machine", machine);
	json_object_set_new(root, "commit", json_string(commit));
	json_object_set_new(root, "timestamp", json_string(stamp));
	json_object_set_new(root, "quick", json_boolean(rep->quick));
	json_object_set_new(root, "duration_s",
			    json_real((double)(ig_clock_mono_ns() - rep->started_ns) / 1e9));

	results = json_array();
	for (uint32_t i = 0; i < rep->n_results; i++) {
		const struct bench_result_row *r = &rep->results[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(r->name));
		json_object_set_new(o, "value", real_or_null(r->value));
		json_object_set_new(o, "unit", json_string(r->unit));
		if (r->repeats > 1) {
			json_object_set_new(o, "min", real_or_null(r->min));
			json_object_set_new(o, "max", real_or_null(r->max));
			json_object_set_new(o, "repeats", json_integer(r->repeats));
		}
		json_array_append_new(results, o);
	}
	json_object_set_new(root, "results", results);

	targets = json_array();
	for (uint32_t i = 0; i < rep->n_targets; i++) {
		const struct bench_target_row *t = &rep->targets[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(t->name));
		json_object_set_new(o, "value", real_or_null(t->value));
		json_object_set_new(o, "baseline",
				    t->has_baseline ? real_or_null(t->baseline) : json_null());
		json_object_set_new(o, "ratio",
				    t->has_baseline ? real_or_null(t->ratio) : json_null());
		json_object_set_new(o, "target", real_or_null(t->target));
		json_object_set_new(o, "cmp", json_string(cmp_str(t->cmp)));
		json_object_set_new(o, "met", json_boolean(t->met));
		json_object_set_new(o, "description", json_string(t->text));
		json_array_append_new(targets, o);
	}
	json_object_set_new(root, "targets", targets);
	json_object_set_new(root, "notes", string_list(rep->notes, rep->n_notes));
	json_object_set_new(root, "failures", string_list(rep->failures, rep->n_failures));

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		fprintf(stderr, "bench: output path too long: %s\n", path);
		goto out;
	}
	if (json_dump_file(root, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0) {
		fprintf(stderr, "bench: cannot write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "bench: cannot rename %s to %s: %s\n", tmp, path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
