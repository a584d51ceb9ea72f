/*
 * test_fixed.c - exact decimal money (include/ingenium/fixed.h, src/core/fixed.c).
 *
 * Covers:
 *   - ig_fixed_parse / _parse_round / _parse_cstr: signs, "-0", missing
 *     integer or fraction digits, the int64 extremes and one unit past them,
 *     syntax errors (exponent, spaces, letters, empty, lone sign or point,
 *     two points), 9th-decimal precision (refused exactly, rounded half away
 *     from zero by _parse_round), trailing zeros past 1e-8, the 18-decimal
 *     input limit, very long digit strings (no 128-bit wrap-around), len
 *     bounds on a buffer that is not NUL-terminated, *out untouched on error;
 *   - ig_fixed_format: shortest form, extremes, IG_ERANGE on a short buffer;
 *   - a 1M-value property test: format -> parse == identity, checked against
 *     an independent snprintf reference;
 *   - ig_fixed_format_dp rounding and scales, including the int64 extremes;
 *   - ig_fixed_mul / _div / _bps rounding (against an independent 128-bit
 *     reference on random inputs) and IG_EOVERFLOW / IG_EINVAL;
 *   - ig_fixed_notional_wide exactness and ig_fixed_round_wide edges;
 *   - ig_fixed_floor_step and ig_fixed_to_double;
 *   - a random-string robustness test (every return code is a documented
 *     one, and every accepted string round-trips).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#define SENTINEL INT64_C(0x5A5A5A5A5A5A5A5A)

/* xorshift64*: deterministic, seedable, good enough for property tests. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static bool under_sanitizer(void)
{
#if defined(IG_TSAN) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#else
	const char *s = getenv("IG_SANITIZER");
	return s != NULL && s[0] != '\0';
#endif
}

/* Checks one parse of the NUL-terminated s with the exact or rounding parser. */
static void check_parse_mode(const char *s, bool round, int want_rc, int64_t want)
{
	int64_t v = SENTINEL;
	int rc = round ? ig_fixed_parse_round(s, strlen(s), &v)
		       : ig_fixed_parse(s, strlen(s), &v);

	if (rc != want_rc)
		fail_msg("%s(\"%s\"): rc %d (%s), want %d (%s)",
			 round ? "parse_round" : "parse", s, rc, ig_err_name(rc), want_rc,
			 ig_err_name(want_rc));
	if (want_rc == 0 && v != want)
		fail_msg("%s(\"%s\"): %" PRId64 ", want %" PRId64,
			 round ? "parse_round" : "parse", s, v, want);
	if (want_rc != 0 && v != SENTINEL)
		fail_msg("%s(\"%s\"): *out written on error", round ? "parse_round" : "parse", s);
}

/* Both parsers must agree: inputs without digits past 1e-8. */
static void check_parse(const char *s, int want_rc, int64_t want)
{
	int64_t v = SENTINEL;
	int rc;

	check_parse_mode(s, false, want_rc, want);
	check_parse_mode(s, true, want_rc, want);
	rc = ig_fixed_parse_cstr(s, &v);
	assert_int_equal(rc, want_rc);
	if (rc == 0)
		assert_int_equal(v, want);
}

static void check_format(int64_t v, const char *want)
{
	char buf[IG_FIXED_STRLEN];
	int n = ig_fixed_format(v, buf, sizeof(buf));

	if (n < 0)
		fail_msg("format(%" PRId64 "): rc %d", v, n);
	assert_string_equal(buf, want);
	assert_int_equal((size_t)n, strlen(want));
}

static void check_format_dp(int64_t v, int dp, const char *want)
{
	char buf[IG_FIXED_STRLEN];
	int n = ig_fixed_format_dp(v, dp, buf, sizeof(buf));

	if (n < 0)
		fail_msg("format_dp(%" PRId64 ", %d): rc %d", v, dp, n);
	if (strcmp(buf, want) != 0)
		fail_msg("format_dp(%" PRId64 ", %d): \"%s\", want \"%s\"", v, dp, buf, want);
	assert_int_equal((size_t)n, strlen(want));
}

/* ---- parsing ------------------------------------------------------------ */

static void test_parse_basic(void **state)
{
	(void)state;
	check_parse("0", 0, 0);
	check_parse("-0", 0, 0);
	check_parse("+0", 0, 0);
	check_parse("0.0", 0, 0);
	check_parse("-0.00000000", 0, 0);
	check_parse("1", 0, IG_FIXED_SCALE);
	check_parse("+1", 0, IG_FIXED_SCALE);
	check_parse("-1", 0, -IG_FIXED_SCALE);
	check_parse("1.", 0, IG_FIXED_SCALE);
	check_parse("-1.", 0, -IG_FIXED_SCALE);
	check_parse(".5", 0, 50000000);
	check_parse("-.5", 0, -50000000);
	check_parse("0.5", 0, 50000000);
	check_parse("00012.3400", 0, 1234000000);
	check_parse("123.45", 0, 12345000000);
	check_parse("0.00000001", 0, 1);
	check_parse("-0.00000001", 0, -1);
	check_parse("0.12345678", 0, 12345678);
	check_parse("65000.1", 0, INT64_C(6500010000000));
	check_parse("1000000", 0, IG_FIXED(1000000));
}

