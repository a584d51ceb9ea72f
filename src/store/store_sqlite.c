/*
 * store_sqlite.c - the history store's SQLite backend (store.h).
 *
 * Design
 * ------
 * One connection per handle, in WAL mode (readers never block the
 * writer), synchronous=NORMAL (a WAL commit survives a process crash; the
 * journal, not the store, is the source of truth). The schema version is
 * PRAGMA user_version: open runs each missing migration, oldest first, in
 * one IMMEDIATE transaction that ends by setting user_version, so a store
 * is at version N or at its old version, never between; a store newer
 * than this binary is refused. Every put is a prepared statement, bound
 * and stepped: inserts are INSERT OR IGNORE on the row's natural key
 * (idempotent; fills: a schema-1 row's seq 0 takes the seq written
 * again), orders an upsert that keeps the row furthest along: the
 * larger filled_qty (it never goes back; a fill stamped with the venue's
 * trade time can be older than a local state change or a recovery's
 * re-announcement), then a terminal state over an open one, then the
 * newer updated_at, then the later write;
 * sessions an upsert
 * that keeps the latest stopped_at. Money, quantities and prices are
 * INTEGER 1e-8 units; client, venue and trade ids TEXT (uint64 does not
 * fit INTEGER); times INTEGER Unix ns. The views v_orders, v_fills and
 * v_equity show money as exact decimal text and times as UTC text.
 *
 * Owner: whoever opened the handle (the recorder thread, `history`).
 */
#include "store/store_sqlite.h"

#include "ingenium/error.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	ST_SESSION,
	ST_ORDER,
	ST_EVENT,
	ST_FILL,
	ST_EQUITY,
	ST_DENIAL,
	ST__COUNT
};

struct ig__sqlite {
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	char last_err[256];
};

/* An int64 1e-8 column as exact decimal text (SQL expression). abs() of
 * the quotient and remainder, never of the column: SQLite refuses
 * abs(INT64_MIN). */
#define DEC(x)                                                                             \
	"CASE WHEN " x " IS NULL THEN NULL ELSE printf('%s%d.%08d', CASE WHEN " x              \
	" < 0 THEN '-' ELSE '' END, abs(" x " / 100000000), abs(" x " % 100000000)) END"
/* A ns time column as UTC text with its nanoseconds, floored (a time
 * before 1970 is the second before plus its ns). */
#define UTC(x)                                                                                 \
	"CASE WHEN " x " IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', " x                  \
	" / 1000000000 - (" x " % 1000000000 < 0), 'unixepoch') || printf('.%09dZ', (" x          \
	" % 1000000000 + 1000000000) % 1000000000) END"

/* Migration 0 -> 1, statement by statement (a C string literal has a
 * portable length limit). */
static const char *const migrate_1[] = {
	"CREATE TABLE sessions(daemon_id TEXT NOT NULL, run_epoch INTEGER NOT NULL,"
	" config_hash TEXT NOT NULL, venue TEXT NOT NULL, started_at INTEGER NOT NULL,"
	" stopped_at INTEGER, PRIMARY KEY(daemon_id, run_epoch));"
	"CREATE TABLE orders(daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" venue_order_id TEXT, strategy TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,"
	" type TEXT NOT NULL, tif TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER,"
	" stop_price INTEGER, filled_qty INTEGER NOT NULL, state TEXT NOT NULL,"
	" reject_reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	" PRIMARY KEY(daemon_id, client_order_id));"
	"CREATE TABLE order_events(daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL,"
	" PRIMARY KEY(daemon_id, client_order_id, seq));"
	"CREATE TABLE fills(daemon_id TEXT NOT NULL, trade_id TEXT NOT NULL,"
	" client_order_id TEXT NOT NULL, strategy TEXT NOT NULL, symbol TEXT NOT NULL,"
	" side TEXT NOT NULL, qty INTEGER NOT NULL, price INTEGER NOT NULL, fee INTEGER NOT NULL,"
	" fee_currency TEXT NOT NULL, liquidity TEXT, at INTEGER NOT NULL,"
	" PRIMARY KEY(daemon_id, client_order_id, trade_id));"
	"CREATE INDEX fills_strategy_at ON fills(strategy, at);"
	"CREATE TABLE equity(daemon_id TEXT NOT NULL, strategy TEXT NOT NULL, at INTEGER NOT NULL,"
	" equity INTEGER NOT NULL, cash INTEGER NOT NULL, position INTEGER NOT NULL,"
	" PRIMARY KEY(daemon_id, strategy, at));"
	"CREATE TABLE denials(daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" strategy TEXT NOT NULL, symbol TEXT NOT NULL, reason TEXT NOT NULL, side TEXT NOT NULL,"
	" type TEXT, qty INTEGER NOT NULL, price INTEGER, at INTEGER NOT NULL,"
	" PRIMARY KEY(daemon_id, client_order_id));",
	NULL,
};

