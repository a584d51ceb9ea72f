/*
 * luno_book.h - the order book of Luno's market stream, and its messages.
 *
 * Pure: no networking, no clock, no logging. The websocket client
 * (luno_stream.c) hands every text frame of wss://ws.luno.com/api/1/stream/<PAIR> to
 * ig_luno_book_on_message() and acts on the result code.
 *
 * The stream
 * ----------
 * After the credentials message the server sends one snapshot
 *   {"sequence": "24352", "asks": [{"id", "price", "volume"}, ...],
 *    "bids": [...], "status": "ACTIVE", "timestamp": 1528884331021}
 * (individual orders, not levels), then one update per change, each with
 * the next sequence:
 *   {"sequence": "24353",
 *    "trade_updates": [{"base", "counter", "maker_order_id",
 *                       "taker_order_id"}] or null,
 *    "create_update": {"order_id", "type": "BID"|"ASK", "price",
 *                      "volume"} or null,
 *    "delete_update": {"order_id"} or null,
 *    "status_update": {"status"} or null,
 *    "timestamp": 1528884331021}
 * An empty frame, or the JSON string "", is a keep-alive.
 *
 * Rules (what a message must satisfy; any miss is an error, below):
 *   - sequence: a JSON string of decimal digits (Luno's form) or a JSON
 *     integer, > 0; an update's is exactly the previous + 1. A lower or
 *     repeated one is a gap too: within one connection Luno never repeats,
 *     and a resync is always safe.
 *   - timestamp: a JSON integer, Unix ms, >= 0 (required on updates,
 *     optional on the snapshot).
 *   - prices and volumes: decimal strings, parsed exactly to int64 1e-8
 *     (ig_fixed_parse_round: up to 18 decimals, rounded; no exponent, no
 *     bare JSON numbers); price > 0, volume > 0, trade base > 0, counter
 *     >= 0.
 *   - order ids: non-empty strings of at most IG_LUNO_BOOK_ID_MAX - 1
 *     bytes, no NUL; unique in the book.
 *   - an update applies its trades in order, then its create, then its
 *     delete, then its status. A trade takes `base` off the maker order
 *     (maker_order_id; the older shape's order_id is accepted when
 *     maker_order_id is absent), which leaves the book at zero; taking more
 *     than the order has is an error (an "overfill").
 *   - after every message the book must not be crossed or locked (best bid
 *     >= best ask): Luno reports a taker's trades and the rest it leaves in
 *     the book in one message, so a crossed book means we missed something.
 *   - status (snapshot or status_update): only "ACTIVE" is accepted; an
 *     absent snapshot status counts as ACTIVE. POSTONLY or DISABLED is an
 *     error: the quotes of such a market are not tradable; the feed backs
 *     off and resyncs.
 *
 * Result codes. Every entry point returns an int: >= 0 is a set of
 * IG_LUNO_BOOK_F_* flags (the message was used), < 0 one IG_LUNO_BOOK_E_*
 * reason. After an error (every E_* but E_NOT_WHOLE) the book is not whole:
 * the caller must resync (reconnect for a new snapshot); until the next
 * snapshot every update answers E_NOT_WHOLE and changes nothing. An update
 * that fails part way may have changed the book: it is not whole then, so
 * nothing reads it. ig_luno_book_error() says why in one line.
 *
 * Trades of the last update are in ig_luno_book_trades(): price = the
 * maker order's price (Luno matches at the maker's price; counter/base is
 * kept as sent, in `counter`), qty = base, aggressor = the side opposite
 * the maker, ts = the update's timestamp. At most max_trades per message
 * are reported; further ones still apply to the book and are counted in
 * stats.trades_dropped.
 *
 * Owner: the stream thread (luno_stream.h: one book per connection). No
 * locks, no atomics: another thread may not read the book; the stream
 * copies what it publishes into events.
 */
#ifndef IG_LUNO_LUNO_BOOK_H
#define IG_LUNO_LUNO_BOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest order id plus its NUL (Luno's are ~15-20 characters). */
#define IG_LUNO_BOOK_ID_MAX 32
/* Default capacity in resting orders (both sides together). */
#define IG_LUNO_BOOK_DEFAULT_ORDERS 32768u
/* Default number of trades one update may report. */
#define IG_LUNO_BOOK_DEFAULT_TRADES 256u
/* Largest capacity accepted (ids are 32-bit, the hash twice the size). */
#define IG_LUNO_BOOK_MAX_ORDERS (1u << 24)

/* Success flags (a result >= 0 is their OR). */
enum {
	IG_LUNO_BOOK_F_APPLIED = 1,   /* the message changed (or rebuilt) the book */
	IG_LUNO_BOOK_F_TOP = 2,       /* best bid or ask px or qty changed: emit a quote */
	IG_LUNO_BOOK_F_TRADES = 4,    /* the update carried trades: ig_luno_book_trades() */
	IG_LUNO_BOOK_F_KEEPALIVE = 8, /* an empty message; nothing changed */
	IG_LUNO_BOOK_F_SNAPSHOT = 16, /* the message was a snapshot (sets APPLIED and TOP) */
};

/* Error reasons (a result < 0). Every one but E_NOT_WHOLE needs a resync. */
#define IG_LUNO_BOOK_ERR_MAP(XX)                                                     \
	XX(SEQUENCE, -1, "sequence gap")                                             \
	XX(MALFORMED, -2, "malformed message")                                       \
	XX(UNKNOWN_ORDER, -3, "trade or delete of an unknown order")                 \
	XX(DUPLICATE, -4, "order id already in the book")                            \
	XX(OVERFILL, -5, "trade larger than the maker order")                        \
	XX(CROSSED, -6, "crossed or locked book")                                    \
	XX(STATUS, -7, "market not ACTIVE")                                          \
	XX(FULL, -8, "capacity exhausted")                                           \
	XX(NOT_WHOLE, -9, "update while the book is not whole")

