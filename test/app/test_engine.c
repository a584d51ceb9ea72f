/*
 * test_engine.c - the whole pipeline (src/app/engine.c): the inline driver
 * is deterministic, threaded runs (dedicated and shared, every wait
 * strategy) keep the books consistent, a stop request and SIGTERM drain
 * gracefully, and destroy leaves nothing behind (ASan's leak check).
 *
 * The fill ledger
 * ---------------
 * The invariants are "position = sum of fills" and "cash change =
 * -sum(signed qty * px) - fees". To check them against something other than
 * the OMS's own books, every fill must be seen. There is no plugin API yet,
 * so after ig_engine_init the test replaces each strategy context's type
 * with a copy whose on_fill first records the fill in a per-strategy ledger
 * (written only by that strategy's thread, read after the run has joined)
 * and then calls the real strategy. The ledger is rebuilt from the fills the
 * strategy received, with ig_fixed_mul per fill, exactly as the issue
 * states the invariant; it is then compared with the OMS books, with the
 * strategy's own mirror (the last IG_EV_POSITION), and with the paper
 * venue's own per-strategy account (struct ig_paper_ledger) and counters:
 * no fill lost or duplicated between the venue, the OMS and the strategy.
 *
 * Two strategy sets run through this: the three sma_cross strategies of
 * config/ingenium.yaml (engine_sma.yaml), and a test-only "churn" strategy
 * (engine_churn.yaml) installed the same way, which sends market, limit,
 * IOC and FOK orders and cancels every few quotes, so threaded runs also
 * see partial fills, resting maker fills, cancels racing fills, expiries
 * and risk denials.
 *
 * Under TSan (10-50x slower) the feeds shrink to 1500 CSV rows and 2000
 * synthetic quotes; the matrix stays whole. Nothing here asserts a time or
 * a speed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "exec/paper.h"
#include "config/config.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"

#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_THREAD__) || defined(IG_TSAN)
#define SLOW_SANITIZER 2
#elif defined(__SANITIZE_ADDRESS__)
#define SLOW_SANITIZER 1
#else
#define SLOW_SANITIZER 0
#endif

#define SMA_YAML "test/app/engine_sma.yaml"
#define CHURN_YAML "test/app/engine_churn.yaml"
#define QUOTES_CSV "data/coinbase_btcusd_minute_quotes.csv"
#define MAX_SETS 16

static struct ig_config cfg; /* large: static */
static struct ig_engine eng;
static char err[IG_CFG_ERR_MAX];
static char small_csv[64];   /* a truncated copy of the quotes, for TSan */
static bool tsan_small;      /* TSan: use small feeds */

/* ------------------------------------------------------------- ledger */

struct ledger {
	uint64_t fills;
	int64_t net_qty[IG_MAX_INSTRUMENTS]; /* sum of signed fill qty */
	int64_t notional;                     /* sum of signed round(px * qty) */
	int64_t fees;
	uint64_t rebates;                     /* fills with a negative fee (maker rebates) */
	uint64_t last_trade_id;
	uint64_t trade_id_not_increasing;     /* a fill seen twice, or out of order */
	uint64_t malformed;                   /* qty <= 0, px <= 0, bad side */
	uint64_t quotes;                      /* market data seen by the strategy */
	uint64_t submitted;                   /* intents the OMS took (INITIALIZED -> SUBMITTED) */
	uint64_t denied;                      /* intents the OMS denied (a reject with a size) */
	uint64_t release_denied;              /* held orders denied at release (reject, then DENIED) */
};

static struct ledger ledger[IG_MAX_STRATEGIES];
static struct ig_strategy_type tapped[IG_MAX_STRATEGIES];
static const struct ig_strategy_type *real_type[IG_MAX_STRATEGIES];
static bool started_flag; /* atomic: a strategy thread has seen data */

static void ledger_fill(uint16_t id, const struct ig_event *ev)
{
	const struct ig_fill *f = &ev->body.fill;
	struct ledger *l = &ledger[id];
	int64_t n = 0;

	if (f->qty <= 0 || f->px <= 0 || (f->side != IG_SIDE_BUY && f->side != IG_SIDE_SELL) ||
	    ev->hdr.instrument_id >= IG_MAX_INSTRUMENTS || ig_fixed_mul(f->px, f->qty, &n) != 0) {
		l->malformed++;
		return;
	}
	l->fills++;
	/* The paper venue numbers trades globally and one ring carries them
	 * to the OMS and one to the strategy: per strategy they must rise. */
	if (f->trade_id <= l->last_trade_id)
		l->trade_id_not_increasing++;
	l->last_trade_id = f->trade_id;
	if (f->side == IG_SIDE_BUY) {
		l->net_qty[ev->hdr.instrument_id] += f->qty;
		l->notional += n;
	} else {
		l->net_qty[ev->hdr.instrument_id] -= f->qty;
		l->notional -= n;
	}
	l->fees += f->fee;
	if (f->fee < 0)
		l->rebates++;
}

static void tap_on_fill(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	ledger_fill(id, ev);
	if (real_type[id]->on_fill != NULL)
		real_type[id]->on_fill(state, ctx, ev);
}

static void tap_on_update(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	if (ev->body.update.prev_state == IG_OS_INITIALIZED && ev->body.update.state == IG_OS_SUBMITTED)
		ledger[id].submitted++;
	/* An order the OMS held (a triggered stop, a held replacement) that
	 * fails risk at its release: its reject, just before, was counted as
	 * a denied intent, but the intent had been taken. */
	if (ev->body.update.state == IG_OS_DENIED && ev->body.update.prev_state != IG_OS_INITIALIZED) {
		ledger[id].denied--;
		ledger[id].release_denied++;
	}
	if (real_type[id]->on_order_update != NULL)
		real_type[id]->on_order_update(state, ctx, ev);
}

static void tap_on_reject(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	/* A denied intent carries its size; a refused cancel does not. */
	if (ev->body.reject.by_venue == 0 && ev->body.reject.qty > 0)
		ledger[id].denied++;
	if (real_type[id]->on_reject != NULL)
		real_type[id]->on_reject(state, ctx, ev);
}

static void tap_on_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint16_t id = ig_ctx_strategy_id(ctx);
	if (ledger[id].quotes++ == 0)
		__atomic_store_n(&started_flag, true, __ATOMIC_RELEASE);
	if (real_type[id]->on_quote != NULL)
		real_type[id]->on_quote(state, ctx, ev);
}

