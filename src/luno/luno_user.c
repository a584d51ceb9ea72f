/* luno_user.c - the Luno user stream as a trigger for the REST venue (see luno_user.h). */
#include "luno/luno_user.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "ingenium/error.h"
#include "luno/luno_http.h"
#include "luno/luno_venue.h"

#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_US 100000 /* the stream thread's housekeeping period */
#define AUTH_MAX 1100

/* What only the stream thread touches. */
struct user_priv {
	struct lws_context *ctx;    /* also read (atomic) by destroy: lws_cancel_service */
	struct lws *wsi;            /* the connection, NULL when none */
	lws_sorted_usec_list_t sul; /* the housekeeping tick */
	struct ig_luno_user *u;
	char *rx;                   /* the message being received */
	size_t rx_len;
	bool rx_over;               /* it did not fit: dropped */
	bool auth_sent;
	int64_t since_ns;           /* when the upgrade came, then when the credentials went out */
	unsigned failures;          /* attempts since the last LIVE */
	int64_t next_connect_ns;
	uint64_t rng;
	unsigned char tx[LWS_PRE + AUTH_MAX];
};

/* ------------------------------------------------------------ signals */

/* Counts the signal (the venue's has_work) and wakes the venue's thread. */
static void signal_venue(struct ig_luno_user *u)
{
	__atomic_add_fetch(&u->events, 1, __ATOMIC_SEQ_CST);
	ig_luno_ws_wake_call(&u->wake);
}

static void count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static uint32_t pair_bit(const struct ig_luno_user *u, const char *pair)
{
	if (pair == NULL || pair[0] == '\0')
		return IG_LUNO_USER_ALL_PAIRS;
	for (uint32_t k = 0; k < u->npairs; k++)
		if (strcmp(u->pairs[k], pair) == 0)
			return UINT32_C(1) << k;
	return 0; /* another pair: none of ours */
}

