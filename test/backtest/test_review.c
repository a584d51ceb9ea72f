/*
 * test_review.c - hostile review of issue 12 (backtest fill semantics).
 * Every test here states what docs/backtesting.md promises and FAILS on
 * main as of c43aa65: each is a defect reproduction, not a regression
 * test of current behaviour.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "config/config.h"
#include "core/emit.h"
#include "core/evflags.h"
#include "core/log.h"
#include "exec/paper.h"
#include "oms/oms.h"
#include "oms/risk.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"
#include "strategy/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_NS INT64_C(60000000000)
#define CAP_MAX 1024

/* ------------------------------------------------------ venue harness */

struct cap {
	struct ig_emit emit;
	uint32_t n;
	struct ig_event ev[CAP_MAX];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	(void)dst;
	(void)idx;
	if (c->n >= CAP_MAX)
		fail_msg("venue emitted more than %d events", CAP_MAX);
	c->ev[c->n++] = *ev;
}

static struct ig_paper paper;
static struct cap out;
static int64_t clock_ns;
static char tmpdir[64];
static int64_t send_ts; /* 0: the latest bar's time */
static int64_t send_stop_px; /* stop_px of the next send() (no IG_EVF_RELEASED) */

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static int setup(void **state)
{
	(void)state;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;
	/* realistic data time: 2024-01-02 */
	clock_ns = INT64_C(1704153600) * INT64_C(1000000000);
	return ig_paper_init(&paper, 0, 10);
}

static int teardown(void **state)
{
	(void)state;
	ig_paper_destroy(&paper);
	return 0;
}

static void bar(const char *o, const char *h, const char *l, const char *c, const char *vol)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_BAR;
	clock_ns += MIN_NS;
	ev.hdr.ts_event_ns = clock_ns;
	ev.body.bar.open_px = D(o);
	ev.body.bar.high_px = D(h);
	ev.body.bar.low_px = D(l);
	ev.body.bar.close_px = D(c);
	ev.body.bar.volume = D(vol);
	ev.body.bar.period_ns = MIN_NS;
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static void quote(const char *bid, const char *bq, const char *ask, const char *aq)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_QUOTE;
	clock_ns += 1000000000;
	ev.hdr.ts_event_ns = clock_ns;
	ev.body.quote.bid_px = D(bid);
	ev.body.quote.bid_qty = D(bq);
	ev.body.quote.ask_px = D(ask);
	ev.body.quote.ask_qty = D(aq);
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static void send(uint64_t cid, enum ig_side side, enum ig_ord_type type, const char *px,
		 const char *qty, uint8_t flags, enum ig_tif tif)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.strategy_id = 1;
	ev.hdr.ts_event_ns = send_ts != 0 ? send_ts : clock_ns;
	ev.body.order.client_id = cid;
	ev.body.order.side = (uint8_t)side;
	ev.body.order.type = (uint8_t)type;
	ev.body.order.tif = (uint8_t)tif;
	ev.body.order.flags = flags;
	ev.body.order.px = px != NULL ? D(px) : 0;
	ev.body.order.qty = D(qty);
	ev.body.order.stop_px = send_stop_px;
	out.n = 0;
	ig_paper_submit(&paper, &ev, &out.emit);
}

static uint32_t nfills(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out.n; i++)
		n += out.ev[i].hdr.type == IG_EV_FILL;
	return n;
}

static uint32_t nrejects(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out.n; i++)
		n += out.ev[i].hdr.type == IG_EV_REJECT;
	return n;
}

