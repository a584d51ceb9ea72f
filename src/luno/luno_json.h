/*
 * luno_json.h - pure parsers for Luno REST replies (jansson).
 *
 * Design
 * ------
 * Each parser takes a reply body (bytes and length, not NUL-terminated) and
 * fills a flat struct with no pointers into the JSON document, so the
 * document is freed before the parser returns. Every parser returns 0 or
 * IG_EPARSE, and never anything else: the caller's only question is "can I
 * trust this reply?". On IG_EPARSE a one-line reason ("trades[3].volume: not
 * a decimal") is left in a per-thread buffer, ig_luno_json_error(), for the
 * caller to log with its own context.
 *
 * Hostile input is expected: an empty body, an HTML error page, truncated
 * JSON, duplicate keys, wrong types (a number where a decimal string is
 * expected, an array where an object is), huge numbers ("1e400", 30-digit
 * values), negative volumes, missing fields. None of them crashes or is
 * half-applied: the out struct is only meaningful when 0 is returned.
 *
 * Decimals. Luno sends prices and volumes as JSON strings. They are parsed
 * exactly with ig_fixed_parse_round(): up to 18 decimals are accepted and
 * rounded to 1e-8 by the engine's rule; 19 or more decimals, an exponent,
 * anything that is not a plain decimal, or a value outside the int64 1e-8
 * range is refused. A decimal sent as a bare JSON number is refused too: a
 * binary float has already lost the exact value. Integer fields (sequence,
 * timestamp, scales) must be JSON integers in range.
 *
 * Sign rules: prices and volumes of trades are > 0; fills, fees and order
 * amounts are >= 0; a ticker side or book side may be 0 (empty book).
 *
 * All functions are pure (apart from the per-thread error buffer) and may be
 * called from any thread.
 */
#ifndef IG_LUNO_LUNO_JSON_H
#define IG_LUNO_LUNO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"

/* Longest order id / client order id we keep (Luno's are ~20 chars; client
 * ids are limited to 255 by Luno but ours are "ig-" + 16 hex digits). */
#define IG_LUNO_ID_MAX 64
#define IG_LUNO_PAIR_MAX 16
#define IG_LUNO_ASSET_MAX 16

/*
 * Luno error codes we act on. XX(name, "ErrCode", reject reason, action).
 * The reject reason is what an IG_EV_REJECT carries when the code answers a
 * new order. The action tells the venue what the code means for the order:
 *   REJECT   the order was refused; it does not exist at the venue
 *   EXISTS   the client_order_id is taken: the order exists, look it up
 *   RETRY    nothing was done; send the same request again later
 *   GONE     the order is no longer open (cancel of a finished order)
 */
#define IG_LUNO_ERR_MAP(XX)                                                              \
	XX(INSUFFICIENT_BALANCE, "ErrInsufficientBalance", IG_RJ_VENUE_INSUFFICIENT_BALANCE, REJECT) \
	XX(POST_ONLY, "ErrPostOnlyMode", IG_RJ_VENUE_POST_ONLY, REJECT)                      \
	XX(VOLUME_TOO_LOW, "ErrVolumeTooLow", IG_RJ_VENUE, REJECT)                           \
	XX(VOLUME_TOO_HIGH, "ErrVolumeTooHigh", IG_RJ_VENUE, REJECT)                         \
	XX(PRICE_TOO_LOW, "ErrPriceTooLow", IG_RJ_VENUE, REJECT)                             \
	XX(PRICE_TOO_HIGH, "ErrPriceTooHigh", IG_RJ_VENUE, REJECT)                           \
	XX(PRICE_DENOMINATION, "ErrPriceDenominationNotAllowed", IG_RJ_VENUE, REJECT)        \
	XX(VOLUME_DENOMINATION, "ErrVolumeDenominationNotAllowed", IG_RJ_VENUE, REJECT)      \
	XX(INVALID_MARKET_PAIR, "ErrInvalidMarketPair", IG_RJ_VENUE, REJECT)                 \
	XX(MARKET_UNAVAILABLE, "ErrMarketUnavailable", IG_RJ_VENUE, REJECT)                  \
	XX(INVALID_ARGUMENTS, "ErrInvalidArguments", IG_RJ_VENUE, REJECT)                    \
	XX(UNAUTHORISED, "ErrUnauthorised", IG_RJ_VENUE, REJECT)                             \
	XX(DUPLICATE_CLIENT_ORDER_ID, "ErrDuplicateClientOrderID", IG_RJ_NONE, EXISTS)       \
	XX(TOO_MANY_REQUESTS, "ErrTooManyRequests", IG_RJ_NONE, RETRY)                       \
	XX(ORDER_CANCELED, "ErrOrderCanceled", IG_RJ_NONE, GONE)                             \
	XX(ORDER_NOT_FOUND, "ErrOrderNotFound", IG_RJ_NONE, GONE)                             \
	XX(CANNOT_STOP, "ErrCannotStopUnknownOrNonPendingOrder", IG_RJ_NONE, GONE)

