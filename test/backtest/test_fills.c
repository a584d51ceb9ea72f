/*
 * test_fills.c - backtest fill semantics (issue 12; docs/backtesting.md
 * "Fills"): the paper venue on bars driven directly (next_open and close,
 * limits, stops on their trigger bar, volume, costs, latency), and the
 * whole engine inline over a CSV of a few bars written here, with a tiny
 * recording strategy (fills reach it before the next bar; the OMS triggers
 * stops on a bar's high/low; an order pending at the end stays unfilled).
 *
 * Fees on the venue: maker 0 bps, taker 10 bps unless a test says so;
 * fee = round(round(px * qty) * bps / 10000), raised to min_fee, plus
 * fee_per_order on an order's first fill. Minute bars, stamped at their
 * open; an order is stamped with the bar it was decided on.
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
#include "core/hist.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "exec/exec.h"
#include "exec/paper.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"
#include "strategy/host.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_NS INT64_C(60000000000)
#define CAP_MAX 1024

/* ------------------------------------------------------ venue harness */

struct cap {
	struct ig_emit emit; /* first: fn casts back */
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
	clock_ns = 0;
	return ig_paper_init(&paper, 0, 10);
}

static int teardown(void **state)
{
	(void)state;
	ig_paper_destroy(&paper);
	return 0;
}

/* The next minute bar. */
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

/* An order decided on the latest bar; stop (may be NULL) marks an order
 * the OMS released from a triggered stop, tp a take-profit. */
static void send(uint64_t cid, enum ig_side side, enum ig_ord_type type, const char *px,
		 const char *qty, const char *stop, bool tp, enum ig_tif tif)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.strategy_id = 1;
	ev.hdr.ts_event_ns = clock_ns;
	ev.hdr.flags = (uint8_t)((stop != NULL ? IG_EVF_RELEASED : 0) | (tp ? IG_EVF_TAKE_PROFIT : 0));
	ev.body.order.client_id = cid;
	ev.body.order.side = (uint8_t)side;
	ev.body.order.type = (uint8_t)type;
	ev.body.order.tif = (uint8_t)tif;
	ev.body.order.px = px != NULL ? D(px) : 0;
	ev.body.order.qty = D(qty);
	ev.body.order.stop_px = stop != NULL ? D(stop) : 0;
	out.n = 0;
	ig_paper_submit(&paper, &ev, &out.emit);
}

static void mkt(uint64_t cid, enum ig_side side, const char *qty)
{
	send(cid, side, IG_ORD_MARKET, NULL, qty, NULL, false, IG_TIF_GTC);
}

static void lmt(uint64_t cid, enum ig_side side, const char *px, const char *qty)
{
	send(cid, side, IG_ORD_LIMIT, px, qty, NULL, false, IG_TIF_GTC);
}

static uint32_t nfills(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out.n; i++)
		n += out.ev[i].hdr.type == IG_EV_FILL;
	return n;
}

/* The k-th fill of the last call's reports. */
static const struct ig_fill *fill_k(uint32_t k)
{
	for (uint32_t i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == IG_EV_FILL && k-- == 0)
			return &out.ev[i].body.fill;
	fail_msg("no fill %u among %u reports", k, out.n);
	return NULL;
}

static void expect_fill(uint64_t cid, const char *px, const char *qty, const char *fee,
			enum ig_liquidity liq, int last)
{
	const struct ig_fill *f;
	assert_int_equal(nfills(), 1);
	f = fill_k(0);
	assert_int_equal(f->client_id, cid);
	if (f->px != D(px))
		fail_msg("cid %llu: px %lld, want %s", (unsigned long long)cid, (long long)f->px, px);
	assert_int_equal(f->qty, D(qty));
	if (f->fee != D(fee))
		fail_msg("cid %llu: fee %lld, want %s", (unsigned long long)cid, (long long)f->fee, fee);
	assert_int_equal(f->liquidity, liq);
	assert_int_equal(f->last, last);
}

static void configure(void (*edit)(struct ig_paper_params *))
{
	struct ig_paper_params prm = paper.prm;
	edit(&prm);
	ig_paper_configure(&paper, &prm);
}

/* ------------------------------------------------------- venue tests */

/* next_open (the default): a market order decided on a bar fills at the
 * next bar's open, never at the deciding bar's close. */
