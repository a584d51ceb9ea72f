/*
 * test_oms_conditional.c - conditional orders emulated by the OMS (stop
 * market, stop limit, take profit, trailing stop by price and by bps, the
 * stop-loss attached to an entry), local cancels of armed orders, and
 * cancel-replace, on scripted price paths.
 *
 * The OMS stage handler is driven directly (as in test_oms.c): every event
 * goes through ig_oms_handle() and a capturing ig_emit records exactly what
 * was emitted, to which stage. The OMS runs on the data clock; times are
 * ms from T0. Marks are quotes with bid == ask, so the mark is that price.
 *
 * Tests named test_regression_* expose defects found in src/oms (see the comment
 * above each); they fail until the OMS is fixed. Tests whose comment says
 * "Regression" exposed defects that are fixed now.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oms_harness.h"

#include <string.h>

#define T0 INT64_C(1600000000000000000) /* data time origin, ns */
#define MS OH_MS
#define D(s) oh_D(s)

static struct ig_config cfg; /* large: static */
static struct ig_oms oms;
static struct oh_cap out;

/* Two strategies (thread 0 and 1), capital 10000 each, taker fee 10 bps,
 * every risk limit unset. Reports carry the data time of the latest mark
 * or intent. */
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_oms_conditional", .capital = "10000", .check_sanity = true,
};

#define send_ok(e) oh_send_ok(OH_BY_REF(e), "?") /* must be forwarded */
static struct ig_order_rec *arm_p(struct ig_event *evp);
#define arm(e) arm_p(OH_BY_REF(e))

/* A quote with bid == ask == px: the mark becomes px. */
static void mark(int64_t t_ms, const char *px)
{
	oh_quote(t_ms, px, px);
	assert_int_equal(oms.marks[0].px, D(px));
}

static struct ig_event stop_ord(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
				const char *stop, const char *qty, int64_t t_ms)
{
	struct ig_event ev = oh_ord(sid, cid, side, type, NULL, qty, t_ms);
	ev.body.order.stop_px = D(stop);
	return ev;
}

/* The n-th captured event to the executor, or NULL. */
static const struct ig_event *exec_nth(uint32_t n)
{
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].dst == IG_STAGE_EXEC && n-- == 0)
			return &out.it[i].ev;
	return NULL;
}

static const struct ig_event *exec_cancel(uint64_t cid)
{
	return oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, cid);
}

/* The strategy's update for cid into state st, or NULL. */
static const struct ig_event *update_for(uint64_t cid, enum ig_ord_state st)
{
	return oh_update_for(OH_ANY_SID, cid, st);
}

/* A conditional order the OMS must accept and arm: SUBMITTED then
 * ACCEPTED to the strategy, nothing to the executor. */
static struct ig_order_rec *arm_p(struct ig_event *evp)
{
	struct ig_event ev = *evp;
	struct ig_order_rec *r;
	uint16_t sid = ev.hdr.strategy_id;
	uint64_t orders = oms.s[sid].orders;
	oh_handle(&ev);
	if (oh_reject_for(ev.body.order.client_id) != NULL)
		fail_msg("conditional %llu denied: %s", (unsigned long long)ev.body.order.client_id,
			 ig_reject_reason_name((enum ig_reject_reason)oh_reject_for(ev.body.order.client_id)
						       ->body.reject.reason));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].dst, IG_STAGE_STRATEGY);
	assert_int_equal(out.it[0].idx, cfg.strategies[sid].thread);
	assert_int_equal(out.it[0].ev.body.update.state, IG_OS_SUBMITTED);
	assert_int_equal(out.it[1].ev.body.update.state, IG_OS_ACCEPTED);
	assert_int_equal(out.it[1].ev.body.update.prev_state, IG_OS_SUBMITTED);
	assert_int_equal(oms.s[sid].orders, orders);
	r = oh_rec(sid, ev.body.order.client_id);
	assert_non_null(r);
	assert_true(r->armed);
	assert_int_equal(r->state, IG_OS_ACCEPTED);
	assert_int_equal(r->orig_type, ev.body.order.type);
	return r;
}

/* Marks that must not trigger anything. */
static void quiet_marks(int64_t t_ms, const char *const *pxs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mark(t_ms + (int64_t)i, pxs[i]);
		if (out.n != 0)
			fail_msg("mark %s triggered %u event(s)", pxs[i], out.n);
	}
}

/* The mark that triggers: exactly one order to the executor. */
static const struct ig_event *trigger_mark(int64_t t_ms, const char *px)
{
	mark(t_ms, px);
	if (oh_n_to(IG_STAGE_EXEC) != 1)
		fail_msg("mark %s sent %u event(s) to the executor, want 1", px, oh_n_to(IG_STAGE_EXEC));
	assert_int_equal(out.n, 1);
	return exec_nth(0);
}

/* Gives strategy sid a position of qty at px (market buy, filled). */
static void hold(uint16_t sid, uint64_t cid, const char *qty, const char *px, uint64_t trade_id)
{
	send_ok(oh_ord(sid, cid, IG_SIDE_BUY, IG_ORD_MARKET, NULL, qty, 0));
	oh_fill(sid, cid, trade_id, IG_SIDE_BUY, px, qty, "0");
	assert_null(oh_rec(sid, cid));
}

static void check_released(const struct ig_event *e, uint16_t sid, uint64_t cid, enum ig_side side,
			   enum ig_ord_type type, int64_t px, int64_t qty)
{
	assert_non_null(e);
	assert_int_equal(e->hdr.type, IG_EV_ORDER);
	assert_int_equal(e->hdr.strategy_id, sid);
	assert_int_equal(e->hdr.instrument_id, 0);
	assert_int_equal(e->body.order.client_id, cid);
	assert_int_equal(e->body.order.side, side);
	assert_int_equal(e->body.order.type, type);
	if (type == IG_ORD_MARKET && side == IG_SIDE_BUY) {
		/* A market buy goes with the worst price it was reserved at. */
		const struct ig_order_rec *r = oh_rec(sid, cid);
		assert_non_null(r);
		assert_true(e->body.order.px > 0);
		assert_int_equal(e->body.order.px, r->ref_px);
	} else {
		assert_int_equal(e->body.order.px, px);
	}
	assert_int_equal(e->body.order.qty, qty);
}

