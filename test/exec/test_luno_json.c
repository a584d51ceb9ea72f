/*
 * test_luno_json.c - the Luno reply parsers (src/luno/luno_json.c): good
 * replies parse exactly; hostile ones (empty, HTML, truncated, wrong types,
 * huge numbers, negative volumes, missing fields, duplicate keys, deep
 * nesting, NUL bytes) are refused with IG_EPARSE and never crash.
 *
 * Decimal rule under test: up to 18 decimals are accepted and rounded to
 * 1e-8 (halves away from zero); 19 decimals are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "luno/luno_venue.h"
#include "luno/luno_json.h"
#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

/* Every parser against one body: all must return 0 or IG_EPARSE (markets
 * may say IG_ENOTFOUND), never anything else, never crash. */
static void all_parsers(const char *body, size_t len, bool expect_fail)
{
	struct ig_luno_error e;
	struct ig_luno_order_status o;
	struct ig_luno_trade t[4];
	struct ig_luno_ticker tk;
	struct ig_luno_top top;
	struct ig_luno_market m;
	struct ig_luno_order_status ol[4];
	static const char *const assets[2] = { "XBT", "ZAR" };
	int64_t totals[2] = { -1, -1 };
	char id[IG_LUNO_ID_MAX];
	bool ok;
	size_t n = 99;
	int rc;

	rc = ig_luno_parse_error(body, len, &e);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	rc = ig_luno_parse_order_id(body, len, id, sizeof(id));
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail) {
		assert_int_equal(rc, IG_EPARSE);
		assert_string_equal(id, "");
	}
	rc = ig_luno_parse_success(body, len, &ok);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	rc = ig_luno_parse_order(body, len, &o);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	rc = ig_luno_parse_trades(body, len, t, 4, &n);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail) {
		assert_int_equal(rc, IG_EPARSE);
		assert_int_equal(n, 0);
	}
	rc = ig_luno_parse_ticker(body, len, &tk);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	rc = ig_luno_parse_top(body, len, &top);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	rc = ig_luno_parse_orders(body, len, ol, 4, &n);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail) {
		assert_int_equal(rc, IG_EPARSE);
		assert_int_equal(n, 0);
	}
	rc = ig_luno_parse_balance(body, len, assets, 2, totals);
	assert_true(rc == 0 || rc == IG_EPARSE);
	if (expect_fail) {
		assert_int_equal(rc, IG_EPARSE);
		assert_int_equal(totals[0], 0);
		assert_int_equal(totals[1], 0);
	}
	rc = ig_luno_parse_markets(body, len, "XBTZAR", &m);
	assert_true(rc == 0 || rc == IG_EPARSE || rc == IG_ENOTFOUND);
	if (expect_fail)
		assert_int_equal(rc, IG_EPARSE);
	if (rc != 0 || expect_fail)
		assert_true(ig_luno_json_error()[0] != '\0' || rc == 0);
}

/* ---------------------------------------------------------- hostile input */

static void test_hostile_bodies(void **state)
{
	static const char *const bodies[] = {
		"",
		" ",
		"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
		"<html>",
		"{",
		"{\"order_id\": \"BX",
		"{\"trades\": [{\"sequence\": 1, \"price\": \"10",
		"null",
		"true",
		"42",
		"1e400",
		"\"a string\"",
		"[]",
		"[{\"order_id\": \"BX1\"}]",
		"{\"a\": 1} trailing",
		"{\"order_id\": \"BX1\", \"order_id\": \"BX2\"}",
		"{\"order_id\": 1e400}",
		"{\"x\": 123456789012345678901234567890}",
		"\xff\xfe\x00\x01",
		"{\"order_id\": \"\\u0000\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		all_parsers(bodies[i], strlen(bodies[i]), true);
	/* Duplicate keys, integer overflow and escaped NULs fail the whole
	 * document, whatever the parser would have read. */
	{
		char id[IG_LUNO_ID_MAX];
		assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\": \"BX1\", \"order_id\": \"BX2\"}"), id,
							sizeof(id)),
				 IG_EPARSE);
		assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\": \"\\u0000\"}"), id, sizeof(id)),
				 IG_EPARSE);
		assert_int_equal(ig_luno_parse_order_id(S("{\"x\": 123456789012345678901234567890}"), id,
							sizeof(id)),
				 IG_EPARSE);
	}
	/* NULL body and an embedded NUL byte in the raw body. */
	all_parsers(NULL, 0, true);
	all_parsers("{\"order_id\": \"BX1\"}\0junk", 24, true);
}

