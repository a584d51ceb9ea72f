/* test_api_docs.c - the risk, config and venue documents and the venue,
 * journal and back-pressure metric families, rendered from hand-built
 * snapshots and configs and checked exactly; the exposition stays valid
 * Prometheus text (each sample after its family's # TYPE, no family
 * twice). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/snapshot.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/hist.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ig_snapshot snap;
static const struct ig_api_info info = { "1.2.3", "dedicated", "luno", 42, 0 };

static void fill(void)
{
	memset(&snap, 0, sizeof(snap));
	snap.seq = 9;
	snap.ninstruments = 1;
	snprintf(snap.symbols[0], sizeof(snap.symbols[0]), "XBTZAR");
	snap.nstrategies = 1;
	snprintf(snap.s[0].name, sizeof(snap.s[0].name), "fast");
	snprintf(snap.s[0].type, sizeof(snap.s[0].type), "sma_cross");
	snap.s[0].qty[0] = IG_FIXED(1) / 2;          /* 0.5 */
	snap.s[0].open_buy_qty[0] = IG_FIXED(1) / 4; /* worst buy side 0.75 */
	snap.s[0].open_sell_qty[0] = IG_FIXED(1);    /* worst sell side 0.5 */
	snap.s[0].open_orders = 2;
	snap.s[0].rate_used = 3;
	snap.s[0].drawdown_pct = IG_FIXED(12) / 10;  /* 1.2 */
	snap.s[0].daily_loss = IG_FIXED(7);
	snap.s[0].lim.max_order_qty = IG_FIXED(1);
	snap.s[0].lim.max_order_notional = IG_RISK_UNSET;
	snap.s[0].lim.max_position_qty = IG_FIXED(2);
	snap.s[0].lim.max_open_orders = 10;
	snap.s[0].lim.max_orders_per_sec = 50;
	snap.s[0].lim.price_collar_bps = 500;
	snap.s[0].lim.stale_data_ms = IG_RISK_UNSET;
	snap.s[0].lim.duplicate_window_ms = 0;
	snap.s[0].lim.daily_loss_limit = IG_FIXED(100);
	snap.s[0].lim.max_drawdown_pct = IG_FIXED(10);
	snap.s[0].lim.drawdown_action = IG_BREACH_HALTED;
	snap.global_rate_per_s = 80;
	snap.global_rate_used = 4;
}

static json_t *limit_of(json_t *limits, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(limits, i, e)
		if (strcmp(json_string_value(json_object_get(e, "limit")), name) == 0)
			return e;
	fail_msg("no limit %s", name);
	return NULL;
}

static void assert_str(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		fail_msg("%s: not a string", key);
	assert_string_equal(json_string_value(v), want);
}

static void test_risk_json(void **state)
{
	json_t *doc, *s, *l, *e;

	(void)state;
	fill();
	doc = ig_api_risk_json(&snap);
	assert_non_null(doc);
	assert_str(doc, "trading_state", "active");
	assert_true(json_is_false(json_object_get(doc, "kill_switch")));
	e = json_array_get(json_object_get(json_object_get(doc, "global"), "limits"), 0);
	assert_str(e, "limit", "max_orders_per_sec");
	assert_int_equal(json_integer_value(json_object_get(e, "value")), 80);
	assert_int_equal(json_integer_value(json_object_get(e, "use")), 4);
	s = json_array_get(json_object_get(doc, "strategies"), 0);
	assert_str(s, "name", "fast");
	assert_str(s, "state", "active");
	l = json_object_get(s, "limits");
	assert_int_equal(json_array_size(l), 10);
	e = limit_of(l, "max_order_qty");
	assert_str(e, "value", "1");
	assert_true(json_is_null(json_object_get(e, "use")));
	assert_true(json_is_null(json_object_get(limit_of(l, "max_order_notional"), "value")));
	e = limit_of(l, "max_position_qty");
	assert_str(e, "symbol", "XBTZAR");
	assert_str(e, "value", "2");
	assert_str(e, "use", "0.5");
	assert_str(e, "worst", "0.75");
	e = limit_of(l, "max_open_orders");
	assert_int_equal(json_integer_value(json_object_get(e, "value")), 10);
	assert_int_equal(json_integer_value(json_object_get(e, "use")), 2);
	e = limit_of(l, "max_orders_per_sec");
	assert_int_equal(json_integer_value(json_object_get(e, "value")), 50);
	assert_int_equal(json_integer_value(json_object_get(e, "use")), 3);
	assert_int_equal(json_integer_value(json_object_get(limit_of(l, "price_collar_bps"), "value")), 500);
	assert_true(json_is_null(json_object_get(limit_of(l, "stale_data_ms"), "value")));
	assert_int_equal(json_integer_value(json_object_get(limit_of(l, "duplicate_window_ms"), "value")), 0);
	e = limit_of(l, "daily_loss_limit");
	assert_str(e, "value", "100");
	assert_str(e, "use", "7");
	e = limit_of(l, "max_drawdown_pct");
	assert_str(e, "value", "10");
	assert_str(e, "use", "1.2");
	assert_str(e, "action", "halted");
	json_decref(doc);
}

