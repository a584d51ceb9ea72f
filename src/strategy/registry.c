/* registry.c - the built-in strategy types (the plugin SDK comes later). */
#include "strategy/host.h"

#include <string.h>

extern const struct ig_strategy_type ig_sma_cross_strategy;
extern const struct ig_strategy_type ig_maker_strategy;

static const struct ig_strategy_type *const registry[] = {
	&ig_sma_cross_strategy,
	&ig_maker_strategy,
};

const struct ig_strategy_type *ig_strategy_find(const char *type_name)
{
	for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->name, type_name) == 0)
			return registry[i];
	return NULL;
}

const char *ig_strategy_type_list(void)
{
	return "sma_cross, maker";
}
