/*
 * test_book.c - the simulator's limit order book and ledger
 * (src/sim/book.h, src/sim/ledger.h).
 *
 * Covers:
 *   - price-time priority: better price first, then arrival order within a
 *     level; trades at the resting order's price;
 *   - partial fills: the remainder of a GTC rests with its reservation, an
 *     IOC remainder is cancelled and released, a FOK that cannot fill
 *     completely is killed before any trade (own orders do not count);
 *   - post-only: refused when it would cross (ErrOrderCanceled), refused
 *     with IOC/FOK (ErrPostOnlyNotAllowed), rests otherwise;
 *   - market BUY by counter volume (notional + taker fee never exceed it,
 *     whole lots, the rest released) and market SELL by base volume;
 *   - fees: maker/taker bps on the counter amount, both sides paying in
 *     counter, each rounded by ig_fixed_bps, checked against an independent
 *     128-bit computation, all credited to the fee account;
 *   - exact balances: every account's balance equals its deposits plus the
 *     flows of its trades; per asset the sum over all accounts (fee account
 *     included) never changes; reservations equal the resting orders' and
 *     go back to zero on cancel;
 *   - self-trade prevention, validation refusals and their Luno codes,
 *     ledger edge cases, and a seeded random property test with the book
 *     and ledger sanity checks after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "sim/book.h"
#include "sim/ledger.h"

#define FEE 0
#define NACCT 6
#define MAKER_BPS 5
#define TAKER_BPS 10
#define MAX_EV 4096

#define PX(n) IG_FIXED(n)
#define QTY(micro) ((int64_t)(micro) * 100) /* micro-units of base: 1e-6 */

struct gone_ev {
	uint64_t id;
	uint32_t account;
	enum ig_book_gone why;
};

struct fixture {
	struct ig_ledger ledger;
	struct ig_book book;
	struct ig_book_trade trades[MAX_EV];
	uint32_t ntrades;
	struct gone_ev gone[MAX_EV];
	uint32_t ngone;
	int64_t deposits[NACCT][2]; /* [account][0 base, 1 counter] */
	uint64_t next_id;
};

static void on_trade(void *arg, const struct ig_book_trade *t)
{
	struct fixture *f = arg;
	assert_true(f->ntrades < MAX_EV);
	f->trades[f->ntrades++] = *t;
}

static void on_gone(void *arg, uint64_t id, uint32_t account, enum ig_book_gone why, int64_t ts)
{
	struct fixture *f = arg;
	(void)ts;
	assert_true(f->ngone < MAX_EV);
	f->gone[f->ngone].id = id;
	f->gone[f->ngone].account = account;
	f->gone[f->ngone].why = why;
	f->ngone++;
}

static void cfg_default(struct ig_book_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->pair, sizeof(c->pair), "XBTZAR");
	snprintf(c->base, sizeof(c->base), "XBT");
	snprintf(c->counter, sizeof(c->counter), "ZAR");
	c->price_scale = 0;
	c->volume_scale = 6;
	c->min_price = PX(1);
	c->max_price = PX(10000000);
	c->min_volume = QTY(500); /* 0.0005 */
	c->max_volume = IG_FIXED(100);
	c->maker_fee_bps = MAKER_BPS;
	c->taker_fee_bps = TAKER_BPS;
	c->fee_account = FEE;
	c->fee_in_counter = true;
}

/* Fixtures from setup_base() charge like Luno: a buyer's fee in base. */
static bool g_fee_in_base;

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct ig_book_cfg c;
	struct ig_book_listener lis = { on_trade, on_gone, NULL };

	assert_non_null(f);
	lis.arg = f;
	cfg_default(&c);
	c.fee_in_counter = !g_fee_in_base;
	assert_int_equal(ig_ledger_init(&f->ledger, NACCT), 0);
	assert_int_equal(ig_book_init(&f->book, &c, &f->ledger, &lis), 0);
	for (uint32_t a = 1; a < NACCT; a++) {
		f->deposits[a][0] = IG_FIXED(10);
		f->deposits[a][1] = IG_FIXED(100000000);
		assert_int_equal(ig_ledger_deposit(&f->ledger, a, f->book.base_asset, IG_FIXED(10)), 0);
		assert_int_equal(ig_ledger_deposit(&f->ledger, a, f->book.counter_asset,
						   IG_FIXED(100000000)),
				 0);
	}
	f->next_id = 1;
	*state = f;
	return 0;
}

static int setup_base(void **state)
{
	int rc;
	g_fee_in_base = true;
	rc = setup(state);
	g_fee_in_base = false;
	return rc;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ig_book_destroy(&f->book);
	ig_ledger_destroy(&f->ledger);
	free(f);
	return 0;
}

/* Every invariant: structure, ledger, reservations, and each account's
 * balances recomputed from its deposits and the trade log. */
