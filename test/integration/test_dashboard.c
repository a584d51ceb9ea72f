/*
 * test_dashboard.c - the web dashboard in a real browser: the daemon
 * (`ingenium run`, paper, the bundled data paced slowly, api.listen on
 * 127.0.0.1 and a free port, the token in the environment) and Debian's
 * chromium, headless, driven through the DevTools protocol over a pipe
 * (--remote-debugging-pipe: the browser reads commands on its fd 3 and
 * writes answers and events on fd 4, each a JSON text ended by a NUL).
 * No websocket, no npm.
 *
 * Checked: the page at /?token=TOKEN renders live data (the overview's
 * strategy rows carry the names of /api/v1/status and a non-zero order
 * count no greater than the API's afterwards), the token is gone from the
 * address bar and kept in sessionStorage, the controls page engages the
 * kill switch through the in-page confirmation (verified with libcurl on
 * /api/v1/status and in the page's header) and clears it again, and no
 * console error, uncaught exception or error log entry appears during the
 * whole test. The one error entry tolerated is the browser's own "failed
 * to load resource: 404" for an endpoint this daemon really answers 404
 * (probed with libcurl first: endpoints of issue 13 built elsewhere), so
 * the page's polite degradation is what is tested there.
 *
 * The History page (#history) over a finished run's store: its pnl table
 * equals /api/v1/history/pnl, the fills tab holds the run's fills, the
 * strategy filter and the date range narrow them (test_dashboard_history).
 *
 * Also the static files' headers and path handling over plain HTTP.
 * Every wait is bounded; chromium and the daemon are killed in teardown.
 */
#include "itest.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN "it-dash-token-4b7e"

/* ------------------------------------------------------------- HTTP */

struct reply {
	long status;
	char body[1 << 16];
	size_t len;
	char headers[8192];
	size_t hlen;
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

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t k = size * n, room = sizeof(r->headers) - 1 - r->hlen;
	memcpy(r->headers + r->hlen, p, k < room ? k : room);
	r->hlen += k < room ? k : room;
	r->headers[r->hlen] = '\0';
	return k;
}

/* GET 127.0.0.1:port/path (sent as is), with the token if auth. Returns
 * curl's code; status, body and headers in r. */
