/*
 * test_jstage.c - the journal stage alone (src/journal/jstage.h): what it
 * writes, what it holds, when it forwards.
 *
 * Covers:
 *   - an order output is not forwarded by ig_jstage_handle, only by
 *     ig_jstage_commit, and by then the durable seq covers its record
 *     (sync: order, one fdatasync counted); every forwarded order in every
 *     test is checked against the durable seq at the moment of the emit;
 *   - forwarding order = arrival order with inputs interleaved (inputs are
 *     never forwarded); record types and flags read back from the file
 *     (ORDER_ACCEPTED, CANCEL_REQ, INTENT, MARK, FILL, VENUE_ACK,
 *     STATE_CHANGE, TRADING_STATE with its decoded payload), event payloads
 *     with the journal-only flags and ts_emit_ns cleared;
 *   - a batch of only cancels goes without an fdatasync;
 *   - sync: batch: group commit by batch_records and by batch_ms, and the
 *     deadline it reports; a group still filling when plain records come
 *     due for their flush_ms sync;
 *   - the FEED_END token is forwarded in order and not written;
 *   - a journal whose writes fail (its fd replaced by a read-only one):
 *     orders are forwarded flagged IG_EVF_J_FAILED and counted, cancels go
 *     normally, nothing stays held;
 *   - a full held FIFO commits in handle instead of losing anything;
 *   - close syncs: the journal verifies clean with every record.
 *
 * Journals live in a mkdtemp directory under /tmp, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/event.h"
#include "jtest.h"
#include "journal/journal.h"
#include "journal/jstage.h"
#include "oms/oms.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAP_MAX 256
#define REC_MAX 256

/* ---- fixture: a temporary directory and a stage -------------------------- */

struct cap_item {
	struct ig_event ev;
	enum ig_stage dst;
	uint64_t durable; /* ig_journal_durable_seq() when it was emitted */
	int64_t pending;  /* ig_journal_pending() then */
};

/* Capturing emitter: emit must be first (fn casts back). */
struct cap {
	struct ig_emit emit;
	const struct ig_jstage *js;
	uint32_t n;
	struct cap_item it[CAP_MAX];
};

struct fx {
	char dir[64];
	char path[128];
	struct ig_cfg_journal jc;
	struct ig_jstage js;
	bool open;
	struct cap cap;
	/* record seq of each order output, by client id (< 1024) */
	uint64_t order_seq[1024];
};

static void cap_fn(struct ig_emit *e, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct cap *c = (struct cap *)(void *)e;
	(void)idx;
	if (c->n >= CAP_MAX)
		fail_msg("stage emitted more than %u events", CAP_MAX);
	c->it[c->n].ev = *ev;
	c->it[c->n].dst = dst;
	c->it[c->n].durable = ig_journal_durable_seq(&c->js->j);
	c->it[c->n].pending = (int64_t)ig_journal_pending(&c->js->j);
	c->n++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	ig_log_set_level(IG_LOG_ERROR);
	strcpy(f->dir, "/tmp/ig_jstage_XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
	snprintf(f->jc.path, sizeof(f->jc.path), "%s", f->path);
	f->jc.sync = IG_JOURNAL_SYNC_ORDER;
	f->jc.batch_ms = 1;
	f->jc.batch_records = 64;
	f->jc.flush_ms = 60000; /* no time-driven sync of plain records */
	f->jc.rotate_bytes = 0;
	f->cap.emit.fn = cap_fn;
	f->cap.emit.src = IG_STAGE_JOURNAL;
	f->cap.emit.stamp = false;
	f->cap.js = &f->js;
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->open)
		ig_jstage_close(&f->js);
	jt_rm_tree(f->dir);
	free(f);
	return 0;
}

static void open_stage(struct fx *f, uint32_t held_cap)
{
	struct ig_journal_report rep;
	assert_int_equal(ig_jstage_open(&f->js, &f->jc, 7, held_cap, &rep), 0);
	f->open = true;
	assert_int_equal(ig_jstage_held(&f->js), 0);
}

static int close_stage(struct fx *f)
{
	f->open = false;
	return ig_jstage_close(&f->js);
}

/* ---- events -------------------------------------------------------------- */

