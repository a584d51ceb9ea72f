/* sweep.c - parameter sweeps over forked workers (see sweep.h). */
#include "app/sweep.h"
#include "core/rng.h"

#include "core/clock.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "ingenium/strategy.h"
#include "strategy/registry.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PLANNED 1000000u  /* combinations one sweep may run */
#define MAX_JOBS 256u

/* ----------------------------------------------------------------- grids */

static int grid_add(struct ig_sweep_grid *g, const char *v, size_t len, char *err, size_t errlen)
{
	if (len == 0 || len >= IG_SWEEP_VALUE_MAX) {
		snprintf(err, errlen, "--grid %s: empty or too long value", g->key);
		return IG_EINVAL;
	}
	if (g->nvalues == IG_SWEEP_MAX_VALUES) {
		snprintf(err, errlen, "--grid %s: more than %u values", g->key, IG_SWEEP_MAX_VALUES);
		return IG_ELIMIT;
	}
	memcpy(g->values[g->nvalues], v, len);
	g->values[g->nvalues][len] = '\0';
	g->nvalues++;
	return 0;
}

/* Fills g with A, A+STEP, ... <= B (fixed point, exact). */
static int grid_range(struct ig_sweep_grid *g, const char *a, size_t alen, const char *b,
		      size_t blen, const char *step, size_t slen, char *err, size_t errlen)
{
	int64_t lo, hi, st = IG_FIXED_SCALE, span;
	char buf[IG_FIXED_STRLEN];

	if (ig_fixed_parse(a, alen, &lo) != 0 || ig_fixed_parse(b, blen, &hi) != 0 ||
	    (step != NULL && ig_fixed_parse(step, slen, &st) != 0)) {
		snprintf(err, errlen, "--grid %s: a range is A..B or A..B:STEP with numbers", g->key);
		return IG_EINVAL;
	}
	if (st <= 0 || hi < lo) {
		snprintf(err, errlen, "--grid %s: a range needs A <= B and STEP > 0", g->key);
		return IG_EINVAL;
	}
	if (__builtin_sub_overflow(hi, lo, &span) || span / st >= IG_SWEEP_MAX_VALUES) {
		snprintf(err, errlen, "--grid %s: more than %u values", g->key, IG_SWEEP_MAX_VALUES);
		return IG_ELIMIT;
	}
	for (int64_t v = lo; v <= hi; v += st) {
		int n = ig_fixed_format(v, buf, sizeof(buf));
		int rc = grid_add(g, buf, (size_t)n, err, errlen);
		if (rc != 0)
			return rc;
		if (hi - v < st)
			break; /* the next step would pass B (and could overflow) */
	}
	return 0;
}

int ig_sweep_grid_parse(const char *spec, struct ig_sweep_grid *g, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	size_t klen = eq != NULL ? (size_t)(eq - spec) : strlen(spec);
	const char *v, *dots;
	int rc = 0;

	memset(g, 0, sizeof(*g));
	if (klen == 0 || klen >= sizeof(g->key)) {
		snprintf(err, errlen, "--grid %s: expected KEY=A..B[:STEP], KEY=v1,v2,... or KEY", spec);
		return IG_EINVAL;
	}
	memcpy(g->key, spec, klen);
	g->key[klen] = '\0';
	g->values = calloc(IG_SWEEP_MAX_VALUES, sizeof(*g->values));
	if (g->values == NULL)
		return IG_ENOMEM;
	if (eq == NULL)
		return 0; /* from the declared parameter */
	v = eq + 1;
	dots = strstr(v, "..");
	if (dots != NULL && strchr(v, ',') == NULL) {
		const char *colon = strchr(dots + 2, ':');
		const char *b = dots + 2;
		size_t blen = colon != NULL ? (size_t)(colon - b) : strlen(b);
		rc = grid_range(g, v, (size_t)(dots - v), b, blen, colon != NULL ? colon + 1 : NULL,
				colon != NULL ? strlen(colon + 1) : 0, err, errlen);
	} else {
		while (rc == 0) {
			const char *c = strchr(v, ',');
			size_t len = c != NULL ? (size_t)(c - v) : strlen(v);
			rc = grid_add(g, v, len, err, errlen);
			if (c == NULL)
				break;
			v = c + 1;
		}
	}
	if (rc != 0) {
		ig_sweep_grid_free(g);
		return rc;
	}
	return 0;
}

void ig_sweep_grid_free(struct ig_sweep_grid *g)
{
	free(g->values);
	g->values = NULL;
	g->nvalues = 0;
}