static CURLcode http_get(uint16_t port, const char *path, bool auth, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (auth) {
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

/* The /api/v1/status document (new reference), or NULL if not 200. */
static json_t *status_doc(uint16_t port)
{
	static struct reply r;
	if (http_get(port, "/api/v1/status", true, &r) != CURLE_OK || r.status != 200)
		return NULL;
	return json_loads(r.body, 0, NULL);
}

/* Starts the daemon on port (trading for over a minute: the bundled
 * minute quotes at 100 rows/s) and waits up to 30 s for its first
 * snapshot. */
static void start_daemon(uint16_t port, const char *tag)
{
	char out[300], setl[80];
	json_t *doc = NULL;

	snprintf(out, sizeof(out), "%s/%s-run.out", it_tmpdir, tag);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=100", NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 1500 && (doc = status_doc(port)) == NULL; i++)
		it_msleep(20);
	assert_non_null(doc);
	json_decref(doc);
}

/* ----------------------------------------------- DevTools over a pipe */

static pid_t cdp_pid = -1;      /* chromium */
static int cdp_wfd = -1;        /* ours -> its fd 3 */
static int cdp_rfd = -1;        /* its fd 4 -> ours */
static char *cdp_buf;           /* bytes read, not yet a whole message */
static size_t cdp_len, cdp_cap;
static int cdp_next_id = 1;
static char cdp_session[128];   /* the page's session (flatten) */
static json_t *cdp_errors;      /* every error the page showed (strings) */
static char cdp_tolerated[8][64];/* API paths that answer 404 here */
static int cdp_ntolerated;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records an error event (Runtime.exceptionThrown, consoleAPICalled of
 * type error, Log.entryAdded of level error) in cdp_errors. */
static void cdp_on_event(json_t *msg)
{
	const char *m = json_string_value(json_object_get(msg, "method"));
	json_t *p = json_object_get(msg, "params");
	char line[1024];

	if (m == NULL)
		return;
	if (strcmp(m, "Runtime.exceptionThrown") == 0) {
		json_t *d = json_object_get(p, "exceptionDetails");
		const char *desc = json_string_value(
			json_object_get(json_object_get(d, "exception"), "description"));
		snprintf(line, sizeof(line), "exception: %s %s",
			 json_string_value(json_object_get(d, "text")), desc ? desc : "");
	} else if (strcmp(m, "Runtime.consoleAPICalled") == 0) {
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *a0 = json_array_get(json_object_get(p, "args"), 0);
		if (type == NULL || (strcmp(type, "error") != 0 && strcmp(type, "assert") != 0))
			return;
		snprintf(line, sizeof(line), "console.%s: %s", type,
			 json_string_value(json_object_get(a0, "value")));
	} else if (strcmp(m, "Log.entryAdded") == 0) {
		json_t *e = json_object_get(p, "entry");
		const char *level = json_string_value(json_object_get(e, "level"));
		const char *src = json_string_value(json_object_get(e, "source"));
		const char *text = json_string_value(json_object_get(e, "text"));
		const char *url = json_string_value(json_object_get(e, "url"));
		if (level == NULL || strcmp(level, "error") != 0)
			return;
		if (src != NULL && strcmp(src, "network") == 0 && url != NULL && text != NULL &&
		    strstr(text, "404") != NULL) {
			const char *path = strstr(url, "127.0.0.1:");
			path = path != NULL ? strchr(path + 10, '/') : NULL;
			for (int i = 0; path != NULL && i < cdp_ntolerated; i++) {
				size_t n = strlen(cdp_tolerated[i]);
				if (strncmp(path, cdp_tolerated[i], n) == 0 &&
				    (path[n] == '\0' || path[n] == '?')) {
					printf("tolerated (not built on this daemon): %s\n", url);
					return;
				}
			}
		}
		snprintf(line, sizeof(line), "log %s/%s: %s (%s)", src ? src : "?", level,
			 text ? text : "", url ? url : "");
	} else {
		return;
	}
	printf("page error: %s\n", line);
	json_array_append_new(cdp_errors, json_string(line));
}

/* The next message from the browser within timeout_ms (new reference), or
 * NULL on timeout or a closed pipe. */
static json_t *cdp_read(int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		char *nul = cdp_len > 0 ? memchr(cdp_buf, '\0', cdp_len) : NULL;
		if (nul != NULL) {
			size_t n = (size_t)(nul - cdp_buf) + 1;
			json_t *msg = json_loads(cdp_buf, 0, NULL);
			memmove(cdp_buf, cdp_buf + n, cdp_len - n);
			cdp_len -= n;
			if (msg != NULL)
				return msg;
			continue;
		}
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return NULL;
		struct pollfd pfd = { cdp_rfd, POLLIN, 0 };
		int rc = poll(&pfd, 1, left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return NULL;
		if (cdp_cap - cdp_len < 65536) {
			cdp_cap = cdp_cap * 2 + 65536;
			cdp_buf = realloc(cdp_buf, cdp_cap);
			assert_non_null(cdp_buf);
		}
		ssize_t got = read(cdp_rfd, cdp_buf + cdp_len, cdp_cap - cdp_len);
		if (got <= 0)
			return NULL;
		cdp_len += (size_t)got;
	}
}

/* Sends method with params (stolen; NULL: none), to the page's session if
 * on_page. Returns the id. */
static int cdp_send(const char *method, json_t *params, bool on_page)
{
	json_t *msg = json_pack("{s:i, s:s}", "id", cdp_next_id, "method", method);
	char *text;
	size_t len, off = 0;

	json_object_set_new(msg, "params", params != NULL ? params : json_object());
	if (on_page)
		json_object_set_new(msg, "sessionId", json_string(cdp_session));
	text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	assert_non_null(text);
	len = strlen(text) + 1; /* with its NUL: the message separator */
	while (off < len) {
		ssize_t w = write(cdp_wfd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		off += (size_t)w;
	}
	free(text);
	return cdp_next_id++;
}

/* Calls method and waits up to 30 s for its answer; events that arrive
 * meanwhile are looked at (cdp_on_event). Returns the result (new
 * reference); on an error answer fails the test if must, else returns
 * NULL (a page between two documents). Fails on no answer. */
static json_t *cdp_call_opt(const char *method, json_t *params, bool on_page, bool must)
{
	int id = cdp_send(method, params, on_page);
	int64_t deadline = now_ms() + 30000;

	while (now_ms() < deadline) {
		json_t *msg = cdp_read((int)(deadline - now_ms()));
		if (msg == NULL)
			break;
		if (json_integer_value(json_object_get(msg, "id")) == id) {
			json_t *res = json_incref(json_object_get(msg, "result"));
			json_t *err = json_object_get(msg, "error");
			if (err != NULL && !must) {
				json_decref(msg);
				json_decref(res);
				return NULL;
			}
			if (err != NULL) {
				char *t = json_dumps(err, JSON_COMPACT);
				json_decref(msg);
				json_decref(res);
				fail_msg("%s: %s", method, t);
			}
			json_decref(msg);
			return res != NULL ? res : json_object();
		}
		cdp_on_event(msg);
		json_decref(msg);
	}
	fail_msg("%s: no answer from chromium within 30 s", method);
	return NULL;
}

/* cdp_call that fails the test on an error answer. */
static json_t *cdp_call(const char *method, json_t *params, bool on_page)
{
	return cdp_call_opt(method, params, on_page, true);
}

/* Reads and looks at events for ms. */
static void cdp_pump(int ms)
{
	int64_t deadline = now_ms() + ms;
	json_t *msg;

	while (now_ms() < deadline && (msg = cdp_read((int)(deadline - now_ms()))) != NULL) {
		cdp_on_event(msg);
		json_decref(msg);
	}
}

/* Evaluates expr in the page (promises awaited). Returns its value (new
 * reference; JSON null for undefined); fails on an exception, or, if
 * must, on a protocol error (else NULL: the page is navigating). */
static json_t *cdp_eval_opt(const char *expr, bool must)
{
	json_t *res = cdp_call_opt("Runtime.evaluate",
				   json_pack("{s:s, s:b, s:b}", "expression", expr, "returnByValue",
					     1, "awaitPromise", 1),
				   true, must);
	json_t *v;

	if (res == NULL)
		return NULL;
	if (json_object_get(res, "exceptionDetails") != NULL) {
		char *t = json_dumps(json_object_get(res, "exceptionDetails"), JSON_COMPACT);
		json_decref(res);
		fail_msg("evaluate %s: %s", expr, t);
	}
	v = json_object_get(json_object_get(res, "result"), "value");
	v = v != NULL ? json_incref(v) : json_null();
	json_decref(res);
	return v;
}

static json_t *cdp_eval(const char *expr)
{
	return cdp_eval_opt(expr, true);
}

/* Polls expr (a boolean expression) every 100 ms for up to ms, events
 * looked at in between. Returns whether it became true. */
static bool cdp_wait_true(const char *expr, int ms)
{
	int64_t deadline = now_ms() + ms;

	do {
		json_t *v = cdp_eval_opt(expr, false);
		bool ok = v != NULL && json_is_true(v);
		json_decref(v);
		if (ok)
			return true;
		cdp_pump(100);
	} while (now_ms() < deadline);
	return false;
}

/* Waits (up to 20 s) for expr after the history page's action js (a tab
 * click, a filter change); if the page instead shows a message (its
 * request answered 503: the query's 2 s bound passed on a loaded
 * machine), prints it and does the action once more. Returns whether expr
 * came true. */
static bool hist_wait(const char *action_js, const char *expr)
{
	json_t *msg;
	bool ok;

	json_decref(cdp_eval(action_js));
	if (cdp_wait_true(expr, 20000))
		return true;
	msg = cdp_eval_opt("document.getElementById('hist-table').getAttribute('data-kind') + ', ' +"
			   " document.querySelectorAll('#hist-table tbody tr').length + ' rows, info: ' +"
			   " document.getElementById('hist-info').textContent",
			   false);
	printf("history page: not as expected: %s\n",
	       json_is_string(msg) ? json_string_value(msg) : "(no answer)");
	json_decref(msg);
	msg = cdp_eval_opt("document.getElementById('hist-msg').textContent", false);
	printf("history page: its message: %s\n",
	       json_is_string(msg) ? json_string_value(msg) : "(none)");
	ok = json_is_string(msg) && strstr(json_string_value(msg), "(503)") != NULL;
	json_decref(msg);
	if (!ok)
		return false;
	json_decref(cdp_eval(action_js));
	return cdp_wait_true(expr, 20000);
}

/* Returns whether path answered 404 here (an endpoint not built yet). */
static bool tolerated(const char *path)
{
	for (int i = 0; i < cdp_ntolerated; i++)
		if (strcmp(cdp_tolerated[i], path) == 0)
			return true;
	return false;
}

/* The browser to use: $IG_CHROMIUM, else Debian's /usr/bin/chromium. */
static const char *chromium_path(void)
{
	const char *p = getenv("IG_CHROMIUM");
	return p != NULL && p[0] != '\0' ? p : "/usr/bin/chromium";
}

/* Starts chromium headless with the DevTools pipe and a fresh profile under
 * it_tmpdir; its output goes to it_tmpdir/chromium.out. */
static void cdp_start(void)
{
	char profile[300], out[300], udd[340];
	const char *bin = chromium_path();
	int to[2], from[2];

	if (access(bin, X_OK) != 0)
		fail_msg("chromium is missing (%s): the browser test needs Debian's chromium; "
			 "run scripts/install-deps.sh (make test does) or set IG_CHROMIUM",
			 bin);
	snprintf(profile, sizeof(profile), "%s/chromium-profile", it_tmpdir);
	snprintf(udd, sizeof(udd), "--user-data-dir=%s", profile);
	snprintf(out, sizeof(out), "%s/chromium.out", it_tmpdir);
	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);
	fflush(stdout);
	cdp_pid = fork();
	assert_true(cdp_pid >= 0);
	if (cdp_pid == 0) {
		/* Only root needs --no-sandbox (chromium refuses to start as
		 * root with its sandbox); any other user keeps it. */
		const char *argv[] = { bin, "--headless", "--remote-debugging-pipe", udd,
				       "--disable-gpu", "--no-first-run", "--no-default-browser-check",
				       "--disable-extensions", "--disable-background-networking",
				       "--disable-component-update", "--disable-sync",
				       "--disable-default-apps", "--mute-audio",
				       "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
				       "--proxy-server=http://127.0.0.1:9",
				       "--proxy-bypass-list=127.0.0.1",
				       geteuid() == 0 ? "--no-sandbox" : "--disable-dev-shm-usage",
				       "about:blank", NULL };
		int r = fcntl(to[0], F_DUPFD, 10), w = fcntl(from[1], F_DUPFD, 10);
		FILE *f = freopen(out, "w", stdout);
		if (r < 0 || w < 0 || f == NULL || dup2(fileno(stdout), 2) < 0 || dup2(r, 3) < 0 ||
		    dup2(w, 4) < 0)
			_exit(127);
		for (int fd = 5; fd < 1024; fd++)
			close(fd);
		close(0);
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	cdp_wfd = to[1];
	cdp_rfd = from[0];
	fcntl(cdp_wfd, F_SETFD, FD_CLOEXEC);
	fcntl(cdp_rfd, F_SETFD, FD_CLOEXEC);
	signal(SIGPIPE, SIG_IGN); /* a dead browser: write fails, the test fails */
	cdp_errors = json_array();
}

/* Kills chromium (its whole process group is its children: the wrapper
 * script execs the browser, which forks helpers that exit with it) and
 * closes the pipe. */
static void cdp_stop(void)
{
	if (cdp_wfd >= 0) {
		/* Ask politely first: Browser.close, then SIGTERM, then SIGKILL. */
		const char msg[] = "{\"id\":999999,\"method\":\"Browser.close\"}";
		if (write(cdp_wfd, msg, sizeof(msg)) < 0) {
			/* already gone */
		}
		close(cdp_wfd);
		cdp_wfd = -1;
	}
	if (cdp_pid > 0) {
		int st;
		for (int i = 0; i < 100 && waitpid(cdp_pid, &st, WNOHANG) == 0; i++)
			it_msleep(50);
		if (waitpid(cdp_pid, &st, WNOHANG) == 0) {
			kill(cdp_pid, SIGKILL);
			waitpid(cdp_pid, &st, 0);
		}
		cdp_pid = -1;
	}
	if (cdp_rfd >= 0) {
		close(cdp_rfd);
		cdp_rfd = -1;
	}
	free(cdp_buf);
	cdp_buf = NULL;
	cdp_len = cdp_cap = 0;
	json_decref(cdp_errors);
	cdp_errors = NULL;
}

/* Starts chromium, opens a blank page and attaches to it (cdp_session),
 * with the runtime, the log and page events on (the error collector). */
static void cdp_open(void)
{
	json_t *res;

	cdp_start();
	res = cdp_call("Target.createTarget", json_pack("{s:s}", "url", "about:blank"), false);
	{
		const char *tid = json_string_value(json_object_get(res, "targetId"));
		json_t *att;
		assert_non_null(tid);
		att = cdp_call("Target.attachToTarget",
			       json_pack("{s:s, s:b}", "targetId", tid, "flatten", 1), false);
		snprintf(cdp_session, sizeof(cdp_session), "%s",
			 json_string_value(json_object_get(att, "sessionId")));
		json_decref(att);
	}
	json_decref(res);
	assert_true(cdp_session[0] != '\0');
	json_decref(cdp_call("Runtime.enable", NULL, true));
	json_decref(cdp_call("Log.enable", NULL, true));
	json_decref(cdp_call("Page.enable", NULL, true));
}

static int dash_teardown(void **state)
{
	cdp_stop();
	return it_teardown(state);
}

/* ------------------------------------------------------------- tests */

/* The static files over plain HTTP: served without a token, with the
 * security headers; only exact names; the data still needs the token. */
static void test_dashboard_static(void **state)
{
	static struct reply r;
	uint16_t port = it_free_port();
	static const char *const bad[] = {
		"/static/", "/static/nope.js", "/static/../static/app.js", "/static/./app.js",
		"/static//app.js", "/static/%2e%2e/static/app.js", "/static/..%2fapp.js",
		"/static/..\\app.js", "/static/%5c..%5capp.js", "/static/APP.JS", "/static/app.js/",
		"/static/app.js.bak", "/static/static/app.js",
	};

	(void)state;
	start_daemon(port, "static");
	assert_int_equal(http_get(port, "/", false, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "<!doctype html>"));
	assert_non_null(strstr(r.headers, "Content-Type: text/html; charset=utf-8"));
	assert_non_null(strstr(r.headers, "Content-Security-Policy: default-src 'self'"));
	assert_non_null(strstr(r.headers, "X-Content-Type-Options: nosniff"));
	assert_non_null(strstr(r.headers, "Cache-Control: no-store"));
	assert_null(strstr(r.body, "<script>")); /* no inline script: the CSP forbids it */
	assert_int_equal(http_get(port, "/?token=x", false, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(http_get(port, "/static/app.js", false, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: text/javascript"));
	assert_non_null(strstr(r.headers, "X-Content-Type-Options: nosniff"));
	assert_non_null(strstr(r.body, "Authorization"));
	assert_int_equal(http_get(port, "/static/app.css", false, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Content-Type: text/css"));
	assert_int_equal(http_get(port, "/static/favicon.svg", false, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(http_get(port, bad[i], false, &r), CURLE_OK);
		if (r.status != 404)
			fail_msg("%s: %ld, want 404", bad[i], r.status);
		assert_null(strstr(r.body, "Authorization"));
	}
	/* The data is not static: still 401 without the token. */
	assert_int_equal(http_get(port, "/api/v1/status", false, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(http_get(port, "/index.html", false, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
}

/* The page in chromium: live data, the token out of the address bar, the
 * kill switch through the controls page, no console error. */
static void test_dashboard_browser(void **state)
{
	static struct reply r;
	static const char *const optional[] = { "/api/v1/orders", "/api/v1/fills",
						"/api/v1/events", "/api/v1/risk" };
	uint16_t port = it_free_port();
	char url[160], *t;
	json_t *res, *rows, *doc;
	size_t i;
	json_t *row;
	bool live = false, seen = false;

	(void)state;
	if (access(chromium_path(), X_OK) != 0)
		fail_msg("chromium is missing (%s): the browser test needs Debian's chromium; "
			 "run scripts/install-deps.sh (make test does) or set IG_CHROMIUM",
			 chromium_path());
	start_daemon(port, "browser");
	/* Endpoints of issue 13 this daemon does not have yet: the browser's
	 * own 404 line for them is expected (the page shows a message). */
	cdp_ntolerated = 0;
	for (i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
		char p[64];
		snprintf(p, sizeof(p), "%s%s", optional[i],
			 strcmp(optional[i], "/api/v1/fills") == 0 ? "?limit=1" : "");
		if (strcmp(optional[i], "/api/v1/events") == 0)
			continue; /* a stream: probed by the page only */
		assert_int_equal(http_get(port, p, true, &r), CURLE_OK);
		if (r.status == 404) {
			snprintf(cdp_tolerated[cdp_ntolerated++], sizeof(cdp_tolerated[0]), "%s",
				 optional[i]);
			printf("note: %s answers 404 on this daemon\n", optional[i]);
		}
	}
	/* /events is tolerated only if /orders is missing too (built together). */
	if (cdp_ntolerated > 0 && strcmp(cdp_tolerated[0], "/api/v1/orders") == 0)
		snprintf(cdp_tolerated[cdp_ntolerated++], sizeof(cdp_tolerated[0]), "/api/v1/events");

	cdp_open();
	/* The collector sees errors: a console.error and an uncaught
	 * exception on the blank page are both caught, then forgotten. */
	json_decref(cdp_eval("console.error('ig-probe'); "
			     "setTimeout(function () { throw new Error('ig-probe'); }, 0); 1"));
	for (int k = 0; k < 100 && json_array_size(cdp_errors) < 2; k++)
		cdp_pump(50);
	assert_int_equal(json_array_size(cdp_errors), 2);
	json_array_clear(cdp_errors);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/?token=%s", port, TOKEN);
	res = cdp_call("Page.navigate", json_pack("{s:s}", "url", url), true);
	assert_null(json_object_get(res, "errorText"));
	json_decref(res);

	/* The app shows up (up to 30 s) with the token taken from the URL. */
	assert_true(cdp_wait_true("document.readyState === 'complete' && "
				  "!!document.getElementById('app') && "
				  "!document.getElementById('app').hidden",
				  30000));
	res = cdp_eval("location.href");
	assert_true(json_is_string(res));
	printf("address bar: %s\n", json_string_value(res));
	assert_null(strstr(json_string_value(res), TOKEN));
	assert_null(strstr(json_string_value(res), "token="));
	json_decref(res);
	res = cdp_eval("sessionStorage.getItem('ingenium.token')");
	assert_string_equal(json_string_value(res), TOKEN);
	json_decref(res);

	/* Live data: the strategy rows, with orders, within 60 s. */
	for (int k = 0; k < 600 && !live; k++) {
		rows = cdp_eval("Array.from(document.querySelectorAll('#ov-table tbody tr'))"
				".map(function (tr) { return {name: tr.getAttribute('data-name'), "
				"orders: Number(tr.querySelector('[data-col=orders]').textContent), "
				"equity: tr.querySelector('[data-col=equity]').textContent}; })");
		json_array_foreach(rows, i, row)
			if (json_integer_value(json_object_get(row, "orders")) > 0 ||
			    json_real_value(json_object_get(row, "orders")) > 0)
				live = true;
		if (live) {
			doc = status_doc(port); /* taken after: counts only grow */
			assert_non_null(doc);
			assert_int_equal(json_array_size(rows),
					 json_array_size(json_object_get(doc, "strategies")));
			json_array_foreach(rows, i, row) {
				json_t *s = json_array_get(json_object_get(doc, "strategies"), i);
				json_t *o = json_object_get(row, "orders");
				double page = json_is_integer(o) ? (double)json_integer_value(o)
								 : json_real_value(o);
				assert_string_equal(json_string_value(json_object_get(row, "name")),
						    json_string_value(json_object_get(s, "name")));
				assert_true(page <= (double)json_integer_value(json_object_get(s, "orders")));
				assert_true(json_string_length(json_object_get(row, "equity")) > 0);
				printf("page: %s orders=%.0f equity=%s (api now: %lld)\n",
				       json_string_value(json_object_get(row, "name")), page,
				       json_string_value(json_object_get(row, "equity")),
				       (long long)json_integer_value(json_object_get(s, "orders")));
			}
			json_decref(doc);
		}
		json_decref(rows);
		if (!live)
			cdp_pump(100);
	}
	assert_true(live);
	/* The chart has points and the header shows the state. */
	assert_true(cdp_wait_true("document.querySelectorAll('#ov-charts canvas').length > 0 && "
				  "document.getElementById('hdr-kill').getAttribute('data-engaged') "
				  "=== 'false'",
				  10000));

	/* The other pages render (or say politely what is missing). */
	json_decref(cdp_eval("document.querySelector('.tab[data-page=orders]').click()"));
	assert_true(cdp_wait_true("!document.getElementById('page-orders').hidden && "
				  "document.getElementById('events-status').textContent.length > 0",
				  10000));
	if (!tolerated("/api/v1/orders")) /* built: the lists fill (orders were sent) */
		assert_true(cdp_wait_true("document.querySelectorAll('#open-orders tbody tr, "
					  "#recent-orders tbody tr').length > 0 && "
					  "document.querySelectorAll('#fills tbody tr').length > 0",
					  20000));
	json_decref(cdp_eval("document.querySelector('.tab[data-page=risk]').click()"));
	assert_true(cdp_wait_true("!document.getElementById('page-risk').hidden && "
				  "(document.getElementById('risk-msg').textContent.length > 0 || "
				  "document.querySelectorAll('#risk-body table').length > 0)",
				  10000));
	if (!tolerated("/api/v1/risk")) /* built: a table per strategy */
		assert_true(cdp_wait_true("document.querySelectorAll('#risk-body table').length === 3",
					  10000));

	/* Controls: engage the kill switch through the confirmation. */
	json_decref(cdp_eval("document.querySelector('.tab[data-page=controls]').click()"));
	assert_true(cdp_wait_true("!document.getElementById('page-controls').hidden", 10000));
	json_decref(cdp_eval("document.getElementById('ctl-kill-engage').click()"));
	assert_true(cdp_wait_true("!document.getElementById('confirm').hidden", 10000));
	res = cdp_eval("document.getElementById('confirm-text').textContent");
	assert_non_null(strstr(json_string_value(res), "kill switch"));
	json_decref(res);
	/* Nothing is sent before the confirmation. */
	doc = status_doc(port);
	assert_true(json_is_false(json_object_get(doc, "kill_switch")));
	json_decref(doc);
	json_decref(cdp_eval("document.getElementById('confirm-ok').click()"));
	assert_true(cdp_wait_true("document.getElementById('ctl-result').getAttribute('data-status') "
				  "=== '200' && document.getElementById('confirm').hidden",
				  10000));
	for (int k = 0; k < 500 && !seen; k++) {
		doc = status_doc(port);
		seen = doc != NULL && json_is_true(json_object_get(doc, "kill_switch"));
		json_decref(doc);
		if (!seen)
			it_msleep(20);
	}
	assert_true(seen); /* verified through the API, not the page */
	assert_true(cdp_wait_true("document.getElementById('hdr-kill').getAttribute('data-engaged') "
				  "=== 'true'",
				  10000));

	/* A cancelled confirmation sends nothing; then clear it for real. */
	json_decref(cdp_eval("document.getElementById('ctl-kill-clear').click()"));
	assert_true(cdp_wait_true("!document.getElementById('confirm').hidden", 10000));
	json_decref(cdp_eval("document.getElementById('confirm-cancel').click()"));
	assert_true(cdp_wait_true("/cancelled/.test(document.getElementById('ctl-result')"
				  ".textContent)",
				  10000));
	cdp_pump(300);
	doc = status_doc(port);
	assert_true(json_is_true(json_object_get(doc, "kill_switch")));
	json_decref(doc);
	json_decref(cdp_eval("document.getElementById('ctl-kill-clear').click()"));
	assert_true(cdp_wait_true("!document.getElementById('confirm').hidden", 10000));
	json_decref(cdp_eval("document.getElementById('confirm-ok').click()"));
	assert_true(cdp_wait_true("document.getElementById('ctl-result').getAttribute('data-status') "
				  "=== '200'",
				  10000));
	seen = false;
	for (int k = 0; k < 500 && !seen; k++) {
		doc = status_doc(port);
		seen = doc != NULL && json_is_false(json_object_get(doc, "kill_switch"));
		json_decref(doc);
		if (!seen)
			it_msleep(20);
	}
	assert_true(seen);
	assert_true(cdp_wait_true("document.getElementById('hdr-kill').getAttribute('data-engaged') "
				  "=== 'false'",
				  10000));

	/* Back to the overview for a last look, then the verdict. */
	json_decref(cdp_eval("document.querySelector('.tab[data-page=overview]').click()"));
	cdp_pump(1500);
	t = json_dumps(cdp_errors, JSON_COMPACT);
	printf("page errors: %s\n", t);
	if (json_array_size(cdp_errors) != 0)
		fail_msg("the page showed %zu error(s): %s", json_array_size(cdp_errors), t);
	free(t);

	/* A refused token returns to the login box (the 401 lines the browser
	 * logs for it are expected now); signing in through the form works. */
	json_decref(cdp_eval("sessionStorage.setItem('ingenium.token', 'wrong-token'); "
			     "setTimeout(function () { location.reload(); }, 0); 1"));
	assert_true(cdp_wait_true("document.readyState === 'complete' && "
				  "!document.getElementById('login').hidden && "
				  "/401/.test(document.getElementById('login-msg').textContent) && "
				  "sessionStorage.getItem('ingenium.token') === null",
				  30000));
	json_decref(cdp_eval("document.getElementById('token').value = '" TOKEN "'; "
			     "document.getElementById('login-btn').click()"));
	assert_true(cdp_wait_true("!document.getElementById('app').hidden && "
				  "document.querySelectorAll('#ov-table tbody tr').length > 0",
				  30000));
	cdp_pump(1500);
	{
		json_t *e;
		json_array_foreach(cdp_errors, i, e)
			if (strstr(json_string_value(e), "status of 401") == NULL)
				fail_msg("after the wrong token: %s", json_string_value(e));
	}
	cdp_stop(); /* before the daemon: its going away is no page error */
	{
		char out[300];
		snprintf(out, sizeof(out), "%s/browser-run.out", it_tmpdir);
		assert_int_equal(it_count(out, TOKEN), 0); /* the token never reaches the log */
	}
}

/* The History page (#history) over a finished run's store (the daemon
 * lingers after the run with its SQLite store in the test's directory):
 * the pnl table's rows equal /api/v1/history/pnl's, cell by cell; the
 * fills tab lists every fill of the run (the summary's count); the
 * strategy filter and the date range narrow the rows as the endpoint
 * does; no page error. */
static void test_dashboard_history(void **state)
{
	static struct reply r;
	static const char *const pnl_cols[] = { "day", "strategy", "realized", "fees",
						"net", "trades", "end_position" };
	uint16_t port = it_free_port();
	char out[300], setl[80], setp[340], db[300], sum[300], url[200], expr[600], action[400], day[16];
	json_t *rows, *page, *res, *strats;
	int64_t fills, slow_fills;
	size_t i, nday = 0;
	json_t *row;

	(void)state;
	snprintf(out, sizeof(out), "%s/hist-run.out", it_tmpdir);
	snprintf(db, sizeof(db), "%s/dash-hist.sqlite", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/dash-hist.json", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	snprintf(setp, sizeof(setp), "store.path=%s", db);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", setp, "--summary-json", sum, "--linger", NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int k = 0; k < 3000 && it_count(out, "the run is over") == 0; k++)
		it_msleep(20);
	assert_int_equal(it_count(out, "the run is over"), 1);
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	fills = it_sum_strategies(it_json[0], "fills");
	strats = json_object_get(it_json[0], "strategies");
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 1), "name")),
			    "sma_slow");
	slow_fills = json_integer_value(json_object_get(json_array_get(strats, 1), "fills"));
	assert_true(fills > 0 && fills < 1000 && slow_fills > 0 && slow_fills < fills);

	/* The endpoint's pnl rows, asked as the page asks. */
	assert_int_equal(http_get(port, "/api/v1/history/pnl?limit=1000", true, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	it_json[1] = json_loads(r.body, 0, NULL);
	rows = json_object_get(it_json[1], "rows");
	assert_true(json_array_size(rows) > 1);

	cdp_open();
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/?token=%s#history", port, TOKEN);
	res = cdp_call("Page.navigate", json_pack("{s:s}", "url", url), true);
	assert_null(json_object_get(res, "errorText"));
	json_decref(res);
	assert_true(cdp_wait_true("document.readyState === 'complete' && "
				  "!document.getElementById('page-history').hidden && "
				  "document.getElementById('hist-table').getAttribute('data-kind') === 'pnl' && "
				  "document.querySelectorAll('#hist-table tbody tr').length > 0",
				  30000));
#define PAGE_ROWS                                                                             \
	"Array.from(document.querySelectorAll('#hist-table tbody tr')).map(function (tr) {"   \
	" var o = {}; tr.querySelectorAll('td').forEach(function (td) {"                      \
	" o[td.getAttribute('data-col')] = td.textContent; }); return o; })"
	page = cdp_eval(PAGE_ROWS);
	it_json[2] = page;
	printf("history page: %zu pnl rows, endpoint %zu\n", json_array_size(page),
	       json_array_size(rows));
	assert_int_equal(json_array_size(page), json_array_size(rows));
	json_array_foreach(rows, i, row) {
		json_t *p = json_array_get(page, i);
		for (size_t c = 0; c < sizeof(pnl_cols) / sizeof(pnl_cols[0]); c++) {
			const char *want = json_string_value(json_object_get(row, pnl_cols[c]));
			const char *got = json_string_value(json_object_get(p, pnl_cols[c]));
			assert_non_null(want);
			assert_non_null(got);
			assert_string_equal(got, want);
		}
	}

	/* The fills tab: every fill of the run. */
	snprintf(expr, sizeof(expr),
		 "document.getElementById('hist-table').getAttribute('data-kind') === 'fills' && "
		 "document.querySelectorAll('#hist-table tbody tr').length === %lld",
		 (long long)fills);
	assert_true(hist_wait("document.querySelector('.htab[data-kind=fills]').click()", expr));

	/* The strategy filter (its options come from the status). */
	assert_true(cdp_wait_true("document.querySelectorAll('#hist-strategy option').length === 4",
				  10000));
	snprintf(expr, sizeof(expr),
		 "document.querySelectorAll('#hist-table tbody tr').length === %lld && "
		 "Array.from(document.querySelectorAll('#hist-table td[data-col=strategy]'))"
		 ".every(function (td) { return td.textContent === 'sma_slow'; })",
		 (long long)slow_fills);
	assert_true(hist_wait("var s = document.getElementById('hist-strategy'); s.value = 'sma_slow';"
			      " s.dispatchEvent(new Event('change')); 1",
			      expr));

	/* The date range: one day, every strategy, pnl again. */
	snprintf(day, sizeof(day), "%s", json_string_value(json_object_get(json_array_get(rows, 1),
									    "day")));
	json_array_foreach(rows, i, row)
		if (strcmp(json_string_value(json_object_get(row, "day")), day) == 0)
			nday++;
	snprintf(action, sizeof(action),
		 "document.getElementById('hist-strategy').value = '';"
		 " document.getElementById('hist-from').value = '%s';"
		 " document.getElementById('hist-to').value = '%s';"
		 " document.querySelector('.htab[data-kind=pnl]').click(); 1",
		 day, day);
	snprintf(expr, sizeof(expr),
		 "document.getElementById('hist-table').getAttribute('data-kind') === 'pnl' && "
		 "document.querySelectorAll('#hist-table tbody tr').length === %zu && "
		 "Array.from(document.querySelectorAll('#hist-table td[data-col=day]'))"
		 ".every(function (td) { return td.textContent === '%s'; })",
		 nday, day);
	printf("history page: %zu pnl rows on %s\n", nday, day);
	assert_true(hist_wait(action, expr));

	cdp_pump(500);
	{
		char *t = json_dumps(cdp_errors, JSON_COMPACT);
		printf("page errors: %s\n", t);
		if (json_array_size(cdp_errors) != 0)
			fail_msg("the page showed %zu error(s): %s", json_array_size(cdp_errors), t);
		free(t);
	}
	cdp_stop(); /* before the daemon: its going away is no page error */
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_dashboard_static, dash_teardown),
		cmocka_unit_test_teardown(test_dashboard_browser, dash_teardown),
		cmocka_unit_test_teardown(test_dashboard_history, dash_teardown),
	};
	int rc;

	(void)argc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_dashboard", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