static void test_parse_extremes(void **state)
{
	(void)state;
	check_parse("92233720368.54775807", 0, INT64_MAX);
	check_parse("+92233720368.54775807", 0, INT64_MAX);
	check_parse("-92233720368.54775808", 0, INT64_MIN);
	check_parse("-92233720368.54775807", 0, -INT64_MAX);
	check_parse("092233720368.547758070", 0, INT64_MAX);
	check_parse("92233720368", 0, INT64_C(9223372036800000000));
	check_parse("-92233720368", 0, INT64_C(-9223372036800000000));
	/* One unit past either end. */
	check_parse("92233720368.54775808", IG_ERANGE, 0);
	check_parse("-92233720368.54775809", IG_ERANGE, 0);
	check_parse("92233720369", IG_ERANGE, 0);
	check_parse("-92233720369", IG_ERANGE, 0);
	check_parse("100000000000", IG_ERANGE, 0);
	/* The extremes spelled with zeros past 1e-8 (the >8-decimal path). */
	check_parse("92233720368.547758070000", 0, INT64_MAX);
	check_parse("-92233720368.547758080000000000", 0, INT64_MIN);
	check_parse("92233720368.547758080000", IG_ERANGE, 0);
	check_parse("-92233720368.547758090000", IG_ERANGE, 0);
}

static void test_parse_syntax(void **state)
{
	static const char *const bad[] = {
		"", "-", "+", ".", "-.", "+.", "..", "1.2.3", "1..2", " 1", "1 ",
		"abc", "12a", "a12", "1e5", "1E5", "1e-5", "0x10", "--1", "+-1",
		"-+1", "1-", "1+", "1,5", "\t1", "1\n", "inf", "nan", "-inf",
		"1_000", "١",
	};
	int64_t v = SENTINEL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_parse(bad[i], IG_ESYNTAX, 0);
	assert_int_equal(ig_fixed_parse(NULL, 0, &v), IG_ESYNTAX);
	assert_int_equal(ig_fixed_parse("1", 0, &v), IG_ESYNTAX);
	assert_int_equal(ig_fixed_parse_round(NULL, 3, &v), IG_ESYNTAX);
	assert_int_equal(ig_fixed_parse_cstr(NULL, &v), IG_ESYNTAX);
	assert_int_equal(v, SENTINEL);
	/* Syntax wins over range and precision: not a number at all. */
	check_parse("99999999999999999999999999999999999999999x", IG_ESYNTAX, 0);
	check_parse("99999999999999999999999999999999999999999.1.2", IG_ESYNTAX, 0);
	check_parse("1.0000000000000000000x", IG_ESYNTAX, 0);
	check_parse("1.00000000000000000001 ", IG_ESYNTAX, 0);
	check_parse("-1.00000000000000000001.", IG_ESYNTAX, 0);
	/* An embedded NUL inside len is not a digit. */
	assert_int_equal(ig_fixed_parse("1\0" "2", 3, &v), IG_ESYNTAX);
	assert_int_equal(v, SENTINEL);
}

static void test_parse_len_bounds(void **state)
{
	/* Not NUL-terminated: the parser must stop at len. */
	static const char buf[8] = { '1', '2', '.', '5', 'x', 'y', '9', '9' };
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(ig_fixed_parse(buf, 4, &v), 0);
	assert_int_equal(v, 1250000000);
	assert_int_equal(ig_fixed_parse(buf, 2, &v), 0);
	assert_int_equal(v, IG_FIXED(12));
	assert_int_equal(ig_fixed_parse(buf, 3, &v), 0);
	assert_int_equal(v, IG_FIXED(12));
	v = SENTINEL;
	assert_int_equal(ig_fixed_parse(buf, 5, &v), IG_ESYNTAX);
	assert_int_equal(v, SENTINEL);
	assert_int_equal(ig_fixed_parse_round(buf + 1, 3, &v), 0);
	assert_int_equal(v, 250000000);
}

static void test_parse_precision(void **state)
{
	(void)state;
	/* A non-zero 9th decimal: refused exactly, rounded by parse_round. */
	check_parse_mode("0.000000001", false, IG_EPRECISION, 0);
	check_parse_mode("0.000000001", true, 0, 0);
	check_parse_mode("0.000000005", false, IG_EPRECISION, 0);
	check_parse_mode("0.000000005", true, 0, 1);
	check_parse_mode("-0.000000005", true, 0, -1);
	check_parse_mode("0.000000004999", true, 0, 0);
	check_parse_mode("-0.000000004999", true, 0, 0);
	check_parse_mode("0.000000015", true, 0, 2);
	check_parse_mode("-0.000000015", true, 0, -2);
	check_parse_mode("0.000000014999999999", true, 0, 1);
	check_parse_mode("1.999999995", true, 0, 200000000);
	check_parse_mode("-1.999999995", true, 0, -200000000);
	check_parse_mode("9.342381490000001", false, IG_EPRECISION, 0);
	check_parse_mode("9.342381490000001", true, 0, 934238149);
	check_parse_mode("0.1000000000000001", true, 0, 10000000);
	/* Rounding up across the top of the range overflows. */
	check_parse_mode("92233720368.547758074", true, 0, INT64_MAX);
	check_parse_mode("92233720368.547758075", true, IG_ERANGE, 0);
	check_parse_mode("-92233720368.547758084", true, 0, INT64_MIN);
	check_parse_mode("-92233720368.547758085", true, IG_ERANGE, 0);
	check_parse_mode("-92233720368.547758075", true, 0, INT64_MIN);
	check_parse_mode("-92233720368.547758070000000002", true, 0, -INT64_MAX);
	/* Trailing zeros past 1e-8 are exact. */
	check_parse("5.800000000000", 0, 580000000);
	check_parse("-5.800000000000", 0, -580000000);
	check_parse("0.000000010", 0, 1);
	/* 18 decimals is the input limit; 19 is refused even as zeros. */
	check_parse("1.000000000000000000", 0, IG_FIXED_SCALE);
	check_parse_mode("0.000000000000000001", false, IG_EPRECISION, 0);
	check_parse_mode("0.000000000000000001", true, 0, 0);
	check_parse_mode("0.000000005000000000", true, 0, 1);
	check_parse("1.0000000000000000000", IG_EPRECISION, 0);
	check_parse("0.0000000000000000001", IG_EPRECISION, 0);
	check_parse("-0.0000000050000000000", IG_EPRECISION, 0);
}

