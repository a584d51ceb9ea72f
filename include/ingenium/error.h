/*
 * error.h - Ingenium error codes.
 *
 * A function named for an action returns int: 0 on success or a negative
 * IG_E* code. A predicate returns bool. Expected conditions are not errors:
 * a full ring is back-pressure (the push returns false), and a risk denial or
 * an exchange rejection is an event that reaches the strategy.
 *
 * The enum and ig_strerror() are generated from the one table below, as
 * libuv does with UV_ERRNO_MAP.
 */
#ifndef INGENIUM_ERROR_H
#define INGENIUM_ERROR_H

#define IG_ERRNO_MAP(XX)                                           \
	XX(EINVAL, -1, "invalid argument")                         \
	XX(ERANGE, -2, "value out of range")                       \
	XX(ESYNTAX, -3, "not a number")                            \
	XX(EPRECISION, -4, "too many decimals")                    \
	XX(ENOMEM, -5, "out of memory")                            \
	XX(EIO, -6, "input/output error")                          \
	XX(ENOENT, -7, "no such file or directory")                \
	XX(ECONFIG, -8, "invalid configuration")                   \
	XX(EPARSE, -9, "malformed input")                          \
	XX(ENOTFOUND, -10, "not found")                            \
	XX(EEXIST, -11, "already exists")                          \
	XX(ESTATE, -12, "illegal state transition")                \
	XX(ELIMIT, -13, "capacity exceeded")                       \
	XX(EOVERFLOW, -14, "arithmetic overflow")                  \
	XX(ETHREAD, -15, "thread error")                           \
	XX(EEOF, -16, "end of input")                              \
	XX(EAGAIN, -17, "try again")                               \
	XX(EINTR, -18, "interrupted")

enum ig_errno {
#define IG__ERR_ENUM(name, code, msg) IG_##name = (code),
	IG_ERRNO_MAP(IG__ERR_ENUM)
#undef IG__ERR_ENUM
};

/* Returns a static string describing err (a negative IG_E* code, or 0).
 * Unknown codes give "unknown error". Any thread may call it. */
const char *ig_strerror(int err);

/* Returns the code's symbolic name, e.g. "IG_ERANGE". */
const char *ig_err_name(int err);

#endif
