/*
 * bench_main.c - ingenium-bench: runs the sections, checks the targets,
 * prints the table and writes the JSON.
 *
 *   ingenium-bench [--quick] [--out FILE] [--only SECTION[,SECTION...]]
 *                  [--list]
 *
 * Method notes for docs/benchmarks.md
 * -----------------------------------
 * Sections run one after another in the order of the table below, on an
 * otherwise idle process: the main thread only starts and joins the worker
 * threads a section needs. Each figure is measured ctx.repeats times (5, or
 * 3 with --quick) and the median is reported; where a section has several
 * configurations it interleaves them repeat by repeat, so slow drift of a
 * noisy VM hits every configuration alike. The targets of issue 6 are then
 * computed from those medians: ratio = figure / baseline, both from this
 * run. A target whose figures were not measured (--only, or a section not
 * written yet) is left out of the table rather than guessed.
 *
 * Budget: the full run must stay under 5 minutes; floor + rings + fixed
 * take about 60-90 s of it. --quick keeps the whole run under 30 s.
 *
 * Exit status: 0; 1 if any measurement failed (stalled threads, setup
 * errors) or the JSON could not be written; 2 on bad usage. Targets that
 * are not met do not change the status: they are findings, not errors.
 */
#include "bench.h"
#include "bench_report.h"

#include <errno.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct bench_section {
	const char *name;
	bench_section_fn fn;
	const char *what;
};

/*
 * The sections, in run order. A new section is one function
 * `void bench_xxx(struct bench_ctx *ctx)` in bench/bench_xxx.c, declared in
 * bench.h and listed here.
 */
static const struct bench_section sections[] = {
	{"floor", bench_floor, "cache-line ping-pong between two pinned threads"},
	{"rings", bench_rings, "engine ring vs ck_ring, mutex+condvar, pipe(2)"},
	{"fixed", bench_fixed, "fixed-point parse/format cost per call"},
	{"risk", bench_risk, "risk check, OMS order and fill cost per call"},
	{"inline", bench_inline, "backtest events/s, sma_cross on the sample data"},
	{"sweep", bench_sweep, "sweep backtest runs/s at 1 and 2 jobs (forked workers)"},
	{"pipeline", bench_pipeline, "tick-to-order through the real engine, per mode/wait/rate"},
	{"journal", bench_journal, "journal append rate, order latency added by sync: order / batch"},
	{"api", bench_api, "tick-to-order with the API off vs on and scraped at 10 Hz; /metrics size and render time"},
	{"store", bench_store, "fills/s into the SQLite and PostgreSQL history stores, batched as the recorder writes"},
	{"store_t2o", bench_store_t2o, "tick-to-order with the history store (SQLite) off vs on"},
	{"book", bench_book, "Luno stream order book: ns per update, parse+apply and apply alone"},
};

struct bench_target_def {
	const char *name;
	const char *text;     /* the target as issue 6 words it */
	const char *value;    /* result name of the figure */
	const char *baseline; /* result name of the baseline, NULL = absolute */
	enum bench_cmp cmp;
	double bound;         /* bound on value / baseline (or on value) */
};

