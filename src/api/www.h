/*
 * www.h - the dashboard's static files, embedded in the binary at build
 * time (tools/embed.c turns src/api/www/ into build/.../gen/www.c).
 *
 * Read-only data; any thread.
 */
#ifndef IG_API_WWW_H
#define IG_API_WWW_H

#include <stddef.h>

struct ig_www_file {
	const char *name;           /* "app.js": a plain file name */
	const char *type;           /* its Content-Type */
	const unsigned char *bytes; /* len bytes (a NUL follows, not counted) */
	size_t len;
};

extern const struct ig_www_file ig_www_files[];
extern const size_t ig_www_nfiles;

#endif
