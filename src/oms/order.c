/* order.c - order records, hash lookup and the one transition table. */
#include "oms/order.h"

#include "ingenium/error.h"

#include <stdlib.h>
#include <string.h>

#define TOMB UINT32_MAX

/*
 * The legal order-state transitions: legal[from][to]. Every state change in
 * the engine goes through this table. Notes:
 *  - the venue's word wins: a fill after a cancel request is legal
 *    (PENDING_CANCEL -> PARTIALLY_FILLED / FILLED);
 *  - IN_DOUBT resolves only to what the venue says when asked;
 *  - ACCEPTED -> DENIED: an order the OMS holds (an armed conditional
 *    order, a held replacement) that fails the risk check when it is
 *    released; only the OMS denies, a venue report never moves an order
 *    to DENIED;
 *  - terminal states have no way out.
 */
#define S(x) IG_OS_##x
static const bool legal[IG_OS__COUNT][IG_OS__COUNT] = {
	[S(INITIALIZED)] = { [S(DENIED)] = true, [S(SUBMITTED)] = true },
	[S(SUBMITTED)] = { [S(ACCEPTED)] = true, [S(REJECTED)] = true, [S(PARTIALLY_FILLED)] = true,
			   [S(FILLED)] = true, [S(PENDING_CANCEL)] = true, [S(CANCELED)] = true,
			   [S(EXPIRED)] = true, [S(IN_DOUBT)] = true },
	[S(ACCEPTED)] = { [S(PARTIALLY_FILLED)] = true, [S(FILLED)] = true,
			  [S(PENDING_CANCEL)] = true, [S(CANCELED)] = true, [S(EXPIRED)] = true,
			  [S(DENIED)] = true },
	[S(PARTIALLY_FILLED)] = { [S(PARTIALLY_FILLED)] = true, [S(FILLED)] = true,
				  [S(PENDING_CANCEL)] = true, [S(CANCELED)] = true,
				  [S(EXPIRED)] = true },
	[S(PENDING_CANCEL)] = { [S(CANCELED)] = true, [S(PARTIALLY_FILLED)] = true,
				[S(FILLED)] = true, [S(EXPIRED)] = true, [S(ACCEPTED)] = true,
				[S(REJECTED)] = true },
	[S(IN_DOUBT)] = { [S(ACCEPTED)] = true, [S(PARTIALLY_FILLED)] = true, [S(FILLED)] = true,
			  [S(CANCELED)] = true, [S(REJECTED)] = true, [S(EXPIRED)] = true },
};
#undef S

bool ig_order_legal(enum ig_ord_state from, enum ig_ord_state to)
{
	if ((unsigned)from >= IG_OS__COUNT || (unsigned)to >= IG_OS__COUNT)
		return false;
	return legal[from][to];
}

bool ig_order_terminal(enum ig_ord_state s)
{
	return s == IG_OS_FILLED || s == IG_OS_CANCELED || s == IG_OS_REJECTED ||
	       s == IG_OS_EXPIRED || s == IG_OS_DENIED;
}

int ig_order_mgr_init(struct ig_order_mgr *m)
{
	memset(m, 0, sizeof(*m));
	m->pool = calloc(IG_OM_CAPACITY, sizeof(*m->pool));
	m->by_client = calloc(IG_OM_HASH, sizeof(uint32_t));
	m->by_venue = calloc(IG_OM_HASH, sizeof(uint32_t));
	m->history = calloc(IG_OM_HISTORY, sizeof(*m->history));
	if (m->pool == NULL || m->by_client == NULL || m->by_venue == NULL || m->history == NULL) {
		ig_order_mgr_destroy(m);
		return IG_ENOMEM;
	}
	for (uint32_t i = 0; i < IG_OM_CAPACITY; i++)
		m->pool[i].next_free = i + 1 < IG_OM_CAPACITY ? i + 2 : 0;
	m->free_head = 1;
	return 0;
}

void ig_order_mgr_destroy(struct ig_order_mgr *m)
{
	free(m->pool);
	free(m->by_client);
	free(m->by_venue);
	free(m->history);
	m->history = NULL;
	m->pool = NULL;
	m->by_client = m->by_venue = NULL;
}

static uint32_t hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= UINT64_C(0xff51afd7ed558ccd);
	k ^= k >> 33;
	return (uint32_t)k & (IG_OM_HASH - 1u);
}

static uint64_t key_of(const struct ig_order_rec *r, bool venue)
{
	return venue ? r->venue_order_id : r->client_id;
}

static uint32_t *lookup_slot(struct ig_order_mgr *m, uint32_t *tab, uint64_t key, bool venue)
{
	uint32_t h = hash64(key);
	for (uint32_t n = 0; n < IG_OM_HASH; n++, h = (h + 1) & (IG_OM_HASH - 1u)) {
		uint32_t v = tab[h];
		if (v == 0)
			return NULL;
		if (v != TOMB && key_of(&m->pool[v - 1], venue) == key)
			return &tab[h];
	}
	return NULL;
}