/* ------------------------------------------------------------- stops */

static void test_stop_market_buy(void **state)
{
	static const char *const path[] = { "101", "103", "104.99999999", "99" };
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	r = arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "105", "1", 1));
	assert_int_equal(r->stop_px, D("105"));
	assert_int_equal(s->narmed, 1);
	assert_int_equal(s->om.open, 1);
	/* It counts as an open buy, its cash reserved at the trigger (+ fee). */
	assert_int_equal(s->open_buy_qty[0], D("1"));
	assert_int_equal(s->open_buy_notional, D("105.105"));
	/* A fill for an order the venue has never seen is refused. */
	{
		struct ig_event f;
		memset(&f, 0, sizeof(f));
		f.hdr.type = IG_EV_FILL;
		f.hdr.strategy_id = 0;
		f.body.fill.client_id = 1;
		f.body.fill.trade_id = 1;
		f.body.fill.side = IG_SIDE_BUY;
		f.body.fill.px = D("100");
		f.body.fill.qty = D("1");
		oh_handle(&f);
		assert_int_equal(out.n, 0);
		assert_int_equal(s->refused_fills, 1);
		assert_int_equal(s->pos[0].qty, 0);
	}

	quiet_marks(2, path, 4);
	assert_int_equal(oh_rec(0, 1)->state, IG_OS_ACCEPTED);
	assert_true(oh_rec(0, 1)->armed);
	assert_int_equal(s->orders, 0);

	check_released(trigger_mark(10, "105"), 0, 1, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("1"));
	r = oh_rec(0, 1);
	assert_false(r->armed);
	assert_int_equal(r->type, IG_ORD_MARKET);
	assert_int_equal(r->orig_type, IG_ORD_STOP_MARKET);
	assert_int_equal(r->state, IG_OS_ACCEPTED);
	assert_int_equal(s->narmed, 0);
	assert_int_equal(s->triggered, 1);
	assert_int_equal(s->orders, 1);
	/* Released once only. */
	mark(11, "106");
	assert_int_equal(out.n, 0);
	/* The venue fills it like any market order. */
	oh_venue_update(0, 1, IG_OS_ACCEPTED); /* already ACCEPTED: nothing */
	assert_int_equal(out.n, 0);
	oh_fill(0, 1, 1, IG_SIDE_BUY, "105.2", "1", "0.1052");
	assert_non_null(update_for(1, IG_OS_FILLED));
	assert_null(oh_rec(0, 1));
	assert_int_equal(s->pos[0].qty, D("1"));
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->om.open, 0);
}

static void test_stop_market_sell(void **state)
{
	static const char *const path[] = { "99", "102", "95.00000001" };
	struct ig_oms_strategy *s;
	(void)state;
	oh_start();
	s = &oms.s[1];
	mark(0, "100");
	hold(1, 1, "2", "100", 1);
	arm(stop_ord(1, 2, IG_SIDE_SELL, IG_ORD_STOP_MARKET, "95", "1", 1));
	assert_int_equal(s->open_sell_qty[0], D("1"));
	quiet_marks(2, path, 3);
	/* A gap through the stop triggers too. */
	check_released(trigger_mark(10, "94.5"), 1, 2, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));
	assert_int_equal(out.it[0].dst, IG_STAGE_EXEC);
	assert_int_equal(out.it[0].idx, 0);
	assert_int_equal(s->triggered, 1);
	oh_fill(1, 2, 2, IG_SIDE_SELL, "94.5", "1", "0.0945");
	assert_int_equal(s->pos[0].qty, D("1"));
	assert_int_equal(s->open_sell_qty[0], 0);
	/* The other strategy saw nothing. */
	assert_int_equal(oms.s[0].triggered, 0);
	assert_int_equal(oms.s[0].om.live, 0);
}

static void test_stop_limit(void **state)
{
	static const char *const up[] = { "101", "104.99" };
	static const char *const down[] = { "100", "95.01" };
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	/* Buy: stop 105, limit 106. */
	ev = stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_LIMIT, "105", "1", 1);
	ev.body.order.px = D("106");
	arm(ev);
	/* Cash reserved at the limit price. */
	assert_int_equal(oms.s[0].open_buy_notional, D("106.106"));
	quiet_marks(2, up, 2);
	check_released(trigger_mark(5, "105.5"), 0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, D("106"), D("1"));
	assert_int_equal(oh_rec(0, 1)->type, IG_ORD_LIMIT);
	oh_fill(0, 1, 1, IG_SIDE_BUY, "105.5", "1", "0");
	assert_int_equal(oms.s[0].pos[0].qty, D("1"));

	/* Sell: stop 95, limit 94. */
	ev = stop_ord(0, 2, IG_SIDE_SELL, IG_ORD_STOP_LIMIT, "95", "1", 6);
	ev.body.order.px = D("94");
	arm(ev);
	quiet_marks(7, down, 2);
	check_released(trigger_mark(10, "95"), 0, 2, IG_SIDE_SELL, IG_ORD_LIMIT, D("94"), D("1"));
}

static void test_take_profit(void **state)
{
	static const char *const sell_path[] = { "105", "90", "109.99999999" };
	static const char *const buy_path[] = { "95", "120", "90.00000001" };
	(void)state;
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", 1);
	/* Sell take-profit: triggers when the mark rises to 110, not on a fall. */
	arm(stop_ord(0, 2, IG_SIDE_SELL, IG_ORD_TAKE_PROFIT, "110", "1", 1));
	quiet_marks(2, sell_path, 3);
	check_released(trigger_mark(10, "110"), 0, 2, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));
	oh_fill(0, 2, 2, IG_SIDE_SELL, "110", "1", "0");
	assert_int_equal(oms.s[0].pos[0].qty, 0);

	/* Buy take-profit: triggers when the mark falls to 90, not on a rise. */
	arm(stop_ord(0, 3, IG_SIDE_BUY, IG_ORD_TAKE_PROFIT, "90", "1", 11));
	assert_int_equal(oms.s[0].open_buy_notional, D("90.09"));
	quiet_marks(12, buy_path, 3);
	check_released(trigger_mark(20, "89"), 0, 3, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("1"));
	assert_int_equal(oms.s[0].triggered, 2);
}

