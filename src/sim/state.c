/*
 * state.c - exchange-sim's final state as JSON, the user's account only:
 *
 *   {"pair": "XBTZAR" (several: "XBTZAR,ETHZAR"; each order and trade names its own),
 *    "initial_balances": {ASSET: "dec"}, "balances": {ASSET: "dec"},
 *    "reserved": {ASSET: "dec"},
 *    "fees": {"maker_fee_bps": n, "taker_fee_bps": n, "fee_in_counter": bool},
 *    "orders": [{"order_id", "client_order_id", "pair", "type": LIMIT|MARKET,
 *                "side": BUY|SELL, "state": PENDING|COMPLETE, "time_in_force",
 *                "post_only", "limit_price", "limit_volume", "counter_volume",
 *                "base", "counter", "fee_base", "fee_counter", "cancelled",
 *                "creation_timestamp", "completed_timestamp"}],
 *    "trades": [listtrades' items, oldest first],
 *    "stats": {"requests", "faults_injected", "faults_after", "rate_limited",
 *              "duplicates_refused", "held_replies", "unauthorised",
 *              "user_orders", "user_trades", "trades"}}
 *
 * Decimals are exact strings (ig_fixed_format). Built with jansson; the
 * caller holds the state mutex.
 */
#include "sim/sim_internal.h"

#include "ingenium/fixed.h"

#include <jansson.h>

static json_t *fx(int64_t v)
{
	char b[IG_FIXED_STRLEN];
	if (ig_fixed_format(v, b, sizeof(b)) < 0)
		return NULL;
	return json_string(b);
}

static json_t *assets_json(struct ig_sim_server *s, int which)
{
	json_t *o = json_object();

	for (uint32_t a = 0; o != NULL && a < s->ledger.nassets; a++) {
		const struct ig_ledger_entry *e = ig_ledger_get(&s->ledger, IG__SIM_ACCT_USER, a);
		int64_t v = which == 0 ? s->initial[a] : which == 1 ? e->balance : e->reserved;
		if (json_object_set_new(o, s->ledger.assets[a], fx(v)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *order_json(struct ig_sim_server *s, const struct ig__sim_order *o)
{
	char id[16];
	const char *tif = o->market ? "IOC" : o->tif == IG_BOOK_IOC ? "IOC"
					     : o->tif == IG_BOOK_FOK ? "FOK"
								     : "GTC";

	ig__sim_format_id(o->id, id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:b, s:I, s:I}",
			 "order_id", id, "client_order_id", o->client_id != NULL ? o->client_id : "",
			 "pair", s->mk[o->mk].pair, "type", o->market ? "MARKET" : "LIMIT", "side",
			 o->side == IG_BOOK_BID ? "BUY" : "SELL", "state",
			 o->complete ? "COMPLETE" : "PENDING", "time_in_force", tif, "post_only",
			 (int)o->post_only, "limit_price", fx(o->limit_px), "limit_volume",
			 fx(o->limit_qty), "counter_volume", fx(o->counter_qty), "base", fx(o->base),
			 "counter", fx(o->counter), "fee_base", fx(o->fee_base), "fee_counter",
			 fx(o->fee_counter), "cancelled", (int)o->cancelled, "creation_timestamp",
			 (json_int_t)o->created_ms, "completed_timestamp",
			 (json_int_t)o->completed_ms);
}

json_t *ig__sim_state_json(struct ig_sim_server *s)
{
	const struct ig_sim_stats *st = &s->stats;
	json_t *orders = json_array(), *trades = json_array();

	for (uint32_t i = 0; orders != NULL && i < s->norders; i++) {
		if (json_array_append_new(orders, order_json(s, &s->orders[i])) != 0) {
			json_decref(orders);
			orders = NULL;
		}
	}
	for (uint32_t i = 0; trades != NULL && i < s->ntrades; i++) {
		if (json_array_append_new(trades, ig__sim_trade_json(s, &s->trades[i])) != 0) {
			json_decref(trades);
			trades = NULL;
		}
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:{s:I, s:I, s:b}, s:o, s:o, "
			 "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
			 "pair", s->pairs, "initial_balances", assets_json(s, 0), "balances",
			 assets_json(s, 1), "reserved", assets_json(s, 2), "fees", "maker_fee_bps",
			 (json_int_t)s->mk[0].book.cfg.maker_fee_bps, "taker_fee_bps",
			 (json_int_t)s->mk[0].book.cfg.taker_fee_bps, "fee_in_counter",
			 (int)s->mk[0].book.cfg.fee_in_counter, "orders", orders, "trades", trades,
			 "stats", "requests", (json_int_t)st->requests, "faults_injected",
			 (json_int_t)st->faults_injected, "faults_after", (json_int_t)st->faults_after,
			 "rate_limited", (json_int_t)st->rate_limited, "duplicates_refused",
			 (json_int_t)st->duplicates_refused, "held_replies",
			 (json_int_t)st->held_replies, "unauthorised", (json_int_t)st->unauthorised,
			 "user_orders", (json_int_t)st->user_orders, "user_trades",
			 (json_int_t)st->user_trades, "trades", (json_int_t)st->trades);
}
