/*
 * exchange.c - the simulated exchange behind the HTTP glue: the user's order
 * and trade records, the book listener, order entry and the JSON answer of
 * every endpoint, in Luno's shapes. See sim.h for the endpoint list and
 * sim_internal.h for the state (all of it guarded by the server's mutex,
 * which ig__sim_handle takes).
 *
 * Luno conventions kept here: decimals are strings, timestamps are integer
 * Unix milliseconds, order ids look like "BX" + 13 base-32 characters,
 * listtrades' after_seq is INCLUSIVE ("from (including) this sequence
 * number", as Luno documents it), rejected orders leave no trace (so their
 * client_order_id stays free), and listorders/orders/{id} call a limit
 * order's type BID/ASK and a market order's BUY/SELL, while v2/v3 give
 * side BUY/SELL, type LIMIT/MARKET and status PENDING/COMPLETE (never
 * AWAITING: there are no stop orders). A market order reports
 * time_in_force "IOC", limit_price 0, and limit_volume its base_volume
 * (SELL) or 0 (BUY). The ticker's rolling_24_hour_volume is the volume
 * since the simulator started.
 */
#include "sim/sim_internal.h"
#include "core/rng.h"

#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small utilities ---- */

int64_t ig__sim_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The sim's draws: the engine's splitmix64 (core/rng.h). */
uint64_t ig__sim_rng(uint64_t *state)
{
	return ig_rng_next(state);
}

/* Crockford base 32: no I, L, O, U. */
static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void ig__sim_format_id(uint64_t id, char out[16])
{
	out[0] = 'B';
	out[1] = 'X';
	for (int i = 14; i >= 2; i--) {
		out[i] = b32[id & 31];
		id >>= 5;
	}
	out[15] = '\0';
}

static bool parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;

	if (s == NULL || strlen(s) != 15 || s[0] != 'B' || s[1] != 'X')
		return false;
	for (int i = 2; i < 15; i++) {
		const char *p = s[i] != '\0' ? strchr(b32, s[i]) : NULL;
		if (p == NULL)
			return false;
		if (i == 2 && p - b32 >= 16)
			return false; /* would not fit in 64 bits */
		v = v << 5 | (uint64_t)(p - b32);
	}
	*id = v;
	return v != 0;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static uint64_t hash_id(uint64_t id)
{
	uint64_t st = id;
	return ig__sim_rng(&st);
}

/* ---- index: hash -> record (see sim_internal.h) ---- */

static int index_put(struct ig__sim_index *ix, uint64_t h, uint32_t rec)
{
	uint32_t i;

	if ((ix->n + 1) * 2 > ix->cap) {
		uint32_t cap = ix->cap ? ix->cap * 2 : 1024;
		uint64_t *nh = calloc(cap, sizeof(*nh));
		uint32_t *nv = calloc(cap, sizeof(*nv));
		if (nh == NULL || nv == NULL || cap < ix->cap) {
			free(nh);
			free(nv);
			return IG_ENOMEM;
		}
		for (uint32_t k = 0; k < ix->cap; k++) {
			if (ix->v[k] == 0)
				continue;
			i = (uint32_t)(ix->h[k] & (cap - 1));
			while (nv[i] != 0)
				i = (i + 1) & (cap - 1);
			nh[i] = ix->h[k];
			nv[i] = ix->v[k];
		}
		free(ix->h);
		free(ix->v);
		ix->h = nh;
		ix->v = nv;
		ix->cap = cap;
	}
	i = (uint32_t)(h & (ix->cap - 1));
	while (ix->v[i] != 0)
		i = (i + 1) & (ix->cap - 1);
	ix->h[i] = h;
	ix->v[i] = rec + 1;
	ix->n++;
	return 0;
}

