/* oms_stage.c - the OMS's stage operations and kill switch request (see
 * oms_stage.h). */
#include "oms/oms_stage.h"

#include "api/snapshot.h"
#include "core/clock.h"
#include "core/jsonx.h"
#include "ingenium/error.h"

#include <stdio.h>
#include <string.h>

void ig_oms_stage_init(struct ig_oms_stage *st, struct ig_oms *oms)
{
	memset(st, 0, sizeof(*st));
	st->oms = oms;
	st->kill_req = oms->kill_switch;
}

void ig_oms_request_kill_switch(struct ig_oms_stage *st, bool on)
{
	__atomic_store_n(&st->kill_req, on, __ATOMIC_RELEASE);
	if (on)
		__atomic_add_fetch(&st->kill_engages, 1, __ATOMIC_RELEASE);
}

/* True when there is a kill switch request to apply: the wanted state
 * differs from the OMS's, or an engage came again while engaged. OMS
 * thread. */
static bool kill_switch_due(const struct ig_oms_stage *st)
{
	bool want = __atomic_load_n(&st->kill_req, __ATOMIC_ACQUIRE);
	return want != st->oms->kill_switch ||
	       (want && __atomic_load_n(&st->kill_engages, __ATOMIC_ACQUIRE) != st->kill_seen);
}

static void oms_stage_handle(void *self, const struct ig_event *ev, struct ig_emit *out)
{
	struct ig_oms_stage *st = self;
	ig_oms_handle(st->oms, ev, out);
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
	for (uint32_t i = 0; i < o->nstrategies; i++) {
		const struct ig_oms_strategy *s = &o->s[i];
		struct ig_snap_strategy *d = &snap->s[i];
		struct ig_oms_totals t;

		ig_oms_totals(o, i, &t);
		snprintf(d->name, sizeof(d->name), "%s", o->cfg->strategies[i].name);
		snprintf(d->type, sizeof(d->type), "%s", o->cfg->strategies[i].type);
		d->trading_state = s->trading_state;
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
	if (!kill_switch_due(st))
		return n;
	/* Requests reach the OMS only through these flags: the handler runs
	 * here, on the OMS's own thread. */
	st->kill_seen = __atomic_load_n(&st->kill_engages, __ATOMIC_ACQUIRE);
	ig_oms_kill_switch(st->oms, __atomic_load_n(&st->kill_req, __ATOMIC_ACQUIRE), out);
	return 1;
}

static bool oms_stage_has_work(void *self)
{
	return kill_switch_due(self);
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
}

static json_t *strategy_json(const struct ig_oms *o, uint32_t i)
{
	const struct ig_oms_strategy *s = &o->s[i];
	struct ig_oms_totals t;
	json_t *rj = json_object();

	ig_oms_totals(o, i, &t);
	for (int r = 1; r < IG_RJ__COUNT; r++)
		if (s->rejects[r] > 0)
			json_object_set_new(rj, ig_reject_reason_name((enum ig_reject_reason)r),
					    json_integer((json_int_t)s->rejects[r]));
	return json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, "
			 "s:I}",
			 "name", o->cfg->strategies[i].name, "type", o->cfg->strategies[i].type,
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
