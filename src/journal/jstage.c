/* jstage.c - the journal stage (see jstage.h). */
#include "journal/jstage.h"
#include "journal/jrecover.h"

#include "api/snapshot.h"

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Creates the parent directory of path if it is missing (one level, as
 * var/ for the default path). Returns 0 or IG_EIO. */
static int make_parent(const char *path)
{
	char dir[IG_CFG_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return IG_EIO;
	return 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 2;
	while (p < n && p < (UINT32_C(1) << 30))
		p <<= 1;
	return p;
}

int ig_jstage_open(struct ig_jstage *js, const struct ig_cfg_journal *jc, uint64_t run_epoch,
		   uint32_t held_cap, struct ig_journal_report *rep)
{
	struct ig_journal_opts o;
	int rc;

	memset(js, 0, sizeof(*js));
	js->sync = jc->sync;
	js->batch_ns = jc->batch_ms * 1000000;
	js->batch_records = (uint64_t)(jc->batch_records > 0 ? jc->batch_records : 1);
	js->flush_ns = jc->flush_ms * 1000000;
	js->held_cap = pow2_at_least(held_cap);
	ig_hist_init(&js->sync_ns);
	ig_hist_init(&js->order_wait_ns);
	js->held = calloc(js->held_cap, sizeof(*js->held));
	if (js->held == NULL)
		return IG_ENOMEM;
	if (make_parent(jc->path) != 0) {
		free(js->held);
		js->held = NULL;
		return IG_EIO;
	}
	memset(&o, 0, sizeof(o));
	o.max_bytes = (uint64_t)jc->rotate_bytes;
	o.run_epoch = run_epoch;
	rc = ig_journal_open(&js->j, jc->path, &o, rep);
	if (rc != 0) {
		free(js->held);
		js->held = NULL;
		return rc;
	}
	js->is_open = true;
	return 0;
}

/* The journal type and record flags an event from the OMS is written as. */
static enum ig_journal_type classify(const struct ig_event *ev, uint16_t *rflags)
{
	*rflags = 0;
	if (ev->hdr.flags & IG_EVF_J_OUTPUT) {
		*rflags = IG_JRF_OUTPUT;
		return ev->hdr.type == IG_EV_ORDER ? IG_JR_ORDER_ACCEPTED
		       : ev->hdr.type == IG_EV_CANCEL ? IG_JR_CANCEL_REQ
						       : IG_JR_EVENT;
	}
	if (ev->hdr.flags & IG_EVF_J_DERIVED) {
		*rflags = IG_JRF_DERIVED;
		return ev->hdr.type == IG_EV_CONTROL ? IG_JR_TRADING_STATE : IG_JR_STATE_CHANGE;
	}
	switch (ev->hdr.type) {
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		return IG_JR_MARK;
	case IG_EV_ORDER:
		return IG_JR_INTENT;
	case IG_EV_CANCEL:
		return IG_JR_CANCEL_REQ;
	case IG_EV_ORDER_UPDATE:
		return ev->body.update.state == IG_OS_ACCEPTED ? IG_JR_VENUE_ACK : IG_JR_STATE_CHANGE;
	case IG_EV_FILL:
		return IG_JR_FILL;
	case IG_EV_REJECT:
		return IG_JR_REJECT;
	default:
		return IG_JR_EVENT;
	}
}

/* Records the first failure (sticky) and says so once. what: "append",
 * "write" or "fdatasync". */
static int fail(struct ig_jstage *js, int rc, const char *what)
{
	if (js->err == 0) {
		js->err = rc;
		ig_log_error("journal: %s failed (%s): orders are turned back from now on", what,
			     ig_strerror(rc));
	}
	/* Nothing will become durable any more: no sync is due. */
	js->unsynced_since_ns = 0;
	return js->err;
}

/* Writes the buffer out (write(2)). Returns 0 or the sticky error. */
static int flush(struct ig_jstage *js)
{
	if (js->err != 0)
		return js->err;
	if (ig_journal_pending(&js->j) > 0 && ig_journal_flush(&js->j) != 0)
		return fail(js, IG_EIO, "write");
	return 0;
}

/* Appends one event as its record. Returns 0 or the (sticky) error. */
static int append(struct ig_jstage *js, const struct ig_event *ev, int64_t now_ns)
{
	uint16_t rflags;
	enum ig_journal_type t = classify(ev, &rflags);
	int rc;

	if (js->err != 0)
		return js->err;
	if (t == IG_JR_TRADING_STATE) {
		/* Derived trading-state change: the compact payload. */
		struct ig_journal_trading_state p;
		int64_t a = ev->body.control.arg;
		memset(&p, 0, sizeof(p));
		p.ts_event_ns = ev->hdr.ts_event_ns;
		p.strategy_id = ev->hdr.strategy_id;
		p.state = (uint8_t)(a & 0xff);
		p.prev_state = (uint8_t)((a >> 8) & 0xff);
		p.reason = (uint8_t)((a >> 16) & 0xff);
		p.kill_switch = (uint8_t)((a >> 24) & 0xff);
		rc = ig_journal_append_flags(&js->j, t, rflags, &p, sizeof(p), NULL);
	} else {
		struct ig_event e = *ev;
		e.hdr.flags = (uint8_t)(e.hdr.flags & ~(IG_EVF_J_OUTPUT | IG_EVF_J_DERIVED));
		e.hdr.ts_emit_ns = 0;
		rc = ig_journal_append_flags(&js->j, t, rflags, &e, sizeof(e), NULL);
	}
	if (rc != 0)
		return fail(js, rc, "append");
	js->records++;
	js->since_sync++;
	if (js->unsynced_since_ns == 0)
		js->unsynced_since_ns = now_ns;
	return 0;
}

static int do_sync(struct ig_jstage *js)
{
	int64_t t0 = ig_clock_mono_ns();
	int rc;

	if (js->err != 0)
		return js->err;
	if ((rc = flush(js)) != 0)
		return rc;
	rc = ig_journal_sync(&js->j);
	if (rc != 0)
		return fail(js, rc, "fdatasync");
	ig_hist_record(&js->sync_ns, ig_clock_mono_ns() - t0);
	js->syncs++;
	js->since_sync = 0;
	js->unsynced_since_ns = 0;
	return 0;
}

/* Forwards every held output, in order. */
static int release(struct ig_jstage *js, int64_t now_ns, struct ig_emit *out)
{
	int n = 0;
	while (js->held_tail != js->held_head) {
		struct ig_event *ev = &js->held[js->held_tail++ & (js->held_cap - 1)];
		ev->hdr.flags = (uint8_t)(ev->hdr.flags & ~IG_EVF_J_OUTPUT);
		if (ev->hdr.type == IG_EV_ORDER) {
			ig_hist_record(&js->order_wait_ns, now_ns - ev->hdr.ts_emit_ns);
			js->orders++;
			if (js->err != 0) {
				ev->hdr.flags |= IG_EVF_J_FAILED;
				js->failed_orders++;
			}
		}
		js->outputs++;
		ig_emit(out, IG_STAGE_EXEC, 0, ev);
		n++;
	}
	js->held_order = false;
	return n;
}

int ig_jstage_commit(struct ig_jstage *js, int64_t now_ns, bool force, struct ig_emit *out)
{
	int work = 0;
	bool go;

	if (ig_jstage_held(js) > 0) {
		if (force || !js->held_order || js->err != 0)
			go = true;
		else if (js->sync == IG_JOURNAL_SYNC_ORDER)
			go = true;
		else
			/* The group goes when it is full or old enough, or when
			 * the records before it are due for their flush_ms sync
			 * anyway (that sync makes the group durable too; without
			 * it the deadline below would stay in the past). */
			go = js->since_sync >= js->batch_records ||
			     now_ns - js->held_since_ns >= js->batch_ns ||
			     ig_jstage_held(js) >= js->held_cap ||
			     (js->unsynced_since_ns != 0 &&
			      now_ns - js->unsynced_since_ns >= js->flush_ns);
		if (!go) {
			/* Not yet: the group is still filling. Hand the file
			 * what we have so a kill -9 keeps it. */
			flush(js);
			return 0;
		}
		if (js->held_order) {
			do_sync(js);
			work++;
		} else {
			flush(js);
		}
		/* The order's wait ends when it leaves, after the sync. */
		return work + release(js, work > 0 ? ig_clock_mono_ns() : now_ns, out);
	}
	/* Nothing held: records reach the file now, the disk within flush_ns. */
	if (js->err == 0 && js->unsynced_since_ns != 0 &&
	    (force || now_ns - js->unsynced_since_ns >= js->flush_ns)) {
		do_sync(js);
		return 1;
	}
	flush(js);
	return work;
}

int64_t ig_jstage_deadline_ns(const struct ig_jstage *js)
{
	int64_t d = INT64_MAX;
	if (js->err != 0)
		return ig_jstage_held(js) > 0 ? 0 : INT64_MAX; /* held go at once, flagged */
	if (ig_jstage_held(js) > 0)
		d = js->held_order && js->sync == IG_JOURNAL_SYNC_BATCH && js->err == 0
			    ? js->held_since_ns + js->batch_ns
			    : 0;
	if (js->unsynced_since_ns != 0 && js->unsynced_since_ns + js->flush_ns < d)
		d = js->unsynced_since_ns + js->flush_ns;
	return d;
}

void ig_jstage_handle(struct ig_jstage *js, const struct ig_event *ev, struct ig_emit *out)
{
	int64_t now = ig_clock_mono_ns();
	bool output = (ev->hdr.flags & IG_EVF_J_OUTPUT) != 0;
	bool token = ev->hdr.type == IG_EV_CONTROL;

	/* The shutdown token is routing, not state: it is not written. */
	if (!(output && token))
		append(js, ev, now);
	if (!output)
		return;
	if (ig_jstage_held(js) == js->held_cap)
		ig_jstage_commit(js, now, true, out);
	if (ig_jstage_held(js) == 0)
		js->held_since_ns = now;
	js->held[js->held_head & (js->held_cap - 1)] = *ev;
	/* ts_emit_ns now means "arrived at the journal", for order_wait_ns;
	 * ig_emit restamps it when it is forwarded. */
	js->held[js->held_head++ & (js->held_cap - 1)].hdr.ts_emit_ns = now;
	if (ev->hdr.type == IG_EV_ORDER)
		js->held_order = true;
}

int ig_jstage_close(struct ig_jstage *js)
{
	int rc = js->err;
	if (js->is_open) {
		int c = ig_journal_close(&js->j);
		if (rc == 0)
			rc = c;
		js->is_open = false;
	}
	free(js->held);
	js->held = NULL;
	return rc;
}

/* ------------------------------------------------- stage ops (stage.h) */

static void jstage_stage_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	ig_jstage_handle(self, ev, out);
}

