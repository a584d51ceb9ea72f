/*
 * test_exchange_http.c - exchange-sim over real HTTP (src/sim/sim.h): each
 * test starts the server in process on 127.0.0.1 port 0 (the teardown
 * always stops it, even when the test fails) and talks to it with libcurl.
 *
 * Covers:
 *   - auth: private routes answer 401 ErrUnauthorised without or with wrong
 *     credentials; public routes need none;
 *   - shapes: ticker, tickers, orderbook_top, orderbook, trades, markets,
 *     balance, fee_info, order v1/v2/v3, listorders, listtrades;
 *   - postorder then lookup by client_order_id and by id; reservations;
 *   - duplicate client_order_id: 409, the order is not duplicated, and a
 *     REFUSED order's client_order_id stays free;
 *   - listtrades paging with after_seq (inclusive, as Luno documents);
 *   - stoporder (success true, then 400 ErrCannotStopUnknownOrNonPendingOrder;
 *     404 for unknown ids);
 *   - market orders by counter and base volume; balances moving exactly by
 *     the trades' amounts and fees;
 *   - the rate limit (429 ErrTooManyRequests with Retry-After);
 *   - malformed parameters: 400 with Luno's error codes;
 *   - faults: fail-rate (500 JSON / 503 HTML, before and after processing:
 *     the order exists iff it was processed), timeout-after-accept (the
 *     client times out, other requests are not blocked, the order exists,
 *     stop does not wait for the held answer), latency;
 *   - the synthetic flow: fills a resting order, is deterministic per seed,
 *     and keeps every invariant while racing HTTP requests;
 *   - the --state JSON written on stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "sim/sim.h"

#define KEY_ID "test-key"
#define KEY_SECRET "test-secret"

struct fixture {
	struct ig_sim_server *srv;
	uint16_t port;
	char base[64];
	char state_path[256];
};

struct http {
	long status;
	char *body;
	size_t len;
	json_t *json;
	double secs;
	CURLcode cc;
	char retry_after[32];
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	snprintf(f->state_path, sizeof(f->state_path), "/tmp/ig_sim_state_%d.json", (int)getpid());
	*state = f;
	return 0;
}

/* Always runs, even after a failed assertion: the server never leaks. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	ig_sim_server_stop(f->srv);
	remove(f->state_path);
	free(f);
	return 0;
}

static void cfg_test(struct ig_sim_cfg *c)
{
	ig_sim_cfg_defaults(c);
	c->key_id = KEY_ID;
	c->key_secret = KEY_SECRET;
	c->flow_ms = 0;
	c->rate_limit = 0;
	c->seed = 7;
	c->quiet = true;
}

static void start(struct fixture *f, const struct ig_sim_cfg *c)
{
	char err[IG_SIM_ERR_MAX];
	int rc = ig_sim_server_start(c, &f->srv, &f->port, err, sizeof(err));
	if (rc != 0)
		fail_msg("ig_sim_server_start: %s", err);
	assert_true(f->port > 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)f->port);
}

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
	struct http *h = arg;
	char *b = realloc(h->body, h->len + sz * n + 1);
	if (b == NULL)
		return 0;
	memcpy(b + h->len, p, sz * n);
	h->len += sz * n;
	b[h->len] = '\0';
	h->body = b;
	return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = sz * n;

	if (len > 13 && strncasecmp(p, "Retry-After: ", 13) == 0) {
		size_t k = 0;
		for (size_t i = 13; i < len && k + 1 < sizeof(h->retry_after); i++)
			if (p[i] >= '0' && p[i] <= '9')
				h->retry_after[k++] = p[i];
		h->retry_after[k] = '\0';
	}
	return len;
}

static void http_free(struct http *h)
{
	free(h->body);
	json_decref(h->json);
	memset(h, 0, sizeof(*h));
}

/* One request. form != NULL makes it a POST. user NULL: no auth. */
static void request(struct fixture *f, const char *path, const char *form, const char *user,
		    const char *pass, long timeout_ms, struct http *h)
{
	CURL *c = curl_easy_init();
	char url[1024];
	double t0;

	memset(h, 0, sizeof(*h));
	assert_non_null(c);
	snprintf(url, sizeof(url), "%s%s", f->base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	if (user != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	}
	t0 = now_s();
	h->cc = curl_easy_perform(c);
	h->secs = now_s() - t0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_cleanup(c);
	if (h->body != NULL)
		h->json = json_loads(h->body, 0, NULL);
}

static void get(struct fixture *f, const char *path, struct http *h)
{
	request(f, path, NULL, KEY_ID, KEY_SECRET, 10000, h);
	assert_int_equal(h->cc, CURLE_OK);
}

static void post(struct fixture *f, const char *path, const char *form, struct http *h)
{
	request(f, path, form, KEY_ID, KEY_SECRET, 10000, h);
	assert_int_equal(h->cc, CURLE_OK);
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("field %s is not a string", k);
	return json_string_value(v);
}

static int64_t jfix(json_t *o, const char *k)
{
	int64_t v;
	if (ig_fixed_parse_cstr(jstr(o, k), &v) != 0)
		fail_msg("field %s is not a decimal: %s", k, jstr(o, k));
	return v;
}

static void expect_error(struct http *h, long status, const char *code)
{
	if (h->status != status || h->json == NULL)
		fail_msg("expected %ld %s, got %ld: %s", status, code, h->status,
			 h->body != NULL ? h->body : "");
	assert_string_equal(jstr(h->json, "error_code"), code);
	assert_true(strlen(jstr(h->json, "error")) > 0);
}

static void expect_ok(struct http *h)
{
	if (h->status != 200 || h->json == NULL)
		fail_msg("expected 200 JSON, got %ld: %s", h->status, h->body != NULL ? h->body : "");
}

/* Posts a limit order; returns the order id (static buffer) or fails. */
static const char *place(struct fixture *f, const char *form)
{
	static char id[32];
	struct http h;
	post(f, "/api/1/postorder", form, &h);
	expect_ok(&h);
	snprintf(id, sizeof(id), "%s", jstr(h.json, "order_id"));
	http_free(&h);
	assert_int_equal(strlen(id), 15);
	assert_memory_equal(id, "BX", 2);
	return id;
}

static int64_t balance_of(struct fixture *f, const char *asset, int64_t *reserved)
{
	struct http h;
	int64_t v = -1;
	size_t i;
	json_t *e;

	get(f, "/api/1/balance", &h);
	expect_ok(&h);
	json_array_foreach(json_object_get(h.json, "balance"), i, e)
	{
		if (strcmp(jstr(e, "asset"), asset) == 0) {
			v = jfix(e, "balance");
			if (reserved != NULL)
				*reserved = jfix(e, "reserved");
		}
	}
	http_free(&h);
	assert_true(v >= 0);
	return v;
}

/* ---- tests ---- */

static void test_auth_required(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	struct ig_sim_stats st;

	cfg_test(&c);
	start(f, &c);
	request(f, "/api/1/balance", NULL, NULL, NULL, 10000, &h);
	expect_error(&h, 401, "ErrUnauthorised");
	http_free(&h);
	request(f, "/api/1/balance", NULL, KEY_ID, "wrong", 10000, &h);
	expect_error(&h, 401, "ErrUnauthorised");
	http_free(&h);
	request(f, "/api/1/postorder", "pair=XBTZAR&type=BID&volume=0.01&price=900000", "nobody",
		KEY_SECRET, 10000, &h);
	expect_error(&h, 401, "ErrUnauthorised");
	http_free(&h);
	request(f, "/api/exchange/3/order?client_order_id=x", NULL, NULL, NULL, 10000, &h);
	expect_error(&h, 401, "ErrUnauthorised");
	http_free(&h);
	/* Nothing was placed by the refused postorder. */
	get(f, "/api/1/listorders", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 0);
	http_free(&h);
	/* Public routes need no credentials. */
	request(f, "/api/1/ticker?pair=XBTZAR", NULL, NULL, NULL, 10000, &h);
	expect_ok(&h);
	http_free(&h);
	get(f, "/api/1/no_such_route", &h);
	expect_error(&h, 404, "ErrNotFound");
	http_free(&h);
	ig_sim_server_stats(f->srv, &st);
	assert_int_equal(st.unauthorised, 4);
	assert_int_equal(st.requests, 7);
}

static void test_public_shapes(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	json_t *a, *e;
	size_t i;
	int64_t prev = 0;

	cfg_test(&c);
	start(f, &c);

	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "pair"), "XBTZAR");
	assert_string_equal(jstr(h.json, "status"), "ACTIVE");
	assert_true(json_is_integer(json_object_get(h.json, "timestamp")));
	assert_true(jfix(h.json, "bid") > 0);
	assert_true(jfix(h.json, "bid") < jfix(h.json, "ask"));
	assert_true(jfix(h.json, "bid") < IG_FIXED(1000000));
	assert_true(jfix(h.json, "ask") > IG_FIXED(1000000));
	jfix(h.json, "last_trade");
	jfix(h.json, "rolling_24_hour_volume");
	http_free(&h);

	get(f, "/api/1/ticker?pair=ETHZAR", &h);
	expect_error(&h, 400, "ErrInvalidMarketPair");
	http_free(&h);
	get(f, "/api/1/ticker", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);

	get(f, "/api/1/tickers", &h);
	expect_ok(&h);
	a = json_object_get(h.json, "tickers");
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(json_array_get(a, 0), "pair"), "XBTZAR");
	http_free(&h);
	get(f, "/api/1/tickers?pair=ETHZAR", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "tickers")), 0);
	http_free(&h);

	get(f, "/api/1/orderbook_top?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(json_is_integer(json_object_get(h.json, "timestamp")));
	a = json_object_get(h.json, "bids");
	assert_true(json_array_size(a) >= 5);
	json_array_foreach(a, i, e)
	{
		int64_t px = jfix(e, "price");
		assert_true(jfix(e, "volume") > 0);
		if (i > 0)
			assert_true(px < prev); /* bids: best (highest) first */
		prev = px;
	}
	a = json_object_get(h.json, "asks");
	assert_true(json_array_size(a) >= 5);
	json_array_foreach(a, i, e)
	{
		int64_t px = jfix(e, "price");
		if (i > 0)
			assert_true(px > prev); /* asks: best (lowest) first */
		prev = px;
	}
	http_free(&h);
	get(f, "/api/1/orderbook?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(json_array_size(json_object_get(h.json, "asks")) >= 5);
	http_free(&h);

	get(f, "/api/1/trades?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(json_is_array(json_object_get(h.json, "trades")));
	http_free(&h);

	get(f, "/api/exchange/1/markets", &h);
	expect_ok(&h);
	a = json_object_get(h.json, "markets");
	assert_int_equal(json_array_size(a), 1);
	e = json_array_get(a, 0);
	assert_string_equal(jstr(e, "market_id"), "XBTZAR");
	assert_string_equal(jstr(e, "trading_status"), "ACTIVE");
	assert_string_equal(jstr(e, "base_currency"), "XBT");
	assert_string_equal(jstr(e, "counter_currency"), "ZAR");
	assert_int_equal(jfix(e, "min_volume"), 50000);
	assert_int_equal(json_integer_value(json_object_get(e, "price_scale")), 0);
	assert_int_equal(json_integer_value(json_object_get(e, "volume_scale")), 6);
	assert_true(jfix(e, "min_price") < jfix(e, "max_price"));
	http_free(&h);

	get(f, "/api/1/fee_info?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_int_equal(jfix(h.json, "maker_fee"), 0);
	assert_int_equal(jfix(h.json, "taker_fee"), 100000); /* 10 bps = 0.001 */
	jfix(h.json, "thirty_day_volume");
	http_free(&h);
}

static void test_postorder_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	char id[32], path[128];
	int64_t reserved;

	cfg_test(&c);
	start(f, &c);
	snprintf(id, sizeof(id), "%s",
		 place(f, "pair=XBTZAR&type=BID&volume=0.01&price=990000&client_order_id=abc-1.x_y"));

	get(f, "/api/exchange/3/order?client_order_id=abc-1.x_y", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "order_id"), id);
	assert_string_equal(jstr(h.json, "client_order_id"), "abc-1.x_y");
	assert_string_equal(jstr(h.json, "status"), "PENDING");
	assert_string_equal(jstr(h.json, "side"), "BUY");
	assert_string_equal(jstr(h.json, "type"), "LIMIT");
	assert_string_equal(jstr(h.json, "pair"), "XBTZAR");
	assert_string_equal(jstr(h.json, "time_in_force"), "GTC");
	assert_int_equal(jfix(h.json, "limit_price"), IG_FIXED(990000));
	assert_int_equal(jfix(h.json, "limit_volume"), IG_FIXED(1) / 100);
	assert_int_equal(jfix(h.json, "base"), 0);
	assert_int_equal(jfix(h.json, "counter"), 0);
	assert_int_equal(jfix(h.json, "fee_base"), 0);
	assert_int_equal(jfix(h.json, "fee_counter"), 0);
	assert_true(json_integer_value(json_object_get(h.json, "creation_timestamp")) > 0);
	assert_int_equal(json_integer_value(json_object_get(h.json, "completed_timestamp")), 0);
	http_free(&h);

	snprintf(path, sizeof(path), "/api/exchange/3/order?id=%s", id);
	get(f, path, &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "client_order_id"), "abc-1.x_y");
	http_free(&h);
	snprintf(path, sizeof(path), "/api/exchange/2/orders/%s", id);
	get(f, path, &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "status"), "PENDING");
	http_free(&h);
	snprintf(path, sizeof(path), "/api/1/orders/%s", id);
	get(f, path, &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "state"), "PENDING");
	assert_string_equal(jstr(h.json, "type"), "BID");
	http_free(&h);

	get(f, "/api/1/listorders?pair=XBTZAR&state=PENDING", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 1);
	http_free(&h);
	get(f, "/api/1/listorders?state=COMPLETE", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 0);
	http_free(&h);

	/* Reserved: 9900 notional + 9.9 taker fee (the larger of 0 and 10 bps). */
	assert_int_equal(balance_of(f, "ZAR", &reserved), IG_FIXED(1000000));
	assert_int_equal(reserved, IG_FIXED(9909) + IG_FIXED(9) / 10);
	assert_true(ig_sim_server_sanity(f->srv));

	get(f, "/api/exchange/3/order?client_order_id=nope", &h);
	expect_error(&h, 404, "ErrOrderNotFound");
	http_free(&h);
	get(f, "/api/exchange/3/order?id=BX0000000000001", &h);
	expect_error(&h, 404, "ErrOrderNotFound");
	http_free(&h);
	get(f, "/api/1/orders/garbage", &h);
	expect_error(&h, 404, "ErrOrderNotFound");
	http_free(&h);
	snprintf(path, sizeof(path), "/api/exchange/3/order?id=%s&client_order_id=abc-1.x_y", id);
	get(f, path, &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	get(f, "/api/exchange/3/order", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
}

static void test_duplicate_client_order_id(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct ig_sim_stats st;
	struct http h;

	cfg_test(&c);
	start(f, &c);
	place(f, "pair=XBTZAR&type=BID&volume=0.01&price=980000&client_order_id=dup1");
	post(f, "/api/1/postorder", "pair=XBTZAR&type=BID&volume=0.01&price=980000&client_order_id=dup1",
	     &h);
	expect_error(&h, 409, "ErrDuplicateClientOrderID");
	http_free(&h);
	/* Also across endpoints. */
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=BUY&counter_volume=100&client_order_id=dup1",
	     &h);
	expect_error(&h, 409, "ErrDuplicateClientOrderID");
	http_free(&h);
	get(f, "/api/1/listorders", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 1);
	http_free(&h);

	/* A refused order does not consume its client_order_id. */
	post(f, "/api/1/postorder", "pair=XBTZAR&type=BID&volume=50&price=980000&client_order_id=free1",
	     &h);
	expect_error(&h, 400, "ErrInsufficientBalance");
	http_free(&h);
	get(f, "/api/exchange/3/order?client_order_id=free1", &h);
	expect_error(&h, 404, "ErrOrderNotFound");
	http_free(&h);
	place(f, "pair=XBTZAR&type=BID&volume=0.01&price=980000&client_order_id=free1");
	get(f, "/api/exchange/3/order?client_order_id=free1", &h);
	expect_ok(&h);
	assert_int_equal(jfix(h.json, "limit_volume"), IG_FIXED(1) / 100);
	http_free(&h);

	ig_sim_server_stats(f->srv, &st);
	assert_int_equal(st.duplicates_refused, 2);
	assert_int_equal(st.user_orders, 2);
	assert_true(ig_sim_server_sanity(f->srv));
}

