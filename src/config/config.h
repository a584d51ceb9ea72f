/*
 * config.h - the validated, immutable engine configuration.
 *
 * Design
 * ------
 * ig_config_load() parses a YAML file with libyaml into struct ig_config,
 * applies --set overrides (dotted paths, list items by index), and
 * validates everything. After load the struct is never written again: the
 * engine publishes it read-only (liburcu) and every thread may read it.
 * All storage is inline (fixed-size arrays and strings), so a config is one
 * flat block with no pointers to free.
 *
 * Errors read like a trace: "config/x.yaml:12:5: risk.max_order_qty: not a
 * decimal". Unknown keys, wrong types, bad values and missing required keys
 * are refused. Each strategy entry is resolved to its type (a built-in, or
 * the `plugin:` shared object, loaded then: src/strategy/registry.h) and its
 * params are checked against the type's declaration (struct ig_param_decl):
 * unknown keys, ill-typed or out-of-bounds values, enum values not among
 * the choices and missing required params are refused, and declared
 * defaults are filled in, so a strategy's init finds every param. Money values are decimal strings (or plain YAML numbers),
 * parsed exactly with ig_fixed_parse().
 *
 * struct ig_config and its ig_cfg_* members are a public value type:
 * every module reads their fields directly (read-only); nothing but the
 * loader (and tests) writes them.
 *
 * Owner: main thread builds it; read-only afterwards.
 */
#ifndef IG_CONFIG_CONFIG_H
#define IG_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"
#include "ingenium/strategy.h"
#include "ingenium/fixed.h"

#define IG_CFG_NAME_MAX 48
#define IG_CFG_PATH_MAX 256
#define IG_CFG_MAX_PARAMS 32
#define IG_CFG_MAX_SYMBOLS 8
#define IG_CFG_ERR_MAX 512

enum ig_threading {
	IG_THREADING_DEDICATED = 0,
	IG_THREADING_SHARED,
	IG_THREADING_INLINE,
};

/* feed.source holds an index in the feed-source registry (src/feed/feed.h,
 * ig_feed_find); these are the built-in sources' fixed slots. */
enum ig_feed_source {
	IG_FEED_CSV = 0,
	IG_FEED_SYNTHETIC,
	IG_FEED_LUNO,
};

/* venue.kind holds an index in the venue registry (src/exec/venue.h,
 * ig_venue_find); these are the built-in venues' fixed slots (the number
 * is part of the journal's account identity, so slots never move). */
enum ig_venue_kind {
	IG_VENUE_PAPER = 0,
	IG_VENUE_LUNO,
};

enum ig_journal_sync {
	IG_JOURNAL_SYNC_ORDER = 0,
	IG_JOURNAL_SYNC_BATCH,
};

enum ig_journal_recover {
	IG_RECOVER_AUTO = 0, /* on for live venues, off for paper */
	IG_RECOVER_ON,
	IG_RECOVER_OFF,
};

enum ig_mismatch_action {
	IG_MISMATCH_HALT = 0, /* a balance difference keeps trading closed */
	IG_MISMATCH_WARN,     /* report it and trade */
};

enum ig_breach_action {
	IG_BREACH_INHERIT = -1, /* per strategy: use the global risk.drawdown_action */
	IG_BREACH_REDUCING = 0,
	IG_BREACH_HALTED,
};

/* Defaults (ig_config_defaults): each is named once, here, next to its
 * field, and used by that name wherever code falls back to it. */
#define IG_CFG_DEFAULT_RING_SIZE 4096            /* engine.ring_size, slots */
#define IG_CFG_DEFAULT_STRATEGY_THREADS 1
#define IG_CFG_DEFAULT_WORKERS 1

struct ig_cfg_engine {
	int threading;            /* enum ig_threading; default dedicated */
	int wait;                 /* enum ig_wait_kind; default adaptive */
	uint32_t ring_size;       /* slots per ring, power of two; default IG_CFG_DEFAULT_RING_SIZE */
	uint32_t strategy_threads;/* default 1 */
	uint32_t workers;         /* shared mode: worker threads for strategy/OMS/exec; default 1 */
	bool tick_shares_worker;  /* shared mode: tick runs on worker 0 too; default false */
	bool cancel_on_stop;      /* a graceful stop cancels every open order first; default true */
	int cpu_tick;             /* CPU to pin the tick thread to, -1 = none */
	int cpu_oms;              /* -1 = none */
	int cpu_exec;             /* -1 = none */
	int cpu_strategy[IG_MAX_STRATEGY_THREADS]; /* -1 = none */
	int cpu_workers[IG_MAX_STRATEGY_THREADS];  /* shared mode; -1 = none */
};

