/* test_store.c - the history store as a user gets it: a paper run and a
 * backtest with the store on hold as many orders and fills as their
 * summaries say; `history rebuild` from the run's journal writes the same
 * rows as the live recorder; a store that is locked for a while is caught
 * up (nothing missing, nothing doubled); an unwritable one leaves trading
 * alone; `history` queries answer from it. */
#include "itest.h"

#include <jansson.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_sqlite.h"

#define CFG "config/ingenium.yaml"

/* One integer from sql on the store at path. */
static int64_t q_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* Sums strategies[].key over the summary. */
static int64_t sum_of(json_t *summary, const char *key)
{
	json_t *s = json_object_get(summary, "strategies"), *v;
	size_t i;
	int64_t n = 0;
	json_array_foreach(s, i, v)
		n += json_integer_value(json_object_get(v, key));
	return n;
}

static int64_t store_stat(json_t *summary, const char *key)
{
	json_t *st = json_object_get(summary, "store");
	assert_non_null(st);
	return json_integer_value(json_object_get(st, key));
}

/* The store's orders and fills equal the summary's. */
static void check_counts(const char *db, json_t *summary)
{
	int64_t orders = sum_of(summary, "orders"), fills = sum_of(summary, "fills");
	printf("  store %s: orders %lld (summary %lld), fills %lld (summary %lld)\n", db,
	       (long long)q_int(db, "SELECT count(*) FROM orders"), (long long)orders,
	       (long long)q_int(db, "SELECT count(*) FROM fills"), (long long)fills);
	assert_true(orders > 0);
	assert_true(fills > 0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM orders"), orders);
	assert_int_equal(q_int(db, "SELECT count(*) FROM fills"), fills);
	assert_int_equal(q_int(db, "SELECT sum(filled_qty > 0) FROM orders"),
			 q_int(db, "SELECT count(DISTINCT client_order_id) FROM fills"));
}

static json_t *load_summary(const char *path, int slot)
{
	json_t *j = json_load_file(path, 0, NULL);
	assert_non_null(j);
	it_json[slot] = j;
	return j;
}

/* Rows of table in a that b lacks, and the other way (b attached). */
static int64_t differ(const char *a, const char *b, const char *cols, const char *table)
{
	char sql[512];
	sqlite3 *db;
	sqlite3_stmt *q;
	int64_t n = -1;
	assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "ATTACH '%s' AS b", b);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "SELECT (SELECT count(*) FROM (SELECT %s FROM main.%s EXCEPT SELECT %s FROM b.%s)) +"
		 " (SELECT count(*) FROM (SELECT %s FROM b.%s EXCEPT SELECT %s FROM main.%s))",
		 cols, table, cols, table, cols, table, cols, table);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void test_paper_run_and_rebuild(void **state)
{
	char db[320], rb[320], jr[320], sum[320], out[320], sdb[330];
	json_t *s;
	static const char *const tables[] = { "orders", "order_events", "fills", "equity",
					      "denials" };
	(void)state;
	snprintf(db, sizeof(db), "%s/live.sqlite", it_tmpdir);
	snprintf(rb, sizeof(rb), "%s/rebuilt.sqlite", it_tmpdir);
	snprintf(jr, sizeof(jr), "%s/run.journal", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/run.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/run.out", it_tmpdir);
	{
		char p1[340], p2[340];
		snprintf(p1, sizeof(p1), "store.path=%s", db);
		snprintf(p2, sizeof(p2), "journal.path=%s", jr);
		/* store.kind unset: sqlite for `run`. */
		const char *argv[] = { it_bin, "run", "-c", CFG, "--set", p1, "--set",
				       "journal.enabled=true", "--set", p2, "--summary-json", sum,
				       "-q", NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	s = load_summary(sum, 0);
	assert_int_equal(store_stat(s, "dropped"), 0);
	assert_int_equal(store_stat(s, "errors"), 0);
	assert_int_equal(store_stat(s, "behind"), 0);
	check_counts(db, s);
	assert_int_equal(q_int(db, "SELECT count(*) FROM sessions WHERE stopped_at > started_at"), 1);
	assert_true(q_int(db, "SELECT count(*) FROM denials") > 0);  /* sma_big's */
	assert_true(q_int(db, "SELECT count(*) FROM equity") > 0);
	/* Events count 1, 2, ... per order. */
	assert_int_equal(q_int(db, "SELECT count(*) FROM order_events e WHERE seq > 1 AND NOT EXISTS"
				   " (SELECT 1 FROM order_events p WHERE p.client_order_id ="
				   " e.client_order_id AND p.seq = e.seq - 1)"),
			 0);

	snprintf(sdb, sizeof(sdb), "sqlite:%s", rb);
	{
		const char *argv[] = { it_bin, "history", "rebuild", "--journal", jr, "--store", sdb,
				       "-c", CFG, NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		int64_t n = q_int(db, "SELECT 1"), d = differ(db, rb, "*", tables[i]);
		(void)n;
		printf("  %s: %lld rows differ between live and rebuilt\n", tables[i], (long long)d);
		assert_int_equal(d, 0);
	}
	/* The journal has no stop record: all but stopped_at. */
	assert_int_equal(differ(db, rb, "daemon_id, run_epoch, config_hash, venue, started_at",
				"sessions"),
			 0);
	/* Rebuilding into the live store changes nothing. */
	snprintf(sdb, sizeof(sdb), "sqlite:%s", db);
	{
		const char *argv[] = { it_bin, "history", "rebuild", "--journal", jr, "--store", sdb,
				       "-c", CFG, NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	check_counts(db, s);
	assert_int_equal(differ(db, rb, "*", "order_events"), 0);
	assert_int_equal(q_int(db, "SELECT count(*) FROM sessions WHERE stopped_at > started_at"), 1);

	/* Queries: pnl sums to the summary's realized PnL and fees. */
	{
		char csv[320];
		const char *argv[] = { it_bin, "history", "--store", sdb, "pnl", "--strategy",
				       "sma_fast", "--json", NULL };
		json_t *rows, *row, *s0 = json_array_get(json_object_get(s, "strategies"), 0);
		int64_t realized = 0, fees = 0, trades = 0;
		size_t i;
		snprintf(csv, sizeof(csv), "%s/pnl.json", it_tmpdir);
		assert_int_equal(it_run(argv, csv), 0);
		rows = json_load_file(csv, 0, NULL);
		assert_non_null(rows);
		it_json[1] = rows;
		assert_true(json_array_size(rows) > 0);
		json_array_foreach(rows, i, row) {
			realized += it_money(row, "realized");
			fees += it_money(row, "fees");
			trades += strtoll(json_string_value(json_object_get(row, "trades")), NULL, 10);
		}
		assert_int_equal(realized, it_money(s0, "realized_pnl"));
		assert_int_equal(fees, it_money(s0, "fees"));
		assert_int_equal(trades, json_integer_value(json_object_get(s0, "fills")));
	}
	{
		char csv[320];
		const char *argv[] = { it_bin, "history", "--store", sdb, "fills", "--csv", NULL };
		snprintf(csv, sizeof(csv), "%s/fills.csv", it_tmpdir);
		assert_int_equal(it_run(argv, csv), 0);
		assert_int_equal(it_count(csv, "\n"), 1 + sum_of(s, "fills"));
	}
}

static void test_backtest_store(void **state)
{
	char db[320], sum[320], out[320], p1[340];
	json_t *s;
	(void)state;
	snprintf(db, sizeof(db), "%s/bt.sqlite", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/bt.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/bt.out", it_tmpdir);
	snprintf(p1, sizeof(p1), "store.path=%s", db);
	/* Off for a backtest unless set. */
	{
		const char *argv[] = { it_bin, "backtest", "-c", CFG, "--set", p1, "--summary-json",
				       sum, "-q", NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	assert_int_not_equal(access(db, F_OK), 0);
	{
		const char *argv[] = { it_bin, "backtest", "-c", CFG, "--set", p1, "--set",
				       "store.kind=sqlite", "--summary-json", sum, "-q", NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	s = load_summary(sum, 0);
	assert_int_equal(store_stat(s, "dropped"), 0);
	assert_int_equal(store_stat(s, "errors"), 0);
	check_counts(db, s);
	/* Equity every 60 s of data time per strategy, on minute data: one per bar. */
	assert_true(q_int(db, "SELECT count(*) FROM equity") > 1000);
}

/* The store is locked by another writer for the first 3 s of the run:
 * trading goes on, the recorder retries with backoff, the ring fills and
 * drops (on this data: 3 equity items per minute bar, 2000 bars/s), the
 * recorder catches up from the journal, and ends with exactly the
 * summary's rows. */
static void test_locked_store_catches_up(void **state)
{
	char db[320], jr[320], sum[320], out[320], p1[340], p2[340], err[256];
	sqlite3 *lock;
	void *h = NULL;
	json_t *s;
	pid_t pid;
	int st;
	(void)state;
	snprintf(db, sizeof(db), "%s/locked.sqlite", it_tmpdir);
	snprintf(jr, sizeof(jr), "%s/locked.journal", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/locked.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/locked.out", it_tmpdir);
	assert_int_equal(ig_store_sqlite_ops.open(&h, db, err, sizeof(err)), 0);
	ig_store_sqlite_ops.close(h);
	assert_int_equal(sqlite3_open(db, &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	snprintf(p1, sizeof(p1), "store.path=%s", db);
	snprintf(p2, sizeof(p2), "journal.path=%s", jr);
	{
		const char *argv[] = { it_bin, "run", "-c", CFG, "--set", p1, "--set",
				       "journal.enabled=true", "--set", p2, "--summary-json", sum,
				       NULL };
		pid = it_spawn(argv, out, false);
		it_run_pid = pid;
	}
	it_msleep(3000);
	sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(lock);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	it_run_pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	s = load_summary(sum, 0);
	printf("  store: errors %lld, dropped %lld, catch-ups %lld\n",
	       (long long)store_stat(s, "errors"), (long long)store_stat(s, "dropped"),
	       (long long)store_stat(s, "catchups"));
	assert_true(store_stat(s, "errors") > 0);
	assert_true(store_stat(s, "dropped") == 0 || store_stat(s, "catchups") > 0);
	check_counts(db, s);
	assert_true(it_count(out, "store: cannot open") > 0);
}

/* A store that cannot be written at all: the run trades as usual and
 * says so. */
static void test_unwritable_store(void **state)
{
	char db[340], blocker[300], sum[320], out[320], p1[360];
	json_t *s;
	FILE *f;
	(void)state;
	snprintf(blocker, sizeof(blocker), "%s/not-a-dir", it_tmpdir);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(db, sizeof(db), "%s/h.sqlite", blocker);
	snprintf(sum, sizeof(sum), "%s/ro.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/ro.out", it_tmpdir);
	snprintf(p1, sizeof(p1), "store.path=%s", db);
	{
		const char *argv[] = { it_bin, "run", "-c", CFG, "--set", p1, "--summary-json", sum, NULL };
		assert_int_equal(it_run(argv, out), 0);
	}
	s = load_summary(sum, 0);
	assert_true(sum_of(s, "fills") > 0);
	assert_true(store_stat(s, "errors") > 0);
	assert_int_equal(store_stat(s, "rows"), 0);
	assert_true(it_count(out, "history store is incomplete") == 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_paper_run_and_rebuild, it_teardown),
		cmocka_unit_test_teardown(test_backtest_store, it_teardown),
		cmocka_unit_test_teardown(test_locked_store_catches_up, it_teardown),
		cmocka_unit_test_teardown(test_unwritable_store, it_teardown),
	};
	(void)argc;
	return it_main(argv[0], "test_store", tests, sizeof(tests) / sizeof(tests[0]));
}
