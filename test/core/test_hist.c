/*
 * test_hist.c - the log-linear latency histogram (src/core/hist.h, hist.c).
 *
 * Covers:
 *   - an empty histogram: every quantile is 0, merging it changes nothing;
 *   - values below 128 (band 0 and band 1) are reported exactly;
 *   - count, min, max and sum are exact; q <= 0 gives min, q >= 1 gives max;
 *   - the reported quantile is the upper edge of the value's bucket: never
 *     below the true value and less than 1/64 above it, checked value by
 *     value across every power of two up to 2^61;
 *   - quantiles of known distributions (every integer 1..1e6; 1M uniform
 *     random values; 1M log-uniform values spanning 0..2^62) against the
 *     exact order statistics of the same data, within 1/64 relative error;
 *   - merge equals recording everything into one histogram, merge into an
 *     empty one takes the source's min;
 *   - negative values count as 0; INT64_MAX and the top band do not crash
 *     and report exactly at the extremes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/hist.h"

static const double quantiles[] = { 0.0001, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75,
				    0.9, 0.95, 0.99, 0.999, 0.9999, 0.99999 };

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static struct ig_hist *hist_new(void)
{
	struct ig_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	ig_hist_init(h);
	return h;
}

/* Reported value vs the true order statistic v: v <= got < v * (1 + 1/64),
 * and exact below 128. */
static void check_close(int64_t got, int64_t v, double q)
{
	if (got < v || (v < 128 && got != v) || (v >= 128 && (got - v) * 64 >= v))
		fail_msg("q=%g: got %" PRId64 ", true %" PRId64, q, got, v);
}

/* Records data[0..n) and checks count/min/max/sum and every quantile
 * against the sorted data. Sorts data in place. */
static void check_distribution(int64_t *data, size_t n)
{
	struct ig_hist *h = hist_new();
	int64_t sum = 0;

	for (size_t i = 0; i < n; i++) {
		ig_hist_record(h, data[i]);
		sum += data[i];
	}
	qsort(data, n, sizeof(data[0]), cmp_i64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->min, data[0]);
	assert_int_equal(h->max, data[n - 1]);
	assert_int_equal(h->sum, sum);
	assert_int_equal(ig_hist_quantile(h, 0.0), data[0]);
	assert_int_equal(ig_hist_quantile(h, 1.0), data[n - 1]);
	for (size_t k = 0; k < sizeof(quantiles) / sizeof(quantiles[0]); k++) {
		double q = quantiles[k];
		size_t rank = (size_t)(q * (double)n);
		if (rank >= n)
			rank = n - 1;
		check_close(ig_hist_quantile(h, q), data[rank], q);
	}
	free(h);
}

static void test_empty(void **state)
{
	struct ig_hist *h = hist_new(), *e = hist_new();

	(void)state;
	assert_int_equal(h->count, 0);
	assert_int_equal(ig_hist_quantile(h, 0.0), 0);
	assert_int_equal(ig_hist_quantile(h, 0.5), 0);
	assert_int_equal(ig_hist_quantile(h, 0.99), 0);
	assert_int_equal(ig_hist_quantile(h, 1.0), 0);
	assert_int_equal(ig_hist_quantile(h, -1.0), 0);
	assert_int_equal(ig_hist_quantile(h, 2.0), 0);
	/* Empty into empty stays empty. */
	ig_hist_merge(h, e);
	assert_int_equal(h->count, 0);
	assert_int_equal(ig_hist_quantile(h, 0.5), 0);
	/* Empty into non-empty changes nothing. */
	ig_hist_record(h, 500);
	ig_hist_record(h, 700);
	ig_hist_merge(h, e);
	assert_int_equal(h->count, 2);
	assert_int_equal(h->min, 500);
	assert_int_equal(h->max, 700);
	assert_int_equal(h->sum, 1200);
	free(h);
	free(e);
}

static void test_small_values_exact(void **state)
{
	struct ig_hist *h = hist_new();

	(void)state;
	/* One value at a time: the quantile is that value. */
	for (int64_t v = 0; v < 128; v++) {
		ig_hist_init(h);
		ig_hist_record(h, v);
		ig_hist_record(h, 1000000); /* so max does not clamp */
		assert_int_equal(ig_hist_quantile(h, 0.25), v);
		assert_int_equal(ig_hist_quantile(h, 0.0), v);
	}
	/* 0..127 once each: the i-th order statistic exactly. */
	ig_hist_init(h);
	for (int64_t v = 127; v >= 0; v--)
		ig_hist_record(h, v);
	assert_int_equal(h->count, 128);
	assert_int_equal(h->min, 0);
	assert_int_equal(h->max, 127);
	assert_int_equal(h->sum, 127 * 128 / 2);
	for (int64_t i = 0; i < 128; i++) {
		double q = ((double)i + 0.5) / 128.0;
		assert_int_equal(ig_hist_quantile(h, q), i);
	}
	free(h);
}

