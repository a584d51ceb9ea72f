/*
 * test_report_stats.c - the report collector (src/report/) fed directly: a
 * hand-computed case of seven daily equity samples and four round trips
 * (a plain long, a flip long -> short, partial exits, an open trade at the
 * end) checks every statistic, trades.csv and equity.csv; the flip's
 * split; the series downsampler's bound; undefined stats are JSON null;
 * the stat table's names, formatter and double accessor.
 *
 * Expected values were computed by hand (python) from the definitions in
 * docs/backtesting-reports.md:
 *   equities 1000 1100 990 1050 1155 1108.8 1097.25 (capital 1000, one a day)
 *   daily returns 0, .1, -.1, .0606.., .1, -.04, -.0104..
 *   sharpe 4.015967, sortino 7.353370, volatility 143.068640 %,
 *   cagr 12537.134163 % (365/7 days), calmar 1253.713416,
 *   drawdown episodes: 10 % (day 1 -> day 4, 3 days) and 5 % (day 4 ->
 *   end, unrecovered), so max 10, avg 7.5, max duration 259200 s
 *   trades pnl 8, -10, 20, 0: win rate 50, profit factor 2.8,
 *   expectancy 4.5, sqn 0.709299, best 11.111111 %, worst -10 %,
 *   avg 2.277778 %; exposure 3 of 6 days = 50 %; buy & hold 100 -> 120 = 20 %.
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
#define T0 (INT64_C(1704067200) * INT64_C(1000000000) + DAY / 2) /* 2024-01-01T12:00Z */
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
	static const char *eq[] = { "1000", "1100", "990", "1050", "1155", "1108.8", "1097.25" };
	static const char *px[] = { "100", "110", "95", "85", "50", "55", "120" };
	struct ig_report *r = make(dir, 64);
	struct ig_report_stats st;
	char path[128], buf[512];
	FILE *f;
	(void)state;

	for (int d = 0; d < 7; d++) {
		int64_t t = T0 + d * DAY;
		ig_report_price(r, 0, t, FX(px[d]));
		switch (d) {
		case 0: fill(r, t, IG_SIDE_BUY, "100", "1", "1", "1"); break;
		case 1: fill(r, t, IG_SIDE_SELL, "110", "1", "1", "0"); break;
		case 2:
			fill(r, t, IG_SIDE_BUY, "100", "1", "0", "1");
			fill(r, t + 3600000000000, IG_SIDE_SELL, "90", "3", "0", "-2");
			break;
		case 3: fill(r, t, IG_SIDE_BUY, "80", "2", "0", "0"); break;
		case 4: fill(r, t, IG_SIDE_BUY, "50", "2", "0", "2"); break;
		case 5:
			fill(r, t, IG_SIDE_SELL, "60", "1", "0", "1");
			fill(r, t + 60000000000, IG_SIDE_SELL, "40", "1", "0", "0");
			break;
		case 6: fill(r, t, IG_SIDE_BUY, "100", "1", "0", "1"); break;
		}
		ig_report_equity(r, 0, t, FX(eq[d]), FX(eq[d]), 0);
	}
	assert_int_equal(ig_report_finish(r, &st), 0);

	assert_int_equal(st.equity_initial, IG_FIXED(1000));
	assert_int_equal(st.equity_final, FX("1097.25"));
	assert_int_equal(st.equity_peak, FX("1155"));
	assert_int_equal(st.trades, 4);
	assert_int_equal(st.open_trades, 1);
	assert_int_equal(st.duration_s, 6 * 86400);
	assert_int_equal(st.max_drawdown_duration_s, 3 * 86400);
	assert_int_equal(st.fees, IG_FIXED(2));
	assert_int_equal(st.expectancy, FX("4.5"));
	near(st.return_pct, 9.725);
	near(st.buy_hold_return_pct, 20);
	near(st.max_drawdown_pct, 10);
	near(st.avg_drawdown_pct, 7.5);
	near(st.win_rate_pct, 50);
	near(st.profit_factor, 2.8);
	near(st.sqn, 0.709299);
	near(st.best_trade_pct, 100.0 / 9.0);
	near(st.worst_trade_pct, -10);
	near(st.avg_trade_pct, 2.277778);
	near(st.sharpe, 4.015967);
	near(st.sortino, 7.353370);
	near(st.volatility_ann_pct, 143.068640);
	near(st.cagr_pct, 12537.134163);
	near(st.calmar, 1253.713416);
	near(st.exposure_pct, 50);
	assert_true(st.defined == (UINT64_C(1) << IG_RS__COUNT) - 1);

	/* trades.csv: the four round trips; the flip's two halves. */
	snprintf(path, sizeof(path), "%s/trades.csv", dir);
	assert_int_equal(lines(path), 5);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "strategy,symbol,entry_ts,exit_ts,side,qty,entry_px,exit_px,pnl,fees,"
				 "return_pct,bars_held\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-01T12:00:00Z,2024-01-02T12:00:00Z,long,1,100,110,8,2,"
				 "8.000000,1\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-03T12:00:00Z,2024-01-03T13:00:00Z,long,1,100,90,-10,0,"
				 "-10.000000,0\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-03T13:00:00Z,2024-01-04T12:00:00Z,short,2,90,80,20,0,"
				 "11.111111,1\n");
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_string_equal(buf, "s0,X,2024-01-05T12:00:00Z,2024-01-06T12:01:00Z,long,2,50,50,0,0,"
				 "0.000000,1\n");
	fclose(f);
	/* equity.csv: a header and seven rows; the last is equity_final. */
	snprintf(path, sizeof(path), "%s/equity.csv", dir);
	assert_int_equal(lines(path), 8);

	snprintf(path, sizeof(path), "%s/stats.json", dir);
	assert_int_equal(ig_report_write_stats(r, &st, path), 0);
	{
		json_error_t je;
		json_t *root = json_load_file(path, 0, &je), *s;
		assert_non_null(root);
		s = json_object_get(json_array_get(json_object_get(root, "strategies"), 0), "stats");
		assert_string_equal(json_string_value(json_object_get(s, "equity_final")), "1097.25");
		near(json_real_value(json_object_get(s, "sharpe")), 4.015967);
		assert_int_equal(json_integer_value(json_object_get(s, "trades")), 4);
		json_decref(root);
	}
	ig_report_free(r);
}

/* No trades, a flat curve: every ratio that divides by zero is null. */
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
		cmocka_unit_test_setup_teardown(test_undefined_is_null, setup, teardown),
		cmocka_unit_test(test_stat_table),
		cmocka_unit_test(test_series_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
