/* luno_budget.c - the shared Luno request budget (see luno_budget.h). */
#include "exec/luno_budget.h"

#include <pthread.h>
#include <string.h>

#define NS_PER_MIN INT64_C(60000000000)
#define BACKOFF_MAX_NS INT64_C(30000000000)

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
	/* burst at once, then per_min - burst more in the rest of the
	 * minute: no 60 s window holds more than per_min. */
	b->interval_ns = NS_PER_MIN / (per_min - burst + 1);
	b->tolerance_ns = (burst - 1) * b->interval_ns;
	b->backoff_base_ns = (backoff_base_ms > 0 ? backoff_base_ms : 500) * 1000000;
	b->backoff_max_ns = BACKOFF_MAX_NS;
}

bool ig_luno_budget_take(struct ig_luno_budget *b, int64_t now_ns, int64_t reserve,
			 int64_t *retry_ns)
{
	int64_t until = __atomic_load_n(&b->backoff_until_ns, __ATOMIC_RELAXED);
	int64_t tat, next, earliest;

	if (now_ns < until) {
		*retry_ns = until;
		return false;
	}
	if (reserve < 0)
		reserve = 0;
	if (reserve > b->burst - 1)
		reserve = b->burst - 1;
	tat = __atomic_load_n(&b->tat_ns, __ATOMIC_RELAXED);
	for (;;) {
		/* Admitted when reserve + 1 calls fit under the tolerance. */
		earliest = tat - b->tolerance_ns + reserve * b->interval_ns;
		if (earliest > now_ns) {
			*retry_ns = earliest;
			return false;
		}
		next = (tat > now_ns ? tat : now_ns) + b->interval_ns;
		if (__atomic_compare_exchange_n(&b->tat_ns, &tat, next, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	__atomic_fetch_add(&b->taken, 1, __ATOMIC_RELAXED);
	return true;
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
	empty = until + b->tolerance_ns;
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
	(void)cfg;
	/* TODO(config): return cfg->venue.requests_per_min once the key
	 * exists (default 300). */
	return 300;
}

static struct ig_luno_budget global_budget;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int64_t global_per_min;

static void global_init(void)
{
	ig_luno_budget_init(&global_budget, global_per_min, 0, 0);
}

struct ig_luno_budget *ig_luno_budget_global(const struct ig_config *cfg)
{
	/* Written before the once-call that reads it; later callers do not
	 * change it (pthread_once orders the write for the first caller). */
	if (__atomic_load_n(&global_per_min, __ATOMIC_ACQUIRE) == 0)
		__atomic_store_n(&global_per_min, ig_luno_budget_per_min(cfg), __ATOMIC_RELEASE);
	pthread_once(&global_once, global_init);
	return &global_budget;
}
