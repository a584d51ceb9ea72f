/*
 * test_luno_streams.c - the daemon end to end against the real exchange-sim
 * with BOTH Luno streams on (issue 15): the market stream as the feed
 * (feed.luno_endpoint: stream) and the user stream as the venue's trigger
 * (venue.user_stream: true), venue.base_url at the sim, the journal on,
 * config/luno.yaml with fast params so both strategies trade against the
 * sim's synthetic flow (sma_cross: market orders on crossovers; maker:
 * resting limits, requoted on a 2 bps move, so cancels and partial fills).
 *
 * Scenarios: a clean run; sequence gaps (--ws-gap-every); dropped
 * connections (--ws-drop-every-s); kill -9 restarts (several kills, the
 * journal recovering each time, then a last run stopped gracefully).
 * In each:
 *   - the daemon's books equal the sim's balances exactly, fills == the
 *     sim's trades (it_check_books);
 *   - no client_order_id twice at the sim, no duplicate refused;
 *   - the journal's fills are the sim's trades one for one: the set of
 *     distinct trade ids equals the set of the sim's trade sequences
 *     (listtrades), with the same volume: no fill missed, none doubled;
 *   - both streams were used (market stream connects and snapshots, user
 *     stream connects), and with gaps or drops the summary's
 *     feed.stream_resyncs counts them (> 0);
 *   - the API secret appears in no output.
 *
 * Figures (printed, never asserted):
 *   - test_figures: signal delay and REST calls, streams on vs off. The
 *     sim logs each flow tick (--log-flow) and each request's arrival
 *     (t_ns, CLOCK_MONOTONIC: one clock for both processes on this
 *     machine). A daemon order request (postorder, marketorder,
 *     stoporder) whose latest preceding book change (by start) was a flow
 *     tick, no order of the daemon's own in between, is taken as a
 *     reaction to it: its delay is its arrival minus the tick's start (so
 *     it includes the tick's own work, whose p50 is printed beside it). If
 *     the order was in fact caused by an earlier tick the figure is too
 *     small; if by something else (a fill, a timer) too large: p50/p90 are
 *     the figures to read. The flow period (370 ms) is longer than the
 *     polling heartbeat (250 ms) so a poll sees each tick. Three runs: both
 *     streams on, both off (ticker polling every 250 ms, no user stream),
 *     and on with the journal on tmpfs. Plus the daemon's own
 *     latency.tick_to_order_ns (stream or poll receive -> order handed to
 *     curl, the journal's fdatasync included), and the REST calls (request
 *     log; upgrades and flow lines excluded) per filled order and per
 *     minute.
 *   - test_rss: the daemon's VmRSS sampled over a run on a fast flow
 *     (IG_E2E_RSS_S seconds, default 20).
 * Both are measurements, not checks: `make test` skips them unless
 * IG_E2E_FIGURES=1 (docs/benchmarks.md says how to run them).
 */
#include "itest.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CANARY_SECRET "canary-Str3ams-e2e-secret"
#define CANARY_KEY "canary-e2e-key-15"

struct paths {
	char sim_out[300], run_out[300], state[300], summary[300], journal[300], rlog[300];
	char url[80], jset[340], sset[340];
};

