/*
 * test_luno_venue.c - the Luno venue (src/luno/luno_venue.c) and the luno market
 * data poller (src/luno/luno_feed.c) against a tiny scripted Luno on
 * 127.0.0.1 (libmicrohttpd, port 0, started and stopped around each test).
 *
 * The fake keeps a few orders by client_order_id and answers postorder,
 * marketorder, stoporder, exchange/3/order, listtrades, markets, ticker and
 * orderbook_top with canned replies chosen by the test: accept, reject,
 * 500 (placed or not), 409, 429, truncated JSON, too slow (placed, answered
 * after the client's timeout). It logs every request with its time, so the
 * tests can count postorders, check bodies and check the request budget.
 *
 * The venue is driven directly: its ops with a capturing struct ig_emit,
 * poll() pumped in a bounded loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "luno/luno_venue.h"
#include "luno/luno_user.h"
#include "luno/luno_budget.h"
#include "luno/luno_feed.h"
#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"
#include "sim/sim.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEY_ENV "IGT_LUNO_KEY_ID"
#define SECRET_ENV "IGT_LUNO_SECRET"
#define MS INT64_C(1000000)

/* ------------------------------------------------------------ the fake */

struct hreq {
	char method[8];
	char path[128];
	char query[512];
	char body[512];
	char authz[256];
	int64_t t_ns;
};

struct forder {
	char coid[32];
	char oid[32];
	char status[16];
	char base[32];
	char side[8];
};

enum post_mode {
	PM_ACCEPT = 0,  /* place, 200 {"order_id"} */
	PM_REJECT,      /* post_status + post_body, not placed */
	PM_500,         /* 500; placed if place_on_fail */
	PM_TRUNCATED,   /* placed; 200 with a truncated body */
	PM_SLOW,        /* placed; answers after delay_ms */
	PM_409,         /* 409 ErrDuplicateClientOrderID (placed if place_on_fail) */
	PM_ECHO,        /* 400 with the credentials in the message (hostile) */
};

static struct fake {
	pthread_mutex_t mu;
	struct MHD_Daemon *d;
	uint16_t port;
	struct hreq log[1024];
	unsigned nlog;
	int post_mode;
	int post_status;
	char post_body[512];
	bool place_on_fail;
	int post_429_left;  /* answer 429 to this many postorders first */
	int delay_ms;
	char trades[8192];  /* listtrades reply, as is */
	int trades_status;
	char markets[1024];
	char ticker[512];
	int ticker_status;
	char top[512];
	char ioc_base[32];  /* base filled of an IOC/FOK order when placed */
	char stop_base[32]; /* base filled when a stoporder completes it */
	char echo[512];     /* PM_ECHO: text to put in the error */
	char lorders[8192]; /* listorders reply, as is */
	int orders_status;
	char balance[2048]; /* balance reply, as is */
	int balance_status;
	bool all_500;       /* every request answers 500 */
	int stop_fail_left; /* answer stop_status/stop_body to this many stoporders first (-1: all) */
	int stop_status;
	char stop_body[256];
	long long created_ms; /* the orders' creation_timestamp; 0 = not in the reply */
	struct forder orders[64];
	unsigned norders;
	unsigned next_oid;
} F;

struct conn_ctx {
	char body[512];
	size_t len;
};

struct qs_ctx {
	char *buf;
	size_t cap;
};

static enum MHD_Result qs_it(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct qs_ctx *q = cls;
	size_t n = strlen(q->buf);
	(void)kind;
	snprintf(q->buf + n, q->cap - n, "%s%s=%s", n > 0 ? "&" : "", key, value != NULL ? value : "");
	return MHD_YES;
}

/* Value of key in "k=v&k=v" into out ("" if absent). */
static void arg(const char *qs, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = qs;
	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, "&");
			if (n >= cap)
				n = cap - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return;
		}
		p = strchr(p, '&');
		if (p != NULL)
			p++;
	}
}

static struct forder *fake_find(const char *coid, const char *oid)
{
	for (unsigned i = 0; i < F.norders; i++) {
		if (coid != NULL && strcmp(F.orders[i].coid, coid) == 0)
			return &F.orders[i];
		if (oid != NULL && strcmp(F.orders[i].oid, oid) == 0)
			return &F.orders[i];
	}
	return NULL;
}

static struct forder *fake_place(const char *coid, const char *status, const char *base,
				 const char *side)
{
	struct forder *o = &F.orders[F.norders++ % 64];
	snprintf(o->coid, sizeof(o->coid), "%s", coid);
	snprintf(o->oid, sizeof(o->oid), "BX%u", ++F.next_oid);
	snprintf(o->status, sizeof(o->status), "%s", status);
	snprintf(o->base, sizeof(o->base), "%s", base);
	snprintf(o->side, sizeof(o->side), "%s", side);
	return o;
}

static void fake_order_json(const struct forder *o, char *out, size_t cap)
{
	char created[48] = "";
	if (F.created_ms != 0)
		snprintf(created, sizeof(created), ",\"creation_timestamp\":%lld", F.created_ms);
	snprintf(out, cap,
		 "{\"order_id\":\"%s\",\"client_order_id\":\"%s\",\"status\":\"%s\",\"side\":\"%s\","
		 "\"type\":\"LIMIT\",\"base\":\"%s\",\"counter\":\"0\",\"fee_base\":\"0\",\"fee_counter\":\"0\","
		 "\"limit_price\":\"100\",\"limit_volume\":\"1\",\"pair\":\"XBTZAR\"%s}",
		 o->oid, o->coid, o->status, o->side, o->base, created);
}

/* listtrades: a sort_desc request (the probe) gets T_probe if set; one
 * with since= later than T_cut gets T_after if set (what Luno would list
 * from there); else F.trades. */
static char T_probe[2048], T_after[4096];
static long long T_cut;
/* ... and one with after_seq >= T_seq_cut gets T_seqd, if set. */
static char T_seqd[4096];
static long long T_seq_cut;

/* Decides the reply to one request. Called with F.mu held. */
static void fake_answer(const struct hreq *rq, int *status, char *out, size_t cap, int *delay_ms)
{
	char coid[32], oid[32], tif[8], type[8];
	struct forder *o;

	*status = 200;
	*delay_ms = 0;
	snprintf(out, cap, "{}");
	if (F.all_500) {
		*status = 500;
		snprintf(out, cap, "<html><body>Internal Server Error</body></html>");
		return;
	}
	if (strcmp(rq->path, "/api/1/listorders") == 0) {
		*status = F.orders_status;
		snprintf(out, cap, "%s", F.lorders);
		return;
	}
	if (strcmp(rq->path, "/api/1/balance") == 0) {
		*status = F.balance_status;
		snprintf(out, cap, "%s", F.balance);
		return;
	}
	if (strcmp(rq->path, "/api/1/postorder") == 0 || strcmp(rq->path, "/api/1/marketorder") == 0) {
		arg(rq->body, "client_order_id", coid, sizeof(coid));
		arg(rq->body, "time_in_force", tif, sizeof(tif));
		arg(rq->body, "type", type, sizeof(type));
		const char *side = strcmp(type, "BID") == 0 || strcmp(type, "BUY") == 0 ? "BUY" : "SELL";
		const char *st = strcmp(tif, "IOC") == 0 || strcmp(tif, "FOK") == 0 ||
					 strcmp(rq->path, "/api/1/marketorder") == 0
				 ? "COMPLETE"
				 : "PENDING";
		const char *base = strcmp(st, "COMPLETE") == 0 ? F.ioc_base : "0";
		if (F.post_429_left > 0) {
			F.post_429_left--;
			*status = 429;
			*delay_ms = F.delay_ms;
			snprintf(out, cap, "{\"error\":\"slow down\",\"error_code\":\"ErrTooManyRequests\"}");
			return;
		}
		switch (F.post_mode) {
		case PM_ACCEPT:
			o = fake_place(coid, st, base, side);
			snprintf(out, cap, "{\"order_id\":\"%s\"}", o->oid);
			return;
		case PM_REJECT:
			*status = F.post_status;
			snprintf(out, cap, "%s", F.post_body);
			return;
		case PM_500:
			if (F.place_on_fail)
				fake_place(coid, st, base, side);
			*status = 500;
			snprintf(out, cap, "<html><body>Internal Server Error</body></html>");
			return;
		case PM_TRUNCATED:
			o = fake_place(coid, st, base, side);
			snprintf(out, cap, "{\"order_id\":\"%s", o->oid);
			return;
		case PM_SLOW:
			o = fake_place(coid, st, base, side);
			snprintf(out, cap, "{\"order_id\":\"%s\"}", o->oid);
			*delay_ms = F.delay_ms;
			return;
		case PM_409:
			if (F.place_on_fail && fake_find(coid, NULL) == NULL)
				fake_place(coid, st, base, side);
			*status = 409;
			snprintf(out, cap, "{\"error\":\"duplicate\",\"error_code\":\"ErrDuplicateClientOrderID\"}");
			return;
		case PM_ECHO:
			*status = 400;
			snprintf(out, cap, "{\"error\":\"auth %s %s\",\"error_code\":\"%s\"}", rq->authz, F.echo,
				 F.echo);
			return;
		default:
			return;
		}
	}
	if (strcmp(rq->path, "/api/1/stoporder") == 0) {
		if (F.stop_fail_left != 0) {
			if (F.stop_fail_left > 0)
				F.stop_fail_left--;
			*status = F.stop_status;
			snprintf(out, cap, "%s", F.stop_body);
			return;
		}
		arg(rq->body, "order_id", oid, sizeof(oid));
		o = fake_find(NULL, oid);
		if (o == NULL) {
			*status = 404;
			snprintf(out, cap, "{\"error\":\"no\",\"error_code\":\"ErrOrderNotFound\"}");
			return;
		}
		snprintf(o->status, sizeof(o->status), "COMPLETE");
		snprintf(o->base, sizeof(o->base), "%s", F.stop_base);
		snprintf(out, cap, "{\"success\":true}");
		return;
	}
	if (strcmp(rq->path, "/api/exchange/3/order") == 0) {
		arg(rq->query, "client_order_id", coid, sizeof(coid));
		o = fake_find(coid, NULL);
		if (o == NULL) {
			*status = 404;
			snprintf(out, cap, "{\"error\":\"Order not found\",\"error_code\":\"ErrOrderNotFound\"}");
			return;
		}
		fake_order_json(o, out, cap);
		return;
	}
	if (strcmp(rq->path, "/api/1/listtrades") == 0) {
		char sd_[8], since_[32], aseq_[32];
		arg(rq->query, "sort_desc", sd_, sizeof(sd_));
		arg(rq->query, "since", since_, sizeof(since_));
		arg(rq->query, "after_seq", aseq_, sizeof(aseq_));
		*status = F.trades_status;
		if (T_probe[0] != '\0' && strcmp(sd_, "true") == 0)
			snprintf(out, cap, "%s", T_probe);
		else if (T_seqd[0] != '\0' && aseq_[0] != '\0' && atoll(aseq_) >= T_seq_cut)
			snprintf(out, cap, "%s", T_seqd);
		else if (T_after[0] != '\0' && since_[0] != '\0' && atoll(since_) > T_cut)
			snprintf(out, cap, "%s", T_after);
		else
			snprintf(out, cap, "%s", F.trades);
		return;
	}
	if (strcmp(rq->path, "/api/exchange/1/markets") == 0) {
		snprintf(out, cap, "%s", F.markets);
		return;
	}
	if (strcmp(rq->path, "/api/1/ticker") == 0) {
		*status = F.ticker_status;
		snprintf(out, cap, "%s", F.ticker);
		return;
	}
	if (strcmp(rq->path, "/api/1/orderbook_top") == 0) {
		snprintf(out, cap, "%s", F.top);
		return;
	}
	*status = 404;
	snprintf(out, cap, "{\"error\":\"no such endpoint\",\"error_code\":\"ErrNotFound\"}");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct conn_ctx *cx = *con_cls;
	struct MHD_Response *resp;
	struct hreq rq;
	struct qs_ctx q;
	static char out[16384];
	char local[16384];
	const char *a;
	int status, delay_ms;
	enum MHD_Result r;
	(void)cls;
	(void)version;

	if (cx == NULL) {
		cx = calloc(1, sizeof(*cx));
		if (cx == NULL)
			return MHD_NO;
		*con_cls = cx;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		if (n > sizeof(cx->body) - 1 - cx->len)
			n = sizeof(cx->body) - 1 - cx->len;
		memcpy(cx->body + cx->len, upload_data, n);
		cx->len += n;
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&rq, 0, sizeof(rq));
	snprintf(rq.method, sizeof(rq.method), "%s", method);
	snprintf(rq.path, sizeof(rq.path), "%s", url);
	q.buf = rq.query;
	q.cap = sizeof(rq.query);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, qs_it, &q);
	snprintf(rq.body, sizeof(rq.body), "%s", cx->body);
	a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(rq.authz, sizeof(rq.authz), "%s", a != NULL ? a : "");
	rq.t_ns = ig_clock_mono_ns();
	pthread_mutex_lock(&F.mu);
	if (F.nlog < sizeof(F.log) / sizeof(F.log[0]))
		F.log[F.nlog++] = rq;
	fake_answer(&rq, &status, out, sizeof(out), &delay_ms);
	memcpy(local, out, sizeof(local));
	pthread_mutex_unlock(&F.mu);
	if (delay_ms > 0)
		usleep((useconds_t)delay_ms * 1000);
	resp = MHD_create_response_from_buffer(strlen(local), local, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	r = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static void fake_start(void)
{
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *di;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	F.d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
			       NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
			       (unsigned)10, MHD_OPTION_END);
	assert_non_null(F.d);
	di = MHD_get_daemon_info(F.d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(di);
	F.port = di->port;
	assert_true(F.port != 0);
}

static void fake_reset(void)
{
	pthread_mutex_lock(&F.mu);
	F.nlog = 0;
	F.post_mode = PM_ACCEPT;
	F.post_status = 400;
	F.post_body[0] = '\0';
	F.place_on_fail = false;
	F.post_429_left = 0;
	F.delay_ms = 0;
	snprintf(F.trades, sizeof(F.trades), "{\"trades\":[]}");
	F.trades_status = 200;
	snprintf(F.markets, sizeof(F.markets),
		 "{\"markets\":[{\"market_id\":\"XBTZAR\",\"price_scale\":0,\"volume_scale\":4,"
		 "\"min_volume\":\"0.0001\",\"trading_status\":\"ACTIVE\"}]}");
	snprintf(F.ticker, sizeof(F.ticker), "{\"bid\":\"100.5\",\"ask\":\"101.25\",\"timestamp\":1700000000123}");
	F.ticker_status = 200;
	snprintf(F.top, sizeof(F.top),
		 "{\"timestamp\":1700000000456,\"bids\":[{\"price\":\"99\",\"volume\":\"0.75\"}],"
		 "\"asks\":[{\"price\":\"99.5\",\"volume\":\"1.25\"}]}");
	snprintf(F.ioc_base, sizeof(F.ioc_base), "0");
	snprintf(F.stop_base, sizeof(F.stop_base), "0");
	F.echo[0] = '\0';
	snprintf(F.lorders, sizeof(F.lorders), "{\"orders\":null}");
	F.orders_status = 200;
	snprintf(F.balance, sizeof(F.balance),
		 "{\"balance\":[{\"account_id\":\"1\",\"asset\":\"XBT\",\"balance\":\"1.5\",\"reserved\":\"0\"},"
		 "{\"account_id\":\"2\",\"asset\":\"ZAR\",\"balance\":\"1000\",\"reserved\":\"0\"}]}");
	F.balance_status = 200;
	F.all_500 = false;
	F.stop_fail_left = 0;
	F.stop_status = 500;
	snprintf(F.stop_body, sizeof(F.stop_body), "<html><body>Internal Server Error</body></html>");
	F.norders = 0;
	F.next_oid = 0;
	F.created_ms = 0;
	T_probe[0] = T_after[0] = T_seqd[0] = '\0';
	T_cut = T_seq_cut = 0;
	pthread_mutex_unlock(&F.mu);
}

/* Requests to path so far (and the index of the first, if wanted). */
static unsigned count_path(const char *path)
{
	unsigned n = 0;
	pthread_mutex_lock(&F.mu);
	for (unsigned i = 0; i < F.nlog; i++)
		if (strcmp(F.log[i].path, path) == 0)
			n++;
	pthread_mutex_unlock(&F.mu);
	return n;
}

/* The first request to path, or a zeroed one. */
static struct hreq first_req(const char *path)
{
	struct hreq r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&F.mu);
	for (unsigned i = 0; i < F.nlog; i++) {
		if (strcmp(F.log[i].path, path) == 0) {
			r = F.log[i];
			break;
		}
	}
	pthread_mutex_unlock(&F.mu);
	return r;
}

