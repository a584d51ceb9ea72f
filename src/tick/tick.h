/*
 * tick.h - the tick stage: the pipeline's source. Reads the feed, makes the
 * heartbeat timers, routes both to the strategy threads, the OMS and the
 * executor, and starts the shutdown token.
 *
 * Design
 * ------
 * The tick stage has no inputs: it is a source (stage.h, `source`). Each
 * call produces one feed event (and the heartbeat timer due before it) and
 * routes it by the table the engine gives it (struct ig_tick_routes):
 *
 *   market data   to the strategy threads subscribed to its instrument, to
 *                 the OMS (marks), and to the executor if the venue
 *                 matches against it (paper);
 *   timers        to the strategy threads with an on_timer strategy, and to
 *                 the OMS if it prints status lines;
 *   FEED_END      (end of the feed, or ig_tick_request_stop()) to every
 *                 strategy thread and the OMS: the shutdown token (oms.h).
 *
 * Inline with a venue that matches market data (md_to_exec), each
 * market-data event goes out in two phases within one source call: first
 * to the OMS and the executor, then, after ig_emit_barrier (the inline
 * driver hands the first phase through the whole pipeline), to the
 * strategy threads. So fills the event causes (a paper fill at a bar's
 * open, a stop it triggers) reach a strategy before the event does.
 * Inline, market data goes out by reference (ig_emit_ref: the tick's own
 * `cur`, unchanged until the next call), so the driver copies nothing.
 * Threaded, the barrier is nothing: the rings give no order between the
 * threads (best effort; docs/backtesting.md "Fills").
 *
 * Two clocks. Threaded (data_clock false): the feed is paced against
 * CLOCK_MONOTONIC, heartbeats every feed.heartbeat_ms of it, and
 * ts_origin_ns is the ingress time. Inline (data_clock true): the feed is
 * unpaced, heartbeats follow data time, and ts_origin_ns is read only when
 * latency is measured (`measure`): deterministic.
 *
 * Owner: the thread that runs the tick agent (or the inline driver).
 * ig_tick_request_stop() may be called from any thread.
 */
#ifndef IG_TICK_TICK_H
#define IG_TICK_TICK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stage.h"
#include "feed/feed.h"
#include "ingenium/event.h"

/* Where the tick sends what (built by the engine from the config): a
 * public value type, copied by ig_tick_init. */
struct ig_tick_routes {
	uint32_t nthreads;                      /* strategy threads */
	uint32_t md_mask[IG_MAX_INSTRUMENTS];   /* strategy threads subscribed per instrument */
	uint32_t timer_mask;                    /* strategy threads with an on_timer strategy */
	bool timers_to_oms;                     /* the OMS prints status lines */
	bool md_to_exec;                        /* the venue matches against market data */
};

struct ig_tick {
	struct ig_feed *feed;                   /* opened by the engine; read here only */
	struct ig_tick_routes routes;
	int64_t hb_ns;                          /* feed.heartbeat_ms, 0 = none */
	bool data_clock;                        /* inline: data time, unpaced */
	bool measure;                           /* inline: stamp ts_origin_ns (latency) */
	bool stop_requested;                    /* atomic: any thread sets it */
	bool feed_done;                         /* FEED_END sent */
	int64_t next_hb_ns;                     /* monotonic, or data time inline */
	int64_t due_ns;                         /* next feed event (monotonic) */
	uint64_t hb_count;
	uint64_t md_events;                     /* market-data events read */
	uint32_t thread_mask;                   /* (1 << routes.nthreads) - 1 */
	struct ig_event cur;                    /* inline: the market-data event out by
						 * reference (ig_emit_ref) */
	/* Per instrument, built once from the routes: where its market data
	 * goes, in order (ig_emit_ref_list). With md_to_exec: the OMS and the
	 * executor (md_first), then the subscribed strategy threads (md_then);
	 * else the threads, then the OMS, all in md_first. */
	struct ig_emit_dest md_first[IG_MAX_INSTRUMENTS][IG_MAX_STRATEGY_THREADS + 2];
	struct ig_emit_dest md_then[IG_MAX_INSTRUMENTS][IG_MAX_STRATEGY_THREADS];
	uint8_t md_nfirst[IG_MAX_INSTRUMENTS];
	uint8_t md_nthen[IG_MAX_INSTRUMENTS];
};

/* Sets up the stage over an open feed. data_clock: the inline driver runs
 * it (the feed is made unpaced). */
void ig_tick_init(struct ig_tick *t, struct ig_feed *feed, const struct ig_tick_routes *routes,
		  int64_t heartbeat_ms, bool data_clock);

/* Asks the feed to stop: the next call sends FEED_END. Any thread; wake the
 * tick's thread afterwards (ig_driver_wake). */
void ig_tick_request_stop(struct ig_tick *t);

/* Inline runs: stamp ts_origin_ns on each event (latency measured) or not.
 * Main thread, before the run. */
void ig_tick_set_measure(struct ig_tick *t, bool on);

/* Returns the market-data events read from the feed. After the run. */
uint64_t ig_tick_md_events(const struct ig_tick *t);

/* The stage's operations (stage.h): source, deadline_ns, has_work, stats
 * ("feed": {rows, bad_rows}, plus what the source adds: the Luno
 * stream's stream_resyncs and stream). */
extern const struct ig_stage_ops ig_tick_ops;

#endif
