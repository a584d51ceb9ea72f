/*
 * test_host.c - the strategy stage (src/strategy/host.c) and the sma_cross
 * strategy (strategies/sma_cross_strategy.c), driven directly with
 * hand-made events and a capturing ig_emit.
 *
 * Covered: which strategies a host runs, client order ids, the ctx API
 * (submit, market, limit, cancel, position, pending), invalid intents,
 * the read-only mirror of the OMS's books, routing of market data by
 * subscription and of order events by strategy id, timers, FEED_END and
 * on_stop, init errors, and sma_cross's exact crossover signals.
 *
 * A test-only strategy type ("probe") is installed by replacing a ctx's
 * type after init, as test/app/test_engine.c does (no plugin API yet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"
#include "strategy/host.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CAP_MAX 80
#define EPOCH 7
#define T0 INT64_C(1600000000000000000)

struct cap_item {
	struct ig_event ev;
	enum ig_stage dst;
	uint32_t idx;
};

struct cap {
	struct ig_emit emit; /* first: fn casts back */
	uint32_t n;
	struct cap_item it[CAP_MAX];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	if (c->n >= CAP_MAX)
		fail_msg("host emitted more than %d events", CAP_MAX);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->it[c->n].idx = idx;
	c->n++;
}

static struct ig_config cfg; /* large: static */
static struct ig_strategy_host host0, host1;
static bool hosts_up;
static struct cap out;
static char err[IG_CFG_ERR_MAX];
static int64_t t_ms;

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

/* The instrument table: BTCUSD is 0, ETHUSD 1. */
static const char *const symbols[] = { "BTCUSD", "ETHUSD" };

static void param(struct ig_cfg_strategy *s, const char *key, const char *value)
{
	struct ig_cfg_param *p = &s->params[s->nparams++];
	snprintf(p->key, sizeof(p->key), "%s", key);
	snprintf(p->value, sizeof(p->value), "%s", value);
	p->line = 10 + (int)s->nparams;
	p->col = 5;
}

static void strategy(uint32_t i, const char *name, uint32_t thread, const char *symbol,
		     const char *qty)
{
	struct ig_cfg_strategy *s = &cfg.strategies[i];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->type, sizeof(s->type), "sma_cross");
	s->thread = thread;
	snprintf(s->symbols[0], sizeof(s->symbols[0]), "%s", symbol);
	s->nsymbols = 1;
	s->capital = D("1000");
	s->line = 3 + (int)i;
	s->col = 5;
	param(s, "fast", "2");
	param(s, "slow", "4");
	param(s, "qty", qty);
}

/* Three strategies: a (thread 0, BTCUSD), b (thread 1, BTCUSD) and c
 * (thread 0, ETHUSD, allow_short). */
static int setup(void **state)
{
	(void)state;
	ig_log_set_level(IG_LOG_ERROR);
	ig_config_defaults(&cfg);
	snprintf(cfg.file, sizeof(cfg.file), "test_host.yaml");
	cfg.feed.source = IG_FEED_SYNTHETIC;
	snprintf(cfg.feed.symbol, sizeof(cfg.feed.symbol), "BTCUSD");
	cfg.engine.strategy_threads = 2;
	cfg.nstrategies = 3;
	strategy(0, "a", 0, "BTCUSD", "1");
	strategy(1, "b", 1, "BTCUSD", "1");
	strategy(2, "c", 0, "ETHUSD", "0.5");
	param(&cfg.strategies[2], "allow_short", "true");
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_STRATEGY;
	hosts_up = false;
	t_ms = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (hosts_up) {
		ig_strategy_host_destroy(&host0);
		ig_strategy_host_destroy(&host1);
	}
	hosts_up = false;
	return 0;
}

static void start(void)
{
	assert_int_equal(ig_strategy_host_init(&host0, &cfg, 0, EPOCH, symbols, 2, false, err,
					       sizeof(err)),
			 0);
	assert_int_equal(ig_strategy_host_init(&host1, &cfg, 1, EPOCH, symbols, 2, false, err,
					       sizeof(err)),
			 0);
	hosts_up = true;
}

static struct ig_strategy_ctx *ctx_of(struct ig_strategy_host *h, uint16_t id)
{
	for (uint32_t i = 0; i < h->n; i++)
		if (h->ctx[i]->id == id)
			return h->ctx[i];
	fail_msg("strategy %u is not on this host", id);
	return NULL;
}

static void handle(struct ig_strategy_host *h, const struct ig_event *ev)
{
	out.n = 0;
	ig_strategy_host_handle(h, ev, &out.emit);
}

/* A quote with the given mid (spread 0.02) on instrument k. */
static void quote(struct ig_strategy_host *h, uint16_t k, const char *mid)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.instrument_id = k;
	ev.hdr.ts_event_ns = T0 + ++t_ms * 1000000;
	ev.hdr.ts_origin_ns = 5000 + t_ms;
	ev.body.quote.bid_px = D(mid) - D("0.01");
	ev.body.quote.ask_px = D(mid) + D("0.01");
	ev.body.quote.bid_qty = D("1");
	ev.body.quote.ask_qty = D("1");
	handle(h, &ev);
}

static uint64_t cid(uint16_t sid, uint32_t seq)
{
	return IG_CID_MAKE(sid, EPOCH, seq);
}

/* The one intent the last call emitted. */
static const struct ig_event *intent(void)
{
	if (out.n != 1)
		fail_msg("%u events emitted, want one intent", out.n);
	assert_int_equal(out.it[0].dst, IG_STAGE_OMS);
	assert_int_equal(out.it[0].idx, 0);
	assert_int_equal(out.it[0].ev.hdr.src, IG_STAGE_STRATEGY);
	return &out.it[0].ev;
}

/* OMS -> strategy events. */
static void oms_event(struct ig_strategy_host *h, struct ig_event *ev, uint16_t sid, uint16_t type)
{
	ev->hdr.type = type;
	ev->hdr.src = IG_STAGE_OMS;
	ev->hdr.strategy_id = sid;
	handle(h, ev);
}

