/*
 * test_oms_states.c - trading states and the limits that move them:
 * duplicate intent, the reduce-only flag, the daily realized loss limit
 * (REDUCING) and its data-day window, max drawdown (REDUCING or HALTED),
 * the kill switch, tax on net realized gains, equity and its high-water
 * mark.
 *
 * The OMS stage handler is driven directly (as in test_oms.c) with a
 * capturing ig_emit. The OMS runs on the data clock: T0 is 10:00 UTC on
 * 2020-09-14, times are ms from T0, and the next data day starts at
 * NEXT_DAY_MS. Marks are quotes with bid == ask.
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
#include "oms/oms_stage.h"

#include <string.h>

#define DAY0_NS INT64_C(1600041600000000000)        /* 2020-09-14 00:00 UTC */
#define T0 (DAY0_NS + INT64_C(36000000000000))     /* 10:00 that day */
#define MS OH_MS
#define H_MS INT64_C(3600000)
#define NEXT_DAY_MS (14 * H_MS)                    /* 00:00 the day after */
#define DAY_MS (24 * H_MS)
#define D(s) oh_D(s)

static struct ig_config cfg; /* large: static */
static struct ig_oms oms;
static struct oh_cap out;

/* Two strategies (thread 0 and 1), capital 10000 each, taker fee 10 bps,
 * every risk limit unset. */
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_oms_states", .capital = "10000", .check_sanity = true,
};

#define send_ok(e) oh_send_ok(OH_BY_REF(e), "no reply") /* must be forwarded */
static void send_denied_p(struct ig_event *evp, enum ig_reject_reason want);
#define send_denied(e, w) send_denied_p(OH_BY_REF(e), (w))

static void mark(int64_t t_ms, const char *px)
{
	oh_quote(t_ms, px, px);
}

/* How many cancels for (sid, cid) went to the executor. */
static uint32_t exec_cancels(uint16_t sid, uint64_t cid)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out.n; i++)
		n += out.it[i].dst == IG_STAGE_EXEC && out.it[i].ev.hdr.type == IG_EV_CANCEL &&
		     out.it[i].ev.hdr.strategy_id == sid && out.it[i].ev.body.cancel.client_id == cid;
	return n;
}

static void control(enum ig_control_cmd cmd, int64_t arg)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_event_ns = oh_now_ns();
	ev.body.control.cmd = (uint16_t)cmd;
	ev.body.control.arg = arg;
	oh_handle(&ev);
}

/* The intent must be denied for `want`, leaving nothing behind. */
static void send_denied_p(struct ig_event *evp, enum ig_reject_reason want)
{
	struct ig_event ev = *evp;
	const struct ig_event *rj;
	uint16_t sid = ev.hdr.strategy_id;
	uint64_t before = oms.s[sid].rejects[want];
	oh_handle(&ev);
	rj = oh_reject_for(ev.body.order.client_id);
	if (rj == NULL)
		fail_msg("order %llu accepted, want denial %s", (unsigned long long)ev.body.order.client_id,
			 ig_reject_reason_name(want));
	if (rj->body.reject.reason != want)
		fail_msg("order %llu denied for %s, want %s", (unsigned long long)ev.body.order.client_id,
			 ig_reject_reason_name((enum ig_reject_reason)rj->body.reject.reason),
			 ig_reject_reason_name(want));
	assert_int_equal(rj->body.reject.by_venue, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(oms.s[sid].rejects[want], before + 1);
	assert_null(oh_rec(sid, ev.body.order.client_id));
}

/* Gives strategy sid a position: market buy of qty, filled at px. */
static void hold(uint16_t sid, uint64_t cid, const char *qty, const char *px, const char *fee,
		 uint64_t trade_id)
{
	send_ok(oh_ord(sid, cid, IG_SIDE_BUY, IG_ORD_MARKET, NULL, qty, (oh_now_ns() - T0) / MS));
	oh_fill(sid, cid, trade_id, IG_SIDE_BUY, px, qty, fee);
}

/* Market sell of qty filled at px (it must pass risk). */
static void close_at(uint16_t sid, uint64_t cid, const char *qty, const char *px, const char *fee,
		     uint64_t trade_id)
{
	send_ok(oh_ord(sid, cid, IG_SIDE_SELL, IG_ORD_MARKET, NULL, qty, (oh_now_ns() - T0) / MS));
	oh_fill(sid, cid, trade_id, IG_SIDE_SELL, px, qty, fee);
}

static const struct ig_event *position_ev(void)
{
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_POSITION)
			return &out.it[i].ev;
	return NULL;
}

/* ------------------------------------------------------ duplicate intent */

