/*
 * feed.h - market-data sources for the tick thread, and the feed-source
 * registry.
 *
 * Design
 * ------
 * A source is a registry entry (struct ig_feed_type, by the name that
 * feed.source gives): its open() makes its state, opaque to everyone else,
 * and its ops produce events. The registry (src/feed/sources.c) holds csv
 * (CSV replay, csv.c), synthetic (a seeded random walk, synthetic.c) and
 * luno (REST polling, src/luno/luno_feed.c). Adding a source is one entry
 * there and its own module; the engine only calls ig_feed_*.
 *
 * CSV replay (docs/backtesting.md, "Data" has every key and rule):
 * Each CSV file (feed.path, or each entry of feed.path as a list of
 * {path, symbol}) is streamed, so memory is flat in the number of events:
 * at open a pre-pass reads it once through a fixed-size buffer (128 KiB,
 * refilled with pread(2)), storing no row: it detects the layout, checks
 * and counts every row (so feed.strict still fails the open, and
 * ig_feed_size, rows and bad_rows are known from the start) and notes
 * where the window's first row starts. next() then reads each file again
 * through the same buffer from there, parsing rows on demand, and is a
 * k-way merge of the files' heads (the earliest event; ties go to the file
 * listed first, and within a file to file order) plus pacing; no merged
 * copy is made: next() allocates nothing and reads (pread, once per
 * buffer: every ~2000 rows, usually from the page cache the pre-pass just
 * filled) on the tick thread. A file is streamed only as far as the
 * pre-pass read it. A
 * read error mid-run (or a file rewritten under the run) ends that file
 * with an error in the log. The kind of file is detected from its header:
 *   quotes  ts, bid, ask, bid_qty, ask_qty (aliases: bid_close, ask_close,
 *           last_bid_size, last_ask_size, as in Coinbase minute quotes)
 *   trades  ts, price|px, amount|qty|size, side
 *   bars    ts, open, high, low, close, volume (adj close: Yahoo daily)
 * or named by feed.columns; a file with no header whose first cell is a
 * number and has at least 6 cells is an exchange kline export (open time,
 * open, high, low, close, volume, ...). The timestamp column (ts, ts_unix,
 * timestamp, time, utc_time, open_time, date; or date + time) holds Unix
 * seconds, ms, us or ns (by magnitude) or ISO 8601 (src/feed/ts.c), or what
 * feed.ts_format says. Rows outside [feed.from, feed.to) are dropped after
 * they are checked (the stream starts at the first row in the window and
 * stops at the last). The feed declares its symbols (ig_feed_symbols); a
 * file's events carry its entry's symbol, or the row's symbol column.
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
#include "ingenium/event.h"

enum ig_csv_kind {
	IG_CSV_QUOTES = 0,
	IG_CSV_TRADES,
	IG_CSV_BARS,
};

struct ig_feed;
struct ig_venue_type; /* exec/venue.h */
struct json_t;        /* jansson */

/* What a source does; its state is f->src. Tick thread (or the inline
 * driver), except close(). */
struct ig_feed_ops {
	/* As ig_feed_next(). */
	int (*next)(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns);
	/* Total events the source will produce, 0 if unbounded. May be NULL
	 * (unbounded). */
	uint64_t (*size)(const struct ig_feed *f);
	/* Logs the source's counters as the feed closes. May be NULL. */
	void (*log_stats)(const void *src);
	/* Adds the source's counters to the object given: the run summary's
	 * "feed" (main thread, after the run) and the status API's (its
	 * thread, while the run goes on): it reads only counters another
	 * thread may read (atomics). Returns 0 or IG_ENOMEM. May be NULL. */
	int (*stats_json)(const void *src, struct json_t *feed);
	/* Stops the source's own threads, if it has any (the Luno stream's),
	 * so nothing of it runs (or logs) after the run; its counters stay.
	 * Main thread, after the run. May be NULL. */
	void (*halt)(void *src);
	/* A source fed by a thread of its own (the Luno stream): sets the
	 * function that thread calls after it gave next() something, so the
	 * tick thread may park instead of polling. Main thread. May be NULL
	 * (the source is polled at its due times). */
	void (*set_wake)(void *src, void (*fn)(void *arg), void *arg);
	/* True if next() has something for the tick thread now (its re-check
	 * before parking). The tick thread only (it reads the consumer's side
	 * of a ring). May be NULL (never). */
	bool (*has_work)(const void *src);
	/* Frees src (an in-flight request is abandoned). */
	void (*close)(void *src);
};