static void index_destroy(struct ig__sim_index *ix)
{
	free(ix->h);
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

static struct ig__sim_order *find_order(struct ig_sim_server *s, uint64_t id)
{
	uint64_t h = hash_id(id);

	if (s->by_id.cap == 0)
		return NULL;
	for (uint32_t i = (uint32_t)(h & (s->by_id.cap - 1)); s->by_id.v[i] != 0;
	     i = (i + 1) & (s->by_id.cap - 1))
		if (s->by_id.h[i] == h && s->orders[s->by_id.v[i] - 1].id == id)
			return &s->orders[s->by_id.v[i] - 1];
	return NULL;
}

static struct ig__sim_order *find_client_id(struct ig_sim_server *s, const char *cid)
{
	uint64_t h = hash_str(cid);

	if (s->by_client_id.cap == 0)
		return NULL;
	for (uint32_t i = (uint32_t)(h & (s->by_client_id.cap - 1)); s->by_client_id.v[i] != 0;
	     i = (i + 1) & (s->by_client_id.cap - 1)) {
		struct ig__sim_order *o = &s->orders[s->by_client_id.v[i] - 1];
		if (s->by_client_id.h[i] == h && o->client_id != NULL && strcmp(o->client_id, cid) == 0)
			return o;
	}
	return NULL;
}

/* ---- book listener: the user's fills and completions ---- */

static int add_trade(struct ig_sim_server *s, const struct ig__sim_trade *t)
{
	if (s->ntrades == s->trades_cap) {
		uint32_t cap = s->trades_cap ? s->trades_cap * 2 : 1024;
		struct ig__sim_trade *n = realloc(s->trades, (size_t)cap * sizeof(*n));
		if (n == NULL)
			return IG_ENOMEM;
		s->trades = n;
		s->trades_cap = cap;
	}
	s->trades[s->ntrades++] = *t;
	return 0;
}

static void user_fill(struct ig_sim_server *s, const struct ig_book_trade *t, uint64_t order_id,
		      int64_t fee, bool fee_in_base, bool maker)
{
	struct ig__sim_order *o = find_order(s, order_id);
	struct ig__sim_trade rec;

	if (o == NULL) {
		/* Every user order is recorded before it reaches the book. */
		s->oom = 1;
		return;
	}
	o->base += t->qty;
	o->counter += t->counter;
	if (fee_in_base)
		o->fee_base += fee;
	else
		o->fee_counter += fee;
	memset(&rec, 0, sizeof(rec));
	rec.seq = t->seq;
	rec.ts_ms = t->ts_ms;
	rec.order = (uint32_t)(o - s->orders);
	rec.px = t->px;
	rec.qty = t->qty;
	rec.counter = t->counter;
	if (fee_in_base)
		rec.fee_base = fee;
	else
		rec.fee_counter = fee;
	rec.is_buy = t->taker_side == IG_BOOK_BID;
	rec.maker = maker;
	if (add_trade(s, &rec) != 0)
		s->oom = 1;
	s->stats.user_trades++;
	ig__sim_stream_user_fill(s, o, &rec);
}

static void on_trade(void *arg, const struct ig_book_trade *t)
{
	struct ig__sim_market *m = arg;
	struct ig_sim_server *s = m->s;
	struct ig__sim_pub_trade *p = &m->recent[m->recent_next];

	p->seq = t->seq;
	p->ts_ms = t->ts_ms;
	p->px = t->px;
	p->qty = t->qty;
	p->is_buy = t->taker_side == IG_BOOK_BID;
	m->recent_next = (m->recent_next + 1) % IG__SIM_RECENT;
	if (m->recent_n < IG__SIM_RECENT)
		m->recent_n++;
	s->stats.trades++;
	ig__sim_stream_trade(m, t);
	if (t->maker_account == IG__SIM_ACCT_USER)
		user_fill(s, t, t->maker_order_id, t->maker_fee, t->maker_fee_in_base, true);
	if (t->taker_account == IG__SIM_ACCT_USER)
		user_fill(s, t, t->taker_order_id, t->taker_fee, t->taker_fee_in_base, false);
}

static void on_gone(void *arg, uint64_t order_id, uint32_t account, enum ig_book_gone why,
		    int64_t ts_ms)
{
	struct ig__sim_market *m = arg;
	struct ig_sim_server *s = m->s;
	struct ig__sim_order *o;

	/* A fill that empties an order needs no delete on the market stream
	 * (its trade takes the volume to zero); a self-trade cancel does. */
	if (why != IG_BOOK_GONE_FILLED)
		ig__sim_stream_removed(m, order_id);
	if (account != IG__SIM_ACCT_USER || (o = find_order(s, order_id)) == NULL)
		return;
	o->complete = true;
	o->cancelled = why != IG_BOOK_GONE_FILLED;
	o->completed_ms = ts_ms;
	ig__sim_stream_user_status(s, o);
}

/* ---- init ---- */

static int split_pair(const char *pair, char *base, char *counter)
{
	size_t n = strlen(pair), nb = 3;

	if (strncmp(pair, "USDC", 4) == 0 || strncmp(pair, "USDT", 4) == 0)
		nb = 4;
	if (n <= nb || n - nb >= IG_LEDGER_ASSET_LEN)
		return IG_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (pair[i] < 'A' || pair[i] > 'Z')
			return IG_EINVAL;
	memcpy(base, pair, nb);
	base[nb] = '\0';
	memcpy(counter, pair + nb, n - nb + 1);
	return 0;
}

/* v * k, or cap when it does not fit. */
static int64_t mul_cap(int64_t v, int64_t k, int64_t cap)
{
	int64_t r;
	if (ig_fixed_mul(v, k, &r) != 0 || r > cap)
		return cap;
	return r;
}

struct ig__sim_market *ig__sim_market_of(struct ig_sim_server *s, const char *pair)
{
	for (uint32_t k = 0; pair != NULL && k < s->nmk; k++)
		if (strcmp(s->mk[k].pair, pair) == 0)
			return &s->mk[k];
	return NULL;
}

/* Makes market m's book for pair (bc's other fields set). Returns 0 or
 * an IG_E* code with err set. */
static int market_init(struct ig_sim_server *s, struct ig__sim_market *m, const char *pair,
		       size_t len, struct ig_book_cfg *bc, char *err, size_t errlen)
{
	struct ig_book_listener lis = { on_trade, on_gone, m };
	int rc;

	m->s = s;
	m->index = (uint32_t)(m - s->mk);
	if (len == 0 || len >= sizeof(m->pair)) {
		snprintf(err, errlen, "--pair: expected BASECOUNTER in capitals, e.g. XBTZAR");
		return IG_ECONFIG;
	}
	memcpy(m->pair, pair, len);
	m->pair[len] = '\0';
	snprintf(bc->pair, sizeof(bc->pair), "%s", m->pair);
	if (split_pair(m->pair, bc->base, bc->counter) != 0) {
		snprintf(err, errlen, "--pair %s: expected BASECOUNTER in capitals, e.g. XBTZAR",
			 m->pair);
		return IG_ECONFIG;
	}
	if (ig__sim_market_of(s, m->pair) != NULL) {
		snprintf(err, errlen, "--pair %s: given twice", m->pair);
		return IG_ECONFIG;
	}
	if ((rc = ig_book_init(&m->book, bc, &s->ledger, &lis)) != 0) {
		snprintf(err, errlen, "invalid market: check --min-volume, fees (0..10000 bps), "
				      "scales and --start-price");
		return rc == IG_ENOMEM ? rc : IG_ECONFIG;
	}
	s->nmk++;
	return 0;
}

/* The synthetic traders' money on m: deep pockets, but finite and
 * conserved; and the user's default (no --balance). Returns 0 or an
 * IG_E* code. */
static int market_fund(struct ig_sim_server *s, const struct ig__sim_market *m)
{
	const struct ig_sim_cfg *c = &s->cfg;
	int rc = 0;

	if (c->nbalances == 0) {
		rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_USER, m->book.base_asset, IG_FIXED(1));
		if (rc == 0)
			rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_USER, m->book.counter_asset,
					       c->start_price);
	}
	if (rc == 0)
		rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_MM, m->book.base_asset, IG_FIXED(1000));
	if (rc == 0)
		rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_MM, m->book.counter_asset,
				       mul_cap(c->start_price, IG_FIXED(1000), INT64_MAX / 8));
	if (rc == 0)
		rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_TAKER, m->book.base_asset,
				       IG_FIXED(100));
	if (rc == 0)
		rc = ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_TAKER, m->book.counter_asset,
				       mul_cap(c->start_price, IG_FIXED(100), INT64_MAX / 8));
	return rc;
}