static void test_next_open_market(void **state)
{
	(void)state;
	assert_int_equal(paper.prm.bar_fill, IG_BAR_FILL_NEXT_OPEN);
	bar("100", "101", "99", "100", "1");
	mkt(1, IG_SIDE_BUY, "1");
	assert_int_equal(out.n, 1); /* ACCEPTED, nothing filled */
	assert_int_equal(out.ev[0].body.update.state, IG_OS_ACCEPTED);
	bar("102", "103", "101", "102.5", "1");
	/* 102 * 1 * 10 bps = 0.102 */
	expect_fill(1, "102", "1", "0.102", IG_LIQ_TAKER, 1);
	assert_int_equal(out.ev[0].hdr.ts_event_ns, clock_ns); /* at the bar that filled it */
	mkt(2, IG_SIDE_SELL, "1");
	assert_int_equal(nfills(), 0);
	bar("101.5", "103", "101", "102", "1");
	expect_fill(2, "101.5", "1", "0.1015", IG_LIQ_TAKER, 1);
}

static void set_close(struct ig_paper_params *p)
{
	p->bar_fill = IG_BAR_FILL_CLOSE;
}

/* close: at the deciding bar's close, on arrival. */
static void test_close_mode_market(void **state)
{
	(void)state;
	configure(set_close);
	bar("100", "101", "99", "100.5", "1");
	mkt(1, IG_SIDE_BUY, "1");
	expect_fill(1, "100.5", "1", "0.1005", IG_LIQ_TAKER, 1);
	mkt(2, IG_SIDE_SELL, "1");
	expect_fill(2, "100.5", "1", "0.1005", IG_LIQ_TAKER, 1);
}

/* A limit is first checked on the next bar; it fills when that bar trades
 * through it (not at it), at the limit or the open if it gapped through. */
static void test_limit_at_limit_or_gapped_open(void **state)
{
	(void)state;
	bar("100", "101", "95", "100", "1");
	lmt(1, IG_SIDE_BUY, "99", "1"); /* this bar went to 95: not checked on it */
	assert_int_equal(nfills(), 0);
	bar("100", "101", "99", "100", "1"); /* low at 99: not through */
	assert_int_equal(nfills(), 0);
	bar("100", "101", "98", "99.5", "1");
	expect_fill(1, "99", "1", "0", IG_LIQ_MAKER, 1);
	lmt(2, IG_SIDE_BUY, "99", "1");
	bar("97", "98", "96", "97", "1"); /* opened through it */
	expect_fill(2, "97", "1", "0", IG_LIQ_MAKER, 1);
	lmt(3, IG_SIDE_SELL, "105", "1");
	bar("104", "106", "103", "104", "1");
	expect_fill(3, "105", "1", "0", IG_LIQ_MAKER, 1);
	lmt(4, IG_SIDE_SELL, "105", "1");
	bar("107", "108", "106", "107", "1");
	expect_fill(4, "107", "1", "0", IG_LIQ_MAKER, 1);
	/* The same in close mode. */
	configure(set_close);
	lmt(5, IG_SIDE_BUY, "106", "1");
	assert_int_equal(nfills(), 0);
	bar("105", "106", "104", "105", "1");
	expect_fill(5, "105", "1", "0", IG_LIQ_MAKER, 1);
}

/* A stop the OMS released on a bar fills on that same bar at its trigger,
 * or at the open if the bar gapped past it; a take-profit the mirror. */
