/*
 * luno_user.h - the Luno user stream (wss://.../api/1/userstream) as a
 * TRIGGER for the REST venue (luno_venue.c), on its own thread.
 *
 * Design
 * ------
 * Luno's order_fill_update carries no trade sequence, so a fill from the
 * stream could not be keyed like a REST fill (listtrades' sequence). The
 * stream therefore never applies anything: its thread (libwebsockets, one
 * connection) parses each message's type, pair and order, and tells the
 * venue's thread through atomics what may have changed:
 *
 *   order_fill          "trades may be new on pair P" (a bit per pair)
 *   order_status        COMPLETE: "order X changed" (client id and order
 *                       id, through a single-producer ring of 256; when it
 *                       is full, "every order changed"); PENDING tells
 *                       nothing the submit's answer does not: ignored
 *   balance_update, ""  nothing (a keep-alive: the stream is alive)
 *
 * and wakes it (the waker the venue passes on). The venue then does its
 * usual REST reads at once (listtrades after its cursor; order status).
 *
 * Health. DOWN -> CONNECTED (upgrade done, credentials sent) -> LIVE (the
 * first message after the credentials: Luno answers wrong credentials by
 * closing). Every LIVE is a new generation (live_gen), so the venue knows
 * to catch up over REST before it trusts the stream. Healthy = LIVE and a
 * message (keep-alives count) within timeout_ms; a stream silent longer
 * is closed and reconnected. Reconnects back off exponentially with
 * jitter (luno_ws.h) from backoff_base_ms to backoff_max_ms; a connection
 * that went LIVE resets the backoff.
 *
 * Secrets. The key id and secret are copied at init, sent only as the
 * first message, wiped at destroy; no payload is ever logged (lws's own
 * log goes through ig_log at warning level, luno_ws.h).
 *
 * Owner: init/start/stop/destroy and set_wake on the main thread; the
 * take/healthy/counter readers on the venue's (executor) thread; the
 * stream thread writes the rest. Shared fields are __atomic.
 */
#ifndef IG_LUNO_LUNO_USER_H
#define IG_LUNO_LUNO_USER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "luno/luno_json.h"
#include "luno/luno_ws.h"

#define IG_LUNO_USER_RING 256          /* order notes in flight to the venue */
#define IG_LUNO_USER_MSG_MAX (256 * 1024) /* largest message accepted, bytes */
#define IG_LUNO_USER_ALL_PAIRS UINT32_MAX

enum ig_luno_user_state { IG_LUNO_USER_DOWN = 0, IG_LUNO_USER_CONNECTED, IG_LUNO_USER_LIVE };

/* What a message was (ig_luno_user_on_message). */
enum ig_luno_user_msg {
	IG_LUNO_USER_MSG_KEEPALIVE = 0,
	IG_LUNO_USER_MSG_FILL,
	IG_LUNO_USER_MSG_STATUS,   /* COMPLETE: a note for the venue */
	IG_LUNO_USER_MSG_PENDING,  /* order_status PENDING: nothing to do */
	IG_LUNO_USER_MSG_BALANCE,
	IG_LUNO_USER_MSG_OTHER,    /* a type this version does not know */
	IG_LUNO_USER_MSG_MALFORMED,
};

struct ig_luno_user_opts {
	const char *url;            /* ws:// or wss://.../api/1/userstream (ig_luno_ws_url) */
	const char *key_id;
	const char *secret;
	const char *pairs[IG_MAX_INSTRUMENTS]; /* instrument k's pair: bit k of the trade mask */
	uint32_t npairs;
	int64_t timeout_ms;         /* healthy: a message within; default IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS */
	int64_t connect_timeout_ms; /* default IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS */
	int64_t backoff_base_ms;    /* first reconnect wait; default 500 */
	int64_t backoff_max_ms;     /* longest; default 30000 */
};

/* "Order X changed" (client id 0 when not ours, order id "" if absent). */
struct ig_luno_user_note {
	uint64_t client_id;
	char order_id[IG_LUNO_ID_MAX];
};

/* Counters (relaxed atomics; any thread reads them). */
struct ig_luno_user_stats {
	uint64_t connects;          /* connections that went LIVE */
	uint64_t attempts;          /* connection attempts */
	uint64_t drops;             /* connections lost (closed, failed, silent) */
	uint64_t messages;          /* messages (keep-alives included) */
	uint64_t keepalives;
	uint64_t fills;             /* order_fill messages */
	uint64_t statuses;          /* order_status messages */
	uint64_t malformed;         /* messages that did not parse (or were too large) */
	uint64_t auth_refused;      /* closed with 1008 (credentials) */
	uint64_t ring_full;         /* notes that did not fit: "every order changed" */
};

