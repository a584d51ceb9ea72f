/* luno_book.c - Luno market-stream order book (see luno_book.h). */
#include "luno/luno_book.h"

#include "ingenium/error.h"
#include "ingenium/event.h"
#include "ingenium/fixed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Design
 * ------
 * The stream names individual orders; a reader wants price levels. The book
 * therefore keeps both, in memory allocated once by ig_luno_book_create():
 *
 *   orders[cap]   one 64-byte record per resting order: its id (a copy, at
 *                 most IG_LUNO_BOOK_ID_MAX - 1 bytes), the id's hash, side,
 *                 price and remaining volume. Free records are a stack of
 *                 indices (free_stack), so taking and giving back one is
 *                 O(1) and nothing is ever allocated after create.
 *
 *   slots[2*cap+] an open-addressing hash table (linear probing, a power
 *                 of two at least twice cap, so the load stays <= 1/2) from
 *                 id to order: each slot holds order index + 1, 0 = empty.
 *                 Deletion shifts the following run back instead of leaving
 *                 tombstones, so a stream of millions of creates and deletes
 *                 never degrades the probes (the memory-flat test runs 1e6).
 *                 The hash is FNV-1a over the id bytes, 64 bits, kept in the
 *                 order so a probe compares ids only when hashes agree.
 *
 *   side[2]       per side, the aggregated levels {px, qty, count} in one
 *                 sorted array of cap entries (a side never has more levels
 *                 than orders), ordered by key = px for bids and -px for
 *                 asks, ascending, so the BEST level is the LAST entry.
 *                 Reading the best is O(1) and the top N O(N); finding a
 *                 price is a binary search; adding or removing a level moves
 *                 only the levels better than it, which on a real stream
 *                 (activity near the touch) is a handful.
 *
 * An update is checked field by field before anything changes, except for
 * its trades, which are checked and applied one at a time (a malformed
 * trade after a good one leaves the book half-updated; it is then not
 * whole and nothing reads it until the next snapshot replaces it all).
 *
 * Owner: the feed thread. No locks, no atomics, no allocation after create,
 * no clock: the module is a pure function of the messages it is given.
 * (The JSON text decode in ig_luno_book_on_message() is jansson's and does
 * allocate, per message; the book itself does not.)
 */

struct order {
	uint64_t hash;
	int64_t px;
	int64_t qty;
	uint8_t side; /* IG_SIDE_BUY (bid) or IG_SIDE_SELL (ask) */
	uint8_t id_len;
	char id[IG_LUNO_BOOK_ID_MAX];
	uint8_t pad_[6];
};

_Static_assert(sizeof(struct order) == 64, "one order, one cache line");

struct book_side {
	struct ig_luno_book_level *lv; /* sorted by key ascending; best last */
	uint32_t n;
	int64_t sign; /* key = sign * px: +1 bids, -1 asks */
};

struct ig_luno_book {
	struct order *orders;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t cap;
	uint32_t *slots;
	uint32_t mask; /* slots has mask + 1 entries */
	uint32_t count;
	struct book_side side[2]; /* [0] bids, [1] asks */
	struct ig_luno_book_trade *trades;
	uint32_t max_trades;
	uint32_t ntrades;
	bool whole;
	uint64_t seq;
	int64_t ts_ms;
	struct ig_luno_book_stats st;
	char err[160];
};

/* ------------------------------------------------------------ error text */

/* Records why a message was refused; returns rc. */
__attribute__((format(printf, 3, 4))) static int fail(struct ig_luno_book *b, int rc,
						      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b->err, sizeof(b->err), fmt, ap);
	va_end(ap);
	return rc;
}

const char *ig_luno_book_rc_name(int rc)
{
	if (rc >= 0)
		return "ok";
	switch (rc) {
#define IG__LUNO_BOOK_ERR_NAME(name, code, text) \
	case (code):                             \
		return text;
		IG_LUNO_BOOK_ERR_MAP(IG__LUNO_BOOK_ERR_NAME)
#undef IG__LUNO_BOOK_ERR_NAME
	default:
		return "unknown";
	}
}

/* --------------------------------------------------------- create, free */