static void ev_init(struct ig_event *ev, enum ig_event_type type, uint8_t flags)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = (uint16_t)type;
	ev->hdr.src = IG_STAGE_OMS;
	ev->hdr.flags = flags;
	ev->hdr.strategy_id = 1;
	ev->hdr.instrument_id = 2;
	ev->hdr.ts_event_ns = INT64_C(1700000000000000000);
	ev->hdr.ts_origin_ns = 4242;
	ev->hdr.ts_emit_ns = 999; /* the journal writes 0 */
}

/* Hands ev to the stage. An order output's record seq is noted. */
static void put(struct fx *f, const struct ig_event *ev)
{
	struct ig_event copy = *ev;
	ig_jstage_handle(&f->js, &copy, &f->cap.emit);
	if (ev->hdr.type == IG_EV_ORDER && (ev->hdr.flags & IG_EVF_J_OUTPUT) &&
	    ev->body.order.client_id < 1024 && f->js.err == 0)
		f->order_seq[ev->body.order.client_id] = ig_journal_last_seq(&f->js.j);
}

static void put_order(struct fx *f, uint64_t cid)
{
	struct ig_event ev;
	ev_init(&ev, IG_EV_ORDER, IG_EVF_J_OUTPUT);
	ev.body.order.client_id = cid;
	ev.body.order.side = IG_SIDE_BUY;
	ev.body.order.type = IG_ORD_LIMIT;
	ev.body.order.px = INT64_C(100) * 100000000;
	ev.body.order.qty = 100000000;
	put(f, &ev);
}

static void put_cancel(struct fx *f, uint64_t cid)
{
	struct ig_event ev;
	ev_init(&ev, IG_EV_CANCEL, IG_EVF_J_OUTPUT);
	ev.body.cancel.client_id = cid;
	put(f, &ev);
}

static void put_quote(struct fx *f, int64_t bid)
{
	struct ig_event ev;
	ev_init(&ev, IG_EV_QUOTE, 0);
	ev.hdr.src = IG_STAGE_TICK;
	ev.body.quote.bid_px = bid;
	ev.body.quote.ask_px = bid + 2;
	ev.body.quote.bid_qty = 5;
	ev.body.quote.ask_qty = 5;
	put(f, &ev);
}

static void put_token(struct fx *f)
{
	struct ig_event ev;
	ev_init(&ev, IG_EV_CONTROL, IG_EVF_J_OUTPUT);
	ev.body.control.cmd = IG_CTL_FEED_END;
	put(f, &ev);
}

/* The forwarded events, checked: all to the executor, journal-only flags
 * gone, every order forwarded only once its record was durable. Returns
 * how many there are. */
static uint32_t check_forwarded(const struct fx *f)
{
	for (uint32_t i = 0; i < f->cap.n; i++) {
		const struct cap_item *c = &f->cap.it[i];
		assert_int_equal(c->dst, IG_STAGE_EXEC);
		assert_int_equal(c->ev.hdr.flags & (IG_EVF_J_OUTPUT | IG_EVF_J_DERIVED), 0);
		if (c->ev.hdr.type == IG_EV_ORDER && !(c->ev.hdr.flags & IG_EVF_J_FAILED)) {
			uint64_t cid = c->ev.body.order.client_id;
			assert_true(cid < 1024);
			assert_int_not_equal(f->order_seq[cid], 0);
			assert_true(c->durable >= f->order_seq[cid]);
		}
	}
	return f->cap.n;
}

/* Client id of forwarded event i (order or cancel), or the token's ~0. */
static uint64_t fwd_id(const struct fx *f, uint32_t i)
{
	const struct ig_event *e = &f->cap.it[i].ev;
	if (e->hdr.type == IG_EV_ORDER)
		return e->body.order.client_id;
	if (e->hdr.type == IG_EV_CANCEL)
		return 100000 + e->body.cancel.client_id;
	assert_int_equal(e->hdr.type, IG_EV_CONTROL);
	assert_int_equal(e->body.control.cmd, IG_CTL_FEED_END);
	return UINT64_MAX;
}

/* ---- reading the file back ----------------------------------------------- */

struct rec {
	uint64_t seq;
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint8_t payload[128];
};

struct recs {
	uint32_t n;
	struct rec r[REC_MAX];
};

