/*
 * ledger.c - per-account, per-asset balances and reservations of the
 * exchange simulator. See ledger.h for the invariants.
 */
#include "sim/ledger.h"

#include "ingenium/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int ig_ledger_init(struct ig_ledger *l, uint32_t naccounts)
{
	memset(l, 0, sizeof(*l));
	if (naccounts == 0)
		return IG_EINVAL;
	l->e = calloc((size_t)naccounts * IG_LEDGER_MAX_ASSETS, sizeof(*l->e));
	if (l->e == NULL)
		return IG_ENOMEM;
	l->naccounts = naccounts;
	return 0;
}

void ig_ledger_destroy(struct ig_ledger *l)
{
	free(l->e);
	memset(l, 0, sizeof(*l));
}

int ig_ledger_find(const struct ig_ledger *l, const char *name)
{
	for (uint32_t i = 0; i < l->nassets; i++)
		if (strcmp(l->assets[i], name) == 0)
			return (int)i;
	return IG_ENOTFOUND;
}

int ig_ledger_asset(struct ig_ledger *l, const char *name)
{
	size_t n = strlen(name);
	int i;

	if (n == 0 || n >= IG_LEDGER_ASSET_LEN)
		return IG_EINVAL;
	if ((i = ig_ledger_find(l, name)) >= 0)
		return i;
	if (l->nassets == IG_LEDGER_MAX_ASSETS)
		return IG_ELIMIT;
	memcpy(l->assets[l->nassets], name, n + 1);
	return (int)l->nassets++;
}

struct ig_ledger_entry *ig_ledger_at(struct ig_ledger *l, uint32_t account, uint32_t asset)
{
	assert(account < l->naccounts && asset < IG_LEDGER_MAX_ASSETS);
	return &l->e[(size_t)account * IG_LEDGER_MAX_ASSETS + asset];
}

const struct ig_ledger_entry *ig_ledger_get(const struct ig_ledger *l, uint32_t account,
					    uint32_t asset)
{
	assert(account < l->naccounts && asset < IG_LEDGER_MAX_ASSETS);
	return &l->e[(size_t)account * IG_LEDGER_MAX_ASSETS + asset];
}

int64_t ig_ledger_available(const struct ig_ledger *l, uint32_t account, uint32_t asset)
{
	const struct ig_ledger_entry *e = ig_ledger_get(l, account, asset);
	return e->balance - e->reserved;
}

int ig_ledger_deposit(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount)
{
	int64_t total;

	if (amount < 0 || account >= l->naccounts || asset >= l->nassets)
		return IG_EINVAL;
	if (__builtin_add_overflow(l->total[asset], amount, &total))
		return IG_EOVERFLOW;
	l->total[asset] = total;
	/* Cannot overflow: balance <= old total < new total. */
	ig_ledger_at(l, account, asset)->balance += amount;
	return 0;
}

int ig_ledger_reserve(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount)
{
	struct ig_ledger_entry *e = ig_ledger_at(l, account, asset);

	assert(amount >= 0);
	if (amount > e->balance - e->reserved)
		return IG_ELIMIT;
	e->reserved += amount;
	return 0;
}

void ig_ledger_release(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount)
{
	struct ig_ledger_entry *e = ig_ledger_at(l, account, asset);

	assert(amount >= 0 && amount <= e->reserved);
	e->reserved -= amount;
}

void ig_ledger_move(struct ig_ledger *l, uint32_t from, uint32_t to, uint32_t asset,
		    int64_t amount, int64_t from_reserved)
{
	struct ig_ledger_entry *src = ig_ledger_at(l, from, asset);
	struct ig_ledger_entry *dst = ig_ledger_at(l, to, asset);
	int64_t r = amount < from_reserved ? amount : from_reserved;

	assert(amount >= 0 && r >= 0 && r <= src->reserved);
	assert(amount - r <= src->balance - src->reserved);
	src->reserved -= r;
	src->balance -= amount;
	/* Cannot overflow: every balance is <= the asset's total. */
	dst->balance += amount;
}

bool ig_ledger_sanity(const struct ig_ledger *l)
{
	for (uint32_t a = 0; a < l->nassets; a++) {
		int64_t sum = 0;
		for (uint32_t acct = 0; acct < l->naccounts; acct++) {
			const struct ig_ledger_entry *e = ig_ledger_get(l, acct, a);
			if (e->reserved < 0 || e->reserved > e->balance)
				return false;
			sum += e->balance;
		}
		if (sum != l->total[a])
			return false;
	}
	return true;
}
