/*
 * test_position.c - the netting position with average-cost PnL
 * (src/oms/position.c).
 *
 * Every expected number below is worked out by hand in the comment next to
 * it; none is computed by the code under test. Money is written as decimal
 * strings and parsed exactly, so the cases read like a ledger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/position.h"

#include <string.h>

/* Parses an exact decimal; the test fails on a typo. */
static int64_t D(const char *s)
{
	int64_t v = 0;
	assert_int_equal(ig_fixed_parse_cstr(s, &v), 0);
	return v;
}

/* Asserts every field of p and the cash, with readable output on mismatch. */
static void expect_pos(const struct ig_pos *p, int64_t cash, const char *qty, const char *avg,
		       const char *realized, const char *fees, const char *want_cash)
{
	assert_int_equal(p->qty, D(qty));
	assert_int_equal(p->avg_px, D(avg));
	assert_int_equal(p->realized_pnl, D(realized));
	assert_int_equal(p->fees, D(fees));
	assert_int_equal(cash, D(want_cash));
	/* The books always agree with the cumulative quantities. */
	assert_int_equal(p->qty, p->bought_qty - p->sold_qty - p->fees_base);
}

static int64_t fee_bps(int64_t px, int64_t qty, int64_t bps)
{
	int64_t notional = 0, fee = 0;
	assert_int_equal(ig_fixed_mul(px, qty, &notional), 0);
	assert_int_equal(ig_fixed_bps(notional, bps, &fee), 0);
	return fee;
}

/* The golden case of the issue: add, reduce, flip through zero, buy back.
 * 10 bps taker fee on every fill; starting cash 1000. */
static void test_golden_long_reduce_flip_close(void **state)
{
	struct ig_pos p;
	int64_t cash = D("1000");
	(void)state;
	memset(&p, 0, sizeof(p));

	/* 1. buy 1 @ 100, fee 100 * 10 bps = 0.1.
	 *    qty 1, avg 100, realized 0, fees 0.1, cash 1000 - 100 - 0.1 = 899.9 */
	assert_int_equal(fee_bps(D("100"), D("1"), 10), D("0.1"));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), D("0.1"), 0, NULL), 0);
	expect_pos(&p, cash, "1", "100", "0", "0.1", "899.9");

	/* 2. buy 1 @ 110, fee 0.11. avg (1*100 + 1*110) / 2 = 105.
	 *    cash 899.9 - 110 - 0.11 = 789.79 */
	assert_int_equal(fee_bps(D("110"), D("1"), 10), D("0.11"));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("110"), D("1"), D("0.11"), 0, NULL), 0);
	expect_pos(&p, cash, "2", "105", "0", "0.21", "789.79");
	/* Unrealized at 120: (120 - 105) * 2 = 30; value 2 * 120 = 240. */
	p.mark_px = D("120");
	assert_int_equal(ig_pos_unrealized(&p), D("30"));
	assert_int_equal(ig_pos_value(&p), D("240"));

	/* 3. sell 1.5 @ 120, fee 180 * 10 bps = 0.18.
	 *    realized 1.5 * (120 - 105) = 22.5; avg unchanged at 105; qty 0.5.
	 *    cash 789.79 + 180 - 0.18 = 969.61 */
	assert_int_equal(fee_bps(D("120"), D("1.5"), 10), D("0.18"));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("120"), D("1.5"), D("0.18"), 0, NULL), 0);
	expect_pos(&p, cash, "0.5", "105", "22.5", "0.39", "969.61");
	/* Unrealized at 120: 0.5 * 15 = 7.5. */
	assert_int_equal(ig_pos_unrealized(&p), D("7.5"));

	/* 4. sell 2 @ 90 from +0.5, fee 180 * 10 bps = 0.18.
	 *    closes 0.5: realized += 0.5 * (90 - 105) = -7.5 -> 15;
	 *    the remaining 1.5 opens a short at 90.
	 *    cash 969.61 + 180 - 0.18 = 1149.43 */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("90"), D("2"), D("0.18"), 0, NULL), 0);
	expect_pos(&p, cash, "-1.5", "90", "15", "0.57", "1149.43");
	/* Short 1.5 @ 90 marked at 80: (80 - 90) * -1.5 = +15; value -120. */
	p.mark_px = D("80");
	assert_int_equal(ig_pos_unrealized(&p), D("15"));
	assert_int_equal(ig_pos_value(&p), D("-120"));
	/* ... and marked at 100: (100 - 90) * -1.5 = -15. */
	p.mark_px = D("100");
	assert_int_equal(ig_pos_unrealized(&p), D("-15"));

	/* 5. buy back 1.5 @ 85, fee 127.5 * 10 bps = 0.1275.
	 *    realized += (90 - 85) * 1.5 = 7.5 -> 22.5; flat, avg 0.
	 *    cash 1149.43 - 127.5 - 0.1275 = 1021.8025 */
	assert_int_equal(fee_bps(D("85"), D("1.5"), 10), D("0.1275"));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("85"), D("1.5"), D("0.1275"), 0, NULL), 0);
	expect_pos(&p, cash, "0", "0", "22.5", "0.6975", "1021.8025");
	assert_int_equal(p.bought_qty, D("3.5"));
	assert_int_equal(p.sold_qty, D("3.5"));
	/* Flat: no unrealized, no value, whatever the mark. */
	assert_int_equal(ig_pos_unrealized(&p), 0);
	assert_int_equal(ig_pos_value(&p), 0);
	/* Flat books: cash - start = realized - fees = 22.5 - 0.6975. */
	assert_int_equal(cash - D("1000"), p.realized_pnl - p.fees);
}