static int collect(const struct ig_journal_record *rec, void *arg)
{
	struct recs *rs = arg;
	struct rec *r;
	if (rs->n >= REC_MAX)
		return 1;
	r = &rs->r[rs->n++];
	r->seq = rec->seq;
	r->type = rec->type;
	r->flags = rec->flags;
	r->len = rec->len;
	memset(r->payload, 0, sizeof(r->payload));
	memcpy(r->payload, rec->payload, rec->len < sizeof(r->payload) ? rec->len : sizeof(r->payload));
	return 0;
}

static void read_back(const struct fx *f, struct recs *rs, struct ig_journal_report *rep)
{
	memset(rs, 0, sizeof(*rs));
	assert_int_equal(ig_journal_replay(f->path, collect, rs, rep), 0);
	assert_int_equal(rep->stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep->records, rs->n);
}

static void rec_event(const struct rec *r, struct ig_event *ev)
{
	assert_int_equal(r->len, sizeof(*ev));
	memcpy(ev, r->payload, sizeof(*ev));
}

/* ---- tests --------------------------------------------------------------- */

static void test_order_waits_for_commit(void **state)
{
	struct fx *f = *state;
	uint64_t seq;

	open_stage(f, 16);
	put_order(f, 1);
	seq = f->order_seq[1];
	assert_int_equal(seq, 1);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(ig_jstage_held(&f->js), 1);
	assert_true(f->js.held_order);
	assert_true(ig_journal_durable_seq(&f->js.j) < seq);
	assert_int_equal(f->js.syncs, 0);
	assert_int_equal(f->js.records, 1);

	assert_int_equal(ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit), 2);
	assert_int_equal(check_forwarded(f), 1);
	assert_int_equal(f->cap.it[0].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(f->cap.it[0].ev.body.order.client_id, 1);
	assert_int_equal(f->cap.it[0].ev.hdr.flags, 0);
	assert_int_equal(f->cap.it[0].ev.hdr.src, IG_STAGE_JOURNAL);
	assert_true(f->cap.it[0].durable >= seq);
	assert_int_equal(f->cap.it[0].pending, 0);
	assert_true(ig_journal_durable_seq(&f->js.j) >= seq);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_journal_stats(&f->js.j)->syncs, 1);
	assert_int_equal(f->js.orders, 1);
	assert_int_equal(f->js.outputs, 1);
	assert_int_equal(f->js.failed_orders, 0);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	assert_false(f->js.held_order);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), INT64_MAX);

	/* A commit with nothing new does nothing. */
	assert_int_equal(ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit), 0);
	assert_int_equal(f->cap.n, 1);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(close_stage(f), 0);
}

