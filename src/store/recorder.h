/*
 * recorder.h - the history store's recorder: the OMS's order flow into a
 * store backend (store.h), off the trading path.
 *
 * Design
 * ------
 * The recorder hooks the OMS twice (ig_oms_add_tap, ig_oms_add_observer):
 * each order update, applied fill and risk denial, and an equity sample
 * per strategy every store.equity_every_s of data time (taken at the first
 * mark of each new period, before the mark applies), become one compact
 * item in an SPSC ring, on the OMS's thread: no allocation, no lock, no
 * wait. A full ring drops the item and counts it. The recorder's own
 * thread turns items into rows (store.h) and writes them in batched
 * transactions (every 50 ms or 1000 rows). A store that cannot be opened
 * or written (read-only directory, locked file, server down) is retried
 * with backoff (100 ms doubling to 5 s); the items of a failed batch are
 * lost to it. Whenever anything was dropped or lost, the recorder catches
 * up, when a journal is configured, by replaying the journal through a
 * fresh OMS carrying the same hooks writing straight into the store:
 * every insert is idempotent, so nothing is missing and nothing doubled
 * (the replay's rows equal the live ones: the OMS is a pure function of
 * its journaled inputs, and every row is stamped with data time, never
 * the clock). It does so when the store is back and once more at stop,
 * after the journal is final.
 *
 * Sessions: a row at start (run epoch, the strategies' fingerprint as
 * config_hash, the venue, started_at = the journal's SESSION time or the
 * clock) and its stopped_at at stop (the clock: the journal has no stop
 * record, so a rebuild leaves stopped_at as it finds it).
 *
 * Sync mode (`history rebuild`, and inline runs: backtests, where the OMS
 * outruns any store and there is no live trading to protect): no thread
 * and no ring; the hooks write on the caller's thread in transactions of
 * 1000 rows, so nothing is dropped.
 *
 * Owner: created, started, stopped and destroyed by the main thread; the
 * hooks run on the OMS's thread; the rest on the recorder's thread.
 */
#ifndef IG_STORE_RECORDER_H
#define IG_STORE_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "oms/oms.h"
#include "store/store.h"

struct ig_recorder;
struct json_t;

struct ig_recorder_opts {
	const struct ig_store_ops *ops;   /* the backend */
	const char *target;               /* its open() target (copied) */
	const struct ig_config *cfg;      /* daemon_id, equity_every_s, strategy names;
					   * must outlive the recorder */
	const char *const *symbols;       /* instrument names, ninstruments (copied) */
	uint16_t ninstruments;
	uint32_t run_epoch;               /* the session row's key */
	int64_t started_at;               /* its start, Unix ns */
	const char *journal;              /* the journal to catch up from, NULL = none */
	uint32_t ring_size;               /* items (rounded up to a power of two);
					   * 0 = IG_RECORDER_RING_DEFAULT */
	bool sync;                        /* write on the caller's thread (rebuild) */
	bool no_session;                  /* write no session row (rebuild: from the journal) */
	bool catch_up_at_start;           /* catch up from journal once the store is open: an
					   * earlier run of it may have died (kill -9) with
					   * rows journaled but not yet committed */
};

#define IG_RECORDER_RING_DEFAULT 16384u
#define IG_RECORDER_BATCH_ROWS 1000u
#define IG_RECORDER_BATCH_MS 50
/* Live catch-ups: at most one per IG_RECORDER_CATCHUP_MIN_MS; a failed one
 * is retried after a backoff doubling from that to IG_RECORDER_CATCHUP_MAX_MS. */
#define IG_RECORDER_CATCHUP_MIN_MS 1000
#define IG_RECORDER_CATCHUP_MAX_MS 60000
/* At stop, a store that cannot be opened is tried again every
 * IG_RECORDER_STOP_RETRY_MS, IG_RECORDER_STOP_OPENS times in all, then
 * given up (the journal keeps everything: history rebuild), so a stop
 * does not wait out the open backoff (up to 5 s a try). */
#define IG_RECORDER_STOP_RETRY_MS 250
#define IG_RECORDER_STOP_OPENS 3
/* At stop, a batch that fails drops what is left of the ring at once, and
 * the journal's catch-up is tried this many times (a failing one may cost
 * a lock or statement timeout each), then given up: the stop ends. */
