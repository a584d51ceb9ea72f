/*
 * test_history_review.c - review findings on `ingenium history` (issue
 * 14): an OMS driven by the stage-handler harness (test/oms) with the
 * recorder hooked to it in sync mode, writing into a real SQLite store,
 * then the CLI run in this process on that store. So each test compares
 * what a user reads from `history` with what the OMS itself booked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../oms/oms_harness.h"
#include "app/history.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/order.h"
#include "store/recorder.h"
#include "store/store.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1600000000000000000) /* 2020-09-13T12:26:40Z */
#define D(s) oh_D(s)

static struct ig_config cfg;
static struct ig_oms oms;
static struct oh_cap out;
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_history_review", .capital = "100000", .check_sanity = true,
};

static char dir[64], db[128];
static struct ig_recorder *rec;
static const char *const syms[] = { "BTCUSD" };

static int setup(void **state)
{
	int rc = oh_setup(state);
	snprintf(dir, sizeof(dir), "/tmp/ig_hist_review_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/h.db", dir);
	snprintf(cfg.store.daemon_id, sizeof(cfg.store.daemon_id), "d1");
	cfg.store.equity_every_s = 0;
	rec = NULL;
	return rc;
}

static int teardown(void **state)
{
	char cmd[160];
	ig_recorder_destroy(rec);
	rec = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return -1;
	return oh_teardown(state);
}

/* Starts the OMS with a sync recorder into the SQLite store at db. */
static void start_recording(void)
{
	struct ig_recorder_opts ro;
	char err[256];
	oh_start();
	memset(&ro, 0, sizeof(ro));
	ro.ops = &ig_store_sqlite_ops;
	ro.target = db;
	ro.cfg = &cfg;
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 1;
	ro.started_at = T0;
	ro.sync = true;
	ro.no_session = true;
	assert_int_equal(ig_recorder_create(&rec, &ro, err, sizeof(err)), 0);
	assert_int_equal(ig_recorder_attach(rec, &oms), 0);
	assert_int_equal(ig_recorder_start(rec), 0);
}

static void stop_recording(void)
{
	assert_int_equal(ig_recorder_stop(rec, 0), 0);
}

/* Runs `ingenium history --store sqlite:db WHAT [EXTRA...] --csv` here,
 * its standard output into o. Returns the exit status. */
static int history(const char *what, const char *const *extra, int nextra, char *o, size_t cap)
{
	char store[160], tmp[] = "/tmp/ig_hist_out_XXXXXX";
	char *argv[16];
	int argc = 0, fd = mkstemp(tmp), saved, rc;
	ssize_t n;

	assert_true(fd >= 0);
	assert_true(nextra <= 10);
	snprintf(store, sizeof(store), "sqlite:%s", db);
	argv[argc++] = (char *)(uintptr_t) "history";
	argv[argc++] = (char *)(uintptr_t) "--store";
	argv[argc++] = store;
	argv[argc++] = (char *)(uintptr_t)what;
	for (int i = 0; i < nextra; i++)
		argv[argc++] = (char *)(uintptr_t)extra[i];
	argv[argc++] = (char *)(uintptr_t) "--csv";
	argv[argc] = NULL;
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = ig_history_main(argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, o, cap - 1, 0);
	o[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmp);
	return rc;
}

static const char *fx(int64_t v, char *b, size_t cap)
{
	ig_fixed_format(v, b, cap);
	return b;
}

/* `history pnl --strategy s0` must print, for a run within one UTC day,
 * the OMS's own realized, fees, fills and position for s0. */
