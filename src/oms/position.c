/* position.c - netting position with average-cost realized PnL. */
#include "oms/position.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* Moves n's quantity, average and realized PnL by a trade of qty (> 0) at
 * px (> 0). Returns 0 or IG_EOVERFLOW. */
static int trade(struct ig_pos *n, enum ig_side side, int64_t px, int64_t qty)
{
	int64_t sq = side == IG_SIDE_BUY ? qty : -qty;

	if (n->qty == 0 || (n->qty > 0) == (sq > 0)) {
		/* Opening or adding: weighted average of entry prices. */
		int64_t old_abs = abs64(n->qty), add = qty;
		ig_i128 w = (ig_i128)old_abs * n->avg_px + (ig_i128)add * px;
		int64_t tot = old_abs + add;
		/* Round w / tot half away from zero (w, tot > 0). */
		ig_i128 q = w / tot, r = w % tot;
		if (2 * r >= tot)
			q++;
		n->avg_px = (int64_t)q;
		n->qty += sq;
	} else {
		/* Reducing, possibly through zero. */
		int64_t closing = qty < abs64(n->qty) ? qty : abs64(n->qty);
		int64_t pnl;
		/* long: (px - avg) * closing; short: (avg - px) * closing */
		ig_i128 diff = n->qty > 0 ? (ig_i128)px - n->avg_px : (ig_i128)n->avg_px - px;
		if (ig_fixed_round_wide(diff * closing, IG_FIXED_DECIMALS, &pnl) != 0)
			return IG_EOVERFLOW;
		n->realized_pnl += pnl;
		n->qty += sq;
		if (n->qty == 0)
			n->avg_px = 0;
		else if ((n->qty > 0) == (sq > 0))
			n->avg_px = px; /* flipped: the remainder opened at px */
	}
	return 0;
}

int ig_pos_apply_fill(struct ig_pos *p, int64_t *cash, enum ig_side side, int64_t px, int64_t qty,
		      int64_t fee, int64_t fee_base, int64_t *fee_quote)
{
	struct ig_pos n = *p;
	int64_t notional, new_cash, base_fee_quote = 0, total_fee;

	if (qty <= 0 || px <= 0 || fee_base < 0)
		return IG_EINVAL;
	if (ig_fixed_mul(px, qty, &notional) != 0 ||
	    (fee_base > 0 && ig_fixed_mul(px, fee_base, &base_fee_quote) != 0) ||
	    __builtin_add_overflow(fee, base_fee_quote, &total_fee) ||
	    (side == IG_SIDE_BUY ? __builtin_sub_overflow(*cash, notional, &new_cash)
				 : __builtin_add_overflow(*cash, notional, &new_cash)) ||
	    __builtin_sub_overflow(new_cash, fee, &new_cash))
		return IG_EOVERFLOW;
	if (trade(&n, side, px, qty) != 0)
		return IG_EOVERFLOW;
	/* A base fee: those units leave the position as if sold at px, and
	 * the proceeds pay the fee, so cash does not move (position.h). */
	if (fee_base > 0 && trade(&n, IG_SIDE_SELL, px, fee_base) != 0)
		return IG_EOVERFLOW;
	/* Running totals are checked too: a hostile fill is refused whole. */
	if (__builtin_add_overflow(side == IG_SIDE_BUY ? n.bought_qty : n.sold_qty, qty,
				   side == IG_SIDE_BUY ? &n.bought_qty : &n.sold_qty) ||
	    __builtin_add_overflow(n.fees_base, fee_base, &n.fees_base) ||
	    __builtin_add_overflow(n.fees, total_fee, &n.fees))
		return IG_EOVERFLOW;
	*p = n;
	*cash = new_cash;
	if (fee_quote != NULL)
		*fee_quote = total_fee;
	return 0;
}
int64_t ig_pos_unrealized(const struct ig_pos *p)
{
	int64_t u = 0;
	if (p->qty == 0 || p->mark_px == 0)
		return 0;
	ig_fixed_round_wide(((ig_i128)p->mark_px - p->avg_px) * p->qty, IG_FIXED_DECIMALS, &u);
	return u;
}

int64_t ig_pos_value(const struct ig_pos *p)
{
	int64_t v = 0;
	ig_fixed_mul(p->qty, p->mark_px, &v);
	return v;
}
