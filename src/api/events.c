/* events.c - recent orders, fills, denials and state changes for the API
 * (see events.h). */
#include "api/events.h"

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/ring.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"
#include "oms/order.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

_Static_assert(sizeof(struct ig_api_ev) % 8 == 0, "ring element: a multiple of 8 bytes");
_Static_assert((IG_EVENTS_RING & (IG_EVENTS_RING - 1)) == 0, "ring: a power of two");

#define STATE_UNKNOWN 0xffu
/* Pool slots one poll looks at for a seed, at most: a seed of many
 * strategies' pools is spread over polls, not one long OMS duty cycle. */
#define SEED_SCAN IG_OM_CAPACITY

struct sse_client {
	struct ig_events *ev;
	struct MHD_Connection *conn;
	char *buf;                 /* IG_EVENTS_SSE_BUF */
	size_t len;                /* queued bytes, from buf[0] */
	int64_t last_queued_ns;    /* CLOCK_MONOTONIC of the last message or keep-alive */
	bool suspended, dropped;
	struct sse_client *next;
};

struct ig_events {
	struct ig_ring ring;
	uint64_t dropped;          /* atomic: the producer counts, anyone reads */
	/* Producer (OMS thread). */
	bool seeded;               /* every open order of the books was pushed */
	uint32_t seed_s, seed_p;   /* where the seed goes on (strategy, pool index) */
	uint64_t seed_drops;       /* dropped as the last seed began */
	bool sync_end_due;         /* a resync's seed is under way: SYNC end after it */
	bool state_seen;           /* the states below hold what was last pushed */
	uint8_t g_state, g_kill;
	uint8_t s_state[IG_MAX_STRATEGIES], s_paused[IG_MAX_STRATEGIES];
	/* Names (read-only). */
	struct ig_events_names names;
	char strat[IG_MAX_STRATEGIES][IG_CFG_NAME_MAX];
	char sym[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	const char *strat_p[IG_MAX_STRATEGIES], *sym_p[IG_MAX_INSTRUMENTS];
	/* Consumer (API thread). */
	uint64_t msg_id;           /* the last SSE id handed out */
	struct ig_api_ev *open;    /* open orders, dense */
	uint32_t nopen, open_cap;
	uint32_t *hash;            /* client id -> open index + 1, linear probing */
	uint32_t hash_mask;
	uint64_t open_lost;        /* open orders beyond open_cap (not shown) */
	uint64_t *open_gen;        /* per open entry: sync_gen when last set */
	uint64_t sync_gen;         /* SYNC begin records seen */
	uint64_t open_evicted;     /* open entries a resync found ended */
	struct ig_api_ev recent[IG_EVENTS_RECENT];
	uint64_t nrecent;
	struct ig_api_ev *fills;   /* IG_EVENTS_FILLS, a ring */
	uint64_t nfills;
	struct ig_api_ev global;   /* the last global state record */
	uint64_t global_id;
	bool have_global;
	struct sse_client *clients;
	uint32_t nclients;
	uint64_t sse_dropped, sse_refused;
	bool stopping;
	char msg[4096];            /* one SSE message being rendered */
};

/* ------------------------------------------------------------ create */

struct ig_events *ig_events_create(const struct ig_events_names *names)
{
	struct ig_events *ev = calloc(1, sizeof(*ev));
	uint32_t hcap = 1;

