/*
 * bench_rings.c - the engine ring against ck_ring, a mutex+condvar queue and
 * a pipe, one-way throughput and ping-pong round trip.
 *
 * Method
 * ------
 * Queues, each used single-producer / single-consumer, 4096 slots (the
 * engine's default engine.ring_size):
 *   engine  the slot-sequence ring of src/core/ring.h (ig_ring_push_spsc /
 *           ig_ring_pop_spsc), elements by value, 4096 usable slots
 *   ck      Concurrency Kit's ck_ring by value (CK_RING_PROTOTYPE,
 *           ck_ring_enqueue_spsc_* / dequeue_spsc_*), 4095 usable slots
 *   mutex   bench_mutexq.c: one pthread mutex, two condvars, 4096 slots
 *   pipe    pipe(2), one write(2) / read(2) per fixed-size record, buffer
 *           set with F_SETPIPE_SZ to 4096 records (noted if refused)
 * Elements are 64 bytes (a one-line struct) or 128 bytes (struct ig_event).
 * The first 8 bytes are the engine ring's sequence word; bytes 8-15 carry a
 * running counter that the receiving side checks, so a lost, duplicated or
 * reordered element is reported as a failure, not a number.
 *
 * Waiting. engine and ck run under each of the engine's idle strategies
 * (src/core/wait.h), on both sides (a full ring is waited on like an empty
 * one): spin, yield and adaptive. Under adaptive each thread parks on its
 * own struct ig_waiter through ig_idle_wait(), and a side that moved
 * elements calls ig_waiter_notify() on its peer once per batch of up to 64
 * (throughput) or once per ping/pong (round trip), as the engine's agents
 * do. mutex waits on its condvars; pipe waits in poll(2) on a non-blocking
 * descriptor, which sleeps in the kernel exactly as a blocking read does
 * but lets the bench bound the wait.
 *
 * Threads: two, pinned to CPUs 0 and 1 (producer/pinger on 0, consumer/
 * ponger on 1), lined up on a start line before timing.
 *
 * Throughput: the producer pushes K elements as fast as the queue takes
 * them (K = 8M engine, 4M ck, 1M mutex, 400k pipe; 1/8 of that with
 * --quick). Time runs from the producer's first push (after the start line)
 * to the consumer's last pop, both CLOCK_MONOTONIC; throughput = K / time,
 * in M elements/s.
 *
 * Round trip: two queues A->B and B->A with one element in flight. A reads
 * CLOCK_MONOTONIC, pushes to B, waits for the element to come back, reads
 * the clock again and records the difference in the log-linear histogram
 * (src/core/hist.h), exactly as bench_floor.c does (each sample includes
 * about one clock_gettime call). N = 100k round trips for engine/ck and
 * 20k for mutex/pipe (1/8 with --quick), after a 10% warm-up.
 *
 * Repeats: every configuration (queue x element size x wait) is run
 * ctx->repeats times, interleaved round-robin so drift on a noisy VM hits
 * them alike. Reported: the median over repeats of throughput and of p50,
 * p90, p99, p99.9; the max over all repeats for max.
 *
 * Capacity variants (throughput only, 64 B, spin): engine and ck with 1024
 * slots, engine with 16384. On this machine the engine ring's throughput
 * depends strongly on capacity (medians of 25-36 M/s at 1024 slots against
 * 118-128 M/s at 4096 and 16384 in the runs that set this bench up), so the
 * capacity is part of any figure quoted for it.
 *
 * Names: ring.<queue>[.s<slots>][.e128][.<wait>].<figure>, wait only for
 * engine and ck, e128 only for 128-byte elements, s<slots> only when not
 * 4096. The headline names of issue 6
 * (ring.engine.throughput_meps, ring.engine.rtt_p50_ns, ring.ck.*, ...)
 * are 64-byte elements under spin (mutex and pipe: their only mode).
 */
#include "bench.h"
#include "bench_mutexq.h"

#include "core/hist.h"
#include "core/ring.h"
#include "core/wait.h"

