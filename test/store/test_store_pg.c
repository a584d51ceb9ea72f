/*
 * test_store_pg.c - the PostgreSQL history store backend against a real
 * server: one throwaway cluster per binary (test/store/pgtest.c), one
 * fresh database per test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ingenium/error.h>

#include "app/history.h"
#include "store/store.h"
#include "pgtest.h"

#include <unistd.h>

static struct pgt_cluster cl;
static const struct ig_store_ops *ops = &ig_store_pg_ops;

/* ---- helpers --------------------------------------------------------- */

/* A fresh database named name; returns its connection string (static). */
static const char *fresh_db(const char *name)
{
	static char ci[256];
	char err[512];

	if (pgt_createdb(&cl, name, ci, sizeof(ci), err, sizeof(err)) != 0)
		fail_msg("%s", err);
	return ci;
}

/* Runs sql on ci (its own connection); returns the first cell as a
 * malloc'd string ("<null>" for NULL; the test frees it). Fails the test
 * on an error. */
static char *sql1(const char *ci, const char *sql)
{
	PGconn *c = PQconnectdb(ci);
	PGresult *r;
	char *out;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("connect: %s", PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		out = strdup(PQgetisnull(r, 0, 0) ? "<null>" : PQgetvalue(r, 0, 0));
	else
		out = strdup("");
	PQclear(r);
	PQfinish(c);
	return out;
}

/* Asserts that sql's first cell on ci equals want. */
static void expect_sql(const char *ci, const char *sql, const char *want)
{
	char *got = sql1(ci, sql);

	if (strcmp(got, want) != 0) {
		print_error("%s\n  got:  %s\n  want: %s\n", sql, got, want);
		free(got);
		fail();
	}
	free(got);
}

static void *open_ok(const char *ci)
{
	void *h = NULL;
	char err[512] = "";
	int rc = ops->open(&h, ci, err, sizeof(err));

	if (rc != 0)
		fail_msg("open: %d %s", rc, err);
	assert_non_null(h);
	return h;
}

static void begin_ok(void *h)
{
	char err[256] = "";

	if (ops->begin(h, err, sizeof(err)) != 0)
		fail_msg("begin: %s", err);
}

static void commit_ok(void *h)
{
	char err[256] = "";

	if (ops->commit(h, err, sizeof(err)) != 0)
		fail_msg("commit: %s", err);
}

static struct ig_store_session mk_session(const char *d, uint32_t epoch, int64_t stop)
{
	struct ig_store_session r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	r.run_epoch = epoch;
	snprintf(r.config_hash, sizeof(r.config_hash), "00aa11bb22cc");
	snprintf(r.venue, sizeof(r.venue), "paper");
	r.started_at = 1700000000000000000;
	r.stopped_at = stop;
	return r;
}

static struct ig_store_order mk_order(const char *d, uint64_t coid, int64_t upd,
                                      const char *state)
{
	struct ig_store_order r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	r.client_order_id = coid;
	r.venue_order_id = 0;
	snprintf(r.strategy, sizeof(r.strategy), "sma");
	snprintf(r.symbol, sizeof(r.symbol), "XBTZAR");
	r.side = "buy";
	r.type = "limit";
	r.tif = "gtc";
	r.qty = 150000000;
	r.price = 123456789000;
	r.stop_price = 0;
	r.filled_qty = 0;
	r.state = state;
	r.reject_reason = NULL;
	r.created_at = 1000;
	r.updated_at = upd;
	return r;
}

static struct ig_store_order_event mk_event(const char *d, uint64_t coid, uint32_t seq)
{
	struct ig_store_order_event r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	r.client_order_id = coid;
	r.seq = seq;
	r.state = "open";
	r.at = 2000 + seq;
	return r;
}

static struct ig_store_fill mk_fill(const char *d, uint64_t tid, uint64_t coid)
{
	struct ig_store_fill r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	r.trade_id = tid;
	r.client_order_id = coid;
	snprintf(r.strategy, sizeof(r.strategy), "sma");
	snprintf(r.symbol, sizeof(r.symbol), "XBTZAR");
	r.side = "buy";
	r.qty = 50000000;
	r.price = 123456789000;
	r.fee = 12345;
	snprintf(r.fee_currency, sizeof(r.fee_currency), "ZAR");
	r.liquidity = "maker";
	r.at = 3000 + (int64_t)tid;
	return r;
}

static struct ig_store_equity mk_equity(const char *d, int64_t at)
{
	struct ig_store_equity r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	snprintf(r.strategy, sizeof(r.strategy), "sma");
	r.at = at;
	r.equity = 100000000000;
	r.cash = 99000000000;
	r.position = 1000000;
	return r;
}

static struct ig_store_denial mk_denial(const char *d, uint64_t coid)
{
	struct ig_store_denial r;

	memset(&r, 0, sizeof(r));
	snprintf(r.daemon_id, sizeof(r.daemon_id), "%s", d);
	r.client_order_id = coid;
	snprintf(r.strategy, sizeof(r.strategy), "sma");
	snprintf(r.symbol, sizeof(r.symbol), "XBTZAR");
	r.reason = "max_position";
	r.side = "sell";
	r.type = "market";
	r.qty = 300000000;
	r.price = 0;
	r.at = 4000;
	return r;
}

/* Writes one row of every kind for daemon d in one transaction. */
static void write_all(void *h, const char *d)
{
	struct ig_store_session s = mk_session(d, 7, 0);
	struct ig_store_order o = mk_order(d, 42, 1500, "open");
	struct ig_store_order_event e1 = mk_event(d, 42, 1), e2 = mk_event(d, 42, 2);
	struct ig_store_fill f = mk_fill(d, 9001, 42);
	struct ig_store_equity q = mk_equity(d, 5000);
	struct ig_store_denial n = mk_denial(d, 43);

	begin_ok(h);
	assert_int_equal(ops->put_session(h, &s), 0);
	assert_int_equal(ops->put_order(h, &o), 0);
	assert_int_equal(ops->put_order_event(h, &e1), 0);
	assert_int_equal(ops->put_order_event(h, &e2), 0);
	assert_int_equal(ops->put_fill(h, &f), 0);
	assert_int_equal(ops->put_equity(h, &q), 0);
	assert_int_equal(ops->put_denial(h, &n), 0);
	commit_ok(h);
}

/* Every table's rows as one text (ordered), malloc'd. */
static char *dump_all(const char *ci)
{
	return sql1(ci,
	            "SELECT concat_ws(E'\\n',"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM sessions t),"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM orders t),"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM order_events t),"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM fills t),"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM equity t),"
	            " (SELECT string_agg(t::text, ';' ORDER BY t::text) FROM denials t))");
}

