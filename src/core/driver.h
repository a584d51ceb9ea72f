/*
 * driver.h - the two drivers that run a graph of stages (stage.h): threaded
 * and inline. Written once against struct ig_stage_ops; they never ask
 * which stage they run.
 *
 * Design
 * ------
 * The engine (src/app/engine.c) builds a struct ig_graph: the nodes (a
 * stage's ops and self, and the address events use to reach it: an enum
 * ig_stage and an index, the strategy thread for strategy hosts), the
 * edges (producer -> consumer; feedback or forward), and the threads with
 * the node each runs. Then it hands the graph to ig_driver_init() and runs
 * one of:
 *
 *   threaded  (driver_threaded.c) every edge is an SPSC ring (ring.h) with
 *             an outbox on the producer side (emit.h: the ring plus an
 *             ordered, preallocated spill). Every node is an agent
 *             (agent.h) on its thread. A duty cycle (stage.h) consumes the
 *             node's feedback inputs always and its forward inputs (and its
 *             source) only while none of its outboxes spills: two stages
 *             never wait on each other, even on one thread, and
 *             back-pressure ends at the source. A spilling agent retries
 *             after IG_DRIVER_SPILL_RETRY_NS; a thread is woken at most
 *             once per duty cycle per outbox. A thread with
 *             park_to_deadline (one that runs only a source, woken by
 *             nothing but its clock) parks straight to its deadline. The
 *             main thread blocks `sigs` in the agent threads and waits for
 *             them (sigtimedwait) until a node's done() turns true, handing
 *             each signal to on_signal; then it stops and joins the threads
 *             and drains what is left in rings and spills inline.
 *   inline    (driver_inline.c) one thread: every emit appends to one FIFO
 *             that is drained event by event, each followed by the node's
 *             commit(IG_COMMIT_EVENT). Deterministic.
 *
 * After either: ig_driver_finish() (final commits and on_stop).
 *
 * Ownership: the main thread builds, runs and destroys the driver. While
 * the threaded driver runs, each node belongs to its thread; counters are
 * read after ig_driver_run_threaded() returns. ig_driver_wake() may be
 * called from any thread at any time (before the threads exist it does
 * nothing).
 */
#ifndef IG_CORE_DRIVER_H
#define IG_CORE_DRIVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/agent.h"
#include "core/emit.h"
#include "core/hist.h"
#include "core/ring.h"
#include "core/stage.h"

#define IG_GRAPH_MAX_NODES (IG_MAX_STRATEGY_THREADS + 4)
#define IG_GRAPH_MAX_EDGES (3 * IG_MAX_STRATEGY_THREADS + 5)
#define IG_GRAPH_MAX_THREADS (IG_MAX_STRATEGY_THREADS + 4)
#define IG_NODE_MAX_INPUTS (IG_MAX_STRATEGY_THREADS + 2)
#define IG_NODE_MAX_OUTBOXES (IG_MAX_STRATEGY_THREADS + 2)

#define IG_DRIVER_BATCH 256               /* events per input (or source) per duty cycle */
#define IG_DRIVER_SPILL_RETRY_NS 20000    /* re-try a spilling outbox after 20 us */
#define IG_DRIVER_INLINE_Q 65536u         /* inline FIFO: a longer cascade is a bug */

struct ig_graph_node {
	const struct ig_stage_ops *ops;
	void *self;
	uint8_t stage;       /* enum ig_stage: the address ig_emit uses, and hdr.src */
	uint8_t idx;         /* instance (strategy thread k), 0 otherwise */
	bool indexed;        /* hop names into it carry idx: "tick->strategy0" */
	uint8_t thread;      /* index into ig_graph.thread (threaded driver) */
};

struct ig_graph_edge {
	uint8_t from, to;    /* node indexes */
	bool feedback;       /* consumed even while the consumer's outboxes spill */
};

struct ig_graph_thread {
	char name[16];
	int wait;            /* enum ig_wait_kind */
	int cpu;             /* -1 = no pinning */
	bool park_to_deadline;
};

/*
 * The graph: a public value type (the engine builds it, the driver takes a
 * copy; ig_driver_graph gives that copy back). Node order is the order the agents are added to their
 * threads (pipeline order); edge order is each consumer's input order
 * (feedback first: consumed first) and each producer's outbox order.
 */
struct ig_graph {
	struct ig_graph_node node[IG_GRAPH_MAX_NODES];
	uint32_t nnodes;
	struct ig_graph_edge edge[IG_GRAPH_MAX_EDGES];
	uint32_t nedges;
	struct ig_graph_thread thread[IG_GRAPH_MAX_THREADS];
	uint32_t nthreads;
	uint32_t ring_size;  /* slots per ring, power of two; each spill holds 4x */
};

/* Adds a node; returns its index, or -1 when full. */
int ig_graph_node_add(struct ig_graph *g, const struct ig_stage_ops *ops, void *self,
		      enum ig_stage stage, uint32_t idx, bool indexed);
/* Adds an edge; returns 0 or IG_ELIMIT. */
int ig_graph_edge_add(struct ig_graph *g, int from, int to, bool feedback);
/* Adds a thread; returns its index, or -1 when full. */
int ig_graph_thread_add(struct ig_graph *g, const char *name, int wait, int cpu,
			bool park_to_deadline);