static void check(struct fixture *f)
{
	int64_t fees = 0, fees_base = 0;

	assert_true(ig_book_sanity(&f->book));
	assert_true(ig_ledger_sanity(&f->ledger));
	for (uint32_t a = 0; a < NACCT; a++)
		for (uint32_t asset = 0; asset < f->ledger.nassets; asset++)
			assert_int_equal(ig_ledger_get(&f->ledger, a, asset)->reserved,
					 ig_book_reserved(&f->book, a, asset));
	for (uint32_t a = 1; a < NACCT; a++) {
		int64_t base = f->deposits[a][0], counter = f->deposits[a][1];
		for (uint32_t i = 0; i < f->ntrades; i++) {
			const struct ig_book_trade *t = &f->trades[i];
			bool taker_buys = t->taker_side == IG_BOOK_BID;
			if (t->taker_account == a) {
				base += taker_buys ? t->qty : -t->qty;
				counter += taker_buys ? -t->counter : t->counter;
				*(t->taker_fee_in_base ? &base : &counter) -= t->taker_fee;
			}
			if (t->maker_account == a) {
				base += taker_buys ? -t->qty : t->qty;
				counter += taker_buys ? t->counter : -t->counter;
				*(t->maker_fee_in_base ? &base : &counter) -= t->maker_fee;
			}
		}
		assert_int_equal(ig_ledger_get(&f->ledger, a, f->book.base_asset)->balance, base);
		assert_int_equal(ig_ledger_get(&f->ledger, a, f->book.counter_asset)->balance, counter);
	}
	for (uint32_t i = 0; i < f->ntrades; i++) {
		const struct ig_book_trade *t = &f->trades[i];
		/* Only ever the buyer pays in base, and only without fee_in_counter. */
		assert_false(t->maker_fee_in_base && t->taker_fee_in_base);
		assert_true(!t->taker_fee_in_base || t->taker_side == IG_BOOK_BID);
		assert_true(!t->maker_fee_in_base || t->taker_side == IG_BOOK_ASK);
		assert_true(f->book.cfg.fee_in_counter ? !t->maker_fee_in_base && !t->taker_fee_in_base
						       : t->maker_fee_in_base || t->taker_fee_in_base);
		*(t->maker_fee_in_base ? &fees_base : &fees) += t->maker_fee;
		*(t->taker_fee_in_base ? &fees_base : &fees) += t->taker_fee;
	}
	assert_int_equal(ig_ledger_get(&f->ledger, FEE, f->book.counter_asset)->balance, fees);
	assert_int_equal(ig_ledger_get(&f->ledger, FEE, f->book.base_asset)->balance, fees_base);
	/* Conservation: money only entered by the deposits. */
	assert_int_equal(f->ledger.total[f->book.base_asset], IG_FIXED(10) * (NACCT - 1));
	assert_int_equal(f->ledger.total[f->book.counter_asset], IG_FIXED(100000000) * (NACCT - 1));
	for (uint32_t i = 1; i < f->ntrades; i++)
		assert_true(f->trades[i].seq == f->trades[i - 1].seq + 1);
}

static uint64_t limit(struct fixture *f, uint32_t acct, enum ig_book_side side, int64_t px,
		      int64_t qty, enum ig_book_tif tif, bool post_only, struct ig_book_result *res)
{
	struct ig_book_req r;
	memset(&r, 0, sizeof(r));
	r.order_id = f->next_id++;
	r.account = acct;
	r.kind = IG_BOOK_LIMIT;
	r.side = side;
	r.tif = tif;
	r.post_only = post_only;
	r.px = px;
	r.qty = qty;
	r.ts_ms = 1700000000000 + (int64_t)r.order_id;
	assert_int_equal(ig_book_place(&f->book, &r, res), 0);
	check(f);
	return r.order_id;
}

