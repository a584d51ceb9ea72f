/* jtest.c - file helpers the journal tests share (see jtest.h). */
#include "jtest.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void jt_rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			jt_rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

uint8_t *jt_read_all(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *b;
	long sz;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	sz = ftell(fp);
	assert_true(sz >= 0);
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	b = malloc((size_t)sz + 1);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	*n = (size_t)sz;
	return b;
}

void jt_write_all(const char *path, const void *b, size_t n)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	if (n > 0)
		assert_int_equal(fwrite(b, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}