#define IG_CFG_DEFAULT_HEARTBEAT_MS 1000         /* feed.heartbeat_ms (and the Luno status period) */
#define IG_CFG_DEFAULT_SYMBOL "XBTZAR"           /* feed.symbol */
#define IG_CFG_DEFAULT_SEED 1                    /* feed.seed */
#define IG_CFG_DEFAULT_COUNT 100000              /* feed.count, events */
#define IG_CFG_DEFAULT_START_PX IG_FIXED(100)    /* feed.start_px, 1e-8 */
#define IG_CFG_DEFAULT_TICK_SIZE (IG_FIXED_SCALE / 100) /* feed.tick_size, 1e-8: 0.01 */
#define IG_CFG_DEFAULT_SPREAD_BPS 10             /* feed.spread_bps */
#define IG_CFG_DEFAULT_QTY IG_FIXED(1)           /* feed.qty, 1e-8 */

#define IG_CFG_MAX_FEED_FILES 16   /* feed.path as a list */
#define IG_CFG_MAX_COLUMNS 20      /* feed.columns entries */
#define IG_CFG_COLKEY_MAX 12       /* a feed.columns key ("bid_qty") */
#define IG_CFG_TS_FORMAT_MAX 64    /* feed.ts_format */
#define IG_CFG_FROM_UNSET INT64_MIN /* feed.from not set: from the start */
#define IG_CFG_TO_UNSET INT64_MAX   /* feed.to not set: to the end */

/* feed.adjust */
enum ig_feed_adjust {
	IG_ADJUST_NONE = 0,
	IG_ADJUST_ADJ_CLOSE, /* bars: O/H/L/C scaled by adj_close / close per row */
};

/* One file of feed.path given as a list ({path, symbol}). */
struct ig_cfg_feed_file {
	char path[IG_CFG_PATH_MAX];   /* required */
	char symbol[IG_CFG_NAME_MAX]; /* "" = the file's symbol column (needs feed.symbols) */
	int line;                     /* where the entry starts (0 = --set) */
	int col;
};

/* One feed.columns entry: role key -> header name, where it was written. */
struct ig_cfg_feed_column {
	char key[IG_CFG_COLKEY_MAX];  /* ts, date, time, open, ..., symbol (checked at load) */
	char name[IG_CFG_NAME_MAX];   /* the header's column name (matched without case) */
	int line;                     /* 1-based position of the value; 0 = --set */
	int col;
};

/* feed.luno_endpoint: where feed.source luno gets its quotes. */
enum ig_luno_endpoint {
	IG_LUNO_EP_TICKER = 0,    /* REST GET /api/1/ticker every heartbeat (default) */
	IG_LUNO_EP_ORDERBOOK_TOP, /* REST GET /api/1/orderbook_top every heartbeat */
	IG_LUNO_EP_STREAM,        /* the websocket market stream (src/luno/luno_stream.h) */
};