static void mkpaths(struct paths *p, const char *name)
{
	snprintf(p->sim_out, sizeof(p->sim_out), "%s/%s.sim.out", it_tmpdir, name);
	snprintf(p->run_out, sizeof(p->run_out), "%s/%s.run.out", it_tmpdir, name);
	snprintf(p->state, sizeof(p->state), "%s/%s.state.json", it_tmpdir, name);
	snprintf(p->summary, sizeof(p->summary), "%s/%s.summary.json", it_tmpdir, name);
	snprintf(p->journal, sizeof(p->journal), "%s/%s.journal", it_tmpdir, name);
	snprintf(p->rlog, sizeof(p->rlog), "%s/%s.requests", it_tmpdir, name);
	snprintf(p->jset, sizeof(p->jset), "journal.path=%s", p->journal);
	/* The history store (auto: SQLite) per scenario, not var/. */
	snprintf(p->sset, sizeof(p->sset), "store.path=%s/%s.sqlite", it_tmpdir, name);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts exchange-sim (seed, --state, --request-log, extra args) into
 * it_sim_pid and sets p->url. */
static void start_sim(struct paths *p, const char *seed, const char *const *extra)
{
	const char *argv[32];
	int n = 0, port;

	argv[n++] = it_bin;
	argv[n++] = "exchange-sim";
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--seed";
	argv[n++] = seed;
	argv[n++] = "--state";
	argv[n++] = p->state;
	argv[n++] = "--request-log";
	argv[n++] = p->rlog;
	for (int k = 0; extra != NULL && extra[k] != NULL; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	it_sim_pid = it_spawn(argv, p->sim_out, false);
	port = it_sim_port(p->sim_out);
	assert_true(port > 0);
	snprintf(p->url, sizeof(p->url), "venue.base_url=http://127.0.0.1:%d", port);
}

/* The daemon's argv into argv (48 slots): config/luno.yaml on the sim,
 * both streams on (or both off: ticker polling, no user stream), the
 * journal at p->journal, fast params, then extra "--set k=v" pairs. */
static void daemon_argv(const char **argv, const struct paths *p, bool streams, const char *const *extra)
{
	int n = 0;

	argv[n++] = it_bin;
	argv[n++] = "run";
	argv[n++] = "-c";
	argv[n++] = "config/luno.yaml";
	argv[n++] = "--set";
	argv[n++] = p->url;
	argv[n++] = "--set";
	argv[n++] = p->jset;
	argv[n++] = "--set";
	argv[n++] = p->sset;
	argv[n++] = "--set";
	argv[n++] = streams ? "feed.luno_endpoint=stream" : "feed.luno_endpoint=ticker";
	argv[n++] = "--set";
	argv[n++] = streams ? "venue.user_stream=true" : "venue.user_stream=false";
	argv[n++] = "--set";
	argv[n++] = "feed.heartbeat_ms=250";
	argv[n++] = "--set";
	argv[n++] = "venue.status_ms=250";
	argv[n++] = "--set";
	argv[n++] = "strategies.0.params.fast=2";
	argv[n++] = "--set";
	argv[n++] = "strategies.0.params.slow=4";
	argv[n++] = "--set";
	argv[n++] = "strategies.1.params.requote_bps=2";
	argv[n++] = "--summary-json";
	argv[n++] = p->summary;
	for (int k = 0; extra != NULL && extra[k] != NULL; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	assert_true(n < 48);
}

static bool id_add(uint64_t *set, size_t *n, size_t cap, uint64_t id)
{
	for (size_t q = 0; q < *n; q++)
		if (set[q] == id)
			return false;
	if (*n < cap)
		set[(*n)++] = id;
	return true;
}

/* The journal's fills (distinct trade ids, input records) against the
 * sim's trades (listtrades' sequence): the same set, the same volume. */
static void check_journal_fills(const char *name, const char *journal, json_t *st)
{
	static uint64_t jids[65536], sids[65536];
	size_t nj = 0, ns = 0, i;
	int64_t jvol = 0, svol = 0;
	char dump[340], line[4096];
	const char *argv[] = { it_bin, "journal", "dump", journal, "--json", NULL };
	json_t *trades = json_object_get(st, "trades");
	FILE *f;

	snprintf(dump, sizeof(dump), "%s.dump", journal);
	assert_int_equal(it_run(argv, dump), 0);
	f = fopen(dump, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		json_t *r = json_loads(line, 0, NULL), *ev;
		const char *type;
		if (r == NULL)
			continue;
		type = json_string_value(json_object_get(r, "type"));
		ev = json_object_get(r, "event");
		if (type != NULL && strcmp(type, "fill") == 0 && ev != NULL &&
		    json_integer_value(json_object_get(r, "flags")) == 0 &&
		    id_add(jids, &nj, 65536, (uint64_t)json_integer_value(json_object_get(ev, "trade_id"))))
			jvol += it_money(ev, "qty");
		json_decref(r);
	}
	fclose(f);
	for (i = 0; i < json_array_size(trades); i++) {
		json_t *t = json_array_get(trades, i);
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(t, "sequence"));
		svol += it_money(t, "volume");
		/* A match between two of our orders is one trade per side at
		 * the sim, one sequence: a set either way. */
		(void)id_add(sids, &ns, 65536, seq);
	}
	printf("%s: journal fills (distinct trade ids) %zu volume %lld; sim trades %zu (sequences %zu) "
	       "volume %lld\n",
	       name, nj, (long long)jvol, json_array_size(trades), ns, (long long)svol);
	assert_true(nj > 0);
	assert_int_equal(nj, ns);
	for (i = 0; i < nj; i++) {
		size_t q = 0;
		while (q < ns && sids[q] != jids[i])
			q++;
		if (q == ns)
			fail_msg("%s: journal fill of trade %llu that the sim does not list", name,
				 (unsigned long long)jids[i]);
	}
	assert_int_equal(jvol, svol);
}

/* Every client order id once at the sim, no duplicate refused. */
static void check_unique_cids(const char *name, json_t *st)
{
	json_t *orders = json_object_get(st, "orders");

	for (size_t i = 0; i < json_array_size(orders); i++) {
		const char *a = json_string_value(json_object_get(json_array_get(orders, i), "client_order_id"));
		for (size_t j = i + 1; a != NULL && *a != '\0' && j < json_array_size(orders); j++) {
			const char *b = json_string_value(
				json_object_get(json_array_get(orders, j), "client_order_id"));
			if (b != NULL && strcmp(a, b) == 0)
				fail_msg("%s: client_order_id %s twice at the sim", name, a);
		}
	}
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "stats"), "duplicates_refused")),
			 0);
}

