/*
 * test_csv.c - CSV market data (src/feed/csv.c) and feed pacing
 * (src/feed/feed.c): header detection, timestamps, malformed rows with and
 * without feed.strict, float artefacts, the bundled data files, and the
 * due-time arithmetic of speed and rate. Also the synthetic feed's
 * determinism, since it shares the pacing code.
 *
 * Fixtures are small CSVs written to temporary files by each test, so the
 * line numbers in expected messages can be read off the string literals.
 * The bundled files are read from data/ (the tests run from the repository
 * root; main() walks up to it if started elsewhere).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/log.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS INT64_C(1000000000)
#define MS INT64_C(1000000)

static struct ig_config cfg; /* large: static */
static struct ig_feed feed;
static bool feed_open;
static char err[IG_CFG_ERR_MAX];
static char tmp_path[64];

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static void write_tmp(const char *text)
{
	size_t len = strlen(text);
	int fd;
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/ig_csv_XXXXXX.csv");
	fd = mkstemps(tmp_path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static int setup(void **state)
{
	(void)state;
	ig_config_defaults(&cfg);
	cfg.feed.source = IG_FEED_CSV;
	memset(err, 0, sizeof(err));
	feed_open = false;
	tmp_path[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (feed_open)
		ig_feed_close(&feed);
	feed_open = false;
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
	tmp_path[0] = '\0';
	return 0;
}

/* Opens path as the CSV feed; returns ig_feed_open's rc. */
static int open_path(const char *path, bool strict)
{
	int rc;
	snprintf(cfg.feed.path, sizeof(cfg.feed.path), "%s", path);
	cfg.feed.strict = strict;
	memset(err, 0, sizeof(err));
	rc = ig_feed_open(&feed, &cfg, 0, NULL, NULL, err, sizeof(err));
	feed_open = rc == 0;
	return rc;
}

/* Writes text to a temporary CSV and opens it. */
static int open_text(const char *text, bool strict)
{
	write_tmp(text);
	return open_path(tmp_path, strict);
}

static void expect_err_contains(const char *want)
{
	if (strstr(err, want) == NULL)
		fail_msg("error message \"%s\" does not contain \"%s\"", err, want);
}

/* The next event, immediately due (no pacing). */
static struct ig_event next_ev(void)
{
	struct ig_event ev;
	int64_t due = -1;
	int rc = ig_feed_next(&feed, 0, &ev, &due);
	if (rc != 1)
		fail_msg("ig_feed_next returned %d, want an event", rc);
	return ev;
}

static int64_t ts(const char *s)
{
	int64_t v = 0;
	int rc = ig_feed_parse_ts(s, strlen(s), &v);
	if (rc != 0)
		fail_msg("ig_feed_parse_ts(\"%s\") = %d", s, rc);
	return v;
}

static void expect_bad_ts(const char *s)
{
	int64_t v = 12345;
	int rc = ig_feed_parse_ts(s, strlen(s), &v);
	if (rc != IG_ESYNTAX)
		fail_msg("ig_feed_parse_ts(\"%s\") = %d (value %lld), want IG_ESYNTAX", s, rc,
			 (long long)v);
	assert_int_equal(v, 12345); /* untouched */
}

/* -------------------------------------------------------- timestamps */

static void test_parse_ts_iso(void **state)
{
	(void)state;
	/* date -u -d 2017-09-03T00:00:00Z +%s = 1504396800 */
	assert_int_equal(ts("2017-09-03T00:00:00Z"), 1504396800 * NS);
	assert_int_equal(ts("2017-09-03T00:00:00"), 1504396800 * NS);
	assert_int_equal(ts("2017-09-03 00:00:00"), 1504396800 * NS);
	/* 2016-02-29T12:34:56Z = 1456749296 (leap day) */
	assert_int_equal(ts("2016-02-29T12:34:56Z"), 1456749296 * NS);
	assert_int_equal(ts("2016-02-29T12:34:56.5Z"), 1456749296 * NS + 500 * MS);
	assert_int_equal(ts("2016-02-29T12:34:56.123456789Z"), 1456749296 * NS + 123456789);
	assert_int_equal(ts("2000-03-01T00:00:00Z"), INT64_C(951868800) * NS);
	assert_int_equal(ts("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(ts("1969-12-31T23:59:59Z"), -1 * NS);
	/* Malformed. */
	expect_bad_ts("2017-13-01T00:00:00Z");
	expect_bad_ts("2017-09-00T00:00:00Z");
	expect_bad_ts("2017-09-03T24:00:00Z");
	expect_bad_ts("2017-09-03T00:60:00Z");
	/* UTC offsets (issue 12): +02:00 is two hours before the same UTC time. */
	assert_int_equal(ts("2017-09-03T00:00:00+02:00"), (1504396800 - 7200) * NS);
	expect_bad_ts("2017-09-03T00:00:00+2:00");
	expect_bad_ts("2017-09-03T00:00:00ZZ");
	expect_bad_ts("2017-09-0xT00:00:00Z");
	expect_bad_ts("2017/09/03T00:00:00Z");
	/* A point with no digits after it (it was read as .0). */
	expect_bad_ts("2017-09-03T00:00:00.Z");
	expect_bad_ts("2017-09-03T00:00:00.");
}

static void test_parse_ts_unix(void **state)
{
	(void)state;
	/* Seconds, ms, us and ns told apart by magnitude. */
	assert_int_equal(ts("1315922016"), INT64_C(1315922016) * NS);
	assert_int_equal(ts("1315922016123"), INT64_C(1315922016123) * MS);
	assert_int_equal(ts("1315922016123456"), INT64_C(1315922016123456) * 1000);
	/* ns with 18 digits (before 2001-09-09). 19 digits: see below. */
	assert_int_equal(ts("999999999123456789"), INT64_C(999999999123456789));
	/* Fractional seconds. */
	assert_int_equal(ts("1315922016.5"), INT64_C(1315922016) * NS + 500 * MS);
	/* Fractions keep every ns (they were rounded to 1e-8 s before issue 12). */
	assert_int_equal(ts("1315922016.000000001"), INT64_C(1315922016) * NS + 1);
	assert_int_equal(ts("1315922016.00000001"), INT64_C(1315922016) * NS + 10);
	assert_int_equal(ts("0"), 0);
	expect_bad_ts("");
	expect_bad_ts("abc");
	expect_bad_ts("-5");
	expect_bad_ts("12 34");
	expect_bad_ts("1e9");
	expect_bad_ts("1315922016x");
}

/*
 * Regression: feed.h promises Unix nanoseconds, but parse_uint once refused
 * more than 18 digits, and every ns time since 2001-09-09 has 19: a file of
 * current ns timestamps loaded with every row skipped as "bad timestamp".
 */
static void test_parse_ts_unix_ns_19_digits(void **state)
{
	int64_t v = 0;
	int rc;
	(void)state;
	rc = ig_feed_parse_ts("1315922016123456789", 19, &v);
	if (rc != 0)
		fail_msg("ig_feed_parse_ts(\"1315922016123456789\") = %d (%s): 19-digit ns refused",
			 rc, ig_err_name(rc));
	assert_int_equal(v, INT64_C(1315922016123456789));
	rc = ig_feed_parse_ts("1700000000000000000", 19, &v);
	assert_int_equal(rc, 0);
	assert_int_equal(v, INT64_C(1700000000000000000));
}

/*
 * Regression: a Unix time in seconds or ms past 2262-04-11 (9223372037 s),
 * or an ISO year past 2262, was multiplied into int64 ns without a range
 * check: signed overflow (undefined behaviour; UBSan aborts, a release build
 * wrapped to a garbage time). Such a cell is refused. The same held for
 * fractional seconds ("9300000000.5": the 1e-8 value fits, its ns do not).
 */
static void test_parse_ts_out_of_range_refused(void **state)
{
	static const char *const bad[] = {
		"9300000000",           /* s, year 2264 */
		"9300000000.5",         /* fractional s: s * 1e8 fits, * 10 to ns did not */
		"92233720368.5",
		"99999999999",          /* s, just under the ms threshold */
		"99999999999999",       /* ms */
		"9223372036854775808",  /* INT64_MAX + 1 ns */
		"99999999999999999999", /* 20 digits */
		"9999-12-31T23:59:59Z", /* ISO year 9999 */
		"2263-01-01T00:00:00Z",
	};
	int64_t v;
	(void)state;
	/* The edges that fit. */
	assert_int_equal(ts("9223372036"), INT64_C(9223372036) * NS);
	assert_int_equal(ts("9223372036854775807"), INT64_MAX);
	assert_int_equal(ts("2262-04-11T23:47:16Z"), INT64_C(9223372036) * NS);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;
		v = 777;
		rc = ig_feed_parse_ts(bad[i], strlen(bad[i]), &v);
		if (rc == 0)
			fail_msg("\"%s\" accepted as %lld ns: int64 overflow", bad[i], (long long)v);
		assert_int_equal(v, 777);
	}
	/* In a file, such a row is malformed: skipped and counted. */
	assert_int_equal(open_text("ts,price\n1000,1\n9300000000,1\n1001,1\n", false), 0);
	assert_int_equal(feed.rows, 3);
	assert_int_equal(feed.bad_rows, 1);
}

/* ----------------------------------------------------------- headers */

static void test_detect_quotes(void **state)
{
	struct ig_event ev;
	int64_t due;
	(void)state;
	assert_int_equal(open_text("ts,bid,ask,bid_qty,ask_qty\n"
				   "1504396800,99.5,100.5,1.25,2\n"
				   "1504396860,99,101,0,3.5\n",
				   false),
			 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_QUOTES);
	assert_int_equal(feed.rows, 2);
	assert_int_equal(feed.bad_rows, 0);
	assert_int_equal(ig_feed_size(&feed), 2);
	ev = next_ev();
	assert_int_equal(ev.hdr.type, IG_EV_QUOTE);
	assert_int_equal(ev.hdr.instrument_id, 0);
	assert_int_equal(ev.hdr.ts_event_ns, INT64_C(1504396800) * NS);
	assert_int_equal(ev.body.quote.bid_px, D("99.5"));
	assert_int_equal(ev.body.quote.ask_px, D("100.5"));
	assert_int_equal(ev.body.quote.bid_qty, D("1.25"));
	assert_int_equal(ev.body.quote.ask_qty, D("2"));
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_qty, 0); /* zero size is allowed */
	assert_int_equal(ev.body.quote.ask_qty, D("3.5"));
	assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
	assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
}

static void test_detect_quotes_aliases_crlf_comments(void **state)
{
	struct ig_event ev;
	(void)state;
	/* Coinbase-style names, another column order, upper case, CRLF,
	 * spaces around cells, a comment and blank lines; no size columns on
	 * the second file means a size of 1. */
	assert_int_equal(open_text("# exported by hand\r\n"
				   "\r\n"
				   "Bid_Open, bid_close ,last_bid_size,ask_close,last_ask_size,UTC_TIME\r\n"
				   "1, 99 ,0.5,101,0.25,2017-09-03T00:00:00Z\r\n"
				   "\n"
				   "1,98,1,99,2,2017-09-03T00:01:00Z",
				   false),
			 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_QUOTES);
	assert_int_equal(feed.rows, 2);
	assert_int_equal(feed.bad_rows, 0);
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_px, D("99"));
	assert_int_equal(ev.body.quote.ask_px, D("101"));
	assert_int_equal(ev.body.quote.bid_qty, D("0.5"));
	assert_int_equal(ev.body.quote.ask_qty, D("0.25"));
	assert_int_equal(ev.hdr.ts_event_ns, 1504396800 * NS);
	ev = next_ev();
	assert_int_equal(ev.hdr.ts_event_ns, 1504396860 * NS);
	ig_feed_close(&feed);
	feed_open = false;
	unlink(tmp_path);

	assert_int_equal(open_text("time,bid_px,ask_px\n1000,1,2\n", false), 0);
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_qty, D("1"));
	assert_int_equal(ev.body.quote.ask_qty, D("1"));
}

static void test_detect_trades(void **state)
{
	struct ig_event ev;
	(void)state;
	assert_int_equal(open_text("ts_unix,price,amount\n"
				   "1315922016,5.800000000000,1.000000000000\n"
				   "1315922024,5.83,3\n",
				   false),
			 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_TRADES);
	ev = next_ev();
	assert_int_equal(ev.hdr.type, IG_EV_TRADE);
	assert_int_equal(ev.body.trade.px, D("5.8"));
	assert_int_equal(ev.body.trade.qty, D("1"));
	assert_int_equal(ev.body.trade.aggressor, IG_SIDE_NONE);
	ev = next_ev();
	assert_int_equal(ev.body.trade.px, D("5.83"));
	assert_int_equal(ev.body.trade.qty, D("3"));
	ig_feed_close(&feed);
	feed_open = false;
	unlink(tmp_path);
	/* Aliases; without a size column a trade has size 1. */
	assert_int_equal(open_text("timestamp,px\n1315922016123,7\n", false), 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_TRADES);
	ev = next_ev();
	assert_int_equal(ev.hdr.ts_event_ns, INT64_C(1315922016123) * MS);
	assert_int_equal(ev.body.trade.qty, D("1"));
}

static void test_detect_bars(void **state)
{
	struct ig_event ev;
	(void)state;
	assert_int_equal(open_text("utc_time,open,high,low,close,volume\n"
				   "2016-10-07T00:00:00Z,611.78,611.91,611.78,611.9,1.13872\n"
				   "2016-10-07T00:01:00Z,611.87,611.88,611.87,611.88,0.56799\n"
				   "2016-10-07T00:06:00Z,1,2,0.5,1.5,0\n"
				   "2016-10-09T00:00:00Z,1,2,0.5,1.5,7\n",
				   false),
			 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_BARS);
	assert_int_equal(feed.rows, 4);
	ev = next_ev();
	assert_int_equal(ev.hdr.type, IG_EV_BAR);
	assert_int_equal(ev.body.bar.open_px, D("611.78"));
	assert_int_equal(ev.body.bar.high_px, D("611.91"));
	assert_int_equal(ev.body.bar.low_px, D("611.78"));
	assert_int_equal(ev.body.bar.close_px, D("611.9"));
	assert_int_equal(ev.body.bar.volume, D("1.13872"));
	/* Every bar's period is the file's shortest gap between two bars of
	 * its instrument (a minute here): a missing bar (00:01 -> 00:06) or a
	 * weekend does not make the next bar look longer. */
	assert_int_equal(ev.body.bar.period_ns, 60 * NS);
	ev = next_ev();
	assert_int_equal(ev.body.bar.period_ns, 60 * NS);
	ev = next_ev();
	assert_int_equal(ev.body.bar.period_ns, 60 * NS);
	ev = next_ev();
	assert_int_equal(ev.body.bar.period_ns, 60 * NS);
	ig_feed_close(&feed);
	feed_open = false;
	unlink(tmp_path);
	/* Volume is optional for bars. */
	assert_int_equal(open_text("ts,open,high,low,close\n1,1,1,1,1\n", false), 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_BARS);
	ev = next_ev();
	assert_int_equal(ev.body.bar.volume, 0);
}

static void test_unknown_header_refused(void **state)
{
	char want[128];
	(void)state;
	assert_int_equal(open_text("foo,bar,baz\n1,2,3\n", false), IG_EPARSE);
	snprintf(want, sizeof(want), "%s:1:", tmp_path);
	expect_err_contains(want);
	expect_err_contains("unrecognised CSV header");
	assert_false(feed_open);
	unlink(tmp_path);
	/* A time column alone is not enough; neither are prices without time. */
	assert_int_equal(open_text("# c\nts,volume\n1,2\n", false), IG_EPARSE);
	snprintf(want, sizeof(want), "%s:2:", tmp_path);
	expect_err_contains(want);
	unlink(tmp_path);
	assert_int_equal(open_text("bid,ask\n1,2\n", false), IG_EPARSE);
	unlink(tmp_path);
	/* Only the bid: not quotes. */
	assert_int_equal(open_text("ts,bid\n1,2\n", false), IG_EPARSE);
	unlink(tmp_path);
	/* Empty, or only comments. */
	assert_int_equal(open_text("", false), IG_EPARSE);
	expect_err_contains("empty");
	unlink(tmp_path);
	assert_int_equal(open_text("# nothing\n\n", false), IG_EPARSE);
}

static void test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(open_path("/nonexistent/ig_no_such.csv", false), IG_ENOENT);
	expect_err_contains("/nonexistent/ig_no_such.csv");
	assert_false(feed_open);
	assert_int_equal(ig_feed_csv_kind(&feed), -1); /* nothing open */
}