static uint64_t gtc(struct fixture *f, uint32_t acct, enum ig_book_side side, int64_t px,
		    int64_t qty)
{
	struct ig_book_result res;
	uint64_t id = limit(f, acct, side, px, qty, IG_BOOK_GTC, false, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	return id;
}

static uint64_t market(struct fixture *f, uint32_t acct, enum ig_book_side side, int64_t qty,
		       int64_t counter_qty, struct ig_book_result *res)
{
	struct ig_book_req r;
	memset(&r, 0, sizeof(r));
	r.order_id = f->next_id++;
	r.account = acct;
	r.kind = IG_BOOK_MARKET;
	r.side = side;
	r.qty = qty;
	r.counter_qty = counter_qty;
	r.ts_ms = 1700000000000 + (int64_t)r.order_id;
	assert_int_equal(ig_book_place(&f->book, &r, res), 0);
	check(f);
	return r.order_id;
}

static int64_t avail(struct fixture *f, uint32_t acct, bool counter)
{
	return ig_ledger_available(&f->ledger, acct,
				   counter ? f->book.counter_asset : f->book.base_asset);
}

static int64_t reserved(struct fixture *f, uint32_t acct, bool counter)
{
	return ig_ledger_get(&f->ledger, acct, counter ? f->book.counter_asset : f->book.base_asset)
		->reserved;
}

/* Independent fee: v * bps / 10^4 rounded half away from zero (v >= 0). */
static int64_t ref_fee(int64_t v, int64_t bps)
{
	ig_i128 x = (ig_i128)v * bps;
	return (int64_t)((x + 5000) / 10000);
}

static int64_t ref_notional(int64_t px, int64_t qty)
{
	ig_i128 x = (ig_i128)px * qty;
	return (int64_t)((x + IG_FIXED_SCALE / 2) / IG_FIXED_SCALE);
}

/* ---- tests ---- */

static void test_price_time_priority(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	uint64_t a1 = gtc(f, 1, IG_BOOK_ASK, PX(101), QTY(1000000));
	uint64_t b1 = gtc(f, 2, IG_BOOK_ASK, PX(100), QTY(1000000));
	uint64_t c1 = gtc(f, 3, IG_BOOK_ASK, PX(101), QTY(1000000));
	int64_t px, qty;
	uint64_t d1;

	assert_true(ig_book_best(&f->book, IG_BOOK_ASK, &px, &qty));
	assert_int_equal(px, PX(100));
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_ASK), 2);
	assert_int_equal(ig_book_level(&f->book, IG_BOOK_ASK, 1)->qty, QTY(2000000));

	d1 = limit(f, 4, IG_BOOK_BID, PX(101), QTY(2500000), IG_BOOK_GTC, false, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_int_equal(res.trades, 3);
	assert_false(res.rested);
	assert_int_equal(res.filled_qty, QTY(2500000));
	assert_int_equal(f->ntrades, 3);
	/* Best price first, then time priority; each at the maker's price. */
	assert_int_equal(f->trades[0].maker_order_id, b1);
	assert_int_equal(f->trades[0].px, PX(100));
	assert_int_equal(f->trades[1].maker_order_id, a1);
	assert_int_equal(f->trades[1].px, PX(101));
	assert_int_equal(f->trades[2].maker_order_id, c1);
	assert_int_equal(f->trades[2].qty, QTY(500000));
	assert_int_equal(f->trades[2].maker_leaves, QTY(500000));
	assert_int_equal(f->trades[2].taker_leaves, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(f->trades[i].taker_order_id, d1);
		assert_int_equal(f->trades[i].taker_side, IG_BOOK_BID);
		assert_int_equal(f->trades[i].seq, (uint64_t)i + 1);
	}
	assert_int_equal(res.filled_counter, PX(100) + PX(101) + PX(101) / 2);
	/* b1 and a1 left the book filled; c1 rests with half. */
	assert_int_equal(f->ngone, 2);
	assert_int_equal(f->gone[0].id, b1);
	assert_int_equal(f->gone[0].why, IG_BOOK_GONE_FILLED);
	assert_int_equal(f->gone[1].id, a1);
	assert_null(ig_book_find(&f->book, a1));
	assert_int_equal(ig_book_find(&f->book, c1)->leaves, QTY(500000));
	/* The buyer's leftover fee reservation (taker 10 bps on 101 * 2.5 vs
	 * the actual) was released: it holds nothing now. */
	assert_int_equal(reserved(f, 4, true), 0);
	assert_int_equal(f->book.last_px, PX(101));
	assert_int_equal(f->book.volume, QTY(2500000));
}

static void test_partial_fill_rests(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	uint64_t ask = gtc(f, 1, IG_BOOK_ASK, PX(1000), QTY(300000));
	uint64_t bid;
	const struct ig_book_order *o;
	int64_t n, fee;

	bid = limit(f, 2, IG_BOOK_BID, PX(1001), QTY(1000000), IG_BOOK_GTC, false, &res);
	assert_true(res.rested);
	assert_int_equal(res.filled_qty, QTY(300000));
	assert_int_equal(res.leaves_qty, QTY(700000));
	assert_null(ig_book_find(&f->book, ask));
	o = ig_book_find(&f->book, bid);
	assert_non_null(o);
	assert_int_equal(o->px, PX(1001));
	assert_int_equal(o->leaves, QTY(700000));
	assert_int_equal(o->qty, QTY(1000000));
	/* Reserved: notional + fee at max(maker, taker) for the whole order,
	 * minus what the fill consumed (300 + 0.3 taker fee). */
	n = ref_notional(PX(1001), QTY(1000000));
	fee = ref_fee(n, TAKER_BPS);
	assert_int_equal(o->reserved, n + fee - PX(300) - ref_fee(PX(300), TAKER_BPS));
	assert_int_equal(reserved(f, 2, true), o->reserved);

	/* A later seller fills the rest at the resting price, as maker. */
	limit(f, 3, IG_BOOK_ASK, PX(900), QTY(700000), IG_BOOK_GTC, false, &res);
	assert_int_equal(res.filled_qty, QTY(700000));
	assert_int_equal(f->trades[1].px, PX(1001));
	assert_int_equal(f->trades[1].maker_account, 2);
	assert_int_equal(f->trades[1].maker_fee, ref_fee(ref_notional(PX(1001), QTY(700000)), MAKER_BPS));
	assert_null(ig_book_find(&f->book, bid));
	assert_int_equal(reserved(f, 2, true), 0);
}

