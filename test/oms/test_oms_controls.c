/*
 * test_oms_controls.c - operator controls (oms.h ig_oms_control, and the
 * OMS stage's control mailbox, oms_stage.h): pause, resume, cancel-all,
 * reset and the kill switch; the mailbox's EAGAIN, outcomes and
 * requests from other threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "oms_harness.h"
#include "ingenium/error.h"
#include "oms/oms_stage.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#define T0 (INT64_C(1600041600000000000) + INT64_C(36000000000000)) /* 2020-09-14 10:00 */
#define MS OH_MS
#define D(s) oh_D(s)

static struct ig_config cfg; /* large: static */
static struct ig_oms oms;
static struct oh_cap out;

static struct oh_bind harness = {
	.cfg = &cfg, .oms = &oms, .out = &out, .cap_max = 256, .t0_ns = T0,
	.file = "test_oms_controls", .capital = "10000", .check_sanity = true,
};

#define send_ok(e) oh_send_ok(OH_BY_REF(e), "no reply")

static void mark(int64_t t_ms, const char *px)
{
	oh_quote(t_ms, px, px);
}

static uint32_t exec_cancels_of(int32_t sid)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < out.n; i++)
		n += out.it[i].dst == IG_STAGE_EXEC && out.it[i].ev.hdr.type == IG_EV_CANCEL &&
		     (sid < 0 || out.it[i].ev.hdr.strategy_id == sid);
	return n;
}

static enum ig_oms_ctl_status ctl(uint16_t cmd, uint16_t sid, int64_t arg)
{
	out.n = 0;
	return ig_oms_control(&oms, cmd, sid, arg, 0, &out.emit);
}

/* The intent must be denied for want. */
static void denied(struct ig_event ev, enum ig_reject_reason want)
{
	const struct ig_event *rj;
	oh_handle(&ev);
	rj = oh_reject_for(ev.body.order.client_id);
	assert_non_null(rj);
	assert_int_equal(rj->body.reject.reason, want);
	assert_int_equal(oh_n_to(IG_STAGE_EXEC), 0);
}

/* Each strategy: a position, two resting limit orders and an armed stop. */
static void book(void)
{
	struct ig_event ev;
	mark(0, "100");
	for (uint16_t s = 0; s < 2; s++) {
		uint64_t c = 10u * (s + 1u);
		send_ok(oh_ord(s, c, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "2", 1));
		oh_fill(s, c, c, IG_SIDE_BUY, "100", "2", "0");
		send_ok(oh_ord(s, c + 1, IG_SIDE_BUY, IG_ORD_LIMIT, "99", "1", 1));
		oh_venue_update(s, c + 1, IG_OS_ACCEPTED);
		send_ok(oh_ord(s, c + 2, IG_SIDE_SELL, IG_ORD_LIMIT, "110", "1", 1));
		ev = oh_ord(s, c + 3, IG_SIDE_SELL, IG_ORD_STOP_MARKET, NULL, "1", 1);
		ev.body.order.stop_px = D("90");
		ev.body.order.flags = IG_ORDF_REDUCE_ONLY;
		oh_handle(&ev);
		assert_true(oh_rec(s, c + 3)->armed);
	}
	assert_int_equal(oms.s[0].om.open, 3);
	assert_int_equal(oms.s[1].om.open, 3);
}

/* Pause: new intents of that strategy denied `paused` (reductions too),
 * its resting orders stay, its cancels pass, the other trades on;
 * resume lifts it. Twice is no change. */
