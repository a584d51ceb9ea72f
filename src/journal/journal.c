/*
 * journal.c - the journal writer and readers (format and scheme: journal.h).
 *
 * Writer
 * ------
 * Appends encode the 20-byte record header and copy the payload into one
 * preallocated buffer; the CRC is computed there, in place. A flush is one
 * pwrite loop at the segment's tracked end offset, so a short write or an
 * error leaves the unwritten bytes in the buffer and a retry rewrites them
 * at the same place: the file never gets a hole or a duplicate. Only a
 * record bigger than the whole buffer (a large SNAPSHOT) bypasses it; if
 * that write fails the file is truncated back to where the record began.
 *
 * Durability bookkeeping: written_seq is the last seq handed to the file,
 * durable_seq the last one covered by a successful fdatasync. fdatasync is
 * enough for an append-only file: it also writes the inode size that the
 * new data needs. A failed fdatasync is sticky (j->err): after one, Linux
 * may have marked the dirty pages clean, so no later success can be
 * trusted (PostgreSQL's "fsyncgate", 2018).
 *
 * Rotation syncs the old segment before the new one is created, so a
 * record in segment N+1 can never be durable while one before it in N is
 * not, and a crash can only tear the last segment. A new segment is made
 * with O_EXCL, its header written and fdatasync'd, and the directory
 * fsync'd, before any record goes in.
 *
 * Readers
 * -------
 * One scanner serves replay, verify and the writer's open. It reads
 * through a window buffer with pread (never mmap: a file truncated under
 * a mapping raises SIGBUS, and readers must survive any file). A length
 * is believed only after it is checked against IG_JOURNAL_MAX_PAYLOAD and
 * the file's size, so a corrupt length can neither overrun the buffer nor
 * make it allocate more than the file holds. The order of checks is
 * length, presence of the payload, CRC, type, sequence; the callback sees
 * a record only after all of them pass.
 */
#include "journal/journal.h"

#include "core/clock.h"
#include "ingenium/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HDR IG_JOURNAL_HEADER_BYTES
#define RHDR IG_JOURNAL_RECORD_HEADER_BYTES
#define WIN_INIT ((size_t)1 << 20)

/* ---- little-endian encoding ------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- names ------------------------------------------------------------- */

const char *ig_journal_type_name(int type)
{
	switch (type) {
#define IG__JT_STR(name, code, str) \
	case code:                  \
		return str;
		IG_JOURNAL_TYPE_MAP(IG__JT_STR)
#undef IG__JT_STR
	default:
		return "unknown";
	}
}

const char *ig_journal_stop_name(int stop)
{
	static const char *const names[IG_JOURNAL__STOP_COUNT] = {
#define IG__JS_STR(name, str) str,
		IG_JOURNAL_STOP_MAP(IG__JS_STR)
#undef IG__JS_STR
	};
	if (stop < 0 || stop >= IG_JOURNAL__STOP_COUNT)
		return "unknown";
	return names[stop];
}

static bool type_valid(uint32_t type)
{
	return type >= 1 && type < IG_JR__COUNT;
}

/* ---- paths and segment discovery ------------------------------------- */

int ig_journal_segment_path(const char *path, uint32_t seg, char *buf, size_t cap)
{
	int n;

	if (seg == 0)
		n = snprintf(buf, cap, "%s", path);
	else
		n = snprintf(buf, cap, "%s.%u", path, seg);
	if (n < 0 || (size_t)n >= cap)
		return IG_ERANGE;
	return 0;
}

/* The directory part of path ("." if none) into buf; the base name via
 * *base (a pointer into path). */
static int split_path(const char *path, char *buf, size_t cap, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL) {
		*base = path;
		if (cap < 2)
			return IG_ERANGE;
		strcpy(buf, ".");
		return 0;
	}
	*base = slash + 1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n + 1 > cap)
		return IG_ERANGE;
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/* Parses "N" of "BASE.N": decimal, 1..IG_JOURNAL_MAX_SEGMENT, no leading
 * zero. */
