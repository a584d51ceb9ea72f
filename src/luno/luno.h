/*
 * luno.h - one Luno instance: what an engine's Luno venue and Luno feed
 * share, created by the first of them and freed by the last to close.
 *
 * Design
 * ------
 * Luno counts every call of an API key against one limit, so the feed
 * (tick thread) and the venue (executor thread) of one engine draw from
 * one request budget (luno_budget.h). That budget belongs to the instance,
 * and the instance to the venue: there is no process-wide table. Two
 * engines in one process (tests run several) each have their own venue,
 * so their own instance and their own budget.
 *
 * Wiring. The engine makes the executor before the feed and passes the
 * feed what the venue offers (venue.h: the peer op; feed.h: ig_feed_open's
 * vt and venue_ctx), without naming either. The Luno venue's create()
 * makes an instance (ig_luno_instance_new); its peer op returns it,
 * borrowed. The Luno feed's open() takes a reference of its own
 * (ig_luno_instance_ref) when the engine's venue type is the Luno venue
 * and makes an instance of its own otherwise (paper trading on Luno's live
 * data: that budget is then the feed's alone). Each of them releases its
 * reference as it closes, in either order; the last release frees the
 * instance.
 *
 * Threads and memory ordering. new, ref and release run on the main
 * thread while the engine is built or torn down, but the count is an
 * __atomic number anyway, so a release from another thread is safe: ref
 * is relaxed (the caller already holds a reference), release is acq_rel,
 * so every access to the instance by a holder happens before the free by
 * the last one. While the engine runs, the budget is used by the tick and
 * executor threads at once: every field of it is accessed with __atomic
 * builtins, relaxed (see luno_budget.h; nothing else is published through
 * it); the budget is initialised by new() before either thread starts,
 * and pthread_create publishes it to them.
 */
#ifndef IG_LUNO_LUNO_H
#define IG_LUNO_LUNO_H

#include <stdint.h>

#include "config/config.h"
#include "luno/luno_budget.h"

struct ig_luno_instance {
	uint32_t refs;                /* holders (the venue, a feed); __atomic */
	struct ig_luno_budget budget; /* venue.requests_per_min for every call of the account */
};

/* A new instance for cfg, its budget from venue.*, with one reference
 * (the caller's). Returns it, or NULL when out of memory. */
struct ig_luno_instance *ig_luno_instance_new(const struct ig_config *cfg);

/* Takes one more reference to inst, which the caller already holds (or
 * borrows from a holder that outlives this call). Returns inst. */
struct ig_luno_instance *ig_luno_instance_ref(struct ig_luno_instance *inst);

/* Drops one reference; the last frees the instance. NULL is ignored.
 * Once neither the tick nor the executor thread uses it. */
void ig_luno_instance_release(struct ig_luno_instance *inst);

#endif
