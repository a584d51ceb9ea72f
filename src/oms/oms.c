/* oms.c - the OMS/risk stage handler (see oms.h). */
#include "oms/oms.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_DAY INT64_C(86400000000000)
#define CHILD_SEQ_BIT UINT32_C(0x80000000)

const char *ig_oms_ctl_status_name(enum ig_oms_ctl_status s)
{
	static const char *const n[] = {"pending", "ok",      "no_change", "not_found",
					"invalid", "expired", "refused",   "busy"};
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "unknown";
}

const char *ig_trading_state_name(enum ig_trading_state s)
{
	switch (s) {
	case IG_TS_ACTIVE:
		return "active";
	case IG_TS_REDUCING:
		return "reducing";
	case IG_TS_HALTED:
		return "halted";
	}
	return "unknown";
}

int ig_oms_init(struct ig_oms *oms, const struct ig_config *cfg, uint32_t strategy_threads)
{
	memset(oms, 0, sizeof(*oms));
	oms->cfg = cfg;
	oms->verdict_sid = IG_STRATEGY_NONE;
	oms->nstrategies = cfg->nstrategies;
	oms->feed_end_needed = 1 + strategy_threads;
	oms->s = calloc(cfg->nstrategies ? cfg->nstrategies : 1, sizeof(*oms->s));
	if (oms->s == NULL)
		return IG_ENOMEM;
	for (uint32_t i = 0; i < cfg->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		if (ig_order_mgr_init(&s->om) != 0) {
			for (uint32_t j = 0; j < i; j++)
				ig_order_mgr_destroy(&oms->s[j].om);
			free(oms->s);
			oms->s = NULL;
			return IG_ENOMEM;
		}
		s->capital = cfg->strategies[i].capital;
		s->cash = s->capital;
		s->equity = s->capital;
		s->equity_hwm = s->capital;
		s->day = INT64_MIN;
		s->thread = cfg->strategies[i].thread;
		ig_risk_effective(&cfg->risk, &cfg->strategies[i].risk, &s->lim);
		ig_bucket_init(&s->bucket, s->lim.max_orders_per_sec);
	}
	ig_bucket_init(&oms->global_bucket, cfg->risk.max_orders_per_sec);
	oms->reconciled = true; /* recovery closes it (ig_oms_after_replay) */
	oms->day_next_ns = INT64_MIN;
	/* From the config, so a replay judges balances as the live run did. */
	oms->halt_on_mismatch = cfg->journal.on_mismatch == IG_MISMATCH_HALT;
	oms->balance_tolerance = cfg->journal.balance_tolerance;
	/* The worst price a market buy can be sent at (risk.h); -1 (Luno's
	 * marketorder by counter volume, qty times the reference) adds none. */
	oms->market_buy_bps = cfg->venue.market_buy_ioc_bps > 0 ? cfg->venue.market_buy_ioc_bps : 0;
	return 0;
}

void ig_oms_destroy(struct ig_oms *oms)
{
	if (oms->s == NULL)
		return;
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		ig_order_mgr_destroy(&oms->s[i].om);
	free(oms->s);
	oms->s = NULL;
}

int64_t ig_oms_equity(const struct ig_oms *oms, uint32_t strategy)
{
	const struct ig_oms_strategy *s = &oms->s[strategy];
	int64_t eq = s->cash;
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
		if (s->pos[k].qty != 0) /* a flat position is worth exactly 0 */
			eq += ig_pos_value(&s->pos[k]);
	return eq;
}

int64_t ig_oms_cash(const struct ig_oms *oms, uint32_t strategy)
{
	return oms->s[strategy].cash;
}

int64_t ig_oms_books_ns(const struct ig_oms *oms)
{
	return oms->first_session_ns;
}

uint64_t ig_oms_fills(const struct ig_oms *oms, uint32_t strategy)
{
	return oms->s[strategy].fills;
}

int64_t ig_oms_position(const struct ig_oms *oms, uint32_t strategy, uint16_t k)
{
	return k < IG_MAX_INSTRUMENTS ? oms->s[strategy].pos[k].qty : 0;
}

int64_t ig_oms_capital(const struct ig_oms *oms, uint32_t strategy)
{
	return oms->s[strategy].capital;
}

/* Recounts the hook slots in use. */
static void count_hooks(struct ig_oms *oms)
{
	oms->nobservers = 0;
	oms->ntaps = 0;
	for (uint32_t i = 0; i < IG_OMS_HOOKS; i++) {
		oms->nobservers = (uint8_t)(oms->nobservers + (oms->observers[i].fn != NULL));
		oms->ntaps = (uint8_t)(oms->ntaps + (oms->taps[i].fn != NULL));
	}
}

void ig_oms_set_observer(struct ig_oms *oms, ig_oms_observer_fn fn, void *arg)
{
	oms->observers[0].fn = fn;
	oms->observers[0].arg = arg;
	count_hooks(oms);
}

void ig_oms_set_tap(struct ig_oms *oms, ig_oms_tap_fn fn, void *arg)
{
	oms->taps[0].fn = fn;
	oms->taps[0].arg = arg;
	count_hooks(oms);
}

int ig_oms_add_observer(struct ig_oms *oms, ig_oms_observer_fn fn, void *arg)
{
	for (uint32_t i = 1; i < IG_OMS_HOOKS; i++)
		if (oms->observers[i].fn == NULL) {
			oms->observers[i].fn = fn;
			oms->observers[i].arg = arg;
			count_hooks(oms);
			return 0;
		}
	return IG_ELIMIT;
}

int ig_oms_add_tap(struct ig_oms *oms, ig_oms_tap_fn fn, void *arg)
{
	for (uint32_t i = 1; i < IG_OMS_HOOKS; i++)
		if (oms->taps[i].fn == NULL) {
			oms->taps[i].fn = fn;
			oms->taps[i].arg = arg;
			count_hooks(oms);
			return 0;
		}
	return IG_ELIMIT;
}

/* Calls every tap / observer; nothing but a compare when none is set. */
static inline void call_taps(struct ig_oms *oms, const struct ig_event *ev,
			     const struct ig_order_rec *r)
{
	if (__builtin_expect(oms->ntaps == 0, 1))
		return;
	for (uint32_t i = 0; i < IG_OMS_HOOKS; i++)
		if (oms->taps[i].fn != NULL)
			oms->taps[i].fn(oms->taps[i].arg, oms, ev, r);
}

static inline void call_observers(struct ig_oms *oms, const struct ig_event *ev)
{
	if (__builtin_expect(oms->nobservers == 0, 1))
		return;
	for (uint32_t i = 0; i < IG_OMS_HOOKS; i++)
		if (oms->observers[i].fn != NULL)
			oms->observers[i].fn(oms->observers[i].arg, oms, ev);
}

void ig_oms_totals(const struct ig_oms *oms, uint32_t strategy, struct ig_oms_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		const struct ig_pos *p = &oms->s[strategy].pos[k];
		t->qty += p->qty;
		if (p->qty != 0)
			t->avg_px = p->avg_px;
		t->realized += p->realized_pnl;
		t->unrealized += ig_pos_unrealized(p);
		t->fees += p->fees;
		t->fees_base += p->fees_base;
	}
	t->cash = oms->s[strategy].cash;
	t->orders = oms->s[strategy].orders;
	t->fills = oms->s[strategy].fills;
	t->open_orders = oms->s[strategy].om.open;
}

void ig_oms_set_status_lines(struct ig_oms *oms, bool on)
{
	oms->status_lines = on;
}

void ig_oms_set_data_clock(struct ig_oms *oms, bool on)
{
	oms->data_clock = on;
}

void ig_oms_set_journal(struct ig_oms *oms, bool on)
{
	oms->journal = on;
}

void ig_oms_set_quiet_orders(struct ig_oms *oms, bool on)
{
	oms->quiet_orders = on;
}

/* The per-order log line (order, fill, denial, venue reject), unless the
 * run asked for none. */
static void log_order_event(const struct ig_oms *oms, const struct ig_event *ev)
{
	if (!oms->quiet_orders)
		ig_log_event(IG_LOG_INFO, ev);
}

bool ig_oms_status_lines(const struct ig_oms *oms)
{
	return oms->status_lines;
}

bool ig_oms_kill_switch_engaged(const struct ig_oms *oms)
{
	return oms->kill_switch;
}

uint32_t ig_oms_nstrategies(const struct ig_oms *oms)
{
	return oms->nstrategies;
}

static uint16_t sid_of(const struct ig_oms *oms, const struct ig_oms_strategy *s)
{
	return (uint16_t)(s - oms->s);
}

static void to_strategy(struct ig_oms *oms, struct ig_emit *out, uint16_t sid, struct ig_event *ev)
{
	ev->hdr.strategy_id = sid;
	ig_emit(out, IG_STAGE_STRATEGY, oms->s[sid].thread, ev);
}

/* Journal record of ev (oms.h): an input as it arrived (flag 0), or a
 * consequence (IG_EVF_J_DERIVED). Keeps the event's own source stage, so
 * a replay sees exactly what the handler saw. */
static void jrec(struct ig_oms *oms, struct ig_emit *out, const struct ig_event *ev, uint8_t flag)
{
	struct ig_event j;
	if (!oms->journal || out == NULL)
		return;
	j = *ev;
	j.hdr.flags = (uint8_t)(j.hdr.flags | flag);
	if (out->stamp)
		j.hdr.ts_emit_ns = ig_clock_mono_ns();
	out->fn(out, IG_STAGE_JOURNAL, 0, &j);
}

/* Everything for the executor: through the journal stage when journaling
 * (it forwards once the records before it are durable), else straight. */
static void to_exec(struct ig_oms *oms, struct ig_emit *out, struct ig_event *ev)
{
	if (oms->journal) {
		ev->hdr.flags = (uint8_t)(ev->hdr.flags | IG_EVF_J_OUTPUT);
		ig_emit(out, IG_STAGE_JOURNAL, 0, ev);
		return;
	}
	ig_emit(out, IG_STAGE_EXEC, 0, ev);
}

/* A trading-state change, journaled as a derived control record:
 * arg = state | prev << 8 | reason << 16 | kill_switch << 24. */
static void jstate(struct ig_oms *oms, uint16_t sid, uint8_t prev, uint8_t to, uint8_t why,
		   int64_t data_ns)
{
	struct ig_event ev;
	if (!oms->journal)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_OMS;
	ev.hdr.strategy_id = sid;
	ev.hdr.ts_event_ns = data_ns;
	ev.body.control.cmd = IG_CTL_TRADING_STATE;
	ev.body.control.arg = (int64_t)to | (int64_t)prev << 8 | (int64_t)why << 16 |
			      (int64_t)(oms->kill_switch ? 1 : 0) << 24;
	jrec(oms, oms->cur_out, &ev, IG_EVF_J_DERIVED);
}

/* The clock risk uses: data time inline, ingress time threaded (oms.h). */
static int64_t risk_now(const struct ig_oms *oms, const struct ig_event *ev)
{
	return oms->data_clock ? ev->hdr.ts_event_ns : ev->hdr.ts_origin_ns;
}