static bool parse_seg(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (*s < '1' || *s > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > IG_JOURNAL_MAX_SEGMENT)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Lists the segment indexes of the journal at path, ascending, into a
 * malloc'd array (*out, freed by the caller; NULL when *n is 0). Returns 0,
 * IG_EINVAL (empty base name), IG_ENOENT (no directory), IG_EIO, IG_ENOMEM. */
static int list_segments(const char *path, uint32_t **out, size_t *n)
{
	char dir[4096];
	const char *base;
	size_t blen, cap = 0;
	uint32_t *v = NULL;
	DIR *d;
	struct dirent *e;
	int rc;

	*out = NULL;
	*n = 0;
	rc = split_path(path, dir, sizeof(dir), &base);
	if (rc != 0)
		return IG_EINVAL;
	blen = strlen(base);
	if (blen == 0)
		return IG_EINVAL;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT || errno == ENOTDIR ? IG_ENOENT : IG_EIO;
	while ((e = readdir(d)) != NULL) {
		uint32_t seg;
		if (strncmp(e->d_name, base, blen) != 0)
			continue;
		if (e->d_name[blen] == '\0')
			seg = 0;
		else if (e->d_name[blen] != '.' || !parse_seg(e->d_name + blen + 1, &seg))
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			uint32_t *nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return IG_ENOMEM;
			}
			v = nv;
			cap = ncap;
		}
		v[(*n)++] = seg;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_u32);
	*out = v;
	return 0;
}

/* ---- segment header ---------------------------------------------------- */

struct seg_hdr {
	uint32_t segment;
	uint64_t created_ns;
	uint64_t run_epoch;
	uint64_t first_seq;
};

static void hdr_encode(uint8_t b[HDR], const struct seg_hdr *h)
{
	memset(b, 0, HDR);
	memcpy(b, IG_JOURNAL_MAGIC, 8);
	put16(b + 8, IG_JOURNAL_VERSION);
	put16(b + 10, HDR);
	put32(b + 12, h->segment);
	put64(b + 16, h->created_ns);
	put64(b + 24, h->run_epoch);
	put64(b + 32, h->first_seq);
	put32(b + 60, ig_crc32c(0, b, 60));
}

/* n bytes at b are the start of a file that holds fewer than HDR bytes (or
 * only zeros): a segment whose creation was torn, or not ours at all. */
static bool torn_creation(const uint8_t *b, size_t n)
{
	size_t i;
	for (i = 0; i < n && b[i] == 0; i++)
		;
	if (i == n)
		return true;
	return memcmp(b, IG_JOURNAL_MAGIC, n < 8 ? n : 8) == 0;
}

/* Checks the header in b (n bytes present, file size size). Returns
 * IG_JOURNAL_CLEAN, SHORT_HEADER or BAD_HEADER. */
static int hdr_check(const uint8_t *b, size_t n, uint64_t size, struct seg_hdr *h)
{
	if (n < HDR)
		return torn_creation(b, n) ? IG_JOURNAL_SHORT_HEADER : IG_JOURNAL_BAD_HEADER;
	if (memcmp(b, IG_JOURNAL_MAGIC, 8) != 0 || get16(b + 8) != IG_JOURNAL_VERSION ||
	    get16(b + 10) != HDR || get32(b + 60) != ig_crc32c(0, b, 60)) {
		/* An all-zero file of exactly HDR bytes: the size reached the
		 * disk, the header did not. */
		if (size == HDR && torn_creation(b, HDR) && b[0] == 0)
			return IG_JOURNAL_SHORT_HEADER;
		return IG_JOURNAL_BAD_HEADER;
	}
	h->segment = get32(b + 12);
	h->created_ns = get64(b + 16);
	h->run_epoch = get64(b + 24);
	h->first_seq = get64(b + 32);
	if (h->first_seq == 0)
		return IG_JOURNAL_BAD_HEADER;
	return IG_JOURNAL_CLEAN;
}

/* ---- read window ------------------------------------------------------- */

/* A window [off, off + len) of one file in p[0..len). Owner: one reader. */
struct win {
	uint8_t *p;
	size_t cap;   /* bytes at p */
	size_t len;   /* valid bytes */
	uint64_t off; /* file offset of p[0] */
};

/* Makes the window hold [off, off + need) if the file has it. Stores the
 * bytes available from off (up to need) in *avail and a pointer to them in
 * *out. Returns 0, IG_EIO or IG_ENOMEM. */
static int win_get(struct win *w, int fd, uint64_t off, size_t need, const uint8_t **out,
		   size_t *avail)
{
	if (off < w->off || off > w->off + w->len) {
		w->off = off;
		w->len = 0;
	} else if (off + need > w->off + w->len) {
		size_t skip = (size_t)(off - w->off);
		if (skip > 0 && w->len > skip)
			memmove(w->p, w->p + skip, w->len - skip);
		w->len -= skip;
		w->off = off;
	}
	if (off + need > w->off + w->len) {
		if (need > w->cap) {
			size_t ncap = w->cap ? w->cap : WIN_INIT;
			uint8_t *np;
			while (ncap < need)
				ncap *= 2;
			np = realloc(w->p, ncap);
			if (np == NULL)
				return IG_ENOMEM;
			w->p = np;
			w->cap = ncap;
		}
		while (w->len < need) {
			ssize_t r = pread(fd, w->p + w->len, w->cap - w->len,
					  (off_t)(w->off + w->len));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return IG_EIO;
			if (r == 0)
				break;
			w->len += (size_t)r;
		}
	}
	{
		size_t have = (size_t)(w->off + w->len - off);
		*avail = have < need ? have : need;
		*out = w->p + (off - w->off);
	}
	return 0;
}

