/* synthetic.c - the seeded random-walk feed source (feed.source: synthetic). */
#include "feed/feed.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2020-01-01T00:00:00Z: data time origin of the synthetic feed. */
#define SYNTH_T0_NS INT64_C(1577836800000000000)

/* The walk's state. Owner: the tick thread. */
struct synth {
	uint64_t rng;            /* xorshift64* state */
	int64_t mid_px;          /* 1e-8 */
	int64_t tick_size;       /* 1e-8 */
	int64_t half_spread;     /* 1e-8 */
	int64_t qty;             /* 1e-8 */
	uint64_t count;          /* 0 = unbounded */
};

static uint64_t xorshift64s(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

/* Sets up the walk from feed.* (the venue plays no part). Returns 0 or
 * IG_ENOMEM. */
static int synth_open(struct ig_feed *f, const struct ig_config *cfg,
		      const struct ig_venue_type *vt, void *venue_ctx, char *err, size_t errlen)
{
	const struct ig_cfg_feed *fc = &cfg->feed;
	struct synth *s = calloc(1, sizeof(*s));

	(void)vt;
	(void)venue_ctx;
	if (s == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	s->rng = fc->seed != 0 ? fc->seed : 0x9E3779B97F4A7C15u;
	s->mid_px = fc->start_px;
	s->tick_size = fc->tick_size > 0 ? fc->tick_size : 1;
	ig_fixed_bps(fc->start_px, fc->spread_bps, &s->half_spread);
	s->half_spread /= 2;
	if (s->half_spread < s->tick_size)
		s->half_spread = s->tick_size;
	s->qty = fc->qty;
	s->count = (uint64_t)fc->count;
	f->speed = 0; /* paced by rate instead */
	f->src = s;
	return 0;
}

static void synth_event(struct ig_feed *f, struct synth *s, struct ig_event *ev)
{
	uint64_t r = xorshift64s(&s->rng);
	int64_t step = (int64_t)(r % 3) - 1; /* -1, 0, +1 ticks */
	int64_t mid;

	s->mid_px += step * s->tick_size;
	if (s->mid_px < 2 * s->half_spread + s->tick_size)
		s->mid_px = 2 * s->half_spread + s->tick_size;
	mid = s->mid_px - s->mid_px % s->tick_size;
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_QUOTE;
	ev->hdr.instrument_id = f->instrument_id;
	/* 1 ms of data time per event, or 1/rate s. */
	ev->hdr.ts_event_ns = SYNTH_T0_NS + (int64_t)f->pos * (f->rate > 0 ? 1000000000 / f->rate : 1000000);
	ev->body.quote.bid_px = mid - s->half_spread;
	ev->body.quote.ask_px = mid + s->half_spread;
	ev->body.quote.bid_qty = s->qty;
	ev->body.quote.ask_qty = s->qty;
}

static int synth_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	struct synth *s = f->src;

	if (s->count != 0 && f->pos >= s->count)
		return IG_EEOF;
	if (f->rate > 0 && !ig__feed_rate_due(f, now_ns, due_ns))
		return 0;
	synth_event(f, s, ev);
	f->pos++;
	return 1;
}

static uint64_t synth_size(const struct ig_feed *f)
{
	const struct synth *s = f->src;
	return s->count;
}

static void synth_close(void *src)
{
	free(src);
}

static const struct ig_feed_ops synth_ops = {
	.next = synth_next,
	.size = synth_size,
	.close = synth_close,
};

const struct ig_feed_type ig_synthetic_feed_type = {
	.name = "synthetic",
	.live = false,
	.needs_path = false,
	.open = synth_open,
	.ops = &synth_ops,
};
