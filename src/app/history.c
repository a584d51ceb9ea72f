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
 * Queries read either store with one SQL text per query (see "queries"
 * below): a backend only fetches the rows as text; the formatting, the
 * pnl walk and the output (an aligned table, CSV or a JSON array of
 * objects) are shared, so both stores print the same bytes. pnl replays
 * each strategy's fills through the OMS's own position arithmetic
 * (ig_pos_apply_fill: average cost, fees booked the same way), per UTC
 * day, in the order the OMS applied them: by time, then by fills.seq
 * (fills that share a time; their order moves the average cost's
 * rounding), then by trade id as a number (rows from before seq).
 *
 * Owner: the main thread.
 */
#include "app/history.h"

#include "config/config.h"
#include "core/log.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/position.h"
#include "store/recorder.h"

#include <inttypes.h>
#include <jansson.h>
#include <sqlite3.h>
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
	struct ig_recorder *r = NULL;
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
	ro.sync = true;
	ro.no_session = true;
	ig_log_set_level(IG_LOG_ERROR); /* the replay's order lines are not news */
	rc = ig_recorder_create(&r, &ro, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ingenium history: %s: %s\n",
			kind == IG_STORE_SQLITE ? ro.target : "postgres", err);
		return 1;
	}
	rc = ig_recorder_journal_sessions(r, a->journal);
	if (rc == 0)
		rc = ig_recorder_replay(r, a->journal);
	if (ig_recorder_stop(r, 0) != 0 && rc == 0)
		rc = IG_EIO;
	ig_recorder_stats(r, &st);
	ig_recorder_destroy(r);
	if (rc != 0) {
		fprintf(stderr, "ingenium history: rebuild from %s failed: %s (%" PRIu64 " errors)\n",
			a->journal, ig_strerror(rc), st.errors);
		return 1;
	}
	printf("history rebuild: %" PRIu64 " rows from %s into %s:%s (daemon_id %s)\n", st.rows,
	       a->journal, st.kind, kind == IG_STORE_SQLITE ? ro.target : "(url)",
	       cfg.store.daemon_id);
	return 0;
}

/* ---- output ------------------------------------------------------------- */

struct table {
	const char *const *cols;
	size_t ncols;
	char **cells; /* rows * ncols, malloc'd strings (NULL: SQL NULL) */
	size_t rows, cap;
};

static int add_row(struct table *t, char **row)
{
	if (t->rows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		char **c = realloc(t->cells, nc * t->ncols * sizeof(*c));
		if (c == NULL)
			return -1;
		t->cells = c;
		t->cap = nc;
	}
	memcpy(&t->cells[t->rows * t->ncols], row, t->ncols * sizeof(*row));
	t->rows++;
	return 0;
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

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

static int print_table(const struct table *t, const struct hargs *a)
{
	if (a->json) {
		json_t *arr = json_array();
		for (size_t r = 0; arr != NULL && r < t->rows; r++) {
			json_t *o = json_object();
			for (size_t c = 0; o != NULL && c < t->ncols; c++) {
				const char *v = t->cells[r * t->ncols + c];
				json_object_set_new(o, t->cols[c], v != NULL ? json_string(v) : json_null());
			}
			json_array_append_new(arr, o);
		}
		if (arr == NULL || json_dumpf(arr, stdout, JSON_INDENT(1)) != 0) {
			json_decref(arr);
			return -1;
		}
		putchar('\n');
		json_decref(arr);
		return 0;
	}
	if (a->csv) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				putchar(',');
			csv_cell(t->cols[c]);
		}
		putchar('\n');
		for (size_t r = 0; r < t->rows; r++) {
			for (size_t c = 0; c < t->ncols; c++) {
				if (c)
					putchar(',');
				csv_cell(t->cells[r * t->ncols + c]);
			}
			putchar('\n');
		}
		return 0;
	}
	{
		size_t w[32] = { 0 };
		for (size_t c = 0; c < t->ncols && c < 32; c++) {
			w[c] = strlen(t->cols[c]);
			for (size_t r = 0; r < t->rows; r++) {
				const char *v = t->cells[r * t->ncols + c];
				size_t l = v != NULL ? strlen(v) : 0;
				if (l > w[c])
					w[c] = l;
			}
		}
		for (size_t c = 0; c < t->ncols && c < 32; c++)
			printf("%-*s%s", (int)w[c], t->cols[c], c + 1 < t->ncols ? "  " : "\n");
		for (size_t r = 0; r < t->rows; r++)
			for (size_t c = 0; c < t->ncols && c < 32; c++) {
				const char *v = t->cells[r * t->ncols + c];
				printf("%-*s%s", (int)w[c], v != NULL ? v : "", c + 1 < t->ncols ? "  " : "\n");
			}
	}
	return 0;
}

