/* snapshot.c - RCU publication of immutable snapshots (see snapshot.h). */
#include "api/snapshot.h"

#include "core/hist.h"

#include <string.h>

#include <stddef.h>
#include <stdlib.h>

#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

#if defined(IG_TSAN) || defined(__SANITIZE_THREAD__)
#define IG_SNAP_TSAN 1
/*
 * liburcu is not built with TSan: its grace periods and the call_rcu
 * thread's hand-offs synchronise through its own uatomic operations and
 * futex syscalls, which TSan does not see. So the memory liburcu
 * allocates and frees itself (rcu_barrier's completion, call_rcu's
 * queue nodes) looks raced. Interceptors called from liburcu are ignored;
 * our own accesses (the slot states, the snapshots) are still checked.
 * TSan reads this at start-up in every binary that links this file.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:liburcu.so\n";
}

/*
 * The same blindness hides RCU's own orderings from TSan: the publish
 * (rcu_assign_pointer: a compiler barrier and a store on x86) before the
 * read (rcu_dereference: a volatile load), and every reader's
 * rcu_read_unlock before the grace period ends. The TSan build spells
 * both in C11 atomics TSan models: the pointer is stored with release and
 * loaded with acquire (the same instructions on x86), and each read
 * unlock does a release increment of one counter that the call_rcu
 * callback acquires before it frees a slot (a shared cache line, so only
 * under TSan).
 */
static uint64_t tsan_unlocks;
#endif

enum slot_state {
	SLOT_FREE = 0, /* the publisher may take it */
	SLOT_WRITING,  /* the publisher fills it */
	SLOT_LIVE,     /* current: readers may hold it */
	SLOT_RETIRED,  /* replaced: readers may still hold it */
	SLOT_GRACE,    /* handed to call_rcu */
};

struct slot {
	struct rcu_head head;      /* call_rcu */
	int state;                 /* atomic: enum slot_state */
	struct ig_snapshot snap;
};

struct ig_snap_pub {
	struct ig_snapshot *cur;   /* RCU-protected: the current snapshot, NULL before the first */
	uint64_t seq;              /* publisher thread */
	uint64_t published;        /* atomic (relaxed) */
	uint64_t skipped;          /* atomic (relaxed) */
	struct slot slot[IG_SNAP_POOL];
};

static struct slot *slot_of(struct ig_snapshot *snap)
{
	return (struct slot *)(void *)((char *)snap - offsetof(struct slot, snap));
}

struct ig_snap_pub *ig_snap_pub_create(void)
{
	return calloc(1, sizeof(struct ig_snap_pub));
}

void ig_snap_pub_destroy(struct ig_snap_pub *pub)
{
	if (pub == NULL)
		return;
	/* Every callback that may still touch a slot has run. Each callback's
	 * last act is a release store of its slot's state: acquiring them
	 * orders the free after it in the C11 model too (and for TSan, which
	 * does not see liburcu's own synchronisation). */
	urcu_memb_barrier();
	for (int i = 0; i < IG_SNAP_POOL; i++)
		(void)__atomic_load_n(&pub->slot[i].state, __ATOMIC_ACQUIRE);
	free(pub);
}

struct ig_snapshot *ig_snap_begin(struct ig_snap_pub *pub)
{
	for (int i = 0; i < IG_SNAP_POOL; i++) {
		struct slot *s = &pub->slot[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_FREE) {
			/* Only this thread leaves FREE: no race. */
			__atomic_store_n(&s->state, SLOT_WRITING, __ATOMIC_RELAXED);
			return &s->snap;
		}
	}
	__atomic_add_fetch(&pub->skipped, 1, __ATOMIC_RELAXED);
	return NULL;
}

void ig_snap_publish(struct ig_snap_pub *pub, struct ig_snapshot *snap)
{
	/* The publisher is the only writer of cur, so a plain load is its own
	 * last store. */
	struct ig_snapshot *old = __atomic_load_n(&pub->cur, __ATOMIC_RELAXED);

	snap->seq = ++pub->seq;
	__atomic_store_n(&slot_of(snap)->state, SLOT_LIVE, __ATOMIC_RELAXED);
#ifdef IG_SNAP_TSAN
	__atomic_store_n(&pub->cur, snap, __ATOMIC_RELEASE);
#else
	rcu_assign_pointer(pub->cur, snap); /* release: the contents before the pointer */
#endif
	if (old != NULL)
		__atomic_store_n(&slot_of(old)->state, SLOT_RETIRED, __ATOMIC_RELEASE);
	__atomic_add_fetch(&pub->published, 1, __ATOMIC_RELAXED);
}

/* call_rcu callback (liburcu's call_rcu thread): the grace period is over,
 * no reader holds the slot. */
