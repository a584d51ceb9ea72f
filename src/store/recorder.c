/* recorder.c - the OMS's order flow into the history store (see recorder.h). */
#include "store/recorder.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/thread.h"
#include "exec/venue.h"
#include "ingenium/error.h"
#include "journal/journal.h"
#include "journal/recover.h"
#include "store/store_sqlite.h"

#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


enum { IT_ORDER = 1, IT_FILL, IT_DENIAL, IT_EQUITY };

/* One ring slot: what the OMS's thread hands over, before names. */
struct ig__item {
	uint8_t kind;
	uint8_t side, type, tif, state, liquidity;
	uint16_t reason;
	uint16_t sid, iid;
	uint64_t seq;                   /* an order's updates, a fill's place in its books */
	uint64_t cid, vid, trade_id;
	int64_t qty, px, stop_px, filled, fee, fee_base, created, at;
};

/* A set of hooks on one OMS: the live one (into the ring) or a replay's
 * (straight into the store). */
struct ig__hook {
	struct ig_recorder *r;
	bool direct;
	int64_t eq_bucket;     /* data-time period of the last equity sample */
};

struct ig_recorder {
	struct ig_recorder_opts o;
	const struct ig_store_ops *ops;
	char target[1024];
	char journal[IG_CFG_PATH_MAX];
	char symbols[IG_MAX_INSTRUMENTS][IG_CFG_NAME_MAX];
	void *h;                        /* the backend's handle, NULL while closed */
	struct ig__hook live;

	struct ig__item *ring;
	uint64_t cap;
	_Alignas(64) _Atomic uint64_t head; /* written by the OMS's thread */
	uint64_t tail_cache;                /* the producer's view of tail */
	_Alignas(64) _Atomic uint64_t tail; /* written by the recorder's thread */

	_Alignas(64) _Atomic uint64_t dropped;
	_Atomic uint64_t rows, errors, catchups;
	_Atomic bool lost;              /* something never reached the store: catch up */
	_Atomic bool stopping;
	_Atomic bool is_open;
	int64_t stopped_at;

	pthread_t th;
	bool started, stopped;
	bool session_done;              /* the start row is in */
	uint32_t in_tx;                 /* rows in the open transaction (direct writes) */
	bool tx_open;                   /* a direct transaction is open (even with no row in it) */
	bool direct_failed;             /* a direct write failed: the replay's rows are incomplete */
	int stop_rc;
};

const struct ig_store_ops *ig_recorder_backend(int kind)
{
	if (kind == IG_STORE_SQLITE)
		return &ig_store_sqlite_ops;
	if (kind == IG_STORE_POSTGRES)
		return &ig_store_pg_ops;
	return NULL;
}

/* ---- names ------------------------------------------------------------ */




void ig_store_currency_of(const char *sym, bool quote, char *out, size_t cap)
{
	size_t n = strlen(sym), cut = n > 3 ? n - 3 : 0;
	const char *sep = strpbrk(sym, "/-_");
	if (sep != NULL) {
		cut = (size_t)(sep - sym);
		if (quote)
			snprintf(out, cap, "%s", sep + 1);
		else
			snprintf(out, cap, "%.*s", (int)cut, sym);
		return;
	}
	if (n > 4 && (strcmp(sym + n - 4, "USDT") == 0 || strcmp(sym + n - 4, "USDC") == 0))
		cut = n - 4;
	if (quote)
		snprintf(out, cap, "%s", sym + cut);
	else
		snprintf(out, cap, "%.*s", (int)cut, sym);
}

static const char *strategy_name(const struct ig_recorder *r, uint16_t sid)
{
	return sid < r->o.cfg->nstrategies ? r->o.cfg->strategies[sid].name : "";
}

static const char *symbol_name(const struct ig_recorder *r, uint16_t iid)
{
	return iid < r->o.ninstruments ? r->symbols[iid] : "";
}

/* ---- items to rows ------------------------------------------------------ */

