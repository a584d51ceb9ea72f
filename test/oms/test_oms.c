/*
 * test_oms.c - the OMS/risk stage handler (src/oms/oms.c, risk.c), driven
 * directly with hand-made events (design.md §2: "tests drive handlers
 * directly"). Output is captured by an ig_emit whose fn appends to an
 * array, so every test checks exactly what the stage emitted, to whom.
 *
 * The OMS runs on the data clock (as in the inline driver) unless a test
 * says otherwise: times below are data times in ms from T0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingenium/error.h"
#include "oms_harness.h"

#include <string.h>

#define T0 INT64_C(1600000000000000000) /* data time origin, ns */
#define MS OH_MS
#define D(s) oh_D(s)

static struct ig_config cfg; /* large: static */
static struct ig_oms oms;
static struct oh_cap out;

/* Config: two strategies (s0 on thread 0, s1 on thread 1), capital 1000
 * each, taker fee 10 bps, every risk limit unset. Tests set limits in
 * cfg.risk / cfg.strategies[i].risk and then call oh_start(). */
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 64, .t0_ns = T0,
	.file = "test_oms", .capital = "1000", .check_sanity = false,
};

static void quote_at(int64_t t_ms, const char *bid, const char *ask)
{
	oh_quote(t_ms, bid, ask);
	assert_int_equal(out.n, 0); /* marks emit nothing */
}

/* Sends an intent; returns 1 if accepted, 0 if denied (and the reason). */
static int send_order(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
		      const char *px, const char *qty, int64_t t_ms, int *reason)
{
	struct ig_event ev = oh_ord(sid, cid, side, type, px, qty, t_ms);
	oh_handle(&ev);
	if (out.n == 1) {
		const struct ig_event *r = &out.it[0].ev;
		assert_int_equal(out.it[0].dst, IG_STAGE_STRATEGY);
		assert_int_equal(out.it[0].idx, cfg.strategies[sid].thread);
		assert_int_equal(r->hdr.type, IG_EV_REJECT);
		assert_int_equal(r->hdr.strategy_id, sid);
		assert_int_equal(r->body.reject.client_id, cid);
		assert_int_equal(r->body.reject.by_venue, 0);
		assert_int_equal(r->body.reject.side, side);
		assert_int_equal(r->body.reject.qty, D(qty));
		*reason = r->body.reject.reason;
		return 0;
	}
	assert_int_equal(out.n, 2);
	/* Forwarded to the executor unchanged, but for a market order's px:
	 * a buy carries the worst price it was reserved at, a sell none ... */
	assert_int_equal(out.it[0].dst, IG_STAGE_EXEC);
	assert_int_equal(out.it[0].idx, 0);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_ORDER);
	{
		struct ig_order want = ev.body.order;
		if (want.type == IG_ORD_MARKET)
			want.px = want.side == IG_SIDE_BUY
					  ? ig_order_find(&oms.s[sid].om, cid)->ref_px
					  : 0;
		assert_memory_equal(&out.it[0].ev.body.order, &want, sizeof(want));
	}
	assert_int_equal(out.it[0].ev.hdr.strategy_id, sid);
	/* ... and the strategy hears SUBMITTED. */
	assert_int_equal(out.it[1].dst, IG_STAGE_STRATEGY);
	assert_int_equal(out.it[1].idx, cfg.strategies[sid].thread);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_ORDER_UPDATE);
	assert_int_equal(out.it[1].ev.body.update.client_id, cid);
	assert_int_equal(out.it[1].ev.body.update.state, IG_OS_SUBMITTED);
	assert_int_equal(out.it[1].ev.body.update.prev_state, IG_OS_INITIALIZED);
	assert_int_equal(out.it[1].ev.body.update.leaves_qty, D(qty));
	*reason = IG_RJ_NONE;
	return 1;
}

static void expect_ok(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
		      const char *px, const char *qty, int64_t t_ms)
{
	int reason = -1;
	if (!send_order(sid, cid, side, type, px, qty, t_ms, &reason))
		fail_msg("order %llu (%s %s @ %s) denied: %s", (unsigned long long)cid,
			 ig_side_name(side), qty, px ? px : "mkt",
			 ig_reject_reason_name((enum ig_reject_reason)reason));
	assert_true(ig_order_mgr_sanity(&oms.s[sid].om));
}

static void expect_denied(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
			  const char *px, const char *qty, int64_t t_ms, enum ig_reject_reason want)
{
	int reason = -1;
	uint64_t before = oms.s[sid].rejects[want], orders = oms.s[sid].orders;
	uint32_t open = oms.s[sid].om.open;
	if (send_order(sid, cid, side, type, px, qty, t_ms, &reason))
		fail_msg("order %llu (%s %s @ %s) accepted, want denial %s", (unsigned long long)cid,
			 ig_side_name(side), qty, px ? px : "mkt", ig_reject_reason_name(want));
	if (reason != (int)want)
		fail_msg("order %llu denied for %s, want %s", (unsigned long long)cid,
			 ig_reject_reason_name((enum ig_reject_reason)reason), ig_reject_reason_name(want));
	assert_int_equal(oms.s[sid].rejects[want], before + 1);
	/* A denial leaves no order behind. */
	assert_int_equal(oms.s[sid].orders, orders);
	assert_int_equal(oms.s[sid].om.open, open);
	assert_null(ig_order_find(&oms.s[sid].om, cid));
}

static struct ig_event fill_ev(uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side,
			       const char *px, const char *qty, const char *fee)
{
	return oh_fill_ev(0, sid, cid, trade_id, side, px, qty, fee); /* no data time */
}

static void send_update(uint16_t sid, uint64_t cid, enum ig_ord_state st)
{
	oh_venue_update_at(0, sid, cid, st); /* no data time */
}

/* A fill the OMS must refuse: nothing emitted, nothing changed. */
static void expect_fill_refused(struct ig_event *f)
{
	uint16_t sid = f->hdr.strategy_id;
	struct ig_oms_strategy before = oms.s[sid];
	oh_handle(f);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.s[sid].refused_fills, before.refused_fills + 1);
	assert_int_equal(oms.s[sid].fills, before.fills);
	assert_int_equal(oms.s[sid].cash, before.cash);
	assert_memory_equal(oms.s[sid].pos, before.pos, sizeof(before.pos));
	assert_int_equal(oms.s[sid].open_buy_notional, before.open_buy_notional);
}

/* ------------------------------------------------------------- marks */

