/* engine.c - pipeline assembly: instruments, stages, the graph (see
 * engine.h). The drivers are in src/core/driver*.c. */
#include "app/engine.h"

#include "api/events.h"

#include "core/clock.h"
#include "core/log.h"
#include "store/store_sqlite.h"
#include "ingenium/error.h"

#include <signal.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------- instruments */

static int instrument_of(const char *symbol, void *arg)
{
	struct ig_engine *e = arg;
	for (uint16_t i = 0; i < e->ninstruments; i++)
		if (strcmp(e->symbols[i], symbol) == 0)
			return i;
	return -1;
}

static int add_instrument(struct ig_engine *e, const char *symbol)
{
	int id = instrument_of(symbol, e);
	if (id >= 0)
		return id;
	if (e->ninstruments >= IG_MAX_INSTRUMENTS)
		return -1;
	snprintf(e->symbols[e->ninstruments], IG_CFG_NAME_MAX, "%.*s", IG_CFG_NAME_MAX - 1, symbol);
	e->symbol_names[e->ninstruments] = e->symbols[e->ninstruments];
	return e->ninstruments++;
}

static uint32_t ring_size(const struct ig_config *cfg)
{
	return cfg->engine.ring_size ? cfg->engine.ring_size : IG_CFG_DEFAULT_RING_SIZE;
}

/* ---------------------------------------------------------------- graph */

/* Which thread runs which node: dedicated (one each) or shared (the tick
 * alone or on worker 0, strategies, OMS and executor in contiguous groups
 * in pipeline order). The journal always has its own thread: it blocks in
 * fdatasync by design. Node order: tick, strategy 0..n-1, oms, exec,
 * journal. */
static void assign_threads(struct ig_engine *e, struct ig_graph *g)
{
	const struct ig_cfg_engine *ec = &e->cfg->engine;
	uint32_t n = e->nthreads;
	int wait = ec->wait;
	char name[16];

	if (ec->threading == IG_THREADING_SHARED) {
		uint32_t w = ec->workers ? ec->workers : IG_CFG_DEFAULT_WORKERS;
		uint32_t rest = n + 2; /* strategies, oms, exec */
		uint32_t base = ec->tick_shares_worker ? 0 : 1;
		if (w > rest)
			w = rest;
		if (!ec->tick_shares_worker)
			/* A thread that runs only the tick is woken by nothing but
			 * its source's clock: it parks until the next event is
			 * due, whatever the wait strategy of the workers. */
			ig_graph_thread_add(g, "ig-tick", IG_WAIT_ADAPTIVE, ec->cpu_tick, true);
		for (uint32_t i = 0; i < w; i++) {
			snprintf(name, sizeof(name), "ig-worker%u", i % 100u);
			ig_graph_thread_add(g, name, wait,
					    i < IG_MAX_STRATEGY_THREADS ? ec->cpu_workers[i] : -1, false);
		}
		g->node[0].thread = 0; /* own thread, or worker 0 */
		for (uint32_t i = 0; i < rest; i++)
			g->node[1 + i].thread = (uint8_t)(base + i * w / rest);
	} else {
		g->node[0].thread = (uint8_t)ig_graph_thread_add(g, "ig-tick", IG_WAIT_ADAPTIVE,
								 ec->cpu_tick, true);
		for (uint32_t k = 0; k < n; k++) {
			snprintf(name, sizeof(name), "ig-strat%u", k % 100u);
			g->node[1 + k].thread =
				(uint8_t)ig_graph_thread_add(g, name, wait, ec->cpu_strategy[k], false);
		}
		g->node[n + 1].thread = (uint8_t)ig_graph_thread_add(g, "ig-oms", wait, ec->cpu_oms, false);
		g->node[n + 2].thread =
			(uint8_t)ig_graph_thread_add(g, "ig-exec", wait, ec->cpu_exec, false);
	}
	if (e->journal_on)
		g->node[n + 3].thread = (uint8_t)ig_graph_thread_add(g, "ig-journal", wait, -1, false);
}

