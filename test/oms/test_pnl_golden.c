/*
 * test_pnl_golden.c - golden PnL cases through the OMS stage handler: the
 * issue's ledger (buy 1 @ 100, buy 1 @ 110, sell 1.5 @ 120 with a 10 bps
 * taker fee, then close) with the position events the strategy receives,
 * tax, equity, its high-water mark and drawdown at every step; and tax on
 * net gains across two instruments.
 *
 * test_position.c has the same ledger at the position level, with the flip
 * through zero (a spot OMS never sells more than it holds, so the flip is
 * not reachable here). Every expected number is worked out by hand in the
 * comment next to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"

#include <stdio.h>
#include <string.h>

#define T0 INT64_C(1600000000000000000)
#define MS INT64_C(1000000)
#define CAP_MAX 64

struct cap_item {
	struct ig_event ev;
	enum ig_stage dst;
};

struct cap {
	struct ig_emit emit; /* first: fn casts back */
	uint32_t n;
	struct cap_item it[CAP_MAX];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	(void)idx;
	if (c->n >= CAP_MAX)
		fail_msg("stage emitted more than %d events", CAP_MAX);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->n++;
}

static struct ig_config cfg;
static struct ig_oms oms;
static struct cap out;
static bool oms_up;
static int64_t now_ms;
static uint64_t next_cid, next_trade;

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

/* One strategy, capital 1000, taker fee 10 bps, tax 20%, and a loose
 * drawdown limit so that marks re-value the strategy. */
static int setup(void **state)
{
	(void)state;
	ig_log_set_level(IG_LOG_ERROR);
	ig_config_defaults(&cfg);
	snprintf(cfg.file, sizeof(cfg.file), "test_pnl_golden");
	cfg.feed.source = IG_FEED_SYNTHETIC;
	cfg.engine.threading = IG_THREADING_INLINE;
	cfg.nstrategies = 1;
	snprintf(cfg.strategies[0].name, IG_CFG_NAME_MAX, "s0");
	snprintf(cfg.strategies[0].type, IG_CFG_NAME_MAX, "sma_cross");
	cfg.strategies[0].capital = D("1000");
	cfg.venue.taker_fee_bps = 10;
	cfg.risk.tax_rate_pct = D("20");
	cfg.risk.max_drawdown_pct = D("90");
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_OMS;
	now_ms = 0;
	next_cid = 0;
	next_trade = 0;
	assert_int_equal(ig_oms_init(&oms, &cfg, 1), 0);
	oms.data_clock = true;
	oms_up = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (oms_up)
		ig_oms_destroy(&oms);
	oms_up = false;
	return 0;
}

static void handle(struct ig_event *ev)
{
	out.n = 0;
	ig_oms_handle(&oms, ev, &out.emit);
}

static void mark(uint16_t k, const char *px)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_TRADE;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = T0 + ++now_ms * MS;
	ev.body.trade.px = D(px);
	ev.body.trade.qty = D("1");
	handle(&ev);
	assert_int_equal(out.n, 0);
}

/* A market order of qty on instrument k, filled at px with fee; returns
 * the IG_EV_POSITION the strategy received. */
static struct ig_position trade(uint16_t k, enum ig_side side, const char *qty, const char *px,
				const char *fee)
{
	struct ig_event ev;
	uint64_t cid = ++next_cid;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = T0 + ++now_ms * MS;
	ev.body.order.client_id = cid;
	ev.body.order.side = (uint8_t)side;
	ev.body.order.type = IG_ORD_MARKET;
	ev.body.order.qty = D(qty);
	handle(&ev);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].dst, IG_STAGE_EXEC);

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_FILL;
	ev.hdr.src = IG_STAGE_EXEC;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = T0 + now_ms * MS;
	ev.body.fill.client_id = cid;
	ev.body.fill.trade_id = ++next_trade;
	ev.body.fill.side = (uint8_t)side;
	ev.body.fill.px = D(px);
	ev.body.fill.qty = D(qty);
	ev.body.fill.fee = D(fee);
	handle(&ev);
	/* fill, position, FILLED */
	assert_int_equal(out.n, 3);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_FILL);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_POSITION);
	assert_int_equal(out.it[1].ev.hdr.instrument_id, k);
	assert_int_equal(out.it[2].ev.body.update.state, IG_OS_FILLED);
	return out.it[1].ev.body.position;
}

static void expect_position(const struct ig_position *p, const char *qty, const char *avg,
			    const char *realized, const char *fees, const char *cash)
{
	assert_int_equal(p->qty, D(qty));
	assert_int_equal(p->avg_px, D(avg));
	assert_int_equal(p->realized_pnl, D(realized));
	assert_int_equal(p->fees, D(fees));
	assert_int_equal(p->cash, D(cash));
	assert_int_equal(p->open_buy_qty, 0);
	assert_int_equal(p->open_sell_qty, 0);
	assert_int_equal(p->trading_state, IG_TS_ACTIVE);
}

