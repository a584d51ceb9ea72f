/*
 * test_luno_pairs.c - several pairs at once (issue 15): the daemon with
 * feed.symbols [XBTZAR, ETHZAR] against exchange-sim --pair XBTZAR,ETHZAR
 * over real HTTP and websockets on loopback, with the market stream (one
 * connection per pair) and the user stream on. Strategies each trade one
 * pair. Checks:
 *   - quotes for both instruments arrive: each pair's market stream
 *     connects and takes its snapshot (the daemon's log), and strategies on
 *     both pairs trade;
 *   - orders on both pairs fill at the sim;
 *   - the books equal the sim's balances exactly: the XBT strategies'
 *     positions the XBT change, the ETH strategies' the ETH change, the
 *     cash of all of them the ZAR change, fees and fills the sim's;
 *   - no client_order_id twice, the secret in no output.
 * Both processes are always stopped (SIGTERM; it_teardown when a check
 * fails).
 */
#include "itest.h"
#include "ingenium/fixed.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANARY_SECRET "canary-Pa1rs-secret-never-logged"
#define CANARY_KEY "canary-pairs-key-15"


/* The config: two pairs, market and user streams, a maker and an
 * sma_cross on each pair. Returns nothing; fails the test on error. */
static void write_config(const char *path, int port, const char *journal)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"engine: {threading: dedicated, wait: adaptive, strategy_threads: 1}\n"
		"feed:\n"
		"  source: luno\n"
		"  luno_endpoint: stream\n"
		"  heartbeat_ms: 250\n"
		"  symbols: [XBTZAR, ETHZAR]\n"
		"venue:\n"
		"  kind: luno\n"
		"  base_url: http://127.0.0.1:%d\n"
		"  user_stream: true\n"
		"  maker_fee_bps: 0\n"
		"  taker_fee_bps: 10\n"
		"  connect_timeout_ms: 3000\n"
		"  timeout_ms: 10000\n"
		"  status_ms: 250\n"
		"risk:\n"
		"  max_order_qty: \"0.01\"\n"
		"  max_order_notional: \"20000\"\n"
		"  max_position_qty: \"0.05\"\n"
		"  max_open_orders: 8\n"
		"  max_orders_per_sec: 4\n"
		"  price_collar_bps: 300\n"
		"  stale_data_ms: 10000\n"
		"strategies:\n"
		"  - {name: sma_xbt, type: sma_cross, symbols: [XBTZAR], capital: \"1000000\",\n"
		"     params: {fast: 2, slow: 4, qty: \"0.001\"}}\n"
		"  - {name: sma_eth, type: sma_cross, symbols: [ETHZAR], capital: \"1000000\",\n"
		"     params: {fast: 2, slow: 4, qty: \"0.001\"}}\n"
		"  - {name: maker_xbt, type: maker, symbols: [XBTZAR], capital: \"100000\",\n"
		"     params: {qty: \"0.001\", offset_bps: 0, requote_bps: 2, max_position: \"0.003\"}}\n"
		"  - {name: maker_eth, type: maker, symbols: [ETHZAR], capital: \"100000\",\n"
		"     params: {qty: \"0.001\", offset_bps: 0, requote_bps: 2, max_position: \"0.003\"}}\n"
		"journal: {enabled: true, path: \"%s\", sync: order, recover: auto, on_mismatch: halt}\n",
		port, journal);
	assert_int_equal(fclose(f), 0);
}

/* The sim's trades of pair: how many, and its fees in counter (a base
 * fee valued at the trade's price). */
static size_t sim_trades_of(json_t *st, const char *pair, int64_t *fees)
{
	json_t *t;
	size_t i, n = 0;

	json_array_foreach(json_object_get(st, "trades"), i, t) {
		int64_t q = 0;
		if (strcmp(json_string_value(json_object_get(t, "pair")), pair) != 0)
			continue;
		n++;
		assert_int_equal(ig_fixed_mul(it_money(t, "fee_base"), it_money(t, "price"), &q), 0);
		*fees += it_money(t, "fee_counter") + q;
	}
	return n;
}