static void test_deep_nesting_and_size(void **state)
{
	size_t n = 100000;
	char *deep = malloc(2 * n + 1), *big;
	(void)state;
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	all_parsers(deep, 2 * n, true);
	free(deep);
	/* A huge string value: too long for an order id. */
	big = malloc(300000);
	assert_non_null(big);
	strcpy(big, "{\"order_id\": \"");
	memset(big + strlen(big), 'A', 200000);
	strcpy(big + 14 + 200000, "\"}");
	{
		char id[IG_LUNO_ID_MAX];
		assert_int_equal(ig_luno_parse_order_id(big, strlen(big), id, sizeof(id)), IG_EPARSE);
		assert_string_equal(id, "");
	}
	free(big);
}

/* Every truncation of a good reply is refused (or, for a prefix that is
 * itself complete JSON, parsed): never a crash, never garbage. */
static void test_every_truncation(void **state)
{
	static const char trades[] =
		"{\"trades\":[{\"sequence\":5,\"order_id\":\"BX1\",\"client_order_id\":\"ig-0000000000000001\","
		"\"price\":\"100.5\",\"volume\":\"0.25\",\"base\":\"0.25\",\"counter\":\"25.125\","
		"\"fee_base\":\"0\",\"fee_counter\":\"0.02\",\"is_buy\":true,\"type\":\"BID\",\"timestamp\":1700000000000}]}";
	static const char order[] =
		"{\"order_id\":\"BX1\",\"client_order_id\":\"ig-0000000000000001\",\"status\":\"PENDING\","
		"\"side\":\"BUY\",\"base\":\"0.1\",\"counter\":\"10\",\"fee_base\":\"0\",\"fee_counter\":\"0.01\","
		"\"limit_price\":\"100\",\"limit_volume\":\"1\"}";
	(void)state;
	for (size_t len = 0; len < sizeof(trades) - 1; len++)
		all_parsers(trades, len, true);
	for (size_t len = 0; len < sizeof(order) - 1; len++)
		all_parsers(order, len, true);
}

/* ----------------------------------------------------------------- errors */

