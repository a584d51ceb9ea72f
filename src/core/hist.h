/*
 * hist.h - log-linear latency histogram (HDR-style), constant memory.
 *
 * Design
 * ------
 * Values are non-negative int64 nanoseconds. Values below 2^IG_HIST_SUB_BITS
 * get one bucket each (exact). Above, each power-of-two range [2^e, 2^(e+1))
 * is split into 2^IG_HIST_SUB_BITS equal sub-buckets, so the relative error
 * of any reported quantile is below 2^-IG_HIST_SUB_BITS (about 1.6% with 6
 * bits). The counts live inline in the struct (about 30 KiB): recording is
 * a clz, a shift and an increment, with no allocation, so it is safe on the
 * hot path. min, max, count and sum are exact.
 *
 * Owner: the thread that records. Others read it only after that thread
 * is joined (or merge a copy).
 */
#ifndef IG_CORE_HIST_H
#define IG_CORE_HIST_H

#include <stdint.h>

#define IG_HIST_SUB_BITS 6
#define IG_HIST_SUB (1u << IG_HIST_SUB_BITS)
#define IG_HIST_BUCKETS ((64u - IG_HIST_SUB_BITS + 1u) * IG_HIST_SUB)

struct ig_hist {
	uint64_t count;
	int64_t min;
	int64_t max;
	int64_t sum;     /* saturates at INT64_MAX */
	uint64_t buckets[IG_HIST_BUCKETS];
};

void ig_hist_init(struct ig_hist *h);

static inline uint32_t ig__hist_index(uint64_t v)
{
	uint32_t e, sub;
	if (v < IG_HIST_SUB)
		return (uint32_t)v;
	e = 63u - (uint32_t)__builtin_clzll(v); /* v in [2^e, 2^(e+1)) */
	sub = (uint32_t)(v >> (e - IG_HIST_SUB_BITS)) & (IG_HIST_SUB - 1u);
	return (e - IG_HIST_SUB_BITS + 1u) * IG_HIST_SUB + sub;
}

/* Records one value; negative values count as 0. Hot path safe. */
static inline void ig_hist_record(struct ig_hist *h, int64_t v)
{
	if (v < 0)
		v = 0;
	h->buckets[ig__hist_index((uint64_t)v)]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	if (__builtin_add_overflow(h->sum, v, &h->sum))
		h->sum = INT64_MAX;
}

/* Returns the value at quantile q in [0, 1] (the upper edge of the bucket
 * holding it, clamped to max), or 0 when empty. */
int64_t ig_hist_quantile(const struct ig_hist *h, double q);

/* Returns the upper edge (inclusive) of bucket i, ns. */
int64_t ig_hist_bucket_high(uint32_t i);

/* dst += src. */
void ig_hist_merge(struct ig_hist *dst, const struct ig_hist *src);

#endif
