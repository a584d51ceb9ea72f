/*
 * test_config.c - the YAML config loader, --set overrides, validation and
 * the ig_param_* helpers.
 *
 * Each fixture is written to a temporary file by the test itself, so the
 * line:col every error must report can be read off the string literal.
 * Errors are checked by their exact "FILE:LINE:COL: KEY: MESSAGE" prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/wait.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* struct ig_config is a few hundred KB: keep it off the stack. */
static struct ig_config cfg;
static char err[IG_CFG_ERR_MAX];
static char tmp_path[64];

#define MIN_FEED "feed: {source: synthetic}\n"

/* Writes yaml to a fresh temporary file; its name is left in tmp_path. */
static void write_tmp(const char *yaml)
{
	size_t len = strlen(yaml);
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/ig_cfg_XXXXXX.yaml");
	fd = mkstemps(tmp_path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Loads yaml (through a temporary file) with overrides. Returns load's rc. */
static int load_ovr(const char *yaml, const struct ig_cfg_override *ovr, size_t novr)
{
	int rc;

	write_tmp(yaml);
	memset(err, 0, sizeof(err));
	rc = ig_config_load(&cfg, tmp_path, ovr, novr, err, sizeof(err));
	unlink(tmp_path);
	return rc;
}

static int load(const char *yaml)
{
	return load_ovr(yaml, NULL, 0);
}

static void check_prefix(const char *want)
{
	if (strncmp(err, want, strlen(want)) != 0) {
		print_error("error message mismatch\n  got:  %s\n  want: %s...\n", err, want);
		fail();
	}
}

/* Loads yaml, expects IG_ECONFIG and err starting "FILE:line:col: rest". */
static void expect_at(const char *yaml, int line, int col, const char *rest)
{
	char want[IG_CFG_ERR_MAX];
	int rc = load(yaml);

	if (rc != IG_ECONFIG)
		print_error("rc %d (%s), err: %s\n", rc, ig_err_name(rc), err);
	assert_int_equal(rc, IG_ECONFIG);
	snprintf(want, sizeof(want), "%s:%d:%d: %s", tmp_path, line, col, rest);
	check_prefix(want);
}

/* Loads yaml with one override, expects IG_ECONFIG and err starting want. */
static void expect_set(const char *yaml, const char *key, const char *value, const char *want)
{
	struct ig_cfg_override o = { key, value };
	int rc = load_ovr(yaml, &o, 1);

	if (rc != IG_ECONFIG)
		print_error("rc %d (%s), err: %s\n", rc, ig_err_name(rc), err);
	assert_int_equal(rc, IG_ECONFIG);
	check_prefix(want);
}

static void load_ok(const char *yaml)
{
	int rc = load(yaml);

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

/* ---- defaults and a full valid file ------------------------------------ */

static void test_defaults(void **state)
{
	(void)state;
	ig_config_defaults(&cfg);
	assert_int_equal(cfg.engine.threading, IG_THREADING_DEDICATED);
	assert_int_equal(cfg.engine.wait, IG_WAIT_ADAPTIVE);
	assert_int_equal(cfg.engine.ring_size, 4096);
	assert_int_equal(cfg.engine.strategy_threads, 1);
	assert_int_equal(cfg.engine.workers, 1);
	assert_false(cfg.engine.tick_shares_worker);
	assert_int_equal(cfg.engine.cpu_tick, -1);
	assert_int_equal(cfg.engine.cpu_strategy[IG_MAX_STRATEGY_THREADS - 1], -1);
	assert_int_equal(cfg.engine.cpu_workers[0], -1);
	assert_int_equal(cfg.feed.source, -1);
	assert_int_equal(cfg.feed.speed, 0);
	assert_int_equal(cfg.feed.heartbeat_ms, 1000);
	assert_string_equal(cfg.feed.symbol, "XBTZAR");
	assert_int_equal(cfg.feed.seed, 1);
	assert_int_equal(cfg.feed.count, 100000);
	assert_int_equal(cfg.feed.start_px, IG_FIXED(100));
	assert_int_equal(cfg.feed.tick_size, 1000000);
	assert_int_equal(cfg.feed.spread_bps, 10);
	assert_int_equal(cfg.feed.qty, IG_FIXED(1));
	assert_int_equal(cfg.venue.kind, IG_VENUE_PAPER);
	assert_string_equal(cfg.venue.base_url, "https://api.luno.com");
	assert_string_equal(cfg.venue.key_id_env, "LUNO_API_KEY_ID");
	assert_string_equal(cfg.venue.secret_env, "LUNO_API_KEY_SECRET");
	assert_int_equal(cfg.venue.maker_fee_bps, 0);
	assert_int_equal(cfg.venue.taker_fee_bps, 10);
	assert_int_equal(cfg.venue.connect_timeout_ms, 3000);
	assert_int_equal(cfg.venue.timeout_ms, 10000);
	assert_true(cfg.risk.max_order_qty == IG_RISK_UNSET);
	assert_true(cfg.risk.tax_rate_pct == IG_RISK_UNSET);
	assert_int_equal(cfg.risk.drawdown_action, IG_BREACH_REDUCING);
	assert_string_equal(cfg.journal.path, "var/ingenium.journal");
	assert_int_equal(cfg.journal.sync, IG_JOURNAL_SYNC_ORDER);
	assert_false(cfg.journal.enabled);
	assert_int_equal(cfg.nstrategies, 0);
	assert_int_equal(cfg.strategies[5].capital, IG_FIXED(100000));
	assert_int_equal(cfg.strategies[5].index, 5);
	assert_true(cfg.strategies[5].risk.max_position_qty == IG_RISK_UNSET);
}

static const char full_yaml[] =
	"# every section\n"                                      /* 1 */
	"engine:\n"                                              /* 2 */
	"  threading: shared\n"                                  /* 3 */
	"  wait: spin\n"                                         /* 4 */
	"  ring_size: 1024\n"                                    /* 5 */
	"  strategy_threads: 2\n"                                /* 6 */
	"  workers: 3\n"                                         /* 7 */
	"  tick_shares_worker: true\n"                           /* 8 */
	"  cpu_tick: 1\n"                                        /* 9 */
	"  cpu_oms: 2\n"                                         /* 10 */
	"  cpu_exec: 3\n"                                        /* 11 */
	"  cpu_strategy: [4, 5]\n"                               /* 12 */
	"  cpu_workers: [6]\n"                                   /* 13 */
	"feed:\n"                                                /* 14 */
	"  source: csv\n"                                        /* 15 */
	"  path: data/xbtzar.csv\n"                              /* 16 */
	"  speed: 10\n"                                          /* 17 */
	"  heartbeat_ms: 250\n"                                  /* 18 */
	"  symbol: ETHZAR\n"                                     /* 19 */
	"  strict: yes\n"                                        /* 20 */
	"  seed: 18446744073709551615\n"                         /* 21 */
	"  rate: 5000\n"                                         /* 22 */
	"  count: 0\n"                                           /* 23 */
	"  start_px: \"1234567.12345678\"\n"                     /* 24 */
	"  tick_size: 0.5\n"                                     /* 25 */
	"  spread_bps: 7\n"                                      /* 26 */
	"  qty: 2\n"                                             /* 27 */
	"venue:\n"                                               /* 28 */
	"  kind: luno\n"                                         /* 29 */
	"  base_url: http://127.0.0.1:8765\n"                    /* 30 */
	"  key_id_env: MY_KEY\n"                                 /* 31 */
	"  secret_env: MY_SECRET\n"                              /* 32 */
	"  maker_fee_bps: -2\n"                                  /* 33 */
	"  taker_fee_bps: 25\n"                                  /* 34 */
	"  connect_timeout_ms: 500\n"                            /* 35 */
	"  timeout_ms: 2000\n"                                   /* 36 */
	"risk:\n"                                                /* 37 */
	"  max_order_qty: \"0.5\"\n"                             /* 38 */
	"  max_order_notional: 100000\n"                         /* 39 */
	"  max_position_qty: 1.25\n"                             /* 40 */
	"  max_open_orders: 10\n"                                /* 41 */
	"  max_orders_per_sec: 50\n"                             /* 42 */
	"  price_collar_bps: 200\n"                              /* 43 */
	"  stale_data_ms: 5000\n"                                /* 44 */
	"  daily_loss_limit: \"2500.75\"\n"                      /* 45 */
	"  max_drawdown_pct: 5\n"                                /* 46 */
	"  duplicate_window_ms: 100\n"                           /* 47 */
	"  tax_rate_pct: \"18\"\n"                               /* 48 */
	"  drawdown_action: halted\n"                            /* 49 */
	"journal:\n"                                             /* 50 */
	"  path: /tmp/x.journal\n"                               /* 51 */
	"  sync: batch\n"                                        /* 52 */
	"  enabled: true\n"                                      /* 53 */
	"strategies:\n"                                          /* 54 */
	"  - name: sma_fast\n"                                   /* 55 */
	"    type: sma_cross\n"                                  /* 56 */
	"    thread: 1\n"                                        /* 57 */
	"    symbols: [XBTZAR, ETHZAR]\n"                        /* 58 */
	"    capital: \"250000.5\"\n"                            /* 59 */
	"    params: {fast: 10, slow: 30, qty: \"0.01\"}\n"      /* 60 */
	"    risk: {max_position_qty: \"0.1\", drawdown_action: halted}\n" /* 61 */
	"  - {name: other, type: sma_cross}\n";                  /* 62 */

static void test_full_config(void **state)
{
	const struct ig_cfg_strategy *s;
	const struct ig_cfg_param *p;

	(void)state;
	load_ok(full_yaml);
	assert_string_equal(cfg.file, tmp_path);

	assert_int_equal(cfg.engine.threading, IG_THREADING_SHARED);
	assert_int_equal(cfg.engine.wait, IG_WAIT_SPIN);
	assert_int_equal(cfg.engine.ring_size, 1024);
	assert_int_equal(cfg.engine.strategy_threads, 2);
	assert_int_equal(cfg.engine.workers, 3);
	assert_true(cfg.engine.tick_shares_worker);
	assert_int_equal(cfg.engine.cpu_tick, 1);
	assert_int_equal(cfg.engine.cpu_oms, 2);
	assert_int_equal(cfg.engine.cpu_exec, 3);
	assert_int_equal(cfg.engine.cpu_strategy[0], 4);
	assert_int_equal(cfg.engine.cpu_strategy[1], 5);
	assert_int_equal(cfg.engine.cpu_strategy[2], -1);
	assert_int_equal(cfg.engine.cpu_workers[0], 6);
	assert_int_equal(cfg.engine.cpu_workers[1], -1);

	assert_int_equal(cfg.feed.source, IG_FEED_CSV);
	assert_string_equal(cfg.feed.path, "data/xbtzar.csv");
	assert_int_equal(cfg.feed.speed, 10);
	assert_int_equal(cfg.feed.heartbeat_ms, 250);
	assert_string_equal(cfg.feed.symbol, "ETHZAR");
	assert_true(cfg.feed.strict);
	assert_true(cfg.feed.seed == UINT64_MAX);
	assert_int_equal(cfg.feed.rate, 5000);
	assert_int_equal(cfg.feed.count, 0);
	assert_true(cfg.feed.start_px == INT64_C(123456712345678));
	assert_int_equal(cfg.feed.tick_size, 50000000);
	assert_int_equal(cfg.feed.spread_bps, 7);
	assert_int_equal(cfg.feed.qty, IG_FIXED(2));

	assert_int_equal(cfg.venue.kind, IG_VENUE_LUNO);
	assert_string_equal(cfg.venue.base_url, "http://127.0.0.1:8765");
	assert_string_equal(cfg.venue.key_id_env, "MY_KEY");
	assert_string_equal(cfg.venue.secret_env, "MY_SECRET");
	assert_int_equal(cfg.venue.maker_fee_bps, -2);
	assert_int_equal(cfg.venue.taker_fee_bps, 25);
	assert_int_equal(cfg.venue.connect_timeout_ms, 500);
	assert_int_equal(cfg.venue.timeout_ms, 2000);

	/* Money is exact whether written quoted or as a plain YAML number. */
	assert_int_equal(cfg.risk.max_order_qty, 50000000);
	assert_true(cfg.risk.max_order_notional == IG_FIXED(100000));
	assert_int_equal(cfg.risk.max_position_qty, 125000000);
	assert_int_equal(cfg.risk.max_open_orders, 10);
	assert_int_equal(cfg.risk.max_orders_per_sec, 50);
	assert_int_equal(cfg.risk.price_collar_bps, 200);
	assert_int_equal(cfg.risk.stale_data_ms, 5000);
	assert_true(cfg.risk.daily_loss_limit == INT64_C(250075000000));
	assert_true(cfg.risk.max_drawdown_pct == IG_FIXED(5));
	assert_int_equal(cfg.risk.duplicate_window_ms, 100);
	assert_true(cfg.risk.tax_rate_pct == IG_FIXED(18));
	assert_int_equal(cfg.risk.drawdown_action, IG_BREACH_HALTED);

	assert_string_equal(cfg.journal.path, "/tmp/x.journal");
	assert_int_equal(cfg.journal.sync, IG_JOURNAL_SYNC_BATCH);
	assert_true(cfg.journal.enabled);

	assert_int_equal(cfg.nstrategies, 2);
	s = &cfg.strategies[0];
	assert_string_equal(s->name, "sma_fast");
	assert_string_equal(s->type, "sma_cross");
	assert_int_equal(s->thread, 1);
	assert_int_equal(s->nsymbols, 2);
	assert_string_equal(s->symbols[0], "XBTZAR");
	assert_string_equal(s->symbols[1], "ETHZAR");
	assert_true(s->capital == INT64_C(25000050000000));
	assert_int_equal(s->nparams, 4); /* three from the file, allow_short's default */
	assert_true(ig_config_param(s, "allow_short")->is_default);
	assert_int_equal(s->line, 55);
	assert_int_equal(s->col, 5);
	assert_int_equal(s->index, 0);
	p = ig_config_param(s, "qty");
	assert_non_null(p);
	assert_string_equal(p->value, "0.01");
	assert_int_equal(p->line, 60);
	assert_int_equal(p->col, 39);
	p = ig_config_param(s, "fast");
	assert_non_null(p);
	assert_string_equal(p->value, "10");
	assert_int_equal(p->col, 20);
	assert_null(ig_config_param(s, "absent"));
	assert_int_equal(s->risk.max_position_qty, 10000000);
	assert_int_equal(s->risk.drawdown_action, IG_BREACH_HALTED);
	assert_true(s->risk.max_order_qty == IG_RISK_UNSET);

	/* The second entry keeps every default; symbols default to feed.symbol. */
	s = &cfg.strategies[1];
	assert_string_equal(s->name, "other");
	assert_int_equal(s->thread, 0);
	assert_true(s->capital == IG_FIXED(100000));
	assert_int_equal(s->nsymbols, 1);
	assert_string_equal(s->symbols[0], "ETHZAR");
	assert_int_equal(s->nparams, 4); /* sma_cross's four defaults */
	assert_string_equal(ig_config_param(s, "fast")->value, "10");
	assert_int_equal(s->line, 62);
	assert_int_equal(s->col, 5);
	assert_int_equal(s->index, 1);
	assert_true(s->risk.max_position_qty == IG_RISK_UNSET);
	assert_int_equal(s->risk.drawdown_action, IG_BREACH_INHERIT);

	assert_int_equal(ig_config_validate(&cfg, err, sizeof(err)), 0);
}

static void test_empty_sections_ok(void **state)
{
	(void)state;
	load_ok(MIN_FEED "engine:\nrisk: ~\nstrategies: []\n");
	assert_int_equal(cfg.engine.ring_size, 4096);
	assert_int_equal(cfg.nstrategies, 0);
	assert_int_equal(cfg.feed.source, IG_FEED_SYNTHETIC);
}

/* ---- shape errors ------------------------------------------------------- */

static void test_unknown_top_level_key(void **state)
{
	(void)state;
	expect_at(MIN_FEED "bogus: 1\n", 2, 1, "bogus: unknown key");
}

static void test_unknown_nested_key(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine:\n  ring_sz: 8\n", 3, 3, "engine.ring_sz: unknown key");
}

static void test_unknown_strategy_keys(void **state)
{
	(void)state;
	expect_at(MIN_FEED "strategies:\n  - name: a\n    type: t\n    risk: {max_foo: 1}\n", 5, 12,
		  "strategies.0.risk.max_foo: unknown key");
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, colour: red}\n", 3, 24,
		  "strategies.0.colour: unknown key");
}

static void test_wrong_type_sequence_for_scalar(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine:\n  threading: [a, b]\n", 3, 14,
		  "engine.threading: expected a scalar, got a sequence");
}