static void deny(struct ig_oms *oms, const struct ig_event *in, int reason, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_oms_strategy *s = &oms->s[in->hdr.strategy_id];

	ig_event_reply_init(&ev, in, IG_EV_REJECT);
	ev.body.reject.client_id = in->body.order.client_id;
	ev.body.reject.px = in->body.order.px;
	ev.body.reject.qty = in->body.order.qty;
	ev.body.reject.side = in->body.order.side;
	ev.body.reject.reason = (uint16_t)reason;
	ev.body.reject.by_venue = 0;
	s->rejects[reason]++;
	log_order_event(oms, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
	call_taps(oms, &ev, NULL);
}

static void send_update(struct ig_oms *oms, const struct ig_event *cause, uint16_t sid,
			struct ig_order_rec *r, uint8_t prev, uint8_t reason, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_order_update *u = &ev.body.update;

	ig_event_reply_init(&ev, cause, IG_EV_ORDER_UPDATE);
	ev.hdr.instrument_id = r->instrument_id;
	/* An adopted or recovered order: the strategy adds it to its mirror. */
	ev.hdr.flags = (uint8_t)(cause->hdr.flags & IG_EVF_ADOPT);
	u->client_id = r->client_id;
	u->venue_order_id = r->venue_order_id;
	u->filled_qty = r->filled_qty;
	u->leaves_qty = ig_order_terminal((enum ig_ord_state)r->state) ? 0 : r->qty - r->filled_qty;
	if (r->filled_qty > 0)
		ig_fixed_div(r->fill_notional, r->filled_qty, &u->avg_px);
	u->px = r->px;
	u->state = r->state;
	u->prev_state = prev;
	u->side = r->side;
	u->reason = reason;
	/* A state change (not the announcement of a recovered order after a
	 * replay, which restates it): the history store's event seq. */
	if (!((cause->hdr.flags & IG_EVF_ADOPT) && prev == r->state))
		r->updates++;
	to_strategy(oms, out, sid, &ev);
	jrec(oms, out, &ev, IG_EVF_J_DERIVED);
	call_taps(oms, &ev, r);
}

/* Releases what an order still holds in the open-order totals. */
static void release_open(struct ig_oms_strategy *s, struct ig_order_rec *r)
{
	int64_t leaves = r->qty - r->filled_qty;
	if (r->side == IG_SIDE_BUY) {
		s->open_buy_qty[r->instrument_id] -= leaves;
		s->open_buy_notional -= r->reserved;
		r->reserved = 0;
	} else {
		s->open_sell_qty[r->instrument_id] -= leaves;
	}
}

/* The fee a buy may pay, in bps: it may fill as maker or as taker, so
 * the larger of the two (a rebate, below 0, is never counted on). */
static int64_t buy_fee_bps(const struct ig_oms *oms)
{
	int64_t m = oms->cfg->venue.maker_fee_bps, t = oms->cfg->venue.taker_fee_bps;
	int64_t bps = m > t ? m : t;
	return bps > 0 ? bps : 0;
}

/* Cash a buy of qty at px holds while open: notional plus the larger fee
 * (at least venue.min_fee) plus venue.fee_per_order, the most it can cost
 * (ig_risk_buy_cost, as the risk check counts it). */
static int64_t reserve_for(const struct ig_oms *oms, int64_t px, int64_t qty)
{
	int64_t notional = 0, cost;
	if (qty <= 0)
		return 0; /* filled: nothing left to pay for */
	/* Saturates: the risk check refuses such an order before it holds. */
	if (ig_fixed_mul(px, qty, &notional) != 0 ||
	    ig_risk_buy_cost(notional, buy_fee_bps(oms), oms->cfg->venue.min_fee,
			     oms->cfg->venue.fee_per_order, &cost) != 0)
		return INT64_MAX;
	return cost;
}

/* Counts an order that goes on the books in the open-order totals: its
 * leaves, and for a buy the cash they may cost at its ref_px (the inverse
 * of release_open). */
static void hold_open(const struct ig_oms *oms, struct ig_oms_strategy *s, struct ig_order_rec *r)
{
	int64_t leaves = r->qty - r->filled_qty;
	if (r->side == IG_SIDE_BUY) {
		r->reserved = reserve_for(oms, r->ref_px, leaves);
		s->open_buy_qty[r->instrument_id] += leaves;
		s->open_buy_notional += r->reserved;
	} else {
		s->open_sell_qty[r->instrument_id] += leaves;
	}
}

static void list_remove(uint32_t *list, uint32_t *n, uint32_t idx1)
{
	for (uint32_t i = 0; i < *n; i++) {
		if (list[i] == idx1) {
			list[i] = list[--*n];
			return;
		}
	}
}

static uint32_t idx1_of(const struct ig_oms_strategy *s, const struct ig_order_rec *r)
{
	return (uint32_t)(r - s->om.pool) + 1;
}

static void on_terminal(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			struct ig_order_rec *r, struct ig_emit *out);
static void cancel_order(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, struct ig_emit *out);
static bool is_conditional(uint8_t type);
static void risk_view(const struct ig_oms *oms, const struct ig_oms_strategy *s, uint16_t k,
		      const struct ig_order_rec *skip, struct ig_risk_view *v);
static struct ig_order risk_order(const struct ig_order *o);
static void arm(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		struct ig_order_rec *r, struct ig_emit *out);
static int state_check_rec(const struct ig_oms *oms, const struct ig_oms_strategy *s,
			   const struct ig_order_rec *r);
static void day_roll(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		     struct ig_emit *out);
static int release_check(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, uint8_t type);
static void deny_release(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, int reason, struct ig_emit *out);
static void day_roll_all(struct ig_oms *oms, const struct ig_event *cause, struct ig_emit *out);

/* Moves r to `to` through the transition table, mirrors it to the
 * strategy, and retires it if terminal. Returns 0 or IG_ESTATE. */
static int move(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		struct ig_order_rec *r, enum ig_ord_state to, uint8_t reason, struct ig_emit *out)
{
	uint8_t prev = r->state;
	if (ig_order_transition(&s->om, r, to) != 0) {
		ig_log_warn("illegal transition %s -> %s refused for order %016llx",
			    ig_ord_state_name((enum ig_ord_state)prev), ig_ord_state_name(to),
			    (unsigned long long)r->client_id);
		return IG_ESTATE;
	}
	if (ig_order_terminal(to) && to != IG_OS_FILLED)
		release_open(s, r);
	send_update(oms, cause, sid_of(oms, s), r, prev, reason, out);
	if (ig_order_terminal(to)) {
		if (r->armed)
			list_remove(s->armed, &s->narmed, idx1_of(s, r));
		if (r->held)
			list_remove(s->held, &s->nheld, idx1_of(s, r));
		on_terminal(oms, s, cause, r, out);
		ig_order_retire(&s->om, r);
	}
	return 0;
}

/* The px an order goes to the venue with: its limit; for a market buy the
 * worst price it was checked and reserved at (ref_px), which the venue
 * must not pay more than (the paper venue caps its fills there, Luno's
 * IOC bid uses it as its price); none for a market sell. */
static int64_t venue_px(const struct ig_order_rec *r)
{
	if (r->type != IG_ORD_MARKET)
		return r->px;
	return r->side == IG_SIDE_BUY ? r->ref_px : 0;
}

/* Sends an accepted order to the executor. */
static void release(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		    struct ig_order_rec *r, struct ig_emit *out)
{
	struct ig_event ev;
	ig_event_reply_init(&ev, cause, IG_EV_ORDER);
	ev.hdr.strategy_id = sid_of(oms, s);
	ev.hdr.instrument_id = r->instrument_id;
	ev.body.order.client_id = r->client_id;
	ev.body.order.px = venue_px(r);
	ev.body.order.qty = r->qty - r->filled_qty;
	ev.body.order.side = r->side;
	ev.body.order.type = r->type;
	ev.body.order.tif = r->tif;
	ev.body.order.flags = r->flags;
	if (is_conditional(r->orig_type)) {
		/* A triggered stop carries its level, so a venue that fills
		 * on bars fills it at the trigger (paper.h); a take-profit
		 * says so (its level is reached from the other side). */
		ev.body.order.stop_px = r->stop_px;
		ev.hdr.flags = (uint8_t)(ev.hdr.flags | IG_EVF_RELEASED);
		if (r->orig_type == IG_ORD_TAKE_PROFIT)
			ev.hdr.flags = (uint8_t)(ev.hdr.flags | IG_EVF_TAKE_PROFIT);
	}
	s->orders++;
	log_order_event(oms, &ev);
	to_exec(oms, out, &ev);
}

/* A replacement waits for its predecessor: released when that is
 * cancelled (after the same checks a new order gets, against the book as it
 * is now: release_check, denied if it fails), cancelled itself if the
 * predecessor ended any other way. */
static void on_terminal(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			struct ig_order_rec *r, struct ig_emit *out)
{
	uint32_t waiting[IG_OMS_MAX_CONDITIONAL], n = 0;

	/* Collect first: releasing or cancelling edits s->held. */
	for (uint32_t i = 0; i < s->nheld; i++)
		if (s->om.pool[s->held[i] - 1].replaces == r->client_id)
			waiting[n++] = s->held[i];
	for (uint32_t w = 0; w < n; w++) {
		struct ig_order_rec *h = &s->om.pool[waiting[w] - 1];
		int reason = IG_RJ_UNKNOWN_ORDER;
		list_remove(s->held, &s->nheld, waiting[w]);
		h->held = false;
		/* Cancelled, or expired (a DAY order whose day ended while its
		 * cancel was on the way ends EXPIRED, unfilled like a cancel). */
		if (r->state == IG_OS_CANCELED || r->state == IG_OS_EXPIRED) {
			reason = release_check(oms, s, cause, h, h->orig_type);
			if (reason == IG_RJ_NONE) {
				/* It goes out with the data time of its own
				 * decision (the replace request), not the
				 * confirmation's, which may carry the old
				 * order's: a venue delays it from there. */
				struct ig_event decided = *cause;
				decided.hdr.ts_event_ns = h->ts_event_ns;
				if (is_conditional(h->orig_type))
					arm(oms, s, cause, h, out);
				else
					release(oms, s, &decided, h, out);
			} else {
				deny_release(oms, s, cause, h, reason, out);
			}
			continue;
		}
		/* The old order filled or was rejected before the cancel: the
		 * replacement must not go. */
		ig_order_transition(&s->om, h, IG_OS_ACCEPTED);
		move(oms, s, cause, h, IG_OS_CANCELED, (uint8_t)reason, out);
	}
}

/* True if an order of side/qty only reduces the position (counting the
 * other open orders that already reduce it). */
static bool reduces(const struct ig_oms_strategy *s, uint16_t k, uint8_t side, int64_t qty,
		    int64_t own_open)
{
	/* own_open: the order's own share of the open totals (0 for a new
	 * intent, its leaves for an order already on the books). */
	int64_t pos = s->pos[k].qty;
	if (side == IG_SIDE_SELL)
		return pos > 0 && qty <= pos - (s->open_sell_qty[k] - own_open);
	return pos < 0 && qty <= -pos - (s->open_buy_qty[k] - own_open);
}

static bool is_conditional(uint8_t type)
{
	return type == IG_ORD_STOP_MARKET || type == IG_ORD_STOP_LIMIT ||
	       type == IG_ORD_TAKE_PROFIT || type == IG_ORD_TRAILING_STOP;
}

static bool duplicate(struct ig_oms_strategy *s, const struct ig_event *in, int64_t now)
{
	const struct ig_order *o = &in->body.order;
	if (s->lim.duplicate_window_ms == IG_RISK_UNSET)
		return false;
	for (uint32_t i = 0; i < IG_OMS_RECENT && i < s->recent_n; i++) {
		const struct ig_recent_intent *ri = &s->recent[i];
		if (ri->side == o->side && ri->px == o->px && ri->qty == o->qty &&
		    ri->type == o->type && ri->stop_px == o->stop_px && ri->trail == o->trail &&
		    ri->instrument_id == in->hdr.instrument_id &&
		    now - ri->ts_ns <= s->lim.duplicate_window_ms * 1000000)
			return true;
	}
	return false;
}

static void remember(struct ig_oms_strategy *s, const struct ig_event *in, int64_t now)
{
	struct ig_recent_intent *ri = &s->recent[s->recent_n++ % IG_OMS_RECENT];
	ri->ts_ns = now;
	ri->px = in->body.order.px;
	ri->qty = in->body.order.qty;
	ri->side = in->body.order.side;
	ri->type = in->body.order.type;
	ri->stop_px = in->body.order.stop_px;
	ri->trail = in->body.order.trail;
	ri->instrument_id = in->hdr.instrument_id;
}

/* The risk check's view of strategy s on instrument k, leaving out the
 * open quantity and reserve of `skip` (an order being replaced or
 * re-checked), if given. */
static void risk_view(const struct ig_oms *oms, const struct ig_oms_strategy *s, uint16_t k,
		      const struct ig_order_rec *skip, struct ig_risk_view *v)
{
	v->position_qty = s->pos[k].qty;
	v->open_buy_qty = s->open_buy_qty[k];
	v->open_sell_qty = s->open_sell_qty[k];
	v->open_buy_notional = s->open_buy_notional;
	v->cash = s->cash;
	v->open_orders = s->om.open;
	v->mark_px = oms->marks[k].px;
	v->ask_px = oms->marks[k].ask_px;
	v->market_buy_bps = oms->market_buy_bps;
	v->buy_min_fee = oms->cfg->venue.min_fee;
	v->buy_fee_per_order = oms->cfg->venue.fee_per_order;
	/* Staleness needs a clock both sides share. Inline (backtests) that is
	 * data time. Threaded, the OMS may lag the strategy by many rows of a
	 * fast replay, so data time would flag lag, not a dead feed: there it
	 * is the monotonic ingress time of the mark and of the intent's tick. */
	v->mark_ts_ns = oms->data_clock ? oms->marks[k].ts_event_ns : oms->marks[k].ts_origin_ns;
	if (skip != NULL) {
		int64_t leaves = skip->qty - skip->filled_qty;
		if (skip->side == IG_SIDE_BUY) {
			v->open_buy_qty -= leaves;
			v->open_buy_notional -= skip->reserved;
		} else {
			v->open_sell_qty -= leaves;
		}
		if (!ig_order_terminal((enum ig_ord_state)skip->state))
			v->open_orders--;
	}
}

/* The order a conditional intent is valued as: its trigger price. */
static struct ig_order risk_order(const struct ig_order *o)
{
	struct ig_order chk = *o;
	if (o->type == IG_ORD_STOP_MARKET || o->type == IG_ORD_TAKE_PROFIT) {
		chk.type = IG_ORD_LIMIT;
		chk.px = o->stop_px;
	}
	return chk;
}

/* Arms a conditional order (ACCEPTED, held by the OMS until triggered).
 * Past IG_OMS_MAX_CONDITIONAL it is rejected instead. */
static void arm(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		struct ig_order_rec *r, struct ig_emit *out)
{
	if (s->narmed == IG_OMS_MAX_CONDITIONAL) {
		s->rejects[IG_RJ_MAX_OPEN_ORDERS]++;
		move(oms, s, cause, r, IG_OS_REJECTED, IG_RJ_MAX_OPEN_ORDERS, out);
		return;
	}
	r->armed = true;
	s->armed[s->narmed++] = idx1_of(s, r);
	move(oms, s, cause, r, IG_OS_ACCEPTED, 0, out);
}

/* The checks that depend on trading state rather than on numbers, for an
 * order that does (red) or does not only reduce the position. Returns
 * IG_RJ_NONE or the reason. */
static int state_gate(const struct ig_oms *oms, const struct ig_oms_strategy *s, bool red,
		      uint8_t flags)
{
	if (oms->trading_state == IG_TS_HALTED || s->trading_state == IG_TS_HALTED)
		return IG_RJ_HALTED;
	if (oms->kill_switch && !red)
		return IG_RJ_KILL_SWITCH;
	if ((oms->trading_state == IG_TS_REDUCING || s->trading_state == IG_TS_REDUCING) && !red)
		return s->breach_reason != IG_RJ_NONE ? s->breach_reason : IG_RJ_REDUCE_ONLY;
	if ((flags & IG_ORDF_REDUCE_ONLY) && !red)
		return IG_RJ_REDUCE_ONLY;
	return IG_RJ_NONE;
}

/* The gate for an order already on the books (a triggered conditional, a
 * released replacement): its own open quantity does not count. */
static int state_check_rec(const struct ig_oms *oms, const struct ig_oms_strategy *s,
			   const struct ig_order_rec *r)
{
	int64_t leaves = r->qty - r->filled_qty;
	return state_gate(oms, s, reduces(s, r->instrument_id, r->side, leaves, leaves), r->flags);
}

/* The gate for a new intent. */
static int state_check(const struct ig_oms *oms, const struct ig_oms_strategy *s,
		       const struct ig_event *in)
{
	const struct ig_order *o = &in->body.order;
	if (oms->feed_end_needed > 0 && oms->feed_end_seen >= oms->feed_end_needed)
		/* Stopping: the token (behind the cancel sweep) has gone to the
		 * executor; an order now would reach the venue after the sweep
		 * and stay working once the process exits. */
		return IG_RJ_HALTED;
	if (!oms->reconciled)
		return IG_RJ_NOT_RECONCILED; /* fail closed until the venue agrees */
	if (s->paused)
		return IG_RJ_PAUSED; /* an operator paused it: no new orders, cancels pass */
	return state_gate(oms, s, reduces(s, in->hdr.instrument_id, o->side, o->qty, 0), o->flags);
}

/* The price a market order of side on instrument k is valued and
 * reserved at when it goes out now: the mark for a sell, the worst price
 * it can be sent at for a buy. A px the strategy put on a market order
 * plays no part. */
static int64_t market_px(const struct ig_oms *oms, uint16_t k, uint8_t side)
{
	if (side != IG_SIDE_BUY)
		return oms->marks[k].px;
	return ig_risk_market_buy_px(oms->marks[k].ask_px, oms->marks[k].px, oms->market_buy_bps);
}

/* The checks an order the OMS holds gets when it is released to the venue
 * (a triggered conditional order, sent as `type`; a held replacement, as
 * its own type): the trading-state gate, then every limit a new intent
 * meets (ig_risk_check), against the book as it is now without the
 * order's own open quantity and reserve, at the price it will trade at:
 * its limit, the market now for a market order (market_px), its trigger
 * for a conditional one that is armed again. Not the rate limit (the order
 * took its token when it was placed) nor the duplicate window. Reduce-only
 * orders (attached stop-losses included) get the same check. On success a
 * buy's reserve is moved to that price. Returns IG_RJ_NONE or the reason. */
static int release_check(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, uint8_t type)
{
	struct ig_risk_view v;
	struct ig_order o;
	int64_t leaves = r->qty - r->filled_qty, ref;
	int reason = state_check_rec(oms, s, r);

	if (reason != IG_RJ_NONE)
		return reason;
	memset(&o, 0, sizeof(o));
	o.side = r->side;
	o.type = type;
	o.px = r->px;
	o.qty = leaves;
	o.stop_px = r->stop_px;
	o.trail = r->trail;
	o.flags = r->flags;
	o = risk_order(&o);
	risk_view(oms, s, r->instrument_id, r, &v);
	reason = ig_risk_check(&s->lim, &o, risk_now(oms, cause), &v, buy_fee_bps(oms));
	if (reason != IG_RJ_NONE)
		return reason;
	ref = o.type == IG_ORD_LIMIT || o.type == IG_ORD_STOP_LIMIT ? o.px
								    : market_px(oms, r->instrument_id, r->side);
	if (r->side == IG_SIDE_BUY && ref > 0) {
		int64_t res = reserve_for(oms, ref, leaves);
		s->open_buy_notional += res - r->reserved;
		r->reserved = res;
		r->ref_px = ref;
	}
	return IG_RJ_NONE;
}

/* An order the OMS held fails release_check: it never reaches the
 * executor. The strategy hears a reject with the reason (as for a denied
 * intent), the denial is counted and logged, and the order ends DENIED. */
static void deny_release(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, int reason, struct ig_emit *out)
{
	struct ig_event ev;
	uint16_t sid = sid_of(oms, s);

	ig_event_reply_init(&ev, cause, IG_EV_REJECT);
	ev.hdr.strategy_id = sid;
	ev.hdr.instrument_id = r->instrument_id;
	ev.body.reject.client_id = r->client_id;
	ev.body.reject.px = r->px;
	ev.body.reject.qty = r->qty - r->filled_qty;
	ev.body.reject.side = r->side;
	ev.body.reject.reason = (uint16_t)reason;
	ev.body.reject.by_venue = 0;
	s->rejects[reason]++;
	log_order_event(oms, &ev);
	to_strategy(oms, out, sid, &ev);
	call_taps(oms, &ev, r);
	if (r->state == IG_OS_SUBMITTED)
		ig_order_transition(&s->om, r, IG_OS_ACCEPTED); /* held: never acked */
	move(oms, s, cause, r, IG_OS_DENIED, (uint8_t)reason, out);
}

static void on_order(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	const struct ig_order *o = &in->body.order;
	uint16_t in_id = in->hdr.instrument_id;
	struct ig_risk_view v;
	struct ig_order_rec *r, *old = NULL;
	struct ig_order chk;
	int64_t now;
	int reason;

	if (in->hdr.strategy_id >= oms->nstrategies || in_id >= IG_MAX_INSTRUMENTS)
		return;
	/* The intent's data time may be the first of a new day (its tick
	 * reached the strategy before the OMS saw a mark of that day): roll
	 * first, so yesterday's DAY orders end and this one is today's. */
	day_roll_all(oms, in, out);
	s = &oms->s[in->hdr.strategy_id];
	now = risk_now(oms, in);
	reason = state_check(oms, s, in);
	if (reason == IG_RJ_NONE && o->replaces != 0) {
		old = ig_order_find(&s->om, o->replaces);
		if (old != NULL && old->cancel_requested) {
			/* Already being replaced: this one replaces that
			 * replacement (and so waits for the same cancel). A
			 * plain cancel in flight leaves nothing to replace. */
			struct ig_order_rec *h = NULL;
			for (uint32_t i = 0; i < s->nheld && h == NULL; i++)
				if (s->om.pool[s->held[i] - 1].replaces == old->client_id)
					h = &s->om.pool[s->held[i] - 1];
			old = h;
		}
		if (old == NULL)
			reason = IG_RJ_UNKNOWN_ORDER;
	}
	if (reason == IG_RJ_NONE && is_conditional(o->type) &&
	    ((o->type != IG_ORD_TRAILING_STOP && o->stop_px <= 0) ||
	     (o->type == IG_ORD_TRAILING_STOP && o->trail <= 0)))
		reason = IG_RJ_INVALID;
	/* A plain market or limit order has no trigger: a stop_px on one is
	 * malformed (it would pose as a released stop, and be valued at a
	 * level the strategy chose). Refused here, for intents from any
	 * source. */
	if (reason == IG_RJ_NONE && !is_conditional(o->type) && o->stop_px != 0)
		reason = IG_RJ_INVALID;
	if (reason == IG_RJ_NONE && duplicate(s, in, now))
		reason = IG_RJ_DUPLICATE;
	if (reason == IG_RJ_NONE) {
		/* A replacement is checked without the order it replaces;
		 * conditional orders are valued at their trigger. */
		risk_view(oms, s, in_id, old, &v);
		chk = risk_order(o);
		reason = ig_risk_check(&s->lim, &chk, now, &v, buy_fee_bps(oms));
	}
	if (reason == IG_RJ_NONE && !ig_bucket_take(&s->bucket, in->hdr.ts_event_ns))
		reason = IG_RJ_RATE_LIMIT;
	if (reason == IG_RJ_NONE && !ig_bucket_take(&oms->global_bucket, in->hdr.ts_event_ns))
		reason = IG_RJ_RATE_LIMIT;
	if (reason != IG_RJ_NONE) {
		deny(oms, in, reason, out);
		return;
	}
	r = ig_order_new(&s->om, o, in_id);
	if (r == NULL) {
		deny(oms, in, IG_RJ_MAX_OPEN_ORDERS, out);
		return;
	}
	remember(s, in, now);
	r->ts_event_ns = in->hdr.ts_event_ns;
	r->orig_type = o->type;
	r->stop_px = o->stop_px;
	r->trail = o->trail;
	r->sl_px = o->sl_px;
	r->replaces = o->replaces;
	r->trail_ref_px = oms->marks[in_id].px;
	r->ref_px = o->type == IG_ORD_LIMIT || o->type == IG_ORD_STOP_LIMIT ? o->px
		    : is_conditional(o->type) && o->stop_px > 0 ? o->stop_px
								 : market_px(oms, in_id, o->side);
	hold_open(oms, s, r);
	ig_order_transition(&s->om, r, IG_OS_SUBMITTED);
	if (!is_conditional(o->type) && old == NULL) {
		/* The common path: the intent goes to the executor first (it is
		 * the latency-critical hop), then the strategy's mirror. */
		struct ig_event fwd = *in;
		/* Only the OMS sets engine-owned header bits (a released stop,
		 * the journal's): never taken from an intent. */
		fwd.hdr.flags = (uint8_t)(fwd.hdr.flags & ~IG_EVF_ENGINE_MASK);
		fwd.body.order.px = venue_px(r);
		s->orders++;
		log_order_event(oms, &fwd);
		to_exec(oms, out, &fwd);
		send_update(oms, in, in->hdr.strategy_id, r, IG_OS_INITIALIZED, 0, out);
		return;
	}
	send_update(oms, in, in->hdr.strategy_id, r, IG_OS_INITIALIZED, 0, out);
	if (old == NULL) {
		arm(oms, s, in, r, out); /* conditional: held until triggered */
		return;
	}
	/* Cancel-replace: hold the new order until the old one's cancel is
	 * confirmed (on_terminal releases it, or cancels it if the old order
	 * filled first). An OMS-held old order is cancelled at once. If the
	 * old order is itself a held replacement, the new one takes its place
	 * in the chain and waits for the order at the venue. */
	if (s->nheld == IG_OMS_MAX_CONDITIONAL) {
		ig_order_transition(&s->om, r, IG_OS_ACCEPTED);
		move(oms, s, in, r, IG_OS_CANCELED, IG_RJ_MAX_OPEN_ORDERS, out);
		return;
	}
	r->held = true;
	s->held[s->nheld++] = idx1_of(s, r);
	if (old->held)
		r->replaces = old->replaces;
	cancel_order(oms, s, in, old, out);
}

/* True if a cancel of r went to the venue (PENDING_CANCEL, or partly
 * filled since) and r is not finished: the venue has not confirmed it. */
static bool cancel_sent(const struct ig_order_rec *r)
{
	return !ig_order_terminal((enum ig_ord_state)r->state) &&
	       (r->cancel_requested || r->state == IG_OS_PENDING_CANCEL);
}

/* Cancels r: locally if the OMS holds it, else through the venue. An
 * order whose cancel is already at the venue (PENDING_CANCEL, or partly
 * filled since) gets the cancel sent again, with no new transition: the
 * venue may have failed to get it through, and only the venue's word ends
 * the order. (The re-sent cancel is an output of this input, so a replay
 * regenerates it.) */
static void cancel_order(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			 struct ig_order_rec *r, struct ig_emit *out)
{
	struct ig_event fwd;
	bool again;

	if (ig_order_terminal((enum ig_ord_state)r->state))
		return;
	again = cancel_sent(r);
	if (again && (r->armed || r->held))
		return; /* held here: already cancelled locally */
	if (!again)
		s->cancels++;
	if (r->armed || r->held) {
		if (r->state == IG_OS_SUBMITTED)
			ig_order_transition(&s->om, r, IG_OS_ACCEPTED);
		if (move(oms, s, cause, r, IG_OS_PENDING_CANCEL, 0, out) == 0)
			move(oms, s, cause, r, IG_OS_CANCELED, 0, out);
		return;
	}
	ig_event_reply_init(&fwd, cause, IG_EV_CANCEL);
	fwd.hdr.strategy_id = sid_of(oms, s);
	fwd.hdr.instrument_id = r->instrument_id;
	fwd.body.cancel.client_id = r->client_id;
	r->cancel_requested = true;
	if (!again)
		move(oms, s, cause, r, IG_OS_PENDING_CANCEL, 0, out);
	to_exec(oms, out, &fwd);
}

/* A new UTC data day: time-in-force DAY orders end. Held and armed ones
 * expire here; those at the venue are cancelled there and end EXPIRED
 * when the venue confirms. */
static void expire_day_orders(struct ig_oms *oms, struct ig_oms_strategy *s,
			      const struct ig_event *cause, struct ig_emit *out)
{
	for (uint32_t p = 0; p < IG_OM_CAPACITY; p++) {
		struct ig_order_rec *r = &s->om.pool[p];
		struct ig_event c;
		if (r->client_id == 0 || r->tif != IG_TIF_DAY ||
		    ig_order_terminal((enum ig_ord_state)r->state) || r->expiring)
			continue;
		c = *cause;
		c.hdr.strategy_id = sid_of(oms, s);
		c.hdr.instrument_id = r->instrument_id;
		r->expiring = true;
		if (r->armed || r->held) {
			if (r->state == IG_OS_SUBMITTED)
				ig_order_transition(&s->om, r, IG_OS_ACCEPTED);
			move(oms, s, &c, r, IG_OS_EXPIRED, 0, out);
			continue;
		}
		cancel_order(oms, s, &c, r, out);
	}
}

static void on_cancel(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;

	if (in->hdr.strategy_id >= oms->nstrategies)
		return;
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, in->body.cancel.client_id);
	if (r == NULL) {
		struct ig_event ev;
		ig_event_reply_init(&ev, in, IG_EV_REJECT);
		ev.body.reject.client_id = in->body.cancel.client_id;
		ev.body.reject.reason = IG_RJ_UNKNOWN_ORDER;
		s->rejects[IG_RJ_UNKNOWN_ORDER]++;
		to_strategy(oms, out, in->hdr.strategy_id, &ev);
		return;
	}
	cancel_order(oms, s, in, r, out);
}

