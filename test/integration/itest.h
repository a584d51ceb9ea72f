/*
 * itest.h - what the integration tests share: they run the real binary
 * (build/ingenium) as child processes, the daemon and exchange-sim on
 * loopback, and always stop them.
 *
 * Owner: the test's main thread.
 */
#ifndef IG_TEST_ITEST_H
#define IG_TEST_ITEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

extern char it_bin[512];     /* path of build/.../ingenium */
extern char it_tmpdir[256];  /* this run's scratch directory */
extern const char *it_key;   /* LUNO_API_KEY_ID given to children */
extern const char *it_secret;/* LUNO_API_KEY_SECRET given to children */
extern pid_t it_run_pid;     /* the daemon a test started, -1 none */
extern pid_t it_sim_pid;     /* the exchange-sim a test started, -1 none */
extern json_t *it_json[4];   /* results a test loaded (freed by it_teardown) */

void it_msleep(int ms);

/* Starts argv (argv[0] the program) with stdout and stderr to outfile
 * (appended to if append), and the API key variables set. Returns the pid. */
pid_t it_spawn(const char *const *argv, const char *outfile, bool append);

/* Sends sig to *pid and waits up to wait_ms for it to exit (then SIGKILL).
 * Returns its exit status (128 + signal if killed), -1 if *pid <= 0;
 * *pid becomes -1. */
int it_reap(pid_t *pid, int sig, int wait_ms);

/* Prints each line of path holding needle, indented (figures a test
 * reports, e.g. the daemon's own timing lines). Returns how many. */
int it_print_lines(const char *path, const char *needle);

/* Runs argv to completion with output to outfile; returns its exit status. */
int it_run(const char *const *argv, const char *outfile);

/* The whole file, NUL-terminated, malloc'd (caller frees), or NULL. */
char *it_slurp(const char *path);

/* Occurrences of needle in the file at path. */
int it_count(const char *path, const char *needle);

/* Waits (up to 5 s) for exchange-sim's "listening on 127.0.0.1:PORT" line
 * in outfile; returns the port or -1. */
int it_sim_port(const char *outfile);

/* A TCP port free on 127.0.0.1 just now (bound, read, closed). */
uint16_t it_free_port(void);

/* The sum of summary.strategies[].key (integers). */
int64_t it_sum_strategies(json_t *summary, const char *key);

/* The decimal string at o[key] as 1e-8 fixed-point; fails the test if it
 * is missing or malformed. */
int64_t it_money(json_t *o, const char *key);

/* The daemon's books (the summary's strategies, summed: one account)
 * against exchange-sim's --state st, exactly: position == the base balance
 * change, cash - capital == the counter change, fees_base == the sum of
 * the trades' fee_base (Luno charges a buyer in base), fees == the sum of
 * fee_counter + fee_base * price (the quote value the OMS books), fills ==
 * the sim's trades, and no refused fill. Prints the figures after label;
 * fails the test on any difference. */
void it_check_books(const char *label, json_t *st, json_t *strats);

/* Fails the test if it_secret (the API secret children were given)
 * appears in the file at path. */
void it_assert_no_secret(const char *path);

/* cmocka teardown: kills it_run_pid, stops it_sim_pid, frees it_json[],
 * so a failed assertion leaves no process and no leak behind. */
int it_teardown(void **state);

/* main() of an integration test named name (its binary is
 * BUILD/test/integration/NAME): finds the ingenium binary beside argv0,
 * makes it_tmpdir, runs the tests, removes it_tmpdir if all passed (else
 * says where it is). Returns cmocka's result. */
int it_main(const char *argv0, const char *name, const struct CMUnitTest *tests, size_t n);

#endif