/* The declaration of parameter name in strategy s, or NULL. */
static const struct ig_param_decl *declared(const struct ig_cfg_strategy *s, const char *name)
{
	const struct ig_strategy_type *t = ig_strategy_resolve(s);
	if (t == NULL || t->params == NULL)
		return NULL;
	for (const struct ig_param_decl *d = t->params; d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

/* Values of a declared parameter: its range (INT), choices (ENUM), or both
 * booleans. */
static int grid_from_decl(struct ig_sweep_grid *g, const struct ig_param_decl *d, char *err,
			  size_t errlen)
{
	switch (d->kind) {
	case IG_PARAM_INT:
		if (d->min == NULL || d->max == NULL)
			break;
		return grid_range(g, d->min, strlen(d->min), d->max, strlen(d->max), NULL, 0, err,
				  errlen);
	case IG_PARAM_BOOL:
		if (grid_add(g, "false", 5, err, errlen) != 0)
			return IG_EINVAL;
		return grid_add(g, "true", 4, err, errlen);
	case IG_PARAM_ENUM: {
		const char *c = d->choices;
		while (c != NULL && *c != '\0') {
			const char *bar = strchr(c, '|');
			size_t len = bar != NULL ? (size_t)(bar - c) : strlen(c);
			int rc = grid_add(g, c, len, err, errlen);
			if (rc != 0)
				return rc;
			c = bar != NULL ? bar + 1 : NULL;
		}
		return 0;
	}
	default:
		break;
	}
	snprintf(err, errlen,
		 "--grid %s: the parameter declares no range to sweep (give the values: %s=A..B[:STEP] or %s=v1,v2)",
		 g->key, g->key, g->key);
	return IG_EINVAL;
}

int ig_sweep_grid_resolve(struct ig_sweep_grid *g, const struct ig_config *cfg, char *err,
			  size_t errlen)
{
	const struct ig_cfg_strategy *owner = NULL;
	const struct ig_param_decl *d = NULL;
	char key[IG_SWEEP_KEY_MAX + 32];
	unsigned idx;
	int used = 0;

	if (strchr(g->key, '.') == NULL) {
		/* A bare parameter name: the one strategy that declares it. */
		uint32_t found = 0;
		for (uint32_t i = 0; i < cfg->nstrategies; i++) {
			const struct ig_param_decl *di = declared(&cfg->strategies[i], g->key);
			if (di == NULL)
				continue;
			if (found++ == 0) {
				owner = &cfg->strategies[i];
				d = di;
				idx = i;
			}
		}
		if (found != 1) {
			snprintf(err, errlen,
				 found == 0 ? "--grid %s: no strategy declares a parameter of that name"
					    : "--grid %s: several strategies declare it; give the path (strategies.N.params.%s)",
				 g->key, g->key);
			return IG_EINVAL;
		}
		snprintf(key, sizeof(key), "strategies.%u.params.%s", idx, g->key);
		if (strlen(key) >= sizeof(g->key)) {
			snprintf(err, errlen, "--grid %s: name too long", g->key);
			return IG_EINVAL;
		}
		memcpy(g->key, key, strlen(key) + 1);
	} else if (sscanf(g->key, "strategies.%u.params.%n", &idx, &used) == 1 && used > 0) {
		if (idx >= cfg->nstrategies) {
			snprintf(err, errlen, "--grid %s: the config has %u strategies", g->key,
				 cfg->nstrategies);
			return IG_EINVAL;
		}
		owner = &cfg->strategies[idx];
		d = declared(owner, g->key + used);
		if (d == NULL) {
			snprintf(err, errlen, "--grid %s: strategy \"%s\" (type %s) declares no parameter \"%s\"",
				 g->key, owner->name, owner->type, g->key + used);
			return IG_EINVAL;
		}
	}
	if (g->nvalues > 0)
		return 0;
	if (d == NULL) {
		snprintf(err, errlen, "--grid %s: give the values (only a strategy parameter has declared ones)",
			 g->key);
		return IG_EINVAL;
	}
	return grid_from_decl(g, d, err, errlen);
}

uint64_t ig_sweep_total(const struct ig_sweep_grid *g, uint32_t n)
{
	uint64_t t = 1;
	for (uint32_t i = 0; i < n; i++) {
		if (g[i].nvalues == 0)
			return 0;
		if (t > UINT64_MAX / g[i].nvalues)
			return UINT64_MAX;
		t *= g[i].nvalues;
	}
	return t;
}

void ig_sweep_combo(const struct ig_sweep_grid *g, uint32_t n, uint64_t idx, const char **vals)
{
	for (uint32_t i = n; i-- > 0;) {
		vals[i] = g[i].values[idx % g[i].nvalues];
		idx /= g[i].nvalues;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t ig_sweep_sample(uint64_t total, uint64_t n, uint64_t seed, uint64_t *out)
{
	uint64_t s = seed, k = 0;

	if (n >= total) {
		for (uint64_t i = 0; i < total; i++)
			out[i] = i;
		return total;
	}
	/* Floyd's algorithm: n distinct draws, each step one random number;
	 * membership by linear scan is fine for the sizes a sweep runs. */
	for (uint64_t j = total - n; j < total; j++) {
		uint64_t t = ig_rng_next(&s) % (j + 1);
		bool seen = false;
		for (uint64_t i = 0; i < k && !seen; i++)
			seen = out[i] == t;
		out[k++] = seen ? j : t;
	}
	qsort(out, k, sizeof(*out), cmp_u64);
	return k;
}

/* --------------------------------------------------------------- workers */

struct worker {
	pid_t pid;
	int task_fd;           /* parent writes combination numbers */
	int result_fd;         /* parent reads lines */
	char *buf;             /* partial line(s) read */
	size_t len, cap;
	bool busy;
	bool open;
	uint64_t combo;        /* the one it runs */
};

/* A finished combination's row for one strategy, kept to sort at the end. */
struct row {
	char *line;            /* the CSV line, with its newline */
	double key;            /* the sort statistic; NAN = undefined */
	uint64_t combo;
	uint32_t strategy;
};

/* What the parent gathers for the combination a worker runs. */
struct pending {
	uint32_t nstrat;
	char names[IG_MAX_STRATEGIES][IG_CFG_NAME_MAX];
	char *is_vals;         /* nstrat * nstats fields, tab-joined per strategy */
	char *oos_vals;
};

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IG_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Appends s to a growing buffer. Returns 0 or IG_ENOMEM. */
static int sb_add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap * 2 : 4096;
		char *nb;
		while (c < *len + n + 1)
			c *= 2;
		nb = realloc(*b, c);
		if (nb == NULL)
			return IG_ENOMEM;
		*b = nb;
		*cap = c;
	}
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
	return 0;
}

/* Runs one backtest with the combination's values (and a window) and
 * appends "TAG\tidx\tname\tv1\t...\n" per strategy to the buffer. */
static int worker_run(const struct ig_sweep_opts *o, uint64_t idx, const char *tag,
		      const char *window_key, char **b, size_t *len, size_t *cap, char *err,
		      size_t errlen)
{
	static struct ig_config cfg;
	static char names[IG_MAX_STRATEGIES][IG_CFG_NAME_MAX];
	static struct ig_cfg_override ovr[64 + IG_SWEEP_MAX_GRIDS + 1];
	const struct ig_sweep_runner *r = o->runner;
	const char *vals[IG_SWEEP_MAX_GRIDS];
	char (*stats)[IG_SWEEP_STAT_MAX];
	size_t n = 0;
	int ns, rc;
	char head[64];

	ig_sweep_combo(o->grids, o->ngrids, idx, vals);
	for (size_t i = 0; i < o->nsets && n < 64; i++)
		ovr[n++] = o->sets[i];
	for (uint32_t i = 0; i < o->ngrids; i++) {
		ovr[n].key = o->grids[i].key;
		ovr[n].value = vals[i];
		n++;
	}
	if (window_key != NULL) {
		ovr[n].key = window_key;
		ovr[n].value = o->oos_from;
		n++;
	}
	rc = ig_config_load(&cfg, o->config, ovr, n, err, errlen);
	if (rc != 0)
		return rc;
	/* Sweep runs never record history: their client ids repeat run after
	 * run (epoch 0), so their rows would overwrite each other. */
	cfg.store.kind = IG_STORE_OFF;
	stats = calloc((size_t)IG_MAX_STRATEGIES * r->nstats, sizeof(*stats));
	if (stats == NULL)
		return IG_ENOMEM;
	ns = r->run(r->arg, &cfg, names, stats, err, errlen);
	for (int s = 0; s < ns && rc == 0; s++) {
		int hn = snprintf(head, sizeof(head), "%s\t%llu\t", tag, (unsigned long long)idx);
		rc = sb_add(b, len, cap, head, (size_t)hn);
		if (rc == 0)
			rc = sb_add(b, len, cap, names[s], strlen(names[s]));
		for (uint32_t i = 0; i < r->nstats && rc == 0; i++) {
			const char *v = stats[(size_t)s * r->nstats + i];
			rc = sb_add(b, len, cap, "\t", 1);
			if (rc == 0)
				rc = sb_add(b, len, cap, v, strlen(v));
		}
		if (rc == 0)
			rc = sb_add(b, len, cap, "\n", 1);
	}
	free(stats);
	return ns < 0 ? ns : rc;
}

/* A worker's life: read a combination number, run it, answer; until the
 * task pipe closes. Never returns. */
static void worker_main(const struct ig_sweep_opts *o, int task_fd, int result_fd)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	uint64_t idx;
	char err[IG_CFG_ERR_MAX];

	/* The terminal's Ctrl-C reaches the whole process group: the parent
	 * decides, the workers keep what they run until told. */
	signal(SIGINT, SIG_IGN);
	for (;;) {
		ssize_t r = read(task_fd, &idx, sizeof(idx));
		int rc;
		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(idx))
			break;
		len = 0;
		err[0] = '\0';
		rc = worker_run(o, idx, "R", o->oos_from ? "feed.to" : NULL, &b, &len, &cap, err,
				sizeof(err));
		if (rc == 0 && o->oos_from != NULL)
			rc = worker_run(o, idx, "O", "feed.from", &b, &len, &cap, err, sizeof(err));
		if (rc != 0) {
			char line[IG_CFG_ERR_MAX + 64];
			for (char *c = err; *c; c++)
				if (*c == '\n' || *c == '\t')
					*c = ' ';
			len = 0;
			snprintf(line, sizeof(line), "E\t%llu\t%s\n", (unsigned long long)idx,
				 err[0] ? err : ig_strerror(rc));
			sb_add(&b, &len, &cap, line, strlen(line));
		} else {
			char line[64];
			snprintf(line, sizeof(line), "D\t%llu\n", (unsigned long long)idx);
			sb_add(&b, &len, &cap, line, strlen(line));
		}
		if (b == NULL || write_all(result_fd, b, len) != 0)
			break;
	}
	free(b);
	_exit(0);
}

