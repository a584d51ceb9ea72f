/*
 * test_luno_book.c - the Luno market-stream order book (src/luno/luno_book.c):
 * a snapshot then creates, deletes and trades with top-of-book checks; a
 * property test against a naive reference book (random streams, levels
 * compared after every message); every error path and the not-whole state
 * it leaves; hostile input (truncated, garbled, wrong types, huge numbers,
 * duplicate ids) that must never crash; a long stream with the memory flat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "luno/luno_book.h"
#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IG_TEST_VARIANT
#define IG_TEST_VARIANT "release"
#endif

#define F_APPLIED IG_LUNO_BOOK_F_APPLIED
#define F_TOP IG_LUNO_BOOK_F_TOP
#define F_TRADES IG_LUNO_BOOK_F_TRADES

static int64_t D(const char *s)
{
	int64_t v = 0;
	if (ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("bad decimal literal %s", s);
	return v;
}

static int msg(struct ig_luno_book *b, const char *s)
{
	return ig_luno_book_on_message(b, s, strlen(s));
}

static void expect_best(struct ig_luno_book *b, uint8_t side, const char *px, const char *qty)
{
	int64_t p, q;
	if (px == NULL) {
		assert_false(ig_luno_book_best(b, side, &p, &q));
		return;
	}
	assert_true(ig_luno_book_best(b, side, &p, &q));
	assert_int_equal(p, D(px));
	assert_int_equal(q, D(qty));
}

static const char *const SNAP =
	"{\"sequence\":\"100\",\"status\":\"ACTIVE\",\"timestamp\":1528884331021,"
	"\"bids\":[{\"id\":\"BXMC2CJ7HNB88U4\",\"price\":\"1000.00\",\"volume\":\"0.5\"},"
	"{\"id\":\"BXMC2CJ7HNB88U5\",\"price\":\"1000.00\",\"volume\":\"0.25\"},"
	"{\"id\":\"BXMC2CJ7HNB88U6\",\"price\":\"999\",\"volume\":\"1\"}],"
	"\"asks\":[{\"id\":\"BXA1\",\"price\":\"1001\",\"volume\":\"2\"},"
	"{\"id\":\"BXA2\",\"price\":\"1003.5\",\"volume\":\"0.1\"}]}";

static struct ig_luno_book *fresh(uint32_t cap, uint32_t trades)
{
	struct ig_luno_book *b = NULL;
	assert_int_equal(ig_luno_book_create(cap, trades, &b), 0);
	assert_non_null(b);
	return b;
}

/* ------------------------------------------------------ basic behaviour */