/* The last "luno: user stream: connects=N" in the file, or -1. */
static long user_stream_connects(const char *path)
{
	char *t = it_slurp(path), *p, *last = NULL;
	long n = -1;
	static const char mark[] = "luno: user stream: connects=";

	for (p = t; p != NULL && (p = strstr(p, mark)) != NULL; p++)
		last = p;
	if (last != NULL)
		n = atol(last + sizeof(mark) - 1);
	free(t);
	return n;
}

/* Everything a scenario checks once both processes have stopped (see the
 * file comment). want_resyncs: the summary must count stream resyncs. */
static void check_run(const char *name, const struct paths *p, bool want_resyncs)
{
	json_error_t jerr;
	json_t *st, *sum, *feed, *rs, *stream, *v;
	const char *k;
	long uconn;

	it_assert_no_secret(p->run_out); /* it_secret is CANARY_SECRET (main) */
	it_assert_no_secret(p->sim_out);
	st = it_json[0] = json_load_file(p->state, 0, &jerr);
	sum = it_json[1] = json_load_file(p->summary, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);

	check_unique_cids(name, st);
	it_check_books(name, st, json_object_get(sum, "strategies"));
	check_journal_fills(name, p->journal, st);

	feed = json_object_get(sum, "feed");
	rs = json_object_get(feed, "stream_resyncs");
	stream = json_object_get(feed, "stream");
	assert_non_null(rs);
	assert_non_null(stream);
	printf("%s: feed.stream:", name);
	json_object_foreach(stream, k, v)
		printf(" %s=%lld", k, (long long)json_integer_value(v));
	printf("\n%s: feed.stream_resyncs:", name);
	json_object_foreach(rs, k, v)
		if (json_integer_value(v) != 0 || strcmp(k, "total") == 0)
			printf(" %s=%lld", k, (long long)json_integer_value(v));
	uconn = user_stream_connects(p->run_out);
	printf("\n%s: user stream connects (last run) %ld\n", name, uconn);
	it_print_lines(p->run_out, "luno: user stream:");
	it_print_lines(p->run_out, "WARN  [ig-luno-stream]");
	assert_true(json_integer_value(json_object_get(stream, "connects")) >= 1);
	assert_true(json_integer_value(json_object_get(stream, "snapshots")) >= 1);
	assert_true(json_integer_value(json_object_get(stream, "quotes")) > 0);
	assert_true(uconn >= 1);
	if (want_resyncs)
		assert_true(json_integer_value(json_object_get(rs, "total")) > 0);
}

