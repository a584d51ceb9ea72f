/* driver_threaded.c - the threaded driver: rings, outboxes, agents, threads
 * and the final drain (see driver.h, stage.h). */
#include "core/driver.h"

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct ig_driver_agent *agent_of(struct ig_emit *em)
{
	return (struct ig_driver_agent *)(void *)em;
}

static void threaded_emit(struct ig_emit *em, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct ig_driver_agent *a = agent_of(em);
	ig_outbox_put(a->route[dst][idx], ev);
}

static uint32_t flush_all(struct ig_driver_agent *a)
{
	uint32_t pending = 0;
	for (uint32_t b = 0; b < a->nbox; b++)
		pending += ig_outbox_flush(&a->box[b]);
	return pending;
}

static void notify_all(struct ig_driver_agent *a)
{
	for (uint32_t b = 0; b < a->nbox; b++)
		ig_outbox_notify(&a->box[b]);
}

static uint32_t pending_all(const struct ig_driver_agent *a)
{
	uint32_t pending = 0;
	for (uint32_t b = 0; b < a->nbox; b++)
		pending += ig_outbox_pending(&a->box[b]);
	return pending;
}

static int consume(struct ig_driver_agent *a, struct ig_input *in)
{
	struct ig_event ev;
	int n = 0;
	int64_t now;

	while (n < IG_DRIVER_BATCH) {
		if (!in->feedback && n > 0 && pending_all(a) > 0)
			break;
		if (!ig_ring_pop_ev(in->ring, &ev))
			break;
		now = ig_clock_mono_ns();
		ig_hist_record(&in->hop_ns, now - ev.hdr.ts_emit_ns);
		in->events++;
		a->handle(a->self, &ev, &a->emit);
		n++;
	}
	return n;
}

/* The source, one unit at a time, until it has nothing due, a batch is
 * done, or an outbox spills. */
static int produce(struct ig_driver_agent *a)
{
	int64_t now = ig_clock_mono_ns();
	int work = 0, n;

	while (work < IG_DRIVER_BATCH && (n = a->ops->source(a->self, now, &a->emit)) > 0) {
		work += n;
		if (pending_all(a) > 0)
			break;
	}
	return work;
}

/* One duty cycle (stage.h). Returns work done. */
static int agent_do_work(void *arg)
{
	struct ig_driver_agent *a = arg;
	const struct ig_stage_ops *ops = a->ops;
	int work = 0;
	uint32_t pending = flush_all(a);

	if (ops->poll != NULL)
		work += ops->poll(a->self, ig_clock_mono_ns(), &a->emit);
	for (uint32_t i = 0; i < a->nin; i++)
		if (a->in[i].feedback)
			work += consume(a, &a->in[i]);
	if (pending == 0 && pending_all(a) == 0) {
		for (uint32_t i = 0; i < a->nin; i++)
			if (!a->in[i].feedback)
				work += consume(a, &a->in[i]);
		if (ops->source != NULL)
			work += produce(a);
	} else {
		a->stalls++;
	}
	if (ops->commit != NULL)
		work += ops->commit(a->self, ig_clock_mono_ns(), IG_COMMIT_CYCLE, &a->emit);
	notify_all(a);
	if (ops->done != NULL && ops->done(a->self) &&
	    !__atomic_load_n(&a->drv->done, __ATOMIC_RELAXED))
		__atomic_store_n(&a->drv->done, true, __ATOMIC_RELEASE);
	return work;
}

/* The re-check before parking: true if a duty cycle would find work.
 * While an outbox spills, a duty cycle runs only poll and the feedback
 * inputs (forward inputs and the source wait, agent_do_work), so only
 * they count then: a readable forward input or a stage saying "more to
 * produce" must not keep the thread spinning through the back-pressure,
 * taking a core from the stage it waits for; the spill-retry deadline
 * (agent_deadline) brings it back. */
static bool agent_has_work(void *arg)
{
	struct ig_driver_agent *a = arg;
	bool spilling = pending_all(a) > 0;

	if (a->ops->has_work != NULL && (!spilling || a->ops->poll != NULL) &&
	    a->ops->has_work(a->self))
		return true;
	for (uint32_t i = 0; i < a->nin; i++)
		if ((!spilling || a->in[i].feedback) && ig_ring_readable(a->in[i].ring))
			return true;
	return false;
}

static int64_t agent_deadline(void *arg)
{
	struct ig_driver_agent *a = arg;
	/* A spill first: the last event a source sends (the shutdown token)
	 * may wait in it, and nobody else wakes this thread to flush it. */
	if (pending_all(a) > 0)
		return ig_clock_mono_ns() + IG_DRIVER_SPILL_RETRY_NS;
	return a->ops->deadline_ns != NULL ? a->ops->deadline_ns(a->self) : INT64_MAX;
}

