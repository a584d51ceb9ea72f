/*
 * test_review2.c - second hostile review of issue 12 (after the fix merge
 * c9d27af). Each test states what docs/backtesting.md promises and FAILS
 * on main as of de3301a: defect reproductions, not regression tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/engine.h"
#include "app/sweep.h"
#include "config/config.h"
#include "core/emit.h"
#include "core/evflags.h"
#include "core/log.h"
#include "exec/paper.h"
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

static char tmpdir[64];
static char err[IG_CFG_ERR_MAX];

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static const char *write_file(const char *name, const char *text)
{
	static char path[160];
	FILE *f;
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/ig_review2_XXXXXX");
		assert_non_null(mkdtemp(tmpdir));
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

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

static int setup(void **state)
{
	(void)state;
	memset(&out, 0, sizeof(out));
	out.emit.fn = cap_fn;
	out.emit.src = IG_STAGE_EXEC;
	clock_ns = INT64_C(1704153600) * INT64_C(1000000000); /* 2024-01-02 */
	return ig_paper_init(&paper, 0, 10);
}

static int teardown(void **state)
{
	(void)state;
	ig_paper_destroy(&paper);
	return 0;
}

static void bar(const char *o, const char *h, const char *l, const char *c)
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
	ev.body.bar.volume = D("10");
	ev.body.bar.period_ns = MIN_NS;
	out.n = 0;
	ig_paper_market_data(&paper, &ev, &out.emit);
}

static const struct ig_event *first_of(uint16_t type)
{
	for (uint32_t i = 0; i < out.n; i++)
		if (out.ev[i].hdr.type == type)
			return &out.ev[i];
	return NULL;
}

/* F1. A post-only stop-limit the OMS released (oms.c release(): type
 * LIMIT, its flags kept, stop_px, IG_EVF_RELEASED) is held back by the
 * venue until the next bar (paper.c ig_paper_submit: bars + LIMIT +
 * POST_ONLY -> not arrived), arrives there through arrive(cause) ->
 * bar_eval, but its trigger_bar stays true (only bar_trigger clears it).
 * On the bar after that, on_bar_order takes the trigger branch and
 * bar_trigger fills it as TAKER at max(open, stop) = the stop, 105, on a
 * bar whose high is 104.5: a price the bar never traded, and a taker fill
 * of a post-only order. Expected: a resting limit buy at 110 on a bar
 * with low 103 fills at min(open, 110) = 104 as maker. */
static void test_post_only_released_stop_limit_fills_outside_bar(void **state)
{
	struct ig_event ev;
	const struct ig_event *f;
	(void)state;
	bar("100", "106", "99", "104"); /* the trigger bar: high 106 >= stop 105 */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_ORDER;
	ev.hdr.strategy_id = 1;
	ev.hdr.ts_event_ns = clock_ns;
	ev.hdr.flags = IG_EVF_RELEASED;
	ev.body.order.client_id = 7;
	ev.body.order.side = IG_SIDE_BUY;
	ev.body.order.type = IG_ORD_LIMIT;
	ev.body.order.tif = IG_TIF_GTC;
	ev.body.order.flags = IG_ORDF_POST_ONLY;
	ev.body.order.px = D("110");
	ev.body.order.stop_px = D("105");
	ev.body.order.qty = D("1");
	out.n = 0;
	ig_paper_submit(&paper, &ev, &out.emit);
	bar("112", "113", "111", "112"); /* opens above 110: post-only rests, no fill */
	assert_null(first_of(IG_EV_REJECT));
	assert_null(first_of(IG_EV_FILL));
	bar("104", "104.5", "103", "104");
	f = first_of(IG_EV_FILL);
	assert_non_null(f);
	if (f->body.fill.px > D("104.5") || f->body.fill.liquidity != IG_LIQ_MAKER)
		fail_msg("post-only limit buy 110 filled at %lld (%s) on a bar 104/104.5/103/104: "
			 "above the bar's high, as taker (want 104, maker)",
			 (long long)f->body.fill.px,
			 f->body.fill.liquidity == IG_LIQ_MAKER ? "maker" : "taker");
	assert_int_equal(f->body.fill.px, D("104"));
}

/* ------------------------------------------------ the engine, inline */

static struct ig_config cfg;
static struct ig_engine eng;

struct fillrec {
	int64_t ts, px;
};
static struct fillrec fills[64];
static uint32_t nfill;
static int64_t buy_at_ns;     /* the script buys on the bar stamped this */

static void r_on_bar(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	if (ev->hdr.ts_event_ns == buy_at_ns)
		ig_ctx_market(ctx, ev->hdr.instrument_id, IG_SIDE_BUY, IG_FIXED(1));
}