/* ---- queries ------------------------------------------------------------ */

/*
 * Each query is one SQL text for both backends ($1 strategy, $2 daemon,
 * $3 from, $4 to; SQLite reads them as ?1..?4) on the base tables. A
 * backend's fetcher hands back every cell as text, money as its int64
 * 1e-8 units and times as Unix ns; the formatting below is the same for
 * both.
 */

enum col_kind {
	COL_TEXT,  /* as is */
	COL_MONEY, /* 1e-8 units, shown with 8 decimals */
	COL_NS,    /* Unix ns, shown as UTC with its nanoseconds */
	COL_SECS,  /* Unix ns, shown as UTC to the second */
};

/* A backend's connection for one query. */
struct fetcher {
	int kind; /* IG_STORE_SQLITE or IG_STORE_POSTGRES */
	const char *target;
	sqlite3 *db;
};

/* Collects rows of a fetch into t, normalising money cells to units. */
struct collect {
	struct table *t;
	const unsigned char *kinds;
	bool money_decimal; /* the backend gives money as decimal text */
	bool malformed;     /* a money cell was refused (and said so) */
};

/* Copies the cells of one row into c->t. Returns 0 or -1 (no memory, a
 * malformed money cell). */
static int collect_row(void *ctx, const char *const *cells, int ncols)
{
	struct collect *c = ctx;
	char *row[32];
	size_t n = c->t->ncols;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *v = (int)i < ncols ? cells[i] : NULL;
		row[i] = NULL;
		if (v != NULL && c->money_decimal && c->kinds[i] == COL_MONEY) {
			int64_t units;
			char b[24];
			if (ig_fixed_parse_cstr(v, &units) != 0) {
				fprintf(stderr, "ingenium history: not an exact amount in the store: %s\n", v);
				c->malformed = true;
				bad = 1;
				continue;
			}
			snprintf(b, sizeof(b), "%" PRId64, units);
			row[i] = strdup(b);
		} else if (v != NULL) {
			row[i] = strdup(v);
		}
		if (row[i] == NULL && v != NULL && !bad)
			bad = 1;
	}
	if (bad || add_row(c->t, row) != 0) {
		for (size_t i = 0; i < n; i++)
			free(row[i]);
		return -1;
	}
	return 0;
}

/* Runs sql with the filters of a on f's store, its rows into t (kinds:
 * per column). Returns 0 or -1 with the error printed. */
static int fetch(struct fetcher *f, const char *sql, const unsigned char *kinds,
		 const struct hargs *a, struct table *t)
{
	struct collect c = { t, kinds, f->kind == IG_STORE_POSTGRES, false };

	if (f->kind == IG_STORE_POSTGRES) {
		static const unsigned char is_int[4] = { 0, 0, 1, 1 };
		char from[24], to[24], err[512];
		const char *params[4];
		int rc;
		snprintf(from, sizeof(from), "%" PRId64, a->from_ns);
		snprintf(to, sizeof(to), "%" PRId64, a->to_ns);
		params[0] = a->strategy;
		params[1] = a->daemon;
		params[2] = from;
		params[3] = to;
		rc = ig_store_pg_select(f->target, sql, 4, params, is_int, collect_row, &c, err,
					sizeof(err));
		if (rc != 0) {
			/* a refused cell stops the fetch as IG_ENOMEM: said already */
			if (!c.malformed)
				fprintf(stderr, "ingenium history: %s\n",
					rc == IG_ENOMEM ? "out of memory" : err);
			return -1;
		}
		return 0;
	}
	{
		char q[2048];
		sqlite3_stmt *st;
		size_t n = strlen(sql);
		int rc;
		if (n >= sizeof(q))
			return -1;
		/* $N -> ?N: the same numbered parameters */
		for (size_t i = 0; i <= n; i++)
			q[i] = sql[i] == '$' ? '?' : sql[i];
		if (sqlite3_prepare_v2(f->db, q, -1, &st, NULL) != SQLITE_OK) {
			fprintf(stderr, "ingenium history: %s\n", sqlite3_errmsg(f->db));
			return -1;
		}
		if (a->strategy != NULL)
			sqlite3_bind_text(st, 1, a->strategy, -1, SQLITE_STATIC);
		if (a->daemon != NULL)
			sqlite3_bind_text(st, 2, a->daemon, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, a->from_ns);
		sqlite3_bind_int64(st, 4, a->to_ns);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *cells[32];
			int nc = sqlite3_column_count(st);
			if (nc > 32)
				nc = 32;
			for (int i = 0; i < nc; i++)
				cells[i] = (const char *)sqlite3_column_text(st, i);
			if (collect_row(&c, cells, nc) != 0) {
				rc = SQLITE_NOMEM;
				break;
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			if (!c.malformed)
				fprintf(stderr, "ingenium history: %s\n",
					rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(f->db));
			return -1;
		}
		return 0;
	}
}

