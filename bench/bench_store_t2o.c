/*
 * bench_store_t2o.c - what the history store costs the pipeline:
 * tick-to-order with the store off, and on (SQLite in a fresh temporary
 * file, the recorder thread fed by its OMS tap), in the same run.
 *
 * Method
 * ------
 * The pipeline as bench_api.c runs it (synthetic feed, one sma_cross 2/4
 * on the paper venue, shared threading with a spinning worker at 10k
 * events/s, STORE_SECS per run, the journal off). Off and on alternate,
 * STORE_ROUNDS rounds each (fewer under --quick), so drift hits both
 * alike; each run's p50 and p99 come from the engine's own tick-to-order
 * histogram; the figures are the medians over runs, the ratios on / off
 * of those medians. The rows the recorder wrote and any it dropped are
 * reported from the on runs (summed).
 *
 * The end-to-end figures carry the machine's noise (on two shared vCPUs
 * it swamps the store's effect), so the section also times what the store
 * adds on the OMS's thread, the only place it touches the order path:
 * two OMSes built alike, one with a live recorder attached (its tap and
 * observer, the recorder thread writing SQLite), the same market intents
 * and fills through ig_oms_handle in alternating blocks of STORE_BLOCK, each
 * call timed (the clock's own cost left in both):
 *   store.oms.{order,fill}_{off,on}_p50_ns / _p99_ns, and the p50 ratios.
 */
#include "bench.h"

#include "app/engine.h"
#include "config/config.h"
#include "core/log.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"
#include "store/recorder.h"
#include "store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_SECS 2.0
#define STORE_ROUNDS 5
#define STORE_BLOCK 1000u
#define STORE_OMS_N 100000u

static struct ig_config st_cfg;
static struct ig_engine st_eng;

static void st_config(struct ig_config *cfg, bool quick, const char *db)
{
	bench_pipeline_config(cfg);
	cfg->feed.rate = 10000;
	cfg->feed.count = (int64_t)(10000.0 * (quick ? STORE_SECS / 2 : STORE_SECS));
	cfg->engine.threading = IG_THREADING_SHARED;
	cfg->engine.wait = 0; /* spin */
	cfg->engine.workers = 1;
	snprintf(cfg->store.daemon_id, sizeof(cfg->store.daemon_id), "bench");
	if (db != NULL) {
		cfg->store.kind = IG_STORE_SQLITE;
		snprintf(cfg->store.path, sizeof(cfg->store.path), "%s", db);
	} else {
		cfg->store.kind = IG_STORE_OFF;
	}
}

struct st_run {
	double p50, p99;
	uint64_t rows, dropped;
	bool ok;
};

/* One pipeline run, the store on or off. Returns its tick-to-order p50
 * and p99 (ok false when it failed or sent no order). */
static struct st_run st_run_once(struct bench_ctx *ctx, bool on)
{
	struct ig_engine_opts opts;
	struct st_run r = { 0, 0, 0, 0, false };
	char err[512], path[64];