	if (ev == NULL)
		return NULL;
	ev->names.nstrategies = names->nstrategies < IG_MAX_STRATEGIES ? names->nstrategies
									  : IG_MAX_STRATEGIES;
	ev->names.ninstruments = names->ninstruments < IG_MAX_INSTRUMENTS ? names->ninstruments
									     : IG_MAX_INSTRUMENTS;
	for (uint32_t i = 0; i < ev->names.nstrategies; i++) {
		snprintf(ev->strat[i], sizeof(ev->strat[i]), "%s", names->strategies[i]);
		ev->strat_p[i] = ev->strat[i];
	}
	for (uint16_t k = 0; k < ev->names.ninstruments; k++) {
		snprintf(ev->sym[k], sizeof(ev->sym[k]), "%s", names->symbols[k]);
		ev->sym_p[k] = ev->sym[k];
	}
	ev->names.strategies = ev->strat_p;
	ev->names.symbols = ev->sym_p;
	ev->open_cap = (ev->names.nstrategies > 0 ? ev->names.nstrategies : 1) * IG_OM_CAPACITY;
	while (hcap < 2 * ev->open_cap)
		hcap <<= 1;
	ev->hash_mask = hcap - 1;
	ev->open = calloc(ev->open_cap, sizeof(*ev->open));
	ev->hash = calloc(hcap, sizeof(*ev->hash));
	ev->open_gen = calloc(ev->open_cap, sizeof(*ev->open_gen));
	ev->fills = calloc(IG_EVENTS_FILLS, sizeof(*ev->fills));
	if (ev->open == NULL || ev->open_gen == NULL || ev->hash == NULL || ev->fills == NULL ||
	    ig_ring_init(&ev->ring, IG_EVENTS_RING, sizeof(struct ig_api_ev)) != 0) {
		free(ev->open);
		free(ev->open_gen);
		free(ev->hash);
		free(ev->fills);
		free(ev);
		return NULL;
	}
	return ev;
}

void ig_events_destroy(struct ig_events *ev)
{
	if (ev == NULL)
		return;
	/* Clients are freed by libmicrohttpd's response callbacks (the API
	 * stops first); any left are unlinked here. */
	while (ev->clients != NULL) {
		struct sse_client *c = ev->clients;
		ev->clients = c->next;
		free(c->buf);
		free(c);
	}
	ig_ring_destroy(&ev->ring);
	free(ev->open);
	free(ev->open_gen);
	free(ev->hash);
	free(ev->fills);
	free(ev);
}

/* ---------------------------------------------------------- producer */

bool ig_events_push(struct ig_events *ev, const struct ig_api_ev *rec)
{
	if (ig_ring_push_spsc(&ev->ring, rec))
		return true;
	__atomic_fetch_add(&ev->dropped, 1, __ATOMIC_RELAXED);
	return false;
}

uint64_t ig_events_dropped(const struct ig_events *ev)
{
	return __atomic_load_n(&ev->dropped, __ATOMIC_RELAXED);
}

/* An ORDER record of r (strategy sid) as it stands. */
static void order_rec(struct ig_api_ev *o, uint16_t sid, const struct ig_order_rec *r,
		      uint16_t reason, int64_t ts_ns)
{
	memset(o, 0, sizeof(*o));
	o->kind = IG_APIEV_ORDER;
	o->side = r->side;
	o->type = r->orig_type;
	o->tif = r->tif;
	o->state = r->state;
	o->reason = reason;
	o->strategy = sid;
	o->instrument = r->instrument_id;
	o->client_id = r->client_id;
	o->venue_order_id = r->venue_order_id;
	o->qty = r->qty;
	o->px = r->px;
	o->stop_px = r->stop_px;
	o->filled_qty = r->filled_qty;
	o->created_ns = r->ts_event_ns;
	o->ts_ns = ts_ns != 0 ? ts_ns : r->ts_event_ns;
}

void ig_events_oms_tap(void *arg, const struct ig_oms *oms, const struct ig_event *e,
		       const struct ig_order_rec *r)
{
	struct ig_events *ev = arg;
	struct ig_api_ev o;

	(void)oms;
	switch (e->hdr.type) {
	case IG_EV_ORDER_UPDATE:
		if (r == NULL)
			return;
		order_rec(&o, e->hdr.strategy_id, r, e->body.update.reason, e->hdr.ts_event_ns);
		break;
	case IG_EV_FILL:
		memset(&o, 0, sizeof(o));
		o.kind = IG_APIEV_FILL;
		o.side = e->body.fill.side;
		o.liquidity = e->body.fill.liquidity;
		o.strategy = e->hdr.strategy_id;
		o.instrument = e->hdr.instrument_id;
		o.client_id = e->body.fill.client_id;
		o.venue_order_id = e->body.fill.venue_order_id;
		o.trade_id = e->body.fill.trade_id;
		o.qty = e->body.fill.qty;
		o.px = e->body.fill.px;
		o.fee = e->body.fill.fee;
		o.filled_qty = e->body.fill.fee_base;
		o.ts_ns = e->hdr.ts_event_ns;
		break;
	case IG_EV_REJECT:
		if (e->body.reject.by_venue)
			return; /* a venue's rejection shows as the order's update */
		memset(&o, 0, sizeof(o));
		o.kind = IG_APIEV_DENIAL;
		o.side = e->body.reject.side;
		o.reason = e->body.reject.reason;
		o.strategy = e->hdr.strategy_id;
		o.instrument = r != NULL ? r->instrument_id : e->hdr.instrument_id;
		o.client_id = e->body.reject.client_id;
		o.qty = e->body.reject.qty;
		o.px = e->body.reject.px;
		o.ts_ns = e->hdr.ts_event_ns;
		break;
	default:
		return;
	}
	ig_events_push(ev, &o);
}

/* Pushes a STATE record; returns 1 if it went in. */
static int push_state(struct ig_events *ev, uint16_t sid, uint8_t state, uint8_t kill,
		      uint8_t paused)
{
	struct ig_api_ev o;
	memset(&o, 0, sizeof(o));
	o.kind = IG_APIEV_STATE;
	o.strategy = sid;
	o.state = state;
	o.kill_switch = kill;
	o.paused = paused;
	return ig_events_push(ev, &o) ? 1 : 0;
}

/* Pushes a SYNC record (0 begin, 1 end); the caller checked the room. */
static void push_sync(struct ig_events *ev, uint8_t end)
{
	struct ig_api_ev o;
	memset(&o, 0, sizeof(o));
	o.kind = IG_APIEV_SYNC;
	o.strategy = IG_STRATEGY_NONE;
	o.state = end;
	ig_ring_push_spsc(&ev->ring, &o);
}

int ig_events_oms_poll(struct ig_events *ev, const struct ig_oms *oms)
{
	int n = 0;
	uint32_t ns = oms->nstrategies < IG_MAX_STRATEGIES ? oms->nstrategies : IG_MAX_STRATEGIES;

	if (!ev->state_seen) {
		ev->state_seen = true;
		ev->g_state = ev->g_kill = STATE_UNKNOWN;
		memset(ev->s_state, STATE_UNKNOWN, sizeof(ev->s_state));
		memset(ev->s_paused, STATE_UNKNOWN, sizeof(ev->s_paused));
	}
	if (oms->trading_state != ev->g_state || (uint8_t)oms->kill_switch != ev->g_kill) {
		/* A record the ring drops is retried at the next poll. */
		if (push_state(ev, IG_STRATEGY_NONE, oms->trading_state, oms->kill_switch, 0)) {
			ev->g_state = oms->trading_state;
			ev->g_kill = oms->kill_switch;
			n++;
		}
	}
	for (uint32_t i = 0; i < ns; i++) {
		const struct ig_oms_strategy *s = &oms->s[i];
		if (s->trading_state == ev->s_state[i] && (uint8_t)s->paused == ev->s_paused[i])
			continue;
		if (push_state(ev, (uint16_t)i, s->trading_state, oms->kill_switch, s->paused)) {
			ev->s_state[i] = s->trading_state;
			ev->s_paused[i] = s->paused;
			n++;
		}
	}
	/* Records were dropped since the last seed began: an order's end (or
	 * start) may be lost to the API. Seed again, framed by SYNC records:
	 * the API drops the open entries the new seed does not confirm. */
	if (ev->seeded && !ev->sync_end_due && ig_events_dropped(ev) != ev->seed_drops &&
	    ig_ring_writable(&ev->ring)) {
		ev->seed_drops = ig_events_dropped(ev);
		push_sync(ev, 0);
		ev->seeded = false;
		ev->seed_s = ev->seed_p = 0;
		ev->sync_end_due = true;
		n++;
	}
	/* The open orders the books held before the ring was attached
	 * (recovered ones too), once; a full ring stops the seed, which goes
	 * on at the next poll (not counted as a drop). */
	for (uint32_t budget = SEED_SCAN; !ev->seeded;) {
		const struct ig_order_rec *r;
		struct ig_api_ev o;

		if (ev->seed_s >= ns) {
			ev->seeded = true;
			break;
		}
		if (ev->seed_p >= IG_OM_CAPACITY) {
			ev->seed_s++;
			ev->seed_p = 0;
			continue;
		}
		if (budget-- == 0)
			break; /* the rest at the next poll */
		r = &oms->s[ev->seed_s].om.pool[ev->seed_p];
		if (r->client_id == 0 || ig_order_terminal((enum ig_ord_state)r->state)) {
			ev->seed_p++;
			continue;
		}
		if (!ig_ring_writable(&ev->ring))
			break;
		order_rec(&o, (uint16_t)ev->seed_s, r, 0, 0);
		ig_ring_push_spsc(&ev->ring, &o);
		ev->seed_p++;
		n++;
	}
	if (ev->seeded && ev->sync_end_due && ig_ring_writable(&ev->ring)) {
		push_sync(ev, 1);
		ev->sync_end_due = false;
		n++;
	}
	return n;
}

/* --------------------------------------------------------- renderers */



/* An id as a decimal string (client order ids pass 2^53: a JSON number
 * would lose digits in a browser), or null for 0. */
static json_t *id_or_null(uint64_t v)
{
	char buf[24];
	if (v == 0)
		return json_null();
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	return json_string(buf);
}

static json_t *money_or_null(int64_t v)
{
	return v != 0 ? ig_json_money(v) : json_null();
}

static const char *strat_name(const struct ig_events_names *n, uint16_t sid)
{
	return sid < n->nstrategies ? n->strategies[sid] : "";
}

static const char *sym_name(const struct ig_events_names *n, uint16_t k)
{
	return k < n->ninstruments ? n->symbols[k] : "";
}

const char *ig_events_kind_name(uint8_t kind)
{
	switch (kind) {
	case IG_APIEV_ORDER:
		return "order";
	case IG_APIEV_FILL:
		return "fill";
	case IG_APIEV_DENIAL:
		return "denial";
	case IG_APIEV_STATE:
		return "state";
	default:
		return "unknown";
	}
}


json_t *ig_events_rec_json(const struct ig_events_names *n, const struct ig_api_ev *r)
{
	switch (r->kind) {
	case IG_APIEV_ORDER:
		return json_pack(
			"{s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:o, s:I, s:I}",
			"client_order_id", id_or_null(r->client_id), "venue_order_id",
			id_or_null(r->venue_order_id), "strategy", strat_name(n, r->strategy),
			"symbol", sym_name(n, r->instrument), "side",
			ig_side_name((enum ig_side)r->side), "type",
			ig_ord_type_name((enum ig_ord_type)r->type), "tif",
			ig_tif_name((enum ig_tif)r->tif), "qty", ig_json_money(r->qty), "price", money_or_null(r->px),
			"stop_price", money_or_null(r->stop_px), "filled_qty",
			ig_json_money(r->filled_qty), "state",
			ig_ord_state_name((enum ig_ord_state)r->state), "reject_reason",
			r->reason != IG_RJ_NONE && r->reason < IG_RJ__COUNT
				? json_string(ig_reject_reason_name((enum ig_reject_reason)r->reason))
				: json_null(),
			"created_ns", (json_int_t)r->created_ns, "updated_ns", (json_int_t)r->ts_ns);
	case IG_APIEV_FILL: {
		const char *liq = r->liquidity == IG_LIQ_MAKER || r->liquidity == IG_LIQ_TAKER
				      ? ig_liquidity_name((enum ig_liquidity)r->liquidity)
				      : NULL;
		return json_pack("{s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I}", "trade_id",
				 id_or_null(r->trade_id), "client_order_id", id_or_null(r->client_id),
				 "strategy", strat_name(n, r->strategy), "symbol",
				 sym_name(n, r->instrument), "side", ig_side_name((enum ig_side)r->side),
				 "qty", ig_json_money(r->qty), "price", ig_json_money(r->px), "fee",
				 ig_json_money(r->fee), "fee_base", ig_json_money(r->filled_qty),
				 "liquidity", liq != NULL ? json_string(liq) : json_null(), "ts_ns",
				 (json_int_t)r->ts_ns);
	}
	case IG_APIEV_DENIAL:
		return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:I}", "strategy",
				 strat_name(n, r->strategy), "symbol", sym_name(n, r->instrument),
				 "side", ig_side_name((enum ig_side)r->side), "qty", ig_json_money(r->qty),
				 "price", money_or_null(r->px), "reason",
				 ig_reject_reason_name((enum ig_reject_reason)(r->reason < IG_RJ__COUNT
										 ? r->reason
										 : 0)),
				 "client_order_id", id_or_null(r->client_id), "ts_ns",
				 (json_int_t)r->ts_ns);
	case IG_APIEV_STATE: {
		bool global = r->strategy == IG_STRATEGY_NONE;
		return json_pack("{s:s, s:b, s:o, s:o}", "trading_state",
				 ig_trading_state_name((enum ig_trading_state)r->state), "kill_switch",
				 (int)r->kill_switch, "strategy",
				 global ? json_null() : json_string(strat_name(n, r->strategy)),
				 "paused", global ? json_null() : json_boolean(r->paused));
	}
	default:
		return NULL;
	}
}