/* Returns v (integer text) as an int64 (0 for NULL). */
static int64_t cell_int(const char *v)
{
	return v != NULL ? strtoll(v, NULL, 10) : 0;
}

/* Rewrites the money and time cells of t (kinds per column) for display:
 * money with 8 decimals, times as UTC. Returns 0 or -1 (no memory). */
static int format_cells(struct table *t, const unsigned char *kinds)
{
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			char **cell = &t->cells[r * t->ncols + c], b[64];
			int64_t v;
			if (*cell == NULL || kinds[c] == COL_TEXT)
				continue;
			v = cell_int(*cell);
			if (kinds[c] == COL_MONEY) {
				uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
				snprintf(b, sizeof(b), "%s%" PRIu64 ".%08" PRIu64, v < 0 ? "-" : "",
					 mag / 100000000u, mag % 100000000u);
			} else {
				/* floored: a time before 1970 is the second before, plus its ns */
				int64_t ns = v % 1000000000;
				time_t secs = (time_t)(v / 1000000000 - (ns < 0));
				struct tm tm;
				size_t l;
				if (ns < 0)
					ns += 1000000000;
				gmtime_r(&secs, &tm);
				l = strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
				if (kinds[c] == COL_NS)
					snprintf(b + l, sizeof(b) - l, ".%09" PRId64 "Z", ns);
				else
					snprintf(b + l, sizeof(b) - l, "Z");
			}
			free(*cell);
			*cell = strdup(b);
			if (*cell == NULL)
				return -1;
		}
	return 0;
}

#define FILTERS(at)                                                                           \
	" WHERE ($1 IS NULL OR strategy = $1) AND ($2 IS NULL OR daemon_id = $2)"             \
	" AND " at " >= $3 AND " at " <= $4"

static const char *const order_cols[] = { "daemon_id", "strategy", "client_order_id", "symbol",
					  "side", "type", "tif", "qty", "price", "filled_qty",
					  "state", "reject_reason", "created", "updated" };
static const unsigned char order_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT,
					     COL_TEXT, COL_TEXT, COL_MONEY, COL_MONEY, COL_MONEY,
					     COL_TEXT, COL_TEXT, COL_NS, COL_NS };
static const char order_sql[] =
	"SELECT daemon_id, strategy, client_order_id, symbol, side, type, tif, qty, price,"
	" filled_qty, state, reject_reason, created_at, updated_at FROM orders"
	FILTERS("created_at") " ORDER BY created_at, client_order_id";

static const char *const fill_cols[] = { "daemon_id", "strategy", "trade_id", "client_order_id",
					 "symbol", "side", "qty", "price", "fee", "fee_currency",
					 "liquidity", "at" };
static const unsigned char fill_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT,
					    COL_TEXT, COL_TEXT, COL_MONEY, COL_MONEY,
					    COL_MONEY, COL_TEXT, COL_TEXT, COL_NS };
static const char fill_sql[] =
	"SELECT daemon_id, strategy, trade_id, client_order_id, symbol, side, qty, price, fee,"
	" fee_currency, liquidity, at FROM fills" FILTERS("at")
	" ORDER BY at, seq, length(trade_id), trade_id";

static const char *const session_cols[] = { "daemon_id", "run_epoch", "config_hash", "venue",
					    "started", "stopped" };
static const unsigned char session_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT,
					       COL_TEXT, COL_SECS, COL_SECS };
static const char session_sql[] =
	"SELECT daemon_id, run_epoch, config_hash, venue, started_at, stopped_at FROM sessions"
	" WHERE ($2 IS NULL OR daemon_id = $2) AND started_at >= $3 AND started_at <= $4"
	" ORDER BY started_at";

