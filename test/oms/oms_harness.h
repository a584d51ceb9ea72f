/*
 * oms_harness.h - the shared harness of the OMS stage-handler tests
 * (test_oms.c, test_oms_conditional.c, test_oms_states.c).
 *
 * A test owns its config, its OMS and its capture (statics in the test
 * file) and binds them with oh_setup(); the helpers below then drive that
 * OMS: ig_oms_handle() with a capturing ig_emit whose fn appends every
 * emitted event, with its destination stage and index, to an array, so a
 * test checks exactly what the stage emitted, to whom.
 *
 * The Makefile links this file into every test binary: it has no main(),
 * no constructors, and every external name starts with oh_.
 *
 * Times are data times: t_ms are ms from the bound t0_ns. The harness
 * keeps the data time of the latest mark or intent (oh_now_ns()); fills,
 * venue updates and cancels sent without a time carry it.
 */
#ifndef IG_TEST_OMS_HARNESS_H
#define IG_TEST_OMS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "core/emit.h"
#include "oms/oms.h"

#define OH_MS INT64_C(1000000) /* ns per ms */
#define OH_CAP_MAX 256          /* capture array size; oh_bind.cap_max <= this */
#define OH_ANY_SID (-1)         /* oh_update_for: any strategy */

struct oh_cap_item {
	struct ig_event ev;
	enum ig_stage dst;
	uint32_t idx;
};

/* Capturing emit: emit must be first (fn casts back). */
struct oh_cap {
	struct ig_emit emit;
	uint32_t n;
	uint32_t max; /* fail when the stage emits more than this */
	struct oh_cap_item it[OH_CAP_MAX];
};

/* What a test binds in its cmocka setup. */
struct oh_bind {
	struct ig_config *cfg;
	struct ig_oms *oms;
	struct oh_cap *out;
	uint32_t cap_max;    /* at most OH_CAP_MAX */
	int64_t t0_ns;       /* data time origin */
	const char *file;    /* cfg->file */
	const char *capital; /* each strategy's capital, a decimal */
	bool check_sanity;   /* teardown asserts every order manager sane */
};

/* Intents are passed by value at the call sites (oh_ord(...) returns one);
 * a 64-byte-aligned struct is not passed by value to a function (psabi):
 * OH_BY_REF(e) parks e in oh_arg_ev and yields its address. */
extern struct ig_event oh_arg_ev;
#define OH_BY_REF(e) (oh_arg_ev = (e), &oh_arg_ev)

/* A decimal literal as fixed point; fails the test if malformed. */
int64_t oh_D(const char *s);

/* cmocka fixtures, *state the test's struct oh_bind (pass it with
 * cmocka_unit_test_prestate_setup_teardown). oh_setup binds it and resets:
 * config defaults with two strategies (s0 on thread 0, s1 on thread 1),
 * capital each, taker fee 10 bps, maker fee 0, every risk limit unset; an
 * empty capture; now = t0. Tests then set limits in cfg and call
 * oh_start(). oh_teardown destroys the OMS if started, first asserting
 * every strategy's order manager sane if check_sanity. */
int oh_setup(void **state);
int oh_teardown(void **state);
/* ig_oms_init with two strategy threads, on the data clock. */
void oh_start(void);
/* Hands one event to the OMS with a fresh capture. */
void oh_handle(struct ig_event *ev);
int64_t oh_now_ns(void);

/* A quote at t_ms (bid/ask qty 5), handed to the OMS; now = its time. */
void oh_quote(int64_t t_ms, const char *bid, const char *ask);
/* An intent at t_ms (px NULL: none); now = its time. Not handed over. */
struct ig_event oh_ord(uint16_t sid, uint64_t cid, enum ig_side side, enum ig_ord_type type,
		       const char *px, const char *qty, int64_t t_ms);
/* The intent *evp (copied) must be forwarded to the executor; if not, the
 * failure names the reject reason, or no_reply without a reject. */
void oh_send_ok(const struct ig_event *evp, const char *no_reply);
/* A taker fill from the executor (venue order id 500 + cid) stamped t_ns. */
struct ig_event oh_fill_ev(int64_t t_ns, uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side,
			   const char *px, const char *qty, const char *fee);
/* That fill, handed to the OMS, which must apply it. oh_fill: at now. */
void oh_fill_at(int64_t t_ns, uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side,
		const char *px, const char *qty, const char *fee);
void oh_fill(uint16_t sid, uint64_t cid, uint64_t trade_id, enum ig_side side, const char *px,
	     const char *qty, const char *fee);
/* A venue order update for cid into st, stamped t_ns / now. */
void oh_venue_update_at(int64_t t_ns, uint16_t sid, uint64_t cid, enum ig_ord_state st);
void oh_venue_update(uint16_t sid, uint64_t cid, enum ig_ord_state st);
/* The strategy cancels cid, at now. */
void oh_cancel(uint16_t sid, uint64_t cid);

/* Lookups in the latest capture. */
uint32_t oh_n_to(enum ig_stage dst);
/* The first event to dst of type for client id cid, or NULL. */
const struct ig_event *oh_find(enum ig_stage dst, enum ig_event_type type, uint64_t cid);

/* The client id an order, cancel, update, reject or fill event is about;
 * 0 for other events. */
uint64_t oh_client_id(const struct ig_event *e);
const struct ig_event *oh_exec_order(uint64_t cid);
const struct ig_event *oh_reject_for(uint64_t cid);
/* The update for cid into st to strategy sid (OH_ANY_SID: any), or NULL. */
const struct ig_event *oh_update_for(int32_t sid, uint64_t cid, enum ig_ord_state st);
/* The OMS's record of (sid, cid), or NULL. */
struct ig_order_rec *oh_rec(uint16_t sid, uint64_t cid);

#endif
