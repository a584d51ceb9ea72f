/* luno_venue.c - the Luno REST venue on one curl multi handle (see luno_venue.h). */
#include "luno/luno_venue.h"

#include "luno/luno.h"
#include "luno/luno_http.h"
#include "luno/luno_user.h"
#include "luno/luno_ws.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Record states (struct ig_luno_rec.state). */
enum { RS_FREE = 0, RS_QUEUED, RS_SENDING, RS_OPEN, RS_IN_DOUBT, RS_UNPLACED };

/* An order declared never placed (RS_UNPLACED) is still looked up every
 * UNPLACED_PACE status periods, for UNPLACED_WATCH in-doubt windows (at
 * least UNPLACED_WATCH_MIN_NS), and adopted back if it shows up. */
#define UNPLACED_PACE 8
#define UNPLACED_WATCH 30
#define UNPLACED_WATCH_MIN_NS (INT64_C(600) * 1000000000)

/* Request kinds, in the order the queue starts them. */
enum {
	RQ_NONE = 0,
	RQ_CANCEL,
	RQ_SUBMIT,
	RQ_LOOKUP,
	RQ_MARKETS,
	RQ_ORDERS,  /* recovery: listorders */
	RQ_BALANCE, /* recovery: balance */
	RQ_TRADES,
	RQ_STATUS
};

static const char *const rq_name[] = { "none", "stoporder", "submit", "lookup", "markets",
				       "listorders", "balance", "listtrades", "status" };

#define NS_PER_MS INT64_C(1000000)
/* A failing cancel is retried for as long as the order is open, backing
 * off from one status period, doubling, to CANCEL_BACKOFF_MAX periods; an
 * error is logged when an order's cancel has failed CANCEL_LOUD times. */
#define CANCEL_BACKOFF_MAX 32
#define CANCEL_LOUD 5
/* An order whose trades read fall short of the base Luno's status reports
 * for REREAD_PERIODS status periods gets its trades read again from its
 * own cursor (a trade Luno listed late, below the instrument's cursor). */
#define REREAD_PERIODS 4
/* After REREAD_MAX re-reads that did not close the gap, the order's trades
 * are not listed where its cursor can see them (a trade of the same order
 * listed after a higher one): an error is logged, counted (unlisted_fills)
 * and the order is no longer re-read; the balance check shows the
 * difference. */
#define REREAD_MAX 5
/* Submits on a pair wait for its probe (the account's latest trade) at most
 * PROBE_PATIENCE status periods (and two request timeouts); a failed probe
 * is sent again after one status period, doubling up to PROBE_BACKOFF_MAX. */
/* While the user stream is healthy the steady polls stop, except one
 * status round in STREAM_AUDIT_ROUNDS (an audit, should a message ever be
 * lost without the connection dropping). */
#define STREAM_AUDIT_ROUNDS 60
#define PROBE_PATIENCE 16
#define PROBE_BACKOFF_MAX 32

/* ------------------------------------------------------------- utilities */

/* A wait after failures: one status period, doubled per failure after the
 * first, at most max_periods status periods. */
static int64_t backoff_ns(const struct ig_luno *v, unsigned failures, int64_t max_periods)
{
	int64_t d = v->status_ns, cap = max_periods * v->status_ns;

	for (unsigned i = 1; i < failures && d < cap; i++)
		d <<= 1;
	return d < cap ? d : cap;
}

/* n + 1, saturating (failure counters). */
static uint8_t count_up(uint8_t n)
{
	return n < UINT8_MAX ? (uint8_t)(n + 1) : n;
}

/* How long submits on a pair wait for its probe: PROBE_PATIENCE status
 * periods, and at least two request timeouts. */
static int64_t probe_patience_ns(const struct ig_luno *v)
{
	int64_t patience = PROBE_PATIENCE * v->status_ns;
	int64_t floor_ns = 2 * v->timeout_ms * NS_PER_MS + v->status_ns;
	return patience > floor_ns ? patience : floor_ns;
}

void ig_luno_client_order_id(uint64_t client_id, char *buf, size_t cap)
{
	snprintf(buf, cap, "ig-%016llx", (unsigned long long)client_id);
}

uint64_t ig_luno_client_id_parse(const char *s)
{
	uint64_t x = 0;
	if (s == NULL || strncmp(s, "ig-", 3) != 0 || strlen(s) != 19)
		return 0;
	for (int i = 3; i < 19; i++) {
		char c = s[i];
		uint64_t d;
		if (c >= '0' && c <= '9')
			d = (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint64_t)(c - 'a' + 10);
		else
			return 0;
		x = x << 4 | d;
	}
	return x;
}

uint64_t ig_luno_venue_id(const char *order_id)
{
	uint64_t h = UINT64_C(14695981039346656037), n = 0;
	bool digits = order_id[0] != '\0';
	size_t len = strlen(order_id);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)order_id[i];
		h = (h ^ c) * UINT64_C(1099511628211);
		if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10)
			digits = false;
		else
			n = n * 10 + (uint64_t)(c - '0');
	}
	if (digits && n != 0)
		return n;
	return h != 0 ? h : 1;
}

/* Replaces every occurrence of needle (if non-empty) in buf with "***". */
static void redact(char *buf, size_t cap, const char *needle)
{
	size_t nl = strlen(needle);
	char *p;

	if (nl == 0)
		return;
	while ((p = strstr(buf, needle)) != NULL) {
		size_t tail = strlen(p + nl);
		if (3 + tail + (size_t)(p - buf) >= cap)
			tail = cap - (size_t)(p - buf) - 4;
		memmove(p + 3, p + nl, tail);
		memcpy(p, "***", 3);
		p[3 + tail] = '\0';
	}
}

/* Copies outside text (server message, curl error, parser detail) for a
 * log line: printable ASCII only, truncated, credentials scrubbed. */
