/*
 * strategy.h - the API a strategy author writes against (the strategy SDK).
 *
 * A strategy is a set of callbacks over a private state block that the
 * engine allocates (state_size bytes, zeroed) before init. Callbacks run on
 * the strategy's own thread, one at a time; they must not block, allocate
 * or do I/O. They act through the ctx: submit and cancel orders, read their
 * own mirror of orders, position and cash (updated from the OMS's events
 * before the callback sees them), set timers, and log.
 *
 * Orders are intents: the OMS/risk thread decides. Every intent gets a
 * client order id at once; its fate arrives later as on_order_update,
 * on_fill and on_reject. A risk denial is an on_reject with by_venue = 0.
 *
 * Prices and quantities are int64 fixed-point 1e-8 (fixed.h). Floating
 * point is fine inside indicators (indicators.h), never for money.
 *
 * Lifecycle, all on the strategy's thread except init/destroy:
 *   init       params read and checked (main thread, before any thread runs)
 *   on_start   once, before any other callback; may submit orders
 *   on_quote / on_trade / on_bar / on_timer / on_order_update / on_fill /
 *   on_reject  as events arrive
 *   on_params  new param values from the operator (since ABI 2)
 *   on_stop    once, at the end of the feed or on a stop; may cancel
 *   destroy    frees what init allocated (main thread, after the threads
 *              are joined); the state block itself is the engine's
 *
 * Calling an ig_ctx_* function that acts (submit, cancel, timers) outside
 * a callback is an error the author sees: it is logged once per strategy
 * with the function's name, counted (ctx_misuse in the summary) and the
 * call returns 0 / IG_ESTATE.
 *
 * Plugins: a shared object defines one struct ig_strategy_type and exports
 * it with IG_STRATEGY_PLUGIN(type_variable), which also records the SDK ABI
 * version it was built against. The config loads it with `plugin: PATH`
 * and names it with `type:`; another ABI version is refused at start.
 *   cc -shared -fPIC $(pkg-config --cflags ingenium) -o my.so my.c
 */
#ifndef INGENIUM_STRATEGY_H
#define INGENIUM_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"
#include "ingenium/fixed.h"

/* The SDK's ABI version: bumped whenever a change to the public headers
 * (event.h, fixed.h, error.h, strategy.h, indicators.h) breaks a plugin
 * built against the previous one. A plugin records the version it was
 * built with (IG_STRATEGY_PLUGIN); the engine loads only its own. */
#define IG_SDK_ABI_VERSION 2u

struct ig_strategy_ctx; /* opaque; owned by the strategy host */
struct ig_cfg_strategy; /* the strategy's config entry; opaque, read with ig_param_* */

/*
 * Declared parameters. A strategy type lists its params in an array ended
 * by IG_PARAM_END; the config loader checks every `params:` key against it
 * (an unknown key, a value of the wrong type or out of bounds is refused
 * with file:line:col), fills in defaults, and `ingenium strategies` lists
 * them. Defaults and bounds are written as the YAML text would be
 * ("10", "0.01", "true", "mid"), parsed by the same rules as the value:
 *   IG_PARAM_INT      plain decimal integer (ig_param_i64)
 *   IG_PARAM_DECIMAL  exact decimal, at most 8 decimals (ig_param_fixed)
 *   IG_PARAM_BOOL     true|false|yes|no|on|off (ig_param_bool)
 *   IG_PARAM_STRING   any text up to IG_PARAM_STR_MAX - 1 bytes (ig_param_str)
 *   IG_PARAM_ENUM     one of `choices`, "a|b|c" (ig_param_enum gives its index)
 * def == NULL makes the param required. min/max (NULL = unbounded) apply to
 * INT and DECIMAL, inclusive.
 */
enum ig_param_kind {
	IG_PARAM_INT = 1,
	IG_PARAM_DECIMAL,
	IG_PARAM_BOOL,
	IG_PARAM_STRING,
	IG_PARAM_ENUM,
};

#define IG_PARAM_STR_MAX 128