static void fill_and_position(struct ig_strategy_host *h, uint16_t sid, uint16_t k, uint64_t id,
			      enum ig_side side, const char *px, const char *qty, const char *pos_qty,
			      const char *cash)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = k;
	ev.body.fill.client_id = id;
	ev.body.fill.side = (uint8_t)side;
	ev.body.fill.px = D(px);
	ev.body.fill.qty = D(qty);
	ev.body.fill.trade_id = 1;
	ev.body.fill.last = 1;
	oms_event(h, &ev, sid, IG_EV_FILL);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = k;
	ev.body.position.qty = D(pos_qty);
	ev.body.position.avg_px = D(px);
	ev.body.position.cash = D(cash);
	oms_event(h, &ev, sid, IG_EV_POSITION);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = k;
	ev.body.update.client_id = id;
	ev.body.update.state = IG_OS_FILLED;
	ev.body.update.filled_qty = D(qty);
	oms_event(h, &ev, sid, IG_EV_ORDER_UPDATE);
}

/* ------------------------------------------------------------------ */

static void test_hosts_take_their_strategies(void **state)
{
	struct ig_strategy_ctx *a, *b, *c;
	(void)state;
	start();
	assert_int_equal(host0.n, 2);
	assert_int_equal(host1.n, 1);
	a = ctx_of(&host0, 0);
	c = ctx_of(&host0, 2);
	b = ctx_of(&host1, 1);
	assert_string_equal(ig_ctx_name(a), "a");
	assert_string_equal(ig_ctx_name(b), "b");
	assert_int_equal(ig_ctx_strategy_id(c), 2);
	assert_true(a->subscribed[0] && !a->subscribed[1]);
	assert_true(c->subscribed[1] && !c->subscribed[0]);
	/* The mirror starts flat with the capital as cash. */
	assert_int_equal(ig_ctx_position(a, 0)->cash, D("1000"));
	assert_int_equal(ig_ctx_position(a, 0)->qty, 0);
	/* Out of range instruments read as an empty position. */
	assert_int_equal(ig_ctx_position(a, 200)->qty, 0);
	assert_int_equal(ig_ctx_position(a, 200)->cash, 0);
}

/* sma_cross with fast 2, slow 4: exact integer averages, one market order
 * per crossing, nothing while an order is working. */
static void test_sma_cross_signals_and_mirror(void **state)
{
	const struct ig_event *o;
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);

	/* 10, 10, 10, 10: averages equal, no trend yet. */
	for (int i = 0; i < 4; i++) {
		quote(&host0, 0, "10");
		assert_int_equal(out.n, 0);
	}
	/* 11: fast (10 + 11) / 2 = 10.5 > slow 41 / 4 = 10.25: buy 1. */
	quote(&host0, 0, "11");
	o = intent();
	assert_int_equal(o->hdr.type, IG_EV_ORDER);
	assert_int_equal(o->hdr.strategy_id, 0);
	assert_int_equal(o->hdr.instrument_id, 0);
	assert_int_equal(o->hdr.ts_event_ns, T0 + t_ms * 1000000);
	assert_int_equal(o->hdr.ts_origin_ns, 5000 + t_ms); /* the causing tick's */
	assert_int_equal(o->body.order.client_id, cid(0, 1));
	assert_int_equal(o->body.order.side, IG_SIDE_BUY);
	assert_int_equal(o->body.order.type, IG_ORD_MARKET);
	assert_int_equal(o->body.order.qty, D("1"));
	assert_int_equal(ig_ctx_pending_qty(a, 0, IG_SIDE_BUY), D("1"));
	assert_int_equal(a->intents, 1);
	assert_int_equal(ig_ctx_now_ns(a), T0 + t_ms * 1000000);

	/* 9: fast 10 = slow 10: equal keeps the trend. 7: fast 8 < slow 9.25:
	 * a cross down, but the buy is still working: nothing. */
	quote(&host0, 0, "9");
	assert_int_equal(out.n, 0);
	quote(&host0, 0, "7");
	assert_int_equal(out.n, 0);

	/* The OMS fills it: the mirror follows. */
	fill_and_position(&host0, 0, 0, cid(0, 1), IG_SIDE_BUY, "11.01", "1", "1", "988.99");
	assert_int_equal(out.n, 0); /* sma_cross does not react to fills */
	assert_int_equal(ig_ctx_pending_qty(a, 0, IG_SIDE_BUY), 0);
	assert_int_equal(ig_ctx_position(a, 0)->qty, D("1"));
	assert_int_equal(ig_ctx_position(a, 0)->cash, D("988.99"));

	/* Up again (target 1, held 1: nothing), then down: sell 1. */
	quote(&host0, 0, "12"); /* fast 9.5 vs slow (11+9+7+12)/4 = 9.75: still down */
	assert_int_equal(out.n, 0);
	quote(&host0, 0, "14"); /* fast 13 > slow 10.5: up, already long */
	assert_int_equal(out.n, 0);
	quote(&host0, 0, "5"); /* fast 9.5 < slow 9.5? (7+12+14+5)/4 = 9.5: equal */
	assert_int_equal(out.n, 0);
	quote(&host0, 0, "4"); /* fast 4.5 < slow 8.75: down, sell what we hold */
	o = intent();
	assert_int_equal(o->body.order.side, IG_SIDE_SELL);
	assert_int_equal(o->body.order.qty, D("1"));
	assert_int_equal(o->body.order.client_id, cid(0, 2));

	/* The other host's copy of the same data makes its own decision. */
	for (int i = 0; i < 4; i++)
		quote(&host1, 0, "10");
	quote(&host1, 0, "11");
	o = intent();
	assert_int_equal(o->hdr.strategy_id, 1);
	assert_int_equal(o->body.order.client_id, cid(1, 1));
}