/* Trailing sell by a price offset of 2: the stop follows the highest mark
 * down by 2 and triggers on a retrace of 2, not before. */
static void test_trailing_stop_price(void **state)
{
	struct ig_order_rec *r;
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", 1);
	ev = oh_ord(0, 2, IG_SIDE_SELL, IG_ORD_TRAILING_STOP, NULL, "1", 1);
	ev.body.order.trail = D("2");
	r = arm(ev);
	assert_int_equal(r->trail_ref_px, D("100"));

	mark(2, "101");
	assert_int_equal(out.n, 0);
	r = oh_rec(0, 2);
	assert_int_equal(r->trail_ref_px, D("101"));
	assert_int_equal(r->stop_px, D("99"));
	mark(3, "103");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->trail_ref_px, D("103"));
	assert_int_equal(r->stop_px, D("101"));
	/* Retraces smaller than the offset: nothing, and the ref stays. */
	mark(4, "102");
	assert_int_equal(out.n, 0);
	mark(5, "101.00000001");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->trail_ref_px, D("103"));
	assert_int_equal(r->stop_px, D("101"));
	check_released(trigger_mark(6, "101"), 0, 2, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));

	/* Trailing buy by 1.5: follows the lowest mark up by 1.5. */
	ev = oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_TRAILING_STOP, NULL, "1", 7);
	ev.body.order.trail = D("1.5");
	r = arm(ev);
	mark(8, "98");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->trail_ref_px, D("98"));
	assert_int_equal(r->stop_px, D("99.5"));
	mark(9, "99.49999999");
	assert_int_equal(out.n, 0);
	check_released(trigger_mark(10, "99.5"), 0, 3, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("1"));
}

/* A bar 1 ms of data time after the latest mark (o h l c). */
static void bar_mark(const char *o, const char *h, const char *l, const char *c)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_BAR;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_event_ns = oms.marks[0].ts_event_ns + 1000000;
	ev.hdr.ts_origin_ns = oms.marks[0].ts_origin_ns + 1000000;
	ev.body.bar.open_px = D(o);
	ev.body.bar.high_px = D(h);
	ev.body.bar.low_px = D(l);
	ev.body.bar.close_px = D(c);
	ev.body.bar.volume = D("1");
	oh_handle(&ev);
}

/* On bars, stops trigger on the bar's high/low, not its close, and go out
 * with their level (a take-profit flagged) so the venue fills them on that
 * bar; a trailing stop checks the level from the bars before, then moves
 * its reference to the bar's best extreme. */
static void test_bars_trigger_on_range(void **state)
{
	const struct ig_event *e;
	struct ig_order_rec *r;
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	hold(0, 1, "3", "100", 1);
	arm(stop_ord(0, 2, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "103", "1", 1));
	arm(stop_ord(0, 3, IG_SIDE_SELL, IG_ORD_TAKE_PROFIT, "104", "1", 1));
	bar_mark("100", "102", "99", "101");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	/* High 103.5 reaches the buy stop although the bar closes at 102. */
	bar_mark("101", "103.5", "100", "102");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	e = exec_nth(0);
	check_released(e, 0, 2, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("1"));
	assert_int_equal(e->body.order.stop_px, D("103"));
	assert_false(e->hdr.flags & IG_EVF_TAKE_PROFIT);
	/* High 104 reaches the sell take-profit; it goes out flagged. */
	bar_mark("102", "104", "101", "102");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	e = exec_nth(0);
	check_released(e, 0, 3, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));
	assert_int_equal(e->body.order.stop_px, D("104"));
	assert_true(e->hdr.flags & IG_EVF_TAKE_PROFIT);
	/* Trailing sell by 2, placed at a mark of 102: level 100. A bar up to
	 * 105 and down to 100.5 does not trigger it (its own high is not
	 * used on it); its high moves the level to 103 for the next bar, whose
	 * low 102.9 triggers it at 103. */
	ev = oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_TRAILING_STOP, NULL, "1", 2);
	ev.body.order.trail = D("2");
	r = arm(ev);
	assert_int_equal(r->trail_ref_px, D("102"));
	bar_mark("102", "105", "100.5", "104");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_int_equal(r->trail_ref_px, D("105"));
	assert_int_equal(r->stop_px, D("103"));
	bar_mark("104", "104.5", "102.9", "104");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	e = exec_nth(0);
	check_released(e, 0, 4, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));
	assert_int_equal(e->body.order.stop_px, D("103"));
}

/* Trailing by bps of the best price (IG_ORDF_TRAIL_BPS). */
static void test_trailing_stop_bps(void **state)
{
	struct ig_order_rec *r;
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", 1);
	/* Sell, 200 bps: at a best of 110 the stop is 107.8. */
	ev = oh_ord(0, 2, IG_SIDE_SELL, IG_ORD_TRAILING_STOP, NULL, "1", 1);
	ev.body.order.trail = 200;
	ev.body.order.flags = IG_ORDF_TRAIL_BPS;
	r = arm(ev);
	mark(2, "98.5"); /* 1.5% below the best: no */
	assert_int_equal(out.n, 0);
	assert_int_equal(r->stop_px, D("98"));
	mark(3, "110");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->trail_ref_px, D("110"));
	assert_int_equal(r->stop_px, D("107.8"));
	mark(4, "107.80000001");
	assert_int_equal(out.n, 0);
	check_released(trigger_mark(5, "107.8"), 0, 2, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));

	/* Buy, 100 bps: at a low of 97 the stop is 97.97. */
	ev = oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_TRAILING_STOP, NULL, "1", 6);
	ev.body.order.trail = 100;
	ev.body.order.flags = IG_ORDF_TRAIL_BPS;
	r = arm(ev);
	assert_int_equal(r->trail_ref_px, D("107.8"));
	mark(7, "99");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->stop_px, D("99.99"));
	mark(8, "97");
	assert_int_equal(out.n, 0);
	assert_int_equal(r->stop_px, D("97.97"));
	mark(9, "97.96999999");
	assert_int_equal(out.n, 0);
	check_released(trigger_mark(10, "98"), 0, 3, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("1"));
}

