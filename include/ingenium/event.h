/*
 * event.h - the one event struct that crosses every ring.
 *
 * Design
 * ------
 * struct ig_event is a fixed-size tagged union: a 40-byte header and an
 * 88-byte body, 128 bytes in all (two cache lines), aligned to 64 bytes.
 * Events are copied by value into and out of rings; they hold no pointers,
 * so nothing but values ever crosses a thread boundary. struct ig_event and
 * every body struct (ig_quote ... ig_position, ig_reconcile) are public
 * value types: every stage reads and writes their fields.
 *
 * The header's first field, seq, is owned by the ring the event travels
 * through: the slot-sequence ring (src/core/ring.h) writes the slot's
 * sequence number there, so a consumer polls the slot itself and an event
 * moves with no separate index cache line. Application code must not rely
 * on seq surviving a hop.
 *
 * Timestamps: ts_origin_ns is the CLOCK_MONOTONIC ingress time of the
 * market-data event that caused this one, carried unchanged through every
 * stage so that tick-to-order latency is measured on real traffic.
 * ts_emit_ns is rewritten by each producer when it emits, so each consumer
 * can measure the hop it just crossed. ts_event_ns is the data's own time
 * (exchange or file time, Unix epoch ns); backtests use it as "now".
 *
 * Money fields are int64 fixed-point, 1e-8 (include/ingenium/fixed.h).
 */
#ifndef INGENIUM_EVENT_H
#define INGENIUM_EVENT_H

#include <stdint.h>

#define IG_CACHELINE 64
#define IG_STRATEGY_NONE UINT16_C(0xFFFF)
#define IG_MAX_STRATEGIES 64
#define IG_MAX_INSTRUMENTS 16
#define IG_MAX_STRATEGY_THREADS 16

/* Client order ids: strategy (8 bits) << 56 | run epoch (24 bits) << 32 |
 * sequence (32 bits; bit 31 marks orders the OMS makes, such as attached
 * stop-losses). The run epoch is new for every run of an account: a
 * counter kept in the journal (a live venue is refused without one),
 * never below minutes since 2020-01-01 (24 bits: until 2051). An id is
 * therefore never reused for the account's lifetime; the venue uses it as
 * the idempotency key. Backtests (paper, inline) use epoch 0. */
#define IG_CID_EPOCH_MASK UINT32_C(0xFFFFFF)
#define IG_CID_MAKE(strategy, epoch, seq)                                          \
	(((uint64_t)(strategy) << 56) | ((uint64_t)((epoch) & IG_CID_EPOCH_MASK) << 32) | \
	 (uint64_t)(uint32_t)(seq))
#define IG_CID_STRATEGY(cid) ((uint16_t)((uint64_t)(cid) >> 56))
#define IG_CID_EPOCH(cid) ((uint32_t)((uint64_t)(cid) >> 32) & IG_CID_EPOCH_MASK)

enum ig_event_type {
	IG_EV_NONE = 0,
	/* market data */
	IG_EV_QUOTE,        /* top of book: body.quote */
	IG_EV_TRADE,        /* one print: body.trade */
	IG_EV_BAR,          /* OHLCV bar: body.bar */
	IG_EV_TIMER,        /* heartbeat: body.timer */
	/* signal / order: strategy -> OMS -> executor */
	IG_EV_ORDER,        /* order intent: body.order */
	IG_EV_CANCEL,       /* cancel request: body.cancel */
	/* execution: executor -> OMS -> strategy */
	IG_EV_ORDER_UPDATE, /* order state change: body.update */
	IG_EV_FILL,         /* one execution: body.fill */
	IG_EV_REJECT,       /* risk denial or venue rejection: body.reject */
	IG_EV_POSITION,     /* position/cash snapshot after a fill: body.position */
	IG_EV_CONTROL,      /* engine control: body.control */
	IG_EV_RECONCILE,    /* venue reconciliation result: body.reconcile */
	IG_EV__COUNT
};

/* Pipeline stages; also the source tag in the event header (hdr.src). A
 * strategy may read hdr.src, but the list is the engine's internal
 * layout: not part of the SDK's stable surface, it may change. */
