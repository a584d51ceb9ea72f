/* oms.c - the OMS/risk stage handler (see oms.h). */
#include "oms/oms.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdlib.h>
#include <string.h>

int ig_oms_init(struct ig_oms *oms, const struct ig_config *cfg, uint32_t strategy_threads)
{
	memset(oms, 0, sizeof(*oms));
	oms->cfg = cfg;
	oms->nstrategies = cfg->nstrategies;
	oms->feed_end_needed = 1 + strategy_threads;
	oms->s = calloc(cfg->nstrategies ? cfg->nstrategies : 1, sizeof(*oms->s));
	if (oms->s == NULL)
		return IG_ENOMEM;
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		if (ig_order_mgr_init(&s->om) != 0) {
			for (uint32_t j = 0; j < i; j++)
				ig_order_mgr_destroy(&oms->s[j].om);
			free(oms->s);
			oms->s = NULL;
			return IG_ENOMEM;
		}
		s->capital = cfg->strategies[i].capital;
		s->cash = s->capital;
		s->thread = cfg->strategies[i].thread;
		ig_risk_effective(&cfg->risk, &cfg->strategies[i].risk, &s->lim);
		ig_bucket_init(&s->bucket, s->lim.max_orders_per_sec);
	}
	ig_bucket_init(&oms->global_bucket, cfg->risk.max_orders_per_sec);
	return 0;
}

void ig_oms_destroy(struct ig_oms *oms)
{
	if (oms->s == NULL)
		return;
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		ig_order_mgr_destroy(&oms->s[i].om);
	free(oms->s);
	oms->s = NULL;
}

int64_t ig_oms_equity(const struct ig_oms *oms, uint32_t strategy)
{
	const struct ig_oms_strategy *s = &oms->s[strategy];
	int64_t eq = s->cash;
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
		eq += ig_pos_value(&s->pos[k]);
	return eq;
}

static void to_strategy(struct ig_oms *oms, struct ig_emit *out, uint16_t sid, struct ig_event *ev)
{
	ev->hdr.strategy_id = sid;
	ig_emit(out, IG_STAGE_STRATEGY, oms->s[sid].thread, ev);
}

static void reply_init(struct ig_event *ev, const struct ig_event *cause, enum ig_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.strategy_id = cause->hdr.strategy_id;
	ev->hdr.instrument_id = cause->hdr.instrument_id;
	ev->hdr.ts_origin_ns = cause->hdr.ts_origin_ns;
	ev->hdr.ts_event_ns = cause->hdr.ts_event_ns;
}