static const char *scrub(const struct ig_luno *v, const char *src, char *dst, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; src != NULL && src[i] != '\0' && n + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[n++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	dst[n] = '\0';
	redact(dst, cap, v->secret);
	redact(dst, cap, v->key_id);
	redact(dst, cap, v->auth_b64);
	return dst;
}

static void base64(const unsigned char *in, size_t len, char *out, size_t cap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i += 3) {
		uint32_t b = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			b |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			b |= in[i + 2];
		out[o++] = tab[(b >> 18) & 63];
		out[o++] = tab[(b >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(b >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[b & 63] : '=';
	}
	out[o] = '\0';
}

static int64_t pow10_i64(int n)
{
	int64_t p = 1;
	while (n-- > 0)
		p *= 10;
	return p;
}

/* Formats v (1e-8) at dp decimals, rounding down (toward -inf) or up. */
static void fmt_scaled(int64_t v, int dp, bool up, char *buf, size_t cap)
{
	int64_t step = pow10_i64(IG_FIXED_DECIMALS - dp), r = v % step;

	if (r != 0) {
		v -= r;
		if (r < 0)
			v -= step;
		if (up)
			v += step;
	}
	ig_fixed_format_dp(v, dp, buf, cap);
}

static int64_t floor_scaled(int64_t v, int dp)
{
	int64_t step = pow10_i64(IG_FIXED_DECIMALS - dp);
	return v - v % step;
}

/* ------------------------------------------------------------ options */

void ig_luno_opts_default(struct ig_luno_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->base_url = IG_CFG_DEFAULT_VENUE_BASE_URL;
	o->key_id_env = IG_CFG_DEFAULT_KEY_ID_ENV;
	o->secret_env = IG_CFG_DEFAULT_SECRET_ENV;
	for (int i = 0; i < IG_MAX_INSTRUMENTS; i++)
		o->price_scale[i] = o->volume_scale[i] = -1;
	o->connect_timeout_ms = IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	o->timeout_ms = IG_CFG_DEFAULT_TIMEOUT_MS;
	o->status_ms = IG_CFG_DEFAULT_HEARTBEAT_MS;
	o->in_doubt_window_ms = -1;
	o->market_buy_ioc_bps = IG_CFG_MARKET_BUY_IOC_BPS;
	o->io_poll_us = 200;
	o->max_send_attempts = 3;
	o->poll_reserve = -1;
	o->requests_per_min = IG_CFG_DEFAULT_REQUESTS_PER_MIN;
	o->backoff_base_ms = 500;
	o->stream_timeout_ms = IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS;
	o->stream_backoff_ms = 500;
}

void ig_luno_opts_from_config(struct ig_luno_opts *o, const struct ig_config *cfg)
{
	ig_luno_opts_default(o);
	o->base_url = cfg->venue.base_url;
	o->key_id_env = cfg->venue.key_id_env;
	o->secret_env = cfg->venue.secret_env;
	/* The feed's pairs in instrument order (ig_feed_symbols): feed.symbols
	 * of a Luno feed, else feed.symbol. */
	if (cfg->feed.source == IG_FEED_LUNO && cfg->feed.nsymbols > 0) {
		for (uint32_t i = 0; i < cfg->feed.nsymbols && i < IG_MAX_INSTRUMENTS; i++)
			o->pairs[i] = cfg->feed.symbols[i];
		o->npairs = cfg->feed.nsymbols < IG_MAX_INSTRUMENTS ? cfg->feed.nsymbols : IG_MAX_INSTRUMENTS;
	} else {
		o->pairs[0] = cfg->feed.symbol;
		o->npairs = 1;
	}
	o->connect_timeout_ms = cfg->venue.connect_timeout_ms;
	o->timeout_ms = cfg->venue.timeout_ms;
	/* Status polling: venue.status_ms, else every feed heartbeat as the
	 * design says. */
	o->status_ms = cfg->venue.status_ms > 0      ? cfg->venue.status_ms
		       : cfg->feed.heartbeat_ms > 0 ? cfg->feed.heartbeat_ms
						    : IG_CFG_DEFAULT_HEARTBEAT_MS;
	/* venue.price_scale/volume_scale: one pair's (config refuses them
	 * with several); the others' come from /markets. */
	for (uint32_t i = 1; i < o->npairs; i++)
		o->price_scale[i] = o->volume_scale[i] = -1;
	o->price_scale[0] = (int)cfg->venue.price_scale;
	o->volume_scale[0] = (int)cfg->venue.volume_scale;
	o->in_doubt_window_ms = cfg->venue.in_doubt_window_ms;
	o->market_buy_ioc_bps = cfg->venue.market_buy_ioc_bps;
	o->budget = NULL; /* the create() of the registry entry gives its instance's */
	o->requests_per_min = ig_luno_budget_per_min(cfg);
	o->user_stream = cfg->venue.user_stream;
	o->stream_url = cfg->venue.stream_url;
	o->stream_timeout_ms = cfg->venue.stream_timeout_ms;
}

/* ---------------------------------------------------------- init/destroy */


static void queue_push(struct ig_luno *v, uint8_t kind, uint16_t inst, uint32_t rec,
		       int64_t not_before_ns);

/* Makes and starts the user stream (venue.user_stream). Returns 0,
 * IG_ECONFIG, IG_ENOMEM or IG_ETHREAD with err set. */
static int user_start(struct ig_luno *v, const struct ig_luno_opts *o, char *err, size_t errlen)
{
	struct ig_luno_user_opts uo;
	char url[IG_LUNO_WS_URL_MAX];
	int rc;

	memset(&uo, 0, sizeof(uo));
	rc = ig_luno_ws_url(v->base_url, o->stream_url, "/api/1/userstream", url, sizeof(url), err,
			    errlen);
	if (rc != 0)
		return rc;
	v->user = calloc(1, sizeof(*v->user));
	if (v->user == NULL)
		return ig__luno_errf(err, errlen, IG_ENOMEM, "%s", "venue: out of memory");
	uo.url = url;
	uo.key_id = v->key_id;
	uo.secret = v->secret;
	for (uint32_t k = 0; k < v->ninst; k++)
		uo.pairs[k] = v->inst[k].pair;
	uo.npairs = v->ninst;
	uo.timeout_ms = o->stream_timeout_ms;
	uo.connect_timeout_ms = v->connect_timeout_ms;
	uo.backoff_base_ms = o->stream_backoff_ms;
	rc = ig_luno_user_init(v->user, &uo, err, errlen);
	if (rc == 0 && ig_luno_user_start(v->user) != 0)
		rc = ig__luno_errf(err, errlen, IG_ETHREAD, "%s", "venue: the user stream thread would not start");
	if (rc != 0) {
		ig_luno_user_destroy(v->user);
		free(v->user);
		v->user = NULL;
		return rc;
	}
	ig_log_info("luno: user stream %s (REST polling until it is live and caught up)", url);
	return 0;
}

int ig_luno_init(struct ig_luno *v, const struct ig_luno_opts *o, char *err, size_t errlen)
{
	char userpwd[2 * IG_LUNO_SECRET_MAX + 2];
	int rc;
	uint32_t s = 0;

	memset(v, 0, sizeof(*v));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = ig_luno_http_base(o->base_url, v->base_url, sizeof(v->base_url), err, errlen);
	if (rc != 0)
		return rc;
	if (o->npairs == 0 || o->npairs > IG_MAX_INSTRUMENTS)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue: no pair to trade");
	for (uint32_t i = 0; i < o->npairs; i++) {
		const char *p = o->pairs[i];
		size_t n = p != NULL ? strlen(p) : 0;
		if (n == 0 || n >= IG_LUNO_PAIR_MAX || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
			return ig__luno_errf(err, errlen, IG_ECONFIG, "venue: \"%s\" is not a Luno pair name",
				    p != NULL ? p : "");
		if ((o->price_scale[i] > IG_FIXED_DECIMALS) || (o->volume_scale[i] > IG_FIXED_DECIMALS))
			return ig__luno_errf(err, errlen, IG_ECONFIG, "venue: %s: scales above 8 decimals", p);
	}
	rc = ig_luno_read_env("key_id_env", o->key_id_env, "", v->key_id, sizeof(v->key_id), err, errlen);
	if (rc == 0)
		rc = ig_luno_read_env("secret_env", o->secret_env, "", v->secret, sizeof(v->secret), err, errlen);
	if (rc == 0 && strchr(v->key_id, ':') != NULL)
		rc = ig__luno_errf(err, errlen, IG_ECONFIG, "venue.key_id_env: the key id in %s contains ':'",
			  o->key_id_env);
	if (rc != 0)
		goto out_wipe;
	snprintf(userpwd, sizeof(userpwd), "%s:%s", v->key_id, v->secret);
	base64((const unsigned char *)userpwd, strlen(userpwd), v->auth_b64, sizeof(v->auth_b64));
	explicit_bzero(userpwd, sizeof(userpwd));

	v->ninst = o->npairs;
	for (uint32_t i = 0; i < o->npairs; i++) {
		struct ig_luno_inst *in = &v->inst[i];
		snprintf(in->pair, sizeof(in->pair), "%s", o->pairs[i]);
		/* Luno's pairs are mostly base + counter, 3 letters each
		 * (XBTZAR: XBT, the asset name its balances use too); /markets
		 * says so exactly when the venue reads it. */
		if (strlen(in->pair) == 6) {
			memcpy(in->base_asset, in->pair, 3);
			memcpy(in->counter_asset, in->pair + 3, 3);
		}
		in->price_scale = o->price_scale[i] >= 0 && o->volume_scale[i] >= 0 ? o->price_scale[i] : -1;
		in->volume_scale = in->price_scale >= 0 ? o->volume_scale[i] : -1;
	}
	v->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	v->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : IG_CFG_DEFAULT_TIMEOUT_MS;
	v->status_ns = (o->status_ms > 0 ? o->status_ms : IG_CFG_DEFAULT_HEARTBEAT_MS) * NS_PER_MS;
	v->in_doubt_window_ns = (o->in_doubt_window_ms >= 0 ? o->in_doubt_window_ms
							     : v->timeout_ms + 2000) * NS_PER_MS;
	v->market_buy_ioc_bps = o->market_buy_ioc_bps;
	v->io_poll_ns = (o->io_poll_us > 0 ? o->io_poll_us : 200) * 1000;
	v->max_send_attempts = o->max_send_attempts > 0 ? o->max_send_attempts : 1;
	if (o->budget != NULL) {
		v->budget = o->budget;
	} else {
		ig_luno_budget_init(&v->own_budget, o->requests_per_min > 0 ? o->requests_per_min
										: IG_CFG_DEFAULT_REQUESTS_PER_MIN,
				    0, o->backoff_base_ms);
		v->budget = &v->own_budget;
	}
	v->poll_reserve = o->poll_reserve >= 0 ? o->poll_reserve : v->budget->burst / 3;
	/* With no since given, the trade cursor starts from Luno's own time:
	 * the first listtrades asks for the account's latest trade on the
	 * pair, and reading starts at its timestamp (never the local clock,
	 * which may not agree with Luno's). */
	v->since_ms = o->since_ms > 0 ? o->since_ms : 0;
	for (uint32_t i = 0; i < v->ninst; i++) {
		v->inst[i].since_ms = v->since_ms;
		v->inst[i].probe = v->since_ms == 0;
	}
	v->rng = (uint64_t)ig_clock_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)v;
	if (v->rng == 0)
		v->rng = 1;
	ig_hist_init(&v->stats.rtt_ns);
	ig_hist_init(&v->stats.order_rtt_ns);

	rc = IG_ENOMEM;
	v->recs = calloc(IG_LUNO_MAX_ORDERS, sizeof(*v->recs));
	v->recent = calloc(IG_LUNO_RECENT, sizeof(*v->recent));
	v->queue = calloc(IG_LUNO_QUEUE, sizeof(*v->queue));
	v->page = calloc(IG_LUNO_TRADES_PAGE, sizeof(*v->page));
	v->opage = calloc(IG_LUNO_ORDERS_PAGE, sizeof(*v->opage));
	if (v->recs == NULL || v->recent == NULL || v->queue == NULL || v->page == NULL ||
	    v->opage == NULL)
		goto out_free;
	v->multi = ig_luno_http_multi((long)IG_LUNO_SLOTS);
	if (v->multi == NULL)
		goto out_free;
	for (s = 0; s < IG_LUNO_SLOTS; s++) {
		struct ig_luno_slot *sl = &v->slots[s];
		int brc = ig_luno_body_init(&sl->rx, IG_LUNO_BODY_MAX);
		sl->easy = curl_easy_init();
		if (brc != 0 || sl->easy == NULL) {
			s++;
			goto out_slots;
		}
	}
	for (uint32_t i = 0; i < v->ninst; i++) {
		struct ig_luno_inst *in = &v->inst[i];
		if (in->price_scale < 0)
			queue_push(v, RQ_MARKETS, (uint16_t)i, 0, 0);
		/* Where the account's trades end before we trade: asked now,
		 * and submits on the pair wait for it (see probe_check). */
		in->probe_until_ns = ig_clock_mono_ns() + probe_patience_ns(v);
		if (in->probe)
			queue_push(v, RQ_TRADES, (uint16_t)i, 0, 0);
	}
	v->next_status_ns = ig_clock_mono_ns() + v->status_ns;
	if (o->user_stream) {
		rc = user_start(v, o, err, errlen);
		if (rc != 0) {
			s = IG_LUNO_SLOTS;
			goto out_slots;
		}
	}
	return 0;

out_slots:
	while (s-- > 0) {
		curl_easy_cleanup(v->slots[s].easy);
		ig_luno_body_free(&v->slots[s].rx);
	}
	curl_multi_cleanup(v->multi);
out_free:
	free(v->recs);
	free(v->recent);
	free(v->queue);
	free(v->page);
	free(v->opage);
	if (rc == IG_ENOMEM && err != NULL && errlen > 0)
		snprintf(err, errlen, "venue: out of memory");
out_wipe:
	explicit_bzero(v->key_id, sizeof(v->key_id));
	explicit_bzero(v->secret, sizeof(v->secret));
	explicit_bzero(v->auth_b64, sizeof(v->auth_b64));
	v->recs = NULL;
	v->recent = NULL;
	v->queue = NULL;
	v->page = NULL;
	v->opage = NULL;
	v->multi = NULL;
	return rc;
}

void ig_luno_destroy(struct ig_luno *v)
{
	if (v->multi == NULL)
		return;
	if (v->user != NULL) {
		ig_luno_user_destroy(v->user);
		free(v->user);
		v->user = NULL;
	}
	for (uint32_t s = 0; s < IG_LUNO_SLOTS; s++) {
		struct ig_luno_slot *sl = &v->slots[s];
		if (sl->busy)
			curl_multi_remove_handle(v->multi, sl->easy);
		curl_easy_cleanup(sl->easy);
		ig_luno_body_free(&sl->rx);
		sl->easy = NULL;
	}
	curl_multi_cleanup(v->multi);
	v->multi = NULL;
	free(v->recs);
	free(v->recent);
	free(v->queue);
	free(v->page);
	free(v->opage);
	v->recs = NULL;
	v->recent = NULL;
	v->queue = NULL;
	v->page = NULL;
	v->opage = NULL;
	explicit_bzero(v->key_id, sizeof(v->key_id));
	explicit_bzero(v->secret, sizeof(v->secret));
	explicit_bzero(v->auth_b64, sizeof(v->auth_b64));
}

/* ----------------------------------------------------------------- queue */

static void queue_push(struct ig_luno *v, uint8_t kind, uint16_t inst, uint32_t rec,
		       int64_t not_before_ns)
{
	struct ig_luno_req *q;

	/* The queue holds at most a submit, a cancel and a lookup per record
	 * plus a few per instrument, and each is deduplicated by its flag, so
	 * it cannot fill; the check is belt and braces. */
	if (v->nq == IG_LUNO_QUEUE) {
		ig_log_error("luno: request queue full, %s dropped", rq_name[kind]);
		return;
	}
	q = &v->queue[v->nq++];
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->instrument_id = inst;
	q->rec = rec;
	q->client_id = rec != 0 ? v->recs[rec - 1].client_id : 0;
	q->seq = v->next_seq++;
	q->not_before_ns = not_before_ns;
	q->queued_ns = ig_clock_mono_ns();
	switch (kind) {
	case RQ_SUBMIT:
		v->recs[rec - 1].rq_submit = true;
		break;
	case RQ_CANCEL:
		v->recs[rec - 1].rq_cancel = true;
		break;
	case RQ_LOOKUP:
	case RQ_STATUS:
		v->recs[rec - 1].rq_lookup = true;
		break;
	case RQ_TRADES:
		v->inst[inst].rq_trades = true;
		break;
	case RQ_MARKETS:
		v->inst[inst].rq_markets = true;
		break;
	case RQ_ORDERS:
		v->inst[inst].rq_orders = true;
		break;
	case RQ_BALANCE:
		v->rcv.rq_balance = true;
		break;
	default:
		break;
	}
}

/* Puts a request back after a 429 or a retryable failure. */
static void requeue(struct ig_luno *v, const struct ig_luno_req *r, int64_t not_before_ns)
{
	struct ig_luno_req *q;
	if (v->nq == IG_LUNO_QUEUE)
		return;
	q = &v->queue[v->nq++];
	*q = *r;
	q->not_before_ns = not_before_ns;
	/* Same seq: it keeps its place in its class. */
}

static void queue_remove(struct ig_luno *v, uint32_t i)
{
	v->queue[i] = v->queue[--v->nq];
}

/* ---------------------------------------------------------------- records */

static struct ig_luno_rec *rec_at(struct ig_luno *v, uint32_t idx1)
{
	return idx1 != 0 ? &v->recs[idx1 - 1] : NULL;
}

static uint32_t idx1_of(const struct ig_luno *v, const struct ig_luno_rec *r)
{
	return (uint32_t)(r - v->recs) + 1;
}

static struct ig_luno_rec *find_client(struct ig_luno *v, uint64_t client_id)
{
	if (client_id == 0)
		return NULL;
	for (uint32_t i = 0; i < v->nrecs; i++)
		if (v->recs[i].client_id == client_id)
			return &v->recs[i];
	return NULL;
}

static struct ig_luno_rec *find_order_id(struct ig_luno *v, const char *order_id)
{
	for (uint32_t i = 0; i < v->nrecs; i++)
		if (v->recs[i].client_id != 0 && strcmp(v->recs[i].order_id, order_id) == 0)
			return &v->recs[i];
	return NULL;
}

static bool recently_finished(const struct ig_luno *v, uint64_t client_id)
{
	if (client_id == 0)
		return false;
	for (uint32_t i = 0; i < IG_LUNO_RECENT; i++)
		if (v->recent[i] == client_id)
			return true;
	return false;
}

static struct ig_luno_rec *rec_alloc(struct ig_luno *v)
{
	for (uint32_t i = 0; i < IG_LUNO_MAX_ORDERS; i++) {
		if (v->recs[i].client_id == 0) {
			if (i + 1 > v->nrecs)
				v->nrecs = i + 1;
			v->live++;
			return &v->recs[i];
		}
	}
	return NULL;
}

/* The order is finished for the venue: forget it (queued requests for it
 * are dropped when they come up) and remember its id for late trades. */
static void retire(struct ig_luno *v, struct ig_luno_rec *r)
{
	v->recent[v->recent_head++ % IG_LUNO_RECENT] = r->client_id;
	memset(r, 0, sizeof(*r));
	v->live--;
	while (v->nrecs > 0 && v->recs[v->nrecs - 1].client_id == 0)
		v->nrecs--;
}

static void set_order_id(struct ig_luno_rec *r, const char *order_id)
{
	if (r->order_id[0] != '\0' || order_id[0] == '\0')
		return;
	snprintf(r->order_id, sizeof(r->order_id), "%s", order_id);
	r->venue_id = ig_luno_venue_id(r->order_id);
}

/* --------------------------------------------------------------- reports */

static void report_init(struct ig_event *ev, const struct ig_luno_rec *r, enum ig_event_type t)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)t;
	ev->hdr.strategy_id = r->strategy_id;
	ev->hdr.instrument_id = r->instrument_id;
	ev->hdr.ts_origin_ns = r->ts_origin_ns;
	ev->hdr.ts_event_ns = r->ts_event_ns;
}

static void send_state(struct ig_luno_rec *r, enum ig_ord_state st, int reason, struct ig_emit *out)
{
	struct ig_event ev;
	report_init(&ev, r, IG_EV_ORDER_UPDATE);
	ev.body.update.client_id = r->client_id;
	ev.body.update.venue_order_id = r->venue_id;
	ev.body.update.filled_qty = r->filled_qty;
	ev.body.update.leaves_qty = st == IG_OS_ACCEPTED || st == IG_OS_IN_DOUBT ? r->qty - r->filled_qty : 0;
	ev.body.update.px = r->type == IG_ORD_LIMIT ? r->px : 0;
	ev.body.update.state = (uint8_t)st;
	ev.body.update.side = r->side;
	ev.body.update.reason = (uint8_t)reason;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}

/* Rejects an order that never got a record. */
static void reject_event(struct ig_luno *v, const struct ig_event *order, int reason,
			 struct ig_emit *out)
{
	v->stats.rejected++;
	ig_venue_reject(order, reason, true, out);
}

/* Tells the OMS the venue rejected the recorded order r (reason). */
static void report_reject(struct ig_luno *v, struct ig_luno_rec *r, int reason, struct ig_emit *out)
{
	struct ig_event ev;
	report_init(&ev, r, IG_EV_REJECT);
	ev.body.reject.client_id = r->client_id;
	ev.body.reject.px = r->px;
	ev.body.reject.qty = r->qty;
	ev.body.reject.side = r->side;
	ev.body.reject.reason = (uint16_t)reason;
	ev.body.reject.by_venue = 1;
	v->stats.rejected++;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}

/* Rejects a recorded order and retires it. */
static void reject_rec(struct ig_luno *v, struct ig_luno_rec *r, int reason, struct ig_emit *out)
{
	report_reject(v, r, reason, out);
	retire(v, r);
}

/* If Luno has finished the order and every trade it made is applied,
 * reports the unfilled rest and retires the record. */
static void maybe_finish(struct ig_luno *v, struct ig_luno_rec *r, struct ig_emit *out)
{
	enum ig_ord_state st;

	if (r->client_id == 0)
		return;
	if (r->filled_qty >= r->qty) {
		retire(v, r); /* the OMS concluded FILLED from the last fill */
		return;
	}
	if (!r->complete || r->venue_base < r->status_base)
		return;
	st = r->tif == IG_TIF_FOK && r->filled_qty == 0 && !r->cancel_wanted ? IG_OS_EXPIRED
										: IG_OS_CANCELED;
	if (st == IG_OS_EXPIRED)
		v->stats.expired++;
	else
		v->stats.canceled++;
	send_state(r, st, 0, out);
	retire(v, r);
}

/* The order exists at Luno (answer, lookup or trade): OPEN, and the OMS
 * hears ACCEPTED. */
static void opened(struct ig_luno *v, struct ig_luno_rec *r, struct ig_emit *out)
{
	int64_t now = ig_clock_mono_ns();

	if (r->state == RS_OPEN)
		return;
	r->state = RS_OPEN;
	if (r->rcv_pending) {
		r->rcv_pending = false;
		v->stats.recover_found++;
		v->inst[r->instrument_id].rcv_resolved++;
	}
	/* A recovered order the OMS already had acknowledged: nothing new. */
	if (!r->quiet) {
		v->stats.accepted++;
		send_state(r, IG_OS_ACCEPTED, 0, out);
	}
	/* (A recovered order found by a trade waits for its status: it may
	 * have finished while we were down.) */
	if (r->cancel_wanted && !r->rq_cancel && !r->complete &&
	    (!r->recovered || r->last_status_ns != 0))
		queue_push(v, RQ_CANCEL, r->instrument_id, idx1_of(v, r), 0);
	/* IOC, FOK and market orders finish at once: learn how, now. */
	if (r->tif == IG_TIF_IOC || r->tif == IG_TIF_FOK || r->type == IG_ORD_MARKET) {
		if (!r->rq_lookup)
			queue_push(v, RQ_STATUS, r->instrument_id, idx1_of(v, r), now);
		if (!v->inst[r->instrument_id].rq_trades)
			queue_push(v, RQ_TRADES, r->instrument_id, 0, now);
	}
}

/* The submit's outcome is unknown: find out by looking the order up. */
static void in_doubt(struct ig_luno *v, struct ig_luno_rec *r, bool announce, struct ig_emit *out)
{
	r->state = RS_IN_DOUBT;
	v->stats.in_doubt++;
	/* With a cancel already asked the OMS holds it PENDING_CANCEL, which
	 * cannot go IN_DOUBT; the lookup resolves it all the same. */
	if (announce && !r->cancel_wanted) {
		r->announced = true;
		send_state(r, IG_OS_IN_DOUBT, 0, out);
	}
	r->next_lookup_ns = 0;
	if (!r->rq_lookup)
		queue_push(v, RQ_LOOKUP, r->instrument_id, idx1_of(v, r), 0);
}

/* ---------------------------------------------------------- submit/cancel */

void ig_luno_submit(struct ig_luno *v, const struct ig_event *order, struct ig_emit *out)
{
	const struct ig_order *o = &order->body.order;
	struct ig_luno_rec *r;
	uint16_t k = order->hdr.instrument_id;
	int64_t ref = 0;

	if (k >= v->ninst || (o->type != IG_ORD_MARKET && o->type != IG_ORD_LIMIT) ||
	    (o->side != IG_SIDE_BUY && o->side != IG_SIDE_SELL) || o->qty <= 0 ||
	    (o->type == IG_ORD_LIMIT && o->px <= 0) || o->client_id == 0) {
		ig_log_warn("luno: order %016llx refused: not an order Luno can take",
			    (unsigned long long)o->client_id);
		reject_event(v, order, IG_RJ_INVALID, out);
		return;
	}
	if (find_client(v, o->client_id) != NULL || recently_finished(v, o->client_id)) {
		/* The same intent twice: the first one stands. */
		ig_log_warn("luno: order %016llx submitted twice; the repeat is ignored",
			    (unsigned long long)o->client_id);
		return;
	}
	if (o->type == IG_ORD_MARKET && o->side == IG_SIDE_BUY) {
		ref = o->px > 0 ? o->px : v->inst[k].ask_px;
		if (ref <= 0) {
			ig_log_warn("luno: market buy %016llx refused: no price to size it",
				    (unsigned long long)o->client_id);
			reject_event(v, order, IG_RJ_NO_MARK, out);
			return;
		}
	}
	r = rec_alloc(v);
	if (r == NULL) {
		ig_log_error("luno: order table full (%d live); order %016llx refused", IG_LUNO_MAX_ORDERS,
			     (unsigned long long)o->client_id);
		reject_event(v, order, IG_RJ_VENUE, out);
		return;
	}
	r->client_id = o->client_id;
	r->qty = o->qty;
	r->px = o->px;
	r->ref_px = ref;
	r->ts_origin_ns = order->hdr.ts_origin_ns;
	r->ts_event_ns = order->hdr.ts_event_ns;
	r->strategy_id = order->hdr.strategy_id;
	r->instrument_id = k;
	r->side = o->side;
	r->type = o->type;
	r->tif = o->tif;
	r->flags = o->flags;
	r->state = RS_QUEUED;
	r->seq_floor = v->inst[k].last_seq;
	queue_push(v, RQ_SUBMIT, k, idx1_of(v, r), 0);
	ig_luno_poll(v, ig_clock_mono_ns(), out); /* start it now if the budget allows */
}

/* Takes r's queued submit out of the queue (it will not be sent). */
static void unqueue_submit(struct ig_luno *v, struct ig_luno_rec *r)
{
	for (uint32_t i = 0; i < v->nq; i++) {
		if (v->queue[i].kind == RQ_SUBMIT && v->queue[i].rec == idx1_of(v, r)) {
			queue_remove(v, i);
			break;
		}
	}
	r->rq_submit = false;
}

/* A cancel asked again (the strategy, the kill switch, the stop): r's
 * stoporder, if one waits on its backoff (or none is queued), goes as soon
 * as one status period has passed since its last one. Never while one is
 * in flight, nor once Luno accepted one or said the order is not open:
 * repeats cannot spend the budget the status and listtrades polls need to
 * finish the order. */
static void cancel_rearm(struct ig_luno *v, struct ig_luno_rec *r, int64_t now)
{
	int64_t at = r->cancel_sent_ns != 0 ? r->cancel_sent_ns + v->status_ns : now;
	bool queued = false;

	if (r->state != RS_OPEN || r->complete || r->cancel_done || r->cancel_gone)
		return;
	if (at < now)
		at = now;
	for (uint32_t i = 0; i < v->nq; i++) {
		struct ig_luno_req *q = &v->queue[i];
		if (q->kind == RQ_CANCEL && q->rec == idx1_of(v, r)) {
			queued = true;
			if (q->not_before_ns > at)
				q->not_before_ns = at;
		}
	}
	if (!r->rq_cancel)
		queue_push(v, RQ_CANCEL, r->instrument_id, idx1_of(v, r), at);
	else if (queued && r->next_cancel_ns > at)
		r->next_cancel_ns = at;
	/* (rq_cancel and not queued: in flight; its answer decides.) */
}

static void cancel_one(struct ig_luno *v, struct ig_luno_rec *r, struct ig_emit *out)
{
	if (r->cancel_wanted) {
		cancel_rearm(v, r, ig_clock_mono_ns());
		return;
	}
	r->cancel_wanted = true;
	switch (r->state) {
	case RS_QUEUED:
		/* Never sent: nothing exists at Luno to cancel. */
		unqueue_submit(v, r);
		v->stats.canceled++;
		send_state(r, IG_OS_CANCELED, 0, out);
		retire(v, r);
		return;
	case RS_OPEN:
		if (!r->complete && !r->rq_cancel)
			queue_push(v, RQ_CANCEL, r->instrument_id, idx1_of(v, r), 0);
		return;
	default:
		/* SENDING or IN_DOUBT: sent once the order id is known. */
		return;
	}
}

void ig_luno_cancel(struct ig_luno *v, const struct ig_event *cancel, struct ig_emit *out)
{
	if (cancel->body.cancel.client_id == 0) {
		/* Cancel all of the strategy's orders. */
		for (uint32_t i = 0; i < v->nrecs; i++) {
			struct ig_luno_rec *r = &v->recs[i];
			if (r->client_id != 0 && r->strategy_id == cancel->hdr.strategy_id &&
			    r->state != RS_UNPLACED)
				cancel_one(v, r, out);
		}
	} else {
		struct ig_luno_rec *r = find_client(v, cancel->body.cancel.client_id);
		/* Unknown or finished: whatever finished it is already on its
		 * way to the OMS, which resolves the race. */
		if (r != NULL && r->state != RS_UNPLACED)
			cancel_one(v, r, out);
	}
	ig_luno_poll(v, ig_clock_mono_ns(), out);
}

void ig_luno_market_data(struct ig_luno *v, const struct ig_event *md, struct ig_emit *out)
{
	struct ig_luno_inst *in;
	(void)out;
	if (md->hdr.instrument_id >= v->ninst)
		return;
	in = &v->inst[md->hdr.instrument_id];
	if (md->hdr.type == IG_EV_QUOTE) {
		if (md->body.quote.bid_px > 0)
			in->bid_px = md->body.quote.bid_px;
		if (md->body.quote.ask_px > 0)
			in->ask_px = md->body.quote.ask_px;
	} else if (md->hdr.type == IG_EV_TRADE && md->body.trade.px > 0) {
		in->bid_px = in->ask_px = md->body.trade.px;
	} else if (md->hdr.type == IG_EV_BAR && md->body.bar.close_px > 0) {
		in->bid_px = in->ask_px = md->body.bar.close_px;
	}
}

/* ------------------------------------------------------- building requests */

__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t cap, const char *fmt,
							 ...)
{
	size_t n = strlen(buf);
	va_list ap;
	if (n >= cap)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
}

