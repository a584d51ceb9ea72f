/*
 * test_paper.c - the paper venue (src/exec/paper.c) and the executor stage
 * around it (src/exec/exec.c), driven directly with hand-made events and a
 * capturing ig_emit.
 *
 * Fees in these tests: maker 2 bps, taker 10 bps, so every fill shows which
 * side of the book it took. Expected fees are worked out in the comments:
 * fee = round(round(px * qty) * bps / 10000), halves away from zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/emit.h"
#include "exec/exec.h"
#include "exec/paper.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <string.h>

#define CAP_MAX 64

struct cap_item {
	struct ig_event ev;
	enum ig_stage dst;
	uint32_t idx;
};

struct cap {
	struct ig_emit emit; /* first: fn casts back */
	uint32_t n;
	struct cap_item it[CAP_MAX];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	if (c->n >= CAP_MAX)
		fail_msg("venue emitted more than %d events", CAP_MAX);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->it[c->n].idx = idx;
	c->n++;
}

static struct ig_paper paper;
static struct cap out;
static int64_t bar_clock_ns; /* data time of the latest bar() */

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static int setup(void **state)
{
	(void)state;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;
	bar_clock_ns = 0;
	return ig_paper_init(&paper, 2, 10);
}

static int teardown(void **state)
{
	(void)state;
	ig_paper_destroy(&paper);
	return 0;
}

static void quote(const char *bid, const char *bid_qty, const char *ask, const char *ask_qty)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_origin_ns = 777;
	ev.body.quote.bid_px = D(bid);
	ev.body.quote.bid_qty = D(bid_qty);
	ev.body.quote.ask_px = D(ask);
	ev.body.quote.ask_qty = D(ask_qty);
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static void trade(const char *px, const char *qty)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_TRADE;
	ev.body.trade.px = D(px);
	ev.body.trade.qty = D(qty);
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static void bar(const char *o, const char *h, const char *l, const char *c, const char *vol)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_BAR;
	bar_clock_ns += INT64_C(60000000000); /* minute bars, stamped at their open */
	ev.hdr.ts_event_ns = bar_clock_ns;
	ev.body.bar.open_px = D(o);
	ev.body.bar.high_px = D(h);
	ev.body.bar.low_px = D(l);
	ev.body.bar.close_px = D(c);
	ev.body.bar.volume = D(vol);
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static struct ig_event order_ev(uint64_t cid, enum ig_side side, enum ig_ord_type type,
				enum ig_tif tif, const char *px, const char *qty, uint8_t flags)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.strategy_id = 3;
	ev.hdr.ts_origin_ns = 555;
	ev.hdr.ts_event_ns = bar_clock_ns; /* decided on the latest bar */
	ev.body.order.client_id = cid;
	ev.body.order.side = (uint8_t)side;
	ev.body.order.type = (uint8_t)type;
	ev.body.order.tif = (uint8_t)tif;
	ev.body.order.px = px != NULL ? D(px) : 0;
	ev.body.order.qty = D(qty);
	ev.body.order.flags = flags;
	return ev;
}

static void submit(uint64_t cid, enum ig_side side, enum ig_ord_type type, enum ig_tif tif,
		   const char *px, const char *qty, uint8_t flags)
{
	struct ig_event ev = order_ev(cid, side, type, tif, px, qty, flags);
	out.n = 0;
	ig_paper_submit(&paper, &ev, &out.emit);
}

static void cancel(uint64_t cid)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CANCEL;
	ev.hdr.strategy_id = 3;
	ev.body.cancel.client_id = cid;
	out.n = 0;
	ig_paper_cancel(&paper, &ev, &out.emit);
}

/* Every report goes to the OMS and belongs to strategy 3. */
static void check_routing(void)
{
	for (uint32_t i = 0; i < out.n; i++) {
		assert_int_equal(out.it[i].dst, IG_STAGE_OMS);
		assert_int_equal(out.it[i].idx, 0);
		assert_int_equal(out.it[i].ev.hdr.strategy_id, 3);
	}
}

