/* luno.c - the Luno instance shared by an engine's venue and feed (see
 * luno.h). */
#include "luno/luno.h"

#include <stdlib.h>

struct ig_luno_instance *ig_luno_instance_new(const struct ig_config *cfg)
{
	struct ig_luno_instance *inst = calloc(1, sizeof(*inst));

	if (inst == NULL)
		return NULL;
	ig_luno_budget_init(&inst->budget, ig_luno_budget_per_min(cfg), 0, 0);
	__atomic_store_n(&inst->refs, 1, __ATOMIC_RELAXED);
	return inst;
}

struct ig_luno_instance *ig_luno_instance_ref(struct ig_luno_instance *inst)
{
	__atomic_add_fetch(&inst->refs, 1, __ATOMIC_RELAXED);
	return inst;
}

void ig_luno_instance_release(struct ig_luno_instance *inst)
{
	if (inst == NULL)
		return;
	if (__atomic_sub_fetch(&inst->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(inst);
}
