/* feed.c - feed lifecycle and pacing over the source registry (feed.h). */
#include "feed/feed.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int ig_feed_open(struct ig_feed *f, const struct ig_config *cfg, uint16_t instrument_id,
		 const struct ig_venue_type *vt, void *venue_ctx, char *err, size_t errlen)
{
	const struct ig_feed_type *t = ig_feed_type_at(cfg->feed.source);
	int rc;

	memset(f, 0, sizeof(*f));
	if (t == NULL) {
		snprintf(err, errlen, "feed.source: this source is not available in this build");
		return IG_ECONFIG;
	}
	f->instrument_id = instrument_id;
	ig_feed_set_pace(f, cfg->feed.speed, cfg->feed.rate);
	rc = t->open(f, cfg, vt, venue_ctx, err, errlen);
	if (rc != 0) {
		f->src = NULL;
		return rc;
	}
	f->type = t;
	return 0;
}

void ig_feed_close(struct ig_feed *f)
{
	if (f->type == NULL || f->src == NULL)
		return;
	if (f->type->ops->log_stats != NULL)
		f->type->ops->log_stats(f->src);
	f->type->ops->close(f->src);
	f->src = NULL;
}

uint64_t ig_feed_size(const struct ig_feed *f)
{
	if (f->type == NULL || f->type->ops->size == NULL)
		return 0;
	return f->type->ops->size(f);
}

void ig_feed_set_pace(struct ig_feed *f, int64_t speed, int64_t rate)
{
	f->speed = speed;
	f->rate = rate;
}

uint64_t ig_feed_rows(const struct ig_feed *f)
{
	return f->rows;
}

uint64_t ig_feed_bad_rows(const struct ig_feed *f)
{
	return f->bad_rows;
}

bool ig__feed_rate_due(struct ig_feed *f, int64_t now_ns, int64_t *due_ns)
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
	if (f->type == NULL || f->src == NULL)
		return IG_EEOF;
	return f->type->ops->next(f, now_ns, ev, due_ns);
}
