/*
 * donchian_breakout.c - Donchian channel breakout (the turtle rule), on bars.
 *
 * Buys qty when a bar closes above the highest high of the previous
 * `entry` bars; sells everything when a bar closes below the lowest low of
 * the previous `exit` bars. The channels are read before the bar is added,
 * so a bar is compared with the ones before it. Long only. Uses
 * ig_donchian (indicators.h): exact fixed-point, no floating point.
 *
 * Params: entry (bars, default 20), exit (bars, default 10), qty (base
 * units, default 0.1).
 */
#include <ingenium/error.h>
#include <ingenium/indicators.h>
#include <ingenium/strategy.h>

#include "example.h"

struct donchian_bo {
	int64_t qty;                 /* 1e-8 */
	struct ig_donchian entry;    /* breakout channel */
	struct ig_donchian exit;     /* exit channel */
};

static const struct ig_param_decl dbo_params[] = {
	{ "entry", IG_PARAM_INT, "20", "1", "100000", NULL, "bars of the breakout channel" },
	{ "exit", IG_PARAM_INT, "10", "1", "100000", NULL, "bars of the exit channel" },
	{ "qty", IG_PARAM_DECIMAL, "0.1", "0.00000001", NULL, NULL, "size of an entry, base units" },
	IG_PARAM_END,
};

static int dbo_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen)
{
	struct donchian_bo *s = state;
	int64_t entry, exit_n;
	int rc;

	(void)ctx;
	if ((rc = ig_param_i64(cfg, "entry", &entry, err, errlen)) != 0 ||
	    (rc = ig_param_i64(cfg, "exit", &exit_n, err, errlen)) != 0 ||
	    (rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0)
		return rc;
	if ((rc = ig_donchian_init(&s->entry, entry)) != 0)
		return rc;
	return ig_donchian_init(&s->exit, exit_n);
}

static void dbo_bar(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct donchian_bo *s = state;
	const struct ig_bar *b = &ev->body.bar;
	uint16_t in = ev->hdr.instrument_id;

	if (ig_donchian_ready(&s->entry) && b->close_px > ig_donchian_high_px(&s->entry))
		example_go_to(ctx, in, s->qty);
	else if (ig_donchian_ready(&s->exit) && b->close_px < ig_donchian_low_px(&s->exit))
		example_go_to(ctx, in, 0);
	ig_donchian_update(&s->entry, b->high_px, b->low_px);
	ig_donchian_update(&s->exit, b->high_px, b->low_px);
}

static void dbo_destroy(void *state)
{
	struct donchian_bo *s = state;
	ig_donchian_free(&s->entry);
	ig_donchian_free(&s->exit);
}

static const struct ig_strategy_type dbo_type = {
	.name = "donchian_breakout",
	.state_size = sizeof(struct donchian_bo),
	.init = dbo_init,
	.on_bar = dbo_bar,
	.params = dbo_params,
	.doc = "Donchian breakout: buy a close above the N-bar high, sell below the M-bar low",
	.destroy = dbo_destroy,
};

IG_STRATEGY_PLUGIN(dbo_type);
