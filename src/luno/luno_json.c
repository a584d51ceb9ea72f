/* luno_json.c - Luno reply parsers (see luno_json.h). */
#include "luno/luno_json.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char json_err[192];

const char *ig_luno_json_error(void)
{
	return json_err;
}

/* Records why a parse failed and returns IG_EPARSE. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(json_err, sizeof(json_err), fmt, ap);
	va_end(ap);
	return IG_EPARSE;
}

/* ------------------------------------------------------------ error codes */

static const struct {
	const char *code;
	int reason;
	int action;
} err_tab[IG_LUNO_ERR__COUNT] = {
	[IG_LUNO_ERR_NONE] = { "none", IG_RJ_NONE, IG_LUNO_ACT_REJECT },
#define IG__LUNO_ERR_TAB(name, str, rs, act) \
	[IG_LUNO_ERR_##name] = { str, rs, IG_LUNO_ACT_##act },
	IG_LUNO_ERR_MAP(IG__LUNO_ERR_TAB)
#undef IG__LUNO_ERR_TAB
	[IG_LUNO_ERR_UNKNOWN] = { "unknown", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
};

int ig_luno_err_from_code(const char *code)
{
	if (code == NULL || code[0] == '\0')
		return IG_LUNO_ERR_NONE;
	for (int i = IG_LUNO_ERR_NONE + 1; i < IG_LUNO_ERR_UNKNOWN; i++)
		if (strcmp(code, err_tab[i].code) == 0)
			return i;
	return IG_LUNO_ERR_UNKNOWN;
}

int ig_luno_err_reason(int err)
{
	if (err <= IG_LUNO_ERR_NONE || err >= IG_LUNO_ERR__COUNT)
		return IG_RJ_VENUE;
	return err_tab[err].reason;
}

int ig_luno_err_action(int err)
{
	if (err <= IG_LUNO_ERR_NONE || err >= IG_LUNO_ERR__COUNT)
		return IG_LUNO_ACT_REJECT;
	return err_tab[err].action;
}

const char *ig_luno_err_name(int err)
{
	if (err < IG_LUNO_ERR_NONE || err >= IG_LUNO_ERR__COUNT)
		return "unknown";
	return err_tab[err].code;
}

/* ---------------------------------------------------------------- helpers */

/* Decodes body as one JSON object. NULL (error recorded) otherwise. */
static json_t *load_object(const char *body, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *root;

	json_err[0] = '\0';
	if (body == NULL || len == 0) {
		fail("%s: empty body", what);
		return NULL;
	}
	/* Duplicate keys are refused: which one would be "the" value? */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fail("%s: not JSON (line %d col %d: %.80s)", what, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		fail("%s: not a JSON object", what);
		return NULL;
	}
	return root;
}

enum need { OPTIONAL = 0, REQUIRED = 1 };

/* Copies the string member key into dst (capacity cap). Absent and optional:
 * dst = "" and 0. Wrong type, embedded NUL or too long: IG_EPARSE. */
static int get_str(const json_t *obj, const char *key, enum need need, char *dst, size_t cap,
		   const char *ctx)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		if (need == REQUIRED)
			return fail("%s.%s: missing", ctx, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail("%s.%s: not a string", ctx, key);
	s = json_string_value(v);
	n = json_string_length(v);
	if (strlen(s) != n)
		return fail("%s.%s: contains a NUL byte", ctx, key);
	if (n >= cap)
		return fail("%s.%s: longer than %zu bytes", ctx, key, cap - 1);
	memcpy(dst, s, n + 1);
	return 0;
}

enum sign { ANY_SIGN = 0, NON_NEGATIVE, POSITIVE };

/* Parses the decimal-string member key exactly into *out (1e-8). Absent and
 * optional: *out = dflt. */
static int get_dec(const json_t *obj, const char *key, enum need need, enum sign sign, int64_t dflt,
		   int64_t *out, const char *ctx)
{
	const json_t *v = json_object_get(obj, key);
	int64_t x;
	int rc;

	*out = dflt;
	if (v == NULL || json_is_null(v)) {
		if (need == REQUIRED)
			return fail("%s.%s: missing", ctx, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail("%s.%s: not a decimal string", ctx, key);
	rc = ig_fixed_parse_round(json_string_value(v), json_string_length(v), &x);
	if (rc != 0)
		return fail("%s.%s: %s (\"%.40s\")", ctx, key,
			    rc == IG_ERANGE ? "out of range" : rc == IG_EPRECISION ? "too many decimals"
										  : "not a decimal",
			    json_string_value(v));
	if (sign == NON_NEGATIVE && x < 0)
		return fail("%s.%s: negative", ctx, key);
	if (sign == POSITIVE && x <= 0)
		return fail("%s.%s: not positive", ctx, key);
	*out = x;
	return 0;
}

/* Parses the integer member key, in [lo, hi]. Absent and optional: dflt. */
static int get_int(const json_t *obj, const char *key, enum need need, int64_t lo, int64_t hi,
		   int64_t dflt, int64_t *out, const char *ctx)
{
	const json_t *v = json_object_get(obj, key);
	json_int_t x;

	*out = dflt;
	if (v == NULL || json_is_null(v)) {
		if (need == REQUIRED)
			return fail("%s.%s: missing", ctx, key);
		return 0;
	}
	if (!json_is_integer(v))
		return fail("%s.%s: not an integer", ctx, key);
	x = json_integer_value(v);
	if (x < lo || x > hi)
		return fail("%s.%s: %lld out of range", ctx, key, (long long)x);
	*out = (int64_t)x;
	return 0;
}

/* Optional boolean: 1, 0, or -1 when absent. */
static int get_bool(const json_t *obj, const char *key, int8_t *out, const char *ctx)
{
	const json_t *v = json_object_get(obj, key);
	*out = -1;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return fail("%s.%s: not a boolean", ctx, key);
	*out = json_is_true(v) ? 1 : 0;
	return 0;
}

/* BID/BUY -> buy, ASK/SELL -> sell, "" -> none; anything else refused. */
static int side_of(const char *s, uint8_t *side, const char *ctx, const char *key)
{
	if (s[0] == '\0')
		*side = IG_SIDE_NONE;
	else if (strcmp(s, "BID") == 0 || strcmp(s, "BUY") == 0)
		*side = IG_SIDE_BUY;
	else if (strcmp(s, "ASK") == 0 || strcmp(s, "SELL") == 0)
		*side = IG_SIDE_SELL;
	else
		return fail("%s.%s: unknown side \"%.20s\"", ctx, key, s);
	return 0;
}

/* ---------------------------------------------------------------- parsers */

int ig_luno_parse_error(const char *body, size_t len, struct ig_luno_error *out)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load_object(body, len, "error");
	if (root == NULL)
		return IG_EPARSE;
	/* Both are free text from the server; keep what fits. */
	{
		const json_t *c = json_object_get(root, "error_code");
		const json_t *m = json_object_get(root, "error");
		rc = 0;
		if (c != NULL && !json_is_null(c) && !json_is_string(c))
			rc = fail("error.error_code: not a string");
		else if (m != NULL && !json_is_null(m) && !json_is_string(m))
			rc = fail("error.error: not a string");
		else if ((c == NULL || json_is_null(c)) && (m == NULL || json_is_null(m)))
			rc = fail("error: neither error nor error_code");
		if (rc == 0) {
			if (json_is_string(c))
				snprintf(out->code_str, sizeof(out->code_str), "%s", json_string_value(c));
			if (json_is_string(m))
				snprintf(out->message, sizeof(out->message), "%s", json_string_value(m));
			out->code = ig_luno_err_from_code(out->code_str);
			if (out->code == IG_LUNO_ERR_NONE)
				out->code = IG_LUNO_ERR_UNKNOWN;
		}
	}
	json_decref(root);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int ig_luno_parse_order_id(const char *body, size_t len, char *order_id, size_t cap)
{
	json_t *root;
	int rc;

	if (cap > 0)
		order_id[0] = '\0';
	root = load_object(body, len, "order");
	if (root == NULL)
		return IG_EPARSE;
	rc = get_str(root, "order_id", REQUIRED, order_id, cap, "order");
	if (rc == 0 && order_id[0] == '\0')
		rc = fail("order.order_id: empty");
	json_decref(root);
	if (rc != 0 && cap > 0)
		order_id[0] = '\0';
	return rc;
}

int ig_luno_parse_success(const char *body, size_t len, bool *ok)
{
	json_t *root;
	const json_t *v;
	int rc = 0;

	*ok = false;
	root = load_object(body, len, "stoporder");
	if (root == NULL)
		return IG_EPARSE;
	v = json_object_get(root, "success");
	if (v == NULL || !json_is_boolean(v))
		rc = fail("stoporder.success: missing or not a boolean");
	else
		*ok = json_is_true(v);
	json_decref(root);
	return rc;
}

/* Fills out from one order object (v3 or v1 shape); ctx names it. */
static int order_of(const json_t *root, struct ig_luno_order_status *out, const char *ctx)
{
	char status[16], side[8], type[16], tif[8];
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root))
		return fail("%s: not an object", ctx);
	rc = get_str(root, "order_id", REQUIRED, out->order_id, sizeof(out->order_id), ctx);
	if (rc == 0 && out->order_id[0] == '\0')
		rc = fail("%s.order_id: empty", ctx);
	if (rc == 0)
		rc = get_str(root, "client_order_id", OPTIONAL, out->client_order_id,
			     sizeof(out->client_order_id), ctx);
	if (rc == 0) {
		/* v3 says "status"; the older shapes say "state". */
		rc = get_str(root, "status", OPTIONAL, status, sizeof(status), ctx);
		if (rc == 0 && status[0] == '\0')
			rc = get_str(root, "state", REQUIRED, status, sizeof(status), ctx);
	}
	if (rc == 0) {
		if (strcmp(status, "AWAITING") == 0)
			out->status = IG_LUNO_ST_AWAITING;
		else if (strcmp(status, "PENDING") == 0)
			out->status = IG_LUNO_ST_PENDING;
		else if (strcmp(status, "COMPLETE") == 0)
			out->status = IG_LUNO_ST_COMPLETE;
		else
			rc = fail("%s.status: unknown status \"%.15s\"", ctx, status);
	}
	if (rc == 0)
		rc = get_str(root, "side", OPTIONAL, side, sizeof(side), ctx);
	if (rc == 0)
		rc = side_of(side, &out->side, ctx, "side");
	if (rc == 0 && out->side == IG_SIDE_NONE) {
		/* v3 "type" is LIMIT/MARKET/...; v1 "type" is BID/ASK/BUY/SELL. */
		rc = get_str(root, "type", OPTIONAL, type, sizeof(type), ctx);
		if (rc == 0 && (strcmp(type, "BID") == 0 || strcmp(type, "ASK") == 0 ||
				strcmp(type, "BUY") == 0 || strcmp(type, "SELL") == 0))
			rc = side_of(type, &out->side, ctx, "type");
	}
	if (rc == 0)
		rc = get_dec(root, "base", REQUIRED, NON_NEGATIVE, 0, &out->base, ctx);
	if (rc == 0)
		rc = get_dec(root, "counter", REQUIRED, NON_NEGATIVE, 0, &out->counter, ctx);
	if (rc == 0)
		rc = get_dec(root, "fee_base", OPTIONAL, NON_NEGATIVE, 0, &out->fee_base, ctx);
	if (rc == 0)
		rc = get_dec(root, "fee_counter", OPTIONAL, NON_NEGATIVE, 0, &out->fee_counter, ctx);
	if (rc == 0)
		rc = get_dec(root, "limit_price", OPTIONAL, NON_NEGATIVE, 0, &out->limit_price, ctx);
	if (rc == 0)
		rc = get_dec(root, "limit_volume", OPTIONAL, NON_NEGATIVE, 0, &out->limit_volume, ctx);
	if (rc == 0)
		rc = get_int(root, "creation_timestamp", OPTIONAL, 0, INT64_MAX / 1000000, 0,
			     &out->created_ms, ctx);
	if (rc == 0)
		rc = get_str(root, "pair", OPTIONAL, out->pair, sizeof(out->pair), ctx);
	if (rc == 0)
		rc = get_str(root, "time_in_force", OPTIONAL, tif, sizeof(tif), ctx);
	if (rc == 0) {
		if (tif[0] == '\0' || strcmp(tif, "GTC") == 0)
			out->tif = IG_TIF_GTC;
		else if (strcmp(tif, "IOC") == 0)
			out->tif = IG_TIF_IOC;
		else if (strcmp(tif, "FOK") == 0)
			out->tif = IG_TIF_FOK;
		else
			rc = fail("%s.time_in_force: unknown \"%.7s\"", ctx, tif);
	}
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int ig_luno_parse_order(const char *body, size_t len, struct ig_luno_order_status *out)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load_object(body, len, "order");
	if (root == NULL)
		return IG_EPARSE;
	rc = order_of(root, out, "order");
	json_decref(root);
	return rc;
}

int ig_luno_parse_orders(const char *body, size_t len, struct ig_luno_order_status *out,
			 size_t cap, size_t *n)
{
	json_t *root;
	const json_t *arr;
	size_t count;
	int rc = 0;

	*n = 0;
	root = load_object(body, len, "listorders");
	if (root == NULL)
		return IG_EPARSE;
	arr = json_object_get(root, "orders");
	/* Luno sends "orders": null when there are none. */
	if (arr == NULL || json_is_null(arr)) {
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr)) {
		json_decref(root);
		return fail("listorders.orders: not an array");
	}
	count = json_array_size(arr);
	if (count > cap) {
		json_decref(root);
		return fail("listorders.orders: %zu orders, more than the %zu asked for", count, cap);
	}
	for (size_t i = 0; i < count && rc == 0; i++) {
		char ctx[32];
		snprintf(ctx, sizeof(ctx), "orders[%zu]", i);
		rc = order_of(json_array_get(arr, i), &out[i], ctx);
	}
	json_decref(root);
	if (rc != 0)
		return rc;
	*n = count;
	return 0;
}

int ig_luno_parse_balance(const char *body, size_t len, const char *const *assets,
			  size_t nassets, int64_t *totals)
{
	json_t *root;
	const json_t *arr;
	int rc = 0;

	for (size_t a = 0; a < nassets; a++)
		totals[a] = 0;
	root = load_object(body, len, "balance");
	if (root == NULL)
		return IG_EPARSE;
	arr = json_object_get(root, "balance");
	if (arr == NULL || json_is_null(arr)) {
		/* No accounts at all: every total is 0. */
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr)) {
		json_decref(root);
		return fail("balance.balance: not an array");
	}
	for (size_t i = 0; i < json_array_size(arr) && rc == 0; i++) {
		const json_t *e = json_array_get(arr, i);
		char ctx[32], asset[IG_LUNO_ASSET_MAX];
		int64_t bal = 0;

		snprintf(ctx, sizeof(ctx), "balance[%zu]", i);
		if (!json_is_object(e)) {
			rc = fail("%s: not an object", ctx);
			break;
		}
		rc = get_str(e, "asset", REQUIRED, asset, sizeof(asset), ctx);
		if (rc == 0 && asset[0] == '\0')
			rc = fail("%s.asset: empty", ctx);
		if (rc == 0)
			rc = get_dec(e, "balance", REQUIRED, ANY_SIGN, 0, &bal, ctx);
		for (size_t a = 0; rc == 0 && a < nassets; a++) {
			if (assets[a] == NULL || strcmp(assets[a], asset) != 0)
				continue;
			if (__builtin_add_overflow(totals[a], bal, &totals[a]))
				rc = fail("%s.balance: the total of %s is out of range", ctx, asset);
		}
	}
	json_decref(root);
	if (rc != 0)
		for (size_t a = 0; a < nassets; a++)
			totals[a] = 0;
	return rc;
}

