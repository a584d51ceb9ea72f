/*
 * snapshot.h - the engine's state as immutable snapshots, published through
 * liburcu (RCU) for the API thread to read.
 *
 * Design
 * ------
 * struct ig_snapshot is a flat public value type (no pointers): what the
 * status API and the metrics show. The OMS stage fills one on its own
 * thread at most every api.publish_ms (oms_stage.h) and publishes it; the
 * API thread reads the current one inside an RCU read-side critical
 * section. Nobody locks, nobody waits on the OMS thread.
 *
 * The publisher (struct ig_snap_pub, opaque) owns a pool of
 * IG_SNAP_POOL snapshots allocated once at creation, so publishing never
 * allocates. Each slot moves through FREE -> WRITING -> LIVE (the
 * publisher, ig_snap_begin / ig_snap_publish) -> RETIRED (the publisher,
 * when the next one replaces it) -> GRACE (the reclaimer,
 * ig_snap_reclaim, which hands it to call_rcu) -> FREE (the call_rcu
 * callback, after a grace period: no reader can still hold it). Each
 * transition has exactly one writing thread; the state is an atomic. When
 * no slot is FREE (a reader or the reclaimer is slow) the publisher skips
 * that publish and counts it: it never waits.
 *
 * The publisher thread never touches liburcu's reader registry: it only
 * assigns the pointer (rcu_assign_pointer). The reclaimer and the readers
 * are threads registered with liburcu (urcu-memb: no signals; the API
 * thread registers itself, tests register theirs). ig_snap_pub_destroy
 * runs rcu_barrier (every callback has run) before freeing.
 *
 * Owner: created and destroyed by the API's owner (the engine) on the main
 * thread; ig_snap_begin/ig_snap_publish by the one publishing thread;
 * ig_snap_reclaim and reads by registered threads.
 */
#ifndef IG_API_SNAPSHOT_H
#define IG_API_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "ingenium/event.h"

#define IG_SNAP_POOL 4

/* Upper bounds (ns) of the tick-to-order histogram's Prometheus buckets
 * (le), the +Inf bucket not included. */
#define IG_SNAP_LAT_BOUNDS_NS                                                              \
	{ 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, \
	  5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000,           \
	  1000000000 }
#define IG_SNAP_LAT_BUCKETS 19

/* Upper bounds (ns) of the slow histograms' buckets (venue requests,
 * journal syncs: milliseconds to seconds), as many as the fast ones. */
#define IG_SNAP_SLOW_BOUNDS_NS                                                             \
	{ 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000, \
	  100000000, 250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000, \
	  20000000000, 30000000000, 60000000000 }

/* A latency histogram in Prometheus form: counts per bucket (not
 * cumulative) of its bounds (IG_SNAP_LAT_BOUNDS_NS for tick_to_order,
 * IG_SNAP_SLOW_BOUNDS_NS for the venue and journal ones), the last one
 * past them (+Inf). */
struct ig_snap_latency {
	uint64_t bucket[IG_SNAP_LAT_BUCKETS + 1];
	uint64_t count;
	int64_t sum_ns;
};

/* One strategy's books. Money 1e-8. */
struct ig_snap_strategy {
	char name[IG_CFG_NAME_MAX];
	char type[IG_CFG_NAME_MAX];
	uint8_t trading_state;                   /* enum ig_trading_state */
	bool paused;                             /* IG_CTL_PAUSE in force */
	int64_t qty[IG_MAX_INSTRUMENTS];         /* position per instrument, 1e-8 base */
	int64_t avg_px[IG_MAX_INSTRUMENTS];      /* average entry price, 1e-8; 0 flat */
	int64_t cash, equity, realized, unrealized, fees; /* 1e-8 quote */
	uint64_t orders, fills;
	uint32_t open_orders;
	uint64_t rejects[IG_RJ__COUNT];          /* by enum ig_reject_reason */
	/* Risk (GET /api/v1/risk): the effective limits and their use. */
	struct ig_cfg_risk lim;                  /* IG_RISK_UNSET = none */
	int64_t open_buy_qty[IG_MAX_INSTRUMENTS];  /* open + in-flight, 1e-8 base */
	int64_t open_sell_qty[IG_MAX_INSTRUMENTS];
	int64_t drawdown_pct;                    /* from the high-water mark, percent 1e-8 */
	int64_t daily_loss;                      /* net realized loss today (>= 0), 1e-8 quote */
	int64_t rate_used;                       /* order-rate tokens taken, not yet refilled */
};

/* HTTP error classes counted per venue (ingenium_venue_http_errors_total
 * {code}): a few exact codes, the rest by class, and transport errors. */
enum ig_snap_http_code {
	IG_SNAP_HTTP_400 = 0, IG_SNAP_HTTP_401, IG_SNAP_HTTP_403, IG_SNAP_HTTP_404,
	IG_SNAP_HTTP_409, IG_SNAP_HTTP_429, IG_SNAP_HTTP_4XX, IG_SNAP_HTTP_500,
	IG_SNAP_HTTP_502, IG_SNAP_HTTP_503, IG_SNAP_HTTP_504, IG_SNAP_HTTP_5XX,
	IG_SNAP_HTTP_TRANSPORT,
	IG_SNAP_HTTP__COUNT
};

/* Returns the label of code slot c ("400", ..., "4xx", "5xx",
 * "transport"), or "?". */
const char *ig_snap_http_code_name(int c);

/* Returns the slot an HTTP status counts in (0: a transport error, no
 * status), or -1 for a status that is no error (below 400). */
int ig_snap_http_code_slot(long status);