static void test_order_and_types(void **state)
{
	struct fx *f = *state;
	struct ig_event ev;
	struct recs rs;
	struct ig_journal_report rep;
	static const uint64_t want_fwd[] = { 10, 100000 + 3, 11, 12, 100000 + 4 };
	struct {
		uint16_t type, flags;
	} want[16];
	uint32_t nw = 0;

	open_stage(f, 16);
	/* 1 intent (input) */
	ev_init(&ev, IG_EV_ORDER, 0);
	ev.hdr.src = IG_STAGE_STRATEGY;
	ev.body.order.client_id = 10;
	ev.body.order.qty = 5;
	put(f, &ev);
	want[nw].type = IG_JR_INTENT, want[nw++].flags = 0;
	/* 2 its order output */
	put_order(f, 10);
	want[nw].type = IG_JR_ORDER_ACCEPTED, want[nw++].flags = IG_JRF_OUTPUT;
	/* 3 a mark */
	put_quote(f, 777);
	want[nw].type = IG_JR_MARK, want[nw++].flags = 0;
	/* 4 a cancel output */
	put_cancel(f, 3);
	want[nw].type = IG_JR_CANCEL_REQ, want[nw++].flags = IG_JRF_OUTPUT;
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit), 3);
	assert_int_equal(f->cap.n, 2);
	/* 5 a fill (input) */
	ev_init(&ev, IG_EV_FILL, 0);
	ev.hdr.src = IG_STAGE_EXEC;
	ev.body.fill.client_id = 10;
	ev.body.fill.trade_id = 77;
	ev.body.fill.qty = 3;
	put(f, &ev);
	want[nw].type = IG_JR_FILL, want[nw++].flags = 0;
	/* 6 order 11 */
	put_order(f, 11);
	want[nw].type = IG_JR_ORDER_ACCEPTED, want[nw++].flags = IG_JRF_OUTPUT;
	/* 7 venue ACCEPTED (input) */
	ev_init(&ev, IG_EV_ORDER_UPDATE, 0);
	ev.hdr.src = IG_STAGE_EXEC;
	ev.body.update.client_id = 10;
	ev.body.update.state = IG_OS_ACCEPTED;
	put(f, &ev);
	want[nw].type = IG_JR_VENUE_ACK, want[nw++].flags = 0;
	/* 8 a venue CANCELED update (input, not an ack) */
	ev.body.update.state = IG_OS_CANCELED;
	put(f, &ev);
	want[nw].type = IG_JR_STATE_CHANGE, want[nw++].flags = 0;
	/* 9 a derived order update */
	ev_init(&ev, IG_EV_ORDER_UPDATE, IG_EVF_J_DERIVED);
	ev.body.update.client_id = 10;
	ev.body.update.state = IG_OS_PARTIALLY_FILLED;
	put(f, &ev);
	want[nw].type = IG_JR_STATE_CHANGE, want[nw++].flags = IG_JRF_DERIVED;
	/* 10 a derived trading-state change: halted by drawdown, kill on */
	ev_init(&ev, IG_EV_CONTROL, IG_EVF_J_DERIVED);
	ev.hdr.strategy_id = 3;
	ev.hdr.ts_event_ns = INT64_C(1700000000123456789);
	ev.body.control.cmd = IG_CTL_TRADING_STATE;
	ev.body.control.arg = (int64_t)IG_TS_HALTED | (int64_t)IG_TS_REDUCING << 8 |
			      (int64_t)IG_RJ_DRAWDOWN << 16 | (int64_t)1 << 24;
	put(f, &ev);
	want[nw].type = IG_JR_TRADING_STATE, want[nw++].flags = IG_JRF_DERIVED;
	/* 11 order 12, 12 cancel 4, 13 a venue reject (input) */
	put_order(f, 12);
	want[nw].type = IG_JR_ORDER_ACCEPTED, want[nw++].flags = IG_JRF_OUTPUT;
	put_cancel(f, 4);
	want[nw].type = IG_JR_CANCEL_REQ, want[nw++].flags = IG_JRF_OUTPUT;
	ev_init(&ev, IG_EV_REJECT, 0);
	ev.body.reject.client_id = 12;
	ev.body.reject.by_venue = 1;
	put(f, &ev);
	want[nw].type = IG_JR_REJECT, want[nw++].flags = 0;
	/* 14 a strategy's cancel request (input) */
	ev_init(&ev, IG_EV_CANCEL, 0);
	ev.body.cancel.client_id = 11;
	put(f, &ev);
	want[nw].type = IG_JR_CANCEL_REQ, want[nw++].flags = 0;
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(ig_jstage_held(&f->js), 3);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(ig_jstage_held(&f->js), 0);

	assert_int_equal(check_forwarded(f), 5);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(fwd_id(f, i), want_fwd[i]);
	assert_int_equal(f->js.orders, 3);
	assert_int_equal(f->js.outputs, 5);
	assert_int_equal(f->js.syncs, 2);
	assert_int_equal(f->js.records, nw);
	assert_int_equal(close_stage(f), 0);

	read_back(f, &rs, &rep);
	assert_int_equal(rs.n, nw);
	for (uint32_t i = 0; i < nw; i++) {
		assert_int_equal(rs.r[i].seq, i + 1);
		assert_int_equal(rs.r[i].type, want[i].type);
		assert_int_equal(rs.r[i].flags, want[i].flags);
		if (rs.r[i].type != IG_JR_TRADING_STATE) {
			rec_event(&rs.r[i], &ev);
			/* journal-only flags and the emit stamp are not written */
			assert_int_equal(ev.hdr.flags, 0);
			assert_int_equal(ev.hdr.ts_emit_ns, 0);
			assert_int_equal(ev.hdr.seq, 0);
			assert_int_equal(ev.hdr.ts_origin_ns, 4242);
		}
	}
	rec_event(&rs.r[1], &ev);
	assert_int_equal(ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(ev.body.order.client_id, 10);
	assert_int_equal(ev.body.order.px, INT64_C(100) * 100000000);
	rec_event(&rs.r[2], &ev);
	assert_int_equal(ev.hdr.type, IG_EV_QUOTE);
	assert_int_equal(ev.body.quote.bid_px, 777);
	rec_event(&rs.r[4], &ev);
	assert_int_equal(ev.body.fill.trade_id, 77);
	{
		struct ig_journal_trading_state ts;
		assert_int_equal(rs.r[9].len, sizeof(ts));
		memcpy(&ts, rs.r[9].payload, sizeof(ts));
		assert_int_equal(ts.ts_event_ns, INT64_C(1700000000123456789));
		assert_int_equal(ts.strategy_id, 3);
		assert_int_equal(ts.state, IG_TS_HALTED);
		assert_int_equal(ts.prev_state, IG_TS_REDUCING);
		assert_int_equal(ts.reason, IG_RJ_DRAWDOWN);
		assert_int_equal(ts.kill_switch, 1);
		assert_int_equal(ts.pad[0] | ts.pad[1], 0);
	}
}

