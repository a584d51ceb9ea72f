/*
 * test_api.c - the status API against the real daemon: `ingenium run` on
 * the bundled data, paced slowly, with api.listen on 127.0.0.1 and a free
 * port and the token in the environment. Checked with libcurl: /healthz
 * without a token, /api/v1/status 401 without or with a wrong token and
 * 200 with it (its strategies those of the config), /metrics, hostile
 * requests (an oversized header, a 1 MB body) answered 4xx while the
 * daemon trades on, a SIGINT stop with its summary; and a start refused
 * when the token variable is unset. The operator controls: the kill
 * switch, pause / resume / cancel-all by name over HTTP, their codes
 * (200, 409, 404, 405, 401, 413), the state in /status, `ingenium ctl`
 * through the binary, and the summary's control counts after SIGINT.
 * The params control, and every control after a kill -9 and a journal
 * replay against exchange-sim (test_api_controls_crash). Every child is
 * stopped (it_teardown).
 */
#include "itest.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "it-api-token-6d1f"

struct reply {
	long status;
	char body[1 << 16];
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

/* A request to 127.0.0.1:port/path: auth (the Authorization value) or
 * NULL, an X-Pad header of pad bytes, a body of body bytes on a GET.
 * Returns curl's code; the status in r (0 if none). */
static CURLcode request(uint16_t port, const char *path, const char *auth, size_t pad,
			size_t body, struct reply *r)
{
	static struct reply scratch;
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[128], hdr[256], *padh = NULL, *data = NULL;
	CURLcode rc;

	if (r == NULL)
		r = &scratch;
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (auth != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		h = curl_slist_append(h, hdr);
	}
	if (pad > 0) {
		padh = malloc(pad + 8);
		memcpy(padh, "X-Pad: ", 7);
		memset(padh + 7, 'p', pad);
		padh[7 + pad] = '\0';
		h = curl_slist_append(h, padh);
	}
	if (h != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body > 0) {
		data = malloc(body);
		memset(data, 'b', body);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(padh);
	free(data);
	return rc;
}

/* A request with method (POST, DELETE, ...) and no body. Returns curl's
 * code; the status in r. */
static CURLcode request_m(uint16_t port, const char *method, const char *path, const char *auth,
			  struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], hdr[256];
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (auth != NULL) {
		snprintf(hdr, sizeof(hdr), "Authorization: %s", auth);
		h = curl_slist_append(h, hdr);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

/* The snapshot sequence number /api/v1/status shows, or -1. */
static long long status_seq(uint16_t port, struct reply *r)
{
	json_t *doc;
	long long seq;

	if (request(port, "/api/v1/status", "Bearer " TOKEN, 0, 0, r) != CURLE_OK || r->status != 200)
		return -1;
	doc = json_loads(r->body, 0, NULL);
	assert_non_null(doc);
	seq = json_integer_value(json_object_get(json_object_get(doc, "snapshot"), "seq"));
	json_decref(doc);
	return seq;
}

static void test_api_daemon(void **state)
{
	static struct reply r;
	char out[300], sum[300], listen[64], setl[80];
	uint16_t port = it_free_port();
	long long seq0 = -1, seq1 = -1;
	json_t *doc, *strats;
	int rc;

	(void)state;
	snprintf(out, sizeof(out), "%s/run.out", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/summary.json", it_tmpdir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(setl, sizeof(setl), "api.listen=%s", listen);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		/* The bundled minute quotes at 100 rows/s: it trades for over a
		 * minute, far longer than the test needs. */
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=100", "--summary-json", sum, NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);

	/* Up within 30 s (generous: a loaded CI machine, a sanitizer build). */
	for (int i = 0; i < 1500; i++) {
		if (request(port, "/healthz", NULL, 0, 0, &r) == CURLE_OK && r.status == 200)
			break;
		it_msleep(20);
	}
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true}");

	/* Auth. */
	assert_int_equal(request(port, "/api/v1/status", NULL, 0, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "\"error\""));
	assert_int_equal(request(port, "/api/v1/status", "Bearer not-" TOKEN, 0, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_null(strstr(r.body, TOKEN));

	/* The status, once the OMS has published. */
	for (int i = 0; i < 1000 && (seq0 = status_seq(port, &r)) < 0; i++)
		it_msleep(20);
	assert_true(seq0 > 0);
	doc = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	strats = json_object_get(doc, "strategies");
	assert_int_equal(json_array_size(strats), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 0), "name")), "sma_fast");
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 1), "name")), "sma_slow");
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 2), "name")), "sma_big");
	assert_string_equal(json_string_value(json_object_get(json_array_get(strats, 0), "type")), "sma_cross");
	assert_string_equal(json_string_value(json_object_get(doc, "version")), "0.1.0");
	assert_string_equal(json_string_value(json_object_get(doc, "threading")), "dedicated");
	assert_true(json_is_false(json_object_get(doc, "kill_switch")));
	json_decref(doc);

	/* Metrics. */
	assert_int_equal(request(port, "/metrics", "Bearer " TOKEN, 0, 0, &r), CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\ningenium_orders_total "));
	assert_non_null(strstr(r.body, "ingenium_equity{strategy=\"sma_fast\"} "));
	assert_non_null(strstr(r.body, "ingenium_build_info{version=\"0.1.0\"} 1"));
	assert_non_null(strstr(r.body, "\ningenium_tick_to_order_seconds_bucket{le=\"+Inf\"} "));
	assert_non_null(strstr(r.body, "\ningenium_tick_to_order_seconds_count "));

	/* Hostile: 4xx (or the connection closed), and the daemon trades on. */
	request(port, "/metrics", "Bearer " TOKEN, 64 << 10, 0, &r);
	assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
	request(port, "/metrics", "Bearer " TOKEN, 0, 1 << 20, &r);
	assert_true(r.status == 0 || (r.status >= 400 && r.status < 500));
	request(port, "/../../etc/passwd", "Bearer " TOKEN, 0, 0, &r);
	assert_int_equal(r.status, 404);
	for (int i = 0; i < 1000 && (seq1 = status_seq(port, &r)) <= seq0; i++)
		it_msleep(20);
	assert_true(seq1 > seq0); /* the OMS still publishes: the run goes on */
	assert_int_equal(kill(it_run_pid, 0), 0);

	/* Stop with SIGINT: a clean exit and the summary. */
	rc = it_reap(&it_run_pid, SIGINT, 20000);
	assert_int_equal(rc, 0);
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	assert_int_equal(json_array_size(json_object_get(it_json[0], "strategies")), 3);
	assert_int_equal(it_count(out, TOKEN), 0); /* the token never reaches the log */
	/* The port is free again. */
	assert_int_not_equal(request(port, "/healthz", NULL, 0, 0, &r), CURLE_OK);
}

