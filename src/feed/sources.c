/* sources.c - the feed-source registry (see feed.h): every source of the
 * build. */
#include "feed/feed.h"

#include <string.h>

extern const struct ig_feed_type ig_csv_feed_type;
extern const struct ig_feed_type ig_synthetic_feed_type;
extern const struct ig_feed_type ig_luno_feed_type;

/* Append only: feed.source holds an entry's index. */
static const struct ig_feed_type *const registry[] = {
	[IG_FEED_CSV] = &ig_csv_feed_type,
	[IG_FEED_SYNTHETIC] = &ig_synthetic_feed_type,
	[IG_FEED_LUNO] = &ig_luno_feed_type,
};

#define NSOURCES ((int)(sizeof(registry) / sizeof(registry[0])))

const struct ig_feed_type *ig_feed_type_at(int i)
{
	return i >= 0 && i < NSOURCES ? registry[i] : NULL;
}

const char *ig_feed_name_at(int i)
{
	const struct ig_feed_type *t = ig_feed_type_at(i);
	return t != NULL ? t->name : NULL;
}

int ig_feed_index(const char *name)
{
	for (int i = 0; name != NULL && i < NSOURCES; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return i;
	return -1;
}

const struct ig_feed_type *ig_feed_find(const char *name)
{
	return ig_feed_type_at(ig_feed_index(name));
}