static void send_position(struct ig_oms *oms, const struct ig_event *cause,
			  struct ig_oms_strategy *s, uint16_t in_id, struct ig_emit *out)
{
	struct ig_event ev;
	struct ig_position *p = &ev.body.position;

	ig_event_reply_init(&ev, cause, IG_EV_POSITION);
	ev.hdr.instrument_id = in_id;
	p->qty = s->pos[in_id].qty;
	p->avg_px = s->pos[in_id].avg_px;
	p->realized_pnl = s->pos[in_id].realized_pnl;
	p->fees = s->pos[in_id].fees;
	p->cash = s->cash;
	p->open_buy_qty = s->open_buy_qty[in_id];
	p->open_sell_qty = s->open_sell_qty[in_id];
	p->trading_state = (uint8_t)(oms->trading_state > s->trading_state ? oms->trading_state
									   : s->trading_state);
	to_strategy(oms, out, sid_of(oms, s), &ev);
}

static int64_t net_realized(const struct ig_oms_strategy *s)
{
	int64_t n = 0;
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
		n += s->pos[k].realized_pnl - s->pos[k].fees;
	return n;
}

static void breach(struct ig_oms *oms, struct ig_oms_strategy *s, enum ig_trading_state to,
		   enum ig_reject_reason why)
{
	if (to <= s->trading_state)
		return;
	jstate(oms, sid_of(oms, s), s->trading_state, (uint8_t)to, (uint8_t)why, 0);
	s->trading_state = (uint8_t)to;
	s->breach_reason = (uint8_t)why;
	ig_log_warn("strategy %s: %s breached, trading state now %s",
		    oms->cfg->strategies[sid_of(oms, s)].name, ig_reject_reason_name(why),
		    ig_trading_state_name(to));
}