/* Wakes the executor's thread (a venue thread signalled; any thread). */
static void wake_exec(void *arg)
{
	struct ig_engine *e = arg;
	ig_driver_wake(&e->drv, &e->exec);
}

/* Wakes the tick thread (the feed's own thread, the Luno stream, left
 * it events; any thread). */
static void wake_tick(void *arg)
{
	struct ig_engine *e = arg;
	ig_driver_wake(&e->drv, &e->tick);
}

/* The pipeline as a graph (engine.h). Returns 0 or IG_ELIMIT. */
static int build_graph(struct ig_engine *e, struct ig_graph *g)
{
	uint32_t n = e->nthreads;
	int tick, oms, exec, jrnl = -1, s[IG_MAX_STRATEGY_THREADS];
	int rc;

	memset(g, 0, sizeof(*g));
	g->ring_size = ring_size(e->cfg);
	tick = ig_graph_node_add(g, &ig_tick_ops, &e->tick, IG_STAGE_TICK, 0, false);
	for (uint32_t k = 0; k < n; k++)
		s[k] = ig_graph_node_add(g, &ig_strategy_host_ops, &e->hosts[k], IG_STAGE_STRATEGY, k,
					 true);
	oms = ig_graph_node_add(g, &ig_oms_stage_ops, &e->oms_stage, IG_STAGE_OMS, 0, false);
	exec = ig_graph_node_add(g, &ig_exec_stage_ops, &e->exec, IG_STAGE_EXEC, 0, false);
	if (e->journal_on)
		jrnl = ig_graph_node_add(g, &ig_jstage_ops, &e->journal, IG_STAGE_JOURNAL, 0, false);

	/* Feedback inputs first: they are consumed before forward ones. The
	 * OMS reads marks before intents, so its marks lag the strategies'
	 * view as little as possible. */
	if ((rc = ig_graph_edge_add(g, exec, oms, true)) != 0 ||
	    (rc = ig_graph_edge_add(g, tick, oms, false)) != 0)
		return rc;
	for (uint32_t k = 0; k < n; k++)
		if ((rc = ig_graph_edge_add(g, oms, s[k], true)) != 0 ||
		    (rc = ig_graph_edge_add(g, tick, s[k], false)) != 0 ||
		    (rc = ig_graph_edge_add(g, s[k], oms, false)) != 0)
			return rc;
	if (jrnl >= 0) {
		/* Everything for the executor passes the journal (jstage.h). */
		if ((rc = ig_graph_edge_add(g, oms, jrnl, false)) != 0 ||
		    (rc = ig_graph_edge_add(g, jrnl, exec, false)) != 0)
			return rc;
	} else if ((rc = ig_graph_edge_add(g, oms, exec, false)) != 0) {
		return rc;
	}
	if (ig_exec_wants_md(&e->exec) && (rc = ig_graph_edge_add(g, tick, exec, false)) != 0)
		return rc;
	if (e->cfg->engine.threading != IG_THREADING_INLINE)
		assign_threads(e, g);
	return 0;
}

/* The tick's routing table: who gets market data, timers and the token. */
static void tick_routes(struct ig_engine *e, struct ig_tick_routes *r)
{
	const struct ig_config *cfg = e->cfg;

	memset(r, 0, sizeof(*r));
	r->nthreads = e->nthreads;
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		const struct ig_cfg_strategy *s = &cfg->strategies[i];
		for (uint32_t k = 0; k < s->nsymbols; k++)
			r->md_mask[instrument_of(s->symbols[k], e)] |= 1u << s->thread;
	}
	for (uint32_t h = 0; h < e->nthreads; h++)
		if (ig_strategy_host_has_timers(&e->hosts[h]))
			r->timer_mask |= 1u << h;
	r->timers_to_oms = ig_oms_status_lines(&e->oms);
	r->md_to_exec = ig_exec_wants_md(&e->exec);
}

/* ----------------------------------------------------------------- init */

static const char *threading_name(int t)
{
	return t == IG_THREADING_SHARED ? "shared" : t == IG_THREADING_INLINE ? "inline" : "dedicated";
}

