/*
 * bench_floor.c - the physical floor: a bare cache-line ping-pong.
 *
 * Method
 * ------
 * Two threads, pinned to CPUs 0 and 1, bounce a counter. The ping word and
 * the pong word each sit alone on their own 64-byte line. Thread A stores
 * ping = i (release) and spins until pong == i; thread B spins until
 * ping == i and stores pong = i. Both spin with the same pause instruction
 * (ig_cpu_relax) the engine's spin strategy uses, so the floor and the ring
 * round trips differ only by what the ring adds. One round trip moves each
 * line once across the cores, as a ring ping-pong (A->B->A) must at least.
 *
 * Timing, TSC-free: A reads CLOCK_MONOTONIC before the ping and after the
 * pong of every round trip and records the difference in the log-linear
 * histogram (src/core/hist.h). Each sample therefore includes about one
 * clock_gettime call (clock.monotonic_call_ns in the table); the ring
 * round trips are timed the same way, so the ratio is fair. A second pass
 * times a batch of round trips with one clock pair around the whole batch:
 * floor.rtt_batch_mean_ns is the mean without per-sample clock cost.
 *
 * Per repeat: a warm-up of 10% of the round trips, then N round trips
 * (200 000, or 25 000 with --quick), then the batch pass. Figures are
 * medians over the repeats:
 *   floor.rtt_p50_ns, floor.rtt_p99_ns   round trip, histogram quantiles
 *   floor.oneway_p50_ns, .oneway_p99_ns  round trip / 2
 *   floor.rtt_batch_mean_ns              batch mean round trip
 *   floor.shared_line.rtt_p50_ns         variant: both directions on one
 *                                        line (A writes 2i+1, B writes 2i+2)
 */
#include "bench.h"

#include "core/hist.h"
#include "core/wait.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct floor_run {
	_Alignas(IG_CACHELINE) uint64_t ping; /* A -> B; written by A */
	_Alignas(IG_CACHELINE) uint64_t pong; /* B -> A; written by B */
	_Alignas(IG_CACHELINE) int arrived;   /* start line */
	int abort;                            /* either side gave up */
	struct bench_ctx *ctx;
	bool shared_line;                     /* both directions on ping's line */
	uint64_t warm;                        /* untimed round trips */
	uint64_t n;                           /* timed round trips */
	uint64_t batch;                       /* round trips in the batch pass */
	int64_t batch_ns;                     /* batch pass duration */
	struct ig_hist *hist;                 /* A's samples; read after join */
	bool failed;                          /* a side stalled */
};

/* Spins until *word == want. Returns false on stall/abort. */
static bool spin_until(struct floor_run *r, const uint64_t *word, uint64_t want,
		       struct bench_watch *w)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) != want) {
		ig_cpu_relax();
		if (bench_watch_idle(w)) {
			bench_abort(&r->abort);
			return false;
		}
	}
	bench_watch_progress(w);
	return true;
}

/* One round trip from A's side; seq counts round trips from 1. */
static bool a_round(struct floor_run *r, uint64_t seq, struct bench_watch *w)
{
	if (r->shared_line) {
		__atomic_store_n(&r->ping, 2 * seq - 1, __ATOMIC_RELEASE);
		return spin_until(r, &r->ping, 2 * seq, w);
	}
	__atomic_store_n(&r->ping, seq, __ATOMIC_RELEASE);
	return spin_until(r, &r->pong, seq, w);
}

static bool b_round(struct floor_run *r, uint64_t seq, struct bench_watch *w)
{
	if (r->shared_line) {
		if (!spin_until(r, &r->ping, 2 * seq - 1, w))
			return false;
		__atomic_store_n(&r->ping, 2 * seq, __ATOMIC_RELEASE);
		return true;
	}
	if (!spin_until(r, &r->ping, seq, w))
		return false;
	__atomic_store_n(&r->pong, seq, __ATOMIC_RELEASE);
	return true;
}