size_t ig_events_sse_format(char *buf, size_t cap, uint64_t id, const char *name,
			    const char *data)
{
	int n;
	if (strchr(data, '\n') != NULL || strchr(data, '\r') != NULL)
		return 0;
	n = snprintf(buf, cap, "id: %llu\nevent: %s\ndata: %s\n\n", (unsigned long long)id, name,
		     data);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int ig_events_parse_limit(const char *s)
{
	long v = 0;
	if (s == NULL)
		return IG_EVENTS_FILLS_DEFAULT;
	if (*s == '\0' || strlen(s) > 4)
		return -1;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= IG_EVENTS_FILLS ? (int)v : -1;
}

/* ---------------------------------------------------------- consumer */

static uint32_t hslot(const struct ig_events *ev, uint64_t cid)
{
	uint64_t h = cid * UINT64_C(0x9E3779B97F4A7C15);
	return (uint32_t)(h >> 32) & ev->hash_mask;
}

/* The hash slot of cid, or of the empty slot where it would go. */
static uint32_t hfind(const struct ig_events *ev, uint64_t cid)
{
	uint32_t i = hslot(ev, cid);
	while (ev->hash[i] != 0 && ev->open[ev->hash[i] - 1].client_id != cid)
		i = (i + 1) & ev->hash_mask;
	return i;
}

/* Empties hash slot i (backward-shift deletion: no tombstones). */
static void hdel(struct ig_events *ev, uint32_t i)
{
	uint32_t j = i, m = ev->hash_mask;
	for (;;) {
		uint32_t k;
		ev->hash[i] = 0;
		for (;;) {
			j = (j + 1) & m;
			if (ev->hash[j] == 0)
				return;
			k = hslot(ev, ev->open[ev->hash[j] - 1].client_id);
			/* k cyclically in (i, j]: the entry stays. */
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		ev->hash[i] = ev->hash[j];
		i = j;
	}
}

/* Removes the open entry at hash slot `slot`. */
static void open_remove(struct ig_events *ev, uint32_t slot)
{
	uint32_t idx = ev->hash[slot] - 1, last = --ev->nopen;

	hdel(ev, slot);
	if (idx != last) {
		/* The last entry moves into the hole. */
		ev->open[idx] = ev->open[last];
		ev->open_gen[idx] = ev->open_gen[last];
		ev->hash[hfind(ev, ev->open[idx].client_id)] = idx + 1;
	}
}

/* The end of a resync: an open entry neither seeded nor updated since
 * its begin (open_gen older than sync_gen) ended while its record was
 * dropped; it leaves the table. */
static void sync_end(struct ig_events *ev)
{
	for (uint32_t i = ev->nopen; i-- > 0;) {
		if (ev->open_gen[i] >= ev->sync_gen)
			continue;
		open_remove(ev, hfind(ev, ev->open[i].client_id));
		ev->open_evicted++;
	}
}

/* An order's new state into the open table or the recent ring. */
static void apply_order(struct ig_events *ev, const struct ig_api_ev *r)
{
	uint32_t slot = hfind(ev, r->client_id);
	bool done = ig_order_terminal((enum ig_ord_state)r->state);

	if (ev->hash[slot] != 0) {
		uint32_t idx = ev->hash[slot] - 1;
		if (!done) {
			/* A seed's record carries the creation time: the last
			 * update's time stays. */
			int64_t ts_ns = ev->open[idx].ts_ns > r->ts_ns ? ev->open[idx].ts_ns : r->ts_ns;
			ev->open[idx] = *r;
			ev->open[idx].ts_ns = ts_ns;
			ev->open_gen[idx] = ev->sync_gen;
		} else {
			open_remove(ev, slot);
		}
	} else if (!done) {
		if (ev->nopen == ev->open_cap) {
			ev->open_lost++;
			return;
		}
		ev->open[ev->nopen] = *r;
		ev->open_gen[ev->nopen] = ev->sync_gen;
		ev->hash[slot] = ++ev->nopen;
	}
	if (done)
		ev->recent[ev->nrecent++ % IG_EVENTS_RECENT] = *r;
}

/* Queues len bytes for client c; drops c if they do not fit. */
static void client_queue(struct ig_events *ev, struct sse_client *c, const char *p, size_t len,
			 int64_t now_ns)
{
	if (c->dropped)
		return;
	if (c->len + len > IG_EVENTS_SSE_BUF) {
		c->dropped = true;
		ev->sse_dropped++;
		ig_log_warn("api: an SSE client is too slow (%zu bytes queued): dropped", c->len);
		/* Close it soon: it may not be reading at all. */
		MHD_set_connection_option(c->conn, MHD_CONNECTION_OPTION_TIMEOUT, 1u);
		return;
	}
	memcpy(c->buf + c->len, p, len);
	c->len += len;
	c->last_queued_ns = now_ns;
}

/* Renders rec as SSE message id into ev->msg. Returns its length (0: none). */
static size_t render_msg(struct ig_events *ev, const struct ig_api_ev *rec, uint64_t id)
{
	json_t *j = ig_events_rec_json(&ev->names, rec);
	char *data = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	size_t n = 0;

	json_decref(j);
	if (data != NULL)
		n = ig_events_sse_format(ev->msg, sizeof(ev->msg), id, ig_events_kind_name(rec->kind),
					 data);
	free(data);
	return n;
}

int ig_events_drain(struct ig_events *ev, int64_t now_ns)
{
	struct ig_api_ev rec;
	int n = 0;

	while (ig_ring_pop_spsc(&ev->ring, &rec)) {
		uint64_t id;
		n++;
		if (rec.kind == IG_APIEV_SYNC) { /* not a message */
			if (rec.state == 0)
				ev->sync_gen++;
			else
				sync_end(ev);
			continue;
		}
		id = ++ev->msg_id;
		switch (rec.kind) {
		case IG_APIEV_ORDER:
			apply_order(ev, &rec);
			break;
		case IG_APIEV_FILL:
			ev->fills[ev->nfills++ % IG_EVENTS_FILLS] = rec;
			break;
		case IG_APIEV_STATE:
			if (rec.strategy == IG_STRATEGY_NONE) {
				ev->global = rec;
				ev->global_id = id;
				ev->have_global = true;
			}
			break;
		default:
			break;
		}
		if (ev->clients != NULL) {
			size_t len = render_msg(ev, &rec, id);
			for (struct sse_client *c = ev->clients; len > 0 && c != NULL; c = c->next)
				client_queue(ev, c, ev->msg, len, now_ns);
		}
	}
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next) {
		static const char ka[] = ": keep-alive\n\n";
		if (!c->dropped &&
		    now_ns - c->last_queued_ns >= (int64_t)IG_EVENTS_KEEPALIVE_S * 1000000000)
			client_queue(ev, c, ka, sizeof(ka) - 1, now_ns);
		if (c->suspended && (c->len > 0 || c->dropped || ev->stopping)) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
		}
	}
	return n;
}

