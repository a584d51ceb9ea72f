/*
 * backtest.h - an inline backtest in process, with its statistics and,
 * optionally, its report files. `ingenium backtest` uses it; so can a
 * parameter sweep (call it once per config).
 *
 *   struct ig_backtest_opts o = { .report_dir = NULL };
 *   struct ig_backtest_result *res = malloc(sizeof(*res));
 *   if (ig_backtest_run(&cfg, &o, res, err, sizeof(err)) == 0)
 *       for (uint32_t i = 0; i < res->nstrategies; i++)
 *           printf("%s %f\n", res->names[i],
 *                  ig_report_stat_double(&res->stats[i], IG_RS_sharpe));
 *
 * Ownership: the caller owns cfg, opts and res (plain values, nothing to
 * free inside them); ig_backtest_run copies cfg (and forces
 * engine.threading: inline), allocates the engine and the collector and
 * frees both before it returns. The caller starts the logger
 * (ig_log_start, or not: then warnings go to stderr synchronously) and, at
 * the very end, unloads strategy plugins (ig_strategy_plugins_unload);
 * a plugin loaded by one run is reused by the next. Main thread; one run
 * at a time per process (the logger's strategy names are process-wide;
 * each distinct strategy and symbol name is kept, once, for the life of
 * the process, so log lines queued by a run still format after it).
 */
#ifndef IG_APP_BACKTEST_H
#define IG_APP_BACKTEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "feed/feed.h"
#include "report/report.h"

/* The sweep's runner (sweep.h) for backtests: one ig_backtest_run per
 * combination, statistics as stats.json's, the data preloaded once in the
 * parent when the feed allows it (csv; synthetic with feed.count) and no
 * swept key is a feed key. Returns a static runner. */
struct ig_sweep_runner;
const struct ig_sweep_runner *ig_backtest_sweep_runner(bool preload);

struct ig_backtest_opts {
	const char *report_dir;   /* NULL: no files; else created if missing, and it gets
				   * summary.json, stats.json, equity.csv, trades.csv, report.html */
	const char *summary_json; /* NULL, or a path for the summary JSON (--summary-json) */
	FILE *print_summary;      /* NULL, or where to print the human-readable summary */
	const char *config_text;  /* shown in report.html; NULL: the text of cfg->file */
	const struct ig_feed_data *feed_data; /* NULL: read the config's feed; else replay this
					       * preloaded data (feed.h: ig_feed_preload), which
					       * the caller keeps until the run returns */
	bool verbose;             /* a log line per order, fill and reject (-v); off by default:
				   * thousands of them would bury the warnings and the summary */
};

struct ig_backtest_result {  /* a public value type, filled by ig_backtest_run */
	uint32_t nstrategies;
	char names[IG_MAX_STRATEGIES][IG_CFG_NAME_MAX];
	struct ig_report_stats stats[IG_MAX_STRATEGIES]; /* report.h: IG_REPORT_STATS */
	uint64_t events;          /* events handled by all stages */
	uint64_t md_events;       /* market data events read */
};

/*
 * Runs cfg's backtest inline to the end of its data. Fills res (always,
 * from the same collector that writes the report files). Returns 0, or:
 *   IG_ECONFIG  a live feed, or the engine refused the config (err says why)
 *   IG_ENOENT / IG_EIO  a file could not be read or written (err says which)
 *   IG_ENOMEM and the engine's other run errors
 * err (capacity errlen) is set on every failure.
 */
int ig_backtest_run(const struct ig_config *cfg, const struct ig_backtest_opts *opts,
		    struct ig_backtest_result *res, char *err, size_t errlen);

#endif