/* Fills the slot's URL and (for POSTs) body. Returns false if the request
 * should not go (the caller has already dealt with the record). */
static bool build(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_emit *out, bool *post)
{
	struct ig_luno_req *q = &sl->req;
	struct ig_luno_rec *r = rec_at(v, q->rec);
	struct ig_luno_inst *in = &v->inst[q->instrument_id];
	char coid[24], num[IG_FIXED_STRLEN + 4];

	*post = false;
	sl->post[0] = '\0';
	switch (q->kind) {
	case RQ_SUBMIT: {
		bool buy = r->side == IG_SIDE_BUY;
		int64_t vol = floor_scaled(r->qty, in->volume_scale);
		ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
		*post = true;
		append(sl->post, sizeof(sl->post), "pair=%s", in->pair);
		if (r->type == IG_ORD_MARKET && !(buy && v->market_buy_ioc_bps >= 0)) {
			(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/marketorder");
			append(sl->post, sizeof(sl->post), "&type=%s", buy ? "BUY" : "SELL");
			if (buy) {
				int64_t counter = 0;
				if (ig_fixed_mul(r->qty, r->ref_px, &counter) != 0 || counter <= 0) {
					reject_rec(v, r, IG_RJ_INVALID, out);
					return false;
				}
				/* Rounded down: never spend more than qty at ref. */
				fmt_scaled(counter, in->price_scale, false, num, sizeof(num));
				append(sl->post, sizeof(sl->post), "&counter_volume=%s", num);
			} else {
				if (vol <= 0) {
					reject_rec(v, r, IG_RJ_VENUE, out);
					return false;
				}
				fmt_scaled(vol, in->volume_scale, false, num, sizeof(num));
				append(sl->post, sizeof(sl->post), "&base_volume=%s", num);
			}
		} else {
			int64_t px = r->px;
			const char *tif = r->tif == IG_TIF_IOC ? "IOC" : r->tif == IG_TIF_FOK ? "FOK" : "GTC";
			if (r->type == IG_ORD_MARKET) {
				/* Market buy as a BID IOC at its px (the worst price
				 * the OMS checked and reserved), else ask + collar. */
				int64_t add = 0;
				ig_fixed_bps(r->ref_px, v->market_buy_ioc_bps, &add);
				px = r->px > 0 ? r->px : r->ref_px + add;
				tif = "IOC";
			}
			if (vol <= 0) {
				ig_log_warn("luno: order %016llx: qty below the volume scale of %s",
					    (unsigned long long)r->client_id, in->pair);
				reject_rec(v, r, IG_RJ_VENUE, out);
				return false;
			}
			(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/postorder");
			append(sl->post, sizeof(sl->post), "&type=%s", buy ? "BID" : "ASK");
			fmt_scaled(vol, in->volume_scale, false, num, sizeof(num));
			append(sl->post, sizeof(sl->post), "&volume=%s", num);
			/* Bids round down and asks up: never a worse price. */
			fmt_scaled(px, in->price_scale, !buy, num, sizeof(num));
			append(sl->post, sizeof(sl->post), "&price=%s", num);
			if (r->flags & IG_ORDF_POST_ONLY)
				append(sl->post, sizeof(sl->post), "%s", "&post_only=true");
			append(sl->post, sizeof(sl->post), "&time_in_force=%s", tif);
		}
		append(sl->post, sizeof(sl->post), "&client_order_id=%s", coid);
		return true;
	}
	case RQ_CANCEL:
		*post = true;
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/stoporder");
		append(sl->post, sizeof(sl->post), "order_id=%s", r->order_id);
		return true;
	case RQ_LOOKUP:
	case RQ_STATUS:
		ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/exchange/3/order?client_order_id=%s",
			 coid);
		return true;
	case RQ_TRADES:
		sl->req.reread = false;
		sl->req.probe = false;
		if (in->probe && in->last_seq == 0 && in->since_ms == 0) {
			/* Where the account's trades on the pair end now. */
			sl->req.probe = true;
			(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/listtrades?pair=%s&limit=1&sort_desc=true", in->pair);
			return true;
		}
		in->probe = false;
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/listtrades?pair=%s&limit=%d",
			 in->pair, IG_LUNO_TRADES_PAGE);
		if (in->reread) {
			/* From the lowest cursor of the orders that fall short. */
			sl->req.reread = true;
			if (in->reread_seq > 0) {
				snprintf(num, sizeof(num), "%llu", (unsigned long long)in->reread_seq);
				append(sl->url, sizeof(sl->url), "&after_seq=%s", num);
			} else if (in->since_ms > 0) {
				append(sl->url, sizeof(sl->url), "&since=%lld", (long long)in->since_ms);
			}
			return true;
		}
		if (in->since_ms > 0)
			append(sl->url, sizeof(sl->url), "&since=%lld", (long long)in->since_ms);
		/* after_seq is inclusive at Luno; the cursor skips what it has
		 * already applied, so either reading is safe. */
		if (in->last_seq > 0) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)in->last_seq);
			append(sl->url, sizeof(sl->url), "&after_seq=%s", num);
		}
		return true;
	case RQ_MARKETS:
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/exchange/1/markets?pair=%s", in->pair);
		return true;
	case RQ_ORDERS:
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/listorders?pair=%s&state=PENDING&limit=%d", in->pair, IG_LUNO_ORDERS_PAGE);
		if (in->rcv_orders_before > 0)
			append(sl->url, sizeof(sl->url), "&created_before=%lld",
			       (long long)in->rcv_orders_before);
		return true;
	case RQ_BALANCE:
		(void)ig_luno_http_url(sl->url, sizeof(sl->url), v->base_url, "/api/1/balance");
		return true;
	default:
		return false;
	}
}

/* Starts the request in sl->req. Returns 1 if started, 0 if it was
 * dropped (its record already dealt with), -1 if it went back in the queue. */
static int start(struct ig_luno *v, struct ig_luno_slot *sl, int64_t now, struct ig_emit *out)
{
	CURL *e = sl->easy;
	struct ig_luno_rec *r = rec_at(v, sl->req.rec);
	bool post;

	if (!build(v, sl, out, &post))
		return 0;
	{
		const struct ig_luno_http_req hr = {
			.url = sl->url,
			.post = post ? sl->post : NULL,
			.user = v->key_id,
			.password = v->secret,
			.connect_timeout_ms = v->connect_timeout_ms,
			.timeout_ms = v->timeout_ms,
			.rx = &sl->rx,
			.errbuf = sl->errbuf,
			.priv = sl,
		};
		ig_luno_http_prepare(e, &hr);
	}
	if (curl_multi_add_handle(v->multi, e) != CURLM_OK) {
		ig_log_error("luno: cannot start a %s request", rq_name[sl->req.kind]);
		requeue(v, &sl->req, now + v->status_ns);
		return -1;
	}
	sl->busy = true;
	v->nbusy++;
	v->stats.requests++;
	switch (sl->req.kind) {
	case RQ_SUBMIT:
		v->stats.submits++;
		r->state = RS_SENDING;
		/* The not-found window runs from the last attempt that may have
		 * reached Luno: this one, unless it comes back unsent (429, no
		 * connection), and then another follows. */
		r->sent_ns = now;
		break;
	case RQ_CANCEL:
		v->stats.cancels++;
		r->cancel_sent = true;
		r->cancel_sent_ns = now;
		break;
	case RQ_LOOKUP:
	case RQ_STATUS:
		v->stats.lookups++;
		break;
	case RQ_TRADES:
		v->stats.trade_polls++;
		break;
	default:
		break;
	}
	ig_log(IG_LOG_DEBUG, "luno: %s %s", post ? "POST" : "GET", sl->url + strlen(v->base_url));
	return 1;
}

/* True if the queued request q may start now (ignoring the budget). */
static bool eligible(struct ig_luno *v, const struct ig_luno_req *q, int64_t now)
{
	if (q->not_before_ns > now)
		return false;
	if (q->kind == RQ_SUBMIT && v->inst[q->instrument_id].price_scale < 0)
		return false; /* waits for /markets */
	if (q->kind == RQ_SUBMIT && v->inst[q->instrument_id].probe)
		return false; /* waits for the probe */
	if (q->kind == RQ_TRADES && v->inst[q->instrument_id].rcv_since_wait)
		return false; /* waits for the recovered orders' creation times */
	return true;
}

/* Drops a queued request whose record is gone; true if dropped. */
static bool stale(struct ig_luno *v, const struct ig_luno_req *q)
{
	struct ig_luno_rec *r = rec_at(v, q->rec);
	return q->rec != 0 && (r->client_id == 0 || r->client_id != q->client_id);
}

static void clear_flag(struct ig_luno *v, const struct ig_luno_req *q)
{
	struct ig_luno_rec *r = stale(v, q) ? NULL : rec_at(v, q->rec);
	switch (q->kind) {
	case RQ_SUBMIT:
		if (r != NULL)
			r->rq_submit = false;
		break;
	case RQ_CANCEL:
		if (r != NULL)
			r->rq_cancel = false;
		break;
	case RQ_LOOKUP:
	case RQ_STATUS:
		if (r != NULL)
			r->rq_lookup = false;
		break;
	case RQ_TRADES:
		v->inst[q->instrument_id].rq_trades = false;
		break;
	case RQ_MARKETS:
		v->inst[q->instrument_id].rq_markets = false;
		break;
	case RQ_ORDERS:
		v->inst[q->instrument_id].rq_orders = false;
		break;
	case RQ_BALANCE:
		v->rcv.rq_balance = false;
		break;
	default:
		break;
	}
}

/* The rank of a periodic poll kept waiting two status periods: ahead of
 * cancels (a cancel is finished by the status and trades it waits for). */
#define RANK_AGED (2 * RQ_CANCEL - 1)