static void r_on_fill(void *st, struct ig_strategy_ctx *ctx, const struct ig_event *ev)
{
	(void)st;
	(void)ctx;
	if (nfill < 64)
		fills[nfill++] = (struct fillrec){ ev->hdr.ts_event_ns, ev->body.fill.px };
}

static const struct ig_strategy_type recorder = {
	.name = "recorder",
	.on_bar = r_on_bar,
	.on_fill = r_on_fill,
};

static void run_yaml(const char *yaml_text)
{
	char yaml[160];
	struct ig_engine_opts opts;
	snprintf(yaml, sizeof(yaml), "%s", write_file("run.yaml", yaml_text));
	if (ig_config_load(&cfg, yaml, NULL, 0, err, sizeof(err)) != 0)
		fail_msg("config: %s", err);
	memset(&opts, 0, sizeof(opts));
	nfill = 0;
	if (ig_engine_init(&eng, &cfg, &opts, err, sizeof(err)) != 0)
		fail_msg("ig_engine_init: %s", err);
	eng.hosts[0].ctx[0]->type = &recorder;
	assert_int_equal(ig_engine_run(&eng), 0);
}

#define T0 INT64_C(1704153600000000000) /* 2024-01-02T00:00:00Z */

/* F2. Minute bars with a missing minute at the start (illiquid minutes
 * are simply absent from many exchange exports): 00:00, 00:03, 00:04 ...
 * The CSV gives the 00:03 bar period_ns = 3 min (the gap BEFORE it, i.e.
 * the previous bar's span: csv.c parse_row), and the venue caps a bar's
 * length only by the shortest gap seen so far, also 3 min (paper.c
 * note_bar). So a market buy decided on the 00:03 bar counts as decided
 * at 00:06: the bars 00:04 and 00:05 are skipped and it fills at 00:06's
 * open, 140. docs: "With one instrument and no latency the next bar
 * qualifies"; the 00:03 bar ended when 00:04 opened: want 120. */
static void test_engine_gap_before_bar_delays_fill(void **state)
{
	char yaml[512];
	const char *csv;
	(void)state;
	csv = write_file("gap.csv", "utc_time,open,high,low,close,volume\n"
				    "2024-01-02T00:00:00Z,100,101,99,100,10\n"
				    "2024-01-02T00:03:00Z,110,111,109,110,10\n"
				    "2024-01-02T00:04:00Z,120,121,119,120,10\n"
				    "2024-01-02T00:05:00Z,130,131,129,130,10\n"
				    "2024-01-02T00:06:00Z,140,141,139,140,10\n"
				    "2024-01-02T00:07:00Z,150,151,149,150,10\n");
	snprintf(yaml, sizeof(yaml),
		 "engine: {threading: inline}\n"
		 "feed: {source: csv, path: %s, symbol: BTCUSD}\n"
		 "venue: {kind: paper, maker_fee_bps: 0, taker_fee_bps: 0}\n"
		 "strategies:\n  - {name: rec, type: sma_cross}\n",
		 csv);
	buy_at_ns = T0 + 3 * MIN_NS;
	run_yaml(yaml);
	ig_engine_destroy(&eng);
	assert_int_equal(nfill, 1);
	if (fills[0].px != IG_FIXED(120))
		fail_msg("market buy decided on the 00:03 bar filled at %lld (bar %lld min), want "
			 "the next bar's open 120 (00:04)",
			 (long long)fills[0].px, (long long)((fills[0].ts - T0) / MIN_NS));
}

/* F3. Two instruments on different timeframes (minute bars of A, hourly
 * bars of B, e.g. a filter), B listed first. At 01:00 both have a bar; B's
 * comes first (ties to the file listed first). The venue's decision time
 * for an order sent at a stamp is "the latest end" of every bar with that
 * stamp, whatever the order's instrument (paper.c ig_paper_submit
 * decided_ns, note_bar last_bar_end_ns): A's market buy decided on A's
 * 01:00 minute bar counts as decided at 02:00 and never fills (A's data
 * ends at 01:04). docs: "an order sent from on_bar for the bar stamped t
 * was decided at that bar's end": A's bar ends 01:01; want A's 01:01
 * open, 161. (With A's file listed first the same order fills at 161:
 * the result depends on the file order.) */