static uint64_t file_size(int fd)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < 0)
		return 0;
	return (uint64_t)st.st_size;
}

/* ---- segment scanner --------------------------------------------------- */

struct scan {
	struct seg_hdr hdr;
	int stop;           /* enum ig_journal_stop */
	uint64_t good_end;  /* offset after the last good record (HDR if none; 0 if header bad) */
	uint64_t size;      /* file size when it stopped */
	uint64_t records;
	uint64_t first_seq; /* 0 if none */
	uint64_t last_seq;  /* 0 if none */
	uint64_t bad_seq;
	int cb_rc;          /* callback's non-zero value */
};

/*
 * Scans the segment open at fd (index seg). expect_seq: the seq its first
 * record must have (0: whatever its header says). Calls fn (may be NULL)
 * for each good record. Returns 0 (see s->stop), IG_EIO or IG_ENOMEM.
 */
static int scan_segment(int fd, uint32_t seg, uint64_t expect_seq, struct win *w,
			ig_journal_fn fn, void *arg, struct scan *s)
{
	const uint8_t *p;
	size_t avail;
	uint64_t off, expect;
	int rc;

	memset(s, 0, sizeof(*s));
	s->size = file_size(fd);
	w->len = 0;
	w->off = 0;
	rc = win_get(w, fd, 0, HDR, &p, &avail);
	if (rc != 0)
		return rc;
	s->stop = hdr_check(p, avail, s->size, &s->hdr);
	if (s->stop != IG_JOURNAL_CLEAN)
		return 0;
	if (expect_seq != 0 && s->hdr.first_seq != expect_seq) {
		s->stop = IG_JOURNAL_SEQ_GAP;
		s->bad_seq = s->hdr.first_seq;
		return 0;
	}
	expect = s->hdr.first_seq;
	off = HDR;
	s->good_end = off;
	for (;;) {
		uint32_t len, crc;
		uint16_t type;
		uint64_t seq;

		rc = win_get(w, fd, off, RHDR, &p, &avail);
		if (rc != 0)
			return rc;
		if (avail == 0)
			break;
		if (avail < RHDR) {
			s->stop = IG_JOURNAL_SHORT_RECORD;
			break;
		}
		len = get32(p);
		type = get16(p + 4);
		seq = get64(p + 8);
		crc = get32(p + 16);
		if (len > IG_JOURNAL_MAX_PAYLOAD) {
			s->stop = IG_JOURNAL_BAD_LENGTH;
			break;
		}
		if (off + RHDR + len > s->size) {
			/* The file may have grown since: ask once more before
			 * calling the record short. */
			s->size = file_size(fd);
			if (off + RHDR + len > s->size) {
				s->stop = IG_JOURNAL_SHORT_PAYLOAD;
				break;
			}
		}
		rc = win_get(w, fd, off, RHDR + (size_t)len, &p, &avail);
		if (rc != 0)
			return rc;
		if (avail < RHDR + (size_t)len) {
			s->stop = IG_JOURNAL_SHORT_PAYLOAD;
			break;
		}
		if (ig_crc32c(ig_crc32c(0, p, 16), p + RHDR, len) != crc) {
			s->stop = IG_JOURNAL_BAD_CRC;
			break;
		}
		if (!type_valid(type)) {
			s->stop = IG_JOURNAL_BAD_TYPE;
			break;
		}
		if (seq != expect) {
			s->stop = IG_JOURNAL_SEQ_GAP;
			s->bad_seq = seq;
			break;
		}
		s->records++;
		if (s->first_seq == 0)
			s->first_seq = seq;
		s->last_seq = seq;
		s->good_end = off + RHDR + len;
		if (fn != NULL) {
			struct ig_journal_record r = {
				.seq = seq,
				.type = type,
				.flags = get16(p + 6),
				.len = len,
				.payload = p + RHDR,
				.segment = seg,
				.offset = off,
				.run_epoch = s->hdr.run_epoch,
			};
			int cb = fn(&r, arg);
			if (cb != 0) {
				/* The record was delivered: it counts. */
				s->cb_rc = cb;
				s->stop = IG_JOURNAL_CALLBACK;
				break;
			}
		}
		off = s->good_end;
		expect = seq + 1;
	}
	if (s->stop == IG_JOURNAL_CLEAN || s->stop == IG_JOURNAL_CALLBACK)
		return 0;
	s->size = file_size(fd);
	if (s->size < s->good_end)
		s->size = s->good_end;
	return 0;
}

