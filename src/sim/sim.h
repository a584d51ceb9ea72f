/*
 * sim.h - exchange-sim: a Luno-compatible exchange on loopback, so that the
 * daemon can be tested over real HTTP.
 *
 *   ingenium exchange-sim --listen 127.0.0.1:PORT [--seed N] [--state FILE]
 *       [--key-id ID --key-secret S] [--pair XBTZAR] [--start-price 1000000]
 *       [--balance ASSET=DECIMAL]... [--maker-fee-bps 0] [--taker-fee-bps 10]
 *       [--fee-in-counter]
 *       [--rate-limit 300] [--fail-rate P] [--latency-ms N]
 *       [--timeout-after-accept P] [--accept-delay-ms 15000] [--flow-ms 50]
 *       [--min-volume 0.0005] [--price-scale 0] [--volume-scale 6]
 *       [--request-log FILE] [--ws-gap-every N] [--ws-drop-every-s S]
 *       [--ws-keepalive-ms 5000] [--allow-remote] [--quiet]
 *
 * What it is
 * ----------
 * One price-time-priority book per pair (src/sim/book.h; --pair XBTZAR,ETHZAR
 * or --pair repeated for several) over one ledger of
 * four accounts: 0 the exchange's fee account, 1 the user (the API key),
 * 2 a synthetic market maker, 3 a synthetic taker. A background thread
 * (every flow_ms) random-walks a mid price, requotes the market maker's
 * ladder around it and sends occasional market orders (each pair its
 * own walk, seeded from --seed and the pair's place), so the user's
 * resting orders fill, sometimes partially. The flow is seeded; with
 * flow_ms == 0 it only runs when ig_sim_server_flow_step() is called
 * (tests), and the initial ladder is always there.
 *
 * HTTP (libmicrohttpd, a thread per connection, state under one mutex):
 *   public   GET /api/1/ticker?pair=  /api/1/tickers  /api/1/orderbook_top?pair=
 *            /api/1/orderbook?pair=  /api/1/trades?pair=[&since=]
 *            /api/exchange/1/markets
 *   private  (HTTP basic auth, key id / secret; else 401 ErrUnauthorised)
 *            POST /api/1/postorder  /api/1/marketorder  /api/1/stoporder
 *            GET  /api/1/listorders  /api/1/orders/{id}
 *                 /api/exchange/2/orders/{id}  /api/exchange/3/order
 *                 /api/1/listtrades  /api/1/balance  /api/1/fee_info
 *   streams  GET /api/1/stream/{PAIR}  /api/1/userstream  (websockets on this
 *            same port; credentials in the first message; stream.c and
 *            docs/architecture.md "exchange-sim" give the shapes)
 * Errors are {"error": "...", "error_code": "Err..."}: 400, 401, 404
 * (unknown order or route), 409 (duplicate client_order_id), 429 (rate
 * limit), 500 / 503 (injected faults; a 503 body is an HTML page, as a
 * proxy would send).
 *
 * Per request, in this order: count it; the rate limit (one sliding 60 s
 * window for the whole server - it has one key - public calls included;
 * 429 is not processed); latency_ms; a seeded fault draw: with probability
 * fail_rate the answer is 500 or 503, half of those BEFORE processing
 * (nothing happened) and half AFTER (the order exists, the client sees an
 * error); then, for a postorder/marketorder that succeeded, with
 * probability timeout_after_accept the answer is held for accept_delay_ms.
 *
 * Threads: start/stop/stats/write_state/flow_step from any one thread;
 * every call takes the state mutex itself.
 */
#ifndef IG_SIM_SIM_H
#define IG_SIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IG_SIM_MAX_BALANCES 8
#define IG_SIM_MAX_PAIRS 4     /* markets, each with its own book, flow and stream */
#define IG_SIM_ERR_MAX 256

struct ig_sim_balance {
	char asset[8];  /* "XBT" */
	int64_t amount; /* 1e-8 */
};