static void test_ioc(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	int64_t before = avail(f, 2, true);
	uint64_t id;

	gtc(f, 1, IG_BOOK_ASK, PX(500), QTY(200000));
	id = limit(f, 2, IG_BOOK_BID, PX(500), QTY(1000000), IG_BOOK_IOC, false, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_false(res.rested);
	assert_int_equal(res.filled_qty, QTY(200000));
	assert_int_equal(res.leaves_qty, 0);
	assert_null(ig_book_find(&f->book, id));
	assert_int_equal(reserved(f, 2, true), 0);
	assert_int_equal(avail(f, 2, true), before - PX(100) - ref_fee(PX(100), TAKER_BPS));
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID), 0);
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_ASK), 0);

	/* Nothing to trade with: an IOC is accepted and simply done. */
	limit(f, 2, IG_BOOK_ASK, PX(500), QTY(1000), IG_BOOK_IOC, false, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_int_equal(res.trades, 0);
	assert_int_equal(reserved(f, 2, false), 0);
}

static void test_fok(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	uint32_t n;

	gtc(f, 1, IG_BOOK_BID, PX(700), QTY(400000));
	gtc(f, 3, IG_BOOK_BID, PX(690), QTY(400000));
	gtc(f, 2, IG_BOOK_BID, PX(695), QTY(900000)); /* the seller's own: does not count */
	n = f->ntrades;

	/* 0.8 available from others at >= 690; 1.0 wanted: killed. */
	limit(f, 2, IG_BOOK_ASK, PX(690), QTY(1000000), IG_BOOK_FOK, false, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_true(res.killed);
	assert_int_equal(res.trades, 0);
	assert_int_equal(f->ntrades, n);
	assert_int_equal(reserved(f, 2, false), 0);
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID), 3); /* nothing touched */

	/* 0.8 wanted: fills completely across two levels (own order at 695
	 * cancelled by self-trade prevention on the way). */
	limit(f, 2, IG_BOOK_ASK, PX(690), QTY(800000), IG_BOOK_FOK, false, &res);
	assert_false(res.killed);
	assert_int_equal(res.filled_qty, QTY(800000));
	assert_int_equal(res.trades, 2);
	assert_int_equal(f->trades[n].px, PX(700));
	assert_int_equal(f->trades[n + 1].px, PX(690));
	assert_int_equal(f->gone[f->ngone - 1].why, IG_BOOK_GONE_FILLED);
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID), 0);
}