/* Opens a new daily-loss window when data time enters a new UTC day. Only
 * through day_roll(). Returns true if a day ended (not at the first sight
 * of data time). */
static bool roll_day(struct ig_oms *oms, struct ig_oms_strategy *s, int64_t data_ns)
{
	int64_t day = data_ns / NS_PER_DAY;
	bool first = s->day == INT64_MIN;
	/* No data time (0: a report that carries none) says nothing about
	 * the day. Forward only: a late report stamped with yesterday's
	 * data time must not reopen yesterday's window. */
	if (data_ns <= 0 || (!first && day <= s->day))
		return false;
	s->day = day;
	s->day_start_net_pnl = net_realized(s);
	/* A daily loss limit is a daily one: a new day restores trading. A
	 * drawdown breach or a halt stays until cleared by hand. */
	if (s->trading_state == IG_TS_REDUCING && s->breach_reason == IG_RJ_DAILY_LOSS) {
		jstate(oms, sid_of(oms, s), s->trading_state, IG_TS_ACTIVE, IG_RJ_DAILY_LOSS, data_ns);
		s->trading_state = IG_TS_ACTIVE;
		s->breach_reason = IG_RJ_NONE;
		ig_log_info("daily loss window reset: trading state back to active");
	}
	return !first;
}

/* The one day roll: when cause's data time enters a new UTC day for
 * strategy s, opens its new daily-loss window and ends its DAY orders.
 * Called from every input whose data time can show a new day first: marks,
 * intents and fills (before the fill's PnL is applied, so the window's
 * baseline never includes that day's own fills). Not from timers: they are
 * not journaled, so a replay could not roll where they did. */