enum ig_luno_book_err {
#define IG__LUNO_BOOK_ERR_ENUM(name, code, text) IG_LUNO_BOOK_E_##name = (code),
	IG_LUNO_BOOK_ERR_MAP(IG__LUNO_BOOK_ERR_ENUM)
#undef IG__LUNO_BOOK_ERR_ENUM
};
#define IG_LUNO_BOOK_E__COUNT 10 /* indexes -rc: 1..9 */

/* One aggregated price level. */
struct ig_luno_book_level {
	int64_t px;     /* > 0, 1e-8 */
	int64_t qty;    /* > 0, sum of the orders' volumes, base 1e-8 */
	uint32_t count; /* orders at this price, >= 1 */
};

/* One trade of the last update. */
struct ig_luno_book_trade {
	int64_t px;      /* the maker order's price, 1e-8 */
	int64_t qty;     /* base, > 0, 1e-8 */
	int64_t counter; /* counter as sent, >= 0, 1e-8 */
	int64_t ts_ms;   /* the update's exchange timestamp, Unix ms */
	uint8_t side;    /* enum ig_side of the aggressor (opposite the maker) */
	bool maker_gone; /* the trade took the maker order out of the book */
};

struct ig_luno_book_stats {
	uint64_t snapshots;      /* snapshots applied */
	uint64_t updates;        /* updates applied */
	uint64_t keepalives;     /* keep-alive messages */
	uint64_t trades;         /* trades applied */
	uint64_t trades_dropped; /* trades applied but not reported (over max_trades) */
	uint64_t top_changes;    /* results with F_TOP */
	uint64_t ignored;        /* updates refused with E_NOT_WHOLE */
	/* errors[-rc]: messages refused per reason (each one a resync needed,
	 * except E_NOT_WHOLE, which counts in `ignored` instead). */
	uint64_t errors[IG_LUNO_BOOK_E__COUNT];
};

struct ig_luno_book;

/* Makes a book for up to max_orders resting orders (0: the default) and
 * max_trades trades per update (0: the default). Everything is allocated
 * here; nothing after. Returns 0, IG_EINVAL (max_orders over
 * IG_LUNO_BOOK_MAX_ORDERS) or IG_ENOMEM; *out is NULL on error. */
int ig_luno_book_create(uint32_t max_orders, uint32_t max_trades, struct ig_luno_book **out);
/* Frees the book (NULL is fine). */
void ig_luno_book_destroy(struct ig_luno_book *b);

/* One text frame of the stream, body[0..len) (need not be NUL-terminated):
 * a keep-alive, a snapshot (has "asks" or "bids") or an update. Returns the
 * flags or an E_* reason, as above. */
int ig_luno_book_on_message(struct ig_luno_book *b, const char *body, size_t len);
/* A decoded snapshot object: replaces the whole book. Returns F_APPLIED |
 * F_SNAPSHOT | F_TOP, or an E_* reason (the book is then empty and not
 * whole). */
int ig_luno_book_snapshot(struct ig_luno_book *b, const json_t *msg);
/* A decoded update object. Returns the flags (F_APPLIED, plus F_TOP and
 * F_TRADES as they apply) or an E_* reason. */
int ig_luno_book_update(struct ig_luno_book *b, const json_t *msg);
/* Forgets the book (not whole, empty) without counting an error: the feed
 * calls it when its connection drops. */
void ig_luno_book_reset(struct ig_luno_book *b);

/* True from a good snapshot until the first error. */
bool ig_luno_book_whole(const struct ig_luno_book *b);
/* Sequence of the last message applied (0 before the first snapshot). */
uint64_t ig_luno_book_sequence(const struct ig_luno_book *b);
/* Exchange timestamp (Unix ms) of the last message applied, 0 if none. */
int64_t ig_luno_book_ts_ms(const struct ig_luno_book *b);
/* Resting orders, both sides. */
uint32_t ig_luno_book_order_count(const struct ig_luno_book *b);
/* Capacity in orders. */
uint32_t ig_luno_book_capacity(const struct ig_luno_book *b);
/* Best level of a side (enum ig_side: BUY = bids, SELL = asks): true and
 * *px, *qty set, or false (side empty, bad side, or the book not whole:
 * a stale book is never read; both set to 0). */
bool ig_luno_book_best(const struct ig_luno_book *b, uint8_t side, int64_t *px, int64_t *qty);
/* Copies up to n levels of a side, best first, into out[]; returns how
 * many (0 for a bad side or a book that is not whole). O(n). */
size_t ig_luno_book_levels(const struct ig_luno_book *b, uint8_t side,
			   struct ig_luno_book_level *out, size_t n);
/* Number of price levels on a side (0 when not whole). */
size_t ig_luno_book_depth(const struct ig_luno_book *b, uint8_t side);
/* Trades of the last update (valid until the next message); *n their count. */
const struct ig_luno_book_trade *ig_luno_book_trades(const struct ig_luno_book *b, size_t *n);
/* The counters. */
const struct ig_luno_book_stats *ig_luno_book_stats(const struct ig_luno_book *b);
/* Why the last message was refused ("" after a success). */
const char *ig_luno_book_error(const struct ig_luno_book *b);
/* "sequence gap", ... for an E_* code; "ok" for >= 0; "unknown" otherwise. */
const char *ig_luno_book_rc_name(int rc);

#endif
