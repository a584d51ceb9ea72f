/* test_api.c - the status API: RCU snapshot publication, auth, the failure
 * limiter, the /status and /metrics documents, and the server in process
 * (libcurl against 127.0.0.1). */
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

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <dirent.h>
#include <time.h>

#include <urcu/urcu-memb.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- snapshots ------------------------------------------------------------ */

/* A snapshot whose every field follows from k, so a reader can tell a
 * complete one from a torn one. */
static void fill_k(struct ig_snapshot *s, uint64_t k)
{
	s->ts_real_ns = (int64_t)k;
	s->orders = k;
	s->fills = 2 * k;
	s->ninstruments = 1;
	snprintf(s->symbols[0], sizeof(s->symbols[0]), "SYM");
	s->nstrategies = 3;
	for (uint32_t i = 0; i < 3; i++) {
		snprintf(s->s[i].name, sizeof(s->s[i].name), "s%u", i);
		s->s[i].orders = k + i;
		s->s[i].cash = (int64_t)(3 * k + i);
		s->s[i].qty[0] = (int64_t)(5 * k);
	}
}

static bool consistent(const struct ig_snapshot *s)
{
	uint64_t k = s->orders;
	bool ok = s->fills == 2 * k && s->ts_real_ns == (int64_t)k && s->nstrategies == 3;
	for (uint32_t i = 0; i < 3; i++)
		ok = ok && s->s[i].orders == k + i && s->s[i].cash == (int64_t)(3 * k + i) &&
		     s->s[i].qty[0] == (int64_t)(5 * k);
	return ok;
}

static void publish_k(struct ig_snap_pub *pub, uint64_t k)
{
	struct ig_snapshot *s = ig_snap_begin(pub);
	assert_non_null(s);
	fill_k(s, k);
	ig_snap_publish(pub, s);
}

static void test_snapshot_publish_read(void **state)
{
	struct ig_snap_pub *pub = ig_snap_pub_create();
	const struct ig_snapshot *cur;

	(void)state;
	assert_non_null(pub);
	ig_snap_thread_register();
	ig_snap_read_lock();
	assert_null(ig_snap_current(pub)); /* nothing published yet */
	ig_snap_read_unlock();

	publish_k(pub, 7);
	ig_snap_read_lock();
	cur = ig_snap_current(pub);
	assert_non_null(cur);
	assert_int_equal(cur->seq, 1);
	assert_true(consistent(cur));
	assert_int_equal(cur->orders, 7);
	ig_snap_read_unlock();

	/* The replaced one is retired, then freed after a grace period. */
	publish_k(pub, 8);
	assert_int_equal(ig_snap_free_slots(pub), IG_SNAP_POOL - 2);
	assert_int_equal(ig_snap_reclaim(pub), 1);
	urcu_memb_barrier();
	assert_int_equal(ig_snap_free_slots(pub), IG_SNAP_POOL - 1);
	ig_snap_read_lock();
	assert_int_equal(ig_snap_current(pub)->orders, 8);
	ig_snap_read_unlock();
	assert_int_equal(ig_snap_published(pub), 2);
	ig_snap_thread_unregister();
	ig_snap_pub_destroy(pub);
}

/* No free slot (nobody reclaims): the publisher skips, never waits. */
static void test_snapshot_pool_exhausted_skips(void **state)
{
	struct ig_snap_pub *pub = ig_snap_pub_create();

	(void)state;
	ig_snap_thread_register();
	for (uint64_t k = 1; k <= IG_SNAP_POOL; k++)
		publish_k(pub, k);
	assert_null(ig_snap_begin(pub));
	assert_int_equal(ig_snap_skipped(pub), 1);
	assert_int_equal(ig_snap_reclaim(pub), IG_SNAP_POOL - 1);
	urcu_memb_barrier();
	publish_k(pub, 99);
	ig_snap_thread_unregister();
	ig_snap_pub_destroy(pub);
}

struct holder {
	struct ig_snap_pub *pub;
	int phase;                 /* atomic: 1 = holding, 2 = release, 3 = done */
	bool intact;
};

static void *hold_reader(void *arg)
{
	struct holder *h = arg;
	const struct ig_snapshot *s;

	ig_snap_thread_register();
	ig_snap_read_lock();
	s = ig_snap_current(h->pub);
	__atomic_store_n(&h->phase, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&h->phase, __ATOMIC_ACQUIRE) != 2)
		sleep_ms(1);
	/* Replaced and handed to call_rcu long ago: still whole. */
	h->intact = s->seq == 1 && consistent(s) && s->orders == 1;
	ig_snap_read_unlock();
	ig_snap_thread_unregister();
	__atomic_store_n(&h->phase, 3, __ATOMIC_RELEASE);
	return NULL;
}

/* A reader holding the old snapshot keeps its slot out of the pool until
 * it leaves its read-side section. */
