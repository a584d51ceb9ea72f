/*
 * pgtest.h - a throwaway PostgreSQL cluster for tests.
 *
 * pgt_start() runs initdb in a new temporary directory (as the `postgres`
 * user when the test runs as root: the server refuses root), starts the
 * server with pg_ctl on a free port of 127.0.0.1 only (its Unix socket in
 * the temporary directory, fsync off: nothing here needs to survive a
 * crash) and hands back a libpq connection string per database
 * (pgt_createdb). pgt_destroy() stops it (pg_ctl stop -m immediate) and
 * removes the directory; call it from a cmocka group teardown so it runs
 * whether or not the tests passed. A watchdog process does the same if
 * the test process dies before that (a crash, a sanitizer abort, the
 * runner's timeout kill): it holds the read end of a pipe only the test
 * process can write to, and cleans up at its end of file.
 *
 * The server binaries are looked up in $IG_PG_BINDIR, `pg_config
 * --bindir`, /usr/lib/postgresql/<newest>/bin, then $PATH; without them
 * pgt_start() fails naming scripts/install-deps.sh.
 *
 * Owner: the test's main thread.
 */
#ifndef IG_TEST_PGTEST_H
#define IG_TEST_PGTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pgt_cluster {
	char dir[256];     /* the temporary directory ("" none) */
	char bindir[256];  /* where initdb and pg_ctl are */
	int port;          /* 127.0.0.1 port of the server */
	bool running;
	pid_t watchdog;    /* the cleanup process, -1 none */
	int watch_fd;      /* write end of its pipe, -1 none */
};

/* Creates and starts a cluster. Returns 0, or -1 with err set (the
 * directory removed again). */
int pgt_start(struct pgt_cluster *c, char *err, size_t errlen);

/* Creates database name (dropping an old one of that name) and writes its
 * connection string ("host=127.0.0.1 port=N dbname=NAME user=postgres
 * connect_timeout=5") into conninfo. Returns 0, or -1 with err set. */
int pgt_createdb(struct pgt_cluster *c, const char *name, char *conninfo, size_t cap,
                 char *err, size_t errlen);

/* Stops the server at once (pg_ctl stop -m immediate), keeping the data.
 * Returns 0 or -1. */
int pgt_stop(struct pgt_cluster *c);

/* Starts the stopped server again on the same port (pg_ctl start -w).
 * Returns 0, or -1 with err set. */
int pgt_restart(struct pgt_cluster *c, char *err, size_t errlen);

/* Stops the server if running, removes the directory and ends the
 * watchdog. Safe to call twice or on a cluster that never started.
 * Returns nothing. */
void pgt_destroy(struct pgt_cluster *c);

#endif
