/*
 * test_crash.c - kill -9 the daemon at random moments while it trades on
 * exchange-sim, restart it each time, and check that nothing was lost and
 * nothing was done twice (design.md §8).
 *
 * One exchange-sim keeps its state for the whole test (the venue outlives
 * the daemon, as a real one does). The daemon runs config/luno.yaml with
 * the journal on and fast strategies: sma_cross sends market orders on
 * crossovers, maker rests limit orders and requotes on a 2 bps move, so
 * at any moment there are orders in flight, resting, partly filled and
 * being cancelled. Each round starts the daemon, waits a random time
 * (seeded: IG_CRASH_SEED), and kills it with SIGKILL; the next round's
 * daemon recovers from the journal and reconciles with the venue. After
 * IG_CRASH_KILLS rounds (default 20; `make soak` sets more), a last daemon
 * runs, trades, and stops gracefully. Then:
 *
 *   - every client_order_id appears at most once at the sim, and the sim
 *     refused no duplicate (nothing was ever sent twice);
 *   - the daemon's positions, cash and fees, summed over its strategies,
 *     equal the sim's balance changes and fees exactly;
 *   - the fills in the journal (distinct trade ids) are the sim's trades,
 *     one for one, with the same volumes; the replayed books count as many;
 *   - `ingenium journal verify` passes, and `journal state` replays to the
 *     state hash the last daemon reported at shutdown.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>








static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	return v != NULL && *v != '\0' ? atoi(v) : dflt;
}



static void test_kill9_loop(void **state)
{
	char sim_out[300], run_out[300], sim_state[300], summary[300], journal[300], url[80],
		jset[340], dump[300], vout[300], sout[300];
	const char *argv[48];
	int kills = env_int("IG_CRASH_KILLS", 20);
	unsigned seed = (unsigned)env_int("IG_CRASH_SEED", 20261202);
	int n, port, rc;
	json_error_t jerr;
	json_t *st, *sum, *trades, *orders, *strats, *jstate;
	size_t i;

	(void)state;
	srand(seed);
	snprintf(sim_out, sizeof(sim_out), "%s/sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/run.out", it_tmpdir);
	snprintf(sim_state, sizeof(sim_state), "%s/sim-state.json", it_tmpdir);
	snprintf(summary, sizeof(summary), "%s/summary.json", it_tmpdir);
	snprintf(journal, sizeof(journal), "%s/crash.journal", it_tmpdir);
	snprintf(jset, sizeof(jset), "journal.path=%s", journal);

	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "exchange-sim";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--seed";
	argv[n++] = "11";
	argv[n++] = "--state";
	argv[n++] = sim_state;
	argv[n] = NULL;
	it_sim_pid = it_spawn(argv, sim_out, false);
	port = it_sim_port(sim_out);
	assert_true(port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", port);

	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = "config/luno.yaml";
	argv[n++] = "--set";
	argv[n++] = url;
	argv[n++] = "--set";
	argv[n++] = jset;
	argv[n++] = "--set";
	argv[n++] = "journal.reconcile_timeout_ms=4000";
	argv[n++] = "--set";
	argv[n++] = "feed.heartbeat_ms=200";
	argv[n++] = "--set";
	argv[n++] = "venue.status_ms=200";
	argv[n++] = "--set";
	argv[n++] = "venue.timeout_ms=2000";
	argv[n++] = "--set";
	argv[n++] = "venue.in_doubt_window_ms=600";
	argv[n++] = "--set";
	argv[n++] = "strategies.0.params.fast=2";
	argv[n++] = "--set";
	argv[n++] = "strategies.0.params.slow=4";
	argv[n++] = "--set";
	argv[n++] = "strategies.1.params.requote_bps=2";
	argv[n++] = "--summary-json";
	argv[n++] = summary;
	argv[n] = NULL;

	for (int k = 0; k < kills; k++) {
		/* 0.15 .. 2.15 s: some kills land in start-up and recovery,
		 * most in trading. */
		int ms = 150 + rand() % 2000;
		it_run_pid = it_spawn(argv, run_out, true);
		it_msleep(ms);
		rc = it_reap(&it_run_pid, SIGKILL, 5000);
		assert_int_equal(rc, 128 + SIGKILL);
	}
	/* The last run reconciles (after many quick restarts the venue's
	 * 300-a-minute limit may make it wait out 429s first), trades, and
	 * stops gracefully. */
	{
		int before = it_count(run_out, "reconciled with the venue:");
		it_run_pid = it_spawn(argv, run_out, true);
		for (int w = 0; w < 900 && it_count(run_out, "reconciled with the venue:") == before; w++)
			it_msleep(100);
		it_msleep(3000);
	}
	rc = it_reap(&it_run_pid, SIGTERM, 60000);
	assert_int_equal(rc, 0);
	rc = it_reap(&it_sim_pid, SIGTERM, 10000);
	assert_int_equal(rc, 0);

	st = it_json[0] = json_load_file(sim_state, 0, &jerr);
	sum = it_json[1] = json_load_file(summary, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);
	trades = json_object_get(st, "trades");
	orders = json_object_get(st, "orders");
	strats = json_object_get(sum, "strategies");

	/* Nothing sent twice. */
	for (i = 0; i < json_array_size(orders); i++) {
		const char *a = json_string_value(json_object_get(json_array_get(orders, i), "client_order_id"));
		for (size_t j = i + 1; a != NULL && *a != '\0' && j < json_array_size(orders); j++) {
			const char *b = json_string_value(
				json_object_get(json_array_get(orders, j), "client_order_id"));
			if (b != NULL && strcmp(a, b) == 0)
				fail_msg("client_order_id %s twice at the sim", a);
		}
	}
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "stats"),
							    "duplicates_refused")),
			 0);

	/* The books equal the venue's, exactly. */
	printf("crash: %d kills; sim orders=%zu\n", kills, json_array_size(orders));
	it_check_books("crash", st, strats);

	/* The journal holds every fill once, and verifies. */
	snprintf(vout, sizeof(vout), "%s/verify.out", it_tmpdir);
	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "journal";
	argv[n++] = "verify";
	argv[n++] = journal;
	argv[n] = NULL;
	assert_int_equal(it_run(argv, vout), 0);
	snprintf(dump, sizeof(dump), "%s/dump.json", it_tmpdir);
	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "journal";
	argv[n++] = "dump";
	argv[n++] = journal;
	argv[n++] = "--json";
	argv[n] = NULL;
	assert_int_equal(it_run(argv, dump), 0);
	{
		FILE *f = fopen(dump, "r");
		char line[4096];
		static uint64_t seen[65536];
		size_t nseen = 0;
		int64_t jvol = 0, svol = 0;
		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			json_t *r = json_loads(line, 0, NULL), *ev;
			const char *type;
			if (r == NULL)
				continue;
			type = json_string_value(json_object_get(r, "type"));
			ev = json_object_get(r, "event");
			if (type != NULL && strcmp(type, "fill") == 0 && ev != NULL &&
			    json_integer_value(json_object_get(r, "flags")) == 0) {
				uint64_t tid = (uint64_t)json_integer_value(json_object_get(ev, "trade_id"));
				bool dup = false;
				for (size_t q = 0; q < nseen && !dup; q++)
					dup = seen[q] == tid;
				if (!dup && nseen < 65536) {
					seen[nseen++] = tid;
					jvol += it_money(ev, "qty");
				}
			}
			json_decref(r);
		}
		fclose(f);
		for (i = 0; i < json_array_size(trades); i++)
			svol += it_money(json_array_get(trades, i), "volume");
		printf("crash: journal fills (distinct trade ids) %zu, volume %lld; sim trades %zu, volume %lld\n",
		       nseen, (long long)jvol, json_array_size(trades), (long long)svol);
		assert_int_equal(nseen, json_array_size(trades));
		assert_int_equal(jvol, svol);
	}

	/* Replaying the journal gives the books the last daemon ended with. */
	snprintf(sout, sizeof(sout), "%s/state.json", it_tmpdir);
	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "journal";
	argv[n++] = "state";
	argv[n++] = "-c";
	argv[n++] = "config/luno.yaml";
	argv[n++] = "--journal";
	argv[n++] = journal;
	argv[n] = NULL;
	assert_int_equal(it_run(argv, sout), 0);
	jstate = it_json[2] = json_load_file(sout, 0, &jerr);
	assert_non_null(jstate);
	assert_string_equal(json_string_value(json_object_get(jstate, "state_hash")),
			    json_string_value(json_object_get(sum, "state_hash")));
	{
		json_t *rec = json_object_get(sum, "recovery");
		printf("crash: last start replayed %lld records in %.1f ms; reconciled=%d; "
		       "runs reconciled: %d; orders found by lookup: %d lines; adopted %lld\n",
		       (long long)json_integer_value(json_object_get(rec, "replayed_records")),
		       json_real_value(json_object_get(rec, "replay_ms")),
		       json_is_true(json_object_get(rec, "reconciled")),
		       it_count(run_out, "reconciled with the venue"),
		       it_count(run_out, "recovery:"),
		       (long long)json_integer_value(json_object_get(rec, "adopted")));
		assert_true(json_is_true(json_object_get(rec, "reconciled")));
		/* No run ever saw its books differ from the venue's. */
		assert_int_equal(it_count(run_out, "venue balances differ"), 0);
		assert_false(json_is_true(json_object_get(rec, "balance_mismatch")));
	}
}


int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kill9_loop, it_teardown),
	};
	(void)argc;
	it_key = "crash-key";
	it_secret = "crash-secret";
	return it_main(argv[0], "test_crash", tests, sizeof(tests) / sizeof(tests[0]));
}
