/*
 * params.c - typed access to a strategy's params for its init callback.
 *
 * Params are stored by the loader as text with the position they came from
 * (struct ig_cfg_param), because only the strategy type knows what each one
 * means. These helpers parse one on demand with the same rules as the
 * loader: integers are plain decimal, decimals go through ig_fixed_parse()
 * (exact, at most 8 decimals), booleans are true|false|yes|no|on|off.
 *
 * The helpers cannot see the file name (the strategy entry does not carry
 * it), so an error reads "LINE:COL: strategies.N.params.KEY: MESSAGE" and
 * the caller prefixes "FILE:". A param that came from --set (line 0) gets
 * the complete "--set strategies.N.params.KEY: MESSAGE".
 *
 * Declared params (struct ig_param_decl) are checked here too, for the
 * loader: ig__param_check() is the one rule for a value of each kind.
 *
 * Pure functions over read-only config: any thread may call them.
 */
#include "config/config.h"

#include "strategy/registry.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Writes the error for param p of strategy s. Returns IG_ECONFIG. */
__attribute__((format(printf, 5, 6)))
static int param_fail(const struct ig_cfg_strategy *s, const struct ig_cfg_param *p, char *err,
		      size_t errlen, const char *fmt, ...)
{
	char msg[IG_CFG_ERR_MAX];
	va_list ap;

	if (err == NULL || errlen == 0)
		return IG_ECONFIG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->line > 0)
		snprintf(err, errlen, "%d:%d: strategies.%" PRIu32 ".params.%s: %s", p->line, p->col,
			 s->index, p->key, msg);
	else
		snprintf(err, errlen, "--set strategies.%" PRIu32 ".params.%s: %s", s->index, p->key,
			 msg);
	return IG_ECONFIG;
}

/* Shared by the int64 getters: parse with `parse` (integer or exact
 * decimal, `fixed` says which, for the message). */
static int param_int64(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		       size_t errlen, int (*parse)(const char *, size_t, int64_t *), bool fixed)
{
	const struct ig_cfg_param *p;
	int64_t v;
	int rc;

	if (cfg == NULL || key == NULL || out == NULL)
		return IG_EINVAL;
	p = ig_config_param(cfg, key);
	if (p == NULL)
		return IG_ENOTFOUND;
	rc = parse(p->value, strlen(p->value), &v);
	if (rc != 0)
		return param_fail(cfg, p, err, errlen, "%s: \"%s\"", ig__config_parse_problem(rc, fixed),
				  p->value);
	*out = v;
	return 0;
}

int ig_param_i64(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		 size_t errlen)
{
	return param_int64(cfg, key, out, err, errlen, ig__config_parse_i64, false);
}

int ig_param_fixed(const struct ig_cfg_strategy *cfg, const char *key, int64_t *out, char *err,
		   size_t errlen)
{
	return param_int64(cfg, key, out, err, errlen, ig_fixed_parse, true);
}

int ig_param_bool(const struct ig_cfg_strategy *cfg, const char *key, bool *out, char *err,
		  size_t errlen)
{
	const struct ig_cfg_param *p;
	bool v;

	if (cfg == NULL || key == NULL || out == NULL)
		return IG_EINVAL;
	p = ig_config_param(cfg, key);
	if (p == NULL)
		return IG_ENOTFOUND;
	if (ig__config_parse_bool(p->value, &v) != 0)
		return param_fail(cfg, p, err, errlen, "not a boolean: \"%s\" (expected true|false)",
				  p->value);
	*out = v;
	return 0;
}

int ig_param_str(const struct ig_cfg_strategy *cfg, const char *key, char *out, size_t outlen,
		 char *err, size_t errlen)
{
	const struct ig_cfg_param *p;
	size_t len;

	if (cfg == NULL || key == NULL || out == NULL || outlen == 0)
		return IG_EINVAL;
	p = ig_config_param(cfg, key);
	if (p == NULL)
		return IG_ENOTFOUND;
	len = strlen(p->value);
	if (len >= outlen) {
		param_fail(cfg, p, err, errlen, "too long for the strategy's buffer: %zu chars (max %zu)",
			   len, outlen - 1);
		return IG_ERANGE;
	}
	memcpy(out, p->value, len + 1);
	return 0;
}