static void test_min_max_count_sum(void **state)
{
	struct ig_hist *h = hist_new();
	uint64_t seed = 7;
	int64_t min = INT64_MAX, max = 0, sum = 0;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		int64_t v = (int64_t)(rng_next(&seed) % 5000000) + 3;
		ig_hist_record(h, v);
		min = v < min ? v : min;
		max = v > max ? v : max;
		sum += v;
	}
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, min);
	assert_int_equal(h->max, max);
	assert_int_equal(h->sum, sum);
	/* q outside [0, 1] clamps to min/max. */
	assert_int_equal(ig_hist_quantile(h, 0.0), min);
	assert_int_equal(ig_hist_quantile(h, -0.5), min);
	assert_int_equal(ig_hist_quantile(h, 1.0), max);
	assert_int_equal(ig_hist_quantile(h, 7.0), max);
	/* Quantiles never decrease with q. */
	for (double q = 0.0, prev = 0; q <= 1.0; q += 0.001) {
		double v = (double)ig_hist_quantile(h, q);
		assert_true(v >= prev);
		prev = v;
	}
	free(h);
}

/* Every value v: v <= reported < v * (1 + 1/64). Exercises bucket edges in
 * every band: 2^e - 1, 2^e, 2^e + 1 and random values in between. */
static void test_bucket_edges(void **state)
{
	struct ig_hist *h = hist_new();
	const int64_t big = INT64_C(1) << 62;
	uint64_t seed = 99;

	(void)state;
	for (int e = 0; e <= 61; e++) {
		int64_t p = INT64_C(1) << e;
		int64_t vals[8] = { p - 1, p, p + 1, p + p / 2, 2 * p - 1, 0, 0, 0 };
		for (int k = 5; k < 8; k++)
			vals[k] = p + (int64_t)(rng_next(&seed) % (uint64_t)p);
		for (int k = 0; k < 8; k++) {
			int64_t v = vals[k];
			ig_hist_init(h);
			ig_hist_record(h, v);
			ig_hist_record(h, big); /* max above any edge of v's bucket */
			check_close(ig_hist_quantile(h, 0.25), v, 0.25);
		}
	}
	/* Values in one bucket report the same edge; the next value up a
	 * different one. Band 7 (values 2^12..2^13) has width 64. */
	ig_hist_init(h);
	ig_hist_record(h, 4096);
	ig_hist_record(h, big);
	assert_int_equal(ig_hist_quantile(h, 0.25), 4096 + 63);
	ig_hist_init(h);
	ig_hist_record(h, 4096 + 63);
	ig_hist_record(h, big);
	assert_int_equal(ig_hist_quantile(h, 0.25), 4096 + 63);
	ig_hist_init(h);
	ig_hist_record(h, 4096 + 64);
	ig_hist_record(h, big);
	assert_int_equal(ig_hist_quantile(h, 0.25), 4096 + 127);
	free(h);
}

static void test_uniform_1_to_1e6(void **state)
{
	size_t n = 1000000;
	int64_t *data = malloc(n * sizeof(*data));
	struct ig_hist *h = hist_new();

	(void)state;
	assert_non_null(data);
	/* Every integer once: the true q-quantile is about q * 1e6. */
	for (size_t i = 0; i < n; i++) {
		data[i] = (int64_t)i + 1;
		ig_hist_record(h, (int64_t)i + 1);
	}
	for (size_t k = 0; k < sizeof(quantiles) / sizeof(quantiles[0]); k++) {
		double q = quantiles[k];
		int64_t got = ig_hist_quantile(h, q), want = (int64_t)(q * 1e6) + 1;
		check_close(got, want, q);
	}
	assert_int_equal(ig_hist_quantile(h, 0.5) >= 500000, 1);
	assert_int_equal(h->sum, INT64_C(500000500000));
	check_distribution(data, n);

	/* 1M uniform random in 1..1e6. */
	uint64_t seed = 12345;
	for (size_t i = 0; i < n; i++)
		data[i] = (int64_t)(rng_next(&seed) % 1000000) + 1;
	check_distribution(data, n);
	free(data);
	free(h);
}

static void test_log_uniform(void **state)
{
	size_t n = 1000000;
	int64_t *data = malloc(n * sizeof(*data));
	uint64_t seed = 777;

	(void)state;
	assert_non_null(data);
	/* Magnitudes spread evenly over 2^0..2^40 (a sum of 1M of them stays
	 * far below 2^63), plus one 2^52 and one 0. */
	for (size_t i = 0; i < n; i++) {
		uint64_t r = rng_next(&seed);
		unsigned e = (unsigned)(r % 41);
		data[i] = (int64_t)(rng_next(&seed) >> (63 - e));
	}
	data[0] = INT64_C(1) << 52;
	data[1] = 0;
	check_distribution(data, n);
	free(data);
}