static void test_error_codes(void **state)
{
	struct ig_luno_error e;
	(void)state;

	assert_int_equal(ig_luno_parse_error(S("{\"error\":\"Insufficient balance\",\"error_code\":\"ErrInsufficientBalance\",\"error_action\":{}}"),
					     &e),
			 0);
	assert_int_equal(e.code, IG_LUNO_ERR_INSUFFICIENT_BALANCE);
	assert_string_equal(e.code_str, "ErrInsufficientBalance");
	assert_string_equal(e.message, "Insufficient balance");
	assert_int_equal(ig_luno_err_reason(e.code), IG_RJ_VENUE_INSUFFICIENT_BALANCE);
	assert_int_equal(ig_luno_err_action(e.code), IG_LUNO_ACT_REJECT);

	assert_int_equal(ig_luno_parse_error(S("{\"error_code\":\"ErrPostOnlyMode\"}"), &e), 0);
	assert_int_equal(ig_luno_err_reason(e.code), IG_RJ_VENUE_POST_ONLY);

	assert_int_equal(ig_luno_parse_error(S("{\"error\":\"x\",\"error_code\":\"ErrDuplicateClientOrderID\"}"), &e), 0);
	assert_int_equal(ig_luno_err_action(e.code), IG_LUNO_ACT_EXISTS);
	assert_int_equal(ig_luno_parse_error(S("{\"error_code\":\"ErrTooManyRequests\"}"), &e), 0);
	assert_int_equal(ig_luno_err_action(e.code), IG_LUNO_ACT_RETRY);
	assert_int_equal(ig_luno_parse_error(S("{\"error_code\":\"ErrOrderNotFound\"}"), &e), 0);
	assert_int_equal(e.code, IG_LUNO_ERR_ORDER_NOT_FOUND);
	assert_int_equal(ig_luno_err_action(e.code), IG_LUNO_ACT_GONE);
	assert_int_equal(ig_luno_parse_error(S("{\"error_code\":\"ErrOrderCanceled\"}"), &e), 0);
	assert_int_equal(ig_luno_err_action(e.code), IG_LUNO_ACT_GONE);

	/* Unknown code, or only a message: a plain venue reject. */
	assert_int_equal(ig_luno_parse_error(S("{\"error\":\"?\",\"error_code\":\"ErrSomethingNew\"}"), &e), 0);
	assert_int_equal(e.code, IG_LUNO_ERR_UNKNOWN);
	assert_int_equal(ig_luno_err_reason(e.code), IG_RJ_VENUE);
	assert_int_equal(ig_luno_parse_error(S("{\"error\":\"boom\"}"), &e), 0);
	assert_int_equal(e.code, IG_LUNO_ERR_UNKNOWN);

	/* Wrong shapes. */
	assert_int_equal(ig_luno_parse_error(S("{}"), &e), IG_EPARSE);
	assert_int_equal(ig_luno_parse_error(S("{\"error_code\": 400}"), &e), IG_EPARSE);
	assert_int_equal(ig_luno_parse_error(S("{\"error\": [\"a\"]}"), &e), IG_EPARSE);
	assert_int_equal(e.code, IG_LUNO_ERR_NONE);

	/* The mapping table, name by name. */
	{
		static const struct {
			const char *code;
			int reason;
			int action;
		} m[] = {
			{ "ErrInsufficientBalance", IG_RJ_VENUE_INSUFFICIENT_BALANCE, IG_LUNO_ACT_REJECT },
			{ "ErrPostOnlyMode", IG_RJ_VENUE_POST_ONLY, IG_LUNO_ACT_REJECT },
			{ "ErrVolumeTooLow", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrPriceTooLow", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrPriceTooHigh", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrPriceDenominationNotAllowed", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrVolumeDenominationNotAllowed", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrInvalidMarketPair", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrMarketUnavailable", IG_RJ_VENUE, IG_LUNO_ACT_REJECT },
			{ "ErrDuplicateClientOrderID", IG_RJ_NONE, IG_LUNO_ACT_EXISTS },
			{ "ErrTooManyRequests", IG_RJ_NONE, IG_LUNO_ACT_RETRY },
			{ "ErrOrderCanceled", IG_RJ_NONE, IG_LUNO_ACT_GONE },
			{ "ErrOrderNotFound", IG_RJ_NONE, IG_LUNO_ACT_GONE },
		};
		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			int c = ig_luno_err_from_code(m[i].code);
			assert_true(c > IG_LUNO_ERR_NONE && c < IG_LUNO_ERR_UNKNOWN);
			assert_string_equal(ig_luno_err_name(c), m[i].code);
			assert_int_equal(ig_luno_err_reason(c), m[i].reason);
			assert_int_equal(ig_luno_err_action(c), m[i].action);
		}
		assert_int_equal(ig_luno_err_from_code(""), IG_LUNO_ERR_NONE);
		assert_int_equal(ig_luno_err_from_code(NULL), IG_LUNO_ERR_NONE);
		assert_int_equal(ig_luno_err_from_code("errinsufficientbalance"), IG_LUNO_ERR_UNKNOWN);
	}
}

/* --------------------------------------------------------------- order id */

static void test_order_id(void **state)
{
	char id[IG_LUNO_ID_MAX], small[4];
	bool ok;
	(void)state;

	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":\"BXMC2CJ7HNB88U4\"}"), id, sizeof(id)), 0);
	assert_string_equal(id, "BXMC2CJ7HNB88U4");
	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":\"\"}"), id, sizeof(id)), IG_EPARSE);
	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":12345}"), id, sizeof(id)), IG_EPARSE);
	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":null}"), id, sizeof(id)), IG_EPARSE);
	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":[\"BX1\"]}"), id, sizeof(id)), IG_EPARSE);
	assert_int_equal(ig_luno_parse_order_id(S("{\"id\":\"BX1\"}"), id, sizeof(id)), IG_EPARSE);
	assert_int_equal(ig_luno_parse_order_id(S("{\"order_id\":\"BX1234\"}"), small, sizeof(small)), IG_EPARSE);
	assert_string_equal(small, "");

	assert_int_equal(ig_luno_parse_success(S("{\"success\":true}"), &ok), 0);
	assert_true(ok);
	assert_int_equal(ig_luno_parse_success(S("{\"success\":false}"), &ok), 0);
	assert_false(ok);
	assert_int_equal(ig_luno_parse_success(S("{\"success\":\"true\"}"), &ok), IG_EPARSE);
	assert_int_equal(ig_luno_parse_success(S("{}"), &ok), IG_EPARSE);
}