int ig_luno_book_create(uint32_t max_orders, uint32_t max_trades, struct ig_luno_book **out)
{
	struct ig_luno_book *b;
	uint32_t nslots = 4;

	*out = NULL;
	if (max_orders == 0)
		max_orders = IG_LUNO_BOOK_DEFAULT_ORDERS;
	if (max_trades == 0)
		max_trades = IG_LUNO_BOOK_DEFAULT_TRADES;
	if (max_orders > IG_LUNO_BOOK_MAX_ORDERS || max_trades > IG_LUNO_BOOK_MAX_ORDERS)
		return IG_EINVAL;
	while (nslots < 2 * max_orders)
		nslots *= 2;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return IG_ENOMEM;
	b->cap = max_orders;
	b->max_trades = max_trades;
	b->mask = nslots - 1;
	b->orders = calloc(max_orders, sizeof(*b->orders));
	b->free_stack = calloc(max_orders, sizeof(*b->free_stack));
	b->slots = calloc(nslots, sizeof(*b->slots));
	b->side[0].lv = calloc(max_orders, sizeof(*b->side[0].lv));
	b->side[1].lv = calloc(max_orders, sizeof(*b->side[1].lv));
	b->trades = calloc(max_trades, sizeof(*b->trades));
	if (b->orders == NULL || b->free_stack == NULL || b->slots == NULL || b->side[0].lv == NULL ||
	    b->side[1].lv == NULL || b->trades == NULL) {
		ig_luno_book_destroy(b);
		return IG_ENOMEM;
	}
	b->side[0].sign = 1;
	b->side[1].sign = -1;
	ig_luno_book_reset(b);
	*out = b;
	return 0;
}

void ig_luno_book_destroy(struct ig_luno_book *b)
{
	if (b == NULL)
		return;
	free(b->orders);
	free(b->free_stack);
	free(b->slots);
	free(b->side[0].lv);
	free(b->side[1].lv);
	free(b->trades);
	free(b);
}

/* Empties the book (no order, no level, free stack full). */
static void clear(struct ig_luno_book *b)
{
	if (b->count > 0)
		memset(b->slots, 0, ((size_t)b->mask + 1) * sizeof(*b->slots));
	b->count = 0;
	/* Pop order 0 first: the records are reused low to high. */
	for (uint32_t i = 0; i < b->cap; i++)
		b->free_stack[i] = b->cap - 1 - i;
	b->nfree = b->cap;
	b->side[0].n = 0;
	b->side[1].n = 0;
	b->ntrades = 0;
}

void ig_luno_book_reset(struct ig_luno_book *b)
{
	clear(b);
	b->whole = false;
	b->seq = 0;
	b->ts_ms = 0;
	b->err[0] = '\0';
}

/* ------------------------------------------------------------------ hash */

static uint64_t hash_id(const char *id, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)id[i];
		h *= UINT64_C(0x100000001b3);
	}
	/* FNV's low bits mix poorly for short keys that differ at the end. */
	h ^= h >> 29;
	h *= UINT64_C(0xbf58476d1ce4e5b9);
	h ^= h >> 32;
	return h;
}

/* The slot holding id, or the empty slot where it would go; *found tells. */
static uint32_t probe(const struct ig_luno_book *b, const char *id, size_t len, uint64_t h,
		      bool *found)
{
	uint32_t i = (uint32_t)h & b->mask;

	for (;;) {
		uint32_t s = b->slots[i];
		if (s == 0) {
			*found = false;
			return i;
		}
		const struct order *o = &b->orders[s - 1];
		if (o->hash == h && o->id_len == len && memcmp(o->id, id, len) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & b->mask;
	}
}

/* Empties slot i and shifts back the entries of its run that may move
 * (backward-shift deletion: no tombstones). */
static void slot_delete(struct ig_luno_book *b, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		j = (j + 1) & b->mask;
		uint32_t s = b->slots[j];
		if (s == 0)
			break;
		uint32_t home = (uint32_t)b->orders[s - 1].hash & b->mask;
		/* Entry j may fill hole i when its home is not in (i, j]
		 * (cyclically). */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (!stays) {
			b->slots[i] = s;
			i = j;
		}
	}
	b->slots[i] = 0;
}

/* ---------------------------------------------------------------- levels */

static struct book_side *side_of(struct ig_luno_book *b, uint8_t side)
{
	return &b->side[side == IG_SIDE_BUY ? 0 : 1];
}