/* ---- readers ----------------------------------------------------------- */

static void set_file(struct ig_journal_report *rep, const char *path, uint32_t seg)
{
	/* A path too long for the report is kept truncated. */
	(void)ig_journal_segment_path(path, seg, rep->file, sizeof(rep->file));
	rep->bad_segment = seg;
}

static uint64_t path_size(const char *path, uint32_t seg)
{
	char buf[4096];
	struct stat st;
	if (ig_journal_segment_path(path, seg, buf, sizeof(buf)) != 0 || stat(buf, &st) != 0 ||
	    st.st_size < 0)
		return 0;
	return (uint64_t)st.st_size;
}

static int open_segment_ro(const char *path, uint32_t seg)
{
	char buf[4096];
	struct stat st;
	int fd;

	if (ig_journal_segment_path(path, seg, buf, sizeof(buf)) != 0)
		return -1;
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

int ig_journal_replay(const char *path, ig_journal_fn fn, void *arg,
		      struct ig_journal_report *rep)
{
	struct ig_journal_report local;
	struct win w = {0};
	uint32_t *segs = NULL;
	size_t nsegs = 0;
	uint64_t expect = 0;
	int rc;

	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (path == NULL)
		return IG_EINVAL;
	rc = list_segments(path, &segs, &nsegs);
	if (rc != 0)
		return rc;
	if (nsegs == 0) {
		free(segs);
		return IG_ENOENT;
	}
	rep->segments = (uint32_t)nsegs;
	rep->first_segment = segs[0];
	rep->last_segment = segs[nsegs - 1];
	for (size_t i = 0; i < nsegs; i++) {
		struct scan s;
		int fd = open_segment_ro(path, segs[i]);

		if (fd < 0) {
			set_file(rep, path, segs[i]);
			rc = IG_EIO;
			break;
		}
		rc = scan_segment(fd, segs[i], expect, &w, fn, arg, &s);
		close(fd);
		rep->records += s.records;
		if (s.records > 0) {
			if (rep->first_seq == 0)
				rep->first_seq = s.first_seq;
			rep->last_seq = s.last_seq;
		}
		if (rc != 0) {
			set_file(rep, path, segs[i]);
			break;
		}
		if (s.good_end > 0) {
			rep->bytes_good += s.good_end;
			rep->run_epoch = s.hdr.run_epoch;
		}
		rep->stop = s.stop;
		if (s.stop == IG_JOURNAL_CALLBACK) {
			rc = s.cb_rc;
			break;
		}
		if (s.stop != IG_JOURNAL_CLEAN) {
			set_file(rep, path, segs[i]);
			rep->bad_offset = s.good_end;
			rep->bad_seq = s.bad_seq;
			rep->bytes_dropped = s.size - s.good_end;
			for (size_t k = i + 1; k < nsegs; k++) {
				rep->bytes_dropped += path_size(path, segs[k]);
				rep->files_dropped++;
			}
			break;
		}
		expect = s.records > 0 ? s.last_seq + 1 : s.hdr.first_seq;
	}
	free(w.p);
	free(segs);
	return rc;
}

int ig_journal_verify(const char *path, struct ig_journal_report *rep)
{
	return ig_journal_replay(path, NULL, NULL, rep);
}

int ig_journal_record_event(const struct ig_journal_record *rec, struct ig_event *ev)
{
	if (rec->len != sizeof(*ev))
		return IG_EPARSE;
	memcpy(ev, rec->payload, sizeof(*ev));
	return 0;
}

void ig_journal_report_format(const struct ig_journal_report *rep, char *buf, size_t cap)
{
	if (rep->stop == IG_JOURNAL_CLEAN) {
		snprintf(buf, cap,
			 "clean: %" PRIu64 " records, seq %" PRIu64 "..%" PRIu64
			 ", %u segment file(s), %" PRIu64 " bytes",
			 rep->records, rep->first_seq, rep->last_seq, rep->segments,
			 rep->bytes_good);
		return;
	}
	snprintf(buf, cap,
		 "stopped: %s in %s at offset %" PRIu64 "%s: %" PRIu64
		 " bytes dropped (%u later file(s)); %" PRIu64 " good records, last good seq %" PRIu64,
		 ig_journal_stop_name(rep->stop), rep->file, rep->bad_offset,
		 rep->stop == IG_JOURNAL_SEQ_GAP ? " (sequence gap)" : "", rep->bytes_dropped,
		 rep->files_dropped, rep->records, rep->last_seq);
}

/* ---- writer ------------------------------------------------------------ */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off, size_t *done)
{
	const uint8_t *p = buf;

	*done = 0;
	while (*done < len) {
		ssize_t n = pwrite(fd, p + *done, len - *done, (off_t)(off + *done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return IG_EIO;
		*done += (size_t)n;
	}
	return 0;
}

static int datasync(int fd)
{
	int r;
	do
		r = fdatasync(fd);
	while (r != 0 && errno == EINTR);
	return r == 0 ? 0 : IG_EIO;
}

static int fsync_dir(int dir_fd)
{
	int r;
	do
		r = fsync(dir_fd);
	while (r != 0 && errno == EINTR);
	/* Some filesystems refuse fsync on a directory; nothing to do then. */
	if (r != 0 && (errno == EINVAL || errno == EBADF))
		return 0;
	return r == 0 ? 0 : IG_EIO;
}

/* Writes a fresh header (segment j->seg's index, first_seq) at offset 0 of
 * fd and makes it and the directory entry durable. */
static int write_header(struct ig_journal *j, int fd, uint32_t seg, uint64_t first_seq)
{
	uint8_t b[HDR];
	struct seg_hdr h = {
		.segment = seg,
		.created_ns = (uint64_t)ig_clock_real_ns(),
		.run_epoch = j->run_epoch,
		.first_seq = first_seq,
	};
	size_t done;

	hdr_encode(b, &h);
	if (pwrite_all(fd, b, HDR, 0, &done) != 0 || datasync(fd) != 0 || fsync_dir(j->dir_fd) != 0)
		return IG_EIO;
	return 0;
}

/* Creates segment seg (O_EXCL) with its header; stores the fd. On failure
 * removes what it created. j->seg_path holds seg's path afterwards only on
 * success. */
static int create_segment(struct ig_journal *j, uint32_t seg, uint64_t first_seq, int *fd_out)
{
	char *p = j->seg_path;
	int fd, rc;

	if (ig_journal_segment_path(j->path, seg, p, j->seg_path_cap) != 0)
		return IG_ERANGE;
	fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = errno == EEXIST ? IG_EEXIST : errno == ENOENT ? IG_ENOENT : IG_EIO;
		goto out_path;
	}
	rc = write_header(j, fd, seg, first_seq);
	if (rc != 0) {
		close(fd);
		unlink(p);
		goto out_path;
	}
	*fd_out = fd;
	return 0;

out_path:
	ig_journal_segment_path(j->path, j->seg, p, j->seg_path_cap);
	return rc;
}

static void report_from_scan(struct ig_journal_report *rep, const struct ig_journal *j,
			     const struct scan *s, uint32_t seg)
{
	rep->records = s->records;
	rep->first_seq = s->first_seq;
	rep->last_seq = s->last_seq;
	rep->bytes_good = s->good_end;
	rep->segments = 1;
	rep->first_segment = seg;
	rep->last_segment = seg;
	rep->run_epoch = s->hdr.run_epoch;
	rep->stop = s->stop;
	if (s->stop != IG_JOURNAL_CLEAN) {
		set_file(rep, j->path, seg);
		rep->bad_offset = s->good_end;
		rep->bad_seq = s->bad_seq;
		rep->bytes_dropped = s->size - s->good_end;
	}
}

/* Opens the existing segment seg for appending: scans it, truncates a torn
 * tail or rewrites a torn header. prev_seg is the segment below it (or -1).
 * Sets j->fd, seg_off, seg_records, next_seq. */
static int open_existing(struct ig_journal *j, uint32_t seg, int64_t prev_seg,
			 const struct ig_journal_opts *opts, struct ig_journal_report *rep)
{
	struct win w = {0};
	struct scan s;
	int fd, rc;

	if (ig_journal_segment_path(j->path, seg, j->seg_path, j->seg_path_cap) != 0)
		return IG_ERANGE;
	fd = open(j->seg_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? IG_ENOENT : IG_EIO;
	{
		struct stat st;
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = IG_EIO;
			goto out_close;
		}
	}
	rc = scan_segment(fd, seg, 0, &w, NULL, NULL, &s);
	if (rc != 0)
		goto out_close;
	report_from_scan(rep, j, &s, seg);
	switch (s.stop) {
	case IG_JOURNAL_CLEAN:
		break;
	case IG_JOURNAL_SHORT_RECORD:
	case IG_JOURNAL_BAD_LENGTH:
	case IG_JOURNAL_SHORT_PAYLOAD:
	case IG_JOURNAL_BAD_CRC:
		/* A torn tail: what a crash mid-write leaves. */
		if (ftruncate(fd, (off_t)s.good_end) != 0) {
			rc = IG_EIO;
			goto out_close;
		}
		break;
	case IG_JOURNAL_SHORT_HEADER: {
		/* A rotation torn before its header was durable: the
		 * segment holds no record; give it its header again. */
		uint64_t first = opts->first_seq ? opts->first_seq : 1;
		if (prev_seg >= 0) {
			struct scan ps;
			int pfd = open_segment_ro(j->path, (uint32_t)prev_seg);
			if (pfd < 0) {
				rc = IG_EIO;
				goto out_close;
			}
			rc = scan_segment(pfd, (uint32_t)prev_seg, 0, &w, NULL, NULL, &ps);
			close(pfd);
			if (rc != 0)
				goto out_close;
			if (ps.stop != IG_JOURNAL_CLEAN) {
				rc = IG_EPARSE;
				goto out_close;
			}
			first = ps.records > 0 ? ps.last_seq + 1 : ps.hdr.first_seq;
		}
		if (ftruncate(fd, 0) != 0) {
			rc = IG_EIO;
			goto out_close;
		}
		rc = write_header(j, fd, seg, first);
		if (rc != 0)
			goto out_close;
		s.hdr.first_seq = first;
		s.good_end = HDR;
		s.records = 0;
		break;
	}
	default:
		/* Not a torn write: a foreign file, or a good record out of
		 * place. Refuse, and change nothing. */
		rc = IG_EPARSE;
		goto out_close;
	}
	/* What the last process wrote may not have reached the disk. */
	if (datasync(fd) != 0) {
		rc = IG_EIO;
		goto out_close;
	}
	free(w.p);
	j->fd = fd;
	j->seg = seg;
	j->seg_off = s.good_end;
	j->seg_records = s.records;
	j->next_seq = s.records > 0 ? s.last_seq + 1 : s.hdr.first_seq;
	return 0;

out_close:
	free(w.p);
	close(fd);
	return rc;
}

int ig_journal_open(struct ig_journal *j, const char *path, const struct ig_journal_opts *opts,
		    struct ig_journal_report *rep)
{
	static const struct ig_journal_opts defaults = {0};
	struct ig_journal_report local;
	char dir[4096];
	const char *base;
	uint32_t *segs = NULL;
	size_t nsegs = 0, plen;
	int rc;

	if (rep == NULL)
		rep = &local;
	memset(rep, 0, sizeof(*rep));
	if (j == NULL || path == NULL)
		return IG_EINVAL;
	if (opts == NULL)
		opts = &defaults;
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->dir_fd = -1;
	plen = strlen(path);
	if (plen == 0 || split_path(path, dir, sizeof(dir), &base) != 0 || *base == '\0')
		return IG_EINVAL;
	j->max_bytes = opts->max_bytes;
	j->run_epoch = opts->run_epoch;
	j->buf_cap = opts->buf_bytes ? opts->buf_bytes : IG_JOURNAL_DEFAULT_BUF;
	if (j->buf_cap < IG_JOURNAL_MIN_BUF)
		j->buf_cap = IG_JOURNAL_MIN_BUF;

	rc = IG_ENOMEM;
	j->path = malloc(plen + 1);
	if (j->path == NULL)
		goto out;
	memcpy(j->path, path, plen + 1);
	j->seg_path_cap = plen + 16;
	j->seg_path = malloc(j->seg_path_cap);
	if (j->seg_path == NULL)
		goto out_free_path;
	j->buf = malloc(j->buf_cap);
	if (j->buf == NULL)
		goto out_free_seg_path;

	j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		rc = errno == ENOENT || errno == ENOTDIR ? IG_ENOENT : IG_EIO;
		goto out_free_buf;
	}
	rc = list_segments(path, &segs, &nsegs);
	if (rc != 0)
		goto out_close_dir;
	if (nsegs == 0) {
		uint64_t first = opts->first_seq ? opts->first_seq : 1;
		j->seg = 0;
		rc = create_segment(j, 0, first, &j->fd);
		if (rc != 0)
			goto out_free_segs;
		j->seg_off = HDR;
		j->next_seq = first;
		rep->segments = 1;
	} else {
		rc = open_existing(j, segs[nsegs - 1], nsegs > 1 ? (int64_t)segs[nsegs - 2] : -1,
				   opts, rep);
		if (rc != 0)
			goto out_free_segs;
		rep->segments = (uint32_t)nsegs;
		rep->first_segment = segs[0];
	}
	free(segs);
	j->written_seq = j->next_seq - 1;
	j->durable_seq = j->next_seq - 1;
	j->buf_last_seq = j->next_seq - 1;
	return 0;

out_free_segs:
	free(segs);
out_close_dir:
	close(j->dir_fd);
out_free_buf:
	free(j->buf);
out_free_seg_path:
	free(j->seg_path);
out_free_path:
	free(j->path);
out:
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->dir_fd = -1;
	return rc;
}

