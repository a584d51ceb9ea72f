/*
 * test_oms_money.c - regressions from a hostile review of the money path
 * (issue 10): each test failed on the code before its fix.
 *   - an attached stop-loss after a buy that paid its fee in base covers
 *     what is held, so it can go out when triggered;
 *   - a market buy is valued at the worst price it can be sent at, never
 *     at a px the strategy put on it; that price goes to the venue as the
 *     order's protection limit;
 *   - the cash check and the reservation refuse what would overflow;
 *   - a fill whose base fee exceeds its quantity, or a sell with a base
 *     fee, is refused (never a short after a buy);
 *   - a DAY order that expires while its cancel-replace waits releases
 *     the replacement as a cancel would;
 *   - after a recovery the strategies hear their own open orders, not the
 *     OMS-made stop-loss children (a normal run never shows them those).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "oms_harness.h"
#include "oms/position.h"
#include "ingenium/fixed.h"
#include <string.h>

#define T0 INT64_C(1600000000000000000) /* 2020-09-13T12:26:40Z */
#define MS OH_MS
#define DAY_MS INT64_C(86400000)
#define D(s) oh_D(s)

static struct ig_config cfg;
static struct ig_oms oms;
static struct oh_cap out;
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_oms_money", .capital = "1000", .check_sanity = true,
};

static void mark(int64_t t_ms, const char *px) { oh_quote(t_ms, px, px); }

/* An attached stop-loss after a buy that paid its fee in base. */
static void test_sl_child_after_base_fee(void **state)
{
	struct ig_event ev, f;
	uint64_t child = 0;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 10, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1);
	ev.body.order.sl_px = D("95");
	oh_send_ok(OH_BY_REF(ev), "?");
	oh_venue_update(0, 10, IG_OS_ACCEPTED);
	/* Luno-style: the buyer pays 0.001 BTC. */
	f = oh_fill_ev(oh_now_ns(), 0, 10, 1, IG_SIDE_BUY, "100", "1", "0");
	f.body.fill.fee_base = D("0.001");
	oh_handle(&f);
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_ORDER_UPDATE &&
		    out.it[i].ev.body.update.client_id != 10 &&
		    out.it[i].ev.body.update.state == IG_OS_SUBMITTED)
			child = out.it[i].ev.body.update.client_id;
	assert_true(child != 0);
	assert_int_equal(oms.s[0].pos[0].qty, D("0.999"));
	/* The market falls through the stop: the stop-loss must go out. */
	mark(2, "94");
	if (oh_exec_order(child) == NULL) {
		const struct ig_event *rj = oh_reject_for(child);
		fail_msg("stop-loss %llx not sent: %s (child qty %lld, position %lld)",
			 (unsigned long long)child,
			 rj ? ig_reject_reason_name((enum ig_reject_reason)rj->body.reject.reason) : "none",
			 oh_rec(0, child) != NULL ? (long long)oh_rec(0, child)->qty : -1LL,
			 (long long)oms.s[0].pos[0].qty);
	}
}

/* A market buy carrying a px was valued at that px, not at the touch. */
static void test_market_buy_px_bypasses_cash(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	oh_quote(0, "99", "100");
	/* capital 1000; 50 at ~100 costs ~5000. */
	ev = oh_ord(0, 20, IG_SIDE_BUY, IG_ORD_MARKET, "1", "50", 1);
	oh_handle(&ev);
	if (oh_exec_order(20) != NULL)
		fail_msg("market buy of 50 @ ask 100 (~5000) with cash 1000 was sent to the venue "
			 "(reserved %lld, open_buy_notional %lld)",
			 (long long)oh_rec(0, 20)->reserved, (long long)oms.s[0].open_buy_notional);
}

/* The cash check's notional + fee overflowed int64 (reservation < 0). */
static void test_cash_check_overflow(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	oh_quote(0, "99", "100");
	ev = oh_ord(0, 30, IG_SIDE_BUY, IG_ORD_LIMIT, "92233720368", "1", 1);
	oh_handle(&ev);
	if (oh_exec_order(30) != NULL)
		fail_msg("limit buy 1 @ 92233720368 accepted with cash 1000; open_buy_notional now %lld",
			 (long long)oms.s[0].open_buy_notional);
}

/* A buy whose base fee exceeds its quantity. */
static void test_fee_base_over_qty(void **state)
{
	struct ig_event ev, f;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 40, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1);
	oh_send_ok(OH_BY_REF(ev), "?");
	f = oh_fill_ev(oh_now_ns(), 0, 40, 1, IG_SIDE_BUY, "100", "1", "0");
	f.body.fill.fee_base = D("3");
	oh_handle(&f);
	if (oms.s[0].refused_fills == 0)
		fail_msg("buy 1 with fee_base 3 applied: spot position now %lld (short after a buy)",
			 (long long)oms.s[0].pos[0].qty);
}

/* A DAY order being replaced when the day rolls: the replacement is
 * cancelled though the old order ended without a fill. */
