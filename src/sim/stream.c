/*
 * stream.c - exchange-sim's websocket streams on the REST port (Luno's
 * Streaming API): GET /api/1/stream/<PAIR> (the market: a snapshot of the
 * book as individual orders, then one message per book change, each with
 * the next sequence) and GET /api/1/userstream (the user's order_status,
 * order_fill and balance_update). Shapes: docs/architecture.md,
 * "exchange-sim".
 *
 * Threads and ownership
 * ---------------------
 * The exchange emits messages from whichever thread changed the book, under
 * the server's state mutex (mu): each message is serialised once into a
 * complete websocket frame, reference counted, and appended to every
 * subscribed client's bounded queue (its own mutex, taken under mu: the
 * order is mu -> qmu). A client whose queue is full is marked and dropped
 * by its own thread; matching never waits for a client.
 *
 * Each client has one thread (started by the upgrade handler, detached):
 * it reads the credentials, registers under mu (the snapshot is built in
 * the same critical section, so no change falls between snapshot and
 * updates), then polls its socket (non-blocking) and an eventfd the
 * producers and the hub signal. It sends keep-alives, answers pings and
 * closes. hub.all (under live_mu) lists every live client so that stop and
 * the --ws-drop-every-s fault can kick them; stop waits until none is left.
 */
#include "sim/sim_internal.h"
#include "sim/ws.h"

#include "core/thread.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WS_QUEUE_MAX 8192                  /* messages per client */
#define WS_QUEUE_BYTES ((size_t)64 << 20)  /* bytes per client */
#define WS_IN_MAX 65536                    /* largest client message */
#define WS_AUTH_TIMEOUT_MS 10000

enum { KIND_MARKET = 0, KIND_USER = 1 };

/* One frame, shared by every queue it is in. */
struct wsmsg {
	atomic_int refs;
	size_t len;
	uint8_t data[];
};

struct wsc {
	struct ig_sim_server *s;
	int fd;
	int efd;                             /* eventfd: wake-ups */
	struct MHD_UpgradeResponseHandle *urh;
	int kind;
	uint32_t mk;                         /* KIND_MARKET: its market */

	pthread_mutex_t qmu;                 /* guards q*, overflow */
	struct wsmsg **q;                    /* ring of WS_QUEUE_MAX */
	uint32_t qhead, qn;
	size_t qbytes;
	bool overflow;

	atomic_int kick;                     /* a close code to send, 0 = none */

	uint8_t in[WS_IN_MAX + 16];
	size_t in_len;

	struct wsc *sub_next;                /* hub.subs, under mu */
	struct wsc *all_next;                /* hub.all, under live_mu */
};

/* The upgrade handler's closure, one per kind of stream (and market). */
struct upgrade_arg {
	struct ig_sim_server *s;
	int kind;
	uint32_t mk;
};

struct pend_trade {
	uint64_t maker, taker;
	int64_t qty, counter;
};

/* One market's stream state, under the server's mu. */
struct hub_market {
	uint64_t seq;                        /* last market sequence used */
	uint64_t nmsg;                       /* market messages so far */
	struct pend_trade *pend;
	uint32_t npend, pend_cap;
	uint32_t nsubs;                      /* its market subscribers */
};

struct ig__sim_hub {
	/* Under the server's mu. */
	struct wsc *subs;
	uint32_t nsubs[2];
	struct hub_market hm[IG_SIM_MAX_PAIRS];
	json_t *ubuf;                        /* buffered user messages (array) */
	int64_t last_bal[IG_LEDGER_MAX_ASSETS];
	int64_t last_avail[IG_LEDGER_MAX_ASSETS];
	uint64_t row_index;

	/* Under live_mu. */
	pthread_mutex_t live_mu;
	pthread_cond_t live_cv;
	struct wsc *all;
	uint32_t live;
	bool stopping;

	pthread_t drop_thread;
	bool drop_started;
	struct upgrade_arg ua_user;          /* read-only after start */
	struct upgrade_arg ua_market[IG_SIM_MAX_PAIRS];
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- messages ---- */

/* A text frame holding text; NULL on OOM. */
static struct wsmsg *msg_text(const char *text, size_t n)
{
	size_t h = ig__ws_header_len(n);
	struct wsmsg *m = malloc(sizeof(*m) + h + n);

	if (m == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	ig__ws_header(m->data, IG__WS_OP_TEXT, n);
	memcpy(m->data + h, text, n);
	m->len = h + n;
	return m;
}

/* A control frame (op) with payload; NULL on OOM. */
static struct wsmsg *msg_ctrl(int op, const uint8_t *payload, size_t n)
{
	struct wsmsg *m = malloc(sizeof(*m) + 2 + n);

