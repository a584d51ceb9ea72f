/*
 * test_risk_property.c - the risk engine as a property, and flat memory.
 *
 * 1. test_no_breach_reaches_venue: 1,000,000 random intents (xorshift,
 *    fixed seed) from two strategies on two instruments, against random
 *    limits re-drawn every 10,000 intents (each limit sometimes unset),
 *    random marks, a venue that acks, fills (partially, in full, after a
 *    cancel request), rejects and confirms cancels at random, random
 *    cancels, cancel-replaces and kill-switch episodes. The test keeps its
 *    own model of every strategy (position, cash, open orders and open
 *    quantities per side), computed only from what the OMS sent to the
 *    venue and what the venue did, and for EVERY order the OMS forwards to
 *    IG_STAGE_EXEC checks with that model that it breaches no limit:
 *      qty <= max_order_qty;
 *      notional (limit px, the mark for a market sell, the worst price a
 *      market buy can be sent at) <= max_order_notional;
 *      position + open buys + qty <= max_position_qty (sells: the mirror);
 *      open orders + 1 <= max_open_orders;
 *      a buy's notional + taker fee <= cash - cash reserved by open buys;
 *      a sell's qty <= position - open sells (spot);
 *      a limit price within price_collar_bps of the mark;
 *      a mark no older than stale_data_ms;
 *      reduce-only orders, and every order while the kill switch is on,
 *      reduce the position.
 *    Accepted and denied intents are counted (both must be plentiful) and
 *    the violations must be zero. The model is cross-checked against the
 *    OMS's books at every re-draw. Under a sanitizer the run is 10,000
 *    intents.
 *
 * 2. test_memory_flat: 10,000,000 orders (200,000 under a sanitizer) of
 *    one strategy created, filled and retired through ig_oms_handle: the
 *    order manager's pool and tables are the same allocations at the end,
 *    nothing is live, every order was retired, and the manager is sane.
 *
 * The OMS runs on the data clock; each event advances data time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0 INT64_C(1600000000000000000)
#define MS INT64_C(1000000)
#define FX IG_FIXED_SCALE
#define UNSET IG_RISK_UNSET

#define NSTRAT 2
#define NINST 2
#define MAXO 1400              /* model orders per strategy (> pool) */
#define MAXPEND 8192           /* cancels in flight at the venue */
#define CAP_MAX 8192
#define EPOCH 10000            /* intents between limit re-draws */
#define MAX_REPORTED 10        /* violations printed in full */

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(IG_TSAN)
#define IG_TEST_SANITIZED 1
#else
#define IG_TEST_SANITIZED 0
#endif

static bool sanitized(void)
{
	return IG_TEST_SANITIZED || getenv("IG_SANITIZER") != NULL;
}

/* ------------------------------------------------------------- capture */

struct cap_item {
	struct ig_event ev;
	enum ig_stage dst;
};

struct cap {
	struct ig_emit emit; /* first: fn casts back */
	uint32_t n;
	struct cap_item it[CAP_MAX];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	(void)idx;
	if (c->n >= CAP_MAX)
		fail_msg("stage emitted more than %d events", CAP_MAX);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->n++;
}

static struct ig_config cfg;
static struct ig_oms oms;
static struct cap out;
static bool oms_up;