int ig_journal_flush(struct ig_journal *j)
{
	size_t done;
	int rc;

	if (j->err != 0)
		return j->err;
	if (j->buf_len == 0)
		return 0;
	rc = pwrite_all(j->fd, j->buf, j->buf_len, j->seg_off, &done);
	if (rc != 0) {
		/* Keep the unwritten rest at the front; a retry writes it at
		 * the right offset. */
		memmove(j->buf, j->buf + done, j->buf_len - done);
		j->buf_len -= done;
		j->seg_off += done;
		return rc;
	}
	j->seg_off += j->buf_len;
	j->buf_len = 0;
	j->written_seq = j->buf_last_seq;
	j->stats.flushes++;
	return 0;
}

int ig_journal_sync(struct ig_journal *j)
{
	int rc = ig_journal_flush(j);

	if (rc != 0)
		return rc;
	if (j->durable_seq == j->written_seq)
		return 0;
	if (datasync(j->fd) != 0) {
		j->err = IG_EIO;
		return j->err;
	}
	j->durable_seq = j->written_seq;
	j->stats.syncs++;
	return 0;
}

/* Syncs the current segment and starts segment seg + 1 (first_seq =
 * next_seq). On failure the writer stays on the old segment. */
static int rotate(struct ig_journal *j)
{
	int fd, rc;

	if (j->seg >= IG_JOURNAL_MAX_SEGMENT)
		return IG_ELIMIT;
	rc = ig_journal_sync(j);
	if (rc != 0)
		return rc;
	rc = create_segment(j, j->seg + 1, j->next_seq, &fd);
	if (rc != 0)
		return rc;
	close(j->fd);
	j->fd = fd;
	j->seg++;
	j->seg_off = HDR;
	j->seg_records = 0;
	j->stats.rotations++;
	return 0;
}