static void insert(uint32_t *tab, uint64_t key, uint32_t idx1)
{
	uint32_t h = hash64(key);
	while (tab[h] != 0 && tab[h] != TOMB)
		h = (h + 1) & (IG_OM_HASH - 1u);
	tab[h] = idx1;
}

/* Rebuilds both tables from the live records, dropping tombstones. */
static void rehash(struct ig_order_mgr *m)
{
	memset(m->by_client, 0, IG_OM_HASH * sizeof(uint32_t));
	memset(m->by_venue, 0, IG_OM_HASH * sizeof(uint32_t));
	for (uint32_t i = 0; i < IG_OM_CAPACITY; i++) {
		const struct ig_order_rec *r = &m->pool[i];
		if (r->client_id == 0)
			continue;
		insert(m->by_client, r->client_id, i + 1);
		if (r->venue_order_id != 0)
			insert(m->by_venue, r->venue_order_id, i + 1);
	}
	m->tombs = 0;
}

struct ig_order_rec *ig_order_find(struct ig_order_mgr *m, uint64_t client_id)
{
	uint32_t *s = lookup_slot(m, m->by_client, client_id, false);
	return s != NULL ? &m->pool[*s - 1] : NULL;
}

struct ig_order_rec *ig_order_find_venue(struct ig_order_mgr *m, uint64_t venue_order_id)
{
	uint32_t *s;
	if (venue_order_id == 0)
		return NULL;
	s = lookup_slot(m, m->by_venue, venue_order_id, true);
	return s != NULL ? &m->pool[*s - 1] : NULL;
}

struct ig_order_rec *ig_order_new(struct ig_order_mgr *m, const struct ig_order *o,
				  uint16_t instrument_id)
{
	struct ig_order_rec *r;
	uint32_t idx1 = m->free_head;

	if (idx1 == 0 || o->client_id == 0 || ig_order_find(m, o->client_id) != NULL)
		return NULL;
	r = &m->pool[idx1 - 1];
	m->free_head = r->next_free;
	memset(r, 0, sizeof(*r));
	r->client_id = o->client_id;
	r->px = o->px;
	r->qty = o->qty;
	r->side = o->side;
	r->type = o->type;
	r->tif = o->tif;
	r->flags = o->flags;
	r->instrument_id = instrument_id;
	r->state = IG_OS_INITIALIZED;
	insert(m->by_client, r->client_id, idx1);
	m->live++;
	m->open++;
	return r;
}

void ig_order_set_venue_id(struct ig_order_mgr *m, struct ig_order_rec *r, uint64_t venue_order_id)
{
	if (r->venue_order_id != 0 || venue_order_id == 0)
		return;
	r->venue_order_id = venue_order_id;
	insert(m->by_venue, venue_order_id, (uint32_t)(r - m->pool) + 1);
}

int ig_order_transition(struct ig_order_mgr *m, struct ig_order_rec *r, enum ig_ord_state to)
{
	if (!ig_order_legal((enum ig_ord_state)r->state, to)) {
		m->illegal++;
		return IG_ESTATE;
	}
	if (!ig_order_terminal((enum ig_ord_state)r->state) && ig_order_terminal(to))
		m->open--;
	r->state = (uint8_t)to;
	return 0;
}

void ig_order_retire(struct ig_order_mgr *m, struct ig_order_rec *r)
{
	uint32_t idx1 = (uint32_t)(r - m->pool) + 1;
	uint32_t *s = lookup_slot(m, m->by_client, r->client_id, false);

	if (s != NULL) {
		*s = TOMB;
		m->tombs++;
	}
	if (r->venue_order_id != 0 && (s = lookup_slot(m, m->by_venue, r->venue_order_id, true)) != NULL) {
		*s = TOMB;
		m->tombs++;
	}
	if (!ig_order_terminal((enum ig_ord_state)r->state))
		m->open--;
	m->history[m->history_n++ % IG_OM_HISTORY] = *r;
	memset(r, 0, sizeof(*r));
	r->next_free = m->free_head;
	m->free_head = idx1;
	m->live--;
	m->retired++;
	/* Tombstones lengthen probes: when they pile up, rebuild the tables
	 * (amortised O(1) per retire). */
	if (m->tombs > IG_OM_HASH / 4)
		rehash(m);
}

bool ig_order_mgr_sanity(const struct ig_order_mgr *m)
{
	uint32_t free_n = 0, open_n = 0, live_n = 0;
	for (uint32_t f = m->free_head; f != 0; f = m->pool[f - 1].next_free)
		if (++free_n > IG_OM_CAPACITY)
			return false;
	for (uint32_t i = 0; i < IG_OM_HASH; i++) {
		uint32_t v = m->by_client[i];
		if (v == 0 || v == TOMB)
			continue;
		live_n++;
		if (!ig_order_terminal((enum ig_ord_state)m->pool[v - 1].state))
			open_n++;
	}
	return free_n + m->live == IG_OM_CAPACITY && live_n == m->live && open_n == m->open;
}
