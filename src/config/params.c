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
 * Pure functions over read-only config: any thread may call them.
 */
#include "config/config.h"

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
