/*
 * ledger.h - balances of the exchange simulator: per account, per asset, a
 * balance and the part of it reserved for open orders.
 *
 * Design
 * ------
 * A dense table: naccounts rows of IG_LEDGER_MAX_ASSETS entries. Accounts
 * are small integers chosen by the caller (the simulator uses 0 for the
 * exchange's fee account, 1 for the user, 2 and up for its synthetic
 * traders). Assets are registered by name ("XBT", "ZAR") and addressed by
 * their index.
 *
 * Invariants (checked by ig_ledger_sanity):
 *   - 0 <= reserved <= balance for every entry;
 *   - total[asset] == sum over accounts of balance: money only enters by
 *     ig_ledger_deposit() (which keeps the total within int64, so no single
 *     balance can overflow later) and otherwise only moves between accounts.
 *
 * All amounts are int64 fixed-point, 1e-8 (include/ingenium/fixed.h).
 *
 * Owner: whoever owns the books that use it; it has no lock of its own (the
 * simulator calls it under its state mutex).
 */
#ifndef IG_SIM_LEDGER_H
#define IG_SIM_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#define IG_LEDGER_MAX_ASSETS 16
#define IG_LEDGER_ASSET_LEN 8 /* name plus NUL: "USDC" fits */

struct ig_ledger_entry {
	int64_t balance;  /* owned, 1e-8; >= reserved */
	int64_t reserved; /* held for open orders, 1e-8 */
};

struct ig_ledger {
	uint32_t naccounts;
	uint32_t nassets;
	char assets[IG_LEDGER_MAX_ASSETS][IG_LEDGER_ASSET_LEN];
	int64_t total[IG_LEDGER_MAX_ASSETS]; /* sum of balances, 1e-8 */
	struct ig_ledger_entry *e;           /* naccounts * IG_LEDGER_MAX_ASSETS */
};

/* Allocates a ledger for accounts 0..naccounts-1, all zero. Returns 0,
 * IG_EINVAL (naccounts == 0) or IG_ENOMEM; on failure nothing to undo. */
int ig_ledger_init(struct ig_ledger *l, uint32_t naccounts);
void ig_ledger_destroy(struct ig_ledger *l);

/* Finds or registers the asset name (1..7 characters). Returns its index
 * (>= 0), IG_EINVAL for a bad name or IG_ELIMIT when the table is full. */
int ig_ledger_asset(struct ig_ledger *l, const char *name);

/* Returns the index of a registered asset or IG_ENOTFOUND. */
int ig_ledger_find(const struct ig_ledger *l, const char *name);

/* The entry of (account, asset). Both must be in range. */
struct ig_ledger_entry *ig_ledger_at(struct ig_ledger *l, uint32_t account, uint32_t asset);
const struct ig_ledger_entry *ig_ledger_get(const struct ig_ledger *l, uint32_t account,
					    uint32_t asset);

/* balance - reserved of (account, asset). */
int64_t ig_ledger_available(const struct ig_ledger *l, uint32_t account, uint32_t asset);

/* Credits amount (>= 0) to (account, asset): money entering the exchange.
 * Returns 0, IG_EINVAL (negative amount, bad index) or IG_EOVERFLOW when
 * the asset's total would no longer fit in int64 (nothing changed). */
int ig_ledger_deposit(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount);

/* Moves amount (>= 0) from available to reserved. Returns 0 or IG_ELIMIT
 * when the available balance is short (nothing changed). */
int ig_ledger_reserve(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount);

/* Returns amount (0 <= amount <= reserved) from reserved to available. */
void ig_ledger_release(struct ig_ledger *l, uint32_t account, uint32_t asset, int64_t amount);

/* Moves amount (>= 0) of asset between two accounts' balances, taking it
 * from the source's reservation first (up to from_reserved), then from its
 * available balance. The caller has checked that the source holds it. */
void ig_ledger_move(struct ig_ledger *l, uint32_t from, uint32_t to, uint32_t asset,
		    int64_t amount, int64_t from_reserved);

/* Checks the invariants above. For assert() and tests. */
bool ig_ledger_sanity(const struct ig_ledger *l);

#endif
