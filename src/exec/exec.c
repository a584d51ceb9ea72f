/* exec.c - the executor stage handler: orders and cancels to the venue. */
#include "exec/exec.h"

#include "api/snapshot.h"

#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <stdlib.h>
#include <string.h>

int ig_exec_init(struct ig_exec *x, const struct ig_config *cfg)
{
	char err[IG_CFG_ERR_MAX];
	int rc;

	memset(x, 0, sizeof(*x));
	x->measure = true;
	ig_hist_init(&x->tick_to_order);
	/* Shutdown waits for requests in flight and orders in doubt, but not
	 * for ever: a request's timeout plus the in-doubt window. */
	x->drain_timeout_ns = (cfg->venue.timeout_ms * 2 + 5000) * INT64_C(1000000);
	x->type = ig_venue_at(cfg->venue.kind);
	if (x->type == NULL) {
		ig_log_error("venue.kind: no venue number %d in this build", cfg->venue.kind);
		return IG_ECONFIG;
	}
	err[0] = '\0';
	rc = x->type->create(cfg, &x->venue, err, sizeof(err));
	if (rc != 0) {
		/* Names a missing environment variable, never a value. */
		ig_log_error("%s", err);
		x->venue = NULL;
		return rc;
	}
	x->ops = x->type->ops;
	return 0;
}

void ig_exec_destroy(struct ig_exec *x)
{
	free(x->recovered);
	x->recovered = NULL;
	if (x->ops != NULL && x->ops->destroy != NULL && x->venue != NULL)
		x->ops->destroy(x->venue);
	x->venue = NULL;
	x->ops = NULL;
}

void ig_exec_log_stats(const struct ig_exec *x)
{
	if (x->ops != NULL && x->ops->log_stats != NULL && x->venue != NULL)
		x->ops->log_stats(x->venue);
}

bool ig_exec_wants_md(const struct ig_exec *x)
{
	return x->ops != NULL && x->ops->wants_md;
}

bool ig_exec_measures(const struct ig_exec *x)
{
	return x->measure;
}

const struct ig_venue_type *ig_exec_venue_type(const struct ig_exec *x)
{
	return x->ops != NULL ? x->type : NULL;
}

void *ig_exec_venue_peer(const struct ig_exec *x)
{
	if (x->ops == NULL || x->ops->peer == NULL || x->venue == NULL)
		return NULL;
	return x->ops->peer(x->venue);
}

void ig_exec_set_wake(struct ig_exec *x, void (*fn)(void *arg), void *arg)
{
	if (x->ops != NULL && x->ops->set_wake != NULL && x->venue != NULL)
		x->ops->set_wake(x->venue, fn, arg);
}

void ig_exec_halt(struct ig_exec *x)
{
	if (x->ops != NULL && x->ops->halt != NULL && x->venue != NULL)
		x->ops->halt(x->venue);
}

int ig_exec_recover(struct ig_exec *x, const struct ig_recover *rc, uint32_t ninstruments)
{
	if (x->ops->recover != NULL)
		return x->ops->recover(x->venue, rc);
	x->n_instruments = ninstruments ? ninstruments : 1;
	if (rc->norders > 0) {
		x->recovered = calloc(rc->norders, sizeof(*x->recovered));
		if (x->recovered == NULL)
			return IG_ENOMEM;
		memcpy(x->recovered, rc->orders, rc->norders * sizeof(*x->recovered));
	}
	x->n_recovered = rc->norders;
	x->recover_pending = true;
	return 0;
}

/* The paper venue's answer to recovery (ig_exec_recover). */
static int paper_reconcile(struct ig_exec *x, struct ig_emit *out)
{
	struct ig_event ev;

	for (uint32_t i = 0; i < x->n_recovered; i++) {
		const struct ig_recover_order *o = &x->recovered[i];
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_ORDER_UPDATE;
		ev.hdr.strategy_id = o->strategy_id;
		ev.hdr.instrument_id = o->instrument_id;
		ev.body.update.client_id = o->client_id;
		ev.body.update.venue_order_id = o->venue_order_id;
		ev.body.update.filled_qty = o->filled_qty;
		ev.body.update.px = o->px;
		ev.body.update.side = o->side;
		ev.body.update.prev_state = o->state;
		ev.body.update.state = IG_OS_CANCELED;
		ig_emit(out, IG_STAGE_OMS, 0, &ev);
	}
	for (uint32_t k = 0; k < x->n_instruments; k++) {
		memset(&ev, 0, sizeof(ev));
		ev.hdr.type = IG_EV_RECONCILE;
		ev.hdr.strategy_id = IG_STRATEGY_NONE;
		ev.hdr.instrument_id = (uint16_t)k;
		ev.body.reconcile.error = IG_RECON_OK;
		ev.body.reconcile.resolved = k == 0 ? x->n_recovered : 0;
		ev.body.reconcile.last = k + 1 == x->n_instruments;
		ig_emit(out, IG_STAGE_OMS, 0, &ev);
	}
	x->recover_pending = false;
	return (int)(x->n_recovered + x->n_instruments);
}

int ig_exec_poll(struct ig_exec *x, int64_t now_ns, struct ig_emit *out)
{
	int work = 0;
	if (x->recover_pending)
		work += paper_reconcile(x, out);
	if (x->ops != NULL && x->ops->poll != NULL)
		work += x->ops->poll(x->venue, now_ns, out);
	if (x->draining) {
		bool busy = x->ops->busy != NULL && x->ops->busy(x->venue);
		if (!busy || now_ns >= x->drain_deadline_ns) {
			if (busy)
				ig_log_warn("executor: stopping with venue requests still open "
					    "(waited %lld ms)",
					    (long long)(x->drain_timeout_ns / 1000000));
			/* Echo: every report the venue produced is ahead of it. */
			x->draining = false;
			ig_emit(out, IG_STAGE_OMS, 0, &x->feed_end);
			work++;
		}
	}
	return work;
}

