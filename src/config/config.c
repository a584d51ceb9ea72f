/*
 * config.c - the YAML config loader, --set overrides and validation.
 *
 * Design
 * ------
 * The file is read with libyaml's document API (yaml_parser_load), so every
 * node carries its start mark; marks are 0-based and printed 1-based. The
 * schema is a set of constant tables: one per flat section (engine, feed,
 * venue, journal), one for a risk block (used by the global section and by
 * each strategy's overrides) and one for the scalar keys of a strategy
 * entry. A table row names the key, its type, its range and where it lives.
 *
 * Every value, from the file or from --set, goes through one function,
 * apply_scalar(): it resolves a path (the dotted key split into components)
 * against the schema, parses the text and stores it. The YAML walker only
 * checks shape (mapping / sequence / scalar, unknown and duplicate keys) and
 * calls apply_scalar() on each scalar leaf, so a value is validated the same
 * way whichever way it arrives.
 *
 * Order: defaults, file, overrides (in order), default symbols
 * ([feed.symbol] for a strategy with none), then cross-field validation.
 * The loader remembers where the values validation cares about were last
 * set (struct marks), so a cross-field error points at the file position or
 * names the --set that caused it.
 *
 * Errors are "FILE:LINE:COL: KEY: MESSAGE" or "--set KEY: MESSAGE". A bad
 * value points at the value, an unknown or duplicate key at the key, a
 * missing key at the enclosing mapping. The loader stops at the first error.
 *
 * Lists: strategies can only be created by the file; an override must name
 * an existing index. A strategy's symbols may be extended by one past the
 * end (strategies.N.symbols.K with K == count), so a strategy that had no
 * symbols in the file can be given some from the command line. Params are
 * keyed: setting an absent one adds it.
 *
 * No allocation beyond libyaml's own document, which is freed before
 * returning. Main thread only.
 */
#include "config/config.h"

#include "core/wait.h"
#include "strategy/registry.h"
#include "exec/venue.h"
#include "feed/feed.h"
#include "luno/luno_ws.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <yaml.h>
#include <jansson.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define MAX_DEPTH 8               /* path components; the schema needs 5 */
#define KEY_MAX 256               /* a dotted key in a message */
#define SHOW_MAX 64               /* value characters quoted in a message */
#define CPU_MAX 1023              /* highest CPU number a pin may name */
#define RING_MAX (UINT32_C(1) << 30)
#define MS_MAX (INT64_MAX / 1000000) /* milliseconds that still fit in ns */
#define BPS_MAX 10000

/* A value quoted in a message: at most SHOW_MAX characters, then "...". */
#define SHOW_FMT "\"%.*s%s\""
#define SHOW(v, len) (int)((len) > SHOW_MAX ? SHOW_MAX : (len)), (v), ((len) > SHOW_MAX ? "..." : "")

enum ftype {
	FT_INT,   /* int (CPU pins) */
	FT_I64,   /* int64_t */
	FT_U32,   /* uint32_t */
	FT_U64,   /* uint64_t, full range */
	FT_FIXED, /* int64_t fixed-point 1e-8 */
	FT_BOOL,  /* bool */
	FT_STR,   /* char[size] */
	FT_ENUM,  /* int holding an enum value */
	FT_CPUS,  /* int[IG_MAX_STRATEGY_THREADS]: a sequence of CPU pins */
	FT_TIME,  /* int64_t Unix ns from an ISO 8601 date or date-time */
};

#define F_POW2 1u     /* a power of two >= 2 */
#define F_NONEMPTY 2u /* a string that must not be empty */
#define F_NO_ECHO 4u  /* a bad value is not repeated in the error (it may hold a credential) */

/* One key of the schema. Owner: constant tables. */
struct field {
	const char *name;          /* the YAML key */
	enum ftype type;
	size_t off;                /* offset in the struct that holds it */
	size_t size;               /* sizeof the member (FT_STR: buffer size) */
	int64_t min;               /* integer / fixed (1e-8) range, inclusive */
	int64_t max;
	const char *const *names;  /* FT_ENUM: names indexed by value, NULL-ended */
	int (*parse)(const char *s); /* FT_ENUM: optional parser, else names */
	const char *(*name_at)(int i); /* FT_ENUM: a registry's names (NULL past the end),
					* instead of names */
	unsigned flags;            /* F_* */
	/* FT_STR: optional check of the value; returns NULL or the problem */
	const char *(*check)(const char *s);
};

#define FIELD(st, m, t) \
	.name = #m, .type = (t), .off = offsetof(struct st, m), .size = sizeof(((struct st *)0)->m)

static const char *const threading_names[] = { "dedicated", "shared", "inline", NULL };
static const char *const wait_names[] = { "spin", "yield", "adaptive", NULL };
static const char *const sync_names[] = { "order", "batch", NULL };
static const char *const breach_names[] = { "reducing", "halted", NULL };
static const char *const recover_names[] = { "auto", "on", "off", NULL };
static const char *const mismatch_names[] = { "halt", "warn", NULL };
static const char *const endpoint_names[] = { "ticker", "orderbook_top", "stream", NULL };
_Static_assert(IG_LUNO_EP_STREAM == 2, "endpoint_names follows enum ig_luno_endpoint");
static const char *const bar_fill_names[] = { "next_open", "close", NULL };
static const char *const adjust_names[] = { "none", "adj_close", NULL };
static const char *const store_kind_names[] = { "auto", "sqlite", "postgres", "off", NULL };
_Static_assert(IG_STORE_OFF == 3, "store_kind_names follows enum ig_store_kind");
_Static_assert(IG_ADJUST_ADJ_CLOSE == 1, "adjust_names follows enum ig_feed_adjust");

_Static_assert(IG_THREADING_INLINE == 2, "threading_names follows enum ig_threading");
_Static_assert(IG_WAIT_ADAPTIVE == 2, "wait_names follows enum ig_wait_kind");
_Static_assert(IG_JOURNAL_SYNC_BATCH == 1, "sync_names follows enum ig_journal_sync");
_Static_assert(IG_BREACH_HALTED == 1, "breach_names follows enum ig_breach_action");
_Static_assert(IG_RECOVER_OFF == 2, "recover_names follows enum ig_journal_recover");
_Static_assert(IG_MISMATCH_WARN == 1, "mismatch_names follows enum ig_mismatch_action");
_Static_assert(IG_BAR_FILL_CLOSE == 1, "bar_fill_names follows enum ig_bar_fill");

static const struct field engine_fields[] = {
	{ FIELD(ig_cfg_engine, threading, FT_ENUM), .names = threading_names },
	{ FIELD(ig_cfg_engine, wait, FT_ENUM), .names = wait_names, .parse = ig_wait_parse },
	{ FIELD(ig_cfg_engine, ring_size, FT_U32), .min = 2, .max = RING_MAX, .flags = F_POW2 },
	{ FIELD(ig_cfg_engine, strategy_threads, FT_U32), .min = 1, .max = IG_MAX_STRATEGY_THREADS },
	{ FIELD(ig_cfg_engine, workers, FT_U32), .min = 1, .max = IG_MAX_STRATEGY_THREADS },
	{ FIELD(ig_cfg_engine, tick_shares_worker, FT_BOOL) },
	{ FIELD(ig_cfg_engine, cancel_on_stop, FT_BOOL) },
	{ FIELD(ig_cfg_engine, cpu_tick, FT_INT), .min = -1, .max = CPU_MAX },
	{ FIELD(ig_cfg_engine, cpu_oms, FT_INT), .min = -1, .max = CPU_MAX },
	{ FIELD(ig_cfg_engine, cpu_exec, FT_INT), .min = -1, .max = CPU_MAX },
	{ FIELD(ig_cfg_engine, cpu_strategy, FT_CPUS), .min = -1, .max = CPU_MAX },
	{ FIELD(ig_cfg_engine, cpu_workers, FT_CPUS), .min = -1, .max = CPU_MAX },
};

static const struct field feed_fields[] = {
	/* The feed-source and venue registries (feed.h, venue.h) know the names. */
	{ FIELD(ig_cfg_feed, source, FT_ENUM), .parse = ig_feed_index, .name_at = ig_feed_name_at },
	{ FIELD(ig_cfg_feed, path, FT_STR) },
	{ FIELD(ig_cfg_feed, speed, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, heartbeat_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_feed, symbol, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_feed, strict, FT_BOOL) },
	{ FIELD(ig_cfg_feed, seed, FT_U64) },
	{ FIELD(ig_cfg_feed, rate, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, count, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, start_px, FT_FIXED), .min = 1, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, tick_size, FT_FIXED), .min = 1, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, spread_bps, FT_I64), .min = 0, .max = BPS_MAX },
	{ FIELD(ig_cfg_feed, qty, FT_FIXED), .min = 1, .max = INT64_MAX },
	{ FIELD(ig_cfg_feed, luno_endpoint, FT_ENUM), .names = endpoint_names },
	{ FIELD(ig_cfg_feed, stream_timeout_ms, FT_I64), .min = 1, .max = MS_MAX },
	{ FIELD(ig_cfg_feed, ts_format, FT_STR), .check = ig_feed_ts_format_problem },
	{ .name = "from", .type = FT_TIME, .off = offsetof(struct ig_cfg_feed, from_ns),
	  .size = sizeof(int64_t) },
	{ .name = "to", .type = FT_TIME, .off = offsetof(struct ig_cfg_feed, to_ns),
	  .size = sizeof(int64_t) },
	{ FIELD(ig_cfg_feed, adjust, FT_ENUM), .names = adjust_names },
	/* path (a scalar or a list of {path, symbol}), columns and symbols are
	 * resolved by resolve_feed() */
};

static const struct field venue_fields[] = {
	{ FIELD(ig_cfg_venue, kind, FT_ENUM), .parse = ig_venue_index, .name_at = ig_venue_name_at },
	{ FIELD(ig_cfg_venue, base_url, FT_STR) },
	{ FIELD(ig_cfg_venue, stream_url, FT_STR), .check = ig_luno_ws_url_problem, .flags = F_NO_ECHO },
	{ FIELD(ig_cfg_venue, key_id_env, FT_STR) },
	{ FIELD(ig_cfg_venue, secret_env, FT_STR) },
	{ FIELD(ig_cfg_venue, maker_fee_bps, FT_I64), .min = -BPS_MAX, .max = BPS_MAX },
	{ FIELD(ig_cfg_venue, taker_fee_bps, FT_I64), .min = -BPS_MAX, .max = BPS_MAX },
	{ FIELD(ig_cfg_venue, connect_timeout_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_venue, timeout_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_venue, status_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_venue, requests_per_min, FT_I64), .min = 1, .max = 100000 },
	{ FIELD(ig_cfg_venue, price_scale, FT_I64), .min = -1, .max = 8 },
	{ FIELD(ig_cfg_venue, volume_scale, FT_I64), .min = -1, .max = 8 },
	{ FIELD(ig_cfg_venue, in_doubt_window_ms, FT_I64), .min = -1, .max = MS_MAX },
	{ FIELD(ig_cfg_venue, market_buy_ioc_bps, FT_I64), .min = -1, .max = BPS_MAX },
	{ FIELD(ig_cfg_venue, user_stream, FT_BOOL) },
	{ FIELD(ig_cfg_venue, stream_timeout_ms, FT_I64), .min = 1000, .max = MS_MAX },
	{ FIELD(ig_cfg_venue, bar_fill, FT_ENUM), .names = bar_fill_names },
	{ FIELD(ig_cfg_venue, max_volume_pct, FT_FIXED), .min = 0, .max = IG_FIXED(100) },
	{ FIELD(ig_cfg_venue, fee_per_order, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_venue, min_fee, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_venue, slippage_bps, FT_I64), .min = 0, .max = IG_CFG_SLIPPAGE_BPS_MAX },
	{ FIELD(ig_cfg_venue, latency_ms, FT_I64), .min = 0, .max = IG_CFG_LATENCY_MS_MAX },
	{ FIELD(ig_cfg_venue, latency_from, FT_STR) },
	{ FIELD(ig_cfg_venue, latency_seed, FT_U64) },
};

