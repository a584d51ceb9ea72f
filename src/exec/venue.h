/*
 * venue.h - the interface every venue implements (design.md §7).
 *
 * A venue lives on the executor thread and nowhere else: its sockets,
 * libcurl handles and books never leave it. The executor stage calls it for
 * each order and cancel it dequeues, hands it market data if it asks for
 * it, and calls poll() on every duty cycle so that an asynchronous venue
 * can drive its I/O (curl multi), its request budget and its periodic order
 * status checks without ever blocking the thread. Everything the venue
 * learns goes back to the OMS as events through `out`:
 *
 *   IG_EV_ORDER_UPDATE  ACCEPTED (with venue_order_id), CANCELED, EXPIRED,
 *                       IN_DOUBT (outcome unknown), REJECTED
 *   IG_EV_FILL          one per venue trade, keyed by trade_id
 *   IG_EV_REJECT        by_venue = 1, with a mapped reason
 *
 * Owner: the executor thread.
 */
#ifndef IG_EXEC_VENUE_H
#define IG_EXEC_VENUE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"

struct ig_venue_ops {
	const char *name;
	bool wants_md;  /* the tick stage sends it market data (paper matching) */
	/* Sends an accepted order (IG_EV_ORDER). */
	void (*submit)(void *venue, const struct ig_event *order, struct ig_emit *out);
	/* Cancels an order (IG_EV_CANCEL). */
	void (*cancel)(void *venue, const struct ig_event *cancel, struct ig_emit *out);
	/* Market data, if wants_md (may be NULL otherwise). */
	void (*market_data)(void *venue, const struct ig_event *md, struct ig_emit *out);
	/* Drives asynchronous work; returns the work done (0 = idle). May be
	 * NULL for synchronous venues. now_ns is CLOCK_MONOTONIC. */
	int (*poll)(void *venue, int64_t now_ns, struct ig_emit *out);
	/* Earliest CLOCK_MONOTONIC time poll() must run again, INT64_MAX if
	 * none (may be NULL). */
	int64_t (*deadline_ns)(void *venue);
	/* True while requests are outstanding (shutdown waits for them). */
	bool (*busy)(void *venue);
	void (*destroy)(void *venue);
};

#endif
