/* paper.c - in-process paper venue (see paper.h). */
#include "exec/paper.h"

#include "exec/venue.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ig_paper_init(struct ig_paper *p, int64_t maker_fee_bps, int64_t taker_fee_bps)
{
	memset(p, 0, sizeof(*p));
	p->orders = calloc(IG_PAPER_MAX_ORDERS, sizeof(*p->orders));
	if (p->orders == NULL)
		return IG_ENOMEM;
	p->maker_fee_bps = maker_fee_bps;
	p->taker_fee_bps = taker_fee_bps;
	p->next_order_id = 1;
	p->next_trade_id = 1;
	return 0;
}

void ig_paper_destroy(struct ig_paper *p)
{
	free(p->orders);
	p->orders = NULL;
}

static void send_state(const struct ig_paper_order *po, enum ig_ord_state st, struct ig_emit *out)
{
	struct ig_event ev;
	ig_event_reply_init(&ev, &po->ev, IG_EV_ORDER_UPDATE);
	ev.body.update.client_id = po->ev.body.order.client_id;
	ev.body.update.venue_order_id = po->venue_order_id;
	ev.body.update.state = (uint8_t)st;
	ev.body.update.side = po->ev.body.order.side;
	ev.body.update.leaves_qty = po->leaves_qty;
	ev.body.update.filled_qty = po->ev.body.order.qty - po->leaves_qty;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}

static void send_reject(struct ig_paper *p, const struct ig_event *order, int reason,
			struct ig_emit *out)
{
	p->rejects++;
	ig_venue_reject(order, reason, true, out);
}

/* Fills up to qty of po at px; returns the quantity filled. */
static int64_t fill(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		    int64_t px, int64_t qty, bool maker, struct ig_emit *out)
{
	struct ig_event ev;
	int64_t notional = 0, fee = 0;

	if (qty > po->leaves_qty)
		qty = po->leaves_qty;
	if (qty <= 0)
		return 0;
	ig_fixed_mul(px, qty, &notional);
	ig_fixed_bps(notional, maker ? p->maker_fee_bps : p->taker_fee_bps, &fee);
	po->leaves_qty -= qty;
	ig_event_reply_init(&ev, &po->ev, IG_EV_FILL);
	/* A fill caused by new market data carries that tick's origin. */
	if (cause != NULL)
		ev.hdr.ts_origin_ns = cause->hdr.ts_origin_ns;
	ev.body.fill.client_id = po->ev.body.order.client_id;
	ev.body.fill.venue_order_id = po->venue_order_id;
	ev.body.fill.trade_id = p->next_trade_id++;
	ev.body.fill.px = px;
	ev.body.fill.qty = qty;
	ev.body.fill.fee = fee;
	ev.body.fill.side = po->ev.body.order.side;
	ev.body.fill.liquidity = maker ? IG_LIQ_MAKER : IG_LIQ_TAKER;
	ev.body.fill.last = po->leaves_qty == 0;
	p->fills++;
	if (po->ev.hdr.strategy_id < IG_MAX_STRATEGIES) {
		struct ig_paper_ledger *l = &p->ledger[po->ev.hdr.strategy_id];
		bool buy = po->ev.body.order.side == IG_SIDE_BUY;
		l->net_qty[po->ev.hdr.instrument_id] += buy ? qty : -qty;
		l->cash_delta += (buy ? -notional : notional) - fee;
		l->fees += fee;
		l->fills++;
	}
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
	return qty;
}

static void finish(struct ig_paper *p, struct ig_paper_order *po)
{
	po->live = false;
	p->live--;
	while (p->norders > 0 && !p->orders[p->norders - 1].live)
		p->norders--;
}

/* True if po is a market buy with a cap (its px: the most the OMS reserved
 * for) and the touch is above it: what is left of it cannot fill now. */
static bool capped_out(const struct ig_paper *p, const struct ig_paper_order *po)
{
	const struct ig_order *o = &po->ev.body.order;
	int64_t ask = p->books[po->ev.hdr.instrument_id].ask_px;
	return o->type == IG_ORD_MARKET && o->side == IG_SIDE_BUY && o->px > 0 && ask != 0 &&
	       ask > o->px;
}

