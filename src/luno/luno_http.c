/* luno_http.c - the Luno requests' shared setup and reply gate (see
 * luno_http.h). */
#include "luno/luno_http.h"

#include "ingenium/error.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest path and query a request adds to the base URL. */
#define PATH_ROOM 64

int ig_luno_body_init(struct ig_luno_body *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->data = malloc(cap + 1);
	if (b->data == NULL)
		return IG_ENOMEM;
	b->cap = cap;
	b->data[0] = '\0';
	return 0;
}

void ig_luno_body_free(struct ig_luno_body *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

int ig__luno_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int ig_luno_http_base(const char *url, char *dst, size_t cap, char *err, size_t errlen)
{
	const char *p;
	size_t auth_len, n;

	if (url == NULL)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s", "venue.base_url: missing");
	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return ig__luno_errf(err, errlen, IG_ECONFIG, "venue.base_url: \"%s\" is not an http(s) URL", url);
	auth_len = strcspn(p, "/?#");
	if (auth_len == 0)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "venue.base_url: \"%s\" has no host", url);
	if (memchr(p, '@', auth_len) != NULL)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "%s",
			    "venue.base_url: must not carry credentials; use venue.key_id_env and venue.secret_env");
	for (const char *c = url; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '?' || *c == '#')
			return ig__luno_errf(err, errlen, IG_ECONFIG, "venue.base_url: \"%s\" has an invalid character",
				    url);
	n = strlen(url);
	if (n + PATH_ROOM >= cap)
		return ig__luno_errf(err, errlen, IG_ECONFIG, "venue.base_url: \"%s\" is too long", url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	memcpy(dst, url, n);
	dst[n] = '\0';
	return 0;
}

int ig_luno_http_url(char *dst, size_t cap, const char *base, const char *path_fmt, ...)
{
	size_t n = strlen(base);
	va_list ap;
	int w;

	if (n >= cap)
		return IG_ERANGE;
	memcpy(dst, base, n + 1);
	va_start(ap, path_fmt);
	w = vsnprintf(dst + n, cap - n, path_fmt, ap);
	va_end(ap);
	return w < 0 || (size_t)w >= cap - n ? IG_ERANGE : 0;
}

void *ig_luno_http_multi(long max_conns)
{
	CURLM *m = curl_multi_init();
	if (m != NULL)
		curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, max_conns);
	return m;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct ig_luno_body *b = userp;
	size_t n = size * nmemb;

	if (n > b->cap - b->len) {
		b->overflow = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return n;
}

void ig_luno_http_prepare(void *easy, const struct ig_luno_http_req *rq)
{
	CURL *e = easy;

	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, rq->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)rq->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)rq->timeout_ms);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, IG_LUNO_USER_AGENT);
	if (rq->user != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, rq->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, rq->password);
	}
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rq->rx);
	if (rq->errbuf != NULL) {
		rq->errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->errbuf);
	}
	if (rq->priv != NULL)
		curl_easy_setopt(e, CURLOPT_PRIVATE, rq->priv);
	if (rq->post != NULL) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(rq->post));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->post);
	}
	rq->rx->len = 0;
	rq->rx->overflow = false;
}

enum ig_luno_verdict ig_luno_reply_gate(struct ig_luno_reply *rp, void *easy, int res,
					struct ig_luno_body *rx, struct ig_luno_budget *b,
					int64_t now_ns, uint64_t *rng)
{
	CURLcode cr = (CURLcode)res;
	curl_off_t total_us = 0;

	memset(rp, 0, sizeof(*rp));
	rx->data[rx->len] = '\0';
	rp->res = res;
	rp->body = rx->data;
	rp->len = rx->len;
	if (cr != CURLE_OK) {
		/* Only a connection that never opened is certainly unsent. */
		rp->sent = !(cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST ||
			     cr == CURLE_COULDNT_RESOLVE_PROXY);
		rp->verdict = rx->overflow ? IG_LUNO_R_TOO_LARGE : IG_LUNO_R_TRANSPORT;
		return rp->verdict;
	}
	rp->sent = true;
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &rp->status);
	if (curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		rp->rtt_ns = (int64_t)total_us * 1000;
	if (rp->status >= 400 && ig_luno_parse_error(rp->body, rp->len, &rp->err) == 0)
		rp->parsed_err = true;
	if (rp->status >= 200 && rp->status < 300) {
		ig_luno_budget_ok(b);
		rp->verdict = IG_LUNO_R_OK;
	} else if (rp->status == 429 ||
		   (rp->parsed_err && ig_luno_err_action(rp->err.code) == IG_LUNO_ACT_RETRY)) {
		/* Not processed: every caller backs off. */
		rp->backoff_ns = ig_luno_budget_throttled(b, now_ns, rng);
		rp->verdict = IG_LUNO_R_THROTTLED;
	} else if (rp->status >= 500) {
		rp->verdict = IG_LUNO_R_SERVER;
	} else if (rp->status >= 400) {
		rp->verdict = IG_LUNO_R_CLIENT;
	} else {
		rp->verdict = IG_LUNO_R_UNEXPECTED;
	}
	return rp->verdict;
}

enum ig_luno_verdict ig_luno_reply_parsed(struct ig_luno_reply *rp, int parse_rc)
{
	if (rp->verdict == IG_LUNO_R_OK && parse_rc != 0)
		rp->verdict = IG_LUNO_R_MALFORMED;
	return rp->verdict;
}

int ig_luno_read_env(const char *key, const char *name, const char *why, char *dst, size_t cap,
		     char *err, size_t errlen)
{
	const char *val;

	if (name == NULL || name[0] == '\0') {
		snprintf(err, errlen, "venue.%s: no environment variable named", key);
		return IG_ECONFIG;
	}
	val = getenv(name);
	if (val == NULL || val[0] == '\0') {
		snprintf(err, errlen, "venue.%s: environment variable %s is %s%s", key, name,
			 val == NULL ? "not set" : "empty", why);
		return IG_ECONFIG;
	}
	/* The value is never echoed, not even in this error. */
	if (strlen(val) >= cap) {
		snprintf(err, errlen, "venue.%s: the value of %s is longer than %zu bytes", key, name,
			 cap - 1);
		return IG_ECONFIG;
	}
	snprintf(dst, cap, "%s", val);
	return 0;
}
