/*
 * test_data.c - the data side of backtesting (issue 12): feed.columns,
 * timestamp formats, feed.from/to, Yahoo and kline detection, feed.adjust,
 * many files merged by time, a symbol column, preloaded data replayed like
 * the streaming feed, and an inline backtest over two symbols.
 *
 * Every fixture (CSV and YAML) is written by the test into a private
 * directory under /tmp, so the line numbers in expected messages can be
 * read off the string literals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "config/config.h"
#include "core/log.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS INT64_C(1000000000)
#define MS INT64_C(1000000)
#define MAX_FILES 16
#define MAX_EVENTS 64

static struct ig_config cfg; /* large: static */
static struct ig_feed feed;
static bool feed_open;
static char err[IG_CFG_ERR_MAX];
static char dir[64];
static char files[MAX_FILES][128];
static int nfiles;

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

/* Writes text to dir/name; returns the path (static storage). */
static const char *put(const char *name, const char *text)
{
	FILE *f;
	assert_true(nfiles < MAX_FILES);
	snprintf(files[nfiles], sizeof(files[nfiles]), "%s/%s", dir, name);
	f = fopen(files[nfiles], "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return files[nfiles++];
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ig_data_XXXXXX");
	assert_non_null(mkdtemp(dir));
	nfiles = 0;
	feed_open = false;
	memset(err, 0, sizeof(err));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (feed_open)
		ig_feed_close(&feed);
	feed_open = false;
	for (int i = 0; i < nfiles; i++)
		unlink(files[i]);
	rmdir(dir);
	return 0;
}

/* Writes a config whose feed section is feed_yaml (with %s replaced by
 * dir, up to three times) and loads it. Returns ig_config_load's rc. */
static int load(const char *feed_yaml)
{
	char text[4096], body[3072];
	size_t o = 0;
	/* "%s" is the fixture directory, "%%" a percent sign. */
	for (const char *p = feed_yaml; *p != '\0' && o + sizeof(dir) < sizeof(body); p++) {
		if (p[0] == '%' && p[1] == 's') {
			o += (size_t)snprintf(body + o, sizeof(body) - o, "%s", dir);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			body[o++] = '%';
			p++;
		} else {
			body[o++] = *p;
		}
	}
	body[o] = '\0';
	snprintf(text, sizeof(text), "engine: {threading: inline}\n%s", body);
	return ig_config_load(&cfg, put("c.yaml", text), NULL, 0, err, sizeof(err));
}

static void load_ok(const char *feed_yaml)
{
	if (load(feed_yaml) != 0)
		fail_msg("config: %s", err);
}

static int open_feed(void)
{
	int rc = ig_feed_open(&feed, &cfg, 0, NULL, NULL, err, sizeof(err));
	feed_open = rc == 0;
	return rc;
}

static void open_ok(void)
{
	int rc = open_feed();
	if (rc != 0)
		fail_msg("ig_feed_open: %s (%s)", err, ig_err_name(rc));
}

/* Drains the open feed into evs. Returns the count. */
static size_t drain(struct ig_feed *f, struct ig_event *evs, size_t cap)
{
	struct ig_event ev;
	int64_t due;
	size_t n = 0;
	while (ig_feed_next(f, 0, &ev, &due) == 1) {
		assert_true(n < cap);
		evs[n++] = ev;
	}
	return n;
}

static void expect_err(const char *want)
{
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* ------------------------------------------------------------ mapping */

static void test_columns_mapping(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("m.csv", "When,O,H,L,C,Vol\n"
		     "2024-01-02,10,12,9,11,100\n"
		     "2024-01-03,11,13,10,12,200\n");
	load_ok("feed:\n"
		"  source: csv\n"
		"  path: %s/m.csv\n"
		"  columns: {ts: When, open: O, high: H, low: L, close: C, volume: Vol}\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ev[0].hdr.type, IG_EV_BAR);
	assert_int_equal(ev[0].hdr.ts_event_ns, INT64_C(1704153600) * NS);
	assert_int_equal(ev[1].body.bar.open_px, D("11"));
	assert_int_equal(ev[1].body.bar.close_px, D("12"));
	assert_int_equal(ev[1].body.bar.volume, D("200"));
}

/* Trades with px/qty/side names, and a side column. */
static void test_columns_trades_side(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("t.csv", "t,p,q,s\n1700000000,5,1,buy\n1700000001,6,2,S\n1700000002,7,3,\n");
	load_ok("feed:\n  source: csv\n  path: %s/t.csv\n"
		"  columns: {ts: t, px: p, qty: q, side: s}\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 3);
	assert_int_equal(ev[0].hdr.type, IG_EV_TRADE);
	assert_int_equal(ev[0].body.trade.aggressor, IG_SIDE_BUY);
	assert_int_equal(ev[1].body.trade.aggressor, IG_SIDE_SELL);
	assert_int_equal(ev[2].body.trade.aggressor, IG_SIDE_NONE);
	assert_int_equal(ev[2].body.trade.qty, D("3"));
}

static void test_columns_unknown_key_refused(void **state)
{
	(void)state;
	assert_int_equal(load("feed:\n"
			      "  source: csv\n"
			      "  path: %s/x.csv\n"
			      "  columns: {ts: Date, shut: Close}\n"),
			 IG_ECONFIG);
	/* line 4 of the file (the engine line is first), column of the key */
	expect_err("c.yaml:5:23: feed.columns.shut: unknown key");
}

static void test_columns_not_in_header_refused(void **state)
{
	(void)state;
	put("m.csv", "Date,Open,High,Low,Close\n2024-01-02,10,12,9,11\n");
	load_ok("feed:\n"
		"  source: csv\n"
		"  path: %s/m.csv\n"
		"  columns:\n"
		"    close: Shut\n");
	assert_int_equal(open_feed(), IG_EPARSE);
	expect_err("c.yaml:6:12: feed.columns.close: column \"Shut\" is not in the header of");
	expect_err("m.csv:1: Date,Open,High,Low,Close");
}

/* --set reaches the new keys: columns, symbols, the window. */
static void test_overrides(void **state)
{
	struct ig_cfg_override ovr[] = {
		{ "feed.columns.close", "Shut" },
		{ "feed.symbols.0", "AAA" },
		{ "feed.from", "2024-01-02" },
	};
	char path[160];
	(void)state;
	put("m.csv", "Date,Open,High,Low,Close\n2024-01-02,10,12,9,11\n");
	snprintf(path, sizeof(path), "feed:\n  source: csv\n  path: %s/m.csv\n", dir);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(ig_config_load(&cfg, put("o.yaml", path), ovr, 3, err, sizeof(err)), 0);
	assert_int_equal(cfg.feed.nsymbols, 1);
	assert_string_equal(cfg.feed.symbols[0], "AAA");
	assert_int_equal(cfg.feed.from_ns, INT64_C(1704153600) * NS);
	assert_int_equal(open_feed(), IG_EPARSE);
	expect_err("--set feed.columns.close: column \"Shut\" is not in the header");
	ovr[0].key = "feed.columns.adj";
	assert_int_equal(ig_config_load(&cfg, files[nfiles - 1], ovr, 1, err, sizeof(err)),
			 IG_ECONFIG);
	expect_err("--set feed.columns.adj: unknown key");
}

/* --------------------------------------------------------- timestamps */

static void test_ts_unix_units(void **state)
{
	static const struct {
		const char *fmt, *cell;
		int64_t want;
	} cases[] = {
		{ "unix_s", "1700000000", INT64_C(1700000000) * NS },
		{ "unix_s", "17", 17 * NS }, /* auto would say seconds too; explicit anyway */
		{ "unix_ms", "1700000000123", INT64_C(1700000000123) * MS },
		{ "unix_ms", "5", 5 * MS },  /* auto would read seconds */
		{ "unix_us", "1700000000123456", INT64_C(1700000000123456) * 1000 },
		{ "unix_ns", "1700000000123456789", INT64_C(1700000000123456789) },
		{ "unix_ns", "42", 42 },
		{ "unix_s", "1700000000.25", INT64_C(1700000000) * NS + 250 * MS },
		{ "iso8601", "2024-02-29", INT64_C(1709164800) * NS },
		{ "iso8601", "2024-02-29T01:02:03.5+01:00", (INT64_C(1709164800) + 3723 - 3600) * NS + 500 * MS },
		{ "%d/%m/%Y %H:%M", "29/02/2024 01:02", (INT64_C(1709164800) + 3720) * NS },
		{ "%Y%m%d", "20240229", INT64_C(1709164800) * NS },
		{ "%d-%b-%y %T", "29-Feb-24 00:00:01", (INT64_C(1709164800) + 1) * NS },
		{ "%s", "1700000000", INT64_C(1700000000) * NS },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = 0;
		int rc = ig_feed_parse_ts_fmt(cases[i].fmt, cases[i].cell, strlen(cases[i].cell), &v);
		if (rc != 0 || v != cases[i].want)
			fail_msg("%s / \"%s\": rc %d, %lld, want %lld", cases[i].fmt, cases[i].cell, rc,
				 (long long)v, (long long)cases[i].want);
	}
	/* Auto: ISO date only, and a date-time with an offset. */
	{
		int64_t v = 0;
		assert_int_equal(ig_feed_parse_ts("2024-02-29", 10, &v), 0);
		assert_int_equal(v, INT64_C(1709164800) * NS);
		assert_int_equal(ig_feed_parse_ts("2024-02-30", 10, &v), IG_ESYNTAX);
		assert_int_equal(ig_feed_parse_ts_fmt("%d/%m/%Y", "31/04/2024", 10, &v), IG_ESYNTAX);
		assert_int_equal(ig_feed_parse_ts_fmt("unix_ms", "12a", 3, &v), IG_ESYNTAX);
	}
	assert_null(ig_feed_ts_format_problem("unix_us"));
	assert_null(ig_feed_ts_format_problem("%d/%m/%Y %H:%M"));
	assert_non_null(ig_feed_ts_format_problem("unix_minutes"));
	assert_non_null(ig_feed_ts_format_problem("%Q"));
}

static void test_ts_format_in_config(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("p.csv", "ts,price\n02/01/2024 09:30,10\n02/01/2024 09:31,11\n");
	load_ok("feed:\n  source: csv\n  path: %s/p.csv\n  ts_format: \"%%d/%%m/%%Y %%H:%%M\"\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ev[0].hdr.ts_event_ns, (INT64_C(1704153600) + 9 * 3600 + 30 * 60) * NS);
	assert_int_equal(ev[1].hdr.ts_event_ns - ev[0].hdr.ts_event_ns, 60 * NS);
	/* A bad format is refused at load, with its position. */
	assert_int_equal(load("feed:\n  source: csv\n  path: %s/p.csv\n  ts_format: hours\n"),
			 IG_ECONFIG);
	expect_err("c.yaml:5:14: feed.ts_format: unknown timestamp format");
}

/* Separate date and time columns, auto-detected and mapped. */
static void test_ts_date_and_time_columns(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("dt.csv", "Date,Time,Open,High,Low,Close,Volume\n"
		      "2024-01-02,09:30:00,10,12,9,11,1\n"
		      "2024-01-02,09:31:00,10,12,9,11,1\n");
	load_ok("feed:\n  source: csv\n  path: %s/dt.csv\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ev[0].hdr.ts_event_ns, (INT64_C(1704153600) + 9 * 3600 + 30 * 60) * NS);
	assert_int_equal(ev[1].body.bar.period_ns, 60 * NS);
	ig_feed_close(&feed);
	feed_open = false;

	put("dt2.csv", "d,t,px\n02.01.2024,0930,5\n");
	load_ok("feed:\n  source: csv\n  path: %s/dt2.csv\n"
		"  columns: {date: d, time: t, px: px}\n  ts_format: \"%%d.%%m.%%Y %%H%%M\"\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 1);
	assert_int_equal(ev[0].hdr.ts_event_ns, (INT64_C(1704153600) + 9 * 3600 + 30 * 60) * NS);
}

/* Today's policy for a bad timestamp: skipped and counted, or with
 * feed.strict the load stops at file:line. */
static void test_ts_bad_row_policy(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("b.csv", "ts,price\n1700000000,10\n17000x0001,11\n1700000002,12\n");
	load_ok("feed:\n  source: csv\n  path: %s/b.csv\n  ts_format: unix_s\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ig_feed_bad_rows(&feed), 1);
	assert_int_equal(ig_feed_rows(&feed), 3);
	ig_feed_close(&feed);
	feed_open = false;
	load_ok("feed:\n  source: csv\n  path: %s/b.csv\n  ts_format: unix_s\n  strict: true\n");
	assert_int_equal(open_feed(), IG_EPARSE);
	expect_err("b.csv:3: ts: bad timestamp (feed.strict is on)");
}

/* ------------------------------------------------------------ window */

static void test_from_to_window(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("w.csv", "ts,price\n"
		     "2024-01-01T23:59:59Z,1\n"
		     "2024-01-02T00:00:00Z,2\n" /* from: inclusive */
		     "2024-01-02T12:00:00Z,3\n"
		     "2024-01-03T00:00:00Z,4\n" /* to: exclusive */
		     "2024-01-04T00:00:00Z,5\n");
	load_ok("feed:\n  source: csv\n  path: %s/w.csv\n  from: 2024-01-02\n  to: 2024-01-03\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ev[0].body.trade.px, D("2"));
	assert_int_equal(ev[1].body.trade.px, D("3"));
	/* Rows outside the window are not bad rows. */
	assert_int_equal(ig_feed_bad_rows(&feed), 0);
	ig_feed_close(&feed);
	feed_open = false;
	/* A date-time bound with an offset. */
	load_ok("feed:\n  source: csv\n  path: %s/w.csv\n  from: \"2024-01-02T13:00:00+01:00\"\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 3);
	assert_int_equal(ev[0].body.trade.px, D("3"));
	ig_feed_close(&feed);
	feed_open = false;
	assert_int_equal(load("feed:\n  source: csv\n  path: %s/w.csv\n  from: 2024-01-05\n"
			      "  to: 2024-01-05\n"),
			 IG_ECONFIG);
	expect_err("feed.to: not after feed.from");
	assert_int_equal(load("feed:\n  source: csv\n  path: %s/w.csv\n  from: yesterday\n"),
			 IG_ECONFIG);
	expect_err("c.yaml:5:9: feed.from: not an ISO 8601 date or date-time");
}

/* ------------------------------------------------ detected layouts */

static void test_yahoo_daily_and_adjust(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("y.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n"
		     "2024-01-02,100,110,90,105,52.5,1000\n"
		     "2024-01-03,null,null,null,null,null,null\n"
		     "2024-01-04,3,3,3,3,1,7\n");
	load_ok("feed:\n  source: csv\n  path: %s/y.csv\n");
	open_ok();
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_BARS);
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ig_feed_bad_rows(&feed), 1); /* Yahoo's null row */
	assert_int_equal(ev[0].hdr.ts_event_ns, INT64_C(1704153600) * NS);
	assert_int_equal(ev[0].body.bar.close_px, D("105")); /* unadjusted */
	ig_feed_close(&feed);
	feed_open = false;

	load_ok("feed:\n  source: csv\n  path: %s/y.csv\n  adjust: adj_close\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	/* factor 52.5 / 105 = 0.5 */
	assert_int_equal(ev[0].body.bar.open_px, D("50"));
	assert_int_equal(ev[0].body.bar.high_px, D("55"));
	assert_int_equal(ev[0].body.bar.low_px, D("45"));
	assert_int_equal(ev[0].body.bar.close_px, D("52.5"));
	assert_int_equal(ev[0].body.bar.volume, D("1000")); /* volume untouched */
	/* factor 1/3: 3 * 1 / 3 = 1 exactly (one rounding of the product) */
	assert_int_equal(ev[1].body.bar.open_px, D("1"));
	assert_int_equal(ev[1].body.bar.close_px, D("1"));
	ig_feed_close(&feed);
	feed_open = false;

	/* Rounding: 1 * 2 / 3 = 0.666666666... -> 0.66666667 (half away from zero). */
	put("r.csv", "Date,Open,High,Low,Close,Adj Close\n2024-01-02,1,3,1,3,2\n"
		     "2024-01-03,0.00000001,0.00000003,0.00000001,0.00000003,0.00000002\n");
	load_ok("feed:\n  source: csv\n  path: %s/r.csv\n  adjust: adj_close\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ev[0].body.bar.open_px, D("0.66666667"));
	assert_int_equal(ev[0].body.bar.high_px, D("2"));
	/* 1e-8 * 2/3 = 0.667e-8 -> 1e-8; 3e-8 * 2/3 = 2e-8 */
	assert_int_equal(ev[1].body.bar.open_px, 1);
	assert_int_equal(ev[1].body.bar.close_px, 2);
	ig_feed_close(&feed);
	feed_open = false;

	/* adjust without an adjusted close column is refused at open. */
	put("n.csv", "Date,Open,High,Low,Close\n2024-01-02,1,3,1,3\n");
	load_ok("feed:\n  source: csv\n  path: %s/n.csv\n  adjust: adj_close\n");
	assert_int_equal(open_feed(), IG_EPARSE);
	expect_err("n.csv:1: feed.adjust: adj_close needs");
}

static void test_kline_exports(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	/* No header: Binance-style rows, ms open times, 12 fields. */
	put("k.csv", "1704067200000,42283.58,42554.57,42261.02,42475.23,1271.68,1704070799999,"
		     "53957248.97,47134,682.57,28957416.82,0\n"
		     "1704070800000,42475.23,42775.00,42431.65,42613.56,1196.37,1704074399999,"
		     "50984391.38,44484,654.20,27880385.51,0\n");
	load_ok("feed:\n  source: csv\n  path: %s/k.csv\n");
	open_ok();
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_BARS);
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 2);
	assert_int_equal(ig_feed_rows(&feed), 2);
	assert_int_equal(ev[0].hdr.ts_event_ns, INT64_C(1704067200000) * MS);
	assert_int_equal(ev[0].body.bar.open_px, D("42283.58"));
	assert_int_equal(ev[1].body.bar.close_px, D("42613.56"));
	assert_int_equal(ev[1].body.bar.volume, D("1196.37"));
	assert_int_equal(ev[1].body.bar.period_ns, 3600 * NS);
	ig_feed_close(&feed);
	feed_open = false;
	/* With the header. */
	put("kh.csv", "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
		      "taker_buy_volume,taker_buy_quote_volume,ignore\n"
		      "1704067200000,1,2,0.5,1.5,10,1704070799999,15,3,5,7,0\n");
	load_ok("feed:\n  source: csv\n  path: %s/kh.csv\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 1);
	assert_int_equal(ev[0].hdr.ts_event_ns, INT64_C(1704067200000) * MS);
	assert_int_equal(ev[0].body.bar.close_px, D("1.5"));
}

/* --------------------------------------------------- many instruments */

static const char two_files_yaml[] = "feed:\n"
				     "  source: csv\n"
				     "  path:\n"
				     "    - {path: %s/a.csv, symbol: AAA}\n"
				     "    - {path: %s/b.csv, symbol: BBB}\n";

static void put_two_files(void)
{
	put("a.csv", "ts,price\n100,1\n200,2\n300,3\n300,4\n");
	put("b.csv", "ts,bid,ask\n50,10,11\n200,20,21\n300,30,31\n400,40,41\n");
}

static void test_merge_two_files_ties(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	static const struct {
		int64_t ts_s;
		uint16_t inst;
	} want[] = { { 50, 1 }, { 100, 0 }, { 200, 0 }, { 200, 1 },
		     { 300, 0 }, { 300, 0 }, { 300, 1 }, { 400, 1 } };
	(void)state;
	put_two_files();
	load_ok(two_files_yaml);
	assert_int_equal(ig_feed_symbols(&cfg, names), 2);
	assert_string_equal(names[0], "AAA");
	assert_string_equal(names[1], "BBB");
	open_ok();
	assert_int_equal(ig_feed_size(&feed), 8);
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 8);
	for (size_t i = 0; i < 8; i++) {
		if (ev[i].hdr.ts_event_ns != want[i].ts_s * NS || ev[i].hdr.instrument_id != want[i].inst)
			fail_msg("event %zu: %lld/%u, want %lld/%u", i,
				 (long long)ev[i].hdr.ts_event_ns, ev[i].hdr.instrument_id,
				 (long long)(want[i].ts_s * NS), want[i].inst);
	}
	/* Within a file, file order: the two AAA rows at 300. */
	assert_int_equal(ev[4].body.trade.px, D("3"));
	assert_int_equal(ev[5].body.trade.px, D("4"));
	assert_int_equal(ev[0].hdr.type, IG_EV_QUOTE);
}

static void test_symbol_column(void **state)
{
	struct ig_event ev[MAX_EVENTS];
	(void)state;
	put("s.csv", "ts,symbol,price\n100,BBB,1\n100,AAA,2\n200,CCC,3\n300,AAA,4\n");
	load_ok("feed:\n  source: csv\n  path: %s/s.csv\n  symbols: [AAA, BBB]\n");
	open_ok();
	assert_int_equal(drain(&feed, ev, MAX_EVENTS), 3);
	assert_int_equal(ev[0].hdr.instrument_id, 1);
	assert_int_equal(ev[1].hdr.instrument_id, 0);
	assert_int_equal(ev[2].hdr.instrument_id, 0);
	assert_int_equal(ev[2].body.trade.px, D("4"));
	assert_int_equal(ig_feed_bad_rows(&feed), 1); /* CCC is not declared */
	ig_feed_close(&feed);
	feed_open = false;
	/* feed.symbols without a symbol column: refused at open. */
	put("ns.csv", "ts,price\n100,1\n");
	load_ok("feed:\n  source: csv\n  path: %s/ns.csv\n  symbols: [AAA, BBB]\n");
	assert_int_equal(open_feed(), IG_EPARSE);
	expect_err("ns.csv:1: no symbol column");
	/* A list entry without a symbol needs feed.symbols. */
	assert_int_equal(load("feed:\n  source: csv\n  path:\n    - {path: %s/s.csv}\n"), IG_ECONFIG);
	expect_err("c.yaml:5:7: feed.path.0.symbol: missing required key");
	assert_int_equal(load("feed:\n  source: csv\n  path:\n    - {sym: A, path: %s/s.csv}\n"),
			 IG_ECONFIG);
	expect_err("c.yaml:5:8: feed.path.0.sym: unknown key");
}

/* ------------------------------------------------------------ preload */

static void test_preload_replays_streaming(void **state)
{
	static struct ig_event a[MAX_EVENTS], b[MAX_EVENTS];
	struct ig_feed_data *data = NULL;
	struct ig_feed f2;
	size_t na, nb;
	(void)state;
	put_two_files();
	load_ok(two_files_yaml);
	assert_int_equal(ig_feed_preload(&cfg, &data, err, sizeof(err)), 0);
	assert_non_null(data);
	assert_int_equal(data->nevents, 8);
	assert_int_equal(data->nsymbols, 2);
	assert_string_equal(data->symbols[1], "BBB");

	/* Whole feed, streaming vs preloaded. */
	open_ok();
	na = drain(&feed, a, MAX_EVENTS);
	assert_int_equal(ig_feed_open_data(&f2, &cfg, data, err, sizeof(err)), 0);
	nb = drain(&f2, b, MAX_EVENTS);
	ig_feed_close(&f2);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	ig_feed_close(&feed);
	feed_open = false;

	/* Two windows over the one preload, each equal to its own streaming
	 * run (ranking before a time, testing after it). */
	{
		static const char *const windows[] = {
			"  to: \"1970-01-01T00:03:20Z\"\n",   /* < 200 s */
			"  from: \"1970-01-01T00:03:20Z\"\n", /* >= 200 s */
			"  from: \"1970-01-01T00:05:00Z\"\n  to: \"1970-01-01T00:06:00Z\"\n",
		};
		static const size_t counts[] = { 2, 6, 3 };
		for (size_t w = 0; w < 3; w++) {
			char y[512];
			snprintf(y, sizeof(y), "%s%s", two_files_yaml, windows[w]);
			load_ok(y);
			open_ok();
			na = drain(&feed, a, MAX_EVENTS);
			ig_feed_close(&feed);
			feed_open = false;
			assert_int_equal(ig_feed_open_data(&f2, &cfg, data, err, sizeof(err)), 0);
			assert_int_equal(ig_feed_size(&f2), counts[w]);
			nb = drain(&f2, b, MAX_EVENTS);
			ig_feed_close(&f2);
			if (na != counts[w] || nb != na)
				fail_msg("window %zu: streaming %zu, preloaded %zu, want %zu", w, na, nb,
					 counts[w]);
			assert_memory_equal(a, b, na * sizeof(a[0]));
		}
	}
	/* A config declaring other symbols is refused. */
	load_ok("feed:\n  source: csv\n  path:\n    - {path: %s/a.csv, symbol: ZZZ}\n");
	assert_int_equal(ig_feed_open_data(&f2, &cfg, data, err, sizeof(err)), IG_ECONFIG);
	expect_err("symbols");
	ig_feed_data_free(data);
}

/* -------------------------------------------------- inline backtest */

/* A tap over each strategy: which instruments its bars carried, its fills. */
static const struct ig_strategy_type *real_type[IG_MAX_STRATEGIES];
static struct ig_strategy_type tapped[IG_MAX_STRATEGIES];
static uint32_t bars_by_inst[IG_MAX_STRATEGIES][IG_MAX_INSTRUMENTS];
static uint32_t fills_by_inst[IG_MAX_STRATEGIES][IG_MAX_INSTRUMENTS];

static void tap_on_bar(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	bars_by_inst[id][ev->hdr.instrument_id]++;
	real_type[id]->on_bar(st, ctx, ev);
}

static void tap_on_fill(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	fills_by_inst[id][ev->hdr.instrument_id]++;
	if (real_type[id]->on_fill != NULL)
		real_type[id]->on_fill(st, ctx, ev);
}

static void test_inline_two_symbols_two_strategies(void **state)
{
	static struct ig_engine eng;
	struct ig_engine_opts opts;
	char a[2048] = "ts,open,high,low,close,volume\n", b[2048] = "ts,open,high,low,close,volume\n";
	int rc;
	(void)state;
	/* Zigzags (period 8 bars), out of phase, so the SMA crosses often. */
	for (int i = 0; i < 40; i++) {
		static const int zig[8] = { 100, 102, 104, 106, 104, 102, 100, 98 };
		char row[96];
		int pa = zig[i % 8], pb = 2 * zig[(i + 3) % 8];
		snprintf(row, sizeof(row), "%d,%d,%d,%d,%d,1\n", 60 * (i + 1), pa, pa + 1, pa - 1, pa);
		strcat(a, row);
		snprintf(row, sizeof(row), "%d,%d,%d,%d,%d,1\n", 60 * (i + 1), pb, pb + 1, pb - 1, pb);
		strcat(b, row);
	}
	put("a.csv", a);
	put("b.csv", b);
	load_ok("feed:\n"
		"  source: csv\n"
		"  heartbeat_ms: 0\n"
		"  path:\n"
		"    - {path: %s/a.csv, symbol: AAA}\n"
		"    - {path: %s/b.csv, symbol: BBB}\n"
		"venue: {kind: paper}\n"
		"strategies:\n"
		"  - {name: sa, type: sma_cross, symbols: [AAA], params: {fast: 2, slow: 4, qty: \"1\"}}\n"
		"  - {name: sb, type: sma_cross, symbols: [BBB], params: {fast: 2, slow: 4, qty: \"1\"}}\n");
	memset(&opts, 0, sizeof(opts));
	memset(bars_by_inst, 0, sizeof(bars_by_inst));
	memset(fills_by_inst, 0, sizeof(fills_by_inst));
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_engine_init: %s", err);
	assert_int_equal(eng.ninstruments, 2);
	assert_string_equal(eng.symbols[0], "AAA");
	assert_string_equal(eng.symbols[1], "BBB");
	for (uint32_t h = 0; h < eng.nthreads; h++)
		for (uint32_t i = 0; i < eng.hosts[h].n; i++) {
			struct ig_strategy_ctx *c = eng.hosts[h].ctx[i];
			real_type[c->id] = c->type;
			tapped[c->id] = *c->type;
			tapped[c->id].on_bar = tap_on_bar;
			tapped[c->id].on_fill = tap_on_fill;
			c->type = &tapped[c->id];
		}
	assert_int_equal(ig_engine_run(&eng), 0);
	ig_engine_destroy(&eng);
	/* Each strategy saw only its own symbol's bars, all of them. */
	assert_int_equal(bars_by_inst[0][0], 40);
	assert_int_equal(bars_by_inst[0][1], 0);
	assert_int_equal(bars_by_inst[1][0], 0);
	assert_int_equal(bars_by_inst[1][1], 40);
	/* Both traded, each its own symbol. */
	assert_true(fills_by_inst[0][0] > 0);
	assert_int_equal(fills_by_inst[0][1], 0);
	assert_true(fills_by_inst[1][1] > 0);
	assert_int_equal(fills_by_inst[1][0], 0);

	/* A strategy listing a symbol the feed does not carry is refused. */
	load_ok("feed:\n  source: csv\n  path:\n    - {path: %s/a.csv, symbol: AAA}\n"
		"strategies:\n  - {name: sc, type: sma_cross, symbols: [CCC]}\n");
	assert_int_equal(ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)), IG_ECONFIG);
	expect_err("\"CCC\" is not carried by the feed (feed.symbol is \"AAA\")");
}

/* The same backtest over preloaded data gives the same books. */
static void test_inline_over_preloaded_data(void **state)
{
	static struct ig_engine eng;
	struct ig_engine_opts opts;
	struct ig_feed_data *data = NULL;
	(void)state;
	put_two_files();
	load_ok("feed:\n"
		"  source: csv\n"
		"  path:\n"
		"    - {path: %s/a.csv, symbol: AAA}\n"
		"    - {path: %s/b.csv, symbol: BBB}\n"
		"  from: \"1970-01-01T00:03:20Z\"\n"
		"strategies:\n"
		"  - {name: sa, type: sma_cross, symbols: [AAA, BBB]}\n");
	assert_int_equal(ig_feed_preload(&cfg, &data, err, sizeof(err)), 0);
	memset(&opts, 0, sizeof(opts));
	opts.feed_data = data;
	if (ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)) != 0)
		fail_msg("ig_engine_init: %s", err);
	assert_int_equal(ig_feed_size(&eng.feed), 6); /* the window of this config */
	assert_int_equal(ig_engine_run(&eng), 0);
	assert_int_equal(eng.md_events, 6);
	ig_engine_destroy(&eng);
	ig_feed_data_free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_columns_mapping),
		T(test_columns_trades_side),
		T(test_columns_unknown_key_refused),
		T(test_columns_not_in_header_refused),
		T(test_overrides),
		T(test_ts_unix_units),
		T(test_ts_format_in_config),
		T(test_ts_date_and_time_columns),
		T(test_ts_bad_row_policy),
		T(test_from_to_window),
		T(test_yahoo_daily_and_adjust),
		T(test_kline_exports),
		T(test_merge_two_files_ties),
		T(test_symbol_column),
		T(test_preload_replays_streaming),
		T(test_inline_two_symbols_two_strategies),
		T(test_inline_over_preloaded_data),
#undef T
	};
	ig_log_set_level(IG_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
