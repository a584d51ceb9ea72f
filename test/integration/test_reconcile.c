/*
 * test_reconcile.c - the reconciliation matrix (issue 5): the real daemon
 * recovers from a journal against the real exchange-sim, whose account was
 * changed while the daemon was "down". Each case must end in the state
 * docs/architecture.md documents.
 *
 * The journal is written here the way the daemon writes it: an OMS with
 * journaling on, feeding a journal stage (jstage.h), given a mark and the
 * intents and venue acknowledgements of the run that "crashed". The sim
 * runs without synthetic flow (--flow-ms 0: a still book), so every fill
 * is one this test causes with POST /sim/take.
 *
 * Matrix run (one journal, one recovery):
 *   A  acknowledged, then filled while down     -> the fill applied once, FILLED
 *   B  acknowledged, partly filled, then cancelled at the venue while down
 *                                               -> the fill applied, CANCELED
 *   C  submitted (durable) but never seen by the venue
 *                                               -> REJECTED after the in-doubt
 *                                                  window; never sent
 *   D  at the venue with our client-id prefix, not in the journal
 *                                               -> adopted (ACCEPTED), then
 *                                                  cancelled by the graceful stop
 *   F  at the venue, not ours                   -> reported as foreign, untouched
 *   and: trading opens (reconciled), books = the venue's balances exactly.
 * Mismatch run: the journal's baseline says the account held 0.5 XBT more
 *   than it does -> the difference is reported, trading stays closed
 *   (on_mismatch: halt), the summary says why.
 * Unreachable run: the venue does not answer -> reconciliation fails after
 *   its timeout, trading stays closed, the summary says why.
 */
#include "itest.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "luno/luno_venue.h"
#include "ingenium/fixed.h"
#include "journal/jstage.h"
#include "journal/recover.h"
#include "oms/oms.h"

#define KEY "matrix-key"
#define SECRET "matrix-secret"
#define EPOCH 100u






static int start_sim(const char *name, const char *state)
{
	char out[300];
	const char *argv[] = { it_bin,   "exchange-sim", "--listen", "127.0.0.1:0", "--seed", "5",
			       "--flow-ms", "0",          "--state",  state,         NULL };
	snprintf(out, sizeof(out), "%s/%s.sim.out", it_tmpdir, name);
	it_sim_pid = it_spawn(argv, out, false);
	return it_sim_port(out);
}

struct buf {
	char data[16384];
	size_t len;
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t k = sz * n;
	if (b->len + k >= sizeof(b->data))
		k = sizeof(b->data) - b->len - 1;
	memcpy(b->data + b->len, p, k);
	b->len += k;
	b->data[b->len] = '\0';
	return sz * n;
}

/* POSTs form to the sim; returns the reply as JSON (caller frees). */
static json_t *sim_post(int port, const char *path, const char *form)
{
	char url[256];
	struct buf b = { .len = 0 };
	CURL *c = curl_easy_init();
	long code = 0;
	json_t *j;

	assert_non_null(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_USERNAME, KEY);
	curl_easy_setopt(c, CURLOPT_PASSWORD, SECRET);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (code != 200)
		fail_msg("POST %s %s: HTTP %ld %s", path, form, code, b.data);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	return j;
}

/* Places a resting BID at the sim; returns its order id (static buffer). */
static const char *sim_bid(int port, const char *client_order_id, const char *px, const char *vol)
{
	static char id[64];
	char form[256];
	json_t *j;
	snprintf(form, sizeof(form), "pair=XBTZAR&type=BID&price=%s&volume=%s&client_order_id=%s", px,
		 vol, client_order_id);
	j = sim_post(port, "/api/1/postorder", form);
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "order_id")));
	json_decref(j);
	return id;
}

static uint64_t cid(uint32_t seq)
{
	return (uint64_t)EPOCH << 32 | seq; /* strategy 0 */
}

static void coid(uint64_t id, char *buf, size_t cap)
{
	ig_luno_client_order_id(id, buf, cap);
}