static void test_market_data_sets_mark(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	assert_int_equal(oms.marks[0].px, 0);
	quote_at(0, "99", "101.00000001");
	/* mid = (99 + 101.00000001) / 2 = 100.000000005, truncated to 1e-8 */
	assert_int_equal(oms.marks[0].px, D("100"));
	assert_int_equal(oms.marks[0].ts_event_ns, T0);
	assert_int_equal(oms.s[0].pos[0].mark_px, D("100"));
	assert_int_equal(oms.s[1].pos[0].mark_px, D("100"));

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_TRADE;
	ev.hdr.instrument_id = 2;
	ev.hdr.ts_event_ns = T0 + 5 * MS;
	ev.body.trade.px = D("42.5");
	ev.body.trade.qty = D("1");
	oh_handle(&ev);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.marks[2].px, D("42.5"));
	assert_int_equal(oms.s[1].pos[2].mark_px, D("42.5"));
	assert_int_equal(oms.marks[0].px, D("100")); /* other instruments untouched */

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_BAR;
	ev.hdr.instrument_id = 0;
	ev.hdr.ts_event_ns = T0 + 60000 * MS;
	ev.body.bar.open_px = D("1");
	ev.body.bar.high_px = D("3");
	ev.body.bar.low_px = D("0.5");
	ev.body.bar.close_px = D("2");
	oh_handle(&ev);
	assert_int_equal(oms.marks[0].px, D("2"));
	assert_int_equal(oms.marks[0].ts_event_ns, T0 + 60000 * MS);
	assert_int_equal(oms.md_events, 3);
}

/* ------------------------------------------------------------- intents */

static void test_order_within_limits_forwarded(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.risk.max_order_qty = D("5");
	cfg.risk.max_order_notional = D("1000");
	cfg.risk.max_position_qty = D("5");
	cfg.risk.max_open_orders = 5;
	cfg.risk.max_orders_per_sec = 5;
	cfg.risk.price_collar_bps = 500;
	cfg.risk.stale_data_ms = 1000;
	oh_start();
	s = &oms.s[1];
	quote_at(0, "99.95", "100.05");
	expect_ok(1, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "2", 10);
	assert_int_equal(s->orders, 1);
	assert_int_equal(s->om.open, 1);
	assert_int_equal(s->open_buy_qty[0], D("2"));
	/* Cash reserved at the limit price plus the taker fee:
	 * 2 * 99 = 198, + 10 bps = 198.198. */
	assert_int_equal(s->open_buy_notional, D("198.198"));
	assert_int_equal(ig_order_find(&s->om, 7)->state, IG_OS_SUBMITTED);
	/* A market buy is reserved at the worst price it can be sent at: the
	 * ask plus market_buy_ioc_bps 50: 100.05 + 0.50025 = 100.55025, + fee
	 * 0.10055025. */
	expect_ok(1, 8, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 10);
	assert_int_equal(s->open_buy_notional, D("298.84880025"));
	assert_int_equal(s->open_buy_qty[0], D("3"));
	/* Nothing happened to the other strategy. */
	assert_int_equal(oms.s[0].orders, 0);
	assert_int_equal(oms.s[0].om.live, 0);
}

static void test_deny_invalid_and_no_mark(void **state)
{
	(void)state;
	oh_start();
	/* No quote yet. */
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, IG_RJ_NO_MARK);
	quote_at(0, "99", "101");
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
	/* Malformed intents that slipped past the host. */
	expect_denied(0, 3, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0", 0, IG_RJ_INVALID);
	expect_denied(0, 4, IG_SIDE_NONE, IG_ORD_MARKET, NULL, "1", 0, IG_RJ_INVALID);
	/* A client id already live cannot be reused. */
	{
		int reason;
		assert_int_equal(send_order(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, &reason), 0);
		assert_int_not_equal(reason, IG_RJ_NONE);
		assert_int_equal(oms.s[0].orders, 1);
	}
}

static void test_deny_max_order_qty(void **state)
{
	(void)state;
	cfg.risk.max_order_qty = D("1");
	cfg.strategies[1].risk.max_order_qty = D("0.5"); /* per-strategy override */
	oh_start();
	quote_at(0, "99", "101");
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1.00000001", 0, IG_RJ_MAX_ORDER_QTY);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
	expect_denied(1, 3, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.50000001", 0, IG_RJ_MAX_ORDER_QTY);
	expect_ok(1, 4, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.5", 0);
	/* Checked before the mark: even without data the reason is the size. */
	expect_denied(1, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "7", 0, IG_RJ_MAX_ORDER_QTY);
}

static void test_deny_max_order_notional(void **state)
{
	(void)state;
	cfg.risk.max_order_notional = D("500");
	cfg.strategies[0].capital = D("100000");
	oh_start();
	quote_at(0, "99.95", "100.05"); /* mark 100 */
	/* Market buys are valued at the worst price they can be sent at, the
	 * ask + 50 bps = 100.55025: 4.98 * 100.55025 = 500.739245 > 500,
	 * 4.97 of it = 499.7347425. */
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "4.98", 0, IG_RJ_MAX_ORDER_NOTIONAL);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "4.97", 0);
	/* Market sells at the mark: 5.00000001 * 100 > 500. */
	oh_fill(0, 2, 1, IG_SIDE_BUY, "100", "4.97", "0");
	expect_ok(0, 20, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "5", 0);
	oh_fill(0, 20, 2, IG_SIDE_BUY, "100", "5", "0");
	expect_denied(0, 21, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "5.00000001", 0, IG_RJ_MAX_ORDER_NOTIONAL);
	expect_ok(0, 22, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "5", 0);
	/* Limit orders at their price: 4 * 125.00000001 > 500, 4 * 125 = 500. */
	expect_denied(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "125.00000001", "4", 0, IG_RJ_MAX_ORDER_NOTIONAL);
	expect_ok(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "125", "4", 0);
}

