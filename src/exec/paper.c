/* paper.c - in-process paper venue (see paper.h; the fill rules are
 * docs/backtesting.md "Fills"). */
#include "exec/paper.h"
#include "core/rng.h"

#include "core/evflags.h"
#include "core/hist.h"
#include "exec/venue.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_DAY INT64_C(86400000000000)

void ig_paper_params_of(const struct ig_config *cfg, struct ig_paper_params *prm)
{
	memset(prm, 0, sizeof(*prm));
	prm->maker_fee_bps = cfg->venue.maker_fee_bps;
	prm->taker_fee_bps = cfg->venue.taker_fee_bps;
	prm->bar_fill = cfg->venue.bar_fill;
	prm->max_volume_pct = cfg->venue.max_volume_pct;
	prm->fee_per_order = cfg->venue.fee_per_order;
	prm->min_fee = cfg->venue.min_fee;
	prm->slippage_bps = cfg->venue.slippage_bps;
	prm->latency_ns = cfg->venue.latency_ms * INT64_C(1000000); /* <= a day (config.c) */
	prm->latency_seed = cfg->venue.latency_seed;
}

int ig_paper_init(struct ig_paper *p, int64_t maker_fee_bps, int64_t taker_fee_bps)
{
	struct ig_paper_params prm;

	memset(p, 0, sizeof(*p));
	p->orders = calloc(IG_PAPER_MAX_ORDERS, sizeof(*p->orders));
	if (p->orders == NULL)
		return IG_ENOMEM;
	memset(&prm, 0, sizeof(prm));
	prm.maker_fee_bps = maker_fee_bps;
	prm.taker_fee_bps = taker_fee_bps;
	prm.bar_fill = IG_CFG_DEFAULT_BAR_FILL;
	prm.max_volume_pct = IG_CFG_DEFAULT_MAX_VOLUME_PCT;
	prm.fee_per_order = IG_CFG_DEFAULT_FEE_PER_ORDER;
	prm.min_fee = IG_CFG_DEFAULT_MIN_FEE;
	prm.slippage_bps = IG_CFG_DEFAULT_SLIPPAGE_BPS;
	prm.latency_ns = IG_CFG_DEFAULT_LATENCY_MS * INT64_C(1000000);
	prm.latency_seed = IG_CFG_DEFAULT_LATENCY_SEED;
	ig_paper_configure(p, &prm);
	p->next_order_id = 1;
	p->next_trade_id = 1;
	return 0;
}

void ig_paper_configure(struct ig_paper *p, const struct ig_paper_params *prm)
{
	p->prm = *prm;
	p->maker_fee_bps = prm->maker_fee_bps;
	p->taker_fee_bps = prm->taker_fee_bps;
	p->rng = prm->latency_seed;
}

void ig_paper_destroy(struct ig_paper *p)
{
	free(p->orders);
	free(p->lat_ns);
	free(p->lat_count);
	p->orders = NULL;
	p->lat_ns = NULL;
	p->lat_count = NULL;
}

/* ------------------------------------------------------------- latency */

