/* backtest.c - an inline backtest with its report (see backtest.h). */
#include "app/backtest.h"
#include "app/sweep.h"

#include "app/engine.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "report/tap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * The logger formats queued events with the names it was given, possibly
 * after this function returned and freed the engine that held them
 * (log.h: the arrays must outlive the logger). So the logger gets names
 * that are never freed: each distinct name is interned once per process
 * (a sweep reuses the same few), and the pointer tables are static, an
 * entry written only when it changes.
 */
#define INTERN_MAX 4096
static char *interned[INTERN_MAX];
static uint32_t ninterned;
static const char *log_strategies[IG_MAX_STRATEGIES];
static const char *log_instruments[IG_MAX_INSTRUMENTS];

/* The interned copy of s, or "-" when the pool is full or out of memory. */
static const char *intern(const char *s)
{
	for (uint32_t i = 0; i < ninterned; i++)
		if (strcmp(interned[i], s) == 0)
			return interned[i];
	if (ninterned == INTERN_MAX || (interned[ninterned] = strdup(s)) == NULL)
		return "-";
	return interned[ninterned++];
}

static void set_log_names(const struct ig_engine *e, uint32_t nstrategies)
{
	for (uint32_t i = 0; i < nstrategies; i++) {
		const char *n = intern(e->strategy_names[i]);
		if (log_strategies[i] != n)
			__atomic_store_n(&log_strategies[i], n, __ATOMIC_RELEASE);
	}
	for (uint16_t k = 0; k < e->ninstruments; k++) {
		const char *n = intern(e->symbol_names[k]);
		if (log_instruments[k] != n)
			__atomic_store_n(&log_instruments[k], n, __ATOMIC_RELEASE);
	}
	ig_log_set_names(log_strategies, nstrategies, log_instruments, e->ninstruments);
}

/* The whole of a text file, NUL-terminated, or NULL. Caller frees. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *p = realloc(buf, cap + 65536);
			if (p == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
			cap += 65536;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The report files besides the CSVs. Returns 0 or IG_EIO with err set. */
static int write_files(struct ig_engine *e, struct ig_report *r, const struct ig_backtest_result *res,
		       const struct ig_backtest_opts *o, const struct ig_config *cfg, char *err,
		       size_t errlen)
{
	char path[1024];
	char *text = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/summary.json", o->report_dir);
	if (ig_engine_write_summary(e, path) != 0)
		goto io;
	snprintf(path, sizeof(path), "%s/stats.json", o->report_dir);
	if (ig_report_write_stats(r, res->stats, path) != 0)
		goto io;
	if (o->config_text == NULL)
		text = slurp(cfg->file);
	snprintf(path, sizeof(path), "%s/report.html", o->report_dir);
	rc = ig_report_write_html(r, res->stats, o->config_text != NULL ? o->config_text : text, path);
	free(text);
	if (rc != 0)
		goto io;
	return 0;
io:
	snprintf(err, errlen, "%s: cannot write", path);
	return IG_EIO;
}

int ig_backtest_run(const struct ig_config *cfg, const struct ig_backtest_opts *opts,
		    struct ig_backtest_result *res, char *err, size_t errlen)
{
	struct ig_config *c = NULL;
	struct ig_engine *e = NULL;
	struct ig_report *r = NULL;
	struct ig_report_tap tap;
	struct ig_engine_opts eo;
	struct ig_report_opts ro;
	int64_t capital[IG_MAX_STRATEGIES];
	uint16_t home[IG_MAX_STRATEGIES];
	int rc;

