/*
 * oms_harness.c - the shared harness of the OMS stage-handler tests; see
 * oms_harness.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oms_harness.h"

#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <string.h>

/* What the running test bound, and the harness's own state. */
static struct {
	struct oh_bind b;
	bool oms_up;
	int64_t now_ns; /* data time of the latest mark or intent: reports carry it */
} oh_st;

struct ig_event oh_arg_ev;

static void oh_cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct oh_cap *c = (struct oh_cap *)(void *)e;
	if (c->n >= c->max)
		fail_msg("stage emitted more than %u events", c->max);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->it[c->n].idx = idx;
	c->n++;
}

int64_t oh_D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

int oh_setup(void **state)
{
	const struct oh_bind *b = *state;
	struct ig_config *cfg = b->cfg;
	assert_true(b->cap_max <= OH_CAP_MAX);
	oh_st.b = *b;
	ig_log_set_level(IG_LOG_ERROR);
	ig_config_defaults(cfg);
	snprintf(cfg->file, sizeof(cfg->file), "%s", b->file);
	cfg->feed.source = IG_FEED_SYNTHETIC;
	cfg->engine.threading = IG_THREADING_INLINE;
	cfg->engine.strategy_threads = 2;
	cfg->nstrategies = 2;
	for (uint32_t i = 0; i < 2; i++) {
		snprintf(cfg->strategies[i].name, IG_CFG_NAME_MAX, "s%u", i);
		snprintf(cfg->strategies[i].type, IG_CFG_NAME_MAX, "sma_cross");
		cfg->strategies[i].thread = i;
		cfg->strategies[i].capital = oh_D(b->capital);
	}
	cfg->venue.taker_fee_bps = 10;
	cfg->venue.maker_fee_bps = 0;
	memset(b->out, 0, sizeof(*b->out));
	b->out->emit.fn = oh_cap_fn;
	b->out->emit.src = IG_STAGE_OMS;
	b->out->emit.stamp = false;
	b->out->max = b->cap_max;
	oh_st.oms_up = false;
	oh_st.now_ns = b->t0_ns;
	return 0;
}

int oh_teardown(void **state)
{
	struct ig_oms *oms = oh_st.b.oms;
	(void)state;
	if (oh_st.oms_up) {
		if (oh_st.b.check_sanity)
			for (uint32_t i = 0; i < oms->nstrategies; i++)
				assert_true(ig_order_mgr_sanity(&oms->s[i].om));
		ig_oms_destroy(oms);
	}
	oh_st.oms_up = false;
	return 0;
}

void oh_start(void)
{
	assert_int_equal(ig_oms_init(oh_st.b.oms, oh_st.b.cfg, 2), 0);
	oh_st.b.oms->data_clock = true;
	oh_st.oms_up = true;
}

void oh_handle(struct ig_event *ev)
{
	oh_st.b.out->n = 0;
	ig_oms_handle(oh_st.b.oms, ev, &oh_st.b.out->emit);
}

int64_t oh_now_ns(void)
{
	return oh_st.now_ns;
}

void oh_quote(int64_t t_ms, const char *bid, const char *ask)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	oh_st.now_ns = oh_st.b.t0_ns + t_ms * OH_MS;
	ev.hdr.type = IG_EV_QUOTE;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_event_ns = oh_st.now_ns;
	ev.hdr.ts_origin_ns = 1000 + t_ms * OH_MS;
	ev.body.quote.bid_px = oh_D(bid);
	ev.body.quote.ask_px = oh_D(ask);
	ev.body.quote.bid_qty = oh_D("5");
	ev.body.quote.ask_qty = oh_D("5");
	oh_handle(&ev);
}

struct ig_event oh_ord(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
		       const char *px, const char *qty, int64_t t_ms)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	oh_st.now_ns = oh_st.b.t0_ns + t_ms * OH_MS;
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.src = IG_STAGE_STRATEGY;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = oh_st.now_ns;
	ev.hdr.ts_origin_ns = 1000 + t_ms * OH_MS;
	ev.body.order.client_id = cid;
	ev.body.order.side = (uint8_t)side;
	ev.body.order.type = (uint8_t)type;
	ev.body.order.px = px != NULL ? oh_D(px) : 0;
	ev.body.order.qty = oh_D(qty);
	return ev;
}

void oh_send_ok(const struct ig_event *evp, const char *no_reply)
{
	struct ig_event ev = *evp;
	const struct ig_event *rj;
	oh_handle(&ev);
	if (oh_exec_order(ev.body.order.client_id) != NULL)
		return;
	rj = oh_reject_for(ev.body.order.client_id);
	fail_msg("order %llu not forwarded (%s)", (unsigned long long)ev.body.order.client_id,
		 rj ? ig_reject_reason_name((enum ig_reject_reason)rj->body.reject.reason) : no_reply);
}