	if (m == NULL)
		return NULL;
	atomic_init(&m->refs, 1);
	ig__ws_header(m->data, op, n);
	if (n > 0)
		memcpy(m->data + 2, payload, n);
	m->len = 2 + n;
	return m;
}

static void msg_unref(struct wsmsg *m)
{
	if (m != NULL && atomic_fetch_sub(&m->refs, 1) == 1)
		free(m);
}

static void wake(struct wsc *c)
{
	uint64_t one = 1;
	ssize_t w = write(c->efd, &one, sizeof(one));
	(void)w; /* a full counter already means "wake up" */
}

/* Asks c's thread to close with code. */
static void kick(struct wsc *c, int code)
{
	atomic_store(&c->kick, code);
	wake(c);
}

/* Appends m to c's queue (taking a reference), or marks c overflowed. */
static void push(struct wsc *c, struct wsmsg *m)
{
	pthread_mutex_lock(&c->qmu);
	if (c->overflow || c->qn == WS_QUEUE_MAX || c->qbytes + m->len > WS_QUEUE_BYTES) {
		c->overflow = true;
	} else {
		atomic_fetch_add(&m->refs, 1);
		c->q[(c->qhead + c->qn) % WS_QUEUE_MAX] = m;
		c->qn++;
		c->qbytes += m->len;
	}
	pthread_mutex_unlock(&c->qmu);
	wake(c);
}

static struct wsmsg *pop(struct wsc *c, bool *overflow)
{
	struct wsmsg *m = NULL;

	pthread_mutex_lock(&c->qmu);
	*overflow = c->overflow;
	if (!c->overflow && c->qn > 0) {
		m = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % WS_QUEUE_MAX;
		c->qn--;
		c->qbytes -= m->len;
	}
	pthread_mutex_unlock(&c->qmu);
	return m;
}

/* Sends j (stolen) to every subscriber of kind (of market mk, for
 * KIND_MARKET). Caller holds mu. */
static void broadcast(struct ig_sim_server *s, int kind, uint32_t mk, json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	struct wsmsg *m = text != NULL ? msg_text(text, strlen(text)) : NULL;

	json_decref(j);
	free(text);
	for (struct wsc *c = s->hub->subs; c != NULL; c = c->sub_next) {
		if (c->kind != kind || (kind == KIND_MARKET && c->mk != mk))
			continue;
		if (m != NULL) {
			push(c, m);
		} else {
			/* Out of memory: the client would miss a message. */
			pthread_mutex_lock(&c->qmu);
			c->overflow = true;
			pthread_mutex_unlock(&c->qmu);
			wake(c);
		}
	}
	msg_unref(m);
}

/* ---- number formatting ---- */

struct fb {
	char s[IG_FIXED_STRLEN];
};

static const char *fx(struct fb *b, int64_t v)
{
	if (ig_fixed_format(v, b->s, sizeof(b->s)) < 0)
		b->s[0] = '\0';
	return b->s;
}

static const char *fdp(struct fb *b, int64_t v, int dp)
{
	if (ig_fixed_format_dp(v, dp, b->s, sizeof(b->s)) < 0)
		b->s[0] = '\0';
	return b->s;
}

static json_t *id_json(uint64_t id)
{
	char b[16];
	ig__sim_format_id(id, b);
	return json_string(b);
}

/* ---- the market stream ---- */

/* Takes the next market sequence (skipping one every ws_gap_every
 * messages). Caller holds mu. Returns it. */
static uint64_t next_seq(struct ig__sim_market *m)
{
	struct hub_market *h = &m->s->hub->hm[m->index];

	h->nmsg++;
	if (m->s->cfg.ws_gap_every > 0 && h->nmsg % m->s->cfg.ws_gap_every == 0)
		h->seq++; /* the fault: this number is never sent */
	return ++h->seq;
}

/* One market update: the pending trades, an optional create (rested order
 * ro) and an optional delete (del_id != 0). Caller holds mu. */
static void market_update(struct ig__sim_market *m, const struct ig_book_order *ro, uint64_t del_id)
{
	struct ig_sim_server *s = m->s;
	struct hub_market *h = &s->hub->hm[m->index];
	const struct ig_book_cfg *bc = &m->book.cfg;
	uint64_t seq;
	char seqs[24];
	json_t *j, *trades = NULL, *create = NULL, *del = NULL;
	struct fb b1, b2;

	if (h->npend == 0 && ro == NULL && del_id == 0)
		return;
	seq = next_seq(m);
	if (h->nsubs == 0) {
		h->npend = 0;
		return;
	}
	if (h->npend > 0) {
		trades = json_array();
		for (uint32_t i = 0; trades != NULL && i < h->npend; i++) {
			const struct pend_trade *t = &h->pend[i];
			json_array_append_new(trades,
					      json_pack("{s:s, s:s, s:o, s:o}", "base",
							fdp(&b1, t->qty, bc->volume_scale), "counter",
							fx(&b2, t->counter), "maker_order_id",
							id_json(t->maker), "taker_order_id",
							id_json(t->taker)));
		}
		h->npend = 0;
	}
	if (ro != NULL)
		create = json_pack("{s:o, s:s, s:s, s:s}", "order_id", id_json(ro->id), "type",
				   ro->side == IG_BOOK_BID ? "BID" : "ASK", "price",
				   fdp(&b1, ro->px, bc->price_scale), "volume",
				   fdp(&b2, ro->leaves, bc->volume_scale));
	if (del_id != 0)
		del = json_pack("{s:o}", "order_id", id_json(del_id));
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	j = json_pack("{s:s, s:o, s:o, s:o, s:n, s:I}", "sequence", seqs, "trade_updates",
		      trades != NULL ? trades : json_null(), "create_update",
		      create != NULL ? create : json_null(), "delete_update",
		      del != NULL ? del : json_null(), "status_update", "timestamp",
		      (json_int_t)ig__sim_now_ms());
	broadcast(s, KIND_MARKET, m->index, j);
}

static json_t *snapshot_side(const struct ig__sim_market *m, enum ig_book_side side)
{
	const struct ig_book_cfg *bc = &m->book.cfg;
	json_t *a = json_array();
	struct fb b1, b2;

	for (uint32_t i = 0; a != NULL && i < ig_book_levels(&m->book, side); i++) {
		const struct ig_book_level *lv = ig_book_level(&m->book, side, i);
		for (const struct ig_book_order *o = lv->head; o != NULL; o = o->next)
			if (json_array_append_new(
				    a, json_pack("{s:o, s:s, s:s}", "id", id_json(o->id), "price",
						 fdp(&b1, o->px, bc->price_scale), "volume",
						 fdp(&b2, o->leaves, bc->volume_scale))) != 0) {
				json_decref(a);
				return NULL;
			}
	}
	return a;
}

/* The snapshot a new market subscriber starts from. Caller holds mu. */
static json_t *snapshot_json(const struct ig__sim_market *m)
{
	char seqs[24];

	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)m->s->hub->hm[m->index].seq);
	return json_pack("{s:s, s:o, s:o, s:s, s:I}", "sequence", seqs, "asks",
			 snapshot_side(m, IG_BOOK_ASK), "bids", snapshot_side(m, IG_BOOK_BID),
			 "status", "ACTIVE", "timestamp", (json_int_t)ig__sim_now_ms());
}

