/* exec.c - the executor stage handler: orders and cancels to the venue. */
#include "exec/exec.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <string.h>

static void paper_submit(void *v, const struct ig_event *order, struct ig_emit *out)
{
	ig_paper_submit(v, order, out);
}

static void paper_cancel(void *v, const struct ig_event *cancel, struct ig_emit *out)
{
	ig_paper_cancel(v, cancel, out);
}

static void paper_md(void *v, const struct ig_event *md, struct ig_emit *out)
{
	ig_paper_market_data(v, md, out);
}

static const struct ig_venue_ops paper_ops = {
	.name = "paper",
	.wants_md = true,
	.submit = paper_submit,
	.cancel = paper_cancel,
	.market_data = paper_md,
};

int ig_exec_init(struct ig_exec *x, const struct ig_config *cfg)
{
	int rc;

	memset(x, 0, sizeof(*x));
	x->venue_kind = cfg->venue.kind;
	x->measure = true;
	ig_hist_init(&x->tick_to_order);
	/* Shutdown waits for requests in flight and orders in doubt, but not
	 * for ever: a request's timeout plus the in-doubt window. */
	x->drain_timeout_ns = (cfg->venue.timeout_ms * 2 + 5000) * INT64_C(1000000);
	if (cfg->venue.kind == IG_VENUE_LUNO) {
		struct ig_luno_opts lo;
		char err[IG_CFG_ERR_MAX];
		ig_luno_opts_from_config(&lo, cfg);
		rc = ig_luno_init(&x->luno, &lo, err, sizeof(err));
		if (rc != 0) {
			/* Names a missing environment variable, never a value. */
			ig_log_error("%s", err);
			return rc;
		}
		x->ops = &ig_luno_ops;
		x->venue = &x->luno;
		return 0;
	}
	rc = ig_paper_init(&x->paper, cfg->venue.maker_fee_bps, cfg->venue.taker_fee_bps);
	if (rc != 0)
		return rc;
	x->ops = &paper_ops;
	x->venue = &x->paper;
	return 0;
}

void ig_exec_destroy(struct ig_exec *x)
{
	if (x->ops != NULL && x->ops->destroy != NULL)
		x->ops->destroy(x->venue);
	ig_paper_destroy(&x->paper);
}

bool ig_exec_wants_md(const struct ig_exec *x)
{
	return x->ops != NULL && x->ops->wants_md;
}

int ig_exec_poll(struct ig_exec *x, int64_t now_ns, struct ig_emit *out)
{
	int work = 0;
	if (x->ops != NULL && x->ops->poll != NULL)
		work = x->ops->poll(x->venue, now_ns, out);
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
