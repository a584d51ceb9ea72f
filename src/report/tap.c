/* tap.c - the report collector as an OMS observer (see tap.h). */
#include "report/tap.h"

#include "ingenium/fixed.h"

#define NS_PER_S INT64_C(1000000000)

void ig_report_tap_init(struct ig_report_tap *t, struct ig_report *r, uint32_t nstrategies,
			int64_t equity_every_s)
{
	t->r = r;
	t->nstrategies = nstrategies;
	t->every_ns = equity_every_s * NS_PER_S;
	t->have_key = false;
	t->ticks = false;
	t->key = 0;
	t->last_ts = 0;
}

static void sample(struct ig_report_tap *t, const struct ig_oms *oms)
{
	for (uint32_t i = 0; i < t->nstrategies; i++)
		ig_report_equity(t->r, i, t->last_ts, ig_oms_equity(oms, i), ig_oms_cash(oms, i),
				 ig_oms_position(oms, i, ig_report_chart_instrument(t->r, i)));
}

void ig_report_tap_observe(void *arg, const struct ig_oms *oms, const struct ig_event *ev)
{
	struct ig_report_tap *t = arg;
	int64_t ts = ev->hdr.ts_event_ns, key, px;

	switch (ev->hdr.type) {
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		/* The OMS's mark price of the event, as it will apply it. */
		px = ev->hdr.type == IG_EV_QUOTE ? (ev->body.quote.bid_px + ev->body.quote.ask_px) / 2
		     : ev->hdr.type == IG_EV_TRADE ? ev->body.trade.px
						   : ev->body.bar.close_px;
		key = ev->hdr.type == IG_EV_BAR || t->every_ns <= 0 ? ts
		      : ts >= 0 ? ts / t->every_ns
				: -((-ts + t->every_ns - 1) / t->every_ns);
		if (ev->hdr.type != IG_EV_BAR && !t->ticks) {
			t->ticks = true;
			ig_report_set_ticks(t->r);
		}
		if (t->have_key && key != t->key)
			sample(t, oms);
		t->key = key;
		t->have_key = true;
		if (ts > t->last_ts)
			t->last_ts = ts;
		ig_report_price(t->r, ev->hdr.instrument_id, ts, px);
		return;
	case IG_EV_FILL: {
		const struct ig_fill *f = &ev->body.fill;
		int64_t base_value = 0;
		uint16_t k = ev->hdr.instrument_id;
		if (f->fee_base != 0)
			ig_fixed_mul(f->fee_base, f->px, &base_value);
		ig_report_fill(t->r, ev->hdr.strategy_id, k, ts > t->last_ts ? ts : t->last_ts, f->side,
			       f->px, f->qty, f->fee, base_value,
			       ig_oms_position(oms, ev->hdr.strategy_id, k));
		return;
	}
	default:
		return;
	}
}

void ig_report_tap_finish(struct ig_report_tap *t, const struct ig_oms *oms)
{
	if (t->have_key)
		sample(t, oms);
	t->have_key = false;
}
