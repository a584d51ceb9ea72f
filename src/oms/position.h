/*
 * position.h - one strategy's position in one instrument, and its cash.
 *
 * Design
 * ------
 * Netting position with an average entry price. Fills that add to the
 * position move the average (weighted by quantity); fills that reduce it
 * realise PnL against the average (the average-cost method) and leave the
 * average unchanged; a fill that crosses zero closes the old side and opens
 * the remainder at the fill price.
 *
 * Cash moves by -signed_qty * px - fee on every fill. A fee charged in the
 * base asset (fee_base; Luno charges a buyer so) is booked as if those
 * units were sold at the fill price and the proceeds paid as a quote fee:
 * the position shrinks by fee_base (realizing PnL on them against the
 * average, like any reduction), fees grow by fee_base * px, cash does not
 * move. So cash + qty * mark = capital + realized + unrealized - fees
 * holds as without base fees (up to the 1e-8 rounding of avg_px), and the
 * position equals what the account holds. A
 * negative fee is a rebate: cash up, fees down.
 *
 * Every product of two fixed-point numbers is rounded once to 1e-8 by the
 * engine's rule (halves away from zero, ig_fixed_round_wide), per fill, so
 * the books always equal the sum of their fills computed the same way.
 *
 * Owner: the OMS thread. Strategies see copies via IG_EV_POSITION.
 */
#ifndef IG_OMS_POSITION_H
#define IG_OMS_POSITION_H

#include <stdint.h>

#include "ingenium/event.h"

struct ig_pos {
	int64_t qty;          /* signed net position, 1e-8 */
	int64_t avg_px;       /* average entry price, 1e-8; 0 when flat */
	int64_t realized_pnl; /* gross of fees, 1e-8 quote */
	int64_t fees;         /* fees paid net of rebates (< 0 if rebates exceed them), 1e-8
			       * quote; base fees valued at their fill's px */
	int64_t mark_px;      /* latest mark, 1e-8; 0 = none yet */
	int64_t bought_qty;   /* cumulative, 1e-8 */
	int64_t sold_qty;     /* cumulative, 1e-8 */
	int64_t fees_base;    /* fees paid in the base asset, cumulative, 1e-8 base;
			       * qty == bought_qty - sold_qty - fees_base */
};

/* Applies one fill. cash (the strategy's, 1e-8) moves by -signed notional
 * - fee (a negative fee is a rebate). fee_base (>= 0, base asset) comes
 * off the position as described above; *fee_quote (may be NULL) gets the
 * quote value of the whole fee, fee + fee_base * px. Returns 0, IG_EINVAL
 * (qty or px not positive, fee_base negative) or IG_EOVERFLOW; nothing is
 * changed on an error. */
int ig_pos_apply_fill(struct ig_pos *p, int64_t *cash, enum ig_side side, int64_t px, int64_t qty,
		      int64_t fee, int64_t fee_base, int64_t *fee_quote);

/* Unrealized PnL at the mark, 1e-8 quote; 0 if flat or unmarked. */
int64_t ig_pos_unrealized(const struct ig_pos *p);

/* Position value at the mark (qty * mark), 1e-8 quote. */
int64_t ig_pos_value(const struct ig_pos *p);

#endif
