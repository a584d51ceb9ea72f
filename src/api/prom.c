/* prom.c - Prometheus text helpers shared by the API's renderers (see
 * prom.h). */
#include "api/prom.h"

#include "ingenium/fixed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void ig__bput(struct ig__buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->ok)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->ok = false;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap * 2 + (size_t)n;
			char *p = realloc(b->p, cap);
			if (p == NULL) {
				b->ok = false;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

void ig__label_escape(const char *s, char *out, size_t cap)
{
	size_t j = 0;
	for (; *s != '\0' && j + 3 < cap; s++) {
		if (*s == '\\' || *s == '"') {
			out[j++] = '\\';
			out[j++] = *s;
		} else if (*s == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
		} else {
			out[j++] = *s;
		}
	}
	out[j] = '\0';
}

void ig__metric_head(struct ig__buf *b, const char *name, const char *type, const char *help)
{
	ig__bput(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void ig__ns_seconds(int64_t ns, char *buf, size_t cap)
{
	int n;

	if (ns < 0)
		ns = 0;
	n = snprintf(buf, cap, "%lld.%09lld", (long long)(ns / 1000000000),
		     (long long)(ns % 1000000000));
	if (n <= 0 || (size_t)n >= cap)
		return;
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
}

void ig__histogram(struct ig__buf *b, const char *name, const char *help, const int64_t *bound,
		   const struct ig_snap_latency *l)
{
	uint64_t cum = 0;
	char v[IG_FIXED_STRLEN];

	ig__metric_head(b, name, "histogram", help);
	for (int i = 0; i < IG_SNAP_LAT_BUCKETS; i++) {
		cum += l->bucket[i];
		ig__ns_seconds(bound[i], v, sizeof(v));
		ig__bput(b, "%s_bucket{le=\"%s\"} %llu\n", name, v, (unsigned long long)cum);
	}
	cum += l->bucket[IG_SNAP_LAT_BUCKETS];
	ig__bput(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	ig__ns_seconds(l->sum_ns, v, sizeof(v));
	ig__bput(b, "%s_sum %s\n", name, v);
	ig__bput(b, "%s_count %llu\n", name, (unsigned long long)l->count);
}