/* Creates the ring of edge e and wires its outbox and input. */
static int connect(struct ig_driver *d, const struct ig_graph_edge *e)
{
	struct ig_driver_agent *p = &d->agents[e->from], *c = &d->agents[e->to];
	const struct ig_graph_node *cn = &d->g.node[e->to];
	uint32_t size = d->g.ring_size;
	struct ig_ring *r;
	struct ig_outbox *ob;
	struct ig_input *in;
	int rc;

	if (d->nrings >= IG_GRAPH_MAX_EDGES || p->nbox >= IG_NODE_MAX_OUTBOXES ||
	    c->nin >= IG_NODE_MAX_INPUTS)
		return IG_ELIMIT;
	r = &d->rings[d->nrings];
	if ((rc = ig_ring_init(r, size, sizeof(struct ig_event))) != 0)
		return rc;
	d->nrings++;
	ob = &p->box[p->nbox];
	if ((rc = ig_outbox_init(ob, r, size * 4)) != 0)
		return rc;
	p->nbox++;
	p->route[cn->stage][cn->idx] = ob;
	in = &c->in[c->nin++];
	in->ring = r;
	in->feedback = e->feedback;
	ig_hist_init(&in->hop_ns);
	if (cn->indexed)
		snprintf(in->name, sizeof(in->name), "%s->%s%u", p->ops->name, c->ops->name,
			 (unsigned)cn->idx);
	else
		snprintf(in->name, sizeof(in->name), "%s->%s", p->ops->name, c->ops->name);
	return 0;
}

static size_t cache_round(size_t n)
{
	return (n + IG_CACHELINE - 1) / IG_CACHELINE * IG_CACHELINE;
}

static int build(struct ig_driver *d)
{
	const struct ig_graph *g = &d->g;
	size_t agents_sz = cache_round(g->nnodes * sizeof(struct ig_driver_agent));
	size_t threads_sz = cache_round(g->nthreads * sizeof(struct ig_agent_thread));
	int rc;

	/* nagents counts agents only once they exist and are zeroed:
	 * ig_driver_destroy walks that many, also after a failure here. */
	d->agents = aligned_alloc(IG_CACHELINE, agents_sz);
	d->threads = aligned_alloc(IG_CACHELINE, threads_sz);
	if (d->agents == NULL || d->threads == NULL)
		return IG_ENOMEM;
	memset(d->agents, 0, agents_sz);
	memset(d->threads, 0, threads_sz);
	d->nagents = g->nnodes;
	for (uint32_t t = 0; t < g->nthreads; t++) {
		ig_agent_thread_init(&d->threads[t], g->thread[t].name,
				     (enum ig_wait_kind)g->thread[t].wait, g->thread[t].cpu);
		d->threads[t].park_to_deadline = g->thread[t].park_to_deadline;
	}
	d->nthreads = g->nthreads;
	for (uint32_t i = 0; i < g->nnodes; i++) {
		struct ig_driver_agent *a = &d->agents[i];
		const struct ig_graph_node *n = &g->node[i];
		if (n->thread >= g->nthreads)
			return IG_EINVAL;
		a->emit.fn = threaded_emit;
		a->emit.src = n->stage;
		a->emit.stamp = true;
		a->drv = d;
		a->ops = n->ops;
		a->handle = n->ops->handle;
		a->self = n->self;
		a->node = i;
		a->thread = &d->threads[n->thread];
	}
	for (uint32_t e = 0; e < g->nedges; e++)
		if ((rc = connect(d, &g->edge[e])) != 0)
			return rc;
	/* Agents onto their threads, in node (pipeline) order; each outbox
	 * wakes the thread of the agent consuming its ring. */
	for (uint32_t i = 0; i < d->nagents; i++) {
		struct ig_agent ag;
		memset(&ag, 0, sizeof(ag));
		ag.name = d->agents[i].ops->name;
		ag.do_work = agent_do_work;
		ag.has_work = agent_has_work;
		ag.deadline_ns = agent_deadline;
		ag.self = &d->agents[i];
		if ((rc = ig_agent_thread_add(d->agents[i].thread, &ag)) != 0)
			return rc;
	}
	for (uint32_t i = 0; i < d->nagents; i++) {
		struct ig_driver_agent *p = &d->agents[i];
		for (uint32_t b = 0; b < p->nbox; b++)
			for (uint32_t c = 0; c < d->nagents; c++)
				for (uint32_t k = 0; k < d->agents[c].nin; k++)
					if (d->agents[c].in[k].ring == p->box[b].ring)
						p->box[b].waiter = &d->agents[c].thread->waiter;
	}
	return 0;
}

/* The node consuming ring r, -1 if none. */
static int consumer_of(const struct ig_driver *d, const struct ig_ring *r)
{
	for (uint32_t c = 0; c < d->nagents; c++)
		for (uint32_t i = 0; i < d->agents[c].nin; i++)
			if (d->agents[c].in[i].ring == r)
				return (int)c;
	return -1;
}