/* Targets of issue 6 ("Targets on this machine"), as ratios of medians. */
static const struct bench_target_def targets[] = {
	{"ring.engine.throughput_vs_ck",
	 "engine ring one-way throughput >= 4x ck_ring by value (64 B, spin)",
	 "ring.engine.throughput_meps", "ring.ck.throughput_meps", BENCH_GE, 4.0},
	{"ring.engine.rtt_p50_vs_floor",
	 "engine ring round trip p50 <= 1.5x the cache-line floor round trip",
	 "ring.engine.rtt_p50_ns", "floor.rtt_p50_ns", BENCH_LE, 1.5},
	{"ring.engine.rtt_p50_vs_mutex",
	 "engine ring round trip p50 >= 20x better than mutex+condvar (ratio <= 1/20)",
	 "ring.engine.rtt_p50_ns", "ring.mutex.rtt_p50_ns", BENCH_LE, 1.0 / 20.0},
	{"pipeline.shared.10k.p50",
	 "shared, 10k/s, tick blocking + one spinning worker: tick-to-order p50 <= 2 us",
	 "pipeline.shared.spin.10k.tick_to_order_p50_ns", NULL, BENCH_LE, 2000.0},
	{"pipeline.shared.10k.p99",
	 "shared, 10k/s, tick blocking + one spinning worker: tick-to-order p99 <= 20 us",
	 "pipeline.shared.spin.10k.tick_to_order_p99_ns", NULL, BENCH_LE, 20000.0},
	{"pipeline.shared.10k.cores", "shared, 10k/s, spinning worker: under 1.5 cores",
	 "pipeline.shared.spin.10k.cores", NULL, BENCH_LE, 1.5},
	{"pipeline.dedicated.adaptive.10k.p50",
	 "dedicated + adaptive, 10k/s, 4 threads on 2 cores: p50 <= 40 us",
	 "pipeline.dedicated.adaptive.10k.tick_to_order_p50_ns", NULL, BENCH_LE, 40000.0},
	{"pipeline.dedicated.adaptive.10k.p99",
	 "dedicated + adaptive, 10k/s, 4 threads on 2 cores: p99 <= 200 us",
	 "pipeline.dedicated.adaptive.10k.tick_to_order_p99_ns", NULL, BENCH_LE, 200000.0},
	{"pipeline.dedicated.adaptive.10k.cores", "dedicated + adaptive, 10k/s: under 1.5 cores",
	 "pipeline.dedicated.adaptive.10k.cores", NULL, BENCH_LE, 1.5},
	/* Each mode in its recommended setup for 2 cores: shared = blocking
	 * tick + one spinning worker; dedicated = adaptive (dedicated + spin
	 * puts 4 spinning threads on 2 cores: milliseconds). */
	{"pipeline.shared_vs_dedicated.p50",
	 "shared beats oversubscribed dedicated on latency (shared/spin vs dedicated/adaptive, 10k/s, p50 ratio <= 1)",
	 "pipeline.shared.spin.10k.tick_to_order_p50_ns",
	 "pipeline.dedicated.adaptive.10k.tick_to_order_p50_ns", BENCH_LE, 1.0},
	{"pipeline.shared_vs_dedicated.cores",
	 "shared beats oversubscribed dedicated on CPU (shared/spin vs dedicated/adaptive, 10k/s, cores ratio <= 1)",
	 "pipeline.shared.spin.10k.cores", "pipeline.dedicated.adaptive.10k.cores", BENCH_LE, 1.0},
	{"pipeline.shared_vs_dedicated.adaptive.cores",
	 "like for like, both adaptive: shared uses less CPU (cores ratio <= 1)",
	 "pipeline.shared.adaptive.10k.cores", "pipeline.dedicated.adaptive.10k.cores", BENCH_LE, 1.0},
	{"pipeline.shared2.spin.vs_floor",
	 "shared, 2 pinned spinning threads, 10k/s: tick-to-order p50 <= 4x the one-way floor",
	 "pipeline.shared2.spin.10k.tick_to_order_p50_ns", "floor.oneway_p50_ns", BENCH_LE, 4.0},
	{"inline.sma_cross", "inline backtest >= 10 M events/s with sma_cross on the sample data",
	 "inline.sma_cross.events_per_s", NULL, BENCH_GE, 10e6},
	{"sweep.scaling", "a sweep of CPU-bound backtests scales >= 1.8x from 1 to 2 jobs",
	 "sweep.jobs2.runs_per_s", "sweep.jobs1.runs_per_s", BENCH_GE, 1.8},
	{"store.sqlite.fills", "history store: >= 100k fills/s into SQLite, batched (issue 14)",
	 "store.sqlite.fills_per_s", NULL, BENCH_GE, 100e3},
	{"risk.check_p99", "risk check p99 < 100 ns (issue 3)", "risk.check_p99_ns", NULL, BENCH_LE,
	 100.0},
	{"api.on_vs_off.p50",
	 "API on and scraped at 10 Hz vs off (shared/spin, 10k/s): no visible difference at p50 (ratio <= 1.10, issue 13)",
	 "api.on.tick_to_order_p50_ns", "api.off.tick_to_order_p50_ns", BENCH_LE, 1.10},
	{"api.on_vs_off.p99",
	 "API on and scraped at 10 Hz vs off (shared/spin, 10k/s): p99 within 10% (ratio <= 1.10, issue 13)",
	 "api.on.tick_to_order_p99_ns", "api.off.tick_to_order_p99_ns", BENCH_LE, 1.10},
	{"store.on_vs_off.p50",
	 "history store (SQLite) on vs off (shared/spin, 10k/s): no visible difference at p50 (ratio <= 1.10, issue 14)",
	 "store.on.tick_to_order_p50_ns", "store.off.tick_to_order_p50_ns", BENCH_LE, 1.10},
	{"store.on_vs_off.p99",
	 "history store (SQLite) on vs off (shared/spin, 10k/s): p99 within 10% (ratio <= 1.10, issue 14)",
	 "store.on.tick_to_order_p99_ns", "store.off.tick_to_order_p99_ns", BENCH_LE, 1.10},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers declared in bench.h --------------------------------------- */

void bench_result(struct bench_ctx *ctx, const char *name, double value, const char *unit)
{
	bench_report_add(ctx->rep, name, value, unit, value, value, 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_median(double *samples, uint32_t n)
{
	if (n == 0)
		return 0.0;
	qsort(samples, n, sizeof(*samples), cmp_double);
	if (n % 2 == 1)
		return samples[n / 2];
	return (samples[n / 2 - 1] + samples[n / 2]) / 2.0;
}

double bench_result_median(struct bench_ctx *ctx, const char *name, double *samples, uint32_t n,
			   const char *unit)
{
	double med = bench_median(samples, n);

	if (n == 0)
		return 0.0;
	bench_report_add(ctx->rep, name, med, unit, samples[0], samples[n - 1], n);
	return med;
}

double bench_result_max(struct bench_ctx *ctx, const char *name, const double *samples, uint32_t n,
			const char *unit)
{
	double mx = 0.0;

	for (uint32_t i = 0; i < n; i++)
		if (i == 0 || samples[i] > mx)
			mx = samples[i];
	bench_report_add(ctx->rep, name, mx, unit, mx, mx, 1);
	return mx;
}

void bench_fail(struct bench_ctx *ctx, const char *fmt, ...)
{
	char msg[BENCH_REPORT_TEXT_MAX], line[BENCH_REPORT_TEXT_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", ctx->section, msg);
	fprintf(stderr, "bench: FAILED %s\n", line);
	bench_report_failure(ctx->rep, line);
	ctx->failures++;
}

void bench_note(struct bench_ctx *ctx, const char *fmt, ...)
{
	char msg[BENCH_REPORT_TEXT_MAX], line[BENCH_REPORT_TEXT_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s: %s", ctx->section, msg);
	bench_report_note(ctx->rep, line);
}

int bench_pin_self(struct bench_ctx *ctx, int cpu)
{
	cpu_set_t set;

	if (cpu < 0 || cpu >= CPU_SETSIZE)
		goto fail;
	CPU_ZERO(&set);
	CPU_SET((size_t)cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0)
		return 0;
fail:
	__atomic_fetch_add(&ctx->pin_failures, 1, __ATOMIC_RELAXED);
	return -1;
}

bool bench_start_line(int *arrived, int *abort)
{
	int64_t t0 = ig_clock_mono_ns();
	uint32_t n = 0;

	__atomic_fetch_add(arrived, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(arrived, __ATOMIC_ACQUIRE) < 2) {
		if (__atomic_load_n(abort, __ATOMIC_RELAXED) != 0)
			return false;
		if (++n % 1024 == 0 && ig_clock_mono_ns() - t0 > BENCH_STALL_NS) {
			bench_abort(abort);
			return false;
		}
		sched_yield();
	}
	return true;
}

void bench_remove_sqlite(const char *path)
{
	char p[300];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

double bench_clock_cost_ns(void)
{
	enum { BATCH = 20000, REPS = 7 };
	double s[REPS];
	volatile int64_t sink = 0;

	for (int r = 0; r < REPS; r++) {
		int64_t t0 = ig_clock_mono_ns();
		for (int i = 0; i < BATCH; i++)
			sink += ig_clock_mono_ns();
		s[r] = (double)(ig_clock_mono_ns() - t0) / BATCH;
	}
	(void)sink;
	return bench_median(s, REPS);
}

/* --- machine load -------------------------------------------------------- */

/* CPU time, s, from /proc/stat and getrusage: what the whole machine spent
 * busy, what the VM's host stole, and what this process used. */
struct cpu_sample {
	double busy_s;  /* all CPUs: user+nice+system+irq+softirq */
	double steal_s; /* all CPUs: stolen by the hypervisor */
	double self_s;  /* this process: user + system */
	int64_t wall_ns;
};

static void cpu_sample(struct cpu_sample *s)
{
	unsigned long long v[8] = {0};
	double hz = (double)sysconf(_SC_CLK_TCK);
	struct rusage ru;
	FILE *f = fopen("/proc/stat", "r");

	memset(s, 0, sizeof(*s));
	s->wall_ns = ig_clock_mono_ns();
	if (f != NULL) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]) == 8 &&
		    hz > 0) {
			s->busy_s = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
			s->steal_s = (double)v[7] / hz;
		}
		fclose(f);
	}
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		s->self_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * Records the section's wall time (env.<section>.duration_s) and how many
 * cores other processes kept busy (and the hypervisor stole) while it ran,
 * as env.<section>.others_cores and .steal_cores, and notes it when it is enough to disturb two-thread
 * figures on a 2-core machine.
 */
static void record_load(struct bench_ctx *ctx, const struct cpu_sample *a)
{
	struct cpu_sample b;
	double wall_s, others, steal;
	char name[96];

	cpu_sample(&b);
	wall_s = (double)(b.wall_ns - a->wall_ns) / 1e9;
	if (wall_s <= 0.0)
		return;
	others = ((b.busy_s - a->busy_s) - (b.self_s - a->self_s)) / wall_s;
	if (others < 0.0)
		others = 0.0;
	steal = (b.steal_s - a->steal_s) / wall_s;
	snprintf(name, sizeof(name), "env.%s.duration_s", ctx->section);
	bench_result(ctx, name, wall_s, "s");
	snprintf(name, sizeof(name), "env.%s.others_cores", ctx->section);
	bench_result(ctx, name, others, "cores");
	snprintf(name, sizeof(name), "env.%s.steal_cores", ctx->section);
	bench_result(ctx, name, steal, "cores");
	if (others > 0.15 || steal > 0.10)
		bench_note(ctx, "other processes kept %.2f cores busy (steal %.2f) during this "
				"section: its two-thread figures are disturbed; rerun on a quiet "
				"machine", others, steal);
}

/* --- main --------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out, "usage: ingenium-bench [--quick] [--out FILE] [--only SECTION[,SECTION...]] "
		     "[--list]\n");
}

/* True if name is in the comma-separated list (NULL list = all). */
static bool selected(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	if (list == NULL)
		return true;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct bench_ctx ctx;
	struct bench_report *rep;
	const char *out_path = NULL, *only = NULL;
	bool quick = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			quick = true;
		} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out_path = argv[++i];
		} else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
			only = argv[++i];
		} else if (strcmp(argv[i], "--list") == 0) {
			for (size_t s = 0; s < ARRAY_LEN(sections); s++)
				printf("%-10s %s\n", sections[s].name, sections[s].what);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (only != NULL) {
		bool any = false;
		for (size_t s = 0; s < ARRAY_LEN(sections); s++)
			any = any || selected(only, sections[s].name);
		if (!any) {
			fprintf(stderr, "ingenium-bench: no section matches '%s' (see --list)\n",
				only);
			return 2;
		}
	}

	rep = calloc(1, sizeof(*rep));
	if (rep == NULL) {
		fprintf(stderr, "ingenium-bench: out of memory\n");
		return 1;
	}
	bench_report_init(rep, quick);
	memset(&ctx, 0, sizeof(ctx));
	ctx.quick = quick;
	ctx.repeats = quick ? 3 : 5;
	ctx.cpu_a = 0;
	ctx.cpu_b = 1;
	ctx.rep = rep;
	ctx.section = "general";

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		bench_note(&ctx, "fewer than 2 CPUs online: two-thread figures share one core");
	bench_result(&ctx, "clock.monotonic_call_ns", bench_clock_cost_ns(), "ns");

	for (size_t s = 0; s < ARRAY_LEN(sections); s++) {
		int64_t t0;
		uint32_t pin_before = ctx.pin_failures;
		struct cpu_sample load;

		if (!selected(only, sections[s].name))
			continue;
		ctx.section = sections[s].name;
		bench_report_section(rep, sections[s].name);
		fprintf(stderr, "bench: %s ...\n", sections[s].name);
		t0 = ig_clock_mono_ns();
		cpu_sample(&load);
		sections[s].fn(&ctx);
		record_load(&ctx, &load);
		fprintf(stderr, "bench: %s done in %.1f s\n", sections[s].name,
			(double)(ig_clock_mono_ns() - t0) / 1e9);
		if (ctx.pin_failures != pin_before)
			bench_note(&ctx, "could not pin %u thread(s) to CPUs %d/%d; ran unpinned",
				   ctx.pin_failures - pin_before, ctx.cpu_a, ctx.cpu_b);
	}

	ctx.section = "targets";
	for (size_t t = 0; t < ARRAY_LEN(targets); t++) {
		const struct bench_target_def *d = &targets[t];

		if (bench_report_target(rep, d->name, d->text, d->value, d->baseline, d->cmp,
					d->bound) == 1)
			bench_note(&ctx, "%s not evaluated: %s%s%s not measured in this run",
				   d->name, d->value, d->baseline != NULL ? " or " : "",
				   d->baseline != NULL ? d->baseline : "");
	}

	printf("ingenium-bench%s\n", quick ? " --quick" : "");
	bench_report_print(rep, stdout);
	fflush(stdout);
	if (out_path != NULL) {
		if (bench_report_write_json(rep, out_path) != 0)
			status = 1;
		else
			fprintf(stderr, "bench: wrote %s\n", out_path);
	}
	if (ctx.failures > 0 || rep->dropped > 0)
		status = 1;
	free(rep);
	return status;
}