static void test_snapshot_grace_period(void **state)
{
	struct holder h = { .pub = ig_snap_pub_create() };
	pthread_t t;

	(void)state;
	ig_snap_thread_register();
	publish_k(h.pub, 1);
	assert_int_equal(pthread_create(&t, NULL, hold_reader, &h), 0);
	while (__atomic_load_n(&h.phase, __ATOMIC_ACQUIRE) != 1)
		sleep_ms(1);
	publish_k(h.pub, 2);
	assert_int_equal(ig_snap_reclaim(h.pub), 1);
	sleep_ms(50); /* ample time for a (wrong) early free */
	assert_int_equal(ig_snap_free_slots(h.pub), IG_SNAP_POOL - 2);
	__atomic_store_n(&h.phase, 2, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	assert_true(h.intact);
	urcu_memb_barrier();
	assert_int_equal(ig_snap_free_slots(h.pub), IG_SNAP_POOL - 1);
	ig_snap_thread_unregister();
	ig_snap_pub_destroy(h.pub);
}

#define STRESS_PUBLISHES 3000

struct stress {
	struct ig_snap_pub *pub;
	int done;                  /* atomic */
	uint64_t reads, torn, backwards;
};

/* The publisher as the OMS thread runs it: not registered with liburcu. */
static void *stress_publisher(void *arg)
{
	struct stress *st = arg;
	for (uint64_t k = 1; k <= STRESS_PUBLISHES;) {
		struct ig_snapshot *s = ig_snap_begin(st->pub);
		if (s == NULL) {
			sched_yield();
			continue;
		}
		fill_k(s, k++);
		ig_snap_publish(st->pub, s);
	}
	__atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *stress_reader(void *arg)
{
	struct stress *st = arg;
	uint64_t last = 0;

	ig_snap_thread_register();
	while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
		const struct ig_snapshot *s;
		ig_snap_read_lock();
		s = ig_snap_current(st->pub);
		if (s != NULL) {
			st->reads++;
			st->torn += !consistent(s);
			st->backwards += s->seq < last;
			last = s->seq;
		}
		ig_snap_read_unlock();
	}
	ig_snap_thread_unregister();
	return NULL;
}

/* Publisher, reader and reclaimer on three threads: every snapshot read
 * is complete, sequence numbers never go back, nothing leaks. */
static void test_snapshot_concurrent(void **state)
{
	struct stress st = { .pub = ig_snap_pub_create() };
	pthread_t p, r;

	(void)state;
	ig_snap_thread_register();
	assert_int_equal(pthread_create(&r, NULL, stress_reader, &st), 0);
	assert_int_equal(pthread_create(&p, NULL, stress_publisher, &st), 0);
	while (!__atomic_load_n(&st.done, __ATOMIC_ACQUIRE)) {
		ig_snap_reclaim(st.pub);
		sched_yield();
	}
	pthread_join(p, NULL);
	pthread_join(r, NULL);
	ig_snap_reclaim(st.pub);
	assert_int_equal(st.torn, 0);
	assert_int_equal(st.backwards, 0);
	assert_int_equal(ig_snap_published(st.pub), STRESS_PUBLISHES);
	ig_snap_thread_unregister();
	ig_snap_pub_destroy(st.pub);
}

/* ---- auth ----------------------------------------------------------------- */

static void test_token_equal(void **state)
{
	(void)state;
	assert_true(ig_api_token_equal("abcdef", 6, "abcdef", 6));
	assert_false(ig_api_token_equal("abcdef", 6, "xbcdef", 6));
	assert_false(ig_api_token_equal("abcdef", 6, "abcdex", 6));
	assert_false(ig_api_token_equal("abcdef", 6, "abcde", 5));
	assert_false(ig_api_token_equal("abcdef", 6, "abcdefg", 7));
	assert_false(ig_api_token_equal("abcdef", 6, "", 0));
	assert_true(ig_api_token_equal("", 0, "", 0));
}

static void test_auth_header(void **state)
{
	static const char tok[] = "s3cr3t-token";
	size_t n = sizeof(tok) - 1;

	(void)state;
	assert_true(ig_api_auth_ok("Bearer s3cr3t-token", tok, n));
	assert_false(ig_api_auth_ok(NULL, tok, n));                   /* missing */
	assert_false(ig_api_auth_ok("Bearer s3cr3t-tokeN", tok, n));  /* wrong */
	assert_false(ig_api_auth_ok("Bearer s3cr3t", tok, n));        /* a prefix */
	assert_false(ig_api_auth_ok("Bearer s3cr3t-token2", tok, n)); /* longer */
	assert_false(ig_api_auth_ok("Bearer ", tok, n));
	assert_false(ig_api_auth_ok("Basic s3cr3t-token", tok, n));
	assert_false(ig_api_auth_ok("s3cr3t-token", tok, n));
	assert_false(ig_api_auth_ok("Bearer ", "", 0)); /* no token configured: nothing passes */
}

#define S (INT64_C(1000000000))

static void test_limiter(void **state)
{
	static struct ig_api_limiter l;
	const uint8_t a[4] = { 127, 0, 0, 1 }, b[4] = { 127, 0, 0, 2 };
	int64_t t = 1000 * S;

	(void)state;
	memset(&l, 0, sizeof(l));
	for (int i = 1; i < IG_API_FAIL_MAX; i++)
		assert_false(ig_api_limiter_fail(&l, a, 4, t + i));
	assert_int_equal(ig_api_limiter_blocked(&l, a, 4, t + 10), 0);
	assert_true(ig_api_limiter_fail(&l, a, 4, t + 10)); /* the 5th in the window */
	assert_int_equal(ig_api_limiter_blocked(&l, a, 4, t + 10), IG_API_BLOCK_MS * 1000000);
	assert_int_equal(ig_api_limiter_blocked(&l, b, 4, t + 10), 0); /* another address */
	/* Over after the block; the next burst blocks twice as long. */
	t += 10 + IG_API_BLOCK_MS * 1000000;
	assert_int_equal(ig_api_limiter_blocked(&l, a, 4, t), 0);
	for (int i = 1; i < IG_API_FAIL_MAX; i++)
		assert_false(ig_api_limiter_fail(&l, a, 4, t));
	assert_true(ig_api_limiter_fail(&l, a, 4, t));
	assert_int_equal(ig_api_limiter_blocked(&l, a, 4, t), 2 * IG_API_BLOCK_MS * 1000000);
	/* Failures spread wider than the window never block. */
	for (int i = 0; i < 3 * IG_API_FAIL_MAX; i++)
		assert_false(ig_api_limiter_fail(&l, b, 4, t + i * (IG_API_FAIL_WINDOW_MS / 2 + 1) * 1000000));
	/* The block is capped. */
	for (int k = 0; k < 20; k++) {
		t += IG_API_BLOCK_MAX_MS * 1000000 + 1;
		for (int i = 0; i < IG_API_FAIL_MAX; i++)
			ig_api_limiter_fail(&l, a, 4, t);
	}
	assert_int_equal(ig_api_limiter_blocked(&l, a, 4, t), IG_API_BLOCK_MAX_MS * 1000000);
	/* More addresses than slots: the table keeps working. */
	for (uint32_t i = 0; i < 3 * IG_API_LIMITER_SLOTS; i++)
		ig_api_limiter_fail(&l, &i, sizeof(i), t + 1);
	assert_true(ig_api_limiter_blocked(&l, a, 4, t + 2) > 0); /* a blocked one is kept */
}

/* ---- documents ------------------------------------------------------------ */

static struct ig_snapshot doc_snap;
static const struct ig_api_info doc_info = { "1.2.3", "dedicated", "paper", 42, 0 };

static void doc_fill(void)
{
	memset(&doc_snap, 0, sizeof(doc_snap));
	doc_snap.seq = 3;
	doc_snap.kill_switch = true;
	doc_snap.reconciled = true;
	doc_snap.ninstruments = 2;
	snprintf(doc_snap.symbols[0], sizeof(doc_snap.symbols[0]), "BTCUSD");
	snprintf(doc_snap.symbols[1], sizeof(doc_snap.symbols[1]), "ETHUSD");
	doc_snap.orders = 7;
	doc_snap.fills = 5;
	doc_snap.rejects[IG_RJ_MAX_ORDER_QTY] = 2;
	doc_snap.nstrategies = 2;
	snprintf(doc_snap.s[0].name, sizeof(doc_snap.s[0].name), "fast");
	snprintf(doc_snap.s[0].type, sizeof(doc_snap.s[0].type), "sma_cross");
	doc_snap.s[0].qty[0] = IG_FIXED(1) / 2;
	doc_snap.s[0].avg_px[0] = IG_FIXED(100);
	doc_snap.s[0].equity = IG_FIXED(1000) + 1;
	doc_snap.s[0].orders = 7;
	doc_snap.s[0].rejects[IG_RJ_MAX_ORDER_QTY] = 2;
	/* A name that needs escaping in a label. */
	snprintf(doc_snap.s[1].name, sizeof(doc_snap.s[1].name), "we\"ird\\name");
	snprintf(doc_snap.s[1].type, sizeof(doc_snap.s[1].type), "maker");
	doc_snap.s[1].qty[1] = -IG_FIXED(3);
	doc_snap.s[1].trading_state = 2; /* halted */
}

/* 3 samples: 20 us, 20 us, 3 s. */
static const struct ig_snap_latency doc_lat = {
	.bucket = { [4] = 2, [IG_SNAP_LAT_BUCKETS] = 1 }, .count = 3, .sum_ns = 3000040000,
};

static void test_status_json(void **state)
{
	json_t *doc, *s0;

	(void)state;
	doc_fill();
	doc = ig_api_status_json(&doc_snap, &doc_info);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "version")), "1.2.3");
	assert_int_equal(json_integer_value(json_object_get(doc, "uptime_s")), 42);
	assert_string_equal(json_string_value(json_object_get(doc, "threading")), "dedicated");
	assert_string_equal(json_string_value(json_object_get(doc, "trading_state")), "active");
	assert_true(json_is_true(json_object_get(doc, "kill_switch")));
	assert_int_equal(json_integer_value(json_object_get(doc, "orders")), 7);
	assert_int_equal(json_array_size(json_object_get(doc, "strategies")), 2);
	s0 = json_array_get(json_object_get(doc, "strategies"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "name")), "fast");
	assert_string_equal(json_string_value(json_object_get(s0, "state")), "active");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s0, "positions"), 0), "qty")), "0.5");
	assert_string_equal(json_string_value(json_object_get(s0, "equity")), "1000.00000001");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s0, "rejects"), "max_order_qty")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "strategies"), 1), "state")), "halted");
	assert_true(json_is_false(json_object_get(s0, "paused")));
	json_decref(doc);

	/* Paused: state "paused" while active; a halt still shows as halted. */
	doc_snap.s[0].paused = true;
	doc_snap.s[1].paused = true;
	doc = ig_api_status_json(&doc_snap, &doc_info);
	assert_non_null(doc);
	s0 = json_array_get(json_object_get(doc, "strategies"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "state")), "paused");
	assert_true(json_is_true(json_object_get(s0, "paused")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(doc, "strategies"), 1), "state")), "halted");
	assert_true(json_is_true(json_object_get(json_array_get(json_object_get(doc, "strategies"), 1), "paused")));
	json_decref(doc);
	doc_snap.s[0].paused = doc_snap.s[1].paused = false;
}