int ig__param_choice(const char *choices, const char *value)
{
	const char *c = choices;
	size_t vlen = strlen(value);
	int i = 0;

	if (choices == NULL)
		return -1;
	for (;;) {
		const char *bar = strchr(c, '|');
		size_t len = bar != NULL ? (size_t)(bar - c) : strlen(c);
		if (len == vlen && len > 0 && strncmp(c, value, len) == 0)
			return i;
		if (bar == NULL)
			return -1;
		c = bar + 1;
		i++;
	}
}

/* The declaration of key in the type of cfg, or NULL. */
static const struct ig_param_decl *decl_of(const struct ig_cfg_strategy *cfg, const char *key)
{
	const struct ig_strategy_type *t = ig_strategy_resolve(cfg);

	if (t == NULL || t->params == NULL)
		return NULL;
	for (const struct ig_param_decl *d = t->params; d->name != NULL; d++)
		if (strcmp(d->name, key) == 0)
			return d;
	return NULL;
}

int ig_param_enum(const struct ig_cfg_strategy *cfg, const char *key, int *out, char *err,
		  size_t errlen)
{
	const struct ig_param_decl *d;
	const struct ig_cfg_param *p;
	int i;

	if (cfg == NULL || key == NULL || out == NULL)
		return IG_EINVAL;
	p = ig_config_param(cfg, key);
	if (p == NULL)
		return IG_ENOTFOUND;
	d = decl_of(cfg, key);
	if (d == NULL || d->kind != IG_PARAM_ENUM)
		return param_fail(cfg, p, err, errlen, "not declared as an enum by the strategy type");
	i = ig__param_choice(d->choices, p->value);
	if (i < 0)
		return param_fail(cfg, p, err, errlen, "unknown value \"%s\" (expected %s)", p->value,
				  d->choices);
	*out = i;
	return 0;
}

/* Parses a bound of d (INT or DECIMAL). Returns 0 or an IG_E* code. */
static int parse_bound(const struct ig_param_decl *d, const char *text, int64_t *out)
{
	size_t len = strlen(text);
	return d->kind == IG_PARAM_DECIMAL ? ig_fixed_parse(text, len, out)
					   : ig__config_parse_i64(text, len, out);
}

int ig__param_check(const struct ig_param_decl *d, const char *value, char *msg, size_t cap)
{
	size_t len = strlen(value);
	int64_t v, lo = INT64_MIN, hi = INT64_MAX;
	bool b;
	int rc;

	switch (d->kind) {
	case IG_PARAM_INT:
	case IG_PARAM_DECIMAL:
		rc = parse_bound(d, value, &v);
		if (rc != 0) {
			snprintf(msg, cap, "%s: \"%s\" (the param is %s)",
				 ig__config_parse_problem(rc, d->kind == IG_PARAM_DECIMAL), value,
				 d->kind == IG_PARAM_DECIMAL ? "a decimal" : "an integer");
			return IG_ECONFIG;
		}
		if (d->min != NULL && parse_bound(d, d->min, &lo) != 0) {
			snprintf(msg, cap, "the type declares a bad min \"%s\"", d->min);
			return IG_ECONFIG;
		}
		if (d->max != NULL && parse_bound(d, d->max, &hi) != 0) {
			snprintf(msg, cap, "the type declares a bad max \"%s\"", d->max);
			return IG_ECONFIG;
		}
		if (v < lo || v > hi) {
			if (d->min != NULL && d->max != NULL)
				snprintf(msg, cap, "out of range: \"%s\" (must be %s..%s)", value, d->min,
					 d->max);
			else if (d->min != NULL)
				snprintf(msg, cap, "out of range: \"%s\" (must be >= %s)", value, d->min);
			else
				snprintf(msg, cap, "out of range: \"%s\" (must be <= %s)", value, d->max);
			return IG_ECONFIG;
		}
		return 0;
	case IG_PARAM_BOOL:
		if (ig__config_parse_bool(value, &b) != 0) {
			snprintf(msg, cap, "not a boolean: \"%s\" (expected true|false)", value);
			return IG_ECONFIG;
		}
		return 0;
	case IG_PARAM_STRING:
		if (len >= IG_PARAM_STR_MAX) {
			snprintf(msg, cap, "too long: %zu chars (max %d)", len, IG_PARAM_STR_MAX - 1);
			return IG_ECONFIG;
		}
		return 0;
	case IG_PARAM_ENUM:
		if (d->choices == NULL || d->choices[0] == '\0') {
			snprintf(msg, cap, "the type declares an enum without choices");
			return IG_ECONFIG;
		}
		if (ig__param_choice(d->choices, value) < 0) {
			snprintf(msg, cap, "unknown value \"%s\" (expected %s)", value, d->choices);
			return IG_ECONFIG;
		}
		return 0;
	}
	snprintf(msg, cap, "the type declares an unknown kind %d", (int)d->kind);
	return IG_ECONFIG;
}