int ig__sim_exchange_init(struct ig_sim_server *s, char *err, size_t errlen)
{
	const struct ig_sim_cfg *c = &s->cfg;
	struct ig_book_cfg bc;
	const char *p = s->pairs;
	int64_t tick;
	int rc = 0;

	memset(&bc, 0, sizeof(bc));
	bc.price_scale = c->price_scale;
	bc.volume_scale = c->volume_scale;
	if (c->price_scale < 0 || c->price_scale > 8 || c->volume_scale < 0 || c->volume_scale > 8) {
		snprintf(err, errlen, "price and volume scales must be 0..8");
		return IG_ECONFIG;
	}
	tick = 1;
	for (int i = c->price_scale; i < 8; i++)
		tick *= 10;
	if (c->start_price <= 0 || c->start_price % tick != 0 || c->start_price > IG_FIXED(1000000000)) {
		snprintf(err, errlen, "--start-price must be positive, at most 1000000000, with at "
				      "most %d decimals",
			 c->price_scale);
		return IG_ECONFIG;
	}
	bc.min_price = ig_fixed_floor_step(c->start_price / 10, tick);
	if (bc.min_price < tick)
		bc.min_price = tick;
	bc.max_price = c->start_price * 10;
	bc.min_volume = c->min_volume;
	bc.max_volume = c->max_volume;
	bc.maker_fee_bps = c->maker_fee_bps;
	bc.taker_fee_bps = c->taker_fee_bps;
	bc.fee_account = IG__SIM_ACCT_FEE;
	bc.fee_in_counter = c->fee_in_counter;

	if ((rc = ig_ledger_init(&s->ledger, IG__SIM_NACCOUNTS)) != 0) {
		snprintf(err, errlen, "out of memory");
		return rc;
	}
	/* One market per pair of the comma-separated list. */
	for (;;) {
		size_t len = strcspn(p, ",");
		if (s->nmk == IG_SIM_MAX_PAIRS) {
			snprintf(err, errlen, "--pair: at most %d pairs", IG_SIM_MAX_PAIRS);
			rc = IG_ECONFIG;
			break;
		}
		rc = market_init(s, &s->mk[s->nmk], p, len, &bc, err, errlen);
		if (rc != 0 || p[len] == '\0')
			break;
		p += len + 1;
	}
	/* The user's money: --balance, else 1 base and start_price counter a
	 * pair (market_fund). */
	for (uint32_t i = 0; rc == 0 && i < c->nbalances; i++) {
		int a = ig_ledger_asset(&s->ledger, c->balances[i].asset);
		rc = a < 0 ? a
			   : ig_ledger_deposit(&s->ledger, IG__SIM_ACCT_USER, (uint32_t)a,
					       c->balances[i].amount);
	}
	for (uint32_t k = 0; rc == 0 && k < s->nmk; k++)
		rc = market_fund(s, &s->mk[k]);
	if (rc != 0) {
		if (rc != IG_ECONFIG)
			snprintf(err, errlen, "--balance: %s", ig_strerror(rc));
		for (uint32_t k = 0; k < s->nmk; k++)
			ig_book_destroy(&s->mk[k].book);
		s->nmk = 0;
		ig_ledger_destroy(&s->ledger);
		return rc;
	}
	for (uint32_t a = 0; a < s->ledger.nassets; a++)
		s->initial[a] = ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, a)->balance;
	/* Unique across restarts of the simulator, so that ids a client kept
	 * from an earlier run never name a new order. */
	s->next_order_id = (uint64_t)ig__sim_now_ms() * 1000;
	for (uint32_t k = 0; k < s->nmk; k++)
		ig__sim_flow_init(&s->mk[k]);
	return 0;
}

void ig__sim_exchange_destroy(struct ig_sim_server *s)
{
	for (uint32_t i = 0; i < s->norders; i++)
		free(s->orders[i].client_id);
	free(s->orders);
	free(s->trades);
	index_destroy(&s->by_id);
	index_destroy(&s->by_client_id);
	for (uint32_t k = 0; k < s->nmk; k++)
		ig_book_destroy(&s->mk[k].book);
	ig_ledger_destroy(&s->ledger);
}

/* ---- replies ---- */

void ig__sim_error(struct ig__sim_reply *r, unsigned status, const char *code, const char *msg)
{
	json_t *o = json_pack("{s:s, s:s}", "error", msg, "error_code", code);

	r->status = status;
	r->content_type = "application/json";
	r->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
}

/* Steals o. Returns 0 or IG_ENOMEM. */
static int reply_json(struct ig__sim_reply *r, json_t *o)
{
	r->status = 200;
	r->content_type = "application/json";
	r->body = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return r->body != NULL ? 0 : IG_ENOMEM;
}

static int bad(struct ig__sim_reply *r, const char *code, const char *msg)
{
	ig__sim_error(r, 400, code, msg);
	return r->body != NULL ? 0 : IG_ENOMEM;
}

static int reject(struct ig__sim_reply *r, enum ig_book_reject why)
{
	return bad(r, ig_book_reject_code(why), ig_book_reject_msg(why));
}

static int not_found(struct ig__sim_reply *r)
{
	ig__sim_error(r, 404, "ErrOrderNotFound", "Cannot find that order");
	return r->body != NULL ? 0 : IG_ENOMEM;
}

/* Decimal formatting: exact shortest form, or a fixed number of decimals
 * for prices and volumes (exact too: they sit on the pair's grid). */
struct fbuf {
	char s[IG_FIXED_STRLEN];
};

static const char *fx(struct fbuf *b, int64_t v)
{
	if (ig_fixed_format(v, b->s, sizeof(b->s)) < 0)
		b->s[0] = '\0';
	return b->s;
}

static const char *fdp(struct fbuf *b, int64_t v, int dp)
{
	if (ig_fixed_format_dp(v, dp, b->s, sizeof(b->s)) < 0)
		b->s[0] = '\0';
	return b->s;
}

static const char *param(const struct ig__sim_params *p, const char *k)
{
	for (uint32_t i = 0; i < p->n; i++)
		if (strcmp(p->kv[i].k, k) == 0)
			return p->kv[i].v;
	return NULL;
}

/* Checks the pair parameter: 0 with *ok and *m its market (NULL when
 * not required and not given), else the reply is set. */
static int check_pair(struct ig_sim_server *s, const struct ig__sim_params *p,
		      struct ig__sim_reply *r, bool required, bool *ok, struct ig__sim_market **m)
{
	const char *pair = param(p, "pair");

	*ok = false;
	*m = NULL;
	if (pair == NULL || pair[0] == '\0') {
		if (!required) {
			*ok = true;
			return 0;
		}
		return bad(r, "ErrInvalidArguments", "pair: required");
	}
	if ((*m = ig__sim_market_of(s, pair)) == NULL)
		return bad(r, "ErrInvalidMarketPair", "Market pair is invalid");
	*ok = true;
	return 0;
}

/* Whether the request's pair parameters (it may repeat; none means all
 * markets) name m. */
static bool pair_wanted(const struct ig__sim_params *p, const struct ig__sim_market *m)
{
	bool any = false;

	for (uint32_t i = 0; i < p->n; i++) {
		if (strcmp(p->kv[i].k, "pair") != 0)
			continue;
		any = true;
		if (strcmp(p->kv[i].v, m->pair) == 0)
			return true;
	}
	return !any;
}

/* Parses an optional integer parameter in [lo, hi]. */
static bool param_int(const struct ig__sim_params *p, const char *k, int64_t lo, int64_t hi,
		      int64_t dflt, int64_t *out)
{
	const char *v = param(p, k);
	char *end;
	long long x;

	if (v == NULL || v[0] == '\0') {
		*out = dflt;
		return true;
	}
	if (v[0] == '+' || v[0] == ' ')
		return false;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return false;
	*out = (int64_t)x;
	return true;
}

static bool param_bool(const struct ig__sim_params *p, const char *k, bool *out)
{
	const char *v = param(p, k);

	*out = false;
	if (v == NULL || v[0] == '\0' || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return true;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return true;
	}
	return false;
}

/* ---- public endpoints ---- */