/* ---- tests ----------------------------------------------------------- */

/* A new database gets every table, the views and schema_version 2 (one
 * row); a second open finds it current and changes nothing. */
static void test_create_and_migrate(void **state)
{
	const char *ci = fresh_db("t_create");
	void *h;

	(void)state;
	h = open_ok(ci);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(version::text, ',') FROM schema_version", "3");
	expect_sql(ci,
	           "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM "
	           "information_schema.tables WHERE table_schema = 'public'",
	           "denials,equity,fills,order_events,orders,schema_version,sessions,"
	           "v_equity,v_fills,v_orders");
	expect_sql(ci,
	           "SELECT string_agg(column_name || ' ' || data_type || "
	           "coalesce('(' || numeric_precision || ',' || numeric_scale || ')', ''), "
	           "',' ORDER BY ordinal_position) FROM information_schema.columns "
	           "WHERE table_name = 'fills'",
	           "daemon_id text,trade_id text,client_order_id text,strategy text,"
	           "symbol text,side text,qty numeric(38,8),price numeric(38,8),"
	           "fee numeric(38,8),fee_currency text,liquidity text,at bigint(64,0),"
	           "seq bigint(64,0),fee_base numeric(38,8),books_ns bigint(64,0)");
	h = open_ok(ci);
	ops->close(h);
	expect_sql(ci, "SELECT count(*)::text FROM schema_version", "1");
}

