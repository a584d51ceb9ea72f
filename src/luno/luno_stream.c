/* luno_stream.c - Luno's market stream over libwebsockets (see
 * luno_stream.h). */
#include "luno/luno_stream.h"

#include "config/config.h"
#include "core/clock.h"
#include "core/hist.h"
#include "core/log.h"
#include "core/ring.h"
#include "core/thread.h"
#include "luno/luno_book.h"
#include "luno/luno_http.h"
#include "luno/luno_json.h"
#include "luno/luno_ws.h"
#include "ingenium/error.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NS_PER_MS INT64_C(1000000)
#define NEEDS_KEY " (the Luno stream needs an API key)" /* a credential's error's tail */
#define HOST_MAX IG_LUNO_WS_HOST_MAX
/* Room for the credentials message: both values escaped (6 bytes per
 * character at worst) plus the keys. */
#define CREDS_MAX (LWS_PRE + 12 * IG_LUNO_STREAM_SECRET_MAX + 64)
/* The system CA store (Debian/Ubuntu, then Fedora/RHEL); lws's own
 * default when neither exists. */
static const char *const ca_files[] = { "/etc/ssl/certs/ca-certificates.crt",
					"/etc/pki/tls/certs/ca-bundle.crt", NULL };

enum conn_state { C_IDLE = 0, C_CONNECTING, C_OPEN };

struct conn {
	struct ig_luno_stream *s;
	struct lws *wsi;              /* NULL while idle */
	struct ig_luno_book *book;
	uint16_t instrument_id;
	enum conn_state state;
	bool creds_sent;
	bool top_pending;             /* a quote could not be pushed: push the top again */
	bool rx_overflow;             /* the frame being received is over msg_max */
	char pair[IG_LUNO_PAIR_MAX];
	char path[IG_LUNO_WS_URL_MAX];  /* <prefix>/api/1/stream/<PAIR> */
	int64_t last_rx_ns;           /* CLOCK_MONOTONIC of the last frame (or the connect) */
	unsigned failures;            /* drops since the last good snapshot (the backoff) */
	char *rx;                     /* msg_max + 1 bytes */
	size_t rx_len;
	lws_sorted_usec_list_t sul_retry;
	lws_sorted_usec_list_t sul_watch;
	lws_sorted_usec_list_t sul_top;   /* retries an unpublished top while the ring is full */
};

struct ig_luno_stream {
	struct ig_ring ring;          /* stream thread -> tick thread */
	struct lws_context *ctx;
	pthread_t tid;
	bool thread_up;
	bool stop;                    /* __atomic: the thread ends */
	bool eof;                     /* next() answers IG_EEOF (tick thread's view) */
	bool tls;
	int port;
	char host[HOST_MAX];
	char host_hdr[HOST_MAX + 8];
	char key_id[IG_LUNO_STREAM_SECRET_MAX];
	char secret[IG_LUNO_STREAM_SECRET_MAX];
	const char *ca_file;
	int64_t timeout_ns;
	int64_t backoff_min_ms;
	int64_t backoff_max_ms;
	int64_t poll_ns;              /* next()'s due when the ring is empty */
	struct ig_luno_ws_wake wake;  /* the tick thread's waker (set_wake) */
	bool pushed;                  /* stream thread: an event went in since the last wake */
	uint32_t msg_max;
	uint64_t rng;
	struct lws_protocols protocols[2];
	struct conn conns[IG_LUNO_STREAM_MAX_PAIRS];
	uint32_t nconns;
	struct ig_luno_stream_stats st;   /* __atomic relaxed */
	struct ig_hist ring_wait_ns;      /* receive -> next(); the tick thread's */
	unsigned char creds[CREDS_MAX];   /* the credentials message, zeroed after use */
};

#define CONN_OF(sul, member) ((struct conn *)(void *)((char *)(sul)-offsetof(struct conn, member)))