static const struct ig_fill *fill_k(uint32_t k)
{
	for (uint32_t i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_FILL && k-- == 0)
			return &out.ev[i].body.fill;
	fail_msg("no fill %u among %u reports", k, out.n);
	return NULL;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[160];
	FILE *f;
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ig_review_XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* ------------------------------------------------------- venue tests */

/* R4. venue.latency_ms accepts up to INT64_MAX/1e6 ms (config.c MS_MAX),
 * "milliseconds that still fit in ns"; but paper.c:490 adds the delay to
 * the send time (a 2024 data time, ~1.7e18 ns) without overflow check:
 * signed overflow (UB), in practice arrive_ns wraps negative and the order
 * that should be in flight for ~292 years arrives on the very next bar. */
static void test_huge_latency_overflows(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.latency_ns = (INT64_MAX / 1000000) * 1000000; /* latency_ms: MS_MAX */
	ig_paper_configure(&paper, &prm);
	bar("100", "101", "99", "100", "1");
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, IG_TIF_GTC);
	bar("101", "102", "100", "101", "1");
	if (nfills() != 0)
		fail_msg("an order delayed by ~292 years filled on the next bar at %lld "
			 "(arrive_ns overflowed to %lld)",
			 (long long)fill_k(0)->px, (long long)paper.orders[0].arrive_ns);
}

/* R4b. The same through latency_from: upper_ns is any non-negative int64.
 * (Adjusted to the lead's decision: a bucket above the most a delay may be,
 * one day, is refused at start, naming the file and the key; a delay of
 * exactly one day is accepted and the order waits that long.) */
static void test_huge_latency_from_overflows(void **state)
{
	char err[256];
	const char *path;
	(void)state;
	path = write_file("huge.json", "{\"venue\": {\"round_trip_ns\": {\"buckets\": "
				       "[[9223372036854775807, 1]]}}}");
	assert_int_equal(ig_paper_load_latency(&paper, path, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "venue.latency_from"));
	assert_non_null(strstr(err, "upper_ns"));
	assert_int_equal(paper.nlat, 0);
	assert_int_equal(ig_paper_load_latency(
				 &paper,
				 write_file("day.json", "{\"venue\": {\"round_trip_ns\": {\"buckets\": "
							"[[86400000000000, 1]]}}}"),
				 err, sizeof(err)),
			 0);
	bar("100", "101", "99", "100", "1");
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, IG_TIF_GTC);
	bar("101", "102", "100", "101", "1");
	assert_int_equal(nfills(), 0);
}

/* R4c. venue.latency_ms above one day and slippage_bps above 5000 are
 * refused by the config loader at file:line:col, naming the key. */
static void test_config_latency_and_slippage_bounds(void **state)
{
	struct ig_config c;
	char err[256];
	const char *path;
	(void)state;
	path = write_file("lat.yaml", "venue:\n  kind: paper\n  latency_ms: 86400001\n");
	assert_int_not_equal(ig_config_load(&c, path, NULL, 0, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "lat.yaml:3:"));
	assert_non_null(strstr(err, "latency_ms"));
	path = write_file("lat.yaml", "venue:\n  kind: paper\n  latency_ms: 86400000\n");
	if (ig_config_load(&c, path, NULL, 0, err, sizeof(err)) != 0 && strstr(err, "latency_ms") != NULL)
		fail_msg("latency_ms of one day refused: %s", err);
	path = write_file("slip.yaml", "venue:\n  kind: paper\n  slippage_bps: 5001\n");
	assert_int_not_equal(ig_config_load(&c, path, NULL, 0, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "slip.yaml:3:"));
	assert_non_null(strstr(err, "slippage_bps"));
}

/* R5. latency_from with counts whose sum overflows uint64 (paper.c:131
 * lat_total += count, unchecked): accepted, and the draw is then from a
 * wrapped total (here 1): every order gets bucket 0's delay although
 * bucket 0 has less than a third of the weight. Must be refused. */
static void test_latency_from_count_overflow_refused(void **state)
{
	char err[256];
	int rc;
	(void)state;
	rc = ig_paper_load_latency(
		&paper,
		write_file("wrap.json", "{\"venue\": {\"round_trip_ns\": {\"buckets\": "
					"[[1000, 9223372036854775807], [2000, 9223372036854775807], "
					"[3000, 3]]}}}"),
		err, sizeof(err));
	if (rc == 0)
		fail_msg("accepted a distribution whose total overflows: lat_total=%llu",
			 (unsigned long long)paper.lat_total);
}

