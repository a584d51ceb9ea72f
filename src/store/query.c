/*
 * query.c - the history store's queries (see query.h).
 *
 * Owner: the caller's thread (the CLI's main thread, the API's thread).
 */
#include "store/query.h"

#include "config/config.h"
#include "core/clock.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/position.h"
#include "store/recorder.h"
#include "store/store.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_COLS 32

/* Rows of text cells: malloc'd strings, NULL for SQL NULL. */
struct table {
	const char *const *cols;
	size_t ncols;
	char **cells; /* rows * ncols */
	size_t rows, cap;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Appends row (ncols cells, owned by t from now on). Returns 0 or -1. */
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

/* Frees the first n rows of t and moves the rest up. */
static void drop_first(struct table *t, size_t n)
{
	if (n > t->rows)
		n = t->rows;
	for (size_t i = 0; i < n * t->ncols; i++)
		free(t->cells[i]);
	memmove(t->cells, t->cells + n * t->ncols, (t->rows - n) * t->ncols * sizeof(*t->cells));
	t->rows -= n;
}

static void free_table(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->rows = t->cap = 0;
}

/* ---- fetching ----------------------------------------------------------- */

enum col_kind {
	COL_TEXT,  /* as is */
	COL_MONEY, /* 1e-8 units, shown with 8 decimals */
	COL_NS,    /* Unix ns, shown as UTC with its nanoseconds */
	COL_SECS,  /* Unix ns, shown as UTC to the second */
};

/* Collects rows of a fetch into t, normalising money cells to units. */
struct collect {
	struct table *t;
	const unsigned char *kinds;
	bool money_decimal; /* the backend gives money as decimal text */
	bool bad_money;     /* a money cell was not an exact amount (err set) */
	char *err;
	size_t errlen;
};

/* Copies the cells of one row into c->t. Returns 0 or -1 (no memory, a
 * malformed money cell: c->bad_money, c->err). */
static int collect_row(void *ctx, const char *const *cells, int ncols)
{
	struct collect *c = ctx;
	char *row[MAX_COLS];
	size_t n = c->t->ncols;
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		const char *v = (int)i < ncols ? cells[i] : NULL;
		row[i] = NULL;
		if (v != NULL && c->money_decimal && c->kinds[i] == COL_MONEY) {
			int64_t units;
			char b[24];
			if (ig_fixed_parse_cstr(v, &units) != 0) {
				seterr(c->err, c->errlen, "not an exact amount in the store: %s", v);
				c->bad_money = true;
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

/* SQLite's progress handler: non-zero (interrupt) past the deadline. */
static int past_deadline(void *arg)
{
	return ig_clock_mono_ns() > *(const int64_t *)arg;
}

/* Runs sql ($1..$nparams) with the filters of q on the store (db: the
 * SQLite connection, NULL for PostgreSQL), its rows into t (kinds: per
 * column). Returns 0 or an IG_E* with err set. */
static int fetch(const struct ig_store_query *q, sqlite3 *db, const char *sql, int nparams,
		 int64_t limit, const unsigned char *kinds, struct table *t, char *err, size_t errlen)
{
	struct collect c = { t, kinds, db == NULL, false, err, errlen };

	if (db == NULL) {
		static const unsigned char is_int[5] = { 0, 0, 1, 1, 1 };
		char from[24], to[24], lim[24];
		const char *params[5];
		int rc;
		snprintf(from, sizeof(from), "%" PRId64, q->from_ns);
		snprintf(to, sizeof(to), "%" PRId64, q->to_ns);
		snprintf(lim, sizeof(lim), "%" PRId64, limit);
		params[0] = q->strategy;
		params[1] = q->daemon;
		params[2] = from;
		params[3] = to;
		params[4] = lim;
		rc = ig_store_pg_select(q->target, sql, nparams, params, is_int, q->timeout_ms,
					collect_row, &c, err, errlen);
		if (rc == IG_ENOMEM && c.bad_money)
			rc = IG_EIO;
		else if (rc == IG_ENOMEM)
			seterr(err, errlen, "out of memory");
		return rc;
	}
	{
		char sq[2048];
		sqlite3_stmt *st;
		size_t n = strlen(sql);
		int64_t deadline = 0;
		int rc;
		if (n >= sizeof(sq))
			return IG_EINVAL;
		/* $N -> ?N: the same numbered parameters */
		for (size_t i = 0; i <= n; i++)
			sq[i] = sql[i] == '$' ? '?' : sql[i];
		if (sqlite3_prepare_v2(db, sq, -1, &st, NULL) != SQLITE_OK) {
			seterr(err, errlen, "%s", sqlite3_errmsg(db));
			return IG_EIO;
		}
		if (q->strategy != NULL)
			sqlite3_bind_text(st, 1, q->strategy, -1, SQLITE_STATIC);
		if (q->daemon != NULL)
			sqlite3_bind_text(st, 2, q->daemon, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, q->from_ns);
		sqlite3_bind_int64(st, 4, q->to_ns);
		if (nparams >= 5)
			sqlite3_bind_int64(st, 5, limit);
		if (q->timeout_ms > 0) {
			deadline = ig_clock_mono_ns() + (int64_t)q->timeout_ms * 1000000;
			sqlite3_progress_handler(db, 1000, past_deadline, &deadline);
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const char *cells[MAX_COLS];
			int nc = sqlite3_column_count(st);
			if (nc > MAX_COLS)
				nc = MAX_COLS;
			for (int i = 0; i < nc; i++)
				cells[i] = (const char *)sqlite3_column_text(st, i);
			if (collect_row(&c, cells, nc) != 0) {
				rc = c.bad_money ? SQLITE_MISMATCH : SQLITE_NOMEM;
				break;
			}
		}
		sqlite3_finalize(st);
		sqlite3_progress_handler(db, 0, NULL, NULL);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc == SQLITE_NOMEM) {
			seterr(err, errlen, "out of memory");
			return IG_ENOMEM;
		}
		if (rc == SQLITE_INTERRUPT)
			seterr(err, errlen, "the query took over %d ms: canceled", q->timeout_ms);
		else if (rc != SQLITE_MISMATCH)
			seterr(err, errlen, "%s", sqlite3_errmsg(db));
		return IG_EIO;
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

/* ---- the queries -------------------------------------------------------- */

#define FILTERS(at)                                                                           \
	" WHERE ($1 IS NULL OR strategy = $1) AND ($2 IS NULL OR daemon_id = $2)"             \
	" AND " at " >= $3 AND " at " <= $4"

static const char *const order_cols[] = { "daemon_id", "strategy", "client_order_id", "symbol",
					  "side", "type", "tif", "qty", "price", "filled_qty",
					  "state", "reject_reason", "created", "updated" };
static const unsigned char order_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT,
					     COL_TEXT, COL_TEXT, COL_MONEY, COL_MONEY, COL_MONEY,
					     COL_TEXT, COL_TEXT, COL_NS, COL_NS };
#define ORDER_SEL                                                                             \
	"daemon_id, strategy, client_order_id, symbol, side, type, tif, qty, price,"          \
	" filled_qty, state, reject_reason, created_at, updated_at"
#define ORDER_ORDER "created_at, client_order_id"
static const char order_sql[] =
	"SELECT " ORDER_SEL " FROM orders" FILTERS("created_at") " ORDER BY " ORDER_ORDER;
/* The newest $5 rows, in time order. */
static const char order_sql_newest[] =
	"SELECT " ORDER_SEL " FROM (SELECT " ORDER_SEL " FROM orders" FILTERS("created_at")
	" ORDER BY created_at DESC, client_order_id DESC LIMIT $5) AS q ORDER BY " ORDER_ORDER;

static const char *const fill_cols[] = { "daemon_id", "strategy", "trade_id", "client_order_id",
					 "symbol", "side", "qty", "price", "fee", "fee_currency",
					 "fee_base", "liquidity", "at" };
static const unsigned char fill_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT, COL_TEXT,
					    COL_TEXT, COL_TEXT, COL_MONEY, COL_MONEY,
					    COL_MONEY, COL_TEXT, COL_MONEY, COL_TEXT, COL_NS };
#define FILL_SEL                                                                              \
	"daemon_id, strategy, trade_id, client_order_id, symbol, side, qty, price, fee,"      \
	" fee_currency, fee_base, liquidity, at"
static const char fill_sql[] = "SELECT " FILL_SEL " FROM fills" FILTERS("at")
			       " ORDER BY at, seq, length(trade_id), trade_id";
static const char fill_sql_newest[] =
	"SELECT " FILL_SEL " FROM (SELECT " FILL_SEL ", seq FROM fills" FILTERS("at")
	" ORDER BY at DESC, seq DESC, length(trade_id) DESC, trade_id DESC LIMIT $5) AS q"
	" ORDER BY at, seq, length(trade_id), trade_id";

static const char *const session_cols[] = { "daemon_id", "run_epoch", "config_hash", "venue",
					    "started", "stopped" };
static const unsigned char session_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT,
					       COL_TEXT, COL_SECS, COL_SECS };
#define SESSION_SEL "daemon_id, run_epoch, config_hash, venue, started_at, stopped_at"
#define SESSION_WHERE                                                                         \
	" WHERE ($2 IS NULL OR daemon_id = $2) AND started_at >= $3 AND started_at <= $4"
static const char session_sql[] =
	"SELECT " SESSION_SEL " FROM sessions" SESSION_WHERE " ORDER BY started_at";
static const char session_sql_newest[] =
	"SELECT " SESSION_SEL " FROM (SELECT " SESSION_SEL " FROM sessions" SESSION_WHERE
	" ORDER BY started_at DESC, run_epoch DESC LIMIT $5) AS q ORDER BY started_at, run_epoch";

static const char *const pnl_cols[] = { "daemon_id", "strategy", "day", "realized", "fees",
					"net", "trades", "end_position" };
/* The fills pnl walks: every one up to --to (the positions before --from
 * count toward the days shown). */
static const char *const pnl_fill_cols[] = { "daemon_id", "strategy", "symbol", "side", "qty",
					     "price", "fee", "fee_currency", "fee_base", "at" };
static const unsigned char pnl_fill_kinds[] = { COL_TEXT, COL_TEXT, COL_TEXT,
						COL_TEXT, COL_MONEY, COL_MONEY,
						COL_MONEY, COL_TEXT, COL_MONEY, COL_TEXT };
static const char pnl_sql[] =
	"SELECT daemon_id, strategy, symbol, side, qty, price, fee, fee_currency, fee_base, at"
	" FROM fills"
	" WHERE ($1 IS NULL OR strategy = $1) AND ($2 IS NULL OR daemon_id = $2) AND at <= $4"
	" ORDER BY daemon_id, strategy, books_ns, seq, at, length(trade_id), trade_id";

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))