static void test_sma_cross_allow_short_and_subscription(void **state)
{
	const struct ig_event *o;
	(void)state;
	start();
	/* Instrument 0 data does not reach c; instrument 1 data reaches only c. */
	for (int i = 0; i < 4; i++) {
		quote(&host0, 1, "100");
		assert_int_equal(out.n, 0);
	}
	quote(&host0, 1, "99");
	/* c: cross down with allow_short: sell 0.5 from flat. a saw nothing. */
	o = intent();
	assert_int_equal(o->hdr.strategy_id, 2);
	assert_int_equal(o->hdr.instrument_id, 1);
	assert_int_equal(o->body.order.side, IG_SIDE_SELL);
	assert_int_equal(o->body.order.qty, D("0.5"));
	assert_int_equal(ctx_of(&host0, 0)->intents, 0);
	/* Data for an instrument nobody trades reaches nobody. */
	quote(&host0, 5, "1");
	assert_int_equal(out.n, 0);
}

/* ----------------------------------------------------- probe strategy */

struct probe {
	uint64_t quotes, timers, updates, fills, rejects, positions, stops;
	uint64_t last_reject_cid;
	uint16_t last_reject_reason;
	uint64_t ids[8];
	int mode; /* what on_quote does */
};

static struct probe probes[IG_MAX_STRATEGIES];

static void probe_quote(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct probe *p = &probes[ig_ctx_strategy_id(ctx)];
	struct ig_order o;
	(void)st;
	p->quotes++;
	switch (p->mode) {
	case 1: /* invalid intents, then a valid one */
		memset(&o, 0, sizeof(o));
		o.side = IG_SIDE_BUY;
		o.type = IG_ORD_MARKET;
		o.qty = 0;
		p->ids[0] = ig_ctx_submit(ctx, 0, &o); /* no size */
		o.qty = D("1");
		o.side = IG_SIDE_NONE;
		p->ids[1] = ig_ctx_submit(ctx, 0, &o); /* no side */
		o.side = IG_SIDE_BUY;
		p->ids[2] = ig_ctx_limit(ctx, 0, IG_SIDE_BUY, 0, D("1"), IG_TIF_GTC); /* no price */
		p->ids[3] = ig_ctx_market(ctx, IG_MAX_INSTRUMENTS, IG_SIDE_BUY, D("1"));
		o.tif = 9;
		p->ids[4] = ig_ctx_submit(ctx, 0, &o); /* bad tif */
		p->ids[5] = ig_ctx_limit(ctx, 0, IG_SIDE_SELL, D("101"), D("2"), IG_TIF_IOC);
		break;
	case 2: /* one limit order, then cancel it */
		p->ids[0] = ig_ctx_limit(ctx, ev->hdr.instrument_id, IG_SIDE_BUY, D("99"), D("3"),
					 IG_TIF_GTC);
		ig_ctx_cancel(ctx, p->ids[0]);
		break;
	case 3: /* open orders beyond the mirror's capacity */
		for (int i = 0; i < IG_CTX_MAX_OPEN + 1; i++)
			ig_ctx_limit(ctx, 0, IG_SIDE_BUY, D("1"), D("1"), IG_TIF_GTC);
		break;
	default:
		break;
	}
}

static void probe_timer(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ev;
	probes[ig_ctx_strategy_id(ctx)].timers++;
}

static void probe_update(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ev;
	probes[ig_ctx_strategy_id(ctx)].updates++;
}

static void probe_fill(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ev;
	probes[ig_ctx_strategy_id(ctx)].fills++;
}

static void probe_reject(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct probe *p = &probes[ig_ctx_strategy_id(ctx)];
	(void)st;
	p->rejects++;
	p->last_reject_cid = ev->body.reject.client_id;
	p->last_reject_reason = ev->body.reject.reason;
}

static void probe_stop(void *st, struct ig_strategy_ctx *ctx)
{
	(void)st;
	probes[ig_ctx_strategy_id(ctx)].stops++;
	/* Still allowed to act on the way out. */
	ig_ctx_market(ctx, 0, IG_SIDE_SELL, D("1"));
}

static const struct ig_strategy_type probe_type = {
	.name = "probe",
	.on_quote = probe_quote,
	.on_timer = probe_timer,
	.on_order_update = probe_update,
	.on_fill = probe_fill,
	.on_reject = probe_reject,
	.on_stop = probe_stop,
};

static void install_probes(void)
{
	memset(probes, 0, sizeof(probes));
	for (uint32_t i = 0; i < host0.n; i++)
		host0.ctx[i]->type = &probe_type;
	for (uint32_t i = 0; i < host1.n; i++)
		host1.ctx[i]->type = &probe_type;
}

static void test_invalid_intents(void **state)
{
	struct ig_strategy_ctx *a;
	const struct ig_event *o;
	(void)state;
	start();
	install_probes();
	a = ctx_of(&host0, 0);
	probes[0].mode = 1;
	quote(&host0, 0, "100");
	/* Five malformed intents: 0 returned, on_reject(invalid_order) at
	 * once, nothing emitted; the valid one goes out. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(probes[0].ids[i], 0);
	assert_int_equal(probes[0].rejects, 5);
	assert_int_equal(probes[0].last_reject_reason, IG_RJ_INVALID);
	o = intent();
	assert_int_equal(o->body.order.client_id, probes[0].ids[5]);
	assert_int_equal(o->body.order.type, IG_ORD_LIMIT);
	assert_int_equal(o->body.order.tif, IG_TIF_IOC);
	assert_int_equal(o->body.order.px, D("101"));
	/* Malformed intents use up a sequence number each: ids stay unique. */
	assert_int_equal(probes[0].ids[5], cid(0, 6));
	assert_int_equal(a->intents, 1);
	assert_int_equal(ig_ctx_pending_qty(a, 0, IG_SIDE_SELL), D("2"));
	/* Outside a callback there is nothing to emit through. */
	assert_int_equal(ig_ctx_market(a, 0, IG_SIDE_BUY, D("1")), 0);
	assert_int_equal(a->intents, 1);
}

