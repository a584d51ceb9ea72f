/*
 * bench_api.c - what the status API costs the pipeline: tick-to-order with
 * the API off, and on (127.0.0.1, port 0, a token) with a scraper thread
 * doing GET /metrics and GET /api/v1/status at 10 Hz, in the same run;
 * and the /metrics exposition's size and render time.
 *
 * Method
 * ------
 * The pipeline as bench_pipeline.c runs it (synthetic feed, one sma_cross
 * 2/4 on the paper venue) in one configuration, shared threading with a
 * spinning worker at 10k events/s (the headline pipeline target), for
 * API_SECS per run. Off and on alternate, API_ROUNDS rounds each (fewer
 * under --quick), so drift hits both alike; each run's p50 and p99 come
 * from the engine's own tick-to-order histogram; the figures are the
 * medians over runs, the ratios on / off of those medians.
 *
 * The scraper (libcurl, one handle reused: keep-alive) starts once the
 * engine is initialised (the API is bound then) and stops after the run;
 * it counts its scrapes and failures, the /metrics body size, and the time
 * of one ig_api_metrics_text() on the live snapshot (median of 200, inside
 * one RCU read-side section).
 */
#include "bench.h"

#include "api/api.h"
#include "api/snapshot.h"
#include "app/engine.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingenium/fixed.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define API_SECS 2.0
#define API_ROUNDS 5
#define API_TOKEN "bench-api-token"
#define API_RENDERS 200

static struct ig_config api_cfg;
static struct ig_engine api_eng;

static void api_config(struct ig_config *cfg, bool quick, bool api_on)
{
	bench_pipeline_config(cfg);
	cfg->feed.rate = 10000;
	cfg->feed.count = (int64_t)(10000.0 * (quick ? API_SECS / 2 : API_SECS));
	cfg->engine.threading = IG_THREADING_SHARED;
	cfg->engine.wait = 0; /* spin */
	cfg->engine.workers = 1;
	if (api_on) {
		snprintf(cfg->api.listen, sizeof(cfg->api.listen), "127.0.0.1:0");
		snprintf(cfg->api.token_env, sizeof(cfg->api.token_env), "IG_BENCH_API_TOKEN");
	}
}

struct scraper {
	uint16_t port;
	struct ig_snap_pub *pub, *lat;
	int stop;             /* atomic */
	uint32_t scrapes, failures;
	size_t metrics_bytes;
	double render_ns;     /* median of API_RENDERS, 0 = not measured */
};