/* The operator controls as the API sees them (api.h, struct ig_api_ctl):
 * ctx is the engine. Each returns what the ig_engine_ function does. Any
 * thread. */
static int api_control(void *ctx, const struct ig_oms_ctl_req *req, uint64_t *id)
{
	return ig_engine_control(ctx, req, id);
}

static enum ig_oms_ctl_status api_control_status(void *ctx, uint64_t id)
{
	return ig_engine_control_status(ctx, id);
}

static int api_strategy_index(void *ctx, const char *name)
{
	return ig_engine_strategy_index(ctx, name);
}

static int api_params(void *ctx, int strategy, const char *const *keys,
		      const char *const *values, size_t n, struct ig_oms_ctl_req *req, char *err,
		      size_t errlen)
{
	const struct ig_engine *e = ctx;

	if (strategy < 0 || (uint32_t)strategy >= e->cfg->nstrategies) {
		snprintf(err, errlen, "unknown strategy");
		return IG_ECONFIG;
	}
	req->cmd = IG_CTL_PARAMS;
	req->strategy = (uint16_t)strategy;
	req->arg = 0;
	return ig_config_params_change(&e->cfg->strategies[strategy], keys, values, n,
				       &req->params, err, errlen);
}

/* The back-pressure count so far (ig_driver_backpressure_live); ctx is
 * the engine. Any thread. */
static uint64_t api_backpressure(void *ctx)
{
	const struct ig_engine *e = ctx;
	return ig_driver_backpressure_live(&e->drv);
}

/* The feed's own counters for the API (ig_feed_stats_json: the Luno
 * stream's are atomics, read while it runs); ctx is the engine. API
 * thread. */
static int api_feed_stats(void *ctx, json_t *feed)
{
	struct ig_engine *e = ctx;
	return ig_feed_stats_json(&e->feed, feed);
}

/* The snapshot publisher on the OMS stage, and the API thread. Returns 0
 * or the API's error (err set). */
static int start_api(struct ig_engine *e, char *err, size_t errlen)
{
	const struct ig_venue_type *vt = ig_exec_venue_type(&e->exec);
	struct ig_api_info info = {
		.version = e->opts.version != NULL ? e->opts.version : "",
		.threading = threading_name(e->cfg->engine.threading),
		.venue = vt != NULL ? vt->name : "",
	};
	struct ig_api_ctl ctl = { e, api_control, api_control_status, api_strategy_index,
				  api_params };
	struct ig_api_extra extra = { 0 };
	int rc;

	e->snap_pub = ig_snap_pub_create();
	e->lat_pub = ig_snap_pub_create();
	if (e->snap_pub == NULL || e->lat_pub == NULL) {
		snprintf(err, errlen, "api: out of memory");
		return IG_ENOMEM;
	}
	ig_oms_stage_set_publisher(&e->oms_stage, e->snap_pub, e->cfg->api.publish_ms,
				   e->symbol_names, e->ninstruments);
	ig_exec_set_publisher(&e->exec, e->lat_pub, e->cfg->api.publish_ms);
	if (e->journal_on) {
		e->jrnl_pub = ig_snap_pub_create();
		if (e->jrnl_pub == NULL) {
			snprintf(err, errlen, "api: out of memory");
			return IG_ENOMEM;
		}
		ig_jstage_set_publisher(&e->journal, e->jrnl_pub, e->cfg->api.publish_ms);
	}
	{
		const char *names[IG_MAX_STRATEGIES];
		struct ig_events_names n = { 0, names, e->ninstruments, e->symbol_names };
		for (uint32_t i = 0; i < e->cfg->nstrategies && i < IG_MAX_STRATEGIES; i++)
			names[n.nstrategies++] = e->cfg->strategies[i].name;
		e->api_events = ig_events_create(&n);
		if (e->api_events == NULL) {
			snprintf(err, errlen, "api: out of memory");
			return IG_ENOMEM;
		}
		/* After recovery: the OMS seeds the ring with the books' open
		 * orders at its first poll. */
		ig_oms_stage_set_events(&e->oms_stage, e->api_events);
	}
	/* The config is never written after load (config.h), so the API
	 * thread may read it for /api/v1/config. */
	extra.cfg = e->cfg;
	/* The history store the recorder writes (start_store checked it), read
	 * back by /api/v1/history/... on the API thread with its own
	 * read-only connection per request. */
	extra.store_kind = ig_config_store_kind(e->cfg, e->opts.store_default);
	extra.store_target = extra.store_kind == IG_STORE_POSTGRES ? getenv(e->cfg->store.url_env)
				: extra.store_kind == IG_STORE_SQLITE ? e->cfg->store.path
								      : NULL;
	extra.store_daemon = e->cfg->store.daemon_id;
	extra.journal = e->jrnl_pub;
	extra.backpressure = api_backpressure;
	extra.backpressure_ctx = e;
	extra.feed_stats = api_feed_stats;
	extra.feed_stats_ctx = e;
	rc = ig_api_start_ex(&e->api, &e->cfg->api, e->snap_pub, e->lat_pub, &info, &ctl, &extra,
			     err, errlen);
	if (rc == 0) {
		/* The host as configured, the port as bound (port 0 picks one). */
		const char *colon = strrchr(e->cfg->api.listen, ':');
		int hlen = colon != NULL ? (int)(colon - e->cfg->api.listen) : 0;
		ig_api_set_events(e->api, e->api_events);
		ig_log_info("api: serving %s://%.*s:%u/ (dashboard at /; bearer token from $%s)",
			    e->cfg->api.tls_cert[0] != '\0' ? "https" : "http", hlen,
			    e->cfg->api.listen, (unsigned)ig_api_port(e->api), e->cfg->api.token_env);
	}
	return rc;
}