static void test_pause_resume(void **state)
{
	(void)state;
	oh_start();
	book();
	assert_int_equal(ctl(IG_CTL_PAUSE, 0, 0), IG_OMS_CTL_OK);
	assert_int_equal(out.n, 0); /* nothing cancelled, nothing sent */
	assert_true(ig_oms_paused(&oms, 0));
	assert_false(ig_oms_paused(&oms, 1));
	assert_int_equal(ctl(IG_CTL_PAUSE, 0, 0), IG_OMS_CTL_NO_CHANGE);
	denied(oh_ord(0, 30, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 2), IG_RJ_PAUSED);
	denied(oh_ord(0, 31, IG_SIDE_SELL, IG_ORD_MARKET, NULL, "1", 2), IG_RJ_PAUSED);
	assert_int_equal(oms.s[0].rejects[IG_RJ_PAUSED], 2);
	assert_int_equal(oms.s[0].om.open, 3);
	send_ok(oh_ord(1, 40, IG_SIDE_BUY, IG_ORD_LIMIT, "98", "1", 2));
	oh_cancel(0, 11);
	assert_int_equal(exec_cancels_of(0), 1);
	/* An armed stop of a paused strategy still triggers: it protects. */
	mark(3, "89");
	assert_non_null(oh_exec_order(13));
	assert_int_equal(ctl(IG_CTL_RESUME, 0, 0), IG_OMS_CTL_OK);
	assert_false(ig_oms_paused(&oms, 0));
	assert_int_equal(ctl(IG_CTL_RESUME, 0, 0), IG_OMS_CTL_NO_CHANGE);
	send_ok(oh_ord(0, 32, IG_SIDE_BUY, IG_ORD_LIMIT, "88", "1", 4));
	assert_int_equal(oms.s[0].ctl_applied[IG_OMS_CK_PAUSE], 1);
	assert_int_equal(oms.s[0].ctl_applied[IG_OMS_CK_RESUME], 1);
	/* All at once. */
	assert_int_equal(ctl(IG_CTL_PAUSE, IG_STRATEGY_NONE, 0), IG_OMS_CTL_OK);
	assert_true(ig_oms_paused(&oms, 0) && ig_oms_paused(&oms, 1));
	assert_int_equal(ctl(IG_CTL_RESUME, IG_STRATEGY_NONE, 0), IG_OMS_CTL_OK);
	assert_false(ig_oms_paused(&oms, 0) || ig_oms_paused(&oms, 1));
}

/* Cancel-all cancels every open order of that strategy, armed stops
 * included, and nothing of the other. */
static void test_cancel_all_one_strategy(void **state)
{
	(void)state;
	oh_start();
	book();
	assert_int_equal(ctl(IG_CTL_CANCEL_ALL, 1, 0), IG_OMS_CTL_OK);
	assert_int_equal(exec_cancels_of(0), 0);
	assert_int_equal(exec_cancels_of(1), 2); /* 21 and 22 at the venue */
	assert_int_equal(oh_rec(1, 21)->state, IG_OS_PENDING_CANCEL);
	assert_int_equal(oh_rec(1, 22)->state, IG_OS_PENDING_CANCEL);
	assert_non_null(oh_update_for(1, 23, IG_OS_CANCELED)); /* the armed stop, locally */
	assert_int_equal(oms.s[0].om.open, 3);
	assert_int_equal(oms.s[1].ctl_applied[IG_OMS_CK_CANCEL_ALL], 1);
	assert_false(oms.kill_switch);
	/* Trading goes on for it: cancel-all is not a pause. */
	send_ok(oh_ord(1, 24, IG_SIDE_BUY, IG_ORD_LIMIT, "97", "1", 2));
	oh_venue_update(1, 21, IG_OS_CANCELED);
	oh_venue_update(1, 22, IG_OS_CANCELED);
}

/* Reset lifts a drawdown breach back to active, with the high-water mark
 * re-based so the next mark does not trip it again. */
static void test_reset_lifts_breach(void **state)
{
	struct ig_oms_strategy *s;
	(void)state;
	cfg.strategies[0].capital = D("1000");
	cfg.risk.max_drawdown_pct = D("10");
	cfg.strategies[0].risk.drawdown_action = IG_BREACH_HALTED;
	oh_start();
	s = &oms.s[0];
	mark(0, "100");
	send_ok(oh_ord(0, 1, IG_SIDE_BUY, IG_ORD_MARKET, NULL, "5", 0));
	oh_fill(0, 1, 1, IG_SIDE_BUY, "100", "5", "0");
	assert_int_equal(ctl(IG_CTL_RESET, 0, 0), IG_OMS_CTL_NO_CHANGE); /* nothing to lift */
	mark(1, "70");
	assert_int_equal(s->trading_state, IG_TS_HALTED);
	assert_int_equal(s->breach_reason, IG_RJ_DRAWDOWN);
	denied(oh_ord(0, 2, IG_SIDE_BUY, IG_ORD_LIMIT, "69", "0.1", 2), IG_RJ_HALTED);
	assert_int_equal(ctl(IG_CTL_RESET, 1, 0), IG_OMS_CTL_NO_CHANGE); /* s1 is fine */
	assert_int_equal(ctl(IG_CTL_RESET, 7, 0), IG_OMS_CTL_NOT_FOUND);
	assert_int_equal(ctl(IG_CTL_RESET, IG_STRATEGY_NONE, 0), IG_OMS_CTL_OK);
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	assert_int_equal(s->breach_reason, IG_RJ_NONE);
	assert_int_equal(s->equity_hwm, s->equity);
	mark(2, "69.5");
	assert_int_equal(s->trading_state, IG_TS_ACTIVE);
	send_ok(oh_ord(0, 3, IG_SIDE_BUY, IG_ORD_LIMIT, "69", "0.1", 3));
	assert_int_equal(s->ctl_applied[IG_OMS_CK_RESET], 1);
	assert_int_equal(ctl(IG_CTL_RESET, 0, 0), IG_OMS_CTL_NO_CHANGE);
}