/* Six market orders that trade, the user always the taker. */
static void make_trades(struct fixture *f)
{
	struct http h;
	char form[128];

	for (int i = 0; i < 6; i++) {
		if (i % 2 == 0)
			snprintf(form, sizeof(form), "pair=XBTZAR&type=BUY&counter_volume=%d&client_order_id=m%d",
				 20000 + 1000 * i, i);
		else
			snprintf(form, sizeof(form), "pair=XBTZAR&type=SELL&base_volume=0.02%d&client_order_id=m%d",
				 i, i);
		post(f, "/api/1/marketorder", form, &h);
		expect_ok(&h);
		http_free(&h);
		ig_sim_server_flow_step(f->srv, 5); /* the market maker requotes */
	}
}

static void test_listtrades_paging(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h, all;
	json_t *e;
	size_t i, n;
	int64_t next = 0, last = 0;
	size_t seen = 0;
	char path[128];

	cfg_test(&c);
	start(f, &c);
	make_trades(f);
	get(f, "/api/1/listtrades?pair=XBTZAR&limit=1000", &all);
	expect_ok(&all);
	n = json_array_size(json_object_get(all.json, "trades"));
	assert_true(n >= 6);
	json_array_foreach(json_object_get(all.json, "trades"), i, e)
	{
		int64_t seq = json_integer_value(json_object_get(e, "sequence"));
		assert_true(seq > last);
		last = seq;
		assert_string_equal(jstr(e, "pair"), "XBTZAR");
		assert_true(strcmp(jstr(e, "type"), "BID") == 0 || strcmp(jstr(e, "type"), "ASK") == 0);
		assert_true(json_is_boolean(json_object_get(e, "is_buy")));
		/* the user was the taker of every one of these */
		assert_int_equal(json_is_true(json_object_get(e, "is_buy")),
				 strcmp(jstr(e, "type"), "BID") == 0);
		assert_int_equal(jfix(e, "base"), jfix(e, "volume"));
		/* Like Luno: a buyer pays its fee in base, a seller in counter. */
		if (json_is_true(json_object_get(e, "is_buy"))) {
			assert_true(jfix(e, "fee_base") > 0);
			assert_int_equal(jfix(e, "fee_counter"), 0);
		} else {
			assert_int_equal(jfix(e, "fee_base"), 0);
			assert_true(jfix(e, "fee_counter") > 0);
		}
		assert_true(json_is_integer(json_object_get(e, "timestamp")));
		assert_memory_equal(jstr(e, "order_id"), "BX", 2);
		assert_true(jstr(e, "client_order_id")[0] == 'm');
	}

	/* Page through two at a time: after_seq includes its own sequence. */
	for (int guard = 0; guard < 100; guard++) {
		size_t got;
		snprintf(path, sizeof(path), "/api/1/listtrades?pair=XBTZAR&limit=2&after_seq=%lld",
			 (long long)next);
		get(f, path, &h);
		expect_ok(&h);
		got = json_array_size(json_object_get(h.json, "trades"));
		assert_true(got <= 2);
		if (got == 0) {
			http_free(&h);
			break;
		}
		json_array_foreach(json_object_get(h.json, "trades"), i, e)
		{
			json_t *want = json_array_get(json_object_get(all.json, "trades"), seen);
			assert_true(json_equal(e, want));
			seen++;
			next = json_integer_value(json_object_get(e, "sequence")) + 1;
		}
		http_free(&h);
	}
	assert_int_equal(seen, n);

	/* Inclusive: after_seq = the last trade's sequence returns it. */
	snprintf(path, sizeof(path), "/api/1/listtrades?pair=XBTZAR&after_seq=%lld", (long long)last);
	get(f, path, &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "trades")), 1);
	http_free(&h);
	get(f, "/api/1/listtrades?pair=XBTZAR&sort_desc=true&limit=1", &h);
	expect_ok(&h);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(h.json, "trades"), 0),
							    "sequence")),
			 last);
	http_free(&h);
	get(f, "/api/1/listtrades?pair=XBTZAR&since=99999999999999", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "trades")), 0);
	http_free(&h);
	http_free(&all);

	get(f, "/api/1/listtrades", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	get(f, "/api/1/listtrades?pair=XBTZAR&limit=0", &h);
	expect_error(&h, 400, "ErrLimitOutOfRange");
	http_free(&h);
	get(f, "/api/1/listtrades?pair=XBTZAR&after_seq=-1", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	assert_true(ig_sim_server_sanity(f->srv));
}

static void balances_follow_trades(struct fixture *f, bool fee_in_counter)
{
	struct ig_sim_cfg c;
	struct http h;
	json_t *e;
	size_t i;
	int64_t xbt = IG_FIXED(1), zar = IG_FIXED(1000000), r;

	cfg_test(&c);
	c.fee_in_counter = fee_in_counter;
	start(f, &c);
	make_trades(f);
	get(f, "/api/1/listtrades?pair=XBTZAR&limit=1000", &h);
	expect_ok(&h);
	json_array_foreach(json_object_get(h.json, "trades"), i, e)
	{
		int64_t q = jfix(e, "volume"), cn = jfix(e, "counter"), fee = jfix(e, "fee_counter");
		int64_t fee_b = jfix(e, "fee_base");
		/* Fee: 10 bps of what the user receives (a buyer: base; a seller:
		 * counter), rounded to 1e-8; nothing in the other asset. */
		if (strcmp(jstr(e, "type"), "BID") == 0 && fee_in_counter) {
			/* --fee-in-counter: the buyer pays 10 bps of the counter. */
			assert_int_equal(fee, (int64_t)(((ig_i128)cn * 10 + 5000) / 10000));
			assert_int_equal(fee_b, 0);
			xbt += q;
			zar -= cn + fee;
		} else if (strcmp(jstr(e, "type"), "BID") == 0) {
			assert_int_equal(fee_b, (int64_t)(((ig_i128)q * 10 + 5000) / 10000));
			assert_int_equal(fee, 0);
			xbt += q - fee_b;
			zar -= cn;
		} else {
			assert_int_equal(fee, (int64_t)(((ig_i128)cn * 10 + 5000) / 10000));
			assert_int_equal(fee_b, 0);
			xbt -= q;
			zar += cn - fee;
		}
	}
	http_free(&h);
	assert_int_equal(balance_of(f, "XBT", &r), xbt);
	assert_int_equal(r, 0);
	assert_int_equal(balance_of(f, "ZAR", &r), zar);
	assert_int_equal(r, 0);

	get(f, "/api/1/balance?assets=XBT", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "balance")), 1);
	e = json_array_get(json_object_get(h.json, "balance"), 0);
	assert_string_equal(jstr(e, "asset"), "XBT");
	jstr(e, "account_id");
	jstr(e, "name");
	assert_int_equal(jfix(e, "unconfirmed"), 0);
	http_free(&h);
	assert_true(ig_sim_server_sanity(f->srv));
}