static int jstage_stage_commit(void *self, int64_t now_ns, enum ig_commit_mode mode,
			       struct ig_emit *out)
{
	struct ig_jstage *js = self;
	switch (mode) {
	case IG_COMMIT_EVENT:
		/* Inline there is no duty cycle to batch over: what is held
		 * goes now (a deterministic run cannot wait for a clock);
		 * other records are written and synced every flush_ms. */
		return ig_jstage_commit(js, now_ns, ig_jstage_held(js) > 0, out);
	case IG_COMMIT_FINAL:
		return ig_jstage_commit(js, now_ns, true, out);
	default:
		return ig_jstage_commit(js, now_ns, false, out);
	}
}

void ig_jstage_set_publisher(struct ig_jstage *js, struct ig_snap_pub *pub, int64_t publish_ms)
{
	js->pub = pub;
	js->publish_ns = publish_ms * 1000000;
	js->next_publish_ns = 0;
	js->published_syncs = UINT64_MAX;
}

/* True when a snapshot of the sync histogram is wanted: a publisher, and
 * syncs it has not shown yet (or none published). */
static bool publish_wanted(const struct ig_jstage *js)
{
	return js->pub != NULL && js->syncs != js->published_syncs;
}

static int jstage_stage_poll(void *self, int64_t now_ns, struct ig_emit *out)
{
	static const int64_t bound[IG_SNAP_LAT_BUCKETS] = IG_SNAP_SLOW_BOUNDS_NS;
	struct ig_jstage *js = self;
	struct ig_snapshot *snap;

	(void)out;
	if (!publish_wanted(js) || now_ns < js->next_publish_ns)
		return 0;
	js->next_publish_ns = now_ns + js->publish_ns;
	snap = ig_snap_begin(js->pub);
	if (snap == NULL)
		return 0; /* no free slot: skipped (counted); the next period retries */
	snap->ts_real_ns = ig_clock_real_ns();
	ig_snap_latency_fill(&js->sync_ns, bound, IG_SNAP_LAT_BUCKETS, &snap->journal_sync);
	ig_snap_publish(js->pub, snap);
	js->published_syncs = js->syncs;
	return 0; /* bookkeeping, not work: the thread may park */
}