static void test_cancels_without_sync(void **state)
{
	struct fx *f = *state;

	open_stage(f, 16);
	put_quote(f, 100);
	put_cancel(f, 5);
	put_cancel(f, 6);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(ig_jstage_held(&f->js), 2);
	assert_false(f->js.held_order);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), 0); /* go at once */
	assert_int_equal(ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit), 2);
	assert_int_equal(check_forwarded(f), 2);
	assert_int_equal(fwd_id(f, 0), 100005);
	assert_int_equal(fwd_id(f, 1), 100006);
	assert_int_equal(f->js.syncs, 0);
	assert_int_equal(ig_journal_stats(&f->js.j)->syncs, 0);
	assert_int_equal(ig_journal_durable_seq(&f->js.j), 0);
	/* but written to the file */
	assert_int_equal(ig_journal_pending(&f->js.j), 0);
	assert_int_equal(f->cap.it[1].pending, 0);
	assert_int_equal(f->js.orders, 0);

	/* An order among them makes the batch sync. */
	put_cancel(f, 7);
	put_order(f, 8);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 4);
	assert_int_equal(fwd_id(f, 2), 100007);
	assert_int_equal(fwd_id(f, 3), 8);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_journal_durable_seq(&f->js.j), 5);
	assert_int_equal(close_stage(f), 0);
}

static void test_batch_by_records(void **state)
{
	struct fx *f = *state;
	int64_t now;

	f->jc.sync = IG_JOURNAL_SYNC_BATCH;
	f->jc.batch_records = 4;
	f->jc.batch_ms = 30000; /* below flush_ms: the deadline is the group's */
	open_stage(f, 64);
	for (uint64_t cid = 1; cid <= 3; cid++) {
		put_order(f, cid);
		now = ig_clock_mono_ns();
		assert_int_equal(ig_jstage_commit(&f->js, now, false, &f->cap.emit), 0);
		assert_int_equal(f->cap.n, 0);
		assert_int_equal(ig_jstage_held(&f->js), cid);
		assert_int_equal(f->js.syncs, 0);
		assert_int_equal(ig_journal_durable_seq(&f->js.j), 0);
		/* held, but handed to the file (a kill -9 keeps it) */
		assert_int_equal(ig_journal_pending(&f->js.j), 0);
		assert_int_equal(ig_jstage_deadline_ns(&f->js), f->js.held_since_ns + f->js.batch_ns);
	}
	put_order(f, 4);
	assert_int_equal(ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit), 5);
	assert_int_equal(check_forwarded(f), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(fwd_id(f, i), i + 1);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_journal_stats(&f->js.j)->syncs, 1);
	assert_int_equal(ig_journal_durable_seq(&f->js.j), 4);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	assert_int_equal(f->js.since_sync, 0);

	/* The count restarts after the sync: inputs count too. */
	put_quote(f, 1);
	put_quote(f, 2);
	put_order(f, 5);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(f->cap.n, 4);
	put_quote(f, 3);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 5);
	assert_int_equal(fwd_id(f, 4), 5);
	assert_int_equal(f->js.syncs, 2);
	assert_int_equal(close_stage(f), 0);
}