/* An entry buy with sl_px: each fill arms a reduce-only stop-market sell
 * for the filled quantity, which triggers when the mark falls to sl_px. */
static void test_attached_stop_loss(void **state)
{
	static const char *const path[] = { "99", "97", "95.00000001" };
	struct ig_oms_strategy *s;
	struct ig_event ev;
	uint64_t child[2];
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	ev = oh_ord(0, 10, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1);
	ev.body.order.sl_px = D("95");
	send_ok(ev);
	assert_int_equal(s->narmed, 0);
	oh_venue_update(0, 10, IG_OS_ACCEPTED);

	for (uint32_t k = 0; k < 2; k++) {
		const char *q = k == 0 ? "0.4" : "0.6";
		struct ig_order_rec *c;
		oh_fill(0, 10, 1 + k, IG_SIDE_BUY, "100", q, "0");
		assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
		child[k] = 0;
		for (uint32_t i = 0; i < out.n; i++) {
			const struct ig_event *e = &out.it[i].ev;
			if (e->hdr.type == IG_EV_ORDER_UPDATE && e->body.update.client_id != 10 &&
			    e->body.update.state == IG_OS_SUBMITTED)
				child[k] = e->body.update.client_id;
		}
		assert_true(child[k] != 0);
		assert_non_null(update_for(child[k], IG_OS_ACCEPTED));
		c = oh_rec(0, child[k]);
		assert_non_null(c);
		assert_true(c->armed);
		assert_int_equal(c->state, IG_OS_ACCEPTED);
		assert_int_equal(c->side, IG_SIDE_SELL);
		assert_int_equal(c->orig_type, IG_ORD_STOP_MARKET);
		assert_int_equal(c->qty, D(q));
		assert_int_equal(c->stop_px, D("95"));
		assert_true(c->flags & IG_ORDF_REDUCE_ONLY);
		assert_int_equal(c->parent_id, 10);
	}
	assert_true(child[0] != child[1]);
	assert_non_null(update_for(10, IG_OS_FILLED));
	assert_null(oh_rec(0, 10));
	assert_int_equal(s->narmed, 2);
	assert_int_equal(s->pos[0].qty, D("1"));
	assert_int_equal(s->open_sell_qty[0], D("1"));

	quiet_marks(2, path, 3);
	mark(10, "95");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 2);
	for (uint32_t k = 0; k < 2; k++) {
		const struct ig_event *e = oh_exec_order(child[k]);
		check_released(e, 0, child[k], IG_SIDE_SELL, IG_ORD_MARKET, 0, k == 0 ? D("0.4") : D("0.6"));
		assert_true(e->body.order.flags & IG_ORDF_REDUCE_ONLY);
	}
	assert_int_equal(s->narmed, 0);
	assert_int_equal(s->triggered, 2);
	oh_fill(0, child[0], 3, IG_SIDE_SELL, "95", "0.4", "0");
	oh_fill(0, child[1], 4, IG_SIDE_SELL, "95", "0.6", "0");
	assert_int_equal(s->pos[0].qty, 0);
	assert_int_equal(s->open_sell_qty[0], 0);
	assert_int_equal(s->om.live, 0);
	/* Realized: 1 * (95 - 100). */
	assert_int_equal(s->pos[0].realized_pnl, D("-5"));
}

/* ------------------------------------------------------------- cancel */

static void test_cancel_armed_is_local(void **state)
{
	struct ig_oms_strategy *s;
	const struct ig_event *u;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "105", "1", 1));
	oh_cancel(0, 1);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_int_equal(out.n, 2);
	u = &out.it[0].ev;
	assert_int_equal(u->body.update.state, IG_OS_PENDING_CANCEL);
	assert_int_equal(u->body.update.prev_state, IG_OS_ACCEPTED);
	u = &out.it[1].ev;
	assert_int_equal(u->body.update.state, IG_OS_CANCELED);
	assert_int_equal(u->body.update.prev_state, IG_OS_PENDING_CANCEL);
	assert_int_equal(u->body.update.leaves_qty, 0);
	assert_null(oh_rec(0, 1));
	assert_int_equal(s->narmed, 0);
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->cancels, 1);
	assert_int_equal(s->orders, 0);
	/* The market crossing the old stop does nothing now. */
	mark(2, "110");
	assert_int_equal(out.n, 0);
	assert_int_equal(s->triggered, 0);
	/* A triggered (released) stop is cancelled through the venue. */
	arm(stop_ord(0, 2, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "111", "1", 3));
	trigger_mark(4, "112");
	oh_cancel(0, 2);
	assert_non_null(exec_cancel(2));
	assert_non_null(update_for(2, IG_OS_PENDING_CANCEL));
	assert_null(update_for(2, IG_OS_CANCELED));
}

/* --------------------------------------------------------- cancel-replace */

/* The replacement is held; the old order's cancel goes to the venue; the
 * replacement is released when the venue confirms the cancel. */
static void test_cancel_replace_released_after_cancel_ack(void **state)
{
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	struct ig_event ev;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 20, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 20, IG_OS_ACCEPTED);

	ev = oh_ord(0, 21, IG_SIDE_BUY, IG_ORD_LIMIT, "99.5", "1", 2);
	ev.body.order.replaces = 20;
	oh_handle(&ev);
	assert_null(oh_exec_order(21));
	assert_non_null(exec_cancel(20));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	assert_non_null(update_for(21, IG_OS_SUBMITTED));
	assert_non_null(update_for(20, IG_OS_PENDING_CANCEL));
	r = oh_rec(0, 21);
	assert_non_null(r);
	assert_true(r->held);
	assert_int_equal(r->replaces, 20);
	assert_int_equal(s->nheld, 1);
	/* Both count while the cancel is in flight. */
	assert_int_equal(s->open_buy_qty[0], D("2"));
	assert_int_equal(s->om.open, 2);

	/* Marks and a late ACCEPTED for the old order release nothing. */
	mark(3, "100.5");
	assert_int_equal(out.n, 0);
	oh_venue_update(0, 20, IG_OS_ACCEPTED);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);

	oh_venue_update(0, 20, IG_OS_CANCELED);
	assert_non_null(update_for(20, IG_OS_CANCELED));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	check_released(oh_exec_order(21), 0, 21, IG_SIDE_BUY, IG_ORD_LIMIT, D("99.5"), D("1"));
	assert_null(oh_rec(0, 20));
	r = oh_rec(0, 21);
	assert_false(r->held);
	assert_int_equal(s->nheld, 0);
	assert_int_equal(s->open_buy_qty[0], D("1"));
	assert_int_equal(s->open_buy_notional, D("99.5995"));
	assert_int_equal(s->om.open, 1);
	oh_venue_update(0, 21, IG_OS_ACCEPTED);
	assert_int_equal(oh_rec(0, 21)->state, IG_OS_ACCEPTED);
}

