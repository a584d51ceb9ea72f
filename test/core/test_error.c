/*
 * test_error.c - error codes and event/order/reject names.
 *
 * Covers:
 *   - every code in IG_ERRNO_MAP (include/ingenium/error.h): negative,
 *     unique, ig_strerror() gives the table's message and ig_err_name() the
 *     "IG_<NAME>" spelling; 0 is "success" / "IG_OK"; unknown codes (positive,
 *     past the last code, INT_MIN, INT_MAX) give "unknown error" /
 *     "IG_UNKNOWN";
 *   - src/core/event.c: ig_event_type_name, ig_ord_state_name and
 *     ig_reject_reason_name give a distinct, non-empty, non-"unknown" name
 *     for every valid value (checked against the X-macro tables and, for
 *     event types, against the enum by hand) and "unknown" out of range;
 *     ig_side_name for every side; ig_ord_type_name, ig_tif_name and
 *     ig_liquidity_name for every value and out of range.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include "ingenium/error.h"
#include "ingenium/event.h"

struct err_row {
	int code;
	const char *name;
	const char *msg;
};

static const struct err_row err_rows[] = {
#define ROW(name, code, msg) { IG_##name, "IG_" #name, msg },
	IG_ERRNO_MAP(ROW)
#undef ROW
};
#define N_ERR (sizeof(err_rows) / sizeof(err_rows[0]))

static void check_distinct(const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_non_null(names[i]);
		assert_true(names[i][0] != '\0');
		assert_string_not_equal(names[i], "unknown");
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				fail_msg("duplicate name \"%s\" at %zu and %zu", names[i], j, i);
	}
}

static void test_errno_map(void **state)
{
	const char *msgs[N_ERR], *names[N_ERR];

	(void)state;
	assert_true(N_ERR >= 17);
	for (size_t i = 0; i < N_ERR; i++) {
		int code = err_rows[i].code;
		assert_true(code < 0);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(code, err_rows[j].code);
		assert_string_equal(ig_strerror(code), err_rows[i].msg);
		assert_string_equal(ig_err_name(code), err_rows[i].name);
		assert_string_not_equal(ig_strerror(code), "unknown error");
		assert_string_not_equal(ig_err_name(code), "IG_UNKNOWN");
		msgs[i] = ig_strerror(code);
		names[i] = ig_err_name(code);
	}
	check_distinct(msgs, N_ERR);
	check_distinct(names, N_ERR);
	/* Spot checks against the documented spellings. */
	assert_string_equal(ig_err_name(IG_ERANGE), "IG_ERANGE");
	assert_string_equal(ig_strerror(IG_ESYNTAX), "not a number");
	assert_string_equal(ig_strerror(IG_EPRECISION), "too many decimals");
	assert_string_equal(ig_err_name(IG_EAGAIN), "IG_EAGAIN");
	assert_int_equal(IG_EINVAL, -1);
}

static void test_errno_success_and_unknown(void **state)
{
	static const int unknown[] = { 1, 2, 17, 1000, -18, -100, -1000, INT_MIN, INT_MAX };

	(void)state;
	assert_string_equal(ig_strerror(0), "success");
	assert_string_equal(ig_err_name(0), "IG_OK");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int code = unknown[i];
		bool known = false;
		for (size_t k = 0; k < N_ERR; k++)
			known = known || err_rows[k].code == code;
		if (known)
			continue; /* the table grew: not an unknown code any more */
		assert_string_equal(ig_strerror(code), "unknown error");
		assert_string_equal(ig_err_name(code), "IG_UNKNOWN");
	}
	/* Every code between the table's extremes that is not in it. */
	for (int code = -200; code < 0; code++) {
		bool known = false;
		for (size_t k = 0; k < N_ERR; k++)
			known = known || err_rows[k].code == code;
		if (!known) {
			assert_string_equal(ig_strerror(code), "unknown error");
			assert_string_equal(ig_err_name(code), "IG_UNKNOWN");
		}
	}
}

static void test_event_type_names(void **state)
{
	/* By hand: the name table in event.c is not generated from the enum. */
	static const struct {
		enum ig_event_type t;
		const char *name;
	} want[] = {
		{ IG_EV_NONE, "none" },
		{ IG_EV_QUOTE, "quote" },
		{ IG_EV_TRADE, "trade" },
		{ IG_EV_BAR, "bar" },
		{ IG_EV_TIMER, "timer" },
		{ IG_EV_ORDER, "order" },
		{ IG_EV_CANCEL, "cancel" },
		{ IG_EV_ORDER_UPDATE, "order_update" },
		{ IG_EV_FILL, "fill" },
		{ IG_EV_REJECT, "reject" },
		{ IG_EV_POSITION, "position" },
		{ IG_EV_CONTROL, "control" },
		{ IG_EV_RECONCILE, "reconcile" },
	};
	const char *names[IG_EV__COUNT];

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), IG_EV__COUNT);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_string_equal(ig_event_type_name(want[i].t), want[i].name);
	for (unsigned t = 0; t < IG_EV__COUNT; t++)
		names[t] = ig_event_type_name((enum ig_event_type)t);
	check_distinct(names, IG_EV__COUNT);
	assert_string_equal(ig_event_type_name(IG_EV__COUNT), "unknown");
	assert_string_equal(ig_event_type_name((enum ig_event_type)(IG_EV__COUNT + 1)), "unknown");
	assert_string_equal(ig_event_type_name((enum ig_event_type)255), "unknown");
	assert_string_equal(ig_event_type_name((enum ig_event_type)-1), "unknown");
}

