/* docs.c - the risk, config and venue documents and the venue, journal
 * and back-pressure metric families (see api.h, docs/api.md). */
#include "api/api.h"
#include "api/prom.h"

#include "ingenium/fixed.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define REDACTED "<redacted>"

static json_t *money_or_null(int64_t v)
{
	char buf[IG_FIXED_STRLEN];
	if (v == IG_RISK_UNSET)
		return json_null();
	ig_fixed_format(v, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *int_or_null(int64_t v)
{
	return v == IG_RISK_UNSET ? json_null() : json_integer((json_int_t)v);
}

/* {"limit": name, "value": value, "use": use} (use NULL: null). Takes
 * the references. */
static json_t *limit(const char *name, json_t *value, json_t *use)
{
	return json_pack("{s:s, s:o*, s:o*}", "limit", name, "value", value, "use",
			 use != NULL ? use : json_null());
}

static json_t *strategy_limits(const struct ig_snapshot *snap, const struct ig_snap_strategy *s)
{
	const struct ig_cfg_risk *l = &s->lim;
	json_t *a = json_array();
	char buf[IG_FIXED_STRLEN];

	if (a == NULL)
		return NULL;
	json_array_append_new(a, limit("max_order_qty", money_or_null(l->max_order_qty), NULL));
	json_array_append_new(a, limit("max_order_notional", money_or_null(l->max_order_notional),
				       NULL));
	for (uint16_t k = 0; k < snap->ninstruments; k++) {
		/* use: the position; worst: what the check adds an order to,
		 * the position plus everything open on the side that grows it */
		int64_t buy = s->qty[k] + s->open_buy_qty[k], sell = s->open_sell_qty[k] - s->qty[k];
		json_t *e = limit("max_position_qty", money_or_null(l->max_position_qty),
				  money_or_null(s->qty[k]));
		ig_fixed_format(buy > sell ? buy : sell, buf, sizeof(buf));
		json_object_set_new(e, "symbol", json_string(snap->symbols[k]));
		json_object_set_new(e, "worst", json_string(buf));
		json_array_append_new(a, e);
	}
	json_array_append_new(a, limit("max_open_orders", int_or_null(l->max_open_orders),
				       json_integer((json_int_t)s->open_orders)));
	json_array_append_new(a, limit("max_orders_per_sec", int_or_null(l->max_orders_per_sec),
				       json_integer((json_int_t)s->rate_used)));
	json_array_append_new(a, limit("price_collar_bps", int_or_null(l->price_collar_bps), NULL));
	json_array_append_new(a, limit("stale_data_ms", int_or_null(l->stale_data_ms), NULL));
	json_array_append_new(a, limit("duplicate_window_ms", int_or_null(l->duplicate_window_ms),
				       NULL));
	json_array_append_new(a, limit("daily_loss_limit", money_or_null(l->daily_loss_limit),
				       money_or_null(s->daily_loss)));
	{
		json_t *e = limit("max_drawdown_pct", money_or_null(l->max_drawdown_pct),
				  money_or_null(s->drawdown_pct));
		json_object_set_new(e, "action",
				    json_string(l->drawdown_action == IG_BREACH_HALTED ? "halted"
										: "reducing"));
		json_array_append_new(a, e);
	}
	return a;
}

json_t *ig_api_risk_json(const struct ig_snapshot *snap)
{
	json_t *strats = json_array();

	for (uint32_t i = 0; strats != NULL && i < snap->nstrategies; i++) {
		const struct ig_snap_strategy *s = &snap->s[i];
		const char *state = s->paused && s->trading_state == IG_TS_ACTIVE
					    ? "paused"
					    : ig_trading_state_name((enum ig_trading_state)s->trading_state);
		json_array_append_new(strats, json_pack("{s:s, s:s, s:b, s:o*}", "name", s->name, "state",
							state, "paused", (int)s->paused, "limits",
							strategy_limits(snap, s)));
	}
	return json_pack("{s:s, s:b, s:{s:[{s:s, s:o*, s:I}]}, s:o*}", "trading_state",
			 ig_trading_state_name((enum ig_trading_state)snap->trading_state),
			 "kill_switch", (int)snap->kill_switch, "global", "limits", "limit",
			 "max_orders_per_sec", "value", int_or_null(snap->global_rate_per_s), "use",
			 (json_int_t)snap->global_rate_used, "strategies", strats);
}

/* s with what a URL may carry as credentials replaced: the user info
 * ("scheme://user:pw@host" -> "scheme://<redacted>@host") and the query
 * and fragment ("...?<redacted>"). Writes into out (cap bytes). Returns
 * true if s is such a URL and out differs from it. */
static bool url_redact(const char *s, char *out, size_t cap)
{
	const char *auth = strstr(s, "://"), *at, *q;
	size_t alen, n = 0;

	if (auth == NULL || auth == s || strspn(s, "abcdefghijklmnopqrstuvwxyz"
					    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != (size_t)(auth - s))
		return false;
	auth += 3;
	alen = strcspn(auth, "/?#");
	at = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p; /* the last one: a password may hold an '@' */
	q = auth + strcspn(auth, "?#");
	if (at == NULL && *q == '\0')
		return false;
	n = (size_t)snprintf(out, cap, "%.*s%s%.*s%s", (int)(auth - s), s,
			     at != NULL ? REDACTED : "", (int)(q - (at != NULL ? at : auth)),
			     at != NULL ? at : auth, *q != '\0' ? "?" REDACTED : "");
	return n < cap;
}

/* Redacts every URL-like string under j (url_redact), in place. */
static void redact_urls(json_t *j)
{
	char buf[2 * IG_CFG_PATH_MAX];

	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach (j, k, v) {
			if (json_is_string(v) && url_redact(json_string_value(v), buf, sizeof(buf)))
				json_object_set_new(j, k, json_string(buf));
			else
				redact_urls(v);
		}
	} else if (json_is_array(j)) {
		for (size_t i = 0; i < json_array_size(j); i++) {
			json_t *v = json_array_get(j, i);
			if (json_is_string(v) && url_redact(json_string_value(v), buf, sizeof(buf)))
				json_array_set_new(j, i, json_string(buf));
			else
				redact_urls(v);
		}
	}
}

json_t *ig_api_config_json(const struct ig_config *cfg)
{
	json_t *doc = ig_config_json(cfg);
	json_t *api, *venue;

	if (doc == NULL)
		return NULL;
	/* The config holds only the names of the variables with the
	 * secrets; the values (read from the environment at start) are
	 * shown as redacted, never read here. */
	api = json_object_get(doc, "api");
	venue = json_object_get(doc, "venue");
	if (api == NULL || venue == NULL || json_object_set_new(api, "token", json_string(REDACTED)) != 0 ||
	    json_object_set_new(venue, "key_id", json_string(REDACTED)) != 0 ||
	    json_object_set_new(venue, "secret", json_string(REDACTED)) != 0) {
		json_decref(doc);
		return NULL;
	}
	/* Credentials written into a URL by mistake (venue.base_url: the
	 * Luno venue refuses them when it opens, a paper run does not; a
	 * string param) are not shown either. */
	redact_urls(doc);
	return doc;
}

/* The venue's push stream for the status document, or NULL (left out)
 * when it has none. */
static json_t *stream_json(const struct ig_snap_stream *st)
{
	if (st->state == IG_SNAP_STREAM_NONE)
		return NULL;
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "state",
			 ig_snap_stream_state_name(st->state), "connects", (json_int_t)st->connects,
			 "drops", (json_int_t)st->drops, "messages", (json_int_t)st->messages,
			 "catchups", (json_int_t)st->catchups, "fallbacks", (json_int_t)st->fallbacks,
			 "polls_saved", (json_int_t)st->polls_saved);
}

json_t *ig_api_venue_json(const struct ig_snap_venue *v, const char *kind, bool reconciled)
{
	static const struct ig_snap_venue zero;
	json_t *codes = json_object();

	if (v == NULL)
		v = &zero;
	for (int c = 0; codes != NULL && c < IG_SNAP_HTTP__COUNT; c++)
		if (v->http_errors[c] > 0)
			json_object_set_new(codes, ig_snap_http_code_name(c),
					    json_integer((json_int_t)v->http_errors[c]));
	return json_pack("{s:s, s:b, s:o, s:I, s:I, s:I, s:s, s:o*, s:o*}", "kind", kind, "reconciled",
			 (int)reconciled, "last_round_trip_ms",
			 v->last_rtt_ns > 0 ? json_real((double)v->last_rtt_ns / 1e6) : json_null(),
			 "requests", (json_int_t)v->requests, "errors", (json_int_t)v->errors,
			 "http_429", (json_int_t)v->http_429, "state",
			 ig_snap_venue_state_name(v->state), "http_errors", codes, "user_stream",
			 stream_json(&v->stream));
}

/* The venue's push stream (the Luno user stream) in /metrics. */
static void stream_metrics(struct ig__buf *b, const struct ig_snap_stream *st)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} counters[] = {
		{ "ingenium_venue_user_stream_connects_total", "User stream connections that went live.",
		  offsetof(struct ig_snap_stream, connects) },
		{ "ingenium_venue_user_stream_drops_total", "Live user stream connections lost.",
		  offsetof(struct ig_snap_stream, drops) },
		{ "ingenium_venue_user_stream_messages_total", "User stream messages received.",
		  offsetof(struct ig_snap_stream, messages) },
		{ "ingenium_venue_user_stream_catchups_total",
		  "REST catch-ups after a user stream (re)connect.", offsetof(struct ig_snap_stream, catchups) },
		{ "ingenium_venue_user_stream_fallbacks_total",
		  "Returns to REST polling because the user stream turned unhealthy.",
		  offsetof(struct ig_snap_stream, fallbacks) },
		{ "ingenium_venue_polls_saved_total", "Steady REST polls not sent while the user stream was live.",
		  offsetof(struct ig_snap_stream, polls_saved) },
	};

	ig__metric_head(b, "ingenium_venue_user_stream_live", "gauge",
			"1 while the user stream is healthy and caught up (steady polling stopped), 0 while "
			"the venue polls.");
	ig__bput(b, "ingenium_venue_user_stream_live %d\n", st->state == IG_SNAP_STREAM_LIVE ? 1 : 0);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		uint64_t v;
		memcpy(&v, (const char *)st + counters[i].off, sizeof(v));
		ig__metric_head(b, counters[i].name, "counter", counters[i].help);
		ig__bput(b, "%s %llu\n", counters[i].name, (unsigned long long)v);
	}
}

