/*
 * store.h - the history store: rows and the backend interface.
 *
 * A backend (SQLite: store_sqlite.c; PostgreSQL: store_pg.c) writes rows
 * in batched transactions. Every insert is idempotent on the row's
 * natural key (see each row), so writing the same row twice (a catch-up
 * from the journal, a rebuild) changes nothing; put_order is an upsert
 * that keeps the row furthest along (the larger filled_qty, then a
 * terminal state over an open one, then the newer updated_at).
 *
 * Owner: the recorder thread (or `history rebuild` on the main thread).
 */
#ifndef IG_STORE_STORE_H
#define IG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define IG_STORE_SCHEMA_VERSION 3
#define IG_STORE_NAME_MAX 64

/* ig_ord_state_name() of the terminal states and of the open ones, as SQL
 * lists, for the orders upsert of both backends (an unknown name is
 * neither: only its time counts). */
#define IG__STORE_TERMINAL "('filled', 'canceled', 'rejected', 'expired', 'denied')"
#define IG__STORE_OPEN                                                                       \
	"('initialized', 'submitted', 'accepted', 'partially_filled', 'pending_cancel',"     \
	" 'in_doubt')"

/* key (daemon_id, run_epoch) */
struct ig_store_session {
	char daemon_id[IG_STORE_NAME_MAX];
	uint32_t run_epoch;
	char config_hash[24];          /* hex */
	char venue[IG_STORE_NAME_MAX]; /* registry name: paper, luno */
	int64_t started_at;
	int64_t stopped_at;            /* 0 = running / unknown */
};

/* key (daemon_id, client_order_id); upsert keeps the larger filled_qty,
 * then (filled_qty equal) a terminal state over an open one whatever
 * their times (a partial fill carries the venue's trade time, a later
 * cancel the local clock, which may be behind it), then the newer
 * updated_at */
struct ig_store_order {
	char daemon_id[IG_STORE_NAME_MAX];
	uint64_t client_order_id;
	uint64_t venue_order_id;       /* 0 = none */
	char strategy[IG_STORE_NAME_MAX];
	char symbol[IG_STORE_NAME_MAX];
	const char *side;              /* ig_side_name(): static strings */
	const char *type;              /* "market", "limit", "stop_market", ... */
	const char *tif;               /* "gtc", "ioc", "fok", "day", ... */
	int64_t qty, price, stop_price; /* price/stop_price 0 = none (NULL in the table) */
	int64_t filled_qty;
	const char *state;             /* ig_ord_state_name() */
	const char *reject_reason;     /* NULL = none */
	int64_t created_at, updated_at;
};

/* key (daemon_id, client_order_id, seq): seq counts the order's state
 * changes as the OMS made them (1, 2, ...), the same live and in a replay */
struct ig_store_order_event {
	char daemon_id[IG_STORE_NAME_MAX];
	uint64_t client_order_id;
	uint32_t seq;
	const char *state;
	int64_t at;
};

/* key (daemon_id, client_order_id, trade_id): client ids carry the run
 * epoch, so the key is unique across runs and venues. seq is the fill's
 * place in its strategy's books (ig_oms_fills: 1, 2, ... in the order the
 * OMS applied them, the same live and in a replay; 0 = unknown, a row
 * from schema version 1): with books_ns it orders fills as the OMS
 * applied them, which the position arithmetic needs (a fill's time is
 * the venue's or the data's, not always in that order). */
struct ig_store_fill {
	char daemon_id[IG_STORE_NAME_MAX];
	uint64_t trade_id;
	uint64_t client_order_id;
	char strategy[IG_STORE_NAME_MAX];
	char symbol[IG_STORE_NAME_MAX];
	const char *side;
	int64_t qty, price, fee;
	char fee_currency[16];         /* the quote currency ("USD", "ZAR"), or the base when the
					* fill's only fee was charged in base */
	int64_t fee_base;              /* a fee charged in the base asset besides a quote fee in
					* fee (schema 3; 0 = none): the OMS books both */
	const char *liquidity;         /* "maker", "taker", NULL = unknown */
	int64_t at;
	uint64_t seq;
	int64_t books_ns;              /* the books the fill went into (ig_oms_books_ns, or the
					* run's start without a journal; schema 3; 0 = unknown):
					* (books_ns, seq) is the order the OMS applied fills in */
};

