/*
 * test_luno_budget.c - the shared Luno request budget (src/luno/
 * luno_budget.c): the GCRA admits a burst then one call per interval, no
 * 60 s window exceeds per_min - 1, a reserve keeps calls free for order
 * traffic, a 429 stops everyone with a jittered exponential backoff and
 * leaves the bucket empty, and two threads drawing at once never overdraw.
 * Time is simulated (now_ns is a parameter) except in the thread test.
 * Ownership (src/luno/luno.c): an engine's luno feed and luno venue share
 * their Luno instance's budget; two engines (two configs) never share one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "exec/exec.h"
#include "feed/feed.h"
#include "luno/luno.h"
#include "luno/luno_budget.h"
#include "luno/luno_feed.h"
#include "luno/luno_venue.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MS INT64_C(1000000)
#define SEC INT64_C(1000000000)

static void test_burst_then_spaced(void **state)
{
	struct ig_luno_budget b;
	int64_t retry = 0, t = 1000 * SEC;
	int n = 0;
	(void)state;

	ig_luno_budget_init(&b, 300, 0, 0);
	assert_int_equal(b.burst, 10);
	assert_int_equal(b.interval_ns, 60 * SEC / 290);
	while (ig_luno_budget_take(&b, t, 0, &retry))
		n++;
	assert_int_equal(n, 10);
	assert_true(retry > t);
	assert_int_equal(retry - t, b.interval_ns);
	/* Not before retry, then exactly one. */
	assert_false(ig_luno_budget_take(&b, retry - 1, 0, &retry));
	assert_true(ig_luno_budget_take(&b, retry, 0, &retry));
	assert_false(ig_luno_budget_take(&b, retry - 1, 0, &retry));
}

/* Greedy caller, 1 ms steps for 3 minutes: every 60 s window holds at most
 * per_min - 1 calls. */
static void test_no_window_over_limit(void **state)
{
	static int64_t times[2000];
	struct ig_luno_budget b;
	int64_t retry, t0 = 5 * SEC;
	unsigned n = 0;
	(void)state;

	ig_luno_budget_init(&b, 300, 0, 0);
	for (int64_t t = t0; t < t0 + 180 * SEC; t += MS)
		if (ig_luno_budget_take(&b, t, 0, &retry))
			times[n++] = t;
	assert_true(n > 800);
	for (unsigned i = 0, j = 0; i < n; i++) {
		while (times[i] - times[j] >= 60 * SEC)
			j++;
		assert_true(i - j + 1 <= 299);
	}
	assert_int_equal(b.taken, n);
}

static void test_reserve(void **state)
{
	struct ig_luno_budget b;
	int64_t retry, t = 10 * SEC;
	(void)state;

	ig_luno_budget_init(&b, 600, 4, 0);
	/* A caller with reserve 2 stops when 2 calls are left... */
	assert_true(ig_luno_budget_take(&b, t, 2, &retry));
	assert_true(ig_luno_budget_take(&b, t, 2, &retry));
	assert_false(ig_luno_budget_take(&b, t, 2, &retry));
	/* ...which order traffic (reserve 0) can still spend. */
	assert_true(ig_luno_budget_take(&b, t, 0, &retry));
	assert_true(ig_luno_budget_take(&b, t, 0, &retry));
	assert_false(ig_luno_budget_take(&b, t, 0, &retry));
	/* A reserve above the burst is clamped: it still gets a call. */
	assert_true(ig_luno_budget_take(&b, t + 60 * SEC, 99, &retry));
}

