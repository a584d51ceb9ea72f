/* api.c - the HTTP status API on its own thread (see api.h). */
#include "api/api.h"
#include "api/dashboard.h"
#include "api/events.h"
#include "api/prom.h"
#include "core/thread.h"

#include "core/clock.h"
#include "core/log.h"
#include "feed/feed.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"
#include "oms/oms.h"
#include "store/query.h"
#include "store/store.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

/* --------------------------------------------------------------- auth */

bool ig_api_token_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	/* Every byte of a is looked at, whatever b holds; lengths may leak. */
	unsigned diff = alen != blen;
	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned)(unsigned char)a[i] ^
			(unsigned)(unsigned char)(blen > 0 ? b[i % blen] : 0);
	return diff == 0;
}

bool ig_api_auth_ok(const char *header, const char *token, size_t token_len)
{
	static const char scheme[] = "Bearer ";
	size_t n;

	if (header == NULL || token_len == 0 || strncmp(header, scheme, sizeof(scheme) - 1) != 0)
		return false;
	header += sizeof(scheme) - 1;
	n = strlen(header);
	/* Compare over the expected token's length, so the time does not
	 * depend on the presented one. */
	return ig_api_token_equal(token, token_len, header, n);
}

static struct ig_api_limiter_slot *limiter_find(const struct ig_api_limiter *l, const void *addr,
						 size_t len)
{
	for (int i = 0; i < IG_API_LIMITER_SLOTS; i++)
		if (l->slot[i].len == len && memcmp(l->slot[i].addr, addr, len) == 0)
			return (struct ig_api_limiter_slot *)(uintptr_t)&l->slot[i];
	return NULL;
}

int64_t ig_api_limiter_blocked(const struct ig_api_limiter *l, const void *addr, size_t len,
			       int64_t now_ns)
{
	const struct ig_api_limiter_slot *s;

	if (len == 0 || len > 16)
		return 0;
	s = limiter_find(l, addr, len);
	return s != NULL && s->blocked_until_ns > now_ns ? s->blocked_until_ns - now_ns : 0;
}

bool ig_api_limiter_fail(struct ig_api_limiter *l, const void *addr, size_t len, int64_t now_ns)
{
	struct ig_api_limiter_slot *s;

	if (len == 0 || len > 16)
		return false;
	s = limiter_find(l, addr, len);
	if (s == NULL) {
		/* An unused slot, else the one seen longest ago (not a blocked one
		 * if any other is left). */
		int best = 0;
		for (int i = 1; i < IG_API_LIMITER_SLOTS; i++) {
			const struct ig_api_limiter_slot *c = &l->slot[i], *b = &l->slot[best];
			bool cb = c->blocked_until_ns > now_ns, bb = b->blocked_until_ns > now_ns;
			if (b->len == 0)
				break;
			if (c->len == 0 || (bb && !cb) || (bb == cb && c->last_ns < b->last_ns))
				best = i;
		}
		s = &l->slot[best];
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, addr, len);
		s->len = (uint8_t)len;
		s->window_ns = now_ns;
	}
	s->last_ns = now_ns;
	if (now_ns - s->window_ns > (int64_t)IG_API_FAIL_WINDOW_MS * 1000000) {
		s->window_ns = now_ns;
		s->fails = 0;
	}
	if (++s->fails < IG_API_FAIL_MAX)
		return false;
	{
		int64_t ms = IG_API_BLOCK_MS;
		for (uint32_t i = 0; i < s->blocks && ms < IG_API_BLOCK_MAX_MS; i++)
			ms *= 2;
		if (ms > IG_API_BLOCK_MAX_MS)
			ms = IG_API_BLOCK_MAX_MS;
		s->blocks++;
		s->fails = 0;
		s->window_ns = now_ns;
		s->blocked_until_ns = now_ns + ms * 1000000;
	}
	return true;
}

/* ----------------------------------------------------------- controls */

#define CTL_PREFIX "/api/v1/strategies/"

int ig_api_control_route(const char *method, const char *url, struct ig_api_route *out)
{
	static const struct {
		const char *action;
		uint16_t cmd;
	} actions[] = {
		{ "pause", IG_CTL_PAUSE },
		{ "resume", IG_CTL_RESUME },
		{ "cancel-all", IG_CTL_CANCEL_ALL },
		{ "reset", IG_CTL_RESET },
		{ "params", IG_CTL_PARAMS },
	};
	bool post = strcmp(method, "POST") == 0;
	const char *name, *slash;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strcmp(url, "/api/v1/kill-switch") == 0) {
		if (!post && strcmp(method, "DELETE") != 0)
			return 405;
		out->cmd = IG_CTL_KILL_SWITCH;
		out->arg = post ? 1 : 0;
		out->all = true;
		return 200;
	}
	if (strcmp(url, "/api/v1/reset") == 0) {
		if (!post)
			return 405;
		out->cmd = IG_CTL_RESET;
		out->all = true;
		return 200;
	}
	if (strncmp(url, CTL_PREFIX, sizeof(CTL_PREFIX) - 1) != 0)
		return 0;
	name = url + sizeof(CTL_PREFIX) - 1;
	slash = strchr(name, '/');
	if (slash == NULL)
		return 404;
	n = (size_t)(slash - name);
	if (n == 0 || n >= sizeof(out->strategy))
		return 404;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7f)
			return 404;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(slash + 1, actions[i].action) != 0)
			continue;
		if (!post)
			return 405;
		out->cmd = actions[i].cmd;
		memcpy(out->strategy, name, n);
		out->strategy[n] = '\0';
		return 200;
	}
	return 404;
}