/* Opening short from flat, adding to it, and flipping long through zero. */
static void test_short_then_flip_long(void **state)
{
	struct ig_pos p;
	int64_t cash = 0;
	(void)state;
	memset(&p, 0, sizeof(p));

	/* sell 1 @ 100: short 1 @ 100, cash +100. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("100"), D("1"), 0, 0, NULL), 0);
	expect_pos(&p, cash, "-1", "100", "0", "0", "100");
	/* sell 3 @ 104: avg (1*100 + 3*104) / 4 = 103, cash 100 + 312 = 412. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("104"), D("3"), 0, 0, NULL), 0);
	expect_pos(&p, cash, "-4", "103", "0", "0", "412");
	/* buy 1 @ 101: short gains (103 - 101) * 1 = 2; cash 412 - 101 = 311. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("101"), D("1"), D("0.05"), 0, NULL), 0);
	expect_pos(&p, cash, "-3", "103", "2", "0.05", "310.95");
	/* buy 5 @ 110: closes 3 at a loss (103 - 110) * 3 = -21 -> realized -19;
	 * long 2 opens at 110. cash 310.95 - 550 = -239.05 */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("110"), D("5"), 0, 0, NULL), 0);
	expect_pos(&p, cash, "2", "110", "-19", "0.05", "-239.05");
	/* sell exactly 2 @ 110: flat, nothing more realized, avg reset. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("110"), D("2"), 0, 0, NULL), 0);
	expect_pos(&p, cash, "0", "0", "-19", "0.05", "-19.05");
	assert_int_equal(cash, p.realized_pnl - p.fees);
}

/* The average is rounded to 1e-8 half away from zero. */
/* Luno charges a buyer's fee in base: the position holds what the account
 * holds (qty - fee_base), the fee is valued at the fill price, cash pays
 * only the notional, and equity stays cash + qty * mark =
 * capital + realized + unrealized - fees. */