static const char *const reason_names[] = {
#define IG__LUNO_STREAM_R_NAME(name, text) text,
	IG_LUNO_STREAM_REASON_MAP(IG__LUNO_STREAM_R_NAME)
#undef IG__LUNO_STREAM_R_NAME
};

const char *ig_luno_stream_reason_name(int reason)
{
	return reason >= 0 && reason < IG_LUNO_STREAM_R__COUNT ? reason_names[reason] : "unknown";
}

static void add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------- the events */

static void sul_top_cb(lws_sorted_usec_list_t *sul);

/* After a frame's events went into the ring: wakes the tick thread, once
 * per frame (a wake per event would cost the ring its throughput). */
static void wake_tick(struct ig_luno_stream *s)
{
	if (s->pushed) {
		s->pushed = false;
		ig_luno_ws_wake_call(&s->wake);
	}
}

/* Pushes the book's top as a quote. counted: a new top (a failure is a
 * dropped quote) rather than a retry. Returns nothing; top_pending says
 * whether the top still has to go out. */
static void push_top(struct conn *c, int64_t rx_ns, bool counted)
{
	struct ig_luno_stream *s = c->s;
	struct ig_event ev;
	int64_t bp, bq, ap, aq;

	if (!ig_luno_book_best(c->book, IG_SIDE_BUY, &bp, &bq) ||
	    !ig_luno_book_best(c->book, IG_SIDE_SELL, &ap, &aq)) {
		/* A side is empty (or the book not whole): no quote, as the
		 * REST feed; the stale-data check covers a long gap. */
		c->top_pending = false;
		return;
	}
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.instrument_id = c->instrument_id;
	ev.hdr.ts_event_ns = ig_luno_book_ts_ms(c->book) * NS_PER_MS;
	ev.hdr.ts_origin_ns = rx_ns;
	ev.body.quote.bid_px = bp;
	ev.body.quote.bid_qty = bq;
	ev.body.quote.ask_px = ap;
	ev.body.quote.ask_qty = aq;
	if (ig_ring_push_ev(&s->ring, &ev)) {
		add(&s->st.quotes, 1);
		s->pushed = true;
		c->top_pending = false;
	} else {
		if (counted)
			add(&s->st.quotes_dropped, 1);
		c->top_pending = true;
		/* Try again in 1 ms, whether or not another frame comes. */
		lws_sul_schedule(s->ctx, 0, &c->sul_top, sul_top_cb, 1000);
	}
}

static void sul_top_cb(lws_sorted_usec_list_t *sul)
{
	struct conn *c = CONN_OF(sul, sul_top);

	if (c->state != C_IDLE && c->top_pending)
		push_top(c, ig_clock_mono_ns(), false);
	wake_tick(c->s);
}

static void push_trades(struct conn *c, int64_t rx_ns)
{
	struct ig_luno_stream *s = c->s;
	const struct ig_luno_book_trade *t;
	struct ig_event ev;
	size_t n = 0;

	t = ig_luno_book_trades(c->book, &n);
	for (size_t i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_TRADE;
		ev.hdr.strategy_id = IG_STRATEGY_NONE;
		ev.hdr.instrument_id = c->instrument_id;
		ev.hdr.ts_event_ns = t[i].ts_ms * NS_PER_MS;
		ev.hdr.ts_origin_ns = rx_ns;
		ev.body.trade.px = t[i].px;
		ev.body.trade.qty = t[i].qty;
		ev.body.trade.aggressor = t[i].side;
		if (ig_ring_push_ev(&s->ring, &ev)) {
			add(&s->st.trades, 1);
			s->pushed = true;
		} else
			add(&s->st.trades_dropped, 1);
	}
}

/* ------------------------------------------------- connection life */

static void sul_retry_cb(lws_sorted_usec_list_t *sul);
static void sul_watch_cb(lws_sorted_usec_list_t *sul);