static void test_batch_by_time(void **state)
{
	struct fx *f = *state;
	int64_t t0;

	f->jc.sync = IG_JOURNAL_SYNC_BATCH;
	f->jc.batch_records = 1000;
	f->jc.batch_ms = 1;
	open_stage(f, 64);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), INT64_MAX);
	put_order(f, 1);
	t0 = f->js.held_since_ns;
	assert_true(t0 > 0);
	put_order(f, 2); /* the oldest one sets the clock */
	assert_int_equal(f->js.held_since_ns, t0);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), t0 + 1000000);
	assert_int_equal(ig_jstage_commit(&f->js, t0, false, &f->cap.emit), 0);
	assert_int_equal(ig_jstage_commit(&f->js, t0 + 999999, false, &f->cap.emit), 0);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(f->js.syncs, 0);
	assert_int_equal(ig_jstage_held(&f->js), 2);
	assert_int_equal(ig_jstage_commit(&f->js, t0 + 1000000, false, &f->cap.emit), 3);
	assert_int_equal(check_forwarded(f), 2);
	assert_int_equal(fwd_id(f, 0), 1);
	assert_int_equal(fwd_id(f, 1), 2);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	/* Records left unsynced: the deadline is then the flush period. */
	put_quote(f, 5);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), f->js.unsynced_since_ns + f->js.flush_ns);
	/* force goes at once */
	put_order(f, 3);
	assert_int_equal(ig_jstage_commit(&f->js, f->js.held_since_ns, true, &f->cap.emit), 2);
	assert_int_equal(check_forwarded(f), 3);
	assert_int_equal(f->js.syncs, 2);
	assert_int_equal(close_stage(f), 0);
}

static void test_batch_flush_deadline(void **state)
{
	struct fx *f = *state;
	int64_t d, tq;

	/* A group still filling while plain records come due for their
	 * flush_ms sync: the deadline the stage reports must be one at which
	 * commit makes progress (else the journal thread spins on a deadline
	 * in the past), and the records are durable within flush_ms. */
	f->jc.sync = IG_JOURNAL_SYNC_BATCH;
	f->jc.batch_records = 1000;
	f->jc.batch_ms = 50;
	f->jc.flush_ms = 1;
	open_stage(f, 64);
	put_quote(f, 1);
	tq = f->js.unsynced_since_ns;
	assert_true(tq > 0);
	put_order(f, 1);
	d = ig_jstage_deadline_ns(&f->js);
	assert_int_equal(d, tq + 1000000);
	assert_true(d < f->js.held_since_ns + f->js.batch_ns);
	assert_int_equal(ig_jstage_commit(&f->js, d - 1, false, &f->cap.emit), 0);
	assert_int_equal(f->cap.n, 0);
	assert_true(ig_jstage_commit(&f->js, d, false, &f->cap.emit) > 0);
	assert_true(ig_journal_durable_seq(&f->js.j) >= 1); /* the quote */
	assert_true(ig_jstage_deadline_ns(&f->js) > d);
	/* the sync made the held order durable too: it went with it */
	assert_int_equal(check_forwarded(f), 1);
	assert_int_equal(fwd_id(f, 0), 1);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	assert_int_equal(close_stage(f), 0);
}

static void test_feed_end_token(void **state)
{
	struct fx *f = *state;
	struct recs rs;
	struct ig_journal_report rep;

	open_stage(f, 16);
	put_order(f, 1);
	put_token(f);
	put_cancel(f, 2);
	assert_int_equal(f->js.records, 2);
	assert_int_equal(ig_journal_last_seq(&f->js.j), 2);
	assert_int_equal(ig_jstage_held(&f->js), 3);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 3);
	assert_int_equal(fwd_id(f, 0), 1);
	assert_int_equal(fwd_id(f, 1), UINT64_MAX);
	assert_int_equal(fwd_id(f, 2), 100002);
	assert_int_equal(f->cap.it[1].ev.hdr.flags, 0);
	assert_int_equal(f->js.outputs, 3);
	assert_int_equal(f->js.orders, 1);
	/* a token alone needs no sync */
	put_token(f);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 4);
	assert_int_equal(fwd_id(f, 3), UINT64_MAX);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(close_stage(f), 0);

	read_back(f, &rs, &rep);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].type, IG_JR_ORDER_ACCEPTED);
	assert_int_equal(rs.r[1].type, IG_JR_CANCEL_REQ);
}