static void test_snapshot_then_updates(void **state)
{
	(void)state;
	struct ig_luno_book *b = fresh(64, 0);
	struct ig_luno_book_level lv[4];
	const struct ig_luno_book_trade *tr;
	size_t n;

	assert_false(ig_luno_book_whole(b));
	expect_best(b, IG_SIDE_BUY, NULL, NULL);
	assert_int_equal(msg(b, SNAP), F_APPLIED | F_TOP | IG_LUNO_BOOK_F_SNAPSHOT);
	assert_true(ig_luno_book_whole(b));
	assert_int_equal(ig_luno_book_sequence(b), 100);
	assert_int_equal(ig_luno_book_ts_ms(b), 1528884331021);
	assert_int_equal(ig_luno_book_order_count(b), 5);
	expect_best(b, IG_SIDE_BUY, "1000", "0.75");
	expect_best(b, IG_SIDE_SELL, "1001", "2");
	assert_int_equal(ig_luno_book_levels(b, IG_SIDE_BUY, lv, 4), 2);
	assert_int_equal(lv[0].count, 2);
	assert_int_equal(lv[1].px, D("999"));
	assert_int_equal(ig_luno_book_depth(b, IG_SIDE_SELL), 2);

	/* Keep-alives: an empty frame and the JSON string "". */
	assert_int_equal(ig_luno_book_on_message(b, "", 0), IG_LUNO_BOOK_F_KEEPALIVE);
	assert_int_equal(msg(b, "\"\""), IG_LUNO_BOOK_F_KEEPALIVE);
	assert_int_equal(ig_luno_book_sequence(b), 100);

	/* A deeper bid: applied, the top is unchanged. */
	assert_int_equal(msg(b, "{\"sequence\":\"101\",\"trade_updates\":null,\"create_update\":"
				"{\"order_id\":\"B7\",\"type\":\"BID\",\"price\":\"998\",\"volume\":\"3\"},"
				"\"delete_update\":null,\"status_update\":null,\"timestamp\":1}"),
			 F_APPLIED);
	/* A better bid: the top moves. */
	assert_int_equal(msg(b, "{\"sequence\":\"102\",\"create_update\":{\"order_id\":\"B8\","
				"\"type\":\"BID\",\"price\":\"1000.5\",\"volume\":\"0.1\"},\"timestamp\":2}"),
			 F_APPLIED | F_TOP);
	expect_best(b, IG_SIDE_BUY, "1000.5", "0.1");
	/* More at the best ask price: its qty changes, so does the top. */
	assert_int_equal(msg(b, "{\"sequence\":\"103\",\"create_update\":{\"order_id\":\"A9\","
				"\"type\":\"ASK\",\"price\":\"1001\",\"volume\":\"1\"},\"timestamp\":3}"),
			 F_APPLIED | F_TOP);
	expect_best(b, IG_SIDE_SELL, "1001", "3");
	/* Delete the better bid: back to 1000. */
	assert_int_equal(msg(b, "{\"sequence\":103,\"delete_update\":{\"order_id\":\"B8\"},"
				"\"timestamp\":4}"),
			 IG_LUNO_BOOK_E_SEQUENCE);
	assert_false(ig_luno_book_whole(b));
	expect_best(b, IG_SIDE_BUY, NULL, NULL); /* a stale book is never read */
	assert_int_equal(msg(b, SNAP) & F_APPLIED, F_APPLIED);

	/* A partial trade against the first bid at 1000 (a sell taker). */
	assert_int_equal(msg(b, "{\"sequence\":\"101\",\"trade_updates\":[{\"base\":\"0.2\","
				"\"counter\":\"200\",\"maker_order_id\":\"BXMC2CJ7HNB88U4\","
				"\"taker_order_id\":\"T1\"}],\"timestamp\":77}"),
			 F_APPLIED | F_TOP | F_TRADES);
	tr = ig_luno_book_trades(b, &n);
	assert_int_equal(n, 1);
	assert_int_equal(tr[0].px, D("1000"));
	assert_int_equal(tr[0].qty, D("0.2"));
	assert_int_equal(tr[0].counter, D("200"));
	assert_int_equal(tr[0].side, IG_SIDE_SELL);
	assert_int_equal(tr[0].ts_ms, 77);
	assert_false(tr[0].maker_gone);
	expect_best(b, IG_SIDE_BUY, "1000", "0.55");
	/* A buy taker sweeps the best ask, and rests the rest as a bid at 1001
	 * (older shape: order_id). */
	assert_int_equal(msg(b, "{\"sequence\":\"102\",\"trade_updates\":[{\"base\":\"2\","
				"\"counter\":\"2002\",\"order_id\":\"BXA1\"}],\"create_update\":"
				"{\"order_id\":\"T2\",\"type\":\"BID\",\"price\":\"1001\",\"volume\":\"0.5\"},"
				"\"timestamp\":78}"),
			 F_APPLIED | F_TOP | F_TRADES);
	tr = ig_luno_book_trades(b, &n);
	assert_int_equal(n, 1);
	assert_int_equal(tr[0].side, IG_SIDE_BUY);
	assert_true(tr[0].maker_gone);
	expect_best(b, IG_SIDE_BUY, "1001", "0.5");
	expect_best(b, IG_SIDE_SELL, "1003.5", "0.1");
	assert_int_equal(ig_luno_book_order_count(b), 5);
	/* The trades list is per message. */
	assert_int_equal(msg(b, "{\"sequence\":\"103\",\"delete_update\":{\"order_id\":\"BXMC2CJ7HNB88U6\"},"
				"\"timestamp\":79}"),
			 F_APPLIED);
	ig_luno_book_trades(b, &n);
	assert_int_equal(n, 0);
	assert_int_equal(ig_luno_book_depth(b, IG_SIDE_BUY), 2);
	/* A status update that says ACTIVE is fine. */
	assert_int_equal(msg(b, "{\"sequence\":\"104\",\"status_update\":{\"status\":\"ACTIVE\"},"
				"\"timestamp\":80}"),
			 F_APPLIED);
	assert_int_equal(ig_luno_book_stats(b)->snapshots, 2);
	assert_int_equal(ig_luno_book_stats(b)->updates, 7);
	assert_int_equal(ig_luno_book_stats(b)->trades, 2);
	assert_int_equal(ig_luno_book_stats(b)->keepalives, 2);
	assert_int_equal(ig_luno_book_stats(b)->errors[-IG_LUNO_BOOK_E_SEQUENCE], 1);
	ig_luno_book_destroy(b);
}

/* A fresh exchange (exchange-sim just started, nothing changed yet)
 * snapshots at sequence 0: a whole, empty-history book whose first update
 * is 1. An update numbered 0 stays malformed (it can follow nothing). */
static void test_snapshot_at_sequence_zero(void **state)
{
	(void)state;
	struct ig_luno_book *b = fresh(64, 0);
	static const char *const snaps[] = {
		"{\"sequence\":\"0\",\"status\":\"ACTIVE\",\"timestamp\":1,\"bids\":[{\"id\":\"B1\","
		"\"price\":\"100\",\"volume\":\"1\"}],\"asks\":[{\"id\":\"A1\",\"price\":\"101\","
		"\"volume\":\"2\"}]}",
		"{\"sequence\":0,\"bids\":[],\"asks\":[]}",
	};

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(msg(b, snaps[i]) & (F_APPLIED | IG_LUNO_BOOK_F_SNAPSHOT),
				 F_APPLIED | IG_LUNO_BOOK_F_SNAPSHOT);
		assert_true(ig_luno_book_whole(b));
		assert_int_equal(ig_luno_book_sequence(b), 0);
		assert_int_equal(msg(b, "{\"sequence\":\"1\",\"timestamp\":2,\"create_update\":{"
					"\"order_id\":\"B2\",\"type\":\"BID\",\"price\":\"99\","
					"\"volume\":\"1\"}}") & F_APPLIED,
				 F_APPLIED);
		assert_int_equal(ig_luno_book_sequence(b), 1);
	}
	assert_int_equal(msg(b, "{\"sequence\":\"0\",\"bids\":[],\"asks\":[]}") & F_APPLIED, F_APPLIED);
	assert_int_equal(msg(b, "{\"sequence\":\"0\",\"timestamp\":2}"), IG_LUNO_BOOK_E_MALFORMED);
	assert_int_equal(ig_luno_book_stats(b)->errors[-IG_LUNO_BOOK_E_MALFORMED], 1);
	ig_luno_book_destroy(b);
}

