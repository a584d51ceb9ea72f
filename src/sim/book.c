/*
 * book.c - price-time-priority limit order book with exact balance
 * movements. See book.h for the design, the money rules and the owner.
 */
#include "sim/book.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static const char *const reject_codes[] = {
#define IG__BOOK_REJ_CODE(name, code, msg) code,
	IG_BOOK_REJECT_MAP(IG__BOOK_REJ_CODE)
#undef IG__BOOK_REJ_CODE
};

static const char *const reject_msgs[] = {
#define IG__BOOK_REJ_MSG(name, code, msg) msg,
	IG_BOOK_REJECT_MAP(IG__BOOK_REJ_MSG)
#undef IG__BOOK_REJ_MSG
};

const char *ig_book_reject_code(enum ig_book_reject r)
{
	return (unsigned)r < IG_BOOK_REJ_COUNT ? reject_codes[r] : "ErrInternal";
}

const char *ig_book_reject_msg(enum ig_book_reject r)
{
	return (unsigned)r < IG_BOOK_REJ_COUNT ? reject_msgs[r] : "internal error";
}

/* ---- id -> resting order: open addressing, linear probing ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static int map_init(struct ig__book_map *m, uint32_t cap)
{
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	if (m->keys == NULL || m->vals == NULL) {
		free(m->keys);
		free(m->vals);
		return IG_ENOMEM;
	}
	m->cap = cap;
	m->n = 0;
	return 0;
}

static void map_destroy(struct ig__book_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

static uint32_t map_slot(const struct ig__book_map *m, uint64_t key)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)(mix64(key) & mask);

	while (m->keys[i] != 0 && m->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static struct ig_book_order *map_get(const struct ig__book_map *m, uint64_t key)
{
	uint32_t i = map_slot(m, key);
	return m->keys[i] == key ? m->vals[i] : NULL;
}

/* Grows the table so that one more key keeps the load at most 1/2. */
static int map_reserve(struct ig__book_map *m)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct ig__book_map g;
		if (m->cap > UINT32_MAX / 4 || map_init(&g, m->cap * 2) != 0)
			return IG_ENOMEM;
		for (uint32_t k = 0; k < m->cap; k++) {
			if (m->keys[k] != 0) {
				uint32_t j = map_slot(&g, m->keys[k]);
				g.keys[j] = m->keys[k];
				g.vals[j] = m->vals[k];
				g.n++;
			}
		}
		map_destroy(m);
		*m = g;
	}
	return 0;
}

static int map_put(struct ig__book_map *m, uint64_t key, struct ig_book_order *o)
{
	uint32_t i;

	if (map_reserve(m) != 0)
		return IG_ENOMEM;
	i = map_slot(m, key);
	if (m->keys[i] == 0)
		m->n++;
	m->keys[i] = key;
	m->vals[i] = o;
	return 0;
}

