/* luno_ws.c - what every Luno websocket client shares (see luno_ws.h). */
#include "luno/luno_ws.h"

#include "core/log.h"
#include "core/rng.h"
#include "ingenium/error.h"
#include "config/config.h"
#include "luno/luno_http.h"

#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits a ws:// or wss:// URL. host (and prefix: the path with no
 * trailing '/', "" if none) may be NULL for a check alone. Returns NULL,
 * or what is wrong (a static string). */
static const char *parse(const char *url, bool *tls, char *host, size_t hcap, int *port, char *path,
			 size_t pcap)
{
	const char *p, *auth_end, *colon, *h;
	size_t auth_len, hlen, n;
	long pt;

	if (strncmp(url, "wss://", 6) == 0) {
		*tls = true;
		p = url + 6;
		pt = 443;
	} else if (strncmp(url, "ws://", 5) == 0) {
		*tls = false;
		p = url + 5;
		pt = 80;
	} else {
		return "must start with ws:// or wss://";
	}
	for (const char *c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '?' || *c == '#')
			return "has a blank, control, non-ASCII, '?' or '#' character";
	if (strchr(p, '@') != NULL)
		return "must not carry credentials (venue.key_id_env and venue.secret_env name them)";
	if (strlen(url) >= IG_LUNO_WS_URL_MAX)
		return "is too long";
	auth_len = strcspn(p, "/");
	auth_end = p + auth_len;
	h = p;
	if (auth_len > 0 && *p == '[') {
		const char *rb = memchr(p, ']', auth_len);
		if (rb == NULL)
			return "has an unclosed '[' in its host";
		h = p + 1;
		hlen = (size_t)(rb - h);
		colon = rb + 1 < auth_end && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < auth_end && colon == NULL)
			return "has junk after its [IPv6] host";
	} else {
		colon = memchr(p, ':', auth_len);
		hlen = colon != NULL ? (size_t)(colon - p) : auth_len;
	}
	if (hlen == 0)
		return "has no host";
	if (colon != NULL) {
		char *end;
		if (colon + 1 == auth_end)
			return "has an empty port";
		pt = strtol(colon + 1, &end, 10);
		if (end != auth_end || pt < 1 || pt > 65535)
			return "has a bad port (1-65535)";
	}
	n = strlen(auth_end);
	if (host == NULL)
		return NULL;
	if (hlen >= hcap || n + 2 > pcap)
		return "is too long";
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (n == 0)
		memcpy(path, "/", 2);
	else
		memcpy(path, auth_end, n + 1);
	*port = (int)pt;
	return NULL;
}

const char *ig_luno_ws_url_problem(const char *url)
{
	bool tls;

	if (url == NULL || url[0] == '\0')
		return NULL;
	return parse(url, &tls, NULL, 0, NULL, NULL, 0);
}

int ig_luno_ws_url(const char *base_url, const char *stream_url, const char *path, char *out,
		   size_t cap, char *err, size_t errlen)
{
	const char *src, *rest, *scheme, *why;
	bool from_stream = stream_url != NULL && stream_url[0] != '\0';
	size_t n;
	int w;

	if (from_stream) {
		src = stream_url;
		if (strncmp(src, "ws://", 5) == 0) {
			scheme = "ws://";
			rest = src + 5;
		} else if (strncmp(src, "wss://", 6) == 0) {
			scheme = "wss://";
			rest = src + 6;
		} else {
			return ig__luno_errf(err, errlen, IG_ECONFIG, "%s",
					     "venue.stream_url: must start with ws:// or wss://");
		}
	} else {
		src = base_url != NULL && base_url[0] != '\0' ? base_url : IG_CFG_DEFAULT_VENUE_BASE_URL;
		/* Luno streams from another host than its REST API. */
		if (strcmp(src, IG_CFG_DEFAULT_VENUE_BASE_URL) == 0)
			src = IG_CFG_DEFAULT_STREAM_URL;
		if (strncmp(src, "wss://", 6) == 0) {
			scheme = "wss://";
			rest = src + 6;
		} else if (strncmp(src, "http://", 7) == 0) {
			scheme = "ws://";
			rest = src + 7;
		} else if (strncmp(src, "https://", 8) == 0) {
			scheme = "wss://";
			rest = src + 8;
		} else {
			return ig__luno_errf(err, errlen, IG_ECONFIG, "%s",
					     "venue.base_url: must start with http:// or https://");
		}
	}
	n = strlen(rest);
	while (n > 0 && rest[n - 1] == '/')
		n--;
	w = snprintf(out, cap, "%s%.*s%s", scheme, (int)n, rest, path != NULL ? path : "");
	if (w < 0 || (size_t)w >= cap)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s",
				     from_stream ? "venue.stream_url: too long"
						 : "venue stream URL (from venue.base_url): too long");
	/* Never echoed: it may carry credentials. */
	why = parse(out, &(bool){ false }, NULL, 0, NULL, NULL, 0);
	if (why != NULL) {
		if (cap > 0)
			out[0] = '\0';
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s: %s",
				     from_stream ? "venue.stream_url"
						 : "venue stream URL (from venue.base_url)",
				     why);
	}
	return 0;
}

