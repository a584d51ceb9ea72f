/* test_store_pg.c - the history store in PostgreSQL as a user gets it,
 * against a throwaway cluster (test/store/pgtest.h): two paper daemons
 * with `store.kind: postgres` write one database, each under its own
 * daemon_id, and each one's orders and fills equal its summary; the
 * connection string comes from the environment and never reaches the
 * log. Then the server is stopped in the middle of a run with the journal
 * on and started again: the run trades on, the recorder catches up, and
 * the counts equal the summary at the end (nothing missing, nothing
 * doubled). */
#include "itest.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/pgtest.h"

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

static int64_t sum_of(json_t *summary, const char *key)
{
	json_t *s = json_object_get(summary, "strategies"), *v;
	size_t i;
	int64_t n = 0;
	json_array_foreach(s, i, v)
		n += json_integer_value(json_object_get(v, key));
	return n;
}

/* daemon's orders and fills in the database equal the summary's. */
static void check_counts(const char *daemon, json_t *summary)
{
	int64_t orders = sum_of(summary, "orders"), fills = sum_of(summary, "fills");
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
	printf("  store after the outage: %s\n", json_dumps(st, JSON_COMPACT));
	assert_true(json_integer_value(json_object_get(st, "errors")) > 0); /* it was down */
	assert_int_equal(json_integer_value(json_object_get(st, "behind")), 0);
	check_counts("gamma", it_json[0]);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_two_daemons_one_database, it_teardown),
		cmocka_unit_test_teardown(test_server_down_mid_run, it_teardown),
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
