/* position.c - netting position with average-cost realized PnL. */
#include "oms/position.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

int ig_pos_apply_fill(struct ig_pos *p, int64_t *cash, enum ig_side side, int64_t px, int64_t qty,
		      int64_t fee)
{
	struct ig_pos n = *p;
	int64_t sq = side == IG_SIDE_BUY ? qty : -qty;
	int64_t notional, new_cash;

	if (qty <= 0 || px <= 0)
		return IG_EINVAL;
	if (ig_fixed_mul(px, qty, &notional) != 0)
		return IG_EOVERFLOW;
	new_cash = *cash - (side == IG_SIDE_BUY ? notional : -notional) - fee;

	if (n.qty == 0 || (n.qty > 0) == (sq > 0)) {
		/* Opening or adding: weighted average of entry prices. */
		int64_t old_abs = abs64(n.qty), add = qty;
		ig_i128 w = (ig_i128)old_abs * n.avg_px + (ig_i128)add * px;
		int64_t tot = old_abs + add;
		/* Round w / tot half away from zero (w, tot > 0). */
		ig_i128 q = w / tot, r = w % tot;
		if (2 * r >= tot)
			q++;
		n.avg_px = (int64_t)q;
		n.qty += sq;
	} else {
		/* Reducing, possibly through zero. */
		int64_t closing = qty < abs64(n.qty) ? qty : abs64(n.qty);
		int64_t pnl;
		/* long: (px - avg) * closing; short: (avg - px) * closing */
		ig_i128 diff = n.qty > 0 ? (ig_i128)px - n.avg_px : (ig_i128)n.avg_px - px;
		if (ig_fixed_round_wide(diff * closing, IG_FIXED_DECIMALS, &pnl) != 0)
			return IG_EOVERFLOW;
		n.realized_pnl += pnl;
		n.qty += sq;
		if (n.qty == 0)
			n.avg_px = 0;
		else if ((n.qty > 0) == (sq > 0))
			n.avg_px = px; /* flipped: the remainder opened at px */
	}
	if (side == IG_SIDE_BUY)
		n.bought_qty += qty;
	else
		n.sold_qty += qty;
	n.fees += fee;
	*p = n;
	*cash = new_cash;
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