static struct hreq last_req(const char *path)
{
	struct hreq r;
	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&F.mu);
	for (unsigned i = F.nlog; i-- > 0;) {
		if (strcmp(F.log[i].path, path) == 0) {
			r = F.log[i];
			break;
		}
	}
	pthread_mutex_unlock(&F.mu);
	return r;
}

/* ---------------------------------------------------- the venue harness */

#define CAP 512

static struct cap {
	struct ig_emit emit; /* first: fn casts back */
	unsigned n;
	struct ig_event ev[CAP];
} out;

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	(void)idx;
	assert_int_equal(dst, IG_STAGE_OMS);
	if (c->n >= CAP)
		fail_msg("venue emitted more than %d events", CAP);
	c->ev[c->n++] = *ev;
}

static struct ig_luno V;
static bool v_up;
static struct ig_luno_opts O;
static struct ig_luno_budget B;
static struct ig_recover_order RO[8]; /* recovery: the journal's orders */
static struct ig_recover RC;

static void opts_default(void)
{
	static char url[64];
	ig_luno_opts_default(&O);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)F.port);
	O.base_url = url;
	O.key_id_env = KEY_ENV;
	O.secret_env = SECRET_ENV;
	O.pairs[0] = "XBTZAR";
	O.npairs = 1;
	O.price_scale[0] = 2;
	O.volume_scale[0] = 6;
	O.connect_timeout_ms = 500;
	O.timeout_ms = 400;
	O.status_ms = 30;
	O.in_doubt_window_ms = 300;
	O.requests_per_min = 60000;
	O.backoff_base_ms = 40;
	O.max_send_attempts = 2;
}

static void venue_up(void)
{
	char err[256];
	int rc = ig_luno_init(&V, &O, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_luno_init: %s", err);
	v_up = true;
}

static int setup(void **state)
{
	(void)state;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;
	setenv(KEY_ENV, "testkeyid", 1);
	setenv(SECRET_ENV, "testsecret", 1);
	fake_reset();
	fake_start();
	opts_default();
	memset(&RC, 0, sizeof(RC));
	v_up = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (v_up) {
		ig_luno_destroy(&V);
		v_up = false;
	}
	MHD_stop_daemon(F.d);
	F.d = NULL;
	return 0;
}

static void pump_once(void)
{
	ig_luno_poll(&V, ig_clock_mono_ns(), &out.emit);
}

/* Pumps poll() until cond holds or max_ms pass; the result is cond. */
#define PUMP_UNTIL(cond, max_ms)                                                      \
	__extension__({                                                                             \
		int64_t end_ = ig_clock_mono_ns() + (int64_t)(max_ms) * MS;            \
		bool ok_ = false;                                                      \
		while (!(ok_ = (cond)) && ig_clock_mono_ns() < end_) {                 \
			pump_once();                                                   \
			usleep(100);                                                   \
		}                                                                      \
		ok_;                                                                   \
	})

static void pump_for(int64_t ms)
{
	int64_t end = ig_clock_mono_ns() + ms * MS;
	while (ig_clock_mono_ns() < end) {
		pump_once();
		usleep(100);
	}
}

static unsigned count_ev(enum ig_event_type t, int state)
{
	unsigned n = 0;
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == t &&
		    (state < 0 || t != IG_EV_ORDER_UPDATE || out.ev[i].body.update.state == state))
			n++;
	return n;
}

static const struct ig_event *find_ev(enum ig_event_type t, int state)
{
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == t &&
		    (state < 0 || t != IG_EV_ORDER_UPDATE || out.ev[i].body.update.state == state))
			return &out.ev[i];
	return NULL;
}

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static void send_order(uint64_t cid, uint8_t side, uint8_t type, const char *px, const char *qty,
		       uint8_t tif, uint8_t flags)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.strategy_id = 3;
	ev.hdr.instrument_id = 0;
	ev.hdr.ts_origin_ns = 12345;
	ev.body.order.client_id = cid;
	ev.body.order.px = px != NULL ? D(px) : 0;
	ev.body.order.qty = D(qty);
	ev.body.order.side = side;
	ev.body.order.type = type;
	ev.body.order.tif = tif;
	ev.body.order.flags = flags;
	ig_luno_ops.submit(&V, &ev, &out.emit);
}

static void send_cancel(uint64_t cid)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CANCEL;
	ev.hdr.strategy_id = 3;
	ev.body.cancel.client_id = cid;
	ig_luno_ops.cancel(&V, &ev, &out.emit);
}

static void coid(uint64_t cid, char *buf)
{
	ig_luno_client_order_id(cid, buf, 24);
}

/* ----------------------------------------------------------------- tests */

static void test_accept_limit(void **state)
{
	struct hreq r;
	char v[64], c[24];
	const struct ig_event *e;
	(void)state;

	venue_up();
	send_order(0x11, IG_SIDE_BUY, IG_ORD_LIMIT, "1234567.895", "0.01234567", IG_TIF_GTC,
		   IG_ORDF_POST_ONLY);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	e = find_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED);
	assert_int_equal(e->hdr.strategy_id, 3);
	assert_int_equal(e->body.update.client_id, 0x11);
	assert_int_equal(e->body.update.venue_order_id, ig_luno_venue_id("BX1"));
	assert_int_equal(e->body.update.side, IG_SIDE_BUY);
	r = last_req("/api/1/postorder");
	assert_string_equal(r.method, "POST");
	arg(r.body, "pair", v, sizeof(v));
	assert_string_equal(v, "XBTZAR");
	arg(r.body, "type", v, sizeof(v));
	assert_string_equal(v, "BID");
	/* The volume rounds down to the pair's 6 decimals. */
	arg(r.body, "volume", v, sizeof(v));
	assert_string_equal(v, "0.012345");
	/* A bid's price rounds down to the scale. */
	arg(r.body, "price", v, sizeof(v));
	assert_string_equal(v, "1234567.89");
	arg(r.body, "post_only", v, sizeof(v));
	assert_string_equal(v, "true");
	arg(r.body, "time_in_force", v, sizeof(v));
	assert_string_equal(v, "GTC");
	arg(r.body, "client_order_id", v, sizeof(v));
	coid(0x11, c);
	assert_string_equal(v, c);
	/* HTTP basic auth: base64("testkeyid:testsecret"). */
	assert_string_equal(r.authz, "Basic dGVzdGtleWlkOnRlc3RzZWNyZXQ=");

	/* An ask rounds up, and IOC/FOK go as asked. */
	send_order(0x12, IG_SIDE_SELL, IG_ORD_LIMIT, "100.001", "2", IG_TIF_FOK, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	r = last_req("/api/1/postorder");
	arg(r.body, "type", v, sizeof(v));
	assert_string_equal(v, "ASK");
	arg(r.body, "price", v, sizeof(v));
	assert_string_equal(v, "100.01");
	arg(r.body, "volume", v, sizeof(v));
	assert_string_equal(v, "2.000000");
	arg(r.body, "time_in_force", v, sizeof(v));
	assert_string_equal(v, "FOK");
	arg(r.body, "post_only", v, sizeof(v));
	assert_string_equal(v, "");
	/* The FOK found nothing: EXPIRED once Luno says COMPLETE. */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_EXPIRED) == 1, 3000));
	assert_int_equal(count_path("/api/1/postorder"), 2);
	assert_int_equal(V.stats.accepted, 2);
	assert_int_equal(V.stats.expired, 1);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 0);
	/* The two submits' round trips, apart from the other requests: what
	 * the summary records as venue.round_trip_ns (venue.latency_from). */
	assert_int_equal(V.stats.order_rtt_ns.count, 2);
	assert_true(V.stats.rtt_ns.count > 2);
	assert_ptr_equal(ig_luno_ops.round_trips(&V), &V.stats.order_rtt_ns);
}

static void test_reject_mapped(void **state)
{
	const struct ig_event *e;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_REJECT;
	F.post_status = 400;
	snprintf(F.post_body, sizeof(F.post_body),
		 "{\"error\":\"Insufficient balance.\",\"error_code\":\"ErrInsufficientBalance\",\"error_action\":{}}");
	pthread_mutex_unlock(&F.mu);
	send_order(0x21, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 3000));
	e = find_ev(IG_EV_REJECT, -1);
	assert_int_equal(e->body.reject.client_id, 0x21);
	assert_int_equal(e->body.reject.by_venue, 1);
	assert_int_equal(e->body.reject.reason, IG_RJ_VENUE_INSUFFICIENT_BALANCE);
	assert_int_equal(e->body.reject.qty, IG_FIXED(1));
	assert_int_equal(e->hdr.strategy_id, 3);

	pthread_mutex_lock(&F.mu);
	snprintf(F.post_body, sizeof(F.post_body), "{\"error\":\"would trade\",\"error_code\":\"ErrPostOnlyMode\"}");
	pthread_mutex_unlock(&F.mu);
	send_order(0x22, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, IG_ORDF_POST_ONLY);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 2, 3000));
	assert_int_equal(out.ev[out.n - 1].body.reject.reason, IG_RJ_VENUE_POST_ONLY);

	/* A 4xx with an HTML body: rejected all the same, counted malformed. */
	pthread_mutex_lock(&F.mu);
	F.post_status = 403;
	snprintf(F.post_body, sizeof(F.post_body), "<html>Forbidden</html>");
	pthread_mutex_unlock(&F.mu);
	send_order(0x23, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 3, 3000));
	assert_int_equal(out.ev[out.n - 1].body.reject.reason, IG_RJ_VENUE);
	assert_int_equal(V.stats.malformed, 1);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 0);
	assert_int_equal(count_path("/api/1/postorder"), 3);
	assert_int_equal(V.live, 0);
}

static void test_500_in_doubt_found(void **state)
{
	const struct ig_event *e;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_500;
	F.place_on_fail = true;
	pthread_mutex_unlock(&F.mu);
	send_order(0x31, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	/* IN_DOUBT first, then ACCEPTED from the lookup. */
	assert_int_equal(out.ev[0].hdr.type, IG_EV_ORDER_UPDATE);
	assert_int_equal(out.ev[0].body.update.state, IG_OS_IN_DOUBT);
	e = find_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED);
	assert_int_equal(e->body.update.venue_order_id, ig_luno_venue_id("BX1"));
	pump_for(100);
	/* Never sent again. */
	assert_int_equal(count_path("/api/1/postorder"), 1);
	assert_true(count_path("/api/exchange/3/order") >= 1);
	assert_int_equal(V.stats.in_doubt, 1);
	assert_int_equal(V.stats.in_doubt_found, 1);
	assert_int_equal(V.stats.http_5xx, 1);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 0);
}

static void test_500_in_doubt_not_found(void **state)
{
	const struct ig_event *e;
	int64_t t0;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_500;
	F.place_on_fail = false;
	pthread_mutex_unlock(&F.mu);
	t0 = ig_clock_mono_ns();
	send_order(0x32, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 3000));
	/* Not before the submit window has passed. */
	assert_true(ig_clock_mono_ns() - t0 >= O.in_doubt_window_ms * MS);
	assert_int_equal(out.ev[0].body.update.state, IG_OS_IN_DOUBT);
	e = find_ev(IG_EV_REJECT, -1);
	assert_int_equal(e->body.reject.by_venue, 1);
	assert_int_equal(e->body.reject.reason, IG_RJ_VENUE);
	assert_int_equal(count_path("/api/1/postorder"), 1);
	assert_true(count_path("/api/exchange/3/order") >= 2);
	assert_int_equal(V.stats.in_doubt_not_found, 1);
	/* Still looked for now and then (it could land late), but nothing
	 * waits for it. */
	assert_int_equal(V.live, 1);
	assert_false(ig_luno_busy(&V));
}

static void test_409_looks_up(void **state)
{
	char c[24];
	(void)state;

	venue_up();
	coid(0x41, c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "PENDING", "0", "BUY"); /* an earlier send got there */
	F.post_mode = PM_409;
	pthread_mutex_unlock(&F.mu);
	send_order(0x41, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	pump_for(60);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_IN_DOUBT), 0);
	assert_int_equal(find_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED)->body.update.venue_order_id,
			 ig_luno_venue_id("BX1"));
	assert_int_equal(count_path("/api/1/postorder"), 1);
	assert_true(count_path("/api/exchange/3/order") >= 1);
	assert_int_equal(V.stats.duplicate_409, 1);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 0);
}

/* Requests in the fake's log, with times, all paths. */
static unsigned log_times(int64_t *t, unsigned cap)
{
	unsigned n;
	pthread_mutex_lock(&F.mu);
	n = F.nlog < cap ? F.nlog : cap;
	for (unsigned i = 0; i < n; i++)
		t[i] = F.log[i].t_ns;
	pthread_mutex_unlock(&F.mu);
	return n;
}

/* No window [t_i, t_j] holds more calls than the budget allows (with one
 * call of slack for clock jitter between client and server). */
static void assert_within_budget(const struct ig_luno_budget *b)
{
	static int64_t t[1024];
	unsigned n = log_times(t, 1024);
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i; j < n; j++) {
			int64_t allowed = b->burst + (t[j] - t[i]) / b->interval_ns + 1;
			if ((int64_t)(j - i + 1) > allowed)
				fail_msg("%u calls in %lld ms, budget allows %lld", j - i + 1,
					 (long long)((t[j] - t[i]) / MS), (long long)allowed);
		}
}

static void test_429_backoff(void **state)
{
	int64_t t[3];
	unsigned k = 0;
	(void)state;

	ig_luno_budget_init(&B, 600, 2, 40); /* 100 ms apart after a burst of 2 */
	O.budget = &B;
	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_429_left = 2;
	pthread_mutex_unlock(&F.mu);
	send_order(0x51, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 5000));
	assert_int_equal(count_path("/api/1/postorder"), 3);
	assert_int_equal(V.stats.http_429, 2);
	assert_true(V.stats.retries >= 2);
	assert_int_equal(B.throttled, 2);
	pthread_mutex_lock(&F.mu);
	for (unsigned i = 0; i < F.nlog && k < 3; i++)
		if (strcmp(F.log[i].path, "/api/1/postorder") == 0)
			t[k++] = F.log[i].t_ns;
	pthread_mutex_unlock(&F.mu);
	/* Backoff 40 ms then 80 ms, each jittered into [d/2, d). */
	assert_true(t[1] - t[0] >= 20 * MS);
	assert_true(t[2] - t[1] >= 40 * MS);
	/* Success resets the backoff. */
	assert_int_equal(B.level, 0);
	/* A cancel that arrives while the submit is being refused with 429:
	 * the submit is not sent again, the order is cancelled here. */
	pthread_mutex_lock(&F.mu);
	F.post_429_left = 1;
	F.delay_ms = 100;
	pthread_mutex_unlock(&F.mu);
	pump_for(300); /* budget back */
	send_order(0x52, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_path("/api/1/postorder") == 4, 3000));
	send_cancel(0x52); /* while the 429 is on its way */
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	pump_for(200);
	assert_int_equal(count_path("/api/1/postorder"), 4);
	assert_int_equal(V.stats.http_429, 3);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_IN_DOUBT), 0);
	pump_for(300);
	assert_within_budget(&B);
}