static void expect_books(const char *equity, const char *hwm, const char *tax)
{
	const struct ig_oms_strategy *s = &oms.s[0];
	assert_int_equal(s->equity, D(equity));
	assert_int_equal(ig_oms_equity(&oms, 0), D(equity));
	assert_int_equal(s->equity_hwm, D(hwm));
	assert_int_equal(s->tax, D(tax));
}

static void test_golden_ledger(void **state)
{
	struct ig_position p;
	const struct ig_oms_strategy *s = &oms.s[0];
	(void)state;
	mark(0, "100");
	expect_books("1000", "1000", "0");

	/* 1. buy 1 @ 100, fee 0.1: cash 899.9; equity 899.9 + 1 * 100 = 999.9;
	 *    drawdown 0.1 / 1000 = 0.01%; net realized -0.1: no tax. */
	p = trade(0, IG_SIDE_BUY, "1", "100", "0.1");
	expect_position(&p, "1", "100", "0", "0.1", "899.9");
	expect_books("999.9", "1000", "0");
	assert_int_equal(s->drawdown_pct, D("0.01"));

	/* 2. buy 1 @ 110, fee 0.11: avg 105, cash 789.79; marked at 100
	 *    still: equity 789.79 + 200 = 989.79; drawdown 10.21 / 1000 =
	 *    1.021%. */
	p = trade(0, IG_SIDE_BUY, "1", "110", "0.11");
	expect_position(&p, "2", "105", "0", "0.21", "789.79");
	expect_books("989.79", "1000", "0");
	assert_int_equal(s->drawdown_pct, D("1.021"));

	/* 3. mark 120: equity 789.79 + 240 = 1029.79, a new high. */
	mark(0, "120");
	expect_books("1029.79", "1029.79", "0");
	assert_int_equal(s->drawdown_pct, 0);

	/* 4. sell 1.5 @ 120, fee 180 * 10 bps = 0.18: realized 1.5 * 15 =
	 *    22.5, fees 0.39, cash 789.79 + 180 - 0.18 = 969.61, 0.5 left at
	 *    avg 105; equity 969.61 + 60 = 1029.61; tax 20% of (22.5 - 0.39) =
	 *    4.422. */
	p = trade(0, IG_SIDE_SELL, "1.5", "120", "0.18");
	expect_position(&p, "0.5", "105", "22.5", "0.39", "969.61");
	expect_books("1029.61", "1029.79", "4.422");
	/* drawdown 0.18 / 1029.79 = 0.0174792919...% */
	assert_true(s->drawdown_pct >= D("0.01747929") && s->drawdown_pct <= D("0.0174793"));

	/* 5. mark 90: equity 969.61 + 45 = 1014.61; drawdown 15.18 / 1029.79
	 *    = 1.4740869498...%. */
	mark(0, "90");
	expect_books("1014.61", "1029.79", "4.422");
	assert_true(s->drawdown_pct >= D("1.47408694") && s->drawdown_pct <= D("1.47408695"));
	assert_int_equal(s->max_drawdown_seen_pct, s->drawdown_pct);

	/* 6. sell 0.5 @ 90, fee 0.045: realized 22.5 + 0.5 * (90 - 105) = 15,
	 *    fees 0.435, flat, cash 969.61 + 45 - 0.045 = 1014.565 = equity;
	 *    tax 20% of (15 - 0.435) = 2.913. */
	p = trade(0, IG_SIDE_SELL, "0.5", "90", "0.045");
	expect_position(&p, "0", "0", "15", "0.435", "1014.565");
	expect_books("1014.565", "1029.79", "2.913");
	/* Flat: cash - capital = realized - fees. */
	assert_int_equal(s->cash - D("1000"), s->pos[0].realized_pnl - s->pos[0].fees);
	assert_int_equal(s->fills, 4);
}

/* Tax is on net realized gains over all instruments. */
static void test_tax_across_instruments(void **state)
{
	struct ig_position p;
	(void)state;
	mark(0, "100");
	mark(1, "50");
	/* Instrument 0: +10 realized, fees 0.1 + 0.11 = 0.21. */
	trade(0, IG_SIDE_BUY, "1", "100", "0.1");
	p = trade(0, IG_SIDE_SELL, "1", "110", "0.11");
	expect_position(&p, "0", "0", "10", "0.21", "1009.79");
	expect_books("1009.79", "1009.79", "1.958"); /* 20% of 9.79 */
	/* Instrument 1: -4 realized (2 @ 50 -> 48), fees 0.1 + 0.096. */
	trade(1, IG_SIDE_BUY, "2", "50", "0.1");
	p = trade(1, IG_SIDE_SELL, "2", "48", "0.096");
	expect_position(&p, "0", "0", "-4", "0.196", "1005.594");
	/* net = 9.79 - 4.196 = 5.594; tax 1.1188 */
	expect_books("1005.594", "1009.79", "1.1188");
	/* Instrument 1 loses 6 more: net -0.406, no tax. */
	trade(1, IG_SIDE_BUY, "2", "50", "0");
	trade(1, IG_SIDE_SELL, "2", "47", "0");
	expect_books("999.594", "1009.79", "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_golden_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tax_across_instruments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
