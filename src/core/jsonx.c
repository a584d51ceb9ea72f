/* jsonx.c - summary JSON value shapes (see jsonx.h). */
#include "core/jsonx.h"

#include "ingenium/fixed.h"

#include <stdio.h>

json_t *ig_json_money(int64_t v)
{
	char buf[IG_FIXED_STRLEN];
	ig_fixed_format(v, buf, sizeof(buf));
	return json_string(buf);
}

json_t *ig_json_hist(const struct ig_hist *h)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)h->count, "p50",
			 (json_int_t)ig_hist_quantile(h, 0.50), "p90",
			 (json_int_t)ig_hist_quantile(h, 0.90), "p99",
			 (json_int_t)ig_hist_quantile(h, 0.99), "p999",
			 (json_int_t)ig_hist_quantile(h, 0.999), "max", (json_int_t)h->max);
}

json_t *ig_json_hist_buckets(const struct ig_hist *h)
{
	json_t *o = ig_json_hist(h), *b = json_array();

	if (o == NULL || b == NULL || json_object_set_new(o, "buckets", b) != 0) {
		json_decref(o);
		return NULL;
	}
	for (uint32_t i = 0; i < IG_HIST_BUCKETS; i++) {
		int64_t up;
		if (h->buckets[i] == 0)
			continue;
		/* The bucket's upper edge, clamped to the largest value seen
		 * (as the quantiles are). */
		up = ig_hist_bucket_high(i);
		if (up > h->max)
			up = h->max;
		if (json_array_append_new(b, json_pack("[I, I]", (json_int_t)up,
						       (json_int_t)h->buckets[i])) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *ig_json_hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_string(buf);
}
