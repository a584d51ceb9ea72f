/*
 * registry.h - strategy types by name: the built-ins and loaded plugins.
 *
 * Design
 * ------
 * The registry resolves a config entry to its struct ig_strategy_type.
 * Built-in types (strategies/NAME_strategy.c) are a constant table and come
 * first; plugins are shared objects loaded by ig_strategy_plugin_load()
 * with dlopen(RTLD_NOW | RTLD_LOCAL), whose exported
 * IG_STRATEGY_PLUGIN_SYMBOL must carry this engine's IG_SDK_ABI_VERSION.
 * The same shared object named twice (by any path that leads to the same
 * file) is loaded once. ig_strategy_plugins_unload() dlcloses them all at
 * shutdown, after every strategy's destroy hook has run.
 *
 * A plugin resolves the SDK functions it calls (ig_ctx_*, ig_param_*,
 * ig_fixed_*) from the executable, which exports them (Makefile:
 * src/strategy/sdk.dynlist).
 *
 * Owner: the main thread. Plugins are loaded while the config is loaded
 * (before any thread starts) and unloaded after every thread is joined;
 * lookups from other threads read a table that no longer changes.
 */
#ifndef IG_STRATEGY_REGISTRY_H
#define IG_STRATEGY_REGISTRY_H

#include <stddef.h>

#include "ingenium/strategy.h"

/* Most distinct plugin files one process loads. */
#define IG_MAX_PLUGINS 32

/* Looks up a built-in type by name. Returns it, or NULL if unknown. A
 * plugin's type is found through the entry that names its file
 * (ig_strategy_resolve), never by name alone. */
const struct ig_strategy_type *ig_strategy_builtin(const char *type_name);

/* Writes the names of the built-in types, ", " separated, into buf (cap
 * bytes, always NUL-terminated), from the registry's own table. Returns
 * buf. */
const char *ig_strategy_type_names(char *buf, size_t cap);

/*
 * Loads the plugin at path (or finds it loaded already) and checks it:
 * the symbol IG_STRATEGY_PLUGIN_SYMBOL, its ABI version and, if type_name
 * is not NULL, that its type is named type_name. Returns 0 and stores the
 * type in *out (may be NULL), or:
 *   IG_ENOENT     dlopen failed (err has dlerror's text)
 *   IG_ENOTFOUND  no IG_STRATEGY_PLUGIN_SYMBOL (err has dlerror's text)
 *   IG_ECONFIG    another ABI version, no or an unnamed type, or a name
 *                 that is not type_name
 *   IG_ELIMIT     more than IG_MAX_PLUGINS files
 * err gets the reason without a location. A refused object is dlclosed
 * unless an earlier load accepted it.
 */
int ig_strategy_plugin_load(const char *path, const char *type_name,
			    const struct ig_strategy_type **out, char *err, size_t errlen);

/* The type a loaded plugin at path (as given to ig_strategy_plugin_load,
 * or another path to the same file) exports, or NULL if not loaded. */
const struct ig_strategy_type *ig_strategy_plugin_type(const char *path);

/* Enumeration for `ingenium strategies`: index 0.. built-ins, then
 * plugins. Returns the type and sets *source to NULL (built-in) or the
 * plugin's path as it was loaded; NULL past the end. */
const struct ig_strategy_type *ig_strategy_type_at(size_t i, const char **source);

/* The type of config entry s: its plugin's (s->plugin_path, loaded by the
 * config loader) if it names one, else the built-in type named
 * s->type. NULL if there is none. */
struct ig_cfg_strategy;
const struct ig_strategy_type *ig_strategy_resolve(const struct ig_cfg_strategy *s);

/* dlcloses every loaded plugin. Types from them must not be used after. */
void ig_strategy_plugins_unload(void);

#endif