/* The old order fills before the cancel lands: the replacement is
 * cancelled and never reaches the executor. */
static void test_cancel_replace_old_filled(void **state)
{
	struct ig_oms_strategy *s;
	const struct ig_event *u;
	struct ig_event ev;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 30, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 30, IG_OS_ACCEPTED);
	ev = oh_ord(0, 31, IG_SIDE_BUY, IG_ORD_LIMIT, "99.5", "1", 2);
	ev.body.order.replaces = 30;
	oh_handle(&ev);
	assert_non_null(exec_cancel(30));
	assert_null(oh_exec_order(31));

	oh_fill(0, 30, 1, IG_SIDE_BUY, "99", "1", "0");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_non_null(update_for(30, IG_OS_FILLED));
	u = update_for(31, IG_OS_CANCELED);
	assert_non_null(u);
	assert_int_equal(u->body.update.leaves_qty, 0);
	assert_null(oh_rec(0, 31));
	assert_int_equal(s->nheld, 0);
	/* The venue's late CANCELED for the filled order releases nothing. */
	oh_venue_update(0, 30, IG_OS_CANCELED);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.unknown_reports, 1);
	assert_int_equal(s->pos[0].qty, D("1"));
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->om.live, 0);
	assert_int_equal(s->orders, 1);
}

static void test_cancel_replace_unknown_denied(void **state)
{
	const struct ig_event *rj;
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 41, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1);
	ev.body.order.replaces = 999;
	oh_handle(&ev);
	assert_int_equal(out.n, 1);
	rj = oh_reject_for(41);
	assert_non_null(rj);
	assert_int_equal(rj->body.reject.reason, IG_RJ_UNKNOWN_ORDER);
	assert_int_equal(rj->body.reject.by_venue, 0);
	assert_null(oh_rec(0, 41));
	assert_int_equal(oms.s[0].rejects[IG_RJ_UNKNOWN_ORDER], 1);

	/* Another strategy's order is unknown too. */
	send_ok(oh_ord(1, 50, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 2));
	ev = oh_ord(0, 42, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "2", 3);
	ev.body.order.replaces = 50;
	oh_handle(&ev);
	assert_non_null(oh_reject_for(42));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);

	/* An order already being cancelled cannot be replaced. */
	send_ok(oh_ord(0, 43, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 4));
	oh_cancel(0, 43);
	ev = oh_ord(0, 44, IG_SIDE_BUY, IG_ORD_LIMIT, "98.5", "1", 5);
	ev.body.order.replaces = 43;
	oh_handle(&ev);
	rj = oh_reject_for(44);
	assert_non_null(rj);
	assert_int_equal(rj->body.reject.reason, IG_RJ_UNKNOWN_ORDER);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_int_equal(oms.s[0].rejects[IG_RJ_UNKNOWN_ORDER], 3);
}

/* Replacing an armed stop with a limit: the stop is the OMS's own, so it
 * is cancelled locally and the replacement goes out at once. */
static void test_cancel_replace_armed_stop_with_limit(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "105", "1", 1));
	ev = oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 2);
	ev.body.order.replaces = 1;
	oh_handle(&ev);
	assert_non_null(update_for(1, IG_OS_CANCELED));
	assert_null(exec_cancel(1));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	check_released(oh_exec_order(2), 0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, D("100"), D("1"));
	assert_null(oh_rec(0, 1));
	assert_int_equal(oms.s[0].narmed, 0);
	assert_int_equal(oms.s[0].nheld, 0);
	assert_int_equal(oms.s[0].open_buy_qty[0], D("1"));
	mark(3, "106");
	assert_int_equal(out.n, 0);
}

/* ------------------------------------------------------------- bugs */

/*
 * Regression (found by this file, fixed in a84f3c2): a conditional order
 * with `replaces` set took the "arm and return" branch before the
 * cancel-replace code, so the order it replaced was never cancelled.
 * Moving a stop-loss (stop 95 replaced by stop 97) left both armed; both
 * triggered and the strategy sold twice what it held.
 */
static void test_replace_stop_with_stop_cancels_old(void **state)
{
	struct ig_event ev;
	int64_t sold = 0;
	(void)state;
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", 1);
	arm(stop_ord(0, 60, IG_SIDE_SELL, IG_ORD_STOP_MARKET, "95", "1", 1));
	ev = stop_ord(0, 61, IG_SIDE_SELL, IG_ORD_STOP_MARKET, "97", "1", 2);
	ev.body.order.replaces = 60;
	oh_handle(&ev);
	assert_null(oh_reject_for(61));
	/* Expected: the old stop is gone, only the new one is armed. */
	if (oh_rec(0, 60) != NULL || oms.s[0].narmed != 1)
		print_error("replaced stop 60 still armed (narmed %u)\n", oms.s[0].narmed);
	mark(3, "94");
	for (uint32_t i = 0; i < oh_n_to(IG_STAGE_EXEC); i++)
		sold += exec_nth(i)->body.order.qty;
	/* Never sell more than the position of 1. */
	if (sold > D("1"))
		fail_msg("stops released sells of %lld (1e-8) against a position of 1", (long long)sold);
	assert_null(oh_rec(0, 60));
}

