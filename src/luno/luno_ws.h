/*
 * luno_ws.h - what every Luno websocket client shares (the user stream in
 * luno_user.c, and the market stream may use it too): the stream URL from
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

/*
 * The websocket URL of `path` ("/api/1/userstream"): stream_url when it is
 * not empty (ws:// or wss://, trailing '/' dropped), else base_url with
 * http:// -> ws:// and https:// -> wss://. The one place that decides the
 * stream base. Returns 0, or IG_ECONFIG with err saying why (a scheme
 * other than those, credentials in the URL, too long).
 */
int ig_luno_ws_url(const char *base_url, const char *stream_url, const char *path, char *out,
		   size_t cap, char *err, size_t errlen);

/* A ws:// or wss:// URL split for lws_client_connect_via_info: tls for
 * wss, host, port (the scheme's default when absent) and the path with
 * its query ("/" if none). Returns 0 or IG_ECONFIG. */
int ig_luno_ws_split(const char *url, bool *tls, char *host, size_t host_cap, int *port, char *path,
		     size_t path_cap);

/* The first message of a Luno stream: {"api_key_id":"..","api_key_secret":".."},
 * JSON-escaped. Returns its length, or -1 when it does not fit in cap. The
 * caller wipes buf after sending it (explicit_bzero). */
int ig_luno_ws_auth_msg(const char *key_id, const char *secret, char *buf, size_t cap);

/* The wait before reconnect attempt `failures` (1 = the first after a
 * drop): base_ms doubled per failure up to max_ms, then "equal jitter":
 * half of it fixed, the other half drawn from *rng (splitmix64). Returns
 * ms, in [d/2, d] with d = min(base << (failures-1), max). */
int64_t ig_luno_ws_backoff_ms(unsigned failures, int64_t base_ms, int64_t max_ms, uint64_t *rng);

/* Routes libwebsockets' errors and warnings (never its notices or debug
 * output, which can show payloads) to ig_log at warning level, made
 * printable and cut at 200 characters. Process-wide; idempotent. */
void ig_luno_ws_log_setup(void);

#endif