static void test_invalid_controls(void **state)
{
	(void)state;
	oh_start();
	assert_int_equal(ctl(IG_CTL_FEED_END, 0, 0), IG_OMS_CTL_INVALID);
	assert_int_equal(ctl(IG_CTL_SESSION, 0, 0), IG_OMS_CTL_INVALID);
	assert_int_equal(ctl(IG_CTL_KILL_SWITCH, IG_STRATEGY_NONE, 2), IG_OMS_CTL_INVALID);
	assert_int_equal(ctl(IG_CTL_PAUSE, 2, 0), IG_OMS_CTL_NOT_FOUND);
	assert_int_equal(ctl(IG_CTL_KILL_SWITCH, IG_STRATEGY_NONE, 0), IG_OMS_CTL_NO_CHANGE);
	assert_int_equal(out.n, 0);
}

/* Through the mailbox: the kill switch, a pause, the outcome to the
 * requester, a full mailbox, an expired result. */
static void test_mailbox(void **state)
{
	static struct ig_oms_stage st;
	const struct ig_stage_ops *ops = &ig_oms_stage_ops;
	struct ig_oms_ctl_req r = { .cmd = IG_CTL_PAUSE, .strategy = 1 };
	uint64_t id, kill_id, first = 0;
	(void)state;
	oh_start();
	book();
	ig_oms_stage_init(&st, &oms);
	assert_false(ops->has_work(&st));
	assert_int_equal(ig_oms_stage_strategy_index(&st, "s1"), 1);
	assert_int_equal(ig_oms_stage_strategy_index(&st, "nope"), -1);

	assert_int_equal(ig_oms_request(&st, &r, &id), 0);
	assert_int_equal(ig_oms_request_status(&st, id), IG_OMS_CTL_PENDING);
	assert_int_equal(ig_oms_request_kill_switch(&st, true), 0);
	kill_id = id + 1;
	r.strategy = 9;
	assert_int_equal(ig_oms_request(&st, &r, &id), 0);
	assert_true(ops->has_work(&st));
	assert_false(oms.s[1].paused); /* not before the OMS's own thread applies it */
	out.n = 0;
	assert_int_equal(ops->poll(&st, 0, &out.emit), 3);
	assert_false(ops->has_work(&st));
	assert_true(oms.s[1].paused);
	assert_true(oms.kill_switch);
	assert_int_equal(exec_cancels_of(-1), 4);
	assert_int_equal(ig_oms_request_status(&st, id - 2), IG_OMS_CTL_OK);
	assert_int_equal(ig_oms_request_status(&st, kill_id), IG_OMS_CTL_OK);
	assert_int_equal(ig_oms_request_status(&st, id), IG_OMS_CTL_NOT_FOUND);
	assert_int_equal(oms.ctl_kill_switch, 1);

	r = (struct ig_oms_ctl_req){ .cmd = IG_CTL_FEED_END };
	assert_int_equal(ig_oms_request(&st, &r, &id), IG_EINVAL);

	/* Full: IG_OMS_CTL_QUEUE waiting, the next is refused, never waits. */
	r = (struct ig_oms_ctl_req){ .cmd = IG_CTL_RESUME, .strategy = 0 };
	for (uint32_t i = 0; i < IG_OMS_CTL_QUEUE; i++) {
		assert_int_equal(ig_oms_request(&st, &r, &id), 0);
		if (i == 0)
			first = id;
	}
	assert_int_equal(ig_oms_request(&st, &r, &id), IG_EAGAIN);
	assert_int_equal(ig_oms_request_kill_switch(&st, false), IG_EAGAIN);
	assert_int_equal(ops->poll(&st, 0, &out.emit), IG_OMS_CTL_QUEUE);
	assert_int_equal(ig_oms_request_status(&st, first), IG_OMS_CTL_NO_CHANGE);
	assert_int_equal(ig_oms_request(&st, &r, &id), 0);
	assert_int_equal(ops->poll(&st, 0, &out.emit), 1);
	/* Results are kept for IG_OMS_CTL_RESULTS requests. */
	for (uint32_t i = 0; i < IG_OMS_CTL_RESULTS; i++) {
		assert_int_equal(ig_oms_request(&st, &r, NULL), 0);
		if (i % 32 == 31)
			assert_int_equal(ops->poll(&st, 0, &out.emit), 32);
	}
	assert_int_equal(ig_oms_request_status(&st, first), IG_OMS_CTL_EXPIRED);
	assert_int_equal(ig_oms_request_status(&st, id + IG_OMS_CTL_RESULTS), IG_OMS_CTL_NO_CHANGE);
	assert_int_equal(ig_oms_request_status(&st, id + IG_OMS_CTL_RESULTS + 1), IG_OMS_CTL_PENDING);
	/* SIGUSR2 through the mailbox clears it. */
	assert_int_equal(ig_oms_request_kill_switch(&st, false), 0);
	assert_int_equal(ops->poll(&st, 0, &out.emit), 1);
	assert_false(oms.kill_switch);
}