struct ig_cfg_feed {
	int source;               /* feed-source registry index (enum ig_feed_source); required */
	char path[IG_CFG_PATH_MAX];/* csv: required */
	int64_t speed;            /* 0 = as fast as possible, 1 = real time, k = k x; default 0 */
	int64_t heartbeat_ms;     /* default IG_CFG_DEFAULT_HEARTBEAT_MS; 0 = no heartbeat */
	char symbol[IG_CFG_NAME_MAX]; /* default IG_CFG_DEFAULT_SYMBOL */
	bool strict;              /* refuse the run on a malformed row; default false */
	/* synthetic */
	uint64_t seed;            /* default 1 */
	int64_t rate;             /* events per second, 0 = as fast as possible; default 0 */
	int64_t count;            /* events to generate, 0 = unbounded; default IG_CFG_DEFAULT_COUNT */
	int64_t start_px;         /* 1e-8; default 100 */
	int64_t tick_size;        /* 1e-8; default 0.01 */
	int64_t spread_bps;       /* default 10 */
	int64_t qty;              /* displayed size per side, 1e-8; default 1 */
	int luno_endpoint;        /* luno: enum ig_luno_endpoint; default ticker */
	int64_t stream_timeout_ms; /* luno stream: silence that forces a resync; default
				    * IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS */
	/* csv (docs/backtesting.md, "Data") */
	struct ig_cfg_feed_file files[IG_CFG_MAX_FEED_FILES]; /* feed.path as a list; then path is "" */
	uint32_t nfiles;
	struct ig_cfg_feed_column columns[IG_CFG_MAX_COLUMNS]; /* feed.columns */
	uint32_t ncolumns;
	char ts_format[IG_CFG_TS_FORMAT_MAX]; /* "" = auto, unix_s|unix_ms|unix_us|unix_ns|iso8601,
					       * or a strftime pattern (has a '%') */
	int64_t from_ns;          /* feed.from, Unix ns, inclusive; IG_CFG_FROM_UNSET */
	int64_t to_ns;            /* feed.to, Unix ns, exclusive; IG_CFG_TO_UNSET */
	int adjust;               /* enum ig_feed_adjust; default none */
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX]; /* feed.symbols: a symbol column's symbols */
	uint32_t nsymbols;
};

/* venue.market_buy_ioc_bps default: a market buy goes to Luno as an IOC bid
 * at its reference price plus this, and the OMS reserves cash at that price. */
#define IG_CFG_MARKET_BUY_IOC_BPS 50
#define IG_CFG_DEFAULT_VENUE_BASE_URL "https://api.luno.com" /* venue.base_url */
/* Luno's market stream host: what an empty venue.stream_url means while
 * venue.base_url is the default (any other base_url gives its own host,
 * http -> ws, https -> wss: exchange-sim serves both on one port). */
#define IG_CFG_DEFAULT_STREAM_URL "wss://ws.luno.com"
#define IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS 30000 /* feed.stream_timeout_ms: Luno sends keep-alives */
#define IG_CFG_DEFAULT_KEY_ID_ENV "LUNO_API_KEY_ID"         /* venue.key_id_env */
#define IG_CFG_DEFAULT_SECRET_ENV "LUNO_API_KEY_SECRET"     /* venue.secret_env */
#define IG_CFG_DEFAULT_MAKER_FEE_BPS 0
#define IG_CFG_DEFAULT_TAKER_FEE_BPS 10
#define IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS 3000   /* venue.connect_timeout_ms */
#define IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS 15000 /* venue.stream_timeout_ms: a stream message
						  * (keep-alives count) within this, or unhealthy */
#define IG_CFG_DEFAULT_TIMEOUT_MS 10000          /* venue.timeout_ms, a whole request */
#define IG_CFG_DEFAULT_REQUESTS_PER_MIN 300      /* venue.requests_per_min: Luno's limit */
/* Backtest fills of the paper venue (docs/backtesting.md "Fills"). */
#define IG_CFG_DEFAULT_BAR_FILL IG_BAR_FILL_NEXT_OPEN /* venue.bar_fill */
#define IG_CFG_DEFAULT_MAX_VOLUME_PCT 0          /* venue.max_volume_pct, 1e-8 percent; 0 = unlimited */
#define IG_CFG_DEFAULT_FEE_PER_ORDER 0           /* venue.fee_per_order, 1e-8 quote */
#define IG_CFG_DEFAULT_MIN_FEE 0                 /* venue.min_fee, 1e-8 quote; 0 = none */
#define IG_CFG_DEFAULT_SLIPPAGE_BPS 0            /* venue.slippage_bps */
#define IG_CFG_SLIPPAGE_BPS_MAX 5000             /* venue.slippage_bps: at most half the price */
#define IG_CFG_DEFAULT_LATENCY_MS 0              /* venue.latency_ms, data time */
#define IG_CFG_LATENCY_MS_MAX INT64_C(86400000)  /* venue.latency_ms (and each venue.latency_from
						  * delay): at most one day */
#define IG_CFG_DEFAULT_LATENCY_SEED UINT64_C(0x1d6e5a17c0ffee01) /* venue.latency_seed */

