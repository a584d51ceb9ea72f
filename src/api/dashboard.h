/*
 * dashboard.h - the web dashboard's static files over the API's HTTP
 * server: GET / (index.html) and GET /static/NAME, from the table
 * embedded at build time (www.h). No token: the files hold no data; the
 * page itself sends the token with every data call (docs/api.md,
 * "Dashboard").
 *
 * Owner: the API thread (the table is read-only).
 */
#ifndef IG_API_DASHBOARD_H
#define IG_API_DASHBOARD_H

#include <stdbool.h>

#include <microhttpd.h>

#include "api/www.h"

/* The Content-Security-Policy every dashboard answer carries. */
#define IG_DASH_CSP                                                                           \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "           \
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "        \
	"frame-ancestors 'none'"

/* Returns true if url (the path, query removed) is the dashboard's: "/"
 * or anything under "/static/". */
bool ig_dash_path(const char *url);

/* Returns the embedded file url names ("/" is index.html, "/static/NAME"
 * the file NAME, by exact match only: no decoding, no normalisation, so
 * "..", "//", "%2e" or "\\" never reach anything), or NULL. */
const struct ig_www_file *ig_dash_lookup(const char *url);

/* Answers a GET or HEAD of a dashboard path (ig_dash_path): 200 with the
 * file and the security headers, 404 if there is no such file, 405 for
 * another method. Returns libmicrohttpd's result. */
enum MHD_Result ig_dash_serve(struct MHD_Connection *c, const char *method, const char *url);

#endif