static void deny(struct ig_oms *oms, const struct ig_event *in, int reason, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_oms_strategy *s = &oms->s[in->hdr.strategy_id];

	reply_init(&ev, in, IG_EV_REJECT);
	ev.body.reject.client_id = in->body.order.client_id;
	ev.body.reject.px = in->body.order.px;
	ev.body.reject.qty = in->body.order.qty;
	ev.body.reject.side = in->body.order.side;
	ev.body.reject.reason = (uint16_t)reason;
	ev.body.reject.by_venue = 0;
	s->rejects[reason]++;
	ig_log_event(IG_LOG_INFO, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
}

static void send_update(struct ig_oms *oms, const struct ig_event *cause, struct ig_order_rec *r,
			uint8_t prev, uint8_t reason, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_order_update *u = &ev.body.update;

	reply_init(&ev, cause, IG_EV_ORDER_UPDATE);
	ev.hdr.instrument_id = r->instrument_id;
	u->client_id = r->client_id;
	u->venue_order_id = r->venue_order_id;
	u->filled_qty = r->filled_qty;
	u->leaves_qty = ig_order_terminal((enum ig_ord_state)r->state) ? 0 : r->qty - r->filled_qty;
	if (r->filled_qty > 0)
		ig_fixed_div(r->fill_notional, r->filled_qty, &u->avg_px);
	u->px = r->px;
	u->state = r->state;
	u->prev_state = prev;
	u->side = r->side;
	u->reason = reason;
	to_strategy(oms, out, cause->hdr.strategy_id, &ev);
}

/* Releases what an order still holds in the open-order totals. */
static void release_open(struct ig_oms_strategy *s, struct ig_order_rec *r)
{
	int64_t leaves = r->qty - r->filled_qty;
	if (r->side == IG_SIDE_BUY) {
		s->open_buy_qty[r->instrument_id] -= leaves;
		s->open_buy_notional -= r->reserved;
		r->reserved = 0;
	} else {
		s->open_sell_qty[r->instrument_id] -= leaves;
	}
}

/* Moves r to `to`, mirrors it, and retires it if terminal. */
static void move(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		 struct ig_order_rec *r, enum ig_ord_state to, uint8_t reason, struct ig_emit *out)
{
	uint8_t prev = r->state;
	if (ig_order_transition(&s->om, r, to) != 0) {
		ig_log_warn("illegal transition %s -> %s refused for order %016llx",
			    ig_ord_state_name((enum ig_ord_state)prev), ig_ord_state_name(to),
			    (unsigned long long)r->client_id);
		return;
	}
	if (ig_order_terminal(to) && to != IG_OS_FILLED)
		release_open(s, r);
	send_update(oms, cause, r, prev, reason, out);
	if (ig_order_terminal(to))
		ig_order_retire(&s->om, r);
}

static void on_order(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	const struct ig_order *o = &in->body.order;
	uint16_t in_id = in->hdr.instrument_id;
	struct ig_risk_view v;
	struct ig_order_rec *r;
	struct ig_event fwd;
	int reason;

	if (in->hdr.strategy_id >= oms->nstrategies || in_id >= IG_MAX_INSTRUMENTS)
		return;
	s = &oms->s[in->hdr.strategy_id];
	v.position_qty = s->pos[in_id].qty;
	v.open_buy_qty = s->open_buy_qty[in_id];
	v.open_sell_qty = s->open_sell_qty[in_id];
	v.open_buy_notional = s->open_buy_notional;
	v.cash = s->cash;
	v.open_orders = s->om.open;
	v.mark_px = oms->marks[in_id].px;
	/* Staleness needs a clock both sides share. Inline (backtests) that is
	 * data time. Threaded, the OMS may lag the strategy by many rows of a
	 * fast replay, so data time would flag lag, not a dead feed: there it
	 * is the monotonic ingress time of the mark and of the intent's tick. */
	v.mark_ts_ns = oms->data_clock ? oms->marks[in_id].ts_event_ns : oms->marks[in_id].ts_origin_ns;
	reason = ig_risk_check(&s->lim, o,
			       oms->data_clock ? in->hdr.ts_event_ns : in->hdr.ts_origin_ns, &v,
			       oms->cfg->venue.taker_fee_bps);
	if (reason == IG_RJ_NONE && !ig_bucket_take(&s->bucket, in->hdr.ts_event_ns))
		reason = IG_RJ_RATE_LIMIT;
	if (reason == IG_RJ_NONE && !ig_bucket_take(&oms->global_bucket, in->hdr.ts_event_ns))
		reason = IG_RJ_RATE_LIMIT;
	if (reason != IG_RJ_NONE) {
		deny(oms, in, reason, out);
		return;
	}
	r = ig_order_new(&s->om, o, in_id);
	if (r == NULL) {
		deny(oms, in, IG_RJ_MAX_OPEN_ORDERS, out);
		return;
	}
	r->ts_event_ns = in->hdr.ts_event_ns;
	r->ref_px = o->type == IG_ORD_LIMIT ? o->px : v.mark_px;
	if (o->side == IG_SIDE_BUY) {
		ig_fixed_mul(r->ref_px, o->qty, &r->reserved);
		s->open_buy_qty[in_id] += o->qty;
		s->open_buy_notional += r->reserved;
	} else {
		s->open_sell_qty[in_id] += o->qty;
	}
	ig_order_transition(&s->om, r, IG_OS_SUBMITTED);
	s->orders++;
	fwd = *in;
	ig_log_event(IG_LOG_INFO, &fwd);
	ig_emit(out, IG_STAGE_EXEC, 0, &fwd);
	send_update(oms, in, r, IG_OS_INITIALIZED, 0, out);
}

static void on_cancel(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	struct ig_event fwd;

	if (in->hdr.strategy_id >= oms->nstrategies)
		return;
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, in->body.cancel.client_id);
	if (r == NULL) {
		struct ig_event ev;
		reply_init(&ev, in, IG_EV_REJECT);
		ev.body.reject.client_id = in->body.cancel.client_id;
		ev.body.reject.reason = IG_RJ_UNKNOWN_ORDER;
		s->rejects[IG_RJ_UNKNOWN_ORDER]++;
		to_strategy(oms, out, in->hdr.strategy_id, &ev);
		return;
	}
	if (r->state == IG_OS_PENDING_CANCEL)
		return; /* already asked */
	s->cancels++;
	move(oms, s, in, r, IG_OS_PENDING_CANCEL, 0, out);
	fwd = *in;
	fwd.hdr.instrument_id = r->instrument_id;
	ig_emit(out, IG_STAGE_EXEC, 0, &fwd);
}

