/*
 * inventory_maker.c - a market maker that skews its quotes by inventory,
 * on quotes.
 *
 * It rests one bid and one ask around the mid, half_spread_bps away on
 * each side, and shifts both by skew_bps x (position / max_position): the
 * more it holds, the lower it quotes, so its ask gets hit sooner and its
 * bid later, and inventory drifts back toward zero. Quotes never cross the
 * touch (a bid at most the best bid, an ask at least the best ask), prices
 * are rounded to `tick` away from the mid, it bids only while position +
 * open buys stay under max_position, and it offers only what it holds (a
 * spot account). A resting order that drifts more than requote_bps from
 * where it should be is cancelled; the next quote after the venue confirms
 * the cancel places the fresh one. Integer arithmetic throughout.
 *
 * Params: qty (default 0.01), half_spread_bps (default 10), skew_bps
 * (default 20), max_position (default 0.1), requote_bps (default 5), tick
 * (default 0.01).
 */
#include <ingenium/error.h>
#include <ingenium/strategy.h>

#include <stdio.h>

struct quote_side {
	uint64_t id;      /* working order, 0 = none */
	int64_t px;       /* its price, 1e-8 */
	bool cancelling;  /* cancel sent, waiting for the venue */
};

struct inv_maker {
	int64_t qty, max_position, tick;           /* 1e-8 */
	int64_t half_spread_bps, skew_bps, requote_bps;
	struct quote_side bid, ask;
	uint64_t requotes;
};

static const struct ig_param_decl im_params[] = {
	{ "qty", IG_PARAM_DECIMAL, "0.01", "0.00000001", NULL, NULL, "size of each quote, base units" },
	{ "half_spread_bps", IG_PARAM_INT, "10", "0", "5000", NULL, "distance of each quote from the mid" },
	{ "skew_bps", IG_PARAM_INT, "20", "0", "5000", NULL, "shift of both quotes at max_position" },
	{ "max_position", IG_PARAM_DECIMAL, "0.1", "0.00000001", NULL, NULL, "largest inventory it bids for" },
	{ "requote_bps", IG_PARAM_INT, "5", "1", "5000", NULL, "drift that makes it cancel and requote" },
	{ "tick", IG_PARAM_DECIMAL, "0.01", "0.00000001", NULL, NULL, "price increment of the venue" },
	IG_PARAM_END,
};

static int im_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		   char *err, size_t errlen)
{
	struct inv_maker *s = state;
	int rc;

	(void)ctx;
	if ((rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "half_spread_bps", &s->half_spread_bps, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "skew_bps", &s->skew_bps, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "max_position", &s->max_position, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "requote_bps", &s->requote_bps, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "tick", &s->tick, err, errlen)) != 0)
		return rc;
	if (s->max_position < s->qty) {
		snprintf(err, errlen, "max_position must be at least qty");
		return IG_ECONFIG;
	}
	return 0;
}

/* Where a quote should be: mid moved by -bps (bid) or +bps (ask), rounded
 * to the tick away from the mid. 0 if the arithmetic overflows. */
static int64_t quote_px(const struct inv_maker *s, int64_t mid, int64_t bps, bool bid)
{
	int64_t off, px;

	if (ig_fixed_bps(mid, bps, &off) != 0)
		return 0;
	px = bid ? mid - off : mid + off;
	if (px <= 0)
		return 0;
	if (bid)
		return ig_fixed_floor_step(px, s->tick);
	off = ig_fixed_floor_step(px, s->tick);
	return off == px ? px : off + s->tick;
}

/* Keeps one side's order at px (0 = no order wanted on that side). */
static void keep(struct inv_maker *s, struct ig_strategy_ctx *ctx, uint16_t in, struct quote_side *q,
		 enum ig_side side, int64_t px, int64_t qty, int64_t mid)
{
	int64_t drift, limit;

