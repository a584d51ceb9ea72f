/* test_api_hostile.c - the status API under hostile requests, in process
 * (ig_api_start on 127.0.0.1, port 0, a published snapshot): oversized
 * request lines and headers, bodies (a huge Content-Length, chunked),
 * bad methods and garbage, unknown paths and path traversal (raw and
 * encoded: never a file's content), a flood of failed authentications
 * (429, the token never echoed), a thousand idle connections at once,
 * the shorter timeout of a connection that has not sent a whole request;
 * and HTTPS with the test certificate in test/data/tls/ (libcurl
 * verifying it), plain HTTP to the TLS port failing, and a non-loopback
 * address without TLS refused. Raw sockets where libcurl would tidy the
 * request (it removes "../" segments). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/snapshot.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define TOKEN "tok-hostile-5e2a91"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- a server with a snapshot --------------------------------------------- */

struct srv {
	struct ig_snap_pub *pub;
	struct ig_api *api;
	uint16_t port;
	uint64_t orders;
};

static const struct ig_api_info srv_info = { "1.2.3", "dedicated", "paper", 0, 0 };

/* Publishes a snapshot whose order count is orders. */
static void srv_publish(struct srv *s, uint64_t orders)
{
	struct ig_snapshot *snap = ig_snap_begin(s->pub);
	assert_non_null(snap);
	memset(snap, 0, sizeof(*snap));
	snap->ninstruments = 1;
	snprintf(snap->symbols[0], sizeof(snap->symbols[0]), "BTCUSD");
	snap->nstrategies = 1;
	snprintf(snap->s[0].name, sizeof(snap->s[0].name), "fast");
	snprintf(snap->s[0].type, sizeof(snap->s[0].type), "sma_cross");
	snap->orders = orders;
	snap->s[0].orders = orders;
	snap->s[0].equity = IG_FIXED(1000);
	ig_snap_publish(s->pub, snap);
	s->orders = orders;
}

/* Starts the API (TLS with cert/key unless NULL) and publishes once. */
static void srv_start_tls(struct srv *s, const char *listen, const char *cert, const char *key)
{
	struct ig_cfg_api cfg;
	char err[256];

	memset(s, 0, sizeof(*s));
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen);
	snprintf(cfg.token_env, sizeof(cfg.token_env), "IG_TEST_API_TOKEN");
	if (cert != NULL) {
		snprintf(cfg.tls_cert, sizeof(cfg.tls_cert), "%s", cert);
		snprintf(cfg.tls_key, sizeof(cfg.tls_key), "%s", key);
	}
	cfg.publish_ms = 100;
	setenv("IG_TEST_API_TOKEN", TOKEN, 1);
	s->pub = ig_snap_pub_create();
	assert_non_null(s->pub);
	if (ig_api_start(&s->api, &cfg, s->pub, NULL, &srv_info, NULL, err, sizeof(err)) != 0)
		fail_msg("ig_api_start: %s", err);
	s->port = ig_api_port(s->api);
	assert_true(s->port > 0);
	srv_publish(s, 7);
}

static void srv_start(struct srv *s)
{
	srv_start_tls(s, "127.0.0.1:0", NULL, NULL);
}

static void srv_stop(struct srv *s)
{
	ig_api_stop(s->api);
	ig_snap_pub_destroy(s->pub);
	unsetenv("IG_TEST_API_TOKEN");
}

/* ---- a raw client ----------------------------------------------------------- */

/* A TCP connection to 127.0.0.1:port from src (another loopback address,
 * or NULL), with 10 s send and receive timeouts. Returns the fd or -1. */
