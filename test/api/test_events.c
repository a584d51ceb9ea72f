/*
 * test_events.c - the OMS -> API event ring and what the API makes of it
 * (api/events.h): a full ring drops and counts, the table of open orders
 * and the recent finished ones, the fill ring and its limit, the JSON of
 * each record kind and the SSE framing, and, with a real OMS (the OMS
 * test harness), the tap (order updates, fills, denials), the seed of the
 * orders open before the ring was attached, and state changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../oms/oms_harness.h"
#include "api/events.h"
#include "oms/oms.h"

#include <stdio.h>
#include <string.h>

#define T0 (INT64_C(1600041600000000000) + INT64_C(36000000000000))

static const char *const strat_names[] = { "s0", "s1" };
static const char *const sym_names[] = { "BTCUSD" };
static const struct ig_events_names names = { 2, strat_names, 1, sym_names };

static struct ig_api_ev order(uint64_t cid, uint16_t sid, enum ig_ord_state st, int64_t created)
{
	struct ig_api_ev r;
	memset(&r, 0, sizeof(r));
	r.kind = IG_APIEV_ORDER;
	r.client_id = cid;
	r.strategy = sid;
	r.side = IG_SIDE_BUY;
	r.type = IG_ORD_LIMIT;
	r.state = (uint8_t)st;
	r.qty = oh_D("1");
	r.px = oh_D("100");
	r.created_ns = created;
	r.ts_ns = created;
	return r;
}

static struct ig_api_ev fill(uint64_t trade)
{
	struct ig_api_ev r;
	memset(&r, 0, sizeof(r));
	r.kind = IG_APIEV_FILL;
	r.client_id = 7;
	r.trade_id = trade;
	r.side = IG_SIDE_SELL;
	r.qty = oh_D("0.5");
	r.px = oh_D("101.25");
	r.fee = oh_D("0.05");
	r.liquidity = IG_LIQ_MAKER;
	r.ts_ns = (int64_t)trade;
	return r;
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A full ring refuses and counts; the drain frees it again. */
static void test_ring_full_drops(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	struct ig_api_ev r = fill(1);

	(void)state;
	assert_non_null(ev);
	for (int i = 0; i < IG_EVENTS_RING; i++)
		assert_true(ig_events_push(ev, &r));
	assert_false(ig_events_push(ev, &r));
	assert_false(ig_events_push(ev, &r));
	assert_int_equal(ig_events_dropped(ev), 2);
	assert_int_equal(ig_events_drain(ev, 0), IG_EVENTS_RING);
	assert_true(ig_events_push(ev, &r));
	assert_int_equal(ig_events_drain(ev, 0), 1);
	assert_int_equal(ig_events_dropped(ev), 2);
	ig_events_destroy(ev);
}

/* Open orders: upserted by client id, newest first; a terminal state
 * moves one to recent (newest first, at most IG_EVENTS_RECENT); the
 * strategy filter. Many orders: the table's index stays right through
 * removals. */