/* Writing everything twice (a catch-up, a rebuild) leaves the same rows. */
static void test_idempotent_inserts(void **state)
{
	const char *ci = fresh_db("t_idem");
	void *h = open_ok(ci);
	char *once, *twice;

	(void)state;
	write_all(h, "d1");
	once = dump_all(ci);
	write_all(h, "d1");
	twice = dump_all(ci);
	ops->close(h);
	assert_string_equal(once, twice);
	expect_sql(ci,
	           "SELECT (SELECT count(*) FROM sessions) || ',' || (SELECT count(*) FROM orders)"
	           " || ',' || (SELECT count(*) FROM order_events) || ',' ||"
	           " (SELECT count(*) FROM fills) || ',' || (SELECT count(*) FROM equity)"
	           " || ',' || (SELECT count(*) FROM denials)",
	           "1,1,2,1,1,1");
	/* the views read */
	expect_sql(ci, "SELECT qty || ' ' || price || ' ' || fee || ' ' || time FROM v_fills",
	           "0.50000000 1234.56789000 0.00012345 1970-01-01 00:00:00.000012+00");
	expect_sql(ci, "SELECT price || ' ' || coalesce(stop_price, '-') FROM v_orders",
	           "1234.56789000 -");
	expect_sql(ci, "SELECT equity || ' ' || cash || ' ' || position FROM v_equity",
	           "1000.00000000 990.00000000 0.01000000");
	free(once);
	free(twice);
}

/* put_order keeps the newest updated_at: an older update is ignored, an
 * equal one applies, a later one without a venue id keeps the known one. */
static void test_order_upsert_keeps_newest(void **state)
{
	const char *ci = fresh_db("t_upsert");
	void *h = open_ok(ci);
	struct ig_store_order o;

	(void)state;
	begin_ok(h);
	o = mk_order("d1", 42, 100, "pending");
	assert_int_equal(ops->put_order(h, &o), 0);
	o = mk_order("d1", 42, 300, "filled");
	o.venue_order_id = 777;
	o.filled_qty = o.qty;
	assert_int_equal(ops->put_order(h, &o), 0);
	o = mk_order("d1", 42, 200, "open"); /* older: ignored */
	o.venue_order_id = 555;
	assert_int_equal(ops->put_order(h, &o), 0);
	commit_ok(h);
	expect_sql(ci,
	           "SELECT state || ' ' || updated_at || ' ' || venue_order_id || ' ' || "
	           "filled_qty || ' ' || created_at FROM orders",
	           "filled 300 777 1.50000000 1000");
	begin_ok(h);
	o = mk_order("d1", 42, 400, "cancelled"); /* newer, no venue id */
	o.filled_qty = o.qty;
	o.reject_reason = "user";
	assert_int_equal(ops->put_order(h, &o), 0);
	o = mk_order("d1", 42, 500, "accepted"); /* newer but behind (a re-announcement): ignored */
	assert_int_equal(ops->put_order(h, &o), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci,
	           "SELECT state || ' ' || updated_at || ' ' || venue_order_id || ' ' || "
	           "reject_reason FROM orders",
	           "cancelled 400 777 user");
	expect_sql(ci, "SELECT count(*)::text FROM orders", "1");
}

/* With filled_qty equal, an order that ended (canceled) is never taken
 * back to an open state by a row stamped later (a partial fill carries
 * the venue's trade time, the cancel our clock, which may be behind),
 * and a terminal row replaces an open one whatever their times. */
