/*
 * history.c - `ingenium history` (see history.h).
 *
 * Design
 * ------
 * rebuild: a recorder in sync mode (recorder.h) on the store named by
 * --store; the journal's SESSION records become session rows, then the
 * journal is replayed through a fresh OMS built from -c CONFIG carrying
 * the recorder's hooks, exactly as the live recorder's catch-up does, so
 * the rows equal the live ones (inserts are idempotent: rebuilding into a
 * store that already has them changes nothing).
 *
 * Queries are store/query.h's (ig_store_query_run: one SQL text per query
 * for both stores, the formatting and the pnl walk shared, the rows as a
 * JSON array of objects, the same the API's /api/v1/history/... serve):
 * --json prints those rows; --csv and the aligned table format the same
 * rows, so both stores print the same bytes.
 *
 * Owner: the main thread.
 */
#include "app/history.h"

#include "config/config.h"
#include "core/log.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "store/query.h"
#include "store/recorder.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct hargs {
	const char *journal, *store, *config, *what;
	const char *strategy, *daemon;
	int64_t from_ns, to_ns;
	bool csv, json;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ingenium history rebuild --journal FILE --store sqlite:PATH|postgres:ENV_VAR"
		   " -c CONFIG\n"
		   "       ingenium history --store sqlite:PATH|postgres:ENV_VAR orders|fills|pnl|sessions\n"
		   "                        [--strategy S] [--daemon D] [--from T] [--to T] [--csv|--json]\n"
		   "  T: an ISO 8601 date or date-time (UTC), e.g. 2024-01-31 or 2024-01-31T09:30:00Z;\n"
		   "     both ends are included, and --to with a date alone includes that whole day\n");
}

static int parse_time(const char *s, int64_t *out)
{
	if (ig_feed_parse_iso8601(s, strlen(s), out) != 0) {
		fprintf(stderr, "ingenium history: not an ISO 8601 date or date-time: \"%s\"\n", s);
		return -1;
	}
	return 0;
}

static int parse(int argc, char **argv, struct hargs *a)
{
	memset(a, 0, sizeof(*a));
	a->from_ns = INT64_MIN;
	a->to_ns = INT64_MAX;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(o, "--journal") == 0 && v) {
			a->journal = v, i++;
		} else if (strcmp(o, "--store") == 0 && v) {
			a->store = v, i++;
		} else if ((strcmp(o, "-c") == 0 || strcmp(o, "--config") == 0) && v) {
			a->config = v, i++;
		} else if (strcmp(o, "--strategy") == 0 && v) {
			a->strategy = v, i++;
		} else if (strcmp(o, "--daemon") == 0 && v) {
			a->daemon = v, i++;
		} else if (strcmp(o, "--from") == 0 && v) {
			if (parse_time(v, &a->from_ns) != 0)
				return -1;
			i++;
		} else if (strcmp(o, "--to") == 0 && v) {
			if (parse_time(v, &a->to_ns) != 0)
				return -1;
			/* A date alone names its whole day: up to its last ns. */
			if (strlen(v) == 10 &&
			    __builtin_add_overflow(a->to_ns, INT64_C(86400000000000) - 1, &a->to_ns))
				a->to_ns = INT64_MAX;
			i++;
		} else if (strcmp(o, "--csv") == 0) {
			a->csv = true;
		} else if (strcmp(o, "--json") == 0) {
			a->json = true;
		} else if (o[0] != '-' && a->what == NULL) {
			a->what = o;
		} else {
			fprintf(stderr, "ingenium history: unknown or incomplete option \"%s\"\n", o);
			return -1;
		}
	}
	if (a->what == NULL || a->store == NULL || (a->csv && a->json)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* --store KIND:ARG into the backend kind and its target (a path, or the
 * URL read from the variable named: never printed). Returns 0 or -1. */
static int store_target(const char *spec, int *kind, const char **target)
{
	if (strncmp(spec, "sqlite:", 7) == 0 && spec[7] != '\0') {
		*kind = IG_STORE_SQLITE;
		*target = spec + 7;
		return 0;
	}
	if (strncmp(spec, "postgres:", 9) == 0 && spec[9] != '\0') {
		*kind = IG_STORE_POSTGRES;
		*target = getenv(spec + 9);
		if (*target == NULL || (*target)[0] == '\0') {
			fprintf(stderr, "ingenium history: $%s is not set\n", spec + 9);
			return -1;
		}
		return 0;
	}
	fprintf(stderr, "ingenium history: --store wants sqlite:PATH or postgres:ENV_VAR\n");
	return -1;
}

/* ---- rebuild ------------------------------------------------------------ */

static int rebuild(const struct hargs *a)
{
	static struct ig_config cfg;
	char names[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	const char *symbols[IG_MAX_INSTRUMENTS];
	struct ig_recorder_opts ro;
	struct ig_recorder_stats st;
	char err[IG_CFG_ERR_MAX];
	int kind, n, rc;

	if (a->journal == NULL || a->config == NULL) {
		usage(stderr);
		return 2;
	}
	if (store_target(a->store, &kind, &ro.target) != 0)
		return 2;
	rc = ig_config_load(&cfg, a->config, NULL, 0, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "%s\n", err);
		return rc == IG_ENOENT || rc == IG_EIO ? 2 : 1;
	}
	if (access(a->journal, R_OK) != 0) {
		fprintf(stderr, "ingenium history: %s: no such journal\n", a->journal);
		return 2;
	}
	n = ig_feed_symbols(&cfg, names);
	if (n < 0) {
		fprintf(stderr, "%s: feed.symbols: too many symbols\n", a->config);
		return 1;
	}
	for (int i = 0; i < n; i++)
		symbols[i] = names[i];
	{
		const char *target = ro.target;
		memset(&ro, 0, sizeof(ro));
		ro.target = target;
	}
	ro.ops = ig_recorder_backend(kind);
	if (ro.ops == NULL) {
		fprintf(stderr, "ingenium history: this build has no PostgreSQL backend\n");
		return 1;
	}
	ro.cfg = &cfg;
	ro.symbols = symbols;
	ro.ninstruments = (uint16_t)n;
	ig_log_set_level(IG_LOG_ERROR); /* the replay's order lines are not news */
	rc = ig_recorder_rebuild(&ro, a->journal, &st, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ingenium history: rebuild from %s into %s failed: %s\n", a->journal,
			kind == IG_STORE_SQLITE ? ro.target : "postgres", err);
		return 1;
	}
	printf("history rebuild: %" PRIu64 " rows from %s into %s:%s (daemon_id %s)\n", st.rows,
	       a->journal, st.kind, kind == IG_STORE_SQLITE ? ro.target : "(url)",
	       cfg.store.daemon_id);
	return 0;
}

