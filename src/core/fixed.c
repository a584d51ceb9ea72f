/*
 * fixed.c - exact decimal parsing, formatting and arithmetic on int64
 * fixed-point (1e-8). See include/ingenium/fixed.h for the rounding rule.
 */
#include "ingenium/fixed.h"

#include "ingenium/error.h"

#include <stdbool.h>
#include <string.h>

static const int64_t pow10_tab[19] = {
	INT64_C(1),
	INT64_C(10),
	INT64_C(100),
	INT64_C(1000),
	INT64_C(10000),
	INT64_C(100000),
	INT64_C(1000000),
	INT64_C(10000000),
	INT64_C(100000000),
	INT64_C(1000000000),
	INT64_C(10000000000),
	INT64_C(100000000000),
	INT64_C(1000000000000),
	INT64_C(10000000000000),
	INT64_C(100000000000000),
	INT64_C(1000000000000000),
	INT64_C(10000000000000000),
	INT64_C(100000000000000000),
	INT64_C(1000000000000000000),
};

/* The magnitude m (< 2^64) divided by 10^extra, rounded half up; the
 * common case, without a 128-bit division (a libgcc call). 10^8, the
 * product of two fixed-point numbers, divides by a constant. Returns the
 * rounded quotient. */
static inline uint64_t round_u64(uint64_t m, int extra_decimals)
{
	uint64_t div = (uint64_t)pow10_tab[extra_decimals], q, r;

	if (extra_decimals == IG_FIXED_DECIMALS) {
		q = m / UINT64_C(100000000);
		r = m % UINT64_C(100000000);
	} else {
		q = m / div;
		r = m % div;
	}
	if (div > 1 && r >= div / 2)
		q += 1;
	return q;
}

int ig_fixed_round_wide(ig_i128 v, int extra_decimals, int64_t *out)
{
	ig_i128 q, r, div, half;
	bool neg = v < 0;

	if (extra_decimals < 0 || extra_decimals > 18)
		return IG_EINVAL;
	div = pow10_tab[extra_decimals];
	/* Work on the magnitude so that "halves away from zero" is symmetric. */
	if (neg)
		v = -v;
	if (v >> 64 == 0) {
		/* Same rule in 64 bits: q <= 2^64 / 1 fits; the int64 range is
		 * [-2^63, 2^63 - 1]. */
		uint64_t uq = round_u64((uint64_t)v, extra_decimals);
		if (uq > (neg ? UINT64_C(1) << 63 : (uint64_t)INT64_MAX))
			return IG_EOVERFLOW;
		*out = neg ? (int64_t)(0 - uq) : (int64_t)uq;
		return 0;
	}
	q = v / div;
	r = v % div;
	half = div / 2;
	if (div > 1 && r >= half)
		q += 1;
	if (neg)
		q = -q;
	if (q > INT64_MAX || q < INT64_MIN)
		return IG_EOVERFLOW;
	*out = (int64_t)q;
	return 0;
}

enum parse_mode {
	EXACT,      /* refuse lost digits and more than 18 decimals */
	ROUND,      /* round to 1e-8; refuse more than 18 decimals */
	ROUND_LONG, /* round to 1e-8; check, then drop, decimals past the 18th */
};