static void test_budget_and_cancels_first(void **state)
{
	unsigned stop_at = 0, post_after = 0;
	(void)state;

	ig_luno_budget_init(&B, 600, 1, 40); /* one call per 100 ms */
	O.budget = &B;
	O.status_ms = 1000;                   /* keep polls out of the way */
	venue_up();
	send_order(0x61, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	for (uint64_t c = 0x62; c < 0x67; c++)
		send_order(c, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	send_cancel(0x61);
	/* A submit still waiting for the budget is cancelled locally. */
	send_cancel(0x66);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 1);
	assert_int_equal(out.ev[out.n - 1].body.update.client_id, 0x66);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 5, 5000));
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 2, 5000));
	/* The cancel went ahead of the submits queued before it. */
	pthread_mutex_lock(&F.mu);
	for (unsigned i = 0; i < F.nlog; i++) {
		if (strcmp(F.log[i].path, "/api/1/stoporder") == 0 && stop_at == 0)
			stop_at = i;
		if (stop_at != 0 && strcmp(F.log[i].path, "/api/1/postorder") == 0)
			post_after++;
	}
	pthread_mutex_unlock(&F.mu);
	assert_true(stop_at > 0);
	assert_true(post_after >= 3);
	/* 0x66 was never sent. */
	assert_int_equal(count_path("/api/1/postorder"), 5);
	assert_within_budget(&B);
	assert_true(V.stats.budget_waits > 0);
}

/* A steady stream of submits does not starve the reading of fills: a
 * listtrades kept waiting two status periods goes ahead of them. */
static void test_polls_not_starved(void **state)
{
	char c[24];
	unsigned posts_at_fill;
	(void)state;

	ig_luno_budget_init(&B, 600, 1, 40); /* one call per 100 ms */
	O.budget = &B;
	O.status_ms = 50;
	venue_up();
	send_order(0x6a, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	coid(0x6a, c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":9,\"order_id\":\"BX1\",\"client_order_id\":\"%s\","
		 "\"price\":\"100\",\"volume\":\"0.1\",\"type\":\"BID\"}]}",
		 c);
	pthread_mutex_unlock(&F.mu);
	for (uint64_t k = 0; k < 15; k++)
		send_order(0x700 + k, IG_SIDE_SELL, IG_ORD_LIMIT, "500", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 5000));
	posts_at_fill = count_path("/api/1/postorder");
	assert_true(posts_at_fill < 1 + 15);
	assert_true(PUMP_UNTIL(count_path("/api/1/postorder") == 16, 5000));
	assert_within_budget(&B);
}

static void test_truncated_json(void **state)
{
	char trades[1024], c[24];
	(void)state;

	venue_up();
	/* A truncated 2xx to a submit: outcome unknown, looked up, never resent. */
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_TRUNCATED;
	snprintf(F.trades, sizeof(F.trades), "{\"trades\":[{\"sequence\":1,\"order_id\":\"BX1\",\"price\":\"10");
	pthread_mutex_unlock(&F.mu);
	send_order(0x71, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	assert_int_equal(out.ev[0].body.update.state, IG_OS_IN_DOUBT);
	/* listtrades keeps answering a truncated page: counted, nothing applied. */
	assert_true(PUMP_UNTIL(V.stats.malformed >= 3, 3000));
	assert_int_equal(count_ev(IG_EV_FILL, -1), 0);
	assert_int_equal(count_ev(IG_EV_POSITION, -1), 0);
	assert_int_equal(count_path("/api/1/postorder"), 1);
	/* The same page, complete: the fill is applied once. */
	coid(0x71, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":1,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.5\",\"fee_counter\":\"0.05\",\"type\":\"BID\",\"is_buy\":true}]}",
		 c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 3000));
	pump_for(150);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
}

static void test_fills_once(void **state)
{
	char c[24], trades[2048];
	const struct ig_event *f1 = NULL, *f2 = NULL;
	(void)state;

	venue_up();
	/* Another order stays open, so listtrades keeps being read. */
	send_order(0x82, IG_SIDE_SELL, IG_ORD_LIMIT, "500", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000)); /* BX1 */
	send_order(0x81, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);         /* BX2 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	coid(0x81, c);
	/* Served again and again whatever after_seq says; out of order; with
	 * a stranger's trade in the middle. */
	snprintf(trades, sizeof(trades),
		 "{\"trades\":["
		 "{\"sequence\":7,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"101\",\"volume\":\"0.6\","
		 "\"fee_base\":\"0.001\",\"fee_counter\":\"0\",\"type\":\"BID\",\"is_buy\":false,\"timestamp\":1700000000000},"
		 "{\"sequence\":6,\"order_id\":\"BXOTHER\",\"client_order_id\":\"someone-else\",\"price\":\"100\",\"volume\":\"3\"},"
		 "{\"sequence\":5,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\",\"volume\":\"0.4\","
		 "\"fee_counter\":\"0.04\",\"type\":\"BID\",\"is_buy\":true}]}",
		 c, c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 2, 3000));
	pump_for(200); /* many more listtrades rounds */
	assert_true(count_path("/api/1/listtrades") >= 3);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 2);
	for (unsigned i = 0; i < out.n; i++) {
		if (out.ev[i].hdr.type != IG_EV_FILL)
			continue;
		if (f1 == NULL)
			f1 = &out.ev[i];
		else
			f2 = &out.ev[i];
	}
	/* In sequence order, keyed by it. */
	assert_int_equal(f1->body.fill.trade_id, 5);
	assert_int_equal(f1->body.fill.qty, D("0.4"));
	assert_int_equal(f1->body.fill.px, IG_FIXED(100));
	assert_int_equal(f1->body.fill.fee, D("0.04"));
	assert_int_equal(f1->body.fill.liquidity, IG_LIQ_TAKER);
	assert_int_equal(f1->body.fill.last, 0);
	assert_int_equal(f1->body.fill.client_id, 0x81);
	assert_int_equal(f1->body.fill.venue_order_id, ig_luno_venue_id("BX2"));
	assert_int_equal(f1->hdr.strategy_id, 3);
	assert_int_equal(f2->body.fill.trade_id, 7);
	assert_int_equal(f2->body.fill.qty, D("0.6"));
	/* A base fee is reported in base, as charged (the OMS nets it from
	 * the position); nothing in counter. */
	assert_int_equal(f2->body.fill.fee, 0);
	assert_int_equal(f2->body.fill.fee_base, D("0.001"));
	assert_int_equal(f1->body.fill.fee_base, 0);
	assert_int_equal(f2->body.fill.liquidity, IG_LIQ_MAKER);
	assert_int_equal(f2->body.fill.last, 1);
	assert_int_equal(f2->hdr.ts_event_ns, INT64_C(1700000000000) * MS);
	assert_int_equal(V.stats.foreign_trades, 1);
	assert_true(V.stats.duplicate_trades >= 2);
	assert_int_equal(V.inst[0].last_seq, 7);
	/* Filled: its record is gone; later pages change nothing. */
	assert_int_equal(V.live, 1);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 0);
}

static void test_cancel_before_ack_and_partial(void **state)
{
	char c[24], trades[1024];
	unsigned i_acc = 0, i_fill = 0, i_can = 0;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_SLOW;
	F.delay_ms = 150; /* under the 400 ms timeout */
	snprintf(F.stop_base, sizeof(F.stop_base), "0.25");
	pthread_mutex_unlock(&F.mu);
	send_order(0x91, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	pump_for(20);
	send_cancel(0x91); /* before the order id is known */
	pump_for(50);
	assert_int_equal(count_path("/api/1/stoporder"), 0);
	assert_true(PUMP_UNTIL(count_path("/api/1/stoporder") == 1, 3000));
	/* Luno filled 0.25 before the cancel: the fill comes first. */
	coid(0x91, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":3,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.25\",\"fee_counter\":\"0.025\",\"type\":\"ASK\",\"is_buy\":true}]}",
		 c);
	pump_for(100);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 0); /* waits for the trade */
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	for (unsigned i = 0; i < out.n; i++) {
		if (out.ev[i].hdr.type == IG_EV_ORDER_UPDATE && out.ev[i].body.update.state == IG_OS_ACCEPTED)
			i_acc = i + 1;
		if (out.ev[i].hdr.type == IG_EV_FILL)
			i_fill = i + 1;
		if (out.ev[i].hdr.type == IG_EV_ORDER_UPDATE && out.ev[i].body.update.state == IG_OS_CANCELED)
			i_can = i + 1;
	}
	assert_true(i_acc > 0 && i_fill > i_acc && i_can > i_fill);
	assert_int_equal(out.ev[i_fill - 1].body.fill.qty, D("0.25"));
	assert_int_equal(out.ev[i_fill - 1].body.fill.liquidity, IG_LIQ_MAKER);
	assert_int_equal(out.ev[i_can - 1].body.update.filled_qty, D("0.25"));
	assert_int_equal(count_path("/api/1/postorder"), 1);
	assert_int_equal(V.live, 0);
}

/* Regression: after 5 failed stoporders the venue gave up the cancel for
 * good ("giving up the cancel, watching the order") and a second cancel
 * was ignored (cancel_wanted was set), so the order stayed live at Luno.
 * A wanted cancel is retried with backoff until Luno finishes the order,
 * and a second cancel re-arms it at once. */
static void test_cancel_retried_until_done(void **state)
{
	uint64_t sent;
	(void)state;

	venue_up();
	send_order(0x95, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	pthread_mutex_lock(&F.mu);
	F.stop_fail_left = 6; /* more than the old limit of 5 */
	pthread_mutex_unlock(&F.mu);
	send_cancel(0x95);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 8000));
	assert_int_equal(count_path("/api/1/stoporder"), 7);
	assert_int_equal(V.live, 0);
	assert_false(ig_luno_busy(&V));

	/* Luno keeps failing: the cancel keeps going (backing off), and a
	 * second cancel request re-arms it: it goes a status period after
	 * the last stoporder, not after its backoff. */
	send_order(0x96, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	pthread_mutex_lock(&F.mu);
	F.stop_fail_left = -1;
	pthread_mutex_unlock(&F.mu);
	send_cancel(0x96);
	assert_true(PUMP_UNTIL(count_path("/api/1/stoporder") == 7 + 6, 8000));
	assert_true(ig_luno_busy(&V)); /* a stop waits for it */
	assert_int_equal(V.live, 1);
	pthread_mutex_lock(&F.mu);
	F.stop_fail_left = 0;
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(V.nbusy == 0, 3000));
	sent = V.stats.cancels;
	assert_true(V.recs[0].next_cancel_ns - ig_clock_mono_ns() > 300 * MS); /* backing off */
	send_cancel(0x96); /* re-armed: goes within a status period or so */
	send_cancel(0x96); /* a repeat adds nothing */
	assert_true(PUMP_UNTIL(V.stats.cancels == sent + 1, 150));
	pump_for(20);
	assert_int_equal(V.stats.cancels, sent + 1);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 2, 3000));
	assert_int_equal(V.live, 0);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 0);
}

/* Regression: HTTP 400 ErrCannotStopUnknownOrNonPendingOrder (the order
 * is no longer open) was taken as a failed cancel and the stoporder was
 * sent again and again. It is final: the order is settled from its status
 * and trades (here: filled, its trade read late). */
static void test_stop_non_pending_is_final(void **state)
{
	char c[24], trades[1024];
	(void)state;

	venue_up();
	send_order(0x97, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	pthread_mutex_lock(&F.mu);
	/* Filled at Luno; listtrades does not show the trade yet. */
	snprintf(F.orders[0].status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(F.orders[0].base, sizeof(F.orders[0].base), "1");
	F.stop_fail_left = -1;
	F.stop_status = 400;
	snprintf(F.stop_body, sizeof(F.stop_body),
		 "{\"error\":\"Cannot stop unknown or non-pending order\","
		 "\"error_code\":\"ErrCannotStopUnknownOrNonPendingOrder\"}");
	pthread_mutex_unlock(&F.mu);
	send_cancel(0x97);
	assert_true(PUMP_UNTIL(count_path("/api/1/stoporder") == 1, 3000));
	pump_for(500);
	assert_int_equal(count_path("/api/1/stoporder"), 1);
	assert_int_equal(V.live, 1); /* waits for the trade Luno counts */
	coid(0x97, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":9,\"order_id\":\"BX1\",\"client_order_id\":\"%s\","
		 "\"price\":\"100\",\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}",
		 c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 3000));
	pump_for(100);
	assert_int_equal(V.live, 0);
	assert_int_equal(count_path("/api/1/stoporder"), 1);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 0);
}

/* Regression: the not-found window was timed from the first send attempt,
 * even one answered 429 (never processed). After the backoffs, a submit
 * that then failed (500, its fate unknown) was declared never placed on its
 * first 404, though it could still land. The window runs from the last
 * attempt that may have reached Luno. */
static void test_in_doubt_window_from_last_attempt(void **state)
{
	(void)state;

	O.backoff_base_ms = 200; /* three 429s: at least 700 ms of backoff */
	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_429_left = 3;
	F.post_mode = PM_500;
	F.place_on_fail = false;
	pthread_mutex_unlock(&F.mu);
	send_order(0xb1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_path("/api/exchange/3/order") >= 1, 5000));
	pump_for(20);
	/* It lands now, inside the window of the attempt that got a 500. */
	pthread_mutex_lock(&F.mu);
	fake_place("ig-00000000000000b1", "PENDING", "0", "BUY");
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	assert_int_equal(count_path("/api/1/postorder"), 4);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 0);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_REJECTED), 0);
	assert_int_equal(V.stats.in_doubt_found, 1);
}

/* Regression: an order declared never placed (not found after the
 * window) whose trades or status appeared later was skipped ("recently
 * finished"): lost fills and an untracked live order. It is adopted back
 * (ACCEPTED, IG_EVF_ADOPT) with its fills. */
static void test_unplaced_adopted_back(void **state)
{
	char c[24], trades[1024];
	const struct ig_event *e;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_500;
	F.place_on_fail = false;
	pthread_mutex_unlock(&F.mu);
	send_order(0xb2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	send_order(0xb3, IG_SIDE_SELL, IG_ORD_LIMIT, "120", "2", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 2, 3000));
	/* Both land late: 0xb2 trades, 0xb3 rests. */
	coid(0xb2, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":21,\"order_id\":\"BX1\",\"client_order_id\":\"%s\","
		 "\"price\":\"100\",\"volume\":\"0.4\",\"fee_counter\":\"0.04\",\"type\":\"BID\","
		 "\"is_buy\":false}]}",
		 c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "PENDING", "0.4", "BUY");
	fake_place("ig-00000000000000b3", "PENDING", "0", "SELL");
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1 &&
				       count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2,
			       5000));
	for (unsigned i = 0; i < out.n; i++) {
		e = &out.ev[i];
		if (e->hdr.type == IG_EV_ORDER_UPDATE && e->body.update.state == IG_OS_ACCEPTED) {
			assert_true(e->hdr.flags & IG_EVF_ADOPT);
			assert_int_equal(e->hdr.strategy_id, 3);
			assert_int_equal(e->body.update.filled_qty, 0);
			assert_int_equal(e->body.update.leaves_qty,
					 e->body.update.client_id == 0xb2 ? D("1") : D("2"));
			assert_true(e->body.update.px > 0);
		}
		if (e->hdr.type == IG_EV_FILL) {
			assert_int_equal(e->body.fill.client_id, 0xb2);
			assert_int_equal(e->body.fill.qty, D("0.4"));
			assert_int_equal(e->body.fill.trade_id, 21);
		}
	}
	/* The fill comes after its order's adoption. */
	{
		unsigned i_acc = 0, i_fill = 0;
		for (unsigned i = 0; i < out.n; i++) {
			if (out.ev[i].hdr.type == IG_EV_ORDER_UPDATE &&
			    out.ev[i].body.update.state == IG_OS_ACCEPTED &&
			    out.ev[i].body.update.client_id == 0xb2)
				i_acc = i + 1;
			if (out.ev[i].hdr.type == IG_EV_FILL)
				i_fill = i + 1;
		}
		assert_true(i_acc > 0 && i_fill > i_acc);
	}
	assert_int_equal(V.live, 2); /* both tracked again */
	assert_int_equal(V.stats.unplaced_found, 2);
	pump_for(100);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	/* And they can be cancelled. */
	send_cancel(0xb3);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
}

/* Regression: our buy matched our own sell (two strategies): Luno lists
 * both sides under one sequence, and the second was skipped as a
 * duplicate (the cursor is per sequence): a lost fill. Each of our orders
 * gets its fill. */