static void *floor_a(void *arg)
{
	struct floor_run *r = arg;
	struct bench_watch w;
	uint64_t seq = 0;
	int64_t t0;

	bench_pin_self(r->ctx, r->ctx->cpu_a);
	bench_watch_init(&w, 4096, &r->abort);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	for (uint64_t i = 0; i < r->warm; i++)
		if (!a_round(r, ++seq, &w))
			goto fail;
	for (uint64_t i = 0; i < r->n; i++) {
		int64_t t1, t2 = ig_clock_mono_ns();
		if (!a_round(r, ++seq, &w))
			goto fail;
		t1 = ig_clock_mono_ns();
		ig_hist_record(r->hist, t1 - t2);
	}
	t0 = ig_clock_mono_ns();
	for (uint64_t i = 0; i < r->batch; i++)
		if (!a_round(r, ++seq, &w))
			goto fail;
	r->batch_ns = ig_clock_mono_ns() - t0;
	return NULL;
fail:
	r->failed = true;
	return NULL;
}

static void *floor_b(void *arg)
{
	struct floor_run *r = arg;
	struct bench_watch w;
	uint64_t total = r->warm + r->n + r->batch;

	bench_pin_self(r->ctx, r->ctx->cpu_b);
	bench_watch_init(&w, 4096, &r->abort);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	for (uint64_t seq = 1; seq <= total; seq++)
		if (!b_round(r, seq, &w))
			goto fail;
	return NULL;
fail:
	r->failed = true;
	return NULL;
}

/* One repeat. Returns 0, or -1 after bench_fail(). */
static int floor_once(struct bench_ctx *ctx, struct floor_run *r, bool shared_line, uint64_t n)
{
	struct ig_hist *hist = r->hist;
	pthread_t ta, tb;

	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->shared_line = shared_line;
	r->warm = n / 10;
	r->n = n;
	r->batch = n;
	r->hist = hist;
	ig_hist_init(hist);
	if (pthread_create(&ta, NULL, floor_a, r) != 0) {
		bench_fail(ctx, "pthread_create failed");
		return -1;
	}
	if (pthread_create(&tb, NULL, floor_b, r) != 0) {
		bench_abort(&r->abort);
		pthread_join(ta, NULL);
		bench_fail(ctx, "pthread_create failed");
		return -1;
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (r->failed) {
		bench_fail(ctx, "%s ping-pong stalled (no progress for %.0f s)",
			   shared_line ? "shared-line" : "two-line",
			   (double)BENCH_STALL_NS / 1e9);
		return -1;
	}
	return 0;
}

void bench_floor(struct bench_ctx *ctx)
{
	double p50[BENCH_MAX_REPEATS], p99[BENCH_MAX_REPEATS], o50[BENCH_MAX_REPEATS];
	double o99[BENCH_MAX_REPEATS], mean[BENCH_MAX_REPEATS], s50[BENCH_MAX_REPEATS];
	double s99[BENCH_MAX_REPEATS];
	uint64_t n = ctx->quick ? 25000 : 200000;
	uint32_t reps = ctx->repeats;
	struct floor_run *r;

	r = aligned_alloc(IG_CACHELINE, sizeof(*r));
	if (r == NULL) {
		bench_fail(ctx, "out of memory");
		return;
	}
	memset(r, 0, sizeof(*r));
	r->hist = malloc(sizeof(*r->hist));
	if (r->hist == NULL) {
		bench_fail(ctx, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < reps; i++) {
		if (floor_once(ctx, r, false, n) != 0)
			goto out;
		p50[i] = (double)ig_hist_quantile(r->hist, 0.50);
		p99[i] = (double)ig_hist_quantile(r->hist, 0.99);
		o50[i] = p50[i] / 2.0;
		o99[i] = p99[i] / 2.0;
		mean[i] = (double)r->batch_ns / (double)r->batch;

		if (floor_once(ctx, r, true, n) != 0)
			goto out;
		s50[i] = (double)ig_hist_quantile(r->hist, 0.50);
		s99[i] = (double)ig_hist_quantile(r->hist, 0.99);
	}
	bench_result_median(ctx, "floor.rtt_p50_ns", p50, reps, "ns");
	bench_result_median(ctx, "floor.rtt_p99_ns", p99, reps, "ns");
	bench_result_median(ctx, "floor.oneway_p50_ns", o50, reps, "ns");
	bench_result_median(ctx, "floor.oneway_p99_ns", o99, reps, "ns");
	bench_result_median(ctx, "floor.rtt_batch_mean_ns", mean, reps, "ns");
	bench_result_median(ctx, "floor.shared_line.rtt_p50_ns", s50, reps, "ns");
	bench_result_median(ctx, "floor.shared_line.rtt_p99_ns", s99, reps, "ns");
out:
	free(r->hist);
	free(r);
}