int ig_paper_load_latency(struct ig_paper *p, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *buckets;
	size_t i;

	if (root == NULL) {
		snprintf(err, errlen, "venue.latency_from: %s: %s", path, jerr.text);
		return IG_ECONFIG;
	}
	buckets = json_object_get(json_object_get(json_object_get(root, "venue"), "round_trip_ns"),
				  "buckets");
	if (!json_is_array(buckets) || json_array_size(buckets) == 0 ||
	    json_array_size(buckets) > IG_PAPER_LAT_MAX) {
		snprintf(err, errlen,
			 "venue.latency_from: %s: no venue.round_trip_ns.buckets (1..%d [upper_ns, count] "
			 "pairs; written by a live run's --summary-json)",
			 path, IG_PAPER_LAT_MAX);
		json_decref(root);
		return IG_ECONFIG;
	}
	free(p->lat_ns);
	free(p->lat_count);
	p->lat_ns = calloc(IG_PAPER_LAT_MAX, sizeof(*p->lat_ns));
	p->lat_count = calloc(IG_PAPER_LAT_MAX, sizeof(*p->lat_count));
	if (p->lat_ns == NULL || p->lat_count == NULL) {
		snprintf(err, errlen, "venue: out of memory");
		json_decref(root);
		return IG_ENOMEM;
	}
	p->nlat = 0;
	p->lat_total = 0;
	for (i = 0; i < json_array_size(buckets); i++) {
		json_t *b = json_array_get(buckets, i);
		json_t *up = json_array_get(b, 0), *n = json_array_get(b, 1);
		if (json_array_size(b) != 2 || !json_is_integer(up) || !json_is_integer(n) ||
		    json_integer_value(up) < 0 || json_integer_value(n) < 0) {
			snprintf(err, errlen,
				 "venue.latency_from: %s: venue.round_trip_ns.buckets[%zu] is not "
				 "[upper_ns, count] (non-negative integers)",
				 path, i);
			p->nlat = 0;
			p->lat_total = 0;
			json_decref(root);
			return IG_ECONFIG;
		}
		if (json_integer_value(up) > IG_CFG_LATENCY_MS_MAX * INT64_C(1000000)) {
			snprintf(err, errlen,
				 "venue.latency_from: %s: venue.round_trip_ns.buckets[%zu]: upper_ns %lld is "
				 "above the most a delay may be (%lld ns, one day)",
				 path, i, (long long)json_integer_value(up),
				 (long long)(IG_CFG_LATENCY_MS_MAX * INT64_C(1000000)));
			p->nlat = 0;
			p->lat_total = 0;
			json_decref(root);
			return IG_ECONFIG;
		}
		if (json_integer_value(n) == 0)
			continue;
		p->lat_ns[p->nlat] = (int64_t)json_integer_value(up);
		p->lat_count[p->nlat] = (uint64_t)json_integer_value(n);
		/* The total must fit in int64 too (the counts are jansson's
		 * int64): a wrapped total would draw from the wrong buckets. */
		if (__builtin_add_overflow(p->lat_total, p->lat_count[p->nlat], &p->lat_total) ||
		    p->lat_total > (uint64_t)INT64_MAX) {
			snprintf(err, errlen,
				 "venue.latency_from: %s: venue.round_trip_ns.buckets: the counts add up "
				 "to more than %lld",
				 path, (long long)INT64_MAX);
			p->nlat = 0;
			p->lat_total = 0;
			json_decref(root);
			return IG_ECONFIG;
		}
		p->nlat++;
	}
	json_decref(root);
	if (p->lat_total == 0) {
		snprintf(err, errlen, "venue.latency_from: %s: venue.round_trip_ns has no samples", path);
		return IG_ECONFIG;
	}
	return 0;
}

/* Returns the delay of the next order: the fixed latency, or one drawn from
 * the loaded distribution (the bucket whose cumulative count first exceeds
 * a uniform draw in [0, total)). */
static int64_t draw_delay(struct ig_paper *p)
{
	uint64_t r;

	if (p->nlat == 0)
		return p->prm.latency_ns;
	r = ig_rng_next(&p->rng) % p->lat_total;
	for (uint32_t i = 0; i < p->nlat; i++) {
		if (r < p->lat_count[i])
			return p->lat_ns[i];
		r -= p->lat_count[i];
	}
	return p->lat_ns[p->nlat - 1];
}

/* ------------------------------------------------------------- reports */

/* Reports po's state; at_ns (if not 0) is the data time the report
 * carries instead of the order's own. */
static void send_state_at(const struct ig_paper_order *po, enum ig_ord_state st, int64_t at_ns,
			  struct ig_emit *out)
{
	struct ig_event ev;
	ig_event_reply_init(&ev, &po->ev, IG_EV_ORDER_UPDATE);
	if (at_ns != 0)
		ev.hdr.ts_event_ns = at_ns;
	ev.body.update.client_id = po->ev.body.order.client_id;
	ev.body.update.venue_order_id = po->venue_order_id;
	ev.body.update.state = (uint8_t)st;
	ev.body.update.side = po->ev.body.order.side;
	ev.body.update.leaves_qty = po->leaves_qty;
	ev.body.update.filled_qty = po->ev.body.order.qty - po->leaves_qty;
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
}