/* ------------------------------------------------------- bad rows */

#define BAD_ROWS_CSV                                  \
	"ts,bid,ask,bid_qty,ask_qty\n"  /* line 1 */   \
	"1000,99,101,1,2\n"             /* 2: ok */    \
	"1060,99,101,1\n"               /* 3: missing field */ \
	"1120,abc,101,1,1\n"            /* 4: not a number */ \
	"1100,99,101,1,1\n"             /* 5: ok: after the last good row (1000) */ \
	"1180,102,101,1,1\n"            /* 6: crossed */ \
	"1240,-1,101,1,1\n"             /* 7: negative price */ \
	"xx,99,101,1,1\n"               /* 8: bad timestamp */ \
	"1300,99,,1,1\n"                /* 9: empty field */ \
	"1360,99,101,1,1e3\n"           /* 10: exponent: not a number */ \
	"1420,99,101,1,1\n"             /* 11: ok */    \
	"999,99,101,1,1\n"              /* 12: backwards */ \
	"1420,99.5,101,1,1\n"           /* 13: same time: ok */ \
	"2000000000,99,101,1,1\n"       /* 14: jump forward: ok */

static void test_bad_rows_skipped_and_counted(void **state)
{
	struct ig_event ev;
	int64_t due;
	(void)state;
	ig_log_set_level(IG_LOG_ERROR); /* one warning per skipped row */
	assert_int_equal(open_text(BAD_ROWS_CSV, false), 0);
	assert_int_equal(feed.rows, 13);
	/* Lines 3, 4, 6, 7, 8, 9, 10 and 12. A skipped row does not move the
	 * clock: line 5 (1100) is compared with line 2 (1000), not line 3. */
	assert_int_equal(feed.bad_rows, 8);
	assert_int_equal(ig_feed_size(&feed), 5);
	assert_int_equal(next_ev().hdr.ts_event_ns, 1000 * NS);
	assert_int_equal(next_ev().hdr.ts_event_ns, 1100 * NS);
	assert_int_equal(next_ev().hdr.ts_event_ns, 1420 * NS);
	ev = next_ev();
	assert_int_equal(ev.hdr.ts_event_ns, 1420 * NS);
	assert_int_equal(ev.body.quote.bid_px, D("99.5"));
	assert_int_equal(next_ev().hdr.ts_event_ns, INT64_C(2000000000) * NS);
	assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
}

