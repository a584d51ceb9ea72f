/* oms_stage.c - the OMS's stage operations and control mailbox (see
 * oms_stage.h). */
#include "oms/oms_stage.h"

#include "api/events.h"
#include "api/snapshot.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <stdio.h>
#include <string.h>

_Static_assert((IG_OMS_CTL_QUEUE & (IG_OMS_CTL_QUEUE - 1)) == 0, "queue size: power of two");
_Static_assert((IG_OMS_CTL_RESULTS & (IG_OMS_CTL_RESULTS - 1)) == 0 &&
		       IG_OMS_CTL_RESULTS >= IG_OMS_CTL_QUEUE,
	       "results: power of two, at least the queue");

void ig_oms_stage_init(struct ig_oms_stage *st, struct ig_oms *oms)
{
	memset(st, 0, sizeof(*st));
	st->oms = oms;
	for (uint64_t i = 0; i < IG_OMS_CTL_QUEUE; i++)
		st->ctl_q[i].seq = i;
}

int ig_oms_request(struct ig_oms_stage *st, const struct ig_oms_ctl_req *req, uint64_t *id)
{
	uint64_t pos = __atomic_load_n(&st->ctl_tail, __ATOMIC_RELAXED);
	struct ig_oms_ctl_slot *slot;

	if (req->cmd != IG_CTL_KILL_SWITCH && req->cmd != IG_CTL_PARAMS &&
	    (req->cmd < IG_CTL_PAUSE || req->cmd > IG_CTL_RESET))
		return IG_EINVAL;
	/* Bounded MPSC queue of tickets: a slot is free for ticket pos when
	 * its seq is pos, and holds ticket pos once its seq is pos + 1. */
	for (;;) {
		uint64_t seq;
		slot = &st->ctl_q[pos & (IG_OMS_CTL_QUEUE - 1)];
		seq = __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE);
		if (seq == pos) {
			if (__atomic_compare_exchange_n(&st->ctl_tail, &pos, pos + 1, true,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
				break; /* ticket pos is ours */
		} else if ((int64_t)(seq - pos) < 0) {
			return IG_EAGAIN; /* the slot still holds the ticket a lap ago */
		} else {
			pos = __atomic_load_n(&st->ctl_tail, __ATOMIC_RELAXED);
		}
	}
	slot->req = *req;
	__atomic_store_n(&slot->seq, pos + 1, __ATOMIC_RELEASE);
	if (id != NULL)
		*id = pos + 1;
	return 0;
}

enum ig_oms_ctl_status ig_oms_request_status(const struct ig_oms_stage *st, uint64_t id)
{
	uint64_t v = __atomic_load_n(&st->ctl_result[id & (IG_OMS_CTL_RESULTS - 1)],
				     __ATOMIC_ACQUIRE);
	uint64_t done = v >> 8;

	if (done == id)
		return (enum ig_oms_ctl_status)(v & 0xff);
	return done > id ? IG_OMS_CTL_EXPIRED : IG_OMS_CTL_PENDING;
}

int ig_oms_request_kill_switch(struct ig_oms_stage *st, bool on)
{
	struct ig_oms_ctl_req r = { .cmd = IG_CTL_KILL_SWITCH, .strategy = IG_STRATEGY_NONE,
				    .arg = on ? 1 : 0 };
	return ig_oms_request(st, &r, NULL);
}

int ig_oms_stage_strategy_index(const struct ig_oms_stage *st, const char *name)
{
	const struct ig_config *cfg = st->oms->cfg;
	for (uint32_t i = 0; i < cfg->nstrategies; i++)
		if (strcmp(cfg->strategies[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* True when a request waits in the mailbox. OMS thread. */
static bool ctl_due(const struct ig_oms_stage *st)
{
	const struct ig_oms_ctl_slot *slot = &st->ctl_q[st->ctl_head & (IG_OMS_CTL_QUEUE - 1)];
	return __atomic_load_n(&slot->seq, __ATOMIC_ACQUIRE) == st->ctl_head + 1;
}

/* Publishes the outcome of request id. A params request's outcome comes
 * with the strategy's answer, possibly after IG_OMS_CTL_RESULTS later
 * requests completed: then the slot holds a newer one's, which stays
 * (id has expired). OMS thread (the slots' only writer). */
static void ctl_result(struct ig_oms_stage *st, uint64_t id, enum ig_oms_ctl_status rc)
{
	uint64_t *slot = &st->ctl_result[id & (IG_OMS_CTL_RESULTS - 1)];

	if ((__atomic_load_n(slot, __ATOMIC_RELAXED) >> 8) > id)
		return;
	__atomic_store_n(slot, id << 8 | (uint64_t)rc, __ATOMIC_RELEASE);
}

/* A strategy answered a params change: its request's outcome. */
static void params_verdict(struct ig_oms_stage *st)
{
	uint16_t sid;
	enum ig_oms_ctl_status rc;

	if (!ig_oms_params_verdict(st->oms, &sid, &rc) || sid >= IG_MAX_STRATEGIES ||
	    st->params_req[sid] == 0)
		return;
	ctl_result(st, st->params_req[sid], rc);
	st->params_req[sid] = 0;
}

static void oms_stage_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	struct ig_oms_stage *st = self;
	ig_oms_handle(st->oms, ev, out);
	if (__builtin_expect(st->oms->verdict_sid != IG_STRATEGY_NONE, 0))
		params_verdict(st);
}

void ig_oms_stage_set_publisher(struct ig_oms_stage *st, struct ig_snap_pub *pub,
				int64_t publish_ms, const char *const *symbols,
				uint16_t ninstruments)
{
	st->pub = pub;
	st->publish_ns = publish_ms * 1000000;
	st->next_publish_ns = 0;
	st->symbols = symbols;
	st->ninstruments = ninstruments;
}

void ig_oms_stage_set_events(struct ig_oms_stage *st, struct ig_events *ev)
{
	st->events = ev;
	ig_oms_set_tap(st->oms, ev != NULL ? ig_events_oms_tap : NULL, ev);
}

/* Order-rate tokens b has handed out and not yet got back, as of its last
 * refill (an order's data time): what /api/v1/risk shows as the use of
 * max_orders_per_sec. Returns 0 for an unlimited or unused bucket. */
static int64_t bucket_used(const struct ig_bucket *b)
{
	int64_t used_e9;
	if (b->rate_per_s == IG_RISK_UNSET || b->last_ns == INT64_MIN)
		return 0;
	used_e9 = b->rate_per_s * 1000000000 - b->tokens_e9;
	return used_e9 <= 0 ? 0 : (used_e9 + 999999999) / 1000000000;
}

/* Fills snap from the books. OMS thread. */
static void snapshot_fill(const struct ig_oms_stage *st, struct ig_snapshot *snap)
{
	const struct ig_oms *o = st->oms;
	uint16_t nk = st->ninstruments;

	snap->ts_real_ns = ig_clock_real_ns();
	snap->trading_state = o->trading_state;
	snap->kill_switch = o->kill_switch;
	snap->reconciled = o->reconciled;
	snap->ninstruments = nk;
	for (uint16_t k = 0; k < nk; k++)
		snprintf(snap->symbols[k], sizeof(snap->symbols[k]), "%s", st->symbols[k]);
	snap->orders = snap->fills = 0;
	memset(snap->rejects, 0, sizeof(snap->rejects));
	snap->nstrategies = o->nstrategies;
	snap->global_rate_per_s = o->global_bucket.rate_per_s;
	snap->global_rate_used = bucket_used(&o->global_bucket);
	for (uint32_t i = 0; i < o->nstrategies; i++) {
		const struct ig_oms_strategy *s = &o->s[i];
		struct ig_snap_strategy *d = &snap->s[i];
		struct ig_oms_totals t;

		ig_oms_totals(o, i, &t);
		snprintf(d->name, sizeof(d->name), "%s", o->cfg->strategies[i].name);
		snprintf(d->type, sizeof(d->type), "%s", o->cfg->strategies[i].type);
		d->trading_state = s->trading_state;
		d->paused = s->paused;
		for (uint16_t k = 0; k < nk; k++) {
			d->qty[k] = s->pos[k].qty;
			d->avg_px[k] = s->pos[k].avg_px;
		}
		d->cash = s->cash;
		d->equity = ig_oms_equity(o, i);
		d->realized = t.realized;
		d->unrealized = t.unrealized;
		d->fees = t.fees;
		d->orders = s->orders;
		d->fills = s->fills;
		d->open_orders = t.open_orders;
		memcpy(d->rejects, s->rejects, sizeof(d->rejects));
		d->lim = s->lim;
		{
			int64_t net = 0;
			for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
				net += s->pos[k].realized_pnl - s->pos[k].fees;
			/* as revalue() judges daily_loss_limit */
			d->daily_loss = s->day_start_net_pnl - net > 0 ? s->day_start_net_pnl - net : 0;
		}
		for (uint16_t k = 0; k < nk; k++) {
			d->open_buy_qty[k] = s->open_buy_qty[k];
			d->open_sell_qty[k] = s->open_sell_qty[k];
		}
		d->drawdown_pct = s->drawdown_pct;
		d->rate_used = bucket_used(&s->bucket);
		snap->orders += s->orders;
		snap->fills += s->fills;
		for (int r = 0; r < IG_RJ__COUNT; r++)
			snap->rejects[r] += s->rejects[r];
	}
}

/* Publishes a snapshot when one is due. Returns 1 if it did. OMS thread. */
static int snapshot_poll(struct ig_oms_stage *st, int64_t now_ns)
{
	struct ig_snapshot *snap;

	if (st->pub == NULL || now_ns < st->next_publish_ns)
		return 0;
	st->next_publish_ns = now_ns + st->publish_ns;
	snap = ig_snap_begin(st->pub);
	if (snap == NULL)
		return 0; /* no free slot: skipped (counted), the next period retries */
	snapshot_fill(st, snap);
	ig_snap_publish(st->pub, snap);
	return 1;
}

static int64_t oms_stage_deadline(void *self)
{
	const struct ig_oms_stage *st = self;
	return st->pub != NULL ? st->next_publish_ns : INT64_MAX;
}

static int oms_stage_poll(void *self, int64_t now_ns, struct ig_emit *out)
{
	struct ig_oms_stage *st = self;
	int n = snapshot_poll(st, now_ns);
	/* Requests reach the OMS only through the mailbox: the handler runs
	 * here, on the OMS's own thread. */
	while (ctl_due(st)) {
		struct ig_oms_ctl_slot *slot = &st->ctl_q[st->ctl_head & (IG_OMS_CTL_QUEUE - 1)];
		struct ig_oms_ctl_req req = slot->req;
		uint64_t id = st->ctl_head + 1;
		enum ig_oms_ctl_status rc;

		/* The slot is free again for the ticket a lap ahead. */
		__atomic_store_n(&slot->seq, st->ctl_head + IG_OMS_CTL_QUEUE, __ATOMIC_RELEASE);
		st->ctl_head++;
		rc = req.cmd == IG_CTL_PARAMS
			     ? ig_oms_params(st->oms, req.strategy, &req.params, 0, out)
			     : ig_oms_control(st->oms, req.cmd, req.strategy, req.arg, 0, out);
		if (rc != IG_OMS_CTL_OK)
			ig_log_warn("control request %llu (cmd %u, strategy %d): %s",
				    (unsigned long long)id, (unsigned)req.cmd,
				    req.strategy == IG_STRATEGY_NONE ? -1 : (int)req.strategy,
				    ig_oms_ctl_status_name(rc));
		if (rc == IG_OMS_CTL_OK && req.cmd == IG_CTL_PARAMS && req.strategy < IG_MAX_STRATEGIES)
			st->params_req[req.strategy] = id; /* answered with the strategy's verdict */
		else
			ctl_result(st, id, rc);
		n++;
	}
	/* After the controls: a state they changed goes out this cycle. */
	if (st->events != NULL)
		ig_events_oms_poll(st->events, st->oms);
	return n;
}

static bool oms_stage_has_work(void *self)
{
	return ctl_due(self);
}

static bool oms_stage_done(const void *self)
{
	const struct ig_oms_stage *st = self;
	return ig_oms_done(st->oms);
}

static void oms_stage_on_stop(void *self)
{
	struct ig_oms_stage *st = self;
	st->state_hash = ig_oms_state_hash(st->oms);
	st->cancels_outstanding = ig_oms_cancels_outstanding(st->oms);
	/* The final books, for an API that outlives the run (run --linger). */
	st->next_publish_ns = 0;
	snapshot_poll(st, 0);
}

static json_t *strategy_json(const struct ig_oms *o, uint32_t i)
{
	const struct ig_oms_strategy *s = &o->s[i];
	struct ig_oms_totals t;
	json_t *rj = json_object();

	ig_oms_totals(o, i, &t);
	json_t *ctl = json_pack("{s:I, s:I, s:I, s:I, s:I}", "pause",
				(json_int_t)s->ctl_applied[IG_OMS_CK_PAUSE], "resume",
				(json_int_t)s->ctl_applied[IG_OMS_CK_RESUME], "cancel_all",
				(json_int_t)s->ctl_applied[IG_OMS_CK_CANCEL_ALL], "reset",
				(json_int_t)s->ctl_applied[IG_OMS_CK_RESET], "params",
				(json_int_t)s->ctl_applied[IG_OMS_CK_PARAMS]);
	for (int r = 1; r < IG_RJ__COUNT; r++)
		if (s->rejects[r] > 0)
			json_object_set_new(rj, ig_reject_reason_name((enum ig_reject_reason)r),
					    json_integer((json_int_t)s->rejects[r]));
	return json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:I, s:I}",
			 "name", o->cfg->strategies[i].name, "type", o->cfg->strategies[i].type,
			 "state", s->paused ? "paused" : "active", "controls", ctl,
			 "orders", (json_int_t)s->orders, "fills", (json_int_t)s->fills, "rejects", rj,
			 "position", ig_json_money(t.qty), "avg_price", ig_json_money(t.avg_px),
			 "realized_pnl", ig_json_money(t.realized), "unrealized_pnl",
			 ig_json_money(t.unrealized), "fees", ig_json_money(t.fees), "fees_base",
			 ig_json_money(t.fees_base), "cash", ig_json_money(s->cash), "equity",
			 ig_json_money(ig_oms_equity(o, i)), "capital", ig_json_money(s->capital),
			 "refused_fills", (json_int_t)s->refused_fills, "illegal_transitions",
			 (json_int_t)s->om.illegal);
}

static int oms_stage_stats(const void *self, json_t *root)
{
	const struct ig_oms_stage *st = self;
	const struct ig_oms *o = st->oms;
	json_t *strats = json_array();
	int rc = 0;

	for (uint32_t i = 0; i < o->nstrategies; i++)
		rc |= json_array_append_new(strats, strategy_json(o, i));
	rc |= json_object_set_new(root, "strategies", strats);
	rc |= json_object_set_new(root, "cancels_outstanding",
				  json_integer((json_int_t)st->cancels_outstanding));
	rc |= json_object_set_new(root, "state_hash", ig_json_hex(st->state_hash));
	rc |= json_object_set_new(root, "kill_switch", json_boolean(o->kill_switch));
	rc |= json_object_set_new(root, "controls",
				  json_pack("{s:I}", "kill_switch", (json_int_t)o->ctl_kill_switch));
	rc |= json_object_set_new(
		root, "trading_state",
		json_string(ig_trading_state_name((enum ig_trading_state)o->trading_state)));
	return rc == 0 ? 0 : IG_ENOMEM;
}

const struct ig_stage_ops ig_oms_stage_ops = {
	.name = "oms",
	.handle = oms_stage_handle,
	.poll = oms_stage_poll,
	.deadline_ns = oms_stage_deadline,
	.has_work = oms_stage_has_work,
	.done = oms_stage_done,
	.on_stop = oms_stage_on_stop,
	.stats = oms_stage_stats,
};

int ig_oms_recovery_json(const struct ig_oms *o, const char *const *symbols,
			 uint32_t ninstruments, json_t *rec)
{
	json_t *diff = json_object();
	char name[32];
	int bad = diff == NULL;

	for (uint32_t k = 0; k < ninstruments && !bad; k++) {
		snprintf(name, sizeof(name), "%s_base", symbols[k]);
		bad |= json_object_set_new(diff, name, ig_json_money(o->recon_diff_base[k]));
	}
	if (bad) {
		json_decref(diff);
		return IG_ENOMEM;
	}
	bad |= json_object_set_new(diff, "counter", ig_json_money(o->recon_diff_counter));
	bad |= json_object_set_new(rec, "reconciled", json_boolean(o->reconciled));
	bad |= json_object_set_new(rec, "reconcile_passes", json_integer(o->recon_passes));
	bad |= json_object_set_new(rec, "reconcile_error",
				   json_string(ig_recon_error_name((enum ig_recon_error)o->recon_error)));
	bad |= json_object_set_new(rec, "why_closed", json_string(o->recon_why));
	bad |= json_object_set_new(rec, "orders_looked_up", json_integer(o->recon_resolved));
	bad |= json_object_set_new(rec, "fills_found", json_integer(o->recon_fills));
	bad |= json_object_set_new(rec, "adopted", json_integer(o->recon_adopted));
	bad |= json_object_set_new(rec, "foreign_orders", json_integer(o->recon_foreign));
	bad |= json_object_set_new(rec, "balance_mismatch", json_boolean(o->recon_mismatch));
	bad |= json_object_set_new(rec, "balance_diff", diff);
	return bad ? IG_ENOMEM : 0;
}
