/* exec.c - the executor stage handler: orders and cancels to the venue. */
#include "exec/exec.h"

#include "core/clock.h"
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
	if (cfg->venue.kind != IG_VENUE_PAPER)
		return IG_ECONFIG; /* the luno venue is its own issue */
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
	if (x->ops == NULL || x->ops->poll == NULL)
		return 0;
	return x->ops->poll(x->venue, now_ns, out);
}

int64_t ig_exec_deadline_ns(const struct ig_exec *x)
{
	if (x->ops == NULL || x->ops->deadline_ns == NULL)
		return INT64_MAX;
	return x->ops->deadline_ns(x->venue);
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
			/* Echo: every report we emitted is ahead of this. */
			struct ig_event ev = *in;
			ig_emit(out, IG_STAGE_OMS, 0, &ev);
		}
		return;
	default:
		return;
	}
}
