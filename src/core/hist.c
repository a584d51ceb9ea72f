/* hist.c - quantiles and merging for the log-linear histogram (hist.h). */
#include "core/hist.h"

#include <string.h>

void ig_hist_init(struct ig_hist *h)
{
	memset(h, 0, sizeof(*h));
}

int64_t ig_hist_bucket_high(uint32_t i)
{
	uint32_t band = i / IG_HIST_SUB, sub = i % IG_HIST_SUB;
	uint32_t e;
	uint64_t lo, width;

	if (band == 0)
		return (int64_t)i;
	e = band + IG_HIST_SUB_BITS - 1u;
	width = (uint64_t)1 << (e - IG_HIST_SUB_BITS);
	lo = ((uint64_t)1 << e) + (uint64_t)sub * width;
	return (int64_t)(lo + width - 1);
}

int64_t ig_hist_quantile(const struct ig_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0 || q != q) /* empty, or q is NaN */
		return 0;
	if (q <= 0.0)
		return h->min;
	if (q >= 1.0)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (uint32_t i = 0; i < IG_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen > rank) {
			int64_t v = ig_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

void ig_hist_merge(struct ig_hist *dst, const struct ig_hist *src)
{
	if (src->count == 0)
		return;
	for (uint32_t i = 0; i < IG_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	if (__builtin_add_overflow(dst->sum, src->sum, &dst->sum))
		dst->sum = INT64_MAX;
}
