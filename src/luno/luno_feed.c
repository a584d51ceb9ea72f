/* luno_feed.c - Luno ticker / orderbook_top poller (see luno_feed.h). */
#include "luno/luno_feed.h"

#include "feed/feed.h"
#include "luno/luno.h"
#include "luno/luno_venue.h"
#include "luno/luno_http.h"
#include "core/clock.h"
#include "core/log.h"
#include "luno/luno_json.h"
#include "luno/luno_stream.h"
#include "luno/luno_ws.h"
#include "ingenium/error.h"
#include "ingenium/fixed.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS INT64_C(1000000)

/* Failure kinds, for logging once per change. */
enum { P_NONE = 0, P_TRANSPORT, P_HTTP, P_MALFORMED, P_EMPTY, P_CROSSED };

void ig_luno_feed_opts_from_config(struct ig_luno_feed_opts *o, const struct ig_config *cfg,
				   uint16_t instrument_id)
{
	memset(o, 0, sizeof(*o));
	o->base_url = cfg->venue.base_url;
	o->pair = cfg->feed.symbol;
	o->instrument_id = instrument_id;
	for (uint32_t k = 0; k < cfg->feed.nsymbols && k < IG_MAX_INSTRUMENTS; k++)
		o->pairs[k] = cfg->feed.symbols[k];
	o->npairs = cfg->feed.nsymbols < IG_MAX_INSTRUMENTS ? cfg->feed.nsymbols : IG_MAX_INSTRUMENTS;
	o->interval_ms = cfg->feed.heartbeat_ms > 0 ? cfg->feed.heartbeat_ms : IG_CFG_DEFAULT_HEARTBEAT_MS;
	o->orderbook_top = cfg->feed.luno_endpoint == IG_LUNO_EP_ORDERBOOK_TOP;
	o->connect_timeout_ms = cfg->venue.connect_timeout_ms;
	o->timeout_ms = 0;
	o->io_poll_us = 0;
	o->budget = NULL; /* src_open() gives its Luno instance's */
	o->reserve = -1;
	o->stream = cfg->feed.luno_endpoint == IG_LUNO_EP_STREAM;
	o->stream_url = cfg->venue.stream_url;
	o->key_id_env = cfg->venue.key_id_env;
	o->secret_env = cfg->venue.secret_env;
	o->stream_timeout_ms = cfg->feed.stream_timeout_ms;
}

static int open_stream(struct ig_luno_feed *f, const struct ig_luno_feed_opts *o, char *err,
		       size_t errlen)
{
	struct ig_luno_stream_opts so;
	char url[IG_LUNO_WS_URL_MAX];
	int rc = ig_luno_ws_url(o->base_url, o->stream_url, "", url, sizeof(url), err, errlen);

	if (rc != 0)
		return rc;
	memset(&so, 0, sizeof(so));
	so.url = url;
	if (o->npairs > IG_LUNO_STREAM_MAX_PAIRS) {
		snprintf(err, errlen, "feed.symbols: the market stream takes at most %d pairs",
			 IG_LUNO_STREAM_MAX_PAIRS);
		return IG_ECONFIG;
	}
	so.npairs = o->npairs > 0 ? o->npairs : 1;
	for (uint32_t k = 0; k < so.npairs; k++) {
		so.pairs[k] = o->npairs > 0 ? o->pairs[k] : o->pair;
		so.instrument_ids[k] = (uint16_t)(o->instrument_id + k);
	}
	so.key_id_env = o->key_id_env;
	so.secret_env = o->secret_env;
	so.timeout_ms = o->stream_timeout_ms;
	return ig_luno_stream_open(&so, &f->stream, err, errlen);
}