/* One daemon run of run_ms on a fresh sim, stopped with SIGTERM. */
static void scenario(const char *name, const char *const *sim_extra, int run_ms, bool want_resyncs)
{
	struct paths p;
	const char *argv[48];

	mkpaths(&p, name);
	start_sim(&p, "7", sim_extra);
	daemon_argv(argv, &p, true, NULL);
	it_run_pid = it_spawn(argv, p.run_out, false);
	it_msleep(run_ms);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 150000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 20000), 0);
	check_run(name, &p, want_resyncs);
}

static void test_clean(void **state)
{
	(void)state;
	scenario("clean", NULL, 6000, false);
	/* No fault, no resync: the daemon connects within milliseconds of the
	 * sim's start, so the first snapshot is often at sequence 0 (once
	 * refused as malformed). */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(it_json[1], "feed"), "stream_resyncs"), "total")),
			 0);
}

static void test_gaps(void **state)
{
	/* The flow makes ~10 market messages a 50 ms tick: a gap every
	 * 300 messages is one every second or two. */
	static const char *const sim[] = { "--ws-gap-every", "300", NULL };
	(void)state;
	scenario("gaps", sim, 7000, true);
}

static void test_drops(void **state)
{
	static const char *const sim[] = { "--ws-drop-every-s", "2", NULL };
	(void)state;
	scenario("drops", sim, 7000, true);
}

/* kill -9 at random moments (seeded: IG_CRASH_SEED), each restart
 * recovering from the journal and reconciling with the sim, then a last
 * run that reconciles, trades and stops gracefully. Also: the journal
 * verifies, and replays to the last daemon's state hash. */