enum ig_stage {
	IG_STAGE_TICK = 0,
	IG_STAGE_STRATEGY,
	IG_STAGE_OMS,
	IG_STAGE_EXEC,
	IG_STAGE_JOURNAL,   /* the journal thread (src/journal/jstage.h) */
	IG_STAGE__COUNT
};

enum ig_side {
	IG_SIDE_NONE = 0,
	IG_SIDE_BUY = 1,
	IG_SIDE_SELL = 2,
};

enum ig_ord_type {
	IG_ORD_MARKET = 0,
	IG_ORD_LIMIT,
	IG_ORD_STOP_MARKET,
	IG_ORD_STOP_LIMIT,
	IG_ORD_TAKE_PROFIT,
	IG_ORD_TRAILING_STOP,
	IG_ORD__COUNT
};

enum ig_tif {
	IG_TIF_GTC = 0,
	IG_TIF_IOC,
	IG_TIF_FOK,
	IG_TIF_DAY,
};

/* Order flags (struct ig_order.flags). */
#define IG_ORDF_POST_ONLY 0x01u
#define IG_ORDF_REDUCE_ONLY 0x02u
#define IG_ORDF_TRAIL_BPS 0x04u /* trail is in bps of price, not a price offset */

/* Order lifecycle states. The legal transitions live in one table in
 * src/oms/order.c. */
#define IG_ORD_STATE_MAP(XX)             \
	XX(INITIALIZED, "initialized")   \
	XX(DENIED, "denied")             \
	XX(SUBMITTED, "submitted")       \
	XX(ACCEPTED, "accepted")         \
	XX(PARTIALLY_FILLED, "partially_filled") \
	XX(FILLED, "filled")             \
	XX(PENDING_CANCEL, "pending_cancel") \
	XX(CANCELED, "canceled")         \
	XX(REJECTED, "rejected")         \
	XX(EXPIRED, "expired")           \
	XX(IN_DOUBT, "in_doubt")

enum ig_ord_state {
#define IG__ST_ENUM(name, str) IG_OS_##name,
	IG_ORD_STATE_MAP(IG__ST_ENUM)
#undef IG__ST_ENUM
	IG_OS__COUNT
};

/* Why an order was denied by risk or rejected by the venue. The string is
 * the key used in logs and in the summary's rejects{reason: n}. */
#define IG_REJECT_MAP(XX)                               \
	XX(NONE, "none")                                \
	XX(MAX_ORDER_QTY, "max_order_qty")              \
	XX(MAX_ORDER_NOTIONAL, "max_order_notional")    \
	XX(MAX_POSITION, "max_position_qty")            \
	XX(MAX_OPEN_ORDERS, "max_open_orders")          \
	XX(RATE_LIMIT, "max_orders_per_sec")            \
	XX(PRICE_COLLAR, "price_collar")                \
	XX(STALE_DATA, "stale_data")                    \
	XX(NO_MARK, "no_mark")                          \
	XX(INSUFFICIENT_CASH, "insufficient_cash")      \
	XX(INSUFFICIENT_POSITION, "insufficient_position") \
	XX(DUPLICATE, "duplicate_intent")               \
	XX(DAILY_LOSS, "daily_loss_limit")              \
	XX(DRAWDOWN, "max_drawdown")                    \
	XX(KILL_SWITCH, "kill_switch")                  \
	XX(HALTED, "halted")                            \
	XX(REDUCE_ONLY, "reduce_only")                  \
	XX(INVALID, "invalid_order")                    \
	XX(NOT_RECONCILED, "not_reconciled")            \
	XX(UNKNOWN_ORDER, "unknown_order")              \
	XX(VENUE, "venue_rejected")                     \
	XX(VENUE_NO_LIQUIDITY, "venue_no_liquidity")    \
	XX(VENUE_POST_ONLY, "venue_post_only")          \
	XX(VENUE_INSUFFICIENT_BALANCE, "venue_insufficient_balance") \
	XX(JOURNAL, "journal_failed")  /* the journal could not make the order durable */ \
	XX(PAUSED, "paused")           /* the strategy is paused by an operator control */

enum ig_reject_reason {
#define IG__RJ_ENUM(name, str) IG_RJ_##name,
	IG_REJECT_MAP(IG__RJ_ENUM)
#undef IG__RJ_ENUM
	IG_RJ__COUNT
};