static void test_self_trade_both_fills(void **state)
{
	char c1[24], c2[24], trades[2048];
	(void)state;

	venue_up();
	send_order(0xc1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);  /* BX1 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	send_order(0xc2, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX2 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	coid(0xc1, c1);
	coid(0xc2, c2);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":["
		 "{\"sequence\":40,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.5\",\"type\":\"BID\",\"is_buy\":false},"
		 "{\"sequence\":40,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.5\",\"type\":\"ASK\",\"is_buy\":false}]}",
		 c1, c2);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 2, 3000));
	pump_for(150); /* the page again and again: still once each */
	assert_int_equal(count_ev(IG_EV_FILL, -1), 2);
	{
		bool buy = false, sell = false;
		for (unsigned i = 0; i < out.n; i++) {
			const struct ig_event *e = &out.ev[i];
			if (e->hdr.type != IG_EV_FILL)
				continue;
			assert_int_equal(e->body.fill.trade_id, 40);
			assert_int_equal(e->body.fill.qty, D("0.5"));
			buy |= e->body.fill.client_id == 0xc1 && e->body.fill.side == IG_SIDE_BUY &&
			       e->body.fill.liquidity == IG_LIQ_MAKER;
			sell |= e->body.fill.client_id == 0xc2 && e->body.fill.side == IG_SIDE_SELL &&
				e->body.fill.liquidity == IG_LIQ_TAKER;
		}
		assert_true(buy && sell);
	}
}

/* Regression: the first listtrades asked since= local init time - 60 s,
 * so a local clock more than a minute ahead of Luno's lost the first
 * fills. With no cursor the venue first asks Luno for the account's latest
 * trade on the pair (sort_desc, limit 1), before any submit, and reads after
 * that trade's sequence: no clock involved. */
static void test_trades_since_from_venue_time(void **state)
{
	char c[24], v[64], trades[2048];
	struct hreq r;
	(void)state;

	/* Luno's clock: a year before ours. */
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":50,\"order_id\":\"BXOLD\",\"client_order_id\":\"\","
		 "\"price\":\"100\",\"volume\":\"1\",\"type\":\"BID\",\"timestamp\":1600000000000}]}");
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	venue_up();
	send_order(0xd1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX1 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	assert_true(PUMP_UNTIL(count_path("/api/1/listtrades") >= 2, 3000));
	/* The probe went first, and the submit waited for its answer. */
	r = first_req("/api/1/listtrades");
	assert_true(r.t_ns < first_req("/api/1/postorder").t_ns);
	arg(r.query, "sort_desc", v, sizeof(v));
	assert_string_equal(v, "true");
	arg(r.query, "limit", v, sizeof(v));
	assert_string_equal(v, "1");
	arg(r.query, "since", v, sizeof(v));
	assert_string_equal(v, "");
	/* Our fill, stamped by Luno's clock. */
	coid(0xd1, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":50,\"order_id\":\"BXOLD\",\"client_order_id\":\"\","
		 "\"price\":\"100\",\"volume\":\"1\",\"type\":\"BID\",\"timestamp\":1600000000000},"
		 "{\"sequence\":51,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.3\",\"type\":\"BID\",\"timestamp\":1600000001000}]}",
		 c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 3000));
	/* Read after the probe's sequence: no clock involved. */
	r = last_req("/api/1/listtrades");
	arg(r.query, "since", v, sizeof(v));
	assert_string_equal(v, "");
	arg(r.query, "after_seq", v, sizeof(v));
	assert_string_equal(v, "50");
	arg(r.query, "sort_desc", v, sizeof(v));
	assert_string_equal(v, "");
	assert_int_equal(V.stats.foreign_trades, 0); /* 50 is the cursor: skipped as seen */
}

static void test_timeout_in_doubt(void **state)
{
	(void)state;

	O.timeout_ms = 150;
	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_SLOW;
	F.delay_ms = 500; /* placed, answered after the client gave up */
	pthread_mutex_unlock(&F.mu);
	send_order(0xa1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 5000));
	assert_int_equal(out.ev[0].body.update.state, IG_OS_IN_DOUBT);
	assert_int_equal(V.stats.timeouts, 1);
	assert_int_equal(V.stats.in_doubt_found, 1);
	pump_for(100);
	assert_int_equal(count_path("/api/1/postorder"), 1);
}

static void test_ioc_partial(void **state)
{
	char c[24];
	(void)state;

	venue_up();
	coid(0xb1, c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.ioc_base, sizeof(F.ioc_base), "0.5");
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":11,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"99\","
		 "\"volume\":\"0.5\",\"fee_counter\":\"0.0495\",\"type\":\"BID\",\"is_buy\":true}]}",
		 c);
	pthread_mutex_unlock(&F.mu);
	send_order(0xb1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_IOC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	assert_int_equal(find_ev(IG_EV_FILL, -1)->body.fill.qty, D("0.5"));
	assert_int_equal(find_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED)->body.update.filled_qty, D("0.5"));
	assert_int_equal(V.live, 0);
}

static void test_market_orders(void **state)
{
	struct ig_event q;
	struct hreq r;
	char v[64];
	(void)state;

	venue_up();
	/* No price to size a market buy with: refused. */
	send_order(0xc1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.5", IG_TIF_GTC, 0);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 1);
	assert_int_equal(out.ev[0].body.reject.reason, IG_RJ_NO_MARK);
	/* With the latest ask: counter_volume = qty * ask, rounded down. */
	memset(&q, 0, sizeof(q));
	q.hdr.type = IG_EV_QUOTE;
	q.body.quote.bid_px = D("199.99");
	q.body.quote.ask_px = D("200.017");
	q.body.quote.bid_qty = q.body.quote.ask_qty = IG_FIXED(1);
	assert_true(ig_luno_ops.wants_md);
	ig_luno_ops.market_data(&V, &q, &out.emit);
	/* By default a market buy is a BID IOC for exactly qty, at the ask
	 * plus 50 bps: 200.017 * 1.005 = 201.017085, a bid, rounded down. */
	send_order(0xc4, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.5", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_path("/api/1/postorder") == 1, 3000));
	r = last_req("/api/1/postorder");
	arg(r.body, "type", v, sizeof(v));
	assert_string_equal(v, "BID");
	arg(r.body, "price", v, sizeof(v));
	assert_string_equal(v, "201.01");
	arg(r.body, "volume", v, sizeof(v));
	assert_string_equal(v, "0.500000");
	arg(r.body, "time_in_force", v, sizeof(v));
	assert_string_equal(v, "IOC");
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	/* As Luno sizes them: marketorder with counter_volume. */
	V.market_buy_ioc_bps = -1;
	send_order(0xc2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.5", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_path("/api/1/marketorder") == 1, 3000));
	r = last_req("/api/1/marketorder");
	arg(r.body, "type", v, sizeof(v));
	assert_string_equal(v, "BUY");
	arg(r.body, "counter_volume", v, sizeof(v));
	assert_string_equal(v, "100.00"); /* 0.5 * 200.017 = 100.0085 */
	arg(r.body, "base_volume", v, sizeof(v));
	assert_string_equal(v, "");
	send_order(0xc3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.75", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_path("/api/1/marketorder") == 2, 3000));
	r = last_req("/api/1/marketorder");
	arg(r.body, "type", v, sizeof(v));
	assert_string_equal(v, "SELL");
	arg(r.body, "base_volume", v, sizeof(v));
	assert_string_equal(v, "0.750000");
	arg(r.body, "client_order_id", v, sizeof(v));
	assert_string_equal(v, "ig-00000000000000c3");
	/* All finish at once (COMPLETE, nothing filled here): CANCELED. */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 3, 3000));
}

static void test_scales_from_markets(void **state)
{
	struct hreq r;
	char v[64];
	(void)state;

	O.price_scale[0] = -1;
	O.volume_scale[0] = -1;
	venue_up();
	send_order(0xd1, IG_SIDE_BUY, IG_ORD_LIMIT, "1234.56", "0.123456", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	assert_int_equal(count_path("/api/exchange/1/markets"), 1);
	r = last_req("/api/1/postorder");
	arg(r.body, "price", v, sizeof(v));
	assert_string_equal(v, "1234");
	arg(r.body, "volume", v, sizeof(v));
	assert_string_equal(v, "0.1234");
	/* An unknown pair: its orders are rejected, none sent. */
	ig_luno_destroy(&V);
	v_up = false;
	pthread_mutex_lock(&F.mu);
	snprintf(F.markets, sizeof(F.markets), "{\"markets\":[{\"market_id\":\"ETHZAR\",\"price_scale\":0,\"volume_scale\":4}]}");
	pthread_mutex_unlock(&F.mu);
	venue_up();
	send_order(0xd2, IG_SIDE_BUY, IG_ORD_LIMIT, "1234.56", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 3000));
	assert_int_equal(count_path("/api/1/postorder"), 1);
}

static void test_unsent_retried_then_rejected(void **state)
{
	int fd;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	static char url[64];
	(void)state;

	/* A port nobody listens on. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(sin.sin_port));
	O.base_url = url;
	O.max_send_attempts = 3;
	venue_up();
	send_order(0xe1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 5000));
	assert_int_equal(V.stats.submits, 3);
	assert_true(V.stats.transport_errors >= 3);
	assert_int_equal(V.stats.in_doubt, 0);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 0);
}

/* Reads a whole file into a malloc'd string. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_secrets_never_logged(void **state)
{
	static const char key[] = "CANARYKEYf00d1d";
	static const char secret[] = "CANARYSECRETbeefc0ffee";
	char path[] = "/tmp/igt_luno_stderr_XXXXXX", c[24], err[256], *log;
	int fd, saved, port_fd;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	static char url[64];
	struct ig_luno w;
	(void)state;

	setenv(KEY_ENV, key, 1);
	setenv(SECRET_ENV, secret, 1);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ig_log_set_level(IG_LOG_DEBUG);

	/* 1. Against a closed port. */
	port_fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(port_fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(port_fd, (struct sockaddr *)&sin, &sl);
	close(port_fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", (unsigned)ntohs(sin.sin_port));
	O.base_url = url;
	venue_up();
	send_order(0xf1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 5000);
	ig_luno_log_stats(&V);
	ig_luno_destroy(&V);
	v_up = false;

	/* 2. Against a hostile server that echoes the credentials back in
	 * error messages, error codes and malformed bodies. */
	opts_default();
	venue_up();
	coid(0xf3, c);
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_ECHO;
	snprintf(F.echo, sizeof(F.echo), "%s:%s", key, secret);
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":1,\"order_id\":\"%s\",\"price\":\"%s\",\"volume\":\"1\"}]}", secret, secret);
	F.trades_status = 200;
	pthread_mutex_unlock(&F.mu);
	send_order(0xf2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 2, 3000);
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_ACCEPT;
	pthread_mutex_unlock(&F.mu);
	send_order(0xf3, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	PUMP_UNTIL(V.stats.malformed >= 2, 3000);
	pthread_mutex_lock(&F.mu);
	F.trades_status = 500;
	snprintf(F.trades, sizeof(F.trades), "{\"error\":\"%s\",\"error_code\":\"%s\"}", secret, key);
	pthread_mutex_unlock(&F.mu);
	pump_for(100);
	ig_luno_log_stats(&V);
	ig_luno_destroy(&V);
	v_up = false;

	/* 3. Init errors name variables, never values. */
	setenv(SECRET_ENV, "", 1);
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	fprintf(stderr, "%s\n", err);

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	ig_log_set_level(IG_LOG_INFO);
	setenv(SECRET_ENV, "testsecret", 1);
	log = slurp(path);
	unlink(path);
	/* The log did say things. */
	assert_non_null(strstr(log, "luno"));
	assert_non_null(strstr(log, SECRET_ENV));
	assert_non_null(strstr(log, "malformed"));
	/* But never the credentials, nor the basic-auth token. */
	assert_null(strstr(log, key));
	assert_null(strstr(log, secret));
	assert_null(strstr(log, "CANARY"));
	assert_null(strstr(log, "Q0FOQVJZ")); /* base64 of "CANARY" as it starts the token */
	free(log);
	/* Nor in any event. */
	for (unsigned i = 0; i < out.n; i++) {
		const char *raw = (const char *)&out.ev[i];
		for (size_t k = 0; k + 6 <= sizeof(out.ev[i]); k++)
			assert_false(memcmp(raw + k, "CANARY", 6) == 0);
	}
}

static void test_init_refuses(void **state)
{
	struct ig_luno w;
	char err[256];
	(void)state;

	unsetenv(SECRET_ENV);
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, SECRET_ENV));
	assert_non_null(strstr(err, "not set"));
	assert_null(strstr(err, "testkeyid"));
	setenv(SECRET_ENV, "testsecret", 1);
	setenv(KEY_ENV, "", 1);
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, KEY_ENV));
	assert_non_null(strstr(err, "empty"));
	assert_null(strstr(err, "testsecret"));
	setenv(KEY_ENV, "testkeyid", 1);
	O.base_url = "http://user:pass@127.0.0.1:1";
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	assert_null(strstr(err, "pass"));
	O.base_url = "ftp://127.0.0.1";
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	opts_default();
	O.pairs[0] = "xbt/zar";
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), IG_ECONFIG);
	opts_default();
	/* And with everything in place it comes up and goes down cleanly. */
	assert_int_equal(ig_luno_init(&w, &O, err, sizeof(err)), 0);
	assert_false(ig_luno_busy(&w));
	/* (The probe of the account's latest trade is due at once.) */
	assert_true(ig_luno_deadline_ns(&w) <= ig_clock_mono_ns());
	ig_luno_destroy(&w);
}

/* -------------------------------------------------------------- recovery */

/* Adds a recovered order (strategy 3, instrument 0, LIMIT GTC). */
static struct ig_recover_order *rorder(uint64_t cid, uint8_t side, const char *px, const char *qty,
				       uint8_t oms_state)
{
	struct ig_recover_order *o = &RO[RC.norders++];
	memset(o, 0, sizeof(*o));
	o->client_id = cid;
	o->px = D(px);
	o->qty = D(qty);
	o->strategy_id = 3;
	o->side = side;
	o->type = IG_ORD_LIMIT;
	o->tif = IG_TIF_GTC;
	o->state = oms_state;
	return o;
}

static void recover_start(bool journal, int64_t timeout_ms)
{
	RC.orders = RO;
	RC.have_journal = journal;
	RC.timeout_ms = timeout_ms;
	assert_int_equal(ig_luno_ops.recover(&V, &RC), 0);
}

/* Index of the first event of type t (state for updates, or -1) for client
 * id cid (0 = any); -1 if none. */
static int ev_index(enum ig_event_type t, int state, uint64_t cid)
{
	for (unsigned i = 0; i < out.n; i++) {
		const struct ig_event *e = &out.ev[i];
		if (e->hdr.type != t)
			continue;
		if (t == IG_EV_ORDER_UPDATE && state >= 0 && e->body.update.state != state)
			continue;
		if (cid != 0 && t == IG_EV_ORDER_UPDATE && e->body.update.client_id != cid)
			continue;
		if (cid != 0 && t == IG_EV_FILL && e->body.fill.client_id != cid)
			continue;
		return (int)i;
	}
	return -1;
}

/* The OK reconcile events: exactly one per instrument, the last flagged,
 * after every fill and order update so far. Returns the index of the
 * first. */
static int assert_reconciled_last(uint32_t ninst)
{
	int first = -1;
	unsigned n = 0, last_upd = 0;
	for (unsigned i = 0; i < out.n; i++) {
		const struct ig_event *e = &out.ev[i];
		if (e->hdr.type == IG_EV_RECONCILE && e->body.reconcile.error == IG_RECON_OK) {
			if (first < 0)
				first = (int)i;
			assert_int_equal(e->hdr.instrument_id, n);
			assert_int_equal(e->hdr.strategy_id, IG_STRATEGY_NONE);
			assert_int_equal(e->body.reconcile.have_balances, 1);
			assert_int_equal(e->body.reconcile.last, n + 1 == ninst);
			n++;
		} else if (e->hdr.type == IG_EV_FILL || e->hdr.type == IG_EV_ORDER_UPDATE) {
			last_upd = i;
		}
	}
	assert_int_equal(n, ninst);
	(void)last_upd;
	return first;
}