static int spawn(const struct ig_sweep_opts *o, struct worker *w, struct worker *all, uint32_t n)
{
	int task[2], res[2];
	pid_t pid;

	if (pipe(task) != 0)
		return IG_EIO;
	if (pipe(res) != 0) {
		close(task[0]);
		close(task[1]);
		return IG_EIO;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(task[0]);
		close(task[1]);
		close(res[0]);
		close(res[1]);
		return IG_EIO;
	}
	if (pid == 0) {
		/* Only this worker's ends stay open here. */
		for (uint32_t i = 0; i < n; i++)
			if (all[i].open) {
				close(all[i].task_fd);
				close(all[i].result_fd);
			}
		close(task[1]);
		close(res[0]);
		worker_main(o, task[0], res[1]);
	}
	close(task[0]);
	close(res[1]);
	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->task_fd = task[1];
	w->result_fd = res[0];
	w->open = true;
	return 0;
}

/* ---------------------------------------------------------------- output */

/* Appends one CSV field (quoted if it needs it). */
static int csv_field(char **b, size_t *len, size_t *cap, const char *v, bool first)
{
	int rc = first ? 0 : sb_add(b, len, cap, ",", 1);
	if (rc != 0)
		return rc;
	if (strpbrk(v, ",\"\n\r") == NULL)
		return sb_add(b, len, cap, v, strlen(v));
	rc = sb_add(b, len, cap, "\"", 1);
	for (const char *c = v; *c && rc == 0; c++)
		rc = *c == '"' ? sb_add(b, len, cap, "\"\"", 2) : sb_add(b, len, cap, c, 1);
	return rc == 0 ? sb_add(b, len, cap, "\"", 1) : rc;
}