static void test_orders_table(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	struct ig_api_ev r;
	json_t *doc, *open, *recent;

	(void)state;
	for (uint64_t c = 1; c <= 5; c++) {
		r = order(c, (uint16_t)(c % 2), IG_OS_SUBMITTED, (int64_t)c * 10);
		ig_events_push(ev, &r);
		r.state = IG_OS_ACCEPTED;
		ig_events_push(ev, &r);
	}
	r = order(2, 0, IG_OS_CANCELED, 20);
	ig_events_push(ev, &r);
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	open = json_object_get(doc, "open");
	recent = json_object_get(doc, "recent");
	assert_int_equal(json_array_size(open), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 0), "client_order_id")), "5");
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 3), "client_order_id")), "1");
	assert_string_equal(str(json_array_get(open, 0), "state"), "accepted");
	assert_int_equal(json_array_size(recent), 1);
	assert_string_equal(str(json_array_get(recent, 0), "state"), "canceled");
	json_decref(doc);
	doc = ig_events_orders_json(ev, "s1"); /* odd ids: 1, 3, 5 */
	assert_int_equal(json_array_size(json_object_get(doc, "open")), 3);
	assert_int_equal(json_array_size(json_object_get(doc, "recent")), 0);
	json_decref(doc);

	/* 1500 more, every third finished, the rest updated twice. */
	for (uint64_t c = 100; c < 1600; c++) {
		r = order(c, 0, IG_OS_ACCEPTED, (int64_t)c * 10);
		ig_events_push(ev, &r);
		if (c % 64 == 0)
			ig_events_drain(ev, 0);
	}
	ig_events_drain(ev, 0);
	for (uint64_t c = 100; c < 1600; c++) {
		r = order(c, 0, c % 3 == 0 ? IG_OS_FILLED : IG_OS_PARTIALLY_FILLED, (int64_t)c * 10);
		ig_events_push(ev, &r);
		if (c % 64 == 0)
			ig_events_drain(ev, 0);
	}
	ig_events_drain(ev, 0);
	for (uint64_t c = 100; c < 1600; c++) {
		if (c % 3 == 0)
			continue;
		r = order(c, 0, IG_OS_PARTIALLY_FILLED, (int64_t)c * 10);
		ig_events_push(ev, &r);
		if (c % 64 == 0)
			ig_events_drain(ev, 0);
	}
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	open = json_object_get(doc, "open");
	recent = json_object_get(doc, "recent");
	assert_int_equal(json_array_size(open), 4 + 1000); /* no duplicate */
	assert_int_equal(json_array_size(recent), IG_EVENTS_RECENT);
	/* The last one finished first (1599 = 3 * 533); the newest open: 1598. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(recent, 0), "client_order_id")), "1599");
	assert_string_equal(json_string_value(json_object_get(json_array_get(recent, 1), "client_order_id")), "1596");
	assert_string_equal(json_string_value(json_object_get(json_array_get(open, 0), "client_order_id")), "1598");
	json_decref(doc);
	ig_events_destroy(ev);
}

/* The last IG_EVENTS_FILLS fills, newest first, limit; limit parsing. */
static void test_fills_limit(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	json_t *doc, *f;

	(void)state;
	for (uint64_t t = 1; t <= IG_EVENTS_FILLS + 5; t++) {
		struct ig_api_ev r = fill(t);
		ig_events_push(ev, &r);
	}
	ig_events_drain(ev, 0);
	doc = ig_events_fills_json(ev, IG_EVENTS_FILLS);
	f = json_object_get(doc, "fills");
	assert_int_equal(json_array_size(f), IG_EVENTS_FILLS);
	assert_string_equal(str(json_array_get(f, 0), "trade_id"), "1005");
	assert_string_equal(str(json_array_get(f, IG_EVENTS_FILLS - 1), "trade_id"), "6");
	json_decref(doc);
	doc = ig_events_fills_json(ev, 3);
	assert_int_equal(json_array_size(json_object_get(doc, "fills")), 3);
	json_decref(doc);
	ig_events_destroy(ev);

	assert_int_equal(ig_events_parse_limit(NULL), IG_EVENTS_FILLS_DEFAULT);
	assert_int_equal(ig_events_parse_limit("1"), 1);
	assert_int_equal(ig_events_parse_limit("1000"), 1000);
	assert_int_equal(ig_events_parse_limit("1001"), -1);
	assert_int_equal(ig_events_parse_limit("0"), -1);
	assert_int_equal(ig_events_parse_limit(""), -1);
	assert_int_equal(ig_events_parse_limit("-5"), -1);
	assert_int_equal(ig_events_parse_limit("10x"), -1);
	assert_int_equal(ig_events_parse_limit("99999999999999999999"), -1);
}

