/*
 * engine.h - builds the pipeline from a config and runs it with one of two
 * drivers: threaded (dedicated or shared threading) or inline.
 *
 * Design
 * ------
 * The engine owns every stage (feed + tick routing, one strategy host per
 * strategy thread, the OMS, the executor), every ring between them, and the
 * agent threads that run them. The stage handlers are the same in both
 * drivers; only ig_emit differs (emit.h).
 *
 *   rings (threaded)      tick -> strategy k     market data, timers, FEED_END
 *                         tick -> oms            marks, timers, FEED_END
 *                         tick -> exec           market data (paper venue)
 *                         strategy k -> oms      intents, cancels, FEED_END
 *                         oms -> strategy k      updates, fills, rejects, positions
 *                         oms -> exec            accepted orders, cancels, FEED_END
 *                                                (journal off; with it on, instead:)
 *                         oms -> journal         inputs, derived records, and the above
 *                         journal -> exec        the above, once durable (jstage.h)
 *                         exec -> oms            venue reports, FEED_END echo
 *
 * An agent consumes its feedback inputs (oms -> strategy, exec -> oms)
 * unconditionally and its forward inputs only while none of its outboxes is
 * spilling, so the wait-for graph has no cycle and back-pressure ends at the
 * feed. Shutdown is the FEED_END token (oms.h); afterwards the threads are
 * joined and whatever is still in a ring is drained inline.
 *
 * Recovery (journal on, journal.recover): ig_engine_init replays the
 * journal into the OMS before anything starts, picks a run epoch the
 * journal has not used, opens the writer, and hands the venue the
 * unfinished orders; trading opens when the venue's reconciliation agrees
 * (recover.h, oms.h). Without recovery a journal that exists is compacted
 * to an empty snapshot: the run starts fresh (paper).
 *
 * Owner: the main thread creates, runs and destroys it. While it runs, each
 * stage belongs to its agent's thread; counters are read after join.
 */
#ifndef IG_APP_ENGINE_H
#define IG_APP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "core/agent.h"
#include "core/emit.h"
#include "core/hist.h"
#include "exec/exec.h"
#include "feed/feed.h"
#include "journal/jstage.h"
#include "journal/recover.h"
#include "oms/oms.h"
#include "strategy/host.h"

#define IG_ENGINE_MAX_RINGS (3 * IG_MAX_STRATEGY_THREADS + 5)
#define IG_ENGINE_MAX_AGENTS (IG_MAX_STRATEGY_THREADS + 4)
#define IG_AGENT_MAX_INPUTS (IG_MAX_STRATEGY_THREADS + 2)
#define IG_AGENT_MAX_OUTBOXES (IG_MAX_STRATEGY_THREADS + 2)

struct ig_engine;

/* An input ring of an agent, with the latency histogram of its hop. */
struct ig_input {
	struct ig_ring *ring;
	bool feedback;          /* consumed even while our outboxes spill */
	char name[32];          /* "tick->strategy0" */
	struct ig_hist hop_ns;  /* now - ts_emit_ns at dequeue */
	uint64_t events;
};

/* A stage agent. emit must stay first (the emit callback casts back). */
struct ig_stage_agent {
	struct ig_emit emit;
	struct ig_engine *eng;
	enum ig_stage stage;
	uint32_t idx;                   /* strategy thread index */
	struct ig_input in[IG_AGENT_MAX_INPUTS];
	uint32_t nin;
	struct ig_outbox box[IG_AGENT_MAX_OUTBOXES];
	uint32_t nbox;
	struct ig_outbox *route[IG_STAGE__COUNT][IG_MAX_STRATEGY_THREADS];
	struct ig_agent_thread *thread; /* the thread that runs us */
	uint64_t stalls;                /* cycles that skipped forward inputs */
	/* tick agent only */
	int64_t next_hb_ns;             /* monotonic */
	int64_t due_ns;                 /* next feed event */
	uint64_t hb_count;
	bool feed_done;
};

