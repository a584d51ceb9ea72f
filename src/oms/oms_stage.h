/*
 * oms_stage.h - the OMS as a pipeline stage (stage.h): its operations, the
 * kill switch request other threads make, and what it reports at the end.
 *
 * Design
 * ------
 * The OMS handler (oms.h) is a pure function of its inputs. What reaches
 * it from outside the pipeline goes through this adapter: a kill switch
 * request (SIGUSR1 / SIGUSR2 on the main thread) is an atomic flag and a
 * counter here, set by ig_oms_request_kill_switch(); the OMS's own thread
 * sees it in has_work() and applies it in poll(), so the books are only
 * ever touched by their owner. done() says the run is over (the shutdown
 * token came back from the executor). on_stop() logs every cancel the
 * venue never confirmed and takes the books' state hash; stats() writes
 * strategies[], state_hash, kill_switch, trading_state and
 * cancels_outstanding of the summary.
 *
 * With a snapshot publisher set (ig_oms_stage_set_publisher; the API is
 * on), poll() also fills and publishes a struct ig_snapshot (api/
 * snapshot.h) at most every publish_ms of CLOCK_MONOTONIC time, on the
 * OMS's thread, and deadline_ns() wakes the thread for it when idle. No
 * allocation, no lock: a pool slot is filled and its pointer swapped.
 *
 * Owner: the OMS's thread (or the inline driver); the request function
 * from any thread.
 */
#ifndef IG_OMS_OMS_STAGE_H
#define IG_OMS_OMS_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stage.h"
#include "oms/oms.h"

struct ig_oms_stage {
	struct ig_oms *oms;
	bool kill_req;                /* atomic: wanted kill switch state */
	uint32_t kill_engages;        /* atomic: engage requests so far (one while engaged
				       * sends the cancels again) */
	uint32_t kill_seen;           /* OMS thread: kill_engages last applied */
	uint64_t state_hash;          /* ig_oms_state_hash() at stop */
	uint32_t cancels_outstanding; /* cancels the venue never confirmed, at stop */
	struct ig_snap_pub *pub;      /* snapshot publisher, NULL = none (API off) */
	int64_t publish_ns;           /* period */
	int64_t next_publish_ns;      /* CLOCK_MONOTONIC of the next publish; 0 = at once */
	const char *const *symbols;   /* instrument names, for the snapshot */
	uint16_t ninstruments;
};

struct ig_snap_pub;

/* Publishes snapshots to pub every publish_ms (from poll, OMS thread);
 * symbols names the ninstruments instruments and must outlive the run.
 * Before the run, main thread. */
void ig_oms_stage_set_publisher(struct ig_oms_stage *st, struct ig_snap_pub *pub,
				int64_t publish_ms, const char *const *symbols,
				uint16_t ninstruments);

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

/* Asks the OMS to engage (on) or clear the kill switch; engaging while
 * engaged cancels again what is still open. Any thread; then wake the
 * OMS's thread (ig_driver_wake(drv, st)). */
void ig_oms_request_kill_switch(struct ig_oms_stage *st, bool on);

/* handle, poll (kill switch, snapshots), deadline_ns (snapshots), has_work, done, on_stop, stats. self is a
 * struct ig_oms_stage. */
extern const struct ig_stage_ops ig_oms_stage_ops;

#endif