static void test_post_only(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	uint64_t id;

	gtc(f, 1, IG_BOOK_ASK, PX(1000), QTY(100000));
	limit(f, 2, IG_BOOK_BID, PX(1000), QTY(100000), IG_BOOK_GTC, true, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_POST_ONLY_CROSS);
	assert_string_equal(ig_book_reject_code(res.reject), "ErrOrderCanceled");
	assert_int_equal(f->ntrades, 0);
	assert_int_equal(reserved(f, 2, true), 0);

	limit(f, 2, IG_BOOK_BID, PX(999), QTY(100000), IG_BOOK_IOC, true, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_POST_ONLY_NOT_ALLOWED);
	assert_string_equal(ig_book_reject_code(res.reject), "ErrPostOnlyNotAllowed");
	limit(f, 2, IG_BOOK_BID, PX(999), QTY(100000), IG_BOOK_FOK, true, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_POST_ONLY_NOT_ALLOWED);

	id = limit(f, 2, IG_BOOK_BID, PX(999), QTY(100000), IG_BOOK_GTC, true, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_true(res.rested);
	assert_non_null(ig_book_find(&f->book, id));
}

static void test_market_buy_by_counter(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	int64_t budget = PX(150) + IG_FIXED(1) / 2; /* 150.5 */
	int64_t before_c = avail(f, 4, true), before_b = avail(f, 4, false);
	int64_t spent;

	gtc(f, 1, IG_BOOK_ASK, PX(100), QTY(1000000));
	gtc(f, 2, IG_BOOK_ASK, PX(101), QTY(1000000));
	market(f, 4, IG_BOOK_BID, 0, budget, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_int_equal(res.trades, 2);
	/* Level 1: all of 1.0 at 100 costs 100.1 with the fee. Left: 50.4.
	 * Level 2 at 101: q = floor(50.4 / (101 * 1.001)) in lots. */
	assert_int_equal(f->trades[0].qty, QTY(1000000));
	{
		int64_t left = budget - PX(100) - ref_fee(PX(100), TAKER_BPS);
		/* 50.4 / (101 * 1.001) = 0.4985113..., floored to the 1e-6 lot */
		int64_t q = QTY(498511);
		assert_int_equal(f->trades[1].qty, q);
		/* one more lot would not fit */
		{
			int64_t c = ref_notional(PX(101), q + QTY(1));
			assert_true(c + ref_fee(c, TAKER_BPS) > left);
		}
		assert_true(ref_notional(PX(101), q) + ref_fee(ref_notional(PX(101), q), TAKER_BPS) <= left);
	}
	spent = res.filled_counter + res.fee;
	assert_true(spent <= budget);
	assert_int_equal(res.fee, f->trades[0].taker_fee + f->trades[1].taker_fee);
	assert_int_equal(avail(f, 4, true), before_c - spent);
	assert_int_equal(avail(f, 4, false), before_b + res.filled_qty);
	assert_int_equal(reserved(f, 4, true), 0);
	assert_false(res.rested);

	/* More budget than the book: takes everything, releases the rest. */
	market(f, 4, IG_BOOK_BID, 0, PX(10000), &res);
	assert_int_equal(res.filled_qty, QTY(1000000) - QTY(498511));
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_ASK), 0);
	assert_int_equal(reserved(f, 4, true), 0);

	/* Empty book: accepted, nothing happens. */
	market(f, 4, IG_BOOK_BID, 0, PX(10), &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_int_equal(res.trades, 0);
}

static void test_market_sell(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	int64_t before_b = avail(f, 5, false), before_c = avail(f, 5, true);
	int64_t expect_c;

	gtc(f, 1, IG_BOOK_BID, PX(2000), QTY(250000));
	gtc(f, 2, IG_BOOK_BID, PX(1999), QTY(250000));
	market(f, 5, IG_BOOK_ASK, QTY(600000), 0, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
	assert_int_equal(res.filled_qty, QTY(500000)); /* the book had only 0.5 */
	assert_int_equal(res.trades, 2);
	expect_c = ref_notional(PX(2000), QTY(250000)) + ref_notional(PX(1999), QTY(250000));
	assert_int_equal(res.filled_counter, expect_c);
	assert_int_equal(avail(f, 5, false), before_b - QTY(500000));
	assert_int_equal(avail(f, 5, true), before_c + expect_c - res.fee);
	assert_int_equal(reserved(f, 5, false), 0);
	assert_int_equal(f->trades[0].taker_side, IG_BOOK_ASK);
}

static void test_fees_exact(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	/* Amounts whose fees have digits past 1e-8, so rounding matters. */
	const int64_t pxs[] = { PX(999999), PX(1000001), PX(123457), PX(7) };
	const int64_t qtys[] = { QTY(123), QTY(777777), QTY(5001), QTY(999999) };

	for (int i = 0; i < 4; i++) {
		uint32_t n = f->ntrades;
		int64_t c;
		gtc(f, 1, IG_BOOK_ASK, pxs[i], qtys[i] < QTY(500) ? QTY(500) : qtys[i]);
		limit(f, 2, IG_BOOK_BID, pxs[i], qtys[i] < QTY(500) ? QTY(500) : qtys[i], IG_BOOK_GTC,
		      false, &res);
		assert_int_equal(f->ntrades, n + 1);
		c = ref_notional(pxs[i], qtys[i] < QTY(500) ? QTY(500) : qtys[i]);
		assert_int_equal(f->trades[n].counter, c);
		assert_int_equal(f->trades[n].maker_fee, ref_fee(c, MAKER_BPS));
		assert_int_equal(f->trades[n].taker_fee, ref_fee(c, TAKER_BPS));
		assert_int_equal(res.fee, ref_fee(c, TAKER_BPS));
	}
	/* check() has already matched every balance and the fee account. */
	assert_true(ig_ledger_get(&f->ledger, FEE, f->book.counter_asset)->balance > 0);
}

/* Luno's rule: the buyer pays its fee in base (bps of the volume), the
 * seller in counter (bps of the notional), whoever is maker or taker. */
static void test_fees_in_base(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	int64_t b2 = avail(f, 2, false), c2 = avail(f, 2, true);
	int64_t b1 = avail(f, 1, false), c1 = avail(f, 1, true);
	int64_t c = ref_notional(PX(1000001), QTY(777777));
	int64_t fee_q = ref_fee(QTY(777777), TAKER_BPS);

	assert_false(f->book.cfg.fee_in_counter);
	/* Taker buys from a resting ask. */
	gtc(f, 1, IG_BOOK_ASK, PX(1000001), QTY(777777));
	limit(f, 2, IG_BOOK_BID, PX(1000001), QTY(777777), IG_BOOK_GTC, false, &res);
	assert_int_equal(f->ntrades, 1);
	assert_true(f->trades[0].taker_fee_in_base);
	assert_false(f->trades[0].maker_fee_in_base);
	assert_int_equal(f->trades[0].taker_fee, fee_q);
	assert_int_equal(f->trades[0].maker_fee, ref_fee(c, MAKER_BPS));
	assert_int_equal(res.fee_base, fee_q);
	assert_int_equal(res.fee, 0);
	assert_int_equal(avail(f, 2, false), b2 + QTY(777777) - fee_q);
	assert_int_equal(avail(f, 2, true), c2 - c);
	assert_int_equal(avail(f, 1, false), b1 - QTY(777777));
	assert_int_equal(avail(f, 1, true), c1 + c - ref_fee(c, MAKER_BPS));

	/* Taker sells into a resting bid: the maker buys and pays in base. */
	b1 = avail(f, 1, false);
	c2 = avail(f, 2, true);
	gtc(f, 1, IG_BOOK_BID, PX(123457), QTY(5001));
	market(f, 2, IG_BOOK_ASK, QTY(5001), 0, &res);
	c = ref_notional(PX(123457), QTY(5001));
	assert_int_equal(f->ntrades, 2);
	assert_true(f->trades[1].maker_fee_in_base);
	assert_int_equal(f->trades[1].maker_fee, ref_fee(QTY(5001), MAKER_BPS));
	assert_int_equal(res.fee, ref_fee(c, TAKER_BPS));
	assert_int_equal(avail(f, 1, false), b1 + QTY(5001) - ref_fee(QTY(5001), MAKER_BPS));
	assert_int_equal(avail(f, 2, true), c2 + c - ref_fee(c, TAKER_BPS));

	/* A market buy by counter spends all of its budget on volume. */
	gtc(f, 1, IG_BOOK_ASK, PX(100), QTY(2000000));
	market(f, 3, IG_BOOK_BID, 0, PX(100), &res);
	assert_int_equal(res.filled_qty, QTY(1000000));
	assert_int_equal(res.filled_counter, PX(100));
	assert_int_equal(res.fee_base, ref_fee(QTY(1000000), TAKER_BPS));
	/* check() has matched every balance and both of the fee account's. */
	assert_true(ig_ledger_get(&f->ledger, FEE, f->book.base_asset)->balance > 0);
}

static void test_cancel_releases(void **state)
{
	struct fixture *f = *state;
	int64_t bal_c = ig_ledger_get(&f->ledger, 3, f->book.counter_asset)->balance;
	int64_t bal_b = ig_ledger_get(&f->ledger, 3, f->book.base_asset)->balance;
	uint64_t bid = gtc(f, 3, IG_BOOK_BID, PX(12345), QTY(2000));
	uint64_t ask = gtc(f, 3, IG_BOOK_ASK, PX(20000), QTY(3000));
	int64_t leaves = 0;
	int64_t n = ref_notional(PX(12345), QTY(2000));

	assert_int_equal(reserved(f, 3, true), n + ref_fee(n, TAKER_BPS));
	assert_int_equal(reserved(f, 3, false), QTY(3000));
	assert_int_equal(ig_book_cancel(&f->book, bid, &leaves), 0);
	assert_int_equal(leaves, QTY(2000));
	check(f);
	assert_int_equal(reserved(f, 3, true), 0);
	assert_int_equal(ig_book_cancel(&f->book, ask, NULL), 0);
	check(f);
	assert_int_equal(reserved(f, 3, false), 0);
	assert_int_equal(ig_ledger_get(&f->ledger, 3, f->book.counter_asset)->balance, bal_c);
	assert_int_equal(ig_ledger_get(&f->ledger, 3, f->book.base_asset)->balance, bal_b);
	assert_int_equal(ig_book_cancel(&f->book, bid, NULL), IG_ENOTFOUND);
	assert_int_equal(ig_book_cancel(&f->book, 0, NULL), IG_ENOTFOUND);
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID), 0);
	assert_int_equal(f->ngone, 0); /* a cancel is not reported as gone */
}

