/* luno.c - the Luno instance shared by an engine's feed and venue (see
 * luno.h). */
#include "luno/luno.h"

#include <pthread.h>
#include <stdlib.h>

/* Live instances, keyed by config. A handful at most (one per engine). */
#define MAX_INSTANCES 16

static pthread_mutex_t table_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ig_luno_instance *table[MAX_INSTANCES];

struct ig_luno_instance *ig_luno_instance_acquire(const struct ig_config *cfg)
{
	struct ig_luno_instance *inst = NULL;
	int free_slot = -1;

	pthread_mutex_lock(&table_mu);
	for (int i = 0; i < MAX_INSTANCES; i++) {
		if (table[i] != NULL && table[i]->cfg == cfg) {
			inst = table[i];
			inst->refs++;
			goto out;
		}
		if (table[i] == NULL && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		goto out;
	inst = calloc(1, sizeof(*inst));
	if (inst == NULL)
		goto out;
	inst->cfg = cfg;
	inst->refs = 1;
	ig_luno_budget_init(&inst->budget, ig_luno_budget_per_min(cfg), 0, 0);
	table[free_slot] = inst;
out:
	pthread_mutex_unlock(&table_mu);
	return inst;
}

void ig_luno_instance_release(struct ig_luno_instance *inst)
{
	if (inst == NULL)
		return;
	pthread_mutex_lock(&table_mu);
	if (--inst->refs == 0) {
		for (int i = 0; i < MAX_INSTANCES; i++)
			if (table[i] == inst)
				table[i] = NULL;
		free(inst);
	}
	pthread_mutex_unlock(&table_mu);
}