static void send_position(struct ig_oms *oms, const struct ig_event *cause,
			  struct ig_oms_strategy *s, uint16_t in_id, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_position *p = &ev.body.position;

	reply_init(&ev, cause, IG_EV_POSITION);
	ev.hdr.instrument_id = in_id;
	p->qty = s->pos[in_id].qty;
	p->avg_px = s->pos[in_id].avg_px;
	p->realized_pnl = s->pos[in_id].realized_pnl;
	p->fees = s->pos[in_id].fees;
	p->cash = s->cash;
	p->open_buy_qty = s->open_buy_qty[in_id];
	p->open_sell_qty = s->open_sell_qty[in_id];
	to_strategy(oms, out, cause->hdr.strategy_id, &ev);
}

static void on_fill(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	const struct ig_fill *f = &in->body.fill;
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	int64_t leaves, notional, new_reserved;
	struct ig_event ev;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, f->client_id);
	leaves = r != NULL ? r->qty - r->filled_qty : 0;
	if (r == NULL || f->trade_id <= r->last_trade_id || f->qty <= 0 || f->qty > leaves ||
	    f->side != r->side || f->px <= 0) {
		s->refused_fills++;
		ig_log_warn("fill refused (%s): order %016llx trade %llu qty %lld",
			    r == NULL                      ? "unknown order"
			    : f->trade_id <= r->last_trade_id ? "duplicate trade id"
			    : f->qty > leaves              ? "overfill"
							   : "malformed",
			    (unsigned long long)f->client_id, (unsigned long long)f->trade_id,
			    (long long)f->qty);
		return;
	}
	if (ig_pos_apply_fill(&s->pos[r->instrument_id], &s->cash, (enum ig_side)f->side, f->px,
			      f->qty, f->fee) != 0) {
		s->refused_fills++;
		ig_log_error("fill refused (arithmetic overflow): order %016llx",
			     (unsigned long long)f->client_id);
		return;
	}
	ig_fixed_mul(f->px, f->qty, &notional);
	r->filled_qty += f->qty;
	r->fill_notional += notional;
	r->fees += f->fee;
	r->last_trade_id = f->trade_id;
	if (r->side == IG_SIDE_BUY) {
		s->open_buy_qty[r->instrument_id] -= f->qty;
		ig_fixed_mul(r->ref_px, r->qty - r->filled_qty, &new_reserved);
		s->open_buy_notional -= r->reserved - new_reserved;
		r->reserved = new_reserved;
	} else {
		s->open_sell_qty[r->instrument_id] -= f->qty;
	}
	s->fills++;
	ev = *in;
	ev.hdr.instrument_id = r->instrument_id;
	ev.body.fill.last = r->filled_qty == r->qty;
	ig_log_event(IG_LOG_INFO, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
	send_position(oms, in, s, r->instrument_id, out);
	move(oms, s, in, r, r->filled_qty == r->qty ? IG_OS_FILLED : IG_OS_PARTIALLY_FILLED, 0, out);
}