static void test_parse_long_digits(void **state)
{
	char buf[200];

	(void)state;
	/* Long digit strings must be refused as out of range, never wrap in
	 * the 128-bit accumulator. This one is 2^128 / 10^8 rounded so that
	 * an unchecked mag * 10^8 wraps to 31788544. */
	check_parse("3402823669209384634633746074318", IG_ERANGE, 0);
	check_parse("-3402823669209384634633746074318", IG_ERANGE, 0);
	check_parse("170141183460469231731687303715884105727", IG_ERANGE, 0);
	check_parse("340282366920938463463374607431768211456", IG_ERANGE, 0);
	check_parse("99999999999999999999.5", IG_ERANGE, 0);
	check_parse("99999999999999999999.000000001", IG_ERANGE, 0);
	check_parse_mode("99999999999999999999.000000001", true, IG_ERANGE, 0);
	for (size_t n = 12; n < sizeof(buf) - 1; n++) {
		memset(buf, '9', n);
		buf[n] = '\0';
		check_parse(buf, IG_ERANGE, 0);
		buf[0] = '-';
		check_parse(buf, IG_ERANGE, 0);
		buf[0] = '1';
		memset(buf + 1, '0', n - 1);
		check_parse(buf, IG_ERANGE, 0);
	}
	/* Many leading zeros are harmless. */
	memset(buf, '0', 150);
	memcpy(buf + 150, "1.5", 4);
	check_parse(buf, 0, 150000000);
}

/* ig_fixed_parse_round_long (CSV market data, defect 9): decimals past the
 * 18th are checked and dropped, never cut unseen; 18 or fewer behave as
 * ig_fixed_parse_round. */
static void check_long(const char *s, int want_rc, int64_t want)
{
	int64_t v = 777;
	int rc = ig_fixed_parse_round_long(s, strlen(s), &v);
	if (rc != want_rc || (rc == 0 && v != want))
		fail_msg("parse_round_long(\"%s\") = %d (%s), %" PRId64 "; want %d, %" PRId64, s, rc,
			 ig_err_name(rc), v, want_rc, want);
	if (rc != 0 && v != 777)
		fail_msg("parse_round_long(\"%s\"): *out written on error", s);
}

static void test_parse_round_long(void **state)
{
	static const char *const same[] = { "0", "-1.5", "123.000000005", "0.123456789012345678",
					    "92233720368.54775807", "-92233720368.54775808",
					    "1.", ".5", "+7" };
	(void)state;
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		int64_t want = 0;
		int rc = ig_fixed_parse_round(same[i], strlen(same[i]), &want);
		check_long(same[i], rc, want);
	}
	/* Float artefacts of any length round as their first 18 decimals. */
	check_long("0.0038217599999999996", 0, 382176);
	check_long("2.000000004999999999999", 0, 200000000);
	check_long("1.00000000500000000000000001", 0, 100000001);
	check_long("-1.0000000050000000000000000000000000000000000001", 0, -100000001);
	check_long("6.1234567890123456789012345", 0, 612345679);
	/* Anything but a digit past the 18th decimal is not a number. */
	check_long("6.12345678901234567890e+03", IG_ESYNTAX, 0);
	check_long("100.000000000000000000junk", IG_ESYNTAX, 0);
	check_long("1.0000000000000000000000001x", IG_ESYNTAX, 0);
	check_long("1.1234567890123456789.5", IG_ESYNTAX, 0);
	check_long("1.1234567890123456789 ", IG_ESYNTAX, 0);
	check_long("1e3", IG_ESYNTAX, 0);
	check_long("", IG_ESYNTAX, 0);
	check_long("-", IG_ESYNTAX, 0);
	/* Range is judged as before. */
	check_long("92233720368.547758075", IG_ERANGE, 0);
	check_long("99999999999999999999.0000000000000000000001", IG_ERANGE, 0);
	/* The exact and 18-decimal parsers still refuse 19 decimals. */
	check_parse("0.0038217599999999996", IG_EPRECISION, 0);
	check_parse_mode("0.0038217599999999996", true, IG_EPRECISION, 0);
}

/* ---- formatting --------------------------------------------------------- */

static void test_format_basic(void **state)
{
	(void)state;
	check_format(0, "0");
	check_format(1, "0.00000001");
	check_format(-1, "-0.00000001");
	check_format(-50000000, "-0.5");
	check_format(50000000, "0.5");
	check_format(12345000000, "123.45");
	check_format(-12345000000, "-123.45");
	check_format(IG_FIXED(1), "1");
	check_format(IG_FIXED(-7), "-7");
	check_format(IG_FIXED(100), "100");
	check_format(1000000001, "10.00000001");
	check_format(10, "0.0000001");
	check_format(INT64_MAX, "92233720368.54775807");
	check_format(INT64_MIN, "-92233720368.54775808");
	check_format(INT64_MIN + 1, "-92233720368.54775807");
	check_format(INT64_C(9223372036800000000), "92233720368");
}

