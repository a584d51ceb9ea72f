/*
 * store_sqlite.h - what the SQLite backend offers beyond store.h.
 *
 * Owner: whoever owns the handle.
 */
#ifndef IG_STORE_STORE_SQLITE_H
#define IG_STORE_STORE_SQLITE_H

#include <stdbool.h>

#include "store/store.h"

/* Returns the message of the handle's last failed call (a put's too:
 * store.h's puts have no err argument), "" if none. h from
 * ig_store_sqlite_ops.open, or NULL (""). */
const char *ig_store_sqlite_error(const void *h);

#endif