/* After join: everything left in rings and spills is handled inline. */
static void final_drain(struct ig_driver *d)
{
	bool any = true;
	uint64_t before = d->events;
	struct ig_event ev;

	while (any) {
		any = false;
		for (uint32_t a = 0; a < d->nagents; a++) {
			struct ig_driver_agent *p = &d->agents[a];
			for (uint32_t b = 0; b < p->nbox; b++) {
				struct ig_outbox *ob = &p->box[b];
				int c = consumer_of(d, ob->ring);
				while (ob->spill_tail != ob->spill_head) {
					const struct ig_event *sp =
						&ob->spill[ob->spill_tail++ & (ob->spill_cap - 1)];
					/* Spills are behind their ring: drain the ring first. */
					while (ig_ring_pop_ev(ob->ring, &ev))
						ig__driver_inline_emit(d, (uint32_t)c, &ev);
					any = true;
					ig__driver_inline_emit(d, (uint32_t)c, sp);
				}
			}
		}
		for (uint32_t c = 0; c < d->nagents; c++) {
			struct ig_driver_agent *a = &d->agents[c];
			for (uint32_t i = 0; i < a->nin; i++) {
				while (ig_ring_pop_ev(a->in[i].ring, &ev)) {
					ig__driver_inline_emit(d, c, &ev);
					any = true;
				}
			}
		}
		ig__driver_inline_drain(d);
	}
	d->drained_after_stop = d->events - before;
}

int ig_driver_run_threaded(struct ig_driver *d, const sigset_t *sigs,
			   void (*on_signal)(void *arg, int sig), void *arg)
{
	int rc = build(d);

	if (rc != 0)
		return rc;
	/* Agent threads never take these signals: the calling thread waits
	 * for them. */
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
	__atomic_store_n(&d->started, true, __ATOMIC_RELEASE);
	for (uint32_t t = 0; t < d->nthreads; t++) {
		if ((rc = ig_agent_thread_start(&d->threads[t])) != 0) {
			for (uint32_t u = 0; u < t; u++)
				ig_agent_thread_stop(&d->threads[u]);
			for (uint32_t u = 0; u < t; u++)
				ig_agent_thread_join(&d->threads[u]);
			return rc;
		}
	}
	while (!__atomic_load_n(&d->done, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		int sig = sigtimedwait(sigs, NULL, &ts);
		if (sig > 0 && on_signal != NULL)
			on_signal(arg, sig);
	}
	for (uint32_t t = 0; t < d->nthreads; t++)
		ig_agent_thread_stop(&d->threads[t]);
	for (uint32_t t = 0; t < d->nthreads; t++)
		ig_agent_thread_join(&d->threads[t]);
	for (uint32_t a = 0; a < d->nagents; a++) {
		for (uint32_t b = 0; b < d->agents[a].nbox; b++) {
			d->backpressure += d->agents[a].box[b].spilled;
			if (d->agents[a].box[b].spill_max > d->spill_max)
				d->spill_max = d->agents[a].box[b].spill_max;
		}
		for (uint32_t i = 0; i < d->agents[a].nin; i++)
			d->events += d->agents[a].in[i].events;
	}
	final_drain(d);
	return 0;
}

uint64_t ig_driver_backpressure_live(const struct ig_driver *d)
{
	uint64_t n = 0;

	/* The agents and their outboxes exist once `started` is published
	 * (as in ig_driver_wake) and until ig_driver_destroy. */
	if (!__atomic_load_n(&d->started, __ATOMIC_ACQUIRE))
		return 0;
	for (uint32_t a = 0; a < d->nagents; a++)
		for (uint32_t b = 0; b < d->agents[a].nbox; b++)
			n += __atomic_load_n(&d->agents[a].box[b].spilled, __ATOMIC_RELAXED);
	return n;
}

void ig_driver_wake(struct ig_driver *d, const void *self)
{
	/* The agents exist only once `started` is published (release, after
	 * build); before that the caller's flag alone is enough, since the
	 * stage reads it on its first duty cycle. */
	if (!__atomic_load_n(&d->started, __ATOMIC_ACQUIRE))
		return;
	for (uint32_t a = 0; a < d->nagents; a++)
		if (d->agents[a].self == self)
			ig_waiter_notify(&d->agents[a].thread->waiter);
}

int ig_driver_hops_json(const struct ig_driver *d, json_t *hops)
{
	for (uint32_t a = 0; a < d->nagents; a++)
		for (uint32_t i = 0; i < d->agents[a].nin; i++) {
			const struct ig_input *in = &d->agents[a].in[i];
			if (json_object_set_new(hops, in->name, ig_json_hist(&in->hop_ns)) != 0)
				return IG_ENOMEM;
		}
	return 0;
}

void ig_driver_destroy(struct ig_driver *d)
{
	for (uint32_t a = 0; a < d->nagents; a++)
		for (uint32_t b = 0; b < d->agents[a].nbox; b++)
			ig_outbox_destroy(&d->agents[a].box[b]);
	for (uint32_t r = 0; r < d->nrings; r++)
		ig_ring_destroy(&d->rings[r]);
	free(d->agents);
	free(d->threads);
	free(d->q);
	d->agents = NULL;
	d->threads = NULL;
	d->q = NULL;
	d->nagents = d->nrings = d->nthreads = 0;
}