static void test_format_buffer(void **state)
{
	char buf[IG_FIXED_STRLEN];

	(void)state;
	/* "-92233720368.54775808" is 21 characters: needs 22 bytes. */
	assert_int_equal(ig_fixed_format(INT64_MIN, buf, 22), 21);
	assert_int_equal(ig_fixed_format(INT64_MIN, buf, 21), IG_ERANGE);
	assert_int_equal(ig_fixed_format(0, buf, 2), 1);
	assert_string_equal(buf, "0");
	assert_int_equal(ig_fixed_format(0, buf, 1), IG_ERANGE);
	assert_int_equal(ig_fixed_format(0, buf, 0), IG_ERANGE);
	assert_int_equal(ig_fixed_format(-50000000, buf, 5), 4);
	assert_int_equal(ig_fixed_format(-50000000, buf, 4), IG_ERANGE);
	/* Every length exactly: cap == len fails, cap == len + 1 succeeds. */
	for (int64_t v = 1; v < INT64_MAX / 10; v = v * 10 + 3) {
		char want[IG_FIXED_STRLEN];
		int n = ig_fixed_format(v, want, sizeof(want));
		assert_true(n > 0);
		assert_int_equal(ig_fixed_format(v, buf, (size_t)n), IG_ERANGE);
		assert_int_equal(ig_fixed_format(v, buf, (size_t)n + 1), n);
		assert_string_equal(buf, want);
	}
	assert_int_equal(ig_fixed_format_dp(IG_FIXED(3), 2, buf, 5), 4);
	assert_string_equal(buf, "3.00");
	assert_int_equal(ig_fixed_format_dp(IG_FIXED(3), 2, buf, 4), IG_ERANGE);
	assert_int_equal(ig_fixed_format_dp(INT64_MIN, 8, buf, 22), 21);
	assert_int_equal(ig_fixed_format_dp(INT64_MIN, 8, buf, 21), IG_ERANGE);
}

/* Independent reference: snprintf of the integer and fraction parts. */
static void ref_format(int64_t v, char *buf, size_t cap)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t ip = mag / (uint64_t)IG_FIXED_SCALE, fp = mag % (uint64_t)IG_FIXED_SCALE;
	size_t n;

	snprintf(buf, cap, "%s%" PRIu64 ".%08" PRIu64, v < 0 ? "-" : "", ip, fp);
	n = strlen(buf);
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
}

/* -u or u as int64, without signed overflow (two's complement wrap). */
static int64_t signed_of(uint64_t u, bool neg)
{
	return (int64_t)(neg ? (uint64_t)0 - u : u);
}

static int64_t random_value(uint64_t *s)
{
	uint64_t r = rng_next(s);

	switch (r & 7) {
	case 0: /* anything */
		return (int64_t)rng_next(s);
	case 1: /* near INT64_MAX */
		return INT64_MAX - (int64_t)(rng_next(s) % 1000000);
	case 2: /* near INT64_MIN */
		return INT64_MIN + (int64_t)(rng_next(s) % 1000000);
	case 3: /* small, either sign */
		return (int64_t)(rng_next(s) % 2000001) - 1000000;
	case 4: /* tiny */
		return (int64_t)(rng_next(s) % 21) - 10;
	case 5: /* a random magnitude: exercises every digit count */
		return signed_of(rng_next(s) >> ((r >> 4) % 64), (r & 8) != 0);
	case 6: /* whole numbers and short fractions, as prices look */
		return signed_of(rng_next(s) % 100000000 * 10000, (r & 8) != 0);
	default: /* multiples of 10^k: trailing-zero trimming */
		return signed_of(rng_next(s) % 1000 * 100000, (r & 8) != 0);
	}
}

static void test_format_roundtrip_property(void **state)
{
	uint64_t seed = UINT64_C(0x9E3779B97F4A7C15);
	int n = 1000000;

	(void)state;
	for (int i = 0; i < n; i++) {
		int64_t v = i < 4 ? (int64_t[]){ INT64_MIN, INT64_MAX, 0, -1 }[i]
				  : random_value(&seed);
		char buf[IG_FIXED_STRLEN], ref[64];
		int64_t back = SENTINEL, back_r = SENTINEL;
		int len = ig_fixed_format(v, buf, sizeof(buf));

		if (len <= 0)
			fail_msg("format(%" PRId64 "): rc %d", v, len);
		ref_format(v, ref, sizeof(ref));
		if (strcmp(buf, ref) != 0)
			fail_msg("format(%" PRId64 "): \"%s\", want \"%s\"", v, buf, ref);
		if (ig_fixed_parse(buf, (size_t)len, &back) != 0 || back != v)
			fail_msg("parse(format(%" PRId64 ")=\"%s\") = %" PRId64, v, buf, back);
		if (ig_fixed_parse_round(buf, (size_t)len, &back_r) != 0 || back_r != v)
			fail_msg("parse_round(\"%s\") = %" PRId64, buf, back_r);
		/* The 8-decimal form parses back too. */
		len = ig_fixed_format_dp(v, 8, buf, sizeof(buf));
		if (len <= 0 || ig_fixed_parse(buf, (size_t)len, &back) != 0 || back != v)
			fail_msg("parse(format_dp(%" PRId64 ", 8)=\"%s\")", v, buf);
	}
}

