/* plug_nosym.c - a test plugin that forgot IG_STRATEGY_PLUGIN. */
#include "ingenium/strategy.h"

__attribute__((visibility("default"))) extern const struct ig_strategy_type nosym_type;
const struct ig_strategy_type nosym_type = { .name = "nosym" };