static void test_wrong_type_scalar_for_mapping(void **state)
{
	(void)state;
	expect_at("feed: synthetic\n", 1, 7, "feed: expected a mapping, got a scalar");
	expect_at(MIN_FEED "strategies: {name: a}\n", 2, 13,
		  "strategies: expected a sequence, got a mapping");
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, params: {fast: [1]}}\n", 3, 39,
		  "strategies.0.params.fast: expected a scalar, got a sequence");
	expect_at("- 1\n- 2\n", 1, 1, "(root): expected a mapping, got a sequence");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_at(MIN_FEED "feed: {source: csv}\n", 2, 1, "feed: duplicate key (first at line 1)");
}

/* ---- value errors ------------------------------------------------------- */

static void test_bad_int(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine:\n  strategy_threads: two\n", 3, 21,
		  "engine.strategy_threads: not an integer: \"two\"");
	expect_at(MIN_FEED "engine:\n  workers: 1.5\n", 3, 12, "engine.workers: not an integer: \"1.5\"");
}

static void test_bad_decimal(void **state)
{
	(void)state;
	expect_at(MIN_FEED "risk:\n  max_order_qty: abc\n", 3, 18,
		  "risk.max_order_qty: not a decimal: \"abc\"");
	expect_at(MIN_FEED "risk:\n  max_order_qty: 1e-3\n", 3, 18,
		  "risk.max_order_qty: not a decimal: \"1e-3\"");
}