int64_t ig_exec_deadline_ns(const struct ig_exec *x)
{
	int64_t d = INT64_MAX;
	if (x->ops != NULL && x->ops->deadline_ns != NULL)
		d = x->ops->deadline_ns(x->venue);
	if (x->draining && x->drain_deadline_ns < d)
		d = x->drain_deadline_ns;
	return d;
}

void ig_exec_handle(struct ig_exec *x, const struct ig_event *in, struct ig_emit *out)
{
	switch (in->hdr.type) {
	case IG_EV_ORDER:
		if (in->hdr.flags & IG_EVF_J_FAILED) {
			/* Not durable: it must not reach the venue. */
			x->journal_rejects++;
			ig_venue_reject(in, IG_RJ_JOURNAL, false, out);
			return;
		}
		if (x->measure && in->hdr.ts_origin_ns != 0)
			ig_hist_record(&x->tick_to_order, ig_clock_mono_ns() - in->hdr.ts_origin_ns);
		x->orders++;
		x->ops->submit(x->venue, in, out);
		return;
	case IG_EV_CANCEL:
		x->cancels++;
		x->ops->cancel(x->venue, in, out);
		return;
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		if (x->ops->market_data != NULL)
			x->ops->market_data(x->venue, in, out);
		return;
	case IG_EV_CONTROL:
		if (in->body.control.cmd == IG_CTL_FEED_END) {
			x->feed_end = *in;
			if (x->ops->busy != NULL && x->ops->busy(x->venue)) {
				/* Requests in flight or orders in doubt: echo
				 * from ig_exec_poll once they are settled. */
				x->draining = true;
				x->drain_deadline_ns = ig_clock_mono_ns() + x->drain_timeout_ns;
				return;
			}
			/* Echo: every report we emitted is ahead of this. */
			ig_emit(out, IG_STAGE_OMS, 0, &x->feed_end);
		}
		return;
	default:
		return;
	}
}

/* ------------------------------------------------- stage ops (stage.h) */

static void exec_stage_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	ig_exec_handle(self, ev, out);
}

void ig_exec_set_publisher(struct ig_exec *x, struct ig_snap_pub *pub, int64_t publish_ms)
{
	x->pub = pub;
	x->publish_ns = publish_ms * 1000000;
	x->next_publish_ns = 0;
}

static int exec_stage_poll(void *self, int64_t now_ns, struct ig_emit *out)
{
	struct ig_exec *x = self;
	int n = ig_exec_poll(self, now_ns, out);

	if (x->pub != NULL && now_ns >= x->next_publish_ns) {
		struct ig_snapshot *snap = ig_snap_begin(x->pub);
		x->next_publish_ns = now_ns + x->publish_ns;
		if (snap != NULL) {
			static const int64_t bound[IG_SNAP_LAT_BUCKETS] = IG_SNAP_LAT_BOUNDS_NS;
			snap->ts_real_ns = ig_clock_real_ns();
			ig_snap_latency_fill(&x->tick_to_order, bound, IG_SNAP_LAT_BUCKETS,
					     &snap->tick_to_order);
			/* The venue's health; a venue without the op (paper)
			 * reports zeros and "ok". */
			memset(&snap->venue, 0, sizeof(snap->venue));
			if (x->ops != NULL && x->ops->health != NULL && x->venue != NULL)
				x->ops->health(x->venue, &snap->venue);
			ig_snap_publish(x->pub, snap);
		}
	}
	return n;
}

static int64_t exec_stage_deadline(void *self)
{
	const struct ig_exec *x = self;
	int64_t d = ig_exec_deadline_ns(self);
	return x->pub != NULL && x->next_publish_ns < d ? x->next_publish_ns : d;
}

/* The venue's own thread signalled work (venue.h has_work). */
static bool exec_stage_has_work(void *self)
{
	struct ig_exec *x = self;
	return x->ops != NULL && x->ops->has_work != NULL && x->venue != NULL &&
	       x->ops->has_work(x->venue);
}

/* latency.tick_to_order_ns; venue.round_trip_ns when the venue measures
 * order round trips. */
static int exec_stage_stats(const void *self, json_t *root)
{
	const struct ig_exec *x = self;
	json_t *lat = ig_stats_object(root, "latency");
	const struct ig_hist *rt;
	if (lat == NULL || json_object_set_new(lat, "tick_to_order_ns", ig_json_hist(&x->tick_to_order)) != 0)
		return IG_ENOMEM;
	/* venue.round_trip_ns: what a backtest's venue.latency_from replays. */
	rt = x->ops != NULL && x->ops->round_trips != NULL && x->venue != NULL
		     ? x->ops->round_trips(x->venue)
		     : NULL;
	if (rt != NULL) {
		json_t *v = ig_stats_object(root, "venue");
		if (v == NULL || json_object_set_new(v, "round_trip_ns", ig_json_hist_buckets(rt)) != 0)
			return IG_ENOMEM;
	}
	return 0;
}

const struct ig_stage_ops ig_exec_stage_ops = {
	.name = "exec",
	.handle = exec_stage_handle,
	.poll = exec_stage_poll,
	.deadline_ns = exec_stage_deadline,
	.has_work = exec_stage_has_work,
	.stats = exec_stage_stats,
};