static void test_deny_max_position_counts_open_orders(void **state)
{
	struct ig_event f;
	(void)state;
	cfg.risk.max_position_qty = D("2");
	cfg.strategies[0].capital = D("100000");
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1.5", 0);
	/* 1.5 open + 0.50000001 > 2, though the position is still 0. */
	expect_denied(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.50000001", 0, IG_RJ_MAX_POSITION);
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.5", 0);
	expect_denied(0, 4, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.00000001", 0, IG_RJ_MAX_POSITION);
	/* Fills move quantity from open to position; the sum stays at 2. */
	f = fill_ev(0, 1, 1, IG_SIDE_BUY, "101", "1.5", "0");
	oh_handle(&f);
	assert_int_equal(oms.s[0].pos[0].qty, D("1.5"));
	assert_int_equal(oms.s[0].open_buy_qty[0], D("0.5"));
	expect_denied(0, 5, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.00000001", 0, IG_RJ_MAX_POSITION);
	/* Selling reduces exposure and is allowed. */
	expect_ok(0, 6, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1.5", 0);
	/* Sell side: -(pos - open sells - qty) = -(1.5 - 1.5 - 2.00000001) > 2. */
	expect_denied(0, 7, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "2.00000001", 0, IG_RJ_MAX_POSITION);
}

static void test_deny_max_open_orders(void **state)
{
	(void)state;
	cfg.risk.max_open_orders = 3;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	expect_denied(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0, IG_RJ_MAX_OPEN_ORDERS);
	/* Per strategy: s1 is not affected. */
	expect_ok(1, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	/* A finished order frees its place. */
	send_update(0, 2, IG_OS_CANCELED);
	assert_int_equal(oms.s[0].om.open, 2);
	expect_ok(0, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	expect_denied(0, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0, IG_RJ_MAX_OPEN_ORDERS);
}

static void test_deny_rate_limit(void **state)
{
	(void)state;
	cfg.risk.max_orders_per_sec = 5;
	oh_start();
	quote_at(0, "99", "101");
	for (uint64_t i = 1; i <= 5; i++)
		expect_ok(0, i, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 100);
	expect_denied(0, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 100, IG_RJ_RATE_LIMIT);
	/* 199 ms later: 0.995 of a token, not enough. */
	expect_denied(0, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 299, IG_RJ_RATE_LIMIT);
	/* 200 ms after the last refill point: one token. */
	expect_ok(0, 8, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 300);
	expect_denied(0, 9, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 300, IG_RJ_RATE_LIMIT);
	/* A second later the bucket is full again: 5 more. */
	for (uint64_t i = 10; i < 15; i++)
		expect_ok(0, i, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 1300);
	expect_denied(0, 15, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 1300, IG_RJ_RATE_LIMIT);
}

static void test_deny_global_rate_limit_across_strategies(void **state)
{
	(void)state;
	/* One venue: the global bucket is shared; s0 may send up to 10 itself. */
	cfg.risk.max_orders_per_sec = 3;
	cfg.strategies[0].risk.max_orders_per_sec = 10;
	cfg.strategies[1].risk.max_orders_per_sec = 10;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0);
	expect_ok(1, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0);
	expect_denied(1, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0, IG_RJ_RATE_LIMIT);
	expect_denied(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0, IG_RJ_RATE_LIMIT);
}

static void test_deny_price_collar(void **state)
{
	(void)state;
	cfg.risk.price_collar_bps = 100; /* 1% of the mark: 100 +/- 1 */
	oh_start();
	quote_at(0, "99.95", "100.05");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "101", "1", 0);
	expect_denied(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "101.00000001", "1", 0, IG_RJ_PRICE_COLLAR);
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 0);
	expect_denied(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "98.99999999", "1", 0, IG_RJ_PRICE_COLLAR);
	/* Market orders have no price to collar. */
	expect_ok(0, 5, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
}

static void test_deny_stale_data_data_clock(void **state)
{
	(void)state;
	cfg.risk.stale_data_ms = 1000;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 1000);
	{
		/* 1 ns past the limit. */
		struct ig_event ev = oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 1000);
		ev.hdr.ts_event_ns += 1;
		oh_handle(&ev);
		assert_int_equal(out.n, 1);
		assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
		assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_STALE_DATA);
	}
	/* A new quote makes the data fresh again. */
	quote_at(1500, "99", "101");
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 2000);
	expect_denied(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 2501, IG_RJ_STALE_DATA);
}

static void test_deny_stale_data_ingress_clock(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.stale_data_ms = 1000;
	oh_start();
	oms.data_clock = false; /* threaded: the monotonic ingress clock */
	quote_at(0, "99", "101");
	/* Data time far ahead (a fast replay), ingress time within the limit. */
	ev = oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0);
	ev.hdr.ts_event_ns += 3600 * 1000 * MS;
	ev.hdr.ts_origin_ns += 1000 * MS;
	oh_handle(&ev);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_ORDER);
	/* Ingress time past the limit. */
	ev = oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "0.1", 0);
	ev.hdr.ts_origin_ns += 1000 * MS + 1;
	oh_handle(&ev);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_STALE_DATA);
}

static void test_deny_insufficient_cash(void **state)
{
	(void)state;
	/* A market buy valued at the touch itself: ask 100, no IOC collar. */
	cfg.venue.market_buy_ioc_bps = -1;
	oh_start(); /* capital 1000, taker fee 10 bps */
	quote_at(0, "100", "100"); /* mark 100 */
	/* 9.99001 * 100 = 999.001, fee 0.999001: 1000.000001 > 1000. */
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9.99001", 0, IG_RJ_INSUFFICIENT_CASH);
	/* 9.99000999 * 100 = 999.000999, fee 0.9990009990 -> 0.99900100:
	 * exactly 1000. */
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9.99000999", 0);
	/* Open buys hold their cash: 1 @ 1 (+ fee) no longer fits. */
	expect_denied(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "1", "1", 0, IG_RJ_INSUFFICIENT_CASH);
	/* Cancel it: the reservation is released. */
	send_update(0, 2, IG_OS_CANCELED);
	assert_int_equal(oms.s[0].open_buy_notional, 0);
	assert_int_equal(oms.s[0].open_buy_qty[0], 0);
	/* Limit orders reserve at their price: 10 @ 99.9 = 999, fee 0.999. */
	expect_ok(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "99.9", "10", 0);
	assert_int_equal(oms.s[0].open_buy_notional, D("999.999"));
	/* 0.001 is left: 0.02 @ 99.9 = 1.998 does not fit. */
	expect_denied(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "99.9", "0.02", 0, IG_RJ_INSUFFICIENT_CASH);
	/* The other strategy has its own cash. */
	expect_ok(1, 6, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9", 0);
	/* Sells need no cash. */
}

/*
 * Regression: the cash check charges the taker fee of the new order, so the
 * reservation kept for an open buy must include that fee too. When it held
 * the notional only, a first buy that used all the cash including its fee
 * left exactly its fee "free" for a second buy, and two buys together could
 * spend more than the strategy had.
 */
static void test_open_buy_reservation_includes_fee(void **state)
{
	(void)state;
	cfg.venue.market_buy_ioc_bps = -1; /* market buys valued at the ask */
	oh_start(); /* capital 1000, taker fee 10 bps */
	quote_at(0, "100", "100"); /* mark 100 */
	/* 999.000999 + fee 0.999001 = 1000: all the cash. */
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9.99000999", 0);
	/* 0.5 @ 1 + fee 0.0005: there is no cash left for it. */
	expect_denied(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "1", "0.5", 0, IG_RJ_INSUFFICIENT_CASH);
}

/* A limit buy may fill as maker: with a maker fee above the taker fee,
 * the cash check and the reservation use the larger one (what the order
 * can cost), not the taker fee alone. */
static void test_buy_reserves_the_larger_fee(void **state)
{
	(void)state;
	cfg.venue.maker_fee_bps = 20; /* taker 10 */
	oh_start();                    /* capital 1000 */
	quote_at(0, "100", "100");
	/* 9.98 @ 100 = 998 + 20 bps 1.996 = 999.996 fits; 10 bps would allow 9.99. */
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "9.99", 0, IG_RJ_INSUFFICIENT_CASH);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "9.98", 0);
	assert_int_equal(oms.s[0].open_buy_notional, D("999.996"));
}

