/* recover.c - journal replay into the OMS and the venue's recovery input
 * (see recover.h). */
#include "journal/recover.h"

#include "core/clock.h"
#include "core/log.h"
#include "ingenium/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_OUTS 4096u /* regenerated orders/cancels not yet checked (power of two) */

/* Owner: the thread running the replay. sink must stay first. */
struct replay_ctx {
	struct ig_emit sink;
	struct ig_oms *oms;
	const struct ig_recover_account *acct;
	struct ig_replay_info *info;
	int err;
	struct ig_event *outs;    /* REPLAY_OUTS, the ring of regenerated outputs */
	uint32_t outs_head, outs_tail;
};

/* The replay's emitter. What the OMS emits went out (or was settled) in
 * the run that wrote the journal, so nothing goes anywhere; but the
 * orders and cancels it regenerates are kept, to be checked against the
 * journal's OUTPUT records (replay_one). */
static void keep(struct ig_emit *self, enum ig_stage dst, uint32_t idx, struct ig_event *ev)
{
	struct replay_ctx *c = (struct replay_ctx *)(void *)self;
	(void)idx;
	if (dst != IG_STAGE_EXEC || (ev->hdr.type != IG_EV_ORDER && ev->hdr.type != IG_EV_CANCEL))
		return;
	if (c->outs_head - c->outs_tail == REPLAY_OUTS)
		c->outs_tail++; /* an unchecked tail this long is a divergence anyway */
	c->outs[c->outs_head++ & (REPLAY_OUTS - 1)] = *ev;
}

/* An OUTPUT record against the next regenerated output: same kind, order,
 * side, price and quantity, or the replay has diverged from the live run
 * (say, the config changed a limit). A market order's px is not compared:
 * it is the OMS's protection price (a buy's worst send price, from the
 * marks and venue.market_buy_ioc_bps; older builds sent 0), not part of
 * what was ordered. */
static void check_output(struct replay_ctx *c, const struct ig_journal_record *rec)
{
	struct ig_event want, *got;

	if (ig_journal_record_event(rec, &want) != 0 ||
	    (want.hdr.type != IG_EV_ORDER && want.hdr.type != IG_EV_CANCEL))
		return;
	got = c->outs_head != c->outs_tail ? &c->outs[c->outs_tail++ & (REPLAY_OUTS - 1)] : NULL;
	if (got != NULL && got->hdr.type == want.hdr.type &&
	    (want.hdr.type == IG_EV_ORDER
		     ? got->body.order.client_id == want.body.order.client_id &&
			       got->body.order.side == want.body.order.side &&
			       (got->body.order.px == want.body.order.px ||
				want.body.order.type == IG_ORD_MARKET) &&
			       got->body.order.qty == want.body.order.qty
		     : got->body.cancel.client_id == want.body.cancel.client_id))
		return;
	if (c->info->diverged++ == 0)
		c->info->diverged_seq = rec->seq;
}

static bool is_input_type(uint16_t t)
{
	switch (t) {
	case IG_JR_EVENT:
	case IG_JR_MARK:
	case IG_JR_INTENT:
	case IG_JR_CANCEL_REQ:
	case IG_JR_VENUE_ACK:
	case IG_JR_STATE_CHANGE:
	case IG_JR_FILL:
	case IG_JR_REJECT:
		return true;
	default:
		return false;
	}
}

/* If rec is a SESSION record, notes it in info and copies it to *ev.
 * Returns true then. */
static bool note_session(const struct ig_journal_record *rec, struct ig_replay_info *info,
			 struct ig_event *ev)
{
	if ((rec->flags & (IG_JRF_OUTPUT | IG_JRF_DERIVED)) != 0 || rec->type != IG_JR_EVENT ||
	    ig_journal_record_event(rec, ev) != 0 || ev->hdr.type != IG_EV_CONTROL ||
	    ev->body.control.cmd != IG_CTL_SESSION)
		return false;
	info->sessions++;
	info->last_epoch = (uint32_t)ev->body.control.arg & IG_CID_EPOCH_MASK;
	if (info->first_session_ns == 0)
		info->first_session_ns = ev->hdr.ts_event_ns;
	return true;
}

static int scan_one(const struct ig_journal_record *rec, void *arg)
{
	struct ig_event ev;
	note_session(rec, arg, &ev);
	return 0;
}