static void test_venue_json(void **state)
{
	struct ig_snap_venue v;
	json_t *doc;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.requests = 120;
	v.errors = 5;
	v.http_429 = 2;
	v.last_rtt_ns = 1500000; /* 1.5 ms */
	v.state = IG_SNAP_VENUE_DEGRADED;
	v.http_errors[IG_SNAP_HTTP_429] = 2;
	v.http_errors[IG_SNAP_HTTP_TRANSPORT] = 3;
	doc = ig_api_venue_json(&v, "luno", true);
	assert_str(doc, "kind", "luno");
	assert_true(json_is_true(json_object_get(doc, "reconciled")));
	assert_true(json_real_value(json_object_get(doc, "last_round_trip_ms")) == 1.5);
	assert_int_equal(json_integer_value(json_object_get(doc, "requests")), 120);
	assert_int_equal(json_integer_value(json_object_get(doc, "errors")), 5);
	assert_int_equal(json_integer_value(json_object_get(doc, "http_429")), 2);
	assert_str(doc, "state", "degraded");
	assert_int_equal(json_object_size(json_object_get(doc, "http_errors")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "http_errors"), "transport")), 3);
	json_decref(doc);
	/* No health (paper): zeros, ok, no round trip. */
	doc = ig_api_venue_json(NULL, "paper", false);
	assert_str(doc, "state", "ok");
	assert_int_equal(json_integer_value(json_object_get(doc, "requests")), 0);
	assert_true(json_is_null(json_object_get(doc, "last_round_trip_ms")));
	json_decref(doc);
}

static void test_http_code_slots(void **state)
{
	(void)state;
	assert_int_equal(ig_snap_http_code_slot(200), -1);
	assert_int_equal(ig_snap_http_code_slot(302), -1);
	assert_int_equal(ig_snap_http_code_slot(0), IG_SNAP_HTTP_TRANSPORT);
	assert_int_equal(ig_snap_http_code_slot(429), IG_SNAP_HTTP_429);
	assert_int_equal(ig_snap_http_code_slot(418), IG_SNAP_HTTP_4XX);
	assert_int_equal(ig_snap_http_code_slot(503), IG_SNAP_HTTP_503);
	assert_int_equal(ig_snap_http_code_slot(599), IG_SNAP_HTTP_5XX);
	assert_string_equal(ig_snap_http_code_name(IG_SNAP_HTTP_5XX), "5xx");
}