static void test_deny_insufficient_position(void **state)
{
	struct ig_event f;
	(void)state;
	oh_start();
	quote_at(0, "99", "101");
	/* Spot: nothing held, nothing to sell. */
	expect_denied(0, 1, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.00000001", 0, IG_RJ_INSUFFICIENT_POSITION);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
	f = fill_ev(0, 2, 1, IG_SIDE_BUY, "101", "1", "0.101");
	oh_handle(&f);
	expect_denied(0, 3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1.00000001", 0, IG_RJ_INSUFFICIENT_POSITION);
	expect_ok(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "0.6", 0);
	/* 0.6 is already offered: 0.4 is left. */
	expect_denied(0, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.40000001", 0, IG_RJ_INSUFFICIENT_POSITION);
	expect_ok(0, 6, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.4", 0);
	assert_int_equal(oms.s[0].open_sell_qty[0], D("1"));
}

/* ------------------------------------------------------------- fills */

static void test_partial_then_final_fill(void **state)
{
	struct ig_event f;
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	(void)state;
	oh_start();
	s = &oms.s[1];
	quote_at(0, "99", "101");
	expect_ok(1, 9, IG_SIDE_BUY, IG_ORD_LIMIT, "101", "3", 0);
	assert_int_equal(s->open_buy_notional, D("303.303")); /* 3 * 101 + 10 bps */
	send_update(1, 9, IG_OS_ACCEPTED);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.update.state, IG_OS_ACCEPTED);
	assert_int_equal(out.it[0].ev.body.update.venue_order_id, 509);
	r = ig_order_find(&s->om, 9);
	assert_ptr_equal(ig_order_find_venue(&s->om, 509), r);

	/* Partial: 1 @ 100.5, fee 0.1005. */
	f = fill_ev(1, 9, 17, IG_SIDE_BUY, "100.5", "1", "0.1005");
	oh_handle(&f);
	assert_int_equal(out.n, 3);
	/* fill, then position, then the state change, all to thread 1 */
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(out.it[i].dst, IG_STAGE_STRATEGY);
		assert_int_equal(out.it[i].idx, 1);
		assert_int_equal(out.it[i].ev.hdr.strategy_id, 1);
	}
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_FILL);
	assert_int_equal(out.it[0].ev.body.fill.qty, D("1"));
	assert_int_equal(out.it[0].ev.body.fill.last, 0);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_POSITION);
	assert_int_equal(out.it[1].ev.body.position.qty, D("1"));
	assert_int_equal(out.it[1].ev.body.position.avg_px, D("100.5"));
	/* cash 1000 - 100.5 - 0.1005 */
	assert_int_equal(out.it[1].ev.body.position.cash, D("899.3995"));
	assert_int_equal(out.it[1].ev.body.position.fees, D("0.1005"));
	assert_int_equal(out.it[1].ev.body.position.open_buy_qty, D("2"));
	assert_int_equal(out.it[2].ev.hdr.type, IG_EV_ORDER_UPDATE);
	assert_int_equal(out.it[2].ev.body.update.state, IG_OS_PARTIALLY_FILLED);
	assert_int_equal(out.it[2].ev.body.update.prev_state, IG_OS_ACCEPTED);
	assert_int_equal(out.it[2].ev.body.update.filled_qty, D("1"));
	assert_int_equal(out.it[2].ev.body.update.leaves_qty, D("2"));
	assert_int_equal(out.it[2].ev.body.update.avg_px, D("100.5"));
	assert_int_equal(s->fills, 1);
	assert_int_equal(s->open_buy_qty[0], D("2"));
	assert_int_equal(s->open_buy_notional, D("202.202")); /* 2 left at the limit 101, + fee */
	assert_int_equal(r->state, IG_OS_PARTIALLY_FILLED);

	/* Final: 2 @ 101, fee 0.202. */
	f = fill_ev(1, 9, 18, IG_SIDE_BUY, "101", "2", "0.202");
	oh_handle(&f);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.it[0].ev.body.fill.last, 1);
	assert_int_equal(out.it[2].ev.body.update.state, IG_OS_FILLED);
	assert_int_equal(out.it[2].ev.body.update.leaves_qty, 0);
	/* avg of the order: (100.5 + 202) / 3 = 100.83333333 */
	assert_int_equal(out.it[2].ev.body.update.avg_px, D("100.83333333"));
	assert_int_equal(s->fills, 2);
	assert_int_equal(s->pos[0].qty, D("3"));
	assert_int_equal(s->pos[0].bought_qty, D("3"));
	/* avg (100.5 + 202) / 3 = 100.8333333333 -> 100.83333333 */
	assert_int_equal(s->pos[0].avg_px, D("100.83333333"));
	/* cash 899.3995 - 202 - 0.202 = 697.1975 */
	assert_int_equal(s->cash, D("697.1975"));
	assert_int_equal(s->pos[0].fees, D("0.3025"));
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->om.live, 0);
	/* Retired: no longer found by either id. */
	assert_null(ig_order_find(&s->om, 9));
	assert_null(ig_order_find_venue(&s->om, 509));
	assert_true(ig_order_mgr_sanity(&s->om));
	/* Equity at the mark 100: 697.1975 + 300. */
	assert_int_equal(ig_oms_equity(&oms, 1), D("997.1975"));
	/* The other strategy's books are untouched. */
	assert_int_equal(oms.s[0].cash, D("1000"));
	assert_int_equal(oms.s[0].pos[0].qty, 0);
}

static void test_fill_refusals(void **state)
{
	struct ig_event f;
	(void)state;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 0);
	f = fill_ev(0, 1, 5, IG_SIDE_BUY, "101", "1", "0.101");
	oh_handle(&f);
	assert_int_equal(oms.s[0].fills, 1);

	/* The same trade again, and an older one: duplicates. */
	f = fill_ev(0, 1, 5, IG_SIDE_BUY, "101", "1", "0.101");
	expect_fill_refused(&f);
	f = fill_ev(0, 1, 4, IG_SIDE_BUY, "101", "0.5", "0");
	expect_fill_refused(&f);
	/* More than the 1 left: overfill. */
	f = fill_ev(0, 1, 6, IG_SIDE_BUY, "101", "1.00000001", "0");
	expect_fill_refused(&f);
	/* Wrong side, zero quantity, bad price: malformed. */
	f = fill_ev(0, 1, 7, IG_SIDE_SELL, "101", "0.5", "0");
	expect_fill_refused(&f);
	f = fill_ev(0, 1, 8, IG_SIDE_BUY, "101", "0", "0");
	expect_fill_refused(&f);
	f = fill_ev(0, 1, 9, IG_SIDE_BUY, "0", "0.5", "0");
	expect_fill_refused(&f);
	/* Unknown order, and the right order under the wrong strategy. */
	f = fill_ev(0, 99, 10, IG_SIDE_BUY, "101", "0.5", "0");
	expect_fill_refused(&f);
	f = fill_ev(1, 1, 11, IG_SIDE_BUY, "101", "0.5", "0");
	expect_fill_refused(&f);
	/* A strategy id out of range is counted as an unknown report. */
	f = fill_ev(0, 1, 12, IG_SIDE_BUY, "101", "0.5", "0");
	f.hdr.strategy_id = 40;
	oh_handle(&f);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.unknown_reports, 1);

	/* The order still completes normally. */
	f = fill_ev(0, 1, 13, IG_SIDE_BUY, "101", "1", "0.101");
	oh_handle(&f);
	assert_int_equal(oms.s[0].fills, 2);
	assert_int_equal(oms.s[0].pos[0].qty, D("2"));
	assert_int_equal(oms.s[0].refused_fills, 7);
	assert_int_equal(oms.s[1].refused_fills, 1);
	/* Filled and retired: a late fill is for an unknown order now. */
	f = fill_ev(0, 1, 14, IG_SIDE_BUY, "101", "0.1", "0");
	expect_fill_refused(&f);
	assert_int_equal(oms.s[0].om.illegal, 0);
}