/* Writes the row(s) of one item. Returns 0 or the backend's error. */
static int put_item(struct ig_recorder *r, const struct ig__item *it)
{
	const char *daemon = r->o.cfg->store.daemon_id;
	int rc = 0;

	switch (it->kind) {
	case IT_ORDER: {
		struct ig_store_order o;
		struct ig_store_order_event e;
		memset(&o, 0, sizeof(o));
		snprintf(o.daemon_id, sizeof(o.daemon_id), "%s", daemon);
		o.client_order_id = it->cid;
		o.venue_order_id = it->vid;
		snprintf(o.strategy, sizeof(o.strategy), "%s", strategy_name(r, it->sid));
		snprintf(o.symbol, sizeof(o.symbol), "%s", symbol_name(r, it->iid));
		o.side = ig_side_name((enum ig_side)it->side);
		o.type = ig_ord_type_name((enum ig_ord_type)it->type);
		o.tif = ig_tif_name((enum ig_tif)it->tif);
		o.qty = it->qty;
		o.price = it->px;
		o.stop_price = it->stop_px;
		o.filled_qty = it->filled;
		o.state = ig_ord_state_name((enum ig_ord_state)it->state);
		o.reject_reason = it->reason != IG_RJ_NONE
					  ? ig_reject_reason_name((enum ig_reject_reason)it->reason)
					  : NULL;
		o.created_at = it->created;
		o.updated_at = it->at;
		rc = r->ops->put_order(r->h, &o);
		if (rc == 0 && it->seq > 0) {
			memset(&e, 0, sizeof(e));
			memcpy(e.daemon_id, o.daemon_id, sizeof(e.daemon_id));
			e.client_order_id = it->cid;
			e.seq = (uint32_t)it->seq;
			e.state = o.state;
			e.at = it->at;
			rc = r->ops->put_order_event(r->h, &e);
		}
		return rc == 0 ? 0 : rc;
	}
	case IT_FILL: {
		struct ig_store_fill f;
		const char *sym = symbol_name(r, it->iid);
		memset(&f, 0, sizeof(f));
		snprintf(f.daemon_id, sizeof(f.daemon_id), "%s", daemon);
		f.trade_id = it->trade_id;
		f.client_order_id = it->cid;
		snprintf(f.strategy, sizeof(f.strategy), "%s", strategy_name(r, it->sid));
		snprintf(f.symbol, sizeof(f.symbol), "%s", sym);
		f.side = ig_side_name((enum ig_side)it->side);
		f.qty = it->qty;
		f.price = it->px;
		/* A fee charged in base (Luno's buyers) when that is the only one. */
		if (it->fee == 0 && it->fee_base != 0) {
			f.fee = it->fee_base;
			ig_store_currency_of(sym, false, f.fee_currency, sizeof(f.fee_currency));
		} else {
			/* A quote fee, and a base fee besides it if both were charged. */
			f.fee = it->fee;
			f.fee_base = it->fee_base;
			ig_store_currency_of(sym, true, f.fee_currency, sizeof(f.fee_currency));
		}
		f.liquidity = it->liquidity == IG_LIQ_MAKER || it->liquidity == IG_LIQ_TAKER
				      ? ig_liquidity_name((enum ig_liquidity)it->liquidity)
				      : NULL;
		f.at = it->at;
		f.seq = it->seq;
		f.books_ns = it->created != 0 ? it->created : r->o.started_at;
		return r->ops->put_fill(r->h, &f);
	}
	case IT_DENIAL: {
		struct ig_store_denial d;
		memset(&d, 0, sizeof(d));
		snprintf(d.daemon_id, sizeof(d.daemon_id), "%s", daemon);
		d.client_order_id = it->cid;
		snprintf(d.strategy, sizeof(d.strategy), "%s", strategy_name(r, it->sid));
		snprintf(d.symbol, sizeof(d.symbol), "%s", symbol_name(r, it->iid));
		d.reason = ig_reject_reason_name((enum ig_reject_reason)it->reason);
		d.side = ig_side_name((enum ig_side)it->side);
		d.type = it->type != UINT8_MAX ? ig_ord_type_name((enum ig_ord_type)it->type) : NULL;
		d.qty = it->qty;
		d.price = it->px;
		d.at = it->at;
		return r->ops->put_denial(r->h, &d);
	}
	case IT_EQUITY: {
		struct ig_store_equity q;
		memset(&q, 0, sizeof(q));
		snprintf(q.daemon_id, sizeof(q.daemon_id), "%s", daemon);
		snprintf(q.strategy, sizeof(q.strategy), "%s", strategy_name(r, it->sid));
		q.at = it->at;
		q.equity = it->qty;
		q.cash = it->px;
		q.position = it->filled;
		return r->ops->put_equity(r->h, &q);
	}
	default:
		return 0;
	}
}

/* Rows one item makes (for the counters). */
static uint64_t item_rows(const struct ig__item *it)
{
	return it->kind == IT_ORDER && it->seq > 0 ? 2 : 1;
}

static void note_error(struct ig_recorder *r, const char *what, int rc)
{
	const char *msg = r->ops == &ig_store_sqlite_ops ? ig_store_sqlite_error(r->h) : "";
	atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
	ig_log_warn("store: %s failed (%s)%s%s", what, ig_strerror(rc), msg[0] ? ": " : "", msg);
}

/* ---- direct writes (sync mode, replays) -------------------------------- */