static void slot_free_cb(struct rcu_head *head)
{
	struct slot *s = (struct slot *)(void *)((char *)head - offsetof(struct slot, head));
	/* Acquire the reclaimer's GRACE: call_rcu's queue orders it already,
	 * but through liburcu's own atomics, which TSan does not see. */
#ifdef IG_SNAP_TSAN
	(void)__atomic_load_n(&tsan_unlocks, __ATOMIC_ACQUIRE);
#endif
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_GRACE)
		__atomic_store_n(&s->state, SLOT_FREE, __ATOMIC_RELEASE);
}

int ig_snap_reclaim(struct ig_snap_pub *pub)
{
	int n = 0;

	for (int i = 0; i < IG_SNAP_POOL; i++) {
		struct slot *s = &pub->slot[i];
		if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_RETIRED) {
			/* Only this thread leaves RETIRED. */
			__atomic_store_n(&s->state, SLOT_GRACE, __ATOMIC_RELEASE);
			urcu_memb_call_rcu(&s->head, slot_free_cb);
			n++;
		}
	}
	return n;
}

const struct ig_snapshot *ig_snap_current(struct ig_snap_pub *pub)
{
#ifdef IG_SNAP_TSAN
	return __atomic_load_n(&pub->cur, __ATOMIC_ACQUIRE);
#else
	return rcu_dereference(pub->cur);
#endif
}

void ig_snap_thread_register(void)
{
	urcu_memb_register_thread();
}

void ig_snap_thread_unregister(void)
{
	urcu_memb_unregister_thread();
}

void ig_snap_read_lock(void)
{
	urcu_memb_read_lock();
}

void ig_snap_read_unlock(void)
{
#ifdef IG_SNAP_TSAN
	__atomic_add_fetch(&tsan_unlocks, 1, __ATOMIC_RELEASE);
#endif
	urcu_memb_read_unlock();
}

uint64_t ig_snap_published(const struct ig_snap_pub *pub)
{
	return __atomic_load_n(&pub->published, __ATOMIC_RELAXED);
}

uint64_t ig_snap_skipped(const struct ig_snap_pub *pub)
{
	return __atomic_load_n(&pub->skipped, __ATOMIC_RELAXED);
}

int ig_snap_free_slots(const struct ig_snap_pub *pub)
{
	int n = 0;
	for (int i = 0; i < IG_SNAP_POOL; i++)
		n += __atomic_load_n(&pub->slot[i].state, __ATOMIC_ACQUIRE) == SLOT_FREE;
	return n;
}

/* ------------------------------------------------ value helpers */

void ig_snap_latency_fill(const struct ig_hist *h, const int64_t *bound, int nbound,
			  struct ig_snap_latency *l)
{
	int b = 0;

	if (nbound > IG_SNAP_LAT_BUCKETS)
		nbound = IG_SNAP_LAT_BUCKETS;
	memset(l, 0, sizeof(*l));
	l->count = h->count;
	l->sum_ns = h->sum;
	for (uint32_t i = 0; i < IG_HIST_BUCKETS; i++) {
		int64_t high;
		if (h->buckets[i] == 0)
			continue;
		high = ig_hist_bucket_high(i);
		while (b < nbound && bound[b] < high)
			b++;
		/* past the last bound: +Inf, which is slot IG_SNAP_LAT_BUCKETS */
		l->bucket[b < nbound ? b : IG_SNAP_LAT_BUCKETS] += h->buckets[i];
	}
}

const char *ig_snap_http_code_name(int c)
{
	static const char *const names[IG_SNAP_HTTP__COUNT] = {
		"400", "401", "403", "404", "409", "429", "4xx",
		"500", "502", "503", "504", "5xx", "transport",
	};
	return c >= 0 && c < IG_SNAP_HTTP__COUNT ? names[c] : "?";
}

int ig_snap_http_code_slot(long status)
{
	switch (status) {
	case 0:
		return IG_SNAP_HTTP_TRANSPORT;
	case 400:
		return IG_SNAP_HTTP_400;
	case 401:
		return IG_SNAP_HTTP_401;
	case 403:
		return IG_SNAP_HTTP_403;
	case 404:
		return IG_SNAP_HTTP_404;
	case 409:
		return IG_SNAP_HTTP_409;
	case 429:
		return IG_SNAP_HTTP_429;
	case 500:
		return IG_SNAP_HTTP_500;
	case 502:
		return IG_SNAP_HTTP_502;
	case 503:
		return IG_SNAP_HTTP_503;
	case 504:
		return IG_SNAP_HTTP_504;
	default:
		if (status < 400)
			return status < 0 ? IG_SNAP_HTTP_TRANSPORT : -1;
		return status < 500 ? IG_SNAP_HTTP_4XX : IG_SNAP_HTTP_5XX;
	}
}

const char *ig_snap_stream_state_name(int s)
{
	return s == IG_SNAP_STREAM_LIVE ? "live" : s == IG_SNAP_STREAM_POLLING ? "polling" : "none";
}

const char *ig_snap_venue_state_name(int s)
{
	return s == IG_SNAP_VENUE_DOWN ? "down" : s == IG_SNAP_VENUE_DEGRADED ? "degraded" : "ok";
}
