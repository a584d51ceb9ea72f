/*
 * jtest.h - file helpers the journal tests share (test/journal/).
 *
 * Owner: the test's thread.
 */
#ifndef IG_TEST_JTEST_H
#define IG_TEST_JTEST_H

#include <stddef.h>
#include <stdint.h>

/* Removes dir and everything below it (best effort). */
void jt_rm_tree(const char *dir);

/* The whole file at path, malloc'd (caller frees), its size in *n; fails
 * the test if it cannot be read. */
uint8_t *jt_read_all(const char *path, size_t *n);

/* Replaces the file at path with the n bytes at b; fails the test on error. */
void jt_write_all(const char *path, const void *b, size_t n);

#endif