static void test_control_route(void **state)
{
	struct ig_api_route r;

	(void)state;
	assert_int_equal(ig_api_control_route("POST", "/api/v1/kill-switch", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_KILL_SWITCH);
	assert_int_equal(r.arg, 1);
	assert_true(r.all);
	assert_int_equal(ig_api_control_route("DELETE", "/api/v1/kill-switch", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_KILL_SWITCH);
	assert_int_equal(r.arg, 0);
	assert_int_equal(ig_api_control_route("GET", "/api/v1/kill-switch", &r), 405);
	assert_int_equal(ig_api_control_route("PUT", "/api/v1/kill-switch", &r), 405);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/reset", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_RESET);
	assert_true(r.all);
	assert_int_equal(ig_api_control_route("DELETE", "/api/v1/reset", &r), 405);

	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/sma_fast/pause", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_PAUSE);
	assert_false(r.all);
	assert_string_equal(r.strategy, "sma_fast");
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/a/resume", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_RESUME);
	assert_string_equal(r.strategy, "a");
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/x.y-z/cancel-all", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_CANCEL_ALL);
	assert_string_equal(r.strategy, "x.y-z");
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/b/reset", &r), 200);
	assert_int_equal(r.cmd, IG_CTL_RESET);
	assert_int_equal(ig_api_control_route("GET", "/api/v1/strategies/b/pause", &r), 405);
	assert_int_equal(ig_api_control_route("DELETE", "/api/v1/strategies/b/pause", &r), 405);

	/* Not found: no action, an unknown one, an empty or odd name, extra parts. */
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/b", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies//pause", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/b/stop", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/b/pause/", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/b/pause/x", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/a b/pause", &r), 404);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies/\x80/pause", &r), 404);
	{
		char url[256];
		snprintf(url, sizeof(url), "/api/v1/strategies/%0*d/pause", IG_CFG_NAME_MAX, 0);
		assert_int_equal(ig_api_control_route("POST", url, &r), 404);
		snprintf(url, sizeof(url), "/api/v1/strategies/%0*d/pause", IG_CFG_NAME_MAX - 1, 0);
		assert_int_equal(ig_api_control_route("POST", url, &r), 200);
		assert_int_equal(strlen(r.strategy), IG_CFG_NAME_MAX - 1);
	}

	/* Not a control path. */
	assert_int_equal(ig_api_control_route("GET", "/api/v1/status", &r), 0);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/status", &r), 0);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/kill-switch/", &r), 0);
	assert_int_equal(ig_api_control_route("POST", "/api/v1/strategies", &r), 0);
	assert_int_equal(ig_api_control_route("POST", "/", &r), 0);
}