/* venue.bar_fill: the price a market order decided on a bar fills at. */
enum ig_bar_fill {
	IG_BAR_FILL_NEXT_OPEN = 0, /* the next bar's open (default) */
	IG_BAR_FILL_CLOSE,         /* the deciding bar's close, on arrival */
};

struct ig_cfg_venue {
	int kind;                 /* venue registry index (enum ig_venue_kind); default paper */
	char base_url[IG_CFG_PATH_MAX]; /* default IG_CFG_DEFAULT_VENUE_BASE_URL */
	char stream_url[IG_CFG_PATH_MAX]; /* ws(s)://host[:port][/prefix]; "" = from base_url */
	char key_id_env[IG_CFG_NAME_MAX];   /* default IG_CFG_DEFAULT_KEY_ID_ENV */
	char secret_env[IG_CFG_NAME_MAX];   /* default IG_CFG_DEFAULT_SECRET_ENV */
	int64_t maker_fee_bps;    /* default 0 */
	int64_t taker_fee_bps;    /* default 10 */
	int64_t connect_timeout_ms; /* default IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS */
	int64_t timeout_ms;         /* default IG_CFG_DEFAULT_TIMEOUT_MS */
	int64_t status_ms;          /* order status / fills poll period; 0 = feed.heartbeat_ms */
	int64_t requests_per_min;   /* the one request budget of every call; default IG_CFG_DEFAULT_REQUESTS_PER_MIN */
	int64_t price_scale;        /* decimals of prices; -1 = from /api/exchange/1/markets */
	int64_t volume_scale;       /* decimals of volumes; -1 = from the markets endpoint */
	int64_t in_doubt_window_ms; /* "not found" is final only this long after a send; -1 = timeout_ms + 2000 */
	bool user_stream;           /* luno: the user stream triggers the REST reads (default false) */
	int64_t stream_timeout_ms;  /* user stream health; default IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS */
	int64_t market_buy_ioc_bps; /* market BUY as a BID IOC at ref + bps; -1 = marketorder by counter_volume;
				     * default IG_CFG_MARKET_BUY_IOC_BPS; the OMS reserves at that price */
	/* The paper venue's fills (docs/backtesting.md "Fills"). */
	int bar_fill;               /* enum ig_bar_fill; default IG_CFG_DEFAULT_BAR_FILL */
	int64_t max_volume_pct;     /* 1e-8 percent of a bar's volume per order; 0 = unlimited */
	int64_t fee_per_order;      /* 1e-8 quote, on each order's first fill */
	int64_t min_fee;            /* 1e-8 quote, the least fee of a fill; 0 = none */
	int64_t slippage_bps;       /* market and stop fills, against the trader */
	int64_t latency_ms;         /* fixed order delay in data time; default IG_CFG_DEFAULT_LATENCY_MS */
	char latency_from[IG_CFG_PATH_MAX]; /* summary.json of a live run: replay its
					     * venue.round_trip_ns; "" = none */
	uint64_t latency_seed;      /* PRNG seed of latency_from draws; default IG_CFG_DEFAULT_LATENCY_SEED */
};

/* Risk limits. A field equal to IG_RISK_UNSET is "no limit" (global) or
 * "inherit the global value" (per strategy). Money is 1e-8. */
#define IG_RISK_UNSET INT64_MIN
struct ig_cfg_risk {
	int64_t max_order_qty;
	int64_t max_order_notional;
	int64_t max_position_qty;
	int64_t max_open_orders;
	int64_t max_orders_per_sec;
	int64_t price_collar_bps;
	int64_t stale_data_ms;
	int64_t daily_loss_limit;
	int64_t max_drawdown_pct;  /* percent, 1e-8 fixed (e.g. "5" = 5%) */
	int64_t duplicate_window_ms;
	int64_t tax_rate_pct;      /* percent, 1e-8 fixed, on realized gains */
	int drawdown_action;       /* enum ig_breach_action; global default reducing, per strategy inherit */
};

struct ig_cfg_param {
	char key[IG_CFG_NAME_MAX];
	char value[IG_PARAM_STR_MAX]; /* scalar text as written (or the declared default) */
	int line;                  /* 1-based, for error messages; 0 = set by --set */
	int col;
	bool is_default;           /* filled in from the type's declaration (line:col = the entry) */
};