static int direct_commit(struct ig_recorder *r)
{
	char err[256];
	int rc;
	if (!r->tx_open)
		return 0;
	r->tx_open = false;
	rc = r->ops->commit(r->h, err, sizeof(err));
	if (rc != 0) {
		r->ops->rollback(r->h);
		atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
		ig_log_warn("store: commit failed: %s", err);
		r->direct_failed = true;
	} else {
		atomic_fetch_add_explicit(&r->rows, r->in_tx, memory_order_relaxed);
	}
	r->in_tx = 0;
	return rc;
}

static void direct_put(struct ig_recorder *r, const struct ig__item *it)
{
	char err[256];
	int rc;
	if (r->h == NULL || r->direct_failed)
		return;
	if (!r->tx_open) {
		rc = r->ops->begin(r->h, err, sizeof(err));
		if (rc != 0) {
			atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
			ig_log_warn("store: begin failed: %s", err);
			r->direct_failed = true;
			return;
		}
		r->tx_open = true;
	}
	rc = put_item(r, it);
	if (rc == IG_EINVAL) {
		note_error(r, "a row refused;", rc); /* the row, not the store: skip it */
		return;
	}
	if (rc != 0) {
		note_error(r, "write", rc);
		r->ops->rollback(r->h);
		r->in_tx = 0;
		r->tx_open = false;
		r->direct_failed = true;
		return;
	}
	r->in_tx += (uint32_t)item_rows(it);
	if (r->in_tx >= IG_RECORDER_BATCH_ROWS)
		direct_commit(r);
}

/* ---- the hooks (the OMS's thread) -------------------------------------- */

static void push(struct ig__hook *k, const struct ig__item *it)
{
	struct ig_recorder *r = k->r;
	uint64_t h;

	if (k->direct) {
		direct_put(r, it);
		return;
	}
	h = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (h - r->tail_cache >= r->cap) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (h - r->tail_cache >= r->cap) {
			atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
			atomic_store_explicit(&r->lost, true, memory_order_relaxed);
			return;
		}
	}
	r->ring[h & (r->cap - 1)] = *it;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static void on_tap(void *arg, const struct ig_oms *oms, const struct ig_event *ev,
		   const struct ig_order_rec *rec)
{
	struct ig__item it;
	memset(&it, 0, sizeof(it));
	it.sid = ev->hdr.strategy_id;
	it.iid = ev->hdr.instrument_id;
	it.at = ev->hdr.ts_event_ns;
	switch (ev->hdr.type) {
	case IG_EV_ORDER_UPDATE:
		if (rec == NULL)
			return;
		it.kind = IT_ORDER;
		it.iid = rec->instrument_id;
		it.cid = rec->client_id;
		it.vid = rec->venue_order_id;
		it.side = rec->side;
		it.type = rec->orig_type;
		it.tif = rec->tif;
		it.state = rec->state;
		it.reason = ev->body.update.reason;
		it.qty = rec->qty;
		it.px = rec->px;
		it.stop_px = rec->stop_px;
		it.filled = rec->filled_qty;
		it.created = rec->ts_event_ns;
		/* The announcement after a replay restates an order: no new event. */
		it.seq = (ev->hdr.flags & IG_EVF_ADOPT) && ev->body.update.prev_state == rec->state
				 ? 0
				 : rec->updates;
		break;
	case IG_EV_FILL:
		it.kind = IT_FILL;
		it.cid = ev->body.fill.client_id;
		it.trade_id = ev->body.fill.trade_id;
		it.side = ev->body.fill.side;
		it.liquidity = ev->body.fill.liquidity;
		it.qty = ev->body.fill.qty;
		it.px = ev->body.fill.px;
		it.fee = ev->body.fill.fee;
		it.fee_base = ev->body.fill.fee_base;
		it.seq = ig_oms_fills(oms, ev->hdr.strategy_id);
		it.created = ig_oms_books_ns(oms); /* 0 without a journal: put_item uses the run's start */
		break;
	case IG_EV_REJECT:
		if (ev->body.reject.by_venue)
			return;
		it.kind = IT_DENIAL;
		it.cid = ev->body.reject.client_id;
		it.side = ev->body.reject.side;
		it.reason = ev->body.reject.reason;
		it.qty = ev->body.reject.qty;
		it.px = ev->body.reject.px;
		it.type = rec != NULL ? rec->orig_type : UINT8_MAX; /* an intent denied: unknown */
		break;
	default:
		return;
	}
	push(arg, &it);
}