/* A metric or label name. Returns the characters it spans (0 = none). */
static size_t name_len(const char *p)
{
	size_t n = 0;
	if (!(isalpha((unsigned char)p[0]) || p[0] == '_' || p[0] == ':'))
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == ':')
		n++;
	return n;
}

/* Checks one sample line "name{k="v",...} value"; the name into out.
 * Returns true if it is valid. */
static bool parse_sample(const char *line, char *out, size_t cap)
{
	const char *p = line;
	size_t n = name_len(p);
	char *end;

	if (n == 0 || n >= cap)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	p += n;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			size_t k = name_len(p);
			if (k == 0)
				return false;
			p += k;
			if (p[0] != '=' || p[1] != '"')
				return false;
			p += 2;
			while (*p != '"') {
				if (*p == '\0' || *p == '\n')
					return false;
				if (*p == '\\') {
					if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
						return false;
					p++;
				}
				p++;
			}
			p++;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p != ' ')
		return false;
	p++;
	strtod(p, &end);
	return end != p && *end == '\0';
}

static void test_metrics_format(void **state)
{
	size_t len = 0;
	char *text, *line, *save = NULL;
	char name[128], typed[64][128];
	int ntyped = 0, samples = 0;
	bool orders = false, esc = false, neg = false, hist_le = false, hist_inf = false,
	     hist_sum = false;

	(void)state;
	doc_fill();
	text = ig_api_metrics_text(&doc_snap, &doc_lat, &doc_info, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# HELP ", 7) == 0) {
			assert_true(name_len(line + 7) > 0);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			size_t n = name_len(line + 7);
			const char *t = line + 7 + n;
			assert_true(n > 0 && n < sizeof(typed[0]) && ntyped < 64);
			assert_true(strcmp(t, " counter") == 0 || strcmp(t, " gauge") == 0 ||
				    strcmp(t, " histogram") == 0);
			memcpy(typed[ntyped], line + 7, n);
			typed[ntyped][n] = '\0';
			/* Counters end _total; every name is ours. */
			if (strcmp(t, " counter") == 0)
				assert_true(n > 6 && strcmp(typed[ntyped] + n - 6, "_total") == 0);
			assert_true(strncmp(typed[ntyped], "ingenium_", 9) == 0);
			ntyped++;
			continue;
		}
		if (!parse_sample(line, name, sizeof(name))) {
			print_error("not a valid sample: %s\n", line);
			fail();
		}
		/* A sample belongs to the family typed last. */
		assert_true(ntyped > 0);
		assert_true(strncmp(name, typed[ntyped - 1], strlen(typed[ntyped - 1])) == 0);
		samples++;
		orders |= strcmp(line, "ingenium_orders_total 7") == 0;
		esc |= strstr(line, "ingenium_equity{strategy=\"we\\\"ird\\\\name\"}") != NULL;
		hist_le |= strcmp(line, "ingenium_tick_to_order_seconds_bucket{le=\"0.000025\"} 2") == 0;
		hist_inf |= strcmp(line, "ingenium_tick_to_order_seconds_bucket{le=\"+Inf\"} 3") == 0;
		hist_sum |= strcmp(line, "ingenium_tick_to_order_seconds_sum 3.00004") == 0;
		neg |= strcmp(line, "ingenium_position{strategy=\"we\\\"ird\\\\name\",symbol=\"ETHUSD\"} -3") == 0;
	}
	assert_true(orders);
	assert_true(esc);
	/* The histogram: cumulative buckets in seconds, +Inf, sum, count. */
	assert_true(hist_le);
	assert_true(hist_inf);
	assert_true(hist_sum);
	assert_true(neg);
	assert_true(samples > 10);
	free(text);
}