static const char *const pnl_cols[] = { "daemon_id", "strategy", "day", "realized", "fees",
					"net", "trades", "end_position" };
/* The fills pnl walks: every one up to --to (the positions before --from
 * count toward the days shown). */
static const char *const pnl_fill_cols[] = { "daemon_id", "strategy", "symbol", "side", "qty",
					     "price", "fee", "fee_currency", "at" };
static const unsigned char pnl_fill_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT,
						COL_TEXT, COL_MONEY, COL_MONEY,
						COL_MONEY, COL_TEXT, COL_TEXT };
static const char pnl_sql[] =
	"SELECT daemon_id, strategy, symbol, side, qty, price, fee, fee_currency, at FROM fills"
	" WHERE ($1 IS NULL OR strategy = $1) AND ($2 IS NULL OR daemon_id = $2) AND at <= $4"
	" ORDER BY daemon_id, strategy, at, seq, length(trade_id), trade_id";

/* One strategy-day of pnl. */
struct pnl_day {
	char daemon[IG_STORE_NAME_MAX], strategy[IG_STORE_NAME_MAX];
	int64_t day, realized, fees, position;
	uint64_t trades;
};

/* Positions per (daemon, strategy, symbol), while walking the fills. */
struct pnl_pos {
	char daemon[IG_STORE_NAME_MAX], strategy[IG_STORE_NAME_MAX], symbol[IG_STORE_NAME_MAX];
	struct ig_pos p;
	int64_t cash;
};

static char *fmt_fixed(int64_t v)
{
	char b[IG_FIXED_STRLEN];
	ig_fixed_format(v, b, sizeof(b));
	return strdup(b);
}

static char *fmt_int(int64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRId64, v);
	return strdup(b);
}

/* pnl per strategy per UTC day from the fills f (pnl_fill_cols, in
 * order) through the OMS's position arithmetic, into t. The filters pick
 * the days shown; the positions before --from still count toward them.
 * Returns 0 or -1 (no memory). */
static int pnl(const struct table *f, const struct hargs *a, struct table *t)
{
	const int64_t day_ns = INT64_C(86400000000000);
	struct pnl_pos *pos = NULL;
	struct pnl_day *days = NULL;
	size_t npos = 0, ndays = 0, capd = 0;
	int rc = 0;

	for (size_t r = 0; r < f->rows && rc == 0; r++) {
		char *const *cell = &f->cells[r * f->ncols];
		const char *d = cell[0], *s = cell[1], *sym = cell[2], *side = cell[3];
		const char *cur = cell[7];
		int64_t qty = cell_int(cell[4]), px = cell_int(cell[5]);
		int64_t fee = cell_int(cell[6]), at = cell_int(cell[8]);
		int64_t realized0, fee_quote = 0, day, held = 0;
		char base[16];
		struct pnl_pos *p = NULL;
		struct pnl_day *dd;
		bool base_fee;

		if (d == NULL || s == NULL || sym == NULL || side == NULL)
			continue;
		for (size_t i = 0; i < npos && p == NULL; i++)
			if (strcmp(pos[i].daemon, d) == 0 && strcmp(pos[i].strategy, s) == 0 &&
			    strcmp(pos[i].symbol, sym) == 0)
				p = &pos[i];
		if (p == NULL) {
			struct pnl_pos *np = realloc(pos, (npos + 1) * sizeof(*pos));
			if (np == NULL) {
				rc = -1;
				break;
			}
			pos = np;
			p = &pos[npos++];
			memset(p, 0, sizeof(*p));
			snprintf(p->daemon, sizeof(p->daemon), "%s", d);
			snprintf(p->strategy, sizeof(p->strategy), "%s", s);
			snprintf(p->symbol, sizeof(p->symbol), "%s", sym);
		}
		ig_store_currency_of(sym, false, base, sizeof(base));
		base_fee = cur != NULL && strcmp(cur, base) == 0;
		realized0 = p->p.realized_pnl;
		if (ig_pos_apply_fill(&p->p, &p->cash, strcmp(side, "buy") == 0 ? IG_SIDE_BUY : IG_SIDE_SELL,
				      px, qty, base_fee ? 0 : fee, base_fee ? fee : 0, &fee_quote) != 0)
			continue;
		day = at >= 0 ? at / day_ns : (at - day_ns + 1) / day_ns;
		if (at < a->from_ns)
			continue;
		dd = ndays > 0 ? &days[ndays - 1] : NULL;
		if (dd == NULL || dd->day != day || strcmp(dd->daemon, d) != 0 ||
		    strcmp(dd->strategy, s) != 0) {
			if (ndays == capd) {
				struct pnl_day *nd;
				capd = capd ? capd * 2 : 64;
				nd = realloc(days, capd * sizeof(*days));
				if (nd == NULL) {
					rc = -1;
					break;
				}
				days = nd;
			}
			dd = &days[ndays++];
			memset(dd, 0, sizeof(*dd));
			snprintf(dd->daemon, sizeof(dd->daemon), "%s", d);
			snprintf(dd->strategy, sizeof(dd->strategy), "%s", s);
			dd->day = day;
		}
		dd->realized += p->p.realized_pnl - realized0;
		dd->fees += fee_quote;
		dd->trades++;
		for (size_t i = 0; i < npos; i++)
			if (strcmp(pos[i].daemon, d) == 0 && strcmp(pos[i].strategy, s) == 0)
				held += pos[i].p.qty;
		dd->position = held;
	}
	for (size_t i = 0; rc == 0 && i < ndays; i++) {
		char *row[8];
		char day[16];
		time_t secs = (time_t)(days[i].day * 86400);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		row[0] = strdup(days[i].daemon);
		row[1] = strdup(days[i].strategy);
		row[2] = strdup(day);
		row[3] = fmt_fixed(days[i].realized);
		row[4] = fmt_fixed(days[i].fees);
		row[5] = fmt_fixed(days[i].realized - days[i].fees);
		row[6] = fmt_int((int64_t)days[i].trades);
		row[7] = fmt_fixed(days[i].position);
		if (add_row(t, row) != 0) {
			for (int k = 0; k < 8; k++)
				free(row[k]);
			rc = -1;
		}
	}
	free(pos);
	free(days);
	if (rc != 0)
		fprintf(stderr, "ingenium history: out of memory\n");
	return rc;
}

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

