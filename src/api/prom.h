/*
 * prom.h - module-internal (src/api/ only): a growing text buffer and the
 * Prometheus text-format helpers that api.c (/metrics' first families)
 * and docs.c (the venue, journal and back-pressure families) share.
 *
 * Owner: the thread rendering a page (the API thread, or a test).
 */
#ifndef IG_API_PROM_H
#define IG_API_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/snapshot.h"

/* A growing text buffer; on failure it stays failed (ok = false). */
struct ig__buf {
	char *p;
	size_t len, cap;
	bool ok;
};

/* Appends printf-style text to b (grows it; on failure b->ok = false). */
void ig__bput(struct ig__buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes s to out (capacity cap) with \, " and newline escaped (a label
 * value). */
void ig__label_escape(const char *s, char *out, size_t cap);

/* Appends "# HELP name help" and "# TYPE name type". */
void ig__metric_head(struct ig__buf *b, const char *name, const char *type, const char *help);

/* Nanoseconds (>= 0) as decimal seconds, exact, no trailing zeros
 * ("0.000025", "3.00004", "1"), into buf. */
void ig__ns_seconds(int64_t ns, char *buf, size_t cap);

/* Appends histogram family name (its head, the cumulative _bucket{le}
 * lines for the IG_SNAP_LAT_BUCKETS bounds in ns and +Inf, _sum in
 * seconds and _count) from l. */
void ig__histogram(struct ig__buf *b, const char *name, const char *help, const int64_t *bound,
		   const struct ig_snap_latency *l);

struct ig_api_metrics_src;

/* docs.c: appends the families of src beyond the first table of
 * docs/api.md (venue, journal, back-pressure), each only if src has it. */
void ig__api_metrics_more(struct ig__buf *b, const struct ig_api_metrics_src *src);

#endif