static void test_duplicate_intent(void **state)
{
	(void)state;
	cfg.risk.duplicate_window_ms = 1000;
	oh_start();
	mark(0, "100");
	send_ok(oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 10));
	/* Same side, price, quantity within the window: denied. */
	send_denied(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 500), IG_RJ_DUPLICATE);
	/* The window is inclusive: 1000 ms after the first is still inside. */
	send_denied(oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1010), IG_RJ_DUPLICATE);
	/* Anything different passes. */
	send_ok(oh_ord(0, 4, IG_SIDE_BUY, IG_ORD_LIMIT, "99.01", "1", 1010));
	send_ok(oh_ord(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1.1", 1010));
	/* Another strategy's identical intent is its own. */
	send_ok(oh_ord(1, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1010));
	/* Outside the window it passes again. */
	send_ok(oh_ord(0, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1011));
	/* ... and is remembered in turn. */
	send_denied(oh_ord(0, 8, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1500), IG_RJ_DUPLICATE);
	/* Market orders: same side and quantity. */
	send_ok(oh_ord(0, 9, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 1600));
	send_denied(oh_ord(0, 10, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 1601), IG_RJ_DUPLICATE);
	assert_int_equal(oms.s[0].rejects[IG_RJ_DUPLICATE], 4);
	assert_int_equal(oms.s[1].rejects[IG_RJ_DUPLICATE], 0);
}

/* ------------------------------------------------------ reduce-only flag */

static void test_reduce_only_flag(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	/* Flat: nothing reduces. */
	ev = oh_ord(0, 1, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 1);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_denied(ev, IG_RJ_REDUCE_ONLY);
	hold(0, 2, "2", "100", "0", 1);
	/* An increasing buy is denied. */
	ev = oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 2);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_denied(ev, IG_RJ_REDUCE_ONLY);
	/* A sell beyond the position would flip it: denied. */
	ev = oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "101", "2.00000001", 3);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_denied(ev, IG_RJ_REDUCE_ONLY);
	/* A reducing sell passes, flag and all. */
	ev = oh_ord(0, 5, IG_SIDE_SELL, IG_ORD_LIMIT, "101", "1.5", 4);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_ok(ev);
	assert_true(oh_exec_order(5)->body.order.flags & IG_ORDF_REDUCE_ONLY);
	/* Open sells count: only 0.5 is left to reduce. */
	ev = oh_ord(0, 6, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.50000001", 5);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_denied(ev, IG_RJ_REDUCE_ONLY);
	ev = oh_ord(0, 7, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.5", 6);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_ok(ev);
	/* Without the flag an increasing buy still passes. */
	send_ok(oh_ord(0, 8, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 7));
	assert_int_equal(oms.s[0].rejects[IG_RJ_REDUCE_ONLY], 4);
	assert_int_equal(oms.s[0].trading_state, IG_TS_ACTIVE);
}

/* ------------------------------------------------------ daily loss */

static void test_daily_loss_moves_to_reducing(void **state)
{
	struct ig_oms_strategy *s;
	const struct ig_event *p;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	assert_int_equal(s->day, DAY0_NS / (86400 * INT64_C(1000000000)));
	hold(0, 1, "3", "100", "0", 1);
	/* An open buy from before the breach. */
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 1));
	oh_venue_update(0, 2, IG_OS_ACCEPTED);

	close_at(0, 3, "1", "60", "0", 2); /* -40 */
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	close_at(0, 4, "1", "90", "0", 3); /* -50: at the limit, not beyond */
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	send_ok(oh_ord(0, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.1", 4));
	oh_fill(0, 5, 4, IG_SIDE_SELL, "99.9", "0.1", "0"); /* -50.01 */
	assert_int_equal(s->trading_state, IG_TS_REDUCING);
	assert_int_equal(s->breach_reason, IG_RJ_DAILY_LOSS);
	assert_int_equal(s->day_start_net_pnl, 0);
	p = position_ev();
	assert_non_null(p);
	assert_int_equal(p->body.position.trading_state, IG_TS_REDUCING);
	assert_int_equal(oms.s[1].trading_state, IG_TS_ACTIVE);

	/* Increasing orders: denied, reason daily_loss_limit. */
	send_denied(oh_ord(0, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "0.1", 5), IG_RJ_DAILY_LOSS);
	send_denied(oh_ord(0, 7, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 5), IG_RJ_DAILY_LOSS);
	{
		struct ig_event ev = oh_ord(0, 8, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "0.1", 5);
		ev.body.order.stop_px = D("110");
		send_denied(ev, IG_RJ_DAILY_LOSS);
	}
	/* Reductions pass (position 0.9). */
	send_ok(oh_ord(0, 9, IG_SIDE_SELL, IG_ORD_LIMIT, "101", "0.5", 6));
	/* More than what is left to reduce does not. */
	send_denied(oh_ord(0, 10, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.5", 6), IG_RJ_DAILY_LOSS);
	/* Cancels always pass. */
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_non_null(oh_update_for(0, 2, IG_OS_PENDING_CANCEL));
	oh_cancel(0, 9);
	assert_int_equal(exec_cancels(0, 9), 1);
	/* The other strategy trades on. */
	send_ok(oh_ord(1, 11, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 7));
}

/*
 * The daily window follows data time (UTC days). (A loose drawdown limit
 * is set so that marks re-value the strategy too: at 90a56c1 only then
 * did a mark roll the day.) Observed: a new day resets the baseline for
 * the loss limit, but a strategy already REDUCING stays REDUCING: nothing
 * returns it to ACTIVE.
 */
static void test_new_day_resets_baseline(void **state)
{
	struct ig_oms_strategy *s;
	int64_t day0;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	cfg.risk.max_drawdown_pct = D("90");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	day0 = s->day;
	hold(0, 1, "5", "100", "0", 1);
	close_at(0, 2, "1", "60", "0", 2); /* day 0: -40 */
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);

	/* Still day 0 one ms before midnight. */
	mark(NEXT_DAY_MS - 1, "60");
	assert_int_equal(s->day, day0);
	assert_int_equal(s->day_start_net_pnl, 0);
	mark(NEXT_DAY_MS, "60");
	assert_int_equal(s->day, day0 + 1);
	assert_int_equal(s->day_start_net_pnl, D("-40"));
	close_at(0, 3, "1", "60", "0", 3); /* day 1: -40 (total -80) */
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	close_at(0, 4, "1", "80", "0", 4); /* day 1: -60 */
	assert_int_equal(s->trading_state, IG_TS_REDUCING);
	assert_int_equal(s->breach_reason, IG_RJ_DAILY_LOSS);

	/* Day 1, still: increasing orders are denied, reductions pass. */
	send_denied(oh_ord(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "80", "0.1", NEXT_DAY_MS + 7 * H_MS),
		    IG_RJ_DAILY_LOSS);
	/* Day 2: the baseline resets, and a daily limit is a daily one: the
	 * strategy is ACTIVE again (a drawdown breach would stay). */
	mark(NEXT_DAY_MS + DAY_MS + 5 * H_MS, "80");
	assert_int_equal(s->day, day0 + 2);
	assert_int_equal(s->day_start_net_pnl, D("-100"));
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	send_ok(oh_ord(0, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "80", "0.1", NEXT_DAY_MS + DAY_MS + 6 * H_MS));
}

/*
 * Regression (found by this file, fixed in a84f3c2): the day's baseline
 * was taken when revalue() first saw a new day, after on_fill had applied
 * the fill; without a drawdown limit marks did not re-value, so the first
 * fill of a new data day set the baseline *including its own realized
 * loss*: a position carried over midnight and closed at a loss of 60
 * (limit 50) left the strategy ACTIVE.
 */
static void test_daily_loss_first_fill_of_day_counts(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	hold(0, 1, "2", "100", "0", 1);
	mark(NEXT_DAY_MS + H_MS, "40");
	close_at(0, 2, "1", "40", "0", 2); /* realized -60 on day 1 */
	assert_int_equal(s->pos[0].realized_pnl, D("-60"));
	if (s->trading_state != IG_TS_REDUCING)
		fail_msg("a day-1 loss of 60 > limit 50 left the strategy %s (day_start_net_pnl %lld)",
			 ig_trading_state_name((enum ig_trading_state)s->trading_state),
			 (long long)s->day_start_net_pnl);
}

/*
 * Regression (fixed; was: src/oms/oms.c, revalue): the day changes on `day != s->day`, so an
 * event stamped with an earlier data day moves the window backwards and
 * resets the baseline again. Fills do arrive stamped earlier than the
 * latest mark: the paper venue stamps a fill with its order's
 * ts_event_ns. Here a day-0 order filled after the day-1 mark resets the
 * baseline twice, and a day-1 loss of 80 (limit 50) goes unseen. Fix:
 * only roll forward (day > s->day).
 */
static void test_regression_daily_loss_day_moves_backwards(void **state)
{
	struct ig_oms_strategy *s;
	int64_t day0;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	cfg.risk.max_drawdown_pct = D("90"); /* marks re-value and roll the day */
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	day0 = s->day;
	hold(0, 1, "5", "100", "0", 1);
	/* Day 0, a minute before midnight: a market sell is sent. */
	send_ok(oh_ord(0, 2, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", NEXT_DAY_MS - 60000));
	mark(NEXT_DAY_MS + 1000, "60");
	assert_int_equal(s->day, day0 + 1);
	/* Its fill, stamped with the order's (day 0) time: -40 on day 1. */
	oh_fill_at(T0 + (NEXT_DAY_MS - 60000) * MS, 0, 2, 2, IG_SIDE_SELL, "60", "1", "0");
	mark(NEXT_DAY_MS + 2000, "60");
	close_at(0, 3, "1", "60", "0", 3); /* another -40 on day 1 */
	assert_int_equal(s->pos[0].realized_pnl, D("-80"));
	if (s->trading_state != IG_TS_REDUCING)
		fail_msg("day-1 losses of 80 > limit 50 left the strategy %s (day %lld, baseline %lld)",
			 ig_trading_state_name((enum ig_trading_state)s->trading_state),
			 (long long)(s->day - day0), (long long)s->day_start_net_pnl);
}

/* ------------------------------------------------------ drawdown */

/* Capital 1000, 5 bought at 100: equity 1000. A mark of 110 lifts the
 * high-water mark to 1050; the limit of 10% is crossed below equity 945
 * (mark 89). */
static void drawdown_path(void)
{
	struct ig_oms_strategy *s = &oms.s[0];
	mark(0, "100");
	hold(0, 1, "5", "100", "0", 1);
	assert_int_equal(s->equity, D("1000"));
	assert_int_equal(s->equity_hwm, D("1000"));
	/* An open buy, to cancel after the breach. */
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "80", "1", 1));
	oh_venue_update(0, 2, IG_OS_ACCEPTED);
	mark(2, "110");
	assert_int_equal(s->equity, D("1050"));
	assert_int_equal(s->equity_hwm, D("1050"));
	mark(3, "95");
	assert_int_equal(s->equity, D("975"));
	assert_int_equal(s->drawdown_pct, D("7.14285714"));
	mark(4, "89"); /* exactly 10%: not beyond */
	assert_int_equal(s->drawdown_pct, D("10"));
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	mark(5, "88.99");
	assert_int_equal(s->equity, D("944.95"));
	assert_true(s->drawdown_pct > D("10"));
	assert_int_equal(s->max_drawdown_seen_pct, s->drawdown_pct);
	assert_int_equal(s->equity_hwm, D("1050"));
}

static void test_drawdown_moves_to_reducing(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("10");
	oh_start();
	s = &oms.s[0];
	drawdown_path();
	assert_int_equal(s->trading_state, IG_TS_REDUCING);
	assert_int_equal(s->breach_reason, IG_RJ_DRAWDOWN);
	send_denied(oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "88", "0.1", 6), IG_RJ_DRAWDOWN);
	send_ok(oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "89", "1", 6));
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 1);
	/* A recovery does not restore ACTIVE. */
	mark(7, "120");
	assert_int_equal(s->drawdown_pct, 0);
	assert_int_equal(s->trading_state, IG_TS_REDUCING);
	/* The other strategy (no position) is untouched. */
	assert_int_equal(oms.s[1].trading_state, IG_TS_ACTIVE);
	send_ok(oh_ord(1, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "119", "1", 8));
}