static const struct ig_event *reconcile_ev(unsigned k)
{
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_RECONCILE && out.ev[i].body.reconcile.error == IG_RECON_OK &&
		    out.ev[i].hdr.instrument_id == k)
			return &out.ev[i];
	return NULL;
}

static void test_recover_found(void **state)
{
	char c1[24], c2[24], c3[24];
	const struct ig_event *e;
	int rec;
	(void)state;

	venue_up();
	coid(0x301, c1);
	coid(0x302, c2);
	coid(0x303, c3);
	pthread_mutex_lock(&F.mu);
	fake_place(c1, "PENDING", "0", "BUY");  /* BX1: the OMS had it SUBMITTED */
	fake_place(c2, "PENDING", "0", "SELL"); /* BX2: ACCEPTED */
	fake_place(c3, "PENDING", "0", "BUY");  /* BX3: PENDING_CANCEL, cancel sent */
	pthread_mutex_unlock(&F.mu);
	rorder(0x301, IG_SIDE_BUY, "100", "1", IG_OS_SUBMITTED);
	rorder(0x302, IG_SIDE_SELL, "100", "1", IG_OS_ACCEPTED)->venue_order_id = ig_luno_venue_id("BX2");
	rorder(0x303, IG_SIDE_BUY, "100", "1", IG_OS_PENDING_CANCEL)->cancel_requested = true;
	recover_start(true, 5000);
	assert_true(ig_luno_busy(&V));
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	/* Found: ACCEPTED for the one the OMS had SUBMITTED only. */
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED), 1);
	e = find_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED);
	assert_int_equal(e->body.update.client_id, 0x301);
	assert_int_equal(e->body.update.venue_order_id, ig_luno_venue_id("BX1"));
	assert_int_equal(e->hdr.strategy_id, 3);
	rec = assert_reconciled_last(1);
	assert_true(ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, 0x301) < rec);
	e = reconcile_ev(0);
	assert_int_equal(e->body.reconcile.resolved, 3);
	assert_int_equal(e->body.reconcile.adopted, 0);
	assert_int_equal(e->body.reconcile.foreign, 0);
	assert_int_equal(e->body.reconcile.fills, 0);
	/* The asked-for cancel goes again, and settles. */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	assert_int_equal(find_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED)->body.update.client_id, 0x303);
	assert_int_equal(count_path("/api/1/stoporder"), 1);
	pump_for(100);
	/* Never sent again; nothing rejected. */
	assert_int_equal(count_path("/api/1/postorder"), 0);
	assert_int_equal(count_path("/api/1/marketorder"), 0);
	assert_int_equal(count_ev(IG_EV_REJECT, -1), 0);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_REJECTED), 0);
	assert_int_equal(count_ev(IG_EV_RECONCILE, -1), 1);
	assert_int_equal(V.stats.recovered, 3);
	assert_int_equal(V.stats.recover_found, 3);
	assert_int_equal(V.stats.recon_passes, 1);
	assert_false(ig_luno_busy(&V));
	/* A repeat of a recovered order is not sent. */
	send_order(0x301, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	pump_for(60);
	assert_int_equal(count_path("/api/1/postorder"), 0);
	/* recover() is once. */
	assert_int_equal(ig_luno_recover(&V, &RC), IG_ESTATE);
	ig_luno_log_stats(&V);
}

static void test_recover_not_found(void **state)
{
	int64_t t0;
	const struct ig_event *e;
	(void)state;

	venue_up();
	rorder(0x311, IG_SIDE_SELL, "100", "1", IG_OS_SUBMITTED);
	t0 = ig_clock_mono_ns();
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_REJECTED) == 1, 3000));
	/* Not before the window has passed since recover(). */
	assert_true(ig_clock_mono_ns() - t0 >= O.in_doubt_window_ms * MS);
	e = find_ev(IG_EV_ORDER_UPDATE, IG_OS_REJECTED);
	assert_int_equal(e->body.update.client_id, 0x311);
	assert_int_equal(e->body.update.reason, IG_RJ_VENUE);
	assert_int_equal(e->body.update.leaves_qty, 0);
	assert_int_equal(e->hdr.strategy_id, 3);
	assert_true(count_path("/api/exchange/3/order") >= 2);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	assert_true(ev_index(IG_EV_ORDER_UPDATE, IG_OS_REJECTED, 0x311) < assert_reconciled_last(1));
	assert_int_equal(reconcile_ev(0)->body.reconcile.resolved, 1);
	pump_for(100);
	assert_int_equal(count_path("/api/1/postorder"), 0);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED), 0);
	assert_int_equal(V.stats.recover_not_found, 1);
	/* Still looked for now and then (it could land late), but nothing
	 * waits for it. */
	assert_int_equal(V.live, 1);
	assert_false(ig_luno_busy(&V));
}

static void test_recover_fills_after_cursor(void **state)
{
	char c[24], trades[2048];
	const struct ig_event *f;
	struct hreq r;
	char v[32];
	struct ig_recover_order *o;
	(void)state;

	venue_up();
	coid(0x321, c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "PENDING", "0.3", "BUY"); /* BX1 */
	/* Served whatever after_seq says: 4 and 5 are behind the cursor. */
	snprintf(trades, sizeof(trades),
		 "{\"trades\":["
		 "{\"sequence\":4,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"99\",\"volume\":\"0.05\",\"type\":\"BID\"},"
		 "{\"sequence\":5,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\",\"volume\":\"0.05\",\"type\":\"BID\"},"
		 "{\"sequence\":7,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\",\"volume\":\"0.2\","
		 "\"fee_counter\":\"0.02\",\"type\":\"BID\",\"is_buy\":true,\"timestamp\":1700000000000}]}",
		 c, c, c);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	o = rorder(0x321, IG_SIDE_BUY, "100", "1", IG_OS_PARTIALLY_FILLED);
	o->venue_order_id = ig_luno_venue_id("BX1");
	o->filled_qty = D("0.1");
	o->last_trade_id = 5;
	RC.last_trade_seq[0] = 5;
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	f = find_ev(IG_EV_FILL, -1);
	assert_int_equal(f->body.fill.trade_id, 7);
	assert_int_equal(f->body.fill.qty, D("0.2"));
	assert_int_equal(f->body.fill.client_id, 0x321);
	assert_int_equal(f->body.fill.fee, D("0.02"));
	assert_int_equal(f->body.fill.last, 0);
	assert_int_equal(f->hdr.strategy_id, 3);
	assert_true(ev_index(IG_EV_FILL, -1, 0x321) < assert_reconciled_last(1));
	assert_int_equal(reconcile_ev(0)->body.reconcile.fills, 1);
	/* The catch-up asked from the journal's cursor; the one after the
	 * balance read, from where the first ended. */
	r = first_req("/api/1/listtrades");
	arg(r.query, "after_seq", v, sizeof(v));
	assert_string_equal(v, "5");
	r = last_req("/api/1/listtrades");
	arg(r.query, "after_seq", v, sizeof(v));
	assert_string_equal(v, "7");
	arg(r.query, "since", v, sizeof(v));
	assert_string_equal(v, "");
	/* The OMS had it acknowledged: no ACCEPTED again. */
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED), 0);
	pump_for(200);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	assert_int_equal(V.stats.recon_fills, 1);
	assert_true(V.stats.duplicate_trades >= 2);
	assert_int_equal(count_path("/api/1/postorder"), 0);
}

static void test_recover_cursor_since(void **state)
{
	struct hreq r;
	char v[32];
	(void)state;

	/* No cursor and no order to recover: never since = the journal
	 * start (the local clock), but from the probe of the latest trade. */
	venue_up();
	pthread_mutex_lock(&F.mu);
	snprintf(T_probe, sizeof(T_probe),
		 "{\"trades\":[{\"sequence\":42,\"order_id\":\"BXF\",\"client_order_id\":\"\","
		 "\"price\":\"100\",\"volume\":\"1\",\"type\":\"BID\",\"timestamp\":1600000000000}]}");
	pthread_mutex_unlock(&F.mu);
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	r = first_req("/api/1/listtrades");
	arg(r.query, "sort_desc", v, sizeof(v));
	assert_string_equal(v, "true");
	r = last_req("/api/1/listtrades");
	arg(r.query, "since", v, sizeof(v));
	assert_string_equal(v, "");
	arg(r.query, "after_seq", v, sizeof(v));
	assert_string_equal(v, "42");
	pthread_mutex_lock(&F.mu);
	T_probe[0] = '\0';
	pthread_mutex_unlock(&F.mu);
	ig_luno_destroy(&V);
	v_up = false;
	/* No journal: as before recovery existed (from Luno's latest trade:
	 * the account has none here, so no since at all). */
	memset(&RC, 0, sizeof(RC));
	pthread_mutex_lock(&F.mu);
	F.nlog = 0;
	pthread_mutex_unlock(&F.mu);
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;
	venue_up();
	RC.last_trade_seq[0] = 99; /* ignored without a journal */
	recover_start(false, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	r = first_req("/api/1/listtrades");
	arg(r.query, "sort_desc", v, sizeof(v));
	assert_string_equal(v, "true");
	r = last_req("/api/1/listtrades");
	arg(r.query, "since", v, sizeof(v));
	assert_string_equal(v, "");
	arg(r.query, "after_seq", v, sizeof(v));
	assert_string_equal(v, "");
	assert_int_equal(V.inst[0].last_seq, 0);
}

static void test_recover_partial_then_cancel(void **state)
{
	char c[24];
	struct ig_recover_order *o;
	int i_fill, i_can, rec;
	(void)state;

	venue_up();
	coid(0x331, c);
	pthread_mutex_lock(&F.mu);
	/* While we were down: 0.5 filled, then the cancel went through. */
	fake_place(c, "COMPLETE", "0.5", "SELL");
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":12,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"0.5\",\"fee_counter\":\"0.05\",\"type\":\"ASK\",\"is_buy\":true}]}",
		 c);
	pthread_mutex_unlock(&F.mu);
	o = rorder(0x331, IG_SIDE_SELL, "100", "1", IG_OS_PENDING_CANCEL);
	o->venue_order_id = ig_luno_venue_id("BX1");
	o->cancel_requested = true;
	RC.last_trade_seq[0] = 10;
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	i_fill = ev_index(IG_EV_FILL, -1, 0x331);
	i_can = ev_index(IG_EV_ORDER_UPDATE, IG_OS_CANCELED, 0x331);
	rec = assert_reconciled_last(1);
	assert_true(i_fill >= 0 && i_can > i_fill && rec > i_can);
	assert_int_equal(out.ev[i_fill].body.fill.qty, D("0.5"));
	assert_int_equal(out.ev[i_fill].body.fill.trade_id, 12);
	assert_int_equal(out.ev[i_can].body.update.filled_qty, D("0.5"));
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 1);
	/* COMPLETE already: no stoporder. */
	assert_int_equal(count_path("/api/1/stoporder"), 0);
	assert_int_equal(count_path("/api/1/postorder"), 0);
	assert_int_equal(V.live, 0);
}

static void test_recover_adopt_and_foreign(void **state)
{
	const struct ig_event *e;
	struct hreq r;
	char v[32];
	int i_adopt;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	snprintf(F.lorders, sizeof(F.lorders),
		 "{\"orders\":["
		 "{\"order_id\":\"BXF1\",\"client_order_id\":\"ig-0500000000000042\",\"type\":\"BID\",\"state\":\"PENDING\","
		 "\"limit_price\":\"100.5\",\"limit_volume\":\"2\",\"base\":\"0.5\",\"counter\":\"50.25\","
		 "\"pair\":\"XBTZAR\",\"creation_timestamp\":1700000000000,\"time_in_force\":\"GTC\"},"
		 "{\"order_id\":\"BXF2\",\"client_order_id\":\"manual-7\",\"type\":\"ASK\",\"state\":\"PENDING\","
		 "\"limit_price\":\"200\",\"limit_volume\":\"1\",\"base\":\"0\",\"counter\":\"0\",\"pair\":\"XBTZAR\"},"
		 "{\"order_id\":\"BXF3\",\"type\":\"BID\",\"state\":\"PENDING\","
		 "\"limit_price\":\"50\",\"limit_volume\":\"3\",\"base\":\"0\",\"counter\":\"0\",\"pair\":\"XBTZAR\"}]}");
	/* Later, the adopted order trades. */
	snprintf(F.trades, sizeof(F.trades), "{\"trades\":[]}");
	pthread_mutex_unlock(&F.mu);
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	r = last_req("/api/1/listorders");
	arg(r.query, "state", v, sizeof(v));
	assert_string_equal(v, "PENDING");
	arg(r.query, "pair", v, sizeof(v));
	assert_string_equal(v, "XBTZAR");
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 1);
	i_adopt = ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, 0x0500000000000042);
	assert_true(i_adopt >= 0 && i_adopt < assert_reconciled_last(1));
	e = &out.ev[i_adopt];
	assert_int_equal(e->hdr.flags, IG_EVF_ADOPT);
	assert_int_equal(e->hdr.strategy_id, 5);
	assert_int_equal(e->hdr.instrument_id, 0);
	assert_int_equal(e->body.update.prev_state, IG_OS_INITIALIZED);
	assert_int_equal(e->body.update.venue_order_id, ig_luno_venue_id("BXF1"));
	assert_int_equal(e->body.update.px, D("100.5"));
	assert_int_equal(e->body.update.leaves_qty, D("1.5"));
	assert_int_equal(e->body.update.filled_qty, 0);
	assert_int_equal(e->body.update.side, IG_SIDE_BUY);
	e = reconcile_ev(0);
	assert_int_equal(e->body.reconcile.adopted, 1);
	assert_int_equal(e->body.reconcile.foreign, 2);
	assert_int_equal(e->body.reconcile.resolved, 0);
	assert_int_equal(V.stats.adopted, 1);
	assert_int_equal(V.stats.foreign_orders, 2);
	/* Its later trades are normal fills. */
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":21,\"order_id\":\"BXF1\",\"client_order_id\":\"ig-0500000000000042\","
		 "\"price\":\"100.5\",\"volume\":\"0.25\",\"type\":\"BID\"}]}");
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 3000));
	e = find_ev(IG_EV_FILL, -1);
	assert_int_equal(e->body.fill.client_id, 0x0500000000000042);
	assert_int_equal(e->body.fill.qty, D("0.25"));
	assert_int_equal(e->hdr.strategy_id, 5);
	pump_for(200);
	/* The foreign orders are never touched; nothing is sent. */
	assert_int_equal(count_path("/api/1/stoporder"), 0);
	assert_int_equal(count_path("/api/1/postorder"), 0);
	assert_int_equal(count_path("/api/1/listorders"), 1);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
}

static void test_recover_balances(void **state)
{
	const struct ig_event *e;
	(void)state;

	O.pairs[1] = "ETHXBT";
	O.npairs = 2;
	O.price_scale[1] = 6;
	O.volume_scale[1] = 4;
	venue_up();
	pthread_mutex_lock(&F.mu);
	snprintf(F.balance, sizeof(F.balance),
		 "{\"balance\":["
		 "{\"account_id\":\"1\",\"asset\":\"XBT\",\"balance\":\"1.23456789\",\"reserved\":\"0.5\",\"unconfirmed\":\"0\"},"
		 "{\"account_id\":\"9\",\"asset\":\"XBT\",\"balance\":\"0.00000001\",\"reserved\":\"0\",\"unconfirmed\":\"0\"},"
		 "{\"account_id\":\"2\",\"asset\":\"ZAR\",\"balance\":\"98765432.10000000\",\"reserved\":\"0\",\"unconfirmed\":\"0\"},"
		 "{\"account_id\":\"3\",\"asset\":\"ETH\",\"balance\":\"42\",\"reserved\":\"0\",\"unconfirmed\":\"0\"},"
		 "{\"account_id\":\"4\",\"asset\":\"USDC\",\"balance\":\"7\",\"reserved\":\"0\",\"unconfirmed\":\"0\"}]}");
	pthread_mutex_unlock(&F.mu);
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(1) != NULL, 3000));
	assert_reconciled_last(2);
	e = reconcile_ev(0);
	assert_int_equal(e->body.reconcile.base_balance, INT64_C(123456790));
	assert_int_equal(e->body.reconcile.counter_balance, INT64_C(9876543210000000));
	assert_int_equal(e->body.reconcile.last, 0);
	e = reconcile_ev(1);
	assert_int_equal(e->body.reconcile.base_balance, IG_FIXED(42));
	assert_int_equal(e->body.reconcile.counter_balance, INT64_C(123456790));
	assert_int_equal(e->body.reconcile.last, 1);
	assert_int_equal(count_path("/api/1/balance"), 1);
	assert_int_equal(count_path("/api/1/listorders"), 2);
}