/* --------------------------------------------------------- documents */

/* Newest first: by creation (data) time, then client id. */
static int cmp_newest(const void *a, const void *b)
{
	const struct ig_api_ev *x = *(const struct ig_api_ev *const *)a;
	const struct ig_api_ev *y = *(const struct ig_api_ev *const *)b;
	if (x->created_ns != y->created_ns)
		return x->created_ns < y->created_ns ? 1 : -1;
	return x->client_id < y->client_id ? 1 : x->client_id > y->client_id ? -1 : 0;
}

static bool strat_match(const struct ig_events *ev, const struct ig_api_ev *r, const char *name)
{
	return name == NULL || strcmp(strat_name(&ev->names, r->strategy), name) == 0;
}

json_t *ig_events_orders_json(const struct ig_events *ev, const char *strategy)
{
	json_t *open = json_array(), *recent = json_array();
	const struct ig_api_ev **sorted = malloc((ev->nopen + 1) * sizeof(*sorted));
	uint32_t n = 0;
	uint64_t first;

	if (open == NULL || recent == NULL || sorted == NULL) {
		json_decref(open);
		json_decref(recent);
		free(sorted);
		return NULL;
	}
	for (uint32_t i = 0; i < ev->nopen; i++)
		if (strat_match(ev, &ev->open[i], strategy))
			sorted[n++] = &ev->open[i];
	qsort(sorted, n, sizeof(*sorted), cmp_newest);
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(open, ig_events_rec_json(&ev->names, sorted[i]));
	free(sorted);
	/* Finished orders in the order they finished, newest first. */
	first = ev->nrecent > IG_EVENTS_RECENT ? ev->nrecent - IG_EVENTS_RECENT : 0;
	for (uint64_t i = ev->nrecent; i-- > first;) {
		const struct ig_api_ev *r = &ev->recent[i % IG_EVENTS_RECENT];
		if (strat_match(ev, r, strategy))
			json_array_append_new(recent, ig_events_rec_json(&ev->names, r));
	}
	return json_pack("{s:o, s:o}", "open", open, "recent", recent);
}

