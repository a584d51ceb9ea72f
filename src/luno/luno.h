/*
 * luno.h - one Luno instance: what an engine's Luno feed and Luno venue
 * share, created with the first of them and destroyed with the last.
 *
 * Design
 * ------
 * Luno counts every call of an API key against one limit, so the feed
 * (tick thread) and the venue (executor thread) of one engine draw from
 * one request budget (luno_budget.h). That budget belongs to the instance,
 * not to the process: two engines in one process (tests run several) each
 * have their own instance and their own budget.
 *
 * The engine opens its feed and its venue from the same config object and
 * hands them nothing else, so that object is the instance's key: the
 * feed's source open() and the venue's create() both call
 * ig_luno_instance_acquire(cfg), the first one creates the instance and
 * the second one gets the same; each releases it as it closes, and the
 * last release frees it. (A caller that builds two engines from one
 * config object gets one budget for both, which is what one account
 * needs.)
 *
 * Threads. acquire and release run on the main thread while the engine
 * is built or torn down (a mutex guards the table anyway). The budget is
 * then used by the tick and executor threads at once: every field of it
 * is accessed with __atomic builtins, relaxed (see luno_budget.h); the
 * budget is initialised before either thread starts, and pthread_create
 * publishes it to them.
 */
#ifndef IG_LUNO_LUNO_H
#define IG_LUNO_LUNO_H

#include <stdint.h>

#include "config/config.h"
#include "luno/luno_budget.h"

struct ig_luno_instance {
	const struct ig_config *cfg;  /* the key: the engine's config */
	uint32_t refs;                /* feed and venue holding it; under the table lock */
	struct ig_luno_budget budget; /* venue.requests_per_min for every call of the account */
};

/* The instance of cfg, created (with its budget from venue.*) if there is
 * none yet; one more reference. Returns it, or NULL when out of memory.
 * Main thread. */
struct ig_luno_instance *ig_luno_instance_acquire(const struct ig_config *cfg);

/* Drops one reference; the last frees the instance. NULL is ignored. Main
 * thread, once neither the tick nor the executor thread runs. */
void ig_luno_instance_release(struct ig_luno_instance *inst);

#endif
