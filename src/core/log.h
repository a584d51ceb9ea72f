/*
 * log.h - the asynchronous logger.
 *
 * Design
 * ------
 * Each thread that logs attaches once (ig_log_attach) and gets its own SPSC
 * ring of 256-byte records to the logger thread. A record is either text,
 * formatted on the caller's thread into a fixed buffer (cold paths: start-up,
 * once-a-second status), or a raw struct ig_event copy that the logger
 * thread formats (hot paths: one line per order, fill and reject), so the
 * trading threads never touch stdio and never block. If a log ring is full
 * the record is dropped and counted (ig_log_dropped): log lines are not
 * trading events, and a slow terminal must never stall the engine.
 *
 * Before ig_log_start() (and after ig_log_stop()), or on a thread that never
 * attached, ig_log* writes synchronously to stderr: that only happens on
 * cold paths (argument parsing, config errors, tests).
 *
 * Owner: each ring's producer is its attached thread; the logger thread
 * consumes all of them. The name tables are set before start and read-only.
 */
#ifndef IG_CORE_LOG_H
#define IG_CORE_LOG_H

#include <stdarg.h>
#include <stdint.h>

#include "ingenium/event.h"

enum ig_log_level {
	IG_LOG_OFF = -1, /* for ig_log_set_level only: nothing is written */
	IG_LOG_ERROR = 0,
	IG_LOG_WARN,
	IG_LOG_INFO,
	IG_LOG_DEBUG,
};

/* Sets the least severe level that is written. Default IG_LOG_INFO; the
 * IG_LOG_LEVEL environment variable (error|warn|info|debug) overrides it. */
void ig_log_set_level(enum ig_log_level lvl);
enum ig_log_level ig_log_level(void);

/* Mutes (on) or unmutes the calling thread's lines, whatever the level;
 * other threads log as before (a journal replay beside a live run, e.g.
 * the history store's catch-up, silences only itself). Returns the
 * previous setting. */
_Bool ig_log_mute_thread(_Bool on);

/* Names used when the logger formats raw events. The arrays must outlive
 * the logger; set before ig_log_start(). */
void ig_log_set_names(const char *const *strategy_names, uint32_t nstrategies,
		      const char *const *instrument_names, uint32_t ninstruments);

/* Starts the logger thread. Returns 0 or IG_ETHREAD / IG_ENOMEM. */
int ig_log_start(void);

/* Drains every ring, stops the logger thread, detaches all threads. */
void ig_log_stop(void);

/* Attaches the calling thread under a short name (<= 15 chars). Returns 0
 * or IG_ELIMIT when all rings are taken (the thread then logs
 * synchronously). Idempotent per thread. */
int ig_log_attach(const char *thread_name);

void ig_log(enum ig_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ig_vlog(enum ig_log_level lvl, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Logs an order/fill/reject/update event; the logger thread formats it. */
void ig_log_event(enum ig_log_level lvl, const struct ig_event *ev);

/* Records dropped because a ring was full. */
uint64_t ig_log_dropped(void);

#define ig_log_error(...) ig_log(IG_LOG_ERROR, __VA_ARGS__)
#define ig_log_warn(...) ig_log(IG_LOG_WARN, __VA_ARGS__)
#define ig_log_info(...) ig_log(IG_LOG_INFO, __VA_ARGS__)

#endif
