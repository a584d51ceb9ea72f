/* tick.c - the tick stage: feed, heartbeats, routing, shutdown token (see
 * tick.h). */
#include "tick/tick.h"

#include "core/clock.h"
#include "ingenium/error.h"

#include <string.h>

void ig_tick_init(struct ig_tick *t, struct ig_feed *feed, const struct ig_tick_routes *routes,
		  int64_t heartbeat_ms, bool data_clock)
{
	memset(t, 0, sizeof(*t));
	t->feed = feed;
	t->routes = *routes;
	t->hb_ns = heartbeat_ms * 1000000;
	t->data_clock = data_clock;
	t->due_ns = INT64_MAX;
	t->thread_mask = (uint32_t)((1ull << routes->nthreads) - 1);
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		uint32_t mask = routes->md_mask[k] & t->thread_mask;
		struct ig_emit_dest *then = routes->md_to_exec ? t->md_then[k] : t->md_first[k];
		uint8_t *nthen = routes->md_to_exec ? &t->md_nthen[k] : &t->md_nfirst[k];
		if (routes->md_to_exec) {
			t->md_first[k][t->md_nfirst[k]++] =
				(struct ig_emit_dest){ IG_STAGE_OMS, 0 };
			t->md_first[k][t->md_nfirst[k]++] =
				(struct ig_emit_dest){ IG_STAGE_EXEC, 0 };
		}
		while (mask != 0) {
			uint32_t s = (uint32_t)__builtin_ctz(mask);
			mask &= mask - 1;
			then[(*nthen)++] = (struct ig_emit_dest){ IG_STAGE_STRATEGY, (uint8_t)s };
		}
		if (!routes->md_to_exec)
			t->md_first[k][t->md_nfirst[k]++] = (struct ig_emit_dest){ IG_STAGE_OMS, 0 };
	}
	if (data_clock) {
		/* Deterministic: data time drives timers; nothing reads the
		 * clock except latency measurement, which no result depends
		 * on. So the feed is not paced either. */
		ig_feed_set_pace(feed, 0, 0);
	}
}

void ig_tick_set_measure(struct ig_tick *t, bool on)
{
	t->measure = on;
}

uint64_t ig_tick_md_events(const struct ig_tick *t)
{
	return t->md_events;
}

void ig_tick_request_stop(struct ig_tick *t)
{
	__atomic_store_n(&t->stop_requested, true, __ATOMIC_RELEASE);
}

/* Where route() sends an event: the strategy threads, the rest (OMS and
 * executor), or both. */
#define TO_STRATEGIES 1u
#define TO_BOOKS 2u

/* Routes one market-data, timer or control event to the parts `to` names. */
static void route_to(const struct ig_tick *t, struct ig_event *ev, unsigned to, struct ig_emit *out)
{
	const struct ig_tick_routes *r = &t->routes;
	uint16_t k = ev->hdr.instrument_id;
	bool sent = false;
	/* Timers go only where something uses them: threads with an on_timer
	 * strategy, and the OMS when it prints status lines. */
	uint32_t mask = ev->hdr.type == IG_EV_CONTROL ? (uint32_t)((1ull << r->nthreads) - 1)
			: ev->hdr.type == IG_EV_TIMER ? r->timer_mask
			: (k < IG_MAX_INSTRUMENTS ? r->md_mask[k] : 0);

	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	/* The first destination gets ig_emit, the others the same event,
	 * unchanged: ig_emit_same (the inline driver stores it once). */
#define ROUTE_TO(dst, idx)                                  \
	do {                                                \
		if (sent)                                   \
			ig_emit_same(out, (dst), (idx), ev); \
		else                                        \
			ig_emit(out, (dst), (idx), ev);      \
		sent = true;                                \
	} while (0)
	if (to & TO_STRATEGIES)
		for (uint32_t s = 0; s < r->nthreads; s++)
			if (mask & (1u << s))
				ROUTE_TO(IG_STAGE_STRATEGY, s);
	if (!(to & TO_BOOKS))
		return;
	if (ev->hdr.type != IG_EV_TIMER || r->timers_to_oms)
		ROUTE_TO(IG_STAGE_OMS, 0);
	if (ev->hdr.type != IG_EV_TIMER && ev->hdr.type != IG_EV_CONTROL && r->md_to_exec)
		ROUTE_TO(IG_STAGE_EXEC, 0);
#undef ROUTE_TO
}

static void route(const struct ig_tick *t, struct ig_event *ev, struct ig_emit *out)
{
	route_to(t, ev, TO_STRATEGIES | TO_BOOKS, out);
}

static void make_timer(struct ig_event *ev, int64_t now_ns, uint64_t count, int64_t data_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_TIMER;
	ev->hdr.ts_origin_ns = now_ns;
	ev->hdr.ts_event_ns = data_ns;
	ev->body.timer.now_ns = now_ns;
	ev->body.timer.count = count;
}

/* End of the feed, or stop requested: start the shutdown token. */
static int feed_end(struct ig_tick *t, struct ig_emit *out)
{
	struct ig_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = (uint16_t)IG_CTL_FEED_END;
	route(t, &ev, out);
	t->feed_done = true;
	return 1;
}

/* Inline: data time drives the heartbeat; any source that is not ready is
 * at its end. Returns events produced. */
