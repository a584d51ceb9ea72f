/*
 * oms_state.c - the OMS's book state as bytes: one walk over every field
 * that a replay must rebuild, used three ways (hash, snapshot write,
 * snapshot read), so the three can never disagree about what the state is.
 *
 * Design
 * ------
 * struct ig__sv is a visitor: each field is visited by value width, in a
 * fixed order, and the mode decides what happens to it. Fields are
 * encoded little-endian at their width, never as raw struct bytes, so
 * padding (whose contents C leaves unspecified) never reaches the hash or
 * the snapshot. The walk covers, per strategy: the order manager (the whole
 * pool, free list included, both hash tables, counters and the history
 * ring: a replayed OMS must allocate the next order in the same slot),
 * positions, cash, open totals, counters, limit state, the duplicate
 * window, armed and held lists; and globally: marks, the global rate
 * bucket, the trading state, the kill switch, trade cursors and the
 * reconciliation baseline. It leaves out the run-scoped fields listed in
 * oms.h, and the limits (they come from the config).
 *
 * Snapshot layout: "IGOMSNP1", u32 strategy count, u32 pool capacity, u32
 * hash size, u32 history size, u64 byte count of the walk, then the walk.
 *
 * Owner: whoever owns the OMS (its thread, or recovery before it starts).
 */
#include "oms/oms.h"

#include "ingenium/error.h"

#include <stdio.h>
#include <string.h>

#define SNAP_MAGIC "IGOMSNP4" /* 2: paused, the `paused` reject count; 3: params;
			      * 4: each order's update count */
#define SNAP_HEADER 32u

enum { SV_HASH, SV_WRITE, SV_READ, SV_SIZE };

struct ig__sv {
	int mode;
	uint8_t *buf;   /* SV_WRITE, SV_READ */
	size_t off;     /* bytes visited */
	size_t cap;
	uint64_t hash;  /* SV_HASH: per-field multiply-xor, see sv_uint() */
};

static void sv_bytes(struct ig__sv *v, uint8_t *p, size_t n)
{
	switch (v->mode) {
	case SV_WRITE:
		if (v->off + n <= v->cap)
			memcpy(v->buf + v->off, p, n);
		break;
	case SV_READ:
		if (v->off + n <= v->cap)
			memcpy(p, v->buf + v->off, n);
		break;
	default:
		break;
	}
	v->off += n;
}

/* One unsigned field of width n bytes, little-endian; returns the field's
 * value (read back in SV_READ, unchanged otherwise). The hash folds the
 * whole field in one step, h = (h ^ x) * odd constant: a bijection of h for
 * each x, so two states that differ in one field always hash differently;
 * the walk's order and widths are fixed, so the sequence of field values
 * says as much as the byte sequence. ig_oms_state_hash() adds a final mix.
 * (Byte-wise FNV-1a cost about 6 M instructions per strategy at every stop,
 * more than a 7,000-event backtest itself.) */
static inline uint64_t sv_uint(struct ig__sv *v, uint64_t x, size_t n)
{
	uint8_t b[8];
	if (v->mode == SV_HASH) {
		v->hash = (v->hash ^ x) * UINT64_C(0x9e3779b97f4a7c15);
		v->off += n;
		return x;
	}
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(x >> (8 * i));
	sv_bytes(v, b, n);
	x = 0;
	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)b[i] << (8 * i);
	return x;
}

#define SV_U64(v, f) ((f) = sv_uint((v), (uint64_t)(f), 8))
#define SV_I64(v, f) ((f) = (int64_t)sv_uint((v), (uint64_t)(f), 8))
#define SV_U32(v, f) ((f) = (uint32_t)sv_uint((v), (uint64_t)(f), 4))
#define SV_U16(v, f) ((f) = (uint16_t)sv_uint((v), (uint64_t)(f), 2))
#define SV_U8(v, f) ((f) = (uint8_t)sv_uint((v), (uint64_t)(f), 1))
#define SV_BOOL(v, f) ((f) = sv_uint((v), (uint64_t)(f), 1) != 0)

/* An order record's fields, in walk order, with their kinds (one list for
 * the visitor and the hash-only walk below). */