struct ig_param_decl {
	const char *name;
	enum ig_param_kind kind;
	const char *def;      /* default as text; NULL = required */
	const char *min;      /* inclusive lower bound as text (INT, DECIMAL); NULL = none */
	const char *max;      /* inclusive upper bound as text (INT, DECIMAL); NULL = none */
	const char *choices;  /* ENUM: "a|b|c" */
	const char *doc;      /* one line for `ingenium strategies` */
};

#define IG_PARAM_END { NULL, (enum ig_param_kind)0, NULL, NULL, NULL, NULL, NULL }

/* A strategy type. Built-in types are listed in src/strategy/registry.c;
 * a plugin exports one with IG_STRATEGY_PLUGIN. New members are only ever
 * added at the end (use designated initializers). */
struct ig_strategy_type {
	const char *name;   /* the YAML `type:` */
	size_t state_size;  /* bytes of private state, zeroed before init */
	/* Reads params; returns 0 or a negative IG_E* code with err filled
	 * ("strategies.N.params.KEY: message" is prepended by the caller). */
	int (*init)(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg,
		    char *err, size_t errlen);
	void (*on_quote)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_trade)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_bar)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_timer)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_order_update)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_fill)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_reject)(void *state, struct ig_strategy_ctx *ctx, const struct ig_event *ev);
	void (*on_stop)(void *state, struct ig_strategy_ctx *ctx);
	/* Since ABI 1: */
	const struct ig_param_decl *params; /* ended by IG_PARAM_END; NULL = takes no params */
	const char *doc;                    /* one line for `ingenium strategies` */
	void (*on_start)(void *state, struct ig_strategy_ctx *ctx);
	void (*destroy)(void *state);       /* frees what init allocated; may be NULL */
	/* Since ABI 2: new param values while running (the operator's
	 * POST /api/v1/strategies/NAME/params). cfg holds every param with
	 * the new values, each already checked against the declaration;
	 * read it with ig_param_* as init does and check what involves two
	 * params. Returns 0 when the strategy now runs with them, or a
	 * negative IG_E* code (IG_ECONFIG) when it refuses the combination:
	 * it then keeps its old values, the engine its old config, and the
	 * operator gets the refusal (log it to say why). Called on the
	 * strategy's thread between two callbacks (after on_start, never
	 * after on_stop). NULL: the type takes no live changes (the API
	 * answers 409). */
	int (*on_params)(void *state, struct ig_strategy_ctx *ctx, const struct ig_cfg_strategy *cfg);
};

/* What a plugin exports (see IG_STRATEGY_PLUGIN). */
struct ig_strategy_plugin {
	uint32_t abi_version;                 /* IG_SDK_ABI_VERSION it was built with */
	const struct ig_strategy_type *type;
};

/* The symbol the loader looks up with dlsym. */
#define IG_STRATEGY_PLUGIN_SYMBOL "ig_strategy_plugin"

/* Exports type_variable (a struct ig_strategy_type) from a plugin, with the
 * ABI version the plugin is being compiled against. Once per shared object. */
#define IG_STRATEGY_PLUGIN(type_variable)                                          \
	__attribute__((visibility("default"))) extern const struct ig_strategy_plugin \
		ig_strategy_plugin;                                                \
	__attribute__((visibility("default"))) const struct ig_strategy_plugin     \
		ig_strategy_plugin = { IG_SDK_ABI_VERSION, &(type_variable) }

/* Submits an order intent built by the caller (client_id is assigned).
 * Returns the client order id (> 0), or 0 if the intent is malformed
 * (it is then also reported through on_reject with reason invalid_order). */
uint64_t ig_ctx_submit(struct ig_strategy_ctx *ctx, uint16_t instrument_id, const struct ig_order *o);

/* Shorthands for ig_ctx_submit. */
uint64_t ig_ctx_market(struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side,
		       int64_t qty);
uint64_t ig_ctx_limit(struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side,
		      int64_t px, int64_t qty, enum ig_tif tif);

/* Requests a cancel. Cancels are never blocked by risk. */
void ig_ctx_cancel(struct ig_strategy_ctx *ctx, uint64_t client_id);

/* The strategy's own view of its position on instrument_id, as of the last
 * IG_EV_POSITION from the OMS (qty, avg_px, cash, fees ...). */
