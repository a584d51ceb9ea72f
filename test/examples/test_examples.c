/*
 * test_examples.c - the example strategies (examples/strategies/) built the
 * way an author outside the repository builds them, and run in backtests.
 *
 * One test, as a user would do it: `make install` into a temporary
 * DESTDIR, build every example with its own Makefile using only pkg-config
 * pointed at that install, then run the INSTALLED ingenium on the bundled
 * data with each example's config, the plugins' paths given with --set,
 * and check from the summary that every strategy placed orders and got
 * fills. Runs from the repository root (as make test does); needs make, cc
 * and pkg-config, which the build needs anyway.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IG_TEST_VARIANT
#define IG_TEST_VARIANT "release"
#endif

#define PREFIX "/opt/ingenium"

static char tmp[64];

/* Runs a shell command built from fmt; returns its exit status. */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
	return rc;
}

/* Checks that summary.json in dir lists `n` strategies with these names,
 * each with orders and fills. */
static void check_traded(const char *dir, const char *const *names, size_t n)
{
	char path[256];
	json_error_t jerr;
	json_t *root, *strats;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	strats = json_object_get(root, "strategies");
	assert_true(json_is_array(strats));
	assert_int_equal(json_array_size(strats), n);
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(strats, i);
		json_int_t orders = json_integer_value(json_object_get(s, "orders"));
		json_int_t fills = json_integer_value(json_object_get(s, "fills"));
		fprintf(stderr, "%s: %lld orders, %lld fills\n", names[i], (long long)orders,
			(long long)fills);
		assert_string_equal(json_string_value(json_object_get(s, "name")), names[i]);
		assert_true(orders > 0);
		assert_true(fills > 0);
	}
	json_decref(root);
}

static void test_examples_build_and_trade(void **state)
{
	static const char *const bars[] = { "bollinger", "rsi", "donchian" };
	static const char *const quotes[] = { "maker" };
	static const char *const multi[] = { "sma_bars", "sma_quotes" };
	char dir[128];
	(void)state;

	snprintf(tmp, sizeof(tmp), "/tmp/ig-examples-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(sh("make -s --no-print-directory install VARIANT=%s DESTDIR=%s PREFIX=%s "
			    ">%s/install.log 2>&1 || { cat %s/install.log; exit 1; }",
			    IG_TEST_VARIANT, tmp, PREFIX, tmp, tmp),
			 0);
	/* Only the installed SDK: the sysroot maps the .pc's paths into the
	 * DESTDIR, as a packager's staging area would. */
	assert_int_equal(sh("PKG_CONFIG_PATH=%s%s/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=%s "
			    "make -s --no-print-directory -C examples/strategies OUT=%s/ex",
			    tmp, PREFIX, tmp, tmp),
			 0);
	assert_int_equal(sh("%s%s/bin/ingenium backtest -c examples/strategies/bars.yaml "
			    "--set strategies.0.plugin=%s/ex/bollinger_mr.so "
			    "--set strategies.1.plugin=%s/ex/rsi_reversion.so "
			    "--set strategies.2.plugin=%s/ex/donchian_breakout.so "
			    "--report %s/bars >%s/bars.log 2>&1 || { tail -20 %s/bars.log; exit 1; }",
			    tmp, PREFIX, tmp, tmp, tmp, tmp, tmp, tmp),
			 0);
	snprintf(dir, sizeof(dir), "%s/bars", tmp);
	check_traded(dir, bars, sizeof(bars) / sizeof(bars[0]));
	assert_int_equal(sh("%s%s/bin/ingenium backtest -c examples/strategies/quotes.yaml "
			    "--set strategies.0.plugin=%s/ex/inventory_maker.so "
			    "--report %s/quotes >%s/quotes.log 2>&1 || { tail -20 %s/quotes.log; exit 1; }",
			    tmp, PREFIX, tmp, tmp, tmp, tmp),
			 0);
	snprintf(dir, sizeof(dir), "%s/quotes", tmp);
	check_traded(dir, quotes, sizeof(quotes) / sizeof(quotes[0]));
	/* Two instruments, a built-in strategy on each (issue 12). check-config
	 * once refused it: it gave the strategies only feed.symbol. */
	assert_int_equal(sh("%s%s/bin/ingenium check-config -c examples/strategies/multi.yaml "
			    ">%s/multi.log 2>&1 || { cat %s/multi.log; exit 1; }",
			    tmp, PREFIX, tmp, tmp),
			 0);
	assert_int_equal(sh("%s%s/bin/ingenium backtest -c examples/strategies/multi.yaml "
			    "--report %s/multi >%s/multi.log 2>&1 || { tail -20 %s/multi.log; exit 1; }",
			    tmp, PREFIX, tmp, tmp, tmp),
			 0);
	snprintf(dir, sizeof(dir), "%s/multi", tmp);
	check_traded(dir, multi, sizeof(multi) / sizeof(multi[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_build_and_trade),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (tmp[0] != '\0')
		sh("rm -rf %s", tmp);
	return rc;
}