/* The views: derived, so not versioned; dropped and made again at every
 * open (in the migration's transaction), so a store made by an older
 * binary shows money and times as this one does. */
static const char *const views[] = {
	"DROP VIEW IF EXISTS v_orders",
	"DROP VIEW IF EXISTS v_fills",
	"DROP VIEW IF EXISTS v_equity",
	"CREATE VIEW v_orders AS SELECT daemon_id, client_order_id, venue_order_id, strategy,"
	" symbol, side, type, tif, " DEC("qty") " AS qty, " DEC("price") " AS price, "
	DEC("stop_price") " AS stop_price, " DEC("filled_qty") " AS filled_qty, state,"
	" reject_reason, " UTC("created_at") " AS created, " UTC("updated_at") " AS updated"
	" FROM orders;",
	"CREATE VIEW v_fills AS SELECT daemon_id, trade_id, client_order_id, strategy, symbol,"
	" side, " DEC("qty") " AS qty, " DEC("price") " AS price, " DEC("fee") " AS fee,"
	" fee_currency, liquidity, " UTC("at") " AS at, " DEC("fee_base") " AS fee_base FROM fills;",
	"CREATE VIEW v_equity AS SELECT daemon_id, strategy, " UTC("at") " AS at, "
	DEC("equity") " AS equity, " DEC("cash") " AS cash, " DEC("position") " AS position"
	" FROM equity;",
	NULL,
};

/* Migration 1 -> 2: fills.seq, the fill's place in its strategy's books
 * (store.h); rows written before it keep 0. */
static const char *const migrate_2[] = {
	"ALTER TABLE fills ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
	NULL,
};

/* Migration 2 -> 3: fills.fee_base, a base-asset fee charged besides the
 * quote fee in fee, and fills.books_ns, the books the fill went into
 * (store.h); rows written before it keep 0. */
static const char *const migrate_3[] = {
	"ALTER TABLE fills ADD COLUMN fee_base INTEGER NOT NULL DEFAULT 0",
	"ALTER TABLE fills ADD COLUMN books_ns INTEGER NOT NULL DEFAULT 0",
	NULL,
};

/* Migration i takes the schema from version i to i + 1 (NULL-ended lists). */
static const char *const *const migrations[] = { migrate_1, migrate_2, migrate_3 };
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == IG_STORE_SCHEMA_VERSION,
	       "one migration per schema version");

