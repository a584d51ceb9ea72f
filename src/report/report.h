/*
 * report.h - backtest reports: a collector that observes a run (equity
 * samples, fills, round trips) with memory flat in the number of events,
 * the statistics computed from it, and the files it writes
 * (equity.csv, trades.csv, stats.json, report.html).
 * docs/backtesting.md, "Reports" defines every column and formula.
 *
 * Design
 * ------
 * The collector is fed plain values, so it can be driven by the engine or
 * by a test directly:
 *
 *   ig_report_price()   a market-data price of instrument k at ts (data
 *                       time); counts bars held, buy & hold, the price
 *                       chart, and for tick data the time with a position
 *   ig_report_fill()    a fill of strategy s, with the position after it;
 *                       builds round trips (below), streams trades.csv
 *   ig_report_equity()  an equity sample of strategy s (one per bar, after
 *                       the bar's fills); streams equity.csv, keeps the
 *                       running peak, drawdown episodes, per-UTC-day and
 *                       per-month returns, the exposed samples and a
 *                       bounded downsampled curve for the HTML charts
 *   ig_report_finish()  closes the last day and month, computes the stats,
 *                       closes the CSV files
 *
 * src/report/tap.c adapts it to the engine: an OMS observer
 * (ig_oms_set_observer) that turns marks into prices and equity samples
 * (per bar, or per report.equity_every_s of data time for ticks) and OMS
 * fills into ig_report_fill().
 *
 * Round trip: per strategy and instrument, a round trip opens at the fill
 * that moves the position away from 0 and closes at the fill that brings
 * it back to 0. Fills in between that add to the position or reduce it
 * (partially) belong to it. A fill that crosses 0 (a flip) is split by
 * quantity, in proportion to the position change: the part that reaches 0
 * closes the round trip, the rest opens the next one (fee split the same
 * way). pnl = the round trip's cash flow: sells' notional - buys'
 * notional - cash fees (net of fees); its return = dir * (exit VWAP /
 * entry VWAP - 1) - fees / entry notional.
 *
 * Memory: per strategy a fixed state plus the month table (one entry per
 * calendar month of data) and bounded chart buffers (report.chart_points).
 *
 * Owner: one thread (the OMS's, inline: the only one). Not thread-safe.
 */
#ifndef IG_REPORT_REPORT_H
#define IG_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ingenium/event.h"

/*
 * The statistics, in the order stats.json and the HTML table list them.
 * X(name, kind): kind MONEY (int64 1e-8, printed as a decimal), COUNT
 * (int64), SECONDS (int64 seconds), PCT (double, percent), RATIO (double).
 */
#define IG_REPORT_STATS(X)                 \
	X(equity_initial, MONEY)           \
	X(equity_final, MONEY)             \
	X(equity_peak, MONEY)              \
	X(cash_final, MONEY)               \
	X(return_pct, PCT)                 \
	X(return_ann_pct, PCT)             \
	X(buy_hold_return_pct, PCT)        \
	X(cagr_pct, PCT)                   \
	X(duration_s, SECONDS)             \
	X(max_drawdown_pct, PCT)           \
	X(avg_drawdown_pct, PCT)           \
	X(max_drawdown_duration_s, SECONDS) \
	X(trades, COUNT)                   \
	X(open_trades, COUNT)              \
	X(win_rate_pct, PCT)               \
	X(best_trade_pct, PCT)             \
	X(worst_trade_pct, PCT)            \
	X(avg_trade_pct, PCT)              \
	X(profit_factor, RATIO)            \
	X(expectancy, MONEY)               \
	X(expectancy_pct, PCT)             \
	X(sqn, RATIO)                      \
	X(sharpe, RATIO)                   \
	X(sortino, RATIO)                  \
	X(calmar, RATIO)                   \
	X(volatility_ann_pct, PCT)         \
	X(exposure_pct, PCT)               \
	X(fees, MONEY)

enum ig_report_kind { IG_RK_MONEY, IG_RK_COUNT, IG_RK_SECONDS, IG_RK_PCT, IG_RK_RATIO };

#define IG__RS_ENUM(n, k) IG_RS_##n,
enum ig_report_stat { IG_REPORT_STATS(IG__RS_ENUM) IG_RS__COUNT };
#undef IG__RS_ENUM

#define IG__RS_CT_MONEY int64_t
#define IG__RS_CT_COUNT int64_t
#define IG__RS_CT_SECONDS int64_t
#define IG__RS_CT_PCT double
#define IG__RS_CT_RATIO double
#define IG__RS_FIELD(n, k) IG__RS_CT_##k n;

/* One strategy's statistics: a public value type. A stat whose bit in
 * `defined` is clear is undefined (no trades, zero deviation, ...): JSON
 * null, an empty CSV cell, NaN from ig_report_stat_double. */
struct ig_report_stats {
	IG_REPORT_STATS(IG__RS_FIELD)
	uint64_t defined; /* bit IG_RS_x set: stat x has a value */
};
#undef IG__RS_FIELD

_Static_assert(IG_RS__COUNT <= 64, "the defined mask has 64 bits");

/* The stat's name ("sharpe"), or NULL out of range. */
const char *ig_report_stat_name(enum ig_report_stat id);

/* The stat's kind. */
enum ig_report_kind ig_report_stat_kind(enum ig_report_stat id);

/* The stat id of name, or -1. */
int ig_report_stat_find(const char *name);

/* True if the stat has a value. */
bool ig_report_stat_defined(const struct ig_report_stats *st, enum ig_report_stat id);

/* The value as a double for sorting (money in quote units, not 1e-8);
 * NaN when undefined. */
double ig_report_stat_double(const struct ig_report_stats *st, enum ig_report_stat id);

