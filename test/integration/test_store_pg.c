/* test_store_pg.c - the history store in PostgreSQL as a user gets it,
 * against a throwaway cluster (test/store/pgtest.h): two paper daemons
 * with `store.kind: postgres` write one database, each under its own
 * daemon_id, and each one's orders and fills equal its summary; the
 * connection string comes from the environment and never reaches the
 * log. Then the server is stopped in the middle of a run with the journal
 * on and started again: the run trades on, the recorder catches up, and
 * the counts equal the summary at the end (nothing missing, nothing
 * doubled). Last, `ingenium history --store postgres:VAR` answers from
 * those rows as it does from SQLite, and a wrong password is a clear
 * error that never shows it. */
#include "itest.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/pgtest.h"
#include "config/config.h"
#include "ingenium/error.h"
#include "store/query.h"

#define CFG "config/ingenium.yaml"
#define URL_ENV "IG_IT_PG_URL"

static struct pgt_cluster cl;
static char conninfo[512];

/* One integer from sql (with daemon_id = $1) on the test database. */
static int64_t q_int(const char *sql, const char *daemon)
{
	PGconn *c = PQconnectdb(conninfo);
	const char *params[1] = { daemon };
	PGresult *r;
	int64_t v = -1;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (PQntuples(r) == 1)
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* daemon's orders and fills in the database equal the summary's. */
static void check_counts(const char *daemon, json_t *summary)
{
	int64_t orders = it_sum_strategies(summary, "orders"), fills = it_sum_strategies(summary, "fills");
	int64_t so = q_int("SELECT count(*) FROM orders WHERE daemon_id = $1", daemon);
	int64_t sf = q_int("SELECT count(*) FROM fills WHERE daemon_id = $1", daemon);

	printf("  postgres %s: orders %lld (summary %lld), fills %lld (summary %lld)\n", daemon,
	       (long long)so, (long long)orders, (long long)sf, (long long)fills);
	assert_true(orders > 0);
	assert_true(fills > 0);
	assert_int_equal(so, orders);
	assert_int_equal(sf, fills);
	assert_int_equal(q_int("SELECT count(*) FROM sessions WHERE daemon_id = $1", daemon), 1);
}

/* `ingenium run` on the paper config into the database as daemon, the
 * journal at journal (NULL: off), feed.rate events/s; background if
 * pid != NULL, else waits. */
static void run_daemon(const char *daemon, const char *journal, const char *rate,
		       const char *sum, const char *out, pid_t *pid)
{
	char d[128], j[400], r[64];
	const char *argv[24];
	int n = 0;

	snprintf(d, sizeof(d), "store.daemon_id=%s", daemon);
	snprintf(r, sizeof(r), "feed.rate=%s", rate);
	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = CFG;
	argv[n++] = "--set";
	argv[n++] = "store.kind=postgres";
	argv[n++] = "--set";
	argv[n++] = "store.url_env=" URL_ENV;
	argv[n++] = "--set";
	argv[n++] = d;
	argv[n++] = "--set";
	argv[n++] = r;
	if (journal != NULL) {
		snprintf(j, sizeof(j), "journal.path=%s", journal);
		argv[n++] = "--set";
		argv[n++] = "journal.enabled=true";
		argv[n++] = "--set";
		argv[n++] = j;
	}
	argv[n++] = "--summary-json";
	argv[n++] = sum;
	argv[n] = NULL;
	setenv(URL_ENV, conninfo, 1);
	if (pid != NULL) {
		*pid = it_spawn(argv, out, false);
		assert_true(*pid > 0);
	} else {
		assert_int_equal(it_run(argv, out), 0);
	}
	unsetenv(URL_ENV);
}

static void test_two_daemons_one_database(void **state)
{
	char sum_a[320], sum_b[320], out_a[320], out_b[320];

	(void)state;
	snprintf(sum_a, sizeof(sum_a), "%s/a.json", it_tmpdir);
	snprintf(sum_b, sizeof(sum_b), "%s/b.json", it_tmpdir);
	snprintf(out_a, sizeof(out_a), "%s/a.out", it_tmpdir);
	snprintf(out_b, sizeof(out_b), "%s/b.out", it_tmpdir);
	{
		/* The journal on: a run at full speed outruns any database,
		 * the recorder drops and catches up from the journal. */
		char ja[320], jb[320];
		snprintf(ja, sizeof(ja), "%s/a.journal", it_tmpdir);
		snprintf(jb, sizeof(jb), "%s/b.journal", it_tmpdir);
		run_daemon("alpha", ja, "2000", sum_a, out_a, NULL);
		run_daemon("beta", jb, "2000", sum_b, out_b, NULL);
	}
	it_json[0] = json_load_file(sum_a, 0, NULL);
	it_json[1] = json_load_file(sum_b, 0, NULL);
	assert_non_null(it_json[0]);
	assert_non_null(it_json[1]);
	check_counts("alpha", it_json[0]);
	check_counts("beta", it_json[1]);
	/* Exact money: the sum of fill quantities is the summary's, as NUMERIC. */
	assert_true(q_int("SELECT count(*) FROM v_fills WHERE daemon_id = $1", "alpha") > 0);
	assert_int_equal(it_count(out_a, "port="), 0); /* the connection string never logged */
	assert_int_equal(it_count(out_b, "port="), 0);
}

/* `ingenium history --store postgres:URL_ENV WHAT --json [extra...]`
 * into path; returns its exit status (the variable set for the run only). */
static int history(const char *url, const char *what, const char *daemon, const char *path)
{
	const char *argv[12];
	int n = 0, rc;

	argv[n++] = it_bin;
	argv[n++] = "history";
	argv[n++] = "--store";
	argv[n++] = "postgres:" URL_ENV;
	argv[n++] = what;
	if (daemon != NULL) {
		argv[n++] = "--daemon";
		argv[n++] = daemon;
	}
	argv[n++] = "--json";
	argv[n] = NULL;
	setenv(URL_ENV, url, 1);
	rc = it_run(argv, path);
	unsetenv(URL_ENV);
	return rc;
}

/* The JSON array `history WHAT --daemon daemon --json` prints (kept in
 * it_json[slot] for the teardown). */
static json_t *history_json(const char *what, const char *daemon, int slot)
{
	char path[320];
	json_t *rows;

	snprintf(path, sizeof(path), "%s/h-%s-%s.json", it_tmpdir, what, daemon ? daemon : "all");
	assert_int_equal(history(conninfo, what, daemon, path), 0);
	rows = json_load_file(path, 0, NULL);
	if (rows == NULL || !json_is_array(rows))
		fail_msg("history %s: not a JSON array (see %s)", what, path);
	json_decref(it_json[slot]);
	it_json[slot] = rows;
	return rows;
}

/* Each row of rows has daemon_id == daemon. */
static void all_of(json_t *rows, const char *daemon)
{
	size_t i;
	json_t *row;

	json_array_foreach(rows, i, row)
		assert_string_equal(json_string_value(json_object_get(row, "daemon_id")), daemon);
}

/* history orders, fills, sessions and pnl of daemon equal its summary. */
static void check_history(const char *daemon, json_t *summary)
{
	json_t *rows, *row, *strats = json_object_get(summary, "strategies"), *st;
	int64_t realized = 0, fees = 0, trades = 0, want_realized = 0, want_fees = 0;
	size_t i;

	rows = history_json("orders", daemon, 2);
	assert_int_equal((int64_t)json_array_size(rows), it_sum_strategies(summary, "orders"));
	all_of(rows, daemon);
	rows = history_json("fills", daemon, 2);
	assert_int_equal((int64_t)json_array_size(rows), it_sum_strategies(summary, "fills"));
	all_of(rows, daemon);
	/* exact money, as SQLite shows it */
	if (json_array_size(rows) > 0)
		assert_non_null(strchr(json_string_value(json_object_get(json_array_get(rows, 0), "qty")),
				       '.'));
	rows = history_json("sessions", daemon, 2);
	assert_int_equal(json_array_size(rows), 1);
	all_of(rows, daemon);
	assert_non_null(json_string_value(json_object_get(json_array_get(rows, 0), "stopped")));
	rows = history_json("pnl", daemon, 2);
	assert_int_equal(json_array_size(rows) > 0, it_sum_strategies(summary, "fills") > 0);
	all_of(rows, daemon);
	json_array_foreach(rows, i, row) {
		realized += it_money(row, "realized");
		fees += it_money(row, "fees");
		trades += strtoll(json_string_value(json_object_get(row, "trades")), NULL, 10);
	}
	json_array_foreach(strats, i, st) {
		want_realized += it_money(st, "realized_pnl");
		want_fees += it_money(st, "fees");
	}
	printf("  history %s: realized %lld (summary %lld), fees %lld (summary %lld),"
	       " trades %lld (summary fills %lld)\n",
	       daemon, (long long)realized, (long long)want_realized, (long long)fees,
	       (long long)want_fees, (long long)trades, (long long)it_sum_strategies(summary, "fills"));
	assert_int_equal(realized, want_realized);
	assert_int_equal(fees, want_fees);
	assert_int_equal(trades, it_sum_strategies(summary, "fills"));
}

/* Runs sql on the test database as postgres; fails the test on an error. */
static void exec_sql(const char *sql)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* `ingenium history --store postgres:VAR` on the three daemons' rows (the
 * tests before this one wrote them): each daemon's orders, fills, sessions
 * and pnl equal its summary and --daemon keeps them apart; all together
 * without it. The same journal rebuilt into SQLite and PostgreSQL prints
 * the same bytes. Then a role that needs a password: the right one in the URL
 * answers, a wrong one is a clear error that never shows the password. */