static void test_fee_in_base(void **state)
{
	struct ig_pos p;
	int64_t cash = D("1000"), fq = -1, v, u;
	(void)state;
	memset(&p, 0, sizeof(p));

	/* buy 1 @ 100, fee 0.001 base (10 bps of the volume): qty 0.999,
	 * fees 0.1 quote, cash 1000 - 100 = 900. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), 0, D("0.001"), &fq),
			 0);
	assert_int_equal(fq, D("0.1"));
	expect_pos(&p, cash, "0.999", "100", "0", "0.1", "900");
	assert_int_equal(p.fees_base, D("0.001"));
	assert_int_equal(p.bought_qty, D("1"));
	p.mark_px = D("120");
	u = ig_pos_unrealized(&p);
	v = ig_pos_value(&p);
	assert_int_equal(u, D("19.98"));
	assert_int_equal(cash + v, D("1000") + p.realized_pnl + u - p.fees); /* 1019.88 */

	/* buy 1 @ 110 with 0.001 base: the fee units leave at 110 against the
	 * new average ((0.999 * 100 + 1 * 110) / 1.999 = 105.00250125), so
	 * they realize 0.001 * (110 - 105.00250125) = 0.0049975 (rounded). */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("110"), D("1"), 0, D("0.001"), &fq),
			 0);
	assert_int_equal(fq, D("0.11"));
	expect_pos(&p, cash, "1.998", "105.00250125", "0.0049975", "0.21", "790");
	p.mark_px = D("110");
	assert_int_equal(cash + ig_pos_value(&p),
			 D("1000") + p.realized_pnl + ig_pos_unrealized(&p) - p.fees);

	/* sell everything the account holds (1.998) @ 120, fee in counter:
	 * flat, no base left over, realized 1.998 * (120 - 105.00250125)
	 * = 29.9650025025, rounded to 29.9650025. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("120"), D("1.998"), D("0.23976"),
					   0, &fq),
			 0);
	assert_int_equal(fq, D("0.23976"));
	assert_int_equal(p.qty, 0);
	assert_int_equal(p.realized_pnl, D("0.0049975") + D("29.9650025"));
	assert_int_equal(cash, D("790") + D("239.76") - D("0.23976"));
	assert_int_equal(cash, D("1000") + p.realized_pnl - p.fees);

	/* A negative base fee is refused and changes nothing. */
	{
		struct ig_pos before = p;
		int64_t c0 = cash;
		assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), 0, -1, NULL),
				 IG_EINVAL);
		assert_memory_equal(&before, &p, sizeof(p));
		assert_int_equal(c0, cash);
	}
}

static void test_avg_rounding(void **state)
{
	struct ig_pos p;
	int64_t cash = 0;
	(void)state;

	/* 1 @ 100 + 1 @ 100.00000001: exact avg 100.000000005, a half: up. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100.00000001"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(p.avg_px, D("100.00000001"));

	/* 2 @ 100 + 1 @ 100.00000001: 100.0000000033...: down. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("2"), 0, 0, NULL), 0);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100.00000001"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(p.avg_px, D("100"));

	/* 1 @ 100 + 2 @ 100.00000001: 100.0000000066...: up. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100.00000001"), D("2"), 0, 0, NULL), 0);
	assert_int_equal(p.avg_px, D("100.00000001"));

	/* The same on the short side (the average is a positive price). */
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("100"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("100.00000001"), D("1"), 0, 0, NULL), 0);
	assert_int_equal(p.avg_px, D("100.00000001"));
	assert_int_equal(p.qty, D("-2"));

	/* Odd quantities: 0.3 @ 10 + 0.7 @ 10.00000003 = 10.000000021: 10.00000002. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("10"), D("0.3"), 0, 0, NULL), 0);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("10.00000003"), D("0.7"), 0, 0, NULL), 0);
	assert_int_equal(p.avg_px, D("10.00000002"));
}

/* Realized PnL and cash are rounded once per fill, half away from zero. */
static void test_pnl_and_cash_rounding(void **state)
{
	struct ig_pos p;
	int64_t cash = 0;
	(void)state;

	/* Long 1 @ 100; sell 0.5 @ 100.00000001: pnl 0.5e-8, a half: +1e-8.
	 * cash: 0.5 * 100.00000001 = 50.000000005 -> 50.00000001. */
	memset(&p, 0, sizeof(p));
	cash = D("-100");
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("100"), D("1"), 0, 0, NULL), 0);
	cash = 0;
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("100.00000001"), D("0.5"), 0, 0, NULL), 0);
	assert_int_equal(p.realized_pnl, D("0.00000001"));
	assert_int_equal(cash, D("50.00000001"));
	/* sell 0.5 @ 99.99999999: pnl -0.5e-8 -> -1e-8 (away from zero);
	 * cash 49.999999995 -> 50.00000000 (half away from zero, positive). */
	cash = 0;
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("99.99999999"), D("0.5"), 0, 0, NULL), 0);
	assert_int_equal(p.realized_pnl, 0);
	assert_int_equal(cash, D("50"));
	assert_int_equal(p.qty, 0);

	/* Buy 0.5 @ 0.00000001: notional 0.5e-8 -> 1e-8; cash -0.00000001. */
	memset(&p, 0, sizeof(p));
	cash = 0;
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("0.00000001"), D("0.5"), 0, 0, NULL), 0);
	assert_int_equal(cash, D("-0.00000001"));

	/* Unrealized rounds the same way: long 0.5 @ 100, mark 100.00000001:
	 * 0.5e-8 -> 1e-8; short 0.5 @ 100, mark 100.00000001: -1e-8. */
	memset(&p, 0, sizeof(p));
	p.qty = D("0.5");
	p.avg_px = D("100");
	p.mark_px = D("100.00000001");
	assert_int_equal(ig_pos_unrealized(&p), D("0.00000001"));
	p.qty = D("-0.5");
	assert_int_equal(ig_pos_unrealized(&p), D("-0.00000001"));
	/* Unmarked: 0. */
	p.mark_px = 0;
	assert_int_equal(ig_pos_unrealized(&p), 0);
}