static void on_observe(void *arg, const struct ig_oms *oms, const struct ig_event *ev)
{
	struct ig__hook *k = arg;
	int64_t period, bucket;
	uint32_t n;

	if (ev->hdr.type != IG_EV_QUOTE && ev->hdr.type != IG_EV_TRADE && ev->hdr.type != IG_EV_BAR)
		return;
	if (k->r->o.cfg->store.equity_every_s <= 0)
		return;
	period = k->r->o.cfg->store.equity_every_s * INT64_C(1000000000);
	bucket = ev->hdr.ts_event_ns / period;
	if (bucket == k->eq_bucket)
		return;
	k->eq_bucket = bucket;
	n = ig_oms_nstrategies(oms);
	for (uint32_t i = 0; i < n; i++) {
		struct ig_oms_totals t;
		struct ig__item it;
		ig_oms_totals(oms, i, &t);
		memset(&it, 0, sizeof(it));
		it.kind = IT_EQUITY;
		it.sid = (uint16_t)i;
		it.at = bucket * period;
		it.qty = ig_oms_equity(oms, i);
		it.px = t.cash;
		it.filled = t.qty;
		push(k, &it);
	}
}

int ig_recorder_attach(struct ig_recorder *r, struct ig_oms *oms)
{
	int rc = ig_oms_add_tap(oms, on_tap, &r->live);
	if (rc == 0)
		rc = ig_oms_add_observer(oms, on_observe, &r->live);
	return rc;
}

/* ---- the store's side --------------------------------------------------- */

static int write_session(struct ig_recorder *r, int64_t stopped_at)
{
	struct ig_store_session s;
	char err[256];
	int rc;

	memset(&s, 0, sizeof(s));
	snprintf(s.daemon_id, sizeof(s.daemon_id), "%s", r->o.cfg->store.daemon_id);
	s.run_epoch = r->o.run_epoch;
	snprintf(s.config_hash, sizeof(s.config_hash), "%016" PRIx64,
		 ig_recover_fingerprint(r->o.cfg, r->o.cfg->nstrategies));
	snprintf(s.venue, sizeof(s.venue), "%s",
		 ig_venue_name_at(r->o.cfg->venue.kind) ? ig_venue_name_at(r->o.cfg->venue.kind) : "");
	s.started_at = r->o.started_at;
	s.stopped_at = stopped_at;
	rc = r->ops->begin(r->h, err, sizeof(err));
	if (rc == 0 && (rc = r->ops->put_session(r->h, &s)) != 0)
		r->ops->rollback(r->h);
	else if (rc == 0 && (rc = r->ops->commit(r->h, err, sizeof(err))) != 0)
		r->ops->rollback(r->h);
	if (rc != 0)
		note_error(r, "session row", rc);
	else
		atomic_fetch_add_explicit(&r->rows, 1, memory_order_relaxed);
	return rc;
}

static int open_store(struct ig_recorder *r, char *err, size_t errlen)
{
	int rc = r->ops->open(&r->h, r->target, err, errlen);
	if (rc != 0) {
		r->h = NULL;
		return rc;
	}
	atomic_store_explicit(&r->is_open, true, memory_order_relaxed);
	return 0;
}

static void close_store(struct ig_recorder *r)
{
	if (r->h != NULL)
		r->ops->close(r->h);
	r->h = NULL;
	atomic_store_explicit(&r->is_open, false, memory_order_relaxed);
}

int ig_recorder_replay(struct ig_recorder *r, const char *path)
{
	struct ig_oms *oms = calloc(1, sizeof(*oms));
	struct ig__hook k = { r, true, INT64_MIN };
	struct ig_replay_info ri;
	const struct ig_config *cfg = r->o.cfg;
	int rc;

	if (oms == NULL)
		return IG_ENOMEM;
	rc = ig_oms_init(oms, cfg,
			 cfg->engine.strategy_threads ? cfg->engine.strategy_threads
						      : IG_CFG_DEFAULT_STRATEGY_THREADS);
	if (rc != 0) {
		free(oms);
		return rc;
	}
	ig_oms_set_data_clock(oms, cfg->engine.threading == IG_THREADING_INLINE);
	ig_oms_set_quiet_orders(oms, true);
	ig_oms_add_tap(oms, on_tap, &k);
	ig_oms_add_observer(oms, on_observe, &k);
	r->direct_failed = false;
	rc = ig_recover_replay(path, oms, NULL, &ri);
	if (rc == 0 && ri.rep.records == 0)
		rc = IG_ENOENT;
	if (direct_commit(r) != 0 || r->direct_failed)
		rc = rc != 0 ? rc : IG_EIO;
	ig_oms_destroy(oms);
	free(oms);
	return rc;
}

struct sess_ctx {
	struct ig_recorder *r;
	int rc;
};

