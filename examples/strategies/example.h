/*
 * example.h - two small helpers the example strategies share. Not part of
 * the SDK: copy them into your own strategy if you like them.
 */
#ifndef EXAMPLE_H
#define EXAMPLE_H

#include <ingenium/strategy.h>

/* True while the strategy has an order of its own working on instrument
 * (its mirror of open and in-flight orders). */
static inline bool example_busy(const struct ig_strategy_ctx *ctx, uint16_t instrument)
{
	return ig_ctx_pending_qty(ctx, instrument, IG_SIDE_BUY) != 0 ||
	       ig_ctx_pending_qty(ctx, instrument, IG_SIDE_SELL) != 0;
}

/* Sends one market order that takes the position on instrument to
 * target_qty (1e-8), unless an order is already working. A spot account:
 * target_qty is never below 0. Returns the client order id, or 0 if
 * nothing was sent. */
static inline uint64_t example_go_to(struct ig_strategy_ctx *ctx, uint16_t instrument,
				     int64_t target_qty)
{
	int64_t diff;

	if (example_busy(ctx, instrument))
		return 0;
	diff = target_qty - ig_ctx_position(ctx, instrument)->qty;
	if (diff > 0)
		return ig_ctx_market(ctx, instrument, IG_SIDE_BUY, diff);
	if (diff < 0)
		return ig_ctx_market(ctx, instrument, IG_SIDE_SELL, -diff);
	return 0;
}

#endif