/* Formats the value for CSV: money as an exact decimal, counts and
 * seconds as integers, doubles with 6 decimals, "" when undefined.
 * Returns the length written (snprintf's), buf always terminated. */
int ig_report_stat_format(const struct ig_report_stats *st, enum ig_report_stat id, char *buf,
			  size_t cap);

/* What the collector is told at the start. Names are copied. */
struct ig_report_opts {
	const char *dir;           /* write equity.csv and trades.csv here; NULL = no files */
	uint32_t nstrategies;      /* 1..IG_MAX_STRATEGIES */
	const char *const *strategy_names;
	const int64_t *capital;    /* per strategy, the initial equity, 1e-8 */
	const uint16_t *home;      /* per strategy, its first symbol's instrument (the chart's and
				    * buy & hold's until it trades); NULL = 0 */
	const char *const *symbols;/* instrument names by id */
	uint16_t ninstruments;
	int64_t annual_days;       /* > 0 */
	int64_t risk_free_pct;     /* annual, percent 1e-8 */
	uint32_t chart_points;     /* >= 16 */
};

struct ig_report;

/* Creates a collector (and, with opts->dir, its CSV files with their
 * headers; the directory must exist). Returns 0, IG_ENOMEM, IG_EINVAL or
 * IG_EIO (err says which file); *out is NULL on failure. Free with
 * ig_report_free. */
int ig_report_new(struct ig_report **out, const struct ig_report_opts *opts, char *err,
		  size_t errlen);

/* Frees the collector (closes its files if still open). NULL is fine. */
void ig_report_free(struct ig_report *r);

/* A price of instrument k at ts_ns (data time, non-decreasing). */
void ig_report_price(struct ig_report *r, uint16_t k, int64_t ts_ns, int64_t px);

/* A fill of strategy s on instrument k: side (enum ig_side), px, qty
 * (> 0), fee_cash (quote, moves cash; negative = rebate), fee_base_value
 * (a base-asset fee valued in quote; 0 if none), pos_after (the position
 * after the fill, 1e-8). */
void ig_report_fill(struct ig_report *r, uint32_t s, uint16_t k, int64_t ts_ns, int side,
		    int64_t px, int64_t qty, int64_t fee_cash, int64_t fee_base_value,
		    int64_t pos_after);

/* Tells the collector the data has quotes or trades (not only bars):
 * exposure_pct becomes a share of data time instead of a share of the
 * equity samples. */
void ig_report_set_ticks(struct ig_report *r);

/* An equity sample of strategy s at ts_ns (non-decreasing per strategy):
 * equity, cash and position (of its chart instrument), all 1e-8. */
void ig_report_equity(struct ig_report *r, uint32_t s, int64_t ts_ns, int64_t equity,
		      int64_t cash, int64_t position);

/* Ends the run: computes every strategy's stats into st[0..nstrategies)
 * and closes the CSV files. Returns 0 or IG_EIO (a CSV write failed;
 * stats are still filled). Call once. */
int ig_report_finish(struct ig_report *r, struct ig_report_stats *st);

/* Writes DIR/stats.json for the finished collector. Returns 0 or IG_EIO. */
int ig_report_write_stats(const struct ig_report *r, const struct ig_report_stats *st,
			  const char *path);

/* Writes DIR/report.html: one self-contained file (inline CSS and SVG, no
 * network). config_text: the config as written (HTML-escaped, values of
 * keys named like *secret*, *token*, *key* redacted); may be NULL.
 * Returns 0 or IG_EIO. */
int ig_report_write_html(const struct ig_report *r, const struct ig_report_stats *st,
			 const char *config_text, const char *path);

/* The instrument strategy s is charted on: the first it traded, else its
 * home instrument. */
uint16_t ig_report_chart_instrument(const struct ig_report *r, uint32_t s);

/* Module-internal (src/report/): the chart data html.c draws. */
struct ig__report_point {
	int64_t ts_ns;
	int64_t v;     /* equity or price, 1e-8 (the last in its bucket) */
	double dd_pct; /* the deepest drawdown in its bucket (equity curves) */
};

struct ig__report_series {
	struct ig__report_point *p;
	uint32_t n, cap;
	uint64_t stride;   /* samples per point */
	uint64_t in_bucket;
	struct ig__report_point cur; /* the bucket being filled */
};

struct ig__report_marker {
	int64_t ts_ns;
	int64_t px;
	uint8_t kind;      /* 0 long entry, 1 short entry, 2 exit */
};

struct ig__report_month {
	int32_t ym;        /* year * 12 + month - 1 */
	double ret;        /* the month's return, fraction */
};

/* Accessors html.c uses. */
uint32_t ig__report_nstrategies(const struct ig_report *r);
const char *ig__report_name(const struct ig_report *r, uint32_t s);
const struct ig__report_series *ig__report_equity_series(const struct ig_report *r, uint32_t s);
/* The strategy's chart instrument's price series and its symbol. */
const struct ig__report_series *ig__report_price_series(const struct ig_report *r, uint32_t s,
							const char **symbol);
const struct ig__report_marker *ig__report_markers(const struct ig_report *r, uint32_t s,
						   uint32_t *n);
const struct ig__report_month *ig__report_months(const struct ig_report *r, uint32_t s,
						 uint32_t *n);

/* Series helpers (collector.c): add a value, flush the bucket being
 * filled. Return 0 or IG_ENOMEM. */
int ig__report_series_add(struct ig__report_series *sr, uint32_t cap, int64_t ts_ns, int64_t v,
			  double dd_pct);
void ig__report_series_flush(struct ig__report_series *sr);

/* ts_ns as "YYYY-MM-DDTHH:MM:SSZ" (fractions of a second when not whole). */
void ig__report_iso8601(int64_t ts_ns, char *buf, size_t cap);

#endif
