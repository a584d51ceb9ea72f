/*
 * test_report_html.c - a backtest with a report, end to end, in process
 * (ig_backtest_run, src/app/backtest.h) on test/report/report_sma.yaml:
 *
 *   - consistency: per strategy, equity.csv's last row equals stats.json's
 *     equity_final, the max drawdown recomputed from equity.csv equals
 *     max_drawdown_pct (to the printed precision), trades.csv has `trades`
 *     rows, and the in-process result equals stats.json;
 *   - report.html is self-contained (no http:// or https:// reference, no
 *     <script src>, <link>, @import or url(), the config's secret value
 *     redacted) and renders offline in headless Chromium: the dumped DOM
 *     has the three SVG charts per strategy and the stats table, with every
 *     host name mapped to nothing (--host-resolver-rules).
 *
 * The Chromium part skips (with a message) only when no chromium binary
 * is installed (scripts/install-deps.sh installs it). Everything runs in a
 * private directory under /tmp, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/backtest.h"
#include "config/config.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "report/report.h"
#include "strategy/registry.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static struct ig_config cfg;
static struct ig_backtest_result res;

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	struct ig_backtest_opts o;
	char err[512];
	int rc;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/ig_report_html_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	ig_log_set_level(IG_LOG_ERROR);
	if (ig_config_load(&cfg, "test/report/report_sma.yaml", NULL, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	memset(&o, 0, sizeof(o));
	o.report_dir = dir;
	rc = ig_backtest_run(&cfg, &o, &res, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ig_strategy_plugins_unload();
	return system(cmd) == 0 ? 0 : -1;
}

/* One strategy's equity.csv rows: last equity and the max drawdown
 * (negative percent). */
static void equity_of(const char *name, int64_t *last, double *max_dd, size_t *rows)
{
	char path[128], line[512];
	FILE *f;
	int64_t peak = 0;
	bool first = true;

	snprintf(path, sizeof(path), "%s/equity.csv", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "ts,strategy,equity,cash,position\n");
	*max_dd = 0;
	*rows = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *ts = strtok(line, ","), *s = strtok(NULL, ","), *eq = strtok(NULL, ",");
		int64_t v;
		assert_non_null(ts);
		assert_non_null(eq);
		if (strcmp(s, name) != 0)
			continue;
		assert_int_equal(ig_fixed_parse_cstr(eq, &v), 0);
		(*rows)++;
		*last = v;
		if (first || v > peak)
			peak = v;
		first = false;
		if (peak > 0 && v < peak) {
			/* 1 - equity / running peak, reported negative in percent */
			double dd = -(1.0 - ig_fixed_to_double(v) / ig_fixed_to_double(peak)) * 100.0;
			if (dd < *max_dd)
				*max_dd = dd;
		}
	}
	fclose(f);
}

static size_t trade_rows(const char *name)
{
	char path[128], line[512];
	size_t n = 0, len = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "%s/trades.csv", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	while (fgets(line, sizeof(line), f) != NULL)
		n += strncmp(line, name, len) == 0 && line[len] == ',';
	fclose(f);
	return n;
}

static void test_files_consistent(void **state)
{
	char path[128];
	json_error_t je;
	json_t *root, *arr;
	size_t i;
	(void)state;

	snprintf(path, sizeof(path), "%s/stats.json", dir);
	root = json_load_file(path, 0, &je);
	assert_non_null(root);
	arr = json_object_get(root, "strategies");
	assert_int_equal(json_array_size(arr), 2);
	assert_int_equal(res.nstrategies, 2);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *s = json_array_get(arr, i), *st = json_object_get(s, "stats");
		const char *name = json_string_value(json_object_get(s, "name"));
		int64_t final = 0, last = 0;
		double max_dd;
		size_t rows;

		assert_string_equal(name, res.names[i]);
		assert_int_equal(ig_fixed_parse_cstr(json_string_value(json_object_get(st, "equity_final")),
						     &final),
				 0);
		equity_of(name, &last, &max_dd, &rows);
		assert_true(rows > 1000);
		assert_int_equal(last, final);
		assert_int_equal(final, res.stats[i].equity_final);
		assert_true(fabs(max_dd - json_real_value(json_object_get(st, "max_drawdown_pct"))) < 1e-6);
		assert_true(max_dd < 0);
		assert_int_equal(trade_rows(name),
				 (size_t)json_integer_value(json_object_get(st, "trades")));
		assert_int_equal(res.stats[i].trades, json_integer_value(json_object_get(st, "trades")));
		assert_true(res.stats[i].trades > 0);
		/* every key of the table, in order */
		{
			const char *key;
			json_t *v;
			int id = 0;
			json_object_foreach(st, key, v) {
				(void)v;
				assert_string_equal(key, ig_report_stat_name((enum ig_report_stat)id));
				id++;
			}
			assert_int_equal(id, IG_RS__COUNT);
		}
	}
	json_decref(root);
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	assert_int_equal(access(path, R_OK), 0);
}

