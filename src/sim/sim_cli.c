/*
 * sim_cli.c - `ingenium exchange-sim`: parses the flags of sim.h, starts the
 * server, prints "exchange-sim listening on HOST:PORT" (flushed) once it
 * accepts connections, and on SIGTERM/SIGINT stops it, writes --state and
 * exits 0.
 *
 * Signals are blocked before any thread starts (so every thread inherits
 * the mask) and taken synchronously with sigwait() on the main thread.
 */
#include "sim/sim.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ingenium exchange-sim [--listen 127.0.0.1:PORT] [options]\n"
		"\n"
		"A Luno-compatible exchange on loopback (PORT 0 picks a free port).\n"
		"\n"
		"  --listen HOST:PORT          default 127.0.0.1:0; loopback only unless --allow-remote\n"
		"  --key-id ID --key-secret S  API credentials (default $LUNO_API_KEY_ID and\n"
		"                              $LUNO_API_KEY_SECRET; required)\n"
		"  --seed N                    seed of the synthetic flow and of faults (default 1)\n"
		"  --state FILE                write the user's final state as JSON on exit\n"
		"  --pair XBTZAR               the market (default XBTZAR); several: XBTZAR,ETHZAR\n"
		"                              or --pair again (each its own book, flow, stream)\n"
		"  --start-price DEC           initial mid (default 1000000)\n"
		"  --price-scale N             price decimals (default 0)\n"
		"  --volume-scale N            volume decimals (default 6)\n"
		"  --min-volume DEC            default 0.0005\n"
		"  --max-volume DEC            default 100\n"
		"  --balance ASSET=DEC         the user's opening balance (repeatable; default\n"
		"                              1 base and start-price counter)\n"
		"  --maker-fee-bps N           default 0\n"
		"  --taker-fee-bps N           default 10\n"
		"  --fee-in-counter            both sides pay fees in counter (default: like Luno,\n"
		"                              a buyer pays its fee in base, a seller in counter)\n"
		"  --rate-limit N              calls per minute, 429 beyond (default 300; 0 = off)\n"
		"  --fail-rate P               answer 500/503 on a fraction P of requests, half\n"
		"                              before and half after processing\n"
		"  --fail-path PATH            answer 500/503 to every request to PATH (e.g.\n"
		"                              /api/1/stoporder), unprocessed\n"
		"  --latency-ms N              delay every answer\n"
		"  --timeout-after-accept P    hold a fraction P of accepted orders' answers\n"
		"  --accept-delay-ms N         ... for this long (default 15000)\n"
		"  --flow-ms N                 synthetic order flow period (default 50; 0 = off)\n"
		"  --request-log FILE          append one JSON line per HTTP request:\n"
		"                              {\"method\",\"path\",\"status\",\"ms\",\"t_ns\"}\n"
		"                              (t_ns: arrival, CLOCK_MONOTONIC; ms: to the answer)\n"
		"  --log-flow                  also log each flow tick there (method FLOW)\n"
		"  --ws-gap-every N            market stream fault: skip one sequence number every\n"
		"                              N market messages (0 = off)\n"
		"  --ws-drop-every-s S         stream fault: close every stream every S seconds\n"
		"                              (close code 1001; 0 = off)\n"
		"  --ws-keepalive-ms N         stream keep-alive (\"\") period (default 5000)\n"
		"  --allow-remote              allow a non-loopback --listen address\n"
		"  --quiet                     no libmicrohttpd error log\n"
		"\n"
		"Streams (Luno's Streaming API, websockets on the same host:port as REST):\n"
		"  GET /api/1/stream/PAIR    the market: snapshot, then one message per book change\n"
		"  GET /api/1/userstream     the user's order_status, order_fill, balance_update\n"
		"  The first client message is {\"api_key_id\": ..., \"api_key_secret\": ...};\n"
		"  wrong credentials close the stream with 1008 (policy violation).\n"
		"\n"
		"Besides Luno's API, one control for tests and demos (authenticated):\n"
		"  POST /sim/take side=SELL|BUY volume=DEC   the synthetic taker trades that much now\n"
		"                                            (fills resting user orders at the top)\n");
}

static bool parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return false;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return false;
	*out = (uint64_t)x;
	return true;
}

static bool parse_prob(const char *v, double *out)
{
	char *end;
	double x;

	if (v == NULL || v[0] == '\0')
		return false;
	errno = 0;
	x = strtod(v, &end);
	if (errno != 0 || *end != '\0' || !(x >= 0 && x <= 1))
		return false;
	*out = x;
	return true;
}