static const char *const stmt_sql[ST__COUNT] = {
	[ST_SESSION] = "INSERT INTO sessions(daemon_id, run_epoch, config_hash, venue, started_at,"
		       " stopped_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
		       " ON CONFLICT(daemon_id, run_epoch) DO UPDATE SET stopped_at ="
		       " excluded.stopped_at WHERE excluded.stopped_at IS NOT NULL AND"
		       " (sessions.stopped_at IS NULL OR excluded.stopped_at > sessions.stopped_at)",
	[ST_ORDER] = "INSERT INTO orders(daemon_id, client_order_id, venue_order_id, strategy,"
		     " symbol, side, type, tif, qty, price, stop_price, filled_qty, state,"
		     " reject_reason, created_at, updated_at)"
		     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
		     " ON CONFLICT(daemon_id, client_order_id) DO UPDATE SET"
		     " venue_order_id = coalesce(excluded.venue_order_id, orders.venue_order_id),"
		     " type = excluded.type, qty = excluded.qty, price = excluded.price,"
		     " stop_price = excluded.stop_price, filled_qty = excluded.filled_qty,"
		     " state = excluded.state, reject_reason = excluded.reject_reason,"
		     " updated_at = excluded.updated_at"
		     " WHERE excluded.filled_qty > orders.filled_qty OR"
		     " (excluded.filled_qty = orders.filled_qty AND"
		     " ((excluded.state IN " IG__STORE_TERMINAL " AND orders.state IN "
		     IG__STORE_OPEN ") OR (NOT (excluded.state IN " IG__STORE_OPEN
		     " AND orders.state IN " IG__STORE_TERMINAL ") AND"
		     " excluded.updated_at >= orders.updated_at)))",
	[ST_EVENT] = "INSERT OR IGNORE INTO order_events(daemon_id, client_order_id, seq, state, at)"
		     " VALUES(?1, ?2, ?3, ?4, ?5)",
	/* A row from schema 1 (seq 0) takes the seq a rebuild or catch-up
	 * brings; nothing else of a fill ever changes. */
	[ST_FILL] = "INSERT INTO fills(daemon_id, trade_id, client_order_id, strategy,"
		    " symbol, side, qty, price, fee, fee_currency, liquidity, at, seq, fee_base,"
		    " books_ns)"
		    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
		    " ON CONFLICT(daemon_id, client_order_id, trade_id) DO UPDATE SET"
		    " seq = excluded.seq, books_ns = excluded.books_ns"
		    " WHERE fills.seq = 0 AND excluded.seq <> 0",
	[ST_EQUITY] = "INSERT OR IGNORE INTO equity(daemon_id, strategy, at, equity, cash, position)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_DENIAL] = "INSERT OR IGNORE INTO denials(daemon_id, client_order_id, strategy, symbol,"
		      " reason, side, type, qty, price, at)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
};

const char *ig_store_sqlite_error(const void *h)
{
	const struct ig__sqlite *s = h;
	return s != NULL ? s->last_err : "";
}

/* Notes the connection's error message; returns IG_EIO. */
static int fail(struct ig__sqlite *s, const char *what)
{
	snprintf(s->last_err, sizeof(s->last_err), "%s: %s", what,
		 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
	return IG_EIO;
}

static void copy_err(const struct ig__sqlite *s, char *err, size_t errlen)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", s->last_err);
}

static int exec_sql(struct ig__sqlite *s, const char *sql, const char *what)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(s, what);
}

static void sq_close(void *h)
{
	struct ig__sqlite *s = h;
	if (s == NULL)
		return;
	for (int i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s);
}

/* Reads user_version into *v. Returns 0 or IG_EIO. */
static int user_version(struct ig__sqlite *s, int *v)
{
	sqlite3_stmt *q;
	int rc;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return fail(s, "reading the schema version");
	rc = sqlite3_step(q);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 0 : fail(s, "reading the schema version");
}

/* Brings the schema to IG_STORE_SCHEMA_VERSION in one transaction.
 * Returns 0, IG_ESTATE (newer than this binary) or IG_EIO. */