static int replay_one(const struct ig_journal_record *rec, void *arg)
{
	struct replay_ctx *c = arg;
	struct ig_event ev;

	if (rec->type == IG_JR_SNAPSHOT) {
		int rc = ig_oms_snapshot_read(c->oms, rec->payload, rec->len);
		if (rc != 0) {
			ig_log_error("journal: snapshot at seq %llu does not fit this build or config",
				     (unsigned long long)rec->seq);
			c->err = rc;
			return 1;
		}
		c->info->snapshots++;
		return 0;
	}
	if ((rec->flags & (IG_JRF_OUTPUT | IG_JRF_DERIVED)) != 0 || !is_input_type(rec->type)) {
		if (rec->flags & IG_JRF_OUTPUT)
			check_output(c, rec);
		c->info->skipped++;
		return 0;
	}
	if (note_session(rec, c->info, &ev)) {
		if (ev.body.control.nstrategies > c->oms->nstrategies ||
		    ev.body.control.fingerprint !=
			    ig_recover_fingerprint(c->oms->cfg, ev.body.control.nstrategies))
			c->info->config_changed++;
		/* A journal belongs to one venue account: its books are that
		 * account's (records from before accounts were noted carry 0). */
		if (c->acct != NULL && ev.body.control.account != 0 &&
		    ev.body.control.account != c->acct->hash && c->info->account_changed++ == 0) {
			c->info->account_seq = rec->seq;
			memcpy(c->info->account_key_id, ev.body.control.key_id,
			       sizeof(c->info->account_key_id));
			c->info->account_key_id[sizeof(c->info->account_key_id) - 1] = '\0';
		}
		/* What the OMS went through live when that run started. */
		ig_oms_session_start(c->oms,
				     (ev.body.control.arg >> IG__SESSION_RECOVERING_SHIFT & 1) != 0);
		if (c->oms->first_session_ns == 0)
			c->oms->first_session_ns = ev.hdr.ts_event_ns;
		return 0;
	}
	if (ig_journal_record_event(rec, &ev) != 0) {
		c->info->refused++;
		return 0;
	}
	ig_oms_handle(c->oms, &ev, &c->sink);
	c->info->applied++;
	return 0;
}

int ig_recover_scan(const char *path, struct ig_replay_info *info)
{
	int rc;

	memset(info, 0, sizeof(*info));
	rc = ig_journal_replay(path, scan_one, info, &info->rep);
	if (rc == IG_ENOENT) {
		memset(&info->rep, 0, sizeof(info->rep));
		return 0;
	}
	return rc < 0 ? rc : 0;
}

int ig_recover_replay(const char *path, struct ig_oms *oms, const struct ig_recover_account *acct,
		      struct ig_replay_info *info)
{
	struct replay_ctx c;
	bool muted;
	int64_t t0 = ig_clock_mono_ns();
	bool journal = oms->journal;
	int rc;

	memset(info, 0, sizeof(*info));
	memset(&c, 0, sizeof(c));
	c.oms = oms;
	c.acct = acct;
	c.info = info;
	c.sink.fn = keep;
	c.sink.src = IG_STAGE_OMS;
	c.outs = malloc(REPLAY_OUTS * sizeof(*c.outs));
	if (c.outs == NULL)
		return IG_ENOMEM;
	oms->journal = false;
	/* The run that wrote the journal logged every order, fill and
	 * warning once; a replay repeats none of it (the caller reports what
	 * the replay itself found). */
	muted = ig_log_mute_thread(true); /* this thread only: others may be trading */
	rc = ig_journal_replay(path, replay_one, &c, &info->rep);
	ig_log_mute_thread(muted);
	free(c.outs);
	oms->journal = journal;
	info->elapsed_ns = ig_clock_mono_ns() - t0;
	info->state_hash = ig_oms_state_hash(oms);
	if (rc == IG_ENOENT) {
		memset(&info->rep, 0, sizeof(info->rep));
		return 0;
	}
	if (c.err != 0)
		return c.err;
	return rc < 0 ? rc : 0;
}

uint32_t ig_recover_orders(const struct ig_oms *oms, struct ig_recover_order *orders, uint32_t cap,
			   struct ig_recover *rc)
{
	uint32_t n = 0;