/* Shared parser. Returns 0, IG_ESYNTAX, IG_ERANGE or IG_EPRECISION. */
static int parse(const char *s, size_t len, enum parse_mode mode, int64_t *out)
{
	bool round = mode != EXACT;
	size_t i = 0;
	bool neg = false, seen_digit = false, seen_point = false;
	ig_i128 mag = 0;        /* magnitude scaled by 10^(decimals seen) */
	int decimals = 0;       /* digits seen after the point */
	int err = 0;            /* range/precision error, reported after syntax */
	ig_i128 limit;

	if (s == NULL || len == 0)
		return IG_ESYNTAX;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		i = 1;
	}
	/* Any value whose magnitude exceeds 2^63 + 1 units (1e-8) is out of
	 * range for both signs even after rounding. With at most 18 decimals
	 * that is mag > (2^63 + 1) * 10^10 (~97 bits), checked per digit, so
	 * mag * 10 and the final mag * 10^(8 - decimals) cannot overflow. */
	limit = ((ig_i128)INT64_MAX + 2) * pow10_tab[10];
	for (; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (seen_point)
				return IG_ESYNTAX;
			seen_point = true;
			continue;
		}
		if (c < '0' || c > '9')
			return IG_ESYNTAX;
		seen_digit = true;
		/* Keep scanning after a range or precision error: a string
		 * that is not a number at all is IG_ESYNTAX. */
		if (err != 0)
			continue;
		if (seen_point) {
			if (decimals == IG_FIXED_MAX_INPUT_DECIMALS) {
				/* Past the 18th decimal: a digit (checked above)
				 * that cannot change the rounding. */
				if (mode != ROUND_LONG)
					err = IG_EPRECISION;
				continue;
			}
			decimals++;
		}
		mag = mag * 10 + (c - '0');
		if (mag > limit)
			err = IG_ERANGE;
	}
	if (!seen_digit)
		return IG_ESYNTAX;
	if (err != 0)
		return err;

	/* Bring mag to scale 1e-8. */
	if (decimals <= IG_FIXED_DECIMALS) {
		mag *= pow10_tab[IG_FIXED_DECIMALS - decimals];
	} else {
		int extra = decimals - IG_FIXED_DECIMALS;
		ig_i128 div = pow10_tab[extra];
		if (!round && mag % div != 0)
			return IG_EPRECISION;
		int64_t r;
		if (mag / div > (ig_i128)INT64_MAX + 1)
			return IG_ERANGE;
		if (ig_fixed_round_wide(neg ? -mag : mag, extra, &r) != 0)
			return IG_ERANGE;
		*out = r;
		return 0;
	}
	if (neg) {
		if (mag > (ig_i128)INT64_MAX + 1)
			return IG_ERANGE;
		*out = (int64_t)(-mag);
	} else {
		if (mag > INT64_MAX)
			return IG_ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

int ig_fixed_parse(const char *s, size_t len, int64_t *out)
{
	return parse(s, len, EXACT, out);
}

int ig_fixed_parse_round(const char *s, size_t len, int64_t *out)
{
	return parse(s, len, ROUND, out);
}

int ig_fixed_parse_round_long(const char *s, size_t len, int64_t *out)
{
	return parse(s, len, ROUND_LONG, out);
}

int ig_fixed_parse_cstr(const char *s, int64_t *out)
{
	if (s == NULL)
		return IG_ESYNTAX;
	return parse(s, strlen(s), EXACT, out);
}

/* Writes the decimal digits of u into tmp from the end; returns the count. */
static int utoa_rev(uint64_t u, char *end)
{
	int n = 0;
	do {
		*--end = (char)('0' + (u % 10));
		u /= 10;
		n++;
	} while (u != 0);
	return n;
}

/* Formats the value -mag (neg) or mag, in units of 1e-8. The magnitude is
 * unsigned so that format_dp can print a rounded value past INT64_MAX. */
static int format(bool neg, uint64_t mag, int dp, bool trim, char *buf, size_t cap)
{
	char tmp[40];
	char *end = tmp + sizeof(tmp);
	uint64_t ip = mag / (uint64_t)IG_FIXED_SCALE;
	uint64_t fp = mag % (uint64_t)IG_FIXED_SCALE;
	char frac[IG_FIXED_DECIMALS];
	int nfrac = dp, n, len;
	char *p;

	for (int k = IG_FIXED_DECIMALS - 1; k >= 0; k--) {
		frac[k] = (char)('0' + (fp % 10));
		fp /= 10;
	}
	if (trim)
		while (nfrac > 0 && frac[nfrac - 1] == '0')
			nfrac--;
	n = utoa_rev(ip, end);
	p = end - n;
	len = n + (neg ? 1 : 0) + (nfrac > 0 ? nfrac + 1 : 0);
	if ((size_t)len + 1 > cap)
		return IG_ERANGE;
	{
		char *o = buf;
		if (neg)
			*o++ = '-';
		memcpy(o, p, (size_t)n);
		o += n;
		if (nfrac > 0) {
			*o++ = '.';
			memcpy(o, frac, (size_t)nfrac);
			o += nfrac;
		}
		*o = '\0';
	}
	return len;
}

int ig_fixed_format(int64_t v, char *buf, size_t cap)
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	return format(v < 0, mag, IG_FIXED_DECIMALS, true, buf, cap);
}

int ig_fixed_format_dp(int64_t v, int dp, char *buf, size_t cap)
{
	int64_t r;
	uint64_t mag;

	if (dp < 0 || dp > IG_FIXED_DECIMALS)
		return IG_EINVAL;
	/* Round to dp decimals first, then print exactly dp digits. */
	if (ig_fixed_round_wide(v, IG_FIXED_DECIMALS - dp, &r) != 0)
		return IG_ERANGE;
	/* Scale back in uint64: rounding INT64_MAX up (e.g. to 2 dp) gives
	 * 9223372036855000000, past INT64_MAX but within UINT64_MAX. */
	mag = r < 0 ? (uint64_t)0 - (uint64_t)r : (uint64_t)r;
	mag *= (uint64_t)pow10_tab[IG_FIXED_DECIMALS - dp];
	return format(r < 0, mag, dp, false, buf, cap);
}

int ig_fixed_mul(int64_t a, int64_t b, int64_t *out)
{
	return ig_fixed_round_wide((ig_i128)a * b, IG_FIXED_DECIMALS, out);
}

int ig_fixed_div(int64_t a, int64_t b, int64_t *out)
{
	ig_i128 num, q, r;
	bool neg;

	if (b == 0)
		return IG_EINVAL;
	/* Scale by 10 once more than needed, then round the last digit. */
	num = (ig_i128)a * IG_FIXED_SCALE * 10;
	neg = (num < 0) != (b < 0);
	if (num < 0)
		num = -num;
	q = num / (b < 0 ? -(ig_i128)b : (ig_i128)b);
	r = q % 10;
	q /= 10;
	if (r >= 5)
		q += 1;
	if (neg)
		q = -q;
	if (q > INT64_MAX || q < INT64_MIN)
		return IG_EOVERFLOW;
	*out = (int64_t)q;
	return 0;
}

int ig_fixed_bps(int64_t v, int64_t bps, int64_t *out)
{
	/* v * bps / 10^4: the product has 4 extra decimals. */
	return ig_fixed_round_wide((ig_i128)v * bps, 4, out);
}

int64_t ig_fixed_floor_step(int64_t v, int64_t step)
{
	if (step <= 0)
		return v;
	return v - v % step;
}
