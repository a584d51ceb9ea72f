/*
 * store_sqlite.h - what the SQLite backend offers beyond store.h.
 *
 * Owner: whoever owns the handle.
 */
#ifndef IG_STORE_STORE_SQLITE_H
#define IG_STORE_STORE_SQLITE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Returns the message of the handle's last failed call (a put's too:
 * store.h's puts have no err argument), "" if none. h from
 * ig_store_sqlite_ops.open, or NULL (""). */
const char *ig_store_sqlite_error(const void *h);

/* The highest run_epoch of daemon_id's sessions in the SQLite store at
 * path (read only; the store is not created). Returns 0 with *epoch set,
 * or IG_ENOENT (no store, no table or no session of that daemon). */
int ig_store_sqlite_last_epoch(const char *path, const char *daemon_id, uint32_t *epoch);

#endif