static void encode_record(uint8_t *h, uint16_t type, uint16_t flags, uint64_t seq,
			  const void *payload, uint32_t len)
{
	uint32_t crc;

	put32(h, len);
	put16(h + 4, type);
	put16(h + 6, flags);
	put64(h + 8, seq);
	crc = ig_crc32c(0, h, 16);
	put32(h + 16, ig_crc32c(crc, payload, len));
}

int ig_journal_append(struct ig_journal *j, enum ig_journal_type type, const void *payload,
		      uint32_t len, uint64_t *seq_out)
{
	return ig_journal_append_flags(j, type, 0, payload, len, seq_out);
}

int ig_journal_append_flags(struct ig_journal *j, enum ig_journal_type type, uint16_t flags,
			    const void *payload, uint32_t len, uint64_t *seq_out)
{
	size_t rec = RHDR + (size_t)len;
	uint64_t seq;
	int rc;

	if (j->err != 0)
		return j->err;
	if (!type_valid((uint32_t)type) || len > IG_JOURNAL_MAX_PAYLOAD ||
	    (payload == NULL && len > 0))
		return IG_EINVAL;
	if (j->max_bytes != 0 && j->seg_records > 0 && j->seg_off + j->buf_len >= j->max_bytes) {
		rc = rotate(j);
		if (rc != 0)
			return rc;
	}
	if (rec > j->buf_cap - j->buf_len) {
		rc = ig_journal_flush(j);
		if (rc != 0)
			return rc;
	}
	seq = j->next_seq;
	if (rec > j->buf_cap) {
		/* Bigger than the buffer (which is empty now): straight to the
		 * file, and cut it off again if that fails. */
		uint8_t h[RHDR];
		size_t done;

		encode_record(h, (uint16_t)type, flags, seq, payload, len);
		rc = pwrite_all(j->fd, h, RHDR, j->seg_off, &done);
		if (rc == 0)
			rc = pwrite_all(j->fd, payload, len, j->seg_off + RHDR, &done);
		if (rc != 0) {
			if (ftruncate(j->fd, (off_t)j->seg_off) != 0)
				j->err = IG_EIO;
			return rc;
		}
		j->seg_off += rec;
		j->written_seq = seq;
		j->buf_last_seq = seq;
		j->stats.flushes++;
	} else {
		uint8_t *h = j->buf + j->buf_len;
		if (len > 0)
			memcpy(h + RHDR, payload, len);
		encode_record(h, (uint16_t)type, flags, seq, h + RHDR, len);
		j->buf_len += rec;
		j->buf_last_seq = seq;
	}
	j->next_seq = seq + 1;
	j->seg_records++;
	j->stats.records++;
	j->stats.bytes += rec;
	if (seq_out != NULL)
		*seq_out = seq;
	return 0;
}