static int session_one(const struct ig_journal_record *rec, void *arg)
{
	struct sess_ctx *c = arg;
	struct ig_recorder *r = c->r;
	struct ig_event ev;
	struct ig_store_session s;

	if ((rec->flags & (IG_JRF_OUTPUT | IG_JRF_DERIVED)) != 0 || rec->type != IG_JR_EVENT ||
	    ig_journal_record_event(rec, &ev) != 0 || ev.hdr.type != IG_EV_CONTROL ||
	    ev.body.control.cmd != IG_CTL_SESSION)
		return 0;
	memset(&s, 0, sizeof(s));
	snprintf(s.daemon_id, sizeof(s.daemon_id), "%s", r->o.cfg->store.daemon_id);
	s.run_epoch = (uint32_t)ev.body.control.arg & IG_CID_EPOCH_MASK;
	snprintf(s.config_hash, sizeof(s.config_hash), "%016" PRIx64, ev.body.control.fingerprint);
	snprintf(s.venue, sizeof(s.venue), "%s",
		 ig_venue_name_at(r->o.cfg->venue.kind) ? ig_venue_name_at(r->o.cfg->venue.kind) : "");
	s.started_at = ev.hdr.ts_event_ns;
	c->rc = r->ops->put_session(r->h, &s);
	if (c->rc != 0)
		return 1;
	atomic_fetch_add_explicit(&r->rows, 1, memory_order_relaxed);
	return 0;
}

int ig_recorder_journal_sessions(struct ig_recorder *r, const char *path)
{
	struct sess_ctx c = { r, 0 };
	char err[256];
	int rc;

	if (r->h == NULL)
		return IG_EIO;
	rc = r->ops->begin(r->h, err, sizeof(err));
	if (rc != 0)
		return rc;
	rc = ig_journal_replay(path, session_one, &c, NULL);
	if (rc == 1)
		rc = c.rc;
	if (rc == 0)
		rc = r->ops->commit(r->h, err, sizeof(err));
	if (rc != 0) {
		note_error(r, "session rows", rc);
		r->ops->rollback(r->h);
	}
	return rc;
}

struct fits_ctx {
	const struct ig_config *cfg;
	int rc;
};

static int fits_one(const struct ig_journal_record *rec, void *arg)
{
	struct fits_ctx *c = arg;
	struct ig_event ev;

	if ((rec->flags & (IG_JRF_OUTPUT | IG_JRF_DERIVED)) != 0 || rec->type != IG_JR_EVENT ||
	    ig_journal_record_event(rec, &ev) != 0 || ev.hdr.type != IG_EV_CONTROL ||
	    ev.body.control.cmd != IG_CTL_SESSION)
		return 0;
	if (ev.body.control.nstrategies > c->cfg->nstrategies ||
	    ev.body.control.fingerprint !=
		    ig_recover_fingerprint(c->cfg, ev.body.control.nstrategies)) {
		c->rc = IG_ESTATE;
		return 1;
	}
	return 0;
}

int ig_recorder_journal_fits(const struct ig_config *cfg, const char *path)
{
	struct fits_ctx c = { cfg, 0 };
	int rc;

	if (access(path, R_OK) != 0)
		return IG_ENOENT;
	rc = ig_journal_replay(path, fits_one, &c, NULL);
	return rc == 1 ? c.rc : rc;
}

int ig_recorder_rebuild(const struct ig_recorder_opts *o, const char *path,
			struct ig_recorder_stats *st, char *err, size_t errlen)
{
	struct ig_recorder_opts ro;
	struct ig_recorder *r = NULL;
	int rc;