/* Takes liquidity at the touch for a marketable order. */
static void take(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		 struct ig_emit *out)
{
	struct ig_paper_book *b = &p->books[po->ev.hdr.instrument_id];
	bool buy = po->ev.body.order.side == IG_SIDE_BUY;
	int64_t touch = buy ? b->ask_px : b->bid_px;
	int64_t *avail = buy ? &b->ask_avail : &b->bid_avail;
	int64_t got;

	if (touch == 0)
		return;
	/* A limit order takes up to its price; so does a market buy that came
	 * with one (the most the OMS reserved for: it waits for the market
	 * to come back rather than pay more). */
	if ((po->ev.body.order.type == IG_ORD_LIMIT ||
	     (buy && po->ev.body.order.px > 0)) &&
	    (buy ? touch > po->ev.body.order.px : touch < po->ev.body.order.px))
		return;
	got = fill(p, po, cause, touch, *avail, false, out);
	*avail -= got;
}

void ig_paper_submit(struct ig_paper *p, const struct ig_event *order, struct ig_emit *out)
{
	const struct ig_order *o = &order->body.order;
	struct ig_paper_book *b;
	struct ig_paper_order *po = NULL;
	bool buy = o->side == IG_SIDE_BUY, marketable;

	if (order->hdr.instrument_id >= IG_MAX_INSTRUMENTS ||
	    (o->type != IG_ORD_MARKET && o->type != IG_ORD_LIMIT)) {
		send_reject(p, order, IG_RJ_VENUE, out);
		return;
	}
	b = &p->books[order->hdr.instrument_id];
	for (uint32_t i = 0; i < IG_PAPER_MAX_ORDERS; i++) {
		if (!p->orders[i].live) {
			po = &p->orders[i];
			if (i + 1 > p->norders)
				p->norders = i + 1;
			break;
		}
	}
	if (po == NULL) {
		send_reject(p, order, IG_RJ_VENUE, out);
		return;
	}
	marketable = o->type == IG_ORD_MARKET ||
		     (buy ? (b->ask_px != 0 && b->ask_px <= o->px) : (b->bid_px != 0 && b->bid_px >= o->px));
	if (marketable && (o->flags & IG_ORDF_POST_ONLY)) {
		send_reject(p, order, IG_RJ_VENUE_POST_ONLY, out);
		return;
	}
	/* Fill-or-kill: all of it now at the touch, or nothing. */
	if (o->tif == IG_TIF_FOK && (!marketable || (buy ? b->ask_avail : b->bid_avail) < o->qty)) {
		memset(po, 0, sizeof(*po));
		po->ev = *order;
		po->venue_order_id = p->next_order_id++;
		po->leaves_qty = o->qty;
		send_state(po, IG_OS_ACCEPTED, out);
		send_state(po, IG_OS_EXPIRED, out);
		return;
	}
	memset(po, 0, sizeof(*po));
	po->ev = *order;
	po->venue_order_id = p->next_order_id++;
	po->leaves_qty = o->qty;
	po->live = true;
	p->live++;
	send_state(po, IG_OS_ACCEPTED, out);
	if (marketable)
		take(p, po, NULL, out);
	if (po->leaves_qty == 0) {
		finish(p, po);
		return;
	}
	/* A capped market buy whose cap the touch is above ends as Luno's IOC
	 * bid at that price would: the rest cancelled. */
	if (o->tif == IG_TIF_IOC || o->tif == IG_TIF_FOK || capped_out(p, po)) {
		send_state(po, IG_OS_CANCELED, out);
		finish(p, po);
	}
}

void ig_paper_cancel(struct ig_paper *p, const struct ig_event *cancel, struct ig_emit *out)
{
	for (uint32_t i = 0; i < p->norders; i++) {
		struct ig_paper_order *po = &p->orders[i];
		if (po->live && po->ev.hdr.strategy_id == cancel->hdr.strategy_id &&
		    po->ev.body.order.client_id == cancel->body.cancel.client_id) {
			send_state(po, IG_OS_CANCELED, out);
			finish(p, po);
			return;
		}
	}
	/* Unknown or already finished: the fill or cancel that finished it is
	 * already on its way to the OMS, which resolves the race. */
}

