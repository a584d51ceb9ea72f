/*
 * test_luno_cancel.c - cancels the venue cannot get through: the real
 * daemon (config/luno.yaml, its maker strategy resting limit orders)
 * against exchange-sim answering every stoporder with 500/503
 * (--fail-path). The maker quotes 2% behind the touch, so the sim's flow
 * does not fill its orders in the few seconds of the run. The cancels keep being retried, the graceful stop sends
 * them again and waits its bounded drain, and then the summary
 * (cancels_outstanding) and the log (a warn line per order, by client id)
 * say which orders are still live at the exchange: exactly the sim's
 * PENDING orders of ours.
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "cancel-key"
#define SECRET "cancel-secret"

static void test_cancels_outstanding_at_stop(void **state)
{
	char sim_out[300], run_out[300], st_path[300], sum_path[300], url[64], jpath[340];
	const char *sim_argv[] = { it_bin,  "exchange-sim", "--listen",  "127.0.0.1:0",
				   "--seed", "11",          "--state",   st_path,
				   "--fail-path", "/api/1/stoporder", NULL };
	const char *run_argv[] = { it_bin, "run", "-c", "config/luno.yaml", "--set", url, "--set",
				   "feed.heartbeat_ms=250", "--set", "venue.timeout_ms=1000", "--set",
				   jpath, "--set", "strategies.1.params.requote_bps=2", "--set",
				   "strategies.1.params.offset_bps=200", "--summary-json", sum_path,
				   NULL };
	json_error_t jerr;
	json_t *st, *sum, *orders, *o;
	size_t i;
	int port, pending = 0, lines;
	long long outstanding;
	char *log;

	(void)state;
	snprintf(sim_out, sizeof(sim_out), "%s/cancel.sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/cancel.run.out", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/cancel.state.json", it_tmpdir);
	snprintf(sum_path, sizeof(sum_path), "%s/cancel.summary.json", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "journal.path=%s/cancel.journal", it_tmpdir);
	it_sim_pid = it_spawn(sim_argv, sim_out, false);
	port = it_sim_port(sim_out);
	assert_true(port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", port);
	it_run_pid = it_spawn(run_argv, run_out, false);
	it_msleep(6000);
	/* The drain waits at most 2 * timeout_ms + 5 s for the cancels. */
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 60000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 10000), 0);

	st = it_json[0] = json_load_file(st_path, 0, &jerr);
	sum = it_json[1] = json_load_file(sum_path, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);
	orders = json_object_get(st, "orders");
	json_array_foreach(orders, i, o) {
		const char *s = json_string_value(json_object_get(o, "state"));
		const char *c = json_string_value(json_object_get(o, "client_order_id"));
		if (s != NULL && strcmp(s, "PENDING") == 0 && c != NULL && strncmp(c, "ig-", 3) == 0)
			pending++;
	}
	/* The maker had orders resting; none could be cancelled. */
	assert_true(pending > 0);
	assert_non_null(json_object_get(sum, "cancels_outstanding"));
	outstanding = (long long)json_integer_value(json_object_get(sum, "cancels_outstanding"));
	printf("cancel: %d orders of ours still open at the sim, %lld cancels outstanding\n", pending,
	       outstanding);
	assert_int_equal(outstanding, pending);
	lines = it_count(run_out, "is still outstanding");
	assert_int_equal(lines, pending);
	/* Each one names its order. */
	log = it_slurp(run_out);
	assert_non_null(log);
	json_array_foreach(orders, i, o) {
		const char *s = json_string_value(json_object_get(o, "state"));
		const char *c = json_string_value(json_object_get(o, "client_order_id"));
		char needle[64];
		if (s == NULL || strcmp(s, "PENDING") != 0 || c == NULL || strncmp(c, "ig-", 3) != 0)
			continue;
		snprintf(needle, sizeof(needle), "cancel of order %s ", c + 3);
		if (strstr(log, needle) == NULL) {
			free(log);
			fail_msg("no stop line for the open order %s", c);
		}
	}
	free(log);
	/* And the cancels were retried, not given up. */
	assert_true(it_count(run_out, "giving up the cancel") == 0);
	assert_true(it_count(run_out, "sending it again") > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cancels_outstanding_at_stop, it_teardown),
	};
	(void)argc;
	it_key = KEY;
	it_secret = SECRET;
	return it_main(argv[0], "test_luno_cancel", tests, sizeof(tests) / sizeof(tests[0]));
}