/* Stops the API thread and frees the snapshots (rcu_barrier first). */
static void stop_api(struct ig_engine *e)
{
	ig_api_stop(e->api);
	e->api = NULL;
	ig_oms_stage_set_events(&e->oms_stage, NULL);
	ig_events_destroy(e->api_events);
	e->api_events = NULL;
	ig_snap_pub_destroy(e->snap_pub);
	ig_snap_pub_destroy(e->lat_pub);
	ig_snap_pub_destroy(e->jrnl_pub);
	e->snap_pub = NULL;
	e->lat_pub = NULL;
	e->jrnl_pub = NULL;
}

/* The recorder options every use of the store shares: the backend for
 * store.kind, its target (the SQLite path, its directory made; the
 * PostgreSQL URL from the environment), the config and the instruments.
 * Returns 1 (ro filled), 0 (the store is off) or an IG_E* with err set. */
static int store_opts(struct ig_engine *e, struct ig_recorder_opts *ro, char *err, size_t errlen)
{
	const struct ig_config *cfg = e->cfg;
	int kind = ig_config_store_kind(cfg, e->opts.store_default);
	const char *target;

	if (kind == IG_STORE_OFF)
		return 0;
	memset(ro, 0, sizeof(*ro));
	ro->ops = ig_recorder_backend(kind);
	if (ro->ops == NULL) {
		snprintf(err, errlen, "%s: store.kind: %s: this build has no such backend", cfg->file,
			 kind == IG_STORE_POSTGRES ? "postgres" : "?");
		return IG_ECONFIG;
	}
	if (kind == IG_STORE_POSTGRES) {
		/* The URL only ever comes from the environment, and is never shown. */
		target = getenv(cfg->store.url_env);
		if (target == NULL || target[0] == '\0') {
			snprintf(err, errlen, "%s: store.kind postgres: $%s is not set", cfg->file,
				 cfg->store.url_env);
			return IG_ECONFIG;
		}
	} else {
		char dir[IG_CFG_PATH_MAX];
		char *slash;
		target = cfg->store.path;
		snprintf(dir, sizeof(dir), "%s", target);
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			mkdir(dir, 0755); /* a failure shows when the store is opened */
		}
	}
	ro->target = target;
	ro->cfg = cfg;
	ro->symbols = e->symbol_names;
	ro->ninstruments = e->ninstruments;
	return 1;
}