#define IG_RECORDER_STOP_CATCHUPS 1

/* The recorder's counters (the summary's `store`). */
struct ig_recorder_stats {
	const char *kind;     /* the backend's name */
	uint64_t rows;        /* rows written (committed puts; a catch-up's included) */
	uint64_t dropped;     /* items dropped at a full ring */
	uint64_t behind;      /* items waiting in the ring */
	uint64_t errors;      /* failed opens, puts and commits */
	uint64_t catchups;    /* journal replays done */
	bool open;            /* the store is open now */
};

/* Builds a recorder. Sync mode opens the store now; otherwise the thread
 * does (ig_recorder_start). Returns 0, IG_ENOMEM, or (sync) the backend's
 * open error with err set. */
int ig_recorder_create(struct ig_recorder **out, const struct ig_recorder_opts *o, char *err,
		       size_t errlen);

/* Hooks oms (a tap and an observer). Returns 0 or IG_ELIMIT. Main thread,
 * before the run. */
int ig_recorder_attach(struct ig_recorder *r, struct ig_oms *oms);

/* Starts the thread (not in sync mode). Returns 0 or IG_ETHREAD. */
int ig_recorder_start(struct ig_recorder *r);

/* Ends the recording: writes what the ring holds and the session's stop
 * (stopped_at, Unix ns; 0 = none), catches up from the journal if
 * anything was dropped or lost, and joins the thread (sync mode:
 * commits). Call after the OMS's last event (and the journal's final
 * commit). Returns 0, or IG_EIO if rows could not be written. */
int ig_recorder_stop(struct ig_recorder *r, int64_t stopped_at);

/* Frees it (stopping it first if needed). NULL is a no-op. */
void ig_recorder_destroy(struct ig_recorder *r);

/* Checks that every run in the journal at path was started with o->cfg's
 * strategies (their fingerprint, as recovery checks it; strategies
 * appended since are allowed): rows replayed from it carry this config's
 * names. Returns 0, IG_ESTATE (other strategies), IG_ENOENT (no journal)
 * or the journal's read error. */
int ig_recorder_journal_fits(const struct ig_config *cfg, const char *path);

/* Writes the journal at path into the store of o (its ops, target, cfg,
 * symbols; the rest of o is ignored): the journal's sessions, then every
 * order, fill, denial and equity row through a fresh OMS, synchronously
 * on the caller's thread, as the live recorder would have (`history
 * rebuild`; a fresh start before it compacts the journal). *st gets the
 * counters. Returns 0 or an IG_E* with err set (never a password). */
int ig_recorder_rebuild(const struct ig_recorder_opts *o, const char *path,
			struct ig_recorder_stats *st, char *err, size_t errlen);

/* Reads the counters (any thread; relaxed). */
void ig_recorder_stats(const struct ig_recorder *r, struct ig_recorder_stats *st);

/* Adds "store": {kind, rows, dropped, behind, errors} to root. Returns 0
 * or -1 (out of memory). */
int ig_recorder_stats_json(const struct ig_recorder *r, struct json_t *root);

/* Replays the journal at path through a fresh OMS built from cfg with the
 * recorder's hooks (rebuild, catch-up). Returns 0, or the replay's error
 * (IG_EIO, IG_EPARSE, IG_ENOMEM; IG_ENOENT: no records). */
int ig_recorder_replay(struct ig_recorder *r, const char *path);

/* Writes a session row for each SESSION record of the journal at path
 * (stopped_at unknown: left as the store has it). Returns 0 or an IG_E*. */
int ig_recorder_journal_sessions(struct ig_recorder *r, const char *path);

/* The quote (quote true) or base currency of an instrument symbol, into
 * out: split at '/', '-' or '_', else the last 3 characters are the quote
 * (4 for USDT and USDC): BTCUSD -> BTC / USD, XBTZAR -> XBT / ZAR. */
void ig_store_currency_of(const char *sym, bool quote, char *out, size_t cap);

/* The backend for a store kind (IG_STORE_SQLITE, IG_STORE_POSTGRES), or
 * NULL when this build has none. */
const struct ig_store_ops *ig_recorder_backend(int kind);

#endif