static const struct field risk_fields[] = {
	{ FIELD(ig_cfg_risk, max_order_qty, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, max_order_notional, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, max_position_qty, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, max_open_orders, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, max_orders_per_sec, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, price_collar_bps, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, stale_data_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_risk, daily_loss_limit, FT_FIXED), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_risk, max_drawdown_pct, FT_FIXED), .min = 0, .max = IG_FIXED(100) },
	{ FIELD(ig_cfg_risk, duplicate_window_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_risk, tax_rate_pct, FT_FIXED), .min = 0, .max = IG_FIXED(100) },
	{ FIELD(ig_cfg_risk, drawdown_action, FT_ENUM), .names = breach_names },
};

static const struct field journal_fields[] = {
	{ FIELD(ig_cfg_journal, path, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_journal, sync, FT_ENUM), .names = sync_names },
	{ FIELD(ig_cfg_journal, enabled, FT_BOOL) },
	{ FIELD(ig_cfg_journal, recover, FT_ENUM), .names = recover_names },
	{ FIELD(ig_cfg_journal, batch_ms, FT_I64), .min = 0, .max = 60000 },
	{ FIELD(ig_cfg_journal, batch_records, FT_I64), .min = 1, .max = 1000000 },
	{ FIELD(ig_cfg_journal, flush_ms, FT_I64), .min = 0, .max = 60000 },
	{ FIELD(ig_cfg_journal, rotate_bytes, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_journal, compact_bytes, FT_I64), .min = 0, .max = INT64_MAX },
	{ FIELD(ig_cfg_journal, reconcile_timeout_ms, FT_I64), .min = 0, .max = MS_MAX },
	{ FIELD(ig_cfg_journal, on_mismatch, FT_ENUM), .names = mismatch_names },
	{ FIELD(ig_cfg_journal, balance_tolerance, FT_FIXED), .min = 0, .max = INT64_MAX },
};

static const struct field report_fields[] = {
	{ FIELD(ig_cfg_report, equity_every_s, FT_I64), .min = 0, .max = INT64_C(86400) * 366 },
	{ FIELD(ig_cfg_report, annual_days, FT_I64), .min = 1, .max = 366 },
	{ FIELD(ig_cfg_report, risk_free_pct, FT_FIXED), .min = 0, .max = IG_FIXED(100) },
	{ FIELD(ig_cfg_report, chart_points, FT_I64), .min = 16, .max = 100000 },
};

static const struct field store_fields[] = {
	{ FIELD(ig_cfg_store, kind, FT_ENUM), .names = store_kind_names },
	{ FIELD(ig_cfg_store, path, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_store, url_env, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_store, daemon_id, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_store, equity_every_s, FT_I64), .min = 0, .max = INT64_C(86400) * 366 },
};

/* api.listen's check: a numeric address and a port. */
static const char *api_listen_problem(const char *s)
{
	struct sockaddr_in6 sa;
	uint32_t len;
	bool lo;

	if (s[0] == '\0')
		return NULL; /* off */
	return ig_config_api_addr(s, &sa, sizeof(sa), &len, &lo);
}

static const struct field api_fields[] = {
	{ FIELD(ig_cfg_api, listen, FT_STR), .check = api_listen_problem },
	{ FIELD(ig_cfg_api, token_env, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_api, publish_ms, FT_I64), .min = 1, .max = 60000 },
	{ FIELD(ig_cfg_api, tls_cert, FT_STR) },
	{ FIELD(ig_cfg_api, tls_key, FT_STR) },
	{ FIELD(ig_cfg_api, allow_plain_remote, FT_BOOL) },
};

const char *ig_config_api_addr(const char *listen, void *addr, size_t addr_cap,
			       uint32_t *addr_len, bool *loopback)
{
	char host[IG_CFG_API_LISTEN_MAX];
	const char *colon, *h = listen;
	size_t hlen;
	char *end;
	unsigned long port;

	if (listen == NULL || addr_cap < sizeof(struct sockaddr_in6))
		return "no address";
	colon = strrchr(listen, ':');
	if (colon == NULL || colon == listen)
		return "expected ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)";
	hlen = (size_t)(colon - listen);
	if (listen[0] == '[') {
		if (hlen < 2 || listen[hlen - 1] != ']')
			return "expected [IPv6]:PORT";
		h = listen + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return "expected ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8080)";
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port > 65535)
		return "the port is not a number in 0..65535";
	memset(addr, 0, addr_cap);
	if (listen[0] != '[') {
		struct sockaddr_in *a4 = addr;
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return "not a numeric IPv4 address (write [ADDR]:PORT for IPv6; no host names)";
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*addr_len = (uint32_t)sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	} else {
		struct sockaddr_in6 *a6 = addr;
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return "not a numeric IPv6 address";
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*addr_len = (uint32_t)sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	}
	return NULL;
}

/* The scalar keys of a strategy entry; symbols, params and risk are
 * containers handled in resolve_strategy(). */
static const struct field strategy_fields[] = {
	{ FIELD(ig_cfg_strategy, name, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_strategy, type, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_strategy, plugin, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_strategy, thread, FT_U32), .min = 0, .max = IG_MAX_STRATEGY_THREADS - 1 },
	{ FIELD(ig_cfg_strategy, capital, FT_FIXED), .min = 0, .max = INT64_MAX },
};

/* A top-level section that is one flat struct. */
struct section {
	const char *name;
	const struct field *fields;
	size_t nfields;
	size_t off;                /* offset of the section in struct ig_config */
};

static const struct section sections[] = {
	{ "engine", engine_fields, NELEM(engine_fields), offsetof(struct ig_config, engine) },
	{ "feed", feed_fields, NELEM(feed_fields), offsetof(struct ig_config, feed) },
	{ "venue", venue_fields, NELEM(venue_fields), offsetof(struct ig_config, venue) },
	{ "risk", risk_fields, NELEM(risk_fields), offsetof(struct ig_config, risk) },
	{ "journal", journal_fields, NELEM(journal_fields), offsetof(struct ig_config, journal) },
	{ "report", report_fields, NELEM(report_fields), offsetof(struct ig_config, report) },
	{ "api", api_fields, NELEM(api_fields), offsetof(struct ig_config, api) },
	{ "store", store_fields, NELEM(store_fields), offsetof(struct ig_config, store) },
};

/* Where a value came from: a file position (1-based) or a --set key. */
struct where {
	int line;
	int col;
	const char *set_key;       /* non-NULL: from --set, the key as given */
};

/* Error sink. */
struct errctx {
	const char *file;
	char *err;
	size_t errlen;
};

/* Where the values cross-field validation reports on were last set. A mark
 * with line 0 and no set_key is unknown. */
struct marks {
	struct where root;                       /* the document's root mapping */
	struct where feed;                       /* the feed mapping, else root */
	struct where name[IG_MAX_STRATEGIES];    /* strategies.N.name */
	struct where thread[IG_MAX_STRATEGIES];  /* strategies.N.thread */
	struct where type[IG_MAX_STRATEGIES];    /* strategies.N.type (its key) */
	struct where plugin[IG_MAX_STRATEGIES];  /* strategies.N.plugin (its key) */
	struct where params[IG_MAX_STRATEGIES];  /* strategies.N.params (its key), else the entry */
};

/* Loader state for one ig_config_load() call. Owner: the calling thread. */
struct loader {
	struct ig_config *cfg;
	struct errctx ec;
	struct marks m;
	yaml_document_t *doc;
	char idx[MAX_DEPTH][24];   /* text of index components, by depth */
};

/* What a path names. */
enum shape {
	SH_SCALAR,   /* a leaf */
	SH_MAP,      /* a mapping */
	SH_SEQ,      /* a sequence of scalars */
	SH_SEQ_MAP,  /* a sequence of mappings (strategies) */
};

enum leaf {
	LEAF_FIELD,  /* a schema field at p */
	LEAF_SYMBOL, /* s->symbols[item] (item may equal nsymbols: append) */
	LEAF_PARAM,  /* s->params entry named key */
	LEAF_COLUMN, /* cfg->feed.columns entry named key */
	LEAF_FEED_SYMBOL, /* cfg->feed.symbols[item] (item may equal nsymbols: append) */
};

struct target {
	enum shape shape;
	enum leaf leaf;
	const struct field *f;          /* LEAF_FIELD; SH_SEQ of CPUs */
	void *p;                        /* LEAF_FIELD: the storage */
	struct ig_cfg_strategy *s;      /* strategy paths */
	uint32_t sidx;                  /* strategy index */
	uint32_t item;                  /* LEAF_SYMBOL: symbol index */
	const char *key;                /* LEAF_PARAM: the param key */
	bool strategy_field;            /* f is from strategy_fields */
};

/* ---- messages ---------------------------------------------------------- */

/* Joins comp[0..n) with '.' into buf; "(root)" for n == 0. */
static void join(const char *const *comp, size_t n, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	if (n == 0) {
		snprintf(buf, cap, "(root)");
		return;
	}
	for (size_t i = 0; i < n && used < cap; i++) {
		int w = snprintf(buf + used, cap - used, "%s%s", i ? "." : "", comp[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

/* Writes "FILE:LINE:COL: KEY: MESSAGE" (KEY = comp[0..n) joined) or, for a
 * value from --set, "--set KEY: MESSAGE" with the key as given. Returns
 * IG_ECONFIG. */
__attribute__((format(printf, 5, 6)))
static int fail(const struct errctx *ec, const struct where *at, const char *const *comp, size_t n,
		const char *fmt, ...)
{
	char key[KEY_MAX];
	char msg[IG_CFG_ERR_MAX];
	va_list ap;

	if (ec->err == NULL || ec->errlen == 0)
		return IG_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at->set_key != NULL) {
		snprintf(ec->err, ec->errlen, "--set %s: %s", at->set_key, msg);
	} else {
		join(comp, n, key, sizeof(key));
		snprintf(ec->err, ec->errlen, "%s:%d:%d: %s: %s", ec->file, at->line, at->col, key,
			 msg);
	}
	return IG_ECONFIG;
}

const char *ig__config_parse_problem(int rc, bool fixed)
{
	switch (rc) {
	case IG_ERANGE:
		return "out of range";
	case IG_EPRECISION:
		return "too many decimals";
	default:
		return fixed ? "not a decimal" : "not an integer";
	}
}

/* ---- scalar parsing ---------------------------------------------------- */

/* Splits an integer literal into sign and magnitude. Returns 0, IG_ESYNTAX,
 * or IG_ERANGE if the magnitude exceeds UINT64_MAX. */
static int parse_mag(const char *s, size_t len, bool *neg, uint64_t *mag)
{
	size_t i = 0;
	uint64_t m = 0;
	bool range = false;

	*neg = false;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		*neg = s[0] == '-';
		i = 1;
	}
	if (i == len)
		return IG_ESYNTAX;
	for (; i < len; i++) {
		uint64_t d;
		if (s[i] < '0' || s[i] > '9')
			return IG_ESYNTAX;
		d = (uint64_t)(s[i] - '0');
		if (m > (UINT64_MAX - d) / 10)
			range = true; /* keep scanning: syntax errors win */
		else
			m = m * 10 + d;
	}
	if (range)
		return IG_ERANGE;
	*mag = m;
	return 0;
}

int ig__config_parse_i64(const char *s, size_t len, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int rc = parse_mag(s, len, &neg, &mag);

	if (rc != 0)
		return rc;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1u)
			return IG_ERANGE;
		*out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return IG_ERANGE;
		*out = (int64_t)mag;
	}
	return 0;
}

int ig__config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return IG_ESYNTAX;
}

