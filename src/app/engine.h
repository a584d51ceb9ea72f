/*
 * engine.h - builds the pipeline from a config and hands it to a driver.
 *
 * Design
 * ------
 * The engine is wiring. It owns every stage object (the feed and the tick
 * stage, one strategy host per strategy thread, the OMS and its stage
 * adapter, the executor, the journal stage), builds the instruments and
 * the tick's routing table, describes the pipeline as a graph (driver.h:
 * nodes, edges, threads) and runs it with the driver the config names
 * (threaded: dedicated or shared threading; inline). The stages implement
 * one interface (stage.h); nothing here runs a stage.
 *
 *   edges (threaded)      tick -> strategy k     market data, timers, FEED_END
 *                         tick -> oms            marks, timers, FEED_END
 *                         tick -> exec           market data (paper venue)
 *                         strategy k -> oms      intents, cancels, FEED_END
 *                         oms -> strategy k      updates, fills, rejects, positions  (feedback)
 *                         oms -> exec            accepted orders, cancels, FEED_END
 *                                                (journal off; with it on, instead:)
 *                         oms -> journal         inputs, derived records, and the above
 *                         journal -> exec        the above, once durable (jstage.h)
 *                         exec -> oms            venue reports, FEED_END echo       (feedback)
 *
 * Shutdown is the FEED_END token (oms.h); the OMS stage's done() ends the
 * threaded run. Signals (threaded): SIGINT/SIGTERM stop the feed
 * (ig_engine_request_stop), SIGUSR1/SIGUSR2 engage/clear the kill switch
 * through the OMS stage's control mailbox (oms_stage.h), as
 * ig_engine_control() does for any thread.
 *
 * Order: the executor (its venue) first, then the feed, which gets the
 * venue's type and what it shares (venue.h: peer; a Luno feed on a Luno
 * venue draws from the venue's request budget), then the OMS, recovery,
 * the strategy hosts. The engine names no venue and no source.
 *
 * Recovery (journal on): ig_engine_init calls the journal module
 * (jrecover.h) before the strategy hosts (the run epoch) and after the
 * venue is set up (the writer, the SESSION record, the venue's recover()).
 *
 * The history store (store.kind sqlite or postgres; auto: sqlite when
 * opts.store_default): ig_engine_init creates the recorder, hooks it to
 * the OMS and starts its thread last but the API; ig_engine_run stops it
 * after the final drain (the journal is final: a catch-up reads it all).
 *
 * The API (api.listen set): ig_engine_init creates the snapshot publisher,
 * hands it to the OMS stage and starts the API thread last (refused, with
 * everything undone, if the token variable is unset); ig_engine_run stops
 * it after the run, before the OMS is destroyed.
 *
 * Owner: the main thread creates, runs and destroys it. While it runs, each
 * stage belongs to its thread; results are read after ig_engine_run.
 */
#ifndef IG_APP_ENGINE_H
#define IG_APP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "api/snapshot.h"
#include "config/config.h"
#include "core/driver.h"
#include "exec/exec.h"
#include "feed/feed.h"
#include "journal/jrecover.h"
#include "journal/jstage.h"
#include "oms/oms.h"
#include "oms/oms_stage.h"
#include "store/recorder.h"
#include "strategy/host.h"
#include "tick/tick.h"

struct ig_engine_opts {
	bool status_lines;   /* once-a-second status log line */
	bool quiet_orders;   /* no log line per order/fill/reject (backtest without -v) */
	uint32_t epoch;      /* run epoch in client order ids (24 bits, IG_CID_MAKE) */
	/* Preloaded data to replay (ig_feed_preload; sweeps), or NULL to open
	 * the config's feed. Read only; must outlive the engine. */
	const struct ig_feed_data *feed_data;
	/* Start the status API when api.listen is set (`ingenium run` only:
	 * backtests and sweep workers never serve it). */
	bool api;
	/* Keep the API up after the run (ig_engine_run leaves it running;
	 * ig_engine_destroy stops it): `run --linger`. */
	bool api_linger;
	/* The build's version, for the API; NULL = "". */
	const char *version;
	/* store.kind auto means sqlite (`ingenium run`); else off (backtests). */
	bool store_default;
};