static int migrate(struct ig__sqlite *s)
{
	int v = 0, rc;
	char sql[64];

	if (exec_sql(s, "BEGIN IMMEDIATE", "starting the migration") != 0)
		return IG_EIO;
	rc = user_version(s, &v);
	if (rc == 0 && v > IG_STORE_SCHEMA_VERSION) {
		snprintf(s->last_err, sizeof(s->last_err),
			 "store schema version %d is newer than this binary's %d", v,
			 IG_STORE_SCHEMA_VERSION);
		rc = IG_ESTATE;
	}
	for (; rc == 0 && v < IG_STORE_SCHEMA_VERSION; v++)
		for (const char *const *m = migrations[v]; rc == 0 && *m != NULL; m++)
			rc = exec_sql(s, *m, "migrating the schema");
	for (const char *const *m = views; rc == 0 && *m != NULL; m++)
		rc = exec_sql(s, *m, "making the views");
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", IG_STORE_SCHEMA_VERSION);
		rc = exec_sql(s, sql, "setting the schema version");
	}
	if (rc == 0)
		rc = exec_sql(s, "COMMIT", "committing the migration");
	if (rc != 0)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int sq_open(void **h, const char *target, char *err, size_t errlen)
{
	struct ig__sqlite *s = calloc(1, sizeof(*s));
	int rc = 0;

	*h = NULL;
	if (s == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return IG_ENOMEM;
	}
	if (sqlite3_open_v2(target, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = fail(s, target);
		goto out;
	}
	sqlite3_busy_timeout(s->db, 100);
	/* WAL: a reader (`history`, the sqlite3 shell) never blocks the writer. */
	if (exec_sql(s, "PRAGMA journal_mode = WAL", target) != 0 ||
	    exec_sql(s, "PRAGMA synchronous = NORMAL", target) != 0) {
		rc = IG_EIO;
		goto out;
	}
	rc = migrate(s);
	for (int i = 0; rc == 0 && i < ST__COUNT; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK)
			rc = fail(s, "preparing a statement");
out:
	if (rc != 0) {
		copy_err(s, err, errlen);
		sq_close(s);
		return rc;
	}
	*h = s;
	return 0;
}

static int sq_begin(void *h, char *err, size_t errlen)
{
	struct ig__sqlite *s = h;
	int rc = exec_sql(s, "BEGIN IMMEDIATE", "begin");
	if (rc != 0)
		copy_err(s, err, errlen);
	return rc;
}

static int sq_commit(void *h, char *err, size_t errlen)
{
	struct ig__sqlite *s = h;
	int rc = exec_sql(s, "COMMIT", "commit");
	if (rc != 0)
		copy_err(s, err, errlen);
	return rc;
}

static void sq_rollback(void *h)
{
	struct ig__sqlite *s = h;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Binds helpers: text (NULL binds NULL), a u64 id as decimal text
 * (zero_null: 0 binds NULL), an int64 (zero_null likewise). */
static void b_text(sqlite3_stmt *q, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
}

static void b_id(sqlite3_stmt *q, int i, uint64_t v, bool zero_null)
{
	char buf[24];
	if (zero_null && v == 0) {
		sqlite3_bind_null(q, i);
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	sqlite3_bind_text(q, i, buf, -1, SQLITE_TRANSIENT);
}

static void b_i64(sqlite3_stmt *q, int i, int64_t v, bool zero_null)
{
	if (zero_null && v == 0)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_int64(q, i, v);
}

/* Steps and resets q. Returns 0 or IG_EIO. */
static int run(struct ig__sqlite *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? 0 : fail(s, what);
}

static int sq_put_session(void *h, const struct ig_store_session *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_SESSION];
	b_text(q, 1, r->daemon_id);
	sqlite3_bind_int64(q, 2, r->run_epoch);
	b_text(q, 3, r->config_hash);
	b_text(q, 4, r->venue);
	sqlite3_bind_int64(q, 5, r->started_at);
	b_i64(q, 6, r->stopped_at, true);
	return run(s, q, "sessions");
}

static int sq_put_order(void *h, const struct ig_store_order *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_ORDER];
	b_text(q, 1, r->daemon_id);
	b_id(q, 2, r->client_order_id, false);
	b_id(q, 3, r->venue_order_id, true);
	b_text(q, 4, r->strategy);
	b_text(q, 5, r->symbol);
	b_text(q, 6, r->side);
	b_text(q, 7, r->type);
	b_text(q, 8, r->tif);
	sqlite3_bind_int64(q, 9, r->qty);
	b_i64(q, 10, r->price, true);
	b_i64(q, 11, r->stop_price, true);
	sqlite3_bind_int64(q, 12, r->filled_qty);
	b_text(q, 13, r->state);
	b_text(q, 14, r->reject_reason);
	sqlite3_bind_int64(q, 15, r->created_at);
	sqlite3_bind_int64(q, 16, r->updated_at);
	return run(s, q, "orders");
}

static int sq_put_order_event(void *h, const struct ig_store_order_event *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_EVENT];
	b_text(q, 1, r->daemon_id);
	b_id(q, 2, r->client_order_id, false);
	sqlite3_bind_int64(q, 3, r->seq);
	b_text(q, 4, r->state);
	sqlite3_bind_int64(q, 5, r->at);
	return run(s, q, "order_events");
}