static void test_fill_after_cancel_request(void **state)
{
	struct ig_event c, f;
	struct ig_oms_strategy *s;
	(void)state;
	oh_start();
	s = &oms.s[0];
	quote_at(0, "99", "101");
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", 0);
	send_update(0, 3, IG_OS_ACCEPTED);

	memset(&c, 0, sizeof(c));
	c.hdr.type = IG_EV_CANCEL;
	c.hdr.src = IG_STAGE_STRATEGY;
	c.hdr.strategy_id = 0;
	c.hdr.instrument_id = 0;
	c.body.cancel.client_id = 3;
	oh_handle(&c);
	/* The strategy hears PENDING_CANCEL, the executor gets the cancel. */
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].dst, IG_STAGE_STRATEGY);
	assert_int_equal(out.it[0].ev.body.update.state, IG_OS_PENDING_CANCEL);
	assert_int_equal(out.it[1].dst, IG_STAGE_EXEC);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_CANCEL);
	assert_int_equal(out.it[1].ev.body.cancel.client_id, 3);
	assert_int_equal(s->cancels, 1);
	/* Asking again sends the cancel again (the venue may not have got
	 * it through) but moves nothing and counts no new cancel. */
	oh_handle(&c);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].dst, IG_STAGE_EXEC);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_CANCEL);
	assert_int_equal(out.it[0].ev.body.cancel.client_id, 3);
	assert_int_equal(s->cancels, 1);

	/* The venue filled it before the cancel arrived: the venue wins. */
	f = fill_ev(0, 3, 1, IG_SIDE_BUY, "100", "0.5", "0");
	oh_handle(&f);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.it[2].ev.body.update.state, IG_OS_PARTIALLY_FILLED);
	assert_int_equal(out.it[2].ev.body.update.prev_state, IG_OS_PENDING_CANCEL);
	f = fill_ev(0, 3, 2, IG_SIDE_BUY, "100", "1.5", "0");
	oh_handle(&f);
	assert_int_equal(out.it[2].ev.body.update.state, IG_OS_FILLED);
	assert_int_equal(s->pos[0].qty, D("2"));
	assert_int_equal(s->cash, D("800"));
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->om.live, 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->om.illegal, 0);
	assert_int_equal(s->refused_fills, 0);
	/* The venue's late CANCELED for a finished order is an unknown report. */
	send_update(0, 3, IG_OS_CANCELED);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.unknown_reports, 1);
}

static void test_cancel_after_partial_releases_rest(void **state)
{
	struct ig_event c, f;
	struct ig_oms_strategy *s;
	(void)state;
	oh_start();
	s = &oms.s[0];
	quote_at(0, "99", "101");
	expect_ok(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", 0);
	f = fill_ev(0, 4, 1, IG_SIDE_BUY, "100", "0.5", "0");
	oh_handle(&f);
	assert_int_equal(s->open_buy_notional, D("150.15")); /* 1.5 left at 100, + fee */
	memset(&c, 0, sizeof(c));
	c.hdr.type = IG_EV_CANCEL;
	c.hdr.strategy_id = 0;
	c.body.cancel.client_id = 4;
	oh_handle(&c);
	send_update(0, 4, IG_OS_CANCELED);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.update.state, IG_OS_CANCELED);
	assert_int_equal(out.it[0].ev.body.update.leaves_qty, 0);
	assert_int_equal(out.it[0].ev.body.update.filled_qty, D("0.5"));
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->pos[0].qty, D("0.5"));
	assert_int_equal(s->om.live, 0);
}

static void test_cancel_unknown_order(void **state)
{
	struct ig_event c;
	(void)state;
	oh_start();
	memset(&c, 0, sizeof(c));
	c.hdr.type = IG_EV_CANCEL;
	c.hdr.src = IG_STAGE_STRATEGY;
	c.hdr.strategy_id = 1;
	c.body.cancel.client_id = 12345;
	oh_handle(&c);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].dst, IG_STAGE_STRATEGY);
	assert_int_equal(out.it[0].idx, 1);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
	assert_int_equal(out.it[0].ev.hdr.strategy_id, 1);
	assert_int_equal(out.it[0].ev.body.reject.client_id, 12345);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_UNKNOWN_ORDER);
	assert_int_equal(out.it[0].ev.body.reject.by_venue, 0);
	assert_int_equal(oms.s[1].rejects[IG_RJ_UNKNOWN_ORDER], 1);
	assert_string_equal(ig_reject_reason_name(IG_RJ_UNKNOWN_ORDER), "unknown_order");
}

static void test_venue_reject_and_expiry_release(void **state)
{
	struct ig_event rj;
	struct ig_oms_strategy *s;
	(void)state;
	oh_start();
	s = &oms.s[0];
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 0);
	memset(&rj, 0, sizeof(rj));
	rj.hdr.type = IG_EV_REJECT;
	rj.hdr.src = IG_STAGE_EXEC;
	rj.hdr.strategy_id = 0;
	rj.body.reject.client_id = 1;
	rj.body.reject.reason = IG_RJ_VENUE_POST_ONLY;
	rj.body.reject.by_venue = 1;
	oh_handle(&rj);
	/* The reject goes to the strategy, then the REJECTED update. */
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
	assert_int_equal(out.it[0].ev.body.reject.by_venue, 1);
	assert_int_equal(out.it[1].ev.body.update.state, IG_OS_REJECTED);
	assert_int_equal(out.it[1].ev.body.update.reason, IG_RJ_VENUE_POST_ONLY);
	assert_int_equal(s->rejects[IG_RJ_VENUE_POST_ONLY], 1);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->om.live, 0);

	/* FOK that found no liquidity: ACCEPTED then EXPIRED. */
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
	send_update(0, 2, IG_OS_ACCEPTED);
	send_update(0, 2, IG_OS_EXPIRED);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.update.state, IG_OS_EXPIRED);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->om.live, 0);
	assert_int_equal(s->om.illegal, 0);
	/* A report for an order the OMS never saw. */
	send_update(0, 77, IG_OS_ACCEPTED);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.unknown_reports, 1);
}