static void day_roll(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
		     struct ig_emit *out)
{
	if (roll_day(oms, s, cause->hdr.ts_event_ns))
		expire_day_orders(oms, s, cause, out);
}

/* day_roll() for every strategy: a day ends for all at once. */
static void day_roll_all(struct ig_oms *oms, const struct ig_event *cause, struct ig_emit *out)
{
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		day_roll(oms, &oms->s[i], cause, out);
}

/* Re-values the strategy and applies the loss and drawdown limits (the
 * caller has rolled the day first: day_roll). */
static void revalue(struct ig_oms *oms, struct ig_oms_strategy *s)
{
	int64_t net = net_realized(s);

	s->equity = ig_oms_equity(oms, sid_of(oms, s));
	if (s->equity > s->equity_hwm)
		s->equity_hwm = s->equity;
	s->drawdown_pct = 0;
	if (s->equity_hwm > 0 && s->equity < s->equity_hwm)
	{
		/* (hwm - equity) / hwm in percent at 1e-8, rounded by the
		 * engine's rule: divide at 16 decimals, then round 8 away. */
		ig_i128 q = (ig_i128)(s->equity_hwm - s->equity) * IG_FIXED(100) * IG_FIXED_SCALE /
			    s->equity_hwm;
		ig_fixed_round_wide(q, IG_FIXED_DECIMALS, &s->drawdown_pct);
	}
	if (s->drawdown_pct > s->max_drawdown_seen_pct)
		s->max_drawdown_seen_pct = s->drawdown_pct;
	if (s->lim.max_drawdown_pct != IG_RISK_UNSET && s->drawdown_pct > s->lim.max_drawdown_pct)
		breach(oms, s, s->lim.drawdown_action == IG_BREACH_HALTED ? IG_TS_HALTED : IG_TS_REDUCING,
		       IG_RJ_DRAWDOWN);
	if (s->lim.daily_loss_limit != IG_RISK_UNSET && s->day_start_net_pnl - net > s->lim.daily_loss_limit)
		breach(oms, s, IG_TS_REDUCING, IG_RJ_DAILY_LOSS);
	s->tax = 0;
	if (s->lim.tax_rate_pct != IG_RISK_UNSET && net > 0)
		ig_fixed_round_wide((ig_i128)net * s->lim.tax_rate_pct, IG_FIXED_DECIMALS + 2, &s->tax);
}

/* After a fill of an entry with a stop-loss: arm a reduce-only stop-market
 * child for the filled quantity. */
static void attach_stop_loss(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *cause,
			     const struct ig_order_rec *parent, int64_t qty, struct ig_emit *out)
{
	struct ig_order o;
	struct ig_order_rec *c;

	if (s->narmed == IG_OMS_MAX_CONDITIONAL)
		return;
	memset(&o, 0, sizeof(o));
	o.client_id = (parent->client_id & ~UINT64_C(0xFFFFFFFF)) | CHILD_SEQ_BIT | ++s->child_seq;
	o.side = parent->side == IG_SIDE_BUY ? IG_SIDE_SELL : IG_SIDE_BUY;
	o.type = IG_ORD_STOP_MARKET;
	o.qty = qty;
	o.stop_px = parent->sl_px;
	o.flags = IG_ORDF_REDUCE_ONLY;
	c = ig_order_new(&s->om, &o, parent->instrument_id);
	if (c == NULL)
		return;
	c->orig_type = IG_ORD_STOP_MARKET;
	c->stop_px = o.stop_px;
	c->parent_id = parent->client_id;
	c->ref_px = o.stop_px;
	hold_open(oms, s, c);
	ig_order_transition(&s->om, c, IG_OS_SUBMITTED);
	send_update(oms, cause, sid_of(oms, s), c, IG_OS_INITIALIZED, 0, out);
	c->armed = true;
	s->armed[s->narmed++] = idx1_of(s, c);
	move(oms, s, cause, c, IG_OS_ACCEPTED, 0, out);
}

static void on_fill(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	const struct ig_fill *f = &in->body.fill;
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	int64_t leaves, notional, new_reserved, fee_quote = 0;
	struct ig_event ev;
	uint16_t k;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, f->client_id);
	leaves = r != NULL ? r->qty - r->filled_qty : 0;
	/* Any fee sign is valid: a negative fee is a rebate (a negative
	 * maker_fee_bps), booked like a fee (cash up, fees down). */
	if (r == NULL || f->trade_id <= r->last_trade_id || f->qty <= 0 || f->qty > leaves ||
	    f->side != r->side || f->px <= 0 || r->armed || r->held || f->fee_base < 0 ||
	    (f->fee_base > 0 && (f->side != IG_SIDE_BUY || f->fee_base >= f->qty))) {
		s->refused_fills++;
		ig_log_warn("fill refused (%s): order %016llx trade %llu qty %lld",
			    r == NULL                         ? "unknown order"
			    : f->trade_id <= r->last_trade_id ? "duplicate trade id"
			    : f->qty > leaves                 ? "overfill"
							      : "malformed",
			    (unsigned long long)f->client_id, (unsigned long long)f->trade_id,
			    (long long)f->qty);
		return;
	}
	k = r->instrument_id;
	/* A fill may be the first event of a new day. r survives the roll:
	 * it is at the venue (not armed, not held), so expiring it only asks
	 * the venue to cancel it, and this fill still applies. */
	day_roll_all(oms, in, out);
	if (ig_pos_apply_fill(&s->pos[k], &s->cash, (enum ig_side)f->side, f->px, f->qty, f->fee,
			      f->fee_base, &fee_quote) != 0) {
		s->refused_fills++;
		ig_log_error("fill refused (arithmetic overflow): order %016llx",
			     (unsigned long long)f->client_id);
		return;
	}
	ig_fixed_mul(f->px, f->qty, &notional);
	r->filled_qty += f->qty;
	r->fill_notional += notional;
	r->fees += fee_quote;
	r->last_trade_id = f->trade_id;
	if (f->trade_id > oms->last_trade_seq[k])
		oms->last_trade_seq[k] = f->trade_id;
	if (r->side == IG_SIDE_BUY) {
		s->open_buy_qty[k] -= f->qty;
		new_reserved = reserve_for(oms, r->ref_px, r->qty - r->filled_qty);
		s->open_buy_notional -= r->reserved - new_reserved;
		r->reserved = new_reserved;
	} else {
		s->open_sell_qty[k] -= f->qty;
	}
	s->fills++;
	ev = *in;
	ev.hdr.instrument_id = k;
	ev.body.fill.last = r->filled_qty == r->qty;
	log_order_event(oms, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
	call_taps(oms, &ev, r);
	if (s->pos[k].mark_px == 0)
		s->pos[k].mark_px = f->px;
	revalue(oms, s);
	call_observers(oms, &ev);
	send_position(oms, in, s, k, out);
	if (r->sl_px > 0)
		attach_stop_loss(oms, s, in, r, f->qty - f->fee_base, out); /* what is held */
	move(oms, s, in, r, r->filled_qty == r->qty ? IG_OS_FILLED : IG_OS_PARTIALLY_FILLED, 0, out);
}

/* Reconciliation found an order of ours at the venue that the journal
 * lacks (oms.h): it joins the books as ACCEPTED, holding what an open
 * order holds, without a risk check (it is already at the venue). */
static void adopt(struct ig_oms *oms, struct ig_oms_strategy *s, const struct ig_event *in,
		  struct ig_emit *out)
{
	const struct ig_order_update *u = &in->body.update;
	struct ig_order o;
	struct ig_order_rec *r;
	uint16_t k = in->hdr.instrument_id;

	memset(&o, 0, sizeof(o));
	o.client_id = u->client_id;
	o.px = u->px;
	o.qty = u->leaves_qty + u->filled_qty;
	o.side = u->side;
	o.type = IG_ORD_LIMIT;
	o.tif = IG_TIF_GTC;
	if (k >= IG_MAX_INSTRUMENTS || o.qty <= 0 || u->leaves_qty <= 0 || u->filled_qty < 0 ||
	    o.px <= 0 || (o.side != IG_SIDE_BUY && o.side != IG_SIDE_SELL) ||
	    (r = ig_order_new(&s->om, &o, k)) == NULL) {
		oms->unknown_reports++;
		ig_log_warn("venue order %016llx not adopted (malformed or no room)",
			    (unsigned long long)u->client_id);
		return;
	}
	r->orig_type = IG_ORD_LIMIT;
	r->ref_px = o.px;
	r->filled_qty = u->filled_qty; /* fills before adoption are not in our books */
	r->ts_event_ns = in->hdr.ts_event_ns;
	hold_open(oms, s, r);
	ig_order_set_venue_id(&s->om, r, u->venue_order_id);
	ig_order_transition(&s->om, r, IG_OS_SUBMITTED);
	oms->adopted++;
	ig_log_warn("adopted venue order %016llx (%s %s at venue, not in the journal)",
		    (unsigned long long)u->client_id, ig_side_name((enum ig_side)o.side),
		    oms->cfg->strategies[sid_of(oms, s)].name);
	move(oms, s, in, r, IG_OS_ACCEPTED, 0, out);
}

static void on_update(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	const struct ig_order_update *u = &in->body.update;
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, u->client_id);
	if (r == NULL && (in->hdr.flags & IG_EVF_ADOPT)) {
		adopt(oms, s, in, out);
		return;
	}
	if (r == NULL) {
		oms->unknown_reports++;
		return;
	}
	ig_order_set_venue_id(&s->om, r, u->venue_order_id);
	if (u->state == r->state)
		return;
	if (u->state == IG_OS_DENIED || u->state == IG_OS_INITIALIZED) {
		/* The OMS's own verdicts, never a venue's. */
		s->om.illegal++;
		ig_log_warn("venue report %s refused for order %016llx",
			    ig_ord_state_name((enum ig_ord_state)u->state), (unsigned long long)r->client_id);
		return;
	}
	/* ACCEPTED after a partial fill or a cancel request adds nothing. */
	if (u->state == IG_OS_ACCEPTED && r->state != IG_OS_SUBMITTED && r->state != IG_OS_IN_DOUBT)
		return;
	move(oms, s, in, r,
	     u->state == IG_OS_CANCELED && r->expiring ? IG_OS_EXPIRED : (enum ig_ord_state)u->state,
	     u->reason, out);
}

