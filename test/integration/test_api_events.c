/*
 * test_api_events.c - orders, fills and the event stream against the real
 * daemon: `ingenium run` on the bundled data (paper venue) with
 * api.listen on 127.0.0.1 and a free port. A slow SSE client (small
 * receive buffer, never reads) is dropped while a libcurl client keeps
 * getting fills and the daemon keeps trading; a ninth stream is refused
 * (503); after pausing every strategy, /api/v1/orders and /api/v1/fills
 * agree with /api/v1/status, and the summary after SIGINT agrees with
 * them. No wall-clock assertion: every wait is a bound.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "it-events-token-91c2"

struct reply {
	long status;
	char body[1 << 20];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t k = size * n, room = sizeof(r->body) - 1 - r->len;
	memcpy(r->body + r->len, p, k < room ? k : room);
	r->len += k < room ? k : room;
	r->body[r->len] = '\0';
	return k;
}

/* GET (or POST with post) path with the token. Returns the status (0: none). */
static long http(uint16_t port, const char *path, bool post, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
	char url[256];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r->status;
}

/* A raw client that asks for the stream: rcvbuf > 0 shrinks its receive
 * buffer first. Returns the socket. */
static int raw_stream(uint16_t port, int rcvbuf)
{
	static const char req[] = "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Authorization: Bearer " TOKEN "\r\n\r\n";
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));
	return fd;
}

/* The status line's code of a raw stream (reads the first bytes). */
static int raw_status(int fd)
{
	char buf[64] = { 0 };
	int code = 0;
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (recv(fd, buf, sizeof(buf) - 1, 0) > 12)
		sscanf(buf, "HTTP/1.1 %d", &code);
	return code;
}

/* The value of a metric line "NAME VALUE" in a /metrics page, or -1. */
static long long metric(const char *page, const char *name)
{
	char key[128];
	const char *p;
	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(page, key);
	return p != NULL ? atoll(p + strlen(key)) : -1;
}

/* The libcurl stream reader: counts "event: fill" messages (a message may
 * be split across writes: the tail of the last write is kept). */
struct stream {
	char tail[32];
	size_t tail_len;
	long fills, states, first_is_state;
	size_t bytes;
};

static size_t on_stream(char *p, size_t size, size_t n, void *arg)
{
	struct stream *s = arg;
	size_t k = size * n;
	char buf[32 + 16384];
	size_t off = 0;

	while (off < k) {
		size_t part = k - off < 16384 ? k - off : 16384;
		size_t len = s->tail_len + part;
		const char *q;
		memcpy(buf, s->tail, s->tail_len);
		memcpy(buf + s->tail_len, p + off, part);
		buf[len] = '\0';
		if (s->bytes == 0 && off == 0)
			s->first_is_state = strncmp(buf, "id: ", 4) == 0 &&
					    strstr(buf, "\nevent: state\n") != NULL &&
					    strstr(buf, "\nevent: state\n") < strstr(buf, "\n\n");
		for (q = buf; (q = strstr(q, "\nevent: fill\n")) != NULL; q++)
			s->fills++;
		for (q = buf; (q = strstr(q, "\nevent: state\n")) != NULL; q++)
			s->states++;
		/* Keep fewer bytes than a marker, so no marker counts twice. */
		s->tail_len = len < 12 ? len : 12;
		memcpy(s->tail, buf + len - s->tail_len, s->tail_len);
		off += part;
	}
	s->bytes += k;
	return k;
}

