/* luno_budget.c - the shared Luno request budget (see luno_budget.h). */
#include "luno/luno_budget.h"

#include <string.h>

#define NS_PER_MIN INT64_C(60000000000)
#define BACKOFF_MAX_NS INT64_C(30000000000)
/* How long without a 429 before a learned limit starts creeping back up:
 * long enough that a run stays under a venue limit it has learned. */
#define QUIET_NS (10 * NS_PER_MIN)
/* Fewest calls in the last minute for a 429 to teach a limit. */
#define LEARN_MIN_CALLS 10

/* Sets the rate to lim calls a minute (interval and tolerance follow). */
static void set_limit(struct ig_luno_budget *b, int64_t lim)
{
	int64_t burst = b->burst < lim ? b->burst : lim;
	/* burst at once, then one per interval: a 60 s window holds at most
	 * burst + (lim - burst) - 1 calls, one under the limit, which absorbs
	 * the skew between our clock and the venue's arrival times. */
	int64_t interval = NS_PER_MIN / (lim - burst > 0 ? lim - burst : 1);

	__atomic_store_n(&b->interval_ns, interval, __ATOMIC_RELAXED);
	__atomic_store_n(&b->tolerance_ns, (burst - 1) * interval, __ATOMIC_RELAXED);
	__atomic_store_n(&b->limit, lim, __ATOMIC_RELAXED);
}

void ig_luno_budget_init(struct ig_luno_budget *b, int64_t per_min, int64_t burst,
			 int64_t backoff_base_ms)
{
	memset(b, 0, sizeof(*b));
	if (per_min < 1)
		per_min = 1;
	if (burst <= 0)
		burst = per_min / 30;
	if (burst < 1)
		burst = 1;
	if (burst > per_min)
		burst = per_min;
	b->per_min = per_min;
	b->burst = burst;
	set_limit(b, per_min);
	b->backoff_base_ns = (backoff_base_ms > 0 ? backoff_base_ms : 500) * 1000000;
	b->backoff_max_ns = BACKOFF_MAX_NS;
}

int64_t ig_luno_budget_limit(const struct ig_luno_budget *b)
{
	return __atomic_load_n(&b->limit, __ATOMIC_RELAXED);
}

/* Ten quiet minutes since the last 429 (and a minute since the last
 * change): raise the learned limit a step back toward per_min. */
