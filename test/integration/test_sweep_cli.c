/* test_sweep_cli.c - `ingenium sweep` as a user runs it: the real backtest
 * runner in forked workers, rows that agree with `ingenium backtest` for the
 * same values, the same file whatever the jobs, and Ctrl-C keeping the
 * finished rows. */
#include "itest.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CFG "config/ingenium.yaml"

static int lines_of(const char *path)
{
	char *s = it_slurp(path);
	int n = 0;
	if (s == NULL)
		return 0;
	for (char *c = s; *c; c++)
		n += *c == '\n';
	free(s);
	return n;
}

/* The value of column name in the CSV row that starts with prefix. */
static void csv_value(const char *csv, const char *prefix, const char *name, char *out,
		      size_t cap)
{
	const char *hdr_end = strchr(csv, '\n'), *row, *c;
	int col = -1, i = 0;
	size_t n;

	assert_non_null(hdr_end);
	for (c = csv; c < hdr_end; i++) {
		size_t len = strcspn(c, ",\n");
		if (len == strlen(name) && strncmp(c, name, len) == 0)
			col = i;
		c += len + 1;
	}
	assert_true(col >= 0);
	row = strstr(csv, prefix);
	assert_non_null(row);
	for (i = 0, c = row; i < col; i++)
		c = strchr(c, ',') + 1;
	n = strcspn(c, ",\n");
	assert_true(n < cap);
	memcpy(out, c, n);
	out[n] = '\0';
}

/* A decimal string as 1e-8 fixed point (through it_money's checks). */
static int64_t money_of(const char *v)
{
	json_t *o = json_object();
	int64_t x;
	json_object_set_new(o, "x", json_string(v));
	x = it_money(o, "x");
	json_decref(o);
	return x;
}

static void test_sweep_rows_match_backtest(void **state)
{
	char d1[300], d2[300], rep[300], out[300], path[320], v[64];
	char *a, *b;
	json_t *st, *s0 = NULL;
	(void)state;
	snprintf(d1, sizeof(d1), "%s/j1", it_tmpdir);
	snprintf(d2, sizeof(d2), "%s/j2", it_tmpdir);
	snprintf(rep, sizeof(rep), "%s/rep", it_tmpdir);
	snprintf(out, sizeof(out), "%s/sweep.out", it_tmpdir);
	{
		const char *argv[] = {it_bin, "sweep", "-c", CFG, "--grid", "strategies.0.params.fast=10,20",
				      "--grid", "strategies.0.params.slow=30,60", "--jobs", "1",
				      "--out", d1, "--sort", "return_pct", NULL};
		assert_int_equal(it_run(argv, out), 0);
	}
	assert_true(it_count(out, "sweep: 4 of 4 combinations (0 failed), 1 jobs") == 1);
	{
		const char *argv[] = {it_bin, "sweep", "-c", CFG, "--grid", "strategies.0.params.fast=10,20",
				      "--grid", "strategies.0.params.slow=30,60", "--jobs", "2",
				      "--out", d2, "--sort", "return_pct", NULL};
		assert_int_equal(it_run(argv, out), 0);
	}
	snprintf(path, sizeof(path), "%s/sweep.csv", d1);
	a = it_slurp(path);
	snprintf(path, sizeof(path), "%s/sweep.csv", d2);
	b = it_slurp(path);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b); /* the same rows, whatever the jobs */
	assert_int_equal(lines_of(path), 1 + 4 * 3);

	/* The row for fast=20 slow=60 is what `backtest` gives for them. */
	{
		const char *argv[] = {it_bin, "backtest", "-c", CFG, "--set", "strategies.0.params.fast=20",
				      "--set", "strategies.0.params.slow=60", "--report", rep, "-q", NULL};
		assert_int_equal(it_run(argv, out), 0);
	}
	snprintf(path, sizeof(path), "%s/stats.json", rep);
	st = json_load_file(path, 0, NULL);
	assert_non_null(st);
	it_json[0] = st;
	s0 = json_object_get(json_array_get(json_object_get(st, "strategies"), 0), "stats");
	assert_non_null(s0);
	csv_value(a, "20,60,sma_fast,", "trades", v, sizeof(v));
	assert_int_equal(strtoll(v, NULL, 10), json_integer_value(json_object_get(s0, "trades")));
	csv_value(a, "20,60,sma_fast,", "equity_final", v, sizeof(v));
	assert_int_equal(it_money(s0, "equity_final"), money_of(v));
	csv_value(a, "20,60,sma_fast,", "return_pct", v, sizeof(v));
	assert_true(strtod(v, NULL) - json_real_value(json_object_get(s0, "return_pct")) < 1e-6);
	assert_true(json_real_value(json_object_get(s0, "return_pct")) - strtod(v, NULL) < 1e-6);
	free(a);
	free(b);
}

static void test_sweep_ctrl_c_keeps_rows(void **state)
{
	char d[300], out[300], path[320];
	int lines = 0, status, total = (399 * 2) * 3;
	pid_t pid;
	char *csv;
	(void)state;
	snprintf(d, sizeof(d), "%s/int", it_tmpdir);
	snprintf(out, sizeof(out), "%s/int.out", it_tmpdir);
	snprintf(path, sizeof(path), "%s/sweep.csv", d);
	{
		const char *argv[] = {it_bin, "sweep", "-c", CFG, "--grid", "strategies.0.params.fast=2..400",
				      "--grid", "strategies.0.params.slow=120,240", "--jobs", "2",
				      "--out", d, "--sort", "return_pct", NULL};
		pid = it_spawn(argv, out, false);
	}
	assert_true(pid > 0);
	it_run_pid = pid;
	/* Some rows finished, not all. */
	for (int i = 0; i < 3000 && lines < 1 + 6; i++) {
		it_msleep(10);
		lines = lines_of(path);
	}
	assert_true(lines >= 1 + 6);
	kill(pid, SIGINT);
	status = it_reap(&it_run_pid, 0, 20000);
	(void)status;
	assert_int_equal(status, 130);
	assert_true(it_count(out, "(interrupted)") == 1);
	lines = lines_of(path);
	assert_true(lines >= 1 + 6);
	assert_true(lines < 1 + total);
	assert_int_equal((lines - 1) % 3, 0); /* whole combinations only */
	csv = it_slurp(path);
	assert_non_null(csv);
	assert_non_null(strstr(csv, "strategies.0.params.fast,strategies.0.params.slow,strategy,"));
	free(csv);
}

/* --oos-from after the data's end: every combination fails, saying why,
 * rather than ranking empty windows as zeros. */
static void test_sweep_oos_outside_data(void **state)
{
	char d[300], out[300];
	(void)state;
	snprintf(d, sizeof(d), "%s/oos", it_tmpdir);
	snprintf(out, sizeof(out), "%s/oos.out", it_tmpdir);
	{
		const char *argv[] = {it_bin, "sweep", "-c", CFG, "--grid", "strategies.0.params.fast=10,20",
				      "--oos-from", "2030-01-01", "--jobs", "2", "--out", d, NULL};
		assert_int_equal(it_run(argv, out), 1);
	}
	assert_true(it_count(out, "no market data in the window") >= 1);
	assert_true(it_count(out, "sweep: 2 of 2 combinations (2 failed)") == 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_sweep_rows_match_backtest, it_teardown),
		cmocka_unit_test_teardown(test_sweep_ctrl_c_keeps_rows, it_teardown),
		cmocka_unit_test_teardown(test_sweep_oos_outside_data, it_teardown),
	};
	(void)argc;
	return it_main(argv[0], "test_sweep_cli", tests, sizeof(tests) / sizeof(tests[0]));
}
