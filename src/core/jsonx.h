/*
 * jsonx.h - the summary's JSON value shapes, shared by every stage's
 * stats() (stage.h): money as an exact decimal string, a latency histogram
 * as {count, p50, p90, p99, p999, max}, a 64-bit id as 16 hex digits.
 * Each returns a new reference (NULL when out of memory; jansson's setters
 * accept that and fail). Any thread.
 */
#ifndef IG_CORE_JSONX_H
#define IG_CORE_JSONX_H

#include <stdint.h>

#include <jansson.h>

#include "core/hist.h"

/* A 1e-8 fixed-point value as its decimal string ("12.5"). */
json_t *ig_json_money(int64_t v);

/* {count, p50, p90, p99, p999, max} of h. */
json_t *ig_json_hist(const struct ig_hist *h);

/* The same plus "buckets": [[upper_ns, count], ...], every non-empty
 * bucket in order (its upper edge clamped to max): enough to replay the
 * distribution (venue.latency_from). NULL when out of memory. */
json_t *ig_json_hist_buckets(const struct ig_hist *h);

/* v as 16 lower-case hex digits. */
json_t *ig_json_hex(uint64_t v);

#endif