/* First index whose key is >= key (n if none). */
static uint32_t level_lower(const struct book_side *s, int64_t key)
{
	uint32_t lo = 0, hi = s->n;

	/* The touch is where the stream works: look at the best level first. */
	if (hi > 0 && s->sign * s->lv[hi - 1].px < key)
		return hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (s->sign * s->lv[mid].px < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Adds qty at px; refuses (IG_EOVERFLOW, nothing changed) when the level's
 * total would overflow. */
static int level_add(struct book_side *s, int64_t px, int64_t qty)
{
	int64_t key = s->sign * px;
	uint32_t i = level_lower(s, key);

	if (i < s->n && s->lv[i].px == px) {
		int64_t sum;
		if (__builtin_add_overflow(s->lv[i].qty, qty, &sum))
			return IG_EOVERFLOW;
		s->lv[i].qty = sum;
		s->lv[i].count++;
		return 0;
	}
	memmove(&s->lv[i + 1], &s->lv[i], (size_t)(s->n - i) * sizeof(*s->lv));
	s->lv[i].px = px;
	s->lv[i].qty = qty;
	s->lv[i].count = 1;
	s->n++;
	return 0;
}

/* Takes qty (an order's volume or a trade) off the level at px; an order
 * leaving (gone) also takes its count, and the level goes with its last. */
static void level_sub(struct book_side *s, int64_t px, int64_t qty, bool gone)
{
	uint32_t i = level_lower(s, s->sign * px);

	/* The level exists: every resting order is on one (an invariant the
	 * property test checks against a naive book). */
	s->lv[i].qty -= qty;
	if (!gone)
		return;
	if (--s->lv[i].count == 0) {
		memmove(&s->lv[i], &s->lv[i + 1], (size_t)(s->n - i - 1) * sizeof(*s->lv));
		s->n--;
	}
}

/* ---------------------------------------------------------------- orders */

/* Copies the JSON string v as an order id into *id / *len; 0 or a reason
 * in b->err and IG_LUNO_BOOK_E_MALFORMED. */
static int get_id(struct ig_luno_book *b, const json_t *v, const char *ctx, const char **id,
		  size_t *len)
{
	if (v == NULL || json_is_null(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: missing", ctx);
	if (!json_is_string(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: not a string", ctx);
	*id = json_string_value(v);
	*len = json_string_length(v);
	if (*len == 0)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: empty", ctx);
	if (*len >= IG_LUNO_BOOK_ID_MAX)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: longer than %d bytes", ctx,
			    IG_LUNO_BOOK_ID_MAX - 1);
	if (memchr(*id, '\0', *len) != NULL)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: contains a NUL byte", ctx);
	return 0;
}

/* Adds a resting order. Returns 0 or an E_* reason (nothing changed). */
static int order_add(struct ig_luno_book *b, uint8_t side, const char *id, size_t len, int64_t px,
		     int64_t qty)
{
	uint64_t h = hash_id(id, len);
	bool found;
	uint32_t slot = probe(b, id, len, h, &found);
	struct order *o;
	uint32_t k;

	if (found)
		return fail(b, IG_LUNO_BOOK_E_DUPLICATE, "order %.*s: already in the book", (int)len,
			    id);
	if (b->nfree == 0)
		return fail(b, IG_LUNO_BOOK_E_FULL, "more than %u resting orders", b->cap);
	if (level_add(side_of(b, side), px, qty) != 0)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "order %.*s: level volume overflows",
			    (int)len, id);
	k = b->free_stack[--b->nfree];
	o = &b->orders[k];
	o->hash = h;
	o->px = px;
	o->qty = qty;
	o->side = side;
	o->id_len = (uint8_t)len;
	memcpy(o->id, id, len);
	o->id[len] = '\0';
	b->slots[slot] = k + 1;
	b->count++;
	return 0;
}

/* Finds an order; its slot in *slot. NULL if unknown. */
static struct order *order_find(struct ig_luno_book *b, const char *id, size_t len, uint32_t *slot)
{
	bool found;
	*slot = probe(b, id, len, hash_id(id, len), &found);
	return found ? &b->orders[b->slots[*slot] - 1] : NULL;
}

/* Removes the order in slot (its remaining volume leaves its level). */
static void order_remove(struct ig_luno_book *b, uint32_t slot)
{
	uint32_t k = b->slots[slot] - 1;
	struct order *o = &b->orders[k];

	level_sub(side_of(b, o->side), o->px, o->qty, true);
	slot_delete(b, slot);
	b->free_stack[b->nfree++] = k;
	b->count--;
}

/* ---------------------------------------------------------------- fields */

/* Decimal-string member key of obj into *out; sign: 1 = > 0, 0 = >= 0. */
static int get_dec(struct ig_luno_book *b, const json_t *obj, const char *key, int positive,
		   const char *ctx, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	int rc;

	if (v == NULL || json_is_null(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s.%s: missing", ctx, key);
	if (!json_is_string(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s.%s: not a decimal string", ctx, key);
	rc = ig_fixed_parse_round(json_string_value(v), json_string_length(v), out);
	if (rc != 0)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s.%s: %s (\"%.32s\")", ctx, key,
			    rc == IG_ERANGE ? "out of range"
			    : rc == IG_EPRECISION ? "too many decimals"
						  : "not a decimal",
			    json_string_value(v));
	if (positive ? *out <= 0 : *out < 0)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s.%s: %s", ctx, key,
			    positive ? "not positive" : "negative");
	return 0;
}

/* "sequence": a string of 1..19 digits or a JSON integer, > 0, or >= 0 in
 * a snapshot (zero: an exchange where nothing has changed yet, whose first
 * update is 1; exchange-sim just started). Returns 0 or a refusal. */
static int get_seq(struct ig_luno_book *b, const json_t *msg, bool snapshot, uint64_t *out)
{
	const json_t *v = json_object_get(msg, "sequence");

	if (v == NULL || json_is_null(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "sequence: missing");
	if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		if (x < 0 || (x == 0 && !snapshot))
			return fail(b, IG_LUNO_BOOK_E_MALFORMED, "sequence: %lld not positive",
				    (long long)x);
		*out = (uint64_t)x;
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		uint64_t x = 0;
		if (n == 0 || n > 19)
			return fail(b, IG_LUNO_BOOK_E_MALFORMED, "sequence: \"%.24s\" is not a number",
				    s);
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return fail(b, IG_LUNO_BOOK_E_MALFORMED,
					    "sequence: \"%.24s\" is not a number", s);
			x = x * 10 + (uint64_t)(s[i] - '0');
		}
		if (x == 0 && !snapshot)
			return fail(b, IG_LUNO_BOOK_E_MALFORMED, "sequence: 0");
		*out = x;
		return 0;
	}
	return fail(b, IG_LUNO_BOOK_E_MALFORMED, "sequence: not a number");
}

/* "timestamp": a JSON integer >= 0 (Unix ms); absent and optional: 0. */
static int get_ts(struct ig_luno_book *b, const json_t *msg, bool required, int64_t *out)
{
	const json_t *v = json_object_get(msg, "timestamp");

	*out = 0;
	if (v == NULL || json_is_null(v))
		return required ? fail(b, IG_LUNO_BOOK_E_MALFORMED, "timestamp: missing") : 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "timestamp: not a non-negative integer");
	*out = (int64_t)json_integer_value(v);
	return 0;
}

/* A status string: 0 for ACTIVE, E_STATUS otherwise, E_MALFORMED if not a
 * string. */
static int check_status(struct ig_luno_book *b, const json_t *v, const char *ctx)
{
	if (!json_is_string(v))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: not a string", ctx);
	if (strcmp(json_string_value(v), "ACTIVE") != 0)
		return fail(b, IG_LUNO_BOOK_E_STATUS, "%s: market is %.24s", ctx,
			    json_string_value(v));
	return 0;
}

/* --------------------------------------------------------------- results */

struct top {
	int64_t bid_px, bid_qty, ask_px, ask_qty;
};

static void top_of(const struct ig_luno_book *b, struct top *t)
{
	const struct book_side *bs = &b->side[0], *as = &b->side[1];
	t->bid_px = bs->n ? bs->lv[bs->n - 1].px : 0;
	t->bid_qty = bs->n ? bs->lv[bs->n - 1].qty : 0;
	t->ask_px = as->n ? as->lv[as->n - 1].px : 0;
	t->ask_qty = as->n ? as->lv[as->n - 1].qty : 0;
}

/* E_CROSSED (recorded) when both sides are there and bid >= ask. */
static int check_crossed(struct ig_luno_book *b)
{
	struct top t;
	top_of(b, &t);
	if (b->side[0].n > 0 && b->side[1].n > 0 && t.bid_px >= t.ask_px) {
		char bp[IG_FIXED_STRLEN], ap[IG_FIXED_STRLEN];
		ig_fixed_format(t.bid_px, bp, sizeof(bp));
		ig_fixed_format(t.ask_px, ap, sizeof(ap));
		return fail(b, IG_LUNO_BOOK_E_CROSSED, "best bid %s >= best ask %s", bp, ap);
	}
	return 0;
}

/* A refused message: counts the reason and leaves the book not whole. */
static int refuse(struct ig_luno_book *b, int rc)
{
	b->whole = false;
	b->ntrades = 0;
	if (rc > -IG_LUNO_BOOK_E__COUNT)
		b->st.errors[-rc]++;
	return rc;
}

/* ------------------------------------------------------------- snapshot */

/* Loads one side's array of {id, price, volume}. */
static int load_side(struct ig_luno_book *b, const json_t *msg, const char *key, uint8_t side)
{
	const json_t *arr = json_object_get(msg, key);
	char ctx[48];
	size_t i;
	const json_t *o;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: not an array", key);
	json_array_foreach (arr, i, o) {
		const char *id;
		size_t len;
		int64_t px, qty;
		int rc;

		snprintf(ctx, sizeof(ctx), "%s[%zu]", key, i);
		if (!json_is_object(o))
			return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: not an object", ctx);
		if ((rc = get_id(b, json_object_get(o, "id"), ctx, &id, &len)) != 0 ||
		    (rc = get_dec(b, o, "price", 1, ctx, &px)) != 0 ||
		    (rc = get_dec(b, o, "volume", 1, ctx, &qty)) != 0 ||
		    (rc = order_add(b, side, id, len, px, qty)) != 0)
			return rc;
	}
	return 0;
}

int ig_luno_book_snapshot(struct ig_luno_book *b, const json_t *msg)
{
	const json_t *st;
	uint64_t seq;
	int64_t ts;
	int rc;

	clear(b);
	b->whole = false;
	b->err[0] = '\0';
	if (!json_is_object(msg))
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "snapshot: not an object"));
	if ((rc = get_seq(b, msg, true, &seq)) != 0 || (rc = get_ts(b, msg, false, &ts)) != 0)
		return refuse(b, rc);
	st = json_object_get(msg, "status");
	if (st != NULL && !json_is_null(st) && (rc = check_status(b, st, "status")) != 0)
		return refuse(b, rc);
	if ((rc = load_side(b, msg, "bids", IG_SIDE_BUY)) != 0 ||
	    (rc = load_side(b, msg, "asks", IG_SIDE_SELL)) != 0 || (rc = check_crossed(b)) != 0) {
		clear(b);
		return refuse(b, rc);
	}
	b->whole = true;
	b->seq = seq;
	b->ts_ms = ts;
	b->st.snapshots++;
	b->st.top_changes++;
	return IG_LUNO_BOOK_F_APPLIED | IG_LUNO_BOOK_F_SNAPSHOT | IG_LUNO_BOOK_F_TOP;
}

/* --------------------------------------------------------------- update */

/* Applies one element of trade_updates (index i). */
static int apply_trade(struct ig_luno_book *b, const json_t *t, size_t i, int64_t ts)
{
	char ctx[40];
	const json_t *mid;
	const char *id;
	size_t len;
	int64_t base, counter;
	uint32_t slot;
	struct order *o;
	int rc;

	snprintf(ctx, sizeof(ctx), "trade_updates[%zu]", i);
	if (!json_is_object(t))
		return fail(b, IG_LUNO_BOOK_E_MALFORMED, "%s: not an object", ctx);
	mid = json_object_get(t, "maker_order_id");
	if (mid == NULL || json_is_null(mid))
		mid = json_object_get(t, "order_id");
	if ((rc = get_id(b, mid, ctx, &id, &len)) != 0 ||
	    (rc = get_dec(b, t, "base", 1, ctx, &base)) != 0 ||
	    (rc = get_dec(b, t, "counter", 0, ctx, &counter)) != 0)
		return rc;
	o = order_find(b, id, len, &slot);
	if (o == NULL)
		return fail(b, IG_LUNO_BOOK_E_UNKNOWN_ORDER, "%s: maker %.*s not in the book", ctx,
			    (int)len, id);
	if (base > o->qty)
		return fail(b, IG_LUNO_BOOK_E_OVERFILL, "%s: base over maker %.*s's volume", ctx,
			    (int)len, id);
	if (b->ntrades < b->max_trades) {
		struct ig_luno_book_trade *tr = &b->trades[b->ntrades++];
		tr->px = o->px;
		tr->qty = base;
		tr->counter = counter;
		tr->ts_ms = ts;
		tr->side = o->side == IG_SIDE_BUY ? IG_SIDE_SELL : IG_SIDE_BUY;
		tr->maker_gone = base == o->qty;
	} else {
		b->st.trades_dropped++;
	}
	b->st.trades++;
	if (base == o->qty) {
		order_remove(b, slot);
	} else {
		o->qty -= base;
		level_sub(side_of(b, o->side), o->px, base, false);
	}
	return 0;
}

/* Returns the member key of msg as an object, NULL when absent or null;
 * *bad when present but not an object. */
static const json_t *sub_object(const json_t *msg, const char *key, bool *bad)
{
	const json_t *v = json_object_get(msg, key);
	*bad = false;
	if (v == NULL || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		*bad = true;
		return NULL;
	}
	return v;
}

int ig_luno_book_update(struct ig_luno_book *b, const json_t *msg)
{
	const json_t *trades, *cu, *du, *su, *t;
	const char *cid = NULL, *did = NULL;
	size_t clen = 0, dlen = 0, i;
	int64_t cpx = 0, cqty = 0, ts;
	uint8_t cside = IG_SIDE_NONE;
	uint64_t seq;
	struct top before, after;
	bool bad;
	int rc, flags = IG_LUNO_BOOK_F_APPLIED;

	b->ntrades = 0;
	if (!b->whole) {
		b->st.ignored++;
		return fail(b, IG_LUNO_BOOK_E_NOT_WHOLE, "update while the book is not whole");
	}
	b->err[0] = '\0';
	if (!json_is_object(msg))
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "update: not an object"));
	if ((rc = get_seq(b, msg, false, &seq)) != 0)
		return refuse(b, rc);
	if (seq != b->seq + 1)
		return refuse(b, fail(b, IG_LUNO_BOOK_E_SEQUENCE, "sequence %llu after %llu",
				      (unsigned long long)seq, (unsigned long long)b->seq));
	if ((rc = get_ts(b, msg, true, &ts)) != 0)
		return refuse(b, rc);

	/* Check everything but the trades before changing anything. */
	trades = json_object_get(msg, "trade_updates");
	if (trades != NULL && !json_is_null(trades) && !json_is_array(trades))
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "trade_updates: not an array"));
	cu = sub_object(msg, "create_update", &bad);
	if (bad)
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "create_update: not an object"));
	if (cu != NULL) {
		const json_t *ty = json_object_get(cu, "type");
		if ((rc = get_id(b, json_object_get(cu, "order_id"), "create_update.order_id", &cid,
				 &clen)) != 0 ||
		    (rc = get_dec(b, cu, "price", 1, "create_update", &cpx)) != 0 ||
		    (rc = get_dec(b, cu, "volume", 1, "create_update", &cqty)) != 0)
			return refuse(b, rc);
		if (json_is_string(ty) && strcmp(json_string_value(ty), "BID") == 0)
			cside = IG_SIDE_BUY;
		else if (json_is_string(ty) && strcmp(json_string_value(ty), "ASK") == 0)
			cside = IG_SIDE_SELL;
		else
			return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED,
					      "create_update.type: not BID or ASK"));
	}
	du = sub_object(msg, "delete_update", &bad);
	if (bad)
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "delete_update: not an object"));
	if (du != NULL && (rc = get_id(b, json_object_get(du, "order_id"), "delete_update.order_id",
				       &did, &dlen)) != 0)
		return refuse(b, rc);
	su = sub_object(msg, "status_update", &bad);
	if (bad)
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "status_update: not an object"));
	if (su != NULL && (rc = check_status(b, json_object_get(su, "status"),
					     "status_update.status")) != 0)
		return refuse(b, rc);

	top_of(b, &before);
	if (trades != NULL && json_is_array(trades)) {
		json_array_foreach (trades, i, t)
			if ((rc = apply_trade(b, t, i, ts)) != 0)
				return refuse(b, rc);
	}
	if (cid != NULL && (rc = order_add(b, cside, cid, clen, cpx, cqty)) != 0)
		return refuse(b, rc);
	if (did != NULL) {
		uint32_t slot;
		if (order_find(b, did, dlen, &slot) == NULL)
			return refuse(b, fail(b, IG_LUNO_BOOK_E_UNKNOWN_ORDER,
					      "delete_update: %.*s not in the book", (int)dlen, did));
		order_remove(b, slot);
	}
	if ((rc = check_crossed(b)) != 0)
		return refuse(b, rc);
	b->seq = seq;
	b->ts_ms = ts;
	b->st.updates++;
	top_of(b, &after);
	if (memcmp(&before, &after, sizeof(before)) != 0) {
		flags |= IG_LUNO_BOOK_F_TOP;
		b->st.top_changes++;
	}
	if (trades != NULL && json_array_size(trades) > 0)
		flags |= IG_LUNO_BOOK_F_TRADES;
	return flags;
}