/* ------------------------------------------------------------- rng */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * UINT64_C(2685821657736338717);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_in(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* True with probability pct / 100. */
static bool chance(uint32_t pct)
{
	return rnd() % 100 < pct;
}

/* ------------------------------------------------------------- model arithmetic
 * Written here, not borrowed from the engine: a * b / 10^d rounded half
 * away from zero. */

static int64_t round_div(ig_i128 v, int64_t d)
{
	ig_i128 q = v / d, r = v % d;
	if (r < 0)
		r = -r;
	if (2 * r >= d)
		q += v < 0 ? -1 : 1;
	return (int64_t)q;
}

static int64_t m_mul(int64_t a, int64_t b)
{
	return round_div((ig_i128)a * b, FX);
}

static int64_t m_bps(int64_t v, int64_t bps)
{
	return round_div((ig_i128)v * bps, 10000);
}

/* ------------------------------------------------------------- the model */

struct mord {
	uint64_t cid;
	int64_t px;      /* limit px, 0 market */
	int64_t ref_px;  /* what its cash is reserved at */
	int64_t qty;
	int64_t filled;
	uint16_t k;
	uint8_t side;
	uint8_t type;
	bool acked;
	bool cancel_pending;
	bool late_market; /* a market replacement released after its intent */
};

struct mstrat {
	struct mord o[MAXO];
	uint32_t n;
	int64_t pos[NINST];
	int64_t cash;
	int64_t open_buy[NINST];
	int64_t open_sell[NINST];
	int64_t reserved; /* sum over open buys of notional + taker fee of the leaves */
	uint64_t next_cid;
};

struct pend {
	uint16_t sid;
	uint64_t cid;
};

struct world {
	struct mstrat m[NSTRAT];
	int64_t mark[NINST];
	int64_t mark_ts[NINST];
	int64_t now;
	uint64_t trade_id;
	bool kill;
	struct pend pend[MAXPEND]; /* cancels the venue has received */
	uint32_t npend;
	/* counters */
	uint64_t intents, forwarded, released, held, denied, violations;
	uint64_t rejects[IG_RJ__COUNT];
	uint64_t dup_cancels, reserve_diffs;
	uint64_t fills, cancels_sent, cancels_confirmed, venue_rejects, replaces, kills;
	uint64_t max_open_seen;
};

static struct world W; /* large: static */

static int64_t fee_bps(void)
{
	return cfg.venue.taker_fee_bps;
}

/* The worst price a market buy on k can be sent at: the touch (the trade
 * price: the marks here are trades) plus venue.market_buy_ioc_bps. */
static int64_t market_buy_px(uint16_t k)
{
	int64_t bps = cfg.venue.market_buy_ioc_bps > 0 ? cfg.venue.market_buy_ioc_bps : 0;
	return W.mark[k] + m_bps(W.mark[k], bps);
}

static int64_t reserve_of(int64_t ref_px, int64_t leaves)
{
	int64_t n = m_mul(ref_px, leaves);
	return n + m_bps(n, fee_bps());
}

static struct mord *m_find(struct mstrat *m, uint64_t cid)
{
	for (uint32_t i = 0; i < m->n; i++)
		if (m->o[i].cid == cid)
			return &m->o[i];
	return NULL;
}

/* Removes o (terminal): its leaves leave the open totals. */
static void m_remove(struct mstrat *m, struct mord *o)
{
	int64_t leaves = o->qty - o->filled;
	if (o->side == IG_SIDE_BUY) {
		m->open_buy[o->k] -= leaves;
		m->reserved -= reserve_of(o->ref_px, leaves);
	} else {
		m->open_sell[o->k] -= leaves;
	}
	*o = m->o[--m->n];
}

static bool m_reduces(const struct mstrat *m, uint16_t k, uint8_t side, int64_t qty)
{
	if (side == IG_SIDE_SELL)
		return m->pos[k] > 0 && qty <= m->pos[k] - m->open_sell[k];
	return m->pos[k] < 0 && qty <= -m->pos[k] - m->open_buy[k];
}

static void violation(const struct ig_event *ev, const char *what, int64_t a, int64_t b)
{
	W.violations++;
	if (W.violations <= MAX_REPORTED)
		print_error("VIOLATION: strategy %u order %llu (%s %s qty %lld px %lld): %s (%lld vs %lld)\n",
			    ev->hdr.strategy_id, (unsigned long long)ev->body.order.client_id,
			    ig_side_name((enum ig_side)ev->body.order.side),
			    ev->body.order.type == IG_ORD_MARKET ? "market" : "limit",
			    (long long)ev->body.order.qty, (long long)ev->body.order.px, what, (long long)a,
			    (long long)b);
}

/* The property: an order reaching the venue breaches no limit, judged by
 * the model as it stood just before the order went out. */
static void check_forwarded(const struct ig_event *ev)
{
	const struct ig_order *o = &ev->body.order;
	uint16_t sid = ev->hdr.strategy_id, k = ev->hdr.instrument_id;
	const struct mstrat *m;
	const struct ig_cfg_risk *lim;
	int64_t ref, notional;
	bool buy;

	if (sid >= NSTRAT || k >= NINST) {
		violation(ev, "bad strategy or instrument", sid, k);
		return;
	}
	m = &W.m[sid];
	lim = &oms.s[sid].lim;
	buy = o->side == IG_SIDE_BUY;
	if (o->qty <= 0 || (o->side != IG_SIDE_BUY && o->side != IG_SIDE_SELL))
		violation(ev, "invalid order", o->qty, o->side);
	if (o->type != IG_ORD_MARKET && o->type != IG_ORD_LIMIT)
		violation(ev, "unexpected type", o->type, 0);
	if (lim->max_order_qty != UNSET && o->qty > lim->max_order_qty)
		violation(ev, "max_order_qty", o->qty, lim->max_order_qty);
	ref = o->type == IG_ORD_LIMIT ? o->px : buy ? market_buy_px(k) : W.mark[k];
	notional = m_mul(ref, o->qty);
	if (lim->max_order_notional != UNSET && notional > lim->max_order_notional)
		violation(ev, "max_order_notional", notional, lim->max_order_notional);
	if (lim->max_position_qty != UNSET) {
		int64_t worst = buy ? m->pos[k] + m->open_buy[k] + o->qty
				    : -(m->pos[k] - m->open_sell[k] - o->qty);
		if (worst > lim->max_position_qty)
			violation(ev, "max_position_qty", worst, lim->max_position_qty);
	}
	if (lim->max_open_orders != UNSET && (int64_t)m->n + 1 > lim->max_open_orders)
		violation(ev, "max_open_orders", (int64_t)m->n + 1, lim->max_open_orders);
	if (buy) {
		int64_t need = notional + m_bps(notional, fee_bps());
		if (need > m->cash - m->reserved)
			violation(ev, "insufficient_cash", need, m->cash - m->reserved);
	} else if (o->qty > m->pos[k] - m->open_sell[k]) {
		violation(ev, "insufficient_position", o->qty, m->pos[k] - m->open_sell[k]);
	}
	if (o->type == IG_ORD_LIMIT && lim->price_collar_bps != UNSET) {
		int64_t band = m_bps(W.mark[k], lim->price_collar_bps);
		if (o->px > W.mark[k] + band || o->px < W.mark[k] - band)
			violation(ev, "price_collar", o->px, W.mark[k]);
	}
	if (lim->stale_data_ms != UNSET && W.now - W.mark_ts[k] > lim->stale_data_ms * MS)
		violation(ev, "stale_data", W.now - W.mark_ts[k], lim->stale_data_ms * MS);
	if ((o->flags & IG_ORDF_REDUCE_ONLY) && !m_reduces(m, k, o->side, o->qty))
		violation(ev, "reduce_only", o->qty, m->pos[k]);
	if (W.kill && !m_reduces(m, k, o->side, o->qty))
		violation(ev, "kill_switch", o->qty, m->pos[k]);
}

static void m_add(const struct ig_event *ev, bool late)
{
	const struct ig_order *o = &ev->body.order;
	uint16_t sid = ev->hdr.strategy_id, k = ev->hdr.instrument_id;
	struct mstrat *m = &W.m[sid];
	struct mord *r;

	if (m->n == MAXO)
		fail_msg("model full: the OMS forwarded more than %d open orders", MAXO);
	if (m_find(m, o->client_id) != NULL)
		fail_msg("order %llu forwarded twice", (unsigned long long)o->client_id);
	r = &m->o[m->n++];
	memset(r, 0, sizeof(*r));
	r->cid = o->client_id;
	r->px = o->px;
	r->ref_px = o->type == IG_ORD_LIMIT		? o->px
		    : o->side == IG_SIDE_BUY ? market_buy_px(k)
					     : W.mark[k];
	r->qty = o->qty;
	r->k = k;
	r->side = o->side;
	r->type = o->type;
	r->late_market = late && o->type == IG_ORD_MARKET;
	if (r->late_market && o->side == IG_SIDE_BUY) {
		const struct ig_order_rec *rr = ig_order_find(&oms.s[sid].om, o->client_id);
		W.reserve_diffs += rr != NULL && rr->reserved != reserve_of(r->ref_px, o->qty);
	}
	if (o->side == IG_SIDE_BUY) {
		m->open_buy[k] += o->qty;
		m->reserved += reserve_of(r->ref_px, o->qty);
	} else {
		m->open_sell[k] += o->qty;
	}
	if (m->n > W.max_open_seen)
		W.max_open_seen = m->n;
}

/* Reads what the OMS emitted for one input. cur_cid: the intent being
 * decided (0 if the input was not an intent); returns its outcome:
 * 1 forwarded, 0 denied, 2 held (a replacement), -1 nothing. */
static int take_output(uint16_t cur_sid, uint64_t cur_cid)
{
	int outcome = -1;
	for (uint32_t i = 0; i < out.n; i++) {
		const struct ig_event *ev = &out.it[i].ev;
		if (out.it[i].dst == IG_STAGE_EXEC && ev->hdr.type == IG_EV_ORDER) {
			bool now = cur_cid != 0 && ev->hdr.strategy_id == cur_sid &&
				   ev->body.order.client_id == cur_cid;
			check_forwarded(ev);
			m_add(ev, !now);
			if (now) {
				outcome = 1;
				W.forwarded++;
			} else {
				W.released++;
			}
		} else if (out.it[i].dst == IG_STAGE_EXEC && ev->hdr.type == IG_EV_CANCEL) {
			struct mord *r = m_find(&W.m[ev->hdr.strategy_id], ev->body.cancel.client_id);
			if (r == NULL)
				fail_msg("cancel for order %llu the venue does not hold",
					 (unsigned long long)ev->body.cancel.client_id);
			W.cancels_sent++;
			if (r->cancel_pending) {
				/* A second cancel for an order whose first is still in
				 * flight (see test_oms_conditional.c): the venue
				 * answers the first. */
				W.dup_cancels++;
				continue;
			}
			r->cancel_pending = true;
			if (W.npend == MAXPEND)
				fail_msg("too many cancels in flight");
			W.pend[W.npend].sid = ev->hdr.strategy_id;
			W.pend[W.npend].cid = ev->body.cancel.client_id;
			W.npend++;
		} else if (out.it[i].dst == IG_STAGE_EXEC) {
			fail_msg("unexpected event type %u to the executor", ev->hdr.type);
		} else if (cur_cid != 0 && ev->hdr.type == IG_EV_REJECT && ev->hdr.strategy_id == cur_sid &&
			   ev->body.reject.client_id == cur_cid && ev->body.reject.by_venue == 0) {
			outcome = 0;
			W.denied++;
			W.rejects[ev->body.reject.reason < IG_RJ__COUNT ? ev->body.reject.reason : 0]++;
		} else if (cur_cid != 0 && outcome == -1 && ev->hdr.type == IG_EV_ORDER_UPDATE &&
			   ev->body.update.client_id == cur_cid && ev->body.update.state == IG_OS_SUBMITTED) {
			outcome = 2;
		}
	}
	return outcome;
}

static void feed(struct ig_event *ev)
{
	out.n = 0;
	ig_oms_handle(&oms, ev, &out.emit);
}

/* ------------------------------------------------------------- the venue */

static void venue_report(struct ig_event *ev, uint16_t sid, enum ig_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.src = IG_STAGE_EXEC;
	ev->hdr.strategy_id = sid;
	ev->hdr.ts_event_ns = W.now;
	ev->hdr.ts_origin_ns = W.now - T0;
}

static void venue_fill(uint16_t sid, struct mord *r)
{
	struct mstrat *m = &W.m[sid];
	struct ig_event ev;
	int64_t leaves = r->qty - r->filled, qty, px, notional, fee;
	uint64_t fills = oms.s[sid].fills;
	uint16_t k = r->k;

	/* Partial fills on the 0.01 grid of the orders, so that positions
	 * land on the limits exactly. */
	if (chance(60) || leaves < FX / 100)
		qty = leaves;
	else
		qty = rnd_in(1, leaves / (FX / 100)) * (FX / 100);
	px = r->type == IG_ORD_LIMIT ? r->px : W.mark[k];
	notional = m_mul(px, qty);
	fee = m_bps(notional, fee_bps());
	venue_report(&ev, sid, IG_EV_FILL);
	ev.hdr.instrument_id = k;
	ev.body.fill.client_id = r->cid;
	ev.body.fill.venue_order_id = r->cid + UINT64_C(1000000000) * (sid + 1u);
	ev.body.fill.trade_id = ++W.trade_id;
	ev.body.fill.side = r->side;
	ev.body.fill.px = px;
	ev.body.fill.qty = qty;
	ev.body.fill.fee = fee;
	ev.body.fill.liquidity = IG_LIQ_TAKER;
	/* The model first: outputs (a cancelled replacement) follow the fill. */
	if (r->side == IG_SIDE_BUY) {
		m->pos[k] += qty;
		m->cash -= notional + fee;
		m->open_buy[k] -= qty;
		m->reserved -= reserve_of(r->ref_px, leaves) - reserve_of(r->ref_px, leaves - qty);
	} else {
		m->pos[k] -= qty;
		m->cash += notional - fee;
		m->open_sell[k] -= qty;
	}
	r->filled += qty;
	if (r->filled == r->qty)
		m_remove(m, r);
	feed(&ev);
	if (oms.s[sid].fills != fills + 1)
		fail_msg("OMS refused a valid fill of order %llu", (unsigned long long)ev.body.fill.client_id);
	W.fills++;
	take_output(0, 0);
}

static void venue_confirm_cancel(uint32_t p)
{
	struct pend pc = W.pend[p];
	struct mstrat *m = &W.m[pc.sid];
	struct mord *r;
	struct ig_event ev;

	W.pend[p] = W.pend[--W.npend];
	r = m_find(m, pc.cid);
	if (r == NULL)
		return; /* filled in full meanwhile: nothing left to cancel */
	venue_report(&ev, pc.sid, IG_EV_ORDER_UPDATE);
	ev.hdr.instrument_id = r->k;
	ev.body.update.client_id = pc.cid;
	ev.body.update.venue_order_id = pc.cid + UINT64_C(1000000000) * (pc.sid + 1u);
	ev.body.update.state = IG_OS_CANCELED;
	ev.body.update.filled_qty = r->filled;
	m_remove(m, r);
	feed(&ev);
	W.cancels_confirmed++;
	take_output(0, 0);
}

static void venue_ack(uint16_t sid, struct mord *r)
{
	struct ig_event ev;
	venue_report(&ev, sid, IG_EV_ORDER_UPDATE);
	ev.hdr.instrument_id = r->k;
	ev.body.update.client_id = r->cid;
	ev.body.update.venue_order_id = r->cid + UINT64_C(1000000000) * (sid + 1u);
	ev.body.update.state = IG_OS_ACCEPTED;
	r->acked = true;
	feed(&ev);
	take_output(0, 0);
}

static void venue_reject(uint16_t sid, struct mord *r)
{
	struct ig_event ev;
	venue_report(&ev, sid, IG_EV_REJECT);
	ev.hdr.instrument_id = r->k;
	ev.body.reject.client_id = r->cid;
	ev.body.reject.qty = r->qty;
	ev.body.reject.px = r->px;
	ev.body.reject.side = r->side;
	ev.body.reject.reason = IG_RJ_VENUE_INSUFFICIENT_BALANCE;
	ev.body.reject.by_venue = 1;
	m_remove(&W.m[sid], r);
	feed(&ev);
	W.venue_rejects++;
	take_output(0, 0);
}

/* One round of venue activity. */
static void venue_step(void)
{
	for (uint32_t j = 0; j < 2; j++) {
		uint16_t sid = (uint16_t)(rnd() % NSTRAT);
		struct mstrat *m = &W.m[sid];
		struct mord *r;
		if (m->n == 0)
			continue;
		r = &m->o[rnd() % m->n];
		if (r->type == IG_ORD_MARKET ? chance(90) : chance(25))
			venue_fill(sid, r);
		else if (!r->acked && r->filled == 0 && !r->cancel_pending && chance(3))
			venue_reject(sid, r);
		else if (!r->acked && chance(50))
			venue_ack(sid, r);
	}
	while (W.npend > 0 && chance(60))
		venue_confirm_cancel((uint32_t)(rnd() % W.npend));
}

/* ------------------------------------------------------------- the market */

static void market_step(void)
{
	struct ig_event ev;
	uint16_t k = (uint16_t)(rnd() % NINST);
	int64_t px = W.mark[k];
	/* A random walk, pulled back towards 100. */
	px += m_bps(px, rnd_in(-40, 40) + (px < 90 * FX ? 5 : px > 130 * FX ? -5 : 0));
	px = px / 1000000 * 1000000; /* 0.01 tick */
	if (px < 50 * FX)
		px = 50 * FX;
	if (px > 200 * FX)
		px = 200 * FX;
	W.mark[k] = px;
	W.mark_ts[k] = W.now;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_TRADE;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = W.now;
	ev.hdr.ts_origin_ns = W.now - T0;
	ev.body.trade.px = px;
	ev.body.trade.qty = FX;
	feed(&ev);
	if (out.n != 0)
		fail_msg("a mark emitted %u events (no conditional orders here)", out.n);
}

/* ------------------------------------------------------------- limits */

static int64_t maybe(uint32_t unset_pct, int64_t lo, int64_t hi)
{
	return chance(unset_pct) ? UNSET : rnd_in(lo, hi);
}

static void draw_limits(void)
{
	for (uint32_t i = 0; i < NSTRAT; i++) {
		struct ig_cfg_risk *l = &oms.s[i].lim;
		/* Quantity limits on the 0.01 grid of the intents, so that
		 * orders land exactly on them too. */
		l->max_order_qty = maybe(25, 20, 300);
		l->max_order_notional = maybe(25, 20, 400);
		l->max_position_qty = maybe(25, 50, 1200);
		if (l->max_order_qty != UNSET)
			l->max_order_qty *= FX / 100;
		if (l->max_order_notional != UNSET)
			l->max_order_notional *= FX;
		if (l->max_position_qty != UNSET)
			l->max_position_qty *= FX / 100;
		l->max_open_orders = maybe(25, 1, 40);
		l->max_orders_per_sec = maybe(60, 50, 2000);
		l->price_collar_bps = maybe(25, 10, 400);
		l->stale_data_ms = maybe(25, 1, 40);
		l->duplicate_window_ms = maybe(50, 1, 20);
		l->daily_loss_limit = UNSET;
		l->max_drawdown_pct = UNSET;
		l->tax_rate_pct = UNSET;
		ig_bucket_init(&oms.s[i].bucket, l->max_orders_per_sec);
	}
	ig_bucket_init(&oms.global_bucket, maybe(70, 200, 3000));
}

/* The model and the OMS's books agree. The OMS also counts replacements
 * it holds back (the model only knows what reached the venue): add those. */
static void cross_check(void)
{
	for (uint16_t i = 0; i < NSTRAT; i++) {
		const struct ig_oms_strategy *s = &oms.s[i];
		const struct mstrat *m = &W.m[i];
		int64_t hb[NINST] = { 0 }, hs[NINST] = { 0 }, hres = 0;
		for (uint32_t h = 0; h < s->nheld; h++) {
			const struct ig_order_rec *r = &s->om.pool[s->held[h] - 1];
			if (r->side == IG_SIDE_BUY)
				hb[r->instrument_id] += r->qty - r->filled_qty, hres += r->reserved;
			else
				hs[r->instrument_id] += r->qty - r->filled_qty;
		}
		int64_t res = m->reserved;
		/* Known difference (test_oms_conditional.c,
		 * test_bug_market_replacement_reserved_at_intent_mark): the OMS
		 * reserves a held market replacement at the mark of its intent,
		 * the model at the mark when it was sent. Take the OMS's figure
		 * for those. */
		for (uint32_t j = 0; j < m->n; j++) {
			const struct mord *o = &m->o[j];
			const struct ig_order_rec *r;
			if (!o->late_market || o->side != IG_SIDE_BUY)
				continue;
			r = ig_order_find(&oms.s[i].om, o->cid);
			assert_non_null(r);
			res += r->reserved - reserve_of(o->ref_px, o->qty - o->filled);
		}
		assert_true(ig_order_mgr_sanity(&s->om));
		assert_int_equal(s->cash, m->cash);
		assert_int_equal(s->om.open, m->n + s->nheld);
		assert_int_equal(s->open_buy_notional, res + hres);
		for (uint16_t k = 0; k < NINST; k++) {
			assert_int_equal(s->pos[k].qty, m->pos[k]);
			assert_int_equal(s->open_buy_qty[k], m->open_buy[k] + hb[k]);
			assert_int_equal(s->open_sell_qty[k], m->open_sell[k] + hs[k]);
		}
	}
}

/* Held replacements whose predecessor is gone: nothing will ever release
 * or cancel them. */
static uint32_t orphaned_held(void)
{
	uint32_t n = 0;
	for (uint16_t i = 0; i < NSTRAT; i++) {
		struct ig_oms_strategy *s = &oms.s[i];
		for (uint32_t h = 0; h < s->nheld; h++)
			n += ig_order_find(&s->om, s->om.pool[s->held[h] - 1].replaces) == NULL;
	}
	return n;
}

/* ------------------------------------------------------------- intents */

static void intent_step(void)
{
	struct ig_event ev;
	uint16_t sid = (uint16_t)(rnd() % NSTRAT);
	uint16_t k = (uint16_t)(rnd() % NINST);
	struct mstrat *m = &W.m[sid];
	struct ig_order *o = &ev.body.order;
	int outcome;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.src = IG_STAGE_STRATEGY;
	ev.hdr.strategy_id = sid;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = W.now;
	ev.hdr.ts_origin_ns = W.now - T0;
	o->client_id = ++m->next_cid;
	o->side = chance(55) ? IG_SIDE_BUY : IG_SIDE_SELL;
	o->type = chance(25) ? IG_ORD_MARKET : IG_ORD_LIMIT;
	o->tif = (uint8_t)(rnd() % 4);
	o->qty = (chance(60) ? rnd_in(1, 50) : rnd_in(1, 300)) * (FX / 100);
	if (chance(1))
		o->qty = 0; /* invalid */
	if (o->type == IG_ORD_LIMIT) {
		int64_t px = W.mark[k] + m_bps(W.mark[k], rnd_in(-300, 300));
		o->px = px / 1000000 * 1000000;
		if (chance(30) && o->side == IG_SIDE_BUY)
			o->px = W.mark[k] - W.mark[k] % 1000000; /* repeated prices: duplicates */
	}
	if (chance(10))
		o->flags |= IG_ORDF_REDUCE_ONLY;
	if (chance(5))
		o->flags |= IG_ORDF_POST_ONLY;
	if (chance(5)) {
		/* Cancel-replace: usually an open order of this strategy. */
		if (m->n > 0 && chance(90))
			o->replaces = m->o[rnd() % m->n].cid;
		else
			o->replaces = m->next_cid + 1000000;
		W.replaces++;
	}
	feed(&ev);
	W.intents++;
	outcome = take_output(sid, o->client_id);
	if (outcome == -1)
		fail_msg("intent %llu: neither forwarded, held nor denied", (unsigned long long)o->client_id);
	if (outcome == 2)
		W.held++;
}

static void cancel_step(void)
{
	struct ig_event ev;
	uint16_t sid = (uint16_t)(rnd() % NSTRAT);
	struct mstrat *m = &W.m[sid];
	if (m->n == 0)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CANCEL;
	ev.hdr.src = IG_STAGE_STRATEGY;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = W.now;
	ev.body.cancel.client_id = m->o[rnd() % m->n].cid;
	feed(&ev);
	take_output(0, 0);
}

static void kill_switch(bool on)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_event_ns = W.now;
	ev.body.control.cmd = IG_CTL_KILL_SWITCH;
	ev.body.control.arg = on ? 1 : 0;
	W.kill = on;
	feed(&ev);
	take_output(0, 0);
	if (on)
		W.kills++;
}