static int parse_trade(const json_t *t, size_t i, struct ig_luno_trade *out)
{
	char ctx[32], type[8];
	int64_t seq;
	int rc;

	snprintf(ctx, sizeof(ctx), "trades[%zu]", i);
	memset(out, 0, sizeof(*out));
	if (!json_is_object(t))
		return fail("%s: not an object", ctx);
	rc = get_int(t, "sequence", REQUIRED, 1, INT64_MAX, 0, &seq, ctx);
	if (rc == 0) {
		out->sequence = (uint64_t)seq;
		rc = get_str(t, "order_id", REQUIRED, out->order_id, sizeof(out->order_id), ctx);
	}
	if (rc == 0 && out->order_id[0] == '\0')
		rc = fail("%s.order_id: empty", ctx);
	if (rc == 0)
		rc = get_str(t, "client_order_id", OPTIONAL, out->client_order_id,
			     sizeof(out->client_order_id), ctx);
	if (rc == 0)
		rc = get_dec(t, "price", REQUIRED, POSITIVE, 0, &out->price, ctx);
	if (rc == 0)
		rc = get_dec(t, "volume", REQUIRED, POSITIVE, 0, &out->volume, ctx);
	if (rc == 0)
		rc = get_dec(t, "base", OPTIONAL, NON_NEGATIVE, out->volume, &out->base, ctx);
	if (rc == 0)
		rc = get_dec(t, "counter", OPTIONAL, NON_NEGATIVE, 0, &out->counter, ctx);
	if (rc == 0)
		rc = get_dec(t, "fee_base", OPTIONAL, NON_NEGATIVE, 0, &out->fee_base, ctx);
	if (rc == 0)
		rc = get_dec(t, "fee_counter", OPTIONAL, NON_NEGATIVE, 0, &out->fee_counter, ctx);
	if (rc == 0)
		rc = get_int(t, "timestamp", OPTIONAL, 0, INT64_MAX / 1000000, 0, &out->timestamp_ms, ctx);
	if (rc == 0)
		rc = get_str(t, "type", OPTIONAL, type, sizeof(type), ctx);
	if (rc == 0)
		rc = side_of(type, &out->side, ctx, "type");
	if (rc == 0)
		rc = get_bool(t, "is_buy", &out->is_buy, ctx);
	return rc;
}

