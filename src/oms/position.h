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
 * Cash moves by -signed_qty * px - fee on every fill. Every product of two
 * fixed-point numbers is rounded once to 1e-8 by the engine's rule (halves
 * away from zero, ig_fixed_round_wide), per fill, so the books always equal
 * the sum of their fills computed the same way.
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
	int64_t fees;         /* fees paid net of rebates (< 0 if rebates exceed them), 1e-8 quote */
	int64_t mark_px;      /* latest mark, 1e-8; 0 = none yet */
	int64_t bought_qty;   /* cumulative, 1e-8 */
	int64_t sold_qty;     /* cumulative, 1e-8 */
};

/* Applies one fill. cash (the strategy's, 1e-8) moves by -signed notional
 * - fee. Returns 0 or IG_EOVERFLOW (nothing is changed then). */
int ig_pos_apply_fill(struct ig_pos *p, int64_t *cash, enum ig_side side, int64_t px, int64_t qty,
		      int64_t fee);

/* Unrealized PnL at the mark, 1e-8 quote; 0 if flat or unmarked. */
int64_t ig_pos_unrealized(const struct ig_pos *p);

/* Position value at the mark (qty * mark), 1e-8 quote. */
int64_t ig_pos_value(const struct ig_pos *p);

#endif
