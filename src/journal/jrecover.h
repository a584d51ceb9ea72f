/*
 * jrecover.h - recovery orchestration at start (journal on): what the
 * engine calls to turn a journal on disk into an OMS ready to run, a
 * journal writer ready to append, and a venue that knows what to look up.
 *
 * Design
 * ------
 * Two steps, because the strategy hosts need the run epoch in between
 * (their client ids carry it) and the venue must exist before the second:
 *
 *   ig_jrecover_start   decides whether this run recovers (journal.recover:
 *                       on; auto = live venues only: the paper venue
 *                       remembers nothing), and the venue account it
 *                       trades; recovering, replays the journal into the
 *                       OMS (recover.h) and refuses a journal of another
 *                       account, of other strategies, or whose replay
 *                       diverged; not recovering, only scans it (its size
 *                       and last epoch). Either way it picks the run
 *                       epoch: one the journal has not used.
 *   ig_jrecover_open    compacts the journal (over journal.compact_bytes,
 *                       or always on a fresh start: the books start
 *                       empty), resets the OMS's run-scoped state, opens
 *                       the writer, writes the SESSION record and commits
 *                       it, and hands the venue every order that may be at
 *                       it (ig_exec_recover).
 *
 * The result stays in struct ig_jrecovery for the summary's "recovery"
 * object (ig_jrecover_stats, called by the journal stage's stats op).
 *
 * Owner: the main thread, before any engine thread starts.
 */
#ifndef IG_JOURNAL_JRECOVER_H
#define IG_JOURNAL_JRECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "exec/exec.h"
#include "journal/jstage.h"
#include "journal/recover.h"
#include "oms/oms.h"

struct ig_jrecovery {
	const struct ig_config *cfg;
	const struct ig_oms *oms;              /* reconciliation results, for the summary */
	const char *const *symbols;            /* instrument names, ninstruments */
	uint32_t ninstruments;
	bool recovering;                       /* journal replayed, the venue reconciles */
	uint32_t epoch;                        /* the run epoch chosen */
	struct ig_replay_info replay;          /* what the journal held */
	struct ig_recover_account account;     /* the venue account this run trades */
	uint64_t fresh_compacted;              /* records a fresh start compacted away */
	int64_t session_ns;                    /* the SESSION record's time (CLOCK_REALTIME),
						* after ig_jrecover_open */
};

/*
 * Step one. epoch: the run epoch from the clock (0 for inline runs);
 * r->epoch gets the one to use. oms: built from cfg, journaling off.
 * Returns 0, or an IG_E* with err set ("path: why"; IG_ESTATE for a
 * journal this run must not recover from).
 */
int ig_jrecover_start(struct ig_jrecovery *r, const struct ig_config *cfg, struct ig_oms *oms,
		      uint32_t epoch, char *err, size_t errlen);

/* Returns the run epoch step one chose. */
uint32_t ig_jrecover_epoch(const struct ig_jrecovery *r);

/*
 * Step two, after the venue is set up. Opens js (held_cap outputs may
 * wait for durability), turns the OMS's journal records on, and ties js to r for its stats.
 * symbols: ninstruments names (kept, for the summary). Returns 0 or an
 * IG_E* with err set; on failure js is closed.
 */
int ig_jrecover_open(struct ig_jrecovery *r, struct ig_oms *oms, struct ig_jstage *js,
		     struct ig_exec *exec, const char *const *symbols, uint32_t ninstruments,
		     uint32_t held_cap, char *err, size_t errlen);

/* Adds "recovery" {recovered, replayed_records, ..., and either the
 * reconciliation results or fresh_start_compacted} to root. Returns 0 or
 * IG_ENOMEM. */
int ig_jrecover_stats(const struct ig_jrecovery *r, json_t *root);

#endif