#define IG_CFG_DEFAULT_CAPITAL IG_FIXED(100000)   /* strategies[].capital, 1e-8 */

struct ig_cfg_strategy {
	char name[IG_CFG_NAME_MAX];    /* required, unique */
	char type[IG_CFG_NAME_MAX];    /* required: a built-in type, or the plugin's type */
	char plugin[IG_CFG_PATH_MAX];  /* `plugin:` as written; "" = a built-in type */
	char plugin_path[IG_CFG_PATH_MAX]; /* plugin resolved against the config file's directory */
	uint32_t thread;               /* strategy thread index; default 0 */
	char symbols[IG_CFG_MAX_SYMBOLS][IG_CFG_NAME_MAX]; /* default [feed.symbol] */
	uint32_t nsymbols;
	int64_t capital;               /* starting cash, 1e-8; default IG_CFG_DEFAULT_CAPITAL */
	struct ig_cfg_param params[IG_CFG_MAX_PARAMS];
	uint32_t nparams;
	struct ig_cfg_risk risk;       /* overrides; IG_RISK_UNSET = inherit */
	int line;                      /* where the entry starts in the file */
	int col;
	uint32_t index;                /* position in ig_config.strategies[], for messages */
};

#define IG_CFG_DEFAULT_JOURNAL_PATH "var/ingenium.journal"
#define IG_CFG_DEFAULT_BATCH_MS 1
#define IG_CFG_DEFAULT_BATCH_RECORDS 64
#define IG_CFG_DEFAULT_FLUSH_MS 100
#define IG_CFG_DEFAULT_ROTATE_BYTES (INT64_C(64) << 20)
#define IG_CFG_DEFAULT_COMPACT_BYTES (INT64_C(256) << 20)
#define IG_CFG_DEFAULT_RECONCILE_TIMEOUT_MS 15000

struct ig_cfg_journal {
	char path[IG_CFG_PATH_MAX];    /* default IG_CFG_DEFAULT_JOURNAL_PATH */
	int sync;                      /* enum ig_journal_sync; default order */
	bool enabled;                  /* default false: the paper demo runs without one */
	int recover;                   /* enum ig_journal_recover; default auto */
	int64_t batch_ms;              /* sync: batch, group commit every N ms; default 1 */
	int64_t batch_records;         /* ... or every N records; default 64 */
	int64_t flush_ms;              /* other records reach the disk within N ms; default 100 */
	int64_t rotate_bytes;          /* new segment beyond this; default 64 MiB; 0 never */
	int64_t compact_bytes;         /* compact at start beyond this; default 256 MiB; 0 never */
	int64_t reconcile_timeout_ms;  /* report a failed reconciliation after; default IG_CFG_DEFAULT_RECONCILE_TIMEOUT_MS */
	int on_mismatch;               /* enum ig_mismatch_action; default halt */
	int64_t balance_tolerance;     /* differences up to this are not reported, 1e-8; default 0 */
};

/* Backtest reports (src/report/, docs/backtesting.md, "Reports"). */
#define IG_CFG_DEFAULT_EQUITY_EVERY_S 60   /* report.equity_every_s: tick data, one sample per N s of data time */
#define IG_CFG_DEFAULT_ANNUAL_DAYS 365     /* report.annual_days: 365 crypto, 252 stocks */
#define IG_CFG_DEFAULT_CHART_POINTS 1000   /* report.chart_points: points per HTML curve */

struct ig_cfg_report {
	int64_t equity_every_s;   /* tick data: at most one equity sample per N s (0 = every mark); bars: every bar */
	int64_t annual_days;      /* periods (days) per year for annualisation; default IG_CFG_DEFAULT_ANNUAL_DAYS */
	int64_t risk_free_pct;    /* annual risk-free rate, percent 1e-8; default 0 */
	int64_t chart_points;     /* bound on the points of each HTML curve; default IG_CFG_DEFAULT_CHART_POINTS */
};

