/*
 * events.h - recent orders, fills, denials and state changes, from the
 * OMS thread to the API thread through a ring (never a lock), and what
 * the API serves from them: GET /api/v1/orders, /api/v1/fills and the
 * Server-Sent Events stream /api/v1/events (docs/api.md).
 *
 * Design
 * ------
 * struct ig_events (opaque) holds an SPSC ring (core/ring.h) of compact
 * records (struct ig_api_ev, a public value type: an order's new state, a
 * fill, a risk denial, a trading-state change). The producer is the OMS
 * thread: the OMS's tap (ig_oms_set_tap, oms.h) calls ig_events_oms_tap
 * with each order update, fill and denial, and the OMS stage's poll calls
 * ig_events_oms_poll, which seeds the ring once with every open order the
 * books hold (orders from before the API started, or restored by the
 * journal's recovery) and emits a state record whenever the global
 * trading state, the kill switch or a strategy's state or pause changed
 * since its last look. The producer never waits and never allocates: a
 * full ring drops the record and counts it (ig_events_dropped). After a
 * drop the poll seeds again, between a SYNC begin and a SYNC end record:
 * an order the API lists as open that was neither seeded nor updated in
 * between ended while its record was lost, and leaves the table.
 *
 * The consumer is the API thread: ig_events_drain (between two
 * MHD_run_wait calls) moves every record into a table of open orders, a
 * ring of the last IG_EVENTS_RECENT finished orders, a ring of the last
 * IG_EVENTS_FILLS fills, and every SSE client's buffer
 * (IG_EVENTS_SSE_BUF bytes). A client whose buffer cannot take the next
 * message is dropped (its response ends, counted); nobody waits for it.
 * An SSE connection with nothing to send is suspended (libmicrohttpd's
 * suspend/resume) and resumed when a message or a keep-alive (every
 * IG_EVENTS_KEEPALIVE_S) is queued.
 *
 * Owner: created and destroyed by the engine (main thread); the producer
 * side on the OMS thread, the rest on the API thread. The renderers are
 * pure (tests).
 */
#ifndef IG_API_EVENTS_H
#define IG_API_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "ingenium/event.h"

#define IG_EVENTS_RING 8192          /* records in flight OMS -> API (power of two) */
#define IG_EVENTS_RECENT 100         /* finished orders kept */
#define IG_EVENTS_FILLS 1000         /* fills kept (the most /fills?limit= gives) */
#define IG_EVENTS_FILLS_DEFAULT 100  /* /fills without a limit */
#define IG_EVENTS_SSE_MAX 8          /* SSE clients at once (503 beyond) */
#define IG_EVENTS_SSE_BUF 65536      /* bytes queued per SSE client (dropped beyond) */
#define IG_EVENTS_SSE_SNDBUF 65536   /* the SSE socket's kernel send buffer */
#define IG_EVENTS_KEEPALIVE_S 15     /* ": keep-alive" after this long with nothing sent */

enum ig_api_ev_kind {
	IG_APIEV_ORDER = 1, /* an order's new state */
	IG_APIEV_FILL,      /* a fill applied */
	IG_APIEV_DENIAL,    /* an intent denied by risk (no venue involved) */
	IG_APIEV_STATE,     /* global or per-strategy trading state, kill switch, pause */
	IG_APIEV_SYNC,      /* a resync of the open orders after drops: state 0 begins it,
			     * 1 ends it (not shown; ig_events_oms_poll) */
};

/* One record (a public value type; the ring's element: seq first). Money
 * and quantities 1e-8; times ns since the Unix epoch (data time). */
struct ig_api_ev {
	uint64_t seq;           /* owned by the ring */
	uint8_t kind;           /* enum ig_api_ev_kind */
	uint8_t side;           /* enum ig_side */
	uint8_t type;           /* ORDER: enum ig_ord_type, as submitted */
	uint8_t tif;            /* ORDER: enum ig_tif */
	uint8_t state;          /* ORDER: enum ig_ord_state; STATE: enum ig_trading_state */
	uint8_t liquidity;      /* FILL: enum ig_liquidity */
	uint8_t kill_switch;    /* STATE: 0/1 */
	uint8_t paused;         /* STATE: 0/1 (a strategy's) */
	uint16_t reason;        /* ORDER, DENIAL: enum ig_reject_reason */
	uint16_t strategy;      /* index, or IG_STRATEGY_NONE (STATE: global) */
	uint16_t instrument;    /* index into the feed's symbols */
	uint16_t pad;
	uint64_t client_id;
	uint64_t venue_order_id; /* 0 = none */
	uint64_t trade_id;       /* FILL; 0 = none */
	int64_t qty;             /* ORDER: ordered; FILL: filled; DENIAL: asked */
	int64_t px;              /* ORDER: limit (0: none); FILL: price; DENIAL: asked */
	int64_t stop_px;         /* ORDER: trigger, 0 = none */
	int64_t filled_qty;      /* ORDER: cumulative; FILL: fee_base */
	int64_t fee;             /* FILL: quote fee */
	int64_t created_ns;      /* ORDER: accepted by risk */
	int64_t ts_ns;           /* the update, fill or denial */
};