static void test_balances_follow_trades(void **state)
{
	balances_follow_trades(*state, false);
}

static void test_balances_fee_in_counter(void **state)
{
	balances_follow_trades(*state, true);
}

static void test_market_orders(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;

	cfg_test(&c);
	start(f, &c);
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=BUY&counter_volume=5000&client_order_id=mb", &h);
	expect_ok(&h);
	http_free(&h);
	get(f, "/api/exchange/3/order?client_order_id=mb", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "type"), "MARKET");
	assert_string_equal(jstr(h.json, "side"), "BUY");
	assert_string_equal(jstr(h.json, "status"), "COMPLETE");
	assert_true(jfix(h.json, "base") > 0);
	assert_true(jfix(h.json, "counter") + jfix(h.json, "fee_counter") <= IG_FIXED(5000));
	/* and no more than one lot's worth below it */
	assert_true(jfix(h.json, "counter") + jfix(h.json, "fee_counter") > IG_FIXED(4990));
	assert_true(json_integer_value(json_object_get(h.json, "completed_timestamp")) > 0);
	http_free(&h);
	get(f, "/api/1/listorders", &h);
	expect_ok(&h);
	assert_string_equal(jstr(json_array_get(json_object_get(h.json, "orders"), 0), "type"), "BUY");
	http_free(&h);

	post(f, "/api/1/marketorder", "pair=XBTZAR&type=SELL&base_volume=0.01&client_order_id=ms", &h);
	expect_ok(&h);
	http_free(&h);
	get(f, "/api/exchange/3/order?client_order_id=ms", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "side"), "SELL");
	assert_int_equal(jfix(h.json, "base"), IG_FIXED(1) / 100);
	http_free(&h);

	post(f, "/api/1/marketorder", "pair=XBTZAR&type=BUY", &h);
	expect_error(&h, 400, "ErrInvalidCounterVolume");
	http_free(&h);
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=SELL&base_volume=abc", &h);
	expect_error(&h, 400, "ErrInvalidBaseVolume");
	http_free(&h);
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=SELL&base_volume=2", &h);
	expect_error(&h, 400, "ErrInsufficientBalance");
	http_free(&h);
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=BID&base_volume=0.01", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	assert_true(ig_sim_server_sanity(f->srv));
}