static void expect_state(uint32_t i, uint64_t cid, enum ig_ord_state st)
{
	check_routing();
	assert_true(i < out.n);
	assert_int_equal(out.it[i].ev.hdr.type, IG_EV_ORDER_UPDATE);
	assert_int_equal(out.it[i].ev.body.update.client_id, cid);
	if (out.it[i].ev.body.update.state != st)
		fail_msg("report %u: state %s, want %s", i,
			 ig_ord_state_name((enum ig_ord_state)out.it[i].ev.body.update.state),
			 ig_ord_state_name(st));
}

static void expect_fill(uint32_t i, uint64_t cid, const char *px, const char *qty, const char *fee,
			enum ig_liquidity liq, int last)
{
	const struct ig_fill *f;
	check_routing();
	assert_true(i < out.n);
	assert_int_equal(out.it[i].ev.hdr.type, IG_EV_FILL);
	f = &out.it[i].ev.body.fill;
	assert_int_equal(f->client_id, cid);
	assert_int_equal(f->px, D(px));
	assert_int_equal(f->qty, D(qty));
	assert_int_equal(f->fee, D(fee));
	assert_int_equal(f->liquidity, liq);
	assert_int_equal(f->last, last);
	assert_true(f->trade_id > 0);
	assert_true(f->venue_order_id > 0);
}

