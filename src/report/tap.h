/*
 * tap.h - the report collector wired to an engine: an OMS observer
 * (ig_oms_set_observer) that turns marks into prices and equity samples
 * and OMS fills into round trips (report.h).
 *
 * Sampling: an equity sample of every strategy is taken when the data
 * moves on: for bars at every new bar timestamp, for quotes and trades at
 * every new report.equity_every_s bucket of data time (0: every new
 * timestamp). The sample is taken just before the next mark is applied, so
 * it holds every fill the previous bar (or bucket) caused, valued at its
 * last mark, stamped with that mark's time; ig_report_tap_finish() takes
 * the last one. Cost per mark: a compare, and per sample one
 * ig_oms_equity() per strategy and a CSV row.
 *
 * Owner: the OMS's thread (inline backtests: the only one).
 */
#ifndef IG_REPORT_TAP_H
#define IG_REPORT_TAP_H

#include "oms/oms.h"
#include "report/report.h"

struct ig_report_tap {
	struct ig_report *r;
	uint32_t nstrategies;
	int64_t every_ns;      /* tick data: bucket width, 0 = every timestamp */
	bool have_key;
	bool ticks;            /* a quote or trade was seen (ig_report_set_ticks) */
	int64_t key;           /* the bucket (or bar timestamp) being sampled */
	int64_t last_ts;       /* data time of the last mark */
};

/* Sets the tap up over collector r (not owned). */
void ig_report_tap_init(struct ig_report_tap *t, struct ig_report *r, uint32_t nstrategies,
			int64_t equity_every_s);

/* The OMS observer (ig_oms_observer_fn); arg is the struct ig_report_tap. */
void ig_report_tap_observe(void *arg, const struct ig_oms *oms, const struct ig_event *ev);

/* After the run: the last equity sample of every strategy. */
void ig_report_tap_finish(struct ig_report_tap *t, const struct ig_oms *oms);

#endif
