/*
 * test_luno_user.c - the daemon with venue.user_stream: true against
 * exchange-sim over real HTTP and websockets on loopback (issue 15).
 * The user stream only triggers the venue's REST reads, so:
 *   - trading with the stream on, the daemon's books equal the sim's
 *     exactly, every fill once (it_check_books: fills == the sim's trades),
 *     no client_order_id twice, the secret in no output;
 *   - idle (no synthetic flow: resting orders, nothing happens), the REST
 *     polls of listtrades and order status (counted in the sim's
 *     --request-log) are far fewer with the stream on than off;
 *   - with --ws-drop-every-s the stream reconnects and catches up over REST
 *     each time (the venue's closing counters), and the books still equal
 *     the sim's.
 * No wall-clock duration is asserted; the per-minute figures are printed.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CANARY_SECRET "canary-Us3r-stream-secret"
#define CANARY_KEY "canary-user-key-15"

static pid_t sim_pid = -1, run_pid = -1;
static json_t *g_state, *g_summary;

struct outcome {
	long polls;         /* listtrades + order status requests at the sim */
	long upgrades;      /* /api/1/userstream upgrades (101) */
	long idle_polls;    /* of which while orders rested: from the first postorder
			     * to the first stoporder (the stop's cancels) */
	double run_s;       /* the daemon's run, for the printed rate only */
	unsigned long long connects, drops, catchups, saved;
};


/* listtrades + status requests in the request log from the first postorder
 * to the first stoporder. */