static void test_too_many_decimals(void **state)
{
	(void)state;
	expect_at("feed:\n  source: synthetic\n  tick_size: 0.000000001\n", 3, 14,
		  "feed.tick_size: too many decimals: \"0.000000001\" (max 8)");
}

static void test_overflow(void **state)
{
	(void)state;
	expect_at(MIN_FEED "risk:\n  max_open_orders: 99999999999999999999\n", 3, 20,
		  "risk.max_open_orders: out of range: \"99999999999999999999\"");
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, capital: \"100000000000\"}\n", 3, 33,
		  "strategies.0.capital: out of range: \"100000000000\"");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_at("feed: {source: synthetic, speed: -1}\n", 1, 34,
		  "feed.speed: out of range: \"-1\" (must be >= 0)");
	expect_at(MIN_FEED "engine: {strategy_threads: 0}\n", 2, 28,
		  "engine.strategy_threads: out of range: \"0\" (must be 1..16)");
	expect_at("feed: {source: synthetic, tick_size: 0}\n", 1, 38,
		  "feed.tick_size: out of range: \"0\" (must be > 0)");
	expect_at(MIN_FEED "risk: {max_drawdown_pct: \"100.5\"}\n", 2, 26,
		  "risk.max_drawdown_pct: out of range: \"100.5\" (must be 0..100)");
	expect_at("feed: {source: synthetic, seed: -1}\n", 1, 33, "feed.seed: out of range: \"-1\"");
}

static void test_bad_enum(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine: {threading: fast}\n", 2, 21,
		  "engine.threading: unknown value \"fast\" (expected dedicated|shared|inline)");
	expect_at(MIN_FEED "engine: {wait: sleepy}\n", 2, 16,
		  "engine.wait: unknown value \"sleepy\" (expected spin|yield|adaptive)");
	expect_at("feed: {source: kafka}\n", 1, 16,
		  "feed.source: unknown value \"kafka\" (expected csv|synthetic|luno)");
	/* venue.kind and feed.source are resolved by the venue and feed-source
	 * registries: an unknown name is refused where it is written, with
	 * every name the registry knows. */
	expect_at(MIN_FEED "venue:\n  kind: ftx\n", 3, 9,
		  "venue.kind: unknown value \"ftx\" (expected paper|luno)");
	expect_at(MIN_FEED "risk: {drawdown_action: panic}\n", 2, 25,
		  "risk.drawdown_action: unknown value \"panic\" (expected reducing|halted)");
}

/* The paper venue's fill keys (docs/backtesting.md "Fills"): defaults,
 * values, and bad values refused where they are written. */
static void test_venue_fill_keys(void **state)
{
	(void)state;
	load_ok(MIN_FEED);
	assert_int_equal(cfg.venue.bar_fill, IG_CFG_DEFAULT_BAR_FILL);
	assert_int_equal(cfg.venue.bar_fill, IG_BAR_FILL_NEXT_OPEN);
	assert_int_equal(cfg.venue.max_volume_pct, IG_CFG_DEFAULT_MAX_VOLUME_PCT);
	assert_int_equal(cfg.venue.fee_per_order, IG_CFG_DEFAULT_FEE_PER_ORDER);
	assert_int_equal(cfg.venue.min_fee, IG_CFG_DEFAULT_MIN_FEE);
	assert_int_equal(cfg.venue.slippage_bps, IG_CFG_DEFAULT_SLIPPAGE_BPS);
	assert_int_equal(cfg.venue.latency_ms, IG_CFG_DEFAULT_LATENCY_MS);
	assert_string_equal(cfg.venue.latency_from, "");
	assert_true(cfg.venue.latency_seed == IG_CFG_DEFAULT_LATENCY_SEED);
	load_ok(MIN_FEED "venue: {bar_fill: close, max_volume_pct: \"2.5\", fee_per_order: \"0.5\", "
			 "min_fee: \"0.01\", slippage_bps: 3, latency_ms: 250, latency_seed: 7}\n");
	assert_int_equal(cfg.venue.bar_fill, IG_BAR_FILL_CLOSE);
	assert_int_equal(cfg.venue.max_volume_pct, IG_FIXED(5) / 2);
	assert_int_equal(cfg.venue.fee_per_order, IG_FIXED(1) / 2);
	assert_int_equal(cfg.venue.min_fee, IG_FIXED(1) / 100);
	assert_int_equal(cfg.venue.slippage_bps, 3);
	assert_int_equal(cfg.venue.latency_ms, 250);
	assert_true(cfg.venue.latency_seed == 7);
	expect_at(MIN_FEED "venue:\n  bar_fill: open\n", 3, 13,
		  "venue.bar_fill: unknown value \"open\" (expected next_open|close)");
	expect_at(MIN_FEED "venue:\n  max_volume_pct: \"101\"\n", 3, 19,
		  "venue.max_volume_pct: out of range");
	expect_at(MIN_FEED "venue:\n  slippage_bps: -1\n", 3, 17, "venue.slippage_bps: out of range");
	expect_at(MIN_FEED "venue:\n  min_fee: \"-0.1\"\n", 3, 12, "venue.min_fee: out of range");
	expect_at(MIN_FEED "venue:\n  fee_per_order: x\n", 3, 18, "venue.fee_per_order:");
	expect_at(MIN_FEED "venue:\n  latency_ms: -5\n", 3, 15, "venue.latency_ms: out of range");
	/* One latency model at a time. */
	assert_int_equal(load(MIN_FEED "venue: {latency_ms: 5, latency_from: /tmp/s.json}\n"),
			 IG_ECONFIG);
	assert_non_null(strstr(err, "venue.latency_from"));
}