static void test_drawdown_halted(void **state)
{
	struct ig_oms_strategy *s;
	struct ig_event ev;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("10");
	cfg.strategies[0].risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	s = &oms.s[0];
	drawdown_path();
	assert_int_equal(s->trading_state, IG_TS_HALTED);
	assert_int_equal(s->breach_reason, IG_RJ_DRAWDOWN);
	/* Everything is denied, reductions too ... */
	send_denied(oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "88", "0.1", 6), IG_RJ_HALTED);
	send_denied(oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "89", "1", 6), IG_RJ_HALTED);
	ev = oh_ord(0, 5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 6);
	ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
	send_denied(ev, IG_RJ_HALTED);
	/* ... but cancels pass. */
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 1);
	oh_venue_update(0, 2, IG_OS_CANCELED);
	assert_null(oh_rec(0, 2));
	/* The other strategy trades on. */
	send_ok(oh_ord(1, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "88", "1", 7));
}

/*
 * Regression (found by this file, fixed in a84f3c2): the global
 * `risk.drawdown_action` was ignored: ig_oms_init overwrote it with the
 * strategy's own, which defaulted to "reducing", so `risk:
 * {drawdown_action: halted}` at the top level never halted anyone.
 */
static void test_global_drawdown_action_inherited(void **state)
{
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("10");
	cfg.risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	drawdown_path();
	if (oms.s[0].trading_state != IG_TS_HALTED)
		fail_msg("global drawdown_action halted, strategy went %s",
			 ig_trading_state_name((enum ig_trading_state)oms.s[0].trading_state));
}

