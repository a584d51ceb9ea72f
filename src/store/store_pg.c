/*
 * store_pg.c - the PostgreSQL backend of the history store (libpq).
 *
 * One connection per handle. open() connects, migrates the schema to
 * IG_STORE_SCHEMA_VERSION in one transaction (forward-only, serialised
 * between daemons by an advisory lock), refuses a newer store, and
 * prepares one statement per row kind. Every put is one prepared
 * statement with text parameters: money and quantities go to
 * NUMERIC(38,8) as exact decimal text formatted from the int64 1e-8
 * units (never through a double), ids (uint64) as TEXT. Insert-only
 * tables use ON CONFLICT DO NOTHING (fills: but a schema-1 row's seq 0
 * takes the seq written again); orders keep the row furthest along
 * (the larger filled_qty, then a terminal state over an open one, then
 * the newer updated_at). Several daemons share one database: daemon_id is
 * part of every key.
 *
 * Error messages never hold the password of the connection string:
 * libpq echoes a malformed URI whole, so every message is scrubbed of the
 * password (as written and percent-decoded) before it is copied out.
 *
 * Owner: the recorder thread (or `history rebuild`), one handle each.
 */
#include "store/store.h"

#include <ingenium/error.h>

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IG__PG_MONEY_LEN 32
#define IG__PG_ID_LEN 24
#define IG__PG_INT_LEN 24
#define IG__PG_MAX_PARAMS 16
/* Seconds to connect (the whole start-up, authentication included)
 * unless the connection string says otherwise. */
#define IG__PG_CONNECT_TIMEOUT_S "5"
/* A statement waits at most this long for a lock (another daemon's
 * migration, a reader's long transaction), and runs at most this long. */
#define IG__PG_LOCK_TIMEOUT_MS "5000"
#define IG__PG_STATEMENT_TIMEOUT_MS "30000"
/* An error message as composed and scrubbed, before it is cut to the
 * caller's buffer. */
#define IG__PG_ERR_FULL 4096
/* pg_advisory_xact_lock key of the migration: "ig_store" in ASCII. */
#define IG__PG_MIGRATE_LOCK "7595448694413914725"

/* Puts queued in a transaction's pipeline before their results are read
 * (bounds what the server holds for us: it never blocks on its output
 * while we block on our input). */
#define IG__PG_PIPE_MAX 256

struct ig__pg {
	PGconn *conn;
	bool pipe;          /* in a transaction: puts are pipelined */
	int queued;         /* queries sent since the last sync point */
	char last_err[256]; /* the first failure in the pipeline, or the last put's */
};

/* ---- migrations ------------------------------------------------------ */

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const ig__pg_migrations[IG_STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE sessions ("
	" daemon_id TEXT NOT NULL, run_epoch BIGINT NOT NULL,"
	" config_hash TEXT NOT NULL, venue TEXT NOT NULL,"
	" started_at BIGINT NOT NULL, stopped_at BIGINT,"
	" PRIMARY KEY (daemon_id, run_epoch));"
	"CREATE TABLE orders ("
	" daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" venue_order_id TEXT, strategy TEXT NOT NULL, symbol TEXT NOT NULL,"
	" side TEXT NOT NULL, type TEXT NOT NULL, tif TEXT NOT NULL,"
	" qty NUMERIC(38,8) NOT NULL, price NUMERIC(38,8),"
	" stop_price NUMERIC(38,8), filled_qty NUMERIC(38,8) NOT NULL,"
	" state TEXT NOT NULL, reject_reason TEXT,"
	" created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
	" PRIMARY KEY (daemon_id, client_order_id));"
	"CREATE TABLE order_events ("
	" daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" seq BIGINT NOT NULL, state TEXT NOT NULL, at BIGINT NOT NULL,"
	" PRIMARY KEY (daemon_id, client_order_id, seq));"
	"CREATE TABLE fills ("
	" daemon_id TEXT NOT NULL, trade_id TEXT NOT NULL,"
	" client_order_id TEXT NOT NULL, strategy TEXT NOT NULL,"
	" symbol TEXT NOT NULL, side TEXT NOT NULL,"
	" qty NUMERIC(38,8) NOT NULL, price NUMERIC(38,8) NOT NULL,"
	" fee NUMERIC(38,8) NOT NULL, fee_currency TEXT NOT NULL,"
	" liquidity TEXT, at BIGINT NOT NULL,"
	" PRIMARY KEY (daemon_id, client_order_id, trade_id));"
	"CREATE TABLE equity ("
	" daemon_id TEXT NOT NULL, strategy TEXT NOT NULL, at BIGINT NOT NULL,"
	" equity NUMERIC(38,8) NOT NULL, cash NUMERIC(38,8) NOT NULL,"
	" position NUMERIC(38,8) NOT NULL,"
	" PRIMARY KEY (daemon_id, strategy, at));"
	"CREATE TABLE denials ("
	" daemon_id TEXT NOT NULL, client_order_id TEXT NOT NULL,"
	" strategy TEXT NOT NULL, symbol TEXT NOT NULL, reason TEXT NOT NULL,"
	" side TEXT NOT NULL, type TEXT, qty NUMERIC(38,8) NOT NULL,"
	" price NUMERIC(38,8), at BIGINT NOT NULL,"
	" PRIMARY KEY (daemon_id, client_order_id));"
	"CREATE INDEX fills_at ON fills (at);"
	"CREATE INDEX orders_updated_at ON orders (updated_at);"
	/* Readable views: money as decimal text, times as timestamptz
	 * (microseconds; the ns columns stay exact). */
	"CREATE FUNCTION ig_ns_time(ns BIGINT) RETURNS timestamptz"
	" LANGUAGE sql IMMUTABLE AS"
	" $$ SELECT timestamptz 'epoch' + (ns / 1000) * interval '1 microsecond' $$;"
	"CREATE VIEW v_orders AS SELECT daemon_id, client_order_id,"
	" venue_order_id, strategy, symbol, side, type, tif,"
	" qty::text AS qty, price::text AS price, stop_price::text AS stop_price,"
	" filled_qty::text AS filled_qty, state, reject_reason,"
	" ig_ns_time(created_at) AS created, ig_ns_time(updated_at) AS updated,"
	" created_at, updated_at FROM orders;"
	"CREATE VIEW v_fills AS SELECT daemon_id, trade_id, client_order_id,"
	" strategy, symbol, side, qty::text AS qty, price::text AS price,"
	" fee::text AS fee, fee_currency, liquidity, ig_ns_time(at) AS time, at"
	" FROM fills;"
	"CREATE VIEW v_equity AS SELECT daemon_id, strategy, ig_ns_time(at) AS time,"
	" equity::text AS equity, cash::text AS cash,"
	" position::text AS position, at FROM equity;",
	/* 1 -> 2: fills.seq, the fill's place in its strategy's books
	 * (store.h); rows written before it keep 0. */
	"ALTER TABLE fills ADD COLUMN seq BIGINT NOT NULL DEFAULT 0",
	/* 2 -> 3: fills.fee_base, a base-asset fee charged besides the quote
	 * fee in fee, and fills.books_ns, the books the fill went into
	 * (store.h); rows written before it keep 0. The view
	 * shows it (a column added at the end). */
	"ALTER TABLE fills ADD COLUMN fee_base NUMERIC(38,8) NOT NULL DEFAULT 0;"
	"ALTER TABLE fills ADD COLUMN books_ns BIGINT NOT NULL DEFAULT 0;"
	"CREATE OR REPLACE VIEW v_fills AS SELECT daemon_id, trade_id, client_order_id,"
	" strategy, symbol, side, qty::text AS qty, price::text AS price,"
	" fee::text AS fee, fee_currency, liquidity, ig_ns_time(at) AS time, at,"
	" fee_base::text AS fee_base FROM fills;",
};

/* ---- prepared statements --------------------------------------------- */

enum {
	IG__PG_SESSION,
	IG__PG_ORDER,
	IG__PG_ORDER_EVENT,
	IG__PG_FILL,
	IG__PG_EQUITY,
	IG__PG_DENIAL,
	IG__PG_NSTMT
};

static const struct {
	const char *name;
	int nparams;
	const char *sql;
} ig__pg_stmts[IG__PG_NSTMT] = {
	[IG__PG_SESSION] = {"ig_put_session", 6,
		"INSERT INTO sessions (daemon_id, run_epoch, config_hash, venue,"
		" started_at, stopped_at) VALUES ($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT (daemon_id, run_epoch) DO UPDATE SET"
		" stopped_at = GREATEST(sessions.stopped_at, excluded.stopped_at)"
		" WHERE excluded.stopped_at IS NOT NULL"
		" AND sessions.stopped_at IS DISTINCT FROM"
		" GREATEST(sessions.stopped_at, excluded.stopped_at)"},
	[IG__PG_ORDER] = {"ig_put_order", 16,
		"INSERT INTO orders (daemon_id, client_order_id, venue_order_id,"
		" strategy, symbol, side, type, tif, qty, price, stop_price,"
		" filled_qty, state, reject_reason, created_at, updated_at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,"
		" $14, $15, $16)"
		" ON CONFLICT (daemon_id, client_order_id) DO UPDATE SET"
		" venue_order_id = COALESCE(excluded.venue_order_id, orders.venue_order_id),"
		" strategy = excluded.strategy, symbol = excluded.symbol,"
		" side = excluded.side, type = excluded.type, tif = excluded.tif,"
		" qty = excluded.qty, price = excluded.price,"
		" stop_price = excluded.stop_price, filled_qty = excluded.filled_qty,"
		" state = excluded.state, reject_reason = excluded.reject_reason,"
		" updated_at = excluded.updated_at"
		" WHERE excluded.filled_qty > orders.filled_qty OR"
		" (excluded.filled_qty = orders.filled_qty AND"
		" ((excluded.state IN " IG__STORE_TERMINAL " AND orders.state IN "
		IG__STORE_OPEN ") OR (NOT (excluded.state IN " IG__STORE_OPEN
		" AND orders.state IN " IG__STORE_TERMINAL ") AND"
		" excluded.updated_at >= orders.updated_at)))"},
	[IG__PG_ORDER_EVENT] = {"ig_put_order_event", 5,
		"INSERT INTO order_events (daemon_id, client_order_id, seq, state, at)"
		" VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING"},
	[IG__PG_FILL] = {"ig_put_fill", 15,
		"INSERT INTO fills (daemon_id, trade_id, client_order_id, strategy,"
		" symbol, side, qty, price, fee, fee_currency, liquidity, at, seq, fee_base,"
		" books_ns)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
		" ON CONFLICT (daemon_id, client_order_id, trade_id) DO UPDATE SET"
		" seq = excluded.seq, books_ns = excluded.books_ns"
		" WHERE fills.seq = 0 AND excluded.seq <> 0"},
	[IG__PG_EQUITY] = {"ig_put_equity", 6,
		"INSERT INTO equity (daemon_id, strategy, at, equity, cash, position)"
		" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING"},
	[IG__PG_DENIAL] = {"ig_put_denial", 10,
		"INSERT INTO denials (daemon_id, client_order_id, strategy, symbol,"
		" reason, side, type, qty, price, at)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
		" ON CONFLICT DO NOTHING"},
};

/* ---- text helpers ---------------------------------------------------- */

/* Formats v (1e-8 units) as exact decimal text with 8 decimals, e.g.
 * "-123.45678900"; INT64_MIN included. Returns buf. */
static const char *ig__pg_money(int64_t v, char buf[IG__PG_MONEY_LEN])
{
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	snprintf(buf, IG__PG_MONEY_LEN, "%s%" PRIu64 ".%08" PRIu64, v < 0 ? "-" : "",
	         mag / 100000000u, mag % 100000000u);
	return buf;
}

/* Money, or NULL (SQL NULL) for 0 = none. Returns buf or NULL. */
static const char *ig__pg_money_opt(int64_t v, char buf[IG__PG_MONEY_LEN])
{
	return v == 0 ? NULL : ig__pg_money(v, buf);
}

/* Returns buf holding v in decimal. */
static const char *ig__pg_u64(uint64_t v, char buf[IG__PG_ID_LEN])
{
	snprintf(buf, IG__PG_ID_LEN, "%" PRIu64, v);
	return buf;
}

/* Returns buf holding v in decimal. */
static const char *ig__pg_i64(int64_t v, char buf[IG__PG_INT_LEN])
{
	snprintf(buf, IG__PG_INT_LEN, "%" PRId64, v);
	return buf;
}

/* Returns the value of hex digit c, or -1. */
static int ig__pg_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Replaces every occurrence of the n bytes at pw in msg (capacity cap,
 * NUL-terminated) with "***", truncating at cap. Returns nothing. */
static void ig__pg_scrub_one(char *msg, size_t cap, const char *pw, size_t n)
{
	char out[IG__PG_ERR_FULL];
	size_t o = 0, len = strlen(msg);
	const char *p = msg, *end = msg + len;

	if (n == 0 || memmem(msg, len, pw, n) == NULL)
		return;
	while (p < end && o + 1 < sizeof(out)) {
		if ((size_t)(end - p) >= n && memcmp(p, pw, n) == 0) {
			for (int i = 0; i < 3 && o + 1 < sizeof(out); i++)
				out[o++] = '*';
			p += n;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	snprintf(msg, cap, "%s", out);
}

/* Scrubs the n bytes at raw from msg, and their percent-decoded form when
 * decode. Returns nothing. */
static void ig__pg_scrub_value(char *msg, size_t cap, const char *raw, size_t n, bool decode)
{
	char dec[512];
	size_t k = 0;

	ig__pg_scrub_one(msg, cap, raw, n);
	if (!decode)
		return;
	for (size_t i = 0; i < n && k + 1 < sizeof(dec); i++) {
		int h1 = i + 2 < n ? ig__pg_hex(raw[i + 1]) : -1;
		int h2 = i + 2 < n ? ig__pg_hex(raw[i + 2]) : -1;

		if (raw[i] == '%' && h1 >= 0 && h2 >= 0) {
			dec[k++] = (char)(h1 * 16 + h2);
			i += 2;
		} else {
			dec[k++] = raw[i];
		}
	}
	ig__pg_scrub_one(msg, cap, dec, k);
}

/* Scrubs from msg each password the connection string target carries:
 * the value of a password= keyword (conninfo, quoted or not, or a URI
 * query parameter) and the password of a URI's user:password@ part, as
 * written and percent-decoded. Returns nothing. */
static void ig__pg_scrub(char *msg, size_t cap, const char *target)
{
	const char *s = target;
	bool uri = strncmp(target, "postgresql://", 13) == 0 ||
	           strncmp(target, "postgres://", 11) == 0;

	if (uri) {
		const char *auth = strstr(target, "://") + 3;
		size_t alen = strcspn(auth, "/?");
		const char *at = NULL;

		for (size_t i = 0; i < alen; i++)
			if (auth[i] == '@')
				at = auth + i;
		if (at != NULL) {
			const char *colon = memchr(auth, ':', (size_t)(at - auth));

			if (colon != NULL)
				ig__pg_scrub_value(msg, cap, colon + 1, (size_t)(at - colon - 1), true);
		}
	}
	while ((s = strstr(s, "password")) != NULL) {
		const char *v = s + 8;

		s = v;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v != '=')
			continue;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!uri && *v == '\'') {
			char q[512];
			size_t k = 0;

			for (v++; *v != '\0' && *v != '\'' && k + 1 < sizeof(q); v++) {
				if (*v == '\\' && v[1] != '\0')
					v++;
				q[k++] = *v;
			}
			ig__pg_scrub_one(msg, cap, q, k);
		} else {
			ig__pg_scrub_value(msg, cap, v, strcspn(v, uri ? "&" : " \t\n"), uri);
		}
	}
}

/* Copies "what: libpq's message" into err (one line, scrubbed of any
 * password in target when target is given). The message is scrubbed
 * whole, before it is cut to errlen: a cut inside the password would
 * leave its first characters, which the scrub cannot know. Returns
 * nothing. */
static void ig__pg_err(char *err, size_t errlen, const char *what, const char *pq,
                       const char *target)
{
	char full[IG__PG_ERR_FULL];
	size_t n;
	int w;

	if (err == NULL || errlen == 0)
		return;
	w = snprintf(full, sizeof(full), "%s%s%s", what, pq != NULL && pq[0] ? ": " : "",
	             pq != NULL ? pq : "");
	if (target != NULL && (w < 0 || (size_t)w >= sizeof(full))) {
		/* too long to scrub whole: libpq's text is not shown */
		snprintf(err, errlen, "%s: failed (the message is too long to show safely)", what);
		return;
	}
	/* libpq ends its messages with a newline, sometimes several lines */
	for (char *p = full; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	n = strlen(full);
	while (n > 0 && full[n - 1] == ' ')
		full[--n] = '\0';
	if (target != NULL)
		ig__pg_scrub(full, sizeof(full), target);
	snprintf(err, errlen, "%s", full);
}

/* A notice processor that drops server notices (no stderr noise from the
 * recorder thread). */
static void ig__pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Runs sql (no result rows wanted). Returns 0 or IG_EIO with err set. */
static int ig__pg_exec(PGconn *c, const char *sql, const char *what, char *err,
                       size_t errlen)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		ig__pg_err(err, errlen, what, PQerrorMessage(c), NULL);
		rc = IG_EIO;
	}
	PQclear(r);
	return rc;
}

/* ---- open / migrate -------------------------------------------------- */

/* Connects to target (connect_timeout_s > 0: that connect timeout, else
 * IG__PG_CONNECT_TIMEOUT_S) with bounds, so a hung or unreachable server never
 * holds the recorder's thread, the daemon's start or stop, or a query for
 * long: connect and TCP timeouts, keepalives, and server-side
 * lock_timeout / statement_timeout. The connection string's own values,
 * expanded after these, win. Returns the connection (check PQstatus; NULL
 * only when out of memory); the caller PQfinish()es it. */
static PGconn *ig__pg_connect(const char *target, int connect_timeout_s)
{
	static const char *const kw[] = { "connect_timeout", "tcp_user_timeout",
					   "keepalives_idle", "keepalives_interval",
					   "keepalives_count", "options", "dbname", NULL };
	char secs[16];
	const char *const val[] = { connect_timeout_s > 0 ? secs : IG__PG_CONNECT_TIMEOUT_S,
				    "15000", "10", "5", "3",
				    "-c lock_timeout=" IG__PG_LOCK_TIMEOUT_MS
				    " -c statement_timeout=" IG__PG_STATEMENT_TIMEOUT_MS,
				    target, NULL };
	snprintf(secs, sizeof(secs), "%d", connect_timeout_s);
	return PQconnectdbParams(kw, val, 1);
}

/* Migrates c to IG_STORE_SCHEMA_VERSION in one transaction. Returns 0,
 * IG_ESTATE for a newer store, or IG_EIO, with err set. */
static int ig__pg_migrate(PGconn *c, char *err, size_t errlen)
{
	PGresult *r;
	long version = 0;
	int rc;
	char sql[128];

	if ((rc = ig__pg_exec(c, "BEGIN", "begin migration", err, errlen)) != 0)
		return rc;
	/* Two daemons opening a new database at once: one migrates, the
	 * other waits and then sees the new version. */
	rc = ig__pg_exec(c, "SELECT pg_advisory_xact_lock(" IG__PG_MIGRATE_LOCK ")",
	                 "migration lock", err, errlen);
	if (rc == 0)
		rc = ig__pg_exec(c, "CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)",
		                 "create schema_version", err, errlen);
	if (rc != 0)
		goto fail;
	r = PQexec(c, "SELECT max(version), count(*) FROM schema_version");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		ig__pg_err(err, errlen, "read schema_version", PQerrorMessage(c), NULL);
		PQclear(r);
		rc = IG_EIO;
		goto fail;
	}
	if (!PQgetisnull(r, 0, 0))
		version = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (version > IG_STORE_SCHEMA_VERSION) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "store schema version %ld is newer than this binary's %d",
			         version, IG_STORE_SCHEMA_VERSION);
		rc = IG_ESTATE;
		goto fail;
	}
	if (version < 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "store schema version %ld is invalid", version);
		rc = IG_ESTATE;
		goto fail;
	}
	if (version == IG_STORE_SCHEMA_VERSION)
		return ig__pg_exec(c, "COMMIT", "commit migration", err, errlen);
	for (long v = version; v < IG_STORE_SCHEMA_VERSION; v++) {
		char what[64];

		snprintf(what, sizeof(what), "migrate schema %ld -> %ld", v, v + 1);
		if ((rc = ig__pg_exec(c, ig__pg_migrations[v], what, err, errlen)) != 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql),
	         "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
	         IG_STORE_SCHEMA_VERSION);
	if ((rc = ig__pg_exec(c, sql, "write schema_version", err, errlen)) != 0)
		goto fail;
	return ig__pg_exec(c, "COMMIT", "commit migration", err, errlen);
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return rc;
}

/* Opens the store at the libpq connection string target (key=value or a
 * postgresql:// URI). Returns 0 with *h set, IG_EINVAL, IG_ENOMEM, IG_EIO
 * (connection or SQL failure) or IG_ESTATE (a newer store), with err set
 * and never holding the password. */
static int ig__pg_open(void **h, const char *target, char *err, size_t errlen)
{
	struct ig__pg *s;
	int rc;

	*h = NULL;
	if (target == NULL || target[0] == '\0') {
		ig__pg_err(err, errlen, "postgres: empty connection string", NULL, NULL);
		return IG_EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return IG_ENOMEM;
	s->conn = ig__pg_connect(target, 0);
	if (s->conn == NULL) {
		free(s);
		ig__pg_err(err, errlen, "postgres: out of memory", NULL, NULL);
		return IG_ENOMEM;
	}
	if (PQstatus(s->conn) != CONNECTION_OK) {
		ig__pg_err(err, errlen, "postgres: connect", PQerrorMessage(s->conn), target);
		PQfinish(s->conn);
		free(s);
		return IG_EIO;
	}
	PQsetNoticeProcessor(s->conn, ig__pg_notice, NULL);
	rc = ig__pg_exec(s->conn, "SET client_encoding = 'UTF8'", "postgres: set encoding",
	                 err, errlen);
	if (rc == 0)
		rc = ig__pg_migrate(s->conn, err, errlen);
	for (int i = 0; rc == 0 && i < IG__PG_NSTMT; i++) {
		PGresult *r = PQprepare(s->conn, ig__pg_stmts[i].name, ig__pg_stmts[i].sql,
		                        ig__pg_stmts[i].nparams, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			ig__pg_err(err, errlen, "postgres: prepare", PQerrorMessage(s->conn), NULL);
			rc = IG_EIO;
		}
		PQclear(r);
	}
	if (rc != 0) {
		PQfinish(s->conn);
		free(s);
		return rc;
	}
	*h = s;
	return 0;
}

/* Sends a sync point and reads every result up to it. Records the first
 * failure in s->last_err (a COMMIT the server answered with ROLLBACK
 * counts). Returns 0 or IG_EIO. */
static int ig__pg_drain(struct ig__pg *s)
{
	int rc = 0, nulls = 0;

	if (PQpipelineSync(s->conn) != 1) {
		ig__pg_err(s->last_err, sizeof(s->last_err), "postgres: sync",
		           PQerrorMessage(s->conn), NULL);
		return IG_EIO;
	}
	for (;;) {
		PGresult *r = PQgetResult(s->conn);
		ExecStatusType st;

		if (r == NULL) {
			/* one NULL ends each query's results; more than that
			 * and no sync: the connection is gone */
			if (PQstatus(s->conn) == CONNECTION_BAD || ++nulls > s->queued + 1) {
				if (rc == 0)
					ig__pg_err(s->last_err, sizeof(s->last_err), "postgres: pipeline",
					           PQerrorMessage(s->conn), NULL);
				rc = IG_EIO;
				break;
			}
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (rc == 0 && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
			ig__pg_err(s->last_err, sizeof(s->last_err), "postgres: write",
			           st == PGRES_PIPELINE_ABORTED ? "an earlier write failed"
			                                        : PQresultErrorMessage(r),
			           NULL);
			rc = IG_EIO;
		} else if (rc == 0 && strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
			ig__pg_err(s->last_err, sizeof(s->last_err),
			           "postgres: commit: the transaction was rolled back (a write in it failed)",
			           NULL, NULL);
			rc = IG_EIO;
		}
		PQclear(r);
	}
	s->queued = 0;
	return rc;
}

/* Leaves pipeline mode after draining it. Returns 0 or IG_EIO. */
static int ig__pg_pipe_end(struct ig__pg *s)
{
	int rc = 0;

	if (!s->pipe)
		return 0;
	if (PQstatus(s->conn) == CONNECTION_OK)
		rc = ig__pg_drain(s);
	else
		rc = IG_EIO;
	if (PQexitPipelineMode(s->conn) != 1)
		rc = IG_EIO;
	s->pipe = false;
	s->queued = 0;
	return rc;
}

/* Begins a transaction, in which puts are pipelined (sent without
 * waiting; their results are read every IG__PG_PIPE_MAX puts and at the
 * commit). Returns 0 or IG_EIO with err set. */
static int ig__pg_begin(void *h, char *err, size_t errlen)
{
	struct ig__pg *s = h;
	int rc;

	if (s->pipe)
		ig__pg_pipe_end(s);
	rc = ig__pg_exec(s->conn, "BEGIN", "postgres: begin", err, errlen);
	if (rc != 0)
		return rc;
	if (PQenterPipelineMode(s->conn) != 1) {
		ig__pg_err(err, errlen, "postgres: pipeline mode", PQerrorMessage(s->conn), NULL);
		PQclear(PQexec(s->conn, "ROLLBACK"));
		return IG_EIO;
	}
	s->pipe = true;
	s->queued = 0;
	s->last_err[0] = '\0';
	return 0;
}

/* Commits. A failed write in the transaction, or a COMMIT the server
 * answered with ROLLBACK, fails it; the transaction is then rolled back.
 * Returns 0 or IG_EIO with err set. */
static int ig__pg_commit(void *h, char *err, size_t errlen)
{
	struct ig__pg *s = h;
	PGresult *r;
	int rc = 0;

	if (s->pipe) {
		if (PQsendQueryParams(s->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) != 1) {
			ig__pg_err(s->last_err, sizeof(s->last_err), "postgres: commit",
			           PQerrorMessage(s->conn), NULL);
			rc = IG_EIO;
		} else {
			s->queued++;
		}
		if (ig__pg_pipe_end(s) != 0)
			rc = IG_EIO;
		if (rc != 0) {
			ig__pg_err(err, errlen, s->last_err[0] ? s->last_err : "postgres: commit",
			           NULL, NULL);
			/* a COMMIT skipped after a failed write leaves the
			 * transaction open and aborted */
			if (PQstatus(s->conn) == CONNECTION_OK)
				PQclear(PQexec(s->conn, "ROLLBACK"));
		}
		return rc;
	}
	r = PQexec(s->conn, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		ig__pg_err(err, errlen, "postgres: commit", PQerrorMessage(s->conn), NULL);
		rc = IG_EIO;
	} else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		ig__pg_err(err, errlen,
		           "postgres: commit: the transaction was rolled back (a write in it failed)",
		           NULL, NULL);
		rc = IG_EIO;
	}
	PQclear(r);
	return rc;
}

/* Rolls back (a no-op outside a transaction or on a lost connection).
 * Returns nothing. */
static void ig__pg_rollback(void *h)
{
	struct ig__pg *s = h;

	ig__pg_pipe_end(s);
	if (PQstatus(s->conn) == CONNECTION_OK)
		PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Runs prepared statement k with text parameters vals (NULL = SQL NULL).
 * In a transaction it is queued; a failure of a queued put shows at a
 * later put (every IG__PG_PIPE_MAX) or at the commit. Returns 0 or IG_EIO
 * (the failure kept in s->last_err). */
static int ig__pg_put(struct ig__pg *s, int k, const char *const *vals)
{
	PGresult *r;
	int rc = 0;

	if (s->pipe) {
		if (PQsendQueryPrepared(s->conn, ig__pg_stmts[k].name, ig__pg_stmts[k].nparams,
		                        vals, NULL, NULL, 0) != 1) {
			ig__pg_err(s->last_err, sizeof(s->last_err), ig__pg_stmts[k].name,
			           PQerrorMessage(s->conn), NULL);
			return IG_EIO;
		}
		if (++s->queued >= IG__PG_PIPE_MAX)
			return ig__pg_drain(s);
		return 0;
	}
	r = PQexecPrepared(s->conn, ig__pg_stmts[k].name, ig__pg_stmts[k].nparams, vals, NULL,
	                   NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		ig__pg_err(s->last_err, sizeof(s->last_err), ig__pg_stmts[k].name,
		           PQerrorMessage(s->conn), NULL);
		rc = IG_EIO;
	}
	PQclear(r);
	return rc;
}

/* Returns 0, IG_EINVAL (a required string missing) or IG_EIO. */
static int ig__pg_put_session(void *h, const struct ig_store_session *r)
{
	char epoch[IG__PG_INT_LEN], start[IG__PG_INT_LEN], stop[IG__PG_INT_LEN];
	const char *v[6] = {r->daemon_id, ig__pg_i64(r->run_epoch, epoch), r->config_hash,
	                    r->venue, ig__pg_i64(r->started_at, start),
	                    r->stopped_at != 0 ? ig__pg_i64(r->stopped_at, stop) : NULL};

	return ig__pg_put(h, IG__PG_SESSION, v);
}

/* Returns 0, IG_EINVAL (a required string missing) or IG_EIO. */
static int ig__pg_put_order(void *h, const struct ig_store_order *r)
{
	char coid[IG__PG_ID_LEN], voi[IG__PG_ID_LEN], qty[IG__PG_MONEY_LEN],
		px[IG__PG_MONEY_LEN], stop[IG__PG_MONEY_LEN], filled[IG__PG_MONEY_LEN],
		cr[IG__PG_INT_LEN], up[IG__PG_INT_LEN];
	const char *v[16];

	if (r->side == NULL || r->type == NULL || r->tif == NULL || r->state == NULL)
		return IG_EINVAL;
	v[0] = r->daemon_id;
	v[1] = ig__pg_u64(r->client_order_id, coid);
	v[2] = r->venue_order_id != 0 ? ig__pg_u64(r->venue_order_id, voi) : NULL;
	v[3] = r->strategy;
	v[4] = r->symbol;
	v[5] = r->side;
	v[6] = r->type;
	v[7] = r->tif;
	v[8] = ig__pg_money(r->qty, qty);
	v[9] = ig__pg_money_opt(r->price, px);
	v[10] = ig__pg_money_opt(r->stop_price, stop);
	v[11] = ig__pg_money(r->filled_qty, filled);
	v[12] = r->state;
	v[13] = r->reject_reason;
	v[14] = ig__pg_i64(r->created_at, cr);
	v[15] = ig__pg_i64(r->updated_at, up);
	return ig__pg_put(h, IG__PG_ORDER, v);
}

/* Returns 0, IG_EINVAL (a required string missing) or IG_EIO. */
static int ig__pg_put_order_event(void *h, const struct ig_store_order_event *r)
{
	char coid[IG__PG_ID_LEN], seq[IG__PG_INT_LEN], at[IG__PG_INT_LEN];
	const char *v[5] = {r->daemon_id, ig__pg_u64(r->client_order_id, coid),
	                    ig__pg_i64(r->seq, seq), r->state, ig__pg_i64(r->at, at)};

	if (r->state == NULL)
		return IG_EINVAL;
	return ig__pg_put(h, IG__PG_ORDER_EVENT, v);
}

/* Returns 0, IG_EINVAL (a required string missing) or IG_EIO. */
static int ig__pg_put_fill(void *h, const struct ig_store_fill *r)
{
	char tid[IG__PG_ID_LEN], coid[IG__PG_ID_LEN], qty[IG__PG_MONEY_LEN],
		px[IG__PG_MONEY_LEN], fee[IG__PG_MONEY_LEN], at[IG__PG_INT_LEN],
		seq[IG__PG_INT_LEN], feeb[IG__PG_MONEY_LEN], books[IG__PG_INT_LEN];
	const char *v[15] = {r->daemon_id,
	                     ig__pg_u64(r->trade_id, tid),
	                     ig__pg_u64(r->client_order_id, coid),
	                     r->strategy,
	                     r->symbol,
	                     r->side,
	                     ig__pg_money(r->qty, qty),
	                     ig__pg_money(r->price, px),
	                     ig__pg_money(r->fee, fee),
	                     r->fee_currency,
	                     r->liquidity,
	                     ig__pg_i64(r->at, at),
	                     ig__pg_i64(r->seq > INT64_MAX ? INT64_MAX : (int64_t)r->seq, seq),
	                     ig__pg_money(r->fee_base, feeb),
	                     ig__pg_i64(r->books_ns, books)};

	if (r->side == NULL)
		return IG_EINVAL;
	return ig__pg_put(h, IG__PG_FILL, v);
}

/* Returns 0 or IG_EIO. */
static int ig__pg_put_equity(void *h, const struct ig_store_equity *r)
{
	char at[IG__PG_INT_LEN], eq[IG__PG_MONEY_LEN], cash[IG__PG_MONEY_LEN],
		pos[IG__PG_MONEY_LEN];
	const char *v[6] = {r->daemon_id, r->strategy, ig__pg_i64(r->at, at),
	                    ig__pg_money(r->equity, eq), ig__pg_money(r->cash, cash),
	                    ig__pg_money(r->position, pos)};

	return ig__pg_put(h, IG__PG_EQUITY, v);
}

/* Returns 0, IG_EINVAL (a required string missing) or IG_EIO. */
static int ig__pg_put_denial(void *h, const struct ig_store_denial *r)
{
	char coid[IG__PG_ID_LEN], qty[IG__PG_MONEY_LEN], px[IG__PG_MONEY_LEN],
		at[IG__PG_INT_LEN];
	const char *v[10] = {r->daemon_id, ig__pg_u64(r->client_order_id, coid),
	                     r->strategy, r->symbol, r->reason, r->side, r->type,
	                     ig__pg_money(r->qty, qty), ig__pg_money_opt(r->price, px),
	                     ig__pg_i64(r->at, at)};

	/* type may be NULL: an intent denied before it had an order record */
	if (r->reason == NULL || r->side == NULL)
		return IG_EINVAL;
	return ig__pg_put(h, IG__PG_DENIAL, v);
}

/* Closes the connection (an open transaction is rolled back by the
 * server) and frees h. Returns nothing. */
static void ig__pg_close(void *h)
{
	struct ig__pg *s = h;

	if (s == NULL)
		return;
	PQfinish(s->conn);
	free(s);
}

const struct ig_store_ops ig_store_pg_ops = {
	.name = "postgres",
	.open = ig__pg_open,
	.begin = ig__pg_begin,
	.commit = ig__pg_commit,
	.rollback = ig__pg_rollback,
	.put_session = ig__pg_put_session,
	.put_order = ig__pg_put_order,
	.put_order_event = ig__pg_put_order_event,
	.put_fill = ig__pg_put_fill,
	.put_equity = ig__pg_put_equity,
	.put_denial = ig__pg_put_denial,
	.close = ig__pg_close,
};

/* ---- queries (`ingenium history`) ------------------------------------ */

#define IG__PG_INT8OID 20u
#define IG__PG_TEXTOID 25u

int ig_store_pg_select(const char *target, const char *sql, int nparams,
                       const char *const *params, const unsigned char *is_int, int timeout_ms,
                       ig_store_row_fn fn, void *ctx, char *err, size_t errlen)
{
	Oid types[IG__PG_MAX_PARAMS];
	PGconn *c;
	PGresult *r;
	long version = -1;
	int rc = 0;

	if (target == NULL || target[0] == '\0') {
		ig__pg_err(err, errlen, "postgres: empty connection string", NULL, NULL);
		return IG_EINVAL;
	}
	if (nparams < 0 || nparams > IG__PG_MAX_PARAMS)
		return IG_EINVAL;
	for (int i = 0; i < nparams; i++)
		types[i] = is_int != NULL && is_int[i] ? IG__PG_INT8OID : IG__PG_TEXTOID;
	/* A caller's time bound (the API's) shortens the connect too; the
	 * connection string's own connect_timeout still wins. */
	c = ig__pg_connect(target, timeout_ms > 0 ? (timeout_ms < 2000 ? 2 : (timeout_ms + 999) / 1000)
						  : 0);
	if (c == NULL) {
		ig__pg_err(err, errlen, "postgres: out of memory", NULL, NULL);
		return IG_ENOMEM;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		ig__pg_err(err, errlen, "postgres: connect", PQerrorMessage(c), target);
		PQfinish(c);
		return IG_EIO;
	}
	PQsetNoticeProcessor(c, ig__pg_notice, NULL);
	rc = ig__pg_exec(c, "SET client_encoding = 'UTF8'", "postgres: set encoding", err, errlen);
	if (rc == 0)
		rc = ig__pg_exec(c, "BEGIN TRANSACTION READ ONLY", "postgres: begin", err, errlen);
	if (rc == 0 && timeout_ms > 0) {
		char set[64];
		snprintf(set, sizeof(set), "SET LOCAL statement_timeout = %d", timeout_ms);
		rc = ig__pg_exec(c, set, "postgres: statement_timeout", err, errlen);
	}
	if (rc != 0)
		goto out;
	r = PQexec(c, "SELECT max(version) FROM schema_version");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
		version = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (version < 1 || version > IG_STORE_SCHEMA_VERSION) {
		if (err != NULL && errlen > 0) {
			if (version > IG_STORE_SCHEMA_VERSION)
				snprintf(err, errlen,
				         "store schema version %ld is newer than this binary's %d",
				         version, IG_STORE_SCHEMA_VERSION);
			else
				snprintf(err, errlen, "postgres: the database holds no history store"
				                      " (no schema_version)");
		}
		rc = IG_ESTATE;
		goto out;
	}
	r = PQexecParams(c, sql, nparams, types, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		ig__pg_err(err, errlen, "postgres: query", PQerrorMessage(c), NULL);
		rc = IG_EIO;
	} else {
		int nrows = PQntuples(r), ncols = PQnfields(r);
		const char *cells[32];

		if (ncols > 32)
			ncols = 32;
		for (int i = 0; i < nrows && rc == 0; i++) {
			for (int k = 0; k < ncols; k++)
				cells[k] = PQgetisnull(r, i, k) ? NULL : PQgetvalue(r, i, k);
			if (fn(ctx, cells, ncols) != 0)
				rc = IG_ENOMEM;
		}
	}
	PQclear(r);
out:
	PQfinish(c); /* ends the read-only transaction */
	return rc;
}

struct ig__pg_epoch {
	bool found;
	uint32_t epoch;
};

static int ig__pg_epoch_row(void *ctx, const char *const *cells, int ncols)
{
	struct ig__pg_epoch *e = ctx;
	char *end;
	unsigned long long v;

	if (ncols < 1 || cells[0] == NULL)
		return 0;
	v = strtoull(cells[0], &end, 10);
	if (*end == '\0' && v <= UINT32_MAX) {
		e->epoch = (uint32_t)v;
		e->found = true;
	}
	return 0;
}

int ig_store_pg_last_epoch(const char *target, const char *daemon_id, uint32_t *epoch, char *err,
                           size_t errlen)
{
	struct ig__pg_epoch e = { false, 0 };
	const char *params[1] = { daemon_id };
	int rc = ig_store_pg_select(target, "SELECT max(run_epoch)::text FROM sessions"
	                                    " WHERE daemon_id = $1",
	                            1, params, NULL, 0, ig__pg_epoch_row, &e, err, errlen);

	if (rc != 0)
		return rc;
	if (!e.found)
		return IG_ENOENT;
	*epoch = e.epoch;
	return 0;
}