static void assert_pnl_is_the_oms(const char *day)
{
	struct ig_oms_totals t;
	char o[1024], want[512], a[40], b[40], c[40], d[40];
	static const char *const extra[] = { "--strategy", "s0" };

	ig_oms_totals(&oms, 0, &t);
	snprintf(want, sizeof(want),
		 "daemon_id,strategy,day,realized,fees,net,trades,end_position\n"
		 "d1,s0,%s,%s,%s,%s,%" PRIu64 ",%s\n",
		 day, fx(t.realized, a, sizeof(a)), fx(t.fees, b, sizeof(b)),
		 fx(t.realized - t.fees, c, sizeof(c)), t.fills, fx(t.qty, d, sizeof(d)));
	assert_int_equal(history("pnl", extra, 2, o, sizeof(o)), 0);
	assert_string_equal(o, want);
}

/* Sends an order and has the venue accept it. */
static void order(uint64_t cid, enum ig_side side, const char *px, const char *qty, int64_t t_ms)
{
	oh_send_ok(OH_BY_REF(oh_ord(0, cid, side, IG_ORD_LIMIT, px, qty, t_ms)), "?");
	oh_venue_update(0, cid, IG_OS_ACCEPTED);
}

/* A fill with both fees, as the OMS takes it. */
static void fill2(uint64_t cid, uint64_t trade, enum ig_side side, const char *px, const char *qty,
		  const char *fee, const char *fee_base)
{
	struct ig_event f = oh_fill_ev(oh_now_ns(), 0, cid, trade, side, px, qty, fee);
	uint64_t n = oms.s[0].fills;
	f.body.fill.fee_base = D(fee_base);
	oh_handle(&f);
	assert_int_equal(oms.s[0].fills, n + 1);
}

/* Sound: quote fees, a base fee (Luno's buyers), a rebate, partial
 * fills, back to flat (spot: the OMS never goes short): pnl equals the
 * OMS's books. */
static void test_pnl_equals_oms_fees_rebates(void **state)
{
	(void)state;
	start_recording();
	oh_quote(0, "100", "100");
	order(10, IG_SIDE_BUY, "100", "1", 1);
	fill2(10, 1, IG_SIDE_BUY, "100", "1", "0.1", "0");
	order(11, IG_SIDE_BUY, "120", "1", 2);
	fill2(11, 2, IG_SIDE_BUY, "120", "1", "0", "0.001");
	order(12, IG_SIDE_SELL, "110", "1.5", 3);
	fill2(12, 3, IG_SIDE_SELL, "110", "1.5", "-0.05", "0");
	order(13, IG_SIDE_BUY, "105", "2", 4);
	fill2(13, 4, IG_SIDE_BUY, "105", "2", "0.02", "0");
	order(14, IG_SIDE_SELL, "90", "2.499", 5);
	fill2(14, 5, IG_SIDE_SELL, "90", "1", "0.03", "0");
	fill2(14, 6, IG_SIDE_SELL, "90.5", "1.499", "0.03", "0");
	stop_recording();
	assert_pnl_is_the_oms("2020-09-13");
}

/* A fill that pays a quote fee and a base fee (the OMS takes it: Luno
 * reports fee_counter and fee_base per trade) must show both: the
 * recorder kept only the quote fee, so pnl's fees, realized and
 * position all differed from the OMS's. */
static void test_pnl_fill_with_quote_and_base_fee(void **state)
{
	(void)state;
	/* Fixed by schema 3 (fills.fee_base beside fee, both backends, the
	 * pnl walk passing both to ig_pos_apply_fill). */
	start_recording();
	oh_quote(0, "100", "100");
	order(10, IG_SIDE_BUY, "100", "1", 1);
	fill2(10, 1, IG_SIDE_BUY, "100", "1", "0.1", "0.01");
	order(11, IG_SIDE_SELL, "110", "0.99", 2);
	fill2(11, 2, IG_SIDE_SELL, "110", "0.99", "0.1", "0");
	stop_recording();
	assert_pnl_is_the_oms("2020-09-13");
}

