/* log.c - asynchronous logger: per-thread SPSC rings drained by one thread. */
#include "core/log.h"

#include "core/clock.h"
#include "core/ring.h"
#include "core/thread.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IG_LOG_RINGS 32
#define IG_LOG_RING_SLOTS 1024
#define IG_LOG_TEXT 192

enum { REC_TEXT = 0, REC_EVENT = 1 };

struct log_rec {
	uint64_t seq;          /* ring-owned */
	int64_t ts_real_ns;    /* wall clock when logged */
	uint8_t level;
	uint8_t kind;          /* REC_TEXT | REC_EVENT */
	uint16_t len;          /* text length */
	char thread[16];
	char pad_[28];
	union {
		char text[IG_LOG_TEXT];
		struct ig_event ev;
	} u;
};
_Static_assert(sizeof(struct log_rec) == 256, "log record is 256 bytes");

struct log_slot {
	struct ig_ring ring;
	char name[16];
};

/* Logger state. The rings' producers are the attached threads; everything
 * else is owned by the logger thread between start and stop. */
static struct {
	struct log_slot slots[IG_LOG_RINGS];
	uint32_t nslots;        /* atomic: claimed slots */
	bool running;           /* atomic */
	pthread_t thread;
	uint64_t dropped;       /* atomic */
	int level;              /* atomic */
	const char *const *strategy_names;
	uint32_t nstrategies;
	const char *const *instrument_names;
	uint32_t ninstruments;
	uint32_t generation;    /* bumps at every start: stale TLS slots detach */
} L = { .level = IG_LOG_INFO };

static _Thread_local struct log_slot *tls_slot;
static _Thread_local uint32_t tls_generation;
static _Thread_local _Bool tls_muted;

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void ig_log_set_level(enum ig_log_level lvl)
{
	__atomic_store_n(&L.level, (int)lvl, __ATOMIC_RELAXED);
}

_Bool ig_log_mute_thread(_Bool on)
{
	_Bool was = tls_muted;
	tls_muted = on;
	return was;
}

enum ig_log_level ig_log_level(void)
{
	return (enum ig_log_level)__atomic_load_n(&L.level, __ATOMIC_RELAXED);
}

void ig_log_set_names(const char *const *strategy_names, uint32_t nstrategies,
		      const char *const *instrument_names, uint32_t ninstruments)
{
	L.strategy_names = strategy_names;
	L.nstrategies = nstrategies;
	L.instrument_names = instrument_names;
	L.ninstruments = ninstruments;
}

static const char *strat_name(uint16_t id)
{
	if (L.strategy_names != NULL && id < L.nstrategies)
		return L.strategy_names[id];
	return "-";
}

static const char *instr_name(uint16_t id)
{
	if (L.instrument_names != NULL && id < L.ninstruments)
		return L.instrument_names[id];
	return "-";
}