/* The history store (src/store/, docs/architecture.md "History store"). */
enum ig_store_kind {
	IG_STORE_AUTO = 0,  /* not set: sqlite for `run`, off for `backtest` and `sweep` */
	IG_STORE_SQLITE,
	IG_STORE_POSTGRES,
	IG_STORE_OFF,
};
#define IG_CFG_DEFAULT_STORE_KIND IG_STORE_AUTO
#define IG_CFG_DEFAULT_STORE_PATH "var/history.sqlite"    /* store.path (sqlite) */
#define IG_CFG_DEFAULT_STORE_URL_ENV "INGENIUM_PG_URL"     /* store.url_env (postgres) */
#define IG_CFG_DEFAULT_STORE_EQUITY_EVERY_S 60             /* store.equity_every_s, data time */

struct ig_cfg_store {
	int kind;                         /* enum ig_store_kind; default IG_CFG_DEFAULT_STORE_KIND */
	char path[IG_CFG_PATH_MAX];       /* the SQLite file; default IG_CFG_DEFAULT_STORE_PATH */
	char url_env[IG_CFG_NAME_MAX];    /* the variable holding the PostgreSQL URL (never the
					   * URL itself); default IG_CFG_DEFAULT_STORE_URL_ENV */
	char daemon_id[IG_CFG_NAME_MAX];  /* default: the config file's base name without
					   * its extension ("ingenium" for config/ingenium.yaml) */
	int64_t equity_every_s;           /* one equity row per strategy per N s of data time;
					   * default IG_CFG_DEFAULT_STORE_EQUITY_EVERY_S; 0 = none */
};

/* The HTTP status API (src/api/, docs/api.md); off unless listen is set. */
#define IG_CFG_DEFAULT_API_TOKEN_ENV "INGENIUM_API_TOKEN" /* api.token_env */
#define IG_CFG_DEFAULT_API_PUBLISH_MS 100                 /* api.publish_ms */
#define IG_CFG_API_LISTEN_MAX 64                          /* api.listen text */

struct ig_cfg_api {
	char listen[IG_CFG_API_LISTEN_MAX]; /* "ADDR:PORT" (IPv4, or [IPv6]:PORT); "" = off */
	char token_env[IG_CFG_NAME_MAX];    /* the variable holding the bearer token;
					     * default IG_CFG_DEFAULT_API_TOKEN_ENV */
	int64_t publish_ms;                 /* snapshot period, wall time; default
					     * IG_CFG_DEFAULT_API_PUBLISH_MS */
	char tls_cert[IG_CFG_PATH_MAX];     /* PEM files; both or neither */
	char tls_key[IG_CFG_PATH_MAX];
	bool allow_plain_remote;            /* a non-loopback address without TLS; default false */
};

/* Parses api.listen ("127.0.0.1:8080", "[::1]:8080"; numeric addresses
 * only) into *addr (struct sockaddr_in or sockaddr_in6, addr_cap bytes at
 * least sizeof(struct sockaddr_in6)), its length into *addr_len, whether it
 * is a loopback address into *loopback. Returns NULL, or the problem. */
const char *ig_config_api_addr(const char *listen, void *addr, size_t addr_cap,
			       uint32_t *addr_len, bool *loopback);

struct ig_config {
	char file[IG_CFG_PATH_MAX];    /* the path it was loaded from */
	struct ig_cfg_engine engine;
	struct ig_cfg_feed feed;
	struct ig_cfg_venue venue;
	struct ig_cfg_risk risk;
	struct ig_cfg_journal journal;
	struct ig_cfg_report report;
	struct ig_cfg_api api;
	struct ig_cfg_store store;
	struct ig_cfg_strategy strategies[IG_MAX_STRATEGIES];
	uint32_t nstrategies;
};

/* The store kind a command uses: kind as set, or (IG_STORE_AUTO) sqlite
 * when live is true (`run`), off otherwise (`backtest`, `sweep`). Returns
 * IG_STORE_SQLITE, IG_STORE_POSTGRES or IG_STORE_OFF. */
int ig_config_store_kind(const struct ig_config *cfg, bool live);

/* One --set KEY=VALUE override. */
struct ig_cfg_override {
	const char *key;   /* dotted path, e.g. "strategies.0.params.fast" */
	const char *value; /* scalar text */
};

/* Fills cfg with defaults (no strategies, feed.source unset). */
void ig_config_defaults(struct ig_config *cfg);