/* The nth tab-separated field of s (0-based), copied into out. */
static void tab_field(const char *s, uint32_t nth, char *out, size_t cap)
{
	size_t n;
	for (uint32_t i = 0; i < nth && s != NULL; i++) {
		s = strchr(s, '\t');
		if (s != NULL)
			s++;
	}
	if (s == NULL) {
		out[0] = '\0';
		return;
	}
	n = strcspn(s, "\t\n");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

struct sweep_run {
	const struct ig_sweep_opts *o;
	FILE *csv;
	char path[1024];
	int sort_col;          /* index into stat_names */
	bool ascending;
	struct row *rows;
	size_t nrows, caprows;
	struct pending *pend;  /* one per worker */
	uint64_t failed;
	uint32_t errors_shown;
};

static int header(struct sweep_run *s, char **b, size_t *len, size_t *cap)
{
	const struct ig_sweep_runner *r = s->o->runner;
	bool first = true;
	int rc = 0;
	for (uint32_t i = 0; i < s->o->ngrids && rc == 0; i++, first = false)
		rc = csv_field(b, len, cap, s->o->grids[i].key, first);
	if (rc == 0)
		rc = csv_field(b, len, cap, "strategy", first);
	for (uint32_t i = 0; i < r->nstats && rc == 0; i++)
		rc = csv_field(b, len, cap, r->stat_names[i], false);
	if (s->o->oos_from != NULL)
		for (uint32_t i = 0; i < r->nstats && rc == 0; i++) {
			char name[128];
			snprintf(name, sizeof(name), "oos_%s", r->stat_names[i]);
			rc = csv_field(b, len, cap, name, false);
		}
	return rc == 0 ? sb_add(b, len, cap, "\n", 1) : rc;
}

/* Turns a finished combination into rows: appended to the file now, kept
 * for the sorted rewrite. */
static int emit_rows(struct sweep_run *s, uint64_t combo, struct pending *p)
{
	const struct ig_sweep_runner *r = s->o->runner;
	const char *vals[IG_SWEEP_MAX_GRIDS];
	char field[IG_SWEEP_STAT_MAX];

	ig_sweep_combo(s->o->grids, s->o->ngrids, combo, vals);
	for (uint32_t st = 0; st < p->nstrat; st++) {
		char *b = NULL;
		size_t len = 0, cap = 0;
		const char *is = p->is_vals, *oos = p->oos_vals;
		int rc = 0;
		struct row *row;
		/* The strategy's line in each block. */
		for (uint32_t k = 0; k < st && is != NULL; k++)
			is = strchr(is, '\n') != NULL ? strchr(is, '\n') + 1 : NULL;
		for (uint32_t k = 0; k < st && oos != NULL; k++)
			oos = strchr(oos, '\n') != NULL ? strchr(oos, '\n') + 1 : NULL;
		for (uint32_t i = 0; i < s->o->ngrids && rc == 0; i++)
			rc = csv_field(&b, &len, &cap, vals[i], i == 0);
		if (rc == 0)
			rc = csv_field(&b, &len, &cap, p->names[st], s->o->ngrids == 0);
		for (uint32_t i = 0; i < r->nstats && rc == 0; i++) {
			tab_field(is, i, field, sizeof(field));
			rc = csv_field(&b, &len, &cap, field, false);
		}
		if (s->o->oos_from != NULL)
			for (uint32_t i = 0; i < r->nstats && rc == 0; i++) {
				tab_field(oos, i, field, sizeof(field));
				rc = csv_field(&b, &len, &cap, field, false);
			}
		if (rc == 0)
			rc = sb_add(&b, &len, &cap, "\n", 1);
		if (rc == 0 && s->nrows == s->caprows) {
			size_t c = s->caprows ? s->caprows * 2 : 256;
			struct row *nr = realloc(s->rows, c * sizeof(*nr));
			if (nr == NULL)
				rc = IG_ENOMEM;
			else {
				s->rows = nr;
				s->caprows = c;
			}
		}
		if (rc != 0) {
			free(b);
			return rc;
		}
		fputs(b, s->csv);
		row = &s->rows[s->nrows++];
		row->line = b;
		row->combo = combo;
		row->strategy = st;
		tab_field(is, (uint32_t)s->sort_col, field, sizeof(field));
		{
			char *end;
			row->key = field[0] ? strtod(field, &end) : NAN;
			if (field[0] && *end != '\0')
				row->key = NAN;
		}
	}
	fflush(s->csv);
	return 0;
}

static bool g_ascending;

/* Best first; undefined statistics last; ties by combination and strategy,
 * so the order is the same on every run. */
static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	bool nx = isnan(x->key), ny = isnan(y->key);
	if (nx != ny)
		return nx ? 1 : -1;
	if (!nx && x->key != y->key)
		return (x->key < y->key) == g_ascending ? -1 : 1;
	if (x->combo != y->combo)
		return x->combo < y->combo ? -1 : 1;
	return x->strategy < y->strategy ? -1 : x->strategy > y->strategy;
}