int ig_api_params_parse(const char *body, size_t len, json_t **doc, const char **keys,
			char values[][IG_PARAM_STR_MAX], size_t *n, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *key;
	json_t *v;

	*n = 0;
	*doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (*doc == NULL) {
		snprintf(err, errlen, "bad JSON at line %d column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		return IG_EPARSE;
	}
	if (!json_is_object(*doc)) {
		snprintf(err, errlen, "the body must be a JSON object of params");
		return IG_EINVAL;
	}
	if (json_object_size(*doc) == 0 || json_object_size(*doc) > IG_PARAMS_MAX) {
		snprintf(err, errlen, "give 1 to %d params", IG_PARAMS_MAX);
		return IG_ELIMIT;
	}
	json_object_foreach(*doc, key, v) {
		char *out = values[*n];
		if (json_is_integer(v)) {
			snprintf(out, IG_PARAM_STR_MAX, "%lld", (long long)json_integer_value(v));
		} else if (json_is_string(v)) {
			if (json_string_length(v) >= IG_PARAM_STR_MAX ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				snprintf(err, errlen, "params.%.64s: value too long or has a NUL", key);
				return IG_EINVAL;
			}
			snprintf(out, IG_PARAM_STR_MAX, "%s", json_string_value(v));
		} else if (json_is_boolean(v)) {
			snprintf(out, IG_PARAM_STR_MAX, "%s", json_is_true(v) ? "true" : "false");
		} else if (json_is_real(v)) {
			snprintf(err, errlen,
				 "params.%.64s: give a decimal as a string (\"0.5\") so it stays exact",
				 key);
			return IG_EINVAL;
		} else {
			snprintf(err, errlen, "params.%.64s: must be an integer, a string or a boolean",
				 key);
			return IG_EINVAL;
		}
		keys[*n] = key;
		(*n)++;
	}
	return 0;
}

/* ---------------------------------------------------------- documents */

static json_t *money(int64_t v)
{
	char buf[IG_FIXED_STRLEN];
	ig_fixed_format(v, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *rejects_json(const uint64_t *rejects)
{
	json_t *o = json_object();
	for (int r = 1; o != NULL && r < IG_RJ__COUNT; r++)
		if (rejects[r] > 0)
			json_object_set_new(o, ig_reject_reason_name((enum ig_reject_reason)r),
					    json_integer((json_int_t)rejects[r]));
	return o;
}

static json_t *strategy_json(const struct ig_snapshot *snap, const struct ig_snap_strategy *s)
{
	json_t *pos = json_array();
	for (uint16_t k = 0; pos != NULL && k < snap->ninstruments; k++)
		json_array_append_new(pos, json_pack("{s:s, s:o, s:o}", "symbol", snap->symbols[k],
						     "qty", money(s->qty[k]), "avg_price",
						     money(s->avg_px[k])));
	/* state: the trading state, or "paused" while an active one is paused */
	const char *state = s->paused && s->trading_state == IG_TS_ACTIVE
				    ? "paused"
				    : ig_trading_state_name((enum ig_trading_state)s->trading_state);
	return json_pack("{s:s, s:s, s:s, s:b, s:o*, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o*}",
			 "name", s->name, "type", s->type, "state", state, "paused", (int)s->paused,
			 "positions", pos, "cash", money(s->cash), "equity", money(s->equity),
			 "realized_pnl", money(s->realized), "unrealized_pnl", money(s->unrealized),
			 "fees", money(s->fees), "orders", (json_int_t)s->orders, "fills",
			 (json_int_t)s->fills, "open_orders", (json_int_t)s->open_orders, "rejects",
			 rejects_json(s->rejects));
}

json_t *ig_api_status_json(const struct ig_snapshot *snap, const struct ig_api_info *info)
{
	json_t *strats = json_array();
	int64_t age_ms = (info->now_real_ns - snap->ts_real_ns) / 1000000;

	for (uint32_t i = 0; strats != NULL && i < snap->nstrategies; i++)
		json_array_append_new(strats, strategy_json(snap, &snap->s[i]));
	return json_pack("{s:s, s:I, s:s, s:s, s:b, s:{s:s, s:b}, s:{s:I, s:I}, s:I, s:I, s:o*, "
			 "s:o*}",
			 "version", info->version, "uptime_s", (json_int_t)info->uptime_s,
			 "threading", info->threading, "trading_state",
			 ig_trading_state_name((enum ig_trading_state)snap->trading_state),
			 "kill_switch", (int)snap->kill_switch, "venue", "kind", info->venue,
			 "reconciled", (int)snap->reconciled, "snapshot", "seq",
			 (json_int_t)snap->seq, "age_ms", (json_int_t)(age_ms < 0 ? 0 : age_ms),
			 "orders", (json_int_t)snap->orders, "fills", (json_int_t)snap->fills,
			 "rejects", rejects_json(snap->rejects), "strategies", strats);
}

/* The families every page has (docs/api.md, the first table), into b. */
static void metrics_core(struct ig__buf *b, const struct ig_snapshot *snap,
			 const struct ig_snap_latency *lat, const struct ig_api_info *info)
{
	static const int64_t lat_bound[IG_SNAP_LAT_BUCKETS] = IG_SNAP_LAT_BOUNDS_NS;
	char v[IG_FIXED_STRLEN], name[2 * IG_CFG_NAME_MAX + 1], sym[2 * IG_CFG_NAME_MAX + 1];
	char ver[2 * IG_CFG_NAME_MAX + 1];

	ig__label_escape(info->version, ver, sizeof(ver));
	ig__metric_head(b, "ingenium_build_info", "gauge", "Build information; always 1.");
	ig__bput(b, "ingenium_build_info{version=\"%s\"} 1\n", ver);
	ig__metric_head(b, "ingenium_uptime_seconds", "gauge", "Seconds since the API started.");
	ig__bput(b, "ingenium_uptime_seconds %lld\n", (long long)info->uptime_s);
	ig__metric_head(b, "ingenium_kill_switch", "gauge", "1 while the kill switch is engaged.");
	ig__bput(b, "ingenium_kill_switch %d\n", snap->kill_switch ? 1 : 0);
	ig__metric_head(b, "ingenium_orders_total", "counter", "Orders sent to the venue.");
	ig__bput(b, "ingenium_orders_total %llu\n", (unsigned long long)snap->orders);
	ig__metric_head(b, "ingenium_fills_total", "counter", "Fills applied.");
	ig__bput(b, "ingenium_fills_total %llu\n", (unsigned long long)snap->fills);
	ig__metric_head(b, "ingenium_rejects_total", "counter",
		    "Orders denied by risk or rejected by the venue, by reason.");
	for (int r = 1; r < IG_RJ__COUNT; r++)
		ig__bput(b, "ingenium_rejects_total{reason=\"%s\"} %llu\n",
		     ig_reject_reason_name((enum ig_reject_reason)r),
		     (unsigned long long)snap->rejects[r]);
	ig__metric_head(b, "ingenium_position", "gauge", "Net position per strategy and symbol, base units.");
	for (uint32_t i = 0; i < snap->nstrategies; i++) {
		ig__label_escape(snap->s[i].name, name, sizeof(name));
		for (uint16_t k = 0; k < snap->ninstruments; k++) {
			ig__label_escape(snap->symbols[k], sym, sizeof(sym));
			ig_fixed_format(snap->s[i].qty[k], v, sizeof(v));
			ig__bput(b, "ingenium_position{strategy=\"%s\",symbol=\"%s\"} %s\n", name, sym, v);
		}
	}
	ig__metric_head(b, "ingenium_equity", "gauge", "Equity per strategy (cash + positions at the mark), quote units.");
	for (uint32_t i = 0; i < snap->nstrategies; i++) {
		ig__label_escape(snap->s[i].name, name, sizeof(name));
		ig_fixed_format(snap->s[i].equity, v, sizeof(v));
		ig__bput(b, "ingenium_equity{strategy=\"%s\"} %s\n", name, v);
	}
	ig__metric_head(b, "ingenium_strategy_orders_total", "counter", "Orders sent to the venue per strategy.");
	for (uint32_t i = 0; i < snap->nstrategies; i++) {
		ig__label_escape(snap->s[i].name, name, sizeof(name));
		ig__bput(b, "ingenium_strategy_orders_total{strategy=\"%s\"} %llu\n", name,
		     (unsigned long long)snap->s[i].orders);
	}
	if (lat != NULL)
		ig__histogram(b, "ingenium_tick_to_order_seconds",
			      "Time from a tick's ingress to the order it caused reaching the executor.",
			      lat_bound, lat);
}

char *ig_api_metrics_text(const struct ig_snapshot *snap, const struct ig_snap_latency *lat,
			  const struct ig_api_info *info, size_t *len)
{
	struct ig_api_metrics_src src = { .snap = snap, .tick_to_order = lat };
	return ig_api_metrics_page(&src, info, len);
}

char *ig_api_metrics_page(const struct ig_api_metrics_src *src, const struct ig_api_info *info,
			  size_t *len)
{
	struct ig__buf b = { malloc(8192), 0, 8192, true };

	if (b.p == NULL)
		return NULL;
	metrics_core(&b, src->snap, src->tick_to_order, info);
	ig__api_metrics_more(&b, src);
	if (!b.ok) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}


/* ------------------------------------------------------------- server */

struct ig_api {
	struct MHD_Daemon *mhd;
	struct ig_snap_pub *pub;
	struct ig_snap_pub *lat;     /* the executor's, or NULL */
	struct ig_api_info info;     /* strings owned by the caller */
	char token[256];
	size_t token_len;
	char *tls_cert, *tls_key;    /* PEM text (TLS), freed at stop */
	int64_t t_start_ns;          /* CLOCK_MONOTONIC */
	struct ig_api_limiter lim;   /* API thread */
	struct ig_api_ctl ctl;       /* control == NULL: no controls */
	struct ig_events *events;    /* atomic pointer (ig_api_set_events), NULL = none */
	struct ig_api_extra extra;   /* NULL members: not served */
	pthread_t thread;
	bool stop;                   /* atomic */
	uint16_t port;
};

/* The event hub, or NULL. */
static struct ig_events *events_of(const struct ig_api *api)
{
	return __atomic_load_n(&api->events, __ATOMIC_ACQUIRE);
}

/* Markers of a request's progress in *con_cls (libmicrohttpd calls the
 * handler once with the headers, then for each part of a body, then once
 * more with none): waiting for the end of an empty body (the answer
 * comes then, so the connection can be kept alive), or answered. Any
 * other non-NULL value is a params control's body (struct api_body). */
static int wait_marker, done_marker;

/* True if the request announces a body (a Content-Length other than 0,
 * or any Transfer-Encoding). */
static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	return (cl != NULL && strcmp(cl, "0") != 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

/* True if con_cls holds a params control's body. */
static bool is_body(void *con_cls)
{
	return con_cls != NULL && con_cls != &wait_marker && con_cls != &done_marker;
}

/* The body of a params control, gathered over the handler's calls;
 * allocated once the request is authenticated, freed by on_completed. */
struct api_body {
	size_t len;
	bool over;                       /* more than IG_API_BODY_MAX came */
	char buf[IG_API_BODY_MAX + 1];
};

/* libmicrohttpd: a request is over (answered or aborted). Frees its
 * body, if it had one. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (is_body(*con_cls))
		free(*con_cls);
	*con_cls = NULL;
}

/* The value of hex digit ch, or -1. */
static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     char *body, size_t len, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_const(struct MHD_Connection *c, unsigned status, const char *json)
{
	return reply(c, status, "application/json", (char *)(uintptr_t)json, strlen(json), false);
}

static enum MHD_Result reply_json(struct MHD_Connection *c, unsigned status, json_t *doc)
{
	char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (text == NULL)
		return reply_const(c, 500, "{\"error\":\"out of memory\"}");
	return reply(c, status, "application/json", text, strlen(text), true);
}

/* The client's address bytes (v4: 4, v6: 16), 0 if unknown. */
static size_t client_addr(struct MHD_Connection *c, uint8_t out[16])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

	if (sa == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
		memcpy(out, &a->sin_addr, 4);
		return 4;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(out, &a->sin6_addr, 16);
		return 16;
	}
	return 0;
}

static void fill_info(struct ig_api *api, struct ig_api_info *info)
{
	*info = api->info;
	info->uptime_s = (ig_clock_mono_ns() - api->t_start_ns) / 1000000000;
	info->now_real_ns = ig_clock_real_ns();
}

/* Adds "feed" (the feed's own counters, extra.feed_stats) to the status
 * document when the feed keeps any. */
static void add_feed(const struct ig_api *api, json_t *doc)
{
	json_t *feed;

	if (api->extra.feed_stats == NULL || (feed = json_object()) == NULL)
		return;
	if (api->extra.feed_stats(api->extra.feed_stats_ctx, feed) == 0 && json_object_size(feed) > 0)
		json_object_set_new(doc, "feed", feed);
	else
		json_decref(feed);
}

static enum MHD_Result serve(struct ig_api *api, struct MHD_Connection *c, const char *url)
{
	struct ig_api_info info;
	const struct ig_snapshot *snap, *xs, *js;
	enum MHD_Result rc;

	fill_info(api, &info);
	if (strcmp(url, "/api/v1/config") == 0)
		/* The config never changes after start (config.h: read-only
		 * once loaded; the engine only reads it), so the API thread
		 * reads it directly, with no snapshot. */
		return api->extra.cfg != NULL ? reply_json(c, 200, ig_api_config_json(api->extra.cfg))
					: reply_const(c, 503, "{\"error\":\"no config\"}");
	ig_snap_read_lock();
	snap = ig_snap_current(api->pub);
	xs = api->lat != NULL ? ig_snap_current(api->lat) : NULL;
	js = api->extra.journal != NULL ? ig_snap_current(api->extra.journal) : NULL;
	if (snap == NULL) {
		rc = reply_const(c, 503, "{\"error\":\"no snapshot yet: the engine is starting\"}");
	} else if (strcmp(url, "/api/v1/status") == 0) {
		json_t *doc = ig_api_status_json(snap, &info);
		if (doc != NULL)
			json_object_set_new(doc, "venue",
					    ig_api_venue_json(xs != NULL ? &xs->venue : NULL, info.venue,
							      snap->reconciled));
		if (doc != NULL && events_of(api) != NULL)
			json_object_set_new(doc, "events", ig_events_status_json(events_of(api)));
		if (doc != NULL)
			add_feed(api, doc);
		rc = reply_json(c, 200, doc);
	} else if (strcmp(url, "/api/v1/risk") == 0) {
		rc = reply_json(c, 200, ig_api_risk_json(snap));
	} else {
		size_t len = 0;
		static const struct ig_snap_latency no_sync;
		struct ig_api_metrics_src src = {
			.snap = snap,
			.tick_to_order = xs != NULL ? &xs->tick_to_order : NULL,
			.venue = xs != NULL ? &xs->venue : NULL,
			/* journal on but no sync yet: an empty histogram */
			.journal_sync = api->extra.journal == NULL ? NULL
				      : js != NULL		  ? &js->journal_sync
								  : &no_sync,
			.have_backpressure = api->extra.backpressure != NULL,
			.backpressure = api->extra.backpressure != NULL
						? api->extra.backpressure(api->extra.backpressure_ctx)
						: 0,
		};
		char *text;
		json_t *feed = json_object();
		if (feed != NULL && api->extra.feed_stats != NULL &&
		    api->extra.feed_stats(api->extra.feed_stats_ctx, feed) == 0)
			src.feed = feed;
		text = ig_api_metrics_page(&src, &info, &len);
		json_decref(feed);
		if (text != NULL && events_of(api) != NULL)
			text = ig_events_metrics_append(events_of(api), text, &len);
		rc = text != NULL ? reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len,
					  true)
				  : reply_const(c, 500, "{\"error\":\"out of memory\"}");
	}
	ig_snap_read_unlock();
	return rc;
}

static const char *ctl_name(uint16_t cmd, int64_t arg)
{
	switch (cmd) {
	case IG_CTL_KILL_SWITCH:
		return arg ? "kill-switch engage" : "kill-switch clear";
	case IG_CTL_PAUSE:
		return "pause";
	case IG_CTL_RESUME:
		return "resume";
	case IG_CTL_CANCEL_ALL:
		return "cancel-all";
	case IG_CTL_RESET:
		return "reset";
	case IG_CTL_PARAMS:
		return "params";
	default:
		return "?";
	}
}

/* Waits for control id's outcome: polls with sleeps of 50 us doubling to
 * 5 ms, for at most IG_API_CTL_WAIT_MS. Returns the outcome
 * (IG_OMS_CTL_PENDING on timeout). API thread. */
static enum ig_oms_ctl_status ctl_wait(const struct ig_api *api, uint64_t id)
{
	int64_t deadline_ns = ig_clock_mono_ns() + (int64_t)IG_API_CTL_WAIT_MS * 1000000;
	long sleep_ns = 50000;
	enum ig_oms_ctl_status st;

	while ((st = api->ctl.status(api->ctl.ctx, id)) == IG_OMS_CTL_PENDING &&
	       ig_clock_mono_ns() < deadline_ns) {
		struct timespec ts = { 0, sleep_ns };
		nanosleep(&ts, NULL);
		if (sleep_ns < 5000000)
			sleep_ns *= 2;
	}
	return st;
}

/* An operator control (rt, parsed by ig_api_control_route): puts it, waits
 * for its outcome, answers it. API thread. */
static enum MHD_Result control(struct ig_api *api, struct MHD_Connection *c,
			       const struct ig_api_route *rt, const char *body, size_t body_len)
{
	struct ig_oms_ctl_req req = { .cmd = rt->cmd, .strategy = IG_STRATEGY_NONE, .arg = rt->arg };
	const char *what = ctl_name(rt->cmd, rt->arg);
	const char *who = rt->all ? (rt->cmd == IG_CTL_KILL_SWITCH ? "" : "all") : rt->strategy;
	enum ig_oms_ctl_status st;
	unsigned code;
	const char *msg;
	uint64_t id = 0;
	int rc;

	if (api->ctl.control == NULL)
		return reply_const(c, 503, "{\"error\":\"controls are not available\"}");
	if (!rt->all) {
		int sid = api->ctl.strategy_index(api->ctl.ctx, rt->strategy);
		if (sid < 0)
			return reply_json(c, 404, json_pack("{s:s, s:s}", "error", "unknown strategy",
							    "strategy", rt->strategy));
		req.strategy = (uint16_t)sid;
	}
	if (rt->cmd == IG_CTL_PARAMS) {
		const char *keys[IG_PARAMS_MAX];
		char values[IG_PARAMS_MAX][IG_PARAM_STR_MAX];
		char err[256];
		json_t *doc = NULL;
		size_t n = 0;

		if (api->ctl.params == NULL)
			return reply_const(c, 503, "{\"error\":\"controls are not available\"}");
		rc = ig_api_params_parse(body, body_len, &doc, keys, values, &n, err, sizeof(err));
		if (rc == 0) {
			const char *vals[IG_PARAMS_MAX];
			for (size_t i = 0; i < n; i++)
				vals[i] = values[i];
			rc = api->ctl.params(api->ctl.ctx, req.strategy, keys, vals, n, &req, err,
					     sizeof(err));
		}
		json_decref(doc);
		if (rc != 0) {
			ig_log_info("api: control params %s: refused: %s", who, err);
			return reply_json(c, rc == IG_ESTATE ? 409 : 400,
					  json_pack("{s:s}", "error", err));
		}
	}
	rc = api->ctl.control(api->ctl.ctx, &req, &id);
	if (rc == IG_EAGAIN) {
		struct MHD_Response *r;
		static const char busy[] = "{\"error\":\"the control mailbox is full: retry\"}";
		enum MHD_Result mr;

		ig_log_warn("api: control %s %s: mailbox full (503)", what, who);
		r = MHD_create_response_from_buffer(sizeof(busy) - 1, (void *)(uintptr_t)busy,
						    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		MHD_add_response_header(r, "Content-Type", "application/json");
		MHD_add_response_header(r, "Cache-Control", "no-store");
		MHD_add_response_header(r, "Retry-After", "1");
		mr = MHD_queue_response(c, 503, r);
		MHD_destroy_response(r);
		return mr;
	}
	if (rc != 0)
		return reply_const(c, 400, "{\"error\":\"not a control command\"}");
	st = ctl_wait(api, id);
	switch (st) {
	case IG_OMS_CTL_OK:
		code = 200, msg = NULL;
		break;
	case IG_OMS_CTL_NO_CHANGE:
		code = 409, msg = "no change: nothing to do";
		break;
	case IG_OMS_CTL_NOT_FOUND:
		code = 404, msg = "unknown strategy";
		break;
	case IG_OMS_CTL_INVALID:
		code = 400, msg = "invalid control";
		break;
	case IG_OMS_CTL_PENDING:
		code = 504, msg = "the engine did not apply the control in time (it may still)";
		break;
	case IG_OMS_CTL_REFUSED:
		code = 422, msg = "refused by the strategy (its log says why); the values in force stay";
		break;
	case IG_OMS_CTL_BUSY:
		code = 409, msg = "the strategy has not answered the last params change yet";
		break;
	case IG_OMS_CTL_EXPIRED:
	default:
		code = 500, msg = "the outcome expired";
		break;
	}
	ig_log_info("api: control %s%s%s (id %llu): %u", what, who[0] ? " " : "", who,
		    (unsigned long long)id, code);
	if (msg == NULL)
		return reply_json(c, 200, json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
	return reply_json(c, code, json_pack("{s:s, s:I}", "error", msg, "id", (json_int_t)id));
}

/* ------------------------------------------------------------ history */

#define HISTORY_PREFIX "/api/v1/history/"

/* True if url is under /api/v1/history/. */
static bool is_history_path(const char *url)
{
	return strncmp(url, HISTORY_PREFIX, sizeof(HISTORY_PREFIX) - 1) == 0;
}

/* A name argument: 1..IG_STORE_NAME_MAX-1 printable ASCII bytes. */
static bool name_ok(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= IG_STORE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x21 || v[i] > 0x7e)
			return false;
	return true;
}

int ig_api_history_params(const char *url, const char *(*get)(void *ctx, const char *name),
			  void *ctx, struct ig_api_history_req *out, char *err, size_t errlen)
{
	static const char *const names[] = { "orders", "fills", "pnl", "sessions" };
	const char *name = url + sizeof(HISTORY_PREFIX) - 1, *v;

	memset(out, 0, sizeof(*out));
	if (!is_history_path(url))
		return 404;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			out->what = names[i];
	if (out->what == NULL)
		return 404;
	out->from_ns = INT64_MIN;
	out->to_ns = INT64_MAX;
	out->limit = IG_API_HISTORY_LIMIT;
	if ((v = get(ctx, "strategy")) != NULL && v[0] != '\0') {
		if (!name_ok(v)) {
			snprintf(err, errlen, "strategy: 1 to %d printable characters",
				 IG_STORE_NAME_MAX - 1);
			return 400;
		}
		out->strategy = v;
	}
	if ((v = get(ctx, "daemon")) != NULL && v[0] != '\0') {
		if (!name_ok(v)) {
			snprintf(err, errlen, "daemon: 1 to %d printable characters",
				 IG_STORE_NAME_MAX - 1);
			return 400;
		}
		out->daemon = v;
	}
	if ((v = get(ctx, "from")) != NULL && v[0] != '\0' &&
	    ig_feed_parse_iso8601(v, strlen(v), &out->from_ns) != 0) {
		snprintf(err, errlen, "from: not an ISO 8601 date or date-time (UTC), e.g. 2024-01-31 "
				      "or 2024-01-31T09:30:00Z");
		return 400;
	}
	if ((v = get(ctx, "to")) != NULL && v[0] != '\0' &&
	    ig_feed_parse_iso8601(v, strlen(v), &out->to_ns) != 0) {
		snprintf(err, errlen, "to: not an ISO 8601 date or date-time (UTC), e.g. 2024-01-31 "
				      "or 2024-01-31T09:30:00Z");
		return 400;
	}
	if ((v = get(ctx, "limit")) != NULL && v[0] != '\0') {
		char *end = NULL;
		long long n = strtoll(v, &end, 10);
		if (end == v || *end != '\0' || v[0] == '+' || v[0] == ' ' || n < 1 ||
		    n > IG_API_HISTORY_LIMIT_MAX) {
			snprintf(err, errlen, "limit: an integer from 1 to %d", IG_API_HISTORY_LIMIT_MAX);
			return 400;
		}
		out->limit = (size_t)n;
	}
	return 200;
}

/* ig_api_history_params's argument reader for a connection. */
static const char *get_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* GET /api/v1/history/NAME: the store's rows (store/query.h), on the API
 * thread, bounded by IG_API_HISTORY_TIMEOUT_MS; no stage is touched. */
static enum MHD_Result history(struct ig_api *api, struct MHD_Connection *c, const char *url)
{
	struct ig_api_history_req hr;
	struct ig_store_query q;
	char err[512];
	json_t *rows = NULL;
	bool truncated = false;
	int code, rc;

	err[0] = '\0';
	code = ig_api_history_params(url, get_arg, c, &hr, err, sizeof(err));
	if (code == 404)
		return reply_const(c, 404, "{\"error\":\"not found: /api/v1/history/ has orders, "
					   "fills, pnl and sessions\"}");
	if (code != 200)
		return reply_json(c, 400, json_pack("{s:s}", "error", err));
	if ((api->extra.store_kind != IG_STORE_SQLITE && api->extra.store_kind != IG_STORE_POSTGRES) ||
	    api->extra.store_target == NULL)
		return reply_const(c, 404, "{\"error\":\"the history store is off on this daemon "
					   "(store.kind)\"}");
	memset(&q, 0, sizeof(q));
	q.kind = api->extra.store_kind;
	q.target = api->extra.store_target;
	q.what = hr.what;
	q.strategy = hr.strategy;
	q.daemon = hr.daemon != NULL ? hr.daemon : api->extra.store_daemon;
	q.from_ns = hr.from_ns;
	q.to_ns = hr.to_ns;
	q.limit = hr.limit;
	q.timeout_ms = IG_API_HISTORY_TIMEOUT_MS;
	rc = ig_store_query_run(&q, &rows, &truncated, err, sizeof(err));
	if (rc == IG_ENOMEM)
		return reply_const(c, 500, "{\"error\":\"out of memory\"}");
	if (rc != 0) {
		/* err holds no password (store.h) */
		char msg[640];
		snprintf(msg, sizeof(msg), "the history store cannot be read: %s", err);
		ig_log_warn("api: %s", msg);
		return reply_json(c, 503, json_pack("{s:s}", "error", msg));
	}
	return reply_json(c, 200,
			  json_pack("{s:s, s:s?, s:s?, s:I, s:b, s:o}", "query", hr.what, "daemon_id",
				    q.daemon, "strategy", q.strategy, "limit", (json_int_t)hr.limit,
				    "truncated", truncated, "rows", rows));
}


static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct ig_api *api = cls;
	uint8_t addr[16];
	size_t alen;
	int64_t now_ns, wait_ns;
	bool known;
	struct ig_api_route rt;
	int route;

	(void)version;
	if (is_body(*con_cls)) {
		/* The params control's body: gather it (bounded), then act on
		 * the last call (no more data). */
		struct api_body *b = *con_cls;
		if (*upload_data_size > 0) {
			size_t take = *upload_data_size;
			if (b->len + take > IG_API_BODY_MAX)
				b->over = true;
			else
				memcpy(b->buf + b->len, upload_data, take);
			if (!b->over)
				b->len += take;
			*upload_data_size = 0;
			return MHD_YES;
		}
		if (b->over)
			return reply_const(c, 413, "{\"error\":\"the body is over 4096 bytes\"}");
		if (ig_api_control_route(method, url, &rt) != 200)
			return reply_const(c, 404, "{\"error\":\"not found\"}");
		return control(api, c, &rt, b->buf, b->len);
	}
	if (*con_cls == NULL) {
		/* The headers arrived: from now on the connection may idle for
		 * IG_API_CONN_TIMEOUT_S, not the short timeout it had while the
		 * request was incomplete. */
		MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT,
					  (unsigned int)IG_API_CONN_TIMEOUT_S);
		if (!has_body(c)) {
			/* Answer at the next call, once the (empty) body is read:
			 * an answer queued before that closes the connection. */
			*con_cls = &wait_marker;
			return MHD_YES;
		}
		/* A body: answered now (405, 404 or 413 below); the connection
		 * closes after it, the body unread. */
		*con_cls = &done_marker;
	} else if (*con_cls == &wait_marker && *upload_data_size == 0) {
		*con_cls = &done_marker;
	} else {
		/* A body we did not ask for, or a call after the answer: drop
		 * it (the reply is queued already). */
		*upload_data_size = 0;
		return MHD_YES;
	}
	known = strcmp(url, "/healthz") == 0 || strcmp(url, "/api/v1/status") == 0 ||
		strcmp(url, "/metrics") == 0 || strcmp(url, "/api/v1/risk") == 0 ||
		strcmp(url, "/api/v1/config") == 0 || is_history_path(url) ||
		(events_of(api) != NULL && ig_events_is_path(url));
	route = ig_api_control_route(method, url, &rt);
	if (route == 405 || (route == 0 && known && strcmp(method, "GET") != 0 &&
			     strcmp(method, "HEAD") != 0))
		return reply_const(c, 405, "{\"error\":\"method not allowed\"}");
	if (route == 404 || (route == 0 && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
		return reply_const(c, 404, "{\"error\":\"not found\"}");
	if (route == 200 && rt.cmd == IG_CTL_PARAMS) {
		/* The one endpoint with a body: a Content-Length up to
		 * IG_API_BODY_MAX (checked again as it arrives). */
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		char *end = NULL;
		unsigned long long want = cl != NULL ? strtoull(cl, &end, 10) : 0;
		if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") != NULL ||
		    cl == NULL || end == cl || *end != '\0')
			return reply_const(c, 411, "{\"error\":\"a Content-Length is required\"}");
		if (want > IG_API_BODY_MAX)
			return reply_const(c, 413, "{\"error\":\"the body is over 4096 bytes\"}");
	} else if (has_body(c)) {
		return reply_const(c, 413, "{\"error\":\"a request body is not accepted\"}");
	}
	if (strcmp(url, "/healthz") == 0)
		return reply_const(c, 200, "{\"ok\":true}");
	if (ig_dash_path(url)) /* the dashboard's static files: no token (they hold no data) */
		return ig_dash_serve(c, method, url);

	alen = client_addr(c, addr);
	now_ns = ig_clock_mono_ns();
	wait_ns = ig_api_limiter_blocked(&api->lim, addr, alen, now_ns);
	if (wait_ns > 0) {
		char *body = malloc(96);
		int n;
		if (body == NULL)
			return MHD_NO;
		n = snprintf(body, 96, "{\"error\":\"too many failed attempts\",\"retry_after_s\":%lld}",
			     (long long)(wait_ns / 1000000000 + 1));
		return reply(c, 429, "application/json", body, (size_t)n, true);
	}
	if (!ig_api_auth_ok(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"),
			    api->token, api->token_len)) {
		if (ig_api_limiter_fail(&api->lim, addr, alen, now_ns))
			ig_log_warn("api: %d failed authentications from one address: blocking it",
				    IG_API_FAIL_MAX);
		return reply_const(c, 401, "{\"error\":\"unauthorized: Authorization: Bearer TOKEN\"}");
	}
	if (route == 200 && rt.cmd == IG_CTL_PARAMS) {
		/* Authenticated: now read the body (freed in on_completed). */
		struct api_body *b = calloc(1, sizeof(*b));
		if (b == NULL)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (route == 200)
		return control(api, c, &rt, NULL, 0);
	if (!known)
		return reply_const(c, 404, "{\"error\":\"not found\"}");
	if (events_of(api) != NULL && ig_events_is_path(url))
		return (enum MHD_Result)ig_events_serve(events_of(api), c, url, method);
	if (is_history_path(url))
		return history(api, c, url);
	return serve(api, c, url);
}

/* libmicrohttpd's URL decoding, in place: %HH becomes its byte, except
 * %00, which stays as written. Decoded, a NUL would end the path early:
 * "/static/app.js%00.txt" would serve app.js, and every route would
 * match a longer path. Returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;
	const char *r = s;

	(void)cls;
	(void)c;
	while (*r != '\0') {
		int hi, lo;
		if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 &&
		    (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* libmicrohttpd's own messages (a request too big, a closed connection)
 * go to the log at debug level. */
static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	ig_vlog(IG_LOG_DEBUG, fmt, ap);
}

static void *api_thread(void *arg)
{
	struct ig_api *api = arg;

	ig_log_attach("api");
	ig_snap_thread_register();
	while (!__atomic_load_n(&api->stop, __ATOMIC_ACQUIRE)) {
		/* Wakes at least every 50 ms for the retired snapshots and the
		 * stop flag. */
		MHD_run_wait(api->mhd, 50);
		if (events_of(api) != NULL)
			ig_events_drain(events_of(api), ig_clock_mono_ns());
		ig_snap_reclaim(api->pub);
		if (api->lat != NULL)
			ig_snap_reclaim(api->lat);
		if (api->extra.journal != NULL)
			ig_snap_reclaim(api->extra.journal);
	}
	if (events_of(api) != NULL) {
		/* No suspended connection may be left for MHD_stop_daemon: end
		 * every event stream, resume them and let them finish. */
		ig_events_stop_clients(events_of(api));
		for (int i = 0; i < 4; i++)
			MHD_run_wait(api->mhd, 0);
	}
	MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
	ig_snap_reclaim(api->pub);
	if (api->lat != NULL)
		ig_snap_reclaim(api->lat);
	if (api->extra.journal != NULL)
		ig_snap_reclaim(api->extra.journal);
	ig_snap_thread_unregister();
	return NULL;
}

/* The whole file at path, NUL-terminated, malloc'd; NULL if unreadable. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (1L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) != (size_t)n) {
			free(p);
			p = NULL;
		} else {
			p[n] = '\0';
		}
	}
	fclose(f);
	return p;
}

static void api_free(struct ig_api *api)
{
	free(api->tls_cert);
	free(api->tls_key);
	memset(api->token, 0, sizeof(api->token));
	free(api);
}

int ig_api_start(struct ig_api **out, const struct ig_cfg_api *cfg, struct ig_snap_pub *pub,
		 struct ig_snap_pub *lat, const struct ig_api_info *info,
		 const struct ig_api_ctl *ctl, char *err, size_t errlen)
{
	return ig_api_start_ex(out, cfg, pub, lat, info, ctl, NULL, err, errlen);
}

int ig_api_start_ex(struct ig_api **out, const struct ig_cfg_api *cfg, struct ig_snap_pub *pub,
		    struct ig_snap_pub *lat, const struct ig_api_info *info,
		    const struct ig_api_ctl *ctl, const struct ig_api_extra *extra, char *err,
		    size_t errlen)
{
	struct sockaddr_in6 sa;
	uint32_t salen = 0;
	bool lo = false;
	const char *why, *tok;
	struct ig_api *api;
	/* Suspend/resume: the event stream (events.h) parks a connection with
	 * nothing to send. */
	unsigned flags = MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *di;

	*out = NULL;
	why = ig_config_api_addr(cfg->listen, &sa, sizeof(sa), &salen, &lo);
	if (why != NULL) {
		snprintf(err, errlen, "api.listen: %s", why);
		return IG_ECONFIG;
	}
	if (!lo && cfg->tls_cert[0] == '\0' && !cfg->allow_plain_remote) {
		/* The config check refuses this first; this is the last line. */
		snprintf(err, errlen,
			 "api.listen: \"%s\" is not a loopback address: set api.tls_cert and "
			 "api.tls_key (HTTPS), or api.allow_plain_remote: true to send the token in "
			 "the clear",
			 cfg->listen);
		return IG_ECONFIG;
	}
	tok = getenv(cfg->token_env);
	if (tok == NULL || tok[0] == '\0') {
		snprintf(err, errlen,
			 "api.listen is set but the token variable %s is %s: set it to the bearer "
			 "token clients must send",
			 cfg->token_env, tok == NULL ? "unset" : "empty");
		return IG_ECONFIG;
	}
	api = calloc(1, sizeof(*api));
	if (api == NULL) {
		snprintf(err, errlen, "api: out of memory");
		return IG_ENOMEM;
	}
	api->token_len = strlen(tok);
	if (api->token_len >= sizeof(api->token)) {
		snprintf(err, errlen, "%s: the token is longer than %zu bytes", cfg->token_env,
			 sizeof(api->token) - 1);
		api_free(api);
		return IG_ECONFIG;
	}
	memcpy(api->token, tok, api->token_len);
	api->pub = pub;
	api->lat = lat;
	api->info = *info;
	if (ctl != NULL)
		api->ctl = *ctl;
	if (extra != NULL)
		api->extra = *extra;
	if (cfg->tls_cert[0] != '\0') {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
				 "api.tls_cert: this libmicrohttpd was built without TLS support");
			api_free(api);
			return IG_ECONFIG;
		}
		api->tls_cert = read_text(cfg->tls_cert);
		api->tls_key = read_text(cfg->tls_key);
		if (api->tls_cert == NULL || api->tls_key == NULL) {
			snprintf(err, errlen, "%s: cannot read the PEM file",
				 api->tls_cert == NULL ? "api.tls_cert" : "api.tls_key");
			api_free(api);
			return IG_ECONFIG;
		}
		flags |= MHD_USE_TLS;
	}
	if (sa.sin6_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* epoll, not select: select cannot watch a descriptor numbered
	 * FD_SETSIZE (1024) or more, and libmicrohttpd closes such a
	 * connection at once, so a process with many descriptors open would
	 * serve nobody. */
	if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES)
		flags |= MHD_USE_EPOLL;
	api->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, api, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape,
		NULL,
		MHD_OPTION_SOCK_ADDR,
		(const struct sockaddr *)&sa, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)IG_API_CONN_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)IG_API_CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)IG_API_CONN_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)IG_API_HEADER_TIMEOUT_S,
		api->tls_cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, api->tls_cert,
		MHD_OPTION_HTTPS_MEM_KEY, api->tls_key, MHD_OPTION_END);
	if (api->mhd == NULL) {
		snprintf(err, errlen, "api.listen: cannot listen on %s (address in use?)",
			 cfg->listen);
		api_free(api);
		return IG_EIO;
	}
	di = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_BIND_PORT);
	api->port = di != NULL ? di->port : 0;
	api->t_start_ns = ig_clock_mono_ns();
	/* The API thread (and liburcu's call_rcu thread, which it starts and
	 * which inherits its mask) never takes a signal (core/thread.h). */
	if (ig_thread_start_quiet(&api->thread, api_thread, api) != 0)
		goto no_thread;
	*out = api;
	return 0;
no_thread:
	{
		MHD_stop_daemon(api->mhd);
		snprintf(err, errlen, "api: cannot start its thread");
		api_free(api);
		return IG_ETHREAD;
	}
}

void ig_api_set_events(struct ig_api *api, struct ig_events *ev)
{
	__atomic_store_n(&api->events, ev, __ATOMIC_RELEASE);
}

uint16_t ig_api_port(const struct ig_api *api)
{
	return api->port;
}

void ig_api_stop(struct ig_api *api)
{
	if (api == NULL)
		return;
	__atomic_store_n(&api->stop, true, __ATOMIC_RELEASE);
	pthread_join(api->thread, NULL);
	api_free(api);
}
