/*
 * bench_book.c - cost per message of the Luno market-stream order book
 * (src/luno/luno_book.c).
 *
 * Method
 * ------
 * One thread, no pinning. A seeded generator builds a realistic stream
 * before any timing: a snapshot of 3,000 resting orders (1,500 a side,
 * prices within 200 ticks of the touch), then 200,000 updates (50,000
 * --quick) as Luno's JSON text: about 47% creates within 5 ticks of the
 * touch, 43% deletes (70% of them within 5 ticks of the touch), 10%
 * trades (a taker taking 1-2 makers at the best level, partly or wholly).
 * The generator keeps the stream consistent by applying it to a scratch
 * book, so every timed message is applied (a refused one fails the
 * section). Each repeat loads the snapshot into a fresh book and times
 * every message with a CLOCK_MONOTONIC pair, the clock's own cost
 * subtracted:
 *   book.parse_apply_p50_ns / _p99_ns  ig_luno_book_on_message(): jansson
 *                                      decode + fields + book + free
 *   book.apply_p50_ns / _p99_ns        ig_luno_book_update() on the decoded
 *                                      object (decoded and freed outside
 *                                      the timing): fields + book
 * Figures are medians over the repeats of each repeat's percentile.
 */
#include "bench.h"

#include "ingenium/event.h"
#include "ingenium/fixed.h"
#include "luno/luno_book.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOK_RESTING 3000u
#define BOOK_MAX_LIVE 4000u

struct gen_order {
	uint32_t id;
	uint8_t side;
	int64_t px;
	int64_t qty;
};

struct gen {
	struct gen_order o[BOOK_MAX_LIVE];
	uint32_t n;
	uint32_t next_id;
	uint64_t seq;
	uint64_t rng;
	struct ig_luno_book *scratch;
	char *text;    /* every message, NUL-separated */
	size_t len, cap;
	size_t *off;   /* message k starts at text + off[k] */
	uint32_t nmsg;
};