/* The number of RECONCILE events with error e (-1: not OK). */
static unsigned count_recon(int e)
{
	unsigned n = 0;
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_RECONCILE &&
		    (e < 0 ? out.ev[i].body.reconcile.error != IG_RECON_OK : out.ev[i].body.reconcile.error == e))
			n++;
	return n;
}

static void test_recover_unreachable_then_ok(void **state)
{
	char c[24];
	const struct ig_event *e = NULL;
	int64_t t0;
	(void)state;

	venue_up();
	coid(0x341, c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "PENDING", "0", "BUY");
	F.all_500 = true;
	pthread_mutex_unlock(&F.mu);
	rorder(0x341, IG_SIDE_BUY, "100", "1", IG_OS_IN_DOUBT);
	t0 = ig_clock_mono_ns();
	recover_start(true, 300);
	assert_true(PUMP_UNTIL(count_recon(-1) == 1, 3000));
	assert_true(ig_clock_mono_ns() - t0 >= 300 * MS);
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_RECONCILE)
			e = &out.ev[i];
	assert_int_equal(e->body.reconcile.error, IG_RECON_UNREACHABLE);
	assert_int_equal(e->body.reconcile.have_balances, 0);
	assert_int_equal(e->body.reconcile.last, 1);
	assert_int_equal(e->hdr.strategy_id, IG_STRATEGY_NONE);
	assert_true(ig_luno_busy(&V));
	/* Once, however long it goes on; and it keeps trying. */
	pump_for(300);
	assert_int_equal(count_ev(IG_EV_RECONCILE, -1), 1);
	assert_true(ig_luno_busy(&V));
	/* ... waiting between tries: with nothing in flight its deadline is
	 * never long past, so the executor parks instead of spinning. */
	{
		int stale = 0;
		for (int i = 0; i < 50; i++) {
			pump_once();
			if (V.nbusy == 0 && ig_luno_deadline_ns(&V) < ig_clock_mono_ns() - 50 * MS)
				stale++;
			usleep(2000);
		}
		assert_int_equal(stale, 0);
	}
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 0);
	pthread_mutex_lock(&F.mu);
	F.all_500 = false;
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	assert_int_equal(count_recon(-1), 1);
	assert_int_equal(count_recon(IG_RECON_OK), 1);
	assert_true(ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, 0x341) < assert_reconciled_last(1));
	assert_int_equal(reconcile_ev(0)->body.reconcile.resolved, 1);
	assert_int_equal(reconcile_ev(0)->body.reconcile.base_balance, D("1.5"));
	assert_int_equal(count_path("/api/1/postorder"), 0);
	assert_false(ig_luno_busy(&V));
}

static void test_recover_malformed(void **state)
{
	const struct ig_event *e = NULL;
	(void)state;

	venue_up();
	pthread_mutex_lock(&F.mu);
	snprintf(F.lorders, sizeof(F.lorders),
		 "{\"orders\":[{\"order_id\":\"BXF1\",\"client_order_id\":\"ig-0500000000000042\",\"type\":\"BID\","
		 "\"state\":\"PENDING\",\"limit_price\":\"100\",\"limit_volume\":\"2\",\"base\":");
	snprintf(F.balance, sizeof(F.balance),
		 "{\"balance\":[{\"asset\":\"XBT\",\"balance\":1.5},{\"asset\":\"ZAR\",\"balance\":\"1e3\"}]}");
	pthread_mutex_unlock(&F.mu);
	recover_start(true, 300);
	assert_true(PUMP_UNTIL(count_recon(-1) == 1, 3000));
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_RECONCILE)
			e = &out.ev[i];
	assert_int_equal(e->body.reconcile.error, IG_RECON_MALFORMED);
	assert_int_equal(e->body.reconcile.have_balances, 0);
	assert_true(V.stats.malformed >= 2);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 0);
	/* Hostile shapes: wrong types, huge numbers; still nothing applied. */
	pthread_mutex_lock(&F.mu);
	snprintf(F.lorders, sizeof(F.lorders),
		 "{\"orders\":[{\"order_id\":\"BXF1\",\"client_order_id\":\"ig-0500000000000042\",\"type\":\"BID\","
		 "\"state\":\"PENDING\",\"limit_price\":\"100\",\"limit_volume\":\"99999999999999999999\","
		 "\"base\":\"0\",\"counter\":\"0\"}]}");
	snprintf(F.balance, sizeof(F.balance), "{\"balance\":{\"asset\":\"XBT\"}}");
	pthread_mutex_unlock(&F.mu);
	pump_for(200);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 0);
	assert_int_equal(count_ev(IG_EV_RECONCILE, -1), 1);
	assert_true(ig_luno_busy(&V));
	/* Fixed: adopted, balances read, OK. */
	pthread_mutex_lock(&F.mu);
	snprintf(F.lorders, sizeof(F.lorders),
		 "{\"orders\":[{\"order_id\":\"BXF1\",\"client_order_id\":\"ig-0500000000000042\",\"type\":\"BID\","
		 "\"state\":\"PENDING\",\"limit_price\":\"100\",\"limit_volume\":\"2\",\"base\":\"0\",\"counter\":\"0\"}]}");
	snprintf(F.balance, sizeof(F.balance),
		 "{\"balance\":[{\"asset\":\"XBT\",\"balance\":\"1.5\"},{\"asset\":\"ZAR\",\"balance\":\"1000\"}]}");
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, -1), 1);
	assert_int_equal(reconcile_ev(0)->body.reconcile.adopted, 1);
	assert_int_equal(reconcile_ev(0)->body.reconcile.base_balance, D("1.5"));
	assert_int_equal(reconcile_ev(0)->body.reconcile.counter_balance, IG_FIXED(1000));
	assert_false(ig_luno_busy(&V));
}

/* Against exchange-sim (its real shapes): a run places two resting bids
 * and "crashes"; the next run's journal knows only the first. */
static void test_recover_against_sim(void **state)
{
	struct ig_sim_cfg sc;
	struct ig_sim_server *srv = NULL;
	uint16_t port = 0;
	char err[IG_SIM_ERR_MAX];
	static char url[64];
	const uint64_t cid1 = IG_CID_MAKE(2, 0, 1), cid2 = IG_CID_MAKE(2, 0, 2);
	const struct ig_event *e;
	int i_adopt;
	(void)state;

	ig_sim_cfg_defaults(&sc);
	sc.key_id = "testkeyid";
	sc.key_secret = "testsecret";
	sc.flow_ms = 0;
	sc.rate_limit = 0;
	sc.quiet = true;
	if (ig_sim_server_start(&sc, &srv, &port, err, sizeof(err)) != 0)
		fail_msg("exchange-sim: %s", err);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	O.base_url = url;
	O.price_scale[0] = 0;
	venue_up();
	send_order(cid1, IG_SIDE_BUY, IG_ORD_LIMIT, "900000", "0.01", IG_TIF_GTC, 0);
	send_order(cid2, IG_SIDE_BUY, IG_ORD_LIMIT, "890000", "0.02", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	ig_luno_destroy(&V); /* the crash */
	v_up = false;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;

	venue_up();
	rorder(cid1, IG_SIDE_BUY, "900000", "0.01", IG_OS_SUBMITTED)->strategy_id = 2;
	recover_start(true, 5000);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 5000));
	assert_reconciled_last(1);
	e = reconcile_ev(0);
	assert_int_equal(e->body.reconcile.resolved, 1);
	assert_int_equal(e->body.reconcile.adopted, 1);
	assert_int_equal(e->body.reconcile.foreign, 0);
	assert_int_equal(e->body.reconcile.fills, 0);
	/* The sim's defaults: 1 base, start_price counter (reserved funds
	 * are still the account's). */
	assert_int_equal(e->body.reconcile.base_balance, IG_FIXED(1));
	assert_int_equal(e->body.reconcile.counter_balance, sc.start_price);
	/* cid1 found by its lookup, cid2 adopted from listorders: in either
	 * order (one lookup races the catch-up and listorders). */
	assert_true(ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, cid1) >= 0);
	assert_int_equal(out.ev[ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, cid1)].hdr.flags, 0);
	i_adopt = ev_index(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED, cid2);
	assert_true(i_adopt >= 0);
	assert_int_equal(out.ev[i_adopt].hdr.flags, IG_EVF_ADOPT);
	assert_int_equal(out.ev[i_adopt].hdr.strategy_id, 2);
	assert_int_equal(out.ev[i_adopt].body.update.px, IG_FIXED(890000));
	assert_int_equal(out.ev[i_adopt].body.update.leaves_qty, D("0.02"));
	assert_int_equal(V.stats.submits, 0);
	/* Both are ours now: cancelling the adopted one works as usual. */
	send_cancel(cid2);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) == 1, 3000));
	ig_luno_destroy(&V);
	v_up = false;
	ig_sim_server_stop(srv);
}

/* ------------------------------------------- review findings (fills, cancels) */

static void set_trades(const char *s)
{
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", s);
	pthread_mutex_unlock(&F.mu);
}

static unsigned fills_for(uint64_t cid)
{
	unsigned n = 0;
	for (unsigned i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_FILL && out.ev[i].body.fill.client_id == cid)
			n++;
	return n;
}

/* A trade of an order that Luno lists after a higher trade of the same
 * order is below the order's own cursor: it cannot be applied (the OMS
 * applies an order's trades in sequence), and re-reading went on for
 * good. Now the re-reads stop after REREAD_MAX and it is reported. */