static void test_self_trade_prevention(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	uint64_t mine = gtc(f, 1, IG_BOOK_ASK, PX(100), QTY(100000));
	uint64_t other = gtc(f, 2, IG_BOOK_ASK, PX(101), QTY(100000));
	uint64_t id;

	id = limit(f, 1, IG_BOOK_BID, PX(101), QTY(150000), IG_BOOK_GTC, false, &res);
	assert_int_equal(f->ngone, 2);
	assert_int_equal(f->gone[0].id, mine);
	assert_int_equal(f->gone[0].why, IG_BOOK_GONE_SELF_TRADE);
	assert_int_equal(f->gone[1].id, other);
	assert_int_equal(f->ntrades, 1);
	assert_int_equal(f->trades[0].maker_account, 2);
	assert_true(res.rested);
	assert_int_equal(ig_book_find(&f->book, id)->leaves, QTY(50000));
	assert_int_equal(reserved(f, 1, false), 0);
}

static void test_validation(void **state)
{
	struct fixture *f = *state;
	struct ig_book_result res;
	struct {
		enum ig_book_side side;
		int64_t px, qty;
		enum ig_book_reject want;
		const char *code;
	} cases[] = {
		{ IG_BOOK_BID, PX(100) + 1, QTY(1000), IG_BOOK_REJ_PRICE_DENOMINATION,
		  "ErrPriceDenominationNotAllowed" },
		{ IG_BOOK_BID, PX(100), QTY(1000) + 1, IG_BOOK_REJ_VOLUME_DENOMINATION,
		  "ErrVolumeDenominationNotAllowed" },
		{ IG_BOOK_BID, PX(100), QTY(499), IG_BOOK_REJ_VOLUME_TOO_LOW, "ErrVolumeTooLow" },
		{ IG_BOOK_ASK, PX(100), IG_FIXED(101), IG_BOOK_REJ_VOLUME_TOO_HIGH, "ErrVolumeTooHigh" },
		{ IG_BOOK_ASK, PX(10000001), QTY(1000), IG_BOOK_REJ_PRICE_TOO_HIGH, "ErrPriceTooHigh" },
		{ IG_BOOK_BID, 0, QTY(1000), IG_BOOK_REJ_INVALID_PRICE, "ErrInvalidPrice" },
		{ IG_BOOK_BID, -PX(5), QTY(1000), IG_BOOK_REJ_INVALID_PRICE, "ErrInvalidPrice" },
		{ IG_BOOK_BID, PX(5), 0, IG_BOOK_REJ_INVALID_VOLUME, "ErrInvalidVolume" },
		{ IG_BOOK_ASK, PX(100), IG_FIXED(11), IG_BOOK_REJ_INSUFFICIENT_BALANCE,
		  "ErrInsufficientBalance" },
		{ IG_BOOK_BID, PX(10000000), IG_FIXED(11), IG_BOOK_REJ_INSUFFICIENT_BALANCE,
		  "ErrInsufficientBalance" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		limit(f, 1, cases[i].side, cases[i].px, cases[i].qty, IG_BOOK_GTC, false, &res);
		assert_int_equal(res.reject, cases[i].want);
		assert_string_equal(ig_book_reject_code(res.reject), cases[i].code);
		assert_true(strlen(ig_book_reject_msg(res.reject)) > 0);
	}
	market(f, 1, IG_BOOK_BID, 0, 0, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_INVALID_COUNTER_VOLUME);
	market(f, 1, IG_BOOK_BID, 0, IG_FIXED(100000001), &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_INSUFFICIENT_BALANCE);
	market(f, 1, IG_BOOK_ASK, 0, 0, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_INVALID_BASE_VOLUME);
	market(f, 1, IG_BOOK_ASK, QTY(100), 0, &res);
	assert_int_equal(res.reject, IG_BOOK_REJ_VOLUME_TOO_LOW);
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID) + ig_book_levels(&f->book, IG_BOOK_ASK), 0);
	assert_int_equal(reserved(f, 1, true) + reserved(f, 1, false), 0);
	assert_string_equal(ig_book_reject_code(IG_BOOK_REJ_NONE), "");

	/* Programming errors are errors, not rejects. */
	{
		struct ig_book_req r;
		memset(&r, 0, sizeof(r));
		r.account = 1;
		r.px = PX(1);
		r.qty = QTY(1000);
		assert_int_equal(ig_book_place(&f->book, &r, &res), IG_EINVAL); /* id 0 */
		r.order_id = 999;
		r.account = FEE;
		assert_int_equal(ig_book_place(&f->book, &r, &res), IG_EINVAL);
		r.account = NACCT;
		assert_int_equal(ig_book_place(&f->book, &r, &res), IG_EINVAL);
		r.account = 1;
		r.side = IG_BOOK_BID;
		assert_int_equal(ig_book_place(&f->book, &r, &res), 0);
		assert_true(res.rested);
		assert_int_equal(ig_book_place(&f->book, &r, &res), IG_EINVAL); /* already resting */
		check(f);
	}
}