/* A config as the loader leaves it, with secrets in the environment. */
static void test_config_redacted(void **state)
{
	static struct ig_config cfg;
	char *text;
	json_t *doc, *v, *s;

	(void)state;
	setenv("IG_TEST_DOCS_TOKEN", "tok-SECRET-4242", 1);
	setenv("IG_TEST_DOCS_KEY", "key-SECRET-1717", 1);
	setenv("IG_TEST_DOCS_SECRET", "sec-SECRET-9999", 1);
	ig_config_defaults(&cfg);
	snprintf(cfg.api.token_env, sizeof(cfg.api.token_env), "IG_TEST_DOCS_TOKEN");
	snprintf(cfg.venue.key_id_env, sizeof(cfg.venue.key_id_env), "IG_TEST_DOCS_KEY");
	snprintf(cfg.venue.secret_env, sizeof(cfg.venue.secret_env), "IG_TEST_DOCS_SECRET");
	cfg.risk.max_order_qty = IG_FIXED(3) / 2;
	cfg.nstrategies = 1;
	snprintf(cfg.strategies[0].name, sizeof(cfg.strategies[0].name), "fast");
	snprintf(cfg.strategies[0].type, sizeof(cfg.strategies[0].type), "sma_cross");
	cfg.strategies[0].nsymbols = 1;
	snprintf(cfg.strategies[0].symbols[0], sizeof(cfg.strategies[0].symbols[0]), "XBTZAR");
	cfg.strategies[0].capital = IG_FIXED(1000);
	cfg.strategies[0].nparams = 1;
	snprintf(cfg.strategies[0].params[0].key, sizeof(cfg.strategies[0].params[0].key), "fast");
	snprintf(cfg.strategies[0].params[0].value, sizeof(cfg.strategies[0].params[0].value), "5");
	cfg.strategies[0].risk.max_order_qty = IG_FIXED(2);
	cfg.strategies[0].risk.drawdown_action = IG_BREACH_INHERIT;

	doc = ig_api_config_json(&cfg);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, "tok-SECRET-4242"));
	assert_null(strstr(text, "key-SECRET-1717"));
	assert_null(strstr(text, "sec-SECRET-9999"));
	v = json_object_get(doc, "venue");
	assert_str(v, "secret", "<redacted>");
	assert_str(v, "key_id", "<redacted>");
	assert_str(v, "secret_env", "IG_TEST_DOCS_SECRET");
	assert_str(v, "kind", "paper");
	assert_int_equal(json_integer_value(json_object_get(v, "timeout_ms")), IG_CFG_DEFAULT_TIMEOUT_MS);
	assert_str(json_object_get(doc, "api"), "token", "<redacted>");
	assert_str(json_object_get(doc, "api"), "token_env", "IG_TEST_DOCS_TOKEN");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "api"), "publish_ms")),
			 IG_CFG_DEFAULT_API_PUBLISH_MS);
	assert_str(json_object_get(doc, "engine"), "threading", "dedicated");
	assert_str(json_object_get(doc, "risk"), "max_order_qty", "1.5");
	assert_true(json_is_null(json_object_get(json_object_get(doc, "risk"), "max_open_orders")));
	assert_true(json_is_null(json_object_get(json_object_get(doc, "feed"), "from_ns")));
	s = json_array_get(json_object_get(doc, "strategies"), 0);
	assert_str(s, "name", "fast");
	assert_str(s, "capital", "1000");
	assert_str(json_object_get(s, "params"), "fast", "5");
	assert_str(json_object_get(s, "risk"), "max_order_qty", "2");
	assert_str(json_object_get(s, "risk"), "drawdown_action", "inherit");
	assert_string_equal(json_string_value(json_array_get(json_object_get(s, "symbols"), 0)), "XBTZAR");
	free(text);
	json_decref(doc);
	unsetenv("IG_TEST_DOCS_TOKEN");
	unsetenv("IG_TEST_DOCS_KEY");
	unsetenv("IG_TEST_DOCS_SECRET");
}

/* Review: credentials in a URL never reach /api/v1/config. The Luno
 * venue refuses a venue.base_url with user:password@ when it opens it,
 * but a paper run (or any other string, e.g. a string param holding a
 * webhook URL) took it into the document verbatim. */