/* ------------------------------------------------ writing the journal */

static struct ig_jstage js;

static void jemit(struct ig_emit *self, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	(void)idx;
	if (dst != IG_STAGE_JOURNAL)
		return; /* what the crashed run sent: the sim's state says what came of it */
	ig_jstage_handle(&js, ev, self);
	ig_jstage_commit(&js, ig_clock_mono_ns(), true, self);
}

static struct ig_emit jout = { .fn = jemit, .src = IG_STAGE_OMS, .stamp = false };

static void write_config(const char *path)
{
	/* luno.yaml's limits, one strategy that will not trade in a few
	 * seconds (its slow average needs 500 ticks). */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "engine: {threading: dedicated, wait: adaptive, strategy_threads: 1}\n"
		   "feed: {source: luno, heartbeat_ms: 200, symbol: XBTZAR}\n"
		   "venue: {kind: luno, base_url: https://api.luno.com, maker_fee_bps: 0,\n"
		   "        taker_fee_bps: 10, timeout_ms: 2000, status_ms: 200, in_doubt_window_ms: 800}\n"
		   "risk: {max_order_qty: \"0.01\", max_open_orders: 8, max_orders_per_sec: 5,\n"
		   "       price_collar_bps: 300, stale_data_ms: 10000}\n"
		   "journal: {enabled: true, path: var/none.journal, sync: order, reconcile_timeout_ms: 3000}\n"
		   "strategies:\n"
		   "  - {name: sma_xbt, type: sma_cross, thread: 0, symbols: [XBTZAR], capital: \"1000000\",\n"
		   "     params: {fast: 400, slow: 500, qty: \"0.001\"}}\n");
	fclose(f);
}

static void make_event(struct ig_event *ev, enum ig_event_type t, uint8_t src, int64_t data_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)t;
	ev->hdr.src = src;
	ev->hdr.strategy_id = 0;
	ev->hdr.ts_origin_ns = ig_clock_mono_ns();
	ev->hdr.ts_event_ns = data_ns;
}

struct jorder {
	uint32_t seq;
	const char *px;
	const char *qty;
	const char *venue_id; /* NULL: never acknowledged */
};

/* Writes the journal of a run that "crashed" after these orders, with an
 * optional baseline (balances the account had, as a past reconciliation
 * recorded them). */
