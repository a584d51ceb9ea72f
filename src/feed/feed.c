/* feed.c - feed lifecycle and pacing over the source registry (feed.h). */
#include "feed/feed.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

int ig_feed_stats_json(const struct ig_feed *f, struct json_t *feed)
{
	if (f->type == NULL || f->src == NULL || f->type->ops->stats_json == NULL)
		return 0;
	return f->type->ops->stats_json(f->src, feed);
}

void ig_feed_halt(struct ig_feed *f)
{
	if (f->type != NULL && f->src != NULL && f->type->ops->halt != NULL)
		f->type->ops->halt(f->src);
}

void ig_feed_set_wake(struct ig_feed *f, void (*fn)(void *arg), void *arg)
{
	if (f->type != NULL && f->src != NULL && f->type->ops->set_wake != NULL)
		f->type->ops->set_wake(f->src, fn, arg);
}

bool ig_feed_has_work(const struct ig_feed *f)
{
	return f->type != NULL && f->src != NULL && f->type->ops->has_work != NULL &&
	       f->type->ops->has_work(f->src);
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

bool ig__feed_replay_due(struct ig_feed *f, int64_t ts_ns, int64_t now_ns, int64_t *due_ns)
{
	if (f->speed == 0 && f->rate > 0)
		/* Fixed event rate, whatever the data's timestamps. */
		return ig__feed_rate_due(f, now_ns, due_ns);
	if (f->speed > 0) {
		if (f->pos == 0) {
			f->t0_data_ns = ts_ns;
			f->t0_wall_ns = now_ns;
		} else {
			int64_t due = f->t0_wall_ns + (ts_ns - f->t0_data_ns) / f->speed;
			if (due > now_ns) {
				*due_ns = due;
				return false;
			}
		}
	}
	return true;
}

/* Adds symbol to names[0..*n) unless there. Returns 0, or -1 when full. */
static int add_symbol(char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX], int *n, const char *symbol)
{
	for (int i = 0; i < *n; i++)
		if (strcmp(names[i], symbol) == 0)
			return 0;
	if (*n >= IG_MAX_INSTRUMENTS)
		return -1;
	snprintf(names[*n], IG_CFG_NAME_MAX, "%s", symbol);
	(*n)++;
	return 0;
}

int ig_feed_symbols(const struct ig_config *cfg, char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX])
{
	const struct ig_cfg_feed *fc = &cfg->feed;
	int n = 0;

	if (fc->source == IG_FEED_LUNO && fc->nsymbols > 0) {
		/* Luno's pairs: feed.symbols replaces feed.symbol. */
		for (uint32_t i = 0; i < fc->nsymbols; i++)
			if (add_symbol(names, &n, fc->symbols[i]) != 0)
				return -1;
		return n;
	}
	if (fc->source != IG_FEED_CSV) {
		snprintf(names[0], IG_CFG_NAME_MAX, "%s", fc->symbol);
		return 1;
	}
	for (uint32_t i = 0; i < fc->nsymbols; i++)
		if (add_symbol(names, &n, fc->symbols[i]) != 0)
			return -1;
	if (fc->nfiles > 0) {
		for (uint32_t i = 0; i < fc->nfiles; i++)
			if (fc->files[i].symbol[0] != '\0' &&
			    add_symbol(names, &n, fc->files[i].symbol) != 0)
				return -1;
	} else if (fc->nsymbols == 0) {
		add_symbol(names, &n, fc->symbol);
	}
	return n;
}

/* ------------------------------------------------------------ preloaded */

/* A feed over preloaded data: the window [lo, hi) of its events. */
struct data_src {
	const struct ig_feed_data *data;
	uint64_t lo;
	uint64_t hi;
};

/* Pacing of a preloaded feed, kept out of line so the unpaced replay (a
 * backtest) stays a copy and a counter. Returns whether the event at
 * ts_ns is due (else *due_ns says when). */
__attribute__((noinline)) static bool data_due(struct ig_feed *f, int64_t ts_ns, int64_t now_ns,
					       int64_t *due_ns)
{
	return ig__feed_replay_due(f, ts_ns, now_ns, due_ns);
}

static int data_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	const struct data_src *d = f->src;
	uint64_t i = d->lo + f->pos;
	const struct ig_event *src;

	if (i >= d->hi)
		return IG_EEOF;
	src = &d->data->events[i];
	if ((f->speed | f->rate) != 0 && !data_due(f, src->hdr.ts_event_ns, now_ns, due_ns))
		return 0;
	*ev = *src;
	f->pos++;
	return 1;
}

static uint64_t data_size(const struct ig_feed *f)
{
	const struct data_src *d = f->src;
	return d->hi - d->lo;
}