/* ------------------------------------------------------ churn strategy */

/* Per-strategy state of the churn strategy. Owner: its strategy thread. */
struct churn_state {
	uint64_t n;        /* quotes seen */
	uint64_t rest_buy; /* client id of the resting buy, 0 if none */
	uint64_t rest_sell;
	int64_t qty;       /* 1e-8 */
};

static struct churn_state churn[IG_MAX_STRATEGIES];

static uint32_t open_in_mirror(const struct ig_strategy_ctx *ctx)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < IG_CTX_MAX_OPEN; i++)
		n += ctx->open[i].client_id != 0;
	return n;
}

static uint64_t churn_order(struct ig_strategy_ctx *ctx, uint16_t in, enum ig_side side,
			    enum ig_ord_type type, enum ig_tif tif, int64_t px, int64_t qty)
{
	struct ig_order o;
	memset(&o, 0, sizeof(o));
	o.side = (uint8_t)side;
	o.type = (uint8_t)type;
	o.tif = (uint8_t)tif;
	o.px = px;
	o.qty = qty;
	return ig_ctx_submit(ctx, in, &o);
}

static void churn_on_quote(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct churn_state *c = &churn[ig_ctx_strategy_id(ctx)];
	const struct ig_quote *q = &ev->body.quote;
	const int64_t tick = IG_FIXED(1) / 100;
	uint16_t in = ev->hdr.instrument_id;
	int64_t held = ig_ctx_position(ctx, in)->qty;
	(void)state;

	if (c->n++ % 3 != 0 || open_in_mirror(ctx) >= 5)
		return;
	switch ((c->n / 3) % 12) {
	case 0: /* market buy */
		churn_order(ctx, in, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_GTC, 0, c->qty);
		break;
	case 1: /* buy one tick inside the ask: rests, fills as maker on a dip */
		if (c->rest_buy == 0)
			c->rest_buy = churn_order(ctx, in, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC,
						  q->ask_px - tick, c->qty);
		break;
	case 2: /* cancel it: races its fill */
		if (c->rest_buy != 0)
			ig_ctx_cancel(ctx, c->rest_buy);
		c->rest_buy = 0;
		break;
	case 3: /* market sell what we hold (or get denied) */
		churn_order(ctx, in, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_GTC, 0,
			    held > 0 && held < c->qty ? held : c->qty);
		break;
	case 4: /* sell one tick inside the bid */
		if (c->rest_sell == 0 && held >= c->qty)
			c->rest_sell = churn_order(ctx, in, IG_SIDE_SELL, IG_ORD_LIMIT, IG_TIF_GTC,
						   q->bid_px + tick, c->qty);
		break;
	case 5: /* IOC bigger than the displayed size: partial, then cancelled */
		churn_order(ctx, in, IG_SIDE_BUY, IG_ORD_MARKET, IG_TIF_IOC, 0, 5 * c->qty);
		break;
	case 6:
		if (c->rest_sell != 0)
			ig_ctx_cancel(ctx, c->rest_sell);
		c->rest_sell = 0;
		break;
	case 7: /* FOK: fills in full or expires */
		churn_order(ctx, in, IG_SIDE_SELL, IG_ORD_MARKET, IG_TIF_FOK, 0,
			    held >= 2 * c->qty ? 2 * c->qty : c->qty);
		break;
	case 8: /* a marketable limit buy: taker at the touch */
		churn_order(ctx, in, IG_SIDE_BUY, IG_ORD_LIMIT, IG_TIF_GTC, q->ask_px, c->qty);
		break;
	case 9: /* cancel something already finished (unknown_order) */
		ig_ctx_cancel(ctx, IG_CID_MAKE(ig_ctx_strategy_id(ctx), 0, 1));
		break;
	case 10: { /* a stop-loss sell 3 ticks under the bid: armed in the OMS */
		struct ig_order o;
		if (held < c->qty)
			break;
		memset(&o, 0, sizeof(o));
		o.side = IG_SIDE_SELL;
		o.type = IG_ORD_STOP_MARKET;
		o.stop_px = q->bid_px - 3 * tick;
		o.qty = c->qty;
		ig_ctx_submit(ctx, in, &o);
		break;
	}
	default: { /* cancel-replace the resting buy one tick lower */
		struct ig_order o;
		if (c->rest_buy == 0)
			break;
		memset(&o, 0, sizeof(o));
		o.side = IG_SIDE_BUY;
		o.type = IG_ORD_LIMIT;
		o.px = q->ask_px - 2 * tick;
		o.qty = c->qty;
		o.replaces = c->rest_buy;
		c->rest_buy = ig_ctx_submit(ctx, in, &o);
		break;
	}
	}
}

/* The churn type: its own quotes callback, the tap's fill callback. */
static const struct ig_strategy_type churn_type = {
	.name = "churn",
	.state_size = 0,
	.on_quote = churn_on_quote,
};

/* --------------------------------------------------------- harness */