int ig_journal_append_event(struct ig_journal *j, enum ig_journal_type type,
			    const struct ig_event *ev, uint64_t *seq_out)
{
	struct ig_event copy;

	if (ev == NULL)
		return IG_EINVAL;
	memcpy(&copy, ev, sizeof(copy)); /* bytes, padding included */
	copy.hdr.seq = 0;
	return ig_journal_append(j, type, &copy, (uint32_t)sizeof(copy), seq_out);
}

int ig_journal_compact(struct ig_journal *j, const void *snapshot, uint32_t len,
		       uint64_t *seq_out)
{
	uint32_t *segs = NULL;
	size_t nsegs = 0;
	int rc;

	if (j->err != 0)
		return j->err;
	if (len > IG_JOURNAL_MAX_PAYLOAD || (snapshot == NULL && len > 0))
		return IG_EINVAL;
	rc = rotate(j);
	if (rc != 0)
		return rc;
	rc = ig_journal_append(j, IG_JR_SNAPSHOT, snapshot, len, seq_out);
	if (rc != 0)
		return rc;
	rc = ig_journal_sync(j);
	if (rc != 0)
		return rc;
	/* The snapshot is durable: everything below it may go. */
	rc = list_segments(j->path, &segs, &nsegs);
	if (rc != 0)
		return rc == IG_ENOMEM ? rc : IG_EIO;
	for (size_t i = 0; i < nsegs && segs[i] < j->seg; i++) {
		char p[4096];
		if (ig_journal_segment_path(j->path, segs[i], p, sizeof(p)) != 0 ||
		    (unlink(p) != 0 && errno != ENOENT))
			rc = IG_EIO;
	}
	free(segs);
	if (fsync_dir(j->dir_fd) != 0)
		rc = IG_EIO;
	if (rc == 0)
		j->stats.compactions++;
	return rc;
}

