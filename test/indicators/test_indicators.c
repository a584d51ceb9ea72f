/*
 * test_indicators.c - the strategy SDK's indicators (include/ingenium/
 * indicators.h, src/indicators/indicators.c).
 *
 * Fixture tests: the first 1000 rows of two bundled data files
 * (data/coinbase_btcusd_minute_bars.csv, data/bitstamp_btcusd_trades_2011.csv)
 * are parsed as the feed parses them and fed to every indicator; each
 * value, and whether it is ready, is compared row by row with
 * test/indicators/fixtures/{bars,trades}.csv, which
 * test/indicators/gen_fixtures.py computed independently from the textbook
 * definitions (exact Fractions and closed forms, not the incremental
 * algorithm). The fixture's input columns are checked against the data too,
 * so both sides saw the same series. Exact indicators (SMA, WMA, VWAP,
 * Donchian) must be equal to the unit; doubles within a relative 1e-9 (the
 * MACD, a difference of two averages that crosses zero, relative to 1.0,
 * i.e. 1e-9 absolute on a price near 600).
 *
 * Edge tests: period 1, bad params refused (and the struct left usable by
 * free and refused by update), constant series (RSI 100, Bollinger width
 * exactly 0, stochastic 50), crossover on equal values, bad input losing
 * nothing, rounding halves away from zero, int64 extremes, and the exact
 * ones against brute force on random windows.
 *
 * The tests run from the repository root (main() walks up to it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/indicators.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROWS 1000
#define MAXF 32

/* ------------------------------------------------------------ CSV helpers */

/* Splits line in place at commas; returns the number of fields. */
static int split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = p;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	return n;
}

