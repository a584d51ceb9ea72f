/* test_sweep.c - grids, combinations, sampling and the forked sweep runner
 * (src/app/sweep.c), with a fake backtest runner whose statistics are a
 * known function of the swept parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/sweep.h"
#include "config/config.h"
#include "ingenium/error.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXTURE "test/app/engine_sma.yaml"

static char err[IG_CFG_ERR_MAX];

static void test_grid_range_and_list(void **st)
{
	struct ig_sweep_grid g;
	(void)st;
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=5..9:2", &g, err, sizeof(err)), 0);
	assert_string_equal(g.key, "strategies.0.params.fast");
	assert_int_equal(g.nvalues, 3);
	assert_string_equal(g.values[0], "5");
	assert_string_equal(g.values[2], "9");
	ig_sweep_grid_free(&g);
	/* Decimals are exact: 0.1 steps reach 0.3 (a double would stop at
	 * 0.30000000000000004 > 0.3). */
	assert_int_equal(ig_sweep_grid_parse("k=0.1..0.3:0.1", &g, err, sizeof(err)), 0);
	assert_int_equal(g.nvalues, 3);
	assert_string_equal(g.values[1], "0.2");
	assert_string_equal(g.values[2], "0.3");
	ig_sweep_grid_free(&g);
	/* The last step stops at B even when B is off the grid. */
	assert_int_equal(ig_sweep_grid_parse("k=1..10:4", &g, err, sizeof(err)), 0);
	assert_int_equal(g.nvalues, 3); /* 1 5 9 */
	ig_sweep_grid_free(&g);
	assert_int_equal(ig_sweep_grid_parse("k=a,b,c", &g, err, sizeof(err)), 0);
	assert_int_equal(g.nvalues, 3);
	assert_string_equal(g.values[1], "b");
	ig_sweep_grid_free(&g);
	assert_int_equal(ig_sweep_grid_parse("k", &g, err, sizeof(err)), 0);
	assert_int_equal(g.nvalues, 0);
	ig_sweep_grid_free(&g);
}

static void test_grid_errors(void **st)
{
	struct ig_sweep_grid g;
	(void)st;
	assert_int_equal(ig_sweep_grid_parse("k=9..5", &g, err, sizeof(err)), IG_EINVAL);
	assert_non_null(strstr(err, "A <= B"));
	assert_int_equal(ig_sweep_grid_parse("k=1..5:0", &g, err, sizeof(err)), IG_EINVAL);
	assert_int_equal(ig_sweep_grid_parse("k=x..5", &g, err, sizeof(err)), IG_EINVAL);
	assert_int_equal(ig_sweep_grid_parse("k=1,,2", &g, err, sizeof(err)), IG_EINVAL);
	assert_int_equal(ig_sweep_grid_parse("=1,2", &g, err, sizeof(err)), IG_EINVAL);
	assert_int_equal(ig_sweep_grid_parse("k=0..100000", &g, err, sizeof(err)), IG_ELIMIT);
	/* A span past int64 is refused, not computed. */
	assert_int_equal(ig_sweep_grid_parse("k=-90000000000..90000000000", &g, err, sizeof(err)),
			 IG_ELIMIT);
}

