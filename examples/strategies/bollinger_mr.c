/*
 * bollinger_mr.c - Bollinger-band mean reversion, on bars.
 *
 * When a bar closes below the lower band (the period-bar SMA minus k
 * standard deviations) it buys qty, betting on a return to the mean; it
 * sells everything when a bar closes at or above the middle band. Long
 * only (a spot account). Uses ig_bollinger (indicators.h).
 *
 * Params: period (bars, default 20), k (band width in standard
 * deviations, default 2), qty (base units, default 0.1).
 */
#include <ingenium/error.h>
#include <ingenium/indicators.h>
#include <ingenium/strategy.h>

#include "example.h"

struct bmr {
	int64_t qty;              /* 1e-8 */
	struct ig_bollinger bands;
	uint64_t entries;
};

static const struct ig_param_decl bmr_params[] = {
	{ "period", IG_PARAM_INT, "20", "2", "100000", NULL, "bars in the moving average" },
	{ "k", IG_PARAM_DECIMAL, "2", "0.1", "10", NULL, "band width, in standard deviations" },
	{ "qty", IG_PARAM_DECIMAL, "0.1", "0.00000001", NULL, NULL, "size of an entry, base units" },
	IG_PARAM_END,
};

static int bmr_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen)
{
	struct bmr *s = state;
	int64_t period, k;
	int rc;

	(void)ctx;
	if ((rc = ig_param_i64(cfg, "period", &period, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "k", &k, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0)
		return rc;
	/* k is a width in standard deviations, not money: a double is fine. */
	return ig_bollinger_init(&s->bands, period, ig_fixed_to_double(k));
}

static void bmr_bar(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct bmr *s = state;
	uint16_t in = ev->hdr.instrument_id;
	double close;

	if (ig_bollinger_update(&s->bands, ev->body.bar.close_px) != 0 || !ig_bollinger_ready(&s->bands))
		return;
	close = ig_fixed_to_double(ev->body.bar.close_px);
	if (close < ig_bollinger_lower(&s->bands) && ig_ctx_position(ctx, in)->qty == 0) {
		if (example_go_to(ctx, in, s->qty) != 0)
			s->entries++;
	} else if (close >= ig_bollinger_middle(&s->bands)) {
		example_go_to(ctx, in, 0);
	}
}

static void bmr_stop(void *state, struct ig_strategy_ctx *ctx)
{
	struct bmr *s = state;
	ig_ctx_log(ctx, "bollinger_mr: %llu entries", (unsigned long long)s->entries);
}

static void bmr_destroy(void *state)
{
	struct bmr *s = state;
	ig_bollinger_free(&s->bands);
}

static const struct ig_strategy_type bmr_type = {
	.name = "bollinger_mr",
	.state_size = sizeof(struct bmr),
	.init = bmr_init,
	.on_bar = bmr_bar,
	.on_stop = bmr_stop,
	.params = bmr_params,
	.doc = "Bollinger mean reversion: buy a close below the lower band, sell at the middle",
	.destroy = bmr_destroy,
};

IG_STRATEGY_PLUGIN(bmr_type);