enum ig_control_cmd {
	IG_CTL_NONE = 0,
	IG_CTL_STOP,        /* drain and stop */
	IG_CTL_KILL_SWITCH, /* arg: 1 = engage, 0 = clear */
	IG_CTL_FEED_END,    /* the feed has no more events */
	IG_CTL_TRADING_STATE, /* arg: global enum ig_trading_state (0 active, 1 reducing, 2 halted) */
	IG_CTL_SESSION,     /* journal only: a run started (arg = run epoch). Internal: not
			     * part of the SDK, may change */
	IG_CTL_RECOVERED,   /* OMS -> strategy after a recovery: everything recovered for
			     * hdr.strategy_id (positions, open orders) has been sent.
			     * Internal: not part of the SDK, may change */
	/* Operator controls (src/oms/oms_stage.h, ig_oms_request): hdr.strategy_id
	 * names one strategy, or IG_STRATEGY_NONE all of them. */
	IG_CTL_PAUSE,       /* no new orders from the strategy (denied `paused`);
			     * its resting orders stay */
	IG_CTL_RESUME,      /* lifts a pause */
	IG_CTL_CANCEL_ALL,  /* cancels the strategy's open orders, armed stops included */
	IG_CTL_RESET,       /* lifts a drawdown or daily-loss breach back to active */
	IG_CTL_PARAMS,      /* new values of the strategy's declared params (body.params);
			     * the strategy sees them through on_params (strategy.h).
			     * Internal: not part of the SDK, may change */
	IG_CTL_PARAMS_APPLIED, /* strategy -> OMS: on_params took body.params (the OMS
				* now holds them in force). Internal */
	IG_CTL_PARAMS_REFUSED, /* strategy -> OMS: body.params refused (by the check of
				* the declarations or by on_params). Internal */
};

/* Header flags (hdr.flags). Bits 0x08..0x80 are the engine's own
 * (src/core/evflags.h, not part of the SDK). */
#define IG_EVF_ADOPT 0x01u      /* ORDER_UPDATE from reconciliation: an order of ours the
				 * venue has and the journal does not; the OMS adopts it */

enum ig_liquidity {
	IG_LIQ_NONE = 0,
	IG_LIQ_MAKER,
	IG_LIQ_TAKER,
};

struct ig_event_hdr {
	uint64_t seq;           /* ring slot sequence; owned by the ring, first */
	uint16_t type;          /* enum ig_event_type */
	uint8_t src;            /* enum ig_stage that emitted it */
	uint8_t flags;          /* type-specific */
	uint16_t strategy_id;   /* owning strategy, or IG_STRATEGY_NONE */
	uint16_t instrument_id; /* index into the instrument table */
	int64_t ts_origin_ns;   /* CLOCK_MONOTONIC ingress of the causing tick */
	int64_t ts_event_ns;    /* data/exchange time, Unix epoch ns */
	int64_t ts_emit_ns;     /* CLOCK_MONOTONIC when last emitted (per hop) */
};

struct ig_quote {
	int64_t bid_px;  /* 1e-8 */
	int64_t bid_qty; /* 1e-8 */
	int64_t ask_px;  /* 1e-8 */
	int64_t ask_qty; /* 1e-8 */
};

struct ig_trade {
	int64_t px;  /* 1e-8 */
	int64_t qty; /* 1e-8 */
	uint8_t aggressor; /* enum ig_side, NONE if unknown */
};

struct ig_bar {
	int64_t open_px;   /* 1e-8 */
	int64_t high_px;   /* 1e-8 */
	int64_t low_px;    /* 1e-8 */
	int64_t close_px;  /* 1e-8 */
	int64_t volume;    /* 1e-8, base units */
	int64_t period_ns; /* bar length */
};

struct ig_timer {
	int64_t now_ns;    /* CLOCK_MONOTONIC at the heartbeat */
	uint64_t count;    /* heartbeats so far; for a strategy's own timer: times it fired */
	uint32_t timer_id; /* 0 = the engine's heartbeat; else the id ig_ctx_timer_at/_every
			    * returned (strategy.h) */
	uint32_t pad;
	uint64_t tag;      /* the strategy's own timer: the tag it passed */
};