/* With feed.strict the first bad row refuses the whole file, with
 * "path:LINE: COLUMN: reason". */
static void test_bad_rows_strict(void **state)
{
	static const struct {
		const char *csv;
		int line;
		const char *why;
	} cases[] = {
		{ "ts,bid,ask,bid_qty,ask_qty\n1000,99,101,1,2\n1060,99,101,1\n", 3, "missing" },
		{ "ts,bid,ask\n# c\n\n1000,abc,101\n", 4, "not a number" },
		{ "ts,bid,ask\n1000,99,101\n999,99,101\n", 3, "backwards" },
		{ "ts,bid,ask\n1000,102,101\n", 2, "crossed" },
		{ "ts,bid,ask\nxx,99,101\n", 2, "timestamp" },
		{ "ts,price,amount\n1,5,1\n2,0,1\n", 3, "price: not positive" },
		{ "ts,price,amount\n1,5,-1\n", 2, "negative" },
		{ "ts,open,high,low,close\n1,1,1,2,1\n", 2, "high: below low" },
		{ "ts,open,high,low,close,volume\n1,1,2,1,1,\n", 2, "missing" },
	};
	(void)state;
	ig_log_set_level(IG_LOG_ERROR);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[128];
		int rc = open_text(cases[i].csv, true);
		if (rc != IG_EPARSE)
			fail_msg("case %zu: rc %d, want IG_EPARSE", i, rc);
		snprintf(want, sizeof(want), "%s:%d: ", tmp_path, cases[i].line);
		expect_err_contains(want);
		expect_err_contains(cases[i].why);
		expect_err_contains("strict");
		assert_false(feed_open);
		assert_int_equal(ig_feed_csv_kind(&feed), -1); /* nothing open */
		unlink(tmp_path);
		/* Without strict the same file opens, with the row counted. */
		assert_int_equal(open_text(cases[i].csv, false), 0);
		assert_int_equal(feed.bad_rows, 1);
		ig_feed_close(&feed);
		feed_open = false;
		unlink(tmp_path);
		tmp_path[0] = '\0';
	}
	/* A clean file opens with strict. */
	assert_int_equal(open_text("ts,bid,ask\n1000,99,101\n", true), 0);
	assert_int_equal(feed.bad_rows, 0);
}