static void test_ord_state_names(void **state)
{
	static const char *const want[] = {
#define STR(name, str) str,
		IG_ORD_STATE_MAP(STR)
#undef STR
	};
	const char *names[IG_OS__COUNT];

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), IG_OS__COUNT);
	for (unsigned s = 0; s < IG_OS__COUNT; s++) {
		names[s] = ig_ord_state_name((enum ig_ord_state)s);
		assert_string_equal(names[s], want[s]);
	}
	check_distinct(names, IG_OS__COUNT);
	assert_string_equal(ig_ord_state_name(IG_OS_INITIALIZED), "initialized");
	assert_string_equal(ig_ord_state_name(IG_OS_PARTIALLY_FILLED), "partially_filled");
	assert_string_equal(ig_ord_state_name(IG_OS_IN_DOUBT), "in_doubt");
	assert_string_equal(ig_ord_state_name(IG_OS__COUNT), "unknown");
	assert_string_equal(ig_ord_state_name((enum ig_ord_state)(IG_OS__COUNT + 7)), "unknown");
	assert_string_equal(ig_ord_state_name((enum ig_ord_state)-1), "unknown");
}

static void test_reject_reason_names(void **state)
{
	static const char *const want[] = {
#define STR(name, str) str,
		IG_REJECT_MAP(STR)
#undef STR
	};
	const char *names[IG_RJ__COUNT];

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), IG_RJ__COUNT);
	for (unsigned r = 0; r < IG_RJ__COUNT; r++) {
		names[r] = ig_reject_reason_name((enum ig_reject_reason)r);
		assert_string_equal(names[r], want[r]);
	}
	check_distinct(names, IG_RJ__COUNT);
	assert_string_equal(ig_reject_reason_name(IG_RJ_NONE), "none");
	assert_string_equal(ig_reject_reason_name(IG_RJ_RATE_LIMIT), "max_orders_per_sec");
	assert_string_equal(ig_reject_reason_name(IG_RJ_VENUE_INSUFFICIENT_BALANCE),
			    "venue_insufficient_balance");
	assert_string_equal(ig_reject_reason_name(IG_RJ__COUNT), "unknown");
	assert_string_equal(ig_reject_reason_name((enum ig_reject_reason)1000), "unknown");
	assert_string_equal(ig_reject_reason_name((enum ig_reject_reason)-1), "unknown");
}

static void test_side_names(void **state)
{
	(void)state;
	assert_string_equal(ig_side_name(IG_SIDE_BUY), "buy");
	assert_string_equal(ig_side_name(IG_SIDE_SELL), "sell");
	assert_string_equal(ig_side_name(IG_SIDE_NONE), "none");
	assert_string_equal(ig_side_name((enum ig_side)9), "none");
}

static void test_order_enum_names(void **state)
{
	static const char *const types[] = { "market",     "limit",       "stop_market",
					     "stop_limit", "take_profit", "trailing_stop" };
	(void)state;
	assert_int_equal(sizeof(types) / sizeof(types[0]), IG_ORD__COUNT);
	for (unsigned t = 0; t < IG_ORD__COUNT; t++)
		assert_string_equal(ig_ord_type_name((enum ig_ord_type)t), types[t]);
	assert_string_equal(ig_ord_type_name(IG_ORD__COUNT), "unknown");
	assert_string_equal(ig_ord_type_name((enum ig_ord_type)-1), "unknown");
	assert_string_equal(ig_tif_name(IG_TIF_GTC), "gtc");
	assert_string_equal(ig_tif_name(IG_TIF_IOC), "ioc");
	assert_string_equal(ig_tif_name(IG_TIF_FOK), "fok");
	assert_string_equal(ig_tif_name(IG_TIF_DAY), "day");
	assert_string_equal(ig_tif_name((enum ig_tif)(IG_TIF_DAY + 1)), "unknown");
	assert_string_equal(ig_liquidity_name(IG_LIQ_NONE), "none");
	assert_string_equal(ig_liquidity_name(IG_LIQ_MAKER), "maker");
	assert_string_equal(ig_liquidity_name(IG_LIQ_TAKER), "taker");
	assert_string_equal(ig_liquidity_name((enum ig_liquidity)3), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_map),
		cmocka_unit_test(test_errno_success_and_unknown),
		cmocka_unit_test(test_event_type_names),
		cmocka_unit_test(test_ord_state_names),
		cmocka_unit_test(test_reject_reason_names),
		cmocka_unit_test(test_side_names),
		cmocka_unit_test(test_order_enum_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
