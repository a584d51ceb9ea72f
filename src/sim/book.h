/*
 * book.h - a price-time-priority limit order book for one pair, with the
 * balance movements of every fill (src/sim/ledger.h).
 *
 * Design
 * ------
 * Each side is an array of price levels sorted so that the best level is
 * the LAST element (bids ascending, asks descending): taking or emptying
 * the best level is O(1), inserting a level is a binary search and a
 * memmove (books here have tens of levels, not thousands). A level is a
 * FIFO of orders (doubly linked, so a cancel is O(1) once found); an open
 * addressing hash maps order ids to resting orders.
 *
 *   limit order   BID/ASK at a price, time_in_force GTC, IOC or FOK,
 *                 optionally post-only (GTC only). It trades against the
 *                 opposite side while the prices cross, at each RESTING
 *                 order's price; a GTC remainder rests, an IOC remainder is
 *                 cancelled, and a FOK that cannot fill completely (against
 *                 other accounts' orders) is killed before any trade.
 *   market order  BUY spends up to counter_qty of the counter asset,
 *                 notional plus taker fee; SELL sells qty of the base asset.
 *                 Whatever the book cannot absorb is cancelled.
 *   self-trade    an order never trades with an order of its own account:
 *                 the resting one is cancelled (reported as
 *                 IG_BOOK_GONE_SELF_TRADE) and matching goes on. So every
 *                 trade sequence number has at most one side per account.
 *
 * Money
 * -----
 *   reservation   a BID reserves notional + fee at max(maker, taker) bps in
 *                 the counter asset (also when the buyer pays in base: a
 *                 margin for per-fill rounding, released at the end); an ASK reserves its volume in base; a
 *                 market BUY reserves counter_qty, a market SELL qty.
 *                 (Base fees are paid out of the base just received.) The
 *                 order consumes its reservation as it fills; whatever is
 *                 left is released when the order completes or is cancelled.
 *   fill          counter = px * qty (ig_fixed_mul). Like Luno, each side
 *                 pays its fee (maker or taker bps) in the asset it
 *                 RECEIVES: the buyer pays ig_fixed_bps(qty, bps) in base
 *                 and receives qty - that; the seller delivers qty and
 *                 receives counter - ig_fixed_bps(counter, bps). With
 *                 cfg.fee_in_counter both sides pay in counter instead
 *                 (the buyer pays counter + fee and receives qty). Every
 *                 fee goes to the fee account, so per asset the sum over
 *                 all accounts is conserved exactly.
 *   rounding      each fill's fee is rounded on its own, so after many
 *                 partial fills a bid could in theory need a few 1e-8 more
 *                 than its reservation; the excess is taken from the
 *                 buyer's available balance, and if even that is short the
 *                 fee is cut to what is there (never the notional).
 *
 * Owner: one thread at a time (the simulator calls it under its mutex).
 * Listener callbacks run inside ig_book_place() and must not call back
 * into the book.
 */
#ifndef IG_SIM_BOOK_H
#define IG_SIM_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/ledger.h"

enum ig_book_side {
	IG_BOOK_BID = 0, /* buy */
	IG_BOOK_ASK = 1, /* sell */
};

enum ig_book_kind {
	IG_BOOK_LIMIT = 0,
	IG_BOOK_MARKET = 1,
};

enum ig_book_tif {
	IG_BOOK_GTC = 0,
	IG_BOOK_IOC = 1,
	IG_BOOK_FOK = 2,
};

/* Why an order was refused: name, Luno error_code, Luno's message. */
#define IG_BOOK_REJECT_MAP(XX)                                                                    \
	XX(NONE, "", "")                                                                          \
	XX(INVALID_PRICE, "ErrInvalidPrice", "Invalid order price.")                              \
	XX(INVALID_VOLUME, "ErrInvalidVolume", "Invalid order volume.")                           \
	XX(INVALID_BASE_VOLUME, "ErrInvalidBaseVolume", "Invalid base volume for sell order.")    \
	XX(INVALID_COUNTER_VOLUME, "ErrInvalidCounterVolume",                                     \
	   "Invalid counter volume for buy order.")                                               \
	XX(PRICE_DENOMINATION, "ErrPriceDenominationNotAllowed",                                  \
	   "Price contains too many decimal places")                                              \
	XX(VOLUME_DENOMINATION, "ErrVolumeDenominationNotAllowed",                                \
	   "Volume contains too many decimal places")                                             \
	XX(PRICE_TOO_LOW, "ErrPriceTooLow", "Price is below the minimum")                         \
	XX(PRICE_TOO_HIGH, "ErrPriceTooHigh", "Price is above the maximum")                       \
	XX(VOLUME_TOO_LOW, "ErrVolumeTooLow", "Volume is below the minimum")                      \
	XX(VOLUME_TOO_HIGH, "ErrVolumeTooHigh", "Volume is above the maximum")                    \
	XX(VALUE_TOO_HIGH, "ErrValueTooHigh", "Order value too high")                             \
	XX(POST_ONLY_NOT_ALLOWED, "ErrPostOnlyNotAllowed",                                        \
	   "IOC and FOK time-in-force types are not supported as post-only orders")               \
	XX(POST_ONLY_CROSS, "ErrOrderCanceled", "Your post-only order was cancelled before trading") \
	XX(INSUFFICIENT_BALANCE, "ErrInsufficientBalance", "Insufficient balance.")

