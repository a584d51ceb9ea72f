/* test_store_sqlite.c - the SQLite history store: schema, idempotent
 * inserts, the orders upsert rule, version refusal, exact views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "app/history.h"
#include "ingenium/error.h"
#include "store/store_sqlite.h"

static char path[64];

static int setup(void **state)
{
	int fd;
	(void)state;
	snprintf(path, sizeof(path), "/tmp/ig_store_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path); /* sqlite creates it */
	return 0;
}

static int teardown(void **state)
{
	char p[96];
	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return 0;
}

/* One integer from sql on the file (a second connection, as a reader). */
static int64_t q_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t v = -1;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* One text value (or "NULL") from sql into out. */
static void q_text(const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	snprintf(out, cap, "%s",
		 sqlite3_column_type(q, 0) == SQLITE_NULL ? "NULL"
							  : (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void *open_ok(void)
{
	void *h = NULL;
	char err[256] = "";
	int rc = ig_store_sqlite_ops.open(&h, path, err, sizeof(err));
	if (rc != 0)
		print_error("open: %s\n", err);
	assert_int_equal(rc, 0);
	return h;
}

static struct ig_store_order order_at(int64_t updated, const char *state, int64_t filled)
{
	struct ig_store_order o;
	memset(&o, 0, sizeof(o));
	snprintf(o.daemon_id, sizeof(o.daemon_id), "d1");
	o.client_order_id = UINT64_MAX; /* does not fit INTEGER: TEXT */
	snprintf(o.strategy, sizeof(o.strategy), "s1");
	snprintf(o.symbol, sizeof(o.symbol), "BTCUSD");
	o.side = "buy";
	o.type = "limit";
	o.tif = "gtc";
	o.qty = 100000000;
	o.price = 2500000000000;
	o.filled_qty = filled;
	o.state = state;
	o.created_at = 1;
	o.updated_at = updated;
	return o;
}

static void test_schema_and_wal(void **state)
{
	void *h;
	char mode[16];
	(void)state;
	h = open_ok();
	ig_store_sqlite_ops.close(h);
	assert_int_equal(q_int("PRAGMA user_version"), IG_STORE_SCHEMA_VERSION);
	q_text("PRAGMA journal_mode", mode, sizeof(mode));
	assert_string_equal(mode, "wal");
	assert_int_equal(q_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
			       " ('sessions','orders','order_events','fills','equity','denials')"),
			 6);
	assert_int_equal(q_int("SELECT count(*) FROM sqlite_master WHERE type = 'view'"), 3);
	/* Opening again migrates nothing and keeps the version. */
	h = open_ok();
	ig_store_sqlite_ops.close(h);
	assert_int_equal(q_int("PRAGMA user_version"), IG_STORE_SCHEMA_VERSION);
}

static void test_idempotent_inserts(void **state)
{
	void *h;
	struct ig_store_fill f;
	struct ig_store_order_event e;
	struct ig_store_equity q;
	struct ig_store_denial d;
	struct ig_store_session s;
	(void)state;

	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
	f.trade_id = 7;
	f.client_order_id = 42;
	snprintf(f.strategy, sizeof(f.strategy), "s1");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	f.side = "sell";
	f.qty = 1;
	f.price = 2;
	f.fee = 3;
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.at = 9;
	memset(&e, 0, sizeof(e));
	snprintf(e.daemon_id, sizeof(e.daemon_id), "d1");
	e.client_order_id = 42;
	e.seq = 1;
	e.state = "submitted";
	e.at = 9;
	memset(&q, 0, sizeof(q));
	snprintf(q.daemon_id, sizeof(q.daemon_id), "d1");
	snprintf(q.strategy, sizeof(q.strategy), "s1");
	q.at = 60;
	q.equity = 5;
	memset(&d, 0, sizeof(d));
	snprintf(d.daemon_id, sizeof(d.daemon_id), "d1");
	d.client_order_id = 43;
	snprintf(d.strategy, sizeof(d.strategy), "s1");
	snprintf(d.symbol, sizeof(d.symbol), "BTCUSD");
	d.reason = "max_order_qty";
	d.side = "buy";
	d.qty = 5;
	memset(&s, 0, sizeof(s));
	snprintf(s.daemon_id, sizeof(s.daemon_id), "d1");
	s.run_epoch = 3;
	snprintf(s.config_hash, sizeof(s.config_hash), "abc");
	snprintf(s.venue, sizeof(s.venue), "paper");
	s.started_at = 100;

	h = open_ok();
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ig_store_sqlite_ops.begin(h, NULL, 0), 0);
		assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
		assert_int_equal(ig_store_sqlite_ops.put_order_event(h, &e), 0);
		assert_int_equal(ig_store_sqlite_ops.put_equity(h, &q), 0);
		assert_int_equal(ig_store_sqlite_ops.put_denial(h, &d), 0);
		assert_int_equal(ig_store_sqlite_ops.put_session(h, &s), 0);
		assert_int_equal(ig_store_sqlite_ops.commit(h, NULL, 0), 0);
	}
	/* Another daemon's rows stay apart. */
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d2");
	assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	/* A session's stop: the latest stop time stays, a start-only row changes nothing. */
	s.stopped_at = 200;
	assert_int_equal(ig_store_sqlite_ops.put_session(h, &s), 0);
	s.stopped_at = 0;
	assert_int_equal(ig_store_sqlite_ops.put_session(h, &s), 0);
	/* A rolled-back batch leaves nothing. */
	assert_int_equal(ig_store_sqlite_ops.begin(h, NULL, 0), 0);
	e.seq = 2;
	assert_int_equal(ig_store_sqlite_ops.put_order_event(h, &e), 0);
	ig_store_sqlite_ops.rollback(h);
	ig_store_sqlite_ops.close(h);

	assert_int_equal(q_int("SELECT count(*) FROM fills"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM fills WHERE daemon_id = 'd1'"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM order_events"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM equity"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM denials"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM sessions"), 1);
	assert_int_equal(q_int("SELECT stopped_at FROM sessions"), 200);
}

static void test_order_upsert_keeps_newest(void **state)
{
	void *h;
	struct ig_store_order o;
	char txt[64];
	(void)state;
	h = open_ok();
	o = order_at(10, "accepted", 0);
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	o = order_at(5, "submitted", 0); /* older: ignored */
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	q_text("SELECT state FROM orders", txt, sizeof(txt));
	assert_string_equal(txt, "accepted");
	o = order_at(20, "partially_filled", 50000000);
	o.venue_order_id = 99;
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	o = order_at(20, "filled", 100000000); /* same time, further along: taken */
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	o = order_at(20, "partially_filled", 50000000); /* same time, behind: ignored */
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	/* Newer but behind (a recovery's re-announcement after a fill stamped
	 * with the venue's older trade time): ignored. */
	o = order_at(30, "accepted", 0);
	assert_int_equal(ig_store_sqlite_ops.put_order(h, &o), 0);
	ig_store_sqlite_ops.close(h);
	q_text("SELECT state || ' ' || filled_qty || ' ' || updated_at || ' ' || venue_order_id ||"
	       " ' ' || client_order_id FROM orders",
	       txt, sizeof(txt));
	assert_string_equal(txt, "filled 100000000 20 99 18446744073709551615");
	assert_int_equal(q_int("SELECT count(*) FROM orders"), 1);
}

static void test_newer_version_refused(void **state)
{
	sqlite3 *db;
	void *h = (void *)1;
	char err[256] = "";
	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ig_store_sqlite_ops.open(&h, path, err, sizeof(err)), IG_ESTATE);
	assert_null(h);
	assert_string_equal(err, "store schema version 99 is newer than this binary's 3");
	/* Nothing was changed. */
	assert_int_equal(q_int("PRAGMA user_version"), 99);
	assert_int_equal(q_int("SELECT count(*) FROM sqlite_master"), 0);
}

static void test_unwritable_refused(void **state)
{
	void *h = (void *)1;
	char err[256] = "";
	(void)state;
	assert_true(ig_store_sqlite_ops.open(&h, "/nonexistent-dir/x.sqlite", err, sizeof(err)) < 0);
	assert_null(h);
	assert_non_null(strstr(err, "/nonexistent-dir/x.sqlite"));
}

static void test_views_exact(void **state)
{
	void *h;
	struct ig_store_fill f;
	struct ig_store_equity q;
	char txt[160];
	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
	f.trade_id = 1;
	f.client_order_id = 2;
	snprintf(f.strategy, sizeof(f.strategy), "s1");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	f.side = "buy";
	f.qty = 1;                     /* 0.00000001 */
	f.price = INT64_C(12345678901234567); /* 123456789.01234567 */
	f.fee = -5;                    /* a rebate: -0.00000005 */
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.liquidity = "maker";
	f.at = INT64_C(1700000000123456789);
	memset(&q, 0, sizeof(q));
	snprintf(q.daemon_id, sizeof(q.daemon_id), "d1");
	snprintf(q.strategy, sizeof(q.strategy), "s1");
	q.at = INT64_C(1700000060000000000);
	q.equity = -INT64_C(150000000); /* -1.50000000 */
	q.cash = INT64_C(9223372036854775807);
	q.position = 0;
	h = open_ok();
	assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	assert_int_equal(ig_store_sqlite_ops.put_equity(h, &q), 0);
	ig_store_sqlite_ops.close(h);
	q_text("SELECT qty || ' ' || price || ' ' || fee || ' ' || at FROM v_fills", txt, sizeof(txt));
	assert_string_equal(txt, "0.00000001 123456789.01234567 -0.00000005 "
				 "2023-11-14T22:13:20.123456789Z");
	q_text("SELECT equity || ' ' || cash || ' ' || position || ' ' || at FROM v_equity", txt,
	       sizeof(txt));
	assert_string_equal(txt, "-1.50000000 92233720368.54775807 0.00000000 "
				 "2023-11-14T22:14:20.000000000Z");
}

/* A store at schema version 1 (before fills.seq: the column dropped, the
 * version set back) with a fill in it: open migrates it to the current
 * version in place, the old row kept with seq 0, new rows carry theirs. */
static void test_migrate_from_version_1(void **state)
{
	sqlite3 *db;
	void *h;
	struct ig_store_fill f;
	char txt[96];
	(void)state;
	h = open_ok();
	ig_store_sqlite_ops.close(h);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP VIEW v_fills;"
				      "ALTER TABLE fills DROP COLUMN fee_base;"
				      "ALTER TABLE fills DROP COLUMN books_ns;"
				      "ALTER TABLE fills DROP COLUMN seq;"
				      "INSERT INTO fills VALUES('d1', '7', '9', 's1', 'BTCUSD', 'buy',"
				      " 100000000, 2500000000000, 0, 'USD', 'maker', 5);"
				      "PRAGMA user_version = 1",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	h = open_ok();
	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
	snprintf(f.strategy, sizeof(f.strategy), "s1");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.trade_id = 8;
	f.client_order_id = 9;
	f.side = "sell";
	f.qty = 100000000;
	f.price = 2600000000000;
	f.at = 6;
	f.seq = 2;
	assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	ig_store_sqlite_ops.close(h);
	assert_int_equal(q_int("PRAGMA user_version"), IG_STORE_SCHEMA_VERSION);
	q_text("SELECT group_concat(trade_id || ':' || seq, ' ') FROM"
	       " (SELECT * FROM fills ORDER BY at)",
	       txt, sizeof(txt));
	assert_string_equal(txt, "7:0 8:2");
	assert_int_equal(q_int("SELECT count(*) FROM v_fills"), 2);
}

/* A store at schema version 2 (before fills.fee_base) with a fill in it:
 * open migrates it in place, the old row kept with fee_base 0, a new row
 * carries its base fee, and v_fills shows it. */
static void test_migrate_from_version_2(void **state)
{
	sqlite3 *db;
	void *h;
	struct ig_store_fill f;
	char txt[96];
	(void)state;
	h = open_ok();
	ig_store_sqlite_ops.close(h);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP VIEW v_fills;"
				      "ALTER TABLE fills DROP COLUMN fee_base;"
				      "ALTER TABLE fills DROP COLUMN books_ns;"
				      "INSERT INTO fills VALUES('d1', '7', '9', 's1', 'BTCUSD', 'buy',"
				      " 100000000, 2500000000000, 0, 'USD', 'maker', 5, 1);"
				      "PRAGMA user_version = 2",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	h = open_ok();
	memset(&f, 0, sizeof(f));
	snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
	snprintf(f.strategy, sizeof(f.strategy), "s1");
	snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
	snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
	f.trade_id = 8;
	f.client_order_id = 9;
	f.side = "buy";
	f.qty = 100000000;
	f.price = 2600000000000;
	f.fee = 2600000000;
	f.fee_base = 100000;
	f.at = 6;
	f.seq = 2;
	assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	ig_store_sqlite_ops.close(h);
	assert_int_equal(q_int("PRAGMA user_version"), IG_STORE_SCHEMA_VERSION);
	q_text("SELECT group_concat(trade_id || ':' || fee_base, ' ') FROM"
	       " (SELECT * FROM v_fills ORDER BY at)",
	       txt, sizeof(txt));
	assert_string_equal(txt, "7:0.00000000 8:0.00100000");
}

/* The OMS applies fills in (books_ns, seq) order, and a fill's time (the
 * venue's, or the data's) need not follow it: buy 1 @ 100 (seq 1, at
 * t+2), buy 1 @ 120 (seq 2, at t+1), sell 1 @ 110 (seq 3, at t) realize 0
 * in book order; by time (the sell first) -10. A second book (a fresh
 * start: books_ns later, seq from 1 again) comes after the first. */
static int history_csv(const char *what, char *out, size_t cap);

static void test_pnl_walks_fills_in_books_order_not_time(void **state)
{
	static const struct {
		uint64_t trade, seq;
		int64_t books, dt;
		const char *side;
		int64_t px;
	} fl[] = { { 1, 1, 5, 2, "buy", 100 }, { 2, 2, 5, 1, "buy", 120 }, { 3, 3, 5, 0, "sell", 110 },
		   { 4, 1, 9, 3, "sell", 130 } };
	struct ig_store_fill f;
	char out[512];
	void *h;
	(void)state;
	h = open_ok();
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		memset(&f, 0, sizeof(f));
		snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
		snprintf(f.strategy, sizeof(f.strategy), "s1");
		snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
		snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
		f.trade_id = fl[i].trade;
		f.client_order_id = 100 + fl[i].trade;
		f.side = fl[i].side;
		f.qty = 100000000;
		f.price = fl[i].px * 100000000;
		f.at = INT64_C(1700000000000000000) + fl[i].dt;
		f.seq = fl[i].seq;
		f.books_ns = fl[i].books;
		assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	}
	ig_store_sqlite_ops.close(h);
	assert_int_equal(history_csv("pnl", out, sizeof(out)), 0);
	/* book 5: realized 0, one long at 110 left; then sells it at 130: +20 */
	assert_string_equal(out, "daemon_id,strategy,day,realized,fees,net,trades,end_position\n"
				 "d1,s1,2023-11-14,20,0,20,4,0\n");
}