/* More trades in one message than the report holds: all apply, the rest
 * is counted. */
static void test_trades_over_report(void **state)
{
	(void)state;
	struct ig_luno_book *b = fresh(16, 2);
	size_t n;

	assert_true(msg(b, SNAP) > 0);
	assert_int_equal(msg(b, "{\"sequence\":\"101\",\"trade_updates\":["
				"{\"base\":\"0.5\",\"counter\":\"500\",\"maker_order_id\":\"BXMC2CJ7HNB88U4\"},"
				"{\"base\":\"0.25\",\"counter\":\"250\",\"maker_order_id\":\"BXMC2CJ7HNB88U5\"},"
				"{\"base\":\"0.5\",\"counter\":\"499.5\",\"maker_order_id\":\"BXMC2CJ7HNB88U6\"}],"
				"\"timestamp\":5}"),
			 F_APPLIED | F_TOP | F_TRADES);
	ig_luno_book_trades(b, &n);
	assert_int_equal(n, 2);
	assert_int_equal(ig_luno_book_stats(b)->trades_dropped, 1);
	expect_best(b, IG_SIDE_BUY, "999", "0.5");
	assert_int_equal(ig_luno_book_order_count(b), 3);
	ig_luno_book_destroy(b);
}

/* ------------------------------------------------------------- errors */

struct err_case {
	const char *what;
	const char *body;
	int rc;
};

