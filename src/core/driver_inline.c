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

/* A node as the inline driver calls it: its ops resolved once. */
struct ig_inline_node {
	void (*handle)(void *self, const struct ig_event *ev, struct ig_emit *out);
	int (*commit)(void *self, int64_t now_ns, enum ig_commit_mode mode, struct ig_emit *out);
	void *self;
	struct ig_emit *out;
};

#define IG_INLINE_MASK (IG_DRIVER_INLINE_Q - 1)

/* One queued delivery: the event (a slot of ev[], or a source's own
 * event, ig_emit_ref) and the node to hand it to. */
struct ig_inline_item {
	const struct ig_event *ev;
	uint32_t node;
};

/*
 * The inline driver's FIFO. Owner: the thread running the inline driver.
 *
 * Items (destination node and the event) and the events they carry are
 * two rings: an event emitted to several stages unchanged (ig_emit_same)
 * is stored once and referenced by one item per destination, and an event
 * a source keeps valid itself (ig_emit_ref: the tick's market data) is not
 * stored at all. Items and stored events are taken in the same FIFO order,
 * so an event's slot is free once its last item is handled. Both restart
 * at the front whenever the queue runs empty, so a backtest stays in a few
 * hot lines.
 */
struct ig_inline_q {
	struct ig_emit emit[IG_STAGE__COUNT]; /* one per producing stage, for src stamping */
	uint32_t head, tail;                  /* items */
	uint32_t ev_head;                     /* next event slot */
	bool draining;                        /* inside ig__driver_inline_drain */
	const struct ig_event *last;          /* the producer's event last copied to ev_head - 1 */
	struct ig_driver *d;
	int8_t node_of[IG_STAGE__COUNT][IG_MAX_STRATEGY_THREADS];
	struct ig_inline_node node[IG_GRAPH_MAX_NODES];
	uint32_t src[IG_GRAPH_MAX_NODES];     /* the nodes with a source op */
	uint32_t nsrc;
	struct ig_inline_item item[IG_DRIVER_INLINE_Q];
	struct ig_event ev[IG_DRIVER_INLINE_Q];
};

static struct ig_inline_q *q_of(struct ig_emit *em)
{
	/* emit[] is the first member; em points at emit[src]. */
	return (struct ig_inline_q *)(void *)(em - em->src);
}

static void q_full(void)
{
	/* A cascade of 64K events from one input is a bug in a stage;
	 * refuse loudly rather than drop silently. */
	ig_log_error("inline queue overflow: stage cascade over %u events", IG_DRIVER_INLINE_Q);
	abort();
}

/* One item for node. The check keeps one slot spare: the event being
 * handled (already taken off) is never overwritten by what it emits. */
static inline void q_item(struct ig_inline_q *q, uint32_t node, const struct ig_event *ev)
{
	struct ig_inline_item *it;
	if (q->head - q->tail >= IG_DRIVER_INLINE_Q - 1)
		q_full();
	it = &q->item[q->head++ & IG_INLINE_MASK];
	it->ev = ev;
	it->node = node;
}

static inline void q_put(struct ig_inline_q *q, uint32_t node, const struct ig_event *ev)
{
	struct ig_event *slot = &q->ev[q->ev_head++ & IG_INLINE_MASK];
	*slot = *ev;
	q_item(q, node, slot);
	q->last = ev;
}

void ig__inline_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);
	q_put(q, (uint32_t)q->node_of[dst][idx], ev);
}

void ig__inline_emit_same(struct ig_emit *em, enum ig_stage dst, uint32_t idx,
			  struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);
	uint32_t node = (uint32_t)q->node_of[dst][idx];
	/* The copy made for the previous destination, if that was this very
	 * event (nothing else was put since: no drain runs inside a
	 * producer's emits, and a drain that emptied the queue forgot it). */
	if (q->last == ev)
		q_item(q, node, &q->ev[(q->ev_head - 1) & IG_INLINE_MASK]);
	else
		q_put(q, node, ev);
}

void ig__inline_emit_ref(struct ig_emit *em, enum ig_stage dst, uint32_t idx,
			 const struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);
	/* Not copied: the source keeps ev as it is until it is called
	 * again, and every item is handled before that. */
	q_item(q, (uint32_t)q->node_of[dst][idx], ev);
}