static void test_stoporder(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	char form[128], path[128];
	int64_t reserved;

	cfg_test(&c);
	start(f, &c);
	snprintf(form, sizeof(form), "order_id=%s",
		 place(f, "pair=XBTZAR&type=ASK&volume=0.5&price=1100000&client_order_id=s1"));
	balance_of(f, "XBT", &reserved);
	assert_int_equal(reserved, IG_FIXED(1) / 2);
	post(f, "/api/1/stoporder", form, &h);
	expect_ok(&h);
	assert_true(json_is_true(json_object_get(h.json, "success")));
	http_free(&h);
	balance_of(f, "XBT", &reserved);
	assert_int_equal(reserved, 0);
	get(f, "/api/exchange/3/order?client_order_id=s1", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "status"), "COMPLETE");
	assert_int_equal(jfix(h.json, "base"), 0);
	assert_true(json_integer_value(json_object_get(h.json, "completed_timestamp")) > 0);
	http_free(&h);
	/* Already complete: no longer stoppable (Luno's answer). */
	post(f, "/api/1/stoporder", form, &h);
	expect_error(&h, 400, "ErrCannotStopUnknownOrNonPendingOrder");
	http_free(&h);
	post(f, "/api/1/stoporder", "order_id=BX0000000000042", &h);
	expect_error(&h, 404, "ErrOrderNotFound");
	http_free(&h);
	post(f, "/api/1/stoporder", "nothing=1", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	/* Query-string parameters work for POST too, as Luno accepts them. */
	snprintf(path, sizeof(path), "/api/1/postorder?pair=XBTZAR&type=BID&volume=0.001&price=900000");
	post(f, path, "", &h);
	expect_ok(&h);
	http_free(&h);
	assert_true(ig_sim_server_sanity(f->srv));
}