static int raw_connect(uint16_t port, const char *src)
{
	struct sockaddr_in a;
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (src != NULL) {
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		inet_pton(AF_INET, src, &a.sin_addr);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
			close(fd);
			return -1;
		}
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

struct raw {
	int status;       /* the answer's status; 0: closed without one, -1: no connection */
	char text[16384]; /* status line, headers and body (truncated) */
	size_t len;
};

/* Reads one answer from fd into r: up to the end of its body
 * (Content-Length), the connection's end, or the receive timeout. */
static void raw_read(int fd, struct raw *r)
{
	for (;;) {
		char *end;
		ssize_t n;

		if (r->len + 1 >= sizeof(r->text))
			break;
		n = recv(fd, r->text + r->len, sizeof(r->text) - 1 - r->len, 0);
		if (n <= 0)
			break;
		r->len += (size_t)n;
		r->text[r->len] = '\0';
		end = strstr(r->text, "\r\n\r\n");
		if (end != NULL) {
			const char *cl = strcasestr(r->text, "\r\nContent-Length:");
			size_t want = cl != NULL && cl < end ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
			if (r->len >= (size_t)(end + 4 - r->text) + want)
				break;
		}
	}
	r->text[r->len] = '\0';
	if (sscanf(r->text, "HTTP/1.%*d %d", &r->status) != 1)
		r->status = 0;
}

/* Sends the len bytes of req over a new connection from src (NULL:
 * 127.0.0.1) and reads the answer into r. The server may close early:
 * a failed send is not an error. */
static void raw_src(uint16_t port, const char *src, const char *req, size_t len, struct raw *r)
{
	int fd = raw_connect(port, src);
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	if (fd < 0) {
		r->status = -1;
		return;
	}
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	raw_read(fd, r);
	close(fd);
}

static void raw(uint16_t port, const char *req, struct raw *r)
{
	raw_src(port, NULL, req, strlen(req), r);
}

/* GET path with the token from src; its status (0 closed, -1 refused). */
static int get_status(uint16_t port, const char *src, const char *path)
{
	static struct raw r;
	char req[512];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n",
		 path);
	raw_src(port, src, req, strlen(req), &r);
	return r.status;
}

/* The API still serves: /healthz and an authenticated /api/v1/status
 * from 127.0.0.3 (an address no test blocks). */
static void assert_serving(uint16_t port)
{
	assert_int_equal(get_status(port, "127.0.0.3", "/healthz"), 200);
	assert_int_equal(get_status(port, "127.0.0.3", "/api/v1/status"), 200);
}

static bool is_4xx_or_closed(int status)
{
	return status == 0 || (status >= 400 && status < 500);
}

/* A heap string of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *p = malloc(n + 1);
	assert_non_null(p);
	memset(p, c, n);
	p[n] = '\0';
	return p;
}

/* ---- oversized ---------------------------------------------------------------- */