static void test_kill9(void **state)
{
	struct paths p;
	const char *argv[48];
	static const char *const extra[] = { "--set", "journal.reconcile_timeout_ms=4000", "--set",
					     "venue.timeout_ms=2000", "--set", "venue.in_doubt_window_ms=600",
					     NULL };
	int kills = 3, rc, recovered;
	unsigned seed = (unsigned)(getenv("IG_CRASH_SEED") ? atoi(getenv("IG_CRASH_SEED")) : 20261215);
	json_t *jstate, *rec;
	char sout[340];

	(void)state;
	srand(seed);
	mkpaths(&p, "kill9");
	start_sim(&p, "11", NULL);
	daemon_argv(argv, &p, true, extra);
	for (int k = 0; k < kills; k++) {
		/* 0.8 .. 4.3 s: some kills in start-up and recovery, most while
		 * trading. */
		int ms = 800 + rand() % 3500;
		it_run_pid = it_spawn(argv, p.run_out, true);
		it_msleep(ms);
		rc = it_reap(&it_run_pid, SIGKILL, 5000);
		assert_int_equal(rc, 128 + SIGKILL);
	}
	{
		int before = it_count(p.run_out, "reconciled with the venue:");
		it_run_pid = it_spawn(argv, p.run_out, true);
		for (int w = 0; w < 300 && it_count(p.run_out, "reconciled with the venue:") == before; w++)
			it_msleep(100);
		it_msleep(3000);
	}
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 60000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 20000), 0);

	recovered = it_count(p.run_out, "reconciled with the venue:");
	printf("kill9: %d kills; runs reconciled with the venue: %d\n", kills, recovered);
	{
		/* Every start replayed the journal: the first an empty one, each
		 * restart what the killed daemons wrote. */
		char *t = it_slurp(p.run_out), *q;
		int starts = 0;
		assert_non_null(t);
		for (q = t; (q = strstr(q, ": replayed ")) != NULL; q++) {
			long long nrec = 0;
			char word[16] = "";
			if (sscanf(q, ": replayed %lld records %15s", &nrec, word) != 2 || word[0] != '(')
				continue; /* the summary's "recovery: replayed N records in" */
			printf("kill9: start %d replayed %lld records\n", starts + 1, nrec);
			if (starts > 0)
				assert_true(nrec > 0);
			starts++;
		}
		free(t);
		assert_int_equal(starts, kills + 1);
	}
	check_run("kill9", &p, false);
	rec = json_object_get(it_json[1], "recovery");
	assert_true(json_is_true(json_object_get(rec, "reconciled")));
	assert_false(json_is_true(json_object_get(rec, "balance_mismatch")));
	assert_int_equal(it_count(p.run_out, "venue balances differ"), 0);
	/* Each restart replayed the journal (the last one at least). */
	assert_true(json_integer_value(json_object_get(rec, "replayed_records")) > 0);
	assert_true(recovered >= 2);
	{
		const char *vargv[] = { it_bin, "journal", "verify", p.journal, NULL };
		snprintf(sout, sizeof(sout), "%s/kill9.verify", it_tmpdir);
		assert_int_equal(it_run(vargv, sout), 0);
	}
	{
		const char *sargv[] = { it_bin, "journal", "state", "-c", "config/luno.yaml", "--journal",
					p.journal, NULL };
		json_error_t jerr;
		snprintf(sout, sizeof(sout), "%s/kill9.state-replay.json", it_tmpdir);
		assert_int_equal(it_run(sargv, sout), 0);
		jstate = it_json[2] = json_load_file(sout, 0, &jerr);
		assert_non_null(jstate);
		assert_string_equal(json_string_value(json_object_get(jstate, "state_hash")),
				    json_string_value(json_object_get(it_json[1], "state_hash")));
	}
}

/* ---- figures ---- */

struct rl_ev {
	int64_t t_ns, end_ns;
	int kind; /* 0 flow tick, 1 a daemon order request, 2 other REST */
};

