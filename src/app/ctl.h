/*
 * ctl.h - `ingenium ctl`: the operator's client of a running daemon's
 * status API (docs/api.md): status, kill switch, pause, resume,
 * cancel-all, reset, over libcurl with the bearer token from the
 * environment.
 *
 * Owner: the main thread of the ingenium process.
 */
#ifndef IG_APP_CTL_H
#define IG_APP_CTL_H

/* Runs `ingenium ctl ARGS...` (argv[0] is "ctl"). Prints the answer on
 * stdout (the status as a table, a control's JSON) and errors on stderr;
 * never prints the token. Returns the exit code: 0 on a 2xx answer, 1 on
 * a 4xx/5xx one, 2 on a usage error, a missing token or no connection. */
int ig_ctl_main(int argc, char **argv);

#endif