struct ig_order {
	uint64_t client_id;  /* deterministic: strategy, run epoch, sequence */
	int64_t px;          /* limit price, 1e-8; 0 for market */
	int64_t qty;         /* > 0, 1e-8 */
	int64_t stop_px;     /* trigger for stop/take-profit, 1e-8 */
	int64_t trail;       /* trailing offset: price (1e-8) or bps */
	int64_t sl_px;       /* attached stop-loss trigger, 0 if none */
	uint64_t replaces;   /* client_id this one replaces, 0 if none */
	uint8_t side;        /* enum ig_side */
	uint8_t type;        /* enum ig_ord_type */
	uint8_t tif;         /* enum ig_tif */
	uint8_t flags;       /* IG_ORDF_* */
};

struct ig_cancel {
	uint64_t client_id;  /* order to cancel; 0 with flags=1: cancel all */
};

struct ig_order_update {
	uint64_t client_id;
	uint64_t venue_order_id;
	int64_t filled_qty;  /* cumulative, 1e-8 */
	int64_t leaves_qty;  /* still open, 1e-8 */
	int64_t avg_px;      /* average fill price, 1e-8 */
	int64_t px;          /* order limit price, 1e-8 */
	uint8_t state;       /* enum ig_ord_state */
	uint8_t prev_state;  /* enum ig_ord_state */
	uint8_t side;        /* enum ig_side */
	uint8_t reason;      /* enum ig_reject_reason, for terminal states */
};

struct ig_fill {
	uint64_t client_id;
	uint64_t venue_order_id;
	uint64_t trade_id;   /* venue trade sequence: fills apply once by this */
	int64_t px;          /* 1e-8 */
	int64_t qty;         /* > 0, 1e-8 */
	int64_t fee;         /* charged in the quote (counter) currency, 1e-8; > 0 paid,
			      * < 0 a rebate received */
	uint8_t side;        /* enum ig_side */
	uint8_t liquidity;   /* enum ig_liquidity */
	uint8_t last;        /* 1 if the order is now fully filled */
	int64_t fee_base;    /* charged in the base asset, 1e-8 (Luno charges a buyer so):
			      * the position grows by qty - fee_base. A venue reports
			      * each fee in the currency it charged; either may be 0. */
};

struct ig_reject {
	uint64_t client_id;
	int64_t px;          /* 1e-8 */
	int64_t qty;         /* 1e-8 */
	uint16_t reason;     /* enum ig_reject_reason */
	uint8_t side;        /* enum ig_side */
	uint8_t by_venue;    /* 0 = risk denial, 1 = venue rejection */
};

struct ig_position {
	int64_t qty;          /* signed net position, 1e-8 */
	int64_t avg_px;       /* average entry price, 1e-8 */
	int64_t realized_pnl; /* 1e-8 quote */
	int64_t fees;         /* cumulative fees paid, 1e-8 quote */
	int64_t cash;         /* 1e-8 quote */
	int64_t open_buy_qty; /* open + in-flight buy quantity, 1e-8 */
	int64_t open_sell_qty;/* open + in-flight sell quantity, 1e-8 */
	uint8_t trading_state;/* enum ig_trading_state (src/oms) */
};

struct ig_control {
	uint16_t cmd;         /* enum ig_control_cmd */
	uint16_t nstrategies; /* SESSION: strategies in the config of that run */
	int64_t arg;
	uint64_t fingerprint; /* SESSION: hash of their names and types, in order */
	uint64_t account;     /* SESSION: hash of the venue kind, base_url and API key id
			       * (0: not recorded) */
	char key_id[24];      /* SESSION: the API key id (never the secret), cut to 23 */
};

/* IG_CTL_PARAMS (and its verdicts _APPLIED, _REFUSED, which echo it):
 * up to IG_PARAMS_MAX new values for one strategy (hdr.strategy_id),
 * applied together. With IG_EVF_ADOPT it is the OMS handing a
 * strategy, after a recovery, values already in force (no verdict). index[i] is the param's position in
 * its type's declaration array; value[i] the value parsed by its kind: INT
 * the integer, DECIMAL 1e-8 fixed point, BOOL 0/1, ENUM the index of the
 * choice (STRING params cannot change while running). cmd overlays
 * ig_control.cmd. Internal: not part of the SDK, may change. */
