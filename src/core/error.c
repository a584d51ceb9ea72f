/* error.c - ig_strerror() and ig_err_name(), generated from IG_ERRNO_MAP. */
#include "ingenium/error.h"

const char *ig_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define IG__ERR_STR(name, code, msg) \
	case IG_##name:               \
		return msg;
		IG_ERRNO_MAP(IG__ERR_STR)
#undef IG__ERR_STR
	default:
		return "unknown error";
	}
}

const char *ig_err_name(int err)
{
	switch (err) {
	case 0:
		return "IG_OK";
#define IG__ERR_NAME(name, code, msg) \
	case IG_##name:                \
		return "IG_" #name;
		IG_ERRNO_MAP(IG__ERR_NAME)
#undef IG__ERR_NAME
	default:
		return "IG_UNKNOWN";
	}
}
