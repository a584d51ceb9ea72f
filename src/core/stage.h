/*
 * stage.h - the one interface every pipeline stage implements.
 *
 * Design
 * ------
 * A stage (tick/feed, strategy host, OMS, executor, journal) is a plain
 * object plus a table of operations. It knows nothing of threads, rings or
 * of the other stages: it reads events given to handle(), writes events
 * through ig_emit() (emit.h), and says through the other operations when it
 * has work of its own. The drivers (driver.h) are written once against this
 * table; they never ask which stage they are running.
 *
 * Every operation but `name` and `handle` may be NULL (not used). All take
 * the stage's `self`. Unless said otherwise an operation runs on the
 * thread that owns the stage: the agent thread the graph assigns it to
 * (threaded driver), or the one thread of the inline driver. `has_work` is
 * the exception callers must know about: it also runs on the owning
 * thread, but reads flags other threads set (request functions such as
 * ig_oms_request_kill_switch() or ig_tick_request_stop() write them with
 * release, and wake the thread through ig_driver_wake()).
 *
 * The order of one duty cycle (threaded driver, driver_threaded.c):
 *
 *   1. flush outbox spills
 *   2. poll()                     always (feedback-class work)
 *   3. feedback inputs            always: handle() per event
 *   4. forward inputs, source()   only while no outbox spills
 *   5. commit(IG_COMMIT_CYCLE)
 *   6. one notify per outbox that was pushed to
 *   7. done()                     the run is over when any stage says so
 *
 * The inline driver (driver_inline.c) calls poll() once before the feed,
 * source() until it returns 0, and after each handle()
 * commit(IG_COMMIT_EVENT). After either driver, ig_driver_finish() calls
 * commit(IG_COMMIT_FINAL) twice (with a drain between) and then on_stop().
 *
 * stats() adds the stage's part of the run summary to the summary's root
 * object (src/app/summary.c composes the document from these; the keys are
 * listed in docs/architecture.md "Summary JSON"). A stage may add keys to a
 * sub-object another stage also writes ("latency", "recovery"): get it with
 * ig_stats_object().
 */
#ifndef IG_CORE_STAGE_H
#define IG_CORE_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/emit.h"
#include "ingenium/event.h"

/* What commit() is asked to do. */
enum ig_commit_mode {
	IG_COMMIT_CYCLE = 0, /* end of a duty cycle: the stage's own policy (batching, clocks) */
	IG_COMMIT_EVENT,     /* inline, after each handled event: what the stage holds for later
			      * goes now (there is no duty cycle to batch over, no clock to wait
			      * for); nothing more */
	IG_COMMIT_FINAL,     /* the run is over: everything goes and is made durable */
};

struct ig_stage_ops {
	/* "tick", "strategy", "oms", "exec", "journal": the agent's name and
	 * both ends of the hop names in the summary ("tick->oms"). */
	const char *name;

	/* One event addressed to this stage. Hot path: no allocation, locks or
	 * blocking. Required. */
	void (*handle)(void *self, const struct ig_event *ev, struct ig_emit *out);

	/* Work the stage finds itself (a venue's replies, a request flag set
	 * by another thread). Runs every duty cycle, even under back-pressure,
	 * so it may only emit feedback-class events (towards a stage that
	 * consumes them unconditionally). now_ns: CLOCK_MONOTONIC. Returns
	 * work done (0 = nothing). */
	int (*poll)(void *self, int64_t now_ns, struct ig_emit *out);

	/* A source (the feed): produces the next unit of input, at most one
	 * source event and what goes with it (a heartbeat timer). Called only
	 * while none of the stage's outboxes spills, again and again in a
	 * cycle (up to a batch) until it returns 0 or an outbox spills; this is
	 * where back-pressure ends. now_ns: CLOCK_MONOTONIC, read once per
	 * cycle; 0 from the inline driver (data time rules there). Returns
	 * events produced; 0 = nothing due now (threaded) or finished (after
	 * its last event, the shutdown token, it returns 0 for good). */
	int (*source)(void *self, int64_t now_ns, struct ig_emit *out);

	/* Hands on what the stage holds for later, as mode says (above).
	 * Returns work done. */
	int (*commit)(void *self, int64_t now_ns, enum ig_commit_mode mode, struct ig_emit *out);

	/* Earliest CLOCK_MONOTONIC time the stage must run again without new
	 * input, INT64_MAX if none (the driver adds its own spill retries). */
	int64_t (*deadline_ns)(void *self);

	/* True if the stage has work besides its input rings (a request flag
	 * another thread set). Checked before the thread parks. */
	bool (*has_work)(void *self);

	/* True once the run is over (the OMS has seen the shutdown token come
	 * back). The threaded driver then stops its threads. */
	bool (*done)(const void *self);

	/* After the run and ig_driver_finish()'s commits: report what is left
	 * (logs). Once; must not emit. */
	void (*on_stop)(void *self);

	/* Adds the stage's summary keys to root (after the run, main thread).
	 * Returns 0 or IG_ENOMEM. */
	int (*stats)(const void *self, json_t *root);
};

/* root[key] as an object, created if missing (NULL if root[key] is not an
 * object or out of memory). For stats() of stages that share a sub-object. */
static inline json_t *ig_stats_object(json_t *root, const char *key)
{
	json_t *o = json_object_get(root, key);
	if (o == NULL) {
		o = json_object();
		if (o == NULL || json_object_set_new(root, key, o) != 0)
			return NULL;
	}
	return json_is_object(o) ? o : NULL;
}

#endif
