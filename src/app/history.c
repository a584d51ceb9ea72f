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
 * Queries read the SQLite store (PostgreSQL queries are not built yet):
 * each collects its rows as text, then prints them as an aligned table,
 * CSV or a JSON array of objects. pnl replays each strategy's fills in
 * order through the OMS's own position arithmetic (ig_pos_apply_fill:
 * average cost, fees booked the same way), per UTC day.
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
	fprintf(f, "usage: ingenium history rebuild --journal FILE --store sqlite:PATH -c CONFIG\n"
		   "       ingenium history --store sqlite:PATH orders|fills|pnl|sessions\n"
		   "                        [--strategy S] [--daemon D] [--from T] [--to T] [--csv|--json]\n"
		   "  T: an ISO 8601 date or date-time (UTC), e.g. 2024-01-31 or 2024-01-31T09:30:00Z\n");
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

static char *dup_or_null(const unsigned char *s)
{
	return s != NULL ? strdup((const char *)s) : NULL;
}

/* Binds the common filters ?1 strategy, ?2 daemon, ?3 from, ?4 to. */
static void bind_filters(sqlite3_stmt *q, const struct hargs *a)
{
	if (a->strategy != NULL)
		sqlite3_bind_text(q, 1, a->strategy, -1, SQLITE_STATIC);
	if (a->daemon != NULL)
		sqlite3_bind_text(q, 2, a->daemon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, a->from_ns);
	sqlite3_bind_int64(q, 4, a->to_ns);
}

