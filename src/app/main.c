/*
 * main.c - the ingenium command line.
 *
 *   ingenium run -c FILE [--summary-json FILE] [--set KEY=VALUE]...
 *   ingenium backtest -c FILE [-v] [--report DIR] [--set KEY=VALUE]...
 *   ingenium sweep -c FILE --grid KEY=A..B[:STEP]|KEY=v1,v2|KEY ... [--random N
 *                  [--seed S]] [--jobs N] [--out DIR] [--sort [-]STAT]
 *                  [--oos-from DATE] [--top N] [--set KEY=VALUE]...
 *   ingenium check-config -c FILE [--set KEY=VALUE]...
 *   ingenium strategies [--json] [-c FILE | --plugin PATH...]
 *   ingenium exchange-sim --listen 127.0.0.1:PORT [...]
 *   ingenium journal verify|dump FILE [--json]
 *   ingenium ctl status|kill|unkill|pause NAME|resume NAME|cancel-all NAME|reset [NAME]
 *                --api URL [--token-env NAME] [--json]
 *   ingenium version
 *
 * Exit codes: 0 ok, 1 invalid config or run failure, 2 usage error or a
 * config file that is missing or unreadable.
 */
#include "app/backtest.h"
#include "app/ctl.h"
#include "app/engine.h"
#include "app/history.h"
#include "app/sweep.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "journal/journal.h"
#include "journal/recover.h"
#include "sim/sim.h"
#include "strategy/registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IG_VERSION "0.1.0"
#define MAX_SETS 64
#define MAX_PLUGIN_ARGS 16

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ingenium <command> [options]\n"
		"\n"
		"commands:\n"
		"  run -c FILE [--summary-json FILE] [--set KEY=VALUE]...  run the daemon\n"
		"      [--linger]                                          (--linger: after the run, keep\n"
		"                                                          the API up until Ctrl-C)\n"
		"  backtest -c FILE [-v] [--report DIR] [--summary-json FILE] [--set KEY=VALUE]...\n"
		"                                                          inline, deterministic run; --report\n"
		"                                                          writes report.html, stats.json,\n"
		"                                                          trades.csv, equity.csv, summary.json\n"
		"                                                          (-v: a log line per order, fill, reject)\n"
		"  sweep -c FILE --grid KEY=A..B[:STEP] --grid KEY=v1,v2,... [--random N --seed S]\n"
		"        [--jobs N] [--out DIR] [--sort [-]STAT] [--oos-from DATE] [--top N]\n"
		"                                                          backtest every combination, on\n"
		"                                                          all cores, ranked (DIR/sweep.csv)\n"
		"  check-config -c FILE [--set KEY=VALUE]...               validate a config\n"
		"  strategies [--json] [-c FILE | --plugin PATH...]        list strategy types and their params\n"
		"                                                          (built-ins, plus the config's plugins)\n"
		"  exchange-sim --listen 127.0.0.1:PORT [options]          Luno-compatible exchange on loopback\n"
		"                                                          (exchange-sim --help for its options)\n"
		"  journal verify|dump FILE [--json]                       check or print a journal\n"
		"  journal state -c FILE [--journal PATH] [--set K=V]...   replay a journal into the OMS and\n"
		"                                                          print the books and their state hash\n"
		"  history rebuild --journal FILE --store sqlite:PATH -c FILE\n"
		"                                                          rebuild the history store from a journal\n"
		"  history --store sqlite:PATH orders|fills|pnl|sessions [--strategy S] [--daemon D]\n"
		"          [--from T] [--to T] [--csv|--json]               query the history store\n"
		"  ctl status|kill|unkill|pause NAME|resume NAME|cancel-all NAME|reset [NAME]|\n"
		"      params NAME KEY=VALUE... --api URL\n"
		"      [--token-env NAME] [--json]                         steer a running daemon through its\n"
		"                                                          API (token: $INGENIUM_API_TOKEN)\n"
		"  version                                                 print the version\n"
		"\n"
		"--set takes a dotted path (list items by index), e.g.\n"
		"  --set feed.speed=1 --set strategies.0.params.fast=5\n");
}