static void test_same_order_late_trade_reported(void **state)
{
	char ca[24], t1[512], t0[512], t[2048];
	unsigned lt0;
	(void)state;

	O.since_ms = 1;
	venue_up();
	send_order(0xa1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	coid(0xa1, ca);
	snprintf(t1, sizeof(t1), "{\"sequence\":101,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}", ca);
	snprintf(t0, sizeof(t0), "{\"sequence\":100,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}", ca);
	snprintf(t, sizeof(t), "{\"trades\":[%s]}", t1);
	pthread_mutex_lock(&F.mu);
	snprintf(F.orders[0].status, sizeof(F.orders[0].status), "PENDING");
	snprintf(F.orders[0].base, sizeof(F.orders[0].base), "1");
	pthread_mutex_unlock(&F.mu);
	set_trades(t);
	assert_true(PUMP_UNTIL(fills_for(0xa1) == 1, 3000));
	/* Luno now lists 100 too (late); status COMPLETE base 2. */
	snprintf(t, sizeof(t), "{\"trades\":[%s,%s]}", t0, t1);
	pthread_mutex_lock(&F.mu);
	snprintf(F.orders[0].status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(F.orders[0].base, sizeof(F.orders[0].base), "2");
	pthread_mutex_unlock(&F.mu);
	set_trades(t);
	lt0 = count_path("/api/1/listtrades");
	pump_for(1500);
	print_message("late trade of the same order: fills=%u live=%u busy=%d rereads=%u listtrades in 1.5s=%u dup=%llu\n",
		      fills_for(0xa1), V.live, (int)ig_luno_busy(&V), (unsigned)V.recs[0].rereads,
		      count_path("/api/1/listtrades") - lt0, (unsigned long long)V.stats.duplicate_trades);
	/* Not applied (the order's own cursor is past it), but the re-reads
	 * stop and it is reported, instead of re-reading for good. */
	assert_int_equal(fills_for(0xa1), 1);
	pump_for(1000);
	assert_int_equal(V.stats.unlisted_fills, 1);
	assert_int_equal(V.recs[0].rereads, 5);
	assert_false(V.inst[0].reread);
}

/* An order submitted before the probe is answered got seq_floor 0, so a
 * status/trades gap re-read from sequence 0 (the account's whole history
 * on the pair) instead of from the probe's cursor (5000). */
static void test_reread_floor_from_probe(void **state)
{
	char ca[24], t[1024];
	struct hreq r;
	char aseq[32], since[32];
	(void)state;

	pthread_mutex_lock(&F.mu);
	snprintf(T_probe, sizeof(T_probe),
		 "{\"trades\":[{\"sequence\":5000,\"order_id\":\"OLD\",\"price\":\"100\",\"volume\":\"1\","
		 "\"type\":\"BID\",\"is_buy\":false}]}");
	pthread_mutex_unlock(&F.mu);
	venue_up();
	send_order(0xb1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", IG_TIF_GTC, 0); /* before the probe answer */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	assert_int_equal(V.inst[0].last_seq, 5000);
	coid(0xb1, ca);
	/* Partly filled at Luno; listtrades down for a while (500). */
	pthread_mutex_lock(&F.mu);
	F.trades_status = 500;
	snprintf(F.orders[0].base, sizeof(F.orders[0].base), "1");
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(V.inst[0].reread, 3000));
	snprintf(t, sizeof(t), "{\"trades\":[{\"sequence\":5001,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}", ca);
	pthread_mutex_lock(&F.mu);
	F.trades_status = 200;
	pthread_mutex_unlock(&F.mu);
	set_trades(t);
	assert_true(PUMP_UNTIL(fills_for(0xb1) == 1, 3000));
	{
		unsigned from_start = 0;
		char sd[8];
		pthread_mutex_lock(&F.mu);
		for (unsigned i = 0; i < F.nlog; i++) {
			if (strcmp(F.log[i].path, "/api/1/listtrades") != 0)
				continue;
			arg(F.log[i].query, "after_seq", aseq, sizeof(aseq));
			arg(F.log[i].query, "since", since, sizeof(since));
			arg(F.log[i].query, "sort_desc", sd, sizeof(sd));
			if (aseq[0] == '\0' && since[0] == '\0' && sd[0] == '\0') {
				from_start++;
				r = F.log[i];
			}
		}
		pthread_mutex_unlock(&F.mu);
		print_message("seq_floor=%llu listtrades from the start: %u (e.g. %s)\n",
			      (unsigned long long)V.recs[0].seq_floor, from_start, r.query);
		assert_int_equal(from_start, 0); /* a re-read never scans the whole history */
	}
}

/* The since= probe (c8bedc3) asks for the account's LATEST trade and
 * reads from its timestamp. If two of our fills happen at different times
 * before the probe is answered (listtrades failing for a moment, or two
 * IOC orders sent back to back while the probe waits behind submits), the
 * earlier fill is below since and is never read: lost. */
static void test_probe_before_submit_no_fill_lost(void **state)
{
	char ca[24], cb[24], ta[512], tb[512], all[2048];
	(void)state;

	T_probe[0] = T_after[0] = '\0';
	pthread_mutex_lock(&F.mu);
	F.trades_status = 500; /* Luno hiccup on listtrades only */
	pthread_mutex_unlock(&F.mu);
	venue_up();
	send_order(0xe1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX1 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	send_order(0xe2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX2 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	assert_true(PUMP_UNTIL(count_path("/api/1/listtrades") >= 1, 3000)); /* the probe failed */
	coid(0xe1, ca);
	coid(0xe2, cb);
	/* Both filled at Luno: A at t1, B one second later. */
	snprintf(ta, sizeof(ta),
		 "{\"sequence\":60,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false,\"timestamp\":1700000001000}", ca);
	snprintf(tb, sizeof(tb),
		 "{\"sequence\":61,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false,\"timestamp\":1700000002000}", cb);
	snprintf(all, sizeof(all), "{\"trades\":[%s,%s]}", ta, tb);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", all);
	snprintf(T_probe, sizeof(T_probe), "{\"trades\":[%s]}", tb);   /* latest only */
	snprintf(T_after, sizeof(T_after), "{\"trades\":[%s]}", tb);   /* since > t1 */
	T_cut = 1700000001000LL;
	snprintf(F.orders[0].status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(F.orders[0].base, sizeof(F.orders[0].base), "1");
	snprintf(F.orders[1].status, sizeof(F.orders[1].status), "COMPLETE");
	snprintf(F.orders[1].base, sizeof(F.orders[1].base), "1");
	F.trades_status = 200;
	pthread_mutex_unlock(&F.mu);
	PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 2, 2000);
	print_message("fills: A=%u B=%u; live=%u busy=%d since sent=%s\n", fills_for(0xe1),
		      fills_for(0xe2), V.live, (int)ig_luno_busy(&V), last_req("/api/1/listtrades").query);
	T_probe[0] = T_after[0] = '\0';
	assert_int_equal(fills_for(0xe2), 1);
	assert_int_equal(fills_for(0xe1), 1); /* was never read before the fix */
}

/* A trade that Luno lists late, below a sequence already read (out of
 * order across two reads), is skipped for good by the instrument cursor,
 * although its order's own cursor has not seen it and Luno's status says
 * the order is filled. The order then never finishes. */
static void test_late_lower_sequence_applied(void **state)
{
	char ca[24], cb[24], t[2048];
	(void)state;

	T_probe[0] = T_after[0] = '\0';
	O.since_ms = 1;
	venue_up();
	send_order(0xf1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX1 */
	send_order(0xf2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX2 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	coid(0xf1, ca);
	coid(0xf2, cb);
	snprintf(t, sizeof(t),
		 "{\"trades\":[{\"sequence\":101,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}", cb);
	set_trades(t);
	assert_true(PUMP_UNTIL(fills_for(0xf2) == 1, 3000));
	snprintf(t, sizeof(t),
		 "{\"trades\":[{\"sequence\":100,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false},"
		 "{\"sequence\":101,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}", ca, cb);
	pthread_mutex_lock(&F.mu);
	snprintf(fake_find(ca, NULL)->status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(fake_find(ca, NULL)->base, sizeof(F.orders[0].base), "1");
	pthread_mutex_unlock(&F.mu);
	set_trades(t);
	pump_for(500);
	print_message("fills for 0xf1: %u, live=%u, dup_trades=%llu\n", fills_for(0xf1), V.live,
		      (unsigned long long)V.stats.duplicate_trades);
	assert_int_equal(fills_for(0xf1), 1);
}

/* As above, but Luno filters by after_seq as it does: once the cursor is
 * past 101, the late trade 100 is never listed again to the regular poll.
 * Luno's status says the order is filled and its trades fall short, so its
 * trades are read again from its own cursor, and the fill comes. */
static void test_late_trade_reread_from_order_cursor(void **state)
{
	char ca[24], cb[24], t[2048];
	(void)state;

	O.since_ms = 1;
	venue_up();
	send_order(0xf1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX1 */
	send_order(0xf2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0); /* BX2 */
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 3000));
	coid(0xf1, ca);
	coid(0xf2, cb);
	snprintf(t, sizeof(t),
		 "{\"trades\":[{\"sequence\":101,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}", cb);
	set_trades(t);
	assert_true(PUMP_UNTIL(fills_for(0xf2) == 1, 3000));
	assert_int_equal(V.inst[0].last_seq, 101);
	pthread_mutex_lock(&F.mu);
	snprintf(T_seqd, sizeof(T_seqd), "%s", t); /* after_seq >= 101: 100 is not listed */
	T_seq_cut = 101;
	snprintf(F.trades, sizeof(F.trades),
		 "{\"trades\":[{\"sequence\":100,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false},"
		 "{\"sequence\":101,\"order_id\":\"BX2\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false}]}", ca, cb);
	/* (The two submits race: find the fake's order by client id.) */
	snprintf(fake_find(ca, NULL)->status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(fake_find(ca, NULL)->base, sizeof(F.orders[0].base), "1");
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(fills_for(0xf1) == 1, 3000));
	pump_for(200);
	assert_int_equal(fills_for(0xf1), 1);
	assert_int_equal(fills_for(0xf2), 1);
	assert_int_equal(V.live, 0);
	assert_false(ig_luno_busy(&V));
	assert_false(V.inst[0].reread);
	assert_int_equal(V.inst[0].last_seq, 101);
}

/* The OMS now re-sends a cancel for a PENDING_CANCEL order on every
 * repeated cancel request, and the venue's cancel_one() sends it "at once"
 * (cancel_now) even after Luno accepted the stoporder (cancel_done), with
 * the backoff reset. Cancels rank above everything and take the whole
 * budget, so a strategy that repeats its cancel faster than the budget
 * refills starves the status and listtrades polls: the cancel is never
 * confirmed (order stays PENDING_CANCEL; the strategy keeps cancelling)
 * and no fill of any order is read. Budget as in production: 300/min. */
static void test_repeat_cancels_do_not_starve_polls(void **state)
{
	int64_t end;
	unsigned stops0, status0, trades0, n = 10;
	(void)state;

	T_probe[0] = T_after[0] = '\0';
	O.since_ms = 1;
	O.requests_per_min = 300;
	O.status_ms = 200;
	venue_up();
	for (unsigned i = 0; i < n; i++)
		send_order(0x1a0 + i, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == n, 8000));
	pump_for(3000); /* let the bucket refill */
	stops0 = count_path("/api/1/stoporder");
	status0 = count_path("/api/exchange/3/order");
	trades0 = count_path("/api/1/listtrades");
	/* The kill switch / the strategy: cancel each, then again every 100 ms
	 * for each order not yet confirmed CANCELED. */
	end = ig_clock_mono_ns() + 10000 * MS;
	while (ig_clock_mono_ns() < end && count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) < n) {
		for (unsigned i = 0; i < n; i++) {
			bool done = false;
			for (unsigned j = 0; j < out.n; j++)
				done |= out.ev[j].hdr.type == IG_EV_ORDER_UPDATE &&
					out.ev[j].body.update.state == IG_OS_CANCELED &&
					out.ev[j].body.update.client_id == 0x1a0 + i;
			if (!done)
				send_cancel(0x1a0 + i);
		}
		pump_for(100);
	}
	print_message("in 10 s: stoporders=%u status=%u listtrades=%u canceled=%u of %u\n",
		      count_path("/api/1/stoporder") - stops0, count_path("/api/exchange/3/order") - status0,
		      count_path("/api/1/listtrades") - trades0, count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), n);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), n);
}

/* An UNPLACED order is meant to be looked up every 8 status periods;
 * a failed lookup (5xx, timeout) re-arms it after ONE period
 * (on_lookup sets next_lookup_ns = now + status_ns whatever the state). */
static void test_unplaced_lookup_pace_on_errors(void **state)
{
	unsigned n0, n1;
	(void)state;

	T_probe[0] = T_after[0] = '\0';
	O.since_ms = 1;
	O.status_ms = 50;
	O.in_doubt_window_ms = 100;
	venue_up();
	pthread_mutex_lock(&F.mu);
	F.post_mode = PM_500;
	pthread_mutex_unlock(&F.mu);
	send_order(0x1b1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_REJECT, -1) == 1, 3000));
	n0 = count_path("/api/exchange/3/order");
	pump_for(2000);
	n1 = count_path("/api/exchange/3/order");
	print_message("unplaced lookups in 2 s, Luno answering 404: %u (pace 8x50ms: ~5)\n", n1 - n0);
	pthread_mutex_lock(&F.mu);
	F.all_500 = true;
	pthread_mutex_unlock(&F.mu);
	n0 = count_path("/api/exchange/3/order");
	pump_for(2000);
	n1 = count_path("/api/exchange/3/order");
	print_message("unplaced lookups in 2 s, Luno answering 500: %u\n", n1 - n0);
	assert_true(n1 - n0 <= 8); /* ~40 before the fix */
}

/* c8bedc3 took the no-cursor listtrades since= off the local clock,
 * but only without a journal. With a journal that has no trade cursor yet
 * (the run crashed before its first fill was journaled), recover() used to
 * read since = the journal's first SESSION time, which is the LOCAL
 * CLOCK_REALTIME (engine.c once passed the journal's first session time).
 * A local clock ahead of Luno's loses that fill. */
static void test_recover_since_not_local_clock(void **state)
{
	char c[24], t[1024];
	(void)state;

	T_probe[0] = T_after[0] = '\0';
	venue_up();
	coid(0x3e1, c);
	snprintf(t, sizeof(t),
		 "{\"trades\":[{\"sequence\":70,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false,\"timestamp\":1700000030000}]}", c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "COMPLETE", "1", "BUY"); /* filled at Luno 30 s after the run started */
	snprintf(F.trades, sizeof(F.trades), "%s", t);
	snprintf(T_after, sizeof(T_after), "{\"trades\":[]}"); /* since > the fill's time */
	T_cut = 1700000030000LL;
	pthread_mutex_unlock(&F.mu);
	rorder(0x3e1, IG_SIDE_BUY, "100", "1", IG_OS_ACCEPTED)->venue_order_id = ig_luno_venue_id("BX1");
	/* The run started at Luno time 1700000000000; the local clock was 60 s ahead. */
	recover_start(true, 1500);
	PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 2500);
	print_message("fills=%u reconciled_ok=%d busy=%d since=%s\n", count_ev(IG_EV_FILL, -1),
		      reconcile_ev(0) != NULL, (int)ig_luno_busy(&V), last_req("/api/1/listtrades").query);
	T_after[0] = '\0';
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
}

/* As above, with Luno's creation time in the order's status: the catch-up
 * reads since that (Luno's clock), after the lookup, and finds the fill. */
static void test_recover_since_order_creation(void **state)
{
	char c[24], t[1024], v[32];
	(void)state;

	venue_up();
	coid(0x3e1, c);
	snprintf(t, sizeof(t),
		 "{\"trades\":[{\"sequence\":70,\"order_id\":\"BX1\",\"client_order_id\":\"%s\",\"price\":\"100\","
		 "\"volume\":\"1\",\"type\":\"BID\",\"is_buy\":false,\"timestamp\":1700000030000}]}", c);
	pthread_mutex_lock(&F.mu);
	fake_place(c, "COMPLETE", "1", "BUY");
	F.created_ms = 1700000029000LL;
	snprintf(F.trades, sizeof(F.trades), "%s", t);
	snprintf(T_after, sizeof(T_after), "{\"trades\":[]}");
	T_cut = 1700000030000LL;
	pthread_mutex_unlock(&F.mu);
	rorder(0x3e1, IG_SIDE_BUY, "100", "1", IG_OS_ACCEPTED)->venue_order_id = ig_luno_venue_id("BX1");
	recover_start(true, 1500);
	assert_true(PUMP_UNTIL(reconcile_ev(0) != NULL, 3000));
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	arg(first_req("/api/1/listtrades").query, "since", v, sizeof(v));
	assert_string_equal(v, "1700000029000");
	/* The lookup came first; no probe (the latest trade may be ours). */
	assert_true(first_req("/api/exchange/3/order").t_ns < first_req("/api/1/listtrades").t_ns);
	arg(first_req("/api/1/listtrades").query, "sort_desc", v, sizeof(v));
	assert_string_equal(v, "");
	assert_int_equal(V.live, 0);
	assert_false(ig_luno_busy(&V));
}



/* ------------------------------------------------------------------ feed */

static struct ig_luno_feed FD;

static int feed_pump(struct ig_event *ev, int64_t max_ms)
{
	int64_t end = ig_clock_mono_ns() + max_ms * MS, due = 0;
	while (ig_clock_mono_ns() < end) {
		int rc = ig_luno_feed_next(&FD, ig_clock_mono_ns(), ev, &due);
		if (rc != 0)
			return rc;
		assert_true(due > 0);
		usleep(100);
	}
	return 0;
}

static void feed_up(bool top, struct ig_luno_budget *b)
{
	struct ig_luno_feed_opts fo;
	char err[256];
	static char url[64];
	memset(&fo, 0, sizeof(fo));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)F.port);
	fo.base_url = url;
	fo.pair = "XBTZAR";
	fo.instrument_id = 2;
	fo.interval_ms = 40;
	fo.orderbook_top = top;
	fo.timeout_ms = 400;
	fo.budget = b;
	fo.reserve = 0;
	if (ig_luno_feed_open(&FD, &fo, err, sizeof(err)) != 0)
		fail_msg("feed open: %s", err);
}

static void test_feed_ticker(void **state)
{
	struct ig_event ev;
	int64_t due = 0, t0;
	struct hreq r;
	(void)state;

	ig_luno_budget_init(&B, 60000, 0, 40);
	feed_up(false, &B);
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(ev.hdr.type, IG_EV_QUOTE);
	assert_int_equal(ev.hdr.instrument_id, 2);
	assert_int_equal(ev.body.quote.bid_px, D("100.5"));
	assert_int_equal(ev.body.quote.ask_px, D("101.25"));
	assert_int_equal(ev.body.quote.bid_qty, IG_FIXED(1));
	assert_int_equal(ev.body.quote.ask_qty, IG_FIXED(1));
	assert_int_equal(ev.hdr.ts_event_ns, INT64_C(1700000000123) * MS);
	r = last_req("/api/1/ticker");
	assert_string_equal(r.query, "pair=XBTZAR");
	assert_string_equal(r.authz, ""); /* public: no credentials sent */
	/* Not due again until the interval has passed. */
	t0 = ig_clock_mono_ns();
	assert_int_equal(ig_luno_feed_next(&FD, t0, &ev, &due), 0);
	assert_true(due > t0);
	/* One quote per answer, at the cadence. */
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(FD.stats.quotes, 2);
	/* Malformed and failed answers: counted, no event. */
	pthread_mutex_lock(&F.mu);
	snprintf(F.ticker, sizeof(F.ticker), "{\"bid\":\"100.5\",\"ask\":");
	pthread_mutex_unlock(&F.mu);
	assert_int_equal(feed_pump(&ev, 200), 0);
	assert_true(FD.stats.malformed >= 2);
	pthread_mutex_lock(&F.mu);
	F.ticker_status = 503;
	pthread_mutex_unlock(&F.mu);
	assert_int_equal(feed_pump(&ev, 200), 0);
	assert_true(FD.stats.http_errors >= 2);
	pthread_mutex_lock(&F.mu);
	F.ticker_status = 200;
	snprintf(F.ticker, sizeof(F.ticker), "{\"bid\":\"0\",\"ask\":\"101\"}");
	pthread_mutex_unlock(&F.mu);
	assert_int_equal(feed_pump(&ev, 200), 0);
	assert_true(FD.stats.empty_book >= 1);
	assert_int_equal(FD.stats.quotes, 2);
	/* A crossed book (bid above ask) is no quote either: the CSV feed
	 * refuses such a row, and the paper venue would match against it. */
	pthread_mutex_lock(&F.mu);
	snprintf(F.ticker, sizeof(F.ticker), "{\"bid\":\"102\",\"ask\":\"101\"}");
	pthread_mutex_unlock(&F.mu);
	if (feed_pump(&ev, 200) != 0)
		fail_msg("a crossed ticker (bid 102 > ask 101) became a quote: bid %lld ask %lld",
			 (long long)ev.body.quote.bid_px, (long long)ev.body.quote.ask_px);
	assert_true(FD.stats.crossed_book >= 1);
	assert_int_equal(FD.stats.quotes, 2);
	ig_luno_feed_stop(&FD);
	assert_int_equal(ig_luno_feed_next(&FD, 0, &ev, &due), IG_EEOF);
	ig_luno_feed_close(&FD);
}

/* feed.symbols: the poller asks each pair's ticker in turn, one round a
 * heartbeat, pair k's quote on instrument instrument_id + k. */