/* R6. slippage_bps is accepted up to 10000 (config.c BPS_MAX). At 10000 a
 * market sell on quotes fills at px 0 (paper.c:189/take): the venue's
 * ledger books the fill while the OMS refuses px <= 0 (oms.c on_fill), so
 * the two books part. On bars the same order never fills (fill_px 0 means
 * "no fill" in bar_fill_at) and stays working forever. */
static void test_full_slippage_zero_price_fill(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.slippage_bps = 10000;
	ig_paper_configure(&paper, &prm);
	quote("100", "5", "100.5", "5");
	send(1, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 0, IG_TIF_GTC);
	if (nfills() == 1 && fill_k(0)->px <= 0)
		fail_msg("venue filled a sell at px %lld; its ledger booked it (fills %llu) but the "
			 "OMS refuses px <= 0",
			 (long long)fill_k(0)->px, (unsigned long long)paper.ledger[1].fills);
}

/* R7. A post-only limit that arrives late (latency) is checked against the
 * close of its arrival bar (paper.c:410-411), a price that is only known
 * at the end of that bar: look-ahead. Here the buy at 99 arrives at t1's
 * open (100: it does not cross); t1 then trades down through it (low 98)
 * and closes at 98.5. Expected: accepted and filled at 99 as maker (or at
 * worst judged against what was known at arrival). Actual: rejected
 * post-only because of t1's close. */