struct args {
	const char *cmd;
	const char *config;
	const char *summary;
	const char *report;
	const char *journal;
	struct ig_cfg_override sets[MAX_SETS];
	size_t nsets;
	char set_buf[MAX_SETS][512];
	const char *plugins[MAX_PLUGIN_ARGS];
	size_t nplugins;
	bool quiet;
	bool verbose;
	bool linger;     /* run: keep the API up after the run until SIGINT/SIGTERM */
	bool json;
	/* sweep */
	struct ig_sweep_grid grids[IG_SWEEP_MAX_GRIDS];
	uint32_t ngrids;
	uint64_t random;
	uint64_t seed;
	uint32_t jobs;
	uint32_t top;
	const char *out;
	const char *sort;
	const char *oos_from;
};

/* Parses a whole unsigned number for option o. Returns 0 or -1 (printed). */
static int parse_count(const char *o, const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;
	if (v[0] < '0' || v[0] > '9') {
		fprintf(stderr, "ingenium: %s %s: expected a whole number\n", o, v);
		return -1;
	}
	n = strtoull(v, &end, 10);
	if (*end != '\0' || n > max) {
		fprintf(stderr, "ingenium: %s %s: expected a whole number up to %llu\n", o, v,
			(unsigned long long)max);
		return -1;
	}
	*out = n;
	return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	memset(a, 0, sizeof(*a));
	a->seed = 1;
	if (argc < 2)
		return -1;
	a->cmd = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0) && v) {
			a->config = v;
			i++;
		} else if (strcmp(o, "--summary-json") == 0 && v) {
			a->summary = v;
			i++;
		} else if (strcmp(o, "--journal") == 0 && v) {
			a->journal = v;
			i++;
		} else if (strcmp(o, "--report") == 0 && v) {
			a->report = v;
			i++;
		} else if (strcmp(o, "--plugin") == 0 && v) {
			if (a->nplugins == MAX_PLUGIN_ARGS) {
				fprintf(stderr, "ingenium: too many --plugin options (max %d)\n",
					MAX_PLUGIN_ARGS);
				return -1;
			}
			a->plugins[a->nplugins++] = v;
			i++;
		} else if (strcmp(o, "--grid") == 0 && v) {
			char err[256];
			if (a->ngrids == IG_SWEEP_MAX_GRIDS) {
				fprintf(stderr, "ingenium: too many --grid options (max %d)\n",
					IG_SWEEP_MAX_GRIDS);
				return -1;
			}
			if (ig_sweep_grid_parse(v, &a->grids[a->ngrids], err, sizeof(err)) != 0) {
				fprintf(stderr, "ingenium: %s\n", err);
				return -1;
			}
			a->ngrids++;
			i++;
		} else if ((strcmp(o, "--random") == 0 || strcmp(o, "--seed") == 0 ||
			    strcmp(o, "--jobs") == 0 || strcmp(o, "--top") == 0) && v) {
			uint64_t n;
			if (parse_count(o, v, o[2] == 'r' || o[2] == 's' ? UINT64_MAX : 100000, &n) != 0)
				return -1;
			if (o[2] == 'r')
				a->random = n;
			else if (o[2] == 's')
				a->seed = n;
			else if (o[2] == 'j')
				a->jobs = (uint32_t)n;
			else
				a->top = (uint32_t)n;
			i++;
		} else if (strcmp(o, "--out") == 0 && v) {
			a->out = v;
			i++;
		} else if (strcmp(o, "--sort") == 0 && v) {
			a->sort = v;
			i++;
		} else if (strcmp(o, "--oos-from") == 0 && v) {
			a->oos_from = v;
			i++;
		} else if (strcmp(o, "--json") == 0) {
			a->json = true;
		} else if (strcmp(o, "--linger") == 0) {
			a->linger = true;
		} else if (strcmp(o, "--quiet") == 0 || strcmp(o, "-q") == 0) {
			a->quiet = true;
		} else if (strcmp(o, "--verbose") == 0 || strcmp(o, "-v") == 0) {
			a->verbose = true;
		} else if (strcmp(o, "--set") == 0 && v) {
			char *eq;
			if (a->nsets == MAX_SETS) {
				fprintf(stderr, "ingenium: too many --set options (max %d)\n", MAX_SETS);
				return -1;
			}
			snprintf(a->set_buf[a->nsets], sizeof(a->set_buf[0]), "%s", v);
			eq = strchr(a->set_buf[a->nsets], '=');
			if (eq == NULL) {
				fprintf(stderr, "ingenium: --set %s: expected KEY=VALUE\n", v);
				return -1;
			}
			*eq = '\0';
			a->sets[a->nsets].key = a->set_buf[a->nsets];
			a->sets[a->nsets].value = eq + 1;
			a->nsets++;
			i++;
		} else {
			fprintf(stderr, "ingenium: unknown or incomplete option: %s\n", o);
			return -1;
		}
	}
	return 0;
}

