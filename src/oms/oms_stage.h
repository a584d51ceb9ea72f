/*
 * oms_stage.h - the OMS as a pipeline stage (stage.h): its operations, the
 * operator control requests other threads make, and what it reports at the
 * end.
 *
 * Design
 * ------
 * The OMS handler (oms.h) is a pure function of its inputs. What reaches
 * it from outside the pipeline goes through this adapter: operator
 * controls (the kill switch from SIGUSR1 / SIGUSR2 on the main thread;
 * pause, resume, cancel-all, reset and the kill switch from the API
 * thread) are requests in a bounded lock-free mailbox here, put by
 * ig_oms_request() from any thread; the OMS's own thread sees them in
 * has_work() and applies them in poll() (ig_oms_control(): journaled as
 * IG_EV_CONTROL inputs), so the books are only ever touched by their
 * owner. done() says the run is over (the shutdown token came back from
 * the executor). on_stop() logs every cancel the venue never confirmed
 * and takes the books' state hash; stats() writes strategies[] (with
 * state and controls), state_hash, kill_switch, trading_state,
 * cancels_outstanding and controls of the summary.
 *
 * With a snapshot publisher set (ig_oms_stage_set_publisher; the API is
 * on), poll() also fills and publishes a struct ig_snapshot (api/
 * snapshot.h) at most every publish_ms of CLOCK_MONOTONIC time, on the
 * OMS's thread, and deadline_ns() wakes the thread for it when idle. No
 * allocation, no lock: a pool slot is filled and its pointer swapped.
 *
 * Control request contract
 * ------------------------
 * ig_oms_request() never blocks and never allocates: it returns 0 and the
 * request's id (> 0, unique for the stage's life), or IG_EAGAIN when
 * IG_OMS_CTL_QUEUE requests are waiting (the OMS is not keeping up; try
 * again later), or IG_EINVAL for a command that is not an operator
 * control. The caller then wakes the OMS's thread (ig_driver_wake(drv,
 * st)). The OMS applies requests in the order their ids were taken.
 * ig_oms_request_status(st, id) returns IG_OMS_CTL_PENDING until the OMS
 * has applied it, then its outcome (enum ig_oms_ctl_status, oms.h: OK,
 * NO_CHANGE, NOT_FOUND, INVALID), which stays readable until
 * IG_OMS_CTL_RESULTS later requests have completed (then EXPIRED). An API
 * maps OK to 200, NO_CHANGE to 409, NOT_FOUND to 404, INVALID to 400, and
 * polls (a short sleep between reads) with a timeout of its own: a
 * stopped or stuck OMS never answers (PENDING forever). Every outcome is
 * also logged by the OMS.
 *
 * Owner: the OMS's thread (or the inline driver); ig_oms_request(),
 * ig_oms_request_status(), ig_oms_request_kill_switch() and
 * ig_oms_stage_strategy_index() from any thread.
 */
#ifndef IG_OMS_OMS_STAGE_H
#define IG_OMS_OMS_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stage.h"
#include "oms/oms.h"

#define IG_OMS_CTL_QUEUE 64    /* requests waiting at most; power of two */
#define IG_OMS_CTL_RESULTS 256 /* outcomes kept; power of two, >= IG_OMS_CTL_QUEUE */

/* An operator control request (a public value type). */
struct ig_oms_ctl_req {
	uint16_t cmd;      /* IG_CTL_KILL_SWITCH, _PAUSE, _RESUME, _CANCEL_ALL, _RESET, _PARAMS */
	uint16_t strategy; /* strategy index (ig_oms_stage_strategy_index), or
			    * IG_STRATEGY_NONE: every strategy (kill switch: ignored;
			    * PARAMS needs one) */
	int64_t arg;       /* KILL_SWITCH: 1 engage, 0 clear; else 0 */
	struct ig_params_change params; /* PARAMS: the values (ig_oms_params) */
};

struct ig_oms_ctl_slot {
	uint64_t seq; /* atomic: ticket the slot waits for (free) or ticket + 1 (full) */
	struct ig_oms_ctl_req req;
};