json_t *ig_events_fills_json(const struct ig_events *ev, int limit)
{
	json_t *fills = json_array();
	uint64_t first = ev->nfills > IG_EVENTS_FILLS ? ev->nfills - IG_EVENTS_FILLS : 0;
	int n = 0;

	if (fills == NULL)
		return NULL;
	for (uint64_t i = ev->nfills; i-- > first && n < limit; n++)
		json_array_append_new(fills,
				      ig_events_rec_json(&ev->names, &ev->fills[i % IG_EVENTS_FILLS]));
	return json_pack("{s:o}", "fills", fills);
}

void ig_events_counts(const struct ig_events *ev, struct ig_events_counts *out)
{
	out->dropped = ig_events_dropped(ev);
	out->sse_clients = ev->nclients;
	out->sse_dropped = ev->sse_dropped;
	out->sse_refused = ev->sse_refused;
	out->open_hidden = ev->open_lost;
	out->open_evicted = ev->open_evicted;
}

json_t *ig_events_status_json(const struct ig_events *ev)
{
	struct ig_events_counts k;
	ig_events_counts(ev, &k);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "dropped", (json_int_t)k.dropped,
			 "sse_clients", (json_int_t)k.sse_clients, "sse_dropped",
			 (json_int_t)k.sse_dropped, "sse_refused", (json_int_t)k.sse_refused,
			 "open_hidden", (json_int_t)k.open_hidden, "open_evicted",
			 (json_int_t)k.open_evicted);
}

