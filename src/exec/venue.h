/*
 * venue.h - the interface every venue implements, and the venue registry.
 *
 * A venue lives on the executor thread and nowhere else: its sockets,
 * libcurl handles and books never leave it. The executor stage calls it for
 * each order and cancel it dequeues, hands it market data if it asks for
 * it, and calls poll() on every duty cycle so that an asynchronous venue
 * can drive its I/O (curl multi), its request budget and its periodic order
 * status checks without ever blocking the thread. Everything the venue
 * learns goes back to the OMS as events through `out`:
 *
 *   IG_EV_ORDER_UPDATE  ACCEPTED (with venue_order_id), CANCELED, EXPIRED,
 *                       IN_DOUBT (outcome unknown), REJECTED
 *   IG_EV_FILL          one per venue trade, keyed by trade_id
 *   IG_EV_REJECT        by_venue = 1, with a mapped reason
 *
 * Owner: the executor thread.
 */
#ifndef IG_EXEC_VENUE_H
#define IG_EXEC_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/hist.h"

/* One order the replayed journal says is not finished: a public value
 * type (recovery fills it, the venue reads it). */
struct ig_snap_venue;

struct ig_recover_order {
	uint64_t client_id;
	uint64_t venue_order_id;  /* 0 if the venue never acknowledged it */
	int64_t px;               /* limit price, 1e-8; 0 for market */
	int64_t qty;              /* ordered, 1e-8 */
	int64_t filled_qty;       /* fills the journal has, 1e-8 */
	uint64_t last_trade_id;   /* highest venue trade applied to it */
	uint16_t strategy_id;
	uint16_t instrument_id;
	uint8_t side;             /* enum ig_side */
	uint8_t type;             /* enum ig_ord_type (MARKET or LIMIT: what went out) */
	uint8_t tif;              /* enum ig_tif */
	uint8_t flags;            /* IG_ORDF_* */
	uint8_t state;            /* enum ig_ord_state in the OMS */
	bool cancel_requested;    /* a cancel had been sent (or was about to be) */
};

/* What recovery hands the venue before the executor starts: a public
 * value type. */
struct ig_recover {
	const struct ig_recover_order *orders; /* norders, valid during the call only */
	uint32_t norders;
	uint64_t last_trade_seq[IG_MAX_INSTRUMENTS]; /* highest venue trade sequence the journal
						      * applied, per instrument; 0 = none */
	bool have_journal;        /* false on a first start (nothing to recover) */
	int64_t timeout_ms;       /* report IG_RECON_TIMEOUT after this; the pass goes on */
};