static void test_order_terminal_beats_open(void **state)
{
	const char *ci = fresh_db("t_terminal");
	void *h = open_ok(ci);
	struct ig_store_order o;

	(void)state;
	begin_ok(h);
	o = mk_order("d1", 42, 300, "partially_filled");
	o.filled_qty = 100000000;
	assert_int_equal(ops->put_order(h, &o), 0);
	o = mk_order("d1", 42, 200, "canceled"); /* older, terminal: applies */
	o.filled_qty = 100000000;
	assert_int_equal(ops->put_order(h, &o), 0);
	o = mk_order("d1", 42, 400, "accepted"); /* newer, open: ignored */
	o.filled_qty = 100000000;
	assert_int_equal(ops->put_order(h, &o), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT state || ' ' || updated_at FROM orders", "canceled 200");
}

/* An amount in the store that is not an int64 of 1e-8 units (a NUMERIC
 * past 92233720368.54775807, written by hand or another tool) makes
 * `history` say so and fail, without adding "out of memory" (it said
 * both: the row callback's refusal was taken for an allocation
 * failure). */
static void test_history_bad_amount_message(void **state)
{
	const char *ci = fresh_db("t_badamount");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 7, 9);
	char tmp[] = "/tmp/ig_pg_hist_XXXXXX", a0[] = "history", a1[] = "--store",
		a2[] = "postgres:IG_REVIEW_PG_URL", a3[] = "fills", a4[] = "--csv", msg[1024];
	char *argv[] = { a0, a1, a2, a3, a4, NULL };
	int fd = mkstemp(tmp), saved, rc;
	ssize_t n;

	(void)state;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	free(sql1(ci, "UPDATE fills SET qty = 100000000000000000000"));
	assert_int_equal(setenv("IG_REVIEW_PG_URL", ci, 1), 0);
	assert_true(fd >= 0);
	fflush(stdout);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	rc = ig_history_main(5, argv);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, msg, sizeof(msg) - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(tmp);
	unsetenv("IG_REVIEW_PG_URL");
	assert_int_equal(rc, 1);
	if (strstr(msg, "not an exact amount") == NULL || strstr(msg, "out of memory") != NULL)
		fail_msg("history on a bad amount said: %s", msg);
}

/* A session's stopped_at is filled in by a later put and never goes back. */
static void test_session_stop_recorded(void **state)
{
	const char *ci = fresh_db("t_session");
	void *h = open_ok(ci);
	struct ig_store_session s;

	(void)state;
	begin_ok(h);
	s = mk_session("d1", 3, 0);
	assert_int_equal(ops->put_session(h, &s), 0);
	commit_ok(h);
	expect_sql(ci, "SELECT coalesce(stopped_at::text, '<running>') FROM sessions", "<running>");
	begin_ok(h);
	s = mk_session("d1", 3, 1700000001000000000);
	assert_int_equal(ops->put_session(h, &s), 0);
	s = mk_session("d1", 3, 0); /* the start row replayed: no change */
	assert_int_equal(ops->put_session(h, &s), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT stopped_at::text FROM sessions", "1700000001000000000");
}

/* A store written by a newer binary is refused with a clear message, and
 * nothing in it changes. */
static void test_newer_schema_refused(void **state)
{
	const char *ci = fresh_db("t_newer");
	void *h = open_ok(ci);
	char err[256] = "";
	char *msg;

	(void)state;
	ops->close(h);
	free(sql1(ci, "UPDATE schema_version SET version = 4"));
	h = (void *)1;
	assert_int_equal(ops->open(&h, ci, err, sizeof(err)), IG_ESTATE);
	assert_null(h);
	assert_string_equal(err, "store schema version 4 is newer than this binary's 3");
	msg = sql1(ci, "SELECT version::text FROM schema_version");
	assert_string_equal(msg, "4");
	free(msg);
}

/* An empty schema_version table (version 0: a database prepared by hand)
 * migrates like a new one. */
static void test_migrate_from_version_0(void **state)
{
	const char *ci = fresh_db("t_v0");
	void *h;

	(void)state;
	free(sql1(ci, "CREATE TABLE schema_version (version INT NOT NULL)"));
	h = open_ok(ci);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(version::text, ',') FROM schema_version", "3");
}

/* A database at version 1 (before fills.seq: the column dropped, the
 * version set back) with a fill in it migrates in place: the old row
 * kept with seq 0, a new row carries its seq. */
static void test_migrate_from_version_1(void **state)
{
	const char *ci = fresh_db("t_v1");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 8, 9);

	(void)state;
	ops->close(h);
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN fee_base CASCADE"));
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN books_ns"));
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN seq"));
	free(sql1(ci, "INSERT INTO fills VALUES ('d1', '7', '9', 's1', 'BTCUSD', 'buy', 1, 25000,"
	              " 0, 'USD', 'maker', 5)"));
	free(sql1(ci, "UPDATE schema_version SET version = 1"));
	h = open_ok(ci);
	f.seq = 2;
	f.at = 6;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(version::text, ',') FROM schema_version", "3");
	expect_sql(ci, "SELECT string_agg(trade_id || ':' || seq, ' ' ORDER BY at) FROM fills",
	           "7:0 8:2");
}

