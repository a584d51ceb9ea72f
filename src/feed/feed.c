/* feed.c - feed lifecycle, pacing and the synthetic random walk. */
#include "feed/feed.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ig__feed_csv_open(struct ig_feed *f, const struct ig_cfg_feed *cfg, char *err, size_t errlen);

/* 2020-01-01T00:00:00Z: data time origin of the synthetic feed. */
#define SYNTH_T0_NS INT64_C(1577836800000000000)

int ig_feed_open(struct ig_feed *f, const struct ig_config *cfg, uint16_t instrument_id,
		 char *err, size_t errlen)
{
	const struct ig_cfg_feed *fc = &cfg->feed;
	int rc;

	memset(f, 0, sizeof(*f));
	f->source = fc->source;
	f->instrument_id = instrument_id;
	f->speed = fc->speed;
	switch (fc->source) {
	case IG_FEED_CSV:
		rc = ig__feed_csv_open(f, fc, err, errlen);
		if (rc != 0)
			return rc;
		f->rate = fc->rate;
		for (uint64_t i = 0; i < f->nevents; i++)
			f->events[i].hdr.instrument_id = instrument_id;
		return 0;
	case IG_FEED_SYNTHETIC:
		f->rng = fc->seed != 0 ? fc->seed : 0x9E3779B97F4A7C15u;
		f->mid_px = fc->start_px;
		f->tick_size = fc->tick_size > 0 ? fc->tick_size : 1;
		ig_fixed_bps(fc->start_px, fc->spread_bps, &f->half_spread);
		f->half_spread /= 2;
		if (f->half_spread < f->tick_size)
			f->half_spread = f->tick_size;
		f->qty = fc->qty;
		f->rate = fc->rate;
		f->count = (uint64_t)fc->count;
		f->speed = 0; /* paced by rate instead */
		return 0;
	case IG_FEED_LUNO: {
		struct ig_luno_feed_opts lo;
		f->luno = malloc(sizeof(*f->luno));
		if (f->luno == NULL)
			return IG_ENOMEM;
		ig_luno_feed_opts_from_config(&lo, cfg, instrument_id);
		rc = ig_luno_feed_open(f->luno, &lo, err, errlen);
		if (rc != 0) {
			free(f->luno);
			f->luno = NULL;
		}
		return rc;
	}
	default:
		snprintf(err, errlen, "feed.source: this source is not available in this build");
		return IG_ECONFIG;
	}
}

void ig_feed_close(struct ig_feed *f)
{
	free(f->events);
	f->events = NULL;
	if (f->luno != NULL) {
		ig_luno_feed_log_stats(f->luno);
		ig_luno_feed_close(f->luno);
		free(f->luno);
		f->luno = NULL;
	}
}

uint64_t ig_feed_size(const struct ig_feed *f)
{
	return f->source == IG_FEED_CSV ? f->nevents : f->count;
}

static uint64_t xorshift64s(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * UINT64_C(2685821657736338717);
}

static void synth_event(struct ig_feed *f, struct ig_event *ev)
{
	uint64_t r = xorshift64s(&f->rng);
	int64_t step = (int64_t)(r % 3) - 1; /* -1, 0, +1 ticks */
	int64_t mid;

	f->mid_px += step * f->tick_size;
	if (f->mid_px < 2 * f->half_spread + f->tick_size)
		f->mid_px = 2 * f->half_spread + f->tick_size;
	mid = f->mid_px - f->mid_px % f->tick_size;
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_QUOTE;
	ev->hdr.instrument_id = f->instrument_id;
	/* 1 ms of data time per event, or 1/rate s. */
	ev->hdr.ts_event_ns = SYNTH_T0_NS + (int64_t)f->pos * (f->rate > 0 ? 1000000000 / f->rate : 1000000);
	ev->body.quote.bid_px = mid - f->half_spread;
	ev->body.quote.ask_px = mid + f->half_spread;
	ev->body.quote.bid_qty = f->qty;
	ev->body.quote.ask_qty = f->qty;
}

/* Pacing at f->rate events per second from the first event: true if event
 * f->pos is due at now_ns, else false with *due_ns set. */
static bool rate_due(struct ig_feed *f, int64_t now_ns, int64_t *due_ns)
{
	int64_t due;
	if (f->pos == 0) {
		f->t0_wall_ns = now_ns;
		return true;
	}
	due = f->t0_wall_ns + (int64_t)((ig_i128)f->pos * 1000000000 / f->rate);
	if (due > now_ns) {
		*due_ns = due;
		return false;
	}
	return true;
}

int ig_feed_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	if (f->source == IG_FEED_LUNO)
		return ig_luno_feed_next(f->luno, now_ns, ev, due_ns);
	if (f->source == IG_FEED_CSV) {
		const struct ig_event *src;
		if (f->pos >= f->nevents)
			return IG_EEOF;
		src = &f->events[f->pos];
		if (f->speed == 0 && f->rate > 0) {
			/* Fixed event rate, whatever the data's timestamps. */
			if (!rate_due(f, now_ns, due_ns))
				return 0;
		} else if (f->speed > 0) {
			if (f->pos == 0) {
				f->t0_data_ns = src->hdr.ts_event_ns;
				f->t0_wall_ns = now_ns;
			} else {
				int64_t due = f->t0_wall_ns + (src->hdr.ts_event_ns - f->t0_data_ns) / f->speed;
				if (due > now_ns) {
					*due_ns = due;
					return 0;
				}
			}
		}
		*ev = *src;
		f->pos++;
		return 1;
	}
	/* synthetic */
	if (f->count != 0 && f->pos >= f->count)
		return IG_EEOF;
	if (f->rate > 0 && !rate_due(f, now_ns, due_ns))
		return 0;
	synth_event(f, ev);
	f->pos++;
	return 1;
}
