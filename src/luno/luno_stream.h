/*
 * luno_stream.h - Luno's market stream over websockets, for the tick
 * thread (feed.source: luno with feed.luno_endpoint: stream).
 *
 * Design
 * ------
 * One thread, "ig-luno-stream", runs a libwebsockets context with one
 * connection per pair (an array: one pair today, feed.symbol). Each
 * connection goes to <base>/api/1/stream/<PAIR>, where base is
 * venue.stream_url, or venue.base_url with http -> ws and https -> wss
 * (IG_CFG_DEFAULT_STREAM_URL while base_url is Luno's default): the
 * URL, its checks and its split, the credentials message, the backoff
 * and lws's log routing are luno_ws.h's, shared with the user stream. wss is
 * verified against the system CA store; there is no switch to turn that
 * off. When the connection is up, its first message is the credentials,
 * {"api_key_id": ..., "api_key_secret": ...}, read from the environment
 * variables venue.key_id_env / venue.secret_env (as the REST venue does);
 * they are never logged, and libwebsockets' own logging is limited to
 * errors and warnings, routed through ig_log (one line each, never a
 * payload).
 *
 * Each connection owns its order book (luno_book.h), on the stream
 * thread alone. Every text frame goes to ig_luno_book_on_message():
 *   - TRADES: one IG_EV_TRADE per trade (px = the maker's price, qty =
 *     base, aggressor = opposite the maker, ts_event_ns = the update's
 *     exchange time), pushed first;
 *   - TOP: one IG_EV_QUOTE with the best bid and ask (px and qty),
 *     ts_event_ns = the exchange time of the message;
 *   - KEEPALIVE: nothing but the silence timer.
 * Every event carries its receive time (CLOCK_MONOTONIC) in
 * hdr.ts_origin_ns until next() hands it out: next() records the time it
 * waited in the ring (a histogram, in the closing log line as
 * ring_wait_us) and the tick stamps
 * ts_origin_ns as for every feed.
 *
 * The ring. Events reach the tick thread through a preallocated SPSC ring
 * of struct ig_event (core/ring.h; producer: the stream thread, consumer:
 * next() on the tick thread). A full ring is back-pressure: the stream
 * thread never blocks; it counts the drop. A dropped trade is gone (the
 * book is still right, so no resync would bring it back): counted in
 * trades_dropped. A dropped quote is not lost: the connection remembers
 * that its top is unpublished and pushes the book's current top as soon
 * as the ring has room (at the next frame, or a retry every 1 ms), so the
 * consumers never keep a stale top while the book moves on (counted in
 * quotes_dropped).
 *
 * Resync. A negative result from the book (gap, malformed, unknown order,
 * duplicate, overfill, crossed, not ACTIVE, full), a frame larger than
 * the receive buffer, a close by the server, a connection that fails, or
 * silence beyond feed.stream_timeout_ms drops the connection, forgets the
 * book and reconnects for a new snapshot after a backoff
 * (ig_luno_ws_backoff_ms): backoff_min_ms doubling per drop up to
 * backoff_max_ms, each delay drawn in [d/2, d], back to
 * the minimum after a good snapshot. Each is counted by reason
 * (stats.resyncs[]). While the book is not whole no quote or trade is
 * produced: the quotes simply stop, so risk's stale-data check
 * (risk.stale_data_ms, against the last mark's ingress time) rejects
 * orders until the book is back.
 *
 * next() never blocks: it pops one event (returns 1) or returns 0 with
 * *due_ns = now + poll_us. With a waker set (set_wake: the engine's wake
 * of the tick thread) the stream thread calls it after each frame that
 * put events in the ring, and the tick thread parks until then
 * (has_work is its re-check before parking); the due is then only a
 * safety net (IG_LUNO_STREAM_WOKEN_POLL_US). stop/close end the thread promptly
 * (lws_cancel_service wakes it) and free everything.
 *
 * Owner: open/close on the main thread; next/stop on the tick thread;
 * everything else is the stream thread's. Counters are __atomic relaxed
 * (read by the tick thread and the summary while the stream runs).
 */
#ifndef IG_LUNO_LUNO_STREAM_H
#define IG_LUNO_LUNO_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"

struct json_t; /* jansson */

#define IG_LUNO_STREAM_DEFAULT_POLL_US 100           /* next() when the ring is empty */
#define IG_LUNO_STREAM_WOKEN_POLL_US 10000           /* the same with a waker set: a safety net */
#define IG_LUNO_STREAM_DEFAULT_RING 4096u            /* events, a power of two */
#define IG_LUNO_STREAM_DEFAULT_MSG_MAX (8u << 20)    /* largest frame (a snapshot), bytes */
#define IG_LUNO_STREAM_DEFAULT_BACKOFF_MIN_MS 100    /* first reconnect delay */
#define IG_LUNO_STREAM_DEFAULT_BACKOFF_MAX_MS 10000  /* the doubling stops here */
#define IG_LUNO_STREAM_MAX_PAIRS 8                   /* connections per stream */
#define IG_LUNO_STREAM_SECRET_MAX 256                /* key id or secret, with its NUL */

/* Why a connection was dropped and made again. */
#define IG_LUNO_STREAM_REASON_MAP(XX)                      \
	XX(SEQUENCE, "sequence")      /* book: gap */        \
	XX(MALFORMED, "malformed")    /* book, or a binary frame */ \
	XX(UNKNOWN_ORDER, "unknown_order")                   \
	XX(DUPLICATE, "duplicate")                           \
	XX(OVERFILL, "overfill")                             \
	XX(CROSSED, "crossed")                               \
	XX(STATUS, "status")          /* market not ACTIVE */ \
	XX(FULL, "full")              /* book capacity */    \
	XX(TOO_LARGE, "too_large")    /* frame over msg_max */ \
	XX(CLOSED, "closed")          /* the server closed */ \
	XX(CONNECT, "connect")        /* connecting failed */ \
	XX(TIMEOUT, "timeout")        /* silence */