static int64_t jstage_stage_deadline(void *self)
{
	const struct ig_jstage *js = self;
	int64_t d = ig_jstage_deadline_ns(self);
	return publish_wanted(js) && js->next_publish_ns < d ? js->next_publish_ns : d;
}

static int jstage_stage_stats(const void *self, json_t *root)
{
	const struct ig_jstage *js = self;
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "path",
			      js->j.path != NULL ? js->j.path : "", "sync",
			      js->sync == IG_JOURNAL_SYNC_BATCH ? "batch" : "order", "records",
			      (json_int_t)js->records, "bytes", (json_int_t)js->j.stats.bytes, "syncs",
			      (json_int_t)js->syncs, "orders_forwarded", (json_int_t)js->orders,
			      "orders_turned_back", (json_int_t)js->failed_orders, "rotations",
			      (json_int_t)js->j.stats.rotations, "sync_ns", ig_json_hist(&js->sync_ns),
			      "order_wait_ns", ig_json_hist(&js->order_wait_ns), "error",
			      (json_int_t)js->err);
	if (json_object_set_new(root, "journal", j) != 0)
		return IG_ENOMEM;
	return js->recovery != NULL ? ig_jrecover_stats(js->recovery, root) : 0;
}

const struct ig_stage_ops ig_jstage_ops = {
	.name = "journal",
	.handle = jstage_stage_handle,
	.poll = jstage_stage_poll,
	.commit = jstage_stage_commit,
	.deadline_ns = jstage_stage_deadline,
	.stats = jstage_stage_stats,
};