char *ig_events_metrics_append(const struct ig_events *ev, char *text, size_t *len)
{
	struct ig_events_counts k;
	char add[1024];
	int n;
	char *p;

	ig_events_counts(ev, &k);
	n = snprintf(add, sizeof(add),
		     "# HELP ingenium_api_events_dropped_total Order, fill, denial and state records "
		     "the OMS dropped because the API's ring was full.\n"
		     "# TYPE ingenium_api_events_dropped_total counter\n"
		     "ingenium_api_events_dropped_total %llu\n"
		     "# HELP ingenium_api_sse_clients Event-stream clients connected.\n"
		     "# TYPE ingenium_api_sse_clients gauge\n"
		     "ingenium_api_sse_clients %u\n"
		     "# HELP ingenium_api_sse_dropped_total Event-stream clients dropped for being "
		     "too slow.\n"
		     "# TYPE ingenium_api_sse_dropped_total counter\n"
		     "ingenium_api_sse_dropped_total %llu\n",
		     (unsigned long long)k.dropped, k.sse_clients, (unsigned long long)k.sse_dropped);
	if (n < 0 || (size_t)n >= sizeof(add) || (p = realloc(text, *len + (size_t)n + 1)) == NULL) {
		free(text);
		return NULL;
	}
	memcpy(p + *len, add, (size_t)n + 1);
	*len += (size_t)n;
	return p;
}