/* A schema-1 row (seq 0) written again by a rebuild or catch-up takes
 * its seq (history pnl orders fills that share a time by it); a seq
 * already known never changes, nor does anything else of the fill. */
static void test_v1_seq_repaired_on_rewrite(void **state)
{
	const char *ci = fresh_db("t_v1seq");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 7, 9);

	(void)state;
	ops->close(h);
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN fee_base CASCADE"));
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN books_ns"));
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN seq"));
	free(sql1(ci, "INSERT INTO fills VALUES ('d1', '7', '9', 's1', 'BTCUSD', 'buy', 1, 25000,"
	              " 0, 'USD', 'maker', 5)"));
	free(sql1(ci, "UPDATE schema_version SET version = 1"));
	h = open_ok(ci);
	f.seq = 3;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	f.seq = 4;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(trade_id || ':' || seq || ':' || qty || ':' || at, ' ')"
	               " FROM fills", "7:3:1.00000000:5");
}

/* A database at version 2 (before fills.fee_base; its view as version 2
 * made it) with a fill in it migrates in place: the old row kept with
 * fee_base 0, a new row carries its base fee, and v_fills shows it. */
static void test_migrate_from_version_2(void **state)
{
	const char *ci = fresh_db("t_v2");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 8, 9);

	(void)state;
	ops->close(h);
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN fee_base CASCADE"));
	free(sql1(ci, "ALTER TABLE fills DROP COLUMN books_ns"));
	free(sql1(ci, "CREATE VIEW v_fills AS SELECT daemon_id, trade_id, client_order_id,"
	              " strategy, symbol, side, qty::text AS qty, price::text AS price,"
	              " fee::text AS fee, fee_currency, liquidity, ig_ns_time(at) AS time, at"
	              " FROM fills"));
	free(sql1(ci, "INSERT INTO fills VALUES ('d1', '7', '9', 's1', 'BTCUSD', 'buy', 1, 25000,"
	              " 0, 'USD', 'maker', 5, 1)"));
	free(sql1(ci, "UPDATE schema_version SET version = 2"));
	h = open_ok(ci);
	f.fee_base = 100000;
	f.at = 6;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(version::text, ',') FROM schema_version", "3");
	expect_sql(ci, "SELECT string_agg(trade_id || ':' || fee_base, ' ' ORDER BY at) FROM v_fills",
	           "7:0.00000000 8:0.00100000");
}