static void test_bad_bool(void **state)
{
	(void)state;
	expect_at(MIN_FEED "journal: {enabled: maybe}\n", 2, 20,
		  "journal.enabled: not a boolean: \"maybe\"");
}

static void test_ring_size_not_power_of_two(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine: {ring_size: 1000}\n", 2, 21,
		  "engine.ring_size: not a power of two >= 2: \"1000\"");
	expect_at(MIN_FEED "engine: {ring_size: 1}\n", 2, 21,
		  "engine.ring_size: not a power of two >= 2: \"1\"");
}

static void test_string_too_long(void **state)
{
	(void)state;
	expect_at("feed:\n  source: synthetic\n"
		  "  symbol: ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ\n",
		  3, 11, "feed.symbol: too long: 50 chars (max 47)");
	expect_at(MIN_FEED "strategies:\n  - {name: \"\", type: t}\n", 3, 12,
		  "strategies.0.name: must not be empty");
}

static void test_too_many_symbols(void **state)
{
	(void)state;
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, symbols: [A, B, C, D, E, F, G, H, I]}\n",
		  3, 58, "strategies.0.symbols.8: too many symbols (max 8)");
}

static void test_too_many_params(void **state)
{
	char yaml[4096];
	int used;

	(void)state;
	used = snprintf(yaml, sizeof(yaml), MIN_FEED "strategies:\n  - name: a\n    type: t\n    params:\n");
	for (int i = 0; i <= IG_CFG_MAX_PARAMS; i++)
		used += snprintf(yaml + used, sizeof(yaml) - (size_t)used, "      p%d: %d\n", i, i);
	/* p32 is the 33rd param, on line 6 + 32 = 38, value at column 12. */
	expect_at(yaml, 38, 12, "strategies.0.params.p32: too many params (max 32)");
}

static void test_too_many_strategies(void **state)
{
	static char yaml[8192];
	int used;

	(void)state;
	used = snprintf(yaml, sizeof(yaml), MIN_FEED "strategies:\n");
	for (int i = 0; i <= IG_MAX_STRATEGIES; i++)
		used += snprintf(yaml + used, sizeof(yaml) - (size_t)used,
				 "  - {name: s%d, type: t}\n", i);
	expect_at(yaml, 3 + IG_MAX_STRATEGIES, 5, "strategies: too many strategies (max 64)");
}

/* ---- missing keys and cross-field checks ------------------------------- */

static void test_missing_feed_source(void **state)
{
	(void)state;
	/* Points at the enclosing mapping: the feed block, else the root. */
	expect_at("engine: {wait: spin}\nfeed:\n  symbol: XBTZAR\n", 3, 3,
		  "feed.source: missing required key");
	expect_at("engine: {wait: spin}\n", 1, 1, "feed.source: missing required key");
}

static void test_empty_file(void **state)
{
	(void)state;
	expect_at("", 1, 1, "feed.source: missing required key");
	expect_at("# only a comment\n", 1, 1, "feed.source: missing required key");
}

static void test_csv_needs_path(void **state)
{
	(void)state;
	expect_at("engine: {wait: spin}\nfeed: {source: csv}\n", 2, 7,
		  "feed.path: missing required key (feed.source is csv)");
}

static void test_missing_strategy_name_and_type(void **state)
{
	(void)state;
	expect_at(MIN_FEED "strategies:\n  - type: sma_cross\n", 3, 5,
		  "strategies.0.name: missing required key");
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t}\n  - name: b\n    thread: 0\n", 4, 5,
		  "strategies.1.type: missing required key");
}

static void test_duplicate_strategy_name(void **state)
{
	(void)state;
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t}\n  - {name: a, type: t}\n", 4, 12,
		  "strategies.1.name: duplicate strategy name \"a\" (also strategies.0)");
}

static void test_strategy_thread_out_of_range(void **state)
{
	(void)state;
	expect_at(MIN_FEED "engine: {strategy_threads: 2}\nstrategies:\n  - {name: a, type: t, thread: 2}\n",
		  4, 32, "strategies.0.thread: 2 is out of range (engine.strategy_threads is 2)");
	/* Beyond any possible thread count: refused by the field's own range. */
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, thread: 16}\n", 3, 32,
		  "strategies.0.thread: out of range: \"16\" (must be 0..15)");
}

static void test_duplicate_symbol(void **state)
{
	(void)state;
	expect_at(MIN_FEED "strategies:\n  - {name: a, type: t, symbols: [X, X]}\n", 3, 5,
		  "strategies.0.symbols: duplicate symbol \"X\"");
}

/* ---- files and syntax -------------------------------------------------- */

static void test_yaml_syntax_error(void **state)
{
	char want[IG_CFG_ERR_MAX];

	(void)state;
	assert_int_equal(load(MIN_FEED "engine:\n  wait: spin\n ring_size: 8\n"), IG_ECONFIG);
	snprintf(want, sizeof(want), "%s:4:2: syntax error: ", tmp_path);
	check_prefix(want);

	assert_int_equal(load("feed: {source: synthetic\nengine: {}\n"), IG_ECONFIG);
	snprintf(want, sizeof(want),
		 "%s:2:7: syntax error: did not find expected ',' or '}' "
		 "(while parsing a flow mapping at 1:7)", tmp_path);
	check_prefix(want);
}

static void test_bad_utf8_position(void **state)
{
	(void)state;
	/* libyaml's reader reports only a byte offset; the loader maps it. */
	expect_at(MIN_FEED "engine: {ring_size: \xff}\n", 2, 21,
		  "syntax error: invalid leading UTF-8 octet (at byte 46)");
}

static void test_two_documents(void **state)
{
	(void)state;
	expect_at(MIN_FEED "---\n" MIN_FEED, 3, 1, "(root): more than one YAML document");
}

static void test_missing_file(void **state)
{
	const char *path = "/nonexistent/ingenium/none.yaml";

	(void)state;
	assert_int_equal(ig_config_load(&cfg, path, NULL, 0, err, sizeof(err)), IG_ENOENT);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
}

static void test_directory_is_io_error(void **state)
{
	(void)state;
	assert_int_equal(ig_config_load(&cfg, "/tmp", NULL, 0, err, sizeof(err)), IG_EIO);
	assert_non_null(strstr(err, "/tmp: cannot read: Is a directory"));
}

/* ---- overrides --------------------------------------------------------- */

static const char strat_yaml[] =
	MIN_FEED
	"strategies:\n"
	"  - name: a\n"
	"    type: sma_cross\n"
	"    params: {fast: 10}\n";

static void test_override_values(void **state)
{
	const struct ig_cfg_override o[] = {
		{ "venue.base_url", "http://127.0.0.1:8765" },
		{ "feed.speed", "3" },
		{ "feed.speed", "4" }, /* applied in order: the last wins */
		{ "engine.cpu_strategy.1", "7" },
		{ "risk.max_order_qty", "0.25" },
		{ "strategies.0.risk.max_open_orders", "3" },
		{ "strategies.0.capital", "5000" },
		{ "engine.wait", "yield" },
	};

	(void)state;
	assert_int_equal(load_ovr(strat_yaml, o, sizeof(o) / sizeof(o[0])), 0);
	assert_string_equal(cfg.venue.base_url, "http://127.0.0.1:8765");
	assert_int_equal(cfg.feed.speed, 4);
	assert_int_equal(cfg.engine.cpu_strategy[0], -1);
	assert_int_equal(cfg.engine.cpu_strategy[1], 7);
	assert_int_equal(cfg.risk.max_order_qty, 25000000);
	assert_int_equal(cfg.strategies[0].risk.max_open_orders, 3);
	assert_true(cfg.strategies[0].capital == IG_FIXED(5000));
	assert_int_equal(cfg.engine.wait, IG_WAIT_YIELD);
}

