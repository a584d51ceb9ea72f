/*
 * exec.h - the executor stage: hands accepted orders and cancels to the
 * venue and passes its reports back to the OMS.
 *
 * It also measures tick-to-order latency: for every order it dequeues, the
 * time from the causing tick's ts_origin_ns to now.
 *
 * The venue is the registry entry venue.kind names (venue.h): the executor
 * holds it as ops plus opaque state and never names a venue.
 *
 * Owner: the executor thread (or the inline driver). Venue state (paper
 * book, libcurl handles) never leaves it.
 */
#ifndef IG_EXEC_EXEC_H
#define IG_EXEC_EXEC_H

#include <stdbool.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/hist.h"
#include "core/stage.h"
#include "exec/venue.h"

struct ig_exec {
	const struct ig_venue_type *type; /* the registry entry of venue.kind */
	const struct ig_venue_ops *ops;   /* the venue's interface (type->ops) */
	void *venue;             /* the venue's state, opaque, made by type->create() */
	bool draining;           /* FEED_END received: echo once the venue is idle */
	struct ig_event feed_end;/* the FEED_END to echo */
	int64_t drain_deadline_ns; /* echo anyway after this (monotonic) */
	int64_t drain_timeout_ns;  /* timeout_ms + the in-doubt window */
	struct ig_hist tick_to_order; /* ns */
	bool measure;            /* record latency (off for deterministic replays) */
	uint64_t orders;
	uint64_t cancels;
	uint64_t journal_rejects; /* orders the journal could not make durable, turned back */
	/* Recovery on a venue without recover() (paper): its answer, given at
	 * the first poll. */
	struct ig_recover_order *recovered; /* n_recovered, malloc'd at recovery */
	uint32_t n_recovered;
	uint32_t n_instruments;
	bool recover_pending;
	/* Status snapshots (api.listen set): tick_to_order published every
	 * publish_ns from poll, on the executor thread. */
	struct ig_snap_pub *pub;
	int64_t publish_ns;
	int64_t next_publish_ns;
};

struct ig_snap_pub;

/* Publishes the tick-to-order histogram to pub every publish_ms (poll,
 * executor thread; api/snapshot.h). Before the run, main thread. */
void ig_exec_set_publisher(struct ig_exec *x, struct ig_snap_pub *pub, int64_t publish_ms);

/* Makes the venue cfg->venue.kind names (venue.h). Returns 0, or the
 * venue's error (logged: IG_ECONFIG names what is missing). */
int ig_exec_init(struct ig_exec *x, const struct ig_config *cfg);
void ig_exec_destroy(struct ig_exec *x);

/* Logs the venue's counters (its log_stats op, if it has one). Main
 * thread, once the executor thread has stopped. */
void ig_exec_log_stats(const struct ig_exec *x);

/* True if the venue needs the feed's market data (paper matching). */
bool ig_exec_wants_md(const struct ig_exec *x);

/* Returns true if the executor records tick-to-order latency (the
 * default; off for deterministic replays). */
bool ig_exec_measures(const struct ig_exec *x);

/* The registry entry of the venue (NULL before a successful
 * ig_exec_init), for ig_feed_open(). */
const struct ig_venue_type *ig_exec_venue_type(const struct ig_exec *x);

/* What the venue shares with the engine's feed (its peer op, venue.h), or
 * NULL. Borrowed: valid until ig_exec_destroy unless the feed takes its
 * own reference. Main thread, before the threads start. */
void *ig_exec_venue_peer(const struct ig_exec *x);

/* Hands the venue the function that wakes the executor's thread (its
 * set_wake op, venue.h); nothing if it has none. Main thread. */
void ig_exec_set_wake(struct ig_exec *x, void (*fn)(void *arg), void *arg);

/* Stops the venue's own threads (its halt op, venue.h) after the run;
 * nothing if it has none. Main thread. */
void ig_exec_halt(struct ig_exec *x);

void ig_exec_handle(struct ig_exec *x, const struct ig_event *in, struct ig_emit *out);

/* Recovery (venue.h): hands the venue the journal's unfinished orders and
 * starts reconciliation; its results arrive through ig_exec_poll. The
 * paper venue remembers nothing across runs: each recovered order is
 * reported CANCELED (it is not on any book any more) and reconciliation
 * succeeds without balances. Main thread, before the executor thread
 * starts. Returns 0, IG_ENOMEM or the venue's error. */
int ig_exec_recover(struct ig_exec *x, const struct ig_recover *rc, uint32_t ninstruments);

/* Drives the venue's asynchronous work; returns work done. Executor thread. */
int ig_exec_poll(struct ig_exec *x, int64_t now_ns, struct ig_emit *out);

/* Earliest time ig_exec_poll must run again (INT64_MAX = none). */
int64_t ig_exec_deadline_ns(const struct ig_exec *x);

/* The stage's operations (stage.h): handle, poll (the venue), deadline_ns,
 * stats (latency.tick_to_order_ns). self is a struct ig_exec. */
extern const struct ig_stage_ops ig_exec_stage_ops;

#endif