/* Money is written exactly from the int64: the extremes, negatives, 1e-8. */
static void test_money_exact(void **state)
{
	const char *ci = fresh_db("t_money");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 1, 1);
	struct ig_store_equity q = mk_equity("d1", 1);
	struct ig_store_order o = mk_order("d1", 5, 1, "open");

	(void)state;
	f.qty = INT64_MAX;
	f.price = INT64_MIN;
	f.fee = -1;
	q.equity = 1;
	q.cash = -12345678901;
	q.position = -100000000;
	o.price = INT64_MIN + 1;
	o.stop_price = 100000000;
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	assert_int_equal(ops->put_equity(h, &q), 0);
	assert_int_equal(ops->put_order(h, &o), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT qty || ' ' || price || ' ' || fee FROM fills",
	           "92233720368.54775807 -92233720368.54775808 -0.00000001");
	expect_sql(ci, "SELECT qty || ' ' || price || ' ' || fee FROM v_fills",
	           "92233720368.54775807 -92233720368.54775808 -0.00000001");
	expect_sql(ci, "SELECT (qty * 100000000)::bigint::text FROM fills", "9223372036854775807");
	expect_sql(ci, "SELECT equity || ' ' || cash || ' ' || position FROM equity",
	           "0.00000001 -123.45678901 -1.00000000");
	expect_sql(ci, "SELECT price || ' ' || stop_price FROM orders",
	           "-92233720368.54775807 1.00000000");
}

/* Two daemons writing the same ids into one database keep their rows
 * apart; one's upsert leaves the other's order alone. */
static void test_daemons_kept_apart(void **state)
{
	const char *ci = fresh_db("t_daemons");
	void *a = open_ok(ci);
	void *b = open_ok(ci);
	struct ig_store_order o;

	(void)state;
	write_all(a, "alpha");
	write_all(b, "beta");
	begin_ok(a);
	o = mk_order("alpha", 42, 9999, "filled");
	assert_int_equal(ops->put_order(a, &o), 0);
	commit_ok(a);
	ops->close(a);
	ops->close(b);
	expect_sql(ci,
	           "SELECT (SELECT count(*) FROM sessions) || ',' || (SELECT count(*) FROM orders)"
	           " || ',' || (SELECT count(*) FROM order_events) || ',' ||"
	           " (SELECT count(*) FROM fills) || ',' || (SELECT count(*) FROM equity)"
	           " || ',' || (SELECT count(*) FROM denials)",
	           "2,2,4,2,2,2");
	expect_sql(ci,
	           "SELECT string_agg(daemon_id || ':' || state, ',' ORDER BY daemon_id) FROM orders",
	           "alpha:filled,beta:open");
}

/* Checks that opening target fails and its message holds none of the
 * secrets. */
static void expect_no_secret(const char *target, const char *const *secrets)
{
	void *h = NULL;
	char err[512] = "";

	assert_int_not_equal(ops->open(&h, target, err, sizeof(err)), 0);
	assert_null(h);
	assert_true(strlen(err) > 0);
	if (getenv("IG_PGTEST_VERBOSE") != NULL)
		printf("  %s\n", err);
	for (const char *const *s = secrets; *s != NULL; s++) {
		if (strstr(err, *s) != NULL)
			fail_msg("password %s in the error: %s", *s, err);
	}
}

/* A password in the connection string never reaches an error message,
 * including a malformed URI that libpq quotes whole. */
static void test_password_not_in_error(void **state)
{
	static const char *const plain[] = {"Sup3rSecret", NULL};
	static const char *const quoted[] = {"Sup3r Secret", "Sup3r", NULL};
	static const char *const pct[] = {"Sup3rSecret", "Sup%33rSecret", NULL};
	char ci[256];

	(void)state;
	/* libpq: 'end of string reached when looking for matching "]" in IPv6
	 * host address in URI: "postgresql://..."' */
	expect_no_secret("postgresql://ig:Sup3rSecret@[::1/db", plain);
	expect_no_secret("postgresql://ig:Sup%33rSecret@[::1/db", pct);
	expect_no_secret("postgresql://ig@[::1/db?password=Sup3rSecret", plain);
	expect_no_secret("postgresql://ig:Sup3rSecret@127.0.0.1:1/db?connect_timeout=2", plain);
	expect_no_secret("host=127.0.0.1 port=1 user=ig password=Sup3rSecret connect_timeout=2",
	                 plain);
	expect_no_secret("host=127.0.0.1 password = 'Sup3r Secret' bogus=1", quoted);
	expect_no_secret("host=127.0.0.1 password=Sup3rSecret 'unterminated", plain);
	/* a reachable server with a database that does not exist */
	snprintf(ci, sizeof(ci),
	         "postgresql://postgres:Sup3rSecret@127.0.0.1:%d/no_such_db_Sup3rSecret", cl.port);
	expect_no_secret(ci, plain);
}