/* ---- the server, in process ------------------------------------------------ */

struct reply {
	long status;
	char body[8192];
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

/* GET (or POST with a body) http://127.0.0.1:port/path; auth may be NULL. */
static void get(uint16_t port, const char *path, const char *auth, const char *post,
		struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], hdr[300];

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
	if (post != NULL)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* method (POST, DELETE) http://127.0.0.1:port/path with no body. */
static void call(uint16_t port, const char *method, const char *path, const char *auth,
		 struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], hdr[300];

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
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
	else
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* GET /metrics with a body of body_len bytes or an X-Pad header of
 * header_len bytes. The status (0 if the server closed the connection). */
static void hostile(uint16_t port, size_t body_len, size_t header_len, struct reply *r)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[256], *body = NULL, *hdr = NULL;

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	h = curl_slist_append(h, "Authorization: Bearer tok-123");
	if (header_len > 0) {
		hdr = malloc(header_len + 8);
		memcpy(hdr, "X-Pad: ", 7);
		memset(hdr + 7, 'a', header_len);
		hdr[7 + header_len] = '\0';
		h = curl_slist_append(h, hdr);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body_len > 0) {
		body = malloc(body_len);
		memset(body, 'b', body_len);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	curl_easy_perform(c); /* the server may close early: any outcome but a hang */
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(body);
	free(hdr);
}

static void test_server(void **state)
{
	struct ig_cfg_api cfg;
	struct ig_snap_pub *pub = ig_snap_pub_create();
	struct ig_api *api = NULL;
	struct ig_api_info info = { "1.2.3", "dedicated", "paper", 0, 0 };
	struct reply r;
	char err[256];
	uint16_t port;
	json_t *doc;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:0");
	snprintf(cfg.token_env, sizeof(cfg.token_env), "IG_TEST_API_TOKEN");
	cfg.publish_ms = 100;

	/* The token variable unset, then empty: refused, naming it. */
	unsetenv("IG_TEST_API_TOKEN");
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &info, NULL, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "IG_TEST_API_TOKEN"));
	setenv("IG_TEST_API_TOKEN", "", 1);
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &info, NULL, err, sizeof(err)), IG_ECONFIG);
	assert_null(api);

	setenv("IG_TEST_API_TOKEN", "tok-123", 1);
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &info, NULL, err, sizeof(err)), 0);
	port = ig_api_port(api);
	assert_true(port > 0);

	get(port, "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true}");
	get(port, "/api/v1/status", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 503); /* nothing published yet */
	{
		struct ig_snapshot *s = ig_snap_begin(pub);
		doc_fill();
		*s = doc_snap;
		ig_snap_publish(pub, s);
	}
	get(port, "/api/v1/status", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 200);
	doc = json_loads(r.body, 0, NULL);
	assert_non_null(doc);
	assert_int_equal(json_array_size(json_object_get(doc, "strategies")), 2);
	json_decref(doc);
	get(port, "/metrics", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\ningenium_orders_total 7\n"));
	get(port, "/nope", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "\"error\""));
	get(port, "/api/v1/status", "Bearer tok-123", "{\"x\":1}", &r);
	assert_int_equal(r.status, 405);
	/* Hostile: a 1 MB body on a GET, a header past the connection's
	 * memory: 4xx, and the server goes on. */
	hostile(port, 1 << 20, 0, &r);
	assert_int_equal(r.status, 413);
	hostile(port, 0, 64 << 10, &r);
	assert_true(r.status >= 400 && r.status < 500);
	get(port, "/metrics", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 200);

	/* Failures: 401, and after IG_API_FAIL_MAX of them 429, even with the
	 * right token; /healthz stays open. */
	for (int i = 0; i < IG_API_FAIL_MAX; i++) {
		get(port, "/api/v1/status", i % 2 ? NULL : "Bearer wrong", NULL, &r);
		assert_int_equal(r.status, 401);
		assert_null(strstr(r.body, "tok-123"));
	}
	get(port, "/api/v1/status", "Bearer tok-123", NULL, &r);
	assert_int_equal(r.status, 429);
	get(port, "/healthz", NULL, NULL, &r);
	assert_int_equal(r.status, 200);

	ig_api_stop(api);
	ig_snap_pub_destroy(pub);
	unsetenv("IG_TEST_API_TOKEN");
}

/* A fake engine behind struct ig_api_ctl: strategy "s0" is index 0,
 * "s1" index 1; the next control's outcome is fake_outcome (PENDING:
 * never applied); full makes the mailbox full. The test thread and the
 * API thread share it under fake_mu (a socket orders them, which TSan
 * cannot see). */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct ig_oms_ctl_req last;
	uint64_t next_id;
	int calls;
	enum ig_oms_ctl_status outcome;
	bool full;
} fake;