	path[0] = '\0';
	if (on) {
		int fd;
		snprintf(path, sizeof(path), "/tmp/ig-bench-t2o-XXXXXX");
		fd = mkstemp(path);
		if (fd < 0) {
			bench_fail(ctx, "cannot make a temporary file");
			return r;
		}
		close(fd);
		unlink(path);
	}
	st_config(&st_cfg, ctx->quick, on ? path : NULL);
	memset(&opts, 0, sizeof(opts));
	opts.epoch = 1;
	if (ig_engine_init(&st_eng, &st_cfg, &opts, err, sizeof(err)) != 0) {
		bench_fail(ctx, "engine init (store %s): %s", on ? "on" : "off", err);
		if (on)
			bench_remove_sqlite(path);
		return r;
	}
	if (on && st_eng.recorder == NULL) {
		bench_fail(ctx, "the store is on but the engine has no recorder");
	} else if (ig_engine_run(&st_eng) == 0) {
		const struct ig_hist *h = &st_eng.exec.tick_to_order;
		r.p50 = (double)ig_hist_quantile(h, 0.50);
		r.p99 = (double)ig_hist_quantile(h, 0.99);
		r.ok = h->count > 0;
		if (on) {
			struct ig_recorder_stats s;
			ig_recorder_stats(st_eng.recorder, &s);
			r.rows = s.rows;
			r.dropped = s.dropped;
		}
	} else {
		bench_fail(ctx, "engine run failed (store %s)", on ? "on" : "off");
	}
	ig_engine_destroy(&st_eng);
	if (on)
		bench_remove_sqlite(path);
	return r;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* p50 and p99 of t[0..n) (sorted here), recorded as name_p50_ns and
 * name_p99_ns. Returns the p50. */
static double st_quantiles(struct bench_ctx *ctx, const char *name, int64_t *t, size_t n)
{
	char k[80];
	qsort(t, n, sizeof(t[0]), cmp_i64);
	snprintf(k, sizeof(k), "%s_p50_ns", name);
	bench_result(ctx, k, (double)t[n / 2], "ns");
	snprintf(k, sizeof(k), "%s_p99_ns", name);
	bench_result(ctx, k, (double)t[n * 99 / 100], "ns");
	return (double)t[n / 2];
}

/* The OMS handler with and without a recorder (see the top). */
static void st_oms_handler(struct bench_ctx *ctx)
{
	static struct ig_oms oms[2];
	static struct ig_config cfg[2];
	static int64_t t[2][2][STORE_OMS_N]; /* [on][fill] */
	const char *syms[1] = { "SYN" };
	struct ig_recorder_opts ro;
	struct ig_recorder *rec = NULL;
	struct ig_recorder_stats rs;
	uint32_t n = ctx->quick ? STORE_OMS_N / 4 : STORE_OMS_N;
	char path[64], err[256];
	double p[2][2];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ig-bench-oms-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0) {
		bench_fail(ctx, "cannot make a temporary file");
		return;
	}
	close(fd);
	unlink(path);
	for (int on = 0; on < 2; on++)
		if (bench_oms_init(&oms[on], &cfg[on]) != 0) {
			bench_fail(ctx, "oms init");
			return;
		}
	snprintf(cfg[1].store.daemon_id, sizeof(cfg[1].store.daemon_id), "bench");
	memset(&ro, 0, sizeof(ro));
	ro.ops = &ig_store_sqlite_ops;
	ro.target = path;
	ro.cfg = &cfg[1];
	ro.symbols = syms;
	ro.ninstruments = 1;
	ro.run_epoch = 1;
	ro.started_at = ig_clock_real_ns();
	if (ig_recorder_create(&rec, &ro, err, sizeof(err)) != 0 ||
	    ig_recorder_attach(rec, &oms[1]) != 0 || ig_recorder_start(rec) != 0) {
		bench_fail(ctx, "recorder: %s", err);
		goto out;
	}
	for (uint32_t b = 0; b < n; b += STORE_BLOCK) {
		for (int on = 0; on < 2; on++)
			for (uint32_t k = b; k < b + STORE_BLOCK && k < n; k++) {
				t[on][0][k] = bench_oms_order_fill(&oms[on], 2 * (uint64_t)k + 1, false);
				t[on][1][k] = bench_oms_order_fill(&oms[on], 2 * (uint64_t)k + 2, true);
			}
		/* Unpaced, the OMS outruns any store: let the recorder drain
		 * between blocks, so every timed call takes the real path (a
		 * copy into the ring), never the full ring's drop. */
		for (int w = 0; w < 2000; w++) {
			ig_recorder_stats(rec, &rs);
			if (rs.behind == 0)
				break;
			usleep(1000);
		}
	}
	ig_recorder_stop(rec, ig_clock_real_ns());
	ig_recorder_stats(rec, &rs);
	p[0][0] = st_quantiles(ctx, "store.oms.order_off", t[0][0], n);
	p[1][0] = st_quantiles(ctx, "store.oms.order_on", t[1][0], n);
	p[0][1] = st_quantiles(ctx, "store.oms.fill_off", t[0][1], n);
	p[1][1] = st_quantiles(ctx, "store.oms.fill_on", t[1][1], n);
	if (p[0][0] > 0)
		bench_result(ctx, "store.oms.order_on_vs_off.p50_ratio", p[1][0] / p[0][0], "x");
	if (p[0][1] > 0)
		bench_result(ctx, "store.oms.fill_on_vs_off.p50_ratio", p[1][1] / p[0][1], "x");
	bench_result(ctx, "store.oms.rows", (double)rs.rows, "rows");
	if (rs.dropped > 0)
		bench_note(ctx, "store_t2o: the OMS-handler recorder dropped %llu items",
			   (unsigned long long)rs.dropped);
out:
	ig_recorder_destroy(rec);
	for (int on = 0; on < 2; on++)
		ig_oms_destroy(&oms[on]);
	bench_remove_sqlite(path);
}

void bench_store_t2o(struct bench_ctx *ctx)
{
	double p50[2][BENCH_MAX_REPEATS], p99[2][BENCH_MAX_REPEATS];
	uint32_t n[2] = { 0, 0 }, rounds = ctx->quick ? 2 : STORE_ROUNDS;
	uint64_t rows = 0, dropped = 0;
	double m50[2], m99[2];

	ig_log_set_level(IG_LOG_ERROR);
	for (uint32_t k = 0; k < rounds; k++) {
		for (int on = 0; on < 2; on++) {
			struct st_run r = st_run_once(ctx, on == 1);
			if (!r.ok)
				continue;
			p50[on][n[on]] = r.p50;
			p99[on][n[on]] = r.p99;
			n[on]++;
			rows += r.rows;
			dropped += r.dropped;
		}
	}
	if (n[0] == 0 || n[1] == 0) {
		bench_fail(ctx, "store_t2o: no orders measured (off %u, on %u runs)", n[0], n[1]);
		return;
	}
	m50[0] = bench_result_median(ctx, "store.off.tick_to_order_p50_ns", p50[0], n[0], "ns");
	m99[0] = bench_result_median(ctx, "store.off.tick_to_order_p99_ns", p99[0], n[0], "ns");
	m50[1] = bench_result_median(ctx, "store.on.tick_to_order_p50_ns", p50[1], n[1], "ns");
	m99[1] = bench_result_median(ctx, "store.on.tick_to_order_p99_ns", p99[1], n[1], "ns");
	if (m50[0] > 0)
		bench_result(ctx, "store.on_vs_off.p50_ratio", m50[1] / m50[0], "x");
	if (m99[0] > 0)
		bench_result(ctx, "store.on_vs_off.p99_ratio", m99[1] / m99[0], "x");
	bench_result(ctx, "store.on.rows", (double)rows, "rows");
	bench_result(ctx, "store.on.dropped", (double)dropped, "items");
	if (dropped > 0)
		bench_note(ctx, "the recorder dropped %llu items", (unsigned long long)dropped);
	st_oms_handler(ctx);
}