static void write_journal(const char *cfg_path, const char *jpath, const struct jorder *o, int n,
			  const char *baseline_base, const char *baseline_counter)
{
	static struct ig_config cfg;
	static struct ig_oms oms;
	struct ig_cfg_override ovr = { "journal.path", jpath };
	char err[IG_CFG_ERR_MAX];
	struct ig_event ev;
	int64_t t0 = ig_clock_real_ns();

	assert_int_equal(ig_config_load(&cfg, cfg_path, &ovr, 1, err, sizeof(err)), 0);
	assert_int_equal(ig_oms_init(&oms, &cfg, 1), 0);
	assert_int_equal(ig_jstage_open(&js, &cfg.journal, EPOCH, 1024, NULL), 0);
	oms.journal = true;
	/* The run starts (as the engine writes it: epoch, recovering). */
	ig_recover_session(&oms, &ev, EPOCH, true, NULL, t0);
	ig_jstage_handle(&js, &ev, &jout);
	ig_oms_session_start(&oms, true);
	/* That run reconciled before it traded (it recorded the account's
	 * balances then, when given). */
	make_event(&ev, IG_EV_RECONCILE, IG_STAGE_EXEC, t0);
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	if (baseline_base != NULL) {
		ig_fixed_parse_cstr(baseline_base, &ev.body.reconcile.base_balance);
		ig_fixed_parse_cstr(baseline_counter, &ev.body.reconcile.counter_balance);
		ev.body.reconcile.have_balances = 1;
	}
	ev.body.reconcile.last = 1;
	ig_oms_handle(&oms, &ev, &jout);
	assert_true(oms.reconciled);
	make_event(&ev, IG_EV_QUOTE, IG_STAGE_TICK, t0);
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.quote.bid_px = IG_FIXED(999500);
	ev.body.quote.ask_px = IG_FIXED(1000500);
	ev.body.quote.bid_qty = ev.body.quote.ask_qty = IG_FIXED(1);
	ig_oms_handle(&oms, &ev, &jout);
	for (int i = 0; i < n; i++) {
		make_event(&ev, IG_EV_ORDER, IG_STAGE_STRATEGY, t0 + (int64_t)(i + 1) * 1000000000);
		ev.body.order.client_id = cid(o[i].seq);
		ig_fixed_parse_cstr(o[i].px, &ev.body.order.px);
		ig_fixed_parse_cstr(o[i].qty, &ev.body.order.qty);
		ev.body.order.side = IG_SIDE_BUY;
		ev.body.order.type = IG_ORD_LIMIT;
		ev.body.order.tif = IG_TIF_GTC;
		ig_oms_handle(&oms, &ev, &jout);
	}
	for (int i = 0; i < n; i++) {
		if (o[i].venue_id == NULL)
			continue;
		make_event(&ev, IG_EV_ORDER_UPDATE, IG_STAGE_EXEC, t0 + (int64_t)(n + 1) * 1000000000);
		ev.body.update.client_id = cid(o[i].seq);
		ev.body.update.venue_order_id = ig_luno_venue_id(o[i].venue_id);
		ev.body.update.state = IG_OS_ACCEPTED;
		ev.body.update.side = IG_SIDE_BUY;
		ig_oms_handle(&oms, &ev, &jout);
	}
	for (int i = 0; i < n; i++) {
		struct ig_order_rec *r = ig_order_find(&oms.s[0].om, cid(o[i].seq));
		assert_non_null(r); /* every intent passed risk */
		assert_int_equal(r->state, o[i].venue_id != NULL ? IG_OS_ACCEPTED : IG_OS_SUBMITTED);
	}
	assert_int_equal(ig_jstage_close(&js), 0);
	ig_oms_destroy(&oms);
}

/* Runs the daemon on the journal for ms, stops it gracefully; returns the
 * summary (kept for teardown). */
static json_t *run_daemon(const char *name, const char *cfg_path, const char *jpath, int port,
			  int ms)
{
	char url[80], jset[340], summary[300], out[300];
	const char *argv[16];
	json_error_t jerr;
	int n = 0;

	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", port);
	snprintf(jset, sizeof(jset), "journal.path=%s", jpath);
	snprintf(summary, sizeof(summary), "%s/%s.summary.json", it_tmpdir, name);
	snprintf(out, sizeof(out), "%s/%s.run.out", it_tmpdir, name);
	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = cfg_path;
	argv[n++] = "--set";
	argv[n++] = url;
	argv[n++] = "--set";
	argv[n++] = jset;
	argv[n++] = "--summary-json";
	argv[n++] = summary;
	argv[n] = NULL;
	it_run_pid = it_spawn(argv, out, false);
	it_msleep(ms);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 60000), 0);
	return json_load_file(summary, 0, &jerr);
}

/* The final state of each client id in the journal (derived state changes). */
static int final_state(const char *jpath, uint64_t id)
{
	char dump[300], cmd[1200];
	FILE *f;
	char line[4096];
	int st = -1;

	snprintf(dump, sizeof(dump), "%s/dump.%llu.json", it_tmpdir, (unsigned long long)id);
	snprintf(cmd, sizeof(cmd), "%s journal dump %s --json > %s", it_bin, jpath, dump);
	assert_int_equal(system(cmd), 0);
	f = fopen(dump, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *r = json_loads(line, 0, NULL), *ev;
		const char *kind, *state;
		if (r == NULL)
			continue;
		kind = json_string_value(json_object_get(r, "kind"));
		ev = json_object_get(r, "event");
		if (kind != NULL && strcmp(kind, "derived") == 0 && ev != NULL &&
		    (uint64_t)json_integer_value(json_object_get(ev, "client_id")) == id &&
		    (state = json_string_value(json_object_get(ev, "state"))) != NULL) {
			for (int s = 0; s < IG_OS__COUNT; s++)
				if (strcmp(state, ig_ord_state_name((enum ig_ord_state)s)) == 0)
					st = s;
		}
		json_decref(r);
	}
	fclose(f);
	return st;
}


