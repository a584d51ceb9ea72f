/*
 * emit.h - how a stage handler's output reaches the next stage.
 *
 * Design
 * ------
 * Stage handlers (tick routing, strategy host, OMS, executor) know nothing of
 * threads or rings (design.md §2). They call ig_emit(out, dst, idx, ev) and
 * the driver decides what that means:
 *
 *   threaded  each (producer agent, destination) pair has an outbox: the SPSC
 *             ring to the destination plus a preallocated spill queue. If
 *             the ring is full the event goes to the spill (in order) and
 *             the back-pressure counter ticks; the agent flushes its spills
 *             at the start of each duty cycle and stops consuming *forward*
 *             inputs while a spill is non-empty, so pressure travels back to
 *             the feed. Nothing is ever dropped, and a handler never blocks
 *             mid-event (which could deadlock two stages on one thread).
 *             Only if a spill itself fills does the producer wait in place.
 *   inline    every emit appends to one FIFO that a single loop drains stage
 *             by stage: deterministic, for backtests and tests.
 *
 * dst is an enum ig_stage; idx selects the strategy thread for
 * IG_STAGE_STRATEGY and is 0 otherwise. ig_emit stamps hdr.src and
 * hdr.ts_emit_ns.
 */
#ifndef IG_CORE_EMIT_H
#define IG_CORE_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/evflags.h"
#include <string.h>
#include "core/clock.h"
#include "core/ring.h"
#include "core/wait.h"
#include "ingenium/event.h"

struct ig_emit {
	void (*fn)(struct ig_emit *self, enum ig_stage dst, uint32_t idx, struct ig_event *ev);
	uint8_t src;        /* enum ig_stage of the producer */
	bool stamp;         /* stamp ts_emit_ns with the monotonic clock */
};

/* Starts ev (zeroed) as an event of `type` caused by `cause`: same
 * strategy and instrument, and the cause's ts_origin_ns and ts_event_ns,
 * so every event down the line keeps the ingress time of the tick that
 * started it. */
static inline void ig_event_reply_init(struct ig_event *ev, const struct ig_event *cause,
				       enum ig_event_type type)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.strategy_id = cause->hdr.strategy_id;
	ev->hdr.instrument_id = cause->hdr.instrument_id;
	ev->hdr.ts_origin_ns = cause->hdr.ts_origin_ns;
	ev->hdr.ts_event_ns = cause->hdr.ts_event_ns;
}

static inline void ig__emit_stamp(struct ig_emit *e, struct ig_event *ev)
{
	ev->hdr.src = e->src;
	if (e->stamp)
		ev->hdr.ts_emit_ns = ig_clock_mono_ns();
}

static inline void ig_emit(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	ig__emit_stamp(e, ev);
	e->fn(e, dst, idx, ev);
}

/* The inline driver's emit (driver_inline.c), and its variant for an
 * event it holds already. Internal: stages call ig_emit / ig_emit_same. */
void ig__inline_emit(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev);
void ig__inline_emit_same(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev);
void ig__inline_emit_ref(struct ig_emit *e, enum ig_stage dst, uint32_t idx,
			 const struct ig_event *ev);
void ig__inline_barrier(struct ig_emit *e);

/* One destination of ig_emit_ref_list: a stage and its index. */
struct ig_emit_dest {
	uint8_t stage; /* enum ig_stage */
	uint8_t idx;
};

void ig__inline_emit_ref_list(struct ig_emit *e, const struct ig_emit_dest *dst, uint32_t n,
			      const struct ig_event *ev);

/* ig_emit of an event the caller has just emitted through e to another
 * destination and not changed since (one event routed to several stages).
 * The threaded driver (and any other emitter) copies it again, as
 * ig_emit does; the inline driver stores it once and only queues another
 * reference to it. */
static inline void ig_emit_same(struct ig_emit *e, enum ig_stage dst, uint32_t idx,
				struct ig_event *ev)
{
	ig__emit_stamp(e, ev);
	if (e->fn == ig__inline_emit)
		ig__inline_emit_same(e, dst, idx, ev);
	else
		e->fn(e, dst, idx, ev);
}

