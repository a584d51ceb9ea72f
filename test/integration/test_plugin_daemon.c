/*
 * test_plugin_daemon.c - the real daemon (`ingenium run`) with a plugin
 * strategy (build/test/plugins/plug_trader.so) against the real
 * exchange-sim on 127.0.0.1: the plugin is loaded from the config, its
 * market orders reach the sim, and the daemon's books equal the sim's.
 * Both processes are stopped with SIGTERM, always.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t sim_pid = -1, run_pid = -1;
static json_t *g_state, *g_summary;

static void test_plugin_trades_at_sim(void **state)
{
	char sim_out[300], run_out[300], st_path[300], sum_path[300], yaml[300], cwd[256], text[2048];
	const char *sim_argv[12], *run_argv[12];
	json_error_t jerr;
	json_t *strats, *orders;
	FILE *f;
	int port;
	(void)state;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(sim_out, sizeof(sim_out), "%s/sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/run.out", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/state.json", it_tmpdir);
	snprintf(sum_path, sizeof(sum_path), "%s/summary.json", it_tmpdir);
	snprintf(yaml, sizeof(yaml), "%s/plugin.yaml", it_tmpdir);

	sim_argv[0] = it_bin;
	sim_argv[1] = "exchange-sim";
	sim_argv[2] = "--listen";
	sim_argv[3] = "127.0.0.1:0";
	sim_argv[4] = "--seed";
	sim_argv[5] = "11";
	sim_argv[6] = "--state";
	sim_argv[7] = st_path;
	sim_argv[8] = NULL;
	sim_pid = it_spawn(sim_argv, sim_out, false);
	port = it_sim_port(sim_out);
	assert_true(port > 0);

	snprintf(text, sizeof(text),
		 "engine: {threading: dedicated, strategy_threads: 1}\n"
		 "feed: {source: luno, heartbeat_ms: 250, symbol: XBTZAR}\n"
		 "venue: {kind: luno, base_url: \"http://127.0.0.1:%d\"}\n"
		 "journal: {enabled: true, path: \"%s/plugin.journal\"}\n"
		 "risk: {max_order_qty: \"0.01\", max_orders_per_sec: 2, stale_data_ms: 10000}\n"
		 "strategies:\n"
		 "  - name: plug\n"
		 "    type: trader\n"
		 "    plugin: \"%s/%s/plug_trader.so\"\n"
		 "    capital: \"1000000\"\n"
		 "    params: {qty: \"0.001\", every: 2, timer_ms: 500}\n",
		 port, it_tmpdir, cwd, IG_TEST_PLUGIN_DIR);
	f = fopen(yaml, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);

	run_argv[0] = it_bin;
	run_argv[1] = "run";
	run_argv[2] = "-c";
	run_argv[3] = yaml;
	run_argv[4] = "--summary-json";
	run_argv[5] = sum_path;
	run_argv[6] = NULL;
	run_pid = it_spawn(run_argv, run_out, false);
	it_msleep(5000);
	assert_int_equal(it_reap(&run_pid, SIGTERM, 60000), 0);
	assert_int_equal(it_reap(&sim_pid, SIGTERM, 60000), 0);

	g_summary = json_load_file(sum_path, 0, &jerr);
	g_state = json_load_file(st_path, 0, &jerr);
	assert_non_null(g_summary);
	assert_non_null(g_state);
	strats = json_object_get(g_summary, "strategies");
	assert_int_equal(json_array_size(strats), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 0), "type")), "trader");
	assert_true(json_integer_value(json_object_get(json_array_get(strats, 0), "orders")) > 0);
	/* The init's ig_ctx_market is the one misuse. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(strats, 0), "ctx_misuse")), 1);
	orders = json_object_get(g_state, "orders");
	printf("plugin: daemon orders=%lld, sim orders=%zu\n",
	       (long long)json_integer_value(json_object_get(json_array_get(strats, 0), "orders")),
	       json_array_size(orders));
	assert_true(json_array_size(orders) > 0); /* the plugin's orders reached the exchange */
	it_check_books("plugin", g_state, strats);
}

static int teardown(void **state)
{
	(void)state;
	it_reap(&run_pid, SIGTERM, 60000);
	it_reap(&sim_pid, SIGTERM, 60000);
	json_decref(g_state);
	json_decref(g_summary);
	g_state = g_summary = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_plugin_trades_at_sim, teardown),
	};
	(void)argc;
	return it_main(argv[0], "test_plugin_daemon", tests, sizeof(tests) / sizeof(tests[0]));
}