void ig__sim_stream_trade(struct ig__sim_market *m, const struct ig_book_trade *t)
{
	struct ig__sim_hub *hub = m->s->hub;
	struct hub_market *h;

	if (hub == NULL)
		return;
	h = &hub->hm[m->index];
	if (h->npend == h->pend_cap) {
		uint32_t cap = h->pend_cap ? h->pend_cap * 2 : 64;
		struct pend_trade *n = realloc(h->pend, (size_t)cap * sizeof(*n));
		if (n == NULL) {
			/* Out of memory: drop every market subscriber rather than
			 * send a book that silently diverges. */
			for (struct wsc *c = hub->subs; c != NULL; c = c->sub_next)
				if (c->kind == KIND_MARKET && c->mk == m->index)
					kick(c, IG__WS_CLOSE_TRY_LATER);
			return;
		}
		h->pend = n;
		h->pend_cap = cap;
	}
	h->pend[h->npend].maker = t->maker_order_id;
	h->pend[h->npend].taker = t->taker_order_id;
	h->pend[h->npend].qty = t->qty;
	h->pend[h->npend].counter = t->counter;
	h->npend++;
}

void ig__sim_stream_removed(struct ig__sim_market *m, uint64_t order_id)
{
	if (m->s->hub == NULL)
		return;
	market_update(m, NULL, 0); /* the trades before it, in order */
	market_update(m, NULL, order_id);
}

/* ---- the user stream ---- */

static void user_add(struct ig_sim_server *s, json_t *j)
{
	struct ig__sim_hub *h = s->hub;

	if (j == NULL)
		return;
	if (h->ubuf == NULL)
		h->ubuf = json_array();
	if (h->ubuf == NULL || json_array_append_new(h->ubuf, j) != 0)
		for (struct wsc *c = h->subs; c != NULL; c = c->sub_next)
			if (c->kind == KIND_USER)
				kick(c, IG__WS_CLOSE_TRY_LATER);
}