/* Runs sql into t (every column as text). Returns 0 or -1. */
static int select_rows(sqlite3 *db, const char *sql, const struct hargs *a, struct table *t)
{
	sqlite3_stmt *q;
	int rc;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "ingenium history: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	bind_filters(q, a);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *row[32];
		for (size_t c = 0; c < t->ncols; c++)
			row[c] = dup_or_null(sqlite3_column_text(q, (int)c));
		if (add_row(t, row) != 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "ingenium history: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

#define FILTERS(tbl, at)                                                                   \
	" WHERE (?1 IS NULL OR " tbl ".strategy = ?1) AND (?2 IS NULL OR " tbl ".daemon_id = ?2)" \
	" AND " tbl "." at " >= ?3 AND " tbl "." at " <= ?4"

static const char *const order_cols[] = { "daemon_id", "strategy", "client_order_id", "symbol",
					  "side", "type", "tif", "qty", "price", "filled_qty",
					  "state", "reject_reason", "created", "updated" };
static const char *const fill_cols[] = { "daemon_id", "strategy", "trade_id", "client_order_id",
					 "symbol", "side", "qty", "price", "fee", "fee_currency",
					 "liquidity", "at" };
static const char *const session_cols[] = { "daemon_id", "run_epoch", "config_hash", "venue",
					    "started", "stopped" };
static const char *const pnl_cols[] = { "daemon_id", "strategy", "day", "realized", "fees",
					"net", "trades", "end_position" };

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

/* pnl per strategy per UTC day: the fills in order through the OMS's
 * position arithmetic. The filters pick the days shown; the positions
 * before --from still count toward them. */
static int pnl(sqlite3 *db, const struct hargs *a, struct table *t)
{
	static const char sql[] =
		"SELECT daemon_id, strategy, symbol, side, qty, price, fee, fee_currency, at FROM fills"
		" WHERE (?1 IS NULL OR strategy = ?1) AND (?2 IS NULL OR daemon_id = ?2)"
		" AND at <= ?4 AND ?3 = ?3 ORDER BY daemon_id, strategy, at, trade_id";
	const int64_t day_ns = INT64_C(86400000000000);
	struct pnl_pos *pos = NULL;
	struct pnl_day *days = NULL;
	size_t npos = 0, ndays = 0, capd = 0;
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "ingenium history: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	bind_filters(q, a);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(q, 0);
		const char *s = (const char *)sqlite3_column_text(q, 1);
		const char *sym = (const char *)sqlite3_column_text(q, 2);
		const char *side = (const char *)sqlite3_column_text(q, 3);
		const char *cur = (const char *)sqlite3_column_text(q, 7);
		int64_t qty = sqlite3_column_int64(q, 4), px = sqlite3_column_int64(q, 5);
		int64_t fee = sqlite3_column_int64(q, 6), at = sqlite3_column_int64(q, 8);
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
			if (np == NULL)
				break;
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
				if (nd == NULL)
					break;
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
	sqlite3_finalize(q);
	for (size_t i = 0; i < ndays; i++) {
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
		add_row(t, row);
	}
	free(pos);
	free(days);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int query(const struct hargs *a)
{
	struct table t;
	sqlite3 *db = NULL;
	const char *target;
	int kind, rc;

	memset(&t, 0, sizeof(t));
	if (store_target(a->store, &kind, &target) != 0)
		return 2;
	if (kind != IG_STORE_SQLITE) {
		fprintf(stderr, "ingenium history: queries of a PostgreSQL store are not built yet\n");
		return 1;
	}
	if (sqlite3_open_v2(target, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "ingenium history: %s: %s\n", target, sqlite3_errmsg(db));
		sqlite3_close(db);
		return 2;
	}
	if (strcmp(a->what, "orders") == 0) {
		t.cols = order_cols;
		t.ncols = sizeof(order_cols) / sizeof(order_cols[0]);
		rc = select_rows(db,
				 "SELECT v.daemon_id, v.strategy, v.client_order_id, v.symbol, v.side,"
				 " v.type, v.tif, v.qty, v.price, v.filled_qty, v.state, v.reject_reason,"
				 " v.created, v.updated FROM v_orders v JOIN orders o"
				 " ON o.daemon_id = v.daemon_id AND o.client_order_id = v.client_order_id"
				 FILTERS("o", "created_at") " ORDER BY o.created_at, o.client_order_id",
				 a, &t);
	} else if (strcmp(a->what, "fills") == 0) {
		t.cols = fill_cols;
		t.ncols = sizeof(fill_cols) / sizeof(fill_cols[0]);
		rc = select_rows(db,
				 "SELECT v.daemon_id, v.strategy, v.trade_id, v.client_order_id, v.symbol,"
				 " v.side, v.qty, v.price, v.fee, v.fee_currency, v.liquidity, v.at"
				 " FROM v_fills v JOIN fills f ON f.daemon_id = v.daemon_id AND"
				 " f.client_order_id = v.client_order_id AND f.trade_id = v.trade_id"
				 FILTERS("f", "at") " ORDER BY f.at, f.trade_id",
				 a, &t);
	} else if (strcmp(a->what, "sessions") == 0) {
		t.cols = session_cols;
		t.ncols = sizeof(session_cols) / sizeof(session_cols[0]);
		rc = select_rows(db,
				 "SELECT daemon_id, run_epoch, config_hash, venue,"
				 " strftime('%Y-%m-%dT%H:%M:%SZ', started_at / 1000000000, 'unixepoch'),"
				 " strftime('%Y-%m-%dT%H:%M:%SZ', stopped_at / 1000000000, 'unixepoch')"
				 " FROM sessions WHERE ?1 IS ?1 AND (?2 IS NULL OR daemon_id = ?2)"
				 " AND started_at >= ?3 AND started_at <= ?4 ORDER BY started_at",
				 a, &t);
	} else if (strcmp(a->what, "pnl") == 0) {
		t.cols = pnl_cols;
		t.ncols = sizeof(pnl_cols) / sizeof(pnl_cols[0]);
		rc = pnl(db, a, &t);
	} else {
		fprintf(stderr, "ingenium history: unknown query \"%s\" (orders, fills, pnl, sessions)\n",
			a->what);
		sqlite3_close(db);
		return 2;
	}
	sqlite3_close(db);
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