/*
 * Regression (fixed; was: minor; src/oms/oms.c, revalue): drawdown_pct is computed as
 * (hwm - equity) * 100e8 / hwm with an integer division (truncation) and
 * then ig_fixed_round_wide(..., 0, ...), which rounds nothing. Everywhere
 * else a quotient is rounded half away from zero (position.h). Here
 * (1050 - 944) / 1050 = 10.095238095...%, which must be 10.0952381, not
 * 10.09523809.
 */
static void test_regression_drawdown_pct_truncated(void **state)
{
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("50");
	oh_start();
	mark(0, "100");
	hold(0, 1, "5", "100", "0", 1);
	mark(1, "110");
	mark(2, "88.8"); /* equity 944 */
	assert_int_equal(oms.s[0].equity, D("944"));
	assert_int_equal(oms.s[0].drawdown_pct, D("10.0952381"));
}

/* ------------------------------------------------------ kill switch */

/* Strategy 0: position 2, an acked buy (2), an in-flight buy (3), an acked
 * reducing sell (4), an armed stop buy (5). Strategy 1: position 1, an
 * acked buy (12), an armed stop-loss sell (13), a buy already being
 * cancelled (14). */
static void kill_switch_book(void)
{
	struct ig_event ev;
	mark(0, "100");
	hold(0, 1, "2", "100", "0", 1);
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 2, IG_OS_ACCEPTED);
	send_ok(oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 1));
	send_ok(oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "110", "1", 1));
	oh_venue_update(0, 4, IG_OS_ACCEPTED);
	ev = oh_ord(0, 5, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "1", 1);
	ev.body.order.stop_px = D("105");
	oh_handle(&ev);
	assert_true(oh_rec(0, 5)->armed);

	hold(1, 11, "1", "100", "0", 2);
	send_ok(oh_ord(1, 12, IG_SIDE_BUY, IG_ORD_LIMIT, "97", "1", 2));
	oh_venue_update(1, 12, IG_OS_ACCEPTED);
	ev = oh_ord(1, 13, IG_SIDE_SELL, IG_ORD_STOP_MARKET, NULL, "1", 2);
	ev.body.order.stop_px = D("90");
	oh_handle(&ev);
	assert_true(oh_rec(1, 13)->armed);
	send_ok(oh_ord(1, 14, IG_SIDE_BUY, IG_ORD_LIMIT, "96", "1", 2));
	oh_cancel(1, 14);
	assert_int_equal(exec_cancels(1, 14), 1);
	assert_int_equal(oms.s[0].om.open, 4);
	assert_int_equal(oms.s[1].om.open, 3);
}

static void check_kill_switch_engaged(void)
{
	/* One cancel to the venue for every open venue order; the one
	 * already being cancelled (14) gets it again. */
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 5);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_int_equal(exec_cancels(0, 3), 1);
	assert_int_equal(exec_cancels(0, 4), 1);
	assert_int_equal(exec_cancels(1, 12), 1);
	assert_int_equal(exec_cancels(1, 14), 1);
	for (uint64_t c = 2; c <= 4; c++)
		assert_int_equal(oh_rec(0, c)->state, IG_OS_PENDING_CANCEL);
	assert_int_equal(oh_rec(1, 12)->state, IG_OS_PENDING_CANCEL);
	/* Armed conditional orders are cancelled here, locally. */
	assert_non_null(oh_update_for(0, 5, IG_OS_CANCELED));
	assert_non_null(oh_update_for(1, 13, IG_OS_CANCELED));
	assert_null(oh_rec(0, 5));
	assert_null(oh_rec(1, 13));
	assert_int_equal(oms.s[0].narmed, 0);
	assert_int_equal(oms.s[1].narmed, 0);
	assert_int_equal(oms.kill_cancels, 7);
	assert_true(oms.kill_switch);
	/* Nothing but reductions passes. */
	send_denied(oh_ord(0, 20, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "0.1", 3), IG_RJ_KILL_SWITCH);
	send_denied(oh_ord(0, 21, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "0.1", 3), IG_RJ_KILL_SWITCH);
	send_denied(oh_ord(1, 22, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "0.1", 3), IG_RJ_KILL_SWITCH);
	{
		struct ig_event ev = oh_ord(1, 23, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "0.1", 3);
		ev.body.order.stop_px = D("101");
		send_denied(ev, IG_RJ_KILL_SWITCH);
	}
	/* Strategy 0 holds 2 and offers 1 (order 4, cancel pending): 1 left. */
	send_ok(oh_ord(0, 24, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "1", 3));
	send_denied(oh_ord(0, 25, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "0.5", 3), IG_RJ_KILL_SWITCH);
	send_ok(oh_ord(1, 26, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "0.5", 3));
	/* Cancels pass. */
	oh_cancel(0, 24);
	assert_int_equal(exec_cancels(0, 24), 1);
	/* The venue confirms; the stops' triggers are gone. */
	oh_venue_update(0, 2, IG_OS_CANCELED);
	oh_venue_update(0, 3, IG_OS_CANCELED);
	oh_venue_update(0, 4, IG_OS_CANCELED);
	oh_venue_update(0, 24, IG_OS_CANCELED);
	oh_venue_update(1, 12, IG_OS_CANCELED);
	oh_venue_update(1, 14, IG_OS_CANCELED);
	mark(4, "106");
	assert_int_equal(out.n, 0);
	mark(5, "89");
	assert_int_equal(out.n, 0);
	assert_int_equal(oms.s[0].om.open, 0);
	assert_int_equal(oms.s[0].open_buy_qty[0], 0);
	assert_int_equal(oms.s[0].open_sell_qty[0], 0);
	assert_int_equal(oms.s[0].open_buy_notional, 0);
	assert_int_equal(oms.s[1].om.open, 1); /* 26, still open */
}

