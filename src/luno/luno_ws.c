/* luno_ws.c - what every Luno websocket client shares (see luno_ws.h). */
#include "luno/luno_ws.h"

#include "core/log.h"
#include "core/rng.h"
#include "ingenium/error.h"
#include "config/config.h"
#include "luno/luno_http.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ig_luno_ws_url(const char *base_url, const char *stream_url, const char *path, char *out,
		   size_t cap, char *err, size_t errlen)
{
	const char *src, *rest, *scheme;
	size_t n;
	int w;

	if (stream_url != NULL && stream_url[0] != '\0') {
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
	if (n == 0 || memchr(rest, '@', n) != NULL)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s",
				     "venue stream URL: no host, or credentials in the URL");
	w = snprintf(out, cap, "%s%.*s%s", scheme, (int)n, rest, path != NULL ? path : "");
	if (w < 0 || (size_t)w >= cap)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue stream URL: too long");
	return 0;
}

int ig_luno_ws_split(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *path,
		     size_t path_cap)
{
	const char *p, *slash, *colon;
	size_t hl;

	if (strncmp(url, "ws://", 5) == 0) {
		*tls = false;
		p = url + 5;
	} else if (strncmp(url, "wss://", 6) == 0) {
		*tls = true;
		p = url + 6;
	} else {
		return IG_ECONFIG;
	}
	slash = strchr(p, '/');
	hl = slash != NULL ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', hl);
	*port = *tls ? 443 : 80;
	if (colon != NULL) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (end != p + hl || v <= 0 || v > 65535)
			return IG_ECONFIG;
		*port = (int)v;
		hl = (size_t)(colon - p);
	}
	if (hl == 0 || hl >= host_cap)
		return IG_ECONFIG;
	memcpy(host, p, hl);
	host[hl] = '\0';
	if (snprintf(path, path_cap, "%s", slash != NULL ? slash : "/") >= (int)path_cap)
		return IG_ECONFIG;
	return 0;
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

static void lws_emit(int level, const char *line)
{
	char buf[201];
	size_t n = 0;

	(void)level;
	for (size_t i = 0; line[i] != '\0' && n + 1 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\n' || c == '\r')
			continue;
		buf[n++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	buf[n] = '\0';
	ig_log_warn("lws: %s", buf);
}

void ig_luno_ws_log_setup(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
}
