/*
 * api.h - the HTTP status API: /healthz, /api/v1/status, /api/v1/risk,
 * /api/v1/config, /metrics, /api/v1/history/... (the history store, read
 * on the API thread through store/query.h, bounded in time) and the
 * operator controls (docs/api.md), served by libmicrohttpd on the API's own thread.
 *
 * Design
 * ------
 * ig_api_start() binds api.listen and starts one thread, registered with
 * liburcu, that runs libmicrohttpd's event loop (MHD_run_wait: no thread
 * per connection) and, between requests, hands retired snapshots to
 * call_rcu (snapshot.h). Handlers read the current snapshot inside an RCU
 * read-side section and render JSON (jansson) or Prometheus text; they
 * never touch a stage. The thread may block in its own I/O; nothing it
 * does waits on a stage.
 *
 * Every endpoint but /healthz needs "Authorization: Bearer TOKEN",
 * compared in constant time (ig_api_token_equal). A client address with
 * IG_API_FAIL_MAX failures within IG_API_FAIL_WINDOW_MS gets 429 for a
 * time that doubles with each such burst (ig_api_limiter_*; the server
 * never sleeps). Limits: per-connection memory (headers and any body),
 * connection count (total and per address), idle timeouts (short until a
 * whole request has arrived, longer for keep-alive); GET and HEAD
 * serve the documents, POST and DELETE the operator controls (through
 * struct ig_api_ctl); a request with a body gets 413.
 *
 * A control waits for its outcome on the API thread itself, polling with
 * short sleeps for at most IG_API_CTL_WAIT_MS (504 after): the API thread
 * is not a stage, and the OMS applies a request at its next duty cycle,
 * so the wait is normally well under a millisecond; other clients wait
 * that long at most.
 *
 * Owner: the engine starts and stops it on the main thread; the rest runs
 * on the API thread. The pure functions below are for tests too.
 */
#ifndef IG_API_API_H
#define IG_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/snapshot.h"
#include "config/config.h"
#include "oms/oms.h"
#include "oms/oms_stage.h"

#define IG_API_FAIL_MAX 5                 /* failures ... */
#define IG_API_FAIL_WINDOW_MS INT64_C(10000)      /* ... within this window block the address */
#define IG_API_BLOCK_MS INT64_C(1000)             /* first block; doubles per block */
#define IG_API_BLOCK_MAX_MS INT64_C(300000)       /* longest block */
#define IG_API_LIMITER_SLOTS 64           /* addresses remembered (oldest replaced) */
#define IG_API_CONN_MEMORY 16384          /* bytes per connection: request line + headers */
#define IG_API_CONN_LIMIT 64              /* connections at once */
#define IG_API_CONN_PER_IP 16
#define IG_API_CONN_TIMEOUT_S 10          /* idle timeout once a whole request arrived (keep-alive) */
#define IG_API_HEADER_TIMEOUT_S 2         /* idle timeout before that (a new or half-sent request) */
#define IG_API_CTL_WAIT_MS 2000           /* longest wait for a control's outcome (504) */
#define IG_API_BODY_MAX 4096              /* bytes of a request body (the params control) */
#define IG_API_HISTORY_LIMIT 500          /* /api/v1/history/...: rows when no limit= */
#define IG_API_HISTORY_LIMIT_MAX 5000     /* the largest limit= */
#define IG_API_HISTORY_TIMEOUT_MS 2000    /* a history query's bound (store/query.h) */

/* How the API reaches the operator controls (docs/api.md "Operator
 * controls"): functions the engine supplies, so the API names no stage.
 * Each is called on the API thread and must be callable from any thread
 * (ig_engine_control, ig_engine_control_status, ig_engine_strategy_index). */
struct ig_api_ctl {
	void *ctx;
	/* Puts req; returns 0 with *id, IG_EAGAIN (full) or IG_EINVAL. */
	int (*control)(void *ctx, const struct ig_oms_ctl_req *req, uint64_t *id);
	/* Returns the outcome of id (IG_OMS_CTL_PENDING until applied). */
	enum ig_oms_ctl_status (*status)(void *ctx, uint64_t id);
	/* Returns the index of the strategy named name, or -1. */
	int (*strategy_index)(void *ctx, const char *name);
	/* Turns new param values of strategy (an index; keys[i] = values[i]
	 * as text, n of them) into req (an IG_CTL_PARAMS request). Returns 0,
	 * IG_ESTATE (the type takes no live changes), or IG_ECONFIG /
	 * IG_ELIMIT with err set ("params.KEY: ..."). NULL: 503. */
	int (*params)(void *ctx, int strategy, const char *const *keys, const char *const *values,
		      size_t n, struct ig_oms_ctl_req *req, char *err, size_t errlen);
};