static json_t *order_status_json(struct ig_sim_server *s, const struct ig__sim_order *o,
				 bool created)
{
	const struct ig_book_cfg *bc = &s->mk[o->mk].book.cfg;
	bool buy = o->side == IG_BOOK_BID, done = o->complete && !created;
	struct fb b1, b2, b3, b4, b5, b6;
	const char *type = o->market ? (buy ? "BUY" : "SELL") : (buy ? "BID" : "ASK");

	return json_pack(
		"{s:s, s:I, s:{s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "type",
		"order_status", "timestamp", (json_int_t)(done ? o->completed_ms : o->created_ms),
		"order_status_update", "order_id", id_json(o->id), "client_order_id",
		o->client_id != NULL ? o->client_id : "", "market_id", s->mk[o->mk].pair, "status",
		done ? "COMPLETE" : "PENDING", "type", type, "limit_price",
		fdp(&b1, o->limit_px, bc->price_scale), "limit_volume",
		fdp(&b2, o->limit_qty, bc->volume_scale), "base",
		fdp(&b3, created ? 0 : o->base, bc->volume_scale), "counter",
		fx(&b4, created ? 0 : o->counter), "fee_base", fx(&b5, created ? 0 : o->fee_base),
		"fee_counter", fx(&b6, created ? 0 : o->fee_counter));
}

void ig__sim_stream_user_status(struct ig_sim_server *s, const struct ig__sim_order *o)
{
	if (s->hub != NULL && s->hub->nsubs[KIND_USER] > 0)
		user_add(s, order_status_json(s, o, false));
}

void ig__sim_stream_user_fill(struct ig_sim_server *s, const struct ig__sim_order *o,
			      const struct ig__sim_trade *t)
{
	const struct ig_book_cfg *bc = &s->mk[o->mk].book.cfg;
	struct fb b[10];

	if (s->hub == NULL || s->hub->nsubs[KIND_USER] == 0)
		return;
	user_add(s, json_pack("{s:s, s:I, s:{s:o, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, "
			      "s:s, s:s, s:s, s:b, s:b}}",
			      "type", "order_fill", "timestamp", (json_int_t)t->ts_ms,
			      "order_fill_update", "order_id", id_json(o->id), "client_order_id",
			      o->client_id != NULL ? o->client_id : "", "market_id", s->mk[o->mk].pair,
			      "sequence", (json_int_t)t->seq, "price",
			      fdp(&b[0], t->px, bc->price_scale), "base_fill",
			      fdp(&b[1], o->base, bc->volume_scale), "counter_fill",
			      fx(&b[2], o->counter), "base_delta",
			      fdp(&b[3], t->qty, bc->volume_scale), "counter_delta",
			      fx(&b[4], t->counter), "base_fee", fx(&b[5], o->fee_base),
			      "counter_fee", fx(&b[6], o->fee_counter), "base_fee_delta",
			      fx(&b[7], t->fee_base), "counter_fee_delta", fx(&b[8], t->fee_counter),
			      "is_buy", (int)t->is_buy, "maker", (int)t->maker));
}

/* balance_update for each of the user's assets that changed since the last
 * one. Caller holds mu. */
static void user_balances(struct ig_sim_server *s)
{
	struct ig__sim_hub *h = s->hub;

	for (uint32_t a = 0; a < s->ledger.nassets; a++) {
		const struct ig_ledger_entry *e = ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, a);
		int64_t avail = e->balance - e->reserved;
		struct fb b1, b2, b3, b4;
		char acct[24];

		if (e->balance == h->last_bal[a] && avail == h->last_avail[a])
			continue;
		if (h->nsubs[KIND_USER] > 0) {
			snprintf(acct, sizeof(acct), "%u", 1000 + a);
			user_add(s, json_pack("{s:s, s:I, s:{s:s, s:s, s:I, s:s, s:s, s:s, s:s}}",
					      "type", "balance_update", "timestamp",
					      (json_int_t)ig__sim_now_ms(), "balance_update",
					      "account_id", acct, "asset", s->ledger.assets[a],
					      "row_index", (json_int_t)++h->row_index, "balance",
					      fx(&b1, e->balance), "balance_delta",
					      fx(&b2, e->balance - h->last_bal[a]), "available",
					      fx(&b3, avail), "available_delta",
					      fx(&b4, avail - h->last_avail[a])));
		}
		h->last_bal[a] = e->balance;
		h->last_avail[a] = avail;
	}
}

