/*
 * registry.c - the built-in strategy types and the plugin loader
 * (registry.h).
 */
#include "strategy/registry.h"

#include "config/config.h"
#include "ingenium/error.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct ig_strategy_type ig_sma_cross_strategy;
extern const struct ig_strategy_type ig_maker_strategy;

static const struct ig_strategy_type *const builtins[] = {
	&ig_sma_cross_strategy,
	&ig_maker_strategy,
};

#define NBUILTIN (sizeof(builtins) / sizeof(builtins[0]))

/* A loaded plugin. Owner: the main thread (see registry.h). */
struct plugin {
	char path[PATH_MAX];     /* as given to the first load */
	char real[PATH_MAX];     /* realpath() of it */
	void *handle;
	const struct ig_strategy_type *type;
};

static struct plugin plugins[IG_MAX_PLUGINS];
static size_t nplugins;

const struct ig_strategy_type *ig_strategy_builtin(const char *type_name)
{
	if (type_name == NULL)
		return NULL;
	for (size_t i = 0; i < NBUILTIN; i++)
		if (strcmp(builtins[i]->name, type_name) == 0)
			return builtins[i];
	return NULL;
}

const char *ig_strategy_type_names(char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < NBUILTIN && used < cap; i++) {
		int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", builtins[i]->name);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}

const struct ig_strategy_type *ig_strategy_type_at(size_t i, const char **source)
{
	if (i < NBUILTIN) {
		if (source != NULL)
			*source = NULL;
		return builtins[i];
	}
	i -= NBUILTIN;
	if (i >= nplugins)
		return NULL;
	if (source != NULL)
		*source = plugins[i].path;
	return plugins[i].type;
}

static struct plugin *plugin_by_path(const char *path)
{
	char real[PATH_MAX];

	for (size_t i = 0; i < nplugins; i++)
		if (strcmp(plugins[i].path, path) == 0)
			return &plugins[i];
	if (realpath(path, real) == NULL)
		return NULL;
	for (size_t i = 0; i < nplugins; i++)
		if (strcmp(plugins[i].real, real) == 0)
			return &plugins[i];
	return NULL;
}

const struct ig_strategy_type *ig_strategy_plugin_type(const char *path)
{
	const struct plugin *p = path != NULL ? plugin_by_path(path) : NULL;
	return p != NULL ? p->type : NULL;
}

const struct ig_strategy_type *ig_strategy_resolve(const struct ig_cfg_strategy *s)
{
	if (s->plugin_path[0] != '\0')
		return ig_strategy_plugin_type(s->plugin_path);
	return ig_strategy_builtin(s->type);
}

/* Checks what a plugin exports. Returns 0 or IG_ECONFIG with err set. */
static int check_export(const struct ig_strategy_plugin *exp, const char *type_name, char *err,
			size_t errlen)
{
	if (exp->abi_version != IG_SDK_ABI_VERSION) {
		snprintf(err, errlen,
			 "built for SDK ABI version %u, this engine loads version %u (rebuild the plugin "
			 "against this engine's headers)",
			 (unsigned)exp->abi_version, (unsigned)IG_SDK_ABI_VERSION);
		return IG_ECONFIG;
	}
	if (exp->type == NULL || exp->type->name == NULL || exp->type->name[0] == '\0') {
		snprintf(err, errlen, "exports no strategy type (or one without a name)");
		return IG_ECONFIG;
	}
	if (type_name != NULL && strcmp(exp->type->name, type_name) != 0) {
		snprintf(err, errlen, "defines strategy type \"%s\", not \"%s\"", exp->type->name,
			 type_name);
		return IG_ECONFIG;
	}
	return 0;
}

int ig_strategy_plugin_load(const char *path, const char *type_name,
			    const struct ig_strategy_type **out, char *err, size_t errlen)
{
	struct ig_strategy_plugin exp_copy;
	const struct ig_strategy_plugin *exp;
	struct plugin *p = plugin_by_path(path);
	const char *why;
	void *h;
	int rc;

	if (p != NULL) {
		exp_copy.abi_version = IG_SDK_ABI_VERSION;
		exp_copy.type = p->type;
		rc = check_export(&exp_copy, type_name, err, errlen);
		if (rc == 0 && out != NULL)
			*out = p->type;
		return rc;
	}
	if (strlen(path) >= sizeof(p->path)) {
		snprintf(err, errlen, "path too long");
		return IG_ENOENT;
	}
	/* dlopen searches the library path for a name without a slash; a
	 * plugin is a file, so make it one. */
	if (strchr(path, '/') == NULL) {
		char local[PATH_MAX + 2];
		snprintf(local, sizeof(local), "./%s", path);
		h = dlopen(local, RTLD_NOW | RTLD_LOCAL);
	} else {
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL) {
		why = dlerror();
		snprintf(err, errlen, "cannot load: %s", why != NULL ? why : "dlopen failed");
		return IG_ENOENT;
	}
	/* The same object under another name (a link): one entry. */
	for (size_t i = 0; i < nplugins; i++) {
		if (plugins[i].handle == h) {
			dlclose(h); /* drop the extra reference */
			exp_copy.abi_version = IG_SDK_ABI_VERSION;
			exp_copy.type = plugins[i].type;
			rc = check_export(&exp_copy, type_name, err, errlen);
			if (rc == 0 && out != NULL)
				*out = plugins[i].type;
			return rc;
		}
	}
	dlerror();
	exp = dlsym(h, IG_STRATEGY_PLUGIN_SYMBOL);
	if (exp == NULL) {
		why = dlerror();
		snprintf(err, errlen, "no %s symbol (export the type with IG_STRATEGY_PLUGIN): %s",
			 IG_STRATEGY_PLUGIN_SYMBOL, why != NULL ? why : "not found");
		dlclose(h);
		return IG_ENOTFOUND;
	}
	rc = check_export(exp, type_name, err, errlen);
	if (rc != 0) {
		dlclose(h);
		return rc;
	}
	if (nplugins >= IG_MAX_PLUGINS) {
		snprintf(err, errlen, "too many plugins (max %d)", IG_MAX_PLUGINS);
		dlclose(h);
		return IG_ELIMIT;
	}
	p = &plugins[nplugins++];
	memset(p, 0, sizeof(*p));
	memcpy(p->path, path, strlen(path) + 1);
	if (realpath(path, p->real) == NULL)
		memcpy(p->real, path, strlen(path) + 1);
	p->handle = h;
	p->type = exp->type;
	if (out != NULL)
		*out = p->type;
	return 0;
}

void ig_strategy_plugins_unload(void)
{
	while (nplugins > 0) {
		struct plugin *p = &plugins[--nplugins];
		dlclose(p->handle);
		memset(p, 0, sizeof(*p));
	}
}