/* ----------------------------------------------------- number parsing */

static void test_float_artefacts_rounded(void **state)
{
	struct ig_event ev;
	(void)state;
	assert_int_equal(open_text("ts,bid,ask,bid_qty,ask_qty\n"
				   /* 21 decimals: past the 18 the parser takes */
				   "1,7325,7325.01,35.06227963,0.0038217599999999996\n"
				   "2,1,2,9.342381490000001,2.2616530700000004\n"
				   /* halves round away from zero */
				   "3,1.000000005,2.000000004999999999999,0.000000015,0.000000025000\n"
				   "4,1.00000000500000000000000001,2,1,1\n",
				   false),
			 0);
	assert_int_equal(feed.bad_rows, 0);
	ev = next_ev();
	assert_int_equal(ev.body.quote.ask_qty, D("0.00382176"));
	assert_int_equal(ev.body.quote.bid_qty, D("35.06227963"));
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_qty, D("9.34238149"));
	assert_int_equal(ev.body.quote.ask_qty, D("2.26165307"));
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_px, D("1.00000001"));
	assert_int_equal(ev.body.quote.ask_px, D("2"));
	assert_int_equal(ev.body.quote.bid_qty, D("0.00000002"));
	assert_int_equal(ev.body.quote.ask_qty, D("0.00000003"));
	ev = next_ev();
	assert_int_equal(ev.body.quote.bid_px, D("1.00000001"));
}

