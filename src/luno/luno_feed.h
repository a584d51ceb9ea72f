/*
 * luno_feed.h - market data from the Luno REST API for the tick thread
 * (feed.source: luno).
 *
 * Design
 * ------
 * Every interval (feed.heartbeat_ms) the feed asks GET /api/1/ticker?pair=
 * (or GET /api/1/orderbook_top?pair= when configured) and turns each good
 * answer into one IG_EV_QUOTE: bid/ask prices; sizes from the top of the
 * book, or 1 for the ticker, which has none. ts_event_ns is the exchange's
 * timestamp (Unix ms) when it sends one, else the wall clock at receipt;
 * the caller stamps ts_origin_ns, as for every feed.
 *
 * It never blocks the tick thread: one curl easy handle on a private multi
 * handle, driven from next(). next() returns 0 ("not due") with *due_ns
 * set to the next poll time, or, while a request is in flight, to now +
 * io_poll_us so the thread comes back to read the answer. A poll that is
 * due waits for the shared request budget (luno_budget.h), asking with a
 * reserve so that order traffic goes first; a 429 backs every caller off.
 *
 * A failed or malformed answer (transport error, non-2xx, bad JSON, an
 * empty side of the book, a crossed book: bid above ask) produces no event; it is counted and logged
 * (one line per failure kind change, not per poll) and the next poll is at
 * the usual time. The feed never ends by itself: next() returns IG_EEOF
 * only after ig_luno_feed_stop().
 *
 * No credentials: these are public endpoints.
 *
 * feed.luno_endpoint: stream replaces the polling with Luno's websocket
 * market stream (luno_stream.h: its own thread, a ring to next(), the
 * order book, resyncs); open/next/stop/close/log_stats then hand over to
 * it and the budget is not used (the stream is not a REST call).
 *
 * Owner: the tick thread (the budget is the Luno instance's, shared with
 * the venue: atomics; luno.h).
 */
#ifndef IG_LUNO_LUNO_FEED_H
#define IG_LUNO_LUNO_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "core/hist.h"
#include "luno/luno_budget.h"
#include "luno/luno_http.h"
#include "ingenium/event.h"

struct ig_luno_instance; /* luno.h */
struct ig_luno_stream;   /* luno_stream.h */

#define IG_LUNO_FEED_BODY_MAX (64 * 1024)

struct ig_luno_feed_opts {
	const char *base_url;        /* default IG_CFG_DEFAULT_VENUE_BASE_URL */
	const char *pair;            /* "XBTZAR": the one pair when npairs is 0 */
	uint16_t instrument_id;      /* pair's, or pairs[0]'s (then + k) */
	/* Several pairs (feed.symbols): pair k is instrument instrument_id + k.
	 * npairs 0 = pair alone. */
	const char *pairs[IG_MAX_INSTRUMENTS];
	uint32_t npairs;
	int64_t interval_ms;         /* poll spacing; default IG_CFG_DEFAULT_HEARTBEAT_MS */
	bool orderbook_top;          /* poll orderbook_top instead of ticker */
	int64_t connect_timeout_ms;  /* default IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS */
	int64_t timeout_ms;          /* default: interval, at most IG_CFG_DEFAULT_TIMEOUT_MS */
	int64_t io_poll_us;          /* re-check spacing while in flight; default 250 */
	struct ig_luno_budget *budget; /* the instance's; NULL = an own one of IG_CFG_DEFAULT_REQUESTS_PER_MIN */
	int64_t reserve;             /* budget calls left free for orders; -1 = burst / 3 */
	/* feed.luno_endpoint: stream (luno_stream.h): no polling; the rest
	 * above is unused but pair and instrument_id. */
	bool stream;
	const char *stream_url;      /* venue.stream_url; "" = from base_url (ig_luno_ws_url) */
	const char *key_id_env;      /* venue.key_id_env */
	const char *secret_env;      /* venue.secret_env */
	int64_t stream_timeout_ms;   /* feed.stream_timeout_ms */
};

struct ig_luno_feed_stats {
	uint64_t requests;
	uint64_t quotes;             /* events produced */
	uint64_t http_errors;        /* non-2xx answers (429 included) */
	uint64_t http_429;
	uint64_t transport_errors;   /* refused, reset, timed out */
	uint64_t malformed;          /* 2xx with a body that did not parse */
	uint64_t empty_book;         /* a side without a price: no quote */
	uint64_t crossed_book;       /* bid above ask: no quote */
	uint64_t budget_waits;       /* polls that had to wait for the budget */
	struct ig_hist rtt_ns;       /* request round trip */
};

struct ig_luno_feed {
	void *multi;                 /* CURLM * */
	void *easy;                  /* CURL * */
	char url[IG_MAX_INSTRUMENTS][512]; /* one ticker/orderbook_top URL a pair */
	uint32_t npairs;
	uint32_t cur;                /* the pair polled next (or in flight) */
	int64_t round_ns;            /* when the current round of polls began */
	struct ig_luno_body rx;      /* the reply, IG_LUNO_FEED_BODY_MAX at most */
	bool inflight;
	bool stopped;
	bool top;
	bool waiting;                /* the last poll waited for the budget */
	uint16_t instrument_id;
	int64_t interval_ns;
	int64_t connect_timeout_ms;
	int64_t timeout_ms;
	int64_t io_poll_ns;
	int64_t next_ns;             /* next poll, CLOCK_MONOTONIC */
	int64_t reserve;
	int last_problem;            /* last failure kind logged (log once per change) */
	uint64_t rng;
	struct ig_luno_budget *budget;   /* the instance's (shared with the venue) or &own_budget */
	struct ig_luno_budget own_budget;
	struct ig_luno_instance *instance; /* a reference taken by the source's open(): released at close */
	struct ig_luno_feed_stats stats;
	struct ig_luno_stream *stream;   /* stream mode: the stream client; nothing above is used */
};

/* Options from the config: feed.symbol or feed.symbols (its pairs, in
 * instrument order from instrument_id), feed.heartbeat_ms, venue.base_url
 * and timeouts; no budget (the source's open() gives the Luno instance's,
 * luno.h). */
void ig_luno_feed_opts_from_config(struct ig_luno_feed_opts *o, const struct ig_config *cfg,
				   uint16_t instrument_id);

/* Sets up the feed on caller-owned memory (no request yet). curl_global_init
 * must have run. Returns 0, IG_ECONFIG (err says why) or IG_ENOMEM; on
 * failure nothing is left to undo. */
int ig_luno_feed_open(struct ig_luno_feed *f, const struct ig_luno_feed_opts *o, char *err,
		      size_t errlen);

/* Frees everything (an in-flight request is abandoned). */
void ig_luno_feed_close(struct ig_luno_feed *f);

/*
 * As ig_feed_next(): returns 1 with a quote in ev (type, instrument,
 * ts_event_ns, body), 0 if nothing is due yet (*due_ns = when to call
 * again, CLOCK_MONOTONIC), or IG_EEOF after ig_luno_feed_stop(). now_ns
 * <= 0 reads the clock. Tick thread only.
 */
int ig_luno_feed_next(struct ig_luno_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns);

/* Makes next() return IG_EEOF from now on. */
void ig_luno_feed_stop(struct ig_luno_feed *f);

/* Logs the counters as one line. */
void ig_luno_feed_log_stats(const struct ig_luno_feed *f);

/* Adds the stream's counters to the summary's feed object (nothing for a
 * REST poller). Returns 0 or IG_ENOMEM. */
int ig_luno_feed_stats_json(const struct ig_luno_feed *f, struct json_t *feed);

#endif