/* A control endpoint, parsed (ig_api_control_route). */
struct ig_api_route {
	uint16_t cmd;                    /* IG_CTL_KILL_SWITCH, _PAUSE, _RESUME, _CANCEL_ALL, _RESET,
					  * _PARAMS (a JSON body) */
	int64_t arg;                     /* kill switch: 1 engage (POST), 0 clear (DELETE) */
	bool all;                        /* no strategy named: every one (or the kill switch) */
	char strategy[IG_CFG_NAME_MAX];  /* the name in the path, when !all */
};

/* Parses a control endpoint: POST|DELETE /api/v1/kill-switch, POST
 * /api/v1/reset, POST /api/v1/strategies/NAME/{pause,resume,cancel-all,
 * reset,params}. Returns 200 with *out filled, 405 (a control path, the wrong
 * method), 404 (under /api/v1/strategies/ but no such action, or a name
 * that is empty, too long or not printable ASCII), or 0: not a control
 * path. Pure. */
int ig_api_control_route(const char *method, const char *url, struct ig_api_route *out);

/* Parses the params control's body (len bytes at body): a JSON object of
 * 1..IG_PARAMS_MAX params, each an integer, a string (decimals as strings:
 * "0.5", exact) or a boolean. Stores the keys and the values as text in
 * keys[]/values[] (pointers into *doc, which the caller frees with
 * json_decref) and their count in *n. Returns 0, or IG_EPARSE /
 * IG_ELIMIT / IG_EINVAL with err set. Pure. */
int ig_api_params_parse(const char *body, size_t len, json_t **doc, const char **keys,
			char values[][IG_PARAM_STR_MAX], size_t *n, char *err, size_t errlen);

/* What the status shows besides the snapshot. */
struct ig_api_info {
	const char *version;     /* "0.1.0" */
	const char *threading;   /* "dedicated", "shared", "inline" */
	const char *venue;       /* the venue registry name ("paper") */
	int64_t uptime_s;        /* since the API started */
	int64_t now_real_ns;     /* CLOCK_REALTIME, for the snapshot's age */
};

/* More that the API may serve (ig_api_start_ex); each optional (NULL: that
 * part is left out) and outliving the API. */
struct ig_api_extra {
	const struct ig_config *cfg;    /* /api/v1/config (never written after start) */
	struct ig_snap_pub *journal;    /* the journal stage's snapshots (journal_sync) */
	/* The live back-pressure count (ig_driver_backpressure_live); called
	 * on the API thread. */
	uint64_t (*backpressure)(void *ctx);
	void *backpressure_ctx;
	/* The feed's own counters (the Luno market stream's "stream" and
	 * "stream_resyncs", ig_feed_stats_json) added to the object given;
	 * returns 0 or IG_ENOMEM. Called on the API thread; NULL: none. */
	int (*feed_stats)(void *ctx, json_t *feed);
	void *feed_stats_ctx;
	/* The history store, for /api/v1/history/{orders,fills,pnl,sessions}:
	 * store_kind IG_STORE_SQLITE or IG_STORE_POSTGRES (anything else: the
	 * store is off, 404), store_target the SQLite path or the PostgreSQL
	 * connection string (never shown), store_daemon the daemon_id asked
	 * for when the request names none. */
	int store_kind;
	const char *store_target;
	const char *store_daemon;
};

struct ig_api;
struct ig_events;

/* Reads the token from the environment variable cfg->token_env, binds
 * cfg->listen (TLS with cfg->tls_cert/tls_key) and starts the API thread.
 * pub: the OMS's snapshots to serve, lat: the executor's (tick_to_order),
 * or NULL; both must outlive the API. info's strings must
 * outlive it too. ctl: the operator controls (copied; its ctx must outlive
 * the API), or NULL: the control endpoints answer 503. Returns 0 and *out, or IG_ECONFIG (token variable unset
 * or empty, TLS files unreadable, TLS not supported by libmicrohttpd) /
 * IG_EIO (cannot bind) / IG_ETHREAD with err set; the message names the
 * variable, never the token. Main thread. */
int ig_api_start(struct ig_api **out, const struct ig_cfg_api *cfg, struct ig_snap_pub *pub,
		 struct ig_snap_pub *lat, const struct ig_api_info *info,
		 const struct ig_api_ctl *ctl, char *err, size_t errlen);

/* Serves /api/v1/orders, /api/v1/fills and /api/v1/events from ev
 * (api/events.h; it must outlive the API) and drains it on the API
 * thread. Until it is called those paths are 404. Main thread, right
 * after ig_api_start. */
void ig_api_set_events(struct ig_api *api, struct ig_events *ev);

/* ig_api_start with extra (copied; NULL: none): /api/v1/config, the
 * journal's snapshots, the live back-pressure count. */
int ig_api_start_ex(struct ig_api **out, const struct ig_cfg_api *cfg, struct ig_snap_pub *pub,
		    struct ig_snap_pub *lat, const struct ig_api_info *info,
		    const struct ig_api_ctl *ctl, const struct ig_api_extra *extra, char *err,
		    size_t errlen);

/* The port bound (useful with port 0). */
uint16_t ig_api_port(const struct ig_api *api);