/*
 * Regression (defect 9): a cell with more than 18 decimals was cut after
 * the 18th before parsing, so whatever followed was never looked at: an
 * exponent ("6.12345678901234567890e+03" read as 6.12345679, a thousand
 * times too small) or junk ("100.000...000junk" read as 100), even with
 * feed.strict. Digits past the 18th are still dropped (they cannot change
 * the rounding), but only digits: anything else makes the cell not a
 * number. Strict stops with "path:LINE: COLUMN: why".
 */
static void test_long_cells_validated(void **state)
{
	static const struct {
		const char *csv;
		const char *want; /* after "path:2: " */
	} cases[] = {
		{ "ts,bid,ask\n1,6.12345678901234567890e+03,7000\n", "bid: not a number" },
		{ "ts,price,amount\n1,100.000000000000000000junk,1\n", "price: not a number" },
		{ "ts,price,amount\n1,5,1.0000000000000000000000001x\n", "amount: not a number" },
		{ "ts,price,amount\n1,5.1234567890123456789.5,1\n", "price: not a number" },
		{ "ts,open,high,low,close,volume\n1,1,2,1,1,0.0000000000000000001e5\n",
		  "volume: not a number" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[160];
		int rc = open_text(cases[i].csv, true);
		if (rc != IG_EPARSE)
			fail_msg("case %zu (%s): rc %d, want IG_EPARSE: a cut cell was accepted", i,
				 cases[i].want, rc);
		snprintf(want, sizeof(want), "%s:2: %s", tmp_path, cases[i].want);
		expect_err_contains(want);
		unlink(tmp_path);
		assert_int_equal(open_text(cases[i].csv, false), 0);
		assert_int_equal(feed.rows, 1);
		assert_int_equal(feed.bad_rows, 1);
		assert_int_equal(ig_feed_size(&feed), 0);
		ig_feed_close(&feed);
		feed_open = false;
		unlink(tmp_path);
		tmp_path[0] = '\0';
	}
	/* Long cells of digits still round (float artefacts). */
	assert_int_equal(open_text("ts,price,amount\n1,6.1234567890123456789012345,"
				   "100.0000000000000000000000\n",
				   true),
			 0);
	assert_int_equal(next_ev().body.trade.px, D("6.12345679"));
}

/*
 * Regression (defect 9): a bar whose open or close lay outside [low, high]
 * was accepted. It is malformed: strict stops, naming the column; the
 * edges (open = low, close = high) are fine.
 */
static void test_bar_open_close_within_range(void **state)
{
	static const struct {
		const char *row;
		const char *want;
	} cases[] = {
		{ "1,5,4,1,3", "open: outside [low, high]" },
		{ "1,0.5,4,1,3", "open: outside [low, high]" },
		{ "1,2,4,1,4.00000001", "close: outside [low, high]" },
		{ "1,2,4,1,0.99999999", "close: outside [low, high]" },
		{ "1,2,1,4,2", "high: below low" },
		{ "1,1,1,0,1", "low: not positive" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char csv[128], want[160];
		int rc;
		snprintf(csv, sizeof(csv), "ts,open,high,low,close\n%s\n", cases[i].row);
		rc = open_text(csv, true);
		if (rc != IG_EPARSE)
			fail_msg("bar %s: rc %d, want IG_EPARSE (%s)", cases[i].row, rc, cases[i].want);
		snprintf(want, sizeof(want), "%s:2: %s", tmp_path, cases[i].want);
		expect_err_contains(want);
		unlink(tmp_path);
		assert_int_equal(open_text(csv, false), 0);
		assert_int_equal(feed.bad_rows, 1);
		ig_feed_close(&feed);
		feed_open = false;
		unlink(tmp_path);
		tmp_path[0] = '\0';
	}
	assert_int_equal(open_text("ts,open,high,low,close\n1,1,4,1,4\n2,4,4,1,1\n3,2,2,2,2\n", true),
			 0);
	assert_int_equal(ig_feed_size(&feed), 3);
}

/* Every strict message names the column: "path:LINE: COLUMN: why". */
static void test_strict_message_names_column(void **state)
{
	static const struct {
		const char *csv;
		int line;
		const char *want;
	} cases[] = {
		{ "ts,bid,ask,bid_qty,ask_qty\n1000,99,101,1\n", 2, "ask_qty: missing field" },
		{ "utc_time,bid,ask\nxx,99,101\n", 2, "utc_time: bad timestamp" },
		{ "ts,bid,ask\n1000,99,101\n999,99,101\n", 3, "ts: timestamp goes backwards" },
		{ "ts,bid,ask\n1000,102,101\n", 2, "bid: above ask (crossed quote)" },
		{ "ts,bid,ask\n1000,0,101\n", 2, "bid: not positive" },
		{ "ts,bid,ask,bid_qty\n1000,99,101,-1\n", 2, "bid_qty: negative" },
		{ "ts,price,amount\n1,5,-1\n", 2, "amount: negative" },
		{ "ts,open,high,low,close,volume\n1,1,1,1,1,-2\n", 2, "volume: negative" },
		{ "ts,price,amount\n1,5,1,7\n", 2, "field 4: more fields than the header (3)" },
		{ "ts,price,amount\n1,5,\n", 2, "amount: missing field" },
		{ "ts,price,amount\n1,99999999999999999999,1\n", 2, "price: out of range" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[160];
		int rc = open_text(cases[i].csv, true);
		if (rc != IG_EPARSE)
			fail_msg("case %zu: rc %d, want IG_EPARSE", i, rc);
		snprintf(want, sizeof(want), "%s:%d: %s", tmp_path, cases[i].line, cases[i].want);
		expect_err_contains(want);
		unlink(tmp_path);
		tmp_path[0] = '\0';
	}
}

/* Runs ig_feed_open on text without strict with stderr (where the log
 * writes before ig_log_start) captured; returns the number of lines. */
static int warn_lines(const char *text, char *out, size_t cap)
{
	char cap_path[] = "/tmp/ig_csv_log_XXXXXX";
	int fd = mkstemp(cap_path), saved, lines = 0;
	ssize_t n;
	enum ig_log_level lvl = ig_log_level();

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	ig_log_set_level(IG_LOG_WARN);
	assert_int_equal(open_text(text, false), 0);
	fflush(stderr);
	ig_log_set_level(lvl);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	n = read(fd, out, cap - 1);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	unlink(cap_path);
	for (ssize_t i = 0; i < n; i++)
		lines += out[i] == '\n';
	return lines;
}

/* Without strict, each kind of problem is logged once (with its first
 * line), then only counted; one summary line at the end. */
static void test_bad_rows_warn_once_per_kind(void **state)
{
	char log[4096];
	int lines;
	(void)state;
	lines = warn_lines("ts,bid,ask\n"
			   "1,abc,101\n"  /* 2: bid: not a number */
			   "2,99,101\n"
			   "3,xyz,101\n"  /* 4: same kind */
			   "4,99,x\n"     /* 5: ask: not a number: another column */
			   "5,102,101\n"  /* 6: crossed */
			   "6,1e3,101\n", /* 7: bid: not a number again */
			   log, sizeof(log));
	assert_int_equal(feed.bad_rows, 5);
	if (lines != 4)
		fail_msg("%d log lines, want 4 (3 kinds + summary):\n%s", lines, log);
	if (strstr(log, ":2: bid: not a number") == NULL || strstr(log, ":5: ask: not a number") == NULL ||
	    strstr(log, ":6: bid: above ask") == NULL || strstr(log, "5 of 6 rows skipped") == NULL)
		fail_msg("log lacks a first occurrence or the summary:\n%s", log);
}

/* ------------------------------------------------------- bundled data */

static void test_bundled_data(void **state)
{
	struct ig_event ev;
	int64_t prev = INT64_MIN, due;
	uint64_t n = 0;
	(void)state;

	assert_int_equal(open_path("data/coinbase_btcusd_minute_quotes.csv", true), 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_QUOTES);
	assert_int_equal(feed.rows, 7188);
	assert_int_equal(feed.bad_rows, 0);
	assert_int_equal(ig_feed_size(&feed), 7188);
	ev = next_ev();
	/* 2017-09-03T00:00:00Z,4642.42,...,4642.42,0.14,...,4649.95,0.4 */
	assert_int_equal(ev.hdr.ts_event_ns, 1504396800 * NS);
	assert_int_equal(ev.body.quote.bid_px, D("4642.42"));
	assert_int_equal(ev.body.quote.bid_qty, D("0.14"));
	assert_int_equal(ev.body.quote.ask_px, D("4649.95"));
	assert_int_equal(ev.body.quote.ask_qty, D("0.4"));
	/* The rest, streamed (the first is events[0]). */
	{
		static struct ig_event events[7188];
		uint64_t got = 1;
		events[0] = ev;
		while (got < 7188 && ig_feed_next(&feed, 0, &events[got], &due) == 1)
			got++;
		assert_int_equal(got, 7188);
		assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
		/* Line 4433 is data row 4432: ask size 0.0038217599999999996. */
		assert_int_equal(events[4431].body.quote.ask_qty, D("0.00382176"));
		assert_int_equal(events[4431].body.quote.bid_px, D("7325"));
		/* Last row: sizes 2.2616530700000004 and 70.15211337000005. */
		assert_int_equal(events[7187].body.quote.bid_qty, D("2.26165307"));
		assert_int_equal(events[7187].body.quote.ask_qty, D("70.15211337"));
		for (uint64_t i = 0; i < ig_feed_size(&feed); i++) {
			const struct ig_quote *q = &events[i].body.quote;
			assert_true(events[i].hdr.ts_event_ns >= prev);
			assert_true(q->bid_px > 0 && q->bid_px <= q->ask_px);
			prev = events[i].hdr.ts_event_ns;
		}
	}
	ig_feed_close(&feed);
	feed_open = false;

	assert_int_equal(open_path("data/coinbase_btcusd_minute_bars.csv", true), 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_BARS);
	assert_int_equal(feed.rows, 12423);
	assert_int_equal(feed.bad_rows, 0);
	ev = next_ev();
	assert_int_equal(ev.body.bar.close_px, D("611.9"));
	ig_feed_close(&feed);
	feed_open = false;

	assert_int_equal(open_path("data/bitstamp_btcusd_trades_2011.csv", true), 0);
	assert_int_equal(ig_feed_csv_kind(&feed), IG_CSV_TRADES);
	assert_int_equal(feed.rows, 9999);
	assert_int_equal(feed.bad_rows, 0);
	ev = next_ev();
	assert_int_equal(ev.hdr.ts_event_ns, INT64_C(1315922016) * NS);
	assert_int_equal(ev.body.trade.px, D("5.8"));
	n = 1;
	while (ig_feed_next(&feed, 0, &ev, &due) == 1)
		n++;
	assert_int_equal(n, 9999);
}

/* ------------------------------------------------------------ pacing */

#define PACE_CSV "ts,bid,ask\n1000,1,2\n1060,1,2\n1120,1,2\n1000000,1,2\n"

static void test_pacing_unpaced(void **state)
{
	struct ig_event ev;
	int64_t due = -1;
	(void)state;
	cfg.feed.speed = 0;
	cfg.feed.rate = 0;
	assert_int_equal(open_text(PACE_CSV, false), 0);
	/* Every event is due at once, whatever now is. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), 1);
	assert_int_equal(due, -1); /* never asked to wait */
	assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
}

static void test_pacing_rate(void **state)
{
	struct ig_event ev;
	const int64_t now = 5 * NS;
	int64_t due = -1;
	(void)state;
	cfg.feed.speed = 0;
	cfg.feed.rate = 1000; /* 1 ms apart, whatever the data's times */
	assert_int_equal(open_text(PACE_CSV, false), 0);
	assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 1);
	assert_int_equal(ev.hdr.ts_event_ns, 1000 * NS);
	/* Not due at the same now: 1 ms later. */
	assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 0);
	assert_int_equal(due, now + MS);
	assert_int_equal(ig_feed_next(&feed, now + MS - 1, &ev, &due), 0);
	assert_int_equal(due, now + MS);
	assert_int_equal(ig_feed_next(&feed, now + MS, &ev, &due), 1);
	assert_int_equal(ev.hdr.ts_event_ns, 1060 * NS);
	/* The schedule is from the first event, so a late poll catches up. */
	assert_int_equal(ig_feed_next(&feed, now + 10 * MS, &ev, &due), 1);
	assert_int_equal(ig_feed_next(&feed, now + 10 * MS, &ev, &due), 1);
	assert_int_equal(ev.hdr.ts_event_ns, 1000000 * NS); /* a jump costs nothing */
	assert_int_equal(ig_feed_next(&feed, now + 10 * MS, &ev, &due), IG_EEOF);
}

static void test_pacing_speed(void **state)
{
	static const int64_t speeds[] = { 1, 60, 600 };
	(void)state;
	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		struct ig_event ev;
		const int64_t now = 7 * NS, k = speeds[i];
		int64_t due = -1;
		cfg.feed.speed = k;
		cfg.feed.rate = 0;
		assert_int_equal(open_text(PACE_CSV, false), 0);
		assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 1);
		/* Rows are 60 s of data time apart: due 60/k s later. */
		assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 0);
		assert_int_equal(due, now + 60 * NS / k);
		assert_int_equal(ig_feed_next(&feed, due - 1, &ev, &due), 0);
		assert_int_equal(ig_feed_next(&feed, now + 60 * NS / k, &ev, &due), 1);
		assert_int_equal(ev.hdr.ts_event_ns, 1060 * NS);
		assert_int_equal(ig_feed_next(&feed, now + 60 * NS / k, &ev, &due), 0);
		assert_int_equal(due, now + 120 * NS / k);
		assert_int_equal(ig_feed_next(&feed, now + 120 * NS / k, &ev, &due), 1);
		/* The jump forward: due (1000000 - 1000) / k s after the start. */
		assert_int_equal(ig_feed_next(&feed, now + 120 * NS / k, &ev, &due), 0);
		assert_int_equal(due, now + (1000000 - 1000) * NS / k);
		ig_feed_close(&feed);
		feed_open = false;
		unlink(tmp_path);
		tmp_path[0] = '\0';
	}
}