/* ---------------------------------------------------------------- SSE */

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *c = cls;
	struct ig_events *ev = c->ev;
	size_t n;

	(void)pos;
	if (c->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (c->len == 0) {
		if (ev->stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Nothing to send: off the event loop until the drain
		 * queues something (no busy loop). */
		c->suspended = true;
		MHD_suspend_connection(c->conn);
		return 0;
	}
	n = c->len < max ? c->len : max;
	memcpy(buf, c->buf, n);
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse_client *c = cls;
	struct ig_events *ev = c->ev;

	for (struct sse_client **pp = &ev->clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			ev->nclients--;
			break;
		}
	}
	free(c->buf);
	free(c);
}

static int reply_text(struct MHD_Connection *conn, unsigned status, const char *json)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		strlen(json), (void *)(uintptr_t)json, MHD_RESPMEM_PERSISTENT);
	int rc;
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static int reply_doc(struct MHD_Connection *conn, json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	struct MHD_Response *r;
	int rc;

	json_decref(doc);
	if (text == NULL)
		return reply_text(conn, 500, "{\"error\":\"out of memory\"}");
	r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return rc;
}

static int sse_start(struct ig_events *ev, struct MHD_Connection *conn)
{
	struct sse_client *c;
	struct MHD_Response *r;
	const union MHD_ConnectionInfo *ci;
	int rc;

	if (ev->stopping)
		return reply_text(conn, 503, "{\"error\":\"the API is stopping\"}");
	if (ev->nclients >= IG_EVENTS_SSE_MAX) {
		ev->sse_refused++;
		return reply_text(conn, 503, "{\"error\":\"too many event-stream clients\"}");
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->buf = malloc(IG_EVENTS_SSE_BUF)) == NULL) {
		free(c);
		return reply_text(conn, 500, "{\"error\":\"out of memory\"}");
	}
	c->ev = ev;
	c->conn = conn;
	c->last_queued_ns = ig_clock_mono_ns();
	/* The first message: the global state. */
	if (ev->have_global) {
		size_t len = render_msg(ev, &ev->global, ev->global_id);
		memcpy(c->buf, ev->msg, len);
		c->len = len;
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
	if (r == NULL) {
		free(c->buf);
		free(c);
		return MHD_NO;
	}
	c->next = ev->clients;
	ev->clients = c;
	ev->nclients++;
	/* A bounded kernel buffer too, so a client that stops reading is
	 * found out after IG_EVENTS_SSE_SNDBUF + IG_EVENTS_SSE_BUF bytes. */
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL) {
		int sz = IG_EVENTS_SSE_SNDBUF;
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	rc = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r); /* sse_free runs when the connection is done with it */
	return rc;
}