/* Each kind's JSON (api_shapes: ORDER, FILL, denial, state) and SSE framing. */
static void test_renderers(void **state)
{
	struct ig_api_ev r = order(17, 1, IG_OS_REJECTED, 5);
	json_t *j;
	char buf[256];
	size_t n;

	(void)state;
	r.reason = IG_RJ_VENUE_POST_ONLY;
	r.venue_order_id = 99;
	r.filled_qty = oh_D("0.2");
	r.ts_ns = 6;
	j = ig_events_rec_json(&names, &r);
	assert_string_equal(json_string_value(json_object_get(j, "client_order_id")), "17");
	assert_string_equal(str(j, "venue_order_id"), "99");
	/* Ids are strings: a live client id passes 2^53, where a JSON number
	 * loses digits in a browser (two orders would share a key). */
	{
		struct ig_api_ev big = r;
		json_t *b;
		big.client_id = UINT64_C(15639358904205351);
		b = ig_events_rec_json(&names, &big);
		assert_string_equal(json_string_value(json_object_get(b, "client_order_id")),
				    "15639358904205351");
		json_decref(b);
	}
	assert_string_equal(str(j, "strategy"), "s1");
	assert_string_equal(str(j, "symbol"), "BTCUSD");
	assert_string_equal(str(j, "side"), "buy");
	assert_string_equal(str(j, "type"), "limit");
	assert_string_equal(str(j, "tif"), "gtc");
	assert_string_equal(str(j, "qty"), "1");
	assert_string_equal(str(j, "price"), "100");
	assert_true(json_is_null(json_object_get(j, "stop_price")));
	assert_string_equal(str(j, "filled_qty"), "0.2");
	assert_string_equal(str(j, "state"), "rejected");
	assert_string_equal(str(j, "reject_reason"), "venue_post_only");
	assert_int_equal(json_integer_value(json_object_get(j, "created_ns")), 5);
	assert_int_equal(json_integer_value(json_object_get(j, "updated_ns")), 6);
	json_decref(j);
	r.venue_order_id = 0;
	r.px = 0;
	r.reason = 0;
	j = ig_events_rec_json(&names, &r);
	assert_true(json_is_null(json_object_get(j, "venue_order_id")));
	assert_true(json_is_null(json_object_get(j, "price")));
	assert_true(json_is_null(json_object_get(j, "reject_reason")));
	json_decref(j);

	r = fill(123);
	j = ig_events_rec_json(&names, &r);
	assert_string_equal(str(j, "trade_id"), "123");
	assert_string_equal(str(j, "side"), "sell");
	assert_string_equal(str(j, "price"), "101.25");
	assert_string_equal(str(j, "fee"), "0.05");
	assert_string_equal(str(j, "liquidity"), "maker");
	assert_int_equal(json_integer_value(json_object_get(j, "ts_ns")), 123);
	json_decref(j);

	memset(&r, 0, sizeof(r));
	r.kind = IG_APIEV_DENIAL;
	r.strategy = 0;
	r.side = IG_SIDE_BUY;
	r.qty = oh_D("3");
	r.px = oh_D("10");
	r.reason = IG_RJ_MAX_ORDER_QTY;
	r.client_id = 4;
	j = ig_events_rec_json(&names, &r);
	assert_string_equal(str(j, "reason"), "max_order_qty");
	assert_string_equal(str(j, "qty"), "3");
	assert_string_equal(str(j, "strategy"), "s0");
	json_decref(j);

	memset(&r, 0, sizeof(r));
	r.kind = IG_APIEV_STATE;
	r.strategy = IG_STRATEGY_NONE;
	r.state = IG_TS_HALTED;
	r.kill_switch = 1;
	j = ig_events_rec_json(&names, &r);
	assert_string_equal(str(j, "trading_state"), "halted");
	assert_true(json_is_true(json_object_get(j, "kill_switch")));
	assert_true(json_is_null(json_object_get(j, "strategy")));
	assert_true(json_is_null(json_object_get(j, "paused")));
	json_decref(j);
	r.strategy = 1;
	r.paused = 1;
	r.state = IG_TS_ACTIVE;
	j = ig_events_rec_json(&names, &r);
	assert_string_equal(str(j, "strategy"), "s1");
	assert_true(json_is_true(json_object_get(j, "paused")));
	json_decref(j);
	assert_string_equal(ig_events_kind_name(IG_APIEV_STATE), "state");

	n = ig_events_sse_format(buf, sizeof(buf), 42, "fill", "{\"a\":1}");
	assert_string_equal(buf, "id: 42\nevent: fill\ndata: {\"a\":1}\n\n");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(ig_events_sse_format(buf, sizeof(buf), 1, "x", "a\nb"), 0);
	assert_int_equal(ig_events_sse_format(buf, 10, 1, "fill", "{\"a\":1}"), 0);
}

/* ---- with the OMS ---------------------------------------------------------- */

static struct ig_config cfg;
static struct ig_oms oms;
static struct oh_cap out;
static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_events", .capital = "100000", .check_sanity = true,
};

/* Orders open before the ring is attached are seeded by the first poll
 * (with the states); then the tap sends updates, fills and denials, and
 * a pause shows as a state change. */