static json_t *ticker_json(const struct ig__sim_market *m)
{
	struct fbuf b1, b2, b3, b4;
	int64_t bid = 0, ask = 0, q;
	int dp = m->book.cfg.price_scale;

	ig_book_best(&m->book, IG_BOOK_BID, &bid, &q);
	ig_book_best(&m->book, IG_BOOK_ASK, &ask, &q);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "pair", m->pair, "timestamp",
			 (json_int_t)ig__sim_now_ms(), "bid", fdp(&b1, bid, dp), "ask",
			 fdp(&b2, ask, dp), "last_trade", fdp(&b3, m->book.last_px, dp),
			 "rolling_24_hour_volume", fdp(&b4, m->book.volume, m->book.cfg.volume_scale),
			 "status", "ACTIVE");
}

static int h_ticker(struct ig_sim_server *s, const struct ig__sim_params *p,
		    struct ig__sim_reply *r)
{
	struct ig__sim_market *m;
	bool ok;
	int rc = check_pair(s, p, r, true, &ok, &m);
	if (!ok)
		return rc;
	return reply_json(r, ticker_json(m));
}

static int h_tickers(struct ig_sim_server *s, const struct ig__sim_params *p,
		     struct ig__sim_reply *r)
{
	json_t *list = json_array();

	for (uint32_t k = 0; list != NULL && k < s->nmk; k++)
		if (pair_wanted(p, &s->mk[k]) && json_array_append_new(list, ticker_json(&s->mk[k])) != 0) {
			json_decref(list);
			list = NULL;
		}
	return reply_json(r, list != NULL ? json_pack("{s:o}", "tickers", list) : NULL);
}

static json_t *levels_json(const struct ig__sim_market *m, enum ig_book_side side, uint32_t max,
			   bool aggregate)
{
	json_t *a = json_array();
	struct fbuf b1, b2;

	for (uint32_t i = 0; a != NULL && i < ig_book_levels(&m->book, side) && i < max; i++) {
		const struct ig_book_level *lv = ig_book_level(&m->book, side, i);
		for (const struct ig_book_order *o = lv->head; o != NULL; o = aggregate ? NULL : o->next) {
			json_t *e = json_pack("{s:s, s:s}", "price",
					      fdp(&b1, lv->px, m->book.cfg.price_scale), "volume",
					      fdp(&b2, aggregate ? lv->qty : o->leaves,
						  m->book.cfg.volume_scale));
			if (json_array_append_new(a, e) != 0) {
				json_decref(a);
				return NULL;
			}
		}
	}
	return a;
}

static int h_orderbook(struct ig_sim_server *s, const struct ig__sim_params *p,
		       struct ig__sim_reply *r, bool top)
{
	struct ig__sim_market *m;
	bool ok;
	int rc = check_pair(s, p, r, true, &ok, &m);
	if (!ok)
		return rc;
	return reply_json(r, json_pack("{s:I, s:o, s:o}", "timestamp",
				       (json_int_t)ig__sim_now_ms(), "bids",
				       levels_json(m, IG_BOOK_BID, top ? 100 : UINT32_MAX, top),
				       "asks",
				       levels_json(m, IG_BOOK_ASK, top ? 100 : UINT32_MAX, top)));
}

static int h_trades(struct ig_sim_server *s, const struct ig__sim_params *p,
		    struct ig__sim_reply *r)
{
	struct ig__sim_market *m;
	json_t *a;
	int64_t since;
	bool ok;
	int rc = check_pair(s, p, r, true, &ok, &m);

	if (!ok)
		return rc;
	if (!param_int(p, "since", 0, INT64_MAX, 0, &since))
		return bad(r, "ErrInvalidArguments", "since: not a timestamp");
	a = json_array();
	/* Newest first. */
	for (uint32_t k = 0; a != NULL && k < m->recent_n; k++) {
		const struct ig__sim_pub_trade *t =
			&m->recent[(m->recent_next + IG__SIM_RECENT - 1 - k) % IG__SIM_RECENT];
		struct fbuf b1, b2;
		if (t->ts_ms <= since && since != 0)
			break;
		if (json_array_append_new(
			    a, json_pack("{s:I, s:I, s:s, s:s, s:b}", "sequence", (json_int_t)t->seq,
					 "timestamp", (json_int_t)t->ts_ms, "price",
					 fdp(&b1, t->px, m->book.cfg.price_scale), "volume",
					 fdp(&b2, t->qty, m->book.cfg.volume_scale), "is_buy",
					 (int)t->is_buy)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return reply_json(r, a != NULL ? json_pack("{s:o}", "trades", a) : NULL);
}

static int h_markets(struct ig_sim_server *s, const struct ig__sim_params *p,
		     struct ig__sim_reply *r)
{
	json_t *list = json_array();

	for (uint32_t k = 0; list != NULL && k < s->nmk; k++) {
		const struct ig_book_cfg *c = &s->mk[k].book.cfg;
		struct fbuf b1, b2, b3, b4;

		if (!pair_wanted(p, &s->mk[k]))
			continue;
		if (json_array_append_new(
			    list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i}",
					    "market_id", s->mk[k].pair, "trading_status", "ACTIVE",
					    "base_currency", c->base, "counter_currency", c->counter,
					    "min_volume", fdp(&b1, c->min_volume, c->volume_scale),
					    "max_volume", fdp(&b2, c->max_volume, c->volume_scale),
					    "min_price", fdp(&b3, c->min_price, c->price_scale), "max_price",
					    fdp(&b4, c->max_price, c->price_scale), "volume_scale",
					    c->volume_scale, "price_scale", c->price_scale, "fee_scale",
					    IG_FIXED_DECIMALS)) != 0) {
			json_decref(list);
			list = NULL;
		}
	}
	return reply_json(r, list != NULL ? json_pack("{s:o}", "markets", list) : NULL);
}

/* ---- the user's orders ---- */

static const char *tif_name(enum ig_book_tif t)
{
	return t == IG_BOOK_IOC ? "IOC" : t == IG_BOOK_FOK ? "FOK" : "GTC";
}

/* v1 (listorders, orders/{id}) when v3 is false; v2/v3 otherwise. */
static json_t *order_json(struct ig_sim_server *s, const struct ig__sim_order *o, bool v3)
{
	const struct ig__sim_market *m = &s->mk[o->mk];
	const struct ig_book_cfg *c = &m->book.cfg;
	struct fbuf b1, b2, b3, b4, b5, b6;
	char id[16];
	json_t *j;
	bool buy = o->side == IG_BOOK_BID;

	ig__sim_format_id(o->id, id);
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "order_id", id,
		      "client_order_id", o->client_id != NULL ? o->client_id : "", "pair", m->pair,
		      "limit_price", fdp(&b1, o->limit_px, c->price_scale), "limit_volume",
		      fdp(&b2, o->limit_qty, c->volume_scale), "base",
		      fdp(&b3, o->base, c->volume_scale), "counter", fx(&b4, o->counter),
		      "fee_base", fx(&b6, o->fee_base), "fee_counter", fx(&b5, o->fee_counter),
		      "creation_timestamp", (json_int_t)o->created_ms, "completed_timestamp",
		      (json_int_t)o->completed_ms, "expiration_timestamp", (json_int_t)0);
	if (j == NULL)
		return NULL;
	if (json_object_set_new(j, "time_in_force", json_string(o->market ? "IOC" : tif_name(o->tif))) != 0)
		goto fail;
	if (v3) {
		if (json_object_set_new(j, "side", json_string(buy ? "BUY" : "SELL")) != 0 ||
		    json_object_set_new(j, "type", json_string(o->market ? "MARKET" : "LIMIT")) != 0 ||
		    json_object_set_new(j, "status", json_string(o->complete ? "COMPLETE" : "PENDING")) != 0 ||
		    json_object_set_new(j, "base_account_id", json_integer(1000 + (json_int_t)m->book.base_asset)) != 0 ||
		    json_object_set_new(j, "counter_account_id", json_integer(1000 + (json_int_t)m->book.counter_asset)) != 0)
			goto fail;
	} else {
		const char *type = o->market ? (buy ? "BUY" : "SELL") : (buy ? "BID" : "ASK");
		if (json_object_set_new(j, "type", json_string(type)) != 0 ||
		    json_object_set_new(j, "state", json_string(o->complete ? "COMPLETE" : "PENDING")) != 0)
			goto fail;
	}
	return j;
fail:
	json_decref(j);
	return NULL;
}