static int query(const struct hargs *a)
{
	struct table t;
	struct fetcher f;
	const unsigned char *kinds = NULL;
	int rc;

	memset(&t, 0, sizeof(t));
	memset(&f, 0, sizeof(f));
	if (store_target(a->store, &f.kind, &f.target) != 0)
		return 2;
	if (strcmp(a->what, "orders") != 0 && strcmp(a->what, "fills") != 0 &&
	    strcmp(a->what, "sessions") != 0 && strcmp(a->what, "pnl") != 0) {
		fprintf(stderr, "ingenium history: unknown query \"%s\" (orders, fills, pnl, sessions)\n",
			a->what);
		return 2;
	}
	if (f.kind == IG_STORE_SQLITE &&
	    sqlite3_open_v2(f.target, &f.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "ingenium history: %s: %s\n", f.target, sqlite3_errmsg(f.db));
		sqlite3_close(f.db);
		return 2;
	}
	if (strcmp(a->what, "orders") == 0) {
		t.cols = order_cols;
		t.ncols = NCOLS(order_cols);
		kinds = order_kinds;
		rc = fetch(&f, order_sql, kinds, a, &t);
	} else if (strcmp(a->what, "fills") == 0) {
		t.cols = fill_cols;
		t.ncols = NCOLS(fill_cols);
		kinds = fill_kinds;
		rc = fetch(&f, fill_sql, kinds, a, &t);
	} else if (strcmp(a->what, "sessions") == 0) {
		t.cols = session_cols;
		t.ncols = NCOLS(session_cols);
		kinds = session_kinds;
		rc = fetch(&f, session_sql, kinds, a, &t);
	} else {
		struct table fills;
		memset(&fills, 0, sizeof(fills));
		fills.cols = pnl_fill_cols;
		fills.ncols = NCOLS(pnl_fill_cols);
		t.cols = pnl_cols;
		t.ncols = NCOLS(pnl_cols);
		rc = fetch(&f, pnl_sql, pnl_fill_kinds, a, &fills);
		if (rc == 0)
			rc = pnl(&fills, a, &t);
		free_table(&fills);
	}
	sqlite3_close(f.db);
	if (rc == 0 && kinds != NULL && format_cells(&t, kinds) != 0) {
		fprintf(stderr, "ingenium history: out of memory\n");
		rc = -1;
	}
	if (rc == 0)
		rc = print_table(&t, a);
	free_table(&t);
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
