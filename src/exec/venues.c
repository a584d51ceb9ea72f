/* venues.c - the venue registry (see venue.h): every venue of the build. */
#include "exec/venue.h"

#include <string.h>

extern const struct ig_venue_type ig_paper_venue_type;
extern const struct ig_venue_type ig_luno_venue_type;

/* Append only: an entry's index is its number in the journal's account
 * identity (venue.h). */
static const struct ig_venue_type *const registry[] = {
	[IG_VENUE_PAPER] = &ig_paper_venue_type,
	[IG_VENUE_LUNO] = &ig_luno_venue_type,
};

#define NVENUES ((int)(sizeof(registry) / sizeof(registry[0])))

const struct ig_venue_type *ig_venue_at(int i)
{
	return i >= 0 && i < NVENUES ? registry[i] : NULL;
}

const char *ig_venue_name_at(int i)
{
	const struct ig_venue_type *t = ig_venue_at(i);
	return t != NULL ? t->name : NULL;
}

int ig_venue_index(const char *name)
{
	for (int i = 0; name != NULL && i < NVENUES; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return i;
	return -1;
}

const struct ig_venue_type *ig_venue_find(const char *name)
{
	return ig_venue_at(ig_venue_index(name));
}

bool ig_venue_is_live(const struct ig_config *cfg)
{
	const struct ig_venue_type *t = ig_venue_at(cfg->venue.kind);
	return t != NULL && t->live;
}

void ig_venue_reject(const struct ig_event *order, int reason, bool by_venue, struct ig_emit *out)
{
	struct ig_event ev;

	ig_event_reply_init(&ev, order, IG_EV_REJECT);
	ev.body.reject.client_id = order->body.order.client_id;
	ev.body.reject.px = order->body.order.px;
	ev.body.reject.qty = order->body.order.qty;
	ev.body.reject.side = order->body.order.side;
	ev.body.reject.reason = (uint16_t)reason;
	ev.body.reject.by_venue = by_venue ? 1 : 0;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}