/* ----------------------------------------------------------- order status */

static void test_order_status(void **state)
{
	struct ig_luno_order_status o;
	(void)state;

	assert_int_equal(ig_luno_parse_order(S("{\"order_id\":\"BX1\",\"client_order_id\":\"ig-00000000000000ff\","
					       "\"status\":\"PENDING\",\"side\":\"BUY\",\"type\":\"LIMIT\","
					       "\"base\":\"0.12345678\",\"counter\":\"123456.78\",\"fee_base\":\"0.00012345\","
					       "\"fee_counter\":\"0\",\"limit_price\":\"1000000\",\"limit_volume\":\"1.5\","
					       "\"creation_timestamp\":1700000000000,\"pair\":\"XBTZAR\"}"),
					     &o),
			 0);
	assert_string_equal(o.order_id, "BX1");
	assert_string_equal(o.client_order_id, "ig-00000000000000ff");
	assert_int_equal(o.status, IG_LUNO_ST_PENDING);
	assert_int_equal(o.side, IG_SIDE_BUY);
	assert_int_equal(o.base, 12345678);
	assert_int_equal(o.counter, D("123456.78"));
	assert_int_equal(o.fee_base, 12345);
	assert_int_equal(o.fee_counter, 0);
	assert_int_equal(o.limit_price, IG_FIXED(1000000));
	assert_int_equal(o.limit_volume, D("1.5"));

	/* Older shapes: "state" and a BID/ASK type. */
	assert_int_equal(ig_luno_parse_order(S("{\"order_id\":\"BX2\",\"state\":\"COMPLETE\",\"type\":\"ASK\","
					       "\"base\":\"1\",\"counter\":\"100\"}"),
					     &o),
			 0);
	assert_int_equal(o.status, IG_LUNO_ST_COMPLETE);
	assert_int_equal(o.side, IG_SIDE_SELL);
	assert_int_equal(ig_luno_parse_order(S("{\"order_id\":\"BX3\",\"status\":\"AWAITING\",\"base\":\"0\",\"counter\":\"0\"}"), &o), 0);
	assert_int_equal(o.status, IG_LUNO_ST_AWAITING);
	assert_int_equal(o.side, IG_SIDE_NONE);

	/* Refused. */
	static const char *const bad[] = {
		"{\"status\":\"PENDING\",\"base\":\"0\",\"counter\":\"0\"}",                        /* no id */
		"{\"order_id\":\"BX\",\"base\":\"0\",\"counter\":\"0\"}",                           /* no status */
		"{\"order_id\":\"BX\",\"status\":\"OPEN\",\"base\":\"0\",\"counter\":\"0\"}",       /* unknown status */
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"counter\":\"0\"}",                   /* no base */
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":0.5,\"counter\":\"0\"}",      /* number */
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"-0.5\",\"counter\":\"0\"}", /* negative */
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"1e400\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"123456789012345678901234567890\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"0.1234567890123456789\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"NaN\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\" 1\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"0x10\",\"counter\":\"0\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"0\",\"counter\":\"0\",\"side\":\"LONG\"}",
		"{\"order_id\":\"BX\",\"status\":\"PENDING\",\"base\":\"0\",\"counter\":\"0\",\"fee_counter\":{}}",
		"{\"order_id\":\"BX\",\"status\":7,\"base\":\"0\",\"counter\":\"0\"}",
		"{\"order_id\":[],\"status\":\"PENDING\",\"base\":\"0\",\"counter\":\"0\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&o, 0x5a, sizeof(o));
		assert_int_equal(ig_luno_parse_order(bad[i], strlen(bad[i]), &o), IG_EPARSE);
		assert_int_equal(o.base, 0); /* zeroed, never half-filled */
		assert_string_equal(o.order_id, "");
		assert_true(strlen(ig_luno_json_error()) > 0);
	}
}

/* ------------------------------------------------------------- decimals */

