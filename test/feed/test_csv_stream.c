/*
 * test_csv_stream.c - the CSV feed streams its files (issue 12, "Memory
 * flat in the number of events"): rows that straddle the read buffer's
 * boundary (every buffer size from 1 byte up, through the test hook
 * ig__feed_csv_set_buffer), a last row without a newline, CRLF, a strict
 * error's file:line, a 2-file merge longer than the buffer (with a window,
 * and against the preload), and the max RSS of `ingenium backtest` on a
 * 1M-row bar file against a 10k-row one.
 *
 * Fixtures are written by the test into a private directory under /tmp.
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

#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IG_TEST_VARIANT
#define IG_TEST_VARIANT "release"
#endif

#define NS INT64_C(1000000000)
#define MAX_EVENTS 8192
#define MAX_FILES 8

static struct ig_config cfg; /* large: static */
static char err[IG_CFG_ERR_MAX];
static char dir[64];
static char files[MAX_FILES][128];
static int nfiles;
static char build_dir[512]; /* where this binary's ingenium is */

/* Two runs' events (static: large). */
static struct ig_event want_evs[MAX_EVENTS], got_evs[MAX_EVENTS];

/* Writes text to dir/name; returns the path (static storage). */
static const char *put(const char *name, const char *text)
{
	FILE *f;
	assert_true(nfiles < MAX_FILES);
	snprintf(files[nfiles], sizeof(files[nfiles]), "%s/%s", dir, name);
	f = fopen(files[nfiles], "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return files[nfiles++];
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ig_stream_XXXXXX");
	assert_non_null(mkdtemp(dir));
	nfiles = 0;
	ig_config_defaults(&cfg);
	cfg.feed.source = IG_FEED_CSV;
	memset(err, 0, sizeof(err));
	ig__feed_csv_set_buffer(0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ig__feed_csv_set_buffer(0);
	for (int i = 0; i < nfiles; i++)
		unlink(files[i]);
	rmdir(dir);
	return 0;
}

/* What one open-and-drain gave. */
struct run {
	int rc;
	size_t n;
	uint64_t size, rows, bad_rows;
	char err[IG_CFG_ERR_MAX];
};

/* Opens cfg's feed with a read buffer of buf bytes (0: the default) and
 * drains it into evs. Returns what happened. */
static struct run drain(size_t buf, struct ig_event *evs)
{
	static struct ig_feed f;
	struct run r = { 0 };
	struct ig_event ev;
	int64_t due;
	int rc;

	ig__feed_csv_set_buffer(buf);
	r.rc = ig_feed_open(&f, &cfg, 0, NULL, NULL, r.err, sizeof(r.err));
	ig__feed_csv_set_buffer(0);
	if (r.rc != 0)
		return r;
	r.size = ig_feed_size(&f);
	while ((rc = ig_feed_next(&f, 0, &ev, &due)) == 1) {
		assert_true(r.n < MAX_EVENTS);
		evs[r.n++] = ev;
	}
	assert_int_equal(rc, IG_EEOF);
	r.rows = ig_feed_rows(&f);
	r.bad_rows = ig_feed_bad_rows(&f);
	ig_feed_close(&f);
	return r;
}

/* Drains cfg's feed with the default buffer, then with every buffer size
 * from 1 to maxbuf bytes, and checks that each gives the same result
 * (events byte for byte, counts, or the same error). Returns the default
 * run (its events in want_evs). */
static struct run same_for_every_buffer(size_t maxbuf)
{
	struct run want = drain(0, want_evs);

	if (want.rc == 0)
		assert_int_equal(want.n, want.size);
	for (size_t b = 1; b <= maxbuf; b++) {
		struct run got = drain(b, got_evs);
		if (got.rc != want.rc || strcmp(got.err, want.err) != 0)
			fail_msg("buffer %zu: rc %d \"%s\", want rc %d \"%s\"", b, got.rc, got.err,
				 want.rc, want.err);
		if (got.n != want.n || got.size != want.size || got.rows != want.rows ||
		    got.bad_rows != want.bad_rows)
			fail_msg("buffer %zu: %zu events (size %llu, rows %llu, bad %llu), want %zu "
				 "(%llu, %llu, %llu)", b, got.n, (unsigned long long)got.size,
				 (unsigned long long)got.rows, (unsigned long long)got.bad_rows,
				 want.n, (unsigned long long)want.size,
				 (unsigned long long)want.rows, (unsigned long long)want.bad_rows);
		for (size_t i = 0; i < want.n; i++)
			if (memcmp(&got_evs[i], &want_evs[i], sizeof(struct ig_event)) != 0)
				fail_msg("buffer %zu: event %zu differs", b, i);
	}
	return want;
}

static void use_path(const char *path)
{
	snprintf(cfg.feed.path, sizeof(cfg.feed.path), "%s", path);
}

/* ------------------------------------------------------------ buffers */

/* Rows straddle the buffer's boundary at every offset (and lines longer
 * than the buffer grow it): every buffer size gives the same events, bad
 * rows and counts as the default one. */
static void test_rows_straddle_buffer(void **state)
{
	struct run r;
	(void)state;
	ig_log_set_level(IG_LOG_ERROR); /* the bad rows' warnings */
	use_path(put("q.csv", "# quotes\n"
			      "ts,bid,ask,bid_qty,ask_qty\n"
			      "1000,99.5,101.25,1,2\n"
			      "\n"
			      "1001,99,101,1\n"          /* missing field */
			      "1002,99.75,100.5,3,4\n"
			      "1003,102,101,1,1\n"       /* crossed */
			      "1003,99.125,100,0.5,0.25\n"
			      "1004,99,101,1,2,3\n"      /* more fields */
			      "1005,  98 , 99 ,1,1\n"));
	r = same_for_every_buffer(80);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.rows, 7);
	assert_int_equal(r.bad_rows, 3);
	assert_int_equal(want_evs[1].body.quote.bid_px, IG_FIXED(99) + IG_FIXED(3) / 4);
	assert_int_equal(want_evs[3].hdr.ts_event_ns, 1005 * NS);
	assert_int_equal(want_evs[3].body.quote.ask_px, IG_FIXED(99));
}

/* A last row without a newline is a row, whatever the buffer. */
static void test_last_row_without_newline(void **state)
{
	struct run r;
	(void)state;
	use_path(put("t.csv", "ts,price,amount,side\n1,5,1,buy\n2,6,2,sell"));
	r = same_for_every_buffer(40);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.rows, 2);
	assert_int_equal(want_evs[1].hdr.ts_event_ns, 2 * NS);
	assert_int_equal(want_evs[1].body.trade.px, IG_FIXED(6));
	assert_int_equal(want_evs[1].body.trade.qty, IG_FIXED(2));
	assert_int_equal(want_evs[1].body.trade.aggressor, IG_SIDE_SELL);
}