static int cmp_ev(const void *a, const void *b)
{
	const struct rl_ev *x = a, *y = b;
	return x->t_ns < y->t_ns ? -1 : x->t_ns > y->t_ns;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

struct figures {
	size_t samples, rest_calls, polls, entries, filled_orders, orders;
	int64_t p50_ns, p90_ns, p99_ns, max_ns, tick_p50_ns, end_p50_ns, end_p90_ns;
	size_t end_samples;
	double run_s;
	long long t2o_count, t2o_p50, t2o_p99;
	long long jwait_p50; /* the order's wait for its journal sync, ns */
};

/* Reads the request log at path: the signal delays (see the file comment)
 * and the REST calls. Returns nothing; fills f. */
static void read_rlog(const char *path, struct figures *f)
{
	char *t = it_slurp(path), *line, *save = NULL;
	struct rl_ev *ev;
	int64_t *d, *tick, *de;
	size_t n = 0, cap = 1, nd = 0, nt = 0, nde = 0;

	assert_non_null(t);
	for (char *c = t; *c != '\0'; c++)
		cap += *c == '\n';
	ev = calloc(cap, sizeof(*ev));
	d = calloc(cap, sizeof(*d));
	tick = calloc(cap, sizeof(*tick));
	de = calloc(cap, sizeof(*de));
	assert_non_null(de);
	assert_non_null(ev);
	assert_non_null(d);
	assert_non_null(tick);
	for (line = strtok_r(t, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(line, 0, NULL);
		const char *m, *pa;
		if (j == NULL)
			continue;
		m = json_string_value(json_object_get(j, "method"));
		pa = json_string_value(json_object_get(j, "path"));
		ev[n].t_ns = (int64_t)json_integer_value(json_object_get(j, "t_ns"));
		ev[n].end_ns = ev[n].t_ns + (int64_t)(json_number_value(json_object_get(j, "ms")) * 1e6);
		if (m != NULL && strcmp(m, "FLOW") == 0) {
			ev[n].kind = 0;
			tick[nt++] = ev[n].end_ns - ev[n].t_ns;
		} else if (json_integer_value(json_object_get(j, "status")) == 101 || pa == NULL) {
			json_decref(j);
			continue;
		} else if (strcmp(pa, "/api/1/postorder") == 0 || strcmp(pa, "/api/1/marketorder") == 0 ||
			   strcmp(pa, "/api/1/stoporder") == 0) {
			ev[n].kind = 1;
			f->rest_calls++;
			f->entries++;
		} else {
			ev[n].kind = 2;
			f->rest_calls++;
			f->polls += strcmp(pa, "/api/1/ticker") == 0 || strcmp(pa, "/api/1/listtrades") == 0 ||
				    strcmp(pa, "/api/exchange/3/order") == 0;
		}
		n++;
		json_decref(j);
	}
	free(t);
	qsort(ev, n, sizeof(*ev), cmp_ev);
	/* Each order request whose latest book change before it (the flow
	 * ticks and the daemon's own orders, by start) is a flow tick. */
	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		if (ev[i].kind != 1)
			continue;
		while (j > 0 && ev[j - 1].kind == 2)
			j--;
		if (j > 0 && ev[j - 1].kind == 0) {
			d[nd++] = ev[i].t_ns - ev[j - 1].t_ns;
			/* From the tick's end, where the order came after it. */
			if (ev[j - 1].end_ns < ev[i].t_ns)
				de[nde++] = ev[i].t_ns - ev[j - 1].end_ns;
		}
	}
	qsort(de, nde, sizeof(*de), cmp_i64);
	f->end_samples = nde;
	if (nde > 0) {
		f->end_p50_ns = de[nde / 2];
		f->end_p90_ns = de[nde * 9 / 10];
	}
	free(de);
	qsort(d, nd, sizeof(*d), cmp_i64);
	qsort(tick, nt, sizeof(*tick), cmp_i64);
	f->samples = nd;
	if (nd > 0) {
		f->p50_ns = d[nd / 2];
		f->p90_ns = d[nd * 9 / 10];
		f->p99_ns = d[nd * 99 / 100];
		f->max_ns = d[nd - 1];
	}
	f->tick_p50_ns = nt > 0 ? tick[nt / 2] : 0;
	free(ev);
	free(d);
	free(tick);
}

/* One figures run: a sim with a 370 ms flow logged, the daemon with both
 * streams on or both off for run_ms, stopped with SIGTERM; the books are
 * checked as in the scenarios. */
static void figures_run(const char *name, bool streams, const char *journal, bool store,
			const char *threading, int run_ms, struct figures *f)
{
	static const char *const sim[] = { "--flow-ms", "370", "--log-flow", NULL };
	/* The maker at its config's requote_bps (20): the 300-a-minute
	 * budget is not what the orders wait for. Without the store, its
	 * SQLite commits do not share the disk with the journal's syncs. */
	static const char *const extra[] = { "--set", "strategies.1.params.requote_bps=20", NULL };
	static const char *const extra_nostore[] = { "--set", "strategies.1.params.requote_bps=20",
						     "--set", "store.kind=off", NULL };
	char tset[64];
	const char *extra_threads[] = { "--set", "strategies.1.params.requote_bps=20", "--set", tset,
					NULL };
	struct paths p;
	const char *argv[48];
	json_error_t jerr;
	json_t *st, *sum, *t2o, *trades;
	double t0;
	static char seen[4096][40];
	size_t nseen = 0;

	memset(f, 0, sizeof(*f));
	mkpaths(&p, name);
	if (journal != NULL) {
		snprintf(p.journal, sizeof(p.journal), "%s", journal);
		snprintf(p.jset, sizeof(p.jset), "journal.path=%s", journal);
	}
	start_sim(&p, "7", sim);
	snprintf(tset, sizeof(tset), "engine.threading=%s", threading != NULL ? threading : "");
	daemon_argv(argv, &p, streams,
		    threading != NULL ? (const char *const *)extra_threads : store ? extra : extra_nostore);
	t0 = mono_s();
	it_run_pid = it_spawn(argv, p.run_out, false);
	it_msleep(run_ms);
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 150000), 0);
	f->run_s = mono_s() - t0;
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 20000), 0);

	st = it_json[0] = json_load_file(p.state, 0, &jerr);
	sum = it_json[1] = json_load_file(p.summary, 0, &jerr);
	assert_non_null(st);
	assert_non_null(sum);
	check_unique_cids(name, st);
	it_check_books(name, st, json_object_get(sum, "strategies"));
	trades = json_object_get(st, "trades");
	for (size_t i = 0; i < json_array_size(trades); i++) {
		const char *oid = json_string_value(json_object_get(json_array_get(trades, i), "order_id"));
		size_t q = 0;
		while (oid != NULL && q < nseen && strcmp(seen[q], oid) != 0)
			q++;
		if (oid != NULL && q == nseen && nseen < 4096)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", oid);
	}
	f->filled_orders = nseen;
	f->orders = json_array_size(json_object_get(st, "orders"));
	t2o = json_object_get(json_object_get(sum, "latency"), "tick_to_order_ns");
	f->t2o_count = (long long)json_integer_value(json_object_get(t2o, "count"));
	f->t2o_p50 = (long long)json_integer_value(json_object_get(t2o, "p50"));
	f->t2o_p99 = (long long)json_integer_value(json_object_get(t2o, "p99"));
	f->jwait_p50 = (long long)json_integer_value(json_object_get(
		json_object_get(json_object_get(sum, "journal"), "order_wait_ns"), "p50"));
	read_rlog(p.rlog, f);
	printf("%s: streams %s, %.1f s: signal delay (flow tick start -> order request arrival) "
	       "n=%zu p50=%.3f ms p90=%.3f ms p99=%.3f ms max=%.3f ms (flow tick p50 %.3f ms; "
	       "from the tick's end n=%zu p50=%.3f ms p90=%.3f ms); "
	       "daemon tick_to_order n=%lld p50=%.1f us p99=%.1f us (of it the journal sync's wait "
	       "p50 %.1f us); REST calls %zu = %.1f a minute, "
	       "%.1f per filled order (%zu filled of %zu orders); of them polls (ticker, listtrades, "
	       "status) %zu = %.1f a minute, order entry %zu\n",
	       name, streams ? "on" : "off", f->run_s, f->samples, (double)f->p50_ns / 1e6,
	       (double)f->p90_ns / 1e6, (double)f->p99_ns / 1e6, (double)f->max_ns / 1e6,
	       (double)f->tick_p50_ns / 1e6, f->end_samples, (double)f->end_p50_ns / 1e6,
	       (double)f->end_p90_ns / 1e6, f->t2o_count, (double)f->t2o_p50 / 1e3,
	       (double)f->t2o_p99 / 1e3, (double)f->jwait_p50 / 1e3, f->rest_calls, (double)f->rest_calls * 60.0 / f->run_s,
	       f->filled_orders > 0 ? (double)f->rest_calls / (double)f->filled_orders : 0.0,
	       f->filled_orders, f->orders, f->polls, (double)f->polls * 60.0 / f->run_s, f->entries);
	it_print_lines(p.run_out, "luno: requests=");
	it_print_lines(p.run_out, "luno stream: connects=");
	for (size_t i = 0; i < 2; i++) {
		json_decref(it_json[i]);
		it_json[i] = NULL;
	}
}

