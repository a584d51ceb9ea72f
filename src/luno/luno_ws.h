/*
 * luno_ws.h - what every Luno websocket client shares (the user stream in
 * luno_user.c, and the market stream in luno_stream.c): the stream URL from
 * the venue's config, the credentials message, the reconnect backoff, and
 * libwebsockets' log routed through ig_log.
 *
 * Pure functions, any thread, except ig_luno_ws_log_setup (process-wide).
 */
#ifndef IG_LUNO_LUNO_WS_H
#define IG_LUNO_LUNO_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IG_LUNO_WS_URL_MAX 512
#define IG_LUNO_WS_HOST_MAX 256

struct lws; /* libwebsockets */

/* Returns NULL if url is "" or a usable ws:// or wss:// URL: a host (a
 * name, an address or an [IPv6] address), a port 1-65535 if any, no
 * credentials, query, fragment, blank, control or non-ASCII character,
 * shorter than IG_LUNO_WS_URL_MAX; else what is wrong (a static string
 * that never quotes the URL). The check of venue.stream_url. */
const char *ig_luno_ws_url_problem(const char *url);

/*
 * The websocket URL of `path` ("/api/1/userstream"): stream_url when it is
 * not empty (ws:// or wss://, trailing '/' dropped), else base_url with
 * http:// -> ws:// and https:// -> wss://, where Luno's default base_url
 * (IG_CFG_DEFAULT_VENUE_BASE_URL) means IG_CFG_DEFAULT_STREAM_URL. The one
 * place that decides a stream's URL (user stream and market stream). The
 * result passes ig_luno_ws_url_problem. Returns 0, or IG_ECONFIG with err
 * saying why (a scheme other than those, or what
 * ig_luno_ws_url_problem finds), never quoting the URL.
 */
int ig_luno_ws_url(const char *base_url, const char *stream_url, const char *path, char *out,
		   size_t cap, char *err, size_t errlen);

/* A ws:// or wss:// URL split for lws_client_connect_via_info: tls for
 * wss, host (an IPv6 address without its brackets), port (the scheme's
 * default when absent) and the path ("/" if none). Returns 0, or
 * IG_ECONFIG for a URL ig_luno_ws_url_problem refuses or parts that do
 * not fit. */
int ig_luno_ws_split(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *path,
		     size_t path_cap);

/* The first message of a Luno stream: {"api_key_id":"..","api_key_secret":".."},
 * JSON-escaped. Returns its length, or -1 when it does not fit in cap. The
 * caller wipes buf after sending it (explicit_bzero). */
int ig_luno_ws_auth_msg(const char *key_id, const char *secret, char *buf, size_t cap);

/* Sends the credentials message on wsi (built at buf + LWS_PRE, cap bytes
 * in all) and wipes all of buf, sent or not. Returns 0, or -1 when it did
 * not fit or lws_write failed (close the connection). */
int ig_luno_ws_send_auth(struct lws *wsi, const char *key_id, const char *secret, unsigned char *buf,
			 size_t cap);

/* The wait before reconnect attempt `failures` (1 = the first after a
 * drop): base_ms doubled per failure up to max_ms, then "equal jitter":
 * half of it fixed, the other half drawn from *rng (splitmix64). Returns
 * ms, in [d/2, d] with d = min(base << (failures-1), max). */
int64_t ig_luno_ws_backoff_ms(unsigned failures, int64_t base_ms, int64_t max_ms, uint64_t *rng);

/* Routes libwebsockets' errors and warnings (never its notices or debug
 * output, which can show payloads) to ig_log (error and warning level),
 * made printable and cut at 200 characters. lws_set_log_level is
 * process-wide: this sets it once for every stream (later calls do
 * nothing). */
void ig_luno_ws_log_setup(void);

/*
 * A stream thread's waker: the function (and its argument) it calls after
 * it gave the engine's thread something to do, so that thread need not
 * poll. Set by the main thread at any time, even while the stream thread
 * calls it: a sequence lock (seq odd while set writes the pair) makes sure
 * a wake never goes to one function with another's argument. Every access
 * is sequentially consistent (no standalone fences, which TSan cannot
 * follow): the second read of seq cannot move before the pair's.
 *
 * Owner: set by one thread (the main thread); called by the stream thread.
 */
struct ig_luno_ws_wake {
	uint32_t seq;          /* odd while ig_luno_ws_wake_set writes */
	void (*fn)(void *);
	void *arg;
};

/* Sets the pair (fn NULL = nobody to wake). One writer at a time. */
void ig_luno_ws_wake_set(struct ig_luno_ws_wake *w, void (*fn)(void *), void *arg);

/* True if a function is set (relaxed: a hint for polling, not a
 * handshake). Any thread. */
bool ig_luno_ws_wake_armed(const struct ig_luno_ws_wake *w);

/* Calls the pair's function, if any, with its own argument. Any thread. */
void ig_luno_ws_wake_call(struct ig_luno_ws_wake *w);

#endif