/* -------------------------------------------------------------- message */

int ig_luno_book_on_message(struct ig_luno_book *b, const char *body, size_t len)
{
	json_error_t jerr;
	json_t *msg;
	int rc;

	if (body == NULL || len == 0) {
		b->ntrades = 0;
		b->st.keepalives++;
		return IG_LUNO_BOOK_F_KEEPALIVE;
	}
	msg = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (msg == NULL) {
		b->ntrades = 0;
		if (!b->whole) {
			b->st.ignored++;
			return fail(b, IG_LUNO_BOOK_E_NOT_WHOLE, "not JSON, and the book is not whole");
		}
		return refuse(b, fail(b, IG_LUNO_BOOK_E_MALFORMED, "not JSON (col %d: %.80s)",
				      jerr.column, jerr.text));
	}
	if (json_is_string(msg) && json_string_length(msg) == 0) {
		json_decref(msg);
		b->ntrades = 0;
		b->st.keepalives++;
		return IG_LUNO_BOOK_F_KEEPALIVE;
	}
	if (json_is_object(msg) &&
	    (json_object_get(msg, "asks") != NULL || json_object_get(msg, "bids") != NULL))
		rc = ig_luno_book_snapshot(b, msg);
	else
		rc = ig_luno_book_update(b, msg);
	json_decref(msg);
	return rc;
}

