/*
 * flow.c - the seeded synthetic order flow that moves exchange-sim's market.
 *
 * Each tick (every flow_ms on the flow thread, or on demand in tests), under
 * the state mutex:
 *   1. the mid takes a random-walk step of -3.0..+3.0 bps, snapped to the
 *      price tick and kept within [2 * min_price, max_price / 2];
 *   2. the market maker (account 2) cancels its quotes on the wrong side of
 *      the new mid or beyond its ladder, and one quote at random one tick in
 *      eight;
 *   3. it requotes a ladder of FLOW_LEVELS bids and asks FLOW_SPACING_BPS
 *      apart around the mid, 1..100 x min_volume each, as plain GTC limits:
 *      when the mid has moved through a resting user order, the new quote
 *      crosses it and trades with it at the user's price;
 *   4. one tick in four, the taker (account 3) sends a market order of
 *      1..40 x min_volume, buying (by counter volume) or selling at random,
 *      which eats the top of the book - the user's orders among it.
 * Tests (and demos) can also make the taker trade on demand,
 * ig__sim_flow_take (POST /sim/take): a market order of a given volume,
 * which fills the user's resting orders at the top of the book while, say,
 * the daemon is down.
 * Each market (pair) has its own flow: its own mid and ladder, and its
 * own splitmix64 stream (the first seeded by --seed itself, the others
 * from it and their place), so a given
 * seed gives the same flow; only the interleaving with HTTP requests
 * depends on timing. The synthetic accounts' refusals (say, out of funds)
 * are ignored.
 *
 * Owner: whoever holds the server's state mutex.
 */
#include "sim/sim_internal.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <string.h>

#define FLOW_LEVELS 5
#define FLOW_SPACING_BPS 5

static uint64_t draw(struct ig__sim_market *m, uint64_t n)
{
	return ig__sim_rng(&m->flow.rng) % n;
}

/* Forgets market-maker orders that have left the book. */
static void prune(struct ig__sim_market *m)
{
	struct ig__sim_flow *f = &m->flow;
	uint32_t k = 0;

	for (uint32_t i = 0; i < f->nids; i++)
		if (ig_book_find(&m->book, f->ids[i]) != NULL)
			f->ids[k++] = f->ids[i];
	f->nids = k;
}

static void cancel_at(struct ig__sim_market *m, uint32_t i)
{
	struct ig__sim_flow *f = &m->flow;

	ig__sim_book_cancel(m, f->ids[i], NULL);
	memmove(&f->ids[i], &f->ids[i + 1], (size_t)(f->nids - i - 1) * sizeof(f->ids[0]));
	f->nids--;
}

static bool mm_has(struct ig__sim_market *m, enum ig_book_side side, int64_t px)
{
	for (uint32_t i = 0; i < m->flow.nids; i++) {
		const struct ig_book_order *o = ig_book_find(&m->book, m->flow.ids[i]);
		if (o != NULL && o->side == side && o->px == px)
			return true;
	}
	return false;
}

static void place(struct ig__sim_market *m, uint32_t account, enum ig_book_kind kind,
		  enum ig_book_side side, int64_t px, int64_t qty, int64_t counter_qty)
{
	struct ig__sim_flow *f = &m->flow;
	struct ig_book_req req;
	struct ig_book_result res;

	if (account == IG__SIM_ACCT_MM && f->nids == IG__SIM_FLOW_MAX_IDS)
		cancel_at(m, 0);
	memset(&req, 0, sizeof(req));
	req.order_id = m->s->next_order_id++;
	req.account = account;
	req.kind = kind;
	req.side = side;
	req.tif = IG_BOOK_GTC;
	req.px = px;
	req.qty = qty;
	req.counter_qty = counter_qty;
	req.ts_ms = ig__sim_now_ms();
	if (ig__sim_book_place(m, &req, &res) == 0 && res.rested && account == IG__SIM_ACCT_MM)
		f->ids[f->nids++] = req.order_id;
}

/* The ladder's i-th price (i >= 1) on side s: outward from the mid. */
static int64_t ladder_px(const struct ig__sim_market *m, enum ig_book_side side, int i)
{
	int64_t tick = m->book.tick, mid = m->flow.mid;
	int64_t off = (int64_t)((ig_i128)mid * i * FLOW_SPACING_BPS / 10000);

	if (off < tick)
		off = tick * i;
	if (side == IG_BOOK_BID)
		return ig_fixed_floor_step(mid - off, tick);
	return ig_fixed_floor_step(mid + off + tick - 1, tick);
}

