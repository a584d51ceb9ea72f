/*
 * sim_internal.h - what the files of src/sim share: the server's state and
 * the module-internal (ig__sim_) functions.
 *
 *   exchange.c  the exchange: the user's order and trade records, the book
 *               listener, order entry, and every endpoint's answer
 *   flow.c      the seeded synthetic order flow
 *   state.c     the --state JSON
 *   server.c    libmicrohttpd glue, auth, rate limit, faults, start/stop,
 *               --request-log
 *   stream.c    the websocket streams (market and user) on the REST port
 *   ws.c        RFC 6455 framing
 *
 * Everything below `mu` is guarded by it. The user's records are kept for
 * the server's lifetime (the state file lists them all); the synthetic
 * accounts leave no records beyond the recent-trades ring.
 */
#ifndef IG_SIM_INTERNAL_H
#define IG_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/book.h"
#include "sim/ledger.h"
#include "sim/sim.h"

struct json_t;
struct MHD_Connection;
struct ig__sim_hub;

#define IG__SIM_ACCT_FEE 0
#define IG__SIM_ACCT_USER 1
#define IG__SIM_ACCT_MM 2
#define IG__SIM_ACCT_TAKER 3
#define IG__SIM_NACCOUNTS 4

#define IG__SIM_RECENT 100      /* public trades kept */
#define IG__SIM_MAX_PARAMS 64
#define IG__SIM_MAX_CLIENT_ID 255
#define IG__SIM_FLOW_MAX_IDS 64 /* market-maker orders tracked */

/* One of the user's orders. Owner: the server, under mu. */
struct ig__sim_order {
	uint64_t id;
	char *client_id;      /* malloc'd; NULL = none */
	bool market;
	enum ig_book_side side;
	enum ig_book_tif tif;
	bool post_only;
	int64_t limit_px;     /* 1e-8; 0 for market orders */
	int64_t limit_qty;    /* 1e-8; market SELL: base_volume; market BUY: 0 */
	int64_t counter_qty;  /* market BUY: counter_volume, 1e-8 */
	int64_t base;         /* filled, 1e-8 */
	int64_t counter;      /* filled notional, 1e-8 */
	int64_t fee_counter;  /* fees paid in counter, 1e-8 */
	int64_t fee_base;     /* fees paid in base (a buyer), 1e-8 */
	bool complete;
	bool cancelled;       /* completed with volume unfilled (cancel, IOC,
			       * FOK kill, self-trade prevention, market rest) */
	int64_t created_ms;
	int64_t completed_ms; /* 0 while open */
	uint32_t mk;          /* its market, index into s->mk */
};

/* One of the user's fills. */
struct ig__sim_trade {
	uint64_t seq;        /* the book's trade sequence */
	int64_t ts_ms;
	uint32_t order;      /* index into orders */
	int64_t px;          /* 1e-8 */
	int64_t qty;         /* 1e-8 */
	int64_t counter;     /* 1e-8 */
	int64_t fee_counter; /* 1e-8 */
	int64_t fee_base;    /* 1e-8 */
	bool is_buy;         /* the taker bought */
	bool maker;          /* the user's order was the resting one */
};

struct ig__sim_pub_trade {
	uint64_t seq;
	int64_t ts_ms;
	int64_t px, qty;     /* 1e-8 */
	bool is_buy;
};

/* Open addressing index: hash -> record index + 1 (0 = empty). Lookups
 * walk every slot with an equal hash; the caller compares the keys. */
struct ig__sim_index {
	uint64_t *h;
	uint32_t *v;
	uint32_t cap, n;
};

struct ig__sim_flow {
	uint64_t rng;
	int64_t mid;                          /* 1e-8, on the tick grid */
	uint64_t ids[IG__SIM_FLOW_MAX_IDS];   /* live market-maker orders */
	uint32_t nids;
	uint64_t ticks;
};

/* One pair's market: its book, its synthetic flow and its recent public
 * trades. Owner: the server, under mu. */
struct ig__sim_market {
	struct ig_sim_server *s;
	uint32_t index;                        /* in s->mk[] */
	char pair[16];
	struct ig_book book;
	struct ig__sim_flow flow;
	struct ig__sim_pub_trade recent[IG__SIM_RECENT];
	uint32_t recent_n, recent_next;
};

struct ig__sim_params {
	uint32_t n;
	struct {
		const char *k;
		const char *v; /* never NULL */
	} kv[IG__SIM_MAX_PARAMS];
	bool overflow;     /* more than IG__SIM_MAX_PARAMS were sent */
};

enum ig__sim_auth {
	IG__SIM_AUTH_NONE = 0, /* no credentials */
	IG__SIM_AUTH_BAD = 1,
	IG__SIM_AUTH_OK = 2,
};

struct ig__sim_reply {
	unsigned status;
	char *body;               /* malloc'd */
	const char *content_type; /* static */
};

struct ig_sim_server {
	/* Configuration, owned copies. Read-only after start. */
	struct ig_sim_cfg cfg;
	char host[64];
	char pairs[IG_SIM_MAX_PAIRS * 17];     /* cfg.pair's copy: "XBTZAR,ETHZAR" */
	char *key_id;
	char *key_secret;
	char *state_path;

	pthread_mutex_t mu;