static void test_cancel_and_order_event_routing(void **state)
{
	struct ig_event ev;
	struct ig_strategy_ctx *c;
	(void)state;
	start();
	install_probes();
	c = ctx_of(&host0, 2);
	probes[2].mode = 2;
	quote(&host0, 1, "100");
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_CANCEL);
	assert_int_equal(out.it[1].ev.hdr.strategy_id, 2);
	assert_int_equal(out.it[1].ev.hdr.instrument_id, 1); /* from the mirror */
	assert_int_equal(out.it[1].ev.body.cancel.client_id, probes[2].ids[0]);
	assert_int_equal(c->cancels, 1);
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_BUY), D("3"));

	/* Order events reach their own strategy only. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = 1;
	ev.body.update.client_id = probes[2].ids[0];
	ev.body.update.state = IG_OS_PARTIALLY_FILLED;
	oms_event(&host0, &ev, 2, IG_EV_ORDER_UPDATE);
	assert_int_equal(probes[2].updates, 1);
	assert_int_equal(probes[0].updates, 0);
	/* A partial fill reduces what is pending. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = 1;
	ev.body.fill.client_id = probes[2].ids[0];
	ev.body.fill.qty = D("1");
	ev.body.fill.side = IG_SIDE_BUY;
	oms_event(&host0, &ev, 2, IG_EV_FILL);
	assert_int_equal(probes[2].fills, 1);
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_BUY), D("2"));
	/* CANCELED ends it. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = 1;
	ev.body.update.client_id = probes[2].ids[0];
	ev.body.update.state = IG_OS_CANCELED;
	oms_event(&host0, &ev, 2, IG_EV_ORDER_UPDATE);
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_BUY), 0);
	/* An order recovered (or adopted) by the OMS joins the mirror: the
	 * strategy sees it as its own, with what is left of it. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.instrument_id = 1;
	ev.hdr.flags = IG_EVF_ADOPT;
	ev.body.update.client_id = UINT64_C(0x0002000500000007);
	ev.body.update.state = IG_OS_PARTIALLY_FILLED;
	ev.body.update.side = IG_SIDE_SELL;
	ev.body.update.leaves_qty = D("0.25");
	oms_event(&host0, &ev, 2, IG_EV_ORDER_UPDATE);
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_SELL), D("0.25"));
	oms_event(&host0, &ev, 2, IG_EV_ORDER_UPDATE); /* announced twice: once in the mirror */
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_SELL), D("0.25"));
	ev.hdr.flags = 0;
	ev.body.update.state = IG_OS_CANCELED;
	oms_event(&host0, &ev, 2, IG_EV_ORDER_UPDATE);
	assert_int_equal(ig_ctx_pending_qty(c, 1, IG_SIDE_SELL), 0);
	/* Events for a strategy that is not on this host are dropped. */
	oms_event(&host0, &ev, 1, IG_EV_ORDER_UPDATE);
	assert_int_equal(probes[1].updates, 0);
	assert_int_equal(out.n, 0);
	/* A reject ends a pending intent too. */
	probes[0].mode = 2;
	quote(&host0, 0, "100");
	memset(&ev, 0, sizeof(ev));
	ev.body.reject.client_id = probes[0].ids[0];
	ev.body.reject.reason = IG_RJ_MAX_ORDER_QTY;
	oms_event(&host0, &ev, 0, IG_EV_REJECT);
	assert_int_equal(probes[0].rejects, 1);
	assert_int_equal(probes[0].last_reject_reason, IG_RJ_MAX_ORDER_QTY);
	assert_int_equal(ig_ctx_pending_qty(ctx_of(&host0, 0), 0, IG_SIDE_BUY), 0);
}

static void test_mirror_overflow_counted(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	install_probes();
	a = ctx_of(&host0, 0);
	probes[0].mode = 3;
	quote(&host0, 0, "100");
	/* Every intent still goes out; the one the mirror cannot hold is
	 * counted. */
	assert_int_equal(out.n, IG_CTX_MAX_OPEN + 1);
	assert_int_equal(a->mirror_overflow, 1);
	assert_int_equal(ig_ctx_pending_qty(a, 0, IG_SIDE_BUY), IG_FIXED(IG_CTX_MAX_OPEN));
}

static void test_timer_and_feed_end(void **state)
{
	struct ig_event ev;
	(void)state;
	start();
	install_probes();
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_TIMER;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.timer.count = 1;
	handle(&host0, &ev);
	assert_int_equal(probes[0].timers, 1);
	assert_int_equal(probes[2].timers, 1);
	assert_int_equal(probes[1].timers, 0);
	assert_int_equal(out.n, 0);

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_FEED_END;
	handle(&host1, &ev);
	/* on_stop ran (and its last order went out before the token), then
	 * the token goes to the OMS tagged with the thread. */
	assert_int_equal(probes[1].stops, 1);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(out.it[1].dst, IG_STAGE_OMS);
	assert_int_equal(out.it[1].ev.hdr.type, IG_EV_CONTROL);
	assert_int_equal(out.it[1].ev.body.control.cmd, IG_CTL_FEED_END);
	assert_int_equal(out.it[1].ev.body.control.arg, 1);
	assert_int_equal(out.it[1].ev.hdr.strategy_id, IG_STRATEGY_NONE);
	assert_true(host1.stopped);
	/* A second token is passed on, without a second on_stop. */
	handle(&host1, &ev);
	assert_int_equal(probes[1].stops, 1);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.body.control.cmd, IG_CTL_FEED_END);
}

static void expect_init_error(const char *want)
{
	int rc = ig_strategy_host_init(&host0, &cfg, 0, EPOCH, symbols, 2, false, err, sizeof(err));
	assert_int_equal(rc, IG_ECONFIG);
	if (strstr(err, want) == NULL)
		fail_msg("init error \"%s\" does not contain \"%s\"", err, want);
	assert_int_equal(host0.n, 0); /* nothing left to undo */
}