/* Requests from other threads (run under TSan): two producers, the test
 * thread as the OMS's, every request applied once and its outcome seen
 * by its requester. */
#define PER_THREAD 500
struct producer {
	struct ig_oms_stage *st;
	uint16_t sid;
	uint64_t ids[PER_THREAD];
	uint32_t eagain;
	enum ig_oms_ctl_status last[8]; /* what the producer saw for its last 8 */
	int done; /* atomic */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint32_t i = 0; i < PER_THREAD; i++) {
		struct ig_oms_ctl_req r = { .cmd = (uint16_t)(i % 2 ? IG_CTL_RESUME : IG_CTL_PAUSE),
					    .strategy = p->sid };
		int rc;
		while ((rc = ig_oms_request(p->st, &r, &p->ids[i])) == IG_EAGAIN) {
			p->eagain++;
			sched_yield();
		}
		if (rc != 0)
			return NULL;
	}
	/* Each outcome, as an API thread would wait for it. */
	for (uint32_t i = PER_THREAD - 8; i < PER_THREAD; i++) {
		enum ig_oms_ctl_status st;
		while ((st = ig_oms_request_status(p->st, p->ids[i])) == IG_OMS_CTL_PENDING)
			sched_yield();
		p->last[i - (PER_THREAD - 8)] = st;
	}
	__atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_requests_from_threads(void **state)
{
	static struct ig_oms_stage st;
	static struct producer p[2];
	pthread_t th[2];
	uint32_t applied = 0;
	(void)state;
	oh_start();
	ig_oms_stage_init(&st, &oms);
	for (int i = 0; i < 2; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].st = &st;
		p[i].sid = (uint16_t)i;
		assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
	}
	while (!__atomic_load_n(&p[0].done, __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&p[1].done, __ATOMIC_ACQUIRE)) {
		out.n = 0;
		if (ig_oms_stage_ops.has_work(&st))
			applied += (uint32_t)ig_oms_stage_ops.poll(&st, 0, &out.emit);
		else
			sched_yield();
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	applied += (uint32_t)ig_oms_stage_ops.poll(&st, 0, &out.emit);
	assert_int_equal(applied, 2 * PER_THREAD);
	/* Each strategy's requests alternate pause/resume in order: each one
	 * changed the state, and it ends resumed. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(oms.s[i].ctl_applied[IG_OMS_CK_PAUSE], PER_THREAD / 2);
		assert_int_equal(oms.s[i].ctl_applied[IG_OMS_CK_RESUME], PER_THREAD / 2);
		assert_false(oms.s[i].paused);
		/* Seen by the requester: ok (or, had it been descheduled
		 * while 256 later requests completed, expired; the table's
		 * keeping is checked exactly in test_mailbox). */
		for (int k = 0; k < 8; k++)
			assert_true(p[i].last[k] == IG_OMS_CTL_OK || p[i].last[k] == IG_OMS_CTL_EXPIRED);
	}
}

/* The summary: state and controls per strategy, kill switch controls. */
static void test_summary(void **state)
{
	static struct ig_oms_stage st;
	json_t *root = json_object();
	json_t *s0;
	(void)state;
	oh_start();
	ig_oms_stage_init(&st, &oms);
	assert_int_equal(ctl(IG_CTL_PAUSE, 0, 0), IG_OMS_CTL_OK);
	assert_int_equal(ctl(IG_CTL_KILL_SWITCH, IG_STRATEGY_NONE, 1), IG_OMS_CTL_OK);
	assert_int_equal(ig_oms_stage_ops.stats(&st, root), 0);
	s0 = json_array_get(json_object_get(root, "strategies"), 0);
	assert_string_equal(json_string_value(json_object_get(s0, "state")), "paused");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(s0, "controls"), "pause")),
			 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(root, "strategies"), 1), "state")),
			    "active");
	assert_int_equal(json_integer_value(
				 json_object_get(json_object_get(root, "controls"), "kill_switch")),
			 1);
	json_decref(root);
}