#define SV_ORDER_FIELDS(X)                 \
	X(U64, client_id)                  \
	X(U64, venue_order_id)             \
	X(I64, px)                         \
	X(I64, qty)                        \
	X(I64, filled_qty)                 \
	X(I64, fill_notional)              \
	X(I64, fees)                       \
	X(I64, ref_px)                     \
	X(I64, reserved)                   \
	X(I64, ts_event_ns)                \
	X(U64, last_trade_id)              \
	X(I64, stop_px)                    \
	X(I64, trail)                      \
	X(I64, trail_ref_px)               \
	X(I64, sl_px)                      \
	X(U64, replaces)                   \
	X(U64, parent_id)                  \
	X(U8, orig_type)                   \
	X(BOOL, armed)                     \
	X(BOOL, held)                      \
	X(BOOL, cancel_requested)          \
	X(BOOL, expiring)                  \
	X(U16, instrument_id)              \
	X(U8, side)                        \
	X(U8, type)                        \
	X(U8, tif)                         \
	X(U8, flags)                       \
	X(U8, state)                       \
	X(U32, updates)                    \
	X(U32, next_free)

/* The width each kind is walked at (sv_uint's n). */
#define SVW_U64 8u
#define SVW_I64 8u
#define SVW_U32 4u
#define SVW_U16 2u
#define SVW_U8 1u
#define SVW_BOOL 1u

static void sv_order(struct ig__sv *v, struct ig_order_rec *r)
{
#define X(kind, f) SV_##kind(v, r->f);
	SV_ORDER_FIELDS(X)
#undef X
}

/* n order records in a row. The hash walk folds each field exactly as
 * sv_uint() does, in registers, without writing the fields back (the
 * same values in the same order: the same hash); the widths add up to
 * what the visitor would have counted. */
static void sv_orders(struct ig__sv *v, struct ig_order_rec *r, uint32_t n)
{
	if (v->mode == SV_HASH) {
		uint64_t h = v->hash;
		for (uint32_t i = 0; i < n; i++) {
			const struct ig_order_rec *o = &r[i];
#define X(kind, f) h = (h ^ (uint64_t)(o->f)) * UINT64_C(0x9e3779b97f4a7c15);
			SV_ORDER_FIELDS(X)
#undef X
		}
		v->hash = h;
#define X(kind, f) +SVW_##kind
		v->off += (size_t)n * (0 SV_ORDER_FIELDS(X));
#undef X
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		sv_order(v, &r[i]);
}

static void sv_order_mgr(struct ig__sv *v, struct ig_order_mgr *m)
{
	sv_orders(v, m->pool, IG_OM_CAPACITY);
	for (uint32_t i = 0; i < IG_OM_HASH; i++) {
		SV_U32(v, m->by_client[i]);
		SV_U32(v, m->by_venue[i]);
	}
	SV_U32(v, m->free_head);
	SV_U32(v, m->live);
	SV_U32(v, m->open);
	SV_U32(v, m->tombs);
	SV_U64(v, m->retired);
	SV_U64(v, m->illegal);
	sv_orders(v, m->history, IG_OM_HISTORY);
	SV_U64(v, m->history_n);
}

static void sv_bucket(struct ig__sv *v, struct ig_bucket *b)
{
	SV_I64(v, b->tokens_e9);
	SV_I64(v, b->last_ns);
}

static void sv_strategy(struct ig__sv *v, struct ig_oms_strategy *s)
{
	sv_order_mgr(v, &s->om);
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		struct ig_pos *p = &s->pos[k];
		SV_I64(v, p->qty);
		SV_I64(v, p->avg_px);
		SV_I64(v, p->realized_pnl);
		SV_I64(v, p->fees);
		SV_I64(v, p->mark_px);
		SV_I64(v, p->bought_qty);
		SV_I64(v, p->sold_qty);
		SV_I64(v, p->fees_base);
		SV_I64(v, s->open_buy_qty[k]);
		SV_I64(v, s->open_sell_qty[k]);
	}
	SV_I64(v, s->cash);
	SV_I64(v, s->capital);
	SV_I64(v, s->open_buy_notional);
	sv_bucket(v, &s->bucket);
	SV_U64(v, s->orders);
	SV_U64(v, s->fills);
	for (uint32_t r = 0; r < IG_RJ__COUNT; r++)
		SV_U64(v, s->rejects[r]);
	SV_U64(v, s->refused_fills);
	SV_U64(v, s->cancels);
	SV_U8(v, s->trading_state);
	SV_U8(v, s->breach_reason);
	SV_I64(v, s->equity);
	SV_I64(v, s->equity_hwm);
	SV_I64(v, s->drawdown_pct);
	SV_I64(v, s->max_drawdown_seen_pct);
	SV_I64(v, s->day);
	SV_I64(v, s->day_start_net_pnl);
	SV_I64(v, s->tax);
	for (uint32_t i = 0; i < IG_OMS_RECENT; i++) {
		struct ig_recent_intent *ri = &s->recent[i];
		SV_I64(v, ri->ts_ns);
		SV_I64(v, ri->px);
		SV_I64(v, ri->qty);
		SV_I64(v, ri->stop_px);
		SV_I64(v, ri->trail);
		SV_U8(v, ri->side);
		SV_U8(v, ri->type);
		SV_U16(v, ri->instrument_id);
	}
	SV_U32(v, s->recent_n);
	SV_U32(v, s->child_seq);
	SV_U32(v, s->narmed);
	for (uint32_t i = 0; i < IG_OMS_MAX_CONDITIONAL; i++)
		SV_U32(v, s->armed[i]);
	SV_U32(v, s->nheld);
	for (uint32_t i = 0; i < IG_OMS_MAX_CONDITIONAL; i++)
		SV_U32(v, s->held[i]);
	SV_U64(v, s->triggered);
	SV_BOOL(v, s->paused);
	SV_U32(v, s->param_set);
	for (uint32_t i = 0; i < IG_OMS_MAX_PARAMS; i++)
		SV_I64(v, s->param_val[i]);
}