/* ------------------------------------------------------------- readers */

bool ig_luno_book_whole(const struct ig_luno_book *b)
{
	return b->whole;
}

uint64_t ig_luno_book_sequence(const struct ig_luno_book *b)
{
	return b->seq;
}

int64_t ig_luno_book_ts_ms(const struct ig_luno_book *b)
{
	return b->ts_ms;
}

uint32_t ig_luno_book_order_count(const struct ig_luno_book *b)
{
	return b->count;
}

uint32_t ig_luno_book_capacity(const struct ig_luno_book *b)
{
	return b->cap;
}

bool ig_luno_book_best(const struct ig_luno_book *b, uint8_t side, int64_t *px, int64_t *qty)
{
	const struct book_side *s;

	*px = 0;
	*qty = 0;
	if (!b->whole || (side != IG_SIDE_BUY && side != IG_SIDE_SELL))
		return false;
	s = &b->side[side == IG_SIDE_BUY ? 0 : 1];
	if (s->n == 0)
		return false;
	*px = s->lv[s->n - 1].px;
	*qty = s->lv[s->n - 1].qty;
	return true;
}

size_t ig_luno_book_levels(const struct ig_luno_book *b, uint8_t side,
			   struct ig_luno_book_level *out, size_t n)
{
	const struct book_side *s;
	size_t k;

	if (!b->whole || (side != IG_SIDE_BUY && side != IG_SIDE_SELL))
		return 0;
	s = &b->side[side == IG_SIDE_BUY ? 0 : 1];
	for (k = 0; k < n && k < s->n; k++)
		out[k] = s->lv[s->n - 1 - k];
	return k;
}

size_t ig_luno_book_depth(const struct ig_luno_book *b, uint8_t side)
{
	if (!b->whole || (side != IG_SIDE_BUY && side != IG_SIDE_SELL))
		return 0;
	return b->side[side == IG_SIDE_BUY ? 0 : 1].n;
}

const struct ig_luno_book_trade *ig_luno_book_trades(const struct ig_luno_book *b, size_t *n)
{
	*n = b->ntrades;
	return b->trades;
}

const struct ig_luno_book_stats *ig_luno_book_stats(const struct ig_luno_book *b)
{
	return &b->st;
}

const char *ig_luno_book_error(const struct ig_luno_book *b)
{
	return b->err;
}