static int sq_put_fill(void *h, const struct ig_store_fill *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_FILL];
	b_text(q, 1, r->daemon_id);
	b_id(q, 2, r->trade_id, false);
	b_id(q, 3, r->client_order_id, false);
	b_text(q, 4, r->strategy);
	b_text(q, 5, r->symbol);
	b_text(q, 6, r->side);
	sqlite3_bind_int64(q, 7, r->qty);
	sqlite3_bind_int64(q, 8, r->price);
	sqlite3_bind_int64(q, 9, r->fee);
	b_text(q, 10, r->fee_currency);
	b_text(q, 11, r->liquidity);
	sqlite3_bind_int64(q, 12, r->at);
	sqlite3_bind_int64(q, 13, r->seq > INT64_MAX ? INT64_MAX : (int64_t)r->seq);
	sqlite3_bind_int64(q, 14, r->fee_base);
	sqlite3_bind_int64(q, 15, r->books_ns);
	return run(s, q, "fills");
}

static int sq_put_equity(void *h, const struct ig_store_equity *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_EQUITY];
	b_text(q, 1, r->daemon_id);
	b_text(q, 2, r->strategy);
	sqlite3_bind_int64(q, 3, r->at);
	sqlite3_bind_int64(q, 4, r->equity);
	sqlite3_bind_int64(q, 5, r->cash);
	sqlite3_bind_int64(q, 6, r->position);
	return run(s, q, "equity");
}

static int sq_put_denial(void *h, const struct ig_store_denial *r)
{
	struct ig__sqlite *s = h;
	sqlite3_stmt *q = s->st[ST_DENIAL];
	b_text(q, 1, r->daemon_id);
	b_id(q, 2, r->client_order_id, false);
	b_text(q, 3, r->strategy);
	b_text(q, 4, r->symbol);
	b_text(q, 5, r->reason);
	b_text(q, 6, r->side);
	b_text(q, 7, r->type);
	sqlite3_bind_int64(q, 8, r->qty);
	b_i64(q, 9, r->price, true);
	sqlite3_bind_int64(q, 10, r->at);
	return run(s, q, "denials");
}

int ig_store_sqlite_last_epoch(const char *path, const char *daemon_id, uint32_t *epoch)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = IG_ENOENT;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT max(run_epoch) FROM sessions WHERE daemon_id = ?1", -1, &q,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, daemon_id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
			*epoch = (uint32_t)sqlite3_column_int64(q, 0);
			rc = 0;
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

const struct ig_store_ops ig_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.put_session = sq_put_session,
	.put_order = sq_put_order,
	.put_order_event = sq_put_order_event,
	.put_fill = sq_put_fill,
	.put_equity = sq_put_equity,
	.put_denial = sq_put_denial,
	.close = sq_close,
};