/* Loads yaml with "key=value" overrides (NULL-terminated). */
static void load_cfg(const char *yaml, const char *const *sets)
{
	struct ig_cfg_override ovr[MAX_SETS];
	static char buf[MAX_SETS][IG_CFG_PATH_MAX];
	size_t n = 0;
	int rc;

	for (; sets != NULL && sets[n] != NULL; n++) {
		char *eq;
		assert_true(n < MAX_SETS);
		snprintf(buf[n], sizeof(buf[n]), "%s", sets[n]);
		eq = strchr(buf[n], '=');
		assert_non_null(eq);
		*eq = '\0';
		ovr[n].key = buf[n];
		ovr[n].value = eq + 1;
	}
	rc = ig_config_load(&cfg, yaml, ovr, n, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_config_load(%s): %s", yaml, err);
	if (tsan_small && cfg.feed.source == IG_FEED_CSV)
		snprintf(cfg.feed.path, sizeof(cfg.feed.path), "%s", small_csv);
	if (tsan_small && cfg.feed.source == IG_FEED_SYNTHETIC && cfg.feed.count > 2000)
		cfg.feed.count = 2000;
}

/* Builds the engine from cfg and installs the ledger tap; with churn, the
 * churn strategy replaces every strategy's type. */
static void engine_up(bool use_churn)
{
	struct ig_engine_opts opts;
	int rc;

	memset(&opts, 0, sizeof(opts));
	memset(ledger, 0, sizeof(ledger));
	memset(churn, 0, sizeof(churn));
	__atomic_store_n(&started_flag, false, __ATOMIC_RELAXED);
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_engine_init: %s (%s)", err, ig_err_name(rc));
	for (uint32_t h = 0; h < eng.nthreads; h++) {
		for (uint32_t i = 0; i < eng.hosts[h].n; i++) {
			struct ig_strategy_ctx *c = eng.hosts[h].ctx[i];
			real_type[c->id] = use_churn ? &churn_type : c->type;
			tapped[c->id] = *real_type[c->id];
			tapped[c->id].on_fill = tap_on_fill;
			tapped[c->id].on_quote = tap_on_quote;
			tapped[c->id].on_order_update = tap_on_update;
			tapped[c->id].on_reject = tap_on_reject;
			c->type = &tapped[c->id];
			churn[c->id].qty = IG_FIXED(2) / 5; /* 0.4 */
		}
	}
}

static const struct ig_strategy_ctx *ctx_of(uint32_t id)
{
	for (uint32_t h = 0; h < eng.nthreads; h++)
		for (uint32_t i = 0; i < eng.hosts[h].n; i++)
			if (eng.hosts[h].ctx[i]->id == id)
				return eng.hosts[h].ctx[i];
	fail_msg("no context for strategy %u", id);
	return NULL;
}

/* Risk denials: every reason the OMS gives before an order reaches the
 * venue (the map puts them before unknown_order). */
static uint64_t risk_denials(const struct ig_oms_strategy *s)
{
	uint64_t n = 0;
	for (int r = 1; r < IG_RJ_UNKNOWN_ORDER; r++)
		n += s->rejects[r];
	return n;
}

#define CHECK_EQ(what, a, b)                                                                  \
	do {                                                                                  \
		long long a_ = (long long)(a), b_ = (long long)(b);                           \
		if (a_ != b_)                                                                 \
			fail_msg("%s: %s: %s = %lld, %s = %lld", label, what, #a, a_, #b, b_); \
	} while (0)

/*
 * The books after a run that has returned (threads joined, rings drained).
 * `whole_feed`: the feed ran to its end (not stopped).
 */
static void check_books(const char *label, bool whole_feed)
{
	const struct ig_paper *pv = eng.exec.venue; /* venue.kind: paper */
	uint64_t fills = 0, orders = 0, open = 0;
	int64_t paper_open_buy[IG_MAX_STRATEGIES] = { 0 }, paper_open_sell[IG_MAX_STRATEGIES] = { 0 };

	CHECK_EQ("shutdown token came back", ig_oms_done(&eng.oms), 1);
	CHECK_EQ("every market-data event reached the OMS", eng.oms.md_events, eng.md_events);
	if (whole_feed)
		CHECK_EQ("the whole feed was read", eng.md_events, ig_feed_size(&eng.feed));
	CHECK_EQ("venue reports for unknown orders", eng.oms.unknown_reports, 0);

	/* What the paper venue still holds, per strategy and side. */
	for (uint32_t i = 0; i < pv->norders; i++) {
		const struct ig_paper_order *po = &pv->orders[i];
		if (!po->live)
			continue;
		if (po->ev.body.order.side == IG_SIDE_BUY)
			paper_open_buy[po->ev.hdr.strategy_id] += po->leaves_qty;
		else
			paper_open_sell[po->ev.hdr.strategy_id] += po->leaves_qty;
	}

	for (uint32_t i = 0; i < eng.oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &eng.oms.s[i];
		const struct ledger *l = &ledger[i];
		const struct ig_strategy_ctx *ctx = ctx_of(i);
		int64_t open_buy = 0, open_sell = 0, reserved = 0, value = 0;
		int64_t oms_only_buy = 0, oms_only_sell = 0;
		uint32_t live = 0, mirror_open = 0, oms_only = 0;

		CHECK_EQ("refused fills", s->refused_fills, 0);
		CHECK_EQ("illegal transitions", s->om.illegal, 0);
		if (!ig_order_mgr_sanity(&s->om))
			fail_msg("%s: strategy %u: order manager sanity failed", label, i);
		/* Every fill the OMS applied reached the strategy, once. */
		CHECK_EQ("fills: ledger vs OMS", l->fills, s->fills);
		CHECK_EQ("fills seen twice or out of order", l->trade_id_not_increasing, 0);
		CHECK_EQ("malformed fills", l->malformed, 0);
		/* cash - capital = -sum(signed round(px * qty)) - fees */
		CHECK_EQ("cash", s->cash, s->capital - l->notional - l->fees);
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
			const struct ig_pos *p = &s->pos[k];
			/* position = sum of signed fills */
			CHECK_EQ("position vs ledger", p->qty, l->net_qty[k]);
			CHECK_EQ("position vs bought - sold", p->qty, p->bought_qty - p->sold_qty);
			CHECK_EQ("flat position has no average", p->qty == 0 ? p->avg_px : 0, 0);
			if (k == 0)
				CHECK_EQ("fees vs ledger", p->fees, l->fees);
			else
				CHECK_EQ("no trading on other instruments", p->qty | p->fees, 0);
			/* The strategy's mirror equals the OMS books. */
			CHECK_EQ("mirror qty", ctx->pos[k].qty, p->qty);
			if (s->fills > 0 && k == 0) {
				CHECK_EQ("mirror avg_px", ctx->pos[k].avg_px, p->avg_px);
				CHECK_EQ("mirror realized", ctx->pos[k].realized_pnl, p->realized_pnl);
				CHECK_EQ("mirror fees", ctx->pos[k].fees, p->fees);
				CHECK_EQ("mirror cash", ctx->pos[k].cash, s->cash);
			}
			value += ig_pos_value(p);
		}
		CHECK_EQ("equity = cash + value at the marks", ig_oms_equity(&eng.oms, i), s->cash + value);
		/* Every intent was either taken by the OMS or denied, and every
		 * risk denial the OMS counted reached the strategy. */
		CHECK_EQ("intents = taken + denied", ctx->intents, l->submitted + l->denied);
		/* Beyond the risk reasons, only a replacement of an order that is
		 * gone is denied (as unknown_order). */
		if (risk_denials(s) > l->denied + l->release_denied ||
		    l->denied + l->release_denied - risk_denials(s) > s->rejects[IG_RJ_UNKNOWN_ORDER])
			fail_msg("%s: strategy %u: OMS counted %llu risk denials (+%llu unknown_order), "
				 "the strategy heard %llu",
				 label, i, (unsigned long long)risk_denials(s),
				 (unsigned long long)s->rejects[IG_RJ_UNKNOWN_ORDER],
				 (unsigned long long)(l->denied + l->release_denied));
		/* The venue's own account of what it filled for this strategy
		 * (struct ig_paper_ledger) equals the OMS books and the ledger. */
		CHECK_EQ("venue ledger: fills", pv->ledger[i].fills, s->fills);
		CHECK_EQ("venue ledger: fees", pv->ledger[i].fees, l->fees);
		CHECK_EQ("venue ledger: cash", pv->ledger[i].cash_delta, s->cash - s->capital);
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
			CHECK_EQ("venue ledger: position", pv->ledger[i].net_qty[k], s->pos[k].qty);
		/* Orders still open: the open totals, the reservation, the
		 * venue and the strategy's mirror all agree. */
		for (uint32_t r = 0; r < IG_OM_CAPACITY; r++) {
			const struct ig_order_rec *rec = &s->om.pool[r];
			if (rec->client_id == 0)
				continue;
			live++;
			assert_false(ig_order_terminal((enum ig_ord_state)rec->state));
			if (rec->side == IG_SIDE_BUY)
				open_buy += rec->qty - rec->filled_qty;
			else
				open_sell += rec->qty - rec->filled_qty;
			reserved += rec->reserved;
			/* Armed stops and held replacements are the OMS's alone. */
			if (rec->armed || rec->held) {
				oms_only++;
				if (rec->side == IG_SIDE_BUY)
					oms_only_buy += rec->qty - rec->filled_qty;
				else
					oms_only_sell += rec->qty - rec->filled_qty;
			}
		}
		for (uint32_t m = 0; m < IG_CTX_MAX_OPEN; m++)
			mirror_open += ctx->open[m].client_id != 0;
		CHECK_EQ("live orders", live, s->om.live);
		CHECK_EQ("open orders", s->om.open, s->om.live);
		CHECK_EQ("open buy qty", s->open_buy_qty[0], open_buy);
		CHECK_EQ("open sell qty", s->open_sell_qty[0], open_sell);
		CHECK_EQ("reserved cash", s->open_buy_notional, reserved);
		CHECK_EQ("venue's open buys", paper_open_buy[i], open_buy - oms_only_buy);
		CHECK_EQ("venue's open sells", paper_open_sell[i], open_sell - oms_only_sell);
		CHECK_EQ("mirror's open orders", mirror_open, live);
		CHECK_EQ("mirror overflow", ctx->mirror_overflow, 0);
		fills += s->fills;
		orders += s->orders;
		open += s->om.open - oms_only;
	}
	/* No fill lost or duplicated between the venue and the OMS. */
	CHECK_EQ("venue fills = OMS fills", pv->fills, fills);
	if (getenv("IG_TEST_VERBOSE") != NULL) {
		fprintf(stderr, "# %s: md %llu events %llu drained %llu backpressure %llu:", label,
			(unsigned long long)eng.md_events, (unsigned long long)eng.events,
			(unsigned long long)eng.drained_after_stop, (unsigned long long)eng.backpressure);
		for (uint32_t i = 0; i < eng.oms.nstrategies; i++)
			fprintf(stderr, " [%s orders %llu fills %llu cancels %llu denied %llu open %u triggered %llu]",
				cfg.strategies[i].name, (unsigned long long)eng.oms.s[i].orders,
				(unsigned long long)eng.oms.s[i].fills,
				(unsigned long long)eng.oms.s[i].cancels,
				(unsigned long long)risk_denials(&eng.oms.s[i]), eng.oms.s[i].om.open,
				(unsigned long long)eng.oms.s[i].triggered);
		fprintf(stderr, "\n");
	}
	CHECK_EQ("orders reaching the executor", eng.exec.orders, orders);
	CHECK_EQ("venue's live orders = OMS open orders", pv->live, open);
}

/* --------------------------------------------------------- snapshots */

struct strat_snap {
	uint64_t orders, fills, cancels, refused, illegal, retired, intents, ctx_cancels, triggered;
	uint64_t rejects[IG_RJ__COUNT];
	struct ig_pos pos[IG_MAX_INSTRUMENTS];
	int64_t cash, open_buy_qty, open_sell_qty, open_buy_notional;
	uint32_t live;
	struct ledger led;
	int64_t mirror_qty, mirror_avg, mirror_realized, mirror_fees, mirror_cash;
};

struct snap {
	uint32_t n;
	struct strat_snap s[8];
	uint64_t md_events, events, oms_events, paper_fills, paper_rejects, exec_orders,
		exec_cancels, rows, bad_rows;
};

static void take_snap(struct snap *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->n = eng.oms.nstrategies;
	assert_true(sn->n <= 8);
	for (uint32_t i = 0; i < sn->n; i++) {
		const struct ig_oms_strategy *s = &eng.oms.s[i];
		const struct ig_strategy_ctx *ctx = ctx_of(i);
		struct strat_snap *t = &sn->s[i];
		t->orders = s->orders;
		t->fills = s->fills;
		t->cancels = s->cancels;
		t->refused = s->refused_fills;
		t->illegal = s->om.illegal;
		t->retired = s->om.retired;
		t->intents = ctx->intents;
		t->ctx_cancels = ctx->cancels;
		t->triggered = s->triggered;
		memcpy(t->rejects, s->rejects, sizeof(t->rejects));
		memcpy(t->pos, s->pos, sizeof(t->pos));
		t->cash = s->cash;
		t->open_buy_qty = s->open_buy_qty[0];
		t->open_sell_qty = s->open_sell_qty[0];
		t->open_buy_notional = s->open_buy_notional;
		t->live = s->om.live;
		t->led = ledger[i];
		t->mirror_qty = ctx->pos[0].qty;
		t->mirror_avg = ctx->pos[0].avg_px;
		t->mirror_realized = ctx->pos[0].realized_pnl;
		t->mirror_fees = ctx->pos[0].fees;
		t->mirror_cash = ctx->pos[0].cash;
	}
	sn->md_events = eng.md_events;
	sn->events = eng.events;
	sn->oms_events = eng.oms.events;
	sn->paper_fills = ((const struct ig_paper *)eng.exec.venue)->fills;
	sn->paper_rejects = ((const struct ig_paper *)eng.exec.venue)->rejects;
	sn->exec_orders = eng.exec.orders;
	sn->exec_cancels = eng.exec.cancels;
	sn->rows = eng.feed.rows;
	sn->bad_rows = eng.feed.bad_rows;
}

static void compare_snaps(const char *label, const struct snap *a, const struct snap *b)
{
	CHECK_EQ("strategies", a->n, b->n);
	CHECK_EQ("md_events", a->md_events, b->md_events);
	CHECK_EQ("events", a->events, b->events);
	CHECK_EQ("oms events", a->oms_events, b->oms_events);
	CHECK_EQ("venue fills", a->paper_fills, b->paper_fills);
	CHECK_EQ("venue rejects", a->paper_rejects, b->paper_rejects);
	CHECK_EQ("executor orders", a->exec_orders, b->exec_orders);
	CHECK_EQ("executor cancels", a->exec_cancels, b->exec_cancels);
	CHECK_EQ("rows", a->rows, b->rows);
	CHECK_EQ("bad rows", a->bad_rows, b->bad_rows);
	for (uint32_t i = 0; i < a->n; i++) {
		const struct strat_snap *x = &a->s[i], *y = &b->s[i];
		CHECK_EQ("orders", x->orders, y->orders);
		CHECK_EQ("fills", x->fills, y->fills);
		CHECK_EQ("cancels", x->cancels, y->cancels);
		CHECK_EQ("intents", x->intents, y->intents);
		CHECK_EQ("cancels requested", x->ctx_cancels, y->ctx_cancels);
		CHECK_EQ("stops triggered", x->triggered, y->triggered);
		for (int r = 0; r < IG_RJ__COUNT; r++)
			if (x->rejects[r] != y->rejects[r])
				fail_msg("%s: strategy %u: rejects[%s] %llu vs %llu", label, i,
					 ig_reject_reason_name((enum ig_reject_reason)r),
					 (unsigned long long)x->rejects[r], (unsigned long long)y->rejects[r]);
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
			CHECK_EQ("qty", x->pos[k].qty, y->pos[k].qty);
			CHECK_EQ("avg_px", x->pos[k].avg_px, y->pos[k].avg_px);
			CHECK_EQ("realized_pnl", x->pos[k].realized_pnl, y->pos[k].realized_pnl);
			CHECK_EQ("fees", x->pos[k].fees, y->pos[k].fees);
			CHECK_EQ("mark", x->pos[k].mark_px, y->pos[k].mark_px);
			CHECK_EQ("bought", x->pos[k].bought_qty, y->pos[k].bought_qty);
			CHECK_EQ("sold", x->pos[k].sold_qty, y->pos[k].sold_qty);
		}
		CHECK_EQ("cash", x->cash, y->cash);
		CHECK_EQ("open buy qty", x->open_buy_qty, y->open_buy_qty);
		CHECK_EQ("open sell qty", x->open_sell_qty, y->open_sell_qty);
		CHECK_EQ("reserved", x->open_buy_notional, y->open_buy_notional);
		CHECK_EQ("live", x->live, y->live);
		CHECK_EQ("retired", x->retired, y->retired);
		CHECK_EQ("ledger notional", x->led.notional, y->led.notional);
		CHECK_EQ("ledger last trade", x->led.last_trade_id, y->led.last_trade_id);
		CHECK_EQ("mirror qty", x->mirror_qty, y->mirror_qty);
		CHECK_EQ("mirror avg", x->mirror_avg, y->mirror_avg);
		CHECK_EQ("mirror realized", x->mirror_realized, y->mirror_realized);
		CHECK_EQ("mirror fees", x->mirror_fees, y->mirror_fees);
		CHECK_EQ("mirror cash", x->mirror_cash, y->mirror_cash);
	}
}

