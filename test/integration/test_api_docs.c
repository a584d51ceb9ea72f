/*
 * test_api_docs.c - /api/v1/risk, /api/v1/config, the venue health in
 * /api/v1/status and the venue, journal and back-pressure families of
 * /metrics against the real daemon: on the paper venue (config/
 * ingenium.yaml: the documents agree with the config as the loader reads
 * it) and on the Luno venue against exchange-sim (config/luno.yaml: the
 * venue's request histogram counts, the journal's syncs are published).
 * The API token and the Luno key secret, set in the environment, appear in
 * none of /config, /status and /metrics. The exposition stays valid
 * Prometheus text. Every child is stopped (it_teardown).
 */
#include "itest.h"

#include "config/config.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "it-docs-token-SECRET-83a1"
#define CANARY_SECRET "canary-docs-secret-do-not-show"

struct reply {
	long status;
	char body[1 << 17];
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

/* GET path with the token (auth false: without). Returns the status (0:
 * no answer); the body in r. */
static long get(uint16_t port, const char *path, bool auth, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[128];

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (auth) {
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r->status;
}

/* Waits (up to 60 s) for the first snapshot: /api/v1/status 200. */
static void wait_status(uint16_t port, struct reply *r)
{
	for (int i = 0; i < 3000; i++) {
		if (get(port, "/api/v1/status", true, r) == 200)
			return;
		it_msleep(20);
	}
	fail_msg("no status within 60 s (last %ld)", r->status);
}

/* Every sample's family declared (# TYPE) before it, no family twice.
 * Returns the number of families. */
static int prom_check(const char *text)
{
	static char fam[128][96], type[128][16];
	int nfam = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		char line[512], name[96];
		size_t len;
		assert_non_null(eol);
		len = (size_t)(eol - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol + 1;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char t[16];
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, t), 2);
			for (int i = 0; i < nfam; i++)
				if (strcmp(fam[i], name) == 0)
					fail_msg("family %s declared twice", name);
			assert_true(nfam < 128);
			snprintf(fam[nfam], sizeof(fam[nfam]), "%s", name);
			snprintf(type[nfam], sizeof(type[nfam]), "%s", t);
			nfam++;
		} else if (line[0] != '#' && line[0] != '\0') {
			size_t n = strcspn(line, "{ ");
			bool ok = false;
			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			for (int i = 0; i < nfam && !ok; i++) {
				size_t fl = strlen(fam[i]);
				if (strcmp(name, fam[i]) == 0)
					ok = strcmp(type[i], "histogram") != 0;
				else if (strcmp(type[i], "histogram") == 0 && strncmp(name, fam[i], fl) == 0)
					ok = strcmp(name + fl, "_bucket") == 0 || strcmp(name + fl, "_sum") == 0 ||
					     strcmp(name + fl, "_count") == 0;
			}
			if (!ok)
				fail_msg("sample %s without its # TYPE before it", name);
		}
	}
	return nfam;
}

/* The value of the sample line that starts with "\n" prefix " ", or -1. */
static long long sample(const char *text, const char *name)
{
	char needle[160];
	const char *at;
	snprintf(needle, sizeof(needle), "\n%s ", name);
	at = strstr(text, needle);
	return at != NULL ? atoll(at + strlen(needle)) : -1;
}

static void assert_no_secret(const char *body, const char *what)
{
	if (strstr(body, TOKEN) != NULL)
		fail_msg("%s shows the API token", what);
	if (strstr(body, CANARY_SECRET) != NULL)
		fail_msg("%s shows the Luno secret", what);
}

static json_t *limit_of(json_t *strategy, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(strategy, "limits"), i, e)
		if (strcmp(json_string_value(json_object_get(e, "limit")), name) == 0)
			return e;
	fail_msg("no limit %s", name);
	return NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (s == NULL)
		fail_msg("%s: not a string", key);
	return s;
}