/*
 * The feed-source registry entry. A source's number (its index, what
 * ig_config.feed.source holds) is IG_FEED_CSV, IG_FEED_SYNTHETIC or
 * IG_FEED_LUNO for the built-ins; later ones are appended.
 */
struct ig_feed_type {
	const char *name;   /* feed.source */
	bool live;          /* live data: not inline, not a backtest */
	bool needs_path;    /* feed.path is required */
	/* Opens the source described by cfg into f->src (f's generic fields
	 * are set; the source may count f->rows and f->bad_rows). vt and
	 * venue_ctx are the engine's venue type and what it shares (its
	 * peer op, venue.h), both possibly NULL: a source of the same
	 * module as the venue may recognise vt and use venue_ctx (taking its
	 * own reference); every other source ignores them. Returns 0, or an
	 * IG_E* with err set; on failure f->src is NULL and nothing is left
	 * to undo. */
	int (*open)(struct ig_feed *f, const struct ig_config *cfg, const struct ig_venue_type *vt,
		    void *venue_ctx, char *err, size_t errlen);
	const struct ig_feed_ops *ops;
};

/* The source type named name, or NULL. */
const struct ig_feed_type *ig_feed_find(const char *name);

/* The registry's index of the source named name (what feed.source
 * holds), or -1. */
int ig_feed_index(const char *name);

/* The source type at index i, or NULL past the end. */
const struct ig_feed_type *ig_feed_type_at(int i);

/* The name of the source at index i, or NULL past the end (for listing
 * them in messages). */
const char *ig_feed_name_at(int i);

/* The generic feed. Its fields are the feed module's and its sources'
 * (which count rows and pace through them); everyone else uses the
 * ig_feed_* calls (ig_feed_set_pace, ig_feed_rows, ...). */
struct ig_feed {
	const struct ig_feed_type *type; /* the registry entry of feed.source */
	void *src;               /* the source's state, opaque */
	uint16_t instrument_id;
	int64_t speed;           /* 0 = fast, k = k x real time (csv) */
	int64_t rate;            /* events/s, 0 = fast */
	uint64_t rows;           /* csv: data rows read */
	uint64_t bad_rows;       /* csv: rows skipped */
	/* cursor and pacing */
	uint64_t pos;            /* next event index */
	int64_t t0_data_ns;      /* data time of the first event */
	int64_t t0_wall_ns;      /* monotonic time when the first event went out */
};

/*
 * Opens the source cfg->feed.source names for instrument_id. vt and
 * venue_ctx are the engine's venue (ig_exec_venue_type) and what it shares
 * with the feed (ig_exec_venue_peer), or NULL without one: the engine
 * makes the executor first, so a Luno feed on a Luno venue draws from the
 * venue's request budget (src/luno/luno.h). For CSV, reads and validates
 * every file once (the pre-pass; nothing is kept but the counts). Returns 0, IG_ENOENT/IG_EIO (file), IG_EPARSE (no
 * recognisable header, or a bad row with strict), IG_ENOMEM, IG_ECONFIG
 * (an unknown source). err gets "path:line: message". Warnings for skipped
 * rows go to the log.
 */
int ig_feed_open(struct ig_feed *f, const struct ig_config *cfg, uint16_t instrument_id,
		 const struct ig_venue_type *vt, void *venue_ctx, char *err, size_t errlen);

/* Adds the source's counters (if it reports any) to feed: the summary's
 * "feed" object, or the status API's while the run goes on (ops
 * stats_json reads only atomics). Returns 0 or IG_ENOMEM. Any thread
 * while the feed is open. */
int ig_feed_stats_json(const struct ig_feed *f, struct json_t *feed);

/* Stops the source's own threads (ops->halt), after the run and before
 * the log stops; ig_feed_close frees it later. Main thread. */
void ig_feed_halt(struct ig_feed *f);

/* ops->set_wake, if the source has it; nothing otherwise. Main thread. */
void ig_feed_set_wake(struct ig_feed *f, void (*fn)(void *arg), void *arg);

/* ops->has_work: true if the source's own thread left next() something.
 * False for a source without that op. The tick thread only. */
bool ig_feed_has_work(const struct ig_feed *f);

/* Logs the source's counters (if it keeps any) and frees it. */
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

/* Sets the pacing (feed.speed and feed.rate: 0 and 0 replay as fast as
 * possible). Before the first ig_feed_next. */
void ig_feed_set_pace(struct ig_feed *f, int64_t speed, int64_t rate);

/* Returns the data rows read (csv; 0 for a source that does not count
 * rows). */
uint64_t ig_feed_rows(const struct ig_feed *f);

/* Returns the malformed rows skipped (csv; 0 otherwise). */
uint64_t ig_feed_bad_rows(const struct ig_feed *f);

