/*
 * jstage.h - the journal stage: the journal thread's handler, between the
 * OMS and the executor (design.md §1, §8).
 *
 * Design
 * ------
 * With the journal on, the OMS sends two kinds of events into the one
 * OMS -> journal ring, in the order it produced them (oms.h):
 *
 *   records   its inputs (flag 0) and their consequences
 *             (IG_EVF_J_DERIVED): appended to the journal, nothing more;
 *   outputs   orders, cancels and the shutdown token for the executor
 *             (IG_EVF_J_OUTPUT): appended (orders as ORDER_ACCEPTED,
 *             cancels as CANCEL_REQ), then held in a FIFO and forwarded
 *             to the executor only once every record before them is
 *             durable. So an order's intent and client id are on disk
 *             before the request can leave the process.
 *
 * When held outputs go (ig_jstage_commit, once per duty cycle):
 *   sync: order  at the end of every batch that holds an order: one
 *                fdatasync for the batch, then everything held goes.
 *   sync: batch  group commit: when batch_records records have arrived
 *                since the last sync, or the oldest held output has waited
 *                batch_ms; the executor waits for the group.
 * A batch that holds only cancels (or the token) needs no sync: a cancel
 * that is lost is harmless and is sent again by recovery. Records that
 * hold no output (marks, fills, updates) are written to the file (write(2),
 * so a kill -9 loses none of them) at every commit, and made durable at
 * least every flush_ms; what a power cut could take of them, the venue
 * still has, and reconciliation reads it back.
 *
 * A failed write or fdatasync is sticky (journal.h). From then on orders
 * are not forwarded as orders: each goes to the executor flagged
 * IG_EVF_J_FAILED and comes back as a reject (journal_failed), so nothing
 * undurable reaches the venue and nothing hangs; cancels still go.
 *
 * Owner: the journal thread (or the inline driver). The writer is opened
 * on the main thread before the threads start.
 */
#ifndef IG_JOURNAL_JSTAGE_H
#define IG_JOURNAL_JSTAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/hist.h"
#include "core/stage.h"
#include "journal/journal.h"

struct ig_jrecovery;

struct ig_jstage {
	struct ig_journal j;
	bool is_open;
	int sync;                   /* enum ig_journal_sync */
	int64_t batch_ns;           /* group commit period */
	uint64_t batch_records;     /* group commit size */
	int64_t flush_ns;           /* records without output: durable within */
	struct ig_event *held;      /* outputs waiting for durability, held_cap */
	uint32_t held_cap;          /* power of two */
	uint32_t held_head, held_tail;
	bool held_order;            /* an order is among the held outputs */
	int64_t held_since_ns;      /* monotonic arrival of the oldest held output */
	uint64_t since_sync;        /* records appended since the last sync */
	int64_t unsynced_since_ns;  /* monotonic arrival of the oldest unsynced record, 0 none */
	int err;                    /* first error (sticky), 0 none */
	struct ig_hist sync_ns;     /* one fdatasync */
	struct ig_hist order_wait_ns; /* an order's arrival here -> forwarded */
	uint64_t records;           /* appended */
	uint64_t outputs;           /* forwarded to the executor */
	uint64_t orders;            /* orders among them */
	uint64_t failed_orders;     /* orders turned back (journal failed) */
	uint64_t syncs;
	const struct ig_jrecovery *recovery; /* what recovery at start found, for the summary
					      * (jrecover.h; NULL: none) */
	/* Status snapshots (api.listen set): sync_ns published from poll,
	 * on the journal thread, at most every publish_ns and only after a
	 * sync (an idle journal is not woken for it). */
	struct ig_snap_pub *pub;
	int64_t publish_ns;
	int64_t next_publish_ns;
	uint64_t published_syncs;   /* syncs when last published; UINT64_MAX: never */
};

struct ig_snap_pub;

/* Publishes the sync histogram (journal_sync, api/snapshot.h) to pub
 * every publish_ms at most (poll, journal thread). Before the run, main
 * thread. */
void ig_jstage_set_publisher(struct ig_jstage *js, struct ig_snap_pub *pub, int64_t publish_ms);

/*
 * Opens the journal at jc->path for appending (creating its directory if
 * missing) and sets up the stage. held_cap: outputs that may wait at once
 * (rounded up to a power of two); at that many, commit syncs whatever the
 * policy. rep (may be NULL) gets what the writer's open found. Returns 0,
 * IG_ENOMEM, or the writer's IG_EPARSE/IG_EIO/IG_EINVAL; nothing to undo
 * on failure. Main thread, before the journal thread starts.
 */
int ig_jstage_open(struct ig_jstage *js, const struct ig_cfg_journal *jc, uint64_t run_epoch,
		   uint32_t held_cap, struct ig_journal_report *rep);

/* Appends ev (from the OMS) and holds it if it is an output. May commit
 * first if the held FIFO is full. */
void ig_jstage_handle(struct ig_jstage *js, const struct ig_event *ev, struct ig_emit *out);

/* Makes records durable and forwards held outputs as the policy says
 * (force: sync and forward now). now_ns is CLOCK_MONOTONIC. Returns the
 * work done (outputs forwarded + syncs). */
int ig_jstage_commit(struct ig_jstage *js, int64_t now_ns, bool force, struct ig_emit *out);

/* When commit must run again (INT64_MAX = only when something arrives). */
int64_t ig_jstage_deadline_ns(const struct ig_jstage *js);

/* Outputs still held. */
static inline uint32_t ig_jstage_held(const struct ig_jstage *js)
{
	return js->held_head - js->held_tail;
}

/* The stage's operations (stage.h): handle, commit (CYCLE: the sync
 * policy above; EVENT, inline: what is held goes now; FINAL: everything is
 * written and synced), deadline_ns, stats ("journal" and, through
 * js->recovery, "recovery"). self is a struct ig_jstage. */
extern const struct ig_stage_ops ig_jstage_ops;

/* Syncs and closes the writer, frees the FIFO. Returns the first error
 * seen (0 if none). */
int ig_jstage_close(struct ig_jstage *js);

#endif