const char *const *ig_store_query_columns(const char *what, size_t *n)
{
	*n = 0;
	if (what == NULL)
		return NULL;
	if (strcmp(what, "orders") == 0)
		return *n = NCOLS(order_cols), order_cols;
	if (strcmp(what, "fills") == 0)
		return *n = NCOLS(fill_cols), fill_cols;
	if (strcmp(what, "sessions") == 0)
		return *n = NCOLS(session_cols), session_cols;
	if (strcmp(what, "pnl") == 0)
		return *n = NCOLS(pnl_cols), pnl_cols;
	return NULL;
}

/* ---- pnl ---------------------------------------------------------------- */

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
 * order) through the OMS's position arithmetic, into t. from_ns picks the
 * days shown; the positions before it still count toward them. Returns 0
 * or -1 (no memory). */
static int pnl(const struct table *f, int64_t from_ns, struct table *t)
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
		int64_t fee = cell_int(cell[6]), fee_base = cell_int(cell[8]), at = cell_int(cell[9]);
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
				      px, qty, base_fee ? 0 : fee, (base_fee ? fee : 0) + fee_base,
				      &fee_quote) != 0)
			continue;
		day = at >= 0 ? at / day_ns : (at - day_ns + 1) / day_ns;
		if (at < from_ns)
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
		for (int k = 0; k < 8; k++)
			if (row[k] == NULL)
				rc = -1;
		if (rc != 0 || add_row(t, row) != 0) {
			for (int k = 0; k < 8; k++)
				free(row[k]);
			rc = -1;
		}
	}
	free(pos);
	free(days);
	return rc;
}