/* A fill row straight into the store at db (as a backend put). */
static void put_fill(uint64_t trade, uint64_t seq, const char *side, const char *px, int64_t at)
{
	struct ig_store_fill f;
	void *h = NULL;
	char err[256];
	assert_int_equal(ig_store_sqlite_ops.open(&h, db, err, sizeof(err)), 0);
	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
	snprintf(f.strategy, sizeof(f.strategy), "s0");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.trade_id = trade;
	f.client_order_id = 100 + trade;
	f.side = side;
	f.qty = D("1");
	f.price = D(px);
	f.at = at;
	f.seq = seq;
	assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	ig_store_sqlite_ops.close(h);
}

/* `--to` with a date alone: the user asks for that day, and the day's
 * fills must be in (pnl of 2020-09-14 with --from and --to that day). It
 * was taken as the day's first nanosecond: the day was left out, and
 * `--from D --to D` printed nothing. */
static void test_to_date_includes_that_day(void **state)
{
	static const char *const day[] = { "--from", "2020-09-14", "--to", "2020-09-14" };
	static const char *const fills_to[] = { "--to", "2020-09-13" };
	const int64_t day_ns = INT64_C(86400000000000);
	char o[1024];
	(void)state;
	put_fill(1, 1, "buy", "100", T0);                   /* 2020-09-13 */
	put_fill(2, 2, "sell", "110", T0 + day_ns);          /* 2020-09-14 12:26:40 */
	assert_int_equal(history("pnl", day, 4, o, sizeof(o)), 0);
	assert_string_equal(o, "daemon_id,strategy,day,realized,fees,net,trades,end_position\n"
			       "d1,s0,2020-09-14,10,0,10,1,0\n");
	assert_int_equal(history("fills", fills_to, 2, o, sizeof(o)), 0);
	assert_non_null(strstr(o, "2020-09-13T12:26:40.000000000Z"));
}

/* Times before 1970 (a negative ns count) print as the instant they are:
 * -1 ns is 1969-12-31T23:59:59.999999999Z, not "1970-01-01T00:00:00.-00000001Z". */
static void test_negative_time_printed_exactly(void **state)
{
	char o[1024];
	(void)state;
	put_fill(1, 1, "buy", "100", -1);
	assert_int_equal(history("fills", NULL, 0, o, sizeof(o)), 0);
	if (strstr(o, "1969-12-31T23:59:59.999999999Z") == NULL)
		fail_msg("fills at -1 ns printed as:\n%s", o);
	assert_int_equal(history("pnl", NULL, 0, o, sizeof(o)), 0);
	assert_non_null(strstr(o, "d1,s0,1969-12-31,"));
}

/* Fills written before schema 2 (seq 0) that share a time: a rebuild or
 * catch-up after the upgrade writes them again with their seq, and that
 * must reach the store, or pnl keeps walking them by trade id: buy 100
 * (trade 30), buy 120 (trade 20), sell 110 (trade 10) realize 0 in book
 * order, -10 by trade id. The insert was DO NOTHING on the key: the
 * seq 0 stayed, and no rebuild could repair it. */
static void test_rebuild_repairs_seq_of_v1_rows(void **state)
{
	char o[1024];
	(void)state;
	put_fill(30, 0, "buy", "100", T0);
	put_fill(20, 0, "buy", "120", T0);
	put_fill(10, 0, "sell", "110", T0);
	/* the rebuild's rows: the same keys, their places in the books */
	put_fill(30, 1, "buy", "100", T0);
	put_fill(20, 2, "buy", "120", T0);
	put_fill(10, 3, "sell", "110", T0);
	assert_int_equal(history("pnl", NULL, 0, o, sizeof(o)), 0);
	assert_string_equal(o, "daemon_id,strategy,day,realized,fees,net,trades,end_position\n"
			       "d1,s0,2020-09-13,0,0,0,3,1\n");
}

/* The SQLite views show every int64 amount exactly, INT64_MIN included
 * (-92233720368.54775808): DEC() took abs() of the column, which SQLite
 * refuses for INT64_MIN ("integer overflow"), so one such row failed
 * every query of the view. And a time before 1970 shows as the instant
 * it is (-1 ns: 1969-12-31T23:59:59.999999999Z, not ".-00000001Z"). */
