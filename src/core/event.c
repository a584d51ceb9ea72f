/* event.c - names of event kinds, order states and reject reasons. */
#include "ingenium/event.h"

const char *ig_event_type_name(enum ig_event_type t)
{
	static const char *const names[IG_EV__COUNT] = {
		"none", "quote", "trade", "bar", "timer", "order", "cancel",
		"order_update", "fill", "reject", "position", "control", "reconcile",
	};
	if ((unsigned)t >= IG_EV__COUNT)
		return "unknown";
	return names[t];
}

const char *ig_ord_state_name(enum ig_ord_state s)
{
	static const char *const names[IG_OS__COUNT] = {
#define IG__ST_STR(name, str) str,
		IG_ORD_STATE_MAP(IG__ST_STR)
#undef IG__ST_STR
	};
	if ((unsigned)s >= IG_OS__COUNT)
		return "unknown";
	return names[s];
}

const char *ig_reject_reason_name(enum ig_reject_reason r)
{
	static const char *const names[IG_RJ__COUNT] = {
#define IG__RJ_STR(name, str) str,
		IG_REJECT_MAP(IG__RJ_STR)
#undef IG__RJ_STR
	};
	if ((unsigned)r >= IG_RJ__COUNT)
		return "unknown";
	return names[r];
}

const char *ig_side_name(enum ig_side s)
{
	switch (s) {
	case IG_SIDE_BUY:
		return "buy";
	case IG_SIDE_SELL:
		return "sell";
	default:
		return "none";
	}
}

const char *ig_ord_type_name(enum ig_ord_type t)
{
	static const char *const n[IG_ORD__COUNT] = { "market",     "limit",       "stop_market",
						      "stop_limit", "take_profit", "trailing_stop" };
	return (unsigned)t < IG_ORD__COUNT ? n[t] : "unknown";
}

const char *ig_tif_name(enum ig_tif t)
{
	static const char *const n[] = { "gtc", "ioc", "fok", "day" };
	return (unsigned)t < sizeof(n) / sizeof(n[0]) ? n[t] : "unknown";
}

const char *ig_liquidity_name(enum ig_liquidity l)
{
	static const char *const n[] = { "none", "maker", "taker" };
	return (unsigned)l < sizeof(n) / sizeof(n[0]) ? n[l] : "unknown";
}

const char *ig_recon_error_name(enum ig_recon_error e)
{
	static const char *const names[IG_RECON__COUNT] = {
#define IG__RE_STR(name, str) str,
		IG_RECON_ERROR_MAP(IG__RE_STR)
#undef IG__RE_STR
	};
	if ((unsigned)e >= IG_RECON__COUNT)
		return "unknown";
	return names[e];
}