/* CRLF line ends (the CR and LF may fall on either side of the buffer's
 * boundary), with and without a last CRLF. */
static void test_crlf(void **state)
{
	struct run r;
	(void)state;
	use_path(put("c.csv", "Date,Open,High,Low,Close,Adj Close,Volume\r\n"
			      "2024-01-02,10,12,9,11,11,100\r\n"
			      "\r\n"
			      "2024-01-03,11,13,10,12.5,12.5,200\r\n"));
	r = same_for_every_buffer(60);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.bad_rows, 0);
	assert_int_equal(want_evs[1].body.bar.close_px, IG_FIXED(125) / 10);
	assert_int_equal(want_evs[1].body.bar.volume, IG_FIXED(200));
	assert_int_equal(want_evs[1].body.bar.period_ns, 86400 * NS);

	use_path(put("c2.csv", "ts,bid,ask\r\n1,99,101\r\n2,98,100"));
	r = same_for_every_buffer(30);
	assert_int_equal(r.n, 2);
	assert_int_equal(want_evs[1].body.quote.ask_px, IG_FIXED(100));
}

/* With feed.strict a bad row fails the open with its file:line, whatever
 * the buffer (the pre-pass checks every row before the run). */
static void test_strict_line_with_small_buffer(void **state)
{
	struct run r;
	char want[192];
	const char *path;
	(void)state;
	path = put("s.csv", "ts,bid,ask\n1,99,101\n# c\n\n2,99,101\n3,abc,101\n4,99,101\n");
	use_path(path);
	cfg.feed.strict = true;
	r = same_for_every_buffer(40);
	assert_int_equal(r.rc, IG_EPARSE);
	snprintf(want, sizeof(want), "%s:6: bid: not a number (feed.strict is on)", path);
	if (strcmp(r.err, want) != 0)
		fail_msg("error \"%s\", want \"%s\"", r.err, want);
}

/* ------------------------------------------------------------ merge */

/* Writes n bars of symbol file k, at times t0 + i * step (some equal
 * between the files), into dir/name. Returns the path. */