static void send_state(const struct ig_paper_order *po, enum ig_ord_state st, struct ig_emit *out)
{
	send_state_at(po, st, 0, out);
}

static void send_reject(struct ig_paper *p, const struct ig_event *order, int reason,
			struct ig_emit *out)
{
	p->rejects++;
	ig_venue_reject(order, reason, true, out);
}

/* Returns px moved against the trader by slippage_bps (a buy pays more, a
 * sell gets less), the move rounded by the engine's rule; never below
 * 1e-8 (a fill at 0 is impossible: the OMS refuses one) and saturating at
 * INT64_MAX. */
static int64_t slip(const struct ig_paper *p, bool buy, int64_t px)
{
	int64_t d = 0, r;
	if (p->prm.slippage_bps == 0 || ig_fixed_bps(px, p->prm.slippage_bps, &d) != 0)
		return px;
	if (buy)
		return __builtin_add_overflow(px, d, &r) ? INT64_MAX : r;
	r = px - d; /* 0 <= d <= px for 0 <= slippage_bps <= 10000 */
	return r < 1 ? 1 : r;
}

/* Fills up to qty of po at px; returns the quantity filled. The fee is
 * round(round(px * qty) * bps / 10000), raised to min_fee, plus
 * fee_per_order on the order's first fill. */
static int64_t fill(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		    int64_t px, int64_t qty, bool maker, struct ig_emit *out)
{
	struct ig_event ev;
	int64_t notional = 0, fee = 0;

	if (qty > po->leaves_qty)
		qty = po->leaves_qty;
	if (qty <= 0)
		return 0;
	ig_fixed_mul(px, qty, &notional);
	ig_fixed_bps(notional, maker ? p->maker_fee_bps : p->taker_fee_bps, &fee);
	if (p->prm.min_fee > 0 && fee < p->prm.min_fee)
		fee = p->prm.min_fee;
	if (!po->charged) {
		fee += p->prm.fee_per_order;
		po->charged = true;
	}
	po->leaves_qty -= qty;
	ig_event_reply_init(&ev, &po->ev, IG_EV_FILL);
	/* A fill caused by new market data carries that tick's origin and
	 * data time. */
	if (cause != NULL) {
		ev.hdr.ts_origin_ns = cause->hdr.ts_origin_ns;
		ev.hdr.ts_event_ns = cause->hdr.ts_event_ns;
	}
	ev.body.fill.client_id = po->ev.body.order.client_id;
	ev.body.fill.venue_order_id = po->venue_order_id;
	ev.body.fill.trade_id = p->next_trade_id++;
	ev.body.fill.px = px;
	ev.body.fill.qty = qty;
	ev.body.fill.fee = fee;
	ev.body.fill.side = po->ev.body.order.side;
	ev.body.fill.liquidity = maker ? IG_LIQ_MAKER : IG_LIQ_TAKER;
	ev.body.fill.last = po->leaves_qty == 0;
	p->fills++;
	if (po->ev.hdr.strategy_id < IG_MAX_STRATEGIES) {
		struct ig_paper_ledger *l = &p->ledger[po->ev.hdr.strategy_id];
		bool buy = po->ev.body.order.side == IG_SIDE_BUY;
		l->net_qty[po->ev.hdr.instrument_id] += buy ? qty : -qty;
		l->cash_delta += (buy ? -notional : notional) - fee;
		l->fees += fee;
		l->fills++;
	}
	ig_emit(out, IG_STAGE_OMS, 0, &ev);
	return qty;
}

static void finish(struct ig_paper *p, struct ig_paper_order *po)
{
	po->live = false;
	p->live--;
	while (p->norders > 0 && !p->orders[p->norders - 1].live)
		p->norders--;
}

/* ------------------------------------------------------ quotes, trades */

/* True if po is a market buy with a cap (its px: the most the OMS reserved
 * for) and the price it would pay at the touch, slipped, is above it: what
 * is left of it cannot fill now. */
static bool capped_out(const struct ig_paper *p, const struct ig_paper_order *po)
{
	const struct ig_order *o = &po->ev.body.order;
	int64_t ask = p->books[po->ev.hdr.instrument_id].ask_px;
	return o->type == IG_ORD_MARKET && o->side == IG_SIDE_BUY && o->px > 0 && ask != 0 &&
	       slip(p, true, ask) > o->px;
}

