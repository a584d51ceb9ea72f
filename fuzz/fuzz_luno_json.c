/*
 * fuzz_luno_json.c - every Luno REST reply parser (src/luno/luno_json.c):
 * error, order_id, success, order, orders, trades, ticker, top, markets
 * and balance all parse the same input, plus the error-code mapping.
 * A parser that succeeds must respect the sign rules it documents.
 */
#include "luno/luno_json.h"

#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ig_log_set_level(IG_LOG_OFF);
	return 0;
}

static void check_status(const struct ig_luno_order_status *o)
{
	CHECK(o->base >= 0 && o->counter >= 0 && o->fee_base >= 0 && o->fee_counter >= 0);
	CHECK(o->limit_price >= 0 && o->limit_volume >= 0);
	CHECK(memchr(o->order_id, '\0', sizeof(o->order_id)) != NULL);
	CHECK(memchr(o->client_order_id, '\0', sizeof(o->client_order_id)) != NULL);
	CHECK(memchr(o->pair, '\0', sizeof(o->pair)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy with no NUL after it: the parsers take (body, len)
	 * and must not read past len. */
	char *body = malloc(size > 0 ? size : 1);
	static struct ig_luno_order_status orders[8];
	static struct ig_luno_trade trades[8];
	static const char *const assets[] = { "XBT", "ZAR", "", "ETH" };
	struct ig_luno_error e;
	struct ig_luno_order_status st;
	struct ig_luno_ticker tk;
	struct ig_luno_top top;
	struct ig_luno_market mk;
	int64_t totals[4];
	char id[IG_LUNO_ID_MAX];
	size_t n;
	bool ok;

	if (body == NULL)
		return 0;
	if (size > 0)
		memcpy(body, data, size);

	if (ig_luno_parse_error(body, size, &e) == 0) {
		CHECK(memchr(e.code_str, '\0', sizeof(e.code_str)) != NULL);
		(void)ig_luno_err_name(e.code);
		(void)ig_luno_err_reason(e.code);
		(void)ig_luno_err_action(e.code);
		(void)ig_luno_err_from_code(e.code_str);
	}
	if (ig_luno_parse_order_id(body, size, id, sizeof(id)) == 0)
		CHECK(id[0] != '\0' && memchr(id, '\0', sizeof(id)) != NULL);
	(void)ig_luno_parse_order_id(body, size, id, 4); /* a small buffer */
	(void)ig_luno_parse_success(body, size, &ok);
	if (ig_luno_parse_order(body, size, &st) == 0)
		check_status(&st);
	if (ig_luno_parse_orders(body, size, orders, 8, &n) == 0) {
		CHECK(n <= 8);
		for (size_t i = 0; i < n; i++)
			check_status(&orders[i]);
	}
	(void)ig_luno_parse_orders(body, size, orders, 0, &n);
	if (ig_luno_parse_trades(body, size, trades, 8, &n) == 0) {
		CHECK(n <= 8);
		for (size_t i = 0; i < n; i++) {
			CHECK(trades[i].sequence > 0 && trades[i].price > 0 && trades[i].volume > 0);
			CHECK(trades[i].base >= 0 && trades[i].counter >= 0);
			CHECK(trades[i].fee_base >= 0 && trades[i].fee_counter >= 0);
		}
	}
	(void)ig_luno_parse_trades(body, size, trades, 1, &n);
	if (ig_luno_parse_ticker(body, size, &tk) == 0)
		CHECK(tk.bid >= 0 && tk.ask >= 0);
	(void)ig_luno_parse_top(body, size, &top);
	if (ig_luno_parse_markets(body, size, "XBTZAR", &mk) == 0) {
		CHECK(mk.price_scale >= 0 && mk.price_scale <= 8);
		CHECK(mk.volume_scale >= 0 && mk.volume_scale <= 8);
		CHECK(mk.min_volume >= 0 && mk.max_volume >= 0);
	}
	(void)ig_luno_parse_markets(body, size, "", &mk);
	(void)ig_luno_parse_balance(body, size, assets, 4, totals);
	(void)ig_luno_json_error();
	free(body);
	return 0;
}