struct ig_luno_user {
	/* Set at init, constant after. */
	char url[IG_LUNO_WS_URL_MAX];
	char host[IG_LUNO_WS_HOST_MAX];
	char path[IG_LUNO_WS_URL_MAX];
	int port;
	bool tls;
	char key_id[256];
	char secret[256];
	char pairs[IG_MAX_INSTRUMENTS][IG_LUNO_PAIR_MAX];
	uint32_t npairs;
	int64_t timeout_ns;
	int64_t connect_timeout_ms;
	int64_t backoff_base_ms;
	int64_t backoff_max_ms;
	/* Shared (__atomic). */
	uint32_t stop;
	uint32_t state;             /* enum ig_luno_user_state */
	uint64_t live_gen;          /* +1 at every DOWN/CONNECTED -> LIVE */
	int64_t last_msg_ns;        /* CLOCK_MONOTONIC of the last message */
	uint64_t events;            /* +1 at every signal (the venue's has_work) */
	uint32_t trades_mask;       /* bit k: trades may be new on instrument k */
	uint32_t orders_all;        /* the ring overflowed: every order may have changed */
	uint32_t ring_head;         /* written by the stream thread */
	uint32_t ring_tail;         /* written by the venue's thread */
	struct ig_luno_user_note ring[IG_LUNO_USER_RING];
	struct ig_luno_ws_wake wake; /* whom signals wake (set_wake) */
	struct ig_luno_user_stats st;
	/* Stream thread only. */
	pthread_t tid;
	bool started;
	void *priv;                 /* lws context, connection, buffers (luno_user.c) */
};

/* Copies the options (nothing starts). Returns 0, IG_ECONFIG (err says
 * why: a URL that does not split, credentials too long) or IG_ENOMEM;
 * on failure nothing is left to undo. */
int ig_luno_user_init(struct ig_luno_user *u, const struct ig_luno_user_opts *o, char *err,
		      size_t errlen);

/* Starts the stream thread (ig_thread_start_quiet): it connects and keeps
 * reconnecting until stop. Returns 0 or IG_ETHREAD. */
int ig_luno_user_start(struct ig_luno_user *u);

/* Stops and joins the thread (if started): nobody is woken any more, the
 * counters stay. Idempotent; safe on a zeroed or failed-init struct. */
void ig_luno_user_halt(struct ig_luno_user *u);

/* ig_luno_user_halt, then frees everything and wipes the credentials.
 * Safe on a zeroed or failed-init struct. */
void ig_luno_user_destroy(struct ig_luno_user *u);

/* The function the stream thread calls (with arg) after every signal, to
 * wake the venue's thread; NULL = none. Any time. */
void ig_luno_user_set_wake(struct ig_luno_user *u, void (*fn)(void *), void *arg);

/* True when LIVE and a message arrived within timeout_ms of now_ns;
 * *gen (may be NULL) gets the live generation. */
bool ig_luno_user_healthy(const struct ig_luno_user *u, int64_t now_ns, uint64_t *gen);

/* The signal count: changes whenever there is something to take. */
uint64_t ig_luno_user_events(const struct ig_luno_user *u);

/* Takes (and clears) the instruments whose trades may be new: bit k. */
uint32_t ig_luno_user_take_trades(struct ig_luno_user *u);

/* Takes (and clears) "every order may have changed". */
bool ig_luno_user_take_all_orders(struct ig_luno_user *u);

/* Takes the next note; false when there is none. Venue's thread only. */
bool ig_luno_user_take_note(struct ig_luno_user *u, struct ig_luno_user_note *out);

/* The counters now. */
void ig_luno_user_stats(const struct ig_luno_user *u, struct ig_luno_user_stats *out);

/*
 * One complete text message, as the stream thread handles it (tests call
 * it directly): records it as alive at now_ns (CONNECTED -> LIVE), parses
 * it and signals. Returns enum ig_luno_user_msg.
 */
int ig_luno_user_on_message(struct ig_luno_user *u, const char *msg, size_t len, int64_t now_ns);

/* The connection state changes the stream thread makes (tests call them
 * to stand in for a connection): CONNECTED once the credentials are
 * sent after the upgrade (the first message then makes it LIVE; none
 * within the stream timeout drops the connection), DOWN when it is lost.
 * Each signals. */
void ig_luno_user_connected(struct ig_luno_user *u);
void ig_luno_user_lost(struct ig_luno_user *u);

#endif