static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct ig_sim_stats st;
	struct http h;

	cfg_test(&c);
	c.rate_limit = 5;
	start(f, &c);
	for (int i = 0; i < 5; i++) {
		/* public and private calls share the one budget */
		get(f, i % 2 ? "/api/1/ticker?pair=XBTZAR" : "/api/1/balance", &h);
		expect_ok(&h);
		http_free(&h);
	}
	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_error(&h, 429, "ErrTooManyRequests");
	assert_true(atoi(h.retry_after) >= 1 && atoi(h.retry_after) <= 60);
	http_free(&h);
	post(f, "/api/1/postorder", "pair=XBTZAR&type=BID&volume=0.01&price=900000&client_order_id=rl",
	     &h);
	expect_error(&h, 429, "ErrTooManyRequests");
	http_free(&h);
	ig_sim_server_stats(f->srv, &st);
	assert_int_equal(st.rate_limited, 2);
	assert_int_equal(st.user_orders, 0); /* a 429 is not processed */
}

static void test_malformed_params(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	const struct {
		const char *form;
		long status;
		const char *code;
	} cases[] = {
		{ "pair=XBTZAR&type=BID&volume=0.01&price=abc", 400, "ErrInvalidPrice" },
		{ "pair=XBTZAR&type=BID&volume=0.01", 400, "ErrInvalidPrice" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=1e6", 400, "ErrInvalidPrice" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=-5", 400, "ErrInvalidPrice" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999.5", 400, "ErrPriceDenominationNotAllowed" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999.123456789", 400,
		  "ErrPriceDenominationNotAllowed" },
		{ "pair=XBTZAR&type=BID&volume=0.0000001&price=999999", 400,
		  "ErrVolumeDenominationNotAllowed" },
		{ "pair=XBTZAR&type=BID&volume=0.0001&price=999999", 400, "ErrVolumeTooLow" },
		{ "pair=XBTZAR&type=BID&volume=101&price=999999", 400, "ErrVolumeTooHigh" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=99999999999999999", 400, "ErrPriceTooHigh" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=1000", 400, "ErrPriceTooLow" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=20000000", 400, "ErrPriceTooHigh" },
		{ "pair=XBTZAR&type=BID&volume=x&price=999999", 400, "ErrInvalidVolume" },
		{ "pair=XBTZAR&type=BID&volume=5&price=999999", 400, "ErrInsufficientBalance" },
		{ "pair=XBTZAR&type=ASK&volume=2&price=1100000", 400, "ErrInsufficientBalance" },
		{ "pair=XBTZAR&type=BUY&volume=0.01&price=999999", 400, "ErrInvalidArguments" },
		{ "pair=XBTZAR&volume=0.01&price=999999", 400, "ErrInvalidArguments" },
		{ "pair=XBTUSD&type=BID&volume=0.01&price=999999", 400, "ErrInvalidMarketPair" },
		{ "type=BID&volume=0.01&price=999999", 400, "ErrInvalidArguments" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999&time_in_force=DAY", 400,
		  "ErrInvalidArguments" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999&post_only=maybe", 400,
		  "ErrInvalidArguments" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999&post_only=true&time_in_force=IOC", 400,
		  "ErrPostOnlyNotAllowed" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=1100000&post_only=true", 400,
		  "ErrOrderCanceled" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999&client_order_id=bad%20id", 400,
		  "ErrInvalidClientOrderId" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=999999&stop_price=5", 400,
		  "ErrInvalidArguments" },
		{ "pair=XBTZAR&type=BID&volume=0.01&price=%zz", 400, "ErrInvalidArguments" },
	};

	cfg_test(&c);
	start(f, &c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		post(f, "/api/1/postorder", cases[i].form, &h);
		if (h.status != cases[i].status || h.json == NULL ||
		    strcmp(jstr(h.json, "error_code"), cases[i].code) != 0)
			fail_msg("%s: expected %ld %s, got %ld %s", cases[i].form, cases[i].status,
				 cases[i].code, h.status, h.body != NULL ? h.body : "");
		http_free(&h);
	}
	get(f, "/api/1/listorders?state=OPEN", &h);
	expect_error(&h, 400, "ErrInvalidArguments");
	http_free(&h);
	get(f, "/api/1/listorders?limit=5000", &h);
	expect_error(&h, 400, "ErrLimitOutOfRange");
	http_free(&h);
	get(f, "/api/1/listorders", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 0); /* none got in */
	http_free(&h);
	assert_true(ig_sim_server_sanity(f->srv));
}

/* Returns the client ids in a state file (or in a fresh dump). */
static json_t *state_orders(struct fixture *f)
{
	json_t *j;
	json_t *orders;
	assert_int_equal(ig_sim_server_write_state(f->srv, f->state_path), 0);
	j = json_load_file(f->state_path, 0, NULL);
	assert_non_null(j);
	orders = json_incref(json_object_get(j, "orders"));
	json_decref(j);
	return orders;
}

static bool has_client_id(json_t *orders, const char *cid)
{
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(orders, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "client_order_id")), cid) == 0)
			n++;
	}
	assert_true(n <= 1);
	return n == 1;
}