static void on_venue_reject(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	struct ig_oms_strategy *s;
	struct ig_order_rec *r;
	struct ig_event ev;

	if (in->hdr.strategy_id >= oms->nstrategies) {
		oms->unknown_reports++;
		return;
	}
	s = &oms->s[in->hdr.strategy_id];
	r = ig_order_find(&s->om, in->body.reject.client_id);
	if (r == NULL) {
		oms->unknown_reports++;
		return;
	}
	s->rejects[in->body.reject.reason < IG_RJ__COUNT ? in->body.reject.reason : IG_RJ_VENUE]++;
	ev = *in;
	log_order_event(oms, &ev);
	to_strategy(oms, out, in->hdr.strategy_id, &ev);
	move(oms, s, in, r, IG_OS_REJECTED, (uint8_t)in->body.reject.reason, out);
}

/* Sets a trailing stop's level from its reference (the best price seen). */
static void trail_level(struct ig_order_rec *r)
{
	int64_t off = r->trail;
	if (r->flags & IG_ORDF_TRAIL_BPS)
		ig_fixed_bps(r->trail_ref_px, r->trail, &off);
	r->stop_px = r->side == IG_SIDE_BUY ? r->trail_ref_px + off : r->trail_ref_px - off;
}

/* True if the armed order r triggers at mark px (updating trailing refs). */
static bool triggers(struct ig_order_rec *r, int64_t px)
{
	bool buy = r->side == IG_SIDE_BUY;
	switch (r->orig_type) {
	case IG_ORD_STOP_MARKET:
	case IG_ORD_STOP_LIMIT:
		return buy ? px >= r->stop_px : px <= r->stop_px;
	case IG_ORD_TAKE_PROFIT:
		return buy ? px <= r->stop_px : px >= r->stop_px;
	case IG_ORD_TRAILING_STOP: {
		if (r->trail_ref_px == 0 || (buy ? px < r->trail_ref_px : px > r->trail_ref_px))
			r->trail_ref_px = px; /* the best price since placement */
		trail_level(r);
		return buy ? px >= r->stop_px : px <= r->stop_px;
	}
	default:
		return false;
	}
}

/* True if the armed order r triggers within a bar's range [lo, hi]: a buy
 * stop when the high reaches it, a sell stop when the low does, a
 * take-profit the mirror. A trailing stop is checked against the level
 * its reference gave before this bar, then the reference moves to the
 * bar's best extreme (a buy's low, a sell's high), for the next bar: a bar
 * never triggers on a level its own extreme set, since which came first
 * inside it is unknown. */
static bool triggers_bar(struct ig_order_rec *r, int64_t lo, int64_t hi)
{
	bool buy = r->side == IG_SIDE_BUY;
	switch (r->orig_type) {
	case IG_ORD_STOP_MARKET:
	case IG_ORD_STOP_LIMIT:
		return buy ? hi >= r->stop_px : lo <= r->stop_px;
	case IG_ORD_TAKE_PROFIT:
		return buy ? lo <= r->stop_px : hi >= r->stop_px;
	case IG_ORD_TRAILING_STOP: {
		int64_t best = buy ? lo : hi;
		if (r->trail_ref_px != 0) {
			trail_level(r);
			if (buy ? hi >= r->stop_px : lo <= r->stop_px)
				return true;
		}
		if (r->trail_ref_px == 0 || (buy ? best < r->trail_ref_px : best > r->trail_ref_px))
			r->trail_ref_px = best;
		trail_level(r);
		return false;
	}
	default:
		return false;
	}
}

/* Releases strategy i's armed conditional orders that the new market data
 * triggers: a quote or trade at its mark px, a bar over its range [lo, hi]. */
/* Not inlined: its 64-byte aligned event would realign every mark's frame. */
__attribute__((noinline)) static void check_triggers_s(struct ig_oms *oms, uint32_t i,
						     const struct ig_event *md, uint16_t k,
						     int64_t px, struct ig_emit *out)
{
	struct ig_oms_strategy *s = &oms->s[i];
	bool bar = md->hdr.type == IG_EV_BAR;
	for (uint32_t a = 0; a < s->narmed;) {
		struct ig_order_rec *r = &s->om.pool[s->armed[a] - 1];
		struct ig_event cause;
		if (r->instrument_id != k ||
		    !(bar ? triggers_bar(r, md->body.bar.low_px, md->body.bar.high_px)
			  : triggers(r, px))) {
			a++;
			continue;
		}
		list_remove(s->armed, &s->narmed, s->armed[a]);
		r->armed = false;
		r->type = r->orig_type == IG_ORD_STOP_LIMIT ? IG_ORD_LIMIT : IG_ORD_MARKET;
		s->triggered++;
		cause = *md;
		cause.hdr.strategy_id = (uint16_t)i;
		cause.hdr.flags = 0;
		{
			/* It passed risk when placed, valued at its trigger;
			 * it goes out now, at the market (or its limit), into
			 * a book and a trading state that may have changed
			 * since: the full check again, as for a new order. */
			int reason = release_check(oms, s, &cause, r, r->type);
			if (reason != IG_RJ_NONE) {
				deny_release(oms, s, &cause, r, reason, out);
				continue;
			}
		}
		release(oms, s, &cause, r, out);
	}
}

/* Releases armed conditional orders that the new mark triggers (only
 * strategies with armed orders are scanned). */
static void check_triggers(struct ig_oms *oms, const struct ig_event *md, uint16_t k, int64_t px,
			   struct ig_emit *out)
{
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		if (oms->s[i].narmed != 0)
			check_triggers_s(oms, i, md, k, px, out);
}

/* The earliest data time at which some strategy's UTC day rolls
 * (INT64_MIN while one has seen no data time yet). */
static int64_t day_next_of(const struct ig_oms *oms)
{
	int64_t next = INT64_MAX;
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		int64_t d = oms->s[i].day;
		int64_t at = d == INT64_MIN ? INT64_MIN
			     : d >= INT64_MAX / NS_PER_DAY - 1 ? INT64_MAX
							       : (d + 1) * NS_PER_DAY;
		if (at < next)
			next = at;
	}
	return next;
}

/* on_mark's rare part: the day roll (roll), the re-valuation where a
 * drawdown limit watches a position in instrument k, and the armed
 * orders the mark px triggers. The marks are stored already. */
__attribute__((noinline)) static void on_mark_slow(struct ig_oms *oms, const struct ig_event *in,
						   uint16_t k, int64_t px, bool roll,
						   struct ig_emit *out)
{
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		if (roll)
			day_roll(oms, s, in, out);
		/* Equity moves with every mark, but re-valuing costs a
		 * 128-bit multiply per instrument: do it per mark only
		 * where a drawdown limit watches it, else at fills. */
		if (s->pos[k].qty != 0 && s->lim.max_drawdown_pct != IG_RISK_UNSET)
			revalue(oms, s);
	}
	if (roll)
		oms->day_next_ns = day_next_of(oms);
	check_triggers(oms, in, k, px, out);
}

/* A quote, trade or bar: the mark, every strategy's day roll and
 * re-valuation, and the armed orders it triggers. The common case (no
 * day roll due, no watched position, nothing armed) stores the marks and
 * returns. */
static void on_mark(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	uint16_t k = in->hdr.instrument_id;
	int64_t px, ask_px;
	/* Before day_next_ns no strategy's day rolls (roll_day would return
	 * false for each): skip the per-strategy division. */
	bool roll = in->hdr.ts_event_ns >= oms->day_next_ns;
	bool slow = roll;

	oms->md_events++;
	if (k >= IG_MAX_INSTRUMENTS)
		return;
	if (in->hdr.type == IG_EV_QUOTE) {
		px = (in->body.quote.bid_px + in->body.quote.ask_px) / 2;
		ask_px = in->body.quote.ask_px;
	} else {
		px = ask_px = in->hdr.type == IG_EV_TRADE ? in->body.trade.px : in->body.bar.close_px;
	}
	call_observers(oms, in);
	oms->marks[k].px = px;
	oms->marks[k].ask_px = ask_px;
	oms->marks[k].ts_event_ns = in->hdr.ts_event_ns;
	oms->marks[k].ts_origin_ns = in->hdr.ts_origin_ns;
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		s->pos[k].mark_px = px;
		slow |= (s->pos[k].qty != 0 && s->lim.max_drawdown_pct != IG_RISK_UNSET) ||
			s->narmed != 0;
	}
	if (slow)
		on_mark_slow(oms, in, k, px, roll, out);
}

static void status_line(struct ig_oms *oms)
{
	int64_t now;
	double secs;

	if (!oms->status_lines)
		return;
	now = ig_clock_mono_ns();
	if (now - oms->last_status_ns < 950000000)
		return;
	secs = oms->last_status_ns == 0 ? 1.0 : (double)(now - oms->last_status_ns) / 1e9;
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		struct ig_oms_strategy *s = &oms->s[i];
		char pnl[IG_FIXED_STRLEN], pos[IG_FIXED_STRLEN];
		int64_t unreal = 0, qty = 0;
		for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
			unreal += ig_pos_unrealized(&s->pos[k]);
			qty += s->pos[k].qty;
		}
		ig_fixed_format(net_realized(s) + unreal, pnl, sizeof(pnl));
		ig_fixed_format(qty, pos, sizeof(pos));
		ig_log_info("status %s: %.0f events/s, orders=%llu fills=%llu position=%s pnl=%s state=%s",
			    oms->cfg->strategies[i].name,
			    (double)(oms->events - oms->last_status_events) / secs,
			    (unsigned long long)s->orders, (unsigned long long)s->fills, pos, pnl,
			    ig_trading_state_name((enum ig_trading_state)s->trading_state));
	}
	oms->last_status_events = oms->events;
	oms->last_status_ns = now;
}

/* Cancels every open order of strategy s. keep_stops: leave armed
 * reduce-only stops (the kill switch keeps protective stop-losses).
 * Returns the cancels sent. */
static uint64_t cancel_strategy(struct ig_oms *oms, struct ig_oms_strategy *s, bool keep_stops,
				struct ig_emit *out)
{
	struct ig_event cause;
	uint64_t n = 0;

	memset(&cause, 0, sizeof(cause));
	cause.hdr.type = IG_EV_CONTROL;
	cause.hdr.strategy_id = sid_of(oms, s);
	for (uint32_t p = 0; p < IG_OM_CAPACITY; p++) {
		struct ig_order_rec *r = &s->om.pool[p];
		/* A cancel already at the venue goes again: it may never
		 * have got through (cancel_order). */
		if (r->client_id == 0 || ig_order_terminal((enum ig_ord_state)r->state))
			continue;
		/* Armed reduce-only stops (attached stop-losses) stay under
		 * the kill switch: they can only reduce, and they protect the
		 * position it leaves open. */
		if (keep_stops && r->armed && (r->flags & IG_ORDF_REDUCE_ONLY))
			continue;
		cause.hdr.instrument_id = r->instrument_id;
		n++;
		cancel_order(oms, s, &cause, r, out);
	}
	return n;
}