/* Backward-shift deletion: keeps every probe chain unbroken. */
static void map_del(struct ig__book_map *m, uint64_t key)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = map_slot(m, key);
	uint32_t j;

	if (m->keys[i] != key)
		return;
	m->n--;
	j = i;
	for (;;) {
		uint32_t home;
		j = (j + 1) & mask;
		if (m->keys[j] == 0)
			break;
		home = (uint32_t)(mix64(m->keys[j]) & mask);
		/* The entry at j may move to the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
	m->keys[i] = 0;
	m->vals[i] = NULL;
}

/* ---- levels ---- */

static enum ig_book_side opposite(enum ig_book_side s)
{
	return s == IG_BOOK_BID ? IG_BOOK_ASK : IG_BOOK_BID;
}

/* Sort key: ascending keys put the best level last on both sides. */
static int64_t level_key(enum ig_book_side s, int64_t px)
{
	return s == IG_BOOK_BID ? px : -px;
}

/* Binary search: true and *idx = the level at px, or false and *idx = where
 * it would be inserted. */
static bool level_find(const struct ig__book_side *sd, enum ig_book_side s, int64_t px,
		       uint32_t *idx)
{
	uint32_t lo = 0, hi = sd->n;
	int64_t k = level_key(s, px);

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (level_key(s, sd->lv[mid].px) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	*idx = lo;
	return lo < sd->n && sd->lv[lo].px == px;
}

static struct ig_book_level *level_insert(struct ig__book_side *sd, enum ig_book_side s,
					  int64_t px)
{
	uint32_t i;

	if (level_find(sd, s, px, &i))
		return &sd->lv[i];
	if (sd->n == sd->cap) {
		uint32_t cap = sd->cap ? sd->cap * 2 : 32;
		struct ig_book_level *lv = realloc(sd->lv, (size_t)cap * sizeof(*lv));
		if (lv == NULL)
			return NULL;
		sd->lv = lv;
		sd->cap = cap;
	}
	memmove(&sd->lv[i + 1], &sd->lv[i], (size_t)(sd->n - i) * sizeof(*sd->lv));
	sd->n++;
	memset(&sd->lv[i], 0, sizeof(sd->lv[i]));
	sd->lv[i].px = px;
	return &sd->lv[i];
}

/* Unlinks o from its level (deleting the level when it empties) and from
 * the map, and frees it. Its reservation must already be settled. */
static void order_remove(struct ig_book *b, struct ig_book_order *o)
{
	struct ig__book_side *sd = &b->sides[o->side];
	struct ig_book_level *lv;
	uint32_t i;
	bool found = level_find(sd, o->side, o->px, &i);

	assert(found);
	(void)found;
	lv = &sd->lv[i];
	if (o->prev != NULL)
		o->prev->next = o->next;
	else
		lv->head = o->next;
	if (o->next != NULL)
		o->next->prev = o->prev;
	else
		lv->tail = o->prev;
	lv->qty -= o->leaves;
	lv->count--;
	if (lv->count == 0) {
		memmove(&sd->lv[i], &sd->lv[i + 1], (size_t)(sd->n - i - 1) * sizeof(*sd->lv));
		sd->n--;
	}
	map_del(&b->map, o->id);
	free(o);
}

/* The asset an order of side s reserves. */
static uint32_t reserve_asset(const struct ig_book *b, enum ig_book_side s)
{
	return s == IG_BOOK_BID ? b->counter_asset : b->base_asset;
}

static void order_release(struct ig_book *b, struct ig_book_order *o)
{
	ig_ledger_release(b->ledger, o->account, reserve_asset(b, o->side), o->reserved);
	o->reserved = 0;
}

/* ---- init ---- */

static int64_t pow10_i64(int n)
{
	int64_t v = 1;
	while (n-- > 0)
		v *= 10;
	return v;
}

int ig_book_init(struct ig_book *b, const struct ig_book_cfg *cfg, struct ig_ledger *ledger,
		 const struct ig_book_listener *lis)
{
	int64_t n, f;
	int base, counter;
	int rc;

	memset(b, 0, sizeof(*b));
	if (cfg->price_scale < 0 || cfg->price_scale > 8 || cfg->volume_scale < 0 ||
	    cfg->volume_scale > 8 || cfg->min_price <= 0 || cfg->max_price < cfg->min_price ||
	    cfg->min_volume <= 0 || cfg->max_volume < cfg->min_volume || cfg->maker_fee_bps < 0 ||
	    cfg->maker_fee_bps > 10000 || cfg->taker_fee_bps < 0 || cfg->taker_fee_bps > 10000 ||
	    cfg->fee_account >= ledger->naccounts || strcmp(cfg->base, cfg->counter) == 0)
		return IG_EINVAL;
	/* The largest order's notional plus fee must fit, so that no fill can
	 * overflow. */
	if (ig_fixed_mul(cfg->max_price, cfg->max_volume, &n) != 0 ||
	    ig_fixed_bps(n, 10000, &f) != 0 || n > INT64_MAX - f)
		return IG_EINVAL;
	if (ig_ledger_find(ledger, cfg->base) < 0 &&
	    ig_ledger_find(ledger, cfg->counter) < 0 &&
	    ledger->nassets + 2 > IG_LEDGER_MAX_ASSETS)
		return IG_ELIMIT;
	base = ig_ledger_asset(ledger, cfg->base);
	if (base < 0)
		return base;
	counter = ig_ledger_asset(ledger, cfg->counter);
	if (counter < 0)
		return counter;
	if ((rc = map_init(&b->map, 256)) != 0)
		return rc;
	b->cfg = *cfg;
	b->cfg.pair[sizeof(b->cfg.pair) - 1] = '\0';
	b->ledger = ledger;
	b->base_asset = (uint32_t)base;
	b->counter_asset = (uint32_t)counter;
	b->tick = pow10_i64(8 - cfg->price_scale);
	b->lot = pow10_i64(8 - cfg->volume_scale);
	if (lis != NULL)
		b->lis = *lis;
	b->next_seq = 1;
	return 0;
}

void ig_book_destroy(struct ig_book *b)
{
	for (int s = 0; s < 2; s++) {
		struct ig__book_side *sd = &b->sides[s];
		for (uint32_t i = 0; i < sd->n; i++) {
			struct ig_book_order *o = sd->lv[i].head;
			while (o != NULL) {
				struct ig_book_order *next = o->next;
				free(o);
				o = next;
			}
		}
		free(sd->lv);
	}
	map_destroy(&b->map);
	memset(b, 0, sizeof(*b));
}

/* ---- matching ---- */

/* The aggressor while it matches. */
struct taker {
	const struct ig_book_req *req;
	int64_t leaves;   /* base still to fill (limit, market SELL), 1e-8 */
	int64_t reserved; /* reservation left (a market BUY: its budget), 1e-8 */
};

static bool crosses(const struct ig_book_req *r, int64_t resting_px)
{
	if (r->kind == IG_BOOK_MARKET)
		return true;
	return r->side == IG_BOOK_BID ? resting_px <= r->px : resting_px >= r->px;
}

/* Largest multiple of lot, at most cap, whose notional at px plus fee at
 * bps fits in budget. */
static int64_t affordable(const struct ig_book *b, int64_t budget, int64_t px, int64_t bps,
			  int64_t cap)
{
	ig_i128 q128 = (ig_i128)budget * IG_FIXED_SCALE * 10000 / ((ig_i128)px * (10000 + bps));
	int64_t q = q128 > cap ? cap : (int64_t)q128;

	q = ig_fixed_floor_step(q, b->lot);
	while (q > 0) {
		int64_t c, f;
		if (ig_fixed_mul(px, q, &c) == 0 && ig_fixed_bps(c, bps, &f) == 0 &&
		    c <= budget - f)
			break;
		q -= b->lot;
	}
	return q;
}

/* Volume of other accounts' orders that r could trade against now. */
static int64_t fillable(const struct ig_book *b, const struct ig_book_req *r, int64_t want)
{
	const struct ig__book_side *sd = &b->sides[opposite(r->side)];
	int64_t sum = 0;

	for (uint32_t i = sd->n; i-- > 0 && sum < want;) {
		if (!crosses(r, sd->lv[i].px))
			break;
		for (const struct ig_book_order *o = sd->lv[i].head; o != NULL; o = o->next)
			if (o->account != r->account)
				sum += o->leaves;
	}
	return sum;
}

/* One fill of q at the maker's price; moves every balance. */
static void execute(struct ig_book *b, struct taker *t, struct ig_book_order *m, int64_t q,
		    struct ig_book_result *res)
{
	const struct ig_book_req *r = t->req;
	struct ig_ledger *l = b->ledger;
	bool taker_buys = r->side == IG_BOOK_BID;
	uint32_t buyer = taker_buys ? r->account : m->account;
	uint32_t seller = taker_buys ? m->account : r->account;
	int64_t *buyer_res = taker_buys ? &t->reserved : &m->reserved;
	int64_t *seller_res = taker_buys ? &m->reserved : &t->reserved;
	bool base_fee = !b->cfg.fee_in_counter; /* the buyer pays its fee in base */
	int64_t c, fee_b, fee_s, room, used;
	struct ig_book_trade tr;
	int rc;

	/* Cannot fail: init checked max_price * max_volume plus fee. */
	rc = ig_fixed_mul(m->px, q, &c);
	rc |= ig_fixed_bps(base_fee ? q : c, taker_buys ? b->cfg.taker_fee_bps : b->cfg.maker_fee_bps,
			   &fee_b);
	rc |= ig_fixed_bps(c, taker_buys ? b->cfg.maker_fee_bps : b->cfg.taker_fee_bps, &fee_s);
	assert(rc == 0);
	(void)rc;

	/* Per-fill fee rounding may overrun the reservation by a few 1e-8
	 * (book.h, "rounding"): cover it from available, else cut the fee. */
	room = *buyer_res + ig_ledger_available(l, buyer, b->counter_asset);
	assert(c <= room);
	if (!base_fee && c + fee_b > room) {
		int64_t cut = c + fee_b - room;
		fee_b -= cut < fee_b ? cut : fee_b;
	}

	/* Counter: buyer -> seller (notional), and a counter fee. */
	ig_ledger_move(l, buyer, seller, b->counter_asset, c, *buyer_res);
	used = c < *buyer_res ? c : *buyer_res;
	*buyer_res -= used;
	if (!base_fee) {
		ig_ledger_move(l, buyer, b->cfg.fee_account, b->counter_asset, fee_b, *buyer_res);
		used = fee_b < *buyer_res ? fee_b : *buyer_res;
		*buyer_res -= used;
	}
	/* Base: seller -> buyer, all of it from the seller's reservation. */
	assert(*seller_res >= q);
	ig_ledger_move(l, seller, buyer, b->base_asset, q, *seller_res);
	*seller_res -= q;
	/* A base fee comes out of the base the buyer just received (fee <= q). */
	if (base_fee)
		ig_ledger_move(l, buyer, b->cfg.fee_account, b->base_asset, fee_b, 0);
	/* The seller pays its fee out of the notional it just received. */
	ig_ledger_move(l, seller, b->cfg.fee_account, b->counter_asset, fee_s, 0);

	if (r->kind == IG_BOOK_LIMIT || r->side == IG_BOOK_ASK)
		t->leaves -= q;
	m->leaves -= q;
	{
		uint32_t i;
		bool found = level_find(&b->sides[m->side], m->side, m->px, &i);
		assert(found);
		(void)found;
		b->sides[m->side].lv[i].qty -= q;
	}
	res->filled_qty += q;
	res->filled_counter += c;
	if (taker_buys && base_fee)
		res->fee_base += fee_b;
	else
		res->fee += taker_buys ? fee_b : fee_s;
	res->trades++;
	b->last_px = m->px;
	b->volume += q;
	b->ntrades++;

	memset(&tr, 0, sizeof(tr));
	tr.seq = b->next_seq++;
	tr.ts_ms = r->ts_ms;
	tr.px = m->px;
	tr.qty = q;
	tr.counter = c;
	tr.maker_order_id = m->id;
	tr.taker_order_id = r->order_id;
	tr.maker_account = m->account;
	tr.taker_account = r->account;
	tr.taker_side = r->side;
	tr.maker_fee = taker_buys ? fee_s : fee_b;
	tr.taker_fee = taker_buys ? fee_b : fee_s;
	tr.maker_fee_in_base = !taker_buys && base_fee;
	tr.taker_fee_in_base = taker_buys && base_fee;
	tr.maker_leaves = m->leaves;
	tr.taker_leaves = (r->kind == IG_BOOK_MARKET && r->side == IG_BOOK_BID) ? t->reserved
										   : t->leaves;
	if (b->lis.on_trade != NULL)
		b->lis.on_trade(b->lis.arg, &tr);
}

static void match(struct ig_book *b, struct taker *t, struct ig_book_result *res)
{
	const struct ig_book_req *r = t->req;
	enum ig_book_side os = opposite(r->side);
	struct ig__book_side *sd = &b->sides[os];
	bool buy_by_counter = r->kind == IG_BOOK_MARKET && r->side == IG_BOOK_BID;

	while (sd->n > 0 && (buy_by_counter || t->leaves > 0)) {
		struct ig_book_level *lv = &sd->lv[sd->n - 1];
		struct ig_book_order *m = lv->head;
		int64_t q;

		if (!crosses(r, lv->px))
			break;
		if (m->account == r->account) {
			/* Self-trade prevention: cancel the resting order. */
			uint64_t id = m->id;
			uint32_t acct = m->account;
			order_release(b, m);
			order_remove(b, m);
			if (b->lis.on_gone != NULL)
				b->lis.on_gone(b->lis.arg, id, acct, IG_BOOK_GONE_SELF_TRADE, r->ts_ms);
			continue;
		}
		if (buy_by_counter)
			q = affordable(b, t->reserved, m->px,
				       b->cfg.fee_in_counter ? b->cfg.taker_fee_bps : 0, m->leaves);
		else
			q = t->leaves < m->leaves ? t->leaves : m->leaves;
		if (q <= 0)
			break;
		execute(b, t, m, q, res);
		if (m->leaves == 0) {
			uint64_t id = m->id;
			uint32_t acct = m->account;
			order_release(b, m);
			order_remove(b, m);
			if (b->lis.on_gone != NULL)
				b->lis.on_gone(b->lis.arg, id, acct, IG_BOOK_GONE_FILLED, r->ts_ms);
		}
	}
}

static enum ig_book_reject validate(const struct ig_book *b, const struct ig_book_req *r)
{
	const struct ig_book_cfg *c = &b->cfg;

	if (r->kind == IG_BOOK_LIMIT) {
		if (r->px <= 0)
			return IG_BOOK_REJ_INVALID_PRICE;
		if (r->qty <= 0)
			return IG_BOOK_REJ_INVALID_VOLUME;
		if (r->px % b->tick != 0)
			return IG_BOOK_REJ_PRICE_DENOMINATION;
		if (r->qty % b->lot != 0)
			return IG_BOOK_REJ_VOLUME_DENOMINATION;
		if (r->px < c->min_price)
			return IG_BOOK_REJ_PRICE_TOO_LOW;
		if (r->px > c->max_price)
			return IG_BOOK_REJ_PRICE_TOO_HIGH;
		if (r->qty < c->min_volume)
			return IG_BOOK_REJ_VOLUME_TOO_LOW;
		if (r->qty > c->max_volume)
			return IG_BOOK_REJ_VOLUME_TOO_HIGH;
		if (r->post_only && r->tif != IG_BOOK_GTC)
			return IG_BOOK_REJ_POST_ONLY_NOT_ALLOWED;
		return IG_BOOK_REJ_NONE;
	}
	if (r->side == IG_BOOK_BID)
		return r->counter_qty > 0 ? IG_BOOK_REJ_NONE : IG_BOOK_REJ_INVALID_COUNTER_VOLUME;
	if (r->qty <= 0)
		return IG_BOOK_REJ_INVALID_BASE_VOLUME;
	if (r->qty % b->lot != 0)
		return IG_BOOK_REJ_VOLUME_DENOMINATION;
	if (r->qty < c->min_volume)
		return IG_BOOK_REJ_VOLUME_TOO_LOW;
	if (r->qty > c->max_volume)
		return IG_BOOK_REJ_VOLUME_TOO_HIGH;
	return IG_BOOK_REJ_NONE;
}

int ig_book_place(struct ig_book *b, const struct ig_book_req *r, struct ig_book_result *res)
{
	struct taker t;
	uint32_t asset;
	int64_t need;

	memset(res, 0, sizeof(*res));
	if (r->order_id == 0 || map_get(&b->map, r->order_id) != NULL ||
	    r->account >= b->ledger->naccounts || r->account == b->cfg.fee_account)
		return IG_EINVAL;
	if ((res->reject = validate(b, r)) != IG_BOOK_REJ_NONE)
		return 0;

	if (r->kind == IG_BOOK_LIMIT && r->post_only) {
		int64_t px, qty;
		if (ig_book_best(b, opposite(r->side), &px, &qty) && crosses(r, px)) {
			res->reject = IG_BOOK_REJ_POST_ONLY_CROSS;
			return 0;
		}
	}

	/* What the order reserves. */
	asset = reserve_asset(b, r->side);
	if (r->kind == IG_BOOK_LIMIT && r->side == IG_BOOK_BID) {
		int64_t n, f;
		int64_t bps = b->cfg.maker_fee_bps > b->cfg.taker_fee_bps ? b->cfg.maker_fee_bps
									  : b->cfg.taker_fee_bps;
		if (ig_fixed_mul(r->px, r->qty, &n) != 0 || ig_fixed_bps(n, bps, &f) != 0 ||
		    n > INT64_MAX - f) {
			res->reject = IG_BOOK_REJ_VALUE_TOO_HIGH;
			return 0;
		}
		need = n + f;
	} else if (r->kind == IG_BOOK_MARKET && r->side == IG_BOOK_BID) {
		need = r->counter_qty;
	} else {
		need = r->qty;
	}
	if (need > ig_ledger_available(b->ledger, r->account, asset)) {
		res->reject = IG_BOOK_REJ_INSUFFICIENT_BALANCE;
		return 0;
	}

	if (r->kind == IG_BOOK_LIMIT && r->tif == IG_BOOK_FOK && fillable(b, r, r->qty) < r->qty) {
		res->killed = true;
		return 0;
	}

	/* A GTC order that may rest needs its node up front, so that running
	 * out of memory cannot strand a half-matched order. */
	struct ig_book_order *o = NULL;
	if (r->kind == IG_BOOK_LIMIT && r->tif == IG_BOOK_GTC) {
		o = calloc(1, sizeof(*o));
		if (o == NULL || map_reserve(&b->map) != 0) {
			free(o);
			return IG_ENOMEM;
		}
		if (b->sides[r->side].n == b->sides[r->side].cap) {
			/* Same for a new level. */
			struct ig__book_side *sd = &b->sides[r->side];
			uint32_t cap = sd->cap ? sd->cap * 2 : 32;
			struct ig_book_level *lv = realloc(sd->lv, (size_t)cap * sizeof(*lv));
			if (lv == NULL) {
				free(o);
				return IG_ENOMEM;
			}
			sd->lv = lv;
			sd->cap = cap;
		}
	}

	{
		int rc = ig_ledger_reserve(b->ledger, r->account, asset, need);
		assert(rc == 0);
		(void)rc;
	}
	t.req = r;
	t.leaves = r->kind == IG_BOOK_MARKET && r->side == IG_BOOK_BID ? 0 : r->qty;
	t.reserved = need;
	match(b, &t, res);

	if (o != NULL && t.leaves > 0) {
		struct ig_book_level *lv = level_insert(&b->sides[r->side], r->side, r->px);
		int rc;
		assert(lv != NULL); /* capacity reserved above */
		o->id = r->order_id;
		o->account = r->account;
		o->side = r->side;
		o->px = r->px;
		o->qty = r->qty;
		o->leaves = t.leaves;
		o->reserved = t.reserved;
		o->ts_ms = r->ts_ms;
		o->prev = lv->tail;
		if (lv->tail != NULL)
			lv->tail->next = o;
		else
			lv->head = o;
		lv->tail = o;
		lv->qty += o->leaves;
		lv->count++;
		rc = map_put(&b->map, o->id, o); /* capacity checked above */
		assert(rc == 0);
		(void)rc;
		res->rested = true;
		res->leaves_qty = t.leaves;
	} else {
		free(o);
		ig_ledger_release(b->ledger, r->account, asset, t.reserved);
	}
	return 0;
}

int ig_book_cancel(struct ig_book *b, uint64_t order_id, int64_t *leaves)
{
	struct ig_book_order *o = order_id != 0 ? map_get(&b->map, order_id) : NULL;

	if (o == NULL)
		return IG_ENOTFOUND;
	if (leaves != NULL)
		*leaves = o->leaves;
	order_release(b, o);
	order_remove(b, o);
	return 0;
}

const struct ig_book_order *ig_book_find(const struct ig_book *b, uint64_t order_id)
{
	return order_id != 0 ? map_get(&b->map, order_id) : NULL;
}

bool ig_book_best(const struct ig_book *b, enum ig_book_side s, int64_t *px, int64_t *qty)
{
	const struct ig__book_side *sd = &b->sides[s];

	if (sd->n == 0)
		return false;
	*px = sd->lv[sd->n - 1].px;
	*qty = sd->lv[sd->n - 1].qty;
	return true;
}

uint32_t ig_book_levels(const struct ig_book *b, enum ig_book_side s)
{
	return b->sides[s].n;
}

const struct ig_book_level *ig_book_level(const struct ig_book *b, enum ig_book_side s,
					  uint32_t i)
{
	const struct ig__book_side *sd = &b->sides[s];
	return i < sd->n ? &sd->lv[sd->n - 1 - i] : NULL;
}

int64_t ig_book_reserved(const struct ig_book *b, uint32_t account, uint32_t asset)
{
	int64_t sum = 0;

	for (int s = 0; s < 2; s++) {
		const struct ig__book_side *sd = &b->sides[s];
		if (reserve_asset(b, (enum ig_book_side)s) != asset)
			continue;
		for (uint32_t i = 0; i < sd->n; i++)
			for (const struct ig_book_order *o = sd->lv[i].head; o != NULL; o = o->next)
				if (o->account == account)
					sum += o->reserved;
	}
	return sum;
}

bool ig_book_sanity(const struct ig_book *b)
{
	uint32_t norders = 0;
	int64_t bid_px, ask_px, q;

	for (int s = 0; s < 2; s++) {
		const struct ig__book_side *sd = &b->sides[s];
		for (uint32_t i = 0; i < sd->n; i++) {
			const struct ig_book_level *lv = &sd->lv[i];
			const struct ig_book_order *prev = NULL;
			int64_t sum = 0;
			uint32_t count = 0;

			if (i > 0 && level_key((enum ig_book_side)s, sd->lv[i - 1].px) >=
					     level_key((enum ig_book_side)s, lv->px))
				return false;
			if (lv->head == NULL || lv->count == 0 || lv->px % b->tick != 0)
				return false;
			for (const struct ig_book_order *o = lv->head; o != NULL; o = o->next) {
				if (o->prev != prev || o->side != (enum ig_book_side)s ||
				    o->px != lv->px || o->leaves <= 0 || o->leaves > o->qty ||
				    o->reserved < 0 || map_get(&b->map, o->id) != o)
					return false;
				if (s == IG_BOOK_ASK && o->reserved != o->leaves)
					return false;
				sum += o->leaves;
				count++;
				prev = o;
			}
			if (lv->tail != prev || sum != lv->qty || count != lv->count)
				return false;
			norders += count;
		}
	}
	if (norders != b->map.n)
		return false;
	if (ig_book_best(b, IG_BOOK_BID, &bid_px, &q) && ig_book_best(b, IG_BOOK_ASK, &ask_px, &q) &&
	    bid_px >= ask_px)
		return false;
	return true;
}