enum ig_book_reject {
#define IG__BOOK_REJ_ENUM(name, code, msg) IG_BOOK_REJ_##name,
	IG_BOOK_REJECT_MAP(IG__BOOK_REJ_ENUM)
#undef IG__BOOK_REJ_ENUM
	IG_BOOK_REJ_COUNT
};

/* Luno's error_code for r ("" for NONE) and its message. Static strings. */
const char *ig_book_reject_code(enum ig_book_reject r);
const char *ig_book_reject_msg(enum ig_book_reject r);

struct ig_book_cfg {
	char pair[16];                          /* "XBTZAR" */
	char base[IG_LEDGER_ASSET_LEN];         /* "XBT" */
	char counter[IG_LEDGER_ASSET_LEN];      /* "ZAR" */
	int price_scale;                        /* price decimals, 0..8 (XBTZAR: 0) */
	int volume_scale;                       /* volume decimals, 0..8 (XBTZAR: 6) */
	int64_t min_price, max_price;           /* 1e-8 */
	int64_t min_volume, max_volume;         /* 1e-8 */
	int64_t maker_fee_bps, taker_fee_bps;   /* 0..10000 */
	uint32_t fee_account;                   /* receives every fee */
	bool fee_in_counter;                    /* both sides pay fees in counter (false:
						 * the buyer pays in base, as Luno does) */
};

/* One execution. Both sides in one record. */
struct ig_book_trade {
	uint64_t seq;                 /* per book, from 1, increasing */
	int64_t ts_ms;                /* the taker's timestamp, Unix ms */
	int64_t px;                   /* the resting order's price, 1e-8 */
	int64_t qty;                  /* base, 1e-8 */
	int64_t counter;              /* px * qty, 1e-8 */
	uint64_t maker_order_id;
	uint64_t taker_order_id;
	uint32_t maker_account;
	uint32_t taker_account;
	enum ig_book_side taker_side; /* BID: the taker bought (Luno's is_buy) */
	int64_t maker_fee;            /* the maker's fee, 1e-8, in counter or (a
				       * buying maker without fee_in_counter) base */
	int64_t taker_fee;            /* the taker's fee, 1e-8, likewise */
	bool maker_fee_in_base;       /* maker_fee is base asset */
	bool taker_fee_in_base;       /* taker_fee is base asset */
	int64_t maker_leaves;         /* the maker's open volume after it, 1e-8 */
	int64_t taker_leaves;         /* the taker's open volume after it (a market
				       * BUY: its unspent counter budget), 1e-8 */
};

enum ig_book_gone {
	IG_BOOK_GONE_FILLED = 0,     /* completely filled */
	IG_BOOK_GONE_SELF_TRADE = 1, /* cancelled by self-trade prevention */
};

/* Reports from inside ig_book_place(). Any callback may be NULL. */
struct ig_book_listener {
	void (*on_trade)(void *arg, const struct ig_book_trade *t);
	/* A RESTING order left the book by a fill or by self-trade prevention
	 * (not by ig_book_cancel, whose caller knows). */
	void (*on_gone)(void *arg, uint64_t order_id, uint32_t account, enum ig_book_gone why,
			int64_t ts_ms);
	void *arg;
};

struct ig_book_req {
	uint64_t order_id;       /* unique and non-zero, chosen by the caller */
	uint32_t account;
	enum ig_book_kind kind;
	enum ig_book_side side;
	enum ig_book_tif tif;    /* limit orders */
	bool post_only;          /* limit GTC orders */
	int64_t px;              /* limit price, 1e-8 */
	int64_t qty;             /* limit volume or market SELL base volume, 1e-8 */
	int64_t counter_qty;     /* market BUY: counter to spend incl. fee, 1e-8 */
	int64_t ts_ms;           /* Unix ms, stamped on trades */
};