	memset(rc, 0, sizeof(*rc));
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		const struct ig_oms_strategy *s = &oms->s[i];
		for (uint32_t p = 0; p < IG_OM_CAPACITY; p++) {
			const struct ig_order_rec *r = &s->om.pool[p];
			struct ig_recover_order *o;
			if (r->client_id == 0 || ig_order_terminal((enum ig_ord_state)r->state) ||
			    r->armed || r->held)
				continue;
			if (n++ >= cap)
				continue;
			o = &orders[n - 1];
			memset(o, 0, sizeof(*o));
			o->client_id = r->client_id;
			o->venue_order_id = r->venue_order_id;
			o->px = r->px;
			o->qty = r->qty;
			o->filled_qty = r->filled_qty;
			o->last_trade_id = r->last_trade_id;
			o->strategy_id = (uint16_t)i;
			o->instrument_id = r->instrument_id;
			o->side = r->side;
			o->type = r->type;
			o->tif = r->tif;
			o->flags = r->flags;
			o->state = r->state;
			o->cancel_requested = r->cancel_requested || r->state == IG_OS_PENDING_CANCEL;
		}
	}
	rc->orders = orders;
	rc->norders = n < cap ? n : cap;
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++)
		rc->last_trade_seq[k] = oms->last_trade_seq[k];
	return n;
}

/* FNV-1a of s and its NUL (so "ab"+"c" differs from "a"+"bc"),
 * continuing from h. */
static uint64_t fnv_str(uint64_t h, const char *s)
{
	for (const char *q = s;; q++) {
		h = (h ^ (uint8_t)*q) * UINT64_C(0x100000001b3);
		if (*q == '\0')
			return h;
	}
}

uint64_t ig_recover_fingerprint(const struct ig_config *cfg, uint32_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (uint32_t i = 0; i < n && i < cfg->nstrategies; i++)
		h = fnv_str(fnv_str(h, cfg->strategies[i].name), cfg->strategies[i].type);
	return h;
}

void ig_recover_account_of(const struct ig_config *cfg, const char *key_id,
			   struct ig_recover_account *out)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	bool live = ig_venue_is_live(cfg);
	char kind[16];

	if (key_id == NULL)
		key_id = "";
	memset(out, 0, sizeof(*out));
	snprintf(kind, sizeof(kind), "venue %d", cfg->venue.kind);
	h = fnv_str(h, kind);
	h = fnv_str(h, live ? cfg->venue.base_url : "");
	h = fnv_str(h, key_id);
	out->hash = h != 0 ? h : 1;
	snprintf(out->key_id, sizeof(out->key_id), "%s", key_id);
}

void ig_recover_session(struct ig_oms *oms, struct ig_event *ev, uint32_t epoch, bool recovering,
			const struct ig_recover_account *acct, int64_t real_ns)
{
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_CONTROL;
	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	ev->hdr.ts_event_ns = real_ns;
	ev->body.control.cmd = IG_CTL_SESSION;
	ev->body.control.arg = (int64_t)(epoch & IG_CID_EPOCH_MASK) | (int64_t)(recovering ? 1 : 0)
										<< IG__SESSION_RECOVERING_SHIFT;
	ev->body.control.nstrategies = (uint16_t)oms->nstrategies;
	ev->body.control.fingerprint = ig_recover_fingerprint(oms->cfg, oms->nstrategies);
	if (acct != NULL) {
		ev->body.control.account = acct->hash;
		memcpy(ev->body.control.key_id, acct->key_id, sizeof(ev->body.control.key_id));
	}
	if (oms->first_session_ns == 0)
		oms->first_session_ns = real_ns;
}

#define EPOCH_T0_S INT64_C(1577836800) /* 2020-01-01T00:00:00Z */

uint32_t ig_recover_epoch_now(int64_t real_ns)
{
	int64_t min = (real_ns / 1000000000 - EPOCH_T0_S) / 60;
	return min > 0 ? (uint32_t)min & IG_CID_EPOCH_MASK : 0;
}

uint32_t ig_recover_epoch(uint32_t computed, const struct ig_replay_info *info)
{
	if (info->sessions == 0)
		return computed;
	/* Epochs only grow: 24 bits of minutes last until 2051, and a
	 * counter past the last run covers restarts within a minute and a
	 * clock set back. */
	if (computed <= info->last_epoch)
		return (info->last_epoch + 1) & IG_CID_EPOCH_MASK;
	return computed;
}