/* Where q stands in the queue (lower goes first): its kind, doubled, except
 * that a periodic poll kept waiting two status periods goes first. */
static int rank(const struct ig_luno *v, const struct ig_luno_req *q, int64_t now)
{
	/* Not twice in a row: under a full queue, promoted polls get at most
	 * every other call and order traffic the rest. */
	if (q->kind >= RQ_TRADES && !v->promoted_last && now - q->queued_ns > 2 * v->status_ns)
		return RANK_AGED;
	/* The probe holds the submits back: order traffic. */
	if (q->kind == RQ_TRADES && v->inst[q->instrument_id].probe)
		return 2 * RQ_SUBMIT - 1;
	/* The recovery catch-up is reconciliation traffic: no reserve. */
	if (q->kind == RQ_TRADES && v->rcv.active && !v->inst[q->instrument_id].rcv_trades_done)
		return 2 * RQ_BALANCE + 1;
	return 2 * q->kind;
}

/* Starts queued requests while slots and budget allow. Returns how many. */
static int dispatch(struct ig_luno *v, int64_t now, struct ig_emit *out)
{
	int started = 0;

	while (v->nbusy < IG_LUNO_SLOTS && v->nq > 0) {
		struct ig_luno_slot *sl = NULL;
		uint32_t best = UINT32_MAX;
		int64_t retry;

		for (uint32_t i = 0; i < v->nq;) {
			const struct ig_luno_req *q = &v->queue[i];
			if (stale(v, q)) {
				queue_remove(v, i);
				continue;
			}
			if (eligible(v, q, now) &&
			    (best == UINT32_MAX || rank(v, q, now) < rank(v, &v->queue[best], now) ||
			     (rank(v, q, now) == rank(v, &v->queue[best], now) &&
			      q->seq < v->queue[best].seq)))
				best = i;
			i++;
		}
		if (best == UINT32_MAX)
			break;
		if (!ig_luno_budget_take(v->budget, now,
					 rank(v, &v->queue[best], now) >= 2 * RQ_TRADES ? v->poll_reserve : 0,
					 &retry)) {
			if (v->budget_retry_ns == 0)
				v->stats.budget_waits++;
			v->budget_retry_ns = retry;
			break;
		}
		v->budget_retry_ns = 0;
		v->promoted_last = rank(v, &v->queue[best], now) == RANK_AGED;
		for (uint32_t s = 0; s < IG_LUNO_SLOTS; s++)
			if (!v->slots[s].busy)
				sl = &v->slots[s];
		sl->req = v->queue[best];
		queue_remove(v, best);
		if (sl->req.kind == RQ_SUBMIT && v->inst[sl->req.instrument_id].invalid) {
			clear_flag(v, &sl->req);
			reject_rec(v, rec_at(v, sl->req.rec), IG_RJ_VENUE, out);
			continue;
		}
		if (start(v, sl, now, out) == 0)
			clear_flag(v, &sl->req);
		started++;
	}
	if (started > 0) {
		int running;
		curl_multi_perform(v->multi, &running); /* opens the connections now */
	}
	return started;
}

/* ------------------------------------------------------ handling replies */


static void log_failure(struct ig_luno *v, const struct ig_luno_slot *sl, const struct ig_luno_reply *rp,
			const char *what)
{
	char a[192], b[192];
	const struct ig_luno_rec *r = rec_at(v, sl->req.rec);
	unsigned long long id = r != NULL ? (unsigned long long)sl->req.client_id : 0;

	if (rp->res != CURLE_OK)
		ig_log_warn("luno: %s %016llx: %s (%s)%s", rq_name[sl->req.kind], id,
			    curl_easy_strerror((CURLcode)rp->res), scrub(v, sl->errbuf, a, sizeof(a)), what);
	else if (rp->parsed_err)
		ig_log_warn("luno: %s %016llx: HTTP %ld %s: %s%s", rq_name[sl->req.kind], id, rp->status,
			    scrub(v, rp->err.code_str, a, sizeof(a)), scrub(v, rp->err.message, b, sizeof(b)),
			    what);
	else
		ig_log_warn("luno: %s %016llx: HTTP %ld%s", rq_name[sl->req.kind], id, rp->status, what);
}

static void malformed(struct ig_luno *v, const struct ig_luno_slot *sl, const char *what)
{
	char a[200];
	v->stats.malformed++;
	ig_log_warn("luno: %s: malformed reply (%s)%s", rq_name[sl->req.kind],
		    scrub(v, ig_luno_json_error(), a, sizeof(a)), what);
}

/* HTTP 429 or ErrTooManyRequests (the reply gate has started the budget's
 * backoff for every caller): go again once it allows. Returns true if so. */
static bool throttled(struct ig_luno *v, const struct ig_luno_slot *sl, const struct ig_luno_reply *rp,
		      int64_t now)
{
	(void)now;
	if (rp->verdict != IG_LUNO_R_THROTTLED)
		return false;
	v->stats.http_429++;
	v->stats.retries++;
	ig_log_warn("luno: %s: rate limited (HTTP %ld); backing off %lld ms", rq_name[sl->req.kind],
		    rp->status, (long long)(rp->backoff_ns / NS_PER_MS));
	requeue(v, &sl->req, 0);
	return true;
}

/* A submit that never reached Luno (429, no connection) with a cancel
 * waiting: nothing to cancel there, so it is cancelled here. */
static void canceled_unsent(struct ig_luno *v, struct ig_luno_rec *r, struct ig_emit *out)
{
	v->stats.canceled++;
	send_state(r, IG_OS_CANCELED, 0, out);
	retire(v, r);
}

static void on_submit(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		      struct ig_emit *out)
{
	struct ig_luno_rec *r = rec_at(v, sl->req.rec);
	char oid[IG_LUNO_ID_MAX];

	if (rp->res != CURLE_OK && sl->rx.overflow) {
		malformed(v, sl, ": reply too large; looking the order up");
		in_doubt(v, r, true, out);
		return;
	}
	if (rp->res != CURLE_OK) {
		if (!rp->sent && r->cancel_wanted) {
			canceled_unsent(v, r, out);
			return;
		}
		if (!rp->sent && ++r->send_attempts < v->max_send_attempts) {
			/* The connection never opened: nothing reached Luno. */
			log_failure(v, sl, rp, "; not sent, trying again");
			v->stats.retries++;
			r->state = RS_QUEUED;
			requeue(v, &sl->req, now + (v->status_ns << (r->send_attempts - 1)));
			r->rq_submit = true;
			return;
		}
		if (!rp->sent) {
			log_failure(v, sl, rp, "; not sent, giving up");
			reject_rec(v, r, IG_RJ_VENUE, out);
			return;
		}
		log_failure(v, sl, rp, "; outcome unknown, looking the order up");
		in_doubt(v, r, true, out);
		return;
	}
	if (throttled(v, sl, rp, now)) {
		r->state = RS_QUEUED;
		r->rq_submit = true;
		if (r->cancel_wanted) {
			unqueue_submit(v, r);
			canceled_unsent(v, r, out);
		}
		return;
	}
	if (rp->status >= 200 && rp->status < 300) {
		if (ig_luno_parse_order_id(rp->body, rp->len, oid, sizeof(oid)) != 0) {
			malformed(v, sl, "; looking the order up");
			in_doubt(v, r, true, out);
			return;
		}
		set_order_id(r, oid);
		opened(v, r, out);
		return;
	}
	if (rp->status == 409 ||
	    (rp->parsed_err && ig_luno_err_action(rp->err.code) == IG_LUNO_ACT_EXISTS)) {
		/* The client_order_id is taken: our earlier send got there. */
		v->stats.duplicate_409++;
		log_failure(v, sl, rp, "; the order exists, looking it up");
		in_doubt(v, r, false, out);
		return;
	}
	if (rp->status >= 400 && rp->status < 500) {
		int reason = rp->parsed_err ? ig_luno_err_reason(rp->err.code) : IG_RJ_VENUE;
		if (!rp->parsed_err)
			malformed(v, sl, "; rejecting on the HTTP status");
		log_failure(v, sl, rp, "; rejected");
		reject_rec(v, r, reason, out);
		return;
	}
	/* 5xx, or anything else: it may have been placed. */
	log_failure(v, sl, rp, "; outcome unknown, looking the order up");
	in_doubt(v, r, true, out);
}

/* When r's next cancel may go after a failure: one status period, doubled
 * per failure, at most CANCEL_BACKOFF_MAX periods from now. */
static int64_t cancel_backoff(const struct ig_luno *v, struct ig_luno_rec *r, int64_t now)
{
	r->next_cancel_ns = now + backoff_ns(v, r->cancel_attempts, CANCEL_BACKOFF_MAX);
	return r->next_cancel_ns;
}

static void on_cancel(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		      struct ig_emit *out)
{
	struct ig_luno_rec *r = rec_at(v, sl->req.rec);
	bool ok2xx = rp->res == CURLE_OK && rp->status >= 200 && rp->status < 300, ok = false;
	(void)out;

	if (rp->res == CURLE_OK && throttled(v, sl, rp, now)) {
		r->rq_cancel = true;
		return;
	}
	if (ok2xx && ig_luno_parse_success(rp->body, rp->len, &ok) != 0)
		malformed(v, sl, "; checking the order");
	if (ok2xx && ok) {
		r->cancel_done = true;
	} else if (ok2xx || (rp->res == CURLE_OK && rp->parsed_err &&
			     ig_luno_err_action(rp->err.code) == IG_LUNO_ACT_GONE)) {
		/* Already finished (or not in the book), or an answer that
		 * does not say: not sent again blindly; its status and trades
		 * say how it ended. (Should the status still say open, the
		 * cancel goes again after its backoff: apply_status.) */
		r->cancel_gone = true;
		r->cancel_attempts = count_up(r->cancel_attempts);
		cancel_backoff(v, r, now);
		log_failure(v, sl, rp, "; settling the order from its status and trades");
	} else {
		/* Cancels are idempotent: it goes again, backing off, for as
		 * long as Luno has not finished the order. */
		char then[96], coid[24];
		r->cancel_attempts = count_up(r->cancel_attempts);
		snprintf(then, sizeof(then), "; cancel attempt %u failed, sending it again in %lld ms",
			 (unsigned)r->cancel_attempts,
			 (long long)((cancel_backoff(v, r, now) - now) / NS_PER_MS));
		log_failure(v, sl, rp, then);
		if (r->cancel_attempts > CANCEL_LOUD)
			v->stats.cancel_failing++;
		if (r->cancel_attempts == CANCEL_LOUD) {
			ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
			ig_log_error("luno: the cancel of order %s has failed %d times; the order may "
				     "still be live at Luno; still trying",
				     coid, CANCEL_LOUD);
		}
		v->stats.retries++;
		requeue(v, &sl->req, r->next_cancel_ns);
		r->rq_cancel = true;
		/* It may have finished meanwhile: the status round asks. */
		return;
	}
	/* Learn the outcome now rather than at the next status round. */
	if (!r->rq_lookup)
		queue_push(v, RQ_STATUS, r->instrument_id, idx1_of(v, r), now);
	if (!v->inst[r->instrument_id].rq_trades)
		queue_push(v, RQ_TRADES, r->instrument_id, 0, now);
}

/* Sets when r is looked up again (after an answer that settled nothing,
 * or for an order reported never placed) at its state's pace: every
 * UNPLACED_PACE status periods for RS_UNPLACED, else every period.
 * Returns the time set. */
static int64_t lookup_later(const struct ig_luno *v, struct ig_luno_rec *r, int64_t now)
{
	r->next_lookup_ns = now + (r->state == RS_UNPLACED ? UNPLACED_PACE : 1) * v->status_ns;
	/* With the user stream on, no steady status poll would ask again. */
	if (v->user != NULL && r->state == RS_OPEN)
		r->stream_dirty = true;
	return r->next_lookup_ns;
}

/* r was reported to the OMS as never placed: the record stays,
 * RS_UNPLACED, looked up now and then for a while (its submit could still
 * land very late); if it shows up (status or trade) it is adopted back
 * (adopt_back) rather than skipped. */
static void watch_unplaced(struct ig_luno *v, struct ig_luno_rec *r, int64_t now)
{
	int64_t watch = UNPLACED_WATCH * v->in_doubt_window_ns;

	r->state = RS_UNPLACED;
	r->cancel_wanted = false; /* the OMS has it finished */
	r->unplaced_until_ns = now + (watch > UNPLACED_WATCH_MIN_NS ? watch : UNPLACED_WATCH_MIN_NS);
	lookup_later(v, r, now);
}

/* Declares r never placed: the OMS hears REJECTED (venue); then
 * watch_unplaced. */
static void unplaced(struct ig_luno *v, struct ig_luno_rec *r, int64_t now, struct ig_emit *out)
{
	report_reject(v, r, IG_RJ_VENUE, out);
	watch_unplaced(v, r, now);
}

/* An order declared never placed shows up at Luno (px: a price to report
 * when the order has none, e.g. the trade's): the OMS, which has it
 * REJECTED, hears it ACCEPTED with IG_EVF_ADOPT (filled 0, leaves all of
 * it), so its fills apply; the record is OPEN again. */
static void adopt_back(struct ig_luno *v, struct ig_luno_rec *r, int64_t px, struct ig_emit *out)
{
	struct ig_event ev;
	char coid[24];

	ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
	if (r->px > 0)
		px = r->px;
	else if (r->ref_px > 0)
		px = r->ref_px;
	if (px <= 0)
		px = r->side == IG_SIDE_BUY ? v->inst[r->instrument_id].ask_px
					    : v->inst[r->instrument_id].bid_px;
	v->stats.unplaced_found++;
	ig_log_error("luno: order %s, reported never placed, is at the venue after all: adopted back",
		     coid);
	report_init(&ev, r, IG_EV_ORDER_UPDATE);
	ev.hdr.flags = IG_EVF_ADOPT;
	ev.body.update.client_id = r->client_id;
	ev.body.update.venue_order_id = r->venue_id;
	ev.body.update.filled_qty = 0;
	ev.body.update.leaves_qty = r->qty - r->filled_qty;
	ev.body.update.px = px;
	ev.body.update.state = IG_OS_ACCEPTED;
	ev.body.update.prev_state = IG_OS_INITIALIZED;
	ev.body.update.side = r->side;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
	/* From here as an order found in doubt, already announced. */
	r->state = RS_IN_DOUBT;
	r->quiet = true;
	r->unplaced_until_ns = 0;
	opened(v, r, out);
}

/* A recovered order Luno does not know, the window past (sent_ns is the
 * recover() time). Final only once the trade catch-up is complete: a trade
 * of it would prove it exists. */
static void not_found_recovered(struct ig_luno *v, struct ig_luno_rec *r, int64_t now,
				struct ig_emit *out)
{
	struct ig_luno_inst *in = &v->inst[r->instrument_id];
	char coid[24];

	r->rcv_gone = true;
	if (v->rcv.active && !in->rcv_trades_done) {
		r->next_lookup_ns = now + v->status_ns;
		return;
	}
	ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
	v->stats.recover_not_found++;
	if (r->rcv_pending) {
		r->rcv_pending = false;
		in->rcv_resolved++;
	}
	if (r->acked) {
		/* The venue had acknowledged it: REJECTED is no longer legal. */
		ig_log_error("luno: recovered order %s was acknowledged but is not found at the venue; "
			     "reported CANCELED",
			     coid);
		v->stats.canceled++;
		send_state(r, IG_OS_CANCELED, 0, out);
	} else {
		ig_log_warn("luno: recovered order %s not found at the venue: it was never placed", coid);
		v->stats.rejected++;
		send_state(r, IG_OS_REJECTED, IG_RJ_VENUE, out);
	}
	watch_unplaced(v, r, now);
}