static void test_init_errors(void **state)
{
	(void)state;
	snprintf(cfg.strategies[2].type, IG_CFG_NAME_MAX, "no_such_type");
	expect_init_error("test_host.yaml:5:5: strategies.2.type: unknown strategy type \"no_such_type\"");
	snprintf(cfg.strategies[2].type, IG_CFG_NAME_MAX, "sma_cross");

	snprintf(cfg.strategies[2].symbols[0], IG_CFG_NAME_MAX, "XRPUSD");
	expect_init_error("strategies.2.symbols.0: unknown symbol \"XRPUSD\"");
	snprintf(cfg.strategies[2].symbols[0], IG_CFG_NAME_MAX, "ETHUSD");

	/* fast >= slow: the strategy's own check, located at the entry. */
	snprintf(cfg.strategies[0].params[0].value, sizeof(cfg.strategies[0].params[0].value), "4");
	expect_init_error("test_host.yaml:3:5: strategies.0.params: need 1 <= fast < slow");
	/* A param of the wrong type: located at the param. */
	snprintf(cfg.strategies[0].params[0].value, sizeof(cfg.strategies[0].params[0].value), "x");
	expect_init_error("test_host.yaml:11:5: strategies.0.params.fast");
	snprintf(cfg.strategies[0].params[0].value, sizeof(cfg.strategies[0].params[0].value), "2");
	snprintf(cfg.strategies[0].params[2].value, sizeof(cfg.strategies[0].params[2].value), "0");
	expect_init_error("qty must be > 0");
}

/* ------------------------------------------------ SDK: lifecycle, timers */

#define LOG_MAX 32

struct clock_log {
	char kind;          /* 's' start, 'q' quote, 't' timer, 'x' stop */
	int64_t ts_ns;      /* ig_ctx_now_ns in the callback */
	int64_t ev_ts_ns;   /* the event's ts_event_ns (0 for hooks) */
	uint32_t timer_id;
	uint64_t tag;
	uint64_t count;
};

static struct clock_log cklog[LOG_MAX];
static int ncklog, destroys, cancel_id;
static uint64_t start_cid;

static void cklog_add(char kind, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	if (ncklog >= LOG_MAX)
		fail_msg("clock log full");
	cklog[ncklog].kind = kind;
	cklog[ncklog].ts_ns = ig_ctx_now_ns(ctx);
	cklog[ncklog].ev_ts_ns = ev != NULL ? ev->hdr.ts_event_ns : 0;
	cklog[ncklog].timer_id = ev != NULL ? ev->body.timer.timer_id : 0;
	cklog[ncklog].tag = ev != NULL ? ev->body.timer.tag : 0;
	cklog[ncklog].count = ev != NULL ? ev->body.timer.count : 0;
	ncklog++;
}

static void clock_start(void *st, struct ig_strategy_ctx *ctx)
{
	(void)st;
	cklog_add('s', ctx, NULL);
	/* Every second from now (T0), once at T0 + 2.5 s, and one at T0 +
	 * 1.5 s that is cancelled before it fires. */
	assert_true(ig_ctx_timer_every(ctx, 1000, 1) > 0);
	assert_true(ig_ctx_timer_at(ctx, T0 + 2500000000, 2) > 0);
	cancel_id = ig_ctx_timer_at(ctx, T0 + 1500000000, 3);
	assert_true(cancel_id > 0);
	assert_int_equal(ig_ctx_timer_cancel(ctx, cancel_id), 0);
	assert_int_equal(ig_ctx_timer_cancel(ctx, cancel_id), IG_ENOTFOUND);
	assert_int_equal(ig_ctx_timer_every(ctx, 0, 9), IG_EINVAL);
	/* on_start may trade. */
	start_cid = ig_ctx_market(ctx, 0, IG_SIDE_BUY, D("1"));
}

static void clock_quote(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ev;
	cklog_add('q', ctx, NULL);
}

static void clock_timer(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	cklog_add('t', ctx, ev);
}

static void clock_stop(void *st, struct ig_strategy_ctx *ctx)
{
	(void)st;
	cklog_add('x', ctx, NULL);
}

static void clock_destroy(void *st)
{
	(void)st;
	destroys++;
}

static const struct ig_strategy_type clock_type = {
	.name = "clock",
	.on_quote = clock_quote,
	.on_timer = clock_timer,
	.on_stop = clock_stop,
	.on_start = clock_start,
	.destroy = clock_destroy,
};

/* A quote on instrument 0 at data time ts_ns. */
static void quote_at(struct ig_strategy_host *h, int64_t ts_ns)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.hdr.ts_event_ns = ts_ns;
	ev.hdr.ts_origin_ns = 77;
	ev.body.quote.bid_px = D("100");
	ev.body.quote.ask_px = D("100.02");
	handle(h, &ev);
}

static void expect_timer(int i, int64_t due_ns, uint64_t tag, uint64_t count)
{
	assert_int_equal(cklog[i].kind, 't');
	assert_int_equal(cklog[i].ev_ts_ns, due_ns); /* data time: the timer's own */
	assert_int_equal(cklog[i].ts_ns, due_ns);
	assert_int_equal(cklog[i].tag, tag);
	assert_int_equal(cklog[i].count, count);
	assert_true(cklog[i].timer_id > 0);
}

/* on_start runs once, first, and may submit and set timers; timers fire in
 * data time, in time order, before the event that passes them; a
 * cancelled one never fires; destroy runs at host destroy. */