static void test_oms_seed_and_tap(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	json_t *doc, *open;

	(void)state;
	cfg.risk.max_order_qty = oh_D("5");
	oh_start();
	oh_quote(0, "100", "100");
	/* Before the API: one open limit order, one filled market order. */
	oh_send_ok(OH_BY_REF(oh_ord(0, 11, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1)), "no reply");
	oh_venue_update(0, 11, IG_OS_ACCEPTED);
	oh_send_ok(OH_BY_REF(oh_ord(1, 21, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "1", 1)), "no reply");
	oh_fill(1, 21, 1, IG_SIDE_BUY, "100", "1", "0");

	ig_oms_set_tap(&oms, ig_events_oms_tap, ev);
	/* 1 global + 2 strategy states + 1 open order. */
	assert_int_equal(ig_events_oms_poll(ev, &oms), 4);
	assert_int_equal(ig_events_oms_poll(ev, &oms), 0); /* nothing changed, seeded */
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	open = json_object_get(doc, "open");
	assert_int_equal(json_array_size(open), 1);
	assert_string_equal(str(json_array_get(open, 0), "state"), "accepted");
	assert_string_equal(str(json_array_get(open, 0), "price"), "99");
	assert_int_equal(json_array_size(json_object_get(doc, "recent")), 0); /* before: not shown */
	json_decref(doc);

	/* The tap: a fill of the open order, then a denied intent. */
	oh_fill(0, 11, 2, IG_SIDE_BUY, "99", "1", "0.1");
	oh_handle(OH_BY_REF(oh_ord(0, 12, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "6", 2)));
	assert_non_null(oh_reject_for(12));
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "open")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "recent")), 1);
	assert_string_equal(str(json_array_get(json_object_get(doc, "recent"), 0), "state"), "filled");
	assert_string_equal(str(json_array_get(json_object_get(doc, "recent"), 0), "filled_qty"), "1");
	json_decref(doc);
	doc = ig_events_fills_json(ev, 10);
	assert_int_equal(json_array_size(json_object_get(doc, "fills")), 1);
	assert_string_equal(str(json_array_get(json_object_get(doc, "fills"), 0), "price"), "99");
	assert_string_equal(str(json_array_get(json_object_get(doc, "fills"), 0), "strategy"), "s0");
	json_decref(doc);

	/* A pause: one state record at the next poll. */
	assert_int_equal(ig_oms_control(&oms, IG_CTL_PAUSE, 1, 0, 0, &out.emit), IG_OMS_CTL_OK);
	assert_int_equal(ig_events_oms_poll(ev, &oms), 1);
	assert_int_equal(ig_oms_control(&oms, IG_CTL_KILL_SWITCH, IG_STRATEGY_NONE, 1, 0, &out.emit),
			 IG_OMS_CTL_OK);
	assert_int_equal(ig_events_oms_poll(ev, &oms), 1); /* the global one */
	ig_events_drain(ev, 0);
	assert_int_equal(ig_events_dropped(ev), 0);
	ig_oms_set_tap(&oms, NULL, NULL);
	ig_events_destroy(ev);
}

/* A seed bigger than the room in the ring goes on at the next poll; no
 * drop is counted for it. */