static void test_view_int64_min(void **state)
{
	struct ig_store_equity q;
	sqlite3 *h;
	sqlite3_stmt *st;
	void *s = NULL;
	char err[256];
	int rc;
	(void)state;
	assert_int_equal(ig_store_sqlite_ops.open(&s, db, err, sizeof(err)), 0);
	memset(&q, 0, sizeof(q));
	snprintf(q.daemon_id, sizeof(q.daemon_id), "d1");
	snprintf(q.strategy, sizeof(q.strategy), "s0");
	q.at = T0;
	q.equity = INT64_MIN;
	assert_int_equal(ig_store_sqlite_ops.put_equity(s, &q), 0);
	ig_store_sqlite_ops.close(s);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT equity FROM v_equity", -1, &st, NULL),
			 SQLITE_OK);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		fail_msg("v_equity with INT64_MIN: %s", sqlite3_errmsg(h));
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "-92233720368.54775808");
	sqlite3_finalize(st);
	put_fill(1, 1, "buy", "100", -1);
	assert_int_equal(sqlite3_prepare_v2(h, "SELECT at FROM v_fills", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "1969-12-31T23:59:59.999999999Z");
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* One text from sql on the store at db. */
static void q_text(const char *sql, char *o, size_t cap)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(o, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(h);
}

/* A partial fill is stamped with the venue's trade time, a later cancel
 * with the local clock: when the local clock is behind the venue's, the
 * cancel's time is the older one. The order row must still end canceled
 * (the state the OMS holds), not stay partially_filled forever (the
 * upsert kept the newer updated_at when filled_qty was equal). */
static void test_order_row_ends_in_oms_state_under_clock_skew(void **state)
{
	char o[256];
	(void)state;
	start_recording();
	oh_quote(0, "100", "100");
	order(10, IG_SIDE_BUY, "100", "2", 1);
	/* the venue's trade at 10 ms (its clock), then the cancel at 5 ms (ours) */
	fill2(10, 1, IG_SIDE_BUY, "100", "1", "0", "0");
	{
		struct ig_event f = oh_fill_ev(T0 + 10 * OH_MS, 0, 10, 2, IG_SIDE_BUY, "100", "0.5", "0");
		oh_handle(&f);
	}
	oh_venue_update_at(T0 + 5 * OH_MS, 0, 10, IG_OS_CANCELED);
	assert_int_equal(oh_rec(0, 10) != NULL ? oh_rec(0, 10)->state : IG_OS_CANCELED,
			 IG_OS_CANCELED);
	stop_recording();
	q_text("SELECT state || ' ' || filled_qty FROM orders", o, sizeof(o));
	assert_string_equal(o, "canceled 150000000");
}

/* The SQL lists of terminal and open states the orders upsert uses are
 * the OMS's own (ig_order_terminal), name for name. */
static void test_upsert_state_lists_match_oms(void **state)
{
	(void)state;
	for (int st = 0; st < IG_OS__COUNT; st++) {
		char q[40];
		snprintf(q, sizeof(q), "'%s'", ig_ord_state_name((enum ig_ord_state)st));
		if (ig_order_terminal((enum ig_ord_state)st)) {
			assert_non_null(strstr(IG__STORE_TERMINAL, q));
			assert_null(strstr(IG__STORE_OPEN, q));
		} else {
			assert_non_null(strstr(IG__STORE_OPEN, q));
			assert_null(strstr(IG__STORE_TERMINAL, q));
		}
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, setup, teardown, &harness)
	const struct CMUnitTest tests[] = {
		T(test_pnl_equals_oms_fees_rebates),
		T(test_pnl_fill_with_quote_and_base_fee),
		T(test_to_date_includes_that_day),
		T(test_negative_time_printed_exactly),
		T(test_rebuild_repairs_seq_of_v1_rows),
		T(test_view_int64_min),
		T(test_order_row_ends_in_oms_state_under_clock_skew),
		cmocka_unit_test(test_upsert_state_lists_match_oms),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