static void test_init_and_ledger_errors(void **state)
{
	struct ig_ledger l;
	struct ig_book b;
	struct ig_book_cfg c;
	(void)state;

	assert_int_equal(ig_ledger_init(&l, 0), IG_EINVAL);
	assert_int_equal(ig_ledger_init(&l, 2), 0);
	assert_int_equal(ig_ledger_asset(&l, ""), IG_EINVAL);
	assert_int_equal(ig_ledger_asset(&l, "TOOLONGX"), IG_EINVAL);
	assert_int_equal(ig_ledger_asset(&l, "XBT"), 0);
	assert_int_equal(ig_ledger_asset(&l, "XBT"), 0);
	assert_int_equal(ig_ledger_find(&l, "ZAR"), IG_ENOTFOUND);
	assert_int_equal(ig_ledger_deposit(&l, 1, 0, -1), IG_EINVAL);
	assert_int_equal(ig_ledger_deposit(&l, 2, 0, 1), IG_EINVAL);
	assert_int_equal(ig_ledger_deposit(&l, 1, 0, INT64_MAX), 0);
	assert_int_equal(ig_ledger_deposit(&l, 0, 0, 1), IG_EOVERFLOW);
	assert_int_equal(ig_ledger_reserve(&l, 0, 0, 1), IG_ELIMIT);
	assert_int_equal(ig_ledger_reserve(&l, 1, 0, 10), 0);
	assert_int_equal(ig_ledger_available(&l, 1, 0), INT64_MAX - 10);
	ig_ledger_release(&l, 1, 0, 10);
	assert_true(ig_ledger_sanity(&l));
	for (int i = 1; i < IG_LEDGER_MAX_ASSETS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "A%d", i % 100);
		assert_int_equal(ig_ledger_asset(&l, name), i);
	}
	assert_int_equal(ig_ledger_asset(&l, "ONEMORE"), IG_ELIMIT);
	cfg_default(&c);
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_ELIMIT); /* no room for ZAR */
	ig_ledger_destroy(&l);

	assert_int_equal(ig_ledger_init(&l, 2), 0);
	cfg_default(&c);
	c.price_scale = 9;
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_EINVAL);
	cfg_default(&c);
	c.taker_fee_bps = 10001;
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_EINVAL);
	cfg_default(&c);
	c.fee_account = 2;
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_EINVAL);
	cfg_default(&c);
	c.max_price = INT64_MAX;
	c.max_volume = INT64_MAX;
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_EINVAL); /* notional overflows */
	cfg_default(&c);
	snprintf(c.counter, sizeof(c.counter), "XBT");
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), IG_EINVAL);
	cfg_default(&c);
	assert_int_equal(ig_book_init(&b, &c, &l, NULL), 0);
	assert_false(ig_book_best(&b, IG_BOOK_BID, &(int64_t){ 0 }, &(int64_t){ 0 }));
	assert_null(ig_book_level(&b, IG_BOOK_ASK, 0));
	assert_true(ig_book_sanity(&b));
	ig_book_destroy(&b);
	ig_ledger_destroy(&l);
}