/* A late ACCEPTED (after a fill or a cancel request) adds nothing. */
static void test_late_accepted_ignored(void **state)
{
	struct ig_event f;
	(void)state;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 0);
	f = fill_ev(0, 1, 1, IG_SIDE_BUY, "101", "1", "0");
	oh_handle(&f);
	send_update(0, 1, IG_OS_ACCEPTED);
	assert_int_equal(out.n, 0);
	assert_int_equal(ig_order_find(&oms.s[0].om, 1)->state, IG_OS_PARTIALLY_FILLED);
	assert_int_equal(oms.s[0].om.illegal, 0);
}

/* An impossible report is refused by the transition table and counted. */
static void test_illegal_report_counted(void **state)
{
	(void)state;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 0);
	send_update(0, 1, IG_OS_INITIALIZED);
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.s[0].om.illegal, 1);
	assert_int_equal(ig_order_find(&oms.s[0].om, 1)->state, IG_OS_SUBMITTED);
}

/* The shutdown token: FEED_END from the tick stage and every strategy
 * thread goes once to the executor; its echo marks the OMS done. */
static void test_feed_end_token(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_FEED_END;
	ev.hdr.src = IG_STAGE_TICK;
	oh_handle(&ev);
	assert_int_equal(out.n, 0);
	ev.hdr.src = IG_STAGE_STRATEGY;
	oh_handle(&ev);
	assert_int_equal(out.n, 0);
	assert_false(ig_oms_done(&oms));
	oh_handle(&ev); /* the second strategy thread */
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].dst, IG_STAGE_EXEC);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_CONTROL);
	assert_int_equal(out.it[0].ev.body.control.cmd, IG_CTL_FEED_END);
	assert_false(ig_oms_done(&oms));
	ev.hdr.src = IG_STAGE_EXEC;
	oh_handle(&ev);
	assert_int_equal(out.n, 0);
	assert_true(ig_oms_done(&oms));
}

/* After the token has gone on to the executor (the cancel sweep of a
 * graceful stop is ahead of it), a new intent is denied: an order a
 * strategy sends from the callbacks of that sweep (on_fill,
 * on_order_update) would reach the venue behind the sweep and stay working
 * once the process exits. Cancels still pass. */
static void test_no_new_orders_after_token(void **state)
{
	struct ig_event ev;
	const struct ig_event *rj;
	(void)state;
	oh_start();
	oh_quote(0, "99", "101");
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_FEED_END;
	ev.hdr.src = IG_STAGE_TICK;
	oh_handle(&ev);
	ev.hdr.src = IG_STAGE_STRATEGY;
	oh_handle(&ev);
	oh_handle(&ev);
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CONTROL, 0));
	ev = oh_ord(0, 7, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 1);
	oh_handle(&ev);
	assert_null(oh_exec_order(7));
	rj = oh_reject_for(7);
	assert_non_null(rj);
	assert_int_equal(rj->body.reject.reason, IG_RJ_HALTED);
}

/* ------------------------------------------------- trading states
 * (conditional orders and cancel-replace: test_oms_conditional.c) */

/* Long qty at px for strategy 0, through an order and its fill. */
static void go_long(uint64_t cid, const char *px, const char *qty, int64_t t_ms)
{
	struct ig_event f;
	expect_ok(0, cid, IG_SIDE_BUY, IG_ORD_MARKET, NULL, qty, t_ms);
	f = fill_ev(0, cid, cid * 100, IG_SIDE_BUY, px, qty, "0");
	f.hdr.ts_event_ns = T0 + t_ms * MS;
	oh_handle(&f);
	assert_int_equal(oms.s[0].refused_fills, 0);
}

static void test_kill_switch(void **state)
{
	struct ig_event k;
	(void)state;
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "2", 0);
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	expect_ok(1, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 0);
	memset(&k, 0, sizeof(k));
	k.hdr.type = IG_EV_CONTROL;
	k.hdr.strategy_id = IG_STRATEGY_NONE;
	k.body.control.cmd = IG_CTL_KILL_SWITCH;
	k.body.control.arg = 1;
	oh_handle(&k);
	/* Every open order of every strategy is cancelled at the venue. */
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, 2));
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, 3));
	assert_int_equal(oms.kill_cancels, 2);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 2);
	/* New exposure is refused; reducing is allowed. */
	expect_denied(0, 4, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 0, IG_RJ_KILL_SWITCH);
	expect_ok(0, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 0);
	expect_denied(0, 6, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1.5", 0, IG_RJ_KILL_SWITCH);
	/* Engaged again while engaged (the venue has not confirmed): the
	 * cancels of what is still open go out again (a second SIGUSR1). */
	k.body.control.arg = 1;
	oh_handle(&k);
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, 2));
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, 3));
	assert_true(oms.kill_switch);
	/* Cleared: back to normal. */
	k.body.control.arg = 0;
	oh_handle(&k);
	assert_int_equal(out.n, 0);
	expect_ok(0, 7, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 0);
}

static void test_duplicate_and_reduce_only(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.duplicate_window_ms = 1000;
	oh_start();
	quote_at(0, "99.99", "100.01");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 0);
	/* Same side, price and size within the window. */
	expect_denied(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1000, IG_RJ_DUPLICATE);
	/* A different size, or after the window, is not a duplicate. */
	expect_ok(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1.1", 1000);
	expect_ok(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1001);
	/* Reduce-only with nothing to reduce. */
	ev = oh_ord(0, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 2000);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	oh_handle(&ev);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_REDUCE_ONLY);
}

static void test_daily_loss_same_day(void **state)
{
	struct ig_event f;
	(void)state;
	cfg.risk.daily_loss_limit = D("10");
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "1", 0);
	/* Sell at 89.99: realized -10.01 on the day. */
	expect_ok(0, 2, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.5", 10);
	f = fill_ev(0, 2, 7, IG_SIDE_SELL, "79.98", "0.5", "0");
	f.hdr.ts_event_ns = T0 + 10 * MS;
	oh_handle(&f);
	assert_int_equal(oms.s[0].trading_state, IG_TS_REDUCING);
	/* Reducing: buys denied with the breach as reason, sells allowed. */
	expect_denied(0, 3, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 20, IG_RJ_DAILY_LOSS);
	expect_ok(0, 4, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.5", 20);
	/* The position event tells the strategy. */
	f = fill_ev(0, 4, 8, IG_SIDE_SELL, "80", "0.5", "0");
	oh_handle(&f);
	assert_non_null(oh_find(IG_STAGE_STRATEGY, IG_EV_POSITION, 0));
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_POSITION)
			assert_int_equal(out.it[i].ev.body.position.trading_state, IG_TS_REDUCING);
}