static void test_fail_rate(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct ig_sim_stats st;
	struct http h;
	json_t *orders;
	bool ok[40], fault[40];
	int n500 = 0, n503 = 0, present_faulted = 0;

	cfg_test(&c);
	c.fail_rate = 0.5;
	c.seed = 11;
	start(f, &c);
	for (int i = 0; i < 40; i++) {
		char form[128];
		snprintf(form, sizeof(form),
			 "pair=XBTZAR&type=BID&volume=0.001&price=%d&client_order_id=f%d", 900000 + i, i);
		post(f, "/api/1/postorder", form, &h);
		ok[i] = h.status == 200;
		fault[i] = h.status == 500 || h.status == 503;
		assert_true(ok[i] || fault[i]);
		if (h.status == 500) {
			expect_error(&h, 500, "ErrInternal");
			n500++;
		} else if (h.status == 503) {
			assert_null(h.json); /* an HTML page, as a proxy sends */
			assert_non_null(strstr(h.body, "503 Service"));
			n503++;
		}
		http_free(&h);
	}
	assert_true(n500 > 0 && n503 > 0);
	orders = state_orders(f);
	for (int i = 0; i < 40; i++) {
		char cid[16];
		snprintf(cid, sizeof(cid), "f%d", i);
		if (ok[i])
			assert_true(has_client_id(orders, cid));
		else if (has_client_id(orders, cid))
			present_faulted++;
	}
	json_decref(orders);
	ig_sim_server_stats(f->srv, &st);
	assert_int_equal(st.faults_injected, (uint64_t)(n500 + n503));
	/* The order exists exactly when the fault came after processing. */
	assert_int_equal(st.faults_after, (uint64_t)present_faulted);
	assert_true(present_faulted > 0 && present_faulted < n500 + n503);
	assert_true(ig_sim_server_sanity(f->srv));
}

static void test_timeout_after_accept(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct ig_sim_stats st;
	struct http h;
	double t0;

	cfg_test(&c);
	c.timeout_after_accept = 1.0;
	c.accept_delay_ms = 20000;
	start(f, &c);
	request(f, "/api/1/postorder",
		"pair=XBTZAR&type=BID&volume=0.01&price=950000&client_order_id=held1", KEY_ID,
		KEY_SECRET, 300, &h);
	assert_int_equal(h.cc, CURLE_OPERATION_TIMEDOUT);
	http_free(&h);
	/* The held answer blocks only its own connection. */
	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(h.secs < 2.0);
	http_free(&h);
	/* The order was accepted: a lookup by client_order_id resolves it. */
	get(f, "/api/exchange/3/order?client_order_id=held1", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "status"), "PENDING");
	http_free(&h);
	/* Only order entry is held. */
	get(f, "/api/1/balance", &h);
	expect_ok(&h);
	http_free(&h);
	ig_sim_server_stats(f->srv, &st);
	assert_int_equal(st.held_replies, 1);
	assert_int_equal(st.user_orders, 1);
	/* Stop releases the held answer at once. */
	t0 = now_s();
	assert_int_equal(ig_sim_server_stop(f->srv), 0);
	f->srv = NULL;
	assert_true(now_s() - t0 < 5.0);
}

static void test_latency(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;

	cfg_test(&c);
	c.latency_ms = 150;
	start(f, &c);
	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(h.secs >= 0.14);
	http_free(&h);
}

static void test_flow_fills_resting_order(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	int64_t bid, ask, base = 0;
	char form[160];
	bool complete = false;

	cfg_test(&c);
	start(f, &c);
	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_ok(&h);
	bid = jfix(h.json, "bid");
	ask = jfix(h.json, "ask");
	http_free(&h);
	/* Inside the spread: first in line when sellers arrive. */
	snprintf(form, sizeof(form),
		 "pair=XBTZAR&type=BID&volume=0.08&price=%lld&client_order_id=flow1&post_only=true",
		 (long long)((bid + ask) / 2 / IG_FIXED_SCALE));
	place(f, form);
	for (int i = 0; i < 400 && !complete; i++) {
		ig_sim_server_flow_step(f->srv, 10);
		assert_true(ig_sim_server_sanity(f->srv));
		get(f, "/api/exchange/3/order?client_order_id=flow1", &h);
		expect_ok(&h);
		assert_true(jfix(h.json, "base") >= base); /* fills only accumulate */
		base = jfix(h.json, "base");
		complete = strcmp(jstr(h.json, "status"), "COMPLETE") == 0;
		http_free(&h);
	}
	assert_true(complete);
	assert_int_equal(base, IG_FIXED(8) / 100);
	get(f, "/api/1/listtrades?pair=XBTZAR", &h);
	expect_ok(&h);
	/* Filled in pieces, as maker, at its own price, with the maker fee (0). */
	assert_true(json_array_size(json_object_get(h.json, "trades")) >= 2);
	{
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(h.json, "trades"), i, e)
		{
			assert_true(json_is_true(json_object_get(e, "maker")));
			assert_int_equal(jfix(e, "price"), (bid + ask) / 2 / IG_FIXED_SCALE * IG_FIXED_SCALE);
			assert_int_equal(jfix(e, "fee_counter"), 0);
		}
	}
	http_free(&h);
}