void ig__sim_stream_user_flush(struct ig_sim_server *s, const struct ig__sim_order *placed)
{
	struct ig__sim_hub *h = s->hub;
	json_t *buf;
	size_t i;
	json_t *m;

	if (h == NULL)
		return;
	buf = h->ubuf;
	h->ubuf = NULL;
	if (h->nsubs[KIND_USER] > 0 && placed != NULL)
		user_add(s, order_status_json(s, placed, true));
	json_array_foreach(buf, i, m)
		user_add(s, json_incref(m));
	json_decref(buf);
	if (h->nsubs[KIND_USER] > 0 && placed != NULL && placed->complete)
		user_add(s, order_status_json(s, placed, false));
	user_balances(s);
	buf = h->ubuf;
	h->ubuf = NULL;
	json_array_foreach(buf, i, m)
		broadcast(s, KIND_USER, 0, json_incref(m));
	json_decref(buf);
}

/* ---- the book, with its stream ---- */

int ig__sim_book_place(struct ig__sim_market *m, const struct ig_book_req *req,
		       struct ig_book_result *res)
{
	struct ig_sim_server *s = m->s;
	int rc = ig_book_place(&m->book, req, res);

	if (s->hub != NULL) {
		const struct ig_book_order *ro =
			rc == 0 && res->reject == IG_BOOK_REJ_NONE && res->rested
				? ig_book_find(&m->book, req->order_id)
				: NULL;
		market_update(m, ro, 0);
		if (req->account != IG__SIM_ACCT_USER)
			ig__sim_stream_user_flush(s, NULL);
	}
	return rc;
}

int ig__sim_book_cancel(struct ig__sim_market *m, uint64_t order_id, int64_t *leaves)
{
	int rc = ig_book_cancel(&m->book, order_id, leaves);

	if (rc == 0 && m->s->hub != NULL)
		market_update(m, NULL, order_id);
	return rc;
}

/* ---- a client's thread ---- */

/* Sends what it can of buf[*off..len) without blocking. Returns false when
 * the connection is gone. */
static bool send_some(struct wsc *c, const uint8_t *buf, size_t len, size_t *off)
{
	while (*off < len) {
		ssize_t w = send(c->fd, buf + *off, len - *off, MSG_NOSIGNAL);
		if (w > 0) {
			*off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			return true;
		} else {
			return false;
		}
	}
	return true;
}

/* Sends buf whole, waiting up to ms. Returns false if it could not. */
static bool send_wait(struct wsc *c, const uint8_t *buf, size_t len, size_t *off, int ms)
{
	int64_t end = mono_ms() + ms;

	while (*off < len) {
		struct pollfd p = { c->fd, POLLOUT, 0 };
		int64_t left = end - mono_ms();
		if (left <= 0 || !send_some(c, buf, len, off))
			return false;
		if (*off < len && poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return false;
	}
	return true;
}

static void send_close(struct wsc *c, int code, const char *reason)
{
	uint8_t frame[2 + 125];
	size_t n = strlen(reason), off = 0;

	if (n > 123)
		n = 123;
	ig__ws_header(frame, IG__WS_OP_CLOSE, n + 2);
	frame[2] = (uint8_t)(code >> 8);
	frame[3] = (uint8_t)code;
	memcpy(frame + 4, reason, n);
	send_wait(c, frame, n + 4, &off, 1000);
}

/* Reads what is there into c->in. Returns false on EOF or error. */
static bool read_some(struct wsc *c)
{
	for (;;) {
		ssize_t r;
		if (c->in_len == sizeof(c->in))
			return true; /* the parser will say TOO_BIG */
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (r > 0) {
			c->in_len += (size_t)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && errno == EAGAIN) {
			return true;
		} else {
			return false;
		}
	}
}

static bool creds_ok(struct ig_sim_server *s, const uint8_t *p, size_t n)
{
	json_t *j = json_loadb((const char *)p, n, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "api_key_id"));
	const char *sec = json_string_value(json_object_get(j, "api_key_secret"));
	bool ok = id != NULL && sec != NULL && strcmp(id, s->key_id) == 0 &&
		  strcmp(sec, s->key_secret) == 0;

	json_decref(j);
	return ok;
}

/* Subscribes c and queues its first message (the market snapshot). */
static void subscribe(struct wsc *c)
{
	struct ig_sim_server *s = c->s;

	pthread_mutex_lock(&s->mu);
	c->sub_next = s->hub->subs;
	s->hub->subs = c;
	s->hub->nsubs[c->kind]++;
	if (c->kind == KIND_MARKET) {
		json_t *j = snapshot_json(&s->mk[c->mk]);
		s->hub->hm[c->mk].nsubs++;
		char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		struct wsmsg *m = text != NULL ? msg_text(text, strlen(text)) : NULL;
		json_decref(j);
		free(text);
		if (m != NULL)
			push(c, m);
		else
			atomic_store(&c->kick, IG__WS_CLOSE_TRY_LATER);
		msg_unref(m);
	}
	pthread_mutex_unlock(&s->mu);
}