static void test_feed_ticker_pairs(void **state)
{
	struct ig_luno_feed_opts fo;
	struct ig_event ev;
	char err[256];
	static char url[64];
	int64_t due = 0, t0;
	(void)state;

	ig_luno_budget_init(&B, 60000, 0, 40);
	memset(&fo, 0, sizeof(fo));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)F.port);
	fo.base_url = url;
	fo.pairs[0] = "XBTZAR";
	fo.pairs[1] = "ETHZAR";
	fo.npairs = 2;
	fo.instrument_id = 2;
	fo.interval_ms = 40;
	fo.timeout_ms = 400;
	fo.budget = &B;
	fo.reserve = 0;
	if (ig_luno_feed_open(&FD, &fo, err, sizeof(err)) != 0)
		fail_msg("feed open: %s", err);
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(ev.hdr.instrument_id, 2);
	assert_string_equal(last_req("/api/1/ticker").query, "pair=XBTZAR");
	/* The second pair's poll is due at once, not a heartbeat later. */
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(ev.hdr.instrument_id, 3);
	assert_string_equal(last_req("/api/1/ticker").query, "pair=ETHZAR");
	/* Then the round is over: nothing until the heartbeat. */
	t0 = ig_clock_mono_ns();
	assert_int_equal(ig_luno_feed_next(&FD, t0, &ev, &due), 0);
	assert_true(due > t0);
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(ev.hdr.instrument_id, 2);
	assert_int_equal(FD.stats.quotes, 3);
	ig_luno_feed_close(&FD);
	/* A bad pair among them is refused, named. */
	fo.pairs[1] = "eth/zar";
	assert_int_equal(ig_luno_feed_open(&FD, &fo, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "feed.symbols"));
}

static void test_feed_top_and_budget(void **state)
{
	struct ig_event ev;
	(void)state;

	ig_luno_budget_init(&B, 600, 1, 40);
	feed_up(true, &B);
	assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_int_equal(ev.body.quote.bid_px, IG_FIXED(99));
	assert_int_equal(ev.body.quote.bid_qty, D("0.75"));
	assert_int_equal(ev.body.quote.ask_px, D("99.5"));
	assert_int_equal(ev.body.quote.ask_qty, D("1.25"));
	assert_int_equal(ev.hdr.ts_event_ns, INT64_C(1700000000456) * MS);
	assert_int_equal(count_path("/api/1/orderbook_top"), 1);
	/* 40 ms cadence, but the budget allows one per 100 ms. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(feed_pump(&ev, 2000), 1);
	assert_true(FD.stats.budget_waits > 0);
	assert_within_budget(&B);
	ig_luno_feed_log_stats(&FD);
	ig_luno_feed_close(&FD);
}

/* ----------------------------------------------------------- user stream */

/* A user stream without its thread, handed to the venue: the test plays
 * the connection (ig_luno_user_connected / on_message / lost). */
static struct ig_luno_user *stream_attach(void)
{
	struct ig_luno_user_opts uo;
	struct ig_luno_user *u = calloc(1, sizeof(*u));
	char err[128];

	assert_non_null(u);
	memset(&uo, 0, sizeof(uo));
	uo.url = "ws://127.0.0.1:9/api/1/userstream";
	uo.key_id = "testkeyid";
	uo.secret = "testsecret";
	uo.pairs[0] = "XBTZAR";
	uo.npairs = 1;
	assert_int_equal(ig_luno_user_init(u, &uo, err, sizeof(err)), 0);
	V.user = u; /* freed by ig_luno_destroy */
	return u;
}

static void stream_live(struct ig_luno_user *u)
{
	ig_luno_user_connected(u);
	assert_int_equal(ig_luno_user_on_message(u, "\"\"", 2, ig_clock_mono_ns()),
			 IG_LUNO_USER_MSG_KEEPALIVE);
}

static void stream_msg(struct ig_luno_user *u, const char *msg)
{
	ig_luno_user_on_message(u, msg, strlen(msg), ig_clock_mono_ns());
}

/* Healthy and caught up: no steady listtrades or status polls; a fill
 * message reads listtrades at once (the fill applies once, keyed by its
 * sequence); a status message reads that order's status; a dropped stream
 * puts the venue back to polling. */
static void test_stream_triggers_reads(void **state)
{
	struct ig_luno_user *u;
	char c[24], trades[1024], msg[512];
	unsigned lt, st;
	(void)state;

	venue_up();
	u = stream_attach();
	send_order(0x91, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	pump_for(100);
	/* Polling: listtrades every status period while the order rests. */
	assert_true(count_path("/api/1/listtrades") >= 2);
	stream_live(u);
	assert_true(ig_luno_has_work(&V));
	pump_once();
	assert_false(ig_luno_has_work(&V));
	assert_true(PUMP_UNTIL(V.stream_on, 3000));
	assert_int_equal(V.stats.stream_catchups, 1);
	lt = count_path("/api/1/listtrades");
	st = count_path("/api/exchange/3/order");
	pump_for(300); /* 10 status periods */
	assert_int_equal(count_path("/api/1/listtrades"), lt);
	assert_int_equal(count_path("/api/exchange/3/order"), st);
	assert_true(V.stats.stream_saved >= 5);

	/* A fill: listtrades now; the fill once. */
	coid(0x91, c);
	snprintf(trades, sizeof(trades),
		 "{\"trades\":[{\"sequence\":11,\"order_id\":\"BX1\",\"client_order_id\":\"%s\","
		 "\"price\":\"100\",\"volume\":\"0.25\",\"fee_counter\":\"0\",\"type\":\"BID\","
		 "\"is_buy\":false}]}",
		 c);
	pthread_mutex_lock(&F.mu);
	snprintf(F.trades, sizeof(F.trades), "%s", trades);
	pthread_mutex_unlock(&F.mu);
	snprintf(msg, sizeof(msg),
		 "{\"type\":\"order_fill\",\"timestamp\":1,\"order_fill_update\":{\"order_id\":\"BX1\","
		 "\"client_order_id\":\"%s\",\"market_id\":\"XBTZAR\",\"base_delta\":\"0.25\"}}",
		 c);
	stream_msg(u, msg);
	assert_true(ig_luno_has_work(&V));
	assert_true(PUMP_UNTIL(count_ev(IG_EV_FILL, -1) == 1, 3000));
	assert_int_equal(count_path("/api/1/listtrades"), lt + 1);
	stream_msg(u, msg); /* the same again: read again, applied never twice */
	assert_true(PUMP_UNTIL(count_path("/api/1/listtrades") == lt + 2, 3000));
	pump_for(60);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
	assert_int_equal(V.stats.stream_trade_reads, 3); /* the catch-up's and these two */

	/* A fill on another pair is none of ours; a balance update nothing. */
	stream_msg(u, "{\"type\":\"order_fill\",\"order_fill_update\":{\"market_id\":\"ETHZAR\"}}");
	stream_msg(u, "{\"type\":\"balance_update\",\"balance_update\":{\"asset\":\"XBT\"}}");
	stream_msg(u, "{\"type\":\"order_status\",\"order_status_update\":{\"order_id\":\"BX1\","
		      "\"status\":\"PENDING\"}}");
	pump_for(100);
	assert_int_equal(count_path("/api/1/listtrades"), lt + 2);
	assert_int_equal(count_path("/api/exchange/3/order"), st);

	/* COMPLETE: its status at once (by client id or order id). */
	snprintf(msg, sizeof(msg),
		 "{\"type\":\"order_status\",\"order_status_update\":{\"order_id\":\"BX1\","
		 "\"client_order_id\":\"%s\",\"market_id\":\"XBTZAR\",\"status\":\"COMPLETE\"}}",
		 c);
	stream_msg(u, msg);
	assert_true(PUMP_UNTIL(count_path("/api/exchange/3/order") == st + 1, 3000));
	assert_int_equal(V.stats.stream_status_reads, 2); /* the catch-up's and this one */

	/* Dropped: polling again at once, and a catch-up after the reconnect. */
	ig_luno_user_lost(u);
	assert_true(PUMP_UNTIL(!V.stream_on, 1000));
	lt = count_path("/api/1/listtrades");
	assert_true(PUMP_UNTIL(count_path("/api/1/listtrades") >= lt + 3, 3000));
	assert_int_equal(V.stats.stream_fallbacks, 1);
	stream_live(u);
	assert_true(PUMP_UNTIL(V.stream_on, 3000));
	assert_int_equal(V.stats.stream_catchups, 2);
	assert_int_equal(count_ev(IG_EV_FILL, -1), 1);
}

/* The catch-up reads every pair's trades and every open order's status
 * with requests queued after the connection went live, before the polls
 * stop: a listtrades that fails keeps the venue polling. */
static void test_stream_catchup_waits_for_reads(void **state)
{
	struct ig_luno_user *u;
	(void)state;

	venue_up();
	u = stream_attach();
	send_order(0x92, IG_SIDE_SELL, IG_ORD_LIMIT, "500", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	pthread_mutex_lock(&F.mu);
	F.trades_status = 500;
	pthread_mutex_unlock(&F.mu);
	stream_live(u);
	pump_for(200);
	assert_true(V.catching_up);
	assert_false(V.stream_on);
	assert_true(V.inst[0].catchup);
	pthread_mutex_lock(&F.mu);
	F.trades_status = 200;
	pthread_mutex_unlock(&F.mu);
	assert_true(PUMP_UNTIL(V.stream_on, 3000));
	assert_false(V.inst[0].catchup);
	assert_false(V.recs[0].catchup);
}


/* The audit round (one status round in 60 while the stream is healthy)
 * reads every OPEN order's status: an order Luno finished without a
 * stream message (a lost COMPLETE: cancelled elsewhere, expired) is
 * settled by it. With several resting orders each waits its turn
 * (resting_ns, longer than a status period); the rounds that did not poll
 * used to take that turn anyway, so an order whose turn did not fall on
 * an audit round was never audited and stayed open for ever. */
static void test_stream_audit_reads_resting(void **state)
{
	struct ig_luno_user *u;
	unsigned st;
	(void)state;

	O.status_ms = 10;          /* an audit round every 600 ms */
	O.requests_per_min = 600;  /* two resting orders: each one's turn every 800 ms */
	venue_up();
	u = stream_attach();
	send_order(0x93, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	send_order(0x94, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 2, 5000));
	stream_live(u);
	assert_true(PUMP_UNTIL(V.stream_on, 5000));
	/* Both finished at Luno; the stream says nothing (lost). */
	pthread_mutex_lock(&F.mu);
	snprintf(F.orders[0].status, sizeof(F.orders[0].status), "COMPLETE");
	snprintf(F.orders[1].status, sizeof(F.orders[1].status), "COMPLETE");
	pthread_mutex_unlock(&F.mu);
	st = count_path("/api/exchange/3/order");
	/* Keep the stream healthy while the audits come round (8 of them). */
	for (int i = 0; i < 48 && count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED) < 2; i++) {
		stream_msg(u, "\"\"");
		pump_for(100);
	}
	assert_true(V.stream_on);
	assert_true(count_path("/api/exchange/3/order") >= st + 2);
	assert_int_equal(count_ev(IG_EV_ORDER_UPDATE, IG_OS_CANCELED), 2);
}


/* A venue with status_ms 100 and one resting GTC buy (client id id)
 * accepted, the user stream live and caught up; msg gets an order_fill
 * message for that order. Returns the stream. */
static struct ig_luno_user *resting_order_stream_live(uint64_t id, char *msg, size_t cap)
{
	struct ig_luno_user *u;
	char c[24];

	O.status_ms = 100;
	venue_up();
	u = stream_attach();
	send_order(id, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", IG_TIF_GTC, 0);
	assert_true(PUMP_UNTIL(count_ev(IG_EV_ORDER_UPDATE, IG_OS_ACCEPTED) == 1, 3000));
	stream_live(u);
	assert_true(PUMP_UNTIL(V.stream_on, 3000));
	pump_for(150);
	coid(id, c);
	snprintf(msg, cap,
		 "{\"type\":\"order_fill\",\"timestamp\":1,\"order_fill_update\":{\"order_id\":\"BX1\","
		 "\"client_order_id\":\"%s\",\"market_id\":\"XBTZAR\",\"base_delta\":\"0.001\"}}",
		 c);
	return u;
}

/* Review finding: each fill message started a listtrades as soon as the
 * last one ended, so a busy account's stream spent more of the shared
 * request budget than polling did, ahead of submits and cancels. At most
 * one triggered listtrades per pair per status period now. */
static void test_stream_fill_reads_bounded(void **state)
{
	struct ig_luno_user *u;
	char msg[512];
	unsigned lt, reads;
	int64_t t0_ns, ms;
	(void)state;

	u = resting_order_stream_live(0x95, msg, sizeof(msg));
	lt = count_path("/api/1/listtrades");
	reads = (unsigned)V.stats.stream_trade_reads;
	/* A fill message every pump for 600 ms (a partly filled order on a
	 * busy book): six status periods. */
	t0_ns = ig_clock_mono_ns();
	do {
		stream_msg(u, msg);
		pump_once();
		usleep(200);
		ms = (ig_clock_mono_ns() - t0_ns) / 1000000;
	} while (ms < 600);
	pump_for(150); /* the last one flagged is still read */
	assert_true(V.stream_on);
	assert_true(count_path("/api/1/listtrades") - lt >= 2);
	/* 600 ms of messages plus the 150 ms after: at most one read per
	 * 100 ms period, the first at once. */
	assert_in_range(count_path("/api/1/listtrades") - lt, 2, 9);
	assert_int_equal(V.stats.stream_trade_reads - reads, count_path("/api/1/listtrades") - lt);
}

/* Review finding: an executor that sleeps to ig_luno_deadline_ns and wakes on
 * has_work (as the driver does): how late is a fill flagged right after a
 * triggered read, relative to its gate (stream_not_before_ns)? The gate
 * was not one of the executor's deadlines, so the read waited for the next
 * status round, up to two status periods after the message; now it goes
 * at the gate. */
static void test_stream_gated_read_on_time(void **state)
{
	struct ig_luno_user *u;
	char msg[512];
	unsigned lt;
	int64_t t_round, nb, t_read, t_flag, prev;
	(void)state;

	u = resting_order_stream_live(0x96, msg, sizeof(msg));
	/* Just after a status round. */
	prev = V.next_status_ns;
	assert_true(PUMP_UNTIL(V.next_status_ns != prev, 3000));
	t_round = ig_clock_mono_ns();
	lt = count_path("/api/1/listtrades");
	stream_msg(u, msg);
	assert_true(PUMP_UNTIL(count_path("/api/1/listtrades") == lt + 1 && !V.inst[0].rq_trades, 3000));
	nb = V.inst[0].stream_not_before_ns;
	/* A second fill, flagged during the gap. */
	stream_msg(u, msg);
	t_flag = ig_clock_mono_ns();
	/* Driver-like: poll when has_work, else sleep to the deadline. */
	while (count_path("/api/1/listtrades") == lt + 1 && ig_clock_mono_ns() - t_flag < 2000 * MS) {
		pump_once();
		if (!ig_luno_has_work(&V)) {
			int64_t d = ig_luno_deadline_ns(&V), now = ig_clock_mono_ns();
			if (d > now)
				usleep((useconds_t)((d - now) / 1000));
		}
	}
	t_read = ig_clock_mono_ns();
	print_message("round->flag %lld ms, gate at +%lld ms, read at +%lld ms (%lld ms after the gate)\n",
		      (long long)((t_flag - t_round) / MS), (long long)((nb - t_flag) / MS),
		      (long long)((t_read - t_flag) / MS), (long long)((t_read - nb) / MS));
	assert_true(count_path("/api/1/listtrades") == lt + 2);
	assert_true(t_read - nb < 20 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_500_in_doubt_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_500_in_doubt_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_409_looks_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_429_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_and_cancels_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_polls_not_starved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fills_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_triggers_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_catchup_waits_for_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_audit_reads_resting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_fill_reads_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_gated_read_on_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_ack_and_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_retried_until_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_non_pending_is_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_doubt_window_from_last_attempt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplaced_adopted_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_trade_both_fills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trades_since_from_venue_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_in_doubt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioc_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_market_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scales_from_markets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsent_retried_then_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets_never_logged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_not_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_fills_after_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_cursor_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_partial_then_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_adopt_and_foreign, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_balances, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_unreachable_then_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_against_sim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_before_submit_no_fill_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_order_late_trade_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reread_floor_from_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_lower_sequence_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_trade_reread_from_order_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeat_cancels_do_not_starve_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unplaced_lookup_pace_on_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_since_not_local_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_since_order_creation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_ticker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_ticker_pairs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_feed_top_and_budget, setup, teardown),
	};
	int rc;

	pthread_mutex_init(&F.mu, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (getenv("IGT_FILTER") != NULL) /* run only the tests matching this pattern */
		cmocka_set_test_filter(getenv("IGT_FILTER"));
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