/* Loads the config; prints the error. Returns 0, 1 (invalid) or 2 (file). */
static int load(struct ig_config *cfg, const struct args *a)
{
	char err[IG_CFG_ERR_MAX];
	int rc;

	if (a->config == NULL) {
		fprintf(stderr, "ingenium %s: missing -c FILE\n", a->cmd);
		return 2;
	}
	rc = ig_config_load(cfg, a->config, a->sets, a->nsets, err, sizeof(err));
	if (rc == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return rc == IG_ENOENT || rc == IG_EIO ? 2 : 1;
}

/* The config text report.html shows: the file, then the --set overrides.
 * Returns a new string (caller frees) or NULL. */
static char *config_text(const struct args *a)
{
	FILE *f = fopen(a->config, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int c;

	if (m == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	if (f != NULL) {
		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(f);
	}
	if (a->nsets > 0) {
		fputs("\n# --set overrides:\n", m);
		for (size_t i = 0; i < a->nsets; i++)
			fprintf(m, "#   %s: %s\n", a->sets[i].key, a->sets[i].value);
	}
	fclose(m);
	return buf;
}

/* The run's first log line: version, config, feed, strategies, threading. */
static void log_start(const struct ig_config *cfg, enum ig_threading threading)
{
	const struct ig_feed_type *ft = ig_feed_type_at(cfg->feed.source);
	ig_log_info("ingenium %s: %s, feed %s, %u strategies, threading %s", IG_VERSION, cfg->file,
		    ft->needs_path ? (cfg->feed.nfiles > 0 ? cfg->feed.files[0].path : cfg->feed.path)
				   : ft->name,
		    cfg->nstrategies,
		    threading == IG_THREADING_SHARED   ? "shared"
		    : threading == IG_THREADING_INLINE ? "inline"
						       : "dedicated");
}

/* `backtest`: ig_backtest_run (backtest.h) with the summary printed, and
 * the report files with --report DIR. Returns the exit code. */
static int cmd_backtest(const struct args *a)
{
	static struct ig_config cfg;
	static struct ig_backtest_result res;
	struct ig_backtest_opts opts;
	char err[IG_CFG_ERR_MAX];
	char *text;
	int rc;

	if ((rc = load(&cfg, a)) != 0)
		return rc;
	if (a->quiet)
		ig_log_set_level(IG_LOG_WARN);
	if (ig_log_start() != 0) {
		fprintf(stderr, "ingenium: cannot start the logger\n");
		return 1;
	}
	ig_log_attach("main");
	text = a->report != NULL ? config_text(a) : NULL;
	memset(&opts, 0, sizeof(opts));
	opts.report_dir = a->report;
	opts.summary_json = a->summary;
	opts.print_summary = stdout;
	opts.config_text = text;
	opts.verbose = a->verbose;
	log_start(&cfg, IG_THREADING_INLINE);
	rc = ig_backtest_run(&cfg, &opts, &res, err, sizeof(err));
	ig_log_stop();
	free(text);
	if (rc != 0)
		fprintf(stderr, "%s\n", err);
	else if (a->report != NULL)
		printf("report: %s/report.html (stats.json, trades.csv, equity.csv, summary.json)\n",
		       a->report);
	ig_strategy_plugins_unload(); /* after every destroy hook */
	if (rc == IG_ENOENT)
		return 2;
	return rc == 0 ? 0 : 1;
}

/* run --linger: the run is over; the API keeps serving its last snapshot
 * (controls answer 504: no OMS applies them) until SIGINT or SIGTERM. */
static void linger(void)
{
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	printf("the run is over; the API and the dashboard stay up with its final state: "
	       "Ctrl-C to stop\n");
	fflush(stdout);
	sigwait(&set, &sig);
}

static int cmd_run(const struct args *a)
{
	static struct ig_config cfg;
	static struct ig_engine eng;
	struct ig_engine_opts opts;
	char err[IG_CFG_ERR_MAX];
	int rc;

	if ((rc = load(&cfg, a)) != 0)
		return rc;
	if (a->quiet)
		ig_log_set_level(IG_LOG_WARN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "ingenium: curl_global_init failed\n");
		return 1;
	}
	if (ig_log_start() != 0) {
		fprintf(stderr, "ingenium: cannot start the logger\n");
		return 1;
	}
	ig_log_attach("main");
	memset(&opts, 0, sizeof(opts));
	opts.status_lines = cfg.engine.threading != IG_THREADING_INLINE;
	opts.version = IG_VERSION;
	opts.api = true;
	opts.api_linger = a->linger && cfg.api.listen[0] != '\0';
	opts.store_default = true; /* store.kind auto: sqlite for `run` */
	/* Run epoch: minutes since 2020-01-01 (24 bits: until 2051), raised
	 * above the journal's last run when there is one (ig_recover_epoch),
	 * so client order ids differ between runs; backtests use 0 to stay
	 * identical. */
	opts.epoch = 0;
	if (cfg.engine.threading != IG_THREADING_INLINE)
		opts.epoch = ig_recover_epoch_now(ig_clock_real_ns());
	rc = ig_engine_init(&eng, &cfg, &opts, err, sizeof(err));
	if (rc != 0) {
		ig_log_stop();
		fprintf(stderr, "%s\n", err);
		ig_strategy_plugins_unload();
		curl_global_cleanup();
		return rc == IG_ENOENT || rc == IG_EIO ? 2 : 1;
	}
	log_start(&cfg, cfg.engine.threading);
	rc = ig_engine_run(&eng);
	ig_exec_log_stats(&eng.exec);
	if (!opts.api_linger)
		ig_log_stop(); /* else after the API, which logs */
	if (rc != 0) {
		fprintf(stderr, "ingenium: run failed: %s\n", ig_strerror(rc));
	} else {
		ig_engine_print_summary(&eng, stdout);
		if (a->summary != NULL && ig_engine_write_summary(&eng, a->summary) != 0) {
			fprintf(stderr, "ingenium: cannot write %s\n", a->summary);
			rc = IG_EIO;
		}
		if (a->report != NULL) {
			char path[512];
			mkdir(a->report, 0755);
			snprintf(path, sizeof(path), "%s/summary.json", a->report);
			if (ig_engine_write_summary(&eng, path) != 0) {
				fprintf(stderr, "ingenium: cannot write %s\n", path);
				rc = IG_EIO;
			} else {
				printf("report: %s\n", path);
			}
		}
	}
	if (opts.api_linger) {
		if (rc == 0)
			linger();
		ig_engine_destroy(&eng);
		ig_log_stop();
		ig_strategy_plugins_unload();
		curl_global_cleanup();
		return rc == 0 ? 0 : 1;
	}
	ig_engine_destroy(&eng);
	ig_strategy_plugins_unload(); /* after every destroy hook */
	curl_global_cleanup();
	return rc == 0 ? 0 : 1;
}

/* `journal state`: replays a journal into a fresh OMS built from the config
 * (as recovery does) and prints the books and their state hash as JSON.
 * Exit 0 clean journal, 1 damaged tail (the books are as of the last good
 * record), 2 unreadable. */
static int cmd_journal_state(const struct args *a)
{
	static struct ig_config cfg;
	struct ig_oms oms;
	struct ig_replay_info ri;
	const char *path;
	char line[256];
	json_t *root, *strats;
	int rc;

	if ((rc = load(&cfg, a)) != 0)
		return rc;
	path = a->journal != NULL ? a->journal : cfg.journal.path;
	ig_log_set_level(IG_LOG_ERROR);
	if (ig_oms_init(&oms, &cfg,
			cfg.engine.strategy_threads ? cfg.engine.strategy_threads
						    : IG_CFG_DEFAULT_STRATEGY_THREADS) != 0)
		return 2;
	ig_oms_set_data_clock(&oms, cfg.engine.threading == IG_THREADING_INLINE);
	rc = ig_recover_replay(path, &oms, NULL, &ri);
	if (rc != 0 || ri.rep.records == 0) {
		fprintf(stderr, "%s: %s\n", path, rc != 0 ? ig_strerror(rc) : "no journal records");
		ig_oms_destroy(&oms);
		return 2;
	}
	ig_journal_report_format(&ri.rep, line, sizeof(line));
	strats = json_array();
	for (uint32_t i = 0; i < ig_oms_nstrategies(&oms); i++) {
		char q[IG_FIXED_STRLEN], c[IG_FIXED_STRLEN], f[IG_FIXED_STRLEN], r[IG_FIXED_STRLEN];
		struct ig_oms_totals t;
		ig_oms_totals(&oms, i, &t);
		ig_fixed_format(t.qty, q, sizeof(q));
		ig_fixed_format(t.cash, c, sizeof(c));
		ig_fixed_format(t.fees, f, sizeof(f));
		ig_fixed_format(t.realized, r, sizeof(r));
		json_array_append_new(strats,
				      json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "name",
						cfg.strategies[i].name, "position", q, "cash", c, "fees", f,
						"realized_pnl", r, "orders", (json_int_t)t.orders, "fills",
						(json_int_t)t.fills, "open_orders", (json_int_t)t.open_orders));
	}
	{
		char hash[24];
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)ri.state_hash);
		root = json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:o}", "state_hash", hash,
				 "records", (json_int_t)ri.rep.records, "inputs", (json_int_t)ri.applied,
				 "snapshots", (json_int_t)ri.snapshots, "tail",
				 ig_journal_stop_name(ri.rep.stop), "report", line, "diverged",
				 (json_int_t)ri.diverged, "strategies", strats);
	}
	json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(root);
	ig_oms_destroy(&oms);
	return ri.rep.stop == IG_JOURNAL_CLEAN ? 0 : 1;
}