static void test_oversized_request_line_and_headers(void **state)
{
	static struct raw r;
	struct srv s;
	size_t cap = 200 << 10;
	char *req = malloc(cap), *big = repeat('a', 64 << 10);
	int n;

	(void)state;
	assert_non_null(req);
	srv_start(&s);

	/* A request line past the connection's memory (16 KiB). */
	n = snprintf(req, cap, "GET /%.20000s HTTP/1.1\r\nHost: x\r\n" AUTH "\r\n", big);
	raw_src(s.port, NULL, req, (size_t)n, &r);
	assert_true(is_4xx_or_closed(r.status));
	assert_null(strstr(r.text, TOKEN));

	/* One header of 64 KiB. */
	n = snprintf(req, cap, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" AUTH "X-Pad: %s\r\n\r\n",
		     big);
	raw_src(s.port, NULL, req, (size_t)n, &r);
	assert_true(is_4xx_or_closed(r.status));
	if (r.status != 0)
		assert_int_equal(r.status, 431);

	/* 1000 small headers (about 30 KiB). */
	{
		size_t off = (size_t)snprintf(req, cap, "GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH);
		for (int i = 0; i < 1000; i++)
			off += (size_t)snprintf(req + off, cap - off, "X-H%d: %.16s\r\n", i, big);
		off += (size_t)snprintf(req + off, cap - off, "\r\n");
		raw_src(s.port, NULL, req, off, &r);
		assert_true(is_4xx_or_closed(r.status));
	}

	/* A header name alone of 20 KiB, and a header line with no colon. */
	n = snprintf(req, cap, "GET /healthz HTTP/1.1\r\nHost: x\r\n%.20000s: 1\r\n\r\n", big);
	raw_src(s.port, NULL, req, (size_t)n, &r);
	assert_true(is_4xx_or_closed(r.status));
	raw(s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", &r);
	assert_true(r.status != 500);

	assert_serving(s.port);
	free(req);
	free(big);
	srv_stop(&s);
}

/* ---- bodies ------------------------------------------------------------------- */

static void test_bodies(void **state)
{
	static struct raw r;
	static const char *const heads[] = {
		/* a terabyte announced, nothing sent: answered at once */
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: 1000000000000\r\n\r\n",
		"POST /api/v1/kill-switch HTTP/1.1\r\nHost: x\r\n" AUTH
		"Content-Length: 1000000000000\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n",
		/* no token: still 413 (the body is refused before auth) */
		"POST /api/v1/reset HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n",
		/* chunked, the first chunk sent */
		"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" AUTH
		"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
		"POST /api/v1/strategies/fast/pause HTTP/1.1\r\nHost: x\r\n" AUTH
		"Transfer-Encoding: chunked\r\n\r\n10000000\r\n",
	};
	static const char *const bad_length[] = {
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH
		"Content-Length: 99999999999999999999999999\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: -1\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: 12abc\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH
		"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH
		"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH
		"Transfer-Encoding: gzip, chunked\r\n\r\nzz\r\n",
	};
	struct srv s;

	(void)state;
	srv_start(&s);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		raw(s.port, heads[i], &r);
		if (r.status != 413)
			fail_msg("request %zu: %d, not 413: %.200s", i, r.status, r.text);
		assert_null(strstr(r.text, TOKEN));
	}
	for (size_t i = 0; i < sizeof(bad_length) / sizeof(bad_length[0]); i++) {
		raw(s.port, bad_length[i], &r);
		if (!is_4xx_or_closed(r.status))
			fail_msg("request %zu: %d: %.200s", i, r.status, r.text);
	}
	/* A real 1 MiB body on a GET: 413, and the connection is closed
	 * (the rest is not read). */
	{
		size_t n = 1 << 20;
		char *req = malloc(n + 256), *body = repeat('b', n);
		int k = snprintf(req, n + 256,
				 "GET /metrics HTTP/1.1\r\nHost: x\r\n" AUTH "Content-Length: %zu\r\n\r\n%s",
				 n, body);
		raw_src(s.port, NULL, req, (size_t)k, &r);
		assert_true(r.status == 413 || r.status == 0);
		free(req);
		free(body);
	}
	assert_serving(s.port);
	srv_stop(&s);
}

/* ---- methods and garbage -------------------------------------------------------- */

static void test_methods_and_garbage(void **state)
{
	static struct raw r;
	static const char *const paths[] = { "/healthz", "/api/v1/status", "/metrics", "/nope",
					     "/api/v1/kill-switch", "/api/v1/strategies/fast/pause" };
	static const char *const methods[] = { "PUT", "PATCH", "TRACE", "OPTIONS", "CONNECT",
					       "FOO", "get", "PROPFIND", "G\x01T" };
	static const char *const garbage[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS hello to plain HTTP */
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET /healthz\r\n\r\n",                          /* HTTP/0.9 */
		"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
		"GET /healthz HTTP/1.1\r\n\r\n",                 /* no Host */
		"GET  HTTP/1.1\r\nHost: x\r\n\r\n",
		" / HTTP/1.1\r\n\r\n",
		"\r\n\r\n\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
		"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	struct srv s;
	char req[512];

	(void)state;
	srv_start(&s);
	for (size_t p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n" AUTH
				 "Connection: close\r\n\r\n", methods[m], paths[p]);
			raw(s.port, req, &r);
			/* 405 (a known path), 404, 400 or 501 from libmicrohttpd; never
			 * served, never a control applied (there are none here: 503 would
			 * be reached only by POST/DELETE). */
			if (!(r.status == 0 || r.status == 400 || r.status == 404 ||
			      r.status == 405 || r.status == 501))
				fail_msg("%s %s: %d", methods[m], paths[p], r.status);
		}
	}
	for (size_t g = 0; g < sizeof(garbage) / sizeof(garbage[0]); g++) {
		raw(s.port, garbage[g], &r);
		assert_true(r.status != 500);
		assert_null(strstr(r.text, TOKEN));
	}
	assert_serving(s.port);
	srv_stop(&s);
}

