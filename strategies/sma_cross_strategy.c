/*
 * sma_cross_strategy.c - simple moving-average crossover.
 *
 * Params: fast (int, bars), slow (int, > fast), qty (decimal), allow_short
 * (bool, default false). The price is the quote mid, the trade price or the
 * bar close. When the fast SMA crosses above the slow one the strategy
 * targets a long position of qty; when it crosses below, flat (or short qty
 * with allow_short). It sends a market order for the difference between
 * target and (position + pending orders), and nothing while an order of its
 * own is still working.
 *
 * The averages are kept as exact int64 sums over a ring of prices and
 * compared in 128-bit (fast_sum * slow vs slow_sum * fast), so the signal
 * is exact and identical on every run: no floating point anywhere.
 */
#include "ingenium/error.h"
#include "ingenium/strategy.h"

#include <stdio.h>
#include <string.h>

#define SMA_MAX_WINDOW 4096

/* The params, as read from the config (sma_read). */
struct sma_params {
	int64_t fast;              /* window lengths */
	int64_t slow;
	int64_t qty;               /* 1e-8 */
	bool allow_short;
};

struct sma_state {
	int64_t fast;              /* window lengths */
	int64_t slow;
	int64_t qty;               /* 1e-8 */
	bool allow_short;
	int64_t prices[SMA_MAX_WINDOW]; /* ring of the last `slow` prices, 1e-8 */
	uint64_t n;                /* prices seen */
	uint32_t head;             /* ring slot of the next price (n mod slow) */
	uint32_t fast_tail;        /* ring slot of the price leaving the fast window */
	int64_t fast_sum;          /* sum of the last `fast` prices */
	int64_t slow_sum;          /* sum of the last `slow` prices */
	int trend;                 /* +1 fast above, -1 below, 0 unknown */
	uint64_t crosses;
};

/* Reads the params of cfg into s and
 * checks them together. Returns 0 or IG_ECONFIG with err set. */
static int sma_read(struct sma_params *s, const struct ig_cfg_strategy *cfg, char *err,
		    size_t errlen)
{
	int rc;

	s->fast = 10;
	s->slow = 30;
	s->qty = IG_FIXED(1) / 100;
	s->allow_short = false;
	if ((rc = ig_param_i64(cfg, "fast", &s->fast, err, errlen)) != 0 && rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_i64(cfg, "slow", &s->slow, err, errlen)) != 0 && rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_fixed(cfg, "qty", &s->qty, err, errlen)) != 0 && rc != IG_ENOTFOUND)
		return rc;
	if ((rc = ig_param_bool(cfg, "allow_short", &s->allow_short, err, errlen)) != 0 &&
	    rc != IG_ENOTFOUND)
		return rc;
	if (s->fast < 1 || s->slow <= s->fast || s->slow > SMA_MAX_WINDOW) {
		snprintf(err, errlen, "need 1 <= fast < slow <= %d (fast=%lld slow=%lld)",
			 SMA_MAX_WINDOW, (long long)s->fast, (long long)s->slow);
		return IG_ECONFIG;
	}
	if (s->qty <= 0) {
		snprintf(err, errlen, "qty must be > 0");
		return IG_ECONFIG;
	}
	return 0;
}

static int sma_init(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen)
{
	struct sma_state *s = state;
	struct sma_params p;
	int rc;

	(void)ctx;
	if ((rc = sma_read(&p, cfg, err, errlen)) != 0)
		return rc;
	s->fast = p.fast;
	s->slow = p.slow;
	s->qty = p.qty;
	s->allow_short = p.allow_short;
	return 0;
}

/* New params while running: qty and allow_short apply from the next
 * signal; new windows start the averages over (the strategy waits for
 * `slow` prices again, holding its position meanwhile). A combination
 * that does not hold together (fast >= slow) is logged and refused:
 * returns IG_ECONFIG, else 0. */
static int sma_on_params(void *state, struct ig_strategy_ctx *ctx,
			 const struct ig_cfg_strategy *cfg)
{
	struct sma_state *s = state;
	struct sma_params next;
	char err[160];

	if (sma_read(&next, cfg, err, sizeof(err)) != 0) {
		ig_ctx_log(ctx, "params refused, keeping fast=%lld slow=%lld: %s",
			   (long long)s->fast, (long long)s->slow, err);
		return IG_ECONFIG;
	}
	if (next.fast != s->fast || next.slow != s->slow) {
		s->fast = next.fast;
		s->slow = next.slow;
		s->n = 0;
		s->head = s->fast_tail = 0;
		s->fast_sum = s->slow_sum = 0;
		s->trend = 0;
	}
	s->qty = next.qty;
	s->allow_short = next.allow_short;
	ig_ctx_log(ctx, "params now fast=%lld slow=%lld qty=%lld.%08lld allow_short=%d",
		   (long long)s->fast, (long long)s->slow, (long long)(s->qty / IG_FIXED(1)),
		   (long long)(s->qty % IG_FIXED(1)), s->allow_short ? 1 : 0);
	return 0;
}