static void test_two_pairs_streams(void **state)
{
	char sim_out[300], run_out[300], st_path[300], sum_path[300], cfg_path[300], journal[300];
	const char *sim_argv[16], *run_argv[12];
	json_error_t jerr;
	json_t *st, *sum, *strats, *s, *orders;
	int64_t pos_xbt = 0, pos_eth = 0, dcash = 0, fees = 0, sim_fees = 0;
	json_int_t fills = 0, fills_xbt = 0, fills_eth = 0;
	size_t i, n_xbt, n_eth;
	int n = 0, port;
	(void)state;

	snprintf(sim_out, sizeof(sim_out), "%s/sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/run.out", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/state.json", it_tmpdir);
	snprintf(sum_path, sizeof(sum_path), "%s/summary.json", it_tmpdir);
	snprintf(cfg_path, sizeof(cfg_path), "%s/pairs.yaml", it_tmpdir);
	snprintf(journal, sizeof(journal), "%s/pairs.journal", it_tmpdir);

	sim_argv[n++] = it_bin;
	sim_argv[n++] = "exchange-sim";
	sim_argv[n++] = "--listen";
	sim_argv[n++] = "127.0.0.1:0";
	sim_argv[n++] = "--seed";
	sim_argv[n++] = "11";
	sim_argv[n++] = "--pair";
	sim_argv[n++] = "XBTZAR";
	sim_argv[n++] = "--pair";
	sim_argv[n++] = "ETHZAR";
	sim_argv[n++] = "--state";
	sim_argv[n++] = st_path;
	sim_argv[n] = NULL;
	it_sim_pid = it_spawn(sim_argv, sim_out, false);
	port = it_sim_port(sim_out);
	assert_true(port > 0);
	write_config(cfg_path, port, journal);

	n = 0;
	run_argv[n++] = it_bin;
	run_argv[n++] = "run";
	run_argv[n++] = "-c";
	run_argv[n++] = cfg_path;
	run_argv[n++] = "--summary-json";
	run_argv[n++] = sum_path;
	run_argv[n] = NULL;
	it_run_pid = it_spawn(run_argv, run_out, false);
	it_msleep(10000);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 150000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 150000), 0);

	it_assert_no_secret(run_out);
	it_assert_no_secret(sim_out);
	/* One market stream connection per pair, each with its book. */
	assert_true(it_count(run_out, "luno stream XBTZAR: snapshot") >= 1);
	assert_true(it_count(run_out, "luno stream ETHZAR: snapshot") >= 1);

	/* it_teardown frees them. */
	st = it_json[0] = json_load_file(st_path, 0, &jerr);
	sum = it_json[1] = json_load_file(sum_path, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);
	orders = json_object_get(st, "orders");
	for (i = 0; i < json_array_size(orders); i++) {
		const char *a = json_string_value(json_object_get(json_array_get(orders, i), "client_order_id"));
		for (size_t j = i + 1; a != NULL && a[0] != '\0' && j < json_array_size(orders); j++) {
			const char *b = json_string_value(
				json_object_get(json_array_get(orders, j), "client_order_id"));
			if (b != NULL && strcmp(a, b) == 0)
				fail_msg("client_order_id %s twice at the sim", a);
		}
	}
	/* Orders on both pairs filled at the sim. */
	n_xbt = sim_trades_of(st, "XBTZAR", &sim_fees);
	n_eth = sim_trades_of(st, "ETHZAR", &sim_fees);
	printf("pairs: sim trades XBTZAR=%zu ETHZAR=%zu\n", n_xbt, n_eth);
	assert_true(n_xbt > 0);
	assert_true(n_eth > 0);

	/* The daemon's books, per pair, equal the sim's. */
	strats = json_object_get(sum, "strategies");
	assert_int_equal(json_array_size(strats), 4);
	json_array_foreach(strats, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		bool eth = strstr(name, "_eth") != NULL;
		json_int_t f = json_integer_value(json_object_get(s, "fills"));
		if (eth) {
			pos_eth += it_money(s, "position");
			fills_eth += f;
		} else {
			pos_xbt += it_money(s, "position");
			fills_xbt += f;
		}
		fills += f;
		dcash += it_money(s, "cash") - it_money(s, "capital");
		fees += it_money(s, "fees");
		assert_int_equal(json_integer_value(json_object_get(s, "refused_fills")), 0);
	}
	printf("pairs: daemon fills XBTZAR=%lld ETHZAR=%lld position XBT=%lld ETH=%lld cash_delta=%lld "
	       "fees=%lld (1e-8)\n",
	       (long long)fills_xbt, (long long)fills_eth, (long long)pos_xbt, (long long)pos_eth,
	       (long long)dcash, (long long)fees);
	assert_int_equal(fills_xbt, (json_int_t)n_xbt);
	assert_int_equal(fills_eth, (json_int_t)n_eth);
	assert_int_equal(fills, (json_int_t)(n_xbt + n_eth));
	{
		json_t *ib = json_object_get(st, "initial_balances"), *fb = json_object_get(st, "balances");
		assert_int_equal(pos_xbt, it_money(fb, "XBT") - it_money(ib, "XBT"));
		assert_int_equal(pos_eth, it_money(fb, "ETH") - it_money(ib, "ETH"));
		assert_int_equal(dcash, it_money(fb, "ZAR") - it_money(ib, "ZAR"));
	}
	assert_int_equal(fees, sim_fees);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_two_pairs_streams, it_teardown),
	};
	(void)argc;
	it_key = CANARY_KEY;
	it_secret = CANARY_SECRET;
	return it_main(argv[0], "test_luno_pairs", tests, sizeof(tests) / sizeof(tests[0]));
}