/* Parses one result line of a worker. Returns 1 when the worker finished its
 * combination, 0 otherwise, negative on error. */
static int on_line(struct sweep_run *s, struct worker *w, struct pending *p, char *line)
{
	char *t1 = strchr(line, '\t'), *t2;
	if (t1 == NULL)
		return IG_EPARSE;
	t2 = strchr(t1 + 1, '\t');
	if (line[0] == 'D') {
		int rc = emit_rows(s, w->combo, p);
		return rc != 0 ? rc : 1;
	}
	if (line[0] == 'E') {
		s->failed++;
		if (s->errors_shown++ < 5)
			fprintf(stderr, "\nsweep: combination %llu failed: %s\n",
				(unsigned long long)w->combo, t2 != NULL ? t2 + 1 : "");
		return 1;
	}
	if (t2 == NULL)
		return IG_EPARSE;
	{
		/* "R|O \t idx \t name \t stats..." */
		char *name = t2 + 1, *tab = strchr(name, '\t');
		char **blk = line[0] == 'R' ? &p->is_vals : &p->oos_vals;
		size_t have = *blk ? strlen(*blk) : 0, add;
		char *nb;
		if (tab == NULL)
			return IG_EPARSE;
		if (line[0] == 'R') {
			if (p->nstrat == IG_MAX_STRATEGIES)
				return IG_ELIMIT;
			snprintf(p->names[p->nstrat], IG_CFG_NAME_MAX, "%.*s", (int)(tab - name), name);
			p->nstrat++;
		}
		add = strlen(tab + 1);
		nb = realloc(*blk, have + add + 2);
		if (nb == NULL)
			return IG_ENOMEM;
		memcpy(nb + have, tab + 1, add);
		nb[have + add] = '\n';
		nb[have + add + 1] = '\0';
		*blk = nb;
	}
	return 0;
}

static void pending_reset(struct pending *p)
{
	free(p->is_vals);
	free(p->oos_vals);
	memset(p, 0, sizeof(*p));
}

static void progress(uint64_t done, uint64_t total, int64_t t0_ns, uint32_t runs_per_combo)
{
	double el = (double)(ig_clock_mono_ns() - t0_ns) / 1e9;
	double rate = el > 0 ? (double)done * runs_per_combo / el : 0;
	int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : 0;
	char bar[64];

	for (int i = 0; i < width; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\rsweep [%s] %llu/%llu  %.1f runs/s", bar, (unsigned long long)done,
		(unsigned long long)total, rate);
	if (done > 0 && done < total)
		fprintf(stderr, "  ETA %.0fs  ", el / (double)done * (double)(total - done));
	else
		fprintf(stderr, "           ");
	fflush(stderr);
}

