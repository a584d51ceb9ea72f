/*
 * host.h - the strategy stage: runs the strategies assigned to one
 * strategy thread.
 *
 * Design
 * ------
 * A host owns one ig_strategy_ctx per strategy on its thread. Each ctx holds
 * the strategy's private state block and its read-only mirror of what the
 * OMS owns: the position and cash per instrument (from IG_EV_POSITION) and
 * its open orders (from submits, updates, fills and rejects). The OMS keeps
 * the truth; the mirror is what callbacks read.
 *
 * Client order ids are assigned here, synchronously, so a strategy knows
 * its order's id at once: IG_CID_MAKE(strategy_id, epoch, seq) (event.h), with
 * seq counting from 1 per strategy. Deterministic for a given epoch.
 *
 * Market data goes to every strategy on the thread subscribed to the
 * instrument; order events go to their own strategy only. On FEED_END the
 * host calls on_stop and passes FEED_END on to the OMS.
 *
 * Owner: the strategy thread k (or the inline driver). Pure handler: no
 * threads, no rings; output goes through struct ig_emit.
 */
#ifndef IG_STRATEGY_HOST_H
#define IG_STRATEGY_HOST_H

#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "core/stage.h"
#include "ingenium/strategy.h"

#define IG_CTX_MAX_OPEN 64

struct ig_open_mirror {
	uint64_t client_id;   /* 0 = free slot */
	int64_t leaves_qty;   /* 1e-8 */
	uint8_t side;         /* enum ig_side */
	uint16_t instrument_id;
};

struct ig_strategy_ctx {
	const struct ig_strategy_type *type;
	const struct ig_cfg_strategy *cfg;
	void *state;                      /* type->state_size bytes */
	uint16_t id;                      /* global strategy index */
	uint32_t epoch;                   /* run epoch for client ids (24 bits) */
	uint32_t seq;                     /* last client id sequence */
	bool subscribed[IG_MAX_INSTRUMENTS];
	struct ig_position pos[IG_MAX_INSTRUMENTS]; /* mirror */
	struct ig_open_mirror open[IG_CTX_MAX_OPEN]; /* mirror of open orders */
	int64_t now_ns;                   /* data time of the current event */
	struct ig_emit *out;              /* valid during a callback */
	const struct ig_event *cur;       /* the event being handled */
	uint64_t intents;                 /* orders submitted */
	uint64_t cancels;                 /* cancels requested */
	uint64_t mirror_overflow;         /* open orders beyond IG_CTX_MAX_OPEN */
};

struct ig_strategy_host {
	uint32_t thread_index;
	uint32_t n;
	struct ig_strategy_ctx *ctx[IG_MAX_STRATEGIES];
	uint16_t ninstruments;
	bool stopped;
};

/* Looks up a strategy type by its YAML name; NULL if unknown. */
const struct ig_strategy_type *ig_strategy_find(const char *type_name);

/* Names of all registered types, comma separated (for error messages). */
const char *ig_strategy_type_list(void);

/*
 * Creates the contexts for every strategy in cfg whose thread is
 * thread_index, allocates their state and calls init. instrument_of maps a
 * symbol to its instrument id (returns -1 if unknown). Returns 0, or
 * IG_ECONFIG with err "config:line:col: strategies.N...: message", or
 * IG_ENOMEM. On failure nothing is left to undo.
 */
int ig_strategy_host_init(struct ig_strategy_host *h, const struct ig_config *cfg,
			  uint32_t thread_index, uint32_t epoch,
			  int (*instrument_of)(const char *symbol, void *arg), void *arg,
			  char *err, size_t errlen);

void ig_strategy_host_destroy(struct ig_strategy_host *h);

/* The stage handler. */
void ig_strategy_host_handle(struct ig_strategy_host *h, const struct ig_event *ev,
			     struct ig_emit *out);

/* The stage's operations (stage.h): handle only; self is a host. */
extern const struct ig_stage_ops ig_strategy_host_ops;

#endif