static json_t *sim_order(json_t *st, const char *client_order_id)
{
	json_t *orders = json_object_get(st, "orders"), *o;
	size_t i;
	json_array_foreach(orders, i, o) {
		const char *c = json_string_value(json_object_get(o, "client_order_id"));
		if (c != NULL && strcmp(c, client_order_id) == 0)
			return o;
	}
	return NULL;
}

static void test_matrix(void **state)
{
	char cfg[300], jpath[300], st_path[300], ca[32], cb[32], cc[32], cd[32];
	const char *va, *vb;
	json_t *sum, *st, *rec, *s0;
	json_error_t jerr;
	int port;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/matrix.yaml", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "%s/matrix.journal", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/matrix.state.json", it_tmpdir);
	write_config(cfg);
	port = start_sim("matrix", st_path);
	assert_true(port > 0);
	coid(cid(1), ca, sizeof(ca));
	coid(cid(2), cb, sizeof(cb));
	coid(cid(3), cc, sizeof(cc));
	coid(cid(50), cd, sizeof(cd));

	/* What the crashed run had sent: A and B reached the venue. */
	va = sim_bid(port, ca, "999900", "0.002");
	{
		char a_id[64];
		snprintf(a_id, sizeof(a_id), "%s", va);
		vb = sim_bid(port, cb, "999800", "0.003");
		{
			const struct jorder o[] = {
				{ 1, "999900", "0.002", a_id },
				{ 2, "999800", "0.003", vb },
				{ 3, "999700", "0.001", NULL }, /* C: durable, never sent */
			};
			write_journal(cfg, jpath, o, 3, "1", "1000000");
		}
	}
	/* While it was down: A fills, B fills partly and is cancelled; D
	 * (ours, unknown to the journal) and F (not ours) appear. */
	json_decref(sim_post(port, "/sim/take", "side=SELL&volume=0.002"));
	json_decref(sim_post(port, "/sim/take", "side=SELL&volume=0.001"));
	{
		char form[128];
		json_t *bs = NULL;
		st = it_json[0] = NULL;
		snprintf(form, sizeof(form), "order_id=%s", vb);
		bs = sim_post(port, "/api/1/stoporder", form);
		assert_true(json_is_true(json_object_get(bs, "success")));
		json_decref(bs);
	}
	sim_bid(port, cd, "998700", "0.001");
	sim_bid(port, "manual-7", "998600", "0.001");

	sum = it_json[1] = run_daemon("matrix", cfg, jpath, port, 4000);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 10000), 0);
	assert_non_null(sum);
	st = it_json[0] = json_load_file(st_path, 0, &jerr);
	assert_non_null(st);
	rec = json_object_get(sum, "recovery");
	s0 = json_array_get(json_object_get(sum, "strategies"), 0);
	{
		char *d = json_dumps(rec, JSON_COMPACT | JSON_SORT_KEYS);
		printf("matrix: recovery %s\n", d);
		free(d);
	}

	assert_true(json_is_true(json_object_get(rec, "reconciled")));
	assert_false(json_is_true(json_object_get(rec, "balance_mismatch")));
	assert_int_equal(json_integer_value(json_object_get(rec, "fills_found")), 2);
	assert_int_equal(json_integer_value(json_object_get(rec, "adopted")), 1);
	assert_int_equal(json_integer_value(json_object_get(rec, "foreign_orders")), 1);
	/* A: filled once; B: its fill, then cancelled; C: rejected, never at
	 * the venue; D: adopted, cancelled by the graceful stop. */
	assert_int_equal(final_state(jpath, cid(1)), IG_OS_FILLED);
	assert_int_equal(final_state(jpath, cid(2)), IG_OS_CANCELED);
	assert_int_equal(final_state(jpath, cid(3)), IG_OS_REJECTED);
	assert_int_equal(final_state(jpath, cid(50)), IG_OS_CANCELED);
	assert_null(sim_order(st, cc));
	assert_int_equal(json_integer_value(json_object_get(s0, "fills")), 2);
	assert_int_equal(it_money(s0, "position"), IG_FIXED(3) / 1000);
	/* F is untouched: still resting at the venue. */
	assert_non_null(sim_order(st, "manual-7"));
	assert_string_equal(json_string_value(json_object_get(sim_order(st, "manual-7"), "state")),
			    "PENDING");
	assert_true(json_is_true(json_object_get(sim_order(st, cd), "cancelled")));
	/* The books are the venue's. */
	{
		json_t *ib = json_object_get(st, "initial_balances"), *fb = json_object_get(st, "balances");
		assert_int_equal(it_money(s0, "position"), it_money(fb, "XBT") - it_money(ib, "XBT"));
		assert_int_equal(it_money(s0, "cash") - it_money(s0, "capital"),
				 it_money(fb, "ZAR") - it_money(ib, "ZAR"));
	}
}