/* An input ring of an agent, with the latency histogram of its hop. */
struct ig_input {
	struct ig_ring *ring;
	bool feedback;          /* consumed even while our outboxes spill */
	char name[32];          /* "tick->strategy0" */
	struct ig_hist hop_ns;  /* now - ts_emit_ns at dequeue */
	uint64_t events;
};

struct ig_driver;

/* A node as the threaded driver runs it. emit must stay first (the emit
 * callback casts back). Owner: its thread. */
struct ig_driver_agent {
	struct ig_emit emit;
	struct ig_driver *drv;
	void (*handle)(void *self, const struct ig_event *ev, struct ig_emit *out);
	const struct ig_stage_ops *ops;
	void *self;
	uint32_t node;
	struct ig_input in[IG_NODE_MAX_INPUTS];
	uint32_t nin;
	struct ig_outbox box[IG_NODE_MAX_OUTBOXES];
	uint32_t nbox;
	struct ig_outbox *route[IG_STAGE__COUNT][IG_MAX_STRATEGY_THREADS];
	struct ig_agent_thread *thread; /* the thread that runs us */
	uint64_t stalls;                /* cycles that skipped forward inputs */
};

struct ig_inline_q;

struct ig_driver {
	struct ig_graph g;
	int8_t node_of[IG_STAGE__COUNT][IG_MAX_STRATEGY_THREADS]; /* address -> node, -1 none */
	struct ig_inline_q *q;          /* inline FIFO (also the threaded final drain) */

	/* threaded */
	struct ig_ring rings[IG_GRAPH_MAX_EDGES];
	uint32_t nrings;
	struct ig_driver_agent *agents; /* one per node */
	uint32_t nagents;
	struct ig_agent_thread *threads;
	uint32_t nthreads;
	bool started;                   /* atomic: agents and threads built (release) */
	bool done;                      /* atomic: a node's done() turned true */

	/* results */
	uint64_t events;                /* events handled by all nodes */
	uint64_t backpressure;          /* events that waited in a spill */
	uint32_t spill_max;             /* deepest any outbox spill got */
	uint64_t drained_after_stop;    /* events handled by the final drain */
};

/* Takes a copy of g and sets up the inline FIFO. Returns 0, IG_EINVAL (an
 * address used twice, an index out of range) or IG_ENOMEM; nothing to undo
 * on failure. */
int ig_driver_init(struct ig_driver *d, const struct ig_graph *g);

/* Frees rings, outboxes, agents, threads and the FIFO. Safe after a failed
 * init or run. */
void ig_driver_destroy(struct ig_driver *d);

/* Runs the graph inline to the end of its sources. Returns 0. */
int ig_driver_run_inline(struct ig_driver *d);

/*
 * Builds the rings and agents, starts the threads with `sigs` blocked, and
 * waits on the calling (main) thread until done, handing every signal of
 * `sigs` that arrives to on_signal(arg, sig) (may call ig_driver_wake).
 * Then stops and joins the threads and drains what is left inline.
 * Returns 0, IG_ENOMEM, IG_ELIMIT or IG_ETHREAD.
 */
int ig_driver_run_threaded(struct ig_driver *d, const sigset_t *sigs,
			   void (*on_signal)(void *arg, int sig), void *arg);

/* The run is over: commit(IG_COMMIT_FINAL) every node, drain, again, then
 * on_stop every node. Main thread, after a run. */
void ig_driver_finish(struct ig_driver *d);

/* Wakes the thread that runs the node whose self is `self` (after setting
 * a flag its has_work reads). Any thread; a no-op before the threads exist
 * or for the inline driver. */
void ig_driver_wake(struct ig_driver *d, const void *self);

/* Adds {"tick->strategy0": {count, p50, ...}, ...} for every input ring of
 * the threaded run to hops (nothing for an inline run). Returns 0 or
 * IG_ENOMEM. */
int ig_driver_hops_json(const struct ig_driver *d, json_t *hops);

/* Returns the events that waited in a spill so far (back-pressure),
 * summed over every outbox with relaxed loads: live, while the threaded
 * run goes (0 before it starts and for an inline run). Any thread, between
 * ig_driver_init and ig_driver_destroy. */
uint64_t ig_driver_backpressure_live(const struct ig_driver *d);

/* What a run counted: a public value type (ig_driver_results). */
struct ig_driver_results {
	uint64_t events;             /* events handled by all nodes */
	uint64_t backpressure;       /* events that waited in a spill */
	uint32_t spill_max;          /* deepest any outbox spill got */
	uint64_t drained_after_stop; /* events handled by the final drain */
};

/* Fills out with the run's counters. Main thread, after the run (and
 * ig_driver_finish). */
void ig_driver_results(const struct ig_driver *d, struct ig_driver_results *out);

/* Returns the driver's copy of the graph (its nodes' ops and selves, for
 * their stats). Valid until ig_driver_destroy. */
const struct ig_graph *ig_driver_graph(const struct ig_driver *d);

/* Internal, between the two driver files. */
void ig__driver_inline_emit(struct ig_driver *d, uint32_t dst_node, const struct ig_event *ev);
void ig__driver_inline_drain(struct ig_driver *d);

#endif
