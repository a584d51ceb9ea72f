/*
 * maker_strategy.c - a passive quoter: one resting limit order per side.
 *
 * Params: qty (decimal, default 0.001), offset_bps (int, default 5: how far
 * behind the touch to quote), requote_bps (int, default 20: how far the
 * market may move from a resting order before it is cancelled and placed
 * again), max_position (decimal, default 5 x qty).
 *
 * It bids at bid - offset while position + open buys stays under
 * max_position, and offers at ask + offset only what it holds (a spot
 * account cannot sell what it does not own). A resting order that the
 * market has left behind by more than requote_bps is cancelled; the next
 * quote after the cancel is confirmed places a fresh one. So it shows the
 * whole lifecycle: resting orders, partial fills as the market trades
 * through them, cancels and replacements.
 */
#include "ingenium/error.h"
#include "ingenium/strategy.h"

#include <stdio.h>
#include <string.h>

struct side_state {
	uint64_t id;        /* working order, 0 = none */
	int64_t px;         /* its limit price, 1e-8 */
	bool cancelling;    /* cancel sent, waiting for the venue */
};

struct maker_state {
	int64_t qty;          /* 1e-8 */
	int64_t offset_bps;
	int64_t requote_bps;
	int64_t max_position; /* 1e-8 */
	struct side_state bid;
	struct side_state ask;
};

static int maker_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		      char *err, size_t errlen)
{
	struct maker_state *s = state;
	int rc;

	(void)ctx;
	s->qty = IG_FIXED(1) / 1000;
	s->offset_bps = 5;
	s->requote_bps = 20;
	s->max_position = 0;
	if ((rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0 && rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_i64(cfg, "offset_bps", &s->offset_bps, err, errlen)) != 0 && rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_i64(cfg, "requote_bps", &s->requote_bps, err, errlen)) != 0 &&
	    rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_fixed(cfg, "max_position", &s->max_position, err, errlen)) != 0 &&
	    rc != IG_ENOTFOUND)
		return rc;
	if (s->max_position == 0)
		s->max_position = 5 * s->qty;
	if (s->qty <= 0 || s->offset_bps < 0 || s->requote_bps <= 0 || s->max_position < s->qty) {
		snprintf(err, errlen, "need qty > 0, offset_bps >= 0, requote_bps > 0, max_position >= qty");
		return IG_ECONFIG;
	}
	return 0;
}

/* Keeps one side quoted at target px (0 = this side should be empty). */
static void keep(struct maker_state *s, struct ig_strategy_ctx *ctx, uint16_t instr,
		 struct side_state *side, enum ig_side dir, int64_t target, int64_t qty, int64_t mid)
{
	int64_t band = 0;

	if (side->id != 0) {
		ig_fixed_bps(mid, s->requote_bps, &band);
		if (!side->cancelling && (target == 0 || side->px - target > band || target - side->px > band)) {
			side->cancelling = true;
			ig_ctx_cancel(ctx, side->id);
		}
		return;
	}
	if (target > 0 && qty > 0) {
		side->id = ig_ctx_limit(ctx, instr, dir, target, qty, IG_TIF_GTC);
		side->px = target;
		side->cancelling = false;
	}
}

static void maker_on_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct maker_state *s = state;
	const struct ig_quote *q = &ev->body.quote;
	uint16_t k = ev->hdr.instrument_id;
	const struct ig_position *p = ig_ctx_position(ctx, k);
	int64_t mid = (q->bid_px + q->ask_px) / 2, off = 0, bid_px, ask_px, room, held;

	if (q->bid_px <= 0 || q->ask_px <= 0)
		return;
	ig_fixed_bps(mid, s->offset_bps, &off);
	bid_px = q->bid_px - off;
	ask_px = q->ask_px + off;
	room = s->max_position - p->qty - ig_ctx_pending_qty(ctx, k, IG_SIDE_BUY);
	held = p->qty - ig_ctx_pending_qty(ctx, k, IG_SIDE_SELL);
	keep(s, ctx, k, &s->bid, IG_SIDE_BUY, room >= s->qty ? bid_px : 0, s->qty, mid);
	/* Offer what is held, but not dust a venue would refuse (under half a lot). */
	keep(s, ctx, k, &s->ask, IG_SIDE_SELL, held >= s->qty / 2 ? ask_px : 0, held < s->qty ? held : s->qty,
	     mid);
}

static void forget(struct maker_state *s, uint64_t client_id)
{
	if (s->bid.id == client_id)
		memset(&s->bid, 0, sizeof(s->bid));
	if (s->ask.id == client_id)
		memset(&s->ask, 0, sizeof(s->ask));
}

static void maker_on_update(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	const struct ig_order_update *u = &ev->body.update;
	(void)ctx;
	switch (u->state) {
	case IG_OS_FILLED:
	case IG_OS_CANCELED:
	case IG_OS_REJECTED:
	case IG_OS_EXPIRED:
	case IG_OS_DENIED:
		forget(state, u->client_id);
		break;
	default:
		break;
	}
}

static void maker_on_reject(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)ctx;
	forget(state, ev->body.reject.client_id);
}

static const struct ig_param_decl maker_params[] = {
	{ "qty", IG_PARAM_DECIMAL, "0.001", "0.00000001", NULL, NULL, "size of each quote (base units)" },
	{ "offset_bps", IG_PARAM_INT, "5", "0", "10000", NULL, "how far behind the touch to quote" },
	{ "requote_bps", IG_PARAM_INT, "20", "1", "10000", NULL,
	  "how far the market may move from a resting order before it is replaced" },
	{ "max_position", IG_PARAM_DECIMAL, "0", "0", NULL, NULL,
	  "largest long position to quote towards; 0 = 5 x qty" },
	IG_PARAM_END,
};

const struct ig_strategy_type ig_maker_strategy = {
	.name = "maker",
	.doc = "passive quoter: one resting limit order per side, replaced when the market moves away",
	.params = maker_params,
	.state_size = sizeof(struct maker_state),
	.init = maker_init,
	.on_quote = maker_on_quote,
	.on_order_update = maker_on_update,
	.on_reject = maker_on_reject,
};