/*
 * Regression (found by this file, fixed in a84f3c2): a replacement of a
 * held replacement. A is live at the venue, B replaces A (held, A's
 * cancel in flight), C replaces B. B was cancelled locally and
 * on_terminal(B) released C at once, although A's cancel was not
 * confirmed: when A then filled, A and C were both live. C must wait for
 * A's cancel, and never go out if A fills.
 */
static void test_chained_replace_waits_for_venue_cancel(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	send_ok(oh_ord(0, 80, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 80, IG_OS_ACCEPTED);
	ev = oh_ord(0, 81, IG_SIDE_BUY, IG_ORD_LIMIT, "99.2", "1", 2);
	ev.body.order.replaces = 80;
	oh_handle(&ev);
	assert_non_null(exec_cancel(80));
	ev = oh_ord(0, 82, IG_SIDE_BUY, IG_ORD_LIMIT, "99.4", "1", 3);
	ev.body.order.replaces = 81;
	oh_handle(&ev);
	/* Expected: C is not sent while A's cancel is unconfirmed. */
	assert_null(oh_exec_order(82));
	/* A fills: C must never go out. */
	oh_fill(0, 80, 1, IG_SIDE_BUY, "99", "1", "0");
	assert_null(oh_exec_order(82));
	oh_venue_update(0, 80, IG_OS_CANCELED);
	assert_null(oh_exec_order(82));
	assert_int_equal(oms.s[0].pos[0].qty + oms.s[0].open_buy_qty[0], D("1"));
	assert_int_equal(oms.s[0].nheld, 0);

	/* The same chain where the venue confirms A's cancel: C (only) goes. */
	send_ok(oh_ord(0, 83, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 4));
	oh_venue_update(0, 83, IG_OS_ACCEPTED);
	ev = oh_ord(0, 84, IG_SIDE_BUY, IG_ORD_LIMIT, "98.2", "1", 5);
	ev.body.order.replaces = 83;
	oh_handle(&ev);
	ev = oh_ord(0, 85, IG_SIDE_BUY, IG_ORD_LIMIT, "98.4", "1", 6);
	ev.body.order.replaces = 84;
	oh_handle(&ev);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_non_null(update_for(84, IG_OS_CANCELED));
	oh_venue_update(0, 83, IG_OS_CANCELED);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 1);
	check_released(oh_exec_order(85), 0, 85, IG_SIDE_BUY, IG_ORD_LIMIT, D("98.4"), D("1"));
	assert_int_equal(oms.s[0].open_buy_qty[0], D("1"));
	assert_int_equal(oms.s[0].nheld, 0);
}

/*
 * Regression (found by this file, fixed in a84f3c2): the replacement
 * passes risk without the old order's open quantity. When the old order
 * partially filled while its cancel was in flight, on_terminal released
 * the replacement for its full quantity with no new check, so position +
 * open buys exceeded max_position_qty (and, the same way, reserved cash
 * could exceed cash). Now it is checked again when released.
 */
static void test_replace_rechecked_after_partial_fill(void **state)
{
	struct ig_oms_strategy *s;
	const struct ig_event *e;
	struct ig_event ev;
	int64_t pos_before;
	(void)state;
	cfg.risk.max_position_qty = D("1");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 70, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 70, IG_OS_ACCEPTED);
	ev = oh_ord(0, 71, IG_SIDE_BUY, IG_ORD_LIMIT, "99.5", "1", 2);
	ev.body.order.replaces = 70;
	oh_handle(&ev);
	assert_null(oh_reject_for(71)); /* fits once 70 is gone: 0 + 1 <= 1 */
	assert_non_null(exec_cancel(70));
	/* The venue fills half of 70 before the cancel lands. */
	oh_fill(0, 70, 1, IG_SIDE_BUY, "99", "0.5", "0");
	assert_int_equal(s->pos[0].qty, D("0.5"));
	pos_before = s->pos[0].qty;
	oh_venue_update(0, 70, IG_OS_CANCELED);
	e = oh_exec_order(71);
	if (e != NULL) {
		/* Whatever goes out must fit: position + qty <= 1. */
		if (pos_before + e->body.order.qty > D("1"))
			fail_msg("replacement sent for %lld with position %lld: max_position_qty 1 breached",
				 (long long)e->body.order.qty, (long long)pos_before);
	}
	assert_true(s->pos[0].qty + s->open_buy_qty[0] <= D("1"));
}

/*
 * Regression (found by this file, fixed in a84f3c2): duplicate intent
 * compared side, px, qty and instrument only. Stop orders carry px = 0,
 * so two stop buys of the same quantity at different triggers (a ladder:
 * 105 and 110) were denied as duplicate_intent.
 */
static void test_duplicate_key_includes_stop_px(void **state)
{
	(void)state;
	cfg.risk.duplicate_window_ms = 1000;
	oh_start();
	mark(0, "100");
	arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "105", "1", 1));
	/* A different trigger is a different intent. */
	arm(stop_ord(0, 2, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "110", "1", 2));
}


/*
 * Regression (fixed; was: src/oms/oms.c, on_fill/move and cancel_order): a fill that arrives
 * while a cancel is in flight moves the order PENDING_CANCEL ->
 * PARTIALLY_FILLED, and the OMS forgets that a cancel is pending. Then
 * (a) a second cancel request sends a second CANCEL to the venue, and (b)
 * the order can be replaced again: the second replacement is held too,
 * but on_terminal releases only the first held replacement it finds and
 * returns, so the second stays held forever with no predecessor: it
 * counts as an open order and an open buy (with reserved cash) until the
 * strategy cancels it by hand. Fix: keep "cancel requested" as a flag on
 * the record (or return to PENDING_CANCEL after a partial fill), treat it
 * like PENDING_CANCEL in cancel_order / replace / the kill switch; and let
 * on_terminal handle every held replacement of the finished order.
 */