/* Formats a raw event into buf. Logger thread (or a synchronous caller). */
static int format_event(const struct ig_event *ev, char *buf, size_t cap)
{
	char a[IG_FIXED_STRLEN], b[IG_FIXED_STRLEN], c[IG_FIXED_STRLEN];
	const char *sn = strat_name(ev->hdr.strategy_id);
	const char *in = instr_name(ev->hdr.instrument_id);

	switch (ev->hdr.type) {
	case IG_EV_ORDER: {
		const struct ig_order *o = &ev->body.order;
		ig_fixed_format(o->qty, a, sizeof(a));
		ig_fixed_format(o->px, b, sizeof(b));
		return snprintf(buf, cap, "order %s %s %s %s qty=%s px=%s id=%016llx", sn, in,
				ig_side_name((enum ig_side)o->side),
				o->type == IG_ORD_MARKET ? "market" : "limit", a, b,
				(unsigned long long)o->client_id);
	}
	case IG_EV_FILL: {
		const struct ig_fill *f = &ev->body.fill;
		ig_fixed_format(f->qty, a, sizeof(a));
		ig_fixed_format(f->px, b, sizeof(b));
		/* A fee charged in base (Luno charges a buyer so) is shown as such. */
		ig_fixed_format(f->fee_base != 0 ? f->fee_base : f->fee, c, sizeof(c));
		return snprintf(buf, cap, "fill %s %s %s qty=%s px=%s fee=%s%s %s id=%016llx trade=%llu",
				sn, in, ig_side_name((enum ig_side)f->side), a, b, c,
				f->fee_base != 0 ? "(base)" : "",
				f->liquidity == IG_LIQ_MAKER ? "maker" : "taker",
				(unsigned long long)f->client_id, (unsigned long long)f->trade_id);
	}
	case IG_EV_REJECT: {
		const struct ig_reject *r = &ev->body.reject;
		ig_fixed_format(r->qty, a, sizeof(a));
		ig_fixed_format(r->px, b, sizeof(b));
		return snprintf(buf, cap, "%s %s %s %s qty=%s px=%s reason=%s id=%016llx",
				r->by_venue ? "reject" : "deny", sn, in,
				ig_side_name((enum ig_side)r->side), a, b,
				ig_reject_reason_name((enum ig_reject_reason)r->reason),
				(unsigned long long)r->client_id);
	}
	case IG_EV_ORDER_UPDATE: {
		const struct ig_order_update *u = &ev->body.update;
		ig_fixed_format(u->filled_qty, a, sizeof(a));
		ig_fixed_format(u->leaves_qty, b, sizeof(b));
		return snprintf(buf, cap, "update %s %s %s -> %s filled=%s leaves=%s id=%016llx", sn,
				in, ig_ord_state_name((enum ig_ord_state)u->prev_state),
				ig_ord_state_name((enum ig_ord_state)u->state), a, b,
				(unsigned long long)u->client_id);
	}
	default:
		return snprintf(buf, cap, "event %s %s %s", ig_event_type_name((enum ig_event_type)ev->hdr.type),
				sn, in);
	}
}

static void write_line(FILE *out, int64_t ts_real_ns, int level, const char *thread,
		       const char *text, size_t len)
{
	struct tm tm;
	time_t secs = (time_t)(ts_real_ns / 1000000000);
	char when[32];

	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "%s.%06ldZ %-5s [%s] %.*s\n", when, (long)(ts_real_ns % 1000000000 / 1000),
		level_names[level], thread, (int)len, text);
}

static void write_rec(FILE *out, const struct log_rec *r)
{
	char buf[512];
	if (r->kind == REC_EVENT) {
		int n = format_event(&r->u.ev, buf, sizeof(buf));
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(buf))
			n = (int)sizeof(buf) - 1;
		write_line(out, r->ts_real_ns, r->level, r->thread, buf, (size_t)n);
	} else {
		write_line(out, r->ts_real_ns, r->level, r->thread, r->u.text, r->len);
	}
}

/* Drains all rings once. Returns records written. Logger thread only. */
static int drain(void)
{
	struct log_rec rec;
	uint32_t n = __atomic_load_n(&L.nslots, __ATOMIC_ACQUIRE);
	int work = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct log_slot *s = &L.slots[i];
		if (s->ring.slots == NULL)
			continue;
		while (ig_ring_pop_spsc(&s->ring, &rec)) {
			write_rec(stderr, &rec);
			work++;
		}
	}
	if (work > 0)
		fflush(stderr);
	return work;
}