/* key (daemon_id, strategy, at) */
struct ig_store_equity {
	char daemon_id[IG_STORE_NAME_MAX];
	char strategy[IG_STORE_NAME_MAX];
	int64_t at;
	int64_t equity, cash, position; /* position: net base qty summed over its instruments */
};

/* key (daemon_id, client_order_id): a denied intent still has its id */
struct ig_store_denial {
	char daemon_id[IG_STORE_NAME_MAX];
	uint64_t client_order_id;
	char strategy[IG_STORE_NAME_MAX];
	char symbol[IG_STORE_NAME_MAX];
	const char *reason;            /* ig_reject_reason_name() */
	const char *side;
	const char *type;
	int64_t qty, price;            /* price 0 = none */
	int64_t at;
};

/* A backend. Each function returns 0 or a negative IG_E* code with err
 * (where there is one) set; the message never holds a password. */
struct ig_store_ops {
	const char *name; /* "sqlite", "postgres" */
	/* target: a file path (sqlite) or a libpq connection string (postgres).
	 * Creates or migrates the schema to IG_STORE_SCHEMA_VERSION in one
	 * transaction (forward-only); a store newer than the binary is
	 * refused (IG_ESTATE, "store schema version N is newer than this
	 * binary's M"). */
	int (*open)(void **h, const char *target, char *err, size_t errlen);
	int (*begin)(void *h, char *err, size_t errlen);
	int (*commit)(void *h, char *err, size_t errlen);
	void (*rollback)(void *h);
	int (*put_session)(void *h, const struct ig_store_session *r);
	int (*put_order)(void *h, const struct ig_store_order *r);
	int (*put_order_event)(void *h, const struct ig_store_order_event *r);
	int (*put_fill)(void *h, const struct ig_store_fill *r);
	int (*put_equity)(void *h, const struct ig_store_equity *r);
	int (*put_denial)(void *h, const struct ig_store_denial *r);
	void (*close)(void *h);
};

extern const struct ig_store_ops ig_store_sqlite_ops;
extern const struct ig_store_ops ig_store_pg_ops;

/* One result row for ig_store_pg_select(): ncols cells as text (NULL for
 * SQL NULL). Returns 0 to go on, non-zero to stop with IG_ENOMEM. */
typedef int (*ig_store_row_fn)(void *ctx, const char *const *cells, int ncols);

/* Runs one SELECT on the PostgreSQL store at target (a libpq connection
 * string) in a read-only transaction, for the history queries (query.h): params
 * $1..$nparams as text (NULL: SQL NULL), typed bigint where is_int[i],
 * else text; each row goes to fn. The store must exist and be no newer
 * than this binary (nothing is created or migrated). timeout_ms > 0
 * bounds the time: connect_timeout (whole seconds, at least 2) and the
 * statement's statement_timeout; 0: libpq's defaults. Returns 0,
 * IG_EINVAL, IG_ENOMEM, IG_EIO (connection or SQL failure) or IG_ESTATE
 * (not a store, or a newer one), with err set and never holding the
 * password. */
int ig_store_pg_select(const char *target, const char *sql, int nparams,
                       const char *const *params, const unsigned char *is_int, int timeout_ms,
                       ig_store_row_fn fn, void *ctx, char *err, size_t errlen);

/* The highest run_epoch of daemon_id's sessions in the PostgreSQL store at
 * target (read only; nothing is created). Returns 0 with *epoch set,
 * IG_ENOENT (no session of that daemon) or another ig_store_pg_select
 * error with err set (the server unreachable: within its connect
 * timeout), never holding the password. */
int ig_store_pg_last_epoch(const char *target, const char *daemon_id, uint32_t *epoch, char *err,
                           size_t errlen);

#endif