#include <ck_ring.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Slots per queue: the engine's default engine.ring_size (config.h). */
#define RING_SLOTS 4096u
#define BATCH 64u                                   /* elements per notify */
#define BLOCK_WAIT_NS INT64_C(100000000)            /* mutex/pipe wait slice */
#define PARK_MAX_NS INT64_C(100000000)              /* adaptive park bound */

/* A 64-byte element: the ring's seq word, the checked counter, payload. */
struct bench_e64 {
	_Alignas(IG_CACHELINE) uint64_t seq; /* ring-owned sequence word */
	uint64_t val;                        /* running counter, checked */
	uint64_t payload[6];                 /* unused, carried by value */
};

_Static_assert(sizeof(struct bench_e64) == 64, "64-byte element");
_Static_assert(sizeof(struct ig_event) == 128, "128-byte element");

CK_RING_PROTOTYPE(e64, bench_e64)
CK_RING_PROTOTYPE(ev, ig_event)

enum q_kind {
	Q_ENGINE = 0,
	Q_CK64,
	Q_CK128,
	Q_MUTEX,
	Q_PIPE,
	Q__COUNT
};

/* One queue of any kind; only the members of its kind are live. */
struct q {
	_Alignas(IG_CACHELINE) struct ck_ring ck; /* Q_CK*: indices, own lines */
	struct ig_ring engine;                    /* Q_ENGINE */
	struct bench_mq mq;                       /* Q_MUTEX */
	void *ck_buf;                             /* Q_CK*: one element per slot */
	int fd[2];                                /* Q_PIPE: read, write end */
	bool pipe_short;                          /* Q_PIPE: F_SETPIPE_SZ refused */
	size_t elem_size;                         /* bytes per element */
};

struct run;

/* One thread's view of a run. Owner: that thread; read after join. */
struct side {
	struct run *run;
	struct q *in;           /* queue this side pops */
	struct q *out;          /* queue this side pushes */
	struct ig_waiter *me;   /* parks here under adaptive */
	struct ig_waiter *peer; /* notified under adaptive */
	struct ig_idle idle;
	struct bench_watch watch;
	int cpu;
	bool failed;            /* stalled or gave up */
	uint64_t bad;           /* elements with an unexpected counter */
	/* Element buffer: big and aligned enough for either element type. */
	_Alignas(IG_CACHELINE) unsigned char elem[sizeof(struct ig_event)];
};

struct run {
	struct ig_waiter wa;            /* side A's waiter */
	struct ig_waiter wb;            /* side B's waiter */
	_Alignas(IG_CACHELINE) int arrived; /* start line */
	int abort;                      /* a side gave up */
	struct bench_ctx *ctx;
	enum q_kind kind;
	enum ig_wait_kind wait;
	size_t elem_size;
	uint64_t count;                 /* elements / timed round trips */
	uint64_t warm;                  /* untimed round trips first */
	int64_t t_start_ns;             /* producer's first push */
	int64_t t_end_ns;               /* consumer's last pop */
	struct ig_hist *hist;           /* A's round trips */
	bool pipe_short;                /* F_SETPIPE_SZ was refused */
	struct q ab;                    /* A -> B */
	struct q ba;                    /* B -> A (round trip only) */
	struct side a;
	struct side b;
};

static void put_val(void *elem, uint64_t v)
{
	memcpy((unsigned char *)elem + 8, &v, sizeof(v));
}

static uint64_t get_val(const void *elem)
{
	uint64_t v;

	memcpy(&v, (const unsigned char *)elem + 8, sizeof(v));
	return v;
}

/* --- queue set-up ------------------------------------------------------- */