int ig_config_params_change(const struct ig_cfg_strategy *s, const char *const *keys,
			    const char *const *values, size_t n, struct ig_params_change *out,
			    char *err, size_t errlen)
{
	const struct ig_strategy_type *t = ig_strategy_resolve(s);
	char msg[192];

	memset(out, 0, sizeof(*out));
	out->cmd = IG_CTL_PARAMS;
	if (t == NULL || t->on_params == NULL || t->params == NULL) {
		snprintf(err, errlen, "strategy type %s takes no param changes while running",
			 s->type);
		return IG_ESTATE;
	}
	if (n == 0 || n > IG_PARAMS_MAX) {
		snprintf(err, errlen, "params: give 1 to %d params", IG_PARAMS_MAX);
		return IG_ELIMIT;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ig_param_decl *d = NULL;
		uint16_t idx = 0;
		size_t len = strlen(values[i]);
		int64_t v = 0;
		bool b;

		for (const struct ig_param_decl *p = t->params; p->name != NULL; p++, idx++)
			if (strcmp(p->name, keys[i]) == 0) {
				d = p;
				break;
			}
		if (d == NULL || idx >= IG_CFG_MAX_PARAMS) {
			snprintf(err, errlen, "params.%.64s: not a param of type %s", keys[i], s->type);
			return IG_ECONFIG;
		}
		for (size_t j = 0; j < i; j++)
			if (out->index[j] == idx) {
				snprintf(err, errlen, "params.%s: given twice", d->name);
				return IG_ELIMIT;
			}
		if (d->kind == IG_PARAM_STRING) {
			snprintf(err, errlen, "params.%s: a string param cannot change while running",
				 d->name);
			return IG_ECONFIG;
		}
		if (ig__param_check(d, values[i], msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "params.%s: %s", d->name, msg);
			return IG_ECONFIG;
		}
		switch (d->kind) {
		case IG_PARAM_INT:
			if (ig__config_parse_i64(values[i], len, &v) != 0)
				goto bad;
			break;
		case IG_PARAM_DECIMAL:
			if (ig_fixed_parse(values[i], len, &v) != 0)
				goto bad;
			break;
		case IG_PARAM_BOOL:
			if (ig__config_parse_bool(values[i], &b) != 0)
				goto bad;
			v = b ? 1 : 0;
			break;
		case IG_PARAM_ENUM:
			v = ig__param_choice(d->choices, values[i]);
			if (v < 0)
				goto bad;
			break;
		case IG_PARAM_STRING:
		default:
			goto bad;
		}
		out->index[out->n] = idx;
		out->value[out->n] = v;
		out->n++;
		continue;
	bad:
		snprintf(err, errlen, "params.%s: invalid value \"%.64s\"", d->name, values[i]);
		return IG_ECONFIG;
	}
	return 0;
}

const char *ig_param_kind_name(enum ig_param_kind kind)
{
	switch (kind) {
	case IG_PARAM_INT:
		return "int";
	case IG_PARAM_DECIMAL:
		return "decimal";
	case IG_PARAM_BOOL:
		return "bool";
	case IG_PARAM_STRING:
		return "string";
	case IG_PARAM_ENUM:
		return "enum";
	}
	return "unknown";
}