struct ig_events;
struct ig_oms;
struct ig_order_rec;
struct MHD_Connection;

/* The names records refer to by index (copied). */
struct ig_events_names {
	uint32_t nstrategies;
	const char *const *strategies; /* nstrategies names */
	uint16_t ninstruments;
	const char *const *symbols;    /* ninstruments names */
};

/* A hub with its ring, tables and buffers, or NULL (out of memory). Main
 * thread. */
struct ig_events *ig_events_create(const struct ig_events_names *names);

/* Frees it; the API must be stopped and the OMS done with it. NULL is a
 * no-op. */
void ig_events_destroy(struct ig_events *ev);

/* ---- producer: the OMS thread ---- */

/* Pushes rec (its seq ignored). Returns true, or false: the ring was full,
 * the record is dropped and counted. Never waits. */
bool ig_events_push(struct ig_events *ev, const struct ig_api_ev *rec);

/* The OMS's tap (ig_oms_tap_fn): ev is an IG_EV_ORDER_UPDATE (r the
 * order), an IG_EV_FILL (r the order, already moved) or an IG_EV_REJECT
 * from risk (r the order when one existed, else NULL). arg is the hub. */
void ig_events_oms_tap(void *arg, const struct ig_oms *oms, const struct ig_event *ev,
		       const struct ig_order_rec *r);

/* From the OMS stage's poll: seeds the ring with the books' open orders
 * (once, and again, framed by SYNC records, whenever records were dropped
 * since the last seed began; resumes where a full ring stopped it) and
 * pushes a state record for every trading state, kill switch or pause
 * that changed since the last call (all of them the first time). Returns
 * the records pushed. */
int ig_events_oms_poll(struct ig_events *ev, const struct ig_oms *oms);

/* Records dropped because the ring was full. Any thread. */
uint64_t ig_events_dropped(const struct ig_events *ev);

/* ---- consumer: the API thread ---- */

/* Moves every record in the ring into the tables and the SSE clients'
 * buffers, queues keep-alives, resumes clients with something to send.
 * now_ns: CLOCK_MONOTONIC. Returns the records moved. */
int ig_events_drain(struct ig_events *ev, int64_t now_ns);

/* True if url is one of the hub's endpoints. Pure. */
bool ig_events_is_path(const char *url);

/* Answers GET url (ig_events_is_path) on c, authenticated already: the
 * orders, the fills, or an SSE stream. Returns libmicrohttpd's result. */
int ig_events_serve(struct ig_events *ev, struct MHD_Connection *c, const char *url,
		    const char *method);

/* At stop: ends every SSE stream and resumes the suspended ones, so
 * libmicrohttpd can close them (call MHD_run before MHD_stop_daemon).
 * Returns how many were suspended. */
int ig_events_stop_clients(struct ig_events *ev);

/* Counters for /metrics and the status: records dropped (ring full), SSE
 * clients now, SSE clients dropped (slow). API thread. */
struct ig_events_counts {
	uint64_t dropped;
	uint32_t sse_clients;
	uint64_t sse_dropped;
	uint64_t sse_refused; /* 503: too many clients */
	uint64_t open_hidden; /* open orders beyond the table (not listed) */
	uint64_t open_evicted; /* listed open orders a resync found ended */
};
void ig_events_counts(const struct ig_events *ev, struct ig_events_counts *out);

/* The status's "events" object: {"dropped", "sse_clients", "sse_dropped",
 * "sse_refused", "open_hidden", "open_evicted"}. New reference or NULL. API thread. */
json_t *ig_events_status_json(const struct ig_events *ev);

/* The /metrics lines of the counts, appended to the malloc'd text (*len
 * bytes; realloc'd). Returns the text, or NULL (out of memory: text is
 * freed). */
char *ig_events_metrics_append(const struct ig_events *ev, char *text, size_t *len);

/* ---- renderers (pure) ---- */

/* rec as the JSON of its kind (docs/api.md: ORDER, FILL, denial, state).
 * New reference or NULL. */
json_t *ig_events_rec_json(const struct ig_events_names *names, const struct ig_api_ev *rec);

/* The SSE event name of rec's kind ("order", "fill", "denial", "state"). */
const char *ig_events_kind_name(uint8_t kind);

/* One SSE message "id: ID\nevent: NAME\ndata: DATA\n\n" into buf (cap
 * bytes). Returns its length, or 0 if it does not fit or data holds a
 * newline. */
size_t ig_events_sse_format(char *buf, size_t cap, uint64_t id, const char *name,
			    const char *data);

/* The API thread's view, for tests: the /orders document (strategy: a
 * name to filter by, or NULL) and the /fills one (limit 1..IG_EVENTS_FILLS).
 * New reference or NULL. */
json_t *ig_events_orders_json(const struct ig_events *ev, const char *strategy);
json_t *ig_events_fills_json(const struct ig_events *ev, int limit);

/* Parses a /fills limit ("1".."1000"; NULL: the default). Returns it, or
 * -1 (400). Pure. */
int ig_events_parse_limit(const char *s);

#endif