static void test_stop_on_trigger_bar(void **state)
{
	(void)state;
	bar("100", "106", "99", "104", "1");
	send(1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", "105", false, IG_TIF_GTC);
	expect_fill(1, "105", "1", "0.105", IG_LIQ_TAKER, 1);
	bar("107", "108", "106", "107", "1");
	send(2, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", "105", false, IG_TIF_GTC);
	expect_fill(2, "107", "1", "0.107", IG_LIQ_TAKER, 1);
	bar("104", "105", "102", "104", "1");
	send(3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", "103", false, IG_TIF_GTC);
	expect_fill(3, "103", "1", "0.103", IG_LIQ_TAKER, 1);
	bar("101", "102", "100", "101", "1");
	send(4, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", "103", false, IG_TIF_GTC);
	expect_fill(4, "101", "1", "0.101", IG_LIQ_TAKER, 1);
	/* Take-profit sell at 110: reached from below at 110, or a gap up. */
	bar("108", "111", "107", "109", "1");
	send(5, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", "110", true, IG_TIF_GTC);
	expect_fill(5, "110", "1", "0.11", IG_LIQ_TAKER, 1);
	bar("112", "113", "111", "112", "1");
	send(6, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", "110", true, IG_TIF_GTC);
	expect_fill(6, "112", "1", "0.112", IG_LIQ_TAKER, 1);
	/* Stop-limit buy, stop 105 limit 106: at the trigger when within the
	 * limit; gapped over the limit, a limit from that bar on. */
	bar("100", "107", "99", "104", "1");
	send(7, IG_SIDE_BUY, IG_ORD_LIMIT, "106", "1", "105", false, IG_TIF_GTC);
	expect_fill(7, "105", "1", "0.105", IG_LIQ_TAKER, 1);
	bar("108", "109", "105", "107", "1");
	send(8, IG_SIDE_BUY, IG_ORD_LIMIT, "106", "1", "105", false, IG_TIF_GTC);
	expect_fill(8, "106", "1", "0", IG_LIQ_MAKER, 1);
	/* In close mode too. */
	configure(set_close);
	bar("100", "106", "99", "104", "1");
	send(9, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", "105", false, IG_TIF_GTC);
	expect_fill(9, "105", "1", "0.105", IG_LIQ_TAKER, 1);
}

/* A bar without volume (unknown: index, FX data) fills. */
static void test_zero_volume_bar_fills(void **state)
{
	(void)state;
	bar("100", "101", "99", "100", "0");
	mkt(1, IG_SIDE_BUY, "3");
	bar("101", "101", "101", "101", "0");
	expect_fill(1, "101", "3", "0.303", IG_LIQ_TAKER, 1);
}

static void set_pct10(struct ig_paper_params *p)
{
	p->max_volume_pct = IG_FIXED(10);
}

/* max_volume_pct caps each bar's fill of an order; the rest works on the
 * next bars; a zero-volume bar is not capped. Without it, no cap. */
static void test_max_volume_pct_partial(void **state)
{
	(void)state;
	bar("100", "101", "99", "100", "5");
	mkt(1, IG_SIDE_BUY, "20"); /* default: unlimited */
	bar("100", "101", "99", "100", "5");
	expect_fill(1, "100", "20", "2", IG_LIQ_TAKER, 1);
	configure(set_pct10);
	mkt(2, IG_SIDE_BUY, "1.2");
	bar("100", "101", "99", "100", "5"); /* 10% of 5 = 0.5 */
	expect_fill(2, "100", "0.5", "0.05", IG_LIQ_TAKER, 0);
	assert_int_equal(paper.live, 1);
	bar("101", "102", "100", "101", "3"); /* 0.3 */
	expect_fill(2, "101", "0.3", "0.0303", IG_LIQ_TAKER, 0);
	bar("102", "102", "102", "102", "0"); /* no volume: the rest */
	expect_fill(2, "102", "0.4", "0.0408", IG_LIQ_TAKER, 1);
	assert_int_equal(paper.live, 0);
	/* A limit too. */
	lmt(3, IG_SIDE_BUY, "99", "1");
	bar("100", "100", "98", "99", "4");
	expect_fill(3, "99", "0.4", "0", IG_LIQ_MAKER, 0);
}

static void set_costs(struct ig_paper_params *p)
{
	p->fee_per_order = IG_FIXED(1);
	p->min_fee = IG_FIXED(1) / 2;
	p->slippage_bps = 10;
	p->max_volume_pct = IG_FIXED(50);
}

/* fee_per_order once per order (its first fill), min_fee per fill,
 * slippage against the trader on market and stop fills, not on limits;
 * the venue's ledger adds up to the fills. */
static void test_costs(void **state)
{
	const struct ig_paper_ledger *l = &paper.ledger[1];
	(void)state;
	configure(set_costs);
	bar("100", "101", "99", "100", "2");
	mkt(1, IG_SIDE_BUY, "2");
	/* 50% of 2 = 1 per bar. px 100 + 10 bps = 100.1; fee 10 bps of
	 * 100.1 = 0.1001 < min 0.5 -> 0.5, plus 1 for the order: 1.5. */
	bar("100", "101", "99", "100", "2");
	expect_fill(1, "100.1", "1", "1.5", IG_LIQ_TAKER, 0);
	bar("200", "201", "199", "200", "2");
	/* Second fill: 200.2, fee 0.2002 -> 0.5, no per-order fee again. */
	expect_fill(1, "200.2", "1", "0.5", IG_LIQ_TAKER, 1);
	/* A sell gets less: 200 - 0.2 = 199.8. Fee 10 bps = 0.1998 -> 0.5 + 1. */
	mkt(2, IG_SIDE_SELL, "1");
	bar("200", "201", "199", "200", "2");
	expect_fill(2, "199.8", "1", "1.5", IG_LIQ_TAKER, 1);
	/* A stop is slipped from its trigger: sell stop 195 -> 194.805. */
	bar("198", "199", "190", "192", "2");
	send(3, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", "195", false, IG_TIF_GTC);
	expect_fill(3, "194.805", "1", "1.5", IG_LIQ_TAKER, 1);
	/* A limit at its limit is not slipped; maker 0 bps -> min 0.5 + 1. */
	lmt(4, IG_SIDE_BUY, "190", "1");
	bar("191", "192", "185", "186", "2");
	expect_fill(4, "190", "1", "1.5", IG_LIQ_MAKER, 1);
	/* The ledger is the sum of the fills. */
	assert_int_equal(l->fills, 5);
	assert_int_equal(l->fees, D("6.5")); /* 1.5 + 0.5 + 1.5 + 1.5 + 1.5 */
	assert_int_equal(l->net_qty[0], D("1"));
	assert_int_equal(l->cash_delta,
			 -D("100.1") - D("200.2") + D("199.8") + D("194.805") - D("190") - D("6.5"));
}

static void set_latency_90s(struct ig_paper_params *p)
{
	p->latency_ns = 90 * INT64_C(1000000000);
}

/* With latency the book sees an order once data time has passed its
 * decision time plus the delay: on bars, an order sent on the bar stamped
 * t is decided at its end (t + 60 s) and arrives at t + 150 s, so it fills
 * at the open of the first bar that opens at or after that (bars stamped
 * at their open): the one at +180 s, not the one at +120 s, which opened
 * before the order arrived. */
static void test_latency_fixed(void **state)
{
	(void)state;
	configure(set_latency_90s);
	bar("100", "101", "99", "100", "1");
	mkt(1, IG_SIDE_BUY, "1");
	assert_int_equal(out.n, 0); /* in flight */
	bar("102", "103", "101", "102", "1"); /* +60 s: not yet */
	assert_int_equal(out.n, 0);
	bar("104", "105", "103", "104", "1"); /* +120 s: opened before t + 150 s */
	assert_int_equal(out.n, 0);
	bar("106", "107", "105", "106", "1"); /* +180 s */
	assert_int_equal(out.ev[0].body.update.state, IG_OS_ACCEPTED);
	expect_fill(1, "106", "1", "0.106", IG_LIQ_TAKER, 1);
}

static char tmpdir[64];

static const char *write_summary(const char *buckets)
{
	static char path[128];
	FILE *f;
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ig_fills_XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof(path), "%s/summary.json", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"venue\": {\"round_trip_ns\": {\"count\": 3, \"buckets\": %s}}}\n", buckets);
	fclose(f);
	return path;
}

/* latency_from: every delay drawn from the live run's distribution; all
 * in one bucket (90 s) -> the fill shifts to the bar at +180 s (decided at
 * +60 s, the end of its bar; arrives at +150 s). */
static void test_latency_from_summary(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(ig_paper_load_latency(&paper, write_summary("[[90000000000, 3]]"), err,
					       sizeof(err)),
			 0);
	bar("100", "101", "99", "100", "1");
	mkt(1, IG_SIDE_BUY, "1");
	assert_int_equal(out.n, 0);
	bar("102", "103", "101", "102", "1");
	assert_int_equal(out.n, 0);
	bar("104", "105", "103", "104", "1");
	assert_int_equal(out.n, 0);
	bar("106", "107", "105", "106", "1");
	expect_fill(1, "106", "1", "0.106", IG_LIQ_TAKER, 1);
	/* A file without the distribution is refused, naming the key. */
	assert_int_equal(ig_paper_load_latency(&paper, write_summary("[]"), err, sizeof(err)),
			 IG_ECONFIG);
	assert_non_null(strstr(err, "venue.latency_from"));
	assert_non_null(strstr(err, "round_trip_ns"));
}

/* Two equal buckets (30 s, 90 s): the draws follow the weights, and the
 * same seed gives the same draws. */
static uint32_t split_run(uint32_t norders)
{
	char err[256];
	uint32_t first = 0, second = 0;

	ig_paper_destroy(&paper);
	assert_int_equal(ig_paper_init(&paper, 0, 10), 0);
	clock_ns = 0;
	assert_int_equal(ig_paper_load_latency(&paper, write_summary("[[30000000000, 5], [90000000000, 5]]"),
					       err, sizeof(err)),
			 0);
	bar("100", "101", "99", "100", "1");
	for (uint32_t i = 0; i < norders; i++)
		mkt(100 + i, IG_SIDE_BUY, "1");
	/* Decided at +60 s (the bar's end): the 30 s ones arrive at +90 s,
	 * the 90 s ones at +150 s. */
	bar("101", "101", "101", "101", "1"); /* +60 s: none */
	assert_int_equal(nfills(), 0);
	bar("102", "102", "102", "102", "1"); /* +120 s: the 30 s ones */
	first = nfills();
	bar("103", "103", "103", "103", "1"); /* +180 s: the 90 s ones */
	second = nfills();
	assert_int_equal(first + second, norders);
	return first;
}

static void test_latency_distribution_deterministic(void **state)
{
	uint32_t a, b;
	(void)state;
	a = split_run(200);
	b = split_run(200);
	assert_int_equal(a, b);
	/* Binomial(200, 1/2): far inside [60, 140]. */
	assert_true(a > 60 && a < 140);
}

/* What a live run writes (the executor's stats from its venue's order
 * round trips) is what latency_from reads. */
static const struct ig_hist *fake_round_trips(const void *v)
{
	return v;
}

static void test_summary_round_trip_replays(void **state)
{
	static struct ig_hist h;
	static struct ig_venue_ops ops;
	struct ig_exec x;
	json_t *root = json_object(), *rt;
	char path[128], err[256];
	(void)state;

	ig_hist_init(&h);
	for (int i = 0; i < 10; i++)
		ig_hist_record(&h, INT64_C(50000000)); /* 50 ms */
	memset(&ops, 0, sizeof(ops));
	ops.round_trips = fake_round_trips;
	memset(&x, 0, sizeof(x));
	x.ops = &ops;
	x.venue = &h;
	assert_int_equal(ig_exec_stage_ops.stats(&x, root), 0);
	rt = json_object_get(json_object_get(root, "venue"), "round_trip_ns");
	assert_non_null(rt);
	assert_int_equal(json_integer_value(json_object_get(rt, "count")), 10);
	assert_int_equal(json_array_size(json_object_get(rt, "buckets")), 1);
	if (tmpdir[0] == '\0')
		(void)write_summary("[]");
	snprintf(path, sizeof(path), "%s/live.json", tmpdir);
	assert_int_equal(json_dump_file(root, path, 0), 0);
	json_decref(root);
	assert_int_equal(ig_paper_load_latency(&paper, path, err, sizeof(err)), 0);
	assert_int_equal(paper.nlat, 1);
	assert_int_equal(paper.lat_count[0], 10);
	assert_int_equal(paper.lat_ns[0], 50000000); /* clamped to the max seen */
}

/* An order still pending when the data ends is not filled at a last
 * price. */
static void test_pending_at_end_unfilled(void **state)
{
	(void)state;
	bar("100", "101", "99", "100", "1");
	mkt(1, IG_SIDE_BUY, "1");
	assert_int_equal(nfills(), 0);
	assert_int_equal(paper.live, 1);
	assert_int_equal(paper.fills, 0);
}

/* ------------------------------------------------ the engine, inline */

enum { LOG_BAR = 1, LOG_FILL, LOG_UPDATE };

struct logent {
	int kind;
	int64_t ts_ns;
	int64_t px;
	uint8_t state;
};

static struct logent elog[256];
static uint32_t nlog;
static int script; /* what the recorder does: SCRIPT_* */
enum { SCRIPT_MARKET = 0, SCRIPT_STOP };
static int64_t first_ts;
static bool working_at_bar; /* an own order was still working at a later bar */

static void rec(int kind, const struct ig_event *ev, int64_t px, uint8_t st)
{
	if (nlog < sizeof(elog) / sizeof(elog[0]))
		elog[nlog++] = (struct logent){ kind, ev->hdr.ts_event_ns, px, st };
}

static void r_on_bar(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	uint32_t i;
	(void)st;
	if (first_ts == 0)
		first_ts = ev->hdr.ts_event_ns;
	i = (uint32_t)((ev->hdr.ts_event_ns - first_ts) / MIN_NS);
	rec(LOG_BAR, ev, ev->body.bar.open_px, 0);
	for (uint32_t k = 0; k < IG_CTX_MAX_OPEN; k++)
		if (ctx->open[k].client_id != 0 && i > 0 && i < 3)
			working_at_bar = true;
	if (script == SCRIPT_MARKET) {
		if (i == 0)
			ig_ctx_market(ctx, ev->hdr.instrument_id, IG_SIDE_BUY, IG_FIXED(1));
		if (i == 3) /* the last bar: pending at the end */
			ig_ctx_market(ctx, ev->hdr.instrument_id, IG_SIDE_SELL, IG_FIXED(1));
	} else if (i == 0) {
		struct ig_order o;
		memset(&o, 0, sizeof(o));
		o.side = IG_SIDE_BUY;
		o.type = IG_ORD_STOP_MARKET;
		o.tif = IG_TIF_GTC;
		o.qty = IG_FIXED(1);
		o.stop_px = IG_FIXED(103);
		ig_ctx_submit(ctx, ev->hdr.instrument_id, &o);
	}
}

static void r_on_fill(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	rec(LOG_FILL, ev, ev->body.fill.px, 0);
}

static void r_on_update(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	rec(LOG_UPDATE, ev, 0, ev->body.update.state);
}

static const struct ig_strategy_type recorder = {
	.name = "recorder",
	.on_bar = r_on_bar,
	.on_fill = r_on_fill,
	.on_order_update = r_on_update,
};

/* Four minute bars (t0..t3). t1 reaches 103 only at its high (close
 * 102); t2 has no volume. */
static const char *const BARS_CSV =
	"utc_time,open,high,low,close,volume\n"
	"2024-01-02T00:00:00Z,100,101,99,100,1\n"
	"2024-01-02T00:01:00Z,102,103.5,101,102,1\n"
	"2024-01-02T00:02:00Z,104,106,103,105,0\n"
	"2024-01-02T00:03:00Z,106,107,105,106,1\n";

static struct ig_config cfg;
static struct ig_engine eng;

/* Runs the engine inline over BARS_CSV with the recorder, with extra
 * venue lines. */
static void run_engine(int which, const char *venue_extra)
{
	char csv[128], yaml[128], err[256];
	struct ig_engine_opts opts;
	FILE *f;

	if (tmpdir[0] == '\0')
		(void)write_summary("[]");
	snprintf(csv, sizeof(csv), "%s/bars.csv", tmpdir);
	snprintf(yaml, sizeof(yaml), "%s/bars.yaml", tmpdir);
	f = fopen(csv, "w");
	assert_non_null(f);
	fputs(BARS_CSV, f);
	fclose(f);
	f = fopen(yaml, "w");
	assert_non_null(f);
	fprintf(f,
		"engine: {threading: inline}\n"
		"feed: {source: csv, path: %s, symbol: BTCUSD}\n"
		"venue:\n  kind: paper\n  maker_fee_bps: 0\n  taker_fee_bps: 0\n%s"
		"strategies:\n  - {name: rec, type: sma_cross, symbols: [BTCUSD]}\n",
		csv, venue_extra);
	fclose(f);
	if (ig_config_load(&cfg, yaml, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	memset(&opts, 0, sizeof(opts));
	nlog = 0;
	first_ts = 0;
	working_at_bar = false;
	script = which;
	if (ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)) != 0)
		fail_msg("ig_engine_init: %s", err);
	eng.hosts[0].ctx[0]->type = &recorder;
	assert_int_equal(ig_engine_run(&eng), 0);
}

/* Index of the n-th log entry of kind, or -1. */
static int find(int kind, uint32_t n)
{
	for (uint32_t i = 0; i < nlog; i++)
		if (elog[i].kind == kind && n-- == 0)
			return (int)i;
	return -1;
}

/* next_open end to end: the buy decided on t0 fills at t1's open, and the
 * strategy hears the fill before its on_bar for t1 (never sees its order
 * working at t1); the sell decided on t3, the last bar, never fills. */
static void test_engine_next_open_fill_before_next_bar(void **state)
{
	int fill, bar1;
	(void)state;
	run_engine(SCRIPT_MARKET, "");
	fill = find(LOG_FILL, 0);
	bar1 = find(LOG_BAR, 1);
	assert_true(fill >= 0 && bar1 >= 0);
	assert_int_equal(elog[fill].px, IG_FIXED(102));
	assert_int_equal(elog[fill].ts_ns, elog[bar1].ts_ns);
	if (fill > bar1)
		fail_msg("the fill (log %d) came after on_bar of t1 (log %d)", fill, bar1);
	assert_false(working_at_bar);
	assert_int_equal(find(LOG_FILL, 1), -1); /* the sell at the end: no fill */
	assert_int_equal(eng.oms.s[0].fills, 1);
	assert_int_equal(eng.oms.s[0].pos[0].qty, IG_FIXED(1));
	assert_int_equal(((const struct ig_paper *)eng.exec.venue)->fills, 1);
	ig_engine_destroy(&eng);
}

/* close mode end to end: at the deciding bars' closes (t0: 100; t3: 106). */
static void test_engine_close_mode(void **state)
{
	int f0, f1;
	(void)state;
	run_engine(SCRIPT_MARKET, "  bar_fill: close\n");
	f0 = find(LOG_FILL, 0);
	f1 = find(LOG_FILL, 1);
	assert_true(f0 >= 0 && f1 >= 0);
	assert_int_equal(elog[f0].px, IG_FIXED(100));
	assert_int_equal(elog[f1].px, IG_FIXED(106));
	assert_int_equal(eng.oms.s[0].pos[0].qty, 0);
	ig_engine_destroy(&eng);
}

/* A buy stop at 103 placed on t0: t1's high (103.5) triggers it although
 * t1 closes at 102; it fills on t1 at 103, before the strategy's on_bar
 * for t1. */
static void test_engine_stop_on_bar_high(void **state)
{
	int fill, bar1;
	(void)state;
	run_engine(SCRIPT_STOP, "");
	fill = find(LOG_FILL, 0);
	bar1 = find(LOG_BAR, 1);
	assert_true(fill >= 0);
	assert_int_equal(elog[fill].px, IG_FIXED(103));
	assert_int_equal(elog[fill].ts_ns, elog[bar1].ts_ns);
	assert_true(fill < bar1);
	ig_engine_destroy(&eng);
}

/* venue.latency_ms: 90 s on minute bars moves t0's buy (decided at t0's
 * end, t1's open; on the book 90 s later, after t2 opened) to t3's open. */
static void test_engine_latency_ms(void **state)
{
	int fill;
	(void)state;
	run_engine(SCRIPT_MARKET, "  latency_ms: 90000\n");
	fill = find(LOG_FILL, 0);
	assert_true(fill >= 0);
	assert_int_equal(elog[fill].px, IG_FIXED(106));
	ig_engine_destroy(&eng);
}

/* venue.latency_from: the same through a live summary's distribution. */
static void test_engine_latency_from(void **state)
{
	char line[256];
	int fill;
	(void)state;
	snprintf(line, sizeof(line), "  latency_from: %s\n", write_summary("[[90000000000, 7]]"));
	run_engine(SCRIPT_MARKET, line);
	fill = find(LOG_FILL, 0);
	assert_true(fill >= 0);
	assert_int_equal(elog[fill].px, IG_FIXED(106)); /* as latency_ms: 90000 */
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
		T(test_next_open_market),
		T(test_close_mode_market),
		T(test_limit_at_limit_or_gapped_open),
		T(test_stop_on_trigger_bar),
		T(test_zero_volume_bar_fills),
		T(test_max_volume_pct_partial),
		T(test_costs),
		T(test_latency_fixed),
		T(test_latency_from_summary),
		T(test_latency_distribution_deterministic),
		T(test_summary_round_trip_replays),
		T(test_pending_at_end_unfilled),
#undef T
		cmocka_unit_test(test_engine_next_open_fill_before_next_bar),
		cmocka_unit_test(test_engine_close_mode),
		cmocka_unit_test(test_engine_stop_on_bar_high),
		cmocka_unit_test(test_engine_latency_ms),
		cmocka_unit_test(test_engine_latency_from),
	};
	ig_log_set_level(IG_LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