/* Validates strategy types and params as a run would, without running.
 * Returns 0 or 1 (message printed). */
static int check_strategies(const struct ig_config *cfg)
{
	static struct ig_strategy_host host;
	static char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	const char *symbols[IG_MAX_INSTRUMENTS];
	char err[IG_CFG_ERR_MAX];
	int n = ig_feed_symbols(cfg, names); /* the feed's instruments, as the engine makes them */

	if (n < 0) {
		fprintf(stderr, "%s: feed.symbols: more than %d symbols\n", cfg->file, IG_MAX_INSTRUMENTS);
		return 1;
	}
	for (int i = 0; i < n; i++)
		symbols[i] = names[i];
	for (uint32_t t = 0; t < cfg->engine.strategy_threads; t++) {
		if (ig_strategy_host_init(&host, cfg, t, 0, symbols, (uint16_t)n, false, err,
					  sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		ig_strategy_host_destroy(&host);
	}
	return 0;
}

/* One param declaration as JSON. */
static json_t *param_json(const struct ig_param_decl *d)
{
	json_t *p = json_object();

	json_object_set_new(p, "name", json_string(d->name));
	json_object_set_new(p, "kind", json_string(ig_param_kind_name(d->kind)));
	json_object_set_new(p, "required", json_boolean(d->def == NULL));
	json_object_set_new(p, "default", d->def != NULL ? json_string(d->def) : json_null());
	json_object_set_new(p, "min", d->min != NULL ? json_string(d->min) : json_null());
	json_object_set_new(p, "max", d->max != NULL ? json_string(d->max) : json_null());
	if (d->kind == IG_PARAM_ENUM && d->choices != NULL) {
		json_t *ch = json_array();
		const char *c = d->choices;
		for (;;) {
			const char *bar = strchr(c, '|');
			size_t len = bar != NULL ? (size_t)(bar - c) : strlen(c);
			json_array_append_new(ch, json_stringn(c, len));
			if (bar == NULL)
				break;
			c = bar + 1;
		}
		json_object_set_new(p, "choices", ch);
	} else {
		json_object_set_new(p, "choices", json_null());
	}
	json_object_set_new(p, "doc", json_string(d->doc != NULL ? d->doc : ""));
	return p;
}

/* `strategies`: every type the registry knows (built-ins, then the plugins
 * the config names or --plugin gives) with its doc line and params, as
 * text or JSON. Returns 0, 1 (a plugin or the config refused) or 2. */
static int cmd_strategies(const struct args *a)
{
	static struct ig_config cfg;
	const struct ig_strategy_type *t;
	const char *src;
	char err[IG_CFG_ERR_MAX];
	int rc;

	if (a->config != NULL && (rc = load(&cfg, a)) != 0)
		return rc;
	for (size_t i = 0; i < a->nplugins; i++) {
		if (ig_strategy_plugin_load(a->plugins[i], NULL, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "--plugin %s: %s\n", a->plugins[i], err);
			ig_strategy_plugins_unload();
			return 1;
		}
	}
	if (a->json) {
		json_t *root = json_object(), *arr = json_array();
		for (size_t i = 0; (t = ig_strategy_type_at(i, &src)) != NULL; i++) {
			json_t *params = json_array();
			if (t->params != NULL)
				for (const struct ig_param_decl *d = t->params; d->name != NULL; d++)
					json_array_append_new(params, param_json(d));
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o}", "name", t->name,
							     "doc", t->doc != NULL ? t->doc : "",
							     "source", src != NULL ? src : "builtin",
							     "params", params));
		}
		json_object_set_new(root, "abi_version", json_integer(IG_SDK_ABI_VERSION));
		json_object_set_new(root, "strategies", arr);
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(root);
	} else {
		printf("strategy SDK ABI version %u\n", (unsigned)IG_SDK_ABI_VERSION);
		for (size_t i = 0; (t = ig_strategy_type_at(i, &src)) != NULL; i++) {
			printf("\n%s (%s)\n  %s\n", t->name, src != NULL ? src : "built-in",
			       t->doc != NULL ? t->doc : "");
			if (t->params == NULL || t->params[0].name == NULL) {
				printf("  (no params)\n");
				continue;
			}
			for (const struct ig_param_decl *d = t->params; d->name != NULL; d++) {
				printf("  %-16s %-7s", d->name, ig_param_kind_name(d->kind));
				if (d->def != NULL)
					printf(" default %s", d->def[0] != '\0' ? d->def : "\"\"");
				else
					printf(" required");
				if (d->min != NULL || d->max != NULL)
					printf(", %s..%s", d->min != NULL ? d->min : "", d->max != NULL ? d->max : "");
				if (d->kind == IG_PARAM_ENUM && d->choices != NULL)
					printf(", one of %s", d->choices);
				printf("\n  %16s %s\n", "", d->doc != NULL ? d->doc : "");
			}
		}
	}
	ig_strategy_plugins_unload();
	return 0;
}

