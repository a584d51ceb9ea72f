/*
 * test_plugin.c - strategy plugins (src/strategy/registry.c): loading from
 * a config (`plugin:` relative to the config's directory or absolute),
 * the refusals (missing file, missing symbol, another type name, another
 * ABI version) with the plugin key's file:line:col, one load per shared
 * object, a plugin trading in an inline backtest on the bundled data (its
 * on_start, timers in data time, ig_param_enum/_str, ig_ctx_instrument,
 * ctx misuse in init, destroy), `ingenium check-config` refusing a plugin,
 * and `ingenium strategies --json`.
 *
 * The plugins are test/plugins/NAME.c, built by the Makefile into
 * IG_TEST_PLUGIN_DIR with only the public headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "config/config.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "strategy/registry.h"

#include <dlfcn.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define QUOTES "data/coinbase_btcusd_minute_quotes.csv"

/* Mirrors struct trader_stats in test/plugins/plug_trader.c. */
struct trader_stats {
	int starts, quotes, trades, bars, timers, fills, rejects, stops, destroys;
	int first_callback;
	int start_submit_ok;
	int instrument_ok;
	char tag[IG_PARAM_STR_MAX];
	int side;
	long long orders;
};

static struct ig_config cfg;
static struct ig_engine eng;
static char err[IG_CFG_ERR_MAX];
static char dir[64];
static char yaml_path[128];
static char cwd[256];

static const char *plugin(const char *name)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];
	snprintf(b, 512, "%s/%s/%s.so", cwd, IG_TEST_PLUGIN_DIR, name);
	return b;
}