struct ig_engine_opts {
	bool status_lines;   /* once-a-second status log line */
	uint32_t epoch;      /* run epoch in client order ids (24 bits, IG_CID_MAKE) */
};

struct ig_engine {
	const struct ig_config *cfg;
	struct ig_engine_opts opts;
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	const char *symbol_names[IG_MAX_INSTRUMENTS];
	const char *strategy_names[IG_MAX_STRATEGIES];
	uint16_t ninstruments;
	uint32_t nthreads;                     /* strategy threads */
	uint32_t strat_mask[IG_MAX_INSTRUMENTS]; /* strategy threads subscribed per instrument */
	uint32_t timer_mask;                   /* strategy threads with an on_timer strategy */

	struct ig_feed feed;
	struct ig_strategy_host hosts[IG_MAX_STRATEGY_THREADS];
	struct ig_oms oms;
	struct ig_exec exec;
	struct ig_jstage journal;               /* the journal stage, if journal.enabled */
	bool journal_on;
	bool recovering;                        /* journal replayed, venue reconciles */
	struct ig_replay_info replay;           /* what recovery found */
	struct ig_recover_account account;      /* the venue account this run trades */
	uint64_t fresh_compacted;               /* records a fresh start compacted away */
	uint64_t state_hash;                    /* OMS book hash at the end of the run */

	/* threaded driver */
	struct ig_ring rings[IG_ENGINE_MAX_RINGS];
	uint32_t nrings;
	struct ig_stage_agent *agents;          /* tick, strategies, oms, exec */
	uint32_t nagents;
	struct ig_agent_thread *threads;
	uint32_t nthreads_run;
	bool stop_requested;                    /* atomic: stop the feed */
	bool started;                           /* atomic: agents built (release) */
	bool done;                              /* atomic: shutdown token came back */
	bool kill_switch;                       /* atomic: SIGUSR1 sets, SIGUSR2 clears; the OMS agent applies it */
	uint32_t kill_engages;                  /* atomic: SIGUSR1s so far (one while engaged re-sends
						 * the cancels) */
	uint32_t kill_engages_seen;             /* OMS agent thread: kill_engages last applied */

	/* inline driver */
	struct ig_inline_q *q;

	/* results */
	uint64_t md_events;                     /* market-data events in */
	uint64_t events;                        /* all events handled by all stages */
	int64_t t_start_ns, t_end_ns;           /* monotonic */
	int64_t cpu_ns;                         /* process CPU time during the run */
	uint64_t backpressure;                  /* events that waited in a spill */
	uint64_t drained_after_stop;            /* events handled by the final drain */
	uint32_t cancels_outstanding;           /* orders whose cancel the venue had not
						 * confirmed at stop (each logged) */
	uint32_t spill_max;                     /* deepest any outbox spill got */
};

/* Builds the engine: instruments, feed, stages. Returns 0 or a negative IG_E*
 * with err set ("config:line:col: key: message" or "path:line: ..."). On
 * failure nothing is left to undo. */
int ig_engine_init(struct ig_engine *e, const struct ig_config *cfg,
		   const struct ig_engine_opts *opts, char *err, size_t errlen);

/* Runs to the end of the feed (or ig_engine_request_stop) with the driver
 * the config names. Blocks the calling thread. Returns 0 or IG_ETHREAD /
 * IG_ENOMEM. `sigs` (may be NULL): a signal set the calling thread waits on
 * while the threads run; SIGINT/SIGTERM stop gracefully. */
int ig_engine_run(struct ig_engine *e);

/* Asks the feed to stop; the pipeline then drains. Any thread. */
void ig_engine_request_stop(struct ig_engine *e);

void ig_engine_destroy(struct ig_engine *e);

/* Writes the summary JSON (design.md §6a). Returns 0 or IG_EIO. */
int ig_engine_write_summary(const struct ig_engine *e, const char *path);

/* Prints a human-readable summary. */
void ig_engine_print_summary(const struct ig_engine *e, FILE *out);

#endif