/* Takes liquidity at the touch for a marketable order. */
static void take(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		 struct ig_emit *out)
{
	struct ig_paper_book *b = &p->books[po->ev.hdr.instrument_id];
	bool buy = po->ev.body.order.side == IG_SIDE_BUY;
	int64_t touch = buy ? b->ask_px : b->bid_px;
	int64_t *avail = buy ? &b->ask_avail : &b->bid_avail;
	bool market = po->ev.body.order.type == IG_ORD_MARKET;
	int64_t got, px;

	if (touch == 0)
		return;
	/* A limit order takes up to its price; so does a market buy that came
	 * with one (the most the OMS reserved for: it waits for the market
	 * to come back rather than pay more), judged at the price it would
	 * pay, slippage included. */
	px = market ? slip(p, buy, touch) : touch;
	if ((!market || (buy && po->ev.body.order.px > 0)) &&
	    (buy ? px > po->ev.body.order.px : px < po->ev.body.order.px))
		return;
	got = fill(p, po, cause, px, *avail, false, out);
	*avail -= got;
}

/* ---------------------------------------------------------------- bars */

/* Returns the most of po one bar may fill: max_volume_pct of its volume,
 * rounded down to 1e-8; unlimited when the cap is off or the volume is 0
 * (unknown). */
static int64_t bar_cap(const struct ig_paper *p, const struct ig_bar *bar)
{
	if (p->prm.max_volume_pct <= 0 || bar->volume <= 0)
		return INT64_MAX;
	return (int64_t)((ig_i128)bar->volume * p->prm.max_volume_pct /
			 ((ig_i128)100 * IG_FIXED_SCALE));
}

/* The price at which a limit order at px is reached by bar, or 0 if it is
 * not: a buy when the low is below px, at min(open, px); a sell when the
 * high is above px, at max(open, px). */
static int64_t limit_px_on(const struct ig_bar *bar, bool buy, int64_t px)
{
	if (buy)
		return bar->low_px < px ? (bar->open_px < px ? bar->open_px : px) : 0;
	return bar->high_px > px ? (bar->open_px > px ? bar->open_px : px) : 0;
}

/* What po does on the bar in the book, its first chance to fill decided
 * (IOC cancels the rest, FOK expires unless all of it fills). fill_px 0:
 * nothing fills on this bar. */
static void bar_fill_at(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
			int64_t fill_px, bool maker, struct ig_emit *out)
{
	const struct ig_paper_book *b = &p->books[po->ev.hdr.instrument_id];
	int64_t cap = bar_cap(p, &b->bar);
	uint8_t tif = po->ev.body.order.tif;
	bool first = !po->evaluated;

	po->evaluated = true;
	if (first && tif == IG_TIF_FOK && (fill_px == 0 || cap < po->leaves_qty)) {
		send_state(po, IG_OS_EXPIRED, out);
		finish(p, po);
		return;
	}
	if (fill_px != 0)
		fill(p, po, cause, fill_px, cap, maker, out);
	if (po->leaves_qty == 0) {
		finish(p, po);
		return;
	}
	if (first && (tif == IG_TIF_IOC || tif == IG_TIF_FOK)) {
		send_state(po, IG_OS_CANCELED, out);
		finish(p, po);
	}
}

/* A released stop on the bar that triggered it: a stop fills at the
 * trigger or the gapped open (buy max(open, stop), sell min(open, stop);
 * a take-profit the mirror), slipped; a stop-limit there if that is within
 * its limit (slipped, never past the limit), else as a limit from this bar
 * on (at its limit, the bar having opened beyond it). */
static void bar_trigger(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
			struct ig_emit *out)
{
	const struct ig_bar *bar = &p->books[po->ev.hdr.instrument_id].bar;
	const struct ig_order *o = &po->ev.body.order;
	bool buy = o->side == IG_SIDE_BUY;
	bool tp = (po->ev.hdr.flags & IG_EVF_TAKE_PROFIT) != 0;
	bool up = buy != tp; /* the price rose to the level */
	int64_t lvl = o->stop_px, t, px;