enum ig_luno_err {
	IG_LUNO_ERR_NONE = 0,
#define IG__LUNO_ERR_ENUM(name, str, reason, action) IG_LUNO_ERR_##name,
	IG_LUNO_ERR_MAP(IG__LUNO_ERR_ENUM)
#undef IG__LUNO_ERR_ENUM
	IG_LUNO_ERR_UNKNOWN, /* an error code we do not know: a plain venue reject */
	IG_LUNO_ERR__COUNT
};

enum ig_luno_action {
	IG_LUNO_ACT_REJECT = 0,
	IG_LUNO_ACT_EXISTS,
	IG_LUNO_ACT_RETRY,
	IG_LUNO_ACT_GONE,
};

/* Order status of GET /api/exchange/3/order. */
enum ig_luno_status {
	IG_LUNO_ST_AWAITING = 1, /* not yet in the book */
	IG_LUNO_ST_PENDING,      /* in the book; may be partly filled */
	IG_LUNO_ST_COMPLETE,     /* out of the book: filled, cancelled or expired */
};

/* {"error": "...", "error_code": "Err..."} */
struct ig_luno_error {
	int code;                 /* enum ig_luno_err; UNKNOWN if absent or not ours */
	char code_str[48];        /* the error_code as sent (truncated), "" if none */
	char message[160];        /* the error text as sent (truncated), "" if none */
};

/* GET /api/exchange/3/order */
struct ig_luno_order_status {
	char order_id[IG_LUNO_ID_MAX];
	char client_order_id[IG_LUNO_ID_MAX]; /* "" if absent */
	int status;               /* enum ig_luno_status */
	uint8_t side;             /* enum ig_side from side BUY/SELL or type BID/ASK; NONE if absent */
	int64_t base;             /* base filled, >= 0, 1e-8 */
	int64_t counter;          /* counter filled, >= 0, 1e-8 */
	int64_t fee_base;         /* >= 0, 1e-8 */
	int64_t fee_counter;      /* >= 0, 1e-8 */
	int64_t limit_price;      /* >= 0, 1e-8; 0 if absent (market orders) */
	int64_t limit_volume;     /* >= 0, 1e-8; 0 if absent */
	int64_t created_ms;       /* creation_timestamp, Unix ms; 0 if absent */
	uint8_t tif;              /* enum ig_tif from time_in_force; GTC if absent */
	char pair[IG_LUNO_PAIR_MAX]; /* "" if absent */
};

/* One element of GET /api/1/listtrades "trades". */
struct ig_luno_trade {
	uint64_t sequence;        /* > 0: the fill's trade_id */
	char order_id[IG_LUNO_ID_MAX];
	char client_order_id[IG_LUNO_ID_MAX]; /* "" if absent */
	int64_t price;            /* > 0, 1e-8 */
	int64_t volume;           /* > 0, base units, 1e-8 */
	int64_t base;             /* >= 0, 1e-8 (volume if absent) */
	int64_t counter;          /* >= 0, 1e-8 (0 if absent) */
	int64_t fee_base;         /* >= 0, 1e-8 */
	int64_t fee_counter;      /* >= 0, 1e-8 */
	int64_t timestamp_ms;     /* Unix ms, 0 if absent */
	uint8_t side;             /* our side from type BID/ASK (or BUY/SELL); NONE if absent */
	int8_t is_buy;            /* taker was a buyer: 1, 0, or -1 if absent */
};

/* GET /api/1/ticker */
struct ig_luno_ticker {
	int64_t bid;              /* >= 0, 1e-8 (0 = no bid) */
	int64_t ask;              /* >= 0, 1e-8 (0 = no ask) */
	int64_t timestamp_ms;     /* Unix ms, 0 if absent */
};