static void test_merge(void **state)
{
	struct ig_hist *a = hist_new(), *b = hist_new(), *all = hist_new(), *e = hist_new();
	uint64_t seed = 5;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		int64_t v = (int64_t)(rng_next(&seed) % 100000) + 1000;
		ig_hist_record(i % 3 == 0 ? a : b, v);
		ig_hist_record(all, v);
	}
	ig_hist_record(b, 5); /* b holds the minimum */
	ig_hist_record(all, 5);
	ig_hist_record(a, 9000000); /* a holds the maximum */
	ig_hist_record(all, 9000000);
	ig_hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->min, 5);
	assert_int_equal(a->max, 9000000);
	assert_int_equal(a->sum, all->sum);
	assert_memory_equal(a->buckets, all->buckets, sizeof(a->buckets));
	for (size_t k = 0; k < sizeof(quantiles) / sizeof(quantiles[0]); k++)
		assert_int_equal(ig_hist_quantile(a, quantiles[k]),
				 ig_hist_quantile(all, quantiles[k]));
	/* Into an empty histogram: a copy, min included (not the empty 0). */
	ig_hist_merge(e, b);
	assert_int_equal(e->count, b->count);
	assert_int_equal(e->min, b->min);
	assert_int_equal(e->max, b->max);
	assert_int_equal(e->sum, b->sum);
	assert_memory_equal(e->buckets, b->buckets, sizeof(e->buckets));
	/* A source whose min is above dst's keeps dst's min. */
	ig_hist_init(e);
	ig_hist_record(e, 100);
	ig_hist_init(all);
	ig_hist_record(all, 50);
	ig_hist_merge(all, e);
	assert_int_equal(all->min, 50);
	assert_int_equal(all->max, 100);
	assert_int_equal(all->count, 2);
	free(a);
	free(b);
	free(all);
	free(e);
}

static void test_negative_is_zero(void **state)
{
	struct ig_hist *h = hist_new();

	(void)state;
	ig_hist_record(h, -5);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->min, 0);
	assert_int_equal(h->max, 0);
	assert_int_equal(h->sum, 0);
	assert_int_equal(ig_hist_quantile(h, 0.5), 0);
	ig_hist_record(h, INT64_MIN);
	ig_hist_record(h, 10);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->min, 0);
	assert_int_equal(h->max, 10);
	assert_int_equal(h->sum, 10);
	assert_int_equal(h->buckets[0], 2);
	assert_int_equal(ig_hist_quantile(h, 0.5), 0);
	assert_int_equal(ig_hist_quantile(h, 0.9), 10);
	free(h);
}

static void test_huge_values(void **state)
{
	struct ig_hist *h = hist_new();

	(void)state;
	/* INT64_MAX lands in the last used bucket, whose edge is INT64_MAX.
	 * (sum is a plain int64: keep it from overflowing here.) */
	ig_hist_record(h, INT64_MAX);
	assert_int_equal(h->count, 1);
	assert_int_equal(h->max, INT64_MAX);
	assert_int_equal(h->min, INT64_MAX);
	assert_int_equal(ig_hist_quantile(h, 0.5), INT64_MAX);
	assert_int_equal(ig_hist_quantile(h, 1.0), INT64_MAX);
	assert_true(ig__hist_index((uint64_t)INT64_MAX) < IG_HIST_BUCKETS);
	ig_hist_record(h, 0);
	ig_hist_record(h, -1);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->min, 0);
	assert_int_equal(ig_hist_quantile(h, 0.1), 0);
	assert_int_equal(ig_hist_quantile(h, 0.9), INT64_MAX);
	assert_int_equal(h->sum, INT64_MAX);

	/* The top band: 2^62 .. 2^63-1, edges within 1/64. */
	ig_hist_init(h);
	ig_hist_record(h, INT64_C(1) << 62);
	ig_hist_record(h, 1);
	int64_t got = ig_hist_quantile(h, 0.75);
	assert_true(got >= INT64_C(1) << 62);
	assert_int_equal(got, INT64_C(1) << 62); /* clamped to max */

	/* Bucket indices are monotonic in the value and in range, up to the
	 * largest int64. */
	uint32_t prev = 0;
	for (uint64_t v = 0; v <= (uint64_t)INT64_MAX; v += v / 97 + 1) {
		uint32_t idx = ig__hist_index(v);
		assert_true(idx < IG_HIST_BUCKETS);
		assert_true(idx >= prev);
		prev = idx;
		if (v > (uint64_t)INT64_MAX - v / 97 - 1)
			break;
	}
	assert_true(ig__hist_index((uint64_t)INT64_MAX) >= prev);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_min_max_count_sum),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_uniform_1_to_1e6),
		cmocka_unit_test(test_log_uniform),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_negative_is_zero),
		cmocka_unit_test(test_huge_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