static int fake_control(void *ctx, const struct ig_oms_ctl_req *req, uint64_t *id)
{
	int rc = 0;

	if (ctx != &fake)
		return IG_EINVAL; /* answered 400: fails the test */
	pthread_mutex_lock(&fake_mu);
	if (fake.full) {
		rc = IG_EAGAIN;
	} else {
		fake.last = *req;
		fake.calls++;
		*id = ++fake.next_id;
	}
	pthread_mutex_unlock(&fake_mu);
	return rc;
}

static enum ig_oms_ctl_status fake_status(void *ctx, uint64_t id)
{
	enum ig_oms_ctl_status st;

	(void)ctx;
	pthread_mutex_lock(&fake_mu);
	st = id == fake.next_id ? fake.outcome : IG_OMS_CTL_EXPIRED;
	pthread_mutex_unlock(&fake_mu);
	return st;
}

static void fake_set(enum ig_oms_ctl_status outcome, bool full)
{
	pthread_mutex_lock(&fake_mu);
	fake.outcome = outcome;
	fake.full = full;
	pthread_mutex_unlock(&fake_mu);
}

/* The last request the fake took, and how many. */
static struct ig_oms_ctl_req fake_last(int *calls)
{
	struct ig_oms_ctl_req r;
	pthread_mutex_lock(&fake_mu);
	r = fake.last;
	if (calls != NULL)
		*calls = fake.calls;
	pthread_mutex_unlock(&fake_mu);
	return r;
}

static int fake_index(void *ctx, const char *name)
{
	(void)ctx;
	return strcmp(name, "s0") == 0 ? 0 : strcmp(name, "s1") == 0 ? 1 : -1;
}

/* The params hook: strategy 1 takes no live changes (IG_ESTATE); a key
 * "bad" is refused; otherwise value i is atoll(values[i]) at index i, and
 * the keys seen are kept in fake_keys. */
static char fake_keys[IG_PARAMS_MAX][64];
static int fake_params(void *ctx, int strategy, const char *const *keys, const char *const *values,
		       size_t n, struct ig_oms_ctl_req *req, char *err, size_t errlen)
{
	(void)ctx;
	if (strategy == 1) {
		snprintf(err, errlen, "strategy type x takes no param changes while running");
		return IG_ESTATE;
	}
	memset(req, 0, sizeof(*req));
	req->cmd = IG_CTL_PARAMS;
	req->strategy = (uint16_t)strategy;
	req->params.cmd = IG_CTL_PARAMS;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(keys[i], "bad") == 0) {
			snprintf(err, errlen, "params.bad: nope");
			return IG_ECONFIG;
		}
		snprintf(fake_keys[i], sizeof(fake_keys[i]), "%s", keys[i]);
		req->params.index[i] = (uint16_t)i;
		req->params.value[i] = strcmp(values[i], "true") == 0 ? 1 : atoll(values[i]);
	}
	req->params.n = (uint8_t)n;
	return 0;
}

