/*
 * paper.h - the paper venue: matches orders against the feed's own market
 * data, in process, on the executor thread.
 *
 * Design
 * ------
 * Per instrument the venue keeps the latest market data. What an order
 * fills at depends on what that is; docs/backtesting.md "Fills" states it
 * exactly, this is the outline.
 *
 * Quotes and trades (the touch): a trade's price is both bid and ask with
 * its size displayed.
 *   market order   fills at the touch (ask for a buy, bid for a sell) up to
 *                  the available size, as taker; the rest keeps working at
 *                  later quotes (GTC/DAY), or is cancelled (IOC), and FOK
 *                  fills all at once or expires.
 *   limit order    if marketable on arrival, fills as taker at the touch up
 *                  to the available size (post-only is rejected instead);
 *                  the rest rests and fills as maker, at its own price, when
 *                  the market crosses it (ask <= px for a buy, bid >= px for
 *                  a sell; for trades, price through px), limited by the
 *                  displayed size.
 *
 * Bars (stamped at their open; an order sent at data time t is decided at
 * the END of the bar stamped t, t + its period; it may fill only on a bar
 * whose open is at or after that decision time plus its delay):
 *   market order   venue.bar_fill next_open: the open of the first such
 *                  bar; close: the deciding bar's close on arrival (later
 *                  bars' closes for what is left); one that reaches the
 *                  venue before the bar it was decided on waits for it.
 *   limit order    first checked on the next bar: a buy fills when low < px,
 *                  at min(open, px); a sell when high > px, at max(open, px).
 *   released stop  (an OMS-held stop triggered by this bar's high/low, sent
 *                  with its stop_px and flagged IG_EVF_RELEASED) fills on that same bar at the trigger or
 *                  the gapped open; a stop-limit at the trigger if within its
 *                  limit, else as a limit from that bar on.
 *   post-only      judged on the first bar it may fill on, against that
 *                  bar's open (never a close); rejected if the open
 *                  crosses it, else it rests as a limit from that bar on.
 *   DAY orders     expire (EXPIRED) before any market data of a later UTC
 *                  day than the one they were sent on is matched.
 *   volume         unlimited by default; venue.max_volume_pct caps each
 *                  bar's fill of an order (not on zero-volume bars).
 *
 * Costs: fee = max(round(notional * bps / 10000), min_fee), plus
 * fee_per_order on an order's first fill; market and stop fills slipped by
 * slippage_bps against the trader. Latency (venue.latency_ms, or a live
 * run's venue.round_trip_ns drawn by a seeded PRNG): an order reaches the
 * book only once data time has passed its send time plus the delay.
 * Venue order ids and trade ids count up from 1.
 *
 * Owner: the executor thread.
 */
#ifndef IG_EXEC_PAPER_H
#define IG_EXEC_PAPER_H

#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"

#define IG_PAPER_MAX_ORDERS 4096
#define IG_PAPER_LAT_MAX 4096 /* buckets of a latency distribution */

/* How the venue fills (from the config's venue.* keys; a public value type,
 * copied by ig_paper_configure). Money 1e-8. */
struct ig_paper_params {
	int64_t maker_fee_bps;
	int64_t taker_fee_bps;
	int bar_fill;           /* enum ig_bar_fill */
	int64_t max_volume_pct; /* 1e-8 percent; 0 = unlimited */
	int64_t fee_per_order;  /* quote, once per order (its first fill) */
	int64_t min_fee;        /* quote, the least fee of a fill; 0 = none */
	int64_t slippage_bps;   /* market and stop fills */
	int64_t latency_ns;     /* fixed delay, data time */
	uint64_t latency_seed;  /* PRNG seed for a latency distribution */
};

