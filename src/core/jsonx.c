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

json_t *ig_json_hex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_string(buf);
}