static int source_data_clock(struct ig_tick *t, struct ig_emit *out)
{
	struct ig_event *ev = &t->cur;
	int64_t due;
	int work = 0;

	/* t->cur stays as it is until the next call: it goes out by
	 * reference, and the driver has handled every item by then. */
	if (__atomic_load_n(&t->stop_requested, __ATOMIC_ACQUIRE) ||
	    ig_feed_next(t->feed, 0, ev, &due) != 1)
		return feed_end(t, out);
	ev->hdr.ts_origin_ns = t->measure ? ig_clock_mono_ns() : 0;
	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	t->md_events++;
	if (t->hb_ns > 0 && ev->hdr.ts_event_ns >= t->next_hb_ns) {
		if (t->next_hb_ns != 0) {
			++t->hb_count;
			/* Built only when someone takes it: route() would send
			 * it nowhere (data time between rows of minute data
			 * passes a 1 s heartbeat at every row). */
			if (t->routes.timer_mask != 0 || t->routes.timers_to_oms) {
				struct ig_event tm;
				make_timer(&tm, ev->hdr.ts_origin_ns, t->hb_count,
					   ev->hdr.ts_event_ns);
				route(t, &tm, out);
				work++;
			}
		}
		t->next_hb_ns = ev->hdr.ts_event_ns + t->hb_ns;
	}
	{
		uint16_t k = ev->hdr.instrument_id;
		if (k >= IG_MAX_INSTRUMENTS) {
			/* No strategy takes it: the OMS (and the venue) only. */
			ig_emit_ref(out, IG_STAGE_OMS, 0, ev);
			if (t->routes.md_to_exec)
				ig_emit_ref(out, IG_STAGE_EXEC, 0, ev);
			return work + 1;
		}
		/* With the venue: two phases, first the OMS and the venue
		 * (the venue fills what waits for this bar's open, the OMS
		 * marks and triggers stops), and the driver hands that
		 * through the whole pipeline (the barrier); then the
		 * strategies: a strategy hears of its fills before the market
		 * data that caused them. Without: the strategies, then the
		 * OMS (md_first holds them in that order). */
		ig_emit_ref_list(out, t->md_first[k], t->md_nfirst[k], ev);
		if (t->md_nthen[k] != 0) {
			ig_emit_barrier(out);
			ig_emit_ref_list(out, t->md_then[k], t->md_nthen[k], ev);
		}
		return work + 1;
	}
}

/* The threaded tick (monotonic clock, paced feed): the heartbeat if due,
 * then the next feed event. Returns events produced. */
static int source_paced(struct ig_tick *t, int64_t now_ns, struct ig_emit *out)
{
	struct ig_event ev;
	int work = 0, rc;

	if (t->hb_ns > 0 && now_ns >= t->next_hb_ns) {
		if (t->next_hb_ns != 0) {
			make_timer(&ev, now_ns, ++t->hb_count, 0);
			route(t, &ev, out);
			work++;
		}
		t->next_hb_ns = now_ns + t->hb_ns;
	}
	t->due_ns = INT64_MAX;
	if (__atomic_load_n(&t->stop_requested, __ATOMIC_ACQUIRE))
		rc = IG_EEOF;
	else
		rc = ig_feed_next(t->feed, now_ns, &ev, &t->due_ns);
	if (rc == 1) {
		ev.hdr.ts_origin_ns = ig_clock_mono_ns();
		t->md_events++;
		route(t, &ev, out);
		return work + 1;
	}
	if (rc == 0)
		return work;
	return work + feed_end(t, out);
}

/* stage.h source: the heartbeat if due, then the next feed event. Returns
 * events produced. */
static int tick_source(void *self, int64_t now_ns, struct ig_emit *out)
{
	struct ig_tick *t = self;

	if (t->feed_done)
		return 0;
	if (t->data_clock)
		return source_data_clock(t, out);
	return source_paced(t, now_ns, out);
}

static bool tick_has_work(void *self)
{
	struct ig_tick *t = self;
	if (t->feed_done)
		return false;
	return __atomic_load_n(&t->stop_requested, __ATOMIC_ACQUIRE) || ig_feed_has_work(t->feed);
}

static int64_t tick_deadline(void *self)
{
	struct ig_tick *t = self;
	int64_t d = t->due_ns;
	if (t->feed_done)
		return INT64_MAX;
	if (t->hb_ns > 0 && t->next_hb_ns < d)
		d = t->next_hb_ns;
	return d;
}

/* Never called: the tick has no inputs. */
static void tick_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	(void)self;
	(void)ev;
	(void)out;
}

static int tick_stats(const void *self, json_t *root)
{
	const struct ig_tick *t = self;
	json_t *feed = json_pack("{s:I, s:I}", "rows", (json_int_t)ig_feed_rows(t->feed), "bad_rows",
				 (json_int_t)ig_feed_bad_rows(t->feed));

	/* The source's own counters (the Luno stream's resyncs), if any. */
	if (feed == NULL || ig_feed_stats_json(t->feed, feed) != 0) {
		json_decref(feed);
		return IG_ENOMEM;
	}
	return json_object_set_new(root, "feed", feed) == 0 ? 0 : IG_ENOMEM;
}

const struct ig_stage_ops ig_tick_ops = {
	.name = "tick",
	.handle = tick_handle,
	.source = tick_source,
	.deadline_ns = tick_deadline,
	.has_work = tick_has_work,
	.stats = tick_stats,
};