static void test_override_bad_value(void **state)
{
	(void)state;
	expect_set(strat_yaml, "feed.speed", "fast", "--set feed.speed: not an integer: \"fast\"");
	expect_set(strat_yaml, "risk.max_order_qty", "0.123456789",
		   "--set risk.max_order_qty: too many decimals: \"0.123456789\" (max 8)");
	expect_set(strat_yaml, "engine.ring_size", "100",
		   "--set engine.ring_size: not a power of two >= 2: \"100\"");
}

static void test_override_unknown_key(void **state)
{
	(void)state;
	expect_set(strat_yaml, "venue.bogus", "1", "--set venue.bogus: unknown key");
	expect_set(strat_yaml, "nosuch.key", "1", "--set nosuch.key: unknown key");
	expect_set(strat_yaml, "engine.ring_size.x", "1", "--set engine.ring_size.x: unknown key");
	expect_set(strat_yaml, "engine", "1", "--set engine: is a mapping, not a scalar");
	expect_set(strat_yaml, "", "1", "--set : missing key (use KEY=VALUE)");
	expect_set(strat_yaml, "strategies.0.symbols", "X",
		   "--set strategies.0.symbols: is a sequence, not a scalar");
}

static void test_override_params(void **state)
{
	const struct ig_cfg_override o[] = {
		{ "strategies.0.params.fast", "5" },
		{ "strategies.0.params.slow", "20" },
	};
	const struct ig_cfg_param *p;

	(void)state;
	assert_int_equal(load_ovr(strat_yaml, o, 2), 0);
	assert_int_equal(cfg.strategies[0].nparams, 4); /* and the defaults of qty, allow_short */
	p = ig_config_param(&cfg.strategies[0], "fast");
	assert_non_null(p);
	assert_string_equal(p->value, "5");
	assert_int_equal(p->line, 0); /* now from --set */
	p = ig_config_param(&cfg.strategies[0], "slow");
	assert_non_null(p);
	assert_string_equal(p->value, "20");
}

static void test_override_index_out_of_range(void **state)
{
	(void)state;
	expect_set(strat_yaml, "strategies.3.name", "x",
		   "--set strategies.3.name: index 3 out of range (1 strategies)");
	expect_set(strat_yaml, "strategies.x.name", "x", "--set strategies.x.name: not an index");
	expect_set(strat_yaml, "engine.cpu_workers.16", "1",
		   "--set engine.cpu_workers.16: too many items (max 16)");
	expect_set(strat_yaml, "strategies.0.symbols.2", "X",
		   "--set strategies.0.symbols.2: index 2 out of range (0 symbols)");
}

static void test_override_symbols(void **state)
{
	const struct ig_cfg_override sym[] = { { "feed.symbol", "ETHZAR" } };
	const struct ig_cfg_override add[] = { { "strategies.0.symbols.0", "XBTEUR" },
					       { "strategies.0.symbols.1", "ETHEUR" } };

	(void)state;
	/* A strategy without symbols gets feed.symbol as set after overrides. */
	assert_int_equal(load_ovr(strat_yaml, sym, 1), 0);
	assert_int_equal(cfg.strategies[0].nsymbols, 1);
	assert_string_equal(cfg.strategies[0].symbols[0], "ETHZAR");
	/* Symbols may be appended one past the end. */
	assert_int_equal(load_ovr(strat_yaml, add, 2), 0);
	assert_int_equal(cfg.strategies[0].nsymbols, 2);
	assert_string_equal(cfg.strategies[0].symbols[0], "XBTEUR");
	assert_string_equal(cfg.strategies[0].symbols[1], "ETHEUR");
}

static void test_override_cross_field_names_the_set(void **state)
{
	(void)state;
	expect_set(strat_yaml, "strategies.0.thread", "1",
		   "--set strategies.0.thread: 1 is out of range (engine.strategy_threads is 1)");
}

static void test_override_fixes_missing_source(void **state)
{
	const struct ig_cfg_override o[] = { { "feed.source", "synthetic" } };

	(void)state;
	assert_int_equal(load_ovr("engine: {wait: spin}\n", o, 1), 0);
	assert_int_equal(cfg.feed.source, IG_FEED_SYNTHETIC);
}

/* ---- validate and params ----------------------------------------------- */

static void test_validate_direct(void **state)
{
	(void)state;
	ig_config_defaults(&cfg);
	assert_int_equal(ig_config_validate(&cfg, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "feed.source: missing required key"));
	cfg.feed.source = IG_FEED_SYNTHETIC;
	assert_int_equal(ig_config_validate(&cfg, err, sizeof(err)), 0);
	cfg.engine.ring_size = 3;
	assert_int_equal(ig_config_validate(&cfg, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "engine.ring_size: not a power of two"));
}

/* The ig_param_* helpers parse text on demand; the test plugin "loose"
 * declares every one of these params a string, so the loader lets any text
 * through and the helpers' own checks and messages show. */
static char param_yaml[1024];
static const char param_yaml_tail[] =
	"    params:\n"
	"      fast: 10\n"          /* line 6, value at column 13 */
	"      neg: -3\n"
	"      qty: \"0.01\"\n"
	"      bad: ten\n"          /* line 9 */
	"      big: 9223372036854775808\n"
	"      fine: 0.000000001\n"
	"      on: yes\n"
	"      off: False\n";

/* An absolute path to a test plugin (build/test/plugins/NAME.so). */
static const char *plugin_path(const char *name)
{
	static char buf[4][512];
	static int k;
	char cwd[256];
	char *b = buf[k++ % 4];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(b, 512, "%s/%s/%s.so", cwd, IG_TEST_PLUGIN_DIR, name);
	return b;
}

/* param_yaml: a "loose" entry at line 3, its params from line 6, the
 * plugin key after them. */
static void make_param_yaml(void)
{
	snprintf(param_yaml, sizeof(param_yaml),
		 MIN_FEED "strategies:\n  - name: a\n    type: loose\n%s    plugin: \"%s\"\n",
		 param_yaml_tail, plugin_path("plug_loose"));
}

static void test_param_i64(void **state)
{
	char want[64];
	int64_t v = 42;

	(void)state;
	make_param_yaml();
	load_ok(param_yaml);
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "fast", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 10);
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "neg", &v, err, sizeof(err)), 0);
	assert_int_equal(v, -3);
	v = 42;
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "absent", &v, err, sizeof(err)),
			 IG_ENOTFOUND);
	assert_int_equal(v, 42);
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "bad", &v, err, sizeof(err)), IG_ECONFIG);
	assert_int_equal(v, 42);
	snprintf(want, sizeof(want), "9:12: strategies.0.params.bad: not an integer: \"ten\"");
	check_prefix(want);
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "big", &v, err, sizeof(err)), IG_ECONFIG);
	check_prefix("10:12: strategies.0.params.big: out of range: \"9223372036854775808\"");
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "qty", &v, err, sizeof(err)), IG_ECONFIG);
	check_prefix("8:12: strategies.0.params.qty: not an integer: \"0.01\"");
}