/*
 * Loads path into cfg, applies the overrides in order, validates.
 * Returns 0, or:
 *   IG_ENOENT / IG_EIO  the file is missing or unreadable (exit 2)
 *   IG_ECONFIG          invalid content (exit 1)
 * On error err (capacity errlen) holds "file:line:col: key: message"; for
 * an override the location is "--set KEY". cfg is then unspecified.
 * Main thread only (libyaml parser state is local).
 */
int ig_config_load(struct ig_config *cfg, const char *path,
		   const struct ig_cfg_override *ovr, size_t novr, char *err, size_t errlen);

/* Validates an already-filled cfg (called by load). Returns 0 or
 * IG_ECONFIG with err set. */
int ig_config_validate(const struct ig_config *cfg, char *err, size_t errlen);

/* Strategy parameter access for strategy init. Each returns 0 and stores
 * the value, IG_ENOTFOUND if the key is absent (out keeps its default), or
 * IG_ECONFIG with err = "file:line:col: strategies.N.params.KEY: ..." when
 * the value has the wrong type.
 *
 * ig_param_i64/_fixed/_bool (strategy.h) cannot see the file name, so they
 * write "LINE:COL: strategies.N.params.KEY: MESSAGE" and the caller prefixes
 * "FILE:" (cfg->file) to get the full form above. A param that came from
 * --set (line 0) gets the complete "--set strategies.N.params.KEY: MESSAGE",
 * which needs no prefix.
 *
 * ig_config_param returns the param named key, or NULL. */
const struct ig_cfg_param *ig_config_param(const struct ig_cfg_strategy *s, const char *key);

/* Turns new param values for strategy s (keys[i] = values[i] as text, n
 * of them) into the IG_CTL_PARAMS body *out (event.h): each key must be a
 * param its type declares, each value valid for the declaration (the
 * rules of the loader), and its kind one that can change while running
 * (not STRING). Returns 0; IG_ESTATE if the type has no on_params (it
 * takes no live changes); IG_ELIMIT if n is 0 or over IG_PARAMS_MAX or a
 * key repeats; IG_ECONFIG for a bad key or value; err gets
 * "params.KEY: message". Pure; any thread. */
struct ig_params_change;
int ig_config_params_change(const struct ig_cfg_strategy *s, const char *const *keys,
			    const char *const *values, size_t n, struct ig_params_change *out,
			    char *err, size_t errlen);

/* cfg as JSON (a json_t *, jansson): every key of the schema by its YAML
 * name, defaults filled in, each section an object (strategies an array,
 * feed.files/columns/symbols and each strategy's symbols, params and risk
 * overrides included); an unset limit (IG_RISK_UNSET) or feed.from/to is
 * null, money a decimal string, a u64 a decimal string, feed.from/to as
 * from_ns/to_ns. cfg holds no secret (only the names of the variables
 * holding them), so nothing is redacted here. New reference or NULL (out
 * of memory). */
struct json_t;
struct json_t *ig_config_json(const struct ig_config *cfg);

/* The kind's name as `ingenium strategies` prints it ("int", "decimal",
 * "bool", "string", "enum"). */
const char *ig_param_kind_name(enum ig_param_kind kind);

/* Module-internal (src/config/ only): shared by config.c and params.c. */

/* Parses a decimal integer (optional sign, digits; no spaces, no exponent).
 * Returns 0, IG_ESYNTAX or IG_ERANGE; *out is untouched on error. */
int ig__config_parse_i64(const char *s, size_t len, int64_t *out);

/* Parses true|false|yes|no|on|off (any case). Returns 0 or IG_ESYNTAX. */
int ig__config_parse_bool(const char *s, bool *out);

/* The index of value among choices ("a|b|c": a = 0), or -1. */
int ig__param_choice(const char *choices, const char *value);

/* Checks value (text) against declaration d: its kind, bounds, choices.
 * Returns 0, or IG_ECONFIG with the reason (no location) in msg. */
int ig__param_check(const struct ig_param_decl *d, const char *value, char *msg, size_t cap);

/* The message phrase for a failed parse: "not an integer", "not a decimal"
 * (fixed), "too many decimals" or "out of range". */
const char *ig__config_parse_problem(int rc, bool fixed);

#endif