/* The CSV field at index col of line (0-based), unquoted, into out. */
static void csv_col(const char *line, uint32_t col, char *out, size_t cap)
{
	const char *c = line;
	size_t n = 0;
	for (uint32_t i = 0; i < col && c != NULL; i++) {
		/* Skip one field, quoted or not. */
		if (*c == '"') {
			for (c++; *c != '\0' && !(c[0] == '"' && c[1] != '"'); c += c[0] == '"' ? 2 : 1)
				;
			if (*c == '"')
				c++;
		}
		c = strchr(c, ',');
		if (c != NULL)
			c++;
	}
	if (c == NULL) {
		out[0] = '\0';
		return;
	}
	if (*c == '"')
		c++;
	while (c[n] != '\0' && c[n] != ',' && c[n] != '\n' && c[n] != '"' && n + 1 < cap)
		n++;
	memcpy(out, c, n);
	out[n] = '\0';
}

/* Prints the best rows: the swept values, the strategy, the ranking
 * statistic and a few others every trader looks at (and their out-of-sample
 * values with --oos-from). */
static void print_top(const struct sweep_run *s, uint32_t top)
{
	static const char *const show[] = {"return_pct", "max_drawdown_pct", "trades", "sharpe"};
	const struct ig_sweep_opts *o = s->o;
	const struct ig_sweep_runner *r = o->runner;
	uint32_t cols[1 + 4], ncols = 0, base = o->ngrids + 1;
	char field[IG_SWEEP_STAT_MAX];

	if (s->nrows == 0)
		return;
	cols[ncols++] = (uint32_t)s->sort_col;
	for (uint32_t k = 0; k < 4; k++)
		for (uint32_t i = 0; i < r->nstats; i++)
			if (strcmp(r->stat_names[i], show[k]) == 0 && i != (uint32_t)s->sort_col)
				cols[ncols++] = i;
	printf("%-4s", "#");
	for (uint32_t i = 0; i < o->ngrids; i++) {
		const char *k = strrchr(o->grids[i].key, '.');
		printf(" %10.10s", k != NULL ? k + 1 : o->grids[i].key);
	}
	printf(" %-12.12s", "strategy");
	for (uint32_t c = 0; c < ncols; c++)
		printf(" %16.16s", r->stat_names[cols[c]]);
	if (o->oos_from != NULL)
		for (uint32_t c = 0; c < 2 && c < ncols; c++) {
			char name[64];
			snprintf(name, sizeof(name), "oos_%s", r->stat_names[cols[c]]);
			printf(" %16.16s", name);
		}
	printf("\n");
	for (size_t k = 0; k < s->nrows && k < top; k++) {
		const char *line = s->rows[k].line;
		printf("%-4zu", k + 1);
		for (uint32_t i = 0; i < o->ngrids; i++) {
			csv_col(line, i, field, sizeof(field));
			printf(" %10.10s", field);
		}
		csv_col(line, o->ngrids, field, sizeof(field));
		printf(" %-12.12s", field);
		for (uint32_t c = 0; c < ncols; c++) {
			csv_col(line, base + cols[c], field, sizeof(field));
			printf(" %16.16s", field[0] ? field : "-");
		}
		if (o->oos_from != NULL)
			for (uint32_t c = 0; c < 2 && c < ncols; c++) {
				csv_col(line, base + r->nstats + cols[c], field, sizeof(field));
				printf(" %16.16s", field[0] ? field : "-");
			}
		printf("\n");
	}
}

/* ------------------------------------------------------------------ run */