/* The walk. The OMS is only written in SV_READ mode (the cast is for the
 * other modes' const callers, which never write through it). */
static void sv_oms(struct ig__sv *v, struct ig_oms *oms)
{
	for (uint32_t i = 0; i < oms->nstrategies; i++)
		sv_strategy(v, &oms->s[i]);
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		SV_I64(v, oms->marks[k].px);
		SV_I64(v, oms->marks[k].ts_event_ns);
		SV_I64(v, oms->marks[k].ts_origin_ns);
		SV_U64(v, oms->last_trade_seq[k]);
		SV_I64(v, oms->baseline_base[k]);
		SV_BOOL(v, oms->baseline_set[k]);
	}
	SV_I64(v, oms->baseline_counter);
	sv_bucket(v, &oms->global_bucket);
	SV_U64(v, oms->unknown_reports);
	SV_U8(v, oms->trading_state);
	SV_BOOL(v, oms->kill_switch);
	SV_U64(v, oms->kill_cancels);
	SV_U64(v, oms->adopted);
	SV_I64(v, oms->first_session_ns);
}

uint64_t ig_oms_state_hash(const struct ig_oms *oms)
{
	struct ig__sv v = { .mode = SV_HASH, .hash = UINT64_C(0xcbf29ce484222325) };
	sv_oms(&v, (struct ig_oms *)(uintptr_t)oms);
	/* Final avalanche (the murmur3 finaliser, a bijection): the per-field
	 * multiply only carries differences upwards. */
	v.hash ^= v.hash >> 33;
	v.hash *= UINT64_C(0xff51afd7ed558ccd);
	v.hash ^= v.hash >> 33;
	v.hash *= UINT64_C(0xc4ceb9fe1a85ec53);
	v.hash ^= v.hash >> 33;
	return v.hash;
}

static size_t walk_size(const struct ig_oms *oms)
{
	struct ig__sv v = { .mode = SV_SIZE };
	sv_oms(&v, (struct ig_oms *)(uintptr_t)oms);
	return v.off;
}

size_t ig_oms_snapshot_size(const struct ig_oms *oms)
{
	return SNAP_HEADER + walk_size(oms);
}

static void put32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t x = 0;
	for (int i = 0; i < 4; i++)
		x |= (uint32_t)p[i] << (8 * i);
	return x;
}