/* ----------------------------------------------------------- summary */

static void tmp_name(char *buf, size_t cap, const char *tag)
{
	int fd;
	snprintf(buf, cap, "/tmp/ig_%s_XXXXXX.json", tag);
	fd = mkstemps(buf, 5);
	assert_true(fd >= 0);
	close(fd);
}

/* Loads a summary and removes what depends on timing. */
static json_t *load_summary_untimed(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (j == NULL)
		fail_msg("%s: %s (line %d)", path, jerr.text, jerr.line);
	json_object_del(j, "duration_s");
	json_object_del(j, "events_per_s");
	json_object_del(j, "cpu_cores");
	json_object_del(j, "latency");
	/* The book hash covers each mark's ingress time (monotonic clock),
	 * which a replay reproduces but a second run does not. */
	json_object_del(j, "state_hash");
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		fail_msg("summary: %s is not a string", key);
	return json_string_value(v);
}

static void expect_money(json_t *o, const char *key, int64_t want)
{
	char buf[IG_FIXED_STRLEN];
	ig_fixed_format(want, buf, sizeof(buf));
	if (strcmp(jstr(o, key), buf) != 0)
		fail_msg("summary: %s is \"%s\", books say \"%s\"", key, jstr(o, key), buf);
}

/* The summary carries its documented keys and agrees with the books. */
static void check_summary_matches_books(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr), *strats, *lat;
	assert_non_null(j);
	strats = json_object_get(j, "strategies");
	assert_true(json_is_array(strats));
	assert_int_equal(json_array_size(strats), eng.oms.nstrategies);
	assert_int_equal(json_integer_value(json_object_get(j, "events")), eng.events);
	assert_int_equal(json_integer_value(json_object_get(j, "md_events")), eng.md_events);
	assert_true(json_is_number(json_object_get(j, "duration_s")));
	lat = json_object_get(json_object_get(j, "latency"), "tick_to_order_ns");
	assert_true(json_is_object(lat));
	assert_true(json_is_integer(json_object_get(lat, "p50")));
	assert_true(json_is_integer(json_object_get(lat, "p99")));
	assert_true(json_is_integer(json_object_get(lat, "p999")));
	assert_true(json_is_integer(json_object_get(lat, "max")));
	for (uint32_t i = 0; i < eng.oms.nstrategies; i++) {
		const struct ig_oms_strategy *s = &eng.oms.s[i];
		json_t *o = json_array_get(strats, i), *rj;
		assert_string_equal(jstr(o, "name"), cfg.strategies[i].name);
		assert_int_equal(json_integer_value(json_object_get(o, "orders")), s->orders);
		assert_int_equal(json_integer_value(json_object_get(o, "fills")), s->fills);
		expect_money(o, "position", s->pos[0].qty);
		expect_money(o, "avg_price", s->pos[0].qty != 0 ? s->pos[0].avg_px : 0);
		expect_money(o, "realized_pnl", s->pos[0].realized_pnl);
		expect_money(o, "unrealized_pnl", ig_pos_unrealized(&s->pos[0]));
		expect_money(o, "fees", s->pos[0].fees);
		expect_money(o, "cash", s->cash);
		rj = json_object_get(o, "rejects");
		assert_true(json_is_object(rj));
		for (int r = 1; r < IG_RJ__COUNT; r++) {
			json_t *v = json_object_get(rj, ig_reject_reason_name((enum ig_reject_reason)r));
			assert_int_equal(v != NULL ? json_integer_value(v) : 0, s->rejects[r]);
		}
	}
	json_decref(j);
}