static void not_found(struct ig_luno *v, struct ig_luno_rec *r, int64_t now, struct ig_emit *out)
{
	char coid[24];

	r->looked = true;
	if (r->state == RS_UNPLACED) {
		lookup_later(v, r, now);
		return;
	}
	if (r->state != RS_IN_DOUBT) {
		ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
		ig_log_warn("luno: order %s (%s) accepted earlier but now not found", coid, r->order_id);
		return;
	}
	if (now < r->sent_ns + v->in_doubt_window_ns) {
		r->next_lookup_ns = now + v->status_ns; /* may not be visible yet */
		return;
	}
	if (r->recovered) {
		not_found_recovered(v, r, now, out);
		return;
	}
	ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
	ig_log_warn("luno: order %s not found at the venue: it was never placed", coid);
	v->stats.in_doubt_not_found++;
	unplaced(v, r, now, out);
}

static void apply_status(struct ig_luno *v, struct ig_luno_rec *r,
			 const struct ig_luno_order_status *st, int64_t now, struct ig_emit *out)
{
	set_order_id(r, st->order_id);
	r->last_status_ns = now;
	r->looked = true;
	if (st->created_ms > 0)
		r->created_ms = st->created_ms;
	if (st->status == IG_LUNO_ST_COMPLETE)
		r->complete = true;
	if (st->base > r->status_base)
		r->status_base = st->base;
	if (r->venue_base >= r->status_base)
		r->gap_since_ns = 0;
	else if (r->gap_since_ns == 0)
		r->gap_since_ns = now;
	if (r->state == RS_UNPLACED)
		adopt_back(v, r, st->limit_price, out);
	if (r->state == RS_IN_DOUBT) {
		if (!r->recovered)
			v->stats.in_doubt_found++;
		opened(v, r, out);
	}
	if (r->complete && r->venue_base < r->status_base && !v->inst[r->instrument_id].rq_trades)
		queue_push(v, RQ_TRADES, r->instrument_id, 0, now);
	/* Still open with a cancel wanted that is neither queued nor accepted
	 * by Luno (a recovered order's cancel, or one Luno answered as
	 * final while the order was still open): it goes again, after its
	 * backoff (it is safe to repeat). */
	if (r->state == RS_OPEN && r->cancel_wanted && !r->complete && !r->rq_cancel && !r->cancel_done)
		queue_push(v, RQ_CANCEL, r->instrument_id, idx1_of(v, r),
			   r->next_cancel_ns > now ? r->next_cancel_ns : now);
	maybe_finish(v, r, out);
}

static void on_lookup(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		      struct ig_emit *out)
{
	struct ig_luno_rec *r = rec_at(v, sl->req.rec);
	struct ig_luno_order_status st;
	uint64_t cid;

	if (rp->res != CURLE_OK) {
		if (sl->rx.overflow)
			malformed(v, sl, "; asking again later");
		else
			log_failure(v, sl, rp, "; asking again later");
		lookup_later(v, r, now);
		return;
	}
	if (throttled(v, sl, rp, now)) {
		r->rq_lookup = true;
		return;
	}
	if (rp->status == 404 ||
	    (rp->parsed_err && rp->err.code == IG_LUNO_ERR_ORDER_NOT_FOUND)) {
		not_found(v, r, now, out);
		return;
	}
	if (rp->status < 200 || rp->status >= 300) {
		log_failure(v, sl, rp, "; asking again later");
		lookup_later(v, r, now);
		return;
	}
	if (ig_luno_parse_order(rp->body, rp->len, &st) != 0) {
		malformed(v, sl, "; asking again later");
		lookup_later(v, r, now);
		return;
	}
	cid = ig_luno_client_id_parse(st.client_order_id);
	if ((st.client_order_id[0] != '\0' && cid != r->client_id) ||
	    (r->order_id[0] != '\0' && strcmp(st.order_id, r->order_id) != 0)) {
		v->stats.malformed++;
		ig_log_warn("luno: status for %016llx describes another order; ignored",
			    (unsigned long long)r->client_id);
		lookup_later(v, r, now);
		return;
	}
	if (r->catchup && sl->req.queued_ns >= v->catchup_ns)
		r->catchup = false;
	apply_status(v, r, &st, now, out);
}

/* One venue trade of ours: one IG_EV_FILL. */
static void apply_trade(struct ig_luno *v, struct ig_luno_rec *r, const struct ig_luno_trade *t,
			struct ig_emit *out)
{
	struct ig_event ev;
	int64_t qty = t->volume, leaves;

	set_order_id(r, t->order_id);
	if (r->state == RS_UNPLACED)
		adopt_back(v, r, t->price, out);
	if (r->state == RS_IN_DOUBT || r->state == RS_QUEUED) {
		/* A trade proves the order exists (even one we meant to send
		 * again after a 429: then it must not go). */
		if (r->state == RS_QUEUED)
			unqueue_submit(v, r);
		else if (!r->recovered)
			v->stats.in_doubt_by_trade++;
		opened(v, r, out);
	}
	if (t->side != IG_SIDE_NONE && t->side != r->side) {
		v->stats.malformed++;
		ig_log_error("luno: trade %llu of order %016llx has the wrong side; not applied",
			     (unsigned long long)t->sequence, (unsigned long long)r->client_id);
		return;
	}
	r->venue_base += t->volume;
	if (r->venue_base >= r->status_base)
		r->gap_since_ns = 0;
	leaves = r->qty - r->filled_qty;
	if (qty > leaves) {
		v->stats.overfills++;
		ig_log_error("luno: trade %llu fills order %016llx beyond its quantity; %lld of %lld (1e-8) applied",
			     (unsigned long long)t->sequence, (unsigned long long)r->client_id,
			     (long long)leaves, (long long)qty);
		qty = leaves;
	}
	/* Fees are booked in the currency Luno charged them: a buyer's in
	 * base (the OMS nets it from the position), a seller's in counter. */
	r->last_seq = t->sequence;
	if (qty <= 0)
		return;
	r->filled_qty += qty;
	report_init(&ev, r, IG_EV_FILL);
	if (t->timestamp_ms > 0)
		ev.hdr.ts_event_ns = t->timestamp_ms * NS_PER_MS;
	else
		ev.hdr.ts_event_ns = ig_clock_real_ns();
	ev.body.fill.client_id = r->client_id;
	ev.body.fill.venue_order_id = r->venue_id;
	ev.body.fill.trade_id = t->sequence;
	ev.body.fill.px = t->price;
	ev.body.fill.qty = qty;
	ev.body.fill.fee = t->fee_counter;
	ev.body.fill.fee_base = t->fee_base;
	ev.body.fill.side = r->side;
	ev.body.fill.liquidity = t->is_buy < 0 ? IG_LIQ_NONE
				 : (t->is_buy == 1) == (r->side == IG_SIDE_BUY) ? IG_LIQ_TAKER
										: IG_LIQ_MAKER;
	ev.body.fill.last = r->filled_qty == r->qty;
	v->stats.fills++;
	if (v->rcv.active) {
		v->stats.recon_fills++;
		v->inst[r->instrument_id].rcv_fills++;
	}
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
	maybe_finish(v, r, out);
}

/* True if a trade we cannot map might still be one of ours: some submit
 * on this pair has no order id yet. */
static bool unmapped_orders(const struct ig_luno *v, uint16_t k)
{
	for (uint32_t i = 0; i < v->nrecs; i++) {
		const struct ig_luno_rec *r = &v->recs[i];
		/* (A recovered order not found after the window is not waited
		 * for: its not-found waits for the trades instead.) */
		if (r->client_id != 0 && r->instrument_id == k && r->order_id[0] == '\0' &&
		    (r->state == RS_SENDING || r->state == RS_IN_DOUBT) && !r->rcv_gone)
			return true;
	}
	return false;
}

/* The checks a read's reply passes before its body is parsed: the
 * transport, an oversized body, HTTP 429 (then *again is set: the same
 * request goes again once the backoff allows) and a non-2xx status. Each
 * failure is logged, ending with `then` (what happens next). Returns true
 * if the body may be parsed. */
static bool read_reply_ok(struct ig_luno *v, struct ig_luno_slot *sl, const struct ig_luno_reply *rp,
			  int64_t now, bool *again, const char *then)
{
	switch (rp->verdict) {
	case IG_LUNO_R_OK:
		return true;
	case IG_LUNO_R_TOO_LARGE:
		malformed(v, sl, then);
		return false;
	case IG_LUNO_R_THROTTLED:
		*again = throttled(v, sl, rp, now);
		return false;
	default:
		log_failure(v, sl, rp, then);
		return false;
	}
}

static void on_trades(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		      struct ig_emit *out)
{
	uint16_t k = sl->req.instrument_id;
	struct ig_luno_inst *in = &v->inst[k];
	size_t n = 0;
	bool stopped = false;

	bool is_probe = sl->req.probe;

	in->more_trades = false;
	if (is_probe && !in->probe)
		return; /* answered after the submits stopped waiting: too late to use */
	if (!read_reply_ok(v, sl, rp, now, &in->rq_trades, "; read again next round") ||
	    ig_luno_parse_trades(rp->body, rp->len, v->page, IG_LUNO_TRADES_PAGE, &n) != 0) {
		/* Nothing of the page is applied; the cursor stays, so the
		 * same trades are read again: no fill is lost or doubled. */
		if (rp->res == CURLE_OK && rp->status >= 200 && rp->status < 300)
			malformed(v, sl, "; read again next round");
		if (v->user != NULL && !is_probe && !in->rq_trades) {
			/* With the user stream on, no steady poll reads it again. */
			in->stream_dirty = true;
			in->stream_not_before_ns = now + v->status_ns;
		}
		if (is_probe && !in->rq_trades) {
			/* The submits wait for it: again, backing off. */
			in->probe_fails = count_up(in->probe_fails);
			queue_push(v, RQ_TRADES, k, 0, now + backoff_ns(v, in->probe_fails, PROBE_BACKOFF_MAX));
		}
		return;
	}
	if (is_probe) {
		/* The account's latest trade before any submit of ours on the
		 * pair: every trade of ours is above its sequence, the cursor
		 * (exact; no clock). None: read from the start. */
		in->probe = false;
		for (size_t i = 0; i < n; i++)
			if (v->page[i].sequence > in->last_seq)
				in->last_seq = v->page[i].sequence;
		/* Orders queued meanwhile (their submits waited for this) start
		 * their trade floor here, not at 0 (a re-read from 0 would page
		 * through the account's whole history). */
		for (uint32_t i = 0; i < v->nrecs; i++)
			if (v->recs[i].client_id != 0 && v->recs[i].instrument_id == k &&
			    v->recs[i].state == RS_QUEUED && v->recs[i].seq_floor < in->last_seq)
				v->recs[i].seq_floor = in->last_seq;
		ig_log_info("luno: %s: trades read after sequence %llu%s", in->pair,
			    (unsigned long long)in->last_seq, n == 0 ? " (no earlier trade)" : "");
		return;
	}
	/* Apply in sequence order whatever order the page came in. */
	for (size_t i = 1; i < n; i++) {
		struct ig_luno_trade t = v->page[i];
		size_t j = i;
		while (j > 0 && v->page[j - 1].sequence > t.sequence) {
			v->page[j] = v->page[j - 1];
			j--;
		}
		v->page[j] = t;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ig_luno_trade *t = &v->page[i];
		uint64_t cid = ig_luno_client_id_parse(t->client_order_id);
		struct ig_luno_rec *r;

		r = cid != 0 ? find_client(v, cid) : find_order_id(v, t->order_id);
		if (r != NULL && r->instrument_id != k)
			r = NULL;
		/* A trade of a known order is applied when it is above that
		 * order's own cursor, wherever the instrument's cursor is: Luno
		 * may list a trade late, below a sequence already read, and a
		 * match between two of our orders is listed once per side under
		 * one sequence (each side is a fill). Only trades of no known
		 * order are skipped by the instrument's cursor. */
		if (r == NULL && (t->sequence <= in->last_seq || sl->req.reread)) {
			v->stats.duplicate_trades++;
			continue;
		}
		if (r == NULL) {
			if (recently_finished(v, cid)) {
				v->stats.duplicate_trades++;
			} else if (cid == 0 && unmapped_orders(v, k)) {
				/* Could be ours once that order id is known:
				 * stop here and read it again later. */
				stopped = true;
				break;
			} else {
				v->stats.foreign_trades++;
				ig_log(IG_LOG_DEBUG, "luno: trade %llu is not of an order of ours",
				       (unsigned long long)t->sequence);
			}
		} else if (t->sequence <= r->last_seq) {
			v->stats.duplicate_trades++;
		} else {
			apply_trade(v, r, t, out);
		}
		if (t->sequence > in->last_seq)
			in->last_seq = t->sequence;
	}
	if (sl->req.reread) {
		/* Read on from the page's end, or done. */
		if (n == IG_LUNO_TRADES_PAGE) {
			in->reread_seq = v->page[n - 1].sequence;
		} else {
			in->reread = false;
			in->reread_seq = 0;
		}
		if (!in->rq_trades)
			queue_push(v, RQ_TRADES, k, 0, now);
		return;
	}
	if (stopped && v->user != NULL) {
		/* Read again once our orders' ids are known: with the user
		 * stream on, no steady poll would. */
		in->stream_dirty = true;
		in->stream_not_before_ns = now + v->status_ns;
	} else if (n < IG_LUNO_TRADES_PAGE && in->catchup && sl->req.queued_ns >= v->catchup_ns) {
		in->catchup = false;
	}
	if (n == IG_LUNO_TRADES_PAGE) {
		in->more_trades = true;
		if (!in->rq_trades)
			queue_push(v, RQ_TRADES, k, 0, now);
	} else if (!stopped && v->rcv.active && !in->rcv_trades_done) {
		/* A short page, read to its end: the catch-up is complete. */
		in->rcv_trades_done = true;
		ig_log_info("luno: %s: trades read up to sequence %llu", in->pair,
			    (unsigned long long)in->last_seq);
	}
}

static void on_markets(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		       struct ig_emit *out)
{
	uint16_t k = sl->req.instrument_id;
	struct ig_luno_inst *in = &v->inst[k];
	struct ig_luno_market m;
	int rc;
	(void)out;

	if (rp->res == CURLE_OK && throttled(v, sl, rp, now)) {
		in->rq_markets = true;
		return;
	}
	if (rp->res != CURLE_OK || rp->status < 200 || rp->status >= 300) {
		log_failure(v, sl, rp, "; asking again");
		in->next_markets_ns = now + v->status_ns;
		return;
	}
	rc = ig_luno_parse_markets(rp->body, rp->len, in->pair, &m);
	if (rc == IG_ENOTFOUND) {
		ig_log_error("luno: %s is not a market at %s; its orders are rejected", in->pair,
			     v->base_url);
		in->invalid = true;
		if (in->price_scale < 0) {
			in->price_scale = 8;
			in->volume_scale = 8;
		}
		/* Nothing to recover there. */
		in->rcv_trades_done = true;
		in->rcv_orders_done = true;
		return;
	}
	if (rc != 0) {
		malformed(v, sl, "; asking again");
		in->next_markets_ns = now + v->status_ns;
		return;
	}
	in->have_markets = true;
	if (m.base[0] != '\0' && m.counter[0] != '\0') {
		snprintf(in->base_asset, sizeof(in->base_asset), "%s", m.base);
		snprintf(in->counter_asset, sizeof(in->counter_asset), "%s", m.counter);
	}
	/* Scales from the options stand; else these. */
	if (in->price_scale < 0) {
		in->price_scale = m.price_scale;
		in->volume_scale = m.volume_scale;
	}
	ig_log_info("luno: %s: price scale %d, volume scale %d", in->pair, in->price_scale,
		    in->volume_scale);
}

/* An open order of ours the journal does not have: a record, OPEN, and
 * the OMS hears ACCEPTED with IG_EVF_ADOPT. */
