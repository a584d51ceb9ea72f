/*
 * agent.h - agents and the threads that run them (after Aeron's agents).
 *
 * An agent is a unit of work with a duty cycle: do_work() does a bounded
 * amount of work and returns how much it did. A thread runs one or more
 * agents in turn; when a whole round did nothing, the thread's idle
 * strategy (wait.h) spins, yields or parks until a producer wakes it or the
 * earliest agent deadline passes. The threading mode decides which agents
 * share a thread (dedicated: one each; shared: grouped; inline: none, the
 * inline driver calls the stage handlers directly).
 */
#ifndef IG_CORE_AGENT_H
#define IG_CORE_AGENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/wait.h"

#define IG_THREAD_MAX_AGENTS 24

struct ig_agent {
	const char *name;
	/* One duty cycle. Returns work done (0 = idle). */
	int (*do_work)(void *self);
	/* True if the agent has input waiting (used before parking). */
	bool (*has_work)(void *self);
	/* Earliest CLOCK_MONOTONIC time it needs to run again, INT64_MAX if none. */
	int64_t (*deadline_ns)(void *self);
	/* Called once on the thread before the first duty cycle (may be NULL). */
	void (*on_start)(void *self);
	void *self;
};

/* A thread and the agents it runs. Owner: the thread itself once started;
 * the creator reads its counters after join. */
struct ig_agent_thread {
	char name[16];
	struct ig_agent agents[IG_THREAD_MAX_AGENTS];
	uint32_t nagents;
	struct ig_waiter waiter;   /* producers into our agents' rings wake this */
	struct ig_idle idle;
	int cpu;                   /* pin to this CPU, -1 = no pinning */
	bool park_to_deadline;     /* idle with a deadline: park at once (clock-driven source) */
	bool stop;                 /* atomic: set by the creator */
	bool started;
	pthread_t tid;
	uint64_t cycles;           /* duty cycles run */
	uint64_t idle_cycles;      /* duty cycles that found nothing */
	int64_t cpu_ns;            /* thread CPU time at exit */
};

void ig_agent_thread_init(struct ig_agent_thread *t, const char *name, enum ig_wait_kind wait,
			  int cpu);

/* Adds an agent. Returns 0 or IG_ELIMIT. Before start only. */
int ig_agent_thread_add(struct ig_agent_thread *t, const struct ig_agent *a);

/* Starts the thread. Returns 0 or IG_ETHREAD. */
int ig_agent_thread_start(struct ig_agent_thread *t);

/* Asks the thread to stop and wakes it. Any thread. */
void ig_agent_thread_stop(struct ig_agent_thread *t);

/* Waits for the thread to exit. */
void ig_agent_thread_join(struct ig_agent_thread *t);

/* Pins the calling thread to cpu. Returns 0 or IG_EINVAL. */
int ig_pin_self(int cpu);

#endif