static void push_note(struct ig_luno_user *u, uint64_t client_id, const char *order_id)
{
	uint32_t head = __atomic_load_n(&u->ring_head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&u->ring_tail, __ATOMIC_ACQUIRE);
	struct ig_luno_user_note *n;

	if (head - tail >= IG_LUNO_USER_RING) {
		count(&u->st.ring_full);
		__atomic_store_n(&u->orders_all, 1, __ATOMIC_RELEASE);
		return;
	}
	n = &u->ring[head % IG_LUNO_USER_RING];
	n->client_id = client_id;
	snprintf(n->order_id, sizeof(n->order_id), "%s", order_id != NULL ? order_id : "");
	__atomic_store_n(&u->ring_head, head + 1, __ATOMIC_RELEASE);
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

static void went_live(struct ig_luno_user *u, int64_t now_ns)
{
	uint32_t was = __atomic_load_n(&u->state, __ATOMIC_ACQUIRE);

	__atomic_store_n(&u->last_msg_ns, now_ns, __ATOMIC_RELEASE);
	if (was == IG_LUNO_USER_CONNECTED) {
		__atomic_add_fetch(&u->live_gen, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&u->state, IG_LUNO_USER_LIVE, __ATOMIC_SEQ_CST);
		count(&u->st.connects);
		ig_log_info("luno: user stream live");
		signal_venue(u);
	}
}

int ig_luno_user_on_message(struct ig_luno_user *u, const char *msg, size_t len, int64_t now_ns)
{
	json_t *root, *body;
	json_error_t jerr;
	const char *type;
	int kind;

	count(&u->st.messages);
	went_live(u, now_ns);
	/* "" (a JSON empty string) or an empty frame: keep-alive. */
	if (len == 0 || (len == 2 && msg[0] == '"' && msg[1] == '"')) {
		count(&u->st.keepalives);
		return IG_LUNO_USER_MSG_KEEPALIVE;
	}
	root = json_loadb(msg, len, 0, &jerr);
	if (!json_is_object(root)) {
		json_decref(root);
		count(&u->st.malformed);
		/* We cannot tell what it was: look at everything. */
		__atomic_fetch_or(&u->trades_mask, IG_LUNO_USER_ALL_PAIRS, __ATOMIC_SEQ_CST);
		__atomic_store_n(&u->orders_all, 1, __ATOMIC_SEQ_CST);
		signal_venue(u);
		return IG_LUNO_USER_MSG_MALFORMED;
	}
	type = str_of(root, "type");
	if (strcmp(type, "order_fill") == 0) {
		body = json_object_get(root, "order_fill_update");
		count(&u->st.fills);
		__atomic_fetch_or(&u->trades_mask,
				  json_is_object(body) ? pair_bit(u, str_of(body, "market_id"))
						       : IG_LUNO_USER_ALL_PAIRS,
				  __ATOMIC_SEQ_CST);
		kind = IG_LUNO_USER_MSG_FILL;
		signal_venue(u);
	} else if (strcmp(type, "order_status") == 0) {
		body = json_object_get(root, "order_status_update");
		count(&u->st.statuses);
		if (json_is_object(body) && strcmp(str_of(body, "status"), "PENDING") == 0) {
			kind = IG_LUNO_USER_MSG_PENDING;
		} else {
			const char *coid = json_is_object(body) ? str_of(body, "client_order_id") : "";
			const char *oid = json_is_object(body) ? str_of(body, "order_id") : "";
			if (coid[0] == '\0' && oid[0] == '\0') {
				count(&u->st.ring_full);
				__atomic_store_n(&u->orders_all, 1, __ATOMIC_SEQ_CST);
			} else {
				push_note(u, ig_luno_client_id_parse(coid), oid);
			}
			kind = IG_LUNO_USER_MSG_STATUS;
			signal_venue(u);
		}
	} else if (strcmp(type, "balance_update") == 0) {
		kind = IG_LUNO_USER_MSG_BALANCE;
	} else {
		kind = IG_LUNO_USER_MSG_OTHER;
	}
	json_decref(root);
	return kind;
}

void ig_luno_user_connected(struct ig_luno_user *u)
{
	__atomic_store_n(&u->state, IG_LUNO_USER_CONNECTED, __ATOMIC_SEQ_CST);
	signal_venue(u);
}

void ig_luno_user_lost(struct ig_luno_user *u)
{
	uint32_t was = __atomic_exchange_n(&u->state, IG_LUNO_USER_DOWN, __ATOMIC_SEQ_CST);
	if (was != IG_LUNO_USER_DOWN)
		count(&u->st.drops);
	signal_venue(u);
}

/* -------------------------------------------------------- venue side */

void ig_luno_user_set_wake(struct ig_luno_user *u, void (*fn)(void *), void *arg)
{
	ig_luno_ws_wake_set(&u->wake, fn, arg);
}

bool ig_luno_user_healthy(const struct ig_luno_user *u, int64_t now_ns, uint64_t *gen)
{
	/* The state before the generation: went_live bumps the generation
	 * before it sets LIVE, so a LIVE read here comes with its own
	 * generation (read the other way round, a reconnect between the two
	 * loads gave the new LIVE with the old generation: no catch-up). */
	bool live = __atomic_load_n(&u->state, __ATOMIC_SEQ_CST) == IG_LUNO_USER_LIVE;
	uint64_t g = __atomic_load_n(&u->live_gen, __ATOMIC_SEQ_CST);
	int64_t last = __atomic_load_n(&u->last_msg_ns, __ATOMIC_ACQUIRE);

	if (gen != NULL)
		*gen = g;
	return live && now_ns - last <= u->timeout_ns;
}

uint64_t ig_luno_user_events(const struct ig_luno_user *u)
{
	return __atomic_load_n(&u->events, __ATOMIC_SEQ_CST);
}

uint32_t ig_luno_user_take_trades(struct ig_luno_user *u)
{
	return __atomic_exchange_n(&u->trades_mask, 0, __ATOMIC_SEQ_CST);
}

bool ig_luno_user_take_all_orders(struct ig_luno_user *u)
{
	return __atomic_exchange_n(&u->orders_all, 0, __ATOMIC_SEQ_CST) != 0;
}

bool ig_luno_user_take_note(struct ig_luno_user *u, struct ig_luno_user_note *out)
{
	uint32_t tail = __atomic_load_n(&u->ring_tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&u->ring_head, __ATOMIC_ACQUIRE);

	if (head == tail)
		return false;
	*out = u->ring[tail % IG_LUNO_USER_RING];
	__atomic_store_n(&u->ring_tail, tail + 1, __ATOMIC_RELEASE);
	return true;
}

void ig_luno_user_stats(const struct ig_luno_user *u, struct ig_luno_user_stats *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&u->st;
	uint64_t *dst = (uint64_t *)(void *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ------------------------------------------------------ stream thread */

static void schedule_reconnect(struct user_priv *p, int64_t now_ns)
{
	int64_t ms;
	p->failures++;
	ms = ig_luno_ws_backoff_ms(p->failures, p->u->backoff_base_ms, p->u->backoff_max_ms, &p->rng);
	p->next_connect_ns = now_ns + ms * 1000000;
}

static void on_lost(struct user_priv *p, const char *why)
{
	bool had = p->wsi != NULL;
	p->wsi = NULL;
	p->auth_sent = false;
	p->rx_len = 0;
	p->rx_over = false;
	ig_luno_user_lost(p->u);
	schedule_reconnect(p, ig_clock_mono_ns());
	ig_log_warn("luno: user stream %s; reconnecting in %lld ms (REST polling meanwhile)",
		    had ? why : "connection failed",
		    (long long)((p->next_connect_ns - ig_clock_mono_ns()) / 1000000));
}

static int user_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct user_priv *p = lws_context_user(lws_get_context(wsi));
	struct ig_luno_user *u = p->u;

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		p->wsi = wsi;
		p->auth_sent = false;
		p->since_ns = ig_clock_mono_ns();
		/* CONNECTED (a first message then means LIVE) only once the
		 * credentials are out: the server says nothing of worth before. */
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!p->auth_sent) {
			if (ig_luno_ws_send_auth(wsi, u->key_id, u->secret, p->tx, sizeof(p->tx)) != 0)
				return -1;
			p->auth_sent = true;
			p->since_ns = ig_clock_mono_ns();
			ig_luno_user_connected(u);
		}
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (p->rx_len + len > IG_LUNO_USER_MSG_MAX) {
			p->rx_over = true;
		} else if (!p->rx_over) {
			memcpy(p->rx + p->rx_len, in, len);
			p->rx_len += len;
		}
		if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
			if (p->rx_over)
				ig_luno_user_on_message(u, "{", 1, ig_clock_mono_ns()); /* counted malformed: look at everything */
			else
				ig_luno_user_on_message(u, p->rx, p->rx_len, ig_clock_mono_ns());
			p->rx_len = 0;
			p->rx_over = false;
		}
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (len >= 2) {
			const unsigned char *c = in;
			unsigned code = (unsigned)c[0] << 8 | c[1];
			if (code == 1008) {
				count(&u->st.auth_refused);
				ig_log_error("luno: user stream: the credentials were refused (close 1008)");
			} else {
				ig_log_info("luno: user stream closed by the server (%u)", code);
			}
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		p->wsi = NULL;
		on_lost(p, "connection failed");
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (p->wsi == wsi) {
			on_lost(p, "dropped");
			p->wsi = NULL;
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "ig-luno-user", user_cb, 0, 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static void connect_now(struct user_priv *p)
{
	struct lws_client_connect_info ci;
	struct ig_luno_user *u = p->u;

	memset(&ci, 0, sizeof(ci));
	ci.context = p->ctx;
	ci.address = u->host;
	ci.port = u->port;
	ci.path = u->path;
	ci.host = u->host;
	ci.origin = u->host;
	ci.ssl_connection = u->tls ? LCCSCF_USE_SSL : 0; /* verified: no self-signed, host checked */
	ci.local_protocol_name = protocols[0].name;
	ci.pwsi = &p->wsi;
	count(&u->st.attempts);
	p->next_connect_ns = INT64_MAX; /* until it fails or closes */
	if (lws_client_connect_via_info(&ci) == NULL) {
		p->wsi = NULL;
		schedule_reconnect(p, ig_clock_mono_ns());
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct user_priv *p = lws_container_of(sul, struct user_priv, sul);
	struct ig_luno_user *u = p->u;
	int64_t now = ig_clock_mono_ns();
	uint32_t st = __atomic_load_n(&u->state, __ATOMIC_ACQUIRE);

	if (p->wsi == NULL && now >= p->next_connect_ns && !__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE))
		connect_now(p);
	else if (p->wsi != NULL && st == IG_LUNO_USER_LIVE &&
		 now - __atomic_load_n(&u->last_msg_ns, __ATOMIC_ACQUIRE) > u->timeout_ns) {
		/* Silent too long: it is not healthy, so drop it and reconnect. */
		ig_log_warn("luno: user stream silent for more than %lld ms; reconnecting",
			    (long long)(u->timeout_ns / 1000000));
		lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else if (p->wsi != NULL && st == IG_LUNO_USER_CONNECTED && p->auth_sent &&
		   now - p->since_ns > u->timeout_ns) {
		/* Credentials sent, never a message back: not a stream. */
		ig_log_warn("luno: user stream: no message within %lld ms of the credentials; "
			    "reconnecting",
			    (long long)(u->timeout_ns / 1000000));
		lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else if (p->wsi != NULL && !p->auth_sent && now - p->since_ns > u->timeout_ns) {
		/* Upgraded, but the credentials never went out. */
		ig_log_warn("luno: user stream: the credentials could not be sent within %lld ms; "
			    "reconnecting",
			    (long long)(u->timeout_ns / 1000000));
		lws_set_timeout(p->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else if (p->wsi != NULL && st == IG_LUNO_USER_LIVE) {
		p->failures = 0;
	}
	lws_sul_schedule(p->ctx, 0, &p->sul, tick, TICK_US);
}

static void *user_main(void *arg)
{
	struct ig_luno_user *u = arg;
	struct user_priv *p = u->priv;
	struct lws_context_creation_info info;

	ig_log_attach("ig-luno-user");
	pthread_setname_np(pthread_self(), "ig-luno-user");
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = -1;
	info.uid = -1;
	info.user = p;
	info.timeout_secs = (unsigned)(u->connect_timeout_ms / 1000 > 0 ? u->connect_timeout_ms / 1000 : 1);
	info.options = u->tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	__atomic_store_n(&p->ctx, lws_create_context(&info), __ATOMIC_RELEASE);
	if (p->ctx == NULL) {
		ig_log_error("luno: user stream: libwebsockets would not start; REST polling only");
		return NULL;
	}
	lws_sul_schedule(p->ctx, 0, &p->sul, tick, 1);
	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE))
		if (lws_service(p->ctx, 0) < 0)
			break;
	lws_context_destroy(p->ctx);
	__atomic_store_n(&p->ctx, NULL, __ATOMIC_RELEASE);
	p->wsi = NULL;
	ig_luno_user_lost(u);
	return NULL;
}

/* ---------------------------------------------------------- lifecycle */

int ig_luno_user_init(struct ig_luno_user *u, const struct ig_luno_user_opts *o, char *err,
		      size_t errlen)
{
	struct user_priv *p;

	memset(u, 0, sizeof(*u));
	if (o->url == NULL || snprintf(u->url, sizeof(u->url), "%s", o->url) >= (int)sizeof(u->url) ||
	    ig_luno_ws_split(u->url, &u->tls, u->host, sizeof(u->host), &u->port, u->path,
			     sizeof(u->path)) != 0)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue: user stream URL does not parse");
	if (o->key_id == NULL || o->secret == NULL || strlen(o->key_id) >= sizeof(u->key_id) ||
	    strlen(o->secret) >= sizeof(u->secret))
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue: user stream credentials too long");
	if (o->npairs > IG_MAX_INSTRUMENTS || o->npairs > 31)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue: user stream: too many pairs");
	p = calloc(1, sizeof(*p));
	if (p != NULL)
		p->rx = malloc(IG_LUNO_USER_MSG_MAX);
	if (p == NULL || p->rx == NULL) {
		free(p);
		return ig__luno_errf(err, errlen, IG_ENOMEM, "%s", "venue: out of memory");
	}
	snprintf(u->key_id, sizeof(u->key_id), "%s", o->key_id);
	snprintf(u->secret, sizeof(u->secret), "%s", o->secret);
	for (uint32_t k = 0; k < o->npairs; k++)
		snprintf(u->pairs[k], sizeof(u->pairs[k]), "%s", o->pairs[k] != NULL ? o->pairs[k] : "");
	u->npairs = o->npairs;
	u->timeout_ns = (o->timeout_ms > 0 ? o->timeout_ms : IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS) * 1000000;
	u->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms
							  : IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	u->backoff_base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : 500;
	u->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : 30000;
	p->u = u;
	p->rng = (uint64_t)ig_clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)u;
	u->priv = p;
	return 0;
}

int ig_luno_user_start(struct ig_luno_user *u)
{
	ig_luno_ws_log_setup();
	if (ig_thread_start_quiet(&u->tid, user_main, u) != 0)
		return IG_ETHREAD;
	u->started = true;
	return 0;
}

void ig_luno_user_halt(struct ig_luno_user *u)
{
	if (u->priv == NULL)
		return;
	/* Nobody to wake any more (the engine may be tearing down). */
	ig_luno_user_set_wake(u, NULL, NULL);
	__atomic_store_n(&u->stop, 1, __ATOMIC_RELEASE);
	if (u->started) {
		/* The housekeeping tick ends lws_service within TICK_US; no
		 * lws_cancel_service from here, which could meet the context
		 * being destroyed. */
		pthread_join(u->tid, NULL);
		u->started = false;
	}
}

void ig_luno_user_destroy(struct ig_luno_user *u)
{
	struct user_priv *p = u->priv;

	if (p == NULL)
		return;
	ig_luno_user_halt(u);
	free(p->rx);
	explicit_bzero(p, sizeof(*p));
	free(p);
	u->priv = NULL;
	explicit_bzero(u->key_id, sizeof(u->key_id));
	explicit_bzero(u->secret, sizeof(u->secret));
}