/*
 * Regression (fixed in a84f3c2): the daily loss window opened on the data
 * day of the first event the OMS re-valued on. Marks re-value only under a
 * drawdown limit, so with only a daily_loss_limit the new day was noticed
 * at its first fill, after that fill's PnL was in: a loss taken by the
 * first fill of a day was not counted against that day. Here the whole
 * loss (-50 against a limit of 10) is the first fill of day 2.
 */
static void test_daily_loss_first_fill_of_day(void **state)
{
	struct ig_event f;
	const int64_t day_ms = INT64_C(86400000);
	(void)state;
	cfg.risk.daily_loss_limit = D("10");
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "1", 0);
	quote_at(day_ms + 5, "49.99", "50.01"); /* the next day */
	expect_ok(0, 2, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", day_ms + 5);
	f = fill_ev(0, 2, 7, IG_SIDE_SELL, "50", "1", "0");
	f.hdr.ts_event_ns = T0 + (day_ms + 5) * MS;
	oh_handle(&f);
	assert_int_equal(oms.s[0].pos[0].realized_pnl, D("-50"));
	if (oms.s[0].trading_state != IG_TS_REDUCING)
		fail_msg("a loss of 50 against a daily limit of 10 left the strategy %s: the first "
			 "fill of a day is not counted in that day's loss",
			 ig_trading_state_name((enum ig_trading_state)oms.s[0].trading_state));
}

static void test_drawdown_reducing(void **state)
{
	(void)state;
	cfg.risk.max_drawdown_pct = D("10");
	oh_start(); /* capital 1000 */
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "5", 0); /* cash 500, 5 @ 100 */
	assert_int_equal(oms.s[0].equity_hwm, D("1000"));
	/* Equity 500 + 5 * 80.01 = 900.05: 9.995% down, within the limit. */
	quote_at(1, "80", "80.02");
	assert_int_equal(oms.s[0].trading_state, IG_TS_ACTIVE);
	/* 500 + 5 * 79.99 = 899.95: 10.005% down. */
	quote_at(2, "79.98", "80");
	assert_int_equal(oms.s[0].trading_state, IG_TS_REDUCING);
	assert_int_equal(oms.s[0].drawdown_pct, D("10.005"));
	expect_denied(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 3, IG_RJ_DRAWDOWN);
	expect_ok(0, 3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 3);
	/* The other strategy is not affected. */
	expect_ok(1, 4, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 3);
}

static void test_drawdown_halted_per_strategy(void **state)
{
	(void)state;
	cfg.risk.max_drawdown_pct = D("10");
	cfg.strategies[0].risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "5", 0);
	quote_at(2, "79.98", "80");
	assert_int_equal(oms.s[0].trading_state, IG_TS_HALTED);
	/* Halted: nothing, not even a reduction. */
	expect_denied(0, 3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 3, IG_RJ_HALTED);
}

/* Regression (fixed in a84f3c2): risk.drawdown_action in the global section
 * applies to every strategy that does not override it (config.h: per-strategy
 * risk overrides the global one). The per-strategy field used to default to
 * "reducing" rather than "unset", so the global value was never used. */
static void test_drawdown_action_global(void **state)
{
	(void)state;
	cfg.risk.max_drawdown_pct = D("10");
	cfg.risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "5", 0);
	quote_at(2, "79.98", "80");
	if (oms.s[0].trading_state != IG_TS_HALTED)
		fail_msg("global risk.drawdown_action=halted, no override: state is %s",
			 ig_trading_state_name((enum ig_trading_state)oms.s[0].trading_state));
}

static void test_tax_on_net_gains(void **state)
{
	struct ig_event f;
	(void)state;
	cfg.risk.tax_rate_pct = D("25");
	oh_start();
	quote_at(0, "99.99", "100.01");
	go_long(1, "100", "1", 0);
	expect_ok(0, 2, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 1);
	/* Realized 10, fee 0.11: net 9.89, 25% = 2.4725. */
	f = fill_ev(0, 2, 9, IG_SIDE_SELL, "110", "1", "0.11");
	oh_handle(&f);
	assert_int_equal(oms.s[0].tax, D("2.4725"));
	/* Taxes are reported, not taken from cash: 1000 - 100 + 110 - 0.11. */
	assert_int_equal(oms.s[0].cash, D("1009.89"));
}

/*
 * Regression (defect 5): maker_fee_bps may be negative (a rebate), and the
 * venue then reports a fill with a negative fee. The OMS refused every such
 * fill as malformed: the fill was dropped and the order stayed open in the
 * OMS while the venue had finished it. A rebate is booked: cash goes up by
 * it, fees go down by it, and realized PnL, net PnL and tax stay exact.
 */
static void test_maker_rebate_booked(void **state)
{
	struct ig_event f;
	struct ig_oms_totals t;
	struct ig_oms_strategy *s;
	(void)state;
	cfg.risk.tax_rate_pct = D("25");
	cfg.venue.maker_fee_bps = -2;
	oh_start();
	s = &oms.s[0];
	quote_at(0, "99.99", "100.01");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 0);
	send_update(0, 1, IG_OS_ACCEPTED);
	/* Maker fill 1 @ 100: rebate 100 * 2 bps = 0.02. */
	f = fill_ev(0, 1, 1, IG_SIDE_BUY, "100", "1", "-0.02");
	f.body.fill.liquidity = IG_LIQ_MAKER;
	oh_handle(&f);
	assert_int_equal(s->refused_fills, 0);
	assert_int_equal(s->fills, 1);
	assert_non_null(oh_update_for(0, 1, IG_OS_FILLED));
	assert_null(oh_rec(0, 1));
	assert_int_equal(s->om.open, 0);
	assert_int_equal(s->open_buy_qty[0], 0);
	assert_int_equal(s->open_buy_notional, 0);
	assert_int_equal(s->pos[0].qty, D("1"));
	assert_int_equal(s->pos[0].fees, D("-0.02"));
	assert_int_equal(s->cash, D("900.02")); /* 1000 - 100 + 0.02 */
	assert_non_null(oh_find(IG_STAGE_STRATEGY, IG_EV_FILL, 1));
	/* Maker sell 1 @ 110: rebate 0.022; realized 10, fees -0.042,
	 * net 10.042, tax 25% = 2.5105. */
	expect_ok(0, 2, IG_SIDE_SELL, IG_ORD_LIMIT, "110", "1", 1);
	send_update(0, 2, IG_OS_ACCEPTED);
	f = fill_ev(0, 2, 2, IG_SIDE_SELL, "110", "1", "-0.022");
	f.body.fill.liquidity = IG_LIQ_MAKER;
	oh_handle(&f);
	assert_int_equal(s->refused_fills, 0);
	assert_int_equal(s->fills, 2);
	assert_null(oh_rec(0, 2));
	assert_int_equal(s->pos[0].qty, 0);
	assert_int_equal(s->pos[0].realized_pnl, D("10"));
	assert_int_equal(s->pos[0].fees, D("-0.042"));
	assert_int_equal(s->cash, D("1010.042"));
	assert_int_equal(s->tax, D("2.5105"));
	ig_oms_totals(&oms, 0, &t);
	assert_int_equal(t.fees, D("-0.042"));
	assert_int_equal(t.realized, D("10"));
	assert_int_equal(ig_oms_equity(&oms, 0), D("1010.042"));
}