static void test_kill_switch(void **state)
{
	(void)state;
	oh_start();
	kill_switch_book();
	out.n = 0;
	ig_oms_kill_switch(&oms, true, &out.emit);
	check_kill_switch_engaged();
	/* Engaging again changes no state but cancels again what is still
	 * open (the venue has confirmed none of the cancels yet). */
	out.n = 0;
	ig_oms_kill_switch(&oms, true, &out.emit);
	{
		uint32_t cancels = 0;
		for (uint32_t i = 0; i < out.n; i++)
			if (out.it[i].dst == IG_STAGE_EXEC) {
				assert_int_equal(out.it[i].ev.hdr.type, IG_EV_CANCEL);
				assert_non_null(oh_rec(out.it[i].ev.hdr.strategy_id,
						       out.it[i].ev.body.cancel.client_id));
				cancels++;
			}
		assert_true(cancels > 0);
		assert_int_equal(oms.kill_cancels, 7 + cancels);
	}
	assert_true(oms.kill_switch);
	/* Cleared: new orders pass again. */
	out.n = 0;
	ig_oms_kill_switch(&oms, false, &out.emit);
	assert_int_equal(out.n, 0);
	assert_false(oms.kill_switch);
	send_ok(oh_ord(0, 30, IG_SIDE_BUY, IG_ORD_LIMIT, "89", "1", 6));
	send_ok(oh_ord(1, 31, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 6));
	assert_int_equal(oms.s[0].trading_state, IG_TS_ACTIVE);
}

/* The kill switch as the main thread asks for it (SIGUSR1/SIGUSR2): a
 * request in the OMS stage, seen by its has_work and applied by its poll
 * on the OMS's thread; engaging again re-sends the cancels; nothing is
 * due once applied. */
static void test_kill_switch_request_through_stage_ops(void **state)
{
	struct ig_oms_stage st;
	const struct ig_stage_ops *ops = &ig_oms_stage_ops;
	(void)state;
	oh_start();
	kill_switch_book();
	ig_oms_stage_init(&st, &oms);
	assert_false(ops->has_work(&st));
	out.n = 0;
	assert_int_equal(ops->poll(&st, 0, &out.emit), 0);
	assert_int_equal(out.n, 0);
	ig_oms_request_kill_switch(&st, true);
	assert_true(ops->has_work(&st));
	assert_false(oms.kill_switch); /* not before the OMS's own thread applies it */
	assert_int_equal(ops->poll(&st, 0, &out.emit), 1);
	check_kill_switch_engaged();
	assert_false(ops->has_work(&st));
	/* Again while engaged: the cancels of what is still open go again. */
	send_ok(oh_ord(1, 40, IG_SIDE_SELL, IG_ORD_LIMIT, "120", "0.1", 7));
	ig_oms_request_kill_switch(&st, true);
	assert_true(ops->has_work(&st));
	out.n = 0;
	assert_int_equal(ops->poll(&st, 0, &out.emit), 1);
	assert_int_equal(exec_cancels(1, 40), 1);
	assert_false(ops->has_work(&st));
	ig_oms_request_kill_switch(&st, false);
	assert_true(ops->has_work(&st));
	assert_int_equal(ops->poll(&st, 0, &out.emit), 1);
	assert_false(oms.kill_switch);
	assert_false(ops->has_work(&st));
	assert_false(ops->done(&st));
}

static void test_kill_switch_control_event(void **state)
{
	(void)state;
	oh_start();
	kill_switch_book();
	control(IG_CTL_KILL_SWITCH, 1);
	check_kill_switch_engaged();
	control(IG_CTL_KILL_SWITCH, 0);
	assert_int_equal(out.n, 0);
	assert_false(oms.kill_switch);
	send_ok(oh_ord(0, 30, IG_SIDE_BUY, IG_ORD_LIMIT, "89", "1", 6));
	send_ok(oh_ord(1, 31, IG_SIDE_BUY, IG_ORD_LIMIT, "89", "1", 6));
}

/* Regression: a cancel the venue could not get through (the Luno venue
 * gave up after a few failed stoporders) stayed PENDING_CANCEL for good:
 * a second cancel, the kill switch and the graceful stop all skipped the
 * order, so it stayed live at the venue. Each must send the cancel to the
 * executor again, without a second PENDING_CANCEL transition. */