/* ------------------------------------------------------------- inline */

static void run_inline_once(const char *yaml, const char *const *sets, bool use_churn,
			    struct snap *sn, const char *summary_path)
{
	load_cfg(yaml, sets);
	cfg.engine.threading = IG_THREADING_INLINE;
	engine_up(use_churn);
	assert_int_equal(ig_engine_run(&eng), 0);
	check_books("inline", true);
	take_snap(sn);
	assert_int_equal(ig_engine_write_summary(&eng, summary_path), 0);
	check_summary_matches_books(summary_path);
	ig_engine_destroy(&eng);
}

static void inline_twice(const char *yaml, const char *const *sets, bool use_churn,
			 struct snap *first)
{
	static struct snap second;
	char p1[64], p2[64];
	json_t *a, *b;

	tmp_name(p1, sizeof(p1), "sum1");
	tmp_name(p2, sizeof(p2), "sum2");
	run_inline_once(yaml, sets, use_churn, first, p1);
	run_inline_once(yaml, sets, use_churn, &second, p2);
	compare_snaps("inline run 1 vs run 2", first, &second);
	a = load_summary_untimed(p1);
	b = load_summary_untimed(p2);
	if (!json_equal(a, b)) {
		char *da = json_dumps(a, JSON_SORT_KEYS | JSON_COMPACT);
		char *db = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
		print_error("summary 1: %s\nsummary 2: %s\n", da, db);
		free(da);
		free(db);
		fail_msg("the two inline summaries differ beyond timings");
	}
	json_decref(a);
	json_decref(b);
	unlink(p1);
	unlink(p2);
}