static void test_on_start_timers_data_time(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	/* Only strategy a runs the clock; c keeps sma_cross. */
	a->type = &clock_type;
	ncklog = 0;
	destroys = 0;

	quote_at(&host0, T0);
	/* on_start, then the quote; on_start's order went out first. */
	assert_int_equal(ncklog, 2);
	assert_int_equal(cklog[0].kind, 's');
	assert_int_equal(cklog[0].ts_ns, T0);
	assert_int_equal(cklog[1].kind, 'q');
	assert_int_not_equal(start_cid, 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(out.it[0].ev.body.order.client_id, start_cid);
	assert_int_equal(out.it[0].ev.hdr.ts_origin_ns, 77);

	/* Nothing is due before T0 + 1 s. */
	quote_at(&host0, T0 + 999999999);
	assert_int_equal(ncklog, 3);
	/* T0 + 3.2 s: every@1 s, every@2 s, at@2.5 s, every@3 s, then the quote. */
	quote_at(&host0, T0 + 3200000000);
	assert_int_equal(ncklog, 8);
	expect_timer(3, T0 + 1000000000, 1, 1);
	expect_timer(4, T0 + 2000000000, 1, 2);
	expect_timer(5, T0 + 2500000000, 2, 1);
	expect_timer(6, T0 + 3000000000, 1, 3);
	assert_int_equal(cklog[7].kind, 'q');
	assert_int_equal(cklog[7].ts_ns, T0 + 3200000000);
	assert_true(cklog[3].timer_id != cklog[5].timer_id);
	assert_true(cklog[3].timer_id != (uint32_t)cancel_id && cklog[5].timer_id != (uint32_t)cancel_id);
	assert_int_equal(a->timers_fired, 4);
	/* on_start ran once. */
	for (int i = 1; i < ncklog; i++)
		assert_int_not_equal(cklog[i].kind, 's');
	/* A timer at the same time as an event fires before it. */
	quote_at(&host0, T0 + 4000000000);
	assert_int_equal(ncklog, 10);
	expect_timer(8, T0 + 4000000000, 1, 4);
	assert_int_equal(cklog[9].kind, 'q');

	ig_strategy_host_destroy(&host0);
	assert_int_equal(destroys, 1);
	ig_strategy_host_destroy(&host1);
	hosts_up = false;
}

/* Calls that act outside a callback are refused, counted and logged: not
 * silently 0. Timers need on_timer and are capped. */
static void test_ctx_misuse_and_limits(void **state)
{
	struct ig_strategy_ctx *a, *c;
	int ids[IG_CTX_MAX_TIMERS];
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	c = ctx_of(&host0, 2);
	assert_int_equal(a->ctx_misuse, 0);
	assert_int_equal(ig_ctx_market(a, 0, IG_SIDE_BUY, D("1")), 0);
	assert_int_equal(ig_ctx_limit(a, 0, IG_SIDE_BUY, D("1"), D("1"), IG_TIF_GTC), 0);
	ig_ctx_cancel(a, 5);
	assert_int_equal(ig_ctx_timer_every(a, 1000, 0), IG_ESTATE);
	assert_int_equal(ig_ctx_timer_at(a, T0, 0), IG_ESTATE);
	assert_int_equal(ig_ctx_timer_cancel(a, 1), IG_ESTATE);
	assert_int_equal(a->ctx_misuse, 6);
	assert_int_equal(ig_strategy_host_misuse(&host0, 0), 6);
	assert_int_equal(ig_strategy_host_misuse(&host0, 2), 0);
	assert_true(a->misuse_logged);
	assert_int_equal(a->intents, 0);
	assert_int_equal(a->cancels, 0);

	/* Inside a callback (faked: the host sets out while one runs): sma_cross
	 * has no on_timer, so timers are refused. */
	c->out = &out.emit;
	assert_int_equal(ig_ctx_timer_every(c, 1000, 0), IG_EINVAL);
	c->type = &clock_type;
	c->now_ns = T0;
	for (int i = 0; i < IG_CTX_MAX_TIMERS; i++) {
		ids[i] = ig_ctx_timer_at(c, T0 + i, 0);
		assert_true(ids[i] > 0);
	}
	assert_int_equal(ig_ctx_timer_at(c, T0, 0), IG_ELIMIT);
	assert_int_equal(ig_ctx_timer_cancel(c, ids[3]), 0);
	assert_true(ig_ctx_timer_at(c, T0, 0) > 0);
	c->out = NULL;
	assert_int_equal(c->ctx_misuse, 0);
}

static void test_ctx_instrument_and_symbol(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	assert_int_equal(ig_ctx_instrument(a, "BTCUSD"), 0);
	assert_int_equal(ig_ctx_instrument(a, "ETHUSD"), 1);
	assert_int_equal(ig_ctx_instrument(a, "XRPUSD"), IG_ENOTFOUND);
	assert_string_equal(ig_ctx_symbol(a, 1), "ETHUSD");
	assert_null(ig_ctx_symbol(a, 2));
	assert_null(ig_ctx_symbol(a, 200));
}


/* ------------------------------------- review: after stop, other threads */

static int late_orders;

static void late_timer(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ev;
	/* A periodic re-quoter: every timer places an order. */
	if (ig_ctx_market(ctx, 0, IG_SIDE_BUY, D("1")) != 0)
		late_orders++;
}

static void late_start(void *st, struct ig_strategy_ctx *ctx)
{
	(void)st;
	assert_true(ig_ctx_timer_every(ctx, 1000, 1) > 0);
}

static const struct ig_strategy_type late_type = {
	.name = "late",
	.on_timer = late_timer,
	.on_start = late_start,
};

/* After FEED_END (on_stop ran, the token went to the OMS, which sweeps the
 * venue with cancel_on_stop) a strategy's timers must not fire any more:
 * the OMS feedback that keeps arriving (the sweep's cancel confirmations)
 * would otherwise fire them, and an order placed from on_timer would reach
 * the venue behind the token, after the sweep, working at a venue nobody
 * watches once the process exits. */
static void test_no_timers_after_feed_end(void **state)
{
	struct ig_strategy_ctx *a;
	struct ig_event ev;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	a->type = &late_type;
	late_orders = 0;
	quote_at(&host0, T0); /* on_start: every second from T0 */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_TICK;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_FEED_END;
	handle(&host0, &ev);
	assert_true(host0.stopped);
	assert_int_equal(late_orders, 0);
	/* The cancel sweep's confirmation, well past the timer's due time. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.ts_event_ns = T0 + INT64_C(5000000000);
	ev.body.update.client_id = cid(0, 99);
	ev.body.update.state = IG_OS_CANCELED;
	oms_event(&host0, &ev, 0, IG_EV_ORDER_UPDATE);
	assert_int_equal(late_orders, 0);
	for (uint32_t i = 0; i < out.n; i++)
		assert_int_not_equal(out.it[i].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(a->timers_fired, 0);
}

/* A recovery: the host holds every callback until the OMS has sent each of
 * its strategies IG_CTL_RECOVERED, applying the recovered positions to the
 * mirrors meanwhile, so on_start sees the recovered position instead of 0
 * (a "buy if flat" on_start would otherwise double it). Market data before
 * that is not delivered. */
static int recov_starts, recov_quotes;
static int64_t recov_seen_qty[IG_MAX_STRATEGIES];

static void recov_start(void *st, struct ig_strategy_ctx *ctx)
{
	(void)st;
	recov_starts++;
	recov_seen_qty[ig_ctx_strategy_id(ctx)] = ig_ctx_position(ctx, 0)->qty;
}

static void recov_quote(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	(void)ev;
	recov_quotes++;
}

static const struct ig_strategy_type recov_type = {
	.name = "recov",
	.on_quote = recov_quote,
	.on_start = recov_start,
};

static void recovered(struct ig_strategy_host *h, uint16_t sid)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.body.control.cmd = IG_CTL_RECOVERED;
	oms_event(h, &ev, sid, IG_EV_CONTROL);
}

static void test_on_start_waits_for_recovery(void **state)
{
	struct ig_event ev;
	(void)state;
	start();
	ctx_of(&host0, 0)->type = &recov_type;
	ctx_of(&host0, 2)->type = &recov_type;
	recov_starts = recov_quotes = 0;
	memset(recov_seen_qty, 0, sizeof(recov_seen_qty));
	ig_strategy_host_await_recovery(&host0);

	quote(&host0, 0, "100"); /* the tick may be first: held */
	assert_int_equal(recov_starts, 0);
	assert_int_equal(recov_quotes, 0);
	assert_int_equal(out.n, 0);
	memset(&ev, 0, sizeof(ev));
	ev.hdr.flags = IG_EVF_ADOPT;
	ev.body.position.qty = D("2");
	ev.body.position.cash = D("500");
	oms_event(&host0, &ev, 0, IG_EV_POSITION);
	recovered(&host0, 0);
	assert_int_equal(recov_starts, 0); /* strategy 2 has not had its own yet */
	assert_int_equal(ig_ctx_position(ctx_of(&host0, 0), 0)->qty, D("2"));
	recovered(&host0, 2);
	assert_int_equal(recov_starts, 2);
	assert_int_equal(recov_seen_qty[0], D("2"));
	assert_int_equal(recov_seen_qty[2], 0);
	assert_int_equal(host0.md_held, 1);
	quote(&host0, 0, "101");
	assert_int_equal(recov_quotes, 1);
	assert_int_equal(recov_starts, 2);
}

/* IG_CTL_PARAMS for sid: qty (param index 2 of sma_cross) = qty_1e8;
 * flags IG_EVF_ADOPT for a recovery's hand-over. */
static void params_ev(struct ig_strategy_host *h, uint16_t sid, uint8_t flags, uint16_t index,
		      int64_t value)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.flags = flags;
	ev.body.params.cmd = IG_CTL_PARAMS;
	ev.body.params.n = 1;
	ev.body.params.index[0] = index;
	ev.body.params.value[0] = value;
	oms_event(h, &ev, sid, IG_EV_CONTROL);
}