struct ig_paper_order {
	struct ig_event ev;     /* the order as received (hdr + body.order) */
	uint64_t venue_order_id;
	int64_t leaves_qty;     /* 1e-8 */
	int64_t sent_ns;        /* data time it was sent (its ts_event_ns) */
	int64_t decided_ns;     /* when it was decided: the end of the bar stamped
				 * sent_ns (bars), else sent_ns */
	int64_t arrive_ns;      /* decided_ns + its delay (saturated): when the book
				 * sees it; on bars, the least open time of a bar it
				 * may fill on */
	bool live;
	bool arrived;           /* on the book (ACCEPTED sent) */
	bool evaluated;         /* had its first chance to fill (IOC/FOK decided) */
	bool trigger_bar;       /* a released stop still to fill on its trigger bar */
	bool wait_own_bar;      /* close mode: reached the venue before the bar it was
				 * decided on; fills at that bar's close */
	bool charged;           /* fee_per_order taken */
};

struct ig_paper_book {
	int64_t bid_px, ask_px;     /* 1e-8; 0 = none yet */
	int64_t bid_avail, ask_avail; /* displayed size still available, 1e-8 */
	bool from_trades;           /* touch derived from trades/bars */
	bool bars;                  /* the latest data is a bar */
	struct ig_bar bar;          /* the latest bar */
	int64_t bar_ts_ns;          /* its ts_event_ns (its open time) */
	int64_t bar_gap_ns;         /* the shortest gap seen between two of its bars;
				     * 0 = not known yet */
};

/* What the venue itself filled for one strategy: an account kept apart from
 * the OMS's books, so the two can be compared (the paper counterpart of an
 * exchange's balances). */
struct ig_paper_ledger {
	int64_t net_qty[IG_MAX_INSTRUMENTS]; /* signed, 1e-8 */
	int64_t cash_delta;   /* -sum(signed qty * px, each rounded) - fees, 1e-8 */
	int64_t fees;         /* 1e-8 */
	uint64_t fills;
};

struct ig_paper {
	int64_t maker_fee_bps;
	int64_t taker_fee_bps;
	struct ig_paper_params prm;
	struct ig_paper_book books[IG_MAX_INSTRUMENTS];
	struct ig_paper_order *orders; /* IG_PAPER_MAX_ORDERS, preallocated */
	uint32_t norders;              /* high-water index in use */
	uint32_t live;
	uint64_t next_order_id;
	uint64_t next_trade_id;
	uint64_t fills;
	uint64_t rejects;
	int64_t now_ns;                /* latest market data time seen */
	int64_t last_bar_ts_ns;        /* the latest bar stamp seen (any instrument) */
	int64_t last_bar_end_ns;       /* the latest end of a bar with that stamp */
	/* Latency distribution (venue.latency_from): delay of bucket i is
	 * lat_ns[i], drawn with weight lat_count[i]. */
	uint32_t nlat;
	uint64_t lat_total;
	uint64_t rng;
	int64_t *lat_ns;               /* IG_PAPER_LAT_MAX, or NULL */
	uint64_t *lat_count;
	struct ig_paper_ledger ledger[IG_MAX_STRATEGIES];
};

/* Sets up a paper venue with the fees and every other parameter at its
 * config default. Returns 0 or IG_ENOMEM. */
int ig_paper_init(struct ig_paper *p, int64_t maker_fee_bps, int64_t taker_fee_bps);
void ig_paper_destroy(struct ig_paper *p);

/* Sets every parameter (before the first order). */
void ig_paper_configure(struct ig_paper *p, const struct ig_paper_params *prm);

/* The config's parameters (venue.*). */
void ig_paper_params_of(const struct ig_config *cfg, struct ig_paper_params *prm);

/* Loads the order round-trip distribution a live run wrote into its
 * summary (venue.round_trip_ns.buckets: [[upper_ns, count], ...]) from
 * path: each order's delay is then one bucket's upper_ns, drawn with the
 * bucket's weight by a PRNG seeded with prm.latency_seed. Returns 0, or
 * IG_ECONFIG with err naming the file and what is wrong. */
int ig_paper_load_latency(struct ig_paper *p, const char *path, char *err, size_t errlen);

/* Venue entry points. Reports go to the OMS through out. */
void ig_paper_submit(struct ig_paper *p, const struct ig_event *order, struct ig_emit *out);
void ig_paper_cancel(struct ig_paper *p, const struct ig_event *cancel, struct ig_emit *out);
void ig_paper_market_data(struct ig_paper *p, const struct ig_event *md, struct ig_emit *out);

#endif