int ig_sweep_run(const struct ig_sweep_opts *o, struct ig_sweep_result *res, char *err,
		 size_t errlen)
{
	static struct ig_config cfg0;
	struct sweep_run s;
	struct worker *w = NULL;
	uint64_t *plan = NULL, total, planned, next = 0, done = 0;
	uint32_t jobs, alive = 0;
	const char *sort = o->sort != NULL ? o->sort : "sharpe";
	struct sigaction sa, old_int, old_pipe;
	int64_t t0;
	int rc = 0;
	char *b = NULL;
	size_t len = 0, cap = 0;
	const char *vals[IG_SWEEP_MAX_GRIDS];

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	s.o = o;
	if (o->runner == NULL || o->runner->run == NULL) {
		snprintf(err, errlen, "sweep: no runner");
		return IG_EINVAL;
	}
	if (o->ngrids == 0 || o->ngrids > IG_SWEEP_MAX_GRIDS) {
		snprintf(err, errlen, "sweep: give 1 to %d --grid options", IG_SWEEP_MAX_GRIDS);
		return IG_EINVAL;
	}
	s.ascending = sort[0] == '-';
	if (s.ascending)
		sort++;
	s.sort_col = -1;
	for (uint32_t i = 0; i < o->runner->nstats; i++)
		if (strcmp(o->runner->stat_names[i], sort) == 0)
			s.sort_col = (int)i;
	if (s.sort_col < 0) {
		snprintf(err, errlen, "sweep: --sort %s: not a statistic (see stats.json's keys)", sort);
		return IG_EINVAL;
	}

	/* The config as given, to resolve the grids against. */
	rc = ig_config_load(&cfg0, o->config, o->sets, o->nsets, err, errlen);
	if (rc != 0)
		return rc;
	for (uint32_t i = 0; i < o->ngrids; i++) {
		if ((rc = ig_sweep_grid_resolve(&o->grids[i], &cfg0, err, errlen)) != 0)
			return rc;
		for (uint32_t k = 0; k < i; k++)
			if (strcmp(o->grids[k].key, o->grids[i].key) == 0) {
				snprintf(err, errlen, "sweep: --grid %s given twice", o->grids[i].key);
				return IG_EINVAL;
			}
	}
	total = ig_sweep_total(o->grids, o->ngrids);
	planned = o->random > 0 && o->random < total ? o->random : total;
	if (planned > MAX_PLANNED) {
		snprintf(err, errlen,
			 "sweep: %llu combinations; at most %u per sweep (use --random N)",
			 (unsigned long long)planned, MAX_PLANNED);
		return IG_ELIMIT;
	}
	plan = malloc(planned * sizeof(*plan));
	if (plan == NULL)
		return IG_ENOMEM;
	if (o->random > 0)
		planned = ig_sweep_sample(total, planned, o->seed, plan);
	else
		for (uint64_t i = 0; i < planned; i++)
			plan[i] = i;

	/* The first combination's config, checked here (a typo in a value
	 * shows once, not once per run) and given to the runner to load the
	 * data every worker shares. */
	{
		static struct ig_cfg_override ovr[64 + IG_SWEEP_MAX_GRIDS + 1];
		size_t n = 0;
		ig_sweep_combo(o->grids, o->ngrids, plan[0], vals);
		for (size_t i = 0; i < o->nsets && n < 64; i++)
			ovr[n++] = o->sets[i];
		for (uint32_t i = 0; i < o->ngrids; i++) {
			ovr[n].key = o->grids[i].key;
			ovr[n].value = vals[i];
			n++;
		}
		if (o->oos_from != NULL) {
			ovr[n].key = "feed.to";
			ovr[n].value = o->oos_from;
			n++;
		}
		rc = ig_config_load(&cfg0, o->config, ovr, n, err, errlen);
		if (rc == 0 && o->runner->prepare != NULL)
			rc = o->runner->prepare(o->runner->arg, &cfg0, err, errlen);
		if (rc != 0) {
			free(plan);
			return rc;
		}
	}

	jobs = o->jobs;
	if (jobs == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? (uint32_t)n : 1;
	}
	if (jobs > MAX_JOBS)
		jobs = MAX_JOBS;
	if (jobs > planned)
		jobs = (uint32_t)planned;
	res->jobs = jobs;
	res->planned = planned;

	snprintf(s.path, sizeof(s.path), "%s/sweep.csv", o->out_dir ? o->out_dir : "sweep-out");
	mkdir(o->out_dir ? o->out_dir : "sweep-out", 0755);
	s.csv = fopen(s.path, "w");
	if (s.csv == NULL) {
		snprintf(err, errlen, "sweep: cannot write %s: %s", s.path, strerror(errno));
		free(plan);
		return IG_EIO;
	}
	rc = header(&s, &b, &len, &cap);
	if (rc == 0)
		fputs(b, s.csv);
	free(b);
	w = calloc(jobs, sizeof(*w));
	s.pend = calloc(jobs, sizeof(*s.pend));
	if (rc != 0 || w == NULL || s.pend == NULL) {
		rc = IG_ENOMEM;
		goto out;
	}

	g_interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, &old_int);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	t0 = ig_clock_mono_ns();
	for (uint32_t i = 0; i < jobs; i++) {
		if ((rc = spawn(o, &w[i], w, i)) != 0) {
			snprintf(err, errlen, "sweep: cannot start worker %u: %s", i, strerror(errno));
			break;
		}
		alive++;
	}

	/* Hand out combinations; read answers; until all are done. */
	while (rc == 0 && alive > 0) {
		struct pollfd pf[MAX_JOBS];
		uint32_t map[MAX_JOBS], np = 0;
		for (uint32_t i = 0; i < jobs; i++) {
			if (!w[i].open)
				continue;
			if (!w[i].busy) {
				if (next < planned && !g_interrupted) {
					w[i].combo = plan[next++];
					w[i].busy = true;
					if (write_all(w[i].task_fd, (const char *)&w[i].combo,
						      sizeof(w[i].combo)) != 0) {
						rc = IG_EIO;
						break;
					}
				} else if (w[i].task_fd >= 0) {
					close(w[i].task_fd); /* no more: the worker exits */
					w[i].task_fd = -1;
				}
			}
			pf[np].fd = w[i].result_fd;
			pf[np].events = POLLIN;
			map[np++] = i;
		}
		if (rc != 0 || np == 0)
			break;
		if (o->progress)
			progress(done, planned, t0, o->oos_from ? 2 : 1);
		if (g_interrupted)
			break;
		if (poll(pf, np, 200) < 0) {
			if (errno == EINTR)
				continue;
			rc = IG_EIO;
			break;
		}
		for (uint32_t k = 0; k < np && rc == 0; k++) {
			struct worker *x = &w[map[k]];
			char chunk[8192];
			ssize_t r;
			char *nl;
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(x->result_fd, chunk, sizeof(chunk));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				/* The worker is gone: finished (no more work) or
				 * died mid-run. */
				if (x->busy) {
					s.failed++;
					done++;
					fprintf(stderr, "\nsweep: a worker died running combination %llu\n",
						(unsigned long long)x->combo);
				}
				bool crashed = x->busy;
				close(x->result_fd);
				if (x->task_fd >= 0)
					close(x->task_fd);
				waitpid(x->pid, NULL, 0);
				x->pid = 0;
				x->open = false;
				x->busy = false;
				free(x->buf);
				x->buf = NULL;
				x->len = x->cap = 0;
				pending_reset(&s.pend[map[k]]);
				alive--;
				/* A worker that died mid-run is replaced while work
				 * is left: one bad combination does not shrink the
				 * sweep. */
				if (crashed && next < planned && !g_interrupted) {
					if ((rc = spawn(o, x, w, jobs)) != 0) {
						snprintf(err, errlen, "sweep: cannot restart a worker: %s",
							 strerror(errno));
						break;
					}
					alive++;
				}
				continue;
			}
			if ((rc = sb_add(&x->buf, &x->len, &x->cap, chunk, (size_t)r)) != 0)
				break;
			while (rc == 0 && (nl = memchr(x->buf, '\n', x->len)) != NULL) {
				size_t ll = (size_t)(nl - x->buf) + 1;
				int lr;
				*nl = '\0';
				lr = on_line(&s, x, &s.pend[map[k]], x->buf);
				memmove(x->buf, x->buf + ll, x->len - ll);
				x->len -= ll;
				if (lr < 0) {
					snprintf(err, errlen, "sweep: a worker's answer could not be read (%s)",
						 ig_strerror(lr));
					rc = lr;
				} else if (lr == 1) {
					pending_reset(&s.pend[map[k]]);
					x->busy = false;
					done++;
				}
			}
		}
	}
	if (o->progress) {
		progress(done, planned, t0, o->oos_from ? 2 : 1);
		fputc('\n', stderr);
	}
	res->elapsed_s = (double)(ig_clock_mono_ns() - t0) / 1e9;

