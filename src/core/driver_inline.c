/* driver_inline.c - the graph and the inline driver (see driver.h). */
#include "core/driver.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- graph */

int ig_graph_node_add(struct ig_graph *g, const struct ig_stage_ops *ops, void *self,
		      enum ig_stage stage, uint32_t idx, bool indexed)
{
	struct ig_graph_node *n;
	if (g->nnodes >= IG_GRAPH_MAX_NODES)
		return -1;
	n = &g->node[g->nnodes];
	memset(n, 0, sizeof(*n));
	n->ops = ops;
	n->self = self;
	n->stage = (uint8_t)stage;
	n->idx = (uint8_t)idx;
	n->indexed = indexed;
	return (int)g->nnodes++;
}

int ig_graph_edge_add(struct ig_graph *g, int from, int to, bool feedback)
{
	if (g->nedges >= IG_GRAPH_MAX_EDGES || from < 0 || to < 0)
		return IG_ELIMIT;
	g->edge[g->nedges].from = (uint8_t)from;
	g->edge[g->nedges].to = (uint8_t)to;
	g->edge[g->nedges].feedback = feedback;
	g->nedges++;
	return 0;
}

int ig_graph_thread_add(struct ig_graph *g, const char *name, int wait, int cpu,
			bool park_to_deadline)
{
	struct ig_graph_thread *t;
	if (g->nthreads >= IG_GRAPH_MAX_THREADS)
		return -1;
	t = &g->thread[g->nthreads];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->wait = wait;
	t->cpu = cpu;
	t->park_to_deadline = park_to_deadline;
	return (int)g->nthreads++;
}

/* ------------------------------------------------------- inline driver */

struct ig_inline_item {
	struct ig_event ev;
	uint8_t node;
};

/* The inline driver's FIFO. Owner: the thread running the inline driver. */
struct ig_inline_q {
	struct ig_emit emit[IG_STAGE__COUNT]; /* one per producing stage, for src stamping */
	struct ig_driver *drv;
	uint32_t head, tail;
	struct ig_inline_item items[IG_DRIVER_INLINE_Q];
};

static struct ig_inline_q *q_of(struct ig_emit *em)
{
	/* emit[] is the first member; em points at emit[src]. */
	return (struct ig_inline_q *)(void *)(em - em->src);
}

static void q_put(struct ig_inline_q *q, uint32_t node, const struct ig_event *ev)
{
	struct ig_inline_item *it;

	if (q->head - q->tail == IG_DRIVER_INLINE_Q) {
		/* A cascade of 64K events from one input is a bug in a stage;
		 * refuse loudly rather than drop silently. */
		ig_log_error("inline queue overflow: stage cascade over %u events", IG_DRIVER_INLINE_Q);
		abort();
	}
	it = &q->items[q->head++ & (IG_DRIVER_INLINE_Q - 1)];
	it->ev = *ev;
	it->node = (uint8_t)node;
}

static void inline_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);
	q_put(q, (uint32_t)q->drv->node_of[dst][idx], ev);
}

void ig__driver_inline_emit(struct ig_driver *d, uint32_t dst_node, const struct ig_event *ev)
{
	/* As is: the event keeps the src and stamps its producer gave it. */
	q_put(d->q, dst_node, ev);
}

void ig__driver_inline_drain(struct ig_driver *d)
{
	struct ig_inline_q *q = d->q;
	while (q->tail != q->head) {
		/* Handled in place: emits append at head, far from this slot
		 * (the queue never wraps onto an item being handled). */
		struct ig_inline_item *it = &q->items[q->tail++ & (IG_DRIVER_INLINE_Q - 1)];
		const struct ig_graph_node *n = &d->g.node[it->node];
		struct ig_emit *out = &q->emit[n->stage];
		d->events++;
		n->ops->handle(n->self, &it->ev, out);
		if (n->ops->commit != NULL)
			n->ops->commit(n->self, ig_clock_mono_ns(), IG_COMMIT_EVENT, out);
	}
	/* Empty: restart at the front so the queue stays in a few hot lines
	 * instead of walking its whole array. */
	q->head = q->tail = 0;
}

int ig_driver_init(struct ig_driver *d, const struct ig_graph *g)
{
	memset(d, 0, sizeof(*d));
	d->g = *g;
	memset(d->node_of, -1, sizeof(d->node_of));
	for (uint32_t i = 0; i < g->nnodes; i++) {
		const struct ig_graph_node *n = &g->node[i];
		if (n->stage >= IG_STAGE__COUNT || n->idx >= IG_MAX_STRATEGY_THREADS ||
		    d->node_of[n->stage][n->idx] >= 0 || n->ops == NULL || n->ops->handle == NULL)
			return IG_EINVAL;
		d->node_of[n->stage][n->idx] = (int8_t)i;
	}
	d->q = aligned_alloc(IG_CACHELINE, (sizeof(struct ig_inline_q) + IG_CACHELINE - 1) /
						   IG_CACHELINE * IG_CACHELINE);
	if (d->q == NULL)
		return IG_ENOMEM;
	d->q->head = d->q->tail = 0;
	d->q->drv = d;
	for (int s = 0; s < IG_STAGE__COUNT; s++) {
		d->q->emit[s].fn = inline_emit;
		d->q->emit[s].src = (uint8_t)s;
		d->q->emit[s].stamp = false;
	}
	return 0;
}

int ig_driver_run_inline(struct ig_driver *d)
{
	const struct ig_graph *g = &d->g;
	int n;

	/* Work a stage already has (a venue's recovery answer) comes first. */
	for (uint32_t i = 0; i < g->nnodes; i++)
		if (g->node[i].ops->poll != NULL) {
			g->node[i].ops->poll(g->node[i].self, ig_clock_mono_ns(),
					     &d->q->emit[g->node[i].stage]);
			ig__driver_inline_drain(d);
		}
	/* Then the sources, one unit at a time, each drained through the whole
	 * pipeline before the next: deterministic. */
	do {
		n = 0;
		for (uint32_t i = 0; i < g->nnodes; i++) {
			if (g->node[i].ops->source == NULL)
				continue;
			n += g->node[i].ops->source(g->node[i].self, 0, &d->q->emit[g->node[i].stage]);
			ig__driver_inline_drain(d);
		}
	} while (n > 0);
	return 0;
}

void ig_driver_finish(struct ig_driver *d)
{
	const struct ig_graph *g = &d->g;

	/* Twice: what the first round hands on (a journal's held orders,
	 * answered by the venue) is committed by the second. */
	for (int round = 0; round < 2; round++) {
		for (uint32_t i = 0; i < g->nnodes; i++)
			if (g->node[i].ops->commit != NULL)
				g->node[i].ops->commit(g->node[i].self, ig_clock_mono_ns(),
						       IG_COMMIT_FINAL, &d->q->emit[g->node[i].stage]);
		ig__driver_inline_drain(d);
	}
	for (uint32_t i = 0; i < g->nnodes; i++)
		if (g->node[i].ops->on_stop != NULL)
			g->node[i].ops->on_stop(g->node[i].self);
}

void ig_driver_results(const struct ig_driver *d, struct ig_driver_results *out)
{
	out->events = d->events;
	out->backpressure = d->backpressure;
	out->spill_max = d->spill_max;
	out->drained_after_stop = d->drained_after_stop;
}

const struct ig_graph *ig_driver_graph(const struct ig_driver *d)
{
	return &d->g;
}