static void test_market_fills_at_touch_limited_by_size(void **state)
{
	(void)state;
	quote("99", "2", "101", "1");
	/* Buy 2.5: 1 at the ask 101, taker fee 101 * 10 bps = 0.101. */
	submit(1, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "2.5", 0);
	assert_int_equal(out.n, 2);
	expect_state(0, 1, IG_OS_ACCEPTED);
	assert_int_equal(out.it[0].ev.body.update.venue_order_id, 1);
	assert_int_equal(out.it[0].ev.body.update.leaves_qty, D("2.5"));
	expect_fill(1, 1, "101", "1", "0.101", IG_LIQ_TAKER, 0);
	assert_int_equal(out.it[1].ev.body.fill.trade_id, 1);
	assert_int_equal(out.it[1].ev.body.fill.venue_order_id, 1);
	assert_int_equal(out.it[1].ev.body.fill.side, IG_SIDE_BUY);
	/* A fill on arrival carries the order's own origin time. */
	assert_int_equal(out.it[1].ev.hdr.ts_origin_ns, 555);
	assert_int_equal(paper.live, 1);

	/* The displayed size is used up: a second buy gets nothing yet. */
	submit(2, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.1", 0);
	assert_int_equal(out.n, 1);
	expect_state(0, 2, IG_OS_ACCEPTED);
	/* The bid side is untouched: a sell fills at 99. 0.5 * 99 = 49.5,
	 * fee 0.0495. */
	submit(3, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.5", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 3, "99", "0.5", "0.0495", IG_LIQ_TAKER, 1);
	assert_int_equal(out.it[1].ev.body.fill.trade_id, 2);

	/* Next quote: ask 102 with 1.2 shown. Orders are served in arrival
	 * order: #1 has 1.5 left and takes all 1.2 shown; #2 gets nothing.
	 * 1.2 * 102 = 122.4, fee 0.1224. */
	quote("100", "1", "102", "1.2");
	assert_int_equal(out.n, 1);
	expect_fill(0, 1, "102", "1.2", "0.1224", IG_LIQ_TAKER, 0);
	assert_int_equal(out.it[0].ev.hdr.ts_origin_ns, 777); /* the quote's origin */
	/* Then 0.3 @ 103 for #1 (fee 0.0309) and 0.1 @ 103 for #2 (0.0103). */
	quote("100", "1", "103", "5");
	assert_int_equal(out.n, 2);
	expect_fill(0, 1, "103", "0.3", "0.0309", IG_LIQ_TAKER, 1);
	expect_fill(1, 2, "103", "0.1", "0.0103", IG_LIQ_TAKER, 1);
	assert_true(out.it[1].ev.body.fill.trade_id > out.it[0].ev.body.fill.trade_id);
	assert_int_equal(paper.live, 0);
	assert_int_equal(paper.fills, 5);
	/* Nothing is left to fill. */
	quote("100", "1", "103", "5");
	assert_int_equal(out.n, 0);
}

static void test_market_before_any_quote_waits(void **state)
{
	(void)state;
	submit(1, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, NULL, "1", 0);
	assert_int_equal(out.n, 1);
	expect_state(0, 1, IG_OS_ACCEPTED);
	quote("99", "3", "101", "3");
	assert_int_equal(out.n, 1);
	expect_fill(0, 1, "99", "1", "0.099", IG_LIQ_TAKER, 1);
}

static void test_ioc_cancels_remainder(void **state)
{
	(void)state;
	quote("99", "1", "101", "0.4");
	submit(5, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_IOC, NULL, "1", 0);
	assert_int_equal(out.n, 3);
	expect_state(0, 5, IG_OS_ACCEPTED);
	/* 0.4 * 101 = 40.4, fee 0.0404 */
	expect_fill(1, 5, "101", "0.4", "0.0404", IG_LIQ_TAKER, 0);
	expect_state(2, 5, IG_OS_CANCELED);
	assert_int_equal(out.it[2].ev.body.update.leaves_qty, D("0.6"));
	assert_int_equal(out.it[2].ev.body.update.filled_qty, D("0.4"));
	assert_int_equal(paper.live, 0);
	/* Nothing more on the next quote. */
	quote("99", "1", "101", "10");
	assert_int_equal(out.n, 0);

	/* A non-marketable IOC limit is cancelled at once. */
	submit(6, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_IOC, "100", "1", 0);
	assert_int_equal(out.n, 2);
	expect_state(0, 6, IG_OS_ACCEPTED);
	expect_state(1, 6, IG_OS_CANCELED);
	/* An IOC that fills completely is not cancelled. */
	submit(7, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_IOC, NULL, "1", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 7, "101", "1", "0.101", IG_LIQ_TAKER, 1);
	assert_int_equal(paper.live, 0);
}

static void test_fok_market(void **state)
{
	(void)state;
	quote("99", "1", "101", "0.4");
	/* Not enough shown: expires, no fill. */
	submit(8, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_FOK, NULL, "0.5", 0);
	assert_int_equal(out.n, 2);
	expect_state(0, 8, IG_OS_ACCEPTED);
	expect_state(1, 8, IG_OS_EXPIRED);
	assert_int_equal(paper.fills, 0);
	assert_int_equal(paper.live, 0);
	/* Exactly enough: one fill for all of it. */
	submit(9, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_FOK, NULL, "0.4", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 9, "101", "0.4", "0.0404", IG_LIQ_TAKER, 1);
	/* The size is gone now; the next FOK expires. */
	submit(10, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_FOK, NULL, "0.00000001", 0);
	expect_state(1, 10, IG_OS_EXPIRED);
	/* A later quote does not revive an expired order. */
	quote("99", "1", "101", "5");
	assert_int_equal(out.n, 0);
}

/*
 * Regression: the fill-or-kill check once looked at market orders only, so
 * a marketable FOK limit order without enough displayed size was partly
 * filled and its remainder cancelled (IOC behaviour). Fill-or-kill fills
 * everything at once or nothing; a FOK limit that is not marketable at all
 * expires too.
 */
static void test_fok_limit_all_or_nothing(void **state)
{
	(void)state;
	quote("99", "1", "101", "0.4");
	submit(11, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_FOK, "101", "1", 0);
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_FILL)
			fail_msg("FOK limit for 1 with 0.4 shown got a fill of %lld (1e-8): "
				 "fill-or-kill filled partially",
				 (long long)out.it[i].ev.body.fill.qty);
	assert_int_equal(paper.fills, 0);
	assert_int_equal(paper.live, 0);
	/* With enough size it fills in full. */
	submit(12, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_FOK, "101", "0.4", 0);
	expect_fill(1, 12, "101", "0.4", "0.0404", IG_LIQ_TAKER, 1);
	assert_int_equal(paper.live, 0);
	/* Not marketable (limit under the ask): nothing, and nothing rests. */
	quote("99", "1", "101", "5");
	submit(13, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_FOK, "100", "1", 0);
	for (uint32_t i = 0; i < out.n; i++)
		assert_int_not_equal(out.it[i].ev.hdr.type, IG_EV_FILL);
	assert_int_equal(out.it[out.n - 1].ev.body.update.state, IG_OS_EXPIRED);
	assert_int_equal(paper.live, 0);
	quote("99", "1", "99.5", "5");
	assert_int_equal(out.n, 0);
}

static void test_limit_rests_then_fills_as_maker(void **state)
{
	(void)state;
	quote("99", "1", "101", "1");
	submit(20, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "100", "1", 0);
	assert_int_equal(out.n, 1);
	expect_state(0, 20, IG_OS_ACCEPTED);
	assert_int_equal(paper.live, 1);
	/* The ask comes down but not to 100: nothing. */
	quote("99", "1", "100.5", "9");
	assert_int_equal(out.n, 0);
	/* The ask reaches 100 with 0.3 shown: maker fill at 100, fee
	 * 30 * 2 bps = 0.006. */
	quote("99", "1", "100", "0.3");
	assert_int_equal(out.n, 1);
	expect_fill(0, 20, "100", "0.3", "0.006", IG_LIQ_MAKER, 0);
	/* The ask goes through: the rest fills at our price, not the ask's:
	 * 0.7 * 100 = 70, fee 0.014. */
	quote("98", "1", "99", "5");
	assert_int_equal(out.n, 1);
	expect_fill(0, 20, "100", "0.7", "0.014", IG_LIQ_MAKER, 1);
	assert_int_equal(paper.live, 0);

	/* Sell side: rests above, fills when the bid reaches it. */
	submit(21, IG_SIDE_SELL, IG_ORD_LIMIT, IG_TIF_GTC, "105", "2", 0);
	assert_int_equal(out.n, 1);
	quote("104.99999999", "5", "106", "5");
	assert_int_equal(out.n, 0);
	/* 2 * 105 = 210, fee 0.042 */
	quote("105", "5", "106", "5");
	expect_fill(0, 21, "105", "2", "0.042", IG_LIQ_MAKER, 1);
}

static void test_marketable_limit_takes_then_rests(void **state)
{
	(void)state;
	quote("99", "1", "101", "0.5");
	/* Buy 2 limit 102: 0.5 taken at the ask 101 (the better price) as
	 * taker, fee 50.5 * 10 bps = 0.0505; 1.5 rests at 102. */
	submit(30, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "102", "2", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 30, "101", "0.5", "0.0505", IG_LIQ_TAKER, 0);
	assert_int_equal(paper.live, 1);
	/* Next quote ask 101.5 <= 102 with 1 shown: maker at 102, fee
	 * 102 * 2 bps = 0.0204. */
	quote("99", "1", "101.5", "1");
	expect_fill(0, 30, "102", "1", "0.0204", IG_LIQ_MAKER, 0);
	/* Cancel the last 0.5. */
	cancel(30);
	assert_int_equal(out.n, 1);
	expect_state(0, 30, IG_OS_CANCELED);
	assert_int_equal(out.it[0].ev.body.update.leaves_qty, D("0.5"));
	assert_int_equal(paper.live, 0);
	/* Cancelling it again, or an order never seen, reports nothing: the
	 * report that finished it is already on its way. */
	cancel(30);
	assert_int_equal(out.n, 0);
	cancel(999);
	assert_int_equal(out.n, 0);
}

static void test_cancel_only_own_strategy(void **state)
{
	struct ig_event c;
	(void)state;
	quote("99", "1", "101", "1");
	submit(40, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "90", "1", 0);
	memset(&c, 0, sizeof(c));
	c.hdr.type = IG_EV_CANCEL;
	c.hdr.strategy_id = 4; /* same client id, another strategy */
	c.body.cancel.client_id = 40;
	out.n = 0;
	ig_paper_cancel(&paper, &c, &out.emit);
	assert_int_equal(out.n, 0);
	assert_int_equal(paper.live, 1);
}

static void test_post_only(void **state)
{
	(void)state;
	quote("99", "1", "101", "1");
	/* Marketable post-only: rejected by the venue, nothing rests. */
	submit(50, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "101", "1", IG_ORDF_POST_ONLY);
	assert_int_equal(out.n, 1);
	check_routing();
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
	assert_int_equal(out.it[0].ev.body.reject.client_id, 50);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_VENUE_POST_ONLY);
	assert_int_equal(out.it[0].ev.body.reject.by_venue, 1);
	assert_int_equal(paper.live, 0);
	assert_int_equal(paper.rejects, 1);
	submit(51, IG_SIDE_SELL, IG_ORD_LIMIT, IG_TIF_GTC, "99", "1", IG_ORDF_POST_ONLY);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_VENUE_POST_ONLY);
	/* Not marketable: rests, and fills as maker later. */
	submit(52, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "100", "1", IG_ORDF_POST_ONLY);
	assert_int_equal(out.n, 1);
	expect_state(0, 52, IG_OS_ACCEPTED);
	quote("98", "1", "100", "1");
	expect_fill(0, 52, "100", "1", "0.02", IG_LIQ_MAKER, 1);
}