struct ig_sim_cfg {
	const char *host;            /* listen address; default "127.0.0.1" */
	uint16_t port;               /* 0 = pick a free port */
	bool allow_remote;           /* allow a non-loopback host */
	uint64_t seed;               /* flow and fault draws; default 1 */
	const char *key_id;          /* required */
	const char *key_secret;      /* required */
	const char *state_path;      /* written by ig_sim_server_stop(); NULL = none */
	const char *pair;            /* default "XBTZAR"; several: "XBTZAR,ETHZAR" (at most
				      * IG_SIM_MAX_PAIRS), each its own book, flow and
				      * stream, all at start_price with the same scales */
	int64_t start_price;         /* 1e-8; default 1000000 */
	int price_scale;             /* price decimals; default 0 */
	int volume_scale;            /* volume decimals; default 6 */
	int64_t min_volume;          /* 1e-8; default 0.0005 */
	int64_t max_volume;          /* 1e-8; default 100 */
	struct ig_sim_balance balances[IG_SIM_MAX_BALANCES]; /* the user's; none given:
							      * 1 base, start_price counter */
	uint32_t nbalances;
	int64_t maker_fee_bps;       /* default 0 */
	int64_t taker_fee_bps;       /* default 10 */
	bool fee_in_counter;         /* both sides pay fees in counter; default false:
				      * a buyer pays in base, as on Luno */
	uint32_t rate_limit;         /* calls per minute; default 300; 0 = none */
	double fail_rate;            /* 0..1 */
	const char *fail_path;       /* every request to this path answers 500/503,
				      * unprocessed; NULL = none */
	double timeout_after_accept; /* 0..1 */
	uint32_t latency_ms;
	uint32_t accept_delay_ms;    /* default 15000 */
	uint32_t flow_ms;            /* default 50; 0 = no background flow */
	bool quiet;                  /* no MHD error log on stderr */
	const char *request_log;     /* append one JSON line per HTTP request; NULL = none */
	bool log_flow;               /* also one line per flow tick in request_log (method FLOW) */
	uint32_t ws_gap_every;       /* skip a market stream sequence every N messages; 0 = off */
	uint32_t ws_drop_every_s;    /* close every stream every S seconds; 0 = off */
	uint32_t ws_keepalive_ms;    /* stream keep-alive period; default 5000 */
};

/* Counters since start. */
struct ig_sim_stats {
	uint64_t requests;           /* every request received */
	uint64_t faults_injected;    /* 500/503 answers */
	uint64_t faults_after;       /* ... of which after processing */
	uint64_t rate_limited;       /* 429 answers */
	uint64_t duplicates_refused; /* 409 answers */
	uint64_t held_replies;       /* timeout-after-accept holds */
	uint64_t unauthorised;       /* 401 answers */
	uint64_t user_orders;        /* orders accepted for the user */
	uint64_t user_trades;        /* the user's fills */
	uint64_t trades;             /* all trades in the book */
	uint64_t ws_connections;     /* websocket upgrades accepted */
};

struct ig_sim_server;

/* Fills cfg with the defaults above (key id/secret NULL). */
void ig_sim_cfg_defaults(struct ig_sim_cfg *cfg);

/*
 * Validates cfg, builds the exchange, seeds the book, starts the flow
 * thread (flow_ms > 0) and the HTTP daemon. cfg's strings are copied.
 * Returns 0 with the server in *out and the bound port in *port, or a
 * negative IG_E* code with a message in err (IG_EINVAL / IG_ECONFIG for a
 * bad cfg, IG_EIO when the address cannot be bound, IG_ENOMEM); nothing
 * to undo on failure. Call from the thread that will call stop.
 */
int ig_sim_server_start(const struct ig_sim_cfg *cfg, struct ig_sim_server **out, uint16_t *port,
			char *err, size_t errlen);

/*
 * Stops the HTTP daemon (held answers are released at once) and the flow
 * thread, writes cfg->state_path if it was set, and frees everything.
 * Returns 0, or IG_EIO if the state file could not be written. NULL is a
 * no-op.
 */
int ig_sim_server_stop(struct ig_sim_server *srv);

/* Writes the user's state as JSON to path (atomically: path.tmp, then
 * rename): {"initial_balances": {ASSET: "dec"}, "balances": {...},
 * "reserved": {...}, "orders": [...], "trades": [...], "stats": {...}}.
 * Returns 0 or IG_EIO. */
int ig_sim_server_write_state(struct ig_sim_server *srv, const char *path);

/* Runs n ticks of the synthetic flow now, under the state mutex. */
void ig_sim_server_flow_step(struct ig_sim_server *srv, uint32_t n);

void ig_sim_server_stats(struct ig_sim_server *srv, struct ig_sim_stats *out);

/* Checks the whole exchange under the mutex: book and ledger sanity, every
 * account's reservations equal to its resting orders', and the user's
 * order records consistent with their trades. For tests. */
bool ig_sim_server_sanity(struct ig_sim_server *srv);

/* The ingenium exchange-sim command; argv[0] is "exchange-sim". Returns the
 * process exit code: 0 after SIGTERM/SIGINT, 1 on a start failure, 2 on a
 * usage error or missing credentials. */
int ig_exchange_sim_main(int argc, char **argv);

#endif