/* The feed's own stream (the Luno market stream) in /metrics, from its
 * counters' JSON (ig_feed_stats_json): nothing when it keeps none. */
static void feed_metrics(struct ig__buf *b, const json_t *feed)
{
	static const struct {
		const char *key, *name, *help;
	} counters[] = {
		{ "connects", "ingenium_feed_stream_connects_total", "Market stream connections made." },
		{ "snapshots", "ingenium_feed_stream_snapshots_total", "Order book snapshots applied." },
		{ "messages", "ingenium_feed_stream_messages_total", "Market stream messages received." },
		{ "quotes", "ingenium_feed_stream_quotes_total", "Top-of-book quotes passed on." },
		{ "trades", "ingenium_feed_stream_trades_total", "Trades passed on." },
	};
	const json_t *st = json_object_get(feed, "stream");
	const json_t *rs = json_object_get(feed, "stream_resyncs");
	const char *reason;
	json_t *n;

	if (!json_is_object(st) || !json_is_object(rs))
		return;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		ig__metric_head(b, counters[i].name, "counter", counters[i].help);
		ig__bput(b, "%s %lld\n", counters[i].name,
			 (long long)json_integer_value(json_object_get(st, counters[i].key)));
	}
	ig__metric_head(b, "ingenium_feed_stream_dropped_total", "counter",
			"Events the stream could not pass on (its ring full), by kind.");
	ig__bput(b, "ingenium_feed_stream_dropped_total{kind=\"quote\"} %lld\n",
		 (long long)json_integer_value(json_object_get(st, "quotes_dropped")));
	ig__bput(b, "ingenium_feed_stream_dropped_total{kind=\"trade\"} %lld\n",
		 (long long)json_integer_value(json_object_get(st, "trades_dropped")));
	ig__metric_head(b, "ingenium_feed_stream_resyncs_total", "counter",
			"Market stream resyncs (dropped, reconnected, a fresh snapshot), by reason.");
	json_object_foreach((json_t *)(uintptr_t)rs, reason, n)
		if (strcmp(reason, "total") != 0)
			ig__bput(b, "ingenium_feed_stream_resyncs_total{reason=\"%s\"} %lld\n", reason,
				 (long long)json_integer_value(n));
}

