/*
 * feed.h - market-data sources for the tick thread: CSV replay and a seeded
 * synthetic random walk.
 *
 * Design
 * ------
 * A CSV file is parsed once, at open, into a preallocated array of events,
 * so the tick thread's hot loop does no I/O and no parsing: next() is an
 * index increment plus pacing. The kind of file is detected from its header:
 *   quotes  ts, bid, ask, bid_qty, ask_qty (aliases: bid_close, ask_close,
 *           last_bid_size, last_ask_size, as in Coinbase minute quotes)
 *   trades  ts, price, amount|qty|size
 *   bars    ts, open, high, low, close, volume
 * The timestamp column (ts, ts_unix, timestamp, time, utc_time) holds Unix
 * seconds, milliseconds or nanoseconds (by magnitude) or ISO-8601 UTC.
 * A malformed row (missing or extra field, not a number, a price <= 0, a
 * negative size, a crossed quote, a bar with high < low or open/close
 * outside [low, high], time going backwards) is skipped and counted, and the
 * first row of each kind (column and problem) gets a warning
 * "file:line: column: why"; with feed.strict the open fails with that
 * message instead. Jumps forward in time are fine.
 *
 * Prices and sizes are parsed with ig_fixed_parse_round_long: float
 * artefacts in published data ("9.342381490000001", any number of
 * decimals) round to 1e-8 by the engine's rule, but an exponent or junk
 * anywhere in the cell makes it "not a number".
 *
 * Pacing: speed 0 replays as fast as possible, or at feed.rate events per
 * second when that is set; speed k > 0 replays k times faster than the
 * data's own clock, measured from the first row.
 *
 * Owner: the tick thread (or the inline driver).
 */
#ifndef IG_FEED_FEED_H
#define IG_FEED_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "feed/luno_feed.h"
#include "ingenium/event.h"

enum ig_csv_kind {
	IG_CSV_QUOTES = 0,
	IG_CSV_TRADES,
	IG_CSV_BARS,
};

struct ig_feed {
	int source;              /* enum ig_feed_source */
	uint16_t instrument_id;
	int64_t speed;           /* 0 = fast, k = k x real time */
	/* csv */
	int csv_kind;            /* enum ig_csv_kind */
	struct ig_event *events; /* preloaded rows */
	uint64_t nevents;
	uint64_t rows;           /* data rows read */
	uint64_t bad_rows;       /* rows skipped */
	/* synthetic */
	uint64_t rng;            /* xorshift64* state */
	int64_t mid_px;          /* 1e-8 */
	int64_t tick_size;       /* 1e-8 */
	int64_t half_spread;     /* 1e-8 */
	int64_t qty;             /* 1e-8 */
	int64_t rate;            /* events/s, 0 = fast */
	uint64_t count;          /* 0 = unbounded */
	/* cursor and pacing */
	uint64_t pos;            /* next event index */
	int64_t t0_data_ns;      /* data time of the first event */
	int64_t t0_wall_ns;      /* monotonic time when the first event went out */
	/* luno: REST polling (src/feed/luno_feed.c) */
	struct ig_luno_feed *luno;
};

/*
 * Opens the source described by cfg->feed for instrument_id. For CSV, reads
 * and validates the whole file. Returns 0, IG_ENOENT/IG_EIO (file), IG_EPARSE
 * (no recognisable header, or a bad row with strict), IG_ENOMEM. err gets
 * "path:line: message". Warnings for skipped rows go to the log.
 */
int ig_feed_open(struct ig_feed *f, const struct ig_config *cfg, uint16_t instrument_id,
		 char *err, size_t errlen);

void ig_feed_close(struct ig_feed *f);

/*
 * Produces the next event into ev (type, instrument, ts_event_ns and body;
 * the caller stamps ts_origin_ns). Returns 1 if an event was produced, 0 if
 * the next one is not due yet (see *due_ns, CLOCK_MONOTONIC), or IG_EEOF when
 * the source is exhausted. now_ns is the current monotonic time (ignored
 * when pacing is off).
 */
int ig_feed_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns);

/* Total events the source will produce, 0 if unbounded. */
uint64_t ig_feed_size(const struct ig_feed *f);

/* Parses a CSV timestamp cell into Unix ns. Returns 0, IG_ESYNTAX, or
 * IG_ERANGE when the time does not fit int64 ns (after 2262). */
int ig_feed_parse_ts(const char *s, size_t len, int64_t *out_ns);

#endif