long ig_oms_snapshot_write(const struct ig_oms *oms, void *buf, size_t cap)
{
	uint8_t *b = buf;
	size_t walk = walk_size(oms);
	struct ig__sv v = { .mode = SV_WRITE, .buf = b + SNAP_HEADER, .cap = walk };

	if (cap < SNAP_HEADER + walk)
		return IG_ERANGE;
	memcpy(b, SNAP_MAGIC, 8);
	put32(b + 8, oms->nstrategies);
	put32(b + 12, IG_OM_CAPACITY);
	put32(b + 16, IG_OM_HASH);
	put32(b + 20, IG_OM_HISTORY);
	put32(b + 24, (uint32_t)walk);
	put32(b + 28, (uint32_t)((uint64_t)walk >> 32));
	sv_oms(&v, (struct ig_oms *)(uintptr_t)oms);
	return (long)(SNAP_HEADER + walk);
}

int ig_oms_snapshot_read(struct ig_oms *oms, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	size_t walk = walk_size(oms);
	struct ig__sv v = { .mode = SV_READ, .cap = walk };

	/* Every check before the first byte is written: a snapshot either
	 * applies whole or not at all. */
	if (len != SNAP_HEADER + walk || memcmp(b, SNAP_MAGIC, 8) != 0 ||
	    get32(b + 8) != oms->nstrategies || get32(b + 12) != IG_OM_CAPACITY ||
	    get32(b + 16) != IG_OM_HASH || get32(b + 20) != IG_OM_HISTORY ||
	    ((uint64_t)get32(b + 24) | (uint64_t)get32(b + 28) << 32) != walk)
		return IG_EPARSE;
	v.buf = (uint8_t *)(uintptr_t)(b + SNAP_HEADER); /* read only in SV_READ */
	sv_oms(&v, oms);
	oms->day_next_ns = INT64_MIN; /* the days came from the snapshot */
	return 0;
}

void ig_oms_session_start(struct ig_oms *oms, bool recovering)
{
	oms->feed_end_seen = 0;
	oms->exec_drained = false;
	oms->events = 0;
	oms->md_events = 0;
	oms->last_status_events = 0;
	oms->last_status_ns = 0;
	oms->cur_out = NULL;
	oms->day_next_ns = INT64_MIN;
	/* Ingress times are another run's monotonic clock: a recovered mark
	 * is stale until a fresh one arrives (risk then sees no fresh mark). */
	for (uint32_t k = 0; k < IG_MAX_INSTRUMENTS; k++) {
		oms->marks[k].ts_origin_ns = 0;
		/* Not in the snapshot: a replay from one must value market buys
		 * as the live run did, which starts without a touch too. */
		oms->marks[k].ask_px = 0;
		oms->recon_diff_base[k] = oms->recon_venue_base[k] = 0;
	}
	oms->recon_diff_counter = oms->recon_venue_counter = 0;
	/* The duplicate-intent window holds another run's times too (the
	 * monotonic clock when threaded): a new run starts without it. */
	for (uint32_t i = 0; i < oms->nstrategies; i++) {
		memset(oms->s[i].recent, 0, sizeof(oms->s[i].recent));
		oms->s[i].recent_n = 0;
		memset(oms->s[i].ctl_applied, 0, sizeof(oms->s[i].ctl_applied));
		oms->s[i].params_inflight = false; /* that run's strategy will never answer */
	}
	oms->verdict_sid = IG_STRATEGY_NONE;
	oms->ctl_kill_switch = 0;
	oms->reconciled = !recovering;
	oms->recon_passes = oms->recon_foreign = oms->recon_adopted = 0;
	oms->recon_fills = oms->recon_resolved = 0;
	oms->recon_done = false;
	oms->recon_mismatch = false;
	oms->recon_error = IG_RECON_OK;
	oms->recon_why[0] = '\0';
	if (recovering)
		snprintf(oms->recon_why, sizeof(oms->recon_why),
			 "recovering: waiting for reconciliation with the venue; new orders denied, "
			 "cancels allowed");
}

void ig_oms_after_replay(struct ig_oms *oms)
{
	ig_oms_session_start(oms, true);
	oms->announce = true;
}

bool ig_oms_will_announce(const struct ig_oms *oms)
{
	return oms->announce;
}