/* The whole book after ticks of the flow, without its timestamp; NULL on
 * any failure. The server is stopped whatever happens. */
static char *book_after(uint64_t seed, uint32_t ticks)
{
	struct fixture f;
	struct ig_sim_cfg c;
	struct http h;
	char err[IG_SIM_ERR_MAX];
	char *s = NULL;

	memset(&f, 0, sizeof(f));
	cfg_test(&c);
	c.seed = seed;
	if (ig_sim_server_start(&c, &f.srv, &f.port, err, sizeof(err)) != 0)
		return NULL;
	snprintf(f.base, sizeof(f.base), "http://127.0.0.1:%u", (unsigned)f.port);
	ig_sim_server_flow_step(f.srv, ticks);
	request(&f, "/api/1/orderbook?pair=XBTZAR", NULL, NULL, NULL, 10000, &h);
	if (h.status == 200 && h.json != NULL && ig_sim_server_sanity(f.srv)) {
		json_object_del(h.json, "timestamp");
		s = json_dumps(h.json, JSON_SORT_KEYS | JSON_COMPACT);
	}
	http_free(&h);
	ig_sim_server_stop(f.srv);
	return s;
}

static void test_flow_deterministic(void **state)
{
	char *a = book_after(42, 300), *b = book_after(42, 300), *d = book_after(43, 300);
	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(d);
	assert_string_equal(a, b);
	assert_string_not_equal(a, d);
	free(a);
	free(b);
	free(d);
}

static void test_flow_thread_races_requests(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	double t_end;
	int i = 0;

	cfg_test(&c);
	c.flow_ms = 1;
	start(f, &c);
	t_end = now_s() + 0.6;
	while (now_s() < t_end) {
		char form[160];
		snprintf(form, sizeof(form), "pair=XBTZAR&type=%s&volume=0.002&price=%d&client_order_id=r%d",
			 i % 2 ? "ASK" : "BID", i % 2 ? 999000 + i % 7 * 500 : 1001000 - i % 7 * 500, i);
		post(f, "/api/1/postorder", form, &h);
		assert_true(h.status == 200 || h.status == 400);
		if (h.status == 200 && i % 3 == 0) {
			char stop[64];
			snprintf(stop, sizeof(stop), "order_id=%s", jstr(h.json, "order_id"));
			http_free(&h);
			post(f, "/api/1/stoporder", stop, &h);
			/* The flow may have filled it first. */
			if (h.status != 200)
				expect_error(&h, 400, "ErrCannotStopUnknownOrNonPendingOrder");
		}
		http_free(&h);
		i++;
	}
	assert_true(ig_sim_server_sanity(f->srv));
	get(f, "/api/1/ticker?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_true(jfix(h.json, "rolling_24_hour_volume") > 0);
	http_free(&h);
}

static void test_state_file(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	json_t *j, *o, *e;
	int64_t xbt, zar;
	size_t ntrades, i;

	cfg_test(&c);
	c.state_path = f->state_path;
	c.nbalances = 2;
	snprintf(c.balances[0].asset, sizeof(c.balances[0].asset), "XBT");
	c.balances[0].amount = IG_FIXED(2);
	snprintf(c.balances[1].asset, sizeof(c.balances[1].asset), "ZAR");
	c.balances[1].amount = IG_FIXED(50000) + 12345678; /* 50000.12345678 */
	start(f, &c);
	place(f, "pair=XBTZAR&type=BID&volume=0.01&price=970000&client_order_id=st1");
	post(f, "/api/1/marketorder", "pair=XBTZAR&type=SELL&base_volume=0.005&client_order_id=st2",
	     &h);
	expect_ok(&h);
	http_free(&h);
	post(f, "/api/1/postorder", "pair=XBTZAR&type=BID&volume=0.01&price=970000&client_order_id=st1",
	     &h);
	expect_error(&h, 409, "ErrDuplicateClientOrderID");
	http_free(&h);
	xbt = balance_of(f, "XBT", NULL);
	zar = balance_of(f, "ZAR", NULL);
	get(f, "/api/1/listtrades?pair=XBTZAR", &h);
	expect_ok(&h);
	ntrades = json_array_size(json_object_get(h.json, "trades"));
	http_free(&h);

	assert_int_equal(ig_sim_server_stop(f->srv), 0);
	f->srv = NULL;
	j = json_load_file(f->state_path, 0, NULL);
	assert_non_null(j);
	o = json_object_get(j, "initial_balances");
	assert_string_equal(jstr(o, "XBT"), "2");
	assert_string_equal(jstr(o, "ZAR"), "50000.12345678");
	o = json_object_get(j, "balances");
	assert_int_equal(jfix(o, "XBT"), xbt);
	assert_int_equal(jfix(o, "ZAR"), zar);
	assert_int_equal(xbt, IG_FIXED(2) - IG_FIXED(5) / 1000);
	o = json_object_get(j, "reserved");
	assert_int_equal(jfix(o, "ZAR"), IG_FIXED(9709) + IG_FIXED(7) / 10); /* 9700 + 9.7 */
	o = json_object_get(j, "orders");
	assert_int_equal(json_array_size(o), 2);
	e = json_array_get(o, 0);
	assert_string_equal(jstr(e, "client_order_id"), "st1");
	assert_string_equal(jstr(e, "state"), "PENDING");
	assert_string_equal(jstr(e, "type"), "LIMIT");
	assert_string_equal(jstr(e, "side"), "BUY");
	assert_memory_equal(jstr(e, "order_id"), "BX", 2);
	jfix(e, "limit_price");
	jfix(e, "fee_counter");
	e = json_array_get(o, 1);
	assert_string_equal(jstr(e, "client_order_id"), "st2");
	assert_string_equal(jstr(e, "state"), "COMPLETE");
	assert_string_equal(jstr(e, "type"), "MARKET");
	assert_string_equal(jstr(e, "side"), "SELL");
	assert_int_equal(jfix(e, "base"), IG_FIXED(5) / 1000);
	assert_true(json_is_boolean(json_object_get(e, "cancelled")));
	assert_int_equal(json_array_size(json_object_get(j, "trades")), ntrades);
	json_array_foreach(json_object_get(j, "trades"), i, e)
	{
		assert_string_equal(jstr(e, "client_order_id"), "st2");
		assert_true(json_is_integer(json_object_get(e, "sequence")));
	}
	o = json_object_get(j, "stats");
	assert_int_equal(json_integer_value(json_object_get(o, "duplicates_refused")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "requests")), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "faults_injected")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "rate_limited")), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "user_orders")), 2);
	json_decref(j);
}