static bool stopping(const struct ig_luno_stream *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

/* The connection went (or is being taken) down for reason: counts the
 * resync, forgets the book and schedules the reconnect. A connection that
 * is already idle is left alone (one resync per drop). */
static void conn_down(struct conn *c, int reason)
{
	struct ig_luno_stream *s = c->s;
	int64_t delay_ms;

	if (c->state == C_IDLE)
		return;
	c->state = C_IDLE;
	c->wsi = NULL;
	c->rx_len = 0;
	c->rx_overflow = false;
	c->top_pending = false;
	ig_luno_book_reset(c->book);
	lws_sul_cancel(&c->sul_watch);
	lws_sul_cancel(&c->sul_top);
	if (stopping(s))
		return;
	add(&s->st.resyncs, 1);
	add(&s->st.resyncs_by[reason], 1);
	c->failures++;
	delay_ms = ig_luno_ws_backoff_ms(c->failures, s->backoff_min_ms, s->backoff_max_ms, &s->rng);
	if (delay_ms < 1)
		delay_ms = 1;
	ig_log_warn("luno stream %s: %s; reconnecting in %lld ms", c->pair,
		    ig_luno_stream_reason_name(reason), (long long)delay_ms);
	lws_sul_schedule(s->ctx, 0, &c->sul_retry, sul_retry_cb, (lws_usec_t)delay_ms * 1000);
}

/* Drops the live connection from outside its callbacks (the silence
 * timer): detaches it, so its closing callbacks find no connection, and
 * has lws close it. */
static void conn_kill(struct conn *c, int reason)
{
	if (c->wsi != NULL) {
		lws_set_opaque_user_data(c->wsi, NULL);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	}
	conn_down(c, reason);
}

static void conn_start(struct conn *c)
{
	struct ig_luno_stream *s = c->s;
	struct lws_client_connect_info ci;
	struct lws *wsi = NULL;

	if (stopping(s))
		return;
	memset(&ci, 0, sizeof(ci));
	ci.context = s->ctx;
	ci.address = s->host;
	ci.port = s->port;
	ci.path = c->path;
	ci.host = s->host_hdr;
	ci.origin = s->host_hdr;
	ci.ssl_connection = s->tls ? LCCSCF_USE_SSL : 0; /* verified: no ALLOW_* flag, ever */
	ci.protocol = NULL;
	ci.local_protocol_name = s->protocols[0].name;
	ci.opaque_user_data = c;
	ci.pwsi = &wsi;
	c->state = C_CONNECTING;
	c->creds_sent = false;
	c->rx_len = 0;
	c->rx_overflow = false;
	c->last_rx_ns = ig_clock_mono_ns();
	c->wsi = NULL;
	lws_sul_schedule(s->ctx, 0, &c->sul_watch, sul_watch_cb,
			 (lws_usec_t)(s->timeout_ns / 4000 > 1000 ? s->timeout_ns / 4000 : 1000));
	if (lws_client_connect_via_info(&ci) == NULL) {
		/* Failed at once (the error callback may have run already:
		 * conn_down counts once). */
		conn_down(c, IG_LUNO_STREAM_R_CONNECT);
		return;
	}
	if (c->state == C_CONNECTING)
		c->wsi = wsi;
}

static void sul_retry_cb(lws_sorted_usec_list_t *sul)
{
	conn_start(CONN_OF(sul, sul_retry));
}

/* The silence check, every quarter of the timeout while connected. */
static void sul_watch_cb(lws_sorted_usec_list_t *sul)
{
	struct conn *c = CONN_OF(sul, sul_watch);
	struct ig_luno_stream *s = c->s;
	int64_t now = ig_clock_mono_ns();

	if (c->state == C_IDLE)
		return;
	if (now - c->last_rx_ns > s->timeout_ns) {
		conn_kill(c, c->state == C_OPEN ? IG_LUNO_STREAM_R_TIMEOUT : IG_LUNO_STREAM_R_CONNECT);
		return;
	}
	lws_sul_schedule(s->ctx, 0, &c->sul_watch, sul_watch_cb,
			 (lws_usec_t)(s->timeout_ns / 4000 > 1000 ? s->timeout_ns / 4000 : 1000));
}

/* Sends the credentials message (and wipes it). Returns 0 or -1 (close). */
static int send_creds(struct conn *c, struct lws *wsi)
{
	struct ig_luno_stream *s = c->s;

	if (ig_luno_ws_send_auth(wsi, s->key_id, s->secret, s->creds, sizeof(s->creds)) != 0)
		return -1;
	c->creds_sent = true;
	return 0;
}

/* The length of the longest prefix of p (at most 255 bytes) that occurs
 * somewhere in secret (n bytes). */
static size_t in_secret(const char *p, const char *secret, size_t n)
{
	size_t best = 0;

	for (size_t at = 0; at < n; at++) {
		size_t k = 0;
		while (at + k < n && p[k] != '\0' && p[k] == secret[at + k])
			k++;
		if (k > best)
			best = k;
	}
	return best;
}

/* Masks with '*' every run of text of 4 bytes or more that is a piece of
 * secret (its start, a tail, any part), or the whole of a shorter one. */
static void scrub(char *text, const char *secret)
{
	size_t n = strlen(secret);

	if (n == 0)
		return;
	for (char *p = text; *p != '\0';) {
		size_t k = in_secret(p, secret, n);
		if (k >= 4 || k == n) {
			memset(p, '*', k);
			p += k;
		} else {
			p++;
		}
	}
}

/* One whole text frame in c->rx. Returns 0, or -1 after conn_down (the
 * connection must close). */
static int on_frame(struct conn *c, int64_t rx_ns)
{
	struct ig_luno_stream *s = c->s;
	int rc = ig_luno_book_on_message(c->book, c->rx, c->rx_len);

	add(&s->st.messages, 1);
	if (rc < 0) {
		int reason = rc == IG_LUNO_BOOK_E_NOT_WHOLE || -rc > IG_LUNO_STREAM_R_FULL + 1
				     ? IG_LUNO_STREAM_R_MALFORMED
				     : -rc - 1;
		char why[200];
		/* The book says why, which may quote up to 32 bytes of what
		 * the server sent: a server echoing a credential gets it
		 * masked. */
		snprintf(why, sizeof(why), "%s", ig_luno_book_error(c->book));
		scrub(why, s->key_id);
		scrub(why, s->secret);
		ig_log_warn("luno stream %s: %s", c->pair, why);
		conn_down(c, reason);
		return -1;
	}
	if (rc & IG_LUNO_BOOK_F_KEEPALIVE)
		add(&s->st.keepalives, 1);
	if (rc & IG_LUNO_BOOK_F_SNAPSHOT) {
		add(&s->st.snapshots, 1);
		c->failures = 0;
		ig_log_info("luno stream %s: snapshot at sequence %llu, %u orders", c->pair,
			    (unsigned long long)ig_luno_book_sequence(c->book),
			    ig_luno_book_order_count(c->book));
	}
	if (rc & IG_LUNO_BOOK_F_TRADES)
		push_trades(c, rx_ns);
	if (rc & IG_LUNO_BOOK_F_TOP)
		push_top(c, rx_ns, true);
	else if (c->top_pending)
		push_top(c, rx_ns, false);
	wake_tick(s);
	return 0;
}

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = wsi != NULL ? lws_get_opaque_user_data(wsi) : NULL;
	struct ig_luno_stream *s;
	int64_t now;

	(void)user;
	if (c == NULL)
		return 0;
	s = c->s;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		lws_set_opaque_user_data(wsi, NULL);
		/* in: lws's reason text (no payload, no credentials). */
		ig_log_warn("luno stream %s: connect failed: %.120s", c->pair,
			    in != NULL ? (const char *)in : "?");
		conn_down(c, IG_LUNO_STREAM_R_CONNECT);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		c->wsi = wsi;
		c->state = C_OPEN;
		c->last_rx_ns = ig_clock_mono_ns();
		add(&s->st.connects, 1);
		ig_log_info("luno stream %s: connected", c->pair);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!c->creds_sent && send_creds(c, wsi) != 0) {
			lws_set_opaque_user_data(wsi, NULL);
			conn_down(c, IG_LUNO_STREAM_R_CLOSED);
			return -1;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		now = ig_clock_mono_ns();
		c->last_rx_ns = now;
		if (lws_is_first_fragment(wsi)) {
			c->rx_len = 0;
			c->rx_overflow = false;
		}
		if (lws_frame_is_binary(wsi)) {
			lws_set_opaque_user_data(wsi, NULL);
			ig_log_warn("luno stream %s: a binary frame", c->pair);
			conn_down(c, IG_LUNO_STREAM_R_MALFORMED);
			return -1;
		}
		if (!c->rx_overflow && len <= s->msg_max - c->rx_len) {
			if (len > 0)
				memcpy(c->rx + c->rx_len, in, len);
			c->rx_len += len;
		} else {
			c->rx_overflow = true;
		}
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) != 0)
			return 0;
		if (c->rx_overflow) {
			lws_set_opaque_user_data(wsi, NULL);
			ig_log_warn("luno stream %s: a frame over %u bytes", c->pair, s->msg_max);
			conn_down(c, IG_LUNO_STREAM_R_TOO_LARGE);
			return -1;
		}
		c->rx[c->rx_len] = '\0';
		if (on_frame(c, now) != 0) {
			lws_set_opaque_user_data(wsi, NULL);
			return -1;
		}
		c->rx_len = 0;
		return 0;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
	case LWS_CALLBACK_CLIENT_CLOSED:
		lws_set_opaque_user_data(wsi, NULL);
		conn_down(c, IG_LUNO_STREAM_R_CLOSED);
		return 0;
	default:
		return 0;
	}
}

