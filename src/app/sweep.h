/*
 * sweep.h - parameter sweeps: many inline backtests of one config, each
 * with other values for a few keys, on every core.
 *
 * Design
 * ------
 * A grid is one config key (a dotted path, as for --set) and the list of
 * values it takes. The combinations are the cartesian product of the grids,
 * numbered 0..total-1 in mixed radix, the last grid varying fastest; a
 * random sweep draws N distinct combination numbers with a seeded PRNG, so
 * the same seed gives the same runs. A key given without values reads the
 * strategy's declared parameter (strategy.h: struct ig_param_decl): every
 * integer from min to max, every choice of an enum, both values of a bool.
 *
 * The parent process loads the config and the market data once, then forks
 * the workers: they share the data read-only (copy-on-write pages that are
 * never written), and each runs whole backtests, one combination at a time,
 * as the parent hands them out over a pipe (the next one goes to whichever
 * worker finishes first). A worker answers with one text line per strategy
 * (the combination's number and the formatted statistics) and a line that
 * ends the combination. Rows are appended to DIR/sweep.csv as they arrive,
 * so an interrupted sweep (Ctrl-C, a crash) keeps every finished row; at the
 * end the file is rewritten sorted by the chosen statistic, best first.
 *
 * With an out-of-sample date, each combination runs twice: on the data
 * before the date (in-sample, which ranks) and from the date on
 * (out-of-sample, reported in oos_ columns beside it).
 *
 * Owner: the main thread of the `ingenium sweep` process; workers are
 * processes of their own.
 */
#ifndef IG_APP_SWEEP_H
#define IG_APP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define IG_SWEEP_MAX_GRIDS 16
#define IG_SWEEP_MAX_VALUES 4096   /* values of one grid */
#define IG_SWEEP_VALUE_MAX 64      /* one value's text, with its NUL */
#define IG_SWEEP_KEY_MAX 128

/* One swept key and its values. Owner: whoever parsed it; free with
 * ig_sweep_grid_free. */
struct ig_sweep_grid {
	char key[IG_SWEEP_KEY_MAX];      /* dotted path */
	uint32_t nvalues;                /* 0 = to be read from the declared param */
	char (*values)[IG_SWEEP_VALUE_MAX];
};

/* Parses "KEY=A..B[:STEP]", "KEY=v1,v2,..." or "KEY" (values from the
 * declared parameter, filled in by ig_sweep_grid_resolve). A range counts
 * from A up to B inclusive in steps of STEP (default 1), exactly, in the
 * engine's fixed point (A, B and STEP may be decimals; STEP > 0; B >= A).
 * Returns 0, or IG_EINVAL with err set; g->values is malloc'd (free with
 * ig_sweep_grid_free). */
int ig_sweep_grid_parse(const char *spec, struct ig_sweep_grid *g, char *err, size_t errlen);

/* Completes a grid against a loaded config: a bare parameter name ("fast")
 * becomes the full path of the one strategy that declares it, and a grid
 * without values takes the declared parameter's range or choices. Returns 0
 * or IG_EINVAL with err set (unknown key, several strategies declare it,
 * the parameter has no bounds). */
int ig_sweep_grid_resolve(struct ig_sweep_grid *g, const struct ig_config *cfg, char *err,
			  size_t errlen);

void ig_sweep_grid_free(struct ig_sweep_grid *g);

/* Number of combinations of n grids (saturates at UINT64_MAX). */
uint64_t ig_sweep_total(const struct ig_sweep_grid *g, uint32_t n);

/* The values of combination idx (< total): vals[i] points into g[i]. */
void ig_sweep_combo(const struct ig_sweep_grid *g, uint32_t n, uint64_t idx, const char **vals);

/* Draws min(n, total) distinct combination numbers from 0..total-1 with the
 * seeded PRNG, in ascending order, into out (room for n). Returns how many.
 * The same (total, n, seed) always gives the same numbers. */
uint64_t ig_sweep_sample(uint64_t total, uint64_t n, uint64_t seed, uint64_t *out);

#define IG_SWEEP_STAT_MAX 32      /* one formatted statistic, with its NUL */

/* What runs one backtest: the sweep itself knows nothing of the engine.
 * Owner: the caller of ig_sweep_run; used in the parent (prepare) and in
 * the workers (run). */
struct ig_sweep_runner {
	uint32_t nstats;                   /* columns per strategy */
	const char *const *stat_names;     /* nstats names, CSV column order */
	/* Called once in the parent with the first combination's config,
	 * before the workers fork (load the data to share). Returns 0 or a
	 * negative code with err set. May be NULL. */
	int (*prepare)(void *arg, const struct ig_config *cfg, char *err, size_t errlen);
	/* Runs one backtest of cfg in a worker. Fills names[s] and
	 * vals[s * nstats + i] for each strategy s (room for
	 * IG_MAX_STRATEGIES); "" is an undefined statistic. Returns the
	 * number of strategies, or a negative code with err set. */
	/* Called once in the parent after the workers have ended (free what
	 * prepare loaded). May be NULL. */
	void (*release)(void *arg);
	int (*run)(void *arg, const struct ig_config *cfg, char (*names)[IG_CFG_NAME_MAX],
		   char (*vals)[IG_SWEEP_STAT_MAX], char *err, size_t errlen);
	void *arg;
};

struct ig_sweep_opts {
	const struct ig_sweep_runner *runner;
	const char *config;                   /* path */
	const struct ig_cfg_override *sets;   /* --set, applied to every run */
	size_t nsets;
	struct ig_sweep_grid *grids;
	uint32_t ngrids;
	uint64_t random;                      /* 0 = every combination */
	uint64_t seed;
	uint32_t jobs;                        /* 0 = one per online CPU */
	const char *out_dir;                  /* NULL = "sweep-out" */
	const char *sort;                     /* statistic to rank on; NULL = sharpe */
	const char *oos_from;                 /* ISO 8601 date or NULL */
	uint32_t top;                         /* rows printed; 0 = 10 */
	bool progress;                        /* a progress bar on stderr */
	bool quiet;                           /* no table on stdout */
};

struct ig_sweep_result {
	uint64_t planned;         /* combinations to run */
	uint64_t done;            /* combinations finished */
	uint64_t failed;          /* combinations whose run failed */
	uint64_t rows;            /* rows in sweep.csv */
	uint32_t jobs;            /* workers used */
	double elapsed_s;
	double runs_per_s;        /* backtest runs (with oos: two per combination) per second */
	bool interrupted;
};

/* Runs a sweep. Returns 0 (every combination ran, even if some failed),
 * IG_EINTR after Ctrl-C (finished rows kept), or another negative code with
 * err set (bad options, nothing could run). */
int ig_sweep_run(const struct ig_sweep_opts *o, struct ig_sweep_result *res, char *err,
		 size_t errlen);

#endif