/* ---- paths and traversal ---------------------------------------------------------- */

/* Raw request targets: unknown paths and every spelling of a way out of
 * a static directory. All are 404 with the token (the lookup is by exact
 * name; the dashboard's files are looked up by name too), and none is
 * ever a file's content. */
static const char *const traversal[] = {
	"/static/../../etc/passwd",
	"/static/../../../../../../../../etc/passwd",
	"/../../etc/passwd",
	"/%2e%2e/%2e%2e/etc/passwd",
	"/static/%2e%2e/%2e%2e/etc/passwd",
	"/static/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
	"/static/..%2f..%2fetc%2fpasswd",
	"/static/..%252f..%252fetc%252fpasswd",
	"/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
	"/static/....//....//etc/passwd",
	"//etc/passwd",
	"/static//etc/passwd",
	"/static/..\\..\\etc\\passwd",
	"/static/%2e%2e%5c%2e%2e%5cetc%5cpasswd",
	"/static\\..\\..\\etc\\passwd",
	"/static/../Makefile",
	"/static/%2e%2e/Makefile",
	"/static/../src/api/api.c",
	"/static/../test/data/tls/key.pem",
	"/static/%2e%2e/test/data/tls/key.pem",
	"/static/./../Makefile",
	"/static/",
	"/static/.",
	"/static/..",
	"/static/%00",
	"/static/index.html%00.js",
	"/static/app.js/../../Makefile",
	"/api/v1/../../etc/passwd",
	"/api/v1/status/../../../etc/passwd",
	"/healthz/../Makefile",
	"/./Makefile",
	"/Makefile",
	"/etc/passwd",
	"/proc/self/environ",
	"/api/v1/status/",
	"/api/v1/statusx",
	"/API/V1/STATUS",
	"/metrics/",
	"/api/v2/status",
	"http://127.0.0.1/../../etc/passwd",
	"/%",
	"/%zz",
	"/\x7f",
	"/\xff\xfe",
	"*",
};

/* What no answer may contain: the start of /etc/passwd, of the Makefile,
 * of api.c, of the test key, of our environment; and the token. */
static void assert_no_file_content(const char *target, const struct raw *r)
{
	static const char *const needles[] = { "root:", "VARIANT ?=", "ig_api_token_equal",
					       "PRIVATE KEY", "IG_TEST_API_TOKEN", TOKEN };
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		if (strstr(r->text, needles[i]) != NULL)
			fail_msg("%s: the answer holds \"%s\": %.300s", target, needles[i], r->text);
}