static void test_format_dp(void **state)
{
	char buf[IG_FIXED_STRLEN];

	(void)state;
	check_format_dp(100500000, 2, "1.01");
	check_format_dp(-100500000, 2, "-1.01");
	check_format_dp(100499999, 2, "1.00");
	check_format_dp(-100499999, 2, "-1.00");
	check_format_dp(IG_FIXED(3), 2, "3.00");
	check_format_dp(IG_FIXED(3), 0, "3");
	check_format_dp(IG_FIXED(-3), 1, "-3.0");
	check_format_dp(0, 0, "0");
	check_format_dp(0, 4, "0.0000");
	check_format_dp(150000000, 0, "2");
	check_format_dp(-150000000, 0, "-2");
	check_format_dp(149999999, 0, "1");
	check_format_dp(250000000, 0, "3");
	check_format_dp(99999999, 2, "1.00");
	check_format_dp(-99999999, 2, "-1.00");
	check_format_dp(1, 8, "0.00000001");
	check_format_dp(-1, 8, "-0.00000001");
	check_format_dp(5, 7, "0.0000001");
	check_format_dp(4, 7, "0.0000000");
	check_format_dp(12345678, 8, "0.12345678");
	check_format_dp(12345678, 3, "0.123");
	check_format_dp(12345678, 4, "0.1235");
	check_format_dp(IG_FIXED(65000) + 5000000, 1, "65000.1");
	/* A value that rounds to zero prints without a sign. */
	check_format_dp(-100000, 2, "0.00");
	check_format_dp(-49999999, 0, "0");
	/* The extremes: rounding may carry past INT64_MAX in the scaled value. */
	check_format_dp(INT64_MAX, 8, "92233720368.54775807");
	check_format_dp(INT64_MIN, 8, "-92233720368.54775808");
	check_format_dp(INT64_MAX, 2, "92233720368.55");
	check_format_dp(INT64_MIN, 2, "-92233720368.55");
	check_format_dp(INT64_MAX, 0, "92233720369");
	check_format_dp(INT64_MIN, 0, "-92233720369");
	check_format_dp(INT64_MAX, 7, "92233720368.5477581");
	check_format_dp(INT64_MIN, 5, "-92233720368.54776");
	/* dp out of 0..8. */
	assert_int_equal(ig_fixed_format_dp(1, -1, buf, sizeof(buf)), IG_EINVAL);
	assert_int_equal(ig_fixed_format_dp(1, 9, buf, sizeof(buf)), IG_EINVAL);
}

/* ---- arithmetic --------------------------------------------------------- */

/* Independent reference: q = n / d rounded half away from zero, or false if
 * it does not fit int64. */
static bool ref_div_round(ig_i128 n, ig_i128 d, int64_t *out)
{
	ig_i128 q = n / d, r = n % d;
	ig_i128 ar = r < 0 ? -r : r, ad = d < 0 ? -d : d;

	if (2 * ar >= ad)
		q += ((n < 0) != (d < 0)) ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return false;
	*out = (int64_t)q;
	return true;
}

