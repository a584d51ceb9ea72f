/*
 * history.h - `ingenium history`: rebuild the history store from a
 * journal, and query it.
 *
 *   ingenium history rebuild --journal FILE --store sqlite:PATH -c CONFIG
 *   ingenium history --store sqlite:PATH orders|fills|pnl|sessions
 *                    [--strategy S] [--daemon D] [--from T] [--to T] [--csv|--json]
 *
 * Owner: the main thread.
 */
#ifndef IG_APP_HISTORY_H
#define IG_APP_HISTORY_H

/* argv[0] is "history". Returns the exit status: 0 ok, 1 failed, 2 usage
 * or unreadable input. */
int ig_history_main(int argc, char **argv);

#endif
