/*
 * plug_trader.c - a test plugin (built into build/test/plugins/ by the
 * Makefile): trades qty at market every `every` market-data events,
 * alternating sides (first `side`), optionally sets a timer every timer_ms
 * from on_start, and counts its callbacks for the tests (trader_stats).
 */
#include "ingenium/error.h"
#include "ingenium/strategy.h"

#include <string.h>

struct trader_stats {
	int starts, quotes, trades, bars, timers, fills, rejects, stops, destroys;
	int first_callback;          /* 1 = on_start came first */
	int start_submit_ok;         /* on_start's order got an id */
	int instrument_ok;           /* ig_ctx_instrument/_symbol agreed in init */
	char tag[IG_PARAM_STR_MAX];
	int side;                    /* ig_param_enum of side */
	long long orders;
};

/* Read by the tests through dlsym. */
__attribute__((visibility("default"))) struct trader_stats trader_stats;

struct trader {
	int64_t qty;
	int64_t every;
	int64_t timer_ms;
	int side;         /* 0 buy, 1 sell: the next order's side */
	bool on_start_order;
	int64_t seen;
	int called;       /* any callback yet */
};

static int trader_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		       char *err, size_t errlen)
{
	struct trader *t = state;
	int rc;

	memset(&trader_stats, 0, sizeof(trader_stats));
	if ((rc = ig_param_fixed(cfg, "qty", &t->qty, err, errlen)) != 0)
		return rc;
	if ((rc = ig_param_i64(cfg, "every", &t->every, err, errlen)) != 0)
		return rc;
	if ((rc = ig_param_i64(cfg, "timer_ms", &t->timer_ms, err, errlen)) != 0)
		return rc;
	if ((rc = ig_param_enum(cfg, "side", &t->side, err, errlen)) != 0)
		return rc;
	if ((rc = ig_param_bool(cfg, "on_start_order", &t->on_start_order, err, errlen)) != 0)
		return rc;
	if ((rc = ig_param_str(cfg, "tag", trader_stats.tag, sizeof(trader_stats.tag), err, errlen)) != 0)
		return rc;
	trader_stats.side = t->side;
	{
		int id = ig_ctx_instrument(ctx, ig_ctx_symbol(ctx, 0));
		trader_stats.instrument_ok = id == 0 && ig_ctx_instrument(ctx, "NO_SUCH") == IG_ENOTFOUND &&
					     ig_ctx_symbol(ctx, 15) == NULL;
	}
	/* Acting in init is misuse: counted, returns 0. */
	if (ig_ctx_market(ctx, 0, IG_SIDE_BUY, t->qty) != 0)
		return IG_EINVAL;
	return 0;
}

static void trader_start(void *state, struct ig_strategy_ctx *ctx)
{
	struct trader *t = state;

	trader_stats.starts++;
	if (!t->called)
		trader_stats.first_callback = 1;
	t->called = 1;
	if (t->timer_ms > 0)
		ig_ctx_timer_every(ctx, t->timer_ms, 7);
	if (t->on_start_order) {
		uint64_t id = ig_ctx_market(ctx, 0, IG_SIDE_BUY, t->qty);
		trader_stats.start_submit_ok = id != 0;
		if (id != 0)
			trader_stats.orders++;
	}
}

static void on_md(struct trader *t, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	t->called = 1;
	if (++t->seen % t->every != 0)
		return;
	if (ig_ctx_pending_qty(ctx, ev->hdr.instrument_id, IG_SIDE_BUY) != 0 ||
	    ig_ctx_pending_qty(ctx, ev->hdr.instrument_id, IG_SIDE_SELL) != 0)
		return;
	if (t->side == 1 && ig_ctx_position(ctx, ev->hdr.instrument_id)->qty < t->qty) {
		t->side = 0;
		return;
	}
	if (ig_ctx_market(ctx, ev->hdr.instrument_id, t->side == 0 ? IG_SIDE_BUY : IG_SIDE_SELL, t->qty) != 0)
		trader_stats.orders++;
	t->side = 1 - t->side;
}

static void trader_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	trader_stats.quotes++;
	on_md(state, ctx, ev);
}

static void trader_trade(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	trader_stats.trades++;
	on_md(state, ctx, ev);
}

static void trader_bar(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	trader_stats.bars++;
	on_md(state, ctx, ev);
}

static void trader_timer(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct trader *t = state;
	(void)ctx;
	t->called = 1;
	if (ev->body.timer.timer_id != 0)
		trader_stats.timers++;
}

static void trader_fill(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)state;
	(void)ctx;
	(void)ev;
	trader_stats.fills++;
}

static void trader_reject(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)state;
	(void)ctx;
	(void)ev;
	trader_stats.rejects++;
}

static void trader_stop(void *state, struct ig_strategy_ctx *ctx)
{
	(void)state;
	(void)ctx;
	trader_stats.stops++;
}

static void trader_destroy(void *state)
{
	(void)state;
	trader_stats.destroys++;
}

static const struct ig_param_decl trader_params[] = {
	{ "qty", IG_PARAM_DECIMAL, "0.01", "0.00000001", "1000", NULL, "order size (base units)" },
	{ "every", IG_PARAM_INT, "10", "1", NULL, NULL, "market-data events between orders" },
	{ "side", IG_PARAM_ENUM, "buy", NULL, NULL, "buy|sell", "side of the first order" },
	{ "tag", IG_PARAM_STRING, "plug", NULL, NULL, NULL, "a label" },
	{ "timer_ms", IG_PARAM_INT, "0", "0", NULL, NULL, "a timer every timer_ms from on_start (0 = none)" },
	{ "on_start_order", IG_PARAM_BOOL, "false", NULL, NULL, NULL, "buy qty from on_start" },
	IG_PARAM_END,
};

static const struct ig_strategy_type trader_type = {
	.name = "trader",
	.state_size = sizeof(struct trader),
	.init = trader_init,
	.on_quote = trader_quote,
	.on_trade = trader_trade,
	.on_bar = trader_bar,
	.on_timer = trader_timer,
	.on_fill = trader_fill,
	.on_reject = trader_reject,
	.on_stop = trader_stop,
	.params = trader_params,
	.doc = "test plugin: alternating market orders every N events",
	.on_start = trader_start,
	.destroy = trader_destroy,
};

IG_STRATEGY_PLUGIN(trader_type);