static void adopt(struct ig_luno *v, uint16_t k, const struct ig_luno_order_status *st,
		  uint64_t cid, int64_t now, struct ig_emit *out)
{
	struct ig_luno_inst *in = &v->inst[k];
	struct ig_luno_rec *r;
	struct ig_event ev;
	int64_t leaves = st->limit_volume - st->base;
	char coid[24], a[IG_LUNO_ID_MAX];

	ig_luno_client_order_id(cid, coid, sizeof(coid));
	if (st->side == IG_SIDE_NONE || st->limit_volume <= 0 || leaves <= 0) {
		v->stats.malformed++;
		ig_log_warn("luno: %s: open order %s (%s) has no side or nothing left; not adopted",
			    in->pair, coid, scrub(v, st->order_id, a, sizeof(a)));
		return;
	}
	r = rec_alloc(v);
	if (r == NULL) {
		ig_log_error("luno: order table full; open order %s cannot be adopted", coid);
		return;
	}
	r->client_id = cid;
	set_order_id(r, st->order_id);
	/* As the OMS sees it: filled 0 and leaves, the rest; its earlier
	 * trades are behind the cursor (and in the balances). */
	r->qty = leaves;
	r->px = st->limit_price;
	r->type = st->limit_price > 0 ? IG_ORD_LIMIT : IG_ORD_MARKET;
	r->tif = st->tif;
	r->side = st->side;
	r->strategy_id = IG_CID_STRATEGY(cid);
	r->instrument_id = k;
	r->state = RS_OPEN;
	r->venue_base = st->base;
	r->status_base = st->base;
	r->last_seq = in->last_seq;
	r->seq_floor = in->last_seq;
	r->sent_ns = now;
	r->last_status_ns = now;
	r->ts_event_ns = ig_clock_real_ns();
	v->stats.adopted++;
	in->rcv_adopted++;
	report_init(&ev, r, IG_EV_ORDER_UPDATE);
	ev.hdr.flags = IG_EVF_ADOPT;
	ev.body.update.client_id = r->client_id;
	ev.body.update.venue_order_id = r->venue_id;
	ev.body.update.filled_qty = 0;
	ev.body.update.leaves_qty = leaves;
	ev.body.update.px = st->limit_price;
	ev.body.update.state = IG_OS_ACCEPTED;
	ev.body.update.prev_state = IG_OS_INITIALIZED;
	ev.body.update.side = r->side;
	ig_log_warn("luno: %s: open order %s (%s) is ours but not in the journal: adopted", in->pair,
		    coid, r->order_id[0] != '\0' ? scrub(v, r->order_id, a, sizeof(a)) : "");
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}

/* An open order on the account that is not ours: counted and left alone. */
static void foreign_order(struct ig_luno *v, uint16_t k, const struct ig_luno_order_status *st)
{
	char a[IG_LUNO_ID_MAX], b[IG_LUNO_ID_MAX], px[IG_FIXED_STRLEN], vol[IG_FIXED_STRLEN];

	v->stats.foreign_orders++;
	v->inst[k].rcv_foreign++;
	ig_fixed_format(st->limit_price, px, sizeof(px));
	ig_fixed_format(st->limit_volume, vol, sizeof(vol));
	ig_log_warn("luno: %s: open order %s (client_order_id \"%s\") is not ours: %s %s @ %s; left alone",
		    v->inst[k].pair, scrub(v, st->order_id, a, sizeof(a)),
		    scrub(v, st->client_order_id, b, sizeof(b)), ig_side_name((enum ig_side)st->side), vol,
		    px);
}

static void on_orders(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		      struct ig_emit *out)
{
	uint16_t k = sl->req.instrument_id;
	struct ig_luno_inst *in = &v->inst[k];
	int64_t oldest = INT64_MAX;
	size_t n = 0;

	if (!read_reply_ok(v, sl, rp, now, &in->rq_orders, "; asking again"))
		return;
	if (ig_luno_parse_orders(rp->body, rp->len, v->opage, IG_LUNO_ORDERS_PAGE, &n) != 0) {
		/* Nothing of the page is used; it is read again. */
		malformed(v, sl, "; asking again");
		return;
	}
	if (in->rcv_orders_done)
		return; /* a late answer to a pass already read */
	for (size_t i = 0; i < n; i++) {
		const struct ig_luno_order_status *st = &v->opage[i];
		uint64_t cid = ig_luno_client_id_parse(st->client_order_id);

		if (st->created_ms > 0 && st->created_ms < oldest)
			oldest = st->created_ms;
		if (st->status == IG_LUNO_ST_COMPLETE ||
		    (st->pair[0] != '\0' && strcmp(st->pair, in->pair) != 0))
			continue;
		if (find_order_id(v, st->order_id) != NULL)
			continue;
		if (cid == 0)
			foreign_order(v, k, st);
		else if (find_client(v, cid) == NULL && !recently_finished(v, cid))
			adopt(v, k, st, cid, now, out);
	}
	if (n == IG_LUNO_ORDERS_PAGE) {
		if (oldest != INT64_MAX && oldest != in->rcv_orders_before) {
			in->rcv_orders_before = oldest;
			queue_push(v, RQ_ORDERS, k, 0, now);
			return;
		}
		ig_log_warn("luno: %s: listorders cannot page further; open orders may be missed", in->pair);
	}
	in->rcv_orders_done = true;
}

static void on_balance(struct ig_luno *v, struct ig_luno_slot *sl, struct ig_luno_reply *rp, int64_t now,
		       struct ig_emit *out)
{
	const char *assets[2 * IG_MAX_INSTRUMENTS];
	int64_t totals[2 * IG_MAX_INSTRUMENTS];
	(void)out;

	if (!read_reply_ok(v, sl, rp, now, &v->rcv.rq_balance, "; asking again"))
		return;
	for (uint32_t k = 0; k < v->ninst; k++) {
		assets[2 * k] = v->inst[k].base_asset;
		assets[2 * k + 1] = v->inst[k].counter_asset;
	}
	if (ig_luno_parse_balance(rp->body, rp->len, assets, 2 * v->ninst, totals) != 0) {
		malformed(v, sl, "; asking again");
		return;
	}
	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		in->rcv_base_balance = assets[2 * k][0] != '\0' ? totals[2 * k] : 0;
		in->rcv_counter_balance = assets[2 * k + 1][0] != '\0' ? totals[2 * k + 1] : 0;
		/* Orders may fill while the pass runs: the balances count only
		 * if no trade of the account lands between this read and the
		 * trades read after it (rcv_check), so catch up once more. */
		v->rcv.balance_seq[k] = in->last_seq;
		if (!in->invalid)
			in->rcv_trades_done = false;
	}
	v->rcv.balance_reads++;
	v->rcv.balances_done = true;
}

/* Recovery: remembers how the pass's requests fail, for the report. */
static void rcv_note(struct ig_luno *v, const struct ig_luno_slot *sl, const struct ig_luno_reply *rp,
		     bool bad)
{
	uint8_t e;

	if (sl->req.kind == RQ_SUBMIT || sl->req.kind == RQ_CANCEL)
		return; /* order business, not reconciliation */
	if (rp->res != CURLE_OK)
		e = sl->rx.overflow ? IG_RECON_MALFORMED : IG_RECON_UNREACHABLE;
	else if (bad)
		e = IG_RECON_MALFORMED;
	else if (rp->status == 429 || (rp->status >= 200 && rp->status < 300) || rp->status == 404)
		return;
	else
		e = IG_RECON_UNREACHABLE;
	v->rcv.error = e;
}

/* A finished transfer. */
static void complete(struct ig_luno *v, struct ig_luno_slot *sl, CURLcode res, int64_t now,
		     struct ig_emit *out)
{
	struct ig_luno_reply rp;
	uint64_t bad0;

	curl_multi_remove_handle(v->multi, sl->easy);
	sl->busy = false;
	v->nbusy--;
	clear_flag(v, &sl->req);
	ig_luno_reply_gate(&rp, sl->easy, (int)res, &sl->rx, v->budget, now, &v->rng);
	if (rp.rtt_ns > 0) {
		ig_hist_record(&v->stats.rtt_ns, rp.rtt_ns);
		if (sl->req.kind == RQ_SUBMIT)
			ig_hist_record(&v->stats.order_rtt_ns, rp.rtt_ns);
	}
	{
		/* Health (op_health): failures by code, and replies in a row that
		 * say the venue is struggling (5xx, 429, no answer). */
		long status = res == CURLE_OK ? rp.status : 0;
		int slot = ig_snap_http_code_slot(status);
		if (rp.rtt_ns > 0)
			v->stats.last_rtt_ns = rp.rtt_ns;
		if (slot >= 0)
			v->stats.http_code[slot]++;
		if (status == 0 || status == 429 || status >= 500)
			v->stats.bad_streak++;
		else
			v->stats.bad_streak = 0;
	}
	if (res == CURLE_OK) {
		if (rp.status >= 500)
			v->stats.http_5xx++;
		else if (rp.status >= 400)
			v->stats.http_4xx++;
		else if (rp.status >= 300)
			v->stats.http_3xx++;
		else
			v->stats.http_2xx++;
	} else {
		v->stats.transport_errors++;
		if (res == CURLE_OPERATION_TIMEDOUT)
			v->stats.timeouts++;
	}
	if (stale(v, &sl->req))
		return; /* the order finished meanwhile */
	bad0 = v->stats.malformed;
	switch (sl->req.kind) {
	case RQ_SUBMIT:
		on_submit(v, sl, &rp, now, out);
		break;
	case RQ_CANCEL:
		on_cancel(v, sl, &rp, now, out);
		break;
	case RQ_LOOKUP:
	case RQ_STATUS:
		on_lookup(v, sl, &rp, now, out);
		break;
	case RQ_TRADES:
		on_trades(v, sl, &rp, now, out);
		break;
	case RQ_MARKETS:
		on_markets(v, sl, &rp, now, out);
		break;
	case RQ_ORDERS:
		on_orders(v, sl, &rp, now, out);
		break;
	case RQ_BALANCE:
		on_balance(v, sl, &rp, now, out);
		break;
	default:
		break;
	}
	if (v->rcv.active)
		rcv_note(v, sl, &rp, v->stats.malformed != bad0);
}

/* ----------------------------------------------------------- status round */

/* r's trades read fall short of the base Luno reports for it, for a
 * while: its trades are read again from its own cursor (the lowest such
 * cursor on the instrument, if several). */
static void reread_from(struct ig_luno *v, struct ig_luno_rec *r, int64_t now)
{
	struct ig_luno_inst *in = &v->inst[r->instrument_id];
	uint64_t from = r->last_seq > r->seq_floor ? r->last_seq : r->seq_floor;
	char coid[24];

	r->gap_since_ns = now; /* once per REREAD_PERIODS while it lasts */
	if (!in->reread || from < in->reread_seq)
		in->reread_seq = from;
	in->reread = true;
	ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
	ig_log(r->rereads++ == 0 ? IG_LOG_WARN : IG_LOG_DEBUG,
	       "luno: order %s: Luno reports more filled than its trades read; reading its "
	       "trades again from sequence %llu",
	       coid, (unsigned long long)from);
	if (!in->rq_trades)
		queue_push(v, RQ_TRADES, r->instrument_id, 0, now);
}

/* Every status_ms: read new trades and ask for the status of the orders
 * that need it. */
static void status_round(struct ig_luno *v, int64_t now)
{
	uint32_t resting = 0;
	int64_t resting_ns;
	bool any[IG_MAX_INSTRUMENTS] = { false };
	bool polls;

	for (uint32_t i = 0; i < v->nrecs; i++) {
		const struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id == 0)
			continue;
		if (r->state != RS_QUEUED)
			any[r->instrument_id] = true;
		if (r->state == RS_OPEN && r->tif != IG_TIF_IOC && r->tif != IG_TIF_FOK &&
		    r->type == IG_ORD_LIMIT && !r->cancel_wanted && !r->complete)
			resting++;
	}
	/* Resting GTC orders: checked in turn at a pace that spends at most a
	 * quarter of the budget on them (their fills come from listtrades). */
	resting_ns = (int64_t)resting * (INT64_C(240000000000) / ig_luno_budget_limit(v->budget));
	if (resting_ns < v->status_ns)
		resting_ns = v->status_ns;
	/* The user stream, healthy and caught up, triggers these reads:
	 * the steady ones stop but for a slow audit round. */
	polls = !v->stream_on || ++v->stream_rounds % STREAM_AUDIT_ROUNDS == 0;
	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		if (any[k] && !in->rq_trades && in->price_scale >= 0) {
			if (polls)
				queue_push(v, RQ_TRADES, (uint16_t)k, 0, now);
			else
				v->stats.stream_saved++;
		}
		if (in->price_scale < 0 && !in->rq_markets && now >= in->next_markets_ns)
			queue_push(v, RQ_MARKETS, (uint16_t)k, 0, now);
	}
	for (uint32_t i = 0; i < v->nrecs; i++) {
		struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id == 0)
			continue;
		if (r->state == RS_OPEN && r->gap_since_ns != 0 &&
		    now - r->gap_since_ns >= REREAD_PERIODS * v->status_ns) {
			if (r->rereads < REREAD_MAX) {
				reread_from(v, r, now);
			} else if (r->gap_since_ns > 0) {
				char coid[24];
				ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
				ig_log_error("luno: order %s: Luno reports %lld (1e-8) filled, its listed "
					     "trades %lld; after %d re-reads a trade of it is not listed "
					     "after its cursor: not applied (the balance check shows it)",
					     coid, (long long)r->status_base, (long long)r->venue_base,
					     REREAD_MAX);
				v->stats.unlisted_fills++;
				r->gap_since_ns = -1; /* reported; not re-read again */
			}
		}
		if (r->rq_lookup)
			continue;
		if (r->state == RS_UNPLACED && now >= r->unplaced_until_ns) {
			char coid[24];
			ig_luno_client_order_id(r->client_id, coid, sizeof(coid));
			ig_log_info("luno: order %s still not at the venue; no longer looked for", coid);
			retire(v, r);
		} else if (r->state == RS_IN_DOUBT || r->state == RS_UNPLACED) {
			if (now >= r->next_lookup_ns)
				queue_push(v, RQ_LOOKUP, r->instrument_id, i + 1, now);
		} else if (r->state == RS_OPEN && !r->complete) {
			bool urgent = r->cancel_wanted || r->tif == IG_TIF_IOC || r->tif == IG_TIF_FOK ||
				      r->type == IG_ORD_MARKET;
			if (!polls) {
				/* Its turn waits for the audit round (taken here, an
				 * order whose turn never fell on one went unaudited);
				 * a poll saved once per turn that polling would take. */
				int64_t since = now - r->last_status_ns;
				if (urgent || (since >= resting_ns && since % resting_ns < v->status_ns))
					v->stats.stream_saved++;
			} else if (urgent || now - r->last_status_ns >= resting_ns) {
				r->last_status_ns = now; /* its turn is taken */
				queue_push(v, RQ_STATUS, r->instrument_id, i + 1, now);
			}
		}
	}
}

/* -------------------------------------------------------------- recovery */