static json_t *get_json(uint16_t port, const char *path, struct reply *r)
{
	json_t *doc;
	assert_int_equal(http(port, path, false, r), 200);
	doc = json_loads(r->body, 0, NULL);
	assert_non_null(doc);
	return doc;
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void test_api_events(void **state)
{
	static struct reply r;
	static const char *const names[] = { "sma_fast", "sma_slow", "sma_big" };
	char out[300], sum[300], setl[80];
	uint16_t port = it_free_port();
	CURLM *m;
	CURL *c;
	struct curl_slist *h;
	struct stream s;
	int slow, extra[7], running = 1;
	long long dropped = 0, fills_at_drop = -1, status_fills_at_drop = -1, status_fills;
	json_t *st, *orders, *fills, *doc;

	(void)state;
	snprintf(out, sizeof(out), "%s/run.out", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/summary.json", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		/* Fast enough to fill a slow client's buffers, long enough to
		 * outlast the test (the bundled data at 300 rows/s). */
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=300", "--summary-json", sum, NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 1500 && http(port, "/healthz", false, &r) != 200; i++)
		it_msleep(20);
	assert_int_equal(r.status, 200);

	/* The slow client first, then a libcurl one that reads. */
	slow = raw_stream(port, 2048);
	memset(&s, 0, sizeof(s));
	m = curl_multi_init();
	c = curl_easy_init();
	h = curl_slist_append(NULL, "Authorization: Bearer " TOKEN);
	snprintf(r.body, 256, "http://127.0.0.1:%u/api/v1/events", port);
	curl_easy_setopt(c, CURLOPT_URL, r.body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_multi_add_handle(m, c);

	/* Until the slow one is dropped and the reader has had fills after
	 * it (bounded: 90 s). */
	for (int i = 0; i < 4500 && running; i++) {
		curl_multi_perform(m, &running);
		curl_multi_wait(m, NULL, 0, 20, NULL);
		if (i % 10 != 0)
			continue;
		if (http(port, "/metrics", false, &r) == 200)
			dropped = metric(r.body, "ingenium_api_sse_dropped_total");
		if (dropped >= 1 && fills_at_drop < 0) {
			fills_at_drop = s.fills;
			doc = get_json(port, "/api/v1/status", &r);
			status_fills_at_drop = jint(doc, "fills");
			json_decref(doc);
		}
		if (fills_at_drop >= 0 && s.fills >= fills_at_drop + 3)
			break;
	}
	assert_true(running); /* the reader's stream is still open */
	assert_int_equal(dropped, 1);
	assert_true(s.first_is_state);
	assert_true(s.fills >= fills_at_drop + 3);
	doc = get_json(port, "/api/v1/status", &r);
	assert_true(jint(doc, "fills") > status_fills_at_drop); /* trading went on */
	assert_int_equal(jint(json_object_get(doc, "events"), "dropped"), 0);
	json_decref(doc);

	/* The slow client's connection ends (read to EOF, bounded). */
	{
		char buf[65536];
		struct timeval tv = { 30, 0 };
		ssize_t n;
		setsockopt(slow, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		while ((n = recv(slow, buf, sizeof(buf), 0)) > 0)
			;
		assert_int_equal(n, 0);
		close(slow);
	}

	/* 8 streams at most: the reader and 7 more; a ninth gets 503. */
	for (int i = 0; i < 7; i++) {
		extra[i] = raw_stream(port, 0);
		assert_int_equal(raw_status(extra[i]), 200);
	}
	{
		int ninth = raw_stream(port, 0);
		assert_int_equal(raw_status(ninth), 503);
		close(ninth);
	}
	for (int i = 0; i < 7; i++)
		close(extra[i]);

	/* Bad limits. */
	assert_int_equal(http(port, "/api/v1/fills?limit=0", false, &r), 400);
	assert_int_equal(http(port, "/api/v1/fills?limit=abc", false, &r), 400);
	assert_int_equal(http(port, "/api/v1/fills?limit=1001", false, &r), 400);

	/* Quiet the run: every strategy paused (its market orders are filled
	 * at once), then the documents agree with the status. */
	for (int i = 0; i < 3; i++) {
		char path[128];
		snprintf(path, sizeof(path), "/api/v1/strategies/%s/pause", names[i]);
		assert_int_equal(http(port, path, true, &r), 200);
	}
	{
		long long prev = -1, seq0;
		doc = get_json(port, "/api/v1/status", &r);
		seq0 = jint(json_object_get(doc, "snapshot"), "seq");
		json_decref(doc);
		/* Two snapshots after the pause with the same fill count and
		 * no open order. */
		for (int i = 0; i < 1500; i++) {
			doc = get_json(port, "/api/v1/status", &r);
			status_fills = jint(doc, "fills");
			if (jint(json_object_get(doc, "snapshot"), "seq") > seq0 + 2 &&
			    status_fills == prev) {
				json_decref(doc);
				break;
			}
			prev = status_fills;
			json_decref(doc);
			it_msleep(50);
		}
	}
	it_msleep(200); /* the ring is drained every 50 ms at most */
	st = get_json(port, "/api/v1/status", &r);
	status_fills = jint(st, "fills");
	orders = get_json(port, "/api/v1/orders", &r);
	fills = get_json(port, "/api/v1/fills?limit=1000", &r);
	assert_true(status_fills > 0);
	assert_true(status_fills <= 1000);
	assert_int_equal((long long)json_array_size(json_object_get(fills, "fills")), status_fills);
	for (size_t i = 0; i < 3; i++) {
		json_t *ss = json_array_get(json_object_get(st, "strategies"), i);
		long long nf = 0, no = 0;
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(fills, "fills"), k, f)
			nf += strcmp(json_string_value(json_object_get(f, "strategy")), names[i]) == 0;
		json_array_foreach(json_object_get(orders, "open"), k, f)
			no += strcmp(json_string_value(json_object_get(f, "strategy")), names[i]) == 0;
		assert_int_equal(nf, jint(ss, "fills"));
		assert_int_equal(no, jint(ss, "open_orders"));
	}
	{
		/* Newest first; the latest finished order is a filled one. */
		json_t *f0 = json_array_get(json_object_get(fills, "fills"), 0);
		json_t *f1 = json_array_get(json_object_get(fills, "fills"), 1);
		assert_true(atoll(json_string_value(json_object_get(f0, "trade_id"))) >
			    atoll(json_string_value(json_object_get(f1, "trade_id"))));
		assert_true(json_array_size(json_object_get(orders, "recent")) > 0);
		assert_true(json_array_size(json_object_get(orders, "recent")) <= 100);
	}
	/* The reader saw the pauses as state messages. */
	for (int i = 0; i < 200 && s.states < 4; i++) {
		curl_multi_perform(m, &running);
		curl_multi_wait(m, NULL, 0, 20, NULL);
	}
	assert_true(s.states >= 4); /* the first global one and three pauses */

	/* SIGINT with the reader connected: a clean stop; the summary agrees. */
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
	for (int i = 0; i < 500 && running; i++) {
		curl_multi_perform(m, &running);
		curl_multi_wait(m, NULL, 0, 20, NULL);
	}
	assert_false(running); /* the stream ended with the daemon */
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	for (size_t i = 0; i < 3; i++) {
		json_t *a = json_array_get(json_object_get(it_json[0], "strategies"), i);
		json_t *b = json_array_get(json_object_get(st, "strategies"), i);
		assert_int_equal(jint(a, "fills"), jint(b, "fills"));
	}
	json_decref(st);
	json_decref(orders);
	json_decref(fills);
	curl_multi_remove_handle(m, c);
	curl_easy_cleanup(c);
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_api_events, it_teardown),
	};
	int rc;

	(void)argc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_api_events", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