/* Stops the server, hands the last retired snapshots to call_rcu, waits
 * for the callbacks (rcu_barrier) and joins the thread. NULL is a no-op.
 * Main thread. */
void ig_api_stop(struct ig_api *api);

/* True if the len bytes at a equal the blen bytes at b; the time taken
 * depends on the lengths only, not on where they differ. */
bool ig_api_token_equal(const char *a, size_t alen, const char *b, size_t blen);

/* True if header (an Authorization value, NULL if absent) is
 * "Bearer TOKEN" with the right token. Constant time in the token. */
bool ig_api_auth_ok(const char *header, const char *token, size_t token_len);

/* Per-address failure limiter. Addresses are opaque bytes (up to 16). */
struct ig_api_limiter_slot {
	uint8_t addr[16];
	uint8_t len;             /* 0 = unused */
	uint32_t fails;          /* in the current window */
	uint32_t blocks;         /* blocks so far: the next one is twice as long */
	int64_t window_ns;       /* start of the current window */
	int64_t blocked_until_ns;
	int64_t last_ns;         /* last seen (replacement) */
};
struct ig_api_limiter {
	struct ig_api_limiter_slot slot[IG_API_LIMITER_SLOTS];
};

/* Nanoseconds addr stays blocked at now_ns (0 = not blocked). */
int64_t ig_api_limiter_blocked(const struct ig_api_limiter *l, const void *addr, size_t len,
			       int64_t now_ns);

/* Counts a failed authentication of addr at now_ns. Returns true if this
 * one started a block. */
bool ig_api_limiter_fail(struct ig_api_limiter *l, const void *addr, size_t len, int64_t now_ns);

/* The /api/v1/status document for snap (docs/api.md). New reference or
 * NULL (out of memory). */
json_t *ig_api_status_json(const struct ig_snapshot *snap, const struct ig_api_info *info);

/* The /metrics page for snap (Prometheus text format 0.0.4), with the
 * ingenium_tick_to_order_seconds histogram from lat (NULL: left out),
 * malloc'd (caller frees), its length in *len; NULL if out of memory. */
char *ig_api_metrics_text(const struct ig_snapshot *snap, const struct ig_snap_latency *lat,
			  const struct ig_api_info *info, size_t *len);

/* A /api/v1/history/NAME request, parsed (ig_api_history_params). */
struct ig_api_history_req {
	const char *what;     /* "orders", "fills", "pnl", "sessions" (static) */
	const char *strategy; /* NULL: every strategy; else the argument (the caller's) */
	const char *daemon;   /* NULL: the daemon's own */
	int64_t from_ns, to_ns;
	size_t limit;
};

/* Parses url (a path under /api/v1/history/) and its arguments (get(ctx,
 * NAME) returns an argument's value or NULL; an empty value is no value):
 * strategy, daemon (1..63 bytes), from, to (what `ingenium history`
 * accepts: an ISO 8601 date or UTC date-time), limit (1..
 * IG_API_HISTORY_LIMIT_MAX, default IG_API_HISTORY_LIMIT). Returns 200
 * with *out filled, 404 (no such query) or 400 with err naming the
 * argument. Pure. */
int ig_api_history_params(const char *url, const char *(*get)(void *ctx, const char *name),
			  void *ctx, struct ig_api_history_req *out, char *err, size_t errlen);

/* -------------------------------------------- risk, config, venue (docs.c) */

/* What a /metrics page shows: the OMS's snapshot and each other
 * publisher's part; a NULL part is left out of the page. */
struct ig_api_metrics_src {
	const struct ig_snapshot *snap;              /* the OMS's; required */
	const struct ig_snap_latency *tick_to_order; /* the executor's */
	const struct ig_snap_venue *venue;           /* the executor's */
	const struct ig_snap_latency *journal_sync;  /* the journal's */
	bool have_backpressure;                      /* show backpressure */
	uint64_t backpressure;                       /* events that waited in a spill */
	const json_t *feed;                          /* the feed's counters (feed_stats), or NULL */
};

/* The /metrics page (Prometheus text format 0.0.4) of src, malloc'd
 * (caller frees), its length in *len; NULL if out of memory. */
char *ig_api_metrics_page(const struct ig_api_metrics_src *src, const struct ig_api_info *info,
			  size_t *len);

/* The /api/v1/risk document for snap (docs/api.md): per strategy every
 * limit the risk module applies with its current use. New reference or
 * NULL (out of memory). */
json_t *ig_api_risk_json(const struct ig_snapshot *snap);

/* The /api/v1/config document: cfg as JSON, the YAML's structure with
 * defaults filled in; secrets (the API token, the Luno key id and secret:
 * anything read from the environment) appear only as "<redacted>", names
 * of environment variables as themselves. New reference or NULL. */
json_t *ig_api_config_json(const struct ig_config *cfg);

/* The status document's "venue" object: kind, reconciled and the health
 * in v (NULL: zeros, "ok"). New reference or NULL. */
json_t *ig_api_venue_json(const struct ig_snap_venue *v, const char *kind, bool reconciled);

#endif