/* --------------------------------------------------------- synthetic */

static void test_synthetic_deterministic(void **state)
{
	static struct ig_event a[500];
	struct ig_event ev;
	int64_t due = -1;
	bool differs = false;
	(void)state;
	cfg.feed.source = IG_FEED_SYNTHETIC;
	cfg.feed.count = 500;
	cfg.feed.rate = 0;
	cfg.feed.seed = 42;
	assert_int_equal(open_path("", false), 0);
	assert_int_equal(ig_feed_size(&feed), 500);
	for (int i = 0; i < 500; i++) {
		const struct ig_quote *q;
		a[i] = next_ev();
		q = &a[i].body.quote;
		assert_int_equal(a[i].hdr.type, IG_EV_QUOTE);
		assert_true(q->bid_px > 0 && q->bid_px < q->ask_px);
		assert_int_equal(q->bid_qty, cfg.feed.qty);
		assert_int_equal(q->ask_qty, cfg.feed.qty);
		/* Prices on the tick grid; 1 ms of data time per event. */
		assert_int_equal((q->bid_px + q->ask_px) / 2 % cfg.feed.tick_size, 0);
		if (i > 0)
			assert_int_equal(a[i].hdr.ts_event_ns - a[i - 1].hdr.ts_event_ns, MS);
	}
	assert_int_equal(ig_feed_next(&feed, 0, &ev, &due), IG_EEOF);
	ig_feed_close(&feed);

	/* Same seed, same walk. */
	assert_int_equal(open_path("", false), 0);
	for (int i = 0; i < 500; i++) {
		ev = next_ev();
		assert_memory_equal(&ev.body.quote, &a[i].body.quote, sizeof(ev.body.quote));
		assert_int_equal(ev.hdr.ts_event_ns, a[i].hdr.ts_event_ns);
	}
	ig_feed_close(&feed);

	/* Another seed, another walk. */
	cfg.feed.seed = 43;
	assert_int_equal(open_path("", false), 0);
	for (int i = 0; i < 500; i++) {
		ev = next_ev();
		differs |= ev.body.quote.bid_px != a[i].body.quote.bid_px;
	}
	assert_true(differs);
	ig_feed_close(&feed);
	feed_open = false;
}