/* `sweep`: every combination of the grids, backtested on all cores. Exit 0
 * done, 1 bad options or nothing ran, 130 interrupted (rows kept). */
static int cmd_sweep(struct args *a)
{
	struct ig_sweep_opts o;
	struct ig_sweep_result res;
	char err[IG_CFG_ERR_MAX];
	int rc;

	if (a->config == NULL) {
		fprintf(stderr, "ingenium sweep: missing -c FILE\n");
		return 2;
	}
	if (a->ngrids == 0) {
		fprintf(stderr, "ingenium sweep: give at least one --grid KEY=A..B[:STEP] or KEY=v1,v2\n");
		return 2;
	}
	memset(&o, 0, sizeof(o));
	{
		/* Data preloaded once is only right if no run changes the feed. */
		bool preload = true;
		for (uint32_t i = 0; i < a->ngrids; i++)
			if (strncmp(a->grids[i].key, "feed.", 5) == 0)
				preload = false;
		o.runner = ig_backtest_sweep_runner(preload);
	}
	o.config = a->config;
	o.sets = a->sets;
	o.nsets = a->nsets;
	o.grids = a->grids;
	o.ngrids = a->ngrids;
	o.random = a->random;
	o.seed = a->seed;
	o.jobs = a->jobs;
	o.out_dir = a->out;
	o.sort = a->sort;
	o.oos_from = a->oos_from;
	o.top = a->top;
	o.quiet = a->quiet;
	o.progress = !a->quiet && isatty(STDERR_FILENO);
	rc = ig_sweep_run(&o, &res, err, sizeof(err));
	for (uint32_t i = 0; i < a->ngrids; i++)
		ig_sweep_grid_free(&a->grids[i]);
	if (rc != 0 && rc != IG_EINTR) {
		fprintf(stderr, "%s\n", err);
		ig_strategy_plugins_unload();
		return 1;
	}
	printf("sweep: %llu of %llu combinations (%llu failed), %u jobs, %.1f s, %.1f runs/s: %s/sweep.csv%s\n",
	       (unsigned long long)res.done, (unsigned long long)res.planned,
	       (unsigned long long)res.failed, res.jobs, res.elapsed_s, res.runs_per_s,
	       a->out ? a->out : "sweep-out", rc == IG_EINTR ? " (interrupted)" : "");
	ig_strategy_plugins_unload();
	if (rc == IG_EINTR)
		return 130;
	return res.done > res.failed ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct args a;
	static struct ig_config cfg;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "exchange-sim") == 0)
		return ig_exchange_sim_main(argc - 1, argv + 1);
	if (argc >= 3 && strcmp(argv[1], "journal") == 0 && strcmp(argv[2], "state") == 0) {
		if (parse_args(argc - 1, argv + 1, &a) != 0) {
			usage(stderr);
			return 2;
		}
		return cmd_journal_state(&a);
	}
	if (argc >= 2 && strcmp(argv[1], "journal") == 0)
		return ig_journal_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "history") == 0)
		return ig_history_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ctl") == 0) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		rc = ig_ctl_main(argc - 1, argv + 1);
		curl_global_cleanup();
		return rc;
	}
	if (parse_args(argc, argv, &a) != 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(a.cmd, "run") == 0)
		return cmd_run(&a);
	if (strcmp(a.cmd, "backtest") == 0)
		return cmd_backtest(&a);
	if (strcmp(a.cmd, "sweep") == 0)
		return cmd_sweep(&a);
	if (strcmp(a.cmd, "check-config") == 0) {
		rc = load(&cfg, &a);
		if (rc == 0)
			rc = check_strategies(&cfg);
		if (rc == 0)
			printf("%s: ok (%u strategies)\n", a.config, cfg.nstrategies);
		ig_strategy_plugins_unload();
		return rc;
	}
	if (strcmp(a.cmd, "strategies") == 0)
		return cmd_strategies(&a);
	if (strcmp(a.cmd, "version") == 0 || strcmp(a.cmd, "--version") == 0) {
		printf("ingenium %s\n", IG_VERSION);
		return 0;
	}
	if (strcmp(a.cmd, "help") == 0 || strcmp(a.cmd, "--help") == 0 || strcmp(a.cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ingenium: unknown command \"%s\"\n", a.cmd);
	usage(stderr);
	return 2;
}