	memset(&ro, 0, sizeof(ro));
	ro.ops = o->ops;
	ro.target = o->target;
	ro.cfg = o->cfg;
	ro.symbols = o->symbols;
	ro.ninstruments = o->ninstruments;
	ro.sync = true;
	ro.no_session = true;
	memset(st, 0, sizeof(*st));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	rc = ig_recorder_create(&r, &ro, err, errlen);
	if (rc != 0)
		return rc;
	rc = ig_recorder_journal_sessions(r, path);
	if (rc == 0)
		rc = ig_recorder_replay(r, path);
	if (ig_recorder_stop(r, 0) != 0 && rc == 0)
		rc = IG_EIO;
	ig_recorder_stats(r, st);
	ig_recorder_destroy(r);
	if (rc != 0 && err != NULL && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s (%" PRIu64 " errors)", ig_strerror(rc), st->errors);
	return rc;
}

/* Replays the journal into the store (the recorder's thread). Returns 0
 * or the replay's error (then `lost` stays set). */
static int catch_up(struct ig_recorder *r)
{
	int64_t t0 = ig_clock_mono_ns();
	uint64_t rows0 = atomic_load_explicit(&r->rows, memory_order_relaxed);
	int rc;

	atomic_store_explicit(&r->lost, false, memory_order_relaxed);
	ig_log_info("store: catching up from the journal %s (dropped %" PRIu64 " items so far)",
		    r->journal, atomic_load_explicit(&r->dropped, memory_order_relaxed));
	rc = ig_recorder_replay(r, r->journal);
	atomic_fetch_add_explicit(&r->catchups, 1, memory_order_relaxed);
	if (rc != 0 && rc != IG_ENOENT) {
		atomic_store_explicit(&r->lost, true, memory_order_relaxed);
		ig_log_warn("store: catch-up from %s failed (%s)", r->journal, ig_strerror(rc));
		if (r->direct_failed)
			close_store(r);
		return rc;
	}
	ig_log_info("store: caught up from the journal: %" PRIu64 " rows in %.3f s",
		    atomic_load_explicit(&r->rows, memory_order_relaxed) - rows0,
		    (double)(ig_clock_mono_ns() - t0) / 1e9);
	return 0;
}

/* Writes up to IG_RECORDER_BATCH_ROWS items from the ring in one
 * transaction; the ring lets them go only once committed. Returns the
 * items written, or -1 when the store failed (then closed). */
static long write_batch(struct ig_recorder *r, uint64_t tail, uint64_t n)
{
	char err[256];
	uint64_t rows = 0;
	int rc = r->ops->begin(r->h, err, sizeof(err));

	if (rc != 0) {
		atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
		ig_log_warn("store: begin failed: %s", err);
		close_store(r);
		return -1;
	}
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		const struct ig__item *it = &r->ring[(tail + i) & (r->cap - 1)];
		rc = put_item(r, it);
		if (rc == IG_EINVAL) {
			/* The backend refuses this row itself (not the store
			 * being down): skip it, counted, so one bad row never
			 * holds every later one back. */
			note_error(r, "a row refused;", rc);
			rc = 0;
			continue;
		}
		rows += item_rows(it);
	}
	if (rc != 0) {
		note_error(r, "write", rc);
		r->ops->rollback(r->h);
		close_store(r);
		return -1;
	}
	rc = r->ops->commit(r->h, err, sizeof(err));
	if (rc != 0) {
		atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
		ig_log_warn("store: commit failed: %s", err);
		r->ops->rollback(r->h);
		close_store(r);
		return -1;
	}
	atomic_fetch_add_explicit(&r->rows, rows, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return (long)n;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *recorder_main(void *arg)
{
	struct ig_recorder *r = arg;
	int64_t backoff_ms = 100, next_open = 0, last_commit = 0, last_log = ig_clock_mono_ns();
	int64_t next_catchup = 0, catchup_backoff_ms = IG_RECORDER_CATCHUP_MIN_MS;
	uint32_t stop_tries = 0, batch_fails = 0, stop_catchups = 0;
	char err[256];

	ig_log_attach("ig-recorder");
	for (;;) {
		bool stopping = atomic_load_explicit(&r->stopping, memory_order_acquire);
		int64_t now = ig_clock_mono_ns();
		uint64_t head, tail;

		if (r->h == NULL) {
			/* Stopping: the next try within IG_RECORDER_STOP_RETRY_MS,
			 * whatever the backoff said. */
			if (stopping && next_open - now > IG_RECORDER_STOP_RETRY_MS * INT64_C(1000000))
				next_open = now + IG_RECORDER_STOP_RETRY_MS * INT64_C(1000000);
			if (now < next_open) {
				sleep_ms(stopping ? 20 : 5);
				continue;
			}
			int rc = open_store(r, err, sizeof(err));

			if (rc != 0) {
				atomic_fetch_add_explicit(&r->errors, 1, memory_order_relaxed);
			} else if (!r->session_done && !r->o.no_session) {
				/* The start row first. A store that opens but
				 * refuses it (a full disk, a lock, a permission)
				 * is retried as one that does not open: with
				 * backoff, and given up at stop (write_session
				 * counted the error). */
				if (write_session(r, 0) != 0) {
					close_store(r);
					snprintf(err, sizeof(err), "the session's start row was refused");
					rc = IG_EIO;
				} else {
					r->session_done = true;
				}
			}
			if (rc != 0) {
				ig_log_warn("store: cannot open %s: %s (retrying in %lld ms)",
					    r->ops == &ig_store_sqlite_ops ? r->target : r->ops->name,
					    err, (long long)backoff_ms);
				next_open = now + backoff_ms * 1000000;
				backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
				if (stopping && ++stop_tries >= IG_RECORDER_STOP_OPENS) {
					r->stop_rc = IG_EIO;
					break;
				}
				continue;
			}
			backoff_ms = 100;
			if (atomic_load_explicit(&r->errors, memory_order_relaxed) > 0)
				ig_log_info("store: %s open again", r->ops->name);
		}
		/* Catch up as soon as the store takes rows again; at stop, once
		 * the ring is written (the journal is final by then). */
		head = atomic_load_explicit(&r->head, memory_order_acquire);
		tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
		if (atomic_load_explicit(&r->lost, memory_order_relaxed) && r->journal[0] != '\0' &&
		    (stopping ? head == tail : now >= next_catchup)) {
			/* At stop a catch-up that fails is given up after
			 * IG_RECORDER_STOP_CATCHUPS tries: the stop must end
			 * (the journal still has everything: `ingenium
			 * history rebuild`). */
			if (stopping && ++stop_catchups > IG_RECORDER_STOP_CATCHUPS) {
				ig_log_error("store: catch-up at stop failed %u times; the store is "
					     "incomplete: rebuild it from the journal (ingenium history "
					     "rebuild)",
					     stop_catchups - 1);
				r->stop_rc = IG_EIO;
				break;
			}
			/* Live, a replay (the whole journal, on a core the
			 * trading threads share) runs at most once a
			 * second, and one that failed is retried with
			 * backoff (1 s doubling to 60 s), never in a loop. */
			if (catch_up(r) != 0 && r->h != NULL) {
				next_catchup = ig_clock_mono_ns() + catchup_backoff_ms * 1000000;
				catchup_backoff_ms = catchup_backoff_ms * 2 > IG_RECORDER_CATCHUP_MAX_MS
							     ? IG_RECORDER_CATCHUP_MAX_MS
							     : catchup_backoff_ms * 2;
			} else {
				next_catchup = ig_clock_mono_ns() + IG_RECORDER_CATCHUP_MIN_MS * 1000000;
				catchup_backoff_ms = IG_RECORDER_CATCHUP_MIN_MS;
			}
			if (r->h == NULL)
				continue;
		}
		if (now - last_log >= INT64_C(10000000000)) {
			last_log = now;
			if (head - tail > IG_RECORDER_BATCH_ROWS ||
			    atomic_load_explicit(&r->lost, memory_order_relaxed))
				ig_log_warn("store: %" PRIu64 " items behind, %" PRIu64 " dropped%s",
					    head - tail,
					    atomic_load_explicit(&r->dropped, memory_order_relaxed),
					    r->journal[0] != '\0' ? " (catching up from the journal)"
								  : " (no journal to catch up from)");
		}
		if (head == tail) {
			if (stopping)
				break;
			sleep_ms(2);
			continue;
		}
		if (!stopping && head - tail < IG_RECORDER_BATCH_ROWS &&
		    now - last_commit < IG_RECORDER_BATCH_MS * INT64_C(1000000)) {
			sleep_ms(2);
			continue;
		}
		if (write_batch(r, tail,
				head - tail > IG_RECORDER_BATCH_ROWS ? IG_RECORDER_BATCH_ROWS
								     : head - tail) < 0) {
			/* The same batch again once the store is back; one that
			 * keeps failing on an open store is given up (and caught
			 * up from the journal). At stop with a journal, what is
			 * left is given up at the first failure (each try may
			 * cost a lock or statement timeout): the journal's
			 * catch-up writes it all. Without a journal, nothing
			 * could bring it back: the batch is retried as live. */
			bool all = stopping && r->journal[0] != '\0';
			if (all || ++batch_fails >= 5) {
				uint64_t n = all ? head - tail
					     : head - tail > IG_RECORDER_BATCH_ROWS ? IG_RECORDER_BATCH_ROWS
										     : head - tail;
				atomic_fetch_add_explicit(&r->dropped, n, memory_order_relaxed);
				atomic_store_explicit(&r->lost, true, memory_order_relaxed);
				atomic_store_explicit(&r->tail, tail + n, memory_order_release);
				batch_fails = 0;
			}
			next_open = ig_clock_mono_ns() + backoff_ms * 1000000;
			continue;
		}
		batch_fails = 0;
		last_commit = ig_clock_mono_ns();
	}
	if (r->h != NULL) {
		if (!r->o.no_session && r->stopped_at != 0 && write_session(r, r->stopped_at) != 0)
			r->stop_rc = IG_EIO;
		if (atomic_load_explicit(&r->lost, memory_order_relaxed))
			r->stop_rc = IG_EIO; /* dropped, and no journal to catch up from */
	}
	close_store(r);
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

int ig_recorder_create(struct ig_recorder **out, const struct ig_recorder_opts *o, char *err,
		       size_t errlen)
{
	struct ig_recorder *r = calloc(1, sizeof(*r));
	uint64_t cap = 1;
	int rc;

	*out = NULL;
	if (r == NULL) {
		snprintf(err, errlen, "store: out of memory");
		return IG_ENOMEM;
	}
	r->o = *o;
	r->ops = o->ops;
	snprintf(r->target, sizeof(r->target), "%s", o->target != NULL ? o->target : "");
	snprintf(r->journal, sizeof(r->journal), "%s", o->journal != NULL ? o->journal : "");
	r->o.target = r->target;
	r->o.journal = r->journal;
	r->o.ninstruments = o->ninstruments < IG_MAX_INSTRUMENTS ? o->ninstruments : IG_MAX_INSTRUMENTS;
	for (uint16_t k = 0; k < r->o.ninstruments; k++)
		snprintf(r->symbols[k], sizeof(r->symbols[k]), "%s", o->symbols[k]);
	r->o.symbols = NULL;
	r->live.r = r;
	r->live.direct = o->sync;
	r->live.eq_bucket = INT64_MIN;
	/* A run that died left in the journal what its recorder had not
	 * committed: replay it (idempotent) as soon as the store opens. */
	if (o->catch_up_at_start && r->journal[0] != '\0')
		atomic_store_explicit(&r->lost, true, memory_order_relaxed);
	if (o->sync) {
		rc = open_store(r, err, errlen);
		if (rc != 0) {
			free(r);
			return rc;
		}
	} else {
		uint64_t want = o->ring_size ? o->ring_size : IG_RECORDER_RING_DEFAULT;
		while (cap < want)
			cap <<= 1;
		r->cap = cap;
		r->ring = calloc(cap, sizeof(*r->ring));
		if (r->ring == NULL) {
			free(r);
			snprintf(err, errlen, "store: out of memory");
			return IG_ENOMEM;
		}
	}
	*out = r;
	return 0;
}

int ig_recorder_start(struct ig_recorder *r)
{
	int rc;

	if (r->o.sync) {
		if (!r->o.no_session && write_session(r, 0) != 0)
			return IG_EIO;
		r->session_done = true;
		return 0;
	}
	/* The recorder takes no signal: the main thread does. */
	rc = ig_thread_start_quiet(&r->th, recorder_main, r);
	if (rc != 0)
		return rc;
	r->started = true;
	return 0;
}

int ig_recorder_stop(struct ig_recorder *r, int64_t stopped_at)
{
	if (r == NULL || r->stopped)
		return r != NULL ? r->stop_rc : 0;
	r->stopped = true;
	r->stopped_at = stopped_at;
	if (r->o.sync) {
		if (direct_commit(r) != 0 || r->direct_failed)
			r->stop_rc = IG_EIO;
		if (r->h != NULL && !r->o.no_session && stopped_at != 0 &&
		    write_session(r, stopped_at) != 0)
			r->stop_rc = IG_EIO;
		close_store(r);
		return r->stop_rc;
	}
	if (!r->started)
		return 0;
	atomic_store_explicit(&r->stopping, true, memory_order_release);
	pthread_join(r->th, NULL);
	r->started = false;
	return r->stop_rc;
}

void ig_recorder_destroy(struct ig_recorder *r)
{
	if (r == NULL)
		return;
	ig_recorder_stop(r, 0);
	close_store(r);
	free(r->ring);
	free(r);
}

void ig_recorder_stats(const struct ig_recorder *r, struct ig_recorder_stats *st)
{
	struct ig_recorder *m = (struct ig_recorder *)(uintptr_t)r; /* atomics: loads only */
	memset(st, 0, sizeof(*st));
	st->kind = r->ops->name;
	st->rows = atomic_load_explicit(&m->rows, memory_order_relaxed);
	st->dropped = atomic_load_explicit(&m->dropped, memory_order_relaxed);
	st->behind = atomic_load_explicit(&m->head, memory_order_relaxed) -
		     atomic_load_explicit(&m->tail, memory_order_relaxed);
	st->errors = atomic_load_explicit(&m->errors, memory_order_relaxed);
	st->catchups = atomic_load_explicit(&m->catchups, memory_order_relaxed);
	st->open = atomic_load_explicit(&m->is_open, memory_order_relaxed);
}

int ig_recorder_stats_json(const struct ig_recorder *r, json_t *root)
{
	struct ig_recorder_stats st;
	json_t *o;
	ig_recorder_stats(r, &st);
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "kind", st.kind, "rows", (json_int_t)st.rows,
		      "dropped", (json_int_t)st.dropped, "behind", (json_int_t)st.behind, "errors",
		      (json_int_t)st.errors, "catchups", (json_int_t)st.catchups);
	if (o == NULL)
		return -1;
	return json_object_set_new(root, "store", o) == 0 ? 0 : -1;
}