int ig_luno_recover(struct ig_luno *v, const struct ig_recover *rc)
{
	int64_t now = ig_clock_mono_ns(), timeout_ms;
	int ret = 0;

	if (v->rcv.started_ns != 0)
		return IG_ESTATE;
	memset(&v->rcv, 0, sizeof(v->rcv));
	timeout_ms = rc->timeout_ms > 0 ? rc->timeout_ms : 3 * v->timeout_ms;
	v->rcv.active = true;
	v->rcv.started_ns = now;
	v->rcv.deadline_ns = now + timeout_ms * NS_PER_MS;
	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		in->rcv_trades_done = in->invalid;
		in->rcv_orders_done = in->invalid;
		if (!rc->have_journal)
			continue;
		/* Every trade after the last one the journal applied. With no
		 * cursor, from the earliest creation time Luno reports for the
		 * recovered orders on the pair (rcv_since_ready), never from
		 * the local clock (a clock ahead of Luno's would lose the fills
		 * made before the crash). */
		in->last_seq = rc->last_trade_seq[k];
		if (in->last_seq > 0) {
			in->since_ms = 0;
			in->probe = false;
		}
	}
	for (uint32_t i = 0; i < rc->norders; i++) {
		const struct ig_recover_order *o = &rc->orders[i];
		struct ig_luno_rec *r;

		if (o->client_id == 0 || o->instrument_id >= v->ninst ||
		    (o->type != IG_ORD_MARKET && o->type != IG_ORD_LIMIT) ||
		    (o->side != IG_SIDE_BUY && o->side != IG_SIDE_SELL) || o->qty <= 0 ||
		    o->filled_qty < 0 || o->filled_qty > o->qty) {
			ig_log_error("luno: recovered order %016llx is not an order this venue sends; skipped",
				     (unsigned long long)o->client_id);
			continue;
		}
		if (find_client(v, o->client_id) != NULL) {
			ig_log_warn("luno: recovered order %016llx given twice; the repeat is ignored",
				    (unsigned long long)o->client_id);
			continue;
		}
		r = rec_alloc(v);
		if (r == NULL) {
			ig_log_error("luno: order table full (%d live); recovered order %016llx not looked up",
				     IG_LUNO_MAX_ORDERS, (unsigned long long)o->client_id);
			ret = IG_ELIMIT;
			continue;
		}
		r->client_id = o->client_id;
		r->venue_id = o->venue_order_id; /* until Luno's order id is known */
		r->qty = o->qty;
		r->px = o->px;
		r->ref_px = o->type == IG_ORD_MARKET ? o->px : 0;
		r->filled_qty = o->filled_qty;
		r->venue_base = o->filled_qty;
		r->last_seq = o->last_trade_id;
		r->strategy_id = o->strategy_id;
		r->instrument_id = o->instrument_id;
		r->side = o->side;
		r->type = o->type;
		r->tif = o->tif;
		r->flags = o->flags;
		r->ts_event_ns = ig_clock_real_ns();
		r->cancel_wanted = o->cancel_requested;
		r->recovered = true;
		r->rcv_pending = true;
		r->quiet = o->state != IG_OS_SUBMITTED && o->state != IG_OS_IN_DOUBT;
		r->acked = o->venue_order_id != 0 || o->state == IG_OS_ACCEPTED ||
			   o->state == IG_OS_PARTIALLY_FILLED;
		/* In doubt from now: the window for "not found" starts here. */
		r->state = RS_IN_DOUBT;
		r->sent_ns = now;
		r->next_lookup_ns = 0;
		v->stats.recovered++;
		queue_push(v, RQ_LOOKUP, r->instrument_id, idx1_of(v, r), 0);
	}
	for (uint32_t i = 0; rc->have_journal && i < v->nrecs; i++) {
		struct ig_luno_inst *in = &v->inst[v->recs[i].instrument_id];
		if (v->recs[i].client_id != 0 && v->recs[i].recovered && in->last_seq == 0) {
			in->rcv_since_wait = true;
			in->probe = false;
		}
	}
	ig_log_info("luno: recovery: %llu orders to look up, %s", (unsigned long long)v->stats.recovered,
		    rc->have_journal ? "trades from the journal's cursors" : "no journal");
	return ret;
}

/* The earliest time the pass needs poll() for its own work; INT64_MAX if
 * none. */
/* True once the balances may be read: every instrument's trade catch-up
 * is complete (see on_balance) and its assets are known. */
static bool balances_readable(const struct ig_luno *v)
{
	for (uint32_t k = 0; k < v->ninst; k++) {
		const struct ig_luno_inst *in = &v->inst[k];
		if (!in->rcv_trades_done ||
		    (!in->invalid && (in->price_scale < 0 || in->base_asset[0] == '\0')))
			return false;
	}
	return true;
}

static int64_t rcv_deadline(const struct ig_luno *v)
{
	int64_t d = INT64_MAX;

	if (!v->rcv.active)
		return d;
	if (!v->rcv.reported)
		d = v->rcv.deadline_ns;
	for (uint32_t k = 0; k < v->ninst; k++) {
		const struct ig_luno_inst *in = &v->inst[k];
		if (!in->rcv_trades_done && !in->rq_trades && in->rcv_trades_next_ns < d)
			d = in->rcv_trades_next_ns;
		else if (in->rcv_trades_done && !in->rcv_orders_done && !in->rq_orders &&
			 in->rcv_orders_next_ns < d)
			d = in->rcv_orders_next_ns;
	}
	if (!v->rcv.balances_done && !v->rcv.rq_balance && balances_readable(v) &&
	    v->rcv.balance_next_ns < d)
		d = v->rcv.balance_next_ns;
	return d;
}

/* Recovery with no journal cursor on pair k: once every recovered order on
 * it has been looked up, the catch-up reads since the earliest creation
 * time Luno reports for those it found (Luno's clock: an order's trades
 * are not older than it); from the start if one has no creation time;
 * from the probe if none was found (no fill of ours can be missing).
 * Returns true once since is set (rcv_since_wait cleared). */
static bool rcv_since_ready(struct ig_luno *v, uint16_t k, int64_t now)
{
	struct ig_luno_inst *in = &v->inst[k];
	int64_t since = INT64_MAX;
	bool unknown = false;

	for (uint32_t i = 0; i < v->nrecs; i++) {
		const struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id == 0 || !r->recovered || r->instrument_id != k)
			continue;
		if (!r->looked)
			return false;
		if (r->state != RS_OPEN)
			continue; /* not found: it has no trades */
		if (r->created_ms > 0 && r->created_ms < since)
			since = r->created_ms;
		else if (r->created_ms <= 0)
			unknown = true;
	}
	in->rcv_since_wait = false;
	if (unknown) {
		in->since_ms = 0;
		ig_log_warn("luno: %s: recovery: an order has no creation time; reading every trade "
			    "on the pair from the start",
			    in->pair);
	} else if (since != INT64_MAX) {
		in->since_ms = since;
		ig_log_info("luno: %s: recovery: trades read since %lld (Unix ms, Luno's clock: the "
			    "earliest recovered order's creation)",
			    in->pair, (long long)since);
	} else {
		in->since_ms = 0;
		in->probe = true;
		in->probe_until_ns = now + probe_patience_ns(v);
	}
	return true;
}

/* Queues the pass's requests that are due and not queued: the trade
 * catch-up, then the open orders, per instrument; the balances once every
 * instrument's assets are known. A failed one goes again a status period
 * after it was last queued. */
static void rcv_drive(struct ig_luno *v, int64_t now)
{
	bool assets = true;

	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		if (in->rcv_since_wait && !rcv_since_ready(v, (uint16_t)k, now))
			continue;
		if (!in->rcv_trades_done) {
			if (!in->rq_trades && now >= in->rcv_trades_next_ns) {
				in->rcv_trades_next_ns = now + v->status_ns;
				queue_push(v, RQ_TRADES, (uint16_t)k, 0, now);
			}
		} else if (!in->rcv_orders_done && !in->rq_orders && now >= in->rcv_orders_next_ns) {
			in->rcv_orders_next_ns = now + v->status_ns;
			queue_push(v, RQ_ORDERS, (uint16_t)k, 0, now);
		}
		if (in->invalid)
			continue;
		/* Wait for /markets when the venue reads it anyway (exact
		 * asset names); ask for it when the pair does not split. */
		if (in->price_scale < 0 || in->base_asset[0] == '\0') {
			assets = false;
			if (in->base_asset[0] == '\0' && !in->rq_markets && now >= in->next_markets_ns) {
				in->next_markets_ns = now + v->status_ns;
				queue_push(v, RQ_MARKETS, (uint16_t)k, 0, now);
			}
		}
	}
	/* The balances are read after the trade catch-up (see on_balance). */
	if (assets && balances_readable(v) && !v->rcv.balances_done && !v->rcv.rq_balance && now >= v->rcv.balance_next_ns) {
		v->rcv.balance_next_ns = now + v->status_ns;
		queue_push(v, RQ_BALANCE, 0, 0, now);
	}
}

static void reconcile_event(struct ig_event *ev, uint16_t k)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_RECONCILE;
	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	ev->hdr.instrument_id = k;
	ev->hdr.ts_event_ns = ig_clock_real_ns();
}

/* Ends the pass when everything is in: one IG_RECON_OK per instrument,
 * after every report the pass produced. Else, past the timeout, one
 * not-OK report (once). */
static void rcv_check(struct ig_luno *v, int64_t now, struct ig_emit *out)
{
	struct ig_event ev;
	bool done = v->rcv.balances_done;

	for (uint32_t k = 0; done && k < v->ninst; k++)
		done = v->inst[k].rcv_trades_done && v->inst[k].rcv_orders_done;
	for (uint32_t i = 0; done && i < v->nrecs; i++)
		if (v->recs[i].client_id != 0 && v->recs[i].rcv_pending)
			done = false;
	if (done) {
		/* A trade after the balance read moved them: read them again
		 * (a few times; then they are reported as last read, and a
		 * difference, if any, is the OMS's to report). */
		bool moved = false;
		for (uint32_t k = 0; k < v->ninst; k++)
			moved |= v->inst[k].last_seq != v->rcv.balance_seq[k];
		if (moved && v->rcv.balance_reads < 5) {
			v->rcv.balances_done = false;
			v->rcv.balance_next_ns = 0;
			return;
		}
		if (moved)
			ig_log_warn("luno: recovery: the account kept trading during %u balance reads; "
				    "comparing the last",
				    v->rcv.balance_reads);
	}
	if (done) {
		for (uint32_t k = 0; k < v->ninst; k++) {
			const struct ig_luno_inst *in = &v->inst[k];
			struct ig_reconcile *rc = &ev.body.reconcile;
			reconcile_event(&ev, (uint16_t)k);
			rc->base_balance = in->rcv_base_balance;
			rc->counter_balance = in->rcv_counter_balance;
			rc->resolved = in->rcv_resolved;
			rc->adopted = in->rcv_adopted;
			rc->foreign = in->rcv_foreign;
			rc->fills = in->rcv_fills;
			rc->error = IG_RECON_OK;
			rc->have_balances = in->base_asset[0] != '\0' && in->counter_asset[0] != '\0';
			rc->last = k + 1 == v->ninst;
			ig_log_info("luno: %s reconciled: resolved=%u adopted=%u foreign=%u fills=%u "
				    "%s=%lld %s=%lld (1e-8)",
				    in->pair, rc->resolved, rc->adopted, rc->foreign, rc->fills,
				    in->base_asset, (long long)rc->base_balance, in->counter_asset,
				    (long long)rc->counter_balance);
			ig_emit(out, IG_STAGE_OMS, 0, &ev);
		}
		v->rcv.active = false;
		v->stats.recon_passes++;
		return;
	}
	if (!v->rcv.reported && now >= v->rcv.deadline_ns) {
		struct ig_reconcile *rc = &ev.body.reconcile;
		reconcile_event(&ev, 0);
		for (uint32_t k = 0; k < v->ninst; k++) {
			rc->resolved += v->inst[k].rcv_resolved;
			rc->adopted += v->inst[k].rcv_adopted;
			rc->foreign += v->inst[k].rcv_foreign;
			rc->fills += v->inst[k].rcv_fills;
		}
		rc->error = v->rcv.error != IG_RECON_OK ? v->rcv.error : IG_RECON_TIMEOUT;
		rc->last = 1;
		v->rcv.reported = true;
		ig_log_error("luno: recovery not complete after %lld ms (%s); still trying",
			     (long long)((now - v->rcv.started_ns) / NS_PER_MS),
			     rc->error == IG_RECON_MALFORMED     ? "malformed replies"
			     : rc->error == IG_RECON_UNREACHABLE ? "requests failing"
								 : "timeout");
		ig_emit(out, IG_STAGE_OMS, 0, &ev);
	}
}

/* ------------------------------------------------------------ poll/deadline */

/* Submits stop waiting for a probe that has not been answered in time:
 * every trade on the pair is then read from the start (nothing is missed;
 * the cursor skips what is not ours). */
static void probe_check(struct ig_luno *v, int64_t now)
{
	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		if (!in->probe || now < in->probe_until_ns)
			continue;
		in->probe = false;
		ig_log_warn("luno: %s: the account's latest trade could not be read (%u attempts); "
			    "reading every trade on the pair from the start",
			    in->pair, (unsigned)in->probe_fails);
	}
}

/* ----------------------------------------------------------- user stream */

/* A record the stream's note names: by client id, else by order id. */
static struct ig_luno_rec *note_rec(struct ig_luno *v, const struct ig_luno_user_note *n)
{
	struct ig_luno_rec *r = n->client_id != 0 ? find_client(v, n->client_id) : NULL;
	if (r == NULL && n->order_id[0] != '\0')
		r = find_order_id(v, n->order_id);
	return r;
}

/* The catch-up is read: every pair's trades to a short page, and every
 * OPEN order's status, by requests queued after the connection went live. */
static bool catchup_done(const struct ig_luno *v)
{
	for (uint32_t k = 0; k < v->ninst; k++)
		if (v->inst[k].catchup && !v->inst[k].invalid)
			return false;
	for (uint32_t i = 0; i < v->nrecs; i++) {
		const struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id != 0 && r->catchup && r->state == RS_OPEN && !r->complete)
			return false;
	}
	return true;
}

/* Marks every pair's trades and every OPEN order's status to be read;
 * with catchup, each must be read again after now. */
static void mark_everything(struct ig_luno *v, bool catchup)
{
	for (uint32_t k = 0; k < v->ninst; k++) {
		v->inst[k].stream_dirty = true;
		v->inst[k].catchup |= catchup;
	}
	for (uint32_t i = 0; i < v->nrecs; i++) {
		struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id != 0 && r->state == RS_OPEN && !r->complete) {
			r->stream_dirty = true;
			r->catchup |= catchup;
		}
	}
}

/* When the pair's triggered listtrades may go: its gate
 * (stream_not_before_ns) if the stream flagged it and nothing else holds
 * it (a read queued or in flight, the probe, no scales yet, a wait for
 * the receive window, an invalid pair), else INT64_MAX. Both the user
 * stream's part of a poll and the executor's deadline ask it, so a read
 * held only by its gate goes at the gate, not at the next status round. */
static int64_t trades_trigger_ns(const struct ig_luno_inst *in)
{
	if (!in->stream_dirty || in->rq_trades || in->probe || in->price_scale < 0 ||
	    in->rcv_since_wait || in->invalid)
		return INT64_MAX;
	return in->stream_not_before_ns;
}

/* The user stream's part of a poll: health (back to polling when it is
 * not healthy; a catch-up on every new live connection, polling on until
 * it is read), then what it signalled, then the reads it asks for. */
