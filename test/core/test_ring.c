/*
 * test_ring.c - the slot-sequence SPSC ring (src/core/ring.h) and the wait
 * machinery that producers and consumers of it use (src/core/wait.h).
 *
 * Covers, single-threaded:
 *   - ig_ring_init refuses capacities that are not a power of two >= 2 and
 *     element sizes that are not a multiple of 8 >= 16, and leaves the
 *     struct untouched then; accepted rings start with slot i at seq i;
 *   - an empty ring pops nothing; a ring of capacity N holds exactly N
 *     items, the next push fails without writing (back-pressure) and one
 *     pop frees one slot;
 *   - FIFO order, readable/writable predicates and the popped seq word
 *     (position + 1) against a model over many wrap-arounds, including
 *     positions past 2^32;
 *   - payload fidelity for a 64-byte element with a leading uint64_t seq,
 *     for a 24-byte element and for struct ig_event (the typed wrappers);
 *   - ig_wait_parse/name, and adaptive parking: a deadline ends it, pending
 *     work skips it, notify on a running waiter is a no-op.
 *
 * Covers, with two threads (pthread): a producer pushes 10,000,000 events
 * (1/10 of that under a sanitizer) carrying a counter, and the consumer
 * checks that the counters arrive strictly consecutive (nothing lost,
 * duplicated or reordered) with an intact payload and seq == position + 1.
 * It runs for each wait strategy (spin, yield, adaptive), with struct
 * ig_event and with a 64-byte struct, on a 1024-slot ring. Both sides use
 * the real machinery: each owns a struct ig_waiter and a struct ig_idle of
 * the strategy under test; the consumer's has_work is ig_ring_readable, the
 * producer's (waiting on a full ring) is ig_ring_writable; each side calls
 * ig_waiter_notify() on the other's waiter once per batch of 64, never per
 * event. The consumer starts late so the ring fills (back-pressure is
 * counted and asserted), and under adaptive each side once waits until the
 * other has parked on its futex, so the park/wake path runs every time.
 * A watchdog turns a lost wakeup into a failure instead of a hang.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/ring.h"
#include "core/wait.h"
#include "ingenium/error.h"
#include "ingenium/event.h"

/* A 64-byte element: one cache line, the ring's seq word first. */
struct ev64 {
	_Alignas(IG_CACHELINE) uint64_t seq; /* owned by the ring */
	uint64_t counter;                    /* payload: sequence number */
	uint64_t fill[5];                    /* payload: counter + k */
	uint64_t check;                      /* payload: ~counter */
};
_Static_assert(sizeof(struct ev64) == 64, "ev64 is one cache line");

/* A small element that is not a cache-line multiple. */
struct ev24 {
	uint64_t seq;
	uint64_t a;
	uint64_t b;
};

#define STRESS_RING_CAP 1024u
#define STRESS_BATCH 64u