static void test_cancel_pending_cancel_again(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
	oh_venue_update(0, 2, IG_OS_ACCEPTED);
	send_ok(oh_ord(1, 12, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 1));
	oh_venue_update(1, 12, IG_OS_ACCEPTED);
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_int_equal(oh_rec(0, 2)->state, IG_OS_PENDING_CANCEL);
	oh_cancel(1, 12);
	assert_int_equal(exec_cancels(1, 12), 1);
	/* A partial fill after the cancel request: still cancel-requested. */
	oh_fill(1, 12, 1201, IG_SIDE_BUY, "98", "0.25", "0");
	assert_int_equal(oh_rec(1, 12)->state, IG_OS_PARTIALLY_FILLED);

	/* The strategy asks again: the cancel goes again, no new transition. */
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_null(oh_update_for(0, 2, IG_OS_PENDING_CANCEL));
	assert_int_equal(oh_rec(0, 2)->state, IG_OS_PENDING_CANCEL);
	assert_int_equal(oms.s[0].om.illegal, 0);

	/* The kill switch re-sends every outstanding cancel. */
	control(IG_CTL_KILL_SWITCH, 1);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_int_equal(exec_cancels(1, 12), 1);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 2);
	control(IG_CTL_KILL_SWITCH, 0);

	/* So does the graceful stop, ahead of the token. */
	ev = (struct ig_event){ 0 };
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_FEED_END;
	ev.hdr.src = IG_STAGE_TICK;
	oh_handle(&ev);
	ev.hdr.src = IG_STAGE_STRATEGY;
	oh_handle(&ev);
	oh_handle(&ev);
	assert_int_equal(exec_cancels(0, 2), 1);
	assert_int_equal(exec_cancels(1, 12), 1);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 3);
	assert_int_equal(out.it[out.n - 1].ev.body.control.cmd, IG_CTL_FEED_END);

	/* The venue's word ends it; then a cancel is an unknown order. */
	oh_venue_update(0, 2, IG_OS_CANCELED);
	assert_null(oh_rec(0, 2));
	oh_cancel(0, 2);
	assert_int_equal(exec_cancels(0, 2), 0);
	assert_int_equal(oms.s[0].om.illegal, 0);
	assert_int_equal(oms.s[1].om.illegal, 0);
}

/* ------------------------------------------------------ tax */

static void test_tax(void **state)
{
	(void)state;
	cfg.risk.tax_rate_pct = D("20");
	oh_start();
	mark(0, "100");
	hold(0, 1, "1", "100", "0", 1);
	assert_int_equal(oms.s[0].tax, 0);
	/* Realized 101, fees 1: net gains 100, tax 20. */
	close_at(0, 2, "1", "201", "1", 2);
	assert_int_equal(oms.s[0].pos[0].realized_pnl, D("101"));
	assert_int_equal(oms.s[0].tax, D("20"));
	/* Tax is reported, not taken from cash. */
	assert_int_equal(oms.s[0].cash, D("10100"));

	/* A loss owes nothing. */
	hold(1, 3, "1", "100", "0.1", 3);
	close_at(1, 4, "1", "50", "0.05", 4);
	assert_int_equal(oms.s[1].pos[0].realized_pnl, D("-50"));
	assert_int_equal(oms.s[1].tax, 0);

	/* Net gains fall to 50 (101 - 50 - 1): tax 10. */
	hold(0, 5, "1", "100", "0", 5);
	close_at(0, 6, "1", "50", "0", 6);
	assert_int_equal(oms.s[0].tax, D("10"));
	/* Net 50 - 49.99999997 = 0.00000003; 20% is 0.000000006, rounded
	 * half away from zero to 0.00000001. */
	hold(0, 7, "1", "100", "0", 7);
	close_at(0, 8, "1", "50.00000003", "0", 8);
	assert_int_equal(oms.s[0].tax, 1);
	/* Net below zero: no tax. */
	hold(0, 9, "1", "100", "0", 9);
	close_at(0, 10, "1", "99", "0", 10);
	assert_int_equal(oms.s[0].tax, 0);
}

/* ------------------------------------------------------ equity */

/* Equity = cash + positions at the mark; the high-water mark follows it.
 * (Marks re-value only where a drawdown limit is set, so strategy 0 has a
 * loose one; strategy 1 has none.) */
static void test_equity_and_hwm(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.strategies[0].risk.max_drawdown_pct = D("50");
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	assert_int_equal(s->equity, D("1000"));
	assert_int_equal(s->equity_hwm, D("1000"));
	hold(0, 1, "2", "100", "0.2", 1);
	assert_int_equal(s->cash, D("799.8"));
	assert_int_equal(s->equity, D("999.8"));
	assert_int_equal(s->equity_hwm, D("1000"));
	assert_int_equal(s->drawdown_pct, D("0.02"));
	mark(1, "120");
	assert_int_equal(s->equity, D("1039.8"));
	assert_int_equal(s->equity_hwm, D("1039.8"));
	assert_int_equal(s->drawdown_pct, 0);
	mark(2, "110");
	assert_int_equal(s->equity, D("1019.8"));
	assert_int_equal(s->equity_hwm, D("1039.8"));
	/* 20 / 1039.8 = 1.9234468167 % */
	assert_true(s->drawdown_pct >= D("1.92344681") && s->drawdown_pct <= D("1.92344682"));
	close_at(0, 2, "1", "115", "0.115", 2);
	assert_int_equal(s->cash, D("914.685"));
	assert_int_equal(s->equity, D("1024.685")); /* 1 at the mark of 110 */
	assert_int_equal(ig_oms_equity(&oms, 0), s->equity);
	mark(3, "130");
	assert_int_equal(s->equity, D("1044.685"));
	assert_int_equal(s->equity_hwm, D("1044.685"));
	assert_true(s->max_drawdown_seen_pct >= D("1.92344681"));
	assert_true(s->max_drawdown_seen_pct <= D("1.92344682"));
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);

	/* Strategy 1: the books are always current through ig_oms_equity. */
	hold(1, 3, "1", "130", "0", 3);
	assert_int_equal(oms.s[1].equity, D("10000"));
	mark(4, "140");
	assert_int_equal(ig_oms_equity(&oms, 1), D("10010"));
}

/* ------------------------------------------------------ triggers vs state */

/*
 * Regression (fixed; was: src/oms/oms.c, check_triggers/release): an armed conditional order
 * passed risk when placed, but when it triggers it is released with no
 * look at the trading state. A stop-market buy (an entry: it increases
 * the position) placed while ACTIVE still goes to the venue after a daily
 * loss breach has put the strategy in REDUCING. Fix: at trigger time apply
 * state_check (and the kill switch); cancel it with the reason if it no
 * longer passes (or cancel increasing armed orders on the breach).
 */