/* The strategy's answer to params change pc for sid, as its host sends it. */
static struct ig_event params_answer(uint16_t sid, const struct ig_params_change *pc, bool applied)
{
	struct ig_event v;
	memset(&v, 0, sizeof(v));
	v.hdr.type = IG_EV_CONTROL;
	v.hdr.src = IG_STAGE_STRATEGY;
	v.hdr.strategy_id = sid;
	v.hdr.ts_event_ns = T0;
	v.body.params = *pc;
	v.body.params.cmd = applied ? IG_CTL_PARAMS_APPLIED : IG_CTL_PARAMS_REFUSED;
	return v;
}

/* Review: a params request's outcome is the strategy's answer, which may
 * come late (after the API's 2 s). Meanwhile IG_OMS_CTL_RESULTS other
 * requests may have completed: the late outcome was written into the slot
 * they share and overwrote the newer request's result, which then read
 * PENDING forever (the API: 504 for a control that was applied). A late
 * outcome must not take a newer request's slot: it has expired. */
static void test_late_params_verdict(void **state)
{
	static struct ig_oms_stage st;
	const struct ig_stage_ops *ops = &ig_oms_stage_ops;
	struct ig_oms_ctl_req r = { .cmd = IG_CTL_PARAMS, .strategy = 0 };
	struct ig_event v;
	uint64_t pid, id = 0;
	(void)state;
	oh_start();
	ig_oms_stage_init(&st, &oms);
	r.params.cmd = IG_CTL_PARAMS;
	r.params.n = 1;
	r.params.index[0] = 0;
	r.params.value[0] = 7;

	/* The round trip: pending until the strategy answers, then its answer;
	 * another change meanwhile is busy. */
	assert_int_equal(ig_oms_request(&st, &r, &pid), 0);
	ops->poll(&st, 0, &out.emit);
	assert_int_equal(ig_oms_request_status(&st, pid), IG_OMS_CTL_PENDING);
	assert_int_equal(ig_oms_request(&st, &r, &id), 0);
	ops->poll(&st, 0, &out.emit);
	assert_int_equal(ig_oms_request_status(&st, id), IG_OMS_CTL_BUSY);
	v = params_answer(0, &r.params, true);
	ops->handle(&st, &v, &out.emit);
	assert_int_equal(ig_oms_request_status(&st, pid), IG_OMS_CTL_OK);
	assert_true(oms.s[0].param_set & 1u);
	assert_int_equal(oms.s[0].param_val[0], 7);

	/* A late answer: IG_OMS_CTL_RESULTS requests complete first. */
	r.params.value[0] = 8;
	assert_int_equal(ig_oms_request(&st, &r, &pid), 0);
	ops->poll(&st, 0, &out.emit);
	for (uint32_t i = 0; i < IG_OMS_CTL_RESULTS; i++) {
		struct ig_oms_ctl_req k = { .cmd = IG_CTL_RESUME, .strategy = 1 };
		assert_int_equal(ig_oms_request(&st, &k, &id), 0);
		ops->poll(&st, 0, &out.emit);
	}
	assert_int_equal(id, pid + IG_OMS_CTL_RESULTS); /* the same slot */
	assert_int_equal(ig_oms_request_status(&st, id), IG_OMS_CTL_NO_CHANGE);
	v = params_answer(0, &r.params, false);
	ops->handle(&st, &v, &out.emit);
	assert_int_equal(ig_oms_request_status(&st, id), IG_OMS_CTL_NO_CHANGE);
	assert_int_equal(ig_oms_request_status(&st, pid), IG_OMS_CTL_EXPIRED);
	assert_int_equal(oms.s[0].param_val[0], 7); /* refused: the values in force stay */
	assert_false(oms.s[0].params_inflight);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_prestate_setup_teardown(f, oh_setup, oh_teardown, &harness)
		T(test_pause_resume),
		T(test_cancel_all_one_strategy),
		T(test_reset_lifts_breach),
		T(test_invalid_controls),
		T(test_mailbox),
		T(test_requests_from_threads),
		T(test_summary),
		T(test_late_params_verdict),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