static int setup(void **state)
{
	(void)state;
	ig_log_set_level(IG_LOG_OFF);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(dir, sizeof(dir), "/tmp/ig_plugin_XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(yaml_path, sizeof(yaml_path), "%s/c.yaml", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	ig_strategy_plugins_unload();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_yaml(const char *text)
{
	FILE *f = fopen(yaml_path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int load_yaml(const char *text)
{
	write_yaml(text);
	memset(err, 0, sizeof(err));
	return ig_config_load(&cfg, yaml_path, NULL, 0, err, sizeof(err));
}

/* Loads a one-strategy config naming plugin `so` with type `type` and
 * expects a refusal at the plugin key (line 4, col 5) containing why. */
static void expect_refused(const char *so, const char *type, const char *why)
{
	char text[1024], want[256];
	snprintf(text, sizeof(text),
		 "feed: {source: synthetic}\nstrategies:\n  - name: p\n    plugin: \"%s\"\n    type: %s\n",
		 so, type);
	assert_int_equal(load_yaml(text), IG_ECONFIG);
	snprintf(want, sizeof(want), "%s:4:5: strategies.0.plugin: plugin \"%s\": ", yaml_path, so);
	if (strncmp(err, want, strlen(want)) != 0 || strstr(err, why) == NULL)
		fail_msg("got: %s\nwant: %s...%s", err, want, why);
}

static void test_refusals(void **state)
{
	char missing[300];
	(void)state;
	snprintf(missing, sizeof(missing), "%s/no_such.so", dir);
	expect_refused(missing, "trader", "cannot load: ");
	expect_refused(missing, "trader", "No such file or directory"); /* dlerror's text */
	expect_refused(plugin("plug_nosym"), "nosym", "no ig_strategy_plugin symbol");
	expect_refused(plugin("plug_trader"), "other",
		       "defines strategy type \"trader\", not \"other\"");
	expect_refused(plugin("plug_abi"), "abi",
		       "built for SDK ABI version 999, this engine loads version 2");
	/* Nothing refused stays loaded: only the trader (accepted, then its
	 * type name refused for this entry) is in the registry. */
	assert_null(ig_strategy_type_at(3, NULL));
}

/* `plugin:` is relative to the config file's directory; one shared object
 * named twice (by two paths) is loaded once. */
static void test_relative_path_loaded_once(void **state)
{
	char text[1024], link[300];
	const char *src = NULL;
	(void)state;
	snprintf(link, sizeof(link), "%s/t.so", dir);
	assert_int_equal(symlink(plugin("plug_trader"), link), 0);
	snprintf(text, sizeof(text),
		 "feed: {source: synthetic}\nstrategies:\n"
		 "  - {name: a, type: trader, plugin: t.so}\n"
		 "  - {name: b, type: trader, plugin: \"%s\", params: {side: sell}}\n",
		 plugin("plug_trader"));
	if (load_yaml(text) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.strategies[0].plugin_path, link);
	assert_non_null(ig_strategy_type_at(2, &src));
	assert_string_equal(ig_strategy_type_at(2, &src)->name, "trader");
	assert_null(ig_strategy_type_at(3, NULL));
	assert_ptr_equal(ig_strategy_resolve(&cfg.strategies[0]), ig_strategy_resolve(&cfg.strategies[1]));
	/* The declared defaults are in both entries. */
	assert_string_equal(ig_config_param(&cfg.strategies[0], "side")->value, "buy");
	assert_string_equal(ig_config_param(&cfg.strategies[1], "side")->value, "sell");
}

/* Unix seconds of a "YYYY-MM-DDTHH:MM:SSZ" cell. */
static int64_t utc_s(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm));
	return (int64_t)timegm(&tm);
}

/* The first and last data times of the bundled quotes, in seconds. */
static void quotes_span(int64_t *first, int64_t *last)
{
	char line[512], prev[512] = "";
	FILE *f = fopen(QUOTES, "r");
	int n = 0;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (n++ == 1)
			*first = utc_s(line);
		if (line[0] != '\n')
			memcpy(prev, line, sizeof(prev));
	}
	fclose(f);
	*last = utc_s(prev);
}

/* The plugin trades in an inline backtest of the bundled quotes. */
static void test_plugin_backtest(void **state)
{
	struct ig_engine_opts opts;
	struct trader_stats *st;
	char text[1024];
	void *h;
	int64_t first = 0, last = 0;
	(void)state;
	snprintf(text, sizeof(text),
		 "engine: {threading: inline}\n"
		 "feed: {source: csv, path: \"%s/" QUOTES "\", symbol: BTCUSD}\n"
		 "risk: {stale_data_ms: 300000}\n"
		 "strategies:\n"
		 "  - name: plug\n"
		 "    type: trader\n"
		 "    plugin: \"%s\"\n"
		 "    params: {qty: \"0.1\", every: 50, timer_ms: 3600000, on_start_order: true, side: sell, "
		 "tag: hello}\n",
		 cwd, plugin("plug_trader"));
	if (load_yaml(text) != 0)
		fail_msg("%s", err);
	h = dlopen(plugin("plug_trader"), RTLD_NOW | RTLD_NOLOAD);
	assert_non_null(h); /* loaded by the config */
	st = dlsym(h, "trader_stats");
	assert_non_null(st);
	memset(&opts, 0, sizeof(opts));
	if (ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)) != 0)
		fail_msg("ig_engine_init: %s", err);
	/* init ran: params read (enum side = sell = 1, string tag), the
	 * instrument table visible, and its ig_ctx_market in init refused and
	 * counted. */
	assert_int_equal(st->side, 1);
	assert_string_equal(st->tag, "hello");
	assert_int_equal(st->instrument_ok, 1);
	assert_int_equal(ig_strategy_host_misuse(&eng.hosts[0], 0), 1);
	assert_int_equal(ig_engine_run(&eng), 0);
	assert_int_equal(st->starts, 1);
	assert_int_equal(st->first_callback, 1);
	assert_int_equal(st->start_submit_ok, 1);
	assert_true(st->quotes > 1000);
	assert_int_equal(st->stops, 1);
	assert_true(eng.oms.s[0].orders > 10);
	assert_int_equal((long long)eng.oms.s[0].orders, st->orders);
	assert_true(eng.oms.s[0].fills > 10);
	assert_true(st->fills > 10);
	/* An hourly timer in data time: once per hour the data spans. */
	quotes_span(&first, &last);
	assert_int_equal(st->timers, (last - first) / 3600);
	assert_true(st->timers > 0);
	assert_int_equal(st->destroys, 0);
	ig_engine_destroy(&eng);
	assert_int_equal(st->destroys, 1); /* before the unload */
	dlclose(h);
}

