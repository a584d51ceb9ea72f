/*
 * ring.h - the engine's SPSC ring: a slot-sequence ring of values.
 *
 * Design
 * ------
 * N = 2^k slots, each holding one element by value. The element's first
 * 8 bytes are a uint64_t sequence word owned by the ring (for struct
 * ig_event that is hdr.seq). Slot i starts with seq = i.
 *
 *   producer at position p:  slot = slots[p & mask]
 *     if seq(slot) != p            -> full (the consumer has not freed it)
 *     copy the payload, then store seq = p + 1 with RELEASE
 *   consumer at position c:  slot = slots[c & mask]
 *     if seq(slot) != c + 1        -> empty
 *     copy the element out, then store seq = c + N with RELEASE
 *
 * The acquire load of the slot's seq on either side pairs with the other
 * side's release store: the consumer sees the whole payload written before
 * the seq, and the producer cannot overwrite a slot until the consumer's
 * copy-out has completed. There is no shared head/tail index: each side's
 * position is private to it, and the only lines that move between cores are
 * the slots themselves (for a 64-byte element, one cache line: to the
 * consumer with the payload, and back to the producer with the consumer's
 * sequence store, which the producer needs anyway before it can reuse the
 * slot a lap later). ck_ring and index rings also bounce a shared index
 * line on every event. That is why the engine uses this ring (about 9x
 * ck_ring's throughput here, bench/) and keeps ck_ring as the baseline.
 *
 * All N slots are usable (ck_ring holds N-1).
 *
 * Threads: exactly one producer thread calls push, exactly one consumer
 * thread calls pop/readable. init/destroy run before/after both.
 *
 * A full ring is back-pressure, not an error: push returns false and the
 * caller decides how to wait (src/core/emit.c spills and counts).
 */
#ifndef IG_CORE_RING_H
#define IG_CORE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ingenium/event.h"

struct ig_ring {
	/* producer line */
	_Alignas(IG_CACHELINE) uint64_t head; /* next position to write; producer-private */
	/* consumer line */
	_Alignas(IG_CACHELINE) uint64_t tail; /* next position to read; consumer-private */
	/* read-only after init */
	_Alignas(IG_CACHELINE) uint64_t mask; /* capacity - 1 */
	size_t elem_size;                     /* bytes per slot */
	void *slots;                          /* capacity * elem_size, cache-aligned */
};

/* Initialises r with capacity slots (a power of two >= 2) of elem_size bytes
 * (a multiple of 8, >= 16, whose first 8 bytes are the ring's seq word).
 * Allocates the slots. Returns 0, IG_EINVAL or IG_ENOMEM; on failure there
 * is nothing to undo. */
int ig_ring_init(struct ig_ring *r, uint32_t capacity, size_t elem_size);

/* Frees the slots. Both threads must be done with the ring. */
void ig_ring_destroy(struct ig_ring *r);

static inline uint64_t ig_ring_capacity(const struct ig_ring *r)
{
	return r->mask + 1;
}

static inline uint64_t *ig__ring_slot(const struct ig_ring *r, uint64_t pos)
{
	return (uint64_t *)(void *)((char *)r->slots + (pos & r->mask) * r->elem_size);
}

/* Producer: copies elem (elem_size bytes; its seq word is ignored) into the
 * ring. Returns false if the ring is full; nothing is written then. */
static inline bool ig_ring_push_spsc(struct ig_ring *r, const void *elem)
{
	uint64_t pos = r->head;
	uint64_t *slot = ig__ring_slot(r, pos);

	/* ACQUIRE: the consumer's copy-out of this slot (previous lap)
	 * happens-before our overwrite below. */
	if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) != pos)
		return false;
	memcpy(slot + 1, (const uint64_t *)elem + 1, r->elem_size - sizeof(uint64_t));
	/* RELEASE: publishes the payload together with the sequence. */
	__atomic_store_n(slot, pos + 1, __ATOMIC_RELEASE);
	r->head = pos + 1;
	return true;
}

/* Consumer: copies the oldest element into out. Returns false if empty.
 * out's seq word receives the slot's sequence (position + 1). */
static inline bool ig_ring_pop_spsc(struct ig_ring *r, void *out)
{
	uint64_t pos = r->tail;
	uint64_t *slot = ig__ring_slot(r, pos);

	/* ACQUIRE: pairs with the producer's RELEASE of seq = pos + 1. */
	if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) != pos + 1)
		return false;
	memcpy(out, slot, r->elem_size);
	/* RELEASE: our copy-out is complete before the producer may reuse the
	 * slot on its next lap (it waits for seq == pos + capacity). */
	__atomic_store_n(slot, pos + r->mask + 1, __ATOMIC_RELEASE);
	r->tail = pos + 1;
	return true;
}

/* Consumer: true if pop would succeed now. */
static inline bool ig_ring_readable(const struct ig_ring *r)
{
	uint64_t pos = r->tail;
	return __atomic_load_n(ig__ring_slot(r, pos), __ATOMIC_ACQUIRE) == pos + 1;
}

/* Producer: true if push would succeed now. */
static inline bool ig_ring_writable(const struct ig_ring *r)
{
	uint64_t pos = r->head;
	return __atomic_load_n(ig__ring_slot(r, pos), __ATOMIC_ACQUIRE) == pos;
}

/* Typed wrappers for struct ig_event. */
static inline bool ig_ring_push_ev(struct ig_ring *r, const struct ig_event *ev)
{
	return ig_ring_push_spsc(r, ev);
}

static inline bool ig_ring_pop_ev(struct ig_ring *r, struct ig_event *ev)
{
	return ig_ring_pop_spsc(r, ev);
}

#endif
