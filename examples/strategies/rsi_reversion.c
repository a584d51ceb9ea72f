/*
 * rsi_reversion.c - RSI (Wilder) oversold/overbought, on bars.
 *
 * Buys qty when the period-bar RSI of the closes falls below `oversold`,
 * sells everything when it rises above `overbought`. Long only. Uses
 * ig_rsi (indicators.h).
 *
 * Params: period (bars, default 14), oversold (default 30), overbought
 * (default 70), qty (base units, default 0.1).
 */
#include <ingenium/error.h>
#include <ingenium/indicators.h>
#include <ingenium/strategy.h>

#include <stdio.h>

#include "example.h"

struct rsi_rev {
	int64_t qty;          /* 1e-8 */
	int64_t oversold;     /* RSI points */
	int64_t overbought;
	struct ig_rsi rsi;
};

static const struct ig_param_decl rsi_params[] = {
	{ "period", IG_PARAM_INT, "14", "2", "100000", NULL, "RSI period, bars" },
	{ "oversold", IG_PARAM_INT, "30", "1", "99", NULL, "buy below this RSI" },
	{ "overbought", IG_PARAM_INT, "70", "1", "99", NULL, "sell above this RSI" },
	{ "qty", IG_PARAM_DECIMAL, "0.1", "0.00000001", NULL, NULL, "size of an entry, base units" },
	IG_PARAM_END,
};

static int rsi_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen)
{
	struct rsi_rev *s = state;
	int64_t period;
	int rc;

	(void)ctx;
	if ((rc = ig_param_i64(cfg, "period", &period, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "oversold", &s->oversold, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "overbought", &s->overbought, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0)
		return rc;
	if (s->oversold >= s->overbought) {
		snprintf(err, errlen, "need oversold < overbought (%lld >= %lld)", (long long)s->oversold,
			 (long long)s->overbought);
		return IG_ECONFIG;
	}
	return ig_rsi_init(&s->rsi, period);
}

static void rsi_bar(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct rsi_rev *s = state;
	uint16_t in = ev->hdr.instrument_id;
	double rsi;

	if (ig_rsi_update(&s->rsi, ev->body.bar.close_px) != 0 || !ig_rsi_ready(&s->rsi))
		return;
	rsi = ig_rsi_value(&s->rsi);
	if (rsi < (double)s->oversold)
		example_go_to(ctx, in, s->qty);
	else if (rsi > (double)s->overbought)
		example_go_to(ctx, in, 0);
}

static void rsi_destroy(void *state)
{
	struct rsi_rev *s = state;
	ig_rsi_free(&s->rsi);
}

static const struct ig_strategy_type rsi_type = {
	.name = "rsi_reversion",
	.state_size = sizeof(struct rsi_rev),
	.init = rsi_init,
	.on_bar = rsi_bar,
	.params = rsi_params,
	.doc = "RSI reversion: buy when oversold, sell when overbought",
	.destroy = rsi_destroy,
};

IG_STRATEGY_PLUGIN(rsi_type);