/* Parses a CSV timestamp cell into Unix ns: ISO 8601 or Unix time by
 * magnitude. Returns 0, IG_ESYNTAX, or IG_ERANGE when the time does not
 * fit int64 ns (after 2262). */
int ig_feed_parse_ts(const char *s, size_t len, int64_t *out_ns);

/* Parses an ISO 8601 date (midnight UTC) or date-time (T or space; HH:MM,
 * optional :SS and fraction; optional Z or +HH[:MM] offset) into Unix ns.
 * Returns 0, IG_ESYNTAX or IG_ERANGE. */
int ig_feed_parse_iso8601(const char *s, size_t len, int64_t *out_ns);

/* Parses a timestamp by feed.ts_format fmt ("" or NULL: as
 * ig_feed_parse_ts; unix_s|unix_ms|unix_us|unix_ns; iso8601; or a
 * strftime-style pattern, UTC). Returns 0, IG_ESYNTAX or IG_ERANGE. */
int ig_feed_parse_ts_fmt(const char *fmt, const char *s, size_t len, int64_t *out_ns);

/* Returns NULL if fmt is a valid feed.ts_format, else what is wrong (a
 * static string). */
const char *ig_feed_ts_format_problem(const char *fmt);

/* The feed's symbols, in instrument order (instrument i is names[i]):
 * for csv, feed.symbols, then each feed.path entry's symbol not yet
 * listed; [feed.symbol] when there are neither (one file); for luno,
 * feed.symbols (its pairs) when given; [feed.symbol] for every other
 * source. Returns the count, or -1 if more than IG_MAX_INSTRUMENTS. */
int ig_feed_symbols(const struct ig_config *cfg, char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX]);

/*
 * Preloaded data, for parameter sweeps: every event of a config's feed,
 * merged, read once and replayed read-only by any number of feeds (one
 * per run, each with its own feed.from/feed.to). A public value type,
 * read-only after ig_feed_preload; any thread may read it.
 */
struct ig_feed_data {
	struct ig_event *events;  /* merged, by time; instrument ids index symbols */
	uint64_t nevents;
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	uint32_t nsymbols;
	uint64_t rows;            /* data rows read (csv) */
	uint64_t bad_rows;        /* rows skipped as malformed */
};

/*
 * Loads every event of cfg's feed (ignoring feed.from and feed.to) into a
 * new struct ig_feed_data (*out), in the order the streaming feed would
 * produce them. The source must be bounded and not live (csv, synthetic
 * with a count). Returns 0, or an IG_E* with err set as ig_feed_open's
 * (IG_ECONFIG for a live or unbounded source); *out is then NULL.
 */
int ig_feed_preload(const struct ig_config *cfg, struct ig_feed_data **out, char *err,
		    size_t errlen);

/* Frees data (NULL is fine). No feed may still be open over it. */
void ig_feed_data_free(struct ig_feed_data *data);

/*
 * Opens f over preloaded data: it replays exactly the events an
 * ig_feed_open(f, cfg, 0, ...) would produce, within cfg's feed.from /
 * feed.to (so one preload serves runs with different windows), paced by
 * cfg's feed.speed / feed.rate. data is only read (many feeds may share
 * it, on any threads) and must outlive f. cfg's feed must declare the
 * same symbols as the config data was loaded with. Returns 0 or
 * IG_ECONFIG with err set.
 */
int ig_feed_open_data(struct ig_feed *f, const struct ig_config *cfg,
		      const struct ig_feed_data *data, char *err, size_t errlen);

/* CSV source only (tests, fuzzing): what the first file's header said it
 * holds (enum ig_csv_kind; -1 unless f is an open CSV feed). */
int ig_feed_csv_kind(const struct ig_feed *f);

/* Module-internal test hook: the read buffer, in bytes, of each CSV file
 * opened from now on (0: the default, 128 KiB). A line longer than the
 * buffer grows it. Not thread-safe: set it before opening feeds. */
void ig__feed_csv_set_buffer(size_t bytes);

/* Module-internal (src/feed/ and the sources): pacing at f->rate events
 * per second from the first event. Returns true if event f->pos is due at
 * now_ns, else false with *due_ns set. */
bool ig__feed_rate_due(struct ig_feed *f, int64_t now_ns, int64_t *due_ns);

/* Module-internal: pacing of a replay (feed.speed, or feed.rate) for the
 * next event, whose data time is ts_ns. Returns true if it is due at
 * now_ns, else false with *due_ns set. */
bool ig__feed_replay_due(struct ig_feed *f, int64_t ts_ns, int64_t now_ns, int64_t *due_ns);

#endif
