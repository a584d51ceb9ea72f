/*
 * test_luno_sim.c - the daemon against exchange-sim over real HTTP on
 * loopback, as a user runs them: two processes, config/luno.yaml, fast
 * sma_cross params. Each scenario starts the sim on a free port, runs the
 * daemon for a few seconds, stops both with SIGTERM (always, even when a
 * check fails), then compares the daemon's summary with the sim's --state:
 *   - every client_order_id appears at most once at the sim;
 *   - position == the sim's base balance change, cash == counter balance
 *     change, fees == the sim's trades' fees (charged like Luno: a buyer
 *     in base, a seller in counter), fills == the sim's trades: exactly,
 *     as decimal strings (it_check_books);
 *   - the API secret (a canary value) appears in no output.
 * Scenarios: clean; faults (--fail-rate 0.2 --timeout-after-accept 0.1);
 * a rate limit lower than the load.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANARY_SECRET "canary-Zq7-secret-do-not-log"
#define CANARY_KEY "canary-key-id-77"

static pid_t sim_pid = -1, run_pid = -1;
/* Loaded results; freed in teardown, so a failed assertion leaks nothing. */
static json_t *g_state, *g_summary;



/* SIGTERM, then wait (SIGKILL after 150 s: a rate-limited daemon may wait
 * out the venue's 60 s window to settle its last orders). Returns the exit
 * status. */
static int stop(pid_t *pid)
{
	return it_reap(pid, SIGTERM, 150000);
}





struct scenario {
	const char *name;
	const char *sim_args[8];
	const char *run_args[8];
	int run_ms;
	long long min_faults;       /* the sim must have injected at least this many */
	long long min_rate_limited; /* and answered 429 at least this often */
	bool lifecycle;             /* limit orders and cancels must have happened */
};

