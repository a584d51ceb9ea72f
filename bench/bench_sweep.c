/* bench_sweep.c - backtest runs per second of `ingenium sweep` at 1 and 2
 * jobs: the same grid of sma_cross parameters on the sample quotes, the
 * data loaded once and shared by the forked workers. 84 combinations (28
 * x 3), so the start of the workers and the last combination's tail are a
 * small part of each sweep. */
#include "bench.h"

#include "app/backtest.h"
#include "app/sweep.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One sweep with jobs workers; returns its runs per second, 0 on failure. */
static double sweep_rate(struct bench_ctx *ctx, uint32_t jobs, const char *grid, const char *dir)
{
	struct ig_sweep_grid g[2];
	struct ig_sweep_opts o;
	struct ig_sweep_result res;
	char err[512];
	int rc;

	if (ig_sweep_grid_parse(grid, &g[0], err, sizeof(err)) != 0 ||
	    ig_sweep_grid_parse("strategies.0.params.slow=30,45,60", &g[1], err, sizeof(err)) != 0) {
		bench_fail(ctx, "sweep grid: %s", err);
		return 0;
	}
	memset(&o, 0, sizeof(o));
	o.runner = ig_backtest_sweep_runner(true);
	o.config = "config/ingenium.yaml";
	o.grids = g;
	o.ngrids = 2;
	o.jobs = jobs;
	o.out_dir = dir;
	o.sort = "return_pct";
	o.quiet = true;
	rc = ig_sweep_run(&o, &res, err, sizeof(err));
	ig_sweep_grid_free(&g[0]);
	ig_sweep_grid_free(&g[1]);
	if (rc != 0 || res.failed != 0) {
		bench_fail(ctx, "sweep (%u jobs): %s", jobs, rc != 0 ? err : "a run failed");
		return 0;
	}
	return res.runs_per_s;
}

void bench_sweep(struct bench_ctx *ctx)
{
	const char *grid = ctx->quick ? "strategies.0.params.fast=2..9" : "strategies.0.params.fast=2..29";
	uint32_t reps = ctx->quick ? 1 : 5;
	double r1[8], r2[8];
	char dir[] = "/tmp/ig-bench-sweep-XXXXXX";
	char cmd[64];

	if (mkdtemp(dir) == NULL) {
		bench_fail(ctx, "sweep: mkdtemp");
		return;
	}
	ig_log_set_level(IG_LOG_ERROR);
	/* Interleaved, so drift on a shared VM hits both alike. */
	for (uint32_t k = 0; k < reps; k++) {
		r1[k] = sweep_rate(ctx, 1, grid, dir);
		r2[k] = sweep_rate(ctx, 2, grid, dir);
	}
	bench_result_median(ctx, "sweep.jobs1.runs_per_s", r1, reps, "runs/s");
	bench_result_median(ctx, "sweep.jobs2.runs_per_s", r2, reps, "runs/s");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		bench_fail(ctx, "sweep: could not remove %s", dir);
}