static void test_oms_seed_resumes(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	struct ig_api_ev filler = fill(1);
	json_t *doc;
	int pushed = 0;

	(void)state;
	oh_start();
	oh_quote(0, "100", "100");
	for (uint64_t c = 1; c <= 10; c++)
		oh_send_ok(OH_BY_REF(oh_ord(0, c, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", (int64_t)c)),
			   "no reply");
	/* Leave room for the three states and four orders. */
	for (int i = 0; i < IG_EVENTS_RING - 7; i++)
		ig_events_push(ev, &filler);
	pushed += ig_events_oms_poll(ev, &oms);
	assert_int_equal(pushed, 7);
	ig_events_drain(ev, 0);
	pushed += ig_events_oms_poll(ev, &oms);
	assert_int_equal(pushed, 13);
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, "s0");
	assert_int_equal(json_array_size(json_object_get(doc, "open")), 10);
	json_decref(doc);
	assert_int_equal(ig_events_dropped(ev), 0);
	ig_events_destroy(ev);
}

/* Review: a record the full ring dropped must not leave the API's view
 * wrong for good. An order's terminal update dropped (the API thread
 * held in a 2 s control wait, a burst) kept the order in /orders "open"
 * forever, and such stale entries piled up until the table was full and
 * real open orders went unlisted. After drops the OMS goes over its books
 * again: an order it no longer holds open leaves the table; one whose
 * first record was dropped appears. */
static void test_drop_resyncs_open_orders(void **state)
{
	struct ig_events *ev = ig_events_create(&names);
	struct ig_api_ev filler = fill(1);
	json_t *doc, *open;
	json_int_t updated;
	int i;

	(void)state;
	oh_start();
	oh_quote(0, "100", "100");
	ig_oms_set_tap(&oms, ig_events_oms_tap, ev);
	ig_events_oms_poll(ev, &oms);
	oh_send_ok(OH_BY_REF(oh_ord(0, 11, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1)), "no reply");
	oh_venue_update(0, 11, IG_OS_ACCEPTED);
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	assert_int_equal(json_array_size(json_object_get(doc, "open")), 1);
	json_decref(doc);

	/* The ring is full: order 11 fills (its records are dropped), order
	 * 12 is placed (its records are dropped too). */
	for (i = 0; i < IG_EVENTS_RING; i++)
		assert_true(ig_events_push(ev, &filler));
	oh_fill(0, 11, 2, IG_SIDE_BUY, "99", "1", "0");
	oh_send_ok(OH_BY_REF(oh_ord(0, 12, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 3)), "no reply");
	assert_true(ig_events_dropped(ev) > 0);
	ig_events_drain(ev, 0);
	/* The OMS's next polls (room again) put it right. */
	for (i = 0; i < 3; i++) {
		ig_events_oms_poll(ev, &oms);
		ig_events_drain(ev, 0);
	}
	doc = ig_events_orders_json(ev, NULL);
	open = json_object_get(doc, "open");
	assert_int_equal(json_array_size(open), 1);
	assert_string_equal(str(json_array_get(open, 0), "price"), "98");
	json_decref(doc);
	/* The status counts what the resync removed. */
	doc = ig_events_status_json(ev);
	assert_true(json_integer_value(json_object_get(doc, "open_evicted")) >= 1);
	assert_int_equal(json_integer_value(json_object_get(doc, "open_hidden")), 0);
	json_decref(doc);

	/* Order 12 is accepted later; another drop and resync: the entry
	 * keeps the time of its last update, not the seed's creation time. */
	oh_venue_update_at(T0 + INT64_C(60000000000), 0, 12, IG_OS_ACCEPTED);
	ig_events_drain(ev, 0);
	doc = ig_events_orders_json(ev, NULL);
	updated = json_integer_value(json_object_get(json_array_get(json_object_get(doc, "open"), 0),
						     "updated_ns"));
	assert_true(updated > json_integer_value(json_object_get(
				      json_array_get(json_object_get(doc, "open"), 0), "created_ns")));
	json_decref(doc);
	for (i = 0; i <= IG_EVENTS_RING; i++) /* the last one is dropped */
		ig_events_push(ev, &filler);
	ig_events_drain(ev, 0);
	for (i = 0; i < 3; i++) {
		ig_events_oms_poll(ev, &oms);
		ig_events_drain(ev, 0);
	}
	doc = ig_events_orders_json(ev, NULL);
	open = json_object_get(doc, "open");
	assert_int_equal(json_array_size(open), 1);
	assert_string_equal(str(json_array_get(open, 0), "state"), "accepted");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(open, 0), "updated_ns")),
			 updated);
	json_decref(doc);
	ig_oms_set_tap(&oms, NULL, NULL);
	ig_events_destroy(ev);
}

/* Review: a seed (the first one, or a resync after drops) looks at one
 * strategy's pool of slots per poll at most, so going over 64 pools is
 * not one long OMS duty cycle. */
static void test_seed_scan_bounded(void **state)
{
	struct ig_events *ev = ig_events_create(&names);

	(void)state;
	oh_start();
	oh_quote(0, "100", "100");
	oh_send_ok(OH_BY_REF(oh_ord(1, 21, IG_SIDE_BUY, IG_ORD_LIMIT, "90", "1", 1)), "no reply");
	assert_int_equal(ig_events_oms_poll(ev, &oms), 3); /* the states; s0's pool looked at */
	assert_int_equal(ig_events_oms_poll(ev, &oms), 1); /* s1's order */
	assert_int_equal(ig_events_oms_poll(ev, &oms), 0);
	ig_events_destroy(ev);
}

#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_full_drops),
		cmocka_unit_test(test_orders_table),
		cmocka_unit_test(test_fills_limit),
		cmocka_unit_test(test_renderers),
		T(test_oms_seed_and_tap),
		T(test_oms_seed_resumes),
		T(test_drop_resyncs_open_orders),
		T(test_seed_scan_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