static uint64_t gen_rnd(struct gen *g)
{
	uint64_t z = (g->rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t gen_below(struct gen *g, uint32_t n)
{
	return (uint32_t)(gen_rnd(g) % n);
}

/* Appends printf output to the stream text. Returns 0 or -1 (full). */
__attribute__((format(printf, 2, 3))) static int put(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(g->text + g->len, g->cap - g->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= g->cap - g->len)
		return -1;
	g->len += (size_t)n;
	return 0;
}

static void fmt_px(int64_t v, char *buf)
{
	ig_fixed_format(v, buf, IG_FIXED_STRLEN);
}

/* Index of an order within `ticks` of its side's touch (random among
 * them), or a random one. */
static uint32_t pick(struct gen *g, uint8_t side, int64_t ticks)
{
	int64_t px, qty;
	uint32_t start = gen_below(g, g->n);

	if (ig_luno_book_best(g->scratch, side, &px, &qty))
		for (uint32_t k = 0; k < g->n; k++) {
			uint32_t i = (start + k) % g->n;
			int64_t d = side == IG_SIDE_BUY ? px - g->o[i].px : g->o[i].px - px;
			if (g->o[i].side == side && d <= ticks * IG_FIXED_SCALE)
				return i;
		}
	return start;
}

/* Ends message k: checks it against the scratch book. Returns 0 or -1. */
static int end_msg(struct gen *g, size_t start)
{
	if (g->len + 1 >= g->cap)
		return -1;
	g->text[g->len++] = '\0'; /* the separator */
	if (ig_luno_book_on_message(g->scratch, g->text + start, strlen(g->text + start)) < 0)
		return -1;
	g->off[g->nmsg++] = start;
	return 0;
}

static int gen_snapshot(struct gen *g)
{
	int64_t mid = IG_FIXED(1000000);
	char px[IG_FIXED_STRLEN], qty[IG_FIXED_STRLEN];

	g->seq = 5000000;
	for (uint32_t i = 0; i < BOOK_RESTING; i++) {
		struct gen_order *o = &g->o[g->n++];
		o->id = g->next_id++;
		o->side = (i & 1) ? IG_SIDE_SELL : IG_SIDE_BUY;
		o->px = mid + (o->side == IG_SIDE_SELL ? 1 : -1) * IG_FIXED(1 + gen_below(g, 200));
		o->qty = (int64_t)(1 + gen_below(g, 100000)) * 10000;
	}
	if (put(g, "{\"sequence\":\"%llu\",\"status\":\"ACTIVE\",\"timestamp\":1700000000000",
		(unsigned long long)g->seq) != 0)
		return -1;
	for (int s = 0; s < 2; s++) {
		uint8_t side = s == 0 ? IG_SIDE_BUY : IG_SIDE_SELL;
		bool first = true;
		if (put(g, ",\"%s\":[", s == 0 ? "bids" : "asks") != 0)
			return -1;
		for (uint32_t i = 0; i < g->n; i++) {
			if (g->o[i].side != side)
				continue;
			fmt_px(g->o[i].px, px);
			fmt_px(g->o[i].qty, qty);
			if (put(g, "%s{\"id\":\"BXMC%011u\",\"price\":\"%s\",\"volume\":\"%s\"}",
				first ? "" : ",", g->o[i].id, px, qty) != 0)
				return -1;
			first = false;
		}
		if (put(g, "]") != 0)
			return -1;
	}
	if (put(g, "}") != 0)
		return -1;
	return end_msg(g, 0);
}

static int gen_update(struct gen *g)
{
	size_t start = g->len;
	uint32_t roll = gen_below(g, 100);
	char px[IG_FIXED_STRLEN], qty[IG_FIXED_STRLEN], cnt[IG_FIXED_STRLEN];
	int64_t bb = 0, ba = 0, q;

	ig_luno_book_best(g->scratch, IG_SIDE_BUY, &bb, &q);
	ig_luno_book_best(g->scratch, IG_SIDE_SELL, &ba, &q);
	g->seq++;
	if (put(g, "{\"sequence\":\"%llu\",\"timestamp\":%llu", (unsigned long long)g->seq,
		(unsigned long long)(1700000000000 + g->seq)) != 0)
		return -1;
	if (g->n < 2000 || (roll < 47 && g->n + 1 < BOOK_MAX_LIVE)) {
		struct gen_order *o = &g->o[g->n++];
		o->id = g->next_id++;
		o->side = gen_below(g, 2) ? IG_SIDE_BUY : IG_SIDE_SELL;
		o->qty = (int64_t)(1 + gen_below(g, 100000)) * 10000;
		if (o->side == IG_SIDE_BUY) {
			o->px = bb + IG_FIXED(1) - IG_FIXED(gen_below(g, 6));
			if (o->px >= ba)
				o->px = ba - IG_FIXED(1);
		} else {
			o->px = ba - IG_FIXED(1) + IG_FIXED(gen_below(g, 6));
			if (o->px <= bb)
				o->px = bb + IG_FIXED(1);
		}
		fmt_px(o->px, px);
		fmt_px(o->qty, qty);
		if (put(g, ",\"trade_updates\":null,\"create_update\":{\"order_id\":\"BXMC%011u\","
			   "\"type\":\"%s\",\"price\":\"%s\",\"volume\":\"%s\"},\"delete_update\":null,"
			   "\"status_update\":null}",
			o->id, o->side == IG_SIDE_BUY ? "BID" : "ASK", px, qty) != 0)
			return -1;
	} else if (roll < 90) {
		uint8_t side = gen_below(g, 2) ? IG_SIDE_BUY : IG_SIDE_SELL;
		uint32_t i = gen_below(g, 10) < 7 ? pick(g, side, 5) : gen_below(g, g->n);
		if (put(g, ",\"trade_updates\":null,\"create_update\":null,\"delete_update\":"
			   "{\"order_id\":\"BXMC%011u\"},\"status_update\":null}",
			g->o[i].id) != 0)
			return -1;
		g->o[i] = g->o[--g->n];
	} else {
		uint8_t side = gen_below(g, 2) ? IG_SIDE_BUY : IG_SIDE_SELL;
		uint32_t ntr = 1 + gen_below(g, 2);
		if (put(g, ",\"trade_updates\":[") != 0)
			return -1;
		for (uint32_t t = 0; t < ntr; t++) {
			uint32_t i = pick(g, side, 0);
			int64_t base = gen_below(g, 2) ? g->o[i].qty
						       : 1 + (int64_t)(gen_rnd(g) % (uint64_t)g->o[i].qty);
			int64_t counter = 0;
			fmt_px(base, qty);
			ig_fixed_mul(base, g->o[i].px, &counter);
			fmt_px(counter, cnt);
			if (put(g, "%s{\"base\":\"%s\",\"counter\":\"%s\",\"maker_order_id\":\"BXMC%011u\","
				   "\"taker_order_id\":\"TKR%011u\"}",
				t ? "," : "", qty, cnt, g->o[i].id, g->next_id) != 0)
				return -1;
			g->o[i].qty -= base;
			if (g->o[i].qty == 0) {
				g->o[i] = g->o[--g->n];
				/* the next maker is on the same side, maybe at the next level */
			}
			if (g->n == 0)
				break;
		}
		if (put(g, "],\"create_update\":null,\"delete_update\":null,\"status_update\":null}") != 0)
			return -1;
	}
	return end_msg(g, start);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Times one pass over the stream; fills p50/p99 (ns). Returns 0 or -1. */
static int run_pass(const struct gen *g, bool split, double clk, double *samples, double *p50,
		    double *p99)
{
	struct ig_luno_book *b = NULL;
	uint32_t n = 0;
	int rc = 0;

	if (ig_luno_book_create(BOOK_MAX_LIVE + 96, 0, &b) != 0)
		return -1;
	if (ig_luno_book_on_message(b, g->text, strlen(g->text)) < 0)
		rc = -1;
	for (uint32_t k = 1; k < g->nmsg && rc == 0; k++) {
		const char *m = g->text + g->off[k];
		size_t len = strlen(m);
		int64_t t0, t1;
		int r;
		if (split) {
			json_t *j = json_loadb(m, len, JSON_REJECT_DUPLICATES, NULL);
			if (j == NULL) {
				rc = -1;
				break;
			}
			t0 = ig_clock_mono_ns();
			r = ig_luno_book_update(b, j);
			t1 = ig_clock_mono_ns();
			json_decref(j);
		} else {
			t0 = ig_clock_mono_ns();
			r = ig_luno_book_on_message(b, m, len);
			t1 = ig_clock_mono_ns();
		}
		if (r < 0)
			rc = -1;
		samples[n++] = (double)(t1 - t0) - clk > 0 ? (double)(t1 - t0) - clk : 0;
	}
	ig_luno_book_destroy(b);
	if (rc != 0 || n == 0)
		return -1;
	qsort(samples, n, sizeof(*samples), cmp_dbl);
	*p50 = samples[n / 2];
	*p99 = samples[(size_t)((double)n * 0.99)];
	return 0;
}

void bench_book(struct bench_ctx *ctx)
{
	double pa50[BENCH_MAX_REPEATS], pa99[BENCH_MAX_REPEATS];
	double ap50[BENCH_MAX_REPEATS], ap99[BENCH_MAX_REPEATS];
	uint32_t nupd = ctx->quick ? 50000 : 200000;
	double clk = bench_clock_cost_ns();
	double *samples = NULL;
	struct gen *g = calloc(1, sizeof(*g));

	if (g == NULL)
		goto oom;
	g->rng = 15;
	g->cap = (size_t)nupd * 320 + (size_t)BOOK_RESTING * 96 + 4096;
	g->text = malloc(g->cap);
	g->off = malloc(((size_t)nupd + 1) * sizeof(*g->off));
	samples = malloc((size_t)nupd * sizeof(*samples));
	if (g->text == NULL || g->off == NULL || samples == NULL ||
	    ig_luno_book_create(BOOK_MAX_LIVE + 96, 0, &g->scratch) != 0)
		goto oom;
	if (gen_snapshot(g) != 0) {
		bench_fail(ctx, "book: the generated snapshot was refused: %s",
			   ig_luno_book_error(g->scratch));
		goto out;
	}
	for (uint32_t i = 0; i < nupd; i++)
		if (gen_update(g) != 0) {
			bench_fail(ctx, "book: generated update %u was refused: %s", i,
				   ig_luno_book_error(g->scratch));
			goto out;
		}
	/* Warm-up pass. */
	if (run_pass(g, false, clk, samples, &pa50[0], &pa99[0]) != 0) {
		bench_fail(ctx, "book: a message was refused while timing");
		goto out;
	}
	for (uint32_t r = 0; r < ctx->repeats; r++) {
		if (run_pass(g, false, clk, samples, &pa50[r], &pa99[r]) != 0 ||
		    run_pass(g, true, clk, samples, &ap50[r], &ap99[r]) != 0) {
			bench_fail(ctx, "book: a message was refused while timing");
			goto out;
		}
	}
	bench_result_median(ctx, "book.parse_apply_p50_ns", pa50, ctx->repeats, "ns");
	bench_result_median(ctx, "book.parse_apply_p99_ns", pa99, ctx->repeats, "ns");
	bench_result_median(ctx, "book.apply_p50_ns", ap50, ctx->repeats, "ns");
	bench_result_median(ctx, "book.apply_p99_ns", ap99, ctx->repeats, "ns");
	bench_result(ctx, "book.updates", (double)(g->nmsg - 1), "msgs");
	bench_result(ctx, "book.orders_end", (double)ig_luno_book_order_count(g->scratch), "orders");
	goto out;
oom:
	bench_fail(ctx, "book: out of memory");
out:
	if (g != NULL) {
		ig_luno_book_destroy(g->scratch);
		free(g->text);
		free(g->off);
	}
	free(g);
	free(samples);
}