/* A write that fails inside a transaction makes the commit fail (puts
 * are pipelined: the failure may show at the put or at the commit), and
 * nothing of the transaction is kept; the handle goes on. */
static void test_failed_write_fails_commit(void **state)
{
	const char *ci = fresh_db("t_abort");
	void *h = open_ok(ci);
	struct ig_store_fill f = mk_fill("d1", 1, 1), g = mk_fill("d1", 2, 1);
	char err[256] = "";
	int rc;

	(void)state;
	snprintf(g.symbol, sizeof(g.symbol), "BAD\xff");
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	rc = ops->put_fill(h, &g);
	assert_true(rc == 0 || rc == IG_EIO);
	f.trade_id = 3;
	rc = ops->put_fill(h, &f);
	assert_true(rc == 0 || rc == IG_EIO);
	assert_int_equal(ops->commit(h, err, sizeof(err)), IG_EIO);
	if (strstr(err, "invalid byte sequence") == NULL)
		fail_msg("commit error: %s", err);
	f.trade_id = 1;
	/* the handle goes on */
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT count(*)::text FROM fills", "1");
}

/* A failed write early in a batch longer than the pipeline window is
 * reported by a later put (at the window's sync point) and by the commit. */
static void test_failed_write_long_batch(void **state)
{
	const char *ci = fresh_db("t_abort_long");
	void *h = open_ok(ci);
	char err[256] = "";
	int failed = 0;

	(void)state;
	begin_ok(h);
	for (int i = 0; i < 1000; i++) {
		struct ig_store_fill f = mk_fill("d1", (uint64_t)i + 1, 1);

		if (i == 10)
			snprintf(f.symbol, sizeof(f.symbol), "BAD\xff");
		if (ops->put_fill(h, &f) != 0)
			failed++;
	}
	assert_true(failed > 0);
	assert_int_equal(ops->commit(h, err, sizeof(err)), IG_EIO);
	ops->close(h);
	expect_sql(ci, "SELECT count(*)::text FROM fills", "0");
}

/* A row missing a required string is refused before it reaches the server. */
static void test_bad_row_refused(void **state)
{
	const char *ci = fresh_db("t_badrow");
	void *h = open_ok(ci);
	struct ig_store_order o = mk_order("d1", 1, 1, "open");
	struct ig_store_denial n = mk_denial("d1", 2);

	(void)state;
	o.side = NULL;
	n.reason = NULL;
	assert_int_equal(ops->put_order(h, &o), IG_EINVAL);
	assert_int_equal(ops->put_denial(h, &n), IG_EINVAL);
	ops->close(h);
}

/* The server stopped mid-way: writes fail with an error (no crash), an
 * open fails cleanly, and after the restart a reopened connection works
 * and what was committed before is there. */