static void test_start_refusals(void **state)
{
	struct ig_sim_cfg c;
	struct ig_sim_server *srv = NULL;
	uint16_t port = 0;
	char err[IG_SIM_ERR_MAX];
	(void)state;

	cfg_test(&c);
	c.key_secret = NULL;
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	assert_null(srv);
	cfg_test(&c);
	c.host = "0.0.0.0";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "loopback"));
	cfg_test(&c);
	c.host = "not-an-address";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	cfg_test(&c);
	c.fail_rate = 1.5;
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	cfg_test(&c);
	c.pair = "xbtzar";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	cfg_test(&c);
	c.min_volume = 1; /* below the volume scale */
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	cfg_test(&c);
	c.start_price = IG_FIXED(1000000) + 1; /* off the price scale */
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	assert_null(srv);
	assert_int_equal(ig_sim_server_stop(NULL), 0);
}

/* Several pairs (issue 15): one book, flow and set of answers per pair,
 * one ledger; orders and trades name their own pair, the lists filter by
 * it; a pair not configured is refused; sanity holds across the books. */
static void test_two_pairs(void **state)
{
	struct fixture *f = *state;
	struct ig_sim_cfg c;
	struct http h;
	char form[256], path[128];
	const char *eth_id;
	size_t i;
	json_t *e;
	int n = 0;

	cfg_test(&c);
	c.pair = "XBTZAR,ETHZAR";
	start(f, &c);
	get(f, "/api/exchange/1/markets", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "markets")), 2);
	assert_string_equal(jstr(json_array_get(json_object_get(h.json, "markets"), 1), "market_id"), "ETHZAR");
	http_free(&h);
	get(f, "/api/1/tickers", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "tickers")), 2);
	http_free(&h);
	get(f, "/api/1/ticker?pair=ETHZAR", &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "pair"), "ETHZAR");
	assert_true(jfix(h.json, "bid") > 0 && jfix(h.json, "ask") > jfix(h.json, "bid"));
	http_free(&h);
	get(f, "/api/1/ticker?pair=LTCZAR", &h);
	expect_error(&h, 400, "ErrInvalidMarketPair");
	http_free(&h);
	/* Each pair's default money: 1 base each, start_price counter each. */
	assert_int_equal(balance_of(f, "ETH", NULL), IG_FIXED(1));
	assert_int_equal(balance_of(f, "XBT", NULL), IG_FIXED(1));
	/* A resting ETHZAR bid, then the taker sells into it on ETHZAR. */
	snprintf(form, sizeof(form), "pair=ETHZAR&type=BID&price=%s&volume=0.01", "999000");
	eth_id = place(f, form);
	snprintf(path, sizeof(path), "/api/exchange/2/orders/%s", eth_id);
	get(f, path, &h);
	expect_ok(&h);
	assert_string_equal(jstr(h.json, "pair"), "ETHZAR");
	http_free(&h);
	place(f, "pair=XBTZAR&type=ASK&price=1001000&volume=0.01");
	post(f, "/sim/take", "pair=ETHZAR&side=SELL&volume=5", &h);
	expect_ok(&h);
	http_free(&h);
	get(f, "/api/1/listtrades?pair=ETHZAR", &h);
	expect_ok(&h);
	json_array_foreach(json_object_get(h.json, "trades"), i, e)
	{
		assert_string_equal(jstr(e, "pair"), "ETHZAR");
		n++;
	}
	assert_true(n > 0);
	http_free(&h);
	get(f, "/api/1/listtrades?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "trades")), 0);
	http_free(&h);
	get(f, "/api/1/listorders?pair=XBTZAR", &h);
	expect_ok(&h);
	assert_int_equal(json_array_size(json_object_get(h.json, "orders")), 1);
	http_free(&h);
	assert_true(balance_of(f, "ETH", NULL) > IG_FIXED(1));
	ig_sim_server_flow_step(f->srv, 200);
	assert_true(ig_sim_server_sanity(f->srv));
}

/* A pair twice, or too many pairs, is refused at start. */
static void test_pairs_refused(void **state)
{
	struct ig_sim_cfg c;
	struct ig_sim_server *srv = NULL;
	char err[IG_SIM_ERR_MAX];
	uint16_t port;
	(void)state;

	cfg_test(&c);
	c.pair = "XBTZAR,XBTZAR";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "twice"));
	c.pair = "XBTZAR,ETHZAR,LTCZAR,XRPZAR,BCHZAR";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	c.pair = "XBTZAR,";
	assert_int_equal(ig_sim_server_start(&c, &srv, &port, err, sizeof(err)), IG_ECONFIG);
	assert_null(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_auth_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_pairs, setup, teardown),
		cmocka_unit_test(test_pairs_refused),
		cmocka_unit_test_setup_teardown(test_public_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_postorder_and_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_client_order_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listtrades_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_balances_follow_trades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_balances_fee_in_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_market_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stoporder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_after_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_fills_resting_order, setup, teardown),
		cmocka_unit_test(test_flow_deterministic),
		cmocka_unit_test_setup_teardown(test_flow_thread_races_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file, setup, teardown),
		cmocka_unit_test(test_start_refusals),
	};
	int rc;

	/* Before any other thread starts (style.md). */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
