/* dashboard.c - the dashboard's embedded static files (see dashboard.h). */
#include "api/dashboard.h"

#include <stdint.h>
#include <string.h>

#define STATIC_PREFIX "/static/"

bool ig_dash_path(const char *url)
{
	return strcmp(url, "/") == 0 || strncmp(url, STATIC_PREFIX, sizeof(STATIC_PREFIX) - 1) == 0;
}

const struct ig_www_file *ig_dash_lookup(const char *url)
{
	const char *name;

	if (strcmp(url, "/") == 0)
		name = "index.html";
	else if (strncmp(url, STATIC_PREFIX, sizeof(STATIC_PREFIX) - 1) == 0)
		name = url + sizeof(STATIC_PREFIX) - 1;
	else
		return NULL;
	for (size_t i = 0; i < ig_www_nfiles; i++)
		if (strcmp(ig_www_files[i].name, name) == 0)
			return &ig_www_files[i];
	return NULL;
}

/* Queues body (static, len bytes) with status, type and the security
 * headers; cache is the Cache-Control value. Returns MHD's result. */
static enum MHD_Result send_static(struct MHD_Connection *c, unsigned status, const char *type,
				   const void *body, size_t len, const char *cache)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", cache);
	MHD_add_response_header(r, "Content-Security-Policy", IG_DASH_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

enum MHD_Result ig_dash_serve(struct MHD_Connection *c, const char *method, const char *url)
{
	static const char not_found[] = "{\"error\":\"not found\"}";
	static const char bad_method[] = "{\"error\":\"method not allowed\"}";
	const struct ig_www_file *f;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return send_static(c, 405, "application/json", bad_method, sizeof(bad_method) - 1,
				   "no-store");
	f = ig_dash_lookup(url);
	if (f == NULL)
		return send_static(c, 404, "application/json", not_found, sizeof(not_found) - 1,
				   "no-store");
	/* The page is never cached (it is where a session starts); the
	 * files it loads are revalidated each time (a new binary may serve
	 * new ones). */
	return send_static(c, 200, f->type, f->bytes, f->len,
			   strcmp(url, "/") == 0 ? "no-store" : "no-cache");
}
