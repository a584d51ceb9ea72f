/*
 * fuzz_config.c - the YAML config loader (src/config/): ig_config_load()
 * on arbitrary YAML, followed by --set overrides, then the strategy param
 * accessors (ig_param_i64/_fixed/_bool) on every param of every strategy.
 *
 * Input: YAML text; an optional line "#--set" (a YAML comment, so seeds
 * stay plain configs) ends the YAML, and each line after it is one
 * KEY=VALUE override, as `--set` takes them (at most 16).
 */
#include "config/config.h"
#include "ingenium/strategy.h"

#include "fuzz_util.h"

#define MAX_OVR 16

static struct ig_config cfg; /* large: static */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init("config");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "#--set\n";
	char path[600], err[IG_CFG_ERR_MAX];
	struct ig_cfg_override ovr[MAX_OVR];
	size_t novr = 0, yaml_len = size;
	char *sets = NULL;
	const uint8_t *hit = NULL;

	for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++) {
		if (memcmp(data + i, sep, sizeof(sep) - 1) == 0 && (i == 0 || data[i - 1] == '\n')) {
			hit = data + i;
			break;
		}
	}
	if (hit != NULL) {
		size_t off = (size_t)(hit - data) + sizeof(sep) - 1, n = size - off;
		char *p;
		yaml_len = (size_t)(hit - data);
		sets = malloc(n + 1);
		if (sets == NULL)
			return 0;
		memcpy(sets, data + off, n);
		sets[n] = '\0';
		p = sets;
		while (*p != '\0' && novr < MAX_OVR) {
			char *nl = strchr(p, '\n'), *eq;
			if (nl != NULL)
				*nl = '\0';
			eq = strchr(p, '=');
			if (eq != NULL) {
				*eq = '\0';
				ovr[novr].key = p;
				ovr[novr].value = eq + 1;
			} else {
				ovr[novr].key = p;
				ovr[novr].value = NULL;
			}
			novr++;
			if (nl == NULL)
				break;
			p = nl + 1;
		}
	}
	fz_write("config.yaml", data, yaml_len, path, sizeof(path));
	if (ig_config_load(&cfg, path, ovr, novr, err, sizeof(err)) == 0) {
		for (uint32_t s = 0; s < cfg.nstrategies; s++) {
			const struct ig_cfg_strategy *st = &cfg.strategies[s];
			for (uint32_t k = 0; k < st->nparams; k++) {
				int64_t v;
				bool b;
				(void)ig_param_i64(st, st->params[k].key, &v, err, sizeof(err));
				(void)ig_param_fixed(st, st->params[k].key, &v, err, sizeof(err));
				(void)ig_param_bool(st, st->params[k].key, &b, err, sizeof(err));
			}
		}
		(void)ig_config_validate(&cfg, err, sizeof(err));
	}
	unlink(path);
	free(sets);
	return 0;
}