	po->trigger_bar = false;
	t = up ? (bar->open_px > lvl ? bar->open_px : lvl) : (bar->open_px < lvl ? bar->open_px : lvl);
	if (o->type == IG_ORD_MARKET) {
		bar_fill_at(p, po, cause, slip(p, buy, t), false, out);
		return;
	}
	if (buy ? t <= o->px : t >= o->px) {
		px = slip(p, buy, t);
		if (buy ? px > o->px : px < o->px)
			px = o->px;
		bar_fill_at(p, po, cause, px, false, out);
		return;
	}
	/* Gapped beyond the limit: the limit rests from here, and the bar
	 * came back through it. */
	bar_fill_at(p, po, cause, (buy ? bar->low_px < o->px : bar->high_px > o->px) ? o->px : 0, true,
		    out);
}

/* po on a bar after the one it was decided on: a market order at the open
 * (next_open) or the close (close), slipped; a limit when the bar trades
 * through it. */
static void bar_eval(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		     struct ig_emit *out)
{
	const struct ig_bar *bar = &p->books[po->ev.hdr.instrument_id].bar;
	const struct ig_order *o = &po->ev.body.order;
	bool buy = o->side == IG_SIDE_BUY;

	if (o->type == IG_ORD_MARKET)
		bar_fill_at(p, po, cause,
			    slip(p, buy, p->prm.bar_fill == IG_BAR_FILL_CLOSE ? bar->close_px : bar->open_px),
			    false, out);
	else
		bar_fill_at(p, po, cause, limit_px_on(bar, buy, o->px), true, out);
}

/* ------------------------------------------------------------- arrival */

/* po reaches the book (at once, or once its delay has passed in data
 * time): ACCEPTED, then what it does against the data there. cause: the
 * market data it arrives with, NULL on submit. */
static void arrive(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *cause,
		   struct ig_emit *out)
{
	const struct ig_order *o = &po->ev.body.order;
	struct ig_paper_book *b = &p->books[po->ev.hdr.instrument_id];
	bool buy = o->side == IG_SIDE_BUY, marketable;

	po->arrived = true;
	if (b->bars) {
		/* Bars: the order is accepted and fills on a later bar (the
		 * first whose open is at or after its arrival time), except a
		 * market order in close mode (the deciding bar's close) and a
		 * released stop (its trigger bar). With a delay, or post-only,
		 * it arrives with such a bar (cause), and is evaluated on it.
		 * Post-only is judged at the price there when it arrives,
		 * that bar's open: refused if the open crosses it. */
		if (o->type == IG_ORD_LIMIT && (o->flags & IG_ORDF_POST_ONLY) && cause != NULL &&
		    (buy ? b->bar.open_px <= o->px : b->bar.open_px >= o->px)) {
			send_reject(p, &po->ev, IG_RJ_VENUE_POST_ONLY, out);
			finish(p, po);
			return;
		}
		send_state(po, IG_OS_ACCEPTED, out);
		if (cause != NULL) {
			/* Arriving on a later bar (delayed, or a post-only held
			 * to the next open): its trigger bar is behind it; from
			 * here it is a market or limit order like any other. */
			po->trigger_bar = false;
			bar_eval(p, po, cause, out);
			return;
		}
		if (po->trigger_bar && b->bar_ts_ns >= po->sent_ns) {
			bar_trigger(p, po, NULL, out);
			return;
		}
		if (!po->trigger_bar && o->type == IG_ORD_MARKET && p->prm.bar_fill == IG_BAR_FILL_CLOSE) {
			/* Ahead of every bar the venue has seen (threaded: the
			 * order overtook the bar it was decided on): it waits
			 * for that bar's close, never an earlier one. */
			if (po->sent_ns > p->now_ns)
				po->wait_own_bar = true;
			else
				bar_fill_at(p, po, NULL, slip(p, buy, b->bar.close_px), false, out);
		}
		return;
	}
	po->trigger_bar = false; /* quotes and trades: a stop is a market order */
	marketable = o->type == IG_ORD_MARKET ||
		     (buy ? (b->ask_px != 0 && b->ask_px <= o->px) : (b->bid_px != 0 && b->bid_px >= o->px));
	if (marketable && (o->flags & IG_ORDF_POST_ONLY)) {
		send_reject(p, &po->ev, IG_RJ_VENUE_POST_ONLY, out);
		finish(p, po);
		return;
	}
	/* Fill-or-kill: all of it now at the touch, or nothing. */
	if (o->tif == IG_TIF_FOK && (!marketable || (buy ? b->ask_avail : b->bid_avail) < o->qty)) {
		send_state(po, IG_OS_ACCEPTED, out);
		send_state(po, IG_OS_EXPIRED, out);
		finish(p, po);
		return;
	}
	send_state(po, IG_OS_ACCEPTED, out);
	if (marketable)
		take(p, po, cause, out);
	if (po->leaves_qty == 0) {
		finish(p, po);
		return;
	}
	/* A capped market buy whose cap the touch is above ends as Luno's IOC
	 * bid at that price would: the rest cancelled. */
	if (o->tif == IG_TIF_IOC || o->tif == IG_TIF_FOK || capped_out(p, po)) {
		send_state(po, IG_OS_CANCELED, out);
		finish(p, po);
	}
}