/*
 * Regression (defect 8): a market buy reserved cash (and was checked) at
 * the mark, but the Luno venue sends it as an IOC bid at the reference
 * price (the ask) plus venue.market_buy_ioc_bps (default 50), and the
 * paper venue fills it at the ask. The OMS now checks and reserves
 * notional + taker fee at the worst price the order can be sent at.
 */
static void test_market_buy_reserved_at_worst_send_price(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	oh_start(); /* capital 1000, taker fee 10 bps, market_buy_ioc_bps 50 */
	s = &oms.s[0];
	quote_at(0, "99", "101"); /* mark 100, ask 101 */
	/* Worst send price 101 * 1.005 = 101.505; 9.85 of it with the fee:
	 * 999.82425 + 0.99982425 > 1000. At the mark it was 985.985. */
	expect_denied(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9.85", 0, IG_RJ_INSUFFICIENT_CASH);
	/* 9.84: 998.8092 + 0.9988092 = 999.8080092 fits. */
	expect_ok(0, 2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "9.84", 0);
	assert_int_equal(s->open_buy_notional, D("999.8080092"));
	/* A fill releases the reserve of what it filled, at that price. */
	oh_fill(0, 2, 1, IG_SIDE_BUY, "101", "4.84", "0.48884");
	assert_int_equal(s->open_buy_notional, D("508.032525")); /* 5 * 101.505 * 1.001 */
}

/* venue.market_buy_ioc_bps -1 (Luno's marketorder by counter volume, qty
 * times the ask): the worst price is the ask itself. */
static void test_market_buy_reserved_at_ask_without_ioc(void **state)
{
	(void)state;
	cfg.venue.market_buy_ioc_bps = -1;
	oh_start();
	quote_at(0, "99", "101");
	expect_ok(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0);
	assert_int_equal(oms.s[0].open_buy_notional, D("101.101"));
}

/* Taps fan out: the first (ig_oms_set_tap) and every added one see each
 * update, fill and denial, in order; each order record counts its
 * updates (the history store's event seq). */
struct tap_log {
	uint32_t n;
	uint16_t type[32];
	uint32_t seq[32];
};

static void tap_note(void *arg, const struct ig_oms *o, const struct ig_event *ev,
		     const struct ig_order_rec *r)
{
	struct tap_log *l = arg;
	(void)o;
	if (l->n < 32) {
		l->type[l->n] = ev->hdr.type;
		l->seq[l->n] = r != NULL ? r->updates : 0;
		l->n++;
	}
}

static void test_taps_fan_out_and_count_updates(void **state)
{
	static struct tap_log a, b, c;
	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	cfg.risk.max_order_qty = D("5");
	oh_start();
	ig_oms_set_tap(&oms, tap_note, &a);
	assert_int_equal(ig_oms_add_tap(&oms, tap_note, &b), 0);
	assert_int_equal(ig_oms_add_tap(&oms, tap_note, &c), 0);
	assert_int_equal(ig_oms_add_tap(&oms, tap_note, &c), 0);
	assert_int_equal(ig_oms_add_tap(&oms, tap_note, &c), IG_ELIMIT);
	/* Clearing the first leaves the added ones. */
	ig_oms_set_tap(&oms, NULL, NULL);
	ig_oms_set_tap(&oms, tap_note, &a);
	quote_at(0, "99.95", "100.05");
	expect_ok(0, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", 10);
	oh_venue_update(0, 7, IG_OS_ACCEPTED);
	oh_fill(0, 7, 1, IG_SIDE_BUY, "100", "1", "0");
	oh_fill(0, 7, 2, IG_SIDE_BUY, "100", "1", "0");
	oh_handle(OH_BY_REF(oh_ord(0, 8, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "9", 20)));
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.type, b.type, sizeof(a.type));
	assert_memory_equal(a.seq, b.seq, sizeof(a.seq));
	assert_int_equal(c.n, 2 * a.n);
	/* Updates count 1, 2, ... per order; a fill carries the count so far. */
	assert_int_equal(oh_rec(0, 7) == NULL ? 0 : 1, 0); /* filled: retired */
	{
		uint32_t last = 0, updates = 0, fills = 0, denials = 0;
		for (uint32_t i = 0; i < a.n; i++) {
			if (a.type[i] == IG_EV_ORDER_UPDATE) {
				assert_int_equal(a.seq[i], ++last);
				updates++;
			} else if (a.type[i] == IG_EV_FILL) {
				fills++;
			} else if (a.type[i] == IG_EV_REJECT) {
				denials++;
			}
		}
		assert_true(updates >= 3); /* accepted, partially filled, filled */
		assert_int_equal(fills, 2);
		assert_int_equal(denials, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)
		T(test_market_data_sets_mark),
		T(test_taps_fan_out_and_count_updates),
		T(test_order_within_limits_forwarded),
		T(test_deny_invalid_and_no_mark),
		T(test_deny_max_order_qty),
		T(test_deny_max_order_notional),
		T(test_deny_max_position_counts_open_orders),
		T(test_deny_max_open_orders),
		T(test_deny_rate_limit),
		T(test_deny_global_rate_limit_across_strategies),
		T(test_deny_price_collar),
		T(test_deny_stale_data_data_clock),
		T(test_deny_stale_data_ingress_clock),
		T(test_deny_insufficient_cash),
		T(test_deny_insufficient_position),
		T(test_open_buy_reservation_includes_fee),
		T(test_buy_reserves_the_larger_fee),
		T(test_partial_then_final_fill),
		T(test_fill_refusals),
		T(test_fill_after_cancel_request),
		T(test_cancel_after_partial_releases_rest),
		T(test_cancel_unknown_order),
		T(test_venue_reject_and_expiry_release),
		T(test_late_accepted_ignored),
		T(test_illegal_report_counted),
		T(test_feed_end_token),
		T(test_no_new_orders_after_token),
		T(test_kill_switch),
		T(test_duplicate_and_reduce_only),
		T(test_daily_loss_same_day),
		T(test_daily_loss_first_fill_of_day),
		T(test_drawdown_reducing),
		T(test_drawdown_halted_per_strategy),
		T(test_drawdown_action_global),
		T(test_tax_on_net_gains),
		T(test_maker_rebate_booked),
		T(test_market_buy_reserved_at_worst_send_price),
		T(test_market_buy_reserved_at_ask_without_ioc),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
