/*
 * order.h - a strategy's order manager: live orders by client id.
 *
 * Design
 * ------
 * A fixed pool of IG_OM_CAPACITY order records per strategy and an
 * open-addressing hash table (linear probing, tombstones) from client id to
 * pool slot, both allocated at init: O(1) lookup, no allocation after start.
 * Venue order ids are looked up through a second table of the same shape.
 * When an order reaches a terminal state it is retired: its slot returns
 * to the free list and a copy goes into a bounded ring of the last
 * IG_OM_HISTORY finished orders, so memory stays flat however long the
 * daemon runs. Tombstones in the hash tables are swept by a rebuild when
 * they would lengthen probes (more than a quarter of the table).
 *
 * Every state change goes through ig_order_transition(), which consults the
 * one table of legal transitions (order.c). An illegal transition is
 * refused with IG_ESTATE and counted by the caller.
 *
 * Owner: the OMS thread.
 */
#ifndef IG_OMS_ORDER_H
#define IG_OMS_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#include "ingenium/event.h"

#define IG_OM_CAPACITY 1024u   /* live orders per strategy */
#define IG_OM_HASH (IG_OM_CAPACITY * 2u)

struct ig_order_rec {
	uint64_t client_id;
	uint64_t venue_order_id;
	int64_t px;           /* limit price, 1e-8; 0 for market */
	int64_t qty;          /* ordered, 1e-8 */
	int64_t filled_qty;   /* 1e-8 */
	int64_t fill_notional;/* sum of rounded px*qty of fills, 1e-8 */
	int64_t fees;         /* 1e-8 */
	int64_t ref_px;       /* price used to reserve cash: limit px or mark, 1e-8 */
	int64_t reserved;     /* cash reserved for the open part of a buy, 1e-8 */
	int64_t ts_event_ns;  /* data time when accepted by risk */
	uint64_t last_trade_id; /* highest venue trade id applied */
	int64_t stop_px;      /* trigger price for conditional orders, 1e-8 */
	int64_t trail;        /* trailing offset: price (1e-8) or bps (IG_ORDF_TRAIL_BPS) */
	int64_t trail_ref_px; /* best mark since placement (trailing stops), 1e-8 */
	int64_t sl_px;        /* stop-loss to attach to each fill, 1e-8; 0 = none */
	uint64_t replaces;    /* client id this order replaces (held until it is cancelled) */
	uint64_t parent_id;   /* entry order this stop-loss child belongs to */
	uint8_t orig_type;    /* type as submitted (a triggered stop becomes market/limit) */
	bool armed;           /* conditional order held by the OMS, not yet triggered */
	bool held;            /* replacement waiting for its predecessor's cancel */
	bool cancel_requested;/* a cancel went to the venue (survives partial fills) */
	bool expiring;        /* a DAY order cancelled at the day's end: ends EXPIRED */
	uint16_t instrument_id;
	uint8_t side;         /* enum ig_side */
	uint8_t type;         /* enum ig_ord_type */
	uint8_t tif;
	uint8_t flags;
	uint8_t state;        /* enum ig_ord_state */
	uint32_t updates;     /* order updates sent (state changes reported): the seq of
			       * the last one, the same live and in a replay (book state) */
	uint32_t next_free;   /* free-list link when unused */
};

#define IG_OM_HISTORY 256u   /* finished orders kept per strategy */

struct ig_order_mgr {
	struct ig_order_rec *pool;  /* IG_OM_CAPACITY */
	uint32_t *by_client;        /* IG_OM_HASH slots: pool index + 1, 0 empty, UINT32_MAX tombstone */
	uint32_t *by_venue;         /* same, keyed by venue_order_id */
	uint32_t free_head;         /* pool index + 1, 0 = none */
	uint32_t live;              /* records in use */
	uint32_t open;              /* live and not terminal: counts toward max_open_orders */
	uint32_t tombs;             /* tombstones in by_client + by_venue */
	uint64_t retired;           /* orders finished and recycled */
	uint64_t illegal;           /* refused transitions */
	struct ig_order_rec *history; /* IG_OM_HISTORY most recently finished, a ring */
	uint64_t history_n;         /* finished orders recorded (ring index = n % size) */
};

/* Allocates the pool and tables. Returns 0 or IG_ENOMEM (nothing to undo). */
int ig_order_mgr_init(struct ig_order_mgr *m);
void ig_order_mgr_destroy(struct ig_order_mgr *m);

/* Creates a record in state INITIALIZED. Returns it, or NULL if the pool is
 * full or the client id exists. */
struct ig_order_rec *ig_order_new(struct ig_order_mgr *m, const struct ig_order *o,
				  uint16_t instrument_id);

struct ig_order_rec *ig_order_find(struct ig_order_mgr *m, uint64_t client_id);
struct ig_order_rec *ig_order_find_venue(struct ig_order_mgr *m, uint64_t venue_order_id);

/* Records the venue's id for r (first time only). */
void ig_order_set_venue_id(struct ig_order_mgr *m, struct ig_order_rec *r, uint64_t venue_order_id);

/* True if from -> to is in the table of legal transitions. */
bool ig_order_legal(enum ig_ord_state from, enum ig_ord_state to);

/* True for FILLED, CANCELED, REJECTED, EXPIRED, DENIED. */
bool ig_order_terminal(enum ig_ord_state s);

/* Moves r to state to. Returns 0, or IG_ESTATE (counted in m->illegal,
 * r unchanged). */
int ig_order_transition(struct ig_order_mgr *m, struct ig_order_rec *r, enum ig_ord_state to);

/* Returns a record's slot to the pool; a copy goes to the bounded history. */
void ig_order_retire(struct ig_order_mgr *m, struct ig_order_rec *r);

/* assert()-only consistency check: counts, free list and hash agree. */
bool ig_order_mgr_sanity(const struct ig_order_mgr *m);

#endif