static void test_paths_and_traversal(void **state)
{
	static struct raw r;
	struct srv s;
	char req[1024];

	(void)state;
	srv_start(&s);
	for (size_t i = 0; i < sizeof(traversal) / sizeof(traversal[0]); i++) {
		/* With the token: 404 (400 from libmicrohttpd for a target it
		 * cannot parse). */
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n" AUTH
			 "Connection: close\r\n\r\n", traversal[i]);
		raw(s.port, req, &r);
		if (r.status != 404 && r.status != 400)
			fail_msg("GET %s with the token: %d, not 404", traversal[i], r.status);
		assert_no_file_content(traversal[i], &r);
		/* Without, from another address: 401 or 404 (429 once that
		 * address is blocked), never 200. */
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			 traversal[i]);
		raw_src(s.port, "127.0.0.4", req, strlen(req), &r);
		if (r.status != 401 && r.status != 404 && r.status != 400 && r.status != 429)
			fail_msg("GET %s without a token: %d", traversal[i], r.status);
		assert_no_file_content(traversal[i], &r);
		/* HEAD too. */
		snprintf(req, sizeof(req), "HEAD %s HTTP/1.1\r\nHost: x\r\n" AUTH
			 "Connection: close\r\n\r\n", traversal[i]);
		raw(s.port, req, &r);
		if (r.status != 404 && r.status != 400)
			fail_msg("HEAD %s: %d: %.200s", traversal[i], r.status, r.text);
	}
	assert_serving(s.port);
	srv_stop(&s);
}

/* ---- failed authentication ---------------------------------------------------------- */

static void test_auth_flood(void **state)
{
	static struct raw r;
	static const char *const wrong[] = {
		"Authorization: Bearer tok-hostile-5e2a9\r\n",   /* a prefix */
		"Authorization: Bearer " TOKEN "0\r\n",          /* longer */
		"Authorization: Bearer TOK-HOSTILE-5E2A91\r\n",  /* case */
		"Authorization: bearer " TOKEN "\r\n",           /* the scheme's case */
		"Authorization: Basic " TOKEN "\r\n",
		"Authorization: " TOKEN "\r\n",
		"Authorization: Bearer  " TOKEN "\r\n",          /* two spaces */
		"Authorization: Bearer <script>alert(1)</script>\r\n",
		"",
	};
	struct srv s;
	char req[512];
	int n401 = 0, n429 = 0;

	(void)state;
	srv_start(&s);
	for (int i = 0; i < 60; i++) {
		const char *w = wrong[(size_t)i % (sizeof(wrong) / sizeof(wrong[0]))];
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n",
			 i % 2 ? "/metrics" : "/api/v1/status", w);
		raw(s.port, req, &r);
		if (r.status == 401)
			n401++;
		else if (r.status == 429)
			n429++;
		else
			fail_msg("wrong token %d: %d", i, r.status);
		/* Neither the token nor what was presented comes back. */
		assert_null(strstr(r.text, TOKEN));
		assert_null(strstr(r.text, "tok-hostile"));
		assert_null(strstr(r.text, "<script>"));
	}
	assert_int_equal(n401, IG_API_FAIL_MAX);
	assert_int_equal(n429, 60 - IG_API_FAIL_MAX);
	/* Blocked: the right token too, on every endpoint but /healthz. */
	raw(s.port, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" AUTH "Connection: close\r\n\r\n",
	    &r);
	assert_int_equal(r.status, 429);
	assert_non_null(strstr(r.text, "retry_after_s"));
	assert_null(strstr(r.text, TOKEN));
	raw(s.port, "POST /api/v1/kill-switch HTTP/1.1\r\nHost: x\r\n" AUTH
	    "Content-Length: 0\r\nConnection: close\r\n\r\n", &r);
	assert_int_equal(r.status, 429);
	assert_int_equal(get_status(s.port, NULL, "/healthz"), 200);
	/* Another address is not blocked. */
	assert_serving(s.port);
	srv_stop(&s);
}

/* ---- idle connections ---------------------------------------------------------------- */

#define IDLE_N 1000

/* Raises the soft open-file limit to at least want (within the hard
 * limit). Returns the limit now. */
static rlim_t raise_nofile(rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur;
}

/* True once the server has closed fd (EOF or reset); waits up to ms. */
static bool closed_by_server(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char b;

	if (poll(&p, 1, ms) <= 0)
		return false;
	return recv(fd, &b, 1, MSG_DONTWAIT) <= 0;
}