static void stream_drive(struct ig_luno *v, int64_t now)
{
	struct ig_luno_user *u = v->user;
	struct ig_luno_user_note note;
	uint64_t gen;
	uint32_t mask;

	if (u == NULL)
		return;
	v->user_seen = ig_luno_user_events(u); /* before taking: a later signal stays visible */
	if (!ig_luno_user_healthy(u, now, &gen)) {
		if (v->stream_on) {
			v->stats.stream_fallbacks++;
			ig_log_warn("luno: user stream not healthy; polling listtrades and status again");
			v->next_status_ns = now; /* a round at once */
		}
		v->stream_on = false;
		v->catching_up = false;
	} else if (gen != v->user_gen || (!v->stream_on && !v->catching_up)) {
		/* A new live connection: what happened while there was none is
		 * read over REST before the polls stop. */
		v->user_gen = gen;
		v->stream_on = false;
		v->catching_up = true;
		v->catchup_ns = now;
		v->stats.stream_catchups++;
		mark_everything(v, true);
	}
	mask = ig_luno_user_take_trades(u);
	for (uint32_t k = 0; k < v->ninst; k++)
		if (mask & (UINT32_C(1) << k))
			v->inst[k].stream_dirty = true;
	if (ig_luno_user_take_all_orders(u))
		mark_everything(v, false);
	while (ig_luno_user_take_note(u, &note)) {
		struct ig_luno_rec *r = note_rec(v, &note);
		if (r != NULL)
			r->stream_dirty = true;
	}
	for (uint32_t k = 0; k < v->ninst; k++) {
		struct ig_luno_inst *in = &v->inst[k];
		/* Behind a listtrades already queued or in flight: it may have
		 * started before the trade, so one more after it. */
		if (now < trades_trigger_ns(in))
			continue;
		in->stream_dirty = false;
		/* At most one triggered read per pair per status period: on a
		 * busy account fill messages come faster than reads end, and
		 * the stream must not spend more of the request budget than
		 * polling would, ahead of submits and cancels. A fill flagged
		 * meanwhile waits for the next one (which reads it too). */
		in->stream_not_before_ns = now + v->status_ns;
		v->stats.stream_trade_reads++;
		queue_push(v, RQ_TRADES, (uint16_t)k, 0, now);
	}
	for (uint32_t i = 0; i < v->nrecs; i++) {
		struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id == 0 || !r->stream_dirty)
			continue;
		if (r->state != RS_OPEN || r->complete) {
			/* Not yet at Luno as far as we know (it will be read when it
			 * opens), or settled: nothing to read now. */
			if (r->state == RS_OPEN || r->state == RS_UNPLACED)
				r->stream_dirty = false;
			continue;
		}
		if (r->rq_lookup || now < r->next_lookup_ns)
			continue;
		r->stream_dirty = false;
		r->last_status_ns = now;
		v->stats.stream_status_reads++;
		queue_push(v, RQ_STATUS, r->instrument_id, i + 1, now);
	}
	if (v->catching_up && catchup_done(v)) {
		v->catching_up = false;
		v->stream_on = true;
		v->stream_rounds = 0;
		ig_log_info("luno: user stream live and caught up; steady polling stops");
	}
}

/* The user stream for the status API (venue.h health): none without one;
 * live while healthy and caught up (the steady polls stopped), else
 * polling; its connection counters and the venue's catch-ups, fallbacks
 * and polls saved. Executor thread. */
static void user_stream_health(const struct ig_luno *v, struct ig_snap_stream *out)
{
	struct ig_luno_user_stats us;

	memset(out, 0, sizeof(*out));
	if (v->user == NULL)
		return;
	ig_luno_user_stats(v->user, &us);
	out->state = v->stream_on ? IG_SNAP_STREAM_LIVE : IG_SNAP_STREAM_POLLING;
	out->connects = us.connects;
	out->drops = us.drops;
	out->messages = us.messages;
	out->catchups = v->stats.stream_catchups;
	out->fallbacks = v->stats.stream_fallbacks;
	out->polls_saved = v->stats.stream_saved;
}

bool ig_luno_has_work(const struct ig_luno *v)
{
	return v->user != NULL && ig_luno_user_events(v->user) != v->user_seen;
}

void ig_luno_set_wake(struct ig_luno *v, void (*fn)(void *), void *arg)
{
	if (v->user != NULL)
		ig_luno_user_set_wake(v->user, fn, arg);
}

int ig_luno_poll(struct ig_luno *v, int64_t now_ns, struct ig_emit *out)
{
	int work = 0, running = 0, left = 0;
	CURLMsg *m;

	if (v->nbusy > 0) {
		curl_multi_perform(v->multi, &running);
		while ((m = curl_multi_info_read(v->multi, &left)) != NULL) {
			struct ig_luno_slot *sl;
			char *priv = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			sl = (struct ig_luno_slot *)(void *)priv;
			if (sl == NULL || !sl->busy)
				continue;
			complete(v, sl, m->data.result, now_ns, out);
			work++;
		}
	}
	stream_drive(v, now_ns);
	if (now_ns >= v->next_status_ns) {
		status_round(v, now_ns);
		v->next_status_ns = now_ns + v->status_ns;
	}
	probe_check(v, now_ns);
	if (v->rcv.active)
		rcv_drive(v, now_ns);
	work += dispatch(v, now_ns, out);
	if (v->rcv.active)
		rcv_check(v, now_ns, out);
	return work;
}

int64_t ig_luno_deadline_ns(const struct ig_luno *v)
{
	int64_t now = ig_clock_mono_ns(), d = v->next_status_ns, q = INT64_MAX;

	/* Sockets are not part of the executor's wait: while a request is
	 * in flight, come back soon to read it. */
	if (v->nbusy > 0)
		return now + v->io_poll_ns;
	for (uint32_t i = 0; i < v->nq; i++) {
		const struct ig_luno_req *r = &v->queue[i];
		const struct ig_luno_inst *in = &v->inst[r->instrument_id];
		if ((r->kind == RQ_SUBMIT && in->price_scale < 0) ||
		    (r->kind == RQ_TRADES && in->rcv_since_wait))
			continue;
		if (r->kind == RQ_SUBMIT && in->probe) {
			/* Waits for the probe, or its patience to run out. */
			if (in->probe_until_ns < d)
				d = in->probe_until_ns;
			continue;
		}
		if (r->not_before_ns < q)
			q = r->not_before_ns;
	}
	if (q != INT64_MAX && v->budget_retry_ns > q)
		q = v->budget_retry_ns;
	if (rcv_deadline(v) < d)
		d = rcv_deadline(v);
	for (uint32_t k = 0; v->user != NULL && k < v->ninst; k++)
		if (trades_trigger_ns(&v->inst[k]) < d)
			d = trades_trigger_ns(&v->inst[k]);
	return q < d ? q : d;
}

bool ig_luno_busy(const struct ig_luno *v)
{
	if (v->rcv.active)
		return true; /* the reconciliation pass is not finished */
	for (uint32_t i = 0; i < v->nrecs; i++) {
		const struct ig_luno_rec *r = &v->recs[i];
		if (r->client_id == 0)
			continue;
		if (r->state == RS_QUEUED || r->state == RS_SENDING || r->state == RS_IN_DOUBT ||
		    r->rq_cancel)
			return true;
		/* An order that ends by itself (market, IOC, FOK) or that we
		 * asked to cancel is settled only once Luno says COMPLETE and
		 * its trades are applied; so is any order Luno reports more
		 * filled than the trades we have seen. A resting GTC order left
		 * working (engine.cancel_on_stop: false) is not waited for: it
		 * stays at the exchange, and the next start reconciles it. */
		if (r->state == RS_OPEN &&
		    ((!r->complete && (r->type == IG_ORD_MARKET || r->tif == IG_TIF_IOC ||
				       r->tif == IG_TIF_FOK || r->cancel_wanted)) ||
		     r->venue_base < r->status_base))
			return true;
	}
	return false;
}

void ig_luno_log_stats(const struct ig_luno *v)
{
	const struct ig_luno_stats *s = &v->stats;
	ig_log_info("luno: requests=%llu (submit=%llu cancel=%llu lookup=%llu listtrades=%llu) "
		    "http 2xx=%llu 3xx=%llu 4xx=%llu 5xx=%llu transport=%llu (timeouts=%llu) "
		    "429=%llu retries=%llu budget_waits=%llu malformed=%llu",
		    (unsigned long long)s->requests, (unsigned long long)s->submits,
		    (unsigned long long)s->cancels, (unsigned long long)s->lookups,
		    (unsigned long long)s->trade_polls, (unsigned long long)s->http_2xx,
		    (unsigned long long)s->http_3xx, (unsigned long long)s->http_4xx,
		    (unsigned long long)s->http_5xx, (unsigned long long)s->transport_errors,
		    (unsigned long long)s->timeouts, (unsigned long long)s->http_429,
		    (unsigned long long)s->retries, (unsigned long long)s->budget_waits,
		    (unsigned long long)s->malformed);
	ig_log_info("luno: accepted=%llu rejected=%llu canceled=%llu expired=%llu fills=%llu "
		    "in_doubt=%llu (found=%llu by_trade=%llu not_found=%llu) dup409=%llu "
		    "dup_trades=%llu foreign_trades=%llu overfills=%llu unlisted_fills=%llu rtt_us p50=%lld "
		    "p99=%lld max=%lld",
		    (unsigned long long)s->accepted, (unsigned long long)s->rejected,
		    (unsigned long long)s->canceled, (unsigned long long)s->expired,
		    (unsigned long long)s->fills, (unsigned long long)s->in_doubt,
		    (unsigned long long)s->in_doubt_found, (unsigned long long)s->in_doubt_by_trade,
		    (unsigned long long)s->in_doubt_not_found, (unsigned long long)s->duplicate_409,
		    (unsigned long long)s->duplicate_trades, (unsigned long long)s->foreign_trades,
		    (unsigned long long)s->overfills, (unsigned long long)s->unlisted_fills,
		    (long long)(ig_hist_quantile(&s->rtt_ns, 0.5) / 1000),
		    (long long)(ig_hist_quantile(&s->rtt_ns, 0.99) / 1000), (long long)(s->rtt_ns.max / 1000));
	if (v->user != NULL) {
		struct ig_luno_user_stats us;
		ig_luno_user_stats(v->user, &us);
		ig_log_info("luno: user stream: connects=%llu attempts=%llu drops=%llu messages=%llu "
			    "(fills=%llu statuses=%llu keepalives=%llu malformed=%llu) auth_refused=%llu "
			    "catchups=%llu fallbacks=%llu rest_saved=%llu triggered listtrades=%llu "
			    "status=%llu%s",
			    (unsigned long long)us.connects, (unsigned long long)us.attempts,
			    (unsigned long long)us.drops, (unsigned long long)us.messages,
			    (unsigned long long)us.fills, (unsigned long long)us.statuses,
			    (unsigned long long)us.keepalives, (unsigned long long)us.malformed,
			    (unsigned long long)us.auth_refused, (unsigned long long)s->stream_catchups,
			    (unsigned long long)s->stream_fallbacks, (unsigned long long)s->stream_saved,
			    (unsigned long long)s->stream_trade_reads,
			    (unsigned long long)s->stream_status_reads,
			    v->stream_on ? " (on at the end)" : " (polling at the end)");
	}
	if (s->recovered != 0 || v->rcv.started_ns != 0)
		ig_log_info("luno: recovery: recovered=%llu (found=%llu not_found=%llu) adopted=%llu "
			    "foreign_orders=%llu recon_fills=%llu passes=%llu%s",
			    (unsigned long long)s->recovered, (unsigned long long)s->recover_found,
			    (unsigned long long)s->recover_not_found, (unsigned long long)s->adopted,
			    (unsigned long long)s->foreign_orders, (unsigned long long)s->recon_fills,
			    (unsigned long long)s->recon_passes, v->rcv.active ? " (pass unfinished)" : "");
}

/* ------------------------------------------------------------------- ops */

static void op_submit(void *v, const struct ig_event *order, struct ig_emit *out)
{
	ig_luno_submit(v, order, out);
}

static void op_cancel(void *v, const struct ig_event *cancel, struct ig_emit *out)
{
	ig_luno_cancel(v, cancel, out);
}

static void op_md(void *v, const struct ig_event *md, struct ig_emit *out)
{
	ig_luno_market_data(v, md, out);
}

static int op_poll(void *v, int64_t now_ns, struct ig_emit *out)
{
	return ig_luno_poll(v, now_ns, out);
}

static int64_t op_deadline(void *v)
{
	return ig_luno_deadline_ns(v);
}

static int op_recover(void *v, const struct ig_recover *rc)
{
	return ig_luno_recover(v, rc);
}

static bool op_busy(void *v)
{
	return ig_luno_busy(v);
}

static bool op_has_work(void *v)
{
	return ig_luno_has_work(v);
}

static void op_set_wake(void *v, void (*fn)(void *), void *arg)
{
	ig_luno_set_wake(v, fn, arg);
}

static void op_halt(void *venue)
{
	struct ig_luno *v = venue;
	if (v->user != NULL)
		ig_luno_user_halt(v->user);
}

static void op_log_stats(const void *v)
{
	ig_luno_log_stats(v);
}

static void op_destroy(void *venue)
{
	struct ig_luno *v = venue;
	struct ig_luno_instance *inst = v->instance;

	ig_luno_destroy(v);
	free(v);
	ig_luno_instance_release(inst);
}

/* The venue's Luno instance, borrowed: the engine's Luno feed takes its
 * own reference (luno.h). */
static void *op_peer(void *venue)
{
	return ((struct ig_luno *)venue)->instance;
}

/* Order submit round trips (venue.h round_trips). */
static const struct ig_hist *op_round_trips(const void *v)
{
	return &((const struct ig_luno *)v)->stats.order_rtt_ns;
}

/* The venue's health (venue.h health): requests finished, failures, the
 * request round trips; down after 3 bad replies in a row (5xx, 429, no
 * answer), degraded after 1. */
static void op_health(const void *venue, struct ig_snap_venue *out)
{
	static const int64_t bound[IG_SNAP_LAT_BUCKETS] = IG_SNAP_SLOW_BOUNDS_NS;
	const struct ig_luno_stats *s = &((const struct ig_luno *)venue)->stats;

	out->requests = s->http_2xx + s->http_3xx + s->http_4xx + s->http_5xx +
			s->transport_errors;
	out->errors = s->http_4xx + s->http_5xx + s->transport_errors;
	out->http_429 = s->http_429;
	out->last_rtt_ns = s->last_rtt_ns;
	out->state = s->bad_streak >= 3   ? IG_SNAP_VENUE_DOWN
		     : s->bad_streak >= 1 ? IG_SNAP_VENUE_DEGRADED
					  : IG_SNAP_VENUE_OK;
	memcpy(out->http_errors, s->http_code, sizeof(out->http_errors));
	ig_snap_latency_fill(&s->rtt_ns, bound, IG_SNAP_LAT_BUCKETS, &out->request);
	user_stream_health((const struct ig_luno *)venue, &out->stream);
}

const struct ig_venue_ops ig_luno_ops = {
	.name = "luno",
	.wants_md = true, /* the latest ask sizes market buys */
	.submit = op_submit,
	.cancel = op_cancel,
	.market_data = op_md,
	.poll = op_poll,
	.deadline_ns = op_deadline,
	.recover = op_recover,
	.busy = op_busy,
	.log_stats = op_log_stats,
	.destroy = op_destroy,
	.peer = op_peer,
	.round_trips = op_round_trips,
	.health = op_health,
	.has_work = op_has_work,
	.set_wake = op_set_wake,
	.halt = op_halt,
};

/* Makes the Luno venue of cfg (venue.*, feed.symbol or feed.symbols). Returns 0, or
 * IG_ECONFIG / IG_ENOMEM with err set. */
static int luno_create(const struct ig_config *cfg, void **venue, char *err, size_t errlen)
{
	struct ig_luno_opts lo;
	struct ig_luno_instance *inst;
	struct ig_luno *v = malloc(sizeof(*v));
	int rc;

	*venue = NULL;
	if (v == NULL) {
		snprintf(err, errlen, "venue: out of memory");
		return IG_ENOMEM;
	}
	inst = ig_luno_instance_new(cfg);
	if (inst == NULL) {
		free(v);
		snprintf(err, errlen, "venue: out of memory");
		return IG_ENOMEM;
	}
	ig_luno_opts_from_config(&lo, cfg);
	lo.budget = &inst->budget; /* shared with this engine's Luno feed, if any (op_peer) */
	rc = ig_luno_init(v, &lo, err, errlen);
	if (rc != 0) {
		free(v);
		ig_luno_instance_release(inst);
		return rc;
	}
	v->instance = inst;
	*venue = v;
	return 0;
}

const struct ig_venue_type ig_luno_venue_type = {
	.name = "luno",
	.live = true,
	.create = luno_create,
	.ops = &ig_luno_ops,
};