/* The measurements run only when asked (IG_E2E_FIGURES=1). */
static bool figures_wanted(void)
{
	const char *v = getenv("IG_E2E_FIGURES");
	return v != NULL && strcmp(v, "1") == 0;
}

static void test_figures(void **state)
{
	struct figures on, off, shm, nostore, shared;
	int ms = getenv("IG_E2E_FIG_S") != NULL ? atoi(getenv("IG_E2E_FIG_S")) * 1000 : 15000;
	char jshm[128];
	(void)state;
	if (!figures_wanted())
		skip();
	figures_run("fig_on", true, NULL, true, NULL, ms, &on);
	figures_run("fig_off", false, NULL, true, NULL, ms, &off);
	figures_run("fig_on_nostore", true, NULL, false, NULL, ms, &nostore);
	/* Every stage on one thread (but the journal's and the venue's
	 * streams'): no hop between threads. */
	figures_run("fig_on_shared", true, NULL, true, "shared", ms, &shared);
	/* The same with the journal on tmpfs: the order's fdatasync (journal
	 * sync: order) is most of the daemon's own delay on this VM's disk. */
	snprintf(jshm, sizeof(jshm), "/dev/shm/ig-e2e-%d.journal", (int)getpid());
	figures_run("fig_on_shm", true, jshm, true, NULL, ms, &shm);
	unlink(jshm);
	/* Figures only; what must hold is that every run traded. */
	assert_true(on.samples > 0);
	assert_true(off.samples > 0);
	assert_true(shm.samples > 0);
	assert_true(nostore.samples > 0);
	assert_true(shared.samples > 0);
}