static int q_init(struct q *q, enum q_kind kind, size_t elem_size, uint32_t slots)
{
	q->elem_size = elem_size;
	q->fd[0] = q->fd[1] = -1;
	switch (kind) {
	case Q_ENGINE:
		return ig_ring_init(&q->engine, slots, elem_size) == 0 ? 0 : -1;
	case Q_CK64:
	case Q_CK128:
		q->ck_buf = aligned_alloc(IG_CACHELINE, slots * elem_size);
		if (q->ck_buf == NULL)
			return -1;
		memset(q->ck_buf, 0, slots * elem_size);
		ck_ring_init(&q->ck, slots);
		return 0;
	case Q_MUTEX:
		return bench_mq_init(&q->mq, slots, elem_size);
	case Q_PIPE:
		if (pipe2(q->fd, O_NONBLOCK | O_CLOEXEC) != 0)
			return -1;
		/* Same capacity as the rings where the kernel allows it; the
		 * caller notes it when not (pipe_short). */
		q->pipe_short =
			fcntl(q->fd[1], F_SETPIPE_SZ, (int)(slots * elem_size)) < 0;
		return 0;
	case Q__COUNT:
		break;
	}
	return -1;
}

static void q_destroy(struct q *q, enum q_kind kind)
{
	switch (kind) {
	case Q_ENGINE:
		ig_ring_destroy(&q->engine);
		break;
	case Q_CK64:
	case Q_CK128:
		free(q->ck_buf);
		q->ck_buf = NULL;
		break;
	case Q_MUTEX:
		bench_mq_destroy(&q->mq);
		break;
	case Q_PIPE:
		close(q->fd[0]);
		close(q->fd[1]);
		break;
	case Q__COUNT:
		break;
	}
}

/* --- push / pop, specialised per kind by constant propagation ----------- */

static bool pipe_move(int fd, unsigned char *buf, size_t size, bool writing)
{
	size_t done = 0;
	int tries = 0;

	for (;;) {
		ssize_t n = writing ? write(fd, buf + done, size - done)
				    : read(fd, buf + done, size - done);
		if (n > 0) {
			done += (size_t)n;
			if (done == size)
				return true;
			continue;
		}
		if (done == 0)
			return false;
		/* A partial record: finish it (records <= PIPE_BUF are atomic,
		 * so this does not happen on Linux; bounded all the same). */
		if (n < 0 && errno != EAGAIN)
			return false;
		if (++tries > 50)
			return false;
		struct pollfd p = {.fd = fd, .events = writing ? POLLOUT : POLLIN};
		poll(&p, 1, 100);
	}
}

static ALWAYS_INLINE bool q_push(struct q *q, enum q_kind kind, void *elem)
{
	switch (kind) {
	case Q_ENGINE:
		return ig_ring_push_spsc(&q->engine, elem);
	case Q_CK64:
		return ck_ring_enqueue_spsc_e64(&q->ck, q->ck_buf, elem);
	case Q_CK128:
		return ck_ring_enqueue_spsc_ev(&q->ck, q->ck_buf, elem);
	case Q_MUTEX:
		return bench_mq_push(&q->mq, elem, BLOCK_WAIT_NS);
	case Q_PIPE:
		return pipe_move(q->fd[1], elem, q->elem_size, true);
	case Q__COUNT:
		break;
	}
	return false;
}

static ALWAYS_INLINE bool q_pop(struct q *q, enum q_kind kind, void *out)
{
	switch (kind) {
	case Q_ENGINE:
		return ig_ring_pop_spsc(&q->engine, out);
	case Q_CK64:
		return ck_ring_dequeue_spsc_e64(&q->ck, q->ck_buf, out);
	case Q_CK128:
		return ck_ring_dequeue_spsc_ev(&q->ck, q->ck_buf, out);
	case Q_MUTEX:
		return bench_mq_pop(&q->mq, out, BLOCK_WAIT_NS);
	case Q_PIPE:
		return pipe_move(q->fd[0], out, q->elem_size, false);
	case Q__COUNT:
		break;
	}
	return false;
}

/* has_work callbacks for an adaptive park (arg: struct q *). */
static bool engine_readable(void *arg)
{
	return ig_ring_readable(&((struct q *)arg)->engine);
}

static bool engine_writable(void *arg)
{
	return ig_ring_writable(&((struct q *)arg)->engine);
}

