/* emit.c - outboxes: a ring plus an ordered spill (see emit.h). */
#include "core/emit.h"

#include "core/clock.h"
#include "ingenium/error.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

int ig_outbox_init(struct ig_outbox *ob, struct ig_ring *ring, uint32_t spill_cap)
{
	memset(ob, 0, sizeof(*ob));
	if (spill_cap < 2 || (spill_cap & (spill_cap - 1)) != 0)
		return IG_EINVAL;
	ob->spill = aligned_alloc(IG_CACHELINE, (size_t)spill_cap * sizeof(struct ig_event));
	if (ob->spill == NULL)
		return IG_ENOMEM;
	ob->ring = ring;
	ob->spill_cap = spill_cap;
	return 0;
}

void ig_outbox_destroy(struct ig_outbox *ob)
{
	free(ob->spill);
	ob->spill = NULL;
}

uint32_t ig_outbox_flush(struct ig_outbox *ob)
{
	while (ob->spill_tail != ob->spill_head) {
		const struct ig_event *ev = &ob->spill[ob->spill_tail & (ob->spill_cap - 1)];
		if (!ig_ring_push_ev(ob->ring, ev))
			break;
		ob->spill_tail++;
		ob->pushed++;
		ob->dirty = true;
	}
	return ob->spill_head - ob->spill_tail;
}

void ig_outbox_put(struct ig_outbox *ob, const struct ig_event *ev)
{
	uint32_t pending;

	if (ob->spill_head == ob->spill_tail && ig_ring_push_ev(ob->ring, ev)) {
		ob->pushed++;
		ob->dirty = true;
		return;
	}
	if (ob->spill_head - ob->spill_tail == ob->spill_cap) {
		/* Spill full: wait in place until the consumer makes room.
		 * Only reachable if a downstream stage stalls for spill_cap +
		 * ring_size events; the counter makes it visible. */
		ob->blocked++;
		ig_waiter_notify(ob->waiter);
		while (ig_outbox_flush(ob) == ob->spill_cap) {
			ig_waiter_notify(ob->waiter);
			sched_yield();
		}
	}
	ob->spill[ob->spill_head & (ob->spill_cap - 1)] = *ev;
	ob->spill_head++;
	/* Read live by other threads (ig_driver_backpressure_live): a relaxed
	 * store by the one writer, no read-modify-write. */
	__atomic_store_n(&ob->spilled, ob->spilled + 1, __ATOMIC_RELAXED);
	pending = ob->spill_head - ob->spill_tail;
	if (pending > ob->spill_max)
		ob->spill_max = pending;
}