/* 1..n times the minimum volume, within the maximum. */
static int64_t volume(struct ig__sim_market *m, uint64_t n)
{
	int64_t q = m->book.cfg.min_volume * (int64_t)(1 + draw(m, n));
	return q < m->book.cfg.max_volume ? q : m->book.cfg.max_volume;
}

static void quote(struct ig__sim_market *m)
{

	for (int i = 1; i <= FLOW_LEVELS; i++) {
		int64_t bid = ladder_px(m, IG_BOOK_BID, i), ask = ladder_px(m, IG_BOOK_ASK, i);
		if (bid >= m->book.cfg.min_price && !mm_has(m, IG_BOOK_BID, bid))
			place(m, IG__SIM_ACCT_MM, IG_BOOK_LIMIT, IG_BOOK_BID, bid, volume(m, 100), 0);
		if (ask <= m->book.cfg.max_price && !mm_has(m, IG_BOOK_ASK, ask))
			place(m, IG__SIM_ACCT_MM, IG_BOOK_LIMIT, IG_BOOK_ASK, ask, volume(m, 100), 0);
	}
}

void ig__sim_flow_init(struct ig__sim_market *m)
{
	struct ig__sim_flow *f = &m->flow;

	memset(f, 0, sizeof(*f));
	/* The first market draws from --seed as a single market did; each
	 * other from its own stream. */
	f->rng = m->s->cfg.seed + (uint64_t)m->index * UINT64_C(0x9e3779b97f4a7c15);
	f->mid = m->s->cfg.start_price;
	quote(m);
}

void ig__sim_flow_tick(struct ig__sim_market *m)
{
	struct ig__sim_flow *f = &m->flow;
	const struct ig_book_cfg *c = &m->book.cfg;
	int64_t d = (int64_t)draw(m, 61) - 30; /* tenths of a bp */
	int64_t lo = c->min_price * 2, hi = c->max_price / 2;
	int64_t far_bid, far_ask;

	f->ticks++;
	f->mid += (int64_t)((ig_i128)f->mid * d / 100000);
	f->mid = ig_fixed_floor_step(f->mid, m->book.tick);
	if (f->mid < lo)
		f->mid = ig_fixed_floor_step(lo, m->book.tick);
	if (f->mid > hi)
		f->mid = ig_fixed_floor_step(hi, m->book.tick);
	far_bid = ladder_px(m, IG_BOOK_BID, FLOW_LEVELS + 2);
	far_ask = ladder_px(m, IG_BOOK_ASK, FLOW_LEVELS + 2);

	prune(m);
	for (uint32_t i = 0; i < f->nids;) {
		const struct ig_book_order *o = ig_book_find(&m->book, f->ids[i]);
		bool stale = o->side == IG_BOOK_BID ? (o->px >= f->mid || o->px < far_bid)
						    : (o->px <= f->mid || o->px > far_ask);
		if (stale)
			cancel_at(m, i);
		else
			i++;
	}
	if (f->nids > 0 && draw(m, 8) == 0)
		cancel_at(m, (uint32_t)draw(m, f->nids));
	quote(m);

	if (draw(m, 4) == 0) {
		int64_t qty = volume(m, 40);
		if (draw(m, 2) == 0) {
			int64_t counter;
			if (ig_fixed_mul(f->mid, qty, &counter) == 0)
				place(m, IG__SIM_ACCT_TAKER, IG_BOOK_MARKET, IG_BOOK_BID, 0, 0, counter);
		} else {
			place(m, IG__SIM_ACCT_TAKER, IG_BOOK_MARKET, IG_BOOK_ASK, 0, qty, 0);
		}
	}
}

int ig__sim_flow_take(struct ig__sim_market *m, enum ig_book_side side, int64_t qty)
{
	int64_t counter;

	if (qty <= 0)
		return IG_EINVAL;
	if (side == IG_BOOK_ASK) {
		place(m, IG__SIM_ACCT_TAKER, IG_BOOK_MARKET, IG_BOOK_ASK, 0, qty, 0);
		return 0;
	}
	/* A market buy is sized by counter volume: qty at the mid plus 1%. */
	if (ig_fixed_mul(m->flow.mid + m->flow.mid / 100, qty, &counter) != 0)
		return IG_ERANGE;
	place(m, IG__SIM_ACCT_TAKER, IG_BOOK_MARKET, IG_BOOK_BID, 0, 0, counter);
	return 0;
}