static void test_combos_mixed_radix(void **st)
{
	struct ig_sweep_grid g[2];
	const char *v[2];
	(void)st;
	assert_int_equal(ig_sweep_grid_parse("a=1..3", &g[0], err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_grid_parse("b=x,y", &g[1], err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_total(g, 2), 6);
	ig_sweep_combo(g, 2, 0, v);
	assert_string_equal(v[0], "1");
	assert_string_equal(v[1], "x");
	ig_sweep_combo(g, 2, 1, v); /* the last grid varies fastest */
	assert_string_equal(v[0], "1");
	assert_string_equal(v[1], "y");
	ig_sweep_combo(g, 2, 5, v);
	assert_string_equal(v[0], "3");
	assert_string_equal(v[1], "y");
	ig_sweep_grid_free(&g[0]);
	ig_sweep_grid_free(&g[1]);
}

static void test_sample_distinct_and_seeded(void **st)
{
	uint64_t a[50], b[50], c[50];
	(void)st;
	assert_int_equal(ig_sweep_sample(1000, 50, 7, a), 50);
	assert_int_equal(ig_sweep_sample(1000, 50, 7, b), 50);
	assert_int_equal(ig_sweep_sample(1000, 50, 8, c), 50);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
	for (int i = 1; i < 50; i++)
		assert_true(a[i] > a[i - 1]); /* ascending, so distinct */
	assert_true(a[49] < 1000);
	/* More than there are: each once. */
	assert_int_equal(ig_sweep_sample(5, 50, 1, a), 5);
	assert_int_equal(a[4], 4);
}

static void test_resolve_declared(void **st)
{
	static struct ig_config cfg;
	struct ig_sweep_grid g;
	(void)st;
	assert_int_equal(ig_config_load(&cfg, FIXTURE, NULL, 0, err, sizeof(err)), 0);
	/* A bare name several strategies declare is ambiguous. */
	assert_int_equal(ig_sweep_grid_parse("fast=5,6", &g, err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_grid_resolve(&g, &cfg, err, sizeof(err)), IG_EINVAL);
	assert_non_null(strstr(err, "several strategies"));
	ig_sweep_grid_free(&g);
	assert_int_equal(ig_sweep_grid_parse("strategies.1.params.fsat=5", &g, err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_grid_resolve(&g, &cfg, err, sizeof(err)), IG_EINVAL);
	assert_non_null(strstr(err, "declares no parameter \"fsat\""));
	ig_sweep_grid_free(&g);
	/* Without values: the declared range (sma_cross's fast: 1..). */
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast", &g, err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_grid_resolve(&g, &cfg, err, sizeof(err)), 0);
	assert_true(g.nvalues > 1);
	assert_string_equal(g.values[0], "1");
	ig_sweep_grid_free(&g);
}

/* ------------------------------------------------ a fake backtest runner */

static const char *const fake_stats[] = {"score", "fast", "window"};

/* score = fast * 100 + slow for every strategy, so ranking is known;
 * window says which part of the data ran (feed.to / feed.from overrides
 * are not visible in the config until the data helper lands: the runner
 * only reports the strategy's params). */
static int fake_run(void *arg, const struct ig_config *cfg, char (*names)[IG_CFG_NAME_MAX],
		    char (*vals)[IG_SWEEP_STAT_MAX], char *e, size_t elen)
{
	(void)arg;
	(void)e;
	(void)elen;
	for (uint32_t s = 0; s < cfg->nstrategies; s++) {
		int64_t fast = 0, slow = 0;
		const struct ig_cfg_param *pf = ig_config_param(&cfg->strategies[s], "fast");
		const struct ig_cfg_param *ps = ig_config_param(&cfg->strategies[s], "slow");
		if (pf != NULL)
			fast = strtoll(pf->value, NULL, 10);
		if (ps != NULL)
			slow = strtoll(ps->value, NULL, 10);
		if (fast == 13)
			return IG_EINVAL; /* a failing combination */
		snprintf(names[s], IG_CFG_NAME_MAX, "%s", cfg->strategies[s].name);
		snprintf(vals[s * 3 + 0], IG_SWEEP_STAT_MAX, "%lld", (long long)(fast * 100 + slow));
		snprintf(vals[s * 3 + 1], IG_SWEEP_STAT_MAX, "%lld", (long long)fast);
		snprintf(vals[s * 3 + 2], IG_SWEEP_STAT_MAX, "%s", s == 2 ? "" : "all");
	}
	return (int)cfg->nstrategies;
}

static const struct ig_sweep_runner fake = {
	.nstats = 3,
	.stat_names = fake_stats,
	.run = fake_run,
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b;
	long n;
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n)
		b[0] = '\0';
	fclose(f);
	return b;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void run_fake(uint32_t jobs, const char *dir, const char *oos, struct ig_sweep_result *res,
		     int want_rc)
{
	struct ig_sweep_grid g[2];
	struct ig_sweep_opts o;
	memset(&o, 0, sizeof(o));
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=5..8", &g[0], err, sizeof(err)), 0);
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.slow=30,40", &g[1], err, sizeof(err)), 0);
	o.runner = &fake;
	o.config = FIXTURE;
	o.grids = g;
	o.ngrids = 2;
	o.jobs = jobs;
	o.out_dir = dir;
	o.sort = "score";
	o.oos_from = oos;
	o.quiet = true;
	assert_int_equal(ig_sweep_run(&o, res, err, sizeof(err)), want_rc);
	ig_sweep_grid_free(&g[0]);
	ig_sweep_grid_free(&g[1]);
}

static void test_sweep_rows_sorted_and_jobs_agree(void **st)
{
	struct ig_sweep_result r1, r2;
	char d1[] = "/tmp/ig-sweep-XXXXXX", d2[] = "/tmp/ig-sweep-XXXXXX", p[128];
	char *a, *b;
	(void)st;
	assert_non_null(mkdtemp(d1));
	assert_non_null(mkdtemp(d2));
	run_fake(1, d1, NULL, &r1, 0);
	run_fake(2, d2, NULL, &r2, 0);
	assert_int_equal(r1.planned, 8);
	assert_int_equal(r1.done, 8);
	assert_int_equal(r2.jobs, 2);
	assert_int_equal(r1.rows, 8 * 3); /* combinations x strategies */
	snprintf(p, sizeof(p), "%s/sweep.csv", d1);
	a = slurp(p);
	snprintf(p, sizeof(p), "%s/sweep.csv", d2);
	b = slurp(p);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b); /* deterministic whatever the jobs */
	assert_int_equal(count_lines(a), 1 + 24);
	assert_true(strncmp(a, "strategies.0.params.fast,strategies.0.params.slow,strategy,score,fast,window\n",
			    77) == 0);
	/* Best first: sma_slow/sma_big keep their fixture params (30*100+120
	 * = 3120 beats fast 8 slow 40 = 840 of sma_fast). */
	assert_non_null(strstr(a, "\n5,30,sma_slow,3120,30,all\n"));
	assert_true(strstr(a, "8,40,sma_fast,840,8,all") < strstr(a, "5,30,sma_fast,530,5,all"));
	/* An undefined statistic is an empty field. */
	assert_non_null(strstr(a, ",sma_big,520,5,\n"));
	free(a);
	free(b);
}

static void test_sweep_failed_combination_counted(void **st)
{
	struct ig_sweep_grid g;
	struct ig_sweep_opts o;
	struct ig_sweep_result r;
	char d[] = "/tmp/ig-sweep-XXXXXX";
	(void)st;
	assert_non_null(mkdtemp(d));
	memset(&o, 0, sizeof(o));
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=12..14", &g, err, sizeof(err)), 0);
	o.runner = &fake;
	o.config = FIXTURE;
	o.grids = &g;
	o.ngrids = 1;
	o.jobs = 2;
	o.out_dir = d;
	o.sort = "-score";
	o.quiet = true;
	assert_int_equal(ig_sweep_run(&o, &r, err, sizeof(err)), 0);
	assert_int_equal(r.done, 3);
	assert_int_equal(r.failed, 1);
	assert_int_equal(r.rows, 2 * 3);
	ig_sweep_grid_free(&g);
}

static void test_sweep_oos_columns(void **st)
{
	struct ig_sweep_result r;
	char d[] = "/tmp/ig-sweep-XXXXXX", p[128];
	char *a;
	(void)st;
	assert_non_null(mkdtemp(d));
	run_fake(2, d, "2016-10-08", &r, 0);
	snprintf(p, sizeof(p), "%s/sweep.csv", d);
	a = slurp(p);
	assert_non_null(a);
	assert_non_null(strstr(a, "strategy,score,fast,window,oos_score,oos_fast,oos_window\n"));
	assert_non_null(strstr(a, "\n5,30,sma_slow,3120,30,all,3120,30,all\n"));
	free(a);
}

static void test_sweep_bad_sort_and_bad_key(void **st)
{
	struct ig_sweep_grid g;
	struct ig_sweep_opts o;
	struct ig_sweep_result r;
	(void)st;
	memset(&o, 0, sizeof(o));
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=5,6", &g, err, sizeof(err)), 0);
	o.runner = &fake;
	o.config = FIXTURE;
	o.grids = &g;
	o.ngrids = 1;
	o.sort = "sharpness";
	o.quiet = true;
	assert_int_equal(ig_sweep_run(&o, &r, err, sizeof(err)), IG_EINVAL);
	assert_non_null(strstr(err, "sharpness"));
	ig_sweep_grid_free(&g);
	/* A value the strategy refuses is caught once, before any worker. */
	assert_int_equal(ig_sweep_grid_parse("strategies.0.params.fast=0,1", &g, err, sizeof(err)), 0);
	o.sort = "score";
	assert_int_equal(ig_sweep_run(&o, &r, err, sizeof(err)), IG_ECONFIG);
	assert_non_null(strstr(err, "fast"));
	ig_sweep_grid_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grid_range_and_list),
		cmocka_unit_test(test_grid_errors),
		cmocka_unit_test(test_combos_mixed_radix),
		cmocka_unit_test(test_sample_distinct_and_seeded),
		cmocka_unit_test(test_resolve_declared),
		cmocka_unit_test(test_sweep_rows_sorted_and_jobs_agree),
		cmocka_unit_test(test_sweep_failed_combination_counted),
		cmocka_unit_test(test_sweep_oos_columns),
		cmocka_unit_test(test_sweep_bad_sort_and_bad_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