int ig_luno_parse_trades(const char *body, size_t len, struct ig_luno_trade *out, size_t cap,
			 size_t *n)
{
	json_t *root;
	const json_t *arr;
	size_t count;
	int rc = 0;

	*n = 0;
	root = load_object(body, len, "listtrades");
	if (root == NULL)
		return IG_EPARSE;
	arr = json_object_get(root, "trades");
	/* Luno omits "trades" (or sends null) when there are none. */
	if (arr == NULL || json_is_null(arr)) {
		json_decref(root);
		return 0;
	}
	if (!json_is_array(arr)) {
		json_decref(root);
		return fail("listtrades.trades: not an array");
	}
	count = json_array_size(arr);
	if (count > cap) {
		json_decref(root);
		return fail("listtrades.trades: %zu trades, more than the %zu asked for", count, cap);
	}
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = parse_trade(json_array_get(arr, i), i, &out[i]);
	json_decref(root);
	if (rc != 0)
		return rc;
	*n = count;
	return 0;
}

int ig_luno_parse_ticker(const char *body, size_t len, struct ig_luno_ticker *out)
{
	const char *ctx = "ticker";
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load_object(body, len, ctx);
	if (root == NULL)
		return IG_EPARSE;
	rc = get_dec(root, "bid", REQUIRED, NON_NEGATIVE, 0, &out->bid, ctx);
	if (rc == 0)
		rc = get_dec(root, "ask", REQUIRED, NON_NEGATIVE, 0, &out->ask, ctx);
	if (rc == 0)
		rc = get_int(root, "timestamp", OPTIONAL, 0, INT64_MAX / 1000000, 0, &out->timestamp_ms, ctx);
	json_decref(root);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* The first level of side ("bids"/"asks"): price and volume, 0/0 if empty. */
static int top_level(const json_t *root, const char *side, int64_t *px, int64_t *qty)
{
	const json_t *arr = json_object_get(root, side), *lvl;
	char ctx[32];
	int rc;

	*px = *qty = 0;
	if (arr == NULL || json_is_null(arr))
		return fail("orderbook_top.%s: missing", side);
	if (!json_is_array(arr))
		return fail("orderbook_top.%s: not an array", side);
	if (json_array_size(arr) == 0)
		return 0;
	lvl = json_array_get(arr, 0);
	snprintf(ctx, sizeof(ctx), "orderbook_top.%s[0]", side);
	if (!json_is_object(lvl))
		return fail("%s: not an object", ctx);
	rc = get_dec(lvl, "price", REQUIRED, POSITIVE, 0, px, ctx);
	if (rc == 0)
		rc = get_dec(lvl, "volume", REQUIRED, POSITIVE, 0, qty, ctx);
	return rc;
}

int ig_luno_parse_top(const char *body, size_t len, struct ig_luno_top *out)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	root = load_object(body, len, "orderbook_top");
	if (root == NULL)
		return IG_EPARSE;
	rc = top_level(root, "bids", &out->bid_px, &out->bid_qty);
	if (rc == 0)
		rc = top_level(root, "asks", &out->ask_px, &out->ask_qty);
	if (rc == 0)
		rc = get_int(root, "timestamp", OPTIONAL, 0, INT64_MAX / 1000000, 0, &out->timestamp_ms,
			     "orderbook_top");
	json_decref(root);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

static int parse_market(const json_t *m, struct ig_luno_market *out, const char *ctx)
{
	char status[24];
	int64_t ps, vs;
	int rc;

	rc = get_int(m, "price_scale", REQUIRED, 0, 18, 0, &ps, ctx);
	if (rc == 0)
		rc = get_int(m, "volume_scale", REQUIRED, 0, 18, 0, &vs, ctx);
	if (rc == 0)
		rc = get_dec(m, "min_volume", OPTIONAL, NON_NEGATIVE, 0, &out->min_volume, ctx);
	if (rc == 0)
		rc = get_dec(m, "max_volume", OPTIONAL, NON_NEGATIVE, 0, &out->max_volume, ctx);
	if (rc == 0)
		rc = get_dec(m, "min_price", OPTIONAL, NON_NEGATIVE, 0, &out->min_price, ctx);
	if (rc == 0)
		rc = get_dec(m, "max_price", OPTIONAL, NON_NEGATIVE, 0, &out->max_price, ctx);
	if (rc == 0)
		rc = get_str(m, "trading_status", OPTIONAL, status, sizeof(status), ctx);
	if (rc == 0)
		rc = get_str(m, "base_currency", OPTIONAL, out->base, sizeof(out->base), ctx);
	if (rc == 0)
		rc = get_str(m, "counter_currency", OPTIONAL, out->counter, sizeof(out->counter), ctx);
	if (rc != 0)
		return rc;
	/* Our money has 8 decimals: a finer scale is used at 8. */
	out->price_scale = (int)(ps > IG_FIXED_DECIMALS ? IG_FIXED_DECIMALS : ps);
	out->volume_scale = (int)(vs > IG_FIXED_DECIMALS ? IG_FIXED_DECIMALS : vs);
	out->active = status[0] == '\0' || strcmp(status, "ACTIVE") == 0;
	return 0;
}

int ig_luno_parse_markets(const char *body, size_t len, const char *pair,
			  struct ig_luno_market *out)
{
	json_t *root;
	const json_t *arr;
	int rc = IG_ENOTFOUND;

	memset(out, 0, sizeof(*out));
	root = load_object(body, len, "markets");
	if (root == NULL)
		return IG_EPARSE;
	arr = json_object_get(root, "markets");
	if (arr == NULL || !json_is_array(arr)) {
		json_decref(root);
		return fail("markets.markets: missing or not an array");
	}
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *m = json_array_get(arr, i);
		char id[IG_LUNO_PAIR_MAX * 2], ctx[32];
		snprintf(ctx, sizeof(ctx), "markets[%zu]", i);
		if (!json_is_object(m)) {
			rc = fail("%s: not an object", ctx);
			break;
		}
		if (get_str(m, "market_id", REQUIRED, id, sizeof(id), ctx) != 0) {
			rc = IG_EPARSE;
			break;
		}
		if (strcmp(id, pair) != 0)
			continue;
		snprintf(out->pair, sizeof(out->pair), "%s", pair);
		rc = parse_market(m, out, ctx);
		break;
	}
	json_decref(root);
	if (rc == IG_ENOTFOUND)
		snprintf(json_err, sizeof(json_err), "markets: %.20s is not listed", pair);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