const struct ig_position *ig_ctx_position(const struct ig_strategy_ctx *ctx, uint16_t instrument_id);

/* Quantity of intents sent but not yet finished, per side (the strategy's
 * own mirror; the OMS holds the truth). */
int64_t ig_ctx_pending_qty(const struct ig_strategy_ctx *ctx, uint16_t instrument_id, enum ig_side side);

/* Data time of the event being handled (Unix epoch ns). */
int64_t ig_ctx_now_ns(const struct ig_strategy_ctx *ctx);

/* The strategy's name and id. */
const char *ig_ctx_name(const struct ig_strategy_ctx *ctx);
uint16_t ig_ctx_strategy_id(const struct ig_strategy_ctx *ctx);

/* Looks up an instrument by symbol ("XBTZAR"). Returns its id (>= 0), or
 * IG_ENOTFOUND if the engine has no such symbol. Any callback, and init. */
int ig_ctx_instrument(const struct ig_strategy_ctx *ctx, const char *symbol);

/* The symbol of instrument_id, or NULL if there is none. */
const char *ig_ctx_symbol(const struct ig_strategy_ctx *ctx, uint16_t instrument_id);

/*
 * Timers. A timer fires on_timer with an IG_EV_TIMER whose body.timer has
 * timer_id = the id returned here, tag = the caller's tag and count = times
 * fired. Time is data time in a backtest (ig_ctx_now_ns: a timer fires
 * when the data reaches it, before the event that passes it) and the wall
 * clock (CLOCK_REALTIME, Unix ns) live, checked at every event and at each
 * engine heartbeat (feed.heartbeat_ms), so live precision is the
 * heartbeat. A strategy that sets timers must have on_timer; on_timer
 * also receives the engine's heartbeat (timer_id 0). Timers fire in time
 * order; in a backtest a periodic timer fires once for every period the
 * data passes, live a period the clock skipped is not fired late.
 * At most IG_CTX_MAX_TIMERS per strategy; set them from on_start or a
 * callback (init is outside any callback).
 *
 * ig_ctx_timer_at: once, at ts_ns (Unix epoch ns). Returns the timer id
 * (> 0), or IG_ELIMIT (too many), IG_EINVAL (no on_timer), IG_ESTATE
 * (outside a callback).
 * ig_ctx_timer_every: every period_ms, first at now + period_ms. Same
 * returns; IG_EINVAL also for period_ms <= 0.
 * ig_ctx_timer_cancel: returns 0, or IG_ENOTFOUND.
 */
#define IG_CTX_MAX_TIMERS 16
int ig_ctx_timer_at(struct ig_strategy_ctx *ctx, int64_t ts_ns, uint64_t tag);
int ig_ctx_timer_every(struct ig_strategy_ctx *ctx, int64_t period_ms, uint64_t tag);
int ig_ctx_timer_cancel(struct ig_strategy_ctx *ctx, int timer_id);

/* Parameter helpers for init: store the value and return 0, return
 * IG_ENOTFOUND if absent (out untouched), or IG_ECONFIG with err set. */
int ig_param_i64(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		 size_t errlen);
int ig_param_fixed(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		   size_t errlen);
int ig_param_bool(const struct ig_cfg_strategy *cfg, const char *key, bool *out, char *err,
		  size_t errlen);
/* Copies a STRING param into out (outlen bytes, NUL-terminated); IG_ERANGE
 * with err set if it does not fit. */
int ig_param_str(const struct ig_cfg_strategy *cfg, const char *key, char *out, size_t outlen,
		 char *err, size_t errlen);
/* An ENUM param: stores the index of its value in the declaration's
 * choices ("a|b|c": a = 0). */
int ig_param_enum(const struct ig_cfg_strategy *cfg, const char *key, int *out, char *err,
		  size_t errlen);
/* With declared params the loader has already checked every value and
 * filled in every default, so these return IG_ENOTFOUND only for a key the
 * type does not declare. */

/* Logs a line through the async logger (formatted on the caller's thread
 * into a fixed buffer; never blocks). */
void ig_ctx_log(struct ig_strategy_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