static size_t count_body(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	*(size_t *)arg += size * n;
	return size * n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Renders /metrics from the live snapshot API_RENDERS times; the median
 * time of one. Registers with liburcu for it. */
static double render_time(struct scraper *sc)
{
	static double t[API_RENDERS];
	const struct ig_api_info info = { "bench", "shared", "paper", 1, ig_clock_real_ns() };
	const struct ig_snapshot *snap, *ls;
	uint32_t n = 0;

	ig_snap_thread_register();
	ig_snap_read_lock();
	snap = ig_snap_current(sc->pub);
	ls = ig_snap_current(sc->lat);
	for (uint32_t i = 0; snap != NULL && i < API_RENDERS; i++) {
		size_t len = 0;
		int64_t t0 = ig_clock_mono_ns();
		char *text = ig_api_metrics_text(snap, ls != NULL ? &ls->tick_to_order : NULL, &info,
						 &len);
		t[n++] = (double)(ig_clock_mono_ns() - t0);
		free(text);
	}
	ig_snap_read_unlock();
	ig_snap_thread_unregister();
	if (n == 0)
		return 0;
	qsort(t, n, sizeof(t[0]), cmp_d);
	return t[n / 2];
}

static void *scrape_thread(void *arg)
{
	struct scraper *sc = arg;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Authorization: Bearer " API_TOKEN);
	char url[2][96];
	int64_t next = ig_clock_mono_ns();

	snprintf(url[0], sizeof(url[0]), "http://127.0.0.1:%u/metrics", sc->port);
	snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%u/api/v1/status", sc->port);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, count_body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 2L);
	while (!__atomic_load_n(&sc->stop, __ATOMIC_ACQUIRE)) {
		int64_t now = ig_clock_mono_ns();
		if (now < next) {
			struct timespec ts = { 0, (long)(next - now < 5000000 ? next - now : 5000000) };
			nanosleep(&ts, NULL);
			continue;
		}
		next += 100000000; /* 10 Hz */
		for (int k = 0; k < 2; k++) {
			size_t bytes = 0;
			long status = 0;
			curl_easy_setopt(c, CURLOPT_URL, url[k]);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &bytes);
			if (curl_easy_perform(c) == CURLE_OK)
				curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			if (status == 200) {
				sc->scrapes++;
				if (k == 0)
					sc->metrics_bytes = bytes;
			} else if (status != 503) { /* 503: no snapshot yet, at the start */
				sc->failures++;
			}
		}
		if (sc->render_ns == 0 && sc->metrics_bytes > 0)
			sc->render_ns = render_time(sc);
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return NULL;
}

struct api_run {
	double p50, p99;
	bool ok;
};

static struct api_run api_run_once(struct bench_ctx *ctx, bool api_on, struct scraper *sc)
{
	struct ig_engine_opts opts;
	struct api_run r = { 0, 0, false };
	pthread_t t;
	bool started = false;
	char err[512];

	api_config(&api_cfg, ctx->quick, api_on);
	memset(&opts, 0, sizeof(opts));
	opts.epoch = 1;
	opts.api = api_on;
	if (ig_engine_init(&api_eng, &api_cfg, &opts, err, sizeof(err)) != 0) {
		bench_fail(ctx, "engine init (api %s): %s", api_on ? "on" : "off", err);
		return r;
	}
	if (api_on) {
		sc->port = ig_api_port(api_eng.api);
		sc->pub = api_eng.snap_pub;
		sc->lat = api_eng.lat_pub;
		__atomic_store_n(&sc->stop, 0, __ATOMIC_RELEASE);
		started = pthread_create(&t, NULL, scrape_thread, sc) == 0;
		if (!started)
			bench_fail(ctx, "cannot start the scraper thread");
	}
	if (ig_engine_run(&api_eng) == 0) {
		const struct ig_hist *h = &api_eng.exec.tick_to_order;
		r.p50 = (double)ig_hist_quantile(h, 0.50);
		r.p99 = (double)ig_hist_quantile(h, 0.99);
		r.ok = h->count > 0;
	} else {
		bench_fail(ctx, "engine run failed (api %s)", api_on ? "on" : "off");
	}
	if (started) {
		__atomic_store_n(&sc->stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
	ig_engine_destroy(&api_eng);
	return r;
}

void bench_api(struct bench_ctx *ctx)
{
	double p50[2][BENCH_MAX_REPEATS], p99[2][BENCH_MAX_REPEATS];
	uint32_t n[2] = { 0, 0 }, rounds = ctx->quick ? 2 : API_ROUNDS;
	struct scraper sc;
	double m50[2], m99[2];

	ig_log_set_level(IG_LOG_ERROR);
	setenv("IG_BENCH_API_TOKEN", API_TOKEN, 1);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	memset(&sc, 0, sizeof(sc));
	for (uint32_t k = 0; k < rounds; k++) {
		for (int on = 0; on < 2; on++) {
			struct api_run r = api_run_once(ctx, on == 1, &sc);
			if (!r.ok)
				continue;
			p50[on][n[on]] = r.p50;
			p99[on][n[on]] = r.p99;
			n[on]++;
		}
	}
	curl_global_cleanup();
	unsetenv("IG_BENCH_API_TOKEN");
	if (n[0] == 0 || n[1] == 0) {
		bench_fail(ctx, "api: no orders measured (off %u, on %u runs)", n[0], n[1]);
		return;
	}
	m50[0] = bench_result_median(ctx, "api.off.tick_to_order_p50_ns", p50[0], n[0], "ns");
	m99[0] = bench_result_median(ctx, "api.off.tick_to_order_p99_ns", p99[0], n[0], "ns");
	m50[1] = bench_result_median(ctx, "api.on.tick_to_order_p50_ns", p50[1], n[1], "ns");
	m99[1] = bench_result_median(ctx, "api.on.tick_to_order_p99_ns", p99[1], n[1], "ns");
	if (m50[0] > 0)
		bench_result(ctx, "api.on_vs_off.p50_ratio", m50[1] / m50[0], "x");
	if (m99[0] > 0)
		bench_result(ctx, "api.on_vs_off.p99_ratio", m99[1] / m99[0], "x");
	bench_result(ctx, "api.scrapes", (double)sc.scrapes, "requests");
	bench_result(ctx, "api.scrape_failures", (double)sc.failures, "requests");
	bench_result(ctx, "api.metrics_bytes", (double)sc.metrics_bytes, "bytes");
	if (sc.render_ns > 0)
		bench_result(ctx, "api.metrics_render_ns", sc.render_ns, "ns");
	if (sc.failures > 0)
		bench_note(ctx, "%u scrapes failed", sc.failures);
}