bool ig_events_is_path(const char *url)
{
	return strcmp(url, "/api/v1/orders") == 0 || strcmp(url, "/api/v1/fills") == 0 ||
	       strcmp(url, "/api/v1/events") == 0;
}

int ig_events_serve(struct ig_events *ev, struct MHD_Connection *c, const char *url,
		    const char *method)
{
	if (strcmp(url, "/api/v1/events") == 0) {
		if (strcmp(method, "GET") != 0)
			return reply_text(c, 405, "{\"error\":\"method not allowed\"}");
		return sse_start(ev, c);
	}
	if (strcmp(url, "/api/v1/orders") == 0) {
		const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "strategy");
		return reply_doc(c, ig_events_orders_json(ev, s != NULL && s[0] != '\0' ? s : NULL));
	}
	{
		int limit = ig_events_parse_limit(
			MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"));
		if (limit < 0)
			return reply_text(c, 400,
					  "{\"error\":\"limit: an integer from 1 to 1000\"}");
		return reply_doc(c, ig_events_fills_json(ev, limit));
	}
}

int ig_events_stop_clients(struct ig_events *ev)
{
	int n = 0;
	ev->stopping = true;
	for (struct sse_client *c = ev->clients; c != NULL; c = c->next) {
		if (c->suspended) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
			n++;
		}
	}
	return n;
}