void ig_paper_market_data(struct ig_paper *p, const struct ig_event *md, struct ig_emit *out)
{
	struct ig_paper_book *b;
	uint16_t k = md->hdr.instrument_id;
	int64_t lo, hi;

	if (k >= IG_MAX_INSTRUMENTS)
		return;
	b = &p->books[k];
	switch (md->hdr.type) {
	case IG_EV_QUOTE:
		b->bid_px = md->body.quote.bid_px;
		b->ask_px = md->body.quote.ask_px;
		b->bid_avail = md->body.quote.bid_qty;
		b->ask_avail = md->body.quote.ask_qty;
		b->from_trades = false;
		lo = b->bid_px;
		hi = b->ask_px;
		break;
	case IG_EV_TRADE:
		b->bid_px = b->ask_px = md->body.trade.px;
		b->bid_avail = b->ask_avail = md->body.trade.qty;
		b->from_trades = true;
		lo = hi = md->body.trade.px;
		break;
	case IG_EV_BAR:
		b->bid_px = b->ask_px = md->body.bar.close_px;
		b->bid_avail = b->ask_avail = md->body.bar.volume;
		b->from_trades = true;
		lo = md->body.bar.low_px;
		hi = md->body.bar.high_px;
		break;
	default:
		return;
	}
	for (uint32_t i = 0; i < p->norders; i++) {
		struct ig_paper_order *po = &p->orders[i];
		const struct ig_order *o;
		bool buy;
		if (!po->live || po->ev.hdr.instrument_id != k)
			continue;
		o = &po->ev.body.order;
		buy = o->side == IG_SIDE_BUY;
		if (capped_out(p, po)) {
			send_state(po, IG_OS_CANCELED, out);
			finish(p, po);
			continue;
		}
		if (o->type == IG_ORD_MARKET) {
			take(p, po, md, out);
		} else {
			/* Resting limit: the market came through our price. For
			 * quotes, the opposite touch reached it; for trades and
			 * bars, the price traded through it. */
			bool crossed = b->from_trades ? (buy ? lo < o->px : hi > o->px)
						      : (buy ? hi <= o->px : lo >= o->px);
			int64_t *avail = buy ? &b->ask_avail : &b->bid_avail;
			if (crossed)
				*avail -= fill(p, po, md, o->px, *avail, true, out);
		}
		if (po->leaves_qty == 0)
			finish(p, po);
	}
}

/* ------------------------------------------------------ registry entry */

static void op_submit(void *v, const struct ig_event *order, struct ig_emit *out)
{
	ig_paper_submit(v, order, out);
}

static void op_cancel(void *v, const struct ig_event *cancel, struct ig_emit *out)
{
	ig_paper_cancel(v, cancel, out);
}

static void op_md(void *v, const struct ig_event *md, struct ig_emit *out)
{
	ig_paper_market_data(v, md, out);
}

static void op_destroy(void *v)
{
	ig_paper_destroy(v);
	free(v);
}

static const struct ig_venue_ops paper_ops = {
	.name = "paper",
	.wants_md = true,
	.submit = op_submit,
	.cancel = op_cancel,
	.market_data = op_md,
	.destroy = op_destroy,
};

/* Makes a paper venue with the config's fees. Returns 0 or IG_ENOMEM. */
static int paper_create(const struct ig_config *cfg, void **venue, char *err, size_t errlen)
{
	struct ig_paper *p = malloc(sizeof(*p));
	int rc;

	*venue = NULL;
	rc = p != NULL ? ig_paper_init(p, cfg->venue.maker_fee_bps, cfg->venue.taker_fee_bps)
		       : IG_ENOMEM;
	if (rc != 0) {
		free(p);
		snprintf(err, errlen, "venue: out of memory");
		return rc;
	}
	*venue = p;
	return 0;
}

const struct ig_venue_type ig_paper_venue_type = {
	.name = "paper",
	.live = false,
	.create = paper_create,
	.ops = &paper_ops,
};