void ig__inline_emit_ref_list(struct ig_emit *em, const struct ig_emit_dest *dst, uint32_t n,
			      const struct ig_event *ev)
{
	struct ig_inline_q *q = q_of(em);

	if (q->tail != q->head || q->draining) {
		/* Something is ahead of ev: queue it behind, as ig_emit_ref. */
		for (uint32_t i = 0; i < n; i++)
			q_item(q, (uint32_t)q->node_of[dst[i].stage][dst[i].idx], ev);
		return;
	}
	/* Nothing queued: ev's items would be the queue's first n, handled
	 * before anything their handlers emit, so hand it over at once; what
	 * the handlers emit queues up behind in the same order. */
	q->draining = true;
	for (uint32_t i = 0; i < n; i++) {
		const struct ig_inline_node *nd = &q->node[q->node_of[dst[i].stage][dst[i].idx]];
		nd->handle(nd->self, ev, nd->out);
		if (nd->commit != NULL)
			nd->commit(nd->self, ig_clock_mono_ns(), IG_COMMIT_EVENT, nd->out);
	}
	q->draining = false;
	q->d->events += n;
}

void ig__inline_barrier(struct ig_emit *em)
{
	struct ig_inline_q *q = q_of(em);
	if (q->draining) {
		/* A handler waiting for the queue it is being run from. */
		ig_log_error("inline driver: ig_emit_barrier called by a handler, not a source");
		abort();
	}
	ig__driver_inline_drain(q->d);
}

void ig__driver_inline_emit(struct ig_driver *d, uint32_t dst_node, const struct ig_event *ev)
{
	/* As is: the event keeps the src and stamps its producer gave it. */
	q_put(d->q, dst_node, ev);
}

void ig__driver_inline_drain(struct ig_driver *d)
{
	struct ig_inline_q *q = d->q;
	uint32_t start = q->tail;
	q->draining = true;
	while (q->tail != q->head) {
		/* Handled in place: emits append at head, far from this slot
		 * (q_item keeps it from being reused while it is handled). */
		const struct ig_inline_item *it = &q->item[q->tail++ & IG_INLINE_MASK];
		const struct ig_inline_node *nd = &q->node[it->node];
		nd->handle(nd->self, it->ev, nd->out);
		if (nd->commit != NULL)
			nd->commit(nd->self, ig_clock_mono_ns(), IG_COMMIT_EVENT, nd->out);
	}
	d->events += q->tail - start;
	q->draining = false;
	/* Empty: restart at the front so the queue stays in a few hot lines
	 * instead of walking its whole array. */
	q->head = q->tail = q->ev_head = 0;
	q->last = NULL;
}

int ig_driver_init(struct ig_driver *d, const struct ig_graph *g)
{
	struct ig_inline_q *q;

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
	q = aligned_alloc(IG_CACHELINE, (sizeof(struct ig_inline_q) + IG_CACHELINE - 1) /
						IG_CACHELINE * IG_CACHELINE);
	if (q == NULL)
		return IG_ENOMEM;
	d->q = q;
	q->head = q->tail = q->ev_head = 0;
	q->draining = false;
	q->last = NULL;
	q->d = d;
	q->nsrc = 0;
	memcpy(q->node_of, d->node_of, sizeof(q->node_of));
	for (int s = 0; s < IG_STAGE__COUNT; s++) {
		memset(&q->emit[s], 0, sizeof(q->emit[s]));
		q->emit[s].fn = ig__inline_emit;
		q->emit[s].src = (uint8_t)s;
		q->emit[s].stamp = false;
	}
	for (uint32_t i = 0; i < g->nnodes; i++) {
		const struct ig_graph_node *n = &g->node[i];
		q->node[i].handle = n->ops->handle;
		q->node[i].commit = n->ops->commit;
		q->node[i].self = n->self;
		q->node[i].out = &q->emit[n->stage];
		if (n->ops->source != NULL)
			q->src[q->nsrc++] = i;
	}
	return 0;
}

int ig_driver_run_inline(struct ig_driver *d)
{
	const struct ig_graph *g = &d->g;
	struct ig_inline_q *q = d->q;
	int n;

	/* Work a stage already has (a venue's recovery answer) comes first. */
	for (uint32_t i = 0; i < g->nnodes; i++)
		if (g->node[i].ops->poll != NULL) {
			g->node[i].ops->poll(g->node[i].self, ig_clock_mono_ns(),
					     &q->emit[g->node[i].stage]);
			ig__driver_inline_drain(d);
		}
	/* Then the sources, one unit at a time, each drained through the whole
	 * pipeline before the next: deterministic. */
	do {
		n = 0;
		for (uint32_t k = 0; k < q->nsrc; k++) {
			const struct ig_graph_node *gn = &g->node[q->src[k]];
			n += gn->ops->source(gn->self, 0, q->node[q->src[k]].out);
			/* Often empty: a source's barrier drained it all. */
			if (q->tail != q->head)
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