static void test_param_fixed(void **state)
{
	int64_t v = 0;

	(void)state;
	make_param_yaml();
	load_ok(param_yaml);
	assert_int_equal(ig_param_fixed(&cfg.strategies[0], "qty", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(ig_param_fixed(&cfg.strategies[0], "fast", &v, err, sizeof(err)), 0);
	assert_true(v == IG_FIXED(10));
	assert_int_equal(ig_param_fixed(&cfg.strategies[0], "bad", &v, err, sizeof(err)), IG_ECONFIG);
	check_prefix("9:12: strategies.0.params.bad: not a decimal: \"ten\"");
	assert_int_equal(ig_param_fixed(&cfg.strategies[0], "fine", &v, err, sizeof(err)), IG_ECONFIG);
	check_prefix("11:13: strategies.0.params.fine: too many decimals: \"0.000000001\"");
	assert_int_equal(ig_param_fixed(&cfg.strategies[0], "nope", &v, err, sizeof(err)),
			 IG_ENOTFOUND);
}

static void test_param_bool(void **state)
{
	bool b = false;

	(void)state;
	make_param_yaml();
	load_ok(param_yaml);
	assert_int_equal(ig_param_bool(&cfg.strategies[0], "on", &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(ig_param_bool(&cfg.strategies[0], "off", &b, err, sizeof(err)), 0);
	assert_false(b);
	assert_int_equal(ig_param_bool(&cfg.strategies[0], "fast", &b, err, sizeof(err)), IG_ECONFIG);
	check_prefix("6:13: strategies.0.params.fast: not a boolean: \"10\"");
	assert_int_equal(ig_param_bool(&cfg.strategies[0], "nope", &b, err, sizeof(err)),
			 IG_ENOTFOUND);
}

/* A declared param from --set is checked at load, like one from the file
 * (it used to pass the load and fail only in the strategy's init). */
static void test_param_from_override(void **state)
{
	(void)state;
	expect_set(strat_yaml, "strategies.0.params.fast", "x",
		   "--set strategies.0.params.fast: not an integer: \"x\" (the param is an integer)");
	expect_set(strat_yaml, "strategies.0.params.fast", "0",
		   "--set strategies.0.params.fast: out of range: \"0\" (must be 1..4096)");
	expect_set(strat_yaml, "strategies.0.params.fastt", "3",
		   "--set strategies.0.params.fastt: unknown param for type \"sma_cross\" (known: fast, "
		   "slow, qty, allow_short)");
}

/* ---- declared params (test plugins plug_strict, plug_bare) ------------- */

/* A strict entry: plugin at line 4 col 5, params from line 6. */
static char strict_yaml[2048];

static void make_strict(const char *params)
{
	snprintf(strict_yaml, sizeof(strict_yaml),
		 MIN_FEED "strategies:\n  - name: s\n    plugin: \"%s\"\n    type: strict\n%s",
		 plugin_path("plug_strict"), params);
}

static void test_declared_params_refused(void **state)
{
	(void)state;
	make_strict("    params:\n      level: 2\n      speed: 3\n");
	expect_at(strict_yaml, 8, 14, "strategies.0.params.speed: unknown param for type \"strict\" "
		  "(known: level, mode, ratio, flag, label)");
	make_strict("    params:\n      level: two\n");
	expect_at(strict_yaml, 7, 14, "strategies.0.params.level: not an integer: \"two\"");
	make_strict("    params:\n      level: 6\n");
	expect_at(strict_yaml, 7, 14, "strategies.0.params.level: out of range: \"6\" (must be 1..5)");
	make_strict("    params: {level: 1, ratio: \"1.5\"}\n");
	expect_at(strict_yaml, 6, 31, "strategies.0.params.ratio: out of range: \"1.5\" (must be 0..1)");
	make_strict("    params: {level: 1, ratio: \"0.123456789\"}\n");
	expect_at(strict_yaml, 6, 31, "strategies.0.params.ratio: too many decimals");
	make_strict("    params:\n      level: 1\n      mode: medium\n");
	expect_at(strict_yaml, 8, 13, "strategies.0.params.mode: unknown value \"medium\" (expected fast|slow|auto)");
	make_strict("    params:\n      level: 1\n      flag: maybe\n");
	expect_at(strict_yaml, 8, 13, "strategies.0.params.flag: not a boolean: \"maybe\"");
	/* A missing required param: at the params key, else the entry. */
	make_strict("    params:\n      mode: fast\n");
	expect_at(strict_yaml, 6, 5, "strategies.0.params.level: missing required param: required, 1..5");
	make_strict("");
	expect_at(strict_yaml, 3, 5, "strategies.0.params.level: missing required param");
	/* A type without params takes none. */
	snprintf(strict_yaml, sizeof(strict_yaml),
		 MIN_FEED "strategies:\n  - name: b\n    type: bare\n    plugin: \"%s\"\n    params: {x: 1}\n",
		 plugin_path("plug_bare"));
	expect_at(strict_yaml, 6, 17, "strategies.0.params.x: unknown param: type \"bare\" takes no params");
	/* Built-ins declare theirs too. */
	expect_at(MIN_FEED "strategies:\n  - {name: m, type: maker, params: {offset_bps: -1}}\n", 3, 49,
		  "strategies.0.params.offset_bps: out of range: \"-1\" (must be 0..10000)");
}

/* New values while running (the params control): checked by the
 * loader's rules, turned into declaration indexes and values. */
static void test_params_change(void **state)
{
	struct ig_params_change pc;
	const char *k[IG_PARAMS_MAX + 1], *v[IG_PARAMS_MAX + 1];
	(void)state;
	assert_int_equal(load(MIN_FEED "strategies:\n  - {name: s, type: sma_cross, params: {fast: 3, slow: 9}}\n"
			      "  - {name: m, type: maker}\n"),
			 0);
	k[0] = "qty", v[0] = "0.25";
	k[1] = "slow", v[1] = "40";
	k[2] = "allow_short", v[2] = "yes";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 3, &pc, err, sizeof(err)), 0);
	assert_int_equal(pc.cmd, IG_CTL_PARAMS);
	assert_int_equal(pc.n, 3);
	assert_int_equal(pc.index[0], 2);
	assert_int_equal(pc.value[0], 25000000);
	assert_int_equal(pc.index[1], 1);
	assert_int_equal(pc.value[1], 40);
	assert_int_equal(pc.index[2], 3);
	assert_int_equal(pc.value[2], 1);
	/* Refusals, each naming the key. */
	k[0] = "fast", v[0] = "0";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 1, &pc, err, sizeof(err)),
			 IG_ECONFIG);
	assert_string_equal(err, "params.fast: out of range: \"0\" (must be 1..4096)");
	k[0] = "qty", v[0] = "0.123456789";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 1, &pc, err, sizeof(err)),
			 IG_ECONFIG);
	assert_non_null(strstr(err, "params.qty: too many decimals"));
	k[0] = "speed", v[0] = "1";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 1, &pc, err, sizeof(err)),
			 IG_ECONFIG);
	assert_string_equal(err, "params.speed: not a param of type sma_cross");
	k[0] = "fast", v[0] = "4";
	k[1] = "fast", v[1] = "5";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 2, &pc, err, sizeof(err)),
			 IG_ELIMIT);
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, 0, &pc, err, sizeof(err)),
			 IG_ELIMIT);
	for (int i = 0; i <= IG_PARAMS_MAX; i++)
		k[i] = "fast", v[i] = "4";
	assert_int_equal(ig_config_params_change(&cfg.strategies[0], k, v, IG_PARAMS_MAX + 1, &pc,
						 err, sizeof(err)),
			 IG_ELIMIT);
	/* maker has no on_params: no live changes at all. */
	k[0] = "offset_bps", v[0] = "5";
	assert_int_equal(ig_config_params_change(&cfg.strategies[1], k, v, 1, &pc, err, sizeof(err)),
			 IG_ESTATE);
	assert_non_null(strstr(err, "maker takes no param changes while running"));
}

