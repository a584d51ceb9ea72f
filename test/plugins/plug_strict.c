/* plug_strict.c - a test plugin with a required param and every kind,
 * for the config checks. It never trades. */
#include "ingenium/strategy.h"

static const struct ig_param_decl strict_params[] = {
	{ "level", IG_PARAM_INT, NULL, "1", "5", NULL, "required, 1..5" },
	{ "mode", IG_PARAM_ENUM, "slow", NULL, NULL, "fast|slow|auto", "how fast" },
	{ "ratio", IG_PARAM_DECIMAL, "0.5", "0", "1", NULL, "a fraction" },
	{ "flag", IG_PARAM_BOOL, "true", NULL, NULL, NULL, "a switch" },
	{ "label", IG_PARAM_STRING, "abc", NULL, NULL, NULL, "a label" },
	IG_PARAM_END,
};

static const struct ig_strategy_type strict_type = {
	.name = "strict",
	.params = strict_params,
	.doc = "test plugin: declared params of every kind",
};

IG_STRATEGY_PLUGIN(strict_type);