static void run_scenario(const struct scenario *sc)
{
	char sim_out[300], run_out[300], state[300], summary[300], url[64], jpath[340];
	const char *sim_argv[24], *run_argv[40];
	int n = 0, port, rc_run, rc_sim;
	json_error_t jerr;
	json_t *st, *sum, *strats, *trades, *orders;
	int cancelled = 0, limits = 0;
	size_t i;

	snprintf(sim_out, sizeof(sim_out), "%s/%s.sim.out", it_tmpdir, sc->name);
	snprintf(run_out, sizeof(run_out), "%s/%s.run.out", it_tmpdir, sc->name);
	snprintf(state, sizeof(state), "%s/%s.state.json", it_tmpdir, sc->name);
	snprintf(summary, sizeof(summary), "%s/%s.summary.json", it_tmpdir, sc->name);
	/* Each scenario has its own exchange, so its own journal. */
	snprintf(jpath, sizeof(jpath), "journal.path=%s/%s.journal", it_tmpdir, sc->name);

	sim_argv[n++] = it_bin;
	sim_argv[n++] = "exchange-sim";
	sim_argv[n++] = "--listen";
	sim_argv[n++] = "127.0.0.1:0";
	sim_argv[n++] = "--seed";
	sim_argv[n++] = "7";
	sim_argv[n++] = "--state";
	sim_argv[n++] = state;
	for (int k = 0; sc->sim_args[k] != NULL; k++)
		sim_argv[n++] = sc->sim_args[k];
	sim_argv[n] = NULL;
	sim_pid = it_spawn(sim_argv, sim_out, false);
	port = it_sim_port(sim_out);
	assert_true(port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", port);

	n = 0;
	run_argv[n++] = it_bin;
	run_argv[n++] = "run";
	run_argv[n++] = "-c";
	run_argv[n++] = "config/luno.yaml";
	run_argv[n++] = "--set";
	run_argv[n++] = url;
	run_argv[n++] = "--set";
	run_argv[n++] = "feed.heartbeat_ms=250";
	run_argv[n++] = "--set";
	run_argv[n++] = "strategies.0.params.fast=2";
	run_argv[n++] = "--set";
	run_argv[n++] = "strategies.0.params.slow=4";
	run_argv[n++] = "--set";
	run_argv[n++] = jpath;
	run_argv[n++] = "--summary-json";
	run_argv[n++] = summary;
	for (int k = 0; sc->run_args[k] != NULL; k++)
		run_argv[n++] = sc->run_args[k];
	run_argv[n] = NULL;
	run_pid = it_spawn(run_argv, run_out, false);
	it_msleep(sc->run_ms);
	rc_run = stop(&run_pid);
	rc_sim = stop(&sim_pid);
	assert_int_equal(rc_run, 0);
	assert_int_equal(rc_sim, 0);

	/* The secret never reaches any output. */
	it_assert_no_secret(run_out);
	it_assert_no_secret(sim_out);

	st = g_state = json_load_file(state, 0, &jerr);
	sum = g_summary = json_load_file(summary, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);
	strats = json_object_get(sum, "strategies");
	assert_true(json_array_size(strats) >= 1);
	trades = json_object_get(st, "trades");
	orders = json_object_get(st, "orders");

	/* Every client order id at most once at the sim. */
	for (i = 0; i < json_array_size(orders); i++) {
		const char *a = json_string_value(json_object_get(json_array_get(orders, i), "client_order_id"));
		for (size_t j = i + 1; a != NULL && j < json_array_size(orders); j++) {
			const char *b = json_string_value(
				json_object_get(json_array_get(orders, j), "client_order_id"));
			if (b != NULL && strcmp(a, b) == 0)
				fail_msg("%s: client_order_id %s twice at the sim", sc->name, a);
		}
	}
	for (i = 0; i < json_array_size(orders); i++) {
		json_t *o = json_array_get(orders, i);
		if (json_is_true(json_object_get(o, "cancelled")))
			cancelled++;
		if (strcmp(json_string_value(json_object_get(o, "type")), "LIMIT") == 0)
			limits++;
	}

	/* The daemon's books, summed over its strategies (one account), equal
	 * the exchange's, exactly. */
	printf("%s: sim orders=%zu (limit %d, cancelled %d)\n", sc->name, json_array_size(orders),
	       limits, cancelled);
	it_check_books(sc->name, st, strats);
	{
		/* Partial fills: orders with more than one trade at the sim. */
		int partial = 0;
		for (i = 0; i < json_array_size(orders); i++) {
			const char *oid = json_string_value(json_object_get(json_array_get(orders, i), "order_id"));
			int n_tr = 0;
			for (size_t j = 0; oid != NULL && j < json_array_size(trades); j++) {
				const char *t = json_string_value(
					json_object_get(json_array_get(trades, j), "order_id"));
				n_tr += t != NULL && strcmp(t, oid) == 0;
			}
			partial += n_tr > 1;
		}
		printf("%s: orders filled in several trades: %d\n", sc->name, partial);
		if (sc->lifecycle) {
			assert_true(limits > 0);
			assert_true(cancelled > 0);
		}
	}
	{
		json_t *stats = json_object_get(st, "stats");
		char *t = it_slurp(run_out);
		const char *p;
		printf("%s: sim requests=%lld faults_injected=%lld (after processing %lld) rate_limited=%lld "
		       "duplicates_refused=%lld\n",
		       sc->name, (long long)json_integer_value(json_object_get(stats, "requests")),
		       (long long)json_integer_value(json_object_get(stats, "faults_injected")),
		       (long long)json_integer_value(json_object_get(stats, "faults_after")),
		       (long long)json_integer_value(json_object_get(stats, "rate_limited")),
		       (long long)json_integer_value(json_object_get(stats, "duplicates_refused")));
		if (sc->min_faults > 0)
			assert_true(json_integer_value(json_object_get(stats, "faults_injected")) >=
				    sc->min_faults);
		if (sc->min_rate_limited > 0) {
			json_int_t rl = json_integer_value(json_object_get(stats, "rate_limited"));
			assert_true(rl >= sc->min_rate_limited);
			/* Learning from the 429s: a handful, not one per poll. */
			assert_true(rl <= 5);
		}
		/* The venue's own counters, for the record. */
		for (p = t; p != NULL && (p = strstr(p, "luno: ")) != NULL; p++) {
			const char *e = strchr(p, '\n');
			printf("  %.*s\n", (int)(e != NULL ? e - p : (long)strlen(p)), p);
		}
		free(t);
	}
}

static void test_clean(void **state)
{
	/* The maker requotes on a 2 bps move, so cancels happen in seconds. */
	const struct scenario sc = { "clean", { NULL },
				     { "--set", "strategies.1.params.requote_bps=2", NULL }, 8000, 0, 0, true };
	(void)state;
	run_scenario(&sc);
}

static void test_faults(void **state)
{
	const struct scenario sc = {
		"faults",
		{ "--fail-rate", "0.2", "--timeout-after-accept", "0.1", "--accept-delay-ms", "2500", NULL },
		{ "--set", "venue.timeout_ms=1000", NULL },
		12000,
		1,
		0,
		false,
	};
	(void)state;
	run_scenario(&sc);
}

static void test_rate_limited(void **state)
{
	/* 40 calls a minute at the sim, while the daemon's budget says 300
	 * and its ticker polling alone wants 120: it must learn from the
	 * first 429, stay under the limit after it, and lose nothing. The sim
	 * counts a sliding 60 s window, so once it is spent, the stop's
	 * cancels and the last fills can only go a minute later: the drain is
	 * allowed that long (timeout_ms bounds it). */
	const struct scenario sc = { "ratelimit", { "--rate-limit", "40", NULL },
				     { "--set", "venue.timeout_ms=45000", "--set", "feed.heartbeat_ms=500", NULL },
				     14000, 0, 1, false };
	(void)state;
	run_scenario(&sc);
}

static int teardown(void **state)
{
	(void)state;
	stop(&run_pid);
	stop(&sim_pid);
	json_decref(g_state);
	json_decref(g_summary);
	g_state = g_summary = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_clean, teardown),
		cmocka_unit_test_teardown(test_faults, teardown),
		cmocka_unit_test_teardown(test_rate_limited, teardown),
	};
	(void)argc;
	it_key = CANARY_KEY;
	it_secret = CANARY_SECRET;
	return it_main(argv[0], "test_luno_sim", tests, sizeof(tests) / sizeof(tests[0]));
}