static void test_config_url_credentials_redacted(void **state)
{
	static struct ig_config cfg;
	char *text;
	json_t *doc, *s;

	(void)state;
	ig_config_defaults(&cfg);
	snprintf(cfg.venue.base_url, sizeof(cfg.venue.base_url),
		 "https://keyid:pw-Zq7-5151@api.luno.com/");
	cfg.nstrategies = 1;
	snprintf(cfg.strategies[0].name, sizeof(cfg.strategies[0].name), "fast");
	snprintf(cfg.strategies[0].type, sizeof(cfg.strategies[0].type), "sma_cross");
	cfg.strategies[0].nparams = 2;
	snprintf(cfg.strategies[0].params[0].key, sizeof(cfg.strategies[0].params[0].key), "hook");
	snprintf(cfg.strategies[0].params[0].value, sizeof(cfg.strategies[0].params[0].value),
		 "http://hooks.example/x?token=q-Zq7-6262#f");
	snprintf(cfg.strategies[0].params[1].key, sizeof(cfg.strategies[0].params[1].key), "fast");
	snprintf(cfg.strategies[0].params[1].value, sizeof(cfg.strategies[0].params[1].value), "5");

	doc = ig_api_config_json(&cfg);
	assert_non_null(doc);
	text = json_dumps(doc, JSON_COMPACT);
	assert_non_null(text);
	assert_null(strstr(text, "Zq7"));
	assert_null(strstr(text, "keyid"));
	assert_str(json_object_get(doc, "venue"), "base_url", "https://<redacted>@api.luno.com/");
	s = json_object_get(json_array_get(json_object_get(doc, "strategies"), 0), "params");
	assert_str(s, "hook", "http://hooks.example/x?<redacted>");
	assert_str(s, "fast", "5");
	free(text);
	json_decref(doc);
}

/* Checks Prometheus text format: every sample's family (its name less a
 * _bucket/_sum/_count suffix of a histogram) had its # TYPE before it,
 * and no family is declared twice. Returns the number of families. */