static void test_post_only_latency_lookahead(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.latency_ns = 30 * INT64_C(1000000000);
	ig_paper_configure(&paper, &prm);
	bar("100", "101", "99.5", "100", "1");
	send(1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", IG_ORDF_POST_ONLY, IG_TIF_GTC);
	/* (Adjusted to the lead's bar-time rule: decided at the bar's end,
	 * +60 s, the order arrives at +90 s, after the next bar opened, so its
	 * first bar is the one at +120 s; a quiet bar is inserted before it.) */
	bar("100", "100.5", "99.5", "100", "1");
	assert_int_equal(out.n, 0);
	bar("100", "100", "98", "98.5", "1");
	if (nrejects() != 0)
		fail_msg("post-only rejected on its arrival bar's close (98.5), unknown at arrival "
			 "(open 100)");
	assert_int_equal(nfills(), 1);
	assert_int_equal(fill_k(0)->px, D("99"));
}

/* R7b. Post-only on bars without latency: judged at the open of the bar
 * it may first fill on (the next one), never a close. */
static void test_post_only_judged_at_next_open(void **state)
{
	(void)state;
	bar("100", "101", "97.5", "98", "1"); /* closes below 99 */
	send(1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", IG_ORDF_POST_ONLY, IG_TIF_GTC);
	assert_int_equal(out.n, 0); /* judged where it arrives */
	bar("100", "100", "98.5", "99.5", "1"); /* opens above 99: rests, then fills */
	assert_int_equal(nrejects(), 0);
	assert_int_equal(nfills(), 1);
	assert_int_equal(fill_k(0)->px, D("99"));
	assert_int_equal(fill_k(0)->liquidity, IG_LIQ_MAKER);
	send(2, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", IG_ORDF_POST_ONLY, IG_TIF_GTC);
	bar("98.7", "99.2", "98", "99", "1"); /* opens through 99: rejected */
	assert_int_equal(nrejects(), 1);
	assert_int_equal(nfills(), 0);
	assert_int_equal(paper.live, 0);
}

/* R9b. The venue itself ends a resting DAY order at the UTC day
 * boundary, before the first quote of the next day is matched. */
static void test_day_order_expires_at_midnight_quotes(void **state)
{
	(void)state;
	clock_ns = INT64_C(1704239990) * INT64_C(1000000000); /* 2024-01-02T23:59:50Z */
	quote("100", "5", "100.5", "5");
	send(1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 0, IG_TIF_DAY);
	assert_int_equal(out.ev[0].body.update.state, IG_OS_ACCEPTED);
	quote("98", "5", "98.5", "5"); /* 23:59:51: would fill, same day */
	assert_int_equal(nfills(), 1);
	send(2, IG_SIDE_BUY, IG_ORD_LIMIT, "97", "1", 0, IG_TIF_DAY);
	clock_ns += 8 * INT64_C(1000000000);
	quote("96", "5", "96.5", "5"); /* 2024-01-03T00:00:00Z */
	assert_int_equal(nfills(), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.ev[0].body.update.state, IG_OS_EXPIRED);
	assert_int_equal(out.ev[0].body.update.client_id, 2);
	assert_int_equal(paper.live, 0);
}

/* R8. A market buy with a protection price (the most the OMS reserved
 * for): docs "fills only while the ask is at or below it". With slippage
 * the venue checks the unslipped ask against the cap (paper.c:276-279)
 * and then fills at ask + slippage, above the cap and above what the OMS
 * reserved cash for. */
static void test_capped_market_buy_slipped_past_cap(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.slippage_bps = 50;
	ig_paper_configure(&paper, &prm);
	quote("99.9", "5", "100", "5");
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, "100", "1", 0, IG_TIF_GTC);
	if (nfills() == 1 && fill_k(0)->px > D("100"))
		fail_msg("market buy capped at 100 filled at %lld", (long long)fill_k(0)->px);
	/* 100 + 0.5 slipped is above the cap: nothing fills, the rest is
	 * cancelled as the unslipped rule does. */
	assert_int_equal(nfills(), 0);
	assert_int_equal(paper.live, 0);
}

/* R11. Threaded runs (docs: "the same rules decide prices"): an order can
 * reach the executor before the bar it was decided on does (the tick
 * feeds the strategy and the executor rings independently). In close
 * mode paper.c:425-426 fills a market order on arrival at the close of
 * whatever bar the venue last saw -- the bar BEFORE the deciding one --
 * instead of waiting for the deciding bar (its own data time is in the
 * order: sent_ns > bar_ts_ns). */
static void test_close_mode_order_ahead_of_its_bar(void **state)
{
	struct ig_paper_params prm = paper.prm;
	(void)state;
	prm.bar_fill = IG_BAR_FILL_CLOSE;
	ig_paper_configure(&paper, &prm);
	bar("100", "101", "99", "100", "1");
	send_ts = clock_ns + MIN_NS; /* decided on the next bar, not yet at the venue */
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, IG_TIF_GTC);
	send_ts = 0;
	if (nfills() != 0)
		fail_msg("an order decided on the bar at t+60s filled at %lld, the close of the bar "
			 "before it",
			 (long long)fill_k(0)->px);
	bar("104", "106", "103", "105", "1");
	assert_int_equal(nfills(), 1);
	assert_int_equal(fill_k(0)->px, D("105"));
}

/* ------------------------------------------------ the engine, inline */

static struct ig_config cfg;
static struct ig_engine eng;

typedef void (*script_fn)(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i);
static script_fn script;
static int64_t first_ts;
static uint64_t saved_cid;

struct fillrec {
	int64_t ts, px, qty;
	uint16_t k;
	uint8_t side;
};
static struct fillrec fills[64];
static uint32_t nfill;
static uint32_t nreject;
static uint32_t reject_reason;

static void r_on_bar(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint32_t i;
	(void)st;
	if (first_ts == 0)
		first_ts = ev->hdr.ts_event_ns;
	i = (uint32_t)((ev->hdr.ts_event_ns - first_ts) / MIN_NS);
	if (script != NULL)
		script(ctx, ev, i);
}

static void r_on_fill(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	if (nfill < 64)
		fills[nfill++] = (struct fillrec){ ev->hdr.ts_event_ns, ev->body.fill.px,
						   ev->body.fill.qty, ev->hdr.instrument_id,
						   ev->body.fill.side };
}

static void r_on_reject(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	nreject++;
	reject_reason = ev->body.reject.reason;
}

static const struct ig_strategy_type recorder = {
	.name = "recorder",
	.on_bar = r_on_bar,
	.on_fill = r_on_fill,
	.on_reject = r_on_reject,
};

static void run_engine(const char *csv_text, const char *feed_extra, const char *venue_extra,
		       const char *strat_extra, script_fn fn)
{
	char csv[160], yaml[160], err[256];
	struct ig_engine_opts opts;
	FILE *f;

	snprintf(csv, sizeof(csv), "%s", write_file("bars.csv", csv_text));
	snprintf(yaml, sizeof(yaml), "%s/bars.yaml", tmpdir);
	f = fopen(yaml, "w");
	assert_non_null(f);
	fprintf(f,
		"engine: {threading: inline}\n"
		"feed: {source: csv, path: %s%s}\n"
		"venue:\n  kind: paper\n  maker_fee_bps: 0\n  taker_fee_bps: 0\n%s"
		"strategies:\n  - {name: rec, type: sma_cross%s}\n",
		csv, feed_extra, venue_extra, strat_extra);
	fclose(f);
	if (ig_config_load(&cfg, yaml, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	memset(&opts, 0, sizeof(opts));
	nfill = 0;
	nreject = 0;
	first_ts = 0;
	saved_cid = 0;
	script = fn;
	if (ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)) != 0)
		fail_msg("ig_engine_init: %s", err);
	eng.hosts[0].ctx[0]->type = &recorder;
	assert_int_equal(ig_engine_run(&eng), 0);
}

/* Six minute bars t0..t5, each opening at 100 + 10 i and closing higher
 * than it opened. */
static const char *const BARS6 = "utc_time,open,high,low,close,volume\n"
				 "2024-01-02T00:00:00Z,100,101,99,100,10\n"
				 "2024-01-02T00:01:00Z,110,121,109,120,10\n"
				 "2024-01-02T00:02:00Z,120,131,119,130,10\n"
				 "2024-01-02T00:03:00Z,130,141,129,140,10\n"
				 "2024-01-02T00:04:00Z,140,151,139,150,10\n"
				 "2024-01-02T00:05:00Z,150,161,149,160,10\n";

/* R1. LOOK-AHEAD: a plain market (or limit) order that carries a stop_px
 * is forwarded by the OMS as is (oms.c on_order: fwd = *in keeps
 * stop_px), and the paper venue takes any order with stop_px > 0 for a
 * stop the OMS released (paper.c:494 trigger_bar) and fills it on the bar
 * it was decided on, at that bar's open (paper.c:421-423, bar_trigger).
 * A strategy that sees t1 close at 120 buys at t1's open, 110, 10 below
 * the close it already knows: free money. The OMS also reserves cash for
 * that market buy at stop_px (oms.c:760 ref_px) instead of the market. */
static void script_lookahead(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i)
{
	struct ig_order o;
	if (i != 1)
		return;
	memset(&o, 0, sizeof(o));
	o.side = IG_SIDE_BUY;
	o.type = IG_ORD_MARKET;
	o.tif = IG_TIF_GTC;
	o.qty = IG_FIXED(1);
	o.stop_px = 1; /* 1e-8: "triggered" at any price */
	ig_ctx_submit(ctx, ev->hdr.instrument_id, &o);
}

static void test_engine_market_with_stop_px_fills_in_the_past(void **state)
{
	(void)state;
	run_engine(BARS6, ", symbol: BTCUSD", "", "", script_lookahead);
	if (nfill >= 1 && fills[0].px < IG_FIXED(120))
		fail_msg("market buy decided at t1's close (120) filled at %lld (t1's open) on t1",
			 (long long)fills[0].px);
	/* next_open: t2's open, 120 (or the order refused as malformed) */
	if (nfill >= 1)
		assert_int_equal(fills[0].px, IG_FIXED(120));
	/* The OMS refuses it: a plain order carries no trigger. */
	assert_int_equal(nfill, 0);
	assert_int_equal(nreject, 1);
	assert_int_equal(reject_reason, IG_RJ_INVALID);
	ig_engine_destroy(&eng);
}

/* R1b. The venue itself: an order that reaches it with a stop_px but
 * without the OMS's IG_EVF_RELEASED flag is a plain market order: it
 * fills at the next bar's open, never on the bar it was decided on. */
static void test_stop_px_without_released_flag_is_plain(void **state)
{
	(void)state;
	bar("100", "106", "99", "104", "1");
	send_stop_px = D("1");
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 0, IG_TIF_GTC);
	send_stop_px = 0;
	assert_int_equal(nfills(), 0);
	bar("107", "108", "106", "107", "1");
	assert_int_equal(nfills(), 1);
	assert_int_equal(fill_k(0)->px, D("107"));
}