static const struct err_case update_errors[] = {
	{"gap", "{\"sequence\":\"102\",\"timestamp\":1}", IG_LUNO_BOOK_E_SEQUENCE},
	{"repeat", "{\"sequence\":\"100\",\"timestamp\":1}", IG_LUNO_BOOK_E_SEQUENCE},
	{"older", "{\"sequence\":\"7\",\"timestamp\":1}", IG_LUNO_BOOK_E_SEQUENCE},
	{"no sequence", "{\"timestamp\":1}", IG_LUNO_BOOK_E_MALFORMED},
	{"sequence text", "{\"sequence\":\"1o1\",\"timestamp\":1}", IG_LUNO_BOOK_E_MALFORMED},
	{"sequence float", "{\"sequence\":101.0,\"timestamp\":1}", IG_LUNO_BOOK_E_MALFORMED},
	{"sequence negative", "{\"sequence\":-101,\"timestamp\":1}", IG_LUNO_BOOK_E_MALFORMED},
	{"sequence huge", "{\"sequence\":\"123456789012345678901\",\"timestamp\":1}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"no timestamp", "{\"sequence\":\"101\"}", IG_LUNO_BOOK_E_MALFORMED},
	{"timestamp string", "{\"sequence\":\"101\",\"timestamp\":\"1\"}", IG_LUNO_BOOK_E_MALFORMED},
	{"not JSON", "{\"sequence\":\"101\",", IG_LUNO_BOOK_E_MALFORMED},
	{"array", "[1,2]", IG_LUNO_BOOK_E_MALFORMED},
	{"duplicate key", "{\"sequence\":\"101\",\"sequence\":\"101\",\"timestamp\":1}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trades not array", "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":{}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade not object", "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[3]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade no maker",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":\"1\",\"counter\":\"1\"}]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade zero base",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":\"0\",\"counter\":\"0\","
	 "\"maker_order_id\":\"BXA1\"}]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade negative counter",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":\"1\",\"counter\":\"-1\","
	 "\"maker_order_id\":\"BXA1\"}]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade float base",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":1.5,\"counter\":\"1\","
	 "\"maker_order_id\":\"BXA1\"}]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"trade unknown maker",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":\"1\",\"counter\":\"1\","
	 "\"maker_order_id\":\"NOPE\"}]}",
	 IG_LUNO_BOOK_E_UNKNOWN_ORDER},
	{"trade overfill",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"trade_updates\":[{\"base\":\"2.00000001\","
	 "\"counter\":\"1\",\"maker_order_id\":\"BXA1\"}]}",
	 IG_LUNO_BOOK_E_OVERFILL},
	{"create not object", "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":\"x\"}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create bad type",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BUY\","
	 "\"price\":\"1\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create no price",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create zero price",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"0\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create negative volume",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"1\",\"volume\":\"-1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create exponent",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"1e3\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create huge price",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"99999999999999999999\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create 19 decimals",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"1.0000000000000000001\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create long id",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":"
	 "\"0123456789abcdef0123456789abcdef\",\"type\":\"BID\",\"price\":\"1\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create empty id",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"\",\"type\":\"BID\","
	 "\"price\":\"1\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create NUL in id",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"A\\u0000B\","
	 "\"type\":\"BID\",\"price\":\"1\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"create duplicate",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"BXA2\",\"type\":\"ASK\","
	 "\"price\":\"1005\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_DUPLICATE},
	{"create crosses",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"BID\","
	 "\"price\":\"1001\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_CROSSED},
	{"create locks",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":\"N\",\"type\":\"ASK\","
	 "\"price\":\"1000\",\"volume\":\"1\"}}",
	 IG_LUNO_BOOK_E_CROSSED},
	{"delete unknown", "{\"sequence\":\"101\",\"timestamp\":1,\"delete_update\":{\"order_id\":\"Z\"}}",
	 IG_LUNO_BOOK_E_UNKNOWN_ORDER},
	{"delete no id", "{\"sequence\":\"101\",\"timestamp\":1,\"delete_update\":{}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"delete id number", "{\"sequence\":\"101\",\"timestamp\":1,\"delete_update\":{\"order_id\":5}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"status postonly",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"status_update\":{\"status\":\"POSTONLY\"}}",
	 IG_LUNO_BOOK_E_STATUS},
	{"status disabled",
	 "{\"sequence\":\"101\",\"timestamp\":1,\"status_update\":{\"status\":\"DISABLED\"}}",
	 IG_LUNO_BOOK_E_STATUS},
	{"status not string", "{\"sequence\":\"101\",\"timestamp\":1,\"status_update\":{\"status\":1}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"keep-alive that is not empty", "\"x\"", IG_LUNO_BOOK_E_MALFORMED},
};

static const struct err_case snapshot_errors[] = {
	{"snapshot status", "{\"sequence\":\"5\",\"status\":\"POSTONLY\",\"bids\":[],\"asks\":[]}",
	 IG_LUNO_BOOK_E_STATUS},
	{"snapshot duplicate id",
	 "{\"sequence\":\"5\",\"bids\":[{\"id\":\"X\",\"price\":\"1\",\"volume\":\"1\"}],"
	 "\"asks\":[{\"id\":\"X\",\"price\":\"2\",\"volume\":\"1\"}]}",
	 IG_LUNO_BOOK_E_DUPLICATE},
	{"snapshot crossed",
	 "{\"sequence\":\"5\",\"bids\":[{\"id\":\"X\",\"price\":\"3\",\"volume\":\"1\"}],"
	 "\"asks\":[{\"id\":\"Y\",\"price\":\"2\",\"volume\":\"1\"}]}",
	 IG_LUNO_BOOK_E_CROSSED},
	{"snapshot no sequence", "{\"bids\":[],\"asks\":[]}", IG_LUNO_BOOK_E_MALFORMED},
	{"snapshot asks object", "{\"sequence\":\"5\",\"bids\":[],\"asks\":{}}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"snapshot order no volume",
	 "{\"sequence\":\"5\",\"bids\":[{\"id\":\"X\",\"price\":\"1\"}],\"asks\":[]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"snapshot order not object", "{\"sequence\":\"5\",\"bids\":[\"X\"],\"asks\":[]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"snapshot level overflow",
	 "{\"sequence\":\"5\",\"bids\":[{\"id\":\"X\",\"price\":\"1\",\"volume\":\"90000000000\"},"
	 "{\"id\":\"Y\",\"price\":\"1\",\"volume\":\"90000000000\"}],\"asks\":[]}",
	 IG_LUNO_BOOK_E_MALFORMED},
	{"snapshot full",
	 "{\"sequence\":\"5\",\"bids\":[{\"id\":\"1\",\"price\":\"1\",\"volume\":\"1\"},"
	 "{\"id\":\"2\",\"price\":\"1\",\"volume\":\"1\"},{\"id\":\"3\",\"price\":\"1\",\"volume\":\"1\"},"
	 "{\"id\":\"4\",\"price\":\"1\",\"volume\":\"1\"},{\"id\":\"5\",\"price\":\"1\",\"volume\":\"1\"},"
	 "{\"id\":\"6\",\"price\":\"1\",\"volume\":\"1\"},{\"id\":\"7\",\"price\":\"1\",\"volume\":\"1\"}],"
	 "\"asks\":[]}",
	 IG_LUNO_BOOK_E_FULL},
};

/* Each refusal: the right reason, counted, a reason text, the book not
 * whole (updates then answer E_NOT_WHOLE and change nothing) until a
 * snapshot makes it whole again. */
static void check_refusal(struct ig_luno_book *b, const struct err_case *c, bool snapshot)
{
	uint64_t before = ig_luno_book_stats(b)->errors[-c->rc];
	int rc;

	rc = msg(b, c->body);
	if (rc != c->rc)
		fail_msg("%s: rc %d (%s), want %d; error \"%s\"", c->what, rc,
			 ig_luno_book_rc_name(rc), c->rc, ig_luno_book_error(b));
	assert_int_equal(ig_luno_book_stats(b)->errors[-c->rc], before + 1);
	assert_true(strlen(ig_luno_book_error(b)) > 0);
	assert_false(ig_luno_book_whole(b));
	assert_int_equal(ig_luno_book_depth(b, IG_SIDE_BUY), 0);
	if (snapshot)
		assert_int_equal(ig_luno_book_order_count(b), 0);
	assert_int_equal(msg(b, "{\"sequence\":\"101\",\"timestamp\":1}"), IG_LUNO_BOOK_E_NOT_WHOLE);
	assert_int_equal(msg(b, "{\"seq"), IG_LUNO_BOOK_E_NOT_WHOLE);
	assert_int_equal(msg(b, SNAP), F_APPLIED | F_TOP | IG_LUNO_BOOK_F_SNAPSHOT);
	assert_true(ig_luno_book_whole(b));
	expect_best(b, IG_SIDE_BUY, "1000", "0.75");
	expect_best(b, IG_SIDE_SELL, "1001", "2");
}

static void test_errors(void **state)
{
	(void)state;
	struct ig_luno_book *b = fresh(6, 0);
	const struct ig_luno_book_stats *st = ig_luno_book_stats(b);
	uint64_t total = 0;

	/* Before any snapshot an update is ignored, not an error. */
	assert_int_equal(msg(b, "{\"sequence\":\"1\",\"timestamp\":1}"), IG_LUNO_BOOK_E_NOT_WHOLE);
	assert_int_equal(st->ignored, 1);
	assert_true(msg(b, SNAP) > 0);
	for (size_t i = 0; i < sizeof(update_errors) / sizeof(update_errors[0]); i++)
		check_refusal(b, &update_errors[i], false);
	for (size_t i = 0; i < sizeof(snapshot_errors) / sizeof(snapshot_errors[0]); i++)
		check_refusal(b, &snapshot_errors[i], true);
	for (int k = 1; k < IG_LUNO_BOOK_E__COUNT; k++)
		total += st->errors[k];
	assert_int_equal(total, sizeof(update_errors) / sizeof(update_errors[0]) +
					sizeof(snapshot_errors) / sizeof(snapshot_errors[0]));
	assert_int_equal(st->errors[-IG_LUNO_BOOK_E_NOT_WHOLE], 0);

	/* Capacity in an update: the book of 6 holds 5 + 1. */
	assert_int_equal(msg(b, "{\"sequence\":\"101\",\"timestamp\":1,\"create_update\":{\"order_id\":"
				"\"N1\",\"type\":\"BID\",\"price\":\"1\",\"volume\":\"1\"}}"),
			 F_APPLIED);
	assert_int_equal(msg(b, "{\"sequence\":\"102\",\"timestamp\":1,\"create_update\":{\"order_id\":"
				"\"N2\",\"type\":\"BID\",\"price\":\"1\",\"volume\":\"1\"}}"),
			 IG_LUNO_BOOK_E_FULL);
	assert_int_equal(st->errors[-IG_LUNO_BOOK_E_FULL], 2);
	/* Reset forgets the book without counting an error. */
	assert_true(msg(b, SNAP) > 0);
	ig_luno_book_reset(b);
	assert_false(ig_luno_book_whole(b));
	assert_int_equal(ig_luno_book_order_count(b), 0);
	assert_string_equal(ig_luno_book_rc_name(IG_LUNO_BOOK_E_SEQUENCE), "sequence gap");
	assert_string_equal(ig_luno_book_rc_name(F_APPLIED), "ok");
	assert_string_equal(ig_luno_book_rc_name(-99), "unknown");
	ig_luno_book_destroy(b);
}

static void test_create_args(void **state)
{
	(void)state;
	struct ig_luno_book *b = (struct ig_luno_book *)1;
	assert_int_equal(ig_luno_book_create(IG_LUNO_BOOK_MAX_ORDERS + 1, 0, &b), IG_EINVAL);
	assert_null(b);
	assert_int_equal(ig_luno_book_create(0, 0, &b), 0);
	assert_int_equal(ig_luno_book_capacity(b), IG_LUNO_BOOK_DEFAULT_ORDERS);
	ig_luno_book_destroy(b);
	ig_luno_book_destroy(NULL);
}

/* ------------------------------------------------- reference and streams */

#define REF_MAX 4096

struct ref_order {
	uint32_t id;
	uint8_t side;
	int64_t px, qty;
};

/* The naive reference: a flat array of orders; levels by sorting. */
struct ref {
	struct ref_order o[REF_MAX];
	uint32_t n;
	uint32_t next_id;
	uint64_t seq;
	uint64_t rng;
};

static uint64_t rnd(struct ref *r)
{
	uint64_t z = (r->rng += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint32_t rnd_below(struct ref *r, uint32_t n)
{
	return (uint32_t)(rnd(r) % n);
}

static void idstr(uint32_t id, char *buf, size_t cap)
{
	snprintf(buf, cap, "BXMC%011uQ", id);
}

/* Best px of a side in the reference; 0 if empty. */
static int64_t ref_best(const struct ref *r, uint8_t side)
{
	int64_t best = 0;
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->o[i].side != side)
			continue;
		if (best == 0 || (side == IG_SIDE_BUY ? r->o[i].px > best : r->o[i].px < best))
			best = r->o[i].px;
	}
	return best;
}

static int cmp_px(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* The reference's levels of a side, best first; returns how many. Sorts a
 * copy of the side's orders by price, then sums runs. */
static size_t ref_levels(const struct ref *r, uint8_t side, struct ig_luno_book_level *out)
{
	static int64_t pq[REF_MAX][2];
	size_t m = 0, n = 0;

	for (uint32_t i = 0; i < r->n; i++)
		if (r->o[i].side == side) {
			/* asks ascending by px; bids by -px: best first either way */
			pq[m][0] = side == IG_SIDE_BUY ? -r->o[i].px : r->o[i].px;
			pq[m][1] = r->o[i].qty;
			m++;
		}
	qsort(pq, m, sizeof(pq[0]), cmp_px);
	for (size_t i = 0; i < m; i++) {
		int64_t px = side == IG_SIDE_BUY ? -pq[i][0] : pq[i][0];
		if (n == 0 || out[n - 1].px != px) {
			out[n].px = px;
			out[n].qty = 0;
			out[n].count = 0;
			n++;
		}
		out[n - 1].qty += pq[i][1];
		out[n - 1].count++;
	}
	return n;
}

/* Best level of a side in the reference ({0} if empty). */
static struct ig_luno_book_level ref_top(const struct ref *r, uint8_t side)
{
	static struct ig_luno_book_level tmp[REF_MAX];
	struct ig_luno_book_level none = { 0, 0, 0 };
	return ref_levels(r, side, tmp) > 0 ? tmp[0] : none;
}

static void ref_snapshot(struct ref *r, uint32_t norders, char *buf, size_t cap)
{
	size_t off;
	int64_t mid = IG_FIXED(100000);

	r->n = 0;
	r->seq = 1000;
	for (uint32_t i = 0; i < norders; i++) {
		struct ref_order *o = &r->o[r->n++];
		o->id = r->next_id++;
		o->side = (i & 1) ? IG_SIDE_SELL : IG_SIDE_BUY;
		o->px = mid + (o->side == IG_SIDE_SELL ? 1 : -1) * IG_FIXED(1 + rnd_below(r, 200));
		o->qty = (int64_t)(1 + rnd_below(r, 100000)) * 1000;
	}
	off = (size_t)snprintf(buf, cap, "{\"sequence\":\"%llu\",\"status\":\"ACTIVE\",\"timestamp\":1,",
			       (unsigned long long)r->seq);
	for (int s = 0; s < 2; s++) {
		uint8_t side = s == 0 ? IG_SIDE_BUY : IG_SIDE_SELL;
		bool first = true;
		off += (size_t)snprintf(buf + off, cap - off, "\"%s\":[", s == 0 ? "bids" : "asks");
		for (uint32_t i = 0; i < r->n; i++) {
			char id[32], px[IG_FIXED_STRLEN], qty[IG_FIXED_STRLEN];
			if (r->o[i].side != side)
				continue;
			idstr(r->o[i].id, id, sizeof(id));
			ig_fixed_format(r->o[i].px, px, sizeof(px));
			ig_fixed_format(r->o[i].qty, qty, sizeof(qty));
			off += (size_t)snprintf(buf + off, cap - off,
						"%s{\"id\":\"%s\",\"price\":\"%s\",\"volume\":\"%s\"}",
						first ? "" : ",", id, px, qty);
			first = false;
		}
		off += (size_t)snprintf(buf + off, cap - off, "]%s", s == 0 ? "," : "}");
	}
	assert_true(off < cap);
}

static void ref_remove(struct ref *r, uint32_t i)
{
	r->o[i] = r->o[--r->n];
}

/* Index of a random order at the best level of side, or UINT32_MAX. */
static uint32_t ref_pick_top(struct ref *r, uint8_t side)
{
	int64_t best = ref_best(r, side);
	uint32_t idx[REF_MAX], k = 0;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->o[i].side == side && r->o[i].px == best)
			idx[k++] = i;
	return k == 0 ? UINT32_MAX : idx[rnd_below(r, k)];
}

/*
 * Writes the next valid update into buf and applies it to the reference:
 * mostly creates and deletes near the touch, some trades (a taker sweeping
 * part of the best level, its rest possibly resting on the other side).
 * max_orders bounds the reference's book.
 */
static void ref_next(struct ref *r, uint32_t max_orders, char *buf, size_t cap)
{
	size_t off;
	uint32_t roll = rnd_below(r, 100);
	int64_t bb = ref_best(r, IG_SIDE_BUY), ba = ref_best(r, IG_SIDE_SELL);
	int64_t mid = IG_FIXED(100000);
	char id[32], px[IG_FIXED_STRLEN], qty[IG_FIXED_STRLEN], cnt[IG_FIXED_STRLEN];

	r->seq++;
	off = (size_t)snprintf(buf, cap, "{\"sequence\":\"%llu\",\"timestamp\":%llu",
			       (unsigned long long)r->seq, (unsigned long long)(1000 + r->seq));
	if (r->n + 2 >= max_orders && roll < 50)
		roll += 50;
	if (roll < 45) {
		/* A create near the touch, never crossing. */
		struct ref_order *o = &r->o[r->n];
		o->id = r->next_id++;
		o->side = rnd_below(r, 2) ? IG_SIDE_BUY : IG_SIDE_SELL;
		o->qty = (int64_t)(1 + rnd_below(r, 100000)) * 1000;
		if (o->side == IG_SIDE_BUY) {
			int64_t ref = bb != 0 ? bb : (ba != 0 ? ba - IG_FIXED(1) : mid);
			o->px = ref + IG_FIXED(1) - IG_FIXED(rnd_below(r, 6));
			if (ba != 0 && o->px >= ba)
				o->px = ba - IG_FIXED(1);
		} else {
			int64_t ref = ba != 0 ? ba : (bb != 0 ? bb + IG_FIXED(1) : mid);
			o->px = ref - IG_FIXED(1) + IG_FIXED(rnd_below(r, 6));
			if (bb != 0 && o->px <= bb)
				o->px = bb + IG_FIXED(1);
		}
		if (o->px <= 0)
			o->px = IG_FIXED(1);
		r->n++;
		idstr(o->id, id, sizeof(id));
		ig_fixed_format(o->px, px, sizeof(px));
		ig_fixed_format(o->qty, qty, sizeof(qty));
		off += (size_t)snprintf(buf + off, cap - off,
					",\"create_update\":{\"order_id\":\"%s\",\"type\":\"%s\","
					"\"price\":\"%s\",\"volume\":\"%s\"},\"trade_updates\":null",
					id, o->side == IG_SIDE_BUY ? "BID" : "ASK", px, qty);
	} else if (roll < 85 && r->n > 0) {
		/* A delete: half the time at the touch, else anywhere. */
		uint32_t i = rnd_below(r, 2) ? ref_pick_top(r, rnd_below(r, 2) ? IG_SIDE_BUY : IG_SIDE_SELL)
					     : rnd_below(r, r->n);
		if (i == UINT32_MAX)
			i = rnd_below(r, r->n);
		idstr(r->o[i].id, id, sizeof(id));
		off += (size_t)snprintf(buf + off, cap - off, ",\"delete_update\":{\"order_id\":\"%s\"}",
					id);
		ref_remove(r, i);
	} else if (r->n > 0) {
		/* Trades: a taker takes 1-3 makers at the best level of one side. */
		uint8_t side = rnd_below(r, 2) ? IG_SIDE_BUY : IG_SIDE_SELL;
		uint32_t ntr = 1 + rnd_below(r, 3);
		bool first = true;
		if (ref_pick_top(r, side) == UINT32_MAX)
			side = side == IG_SIDE_BUY ? IG_SIDE_SELL : IG_SIDE_BUY;
		off += (size_t)snprintf(buf + off, cap - off, ",\"trade_updates\":[");
		for (uint32_t t = 0; t < ntr; t++) {
			uint32_t i = ref_pick_top(r, side);
			int64_t base;
			if (i == UINT32_MAX)
				break;
			base = rnd_below(r, 2) ? r->o[i].qty : 1 + (int64_t)rnd_below(r, (uint32_t)r->o[i].qty);
			idstr(r->o[i].id, id, sizeof(id));
			ig_fixed_format(base, qty, sizeof(qty));
			if (ig_fixed_mul(base, r->o[i].px, &base) != 0)
				fail_msg("mul");
			ig_fixed_format(base, cnt, sizeof(cnt));
			off += (size_t)snprintf(buf + off, cap - off,
						"%s{\"base\":\"%s\",\"counter\":\"%s\","
						"\"maker_order_id\":\"%s\",\"taker_order_id\":\"TK%u\"}",
						first ? "" : ",", qty, cnt, id, r->next_id);
			first = false;
			if (ig_fixed_parse_cstr(qty, &base) != 0)
				fail_msg("qty");
			r->o[i].qty -= base;
			if (r->o[i].qty == 0)
				ref_remove(r, i);
		}
		off += (size_t)snprintf(buf + off, cap - off, "]");
	}
	off += (size_t)snprintf(buf + off, cap - off, "}");
	assert_true(off < cap);
}

static void compare(struct ig_luno_book *b, const struct ref *r)
{
	static struct ig_luno_book_level want[REF_MAX], got[REF_MAX];

	assert_true(ig_luno_book_whole(b));
	assert_int_equal(ig_luno_book_order_count(b), r->n);
	assert_int_equal(ig_luno_book_sequence(b), r->seq);
	for (int s = 0; s < 2; s++) {
		uint8_t side = s == 0 ? IG_SIDE_BUY : IG_SIDE_SELL;
		size_t nw = ref_levels(r, side, want);
		size_t ng = ig_luno_book_levels(b, side, got, REF_MAX);
		assert_int_equal(ng, nw);
		assert_int_equal(ig_luno_book_depth(b, side), nw);
		for (size_t k = 0; k < nw; k++) {
			assert_int_equal(got[k].px, want[k].px);
			assert_int_equal(got[k].qty, want[k].qty);
			assert_int_equal(got[k].count, want[k].count);
		}
	}
}

/* Random valid streams applied to the book and the reference; the levels,
 * counts, sequence and the TOP flag agree after every message. */
static void test_property_vs_reference(void **state)
{
	(void)state;
	static struct ref r;
	static char buf[1 << 20];
	uint32_t steps = strcmp(IG_TEST_VARIANT, "release") == 0 ? 4000 : 1500;

	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct ig_luno_book *b = fresh(256, 0);
		memset(&r, 0, sizeof(r));
		r.rng = seed;
		ref_snapshot(&r, (uint32_t)(seed * 30), buf, sizeof(buf));
		assert_true(msg(b, buf) > 0);
		compare(b, &r);
		for (uint32_t i = 0; i < steps; i++) {
			struct ig_luno_book_level b0 = ref_top(&r, IG_SIDE_BUY), a0 = ref_top(&r, IG_SIDE_SELL);
			struct ig_luno_book_level b1, a1;
			int rc;
			ref_next(&r, 250, buf, sizeof(buf));
			rc = msg(b, buf);
			if (rc < 0)
				fail_msg("seed %llu step %u: %s: %s\n%s", (unsigned long long)seed, i,
					 ig_luno_book_rc_name(rc), ig_luno_book_error(b), buf);
			compare(b, &r);
			b1 = ref_top(&r, IG_SIDE_BUY);
			a1 = ref_top(&r, IG_SIDE_SELL);
			bool moved = b0.px != b1.px || b0.qty != b1.qty || a0.px != a1.px ||
				     a0.qty != a1.qty;
			assert_int_equal((rc & F_TOP) != 0, moved);
		}
		ig_luno_book_destroy(b);
	}
}

/* ----------------------------------------------------------- hostile */

/* Any input: a known result, never a crash; a snapshot afterwards always
 * restores the book. */
static void hostile(struct ig_luno_book *b, const char *body, size_t len)
{
	int rc = ig_luno_book_on_message(b, body, len);
	if (rc < 0)
		assert_true(rc >= -(IG_LUNO_BOOK_E__COUNT - 1));
	else
		assert_true(rc < 32);
}

static void test_hostile(void **state)
{
	(void)state;
	static struct ref r;
	static char buf[1 << 16], bad[1 << 16];
	static const char *const odd[] = {
		"null", "true", "0", "1e400", "[]", "{}", "{\"asks\":null}", "{\"bids\":5}",
		"{\"sequence\":{}}", "{\"sequence\":\"\"}", "{\"sequence\":\"18446744073709551616\"}",
		"{\"sequence\":9223372036854775807,\"timestamp\":1}",
		"{\"sequence\":\"1001\",\"timestamp\":-1}",
		"{\"sequence\":\"1001\",\"timestamp\":1e400}",
		"{\"sequence\":\"1001\",\"timestamp\":1,\"trade_updates\":[[]]}",
		"{\"sequence\":\"1001\",\"timestamp\":1,\"create_update\":[]}",
		"{\"sequence\":\"1001\",\"timestamp\":1,\"create_update\":{\"order_id\":{},\"type\":\"BID\"}}",
		"{\"sequence\":\"1001\",\"timestamp\":1,\"create_update\":{\"order_id\":\"Q\",\"type\":\"BID\","
		"\"price\":\"92233720368.54775808\",\"volume\":\"1\"}}",
		"{\"sequence\":\"1001\",\"timestamp\":1,\"create_update\":{\"order_id\":\"Q\",\"type\":\"ASK\","
		"\"price\":\"92233720368.54775807\",\"volume\":\"92233720368.54775807\"}}",
		"\xff\xfe", "{\"sequence\":\"1001\"\x00}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
	};

	struct ig_luno_book *b = fresh(128, 4);
	memset(&r, 0, sizeof(r));
	r.rng = 99;
	ref_snapshot(&r, 60, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_true(msg(b, buf) > 0);
		hostile(b, odd[i], strlen(odd[i]) + (i == 20 ? 3 : 0));
	}
	/* Truncations and byte flips of valid updates, and of the snapshot. */
	for (uint32_t step = 0; step < 300; step++) {
		struct ref save = r;
		size_t len;

		ref_snapshot(&r, 60, buf, sizeof(buf));
		assert_true(msg(b, buf) > 0);
		len = strlen(buf);
		hostile(b, buf, 1 + rnd_below(&r, (uint32_t)len - 1));
		memcpy(bad, buf, len);
		bad[rnd_below(&r, (uint32_t)len)] = (char)rnd_below(&r, 256);
		hostile(b, bad, len);

		r = save;
		ref_snapshot(&r, 60, buf, sizeof(buf));
		assert_true(msg(b, buf) > 0);
		for (int k = 0; k < 5; k++) {
			ref_next(&r, 120, buf, sizeof(buf));
			len = strlen(buf);
			memcpy(bad, buf, len);
			switch (rnd_below(&r, 4)) {
			case 0:
				hostile(b, bad, rnd_below(&r, (uint32_t)len));
				break;
			case 1:
				bad[rnd_below(&r, (uint32_t)len)] = (char)rnd_below(&r, 256);
				hostile(b, bad, len);
				break;
			case 2: /* a digit of a number changed: valid JSON, other values */
				for (size_t p = 0; p < len; p++)
					if (bad[p] >= '0' && bad[p] <= '9' && rnd_below(&r, 4) == 0)
						bad[p] = (char)('0' + rnd_below(&r, 10));
				hostile(b, bad, len);
				break;
			default:
				hostile(b, bad, len); /* the valid one */
				break;
			}
			if (!ig_luno_book_whole(b))
				break;
		}
	}
	ig_luno_book_destroy(b);
}

/* ---------------------------------------------------------- memory flat */

/* A long stream (1e6 updates; fewer under the sanitizers) into a book of
 * fixed capacity: every update applies, and the heap in use after the
 * stream is what it was after the first 10,000 (the book allocates nothing
 * after create; jansson frees each message). */
static void test_memory_flat(void **state)
{
	(void)state;
	static struct ref r;
	static char buf[1 << 20];
	uint32_t steps = strcmp(IG_TEST_VARIANT, "release") == 0 ? 1000000 : 100000;
	struct ig_luno_book *b = fresh(512, 0);
	struct mallinfo2 m0, m1;

	memset(&r, 0, sizeof(r));
	r.rng = 4242;
	ref_snapshot(&r, 300, buf, sizeof(buf));
	assert_true(msg(b, buf) > 0);
	for (uint32_t i = 0; i < steps; i++) {
		int rc;
		if (i == 10000)
			m0 = mallinfo2();
		ref_next(&r, 400, buf, sizeof(buf));
		rc = msg(b, buf);
		if (rc < 0)
			fail_msg("step %u: %s: %s", i, ig_luno_book_rc_name(rc), ig_luno_book_error(b));
	}
	m1 = mallinfo2();
	assert_true(m1.uordblks <= m0.uordblks + 4096);
	assert_int_equal(ig_luno_book_stats(b)->updates, steps);
	assert_int_equal(ig_luno_book_order_count(b), r.n);
	assert_true(ig_luno_book_order_count(b) <= ig_luno_book_capacity(b));
	compare(b, &r);
	ig_luno_book_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_then_updates),
		cmocka_unit_test(test_snapshot_at_sequence_zero),
		cmocka_unit_test(test_trades_over_report),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_property_vs_reference),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_memory_flat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
