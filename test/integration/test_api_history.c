/*
 * test_api_history.c - /api/v1/history/{orders,fills,pnl,sessions} against
 * the real daemon: `ingenium run` (paper, the bundled data at the
 * config's pace) with the SQLite store in the test's directory, api.listen
 * on 127.0.0.1 and a free port, --linger so the API stays up over the
 * finished run's store. Checked with libcurl: 401 without the token; the
 * fills the endpoint lists equal the summary's fills, and its pnl rows
 * equal `ingenium history --store ... pnl --json` on the same store;
 * limit keeps the newest rows and says it cut them; another daemon_id
 * has no rows; bad arguments answer 400 naming the argument; an unknown
 * query 404; a store that cannot be opened 503 (the daemon trades on
 * and answers again once it is back); a daemon with the store off 404
 * saying so. Every child is stopped (it_teardown).
 */
#include "itest.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "it-hist-token-91c2"
#define CFG "config/ingenium.yaml"

struct reply {
	long status;
	char *body;
	size_t len, cap;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t k = size * n;
	if (r->len + k + 1 > r->cap) {
		size_t nc = (r->len + k + 1) * 2;
		char *b = realloc(r->body, nc);
		if (b == NULL)
			return 0;
		r->body = b;
		r->cap = nc;
	}
	memcpy(r->body + r->len, p, k);
	r->len += k;
	r->body[r->len] = '\0';
	return k;
}

/* GET 127.0.0.1:port/path, with the token if auth. Returns the status (0:
 * no answer); the body, parsed, in *doc (NULL if not JSON; caller frees). */
static long get(uint16_t port, const char *path, bool auth, json_t **doc)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	struct reply r = { 0, NULL, 0, 0 };
	char url[512];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	if (auth) {
		h = curl_slist_append(h, "Authorization: Bearer " TOKEN);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (doc != NULL)
		*doc = r.body != NULL ? json_loads(r.body, 0, NULL) : NULL;
	free(r.body);
	return r.status;
}

/* The error text of a 4xx/5xx document ("" if none). */
static const char *error_of(json_t *doc)
{
	const char *e = json_string_value(json_object_get(doc, "error"));
	return e != NULL ? e : "";
}

/* Starts `ingenium run` with the API on port, extra --set values (NULL
 * ended), --linger and the summary at sum; waits (up to 60 s) for the end
 * of the run. */
static void start_lingering(uint16_t port, const char *tag, const char *const *sets,
			    const char *sum)
{
	char out[300], setl[80];
	const char *argv[24];
	int n = 0;

	snprintf(out, sizeof(out), "%s/%s.out", it_tmpdir, tag);
	snprintf(setl, sizeof(setl), "api.listen=127.0.0.1:%u", port);
	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = CFG;
	argv[n++] = "--set";
	argv[n++] = setl;
	for (; *sets != NULL && n < 18; sets++) {
		argv[n++] = "--set";
		argv[n++] = *sets;
	}
	argv[n++] = "--summary-json";
	argv[n++] = sum;
	argv[n++] = "--linger";
	argv[n] = NULL;
	setenv("INGENIUM_API_TOKEN", TOKEN, 1);
	it_run_pid = it_spawn(argv, out, false);
	unsetenv("INGENIUM_API_TOKEN");
	assert_true(it_run_pid > 0);
	for (int i = 0; i < 3000 && it_count(out, "the run is over") == 0; i++)
		it_msleep(20);
	assert_int_equal(it_count(out, "the run is over"), 1);
}