static void test_regression_fill_during_cancel_forgets_cancel(void **state)
{
	(void)state;
	oh_start();
	mark(0, "100");
	send_ok(oh_ord(0, 90, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "2", 1));
	oh_venue_update(0, 90, IG_OS_ACCEPTED);
	oh_cancel(0, 90);
	assert_non_null(exec_cancel(90));
	oh_fill(0, 90, 1, IG_SIDE_BUY, "99", "0.5", "0");
	if (oh_rec(0, 90)->state != IG_OS_PENDING_CANCEL)
		print_error("after a fill, order 90 with a cancel in flight is %s\n",
			    ig_ord_state_name((enum ig_ord_state)oh_rec(0, 90)->state));
	/* Asking again sends the cancel again (the venue may not have got it
	 * through) without a second PENDING_CANCEL transition. */
	oh_cancel(0, 90);
	assert_non_null(exec_cancel(90));
	assert_null(oh_update_for(0, 90, IG_OS_PENDING_CANCEL));
	assert_int_equal(oms.s[0].om.illegal, 0);
	assert_true(oh_rec(0, 90)->cancel_requested);
}

static void test_regression_second_replace_after_partial_fill_orphaned(void **state)
{
	struct ig_oms_strategy *s;
	struct ig_event ev;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 100, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "2", 1));
	oh_venue_update(0, 100, IG_OS_ACCEPTED);
	ev = oh_ord(0, 101, IG_SIDE_BUY, IG_ORD_LIMIT, "99.2", "1", 2);
	ev.body.order.replaces = 100;
	oh_handle(&ev);
	assert_non_null(exec_cancel(100));
	oh_fill(0, 100, 1, IG_SIDE_BUY, "99", "0.5", "0");
	/* 100 is still being cancelled: replacing it again must be refused (or
	 * chained); here it is accepted and held. */
	ev = oh_ord(0, 102, IG_SIDE_BUY, IG_ORD_LIMIT, "99.4", "1", 3);
	ev.body.order.replaces = 100;
	oh_handle(&ev);
	oh_venue_update(0, 100, IG_OS_CANCELED);
	/* The venue holds at most one replacement; nothing is left waiting for
	 * an order that no longer exists. */
	for (uint32_t h = 0; h < s->nheld; h++)
		if (ig_order_find(&s->om, s->om.pool[s->held[h] - 1].replaces) == NULL)
			fail_msg("replacement %llu is held for order %llu, which is gone",
				 (unsigned long long)s->om.pool[s->held[h] - 1].client_id,
				 (unsigned long long)s->om.pool[s->held[h] - 1].replaces);
	assert_int_equal(s->nheld, 0);
}

/*
 * Regression (fixed; was: minor; src/oms/oms.c, on_order/on_terminal): a market replacement
 * reserves cash at the mark of its intent (r->ref_px), but is checked and
 * sent at the mark when the old order's cancel is confirmed. If the mark
 * rose meanwhile, open_buy_notional understates what the order can cost,
 * and later buys are checked against too little reserved cash. Fix: on
 * release refresh ref_px to the mark used by the release-time check and
 * re-reserve.
 */
static void test_regression_market_replacement_reserved_at_intent_mark(void **state)
{
	struct ig_oms_strategy *s;
	struct ig_event ev;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 110, IG_SIDE_BUY, IG_ORD_LIMIT, "95", "1", 1));
	oh_venue_update(0, 110, IG_OS_ACCEPTED);
	ev = oh_ord(0, 111, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 2);
	ev.body.order.replaces = 110;
	oh_handle(&ev);
	mark(3, "120");
	oh_venue_update(0, 110, IG_OS_CANCELED);
	assert_non_null(oh_exec_order(111));
	/* Sent into a market of 120: at worst 120 + 50 bps (the IOC collar of
	 * a market buy) = 120.6, + 10 bps fee = 120.7206. */
	assert_int_equal(s->open_buy_notional, D("120.7206"));
}

/* ------------------------------------------- risk at release (defect 7) */

/* The trigger denied cid for `why`: nothing to the executor, a reject to
 * the strategy with the reason and its size, the order DENIED, counted,
 * and everything it held released. */
static void expect_denied_at_release(uint16_t sid, uint64_t cid, enum ig_reject_reason why,
				     uint64_t rejects_before)
{
	const struct ig_event *rj = oh_reject_for(cid), *u;
	struct ig_oms_strategy *s = &oms.s[sid];
	if (oh_exec_order(cid) != NULL)
		fail_msg("order %llu released to the executor, want a %s denial", (unsigned long long)cid,
			 ig_reject_reason_name(why));
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_non_null(rj);
	assert_int_equal(rj->hdr.strategy_id, sid);
	if (rj->body.reject.reason != why)
		fail_msg("order %llu denied for %s, want %s", (unsigned long long)cid,
			 ig_reject_reason_name((enum ig_reject_reason)rj->body.reject.reason),
			 ig_reject_reason_name(why));
	assert_int_equal(rj->body.reject.by_venue, 0);
	assert_true(rj->body.reject.qty > 0);
	u = update_for(cid, IG_OS_DENIED);
	assert_non_null(u);
	assert_int_equal(u->body.update.prev_state, IG_OS_ACCEPTED);
	assert_int_equal(u->body.update.reason, why);
	assert_int_equal(s->rejects[why], rejects_before + 1);
	assert_null(oh_rec(sid, cid));
	assert_int_equal(s->narmed, 0);
}

/*
 * Regression (defect 7): a stop-market order passed risk when placed,
 * valued at its trigger, and was released at the trigger with no check at
 * all. With max_order_notional 1000 a stop buy of 500 at stop 0.01 passed
 * (5 at the trigger) and went out as a market order worth ~50,000 when the
 * market came through. At release the full check runs again at the price
 * it will trade at.
 */
static void test_triggered_stop_market_rechecked_at_market(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.risk.max_order_notional = D("1000");
	oh_start();
	s = &oms.s[0];
	mark(0, "0.005");
	arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "0.01", "500", 1));
	mark(2, "100");
	expect_denied_at_release(0, 1, IG_RJ_MAX_ORDER_NOTIONAL, 0);
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->orders, 0);
	/* Within the limit it goes: 5 @ 100 = 500. */
	arm(stop_ord(0, 2, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "101", "5", 3));
	check_released(trigger_mark(4, "101"), 0, 2, IG_SIDE_BUY, IG_ORD_MARKET, 0, D("5"));
	/* Reserved at its trigger (5 * 101 + fee) while armed; released, at the
	 * worst price it can be sent at: 101 + 50 bps = 101.505, + fee. */
	assert_int_equal(s->open_buy_notional, D("508.032525"));
}