int ig_luno_feed_open(struct ig_luno_feed *f, const struct ig_luno_feed_opts *o, char *err,
		      size_t errlen)
{
	char base[IG_CFG_PATH_MAX];
	size_t plen;
	int rc;

	memset(f, 0, sizeof(*f));
	if (o->stream)
		return open_stream(f, o, err, errlen);
	rc = ig_luno_http_base(o->base_url, base, sizeof(base), err, errlen);
	if (rc != 0)
		return rc;
	f->npairs = o->npairs > 0 ? o->npairs : 1;
	if (f->npairs > IG_MAX_INSTRUMENTS) {
		snprintf(err, errlen, "feed.symbols: at most %d pairs", IG_MAX_INSTRUMENTS);
		return IG_ECONFIG;
	}
	for (uint32_t k = 0; k < f->npairs; k++) {
		const char *pair = o->npairs > 0 ? o->pairs[k] : o->pair;
		plen = pair != NULL ? strlen(pair) : 0;
		if (plen == 0 || plen >= IG_LUNO_PAIR_MAX ||
		    strspn(pair, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != plen) {
			snprintf(err, errlen, "%s: \"%s\" is not a Luno pair name",
				 o->npairs > 0 ? "feed.symbols" : "feed.symbol", pair != NULL ? pair : "");
			return IG_ECONFIG;
		}
		if (ig_luno_http_url(f->url[k], sizeof(f->url[k]), base, "/api/1/%s?pair=%s",
				     o->orderbook_top ? "orderbook_top" : "ticker", pair) != 0) {
			snprintf(err, errlen, "venue.base_url: too long");
			return IG_ECONFIG;
		}
	}
	f->top = o->orderbook_top;
	f->instrument_id = o->instrument_id;
	f->interval_ns = (o->interval_ms > 0 ? o->interval_ms : IG_CFG_DEFAULT_HEARTBEAT_MS) * NS_PER_MS;
	f->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : IG_CFG_DEFAULT_CONNECT_TIMEOUT_MS;
	f->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : f->interval_ns / NS_PER_MS;
	if (f->timeout_ms > IG_CFG_DEFAULT_TIMEOUT_MS)
		f->timeout_ms = IG_CFG_DEFAULT_TIMEOUT_MS;
	if (f->timeout_ms < 100)
		f->timeout_ms = 100;
	f->io_poll_ns = (o->io_poll_us > 0 ? o->io_poll_us : 250) * 1000;
	if (o->budget != NULL) {
		f->budget = o->budget;
	} else {
		ig_luno_budget_init(&f->own_budget, IG_CFG_DEFAULT_REQUESTS_PER_MIN, 0, 0);
		f->budget = &f->own_budget;
	}
	f->reserve = o->reserve >= 0 ? o->reserve : f->budget->burst / 3;
	f->rng = (uint64_t)ig_clock_mono_ns() | 1;
	ig_hist_init(&f->stats.rtt_ns);
	rc = ig_luno_body_init(&f->rx, IG_LUNO_FEED_BODY_MAX);
	f->multi = ig_luno_http_multi(1);
	f->easy = curl_easy_init();
	if (rc != 0 || f->multi == NULL || f->easy == NULL) {
		curl_easy_cleanup(f->easy);
		curl_multi_cleanup(f->multi);
		ig_luno_body_free(&f->rx);
		memset(f, 0, sizeof(*f));
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	return 0;
}

void ig_luno_feed_close(struct ig_luno_feed *f)
{
	ig_luno_stream_close(f->stream);
	f->stream = NULL;
	if (f->multi == NULL)
		return;
	if (f->inflight)
		curl_multi_remove_handle(f->multi, f->easy);
	curl_easy_cleanup(f->easy);
	curl_multi_cleanup(f->multi);
	ig_luno_body_free(&f->rx);
	f->easy = NULL;
	f->multi = NULL;
}

void ig_luno_feed_stop(struct ig_luno_feed *f)
{
	f->stopped = true;
	if (f->stream != NULL)
		ig_luno_stream_stop(f->stream);
}

/* Logs a failure once per change of kind (a dead feed is one line, not
 * one per poll). */
__attribute__((format(printf, 3, 4))) static void problem(struct ig_luno_feed *f, int kind,
							 const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (kind == f->last_problem)
		return;
	f->last_problem = kind;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ig_log_warn("luno feed: %s", msg);
}

static bool start(struct ig_luno_feed *f)
{
	CURL *e = f->easy;
	/* Public endpoints: no credentials. */
	const struct ig_luno_http_req hr = {
		.url = f->url[f->cur],
		.connect_timeout_ms = f->connect_timeout_ms,
		.timeout_ms = f->timeout_ms,
		.rx = &f->rx,
	};

	ig_luno_http_prepare(e, &hr);
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
		return false;
	f->inflight = true;
	f->stats.requests++;
	return true;
}

/* Turns the finished request into a quote. Returns 1 if ev holds one. */
static int finish(struct ig_luno_feed *f, CURLcode res, int64_t now, struct ig_event *ev)
{
	struct ig_luno_reply rp;
	int64_t bid = 0, ask = 0, bid_qty = 0, ask_qty = 0, ts_ms = 0;
	int rc = 0;

	curl_multi_remove_handle(f->multi, f->easy);
	f->inflight = false;
	ig_luno_reply_gate(&rp, f->easy, (int)res, &f->rx, f->budget, now, &f->rng);
	if (rp.rtt_ns > 0)
		ig_hist_record(&f->stats.rtt_ns, rp.rtt_ns);
	switch (rp.verdict) {
	case IG_LUNO_R_TRANSPORT:
		f->stats.transport_errors++;
		problem(f, P_TRANSPORT, "%s", curl_easy_strerror(res));
		return 0;
	case IG_LUNO_R_THROTTLED:
		f->stats.http_errors++;
		f->stats.http_429++;
		problem(f, P_HTTP, "rate limited (HTTP %ld)", rp.status);
		return 0;
	case IG_LUNO_R_CLIENT:
	case IG_LUNO_R_SERVER:
	case IG_LUNO_R_UNEXPECTED:
		f->stats.http_errors++;
		problem(f, P_HTTP, "%s answered HTTP %ld", f->top ? "orderbook_top" : "ticker", rp.status);
		return 0;
	case IG_LUNO_R_TOO_LARGE:
		rc = IG_EPARSE;
		break;
	default:
		break;
	}
	if (rc != 0) {
		/* too large: malformed, below */
	} else if (f->top) {
		struct ig_luno_top t;
		rc = ig_luno_parse_top(rp.body, rp.len, &t);
		bid = t.bid_px;
		ask = t.ask_px;
		bid_qty = t.bid_qty;
		ask_qty = t.ask_qty;
		ts_ms = t.timestamp_ms;
	} else {
		struct ig_luno_ticker t;
		rc = ig_luno_parse_ticker(rp.body, rp.len, &t);
		bid = t.bid;
		ask = t.ask;
		bid_qty = ask_qty = IG_FIXED(1); /* the ticker has no sizes */
		ts_ms = t.timestamp_ms;
	}
	if (ig_luno_reply_parsed(&rp, rc) != IG_LUNO_R_OK) {
		f->stats.malformed++;
		problem(f, P_MALFORMED, "malformed reply (%.120s)",
			rp.verdict == IG_LUNO_R_TOO_LARGE ? "too large" : ig_luno_json_error());
		return 0;
	}
	if (bid <= 0 || ask <= 0) {
		f->stats.empty_book++;
		problem(f, P_EMPTY, "the %s side of the book is empty", bid <= 0 ? "bid" : "ask");
		return 0;
	}
	if (bid > ask) {
		f->stats.crossed_book++;
		problem(f, P_CROSSED, "crossed book (bid above ask)");
		return 0;
	}
	if (f->last_problem != P_NONE) {
		ig_log_info("luno feed: quotes again");
		f->last_problem = P_NONE;
	}
	memset(ev, 0, sizeof(*ev));
	ev->hdr.type = IG_EV_QUOTE;
	ev->hdr.strategy_id = IG_STRATEGY_NONE;
	ev->hdr.instrument_id = (uint16_t)(f->instrument_id + f->cur);
	ev->hdr.ts_event_ns = ts_ms > 0 ? ts_ms * NS_PER_MS : ig_clock_real_ns();
	ev->body.quote.bid_px = bid;
	ev->body.quote.ask_px = ask;
	ev->body.quote.bid_qty = bid_qty;
	ev->body.quote.ask_qty = ask_qty;
	f->stats.quotes++;
	return 1;
}

/* The poll of pair cur is over: the next pair's is due at once, or the
 * round is over (the first pair's is due a heartbeat after the round
 * began). Returns nothing. */
static void next_pair(struct ig_luno_feed *f, int64_t now_ns)
{
	if (f->cur + 1 < f->npairs) {
		f->cur++;
		f->next_ns = now_ns;
	} else {
		f->cur = 0;
		f->next_ns = f->round_ns + f->interval_ns;
	}
}

int ig_luno_feed_next(struct ig_luno_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	int64_t retry;
	int running = 0, left = 0;

	if (now_ns <= 0)
		now_ns = ig_clock_mono_ns();
	if (f->stopped)
		return IG_EEOF;
	if (f->stream != NULL)
		return ig_luno_stream_next(f->stream, now_ns, ev, due_ns);
	if (f->inflight) {
		CURLMsg *m;
		curl_multi_perform(f->multi, &running);
		while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
			if (m->msg == CURLMSG_DONE && m->easy_handle == f->easy) {
				int got = finish(f, m->data.result, now_ns, ev);
				next_pair(f, now_ns);
				if (got == 1)
					return 1;
				break;
			}
		}
		if (f->inflight) {
			*due_ns = now_ns + f->io_poll_ns;
			return 0;
		}
	}
	if (now_ns < f->next_ns) {
		*due_ns = f->next_ns;
		return 0;
	}
	if (!ig_luno_budget_take(f->budget, now_ns, f->reserve, &retry)) {
		if (!f->waiting)
			f->stats.budget_waits++;
		f->waiting = true;
		*due_ns = retry;
		return 0;
	}
	f->waiting = false;
	/* The cadence counts from the start of each round (one poll a
	 * pair, one after the other). */
	if (f->cur == 0) {
		f->round_ns = now_ns;
		f->next_ns = now_ns + f->interval_ns;
	}
	if (!start(f)) {
		next_pair(f, now_ns);
		*due_ns = f->next_ns;
		return 0;
	}
	curl_multi_perform(f->multi, &running);
	*due_ns = now_ns + f->io_poll_ns;
	return 0;
}

void ig_luno_feed_log_stats(const struct ig_luno_feed *f)
{
	const struct ig_luno_feed_stats *s = &f->stats;
	if (f->stream != NULL) {
		ig_luno_stream_log_stats(f->stream);
		return;
	}
	ig_log_info("luno feed: requests=%llu quotes=%llu http_errors=%llu (429=%llu) transport=%llu "
		    "malformed=%llu empty_book=%llu crossed_book=%llu budget_waits=%llu rtt_us p50=%lld p99=%lld",
		    (unsigned long long)s->requests, (unsigned long long)s->quotes,
		    (unsigned long long)s->http_errors, (unsigned long long)s->http_429,
		    (unsigned long long)s->transport_errors, (unsigned long long)s->malformed,
		    (unsigned long long)s->empty_book, (unsigned long long)s->crossed_book,
		    (unsigned long long)s->budget_waits,
		    (long long)(ig_hist_quantile(&s->rtt_ns, 0.5) / 1000),
		    (long long)(ig_hist_quantile(&s->rtt_ns, 0.99) / 1000));
}

int ig_luno_feed_stats_json(const struct ig_luno_feed *f, json_t *feed)
{
	return f->stream != NULL ? ig_luno_stream_stats_json(f->stream, feed) : 0;
}

/* ------------------------------------------------------ registry entry */

static int src_stats_json(const void *src, json_t *feed)
{
	return ig_luno_feed_stats_json(src, feed);
}

static int src_next(struct ig_feed *f, int64_t now_ns, struct ig_event *ev, int64_t *due_ns)
{
	return ig_luno_feed_next(f->src, now_ns, ev, due_ns);
}

static void src_log_stats(const void *src)
{
	ig_luno_feed_log_stats(src);
}

static void src_halt(void *src)
{
	struct ig_luno_feed *lf = src;
	ig_luno_stream_halt(lf->stream);
}

/* The stream's thread wakes the tick thread (the REST poller has no
 * thread of its own: it is polled at its due times). */
static void src_set_wake(void *src, void (*fn)(void *), void *arg)
{
	struct ig_luno_feed *lf = src;
	if (lf->stream != NULL)
		ig_luno_stream_set_wake(lf->stream, fn, arg);
}

static bool src_has_work(const void *src)
{
	const struct ig_luno_feed *lf = src;
	return lf->stream != NULL && ig_luno_stream_has_work(lf->stream);
}

static void src_close(void *src)
{
	struct ig_luno_feed *lf = src;
	struct ig_luno_instance *inst = lf->instance;

	ig_luno_feed_close(lf);
	free(lf);
	ig_luno_instance_release(inst);
}

/* Opens the poller for feed.symbol (or each of feed.symbols) at venue.base_url. On the engine's
 * Luno venue (vt is ig_luno_venue_type: venue_ctx is its instance, luno.h)
 * it draws from the venue's request budget, taking a reference to the
 * instance; on any other venue (paper trading on live data) it makes an
 * instance of its own. Returns 0 or an IG_E* with err set. */
static int src_open(struct ig_feed *f, const struct ig_config *cfg, const struct ig_venue_type *vt,
		    void *venue_ctx, char *err, size_t errlen)
{
	struct ig_luno_feed_opts lo;
	struct ig_luno_instance *inst;
	struct ig_luno_feed *lf = malloc(sizeof(*lf));
	int rc;

	if (lf == NULL) {
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	if (vt == &ig_luno_venue_type && venue_ctx != NULL)
		inst = ig_luno_instance_ref(venue_ctx);
	else
		inst = ig_luno_instance_new(cfg);
	if (inst == NULL) {
		free(lf);
		snprintf(err, errlen, "feed: out of memory");
		return IG_ENOMEM;
	}
	ig_luno_feed_opts_from_config(&lo, cfg, f->instrument_id);
	lo.budget = &inst->budget; /* the engine's Luno venue's, if it has one */
	rc = ig_luno_feed_open(lf, &lo, err, errlen);
	if (rc != 0) {
		free(lf);
		ig_luno_instance_release(inst);
		return rc;
	}
	lf->instance = inst;
	f->src = lf;
	return 0;
}

static const struct ig_feed_ops src_ops = {
	.next = src_next,
	.log_stats = src_log_stats,
	.halt = src_halt,
	.set_wake = src_set_wake,
	.has_work = src_has_work,
	.stats_json = src_stats_json,
	.close = src_close,
};

const struct ig_feed_type ig_luno_feed_type = {
	.name = "luno",
	.live = true,
	.needs_path = false,
	.open = src_open,
	.ops = &src_ops,
};
