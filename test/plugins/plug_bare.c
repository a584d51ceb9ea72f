/* plug_bare.c - a test plugin whose type declares no params (params ==
 * NULL): any param is refused. */
#include "ingenium/strategy.h"

static const struct ig_strategy_type bare_type = { .name = "bare", .doc = "test plugin: no params" };

IG_STRATEGY_PLUGIN(bare_type);