int ig_luno_ws_split(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *path,
		     size_t path_cap)
{
	if (host_cap == 0 || path_cap == 0)
		return IG_ECONFIG;
	return parse(url, tls, host, host_cap, port, path, path_cap) == NULL ? 0 : IG_ECONFIG;
}

/* Appends s JSON-escaped at buf[*n]; false when it does not fit. */
static bool put_escaped(char *buf, size_t cap, size_t *n, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		size_t k;
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			k = 2;
		} else if (c < 0x20) {
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		} else {
			tmp[0] = (char)c;
			k = 1;
		}
		if (*n + k >= cap)
			return false;
		memcpy(buf + *n, tmp, k);
		*n += k;
	}
	return true;
}

static bool put_raw(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t k = strlen(s);
	if (*n + k >= cap)
		return false;
	memcpy(buf + *n, s, k);
	*n += k;
	return true;
}

int ig_luno_ws_auth_msg(const char *key_id, const char *secret, char *buf, size_t cap)
{
	size_t n = 0;
	bool ok = cap > 0 && put_raw(buf, cap, &n, "{\"api_key_id\":\"") &&
		  put_escaped(buf, cap, &n, key_id) && put_raw(buf, cap, &n, "\",\"api_key_secret\":\"") &&
		  put_escaped(buf, cap, &n, secret) && put_raw(buf, cap, &n, "\"}");
	if (!ok) {
		if (cap > 0)
			explicit_bzero(buf, cap);
		return -1;
	}
	buf[n] = '\0';
	return (int)n;
}

int64_t ig_luno_ws_backoff_ms(unsigned failures, int64_t base_ms, int64_t max_ms, uint64_t *rng)
{
	int64_t d = base_ms > 0 ? base_ms : 1, half;

	if (max_ms < d)
		max_ms = d;
	for (unsigned i = 1; i < failures && d < max_ms; i++)
		d <<= 1;
	if (d > max_ms)
		d = max_ms;
	half = d / 2;
	return half + (int64_t)(ig_rng_next(rng) % (uint64_t)(d - half + 1));
}

int ig_luno_ws_send_auth(struct lws *wsi, const char *key_id, const char *secret, unsigned char *buf,
			 size_t cap)
{
	int n = cap > LWS_PRE ? ig_luno_ws_auth_msg(key_id, secret, (char *)buf + LWS_PRE, cap - LWS_PRE)
			      : -1;
	int w = n > 0 ? lws_write(wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) : -1;

	explicit_bzero(buf, cap);
	return n > 0 && w >= n ? 0 : -1;
}

/* lws's own lines (errors and warnings only: they carry no payload),
 * through ig_log: one line each, printable, cut at 200 characters. */
static void lws_emit(int level, const char *line)
{
	char buf[201];
	size_t n = 0;

	for (size_t i = 0; line[i] != '\0' && n + 1 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\n' || c == '\r')
			continue;
		buf[n++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	buf[n] = '\0';
	ig_log(level & LLL_ERR ? IG_LOG_ERROR : IG_LOG_WARN, "lws: %s", buf);
}

static void log_setup_once(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
}

void ig_luno_ws_log_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, log_setup_once);
}

void ig_luno_ws_wake_set(struct ig_luno_ws_wake *w, void (*fn)(void *), void *arg)
{
	uint32_t s = __atomic_load_n(&w->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&w->seq, s + 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->fn, fn, __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->arg, arg, __ATOMIC_SEQ_CST);
	__atomic_store_n(&w->seq, s + 2, __ATOMIC_SEQ_CST);
}

bool ig_luno_ws_wake_armed(const struct ig_luno_ws_wake *w)
{
	return __atomic_load_n(&w->fn, __ATOMIC_RELAXED) != NULL;
}

void ig_luno_ws_wake_call(struct ig_luno_ws_wake *w)
{
	void (*fn)(void *);
	void *arg;
	uint32_t s1, s2;

	do {
		s1 = __atomic_load_n(&w->seq, __ATOMIC_SEQ_CST);
		fn = __atomic_load_n(&w->fn, __ATOMIC_SEQ_CST);
		arg = __atomic_load_n(&w->arg, __ATOMIC_SEQ_CST);
		s2 = __atomic_load_n(&w->seq, __ATOMIC_SEQ_CST);
	} while ((s1 & 1) != 0 || s1 != s2);
	if (fn != NULL)
		fn(arg);
}