/* A fresh start compacts the journal away: whatever of its runs the
 * store never got (a kill -9, a store down at stop) is written now, as
 * `history rebuild` would (inserts are idempotent: rows it has already
 * are left alone). A journal of other strategies is not written (its
 * rows would carry this config's names): said, and left. Never fails the
 * start: the journal, not the store, is the truth. */
static void store_before_compaction(struct ig_engine *e)
{
	const struct ig_config *cfg = e->cfg;
	struct ig_recorder_opts ro;
	struct ig_recorder_stats st;
	char err[256];
	int64_t t0 = ig_clock_mono_ns();
	int rc;

	if (!cfg->journal.enabled || e->recovery.recovering || e->recovery.replay.rep.records == 0 ||
	    store_opts(e, &ro, err, sizeof(err)) != 1)
		return;
	rc = ig_recorder_journal_fits(cfg, cfg->journal.path);
	if (rc == IG_ESTATE) {
		ig_log_warn("store: the journal %s was written with other strategies: its rows are "
			    "not written to the store before this fresh start compacts it (run "
			    "`ingenium history rebuild` with the config that wrote it first)",
			    cfg->journal.path);
		return;
	}
	rc = rc != 0 ? rc : ig_recorder_rebuild(&ro, cfg->journal.path, &st, err, sizeof(err));
	if (rc != 0)
		ig_log_warn("store: the journal %s could not be written to the store before this "
			    "fresh start compacts it (%s)",
			    cfg->journal.path, err[0] != '\0' ? err : ig_strerror(rc));
	else
		ig_log_info("store: the journal's earlier runs written to the store before the "
			    "fresh start: %" PRIu64 " rows in %.3f s",
			    st.rows, (double)(ig_clock_mono_ns() - t0) / 1e9);
}

/* The history store: the recorder for store.kind (none when off), hooked
 * to the OMS, its thread started. Returns 0 or an IG_E* with err set. */
static int start_store(struct ig_engine *e, char *err, size_t errlen)
{
	const struct ig_config *cfg = e->cfg;
	struct ig_recorder_opts ro;
	int rc = store_opts(e, &ro, err, errlen);

	if (rc <= 0)
		return rc;
	ro.run_epoch = e->opts.epoch;
	ro.started_at = e->journal_on ? e->recovery.session_ns : ig_clock_real_ns();
	ro.journal = e->journal_on ? cfg->journal.path : NULL;
	/* The journal held earlier runs: the last may have been killed before
	 * its recorder committed everything it journaled. */
	ro.catch_up_at_start = e->journal_on && e->recovery.recovering;
	/* Inline (backtests): no live trading to protect, and the OMS outruns
	 * any store: rows are written on the run's thread, none dropped. */
	ro.sync = cfg->engine.threading == IG_THREADING_INLINE;
	rc = ig_recorder_create(&e->recorder, &ro, err, errlen);
	if (rc == 0 && (rc = ig_recorder_attach(e->recorder, &e->oms)) != 0)
		snprintf(err, errlen, "store: the OMS has no room for another hook");
	if (rc == 0 && (rc = ig_recorder_start(e->recorder)) != 0)
		snprintf(err, errlen, "store: cannot start the recorder thread");
	if (rc != 0) {
		ig_recorder_destroy(e->recorder);
		e->recorder = NULL;
	}
	return rc;
}