static const char *bars(const char *name, int n, int64_t t0, int64_t step, int k, bool symcol)
{
	size_t cap = (size_t)n * 64 + 64, o = 0;
	char *text = malloc(cap);
	const char *path;
	assert_non_null(text);
	o += (size_t)snprintf(text + o, cap - o, "%s", symcol ? "ts,symbol,open,high,low,close,volume\n"
							    : "ts,open,high,low,close,volume\n");
	for (int i = 0; i < n; i++) {
		int px = 100 + (i * 7 + k * 3) % 50;
		if (symcol)
			o += (size_t)snprintf(text + o, cap - o, "%lld,%s,%d,%d,%d,%d.%d,%d\n",
					      (long long)(t0 + i * step), i % 3 ? "AAA" : "BBB",
					      px, px + 2, px - 1, px, i % 10, i);
		else
			o += (size_t)snprintf(text + o, cap - o, "%lld,%d,%d,%d,%d.%d,%d\n",
					      (long long)(t0 + i * step), px, px + 2, px - 1, px,
					      i % 10, i);
	}
	path = put(name, text);
	free(text);
	return path;
}

/* Two files, each many times the buffer, merged by time: ties to the file
 * listed first; the same with every small buffer, and the same as the
 * preload; a window gives the full run's events in it. */
static void test_two_file_merge_longer_than_buffer(void **state)
{
	struct run full, r;
	struct ig_feed_data *data = NULL;
	static struct ig_feed f;
	size_t lo = 0, hi = 0, k = 0;
	(void)state;
	/* 1500 and 1000 rows (~40 KB): file a every 60 s, file b every 90 s,
	 * so every third a-row ties with a b-row. b carries a symbol column. */
	snprintf(cfg.feed.files[0].path, sizeof(cfg.feed.files[0].path), "%s",
		 bars("a.csv", 1500, 1700000000, 60, 0, false));
	snprintf(cfg.feed.files[0].symbol, sizeof(cfg.feed.files[0].symbol), "X");
	snprintf(cfg.feed.files[1].path, sizeof(cfg.feed.files[1].path), "%s",
		 bars("b.csv", 1000, 1700000000, 90, 1, true));
	cfg.feed.files[1].symbol[0] = '\0';
	cfg.feed.nfiles = 2;
	snprintf(cfg.feed.symbols[0], sizeof(cfg.feed.symbols[0]), "AAA");
	snprintf(cfg.feed.symbols[1], sizeof(cfg.feed.symbols[1]), "BBB");
	cfg.feed.nsymbols = 2;
	cfg.feed.path[0] = '\0';

	full = same_for_every_buffer(0);
	assert_int_equal(full.rc, 0);
	assert_int_equal(full.n, 2500);
	for (size_t i = 1; i < full.n; i++) {
		const struct ig_event *p = &want_evs[i - 1], *e = &want_evs[i];
		assert_true(p->hdr.ts_event_ns <= e->hdr.ts_event_ns);
		/* A tie: file a (instrument 2, X) first. */
		if (p->hdr.ts_event_ns == e->hdr.ts_event_ns)
			assert_true(p->hdr.instrument_id == 2 && e->hdr.instrument_id != 2);
	}
	for (int b = 1; b <= 3; b++) {
		r = drain((size_t)(b * 97), got_evs); /* odd sizes, far below 40 KB */
		assert_int_equal(r.n, full.n);
		assert_memory_equal(got_evs, want_evs, full.n * sizeof(struct ig_event));
	}

	/* The preload holds the same events. */
	assert_int_equal(ig_feed_preload(&cfg, &data, err, sizeof(err)), 0);
	assert_int_equal(data->nevents, full.n);
	assert_memory_equal(data->events, want_evs, full.n * sizeof(struct ig_event));

	/* A window: the full run's events in [from, to), with their bar
	 * periods (the stream starts mid-file, in the state of the row before). */
	cfg.feed.from_ns = (1700000000 + 20000) * NS + 1;
	cfg.feed.to_ns = (1700000000 + 50000) * NS;
	while (lo < full.n && want_evs[lo].hdr.ts_event_ns < cfg.feed.from_ns)
		lo++;
	hi = lo;
	while (hi < full.n && want_evs[hi].hdr.ts_event_ns < cfg.feed.to_ns)
		hi++;
	assert_true(lo > 0 && hi > lo && hi < full.n);
	for (int b = 0; b <= 2; b++) {
		r = drain((size_t)(b * 131), got_evs);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.n, hi - lo);
		assert_int_equal(r.size, hi - lo);
		assert_int_equal(r.rows, 2500); /* the whole files' */
		assert_memory_equal(got_evs, &want_evs[lo], (hi - lo) * sizeof(struct ig_event));
	}
	/* ... as the preload replays it. */
	assert_int_equal(ig_feed_open_data(&f, &cfg, data, err, sizeof(err)), 0);
	{
		struct ig_event ev;
		int64_t due;
		while (ig_feed_next(&f, 0, &ev, &due) == 1) {
			assert_true(k < hi - lo);
			assert_memory_equal(&ev, &want_evs[lo + k], sizeof(ev));
			k++;
		}
	}
	assert_int_equal(k, hi - lo);
	ig_feed_close(&f);
	ig_feed_data_free(data);
}