static void test_history_endpoints(void **state)
{
	uint16_t port = it_free_port();
	char db[300], sum[300], setp[340], moved[310], out[300];
	const char *sets[] = { setp, NULL };
	json_t *doc, *rows, *all, *cli;
	int64_t fills;
	size_t n;

	(void)state;
	snprintf(db, sizeof(db), "%s/hist.sqlite", it_tmpdir);
	snprintf(moved, sizeof(moved), "%s.away", db);
	snprintf(sum, sizeof(sum), "%s/hist.json", it_tmpdir);
	snprintf(setp, sizeof(setp), "store.path=%s", db);
	start_lingering(port, "hist", sets, sum);
	it_json[0] = json_load_file(sum, 0, NULL);
	assert_non_null(it_json[0]);
	fills = it_sum_strategies(it_json[0], "fills");
	assert_true(fills > 0);
	assert_true(fills < 5000);

	/* The token is required. */
	assert_int_equal(get(port, "/api/v1/history/fills", false, &doc), 401);
	json_decref(doc);

	/* Every fill of the run, the daemon's own daemon_id by default. */
	assert_int_equal(get(port, "/api/v1/history/fills?limit=5000", true, &doc), 200);
	it_json[1] = doc;
	assert_string_equal(json_string_value(json_object_get(doc, "daemon_id")), "ingenium");
	assert_true(json_is_false(json_object_get(doc, "truncated")));
	all = json_object_get(doc, "rows");
	printf("fills: api %zu, summary %lld\n", json_array_size(all), (long long)fills);
	assert_int_equal((int64_t)json_array_size(all), fills);

	/* limit keeps the newest rows, in time order, and says so. */
	assert_int_equal(get(port, "/api/v1/history/fills?limit=3", true, &doc), 200);
	rows = json_object_get(doc, "rows");
	assert_int_equal(json_array_size(rows), 3);
	assert_true(json_is_true(json_object_get(doc, "truncated")));
	n = json_array_size(all);
	for (size_t i = 0; i < 3; i++)
		assert_true(json_equal(json_array_get(rows, i), json_array_get(all, n - 3 + i)));
	json_decref(doc);

	/* The strategy filter and the default limit. */
	assert_int_equal(get(port, "/api/v1/history/fills?strategy=sma_slow", true, &doc), 200);
	assert_int_equal((int64_t)json_array_size(json_object_get(doc, "rows")),
			 json_integer_value(json_object_get(json_array_get(json_object_get(it_json[0],
											      "strategies"),
									   1),
							    "fills")));
	assert_int_equal(json_integer_value(json_object_get(doc, "limit")), 500);
	json_decref(doc);

	/* pnl: the same rows as the CLI on the same store. */
	assert_int_equal(get(port, "/api/v1/history/pnl", true, &doc), 200);
	it_json[2] = doc;
	rows = json_object_get(doc, "rows");
	assert_true(json_array_size(rows) > 0);
	{
		char spec[320];
		const char *argv[] = { it_bin, "history", "--store", spec, "pnl", "--json", NULL };
		snprintf(spec, sizeof(spec), "sqlite:%s", db);
		snprintf(out, sizeof(out), "%s/hist-pnl.json", it_tmpdir);
		assert_int_equal(it_run(argv, out), 0);
		cli = json_load_file(out, 0, NULL);
		assert_non_null(cli);
		it_json[3] = cli;
	}
	printf("pnl: api %zu rows, cli %zu rows\n", json_array_size(rows), json_array_size(cli));
	assert_true(json_equal(rows, cli));

	/* Orders and sessions answer too; another daemon has nothing. */
	assert_int_equal(get(port, "/api/v1/history/orders?limit=1", true, &doc), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "rows")), 1);
	json_decref(doc);
	assert_int_equal(get(port, "/api/v1/history/sessions", true, &doc), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "rows")), 1);
	json_decref(doc);
	assert_int_equal(get(port, "/api/v1/history/fills?daemon=someone-else", true, &doc), 200);
	assert_int_equal(json_array_size(json_object_get(doc, "rows")), 0);
	json_decref(doc);
	/* from/to take what the CLI takes. */
	assert_int_equal(get(port, "/api/v1/history/fills?from=2017-09-04&to=2017-09-04T23:59:59Z"
				   "&limit=5000",
			     true, &doc),
			 200);
	rows = json_object_get(doc, "rows");
	assert_true(json_array_size(rows) > 0 && json_array_size(rows) < n);
	assert_int_equal(strncmp(json_string_value(json_object_get(json_array_get(rows, 0), "at")),
				 "2017-09-04T", 11),
			 0);
	json_decref(doc);

	/* Bad arguments: 400 naming the argument. */
	{
		static const struct {
			const char *path, *name;
		} bad[] = {
			{ "/api/v1/history/fills?limit=0", "limit" },
			{ "/api/v1/history/fills?limit=5001", "limit" },
			{ "/api/v1/history/fills?limit=ten", "limit" },
			{ "/api/v1/history/pnl?from=yesterday", "from" },
			{ "/api/v1/history/orders?to=2017-13-45", "to" },
			{ "/api/v1/history/fills?strategy=a%20b", "strategy" },
			{ "/api/v1/history/fills?daemon="
			  "0123456789012345678901234567890123456789012345678901234567890123456789",
			  "daemon" },
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			long st = get(port, bad[i].path, true, &doc);
			printf("%s -> %ld %s\n", bad[i].path, st, error_of(doc));
			assert_int_equal(st, 400);
			assert_int_equal(strncmp(error_of(doc), bad[i].name, strlen(bad[i].name)), 0);
			json_decref(doc);
		}
	}
	assert_int_equal(get(port, "/api/v1/history/equity", true, &doc), 404);
	json_decref(doc);

	/* The store cannot be opened: 503 with the reason; back again, 200. */
	assert_int_equal(rename(db, moved), 0);
	assert_int_equal(get(port, "/api/v1/history/fills", true, &doc), 503);
	printf("store away: %s\n", error_of(doc));
	assert_non_null(strstr(error_of(doc), "history store"));
	json_decref(doc);
	assert_int_equal(rename(moved, db), 0);
	assert_int_equal(get(port, "/api/v1/history/fills?limit=1", true, &doc), 200);
	json_decref(doc);

	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
}

static void test_history_store_off(void **state)
{
	uint16_t port = it_free_port();
	char sum[300];
	const char *sets[] = { "store.kind=off", NULL };
	json_t *doc;

	(void)state;
	snprintf(sum, sizeof(sum), "%s/off.json", it_tmpdir);
	start_lingering(port, "off", sets, sum);
	assert_int_equal(get(port, "/api/v1/history/fills", false, &doc), 401);
	json_decref(doc);
	assert_int_equal(get(port, "/api/v1/history/fills", true, &doc), 404);
	printf("store off: %s\n", error_of(doc));
	assert_non_null(strstr(error_of(doc), "store is off"));
	json_decref(doc);
	assert_int_equal(get(port, "/api/v1/status", true, &doc), 200); /* the rest is served */
	json_decref(doc);
	assert_int_equal(it_reap(&it_run_pid, SIGINT, 20000), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_history_endpoints, it_teardown),
		cmocka_unit_test_teardown(test_history_store_off, it_teardown),
	};
	int rc;

	(void)argc;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_api_history", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