/* ---- the entry point ---------------------------------------------------- */

/* t as a JSON array of objects (column name: string or null). New
 * reference or NULL (no memory). */
static json_t *to_json(const struct table *t)
{
	json_t *arr = json_array();

	for (size_t r = 0; arr != NULL && r < t->rows; r++) {
		json_t *o = json_object();
		if (o == NULL || json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return NULL;
		}
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];
			json_t *j = v != NULL ? json_string(v) : json_null();
			if (j == NULL || json_object_set_new(o, t->cols[c], j) != 0) {
				json_decref(arr);
				return NULL;
			}
		}
	}
	return arr;
}

int ig_store_query_run(const struct ig_store_query *q, json_t **rows, bool *truncated, char *err,
		       size_t errlen)
{
	struct table t;
	sqlite3 *db = NULL;
	const unsigned char *kinds = NULL;
	const char *sql;
	/* one more than the limit: whether it cut rows */
	int64_t lim = q->limit > 0 && q->limit < (size_t)INT32_MAX ? (int64_t)q->limit + 1 : 0;
	int nparams = lim > 0 ? 5 : 4;
	int rc;

	*rows = NULL;
	if (truncated != NULL)
		*truncated = false;
	memset(&t, 0, sizeof(t));
	t.cols = ig_store_query_columns(q->what, &t.ncols);
	if (t.cols == NULL) {
		seterr(err, errlen, "unknown query \"%s\" (orders, fills, pnl, sessions)",
		       q->what != NULL ? q->what : "");
		return IG_EINVAL;
	}
	if (q->target == NULL || (q->kind != IG_STORE_SQLITE && q->kind != IG_STORE_POSTGRES)) {
		seterr(err, errlen, "no store");
		return IG_EINVAL;
	}
	if (q->kind == IG_STORE_SQLITE) {
		if (sqlite3_open_v2(q->target, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
			seterr(err, errlen, "%s: %s", q->target,
			       db != NULL ? sqlite3_errmsg(db) : "out of memory");
			sqlite3_close(db);
			return IG_ENOENT;
		}
		if (q->timeout_ms > 0)
			sqlite3_busy_timeout(db, q->timeout_ms < IG_STORE_QUERY_BUSY_MS
							 ? q->timeout_ms
							 : IG_STORE_QUERY_BUSY_MS);
	}
	if (strcmp(q->what, "pnl") == 0) {
		struct table fills;
		memset(&fills, 0, sizeof(fills));
		fills.cols = pnl_fill_cols;
		fills.ncols = NCOLS(pnl_fill_cols);
		rc = fetch(q, db, pnl_sql, 4, 0, pnl_fill_kinds, &fills, err, errlen);
		if (rc == 0 && pnl(&fills, q->from_ns, &t) != 0) {
			seterr(err, errlen, "out of memory");
			rc = IG_ENOMEM;
		}
		free_table(&fills);
		if (rc == 0 && lim > 0 && t.rows > q->limit) {
			drop_first(&t, t.rows - q->limit);
			if (truncated != NULL)
				*truncated = true;
		}
	} else {
		if (strcmp(q->what, "orders") == 0) {
			kinds = order_kinds;
			sql = lim > 0 ? order_sql_newest : order_sql;
		} else if (strcmp(q->what, "fills") == 0) {
			kinds = fill_kinds;
			sql = lim > 0 ? fill_sql_newest : fill_sql;
		} else {
			kinds = session_kinds;
			sql = lim > 0 ? session_sql_newest : session_sql;
		}
		rc = fetch(q, db, sql, nparams, lim, kinds, &t, err, errlen);
		if (rc == 0 && lim > 0 && t.rows > q->limit) {
			drop_first(&t, t.rows - q->limit); /* the oldest */
			if (truncated != NULL)
				*truncated = true;
		}
		if (rc == 0 && format_cells(&t, kinds) != 0) {
			seterr(err, errlen, "out of memory");
			rc = IG_ENOMEM;
		}
	}
	sqlite3_close(db);
	if (rc == 0 && (*rows = to_json(&t)) == NULL) {
		seterr(err, errlen, "out of memory");
		rc = IG_ENOMEM;
	}
	free_table(&t);
	return rc;
}