void ig_paper_submit(struct ig_paper *p, const struct ig_event *order, struct ig_emit *out)
{
	const struct ig_order *o = &order->body.order;
	struct ig_paper_order *po = NULL;
	int64_t delay;

	if (order->hdr.instrument_id >= IG_MAX_INSTRUMENTS ||
	    (o->type != IG_ORD_MARKET && o->type != IG_ORD_LIMIT)) {
		send_reject(p, order, IG_RJ_VENUE, out);
		return;
	}
	for (uint32_t i = 0; i < IG_PAPER_MAX_ORDERS; i++) {
		if (!p->orders[i].live) {
			po = &p->orders[i];
			if (i + 1 > p->norders)
				p->norders = i + 1;
			break;
		}
	}
	if (po == NULL) {
		send_reject(p, order, IG_RJ_VENUE, out);
		return;
	}
	memset(po, 0, sizeof(*po));
	po->ev = *order;
	po->venue_order_id = p->next_order_id++;
	po->leaves_qty = o->qty;
	po->live = true;
	p->live++;
	po->sent_ns = order->hdr.ts_event_ns != 0 ? order->hdr.ts_event_ns : p->now_ns;
	/* Sent at the stamp of the bar delivered last: decided on that bar,
	 * at its end. */
	po->decided_ns = po->sent_ns == p->last_bar_ts_ns && p->last_bar_end_ns > po->sent_ns
				 ? p->last_bar_end_ns
				 : po->sent_ns;
	delay = draw_delay(p);
	/* Saturates: a delay past the end of time never arrives. */
	if (__builtin_add_overflow(po->decided_ns, delay, &po->arrive_ns))
		po->arrive_ns = INT64_MAX;
	/* A stop the OMS released (IG_EVF_RELEASED; it carries its trigger)
	 * fills on the bar that triggered it, unless it is delayed: then it
	 * is a late market (or limit) order like any other. A stop_px on an
	 * order without the flag plays no part. */
	po->trigger_bar = (order->hdr.flags & IG_EVF_RELEASED) != 0 && o->stop_px > 0 && delay == 0;
	/* On bars a post-only limit is judged where it arrives: the open
	 * of the first bar it may fill on. */
	if (delay == 0 &&
	    !(p->books[order->hdr.instrument_id].bars && o->type == IG_ORD_LIMIT &&
	      (o->flags & IG_ORDF_POST_ONLY)))
		arrive(p, po, NULL, out);
}

void ig_paper_cancel(struct ig_paper *p, const struct ig_event *cancel, struct ig_emit *out)
{
	for (uint32_t i = 0; i < p->norders; i++) {
		struct ig_paper_order *po = &p->orders[i];
		if (po->live && po->ev.hdr.strategy_id == cancel->hdr.strategy_id &&
		    po->ev.body.order.client_id == cancel->body.cancel.client_id) {
			/* One still in flight (latency) never reached the
			 * book: cancelled all the same (cancels are not
			 * delayed). The confirmation carries the cancel's data
			 * time, not the order's. */
			send_state_at(po, IG_OS_CANCELED, cancel->hdr.ts_event_ns, out);
			finish(p, po);
			return;
		}
	}
	/* Unknown or already finished: the fill or cancel that finished it is
	 * already on its way to the OMS, which resolves the race. */
}