static void test_throttled_backoff(void **state)
{
	struct ig_luno_budget b;
	int64_t retry = 0, t = 100 * SEC, d1, d2, d3;
	uint64_t rng = 42;
	(void)state;

	ig_luno_budget_init(&b, 300, 0, 100);
	assert_true(ig_luno_budget_take(&b, t, 0, &retry));
	d1 = ig_luno_budget_throttled(&b, t, &rng);
	assert_true(d1 >= 50 * MS && d1 < 100 * MS);
	assert_true(ig_luno_budget_backing_off(&b, t + d1 - 1));
	assert_false(ig_luno_budget_take(&b, t + d1 - 1, 0, &retry));
	assert_int_equal(retry, t + d1);
	/* After the backoff the bucket is empty: one call, then spacing. */
	assert_true(ig_luno_budget_take(&b, t + d1, 0, &retry));
	assert_false(ig_luno_budget_take(&b, t + d1, 0, &retry));
	assert_int_equal(retry, t + d1 + b.interval_ns);
	/* Consecutive 429s double the delay, up to the cap. */
	d2 = ig_luno_budget_throttled(&b, t + SEC, &rng);
	assert_true(d2 >= 100 * MS && d2 < 200 * MS);
	d3 = ig_luno_budget_throttled(&b, t + 2 * SEC, &rng);
	assert_true(d3 >= 200 * MS && d3 < 400 * MS);
	for (int i = 0; i < 20; i++)
		d3 = ig_luno_budget_throttled(&b, t + 3 * SEC, &rng);
	assert_true(d3 >= 3200 * MS && d3 < 6400 * MS);
	assert_int_equal(b.throttled, 23);
	/* A success resets the level. */
	ig_luno_budget_ok(&b);
	d1 = ig_luno_budget_throttled(&b, t + 100 * SEC, &rng);
	assert_true(d1 >= 50 * MS && d1 < 100 * MS);
}

/* A venue whose sliding 60 s window admits 100 calls, under a budget of
 * 300: the first 429 teaches the budget, and no other 429 follows in the
 * next five minutes of greedy calls. */
static void test_learns_lower_limit(void **state)
{
	static int64_t win[4096];
	struct ig_luno_budget b;
	int64_t retry, t0 = 1000 * SEC, first = 0;
	unsigned head = 0, n = 0, refused = 0, admitted = 0;
	uint64_t rng = 7;
	(void)state;

	ig_luno_budget_init(&b, 300, 0, 500);
	for (int64_t t = t0; t < t0 + 360 * SEC; t += MS) {
		if (!ig_luno_budget_take(&b, t, 0, &retry))
			continue;
		while (n > 0 && win[head % 4096] <= t - 60 * SEC) {
			head++;
			n--;
		}
		if (n >= 100) {
			refused++;
			if (first == 0)
				first = t;
			ig_luno_budget_throttled(&b, t, &rng);
			continue;
		}
		win[(head + n++) % 4096] = t;
		admitted++;
		ig_luno_budget_ok(&b);
	}
	assert_int_equal(refused, 1);
	assert_int_equal(ig_luno_budget_limit(&b), 90);
	assert_true(first - t0 < 30 * SEC);
	/* And it still uses most of what the venue allows: the sustained rate
	 * at a learned 90 is 80 a minute (the burst of 10 is kept aside). */
	assert_true(admitted >= 100 + 4 * 80);
	assert_true(admitted <= 100 + 5 * 90);
	/* A 429 after few calls teaches nothing (backoff only). */
	ig_luno_budget_init(&b, 300, 0, 500);
	for (int i = 0; i < 5; i++)
		assert_true(ig_luno_budget_take(&b, t0, 0, &retry));
	ig_luno_budget_throttled(&b, t0, &rng);
	assert_int_equal(ig_luno_budget_limit(&b), 300);
}