static void test_paper(void **state)
{
	static struct reply r;
	static struct ig_config cfg;
	char out[300], setl[80], err[IG_CFG_ERR_MAX];
	const struct ig_cfg_override ovr[] = { { "feed.rate", "100" } };
	uint16_t port = it_free_port();
	json_t *doc, *s;
	char fixed[IG_FIXED_STRLEN];

	(void)state;
	assert_int_equal(ig_config_load(&cfg, "config/ingenium.yaml", ovr, 1, err, sizeof(err)), 0);
	snprintf(out, sizeof(out), "%s/paper.out", it_tmpdir);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/ingenium.yaml", "--set", setl,
				       "--set", "feed.rate=100", NULL };
		it_run_pid = it_spawn(argv, out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	wait_status(port, &r);
	assert_no_secret(r.body, "/status");
	doc = it_json[0] = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	s = json_object_get(doc, "venue");
	assert_string_equal(str(s, "kind"), "paper");
	assert_string_equal(str(s, "state"), "ok");
	assert_int_equal(json_integer_value(json_object_get(s, "requests")), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "http_429")), 0);

	/* /risk agrees with the config: global and per-strategy limits. */
	assert_int_equal(get(port, "/api/v1/risk", false, &r), 401);
	assert_int_equal(get(port, "/api/v1/risk", true, &r), 200);
	doc = it_json[1] = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "strategies")), cfg.nstrategies);
	for (uint32_t i = 0; i < cfg.nstrategies; i++) {
		struct ig_cfg_risk eff = cfg.risk;
		s = json_array_get(json_object_get(doc, "strategies"), i);
		assert_string_equal(str(s, "name"), cfg.strategies[i].name);
		if (cfg.strategies[i].risk.max_order_qty != IG_RISK_UNSET)
			eff.max_order_qty = cfg.strategies[i].risk.max_order_qty;
		ig_fixed_format(eff.max_order_qty, fixed, sizeof(fixed));
		assert_string_equal(str(limit_of(s, "max_order_qty"), "value"), fixed);
		ig_fixed_format(eff.max_position_qty, fixed, sizeof(fixed));
		assert_string_equal(str(limit_of(s, "max_position_qty"), "value"), fixed);
		assert_int_equal(json_integer_value(json_object_get(limit_of(s, "max_open_orders"), "value")),
				 eff.max_open_orders);
		assert_int_equal(json_integer_value(json_object_get(limit_of(s, "price_collar_bps"), "value")),
				 eff.price_collar_bps);
		assert_true(json_is_integer(json_object_get(limit_of(s, "max_open_orders"), "use")));
	}
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(json_object_get(doc, "global"), "limits"), 0),
				 "value")),
			 cfg.risk.max_orders_per_sec);

	/* /config: the effective config, secrets redacted. */
	assert_int_equal(get(port, "/api/v1/config", false, &r), 401);
	assert_int_equal(get(port, "/api/v1/config", true, &r), 200);
	assert_no_secret(r.body, "/config");
	doc = it_json[2] = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	ig_fixed_format(cfg.risk.max_order_qty, fixed, sizeof(fixed));
	assert_string_equal(str(json_object_get(doc, "risk"), "max_order_qty"), fixed);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "risk"), "max_open_orders")),
			 cfg.risk.max_open_orders);
	assert_string_equal(str(json_object_get(doc, "api"), "token"), "<redacted>");
	assert_string_equal(str(json_object_get(doc, "api"), "token_env"), "INGENIUM_API_TOKEN");
	assert_string_equal(str(json_object_get(doc, "api"), "listen"), setl + strlen("api.listen="));
	assert_string_equal(str(json_object_get(doc, "venue"), "secret"), "<redacted>");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "feed"), "rate")), 100);
	assert_int_equal(json_array_size(json_object_get(doc, "strategies")), cfg.nstrategies);
	for (uint32_t i = 0; i < cfg.nstrategies; i++)
		assert_string_equal(str(json_array_get(json_object_get(doc, "strategies"), i), "name"),
				    cfg.strategies[i].name);

	/* /metrics: valid, the new families present (paper: zero requests;
	 * no journal: no fsync family). */
	assert_int_equal(get(port, "/metrics", true, &r), 200);
	assert_no_secret(r.body, "/metrics");
	prom_check(r.body);
	assert_int_equal(sample(r.body, "ingenium_venue_request_seconds_count"), 0);
	assert_true(sample(r.body, "ingenium_backpressure_events_total") >= 0);
	assert_int_equal(sample(r.body, "ingenium_venue_http_errors_total{code=\"503\"}"), 0);
	if (!cfg.journal.enabled)
		assert_null(strstr(r.body, "ingenium_journal_fsync_seconds"));

	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
	assert_int_equal(it_count(out, TOKEN), 0);
}