static void test_journal_failure(void **state)
{
	struct fx *f = *state;
	struct ig_journal_report rep;
	struct recs rs;
	int ro;

	open_stage(f, 16);
	put_order(f, 1);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 1);
	assert_int_equal(f->cap.it[0].ev.hdr.flags & IG_EVF_J_FAILED, 0);

	/* The disk goes away: the writer's descriptor can no longer write. */
	ro = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(dup2(ro, f->js.j.fd), f->js.j.fd);
	close(ro);

	put_quote(f, 10);
	put_order(f, 2); /* buffered fine; the commit's write fails */
	assert_int_equal(f->js.err, 0);
	assert_int_equal(f->cap.n, 1);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(f->js.err, IG_EIO);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(f->cap.it[1].dst, IG_STAGE_EXEC);
	assert_int_equal(f->cap.it[1].ev.hdr.type, IG_EV_ORDER);
	assert_int_equal(f->cap.it[1].ev.body.order.client_id, 2);
	assert_int_equal(f->cap.it[1].ev.hdr.flags, IG_EVF_J_FAILED);
	assert_true(f->cap.it[1].durable < f->order_seq[2]); /* it never was */
	assert_int_equal(f->js.failed_orders, 1);
	assert_int_equal(ig_jstage_held(&f->js), 0);

	/* From now on: orders turned back, cancels go, nothing waits. */
	put_cancel(f, 1);
	put_order(f, 3);
	put_cancel(f, 2);
	put_token(f);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), 0);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 6);
	assert_int_equal(fwd_id(f, 2), 100001);
	assert_int_equal(f->cap.it[2].ev.hdr.flags, 0);
	assert_int_equal(fwd_id(f, 3), 3);
	assert_int_equal(f->cap.it[3].ev.hdr.flags, IG_EVF_J_FAILED);
	assert_int_equal(fwd_id(f, 4), 100002);
	assert_int_equal(f->cap.it[4].ev.hdr.flags, 0);
	assert_int_equal(fwd_id(f, 5), UINT64_MAX);
	assert_int_equal(f->js.failed_orders, 2);
	assert_int_equal(f->js.orders, 3);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	/* With nothing held it waits for input, never for a sync that can
	 * no longer happen (the journal thread would spin). */
	put_quote(f, 100);
	assert_int_equal(ig_jstage_deadline_ns(&f->js), INT64_MAX);
	/* nothing appended after the failure */
	assert_int_equal(f->js.records, 3);
	assert_int_equal(close_stage(f), IG_EIO);

	/* The file holds what was durable, and nothing torn. */
	read_back(f, &rs, &rep);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.r[0].type, IG_JR_ORDER_ACCEPTED);
}

static void test_sticky_error_field(void **state)
{
	struct fx *f = *state;

	/* js.err set directly (as a failed fdatasync leaves it): same
	 * treatment, and handle appends nothing. */
	open_stage(f, 16);
	f->js.err = IG_EIO;
	put_order(f, 1);
	put_cancel(f, 1);
	assert_int_equal(f->js.records, 0);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(f->cap.it[0].ev.hdr.flags, IG_EVF_J_FAILED);
	assert_int_equal(f->cap.it[1].ev.hdr.flags, 0);
	assert_int_equal(f->js.failed_orders, 1);
	assert_int_equal(f->js.syncs, 0);
	assert_int_equal(close_stage(f), IG_EIO);
}