static void test_inline_deterministic_sma_csv(void **state)
{
	static struct snap sn;
	(void)state;
	inline_twice(SMA_YAML, NULL, false, &sn);
	/* It traded, and sma_big was denied by reason (its qty 3 is over its
	 * max_order_qty 2) and never got an order through. */
	if (!tsan_small) {
		assert_int_equal(sn.md_events, 7188);
		assert_true(sn.s[0].fills > 10);
		assert_true(sn.s[1].fills > 0);
	}
	assert_true(sn.s[2].rejects[IG_RJ_MAX_ORDER_QTY] > 0);
	assert_int_equal(sn.s[2].orders, 0);
	assert_int_equal(sn.s[2].fills, 0);
	assert_int_equal(sn.s[2].cash, IG_FIXED(20000));
}

static void test_inline_deterministic_sma_synthetic(void **state)
{
	static struct snap sn;
	static const char *const sets[] = { "feed.source=synthetic", "feed.count=20000", NULL };
	(void)state;
	inline_twice(SMA_YAML, sets, false, &sn);
	assert_true(sn.s[0].fills > 10);
}

static void test_inline_deterministic_churn(void **state)
{
	static struct snap sn;
	uint64_t cancels = 0, denials = 0;
	(void)state;
	inline_twice(CHURN_YAML, NULL, true, &sn);
	for (uint32_t i = 0; i < sn.n; i++) {
		cancels += sn.s[i].cancels;
		for (int r = 1; r < IG_RJ_UNKNOWN_ORDER; r++)
			denials += sn.s[i].rejects[r];
	}
	/* The churn did what it is for. */
	assert_true(sn.s[0].fills > 50);
	assert_true(cancels > 10);
	assert_true(denials > 10);
	assert_true(sn.s[2].rejects[IG_RJ_INSUFFICIENT_CASH] > 0);
	assert_true(sn.s[0].triggered > 0);
}

/*
 * Regression (defect 5): with a negative maker_fee_bps the paper venue pays
 * a rebate on maker fills (a negative fee), and the OMS refused each such
 * fill, leaving the order open in the OMS while the venue had finished it
 * (check_books: refused fills, cash, open orders). End to end, the rebates
 * are booked: the OMS, the strategy's mirror, the venue's ledger and the
 * summary agree to the unit.
 */
static void test_inline_maker_rebate(void **state)
{
	static struct snap sn;
	static const char *const sets[] = { "venue.maker_fee_bps=-2", NULL };
	char p[64];
	(void)state;
	tmp_name(p, sizeof(p), "sum_rebate");
	run_inline_once(CHURN_YAML, sets, true, &sn, p);
	unlink(p);
	assert_true(sn.s[0].led.rebates > 0);
	assert_true(sn.s[0].fills > 50);
	assert_int_equal(sn.s[0].refused, 0);
}

/* The inline driver ignores pacing: a rate in the config changes nothing. */
static void test_inline_ignores_rate(void **state)
{
	static struct snap a, b;
	static const char *const paced[] = { "feed.rate=100", NULL };
	char p[64];
	(void)state;
	tmp_name(p, sizeof(p), "sum3");
	run_inline_once(SMA_YAML, NULL, false, &a, p);
	run_inline_once(SMA_YAML, paced, false, &b, p);
	compare_snaps("inline unpaced vs rate 100", &a, &b);
	unlink(p);
}

/* ----------------------------------------------------------- threaded */

struct mode {
	const char *name;
	const char *sets[5];
};

static const struct mode modes[] = {
	{ "dedicated", { "engine.threading=dedicated", NULL } },
	{ "shared w1", { "engine.threading=shared", "engine.workers=1", NULL } },
	{ "shared w1 tick-shares",
	  { "engine.threading=shared", "engine.workers=1", "engine.tick_shares_worker=true", NULL } },
	{ "shared w2", { "engine.threading=shared", "engine.workers=2", NULL } },
	{ "shared w2 tick-shares",
	  { "engine.threading=shared", "engine.workers=2", "engine.tick_shares_worker=true", NULL } },
};

