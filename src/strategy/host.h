/*
 * host.h - the strategy stage: runs the strategies assigned to one
 * strategy thread.
 *
 * Design
 * ------
 * A host owns one ig_strategy_ctx per strategy on its thread. Each ctx holds
 * the strategy's private state block and its read-only mirror of what the
 * OMS owns: the position and cash per instrument (from IG_EV_POSITION) and
 * its open orders (from submits, updates, fills and rejects). The OMS keeps
 * the truth; the mirror is what callbacks read.
 *
 * Client order ids are assigned here, synchronously, so a strategy knows
 * its order's id at once: IG_CID_MAKE(strategy_id, epoch, seq) (event.h), with
 * seq counting from 1 per strategy. Deterministic for a given epoch.
 *
 * Market data goes to every strategy on the thread subscribed to the
 * instrument; order events go to their own strategy only. On FEED_END the
 * host calls on_stop and passes FEED_END on to the OMS.
 *
 * Lifecycle: init (ig_strategy_host_init, main thread), on_start for every
 * strategy at the first event the host handles (before that event's own
 * callbacks, with the ctx live, so it may submit and set timers), the
 * event callbacks, on_stop at FEED_END, destroy in
 * ig_strategy_host_destroy before the state is freed (only for strategies
 * whose init succeeded).
 *
 * Timers (ig_ctx_timer_*): a fixed array of IG_CTX_MAX_TIMERS per strategy,
 * nothing allocated after init. Before each event the host fires, in time
 * order (ties: strategy order on the host, then timer id), every timer due
 * at or before "now", as an IG_EV_TIMER to the strategy's on_timer: now is
 * data time (the latest ts_event_ns seen) for a data-time host (inline
 * driver, `ingenium backtest`), CLOCK_REALTIME otherwise, read only while
 * a timer is set; live, the engine's heartbeats reach every thread with an
 * on_timer strategy (engine.c timer_mask), so a timer is late by at most a
 * heartbeat. A periodic timer fires once per period in data time (a gap in
 * the data fires every period it passed); live, periods the clock skipped
 * (a stalled thread) are skipped, not fired in a burst.
 *
 * Misuse: a call that acts (submit, market, limit, cancel, timers) outside
 * a callback has no event to act from, and one from another thread than
 * the host's would be a second producer on the strategy -> OMS ring; either
 * is counted (ctx_misuse), logged once per strategy with the function's
 * name, and returns 0 / IG_ESTATE. No timer fires after on_stop (FEED_END).
 *
 * Owner: the strategy thread k (or the inline driver). Pure handler: no
 * threads, no rings; output goes through struct ig_emit.
 */
#ifndef IG_STRATEGY_HOST_H
#define IG_STRATEGY_HOST_H

#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/stage.h"
#include "ingenium/strategy.h"
#include "strategy/registry.h"

#define IG_CTX_MAX_OPEN 64

struct ig_open_mirror {
	uint64_t client_id;   /* 0 = free slot */
	int64_t leaves_qty;   /* 1e-8 */
	uint8_t side;         /* enum ig_side */
	uint16_t instrument_id;
};

/* A strategy's timer. Owner: its strategy's thread. */
struct ig_ctx_timer {
	uint32_t id;         /* > 0 while set; 0 = free slot */
	bool armed;          /* due_ns is known (data time: an every-timer set before any
			      * data time is armed at the first one) */
	int64_t due_ns;      /* next firing, in the host's clock */
	int64_t period_ns;   /* 0 = once */
	uint64_t tag;
	uint64_t count;      /* times fired */
};

struct ig_strategy_host;