static void unsubscribe(struct wsc *c)
{
	struct ig_sim_server *s = c->s;

	pthread_mutex_lock(&s->mu);
	for (struct wsc **pp = &s->hub->subs; *pp != NULL; pp = &(*pp)->sub_next) {
		if (*pp == c) {
			*pp = c->sub_next;
			s->hub->nsubs[c->kind]--;
			if (c->kind == KIND_MARKET)
				s->hub->hm[c->mk].nsubs--;
			break;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

/*
 * Handles the frames in c->in. Before auth, a text frame is the
 * credentials. Returns 0 to go on, or a close code to send (with *why).
 * -1: the peer closed (reply sent).
 */
static int handle_frames(struct wsc *c, bool *authed, const char **why)
{
	for (;;) {
		size_t off, plen, flen;
		int op = 0;
		int r = ig__ws_parse(c->in, c->in_len, WS_IN_MAX, &op, &off, &plen, &flen);

		if (r == IG__WS_NEED_MORE)
			return 0;
		if (r == IG__WS_BAD_FRAGMENT) {
			*why = "fragmented messages are not supported";
			return IG__WS_CLOSE_UNSUPPORTED;
		}
		if (r == IG__WS_TOO_BIG) {
			*why = "message too big";
			return IG__WS_CLOSE_TOO_BIG;
		}
		if (r != IG__WS_FRAME) {
			*why = "protocol error";
			return IG__WS_CLOSE_PROTOCOL;
		}
		if (op == IG__WS_OP_CLOSE) {
			uint8_t frame[2 + 125];
			size_t o = 0, n = plen >= 2 ? 2 : 0;
			/* Echo the status code, as RFC 6455 asks. */
			ig__ws_header(frame, IG__WS_OP_CLOSE, n);
			memcpy(frame + 2, c->in + off, n);
			send_wait(c, frame, 2 + n, &o, 1000);
			return -1;
		}
		if (op == IG__WS_OP_PING) {
			struct wsmsg *m = msg_ctrl(IG__WS_OP_PONG, c->in + off, plen);
			if (m != NULL) {
				push(c, m);
				msg_unref(m);
			}
		} else if (op == IG__WS_OP_BINARY) {
			*why = "binary messages are not supported";
			return IG__WS_CLOSE_UNSUPPORTED;
		} else if (op == IG__WS_OP_TEXT && !*authed) {
			if (!creds_ok(c->s, c->in + off, plen)) {
				pthread_mutex_lock(&c->s->mu);
				c->s->stats.unauthorised++;
				pthread_mutex_unlock(&c->s->mu);
				*why = "invalid credentials";
				return IG__WS_CLOSE_POLICY;
			}
			*authed = true;
			subscribe(c);
		}
		/* Later text frames (a client's keep-alives) and pongs: ignored. */
		memmove(c->in, c->in + flen, c->in_len - flen);
		c->in_len -= flen;
	}
}

static void client_free(struct wsc *c)
{
	struct ig__sim_hub *h = c->s->hub;
	bool overflow;
	struct wsmsg *m;

	pthread_mutex_lock(&c->qmu);
	c->overflow = false;
	pthread_mutex_unlock(&c->qmu);
	while ((m = pop(c, &overflow)) != NULL)
		msg_unref(m);
	MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
	close(c->efd);
	pthread_mutex_destroy(&c->qmu);
	free(c->q);
	pthread_mutex_lock(&h->live_mu);
	for (struct wsc **pp = &h->all; *pp != NULL; pp = &(*pp)->all_next) {
		if (*pp == c) {
			*pp = c->all_next;
			break;
		}
	}
	free(c);
	h->live--;
	pthread_cond_broadcast(&h->live_cv);
	pthread_mutex_unlock(&h->live_mu);
}

static void *client_main(void *arg)
{
	struct wsc *c = arg;
	struct ig_sim_server *s = c->s;
	struct wsmsg *cur = NULL;
	size_t cur_off = 0;
	bool authed = false, overflow = false;
	int64_t auth_deadline = mono_ms() + WS_AUTH_TIMEOUT_MS;
	int64_t ka_ms = s->cfg.ws_keepalive_ms > 0 ? s->cfg.ws_keepalive_ms : 5000;
	int64_t next_ka = mono_ms() + ka_ms;
	const char *why = "";
	int code = 0;

	for (;;) {
		struct pollfd p[2];
		int64_t now, timeout;
		int k;

		if ((k = atomic_load(&c->kick)) != 0) {
			code = k;
			why = k == IG__WS_CLOSE_GOING_AWAY ? "stream closed by the server"
							   : "server error";
			break;
		}
		if ((code = handle_frames(c, &authed, &why)) != 0)
			break;
		now = mono_ms();
		if (!authed && now >= auth_deadline) {
			code = IG__WS_CLOSE_POLICY;
			why = "no credentials";
			break;
		}
		if (authed && now >= next_ka) {
			struct wsmsg *m = msg_text("\"\"", 2);
			if (m != NULL) {
				push(c, m);
				msg_unref(m);
			}
			next_ka = now + ka_ms;
		}
		if (cur == NULL) {
			cur = pop(c, &overflow);
			cur_off = 0;
			if (overflow) {
				code = IG__WS_CLOSE_TRY_LATER;
				why = "too slow: the send queue overflowed";
				break;
			}
		}
		if (cur != NULL) {
			if (!send_some(c, cur->data, cur->len, &cur_off)) {
				code = -1;
				break;
			}
			if (cur_off == cur->len) {
				msg_unref(cur);
				cur = NULL;
				continue;
			}
		}
		p[0].fd = c->fd;
		p[0].events = (short)(POLLIN | (cur != NULL ? POLLOUT : 0));
		p[0].revents = 0;
		p[1].fd = c->efd;
		p[1].events = POLLIN;
		p[1].revents = 0;
		timeout = (authed ? next_ka : auth_deadline) - now;
		if (timeout < 0)
			timeout = 0;
		if (poll(p, 2, (int)timeout) < 0 && errno != EINTR) {
			code = -1;
			break;
		}
		if (p[1].revents & POLLIN) {
			uint64_t v;
			ssize_t r = read(c->efd, &v, sizeof(v));
			(void)r;
		}
		if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !read_some(c)) {
			code = -1;
			break;
		}
	}
	if (code > 0) {
		/* Finish the frame under way, then say why. */
		if (cur == NULL || send_wait(c, cur->data, cur->len, &cur_off, 1000))
			send_close(c, code, why);
	}
	msg_unref(cur);
	if (authed)
		unsubscribe(c);
	client_free(c);
	return NULL;
}

/* ---- upgrade ---- */

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade_arg *ua = cls;
	struct ig_sim_server *s = ua->s;
	struct ig__sim_hub *h = s->hub;
	struct wsc *c = calloc(1, sizeof(*c));
	pthread_t tid;
	int fl;

	(void)conn;
	(void)con_cls;
	if (c == NULL || extra_in_size > sizeof(c->in) ||
	    (c->q = calloc(WS_QUEUE_MAX, sizeof(*c->q))) == NULL ||
	    (c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		if (c != NULL)
			free(c->q);
		free(c);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	c->s = s;
	c->fd = sock;
	c->urh = urh;
	c->kind = ua->kind;
	c->mk = ua->mk;
	memcpy(c->in, extra_in, extra_in_size);
	c->in_len = extra_in_size;
	pthread_mutex_init(&c->qmu, NULL);
	fl = fcntl(sock, F_GETFL);
	if (fl >= 0)
		fcntl(sock, F_SETFL, fl | O_NONBLOCK);

	pthread_mutex_lock(&h->live_mu);
	if (h->stopping || ig_thread_start_quiet(&tid, client_main, c) != 0) {
		pthread_mutex_unlock(&h->live_mu);
		close(c->efd);
		pthread_mutex_destroy(&c->qmu);
		free(c->q);
		free(c);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	pthread_detach(tid);
	c->all_next = h->all;
	h->all = c;
	h->live++;
	pthread_mutex_unlock(&h->live_mu);
}

/* True if the comma-separated header value v has token t (any case). */
static bool has_token(const char *v, const char *t)
{
	size_t n = strlen(t);

	while (v != NULL && *v != '\0') {
		while (*v == ' ' || *v == ',' || *v == '\t')
			v++;
		if (strncasecmp(v, t, n) == 0 && (v[n] == '\0' || v[n] == ',' || v[n] == ' '))
			return true;
		v = strchr(v, ',');
	}
	return false;
}

int ig__sim_stream_upgrade(struct ig_sim_server *s, struct MHD_Connection *conn,
			   const char *method, const char *url, unsigned *status)
{
	const char *upg = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
	const char *con = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	struct ig__sim_reply r;
	struct MHD_Response *resp;
	struct upgrade_arg *ua;
	char accept[29];
	enum MHD_Result ret;
	struct ig__sim_market *m = NULL;

	memset(&r, 0, sizeof(r));
	if (strcmp(url, "/api/1/userstream") == 0) {
		ua = &s->hub->ua_user;
	} else if (strncmp(url, "/api/1/stream/", 14) == 0 &&
		   (m = ig__sim_market_of(s, url + 14)) != NULL) {
		ua = &s->hub->ua_market[m->index];
	} else {
		ig__sim_error(&r, 404, "ErrInvalidMarketPair", "Market pair is invalid");
		goto reply;
	}
	if (strcmp(method, "GET") != 0 || upg == NULL || strcasecmp(upg, "websocket") != 0 ||
	    !has_token(con, "upgrade") || ver == NULL || strcmp(ver, "13") != 0 ||
	    ig__ws_accept_key(key, accept) != 0) {
		ig__sim_error(&r, 400, "ErrInvalidArguments",
			      "expected a websocket upgrade (RFC 6455, version 13)");
		goto reply;
	}
	pthread_mutex_lock(&s->mu);
	s->stats.ws_connections++;
	pthread_mutex_unlock(&s->mu);
	resp = MHD_create_response_for_upgrade(on_upgrade, ua);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	*status = 101;
	return ret;

reply:
	*status = r.status;
	if (r.body == NULL)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(r.body), r.body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(r.body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", r.content_type);
	ret = MHD_queue_response(conn, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- hub ---- */

static void kick_all(struct ig__sim_hub *h, int code)
{
	pthread_mutex_lock(&h->live_mu);
	for (struct wsc *c = h->all; c != NULL; c = c->all_next) {
		atomic_store(&c->kick, code);
		wake(c);
	}
	pthread_mutex_unlock(&h->live_mu);
}

static void *drop_main(void *arg)
{
	struct ig_sim_server *s = arg;
	struct ig__sim_hub *h = s->hub;

	pthread_mutex_lock(&h->live_mu);
	while (!h->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)s->cfg.ws_drop_every_s;
		while (!h->stopping &&
		       pthread_cond_timedwait(&h->live_cv, &h->live_mu, &ts) != ETIMEDOUT)
			;
		if (h->stopping)
			break;
		for (struct wsc *c = h->all; c != NULL; c = c->all_next) {
			atomic_store(&c->kick, IG__WS_CLOSE_GOING_AWAY);
			wake(c);
		}
	}
	pthread_mutex_unlock(&h->live_mu);
	return NULL;
}

int ig__sim_hub_start(struct ig_sim_server *s)
{
	struct ig__sim_hub *h = calloc(1, sizeof(*h));
	pthread_condattr_t ca;

	if (h == NULL)
		return IG_ENOMEM;
	pthread_mutex_init(&h->live_mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->live_cv, &ca);
	pthread_condattr_destroy(&ca);
	for (uint32_t a = 0; a < s->ledger.nassets; a++) {
		const struct ig_ledger_entry *e = ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, a);
		h->last_bal[a] = e->balance;
		h->last_avail[a] = e->balance - e->reserved;
	}
	h->ua_user.s = s;
	h->ua_user.kind = KIND_USER;
	for (uint32_t k = 0; k < IG_SIM_MAX_PAIRS; k++) {
		h->ua_market[k].s = s;
		h->ua_market[k].kind = KIND_MARKET;
		h->ua_market[k].mk = k;
	}
	s->hub = h;
	if (s->cfg.ws_drop_every_s > 0) {
		if (ig_thread_start_quiet(&h->drop_thread, drop_main, s) != 0) {
			ig__sim_hub_free(s);
			return IG_ETHREAD;
		}
		h->drop_started = true;
	}
	return 0;
}

void ig__sim_hub_stop(struct ig_sim_server *s)
{
	struct ig__sim_hub *h = s->hub;

	if (h == NULL)
		return;
	pthread_mutex_lock(&h->live_mu);
	h->stopping = true;
	pthread_cond_broadcast(&h->live_cv);
	pthread_mutex_unlock(&h->live_mu);
	if (h->drop_started) {
		pthread_join(h->drop_thread, NULL);
		h->drop_started = false;
	}
	kick_all(h, IG__WS_CLOSE_GOING_AWAY);
	pthread_mutex_lock(&h->live_mu);
	while (h->live > 0)
		pthread_cond_wait(&h->live_cv, &h->live_mu);
	pthread_mutex_unlock(&h->live_mu);
}

void ig__sim_hub_free(struct ig_sim_server *s)
{
	struct ig__sim_hub *h = s->hub;

	if (h == NULL)
		return;
	json_decref(h->ubuf);
	for (uint32_t k = 0; k < IG_SIM_MAX_PAIRS; k++)
		free(h->hm[k].pend);
	pthread_cond_destroy(&h->live_cv);
	pthread_mutex_destroy(&h->live_mu);
	free(h);
	s->hub = NULL;
}