enum ig_snap_venue_state {
	IG_SNAP_VENUE_OK = 0,
	IG_SNAP_VENUE_DEGRADED,   /* recent errors or a 429 backoff */
	IG_SNAP_VENUE_DOWN,       /* the last requests all failed */
};

/* Returns "ok", "degraded" or "down". */
const char *ig_snap_venue_state_name(int s);

/* The venue's own push stream (the Luno user stream), as the status API
 * shows it. */
enum ig_snap_stream_state {
	IG_SNAP_STREAM_NONE = 0,  /* the venue has none (or it is off) */
	IG_SNAP_STREAM_POLLING,   /* not healthy, or catching up: the venue polls */
	IG_SNAP_STREAM_LIVE,      /* healthy and caught up: the steady polls stop */
};

/* Returns "none", "polling" or "live". */
const char *ig_snap_stream_state_name(int s);

/* The push stream's counters (venue.h health fills them). */
struct ig_snap_stream {
	uint8_t state;            /* enum ig_snap_stream_state */
	uint64_t connects;        /* connections that went live */
	uint64_t drops;           /* live connections lost */
	uint64_t messages;        /* messages received */
	uint64_t catchups;        /* REST catch-ups after a (re)connect */
	uint64_t fallbacks;       /* back to polling because it turned unhealthy */
	uint64_t polls_saved;     /* steady REST polls not sent */
};

/* The venue's health, as the executor sees it (the paper venue: zeros,
 * ok). */
struct ig_snap_venue {
	uint64_t requests;                       /* HTTP requests finished */
	uint64_t errors;                         /* of which failed: 4xx, 5xx, transport */
	uint64_t http_429;
	int64_t last_rtt_ns;                     /* the last request's round trip; 0 none */
	uint8_t state;                           /* enum ig_snap_venue_state */
	uint64_t http_errors[IG_SNAP_HTTP__COUNT];
	struct ig_snap_latency request;          /* IG_SNAP_SLOW_BOUNDS_NS */
	struct ig_snap_stream stream;            /* the venue's push stream, if any */
};

/* A public value type: everything the API shows, as of one instant of the
 * OMS. Three publishers fill it, each its own part: the OMS stage all but
 * the last three fields, the executor stage only tick_to_order and venue,
 * the journal stage only journal_sync (each also seq, ts). */
struct ig_snapshot {
	uint64_t seq;                            /* 1, 2, ... per publisher */
	int64_t ts_real_ns;                      /* CLOCK_REALTIME when filled */
	uint8_t trading_state;                   /* global, enum ig_trading_state */
	bool kill_switch;
	bool reconciled;                         /* recovery: trading open (true without journal) */
	uint16_t ninstruments;
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	uint64_t orders, fills;                  /* over every strategy */
	uint64_t rejects[IG_RJ__COUNT];
	uint32_t nstrategies;
	struct ig_snap_strategy s[IG_MAX_STRATEGIES];
	int64_t global_rate_per_s;               /* risk.max_orders_per_sec (all strategies) */
	int64_t global_rate_used;                /* its tokens taken, not yet refilled */
	struct ig_snap_latency tick_to_order;    /* the executor's publisher */
	struct ig_snap_venue venue;              /* the executor's publisher */
	struct ig_snap_latency journal_sync;     /* the journal's publisher: flush + fdatasync,
						  * IG_SNAP_SLOW_BOUNDS_NS */
};

struct ig_hist;

/* Re-buckets h into l with the nbound upper bounds (ns) of bound (at most
 * IG_SNAP_LAT_BUCKETS): each of h's buckets counts under the first bound at
 * or above its upper edge (a sample may count one bucket high, never
 * low); count and sum are exact. */
void ig_snap_latency_fill(const struct ig_hist *h, const int64_t *bound, int nbound,
			  struct ig_snap_latency *l);

struct ig_snap_pub;

/* A publisher with its pool, or NULL (out of memory). Main thread. */
struct ig_snap_pub *ig_snap_pub_create(void);

/* Waits for every pending call_rcu callback (rcu_barrier) and frees the
 * pool. No reader or publisher may be left. NULL is a no-op. */
void ig_snap_pub_destroy(struct ig_snap_pub *pub);

/* Publisher thread: a free snapshot to fill (contents unspecified), or
 * NULL when none is free (the publish is skipped and counted). */
struct ig_snapshot *ig_snap_begin(struct ig_snap_pub *pub);

/* Publisher thread: makes snap (from ig_snap_begin) the current one; the
 * one it replaces is retired for reclamation. Never blocks. */
void ig_snap_publish(struct ig_snap_pub *pub, struct ig_snapshot *snap);

/* Registered reclaimer thread: hands every retired snapshot to call_rcu,
 * which frees its slot after a grace period. Returns how many. */
int ig_snap_reclaim(struct ig_snap_pub *pub);

/* Registered reader, inside rcu_read_lock() (ig_snap_read_lock): the
 * current snapshot, or NULL before the first publish. Valid until
 * ig_snap_read_unlock. */
const struct ig_snapshot *ig_snap_current(struct ig_snap_pub *pub);

/* liburcu (memb flavour) for the API's threads: register before any read
 * or reclaim, unregister before the thread ends; lock/unlock around a
 * read. */
void ig_snap_thread_register(void);
void ig_snap_thread_unregister(void);
void ig_snap_read_lock(void);
void ig_snap_read_unlock(void);

/* Counters: snapshots published, publishes skipped (no free slot), and
 * slots free now (tests). Any thread (relaxed reads). */
uint64_t ig_snap_published(const struct ig_snap_pub *pub);
uint64_t ig_snap_skipped(const struct ig_snap_pub *pub);
int ig_snap_free_slots(const struct ig_snap_pub *pub);

#endif