/* A learned limit creeps back after ten quiet minutes. */
static void test_limit_recovers(void **state)
{
	struct ig_luno_budget b;
	int64_t retry, t = 100 * SEC;
	uint64_t rng = 9;
	(void)state;

	ig_luno_budget_init(&b, 300, 0, 500);
	for (int i = 0; i < 200; i++, t += 200 * MS)
		ig_luno_budget_take(&b, t, 0, &retry);
	ig_luno_budget_throttled(&b, t, &rng);
	assert_true(ig_luno_budget_limit(&b) < 300);
	{
		int64_t learned = ig_luno_budget_limit(&b);
		ig_luno_budget_take(&b, t + 9 * 60 * SEC, 0, &retry);
		assert_int_equal(ig_luno_budget_limit(&b), learned);
		ig_luno_budget_take(&b, t + 11 * 60 * SEC, 0, &retry);
		assert_int_equal(ig_luno_budget_limit(&b), learned + 15);
		for (int m = 12; m < 40; m++)
			ig_luno_budget_take(&b, t + m * 60 * SEC, 0, &retry);
		assert_int_equal(ig_luno_budget_limit(&b), 300);
	}
}

struct drawer {
	struct ig_luno_budget *b;
	int64_t t0;
	unsigned got;
};

static void *draw(void *arg)
{
	struct drawer *d = arg;
	int64_t retry;
	/* Both threads hammer the same simulated instant range. */
	for (int64_t t = d->t0; t < d->t0 + 10 * SEC; t += MS / 10)
		if (ig_luno_budget_take(d->b, t, 0, &retry))
			d->got++;
	return NULL;
}

static void test_two_threads(void **state)
{
	struct ig_luno_budget b;
	struct drawer a, c;
	pthread_t ta, tc;
	(void)state;

	ig_luno_budget_init(&b, 600, 0, 0);
	a = (struct drawer){ .b = &b, .t0 = 50 * SEC };
	c = (struct drawer){ .b = &b, .t0 = 50 * SEC };
	pthread_create(&ta, NULL, draw, &a);
	pthread_create(&tc, NULL, draw, &c);
	pthread_join(ta, NULL);
	pthread_join(tc, NULL);
	/* 10 s at 600/min with a burst of 20: at most 20 + 10 s / interval. */
	assert_true(a.got + c.got <= (unsigned)(b.burst + 10 * SEC / b.interval_ns + 1));
	assert_true(a.got + c.got >= 100);
	assert_int_equal(b.taken, a.got + c.got);
}

/* A config for a live Luno engine (feed and venue), at an address nothing
 * listens on: nothing is sent in these tests. */
static void live_config(struct ig_config *cfg, int64_t per_min)
{
	ig_config_defaults(cfg);
	cfg->feed.source = IG_FEED_LUNO;
	cfg->venue.kind = IG_VENUE_LUNO;
	cfg->venue.requests_per_min = per_min;
	cfg->venue.price_scale = 2;
	cfg->venue.volume_scale = 6;
	snprintf(cfg->venue.base_url, sizeof(cfg->venue.base_url), "http://127.0.0.1:9");
	cfg->journal.enabled = true;
}

/* The budget an open luno feed draws from. */
static struct ig_luno_budget *feed_budget(const struct ig_feed *f)
{
	return ((const struct ig_luno_feed *)f->src)->budget;
}

/* Opens cfg's feed as the engine does: with what its executor x (NULL:
 * none) shares. Returns ig_feed_open's rc. */
static int open_feed(struct ig_feed *f, const struct ig_config *cfg, const struct ig_exec *x)
{
	char err[256];
	return ig_feed_open(f, cfg, 0, x != NULL ? ig_exec_venue_type(x) : NULL,
			    x != NULL ? ig_exec_venue_peer(x) : NULL, err, sizeof(err));
}

/* Two engines in one process: each engine's Luno venue owns its own Luno
 * instance, so its own budget (there was one process-wide budget: the
 * second engine's calls spent the first one's); within one engine the
 * feed draws from its venue's budget, and the instance goes when both
 * have closed, in either order. */