static void test_server_restart(void **state)
{
	const char *ci = fresh_db("t_restart");
	void *h = open_ok(ci);
	struct ig_store_fill f;
	char err[512] = "";
	void *h2 = NULL;
	int rc;

	(void)state;
	f = mk_fill("d1", 1, 1);
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);

	/* down in the middle of a transaction */
	begin_ok(h);
	f = mk_fill("d1", 3, 1);
	assert_int_equal(ops->put_fill(h, &f), 0);
	assert_int_equal(pgt_stop(&cl), 0);
	f = mk_fill("d1", 4, 1);
	rc = ops->put_fill(h, &f);
	assert_true(rc == 0 || rc == IG_EIO);
	assert_int_equal(ops->commit(h, err, sizeof(err)), IG_EIO);
	assert_true(strlen(err) > 0);
	ops->rollback(h);
	/* and down before one */
	f = mk_fill("d1", 2, 1);
	rc = ops->begin(h, err, sizeof(err));
	if (rc == 0)
		rc = ops->put_fill(h, &f);
	assert_int_equal(rc, IG_EIO);
	assert_int_equal(ops->put_fill(h, &f), IG_EIO);
	assert_int_not_equal(ops->commit(h, err, sizeof(err)), 0);
	assert_true(strlen(err) > 0);
	ops->rollback(h);
	ops->close(h);
	assert_int_equal(ops->open(&h2, ci, err, sizeof(err)), IG_EIO);
	assert_null(h2);

	if (pgt_restart(&cl, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	h = open_ok(ci);
	begin_ok(h);
	assert_int_equal(ops->put_fill(h, &f), 0);
	f = mk_fill("d1", 1, 1); /* the recorder's retry of an older batch */
	assert_int_equal(ops->put_fill(h, &f), 0);
	commit_ok(h);
	ops->close(h);
	expect_sql(ci, "SELECT string_agg(trade_id, ',' ORDER BY trade_id) FROM fills", "1,2");
}

/* Brings the server back if a test left it stopped. Returns 0. */
static int restart_teardown(void **state)
{
	char err[512];

	(void)state;
	if (!cl.running && pgt_restart(&cl, err, sizeof(err)) != 0)
		print_error("%s\n", err);
	return 0;
}

/* Throughput of put_fill in transactions of 1000 rows (printed, not
 * asserted: the machine is shared). */
static void test_put_fill_throughput(void **state)
{
	const char *ci = fresh_db("t_bench");
	void *h = open_ok(ci);
	enum { BATCHES = 20, BATCH = 1000 };
	struct timespec t0, t1;
	double s;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int b = 0; b < BATCHES; b++) {
		begin_ok(h);
		for (int i = 0; i < BATCH; i++) {
			struct ig_store_fill f = mk_fill("bench", (uint64_t)(b * BATCH + i + 1),
			                                 (uint64_t)(b + 1));

			assert_int_equal(ops->put_fill(h, &f), 0);
		}
		commit_ok(h);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ops->close(h);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("store_pg: put_fill %d rows in batches of %d: %.0f rows/s\n", BATCHES * BATCH,
	       BATCH, (double)(BATCHES * BATCH) / s);
	expect_sql(ci, "SELECT count(*)::text FROM fills", "20000");
}

static int group_setup(void **state)
{
	char err[1024];

	(void)state;
	if (pgt_start(&cl, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pgt_destroy(&cl);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_migrate),
		cmocka_unit_test(test_idempotent_inserts),
		cmocka_unit_test(test_order_upsert_keeps_newest),
		cmocka_unit_test(test_order_terminal_beats_open),
		cmocka_unit_test(test_history_bad_amount_message),
		cmocka_unit_test(test_session_stop_recorded),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_migrate_from_version_0),
		cmocka_unit_test(test_migrate_from_version_1),
		cmocka_unit_test(test_migrate_from_version_2),
		cmocka_unit_test(test_v1_seq_repaired_on_rewrite),
		cmocka_unit_test(test_money_exact),
		cmocka_unit_test(test_daemons_kept_apart),
		cmocka_unit_test(test_password_not_in_error),
		cmocka_unit_test(test_failed_write_fails_commit),
		cmocka_unit_test(test_failed_write_long_batch),
		cmocka_unit_test(test_bad_row_refused),
		cmocka_unit_test_teardown(test_server_restart, restart_teardown),
		cmocka_unit_test(test_put_fill_throughput),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