static int col_of(char **hdr, int nh, const char *name)
{
	for (int i = 0; i < nh; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	fail_msg("no column %s", name);
	return -1;
}

/* A table of ROWS rows of text cells, header first. */
struct table {
	char lines[ROWS + 1][512];
	char *cell[ROWS + 1][MAXF];
	int ncol;
	int nrows;
};

static struct table *read_table(const char *path)
{
	struct table *t = calloc(1, sizeof *t);
	FILE *fp = fopen(path, "r");

	assert_non_null(t);
	if (fp == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	while (t->nrows <= ROWS && fgets(t->lines[t->nrows], sizeof t->lines[0], fp) != NULL) {
		int n = split(t->lines[t->nrows], t->cell[t->nrows], MAXF);
		if (t->nrows == 0)
			t->ncol = n;
		else
			assert_int_equal(n, t->ncol);
		t->nrows++;
	}
	fclose(fp);
	assert_int_equal(t->nrows, ROWS + 1);
	return t;
}

static int64_t fx(const char *s)
{
	int64_t v;

	if (ig_fixed_parse_round_long(s, strlen(s), &v) != 0)
		fail_msg("bad number %s", s);
	return v;
}

static int64_t i64(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0')
		fail_msg("bad integer '%s'", s);
	return (int64_t)v;
}

/* Expected exact value: empty cell = not ready (value 0). */
static void check_exact(const char *cell, bool ready, int64_t got, const char *what, int row)
{
	if (cell[0] == '\0') {
		if (ready || got != 0)
			fail_msg("row %d %s: ready=%d value=%lld, expected not ready", row, what,
				 ready, (long long)got);
		return;
	}
	if (!ready || got != i64(cell))
		fail_msg("row %d %s: ready=%d value=%lld, expected %s", row, what, ready,
			 (long long)got, cell);
}

/* Expected double: |got - want| <= 1e-9 * max(|want|, floor). */
static void check_double(const char *cell, bool ready, double got, double floor_abs,
			 const char *what, int row)
{
	double want;

	if (cell[0] == '\0') {
		if (ready || got != 0.0)
			fail_msg("row %d %s: ready=%d value=%.17g, expected not ready", row, what,
				 ready, got);
		return;
	}
	want = strtod(cell, NULL);
	if (!ready || !(fabs(got - want) <= 1e-9 * fmax(fabs(want), floor_abs)))
		fail_msg("row %d %s: ready=%d value=%.17g, expected %.17g", row, what, ready, got,
			 want);
}

/* ------------------------------------------------------- fixture tests */

static void test_fixture_bars(void **state)
{
	struct table *data = read_table("data/coinbase_btcusd_minute_bars.csv");
	struct table *fix = read_table("test/indicators/fixtures/bars.csv");
	char **dh = data->cell[0], **h = fix->cell[0];
	int d_hi = col_of(dh, data->ncol, "high"), d_lo = col_of(dh, data->ncol, "low");
	int d_cl = col_of(dh, data->ncol, "close"), d_vol = col_of(dh, data->ncol, "volume");
	struct ig_sma sma;
	struct ig_wma wma;
	struct ig_vwap vwap;
	struct ig_donchian don;
	struct ig_ema ema;
	struct ig_rsi rsi;
	struct ig_macd macd;
	struct ig_bollinger boll;
	struct ig_atr atr;
	struct ig_stoch st;
	int ready_rows = 0;

	(void)state;
	assert_int_equal(ig_sma_init(&sma, 20), 0);
	assert_int_equal(ig_wma_init(&wma, 20), 0);
	assert_int_equal(ig_vwap_init(&vwap, 20), 0);
	assert_int_equal(ig_donchian_init(&don, 20), 0);
	assert_int_equal(ig_ema_init(&ema, 20), 0);
	assert_int_equal(ig_rsi_init(&rsi, 14), 0);
	assert_int_equal(ig_macd_init(&macd, 12, 26, 9), 0);
	assert_int_equal(ig_bollinger_init(&boll, 20, 2.0), 0);
	assert_int_equal(ig_atr_init(&atr, 14), 0);
	assert_int_equal(ig_stoch_init(&st, 14, 3), 0);

	for (int r = 1; r <= ROWS; r++) {
		char **d = data->cell[r], **e = fix->cell[r];
		int64_t hi = fx(d[d_hi]), lo = fx(d[d_lo]), cl = fx(d[d_cl]), vol = fx(d[d_vol]);
		int row = r - 1;
#define E(name) e[col_of(h, fix->ncol, name)]

		/* Same inputs on both sides. */
		assert_int_equal(hi, i64(E("high")));
		assert_int_equal(lo, i64(E("low")));
		assert_int_equal(cl, i64(E("close")));
		assert_int_equal(vol, i64(E("volume")));

		assert_int_equal(ig_sma_update(&sma, cl), 0);
		assert_int_equal(ig_wma_update(&wma, cl), 0);
		assert_int_equal(ig_vwap_update(&vwap, cl, vol), 0);
		assert_int_equal(ig_donchian_update(&don, hi, lo), 0);
		assert_int_equal(ig_ema_update(&ema, cl), 0);
		assert_int_equal(ig_rsi_update(&rsi, cl), 0);
		assert_int_equal(ig_macd_update(&macd, cl), 0);
		assert_int_equal(ig_bollinger_update(&boll, cl), 0);
		assert_int_equal(ig_atr_update(&atr, hi, lo, cl), 0);
		assert_int_equal(ig_stoch_update(&st, hi, lo, cl), 0);

		check_exact(E("sma20"), ig_sma_ready(&sma), ig_sma_value(&sma), "sma20", row);
		check_exact(E("wma20"), ig_wma_ready(&wma), ig_wma_value(&wma), "wma20", row);
		check_exact(E("vwap20"), ig_vwap_ready(&vwap), ig_vwap_px(&vwap), "vwap20", row);
		check_exact(E("don_hi20"), ig_donchian_ready(&don), ig_donchian_high_px(&don),
			    "don_hi20", row);
		check_exact(E("don_lo20"), ig_donchian_ready(&don), ig_donchian_low_px(&don),
			    "don_lo20", row);
		check_exact(E("don_mid20"), ig_donchian_ready(&don), ig_donchian_mid_px(&don),
			    "don_mid20", row);
		check_double(E("ema20"), ig_ema_ready(&ema), ig_ema_value(&ema), 1e-12, "ema20", row);
		check_double(E("rsi14"), ig_rsi_ready(&rsi), ig_rsi_value(&rsi), 1e-12, "rsi14", row);
		check_double(E("macd_line"), ig_macd_ready(&macd), ig_macd_line(&macd), 1.0,
			     "macd_line", row);
		check_double(E("macd_signal"), ig_macd_signal_ready(&macd), ig_macd_signal(&macd),
			     1.0, "macd_signal", row);
		check_double(E("macd_hist"), ig_macd_signal_ready(&macd), ig_macd_hist(&macd), 1.0,
			     "macd_hist", row);
		check_double(E("boll_mid"), ig_bollinger_ready(&boll), ig_bollinger_middle(&boll),
			     1e-12, "boll_mid", row);
		check_double(E("boll_up"), ig_bollinger_ready(&boll), ig_bollinger_upper(&boll),
			     1e-12, "boll_up", row);
		check_double(E("boll_lo"), ig_bollinger_ready(&boll), ig_bollinger_lower(&boll),
			     1e-12, "boll_lo", row);
		check_double(E("boll_sd"), ig_bollinger_ready(&boll), ig_bollinger_stddev(&boll),
			     1e-12, "boll_sd", row);
		check_double(E("atr14"), ig_atr_ready(&atr), ig_atr_value(&atr), 1e-12, "atr14", row);
		check_double(E("stoch_k"), ig_stoch_k_ready(&st), ig_stoch_k(&st), 1e-12, "stoch_k",
			     row);
		check_double(E("stoch_d"), ig_stoch_d_ready(&st), ig_stoch_d(&st), 1e-12, "stoch_d",
			     row);
		if (ig_macd_signal_ready(&macd))
			ready_rows++;
#undef E
	}
	/* The warm-ups the header states, seen from the outside. */
	assert_int_equal(ready_rows, ROWS - (26 + 9 - 1) + 1);

	ig_sma_free(&sma);
	ig_wma_free(&wma);
	ig_vwap_free(&vwap);
	ig_donchian_free(&don);
	ig_ema_free(&ema);
	ig_rsi_free(&rsi);
	ig_macd_free(&macd);
	ig_bollinger_free(&boll);
	ig_atr_free(&atr);
	ig_stoch_free(&st);
	free(data);
	free(fix);
}

static void test_fixture_trades(void **state)
{
	struct table *data = read_table("data/bitstamp_btcusd_trades_2011.csv");
	struct table *fix = read_table("test/indicators/fixtures/trades.csv");
	char **dh = data->cell[0], **h = fix->cell[0];
	int d_px = col_of(dh, data->ncol, "price"), d_qty = col_of(dh, data->ncol, "amount");
	struct ig_vwap vwap;
	struct ig_sma sma;
	struct ig_donchian don;

	(void)state;
	assert_int_equal(ig_vwap_init(&vwap, 50), 0);
	assert_int_equal(ig_sma_init(&sma, 50), 0);
	assert_int_equal(ig_donchian_init(&don, 50), 0);
	for (int r = 1; r <= ROWS; r++) {
		char **d = data->cell[r], **e = fix->cell[r];
		int64_t px = fx(d[d_px]), qty = fx(d[d_qty]);
		int row = r - 1;
#define E(name) e[col_of(h, fix->ncol, name)]
		assert_int_equal(px, i64(E("px")));
		assert_int_equal(qty, i64(E("qty")));
		assert_int_equal(ig_vwap_update(&vwap, px, qty), 0);
		assert_int_equal(ig_sma_update(&sma, px), 0);
		assert_int_equal(ig_donchian_update(&don, px, px), 0);
		check_exact(E("vwap50"), ig_vwap_ready(&vwap), ig_vwap_px(&vwap), "vwap50", row);
		check_exact(E("sma50"), ig_sma_ready(&sma), ig_sma_value(&sma), "sma50", row);
		check_exact(E("don_hi50"), ig_donchian_ready(&don), ig_donchian_high_px(&don),
			    "don_hi50", row);
		check_exact(E("don_lo50"), ig_donchian_ready(&don), ig_donchian_low_px(&don),
			    "don_lo50", row);
#undef E
	}
	ig_vwap_free(&vwap);
	ig_sma_free(&sma);
	ig_donchian_free(&don);
	free(data);
	free(fix);
}

/* ---------------------------------------------------------- edge tests */

static void test_period_one(void **state)
{
	struct ig_sma sma;
	struct ig_wma wma;
	struct ig_ema ema;
	struct ig_rsi rsi;
	struct ig_bollinger boll;
	struct ig_atr atr;
	struct ig_donchian don;
	struct ig_stoch st;
	struct ig_vwap vwap;
	struct ig_macd macd;
	const int64_t px[] = { IG_FIXED(10), IG_FIXED(12), IG_FIXED(11), IG_FIXED(11) };

	(void)state;
	assert_int_equal(ig_sma_init(&sma, 1), 0);
	assert_int_equal(ig_wma_init(&wma, 1), 0);
	assert_int_equal(ig_ema_init(&ema, 1), 0);
	assert_int_equal(ig_rsi_init(&rsi, 1), 0);
	assert_int_equal(ig_bollinger_init(&boll, 1, 2.0), 0);
	assert_int_equal(ig_atr_init(&atr, 1), 0);
	assert_int_equal(ig_donchian_init(&don, 1), 0);
	assert_int_equal(ig_stoch_init(&st, 1, 1), 0);
	assert_int_equal(ig_vwap_init(&vwap, 1), 0);
	assert_int_equal(ig_macd_init(&macd, 1, 2, 1), 0);

	assert_false(ig_sma_ready(&sma));
	assert_false(ig_rsi_ready(&rsi));
	for (size_t i = 0; i < sizeof px / sizeof px[0]; i++) {
		int64_t p = px[i];
		double pd = ig_fixed_to_double(p);

		ig_sma_update(&sma, p);
		ig_wma_update(&wma, p);
		ig_ema_update(&ema, p);
		ig_rsi_update(&rsi, p);
		ig_bollinger_update(&boll, p);
		assert_int_equal(ig_atr_update(&atr, p + IG_FIXED(1), p - IG_FIXED(1), p), 0);
		ig_donchian_update(&don, p + 1, p - 1);
		assert_int_equal(ig_stoch_update(&st, p + IG_FIXED(1), p - IG_FIXED(3), p), 0);
		ig_vwap_update(&vwap, p, IG_FIXED(2));
		ig_macd_update(&macd, p);

		assert_true(ig_sma_ready(&sma));
		assert_int_equal(ig_sma_value(&sma), p);
		assert_int_equal(ig_wma_value(&wma), p);
		assert_true(ig_ema_ready(&ema));
		assert_true(ig_ema_value(&ema) == pd);
		assert_true(ig_bollinger_ready(&boll));
		assert_true(ig_bollinger_width(&boll) == 0.0);
		assert_true(ig_bollinger_middle(&boll) == pd);
		assert_true(ig_atr_ready(&atr));
		assert_int_equal(ig_donchian_high_px(&don), p + 1);
		assert_int_equal(ig_donchian_low_px(&don), p - 1);
		assert_int_equal(ig_donchian_mid_px(&don), p);
		assert_true(ig_stoch_k_ready(&st) && ig_stoch_d_ready(&st));
		assert_true(ig_stoch_k(&st) == 75.0);
		assert_true(ig_stoch_d(&st) == 75.0);
		assert_int_equal(ig_vwap_px(&vwap), p);
		/* MACD(1, 2, 1): line from the 2nd price, signal = line. */
		assert_int_equal(ig_macd_ready(&macd), i >= 1);
		assert_int_equal(ig_macd_signal_ready(&macd), i >= 1);
		if (i >= 1)
			assert_true(ig_macd_hist(&macd) == 0.0);
		if (i == 0) {
			assert_false(ig_rsi_ready(&rsi));
			assert_true(ig_atr_value(&atr) == 2.0); /* high - low */
		}
	}
	/* RSI(1) follows the last change: up 100, down 0, flat (no loss) 100. */
	assert_true(ig_rsi_ready(&rsi));
	assert_true(ig_rsi_value(&rsi) == 100.0);
	{
		struct ig_rsi r1;
		assert_int_equal(ig_rsi_init(&r1, 1), 0);
		ig_rsi_update(&r1, IG_FIXED(5));
		ig_rsi_update(&r1, IG_FIXED(6));
		assert_true(ig_rsi_value(&r1) == 100.0);
		ig_rsi_update(&r1, IG_FIXED(4));
		assert_true(ig_rsi_value(&r1) == 0.0);
		ig_rsi_free(&r1);
	}
	/* ATR(1) = the last TR: max(1 - (-1) = 2, |12 - 10| ...). After 11, 11:
	 * the bar 10..12 against the previous close 11: TR 2. */
	assert_true(ig_atr_value(&atr) == 2.0);

	ig_sma_free(&sma);
	ig_wma_free(&wma);
	ig_ema_free(&ema);
	ig_rsi_free(&rsi);
	ig_bollinger_free(&boll);
	ig_atr_free(&atr);
	ig_donchian_free(&don);
	ig_stoch_free(&st);
	ig_vwap_free(&vwap);
	ig_macd_free(&macd);
}

static const int64_t bad_periods[] = { 0, -1, INT64_MIN, IG_IND_MAX_PERIOD + 1, INT64_MAX };

static void all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(b[i], 0);
}

static void test_bad_params_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++) {
		int64_t n = bad_periods[i];
		struct ig_sma sma;
		struct ig_wma wma;
		struct ig_ema ema;
		struct ig_rsi rsi;
		struct ig_bollinger boll;
		struct ig_atr atr;
		struct ig_donchian don;
		struct ig_stoch st;
		struct ig_vwap vwap;
		struct ig_macd macd;

		memset(&sma, 0x5a, sizeof sma);
		assert_int_equal(ig_sma_init(&sma, n), IG_EINVAL);
		all_zero(&sma, sizeof sma);
		assert_int_equal(ig_sma_update(&sma, 1), IG_EINVAL);
		assert_false(ig_sma_ready(&sma));
		assert_int_equal(ig_sma_value(&sma), 0);
		ig_sma_free(&sma);
		ig_sma_free(&sma);

		assert_int_equal(ig_wma_init(&wma, n), IG_EINVAL);
		assert_int_equal(ig_wma_update(&wma, 1), IG_EINVAL);
		ig_wma_free(&wma);
		assert_int_equal(ig_ema_init(&ema, n), IG_EINVAL);
		assert_int_equal(ig_ema_update(&ema, 1), IG_EINVAL);
		assert_false(ig_ema_ready(&ema));
		ig_ema_free(&ema);
		assert_int_equal(ig_rsi_init(&rsi, n), IG_EINVAL);
		assert_int_equal(ig_rsi_update(&rsi, 1), IG_EINVAL);
		ig_rsi_free(&rsi);
		assert_int_equal(ig_bollinger_init(&boll, n, 2.0), IG_EINVAL);
		assert_int_equal(ig_bollinger_update(&boll, 1), IG_EINVAL);
		ig_bollinger_free(&boll);
		assert_int_equal(ig_atr_init(&atr, n), IG_EINVAL);
		assert_int_equal(ig_atr_update(&atr, 2, 1, 1), IG_EINVAL);
		ig_atr_free(&atr);
		assert_int_equal(ig_donchian_init(&don, n), IG_EINVAL);
		assert_int_equal(ig_donchian_update(&don, 2, 1), IG_EINVAL);
		ig_donchian_free(&don);
		assert_int_equal(ig_stoch_init(&st, n, 3), IG_EINVAL);
		assert_int_equal(ig_stoch_init(&st, 14, n), IG_EINVAL);
		assert_int_equal(ig_stoch_update(&st, 2, 1, 1), IG_EINVAL);
		ig_stoch_free(&st);
		assert_int_equal(ig_vwap_init(&vwap, n), IG_EINVAL);
		assert_int_equal(ig_vwap_update(&vwap, 1, 1), IG_EINVAL);
		ig_vwap_free(&vwap);
		assert_int_equal(ig_macd_init(&macd, n, 26, 9), IG_EINVAL);
		assert_int_equal(ig_macd_init(&macd, 12, n, 9), IG_EINVAL);
		assert_int_equal(ig_macd_init(&macd, 12, 26, n), IG_EINVAL);
		assert_int_equal(ig_macd_update(&macd, 1), IG_EINVAL);
		ig_macd_free(&macd);
	}
	{
		struct ig_macd macd;
		struct ig_bollinger boll;
		struct ig_ema ema;

		assert_int_equal(ig_macd_init(&macd, 26, 26, 9), IG_EINVAL);
		assert_int_equal(ig_macd_init(&macd, 26, 12, 9), IG_EINVAL);
		assert_int_equal(ig_bollinger_init(&boll, 20, 0.0), IG_EINVAL);
		assert_int_equal(ig_bollinger_init(&boll, 20, -2.0), IG_EINVAL);
		assert_int_equal(ig_bollinger_init(&boll, 20, NAN), IG_EINVAL);
		assert_int_equal(ig_bollinger_init(&boll, 20, INFINITY), IG_EINVAL);
		assert_int_equal(ig_ema_init(&ema, 3), 0);
		assert_int_equal(ig_ema_update_f(&ema, NAN), IG_EINVAL);
		assert_int_equal(ig_ema_update_f(&ema, INFINITY), IG_EINVAL);
		assert_false(ig_ema_ready(&ema));
		assert_int_equal(ema.seen, 0);
	}
	assert_int_equal(ig_sma_init(NULL, 5), IG_EINVAL);
	assert_int_equal(ig_cross_init(NULL), IG_EINVAL);
	ig_sma_free(NULL);
	ig_stoch_free(NULL);
}