static void test_declared_params_set_checked(void **state)
{
	(void)state;
	make_strict("    params: {level: 1}\n");
	expect_set(strict_yaml, "strategies.0.params.mode", "medium",
		   "--set strategies.0.params.mode: unknown value \"medium\" (expected fast|slow|auto)");
	expect_set(strict_yaml, "strategies.0.params.level", "0",
		   "--set strategies.0.params.level: out of range: \"0\" (must be 1..5)");
	expect_set(strict_yaml, "strategies.0.params.lvl", "1",
		   "--set strategies.0.params.lvl: unknown param for type \"strict\"");
	/* --set may also supply the required one. */
	{
		const struct ig_cfg_override o = { "strategies.0.params.level", "4" };
		int64_t v = 0;
		make_strict("");
		assert_int_equal(load_ovr(strict_yaml, &o, 1), 0);
		assert_int_equal(ig_param_i64(&cfg.strategies[0], "level", &v, err, sizeof(err)), 0);
		assert_int_equal(v, 4);
	}
}

/* Defaults are filled in, so ig_param_* return them; enum and string
 * params read with ig_param_enum / ig_param_str. */
static void test_declared_defaults_applied(void **state)
{
	const struct ig_cfg_strategy *s;
	char label[8], tiny[2];
	int64_t v = 0;
	bool b = false;
	int e = -1;

	(void)state;
	make_strict("    params: {level: 3, mode: auto}\n");
	load_ok(strict_yaml);
	s = &cfg.strategies[0];
	assert_int_equal(s->nparams, 5);
	assert_false(ig_config_param(s, "level")->is_default);
	assert_true(ig_config_param(s, "ratio")->is_default);
	assert_int_equal(ig_param_fixed(s, "ratio", &v, err, sizeof(err)), 0);
	assert_int_equal(v, IG_FIXED(1) / 2);
	assert_int_equal(ig_param_bool(s, "flag", &b, err, sizeof(err)), 0);
	assert_true(b);
	assert_int_equal(ig_param_enum(s, "mode", &e, err, sizeof(err)), 0);
	assert_int_equal(e, 2);
	assert_int_equal(ig_param_str(s, "label", label, sizeof(label), err, sizeof(err)), 0);
	assert_string_equal(label, "abc");
	assert_int_equal(ig_param_str(s, "label", tiny, sizeof(tiny), err, sizeof(err)), IG_ERANGE);
	assert_non_null(strstr(err, "strategies.0.params.label: too long for the strategy's buffer"));
	assert_int_equal(ig_param_enum(s, "label", &e, err, sizeof(err)), IG_ECONFIG);
	assert_int_equal(ig_param_enum(s, "nope", &e, err, sizeof(err)), IG_ENOTFOUND);
	/* The default mode is slow (index 1). */
	make_strict("    params: {level: 3}\n");
	load_ok(strict_yaml);
	assert_int_equal(ig_param_enum(&cfg.strategies[0], "mode", &e, err, sizeof(err)), 0);
	assert_int_equal(e, 1);
	/* Built-ins: sma_cross's defaults. */
	load_ok(MIN_FEED "strategies:\n  - {name: a, type: sma_cross}\n");
	assert_int_equal(ig_param_i64(&cfg.strategies[0], "slow", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 30);
}

/* A live venue needs the journal (its client ids count runs, recovery
 * reconciles from it) and a live clock: refused otherwise. */
static void test_live_venue_needs_journal(void **state)
{
	(void)state;
	expect_at(MIN_FEED "venue: {kind: luno}\n", 1, 1,
		  "journal.enabled: venue.kind luno trades real money and needs the journal");
	expect_at("feed: {source: csv, path: x.csv}\nengine: {threading: inline}\n"
		  "venue: {kind: luno}\njournal: {enabled: true}\n",
		  1, 1, "engine.threading: venue.kind luno cannot run inline");
	assert_int_equal(load(MIN_FEED "venue: {kind: luno}\njournal: {enabled: true}\n"), 0);
}

/* ---- api ----------------------------------------------------------------- */

static void test_api_section(void **state)
{
	(void)state;
	/* Off by default, defaults named once. */
	load_ok(MIN_FEED);
	assert_string_equal(cfg.api.listen, "");
	assert_string_equal(cfg.api.token_env, IG_CFG_DEFAULT_API_TOKEN_ENV);
	assert_int_equal(cfg.api.publish_ms, IG_CFG_DEFAULT_API_PUBLISH_MS);
	assert_false(cfg.api.allow_plain_remote);

	load_ok(MIN_FEED "api: {listen: 127.0.0.1:8080, token_env: MY_TOKEN, publish_ms: 250}\n");
	assert_string_equal(cfg.api.listen, "127.0.0.1:8080");
	assert_string_equal(cfg.api.token_env, "MY_TOKEN");
	assert_int_equal(cfg.api.publish_ms, 250);
	load_ok(MIN_FEED "api: {listen: \"[::1]:0\"}\n");

	/* A non-loopback address needs TLS, or plain remote access by name. */
	expect_at(MIN_FEED "api: {listen: 0.0.0.0:8080}\n", 1, 1,
		  "api.listen: \"0.0.0.0:8080\" is not a loopback address: set api.tls_cert");
	load_ok(MIN_FEED "api: {listen: 0.0.0.0:8080, allow_plain_remote: true}\n");
	load_ok(MIN_FEED "api: {listen: 10.0.0.1:8080, tls_cert: c.pem, tls_key: k.pem}\n");
	expect_at(MIN_FEED "api: {listen: 127.0.0.1:8080, tls_cert: c.pem}\n", 1, 1,
		  "api.tls_key: api.tls_cert and api.tls_key go together");

	/* Malformed addresses. */
	expect_at(MIN_FEED "api: {listen: localhost:8080}\n", 2, 15,
		  "api.listen: not a numeric IPv4 address");
	expect_at(MIN_FEED "api: {listen: 127.0.0.1}\n", 2, 15,
		  "api.listen: expected ADDR:PORT");
	expect_at(MIN_FEED "api: {listen: 127.0.0.1:99999}\n", 2, 15,
		  "api.listen: the port is not a number");
	expect_at(MIN_FEED "api: {publish_ms: 0}\n", 2, 19, "api.publish_ms: out of range");
	expect_set(MIN_FEED, "api.listen", "1.2.3.4",
		   "--set api.listen: expected ADDR:PORT");
}

/* ---- store ---------------------------------------------------------------- */

static void test_store_section(void **state)
{
	char want[32];
	const char *base;
	(void)state;
	/* Defaults named once; kind unset means sqlite for run, off for backtest. */
	load_ok(MIN_FEED);
	assert_int_equal(cfg.store.kind, IG_STORE_AUTO);
	assert_int_equal(ig_config_store_kind(&cfg, true), IG_STORE_SQLITE);
	assert_int_equal(ig_config_store_kind(&cfg, false), IG_STORE_OFF);
	assert_string_equal(cfg.store.path, IG_CFG_DEFAULT_STORE_PATH);
	assert_string_equal(cfg.store.url_env, IG_CFG_DEFAULT_STORE_URL_ENV);
	assert_int_equal(cfg.store.equity_every_s, IG_CFG_DEFAULT_STORE_EQUITY_EVERY_S);
	/* daemon_id: the file's base name without its extension. */
	base = strrchr(tmp_path, '/') + 1;
	snprintf(want, sizeof(want), "%.*s", (int)(strlen(base) - 5), base);
	assert_string_equal(cfg.store.daemon_id, want);

	load_ok(MIN_FEED "store: {kind: off, path: /tmp/h.sqlite, url_env: PGX, daemon_id: d1,"
		" equity_every_s: 5}\n");
	assert_int_equal(ig_config_store_kind(&cfg, true), IG_STORE_OFF);
	assert_string_equal(cfg.store.path, "/tmp/h.sqlite");
	assert_string_equal(cfg.store.url_env, "PGX");
	assert_string_equal(cfg.store.daemon_id, "d1");
	assert_int_equal(cfg.store.equity_every_s, 5);
	load_ok(MIN_FEED "store: {kind: sqlite}\n");
	assert_int_equal(ig_config_store_kind(&cfg, false), IG_STORE_SQLITE);
	load_ok(MIN_FEED "store: {kind: postgres}\n");
	assert_int_equal(ig_config_store_kind(&cfg, true), IG_STORE_POSTGRES);

	/* The URL itself has no key: only the variable's name. */
	expect_at(MIN_FEED "store:\n  url: postgres://u:p@h/db\n", 3, 3, "store.url: unknown key");
	expect_at(MIN_FEED "store: {kind: mysql}\n", 2, 15, "store.kind:");
	expect_at(MIN_FEED "store: {equity_every_s: -1}\n", 2, 25, "store.equity_every_s: out of range");
	expect_set(MIN_FEED, "store.bogus", "1", "--set store.bogus: unknown key");
}

static void test_venue_user_stream(void **state)
{
	(void)state;
	/* Off by default; the stream base from base_url unless stream_url. */
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {kind: paper}\n"), 0);
	assert_false(cfg.venue.user_stream);
	assert_string_equal(cfg.venue.stream_url, "");
	assert_int_equal(cfg.venue.stream_timeout_ms, IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS);
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {user_stream: true, stream_url: \"wss://ws.luno.com\", "
			      "stream_timeout_ms: 20000}\n"),
			 0);
	assert_true(cfg.venue.user_stream);
	assert_string_equal(cfg.venue.stream_url, "wss://ws.luno.com");
	assert_int_equal(cfg.venue.stream_timeout_ms, 20000);
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {user_stream: maybe}\n"), IG_ECONFIG);
	assert_non_null(strstr(err, "user_stream"));
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {stream_url: \"https://ws.luno.com\"}\n"), IG_ECONFIG);
	assert_non_null(strstr(err, "ws:// or wss://"));
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {stream_url: \"wss://k:s@ws.luno.com\"}\n"), IG_ECONFIG);
	assert_int_equal(load("feed: {source: synthetic}\nvenue: {stream_timeout_ms: 10}\n"), IG_ECONFIG);
}