	memset(res, 0, sizeof(*res));
	if (ig_feed_type_at(cfg->feed.source)->live) {
		snprintf(err, errlen,
			 "%s: feed.source: a backtest replays csv or synthetic data, not a live feed",
			 cfg->file);
		return IG_ECONFIG;
	}
	if (opts->report_dir != NULL && mkdir(opts->report_dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", opts->report_dir, strerror(errno));
		return IG_EIO;
	}
	c = malloc(sizeof(*c));
	e = malloc(sizeof(*e));
	if (c == NULL || e == NULL) {
		free(c);
		free(e);
		snprintf(err, errlen, "backtest: out of memory");
		return IG_ENOMEM;
	}
	*c = *cfg;
	c->engine.threading = IG_THREADING_INLINE;
	memset(&eo, 0, sizeof(eo));
	eo.epoch = 0; /* inline runs: identical client ids run after run */
	eo.quiet_orders = !opts->verbose;
	eo.feed_data = opts->feed_data;
	rc = ig_engine_init(e, c, &eo, err, errlen);
	if (rc != 0) {
		free(e);
		free(c);
		return rc;
	}
	set_log_names(e, c->nstrategies);
	for (uint32_t i = 0; i < c->nstrategies; i++) {
		capital[i] = ig_oms_capital(&e->oms, i);
		home[i] = 0;
		for (uint16_t k = 0; k < e->ninstruments; k++)
			if (c->strategies[i].nsymbols > 0 &&
			    strcmp(e->symbols[k], c->strategies[i].symbols[0]) == 0)
				home[i] = k;
		snprintf(res->names[i], sizeof(res->names[i]), "%s", c->strategies[i].name);
	}
	res->nstrategies = c->nstrategies;
	memset(&ro, 0, sizeof(ro));
	ro.dir = opts->report_dir;
	ro.nstrategies = c->nstrategies;
	ro.strategy_names = e->strategy_names;
	ro.capital = capital;
	ro.home = home;
	ro.symbols = e->symbol_names;
	ro.ninstruments = e->ninstruments;
	ro.annual_days = c->report.annual_days;
	ro.risk_free_pct = c->report.risk_free_pct;
	ro.chart_points = (uint32_t)c->report.chart_points;
	rc = c->nstrategies == 0 ? 0 : ig_report_new(&r, &ro, err, errlen);
	if (rc != 0)
		goto out;
	if (r != NULL) {
		ig_report_tap_init(&tap, r, c->nstrategies, c->report.equity_every_s);
		ig_oms_set_observer(&e->oms, ig_report_tap_observe, &tap);
	}
	rc = ig_engine_run(e);
	ig_oms_set_observer(&e->oms, NULL, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "backtest: run failed: %s", ig_strerror(rc));
		goto out;
	}
	res->events = e->events;
	res->md_events = e->md_events;
	if (r != NULL) {
		ig_report_tap_finish(&tap, &e->oms);
		if (ig_report_finish(r, res->stats) != 0) {
			snprintf(err, errlen, "%s: cannot write equity.csv or trades.csv",
				 opts->report_dir != NULL ? opts->report_dir : "report");
			rc = IG_EIO;
			goto out;
		}
	}
	if (opts->print_summary != NULL)
		ig_engine_print_summary(e, opts->print_summary);
	if (opts->summary_json != NULL && ig_engine_write_summary(e, opts->summary_json) != 0) {
		snprintf(err, errlen, "%s: cannot write", opts->summary_json);
		rc = IG_EIO;
		goto out;
	}
	if (opts->report_dir != NULL && r != NULL)
		rc = write_files(e, r, res, opts, c, err, errlen);
out:
	ig_report_free(r);
	ig_engine_destroy(e);
	free(e);
	free(c);
	return rc;
}

/* ------------------------------------------------------- sweep runner */

static const char *sweep_stat_names[IG_RS__COUNT];
static struct ig_feed_data *sweep_data; /* the parent's preload, shared by the forks */
static bool sweep_preload;

static int sweep_prepare(void *arg, const struct ig_config *cfg, char *err, size_t errlen)
{
	int rc;
	(void)arg;
	if (!sweep_preload)
		return 0;
	rc = ig_feed_preload(cfg, &sweep_data, err, errlen);
	if (rc == IG_ECONFIG) {
		/* A source that cannot be preloaded (unbounded synthetic):
		 * every run reads it itself. */
		sweep_data = NULL;
		return 0;
	}
	return rc;
}

static void sweep_release(void *arg)
{
	(void)arg;
	ig_feed_data_free(sweep_data);
	sweep_data = NULL;
}

static int sweep_run(void *arg, const struct ig_config *cfg, char (*names)[IG_CFG_NAME_MAX],
		     char (*vals)[IG_SWEEP_STAT_MAX], char *err, size_t errlen)
{
	static struct ig_backtest_result res;
	struct ig_backtest_opts o;
	int rc;

	(void)arg;
	memset(&o, 0, sizeof(o));
	o.feed_data = sweep_data;
	rc = ig_backtest_run(cfg, &o, &res, err, errlen);
	if (rc != 0)
		return rc;
	if (res.md_events == 0) {
		/* A window with no data (--oos-from outside the data, a
		 * feed.from past its end): statistics of nothing would rank as
		 * zeros; say so instead. */
		snprintf(err, errlen, "no market data in the window (feed.from / feed.to)");
		return IG_ENOTFOUND;
	}
	for (uint32_t s = 0; s < res.nstrategies; s++) {
		snprintf(names[s], IG_CFG_NAME_MAX, "%s", res.names[s]);
		for (int i = 0; i < IG_RS__COUNT; i++)
			ig_report_stat_format(&res.stats[s], (enum ig_report_stat)i,
					      vals[(size_t)s * IG_RS__COUNT + (size_t)i],
					      IG_SWEEP_STAT_MAX);
	}
	return (int)res.nstrategies;
}

static struct ig_sweep_runner sweep_runner = {
	.nstats = IG_RS__COUNT,
	.stat_names = sweep_stat_names,
	.prepare = sweep_prepare,
	.release = sweep_release,
	.run = sweep_run,
};

const struct ig_sweep_runner *ig_backtest_sweep_runner(bool preload)
{
	for (int i = 0; i < IG_RS__COUNT; i++)
		sweep_stat_names[i] = ig_report_stat_name((enum ig_report_stat)i);
	sweep_preload = preload;
	return &sweep_runner;
}
