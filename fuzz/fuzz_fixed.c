/*
 * fuzz_fixed.c - decimal parsing and formatting (src/core/fixed.c):
 * ig_fixed_parse (exact) and ig_fixed_parse_round on arbitrary text, the
 * round trip parse(format(x)) == x, format_dp at every precision, and
 * mul/div/bps/floor_step on two parsed values.
 *
 * Input: text; a first '|' splits it into two numbers a|b for the
 * arithmetic (without one, the whole input is a and b = a).
 */
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ig_log_set_level(IG_LOG_OFF);
	return 0;
}

/* Parses s[0..len) both ways and checks the promises between them and the
 * formatter. Returns 0 and *out (the rounded value), or the parse error. */
static int one(const char *s, size_t len, int64_t *out)
{
	int64_t exact = 0, rounded = 0, back = 0;
	char buf[48];
	int rc_exact = ig_fixed_parse(s, len, &exact);
	int rc_round = ig_fixed_parse_round(s, len, &rounded);
	int n;

	CHECK(rc_exact == 0 || rc_exact == IG_ESYNTAX || rc_exact == IG_ERANGE ||
	      rc_exact == IG_EPRECISION);
	CHECK(rc_round == 0 || rc_round == IG_ESYNTAX || rc_round == IG_ERANGE ||
	      rc_round == IG_EPRECISION);
	/* An exact value rounds to itself; syntax is judged the same way. */
	if (rc_exact == 0)
		CHECK(rc_round == 0 && rounded == exact);
	CHECK((rc_exact == IG_ESYNTAX) == (rc_round == IG_ESYNTAX));
	if (rc_round != 0)
		return rc_round;
	n = ig_fixed_format(rounded, buf, sizeof(buf));
	CHECK(n > 0 && (size_t)n == strlen(buf));
	CHECK(ig_fixed_parse(buf, (size_t)n, &back) == 0 && back == rounded);
	for (int dp = 0; dp <= IG_FIXED_DECIMALS; dp++) {
		n = ig_fixed_format_dp(rounded, dp, buf, sizeof(buf));
		CHECK(n > 0 && (size_t)n == strlen(buf));
	}
	n = ig_fixed_format(rounded, buf, 2); /* a short buffer */
	CHECK(n == IG_ERANGE || (n >= 0 && n < 2));
	*out = rounded;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *bar = memchr(s, '|', size);
	size_t la = bar != NULL ? (size_t)(bar - s) : size;
	int64_t a = 0, b = 0, r;

	/* The whole input, as a CSV cell or a config value would be. */
	(void)one(s, size, &r);
	if (one(s, la, &a) != 0)
		return 0;
	if (bar != NULL) {
		if (one(bar + 1, size - la - 1, &b) != 0)
			return 0;
	} else {
		b = a;
	}
	(void)ig_fixed_mul(a, b, &r);
	(void)ig_fixed_div(a, b, &r);
	(void)ig_fixed_bps(a, b / IG_FIXED_SCALE, &r);
	(void)ig_fixed_floor_step(a, b);
	(void)ig_fixed_round_wide((ig_i128)a * b, 8, &r);
	return 0;
}