#define IG_PARAMS_MAX 8
struct ig_params_change {
	uint16_t cmd;                   /* IG_CTL_PARAMS */
	uint8_t n;                      /* entries used, 1..IG_PARAMS_MAX */
	uint8_t reserved;
	uint16_t index[IG_PARAMS_MAX];
	int64_t value[IG_PARAMS_MAX];
};

/* Reconciliation errors (struct ig_reconcile.error). */
#define IG_RECON_ERROR_MAP(XX)                                      \
	XX(OK, "ok")                                                \
	XX(UNREACHABLE, "venue_unreachable") /* requests failed */   \
	XX(TIMEOUT, "timeout")       /* not done within the recovery timeout */ \
	XX(MALFORMED, "malformed_reply")                             \
	XX(UNSUPPORTED, "unsupported") /* the venue cannot reconcile */

enum ig_recon_error {
#define IG__RE_ENUM(name, str) IG_RECON_##name,
	IG_RECON_ERROR_MAP(IG__RE_ENUM)
#undef IG__RE_ENUM
	IG_RECON__COUNT
};

/* One instrument's reconciliation result, emitted by the venue (executor
 * -> OMS) after every report the reconciliation produced (missing fills,
 * resolved and adopted orders) has been emitted ahead of it. */
struct ig_reconcile {
	int64_t base_balance;    /* account total of the instrument's base asset, 1e-8 */
	int64_t counter_balance; /* account total of its counter asset, 1e-8 */
	uint32_t resolved;       /* recovered orders looked up at the venue */
	uint32_t adopted;        /* our orders the venue has that the journal did not */
	uint32_t foreign;        /* open orders on the account that are not ours (left alone) */
	uint32_t fills;          /* fills found that the journal did not have */
	uint16_t error;          /* enum ig_recon_error; OK = the pass completed */
	uint8_t have_balances;   /* the balances are the venue's (else ignore them) */
	uint8_t last;            /* 1 on the last instrument of the pass */
};

#define IG_EVENT_SIZE 128

struct ig_event {
	_Alignas(IG_CACHELINE) struct ig_event_hdr hdr;
	union {
		struct ig_quote quote;
		struct ig_trade trade;
		struct ig_bar bar;
		struct ig_timer timer;
		struct ig_order order;
		struct ig_cancel cancel;
		struct ig_order_update update;
		struct ig_fill fill;
		struct ig_reject reject;
		struct ig_position position;
		struct ig_control control;
		struct ig_params_change params;
		struct ig_reconcile reconcile;
		uint8_t raw[IG_EVENT_SIZE - sizeof(struct ig_event_hdr)];
	} body;
};

_Static_assert(sizeof(struct ig_event_hdr) == 40, "event header is 40 bytes");
_Static_assert(sizeof(struct ig_event) == IG_EVENT_SIZE, "event is 128 bytes");
_Static_assert(sizeof(struct ig_event) % IG_CACHELINE == 0,
	       "event size is a multiple of the cache line");
_Static_assert(_Alignof(struct ig_event) == IG_CACHELINE, "event is cache-line aligned");
_Static_assert(sizeof(struct ig_params_change) <= sizeof(((struct ig_event *)0)->body),
	       "params change fits the body");
_Static_assert(sizeof(struct ig_order) <= sizeof(((struct ig_event *)0)->body),
	       "order fits the body");

/* Names for logs and JSON. Return static strings; any thread. */
const char *ig_event_type_name(enum ig_event_type t);
const char *ig_ord_state_name(enum ig_ord_state s);
const char *ig_reject_reason_name(enum ig_reject_reason r);
const char *ig_side_name(enum ig_side s);
const char *ig_recon_error_name(enum ig_recon_error e);
const char *ig_ord_type_name(enum ig_ord_type t);     /* "market", ..., "unknown" */
const char *ig_tif_name(enum ig_tif t);               /* "gtc", ..., "unknown" */
const char *ig_liquidity_name(enum ig_liquidity l);   /* "none", "maker", "taker", "unknown" */

#endif