static void test_regression_trigger_ignores_reducing(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	oh_start();
	mark(0, "100");
	hold(0, 1, "2", "100", "0", 1);
	ev = oh_ord(0, 9, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "1", 1);
	ev.body.order.stop_px = D("120");
	oh_handle(&ev);
	assert_true(oh_rec(0, 9)->armed);
	close_at(0, 2, "1", "40", "0", 2); /* -60 */
	assert_int_equal(oms.s[0].trading_state, IG_TS_REDUCING);
	mark(3, "121");
	if (oh_exec_order(9) != NULL)
		fail_msg("a stop buy (increasing) was released to the venue while REDUCING");
}

/* Same with HALTED (drawdown_action halted): a take-profit buy triggers
 * after the halt and is sent to the venue. */
static void test_regression_trigger_ignores_halted(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("10");
	cfg.strategies[0].risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	mark(0, "100");
	hold(0, 1, "5", "100", "0", 1);
	ev = oh_ord(0, 9, IG_SIDE_BUY, IG_ORD_TAKE_PROFIT, NULL, "1", 1);
	ev.body.order.stop_px = D("85");
	oh_handle(&ev);
	assert_true(oh_rec(0, 9)->armed);
	mark(2, "110");
	mark(3, "88");
	assert_int_equal(oms.s[0].trading_state, IG_TS_HALTED);
	mark(4, "85");
	if (oh_exec_order(9) != NULL)
		fail_msg("a take-profit buy was released to the venue while HALTED");
}


/*
 * Regression (fixed; was: src/oms/oms.c, on_terminal): a held replacement is released when
 * the venue confirms its predecessor's cancel. The release re-runs the
 * numeric risk check but not the trading state: an increasing buy,
 * accepted while ACTIVE, goes to the venue after a daily-loss breach has
 * put the strategy in REDUCING. Fix: run state_check (trading states, kill
 * switch, reduce-only) at release too, and cancel it with the reason.
 */
static void test_regression_held_replacement_ignores_reducing(void **state)
{
	struct ig_event ev;
	(void)state;
	cfg.risk.daily_loss_limit = D("50");
	oh_start();
	mark(0, "100");
	hold(0, 1, "3", "100", "0", 1);
	send_ok(oh_ord(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 1));
	oh_venue_update(0, 5, IG_OS_ACCEPTED);
	ev = oh_ord(0, 6, IG_SIDE_BUY, IG_ORD_LIMIT, "91", "1", 2);
	ev.body.order.replaces = 5;
	oh_handle(&ev);
	assert_int_equal(exec_cancels(0, 5), 1);
	assert_true(oh_rec(0, 6)->held);
	close_at(0, 7, "1", "40", "0", 2); /* -60 */
	assert_int_equal(oms.s[0].trading_state, IG_TS_REDUCING);
	oh_venue_update(0, 5, IG_OS_CANCELED);
	if (oh_exec_order(6) != NULL)
		fail_msg("a held replacement buy (increasing) was released to the venue while REDUCING");
}

/* Time in force DAY: at the first mark of the next UTC data day, a DAY
 * order at the venue is cancelled there and ends EXPIRED when the venue
 * confirms; an armed (OMS-held) DAY stop expires at once; GTC orders stay. */
static void test_day_orders_expire_at_day_end(void **state)
{
	struct ig_event ev;
	struct ig_order_rec *r;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	send_ok(ev);
	oh_venue_update(0, 1, IG_OS_ACCEPTED);
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 1)); /* GTC */
	oh_venue_update(0, 2, IG_OS_ACCEPTED);
	ev = oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	ev.body.order.stop_px = oh_D("150");
	oh_handle(&ev);
	assert_non_null(oh_rec(0, 3));
	mark(NEXT_DAY_MS - 1, "100"); /* still the same day */
	assert_int_equal(exec_cancels(0, 1), 0);
	mark(NEXT_DAY_MS, "100");
	assert_int_equal(exec_cancels(0, 1), 1);
	assert_int_equal(exec_cancels(0, 2), 0);
	assert_null(oh_rec(0, 3));
	assert_non_null(oh_update_for(0, 3, IG_OS_EXPIRED));
	r = oh_rec(0, 1);
	assert_non_null(r);
	assert_int_equal(r->state, IG_OS_PENDING_CANCEL);
	oh_venue_update_at(oh_now_ns(), 0, 1, IG_OS_CANCELED);
	assert_null(oh_rec(0, 1));
	assert_non_null(oh_update_for(0, 1, IG_OS_EXPIRED));
	assert_non_null(oh_rec(0, 2));
	assert_int_equal(oms.s[0].open_buy_qty[0], oh_D("1"));
}

/*
 * Regression (defect 6): when a fill is the first event of a new UTC data
 * day, on_fill rolled the daily-loss window but did not expire DAY orders:
 * they stayed working into the new day (until a mark came, if one did).
 * One day roll expires them wherever it happens, for every strategy (the
 * day is the same for all): DAY orders at the venue are cancelled there,
 * armed ones expire at once; GTC orders stay; the fill itself applies.
 */
static void test_day_orders_expire_when_fill_is_first_of_day(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	send_ok(ev);
	oh_venue_update(0, 1, IG_OS_ACCEPTED);
	send_ok(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 1)); /* GTC */
	oh_venue_update(0, 2, IG_OS_ACCEPTED);
	ev = oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_STOP_MARKET, NULL, "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	ev.body.order.stop_px = oh_D("150");
	oh_handle(&ev);
	assert_true(oh_rec(0, 3)->armed);
	ev = oh_ord(1, 7, IG_SIDE_BUY, IG_ORD_LIMIT, "97", "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	send_ok(ev);
	oh_venue_update(1, 7, IG_OS_ACCEPTED);
	/* First event of the next day: a fill of the GTC order. */
	oh_fill_at(DAY0_NS + DAY_MS * MS + 5 * MS, 0, 2, 1, IG_SIDE_BUY, "98", "1", "0.098");
	assert_int_equal(oms.s[0].pos[0].qty, D("1"));
	assert_int_equal(exec_cancels(0, 1), 1);
	assert_int_equal(exec_cancels(1, 7), 1);
	assert_null(oh_rec(0, 3));
	assert_non_null(oh_update_for(0, 3, IG_OS_EXPIRED));
	assert_int_equal(oh_rec(0, 1)->state, IG_OS_PENDING_CANCEL);
	oh_venue_update(0, 1, IG_OS_CANCELED);
	assert_non_null(oh_update_for(0, 1, IG_OS_EXPIRED));
	/* The first mark of that day finds nothing more to expire. */
	mark(NEXT_DAY_MS + 10, "100");
	assert_int_equal(exec_cancels(0, 1) + exec_cancels(1, 7), 0);
}