static void params_qty(struct ig_strategy_host *h, uint16_t sid, int64_t qty_1e8)
{
	params_ev(h, sid, 0, 2, qty_1e8);
}

/* The one event emitted must be the verdict cmd for sid (echoing value
 * at entry 0); clears the capture. */
static void verdict(uint16_t sid, uint16_t cmd, int64_t value)
{
	if (out.n != 1)
		fail_msg("%u events emitted, want one verdict", out.n);
	assert_int_equal(out.it[0].dst, IG_STAGE_OMS);
	assert_int_equal(out.it[0].ev.hdr.type, IG_EV_CONTROL);
	assert_int_equal(out.it[0].ev.hdr.src, IG_STAGE_STRATEGY);
	assert_int_equal(out.it[0].ev.hdr.strategy_id, sid);
	assert_int_equal(out.it[0].ev.body.params.cmd, cmd);
	assert_int_equal(out.it[0].ev.body.params.value[0], value);
	out.n = 0;
}

/* New params while running reach on_params through the strategy's own
 * copy of its config (the shared config is untouched), and the OMS gets
 * the verdict: sma_cross a's next order has the new qty; b (same type,
 * other host) keeps its own. */
static void test_params_live(void **state)
{
	const struct ig_event *o;
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	for (int i = 0; i < 4; i++)
		quote(&host0, 0, "10");
	params_qty(&host0, 0, D("3"));
	verdict(0, IG_CTL_PARAMS_APPLIED, D("3"));
	assert_int_equal(a->params_applied, 1);
	assert_string_equal(ig_config_param(a->live_cfg, "qty")->value, "3");
	assert_string_equal(ig_config_param(&cfg.strategies[0], "qty")->value, "1");
	/* A params event for a strategy of another host changes nothing here. */
	params_qty(&host0, 1, D("5"));
	assert_int_equal(out.n, 0);
	assert_int_equal(a->params_applied, 1);
	quote(&host0, 0, "11");
	o = intent();
	assert_int_equal(o->body.order.side, IG_SIDE_BUY);
	assert_int_equal(o->body.order.qty, D("3"));
}

/* A recovery hands the values in force over before IG_CTL_RECOVERED
 * (IG_EVF_ADOPT): in force from on_start on (on_params runs right after
 * it), no verdict. An operator's change that arrives while the host
 * holds gets its verdict once delivered. */
