/* stats.c - the statistics table: names, kinds, formatting, stats.json
 * (see report.h). */
#include "report/report.h"

#include "core/jsonx.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#define IG__RS_NAME(n, k) #n,
static const char *const names[IG_RS__COUNT] = { IG_REPORT_STATS(IG__RS_NAME) };
#undef IG__RS_NAME

#define IG__RS_KIND(n, k) IG_RK_##k,
static const enum ig_report_kind kinds[IG_RS__COUNT] = { IG_REPORT_STATS(IG__RS_KIND) };
#undef IG__RS_KIND

const char *ig_report_stat_name(enum ig_report_stat id)
{
	return (unsigned)id < IG_RS__COUNT ? names[id] : NULL;
}

enum ig_report_kind ig_report_stat_kind(enum ig_report_stat id)
{
	return (unsigned)id < IG_RS__COUNT ? kinds[id] : IG_RK_RATIO;
}

int ig_report_stat_find(const char *name)
{
	for (int i = 0; i < IG_RS__COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

bool ig_report_stat_defined(const struct ig_report_stats *st, enum ig_report_stat id)
{
	return (unsigned)id < IG_RS__COUNT && (st->defined >> id & 1u) != 0;
}

/* The int64 field of an integer stat, or the double of a double one. */
static void raw(const struct ig_report_stats *st, enum ig_report_stat id, int64_t *i, double *d)
{
	*i = 0;
	*d = NAN;
	switch (id) {
#define IG__RS_CASE(n, k)                                        \
	case IG_RS_##n:                                          \
		_Generic(st->n, double: *d, default: *i) =       \
			_Generic(st->n, double: st->n, default: st->n); \
		break;
		IG_REPORT_STATS(IG__RS_CASE)
#undef IG__RS_CASE
	default:
		break;
	}
}

double ig_report_stat_double(const struct ig_report_stats *st, enum ig_report_stat id)
{
	int64_t i;
	double d;

	if (!ig_report_stat_defined(st, id))
		return NAN;
	raw(st, id, &i, &d);
	switch (kinds[id]) {
	case IG_RK_MONEY:
		return ig_fixed_to_double(i);
	case IG_RK_COUNT:
	case IG_RK_SECONDS:
		return (double)i;
	default:
		return d;
	}
}

int ig_report_stat_format(const struct ig_report_stats *st, enum ig_report_stat id, char *buf,
			  size_t cap)
{
	int64_t i;
	double d;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	if (!ig_report_stat_defined(st, id))
		return 0;
	raw(st, id, &i, &d);
	switch (kinds[id]) {
	case IG_RK_MONEY:
		return ig_fixed_format(i, buf, cap);
	case IG_RK_COUNT:
	case IG_RK_SECONDS:
		return snprintf(buf, cap, "%lld", (long long)i);
	default:
		return snprintf(buf, cap, "%.6f", d);
	}
}

/* The stat as a JSON value: money a decimal string, integers, doubles
 * rounded to 6 decimals, null when undefined. */
static json_t *stat_json(const struct ig_report_stats *st, enum ig_report_stat id)
{
	int64_t i;
	double d;

	if (!ig_report_stat_defined(st, id))
		return json_null();
	raw(st, id, &i, &d);
	switch (kinds[id]) {
	case IG_RK_MONEY:
		return ig_json_money(i);
	case IG_RK_COUNT:
	case IG_RK_SECONDS:
		return json_integer((json_int_t)i);
	default:
		return json_real(round(d * 1e6) / 1e6);
	}
}

int ig_report_write_stats(const struct ig_report *r, const struct ig_report_stats *st,
			  const char *path)
{
	json_t *root = json_object(), *arr = json_array();
	int rc = 0;

	for (uint32_t s = 0; s < ig__report_nstrategies(r); s++) {
		json_t *o = json_object();
		for (int id = 0; id < IG_RS__COUNT; id++)
			rc |= json_object_set_new(o, names[id], stat_json(&st[s], (enum ig_report_stat)id));
		rc |= json_array_append_new(arr, json_pack("{s:s, s:o}", "name", ig__report_name(r, s),
							   "stats", o));
	}
	rc |= json_object_set_new(root, "strategies", arr);
	if (rc == 0)
		rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(root);
	return rc == 0 ? 0 : IG_EIO;
}