/* Cancels every open order of every strategy (keep_stops: as above). */
static void cancel_all(struct ig_oms *oms, bool keep_stops, struct ig_emit *out)
{
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		oms->kill_cancels += cancel_strategy(oms, &oms->s[i], keep_stops, out);
}

static void kill_switch(struct ig_oms *oms, bool on, struct ig_emit *out)
{
	if (on == oms->kill_switch) {
		/* Engaged again: whatever is still open (a cancel the venue
		 * has not confirmed) is cancelled again. */
		if (on) {
			oms->ctl_kill_switch++;
			ig_log_warn("kill switch engaged again: cancelling what is still open");
			cancel_all(oms, true, out);
		}
		return;
	}
	jstate(oms, IG_STRATEGY_NONE, oms->trading_state, oms->trading_state,
	       on ? IG_RJ_KILL_SWITCH : IG_RJ_NONE, 0);
	oms->kill_switch = on;
	oms->ctl_kill_switch++;
	ig_log_warn("kill switch %s", on ? "ENGAGED: cancelling all open orders" : "cleared");
	if (on)
		cancel_all(oms, true, out);
}

void ig_oms_kill_switch(struct ig_oms *oms, bool on, struct ig_emit *out)
{
	struct ig_event ev;
	if (!on && !oms->kill_switch)
		return;
	/* From outside the handler (a signal): journaled as the control
	 * event it stands for, so a replay applies it at the same point. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_OMS;
	ev.hdr.strategy_id = IG_STRATEGY_NONE;
	ev.body.control.cmd = IG_CTL_KILL_SWITCH;
	ev.body.control.arg = on ? 1 : 0;
	ig_oms_handle(oms, &ev, out);
}

bool ig_oms_paused(const struct ig_oms *oms, uint32_t strategy)
{
	return strategy < oms->nstrategies && oms->s[strategy].paused;
}

/* True if a drawdown or daily-loss breach holds strategy s below active
 * (what IG_CTL_RESET lifts; a halt set otherwise is not its business). */
static bool resettable(const struct ig_oms_strategy *s)
{
	return s->trading_state != IG_TS_ACTIVE &&
	       (s->breach_reason == IG_RJ_DRAWDOWN || s->breach_reason == IG_RJ_DAILY_LOSS);
}

/* True if operator control cmd would change strategy s. */
static bool ctl_changes(const struct ig_oms_strategy *s, uint16_t cmd)
{
	switch (cmd) {
	case IG_CTL_PAUSE:
		return !s->paused;
	case IG_CTL_RESUME:
		return s->paused;
	case IG_CTL_CANCEL_ALL:
		return true;
	case IG_CTL_RESET:
		return resettable(s);
	default:
		return false;
	}
}

/* Applies operator control in (PAUSE, RESUME, CANCEL_ALL, RESET) to
 * strategy s; sets oms->ctl_status to OK when it changed something. */
static void ctl_apply(struct ig_oms *oms, const struct ig_event *in, struct ig_oms_strategy *s,
		      struct ig_emit *out)
{
	uint16_t sid = sid_of(oms, s);
	const char *name = oms->cfg->strategies[sid].name;
	uint64_t n;

	if (!ctl_changes(s, in->body.control.cmd))
		return;
	switch (in->body.control.cmd) {
	case IG_CTL_PAUSE:
		s->paused = true;
		s->ctl_applied[IG_OMS_CK_PAUSE]++;
		ig_log_warn("strategy %s: paused by the operator (new orders denied; its orders stay)",
			    name);
		break;
	case IG_CTL_RESUME:
		s->paused = false;
		s->ctl_applied[IG_OMS_CK_RESUME]++;
		ig_log_warn("strategy %s: resumed by the operator", name);
		break;
	case IG_CTL_CANCEL_ALL:
		n = cancel_strategy(oms, s, false, out);
		s->ctl_applied[IG_OMS_CK_CANCEL_ALL]++;
		ig_log_warn("strategy %s: cancel-all by the operator: %llu cancels sent", name,
			    (unsigned long long)n);
		break;
	case IG_CTL_RESET:
		/* Back to active, and the limits start over from here: the
		 * drawdown's high-water mark is the equity now and the daily
		 * loss window starts at the net PnL now, so the same loss does
		 * not trip them again at the next mark. */
		jstate(oms, sid, s->trading_state, IG_TS_ACTIVE, s->breach_reason, in->hdr.ts_event_ns);
		ig_log_warn("strategy %s: %s breach reset by the operator: %s -> active", name,
			    ig_reject_reason_name((enum ig_reject_reason)s->breach_reason),
			    ig_trading_state_name((enum ig_trading_state)s->trading_state));
		s->trading_state = IG_TS_ACTIVE;
		s->breach_reason = IG_RJ_NONE;
		s->equity = ig_oms_equity(oms, sid);
		s->equity_hwm = s->equity;
		s->drawdown_pct = 0;
		s->day_start_net_pnl = net_realized(s);
		s->ctl_applied[IG_OMS_CK_RESET]++;
		break;
	default:
		return;
	}
	oms->ctl_status = IG_OMS_CTL_OK;
}

/* An operator control event (PAUSE .. RESET) for one strategy or all. */
static void on_operator_control(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	uint16_t sid = in->hdr.strategy_id;

	oms->ctl_status = IG_OMS_CTL_NO_CHANGE;
	if (sid == IG_STRATEGY_NONE) {
		for (uint32_t i = 0; i < oms->nstrategies; i++)
			ctl_apply(oms, in, &oms->s[i], out);
	} else if (sid < oms->nstrategies) {
		ctl_apply(oms, in, &oms->s[sid], out);
	} else {
		oms->ctl_status = IG_OMS_CTL_NOT_FOUND;
	}
}

/* True if pc is a well-formed IG_CTL_PARAMS body. */
static bool params_valid(const struct ig_params_change *pc)
{
	if (pc->n < 1 || pc->n > IG_PARAMS_MAX)
		return false;
	for (unsigned i = 0; i < pc->n; i++)
		if (pc->index[i] >= IG_OMS_MAX_PARAMS)
			return false;
	return true;
}

/* IG_CTL_PARAMS for in->hdr.strategy_id: forwards the change to the
 * strategy's thread; the values are in force once it answers APPLIED. */
static void on_params(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	uint16_t sid = in->hdr.strategy_id;
	const struct ig_params_change *pc = &in->body.params;
	struct ig_event fwd;

	if (sid >= oms->nstrategies) {
		oms->ctl_status = IG_OMS_CTL_NOT_FOUND;
		return;
	}
	if (!params_valid(pc)) {
		oms->ctl_status = IG_OMS_CTL_INVALID;
		return;
	}
	oms->s[sid].params_inflight = true;
	ig_log_info("strategy %s: %u param(s) sent to the strategy by the operator",
		    oms->cfg->strategies[sid].name, (unsigned)pc->n);
	ig_event_reply_init(&fwd, in, IG_EV_CONTROL);
	fwd.body.params = *pc;
	to_strategy(oms, out, sid, &fwd);
	oms->ctl_status = IG_OMS_CTL_OK;
}

/* A strategy's answer to a params change (IG_CTL_PARAMS_APPLIED or
 * _REFUSED, echoing the change): applied values are in force from here
 * (book state). Kept for ig_oms_params_verdict. */
static void on_params_verdict(struct ig_oms *oms, const struct ig_event *in)
{
	uint16_t sid = in->hdr.strategy_id;
	const struct ig_params_change *pc = &in->body.params;
	bool applied = in->body.control.cmd == IG_CTL_PARAMS_APPLIED;
	struct ig_oms_strategy *s;

	if (sid >= oms->nstrategies || !params_valid(pc))
		return;
	s = &oms->s[sid];
	s->params_inflight = false;
	if (applied) {
		for (unsigned i = 0; i < pc->n; i++) {
			s->param_set |= UINT32_C(1) << pc->index[i];
			s->param_val[pc->index[i]] = pc->value[i];
		}
		s->ctl_applied[IG_OMS_CK_PARAMS]++;
		ig_log_warn("strategy %s: %u param(s) changed by the operator, applied",
			    oms->cfg->strategies[sid].name, (unsigned)pc->n);
	} else {
		ig_log_warn("strategy %s: param change refused by the strategy; the values in force "
			    "stay",
			    oms->cfg->strategies[sid].name);
	}
	oms->verdict_sid = sid;
	oms->verdict_status = (uint8_t)(applied ? IG_OMS_CTL_OK : IG_OMS_CTL_REFUSED);
}

bool ig_oms_params_verdict(struct ig_oms *oms, uint16_t *strategy, enum ig_oms_ctl_status *st)
{
	if (oms->verdict_sid == IG_STRATEGY_NONE)
		return false;
	*strategy = oms->verdict_sid;
	*st = (enum ig_oms_ctl_status)oms->verdict_status;
	oms->verdict_sid = IG_STRATEGY_NONE;
	return true;
}

/* After a recovery: the params in force for s, as IG_CTL_PARAMS events
 * of up to IG_PARAMS_MAX entries (nothing if none was ever changed). */
static void announce_params(struct ig_oms *oms, const struct ig_event *cause, uint16_t sid,
			    struct ig_emit *out)
{
	const struct ig_oms_strategy *s = &oms->s[sid];
	struct ig_event ev;

	ig_event_reply_init(&ev, cause, IG_EV_CONTROL);
	ev.hdr.flags = IG_EVF_ADOPT; /* values in force: no verdict */
	ev.body.params.cmd = IG_CTL_PARAMS;
	for (unsigned i = 0; i < IG_OMS_MAX_PARAMS; i++) {
		if (!(s->param_set & (UINT32_C(1) << i)))
			continue;
		ev.body.params.index[ev.body.params.n] = (uint16_t)i;
		ev.body.params.value[ev.body.params.n] = s->param_val[i];
		if (++ev.body.params.n == IG_PARAMS_MAX) {
			to_strategy(oms, out, sid, &ev);
			ev.body.params.n = 0;
		}
	}
	if (ev.body.params.n > 0)
		to_strategy(oms, out, sid, &ev);
}

enum ig_oms_ctl_status ig_oms_params(struct ig_oms *oms, uint16_t strategy,
				     const struct ig_params_change *pc, int64_t data_ns,
				     struct ig_emit *out)
{
	struct ig_event ev;

	if (strategy >= oms->nstrategies)
		return IG_OMS_CTL_NOT_FOUND;
	if (!params_valid(pc))
		return IG_OMS_CTL_INVALID;
	if (oms->s[strategy].params_inflight)
		return IG_OMS_CTL_BUSY;
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_OMS;
	ev.hdr.strategy_id = strategy;
	ev.hdr.ts_event_ns = data_ns;
	ev.body.params = *pc;
	ev.body.params.cmd = IG_CTL_PARAMS;
	ig_oms_handle(oms, &ev, out);
	return oms->ctl_status;
}

enum ig_oms_ctl_status ig_oms_control(struct ig_oms *oms, uint16_t cmd, uint16_t strategy,
				      int64_t arg, int64_t data_ns, struct ig_emit *out)
{
	struct ig_event ev;
	bool change = false;

	if (cmd == IG_CTL_KILL_SWITCH) {
		if (arg != 0 && arg != 1)
			return IG_OMS_CTL_INVALID;
		strategy = IG_STRATEGY_NONE;
		/* Engaging again is a change: it sends the cancels again. */
		change = arg == 1 || oms->kill_switch;
	} else if (cmd >= IG_CTL_PAUSE && cmd <= IG_CTL_RESET) {
		if (strategy != IG_STRATEGY_NONE && strategy >= oms->nstrategies)
			return IG_OMS_CTL_NOT_FOUND;
		for (uint32_t i = 0; i < oms->nstrategies; i++)
			if (strategy == IG_STRATEGY_NONE || strategy == i)
				change |= ctl_changes(&oms->s[i], cmd);
		arg = 0;
	} else {
		return IG_OMS_CTL_INVALID;
	}
	if (!change)
		return IG_OMS_CTL_NO_CHANGE;
	/* Through the handler, as the control event it stands for: journaled
	 * as an input, so a replay applies it at the same point. */
	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = IG_EV_CONTROL;
	ev.hdr.src = IG_STAGE_OMS;
	ev.hdr.strategy_id = strategy;
	ev.hdr.ts_event_ns = data_ns;
	ev.body.control.cmd = cmd;
	ev.body.control.arg = arg;
	ig_oms_handle(oms, &ev, out);
	return IG_OMS_CTL_OK;
}

uint32_t ig_oms_cancels_outstanding(const struct ig_oms *oms)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		const struct ig_oms_strategy *s = &oms->s[i];
		for (uint32_t p = 0; p < IG_OM_CAPACITY; p++) {
			const struct ig_order_rec *r = &s->om.pool[p];
			if (r->client_id == 0 || !cancel_sent(r))
				continue;
			n++;
			ig_log_warn("stop: the cancel of order %016llx (strategy %s) is still outstanding: "
				    "the order may be live at the venue",
				    (unsigned long long)r->client_id, oms->cfg->strategies[i].name);
		}
	}
	return n;
}