/* ------------------------------------------------------------ memory */

/* Writes an n-row bar file to path. */
static void write_bars(const char *path, long n)
{
	FILE *fp = fopen(path, "w");
	long px = 3000000; /* cents */
	uint32_t x = 12345;
	assert_non_null(fp);
	fputs("ts,open,high,low,close,volume\n", fp);
	for (long i = 0; i < n; i++) {
		long o = px, c;
		x = x * 1103515245u + 12345u;
		px += (long)((x >> 16) % 601) - 300;
		if (px < 100000)
			px = 100000;
		c = px;
		fprintf(fp, "%ld,%ld.%02ld,%ld.%02ld,%ld.%02ld,%ld.%02ld,%u.%u\n", 1600000000 + i * 60,
			o / 100, o % 100, (o > c ? o : c) / 100 + 1, (o > c ? o : c) % 100,
			(o < c ? o : c) / 100 - 1, (o < c ? o : c) % 100, c / 100, c % 100,
			(x >> 8) % 10, x % 10);
	}
	assert_int_equal(fclose(fp), 0);
}

/* Runs `ingenium backtest -c cfgpath --set feed.path=csv` as a child and
 * returns its max RSS in KiB (the run must succeed). */
static long backtest_maxrss_kb(const char *cfgpath, const char *csv)
{
	char bin[600], set[300];
	struct rusage ru;
	int status = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/ingenium", build_dir);
	snprintf(set, sizeof(set), "feed.path=%s", csv);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execl(bin, bin, "backtest", "-c", cfgpath, "--set", set, (char *)NULL);
		_exit(127);
	}
	memset(&ru, 0, sizeof(ru));
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s backtest on %s: status %d", bin, csv, status);
	return ru.ru_maxrss;
}

/* A backtest's max RSS is flat in the number of events: 1M bars cost less
 * than 8 MB more than 10k (reading whole files it was ~175 MB more). */
static void test_memory_flat_in_events(void **state)
{
	const char *cfgpath, *small, *big;
	long rss_small, rss_big;
	(void)state;
	if (strcmp(IG_TEST_VARIANT, "release") != 0) {
		print_message("memory check skipped in the %s build (sanitizer memory)\n",
			      IG_TEST_VARIANT);
		skip();
	}
	cfgpath = put("bt.yaml", "engine: {threading: inline}\n"
				 "feed: {source: csv, path: x.csv, symbol: BTCUSD}\n"
				 "venue: {kind: paper, taker_fee_bps: 10}\n"
				 "risk: {max_order_qty: \"1\", max_order_notional: \"1000000\",\n"
				 "       max_position_qty: \"2\", max_orders_per_sec: 1000000,\n"
				 "       price_collar_bps: 5000, stale_data_ms: 0}\n"
				 "strategies:\n"
				 "  - {name: sma, type: sma_cross, symbols: [BTCUSD], capital: \"1000000\",\n"
				 "     params: {fast: 10, slow: 30, qty: \"0.5\"}}\n");
	small = put("bars_10k.csv", "");
	big = put("bars_1m.csv", "");
	write_bars(small, 10000);
	write_bars(big, 1000000);
	rss_small = backtest_maxrss_kb(cfgpath, small);
	rss_big = backtest_maxrss_kb(cfgpath, big);
	print_message("max RSS: 10k bars %ld KiB, 1M bars %ld KiB (difference %ld KiB)\n",
		      rss_small, rss_big, rss_big - rss_small);
	assert_true(rss_big - rss_small < 8 * 1024);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rows_straddle_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_row_without_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crlf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_line_with_small_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_file_merge_longer_than_buffer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_memory_flat_in_events, setup, teardown),
	};
	char self[512];

	/* This binary is BUILD/test/feed/test_csv_stream; ingenium is BUILD/. */
	(void)argc;
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(build_dir, sizeof(build_dir), "%s/../..", dirname(self));
	ig_log_set_level(IG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