static void test_mismatch(void **state)
{
	char cfg[300], jpath[300], st_path[300];
	json_t *sum, *rec;
	int port;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/mismatch.yaml", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "%s/mismatch.journal", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/mismatch.state.json", it_tmpdir);
	write_config(cfg);
	port = start_sim("mismatch", st_path);
	assert_true(port > 0);
	/* The sim opens with 1 XBT; the journal remembers 1.5. */
	write_journal(cfg, jpath, NULL, 0, "1.5", "1000000");
	sum = it_json[1] = run_daemon("mismatch", cfg, jpath, port, 2500);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 10000), 0);
	assert_non_null(sum);
	rec = json_object_get(sum, "recovery");
	printf("mismatch: %s\n", json_string_value(json_object_get(rec, "why_closed")));
	assert_false(json_is_true(json_object_get(rec, "reconciled")));
	assert_true(json_is_true(json_object_get(rec, "balance_mismatch")));
	assert_int_equal(it_money(json_object_get(rec, "balance_diff"), "XBTZAR_base"), -IG_FIXED(1) / 2);
	assert_non_null(strstr(json_string_value(json_object_get(rec, "why_closed")), "differ"));
}

static void test_unreachable(void **state)
{
	char cfg[300], jpath[300];
	json_t *sum, *rec;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/unreach.yaml", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "%s/unreach.journal", it_tmpdir);
	write_config(cfg);
	write_journal(cfg, jpath, NULL, 0, NULL, NULL);
	/* Port 9 (discard) on loopback: nothing listens, connections are refused. */
	sum = it_json[1] = run_daemon("unreach", cfg, jpath, 9, 5000);
	assert_non_null(sum);
	rec = json_object_get(sum, "recovery");
	printf("unreachable: %s (%s)\n", json_string_value(json_object_get(rec, "why_closed")),
	       json_string_value(json_object_get(rec, "reconcile_error")));
	assert_false(json_is_true(json_object_get(rec, "reconciled")));
	assert_string_not_equal(json_string_value(json_object_get(rec, "reconcile_error")), "ok");
	assert_non_null(strstr(json_string_value(json_object_get(rec, "why_closed")), "failed"));
}

/* A kill switch engaged before a crash is still engaged after the restart
 * (paper venue, journal.recover: on). */