static bool ck_readable(void *arg)
{
	return ck_ring_size(&((struct q *)arg)->ck) > 0;
}

static bool ck_writable(void *arg)
{
	const struct ck_ring *r = &((struct q *)arg)->ck;
	return ck_ring_size(r) < ck_ring_capacity(r) - 1;
}

/* The queue was empty (popping) or full (pushing): wait by the run's
 * strategy. Returns false when the thread must give up. */
static ALWAYS_INLINE bool q_wait(struct side *s, struct q *q, enum q_kind kind, bool popping)
{
	switch (kind) {
	case Q_ENGINE:
	case Q_CK64:
	case Q_CK128: {
		int64_t deadline = INT64_MAX;
		bool (*has_work)(void *);

		if (kind == Q_ENGINE)
			has_work = popping ? engine_readable : engine_writable;
		else
			has_work = popping ? ck_readable : ck_writable;
		/* About to park: bound the sleep so a lost wake-up shows up
		 * as a stall instead of a hang. */
		if (s->idle.kind == IG_WAIT_ADAPTIVE && s->idle.round >= s->idle.spins + s->idle.yields)
			deadline = ig_clock_mono_ns() + PARK_MAX_NS;
		ig_idle_wait(&s->idle, s->me, 0, deadline, has_work, q);
		break;
	}
	case Q_MUTEX:
		/* push/pop already waited on the condvar for BLOCK_WAIT_NS. */
		break;
	case Q_PIPE: {
		struct pollfd p = {.fd = popping ? q->fd[0] : q->fd[1],
				   .events = popping ? POLLIN : POLLOUT};
		poll(&p, 1, (int)(BLOCK_WAIT_NS / 1000000));
		break;
	}
	case Q__COUNT:
		break;
	}
	if (bench_watch_idle(&s->watch)) {
		bench_abort(&s->run->abort);
		ig_waiter_notify(s->peer);
		return false;
	}
	return true;
}

/* This side moved elements: reset its idle strategy and stall watch, and
 * wake its peer if the peer may be parked. */
static ALWAYS_INLINE void did_work(struct side *s, enum q_kind kind, bool notify)
{
	bench_watch_progress(&s->watch);
	if (kind == Q_ENGINE || kind == Q_CK64 || kind == Q_CK128) {
		ig_idle_wait(&s->idle, s->me, 1, INT64_MAX, NULL, NULL);
		if (notify && s->idle.kind == IG_WAIT_ADAPTIVE)
			ig_waiter_notify(s->peer);
	}
}

/* --- the four thread bodies --------------------------------------------- */

static ALWAYS_INLINE void side_start(struct side *s, enum q_kind kind)
{
	bool blocking = kind == Q_MUTEX || kind == Q_PIPE;

	bench_pin_self(s->run->ctx, s->cpu);
	ig_idle_init(&s->idle, s->run->wait);
	/* Blocking waits last BLOCK_WAIT_NS each: check the clock after every
	 * one. Spinning waits: every 256 (one adaptive spin/yield/park cycle
	 * is about 250 idle rounds). */
	bench_watch_init(&s->watch, blocking ? 1 : 256, &s->run->abort);
	memset(s->elem, 0, sizeof(s->elem));
}

static ALWAYS_INLINE void *tput_producer(struct side *s, enum q_kind kind)
{
	struct run *r = s->run;
	uint64_t i = 0;

	side_start(s, kind);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	r->t_start_ns = ig_clock_mono_ns();
	while (i < r->count) {
		uint32_t n = 0;

		do {
			put_val(s->elem, i);
			if (!q_push(s->out, kind, s->elem))
				break;
			i++;
		} while (++n < BATCH && i < r->count);
		if (n > 0)
			did_work(s, kind, true);
		else if (!q_wait(s, s->out, kind, false))
			goto fail;
	}
	return NULL;
fail:
	s->failed = true;
	return NULL;
}