static void test_decimals_exact(void **state)
{
	struct ig_luno_ticker t;
	char buf[256];
	(void)state;

	/* 18 decimals: accepted, rounded to 1e-8 (halves away from zero). */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"123.456789015000000000\",\"ask\":\"0.000000000000000001\"}"), &t), 0);
	assert_int_equal(t.bid, D("123.45678902"));
	assert_int_equal(t.ask, 0);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"0.000000014999999999\",\"ask\":\"0.000000005\"}"), &t), 0);
	assert_int_equal(t.bid, 1);
	assert_int_equal(t.ask, 1);
	/* Exact: no float on the way. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"0.1\",\"ask\":\"92233720368.54775807\"}"), &t), 0);
	assert_int_equal(t.bid, 10000000);
	assert_int_equal(t.ask, INT64_MAX);
	/* 19 decimals: refused. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1.0000000000000000001\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1.0000000000000000000\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	/* Out of range, exponents, numbers, 30 digits. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"92233720368.54775808\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1e400\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1E5\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":1e400,\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":100,\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"123456789012345678901234567890\",\"ask\":\"2\"}"), &t),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"-2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"Infinity\",\"ask\":\"2\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\"}"), &t), IG_EPARSE);
	assert_int_equal(t.bid, 0);
	/* The error names the field. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"1.5.5\"}"), &t), IG_EPARSE);
	snprintf(buf, sizeof(buf), "%s", ig_luno_json_error());
	assert_non_null(strstr(buf, "ticker.ask"));
	/* A good parse clears the error. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"2\",\"timestamp\":1700000000123}"), &t), 0);
	assert_string_equal(ig_luno_json_error(), "");
	assert_int_equal(t.timestamp_ms, 1700000000123);
	/* Timestamps must be integers in range. */
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"2\",\"timestamp\":\"1700000000123\"}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"2\",\"timestamp\":-1}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"2\",\"timestamp\":1.5}"), &t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_ticker(S("{\"bid\":\"1\",\"ask\":\"2\",\"timestamp\":99999999999999999999}"), &t), IG_EPARSE);
}

/* ----------------------------------------------------------------- trades */