static const char *const waits[] = { "spin", "yield", "adaptive" };

static void run_threaded_case(const char *yaml, const struct mode *m, const char *wait,
			      const char *feed, bool use_churn, struct snap *sn)
{
	const char *sets[MAX_SETS];
	char wait_set[32], label[160];
	size_t n = 0;

	for (size_t i = 0; m->sets[i] != NULL; i++)
		sets[n++] = m->sets[i];
	snprintf(wait_set, sizeof(wait_set), "engine.wait=%s", wait);
	sets[n++] = wait_set;
	if (feed != NULL && strcmp(feed, "synthetic") == 0) {
		sets[n++] = "feed.source=synthetic";
		sets[n++] = "feed.count=20000";
	} else if (feed != NULL) {
		sets[n++] = "feed.source=csv";
	}
	sets[n] = NULL;
	load_cfg(yaml, sets);
	snprintf(label, sizeof(label), "%s, %s, %s, %s", use_churn ? "churn" : "sma", m->name, wait,
		 feed != NULL ? feed : "default feed");
	engine_up(use_churn);
	if (ig_engine_run(&eng) != 0)
		fail_msg("%s: ig_engine_run failed", label);
	check_books(label, true);
	if (sn != NULL)
		take_snap(sn);
	ig_engine_destroy(&eng);
}

static void test_threaded_invariants_sma(void **state)
{
	(void)state;
	for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++)
		for (size_t wi = 0; wi < 3; wi++) {
			run_threaded_case(SMA_YAML, &modes[mi], waits[wi], "csv", false, NULL);
			run_threaded_case(SMA_YAML, &modes[mi], waits[wi], "synthetic", false, NULL);
		}
}

static void test_threaded_invariants_churn(void **state)
{
	static struct snap sn;
	uint64_t fills = 0, cancels = 0;
	(void)state;
	for (size_t mi = 0; mi < sizeof(modes) / sizeof(modes[0]); mi++)
		for (size_t wi = 0; wi < 3; wi++) {
			run_threaded_case(CHURN_YAML, &modes[mi], waits[wi], NULL, true, &sn);
			fills += sn.s[0].fills + sn.s[1].fills;
			cancels += sn.s[0].cancels + sn.s[1].cancels;
			/* The CSV data too (its sizes are small and uneven). */
			if (wi == 2)
				run_threaded_case(CHURN_YAML, &modes[mi], waits[wi], "csv", true, NULL);
		}
	assert_true(fills > 0);
	assert_true(cancels > 0);
}

/* One strategy thread per strategy, more threads than cores. */
static void test_threaded_many_strategy_threads(void **state)
{
	static const struct mode m = { "dedicated, 3 strategy threads",
				       { "engine.threading=dedicated", "engine.strategy_threads=3",
					 "strategies.2.thread=2", NULL } };
	(void)state;
	run_threaded_case(CHURN_YAML, &m, "adaptive", NULL, true, NULL);
	run_threaded_case(SMA_YAML, &m, "adaptive", "csv", false, NULL);
}

/* A small ring forces back-pressure (outbox spills) on every hop. */
static void test_threaded_small_rings_backpressure(void **state)
{
	static const struct mode m = { "dedicated, ring 16",
				       { "engine.threading=dedicated", "engine.ring_size=16", NULL } };
	static const struct mode s = { "shared w1, ring 16",
				       { "engine.threading=shared", "engine.ring_size=16", NULL } };
	(void)state;
	run_threaded_case(CHURN_YAML, &m, "adaptive", NULL, true, NULL);
	run_threaded_case(CHURN_YAML, &s, "yield", NULL, true, NULL);
}

/* ---------------------------------------------------- graceful stop */

struct run_arg {
	int rc;
	bool block_term;
};

static void *run_thread(void *p)
{
	struct run_arg *a = p;
	if (a->block_term) {
		/* SIGTERM stays pending for this thread until the engine's
		 * sigtimedwait takes it, as in the daemon's main thread. */
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	a->rc = ig_engine_run(&eng);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Starts an unbounded synthetic feed at 1000 events/s on a thread, stops
 * it after ~200 ms (request_stop or SIGTERM), and checks the drain. */
static void stop_case(bool by_signal, const char *threading)
{
	static const char *sets[8];
	char th[48];
	struct run_arg arg = { -1, by_signal };
	pthread_t tid;
	uint64_t md;

	snprintf(th, sizeof(th), "engine.threading=%s", threading);
	sets[0] = th;
	sets[1] = "feed.count=0";
	sets[2] = "feed.rate=1000";
	sets[3] = NULL;
	load_cfg(CHURN_YAML, sets);
	engine_up(true);
	assert_int_equal(pthread_create(&tid, NULL, run_thread, &arg), 0);
	/* Wait until a strategy thread has seen data: that also orders the
	 * engine's thread set-up before our reads in ig_engine_request_stop
	 * (a release by that thread, an acquire here). */
	while (!__atomic_load_n(&started_flag, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	sleep_ms(200);
	if (by_signal)
		assert_int_equal(pthread_kill(tid, SIGTERM), 0);
	else
		ig_engine_request_stop(&eng);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(arg.rc, 0);
	/* The feed stopped: the tick agent finished, and what it read is
	 * all that went in. */
	assert_true(eng.tick.feed_done);
	md = eng.md_events;
	assert_true(md > 0);
	assert_int_equal(md, eng.feed.pos);
	assert_int_equal(ig_feed_size(&eng.feed), 0); /* unbounded */
	check_books(by_signal ? "stopped by SIGTERM" : "stopped by request", false);
	/* Stopped, not ended: a second run is not needed to prove it, the
	 * feed cursor says it. */
	assert_true(eng.feed.pos < 1000000);
	ig_engine_destroy(&eng);
}

/* Waits (bounded) for control request id's outcome, as an API thread
 * would. */
static enum ig_oms_ctl_status await_control(uint64_t id)
{
	enum ig_oms_ctl_status st = IG_OMS_CTL_PENDING;
	for (int i = 0; i < 5000 && st == IG_OMS_CTL_PENDING; i++) {
		st = ig_engine_control_status(&eng, id);
		if (st == IG_OMS_CTL_PENDING)
			sleep_ms(1);
	}
	return st;
}

/* Operator controls into a running threaded daemon from another thread
 * (ig_engine_control, as the API will call it): a pause applied on the
 * OMS's thread, its outcome back to the requester, then the kill switch;
 * the summary shows both. */
static void test_threaded_controls(void **state)
{
	static const char *sets[] = { "feed.count=0", "feed.rate=1000", NULL };
	struct ig_oms_ctl_req r = { .cmd = IG_CTL_PAUSE };
	struct run_arg arg = { -1, false };
	pthread_t tid;
	uint64_t id;
	int sid;
	json_t *root, *s0;
	(void)state;
	load_cfg(CHURN_YAML, sets);
	engine_up(true);
	sid = ig_engine_strategy_index(&eng, "churn_a");
	assert_int_equal(sid, 0);
	assert_int_equal(ig_engine_strategy_index(&eng, "nope"), -1);
	assert_int_equal(pthread_create(&tid, NULL, run_thread, &arg), 0);
	while (!__atomic_load_n(&started_flag, __ATOMIC_ACQUIRE))
		sleep_ms(1);
	r.strategy = (uint16_t)sid;
	assert_int_equal(ig_engine_control(&eng, &r, &id), 0);
	assert_int_equal(await_control(id), IG_OMS_CTL_OK);
	assert_int_equal(ig_engine_control(&eng, &r, &id), 0);
	assert_int_equal(await_control(id), IG_OMS_CTL_NO_CHANGE);
	r.strategy = 9;
	assert_int_equal(ig_engine_control(&eng, &r, &id), 0);
	assert_int_equal(await_control(id), IG_OMS_CTL_NOT_FOUND);
	sleep_ms(100);
	r = (struct ig_oms_ctl_req){ .cmd = IG_CTL_KILL_SWITCH, .strategy = IG_STRATEGY_NONE,
				     .arg = 1 };
	assert_int_equal(ig_engine_control(&eng, &r, &id), 0);
	assert_int_equal(await_control(id), IG_OMS_CTL_OK);
	sleep_ms(50);
	ig_engine_request_stop(&eng);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(arg.rc, 0);
	assert_true(eng.oms.s[0].paused);
	assert_false(eng.oms.s[1].paused);
	assert_true(eng.oms.kill_switch);
	root = ig_engine_summary(&eng);
	assert_non_null(root);
	s0 = json_array_get(json_object_get(root, "strategies"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "state")), "paused");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s0, "controls"), "pause")),
			 1);
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(root, "controls"), "kill_switch")),
			 1);
	json_decref(root);
	ig_engine_destroy(&eng);
}