static void test_unsupported_type_rejected(void **state)
{
	(void)state;
	quote("99", "1", "101", "1");
	submit(60, IG_SIDE_BUY, IG_ORD_STOP_MARKET, IG_TIF_GTC, NULL, "1", 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_VENUE);
	assert_int_equal(out.it[0].ev.body.reject.by_venue, 1);
}

static void test_fee_rounding(void **state)
{
	(void)state;
	/* 0.1 @ 123.45678901: notional 12.345678901 -> 12.3456789;
	 * taker fee 12.3456789 * 10 / 10000 = 0.0123456789 -> 0.01234568. */
	quote("120", "1", "123.45678901", "1");
	submit(70, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.1", 0);
	expect_fill(1, 70, "123.45678901", "0.1", "0.01234568", IG_LIQ_TAKER, 1);
	/* 0.00000005 @ 1000: notional 0.00005, fee 0.00000005 exactly.
	 * 0.00000015 @ 1 = 0.00000015, fee 0.00000000015 -> 0. */
	quote("1", "1", "1000", "1");
	submit(71, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.00000005", 0);
	expect_fill(1, 71, "1000", "0.00000005", "0.00000005", IG_LIQ_TAKER, 1);
	submit(72, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.00000015", 0);
	expect_fill(1, 72, "1", "0.00000015", "0", IG_LIQ_TAKER, 1);
	/* Maker at 2 bps: buy 0.0025 @ 999 rests, the ask comes to 999:
	 * notional 2.4975, fee 0.0004995 exactly. */
	submit(73, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "999", "0.0025", 0);
	quote("1", "1", "999", "1");
	expect_fill(0, 73, "999", "0.0025", "0.0004995", IG_LIQ_MAKER, 1);
	/* Half away from zero: 0.0000125 @ 2 = 0.000025, at 2 bps
	 * = 0.000000005 -> 0.00000001 (a half, rounded up). */
	submit(74, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "2", "0.0000125", 0);
	quote("1", "1", "2", "1");
	expect_fill(0, 74, "2", "0.0000125", "0.00000001", IG_LIQ_MAKER, 1);
	/* Just under a half: 0.0000124 @ 2 = 0.0000248 -> 0.00000000496 -> 0. */
	quote("1", "1", "3", "1");
	submit(75, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "2", "0.0000124", 0);
	assert_int_equal(out.n, 1);
	quote("1", "1", "2", "1");
	expect_fill(0, 75, "2", "0.0000124", "0", IG_LIQ_MAKER, 1);
}

/* A negative maker_fee_bps is a rebate: a maker fill carries a negative fee
 * (rounded half away from zero like any fee), the venue's ledger credits
 * it to cash and counts it in fees; taker fills still pay. */
static void test_maker_rebate(void **state)
{
	const struct ig_paper_ledger *l = &paper.ledger[3];
	(void)state;
	ig_paper_destroy(&paper);
	assert_int_equal(ig_paper_init(&paper, -2, 10), 0);
	quote("99", "1", "101", "1");
	submit(80, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "100", "1", 0);
	/* The ask reaches 100: maker 1 @ 100, rebate 100 * 2 bps = 0.02. */
	quote("99", "1", "100", "5");
	expect_fill(0, 80, "100", "1", "-0.02", IG_LIQ_MAKER, 1);
	/* Half away from zero on the negative side too: 0.0000125 @ 2 =
	 * 0.000025, at -2 bps = -0.000000005 -> -0.00000001. */
	quote("1", "1", "3", "1");
	submit(81, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "2", "0.0000125", 0);
	quote("1", "1", "2", "1");
	expect_fill(0, 81, "2", "0.0000125", "-0.00000001", IG_LIQ_MAKER, 1);
	/* A taker sell of 0.5 at the bid 1 pays 10 bps: 0.0005. */
	submit(82, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, NULL, "0.5", 0);
	expect_fill(1, 82, "1", "0.5", "0.0005", IG_LIQ_TAKER, 1);
	assert_int_equal(l->fills, 3);
	assert_int_equal(l->fees, D("-0.01950001")); /* -0.02 - 0.00000001 + 0.0005 */
	/* Cash: -100 - 0.000025 + 0.5, less fees: -99.500025 + 0.01950001. */
	assert_int_equal(l->cash_delta, D("-99.48052499"));
	assert_int_equal(l->net_qty[0], D("0.5000125"));
}

static void test_trades_as_data(void **state)
{
	(void)state;
	/* A trade is both bid and ask, its size displayed. */
	trade("100", "0.7");
	assert_int_equal(out.n, 0);
	submit(80, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "1", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 80, "100", "0.7", "0.07", IG_LIQ_TAKER, 0);
	/* The next print fills the rest at its price. */
	trade("100.5", "2");
	expect_fill(0, 80, "100.5", "0.3", "0.03015", IG_LIQ_TAKER, 1);

	/* A resting buy at 99 fills only when a print goes through 99. */
	submit(81, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "99", "1", 0);
	assert_int_equal(out.n, 1);
	trade("99", "5");
	assert_int_equal(out.n, 0); /* at the price: not through it */
	trade("98.5", "0.4");
	/* maker at 99: 0.4 * 99 = 39.6, fee 0.00792 */
	expect_fill(0, 81, "99", "0.4", "0.00792", IG_LIQ_MAKER, 0);
	trade("98", "3");
	expect_fill(0, 81, "99", "0.6", "0.01188", IG_LIQ_MAKER, 1);
	/* A resting sell at 101 fills when a print is above it. */
	submit(82, IG_SIDE_SELL, IG_ORD_LIMIT, IG_TIF_GTC, "101", "1", 0);
	trade("101", "1");
	assert_int_equal(out.n, 0);
	trade("101.5", "1");
	expect_fill(0, 82, "101", "1", "0.0202", IG_LIQ_MAKER, 1);
}

/* venue.bar_fill: close keeps this test's "fills at the bar's close".
 * Expectations updated for issue 12 (docs/backtesting.md "Fills"): a bar's
 * volume no longer limits a fill (venue.max_volume_pct, default unlimited),
 * a resting limit fills at min(open, limit), and a zero-volume bar fills. */
static void test_bars_as_data(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.bar_fill = IG_BAR_FILL_CLOSE;
	ig_paper_configure(&paper, &prm);
	/* A market order fills at the deciding bar's close, all of it. */
	bar("100", "105", "95", "102", "0.5");
	submit(90, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "1", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 90, "102", "1", "0.102", IG_LIQ_TAKER, 1);
	/* A resting buy at 99 (below the close, not marketable) fills when a
	 * later bar's low goes below 99, at min(open, 99). */
	submit(91, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "99", "1", 0);
	assert_int_equal(out.n, 1);
	bar("103", "104", "99", "100", "10");
	assert_int_equal(out.n, 0); /* low at 99: not through */
	bar("100", "101", "98", "100", "10");
	expect_fill(0, 91, "99", "1", "0.0198", IG_LIQ_MAKER, 1);
	/* A bar with no volume (unknown: index, FX data) fills. */
	bar("100", "100", "100", "100", "0");
	submit(92, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, NULL, "1", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 92, "100", "1", "0.1", IG_LIQ_TAKER, 1);
}

static void test_venue_full_rejects(void **state)
{
	(void)state;
	quote("99", "1", "101", "1");
	for (uint32_t i = 0; i < IG_PAPER_MAX_ORDERS; i++) {
		submit(1000 + i, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "50", "1", 0);
		assert_int_equal(out.n, 1);
	}
	assert_int_equal(paper.live, IG_PAPER_MAX_ORDERS);
	submit(99999, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "50", "1", 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_REJECT);
	assert_int_equal(out.it[0].ev.body.reject.reason, IG_RJ_VENUE);
	/* Cancelling one frees a slot. */
	cancel(1000 + 17);
	expect_state(0, 1000 + 17, IG_OS_CANCELED);
	submit(99998, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "50", "1", 0);
	expect_state(0, 99998, IG_OS_ACCEPTED);
}

/* The executor stage: routes orders, cancels and data to the venue,
 * measures tick-to-order, and echoes FEED_END back to the OMS. */
static void test_exec_stage(void **state)
{
	static struct ig_config cfg;
	struct ig_exec x;
	struct ig_event ev;
	(void)state;

	ig_config_defaults(&cfg);
	cfg.venue.maker_fee_bps = 0;
	cfg.venue.taker_fee_bps = 25;
	assert_int_equal(ig_exec_init(&x, &cfg), 0);
	assert_true(ig_exec_wants_md(&x));

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	ev.body.quote.bid_px = D("10");
	ev.body.quote.bid_qty = D("1");
	ev.body.quote.ask_px = D("11");
	ev.body.quote.ask_qty = D("1");
	out.n = 0;
	ig_exec_handle(&x, &ev, &out.emit);
	assert_int_equal(out.n, 0);

	ev = order_ev(1, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, NULL, "1", 0);
	ev.hdr.ts_origin_ns = 0; /* not measured */
	out.n = 0;
	ig_exec_handle(&x, &ev, &out.emit);
	assert_int_equal(out.n, 2);
	/* 11 * 25 bps = 0.0275 */
	expect_fill(1, 1, "11", "1", "0.0275", IG_LIQ_TAKER, 1);
	assert_int_equal(x.orders, 1);
	assert_int_equal(x.tick_to_order.count, 0);

	ev = order_ev(2, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, "5", "1", 0);
	out.n = 0;
	ig_exec_handle(&x, &ev, &out.emit);
	assert_int_equal(x.tick_to_order.count, 1);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CANCEL;
	ev.hdr.strategy_id = 3;
	ev.body.cancel.client_id = 2;
	out.n = 0;
	ig_exec_handle(&x, &ev, &out.emit);
	expect_state(0, 2, IG_OS_CANCELED);
	assert_int_equal(x.cancels, 1);

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.strategy_id = 3;
	ev.body.control.cmd = IG_CTL_FEED_END;
	out.n = 0;
	ig_exec_handle(&x, &ev, &out.emit);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].dst, IG_STAGE_OMS);
	assert_int_equal(out.it[0].ev.body.control.cmd, IG_CTL_FEED_END);
	ig_exec_destroy(&x);

	/* Only the paper venue exists in this build. */
	cfg.venue.kind = IG_VENUE_LUNO;
	assert_int_equal(ig_exec_init(&x, &cfg), IG_ECONFIG);
	ig_exec_destroy(&x);
}

/* The paper venue answers recovery on the next poll, and the poll counts
 * that as work (one report per recovered order and one reconciliation per
 * instrument), so the executor's agent does not park with it pending. */
static void test_exec_poll_counts_recovery(void **state)
{
	static struct ig_config cfg;
	struct ig_recover_order ro[2];
	struct ig_recover rc;
	struct ig_exec x;
	(void)state;

	ig_config_defaults(&cfg);
	assert_int_equal(ig_exec_init(&x, &cfg), 0);
	memset(ro, 0, sizeof(ro));
	memset(&rc, 0, sizeof(rc));
	ro[0].client_id = 11;
	ro[1].client_id = 12;
	rc.orders = ro;
	rc.norders = 2;
	assert_int_equal(ig_exec_recover(&x, &rc, 1), 0);
	out.n = 0;
	assert_int_equal(ig_exec_poll(&x, 1, &out.emit), 3);
	assert_int_equal(out.n, 3);
	assert_int_equal(ig_exec_poll(&x, 2, &out.emit), 0);
	ig_exec_destroy(&x);
}

/* A market buy that comes with a px (the OMS sends the worst price it
 * reserved for) never fills above it: its rest keeps working at later
 * touches up to that price, and is cancelled once the touch is above it
 * (as Luno's IOC bid there would be), instead of paying any later ask or
 * staying open for good. */
static void test_market_buy_capped_at_its_px(void **state)
{
	(void)state;
	quote("99", "5", "100", "2");
	submit(1, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, "100.5", "9.9", 0);
	assert_int_equal(out.n, 2);
	expect_fill(1, 1, "100", "2", "0.2", IG_LIQ_TAKER, 0);
	/* Within the cap: more fills at the next touch. */
	quote("100", "3", "100.4", "3");
	assert_int_equal(out.n, 1);
	expect_fill(0, 1, "100.4", "3", "0.30120", IG_LIQ_TAKER, 0);
	/* The market jumps above the cap: the rest (4.9) is cancelled. */
	quote("149", "5", "150", "5");
	assert_int_equal(out.n, 1);
	expect_state(0, 1, IG_OS_CANCELED);
	assert_int_equal(paper.live, 0);
	/* Submitted when the touch is already above its cap: cancelled at
	 * once, nothing filled. */
	submit(2, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, "140", "1", 0);
	assert_int_equal(out.n, 2);
	expect_state(0, 2, IG_OS_ACCEPTED);
	expect_state(1, 2, IG_OS_CANCELED);
	assert_int_equal(paper.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_market_fills_at_touch_limited_by_size),
		T(test_market_before_any_quote_waits),
		T(test_ioc_cancels_remainder),
		T(test_fok_market),
		T(test_fok_limit_all_or_nothing),
		T(test_limit_rests_then_fills_as_maker),
		T(test_marketable_limit_takes_then_rests),
		T(test_cancel_only_own_strategy),
		T(test_post_only),
		T(test_unsupported_type_rejected),
		T(test_fee_rounding),
		T(test_maker_rebate),
		T(test_trades_as_data),
		T(test_bars_as_data),
		T(test_venue_full_rejects),
		T(test_exec_stage),
		T(test_market_buy_capped_at_its_px),
		T(test_exec_poll_counts_recovery),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