static void test_constant_series(void **state)
{
	const int64_t c = fx("612.34567891");
	struct ig_sma sma;
	struct ig_wma wma;
	struct ig_ema ema;
	struct ig_rsi rsi;
	struct ig_bollinger boll;
	struct ig_atr atr;
	struct ig_stoch st;
	struct ig_macd macd;
	struct ig_vwap vwap;

	(void)state;
	assert_int_equal(ig_sma_init(&sma, 20), 0);
	assert_int_equal(ig_wma_init(&wma, 20), 0);
	assert_int_equal(ig_ema_init(&ema, 20), 0);
	assert_int_equal(ig_rsi_init(&rsi, 14), 0);
	assert_int_equal(ig_bollinger_init(&boll, 20, 2.0), 0);
	assert_int_equal(ig_atr_init(&atr, 14), 0);
	assert_int_equal(ig_stoch_init(&st, 14, 3), 0);
	assert_int_equal(ig_macd_init(&macd, 12, 26, 9), 0);
	assert_int_equal(ig_vwap_init(&vwap, 20), 0);
	for (int i = 0; i < 200; i++) {
		ig_sma_update(&sma, c);
		ig_wma_update(&wma, c);
		ig_ema_update(&ema, c);
		ig_rsi_update(&rsi, c);
		ig_bollinger_update(&boll, c);
		ig_atr_update(&atr, c, c, c);
		ig_stoch_update(&st, c, c, c);
		ig_macd_update(&macd, c);
		ig_vwap_update(&vwap, c, IG_FIXED(1) / 3);
		/* Warm-ups: RSI needs n + 1 prices, the others n. */
		assert_int_equal(ig_rsi_ready(&rsi), i >= 14);
		assert_int_equal(ig_sma_ready(&sma), i >= 19);
		assert_int_equal(ig_atr_ready(&atr), i >= 13);
		assert_int_equal(ig_stoch_k_ready(&st), i >= 13);
		assert_int_equal(ig_stoch_d_ready(&st), i >= 15);
	}
	assert_int_equal(ig_sma_value(&sma), c);
	assert_int_equal(ig_wma_value(&wma), c);
	assert_int_equal(ig_vwap_px(&vwap), c);
	assert_true(fabs(ig_ema_value(&ema) - ig_fixed_to_double(c)) < 1e-9);
	assert_true(ig_rsi_value(&rsi) == 100.0); /* no losses */
	assert_true(ig_bollinger_stddev(&boll) == 0.0);
	assert_true(ig_bollinger_width(&boll) == 0.0);
	assert_true(ig_bollinger_upper(&boll) == ig_bollinger_lower(&boll));
	assert_true(ig_bollinger_middle(&boll) == ig_bollinger_upper(&boll));
	assert_true(ig_atr_value(&atr) == 0.0);
	assert_true(ig_stoch_k(&st) == 50.0); /* HH == LL */
	assert_true(ig_stoch_d(&st) == 50.0);
	assert_true(fabs(ig_macd_line(&macd)) < 1e-9);
	assert_true(fabs(ig_macd_hist(&macd)) < 1e-9);

	ig_sma_free(&sma);
	ig_wma_free(&wma);
	ig_ema_free(&ema);
	ig_rsi_free(&rsi);
	ig_bollinger_free(&boll);
	ig_atr_free(&atr);
	ig_stoch_free(&st);
	ig_macd_free(&macd);
	ig_vwap_free(&vwap);
}