/* R2. A replacement (cancel-replace) is released by the OMS when the
 * venue confirms the cancel (oms.c on_terminal -> release with cause =
 * that update), and the paper venue stamps its updates with the ORIGINAL
 * order's data time (paper.c:165 ig_event_reply_init(&ev, &po->ev, ..)).
 * So the replacement is sent with the old order's time: with latency it
 * reaches the book as if it had been sent bars earlier. Here latency is
 * 90 s: a limit buy at 50 placed on t0, replaced on t2 by a market buy.
 * Decided at t2 -> on the book at t2 + 90 s -> t4's open (140). Actual:
 * t0 + 90 s, so it fills at t3's open (130). */
static void script_replace(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i)
{
	struct ig_order o;
	if (i == 0)
		saved_cid = ig_ctx_limit(ctx, ev->hdr.instrument_id, IG_SIDE_BUY, IG_FIXED(50),
					 IG_FIXED(1), IG_TIF_GTC);
	if (i == 2) {
		memset(&o, 0, sizeof(o));
		o.side = IG_SIDE_BUY;
		o.type = IG_ORD_MARKET;
		o.tif = IG_TIF_GTC;
		o.qty = IG_FIXED(1);
		o.replaces = saved_cid;
		ig_ctx_submit(ctx, ev->hdr.instrument_id, &o);
	}
}