static void test_synthetic_rate_and_unbounded(void **state)
{
	struct ig_event ev;
	const int64_t now = 3 * NS;
	int64_t due = -1;
	(void)state;
	cfg.feed.source = IG_FEED_SYNTHETIC;
	cfg.feed.count = 0; /* unbounded */
	cfg.feed.rate = 250;
	assert_int_equal(open_path("", false), 0);
	assert_int_equal(ig_feed_size(&feed), 0);
	assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 1);
	assert_int_equal(ig_feed_next(&feed, now, &ev, &due), 0);
	assert_int_equal(due, now + 4 * MS);
	assert_int_equal(ig_feed_next(&feed, now + 4 * MS, &ev, &due), 1);
	/* Data time follows the rate: 4 ms per event. */
	assert_int_equal(ev.hdr.ts_event_ns - INT64_C(1577836800000000000), 4 * MS);
	for (int i = 0; i < 100000; i++)
		assert_int_equal(ig_feed_next(&feed, INT64_MAX / 2, &ev, &due), 1);
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
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_parse_ts_iso),
		T(test_parse_ts_unix),
		T(test_parse_ts_unix_ns_19_digits),
		T(test_parse_ts_out_of_range_refused),
		T(test_detect_quotes),
		T(test_detect_quotes_aliases_crlf_comments),
		T(test_detect_trades),
		T(test_detect_bars),
		T(test_unknown_header_refused),
		T(test_missing_file),
		T(test_bad_rows_skipped_and_counted),
		T(test_bad_rows_strict),
		T(test_float_artefacts_rounded),
		T(test_long_cells_validated),
		T(test_bar_open_close_within_range),
		T(test_strict_message_names_column),
		T(test_bad_rows_warn_once_per_kind),
		T(test_bundled_data),
		T(test_pacing_unpaced),
		T(test_pacing_rate),
		T(test_pacing_speed),
		T(test_synthetic_deterministic),
		T(test_synthetic_rate_and_unbounded),
#undef T
	};
	chdir_to_root();
	ig_log_set_level(IG_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