static void test_thousand_idle_connections(void **state)
{
	static int fds[IDLE_N];
	struct srv s;
	int opened = 0, dropped = 0, back = 0;

	(void)state;
	if (raise_nofile(IDLE_N + 256) < IDLE_N + 64)
		skip();
	srv_start(&s);
	for (int i = 0; i < IDLE_N; i++) {
		fds[i] = raw_connect(s.port, NULL);
		opened += fds[i] >= 0;
	}
	assert_true(opened > IDLE_N / 2);
	/* The server holds IG_API_CONN_PER_IP of them and closes the rest. */
	for (int i = 0; i < IDLE_N; i++)
		if (fds[i] >= 0 && closed_by_server(fds[i], 0))
			dropped++;
	/* While they are held, another address is served, and sees new
	 * snapshots (the API thread is not stuck). */
	srv_publish(&s, 8);
	print_message("idle: %d opened, %d closed at once by the server\n", opened, dropped);
	assert_serving(s.port);
	{
		static struct raw r;
		raw_src(s.port, "127.0.0.2", "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" AUTH
			"Connection: close\r\n\r\n", strlen("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n"
			AUTH "Connection: close\r\n\r\n"), &r);
		assert_int_equal(r.status, 200);
		assert_non_null(strstr(r.text, "\"orders\":8"));
	}
	/* After the idle ones time out, 127.0.0.1 is served again (they are
	 * still open on our side). Bounded wait: 30 s. */
	for (int i = 0; i < 300 && !back; i++) {
		back = get_status(s.port, NULL, "/api/v1/status") == 200;
		if (!back)
			sleep_ms(100);
	}
	assert_true(back);
	print_message("idle: %d opened, %d closed at once by the server\n", opened, dropped);
	for (int i = 0; i < IDLE_N; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	assert_serving(s.port);
	srv_stop(&s);
}

/* A connection that has not sent a whole request is closed sooner
 * (IG_API_HEADER_TIMEOUT_S) than one that has (IG_API_CONN_TIMEOUT_S,
 * keep-alive): an idle or half-sent request holds a slot of its address
 * for a short time only. Ordered, not timed: the keep-alive connection
 * goes idle first, yet outlives both of the others. */
static void test_incomplete_request_times_out_first(void **state)
{
	static struct raw r;
	struct srv s;
	int keep, idle, half;
	const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	bool idle_closed = false;

	(void)state;
	srv_start(&s);
	keep = raw_connect(s.port, NULL);
	assert_true(keep >= 0);
	assert_int_equal(send(keep, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	memset(&r, 0, sizeof(r));
	raw_read(keep, &r);
	assert_int_equal(r.status, 200);
	idle = raw_connect(s.port, NULL);
	half = raw_connect(s.port, NULL);
	assert_true(idle >= 0 && half >= 0);
	assert_true(send(half, "GET /healthz HTTP/1.1\r\nHost:", 28, MSG_NOSIGNAL) == 28);
	/* Bounded: 30 s. */
	for (int i = 0; i < 300 && !idle_closed; i++)
		idle_closed = closed_by_server(idle, 100);
	assert_true(idle_closed);
	assert_true(closed_by_server(half, 5000));
	/* The keep-alive one is still open, and still served. */
	assert_false(closed_by_server(keep, 0));
	memset(&r, 0, sizeof(r));
	assert_int_equal(send(keep, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	raw_read(keep, &r);
	assert_int_equal(r.status, 200);
	close(keep);
	close(idle);
	close(half);
	srv_stop(&s);
}

/* ---- HTTPS ----------------------------------------------------------------------------- */

#define CERT "test/data/tls/cert.pem"
#define KEY "test/data/tls/key.pem"

struct body {
	char text[8192];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n, room = sizeof(b->text) - 1 - b->len;
	memcpy(b->text + b->len, p, k < room ? k : room);
	b->len += k < room ? k : room;
	b->text[b->len] = '\0';
	return k;
}

/* GET url (the token if auth), verifying the peer against cafile (NULL:
 * the system's store). Returns curl's code, the status in *status. */
static CURLcode fetch(const char *url, const char *cafile, bool auth, long *status,
		      struct body *b)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	CURLcode rc;

	memset(b, 0, sizeof(*b));
	*status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cafile != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cafile);
	if (auth) {
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

static void test_https(void **state)
{
	struct srv s;
	struct body b;
	char url[128];
	long status;
	json_t *doc;

	(void)state;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		skip();
	srv_start_tls(&s, "127.0.0.1:0", CERT, KEY);

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", s.port);
	assert_int_equal(fetch(url, CERT, false, &status, &b), CURLE_OK);
	assert_int_equal(status, 200);
	assert_string_equal(b.text, "{\"ok\":true}");
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/api/v1/status", s.port);
	assert_int_equal(fetch(url, CERT, true, &status, &b), CURLE_OK);
	assert_int_equal(status, 200);
	doc = json_loads(b.text, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "orders")), 7);
	json_decref(doc);
	assert_int_equal(fetch(url, CERT, false, &status, &b), CURLE_OK);
	assert_int_equal(status, 401);

	/* The certificate is checked: without it as the trust anchor the
	 * handshake fails. */
	assert_int_not_equal(fetch(url, NULL, true, &status, &b), CURLE_OK);
	assert_int_equal(status, 0);
	/* Plain HTTP to the TLS port gets no answer (libcurl or raw). */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", s.port);
	fetch(url, NULL, false, &status, &b);
	assert_int_not_equal(status, 200);
	{
		static struct raw r;
		raw(s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r);
		assert_int_equal(r.status, 0);
		assert_null(strstr(r.text, "\"ok\""));
	}
	/* And HTTPS still works after it. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/healthz", s.port);
	assert_int_equal(fetch(url, CERT, false, &status, &b), CURLE_OK);
	assert_int_equal(status, 200);
	srv_stop(&s);
}

/* A non-loopback address without TLS is refused by ig_api_start itself
 * (check-config refuses it first; this is the last line), naming the way
 * out; with allow_plain_remote it is not refused for that reason. Nothing
 * is bound. */
static void test_plain_remote_refused(void **state)
{
	struct ig_cfg_api cfg;
	struct ig_snap_pub *pub = ig_snap_pub_create();
	struct ig_api *api = NULL;
	char err[256] = "";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "0.0.0.0:0");
	snprintf(cfg.token_env, sizeof(cfg.token_env), "IG_TEST_API_TOKEN");
	cfg.publish_ms = 100;
	setenv("IG_TEST_API_TOKEN", TOKEN, 1);
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &srv_info, NULL, err, sizeof(err)),
			 IG_ECONFIG);
	assert_null(api);
	assert_non_null(strstr(err, "allow_plain_remote"));
	assert_non_null(strstr(err, "tls_cert"));
	assert_null(strstr(err, TOKEN));
	/* IPv6 too. */
	snprintf(cfg.listen, sizeof(cfg.listen), "[::]:0");
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &srv_info, NULL, err, sizeof(err)),
			 IG_ECONFIG);
	assert_non_null(strstr(err, "allow_plain_remote"));
	ig_snap_pub_destroy(pub);
	unsetenv("IG_TEST_API_TOKEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oversized_request_line_and_headers),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_methods_and_garbage),
		cmocka_unit_test(test_paths_and_traversal),
		cmocka_unit_test(test_auth_flood),
		cmocka_unit_test(test_incomplete_request_times_out_first),
		cmocka_unit_test(test_thousand_idle_connections),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_plain_remote_refused),
	};
	int rc;

	ig_log_set_level(IG_LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