void ig__api_metrics_more(struct ig__buf *b, const struct ig_api_metrics_src *src)
{
	static const int64_t slow[IG_SNAP_LAT_BUCKETS] = IG_SNAP_SLOW_BOUNDS_NS;
	char v[IG_FIXED_STRLEN];

	if (src->venue != NULL) {
		const struct ig_snap_venue *vn = src->venue;
		ig__histogram(b, "ingenium_venue_request_seconds",
			      "Round trip of each request to the venue (REST, connect to reply).",
			      slow, &vn->request);
		ig__metric_head(b, "ingenium_venue_http_errors_total", "counter",
				"Failed venue requests by HTTP status (4xx, 5xx: the others of the "
				"class; transport: no answer).");
		for (int c = 0; c < IG_SNAP_HTTP__COUNT; c++)
			ig__bput(b, "ingenium_venue_http_errors_total{code=\"%s\"} %llu\n",
				 ig_snap_http_code_name(c), (unsigned long long)vn->http_errors[c]);
		ig__metric_head(b, "ingenium_venue_last_round_trip_seconds", "gauge",
				"The last venue request's round trip (0: none yet).");
		ig__ns_seconds(vn->last_rtt_ns, v, sizeof(v));
		ig__bput(b, "ingenium_venue_last_round_trip_seconds %s\n", v);
		ig__metric_head(b, "ingenium_venue_up", "gauge",
				"Venue state: 1 ok, 0.5 degraded (recent failures), 0 down.");
		ig__bput(b, "ingenium_venue_up %s\n",
			 vn->state == IG_SNAP_VENUE_OK ? "1" : vn->state == IG_SNAP_VENUE_DEGRADED ? "0.5" : "0");
		if (vn->stream.state != IG_SNAP_STREAM_NONE)
			stream_metrics(b, &vn->stream);
	}
	if (src->feed != NULL)
		feed_metrics(b, src->feed);
	if (src->journal_sync != NULL)
		ig__histogram(b, "ingenium_journal_fsync_seconds",
			      "One journal sync on the journal thread: the buffered write and the fdatasync.",
			      slow, src->journal_sync);
	if (src->have_backpressure) {
		ig__metric_head(b, "ingenium_backpressure_events_total", "counter",
				"Events that waited in a spill because a ring was full.");
		ig__bput(b, "ingenium_backpressure_events_total %llu\n",
			 (unsigned long long)src->backpressure);
	}
}
