/*
 * fuzz_util.h - shared helpers of the libFuzzer harnesses: a private
 * scratch directory for harnesses whose code under test reads a file, and
 * writing one input there. Header-only (static functions) so each harness
 * is one translation unit.
 */
#ifndef IG_FUZZ_UTIL_H
#define IG_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static char fz_dir[512];

/* A promise the code under test broke (an invariant the harness checks
 * beyond what the sanitizers see): abort, so libFuzzer keeps the input. */
#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "%s: broken promise: %s\n", __FILE__, #c); \
			abort();                                                  \
		}                                                                 \
	} while (0)

/* Removes the scratch directory (it is empty between inputs). */
static inline void fz_cleanup(void)
{
	if (fz_dir[0] != '\0')
		rmdir(fz_dir);
	fz_dir[0] = '\0';
}

/* Silences the logger and makes the scratch directory under $TMPDIR (or
 * /tmp), removed at exit. Aborts if it cannot: a harness that cannot write
 * its input tests nothing. */
static inline void fz_init(const char *name)
{
	const char *base = getenv("TMPDIR");

	ig_log_set_level(IG_LOG_OFF);
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(fz_dir, sizeof(fz_dir), "%s/ig_fuzz_%s_XXXXXX", base, name);
	if (mkdtemp(fz_dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fz_cleanup);
}

/* Writes data[0..len) to the scratch file named leaf; path receives its
 * path. Aborts on failure. */
static inline void fz_write(const char *leaf, const uint8_t *data, size_t len, char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", fz_dir, leaf);
	f = fopen(path, "wb");
	if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
		perror("fuzz: write input");
		abort();
	}
}

#endif
