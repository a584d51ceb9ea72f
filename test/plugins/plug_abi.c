/* plug_abi.c - a test plugin built "for another ABI": it exports the
 * plugin record by hand with abi_version 999. */
#include "ingenium/strategy.h"

static const struct ig_strategy_type abi_type = { .name = "abi" };

__attribute__((visibility("default"))) extern const struct ig_strategy_plugin ig_strategy_plugin;
const struct ig_strategy_plugin ig_strategy_plugin = { 999u, &abi_type };