static void test_engine_mixed_timeframes_wait_for_other_bar(void **state)
{
	char yaml[768], pa[160], pb[160];
	char a[8192];
	size_t n = 0;
	(void)state;
	n += (size_t)snprintf(a + n, sizeof(a) - n, "utc_time,open,high,low,close,volume\n");
	for (int m = 0; m <= 64; m++)
		n += (size_t)snprintf(a + n, sizeof(a) - n,
				      "2024-01-02T%02d:%02d:00Z,%d,%d,%d,%d,10\n", m / 60, m % 60,
				      100 + m, 101 + m, 99 + m, 100 + m);
	snprintf(pa, sizeof(pa), "%s", write_file("a.csv", a));
	snprintf(pb, sizeof(pb), "%s",
		 write_file("b.csv", "utc_time,open,high,low,close,volume\n"
				     "2024-01-02T00:00:00Z,50,51,49,50,10\n"
				     "2024-01-02T01:00:00Z,50,51,49,50,10\n"));
	snprintf(yaml, sizeof(yaml),
		 "engine: {threading: inline}\n"
		 "feed:\n  source: csv\n  path:\n    - {path: %s, symbol: B}\n"
		 "    - {path: %s, symbol: A}\n"
		 "venue: {kind: paper, maker_fee_bps: 0, taker_fee_bps: 0}\n"
		 "strategies:\n  - {name: rec, type: sma_cross, symbols: [A]}\n",
		 pb, pa);
	buy_at_ns = T0 + 60 * MIN_NS;
	run_yaml(yaml);
	ig_engine_destroy(&eng);
	if (nfill != 1 || fills[0].px != IG_FIXED(161))
		fail_msg("A's market buy decided on A's 01:00 minute bar: %u fills (px %lld); want "
			 "one at A's 01:01 open, 161",
			 nfill, nfill ? (long long)fills[0].px : 0LL);
}

/* ------------------------------------------------------------- sweeps */

static const char *const crash_stats[] = {"fast"};

/* A strategy that aborts (here: the run itself) for fast == 13. */
static int crash_run(void *arg, const struct ig_config *c, char (*names)[IG_CFG_NAME_MAX],
		     char (*vals)[IG_SWEEP_STAT_MAX], char *e, size_t elen)
{
	const struct ig_cfg_param *pf = ig_config_param(&c->strategies[0], "fast");
	(void)arg;
	(void)e;
	(void)elen;
	if (pf != NULL && strcmp(pf->value, "13") == 0)
		abort();
	snprintf(names[0], IG_CFG_NAME_MAX, "%s", c->strategies[0].name);
	snprintf(vals[0], IG_SWEEP_STAT_MAX, "%.20s", pf != NULL ? pf->value : "");
	return 1;
}

static const struct ig_sweep_runner crash_runner = {
	.nstats = 1,
	.stat_names = crash_stats,
	.run = crash_run,
};

/* F4. docs: "a later combination that fails is reported and counted, and
 * the others go on". A worker that dies (a strategy that aborts) is
 * counted failed, but never replaced (sweep.c ig_sweep_run: r <= 0 ->
 * x->open = false, alive--): with --jobs 1 the sweep ends there, the
 * combinations after it never run, and ig_sweep_run still returns 0
 * ("every combination ran"); `ingenium sweep` prints "2 of 5
 * combinations". With --jobs N, N crashes end the sweep. */
static void test_sweep_worker_crash_does_not_stop_sweep(void **state)
{
	struct ig_sweep_grid g;
	struct ig_sweep_opts o;
	struct ig_sweep_result r;
	char d[] = "/tmp/ig-review2-sweep-XXXXXX";
	int rc;
	(void)state;
	assert_non_null(mkdtemp(d));
	memset(&o, 0, sizeof(o));
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=12..16", &g, err, sizeof(err)),
			 0);
	o.runner = &crash_runner;
	o.config = "test/app/engine_sma.yaml";
	o.grids = &g;
	o.ngrids = 1;
	o.jobs = 1;
	o.out_dir = d;
	o.sort = "fast";
	o.quiet = true;
	rc = ig_sweep_run(&o, &r, err, sizeof(err));
	if (r.done != 5 || r.rows != 4)
		fail_msg("one crashing combination of 5 (jobs 1): rc %d, done %llu, failed %llu, rows "
			 "%llu; want done 5, failed 1, rows 4",
			 rc, (unsigned long long)r.done, (unsigned long long)r.failed,
			 (unsigned long long)r.rows);
	assert_int_equal(r.failed, 1);
	ig_sweep_grid_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_post_only_released_stop_limit_fills_outside_bar,
						setup, teardown),
		cmocka_unit_test(test_engine_gap_before_bar_delays_fill),
		cmocka_unit_test(test_engine_mixed_timeframes_wait_for_other_bar),
		cmocka_unit_test(test_sweep_worker_crash_does_not_stop_sweep),
	};
	ig_log_set_level(IG_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