static ALWAYS_INLINE void *tput_consumer(struct side *s, enum q_kind kind)
{
	struct run *r = s->run;
	uint64_t i = 0;

	side_start(s, kind);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	while (i < r->count) {
		uint32_t n = 0;

		while (n < BATCH && i < r->count && q_pop(s->in, kind, s->elem)) {
			if (get_val(s->elem) != i)
				s->bad++;
			i++;
			n++;
		}
		if (n > 0)
			did_work(s, kind, true);
		else if (!q_wait(s, s->in, kind, true))
			goto fail;
	}
	r->t_end_ns = ig_clock_mono_ns();
	return NULL;
fail:
	s->failed = true;
	return NULL;
}

static ALWAYS_INLINE void *rtt_pinger(struct side *s, enum q_kind kind)
{
	struct run *r = s->run;
	uint64_t total = r->warm + r->count;

	side_start(s, kind);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	for (uint64_t i = 0; i < total; i++) {
		int64_t t0, t1;

		put_val(s->elem, i);
		t0 = ig_clock_mono_ns();
		while (!q_push(s->out, kind, s->elem))
			if (!q_wait(s, s->out, kind, false))
				goto fail;
		if (kind != Q_MUTEX && kind != Q_PIPE && s->idle.kind == IG_WAIT_ADAPTIVE)
			ig_waiter_notify(s->peer);
		while (!q_pop(s->in, kind, s->elem))
			if (!q_wait(s, s->in, kind, true))
				goto fail;
		t1 = ig_clock_mono_ns();
		did_work(s, kind, false);
		if (get_val(s->elem) != i)
			s->bad++;
		if (i >= r->warm)
			ig_hist_record(r->hist, t1 - t0);
	}
	return NULL;
fail:
	s->failed = true;
	return NULL;
}

static ALWAYS_INLINE void *rtt_ponger(struct side *s, enum q_kind kind)
{
	struct run *r = s->run;
	uint64_t total = r->warm + r->count;

	side_start(s, kind);
	if (!bench_start_line(&r->arrived, &r->abort))
		goto fail;
	for (uint64_t i = 0; i < total; i++) {
		while (!q_pop(s->in, kind, s->elem))
			if (!q_wait(s, s->in, kind, true))
				goto fail;
		if (get_val(s->elem) != i)
			s->bad++;
		while (!q_push(s->out, kind, s->elem))
			if (!q_wait(s, s->out, kind, false))
				goto fail;
		did_work(s, kind, true);
	}
	return NULL;
fail:
	s->failed = true;
	return NULL;
}

/* One non-inlined thread function per (role, kind): the switch on kind
 * folds away, so each loop calls its queue's inline push/pop directly. */
#define ROLE_FNS(K)                                                                   \
	static void *tput_producer_##K(void *s) { return tput_producer(s, K); }       \
	static void *tput_consumer_##K(void *s) { return tput_consumer(s, K); }       \
	static void *rtt_pinger_##K(void *s) { return rtt_pinger(s, K); }             \
	static void *rtt_ponger_##K(void *s) { return rtt_ponger(s, K); }
ROLE_FNS(Q_ENGINE)
ROLE_FNS(Q_CK64)
ROLE_FNS(Q_CK128)
ROLE_FNS(Q_MUTEX)
ROLE_FNS(Q_PIPE)
#undef ROLE_FNS

typedef void *(*thread_fn)(void *);

/* [kind][0] = A side, [kind][1] = B side; throughput and round trip. */
static const thread_fn tput_fns[Q__COUNT][2] = {
	{tput_producer_Q_ENGINE, tput_consumer_Q_ENGINE},
	{tput_producer_Q_CK64, tput_consumer_Q_CK64},
	{tput_producer_Q_CK128, tput_consumer_Q_CK128},
	{tput_producer_Q_MUTEX, tput_consumer_Q_MUTEX},
	{tput_producer_Q_PIPE, tput_consumer_Q_PIPE},
};