static void on_price(struct sma_state *s, struct ig_strategy_ctx *ctx, uint16_t instr, int64_t px)
{
	uint32_t i = s->head;
	int trend;

	/* Slide both windows. The ring holds the last `slow` prices; indices
	 * advance by one and wrap, so there is no division per price. */
	if (s->n >= (uint64_t)s->slow)
		s->slow_sum -= s->prices[i];
	if (s->n >= (uint64_t)s->fast) {
		s->fast_sum -= s->prices[s->fast_tail];
		if (++s->fast_tail == (uint32_t)s->slow)
			s->fast_tail = 0;
	}
	s->prices[i] = px;
	s->slow_sum += px;
	s->fast_sum += px;
	s->n++;
	if (++s->head == (uint32_t)s->slow)
		s->head = 0;
	if (s->n < (uint64_t)s->slow)
		return;

	/* fast_sum/fast vs slow_sum/slow, exactly. */
	{
		ig_i128 lhs = (ig_i128)s->fast_sum * s->slow;
		ig_i128 rhs = (ig_i128)s->slow_sum * s->fast;
		trend = lhs > rhs ? 1 : lhs < rhs ? -1 : s->trend;
	}
	if (trend == s->trend)
		return;
	if (s->trend != 0)
		s->crosses++;
	s->trend = trend;

	{
		const struct ig_position *p = ig_ctx_position(ctx, instr);
		int64_t pending = ig_ctx_pending_qty(ctx, instr, IG_SIDE_BUY) -
				  ig_ctx_pending_qty(ctx, instr, IG_SIDE_SELL);
		int64_t target = trend > 0 ? s->qty : (s->allow_short ? -s->qty : 0);
		int64_t delta;

		if (ig_ctx_pending_qty(ctx, instr, IG_SIDE_BUY) != 0 ||
		    ig_ctx_pending_qty(ctx, instr, IG_SIDE_SELL) != 0)
			return; /* wait for our working order to finish */
		delta = target - (p->qty + pending);
		if (delta > 0)
			ig_ctx_market(ctx, instr, IG_SIDE_BUY, delta);
		else if (delta < 0)
			ig_ctx_market(ctx, instr, IG_SIDE_SELL, -delta);
	}
}

static void sma_on_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	const struct ig_quote *q = &ev->body.quote;
	on_price(state, ctx, ev->hdr.instrument_id, (q->bid_px + q->ask_px) / 2);
}

static void sma_on_trade(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	on_price(state, ctx, ev->hdr.instrument_id, ev->body.trade.px);
}

static void sma_on_bar(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	on_price(state, ctx, ev->hdr.instrument_id, ev->body.bar.close_px);
}

#define SMA_STR2(x) #x
#define SMA_STR(x) SMA_STR2(x)

static const struct ig_param_decl sma_params[] = {
	{ "fast", IG_PARAM_INT, "10", "1", SMA_STR(SMA_MAX_WINDOW), NULL, "fast SMA window, in prices" },
	{ "slow", IG_PARAM_INT, "30", "2", SMA_STR(SMA_MAX_WINDOW), NULL,
	  "slow SMA window, in prices (> fast)" },
	{ "qty", IG_PARAM_DECIMAL, "0.01", "0.00000001", NULL, NULL, "target position when long (base units)" },
	{ "allow_short", IG_PARAM_BOOL, "false", NULL, NULL, NULL,
	  "go short qty on a cross down instead of flat" },
	IG_PARAM_END,
};

const struct ig_strategy_type ig_sma_cross_strategy = {
	.name = "sma_cross",
	.doc = "moving-average crossover: long qty when the fast SMA is above the slow one, flat (or short) below",
	.params = sma_params,
	.state_size = sizeof(struct sma_state),
	.init = sma_init,
	.on_quote = sma_on_quote,
	.on_trade = sma_on_trade,
	.on_bar = sma_on_bar,
	.on_params = sma_on_params,
};