/* Market data on a bar for one order: arrival once its delay has passed,
 * its trigger-bar fill, or its chance on a later bar. */
static void on_bar_order(struct ig_paper *p, struct ig_paper_order *po, const struct ig_event *md,
			 struct ig_emit *out)
{
	int64_t ts = md->hdr.ts_event_ns;
	/* Bars are stamped at their open: an order may fill on a bar that
	 * opened at or after its arrival (decision plus delay), and later
	 * than the bar it was decided on. With bars, any positive latency
	 * means the order misses the open of the bar during which it
	 * arrives. */
	bool eligible = ts >= po->arrive_ns && ts > po->sent_ns;

	if (!po->arrived) {
		if (eligible)
			arrive(p, po, md, out);
		return;
	}
	if (po->trigger_bar) {
		if (ts >= po->sent_ns)
			bar_trigger(p, po, md, out);
		return;
	}
	if (po->wait_own_bar) {
		/* close mode, ahead of its bar: that bar's close */
		if (ts >= po->sent_ns) {
			po->wait_own_bar = false;
			bar_eval(p, po, md, out);
		}
		return;
	}
	if (eligible)
		bar_eval(p, po, md, out);
}

/* Returns the UTC day of data time ns. */
static int64_t utc_day(int64_t ns)
{
	return ns / NS_PER_DAY;
}

/* Notes the bar md of instrument k: its gap from the instrument's last
 * bar, and, as the bar delivered last, when it ends (the decision time of
 * an order sent from it). A bar's
 * length is its period_ns, but never more than the shortest gap seen
 * between the instrument's bars (a feed that derives the period from the
 * gap before a bar would make the first bar after a pause look long). */
static void note_bar(struct ig_paper *p, struct ig_paper_book *b, const struct ig_event *md)
{
	int64_t ts = md->hdr.ts_event_ns, len = md->body.bar.period_ns, end;

	if (b->bar_ts_ns > 0 && ts > b->bar_ts_ns &&
	    (b->bar_gap_ns == 0 || ts - b->bar_ts_ns < b->bar_gap_ns))
		b->bar_gap_ns = ts - b->bar_ts_ns;
	if (b->bar_gap_ns > 0 && (len <= 0 || len > b->bar_gap_ns))
		len = b->bar_gap_ns;
	if (len < 0 || __builtin_add_overflow(ts, len, &end))
		end = ts;
	/* The bar delivered last is the one an order sent at its stamp was
	 * decided on (inline, the strategies see a bar right after the venue
	 * does); another instrument's bar with the same stamp (an hourly bar
	 * beside a minute bar) says nothing about this decision. */
	p->last_bar_ts_ns = ts;
	p->last_bar_end_ns = end;
}