int ig_engine_init(struct ig_engine *e, const struct ig_config *cfg,
		   const struct ig_engine_opts *opts, char *err, size_t errlen)
{
	struct ig_tick_routes routes;
	struct ig_graph *g = NULL;
	int rc;
	uint32_t h = 0;

	memset(e, 0, sizeof(*e));
	e->cfg = cfg;
	e->opts = *opts;
	e->nthreads = cfg->engine.strategy_threads ? cfg->engine.strategy_threads
						   : IG_CFG_DEFAULT_STRATEGY_THREADS;
	if (e->nthreads > IG_MAX_STRATEGY_THREADS) {
		snprintf(err, errlen, "%s: engine.strategy_threads: at most %d", cfg->file,
			 IG_MAX_STRATEGY_THREADS);
		return IG_ECONFIG;
	}
	/* The feed declares its symbols (ig_feed_symbols): instrument i is
	 * the i-th. Strategies may only trade what the feed carries. */
	{
		char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
		char list[IG_MAX_INSTRUMENTS * (IG_CFG_NAME_MAX + 2)];
		size_t used = 0;
		int n = ig_feed_symbols(cfg, names);
		if (n < 0) {
			snprintf(err, errlen, "%s: feed.symbols: more than %d symbols", cfg->file,
				 IG_MAX_INSTRUMENTS);
			return IG_ECONFIG;
		}
		list[0] = '\0';
		for (int i = 0; i < n; i++) {
			add_instrument(e, names[i]);
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 i ? ", " : "", names[i]);
		}
		for (uint32_t i = 0; i < cfg->nstrategies; i++) {
			const struct ig_cfg_strategy *s = &cfg->strategies[i];
			e->strategy_names[i] = s->name;
			for (uint32_t k = 0; k < s->nsymbols; k++) {
				if (instrument_of(s->symbols[k], e) < 0) {
					snprintf(err, errlen,
						 "%s:%d:%d: strategies.%u.symbols.%u: \"%s\" is not carried by the feed (%s \"%s\")",
						 cfg->file, s->line, s->col, i, k, s->symbols[k],
						 n == 1 ? "feed.symbol is" : "its symbols are", list);
					return IG_ECONFIG;
				}
			}
		}
	}
	ig_log_set_names(e->strategy_names, cfg->nstrategies, e->symbol_names, e->ninstruments);

	/* The executor before the feed: the feed gets what the venue shares
	 * with it (venue.h, peer; a Luno feed on a Luno venue draws from the
	 * venue's request budget), without the engine naming either. */
	rc = ig_exec_init(&e->exec, cfg);
	if (rc != 0) {
		snprintf(err, errlen, "%s: venue.kind: the venue could not be set up (see the log)",
			 cfg->file);
		ig_exec_destroy(&e->exec);
		return rc;
	}
	rc = opts->feed_data != NULL
		     ? ig_feed_open_data(&e->feed, cfg, opts->feed_data, err, errlen)
		     : ig_feed_open(&e->feed, cfg, 0, ig_exec_venue_type(&e->exec),
				    ig_exec_venue_peer(&e->exec), err, errlen);
	if (rc != 0)
		goto out_exec;
	/* The OMS next: recovery rebuilds it and picks the run epoch the
	 * strategies' client ids carry. */
	rc = ig_oms_init(&e->oms, cfg, e->nthreads);
	if (rc != 0)
		goto out_feed;
	ig_oms_set_status_lines(&e->oms, opts->status_lines);
	ig_oms_set_quiet_orders(&e->oms, opts->quiet_orders);
	ig_oms_set_data_clock(&e->oms, cfg->engine.threading == IG_THREADING_INLINE);
	if (cfg->journal.enabled) {
		rc = ig_jrecover_start(&e->recovery, cfg, &e->oms, e->opts.epoch, err, errlen);
		if (rc != 0)
			goto out_oms;
		e->opts.epoch = ig_jrecover_epoch(&e->recovery);
	}
	/* A run's client ids must not repeat an earlier run's in the history
	 * store either (a run without a journal within the minute of the last
	 * one): the epoch goes past the store's last session of this daemon.
	 * Inline runs keep epoch 0 (identical ids run after run). */
	if (e->opts.epoch != 0) {
		uint32_t last = 0;
		int skind = ig_config_store_kind(cfg, opts->store_default), lrc = IG_ENOENT;
		if (skind == IG_STORE_SQLITE) {
			lrc = ig_store_sqlite_last_epoch(cfg->store.path, cfg->store.daemon_id, &last);
		} else if (skind == IG_STORE_POSTGRES && getenv(cfg->store.url_env) != NULL) {
			char perr[256];
			lrc = ig_store_pg_last_epoch(getenv(cfg->store.url_env), cfg->store.daemon_id,
						     &last, perr, sizeof(perr));
			if (lrc != 0 && lrc != IG_ENOENT)
				ig_log_warn("store: the last session's run epoch could not be read (%s);"
					    " client ids use epoch %u",
					    perr, e->opts.epoch);
		}
		if (lrc == 0 && last >= e->opts.epoch && last < IG_CID_EPOCH_MASK) {
			e->opts.epoch = last + 1;
			e->recovery.epoch = e->opts.epoch; /* the journal's SESSION record too */
		}
	}
	for (h = 0; h < e->nthreads; h++) {
		/* Timers run on data time inline (backtests), on the wall clock
		 * otherwise. */
		rc = ig_strategy_host_init(&e->hosts[h], cfg, h, e->opts.epoch, e->symbol_names,
					   e->ninstruments, cfg->engine.threading != IG_THREADING_INLINE,
					   err, errlen);
		if (rc != 0)
			goto out_hosts;
		if (ig_oms_will_announce(&e->oms))
			ig_strategy_host_await_recovery(&e->hosts[h]);
	}
	if (cfg->journal.enabled) {
		store_before_compaction(e);
		rc = ig_jrecover_open(&e->recovery, &e->oms, &e->journal, &e->exec, e->symbol_names,
				      e->ninstruments, ring_size(cfg) * 4, err, errlen);
		if (rc != 0)
			goto out_hosts;
		e->journal_on = true;
	}
	/* After recovery: a kill switch engaged in the books stays wanted. */
	ig_oms_stage_init(&e->oms_stage, &e->oms);
	tick_routes(e, &routes);
	ig_tick_init(&e->tick, &e->feed, &routes, cfg->feed.heartbeat_ms,
		     cfg->engine.threading == IG_THREADING_INLINE);
	g = malloc(sizeof(*g));
	rc = g == NULL ? IG_ENOMEM : build_graph(e, g);
	if (rc == 0)
		rc = ig_driver_init(&e->drv, g);
	free(g);
	if (rc != 0) {
		snprintf(err, errlen, "engine: the pipeline could not be built (%s)", ig_strerror(rc));
		ig_driver_destroy(&e->drv);
		if (e->journal_on)
			ig_jstage_close(&e->journal);
		e->journal_on = false;
		goto out_hosts;
	}
	/* A venue thread of its own (the Luno user stream) wakes the
	 * executor through the driver. */
	ig_exec_set_wake(&e->exec, wake_exec, e);
	/* So does a feed's (the Luno market stream) the tick thread, which
	 * parks instead of polling its ring. */
	ig_feed_set_wake(&e->feed, wake_tick, e);
	if ((rc = start_store(e, err, errlen)) != 0) {
		ig_engine_destroy(e);
		return rc;
	}
	if (opts->api && cfg->api.listen[0] != '\0' && (rc = start_api(e, err, errlen)) != 0) {
		ig_engine_destroy(e);
		return rc;
	}
	return 0;

