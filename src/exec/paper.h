/*
 * paper.h - the paper venue: matches orders against the feed's own market
 * data, in process, on the executor thread.
 *
 * Design
 * ------
 * Per instrument the venue keeps the latest top of book and how much of the
 * displayed size is still available at it (orders consume it until the next
 * quote refreshes it). Trades and bars stand in for a book when that is all
 * the data has: a trade's price is both bid and ask with its size
 * displayed; a bar uses its close, with its volume displayed.
 *
 *   market order   fills at the touch (ask for a buy, bid for a sell) up to
 *                  the available size, as taker; the rest keeps working at
 *                  later quotes (GTC/DAY), or is cancelled (IOC), and FOK
 *                  fills all at once or expires.
 *   limit order    if marketable on arrival, fills as taker at the touch up
 *                  to the available size (post-only is rejected instead);
 *                  the rest rests and fills as maker, at its own price, when
 *                  the market crosses it (ask <= px for a buy, bid >= px for
 *                  a sell; for trades/bars, price through px), limited by
 *                  the displayed size.
 *
 * Fees: notional * bps / 10000, maker or taker from the config, rounded by
 * the engine's rule. Venue order ids and trade ids count up from 1.
 *
 * Owner: the executor thread.
 */
#ifndef IG_EXEC_PAPER_H
#define IG_EXEC_PAPER_H

#include <stdint.h>

#include "core/emit.h"

#define IG_PAPER_MAX_ORDERS 4096

struct ig_paper_order {
	struct ig_event ev;     /* the order as received (hdr + body.order) */
	uint64_t venue_order_id;
	int64_t leaves_qty;     /* 1e-8 */
	bool live;
};

struct ig_paper_book {
	int64_t bid_px, ask_px;     /* 1e-8; 0 = none yet */
	int64_t bid_avail, ask_avail; /* displayed size still available, 1e-8 */
	bool from_trades;           /* touch derived from trades/bars */
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
	struct ig_paper_book books[IG_MAX_INSTRUMENTS];
	struct ig_paper_order *orders; /* IG_PAPER_MAX_ORDERS, preallocated */
	uint32_t norders;              /* high-water index in use */
	uint32_t live;
	uint64_t next_order_id;
	uint64_t next_trade_id;
	uint64_t fills;
	uint64_t rejects;
	struct ig_paper_ledger ledger[IG_MAX_STRATEGIES];
};

int ig_paper_init(struct ig_paper *p, int64_t maker_fee_bps, int64_t taker_fee_bps);
void ig_paper_destroy(struct ig_paper *p);

/* Venue entry points. Reports go to the OMS through out. */
void ig_paper_submit(struct ig_paper *p, const struct ig_event *order, struct ig_emit *out);
void ig_paper_cancel(struct ig_paper *p, const struct ig_event *cancel, struct ig_emit *out);
void ig_paper_market_data(struct ig_paper *p, const struct ig_event *md, struct ig_emit *out);

#endif
