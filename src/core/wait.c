/* wait.c - spin / yield / adaptive idle strategies and futex parking. */
#include "core/wait.h"

#include "core/clock.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define IG_ADAPTIVE_SPINS 200u
#define IG_ADAPTIVE_YIELDS 50u

/*
 * The park/notify handshake needs a StoreLoad barrier on each side. GCC
 * rejects __atomic_thread_fence under -fsanitize=thread (-Werror=tsan), and
 * TSan does not model fences anyway. So the TSan build does the same
 * handshake with seq_cst read-modify-writes on the state word itself: both
 * sides then touch one location, whose modification order decides who saw
 * whom (the parker's exchange acquires the notifier's release, or the
 * notifier's RMW reads PARKED). It makes notify write the waiter's line,
 * so it is used only under TSan.
 */
#if defined(IG_TSAN) || defined(__SANITIZE_THREAD__)
#define IG_WAIT_RMW_HANDSHAKE 1
#endif

int ig_wait_parse(const char *s)
{
	if (strcmp(s, "spin") == 0)
		return IG_WAIT_SPIN;
	if (strcmp(s, "yield") == 0)
		return IG_WAIT_YIELD;
	if (strcmp(s, "adaptive") == 0)
		return IG_WAIT_ADAPTIVE;
	return -1;
}

const char *ig_wait_name(enum ig_wait_kind k)
{
	switch (k) {
	case IG_WAIT_SPIN:
		return "spin";
	case IG_WAIT_YIELD:
		return "yield";
	case IG_WAIT_ADAPTIVE:
		return "adaptive";
	}
	return "unknown";
}

void ig_waiter_init(struct ig_waiter *w)
{
	memset(w, 0, sizeof(*w));
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

void ig_waiter_notify(struct ig_waiter *w)
{
#ifdef IG_WAIT_RMW_HANDSHAKE
	if (__atomic_fetch_or(&w->state, 0u, __ATOMIC_SEQ_CST) != IG_WAITER_PARKED)
		return;
#else
	/* Full fence: our slot stores (already released) are ordered before
	 * the read of state. Pairs with the fence in park(). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->state, __ATOMIC_RELAXED) != IG_WAITER_PARKED)
		return;
#endif
	if (__atomic_exchange_n(&w->state, IG_WAITER_RUNNING, __ATOMIC_SEQ_CST) ==
	    IG_WAITER_PARKED) {
		__atomic_fetch_add(&w->wakes, 1, __ATOMIC_RELAXED);
		futex(&w->state, FUTEX_WAKE_PRIVATE, 1, NULL);
	}
}

static void park(struct ig_waiter *w, int64_t deadline_ns, bool (*has_work)(void *), void *arg)
{
	struct timespec ts, *tsp = NULL;

#ifdef IG_WAIT_RMW_HANDSHAKE
	(void)__atomic_exchange_n(&w->state, IG_WAITER_PARKED, __ATOMIC_SEQ_CST);
#else
	__atomic_store_n(&w->state, IG_WAITER_PARKED, __ATOMIC_SEQ_CST);
	/* Full fence: PARKED is visible before we re-check the inputs, so a
	 * producer that pushed before our check is seen by it, and one that
	 * pushes after sees PARKED and wakes us. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
	if (has_work != NULL && has_work(arg))
		goto out;
	if (deadline_ns != INT64_MAX) {
		int64_t rel = deadline_ns - ig_clock_mono_ns();
		if (rel <= 0)
			goto out;
		ts.tv_sec = rel / 1000000000;
		ts.tv_nsec = rel % 1000000000;
		tsp = &ts;
	}
	w->parks++;
	futex(&w->state, FUTEX_WAIT_PRIVATE, IG_WAITER_PARKED, tsp);
out:
	__atomic_store_n(&w->state, IG_WAITER_RUNNING, __ATOMIC_SEQ_CST);
}

void ig_idle_park(struct ig_waiter *w, int64_t deadline_ns, bool (*has_work)(void *arg), void *arg)
{
	park(w, deadline_ns, has_work, arg);
}

void ig_idle_init(struct ig_idle *idle, enum ig_wait_kind kind)
{
	memset(idle, 0, sizeof(*idle));
	idle->kind = kind;
	idle->spins = IG_ADAPTIVE_SPINS;
	idle->yields = IG_ADAPTIVE_YIELDS;
}

void ig_idle_wait(struct ig_idle *idle, struct ig_waiter *w, int work, int64_t deadline_ns,
		  bool (*has_work)(void *arg), void *arg)
{
	if (work > 0) {
		idle->round = 0;
		return;
	}
	switch (idle->kind) {
	case IG_WAIT_SPIN:
		ig_cpu_relax();
		return;
	case IG_WAIT_YIELD:
		sched_yield();
		return;
	case IG_WAIT_ADAPTIVE:
		if (idle->round < idle->spins) {
			idle->round++;
			ig_cpu_relax();
		} else if (idle->round < idle->spins + idle->yields) {
			idle->round++;
			sched_yield();
		} else {
			park(w, deadline_ns, has_work, arg);
			idle->round = 0;
		}
		return;
	}
}