static bool under_sanitizer(void)
{
#if defined(IG_TSAN) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	return true;
#else
	const char *s = getenv("IG_SANITIZER");
	return s != NULL && s[0] != '\0';
#endif
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static void sleep_ns(int64_t ns)
{
	ig_clock_sleep_until_ns(ig_clock_mono_ns() + ns);
}

static void ev64_make(struct ev64 *e, uint64_t counter)
{
	e->seq = UINT64_C(0xDEADBEEFDEADBEEF); /* ignored by push */
	e->counter = counter;
	for (uint64_t k = 0; k < 5; k++)
		e->fill[k] = counter + k;
	e->check = ~counter;
}

static bool ev64_ok(const struct ev64 *e, uint64_t counter)
{
	if (e->counter != counter || e->check != ~counter)
		return false;
	for (uint64_t k = 0; k < 5; k++)
		if (e->fill[k] != counter + k)
			return false;
	return true;
}

/* struct ig_event carrying a counter in the header, the first and the last
 * body words: a torn or partial copy shows up as a mismatch. */
static void event_make(struct ig_event *ev, uint64_t counter)
{
	uint64_t tail = ~counter;

	ev->hdr.seq = UINT64_C(0xDEADBEEFDEADBEEF);
	ev->hdr.type = IG_EV_TIMER;
	ev->hdr.src = IG_STAGE_TICK;
	ev->hdr.strategy_id = (uint16_t)(counter & 0xFFFF);
	ev->hdr.ts_origin_ns = (int64_t)(counter & INT64_MAX);
	ev->body.timer.count = counter;
	memcpy(ev->body.raw + sizeof(ev->body.raw) - sizeof(tail), &tail, sizeof(tail));
}

static bool event_ok(const struct ig_event *ev, uint64_t counter)
{
	uint64_t tail;

	memcpy(&tail, ev->body.raw + sizeof(ev->body.raw) - sizeof(tail), sizeof(tail));
	return ev->hdr.type == IG_EV_TIMER && ev->hdr.src == IG_STAGE_TICK &&
	       ev->hdr.strategy_id == (uint16_t)(counter & 0xFFFF) &&
	       ev->hdr.ts_origin_ns == (int64_t)(counter & INT64_MAX) &&
	       ev->body.timer.count == counter && tail == ~counter;
}

/* ---- init --------------------------------------------------------------- */

static void test_init_rejects(void **state)
{
	static const uint32_t bad_cap[] = { 0, 1, 3, 5, 6, 7, 12, 1000, 1023, 1025,
					    UINT32_MAX, (1u << 31) + 1 };
	static const size_t bad_size[] = { 0, 1, 8, 12, 15, 17, 20, 63, 65 };
	struct ig_ring r, before;

	(void)state;
	memset(&r, 0xAB, sizeof(r));
	memcpy(&before, &r, sizeof(r));
	for (size_t i = 0; i < sizeof(bad_cap) / sizeof(bad_cap[0]); i++) {
		assert_int_equal(ig_ring_init(&r, bad_cap[i], 64), IG_EINVAL);
		assert_memory_equal(&r, &before, sizeof(r)); /* nothing to undo */
	}
	for (size_t i = 0; i < sizeof(bad_size) / sizeof(bad_size[0]); i++) {
		assert_int_equal(ig_ring_init(&r, 8, bad_size[i]), IG_EINVAL);
		assert_memory_equal(&r, &before, sizeof(r));
	}
}

static void test_init_accepts(void **state)
{
	static const struct {
		uint32_t cap;
		size_t size;
	} ok[] = {
		{ 2, 16 }, { 4, 24 }, { 8, 64 }, { 1024, sizeof(struct ig_event) },
		{ 1u << 16, 64 }, { 2, 200 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct ig_ring r;
		assert_int_equal(ig_ring_init(&r, ok[i].cap, ok[i].size), 0);
		assert_int_equal(ig_ring_capacity(&r), ok[i].cap);
		assert_int_equal(r.elem_size, ok[i].size);
		assert_int_equal((uintptr_t)r.slots % IG_CACHELINE, 0);
		assert_int_equal(r.head, 0);
		assert_int_equal(r.tail, 0);
		for (uint64_t k = 0; k < ok[i].cap; k++)
			assert_int_equal(*ig__ring_slot(&r, k), k);
		assert_false(ig_ring_readable(&r));
		assert_true(ig_ring_writable(&r));
		ig_ring_destroy(&r);
		assert_null(r.slots);
	}
}

/* ---- single-threaded semantics ------------------------------------------ */

static void test_empty_pop_fails(void **state)
{
	struct ig_ring r;
	struct ev64 e, out;

	(void)state;
	assert_int_equal(ig_ring_init(&r, 8, sizeof(struct ev64)), 0);
	memset(&out, 0x5A, sizeof(out));
	assert_false(ig_ring_pop_spsc(&r, &out));
	assert_false(ig_ring_readable(&r));
	for (size_t k = 0; k < sizeof(out); k++) /* out untouched */
		assert_int_equal(((unsigned char *)&out)[k], 0x5A);
	/* One in, one out, then empty again. */
	ev64_make(&e, 7);
	assert_true(ig_ring_push_spsc(&r, &e));
	assert_true(ig_ring_readable(&r));
	assert_true(ig_ring_pop_spsc(&r, &out));
	assert_true(ev64_ok(&out, 7));
	assert_int_equal(out.seq, 1);
	assert_false(ig_ring_pop_spsc(&r, &out));
	assert_false(ig_ring_readable(&r));
	ig_ring_destroy(&r);
}

static void check_full_backpressure(uint32_t cap)
{
	struct ig_ring r;
	struct ev64 e, out;

	assert_int_equal(ig_ring_init(&r, cap, sizeof(struct ev64)), 0);
	/* Exactly cap items fit: all N slots are usable. */
	for (uint64_t i = 0; i < cap; i++) {
		assert_true(ig_ring_writable(&r));
		ev64_make(&e, i);
		assert_true(ig_ring_push_spsc(&r, &e));
	}
	assert_false(ig_ring_writable(&r));
	assert_true(ig_ring_readable(&r));
	/* Full: refused, and nothing overwritten. */
	ev64_make(&e, 999999);
	assert_false(ig_ring_push_spsc(&r, &e));
	assert_false(ig_ring_push_spsc(&r, &e));
	assert_int_equal(r.head, cap);
	/* One pop frees exactly one slot. */
	assert_true(ig_ring_pop_spsc(&r, &out));
	assert_true(ev64_ok(&out, 0));
	assert_int_equal(out.seq, 1);
	assert_true(ig_ring_writable(&r));
	ev64_make(&e, cap);
	assert_true(ig_ring_push_spsc(&r, &e));
	assert_false(ig_ring_writable(&r));
	assert_false(ig_ring_push_spsc(&r, &e));
	/* Drain: 1..cap in order. */
	for (uint64_t i = 1; i <= cap; i++) {
		assert_true(ig_ring_pop_spsc(&r, &out));
		assert_true(ev64_ok(&out, i));
		assert_int_equal(out.seq, i + 1);
	}
	assert_false(ig_ring_pop_spsc(&r, &out));
	assert_true(ig_ring_writable(&r));
	ig_ring_destroy(&r);
}

static void test_full_backpressure(void **state)
{
	(void)state;
	check_full_backpressure(2);
	check_full_backpressure(8);
	check_full_backpressure(1024);
}

/* Random push/pop bursts against a counting model. base is the starting
 * position (0, or near 2^32 to catch 32-bit truncation). */
static void run_model(uint32_t cap, uint64_t base, uint64_t seed, int steps)
{
	struct ig_ring r;
	struct ev64 e, out;
	uint64_t next_in = 0, next_out = 0;

	assert_int_equal(ig_ring_init(&r, cap, sizeof(struct ev64)), 0);
	if (base != 0) {
		/* Same state as after base pushes and pops. */
		for (uint64_t k = 0; k < cap; k++)
			*ig__ring_slot(&r, base + k) = base + k;
		r.head = r.tail = base;
	}
	for (int step = 0; step < steps; step++) {
		uint64_t burst = rng_next(&seed) % (cap + 2u);
		bool pushing = (rng_next(&seed) & 1) != 0;

		for (uint64_t k = 0; k < burst; k++) {
			uint64_t count = next_in - next_out;
			assert_int_equal(ig_ring_readable(&r), count > 0);
			assert_int_equal(ig_ring_writable(&r), count < cap);
			if (pushing) {
				ev64_make(&e, next_in);
				bool ok = ig_ring_push_spsc(&r, &e);
				assert_int_equal(ok, count < cap);
				if (ok)
					next_in++;
			} else {
				bool ok = ig_ring_pop_spsc(&r, &out);
				assert_int_equal(ok, count > 0);
				if (ok) {
					if (!ev64_ok(&out, next_out))
						fail_msg("popped %" PRIu64 ", want %" PRIu64,
							 out.counter, next_out);
					assert_int_equal(out.seq, base + next_out + 1);
					next_out++;
				}
			}
		}
	}
	/* Many laps. */
	assert_true(next_out > 50u * cap);
	ig_ring_destroy(&r);
}

static void test_fifo_wraparound(void **state)
{
	(void)state;
	run_model(2, 0, 1, 200000);
	run_model(8, 0, 2, 100000);
	run_model(64, 0, 3, 20000);
	run_model(8, (UINT64_C(1) << 32) - 3, 4, 20000);
	run_model(16, (UINT64_C(1) << 32) - 17, 5, 20000);
}

static void test_small_element(void **state)
{
	struct ig_ring r;
	struct ev24 e, out;

	(void)state;
	/* Interleaved: 3 in, 3 out, many laps of a 4-slot ring of 24-byte
	 * slots (not cache-line multiples). */
	assert_int_equal(ig_ring_init(&r, 4, sizeof(struct ev24)), 0);
	for (uint64_t lap = 0, in = 0, outn = 0; lap < 1000; lap++) {
		for (int k = 0; k < 3; k++, in++) {
			e.seq = 0;
			e.a = in;
			e.b = ~in;
			assert_true(ig_ring_push_spsc(&r, &e));
		}
		for (int k = 0; k < 3; k++, outn++) {
			assert_true(ig_ring_pop_spsc(&r, &out));
			assert_int_equal(out.a, outn);
			assert_int_equal(out.b, ~outn);
			assert_int_equal(out.seq, outn + 1);
		}
	}
	ig_ring_destroy(&r);
}

static void test_ig_event_payload(void **state)
{
	struct ig_ring r;
	struct ig_event ev, out;
	uint64_t seed = 42;

	(void)state;
	assert_int_equal(ig_ring_init(&r, 16, sizeof(struct ig_event)), 0);
	for (uint64_t i = 0; i < 5000; i++) {
		/* Random bytes everywhere: every byte after seq must survive. */
		unsigned char *p = (unsigned char *)&ev;
		for (size_t k = 0; k < sizeof(ev); k++)
			p[k] = (unsigned char)rng_next(&seed);
		ev.hdr.type = IG_EV_FILL;
		ev.body.fill.qty = (int64_t)i;
		assert_true(ig_ring_push_ev(&r, &ev));
		memset(&out, 0, sizeof(out));
		assert_true(ig_ring_pop_ev(&r, &out));
		assert_int_equal(out.hdr.seq, i + 1);
		assert_memory_equal((const char *)&out + sizeof(uint64_t),
				    (const char *)&ev + sizeof(uint64_t),
				    sizeof(ev) - sizeof(uint64_t));
		assert_int_equal(out.hdr.type, IG_EV_FILL);
		assert_int_equal(out.body.fill.qty, (int64_t)i);
	}
	/* Fill through the typed wrappers, then check order. */
	for (uint64_t i = 0; i < 16; i++) {
		event_make(&ev, i);
		assert_true(ig_ring_push_ev(&r, &ev));
	}
	event_make(&ev, 16);
	assert_false(ig_ring_push_ev(&r, &ev));
	for (uint64_t i = 0; i < 16; i++) {
		assert_true(ig_ring_pop_ev(&r, &out));
		assert_true(event_ok(&out, i));
		assert_int_equal(out.hdr.seq, 5000 + i + 1);
	}
	assert_false(ig_ring_pop_ev(&r, &out));
	ig_ring_destroy(&r);
}

/* ---- wait machinery ----------------------------------------------------- */

static bool always_true(void *arg)
{
	(void)arg;
	return true;
}

static bool always_false(void *arg)
{
	(void)arg;
	return false;
}

static void test_wait_basics(void **state)
{
	static const char *const names[] = { "spin", "yield", "adaptive" };
	struct ig_waiter w;
	struct ig_idle idle;
	int64_t t0;

	(void)state;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(ig_wait_parse(names[k]), k);
		assert_string_equal(ig_wait_name((enum ig_wait_kind)k), names[k]);
	}
	assert_int_equal(ig_wait_parse("busy"), -1);
	assert_int_equal(ig_wait_parse(""), -1);
	assert_string_equal(ig_wait_name((enum ig_wait_kind)7), "unknown");

	ig_waiter_init(&w);
	assert_int_equal(w.state, IG_WAITER_RUNNING);
	ig_waiter_notify(&w); /* running: no wake issued */
	assert_int_equal(w.wakes, 0);

	/* Adaptive with pending work: announces PARKED, re-checks, never sleeps. */
	ig_idle_init(&idle, IG_WAIT_ADAPTIVE);
	for (int i = 0; i < 2000; i++)
		ig_idle_wait(&idle, &w, 0, INT64_MAX, always_true, NULL);
	assert_int_equal(w.parks, 0);
	assert_int_equal(w.state, IG_WAITER_RUNNING);

	/* Adaptive with nothing to do: parks until the deadline. */
	ig_idle_init(&idle, IG_WAIT_ADAPTIVE);
	t0 = ig_clock_mono_ns();
	while (w.parks == 0)
		ig_idle_wait(&idle, &w, 0, ig_clock_mono_ns() + 20000000, always_false, NULL);
	assert_true(ig_clock_mono_ns() - t0 >= 15000000);
	assert_int_equal(w.parks, 1);
	assert_int_equal(w.state, IG_WAITER_RUNNING);
	/* A deadline in the past returns at once without sleeping. */
	idle.round = idle.spins + idle.yields;
	ig_idle_wait(&idle, &w, 0, ig_clock_mono_ns() - 1, always_false, NULL);
	assert_int_equal(w.parks, 1);
	/* Work resets the idle round. */
	idle.round = 17;
	ig_idle_wait(&idle, &w, 3, INT64_MAX, always_false, NULL);
	assert_int_equal(idle.round, 0);
	/* Spin and yield return after one pause. */
	ig_idle_init(&idle, IG_WAIT_SPIN);
	ig_idle_wait(&idle, &w, 0, INT64_MAX, always_false, NULL);
	ig_idle_init(&idle, IG_WAIT_YIELD);
	ig_idle_wait(&idle, &w, 0, INT64_MAX, always_false, NULL);
	assert_int_equal(w.parks, 1);
}

/* ---- two-thread stress -------------------------------------------------- */

struct stress {
	struct ig_waiter cons_w; /* consumer's; the producer notifies it */
	struct ig_waiter prod_w; /* producer's; the consumer notifies it */
	struct ig_ring ring;     /* producer: push; consumer: pop/readable */
	enum ig_wait_kind kind;
	bool use_event;          /* struct ig_event, else struct ev64 */
	uint64_t n;              /* events to send */
	/* producer-written, read after join */
	uint64_t sent;
	uint64_t full_hits;      /* pushes refused: ring full */
	uint64_t full_rounds;    /* idle rounds waiting for space */
	bool prod_timeout;       /* gave up waiting for the consumer to park */
	/* consumer-written, read after join */
	uint64_t received;
	uint64_t bad;            /* events with a wrong counter or payload */
	uint64_t first_bad;      /* position of the first bad event */
	uint64_t empty_rounds;   /* idle rounds with nothing to pop */
	bool cons_timeout;       /* gave up waiting for the producer to park */
	/* progress for the watchdog: relaxed atomics */
	uint64_t sent_progress;
	uint64_t recv_progress;
	uint32_t done;           /* threads finished; atomic */
};

static bool has_readable(void *arg)
{
	return ig_ring_readable(arg);
}

static bool has_writable(void *arg)
{
	return ig_ring_writable(arg);
}

/* Waits (bounded) until the other side's waiter shows PARKED. The other side
 * is starved (no input) at this point, so once it has announced PARKED its
 * re-check finds no work and it goes to sleep on the futex; the extra 5 ms
 * lets it get there before we feed it again, so that the wake path (and not
 * the re-check) is what resumes it. */
static bool wait_until_parked(const struct ig_waiter *w)
{
	int64_t deadline = ig_clock_mono_ns() + INT64_C(20000000000);

	while (__atomic_load_n(&w->state, __ATOMIC_ACQUIRE) != IG_WAITER_PARKED) {
		if (ig_clock_mono_ns() > deadline)
			return false;
		sleep_ns(20000);
	}
	sleep_ns(5000000);
	return true;
}

static void *producer_main(void *arg)
{
	struct stress *st = arg;
	struct ig_idle idle;
	struct ig_event ev;
	struct ev64 e64;
	uint64_t i = 0, pause_at = st->n / 2;
	const void *elem;

	memset(&ev, 0, sizeof(ev));
	memset(&e64, 0, sizeof(e64));
	ig_idle_init(&idle, st->kind);
	while (i < st->n) {
		/* One duty cycle: push a batch, stop early when full. */
		uint32_t pushed = 0;
		bool full = false;
		while (pushed < STRESS_BATCH && i < st->n) {
			if (st->use_event) {
				event_make(&ev, i);
				elem = &ev;
			} else {
				ev64_make(&e64, i);
				elem = &e64;
			}
			if (!ig_ring_push_spsc(&st->ring, elem)) {
				st->full_hits++;
				full = true;
				break;
			}
			i++;
			pushed++;
		}
		if (pushed > 0) {
			/* Once per batch, never per event. */
			ig_waiter_notify(&st->cons_w);
			__atomic_store_n(&st->sent_progress, i, __ATOMIC_RELAXED);
		}
		if (i >= pause_at && pause_at != 0) {
			/* Starve the consumer once: adaptive must park on its
			 * futex and be woken by the next batch's notify. */
			pause_at = 0;
			if (st->kind == IG_WAIT_ADAPTIVE) {
				if (!wait_until_parked(&st->cons_w))
					st->prod_timeout = true;
			} else {
				sleep_ns(2000000);
			}
		}
		if (full)
			st->full_rounds++;
		ig_idle_wait(&idle, &st->prod_w, full ? 0 : (int)pushed, INT64_MAX,
			     has_writable, &st->ring);
	}
	ig_waiter_notify(&st->cons_w);
	st->sent = i;
	__atomic_fetch_add(&st->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct stress *st = arg;
	struct ig_idle idle;
	struct ig_event ev;
	struct ev64 e64;
	uint64_t expect = 0, stall_at = st->n / 4;

	ig_idle_init(&idle, st->kind);
	/* Start late: the producer fills the ring and meets back-pressure. */
	sleep_ns(3000000);
	while (expect < st->n) {
		uint32_t popped = 0;
		while (popped < STRESS_BATCH) {
			bool ok, good;
			uint64_t seq, got;
			if (st->use_event) {
				ok = ig_ring_pop_spsc(&st->ring, &ev);
				seq = ev.hdr.seq;
				got = ev.body.timer.count;
				good = ok && event_ok(&ev, expect);
			} else {
				ok = ig_ring_pop_spsc(&st->ring, &e64);
				seq = e64.seq;
				got = e64.counter;
				good = ok && ev64_ok(&e64, expect);
			}
			if (!ok)
				break;
			if (!good || seq != expect + 1) {
				if (st->bad++ == 0)
					st->first_bad = expect;
				expect = got; /* resynchronise; counted once */
			}
			expect++;
			popped++;
		}
		if (popped > 0) {
			ig_waiter_notify(&st->prod_w);
			__atomic_store_n(&st->recv_progress, expect, __ATOMIC_RELAXED);
		} else {
			st->empty_rounds++;
		}
		if (expect >= stall_at && stall_at != 0) {
			/* Stop reading once: under adaptive the producer must
			 * park on a full ring and be woken by our notify. */
			stall_at = 0;
			if (st->kind == IG_WAIT_ADAPTIVE) {
				if (!wait_until_parked(&st->prod_w))
					st->cons_timeout = true;
			} else {
				sleep_ns(2000000);
			}
		}
		ig_idle_wait(&idle, &st->cons_w, (int)popped, INT64_MAX, has_readable,
			     &st->ring);
	}
	st->received = expect;
	__atomic_fetch_add(&st->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void run_stress(enum ig_wait_kind kind, bool use_event)
{
	uint64_t n = UINT64_C(10000000);
	int64_t t0, deadline, elapsed;
	struct stress *st;
	pthread_t prod, cons;

	if (under_sanitizer())
		n /= 10;
	st = aligned_alloc(IG_CACHELINE, sizeof(*st));
	assert_non_null(st);
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->use_event = use_event;
	st->n = n;
	ig_waiter_init(&st->cons_w);
	ig_waiter_init(&st->prod_w);
	assert_int_equal(ig_ring_init(&st->ring, STRESS_RING_CAP,
				      use_event ? sizeof(struct ig_event) : sizeof(struct ev64)),
			 0);

	t0 = ig_clock_mono_ns();
	assert_int_equal(pthread_create(&cons, NULL, consumer_main, st), 0);
	assert_int_equal(pthread_create(&prod, NULL, producer_main, st), 0);
	/* Watchdog: a lost wakeup would hang forever; fail instead. The
	 * threads are left running and st is leaked then, on purpose. */
	deadline = t0 + INT64_C(90000000000);
	while (__atomic_load_n(&st->done, __ATOMIC_ACQUIRE) < 2) {
		if (ig_clock_mono_ns() > deadline)
			fail_msg("%s/%s: stuck: sent %" PRIu64 " received %" PRIu64
				 " cons_w.state %u prod_w.state %u",
				 ig_wait_name(kind), use_event ? "ig_event" : "ev64",
				 __atomic_load_n(&st->sent_progress, __ATOMIC_RELAXED),
				 __atomic_load_n(&st->recv_progress, __ATOMIC_RELAXED),
				 __atomic_load_n(&st->cons_w.state, __ATOMIC_RELAXED),
				 __atomic_load_n(&st->prod_w.state, __ATOMIC_RELAXED));
		sleep_ns(1000000);
	}
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	elapsed = ig_clock_mono_ns() - t0;

	print_message("  %-8s %-8s %" PRIu64 " events in %.3f s (%.1f M/s); "
		      "full: %" PRIu64 " hits, %" PRIu64 " rounds; empty rounds %" PRIu64
		      "; consumer parks %" PRIu64 " wakes %" PRIu64
		      "; producer parks %" PRIu64 " wakes %" PRIu64 "\n",
		      ig_wait_name(kind), use_event ? "ig_event" : "ev64", st->received,
		      (double)elapsed / 1e9, (double)st->received * 1e3 / (double)elapsed,
		      st->full_hits, st->full_rounds, st->empty_rounds, st->cons_w.parks,
		      st->cons_w.wakes, st->prod_w.parks, st->prod_w.wakes);

	if (st->bad != 0)
		fail_msg("%" PRIu64 " bad events, first at %" PRIu64, st->bad, st->first_bad);
	assert_int_equal(st->sent, n);
	assert_int_equal(st->received, n);
	assert_false(st->prod_timeout);
	assert_false(st->cons_timeout);
	/* Back-pressure happened (the consumer starts late) and was waited out. */
	assert_true(st->full_hits > 0);
	assert_true(st->full_rounds > 0);
	/* Both sides drained: the ring is empty and every slot is free. */
	assert_false(ig_ring_readable(&st->ring));
	assert_true(ig_ring_writable(&st->ring));
	assert_int_equal(st->ring.head, n);
	assert_int_equal(st->ring.tail, n);
	if (kind == IG_WAIT_ADAPTIVE) {
		/* Each side parked at least once and was woken by a notify. */
		assert_true(st->cons_w.parks > 0);
		assert_true(st->cons_w.wakes > 0);
		assert_true(st->prod_w.parks > 0);
		assert_true(st->prod_w.wakes > 0);
	} else {
		/* Spin and yield never park, so nobody is ever woken. */
		assert_int_equal(st->cons_w.parks, 0);
		assert_int_equal(st->prod_w.parks, 0);
		assert_int_equal(st->cons_w.wakes, 0);
		assert_int_equal(st->prod_w.wakes, 0);
	}
	assert_int_equal(st->cons_w.state, IG_WAITER_RUNNING);
	assert_int_equal(st->prod_w.state, IG_WAITER_RUNNING);
	ig_ring_destroy(&st->ring);
	free(st);
}

static void test_stress_spin_event(void **state)
{
	(void)state;
	run_stress(IG_WAIT_SPIN, true);
}

static void test_stress_yield_event(void **state)
{
	(void)state;
	run_stress(IG_WAIT_YIELD, true);
}

static void test_stress_adaptive_event(void **state)
{
	(void)state;
	run_stress(IG_WAIT_ADAPTIVE, true);
}

static void test_stress_spin_ev64(void **state)
{
	(void)state;
	run_stress(IG_WAIT_SPIN, false);
}

static void test_stress_yield_ev64(void **state)
{
	(void)state;
	run_stress(IG_WAIT_YIELD, false);
}

static void test_stress_adaptive_ev64(void **state)
{
	(void)state;
	run_stress(IG_WAIT_ADAPTIVE, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_rejects),
		cmocka_unit_test(test_init_accepts),
		cmocka_unit_test(test_empty_pop_fails),
		cmocka_unit_test(test_full_backpressure),
		cmocka_unit_test(test_fifo_wraparound),
		cmocka_unit_test(test_small_element),
		cmocka_unit_test(test_ig_event_payload),
		cmocka_unit_test(test_wait_basics),
		cmocka_unit_test(test_stress_spin_event),
		cmocka_unit_test(test_stress_yield_event),
		cmocka_unit_test(test_stress_adaptive_event),
		cmocka_unit_test(test_stress_spin_ev64),
		cmocka_unit_test(test_stress_yield_ev64),
		cmocka_unit_test(test_stress_adaptive_ev64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