static const thread_fn rtt_fns[Q__COUNT][2] = {
	{rtt_pinger_Q_ENGINE, rtt_ponger_Q_ENGINE},
	{rtt_pinger_Q_CK64, rtt_ponger_Q_CK64},
	{rtt_pinger_Q_CK128, rtt_ponger_Q_CK128},
	{rtt_pinger_Q_MUTEX, rtt_ponger_Q_MUTEX},
	{rtt_pinger_Q_PIPE, rtt_ponger_Q_PIPE},
};

/* --- configurations ----------------------------------------------------- */

enum queue_family {
	FAM_ENGINE = 0,
	FAM_CK,
	FAM_MUTEX,
	FAM_PIPE,
};

static const char *const family_name[] = {"engine", "ck", "mutex", "pipe"};

struct config {
	enum queue_family fam;
	size_t elem_size;          /* 64 or 128 */
	enum ig_wait_kind wait;    /* engine/ck only */
	bool has_wait;             /* name carries the wait strategy */
	uint32_t slots;            /* queue capacity */
	bool tput_only;            /* no round trip (capacity variants) */
	uint64_t tput_count;       /* full-run K */
	uint64_t rtt_count;        /* full-run N */
};

#define TPUT_RING UINT64_C(8000000)
#define TPUT_CK UINT64_C(4000000)
#define TPUT_MUTEX UINT64_C(1000000)
#define TPUT_PIPE UINT64_C(400000)
#define RTT_RING UINT64_C(100000)
#define RTT_BLOCKING UINT64_C(20000)

#define SPIN_VARIANTS(fam, size, k)                                               \
	{fam, size, IG_WAIT_SPIN, true, RING_SLOTS, false, k, RTT_RING},          \
	{fam, size, IG_WAIT_YIELD, true, RING_SLOTS, false, k, RTT_RING},         \
	{fam, size, IG_WAIT_ADAPTIVE, true, RING_SLOTS, false, k, RTT_RING}

static const struct config configs[] = {
	SPIN_VARIANTS(FAM_ENGINE, 64, TPUT_RING),
	SPIN_VARIANTS(FAM_CK, 64, TPUT_CK),
	{FAM_MUTEX, 64, IG_WAIT_SPIN, false, RING_SLOTS, false, TPUT_MUTEX, RTT_BLOCKING},
	{FAM_PIPE, 64, IG_WAIT_SPIN, false, RING_SLOTS, false, TPUT_PIPE, RTT_BLOCKING},
	SPIN_VARIANTS(FAM_ENGINE, 128, TPUT_RING),
	SPIN_VARIANTS(FAM_CK, 128, TPUT_CK),
	{FAM_MUTEX, 128, IG_WAIT_SPIN, false, RING_SLOTS, false, TPUT_MUTEX, RTT_BLOCKING},
	{FAM_PIPE, 128, IG_WAIT_SPIN, false, RING_SLOTS, false, TPUT_PIPE, RTT_BLOCKING},
	/* Capacity variants, throughput only: the engine ring's throughput
	 * depends strongly on capacity on this machine. */
	{FAM_ENGINE, 64, IG_WAIT_SPIN, true, 1024, true, TPUT_RING, 0},
	{FAM_CK, 64, IG_WAIT_SPIN, true, 1024, true, TPUT_CK, 0},
	{FAM_ENGINE, 64, IG_WAIT_SPIN, true, 16384, true, TPUT_RING, 0},
};

#define N_CONFIGS (sizeof(configs) / sizeof(configs[0]))

static enum q_kind config_kind(const struct config *c)
{
	switch (c->fam) {
	case FAM_ENGINE:
		return Q_ENGINE;
	case FAM_CK:
		return c->elem_size == 64 ? Q_CK64 : Q_CK128;
	case FAM_MUTEX:
		return Q_MUTEX;
	case FAM_PIPE:
		return Q_PIPE;
	}
	return Q__COUNT;
}