static void test_params_before_start(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	ig_strategy_host_await_recovery(&host0);
	params_ev(&host0, 0, IG_EVF_ADOPT, 2, D("2.5"));
	assert_int_equal(a->params_applied, 0); /* not before on_start */
	recovered(&host0, 0);
	recovered(&host0, 2);
	assert_int_equal(a->params_applied, 1);
	assert_int_equal(out.n, 0); /* a hand-over: no verdict */
	for (int i = 0; i < 4; i++)
		quote(&host0, 0, "10");
	quote(&host0, 0, "11");
	assert_int_equal(intent()->body.order.qty, D("2.5"));
}

/* Values that do not fit the declaration (a journal of another build of
 * the type) are refused whole before on_params, the values in force
 * kept; an operator's change gets REFUSED. */
static void test_params_out_of_bounds_refused(void **state)
{
	struct ig_strategy_ctx *a;
	struct ig_event ev;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	quote(&host0, 0, "10");
	memset(&ev, 0, sizeof(ev));
	ev.body.params.cmd = IG_CTL_PARAMS;
	ev.body.params.n = 2;
	ev.body.params.index[0] = 2; /* qty: in range */
	ev.body.params.value[0] = D("3");
	ev.body.params.index[1] = 1; /* slow: over its max 4096 */
	ev.body.params.value[1] = 5000;
	oms_event(&host0, &ev, 0, IG_EV_CONTROL);
	verdict(0, IG_CTL_PARAMS_REFUSED, D("3"));
	assert_int_equal(a->params_applied, 0);
	assert_string_equal(ig_config_param(a->live_cfg, "slow")->value, "4");
	assert_string_equal(ig_config_param(a->live_cfg, "qty")->value, "1");
	/* Under the min: the same; a hand-over too (no verdict). */
	params_qty(&host0, 0, 0);
	verdict(0, IG_CTL_PARAMS_REFUSED, 0);
	params_ev(&host0, 0, IG_EVF_ADOPT, 2, 0);
	assert_int_equal(out.n, 0);
	params_ev(&host0, 0, 0, 9, 1); /* not declared */
	verdict(0, IG_CTL_PARAMS_REFUSED, 1);
	assert_int_equal(a->params_applied, 0);
	assert_string_equal(ig_config_param(a->live_cfg, "qty")->value, "1");
	/* A good change still goes through afterwards. */
	params_qty(&host0, 0, D("3"));
	verdict(0, IG_CTL_PARAMS_APPLIED, D("3"));
	assert_int_equal(a->params_applied, 1);
	assert_string_equal(ig_config_param(a->live_cfg, "qty")->value, "3");
}

/* A change each value of which fits its declaration but whose
 * combination the strategy refuses (sma_cross: fast >= slow): on_params
 * returns an error, the config copy goes back to the accepted values
 * and the OMS gets REFUSED (it keeps nothing). The operator's next
 * change is not poisoned by the refused value. (Review finding: before,
 * the refused value stayed in the copy and every later change was
 * refused too.) */
static void test_params_refused_combination_poisons_later_changes(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	quote(&host0, 0, "10");
	params_ev(&host0, 0, 0, 0, 6); /* fast = 6, slow is 4: refused by sma_cross */
	verdict(0, IG_CTL_PARAMS_REFUSED, 6);
	assert_string_equal(ig_config_param(a->live_cfg, "fast")->value, "2");
	params_qty(&host0, 0, D("3")); /* the operator's next change */
	verdict(0, IG_CTL_PARAMS_APPLIED, D("3"));
	for (int i = 0; i < 3; i++)
		quote(&host0, 0, "10");
	quote(&host0, 0, "11");
	assert_int_equal(intent()->body.order.qty, D("3"));
}

struct foreign_call {
	struct ig_strategy_ctx *ctx;
	uint64_t id;
};

static void *foreign_thread(void *arg)
{
	struct foreign_call *fc = arg;
	fc->id = ig_ctx_market(fc->ctx, 0, IG_SIDE_BUY, D("1"));
	return NULL;
}

static void foreign_quote(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	struct foreign_call fc = { ctx, 0 };
	pthread_t t;
	(void)st;
	(void)ev;
	/* A plugin that hands the ctx to a thread of its own, which calls it
	 * while this callback runs (joined here, so the test is
	 * deterministic). */
	assert_int_equal(pthread_create(&t, NULL, foreign_thread, &fc), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	late_orders = fc.id != 0 ? 1 : 0;
}

static const struct ig_strategy_type foreign_type = {
	.name = "foreign",
	.on_quote = foreign_quote,
};

/* The ctx belongs to the strategy's thread: a call from another thread
 * would push into the strategy -> OMS SPSC ring from a second producer
 * (orders lost or torn). While a callback runs on the owner, such a call
 * passed the misuse check (c->out is set); it must be refused and counted
 * like any other misuse. */
static void test_ctx_from_another_thread_refused(void **state)
{
	struct ig_strategy_ctx *a;
	(void)state;
	start();
	a = ctx_of(&host0, 0);
	a->type = &foreign_type;
	late_orders = -1;
	quote_at(&host0, T0);
	assert_int_equal(late_orders, 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(a->intents, 0);
	assert_int_equal(a->ctx_misuse, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_hosts_take_their_strategies),
		T(test_sma_cross_signals_and_mirror),
		T(test_sma_cross_allow_short_and_subscription),
		T(test_invalid_intents),
		T(test_cancel_and_order_event_routing),
		T(test_mirror_overflow_counted),
		T(test_timer_and_feed_end),
		T(test_init_errors),
		T(test_on_start_timers_data_time),
		T(test_ctx_misuse_and_limits),
		T(test_ctx_instrument_and_symbol),
		T(test_on_start_waits_for_recovery),
		T(test_params_live),
		T(test_params_before_start),
		T(test_params_out_of_bounds_refused),
		T(test_params_refused_combination_poisons_later_changes),
		T(test_no_timers_after_feed_end),
		T(test_ctx_from_another_thread_refused),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