/* xorshift64*: the property test's own generator. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static void test_random_property(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = 12345;
	uint64_t live[256];
	uint32_t nlive = 0;
	int steps = getenv("IG_SANITIZER") != NULL ? 1500 : 4000;

	for (int step = 0; step < steps; step++) {
		struct ig_book_result res;
		uint32_t acct = 1 + (uint32_t)(rnd(&seed) % (NACCT - 1));
		enum ig_book_side side = rnd(&seed) % 2 ? IG_BOOK_BID : IG_BOOK_ASK;
		uint64_t op = rnd(&seed) % 10;
		int64_t px = PX(990 + (int64_t)(rnd(&seed) % 21));
		int64_t qty = QTY(500 + (int64_t)(rnd(&seed) % 300000));

		if (op < 6) {
			enum ig_book_tif tif = op == 5 ? IG_BOOK_FOK : op == 4 ? IG_BOOK_IOC : IG_BOOK_GTC;
			bool po = tif == IG_BOOK_GTC && rnd(&seed) % 5 == 0;
			uint64_t id = limit(f, acct, side, px, qty, tif, po, &res);
			if (res.rested && nlive < 256)
				live[nlive++] = id;
		} else if (op < 8) {
			if (side == IG_BOOK_BID)
				market(f, acct, side, 0, ref_notional(px, qty), &res);
			else
				market(f, acct, side, qty, 0, &res);
			assert_int_equal(res.reject, IG_BOOK_REJ_NONE);
		} else if (nlive > 0) {
			uint32_t k = (uint32_t)(rnd(&seed) % nlive);
			int rc = ig_book_cancel(&f->book, live[k], NULL);
			assert_true(rc == 0 || rc == IG_ENOTFOUND);
			live[k] = live[--nlive];
			check(f);
		}
	}
	assert_true(f->ntrades > 100);
	/* Cancel everything: every reservation comes back. */
	for (int s = 0; s < 2; s++)
		while (ig_book_levels(&f->book, (enum ig_book_side)s) > 0)
			assert_int_equal(ig_book_cancel(&f->book,
							ig_book_level(&f->book, (enum ig_book_side)s, 0)->head->id,
							NULL),
					 0);
	check(f);
	for (uint32_t a = 0; a < NACCT; a++) {
		assert_int_equal(reserved(f, a, true), 0);
		assert_int_equal(reserved(f, a, false), 0);
	}
}

/* Many orders: the id map grows and deletes (backward shift) correctly. */
static void test_many_orders(void **state)
{
	struct fixture *f = *state;
	uint64_t ids[3000];

	for (int i = 0; i < 3000; i++) {
		struct ig_book_req r;
		struct ig_book_result res;
		memset(&r, 0, sizeof(r));
		r.order_id = ids[i] = f->next_id++;
		r.account = 1 + (uint32_t)(i % 2);
		r.side = IG_BOOK_BID;
		r.px = PX(100 + i % 50);
		r.qty = QTY(500);
		assert_int_equal(ig_book_place(&f->book, &r, &res), 0);
		assert_true(res.rested);
	}
	check(f);
	for (int i = 0; i < 3000; i += 3)
		assert_int_equal(ig_book_cancel(&f->book, ids[i], NULL), 0);
	check(f);
	for (int i = 0; i < 3000; i++)
		assert_true((ig_book_find(&f->book, ids[i]) == NULL) == (i % 3 == 0));
	assert_int_equal(ig_book_levels(&f->book, IG_BOOK_BID), 50);
	assert_int_equal(ig_book_level(&f->book, IG_BOOK_BID, 0)->px, PX(149));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_price_time_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_fill_rests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ioc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_market_buy_by_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_market_sell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fees_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_trade_prevention, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
		cmocka_unit_test(test_init_and_ledger_errors),
		cmocka_unit_test_setup_teardown(test_random_property, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fees_in_base, setup_base, teardown),
		cmocka_unit_test_setup_teardown(test_random_property, setup_base, teardown),
		cmocka_unit_test_setup_teardown(test_many_orders, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
