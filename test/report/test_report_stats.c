/*
 * test_report_stats.c - the report collector (src/report/) fed directly: a
 * hand-computed case of twelve 12-hourly equity samples (a day without
 * data, two recovered drawdowns, one still open at the end) and four closed
 * round trips (partial exits with fees, in and out within one bar, a flip
 * short -> long) plus one open at the end checks every statistic,
 * trades.csv and equity.csv; a drawdown that never recovers; a drawdown
 * only at the last sample (no episode); a flat curve (sharpe null); tick
 * data's time-share exposure; the series downsampler's bound; undefined
 * stats are JSON null; the stat table's names, formatter and double
 * accessor.
 *
 * Expected values come from test/report/gen_stats_expected.py, which
 * computes them independently (plain Python) from the formulas in
 * docs/backtesting.md, "Reports"; its cases are the ones below.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"
#include "report/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DAY INT64_C(86400000000000)
#define HOUR INT64_C(3600000000000)
#define T0 (INT64_C(1704067200) * INT64_C(1000000000) + DAY / 2) /* 2024-01-01T12:00Z */
#define T00 (INT64_C(1704067200) * INT64_C(1000000000))           /* 2024-01-01T00:00Z */
#define FX(s) fx_parse(s)

static int64_t fx_parse(const char *s)
{
	int64_t v = 0;
	assert_int_equal(ig_fixed_parse_cstr(s, &v), 0);
	return v;
}