static void test_trades(void **state)
{
	struct ig_luno_trade t[3];
	size_t n = 0;
	(void)state;

	assert_int_equal(ig_luno_parse_trades(S("{\"trades\":["
						"{\"sequence\":5,\"order_id\":\"BX1\",\"client_order_id\":\"ig-0000000000000001\","
						"\"pair\":\"XBTZAR\",\"price\":\"1234567.89\",\"volume\":\"0.000001\","
						"\"base\":\"0.000001\",\"counter\":\"1.23456789\",\"fee_base\":\"0\","
						"\"fee_counter\":\"0.01\",\"is_buy\":false,\"type\":\"BID\",\"timestamp\":1700000000000},"
						"{\"sequence\":6,\"order_id\":\"BX2\",\"price\":\"10\",\"volume\":\"2\","
						"\"fee_base\":\"0.002\",\"type\":\"ASK\"}]}"),
					      t, 3, &n),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(t[0].sequence, 5);
	assert_string_equal(t[0].order_id, "BX1");
	assert_string_equal(t[0].client_order_id, "ig-0000000000000001");
	assert_int_equal(t[0].price, D("1234567.89"));
	assert_int_equal(t[0].volume, 100);
	assert_int_equal(t[0].counter, 123456789);
	assert_int_equal(t[0].fee_counter, 1000000);
	assert_int_equal(t[0].is_buy, 0);
	assert_int_equal(t[0].side, IG_SIDE_BUY);
	assert_int_equal(t[0].timestamp_ms, 1700000000000);
	assert_int_equal(t[1].side, IG_SIDE_SELL);
	assert_int_equal(t[1].is_buy, -1);
	assert_int_equal(t[1].base, IG_FIXED(2)); /* absent: the volume */
	assert_int_equal(t[1].fee_base, 200000);
	assert_string_equal(t[1].client_order_id, "");

	/* No trades. */
	assert_int_equal(ig_luno_parse_trades(S("{\"trades\":[]}"), t, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ig_luno_parse_trades(S("{}"), t, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ig_luno_parse_trades(S("{\"trades\":null}"), t, 3, &n), 0);
	assert_int_equal(n, 0);

	/* Any bad trade fails the whole page. */
#define T_OK "{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}"
	static const char *const bad[] = {
		"{\"trades\":{}}",
		"{\"trades\":\"none\"}",
		"{\"trades\":[" T_OK ",[]]}",
		"{\"trades\":[" T_OK ",{\"sequence\":2,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"-1\"}]}",
		"{\"trades\":[{\"sequence\":2,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"0\"}]}",
		"{\"trades\":[{\"sequence\":2,\"order_id\":\"BX\",\"price\":\"0\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":0,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":-3,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1.0,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":\"1\",\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":1,\"volume\":\"1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\",\"fee_counter\":\"-0.1\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\",\"is_buy\":\"yes\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\",\"type\":\"SHORT\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1e400\"}]}",
		"{\"trades\":[{\"sequence\":1,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"0.0000000000000000001\"}]}",
		"{\"trades\":[{\"sequence\":99999999999999999999,\"order_id\":\"BX\",\"price\":\"1\",\"volume\":\"1\"}]}",
		"{\"trades\":[" T_OK "," T_OK "," T_OK "," T_OK "]}", /* more than cap */
	};
#undef T_OK
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 7;
		assert_int_equal(ig_luno_parse_trades(bad[i], strlen(bad[i]), t, 3, &n), IG_EPARSE);
		assert_int_equal(n, 0);
	}
}

/* ---------------------------------------------------------- book, markets */

static void test_top_and_markets(void **state)
{
	struct ig_luno_top top;
	struct ig_luno_market m;
	(void)state;

	assert_int_equal(ig_luno_parse_top(S("{\"timestamp\":1700000000001,"
					     "\"bids\":[{\"price\":\"999.99\",\"volume\":\"0.5\"},{\"price\":\"999\",\"volume\":\"9\"}],"
					     "\"asks\":[{\"price\":\"1000.01\",\"volume\":\"0.25\"}]}"),
					   &top),
			 0);
	assert_int_equal(top.bid_px, D("999.99"));
	assert_int_equal(top.bid_qty, D("0.5"));
	assert_int_equal(top.ask_px, D("1000.01"));
	assert_int_equal(top.ask_qty, D("0.25"));
	assert_int_equal(top.timestamp_ms, 1700000000001);
	/* An empty side is 0/0, not an error. */
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":[],\"asks\":[]}"), &top), 0);
	assert_int_equal(top.bid_px, 0);
	assert_int_equal(top.ask_qty, 0);
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":[]}"), &top), IG_EPARSE);
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":{},\"asks\":[]}"), &top), IG_EPARSE);
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":[[\"1\",\"2\"]],\"asks\":[]}"), &top), IG_EPARSE);
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":[{\"price\":\"1\"}],\"asks\":[]}"), &top), IG_EPARSE);
	assert_int_equal(ig_luno_parse_top(S("{\"bids\":[{\"price\":\"1\",\"volume\":\"-1\"}],\"asks\":[]}"), &top),
			 IG_EPARSE);
	assert_int_equal(top.bid_px, 0);

	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":["
						 "{\"market_id\":\"ETHZAR\",\"price_scale\":0,\"volume_scale\":4},"
						 "{\"market_id\":\"XBTZAR\",\"trading_status\":\"ACTIVE\",\"base_currency\":\"XBT\","
						 "\"counter_currency\":\"ZAR\",\"min_volume\":\"0.0005\",\"max_volume\":\"100\","
						 "\"min_price\":\"100\",\"max_price\":\"10000000\",\"price_scale\":0,"
						 "\"volume_scale\":6,\"fee_scale\":8}]}"),
					       "XBTZAR", &m),
			 0);
	assert_string_equal(m.pair, "XBTZAR");
	assert_int_equal(m.price_scale, 0);
	assert_int_equal(m.volume_scale, 6);
	assert_int_equal(m.min_volume, D("0.0005"));
	assert_int_equal(m.max_price, IG_FIXED(10000000));
	assert_true(m.active);
	assert_string_equal(m.base, "XBT");
	assert_string_equal(m.counter, "ZAR");
	/* A scale finer than 1e-8 is used at 8. */
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":\"XBTZAR\",\"price_scale\":12,"
						 "\"volume_scale\":18,\"trading_status\":\"POST_ONLY\"}]}"),
					       "XBTZAR", &m),
			 0);
	assert_int_equal(m.price_scale, 8);
	assert_int_equal(m.volume_scale, 8);
	assert_false(m.active);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":\"ETHZAR\",\"price_scale\":0,\"volume_scale\":4}]}"),
					       "XBTZAR", &m),
			 IG_ENOTFOUND);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":\"XBTZAR\",\"price_scale\":-1,\"volume_scale\":4}]}"),
					       "XBTZAR", &m),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":\"XBTZAR\",\"price_scale\":\"2\",\"volume_scale\":4}]}"),
					       "XBTZAR", &m),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":\"XBTZAR\",\"volume_scale\":4}]}"), "XBTZAR", &m),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":{}}"), "XBTZAR", &m), IG_EPARSE);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[7]}"), "XBTZAR", &m), IG_EPARSE);
	assert_int_equal(ig_luno_parse_markets(S("{\"markets\":[{\"market_id\":7}]}"), "XBTZAR", &m), IG_EPARSE);
}