static void test_html_self_contained(void **state)
{
	char path[128];
	char *html;
	(void)state;

	snprintf(path, sizeof(path), "%s/report.html", dir);
	html = slurp(path);
	assert_non_null(html);
	assert_null(strstr(html, "http://"));
	assert_null(strstr(html, "https://"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "<link"));
	assert_null(strstr(html, "@import"));
	assert_null(strstr(html, "url("));
	assert_null(strstr(html, "REPORT_TEST_SECRET_NAME"));
	assert_non_null(strstr(html, "secret_env: [redacted]"));
	assert_non_null(strstr(html, "<svg class=\"equity\""));
	assert_non_null(strstr(html, "<table class=\"stats\""));
	assert_non_null(strstr(html, "<table class=\"months\""));
	/* the stats table has every stat, the new ones included */
	for (int id = 0; id < IG_RS__COUNT; id++) {
		char row[96];
		snprintf(row, sizeof(row), "<tr><td>%s</td>", ig_report_stat_name((enum ig_report_stat)id));
		assert_non_null(strstr(html, row));
	}
	assert_non_null(strstr(html, "<tr><td>return_ann_pct</td>"));
	assert_non_null(strstr(html, "<tr><td>expectancy_pct</td>"));
	free(html);
}

static const char *chromium(void)
{
	static const char *const names[] = { "/usr/bin/chromium", "/usr/bin/chromium-browser",
					     "/usr/bin/google-chrome" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (access(names[i], X_OK) == 0)
			return names[i];
	return NULL;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_html_renders_in_chromium(void **state)
{
	const char *bin = chromium();
	char cmd[1024], out[128], prof[128];
	char *dom;
	int rc;
	(void)state;

	if (bin == NULL) {
		print_message("chromium is not installed (scripts/install-deps.sh installs it): "
			      "skipping the render check\n");
		skip();
	}
	snprintf(out, sizeof(out), "%s/dom.html", dir);
	snprintf(prof, sizeof(prof), "%s/profile", dir);
	/* timeout: a hung browser fails the test instead of hanging it. */
	snprintf(cmd, sizeof(cmd),
		 "timeout -k 5 90 %s --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
		 "--no-first-run --disable-extensions --disable-background-networking "
		 "--host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir='%s' "
		 "--dump-dom 'file://%s/report.html' > '%s' 2>/dev/null",
		 bin, prof, dir, out);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
	dom = slurp(out);
	assert_non_null(dom);
	assert_int_equal(count(dom, "<svg class=\"equity\""), 2);
	assert_int_equal(count(dom, "<svg class=\"drawdown\""), 2);
	assert_int_equal(count(dom, "<svg class=\"price\""), 2);
	assert_int_equal(count(dom, "<table class=\"stats\""), 2);
	assert_non_null(strstr(dom, "<polyline"));
	assert_non_null(strstr(dom, "max_drawdown_pct"));
	assert_non_null(strstr(dom, "sma_slow"));
	free(dom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_consistent),
		cmocka_unit_test(test_html_self_contained),
		cmocka_unit_test(test_html_renders_in_chromium),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