/* "ring.<queue>[.s<slots>][.e128][.<wait>]" */
static void config_prefix(const struct config *c, char *buf, size_t cap)
{
	char slots[24] = "";

	if (c->slots != RING_SLOTS)
		snprintf(slots, sizeof(slots), ".s%u", c->slots);
	snprintf(buf, cap, "ring.%s%s%s%s%s", family_name[c->fam], slots,
		 c->elem_size == 128 ? ".e128" : "", c->has_wait ? "." : "",
		 c->has_wait ? ig_wait_name(c->wait) : "");
}

/* Figures of one configuration, one slot per repeat. */
struct config_result {
	double tput[BENCH_MAX_REPEATS];  /* M elements/s */
	double p50[BENCH_MAX_REPEATS];   /* round trip quantiles, ns */
	double p90[BENCH_MAX_REPEATS];
	double p99[BENCH_MAX_REPEATS];
	double p999[BENCH_MAX_REPEATS];
	double max[BENCH_MAX_REPEATS];
	bool failed;                     /* any repeat failed: no figures */
};

/* Runs one throughput (rtt = false) or round-trip measurement. Returns 0 or
 * -1 after bench_fail(). */
static int run_once(struct bench_ctx *ctx, struct run *r, const struct config *c, bool rtt,
		    uint64_t count)
{
	enum q_kind kind = config_kind(c);
	const thread_fn *fns = rtt ? rtt_fns[kind] : tput_fns[kind];
	struct ig_hist *hist = r->hist;
	char prefix[64];
	pthread_t ta, tb;
	int rc = -1;

	config_prefix(c, prefix, sizeof(prefix));
	memset(r, 0, sizeof(*r));
	r->ctx = ctx;
	r->kind = kind;
	r->wait = c->wait;
	r->elem_size = c->elem_size;
	r->count = count;
	r->warm = rtt ? count / 10 : 0;
	r->hist = hist;
	ig_hist_init(hist);
	ig_waiter_init(&r->wa);
	ig_waiter_init(&r->wb);
	if (q_init(&r->ab, kind, c->elem_size, c->slots) != 0) {
		bench_fail(ctx, "%s: queue init failed", prefix);
		return -1;
	}
	if (q_init(&r->ba, kind, c->elem_size, c->slots) != 0) {
		bench_fail(ctx, "%s: queue init failed", prefix);
		goto out_ab;
	}
	r->a = (struct side){.run = r, .out = &r->ab, .in = &r->ba, .me = &r->wa, .peer = &r->wb,
			     .cpu = ctx->cpu_a};
	r->b = (struct side){.run = r, .in = &r->ab, .out = &r->ba, .me = &r->wb, .peer = &r->wa,
			     .cpu = ctx->cpu_b};
	if (pthread_create(&ta, NULL, fns[0], &r->a) != 0) {
		bench_fail(ctx, "%s: pthread_create failed", prefix);
		goto out_ba;
	}
	if (pthread_create(&tb, NULL, fns[1], &r->b) != 0) {
		bench_abort(&r->abort);
		pthread_join(ta, NULL);
		bench_fail(ctx, "%s: pthread_create failed", prefix);
		goto out_ba;
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	if (r->a.failed || r->b.failed) {
		bench_fail(ctx, "%s %s: a thread stalled for %.0f s and gave up", prefix,
			   rtt ? "round trip" : "throughput", (double)BENCH_STALL_NS / 1e9);
		goto out_ba;
	}
	if (r->a.bad + r->b.bad > 0) {
		bench_fail(ctx, "%s %s: %llu elements lost, duplicated or reordered", prefix,
			   rtt ? "round trip" : "throughput",
			   (unsigned long long)(r->a.bad + r->b.bad));
		goto out_ba;
	}
	rc = 0;
out_ba:
	r->pipe_short = r->ab.pipe_short || r->ba.pipe_short;
	q_destroy(&r->ba, kind);
out_ab:
	q_destroy(&r->ab, kind);
	return rc;
}

static void record_config(struct bench_ctx *ctx, const struct config *c, struct config_result *cr,
			  uint32_t reps)
{
	char prefix[64], name[128];

	config_prefix(c, prefix, sizeof(prefix));
#define REC(suffix, arr, unit)                                                 \
	do {                                                                   \
		snprintf(name, sizeof(name), "%s.%s", prefix, suffix);         \
		bench_result_median(ctx, name, arr, reps, unit);               \
	} while (0)
	REC("throughput_meps", cr->tput, "M/s");
	if (c->tput_only)
		return;
	REC("rtt_p50_ns", cr->p50, "ns");
	REC("rtt_p90_ns", cr->p90, "ns");
	REC("rtt_p99_ns", cr->p99, "ns");
	REC("rtt_p999_ns", cr->p999, "ns");
#undef REC
	snprintf(name, sizeof(name), "%s.rtt_max_ns", prefix);
	bench_result_max(ctx, name, cr->max, reps, "ns");
}

void bench_rings(struct bench_ctx *ctx)
{
	struct config_result *res;
	struct run *r;
	uint32_t reps = ctx->repeats;
	uint64_t div = ctx->quick ? 8 : 1;
	bool pipe_short = false;

	res = calloc(N_CONFIGS, sizeof(*res));
	r = aligned_alloc(IG_CACHELINE, sizeof(*r));
	if (res == NULL || r == NULL) {
		bench_fail(ctx, "out of memory");
		goto out;
	}
	memset(r, 0, sizeof(*r));
	r->hist = malloc(sizeof(*r->hist));
	if (r->hist == NULL) {
		bench_fail(ctx, "out of memory");
		goto out;
	}

	for (uint32_t rep = 0; rep < reps; rep++) {
		fprintf(stderr, "bench: rings repeat %u/%u\n", rep + 1, reps);
		for (size_t k = 0; k < N_CONFIGS; k++) {
			const struct config *c = &configs[k];
			struct config_result *cr = &res[k];

			if (cr->failed)
				continue;
			if (run_once(ctx, r, c, false, c->tput_count / div) != 0) {
				cr->failed = true;
				continue;
			}
			pipe_short = pipe_short || r->pipe_short;
			cr->tput[rep] = (double)r->count / (double)(r->t_end_ns - r->t_start_ns) *
					1e3;
			if (c->tput_only)
				continue;
			if (run_once(ctx, r, c, true, c->rtt_count / div) != 0) {
				cr->failed = true;
				continue;
			}
			cr->p50[rep] = (double)ig_hist_quantile(r->hist, 0.50);
			cr->p90[rep] = (double)ig_hist_quantile(r->hist, 0.90);
			cr->p99[rep] = (double)ig_hist_quantile(r->hist, 0.99);
			cr->p999[rep] = (double)ig_hist_quantile(r->hist, 0.999);
			cr->max[rep] = (double)r->hist->max;
		}
	}

	if (pipe_short)
		bench_note(ctx, "F_SETPIPE_SZ refused: pipe ran with the default 64 KiB buffer");

	/* Headline names of issue 6: 64-byte elements, spin (configs 0, 3)
	 * and the only mode of mutex and pipe. */
	for (size_t k = 0; k < N_CONFIGS; k++) {
		const struct config *c = &configs[k];
		char name[128];

		if (res[k].failed || c->elem_size != 64 || c->wait != IG_WAIT_SPIN ||
		    c->slots != RING_SLOTS)
			continue;
		if (c->fam != FAM_ENGINE && c->fam != FAM_CK)
			continue;
		snprintf(name, sizeof(name), "ring.%s.throughput_meps", family_name[c->fam]);
		bench_result_median(ctx, name, res[k].tput, reps, "M/s");
		snprintf(name, sizeof(name), "ring.%s.rtt_p50_ns", family_name[c->fam]);
		bench_result_median(ctx, name, res[k].p50, reps, "ns");
	}
	for (size_t k = 0; k < N_CONFIGS; k++)
		if (!res[k].failed)
			record_config(ctx, &configs[k], &res[k], reps);
out:
	if (r != NULL)
		free(r->hist);
	free(r);
	free(res);
}