void ig_paper_market_data(struct ig_paper *p, const struct ig_event *md, struct ig_emit *out)
{
	struct ig_paper_book *b;
	uint16_t k = md->hdr.instrument_id;
	int64_t lo, hi;

	if (k >= IG_MAX_INSTRUMENTS)
		return;
	b = &p->books[k];
	switch (md->hdr.type) {
	case IG_EV_QUOTE:
		b->bid_px = md->body.quote.bid_px;
		b->ask_px = md->body.quote.ask_px;
		b->bid_avail = md->body.quote.bid_qty;
		b->ask_avail = md->body.quote.ask_qty;
		b->from_trades = false;
		b->bars = false;
		lo = b->bid_px;
		hi = b->ask_px;
		break;
	case IG_EV_TRADE:
		b->bid_px = b->ask_px = md->body.trade.px;
		b->bid_avail = b->ask_avail = md->body.trade.qty;
		b->from_trades = true;
		b->bars = false;
		lo = hi = md->body.trade.px;
		break;
	case IG_EV_BAR:
		note_bar(p, b, md);
		b->bid_px = b->ask_px = md->body.bar.close_px;
		b->bid_avail = b->ask_avail = md->body.bar.volume;
		b->from_trades = true;
		b->bars = true;
		b->bar = md->body.bar;
		b->bar_ts_ns = md->hdr.ts_event_ns;
		lo = md->body.bar.low_px;
		hi = md->body.bar.high_px;
		break;
	default:
		return;
	}
	if (md->hdr.ts_event_ns > p->now_ns)
		p->now_ns = md->hdr.ts_event_ns;
	for (uint32_t i = 0; i < p->norders; i++) {
		struct ig_paper_order *po = &p->orders[i];
		const struct ig_order *o;
		bool buy;
		if (!po->live || po->ev.hdr.instrument_id != k)
			continue;
		/* A DAY order ends with its UTC day, as at an exchange: before
		 * anything of a later day is matched, the venue expires it
		 * (the OMS's own day-roll cancel then finds nothing). */
		if (po->ev.body.order.tif == IG_TIF_DAY &&
		    utc_day(md->hdr.ts_event_ns) > utc_day(po->sent_ns)) {
			send_state_at(po, IG_OS_EXPIRED, md->hdr.ts_event_ns, out);
			finish(p, po);
			continue;
		}
		if (b->bars) {
			on_bar_order(p, po, md, out);
			continue;
		}
		if (!po->arrived) {
			if (md->hdr.ts_event_ns >= po->arrive_ns)
				arrive(p, po, md, out);
			continue;
		}
		o = &po->ev.body.order;
		buy = o->side == IG_SIDE_BUY;
		if (capped_out(p, po)) {
			send_state(po, IG_OS_CANCELED, out);
			finish(p, po);
			continue;
		}
		if (o->type == IG_ORD_MARKET) {
			take(p, po, md, out);
		} else {
			/* Resting limit: the market came through our price. For
			 * quotes, the opposite touch reached it; for trades, the
			 * price traded through it. */
			bool crossed = b->from_trades ? (buy ? lo < o->px : hi > o->px)
						      : (buy ? hi <= o->px : lo >= o->px);
			int64_t *avail = buy ? &b->ask_avail : &b->bid_avail;
			if (crossed)
				*avail -= fill(p, po, md, o->px, *avail, true, out);
		}
		if (po->leaves_qty == 0)
			finish(p, po);
	}
}

/* ------------------------------------------------------ registry entry */

static void op_submit(void *v, const struct ig_event *order, struct ig_emit *out)
{
	ig_paper_submit(v, order, out);
}

static void op_cancel(void *v, const struct ig_event *cancel, struct ig_emit *out)
{
	ig_paper_cancel(v, cancel, out);
}

static void op_md(void *v, const struct ig_event *md, struct ig_emit *out)
{
	ig_paper_market_data(v, md, out);
}

static void op_destroy(void *v)
{
	ig_paper_destroy(v);
	free(v);
}

static const struct ig_venue_ops paper_ops = {
	.name = "paper",
	.wants_md = true,
	.submit = op_submit,
	.cancel = op_cancel,
	.market_data = op_md,
	.destroy = op_destroy,
};

/* Makes a paper venue with the config's fees, fill rules and latency.
 * Returns 0, IG_ENOMEM, or IG_ECONFIG (venue.latency_from unreadable). */
static int paper_create(const struct ig_config *cfg, void **venue, char *err, size_t errlen)
{
	struct ig_paper *p = malloc(sizeof(*p));
	struct ig_paper_params prm;
	int rc;

	*venue = NULL;
	rc = p != NULL ? ig_paper_init(p, cfg->venue.maker_fee_bps, cfg->venue.taker_fee_bps)
		       : IG_ENOMEM;
	if (rc != 0) {
		free(p);
		snprintf(err, errlen, "venue: out of memory");
		return rc;
	}
	ig_paper_params_of(cfg, &prm);
	ig_paper_configure(p, &prm);
	if (cfg->venue.latency_from[0] != '\0') {
		rc = ig_paper_load_latency(p, cfg->venue.latency_from, err, errlen);
		if (rc != 0) {
			ig_paper_destroy(p);
			free(p);
			return rc;
		}
	}
	*venue = p;
	return 0;
}

const struct ig_venue_type ig_paper_venue_type = {
	.name = "paper",
	.live = false,
	.create = paper_create,
	.ops = &paper_ops,
};