/* ------------------------------------------------------------- setup */

static int setup(void **state)
{
	(void)state;
	ig_log_set_level(IG_LOG_ERROR);
	ig_config_defaults(&cfg);
	snprintf(cfg.file, sizeof(cfg.file), "test_risk_property");
	cfg.feed.source = IG_FEED_SYNTHETIC;
	cfg.engine.threading = IG_THREADING_INLINE;
	cfg.engine.strategy_threads = NSTRAT;
	cfg.nstrategies = NSTRAT;
	for (uint32_t i = 0; i < NSTRAT; i++) {
		snprintf(cfg.strategies[i].name, IG_CFG_NAME_MAX, "s%u", i);
		snprintf(cfg.strategies[i].type, IG_CFG_NAME_MAX, "sma_cross");
		cfg.strategies[i].thread = i;
		cfg.strategies[i].capital = 5000 * FX;
	}
	cfg.venue.taker_fee_bps = 10;
	cfg.venue.maker_fee_bps = 0;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_OMS;
	out.emit.stamp = false;
	oms_up = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (oms_up)
		ig_oms_destroy(&oms);
	oms_up = false;
	return 0;
}

/* ------------------------------------------------------------- the property */

static void test_no_breach_reaches_venue(void **state)
{
	uint64_t n = sanitized() ? 10000 : 1000000;
	uint32_t orphans;
	(void)state;
	assert_int_equal(ig_oms_init(&oms, &cfg, NSTRAT), 0);
	oms.data_clock = true;
	oms_up = true;
	memset(&W, 0, sizeof(W));
	rng_state = UINT64_C(0x9E3779B97F4A7C15);
	W.now = T0;
	for (uint32_t i = 0; i < NSTRAT; i++)
		W.m[i].cash = cfg.strategies[i].capital;
	for (uint16_t k = 0; k < NINST; k++) {
		W.mark[k] = (80 + 40 * k) * FX;
		W.now += MS;
		/* initial marks */
		{
			struct ig_event ev;
			memset(&ev, 0, sizeof(ev));
			ev.hdr.type = IG_EV_TRADE;
			ev.hdr.instrument_id = k;
			ev.hdr.ts_event_ns = W.now;
			ev.body.trade.px = W.mark[k];
			feed(&ev);
			W.mark_ts[k] = W.now;
		}
	}

	for (uint64_t i = 0; i < n; i++) {
		if (i % EPOCH == 0) {
			if (i > 0)
				cross_check();
			draw_limits();
		}
		/* Kill-switch episodes: 20 of them, each 1/25 of a period long
		 * (2,000 intents in every 50,000 of the full run). */
		if (i % (n / 20) == n / 50)
			kill_switch(true);
		else if (i % (n / 20) == n / 50 + n / 500)
			kill_switch(false);
		/* Whole ms, so mark ages land on stale_data_ms exactly. */
		W.now += rnd_in(0, 2) * MS;
		if (chance(45))
			market_step();
		intent_step();
		venue_step();
		if (chance(12))
			cancel_step();
	}
	/* Drain: the venue settles every cancel in flight. */
	while (W.npend > 0)
		venue_confirm_cancel(W.npend - 1);
	cross_check();
	orphans = orphaned_held();

	print_message("property: %llu intents, %llu forwarded at once, %llu replacements held "
		      "(%llu released later), %llu denied, %llu fills, %llu cancels sent "
		      "(%llu confirmed), %llu venue rejects, %llu kill-switch episodes, "
		      "max open %llu, second cancels for an order already being cancelled %llu, "
		      "orphaned held replacements %u, market replacements reserved at their intent's mark %llu, "
		      "violations %llu\n",
		      (unsigned long long)W.intents, (unsigned long long)W.forwarded,
		      (unsigned long long)W.held, (unsigned long long)W.released,
		      (unsigned long long)W.denied, (unsigned long long)W.fills,
		      (unsigned long long)W.cancels_sent, (unsigned long long)W.cancels_confirmed,
		      (unsigned long long)W.venue_rejects, (unsigned long long)W.kills,
		      (unsigned long long)W.max_open_seen, (unsigned long long)W.dup_cancels, orphans,
		      (unsigned long long)W.reserve_diffs, (unsigned long long)W.violations);
	print_message("denials by reason:");
	for (uint32_t r = 0; r < IG_RJ__COUNT; r++)
		if (W.rejects[r] != 0)
			print_message(" %s=%llu", ig_reject_reason_name((enum ig_reject_reason)r),
				      (unsigned long long)W.rejects[r]);
	print_message("\n");

	assert_int_equal(W.violations, 0);
	assert_int_equal(W.intents, n);
	assert_int_equal(W.forwarded + W.held + W.denied, n);
	/* Both outcomes in large numbers, and most limits did bite. */
	assert_true(W.forwarded > n / 10);
	assert_true(W.denied > n / 10);
	assert_true(W.fills > n / 20);
	assert_true(W.released > 0);
	if (!sanitized()) {
		static const int must[] = { IG_RJ_MAX_ORDER_QTY,    IG_RJ_MAX_ORDER_NOTIONAL,
					    IG_RJ_MAX_POSITION,     IG_RJ_MAX_OPEN_ORDERS,
					    IG_RJ_RATE_LIMIT,       IG_RJ_PRICE_COLLAR,
					    IG_RJ_STALE_DATA,       IG_RJ_INSUFFICIENT_CASH,
					    IG_RJ_INSUFFICIENT_POSITION, IG_RJ_DUPLICATE,
					    IG_RJ_KILL_SWITCH,      IG_RJ_REDUCE_ONLY,
					    IG_RJ_INVALID,          IG_RJ_UNKNOWN_ORDER };
		for (size_t j = 0; j < sizeof(must) / sizeof(must[0]); j++)
			if (W.rejects[must[j]] == 0)
				fail_msg("no intent was denied for %s",
					 ig_reject_reason_name((enum ig_reject_reason)must[j]));
	}
	for (uint32_t i = 0; i < NSTRAT; i++) {
		assert_int_equal(oms.s[i].refused_fills, 0);
		assert_int_equal(oms.s[i].om.illegal, 0);
	}
}