static void *logger_main(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&L.running, __ATOMIC_ACQUIRE)) {
		if (drain() == 0) {
			/* Idle: a 10 ms nap costs ~100 wakeups/s, well under
			 * 0.1% of a core, and bounds log latency. */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	drain();
	return NULL;
}

int ig_log_start(void)
{
	const char *env = getenv("IG_LOG_LEVEL");
	if (env != NULL) {
		for (int i = 0; i < 4; i++)
			if (strcasecmp(env, level_names[i]) == 0)
				ig_log_set_level((enum ig_log_level)i);
	}
	for (uint32_t i = 0; i < IG_LOG_RINGS; i++) {
		if (L.slots[i].ring.slots != NULL)
			continue;
		if (ig_ring_init(&L.slots[i].ring, IG_LOG_RING_SLOTS, sizeof(struct log_rec)) != 0) {
			for (uint32_t j = 0; j < i; j++)
				ig_ring_destroy(&L.slots[j].ring);
			return IG_ENOMEM;
		}
	}
	L.nslots = 0;
	L.generation++;
	__atomic_store_n(&L.running, true, __ATOMIC_RELEASE);
	{
		/* The logger thread never takes a signal (core/thread.h). */
		if (ig_thread_start_quiet(&L.thread, logger_main, NULL) != 0) {
			L.running = false;
			return IG_ETHREAD;
		}
	}
	return 0;
}

void ig_log_stop(void)
{
	if (!__atomic_load_n(&L.running, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&L.running, false, __ATOMIC_RELEASE);
	pthread_join(L.thread, NULL);
	for (uint32_t i = 0; i < IG_LOG_RINGS; i++)
		ig_ring_destroy(&L.slots[i].ring);
	L.nslots = 0;
	L.generation++;
	fflush(stderr);
}

int ig_log_attach(const char *thread_name)
{
	uint32_t i;

	if (!__atomic_load_n(&L.running, __ATOMIC_ACQUIRE))
		return IG_EINVAL;
	if (tls_slot != NULL && tls_generation == L.generation)
		return 0;
	i = __atomic_load_n(&L.nslots, __ATOMIC_RELAXED);
	do {
		if (i >= IG_LOG_RINGS)
			return IG_ELIMIT;
	} while (!__atomic_compare_exchange_n(&L.nslots, &i, i + 1, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	snprintf(L.slots[i].name, sizeof(L.slots[i].name), "%s", thread_name);
	tls_slot = &L.slots[i];
	tls_generation = L.generation;
	return 0;
}

static struct log_slot *my_slot(void)
{
	if (tls_slot == NULL || tls_generation != L.generation ||
	    !__atomic_load_n(&L.running, __ATOMIC_ACQUIRE))
		return NULL;
	return tls_slot;
}

static void push(struct log_slot *s, struct log_rec *r)
{
	memcpy(r->thread, s->name, sizeof(r->thread));
	if (!ig_ring_push_spsc(&s->ring, r))
		__atomic_fetch_add(&L.dropped, 1, __ATOMIC_RELAXED);
}

void ig_vlog(enum ig_log_level lvl, const char *fmt, va_list ap)
{
	struct log_slot *s;
	struct log_rec r;
	int n;

	if (tls_muted || (int)lvl > __atomic_load_n(&L.level, __ATOMIC_RELAXED))
		return;
	s = my_slot();
	r.ts_real_ns = ig_clock_real_ns();
	r.level = (uint8_t)lvl;
	r.kind = REC_TEXT;
	n = vsnprintf(r.u.text, sizeof(r.u.text), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(r.u.text))
		n = (int)sizeof(r.u.text) - 1;
	r.len = (uint16_t)n;
	if (s == NULL) {
		write_line(stderr, r.ts_real_ns, r.level, "main", r.u.text, r.len);
		return;
	}
	push(s, &r);
}

void ig_log(enum ig_log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ig_vlog(lvl, fmt, ap);
	va_end(ap);
}

void ig_log_event(enum ig_log_level lvl, const struct ig_event *ev)
{
	struct log_slot *s;
	struct log_rec r;

	if (tls_muted || (int)lvl > __atomic_load_n(&L.level, __ATOMIC_RELAXED))
		return;
	s = my_slot();
	r.ts_real_ns = ig_clock_real_ns();
	r.level = (uint8_t)lvl;
	r.kind = REC_EVENT;
	r.len = 0;
	r.u.ev = *ev;
	if (s == NULL) {
		char buf[512];
		int n = format_event(ev, buf, sizeof(buf));
		if (n > 0)
			write_line(stderr, r.ts_real_ns, r.level, "main", buf,
				   (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
		return;
	}
	push(s, &r);
}

uint64_t ig_log_dropped(void)
{
	return __atomic_load_n(&L.dropped, __ATOMIC_RELAXED);
}
