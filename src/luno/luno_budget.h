/*
 * luno_budget.h - the one request budget every Luno call draws from.
 *
 * Design
 * ------
 * Luno allows 300 calls a minute and answers HTTP 429 beyond. The market
 * data poller (tick thread) and the venue (executor thread) share one
 * budget, so it is a lock-free GCRA (generic cell rate algorithm, the
 * token bucket written as one "theoretical arrival time", tat_ns):
 *
 *   interval_ns  = 60 s / (per_min - burst)
 *   tolerance_ns = (burst - 1) * interval_ns
 *   a call may go at `now` iff tat_ns - tolerance_ns <= now,
 *   and then tat_ns = max(tat_ns, now) + interval_ns.
 *
 * From idle that admits `burst` calls at once and one per interval after,
 * so no 60 s window holds more than per_min - 1 calls (one call of margin
 * for the skew between our send times and the venue's arrival times).
 *
 * Priority without a queue: a caller asks with a reserve r (in calls) and
 * is admitted only if r + 1 calls are available. Order traffic (cancels,
 * submits, in-doubt lookups) asks with reserve 0; periodic polls (ticker,
 * listtrades, status) ask with a reserve, so under pressure the periodic
 * traffic waits and order traffic goes first. Within the venue, cancels
 * are also ahead of everything in its own queue.
 *
 * HTTP 429: ig_luno_budget_throttled() starts an exponential backoff with
 * jitter (base * 2^n, n capped, each delay drawn from [d/2, d)) that stops
 * every caller, and leaves the bucket empty when it ends, so traffic
 * resumes at the steady rate rather than in a burst. The first success
 * after it resets n.
 *
 * Learning the venue's limit. If the venue's real limit is below per_min
 * (another client on the key, a stricter venue), backoff alone would hit
 * 429 again every minute. So the budget remembers when its last
 * IG_LUNO_BUDGET_RING calls went. On a 429, the n calls of the last 60 s
 * (the refused one included) show that the venue admits at most n - 1 a
 * minute: the rate drops to 90% of that (never below per_min / 10), and
 * while it is below per_min the budget also counts its own calls in every
 * sliding 60 s window, as the venue does (else the calls made before the
 * 429 keep the venue's window full for up to a minute, and every call
 * then is refused). A 429 after fewer than 10 calls in the minute teaches
 * nothing (a restart into a window still full of the previous run's calls,
 * a burst limit): backoff alone handles it. After ten minutes without a
 * 429 the rate creeps back up by per_min / 20 a minute, up to per_min
 * (probing, so a limit learned from a transient does not stay forever).
 *
 * Owner: one Luno instance (luno.h): an engine's feed and venue draw from
 * the budget of their instance, never from a process-wide one. Shared by
 * the tick and executor threads; every field is accessed with __atomic
 * builtins, relaxed: each field is a self-contained number and no other
 * memory is published through it (a racing reader sees an older or newer
 * value of that one number, and every decision made on it is re-checked
 * by the CAS on tat_ns or only delays a call). The fields that are not
 * atomic (per_min, burst, backoff_*) are written once by
 * ig_luno_budget_init() before either thread starts.
 */
#ifndef IG_LUNO_LUNO_BUDGET_H
#define IG_LUNO_LUNO_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

#define IG_LUNO_BUDGET_MAX_LEVEL 6 /* backoff stops doubling at base * 64 */

#define IG_LUNO_BUDGET_RING 1024  /* call times remembered for learning */

struct ig_luno_budget {
	int64_t per_min;          /* configured calls per minute */
	int64_t burst;            /* configured calls admitted at once from idle */
	int64_t limit;            /* atomic: calls per minute now (<= per_min, learned) */
	int64_t interval_ns;      /* atomic: steady spacing at `limit` */
	int64_t tolerance_ns;     /* atomic: (burst - 1) * interval */
	int64_t backoff_base_ns;  /* first 429 backoff (before jitter) */
	int64_t backoff_max_ns;   /* cap */
	int64_t tat_ns;           /* atomic: theoretical arrival time */
	int64_t backoff_until_ns; /* atomic: nothing goes before this */
	int64_t last_429_ns;      /* atomic: when the last 429 came, 0 = never */
	int64_t last_raise_ns;    /* atomic: when the limit last changed */
	uint32_t level;           /* atomic: consecutive 429s */
	uint64_t taken;           /* atomic: calls admitted (also the ring's head) */
	uint64_t throttled;       /* atomic: 429s reported */
	int64_t ring[IG_LUNO_BUDGET_RING]; /* atomic slots: times of the last calls */
};

/* Sets up a budget of per_min calls a minute (>= 1) with the given burst
 * (clamped to 1..per_min; 0 picks per_min / 30, at least 1) and a 429
 * backoff starting at backoff_base_ms (0 picks 500 ms), capped at 30 s. */
void ig_luno_budget_init(struct ig_luno_budget *b, int64_t per_min, int64_t burst,
			 int64_t backoff_base_ms);

/* Takes one call if at least reserve + 1 are available at now_ns
 * (CLOCK_MONOTONIC) and no backoff is running. Returns true if taken;
 * otherwise false with *retry_ns set to the earliest time to ask again.
 * Any thread. */
bool ig_luno_budget_take(struct ig_luno_budget *b, int64_t now_ns, int64_t reserve,
			 int64_t *retry_ns);

/* Reports an HTTP 429 at now_ns; rng is the caller's xorshift state for
 * the jitter. Returns the backoff chosen (ns). Any thread. */
int64_t ig_luno_budget_throttled(struct ig_luno_budget *b, int64_t now_ns, uint64_t *rng);

/* Reports a successful call (resets the backoff level). Any thread. */
void ig_luno_budget_ok(struct ig_luno_budget *b);

/* The rate the budget allows now (calls a minute): per_min unless a 429
 * taught it less. Any thread. */
int64_t ig_luno_budget_limit(const struct ig_luno_budget *b);

/* True while a 429 backoff is running at now_ns. */
bool ig_luno_budget_backing_off(const struct ig_luno_budget *b, int64_t now_ns);

/* The configured budget (calls a minute); IG_CFG_DEFAULT_REQUESTS_PER_MIN
 * unless the config says. */
int64_t ig_luno_budget_per_min(const struct ig_config *cfg);

#endif