/* GET /api/1/orderbook_top: the best level of each side. */
struct ig_luno_top {
	int64_t bid_px;           /* 0 if no bids, 1e-8 */
	int64_t bid_qty;
	int64_t ask_px;           /* 0 if no asks */
	int64_t ask_qty;
	int64_t timestamp_ms;     /* 0 if absent */
};

/* One market of GET /api/exchange/1/markets. */
struct ig_luno_market {
	char pair[IG_LUNO_PAIR_MAX]; /* market_id */
	int price_scale;          /* decimals of a price, 0..8 (finer is clamped to 8) */
	int volume_scale;         /* decimals of a volume, 0..8 (clamped) */
	int64_t min_volume;       /* >= 0, 1e-8; 0 if absent */
	int64_t max_volume;       /* >= 0, 1e-8; 0 if absent */
	int64_t min_price;        /* >= 0, 1e-8; 0 if absent */
	int64_t max_price;        /* >= 0, 1e-8; 0 if absent */
	bool active;              /* trading_status ACTIVE (or absent) */
	char base[IG_LUNO_ASSET_MAX];    /* base_currency ("XBT"), "" if absent */
	char counter[IG_LUNO_ASSET_MAX]; /* counter_currency ("ZAR"), "" if absent */
};

/* Why the last parser call on this thread failed; "" after a success. */
const char *ig_luno_json_error(void);

/* Maps an error_code string to enum ig_luno_err (UNKNOWN if not ours,
 * NONE for NULL or ""). */
int ig_luno_err_from_code(const char *code);
/* The reject reason (enum ig_reject_reason) for a new order refused with
 * err; IG_RJ_VENUE for UNKNOWN. */
int ig_luno_err_reason(int err);
/* enum ig_luno_action for err (REJECT for UNKNOWN). */
int ig_luno_err_action(int err);
/* "ErrInsufficientBalance", ..., "unknown", "none". */
const char *ig_luno_err_name(int err);

/* The parsers. body[0..len) need not be NUL-terminated. Each returns 0 or
 * IG_EPARSE; the out struct is zeroed first. */
int ig_luno_parse_error(const char *body, size_t len, struct ig_luno_error *out);
/* postorder / marketorder: {"order_id": "..."} (non-empty). */
int ig_luno_parse_order_id(const char *body, size_t len, char *order_id, size_t cap);
/* stoporder: {"success": true|false}; *ok receives it. */
int ig_luno_parse_success(const char *body, size_t len, bool *ok);
int ig_luno_parse_order(const char *body, size_t len, struct ig_luno_order_status *out);
/* listtrades: up to cap trades into out[], count in *n. More than cap
 * trades, or any malformed trade, fails the whole page (fail closed: the
 * caller re-reads it later rather than skip a fill). */
int ig_luno_parse_trades(const char *body, size_t len, struct ig_luno_trade *out, size_t cap,
			 size_t *n);
int ig_luno_parse_ticker(const char *body, size_t len, struct ig_luno_ticker *out);
int ig_luno_parse_top(const char *body, size_t len, struct ig_luno_top *out);
/* markets: finds pair in {"markets": [...]}. IG_EPARSE if the reply is
 * malformed, IG_ENOTFOUND if it is well formed but does not list pair. */
int ig_luno_parse_markets(const char *body, size_t len, const char *pair,
			  struct ig_luno_market *out);
/* listorders: {"orders": [...]} (absent or null = none), each in the v1
 * shape (state, type BID/ASK or BUY/SELL), up to cap into out[], count in
 * *n. More than cap, or any malformed order, fails the whole page. */
int ig_luno_parse_orders(const char *body, size_t len, struct ig_luno_order_status *out,
			 size_t cap, size_t *n);
/* balance: {"balance": [{"asset", "balance", ...}]}. For each of the
 * nassets names, totals[i] receives the sum of "balance" over the accounts
 * of that asset (0 if it has none; an empty name gets 0). Every entry is
 * checked (asset a string, balance an exact decimal, the sums in range),
 * whatever its asset: one bad entry fails the reply. */
int ig_luno_parse_balance(const char *body, size_t len, const char *const *assets,
			  size_t nassets, int64_t *totals);

#endif