	/* Exchange state. Guarded by mu. */
	struct ig_ledger ledger;
	struct ig__sim_market mk[IG_SIM_MAX_PAIRS];
	uint32_t nmk;
	int64_t initial[IG_LEDGER_MAX_ASSETS]; /* the user's, 1e-8 */
	uint64_t next_order_id;
	struct ig__sim_order *orders;
	uint32_t norders, orders_cap;
	struct ig__sim_index by_id;
	struct ig__sim_index by_client_id;
	struct ig__sim_trade *trades;
	uint32_t ntrades, trades_cap;
	int oom;                               /* a record could not be stored */
	uint64_t fault_rng;
	int64_t *rl_ring;                      /* admitted requests, mono ns */
	uint32_t rl_head, rl_n;
	struct ig_sim_stats stats;

	/* Sleeps (latency, held answers, flow ticks) wait here; stop wakes
	 * them. */
	pthread_mutex_t wait_mu;
	pthread_cond_t wait_cv;
	bool stopping;              /* guarded by wait_mu */

	pthread_t flow_thread;
	bool flow_started;
	struct MHD_Daemon *mhd;
	uint16_t port;

	/* The websocket streams (stream.c): its exchange-side fields are
	 * guarded by mu, the rest by its own mutexes. NULL until started. */
	struct ig__sim_hub *hub;

	/* --request-log: one JSON line per HTTP request, under log_mu. */
	pthread_mutex_t log_mu;
	void *request_log;          /* FILE *, NULL = none */
};

/* exchange.c */
int ig__sim_exchange_init(struct ig_sim_server *s, char *err, size_t errlen);
void ig__sim_exchange_destroy(struct ig_sim_server *s);
/* Answers one request (takes mu). *order_entry tells whether it was a
 * postorder/marketorder. Returns 0 or IG_ENOMEM. */
int ig__sim_handle(struct ig_sim_server *s, const char *method, const char *path,
		   const struct ig__sim_params *p, enum ig__sim_auth auth, struct ig__sim_reply *r,
		   bool *order_entry);
/* An error answer {"error", "error_code"}; body malloc'd (NULL on OOM). */
void ig__sim_error(struct ig__sim_reply *r, unsigned status, const char *code, const char *msg);
bool ig__sim_sanity_locked(struct ig_sim_server *s);
/* A user trade as listtrades shows it; NULL on OOM. */
struct json_t *ig__sim_trade_json(struct ig_sim_server *s, const struct ig__sim_trade *t);
int64_t ig__sim_now_ms(void);
void ig__sim_format_id(uint64_t id, char out[16]);
uint64_t ig__sim_rng(uint64_t *state);

/* The market of pair, or NULL. */
struct ig__sim_market *ig__sim_market_of(struct ig_sim_server *s, const char *pair);

/* flow.c (callers hold mu): one market's flow */
void ig__sim_flow_init(struct ig__sim_market *m);
void ig__sim_flow_tick(struct ig__sim_market *m);
/* The taker sends a market order of qty base now on m (side ASK sells,
 * BID buys about qty). Returns 0, IG_EINVAL or IG_ERANGE. Caller holds
 * the state mutex. */
int ig__sim_flow_take(struct ig__sim_market *m, enum ig_book_side side, int64_t qty);

/* stream.c. The book calls below replace ig_book_place/ig_book_cancel
 * everywhere in the exchange, so that every book change reaches the market
 * stream (callers hold mu). */
int ig__sim_book_place(struct ig__sim_market *m, const struct ig_book_req *req,
		       struct ig_book_result *res);
int ig__sim_book_cancel(struct ig__sim_market *m, uint64_t order_id, int64_t *leaves);
/* Book listener hooks (callers hold mu): a trade; a resting order removed
 * by self-trade prevention. */
void ig__sim_stream_trade(struct ig__sim_market *m, const struct ig_book_trade *t);
void ig__sim_stream_removed(struct ig__sim_market *m, uint64_t order_id);
/* The user stream (callers hold mu): a fill or a completion of the user's
 * order o is buffered; ig__sim_stream_user_flush sends, in order, the
 * creation status of placed (if not NULL), the buffered messages,
 * placed's completion if it is complete, and a balance_update per changed
 * asset. ig__sim_book_place flushes itself for orders of the synthetic
 * accounts; the user's order entry flushes once its record is final. */
void ig__sim_stream_user_fill(struct ig_sim_server *s, const struct ig__sim_order *o,
			      const struct ig__sim_trade *t);
void ig__sim_stream_user_status(struct ig_sim_server *s, const struct ig__sim_order *o);
void ig__sim_stream_user_flush(struct ig_sim_server *s, const struct ig__sim_order *placed);
/* Answers a request for /api/1/stream/<PAIR> or /api/1/userstream: 101
 * and a client thread, or an error reply. *status is the HTTP status.
 * Returns MHD's result (MHD_YES / MHD_NO). Takes mu itself. */
int ig__sim_stream_upgrade(struct ig_sim_server *s, struct MHD_Connection *conn,
			   const char *method, const char *url, unsigned *status);
/* Start (after the exchange is built; the drop-fault thread if
 * configured), stop (closes every stream, waits for their threads; call
 * before MHD_stop_daemon) and free (after it). Start returns 0, IG_ENOMEM
 * or IG_ETHREAD. */
int ig__sim_hub_start(struct ig_sim_server *s);
void ig__sim_hub_stop(struct ig_sim_server *s);
void ig__sim_hub_free(struct ig_sim_server *s);

/* state.c (callers hold mu); the caller frees with json_decref */
struct json_t *ig__sim_state_json(struct ig_sim_server *s);

#endif