struct ig_event oh_fill_ev(int64_t t_ns, uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side,
			   const char *px, const char *qty, const char *fee)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_FILL;
	ev.hdr.src = IG_STAGE_EXEC;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = t_ns;
	ev.body.fill.client_id = cid;
	ev.body.fill.venue_order_id = 500 + cid;
	ev.body.fill.trade_id = trade_id;
	ev.body.fill.side = (uint8_t)side;
	ev.body.fill.px = oh_D(px);
	ev.body.fill.qty = oh_D(qty);
	ev.body.fill.fee = oh_D(fee);
	ev.body.fill.liquidity = IG_LIQ_TAKER;
	return ev;
}

void oh_fill_at(int64_t t_ns, uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side,
		const char *px, const char *qty, const char *fee)
{
	struct ig_oms *oms = oh_st.b.oms;
	uint64_t fills = oms->s[sid].fills;
	struct ig_event ev = oh_fill_ev(t_ns, sid, cid, trade_id, side, px, qty, fee);
	oh_handle(&ev);
	assert_int_equal(oms->s[sid].fills, fills + 1);
}

void oh_fill(uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side, const char *px,
	     const char *qty, const char *fee)
{
	oh_fill_at(oh_st.now_ns, sid, cid, trade_id, side, px, qty, fee);
}

void oh_venue_update_at(int64_t t_ns, uint16_t sid, uint64_t cid, enum ig_ord_state st)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER_UPDATE;
	ev.hdr.src = IG_STAGE_EXEC;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = t_ns;
	ev.body.update.client_id = cid;
	ev.body.update.venue_order_id = 500 + cid;
	ev.body.update.state = (uint8_t)st;
	oh_handle(&ev);
}

void oh_venue_update(uint16_t sid, uint64_t cid, enum ig_ord_state st)
{
	oh_venue_update_at(oh_st.now_ns, sid, cid, st);
}

void oh_cancel(uint16_t sid, uint64_t cid)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CANCEL;
	ev.hdr.src = IG_STAGE_STRATEGY;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = oh_st.now_ns;
	ev.body.cancel.client_id = cid;
	oh_handle(&ev);
}

uint32_t oh_n_to(enum ig_stage dst)
{
	const struct oh_cap *out = oh_st.b.out;
	uint32_t n = 0;
	for (uint32_t i = 0; i < out->n; i++)
		n += out->it[i].dst == dst;
	return n;
}

uint64_t oh_client_id(const struct ig_event *e)
{
	switch (e->hdr.type) {
	case IG_EV_ORDER:
		return e->body.order.client_id;
	case IG_EV_CANCEL:
		return e->body.cancel.client_id;
	case IG_EV_ORDER_UPDATE:
		return e->body.update.client_id;
	case IG_EV_REJECT:
		return e->body.reject.client_id;
	case IG_EV_FILL:
		return e->body.fill.client_id;
	default:
		return 0;
	}
}

const struct ig_event *oh_find(enum ig_stage dst, enum ig_event_type type, uint64_t cid)
{
	const struct oh_cap *out = oh_st.b.out;
	for (uint32_t i = 0; i < out->n; i++) {
		const struct ig_event *e = &out->it[i].ev;
		if (out->it[i].dst == dst && e->hdr.type == type && oh_client_id(e) == cid)
			return e;
	}
	return NULL;
}

const struct ig_event *oh_exec_order(uint64_t cid)
{
	return oh_find(IG_STAGE_EXEC, IG_EV_ORDER, cid);
}

const struct ig_event *oh_reject_for(uint64_t cid)
{
	return oh_find(IG_STAGE_STRATEGY, IG_EV_REJECT, cid);
}

const struct ig_event *oh_update_for(int32_t sid, uint64_t cid, enum ig_ord_state st)
{
	const struct oh_cap *out = oh_st.b.out;
	for (uint32_t i = 0; i < out->n; i++) {
		const struct ig_event *e = &out->it[i].ev;
		if (out->it[i].dst == IG_STAGE_STRATEGY && e->hdr.type == IG_EV_ORDER_UPDATE &&
		    (sid == OH_ANY_SID || e->hdr.strategy_id == sid) && e->body.update.client_id == cid &&
		    e->body.update.state == st)
			return e;
	}
	return NULL;
}

struct ig_order_rec *oh_rec(uint16_t sid, uint64_t cid)
{
	return ig_order_find(&oh_st.b.oms->s[sid].om, cid);
}