/* ---- queries ------------------------------------------------------------ */

static void csv_cell(const char *s)
{
	if (s == NULL)
		return;
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

/* The text of column col of row (NULL for null). */
static const char *cell_of(json_t *row, const char *col)
{
	return json_string_value(json_object_get(row, col));
}

/* Prints rows (ig_store_query_run's, columns cols) as JSON, CSV or an
 * aligned table. Returns 0 or -1. */
static int print_rows(json_t *rows, const char *const *cols, size_t ncols, const struct hargs *a)
{
	size_t nrows = json_array_size(rows);

	if (a->json) {
		if (json_dumpf(rows, stdout, JSON_INDENT(1)) != 0)
			return -1;
		putchar('\n');
		return 0;
	}
	if (a->csv) {
		for (size_t c = 0; c < ncols; c++) {
			if (c)
				putchar(',');
			csv_cell(cols[c]);
		}
		putchar('\n');
		for (size_t r = 0; r < nrows; r++) {
			for (size_t c = 0; c < ncols; c++) {
				if (c)
					putchar(',');
				csv_cell(cell_of(json_array_get(rows, r), cols[c]));
			}
			putchar('\n');
		}
		return 0;
	}
	{
		size_t w[32] = { 0 };
		for (size_t c = 0; c < ncols && c < 32; c++) {
			w[c] = strlen(cols[c]);
			for (size_t r = 0; r < nrows; r++) {
				const char *v = cell_of(json_array_get(rows, r), cols[c]);
				size_t l = v != NULL ? strlen(v) : 0;
				if (l > w[c])
					w[c] = l;
			}
		}
		for (size_t c = 0; c < ncols && c < 32; c++)
			printf("%-*s%s", (int)w[c], cols[c], c + 1 < ncols ? "  " : "\n");
		for (size_t r = 0; r < nrows; r++)
			for (size_t c = 0; c < ncols && c < 32; c++) {
				const char *v = cell_of(json_array_get(rows, r), cols[c]);
				printf("%-*s%s", (int)w[c], v != NULL ? v : "", c + 1 < ncols ? "  " : "\n");
			}
	}
	return 0;
}

/* Runs the query of a (store/query.h: the same rows the API serves) and
 * prints it. Returns the exit status: 0, 1 (a failed query) or 2 (bad
 * arguments, a store that cannot be opened). */
static int query(const struct hargs *a)
{
	struct ig_store_query q;
	const char *const *cols;
	size_t ncols;
	json_t *rows = NULL;
	char err[512];
	int rc;

	memset(&q, 0, sizeof(q));
	if (store_target(a->store, &q.kind, &q.target) != 0)
		return 2;
	cols = ig_store_query_columns(a->what, &ncols);
	if (cols == NULL) {
		fprintf(stderr, "ingenium history: unknown query \"%s\" (orders, fills, pnl, sessions)\n",
			a->what);
		return 2;
	}
	q.what = a->what;
	q.strategy = a->strategy;
	q.daemon = a->daemon;
	q.from_ns = a->from_ns;
	q.to_ns = a->to_ns;
	rc = ig_store_query_run(&q, &rows, NULL, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ingenium history: %s\n", err);
		return rc == IG_ENOENT ? 2 : 1;
	}
	rc = print_rows(rows, cols, ncols, a);
	json_decref(rows);
	return rc == 0 ? 0 : 1;
}

int ig_history_main(int argc, char **argv)
{
	struct hargs a;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (parse(argc, argv, &a) != 0)
		return 2;
	if (strcmp(a.what, "rebuild") == 0)
		return rebuild(&a);
	return query(&a);
}