/* -------------------------------------------------------------- the ids */

/* ------------------------------------------------------ listorders/balance */

static void test_orders(void **state)
{
	struct ig_luno_order_status o[3];
	size_t n = 99;
	(void)state;

	/* Luno's v1 shape: state, type BID/ASK, limit_price/volume. */
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":["
						"{\"order_id\":\"BXA\",\"client_order_id\":\"ig-0003000000000001\","
						"\"creation_timestamp\":1700000000123,\"expiration_timestamp\":0,"
						"\"completed_timestamp\":0,\"type\":\"BID\",\"state\":\"PENDING\","
						"\"limit_price\":\"1234567.89\",\"limit_volume\":\"0.5\",\"base\":\"0.1\","
						"\"counter\":\"123456.789\",\"fee_base\":\"0\",\"fee_counter\":\"0\","
						"\"pair\":\"XBTZAR\",\"time_in_force\":\"GTC\"},"
						"{\"order_id\":\"BXB\",\"type\":\"ASK\",\"state\":\"PENDING\","
						"\"limit_price\":\"2\",\"limit_volume\":\"3\",\"base\":\"0\",\"counter\":\"0\"}]}"),
					      o, 3, &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(o[0].order_id, "BXA");
	assert_string_equal(o[0].client_order_id, "ig-0003000000000001");
	assert_string_equal(o[0].pair, "XBTZAR");
	assert_int_equal(o[0].status, IG_LUNO_ST_PENDING);
	assert_int_equal(o[0].side, IG_SIDE_BUY);
	assert_int_equal(o[0].tif, IG_TIF_GTC);
	assert_int_equal(o[0].limit_price, D("1234567.89"));
	assert_int_equal(o[0].limit_volume, D("0.5"));
	assert_int_equal(o[0].base, D("0.1"));
	assert_int_equal(o[0].created_ms, INT64_C(1700000000123));
	assert_int_equal(o[1].side, IG_SIDE_SELL);
	assert_string_equal(o[1].client_order_id, "");
	assert_string_equal(o[1].pair, "");
	assert_int_equal(o[1].created_ms, 0);
	/* None: absent, null or empty. */
	assert_int_equal(ig_luno_parse_orders(S("{}"), o, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":null}"), o, 3, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[]}"), o, 3, &n), 0);
	assert_int_equal(n, 0);
	/* One bad order fails the page; so does more than asked for. */
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[{\"order_id\":\"BXA\",\"state\":\"PENDING\","
						"\"base\":\"0\",\"counter\":\"0\"},{\"order_id\":\"BXB\","
						"\"state\":\"PENDING\",\"base\":-1,\"counter\":\"0\"}]}"),
					      o, 3, &n),
			 IG_EPARSE);
	assert_int_equal(n, 0);
	assert_non_null(strstr(ig_luno_json_error(), "orders[1].base"));
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[1,2,3,4]}"), o, 3, &n), IG_EPARSE);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":{\"order_id\":\"BXA\"}}"), o, 3, &n),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[{\"order_id\":\"BXA\",\"state\":\"OPEN\","
						"\"base\":\"0\",\"counter\":\"0\"}]}"),
					      o, 3, &n),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[{\"order_id\":\"BXA\",\"state\":\"PENDING\","
						"\"base\":\"0\",\"counter\":\"0\",\"time_in_force\":\"GTD\"}]}"),
					      o, 3, &n),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[{\"order_id\":\"BXA\",\"state\":\"PENDING\","
						"\"base\":\"0\",\"counter\":\"0\",\"limit_price\":1.5}]}"),
					      o, 3, &n),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_orders(S("{\"orders\":[{\"order_id\":\"BXA\",\"state\":\"PENDING\","
						"\"base\":\"0\",\"counter\":\"0\",\"creation_timestamp\":\"x\"}]}"),
					      o, 3, &n),
			 IG_EPARSE);
}

