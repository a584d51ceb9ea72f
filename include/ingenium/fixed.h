/*
 * fixed.h - exact decimal money: int64 fixed-point with 8 decimals (1e-8).
 *
 * Every price, quantity, cash amount, fee and PnL in Ingenium is an int64_t
 * holding value * 10^8, as exchanges quote crypto. 10^8 units is 1.0; the
 * range is about +/-92,233,720,368.54775807. A product of two such numbers
 * (a notional) is computed in 128 bits (ig_i128) and only then rounded.
 *
 * Rounding rule, used everywhere in the engine: when a result has digits
 * beyond 1e-8, it is rounded to the nearest 1e-8, halves away from zero
 * (ig_fixed_round_wide). One rule, one function, so two code paths that
 * compute the same amount always agree to the last unit.
 *
 * Parsing and formatting are exact and round-trip:
 * ig_fixed_parse(ig_fixed_format(x)) == x for every int64 x. Floating point
 * is never used here; ig_fixed_to_double() exists for strategy indicators
 * and reports only.
 *
 * All functions are pure and may be called from any thread.
 */
#ifndef INGENIUM_FIXED_H
#define INGENIUM_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define IG_FIXED_DECIMALS 8
#define IG_FIXED_SCALE INT64_C(100000000)
/* Longest formatted value: "-92233720368.54775808" plus NUL. */
#define IG_FIXED_STRLEN 24
/* Most decimals ig_fixed_parse_round() accepts on input (exchanges send 18). */
#define IG_FIXED_MAX_INPUT_DECIMALS 18

/* A whole number as fixed-point: IG_FIXED(3) == 300000000. */
#define IG_FIXED(n) ((int64_t)(n) * IG_FIXED_SCALE)

__extension__ typedef __int128 ig_i128;

/*
 * Parses the decimal string s[0..len) exactly: optional sign, digits, an
 * optional '.' and digits; at least one digit; no spaces, no exponent.
 * Digits past the 8th decimal must be zero (at most 18 decimals in all).
 * Returns 0 and stores the value in *out, or IG_ESYNTAX (not a number),
 * IG_ERANGE (overflow) or IG_EPRECISION (a non-zero digit past 1e-8, or
 * more than 18 decimals). *out is untouched on error.
 */
int ig_fixed_parse(const char *s, size_t len, int64_t *out);

/* As ig_fixed_parse(), but a value with non-zero digits past 1e-8 (up to 18
 * decimals) is rounded to 1e-8 by the engine's rule instead of refused. Used
 * for market data and exchange replies that carry float artefacts. */
int ig_fixed_parse_round(const char *s, size_t len, int64_t *out);

/* As ig_fixed_parse_round(), but with any number of decimals, for market
 * data files whose float artefacts can carry 19 or more ("0.0038217599999
 * 999996"). Every character is checked as for ig_fixed_parse() (an
 * exponent or junk anywhere is IG_ESYNTAX); digits past the 18th decimal
 * are then dropped, which cannot change the result (rounding halves away
 * from zero depends only on the 9th decimal). Returns 0, IG_ESYNTAX or
 * IG_ERANGE; *out is untouched on error. */
int ig_fixed_parse_round_long(const char *s, size_t len, int64_t *out);

/* Convenience: parses a NUL-terminated string with ig_fixed_parse(). */
int ig_fixed_parse_cstr(const char *s, int64_t *out);

/*
 * Formats v into buf (capacity cap, NUL-terminated) in its shortest exact
 * form: no trailing zeros, no trailing '.', "0" for zero, "-" for negatives.
 * Returns the length written (without the NUL) or IG_ERANGE if cap is too
 * small. IG_FIXED_STRLEN always suffices.
 */
int ig_fixed_format(int64_t v, char *buf, size_t cap);

/* Formats v with exactly dp decimals (0..8), rounding by the engine's rule
 * when dp < 8: used for exchange price/volume scales. Returns as above. */
int ig_fixed_format_dp(int64_t v, int dp, char *buf, size_t cap);

/* Rounds a value scaled by 10^(8+extra_decimals) to 1e-8 by the engine's
 * rule. Returns 0, or IG_EOVERFLOW if the result does not fit in int64. */
int ig_fixed_round_wide(ig_i128 v, int extra_decimals, int64_t *out);

/* a * b (both 1e-8), rounded to 1e-8. Returns 0 or IG_EOVERFLOW. */
int ig_fixed_mul(int64_t a, int64_t b, int64_t *out);

/* a / b (both 1e-8), rounded to 1e-8. Returns 0, IG_EINVAL if b == 0, or
 * IG_EOVERFLOW. */
int ig_fixed_div(int64_t a, int64_t b, int64_t *out);

/* Exact notional px * qty, scaled by 1e16. Never overflows. */
static inline ig_i128 ig_fixed_notional_wide(int64_t px, int64_t qty)
{
	return (ig_i128)px * (ig_i128)qty;
}

/* v * bps / 10000, rounded by the engine's rule. Returns 0 or IG_EOVERFLOW. */
int ig_fixed_bps(int64_t v, int64_t bps, int64_t *out);

/* Rounds v to a multiple of step (> 0) toward zero: exchange tick/lot size. */
int64_t ig_fixed_floor_step(int64_t v, int64_t step);

/* For indicators and reports only. Never feed the result back into money. */
static inline double ig_fixed_to_double(int64_t v)
{
	return (double)v / (double)IG_FIXED_SCALE;
}

#endif