/* POST|DELETE path with the token: its status code (0: no answer). */
static long ctl_http(uint16_t port, const char *method, const char *path, struct reply *r)
{
	if (request_m(port, method, path, "Bearer " TOKEN, r) != CURLE_OK)
		return 0;
	return r->status;
}

/* The current /api/v1/status document (waits for a snapshot newer than
 * the answer to a control: seq beyond after). New reference. */
static json_t *status_after(uint16_t port, long long after, struct reply *r)
{
	long long seq = -1;
	for (int i = 0; i < 1000 && (seq = status_seq(port, r)) <= after; i++)
		it_msleep(20);
	assert_true(seq > after);
	return json_loads(r->body, 0, NULL);
}

/* A strategy's entry in a status document, by name. */
static json_t *strategy_of(json_t *doc, const char *name)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "strategies"), i, s)
		if (strcmp(json_string_value(json_object_get(s, "name")), name) == 0)
			return s;
	fail_msg("no strategy %s in the status", name);
	return NULL;
}

/* `ingenium ctl ARGS... --api URL` with output to outfile; the token in
 * the environment if with_token. Returns its exit status. */
static int run_ctl(uint16_t port, const char *outfile, bool with_token, const char *a1,
		   const char *a2)
{
	char api[64];
	int rc;

	snprintf(api, sizeof(api), "http://127.0.0.1:%u", port);
	if (with_token)
		setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	if (a2 != NULL) {
		const char *argv[] = { it_bin, "ctl", a1, a2, "--api", api, NULL };
		rc = it_run(argv, outfile);
	} else {
		const char *argv[] = { it_bin, "ctl", a1, "--api", api, NULL };
		rc = it_run(argv, outfile);
	}
	unsetenv("INGENIUM_API_TOKEN");
	return rc;
}

