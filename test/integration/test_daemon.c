/*
 * test_daemon.c - runs the real ingenium binary as a user would: the exit
 * codes of check-config, a paper run with --summary-json, a graceful stop on
 * SIGTERM, and a strict feed refusing a malformed row. The binary is the one
 * of this build variant: BUILD/ingenium, found from argv[0]
 * (BUILD/test/integration/test_daemon). Every child is waited for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char bin[512];
static char tmpdir[256];

/* Runs argv with stdout+stderr to outfile; returns the exit status, or
 * 128+signal. If term_after_ms > 0, sends SIGTERM after that long. */
static int run(const char *const *argv, const char *outfile, int term_after_ms)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = freopen(outfile, "w", stdout);
		if (f == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	if (term_after_ms > 0) {
		struct timespec ts = { term_after_ms / 1000, (long)(term_after_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		kill(pid, SIGTERM);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

static char *slurp(const char *path)
{
	static char buf[1 << 16];
	FILE *f = fopen(path, "r");
	size_t n;
	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_check_config_exit_codes(void **state)
{
	char out[300], bad[300];
	(void)state;
	snprintf(out, sizeof(out), "%s/check.out", tmpdir);
	{
		const char *argv[] = { bin, "check-config", "-c", "config/ingenium.yaml", NULL };
		assert_int_equal(run(argv, out, 0), 0);
		assert_non_null(strstr(slurp(out), "ok"));
	}
	snprintf(bad, sizeof(bad), "%s/bad.yaml", tmpdir);
	write_file(bad, "engine:\n  threading: dedicated\nfeed:\n  source: csv\n  path: x.csv\nrisk:\n  max_order_qty: abc\n");
	{
		const char *argv[] = { bin, "check-config", "-c", bad, NULL };
		char want[400];
		assert_int_equal(run(argv, out, 0), 1);
		snprintf(want, sizeof(want), "%s:7:18: risk.max_order_qty:", bad);
		assert_non_null(strstr(slurp(out), want));
	}
	{
		const char *argv[] = { bin, "check-config", "-c", "/nonexistent/ingenium.yaml", NULL };
		assert_int_equal(run(argv, out, 0), 2);
		assert_non_null(strstr(slurp(out), "/nonexistent/ingenium.yaml"));
	}
	{
		const char *argv[] = { bin, "check-config", "-c", "config/ingenium.yaml", "--set",
				       "strategies.0.params.fast=abc", NULL };
		assert_int_equal(run(argv, out, 0), 1);
		assert_non_null(strstr(slurp(out), "--set strategies.0.params.fast"));
	}
	{
		const char *argv[] = { bin, "frobnicate", NULL };
		assert_int_equal(run(argv, out, 0), 2);
	}
}

static void test_paper_run_summary(void **state)
{
	char out[300], js[300];
	json_error_t jerr;
	json_t *root, *strats, *s;
	size_t i;
	bool saw_denial = false;
	(void)state;
	snprintf(out, sizeof(out), "%s/run.out", tmpdir);
	snprintf(js, sizeof(js), "%s/summary.json", tmpdir);
	{
		const char *argv[] = { bin, "run", "-c", "config/ingenium.yaml", "--set", "feed.rate=0",
				       "--summary-json", js, NULL };
		assert_int_equal(run(argv, out, 0), 0);
	}
	assert_non_null(strstr(slurp(out), "Ingenium run summary"));
	root = json_load_file(js, 0, &jerr);
	assert_non_null(root);
	assert_true(json_integer_value(json_object_get(root, "md_events")) == 7188);
	assert_non_null(json_object_get(root, "duration_s"));
	assert_non_null(json_object_get(root, "events"));
	assert_non_null(json_object_get(json_object_get(json_object_get(root, "latency"), "tick_to_order_ns"), "p99"));
	strats = json_object_get(root, "strategies");
	assert_int_equal(json_array_size(strats), 3);
	json_array_foreach(strats, i, s) {
		const char *keys[] = { "name", "orders", "fills", "rejects", "position", "avg_price",
				       "realized_pnl", "unrealized_pnl", "fees", "cash" };
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			assert_non_null(json_object_get(s, keys[k]));
		/* Money is decimal strings. */
		assert_true(json_is_string(json_object_get(s, "cash")));
		assert_true(json_is_string(json_object_get(s, "realized_pnl")));
		if (json_integer_value(json_object_get(json_object_get(s, "rejects"), "max_order_qty")) > 0)
			saw_denial = true;
		assert_int_equal(json_integer_value(json_object_get(s, "refused_fills")), 0);
	}
	assert_true(saw_denial);
	json_decref(root);
}

/* ingenium backtest logs no line per order, fill or denial unless -v asks
 * for them; the start line and the summary are there either way. */
static void test_backtest_order_lines_opt_in(void **state)
{
	char out[300];
	const char *text;
	(void)state;
	snprintf(out, sizeof(out), "%s/backtest.out", tmpdir);
	{
		const char *argv[] = { bin, "backtest", "-c", "config/ingenium.yaml", NULL };
		assert_int_equal(run(argv, out, 0), 0);
	}
	text = slurp(out);
	assert_non_null(strstr(text, "Ingenium run summary"));
	assert_non_null(strstr(text, "strategies, threading inline"));
	assert_null(strstr(text, "] order sma_"));
	assert_null(strstr(text, "] fill sma_"));
	assert_null(strstr(text, "] deny sma_"));
	{
		const char *argv[] = { bin, "backtest", "-v", "-c", "config/ingenium.yaml", NULL };
		assert_int_equal(run(argv, out, 0), 0);
	}
	text = slurp(out);
	assert_non_null(strstr(text, "] order sma_fast BTCUSD buy market"));
	assert_non_null(strstr(text, "] fill sma_fast BTCUSD buy"));
	assert_non_null(strstr(text, "] deny sma_big BTCUSD buy qty=3"));
}

static void test_sigterm_graceful(void **state)
{
	char out[300], js[300];
	json_error_t jerr;
	json_t *root;
	(void)state;
	snprintf(out, sizeof(out), "%s/term.out", tmpdir);
	snprintf(js, sizeof(js), "%s/term.json", tmpdir);
	{
		/* An endless synthetic feed: only the signal ends it. */
		const char *argv[] = { bin, "run", "-c", "config/ingenium.yaml", "--set", "feed.source=synthetic",
				       "--set", "feed.count=0", "--set", "feed.rate=500", "--summary-json",
				       js, NULL };
		assert_int_equal(run(argv, out, 1500), 0);
	}
	root = json_load_file(js, 0, &jerr);
	assert_non_null(root);
	assert_true(json_integer_value(json_object_get(root, "md_events")) > 0);
	json_decref(root);
	assert_non_null(strstr(slurp(out), "stopping the feed"));
}

static void test_strict_feed_refuses_bad_row(void **state)
{
	char csv[300], out[300], arg[400];
	(void)state;
	snprintf(csv, sizeof(csv), "%s/bad.csv", tmpdir);
	snprintf(out, sizeof(out), "%s/strict.out", tmpdir);
	write_file(csv, "ts,bid,ask,bid_qty,ask_qty\n1500000000,100,101,1,1\n1500000060,abc,101,1,1\n1500000120,100,101,1,1\n");
	snprintf(arg, sizeof(arg), "feed.path=%s", csv);
	{
		const char *argv[] = { bin, "run", "-c", "config/ingenium.yaml", "--set", arg, "--set",
				       "feed.strict=true", NULL };
		char want[400];
		assert_int_equal(run(argv, out, 0), 1);
		snprintf(want, sizeof(want), "%s:3:", csv);
		assert_non_null(strstr(slurp(out), want));
	}
	{
		/* Not strict: warned about with file:line, skipped, counted. */
		const char *argv[] = { bin, "run", "-c", "config/ingenium.yaml", "--set", arg, NULL };
		char want[400];
		assert_int_equal(run(argv, out, 0), 0);
		snprintf(want, sizeof(want), "%s:3:", csv);
		assert_non_null(strstr(slurp(out), want));
		assert_non_null(strstr(slurp(out), "1 malformed rows skipped"));
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_config_exit_codes),
		cmocka_unit_test(test_paper_run_summary),
		cmocka_unit_test(test_backtest_order_lines_opt_in),
		cmocka_unit_test(test_sigterm_graceful),
		cmocka_unit_test(test_strict_feed_refuses_bad_row),
	};
	const char *suffix = "/test/integration/test_daemon";
	size_t n;
	int rc;

	(void)argc;
	snprintf(bin, sizeof(bin), "%s", argv[0]);
	n = strlen(bin);
	if (n > strlen(suffix) && strcmp(bin + n - strlen(suffix), suffix) == 0)
		bin[n - strlen(suffix)] = '\0';
	strncat(bin, "/ingenium", sizeof(bin) - strlen(bin) - 1);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ig-daemon-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return rc;
}
