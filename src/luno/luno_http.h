/*
 * luno_http.h - what every Luno request shares, for the feed and the venue:
 * the base URL check, URL building, the curl easy handle setup (timeouts,
 * basic auth, TLS, user agent, the reply buffer) and the reply gate.
 *
 * The reply gate. Every finished request, the feed's and the venue's, goes
 * through ig_luno_reply_gate() once, which says what came back:
 *
 *   IG_LUNO_R_OK          2xx: the body may be parsed; a parser's failure
 *                         then makes it IG_LUNO_R_MALFORMED
 *                         (ig_luno_reply_parsed)
 *   IG_LUNO_R_TRANSPORT   no HTTP answer (refused, reset, timed out);
 *                         `sent` says whether it may have reached Luno
 *   IG_LUNO_R_TOO_LARGE   the body passed its cap and the transfer was cut
 *   IG_LUNO_R_THROTTLED   HTTP 429, or Luno's ErrTooManyRequests: the
 *                         budget is backing off (backoff_ns), every caller
 *                         waits, the request may go again
 *   IG_LUNO_R_CLIENT      another 4xx (parsed_err: Luno's error body)
 *   IG_LUNO_R_SERVER      5xx
 *   IG_LUNO_R_UNEXPECTED  1xx or 3xx
 *
 * and tells the request budget what it learned: a 2xx resets its backoff,
 * a 429 starts one (luno_budget.h). Callers then act on the verdict.
 *
 * Secrets: the key id and secret go to libcurl only as CURLOPT_USERNAME /
 * CURLOPT_PASSWORD; nothing here logs.
 *
 * Owner: the thread that owns the handle (tick thread for the feed,
 * executor thread for the venue); the budget is shared (atomics).
 */
#ifndef IG_LUNO_LUNO_HTTP_H
#define IG_LUNO_LUNO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "luno/luno_budget.h"
#include "luno/luno_json.h"

#define IG_LUNO_USER_AGENT "ingenium/1"

/* A reply body, filled by libcurl up to cap bytes (one more for a NUL). */
struct ig_luno_body {
	char *data;        /* cap + 1 bytes */
	size_t len;
	size_t cap;
	bool overflow;     /* the reply was larger than cap: the transfer was cut */
};

/* Allocates a body of cap bytes. Returns 0 or IG_ENOMEM. */
int ig_luno_body_init(struct ig_luno_body *b, size_t cap);
void ig_luno_body_free(struct ig_luno_body *b);

/* One request's setup (ig_luno_http_prepare). */
struct ig_luno_http_req {
	const char *url;
	const char *post;            /* form body; NULL = GET */
	const char *user;            /* basic auth; NULL = none (public endpoints) */
	const char *password;
	int64_t connect_timeout_ms;
	int64_t timeout_ms;          /* the whole request */
	struct ig_luno_body *rx;     /* the reply goes here (emptied) */
	char *errbuf;                /* CURL_ERROR_SIZE bytes for curl's detail, or NULL */
	void *priv;                  /* CURLOPT_PRIVATE, or NULL */
};

/* Copies the environment variable `name` (venue.<key> names it: key_id_env
 * or secret_env) into dst. Returns 0, or IG_ECONFIG with err saying which
 * key and variable and why (none named, not set, empty, longer than
 * cap - 1) and `why` appended ("" for none); the value itself never
 * appears in err. */
int ig_luno_read_env(const char *key, const char *name, const char *why, char *dst, size_t cap,
		     char *err, size_t errlen);

/* Checks a base URL (http(s)://host[:port][/prefix], no credentials, no
 * spaces, query or fragment, short enough for the longest request) and
 * copies it to dst without trailing '/'. Returns 0, or IG_ECONFIG with err
 * naming venue.base_url. */
int ig_luno_http_base(const char *url, char *dst, size_t cap, char *err, size_t errlen);

/* Writes base + the formatted path to dst. Returns 0, or IG_ERANGE if it
 * did not fit (dst then holds a cut URL that must not be used). */
__attribute__((format(printf, 4, 5))) int ig_luno_http_url(char *dst, size_t cap,
							  const char *base,
							  const char *path_fmt, ...);

/* A multi handle for up to max_conns connections to one host (keep-alive
 * connections stay in its cache). Returns the CURLM *, or NULL. */
void *ig_luno_http_multi(long max_conns);

/* Resets the easy handle and sets it up for rq: URL, GET or form POST,
 * basic auth when rq->user is set, connect and total timeouts, no signals,
 * TCP keep-alive, http(s) only with peer and host verification, our user
 * agent, and the reply into rq->rx. */
void ig_luno_http_prepare(void *easy, const struct ig_luno_http_req *rq);

enum ig_luno_verdict {
	IG_LUNO_R_OK = 0,
	IG_LUNO_R_TRANSPORT,
	IG_LUNO_R_TOO_LARGE,
	IG_LUNO_R_THROTTLED,
	IG_LUNO_R_CLIENT,
	IG_LUNO_R_SERVER,
	IG_LUNO_R_UNEXPECTED,
	IG_LUNO_R_MALFORMED,
};

/* What came back, in the terms the handlers need. */
struct ig_luno_reply {
	enum ig_luno_verdict verdict;
	int res;                     /* CURLcode */
	long status;                 /* HTTP status, 0 if none */
	bool sent;                   /* the request may have reached Luno */
	bool parsed_err;             /* err holds Luno's error body (status >= 400) */
	struct ig_luno_error err;
	const char *body;            /* NUL-terminated */
	size_t len;
	int64_t rtt_ns;              /* curl's total time; 0 if unknown */
	int64_t backoff_ns;          /* IG_LUNO_R_THROTTLED: the budget's backoff */
};

/* The reply gate (above): classifies the finished transfer on easy (curl
 * result res, body rx) into *rp and reports to the budget b (at now_ns,
 * jitter from rng). Returns rp->verdict. */
enum ig_luno_verdict ig_luno_reply_gate(struct ig_luno_reply *rp, void *easy, int res,
					struct ig_luno_body *rx, struct ig_luno_budget *b,
					int64_t now_ns, uint64_t *rng);

/* A 2xx whose body the caller's parser answered parse_rc for: MALFORMED
 * unless parse_rc is 0. Returns rp->verdict. */
enum ig_luno_verdict ig_luno_reply_parsed(struct ig_luno_reply *rp, int parse_rc);

/* Formats a message into err (errlen bytes; err may be NULL) and returns
 * rc: the Luno module's one way to fail with a reason. */
__attribute__((format(printf, 4, 5))) int ig__luno_errf(char *err, size_t errlen, int rc,
							 const char *fmt, ...);

#endif