	if (q->cancelling)
		return; /* the venue has not confirmed yet */
	if (q->id != 0) {
		drift = q->px > px ? q->px - px : px - q->px;
		if (ig_fixed_bps(mid, s->requote_bps, &limit) != 0)
			return;
		if (px == 0 || drift > limit) {
			ig_ctx_cancel(ctx, q->id);
			q->cancelling = true;
			s->requotes++;
		}
		return;
	}
	if (px == 0 || qty <= 0)
		return;
	q->id = ig_ctx_limit(ctx, in, side, px, qty, IG_TIF_GTC);
	q->px = px;
}

static void im_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct inv_maker *s = state;
	const struct ig_quote *qt = &ev->body.quote;
	uint16_t in = ev->hdr.instrument_id;
	const struct ig_position *pos = ig_ctx_position(ctx, in);
	int64_t mid, held, skew, bid_px, ask_px, sell_qty;

	if (qt->bid_px <= 0 || qt->ask_px <= qt->bid_px)
		return;
	mid = qt->bid_px + (qt->ask_px - qt->bid_px) / 2;
	/* skew_bps * position / max_position, in whole bps, positive when long
	 * (quote lower). The position is clamped to +-2 max_position first, so
	 * the product stays far inside int64 (skew_bps <= 5000). */
	held = pos->qty > 2 * s->max_position ? 2 * s->max_position
	       : pos->qty < -2 * s->max_position ? -2 * s->max_position : pos->qty;
	skew = s->skew_bps * held / s->max_position;
	bid_px = quote_px(s, mid, s->half_spread_bps + skew, true);
	ask_px = quote_px(s, mid, s->half_spread_bps - skew, false);
	if (bid_px > qt->bid_px)
		bid_px = qt->bid_px;
	if (ask_px != 0 && ask_px < qt->ask_px)
		ask_px = qt->ask_px;
	if (pos->qty + ig_ctx_pending_qty(ctx, in, IG_SIDE_BUY) + s->qty > s->max_position && s->bid.id == 0)
		bid_px = 0;
	sell_qty = pos->qty - (s->ask.id != 0 ? 0 : ig_ctx_pending_qty(ctx, in, IG_SIDE_SELL));
	if (sell_qty > s->qty)
		sell_qty = s->qty;
	keep(s, ctx, in, &s->bid, IG_SIDE_BUY, bid_px, s->qty, mid);
	keep(s, ctx, in, &s->ask, IG_SIDE_SELL, sell_qty > 0 ? ask_px : 0, sell_qty, mid);
}

/* Forgets a side whose order has finished. */
static void finished(struct inv_maker *s, uint64_t id)
{
	struct quote_side *q = id == s->bid.id ? &s->bid : id == s->ask.id ? &s->ask : NULL;
	if (q != NULL)
		*q = (struct quote_side){ 0, 0, false };
}

static void im_update(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	const struct ig_order_update *u = &ev->body.update;
	(void)ctx;
	switch (u->state) {
	case IG_OS_FILLED:
	case IG_OS_CANCELED:
	case IG_OS_REJECTED:
	case IG_OS_EXPIRED:
	case IG_OS_DENIED:
		finished(state, u->client_id);
		break;
	default:
		break;
	}
}

static void im_reject(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)ctx;
	finished(state, ev->body.reject.client_id);
}

static void im_stop(void *state, struct ig_strategy_ctx *ctx)
{
	struct inv_maker *s = state;
	if (s->bid.id != 0)
		ig_ctx_cancel(ctx, s->bid.id);
	if (s->ask.id != 0)
		ig_ctx_cancel(ctx, s->ask.id);
	ig_ctx_log(ctx, "inventory_maker: %llu requotes", (unsigned long long)s->requotes);
}

static const struct ig_strategy_type im_type = {
	.name = "inventory_maker",
	.state_size = sizeof(struct inv_maker),
	.init = im_init,
	.on_quote = im_quote,
	.on_order_update = im_update,
	.on_reject = im_reject,
	.on_stop = im_stop,
	.params = im_params,
	.doc = "market maker: one bid and one ask around the mid, skewed by inventory",
};

IG_STRATEGY_PLUGIN(im_type);