struct ig_venue_ops {
	const char *name;
	bool wants_md;  /* the tick stage sends it market data (paper matching) */
	/* Sends an accepted order (IG_EV_ORDER). */
	void (*submit)(void *venue, const struct ig_event *order, struct ig_emit *out);
	/* Cancels an order (IG_EV_CANCEL). */
	void (*cancel)(void *venue, const struct ig_event *cancel, struct ig_emit *out);
	/* Market data, if wants_md (may be NULL otherwise). */
	void (*market_data)(void *venue, const struct ig_event *md, struct ig_emit *out);
	/* Drives asynchronous work; returns the work done (0 = idle). May be
	 * NULL for synchronous venues. now_ns is CLOCK_MONOTONIC. */
	int (*poll)(void *venue, int64_t now_ns, struct ig_emit *out);
	/* Earliest CLOCK_MONOTONIC time poll() must run again, INT64_MAX if
	 * none (may be NULL). */
	int64_t (*deadline_ns)(void *venue);
	/* Recovery: seeds the venue with the journal's unfinished orders and
	 * starts a reconciliation pass, which runs in poll(): every recovered
	 * order is looked up (never sent again), the trades since
	 * last_trade_seq are read and emitted as fills, open orders of ours
	 * the journal lacks are adopted (ORDER_UPDATE ACCEPTED with
	 * IG_EVF_ADOPT), foreign ones counted and left alone, and the
	 * balances read; then one IG_EV_RECONCILE per instrument. Called once,
	 * before the first poll, by the thread that then owns the venue.
	 * Returns 0 or a negative IG_E*. May be NULL: the executor then
	 * reports IG_RECON_UNSUPPORTED (the paper venue has its own answer). */
	int (*recover)(void *venue, const struct ig_recover *rc);
	/* True while requests are outstanding (shutdown waits for them). */
	bool (*busy)(void *venue);
	/* Logs the venue's counters (the closing note at the end of a run);
	 * may be NULL. Called by the main thread once the executor thread
	 * has stopped. */
	void (*log_stats)(const void *venue);
	/* Frees the venue made by its type's create(). A context peer()
	 * handed out is the venue's to free only if nobody took a reference
	 * to it (see peer). */
	void (*destroy)(void *venue);
	/* What the venue shares with the engine's feed, or NULL: the engine
	 * passes it, with the venue's type, to ig_feed_open() (feed.h), and a
	 * feed source of the same venue (the one module knows both) may draw
	 * on it (the Luno venue: its Luno instance, the request budget of
	 * the account). Borrowed: a source that keeps it takes its own
	 * reference by its module's means, so venue and feed may close in
	 * either order. Main thread, before the threads start. May be NULL
	 * (nothing to share). */
	void *(*peer)(void *venue);
	/* The order round trips the venue measured (submit to the venue's
	 * answer), or NULL if it measures none: the executor writes them
	 * into the summary as venue.round_trip_ns with their buckets, which
	 * a backtest replays (venue.latency_from). Main thread, after the
	 * executor thread has stopped. May be NULL. */
	const struct ig_hist *(*round_trips)(const void *venue);
	/* The venue's health for the status API (api/snapshot.h): requests
	 * finished, errors by HTTP code, 429s, the last round trip, the
	 * request round-trip histogram and a state. Executor thread (the
	 * executor's snapshot publisher). May be NULL: nothing to report
	 * (zeros, "ok"). */
	void (*health)(const void *venue, struct ig_snap_venue *out);
	/* True when a thread of the venue's own (the Luno user stream) has
	 * signalled work for poll() since the last poll (the executor
	 * stage's has_work, stage.h). Executor thread. May be NULL. */
	bool (*has_work)(void *venue);
	/* Gives the venue the function that wakes the executor thread, for
	 * a thread of its own to call after it signals (set before or while
	 * the threads run). Main thread. May be NULL (nothing signals). */
	void (*set_wake)(void *venue, void (*fn)(void *arg), void *arg);
	/* Stops the venue's own threads (the Luno user stream's) once the
	 * run is over, so nothing of it runs or logs after; destroy frees
	 * the rest. Main thread, after the executor stopped. May be NULL. */
	void (*halt)(void *venue);
};

/*
 * The venue registry: every venue the build knows, by the name that
 * venue.kind gives in the config. Adding a venue is one entry in
 * src/exec/venues.c (and its own module); the engine (src/app/) never
 * names one.
 *
 * A venue's number (its index in the registry, what ig_config.venue.kind
 * holds) is part of the account identity the journal records
 * (ig_recover_account_of: "venue N"), so entries are only ever appended:
 * paper is 0 and luno 1, as IG_VENUE_PAPER and IG_VENUE_LUNO say.
 */
struct ig_venue_type {
	const char *name;  /* venue.kind */
	/* Trades real money: needs the journal (client ids never repeat,
	 * crash recovery) and live time (never inline). */
	bool live;
	/* Makes a venue from the config: *venue gets its state, owned by the
	 * caller until ops->destroy(). Returns 0, or IG_ECONFIG / IG_ENOMEM
	 * with err set (naming a missing environment variable, never a
	 * value). Main thread, before the executor thread starts. */
	int (*create)(const struct ig_config *cfg, void **venue, char *err, size_t errlen);
	const struct ig_venue_ops *ops;
};

/* The venue type named name, or NULL. */
const struct ig_venue_type *ig_venue_find(const char *name);

/* The registry's index of the venue named name (what venue.kind holds),
 * or -1. */
int ig_venue_index(const char *name);

/* The venue type at index i, or NULL past the end. */
const struct ig_venue_type *ig_venue_at(int i);

/* The name of the venue at index i, or NULL past the end (for listing
 * them: the config's "expected paper|luno"). */
const char *ig_venue_name_at(int i);

/* Returns true if the venue cfg->venue.kind names is live (its registry
 * entry's live flag: real money, so the journal recovers it and its
 * account identity includes venue.base_url and the key id); false for a
 * simulated venue or an index past the end. Any thread (the registry is
 * constant). */
bool ig_venue_is_live(const struct ig_config *cfg);

/* Emits to the OMS an IG_EV_REJECT of `order` (an IG_EV_ORDER that never
 * reached the venue's book): its client id, px, qty and side, `reason`
 * (enum ig_reject_reason) and by_venue. The executor thread. */
void ig_venue_reject(const struct ig_event *order, int reason, bool by_venue, struct ig_emit *out);

#endif