static void test_mul(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(ig_fixed_mul(IG_FIXED(3) / 2, IG_FIXED(2), &v), 0);
	assert_int_equal(v, IG_FIXED(3));
	assert_int_equal(ig_fixed_mul(IG_FIXED(-3) / 2, IG_FIXED(2), &v), 0);
	assert_int_equal(v, IG_FIXED(-3));
	assert_int_equal(ig_fixed_mul(0, INT64_MIN, &v), 0);
	assert_int_equal(v, 0);
	/* Halves away from zero at the last unit. */
	assert_int_equal(ig_fixed_mul(1, 50000000, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_mul(-1, 50000000, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_mul(1, -50000000, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_mul(-1, -50000000, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_mul(1, 49999999, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_mul(-1, 49999999, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_mul(3, 50000000, &v), 0); /* 1.5 units */
	assert_int_equal(v, 2);
	/* 65000.12345678 * 0.001 = 65.00012345678 -> 65.00012346 */
	assert_int_equal(ig_fixed_mul(INT64_C(6500012345678), 100000, &v), 0);
	assert_int_equal(v, 6500012346);
	/* Extremes. */
	assert_int_equal(ig_fixed_mul(INT64_MAX, IG_FIXED(1), &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_mul(INT64_MIN, IG_FIXED(1), &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(ig_fixed_mul(INT64_MAX, IG_FIXED(-1), &v), 0);
	assert_int_equal(v, -INT64_MAX);
	assert_int_equal(ig_fixed_mul(INT64_MAX, 1, &v), 0);
	assert_int_equal(v, INT64_C(92233720369)); /* 922337203.6854... units */
	v = SENTINEL;
	assert_int_equal(ig_fixed_mul(INT64_MIN, IG_FIXED(-1), &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_mul(INT64_MAX, INT64_MAX, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_mul(INT64_MIN, INT64_MIN, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_mul(INT64_MIN, INT64_MAX, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_mul(IG_FIXED(1000000), IG_FIXED(1000000), &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_mul(INT64_MAX, IG_FIXED(1) + 1, &v), IG_EOVERFLOW);
	assert_int_equal(v, SENTINEL);
}

static void test_div(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(ig_fixed_div(IG_FIXED(1), IG_FIXED(3), &v), 0);
	assert_int_equal(v, 33333333);
	assert_int_equal(ig_fixed_div(IG_FIXED(2), IG_FIXED(3), &v), 0);
	assert_int_equal(v, 66666667);
	assert_int_equal(ig_fixed_div(IG_FIXED(-2), IG_FIXED(3), &v), 0);
	assert_int_equal(v, -66666667);
	assert_int_equal(ig_fixed_div(IG_FIXED(2), IG_FIXED(-3), &v), 0);
	assert_int_equal(v, -66666667);
	assert_int_equal(ig_fixed_div(IG_FIXED(-2), IG_FIXED(-3), &v), 0);
	assert_int_equal(v, 66666667);
	assert_int_equal(ig_fixed_div(IG_FIXED(10), IG_FIXED(4), &v), 0);
	assert_int_equal(v, 250000000);
	/* Halves away from zero. */
	assert_int_equal(ig_fixed_div(1, IG_FIXED(2), &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_div(-1, IG_FIXED(2), &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_div(1, IG_FIXED(-2), &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_div(3, IG_FIXED(2), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(ig_fixed_div(1, IG_FIXED(3), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_div(0, INT64_MIN, &v), 0);
	assert_int_equal(v, 0);
	/* Extremes. */
	assert_int_equal(ig_fixed_div(INT64_MAX, IG_FIXED(1), &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_div(INT64_MIN, IG_FIXED(1), &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(ig_fixed_div(INT64_MAX, IG_FIXED(-1), &v), 0);
	assert_int_equal(v, -INT64_MAX);
	assert_int_equal(ig_fixed_div(INT64_MIN, INT64_MIN, &v), 0);
	assert_int_equal(v, IG_FIXED(1));
	assert_int_equal(ig_fixed_div(1, INT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	v = SENTINEL;
	assert_int_equal(ig_fixed_div(INT64_MIN, IG_FIXED(-1), &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_div(IG_FIXED(1000000), 1, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_div(INT64_MAX, IG_FIXED(1) - 1, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_div(IG_FIXED(1), 0, &v), IG_EINVAL);
	assert_int_equal(ig_fixed_div(0, 0, &v), IG_EINVAL);
	assert_int_equal(ig_fixed_div(INT64_MIN, 0, &v), IG_EINVAL);
	assert_int_equal(v, SENTINEL);
}

static void test_bps(void **state)
{
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(ig_fixed_bps(IG_FIXED(100), 25, &v), 0);
	assert_int_equal(v, 25000000); /* 0.25 */
	assert_int_equal(ig_fixed_bps(IG_FIXED(100), -2, &v), 0);
	assert_int_equal(v, -2000000); /* maker rebate -0.02 */
	assert_int_equal(ig_fixed_bps(IG_FIXED(-100), 25, &v), 0);
	assert_int_equal(v, -25000000);
	assert_int_equal(ig_fixed_bps(IG_FIXED(7), 10000, &v), 0);
	assert_int_equal(v, IG_FIXED(7));
	assert_int_equal(ig_fixed_bps(IG_FIXED(7), 0, &v), 0);
	assert_int_equal(v, 0);
	/* Halves away from zero. */
	assert_int_equal(ig_fixed_bps(1, 5000, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_bps(-1, 5000, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_bps(1, -5000, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_bps(1, 4999, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_bps(3, 5000, &v), 0);
	assert_int_equal(v, 2);
	/* 123.45678901 * 7.5 bps is not expressible: bps are whole; 7 bps: */
	assert_int_equal(ig_fixed_bps(12345678901, 7, &v), 0);
	assert_int_equal(v, 8641975); /* 8641975.2307 */
	/* Extremes. */
	assert_int_equal(ig_fixed_bps(INT64_MAX, 10000, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_bps(INT64_MIN, 10000, &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(ig_fixed_bps(INT64_MIN, -10000, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_bps(INT64_MAX, 10001, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_bps(INT64_MAX, INT64_MAX, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_bps(INT64_MIN, INT64_MIN, &v), IG_EOVERFLOW);
}

/* mul, div and bps against the independent reference on random inputs. */
static void test_arith_property(void **state)
{
	uint64_t seed = UINT64_C(0xD1B54A32D192ED03);
	int n = under_sanitizer() ? 50000 : 300000;

	(void)state;
	for (int i = 0; i < n; i++) {
		int64_t a = random_value(&seed), b = random_value(&seed);
		int64_t bps = (int64_t)(rng_next(&seed) % 40001) - 20000;
		int64_t got = SENTINEL, want = 0;
		bool fits;
		int rc;

		fits = ref_div_round((ig_i128)a * b, IG_FIXED_SCALE, &want);
		rc = ig_fixed_mul(a, b, &got);
		if (rc != (fits ? 0 : IG_EOVERFLOW) || (fits && got != want))
			fail_msg("mul(%" PRId64 ", %" PRId64 "): rc %d %" PRId64 " want %" PRId64,
				 a, b, rc, got, want);
		if (b != 0) {
			fits = ref_div_round((ig_i128)a * IG_FIXED_SCALE, b, &want);
			rc = ig_fixed_div(a, b, &got);
			if (rc != (fits ? 0 : IG_EOVERFLOW) || (fits && got != want))
				fail_msg("div(%" PRId64 ", %" PRId64 "): rc %d %" PRId64
					 " want %" PRId64, a, b, rc, got, want);
		}
		fits = ref_div_round((ig_i128)a * bps, 10000, &want);
		rc = ig_fixed_bps(a, bps, &got);
		if (rc != (fits ? 0 : IG_EOVERFLOW) || (fits && got != want))
			fail_msg("bps(%" PRId64 ", %" PRId64 "): rc %d", a, bps, rc);
		/* mul agrees with rounding the exact notional. */
		rc = ig_fixed_round_wide(ig_fixed_notional_wide(a, b), IG_FIXED_DECIMALS, &want);
		assert_int_equal(rc, ig_fixed_mul(a, b, &got));
		if (rc == 0)
			assert_int_equal(got, want);
	}
}

static void test_notional_wide(void **state)
{
	const ig_i128 two63 = (ig_i128)1 << 63;

	(void)state;
	assert_true(ig_fixed_notional_wide(INT64_MAX, INT64_MAX) ==
		    (two63 - 1) * (two63 - 1));
	assert_true(ig_fixed_notional_wide(INT64_MAX, INT64_MAX) ==
		    ((ig_i128)1 << 126) - ((ig_i128)1 << 64) + 1);
	assert_true(ig_fixed_notional_wide(INT64_MIN, INT64_MIN) == (ig_i128)1 << 126);
	assert_true(ig_fixed_notional_wide(INT64_MIN, INT64_MAX) ==
		    -(((ig_i128)1 << 126) - two63));
	assert_true(ig_fixed_notional_wide(INT64_MAX, INT64_MIN) ==
		    ig_fixed_notional_wide(INT64_MIN, INT64_MAX));
	assert_true(ig_fixed_notional_wide(INT64_MIN, -1) == two63);
	assert_true(ig_fixed_notional_wide(0, INT64_MIN) == 0);
	/* 65000.12345678 * 1.5: exact at 1e-16. */
	assert_true(ig_fixed_notional_wide(INT64_C(6500012345678), 150000000) ==
		    (ig_i128)INT64_C(6500012345678) * 150000000);
	assert_true(ig_fixed_notional_wide(INT64_C(6500012345678), 150000000) ==
		    (ig_i128)INT64_C(975001851851700) * 1000000);
}

/* Magnitudes about 2^63 and 2^64, where ig_fixed_round_wide leaves its 64-bit
 * path for the 128-bit one, at every number of extra decimals, both signs,
 * against the reference division. */
static void test_round_wide_64bit_edge(void **state)
{
	const ig_i128 two63 = (ig_i128)1 << 63, two64 = (ig_i128)1 << 64;
	const ig_i128 base[] = { 0, 1, 4, 5, 49999999, 50000000, 99999999, 100000000,
				 two63 - 1, two63, two63 + 1, two64 - 1, two64, two64 + 1,
				 two64 + 50000000, two64 * 3 + 7 };

	(void)state;
	for (int extra = 0; extra <= 18; extra++) {
		ig_i128 d = 1;
		for (int i = 0; i < extra; i++)
			d *= 10;
		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
			for (int sign = -1; sign <= 1; sign += 2) {
				/* and the rounding midpoints near each base value */
				for (int off = -1; off <= 1; off++) {
					ig_i128 v = (base[i] + off * (d / 2)) * sign;
					int64_t got = SENTINEL, want = SENTINEL;
					bool fits = ref_div_round(v, d, &want);
					int rc = ig_fixed_round_wide(v, extra, &got);
					if (rc != (fits ? 0 : IG_EOVERFLOW) || (fits && got != want))
						fail_msg("round_wide(base %zu off %d sign %d, %d): rc %d "
							 "%" PRId64 " want %" PRId64,
							 i, off, sign, extra, rc, got, want);
				}
			}
		}
	}
}

static void test_round_wide(void **state)
{
	const ig_i128 max = INT64_MAX, min = INT64_MIN;
	int64_t v = SENTINEL;

	(void)state;
	assert_int_equal(ig_fixed_round_wide(12345, 0, &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(ig_fixed_round_wide(max, 0, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_round_wide(min, 0, &v), 0);
	assert_int_equal(v, INT64_MIN);
	assert_int_equal(ig_fixed_round_wide(15, 1, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(ig_fixed_round_wide(-15, 1, &v), 0);
	assert_int_equal(v, -2);
	assert_int_equal(ig_fixed_round_wide(14, 1, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_round_wide(-14, 1, &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(ig_fixed_round_wide(25, 1, &v), 0); /* not banker's */
	assert_int_equal(v, 3);
	assert_int_equal(ig_fixed_round_wide(-25, 1, &v), 0);
	assert_int_equal(v, -3);
	assert_int_equal(ig_fixed_round_wide(4, 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_round_wide(-5, 1, &v), 0);
	assert_int_equal(v, -1);
	/* 18 extra decimals: 0.5e-8 and just under. */
	assert_int_equal(ig_fixed_round_wide((ig_i128)INT64_C(500000000000000000), 18, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ig_fixed_round_wide((ig_i128)INT64_C(499999999999999999), 18, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ig_fixed_round_wide(-(ig_i128)INT64_C(500000000000000000), 18, &v), 0);
	assert_int_equal(v, -1);
	/* Exactly at the int64 edges after rounding. */
	assert_int_equal(ig_fixed_round_wide(max * 10 + 4, 1, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_round_wide(min * 10 - 4, 1, &v), 0);
	assert_int_equal(v, INT64_MIN);
	v = SENTINEL;
	assert_int_equal(ig_fixed_round_wide(max * 10 + 5, 1, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_round_wide(min * 10 - 5, 1, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_round_wide(max + 1, 0, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_round_wide(min - 1, 0, &v), IG_EOVERFLOW);
	/* The largest notional rounds to something that does not fit. */
	assert_int_equal(ig_fixed_round_wide(ig_fixed_notional_wide(INT64_MIN, INT64_MIN),
					     IG_FIXED_DECIMALS, &v), IG_EOVERFLOW);
	/* -(2^126 - 2^63) / 1e18 is still about -8.5e19. */
	assert_int_equal(ig_fixed_round_wide(ig_fixed_notional_wide(INT64_MIN, INT64_MAX),
					     18, &v), IG_EOVERFLOW);
	assert_int_equal(ig_fixed_round_wide(ig_fixed_notional_wide(INT64_MAX, IG_FIXED(1)),
					     IG_FIXED_DECIMALS, &v), 0);
	assert_int_equal(v, INT64_MAX);
	assert_int_equal(ig_fixed_round_wide(ig_fixed_notional_wide(INT64_MIN, IG_FIXED(-1)),
					     IG_FIXED_DECIMALS, &v), IG_EOVERFLOW);
	/* 2^126 / 1e18 = 85070591730234615865.8 overflows; / 1e18 of 2^122 fits. */
	assert_int_equal(ig_fixed_round_wide((ig_i128)1 << 122, 18, &v), 0);
	assert_int_equal(v, INT64_C(5316911983139663492)); /* 5316911983139663491.6 */
	assert_int_equal(ig_fixed_round_wide(-((ig_i128)1 << 122), 18, &v), 0);
	assert_int_equal(v, INT64_C(-5316911983139663492));
	assert_int_equal(ig_fixed_round_wide(1, 19, &v), IG_EINVAL);
	assert_int_equal(ig_fixed_round_wide(1, -1, &v), IG_EINVAL);
	assert_int_equal(v, INT64_C(-5316911983139663492));
}

static void test_floor_step_and_double(void **state)
{
	(void)state;
	assert_int_equal(ig_fixed_floor_step(123456789, 1000000), 123000000);
	assert_int_equal(ig_fixed_floor_step(-123956789, 1000000), -123000000);
	assert_int_equal(ig_fixed_floor_step(123000000, 1000000), 123000000);
	assert_int_equal(ig_fixed_floor_step(999, 1000), 0);
	assert_int_equal(ig_fixed_floor_step(INT64_MAX, IG_FIXED(1)), INT64_C(9223372036800000000));
	assert_int_equal(ig_fixed_floor_step(INT64_MIN, IG_FIXED(1)), INT64_C(-9223372036800000000));
	assert_int_equal(ig_fixed_floor_step(INT64_MIN, 1), INT64_MIN);
	assert_int_equal(ig_fixed_floor_step(12345, 0), 12345);
	assert_int_equal(ig_fixed_floor_step(12345, -5), 12345);
	assert_true(ig_fixed_to_double(150000000) == 1.5);
	assert_true(ig_fixed_to_double(-25000000) == -0.25);
	assert_true(ig_fixed_to_double(0) == 0.0);
}

/* Independent grammar check: [+-]? digits* ('.' digits*)? with a digit. */
static bool well_formed(const char *s, size_t len)
{
	size_t i = 0;
	bool digit = false, point = false;

	if (len > 0 && (s[0] == '+' || s[0] == '-'))
		i = 1;
	for (; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digit = true;
		else if (s[i] == '.' && !point)
			point = true;
		else
			return false;
	}
	return digit;
}

/* Random strings over the number alphabet: every result is a documented
 * code, and every accepted string formats and parses back to itself. */
static void test_parse_random_strings(void **state)
{
	static const char alphabet[] = "0123456789012345678999990000000000.-+e ";
	uint64_t seed = UINT64_C(0xA0761D6478BD642F);
	int n = under_sanitizer() ? 50000 : 300000;

	(void)state;
	for (int i = 0; i < n; i++) {
		char s[48], buf[IG_FIXED_STRLEN];
		size_t len = (size_t)(rng_next(&seed) % 40);
		for (size_t k = 0; k < len; k++)
			s[k] = alphabet[rng_next(&seed) % (sizeof(alphabet) - 1)];
		s[len] = '\0';
		for (int round = 0; round < 2; round++) {
			int64_t v = SENTINEL, back = SENTINEL;
			int rc = round ? ig_fixed_parse_round(s, len, &v)
				       : ig_fixed_parse(s, len, &v);
			if (rc != 0 && rc != IG_ESYNTAX && rc != IG_ERANGE && rc != IG_EPRECISION)
				fail_msg("parse(\"%s\"): rc %d", s, rc);
			if ((rc == IG_ESYNTAX) == well_formed(s, len))
				fail_msg("parse(\"%s\"): rc %d disagrees with the grammar", s, rc);
			if (rc != 0) {
				assert_int_equal(v, SENTINEL);
				continue;
			}
			int fl = ig_fixed_format(v, buf, sizeof(buf));
			assert_true(fl > 0);
			if (ig_fixed_parse(buf, (size_t)fl, &back) != 0 || back != v)
				fail_msg("\"%s\" -> %" PRId64 " -> \"%s\"", s, v, buf);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_basic),
		cmocka_unit_test(test_parse_extremes),
		cmocka_unit_test(test_parse_syntax),
		cmocka_unit_test(test_parse_len_bounds),
		cmocka_unit_test(test_parse_precision),
		cmocka_unit_test(test_parse_round_long),
		cmocka_unit_test(test_parse_long_digits),
		cmocka_unit_test(test_parse_random_strings),
		cmocka_unit_test(test_format_basic),
		cmocka_unit_test(test_format_buffer),
		cmocka_unit_test(test_format_roundtrip_property),
		cmocka_unit_test(test_format_dp),
		cmocka_unit_test(test_mul),
		cmocka_unit_test(test_div),
		cmocka_unit_test(test_bps),
		cmocka_unit_test(test_arith_property),
		cmocka_unit_test(test_notional_wide),
		cmocka_unit_test(test_round_wide),
		cmocka_unit_test(test_round_wide_64bit_edge),
		cmocka_unit_test(test_floor_step_and_double),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