struct ig_engine {
	const struct ig_config *cfg;
	struct ig_engine_opts opts;            /* epoch: the one chosen (after recovery) */
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	const char *symbol_names[IG_MAX_INSTRUMENTS];
	const char *strategy_names[IG_MAX_STRATEGIES];
	uint16_t ninstruments;
	uint32_t nthreads;                     /* strategy threads */

	/* the stages */
	struct ig_feed feed;
	struct ig_tick tick;
	struct ig_strategy_host hosts[IG_MAX_STRATEGY_THREADS];
	struct ig_oms oms;
	struct ig_oms_stage oms_stage;
	struct ig_exec exec;
	struct ig_jstage journal;               /* the journal stage, if journal.enabled */
	bool journal_on;
	struct ig_jrecovery recovery;           /* what recovery at start found (journal on) */

	/* the pipeline */
	struct ig_driver drv;

	/* the status API (api.listen set): the OMS stage publishes snapshots
	 * to snap_pub, the API thread serves them (api.h) */
	struct ig_snap_pub *snap_pub;
	struct ig_snap_pub *lat_pub;            /* the executor's (tick-to-order) */
	struct ig_snap_pub *jrnl_pub;   /* the journal stage's (API on, journal on), or NULL */
	struct ig_api *api;
	struct ig_events *api_events;              /* OMS -> API: orders, fills, the event stream */

	/* the history store (store.kind on): the OMS's hooks feed the
	 * recorder's ring; its thread writes the store (recorder.h) */
	struct ig_recorder *recorder;

	/* results, after ig_engine_run */
	uint64_t md_events;                     /* market-data events in */
	uint64_t events;                        /* all events handled by all stages */
	int64_t t_start_ns, t_end_ns;           /* monotonic */
	int64_t cpu_ns;                         /* process CPU time during the run */
	uint64_t backpressure;                  /* events that waited in a spill */
	uint64_t drained_after_stop;            /* events handled by the final drain */
	uint32_t spill_max;                     /* deepest any outbox spill got */
};

/* Builds the engine: instruments, feed, stages, graph. Returns 0 or a
 * negative IG_E* with err set ("config:line:col: key: message" or
 * "path:line: ..."). On failure nothing is left to undo. */
int ig_engine_init(struct ig_engine *e, const struct ig_config *cfg,
		   const struct ig_engine_opts *opts, char *err, size_t errlen);

/* Runs to the end of the feed (or ig_engine_request_stop) with the driver
 * the config names. Blocks the calling thread; threaded, it takes SIGINT,
 * SIGTERM, SIGUSR1 and SIGUSR2 (blocked in every engine thread) while the
 * threads run. Returns 0 or IG_ETHREAD / IG_ENOMEM. */
int ig_engine_run(struct ig_engine *e);

/* Asks the feed to stop; the pipeline then drains. Any thread. */
void ig_engine_request_stop(struct ig_engine *e);

/* Sends an operator control to the running OMS (oms_stage.h, "Control
 * request contract"): puts req in its mailbox and wakes its thread.
 * Returns 0 with *id set, IG_EAGAIN (mailbox full: try again later) or
 * IG_EINVAL (not a control command). The outcome:
 * ig_engine_control_status(e, id). Any thread, between ig_engine_init and
 * ig_engine_destroy. */
int ig_engine_control(struct ig_engine *e, const struct ig_oms_ctl_req *req, uint64_t *id);

/* Returns the outcome of control request id (enum ig_oms_ctl_status,
 * oms.h): IG_OMS_CTL_PENDING until the OMS applied it. Any thread. */
enum ig_oms_ctl_status ig_engine_control_status(const struct ig_engine *e, uint64_t id);

/* Returns the index of the strategy named name, or -1. Any thread. */
int ig_engine_strategy_index(const struct ig_engine *e, const char *name);

void ig_engine_destroy(struct ig_engine *e);

/* The summary document (docs/architecture.md "Summary JSON"), composed from
 * every stage's stats. Returns a new reference, or NULL (out of memory). */
json_t *ig_engine_summary(const struct ig_engine *e);

/* Writes the summary JSON. Returns 0 or IG_EIO. */
int ig_engine_write_summary(const struct ig_engine *e, const char *path);

/* Prints a human-readable summary. */
void ig_engine_print_summary(const struct ig_engine *e, FILE *out);

#endif