static void test_server_controls(void **state)
{
	struct ig_cfg_api cfg;
	struct ig_snap_pub *pub = ig_snap_pub_create();
	struct ig_api *api = NULL;
	struct ig_api_info info = { "1.2.3", "dedicated", "paper", 0, 0 };
	struct ig_api_ctl ctl = { &fake, fake_control, fake_status, fake_index, fake_params };
	struct reply r;
	char err[256];
	uint16_t port;
	const char *tok = "Bearer tok-ctl";

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:0");
	snprintf(cfg.token_env, sizeof(cfg.token_env), "IG_TEST_API_TOKEN");
	cfg.publish_ms = 100;
	setenv("IG_TEST_API_TOKEN", "tok-ctl", 1);
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &info, &ctl, err, sizeof(err)), 0);
	port = ig_api_port(api);

	/* Engage: 200 {"ok":true,"id":1}, the request as the table saw it. */
	fake_set(IG_OMS_CTL_OK, false);
	call(port, "POST", "/api/v1/kill-switch", tok, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true,\"id\":1}");
	assert_int_equal(fake_last(NULL).cmd, IG_CTL_KILL_SWITCH);
	assert_int_equal(fake_last(NULL).arg, 1);
	call(port, "DELETE", "/api/v1/kill-switch", tok, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(fake_last(NULL).arg, 0);

	/* By name: the index; all: IG_STRATEGY_NONE. */
	call(port, "POST", "/api/v1/strategies/s1/cancel-all", tok, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(fake_last(NULL).cmd, IG_CTL_CANCEL_ALL);
	assert_int_equal(fake_last(NULL).strategy, 1);
	call(port, "POST", "/api/v1/reset", tok, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(fake_last(NULL).cmd, IG_CTL_RESET);
	assert_int_equal(fake_last(NULL).strategy, IG_STRATEGY_NONE);

	/* Outcomes to codes. */
	fake_set(IG_OMS_CTL_NO_CHANGE, false);
	call(port, "POST", "/api/v1/strategies/s0/pause", tok, &r);
	assert_int_equal(r.status, 409);
	assert_non_null(strstr(r.body, "\"error\""));
	assert_int_equal(fake_last(NULL).cmd, IG_CTL_PAUSE);
	assert_int_equal(fake_last(NULL).strategy, 0);
	fake_set(IG_OMS_CTL_NOT_FOUND, false);
	call(port, "POST", "/api/v1/strategies/s0/resume", tok, &r);
	assert_int_equal(r.status, 404);
	fake_set(IG_OMS_CTL_INVALID, false);
	call(port, "POST", "/api/v1/strategies/s0/reset", tok, &r);
	assert_int_equal(r.status, 400);
	fake_set(IG_OMS_CTL_EXPIRED, false);
	call(port, "POST", "/api/v1/strategies/s0/reset", tok, &r);
	assert_int_equal(r.status, 500);
	fake_set(IG_OMS_CTL_PENDING, false); /* never applied: 504 after the bounded wait */
	call(port, "POST", "/api/v1/strategies/s0/reset", tok, &r);
	assert_int_equal(r.status, 504);

	/* Unknown name: 404 without a request; full mailbox: 503. */
	fake_set(IG_OMS_CTL_OK, false);
	{
		int calls = 0, now = 0;
		fake_last(&calls);
		call(port, "POST", "/api/v1/strategies/nope/pause", tok, &r);
		assert_int_equal(r.status, 404);
		assert_non_null(strstr(r.body, "unknown strategy"));
		fake_last(&now);
		assert_int_equal(now, calls);
		fake_set(IG_OMS_CTL_OK, true);
		call(port, "POST", "/api/v1/kill-switch", tok, &r);
		assert_int_equal(r.status, 503);
		fake_set(IG_OMS_CTL_OK, false);
		/* No token: 401 and nothing sent; wrong method: 405. */
		call(port, "POST", "/api/v1/kill-switch", NULL, &r);
		assert_int_equal(r.status, 401);
		call(port, "PUT", "/api/v1/kill-switch", tok, &r);
		assert_int_equal(r.status, 405);
		get(port, "/api/v1/strategies/s0/pause", tok, NULL, &r);
		assert_int_equal(r.status, 405);
		/* A body: 413. */
		get(port, "/api/v1/kill-switch", tok, "x", &r);
		assert_int_equal(r.status, 413);
		fake_last(&now);
		assert_int_equal(now, calls);

		/* Params: refused before the mailbox (no token, bad JSON, a
		 * float, too many, a refused value, a type without live
		 * params, a body over the limit, GET). */
		get(port, "/api/v1/strategies/s0/params", NULL, "{\"fast\":5}", &r);
		assert_int_equal(r.status, 401);
		get(port, "/api/v1/strategies/s0/params", tok, "{\"fast\":", &r);
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(r.body, "bad JSON"));
		get(port, "/api/v1/strategies/s0/params", tok, "[1]", &r);
		assert_int_equal(r.status, 400);
		get(port, "/api/v1/strategies/s0/params", tok, "{}", &r);
		assert_int_equal(r.status, 400);
		get(port, "/api/v1/strategies/s0/params", tok, "{\"qty\":0.5}", &r);
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(r.body, "as a string"));
		get(port, "/api/v1/strategies/s0/params", tok, "{\"qty\":null}", &r);
		assert_int_equal(r.status, 400);
		get(port, "/api/v1/strategies/s0/params", tok,
		    "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9}", &r);
		assert_int_equal(r.status, 400);
		get(port, "/api/v1/strategies/s0/params", tok, "{\"fast\":1,\"fast\":2}", &r);
		assert_int_equal(r.status, 400);
		get(port, "/api/v1/strategies/s0/params", tok, "{\"bad\":1}", &r);
		assert_int_equal(r.status, 400);
		assert_non_null(strstr(r.body, "params.bad: nope"));
		get(port, "/api/v1/strategies/s1/params", tok, "{\"fast\":1}", &r);
		assert_int_equal(r.status, 409);
		get(port, "/api/v1/strategies/nope/params", tok, "{\"fast\":1}", &r);
		assert_int_equal(r.status, 404);
		{
			char big[IG_API_BODY_MAX + 64];
			memset(big, ' ', sizeof(big) - 1);
			big[0] = '{';
			memcpy(big + sizeof(big) - 12, "\"fast\":1}", 10);
			big[sizeof(big) - 2] = '\0';
			get(port, "/api/v1/strategies/s0/params", tok, big, &r);
			assert_int_equal(r.status, 413);
		}
		get(port, "/api/v1/strategies/s0/params", tok, NULL, &r);
		assert_int_equal(r.status, 405);
		fake_last(&now);
		assert_int_equal(now, calls);

		/* Accepted: one request with both values. */
		get(port, "/api/v1/strategies/s0/params", tok,
		    "{\"fast\": 12, \"qty\": \"34\", \"short\": true}", &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(fake_last(NULL).cmd, IG_CTL_PARAMS);
		assert_int_equal(fake_last(NULL).strategy, 0);
		assert_int_equal(fake_last(NULL).params.n, 3);
		assert_string_equal(fake_keys[0], "fast");
		assert_int_equal(fake_last(NULL).params.value[0], 12);
		assert_string_equal(fake_keys[1], "qty");
		assert_int_equal(fake_last(NULL).params.value[1], 34);
		assert_int_equal(fake_last(NULL).params.value[2], 1);
	}

	ig_api_stop(api);
	ig_snap_pub_destroy(pub);
	unsetenv("IG_TEST_API_TOKEN");
}

/* Every thread of the process but the main one blocks SIGINT: the API
 * thread and the logger started here (and what they start). The kernel
 * gives a process-directed signal to any thread that does not block it,
 * so one that did would die of SIGINT's default action while the main
 * thread waits for it (a daemon stopped with Ctrl-C exited 130 at times). */
static void test_threads_block_signals(void **state)
{
	struct ig_cfg_api cfg;
	struct ig_snap_pub *pub = ig_snap_pub_create();
	struct ig_api *api = NULL;
	struct ig_api_info info = { "1.2.3", "dedicated", "paper", 0, 0 };
	char err[256], path[300], line[256], name[64] = "?";
	int others = 0;
	DIR *d;
	struct dirent *de;
	pid_t me = getpid();

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.listen, sizeof(cfg.listen), "127.0.0.1:0");
	snprintf(cfg.token_env, sizeof(cfg.token_env), "IG_TEST_API_TOKEN");
	cfg.publish_ms = 100;
	setenv("IG_TEST_API_TOKEN", "tok-sig", 1);
	assert_int_equal(ig_log_start(), 0);
	assert_int_equal(ig_api_start(&api, &cfg, pub, NULL, &info, NULL, err, sizeof(err)), 0);
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		FILE *f;
		if (de->d_name[0] == '.' || atoi(de->d_name) == (int)me)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue; /* the thread ended meanwhile */
		while (fgets(line, sizeof(line), f) != NULL) {
			unsigned long long blk;
			if (sscanf(line, "Name: %63s", name) == 1)
				continue;
			if (sscanf(line, "SigBlk: %llx", &blk) == 1) {
				if (!(blk & (1ull << (SIGINT - 1))))
					fail_msg("thread %s (%s) leaves SIGINT unblocked (SigBlk %llx)",
						 de->d_name, name, blk);
				others++;
			}
		}
		fclose(f);
	}
	closedir(d);
	assert_true(others >= 2); /* the API thread and the logger at least */
	ig_api_stop(api);
	ig_log_stop();
	ig_snap_pub_destroy(pub);
}