/* ------------------------------------------------------------- memory */

/* Counts what goes to the executor; keeps nothing. */
struct counter {
	struct ig_emit emit; /* first */
	uint64_t to_exec;
	uint64_t other;
};

static void count_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct counter *c = (struct counter *)(void *)e;
	(void)idx;
	(void)ev;
	if (dst == IG_STAGE_EXEC)
		c->to_exec++;
	else
		c->other++;
}

static void test_memory_flat(void **state)
{
	uint64_t n = sanitized() ? 200000 : 10000000;
	struct counter cnt;
	struct ig_order_mgr *om;
	struct ig_order_rec *pool;
	uint32_t *by_client, *by_venue;
	struct ig_order_rec *history;
	struct ig_event ord, fill, mk;
	int64_t now = T0;
	(void)state;

	cfg.nstrategies = 1;
	cfg.strategies[0].capital = 1000 * FX;
	assert_int_equal(ig_oms_init(&oms, &cfg, 1), 0);
	oms.data_clock = true;
	oms_up = true;
	om = &oms.s[0].om;
	pool = om->pool;
	by_client = om->by_client;
	by_venue = om->by_venue;
	history = om->history;
	memset(&cnt, 0, sizeof(cnt));
	cnt.emit.fn = count_fn;
	cnt.emit.src = IG_STAGE_OMS;

	memset(&mk, 0, sizeof(mk));
	mk.hdr.type = IG_EV_TRADE;
	mk.hdr.ts_event_ns = now;
	mk.body.trade.px = 100 * FX;
	ig_oms_handle(&oms, &mk, &cnt.emit);

	memset(&ord, 0, sizeof(ord));
	ord.hdr.type = IG_EV_ORDER;
	ord.hdr.src = IG_STAGE_STRATEGY;
	ord.body.order.type = IG_ORD_MARKET;
	ord.body.order.qty = FX;
	memset(&fill, 0, sizeof(fill));
	fill.hdr.type = IG_EV_FILL;
	fill.hdr.src = IG_STAGE_EXEC;
	fill.body.fill.px = 100 * FX;
	fill.body.fill.qty = FX;
	fill.body.fill.liquidity = IG_LIQ_TAKER;

	for (uint64_t i = 0; i < n; i++) {
		uint8_t side = (i & 1) == 0 ? IG_SIDE_BUY : IG_SIDE_SELL;
		now += 1000;
		ord.hdr.ts_event_ns = now;
		ord.body.order.client_id = i + 1;
		ord.body.order.side = side;
		ig_oms_handle(&oms, &ord, &cnt.emit);
		fill.hdr.ts_event_ns = now;
		fill.body.fill.client_id = i + 1;
		fill.body.fill.venue_order_id = i + 1;
		fill.body.fill.trade_id = 1;
		fill.body.fill.side = side;
		ig_oms_handle(&oms, &fill, &cnt.emit);
		if (om->live != 0)
			fail_msg("order %llu not retired (live %u)", (unsigned long long)(i + 1), om->live);
	}
	print_message("memory: %llu orders created, filled and retired\n", (unsigned long long)n);
	assert_int_equal(cnt.to_exec, n);
	assert_int_equal(oms.s[0].orders, n);
	assert_int_equal(oms.s[0].fills, n);
	assert_int_equal(oms.s[0].refused_fills, 0);
	assert_int_equal(om->live, 0);
	assert_int_equal(om->open, 0);
	assert_int_equal(om->retired, n);
	assert_int_equal(om->history_n, n);
	assert_int_equal(om->illegal, 0);
	/* The same allocations: nothing grew or moved. */
	assert_ptr_equal(om->pool, pool);
	assert_ptr_equal(om->by_client, by_client);
	assert_ptr_equal(om->by_venue, by_venue);
	assert_ptr_equal(om->history, history);
	assert_true(ig_order_mgr_sanity(om));
	/* The most recent finished order is in the bounded history. */
	assert_int_equal(om->history[(n - 1) % IG_OM_HISTORY].client_id, n);
	assert_int_equal(om->history[(n - 1) % IG_OM_HISTORY].state, IG_OS_FILLED);
	/* Flat at the end: n/2 bought and n/2 sold at 100, fees 0. */
	assert_int_equal(oms.s[0].pos[0].qty, 0);
	assert_int_equal(oms.s[0].cash, 1000 * FX);
	assert_int_equal(oms.s[0].open_buy_notional, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_breach_reaches_venue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_flat, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