static void test_replace_across_day_roll(void **state)
{
	struct ig_event ev;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 50, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1);
	ev.body.order.tif = IG_TIF_DAY;
	oh_send_ok(OH_BY_REF(ev), "?");
	oh_venue_update(0, 50, IG_OS_ACCEPTED);
	ev = oh_ord(0, 51, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 2);
	ev.body.order.tif = IG_TIF_GTC;
	ev.body.order.replaces = 50;
	oh_handle(&ev);
	assert_non_null(oh_find(IG_STAGE_EXEC, IG_EV_CANCEL, 50));
	mark(DAY_MS, "100"); /* the next UTC day before the venue answers */
	oh_venue_update(0, 50, IG_OS_CANCELED);
	if (oh_exec_order(51) == NULL)
		fail_msg("GTC replacement 51 not released after 50 was cancelled (state %s)",
			 oh_update_for(OH_ANY_SID, 51, IG_OS_CANCELED) ? "CANCELED" : "?");
}

/* A sell that reports a base fee is not something Luno does: refused. */
static void test_sell_with_base_fee_refused(void **state)
{
	struct ig_event ev, f;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 70, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "1", 1);
	oh_send_ok(OH_BY_REF(ev), "?");
	f = oh_fill_ev(oh_now_ns(), 0, 70, 1, IG_SIDE_BUY, "100", "1", "0");
	oh_handle(&f);
	assert_int_equal(oms.s[0].pos[0].qty, D("1"));
	ev = oh_ord(0, 71, IG_SIDE_SELL, IG_ORD_LIMIT, "100", "0.5", 2);
	oh_send_ok(OH_BY_REF(ev), "?");
	f = oh_fill_ev(oh_now_ns(), 0, 71, 2, IG_SIDE_SELL, "100", "0.5", "0");
	f.body.fill.fee_base = D("0.001");
	oh_handle(&f);
	assert_int_equal(oms.s[0].refused_fills, 1);
	assert_int_equal(oms.s[0].pos[0].qty, D("1"));
}

/* The worst price a market buy is checked at goes out with it, so the
 * venue cannot pay more than the OMS reserved (the paper venue caps its
 * fills there; Luno's IOC bid uses it as its limit). */
static void test_market_buy_sent_with_its_limit(void **state)
{
	struct ig_event ev;
	const struct ig_event *o;
	(void)state;
	oh_start(); /* market_buy_ioc_bps 50 */
	oh_quote(0, "99", "100");
	ev = oh_ord(0, 80, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 1);
	oh_handle(&ev);
	o = oh_exec_order(80);
	assert_non_null(o);
	assert_int_equal(o->body.order.px, D("100.5"));
	assert_int_equal(o->body.order.type, IG_ORD_MARKET);
}

/* The recovery announce (oms->announce, set by ig_oms_after_replay) puts
 * a strategy's open orders in its mirror; an attached stop-loss child is
 * the OMS's own and was never in the mirror before the crash. */
static void test_announce_skips_stop_loss_children(void **state)
{
	struct ig_event ev;
	uint64_t child = 0;
	(void)state;
	oh_start();
	mark(0, "100");
	ev = oh_ord(0, 90, IG_SIDE_BUY, IG_ORD_LIMIT, "100", "2", 1);
	ev.body.order.sl_px = D("95");
	oh_send_ok(OH_BY_REF(ev), "?");
	oh_venue_update(0, 90, IG_OS_ACCEPTED);
	oh_fill(0, 90, 1, IG_SIDE_BUY, "100", "1", "0");
	for (uint32_t i = 0; i < out.n; i++)
		if (out.it[i].ev.hdr.type == IG_EV_ORDER_UPDATE &&
		    out.it[i].ev.body.update.client_id != 90 &&
		    out.it[i].ev.body.update.state == IG_OS_SUBMITTED)
			child = out.it[i].ev.body.update.client_id;
	assert_true(child != 0);
	oms.announce = true;
	mark(1, "100");
	/* The entry (partly filled, still open) is announced; the child not. */
	assert_non_null(oh_update_for(0, 90, IG_OS_PARTIALLY_FILLED));
	assert_null(oh_update_for(0, child, IG_OS_ACCEPTED));
	/* And the announce ends with IG_CTL_RECOVERED to every strategy, after
	 * its positions and orders: the host holds on_start until then. */
	{
		uint32_t recovered = 0, last_update = 0, first_recovered = UINT32_MAX;
		for (uint32_t i = 0; i < out.n; i++) {
			const struct ig_event *e = &out.it[i].ev;
			if (out.it[i].dst != IG_STAGE_STRATEGY)
				continue;
			if (e->hdr.type == IG_EV_CONTROL && e->body.control.cmd == IG_CTL_RECOVERED) {
				recovered++;
				if (e->hdr.strategy_id == 0 && first_recovered == UINT32_MAX)
					first_recovered = i;
			} else if (e->hdr.strategy_id == 0 && (e->hdr.flags & IG_EVF_ADOPT)) {
				last_update = i;
			}
		}
		assert_int_equal(recovered, oms.nstrategies);
		assert_true(first_recovered > last_update);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)
	const struct CMUnitTest tests[] = {
		T(test_sl_child_after_base_fee),
		T(test_market_buy_px_bypasses_cash),
		T(test_cash_check_overflow),
		T(test_fee_base_over_qty),
		T(test_sell_with_base_fee_refused),
		T(test_replace_across_day_roll),
		T(test_market_buy_sent_with_its_limit),
		T(test_announce_skips_stop_loss_children),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