/* A stop-limit is checked at its limit against the market at release: the
 * price collar of a sell limit 95.5, inside the band of the mark 100 when
 * placed, is outside the band of the mark 90 it triggers at. */
static void test_triggered_stop_limit_rechecked_at_limit(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.price_collar_bps = 500;
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", 1);
	ev = stop_ord(0, 2, IG_SIDE_SELL, IG_ORD_STOP_LIMIT, "96", "1", 1);
	ev.body.order.px = D("95.5");
	arm(ev);
	mark(2, "90");
	expect_denied_at_release(0, 2, IG_RJ_PRICE_COLLAR, 0);
	assert_int_equal(oms.s[0].open_sell_qty[0], 0);
}

/* A take-profit sell triggers at or above its trigger and a trailing stop
 * buy above the mark it was valued at when placed: both are valued at the
 * market they are released into. */
static void test_triggered_take_profit_and_trailing_rechecked(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.max_order_notional = D("1000");
	oh_start();
	mark(0, "100");
	hold(0, 1, "9", "100", 1);
	/* 9 @ trigger 110 = 990: fits. The market gaps to 120: 1080. */
	arm(stop_ord(0, 2, IG_SIDE_SELL, IG_ORD_TAKE_PROFIT, "110", "9", 1));
	/* Valued at the market when placed: 9 * 100.5 (mark + 50 bps) =
	 * 904.5; at 120: 9 * 120.6 = 1085.4. */
	ev = stop_ord(0, 3, IG_SIDE_BUY, IG_ORD_TRAILING_STOP, "0", "9", 1);
	ev.body.order.stop_px = 0;
	ev.body.order.trail = D("10");
	arm(ev);
	/* Both trigger at 120 (the trailing stop's ref is 100, stop 110). */
	mark(2, "120");
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
	assert_non_null(oh_reject_for(2));
	assert_non_null(oh_reject_for(3));
	assert_int_equal(oh_reject_for(2)->body.reject.reason, IG_RJ_MAX_ORDER_NOTIONAL);
	assert_int_equal(oh_reject_for(3)->body.reject.reason, IG_RJ_MAX_ORDER_NOTIONAL);
	assert_non_null(update_for(2, IG_OS_DENIED));
	assert_non_null(update_for(3, IG_OS_DENIED));
	assert_int_equal(oms.s[0].rejects[IG_RJ_MAX_ORDER_NOTIONAL], 2);
	assert_int_equal(oms.s[0].om.open, 0);
	assert_int_equal(oms.s[0].open_sell_qty[0], 0);
	assert_int_equal(oms.s[0].open_buy_qty[0], 0);
}

/* A stop-market buy whose cash went to another buy since it was armed. */
static void test_triggered_stop_denied_for_cash(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	/* Armed at 101: 5 * 101 + fee = 505.505. */
	arm(stop_ord(0, 1, IG_SIDE_BUY, IG_ORD_STOP_MARKET, "101", "5", 1));
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "4.9", 2));
	/* The market gaps to 120: 5 * 120 + fee = 600.6 > 1000 - 490.49. */
	mark(3, "120");
	expect_denied_at_release(0, 1, IG_RJ_INSUFFICIENT_CASH, 0);
	assert_int_equal(s->open_buy_notional, D("490.49"));
}

/*
 * Attached stop-loss children (reduce-only) get the same full check at
 * release. In spot a child sells what the entry bought, at a mark at or
 * below its stop, never more than the entry fill that passed the full
 * check: with tight limits it still goes out.
 */
static void test_stop_loss_child_checked_at_release(void **state)
{
	struct ig_oms_strategy *s;
	struct ig_event ev;
	uint64_t child = 0;
	(void)state;
	cfg.risk.max_order_notional = D("101");
	cfg.risk.max_order_qty = D("1");
	cfg.risk.max_position_qty = D("1");
	cfg.risk.max_open_orders = 1;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	ev = oh_ord(0, 10, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1);
	ev.body.order.sl_px = D("95");
	send_ok(ev);
	oh_fill(0, 10, 1, IG_SIDE_BUY, "100", "1", "0");
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_ORDER_UPDATE && out.it[i].ev.body.update.client_id != 10)
			child = out.it[i].ev.body.update.client_id;
	assert_true(child != 0);
	mark(2, "94");
	check_released(oh_exec_order(child), 0, child, IG_SIDE_SELL, IG_ORD_MARKET, 0, D("1"));
	oh_fill(0, child, 2, IG_SIDE_SELL, "94", "1", "0");
	assert_int_equal(s->pos[0].qty, 0);
	assert_int_equal(s->om.open, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)
		T(test_stop_market_buy),
		T(test_stop_market_sell),
		T(test_stop_limit),
		T(test_take_profit),
		T(test_trailing_stop_price),
		T(test_trailing_stop_bps),
		T(test_bars_trigger_on_range),
		T(test_attached_stop_loss),
		T(test_cancel_armed_is_local),
		T(test_cancel_replace_released_after_cancel_ack),
		T(test_cancel_replace_old_filled),
		T(test_cancel_replace_unknown_denied),
		T(test_cancel_replace_armed_stop_with_limit),
		T(test_replace_stop_with_stop_cancels_old),
		T(test_chained_replace_waits_for_venue_cancel),
		T(test_replace_rechecked_after_partial_fill),
		T(test_duplicate_key_includes_stop_px),
		T(test_regression_fill_during_cancel_forgets_cancel),
		T(test_regression_second_replace_after_partial_fill_orphaned),
		T(test_regression_market_replacement_reserved_at_intent_mark),
		T(test_triggered_stop_market_rechecked_at_market),
		T(test_triggered_stop_limit_rechecked_at_limit),
		T(test_triggered_take_profit_and_trailing_rechecked),
		T(test_triggered_stop_denied_for_cash),
		T(test_stop_loss_child_checked_at_release),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