static void near(double got, double want)
{
	if (fabs(got - want) > 1e-5 * (fabs(want) > 1 ? fabs(want) : 1)) {
		print_error("got %.9f want %.9f\n", got, want);
		fail();
	}
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ig_report_stats_XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct ig_report *make(const char *d, uint32_t points)
{
	static const char *names[] = { "s0" };
	static const char *syms[] = { "X" };
	static const int64_t cap[] = { IG_FIXED(1000) };
	struct ig_report_opts o = { .dir = d, .nstrategies = 1, .strategy_names = names,
				    .capital = cap, .symbols = syms, .ninstruments = 1,
				    .annual_days = 365, .chart_points = points };
	struct ig_report *r = NULL;
	char err[256];
	assert_int_equal(ig_report_new(&r, &o, err, sizeof(err)), 0);
	return r;
}

static void fill(struct ig_report *r, int64_t ts, int side, const char *px, const char *qty,
		 const char *fee, const char *pos_after)
{
	ig_report_fill(r, 0, 0, ts, side, FX(px), FX(qty), FX(fee), 0, FX(pos_after));
}

static size_t lines(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;
	int c;
	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_hand_computed(void **state)
{
	/* gen_stats_expected.py, case 1: hours from 00:00Z, equity, price */
	static const int hours[] = { 0, 12, 24, 36, 48, 60, 96, 108, 120, 132, 144, 156 };
	static const char *eq[] = { "1000", "1000", "1040", "1010", "980", "1060",
				    "1050", "1030", "1045", "1075", "1020", "990" };
	static const char *px[] = { "100", "102", "104", "101", "98", "106",
				    "106", "103", "104", "107", "102", "105" };
	struct ig_report *r = make(dir, 64);
	struct ig_report_stats st;
	char path[128], buf[512];
	FILE *f;
	(void)state;

	for (int i = 0; i < 12; i++) {
		int64_t t = T00 + hours[i] * HOUR;
		ig_report_price(r, 0, t, FX(px[i]));
		switch (i) {
		case 1: fill(r, t, IG_SIDE_BUY, "102", "2", "0.5", "2"); break;
		case 3: fill(r, t, IG_SIDE_SELL, "101", "1", "0.25", "1"); break;
		case 4: fill(r, t, IG_SIDE_SELL, "98", "1", "0.25", "0"); break;
		case 5:
			fill(r, t, IG_SIDE_BUY, "106", "1", "0", "1");
			fill(r, t, IG_SIDE_SELL, "107", "1", "0", "0");
			break;
		case 7: fill(r, t, IG_SIDE_SELL, "103", "2", "0", "-2"); break;
		case 8: fill(r, t, IG_SIDE_BUY, "104", "3", "0", "1"); break;
		case 9: fill(r, t, IG_SIDE_SELL, "107", "1", "0.1", "0"); break;
		case 10: fill(r, t, IG_SIDE_BUY, "102", "1", "0", "1"); break;
		}
		ig_report_equity(r, 0, t, FX(eq[i]), FX(eq[i]), 0);
	}
	assert_int_equal(ig_report_finish(r, &st), 0);

	assert_int_equal(st.equity_initial, IG_FIXED(1000));
	assert_int_equal(st.equity_final, FX("990"));
	assert_int_equal(st.equity_peak, FX("1075"));
	assert_int_equal(st.cash_final, FX("990"));
	assert_int_equal(st.trades, 4);
	assert_int_equal(st.open_trades, 1);
	assert_int_equal(st.duration_s, 156 * 3600);
	assert_int_equal(st.max_drawdown_duration_s, 259200);
	assert_int_equal(st.fees, FX("1.1"));
	assert_int_equal(st.expectancy, FX("-1.025"));
	near(st.return_pct, -1.0);
	near(st.return_ann_pct, -45.740681085);
	near(st.buy_hold_return_pct, 5.0);
	near(st.cagr_pct, -43.127883751);
	near(st.max_drawdown_pct, -7.906976744);
	near(st.avg_drawdown_pct, -5.502132064);
	near(st.win_rate_pct, 50);
	near(st.best_trade_pct, 2.788461538);
	near(st.worst_trade_pct, -2.941176471);
	near(st.avg_trade_pct, -0.067888916);
	near(st.profit_factor, 0.953939116);
	near(st.expectancy_pct, -0.045048123);
	near(st.sqn, -0.528091580);
	near(st.sharpe, -0.617461678);
	near(st.sortino, -0.637460806);
	near(st.calmar, -5.784850843);
	near(st.volatility_ann_pct, 74.078574737);
	near(st.exposure_pct, 83.333333333);
	assert_true(st.defined == (UINT64_C(1) << IG_RS__COUNT) - 1);

	/* trades.csv: the four round trips; return_pct is the trade return. */
	snprintf(path, sizeof(path), "%s/trades.csv", dir);
	assert_int_equal(lines(path), 5);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "strategy,symbol,entry_ts,exit_ts,side,qty,entry_px,exit_px,pnl,fees,"
				 "return_pct,bars_held\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-01T12:00:00Z,2024-01-03T00:00:00Z,long,2,102,99.5,-6,1,"
				 "-2.941176,3\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-03T12:00:00Z,2024-01-03T12:00:00Z,long,1,106,107,1,0,"
				 "0.943396,0\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-05T12:00:00Z,2024-01-06T00:00:00Z,short,2,103,104,-2,0,"
				 "-0.970874,1\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-06T00:00:00Z,2024-01-06T12:00:00Z,long,1,104,107,2.9,0.1,"
				 "2.788462,1\n");
	fclose(f);
	/* equity.csv: a header and twelve rows; the last is equity_final. */
	snprintf(path, sizeof(path), "%s/equity.csv", dir);
	assert_int_equal(lines(path), 13);

	snprintf(path, sizeof(path), "%s/stats.json", dir);
	assert_int_equal(ig_report_write_stats(r, &st, path), 0);
	{
		json_error_t je;
		json_t *root = json_load_file(path, 0, &je), *s;
		assert_non_null(root);
		s = json_object_get(json_array_get(json_object_get(root, "strategies"), 0), "stats");
		assert_string_equal(json_string_value(json_object_get(s, "equity_final")), "990");
		assert_string_equal(json_string_value(json_object_get(s, "expectancy")), "-1.025");
		near(json_real_value(json_object_get(s, "sharpe")), -0.617461678);
		near(json_real_value(json_object_get(s, "return_ann_pct")), -45.740681085);
		near(json_real_value(json_object_get(s, "expectancy_pct")), -0.045048123);
		near(json_real_value(json_object_get(s, "max_drawdown_pct")), -7.906976744);
		assert_int_equal(json_integer_value(json_object_get(s, "trades")), 4);
		json_decref(root);
	}
	ig_report_free(r);
}

/* A report of daily samples without trades (gen_stats_expected.py). */
static void daily(struct ig_report *r, const char *const *eq, int n)
{
	for (int d = 0; d < n; d++) {
		ig_report_price(r, 0, T0 + d * DAY, IG_FIXED(100));
		ig_report_equity(r, 0, T0 + d * DAY, FX(eq[d]), FX(eq[d]), 0);
	}
}

/* A drawdown from the second sample to the end that never recovers: the
 * last sample ends the episode (case 2); a drawdown only at the last
 * sample, right after a peak, is in max_drawdown_pct but is no episode
 * (case 3). */
static void test_drawdown_unrecovered(void **state)
{
	static const char *eq2[] = { "1000", "1100", "1050", "990", "1020" };
	static const char *eq3[] = { "1000", "1000", "900" };
	struct ig_report *r = make(NULL, 16);
	struct ig_report_stats st;
	(void)state;

	daily(r, eq2, 5);
	assert_int_equal(ig_report_finish(r, &st), 0);
	assert_int_equal(st.equity_final, FX("1020"));
	assert_int_equal(st.equity_peak, FX("1100"));
	near(st.return_pct, 2.0);
	near(st.max_drawdown_pct, -10.0);
	near(st.avg_drawdown_pct, -10.0);
	assert_int_equal(st.max_drawdown_duration_s, 3 * 86400);
	near(st.return_ann_pct, 324.436318255);
	near(st.volatility_ann_pct, 1031.937867474);
	near(st.sharpe, 0.314395206);
	near(st.sortino, 4.651483717);
	near(st.calmar, 32.443631826);
	near(st.cagr_pct, 509.208105913);
	near(st.buy_hold_return_pct, 0);
	near(st.exposure_pct, 0);
	assert_false(ig_report_stat_defined(&st, IG_RS_win_rate_pct));
	ig_report_free(r);

	r = make(NULL, 16);
	daily(r, eq3, 3);
	assert_int_equal(ig_report_finish(r, &st), 0);
	near(st.max_drawdown_pct, -10.0);
	near(st.return_pct, -10.0);
	near(st.calmar, -9.999972908);
	assert_false(ig_report_stat_defined(&st, IG_RS_avg_drawdown_pct));
	assert_false(ig_report_stat_defined(&st, IG_RS_max_drawdown_duration_s));
	ig_report_free(r);
}

/* Tick data: exposure is the share of data time with a position. */
static void test_exposure_ticks(void **state)
{
	struct ig_report *r = make(NULL, 16);
	struct ig_report_stats st;
	int64_t s = INT64_C(1000000000);
	(void)state;

	ig_report_set_ticks(r);
	ig_report_price(r, 0, T0, IG_FIXED(100));
	ig_report_equity(r, 0, T0, IG_FIXED(1000), IG_FIXED(1000), 0);
	ig_report_price(r, 0, T0 + 10 * s, IG_FIXED(100));
	fill(r, T0 + 10 * s, IG_SIDE_BUY, "100", "1", "0", "1");
	ig_report_price(r, 0, T0 + 20 * s, IG_FIXED(100));
	fill(r, T0 + 20 * s, IG_SIDE_SELL, "100", "1", "0", "0");
	ig_report_price(r, 0, T0 + 40 * s, IG_FIXED(100));
	ig_report_equity(r, 0, T0 + 40 * s, IG_FIXED(1000), IG_FIXED(1000), 0);
	assert_int_equal(ig_report_finish(r, &st), 0);
	near(st.exposure_pct, 25.0);
	assert_int_equal(st.trades, 1);
	ig_report_free(r);
}

/* No trades, a flat curve: every ratio that divides by zero is null
 * (sharpe: the volatility is 0); max drawdown is 0, not -0. */
static void test_undefined_is_null(void **state)
{
	struct ig_report *r = make(dir, 16);
	struct ig_report_stats st;
	char path[128], buf[64];
	(void)state;

	for (int d = 0; d < 3; d++) {
		ig_report_price(r, 0, T0 + d * DAY, IG_FIXED(100));
		ig_report_equity(r, 0, T0 + d * DAY, IG_FIXED(1000), IG_FIXED(1000), 0);
	}
	assert_int_equal(ig_report_finish(r, &st), 0);
	assert_int_equal(st.trades, 0);
	assert_false(ig_report_stat_defined(&st, IG_RS_win_rate_pct));
	assert_false(ig_report_stat_defined(&st, IG_RS_profit_factor));
	assert_false(ig_report_stat_defined(&st, IG_RS_expectancy));
	assert_false(ig_report_stat_defined(&st, IG_RS_sqn));
	assert_false(ig_report_stat_defined(&st, IG_RS_sharpe));
	assert_false(ig_report_stat_defined(&st, IG_RS_sortino));
	assert_false(ig_report_stat_defined(&st, IG_RS_calmar));
	assert_true(ig_report_stat_defined(&st, IG_RS_max_drawdown_pct));
	assert_true(st.max_drawdown_pct == 0 && !signbit(st.max_drawdown_pct));
	assert_false(ig_report_stat_defined(&st, IG_RS_avg_drawdown_pct));
	assert_false(ig_report_stat_defined(&st, IG_RS_max_drawdown_duration_s));
	assert_true(ig_report_stat_defined(&st, IG_RS_volatility_ann_pct));
	near(st.volatility_ann_pct, 0);
	near(st.return_ann_pct, 0);
	near(st.return_pct, 0);
	near(st.cagr_pct, 0);
	near(st.exposure_pct, 0);
	assert_false(ig_report_stat_defined(&st, IG_RS_expectancy_pct));
	assert_true(isnan(ig_report_stat_double(&st, IG_RS_sharpe)));
	assert_int_equal(ig_report_stat_format(&st, IG_RS_sharpe, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	assert_int_equal(ig_report_write_stats(r, &st, path), 0);
	{
		json_error_t je;
		json_t *root = json_load_file(path, 0, &je), *s;
		assert_non_null(root);
		s = json_object_get(json_array_get(json_object_get(root, "strategies"), 0), "stats");
		assert_true(json_is_null(json_object_get(s, "sharpe")));
		assert_true(json_is_null(json_object_get(s, "profit_factor")));
		assert_true(json_is_null(json_object_get(s, "win_rate_pct")));
		json_decref(root);
	}
	ig_report_free(r);
}

/* The stat table: names in order, lookup, formatter, double accessor. */
static void test_stat_table(void **state)
{
	struct ig_report_stats st;
	char buf[64];
	(void)state;

	memset(&st, 0, sizeof(st));
	assert_string_equal(ig_report_stat_name(IG_RS_equity_final), "equity_final");
	assert_int_equal(ig_report_stat_find("sharpe"), IG_RS_sharpe);
	assert_int_equal(ig_report_stat_find("nope"), -1);
	assert_null(ig_report_stat_name(IG_RS__COUNT));
	assert_int_equal(ig_report_stat_kind(IG_RS_fees), IG_RK_MONEY);
	st.fees = FX("12.5");
	st.trades = 7;
	st.sharpe = 1.25;
	st.defined = UINT64_C(1) << IG_RS_fees | UINT64_C(1) << IG_RS_trades |
		     UINT64_C(1) << IG_RS_sharpe;
	ig_report_stat_format(&st, IG_RS_fees, buf, sizeof(buf));
	assert_string_equal(buf, "12.5");
	ig_report_stat_format(&st, IG_RS_trades, buf, sizeof(buf));
	assert_string_equal(buf, "7");
	ig_report_stat_format(&st, IG_RS_sharpe, buf, sizeof(buf));
	assert_string_equal(buf, "1.250000");
	near(ig_report_stat_double(&st, IG_RS_fees), 12.5);
	near(ig_report_stat_double(&st, IG_RS_trades), 7);
	assert_true(isnan(ig_report_stat_double(&st, IG_RS_sortino)));
}

/* A long run: the chart series stay within chart_points, and memory does
 * not grow with the samples (no files: dir NULL). */
static void test_series_bounded(void **state)
{
	struct ig_report *r = make(NULL, 16);
	struct ig_report_stats st;
	const struct ig__report_series *sr;
	const char *sym;
	(void)state;

	for (int64_t i = 0; i < 100000; i++) {
		ig_report_price(r, 0, T0 + i * 60000000000, IG_FIXED(100) + i);
		ig_report_equity(r, 0, T0 + i * 60000000000, IG_FIXED(1000) + (i % 7) * 1000, 0, 0);
	}
	assert_int_equal(ig_report_finish(r, &st), 0);
	sr = ig__report_equity_series(r, 0);
	assert_true(sr->n <= 16);
	assert_true(sr->n >= 8);
	assert_int_equal(sr->p[sr->n - 1].v, IG_FIXED(1000) + (99999 % 7) * 1000);
	sr = ig__report_price_series(r, 0, &sym);
	assert_string_equal(sym, "X");
	assert_true(sr->n <= 16);
	ig_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hand_computed, setup, teardown),
		cmocka_unit_test(test_drawdown_unrecovered),
		cmocka_unit_test(test_exposure_ticks),
		cmocka_unit_test_setup_teardown(test_undefined_is_null, setup, teardown),
		cmocka_unit_test(test_stat_table),
		cmocka_unit_test(test_series_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