out:
	/* Stop the workers: after Ctrl-C or an error they may be mid-run. */
	for (uint32_t i = 0; w != NULL && i < jobs; i++) {
		free(w[i].buf);
		pending_reset(&s.pend[i]);
		if (w[i].pid <= 0)
			continue;
		if (w[i].open) {
			if (w[i].busy || g_interrupted || rc != 0)
				kill(w[i].pid, SIGKILL);
			if (w[i].task_fd >= 0)
				close(w[i].task_fd);
			close(w[i].result_fd);
		}
		waitpid(w[i].pid, NULL, 0);
	}
	if (w != NULL) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGPIPE, &old_pipe, NULL);
	}
	fclose(s.csv);
	if (o->runner->release != NULL)
		o->runner->release(o->runner->arg);
	/* The rows kept, sorted, best first: rewritten whole, then renamed
	 * over the file that grew as they came. */
	if (s.nrows > 0) {
		char tmp[1100];
		FILE *f;
		g_ascending = s.ascending;
		qsort(s.rows, s.nrows, sizeof(*s.rows), cmp_row);
		snprintf(tmp, sizeof(tmp), "%s.tmp", s.path);
		f = fopen(tmp, "w");
		b = NULL;
		len = cap = 0;
		if (f != NULL && header(&s, &b, &len, &cap) == 0) {
			fputs(b, f);
			for (size_t i = 0; i < s.nrows; i++)
				fputs(s.rows[i].line, f);
			if (fclose(f) == 0)
				rename(tmp, s.path);
		} else if (f != NULL) {
			fclose(f);
		}
		free(b);
		if (!o->quiet)
			print_top(&s, o->top ? o->top : 10);
	}
	res->done = done;
	res->failed = s.failed;
	res->rows = s.nrows;
	res->interrupted = g_interrupted != 0;
	res->runs_per_s = res->elapsed_s > 0
				  ? (double)(done - s.failed) * (o->oos_from ? 2 : 1) / res->elapsed_s
				  : 0;
	for (size_t i = 0; i < s.nrows; i++)
		free(s.rows[i].line);
	free(s.rows);
	free(s.pend);
	free(w);
	free(plan);
	if (rc == 0 && g_interrupted)
		rc = IG_EINTR;
	return rc;
}