/* Runs a command; returns its exit status and its output in out. */
static int run_cmd(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n;
	int rc;
	assert_non_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	rc = pclose(p);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void test_check_config_refuses(void **state)
{
	static char out[8192];
	char cmd[1024], text[1024], want[256];
	(void)state;
	snprintf(text, sizeof(text),
		 "feed: {source: synthetic}\nstrategies:\n  - name: p\n    plugin: \"%s\"\n    type: abi\n",
		 plugin("plug_abi"));
	write_yaml(text);
	snprintf(cmd, sizeof(cmd), "%s/%s/../../ingenium check-config -c %s 2>&1", cwd, IG_TEST_PLUGIN_DIR,
		 yaml_path);
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "%s:4:5: strategies.0.plugin: plugin", yaml_path);
	if (strstr(out, want) == NULL || strstr(out, "ABI version 999") == NULL)
		fail_msg("check-config said: %s", out);
	/* And accepts a good one. */
	snprintf(text, sizeof(text),
		 "feed: {source: synthetic}\nstrategies:\n  - name: p\n    plugin: \"%s\"\n    type: trader\n",
		 plugin("plug_trader"));
	write_yaml(text);
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
}

static void test_strategies_json(void **state)
{
	static char out[65536];
	char cmd[1024];
	json_error_t jerr;
	json_t *root, *arr, *t, *params, *side = NULL;
	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/%s/../../ingenium strategies --json --plugin %s", cwd,
		 IG_TEST_PLUGIN_DIR, plugin("plug_trader"));
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
	root = json_loads(out, 0, &jerr);
	if (root == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, out);
	assert_int_equal(json_integer_value(json_object_get(root, "abi_version")), IG_SDK_ABI_VERSION);
	arr = json_object_get(root, "strategies");
	assert_int_equal(json_array_size(arr), 3);
	t = json_array_get(arr, 0);
	assert_string_equal(json_string_value(json_object_get(t, "name")), "sma_cross");
	assert_string_equal(json_string_value(json_object_get(t, "source")), "builtin");
	assert_int_equal(json_array_size(json_object_get(t, "params")), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 1), "name")), "maker");
	t = json_array_get(arr, 2);
	assert_string_equal(json_string_value(json_object_get(t, "name")), "trader");
	assert_string_equal(json_string_value(json_object_get(t, "source")), plugin("plug_trader"));
	assert_true(strlen(json_string_value(json_object_get(t, "doc"))) > 0);
	params = json_object_get(t, "params");
	for (size_t i = 0; i < json_array_size(params); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(params, i), "name")), "side") == 0)
			side = json_array_get(params, i);
	assert_non_null(side);
	assert_string_equal(json_string_value(json_object_get(side, "kind")), "enum");
	assert_string_equal(json_string_value(json_object_get(side, "default")), "buy");
	assert_string_equal(json_string_value(json_array_get(json_object_get(side, "choices"), 1)), "sell");
	assert_true(json_is_null(json_object_get(side, "min")));
	t = json_array_get(params, 0); /* qty */
	assert_string_equal(json_string_value(json_object_get(t, "min")), "0.00000001");
	assert_string_equal(json_string_value(json_object_get(t, "max")), "1000");
	json_decref(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_refusals),
		T(test_relative_path_loaded_once),
		T(test_plugin_backtest),
		T(test_check_config_refuses),
		T(test_strategies_json),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
