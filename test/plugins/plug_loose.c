/* plug_loose.c - a test plugin whose params are all strings, so the
 * config loader accepts any text and the ig_param_* helpers' own parsing
 * and messages can be tested on it. */
#include "ingenium/strategy.h"

#define S(n) { n, IG_PARAM_STRING, "", NULL, NULL, NULL, "any text" }

static const struct ig_param_decl loose_params[] = {
	S("fast"), S("neg"), S("qty"), S("bad"), S("big"), S("fine"), S("on"), S("off"),
	IG_PARAM_END,
};

static const struct ig_strategy_type loose_type = {
	.name = "loose",
	.params = loose_params,
	.doc = "test plugin: string params",
};

IG_STRATEGY_PLUGIN(loose_type);
