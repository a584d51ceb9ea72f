/*
 * test_sim_stream.c - exchange-sim's websocket streams (Luno's Streaming
 * API on the REST port) and --request-log, against a real exchange-sim
 * process on 127.0.0.1 (the ingenium binary; the teardown always stops it).
 * The websocket client is a minimal raw-socket one written here (masked
 * text frames out, unmasked frames in); REST goes through libcurl.
 *
 * Covers:
 *   - wrong credentials: the market and user streams close with 1008;
 *   - the market stream: a snapshot, then updates replayed into a naive
 *     order-by-order book equal /api/1/orderbook at the end, with strictly
 *     consecutive sequences (no faults);
 *   - --ws-gap-every N: exactly every N-th market message skips a number;
 *   - --ws-drop-every-s: the server closes the stream (1001);
 *   - the user stream: order_status PENDING / COMPLETE and order_fill for a
 *     placed-and-filled order, matching REST listtrades, and balance_update;
 *   - --request-log: one JSON line per HTTP request.
 * Changes are driven over REST with the background flow off (--flow-ms 0),
 * so the book is quiet when it is compared. No wall-clock assertions: the
 * timeouts below only bound waiting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../integration/itest.h"
#include "ingenium/fixed.h"

static int sim_port;
static char sim_out[400];

/* ---- exchange-sim ---- */