int ig_journal_close(struct ig_journal *j)
{
	int rc = 0;

	if (j->fd >= 0) {
		rc = j->err != 0 ? j->err : ig_journal_sync(j);
		if (close(j->fd) != 0 && rc == 0)
			rc = IG_EIO;
	}
	if (j->dir_fd >= 0)
		close(j->dir_fd);
	free(j->buf);
	free(j->seg_path);
	free(j->path);
	memset(j, 0, sizeof(*j));
	j->fd = -1;
	j->dir_fd = -1;
	return rc;
}

uint64_t ig_journal_durable_seq(const struct ig_journal *j)
{
	return j->durable_seq;
}

uint64_t ig_journal_last_seq(const struct ig_journal *j)
{
	return j->next_seq - 1;
}

size_t ig_journal_pending(const struct ig_journal *j)
{
	return j->buf_len;
}

uint32_t ig_journal_segment(const struct ig_journal *j)
{
	return j->seg;
}

const struct ig_journal_stats *ig_journal_stats(const struct ig_journal *j)
{
	return &j->stats;
}

bool ig_journal_sanity(const struct ig_journal *j)
{
	uint64_t last = j->next_seq - 1;

	if (j->fd < 0 || j->dir_fd < 0 || j->buf == NULL || j->path == NULL)
		return false;
	if (j->buf_len > j->buf_cap || j->seg_off < HDR || j->next_seq == 0)
		return false;
	if (!(j->durable_seq <= j->written_seq && j->written_seq <= last))
		return false;
	if (j->buf_last_seq != last)
		return false;
	if (j->buf_len == 0 && j->written_seq != last)
		return false;
	if (j->buf_len > 0 && j->written_seq >= last)
		return false;
	if (j->err != 0 && j->err != IG_EIO)
		return false;
	return true;
}