out_hosts:
	while (h-- > 0)
		ig_strategy_host_destroy(&e->hosts[h]);
out_oms:
	ig_oms_destroy(&e->oms);
out_feed:
	ig_feed_close(&e->feed);
out_exec:
	ig_exec_destroy(&e->exec);
	return rc;
}

void ig_engine_destroy(struct ig_engine *e)
{
	stop_api(e);
	ig_recorder_destroy(e->recorder);
	e->recorder = NULL;
	if (e->journal_on)
		ig_jstage_close(&e->journal); /* a no-op if already closed */
	ig_exec_destroy(&e->exec);
	ig_oms_destroy(&e->oms);
	for (uint32_t h = 0; h < e->nthreads; h++)
		ig_strategy_host_destroy(&e->hosts[h]);
	ig_feed_close(&e->feed);
	ig_driver_destroy(&e->drv);
}

/* ------------------------------------------------------------------ run */

void ig_engine_request_stop(struct ig_engine *e)
{
	ig_tick_request_stop(&e->tick);
	ig_driver_wake(&e->drv, &e->tick);
}

/* Signals that reach the main thread while the threads run. */
static void on_signal(void *arg, int sig)
{
	struct ig_engine *e = arg;

	if (sig == SIGINT || sig == SIGTERM) {
		ig_log_info("signal %d: stopping the feed and draining", sig);
		ig_engine_request_stop(e);
	} else if (sig == SIGUSR1 || sig == SIGUSR2) {
		/* The main thread only asks; the OMS applies it on its thread.
		 * A full mailbox (the API flooding it) must not lose a kill
		 * switch: wait for room, up to a second (only this thread
		 * waits; the OMS drains the mailbox every duty cycle). */
		int rc = IG_EAGAIN;
		for (int tries = 0; tries < 1000 && rc == IG_EAGAIN; tries++) {
			rc = ig_oms_request_kill_switch(&e->oms_stage, sig == SIGUSR1);
			ig_driver_wake(&e->drv, &e->oms_stage);
			if (rc == IG_EAGAIN)
				nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
		}
		if (rc != 0)
			ig_log_error("%s: kill switch request lost: the OMS's control mailbox stayed full",
				     sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
		else
			ig_log_warn("%s: kill switch %s requested", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2",
				    sig == SIGUSR1 ? "engage" : "clear");
	}
}

int ig_engine_control(struct ig_engine *e, const struct ig_oms_ctl_req *req, uint64_t *id)
{
	int rc = ig_oms_request(&e->oms_stage, req, id);
	if (rc == 0)
		ig_driver_wake(&e->drv, &e->oms_stage);
	return rc;
}

enum ig_oms_ctl_status ig_engine_control_status(const struct ig_engine *e, uint64_t id)
{
	return ig_oms_request_status(&e->oms_stage, id);
}

int ig_engine_strategy_index(const struct ig_engine *e, const char *name)
{
	return ig_oms_stage_strategy_index(&e->oms_stage, name);
}

static int64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ig_engine_run(struct ig_engine *e)
{
	struct ig_driver_results res;
	int rc;
	int64_t cpu0 = process_cpu_ns();

	e->t_start_ns = ig_clock_mono_ns();
	/* Inline runs stamp ingress times only when latency is measured. */
	ig_tick_set_measure(&e->tick, ig_exec_measures(&e->exec));
	if (e->cfg->engine.threading == IG_THREADING_INLINE) {
		rc = ig_driver_run_inline(&e->drv);
	} else {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGUSR2);
		rc = ig_driver_run_threaded(&e->drv, &set, on_signal, e);
	}
	ig_driver_finish(&e->drv);
	/* The feed's and the venue's own threads (the Luno streams') end with
	 * the run: nothing of them may log once the caller stops the log. */
	ig_feed_halt(&e->feed);
	ig_exec_halt(&e->exec);
	/* The OMS is done and the journal final: the recorder writes what it
	 * holds, catches up if it must, and stops. */
	if (e->recorder != NULL && ig_recorder_stop(e->recorder, ig_clock_real_ns()) != 0) {
		struct ig_recorder_stats st;
		ig_recorder_stats(e->recorder, &st);
		ig_log_error("store: the history store is incomplete (%llu dropped, %llu behind, "
			     "%llu errors)",
			     (unsigned long long)st.dropped, (unsigned long long)st.behind,
			     (unsigned long long)st.errors);
	}
	/* The stages are done: the API stops before the log and the OMS
	 * (unless it lingers: then the caller keeps the log up). */
	if (!e->opts.api_linger)
		stop_api(e);
	ig_driver_results(&e->drv, &res);
	e->md_events = ig_tick_md_events(&e->tick);
	e->events = res.events;
	e->backpressure = res.backpressure;
	e->spill_max = res.spill_max;
	e->drained_after_stop = res.drained_after_stop;
	e->t_end_ns = ig_clock_mono_ns();
	e->cpu_ns = process_cpu_ns() - cpu0;
	return rc;
}