static void test_engine_replace_keeps_old_send_time(void **state)
{
	(void)state;
	run_engine(BARS6, ", symbol: BTCUSD", "  latency_ms: 90000\n", "", script_replace);
	assert_int_equal(nfill, 1);
	/* (Adjusted to the lead's bar-time rule: decided at t2's end, t3's
	 * open, on the book 90 s later, after t4 opened: t5's open, 150.
	 * With the old order's time, t0, it filled at t3's open, 130.) */
	if (fills[0].px != IG_FIXED(150))
		fail_msg("replacement decided on t2 with 90 s latency filled at %lld (want t5's open "
			 "150)",
			 (long long)fills[0].px);
	ig_engine_destroy(&eng);
}

/* R3. fee_per_order / min_fee are not in the OMS's cash check or reserve
 * (risk.c:121-125, oms.c buy_fee_bps/reserve_for use bps only): a buy the
 * risk check passes as affordable drives cash negative. Capital 131, buy 1
 * at t2's open 120 with fee_per_order 15: cash 131 - 120 - 15 = -4. */
static void script_buy_all(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i)
{
	struct ig_order o;
	if (i != 1)
		return;
	memset(&o, 0, sizeof(o));
	o.side = IG_SIDE_BUY;
	o.type = IG_ORD_LIMIT;
	o.tif = IG_TIF_GTC;
	o.px = IG_FIXED(120);
	o.qty = IG_FIXED(1);
	ig_ctx_submit(ctx, ev->hdr.instrument_id, &o);
}