static void test_balance(void **state)
{
	static const char *const assets[4] = { "XBT", "ZAR", "ETH", "" };
	int64_t t[4];
	(void)state;

	/* Exact decimals, summed over the accounts of an asset; an asset
	 * without an account is 0. */
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":["
						 "{\"account_id\":\"1\",\"asset\":\"XBT\",\"balance\":\"1.23456789\","
						 "\"reserved\":\"0.1\",\"unconfirmed\":\"0\"},"
						 "{\"account_id\":\"2\",\"asset\":\"ZAR\",\"balance\":\"1000000.00000001\","
						 "\"reserved\":\"0\",\"unconfirmed\":\"0\"},"
						 "{\"account_id\":\"3\",\"asset\":\"XBT\",\"balance\":\"0.00000011\"},"
						 "{\"account_id\":\"4\",\"asset\":\"USDC\",\"balance\":\"5\"}]}"),
					       assets, 4, t),
			 0);
	assert_int_equal(t[0], INT64_C(123456800));
	assert_int_equal(t[1], INT64_C(100000000000001));
	assert_int_equal(t[2], 0);
	assert_int_equal(t[3], 0);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":null}"), assets, 4, t), 0);
	assert_int_equal(t[0], 0);
	/* Hostile: a float, a bad entry of another asset, overflow, no asset. */
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[{\"asset\":\"XBT\",\"balance\":1.5}]}"),
					       assets, 4, t),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[{\"asset\":\"XBT\",\"balance\":\"1\"},"
						 "{\"asset\":\"BCH\",\"balance\":\"1e5\"}]}"),
					       assets, 4, t),
			 IG_EPARSE);
	assert_int_equal(t[0], 0);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[{\"asset\":\"XBT\",\"balance\":\"90000000000\"},"
						 "{\"asset\":\"XBT\",\"balance\":\"90000000000\"}]}"),
					       assets, 4, t),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[{\"balance\":\"1\"}]}"), assets, 4, t),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[{\"asset\":\"XBT\",\"balance\":\"1.0000000000000000001\"}]}"),
					       assets, 4, t),
			 IG_EPARSE);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":{\"XBT\":\"1\"}}"), assets, 4, t), IG_EPARSE);
	assert_int_equal(ig_luno_parse_balance(S("{\"balance\":[\"XBT\"]}"), assets, 4, t), IG_EPARSE);
}

static void test_ids(void **state)
{
	char buf[32];
	(void)state;
	ig_luno_client_order_id(UINT64_C(0x0123456789abcdef), buf, sizeof(buf));
	assert_string_equal(buf, "ig-0123456789abcdef");
	ig_luno_client_order_id(1, buf, sizeof(buf));
	assert_string_equal(buf, "ig-0000000000000001");
	/* exchange-sim's numeric ids are used as they are; Luno's strings
	 * hash to a stable non-zero id. */
	assert_int_equal(ig_luno_venue_id("42"), 42);
	assert_true(ig_luno_venue_id("BXMC2CJ7HNB88U4") != 0);
	assert_int_equal(ig_luno_venue_id("BXMC2CJ7HNB88U4"), ig_luno_venue_id("BXMC2CJ7HNB88U4"));
	assert_true(ig_luno_venue_id("BX1") != ig_luno_venue_id("BX2"));
	assert_true(ig_luno_venue_id("0") != 0);
	assert_true(ig_luno_venue_id("99999999999999999999999") != 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_bodies),
		cmocka_unit_test(test_deep_nesting_and_size),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_order_id),
		cmocka_unit_test(test_order_status),
		cmocka_unit_test(test_decimals_exact),
		cmocka_unit_test(test_trades),
		cmocka_unit_test(test_top_and_markets),
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