struct ig_oms_stage {
	struct ig_oms *oms;
	uint64_t state_hash;          /* ig_oms_state_hash() at stop */
	uint32_t cancels_outstanding; /* cancels the venue never confirmed, at stop */
	/* The mailbox: a bounded MPSC queue of tickets (any thread puts, the
	 * OMS's thread takes). */
	uint64_t ctl_tail;            /* atomic: next ticket to hand out */
	uint64_t ctl_head;            /* OMS thread: next ticket to apply */
	struct ig_oms_ctl_slot ctl_q[IG_OMS_CTL_QUEUE];
	uint64_t ctl_result[IG_OMS_CTL_RESULTS]; /* atomic: id << 8 | status, at id % size */
	struct ig_snap_pub *pub;      /* snapshot publisher, NULL = none (API off) */
	int64_t publish_ns;           /* period */
	int64_t next_publish_ns;      /* CLOCK_MONOTONIC of the next publish; 0 = at once */
	/* Params requests waiting for their strategy's verdict: the request
	 * id per strategy (0 = none); its result is published when the
	 * verdict comes (ig_oms_params_verdict, after each event). */
	uint64_t params_req[IG_MAX_STRATEGIES];
	const char *const *symbols;   /* instrument names, for the snapshot */
	uint16_t ninstruments;
	struct ig_events *events;     /* the API's event ring (api/events.h), NULL = none */
};

struct ig_snap_pub;

/* Publishes snapshots to pub every publish_ms (from poll, OMS thread);
 * symbols names the ninstruments instruments and must outlive the run.
 * Before the run, main thread. */
void ig_oms_stage_set_publisher(struct ig_oms_stage *st, struct ig_snap_pub *pub,
				int64_t publish_ms, const char *const *symbols,
				uint16_t ninstruments);

struct ig_events;

/* Feeds the API's event ring (api/events.h): sets the OMS's tap to it
 * (order updates, fills, denials) and, from poll, seeds it with the open
 * orders and pushes trading-state changes. ev NULL detaches. Before the
 * run (after any recovery), main thread. */
void ig_oms_stage_set_events(struct ig_oms_stage *st, struct ig_events *ev);

/* Wraps oms (after any recovery: a kill switch engaged in the books stays
 * the wanted state). */
void ig_oms_stage_init(struct ig_oms_stage *st, struct ig_oms *oms);

/* Adds the OMS's side of recovery (reconciled, reconcile_passes,
 * reconcile_error, why_closed, orders_looked_up, fills_found, adopted,
 * foreign_orders, balance_mismatch, balance_diff{SYMBOL_base, counter})
 * to rec, the summary's "recovery" object. symbols names the
 * ninstruments instruments. Returns 0 or IG_ENOMEM. After the run. */
int ig_oms_recovery_json(const struct ig_oms *oms, const char *const *symbols,
			 uint32_t ninstruments, json_t *rec);

/* Puts an operator control request in the mailbox (contract above).
 * Returns 0 with *id set, IG_EAGAIN (full) or IG_EINVAL (not a control
 * command). Any thread; then wake the OMS's thread. */
int ig_oms_request(struct ig_oms_stage *st, const struct ig_oms_ctl_req *req, uint64_t *id);

/* Returns the outcome of request id (enum ig_oms_ctl_status):
 * IG_OMS_CTL_PENDING until it is applied. Any thread. */
enum ig_oms_ctl_status ig_oms_request_status(const struct ig_oms_stage *st, uint64_t id);

/* Asks the OMS to engage (on) or clear the kill switch through the
 * mailbox; engaging while engaged cancels again what is still open.
 * Returns 0 or IG_EAGAIN (the mailbox is full). Any thread; then wake the
 * OMS's thread (ig_driver_wake(drv, st)). */
int ig_oms_request_kill_switch(struct ig_oms_stage *st, bool on);

/* Returns the index of the strategy named name (the config's), or -1.
 * Any thread (the config is read-only while the engine runs). */
int ig_oms_stage_strategy_index(const struct ig_oms_stage *st, const char *name);

/* handle, poll (control requests, snapshots), deadline_ns (snapshots), has_work, done,
 * on_stop, stats. self is a
 * struct ig_oms_stage. */
extern const struct ig_stage_ops ig_oms_stage_ops;

#endif