static void test_held_full(void **state)
{
	struct fx *f = *state;
	struct recs rs;
	struct ig_journal_report rep;

	f->jc.sync = IG_JOURNAL_SYNC_BATCH;
	f->jc.batch_records = 1000000;
	f->jc.batch_ms = 60000;
	open_stage(f, 3); /* rounded up to 4 */
	assert_int_equal(f->js.held_cap, 4);
	for (uint64_t cid = 1; cid <= 4; cid++)
		put_order(f, cid);
	assert_int_equal(ig_jstage_held(&f->js), 4);
	assert_int_equal(f->cap.n, 0);
	/* the fifth arrives at a full FIFO: the four go first, synced */
	put_order(f, 5);
	assert_int_equal(check_forwarded(f), 4);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(fwd_id(f, i), i + 1);
	assert_int_equal(f->js.syncs, 1);
	assert_int_equal(ig_jstage_held(&f->js), 1);
	/* a full FIFO also makes commit go, whatever the policy */
	put_cancel(f, 1);
	put_order(f, 6);
	put_order(f, 7);
	assert_int_equal(ig_jstage_held(&f->js), 4);
	assert_int_equal(ig_jstage_commit(&f->js, f->js.held_since_ns, false, &f->cap.emit), 5);
	assert_int_equal(check_forwarded(f), 8);
	assert_int_equal(fwd_id(f, 4), 5);
	assert_int_equal(fwd_id(f, 5), 100001);
	assert_int_equal(fwd_id(f, 6), 6);
	assert_int_equal(fwd_id(f, 7), 7);
	assert_int_equal(f->js.syncs, 2);
	/* and many more through a tiny FIFO: none lost, none reordered */
	for (uint64_t cid = 8; cid < 108; cid++) {
		put_order(f, cid);
		if (cid % 7 == 0)
			put_cancel(f, cid);
	}
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), true, &f->cap.emit);
	assert_int_equal(ig_jstage_held(&f->js), 0);
	{
		uint32_t n = check_forwarded(f);
		uint64_t cid = 8;
		assert_int_equal(n, 8 + 100 + 14);
		for (uint32_t i = 8; i < n; i++) {
			assert_int_equal(fwd_id(f, i), cid);
			if (cid % 7 == 0)
				assert_int_equal(fwd_id(f, ++i), 100000 + cid);
			cid++;
		}
	}
	assert_int_equal(f->js.orders, 107);
	assert_int_equal(close_stage(f), 0);
	read_back(f, &rs, &rep);
	assert_int_equal(rs.n, 107 + 15);
}

static void test_close_syncs(void **state)
{
	struct fx *f = *state;
	struct ig_journal_report rep;
	struct recs rs;

	f->jc.sync = IG_JOURNAL_SYNC_BATCH;
	f->jc.batch_records = 1000000;
	f->jc.batch_ms = 60000;
	open_stage(f, 64);
	for (int i = 0; i < 20; i++) {
		put_quote(f, 100 + i);
		if (i % 3 == 0)
			put_order(f, (uint64_t)i + 1);
		if (i % 5 == 0)
			put_cancel(f, (uint64_t)i);
	}
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(f->cap.n, 0); /* the group is still filling */
	assert_int_equal(ig_journal_durable_seq(&f->js.j), 0);
	put_quote(f, 1); /* and one still in the buffer */
	assert_true(ig_journal_pending(&f->js.j) > 0);
	assert_int_equal(f->js.records, 20 + 7 + 4 + 1);
	assert_int_equal(close_stage(f), 0);

	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, 32);
	assert_int_equal(rep.last_seq, 32);
	assert_int_equal(rep.bytes_dropped, 0);
	read_back(f, &rs, &rep);
	assert_int_equal(rs.n, 32);
	assert_int_equal(rs.r[31].type, IG_JR_MARK);

	/* Reopen continues the sequence. */
	f->jc.sync = IG_JOURNAL_SYNC_ORDER;
	open_stage(f, 16);
	put_order(f, 500);
	assert_int_equal(f->order_seq[500], 33);
	ig_jstage_commit(&f->js, ig_clock_mono_ns(), false, &f->cap.emit);
	assert_int_equal(check_forwarded(f), 1);
	assert_int_equal(close_stage(f), 0);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, 33);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_order_waits_for_commit),
		T(test_order_and_types),
		T(test_cancels_without_sync),
		T(test_batch_by_records),
		T(test_batch_by_time),
		T(test_batch_flush_deadline),
		T(test_feed_end_token),
		T(test_journal_failure),
		T(test_sticky_error_field),
		T(test_held_full),
		T(test_close_syncs),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