static void test_engine_fixed_fees_overdraw_cash(void **state)
{
	(void)state;
	run_engine("utc_time,open,high,low,close,volume\n"
		   "2024-01-02T00:00:00Z,100,101,99,100,10\n"
		   "2024-01-02T00:01:00Z,120,121,119,120,10\n"
		   "2024-01-02T00:02:00Z,121,122,110,115,10\n",
		   ", symbol: BTCUSD", "  fee_per_order: 15\n", ", capital: \"131\"", script_buy_all);
	if (nfill == 1 && eng.oms.s[0].cash < 0)
		fail_msg("the risk check let a buy through that left cash at %lld",
			 (long long)eng.oms.s[0].cash);
	/* 120 + 0 (bps) + 15 = 135 > 131: refused up front. */
	assert_int_equal(nfill, 0);
	assert_int_equal(nreject, 1);
	assert_int_equal(reject_reason, IG_RJ_INSUFFICIENT_CASH);
	ig_engine_destroy(&eng);
	/* With room for it, the buy fills and the reserve (min_fee and
	 * fee_per_order included) is all given back once it is filled. */
	run_engine("utc_time,open,high,low,close,volume\n"
		   "2024-01-02T00:00:00Z,100,101,99,100,10\n"
		   "2024-01-02T00:01:00Z,120,121,119,120,10\n"
		   "2024-01-02T00:02:00Z,121,122,110,115,10\n",
		   ", symbol: BTCUSD", "  fee_per_order: 15\n  min_fee: 2\n", ", capital: \"137\"",
		   script_buy_all);
	assert_int_equal(nfill, 1);
	assert_int_equal(eng.oms.s[0].cash, IG_FIXED(137) - IG_FIXED(120) - IG_FIXED(17));
	assert_int_equal(eng.oms.s[0].open_buy_notional, 0);
	ig_engine_destroy(&eng);
}

/* ig_risk_buy_cost: notional + max(bps fee, min_fee) + fee_per_order. */
static void test_buy_cost_counts_fixed_fees(void **state)
{
	int64_t c = 0;
	(void)state;
	assert_int_equal(ig_risk_buy_cost(IG_FIXED(100), 10, D("0.5"), IG_FIXED(1), &c), 0);
	assert_int_equal(c, D("101.5"));
	assert_int_equal(ig_risk_buy_cost(IG_FIXED(100000), 10, D("0.5"), IG_FIXED(1), &c), 0);
	assert_int_equal(c, IG_FIXED(100000) + IG_FIXED(100) + IG_FIXED(1));
	assert_int_equal(ig_risk_buy_cost(INT64_MAX - 10, 0, 0, IG_FIXED(1), &c), IG_EOVERFLOW);
}

/* R9. A DAY order decided on the last bar of a UTC day (23:59) must not
 * fill on the next day. The OMS ends DAY orders when it sees the first
 * mark of the new day (oms.c day_roll -> expire_day_orders -> a cancel to
 * the venue), but the tick sends the 00:00 bar to the OMS and the executor
 * in the same unit (tick.c:141 route_to TO_BOOKS), so the executor's copy
 * of the bar is already queued ahead of that cancel and the venue fills
 * the order at the new day's open first (paper.c on_bar_order); the
 * cancel then finds nothing. */
static void script_day_order(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i)
{
	if (i == 1)
		ig_ctx_submit(ctx, ev->hdr.instrument_id,
			      &(struct ig_order){ .side = IG_SIDE_BUY, .type = IG_ORD_MARKET,
						  .tif = IG_TIF_DAY, .qty = IG_FIXED(1) });
}