static void test_instances_own_their_budget(void **state)
{
	static struct ig_config a, b, p;
	static struct ig_feed fa, fb, fp;
	static struct ig_exec xa, xb, xp;
	struct ig_luno_budget *ba, *bb;
	int64_t retry = 0, t = 1000 * SEC;
	int n = 0;
	(void)state;

	assert_int_equal(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	setenv("LUNO_API_KEY_ID", "test-key-id", 1);
	setenv("LUNO_API_KEY_SECRET", "test-secret", 1);
	live_config(&a, 300);
	live_config(&b, 600);

	/* Each engine makes its executor, then its feed (engine.c). */
	assert_int_equal(ig_exec_init(&xa, &a), 0);
	assert_int_equal(open_feed(&fa, &a, &xa), 0);
	assert_int_equal(ig_exec_init(&xb, &b), 0);
	assert_int_equal(open_feed(&fb, &b, &xb), 0);
	ba = feed_budget(&fa);
	bb = feed_budget(&fb);
	assert_ptr_not_equal(ba, bb);
	assert_int_equal(ba->per_min, 300);
	assert_int_equal(bb->per_min, 600);

	/* Engine a's feed draws from the budget of engine a's venue. */
	assert_ptr_equal(((struct ig_luno *)xa.venue)->budget, ba);
	assert_ptr_equal(((struct ig_luno *)xa.venue)->instance,
			 ((struct ig_luno_feed *)fa.src)->instance);
	assert_ptr_equal(((struct ig_luno *)xb.venue)->budget, bb);

	/* Spending one engine's budget leaves the other's whole. */
	while (ig_luno_budget_take(ba, t, 0, &retry))
		n++;
	assert_int_equal(n, 10);
	assert_false(ig_luno_budget_take(ba, t, 0, &retry));
	assert_true(ig_luno_budget_take(bb, t, 0, &retry));
	/* A 429 backs off that engine only. */
	ig_luno_budget_throttled(ba, t, &(uint64_t){ 1 });
	assert_true(ig_luno_budget_backing_off(ba, t));
	assert_false(ig_luno_budget_backing_off(bb, t));

	/* The instance lives while either holds it: the feed closes first
	 * in engine a, the venue first in engine b (ASan sees a use after
	 * free). */
	ig_feed_close(&fa);
	assert_true(ig_luno_budget_backing_off(((struct ig_luno *)xa.venue)->budget, t));
	ig_exec_destroy(&xa);
	ig_exec_destroy(&xb);
	assert_true(ig_luno_budget_take(feed_budget(&fb), t, 0, &retry));
	ig_feed_close(&fb);

	/* A new engine on config a starts with a fresh budget. */
	assert_int_equal(ig_exec_init(&xa, &a), 0);
	assert_int_equal(open_feed(&fa, &a, &xa), 0);
	assert_false(ig_luno_budget_backing_off(feed_budget(&fa), t));
	assert_true(ig_luno_budget_take(feed_budget(&fa), t, 0, &retry));
	ig_feed_close(&fa);
	ig_exec_destroy(&xa);

	/* Paper trading on Luno's data: the paper venue shares nothing, so
	 * the feed makes a budget of its own. So does a feed opened without
	 * a venue. */
	live_config(&p, 120);
	p.venue.kind = IG_VENUE_PAPER;
	assert_int_equal(ig_exec_init(&xp, &p), 0);
	assert_null(ig_exec_venue_peer(&xp));
	assert_int_equal(open_feed(&fp, &p, &xp), 0);
	assert_non_null(((struct ig_luno_feed *)fp.src)->instance);
	assert_int_equal(feed_budget(&fp)->per_min, 120);
	ig_feed_close(&fp);
	ig_exec_destroy(&xp);
	assert_int_equal(open_feed(&fp, &p, NULL), 0);
	assert_int_equal(feed_budget(&fp)->per_min, 120);
	ig_feed_close(&fp);

	unsetenv("LUNO_API_KEY_ID");
	unsetenv("LUNO_API_KEY_SECRET");
	curl_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_spaced),
		cmocka_unit_test(test_no_window_over_limit),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_throttled_backoff),
		cmocka_unit_test(test_learns_lower_limit),
		cmocka_unit_test(test_limit_recovers),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_instances_own_their_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