static void test_graceful_stop_request(void **state)
{
	(void)state;
	stop_case(false, "dedicated");
	stop_case(false, "shared");
}

static void test_graceful_stop_sigterm(void **state)
{
	(void)state;
	stop_case(true, "dedicated");
}

/* A stop requested before the run starts: nothing is read, the token still
 * makes its round trip, and the run returns 0. */
static void test_stop_before_run(void **state)
{
	static const char *const sets[] = { "feed.count=0", "feed.rate=1000", NULL };
	(void)state;
	load_cfg(CHURN_YAML, sets);
	engine_up(true);
	ig_engine_request_stop(&eng);
	assert_int_equal(ig_engine_run(&eng), 0);
	assert_int_equal(eng.md_events, 0);
	check_books("stopped before the run", false);
	ig_engine_destroy(&eng);
}

/* -------------------------------------------------------- init errors */

static void test_init_errors_leave_nothing(void **state)
{
	static const char *const bad_symbol[] = { "strategies.0.symbols.0=ETHUSD", NULL };
	static const char *const bad_file[] = { "feed.path=/nonexistent/ig.csv", NULL };
	struct ig_engine_opts opts;
	int rc;
	(void)state;
	memset(&opts, 0, sizeof(opts));

	load_cfg(SMA_YAML, bad_symbol);
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	assert_int_equal(rc, IG_ECONFIG);
	assert_non_null(strstr(err, "ETHUSD"));

	load_cfg(SMA_YAML, bad_file);
	if (tsan_small)
		snprintf(cfg.feed.path, sizeof(cfg.feed.path), "/nonexistent/ig.csv");
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	assert_int_equal(rc, IG_ENOENT);
	assert_non_null(strstr(err, "/nonexistent/ig.csv"));
	/* Nothing to destroy: ASan's leak check at exit proves it. */
}

/* ------------------------------------------------------------- main */

static void chdir_to_root(void)
{
	for (int i = 0; i < 5; i++) {
		if (access("data/README.md", R_OK) == 0)
			return;
		if (chdir("..") != 0)
			return;
	}
}

/* TSan: a copy of the first 1500 quotes. */
static int make_small_csv(void)
{
	FILE *in = fopen(QUOTES_CSV, "r"), *out;
	char line[512];
	int fd, n = 0;

	if (in == NULL)
		return -1;
	snprintf(small_csv, sizeof(small_csv), "/tmp/ig_quotes_XXXXXX.csv");
	fd = mkstemps(small_csv, 4);
	if (fd < 0 || (out = fdopen(fd, "w")) == NULL) {
		fclose(in);
		return -1;
	}
	while (n++ <= 1500 && fgets(line, sizeof(line), in) != NULL)
		fputs(line, out);
	fclose(in);
	fclose(out);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_deterministic_sma_csv),
		cmocka_unit_test(test_inline_deterministic_sma_synthetic),
		cmocka_unit_test(test_inline_deterministic_churn),
		cmocka_unit_test(test_inline_ignores_rate),
		cmocka_unit_test(test_inline_maker_rebate),
		cmocka_unit_test(test_threaded_invariants_sma),
		cmocka_unit_test(test_threaded_invariants_churn),
		cmocka_unit_test(test_threaded_many_strategy_threads),
		cmocka_unit_test(test_threaded_small_rings_backpressure),
		cmocka_unit_test(test_graceful_stop_request),
		cmocka_unit_test(test_threaded_controls),
		cmocka_unit_test(test_graceful_stop_sigterm),
		cmocka_unit_test(test_stop_before_run),
		cmocka_unit_test(test_init_errors_leave_nothing),
	};
	int rc;

	chdir_to_root();
	ig_log_set_level(IG_LOG_ERROR);
	tsan_small = SLOW_SANITIZER == 2;
	if (tsan_small && make_small_csv() != 0) {
		fprintf(stderr, "cannot make the small CSV\n");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (tsan_small)
		unlink(small_csv);
	return rc;
}