static void test_api_controls(void **state)
{
	static struct reply r;
	char out[300], sum[300], setl[80], ctl_out[300];
	uint16_t port = it_free_port();
	long long seq;
	json_t *doc, *ks;
	char *text;

	(void)state;
	snprintf(out, sizeof(out), "%s/ctl-run.out", it_tmpdir);
	snprintf(ctl_out, sizeof(ctl_out), "%s/ctl.out", it_tmpdir);
	snprintf(sum, sizeof(sum), "%s/ctl-summary.json", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=100", "--summary-json", sum, NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 1500 && status_seq(port, &r) < 0; i++)
		it_msleep(20);
	assert_int_equal(r.status, 200);

	/* No token: 401, nothing applied. Wrong methods: 405; a body: 413. */
	assert_int_equal(request_m(port, "POST", "/api/v1/kill-switch", NULL, &r), CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(request_m(port, "POST", "/api/v1/strategies/sma_fast/pause", NULL, &r),
			 CURLE_OK);
	assert_int_equal(r.status, 401);
	assert_int_equal(ctl_http(port, "GET", "/api/v1/kill-switch", &r), 405);
	assert_int_equal(ctl_http(port, "PUT", "/api/v1/strategies/sma_fast/pause", &r), 405);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_fast/explode", &r), 404);
	request(port, "/api/v1/kill-switch", "Bearer " TOKEN, 0, 64, &r); /* a GET with a body */
	assert_true(r.status == 413 || r.status == 405);

	/* The kill switch: engage 200 (again: 200, it re-sends the cancels),
	 * shown in /status; clear 200, again 409. */
	assert_int_equal(ctl_http(port, "POST", "/api/v1/kill-switch", &r), 200);
	assert_non_null(strstr(r.body, "\"ok\":true"));
	seq = status_seq(port, &r);
	doc = status_after(port, seq, &r);
	assert_true(json_is_true(json_object_get(doc, "kill_switch")));
	json_decref(doc);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/kill-switch", &r), 200);
	assert_int_equal(ctl_http(port, "DELETE", "/api/v1/kill-switch", &r), 200);
	seq = status_seq(port, &r);
	doc = status_after(port, seq, &r);
	assert_true(json_is_false(json_object_get(doc, "kill_switch")));
	json_decref(doc);
	assert_int_equal(ctl_http(port, "DELETE", "/api/v1/kill-switch", &r), 409);
	assert_non_null(strstr(r.body, "\"error\""));

	/* Pause by name: 200, paused in /status, again 409; resume 200, again 409. */
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_fast/pause", &r), 200);
	seq = status_seq(port, &r);
	doc = status_after(port, seq, &r);
	assert_string_equal(json_string_value(json_object_get(strategy_of(doc, "sma_fast"), "state")),
			    "paused");
	assert_string_equal(json_string_value(json_object_get(strategy_of(doc, "sma_slow"), "state")),
			    "active");
	json_decref(doc);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_fast/pause", &r), 409);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_fast/resume", &r), 200);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_fast/resume", &r), 409);
	seq = status_seq(port, &r);
	doc = status_after(port, seq, &r);
	assert_string_equal(json_string_value(json_object_get(strategy_of(doc, "sma_fast"), "state")),
			    "active");
	json_decref(doc);

	/* Unknown strategy 404; cancel-all 200 (nothing needs to be open). */
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/no_such/pause", &r), 404);
	assert_non_null(strstr(r.body, "\"error\""));
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/sma_slow/cancel-all", &r), 200);

	/* `ingenium ctl` through the binary. */
	assert_int_equal(run_ctl(port, ctl_out, true, "kill", NULL), 0);
	seq = status_seq(port, &r);
	json_decref(status_after(port, seq, &r)); /* a snapshot after the kill */
	assert_int_equal(run_ctl(port, ctl_out, true, "status", NULL), 0);
	text = it_slurp(ctl_out);
	assert_non_null(text);
	assert_non_null(strstr(text, "sma_fast"));
	assert_non_null(strstr(text, "sma_slow"));
	assert_non_null(strstr(text, "sma_big"));
	assert_non_null(strstr(text, "ENGAGED"));
	free(text);
	assert_int_equal(run_ctl(port, ctl_out, true, "unkill", NULL), 0);
	assert_int_equal(run_ctl(port, ctl_out, true, "unkill", NULL), 1);   /* 409 */
	assert_int_equal(run_ctl(port, ctl_out, true, "pause", "no_such"), 1); /* 404 */
	assert_int_equal(run_ctl(port, ctl_out, true, "pause", "sma_big"), 0);
	assert_int_equal(run_ctl(port, ctl_out, false, "status", NULL), 2); /* no token */
	assert_int_equal(run_ctl(port, ctl_out, true, "pause", NULL), 2);   /* usage */
	assert_int_equal(it_count(ctl_out, TOKEN), 0);

	/* SIGINT: the summary counts what was applied. */
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	ks = json_object_get(json_object_get(it_json[0], "controls"), "kill_switch");
	assert_int_equal(json_integer_value(ks), 5); /* engage x2, clear, ctl kill, ctl unkill */
	{
		json_t *s = NULL, *c;
		size_t i;
		json_array_foreach(json_object_get(it_json[0], "strategies"), i, s) {
			const char *n = json_string_value(json_object_get(s, "name"));
			c = json_object_get(s, "controls");
			if (strcmp(n, "sma_fast") == 0) {
				assert_int_equal(json_integer_value(json_object_get(c, "pause")), 1);
				assert_int_equal(json_integer_value(json_object_get(c, "resume")), 1);
				assert_string_equal(json_string_value(json_object_get(s, "state")), "active");
			} else if (strcmp(n, "sma_slow") == 0) {
				assert_int_equal(json_integer_value(json_object_get(c, "cancel_all")), 1);
				assert_int_equal(json_integer_value(json_object_get(c, "pause")), 0);
			} else {
				assert_int_equal(json_integer_value(json_object_get(c, "pause")), 1);
				assert_string_equal(json_string_value(json_object_get(s, "state")), "paused");
			}
		}
	}
	assert_int_equal(it_count(out, TOKEN), 0);
}

