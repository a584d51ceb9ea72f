/* risk.c - pre-trade checks and the order-rate token bucket. */
#include "oms/risk.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#define UNSET IG_RISK_UNSET

void ig_bucket_init(struct ig_bucket *b, int64_t rate_per_s)
{
	b->rate_per_s = rate_per_s;
	b->tokens_e9 = rate_per_s == UNSET ? 0 : rate_per_s * 1000000000;
	b->last_ns = INT64_MIN;
}

bool ig_bucket_take(struct ig_bucket *b, int64_t now_ns)
{
	int64_t cap;
	if (b->rate_per_s == UNSET)
		return true;
	cap = b->rate_per_s * 1000000000;
	if (b->last_ns == INT64_MIN || now_ns - b->last_ns >= 1000000000) {
		b->tokens_e9 = cap;
	} else if (now_ns > b->last_ns) {
		/* rate tokens per second = rate per ns * 1e9 nanotokens */
		b->tokens_e9 += (now_ns - b->last_ns) * b->rate_per_s;
		if (b->tokens_e9 > cap)
			b->tokens_e9 = cap;
	}
	if (now_ns > b->last_ns)
		b->last_ns = now_ns;
	if (b->tokens_e9 < 1000000000)
		return false;
	b->tokens_e9 -= 1000000000;
	return true;
}

static int64_t pick(int64_t g, int64_t o)
{
	return o != UNSET ? o : g;
}

void ig_risk_effective(const struct ig_cfg_risk *g, const struct ig_cfg_risk *o,
		       struct ig_cfg_risk *out)
{
	out->max_order_qty = pick(g->max_order_qty, o->max_order_qty);
	out->max_order_notional = pick(g->max_order_notional, o->max_order_notional);
	out->max_position_qty = pick(g->max_position_qty, o->max_position_qty);
	out->max_open_orders = pick(g->max_open_orders, o->max_open_orders);
	out->max_orders_per_sec = pick(g->max_orders_per_sec, o->max_orders_per_sec);
	out->price_collar_bps = pick(g->price_collar_bps, o->price_collar_bps);
	out->stale_data_ms = pick(g->stale_data_ms, o->stale_data_ms);
	out->daily_loss_limit = pick(g->daily_loss_limit, o->daily_loss_limit);
	out->max_drawdown_pct = pick(g->max_drawdown_pct, o->max_drawdown_pct);
	out->duplicate_window_ms = pick(g->duplicate_window_ms, o->duplicate_window_ms);
	out->tax_rate_pct = pick(g->tax_rate_pct, o->tax_rate_pct);
	out->drawdown_action = o->drawdown_action != IG_BREACH_INHERIT ? o->drawdown_action
								       : g->drawdown_action;
}

int64_t ig_risk_market_buy_px(int64_t ask_px, int64_t mark_px, int64_t market_buy_bps)
{
	int64_t ref = ask_px > 0 ? ask_px : mark_px, add = 0, px;
	if (ref <= 0)
		return 0;
	/* Saturates: the notional of such a price overflows and is refused. */
	if ((market_buy_bps > 0 && ig_fixed_bps(ref, market_buy_bps, &add) != 0) ||
	    __builtin_add_overflow(ref, add, &px))
		return INT64_MAX;
	return px;
}

int ig_risk_buy_cost(int64_t notional, int64_t fee_bps, int64_t min_fee, int64_t fee_per_order,
		     int64_t *cost)
{
	int64_t fee = 0;
	/* Checked: hostile sizes are refused, never wrapped. */
	if (ig_fixed_bps(notional, fee_bps, &fee) != 0)
		return IG_EOVERFLOW;
	if (min_fee > 0 && fee < min_fee)
		fee = min_fee;
	if (fee_per_order > 0 && __builtin_add_overflow(fee, fee_per_order, &fee))
		return IG_EOVERFLOW;
	if (__builtin_add_overflow(notional, fee, cost))
		return IG_EOVERFLOW;
	return 0;
}

int ig_risk_check(const struct ig_cfg_risk *lim, const struct ig_order *o, int64_t now_ns,
		  const struct ig_risk_view *v, int64_t buy_fee_bps)
{
	int64_t ref_px, notional;
	bool buy = o->side == IG_SIDE_BUY;

	if (o->qty <= 0 || (o->side != IG_SIDE_BUY && o->side != IG_SIDE_SELL))
		return IG_RJ_INVALID;
	if (lim->max_order_qty != UNSET && o->qty > lim->max_order_qty)
		return IG_RJ_MAX_ORDER_QTY;
	if (v->mark_px == 0)
		return IG_RJ_NO_MARK;
	if (lim->stale_data_ms != UNSET && now_ns - v->mark_ts_ns > lim->stale_data_ms * 1000000)
		return IG_RJ_STALE_DATA;
	/* Limit orders are valued at their price, market sells at the mark,
	 * market buys at the worst price they can be sent at. */
	ref_px = o->type == IG_ORD_LIMIT || o->type == IG_ORD_STOP_LIMIT ? o->px
		 : buy ? ig_risk_market_buy_px(v->ask_px, v->mark_px, v->market_buy_bps)
									 : v->mark_px;
	if (ig_fixed_mul(ref_px, o->qty, &notional) != 0)
		return IG_RJ_MAX_ORDER_NOTIONAL;
	if (lim->max_order_notional != UNSET && notional > lim->max_order_notional)
		return IG_RJ_MAX_ORDER_NOTIONAL;
	if (lim->price_collar_bps != UNSET && o->px > 0) {
		int64_t band;
		ig_fixed_bps(v->mark_px, lim->price_collar_bps, &band);
		if (o->px > v->mark_px + band || o->px < v->mark_px - band)
			return IG_RJ_PRICE_COLLAR;
	}
	if (lim->max_open_orders != UNSET && (int64_t)v->open_orders + 1 > lim->max_open_orders)
		return IG_RJ_MAX_OPEN_ORDERS;
	if (lim->max_position_qty != UNSET) {
		/* Worst case on this side: position plus everything open on it. */
		int64_t worst = buy ? v->position_qty + v->open_buy_qty + o->qty
				    : -(v->position_qty - v->open_sell_qty - o->qty);
		if (worst > lim->max_position_qty)
			return IG_RJ_MAX_POSITION;
	}
	if (buy) {
		/* Cash must cover this order, open buys and the fee (bps, at
		 * least min_fee, plus fee_per_order). */
		int64_t need, room;
		if (ig_risk_buy_cost(notional, buy_fee_bps, v->buy_min_fee, v->buy_fee_per_order,
				     &need) != 0 ||
		    __builtin_sub_overflow(v->cash, v->open_buy_notional, &room) || need > room)
			return IG_RJ_INSUFFICIENT_CASH;
	} else {
		/* Spot: sell only what we hold and have not already offered. */
		if (o->qty > v->position_qty - v->open_sell_qty)
			return IG_RJ_INSUFFICIENT_POSITION;
	}
	return IG_RJ_NONE;
}
