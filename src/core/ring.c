/* ring.c - allocation for the slot-sequence ring (see ring.h). */
#include "core/ring.h"

#include "ingenium/error.h"

#include <stdlib.h>

int ig_ring_init(struct ig_ring *r, uint32_t capacity, size_t elem_size)
{
	void *mem;
	size_t bytes;

	if (capacity < 2 || (capacity & (capacity - 1)) != 0)
		return IG_EINVAL;
	if (elem_size < 16 || elem_size % 8 != 0)
		return IG_EINVAL;
	bytes = (size_t)capacity * elem_size;
	bytes = (bytes + IG_CACHELINE - 1) / IG_CACHELINE * IG_CACHELINE;
	mem = aligned_alloc(IG_CACHELINE, bytes);
	if (mem == NULL)
		return IG_ENOMEM;
	memset(mem, 0, bytes);
	memset(r, 0, sizeof(*r));
	r->mask = capacity - 1;
	r->elem_size = elem_size;
	r->slots = mem;
	for (uint64_t i = 0; i < capacity; i++)
		*ig__ring_slot(r, i) = i;
	return 0;
}

void ig_ring_destroy(struct ig_ring *r)
{
	free(r->slots);
	r->slots = NULL;
}