enum ig_luno_stream_reason {
#define IG__LUNO_STREAM_R_ENUM(name, text) IG_LUNO_STREAM_R_##name,
	IG_LUNO_STREAM_REASON_MAP(IG__LUNO_STREAM_R_ENUM)
#undef IG__LUNO_STREAM_R_ENUM
	IG_LUNO_STREAM_R__COUNT
};

struct ig_luno_stream_opts {
	const char *url;             /* ws(s)://host[:port][/prefix]: ig_luno_ws_url(base, stream_url, "") */
	const char *pairs[IG_LUNO_STREAM_MAX_PAIRS];
	uint16_t instrument_ids[IG_LUNO_STREAM_MAX_PAIRS];
	uint32_t npairs;             /* >= 1 */
	const char *key_id_env;      /* default IG_CFG_DEFAULT_KEY_ID_ENV */
	const char *secret_env;      /* default IG_CFG_DEFAULT_SECRET_ENV */
	int64_t timeout_ms;          /* silence; default IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS */
	int64_t backoff_min_ms;      /* default IG_LUNO_STREAM_DEFAULT_BACKOFF_MIN_MS */
	int64_t backoff_max_ms;      /* default IG_LUNO_STREAM_DEFAULT_BACKOFF_MAX_MS */
	int64_t poll_us;             /* default IG_LUNO_STREAM_DEFAULT_POLL_US */
	uint32_t ring_size;          /* power of two; default IG_LUNO_STREAM_DEFAULT_RING */
	uint32_t msg_max;            /* bytes; default IG_LUNO_STREAM_DEFAULT_MSG_MAX */
	uint32_t max_orders;         /* per book; 0 = the book's default */
};

/* Counters; every field __atomic (relaxed), read with ig_luno_stream_stats(). */
struct ig_luno_stream_stats {
	uint64_t connects;           /* connections established */
	uint64_t snapshots;          /* snapshots applied */
	uint64_t messages;           /* frames received */
	uint64_t keepalives;
	uint64_t quotes;             /* pushed to the ring */
	uint64_t trades;             /* pushed to the ring */
	uint64_t quotes_dropped;     /* ring full (the top is pushed again later) */
	uint64_t trades_dropped;     /* ring full, or over the book's max_trades */
	uint64_t resyncs;            /* total of resyncs[] */
	uint64_t resyncs_by[IG_LUNO_STREAM_R__COUNT];
};

struct ig_luno_stream;

/* The reason's name ("sequence", ...), or "unknown". */
const char *ig_luno_stream_reason_name(int reason);

/* Reads the credentials, makes the books, the ring and the lws context,
 * and starts the stream thread, which connects at once. Returns 0 with
 * *out set, or IG_ECONFIG (err says why: bad URL, pair or variable,
 * never a variable's value), IG_ENOMEM or IG_ETHREAD; *out is NULL then
 * and nothing is left to undo. */
int ig_luno_stream_open(const struct ig_luno_stream_opts *o, struct ig_luno_stream **out,
			char *err, size_t errlen);

/* Ends the stream's thread (joins it); the counters stay readable and
 * ig_luno_stream_close frees the rest. Idempotent. Main thread. */
void ig_luno_stream_halt(struct ig_luno_stream *s);

/* Stops the thread (if running), waits for it and frees everything
 * (NULL is fine). Main thread, once the tick thread no longer calls
 * next(). */
void ig_luno_stream_close(struct ig_luno_stream *s);

/* As ig_feed_next(): returns 1 with the oldest event in ev, 0 with
 * *due_ns = now + poll when the ring is empty, or IG_EEOF after stop.
 * now_ns <= 0 reads the clock. Tick thread only. */
int ig_luno_stream_next(struct ig_luno_stream *s, int64_t now_ns, struct ig_event *ev,
			int64_t *due_ns);

/* True if next() has something: an event in the ring, or the end. The
 * tick thread's re-check before it parks. The tick thread only (the
 * ring's consumer side is its own). */
bool ig_luno_stream_has_work(const struct ig_luno_stream *s);

/* Sets the function (and its argument) the stream thread calls after a
 * frame put events in the ring; NULL = none (next() is polled every
 * poll_us). Main thread, any time. */
void ig_luno_stream_set_wake(struct ig_luno_stream *s, void (*fn)(void *), void *arg);

/* Makes next() return IG_EEOF from now on and asks the stream thread to
 * end (it does not wait: close() joins). Any thread. */
void ig_luno_stream_stop(struct ig_luno_stream *s);

/* Copies the counters into *out (each read relaxed). */
void ig_luno_stream_stats(const struct ig_luno_stream *s, struct ig_luno_stream_stats *out);

/* Adds "stream_resyncs": {total, <reason>: n...} and "stream": {connects,
 * snapshots, quotes, trades, quotes_dropped, trades_dropped, ...} to the
 * summary's feed object. Returns 0 or IG_ENOMEM. */
int ig_luno_stream_stats_json(const struct ig_luno_stream *s, struct json_t *feed);

/* Logs the counters as one line. */
void ig_luno_stream_log_stats(const struct ig_luno_stream *s);

#endif