static void test_history_queries(void **state)
{
	char sum_a[320], sum_b[320], sum_g[320], out[320], url[512], hba[300];
	json_t *a, *b, *g;

	(void)state;
	snprintf(sum_a, sizeof(sum_a), "%s/a.json", it_tmpdir);
	snprintf(sum_b, sizeof(sum_b), "%s/b.json", it_tmpdir);
	snprintf(sum_g, sizeof(sum_g), "%s/down.json", it_tmpdir);
	a = it_json[0] = json_load_file(sum_a, 0, NULL);
	b = it_json[1] = json_load_file(sum_b, 0, NULL);
	g = it_json[3] = json_load_file(sum_g, 0, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(g);
	check_history("alpha", a);
	check_history("beta", b);
	assert_true(it_sum_strategies(g, "fills") > 0); /* paced: hundreds of fills */
	check_history("gamma", g);
	assert_int_equal((int64_t)json_array_size(history_json("orders", NULL, 2)),
			 it_sum_strategies(a, "orders") + it_sum_strategies(b, "orders") + it_sum_strategies(g, "orders"));
	assert_int_equal((int64_t)json_array_size(history_json("sessions", NULL, 2)), 3);
	assert_int_equal((int64_t)json_array_size(history_json("fills", "nobody", 2)), 0);
	{
		/* gamma's journal rebuilt into SQLite and into a second
		 * PostgreSQL database: every query prints the same bytes from
		 * either store (table, CSV and JSON). */
		static const char *const whats[] = { "orders", "fills", "pnl", "sessions" };
		static const char *const fmts[] = { "--csv", "--json", NULL };
		char jr[320], db[340], cmp[512], err[256], sq_out[320], pg_out[320];
		const char *rs[] = { it_bin, "history", "rebuild", "--journal", jr, "--store", db,
				     "-c", CFG, NULL };
		const char *rp[] = { it_bin, "history", "rebuild", "--journal", jr, "--store",
				     "postgres:" URL_ENV, "-c", CFG, NULL };
		snprintf(jr, sizeof(jr), "%s/down.journal", it_tmpdir);
		snprintf(db, sizeof(db), "sqlite:%s/rebuilt.sqlite", it_tmpdir);
		snprintf(out, sizeof(out), "%s/rebuild.out", it_tmpdir);
		snprintf(sq_out, sizeof(sq_out), "%s/cmp-sqlite.out", it_tmpdir);
		snprintf(pg_out, sizeof(pg_out), "%s/cmp-pg.out", it_tmpdir);
		if (pgt_createdb(&cl, "ig_cmp", cmp, sizeof(cmp), err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_int_equal(it_run(rs, out), 0);
		setenv(URL_ENV, cmp, 1);
		assert_int_equal(it_run(rp, out), 0);
		for (size_t w = 0; w < sizeof(whats) / sizeof(whats[0]); w++)
			for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
				const char *hs[] = { it_bin, "history", "--store", db, whats[w],
						     fmts[f], NULL };
				const char *hp[] = { it_bin, "history", "--store",
						     "postgres:" URL_ENV, whats[w], fmts[f], NULL };
				char *x, *y;
				assert_int_equal(it_run(hs, sq_out), 0);
				assert_int_equal(it_run(hp, pg_out), 0);
				x = it_slurp(sq_out);
				y = it_slurp(pg_out);
				assert_non_null(x);
				assert_non_null(y);
				assert_true(strlen(x) > 4); /* rows */
				assert_string_equal(x, y);
				free(x);
				free(y);
			}
		unsetenv(URL_ENV);
		/* ig_store_query_run as the API calls it (a limit, a time
		 * bound): the same rows from either store, the newest kept. */
		for (size_t w = 0; w < sizeof(whats) / sizeof(whats[0]); w++) {
			struct ig_store_query q = { .kind = IG_STORE_SQLITE,
						    .target = db + 7,
						    .what = whats[w],
						    .from_ns = INT64_MIN,
						    .to_ns = INT64_MAX,
						    .timeout_ms = 2000 };
			json_t *all = NULL, *sq = NULL, *pg = NULL;
			bool cut_sq = false, cut_pg = false;
			size_t n;
			assert_int_equal(ig_store_query_run(&q, &all, NULL, err, sizeof(err)), 0);
			n = json_array_size(all);
			q.limit = 3;
			assert_int_equal(ig_store_query_run(&q, &sq, &cut_sq, err, sizeof(err)), 0);
			q.kind = IG_STORE_POSTGRES;
			q.target = cmp;
			if (ig_store_query_run(&q, &pg, &cut_pg, err, sizeof(err)) != 0)
				fail_msg("postgres %s: %s", whats[w], err);
			printf("  query %s limit 3: %zu of %zu rows (sqlite), %zu (postgres)\n",
			       whats[w], json_array_size(sq), n, json_array_size(pg));
			assert_int_equal(json_array_size(sq), n < 3 ? n : 3);
			assert_true(json_equal(sq, pg));
			assert_true(cut_sq == (n > 3) && cut_pg == cut_sq);
			for (size_t i = 0; i < json_array_size(sq); i++)
				assert_true(json_equal(json_array_get(sq, i),
						       json_array_get(all, n - json_array_size(sq) + i)));
			json_decref(all);
			json_decref(sq);
			json_decref(pg);
		}
		{
			/* A server that cannot be reached: an error within the
			 * bound, no password in it. */
			struct ig_store_query q = { .kind = IG_STORE_POSTGRES,
						    .target = "postgresql://u:Secret-Pw-1@127.0.0.1:9/x",
						    .what = "fills",
						    .from_ns = INT64_MIN,
						    .to_ns = INT64_MAX,
						    .timeout_ms = 2000 };
			json_t *rows = NULL;
			assert_int_equal(ig_store_query_run(&q, &rows, NULL, err, sizeof(err)), IG_EIO);
			assert_null(rows);
			assert_null(strstr(err, "Secret-Pw-1"));
		}
	}

	/* Password authentication for one role over TCP (the cluster trusts
	 * everyone else). */
	exec_sql("CREATE ROLE ig_pw LOGIN PASSWORD 'Right-Pw-7'");
	exec_sql("GRANT SELECT ON ALL TABLES IN SCHEMA public TO ig_pw");
	snprintf(hba, sizeof(hba), "%s/data/pg_hba.conf", cl.dir);
	{
		char *old = it_slurp(hba);
		FILE *f;
		assert_non_null(old);
		f = fopen(hba, "w");
		assert_non_null(f);
		fprintf(f, "host all ig_pw 127.0.0.1/32 scram-sha-256\n%s", old);
		free(old);
		assert_int_equal(fclose(f), 0);
	}
	exec_sql("SELECT pg_reload_conf()");
	snprintf(out, sizeof(out), "%s/h-pw.out", it_tmpdir);
	snprintf(url, sizeof(url), "postgresql://ig_pw:Right-Pw-7@127.0.0.1:%d/ig_it?connect_timeout=5",
		 cl.port);
	assert_int_equal(history(url, "sessions", NULL, out), 0);
	assert_int_equal(it_count(out, "Right-Pw-7"), 0);
	/* the reload is asynchronous: until it applies, no password is asked */
	snprintf(url, sizeof(url),
		 "postgresql://ig_pw:Wr0ng%%2FSecret@127.0.0.1:%d/ig_it?connect_timeout=5", cl.port);
	for (int i = 0; i < 50 && history(url, "orders", NULL, out) == 0; i++)
		it_msleep(100);
	assert_int_not_equal(history(url, "orders", NULL, out), 0);
	{
		char *text = it_slurp(out);
		assert_non_null(text);
		printf("  wrong password: %s", text);
		free(text);
	}
	assert_int_equal(it_count(out, "password authentication failed"), 1);
	assert_int_equal(it_count(out, "Wr0ng"), 0);
	assert_int_equal(it_count(out, "Secret"), 0);
	assert_int_equal(it_count(out, "port="), 0);
}

static void test_server_down_mid_run(void **state)
{
	char sum[320], out[320], jr[320], err[256];
	pid_t pid = -1;
	json_t *st;

	(void)state;
	snprintf(sum, sizeof(sum), "%s/down.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/down.out", it_tmpdir);
	snprintf(jr, sizeof(jr), "%s/down.journal", it_tmpdir);
	run_daemon("gamma", jr, "1000", sum, out, &pid);
	it_run_pid = pid;
	it_msleep(1500);
	assert_int_equal(pgt_stop(&cl), 0);
	it_msleep(2000);
	assert_int_equal(pgt_restart(&cl, err, sizeof(err)), 0);
	/* The run ends by itself (about 8 s of data at 1000/s). */
	assert_int_equal(it_reap(&it_run_pid, 0, 90000), 0);
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	st = json_object_get(it_json[0], "store");
	{
		char *text = json_dumps(st, JSON_COMPACT); /* freed: LeakSanitizer */
		printf("  store after the outage: %s\n", text != NULL ? text : "(none)");
		free(text);
	}
	assert_true(json_integer_value(json_object_get(st, "errors")) > 0); /* it was down */
	assert_int_equal(json_integer_value(json_object_get(st, "behind")), 0);
	check_counts("gamma", it_json[0]);
}

/* Two runs of one daemon_id without a journal, back to back (the clock
 * gives both the same run epoch): the second run's epoch goes past the
 * last session in the database, so their client ids never meet (two
 * session rows, the later one with the larger epoch), as with SQLite. */
static void test_epoch_past_last_session(void **state)
{
	char sum[320], out[320];

	(void)state;
	snprintf(sum, sizeof(sum), "%s/e.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/e1.out", it_tmpdir);
	run_daemon("delta", NULL, "20000", sum, out, NULL);
	snprintf(out, sizeof(out), "%s/e2.out", it_tmpdir);
	run_daemon("delta", NULL, "20000", sum, out, NULL);
	assert_int_equal(q_int("SELECT count(DISTINCT run_epoch) FROM sessions WHERE daemon_id = $1",
			       "delta"),
			 2);
	assert_int_equal(q_int("SELECT count(*) FROM sessions s, sessions t WHERE s.daemon_id = $1"
			       " AND t.daemon_id = $1 AND s.started_at < t.started_at"
			       " AND s.run_epoch < t.run_epoch",
			       "delta"),
			 1);
}

/* A table held locked by another session (a long report, a migration by
 * hand) never holds the daemon's stop: the recorder's statements give up
 * after the lock timeout, the stop's catch-ups are bounded, and the
 * daemon exits by itself while the lock is still held (it_reap's SIGKILL
 * never comes). */
static void test_locked_table_does_not_hold_stop(void **state)
{
	char sum[320], out[320], jr[320];
	pid_t pid = -1;
	PGconn *c;
	PGresult *r;
	int status;

	(void)state;
	snprintf(sum, sizeof(sum), "%s/lock.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/lock.out", it_tmpdir);
	snprintf(jr, sizeof(jr), "%s/lock.journal", it_tmpdir);
	run_daemon("epsilon", jr, "1000", sum, out, &pid);
	it_run_pid = pid;
	it_msleep(1500);
	c = PQconnectdb(conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "BEGIN; LOCK TABLE fills, orders IN ACCESS EXCLUSIVE MODE");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	it_msleep(1500);
	status = it_reap(&it_run_pid, SIGINT, 120000);
	r = PQexec(c, "COMMIT");
	PQclear(r);
	PQfinish(c);
	printf("  stop with fills locked: exit %d\n", status);
	it_print_lines(out, "store:");

	assert_int_not_equal(status, 128 + SIGKILL);
	/* It said so: the locks timed out, and the store is behind. */
	assert_true(it_count(out, "lock timeout") > 0);
	assert_true(it_count(out, "the history store is incomplete") > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_two_daemons_one_database, it_teardown),
		cmocka_unit_test_teardown(test_server_down_mid_run, it_teardown),
		cmocka_unit_test_teardown(test_history_queries, it_teardown),
		cmocka_unit_test_teardown(test_epoch_past_last_session, it_teardown),
		cmocka_unit_test_teardown(test_locked_table_does_not_hold_stop, it_teardown),
	};
	char err[512];
	int rc;

	(void)argc;
	/* One cluster for the binary; pgt_destroy (and its watchdog, if this
	 * process dies) always stops and removes it. */
	if (pgt_start(&cl, err, sizeof(err)) != 0 ||
	    pgt_createdb(&cl, "ig_it", conninfo, sizeof(conninfo), err, sizeof(err)) != 0) {
		fprintf(stderr, "test_store_pg: %s\n", err);
		pgt_destroy(&cl);
		printf("0 passed, 1 failed\n");
		return 1;
	}
	{
		/* The cluster runs with fsync and synchronous_commit off (speed);
		 * the outage test stops it with -m immediate, a crash, which
		 * would lose commits already acknowledged: make commits wait for
		 * the WAL write (the kernel keeps it across a killed server). */
		PGconn *c = PQconnectdb(conninfo);
		PGresult *r = PQexec(c, "ALTER DATABASE ig_it SET synchronous_commit = on");
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			fprintf(stderr, "test_store_pg: %s\n", PQerrorMessage(c));
			PQclear(r);
			PQfinish(c);
			pgt_destroy(&cl);
			printf("0 passed, 1 failed\n");
			return 1;
		}
		PQclear(r);
		PQfinish(c);
	}
	rc = it_main(argv[0], "test_store_pg", tests, sizeof(tests) / sizeof(tests[0]));
	pgt_destroy(&cl);
	return rc;
}
