/*
 * strategy.h - the API a strategy author writes against.
 *
 * A strategy is a set of callbacks over a private state block that the
 * engine allocates (state_size bytes, zeroed) before init. Callbacks run on
 * the strategy's own thread, one at a time; they must not block, allocate
 * or do I/O. They act through the ctx: submit and cancel orders, read their
 * own mirror of orders, position and cash (updated from the OMS's events
 * before the callback sees them), and log.
 *
 * Orders are intents: the OMS/risk thread decides. Every intent gets a
 * client order id at once; its fate arrives later as on_order_update,
 * on_fill and on_reject. A risk denial is an on_reject with by_venue = 0.
 *
 * Prices and quantities are int64 fixed-point 1e-8 (fixed.h). Floating
 * point is fine inside indicators, never for money.
 */
#ifndef INGENIUM_STRATEGY_H
#define INGENIUM_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"
#include "ingenium/fixed.h"

struct ig_strategy_ctx; /* opaque; owned by the strategy host */
struct ig_cfg_strategy; /* the strategy's config entry */

/* A strategy type. Registered at build time (src/strategy/registry.c). */
struct ig_strategy_type {
	const char *name;   /* the YAML `type:` */
	size_t state_size;  /* bytes of private state, zeroed before init */
	/* Reads params; returns 0 or a negative IG_E* code with err filled
	 * ("strategies.N.params.KEY: message" is prepended by the caller). */
	int (*init)(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen);
	void (*on_quote)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_trade)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_bar)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_timer)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_order_update)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_fill)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_reject)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_stop)(void *state, struct ig_strategy_ctx *ctx);
};

/* Submits an order intent built by the caller (client_id is assigned).
 * Returns the client order id (> 0), or 0 if the intent is malformed
 * (it is then also reported through on_reject with reason invalid_order). */
uint64_t ig_ctx_submit(struct ig_strategy_ctx *ctx, uint16_t instrument_id, const struct ig_order *o);

/* Shorthands for ig_ctx_submit. */
uint64_t ig_ctx_market(struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side,
		       int64_t qty);
uint64_t ig_ctx_limit(struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side,
		      int64_t px, int64_t qty, enum ig_tif tif);

/* Requests a cancel. Cancels are never blocked by risk. */
void ig_ctx_cancel(struct ig_strategy_ctx *ctx, uint64_t client_id);

/* The strategy's own view of its position on instrument_id, as of the last
 * IG_EV_POSITION from the OMS (qty, avg_px, cash, fees ...). */
const struct ig_position *ig_ctx_position(const struct ig_strategy_ctx *ctx, uint16_t instrument_id);

/* Quantity of intents sent but not yet finished, per side (the strategy's
 * own mirror; the OMS holds the truth). */
int64_t ig_ctx_pending_qty(const struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side);

/* Data time of the event being handled (Unix epoch ns). */
int64_t ig_ctx_now_ns(const struct ig_strategy_ctx *ctx);

/* The strategy's name and id. */
const char *ig_ctx_name(const struct ig_strategy_ctx *ctx);
uint16_t ig_ctx_strategy_id(const struct ig_strategy_ctx *ctx);

/* Parameter helpers for init: store the value and return 0, return
 * IG_ENOTFOUND if absent (out untouched), or IG_ECONFIG with err set. */
int ig_param_i64(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		 size_t errlen);
int ig_param_fixed(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		   size_t errlen);
int ig_param_bool(const struct ig_cfg_strategy *cfg, const char *key, bool *out, char *err,
		  size_t errlen);

/* Logs a line through the async logger (formatted on the caller's thread
 * into a fixed buffer; never blocks). */
void ig_ctx_log(struct ig_strategy_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