static bool parse_listen(const char *v, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = v != NULL ? strrchr(v, ':') : NULL;
	uint64_t p;

	if (colon == NULL || colon == v || (size_t)(colon - v) >= hostlen ||
	    !parse_u64(colon + 1, 65535, &p))
		return false;
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	*port = (uint16_t)p;
	return true;
}

static int bad_value(const char *opt, const char *v)
{
	fprintf(stderr, "exchange-sim: %s %s: invalid value\n", opt, v != NULL ? v : "(missing)");
	return 2;
}

int ig_exchange_sim_main(int argc, char **argv)
{
	static char host[64] = "127.0.0.1";
	static char pairs[IG_SIM_MAX_PAIRS * 17];
	size_t npairs_len = 0;
	struct ig_sim_cfg cfg;
	struct ig_sim_server *srv;
	struct ig_sim_stats st;
	char err[IG_SIM_ERR_MAX];
	sigset_t set;
	uint16_t port = 0;
	uint64_t u;
	int sig = 0, rc;

	ig_sim_cfg_defaults(&cfg);
	cfg.host = host;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(o, "--allow-remote") == 0) {
			cfg.allow_remote = true;
			takes = false;
		} else if (strcmp(o, "--quiet") == 0) {
			cfg.quiet = true;
			takes = false;
		} else if (strcmp(o, "--log-flow") == 0) {
			cfg.log_flow = true;
			takes = false;
		} else if (strcmp(o, "--fee-in-counter") == 0) {
			cfg.fee_in_counter = true;
			takes = false;
		} else if (v == NULL) {
			fprintf(stderr, "exchange-sim: unknown or incomplete option: %s\n", o);
			usage(stderr);
			return 2;
		} else if (strcmp(o, "--listen") == 0) {
			if (!parse_listen(v, host, sizeof(host), &cfg.port))
				return bad_value(o, v);
		} else if (strcmp(o, "--seed") == 0) {
			if (!parse_u64(v, UINT64_MAX, &cfg.seed))
				return bad_value(o, v);
		} else if (strcmp(o, "--state") == 0) {
			cfg.state_path = v;
		} else if (strcmp(o, "--key-id") == 0) {
			cfg.key_id = v;
		} else if (strcmp(o, "--key-secret") == 0) {
			cfg.key_secret = v;
		} else if (strcmp(o, "--pair") == 0) {
			/* Repeated, or a comma-separated list: every pair its own
			 * market. */
			int w = snprintf(pairs + npairs_len, sizeof(pairs) - npairs_len, "%s%s",
					 npairs_len > 0 ? "," : "", v);
			if (w < 0 || (size_t)w >= sizeof(pairs) - npairs_len)
				return bad_value(o, v);
			npairs_len += (size_t)w;
			cfg.pair = pairs;
		} else if (strcmp(o, "--start-price") == 0) {
			if (ig_fixed_parse_cstr(v, &cfg.start_price) != 0 || cfg.start_price <= 0)
				return bad_value(o, v);
		} else if (strcmp(o, "--min-volume") == 0) {
			if (ig_fixed_parse_cstr(v, &cfg.min_volume) != 0 || cfg.min_volume <= 0)
				return bad_value(o, v);
		} else if (strcmp(o, "--max-volume") == 0) {
			if (ig_fixed_parse_cstr(v, &cfg.max_volume) != 0 || cfg.max_volume <= 0)
				return bad_value(o, v);
		} else if (strcmp(o, "--price-scale") == 0 || strcmp(o, "--volume-scale") == 0) {
			if (!parse_u64(v, 8, &u))
				return bad_value(o, v);
			if (o[2] == 'p')
				cfg.price_scale = (int)u;
			else
				cfg.volume_scale = (int)u;
		} else if (strcmp(o, "--balance") == 0) {
			const char *eq = strchr(v, '=');
			struct ig_sim_balance *b = &cfg.balances[cfg.nbalances];
			if (cfg.nbalances == IG_SIM_MAX_BALANCES) {
				fprintf(stderr, "exchange-sim: too many --balance options (max %d)\n",
					IG_SIM_MAX_BALANCES);
				return 2;
			}
			if (eq == NULL || eq == v || (size_t)(eq - v) >= sizeof(b->asset) ||
			    ig_fixed_parse_cstr(eq + 1, &b->amount) != 0 || b->amount < 0)
				return bad_value(o, v);
			memcpy(b->asset, v, (size_t)(eq - v));
			b->asset[eq - v] = '\0';
			cfg.nbalances++;
		} else if (strcmp(o, "--maker-fee-bps") == 0 || strcmp(o, "--taker-fee-bps") == 0) {
			if (!parse_u64(v, 10000, &u))
				return bad_value(o, v);
			if (o[2] == 'm')
				cfg.maker_fee_bps = (int64_t)u;
			else
				cfg.taker_fee_bps = (int64_t)u;
		} else if (strcmp(o, "--request-log") == 0) {
			cfg.request_log = v;
		} else if (strcmp(o, "--ws-gap-every") == 0 || strcmp(o, "--ws-drop-every-s") == 0 ||
			   strcmp(o, "--ws-keepalive-ms") == 0) {
			if (!parse_u64(v, 3600000, &u) || (o[5] == 'k' && u == 0))
				return bad_value(o, v);
			if (o[5] == 'g')
				cfg.ws_gap_every = (uint32_t)u;
			else if (o[5] == 'd')
				cfg.ws_drop_every_s = (uint32_t)u;
			else
				cfg.ws_keepalive_ms = (uint32_t)u;
		} else if (strcmp(o, "--rate-limit") == 0) {
			if (!parse_u64(v, 1000000, &u))
				return bad_value(o, v);
			cfg.rate_limit = (uint32_t)u;
		} else if (strcmp(o, "--fail-rate") == 0) {
			if (!parse_prob(v, &cfg.fail_rate))
				return bad_value(o, v);
		} else if (strcmp(o, "--fail-path") == 0) {
			if (v[0] != '/')
				return bad_value(o, v);
			cfg.fail_path = v;
		} else if (strcmp(o, "--timeout-after-accept") == 0) {
			if (!parse_prob(v, &cfg.timeout_after_accept))
				return bad_value(o, v);
		} else if (strcmp(o, "--latency-ms") == 0 || strcmp(o, "--accept-delay-ms") == 0 ||
			   strcmp(o, "--flow-ms") == 0) {
			if (!parse_u64(v, 3600000, &u))
				return bad_value(o, v);
			if (o[2] == 'l')
				cfg.latency_ms = (uint32_t)u;
			else if (o[2] == 'a')
				cfg.accept_delay_ms = (uint32_t)u;
			else
				cfg.flow_ms = (uint32_t)u;
		} else {
			fprintf(stderr, "exchange-sim: unknown option: %s\n", o);
			usage(stderr);
			return 2;
		}
		if (takes)
			i++;
	}
	if (cfg.key_id == NULL)
		cfg.key_id = getenv("LUNO_API_KEY_ID");
	if (cfg.key_secret == NULL)
		cfg.key_secret = getenv("LUNO_API_KEY_SECRET");
	if (cfg.key_id == NULL || cfg.key_id[0] == '\0') {
		fprintf(stderr, "exchange-sim: no API key id: pass --key-id or set LUNO_API_KEY_ID\n");
		return 2;
	}
	if (cfg.key_secret == NULL || cfg.key_secret[0] == '\0') {
		fprintf(stderr,
			"exchange-sim: no API key secret: pass --key-secret or set LUNO_API_KEY_SECRET\n");
		return 2;
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = ig_sim_server_start(&cfg, &srv, &port, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "exchange-sim: %s\n", err);
		return rc == IG_ECONFIG || rc == IG_EINVAL ? 2 : 1;
	}
	printf("exchange-sim listening on %s:%u\n", strcmp(host, "localhost") == 0 ? "127.0.0.1" : host,
	       (unsigned)port);
	fflush(stdout);
	fprintf(stderr, "exchange-sim: %s, seed %llu, fees %lld/%lld bps, rate limit %u/min, "
			"fail rate %g, timeout-after-accept %g\n",
		cfg.pair, (unsigned long long)cfg.seed, (long long)cfg.maker_fee_bps,
		(long long)cfg.taker_fee_bps, cfg.rate_limit, cfg.fail_rate,
		cfg.timeout_after_accept);

	while (sigwait(&set, &sig) != 0)
		;
	ig_sim_server_stats(srv, &st);
	rc = ig_sim_server_stop(srv);
	fprintf(stderr,
		"exchange-sim: %s: %llu requests, %llu faults injected (%llu after processing), "
		"%llu rate limited, %llu duplicates refused, %llu answers held, %llu user orders, "
		"%llu user trades\n",
		sig == SIGINT ? "SIGINT" : "SIGTERM", (unsigned long long)st.requests,
		(unsigned long long)st.faults_injected, (unsigned long long)st.faults_after,
		(unsigned long long)st.rate_limited, (unsigned long long)st.duplicates_refused,
		(unsigned long long)st.held_replies, (unsigned long long)st.user_orders,
		(unsigned long long)st.user_trades);
	if (rc != 0) {
		fprintf(stderr, "exchange-sim: cannot write %s: %s\n", cfg.state_path,
			ig_strerror(rc));
		return 1;
	}
	return 0;
}