static void test_kill_switch_survives_crash(void **state)
{
	char jset[340], out[300], summary[300];
	const char *argv[] = { it_bin,  "run", "-c", "config/ingenium.yaml", "--set", "journal.enabled=true",
			       "--set", jset,  "--set", "journal.recover=on", "--set", "feed.rate=200",
			       "--summary-json", summary, NULL };
	json_error_t jerr;
	json_t *sum;

	(void)state;
	snprintf(jset, sizeof(jset), "journal.path=%s/ks.journal", it_tmpdir);
	snprintf(out, sizeof(out), "%s/ks.run.out", it_tmpdir);
	snprintf(summary, sizeof(summary), "%s/ks.summary.json", it_tmpdir);
	it_run_pid = it_spawn(argv, out, false);
	it_msleep(800);
	kill(it_run_pid, SIGUSR1);
	it_msleep(500);
	assert_int_equal(it_reap(&it_run_pid, SIGKILL, 2000), 128 + SIGKILL);
	it_run_pid = it_spawn(argv, out, true);
	it_msleep(800);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 30000), 0);
	sum = it_json[1] = json_load_file(summary, 0, &jerr);
	assert_non_null(sum);
	assert_true(json_is_true(json_object_get(sum, "kill_switch")));
	assert_int_equal(it_count(out, "the kill switch is engaged"), 1);
}

/* A journal written for one venue account is not replayed into another
 * (issue 10): the daemon refuses to start, naming both, unless told to
 * start fresh (journal.recover: off). */
static void test_other_account(void **state)
{
	char cfg[300], jpath[300], st_path[300], url[80], jset[340], out[300], out2[300];
	const char *argv[] = { it_bin, "run", "-c", cfg, "--set", url, "--set", jset, NULL, NULL, NULL };
	char *text;
	int port;

	(void)state;
	snprintf(cfg, sizeof(cfg), "%s/acct.yaml", it_tmpdir);
	snprintf(jpath, sizeof(jpath), "%s/acct.journal", it_tmpdir);
	snprintf(st_path, sizeof(st_path), "%s/acct.state.json", it_tmpdir);
	snprintf(out, sizeof(out), "%s/acct.run.out", it_tmpdir);
	snprintf(out2, sizeof(out2), "%s/acct.run2.out", it_tmpdir);
	write_config(cfg);
	port = start_sim("acct", st_path);
	assert_true(port > 0);
	snprintf(url, sizeof(url), "venue.base_url=http://127.0.0.1:%d", port);
	snprintf(jset, sizeof(jset), "journal.path=%s", jpath);

	/* A run with this key writes the journal. */
	it_run_pid = it_spawn(argv, out, false);
	it_msleep(1500);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 60000), 0);

	/* Another key id on the same journal: refused at start. */
	it_key = "someone-elses-key";
	it_run_pid = it_spawn(argv, out2, false);
	assert_int_equal(it_reap(&it_run_pid, 0, 10000), 1);
	text = it_slurp(out2);
	assert_non_null(text);
	printf("other account: %s", strstr(text, "another") != NULL ? strstr(text, "another") : text);
	assert_non_null(strstr(text, "another venue account"));
	assert_non_null(strstr(text, "journal.recover: off"));
	assert_null(strstr(text, SECRET));
	free(text);

	/* Another base_url with the right key: refused too. */
	it_key = KEY;
	snprintf(url, sizeof(url), "venue.base_url=http://localhost:%d", port);
	it_run_pid = it_spawn(argv, out2, false);
	assert_int_equal(it_reap(&it_run_pid, 0, 10000), 1);
	assert_int_equal(it_count(out2, "another venue account"), 1);

	/* Told to start fresh: runs. */
	it_key = "someone-elses-key";
	argv[8] = "--set";
	argv[9] = "journal.recover=off";
	it_run_pid = it_spawn(argv, out2, false);
	it_msleep(1500);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 60000), 0);
	it_key = KEY;
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 10000), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_matrix, it_teardown),
		cmocka_unit_test_teardown(test_mismatch, it_teardown),
		cmocka_unit_test_teardown(test_unreachable, it_teardown),
		cmocka_unit_test_teardown(test_kill_switch_survives_crash, it_teardown),
		cmocka_unit_test_teardown(test_other_account, it_teardown),
	};
	int rc;

	(void)argc;
	it_key = KEY;
	it_secret = SECRET;
	ig_log_set_level(IG_LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = it_main(argv[0], "test_reconcile", tests, sizeof(tests) / sizeof(tests[0]));
	curl_global_cleanup();
	return rc;
}
