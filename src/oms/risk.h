/*
 * risk.h - pre-trade risk checks.
 *
 * Design
 * ------
 * Each strategy has its effective limits (its own `risk:` overrides over the
 * global `risk:` section; IG_RISK_UNSET = no limit) and a little state: an
 * order-rate token bucket. A global bucket is shared by every strategy,
 * since they all call the same venue. ig_risk_check() is a pure function of
 * the order, the strategy's books and the marks: it returns IG_RJ_NONE or
 * the first reason to deny. Checks count open and in-flight orders, not
 * only fills. Cancels never pass through here: they are never blocked.
 *
 * Times are data time (ts_event_ns), so backtests are deterministic and the
 * same code guards live trading, where data time is exchange time.
 *
 * Owner: the OMS thread.
 */
#ifndef IG_OMS_RISK_H
#define IG_OMS_RISK_H

#include <stdint.h>

#include "config/config.h"
#include "ingenium/event.h"

struct ig_bucket {
	int64_t rate_per_s;   /* tokens per second; IG_RISK_UNSET = unlimited */
	int64_t tokens_e9;    /* tokens * 1e9 (nanotoken precision) */
	int64_t last_ns;      /* data time of the last refill */
};

void ig_bucket_init(struct ig_bucket *b, int64_t rate_per_s);
/* Refills to now and takes one token if there is one. */
bool ig_bucket_take(struct ig_bucket *b, int64_t now_ns);

/* What the risk check needs to know about the strategy, at the moment. */
struct ig_risk_view {
	int64_t position_qty;   /* signed, 1e-8 */
	int64_t open_buy_qty;   /* open + in-flight buys, 1e-8 */
	int64_t open_sell_qty;  /* open + in-flight sells, 1e-8 */
	int64_t open_buy_notional; /* reserved cash for open buys, 1e-8 */
	int64_t cash;           /* 1e-8 */
	uint32_t open_orders;
	int64_t mark_px;        /* 1e-8, 0 = none */
	int64_t mark_ts_ns;     /* data time of the mark */
	int64_t ask_px;         /* best ask (the touch a market buy takes), 1e-8; 0 = unknown: the mark */
	int64_t market_buy_bps; /* a market buy may be sent this far above its reference price */
	int64_t buy_min_fee;    /* venue.min_fee: a buy's fee is at least this, 1e-8 quote */
	int64_t buy_fee_per_order; /* venue.fee_per_order: added once per order, 1e-8 quote */
};

/* The worst price a market buy can be sent at: ask_px (else mark_px; 0 =
 * unknown) plus market_buy_bps (venue.market_buy_ioc_bps). The OMS sends the order
 * with this as its px, the most the venue may pay (the paper venue caps
 * its fills there; Luno's IOC bid is placed there). Returns 0 when there
 * is no reference, INT64_MAX when it does not fit (then refused). */
int64_t ig_risk_market_buy_px(int64_t ask_px, int64_t mark_px, int64_t market_buy_bps);

/* What a buy of that notional may cost, counted per order and
 * conservatively: *cost = notional + max(round(notional * fee_bps / 10000),
 * min_fee) + fee_per_order. Returns 0, or IG_EOVERFLOW when it does not
 * fit. */
int ig_risk_buy_cost(int64_t notional, int64_t fee_bps, int64_t min_fee, int64_t fee_per_order,
		     int64_t *cost);

/* Effective limits for one strategy: global merged with its overrides. */
void ig_risk_effective(const struct ig_cfg_risk *global, const struct ig_cfg_risk *over,
		       struct ig_cfg_risk *out);

/* Returns IG_RJ_NONE if the order may go, else the reason (enum
 * ig_reject_reason). Limit orders are valued at their price, market sells
 * at the mark, market buys at ig_risk_market_buy_px() (notional and cash).
 * A buy's cash need is ig_risk_buy_cost() of its notional at buy_fee_bps
 * (the larger of the maker and taker fees) with the view's buy_min_fee and
 * buy_fee_per_order. Does not consume rate tokens: the caller takes them after every other
 * check passed. */
int ig_risk_check(const struct ig_cfg_risk *lim, const struct ig_order *o, int64_t now_ns,
		  const struct ig_risk_view *v, int64_t buy_fee_bps);

#endif