static void start_sim(const char *const *extra)
{
	const char *argv[40];
	int n = 0;

	argv[n++] = it_bin;
	argv[n++] = "exchange-sim";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--flow-ms";
	argv[n++] = "0";
	argv[n++] = "--rate-limit";
	argv[n++] = "0";
	argv[n++] = "--quiet";
	for (int i = 0; extra != NULL && extra[i] != NULL; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	static int runs;
	/* A new file per start: the previous one still names the old port. */
	snprintf(sim_out, sizeof(sim_out), "%s/sim%d.out", it_tmpdir, ++runs);
	it_sim_pid = it_spawn(argv, sim_out, false);
	sim_port = it_sim_port(sim_out);
	assert_true(sim_port > 0);
}

/* ---- REST ---- */

struct buf {
	char *p;
	size_t n;
};

static size_t on_data(char *d, size_t sz, size_t nm, void *arg)
{
	struct buf *b = arg;
	char *p = realloc(b->p, b->n + sz * nm + 1);
	if (p == NULL)
		return 0;
	memcpy(p + b->n, d, sz * nm);
	b->n += sz * nm;
	p[b->n] = '\0';
	b->p = p;
	return sz * nm;
}

/* GET (form NULL) or POST path; returns the JSON answer (caller decrefs),
 * failing the test unless the status is 200. */
static json_t *rest(const char *path, const char *form)
{
	CURL *c = curl_easy_init();
	struct buf b = { NULL, 0 };
	char url[512];
	long status = 0;
	json_t *j;

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", sim_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c, CURLOPT_USERNAME, it_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, it_secret);
	if (form != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (status != 200)
		fprintf(stderr, "%s %s -> %ld %s\n", path, form != NULL ? form : "", status,
			b.p != NULL ? b.p : "");
	assert_int_equal(status, 200);
	j = json_loads(b.p != NULL ? b.p : "", 0, NULL);
	free(b.p);
	assert_non_null(j);
	return j;
}

static int64_t money(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	int64_t v = 0;

	if (s == NULL || ig_fixed_parse_cstr(s, &v) != 0)
		fail_msg("%s: not a decimal string", k);
	return v;
}

/* ---- a minimal websocket client ---- */

struct ws {
	int fd;
	uint8_t in[1 << 20];
	size_t n;
};

static struct ws *ws_open(const char *path)
{
	struct ws *w = calloc(1, sizeof(*w));
	struct sockaddr_in sa;
	char req[512];
	char *end;

	assert_non_null(w);
	w->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(w->fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)sim_port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n",
		 path, sim_port);
	assert_int_equal(send(w->fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	/* The answer's headers. */
	for (;;) {
		struct pollfd p = { w->fd, POLLIN, 0 };
		ssize_t r;
		assert_true(poll(&p, 1, 5000) == 1);
		r = recv(w->fd, w->in + w->n, sizeof(w->in) - w->n - 1, 0);
		assert_true(r > 0);
		w->n += (size_t)r;
		w->in[w->n] = 0;
		if ((end = strstr((char *)w->in, "\r\n\r\n")) != NULL)
			break;
	}
	assert_true(strncmp((char *)w->in, "HTTP/1.1 101", 12) == 0);
	/* RFC 6455's own example key and answer. */
	assert_non_null(strstr((char *)w->in, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	end += 4;
	w->n -= (size_t)(end - (char *)w->in);
	memmove(w->in, end, w->n);
	return w;
}

static void ws_send(struct ws *w, int op, const char *text)
{
	size_t n = strlen(text), h = 2;
	uint8_t f[1024];
	const uint8_t mask[4] = { 0x12, 0x34, 0x56, 0x78 };

	assert_true(n < 1000);
	f[0] = (uint8_t)(0x80 | op);
	if (n < 126) {
		f[1] = (uint8_t)(0x80 | n);
	} else {
		f[1] = 0x80 | 126;
		f[2] = (uint8_t)(n >> 8);
		f[3] = (uint8_t)n;
		h = 4;
	}
	memcpy(f + h, mask, 4);
	for (size_t i = 0; i < n; i++)
		f[h + 4 + i] = (uint8_t)(text[i] ^ mask[i & 3]);
	assert_int_equal(send(w->fd, f, h + 4 + n, MSG_NOSIGNAL), (ssize_t)(h + 4 + n));
}

static void ws_auth(struct ws *w, const char *id, const char *secret)
{
	char m[256];
	snprintf(m, sizeof(m), "{\"api_key_id\": \"%s\", \"api_key_secret\": \"%s\"}", id, secret);
	ws_send(w, 1, m);
}

/* The next frame within timeout_ms: its opcode (or -1 on timeout, -2 on
 * EOF), payload malloc'd and NUL-terminated in *out. */
static int ws_next(struct ws *w, int timeout_ms, char **out, size_t *len)
{
	*out = NULL;
	for (;;) {
		if (w->n >= 2) {
			size_t h = 2;
			uint64_t pl = w->in[1] & 0x7f;
			assert_true((w->in[1] & 0x80) == 0); /* the server never masks */
			if (pl == 126 && w->n >= 4) {
				pl = (uint64_t)w->in[2] << 8 | w->in[3];
				h = 4;
			} else if (pl == 127 && w->n >= 10) {
				pl = 0;
				for (int i = 0; i < 8; i++)
					pl = pl << 8 | w->in[2 + i];
				h = 10;
			} else if (pl >= 126) {
				h = 0;
			}
			if (h > 0 && w->n >= h + pl) {
				int op = w->in[0] & 0x0f;
				assert_true((w->in[0] & 0x80) != 0); /* never fragmented */
				*out = malloc((size_t)pl + 1);
				memcpy(*out, w->in + h, (size_t)pl);
				(*out)[pl] = '\0';
				*len = (size_t)pl;
				memmove(w->in, w->in + h + pl, w->n - h - (size_t)pl);
				w->n -= h + (size_t)pl;
				return op;
			}
		}
		{
			struct pollfd p = { w->fd, POLLIN, 0 };
			ssize_t r;
			if (poll(&p, 1, timeout_ms) != 1)
				return -1;
			assert_true(w->n < sizeof(w->in));
			r = recv(w->fd, w->in + w->n, sizeof(w->in) - w->n, 0);
			if (r <= 0)
				return -2;
			w->n += (size_t)r;
		}
	}
}

/* The next text message that is not a keep-alive, as JSON, or NULL (after
 * timeout_ms without a frame, or 5 keep-alives in a row). */
static json_t *ws_json(struct ws *w, int timeout_ms)
{
	for (int ka = 0; ka < 5; ka++) {
		char *p;
		size_t n;
		int op = ws_next(w, timeout_ms, &p, &n);
		json_t *j;
		if (op != 1) {
			free(p);
			return NULL;
		}
		if (strcmp(p, "\"\"") == 0) {
			free(p);
			continue;
		}
		j = json_loads(p, 0, NULL);
		free(p);
		assert_non_null(j);
		return j;
	}
	return NULL;
}

/* Waits for a close frame; returns its code (-1 none). */
static int ws_close_code(struct ws *w, int timeout_ms)
{
	for (;;) {
		char *p;
		size_t n;
		int op = ws_next(w, timeout_ms, &p, &n);
		int code = -1;
		if (op == 8 && n >= 2)
			code = (uint8_t)p[0] << 8 | (uint8_t)p[1];
		free(p);
		if (op == 8 || op < 0)
			return code;
	}
}

static void ws_free(struct ws *w)
{
	close(w->fd);
	free(w);
}

/* ---- a naive book, order by order ---- */

struct nord {
	char id[32];
	int bid;
	int64_t px, qty;
};

struct nbook {
	struct nord o[4096];
	int n;
	uint64_t seq;
};

static struct nord *nfind(struct nbook *b, const char *id)
{
	for (int i = 0; i < b->n; i++)
		if (strcmp(b->o[i].id, id) == 0)
			return &b->o[i];
	return NULL;
}

static void nadd(struct nbook *b, const char *id, int bid, int64_t px, int64_t qty)
{
	assert_true(b->n < 4096);
	assert_null(nfind(b, id));
	snprintf(b->o[b->n].id, sizeof(b->o[0].id), "%s", id);
	b->o[b->n].bid = bid;
	b->o[b->n].px = px;
	b->o[b->n].qty = qty;
	b->n++;
}

static void ndel(struct nbook *b, struct nord *o)
{
	*o = b->o[--b->n];
}

static void nsnapshot(struct nbook *b, json_t *snap)
{
	size_t i;
	json_t *e;

	b->n = 0;
	b->seq = strtoull(json_string_value(json_object_get(snap, "sequence")), NULL, 10);
	assert_string_equal(json_string_value(json_object_get(snap, "status")), "ACTIVE");
	assert_true(json_is_integer(json_object_get(snap, "timestamp")));
	json_array_foreach(json_object_get(snap, "asks"), i, e)
		nadd(b, json_string_value(json_object_get(e, "id")), 0, money(e, "price"),
		     money(e, "volume"));
	json_array_foreach(json_object_get(snap, "bids"), i, e)
		nadd(b, json_string_value(json_object_get(e, "id")), 1, money(e, "price"),
		     money(e, "volume"));
}

/* Applies one update (Luno's order: trades, create, delete). */
static void napply(struct nbook *b, json_t *u)
{
	json_t *tr = json_object_get(u, "trade_updates"), *cr = json_object_get(u, "create_update");
	json_t *de = json_object_get(u, "delete_update"), *e;
	size_t i;

	assert_true(json_is_null(json_object_get(u, "status_update")));
	assert_true(json_is_integer(json_object_get(u, "timestamp")));
	assert_true(json_is_array(tr) || json_is_null(tr));
	json_array_foreach(tr, i, e) {
		struct nord *o = nfind(b, json_string_value(json_object_get(e, "maker_order_id")));
		assert_non_null(o);
		assert_non_null(json_string_value(json_object_get(e, "taker_order_id")));
		assert_true(money(e, "base") > 0 && money(e, "counter") > 0);
		o->qty -= money(e, "base");
		assert_true(o->qty >= 0);
		if (o->qty == 0)
			ndel(b, o);
	}
	if (!json_is_null(cr)) {
		const char *t = json_string_value(json_object_get(cr, "type"));
		assert_true(strcmp(t, "BID") == 0 || strcmp(t, "ASK") == 0);
		nadd(b, json_string_value(json_object_get(cr, "order_id")), t[0] == 'B',
		     money(cr, "price"), money(cr, "volume"));
	}
	if (!json_is_null(de)) {
		struct nord *o = nfind(b, json_string_value(json_object_get(de, "order_id")));
		assert_non_null(o);
		ndel(b, o);
	}
}

static int cmp_ord(const void *a, const void *b)
{
	const struct nord *x = a, *y = b;
	if (x->bid != y->bid)
		return x->bid - y->bid;
	if (x->px != y->px)
		return x->px < y->px ? -1 : 1;
	return x->qty < y->qty ? -1 : x->qty > y->qty;
}

/* The naive book equals /api/1/orderbook (order by order). */
static void check_book(struct nbook *b)
{
	json_t *ob = rest("/api/1/orderbook?pair=XBTZAR", NULL), *e;
	static struct nbook r;
	size_t i;

	r.n = 0;
	json_array_foreach(json_object_get(ob, "asks"), i, e) {
		assert_true(r.n < 4096);
		r.o[r.n++] = (struct nord){ "", 0, money(e, "price"), money(e, "volume") };
	}
	json_array_foreach(json_object_get(ob, "bids"), i, e) {
		assert_true(r.n < 4096);
		r.o[r.n++] = (struct nord){ "", 1, money(e, "price"), money(e, "volume") };
	}
	json_decref(ob);
	assert_int_equal(r.n, b->n);
	qsort(r.o, (size_t)r.n, sizeof(r.o[0]), cmp_ord);
	qsort(b->o, (size_t)b->n, sizeof(b->o[0]), cmp_ord);
	for (int k = 0; k < r.n; k++) {
		assert_int_equal(r.o[k].bid, b->o[k].bid);
		assert_int_equal(r.o[k].px, b->o[k].px);
		assert_int_equal(r.o[k].qty, b->o[k].qty);
	}
}

/* Best bid / ask from the REST ticker, 1e-8. */
static void top(int64_t *bid, int64_t *ask)
{
	json_t *t = rest("/api/1/ticker?pair=XBTZAR", NULL);
	*bid = money(t, "bid");
	*ask = money(t, "ask");
	json_decref(t);
}

/* A mixed load over REST: resting orders, crossing orders, cancels and
 * taker sweeps. Returns how many requests changed the book at most. */
static void drive(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		int64_t bid, ask;
		char form[256], idpath[64];
		json_t *r;

		top(&bid, &ask);
		/* A side the sweeps emptied: quote around the other one. */
		if (bid == 0)
			bid = (ask != 0 ? ask : IG_FIXED(1000000)) - IG_FIXED(20);
		if (ask == 0)
			ask = bid + IG_FIXED(20);
		/* Rests inside the spread (or at the touch). */
		snprintf(form, sizeof(form), "pair=XBTZAR&type=%s&price=%lld&volume=0.00%d",
			 i % 2 ? "ASK" : "BID",
			 (long long)((i % 2 ? ask : bid) / 100000000 + (i % 2 ? -1 : 1)), 1 + i % 7);
		r = rest("/api/1/postorder", form);
		snprintf(idpath, sizeof(idpath), "order_id=%s",
			 json_string_value(json_object_get(r, "order_id")));
		json_decref(r);
		if (i % 3 == 0)
			json_decref(rest("/api/1/stoporder", idpath));
		/* Crosses: trades, maybe rests the remainder. */
		snprintf(form, sizeof(form), "pair=XBTZAR&type=%s&price=%lld&volume=0.0%d",
			 i % 2 ? "BID" : "ASK",
			 (long long)((i % 2 ? ask : bid) / 100000000), 1 + i % 5);
		json_decref(rest("/api/1/postorder", form));
		if (i % 4 == 1)
			json_decref(rest("/sim/take", i % 8 == 1 ? "side=SELL&volume=0.05"
								 : "side=BUY&volume=0.05"));
	}
}

/* Reads updates into b until the stream is quiet for quiet_ms; returns the
 * sequences seen in seqs (up to max) and their count. */
static int drain(struct ws *w, struct nbook *b, int quiet_ms, uint64_t *seqs, int max)
{
	int n = 0;
	json_t *u;

	while ((u = ws_json(w, quiet_ms)) != NULL) {
		const char *sq = json_string_value(json_object_get(u, "sequence"));
		assert_non_null(sq);
		if (n < max)
			seqs[n] = strtoull(sq, NULL, 10);
		n++;
		napply(b, u);
		b->seq = strtoull(sq, NULL, 10);
		json_decref(u);
	}
	return n;
}

/* ---- tests ---- */

static void test_bad_credentials(void **state)
{
	struct ws *w;
	(void)state;

	start_sim(NULL);
	w = ws_open("/api/1/stream/XBTZAR");
	ws_auth(w, it_key, "wrong-secret");
	assert_int_equal(ws_close_code(w, 5000), 1008);
	ws_free(w);
	w = ws_open("/api/1/userstream");
	ws_auth(w, "nobody", it_secret);
	assert_int_equal(ws_close_code(w, 5000), 1008);
	ws_free(w);
	/* Not a websocket request, or another pair: plain HTTP errors. */
	{
		CURL *c = curl_easy_init();
		char url[128];
		long st = 0;
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/1/stream/XBTZAR", sim_port);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
		{
			struct buf b = { NULL, 0 };
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
			assert_int_equal(curl_easy_perform(c), CURLE_OK);
			free(b.p);
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
		curl_easy_cleanup(c);
		assert_int_equal(st, 400);
	}
}

static void test_snapshot_then_updates(void **state)
{
	static struct nbook b;
	static uint64_t seqs[100000];
	struct ws *w, *w2;
	json_t *snap;
	int n;
	(void)state;

	start_sim(NULL);
	w = ws_open("/api/1/stream/XBTZAR");
	ws_auth(w, it_key, it_secret);
	snap = ws_json(w, 5000);
	assert_non_null(snap);
	nsnapshot(&b, snap);
	json_decref(snap);
	assert_true(b.n > 0); /* the initial ladder */
	check_book(&b);

	/* A second client, joining mid-way, starts from its own snapshot. */
	drive(10);
	w2 = ws_open("/api/1/stream/XBTZAR");
	ws_auth(w2, it_key, it_secret);
	drive(20);

	{
		uint64_t first = b.seq;
		n = drain(w, &b, 700, seqs, 100000);
		assert_true(n > 40);
		for (int i = 0; i < n; i++)
			assert_int_equal(seqs[i], first + 1 + (uint64_t)i);
	}
	check_book(&b);
	{
		static struct nbook b2;
		uint64_t first;
		snap = ws_json(w2, 5000);
		assert_non_null(snap);
		nsnapshot(&b2, snap);
		json_decref(snap);
		first = b2.seq;
		n = drain(w2, &b2, 300, seqs, 100000);
		for (int i = 0; i < n; i++)
			assert_int_equal(seqs[i], first + 1 + (uint64_t)i);
		assert_int_equal(b2.seq, b.seq);
		check_book(&b2);
	}
	ws_free(w2);
	ws_free(w);
}

static void test_gap_every(void **state)
{
	static struct nbook b;
	static uint64_t seqs[100000];
	const char *extra[] = { "--ws-gap-every", "3", NULL };
	struct ws *w;
	json_t *snap;
	uint64_t prev;
	int n, gaps = 0;
	(void)state;

	start_sim(extra);
	w = ws_open("/api/1/stream/XBTZAR");
	ws_auth(w, it_key, it_secret);
	snap = ws_json(w, 5000);
	assert_non_null(snap);
	nsnapshot(&b, snap);
	json_decref(snap);
	/* No market message before this client: its k-th is the server's k-th. */
	assert_int_equal(b.seq, 0);
	drive(10);
	n = drain(w, &b, 700, seqs, 100000);
	assert_true(n >= 9);
	prev = 0;
	for (int k = 1; k <= n; k++) {
		uint64_t d = seqs[k - 1] - prev;
		assert_int_equal(d, k % 3 == 0 ? 2 : 1);
		gaps += d == 2;
		prev = seqs[k - 1];
	}
	assert_int_equal(gaps, n / 3);
	/* The book itself is still whole: the gaps are numbers, not changes. */
	check_book(&b);
	ws_free(w);
}

static void test_drop_every(void **state)
{
	const char *extra[] = { "--ws-drop-every-s", "1", NULL };
	struct ws *w;
	json_t *snap;
	(void)state;

	start_sim(extra);
	w = ws_open("/api/1/stream/XBTZAR");
	ws_auth(w, it_key, it_secret);
	snap = ws_json(w, 5000);
	assert_non_null(snap);
	json_decref(snap);
	assert_int_equal(ws_close_code(w, 10000), 1001);
	ws_free(w);
	/* And again: each connection is closed, the server keeps serving. */
	w = ws_open("/api/1/userstream");
	ws_auth(w, it_key, it_secret);
	assert_int_equal(ws_close_code(w, 10000), 1001);
	ws_free(w);
}

static void test_keepalive(void **state)
{
	const char *extra[] = { "--ws-keepalive-ms", "100", NULL };
	struct ws *w;
	char *p;
	size_t n;
	int op, ka = 0;
	(void)state;

	start_sim(extra);
	w = ws_open("/api/1/userstream");
	ws_auth(w, it_key, it_secret);
	while (ka < 2 && (op = ws_next(w, 5000, &p, &n)) == 1) {
		ka += strcmp(p, "\"\"") == 0;
		free(p);
	}
	assert_int_equal(ka, 2);
	/* A ping is answered with its payload. */
	ws_send(w, 9, "hi");
	for (;;) {
		op = ws_next(w, 5000, &p, &n);
		assert_true(op > 0);
		if (op == 10) {
			assert_string_equal(p, "hi");
			free(p);
			break;
		}
		free(p);
	}
	/* A fragmented message is refused (1003). */
	{
		const uint8_t frag[] = { 0x01, 0x80, 0, 0, 0, 0 }; /* text, FIN clear, empty */
		assert_int_equal(send(w->fd, frag, sizeof(frag), MSG_NOSIGNAL), (ssize_t)sizeof(frag));
		assert_int_equal(ws_close_code(w, 5000), 1003);
	}
	ws_free(w);
}

static void test_user_stream(void **state)
{
	struct ws *w;
	json_t *m, *lt, *tr, *st_pending = NULL, *st_complete = NULL;
	json_t *fills = json_array();
	int64_t bid, ask, sum_base = 0, sum_counter = 0, sum_fee_base = 0;
	char form[256], path[128];
	const char *oid;
	const char *extra[] = { "--ws-keepalive-ms", "100", NULL };
	int balances = 0;
	size_t i;
	(void)state;

	start_sim(extra);
	w = ws_open("/api/1/userstream");
	ws_auth(w, it_key, it_secret);
	/* The user stream sends nothing on subscribing: its first keep-alive
	 * says the subscription is in place. */
	{
		char *p;
		size_t n;
		assert_int_equal(ws_next(w, 5000, &p, &n), 1);
		assert_string_equal(p, "\"\"");
		free(p);
	}
	/* A BID through the best ask: it takes (maybe several levels) and
	 * the remainder rests; then a sweep fills what rests. */
	top(&bid, &ask);
	snprintf(form, sizeof(form),
		 "pair=XBTZAR&type=BID&price=%lld&volume=0.3&client_order_id=ws-1",
		 (long long)(ask / 100000000));
	m = rest("/api/1/postorder", form);
	snprintf(path, sizeof(path), "%s", json_string_value(json_object_get(m, "order_id")));
	json_decref(m);
	oid = path;
	json_decref(rest("/sim/take", "side=SELL&volume=5"));

	while ((m = ws_json(w, 700)) != NULL) {
		const char *type = json_string_value(json_object_get(m, "type"));
		assert_non_null(type);
		assert_true(json_is_integer(json_object_get(m, "timestamp")));
		if (strcmp(type, "order_status") == 0) {
			json_t *u = json_object_get(m, "order_status_update");
			const char *s = json_string_value(json_object_get(u, "status"));
			assert_string_equal(json_string_value(json_object_get(u, "order_id")), oid);
			assert_string_equal(json_string_value(json_object_get(u, "client_order_id")), "ws-1");
			assert_string_equal(json_string_value(json_object_get(u, "market_id")), "XBTZAR");
			if (strcmp(s, "PENDING") == 0) {
				assert_null(st_pending);
				assert_int_equal(json_array_size(fills), 0); /* first */
				st_pending = json_incref(m);
			} else {
				assert_string_equal(s, "COMPLETE");
				assert_null(st_complete);
				st_complete = json_incref(m);
			}
		} else if (strcmp(type, "order_fill") == 0) {
			json_t *u = json_object_get(m, "order_fill_update");
			assert_non_null(st_pending);
			assert_null(st_complete);
			assert_string_equal(json_string_value(json_object_get(u, "order_id")), oid);
			sum_base += money(u, "base_delta");
			sum_counter += money(u, "counter_delta");
			sum_fee_base += money(u, "base_fee_delta");
			/* Cumulative figures run with the deltas. */
			assert_int_equal(money(u, "base_fill"), sum_base);
			assert_int_equal(money(u, "counter_fill"), sum_counter);
			assert_int_equal(money(u, "base_fee"), sum_fee_base);
			json_array_append(fills, u);
		} else {
			json_t *u = json_object_get(m, "balance_update");
			assert_string_equal(type, "balance_update");
			assert_non_null(json_string_value(json_object_get(u, "account_id")));
			(void)money(u, "balance");
			(void)money(u, "balance_delta");
			(void)money(u, "available");
			(void)money(u, "available_delta");
			balances++;
		}
		json_decref(m);
	}
	assert_non_null(st_pending);
	assert_non_null(st_complete);
	assert_true(balances >= 2);
	assert_true(json_array_size(fills) >= 2);

	/* Every fill, as listtrades reports it. */
	lt = rest("/api/1/listtrades?pair=XBTZAR", NULL);
	tr = json_object_get(lt, "trades");
	assert_int_equal(json_array_size(tr), json_array_size(fills));
	for (i = 0; i < json_array_size(tr); i++) {
		json_t *t = json_array_get(tr, i), *f = json_array_get(fills, i);
		assert_int_equal(json_integer_value(json_object_get(t, "sequence")),
				 json_integer_value(json_object_get(f, "sequence")));
		assert_string_equal(json_string_value(json_object_get(t, "order_id")), oid);
		assert_int_equal(money(t, "base"), money(f, "base_delta"));
		assert_int_equal(money(t, "counter"), money(f, "counter_delta"));
		assert_int_equal(money(t, "fee_base"), money(f, "base_fee_delta"));
		assert_int_equal(money(t, "fee_counter"), money(f, "counter_fee_delta"));
		assert_int_equal(money(t, "price"), money(f, "price"));
		assert_int_equal(json_is_true(json_object_get(t, "maker")),
				 json_is_true(json_object_get(f, "maker")));
	}
	/* The last status carries the order's totals. */
	{
		json_t *u = json_object_get(st_complete, "order_status_update");
		assert_int_equal(money(u, "base"), sum_base);
		assert_int_equal(money(u, "counter"), sum_counter);
		assert_int_equal(money(u, "fee_base"), sum_fee_base);
	}
	json_decref(lt);
	json_decref(st_pending);
	json_decref(st_complete);
	json_decref(fills);
	ws_free(w);
}

static void test_request_log(void **state)
{
	char logp[400];
	const char *extra[] = { "--request-log", logp, NULL };
	struct ws *w;
	char *t, *line, *save = NULL;
	int tickers = 0, streams = 0, lines = 0;
	(void)state;

	snprintf(logp, sizeof(logp), "%s/requests.jsonl", it_tmpdir);
	start_sim(extra);
	for (int i = 0; i < 3; i++)
		json_decref(rest("/api/1/ticker?pair=XBTZAR", NULL));
	w = ws_open("/api/1/stream/XBTZAR");
	ws_free(w);
	it_reap(&it_sim_pid, SIGTERM, 5000);

	t = it_slurp(logp);
	assert_non_null(t);
	for (line = strtok_r(t, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *path;
		assert_non_null(j);
		lines++;
		path = json_string_value(json_object_get(j, "path"));
		assert_non_null(path);
		assert_non_null(json_string_value(json_object_get(j, "method")));
		assert_true(json_is_number(json_object_get(j, "ms")));
		/* The arrival time (CLOCK_MONOTONIC ns), for latency figures. */
		assert_true(json_integer_value(json_object_get(j, "t_ns")) > 0);
		assert_true(strcmp(json_string_value(json_object_get(j, "method")), "FLOW") != 0);
		if (strcmp(path, "/api/1/ticker") == 0) {
			assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
			tickers++;
		} else if (strcmp(path, "/api/1/stream/XBTZAR") == 0) {
			assert_int_equal(json_integer_value(json_object_get(j, "status")), 101);
			streams++;
		}
		json_decref(j);
	}
	free(t);
	assert_int_equal(tickers, 3);
	assert_int_equal(streams, 1);
	assert_int_equal(lines, 4);
}

/* --log-flow: each flow tick is a line of the request log (method FLOW,
 * path /sim/flow, its start t_ns, increasing, and duration ms) beside the
 * requests, whose t_ns is their arrival on the same clock. */
static void test_request_log_flow(void **state)
{
	char logp[400];
	const char *extra[] = { "--request-log", logp, "--log-flow", "--flow-ms", "10", NULL };
	char *t, *line, *save = NULL;
	int flows = 0, tickers = 0;
	json_int_t last_flow_ns = 0, ticker_ns = 0;
	(void)state;

	snprintf(logp, sizeof(logp), "%s/requests-flow.jsonl", it_tmpdir);
	start_sim(extra);
	for (int i = 0; i < 100 && it_count(logp, "\"method\":\"FLOW\"") < 3; i++)
		it_msleep(10);
	json_decref(rest("/api/1/ticker?pair=XBTZAR", NULL));
	it_reap(&it_sim_pid, SIGTERM, 5000);

	t = it_slurp(logp);
	assert_non_null(t);
	for (line = strtok_r(t, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *method;
		assert_non_null(j);
		method = json_string_value(json_object_get(j, "method"));
		assert_non_null(method);
		assert_true(json_is_number(json_object_get(j, "ms")));
		if (strcmp(method, "FLOW") == 0) {
			assert_string_equal(json_string_value(json_object_get(j, "path")), "/sim/flow");
			assert_true(json_integer_value(json_object_get(j, "t_ns")) > last_flow_ns);
			last_flow_ns = json_integer_value(json_object_get(j, "t_ns"));
			flows++;
		} else {
			ticker_ns = json_integer_value(json_object_get(j, "t_ns"));
			tickers++;
		}
		json_decref(j);
	}
	free(t);
	assert_true(flows >= 3);
	assert_int_equal(tickers, 1);
	assert_true(ticker_ns > 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_credentials, it_teardown),
		cmocka_unit_test_teardown(test_snapshot_then_updates, it_teardown),
		cmocka_unit_test_teardown(test_gap_every, it_teardown),
		cmocka_unit_test_teardown(test_drop_every, it_teardown),
		cmocka_unit_test_teardown(test_keepalive, it_teardown),
		cmocka_unit_test_teardown(test_user_stream, it_teardown),
		cmocka_unit_test_teardown(test_request_log, it_teardown),
		cmocka_unit_test_teardown(test_request_log_flow, it_teardown),
	};
	static const char suffix[] = "/test/sim/test_sim_stream";
	size_t len;
	int rc;

	(void)argc;
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(it_bin, sizeof(it_bin), "%s", argv[0]);
	len = strlen(it_bin);
	if (len > strlen(suffix) && strcmp(it_bin + len - strlen(suffix), suffix) == 0)
		it_bin[len - strlen(suffix)] = '\0';
	else
		snprintf(it_bin, sizeof(it_bin), "build");
	strncat(it_bin, "/ingenium", sizeof(it_bin) - strlen(it_bin) - 1);
	snprintf(it_tmpdir, sizeof(it_tmpdir), "/tmp/ig-test_sim_stream-XXXXXX");
	if (mkdtemp(it_tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char cmd[300];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", it_tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", it_tmpdir);
	} else {
		fprintf(stderr, "outputs kept in %s\n", it_tmpdir);
	}
	curl_global_cleanup();
	return rc;
}