/* Arguments of one history request for ig_api_history_params: "k=v"
 * strings, NULL ended. */
static const char *hist_arg(void *ctx, const char *name)
{
	const char *const *kv = ctx;
	size_t n = strlen(name);
	for (; *kv != NULL; kv++)
		if (strncmp(*kv, name, n) == 0 && (*kv)[n] == '=')
			return *kv + n + 1;
	return NULL;
}

/* ig_api_history_params: the query names, the defaults, each argument's
 * bounds and a 400 that names it. */
static void test_history_params(void **state)
{
	struct ig_api_history_req r;
	char err[256];
	const char *none[] = { NULL };
	const char *full[] = { "strategy=sma_fast", "daemon=d2", "from=2017-09-04",
			       "to=2017-09-04T12:00:00Z", "limit=5000", NULL };
	const char *empty[] = { "strategy=", "from=", "to=", "limit=", NULL };
	static const struct {
		const char *arg, *name;
	} bad[] = {
		{ "limit=0", "limit" },	       { "limit=5001", "limit" }, { "limit=-1", "limit" },
		{ "limit=12x", "limit" },      { "limit=+5", "limit" },	  { "from=today", "from" },
		{ "to=2017-02-30x", "to" },    { "strategy=a b", "strategy" },
		{ "daemon=\x01", "daemon" },
	};

	(void)state;
	assert_int_equal(ig_api_history_params("/api/v1/history/equity", hist_arg, none, &r, err,
					       sizeof(err)),
			 404);
	assert_int_equal(ig_api_history_params("/api/v1/history/", hist_arg, none, &r, err,
					       sizeof(err)),
			 404);
	assert_int_equal(ig_api_history_params("/api/v1/history/fills/x", hist_arg, none, &r, err,
					       sizeof(err)),
			 404);
	assert_int_equal(ig_api_history_params("/api/v1/history/pnl", hist_arg, none, &r, err,
					       sizeof(err)),
			 200);
	assert_string_equal(r.what, "pnl");
	assert_null(r.strategy);
	assert_null(r.daemon);
	assert_true(r.from_ns == INT64_MIN && r.to_ns == INT64_MAX);
	assert_int_equal(r.limit, IG_API_HISTORY_LIMIT);
	assert_int_equal(ig_api_history_params("/api/v1/history/fills", hist_arg, empty, &r, err,
					       sizeof(err)),
			 200);
	assert_null(r.strategy);
	assert_int_equal(r.limit, IG_API_HISTORY_LIMIT);
	assert_int_equal(ig_api_history_params("/api/v1/history/orders", hist_arg, full, &r, err,
					       sizeof(err)),
			 200);
	assert_string_equal(r.what, "orders");
	assert_string_equal(r.strategy, "sma_fast");
	assert_string_equal(r.daemon, "d2");
	assert_int_equal(r.from_ns, INT64_C(1504483200000000000));
	assert_int_equal(r.to_ns, INT64_C(1504526400000000000));
	assert_int_equal(r.limit, 5000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *kv[] = { bad[i].arg, NULL };
		err[0] = '\0';
		assert_int_equal(ig_api_history_params("/api/v1/history/fills", hist_arg, kv, &r, err,
						       sizeof(err)),
				 400);
		assert_int_equal(strncmp(err, bad[i].name, strlen(bad[i].name)), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* First: before other tests start threads of their own. */
		cmocka_unit_test(test_threads_block_signals),
		cmocka_unit_test(test_history_params),
		cmocka_unit_test(test_snapshot_publish_read),
		cmocka_unit_test(test_snapshot_pool_exhausted_skips),
		cmocka_unit_test(test_snapshot_grace_period),
		cmocka_unit_test(test_snapshot_concurrent),
		cmocka_unit_test(test_token_equal),
		cmocka_unit_test(test_auth_header),
		cmocka_unit_test(test_limiter),
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_control_route),
		cmocka_unit_test(test_metrics_format),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_server_controls),
	};
	int rc;

	ig_log_set_level(IG_LOG_ERROR);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