static int prom_check(const char *text)
{
	char fam[64][96];
	char type[64][16];
	int nfam = 0;
	const char *p = text;

	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len;
		char line[512];
		assert_non_null(eol); /* every line ends in \n */
		len = (size_t)(eol - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		p = eol + 1;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[96], t[16];
			assert_int_equal(sscanf(line + 7, "%95s %15s", name, t), 2);
			for (int i = 0; i < nfam; i++)
				if (strcmp(fam[i], name) == 0)
					fail_msg("family %s declared twice", name);
			assert_true(nfam < 64);
			snprintf(fam[nfam], sizeof(fam[nfam]), "%s", name);
			snprintf(type[nfam], sizeof(type[nfam]), "%s", t);
			nfam++;
		} else if (line[0] != '#' && line[0] != '\0') {
			char name[96];
			size_t n = strcspn(line, "{ ");
			bool ok = false;
			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			assert_non_null(strchr(line, ' ')); /* a value */
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

static void test_metrics_more(void **state)
{
	static struct ig_hist h;
	static struct ig_snap_venue v;
	static struct ig_snap_latency tto, sync;
	static const int64_t slow[IG_SNAP_LAT_BUCKETS] = IG_SNAP_SLOW_BOUNDS_NS;
	struct ig_api_metrics_src src;
	size_t len = 0;
	char *text;
	int64_t t0, t1;
	size_t big_len;

	(void)state;
	fill();
	/* Venue requests: 2 ms, 3 ms, 40 s (past every bound but 60 s). */
	ig_hist_init(&h);
	ig_hist_record(&h, 2000000);
	ig_hist_record(&h, 3000000);
	ig_hist_record(&h, INT64_C(40000000000));
	memset(&v, 0, sizeof(v));
	ig_snap_latency_fill(&h, slow, IG_SNAP_LAT_BUCKETS, &v.request);
	assert_int_equal(v.request.count, 3);
	v.http_errors[IG_SNAP_HTTP_503] = 4;
	v.last_rtt_ns = 3000000;
	v.state = IG_SNAP_VENUE_DOWN;
	/* Journal syncs: 1 ms, twice. */
	ig_hist_init(&h);
	ig_hist_record(&h, 1000000);
	ig_hist_record(&h, 1000000);
	ig_snap_latency_fill(&h, slow, IG_SNAP_LAT_BUCKETS, &sync);
	memset(&tto, 0, sizeof(tto));
	src = (struct ig_api_metrics_src){ .snap = &snap, .tick_to_order = &tto, .venue = &v,
					   .journal_sync = &sync, .have_backpressure = true,
					   .backpressure = 17 };
	text = ig_api_metrics_page(&src, &info, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	/* Samples, exactly. The 2 and 3 ms samples count under le 0.0025 and
	 * 0.005 (a bucket's upper edge: never low). */
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"0.0025\"} 1\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"0.005\"} 2\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"30\"} 2\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"60\"} 3\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_sum 40.005\n"));
	assert_non_null(strstr(text, "\ningenium_venue_request_seconds_count 3\n"));
	assert_non_null(strstr(text, "\ningenium_venue_http_errors_total{code=\"503\"} 4\n"));
	assert_non_null(strstr(text, "\ningenium_venue_http_errors_total{code=\"transport\"} 0\n"));
	assert_non_null(strstr(text, "\ningenium_venue_last_round_trip_seconds 0.003\n"));
	assert_non_null(strstr(text, "\ningenium_venue_up 0\n"));
	/* 1 ms lies in a fine bucket whose upper edge is above 1 ms: it
	 * counts one bucket high (never low). */
	assert_non_null(strstr(text, "\ningenium_journal_fsync_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(text, "\ningenium_journal_fsync_seconds_bucket{le=\"0.0025\"} 2\n"));
	assert_non_null(strstr(text, "\ningenium_journal_fsync_seconds_sum 0.002\n"));
	assert_non_null(strstr(text, "\ningenium_journal_fsync_seconds_count 2\n"));
	assert_non_null(strstr(text, "\ningenium_backpressure_events_total 17\n"));
	assert_non_null(strstr(text, "\ningenium_tick_to_order_seconds_count 0\n"));
	assert_int_equal(prom_check(text), 16);
	free(text);

	/* Left out when absent: the page of ig_api_metrics_text is as before. */
	text = ig_api_metrics_text(&snap, NULL, &info, &len);
	assert_null(strstr(text, "ingenium_venue_"));
	assert_null(strstr(text, "ingenium_journal_"));
	assert_null(strstr(text, "ingenium_backpressure_"));
	assert_int_equal(prom_check(text), 9);
	free(text);

	/* Size and render time of a full page with 64 strategies and 16
	 * symbols (printed for the record, never asserted). */
	snap.nstrategies = IG_MAX_STRATEGIES;
	snap.ninstruments = IG_MAX_INSTRUMENTS;
	for (uint32_t i = 0; i < IG_MAX_STRATEGIES; i++) {
		snap.s[i] = snap.s[0];
		snprintf(snap.s[i].name, sizeof(snap.s[i].name), "strategy_%02u", i);
	}
	for (int k = 0; k < IG_MAX_INSTRUMENTS; k++)
		snprintf(snap.symbols[k], sizeof(snap.symbols[k]), "SYM%02dZAR", k);
	t0 = ig_clock_mono_ns();
	for (int r = 0; r < 100; r++) {
		text = ig_api_metrics_page(&src, &info, &len);
		assert_non_null(text);
		if (r < 99)
			free(text);
	}
	t1 = ig_clock_mono_ns();
	big_len = len;
	prom_check(text);
	free(text);
	fill();
	src.snap = &snap;
	text = ig_api_metrics_page(&src, &info, &len);
	printf("metrics page: 1 strategy x 1 symbol %zu bytes; ", len);
	free(text);
	text = ig_api_metrics_page(&src, &info, &len);
	free(text);
	printf("64 x 16: %zu bytes, render %.1f us (mean of 100)\n", big_len,
	       (double)(t1 - t0) / 100 / 1000);
}

/* The streams in the status API and /metrics: the venue's push stream
 * (the Luno user stream: state and counters) from its health, the feed's
 * (the Luno market stream: counters, resyncs by reason) from its counters'
 * JSON; neither appears when there is none. */
static void test_stream_status_and_metrics(void **state)
{
	static struct ig_snap_venue v;
	static struct ig_snap_latency tto;
	struct ig_api_metrics_src src;
	json_t *doc, *us, *feed;
	size_t len = 0;
	char *text;

	(void)state;
	fill();
	memset(&v, 0, sizeof(v));
	memset(&tto, 0, sizeof(tto));
	doc = ig_api_venue_json(&v, "luno", true);
	assert_null(json_object_get(doc, "user_stream"));
	json_decref(doc);
	v.stream.state = IG_SNAP_STREAM_LIVE;
	v.stream.connects = 3;
	v.stream.drops = 2;
	v.stream.messages = 41;
	v.stream.catchups = 3;
	v.stream.fallbacks = 2;
	v.stream.polls_saved = 120;
	doc = ig_api_venue_json(&v, "luno", true);
	us = json_object_get(doc, "user_stream");
	assert_non_null(us);
	assert_str(us, "state", "live");
	assert_int_equal(json_integer_value(json_object_get(us, "connects")), 3);
	assert_int_equal(json_integer_value(json_object_get(us, "drops")), 2);
	assert_int_equal(json_integer_value(json_object_get(us, "messages")), 41);
	assert_int_equal(json_integer_value(json_object_get(us, "catchups")), 3);
	assert_int_equal(json_integer_value(json_object_get(us, "fallbacks")), 2);
	assert_int_equal(json_integer_value(json_object_get(us, "polls_saved")), 120);
	json_decref(doc);

	feed = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:I, s:I, s:I}}", "stream",
			 "connects", (json_int_t)5, "snapshots", (json_int_t)5, "messages",
			 (json_int_t)9000, "keepalives", (json_int_t)7, "quotes", (json_int_t)800,
			 "trades", (json_int_t)90, "quotes_dropped", (json_int_t)1, "trades_dropped",
			 (json_int_t)0, "stream_resyncs", "total", (json_int_t)4, "sequence",
			 (json_int_t)3, "closed", (json_int_t)1);
	assert_non_null(feed);
	src = (struct ig_api_metrics_src){ .snap = &snap, .tick_to_order = &tto, .venue = &v,
					   .feed = feed };
	text = ig_api_metrics_page(&src, &info, &len);
	assert_non_null(text);
	assert_non_null(strstr(text, "\ningenium_venue_user_stream_live 1\n"));
	assert_non_null(strstr(text, "\ningenium_venue_user_stream_connects_total 3\n"));
	assert_non_null(strstr(text, "\ningenium_venue_user_stream_drops_total 2\n"));
	assert_non_null(strstr(text, "\ningenium_venue_user_stream_fallbacks_total 2\n"));
	assert_non_null(strstr(text, "\ningenium_venue_polls_saved_total 120\n"));
	assert_non_null(strstr(text, "\ningenium_feed_stream_messages_total 9000\n"));
	assert_non_null(strstr(text, "\ningenium_feed_stream_snapshots_total 5\n"));
	assert_non_null(strstr(text, "\ningenium_feed_stream_dropped_total{kind=\"quote\"} 1\n"));
	assert_non_null(strstr(text, "\ningenium_feed_stream_resyncs_total{reason=\"sequence\"} 3\n"));
	assert_non_null(strstr(text, "\ningenium_feed_stream_resyncs_total{reason=\"closed\"} 1\n"));
	assert_null(strstr(text, "reason=\"total\""));
	/* Every family well formed: the core ones, the venue's 4 and the
	 * user stream's 7, the feed stream's 7. */
	assert_int_equal(prom_check(text), 9 + 1 + 4 + 7 + 7);
	free(text);
	/* Polling: 0; no stream at all: none of it. */
	v.stream.state = IG_SNAP_STREAM_POLLING;
	src.feed = NULL;
	text = ig_api_metrics_page(&src, &info, &len);
	assert_non_null(strstr(text, "\ningenium_venue_user_stream_live 0\n"));
	assert_null(strstr(text, "ingenium_feed_stream_"));
	free(text);
	v.stream.state = IG_SNAP_STREAM_NONE;
	text = ig_api_metrics_page(&src, &info, &len);
	assert_null(strstr(text, "user_stream"));
	free(text);
	json_decref(feed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_risk_json),
		cmocka_unit_test(test_venue_json),
		cmocka_unit_test(test_http_code_slots),
		cmocka_unit_test(test_config_redacted),
		cmocka_unit_test(test_config_url_credentials_redacted),
		cmocka_unit_test(test_metrics_more),
		cmocka_unit_test(test_stream_status_and_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