/* ig_emit by reference, for a source (stage.h `source`) only: ev is the
 * source's own and stays valid and unchanged until the driver next calls
 * that source (the tick's current market-data event). The inline driver
 * queues the reference and copies nothing; the threaded driver (and any
 * other emitter) copies it, as ig_emit does. Returns nothing. */
static inline void ig_emit_ref(struct ig_emit *e, enum ig_stage dst, uint32_t idx,
			       struct ig_event *ev)
{
	ig__emit_stamp(e, ev);
	if (e->fn == ig__inline_emit)
		ig__inline_emit_ref(e, dst, idx, ev);
	else
		e->fn(e, dst, idx, ev);
}

/* For a source only: the inline driver hands everything emitted so far
 * through the whole pipeline (what it causes too) before returning, so
 * what the source emits next comes after all of it; any other emitter
 * gives no such order between its destinations and does nothing (the
 * rings are ordered per destination only). Called from a stage handler
 * it is a bug, and the inline driver aborts. Returns nothing. */
/* ig_emit_ref to each of the n destinations dst[], in that order (a source
 * only). Inline, when nothing is queued, the driver hands ev to each
 * destination's handler at once instead of queueing it: what those emit
 * is queued behind them, in the order the queue would have given. */
static inline void ig_emit_ref_list(struct ig_emit *e, const struct ig_emit_dest *dst,
				    uint32_t n, struct ig_event *ev)
{
	if (e->fn == ig__inline_emit) {
		ig__emit_stamp(e, ev);
		ig__inline_emit_ref_list(e, dst, n, ev);
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		ig__emit_stamp(e, ev);
		e->fn(e, (enum ig_stage)dst[i].stage, dst[i].idx, ev);
	}
}

static inline void ig_emit_barrier(struct ig_emit *e)
{
	if (e->fn == ig__inline_emit)
		ig__inline_barrier(e);
}

/*
 * Outbox: one producer's path into one ring. Owner: the producer thread.
 */
struct ig_outbox {
	struct ig_ring *ring;       /* destination ring (shared with its consumer) */
	struct ig_waiter *waiter;   /* the consumer thread's waiter */
	struct ig_event *spill;     /* spill_cap events, preallocated */
	uint32_t spill_cap;         /* power of two */
	uint32_t spill_head;        /* next to write */
	uint32_t spill_tail;        /* next to flush */
	bool dirty;                 /* pushed since the last notify */
	uint64_t pushed;            /* events that entered the ring */
	uint64_t spilled;           /* events that had to wait in the spill (back-pressure);
				     * written by the producer only (relaxed atomic store), read
				     * by any thread (relaxed load) */
	uint64_t blocked;           /* times the spill was full and we waited in place */
	uint32_t spill_max;         /* high-water mark of the spill */
};

/* Allocates the spill. Returns 0 or IG_ENOMEM (nothing to undo). */
int ig_outbox_init(struct ig_outbox *ob, struct ig_ring *ring, uint32_t spill_cap);
void ig_outbox_destroy(struct ig_outbox *ob);

static inline uint32_t ig_outbox_pending(const struct ig_outbox *ob)
{
	return ob->spill_head - ob->spill_tail;
}

/* Puts ev on the ring, or on the spill if the ring is full or the spill is
 * not empty (order is kept). */
void ig_outbox_put(struct ig_outbox *ob, const struct ig_event *ev);

/* Moves spilled events into the ring while it has room. Returns the events
 * still spilled. */
uint32_t ig_outbox_flush(struct ig_outbox *ob);

/* Wakes the consumer if anything was pushed since the last call. Call once
 * per duty cycle: one wake per batch, never per event. */
static inline void ig_outbox_notify(struct ig_outbox *ob)
{
	if (ob->dirty) {
		ob->dirty = false;
		ig_waiter_notify(ob->waiter);
	}
}

#endif