static long polls_resting(const char *path)
{
	char *t = it_slurp(path), *p, *end;
	long n = 0;
	assert_non_null(t);
	p = strstr(t, "\"path\":\"/api/1/postorder");
	end = p != NULL ? strstr(p, "\"path\":\"/api/1/stoporder") : NULL;
	while (p != NULL && (end == NULL || p < end)) {
		char *nl = strchr(p, '\n');
		static const char lt[] = "\"path\":\"/api/1/listtrades", st[] = "\"path\":\"/api/exchange/3/order";
		if (strncmp(p, lt, sizeof(lt) - 1) == 0 || strncmp(p, st, sizeof(st) - 1) == 0)
			n++;
		p = nl != NULL ? strstr(nl, "\"path\":") : NULL;
	}
	free(t);
	return n;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run(const char *name, const char *const *sim_args, bool stream, int run_ms, bool books,
		struct outcome *oc)
{
	char sim_out[300], run_out[300], state[300], summary[300], url[64], jpath[340], rlog[300];
	const char *sim_argv[24], *run_argv[40];
	int n = 0, port;
	double t0;
	char *t, *p;

	memset(oc, 0, sizeof(*oc));
	snprintf(sim_out, sizeof(sim_out), "%s/%s.sim.out", it_tmpdir, name);
	snprintf(run_out, sizeof(run_out), "%s/%s.run.out", it_tmpdir, name);
	snprintf(state, sizeof(state), "%s/%s.state.json", it_tmpdir, name);
	snprintf(summary, sizeof(summary), "%s/%s.summary.json", it_tmpdir, name);
	snprintf(rlog, sizeof(rlog), "%s/%s.requests", it_tmpdir, name);
	snprintf(jpath, sizeof(jpath), "journal.path=%s/%s.journal", it_tmpdir, name);

	sim_argv[n++] = it_bin;
	sim_argv[n++] = "exchange-sim";
	sim_argv[n++] = "--listen";
	sim_argv[n++] = "127.0.0.1:0";
	sim_argv[n++] = "--seed";
	sim_argv[n++] = "7";
	sim_argv[n++] = "--state";
	sim_argv[n++] = state;
	sim_argv[n++] = "--request-log";
	sim_argv[n++] = rlog;
	for (int k = 0; sim_args[k] != NULL; k++)
		sim_argv[n++] = sim_args[k];
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
	run_argv[n++] = "venue.status_ms=250";
	run_argv[n++] = "--set";
	run_argv[n++] = "strategies.0.params.fast=2";
	run_argv[n++] = "--set";
	run_argv[n++] = "strategies.0.params.slow=4";
	run_argv[n++] = "--set";
	run_argv[n++] = "strategies.1.params.requote_bps=2";
	run_argv[n++] = "--set";
	run_argv[n++] = jpath;
	run_argv[n++] = "--set";
	run_argv[n++] = stream ? "venue.user_stream=true" : "venue.user_stream=false";
	run_argv[n++] = "--summary-json";
	run_argv[n++] = summary;
	run_argv[n] = NULL;
	t0 = mono_s();
	run_pid = it_spawn(run_argv, run_out, false);
	it_msleep(run_ms);
	assert_int_equal(it_reap(&run_pid, SIGTERM, 150000), 0);
	oc->run_s = mono_s() - t0;
	assert_int_equal(it_reap(&sim_pid, SIGTERM, 20000), 0);
	it_assert_no_secret(run_out);
	it_assert_no_secret(sim_out);

	oc->polls = it_count(rlog, "\"path\":\"/api/1/listtrades") +
		    it_count(rlog, "\"path\":\"/api/exchange/3/order");
	oc->upgrades = it_count(rlog, "\"path\":\"/api/1/userstream\",\"status\":101");
	oc->idle_polls = polls_resting(rlog);

	t = it_slurp(run_out);
	assert_non_null(t);
	p = strstr(t, "luno: user stream: connects=");
	if (stream) {
		assert_non_null(p);
		assert_true(sscanf(p,
				   "luno: user stream: connects=%llu attempts=%*u drops=%llu messages=%*u "
				   "(fills=%*u statuses=%*u keepalives=%*u malformed=%*u) auth_refused=%*u "
				   "catchups=%llu fallbacks=%*u rest_saved=%llu",
				   &oc->connects, &oc->drops, &oc->catchups, &oc->saved) == 4);
	} else {
		assert_null(p);
	}
	free(t);
	printf("%s: stream %s: listtrades+status=%ld (%.0f a minute over %.1f s; %ld while orders "
	       "rested), upgrades=%ld connects=%llu drops=%llu catchups=%llu saved=%llu\n",
	       name, stream ? "on" : "off", oc->polls, (double)oc->polls * 60.0 / oc->run_s, oc->run_s,
	       oc->idle_polls,
	       oc->upgrades, oc->connects, oc->drops, oc->catchups, oc->saved);

	if (books) {
		json_error_t jerr;
		json_t *orders;
		g_state = json_load_file(state, 0, &jerr);
		g_summary = json_load_file(summary, 0, &jerr);
		assert_non_null(g_state);
		assert_non_null(g_summary);
		orders = json_object_get(g_state, "orders");
		for (size_t i = 0; i < json_array_size(orders); i++) {
			const char *a = json_string_value(
				json_object_get(json_array_get(orders, i), "client_order_id"));
			for (size_t j = i + 1; a != NULL && j < json_array_size(orders); j++) {
				const char *b = json_string_value(
					json_object_get(json_array_get(orders, j), "client_order_id"));
				if (b != NULL && strcmp(a, b) == 0)
					fail_msg("%s: client_order_id %s twice at the sim", name, a);
			}
		}
		printf("%s: sim orders=%zu trades=%zu\n", name, json_array_size(orders),
		       json_array_size(json_object_get(g_state, "trades")));
		/* Fills == the sim's trades, books exact: none missed, none twice. */
		it_check_books(name, g_state, json_object_get(g_summary, "strategies"));
		assert_true(json_array_size(json_object_get(g_state, "trades")) > 0);
		json_decref(g_state);
		json_decref(g_summary);
		g_state = g_summary = NULL;
	}
}

static void test_trading(void **state)
{
	static const char *const sim[] = { NULL };
	struct outcome oc;
	(void)state;
	run("trading", sim, true, 6000, true, &oc);
	assert_true(oc.connects >= 1);
	assert_true(oc.catchups >= 1);
	assert_true(oc.upgrades >= 1);
}

static void test_idle_polls(void **state)
{
	/* No synthetic flow: the maker's orders rest and nothing happens. */
	static const char *const sim[] = { "--flow-ms", "0", NULL };
	struct outcome on, off;
	(void)state;
	run("idle_off", sim, false, 10000, false, &off);
	run("idle_on", sim, true, 10000, false, &on);
	assert_int_equal(off.upgrades, 0);
	assert_true(on.connects >= 1);
	assert_true(on.saved > 0);
	/* Polling every 250 ms reads listtrades (and statuses) several times a
	 * second while an order rests; with the stream live only the catch-up
	 * and the rare audit round remain. */
	assert_true(off.idle_polls >= 16);
	assert_true(on.idle_polls * 4 < off.idle_polls);
	assert_true(on.polls < off.polls);
}

static void test_drops(void **state)
{
	static const char *const sim[] = { "--ws-drop-every-s", "2", NULL };
	struct outcome oc;
	(void)state;
	run("drops", sim, true, 7000, true, &oc);
	/* Dropped every 2 s: reconnected and caught up each time. */
	assert_true(oc.drops >= 2);
	assert_true(oc.connects >= 3);
	assert_true(oc.catchups >= 3);
	assert_true(oc.upgrades >= 3);
}

static int teardown(void **state)
{
	(void)state;
	it_reap(&run_pid, SIGKILL, 5000);
	it_reap(&sim_pid, SIGTERM, 20000);
	json_decref(g_state);
	json_decref(g_summary);
	g_state = g_summary = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_trading, teardown),
		cmocka_unit_test_teardown(test_idle_polls, teardown),
		cmocka_unit_test_teardown(test_drops, teardown),
	};
	(void)argc;
	it_key = CANARY_KEY;
	it_secret = CANARY_SECRET;
	return it_main(argv[0], "test_luno_user", tests, sizeof(tests) / sizeof(tests[0]));
}