/* Bad fills change nothing. */
static void test_invalid_fills_change_nothing(void **state)
{
	struct ig_pos p, before;
	int64_t cash = D("10"), cash0 = cash;
	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("1"), D("1"), 0, 0, NULL), 0);
	cash0 = cash;
	before = p;

	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("1"), 0, 0, 0, NULL), IG_EINVAL);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, D("1"), D("-1"), 0, 0, NULL), IG_EINVAL);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, 0, D("1"), 0, 0, NULL), IG_EINVAL);
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_SELL, D("-1"), D("1"), 0, 0, NULL), IG_EINVAL);
	/* 1e9 * 1e9 = 1e18 does not fit the 9.2e10 range: overflow. */
	assert_int_equal(ig_pos_apply_fill(&p, &cash, IG_SIDE_BUY, IG_FIXED(1000000000),
					   IG_FIXED(1000000000), 0, 0, NULL),
			 IG_EOVERFLOW);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(cash, cash0);
}

/* Many small fills: the books equal the sum of their fills, rounded per fill. */
static void test_books_equal_sum_of_fills(void **state)
{
	struct ig_pos p;
	int64_t cash = D("100000"), capital = cash, net = 0, notional_sum = 0, fees = 0;
	uint64_t x = 88172645463325252u;
	(void)state;
	memset(&p, 0, sizeof(p));

	for (int i = 0; i < 20000; i++) {
		int64_t px, qty, fee, n;
		enum ig_side side;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		px = D("100") + (int64_t)(x % 1000000007u) - 500000000; /* 95..105, odd units */
		qty = 1 + (int64_t)((x >> 20) % 12345678u);             /* up to 0.12345678 */
		side = (x >> 50) & 1 ? IG_SIDE_BUY : IG_SIDE_SELL;
		fee = fee_bps(px, qty, 7);
		assert_int_equal(ig_pos_apply_fill(&p, &cash, side, px, qty, fee, 0, NULL), 0);
		assert_int_equal(ig_fixed_mul(px, qty, &n), 0);
		net += side == IG_SIDE_BUY ? qty : -qty;
		notional_sum += side == IG_SIDE_BUY ? n : -n;
		fees += fee;
		/* The average is a positive price when not flat, 0 when flat. */
		assert_true(p.qty == 0 ? p.avg_px == 0 : p.avg_px > 0);
	}
	assert_int_equal(p.qty, net);
	assert_int_equal(p.fees, fees);
	assert_int_equal(cash, capital - notional_sum - fees);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_long_reduce_flip_close),
		cmocka_unit_test(test_short_then_flip_long),
		cmocka_unit_test(test_avg_rounding),
		cmocka_unit_test(test_fee_in_base),
		cmocka_unit_test(test_pnl_and_cash_rounding),
		cmocka_unit_test(test_invalid_fills_change_nothing),
		cmocka_unit_test(test_books_equal_sum_of_fills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