static void test_luno_sim(void **state)
{
	static struct reply r;
	char sim_out[300], run_out[300], url[80], setl[80], jpath[340];
	uint16_t port = it_free_port();
	long long count = -1;
	int sim_port;
	json_t *doc, *v;

	(void)state;
	snprintf(sim_out, sizeof(sim_out), "%s/sim.out", it_tmpdir);
	snprintf(run_out, sizeof(run_out), "%s/luno.out", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "journal.path=%s/luno.journal", it_tmpdir);
	{
		const char *argv[] = { it_bin, "exchange-sim", "--listen", "127.0.0.1:0", "--seed", "7",
				       NULL };
		it_sim_pid = it_spawn(argv, sim_out, false);
	}
	sim_port = it_sim_port(sim_out);
	assert_true(sim_port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", sim_port);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	{
		const char *argv[] = { it_bin, "run", "-c", "config/luno.yaml", "--set", url,
				       "--set", "feed.heartbeat_ms=250", "--set", jpath, "--set", setl,
				       "--set", "strategies.0.params.fast=2", "--set",
				       "strategies.0.params.slow=4", NULL };
		it_run_pid = it_spawn(argv, run_out, false);
	}
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	wait_status(port, &r);

	/* The venue's requests are counted within 30 s. */
	for (int i = 0; i < 1500; i++) {
		if (get(port, "/metrics", true, &r) == 200 &&
		    (count = sample(r.body, "ingenium_venue_request_seconds_count")) > 0)
			break;
		it_msleep(20);
	}
	assert_true(count > 0);
	assert_no_secret(r.body, "/metrics");
	prom_check(r.body);
	assert_true(sample(r.body, "ingenium_venue_request_seconds_bucket{le=\"+Inf\"}") >= count);
	assert_non_null(strstr(r.body, "\ningenium_venue_http_errors_total{code=\"transport\"} "));
	assert_non_null(strstr(r.body, "\ningenium_journal_fsync_seconds_count "));
	assert_non_null(strstr(r.body, "\ningenium_backpressure_events_total "));

	assert_int_equal(get(port, "/api/v1/status", true, &r), 200);
	assert_no_secret(r.body, "/status");
	doc = it_json[0] = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	v = json_object_get(doc, "venue");
	assert_string_equal(str(v, "kind"), "luno");
	assert_true(json_integer_value(json_object_get(v, "requests")) > 0);
	assert_true(json_is_integer(json_object_get(v, "errors")));
	assert_true(json_is_integer(json_object_get(v, "http_429")));
	assert_true(json_is_real(json_object_get(v, "last_round_trip_ms")));
	assert_true(json_is_boolean(json_object_get(v, "reconciled")));
	assert_non_null(str(v, "state"));

	assert_int_equal(get(port, "/api/v1/config", true, &r), 200);
	assert_no_secret(r.body, "/config");
	assert_non_null(strstr(r.body, "\"secret_env\":\"LUNO_API_KEY_SECRET\""));
	assert_int_equal(get(port, "/api/v1/risk", true, &r), 200);

	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 150000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 10000), 0);
	assert_int_equal(it_count(run_out, CANARY_SECRET), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_paper, it_teardown),
		cmocka_unit_test_teardown(test_luno_sim, it_teardown),
	};
	int rc;

	(void)argc;
	it_secret = CANARY_SECRET;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_api_docs", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