static void test_engine_day_order_fills_next_day(void **state)
{
	(void)state;
	run_engine("utc_time,open,high,low,close,volume\n"
		   "2024-01-02T23:58:00Z,100,101,99,100,10\n"
		   "2024-01-02T23:59:00Z,100,101,99,100,10\n"
		   "2024-01-03T00:00:00Z,120,121,119,120,10\n"
		   "2024-01-03T00:01:00Z,120,121,119,120,10\n",
		   ", symbol: BTCUSD", "", "", script_day_order);
	if (nfill != 0)
		fail_msg("a DAY order of 2024-01-02 filled at %lld on 2024-01-03's open",
			 (long long)fills[0].px);
	/* The venue expired it; the OMS's own day-roll cancel found nothing
	 * there: the order is finished (no open order, nothing reserved), no
	 * transition refused, no report unknown, and the venue agrees. */
	assert_int_equal(eng.oms.s[0].om.open, 0);
	assert_int_equal(eng.oms.s[0].om.illegal, 0);
	assert_int_equal(eng.oms.s[0].open_buy_notional, 0);
	assert_int_equal(eng.oms.unknown_reports, 0);
	assert_int_equal(ig_oms_cancels_outstanding(&eng.oms), 0);
	assert_int_equal(eng.oms.s[0].fills, 0);
	assert_int_equal(((const struct ig_paper *)eng.exec.venue)->live, 0);
	ig_engine_destroy(&eng);
}

/* R10. Two instruments whose bars are not aligned (A at :00, B at :30):
 * an order for B decided on A's bar stamped t is decided at A's close,
 * t + 60 s; B's bar stamped t + 30 s opened 30 s BEFORE that decision,
 * yet paper.c:528/537 (ts > sent_ns) fills the order at that bar's open:
 * look-ahead across instruments. Here A's t1 bar (close 200) tells the
 * strategy to buy B; B's bar at 00:01:30 opened at 100 and closed at 150
 * (known only at 00:02:30); the buy fills at 100. */
static void script_cross(struct ig_strategy_ctx *ctx, const struct ig_event *ev, uint32_t i)
{
	(void)i;
	if (ev->hdr.instrument_id == 0 && ev->body.bar.close_px == IG_FIXED(200))
		ig_ctx_market(ctx, 1, IG_SIDE_BUY, IG_FIXED(1));
}

static void test_engine_unaligned_instruments_lookahead(void **state)
{
	(void)state;
	run_engine("utc_time,symbol,open,high,low,close,volume\n"
		   "2024-01-02T00:00:00Z,AAA,100,101,99,100,10\n"
		   "2024-01-02T00:00:30Z,BBB,100,101,99,100,10\n"
		   "2024-01-02T00:01:00Z,AAA,100,201,99,200,10\n"
		   "2024-01-02T00:01:30Z,BBB,100,151,99,150,10\n"
		   "2024-01-02T00:02:00Z,AAA,200,202,199,201,10\n"
		   "2024-01-02T00:02:30Z,BBB,150,151,149,150,10\n",
		   ", symbols: [AAA, BBB]", "", ", symbols: [AAA, BBB]", script_cross);
	assert_int_equal(nfill, 1);
	assert_int_equal(fills[0].k, 1);
	if (fills[0].px != IG_FIXED(150))
		fail_msg("B bought at %lld: the open of a bar that started before the decision "
			 "(want 150, the first B bar opening after A's close)",
			 (long long)fills[0].px);
	ig_engine_destroy(&eng);
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	if (tmpdir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_huge_latency_overflows),
		T(test_huge_latency_from_overflows),
		T(test_config_latency_and_slippage_bounds),
		T(test_latency_from_count_overflow_refused),
		T(test_full_slippage_zero_price_fill),
		T(test_post_only_latency_lookahead),
		T(test_post_only_judged_at_next_open),
		T(test_capped_market_buy_slipped_past_cap),
		T(test_day_order_expires_at_midnight_quotes),
		T(test_close_mode_order_ahead_of_its_bar),
		T(test_stop_px_without_released_flag_is_plain),
#undef T
		cmocka_unit_test(test_engine_market_with_stop_px_fills_in_the_past),
		cmocka_unit_test(test_engine_replace_keeps_old_send_time),
		cmocka_unit_test(test_engine_fixed_fees_overdraw_cash),
		cmocka_unit_test(test_buy_cost_counts_fixed_fees),
		cmocka_unit_test(test_engine_day_order_fills_next_day),
		cmocka_unit_test(test_engine_unaligned_instruments_lookahead),
	};
	ig_log_set_level(IG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