struct ig_strategy_ctx {
	const struct ig_strategy_type *type;
	struct ig_strategy_host *host;    /* the host it runs on */
	const struct ig_cfg_strategy *cfg;
	void *state;                      /* type->state_size bytes */
	uint16_t id;                      /* global strategy index */
	uint32_t epoch;                   /* run epoch for client ids (24 bits) */
	uint32_t seq;                     /* last client id sequence */
	bool subscribed[IG_MAX_INSTRUMENTS];
	struct ig_position pos[IG_MAX_INSTRUMENTS]; /* mirror */
	struct ig_open_mirror open[IG_CTX_MAX_OPEN]; /* mirror of open orders */
	uint32_t nopen;                   /* slots of open[] in use (client_id != 0) */
	int64_t now_ns;                   /* data time of the current event */
	struct ig_emit *out;              /* valid during a callback */
	const struct ig_event *cur;       /* the event being handled */
	uint64_t intents;                 /* orders submitted */
	uint64_t cancels;                 /* cancels requested */
	uint64_t mirror_overflow;         /* open orders beyond IG_CTX_MAX_OPEN */
	struct ig_ctx_timer timers[IG_CTX_MAX_TIMERS];
	uint32_t timer_seq;               /* last timer id handed out */
	uint64_t timers_fired;
	uint64_t ctx_misuse;              /* acting calls made outside a callback */
	bool misuse_logged;
	bool inited;                      /* init returned 0: destroy is owed */
	/* Live params (type->on_params set): a private copy of cfg whose
	 * values IG_CTL_PARAMS changes, so the shared config stays
	 * read-only; NULL for a type without on_params. */
	struct ig_cfg_strategy *live_cfg;
	struct ig_cfg_strategy *accepted_cfg; /* the values on_params last took (or init's):
					       * live_cfg goes back to it on a refusal */
	bool params_pending;              /* values in force handed over by a recovery: call
					   * on_params after on_start, no verdict */
	bool req_pending;                 /* an operator's change (req) not delivered yet */
	struct ig_params_change req;      /* it, echoed in the verdict to the OMS */
	uint64_t params_applied;          /* on_params calls that took the values */
	uint64_t params_refused;          /* changes refused (checks or on_params) */
};

struct ig_strategy_host {
	uint32_t thread_index;
	uint32_t n;
	struct ig_strategy_ctx *ctx[IG_MAX_STRATEGIES];
	const char *const *symbols;       /* instrument id -> symbol (the engine's table) */
	uint16_t ninstruments;
	bool realtime;                    /* timers on CLOCK_REALTIME, else data time */
	bool started;                     /* on_start has run */
	bool awaiting;                    /* a recovery: hold on_start until every strategy
					   * here has had IG_CTL_RECOVERED */
	uint32_t recovered;               /* strategies here that have had it */
	uint64_t md_held;                 /* market data and timers not delivered while holding */
	bool stopped;
	bool unarmed;                     /* some every-timer waits for the first data time */
	int64_t now_ns;                   /* data time: the latest ts_event_ns handled */
	int64_t next_due_ns;              /* earliest armed timer; INT64_MAX = none */
	const void *owner;                /* atomic (relaxed): a token of the thread that runs
					   * the host (init's, then the first handle's); the ctx
					   * refuses acting calls from any other thread */
};

/*
 * Creates the contexts for every strategy in cfg whose thread is
 * thread_index, allocates their state and calls init. symbols[0..nsymbols)
 * is the instrument table (id -> symbol; must outlive the host): a
 * strategy's symbols must be in it, and ig_ctx_instrument/_symbol read it.
 * realtime: timers run on CLOCK_REALTIME (live) instead of data time.
 * Each entry's type is resolved through the registry (its plugin must have
 * been loaded by the config loader). Returns 0, or IG_ECONFIG with err
 * "config:line:col: strategies.N...: message", or IG_ENOMEM. On failure
 * nothing is left to undo (destroy hooks of the strategies already set up
 * have run).
 */
int ig_strategy_host_init(struct ig_strategy_host *h, const struct ig_config *cfg,
			  uint32_t thread_index, uint32_t epoch, const char *const *symbols,
			  uint16_t nsymbols, bool realtime, char *err, size_t errlen);

/* A recovery is under way (the OMS will announce, ig_oms_will_announce):
 * the host applies the recovered positions and open orders the OMS sends
 * to its strategies' mirrors and calls on_start only once the OMS has sent
 * IG_CTL_RECOVERED for every strategy here, so on_start sees what the
 * journal recovered. Market data and timers before that are not delivered
 * (counted in md_held); orders are denied until reconciliation anyway.
 * Main thread, after init, before the run. */
void ig_strategy_host_await_recovery(struct ig_strategy_host *h);

/* Returns true if a strategy of h has on_timer (the tick then routes
 * timers, the heartbeat included, to h's thread). */
bool ig_strategy_host_has_timers(const struct ig_strategy_host *h);

/* Calls each strategy's destroy hook (if its init succeeded), then frees
 * the state blocks and contexts. */
void ig_strategy_host_destroy(struct ig_strategy_host *h);

/* Acting ctx calls made outside a callback by strategy id on this host
 * (0 if it is not here). */
uint64_t ig_strategy_host_misuse(const struct ig_strategy_host *h, uint16_t strategy_id);

/* The stage handler. */
void ig_strategy_host_handle(struct ig_strategy_host *h, const struct ig_event *ev,
			     struct ig_emit *out);

/* The stage's operations (stage.h): handle only; self is a host. */
extern const struct ig_stage_ops ig_strategy_host_ops;

#endif