static void on_update(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	const struct ig_order_update *u = &in->body.update;
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, u->client_id);
	if (r == NULL) {
		oms->unknown_reports++;
		return;
	}
	ig_order_set_venue_id(&s->om, r, u->venue_order_id);
	if (u->state == r->state)
		return;
	/* ACCEPTED after a partial fill or a cancel request adds nothing. */
	if (u->state == IG_OS_ACCEPTED && r->state != IG_OS_SUBMITTED && r->state != IG_OS_IN_DOUBT)
		return;
	move(oms, s, in, r, (enum ig_ord_state)u->state, u->reason, out);
}

static void on_venue_reject(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	struct ig_event ev;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, in->body.reject.client_id);
	if (r == NULL) {
		oms->unknown_reports++;
		return;
	}
	s->rejects[in->body.reject.reason < IG_RJ__COUNT ? in->body.reject.reason : IG_RJ_VENUE]++;
	ev = *in;
	ig_log_event(IG_LOG_INFO, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
	move(oms, s, in, r, IG_OS_REJECTED, (uint8_t)in->body.reject.reason, out);
}

static void status_line(struct ig_oms *oms)
{
	int64_t now = ig_clock_mono_ns();
	double secs;

	if (!oms->status_lines || now - oms->last_status_ns < 950000000)
		return;
	secs = oms->last_status_ns == 0 ? 1.0 : (double)(now - oms->last_status_ns) / 1e9;
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		char pnl[IG_FIXED_STRLEN], pos[IG_FIXED_STRLEN];
		int64_t realized = 0, unreal = 0, qty = 0;
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
			realized += s->pos[k].realized_pnl - s->pos[k].fees;
			unreal += ig_pos_unrealized(&s->pos[k]);
			qty += s->pos[k].qty;
		}
		ig_fixed_format(realized + unreal, pnl, sizeof(pnl));
		ig_fixed_format(qty, pos, sizeof(pos));
		ig_log_info("status %s: %.0f events/s, orders=%llu fills=%llu position=%s pnl=%s",
			    oms->cfg->strategies[i].name,
			    (double)(oms->events - oms->last_status_events) / secs,
			    (unsigned long long)s->orders, (unsigned long long)s->fills, pos, pnl);
	}
	oms->last_status_events = oms->events;
	oms->last_status_ns = now;
}

void ig_oms_handle(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	oms->events++;
	switch (in->hdr.type) {
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR: {
		uint16_t k = in->hdr.instrument_id;
		int64_t px = in->hdr.type == IG_EV_QUOTE
				     ? (in->body.quote.bid_px + in->body.quote.ask_px) / 2
			     : in->hdr.type == IG_EV_TRADE ? in->body.trade.px
							   : in->body.bar.close_px;
		oms->md_events++;
		if (k < IG_MAX_INSTRUMENTS) {
			oms->marks[k].px = px;
			oms->marks[k].ts_event_ns = in->hdr.ts_event_ns;
			oms->marks[k].ts_origin_ns = in->hdr.ts_origin_ns;
			for (uint32_t i = 0; i < oms->nstrategies; i++)
				oms->s[i].pos[k].mark_px = px;
		}
		return;
	}
	case IG_EV_TIMER:
		status_line(oms);
		return;
	case IG_EV_ORDER:
		on_order(oms, in, out);
		return;
	case IG_EV_CANCEL:
		on_cancel(oms, in, out);
		return;
	case IG_EV_FILL:
		on_fill(oms, in, out);
		return;
	case IG_EV_ORDER_UPDATE:
		on_update(oms, in, out);
		return;
	case IG_EV_REJECT:
		on_venue_reject(oms, in, out);
		return;
	case IG_EV_CONTROL:
		if (in->body.control.cmd == IG_CTL_FEED_END) {
			if (in->hdr.src == IG_STAGE_EXEC) {
				oms->exec_drained = true;
			} else if (++oms->feed_end_seen == oms->feed_end_needed) {
				struct ig_event ev = *in;
				ig_emit(out, IG_STAGE_EXEC, 0, &ev);
			}
		}
		return;
	default:
		return;
	}
}