/* Sum over strategies of the position in k, and of cash less capital. */
static void own_books(const struct ig_oms *oms, uint16_t k, int64_t *pos, int64_t *cash)
{
	*pos = *cash = 0;
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		*pos += oms->s[i].pos[k].qty;
		*cash += oms->s[i].cash - oms->s[i].capital;
	}
}

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/* A reconciliation result from the venue (oms.h). */
static void on_reconcile(struct ig_oms *oms, const struct ig_event *in)
{
	const struct ig_reconcile *rc = &in->body.reconcile;
	uint16_t k = in->hdr.instrument_id;
	int64_t pos, cash;
	char a[IG_FIXED_STRLEN], b[IG_FIXED_STRLEN];

	if (k >= IG_MAX_INSTRUMENTS)
		return;
	oms->recon_error = (uint8_t)(rc->error < IG_RECON__COUNT ? rc->error : IG_RECON_MALFORMED);
	if (rc->error != IG_RECON_OK) {
		oms->reconciled = false;
		oms->recon_done = true;
		snprintf(oms->recon_why, sizeof(oms->recon_why),
			 "reconciliation with the venue failed (%s); new orders denied, cancels allowed",
			 ig_recon_error_name(oms->recon_error));
		ig_log_error("%s", oms->recon_why);
		return;
	}
	oms->recon_passes++;
	oms->recon_foreign += rc->foreign;
	oms->recon_adopted += rc->adopted;
	oms->recon_fills += rc->fills;
	oms->recon_resolved += rc->resolved;
	if (rc->have_balances) {
		own_books(oms, k, &pos, &cash);
		oms->recon_venue_base[k] = rc->base_balance;
		if (k == 0)
			oms->recon_venue_counter = rc->counter_balance;
		if (!oms->baseline_set[k]) {
			/* First sight of the account: what it holds beyond our
			 * books is the baseline later passes compare against. */
			oms->baseline_set[k] = true;
			oms->baseline_base[k] = rc->base_balance - pos;
			if (k == 0)
				oms->baseline_counter = rc->counter_balance - cash;
		}
		oms->recon_diff_base[k] = rc->base_balance - (oms->baseline_base[k] + pos);
		if (k == 0)
			oms->recon_diff_counter = rc->counter_balance - (oms->baseline_counter + cash);
		if (abs64(oms->recon_diff_base[k]) > oms->balance_tolerance ||
		    (k == 0 && abs64(oms->recon_diff_counter) > oms->balance_tolerance)) {
			oms->recon_mismatch = true;
			ig_fixed_format(oms->recon_diff_base[k], a, sizeof(a));
			ig_fixed_format(k == 0 ? oms->recon_diff_counter : 0, b, sizeof(b));
			ig_log_error("reconciliation: venue balances differ from our books on instrument %u: "
				     "base %s, counter %s (venue minus ours)",
				     (unsigned)k, a, b);
		}
	}
	if (!rc->last)
		return;
	oms->recon_done = true;
	if (oms->recon_mismatch && oms->halt_on_mismatch) {
		oms->reconciled = false;
		snprintf(oms->recon_why, sizeof(oms->recon_why),
			 "venue balances differ from our books (recovery.on_mismatch: halt); "
			 "new orders denied, cancels allowed");
		ig_log_error("%s", oms->recon_why);
		return;
	}
	oms->reconciled = true;
	oms->recon_why[0] = '\0';
	ig_log_info("reconciled with the venue: %u orders looked up, %u fills found, %u adopted, "
		    "%u foreign left alone%s; trading open",
		    oms->recon_resolved, oms->recon_fills, oms->recon_adopted, oms->recon_foreign,
		    oms->recon_mismatch ? " (balance difference reported)" : "");
}

static void handle(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out);

void ig_oms_handle(struct ig_oms *oms, const struct ig_event *in, struct ig_emit *out)
{
	oms->events++;
	oms->cur_out = out;
	/* Market data with nothing to journal or announce: straight to the
	 * mark, outside the big dispatch (its register saves cost more than
	 * the mark itself). */
	if ((in->hdr.type == IG_EV_QUOTE || in->hdr.type == IG_EV_TRADE ||
	     in->hdr.type == IG_EV_BAR) && !oms->journal && !oms->announce) {
		on_mark(oms, in, out);
		return;
	}
	handle(oms, in, out);
}

/* ig_oms_handle past its counters. */
__attribute__((noinline)) static void handle(struct ig_oms *oms, const struct ig_event *in,
					    struct ig_emit *out)
{
	/* The input first: the journal then holds it ahead of everything it
	 * causes. Timers change nothing but the status line. */
	if (oms->journal && in->hdr.type != IG_EV_TIMER)
		jrec(oms, out, in, 0);
	if (oms->announce) {
		/* After recovery: strategies start with an empty mirror; tell
		 * each its recovered positions before anything else. */
		struct ig_event cause = *in;
		oms->announce = false;
		cause.hdr.flags = IG_EVF_ADOPT;
		for (uint32_t i = 0; i < oms->nstrategies; i++) {
			struct ig_oms_strategy *s = &oms->s[i];
			for (uint16_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
				if (s->pos[k].qty != 0)
					send_position(oms, in, s, k, out);
			/* ... and its open orders, as they stand (not the OMS's own
			 * stop-loss children: a run never shows them to it). */
			for (uint32_t p = 0; p < IG_OM_CAPACITY; p++) {
				struct ig_order_rec *r = &s->om.pool[p];
				if (r->client_id != 0 && r->parent_id == 0 &&
				    !ig_order_terminal((enum ig_ord_state)r->state))
					send_update(oms, &cause, (uint16_t)i, r, r->state, 0, out);
			}
			/* ... and the params it last ran with ... */
			announce_params(oms, in, (uint16_t)i, out);
			/* ... and that this was all: its host holds on_start and
			 * every other callback until now (host.h). */
			{
				struct ig_event done;
				ig_event_reply_init(&done, in, IG_EV_CONTROL);
				done.hdr.strategy_id = (uint16_t)i;
				done.body.control.cmd = IG_CTL_RECOVERED;
				to_strategy(oms, out, (uint16_t)i, &done);
			}
		}
	}
	switch (in->hdr.type) {
	case IG_EV_QUOTE:
	case IG_EV_TRADE:
	case IG_EV_BAR:
		on_mark(oms, in, out);
		return;
	case IG_EV_TIMER:
		status_line(oms);
		return;
	case IG_EV_ORDER:
		on_order(oms, in, out);
		return;
	case IG_EV_CANCEL:
		on_cancel(oms, in, out);
		return;
	case IG_EV_FILL:
		on_fill(oms, in, out);
		return;
	case IG_EV_ORDER_UPDATE:
		on_update(oms, in, out);
		return;
	case IG_EV_REJECT:
		on_venue_reject(oms, in, out);
		return;
	case IG_EV_CONTROL:
		if (in->body.control.cmd == IG_CTL_KILL_SWITCH) {
			kill_switch(oms, in->body.control.arg != 0, out);
		} else if (in->body.control.cmd >= IG_CTL_PAUSE &&
			   in->body.control.cmd <= IG_CTL_RESET) {
			on_operator_control(oms, in, out);
		} else if (in->body.control.cmd == IG_CTL_PARAMS) {
			on_params(oms, in, out);
		} else if (in->body.control.cmd == IG_CTL_PARAMS_APPLIED ||
			   in->body.control.cmd == IG_CTL_PARAMS_REFUSED) {
			on_params_verdict(oms, in);
		} else if (in->body.control.cmd == IG_CTL_TRADING_STATE) {
			int64_t st = in->body.control.arg;
			if (st >= IG_TS_ACTIVE && st <= IG_TS_HALTED && st != oms->trading_state) {
				ig_log_warn("global trading state %s -> %s",
					    ig_trading_state_name((enum ig_trading_state)oms->trading_state),
					    ig_trading_state_name((enum ig_trading_state)st));
				jstate(oms, IG_STRATEGY_NONE, oms->trading_state, (uint8_t)st,
				       IG_RJ_NONE, in->hdr.ts_event_ns);
				oms->trading_state = (uint8_t)st;
			}
		} else if (in->body.control.cmd == IG_CTL_FEED_END) {
			if (in->hdr.src == IG_STAGE_EXEC) {
				oms->exec_drained = true;
			} else if (++oms->feed_end_seen == oms->feed_end_needed) {
				struct ig_event ev = *in;
				/* A graceful stop leaves nothing working at the venue:
				 * the cancels go ahead of the token, and the executor
				 * echoes it once they are confirmed and every fill
				 * before them is in. */
				if (oms->cfg->engine.cancel_on_stop)
					cancel_all(oms, false, out);
				ev.hdr.flags = 0;
				to_exec(oms, out, &ev);
			}
		}
		return;
	case IG_EV_RECONCILE:
		on_reconcile(oms, in);
		return;
	default:
		return;
	}
}