/* VmRSS of pid in kB, or -1. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

static void test_rss(void **state)
{
	static const char *const sim[] = { "--flow-ms", "5", NULL };
	int secs = getenv("IG_E2E_RSS_S") != NULL ? atoi(getenv("IG_E2E_RSS_S")) : 20;
	struct paths p;
	const char *argv[48];
	long first = -1, last = -1, max = -1;
	if (!figures_wanted())
		skip();
	json_error_t jerr;
	json_t *stream;
	(void)state;

	mkpaths(&p, "rss");
	start_sim(&p, "7", sim);
	daemon_argv(argv, &p, true, NULL);
	it_run_pid = it_spawn(argv, p.run_out, false);
	printf("rss: VmRSS kB every 10 s:");
	for (int s = 0; s < secs; s++) {
		long kb;
		it_msleep(1000);
		kb = rss_kb(it_run_pid);
		if (s == 2)
			first = kb; /* after start-up: the first snapshot and catch-up */
		if (kb > max)
			max = kb;
		last = kb;
		if ((s + 1) % 10 == 0)
			printf(" %ld", kb);
	}
	printf("\n");
	assert_int_equal(it_reap(&it_run_pid, SIGTERM, 150000), 0);
	assert_int_equal(it_reap(&it_sim_pid, SIGTERM, 20000), 0);
	it_json[1] = json_load_file(p.summary, 0, &jerr);
	assert_non_null(it_json[1]);
	stream = json_object_get(json_object_get(it_json[1], "feed"), "stream");
	printf("rss: %d s on a 5 ms flow: stream messages %lld, quotes %lld, trades %lld; "
	       "VmRSS at 3 s %ld kB, max %ld kB, at %d s %ld kB\n",
	       secs, (long long)json_integer_value(json_object_get(stream, "messages")),
	       (long long)json_integer_value(json_object_get(stream, "quotes")),
	       (long long)json_integer_value(json_object_get(stream, "trades")), first, max, secs, last);
	assert_true(json_integer_value(json_object_get(stream, "messages")) > 0);
	assert_true(first > 0);
}

static int teardown(void **state)
{
	return it_teardown(state);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_clean, teardown),
		cmocka_unit_test_teardown(test_gaps, teardown),
		cmocka_unit_test_teardown(test_drops, teardown),
		cmocka_unit_test_teardown(test_kill9, teardown),
		cmocka_unit_test_teardown(test_figures, teardown),
		cmocka_unit_test_teardown(test_rss, teardown),
	};
	(void)argc;
	it_key = CANARY_KEY;
	it_secret = CANARY_SECRET;
	return it_main(argv[0], "test_luno_streams", tests, sizeof(tests) / sizeof(tests[0]));
}