/* Runs `ingenium history --store sqlite:path ARGS --csv` in this process;
 * its standard output lands in out. Returns the exit status. */
static int history_csv(const char *what, char *out, size_t cap)
{
	char store[96], tmp[] = "/tmp/ig_hist_XXXXXX", a0[] = "history", a1[] = "--store",
		a3[16], a4[] = "--csv";
	char *argv[] = { a0, a1, store, a3, a4, NULL };
	int fd = mkstemp(tmp), saved, rc;
	ssize_t n;

	assert_true(fd >= 0);
	snprintf(store, sizeof(store), "sqlite:%s", path);
	snprintf(a3, sizeof(a3), "%s", what);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);
	rc = ig_history_main(5, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, cap - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmp);
	return rc;
}

/* Fills that share a time are walked in the order the OMS applied them
 * (seq), not by trade id: buy 1 @ 100 (seq 1, trade 30), buy 1 @ 120
 * (seq 2, trade 20), sell 1 @ 110 (seq 3, trade 10) realize 0 (average
 * cost 110); by trade id (the sell first, short at 110, then bought back
 * at 120) they would realize -10. */
static void test_pnl_walks_fills_in_book_order(void **state)
{
	static const struct {
		uint64_t trade, seq;
		const char *side;
		int64_t px;
	} fl[] = { { 30, 1, "buy", 100 }, { 20, 2, "buy", 120 }, { 10, 3, "sell", 110 } };
	struct ig_store_fill f;
	char out[512];
	void *h;
	(void)state;
	h = open_ok();
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
		memset(&f, 0, sizeof(f));
		snprintf(f.daemon_id, sizeof(f.daemon_id), "d1");
		snprintf(f.strategy, sizeof(f.strategy), "s1");
		snprintf(f.symbol, sizeof(f.symbol), "BTCUSD");
		snprintf(f.fee_currency, sizeof(f.fee_currency), "USD");
		f.trade_id = fl[i].trade;
		f.client_order_id = 100 + fl[i].seq;
		f.side = fl[i].side;
		f.qty = 100000000;
		f.price = fl[i].px * 100000000;
		f.at = INT64_C(1700000000000000000);
		f.seq = fl[i].seq;
		assert_int_equal(ig_store_sqlite_ops.put_fill(h, &f), 0);
	}
	ig_store_sqlite_ops.close(h);
	assert_int_equal(history_csv("pnl", out, sizeof(out)), 0);
	assert_string_equal(out, "daemon_id,strategy,day,realized,fees,net,trades,end_position\n"
				 "d1,s1,2023-11-14,0,0,0,3,1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_and_wal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent_inserts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_upsert_keeps_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_version_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_views_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_version_2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pnl_walks_fills_in_book_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pnl_walks_fills_in_books_order_not_time, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