static void maybe_raise(struct ig_luno_budget *b, int64_t now_ns)
{
	int64_t lim = __atomic_load_n(&b->limit, __ATOMIC_RELAXED);
	int64_t last = __atomic_load_n(&b->last_raise_ns, __ATOMIC_RELAXED);
	int64_t step;

	if (lim >= b->per_min || now_ns - last < NS_PER_MIN ||
	    now_ns - __atomic_load_n(&b->last_429_ns, __ATOMIC_RELAXED) < QUIET_NS)
		return;
	if (!__atomic_compare_exchange_n(&b->last_raise_ns, &last, now_ns, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return; /* another thread does it */
	step = b->per_min / 20 > 0 ? b->per_min / 20 : 1;
	set_limit(b, lim + step < b->per_min ? lim + step : b->per_min);
}

/* Our calls in the 60 s up to now_ns, and the oldest of them. */
static int64_t window_count(const struct ig_luno_budget *b, int64_t now_ns, int64_t *oldest)
{
	uint64_t taken = __atomic_load_n(&b->taken, __ATOMIC_RELAXED);
	uint64_t k = taken < IG_LUNO_BUDGET_RING ? taken : IG_LUNO_BUDGET_RING;
	int64_t n = 0;

	*oldest = now_ns;
	for (uint64_t i = 0; i < k; i++) {
		int64_t t = __atomic_load_n(&b->ring[i], __ATOMIC_RELAXED);
		if (now_ns - t < NS_PER_MIN && t <= now_ns) {
			n++;
			if (t < *oldest)
				*oldest = t;
		}
	}
	return n;
}

bool ig_luno_budget_take(struct ig_luno_budget *b, int64_t now_ns, int64_t reserve,
			 int64_t *retry_ns)
{
	int64_t until = __atomic_load_n(&b->backoff_until_ns, __ATOMIC_RELAXED);
	int64_t tat, next, earliest, interval, tolerance, lim;
	uint64_t n;

	if (now_ns < until) {
		*retry_ns = until;
		return false;
	}
	maybe_raise(b, now_ns);
	lim = __atomic_load_n(&b->limit, __ATOMIC_RELAXED);
	if (lim < b->per_min && lim <= IG_LUNO_BUDGET_RING) {
		/* A learned limit: mirror the venue's sliding window too, or the
		 * calls made before the 429 would keep it full for a minute. */
		int64_t oldest;
		if (window_count(b, now_ns, &oldest) >= lim) {
			*retry_ns = oldest + NS_PER_MIN;
			return false;
		}
	}
	interval = __atomic_load_n(&b->interval_ns, __ATOMIC_RELAXED);
	tolerance = __atomic_load_n(&b->tolerance_ns, __ATOMIC_RELAXED);
	if (reserve < 0)
		reserve = 0;
	if (reserve > tolerance / interval)
		reserve = tolerance / interval; /* burst - 1 */
	tat = __atomic_load_n(&b->tat_ns, __ATOMIC_RELAXED);
	for (;;) {
		/* Admitted when reserve + 1 calls fit under the tolerance. */
		earliest = tat - tolerance + reserve * interval;
		if (earliest > now_ns) {
			*retry_ns = earliest;
			return false;
		}
		next = (tat > now_ns ? tat : now_ns) + interval;
		if (__atomic_compare_exchange_n(&b->tat_ns, &tat, next, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	n = __atomic_fetch_add(&b->taken, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->ring[n % IG_LUNO_BUDGET_RING], now_ns, __ATOMIC_RELAXED);
	return true;
}

/* On a 429: what our own last minute says about the venue's limit. */
static void learn(struct ig_luno_budget *b, int64_t now_ns)
{
	int64_t oldest, n = window_count(b, now_ns, &oldest), lim;

	__atomic_store_n(&b->last_429_ns, now_ns, __ATOMIC_RELAXED);
	/* n includes the refused call: the venue admitted at most n - 1. A
	 * 429 after a handful of calls says nothing about our rate. */
	if (n - 1 < LEARN_MIN_CALLS)
		return;
	lim = (n - 1) * 9 / 10;
	if (lim < b->per_min / 10)
		lim = b->per_min / 10;
	if (lim < 1)
		lim = 1;
	if (lim < __atomic_load_n(&b->limit, __ATOMIC_RELAXED)) {
		set_limit(b, lim);
		__atomic_store_n(&b->last_raise_ns, now_ns, __ATOMIC_RELAXED);
	}
}

static uint64_t xorshift64s(uint64_t *s)
{
	uint64_t x = *s != 0 ? *s : UINT64_C(0x9E3779B97F4A7C15);
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

int64_t ig_luno_budget_throttled(struct ig_luno_budget *b, int64_t now_ns, uint64_t *rng)
{
	uint32_t level = __atomic_fetch_add(&b->level, 1, __ATOMIC_RELAXED);
	int64_t d = b->backoff_base_ns, until, cur, tat, empty;

	learn(b, now_ns);
	if (level > IG_LUNO_BUDGET_MAX_LEVEL)
		level = IG_LUNO_BUDGET_MAX_LEVEL;
	d <<= level;
	if (d > b->backoff_max_ns)
		d = b->backoff_max_ns;
	/* Jitter: uniform in [d/2, d), so callers that were throttled together
	 * do not come back together. */
	d = d / 2 + (int64_t)(xorshift64s(rng) % (uint64_t)(d / 2 > 0 ? d / 2 : 1));
	until = now_ns + d;
	cur = __atomic_load_n(&b->backoff_until_ns, __ATOMIC_RELAXED);
	while (cur < until &&
	       !__atomic_compare_exchange_n(&b->backoff_until_ns, &cur, until, false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	/* After the backoff the bucket starts empty: one call per interval. */
	empty = until + __atomic_load_n(&b->tolerance_ns, __ATOMIC_RELAXED);
	tat = __atomic_load_n(&b->tat_ns, __ATOMIC_RELAXED);
	while (tat < empty &&
	       !__atomic_compare_exchange_n(&b->tat_ns, &tat, empty, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	__atomic_fetch_add(&b->throttled, 1, __ATOMIC_RELAXED);
	return d;
}

void ig_luno_budget_ok(struct ig_luno_budget *b)
{
	if (__atomic_load_n(&b->level, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&b->level, 0, __ATOMIC_RELAXED);
}

bool ig_luno_budget_backing_off(const struct ig_luno_budget *b, int64_t now_ns)
{
	return now_ns < __atomic_load_n(&b->backoff_until_ns, __ATOMIC_RELAXED);
}

int64_t ig_luno_budget_per_min(const struct ig_config *cfg)
{
	return cfg->venue.requests_per_min > 0 ? cfg->venue.requests_per_min
					     : IG_CFG_DEFAULT_REQUESTS_PER_MIN;
}