/* Reports a value outside f's range. Returns IG_ECONFIG. */
static int fail_range(const struct errctx *ec, const struct where *at, const char *const *comp,
		      size_t n, const struct field *f, const char *val, size_t len)
{
	char lo[IG_FIXED_STRLEN], hi[IG_FIXED_STRLEN];

	if (f->type == FT_U64)
		return fail(ec, at, comp, n, "out of range: " SHOW_FMT " (must be 0..%" PRIu64 ")",
			    SHOW(val, len), UINT64_MAX);
	if (f->type == FT_FIXED) {
		if (f->min == 1 && f->max == INT64_MAX)
			return fail(ec, at, comp, n, "out of range: " SHOW_FMT " (must be > 0)",
				    SHOW(val, len));
		ig_fixed_format(f->min, lo, sizeof(lo));
		ig_fixed_format(f->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%" PRId64, f->min);
		snprintf(hi, sizeof(hi), "%" PRId64, f->max);
	}
	if (f->max == INT64_MAX)
		return fail(ec, at, comp, n, "out of range: " SHOW_FMT " (must be >= %s)", SHOW(val, len),
			    lo);
	return fail(ec, at, comp, n, "out of range: " SHOW_FMT " (must be %s..%s)", SHOW(val, len), lo,
		    hi);
}

/* Reports an unknown enum value, listing the accepted names. */
static int fail_enum(const struct errctx *ec, const struct where *at, const char *const *comp,
		     size_t n, const struct field *f, const char *val, size_t len)
{
	char list[128];
	size_t used = 0;

	list[0] = '\0';
	for (int i = 0; used < sizeof(list); i++) {
		const char *name = f->name_at != NULL ? f->name_at(i) : f->names[i];
		int w;
		if (name == NULL)
			break;
		w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? "|" : "", name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return fail(ec, at, comp, n, "unknown value " SHOW_FMT " (expected %s)", SHOW(val, len), list);
}

/* Copies val into a char[cap] buffer. Returns 0 or IG_ECONFIG. */
static int set_string(const struct errctx *ec, const struct where *at, const char *const *comp,
		      size_t n, char *dst, size_t cap, bool nonempty, const char *val)
{
	size_t len = strlen(val);

	if (len >= cap)
		return fail(ec, at, comp, n, "too long: %zu chars (max %zu)", len, cap - 1);
	if (nonempty && len == 0)
		return fail(ec, at, comp, n, "must not be empty");
	memcpy(dst, val, len + 1);
	return 0;
}

/* Parses val as field f and stores it at p. Returns 0 or IG_ECONFIG. */
static int set_field(const struct errctx *ec, const struct where *at, const char *const *comp,
		     size_t n, const struct field *f, void *p, const char *val)
{
	size_t len = strlen(val);
	int64_t v = 0;
	int rc;

	switch (f->type) {
	case FT_INT:
	case FT_CPUS:
	case FT_I64:
	case FT_U32:
		rc = ig__config_parse_i64(val, len, &v);
		if (rc == IG_ESYNTAX)
			return fail(ec, at, comp, n, "not an integer: " SHOW_FMT, SHOW(val, len));
		if ((f->flags & F_POW2) && rc == 0 && (v < 2 || (v & (v - 1)) != 0))
			return fail(ec, at, comp, n, "not a power of two >= 2: " SHOW_FMT,
				    SHOW(val, len));
		if (rc != 0 || v < f->min || v > f->max)
			return fail_range(ec, at, comp, n, f, val, len);
		if (f->type == FT_I64) {
			*(int64_t *)p = v;
		} else if (f->type == FT_U32) {
			*(uint32_t *)p = (uint32_t)v;
		} else {
			*(int *)p = (int)v;
		}
		return 0;
	case FT_U64: {
		bool neg;
		uint64_t u;
		rc = parse_mag(val, len, &neg, &u);
		if (rc == IG_ESYNTAX)
			return fail(ec, at, comp, n, "not an integer: " SHOW_FMT, SHOW(val, len));
		if (rc != 0 || (neg && u != 0))
			return fail_range(ec, at, comp, n, f, val, len);
		*(uint64_t *)p = u;
		return 0;
	}
	case FT_FIXED:
		rc = ig_fixed_parse(val, len, &v);
		if (rc == IG_ERANGE || (rc == 0 && (v < f->min || v > f->max)))
			return fail_range(ec, at, comp, n, f, val, len);
		if (rc == IG_EPRECISION)
			return fail(ec, at, comp, n, "too many decimals: " SHOW_FMT " (max %d)",
				    SHOW(val, len), IG_FIXED_DECIMALS);
		if (rc != 0)
			return fail(ec, at, comp, n, "not a decimal: " SHOW_FMT, SHOW(val, len));
		*(int64_t *)p = v;
		return 0;
	case FT_BOOL: {
		bool b;
		if (ig__config_parse_bool(val, &b) != 0)
			return fail(ec, at, comp, n, "not a boolean: " SHOW_FMT " (expected true|false)",
				    SHOW(val, len));
		*(bool *)p = b;
		return 0;
	}
	case FT_STR:
		if (f->check != NULL) {
			const char *why = f->check(val);
			if (why != NULL && (f->flags & F_NO_ECHO) != 0)
				return fail(ec, at, comp, n, "%s", why);
			if (why != NULL)
				return fail(ec, at, comp, n, "%s: " SHOW_FMT, why, SHOW(val, len));
		}
		return set_string(ec, at, comp, n, p, f->size, (f->flags & F_NONEMPTY) != 0, val);
	case FT_TIME:
		rc = ig_feed_parse_iso8601(val, len, &v);
		if (rc != 0)
			return fail(ec, at, comp, n,
				    "not an ISO 8601 date or date-time: " SHOW_FMT
				    " (e.g. 2024-01-31 or 2024-01-31T09:30:00Z)",
				    SHOW(val, len));
		*(int64_t *)p = v;
		return 0;
	case FT_ENUM: {
		int e = -1;
		if (f->parse != NULL) {
			e = f->parse(val);
		} else {
			for (int i = 0; f->names[i] != NULL; i++)
				if (strcmp(val, f->names[i]) == 0)
					e = i;
		}
		if (e < 0)
			return fail_enum(ec, at, comp, n, f, val, len);
		*(int *)p = e;
		return 0;
	}
	}
	return fail(ec, at, comp, n, "internal error: unknown field type");
}

/* ---- path resolution --------------------------------------------------- */

/* Parses a list index component: digits only. Returns 0 or -1. */
static int parse_index(const char *s, uint32_t *out)
{
	int64_t v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	if (ig__config_parse_i64(s, strlen(s), &v) != 0 || v > (int64_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static const struct field *find_field(const struct field *fields, size_t nfields, const char *name)
{
	for (size_t i = 0; i < nfields; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

/* Resolves a list of scalars whose name is comp[k - 1] (`symbols`): the
 * list itself (n == k), or item comp[k], which may be at most one past the
 * have items already there and below max. Returns 0 and fills *t (shape,
 * item), or IG_ECONFIG. */
static int resolve_scalar_list(struct loader *ld, const struct where *at, const char *const *comp,
			       size_t n, size_t k, uint32_t have, uint32_t max, struct target *t)
{
	uint32_t i;

	if (n == k) {
		t->shape = SH_SEQ;
		return 0;
	}
	if (parse_index(comp[k], &i) != 0)
		return fail(&ld->ec, at, comp, k + 1, "not an index");
	if (i > have)
		return fail(&ld->ec, at, comp, k + 1, "index %" PRIu32 " out of range (%" PRIu32
			    " symbols)", i, have);
	if (i >= max)
		return fail(&ld->ec, at, comp, k + 1, "too many symbols (max %" PRIu32 ")", max);
	if (n > k + 1)
		return fail(&ld->ec, at, comp, k + 2, "unknown key");
	t->shape = SH_SCALAR;
	t->item = i;
	return 0;
}

/* Resolves comp[k..n) against the fields of the struct at base. Returns 0
 * and fills *t, or IG_ECONFIG. */
static int resolve_field(const struct errctx *ec, const struct where *at, const char *const *comp,
			 size_t n, size_t k, const struct field *fields, size_t nfields, void *base,
			 struct target *t)
{
	const struct field *f = find_field(fields, nfields, comp[k]);
	uint32_t i;

	if (f == NULL)
		return fail(ec, at, comp, k + 1, "unknown key");
	t->f = f;
	if (f->type == FT_CPUS) {
		if (n == k + 1) {
			t->shape = SH_SEQ;
			return 0;
		}
		if (parse_index(comp[k + 1], &i) != 0)
			return fail(ec, at, comp, k + 2, "not an index");
		if (i >= IG_MAX_STRATEGY_THREADS)
			return fail(ec, at, comp, k + 2, "too many items (max %d)",
				    IG_MAX_STRATEGY_THREADS);
		if (n > k + 2)
			return fail(ec, at, comp, k + 3, "unknown key");
		t->shape = SH_SCALAR;
		t->leaf = LEAF_FIELD;
		t->p = (int *)(void *)((char *)base + f->off) + i;
		return 0;
	}
	if (n > k + 1)
		return fail(ec, at, comp, k + 2, "unknown key");
	t->shape = SH_SCALAR;
	t->leaf = LEAF_FIELD;
	t->p = (char *)base + f->off;
	return 0;
}

/* The keys feed.columns accepts (the roles of src/feed/csv.c). */
static const char *const column_keys[] = {
	"ts",  "date", "time",    "open",    "high",   "low", "close", "adj_close", "volume",
	"px",  "qty",  "side",    "bid",     "ask",    "bid_qty", "ask_qty", "symbol", NULL,
};

/* The fields of one feed.path list entry. */
static const struct field file_fields[] = {
	{ FIELD(ig_cfg_feed_file, path, FT_STR), .flags = F_NONEMPTY },
	{ FIELD(ig_cfg_feed_file, symbol, FT_STR), .flags = F_NONEMPTY },
};

/* Resolves feed.columns, feed.symbols and feed.path.N (the feed's
 * containers). Returns 0 (resolved, *t filled), IG_ECONFIG, or 1 when
 * comp[0..n) is none of them (a flat feed field). */
static int resolve_feed(struct loader *ld, const struct where *at, const char *const *comp,
			size_t n, struct target *t)
{
	struct ig_cfg_feed *fc = &ld->cfg->feed;
	uint32_t i;

	if (strcmp(comp[1], "columns") == 0) {
		if (n == 2) {
			t->shape = SH_MAP;
			return 0;
		}
		for (i = 0; column_keys[i] != NULL; i++)
			if (strcmp(column_keys[i], comp[2]) == 0)
				break;
		if (column_keys[i] == NULL)
			return fail(&ld->ec, at, comp, 3,
				    "unknown key (expected ts|date|time|open|high|low|close|"
				    "adj_close|volume|px|qty|side|bid|ask|bid_qty|ask_qty|symbol)");
		if (n > 3)
			return fail(&ld->ec, at, comp, 4, "unknown key");
		t->shape = SH_SCALAR;
		t->leaf = LEAF_COLUMN;
		t->key = column_keys[i];
		return 0;
	}
	if (strcmp(comp[1], "symbols") == 0) {
		t->leaf = LEAF_FEED_SYMBOL;
		return resolve_scalar_list(ld, at, comp, n, 2, fc->nsymbols, IG_MAX_INSTRUMENTS, t);
	}
	if (strcmp(comp[1], "path") == 0 && n >= 3) {
		if (parse_index(comp[2], &i) != 0)
			return fail(&ld->ec, at, comp, 3, "not an index");
		if (i >= fc->nfiles)
			return fail(&ld->ec, at, comp, 3, "index %" PRIu32 " out of range (feed.path "
				    "has %" PRIu32 " entries)", i, fc->nfiles);
		if (n == 3) {
			t->shape = SH_MAP;
			return 0;
		}
		return resolve_field(&ld->ec, at, comp, n, 3, file_fields, NELEM(file_fields),
				     &fc->files[i], t);
	}
	return 1;
}

/* Resolves strategies.comp[1..n). */
static int resolve_strategy(struct loader *ld, const struct where *at, const char *const *comp,
			    size_t n, struct target *t)
{
	struct ig_config *cfg = ld->cfg;
	struct ig_cfg_strategy *s;
	uint32_t i;

	if (n == 1) {
		t->shape = SH_SEQ_MAP;
		return 0;
	}
	if (parse_index(comp[1], &i) != 0)
		return fail(&ld->ec, at, comp, 2, "not an index");
	if (i >= cfg->nstrategies)
		return fail(&ld->ec, at, comp, 2, "index %" PRIu32 " out of range (%" PRIu32
			    " strategies)", i, cfg->nstrategies);
	s = &cfg->strategies[i];
	t->s = s;
	t->sidx = i;
	if (n == 2) {
		t->shape = SH_MAP;
		return 0;
	}
	if (strcmp(comp[2], "symbols") == 0) {
		t->leaf = LEAF_SYMBOL;
		return resolve_scalar_list(ld, at, comp, n, 3, s->nsymbols, IG_CFG_MAX_SYMBOLS, t);
	}
	if (strcmp(comp[2], "params") == 0) {
		if (n == 3) {
			t->shape = SH_MAP;
			return 0;
		}
		if (n > 4)
			return fail(&ld->ec, at, comp, 5, "unknown key");
		t->shape = SH_SCALAR;
		t->leaf = LEAF_PARAM;
		t->key = comp[3];
		return 0;
	}
	if (strcmp(comp[2], "risk") == 0) {
		if (n == 3) {
			t->shape = SH_MAP;
			return 0;
		}
		return resolve_field(&ld->ec, at, comp, n, 3, risk_fields, NELEM(risk_fields),
				     &s->risk, t);
	}
	t->strategy_field = true;
	return resolve_field(&ld->ec, at, comp, n, 2, strategy_fields, NELEM(strategy_fields), s, t);
}

/* Resolves the path comp[0..n) to what it names. Returns 0 and fills *t, or
 * IG_ECONFIG (unknown key, bad or out-of-range index) reported at `at`. */
static int resolve(struct loader *ld, const struct where *at, const char *const *comp, size_t n,
		   struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (n == 0) {
		t->shape = SH_MAP;
		return 0;
	}
	if (n >= 2 && strcmp(comp[0], "feed") == 0) {
		int rc = resolve_feed(ld, at, comp, n, t);
		if (rc != 1)
			return rc;
	}
	for (size_t i = 0; i < NELEM(sections); i++) {
		if (strcmp(comp[0], sections[i].name) != 0)
			continue;
		if (n == 1) {
			t->shape = SH_MAP;
			return 0;
		}
		return resolve_field(&ld->ec, at, comp, n, 1, sections[i].fields, sections[i].nfields,
				     (char *)ld->cfg + sections[i].off, t);
	}
	if (strcmp(comp[0], "strategies") == 0)
		return resolve_strategy(ld, at, comp, n, t);
	return fail(&ld->ec, at, comp, 1, "unknown key");
}

/* Stores a param (adding it if absent). Returns 0 or IG_ECONFIG. */
static int set_param(struct loader *ld, const struct where *at, const char *const *comp, size_t n,
		     struct ig_cfg_strategy *s, const char *key, const char *val)
{
	struct ig_cfg_param *p = NULL;
	size_t klen = strlen(key), vlen = strlen(val);

	if (klen == 0)
		return fail(&ld->ec, at, comp, n, "empty param name");
	if (klen >= sizeof(p->key))
		return fail(&ld->ec, at, comp, n, "param name too long: %zu chars (max %zu)", klen,
			    sizeof(p->key) - 1);
	if (vlen >= sizeof(p->value))
		return fail(&ld->ec, at, comp, n, "too long: %zu chars (max %zu)", vlen,
			    sizeof(p->value) - 1);
	for (uint32_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].key, key) == 0)
			p = &s->params[i];
	if (p == NULL) {
		if (s->nparams >= IG_CFG_MAX_PARAMS)
			return fail(&ld->ec, at, comp, n, "too many params (max %d)",
				    IG_CFG_MAX_PARAMS);
		p = &s->params[s->nparams++];
		memcpy(p->key, key, klen + 1);
	}
	memcpy(p->value, val, vlen + 1);
	p->line = at->set_key != NULL ? 0 : at->line;
	p->col = at->set_key != NULL ? 0 : at->col;
	return 0;
}

/* Stores a feed.columns entry (replacing one with the same key). Returns 0
 * or IG_ECONFIG. */
static int set_column(struct loader *ld, const struct where *at, const char *const *comp, size_t n,
		      const char *key, const char *val)
{
	struct ig_cfg_feed *fc = &ld->cfg->feed;
	struct ig_cfg_feed_column *c = NULL;
	int rc;

	for (uint32_t i = 0; i < fc->ncolumns; i++)
		if (strcmp(fc->columns[i].key, key) == 0)
			c = &fc->columns[i];
	if (c == NULL) {
		if (fc->ncolumns >= IG_CFG_MAX_COLUMNS)
			return fail(&ld->ec, at, comp, n, "too many columns (max %d)",
				    IG_CFG_MAX_COLUMNS);
		c = &fc->columns[fc->ncolumns];
	}
	rc = set_string(&ld->ec, at, comp, n, c->name, sizeof(c->name), true, val);
	if (rc != 0)
		return rc;
	if (c == &fc->columns[fc->ncolumns]) {
		snprintf(c->key, sizeof(c->key), "%s", key);
		fc->ncolumns++;
	}
	c->line = at->set_key != NULL ? 0 : at->line;
	c->col = at->set_key != NULL ? 0 : at->col;
	return 0;
}

/* Walks feed.path given as a sequence of {path, symbol} mappings (node
 * seq, path comp[0..2)). Returns 0 or IG_ECONFIG. */
static int walk_files(struct loader *ld, yaml_node_t *seq, const char **comp);

/*
 * The one place a scalar value is parsed and stored, for the file and for
 * --set alike: resolves comp[0..n), checks it names a scalar leaf, parses
 * val (a NUL-terminated string) and stores it. Returns 0 or IG_ECONFIG with
 * the message reported at `at`.
 */
static int apply_scalar(struct loader *ld, const char *const *comp, size_t n, const char *val,
			const struct where *at)
{
	struct target t;
	int rc = resolve(ld, at, comp, n, &t);

	if (rc != 0)
		return rc;
	switch (t.shape) {
	case SH_SCALAR:
		break;
	case SH_MAP:
		return fail(&ld->ec, at, comp, n, "is a mapping, not a scalar: set one of its keys");
	case SH_SEQ:
	case SH_SEQ_MAP:
		return fail(&ld->ec, at, comp, n, "is a sequence, not a scalar: set an item by index");
	}
	switch (t.leaf) {
	case LEAF_SYMBOL:
		rc = set_string(&ld->ec, at, comp, n, t.s->symbols[t.item], IG_CFG_NAME_MAX, true, val);
		if (rc == 0 && t.item == t.s->nsymbols)
			t.s->nsymbols++;
		return rc;
	case LEAF_PARAM:
		return set_param(ld, at, comp, n, t.s, t.key, val);
	case LEAF_COLUMN:
		return set_column(ld, at, comp, n, t.key, val);
	case LEAF_FEED_SYMBOL: {
		struct ig_cfg_feed *fc = &ld->cfg->feed;
		rc = set_string(&ld->ec, at, comp, n, fc->symbols[t.item], IG_CFG_NAME_MAX, true, val);
		if (rc == 0 && t.item == fc->nsymbols)
			fc->nsymbols++;
		return rc;
	}
	case LEAF_FIELD:
		break;
	}
	rc = set_field(&ld->ec, at, comp, n, t.f, t.p, val);
	if (rc == 0 && t.p == (void *)ld->cfg->feed.path)
		ld->cfg->feed.nfiles = 0; /* a file replaces a list */
	if (rc == 0 && t.strategy_field) {
		if (t.p == (void *)t.s->name)
			ld->m.name[t.sidx] = *at;
		else if (t.p == (void *)&t.s->thread)
			ld->m.thread[t.sidx] = *at;
		else if (t.p == (void *)t.s->type)
			ld->m.type[t.sidx] = *at;
		else if (t.p == (void *)t.s->plugin)
			ld->m.plugin[t.sidx] = *at;
	}
	return rc;
}

/* ---- the YAML walker --------------------------------------------------- */

static struct where mark_at(yaml_mark_t m)
{
	struct where w = { (int)m.line + 1, (int)m.column + 1, NULL };
	return w;
}

static const char *node_kind(const yaml_node_t *v)
{
	switch (v->type) {
	case YAML_SCALAR_NODE:
		return "scalar";
	case YAML_SEQUENCE_NODE:
		return "sequence";
	case YAML_MAPPING_NODE:
		return "mapping";
	case YAML_NO_NODE:
		break;
	}
	return "empty node";
}

static const char *scalar_text(const yaml_node_t *v)
{
	return (const char *)v->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar: accepted as an empty container. */
static bool is_null(const yaml_node_t *v)
{
	const char *s;

	if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar_text(v);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	       strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* Refuses a scalar with an embedded NUL ("\0" escape): it would be cut. */
static int check_scalar(struct loader *ld, const yaml_node_t *v, const char *const *comp, size_t n)
{
	struct where at = mark_at(v->start_mark);

	if (strlen(scalar_text(v)) != v->data.scalar.length)
		return fail(&ld->ec, &at, comp, n, "contains a NUL byte");
	return 0;
}

static int walk_value(struct loader *ld, yaml_node_t *v, const char **comp, size_t n,
		      const struct where *key_at);

/* Walks the pairs of mapping node map at path comp[0..n). */
static int walk_map(struct loader *ld, yaml_node_t *map, const char **comp, size_t n)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;
	yaml_node_pair_t *top = map->data.mapping.pairs.top;

	/* The schema bounds the depth (aliases cannot make it recurse); this
	 * only guards comp[]. */
	if (n >= MAX_DEPTH)
		return fail(&ld->ec, &(struct where){ (int)map->start_mark.line + 1,
						      (int)map->start_mark.column + 1, NULL },
			    (const char *const *)comp, n, "nested too deep");
	for (yaml_node_pair_t *pair = start; pair < top; pair++) {
		yaml_node_t *k = yaml_document_get_node(ld->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(ld->doc, pair->value);
		struct where at;
		int rc;

		if (k == NULL || v == NULL)
			continue;
		at = mark_at(k->start_mark);
		if (k->type != YAML_SCALAR_NODE)
			return fail(&ld->ec, &at, (const char *const *)comp, n,
				    "expected a scalar key, got a %s", node_kind(k));
		comp[n] = scalar_text(k);
		rc = check_scalar(ld, k, (const char *const *)comp, n + 1);
		if (rc != 0)
			return rc;
		for (yaml_node_pair_t *q = start; q < pair; q++) {
			yaml_node_t *qk = yaml_document_get_node(ld->doc, q->key);
			if (qk != NULL && qk->type == YAML_SCALAR_NODE &&
			    strcmp(scalar_text(qk), comp[n]) == 0)
				return fail(&ld->ec, &at, (const char *const *)comp, n + 1,
					    "duplicate key (first at line %d)",
					    (int)qk->start_mark.line + 1);
		}
		rc = walk_value(ld, v, comp, n + 1, &at);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Walks the items of a sequence at comp[0..n): items are checked and
 * applied through walk_value (scalars) or walk_map (strategy entries). */
static int walk_seq(struct loader *ld, yaml_node_t *seq, const char **comp, size_t n,
		    const struct target *t)
{
	yaml_node_item_t *start = seq->data.sequence.items.start;
	yaml_node_item_t *top = seq->data.sequence.items.top;

	if (n >= MAX_DEPTH)
		return fail(&ld->ec, &(struct where){ (int)seq->start_mark.line + 1,
						      (int)seq->start_mark.column + 1, NULL },
			    (const char *const *)comp, n, "nested too deep");
	for (yaml_node_item_t *it = start; it < top; it++) {
		yaml_node_t *v = yaml_document_get_node(ld->doc, *it);
		struct where at;
		int rc;

		if (v == NULL)
			continue;
		at = mark_at(v->start_mark);
		snprintf(ld->idx[n], sizeof(ld->idx[n]), "%td", it - start);
		comp[n] = ld->idx[n];
		if (t->shape == SH_SEQ_MAP) {
			struct ig_cfg_strategy *s;
			uint32_t i = ld->cfg->nstrategies;
			if (i >= IG_MAX_STRATEGIES)
				return fail(&ld->ec, &at, (const char *const *)comp, n,
					    "too many strategies (max %d)", IG_MAX_STRATEGIES);
			if (v->type != YAML_MAPPING_NODE)
				return fail(&ld->ec, &at, (const char *const *)comp, n + 1,
					    "expected a mapping, got a %s", node_kind(v));
			s = &ld->cfg->strategies[i];
			ld->cfg->nstrategies = i + 1;
			s->line = at.line;
			s->col = at.col;
			ld->m.name[i] = at;
			ld->m.thread[i] = at;
			ld->m.type[i] = at;
			ld->m.plugin[i] = at;
			ld->m.params[i] = at;
			rc = walk_map(ld, v, comp, n + 1);
		} else {
			rc = walk_value(ld, v, comp, n + 1, &at);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Checks node v against what comp[0..n) names and applies it. Unknown keys
 * are reported at key_at (the key's position), bad values at v. */
static int walk_value(struct loader *ld, yaml_node_t *v, const char **comp, size_t n,
		      const struct where *key_at)
{
	const char *const *cc = (const char *const *)comp;
	struct where at = mark_at(v->start_mark);
	struct target t;
	int rc;

	if (n >= MAX_DEPTH)
		return fail(&ld->ec, key_at, cc, n, "nested too deep");
	if (n == 2 && strcmp(comp[0], "feed") == 0 && strcmp(comp[1], "path") == 0 &&
	    v->type == YAML_SEQUENCE_NODE)
		return walk_files(ld, v, comp);
	rc = resolve(ld, key_at, cc, n, &t);
	if (rc != 0)
		return rc;
	switch (t.shape) {
	case SH_SCALAR:
		if (v->type != YAML_SCALAR_NODE)
			return fail(&ld->ec, &at, cc, n, "expected a scalar, got a %s", node_kind(v));
		rc = check_scalar(ld, v, cc, n);
		if (rc != 0)
			return rc;
		rc = apply_scalar(ld, cc, n, scalar_text(v), &at);
		/* A strategy's type and plugin are reported at their key. */
		if (rc == 0 && t.strategy_field && t.p == (void *)t.s->type)
			ld->m.type[t.sidx] = *key_at;
		if (rc == 0 && t.strategy_field && t.p == (void *)t.s->plugin)
			ld->m.plugin[t.sidx] = *key_at;
		return rc;
	case SH_MAP:
		if (n == 1 && strcmp(comp[0], "feed") == 0)
			ld->m.feed = at;
		if (n == 3 && t.s != NULL && strcmp(comp[2], "params") == 0)
			ld->m.params[t.sidx] = *key_at;
		if (is_null(v))
			return 0;
		if (v->type != YAML_MAPPING_NODE)
			return fail(&ld->ec, &at, cc, n, "expected a mapping, got a %s", node_kind(v));
		return walk_map(ld, v, comp, n);
	case SH_SEQ:
	case SH_SEQ_MAP:
		if (is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(&ld->ec, &at, cc, n, "expected a sequence, got a %s", node_kind(v));
		if (t.shape == SH_SEQ && t.s != NULL)
			t.s->nsymbols = 0; /* the file's list replaces, never appends */
		if (t.shape == SH_SEQ && t.leaf == LEAF_FEED_SYMBOL)
			ld->cfg->feed.nsymbols = 0;
		return walk_seq(ld, v, comp, n, &t);
	}
	return 0;
}

static int walk_files(struct loader *ld, yaml_node_t *seq, const char **comp)
{
	yaml_node_item_t *start = seq->data.sequence.items.start;
	yaml_node_item_t *top = seq->data.sequence.items.top;
	struct ig_cfg_feed *fc = &ld->cfg->feed;

	fc->nfiles = 0;
	fc->path[0] = '\0';
	for (yaml_node_item_t *it = start; it < top; it++) {
		yaml_node_t *v = yaml_document_get_node(ld->doc, *it);
		struct where at;
		int rc;

		if (v == NULL)
			continue;
		at = mark_at(v->start_mark);
		snprintf(ld->idx[2], sizeof(ld->idx[2]), "%td", it - start);
		comp[2] = ld->idx[2];
		if (fc->nfiles >= IG_CFG_MAX_FEED_FILES)
			return fail(&ld->ec, &at, (const char *const *)comp, 3,
				    "too many files (max %d)", IG_CFG_MAX_FEED_FILES);
		if (v->type != YAML_MAPPING_NODE)
			return fail(&ld->ec, &at, (const char *const *)comp, 3,
				    "expected a mapping {path, symbol}, got a %s", node_kind(v));
		memset(&fc->files[fc->nfiles], 0, sizeof(fc->files[0]));
		fc->files[fc->nfiles].line = at.line;
		fc->files[fc->nfiles].col = at.col;
		fc->nfiles++;
		rc = walk_map(ld, v, comp, 3);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The line:col of byte offset off in f: libyaml's reader errors (bad
 * UTF-8) carry only an offset. Falls back to 1:1 if f cannot be re-read. */
static struct where offset_where(FILE *f, size_t off)
{
	struct where w = { 1, 1, NULL };
	size_t pos = 0;
	int c;

	if (fseek(f, 0, SEEK_SET) != 0)
		return w;
	while (pos < off && (c = getc(f)) != EOF) {
		pos++;
		if (c == '\n') {
			w.line++;
			w.col = 1;
		} else if ((c & 0xC0) != 0x80) {
			w.col++; /* count characters, not UTF-8 continuation bytes */
		}
	}
	return w;
}

/* Reports a libyaml parser failure. Returns IG_ECONFIG, IG_EIO or
 * IG_ENOMEM. */
static int yaml_fail(struct loader *ld, const yaml_parser_t *p, FILE *f)
{
	const struct errctx *ec = &ld->ec;
	char *err = ec->err;
	size_t cap = ec->errlen;
	char ctx[160] = "";
	struct where at;

	if (p->error == YAML_MEMORY_ERROR) {
		if (err && cap)
			snprintf(err, cap, "%s: out of memory while parsing", ec->file);
		return IG_ENOMEM;
	}
	if (p->error == YAML_READER_ERROR && ferror(f)) {
		int e = errno;
		if (err && cap)
			snprintf(err, cap, "%s: cannot read: %s", ec->file, strerror(e));
		return IG_EIO;
	}
	if (err == NULL || cap == 0)
		return IG_ECONFIG;
	if (p->error == YAML_READER_ERROR) {
		at = offset_where(f, p->problem_offset);
		snprintf(err, cap, "%s:%d:%d: syntax error: %s (at byte %zu)", ec->file, at.line,
			 at.col, p->problem ? p->problem : "unreadable input", p->problem_offset);
		return IG_ECONFIG;
	}
	at = mark_at(p->problem_mark);
	if (p->context != NULL) {
		struct where cat = mark_at(p->context_mark);
		snprintf(ctx, sizeof(ctx), " (%s at %d:%d)", p->context, cat.line, cat.col);
	}
	snprintf(err, cap, "%s:%d:%d: syntax error: %s%s", ec->file, at.line, at.col,
		 p->problem ? p->problem : "invalid YAML", ctx);
	return IG_ECONFIG;
}

/* Parses the open file f and walks it into ld->cfg. Returns 0 or an IG_E*
 * code with the message set. */
static int load_file(struct loader *ld, FILE *f)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	yaml_node_t *root;
	const char *comp[MAX_DEPTH];
	int rc = 0;

	if (!yaml_parser_initialize(&parser)) {
		if (ld->ec.err && ld->ec.errlen)
			snprintf(ld->ec.err, ld->ec.errlen, "%s: out of memory", ld->ec.file);
		return IG_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = yaml_fail(ld, &parser, f);
		goto out_delete_parser;
	}
	/* A second document would be silently ignored: refuse it. */
	if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_fail(ld, &parser, f);
		goto out_delete_doc;
	}
	root = yaml_document_get_root_node(&extra);
	if (root != NULL) {
		struct where at = mark_at(root->start_mark);
		rc = fail(&ld->ec, &at, comp, 0, "more than one YAML document");
	}
	yaml_document_delete(&extra);
	if (rc != 0)
		goto out_delete_doc;

	ld->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (root != NULL) {
		struct where at = mark_at(root->start_mark);
		ld->m.root = at;
		ld->m.feed = at;
		if (!is_null(root)) {
			if (root->type != YAML_MAPPING_NODE)
				rc = fail(&ld->ec, &at, comp, 0, "expected a mapping, got a %s",
					  node_kind(root));
			else
				rc = walk_map(ld, root, comp, 0);
		}
	}
	ld->doc = NULL;
out_delete_doc:
	yaml_document_delete(&doc);
out_delete_parser:
	yaml_parser_delete(&parser);
	return rc;
}

/* Applies one --set override. Returns 0 or IG_ECONFIG. */
static int apply_override(struct loader *ld, const struct ig_cfg_override *o)
{
	char buf[KEY_MAX];
	const char *comp[MAX_DEPTH];
	const char *key = o->key != NULL ? o->key : "";
	struct where at = { 0, 0, key };
	size_t n = 0, len = strlen(key);
	char *p;

	if (len == 0)
		return fail(&ld->ec, &at, comp, 0, "missing key (use KEY=VALUE)");
	if (len >= sizeof(buf))
		return fail(&ld->ec, &at, comp, 0, "key too long");
	if (o->value == NULL)
		return fail(&ld->ec, &at, comp, 0, "missing value (use KEY=VALUE)");
	memcpy(buf, key, len + 1);
	p = buf;
	for (;;) {
		char *dot = strchr(p, '.');
		if (n == MAX_DEPTH)
			return fail(&ld->ec, &at, comp, n, "unknown key");
		comp[n++] = p;
		if (dot == NULL)
			break;
		*dot = '\0';
		p = dot + 1;
	}
	return apply_scalar(ld, comp, n, o->value, &at);
}

/* ---- validation -------------------------------------------------------- */

/* The mark m if known, else the strategy entry's position, else 1:1. */
static struct where strategy_where(const struct marks *m, const struct where *mark,
				   const struct ig_cfg_strategy *s)
{
	struct where w = { 1, 1, NULL };

	if (m != NULL && (mark->line > 0 || mark->set_key != NULL))
		return *mark;
	if (s->line > 0) {
		w.line = s->line;
		w.col = s->col;
	}
	return w;
}

/* Cross-field checks; m (may be NULL) says where values were set. Returns 0
 * or IG_ECONFIG. */
static int validate(const struct ig_config *cfg, const struct marks *m, const struct errctx *ec)
{
	const struct where top = { 1, 1, NULL };
	const struct where *feed_at = m ? &m->feed : &top;
	const struct ig_feed_type *src;
	const struct ig_venue_type *venue;
	const char *comp[4];
	char idx[12];

	comp[0] = "engine";
	comp[1] = "ring_size";
	if (cfg->engine.ring_size < 2 || (cfg->engine.ring_size & (cfg->engine.ring_size - 1)) != 0)
		return fail(ec, m ? &m->root : &top, comp, 2, "not a power of two >= 2: %" PRIu32,
			    cfg->engine.ring_size);
	comp[1] = "strategy_threads";
	if (cfg->engine.strategy_threads < 1 ||
	    cfg->engine.strategy_threads > IG_MAX_STRATEGY_THREADS)
		return fail(ec, m ? &m->root : &top, comp, 2, "out of range: %" PRIu32
			    " (must be 1..%d)", cfg->engine.strategy_threads, IG_MAX_STRATEGY_THREADS);

	comp[0] = "feed";
	comp[1] = "source";
	if (cfg->feed.source < 0)
		return fail(ec, feed_at, comp, 2, "missing required key");
	src = ig_feed_type_at(cfg->feed.source);
	if (src == NULL)
		return fail(ec, feed_at, comp, 2, "invalid value %d", cfg->feed.source);
	if (src->live && cfg->engine.threading == IG_THREADING_INLINE)
		return fail(ec, feed_at, comp, 2,
			    "a live feed cannot run inline (engine.threading: inline replays csv or synthetic data)");
	comp[1] = "path";
	if (src->needs_path && cfg->feed.path[0] == '\0' && cfg->feed.nfiles == 0)
		return fail(ec, feed_at, comp, 2, "missing required key (feed.source is %s)", src->name);
	for (uint32_t i = 0; i < cfg->feed.nfiles; i++) {
		const struct ig_cfg_feed_file *ff = &cfg->feed.files[i];
		struct where fat = ff->line > 0 ? (struct where){ ff->line, ff->col, NULL } : *feed_at;
		snprintf(idx, sizeof(idx), "%" PRIu32, i);
		comp[2] = idx;
		comp[3] = "path";
		if (ff->path[0] == '\0')
			return fail(ec, &fat, comp, 4, "missing required key");
		comp[3] = "symbol";
		if (ff->symbol[0] == '\0' && cfg->feed.nsymbols == 0)
			return fail(ec, &fat, comp, 4,
				    "missing required key (or give the file a symbol column and "
				    "list its symbols in feed.symbols)");
	}
	comp[1] = "symbols";
	for (uint32_t a = 0; a < cfg->feed.nsymbols; a++)
		for (uint32_t b = 0; b < a; b++)
			if (strcmp(cfg->feed.symbols[a], cfg->feed.symbols[b]) == 0)
				return fail(ec, feed_at, comp, 2, "duplicate symbol \"%s\"",
					    cfg->feed.symbols[a]);
	if (cfg->feed.nsymbols > 0 && cfg->feed.source != IG_FEED_CSV &&
	    cfg->feed.source != IG_FEED_LUNO)
		return fail(ec, feed_at, comp, 2,
			    "only for feed.source csv (a symbol column's symbols) or luno (its pairs); "
			    "feed.source %s has one symbol, feed.symbol", src->name);
	for (uint32_t a = 0; cfg->feed.source == IG_FEED_LUNO && a < cfg->feed.nsymbols; a++) {
		const char *p = cfg->feed.symbols[a];
		size_t len = strlen(p);
		if (len >= 16 || strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != len)
			return fail(ec, feed_at, comp, 2, "\"%s\" is not a Luno pair name "
				    "(capitals and digits, as XBTZAR)", p);
	}
	{
		char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
		int nn = ig_feed_symbols(cfg, names);
		if (nn < 0)
			return fail(ec, feed_at, comp, 2,
				    "more than %d symbols (feed.symbols and feed.path entries)",
				    IG_MAX_INSTRUMENTS);
		/* A Luno feed's pairs are what the venue and the streams
		 * trade and carry: a strategy's pairs must be among them. */
		for (uint32_t i = 0; cfg->feed.source == IG_FEED_LUNO && i < cfg->nstrategies; i++) {
			const struct ig_cfg_strategy *st = &cfg->strategies[i];
			const struct where none = { 0, 0, NULL };
			struct where at = strategy_where(NULL, &none, st);
			for (uint32_t k = 0; k < st->nsymbols && k < IG_CFG_MAX_SYMBOLS; k++) {
				int j = 0;
				while (j < nn && strcmp(names[j], st->symbols[k]) != 0)
					j++;
				if (j < nn)
					continue;
				char ik[12], kk[12];
				const char *sc[4] = { "strategies", ik, "symbols", kk };
				snprintf(ik, sizeof(ik), "%" PRIu32, i);
				snprintf(kk, sizeof(kk), "%" PRIu32, k);
				return fail(ec, &at, sc, 4, "\"%s\" is not one of the feed's pairs (%s%s%s)",
					    st->symbols[k], cfg->feed.nsymbols > 0 ? "feed.symbols: " : "feed.symbol: ",
					    names[0], nn > 1 ? ", ..." : "");
			}
		}
	}
	/* One venue.price_scale/volume_scale cannot fit several pairs: each
	 * pair's come from /markets. */
	if (cfg->feed.source == IG_FEED_LUNO && cfg->feed.nsymbols > 1 &&
	    ig_venue_at(cfg->venue.kind) != NULL && strcmp(ig_venue_at(cfg->venue.kind)->name, "luno") == 0 &&
	    (cfg->venue.price_scale >= 0 || cfg->venue.volume_scale >= 0)) {
		const char *vc[2] = { "venue", cfg->venue.price_scale >= 0 ? "price_scale" : "volume_scale" };
		return fail(ec, m ? &m->root : &top, vc, 2,
			    "one scale for several pairs (feed.symbols): leave it unset, the venue "
			    "reads each pair's scales from /markets");
	}
	comp[1] = "to";
	if (cfg->feed.from_ns != IG_CFG_FROM_UNSET && cfg->feed.to_ns != IG_CFG_TO_UNSET &&
	    cfg->feed.to_ns <= cfg->feed.from_ns)
		return fail(ec, feed_at, comp, 2, "not after feed.from (feed.to is exclusive)");

	comp[0] = "venue";
	comp[1] = "kind";
	venue = ig_venue_at(cfg->venue.kind);
	if (venue == NULL)
		return fail(ec, m ? &m->root : &top, comp, 2, "invalid value %d", cfg->venue.kind);
	/* One latency model: a fixed delay or a live run's distribution. */
	comp[1] = "latency_from";
	if (cfg->venue.latency_from[0] != '\0' && cfg->venue.latency_ms != 0)
		return fail(ec, m ? &m->root : &top, comp, 2,
			    "set either venue.latency_ms or venue.latency_from, not both");
	/* A live venue: client order ids must never repeat (their run epoch
	 * counts runs in the journal) and a crash must be recoverable, so the
	 * journal is on; and time is live, so not inline. */
	if (venue->live) {
		comp[0] = "engine";
		comp[1] = "threading";
		if (cfg->engine.threading == IG_THREADING_INLINE)
			return fail(ec, m ? &m->root : &top, comp, 2,
				    "venue.kind %s cannot run inline (a live venue needs live time)",
				    venue->name);
		comp[0] = "journal";
		comp[1] = "enabled";
		if (!cfg->journal.enabled)
			return fail(ec, m ? &m->root : &top, comp, 2,
				    "venue.kind %s trades real money and needs the journal (client "
				    "order ids and crash recovery depend on it): set journal.enabled: true",
				    venue->name);
	}

	/* The API: TLS files come in pairs; a non-loopback address needs
	 * them unless plain remote access is asked for by name. */
	comp[0] = "api";
	if ((cfg->api.tls_cert[0] != '\0') != (cfg->api.tls_key[0] != '\0')) {
		comp[1] = cfg->api.tls_cert[0] ? "tls_key" : "tls_cert";
		return fail(ec, m ? &m->root : &top, comp, 2,
			    "api.tls_cert and api.tls_key go together: set both or neither");
	}
	if (cfg->api.listen[0] != '\0') {
		struct sockaddr_in6 sa;
		uint32_t salen;
		bool lo = false;
		const char *why = ig_config_api_addr(cfg->api.listen, &sa, sizeof(sa), &salen, &lo);
		comp[1] = "listen";
		if (why != NULL)
			return fail(ec, m ? &m->root : &top, comp, 2, "%s", why);
		if (!lo && cfg->api.tls_cert[0] == '\0' && !cfg->api.allow_plain_remote)
			return fail(ec, m ? &m->root : &top, comp, 2,
				    "\"%s\" is not a loopback address: set api.tls_cert and "
				    "api.tls_key (HTTPS), or api.allow_plain_remote: true to send "
				    "the token in the clear",
				    cfg->api.listen);
	}

	comp[0] = "strategies";
	comp[1] = idx;
	if (cfg->nstrategies > IG_MAX_STRATEGIES)
		return fail(ec, &top, comp, 1, "too many strategies (max %d)", IG_MAX_STRATEGIES);
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		const struct ig_cfg_strategy *s = &cfg->strategies[i];
		const struct where none = { 0, 0, NULL };
		struct where entry = strategy_where(NULL, &none, s);
		struct where at;

		snprintf(idx, sizeof(idx), "%" PRIu32, i);
		comp[2] = "name";
		if (s->name[0] == '\0')
			return fail(ec, &entry, comp, 3, "missing required key");
		comp[2] = "type";
		if (s->type[0] == '\0')
			return fail(ec, &entry, comp, 3, "missing required key");
		comp[2] = "thread";
		if (s->thread >= cfg->engine.strategy_threads) {
			at = strategy_where(m, m ? &m->thread[i] : &none, s);
			return fail(ec, &at, comp, 3, "%" PRIu32 " is out of range "
				    "(engine.strategy_threads is %" PRIu32 ")", s->thread,
				    cfg->engine.strategy_threads);
		}
		comp[2] = "name";
		for (uint32_t j = 0; j < i; j++) {
			if (strcmp(cfg->strategies[j].name, s->name) != 0)
				continue;
			at = strategy_where(m, m ? &m->name[i] : &none, s);
			return fail(ec, &at, comp, 3, "duplicate strategy name \"%s\" (also "
				    "strategies.%" PRIu32 ")", s->name, j);
		}
		comp[2] = "symbols";
		if (s->nsymbols > IG_CFG_MAX_SYMBOLS)
			return fail(ec, &entry, comp, 3, "too many symbols (max %d)",
				    IG_CFG_MAX_SYMBOLS);
		for (uint32_t a = 0; a < s->nsymbols; a++)
			for (uint32_t b = 0; b < a; b++)
				if (strcmp(s->symbols[a], s->symbols[b]) == 0)
					return fail(ec, &entry, comp, 3, "duplicate symbol \"%s\"",
						    s->symbols[a]);
		comp[2] = "params";
		if (s->nparams > IG_CFG_MAX_PARAMS)
			return fail(ec, &entry, comp, 3, "too many params (max %d)",
				    IG_CFG_MAX_PARAMS);
	}
	return 0;
}

/* ---- strategy types and declared params -------------------------------- */

/* Resolves s->plugin against the config file's directory into
 * s->plugin_path. Returns 0 or IG_ECONFIG. */
static int resolve_plugin_path(struct loader *ld, struct ig_cfg_strategy *s, const struct where *at,
			       const char *const *comp)
{
	const char *file = ld->cfg->file, *slash = strrchr(file, '/');
	char buf[IG_CFG_PATH_MAX];
	int w;

	if (s->plugin[0] == '/' || slash == NULL)
		w = snprintf(buf, sizeof(buf), "%s", s->plugin);
	else
		w = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - file), file, s->plugin);
	if (w < 0 || (size_t)w >= sizeof(buf))
		return fail(&ld->ec, at, comp, 3, "path too long once joined to the config's directory "
			    "(max %zu chars)", sizeof(buf) - 1);
	memcpy(s->plugin_path, buf, (size_t)w + 1);
	return 0;
}

/* Where param p of entry s came from: its file position, or its --set key
 * (written into setkey). */
static struct where param_where(const struct ig_cfg_param *p, uint32_t i, char *setkey, size_t cap)
{
	struct where w = { p->line, p->col, NULL };

	if (p->line == 0) {
		snprintf(setkey, cap, "strategies.%" PRIu32 ".params.%s", i, p->key);
		w.set_key = setkey;
	}
	return w;
}

/* The declaration named key in t, or NULL. */
static const struct ig_param_decl *find_decl(const struct ig_strategy_type *t, const char *key)
{
	if (t->params == NULL)
		return NULL;
	for (const struct ig_param_decl *d = t->params; d->name != NULL; d++)
		if (strcmp(d->name, key) == 0)
			return d;
	return NULL;
}

/* Resolves entry i to its type, loading its plugin, and checks its params
 * against the type's declaration; fills in defaults. Returns 0 or
 * IG_ECONFIG. */
static int check_strategy(struct loader *ld, uint32_t i)
{
	struct ig_cfg_strategy *s = &ld->cfg->strategies[i];
	const struct ig_strategy_type *t = NULL;
	const char *comp[4];
	char idx[12], why[IG_CFG_ERR_MAX], setkey[KEY_MAX];
	int rc;

	snprintf(idx, sizeof(idx), "%" PRIu32, i);
	comp[0] = "strategies";
	comp[1] = idx;
	if (s->plugin[0] != '\0') {
		comp[2] = "plugin";
		rc = resolve_plugin_path(ld, s, &ld->m.plugin[i], comp);
		if (rc != 0)
			return rc;
		rc = ig_strategy_plugin_load(s->plugin_path, s->type, &t, why, sizeof(why));
		if (rc != 0)
			return fail(&ld->ec, &ld->m.plugin[i], comp, 3, "plugin \"%s\": %s",
				    s->plugin_path, why);
	} else {
		s->plugin_path[0] = '\0';
		t = ig_strategy_builtin(s->type);
		if (t == NULL) {
			comp[2] = "type";
			return fail(&ld->ec, &ld->m.type[i], comp, 3,
				    "unknown strategy type \"%s\" (known: %s; or load one with plugin: PATH)",
				    s->type, ig_strategy_type_names(why, sizeof(why)));
		}
	}

	comp[2] = "params";
	/* The declaration itself: a plugin author's mistake, reported at the
	 * entry's type. */
	if (t->params != NULL) {
		uint32_t ndecl = 0;
		for (const struct ig_param_decl *d = t->params; d->name != NULL; d++, ndecl++) {
			comp[3] = d->name;
			if (ndecl >= IG_CFG_MAX_PARAMS)
				return fail(&ld->ec, &ld->m.type[i], comp, 3,
					    "type \"%s\" declares more than %d params", t->name,
					    IG_CFG_MAX_PARAMS);
			if (d->def != NULL && ig__param_check(d, d->def, why, sizeof(why)) != 0)
				return fail(&ld->ec, &ld->m.type[i], comp, 4,
					    "type \"%s\" declares an invalid default \"%s\": %s", t->name,
					    d->def, why);
		}
	}
	for (uint32_t k = 0; k < s->nparams; k++) {
		struct ig_cfg_param *p = &s->params[k];
		const struct ig_param_decl *d = find_decl(t, p->key);
		struct where at = param_where(p, i, setkey, sizeof(setkey));

		comp[3] = p->key;
		if (d == NULL) {
			char known[IG_CFG_ERR_MAX];
			size_t used = 0;

			if (t->params == NULL || t->params[0].name == NULL)
				return fail(&ld->ec, &at, comp, 4,
					    "unknown param: type \"%s\" takes no params", t->name);
			known[0] = '\0';
			for (const struct ig_param_decl *q = t->params; q->name != NULL && used < sizeof(known);
			     q++) {
				int w = snprintf(known + used, sizeof(known) - used, "%s%s",
						 used ? ", " : "", q->name);
				if (w < 0)
					break;
				used += (size_t)w;
			}
			return fail(&ld->ec, &at, comp, 4, "unknown param for type \"%s\" (known: %s)",
				    t->name, known);
		}
		if (ig__param_check(d, p->value, why, sizeof(why)) != 0)
			return fail(&ld->ec, &at, comp, 4, "%s", why);
	}
	if (t->params == NULL)
		return 0;
	for (const struct ig_param_decl *d = t->params; d->name != NULL; d++) {
		struct ig_cfg_param *p;
		size_t klen = strlen(d->name), vlen;

		if (ig_config_param(s, d->name) != NULL)
			continue;
		comp[3] = d->name;
		if (d->def == NULL)
			return fail(&ld->ec, &ld->m.params[i], comp, 4, "missing required param%s%s",
				    d->doc != NULL ? ": " : "", d->doc != NULL ? d->doc : "");
		vlen = strlen(d->def);
		if (s->nparams >= IG_CFG_MAX_PARAMS)
			return fail(&ld->ec, &ld->m.params[i], comp, 4,
				    "too many params with the defaults (max %d)", IG_CFG_MAX_PARAMS);
		if (klen >= sizeof(p->key) || vlen >= sizeof(p->value))
			return fail(&ld->ec, &ld->m.type[i], comp, 4,
				    "type \"%s\" declares a name or default that is too long", t->name);
		p = &s->params[s->nparams++];
		memset(p, 0, sizeof(*p));
		memcpy(p->key, d->name, klen + 1);
		memcpy(p->value, d->def, vlen + 1);
		p->line = s->line;
		p->col = s->col;
		p->is_default = true;
	}
	return 0;
}

/* ---- public API -------------------------------------------------------- */

static void risk_defaults(struct ig_cfg_risk *r)
{
	r->max_order_qty = IG_RISK_UNSET;
	r->max_order_notional = IG_RISK_UNSET;
	r->max_position_qty = IG_RISK_UNSET;
	r->max_open_orders = IG_RISK_UNSET;
	r->max_orders_per_sec = IG_RISK_UNSET;
	r->price_collar_bps = IG_RISK_UNSET;
	r->stale_data_ms = IG_RISK_UNSET;
	r->daily_loss_limit = IG_RISK_UNSET;
	r->max_drawdown_pct = IG_RISK_UNSET;
	r->duplicate_window_ms = IG_RISK_UNSET;
	r->tax_rate_pct = IG_RISK_UNSET;
	r->drawdown_action = IG_BREACH_REDUCING;
}

void ig_config_defaults(struct ig_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));

	cfg->engine.threading = IG_THREADING_DEDICATED;
	cfg->engine.wait = IG_WAIT_ADAPTIVE;
	cfg->engine.ring_size = IG_CFG_DEFAULT_RING_SIZE;
	cfg->engine.strategy_threads = IG_CFG_DEFAULT_STRATEGY_THREADS;
	cfg->engine.workers = IG_CFG_DEFAULT_WORKERS;
	cfg->engine.tick_shares_worker = false;
	cfg->engine.cancel_on_stop = true;
	cfg->engine.cpu_tick = -1;
	cfg->engine.cpu_oms = -1;
	cfg->engine.cpu_exec = -1;
	for (size_t i = 0; i < IG_MAX_STRATEGY_THREADS; i++) {
		cfg->engine.cpu_strategy[i] = -1;
		cfg->engine.cpu_workers[i] = -1;
	}

	cfg->feed.source = -1;
	cfg->feed.speed = 0;
	cfg->feed.heartbeat_ms = IG_CFG_DEFAULT_HEARTBEAT_MS;
	snprintf(cfg->feed.symbol, sizeof(cfg->feed.symbol), "%s", IG_CFG_DEFAULT_SYMBOL);
	cfg->feed.strict = false;
	cfg->feed.seed = IG_CFG_DEFAULT_SEED;
	cfg->feed.rate = 0;
	cfg->feed.count = IG_CFG_DEFAULT_COUNT;
	cfg->feed.start_px = IG_CFG_DEFAULT_START_PX;
	cfg->feed.tick_size = IG_CFG_DEFAULT_TICK_SIZE;
	cfg->feed.spread_bps = IG_CFG_DEFAULT_SPREAD_BPS;
	cfg->feed.qty = IG_CFG_DEFAULT_QTY;
	cfg->feed.nfiles = 0;
	cfg->feed.ncolumns = 0;
	cfg->feed.ts_format[0] = '\0';
	cfg->feed.from_ns = IG_CFG_FROM_UNSET;
	cfg->feed.to_ns = IG_CFG_TO_UNSET;
	cfg->feed.adjust = IG_ADJUST_NONE;
	cfg->feed.nsymbols = 0;
	cfg->feed.stream_timeout_ms = IG_CFG_DEFAULT_FEED_STREAM_TIMEOUT_MS;

	cfg->venue.kind = IG_VENUE_PAPER;
	snprintf(cfg->venue.base_url, sizeof(cfg->venue.base_url), "%s", IG_CFG_DEFAULT_VENUE_BASE_URL);
	cfg->venue.stream_url[0] = '\0';
	snprintf(cfg->venue.key_id_env, sizeof(cfg->venue.key_id_env), "%s", IG_CFG_DEFAULT_KEY_ID_ENV);
	snprintf(cfg->venue.secret_env, sizeof(cfg->venue.secret_env), "%s", IG_CFG_DEFAULT_SECRET_ENV);
	cfg->venue.maker_fee_bps = IG_CFG_DEFAULT_MAKER_FEE_BPS;
	cfg->venue.taker_fee_bps = IG_CFG_DEFAULT_TAKER_FEE_BPS;
	cfg->venue.connect_timeout_ms = IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->venue.timeout_ms = IG_CFG_DEFAULT_TIMEOUT_MS;
	cfg->venue.status_ms = 0;
	cfg->venue.user_stream = false;
	cfg->venue.stream_timeout_ms = IG_CFG_DEFAULT_VENUE_STREAM_TIMEOUT_MS;
	cfg->venue.requests_per_min = IG_CFG_DEFAULT_REQUESTS_PER_MIN;
	cfg->venue.price_scale = -1;
	cfg->venue.volume_scale = -1;
	cfg->venue.in_doubt_window_ms = -1;
	cfg->venue.market_buy_ioc_bps = IG_CFG_MARKET_BUY_IOC_BPS;
	cfg->venue.bar_fill = IG_CFG_DEFAULT_BAR_FILL;
	cfg->venue.max_volume_pct = IG_CFG_DEFAULT_MAX_VOLUME_PCT;
	cfg->venue.fee_per_order = IG_CFG_DEFAULT_FEE_PER_ORDER;
	cfg->venue.min_fee = IG_CFG_DEFAULT_MIN_FEE;
	cfg->venue.slippage_bps = IG_CFG_DEFAULT_SLIPPAGE_BPS;
	cfg->venue.latency_ms = IG_CFG_DEFAULT_LATENCY_MS;
	cfg->venue.latency_from[0] = '\0';
	cfg->venue.latency_seed = IG_CFG_DEFAULT_LATENCY_SEED;

	risk_defaults(&cfg->risk);

	snprintf(cfg->journal.path, sizeof(cfg->journal.path), "%s", IG_CFG_DEFAULT_JOURNAL_PATH);
	cfg->journal.sync = IG_JOURNAL_SYNC_ORDER;
	cfg->journal.enabled = false;
	cfg->journal.recover = IG_RECOVER_AUTO;
	cfg->journal.batch_ms = IG_CFG_DEFAULT_BATCH_MS;
	cfg->journal.batch_records = IG_CFG_DEFAULT_BATCH_RECORDS;
	cfg->journal.flush_ms = IG_CFG_DEFAULT_FLUSH_MS;
	cfg->journal.rotate_bytes = IG_CFG_DEFAULT_ROTATE_BYTES;
	cfg->journal.compact_bytes = IG_CFG_DEFAULT_COMPACT_BYTES;
	cfg->journal.reconcile_timeout_ms = IG_CFG_DEFAULT_RECONCILE_TIMEOUT_MS;
	cfg->journal.on_mismatch = IG_MISMATCH_HALT;
	cfg->journal.balance_tolerance = 0;

	cfg->report.equity_every_s = IG_CFG_DEFAULT_EQUITY_EVERY_S;
	cfg->report.annual_days = IG_CFG_DEFAULT_ANNUAL_DAYS;
	cfg->report.risk_free_pct = 0;
	cfg->report.chart_points = IG_CFG_DEFAULT_CHART_POINTS;

	cfg->api.listen[0] = '\0';
	snprintf(cfg->api.token_env, sizeof(cfg->api.token_env), "%s", IG_CFG_DEFAULT_API_TOKEN_ENV);
	cfg->api.publish_ms = IG_CFG_DEFAULT_API_PUBLISH_MS;
	cfg->api.tls_cert[0] = '\0';
	cfg->api.tls_key[0] = '\0';
	cfg->api.allow_plain_remote = false;

	cfg->store.kind = IG_CFG_DEFAULT_STORE_KIND;
	snprintf(cfg->store.path, sizeof(cfg->store.path), "%s", IG_CFG_DEFAULT_STORE_PATH);
	snprintf(cfg->store.url_env, sizeof(cfg->store.url_env), "%s", IG_CFG_DEFAULT_STORE_URL_ENV);
	cfg->store.daemon_id[0] = '\0'; /* the file's base name, at load */
	cfg->store.equity_every_s = IG_CFG_DEFAULT_STORE_EQUITY_EVERY_S;

	for (uint32_t i = 0; i < IG_MAX_STRATEGIES; i++) {
		struct ig_cfg_strategy *s = &cfg->strategies[i];
		s->thread = 0;
		s->capital = IG_CFG_DEFAULT_CAPITAL;
		s->nsymbols = 0;
		s->nparams = 0;
		risk_defaults(&s->risk);
		s->risk.drawdown_action = IG_BREACH_INHERIT;
		s->index = i;
	}
	cfg->nstrategies = 0;
}

/* store.daemon_id's default: the base name of cfg->file without its
 * extension ("ingenium" for config/ingenium.yaml; "ingenium" if that
 * leaves nothing). */
static void store_default_daemon_id(struct ig_config *cfg)
{
	const char *b = strrchr(cfg->file, '/');
	const char *dot;
	size_t n;

	b = b != NULL ? b + 1 : cfg->file;
	dot = strrchr(b, '.');
	n = dot != NULL && dot != b ? (size_t)(dot - b) : strlen(b);
	if (n == 0) {
		snprintf(cfg->store.daemon_id, sizeof(cfg->store.daemon_id), "ingenium");
		return;
	}
	if (n >= sizeof(cfg->store.daemon_id))
		n = sizeof(cfg->store.daemon_id) - 1;
	memcpy(cfg->store.daemon_id, b, n);
	cfg->store.daemon_id[n] = '\0';
}

int ig_config_store_kind(const struct ig_config *cfg, bool live)
{
	if (cfg->store.kind == IG_STORE_AUTO)
		return live ? IG_STORE_SQLITE : IG_STORE_OFF;
	return cfg->store.kind;
}

int ig_config_load(struct ig_config *cfg, const char *path, const struct ig_cfg_override *ovr,
		   size_t novr, char *err, size_t errlen)
{
	struct loader ld;
	struct stat st;
	FILE *f;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (cfg == NULL || path == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "ig_config_load: no config or path");
		return IG_EINVAL;
	}
	ig_config_defaults(cfg);
	memset(&ld, 0, sizeof(ld));
	ld.cfg = cfg;
	ld.ec.file = path;
	ld.ec.err = err;
	ld.ec.errlen = errlen;
	ld.m.root = (struct where){ 1, 1, NULL };
	ld.m.feed = ld.m.root;

	if (strlen(path) >= sizeof(cfg->file)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: path too long (max %zu chars)", path,
				 sizeof(cfg->file) - 1);
		return IG_ECONFIG;
	}
	memcpy(cfg->file, path, strlen(path) + 1);

	f = fopen(path, "rb");
	if (f == NULL) {
		int e = errno;
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return e == ENOENT || e == ENOTDIR ? IG_ENOENT : IG_EIO;
	}
	/* fopen() accepts a directory on Linux; reading it fails later with a
	 * confusing libyaml message. */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(EISDIR));
		fclose(f);
		return IG_EIO;
	}
	rc = load_file(&ld, f);
	fclose(f);
	if (rc != 0)
		return rc;

	for (size_t i = 0; i < novr; i++) {
		rc = apply_override(&ld, &ovr[i]);
		if (rc != 0)
			return rc;
	}
	if (cfg->store.daemon_id[0] == '\0')
		store_default_daemon_id(cfg);

	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		struct ig_cfg_strategy *s = &cfg->strategies[i];
		if (s->nsymbols == 0) {
			/* The feed's first symbol: feed.symbol for one file. */
			char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
			if (ig_feed_symbols(cfg, names) > 0)
				memcpy(s->symbols[0], names[0], sizeof(s->symbols[0]));
			else
				memcpy(s->symbols[0], cfg->feed.symbol, sizeof(s->symbols[0]));
			s->nsymbols = 1;
		}
	}
	rc = validate(cfg, &ld.m, &ld.ec);
	for (uint32_t i = 0; rc == 0 && i < cfg->nstrategies; i++)
		rc = check_strategy(&ld, i);
	return rc;
}

int ig_config_validate(const struct ig_config *cfg, char *err, size_t errlen)
{
	struct errctx ec = { cfg->file[0] ? cfg->file : "(config)", err, errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return validate(cfg, NULL, &ec);
}

const struct ig_cfg_param *ig_config_param(const struct ig_cfg_strategy *s, const char *key)
{
	if (s == NULL || key == NULL)
		return NULL;
	for (uint32_t i = 0; i < s->nparams && i < IG_CFG_MAX_PARAMS; i++)
		if (strcmp(s->params[i].key, key) == 0)
			return &s->params[i];
	return NULL;
}

/* ------------------------------------------------------------ as JSON */

/* One schema field of the struct at base as JSON (IG_RISK_UNSET, an unset
 * feed.from/to: null). New reference or NULL. */
static json_t *field_json(const struct field *f, const void *base)
{
	const char *p = (const char *)base + f->off;
	char buf[IG_FIXED_STRLEN];

	switch (f->type) {
	case FT_INT: {
		int v;
		memcpy(&v, p, sizeof(v));
		return json_integer(v);
	}
	case FT_I64:
	case FT_FIXED:
	case FT_TIME: {
		int64_t v;
		memcpy(&v, p, sizeof(v));
		if (v == IG_RISK_UNSET || (f->type == FT_TIME && v == IG_CFG_TO_UNSET))
			return json_null(); /* IG_RISK_UNSET == IG_CFG_FROM_UNSET */
		if (f->type != FT_FIXED)
			return json_integer((json_int_t)v);
		ig_fixed_format(v, buf, sizeof(buf));
		return json_string(buf);
	}
	case FT_U32: {
		uint32_t v;
		memcpy(&v, p, sizeof(v));
		return json_integer((json_int_t)v);
	}
	case FT_U64: {
		uint64_t v;
		memcpy(&v, p, sizeof(v));
		snprintf(buf, sizeof(buf), "%" PRIu64, v); /* may not fit a JSON integer */
		return json_string(buf);
	}
	case FT_BOOL: {
		bool v;
		memcpy(&v, p, sizeof(v));
		return json_boolean(v);
	}
	case FT_STR:
		return json_stringn(p, strnlen(p, f->size));
	case FT_ENUM: {
		int v;
		const char *name = NULL;
		memcpy(&v, p, sizeof(v));
		if (v < 0)
			return json_string("inherit"); /* IG_BREACH_INHERIT */
		if (f->name_at != NULL)
			name = f->name_at(v);
		else
			for (int i = 0; f->names != NULL && f->names[i] != NULL && name == NULL; i++)
				if (i == v)
					name = f->names[i];
		return name != NULL ? json_string(name) : json_integer(v);
	}
	case FT_CPUS: {
		int v[IG_MAX_STRATEGY_THREADS];
		json_t *a = json_array();
		memcpy(v, p, sizeof(v));
		for (int i = 0; a != NULL && i < IG_MAX_STRATEGY_THREADS; i++)
			json_array_append_new(a, json_integer(v[i]));
		return a;
	}
	}
	return json_null();
}

/* Every field of a table as an object; FT_TIME keys get "_ns". */
static json_t *fields_json(const struct field *fields, size_t n, const void *base)
{
	json_t *o = json_object();
	char key[64];

	for (size_t i = 0; o != NULL && i < n; i++) {
		snprintf(key, sizeof(key), "%s%s", fields[i].name,
			 fields[i].type == FT_TIME ? "_ns" : "");
		if (json_object_set_new(o, key, field_json(&fields[i], base)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *ig_config_json(const struct ig_config *cfg)
{
	json_t *root = json_object(), *feed, *files, *cols, *syms, *strats;

	if (root == NULL)
		return NULL;
	json_object_set_new(root, "file", json_string(cfg->file));
	json_object_set_new(root, "engine", fields_json(engine_fields, NELEM(engine_fields), &cfg->engine));
	feed = fields_json(feed_fields, NELEM(feed_fields), &cfg->feed);
	files = json_array();
	cols = json_object();
	syms = json_array();
	for (uint32_t i = 0; files != NULL && i < cfg->feed.nfiles; i++)
		json_array_append_new(files, json_pack("{s:s, s:s}", "path", cfg->feed.files[i].path,
						       "symbol", cfg->feed.files[i].symbol));
	for (uint32_t i = 0; cols != NULL && i < cfg->feed.ncolumns; i++)
		json_object_set_new(cols, cfg->feed.columns[i].key,
				    json_string(cfg->feed.columns[i].name));
	for (uint32_t i = 0; syms != NULL && i < cfg->feed.nsymbols; i++)
		json_array_append_new(syms, json_string(cfg->feed.symbols[i]));
	if (feed != NULL) {
		json_object_set_new(feed, "files", files);
		json_object_set_new(feed, "columns", cols);
		json_object_set_new(feed, "symbols", syms);
	} else {
		json_decref(files);
		json_decref(cols);
		json_decref(syms);
	}
	json_object_set_new(root, "feed", feed);
	json_object_set_new(root, "venue", fields_json(venue_fields, NELEM(venue_fields), &cfg->venue));
	json_object_set_new(root, "risk", fields_json(risk_fields, NELEM(risk_fields), &cfg->risk));
	json_object_set_new(root, "journal",
			    fields_json(journal_fields, NELEM(journal_fields), &cfg->journal));
	json_object_set_new(root, "report", fields_json(report_fields, NELEM(report_fields), &cfg->report));
	json_object_set_new(root, "api", fields_json(api_fields, NELEM(api_fields), &cfg->api));
	json_object_set_new(root, "store", fields_json(store_fields, NELEM(store_fields), &cfg->store));
	strats = json_array();
	for (uint32_t i = 0; strats != NULL && i < cfg->nstrategies; i++) {
		const struct ig_cfg_strategy *st = &cfg->strategies[i];
		json_t *e = fields_json(strategy_fields, NELEM(strategy_fields), st);
		json_t *ss = json_array(), *params = json_object();
		for (uint32_t k = 0; ss != NULL && k < st->nsymbols; k++)
			json_array_append_new(ss, json_string(st->symbols[k]));
		for (uint32_t k = 0; params != NULL && k < st->nparams; k++)
			json_object_set_new(params, st->params[k].key, json_string(st->params[k].value));
		if (e == NULL) {
			json_decref(ss);
			json_decref(params);
			continue;
		}
		json_object_set_new(e, "symbols", ss);
		json_object_set_new(e, "params", params);
		json_object_set_new(e, "risk", fields_json(risk_fields, NELEM(risk_fields), &st->risk));
		json_array_append_new(strats, e);
	}
	json_object_set_new(root, "strategies", strats);
	return root;
}