/* Validates a client_order_id: Luno allows [0-9A-Za-z_;,.-], up to 255. */
static bool valid_client_id(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > IG__SIM_MAX_CLIENT_ID)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = v[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      ch == '_' || ch == ';' || ch == ',' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Parses a decimal amount. Returns 0, or the reject to send. */
static enum ig_book_reject parse_amount(const char *v, int64_t *out, enum ig_book_reject invalid,
					enum ig_book_reject denom, enum ig_book_reject high)
{
	int rc;

	if (v == NULL || v[0] == '\0')
		return invalid;
	rc = ig_fixed_parse_cstr(v, out);
	if (rc == IG_EPRECISION)
		return denom;
	if (rc == IG_ERANGE)
		return high;
	if (rc != 0)
		return invalid;
	return IG_BOOK_REJ_NONE;
}

/* Appends a tentative record for an order about to reach the book. */
static struct ig__sim_order *new_order(struct ig_sim_server *s)
{
	struct ig__sim_order *o;

	if (s->norders == s->orders_cap) {
		uint32_t cap = s->orders_cap ? s->orders_cap * 2 : 256;
		struct ig__sim_order *n = realloc(s->orders, (size_t)cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		s->orders = n;
		s->orders_cap = cap;
	}
	o = &s->orders[s->norders];
	memset(o, 0, sizeof(*o));
	o->id = s->next_order_id++;
	o->created_ms = ig__sim_now_ms();
	return o;
}

/* Sends the tentative last record to the book and keeps it or drops it. */
static int submit(struct ig__sim_market *m, struct ig__sim_order *o, const char *cid,
		  struct ig_book_req *req, struct ig__sim_reply *r)
{
	struct ig_sim_server *s = m->s;
	struct ig_book_result res;
	uint32_t idx = (uint32_t)(o - s->orders);
	char id[16];
	int rc;

	if (cid != NULL && (o->client_id = strdup(cid)) == NULL)
		return IG_ENOMEM;
	/* Index it first: the listener finds the order by id during matching. */
	if (index_put(&s->by_id, hash_id(o->id), idx) != 0 ||
	    (cid != NULL && index_put(&s->by_client_id, hash_str(cid), idx) != 0)) {
		/* Unreachable in practice; leave the (unindexed) slot unused. */
		free(o->client_id);
		o->client_id = NULL;
		return IG_ENOMEM;
	}
	s->norders++;
	o->mk = m->index;
	req->order_id = o->id;
	req->account = IG__SIM_ACCT_USER;
	req->ts_ms = o->created_ms;
	rc = ig__sim_book_place(m, req, &res);
	if (rc != 0 || res.reject != IG_BOOK_REJ_NONE) {
		/* Refused: no trace, so the client_order_id stays free. The
		 * index entries point past norders and are ignored... */
		s->norders--;
		free(o->client_id);
		o->client_id = NULL;
		/* ...and must not match a later order in this slot. */
		o->id = 0;
		ig__sim_stream_user_flush(s, NULL);
		if (rc != 0)
			return rc;
		return reject(r, res.reject);
	}
	s->stats.user_orders++;
	if (!res.rested) {
		o->complete = true;
		o->completed_ms = o->created_ms;
		if (req->kind == IG_BOOK_LIMIT || req->side == IG_BOOK_ASK)
			o->cancelled = o->base < o->limit_qty;
		else
			o->cancelled = o->base == 0;
	}
	ig__sim_stream_user_flush(s, o);
	ig__sim_format_id(o->id, id);
	return reply_json(r, json_pack("{s:s}", "order_id", id));
}

static int check_client_id(struct ig_sim_server *s, const char *cid, struct ig__sim_reply *r,
			   bool *ok)
{
	*ok = false;
	if (cid == NULL || cid[0] == '\0') {
		*ok = true;
		return 0;
	}
	if (!valid_client_id(cid))
		return bad(r, "ErrInvalidClientOrderId", "Invalid client order id");
	if (find_client_id(s, cid) != NULL) {
		s->stats.duplicates_refused++;
		ig__sim_error(r, 409, "ErrDuplicateClientOrderID", "Duplicate client order id");
		return r->body != NULL ? 0 : IG_ENOMEM;
	}
	*ok = true;
	return 0;
}

static int h_postorder(struct ig_sim_server *s, const struct ig__sim_params *p,
		       struct ig__sim_reply *r)
{
	const char *type = param(p, "type"), *tif = param(p, "time_in_force");
	const char *cid = param(p, "client_order_id");
	struct ig_book_req req;
	struct ig__sim_order *o;
	struct ig__sim_market *m;
	enum ig_book_reject rj;
	bool ok;
	int rc;

	if ((rc = check_pair(s, p, r, true, &ok, &m)) != 0 || !ok)
		return rc;
	memset(&req, 0, sizeof(req));
	req.kind = IG_BOOK_LIMIT;
	if (type != NULL && strcmp(type, "BID") == 0)
		req.side = IG_BOOK_BID;
	else if (type != NULL && strcmp(type, "ASK") == 0)
		req.side = IG_BOOK_ASK;
	else
		return bad(r, "ErrInvalidArguments", "type: expected BID or ASK");
	if (tif == NULL || tif[0] == '\0' || strcmp(tif, "GTC") == 0)
		req.tif = IG_BOOK_GTC;
	else if (strcmp(tif, "IOC") == 0)
		req.tif = IG_BOOK_IOC;
	else if (strcmp(tif, "FOK") == 0)
		req.tif = IG_BOOK_FOK;
	else
		return bad(r, "ErrInvalidArguments", "time_in_force: expected GTC, IOC or FOK");
	if (!param_bool(p, "post_only", &req.post_only))
		return bad(r, "ErrInvalidArguments", "post_only: expected true or false");
	if (param(p, "stop_price") != NULL || param(p, "stop_direction") != NULL)
		return bad(r, "ErrInvalidArguments", "stop orders are not supported by exchange-sim");
	rj = parse_amount(param(p, "price"), &req.px, IG_BOOK_REJ_INVALID_PRICE,
			  IG_BOOK_REJ_PRICE_DENOMINATION, IG_BOOK_REJ_PRICE_TOO_HIGH);
	if (rj != IG_BOOK_REJ_NONE)
		return reject(r, rj);
	rj = parse_amount(param(p, "volume"), &req.qty, IG_BOOK_REJ_INVALID_VOLUME,
			  IG_BOOK_REJ_VOLUME_DENOMINATION, IG_BOOK_REJ_VOLUME_TOO_HIGH);
	if (rj != IG_BOOK_REJ_NONE)
		return reject(r, rj);
	if ((rc = check_client_id(s, cid, r, &ok)) != 0 || !ok)
		return rc;
	if ((o = new_order(s)) == NULL)
		return IG_ENOMEM;
	o->side = req.side;
	o->tif = req.tif;
	o->post_only = req.post_only;
	o->limit_px = req.px;
	o->limit_qty = req.qty;
	return submit(m, o, cid != NULL && cid[0] != '\0' ? cid : NULL, &req, r);
}

static int h_marketorder(struct ig_sim_server *s, const struct ig__sim_params *p,
			 struct ig__sim_reply *r)
{
	const char *type = param(p, "type"), *cid = param(p, "client_order_id");
	struct ig_book_req req;
	struct ig__sim_order *o;
	struct ig__sim_market *m;
	enum ig_book_reject rj;
	bool ok;
	int rc;

	if ((rc = check_pair(s, p, r, true, &ok, &m)) != 0 || !ok)
		return rc;
	memset(&req, 0, sizeof(req));
	req.kind = IG_BOOK_MARKET;
	if (type != NULL && strcmp(type, "BUY") == 0) {
		req.side = IG_BOOK_BID;
		rj = parse_amount(param(p, "counter_volume"), &req.counter_qty,
				  IG_BOOK_REJ_INVALID_COUNTER_VOLUME,
				  IG_BOOK_REJ_INVALID_COUNTER_VOLUME, IG_BOOK_REJ_VALUE_TOO_HIGH);
	} else if (type != NULL && strcmp(type, "SELL") == 0) {
		req.side = IG_BOOK_ASK;
		rj = parse_amount(param(p, "base_volume"), &req.qty, IG_BOOK_REJ_INVALID_BASE_VOLUME,
				  IG_BOOK_REJ_VOLUME_DENOMINATION, IG_BOOK_REJ_VOLUME_TOO_HIGH);
	} else {
		return bad(r, "ErrInvalidArguments", "type: expected BUY or SELL");
	}
	if (rj != IG_BOOK_REJ_NONE)
		return reject(r, rj);
	if ((rc = check_client_id(s, cid, r, &ok)) != 0 || !ok)
		return rc;
	if ((o = new_order(s)) == NULL)
		return IG_ENOMEM;
	o->market = true;
	o->side = req.side;
	o->tif = IG_BOOK_IOC;
	o->limit_qty = req.qty;
	o->counter_qty = req.counter_qty;
	return submit(m, o, cid != NULL && cid[0] != '\0' ? cid : NULL, &req, r);
}

static int h_stoporder(struct ig_sim_server *s, const struct ig__sim_params *p,
		       struct ig__sim_reply *r)
{
	const char *v = param(p, "order_id");
	struct ig__sim_order *o;
	uint64_t id;

	if (v == NULL || v[0] == '\0')
		return bad(r, "ErrInvalidArguments", "order_id: required");
	if (!parse_id(v, &id) || (o = find_order(s, id)) == NULL)
		return not_found(r);
	if (o->complete)
		return bad(r, "ErrCannotStopUnknownOrNonPendingOrder",
			   "Cannot stop unknown or non-pending order");
	if (ig__sim_book_cancel(&s->mk[o->mk], id, NULL) != 0)
		return IG_ESTATE; /* an open record must be in the book */
	o->complete = true;
	o->cancelled = true;
	o->completed_ms = ig__sim_now_ms();
	ig__sim_stream_user_status(s, o);
	ig__sim_stream_user_flush(s, NULL);
	return reply_json(r, json_pack("{s:b}", "success", 1));
}

/* POST /sim/take?side=SELL|BUY&volume=DEC - not Luno's: a simulator
 * control. The synthetic taker trades that much now, against the top of
 * the book (the user's resting orders among it). */
static int h_sim_take(struct ig_sim_server *s, const struct ig__sim_params *p,
		      struct ig__sim_reply *r)
{
	const char *side = param(p, "side");
	struct ig__sim_market *m;
	int64_t qty = 0;
	bool ok;
	int rc;

	/* pair: optional, the first market by default. */
	if ((rc = check_pair(s, p, r, false, &ok, &m)) != 0 || !ok)
		return rc;
	if (m == NULL)
		m = &s->mk[0];
	if (side == NULL || (strcmp(side, "SELL") != 0 && strcmp(side, "BUY") != 0))
		return bad(r, "ErrInvalidArguments", "side: expected SELL or BUY");
	if (ig_fixed_parse_cstr(param(p, "volume") != NULL ? param(p, "volume") : "", &qty) != 0 ||
	    qty <= 0)
		return bad(r, "ErrInvalidArguments", "volume: a positive decimal");
	if (ig__sim_flow_take(m, strcmp(side, "SELL") == 0 ? IG_BOOK_ASK : IG_BOOK_BID, qty) != 0)
		return bad(r, "ErrInvalidArguments", "volume: out of range");
	return reply_json(r, json_pack("{s:b}", "success", 1));
}

static int h_listorders(struct ig_sim_server *s, const struct ig__sim_params *p,
			struct ig__sim_reply *r)
{
	const char *state = param(p, "state");
	int64_t before, limit;
	json_t *a;
	int want = -1; /* -1 any, 0 pending, 1 complete */
	struct ig__sim_market *m;
	bool ok;
	int rc;

	if ((rc = check_pair(s, p, r, false, &ok, &m)) != 0 || !ok)
		return rc;
	if (state != NULL && state[0] != '\0') {
		if (strcmp(state, "PENDING") == 0)
			want = 0;
		else if (strcmp(state, "COMPLETE") == 0)
			want = 1;
		else
			return bad(r, "ErrInvalidArguments", "state: expected PENDING or COMPLETE");
	}
	if (!param_int(p, "created_before", 0, INT64_MAX, INT64_MAX, &before))
		return bad(r, "ErrInvalidArguments", "created_before: not a timestamp");
	if (!param_int(p, "limit", 1, 1000, 100, &limit))
		return bad(r, "ErrLimitOutOfRange", "List limit is out of allowed range");
	a = json_array();
	/* Newest first. */
	for (uint32_t i = s->norders; a != NULL && i-- > 0 && limit > 0;) {
		const struct ig__sim_order *o = &s->orders[i];
		if ((want == 0 && o->complete) || (want == 1 && !o->complete) ||
		    o->created_ms >= before || (m != NULL && o->mk != m->index))
			continue;
		if (json_array_append_new(a, order_json(s, o, false)) != 0) {
			json_decref(a);
			a = NULL;
		}
		limit--;
	}
	return reply_json(r, a != NULL ? json_pack("{s:o}", "orders", a) : NULL);
}

static int h_order_by_path(struct ig_sim_server *s, const char *idstr, bool v3,
			   struct ig__sim_reply *r)
{
	struct ig__sim_order *o;
	uint64_t id;

	if (!parse_id(idstr, &id) || (o = find_order(s, id)) == NULL)
		return not_found(r);
	return reply_json(r, order_json(s, o, v3));
}

static int h_order_v3(struct ig_sim_server *s, const struct ig__sim_params *p,
		      struct ig__sim_reply *r)
{
	const char *id = param(p, "id"), *cid = param(p, "client_order_id");
	bool has_id = id != NULL && id[0] != '\0', has_cid = cid != NULL && cid[0] != '\0';
	struct ig__sim_order *o;

	if (has_id == has_cid)
		return bad(r, "ErrInvalidArguments",
			   "exactly one of id and client_order_id must be given");
	if (has_id)
		return h_order_by_path(s, id, true, r);
	if ((o = find_client_id(s, cid)) == NULL)
		return not_found(r);
	return reply_json(r, order_json(s, o, true));
}

json_t *ig__sim_trade_json(struct ig_sim_server *s, const struct ig__sim_trade *t)
{
	const struct ig__sim_order *o = &s->orders[t->order];
	const struct ig_book_cfg *c = &s->mk[o->mk].book.cfg;
	struct fbuf b1, b2, b3, b4, b5;
	char id[16];
	bool buy = o->side == IG_BOOK_BID;

	ig__sim_format_id(o->id, id);
	fdp(&b2, t->qty, c->volume_scale);
	return json_pack("{s:s, s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:b}",
			 "pair", s->mk[o->mk].pair, "sequence", (json_int_t)t->seq, "order_id", id,
			 "client_order_id", o->client_id != NULL ? o->client_id : "", "type",
			 buy ? "BID" : "ASK", "is_buy", (int)t->is_buy, "price",
			 fdp(&b1, t->px, c->price_scale), "volume", b2.s, "base", b2.s, "counter",
			 fx(&b3, t->counter), "fee_base", fx(&b5, t->fee_base), "fee_counter",
			 fx(&b4, t->fee_counter), "timestamp", (json_int_t)t->ts_ms, "maker",
			 (int)t->maker);
}

static int h_listtrades(struct ig_sim_server *s, const struct ig__sim_params *p,
			struct ig__sim_reply *r)
{
	int64_t since, before, after_seq, before_seq, limit;
	struct ig__sim_market *m;
	bool ok, desc;
	json_t *a;
	int rc;

	if ((rc = check_pair(s, p, r, true, &ok, &m)) != 0 || !ok)
		return rc;
	if (!param_int(p, "since", 0, INT64_MAX, 0, &since) ||
	    !param_int(p, "before", 0, INT64_MAX, INT64_MAX, &before) ||
	    !param_int(p, "after_seq", 0, INT64_MAX, 0, &after_seq) ||
	    !param_int(p, "before_seq", 0, INT64_MAX, INT64_MAX, &before_seq) ||
	    !param_bool(p, "sort_desc", &desc))
		return bad(r, "ErrInvalidArguments",
			   "since, before, after_seq, before_seq: non-negative integers; "
			   "sort_desc: true or false");
	if (!param_int(p, "limit", 1, 1000, 100, &limit))
		return bad(r, "ErrLimitOutOfRange", "List limit is out of allowed range");
	a = json_array();
	for (uint32_t k = 0; a != NULL && k < s->ntrades && limit > 0; k++) {
		const struct ig__sim_trade *t = &s->trades[desc ? s->ntrades - 1 - k : k];
		if (t->ts_ms < since || t->ts_ms >= before || (int64_t)t->seq < after_seq ||
		    (int64_t)t->seq >= before_seq || s->orders[t->order].mk != m->index)
			continue;
		if (json_array_append_new(a, ig__sim_trade_json(s, t)) != 0) {
			json_decref(a);
			a = NULL;
		}
		limit--;
	}
	return reply_json(r, a != NULL ? json_pack("{s:o}", "trades", a) : NULL);
}

static int h_balance(struct ig_sim_server *s, const struct ig__sim_params *p,
		     struct ig__sim_reply *r)
{
	json_t *a = json_array();
	bool filter = param(p, "assets") != NULL;

	for (uint32_t i = 0; a != NULL && i < s->ledger.nassets; i++) {
		const struct ig_ledger_entry *e = ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, i);
		struct fbuf b1, b2;
		char acct[24], name[40];
		bool want = !filter;

		for (uint32_t k = 0; filter && k < p->n; k++)
			if (strcmp(p->kv[k].k, "assets") == 0 && strcmp(p->kv[k].v, s->ledger.assets[i]) == 0)
				want = true;
		if (!want)
			continue;
		snprintf(acct, sizeof(acct), "%u", 1000 + i);
		snprintf(name, sizeof(name), "%s account", s->ledger.assets[i]);
		if (json_array_append_new(
			    a, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "account_id", acct, "asset",
					 s->ledger.assets[i], "balance", fx(&b1, e->balance),
					 "reserved", fx(&b2, e->reserved), "unconfirmed", "0", "name",
					 name)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return reply_json(r, a != NULL ? json_pack("{s:o}", "balance", a) : NULL);
}

static int h_fee_info(struct ig_sim_server *s, const struct ig__sim_params *p,
		      struct ig__sim_reply *r)
{
	struct fbuf b1, b2, b3;
	struct ig__sim_market *m;
	int64_t vol = 0;
	bool ok;
	int rc;

	if ((rc = check_pair(s, p, r, true, &ok, &m)) != 0 || !ok)
		return rc;
	for (uint32_t i = 0; i < s->ntrades; i++)
		if (s->orders[s->trades[i].order].mk == m->index)
			vol += s->trades[i].qty;
	/* A fee rate of bps is bps * 10^-4: in 1e-8 units, bps * 10^4. */
	fx(&b1, m->book.cfg.maker_fee_bps * 10000);
	fx(&b2, m->book.cfg.taker_fee_bps * 10000);
	return reply_json(r, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "maker_fee", b1.s,
				       "taker_fee", b2.s, "maker_fee_buy", b1.s, "maker_fee_sell",
				       b1.s, "taker_fee_buy", b2.s, "taker_fee_sell", b2.s,
				       "thirty_day_volume", fdp(&b3, vol, m->book.cfg.volume_scale)));
}

/* ---- routing ---- */

int ig__sim_handle(struct ig_sim_server *s, const char *method, const char *path,
		   const struct ig__sim_params *p, enum ig__sim_auth auth, struct ig__sim_reply *r,
		   bool *order_entry)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	bool priv;
	int rc;

	*order_entry = false;
	memset(r, 0, sizeof(*r));
	priv = !(get && (strcmp(path, "/api/1/ticker") == 0 || strcmp(path, "/api/1/tickers") == 0 ||
			 strcmp(path, "/api/1/orderbook_top") == 0 ||
			 strcmp(path, "/api/1/orderbook") == 0 || strcmp(path, "/api/1/trades") == 0 ||
			 strcmp(path, "/api/exchange/1/markets") == 0));
	if (priv && auth != IG__SIM_AUTH_OK) {
		pthread_mutex_lock(&s->mu);
		s->stats.unauthorised++;
		pthread_mutex_unlock(&s->mu);
		ig__sim_error(r, 401, "ErrUnauthorised", "You are not authorised to access this route");
		return r->body != NULL ? 0 : IG_ENOMEM;
	}

	pthread_mutex_lock(&s->mu);
	if (get && strcmp(path, "/api/1/ticker") == 0)
		rc = h_ticker(s, p, r);
	else if (get && strcmp(path, "/api/1/tickers") == 0)
		rc = h_tickers(s, p, r);
	else if (get && strcmp(path, "/api/1/orderbook_top") == 0)
		rc = h_orderbook(s, p, r, true);
	else if (get && strcmp(path, "/api/1/orderbook") == 0)
		rc = h_orderbook(s, p, r, false);
	else if (get && strcmp(path, "/api/1/trades") == 0)
		rc = h_trades(s, p, r);
	else if (get && strcmp(path, "/api/exchange/1/markets") == 0)
		rc = h_markets(s, p, r);
	else if (post && strcmp(path, "/api/1/postorder") == 0) {
		*order_entry = true;
		rc = h_postorder(s, p, r);
	} else if (post && strcmp(path, "/api/1/marketorder") == 0) {
		*order_entry = true;
		rc = h_marketorder(s, p, r);
	} else if (post && strcmp(path, "/api/1/stoporder") == 0)
		rc = h_stoporder(s, p, r);
	else if (get && strcmp(path, "/api/1/listorders") == 0)
		rc = h_listorders(s, p, r);
	else if (get && strncmp(path, "/api/1/orders/", 14) == 0)
		rc = h_order_by_path(s, path + 14, false, r);
	else if (get && strncmp(path, "/api/exchange/2/orders/", 23) == 0)
		rc = h_order_by_path(s, path + 23, true, r);
	else if (get && strcmp(path, "/api/exchange/3/order") == 0)
		rc = h_order_v3(s, p, r);
	else if (get && strcmp(path, "/api/1/listtrades") == 0)
		rc = h_listtrades(s, p, r);
	else if (get && strcmp(path, "/api/1/balance") == 0)
		rc = h_balance(s, p, r);
	else if (get && strcmp(path, "/api/1/fee_info") == 0)
		rc = h_fee_info(s, p, r);
	else if (post && strcmp(path, "/sim/take") == 0)
		rc = h_sim_take(s, p, r);
	else {
		ig__sim_error(r, 404, "ErrNotFound", "No result found");
		rc = r->body != NULL ? 0 : IG_ENOMEM;
	}
	pthread_mutex_unlock(&s->mu);
	if (rc != 0) {
		free(r->body);
		ig__sim_error(r, 500, "ErrInternal", "Something went wrong. We're looking into it.");
	}
	return rc;
}

/* ---- sanity ---- */

bool ig__sim_sanity_locked(struct ig_sim_server *s)
{
	int64_t want[IG_LEDGER_MAX_ASSETS];

	if (s->oom || !ig_ledger_sanity(&s->ledger))
		return false;
	for (uint32_t k = 0; k < s->nmk; k++)
		if (!ig_book_sanity(&s->mk[k].book))
			return false;
	for (uint32_t acct = 0; acct < IG__SIM_NACCOUNTS; acct++)
		for (uint32_t a = 0; a < s->ledger.nassets; a++) {
			int64_t in_books = 0;
			for (uint32_t k = 0; k < s->nmk; k++)
				in_books += ig_book_reserved(&s->mk[k].book, acct, a);
			if (ig_ledger_get(&s->ledger, acct, a)->reserved != in_books)
				return false;
		}
	/* Each record agrees with its market's book and with its fills. */
	for (uint32_t i = 0; i < s->norders; i++) {
		const struct ig__sim_order *o = &s->orders[i];
		const struct ig_book_order *bo = o->mk < s->nmk ? ig_book_find(&s->mk[o->mk].book, o->id) : NULL;
		if (o->mk >= s->nmk || o->complete != (bo == NULL) || (o->complete && o->completed_ms == 0))
			return false;
		if (bo != NULL && (bo->leaves != o->limit_qty - o->base || bo->account != IG__SIM_ACCT_USER))
			return false;
	}
	memcpy(want, s->initial, sizeof(want));
	{
		int64_t *sum = calloc((size_t)s->norders * 4 + 1, sizeof(*sum));
		uint64_t last_seq[IG_SIM_MAX_PAIRS] = { 0 };
		bool ok = sum != NULL;
		for (uint32_t k = 0; ok && k < s->ntrades; k++) {
			const struct ig__sim_trade *t = &s->trades[k];
			const struct ig__sim_order *o = &s->orders[t->order];
			const struct ig_book *b = &s->mk[o->mk].book;
			bool buy = o->side == IG_BOOK_BID;
			sum[t->order * 4] += t->qty;
			sum[t->order * 4 + 1] += t->counter;
			sum[t->order * 4 + 2] += t->fee_counter;
			sum[t->order * 4 + 3] += t->fee_base;
			want[b->base_asset] += buy ? t->qty - t->fee_base : -t->qty;
			want[b->counter_asset] += buy ? -(t->counter + t->fee_counter) : t->counter - t->fee_counter;
			/* Each book's sequence only grows. (A match of two user
			 * orders is one sequence, twice.) */
			if (t->seq < last_seq[o->mk])
				ok = false;
			last_seq[o->mk] = t->seq;
		}
		for (uint32_t i = 0; ok && i < s->norders; i++)
			if (sum[i * 4] != s->orders[i].base || sum[i * 4 + 1] != s->orders[i].counter ||
			    sum[i * 4 + 2] != s->orders[i].fee_counter ||
			    sum[i * 4 + 3] != s->orders[i].fee_base)
				ok = false;
		free(sum);
		if (!ok)
			return false;
	}
	/* The user's balances are the initial ones plus the fills, exactly. */
	for (uint32_t a = 0; a < s->ledger.nassets; a++)
		if (ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, a)->balance != want[a])
			return false;
	return true;
}
