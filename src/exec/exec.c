/* exec.c - the executor stage handler. */
#include "exec/exec.h"

#include "core/clock.h"
#include "ingenium/error.h"

#include <string.h>

int ig_exec_init(struct ig_exec *x, const struct ig_config *cfg)
{
	memset(x, 0, sizeof(*x));
	x->venue_kind = cfg->venue.kind;
	x->measure = true;
	ig_hist_init(&x->tick_to_order);
	if (cfg->venue.kind != IG_VENUE_PAPER)
		return IG_ECONFIG; /* the luno venue is its own issue */
	return ig_paper_init(&x->paper, cfg->venue.maker_fee_bps, cfg->venue.taker_fee_bps);
}

void ig_exec_destroy(struct ig_exec *x)
{
	ig_paper_destroy(&x->paper);
}

bool ig_exec_wants_md(const struct ig_exec *x)
{
	return x->venue_kind == IG_VENUE_PAPER;
}

void ig_exec_handle(struct ig_exec *x, const struct ig_event *in, struct ig_emit *out)
{
	switch (in->hdr.type) {
	case IG_EV_ORDER:
		if (x->measure && in->hdr.ts_origin_ns != 0)
			ig_hist_record(&x->tick_to_order, ig_clock_mono_ns() - in->hdr.ts_origin_ns);
		x->orders++;
		ig_paper_submit(&x->paper, in, out);
		return;
	case IG_EV_CANCEL:
		x->cancels++;
		ig_paper_cancel(&x->paper, in, out);
		return;
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		ig_paper_market_data(&x->paper, in, out);
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
