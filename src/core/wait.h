/*
 * wait.h - wait strategies and the waiter a producer wakes.
 *
 * Design
 * ------
 * Every agent thread owns one struct ig_waiter. When all of its agents found
 * no work, the thread's idle strategy decides what to do:
 *
 *   spin      busy-poll with a pause instruction (dedicated cores only)
 *   yield     sched_yield() between polls
 *   adaptive  spin for a while, then yield for a while, then park on a futex
 *             until a producer wakes it or the thread's next deadline passes
 *
 * Parking is a Dekker handshake on two words: the waiter's state and the
 * ring slot's seq. The consumer stores PARKED, issues a full fence, then
 * re-checks its inputs; a producer stores the slot's seq, issues a full
 * fence, then reads the state. With both fences seq_cst at least one side
 * sees the other's store, so a wakeup is never lost. A producer calls
 * ig_waiter_notify() once per batch (at the end of its do_work), never per
 * event: a wake costs 8-10 us on this VM and a notify per push halves ring
 * throughput.
 *
 * Owner: the consumer thread owns the waiter; producers only read state and
 * flip it back to RUNNING in notify (an atomic exchange).
 */
#ifndef IG_CORE_WAIT_H
#define IG_CORE_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "ingenium/event.h"

enum ig_wait_kind {
	IG_WAIT_SPIN = 0,
	IG_WAIT_YIELD,
	IG_WAIT_ADAPTIVE,
};

#define IG_WAITER_RUNNING 0u
#define IG_WAITER_PARKED 1u

struct ig_waiter {
	_Alignas(IG_CACHELINE) uint32_t state; /* IG_WAITER_*; futex word */
	uint32_t pad_;
	uint64_t parks;   /* times the owner parked; owner-written, read after join */
	uint64_t wakes;   /* futex wakes issued to it; atomic add by producers */
};

/* Returns the wait kind named s ("spin", "yield", "adaptive"), or -1. */
int ig_wait_parse(const char *s);
const char *ig_wait_name(enum ig_wait_kind k);

void ig_waiter_init(struct ig_waiter *w);

/* Producer side, after pushing a batch: wakes the owner if it is parked.
 * Costs one shared read when the owner is running. Any thread. */
void ig_waiter_notify(struct ig_waiter *w);

/* Idle strategy state, owned by one agent thread. */
struct ig_idle {
	enum ig_wait_kind kind;
	uint32_t spins;      /* adaptive: idle rounds spent spinning */
	uint32_t yields;     /* adaptive: idle rounds spent yielding, after spins */
	uint32_t round;      /* idle rounds since the last work */
};

void ig_idle_init(struct ig_idle *idle, enum ig_wait_kind kind);

/*
 * Called by the owning thread after a duty cycle did `work` units.
 * If work > 0 it resets and returns at once. Otherwise it waits according to
 * the strategy. Adaptive parking re-checks has_work(arg) after announcing
 * PARKED and sleeps until notified or until deadline_ns (CLOCK_MONOTONIC;
 * INT64_MAX = none).
 */
void ig_idle_wait(struct ig_idle *idle, struct ig_waiter *w, int work, int64_t deadline_ns,
		  bool (*has_work)(void *arg), void *arg);

/* Parks the calling (owner) thread at once, as adaptive's last phase does:
 * until notified, has_work(arg) turns true, or deadline_ns passes. For a
 * thread whose only source of work is a clock (a paced feed), spinning
 * first would only burn the core. */
void ig_idle_park(struct ig_waiter *w, int64_t deadline_ns, bool (*has_work)(void *arg), void *arg);

static inline void ig_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif
