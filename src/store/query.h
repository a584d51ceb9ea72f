/*
 * query.h - the history store's read side: the orders, fills, pnl and
 * sessions queries of `ingenium history` and of the API's
 * /api/v1/history/... endpoints, one code path for both.
 *
 * Design
 * ------
 * Each query is one SQL text for both backends ($1 strategy, $2 daemon,
 * $3 from, $4 to, $5 a row limit; SQLite reads them as ?1..?5) on the
 * base tables. A backend only fetches the rows as text (money as int64
 * 1e-8 units, PostgreSQL's NUMERIC text parsed exactly; times as Unix
 * ns); the formatting (money with 8 decimals, times as UTC), the pnl walk
 * (ig_pos_apply_fill per strategy, per UTC day, fills by time, then
 * fills.seq, then trade id as a number) and the JSON rows are shared, so
 * both stores give the same bytes. With a limit, orders, fills and
 * sessions keep the newest rows (the SQL takes them newest first, then
 * puts them back in time order); pnl keeps its last rows.
 *
 * Time bounds (timeout_ms > 0, the API): SQLite opens the file read-only
 * (WAL: a reader never blocks the recorder, nor waits for it), waits at
 * most IG_STORE_QUERY_BUSY_MS for a lock and interrupts a statement past
 * timeout_ms; PostgreSQL bounds the connection (connect_timeout) and the
 * statement (statement_timeout).
 *
 * Owner: whoever calls it (the main thread for the CLI, the API's thread);
 * nothing shared.
 */
#ifndef IG_STORE_QUERY_H
#define IG_STORE_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define IG_STORE_QUERY_BUSY_MS 300 /* SQLite: the longest wait for a lock, when bounded */

struct ig_store_query {
	int kind;               /* IG_STORE_SQLITE or IG_STORE_POSTGRES (config.h) */
	const char *target;     /* the SQLite path, or the libpq connection string (never shown) */
	const char *what;       /* "orders", "fills", "pnl", "sessions" */
	const char *strategy;   /* NULL: every strategy */
	const char *daemon;     /* NULL: every daemon */
	int64_t from_ns, to_ns; /* inclusive; INT64_MIN / INT64_MAX: open */
	size_t limit;           /* 0: every row; else at most this many (see above) */
	int timeout_ms;         /* 0: unbounded (the CLI); else the statement's bound */
};

/* Returns the column names of query what, in output order, with their
 * count in *n; NULL (and *n 0) if what is no query. */
const char *const *ig_store_query_columns(const char *what, size_t *n);

/* Runs q. Returns 0 with *rows a new JSON array of objects, one per row,
 * each column (in ig_store_query_columns order) a string or null: exactly
 * what `ingenium history --json` prints; *truncated (may be NULL) true if
 * the limit cut rows. Else *rows NULL and IG_EINVAL (no such query),
 * IG_ENOENT (the SQLite file cannot be opened), IG_EIO (the store cannot
 * be read: connection, SQL, timeout), IG_ESTATE (not a store, or a newer
 * one) or IG_ENOMEM, with err set (never holding a password). */
int ig_store_query_run(const struct ig_store_query *q, json_t **rows, bool *truncated, char *err,
		       size_t errlen);

#endif