static void test_cross_equal_values(void **state)
{
	struct ig_cross c;

	(void)state;
	assert_int_equal(ig_cross_init(&c), 0);
	assert_int_equal(ig_cross_side(&c), 0);
	/* Equal from the start: nothing known, nothing crossed. */
	assert_int_equal(ig_cross_update(&c, 1.0, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_side(&c), 0);
	/* The first strict relation is not a cross. */
	assert_int_equal(ig_cross_update(&c, 2.0, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_side(&c), 1);
	/* Touching and going back is not a cross. */
	assert_int_equal(ig_cross_update(&c, 1.0, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_update(&c, 3.0, 1.0), IG_CROSS_NONE);
	/* Through equality: reported once, on the first strict update below. */
	assert_int_equal(ig_cross_update(&c, 1.0, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_update(&c, 1.0, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_update(&c, 0.5, 1.0), IG_CROSS_BELOW);
	assert_int_equal(ig_cross_update(&c, 0.4, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_update(&c, NAN, 1.0), IG_CROSS_NONE);
	assert_int_equal(ig_cross_side(&c), -1);
	/* Straight across. */
	assert_int_equal(ig_cross_update(&c, 1.5, 1.0), IG_CROSS_ABOVE);
	/* Fixed-point: exact comparison, one unit decides. */
	assert_int_equal(ig_cross_update_fixed(&c, 100, 100), IG_CROSS_NONE);
	assert_int_equal(ig_cross_update_fixed(&c, 99, 100), IG_CROSS_BELOW);
	assert_int_equal(ig_cross_update_fixed(&c, INT64_MAX, INT64_MAX - 1), IG_CROSS_ABOVE);
	ig_cross_free(&c);
	assert_int_equal(ig_cross_side(&c), 0);
}

/* Bad input is refused and the indicator carries on as if it never came. */
static void test_bad_input_loses_nothing(void **state)
{
	struct ig_vwap v;
	struct ig_donchian d;
	struct ig_stoch s;
	struct ig_atr a;
	struct ig_vwap big;

	(void)state;
	assert_int_equal(ig_vwap_init(&v, 2), 0);
	assert_int_equal(ig_vwap_update(&v, IG_FIXED(10), IG_FIXED(1)), 0);
	assert_int_equal(ig_vwap_update(&v, IG_FIXED(20), IG_FIXED(3)), 0);
	assert_int_equal(ig_vwap_px(&v), fx("17.5"));
	assert_int_equal(ig_vwap_update(&v, IG_FIXED(30), -1), IG_EINVAL);
	assert_int_equal(ig_vwap_px(&v), fx("17.5"));
	/* Zero quantity in the whole window: not ready. */
	assert_int_equal(ig_vwap_update(&v, IG_FIXED(30), 0), 0);
	assert_int_equal(ig_vwap_px(&v), IG_FIXED(20));
	assert_int_equal(ig_vwap_update(&v, IG_FIXED(40), 0), 0);
	assert_false(ig_vwap_ready(&v));
	assert_int_equal(ig_vwap_px(&v), 0);
	ig_vwap_free(&v);

	/* A window whose sum of px * qty leaves 128 bits: refused, unchanged. */
	assert_int_equal(ig_vwap_init(&big, 4), 0);
	assert_int_equal(ig_vwap_update(&big, INT64_MAX, INT64_MAX), 0);
	assert_int_equal(ig_vwap_update(&big, INT64_MAX, INT64_MAX), 0); /* ~2^127 - 2^65 */
	assert_int_equal(ig_vwap_update(&big, INT64_MAX, INT64_MAX), IG_EOVERFLOW);
	assert_int_equal(ig_vwap_update(&big, 5, 1), 0);
	assert_int_equal(ig_vwap_update(&big, 7, 1), 0);
	assert_int_equal(ig_vwap_update(&big, 9, 1), 0);
	assert_int_equal(ig_vwap_update(&big, 11, 1), 0); /* the big one leaves */
	assert_int_equal(ig_vwap_px(&big), 8);
	/* A negative px is allowed (a spread), extremes included. */
	assert_int_equal(ig_vwap_update(&big, INT64_MIN, INT64_MAX), 0);
	assert_true(ig_vwap_ready(&big));
	ig_vwap_free(&big);

	assert_int_equal(ig_donchian_init(&d, 2), 0);
	assert_int_equal(ig_donchian_update(&d, 10, 5), 0);
	assert_int_equal(ig_donchian_update(&d, 4, 5), IG_EINVAL);
	assert_false(ig_donchian_ready(&d));
	assert_int_equal(ig_donchian_update(&d, 8, 6), 0);
	assert_int_equal(ig_donchian_high_px(&d), 10);
	assert_int_equal(ig_donchian_low_px(&d), 5);
	ig_donchian_free(&d);

	assert_int_equal(ig_stoch_init(&s, 1, 1), 0);
	assert_int_equal(ig_stoch_update(&s, 10, 5, 11), IG_EINVAL);
	assert_int_equal(ig_stoch_update(&s, 10, 5, 4), IG_EINVAL);
	assert_int_equal(ig_stoch_update(&s, 4, 5, 4), IG_EINVAL);
	assert_false(ig_stoch_k_ready(&s));
	assert_int_equal(ig_stoch_update(&s, 10, 5, 10), 0);
	assert_true(ig_stoch_k(&s) == 100.0);
	ig_stoch_free(&s);

	assert_int_equal(ig_atr_init(&a, 1), 0);
	assert_int_equal(ig_atr_update(&a, 4, 5, 4), IG_EINVAL);
	assert_false(ig_atr_ready(&a));
	assert_int_equal(ig_atr_update(&a, IG_FIXED(5), IG_FIXED(4), IG_FIXED(4)), 0);
	assert_true(ig_atr_value(&a) == 1.0);
	ig_atr_free(&a);
}

/* Exact results round once, halves away from zero; int64 extremes are fine. */
static void test_exact_rounding_and_extremes(void **state)
{
	struct ig_sma s;
	struct ig_wma w;
	struct ig_bollinger b;
	struct ig_donchian d;

	(void)state;
	assert_int_equal(ig_sma_init(&s, 2), 0);
	ig_sma_update(&s, 1);
	ig_sma_update(&s, 2);
	assert_int_equal(ig_sma_value(&s), 2); /* 1.5 -> 2 */
	ig_sma_update(&s, -2);
	assert_int_equal(ig_sma_value(&s), 0); /* 0 */
	ig_sma_update(&s, -1);
	assert_int_equal(ig_sma_value(&s), -2); /* -1.5 -> -2 */
	ig_sma_free(&s);

	assert_int_equal(ig_sma_init(&s, 3), 0);
	for (int i = 0; i < 5; i++)
		ig_sma_update(&s, INT64_MAX);
	assert_int_equal(ig_sma_value(&s), INT64_MAX);
	for (int i = 0; i < 3; i++)
		ig_sma_update(&s, INT64_MIN);
	assert_int_equal(ig_sma_value(&s), INT64_MIN);
	ig_sma_free(&s);

	/* WMA(3) of 1, 0, 0: 1*1 / 6 -> 0; of 0, 0, 1: 3/6 = 0.5 -> 1. */
	assert_int_equal(ig_wma_init(&w, 3), 0);
	ig_wma_update(&w, 1);
	ig_wma_update(&w, 0);
	ig_wma_update(&w, 0);
	assert_int_equal(ig_wma_value(&w), 0);
	ig_wma_update(&w, 1);
	assert_int_equal(ig_wma_value(&w), 1); /* 0,0,1: 3/6 */
	ig_wma_update(&w, -1);
	ig_wma_update(&w, -1);
	ig_wma_update(&w, 0);
	assert_int_equal(ig_wma_value(&w), -1); /* -1,-1,0: -3/6 -> -1 */
	for (int i = 0; i < 3; i++)
		ig_wma_update(&w, INT64_MAX);
	assert_int_equal(ig_wma_value(&w), INT64_MAX);
	ig_wma_free(&w);

	/* Bollinger at the extremes: the 192-bit sums hold them exactly. */
	assert_int_equal(ig_bollinger_init(&b, 4, 1.0), 0);
	for (int i = 0; i < 6; i++)
		ig_bollinger_update(&b, INT64_MIN);
	assert_true(ig_bollinger_stddev(&b) == 0.0);
	for (int i = 0; i < 4; i++)
		ig_bollinger_update(&b, i % 2 ? INT64_MAX : INT64_MIN);
	/* Two values a unit apart from +/-2^63: sigma = (2^64 - 1) / 2. */
	assert_true(fabs(ig_bollinger_stddev(&b) * 1e8 / 9223372036854775807.5 - 1.0) < 1e-12);
	ig_bollinger_free(&b);

	assert_int_equal(ig_donchian_init(&d, 2), 0);
	ig_donchian_update(&d, INT64_MAX, INT64_MAX);
	ig_donchian_update(&d, INT64_MAX, INT64_MAX);
	assert_int_equal(ig_donchian_mid_px(&d), INT64_MAX);
	ig_donchian_update(&d, INT64_MIN, INT64_MIN);
	assert_int_equal(ig_donchian_mid_px(&d), -1); /* (MAX + MIN) / 2 = -0.5 -> -1 */
	ig_donchian_free(&d);
}

/* xorshift64*: deterministic. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* Brute force over the window for the exact indicators, on random series
 * with many ties (small ranges) and with full-range values. */
static void test_exact_against_brute_force(void **state)
{
	static const int64_t periods[] = { 1, 2, 3, 7, 64 };
	uint64_t seed = 0x1d1ca705ULL;
	enum { LEN = 3000 };
	static int64_t hi[LEN], lo[LEN], qty[LEN];

	(void)state;
	for (size_t pi = 0; pi < sizeof periods / sizeof periods[0]; pi++) {
		for (int mode = 0; mode < 2; mode++) {
			int64_t n = periods[pi];
			struct ig_sma s;
			struct ig_wma w;
			struct ig_donchian d;
			struct ig_vwap v;

			assert_int_equal(ig_sma_init(&s, n), 0);
			assert_int_equal(ig_wma_init(&w, n), 0);
			assert_int_equal(ig_donchian_init(&d, n), 0);
			assert_int_equal(ig_vwap_init(&v, n), 0);
			for (int t = 0; t < LEN; t++) {
				uint64_t r = rng_next(&seed);
				if (mode == 0) {
					hi[t] = (int64_t)(r % 9) - 4;
					lo[t] = hi[t] - (int64_t)(rng_next(&seed) % 3);
					qty[t] = (int64_t)(rng_next(&seed) % 4);
				} else {
					hi[t] = (int64_t)r;
					lo[t] = hi[t] == INT64_MIN ? hi[t] : hi[t] - 1;
					qty[t] = (int64_t)(rng_next(&seed) >> 1);
				}
				assert_int_equal(ig_sma_update(&s, hi[t]), 0);
				assert_int_equal(ig_wma_update(&w, hi[t]), 0);
				assert_int_equal(ig_donchian_update(&d, hi[t], lo[t]), 0);
				if (mode == 0)
					assert_int_equal(ig_vwap_update(&v, hi[t], qty[t]), 0);
				if (t < n - 1) {
					assert_false(ig_sma_ready(&s));
					assert_false(ig_donchian_ready(&d));
					continue;
				}
				{
					ig_i128 sum = 0, wsum = 0, pq = 0, q = 0;
					int64_t mx = INT64_MIN, mn = INT64_MAX;
					for (int64_t j = 0; j < n; j++) {
						int64_t x = hi[t - n + 1 + j];
						sum += x;
						wsum += (ig_i128)(j + 1) * x;
						if (mode == 0) { /* full range would overflow */
							pq += (ig_i128)x * qty[t - n + 1 + j];
							q += qty[t - n + 1 + j];
						}
						if (x > mx)
							mx = x;
						if (lo[t - n + 1 + j] < mn)
							mn = lo[t - n + 1 + j];
					}
					assert_true(ig_sma_ready(&s));
					/* sum/n rounded: compare via the remainder. */
					{
						ig_i128 got = ig_sma_value(&s);
						ig_i128 diff2 = 2 * (sum - got * n);
						assert_true(diff2 <= n && diff2 >= -n);
						if (diff2 == n)
							assert_true(sum < 0);
						if (diff2 == -n)
							assert_true(sum > 0);
					}
					{
						ig_i128 den = (ig_i128)n * (n + 1) / 2;
						ig_i128 got = ig_wma_value(&w);
						ig_i128 diff2 = 2 * (wsum - got * den);
						assert_true(diff2 <= den && diff2 >= -den);
						if (diff2 == den)
							assert_true(wsum < 0);
						if (diff2 == -den)
							assert_true(wsum > 0);
					}
					assert_int_equal(ig_donchian_high_px(&d), mx);
					assert_int_equal(ig_donchian_low_px(&d), mn);
					if (mode == 0) {
						assert_int_equal(ig_vwap_ready(&v), q > 0);
						if (q > 0) {
							ig_i128 got = ig_vwap_px(&v);
							ig_i128 diff2 = 2 * (pq - got * q);
							assert_true(diff2 <= q && diff2 >= -q);
						}
					}
				}
			}
			ig_sma_free(&s);
			ig_wma_free(&w);
			ig_donchian_free(&d);
			ig_vwap_free(&v);
		}
	}
}

/* Walks up from the working directory to the repository root (where
 * data/README.md is), so the binary can be started from anywhere inside. */
static void chdir_to_root(void)
{
	for (int i = 0; i < 5; i++) {
		if (access("data/README.md", R_OK) == 0)
			return;
		if (chdir("..") != 0)
			return;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_bars),
		cmocka_unit_test(test_fixture_trades),
		cmocka_unit_test(test_period_one),
		cmocka_unit_test(test_bad_params_refused),
		cmocka_unit_test(test_constant_series),
		cmocka_unit_test(test_cross_equal_values),
		cmocka_unit_test(test_bad_input_loses_nothing),
		cmocka_unit_test(test_exact_rounding_and_extremes),
		cmocka_unit_test(test_exact_against_brute_force),
	};

	chdir_to_root();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