static void *run(void *arg)
{
	struct ig_luno_stream *s = arg;

	ig_log_attach("ig-luno-stream");
	pthread_setname_np(pthread_self(), "ig-luno-stream");
	for (uint32_t i = 0; i < s->nconns; i++)
		conn_start(&s->conns[i]);
	while (!stopping(s))
		if (lws_service(s->ctx, 0) < 0)
			break;
	for (uint32_t i = 0; i < s->nconns; i++) {
		lws_sul_cancel(&s->conns[i].sul_retry);
		lws_sul_cancel(&s->conns[i].sul_watch);
		lws_sul_cancel(&s->conns[i].sul_top);
	}
	/* The context stays until close() (after the join): stop() may still
	 * be waking it from another thread. */
	return NULL;
}

/* ------------------------------------------------------- open/close */

static void free_all(struct ig_luno_stream *s)
{
	/* The context first: closing its connections calls back into the
	 * connections (their books). */
	if (s->ctx != NULL)
		lws_context_destroy(s->ctx);
	s->ctx = NULL;
	for (uint32_t i = 0; i < IG_LUNO_STREAM_MAX_PAIRS; i++) {
		ig_luno_book_destroy(s->conns[i].book);
		free(s->conns[i].rx);
	}
	if (s->ring.slots != NULL)
		ig_ring_destroy(&s->ring);
	explicit_bzero(s->key_id, sizeof(s->key_id));
	explicit_bzero(s->secret, sizeof(s->secret));
	free(s);
}