struct ig_book_result {
	enum ig_book_reject reject; /* NONE: accepted (and possibly complete) */
	int64_t filled_qty;         /* base, 1e-8 */
	int64_t filled_counter;     /* counter, excluding fees, 1e-8 */
	int64_t fee;                /* this order's fees in counter, 1e-8 */
	int64_t fee_base;           /* this order's fees in base (a buyer), 1e-8 */
	bool rested;                /* a GTC remainder is now in the book */
	int64_t leaves_qty;         /* resting volume when rested, else 0 */
	uint32_t trades;
	bool killed;                /* a FOK killed before trading */
};

/* A resting order. Read-only outside book.c. */
struct ig_book_order {
	uint64_t id;
	uint32_t account;
	enum ig_book_side side;
	int64_t px;       /* 1e-8 */
	int64_t qty;      /* original volume, 1e-8 */
	int64_t leaves;   /* open volume, 1e-8; > 0 while resting */
	int64_t reserved; /* funds still held: counter for a BID, base for an ASK, 1e-8 */
	int64_t ts_ms;    /* placed, Unix ms */
	struct ig_book_order *prev, *next; /* FIFO within the level */
};

struct ig_book_level {
	int64_t px;        /* 1e-8 */
	int64_t qty;       /* sum of leaves, 1e-8 */
	uint32_t count;    /* orders */
	struct ig_book_order *head, *tail;
};

struct ig__book_side {
	struct ig_book_level *lv; /* best level last */
	uint32_t n, cap;
};

struct ig__book_map {
	uint64_t *keys; /* 0 = empty */
	struct ig_book_order **vals;
	uint32_t cap;   /* power of two */
	uint32_t n;
};

struct ig_book {
	struct ig_book_cfg cfg;
	struct ig_ledger *ledger;     /* shared, not owned */
	uint32_t base_asset;
	uint32_t counter_asset;
	int64_t tick;                 /* price step, 1e-8 */
	int64_t lot;                  /* volume step, 1e-8 */
	struct ig_book_listener lis;
	struct ig__book_side sides[2];
	struct ig__book_map map;
	uint64_t next_seq;            /* next trade sequence */
	int64_t last_px;              /* last trade price, 1e-8; 0 = none */
	int64_t volume;               /* base traded since init, 1e-8 */
	uint64_t ntrades;
};

/* Registers the pair's assets in ledger and sets up an empty book. cfg is
 * copied; ledger must outlive the book; lis may be NULL. Returns 0,
 * IG_EINVAL (bad scales, limits or fees), IG_ELIMIT (ledger full) or
 * IG_ENOMEM; on failure there is nothing to undo. */
int ig_book_init(struct ig_book *b, const struct ig_book_cfg *cfg, struct ig_ledger *ledger,
		 const struct ig_book_listener *lis);

/* Frees the book's memory. Reservations of resting orders stay in the
 * ledger (cancel first to release them). */
void ig_book_destroy(struct ig_book *b);

/*
 * Validates, reserves, matches and (GTC) rests one order. Returns 0 with
 * the outcome in *res - an exchange refusal is res->reject, not an error -
 * or IG_EINVAL (order id 0 or already resting) or IG_ENOMEM (nothing
 * changed). Trades and resting orders that leave the book are reported to
 * the listener before it returns.
 */
int ig_book_place(struct ig_book *b, const struct ig_book_req *req, struct ig_book_result *res);

/* Cancels a resting order and releases its reservation. Returns 0 (with
 * its open volume in *leaves if not NULL) or IG_ENOTFOUND. */
int ig_book_cancel(struct ig_book *b, uint64_t order_id, int64_t *leaves);

/* The resting order with this id, or NULL. Valid until the next call that
 * changes the book. */
const struct ig_book_order *ig_book_find(const struct ig_book *b, uint64_t order_id);

/* Best price and its total volume on side s; false when the side is empty. */
bool ig_book_best(const struct ig_book *b, enum ig_book_side s, int64_t *px, int64_t *qty);

/* Number of price levels on side s. ig_book_level(b, s, 0) is the best. */
uint32_t ig_book_levels(const struct ig_book *b, enum ig_book_side s);
const struct ig_book_level *ig_book_level(const struct ig_book *b, enum ig_book_side s,
					  uint32_t i);

/* Sum of the reservations of account's resting orders in asset. */
int64_t ig_book_reserved(const struct ig_book *b, uint32_t account, uint32_t asset);

/* Whole-structure check: levels sorted and non-empty, level totals equal
 * their orders, map and levels agree, the book is not crossed, every order
 * has leaves > 0 and a reservation that covers its asset side. For assert()
 * and tests. */
bool ig_book_sanity(const struct ig_book *b);

#endif