/* feed.symbols for a Luno feed (issue 15, several pairs): its pairs in
 * instrument order; feed.symbol still works; a strategy's pairs must be
 * among them; clear errors with file:line:col. */
static void test_luno_symbols(void **state)
{
	char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	(void)state;

	assert_int_equal(load("feed:\n  source: luno\n  symbols: [XBTZAR, ETHZAR]\nvenue: {kind: paper}\n"
			      "strategies:\n  - {name: a, type: sma_cross, symbols: [ETHZAR]}\n"
			      "  - {name: b, type: sma_cross}\n"),
			 0);
	assert_int_equal(cfg.feed.nsymbols, 2);
	assert_int_equal(ig_feed_symbols(&cfg, names), 2);
	assert_string_equal(names[0], "XBTZAR");
	assert_string_equal(names[1], "ETHZAR");
	assert_string_equal(cfg.strategies[0].symbols[0], "ETHZAR");
	/* No symbols: the feed's first pair. */
	assert_string_equal(cfg.strategies[1].symbols[0], "XBTZAR");
	/* feed.symbol alone: one pair, as before. */
	assert_int_equal(load("feed: {source: luno, symbol: ETHZAR}\nvenue: {kind: paper}\n"), 0);
	assert_int_equal(ig_feed_symbols(&cfg, names), 1);
	assert_string_equal(names[0], "ETHZAR");
	/* A strategy's pair the feed does not carry. */
	expect_at("feed:\n  source: luno\n  symbols: [XBTZAR, ETHZAR]\nvenue: {kind: paper}\n"
		  "strategies:\n  - {name: a, type: sma_cross, symbols: [XBTZAR, LTCZAR]}\n",
		  6, 5, "strategies.0.symbols.1: \"LTCZAR\" is not one of the feed's pairs (feed.symbols: XBTZAR, ...)");
	expect_at("feed:\n  source: luno\n  symbol: XBTZAR\nvenue: {kind: paper}\n"
		  "strategies:\n  - {name: a, type: sma_cross, symbols: [ETHZAR]}\n",
		  6, 5, "strategies.0.symbols.0: \"ETHZAR\" is not one of the feed's pairs (feed.symbol: XBTZAR)");
	/* Not a pair name; a duplicate; a source with one symbol. */
	expect_at("feed:\n  source: luno\n  symbols: [XBTZAR, eth-zar]\nvenue: {kind: paper}\n", 2, 3,
		  "feed.symbols: \"eth-zar\" is not a Luno pair name");
	expect_at("feed:\n  source: luno\n  symbols: [XBTZAR, XBTZAR]\nvenue: {kind: paper}\n", 2, 3,
		  "feed.symbols: duplicate symbol \"XBTZAR\"");
	expect_at("feed:\n  source: synthetic\n  symbols: [AAA, BBB]\n", 2, 3,
		  "feed.symbols: only for feed.source csv");
	/* One venue scale cannot fit two pairs on the Luno venue. */
	expect_at("feed:\n  source: luno\n  symbols: [XBTZAR, ETHZAR]\nvenue: {kind: luno, price_scale: 2}\n",
		  1, 1, "venue.price_scale: one scale for several pairs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_venue_user_stream),
		cmocka_unit_test(test_luno_symbols),
		cmocka_unit_test(test_api_section),
		cmocka_unit_test(test_store_section),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_empty_sections_ok),
		cmocka_unit_test(test_unknown_top_level_key),
		cmocka_unit_test(test_unknown_nested_key),
		cmocka_unit_test(test_unknown_strategy_keys),
		cmocka_unit_test(test_wrong_type_sequence_for_scalar),
		cmocka_unit_test(test_wrong_type_scalar_for_mapping),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_bad_int),
		cmocka_unit_test(test_bad_decimal),
		cmocka_unit_test(test_too_many_decimals),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_bad_bool),
		cmocka_unit_test(test_venue_fill_keys),
		cmocka_unit_test(test_ring_size_not_power_of_two),
		cmocka_unit_test(test_string_too_long),
		cmocka_unit_test(test_too_many_symbols),
		cmocka_unit_test(test_too_many_params),
		cmocka_unit_test(test_too_many_strategies),
		cmocka_unit_test(test_missing_feed_source),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_csv_needs_path),
		cmocka_unit_test(test_missing_strategy_name_and_type),
		cmocka_unit_test(test_duplicate_strategy_name),
		cmocka_unit_test(test_strategy_thread_out_of_range),
		cmocka_unit_test(test_duplicate_symbol),
		cmocka_unit_test(test_yaml_syntax_error),
		cmocka_unit_test(test_bad_utf8_position),
		cmocka_unit_test(test_two_documents),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_directory_is_io_error),
		cmocka_unit_test(test_override_values),
		cmocka_unit_test(test_override_bad_value),
		cmocka_unit_test(test_override_unknown_key),
		cmocka_unit_test(test_override_params),
		cmocka_unit_test(test_declared_params_refused),
		cmocka_unit_test(test_declared_params_set_checked),
		cmocka_unit_test(test_params_change),
		cmocka_unit_test(test_declared_defaults_applied),
		cmocka_unit_test(test_override_index_out_of_range),
		cmocka_unit_test(test_override_symbols),
		cmocka_unit_test(test_override_cross_field_names_the_set),
		cmocka_unit_test(test_override_fixes_missing_source),
		cmocka_unit_test(test_validate_direct),
		cmocka_unit_test(test_live_venue_needs_journal),
		cmocka_unit_test(test_param_i64),
		cmocka_unit_test(test_param_fixed),
		cmocka_unit_test(test_param_bool),
		cmocka_unit_test(test_param_from_override),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
