/*
 * bench_fixed.c - cost per call of fixed-point parsing and formatting.
 *
 * Method
 * ------
 * One thread, no pinning. The input is a fixed mix of 32 decimal strings as
 * exchanges send them: prices ("4642.42", "67012.5", "0.5021"), sizes
 * ("0.01323747", "12.5", "250"), values with trailing zeros
 * ("25431.10000000"), negatives and the smallest unit ("0.00000001").
 * Each repeat calls the function over the whole mix in a loop, timing the
 * batch with one CLOCK_MONOTONIC pair (2 000 000 calls, 400 000 with
 * --quick), so per-call clock cost does not enter. Results feed a volatile
 * sink so the compiler cannot drop the calls. Figures are medians over the
 * repeats, in ns per call:
 *   fixed.parse_ns        ig_fixed_parse (exact; lengths precomputed)
 *   fixed.parse_round_ns  ig_fixed_parse_round on the same mix
 *   fixed.format_ns       ig_fixed_format of the parsed values
 * Every string of the mix is checked to round-trip (parse, format, parse)
 * before timing; a mismatch is reported as a failure.
 */
#include "bench.h"

#include "ingenium/fixed.h"

#include <string.h>

static const char *const mix[] = {
	"4642.42",     "0.01323747", "67012.5",     "67012.49",   "0.5021",     "1.08345",
	"12.5",        "250",        "0.1",         "0.00100000", "25431.10000000",
	"3.14159265",  "0.00000001", "-12.345",     "99999.99",   "1",          "0.03",
	"187.2",       "0.24801",    "1500.00",     "0.002",      "6.5",        "42000",
	"0.00049871",  "2.75",       "-0.5",        "3021.88",    "0.0125",     "110.404",
	"9.99",        "0.77777777", "18.0",
};

#define MIX_N (sizeof(mix) / sizeof(mix[0]))

/* Times `calls` calls of one function over the mix; returns ns per call. */
static double time_parse(const size_t *lens, uint64_t calls, bool round)
{
	volatile int64_t sink = 0;
	int64_t acc = 0, v = 0, t0 = ig_clock_mono_ns();

	for (uint64_t i = 0; i < calls; i++) {
		size_t k = (size_t)(i % MIX_N);
		int rc = round ? ig_fixed_parse_round(mix[k], lens[k], &v)
			       : ig_fixed_parse(mix[k], lens[k], &v);
		acc += v + rc;
	}
	sink = acc;
	(void)sink;
	return (double)(ig_clock_mono_ns() - t0) / (double)calls;
}

static double time_format(const int64_t *vals, uint64_t calls)
{
	volatile int64_t sink = 0;
	char buf[IG_FIXED_STRLEN];
	int64_t acc = 0, t0 = ig_clock_mono_ns();

	for (uint64_t i = 0; i < calls; i++) {
		acc += ig_fixed_format(vals[i % MIX_N], buf, sizeof(buf));
		acc += buf[0];
	}
	sink = acc;
	(void)sink;
	return (double)(ig_clock_mono_ns() - t0) / (double)calls;
}

void bench_fixed(struct bench_ctx *ctx)
{
	double parse[BENCH_MAX_REPEATS], parse_round[BENCH_MAX_REPEATS];
	double format[BENCH_MAX_REPEATS];
	size_t lens[MIX_N];
	int64_t vals[MIX_N];
	uint64_t calls = ctx->quick ? 400000 : 2000000;
	char buf[IG_FIXED_STRLEN];

	for (size_t k = 0; k < MIX_N; k++) {
		int64_t back;
		int n;

		lens[k] = strlen(mix[k]);
		if (ig_fixed_parse(mix[k], lens[k], &vals[k]) != 0) {
			bench_fail(ctx, "ig_fixed_parse refused \"%s\"", mix[k]);
			return;
		}
		n = ig_fixed_format(vals[k], buf, sizeof(buf));
		if (n < 0 || ig_fixed_parse(buf, (size_t)n, &back) != 0 || back != vals[k]) {
			bench_fail(ctx, "\"%s\" does not round-trip through ig_fixed_format", mix[k]);
			return;
		}
	}
	/* Warm the caches and branch predictors once. */
	time_parse(lens, calls / 10, false);
	for (uint32_t i = 0; i < ctx->repeats; i++) {
		parse[i] = time_parse(lens, calls, false);
		parse_round[i] = time_parse(lens, calls, true);
		format[i] = time_format(vals, calls);
	}
	bench_result_median(ctx, "fixed.parse_ns", parse, ctx->repeats, "ns");
	bench_result_median(ctx, "fixed.parse_round_ns", parse_round, ctx->repeats, "ns");
	bench_result_median(ctx, "fixed.format_ns", format, ctx->repeats, "ns");
}