static void test_api_token_unset_refused(void **state)
{
	char out[300], setl[80];
	char *text;
	int rc;

	(void)state;
	snprintf(out, sizeof(out), "%s/refused.out", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", it_free_port());
	unsetenv("IG_IT_API_TOKEN_UNSET");
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "api.token_env=IG_IT_API_TOKEN_UNSET", NULL };
		rc = it_run(argv, out);
	}
	assert_int_equal(rc, 1);
	text = it_slurp(out);
	assert_non_null(text);
	assert_non_null(strstr(text, "IG_IT_API_TOKEN_UNSET"));
	assert_null(strstr(text, "realized")); /* nothing ran: no summary table */
	free(text);
}

/* A backtest never serves the API: api.listen set and no token is fine. */
static void test_api_not_in_backtest(void **state)
{
	char out[300], setl[80];
	int rc;

	(void)state;
	snprintf(out, sizeof(out), "%s/backtest.out", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", it_free_port());
	unsetenv("IG_IT_API_TOKEN_UNSET");
	{
		const char *argv[] = { it_bin, "backtest", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "api.token_env=IG_IT_API_TOKEN_UNSET", NULL };
		rc = it_run(argv, out);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(it_count(out, "IG_IT_API_TOKEN_UNSET"), 0);
}

/* POST path with a JSON body and the token. Returns the status (0: no
 * answer). */
static long post_json(uint16_t port, const char *path, const char *json, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	if (curl_easy_perform(c) != CURLE_OK)
		r->status = 0;
	else
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r->status;
}

/* A status document once the venue is reconciled (after a recovery),
 * waiting up to 60 s. New reference. */
static json_t *status_reconciled(uint16_t port, struct reply *r)
{
	for (int i = 0; i < 600; i++) {
		if (status_seq(port, r) >= 0) {
			json_t *doc = json_loads(r->body, 0, NULL);
			if (json_is_true(json_object_get(json_object_get(doc, "venue"), "reconciled")))
				return doc;
			json_decref(doc);
		}
		it_msleep(100);
	}
	fail_msg("the daemon never reconciled");
	return NULL;
}

/* Every control survives a crash: against exchange-sim with the journal
 * on, pause maker_xbt, give sma_xbt new params and engage the kill switch
 * over HTTP, then SIGKILL the daemon. The next daemon replays the journal:
 * the kill switch is still engaged, maker_xbt still paused, and sma_xbt
 * runs with the new params again (its on_params logs them a second
 * time, after the recovery). Clearing and resuming then work, and the
 * stop is clean. */
static void test_api_controls_crash(void **state)
{
	static struct reply r;
	char sim_out[300], run_out[300], journal[300], jset[340], url[80], setl[80];
	const char *argv[32];
	const char *params_line = "sma_xbt: params now fast=3 slow=20 qty=0.00200000";
	uint16_t port = it_free_port();
	json_t *doc;
	int n, sim_port;

	(void)state;
	snprintf(sim_out, sizeof(sim_out), "%s/ctl-sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/ctl-crash.out", it_tmpdir);
	snprintf(journal, sizeof(journal), "%s/ctl.journal", it_tmpdir);
	snprintf(jset, sizeof(jset), "journal.path=%s", journal);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	{
		const char *sargv[] = { it_bin, "exchange-sim", "--listen", "127.0.0.1:0", "--seed",
					"5", NULL };
		it_sim_pid = it_spawn(sargv, sim_out, false);
	}
	sim_port = it_sim_port(sim_out);
	assert_true(sim_port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", sim_port);
	n = 0;
	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = "config/luno.yaml";
	argv[n++] = "--set";
	argv[n++] = url;
	argv[n++] = "--set";
	argv[n++] = jset;
	argv[n++] = "--set";
	argv[n++] = setl;
	argv[n++] = "--set";
	argv[n++] = "feed.heartbeat_ms=200";
	argv[n++] = "--set";
	argv[n++] = "venue.status_ms=200";
	argv[n++] = "--set";
	argv[n++] = "journal.reconcile_timeout_ms=4000";
	argv[n] = NULL;

	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	it_run_pid = it_spawn(argv, run_out, false);
	assert_true(it_run_pid > 0);
	json_decref(status_reconciled(port, &r));
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/maker_xbt/pause", &r), 200);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/maker_xbt/cancel-all", &r), 200);
	assert_int_equal(post_json(port, "/api/v1/strategies/sma_xbt/params",
				   "{\"fast\": 3, \"qty\": \"0.002\"}", &r),
			 200);
	/* maker takes no live params; a bad value is refused with its key. */
	assert_int_equal(post_json(port, "/api/v1/strategies/maker_xbt/params", "{\"qty\": \"1\"}", &r),
			 409);
	assert_int_equal(post_json(port, "/api/v1/strategies/sma_xbt/params", "{\"fast\": 0}", &r), 400);
	assert_non_null(strstr(r.body, "params.fast"));
	/* Each value fits, the combination does not (fast >= slow 20): the
	 * strategy refuses it (422) and the values in force stay. */
	assert_int_equal(post_json(port, "/api/v1/strategies/sma_xbt/params", "{\"fast\": 20}", &r),
			 422);
	assert_non_null(strstr(r.body, "refused by the strategy"));
	assert_int_equal(ctl_http(port, "POST", "/api/v1/kill-switch", &r), 200);
	for (int i = 0; i < 100 && it_count(run_out, params_line) < 1; i++)
		it_msleep(20);
	assert_int_equal(it_count(run_out, params_line), 1);
	/* The journal is written at the latest by a fill's or order's
	 * commit; the controls are inputs of their own: give the journal's
	 * group commit a moment, as a crash at any other time would. */
	it_msleep(300);
	assert_int_equal(it_reap(&it_run_pid, SIGKILL, 5000), 128 + SIGKILL);

	it_run_pid = it_spawn(argv, run_out, true);
	assert_true(it_run_pid > 0);
	doc = status_reconciled(port, &r);
	assert_true(json_is_true(json_object_get(doc, "kill_switch")));
	assert_true(json_is_true(json_object_get(strategy_of(doc, "maker_xbt"), "paused")));
	/* Cancelled before the crash, paused since: nothing of it is open. */
	assert_int_equal(json_integer_value(json_object_get(strategy_of(doc, "maker_xbt"), "open_orders")),
			 0);
	assert_false(json_is_true(json_object_get(strategy_of(doc, "sma_xbt"), "paused")));
	json_decref(doc);
	for (int i = 0; i < 200 && it_count(run_out, params_line) < 2; i++)
		it_msleep(20);
	assert_int_equal(it_count(run_out, params_line), 2);
	assert_int_equal(ctl_http(port, "DELETE", "/api/v1/kill-switch", &r), 200);
	assert_int_equal(ctl_http(port, "POST", "/api/v1/strategies/maker_xbt/resume", &r), 200);
	/* `ingenium ctl params` through the binary. */
	{
		char ctl_out[300];
		const char *l2 = "sma_xbt: params now fast=3 slow=25 qty=0.00200000";
		snprintf(ctl_out, sizeof(ctl_out), "%s/ctl-params.out", it_tmpdir);
		{
			char api[64];
			snprintf(api, sizeof(api), "http://127.0.0.1:%u", port);
			const char *cargv[] = { it_bin, "ctl", "params", "sma_xbt", "slow=25", "--api",
						api, NULL };
			const char *bargv[] = { it_bin, "ctl", "params", "sma_xbt", "slow", "--api",
						api, NULL };
			const char *fargv[] = { it_bin, "ctl", "params", "sma_xbt", "slow=1", "--api",
						api, NULL };
			assert_int_equal(it_run(cargv, ctl_out), 0);
			assert_int_equal(it_run(bargv, ctl_out), 2); /* not KEY=VALUE */
			assert_int_equal(it_run(fargv, ctl_out), 1); /* out of range: 400 */
		}
		for (int i = 0; i < 100 && it_count(run_out, l2) < 1; i++)
			it_msleep(20);
		assert_int_equal(it_count(run_out, l2), 1);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
	assert_int_equal(it_count(run_out, TOKEN), 0);
}

/* A thousand idle connections against the running daemon: they are
 * held (the API keeps 16 of them, per address, and drops the rest) for
 * longer than the incomplete-request timeout while the daemon trades on;
 * afterwards the API answers again and the books moved on meanwhile (the
 * OMS published and filled: no stage waited on the API), and the stop is
 * clean. */
static void test_api_idle_flood(void **state)
{
	static struct reply r;
	char out[300], setl[80];
	uint16_t port = it_free_port();
	struct rlimit rl;
	struct sockaddr_in a;
	int fds[1000], opened = 0;
	long long seq0, seq1;
	json_int_t fills0, fills1;
	json_t *doc;

	(void)state;
	snprintf(out, sizeof(out), "%s/flood.out", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=200", NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 1500 && (seq0 = status_seq(port, &r)) < 0; i++)
		it_msleep(20);
	assert_true(seq0 >= 0);
	doc = json_loads(r.body, 0, NULL);
	fills0 = json_integer_value(json_object_get(doc, "fills"));
	json_decref(doc);

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 1100 && rl.rlim_max >= 1100) {
		rl.rlim_cur = 1100;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < 1000; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			break;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		(void)connect(fd, (struct sockaddr *)&a, sizeof(a)); /* EINPROGRESS is fine */
		fds[opened++] = fd;
	}
	assert_true(opened >= 900);
	it_msleep(3500); /* past the 2 s a connection may idle before its request */
	for (int i = 0; i < 200 && (seq1 = status_seq(port, &r)) < 0; i++)
		it_msleep(50);
	assert_true(seq1 > seq0);
	doc = json_loads(r.body, 0, NULL);
	fills1 = json_integer_value(json_object_get(doc, "fills"));
	json_decref(doc);
	assert_true(fills1 > fills0); /* the books moved on while the API was flooded */
	for (int i = 0; i < opened; i++)
		close(fds[i]);
	assert_true(status_seq(port, &r) > 0);
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
	assert_int_equal(it_count(out, TOKEN), 0);
}

/* run --linger: after the run the API still answers with the final
 * snapshot until SIGINT, then the daemon exits 0. */
static void test_api_linger(void **state)
{
	static struct reply r;
	char out[300], setl[80];
	uint16_t port = it_free_port();
	json_t *doc;

	(void)state;
	snprintf(out, sizeof(out), "%s/linger.out", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		/* The config's pace (2000 events/s, ~4 s): an unpaced run may
		 * end before its first fill. */
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--linger", NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 3000 && it_count(out, "the run is over") == 0; i++)
		it_msleep(20);
	assert_int_equal(it_count(out, "the run is over"), 1);
	assert_true(status_seq(port, &r) > 0);
	doc = it_json[0] = json_loads(r.body, 0, NULL); /* freed by it_teardown */
	assert_true(json_integer_value(json_object_get(doc, "fills")) > 0);
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_api_token_unset_refused, it_teardown),
		cmocka_unit_test_teardown(test_api_daemon, it_teardown),
		cmocka_unit_test_teardown(test_api_controls, it_teardown),
		cmocka_unit_test_teardown(test_api_not_in_backtest, it_teardown),
		cmocka_unit_test_teardown(test_api_controls_crash, it_teardown),
		cmocka_unit_test_teardown(test_api_linger, it_teardown),
		cmocka_unit_test_teardown(test_api_idle_flood, it_teardown),
	};
	int rc;

	(void)argc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_api", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