/*
 * Sibling of defect 6: an intent is the first event of a new day (its tick
 * reached the strategy before the OMS saw a mark of that day). Without a
 * day roll at the intent, a DAY order placed then was expired by the first
 * mark of its own day, and yesterday's DAY orders only then.
 */
static void test_day_order_placed_first_in_day_lives(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	send_ok(ev);
	oh_venue_update(0, 1, IG_OS_ACCEPTED);
	ev = oh_ord(0, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", NEXT_DAY_MS + 1);
	ev.body.order.tif = IG_TIF_DAY;
	send_ok(ev);
	assert_int_equal(exec_cancels(0, 1), 1);
	assert_int_equal(exec_cancels(0, 5), 0);
	oh_venue_update(0, 5, IG_OS_ACCEPTED);
	mark(NEXT_DAY_MS + 2, "100");
	assert_int_equal(exec_cancels(0, 5), 0);
	assert_int_equal(oh_rec(0, 5)->state, IG_OS_ACCEPTED);
	assert_false(oh_rec(0, 5)->expiring);
	/* It ends with its own day. */
	mark(NEXT_DAY_MS + DAY_MS, "100");
	assert_int_equal(exec_cancels(0, 5), 1);
}

/* The global trading state, set by a control event, binds every strategy:
 * REDUCING lets only reductions through, HALTED nothing; ACTIVE again
 * lets everything through. Cancels are never blocked. */
static void test_global_trading_state_control(void **state)
{
	(void)state;
	oh_start();
	mark(0, "100");
	send_ok(oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1));
	oh_fill(0, 1, 1, IG_SIDE_BUY, "100", "1", "0");
	control(IG_CTL_TRADING_STATE, IG_TS_REDUCING);
	assert_int_equal(oms.trading_state, IG_TS_REDUCING);
	send_denied(oh_ord(1, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 2), IG_RJ_REDUCE_ONLY);
	send_ok(oh_ord(0, 3, IG_SIDE_SELL, IG_ORD_LIMIT, "101", "0.5", 2));
	control(IG_CTL_TRADING_STATE, IG_TS_HALTED);
	send_denied(oh_ord(0, 4, IG_SIDE_SELL, IG_ORD_LIMIT, "101", "0.5", 3), IG_RJ_HALTED);
	oh_cancel(0, 3);
	assert_int_equal(exec_cancels(0, 3), 1);
	control(IG_CTL_TRADING_STATE, IG_TS_ACTIVE);
	send_ok(oh_ord(1, 5, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 4));
	/* Out of range is ignored. */
	control(IG_CTL_TRADING_STATE, 7);
	assert_int_equal(oms.trading_state, IG_TS_ACTIVE);
}

/*
 * Marks skip the per-strategy day roll until the earliest next UTC day of
 * any strategy (oms.day_next_ns). A snapshot read can move days back: the
 * next mark must roll from the restored day, not from the day the books
 * had before the read.
 */
static void test_day_roll_after_snapshot_read(void **state)
{
	static uint8_t snap[1 << 22];
	struct ig_oms_strategy *s;
	int64_t day0;
	long len;
	(void)state;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	day0 = s->day;
	assert_true(ig_oms_snapshot_size(&oms) <= sizeof(snap));
	len = ig_oms_snapshot_write(&oms, snap, sizeof(snap));
	assert_true(len > 0);
	mark(NEXT_DAY_MS + DAY_MS, "100"); /* day 2 */
	assert_int_equal(s->day, day0 + 2);
	mark(NEXT_DAY_MS + DAY_MS + H_MS, "100");
	assert_int_equal(s->day, day0 + 2);
	assert_int_equal(ig_oms_snapshot_read(&oms, snap, (size_t)len), 0);
	assert_int_equal(s->day, day0);
	mark(NEXT_DAY_MS + H_MS, "100"); /* day 1: rolls from the restored day 0 */
	assert_int_equal(s->day, day0 + 1);
	assert_int_equal(oms.s[1].day, day0 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)
		T(test_duplicate_intent),
		T(test_reduce_only_flag),
		T(test_daily_loss_moves_to_reducing),
		T(test_new_day_resets_baseline),
		T(test_drawdown_moves_to_reducing),
		T(test_drawdown_halted),
		T(test_kill_switch),
		T(test_kill_switch_control_event),
		T(test_kill_switch_request_through_stage_ops),
		T(test_cancel_pending_cancel_again),
		T(test_tax),
		T(test_day_orders_expire_at_day_end),
		T(test_day_orders_expire_when_fill_is_first_of_day),
		T(test_day_order_placed_first_in_day_lives),
		T(test_global_trading_state_control),
		T(test_equity_and_hwm),
		T(test_daily_loss_first_fill_of_day_counts),
		T(test_regression_daily_loss_day_moves_backwards),
		T(test_global_drawdown_action_inherited),
		T(test_regression_drawdown_pct_truncated),
		T(test_regression_trigger_ignores_reducing),
		T(test_regression_trigger_ignores_halted),
		T(test_regression_held_replacement_ignores_reducing),
		T(test_day_roll_after_snapshot_read),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