static void data_close(void *src)
{
	free(src);
}

static const struct ig_feed_ops data_ops = {
	.next = data_next,
	.size = data_size,
	.close = data_close,
};

/* Not in the registry: feeds over preloaded data are opened by
 * ig_feed_open_data. */
static const struct ig_feed_type data_feed_type = {
	.name = "preloaded",
	.live = false,
	.needs_path = false,
	.open = NULL,
	.ops = &data_ops,
};

/* The first index in data whose time is >= ts_ns (events are in time
 * order). */
static uint64_t lower_bound(const struct ig_feed_data *data, int64_t ts_ns)
{
	uint64_t lo = 0, hi = data->nevents;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (data->events[mid].hdr.ts_event_ns < ts_ns)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int ig_feed_preload(const struct ig_config *cfg, struct ig_feed_data **out, char *err,
		    size_t errlen)
{
	const struct ig_feed_type *t = ig_feed_type_at(cfg->feed.source);
	struct ig_config *all = NULL;
	struct ig_feed_data *d = NULL;
	struct ig_feed f;
	struct ig_event ev;
	int64_t due;
	int rc, n;

	*out = NULL;
	if (t == NULL || t->live) {
		snprintf(err, errlen, "feed.source: only a replayed source can be preloaded");
		return IG_ECONFIG;
	}
	/* The whole feed: the window belongs to each run. */
	all = malloc(sizeof(*all));
	d = calloc(1, sizeof(*d));
	if (all == NULL || d == NULL) {
		free(all);
		free(d);
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	*all = *cfg;
	all->feed.from_ns = IG_CFG_FROM_UNSET;
	all->feed.to_ns = IG_CFG_TO_UNSET;
	all->feed.speed = 0;
	all->feed.rate = 0;
	n = ig_feed_symbols(all, d->symbols);
	rc = n < 0 ? IG_ECONFIG : ig_feed_open(&f, all, 0, NULL, NULL, err, errlen);
	if (n < 0)
		snprintf(err, errlen, "feed.symbols: more than %d symbols", IG_MAX_INSTRUMENTS);
	free(all);
	if (rc != 0) {
		free(d);
		return rc;
	}
	d->nsymbols = (uint32_t)n;
	d->nevents = ig_feed_size(&f);
	if (d->nevents == 0 && cfg->feed.source != IG_FEED_CSV) {
		ig_feed_close(&f);
		free(d);
		snprintf(err, errlen, "feed: an unbounded source cannot be preloaded (set feed.count)");
		return IG_ECONFIG;
	}
	d->events = aligned_alloc(IG_CACHELINE, (d->nevents + 1) * sizeof(struct ig_event));
	if (d->events == NULL) {
		ig_feed_close(&f);
		free(d);
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	for (uint64_t i = 0; i < d->nevents && ig_feed_next(&f, 0, &ev, &due) == 1; i++)
		d->events[i] = ev;
	d->rows = ig_feed_rows(&f);
	d->bad_rows = ig_feed_bad_rows(&f);
	ig_feed_close(&f);
	*out = d;
	return 0;
}

void ig_feed_data_free(struct ig_feed_data *data)
{
	if (data == NULL)
		return;
	free(data->events);
	free(data);
}

int ig_feed_open_data(struct ig_feed *f, const struct ig_config *cfg,
		      const struct ig_feed_data *data, char *err, size_t errlen)
{
	char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	int n = ig_feed_symbols(cfg, names);
	struct data_src *d;

	memset(f, 0, sizeof(*f));
	if (n != (int)data->nsymbols) {
		snprintf(err, errlen, "feed: the preloaded data carries %u symbols, this config's "
			 "feed declares %d", data->nsymbols, n);
		return IG_ECONFIG;
	}
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], data->symbols[i]) != 0) {
			snprintf(err, errlen, "feed: the preloaded data's symbol %d is \"%s\", this "
				 "config's feed declares \"%s\"", i, data->symbols[i], names[i]);
			return IG_ECONFIG;
		}
	d = malloc(sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	d->data = data;
	d->lo = lower_bound(data, cfg->feed.from_ns);
	d->hi = cfg->feed.to_ns == IG_CFG_TO_UNSET ? data->nevents
						   : lower_bound(data, cfg->feed.to_ns);
	if (d->hi < d->lo)
		d->hi = d->lo;
	f->instrument_id = 0;
	ig_feed_set_pace(f, cfg->feed.speed, cfg->feed.rate);
	f->rows = data->rows;
	f->bad_rows = data->bad_rows;
	f->src = d;
	f->type = &data_feed_type;
	return 0;
}