int ig_luno_stream_open(const struct ig_luno_stream_opts *o, struct ig_luno_stream **out,
			char *err, size_t errlen)
{
	struct ig_luno_stream *s;
	struct lws_context_creation_info info;
	char url[IG_LUNO_WS_URL_MAX];
	const char *why = NULL;
	int rc;

	*out = NULL;
	if (o->url == NULL || o->url[0] == '\0' || (why = ig_luno_ws_url_problem(o->url)) != NULL) {
		/* Not echoed: it may carry credentials. */
		snprintf(err, errlen, "venue.stream_url (or the venue.base_url it comes from): %s",
			 o->url == NULL || o->url[0] == '\0' ? "is empty" : why);
		return IG_ECONFIG;
	}
	if (o->npairs == 0 || o->npairs > IG_LUNO_STREAM_MAX_PAIRS) {
		snprintf(err, errlen, "feed.symbol: 1 to %d pairs", IG_LUNO_STREAM_MAX_PAIRS);
		return IG_ECONFIG;
	}
	for (uint32_t i = 0; i < o->npairs; i++) {
		const char *pr = o->pairs[i];
		size_t plen = pr != NULL ? strlen(pr) : 0;
		if (plen == 0 || plen >= IG_LUNO_PAIR_MAX ||
		    strspn(pr, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != plen) {
			snprintf(err, errlen, "feed.symbol: \"%s\" is not a Luno pair name", pr != NULL ? pr : "");
			return IG_ECONFIG;
		}
	}
	/* The ring's fields are cache-line aligned: so is the struct. */
	s = aligned_alloc(_Alignof(struct ig_luno_stream),
			  (sizeof(*s) + _Alignof(struct ig_luno_stream) - 1) /
				  _Alignof(struct ig_luno_stream) * _Alignof(struct ig_luno_stream));
	if (s != NULL)
		memset(s, 0, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	for (uint32_t i = 0; i < o->npairs; i++) {
		char path[64];

		snprintf(path, sizeof(path), "/api/1/stream/%s", o->pairs[i]);
		rc = ig_luno_ws_url(NULL, o->url, path, url, sizeof(url), err, errlen);
		if (rc == 0 && ig_luno_ws_split(url, &s->tls, s->host, sizeof(s->host), &s->port,
						s->conns[i].path, sizeof(s->conns[i].path)) != 0)
			rc = ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue.stream_url: too long");
		if (rc != 0) {
			free_all(s);
			return rc;
		}
	}
	if (strchr(s->host, ':') != NULL)
		snprintf(s->host_hdr, sizeof(s->host_hdr), "[%s]:%d", s->host, s->port);
	else
		snprintf(s->host_hdr, sizeof(s->host_hdr), "%s:%d", s->host, s->port);
	rc = ig_luno_read_env("key_id_env", o->key_id_env != NULL ? o->key_id_env : IG_CFG_DEFAULT_KEY_ID_ENV,
		      NEEDS_KEY, s->key_id, sizeof(s->key_id), err, errlen);
	if (rc == 0)
		rc = ig_luno_read_env("secret_env", o->secret_env != NULL ? o->secret_env : IG_CFG_DEFAULT_SECRET_ENV,
			      NEEDS_KEY, s->secret, sizeof(s->secret), err, errlen);
	if (rc != 0) {
		free_all(s);
		return rc;
	}
	s->timeout_ns = (o->timeout_ms > 0 ? o->timeout_ms : IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS) * NS_PER_MS;
	s->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : IG_LUNO_STREAM_DEFAULT_BACKOFF_MIN_MS;
	s->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : IG_LUNO_STREAM_DEFAULT_BACKOFF_MAX_MS;
	if (s->backoff_max_ms < s->backoff_min_ms)
		s->backoff_max_ms = s->backoff_min_ms;
	s->poll_ns = (o->poll_us > 0 ? o->poll_us : IG_LUNO_STREAM_DEFAULT_POLL_US) * 1000;
	s->msg_max = o->msg_max > 0 ? o->msg_max : IG_LUNO_STREAM_DEFAULT_MSG_MAX;
	s->rng = (uint64_t)ig_clock_mono_ns() | 1;
	s->nconns = o->npairs;
	ig_hist_init(&s->ring_wait_ns);
	rc = ig_ring_init(&s->ring, o->ring_size > 0 ? o->ring_size : IG_LUNO_STREAM_DEFAULT_RING,
			  sizeof(struct ig_event));
	if (rc != 0) {
		snprintf(err, errlen, "feed: stream ring: %s", rc == IG_EINVAL ? "size not a power of two" : "out of memory");
		free_all(s);
		return rc == IG_EINVAL ? IG_ECONFIG : IG_ENOMEM;
	}
	for (uint32_t i = 0; i < s->nconns; i++) {
		struct conn *c = &s->conns[i];
		c->s = s;
		c->instrument_id = o->instrument_ids[i];
		snprintf(c->pair, sizeof(c->pair), "%s", o->pairs[i]);
		c->rx = malloc((size_t)s->msg_max + 1);
		rc = c->rx != NULL ? ig_luno_book_create(o->max_orders, 0, &c->book) : IG_ENOMEM;
		if (rc != 0) {
			snprintf(err, errlen, "feed: %s", rc == IG_EINVAL ? "bad book capacity" : "out of memory");
			free_all(s);
			return rc == IG_EINVAL ? IG_ECONFIG : IG_ENOMEM;
		}
	}
	/* lws logs errors and warnings only, through ig_log: never a frame. */
	ig_luno_ws_log_setup();
	s->protocols[0].name = "ig-luno-stream";
	s->protocols[0].callback = cb;
	s->protocols[0].rx_buffer_size = 65536;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = s->protocols;
	info.gid = -1;
	info.uid = -1;
	info.options = s->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	for (size_t i = 0; s->tls && ca_files[i] != NULL; i++)
		if (access(ca_files[i], R_OK) == 0) {
			s->ca_file = ca_files[i];
			break;
		}
	info.client_ssl_ca_filepath = s->ca_file;
	s->ctx = lws_create_context(&info);
	if (s->ctx == NULL) {
		snprintf(err, errlen, "feed: cannot make the websocket context");
		free_all(s);
		return IG_ENOMEM;
	}
	if (ig_thread_start_quiet(&s->tid, run, s) != 0) {
		snprintf(err, errlen, "feed: cannot start the stream thread");
		free_all(s);
		return IG_ETHREAD;
	}
	s->thread_up = true;
	*out = s;
	return 0;
}

void ig_luno_stream_stop(struct ig_luno_stream *s)
{
	__atomic_store_n(&s->eof, true, __ATOMIC_RELAXED);
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	/* The context lives until close(), after the join. */
	lws_cancel_service(s->ctx);
}

void ig_luno_stream_halt(struct ig_luno_stream *s)
{
	if (s == NULL || !s->thread_up)
		return;
	__atomic_store_n(&s->stop, true, __ATOMIC_RELEASE);
	lws_cancel_service(s->ctx);
	pthread_join(s->tid, NULL);
	s->thread_up = false;
}

void ig_luno_stream_close(struct ig_luno_stream *s)
{
	if (s == NULL)
		return;
	ig_luno_stream_halt(s);
	/* Destroying the context closes what is still open: its callbacks
	 * run here, see stop and schedule nothing. */
	free_all(s);
}

int ig_luno_stream_next(struct ig_luno_stream *s, int64_t now_ns, struct ig_event *ev,
			int64_t *due_ns)
{
	if (__atomic_load_n(&s->eof, __ATOMIC_RELAXED))
		return IG_EEOF;
	if (now_ns <= 0)
		now_ns = ig_clock_mono_ns();
	if (ig_ring_pop_ev(&s->ring, ev)) {
		/* ts_origin_ns is the receive time until here; the tick
		 * stamps its own, as for every feed. */
		if (ev->hdr.ts_origin_ns > 0 && now_ns > ev->hdr.ts_origin_ns)
			ig_hist_record(&s->ring_wait_ns, now_ns - ev->hdr.ts_origin_ns);
		return 1;
	}
	*due_ns = now_ns + (ig_luno_ws_wake_armed(&s->wake)
				    ? IG_LUNO_STREAM_WOKEN_POLL_US * 1000
				    : s->poll_ns);
	return 0;
}

bool ig_luno_stream_has_work(const struct ig_luno_stream *s)
{
	return ig_ring_readable(&s->ring) || __atomic_load_n(&s->eof, __ATOMIC_RELAXED);
}

void ig_luno_stream_set_wake(struct ig_luno_stream *s, void (*fn)(void *), void *arg)
{
	ig_luno_ws_wake_set(&s->wake, fn, arg);
}

void ig_luno_stream_stats(const struct ig_luno_stream *s, struct ig_luno_stream_stats *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&s->st;
	uint64_t *dst = (uint64_t *)(void *)out;

	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

int ig_luno_stream_stats_json(const struct ig_luno_stream *s, json_t *feed)
{
	struct ig_luno_stream_stats st;
	json_t *rs = json_object(), *sm;
	int rc1, rc2;

	ig_luno_stream_stats(s, &st);
	sm = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "connects", (json_int_t)st.connects,
		       "snapshots", (json_int_t)st.snapshots, "messages", (json_int_t)st.messages,
		       "keepalives", (json_int_t)st.keepalives, "quotes", (json_int_t)st.quotes,
		       "trades", (json_int_t)st.trades, "quotes_dropped", (json_int_t)st.quotes_dropped,
		       "trades_dropped", (json_int_t)st.trades_dropped);
	if (rs == NULL || sm == NULL) {
		json_decref(rs);
		json_decref(sm);
		return IG_ENOMEM;
	}
	json_object_set_new(rs, "total", json_integer((json_int_t)st.resyncs));
	for (int i = 0; i < IG_LUNO_STREAM_R__COUNT; i++)
		json_object_set_new(rs, reason_names[i], json_integer((json_int_t)st.resyncs_by[i]));
	/* Both set (each takes its reference, also when it fails). */
	rc1 = json_object_set_new(feed, "stream_resyncs", rs);
	rc2 = json_object_set_new(feed, "stream", sm);
	return rc1 == 0 && rc2 == 0 ? 0 : IG_ENOMEM;
}

void ig_luno_stream_log_stats(const struct ig_luno_stream *s)
{
	struct ig_luno_stream_stats st;
	char why[256];
	size_t n = 0;

	ig_luno_stream_stats(s, &st);
	why[0] = '\0';
	for (int i = 0; i < IG_LUNO_STREAM_R__COUNT && n < sizeof(why); i++)
		if (st.resyncs_by[i] > 0) {
			int k = snprintf(why + n, sizeof(why) - n, " %s=%llu", reason_names[i],
					 (unsigned long long)st.resyncs_by[i]);
			if (k < 0)
				break;
			n += (size_t)k;
		}
	ig_log_info("luno stream: connects=%llu snapshots=%llu messages=%llu keepalives=%llu quotes=%llu "
		    "trades=%llu quotes_dropped=%llu trades_dropped=%llu ring_wait_us p50=%lld p99=%lld "
		    "resyncs=%llu%s",
		    (unsigned long long)st.connects, (unsigned long long)st.snapshots,
		    (unsigned long long)st.messages, (unsigned long long)st.keepalives,
		    (unsigned long long)st.quotes, (unsigned long long)st.trades,
		    (unsigned long long)st.quotes_dropped, (unsigned long long)st.trades_dropped,
		    (long long)(ig_hist_quantile(&s->ring_wait_ns, 0.5) / 1000),
		    (long long)(ig_hist_quantile(&s->ring_wait_ns, 0.99) / 1000),
		    (unsigned long long)st.resyncs, why);
}
