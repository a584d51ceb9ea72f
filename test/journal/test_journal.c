/*
 * test_journal.c - the journal file layer (src/journal/journal.h) and its
 * CLI (ingenium journal verify|dump).
 *
 * Covers:
 *   - CRC32C: the check value of "123456789" (0xE3069283) and the RFC 3720
 *     vectors, from the table and the SSE4.2 code alike; incremental
 *     extension equals one pass; table == instruction on random buffers of
 *     every alignment;
 *   - the on-disk format against the documentation: a file encoded by hand
 *     here (header and records as journal.h describes them) replays, and
 *     the writer's bytes decode by the same rules;
 *   - write N mixed records (events, trading states, marks, snapshots of
 *     0..700 bytes), replay them: all equal, in order, report clean;
 *     counters and durable/last seq; a callback that stops the replay;
 *   - reopen continues the sequence; rotation at max_bytes into PATH.1,
 *     PATH.2 ... replays in order and a reopen continues the last segment;
 *     a missing middle segment is a sequence gap;
 *   - torn tail: for EVERY byte offset within the last 3 records the file
 *     is cut there; replay delivers exactly the complete records (each
 *     checked against what was written), reports the dropped bytes and the
 *     offset, and the writer's open cuts the tail and continues the
 *     sequence; every cut inside the file header too, and a torn rotation
 *     (a last segment shorter than its header);
 *   - random bit flips (seeded, 1000 trials, most in the last 3 records,
 *     the rest anywhere): replay stops exactly at the record holding the
 *     flip, after delivering every earlier record intact;
 *   - a garbage file, an empty file, a 64-byte zero file, a header-only
 *     file, a missing path, a directory; the writer refuses to touch a
 *     file that is not a journal; a bad type, a sequence gap and absurd
 *     lengths in records with valid CRCs;
 *   - compaction: old segments go, the journal starts at the SNAPSHOT and
 *     continues; with the old segments restored (a crash before the
 *     unlinks) it is still one continuous journal;
 *   - I/O errors (RLIMIT_FSIZE): a failed flush returns IG_EIO and a retry
 *     completes the journal with no hole; a failed direct write of a large
 *     record is cut back and uses no seq;
 *   - the CLI's exit codes (0 good, 1 damaged, 2 unreadable/usage) and
 *     dump's text and --json lines (parsed back with jansson).
 *
 * Every file lives in a mkdtemp directory under /tmp, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ingenium/error.h"
#include "ingenium/event.h"
#include "jtest.h"
#include "journal/crc32c.h"
#include "journal/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXGEN 1024

/* ---- fixture: a temporary directory -------------------------------------- */

struct fx {
	char dir[64];
	char path[128]; /* dir/j: the journal's base path */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/ig_journal_XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/j", f->dir);
	*state = f;
	return 0;
}


static int teardown(void **state)
{
	struct fx *f = *state;
	jt_rm_tree(f->dir);
	free(f);
	return 0;
}

/* ---- files --------------------------------------------------------------- */



static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

static uint64_t fsize(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void seg_path(const char *base, uint32_t seg, char *buf, size_t cap)
{
	assert_int_equal(ig_journal_segment_path(base, seg, buf, cap), 0);
}

/* ---- deterministic records ----------------------------------------------- */

/* The record with sequence seq: its type and payload depend only on seq. */
static void gen(uint64_t seq, uint16_t *type, uint8_t *buf, uint32_t *len)
{
	switch (seq % 7) {
	case 0:
		*type = IG_JR_SNAPSHOT;
		*len = (uint32_t)((seq * 131) % 700);
		for (uint32_t i = 0; i < *len; i++)
			buf[i] = (uint8_t)(seq * 7 + i * 13);
		return;
	case 1: {
		struct ig_journal_trading_state t = {
			.ts_event_ns = (int64_t)seq * 1000,
			.strategy_id = (uint16_t)(seq % 3 == 0 ? IG_STRATEGY_NONE : seq % 5),
			.state = (uint8_t)(seq % 3),
			.prev_state = (uint8_t)((seq + 1) % 3),
			.reason = (uint8_t)(seq % IG_RJ__COUNT),
			.kill_switch = (uint8_t)(seq & 1),
		};
		*type = IG_JR_TRADING_STATE;
		*len = sizeof(t);
		memcpy(buf, &t, sizeof(t));
		return;
	}
	case 2: {
		struct ig_journal_mark m = {
			.px = (int64_t)seq * 100000000 + 12345,
			.ts_event_ns = (int64_t)seq,
			.instrument_id = (uint16_t)(seq % 4),
		};
		*type = IG_JR_MARK;
		*len = sizeof(m);
		memcpy(buf, &m, sizeof(m));
		return;
	}
	default: {
		struct ig_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.hdr.strategy_id = (uint16_t)(seq % 3);
		ev.hdr.instrument_id = (uint16_t)(seq % 2);
		ev.hdr.ts_event_ns = (int64_t)(seq * 17);
		ev.hdr.ts_origin_ns = (int64_t)(seq * 19);
		if (seq % 7 == 3) {
			*type = IG_JR_ORDER_ACCEPTED;
			ev.hdr.type = IG_EV_ORDER;
			ev.body.order.client_id = IG_CID_MAKE(1, 2, seq);
			ev.body.order.px = (int64_t)seq * 1000;
			ev.body.order.qty = 1000000;
			ev.body.order.side = (uint8_t)(seq % 2 ? IG_SIDE_BUY : IG_SIDE_SELL);
			ev.body.order.type = IG_ORD_LIMIT;
		} else if (seq % 7 == 4) {
			*type = IG_JR_FILL;
			ev.hdr.type = IG_EV_FILL;
			ev.body.fill.client_id = seq;
			ev.body.fill.trade_id = seq * 3;
			ev.body.fill.px = 123456789;
			ev.body.fill.qty = (int64_t)seq;
			ev.body.fill.fee = 5;
			ev.body.fill.side = IG_SIDE_SELL;
			ev.body.fill.liquidity = IG_LIQ_TAKER;
		} else if (seq % 7 == 5) {
			*type = IG_JR_STATE_CHANGE;
			ev.hdr.type = IG_EV_ORDER_UPDATE;
			ev.body.update.client_id = seq;
			ev.body.update.state = IG_OS_ACCEPTED;
			ev.body.update.prev_state = IG_OS_SUBMITTED;
		} else {
			*type = IG_JR_EVENT;
			ev.hdr.type = IG_EV_QUOTE;
			ev.body.quote.bid_px = (int64_t)seq;
			ev.body.quote.ask_px = (int64_t)seq + 1;
		}
		*len = sizeof(ev);
		memcpy(buf, &ev, sizeof(ev));
		return;
	}
	}
}

static uint32_t gen_len(uint64_t seq)
{
	uint8_t b[MAXGEN];
	uint16_t t;
	uint32_t len;
	gen(seq, &t, b, &len);
	return len;
}

/* Appends gen(expect) and checks it got seq expect. Events go through
 * ig_journal_append_event with a junk hdr.seq, which must be written 0. */
static void append_gen(struct ig_journal *j, uint64_t expect)
{
	uint8_t b[MAXGEN];
	uint16_t t;
	uint32_t len;
	uint64_t seq = 0;

	gen(expect, &t, b, &len);
	if (len == sizeof(struct ig_event)) {
		struct ig_event ev;
		memcpy(&ev, b, sizeof(ev));
		ev.hdr.seq = 0xDEADBEEF;
		assert_int_equal(ig_journal_append_event(j, (enum ig_journal_type)t, &ev, &seq), 0);
	} else {
		assert_int_equal(ig_journal_append(j, (enum ig_journal_type)t, b, len, &seq), 0);
	}
	assert_int_equal(seq, expect);
	assert_true(ig_journal_sanity(j));
}

/* Replay callback: every record must be gen(seq), seqs consecutive. */
struct check {
	uint64_t n;
	uint64_t next;       /* expected seq, 0 = take the first */
	uint64_t stop_at;    /* return 7 after this seq, 0 = never */
	uint64_t end_off[512]; /* per record index: offset after it */
	uint32_t segs_seen;
	uint32_t last_seg;
};

static int check_cb(const struct ig_journal_record *r, void *arg)
{
	struct check *c = arg;
	uint8_t b[MAXGEN];
	uint16_t t;
	uint32_t len;

	if (c->next != 0)
		assert_int_equal(r->seq, c->next);
	gen(r->seq, &t, b, &len);
	assert_int_equal(r->type, t);
	assert_int_equal(r->len, len);
	assert_int_equal(r->flags, 0);
	assert_memory_equal(r->payload, b, len);
	if (c->n == 0 || r->segment != c->last_seg) {
		c->segs_seen++;
		if (c->n > 0)
			assert_true(r->segment > c->last_seg);
	}
	c->last_seg = r->segment;
	if (c->n < 512)
		c->end_off[c->n] = r->offset + IG_JOURNAL_RECORD_HEADER_BYTES + r->len;
	c->n++;
	c->next = r->seq + 1;
	if (c->stop_at != 0 && r->seq == c->stop_at)
		return 7;
	return 0;
}

static void write_journal(const char *path, const struct ig_journal_opts *o, uint64_t n)
{
	struct ig_journal j;
	assert_int_equal(ig_journal_open(&j, path, o, NULL), 0);
	for (uint64_t s = 1; s <= n; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);
}

/* ---- CRC32C -------------------------------------------------------------- */

static void test_crc32c(void **state)
{
	uint8_t z[32], ff[32], inc[32], buf[1100];
	uint64_t x = 88172645463325252ull;
	(void)state;

	assert_int_equal(ig_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ig__crc32c_sw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ig__crc32c_hw(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(ig_crc32c(0, "", 0), 0);
	/* RFC 3720 (iSCSI) appendix B.4 */
	memset(z, 0, sizeof(z));
	memset(ff, 0xFF, sizeof(ff));
	for (int i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	assert_int_equal(ig__crc32c_sw(0, z, 32), 0x8A9136AAu);
	assert_int_equal(ig__crc32c_sw(0, ff, 32), 0x62A8AB43u);
	assert_int_equal(ig__crc32c_sw(0, inc, 32), 0x46DD794Eu);
	assert_int_equal(ig__crc32c_hw(0, inc, 32), 0x46DD794Eu);
	print_message("crc32c: %s\n", ig__crc32c_hw_available() ? "sse4.2" : "table only");

	for (size_t i = 0; i < sizeof(buf); i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= 1024; len += (len < 64 ? 1 : 37)) {
			uint32_t a = ig__crc32c_sw(0, buf + off, len);
			assert_int_equal(a, ig__crc32c_hw(0, buf + off, len));
			assert_int_equal(a, ig_crc32c(0, buf + off, len));
		}
	for (size_t cut = 0; cut <= 300; cut++) {
		uint32_t one = ig_crc32c(0, buf, 300);
		assert_int_equal(ig_crc32c(ig_crc32c(0, buf, cut), buf + cut, 300 - cut), one);
		assert_int_equal(ig__crc32c_sw(ig__crc32c_sw(0, buf, cut), buf + cut, 300 - cut),
				 one);
	}
}

/* ---- the format, by hand -------------------------------------------------- */

static void le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static size_t hand_header(uint8_t *b, uint32_t seg, uint64_t epoch, uint64_t first_seq)
{
	memset(b, 0, 64);
	memcpy(b, "IGJRNL01", 8);
	le(b + 8, 1, 2);
	le(b + 10, 64, 2);
	le(b + 12, seg, 4);
	le(b + 16, 1700000000000000000ull, 8);
	le(b + 24, epoch, 8);
	le(b + 32, first_seq, 8);
	le(b + 60, ig_crc32c(0, b, 60), 4);
	return 64;
}

static size_t hand_record(uint8_t *b, uint16_t type, uint64_t seq, const void *p, uint32_t len)
{
	le(b, len, 4);
	le(b + 4, type, 2);
	le(b + 6, 0, 2);
	le(b + 8, seq, 8);
	memcpy(b + 20, p, len);
	le(b + 16, ig_crc32c(ig_crc32c(0, b, 16), b + 20, len), 4);
	return 20 + (size_t)len;
}

static size_t hand_gen(uint8_t *b, uint64_t seq)
{
	uint8_t p[MAXGEN];
	uint16_t t;
	uint32_t len;
	gen(seq, &t, p, &len);
	return hand_record(b, t, seq, p, len);
}

static void test_format_by_hand(void **state)
{
	struct fx *f = *state;
	struct ig_journal_report rep;
	struct check c = {0};
	static uint8_t b[1 << 16];
	size_t n, sz;
	uint8_t *w;

	/* A file written by these rules replays. */
	n = hand_header(b, 0, 42, 10);
	for (uint64_t s = 10; s < 30; s++)
		n += hand_gen(b + n, s);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 20);
	assert_int_equal(rep.first_seq, 10);
	assert_int_equal(rep.last_seq, 29);
	assert_int_equal(rep.run_epoch, 42);
	assert_int_equal(rep.bytes_good, n);
	unlink(f->path);

	/* And the writer's bytes are these rules. */
	{
		struct ig_journal_opts o = {.run_epoch = 77};
		write_journal(f->path, &o, 5);
	}
	w = jt_read_all(f->path, &sz);
	assert_memory_equal(w, "IGJRNL01", 8);
	assert_int_equal(rd(w + 8, 2), 1);
	assert_int_equal(rd(w + 10, 2), 64);
	assert_int_equal(rd(w + 12, 4), 0);
	assert_int_equal(rd(w + 24, 8), 77);
	assert_int_equal(rd(w + 32, 8), 1);
	assert_int_equal(rd(w + 60, 4), ig_crc32c(0, w, 60));
	n = 64;
	for (uint64_t s = 1; s <= 5; s++) {
		uint8_t want[MAXGEN + 20];
		size_t wl = hand_gen(want, s);
		assert_true(n + wl <= sz);
		assert_memory_equal(w + n, want, wl);
		n += wl;
	}
	assert_int_equal(n, sz);
	free(w);
}

/* ---- write, replay, reopen ------------------------------------------------ */

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct ig_journal j;
	struct ig_journal_report rep;
	struct ig_journal_opts o = {.buf_bytes = 8192, .run_epoch = 3};
	struct check c = {0};
	uint64_t bytes = 0;
	const uint64_t N = 20000;

	assert_int_equal(ig_journal_open(&j, f->path, &o, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_true(ig_journal_sanity(&j));
	assert_int_equal(ig_journal_last_seq(&j), 0);
	assert_int_equal(ig_journal_durable_seq(&j), 0);
	for (uint64_t s = 1; s <= N; s++) {
		append_gen(&j, s);
		bytes += 20 + gen_len(s);
		if (s == 100) {
			assert_true(ig_journal_pending(&j) > 0);
			assert_int_equal(ig_journal_flush(&j), 0);
			assert_int_equal(ig_journal_pending(&j), 0);
			assert_int_equal(ig_journal_durable_seq(&j), 0);
			assert_int_equal(ig_journal_sync(&j), 0);
			assert_int_equal(ig_journal_durable_seq(&j), 100);
			/* Nothing new: no second fdatasync. */
			assert_int_equal(ig_journal_sync(&j), 0);
			assert_int_equal(ig_journal_stats(&j)->syncs, 1);
		}
		assert_true(ig_journal_sanity(&j));
	}
	assert_int_equal(ig_journal_last_seq(&j), N);
	assert_int_equal(ig_journal_stats(&j)->records, N);
	assert_int_equal(ig_journal_stats(&j)->bytes, bytes);
	assert_true(ig_journal_stats(&j)->flushes >= (bytes - ig_journal_pending(&j)) / 8192);
	assert_int_equal(ig_journal_sync(&j), 0);
	assert_int_equal(ig_journal_durable_seq(&j), N);
	assert_int_equal(ig_journal_stats(&j)->syncs, 2);
	assert_int_equal(ig_journal_close(&j), 0);
	assert_int_equal(fsize(f->path), 64 + bytes);

	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, N);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, N);
	assert_int_equal(rep.first_seq, 1);
	assert_int_equal(rep.last_seq, N);
	assert_int_equal(rep.segments, 1);
	assert_int_equal(rep.run_epoch, 3);
	assert_int_equal(rep.bytes_good, 64 + bytes);
	assert_int_equal(rep.bytes_dropped, 0);

	/* A callback that stops: its value comes back, the rest is unread. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 10;
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 7);
	assert_int_equal(c.n, 10);
	assert_int_equal(rep.stop, IG_JOURNAL_CALLBACK);
	assert_int_equal(rep.last_seq, 10);

	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, N);
}

static void test_reopen_continues(void **state)
{
	struct fx *f = *state;
	struct ig_journal j;
	struct ig_journal_report rep;
	struct check c = {0};

	write_journal(f->path, NULL, 100);
	assert_int_equal(ig_journal_open(&j, f->path, NULL, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, 100);
	assert_int_equal(rep.last_seq, 100);
	assert_int_equal(rep.bytes_dropped, 0);
	assert_int_equal(ig_journal_last_seq(&j), 100);
	assert_int_equal(ig_journal_durable_seq(&j), 100);
	assert_true(ig_journal_sanity(&j));
	for (uint64_t s = 101; s <= 150; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);

	/* A reopen that appends nothing changes nothing. */
	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), 0);
	assert_int_equal(ig_journal_close(&j), 0);

	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, 150);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.last_seq, 150);
}

/* ---- rotation ------------------------------------------------------------ */

static void test_rotation(void **state)
{
	struct fx *f = *state;
	struct ig_journal j;
	struct ig_journal_report rep;
	struct ig_journal_opts o = {.max_bytes = 4096, .buf_bytes = 4096};
	struct check c = {0};
	char p[256];
	uint32_t last;
	const uint64_t N = 2000;

	assert_int_equal(ig_journal_open(&j, f->path, &o, NULL), 0);
	for (uint64_t s = 1; s <= N; s++)
		append_gen(&j, s);
	last = ig_journal_segment(&j);
	assert_true(last > 20);
	assert_int_equal(ig_journal_stats(&j)->rotations, last);
	/* Every rotation synced the segment it left. */
	assert_true(ig_journal_stats(&j)->syncs >= last);
	assert_int_equal(ig_journal_close(&j), 0);

	for (uint32_t s = 0; s <= last; s++) {
		uint64_t sz;
		seg_path(f->path, s, p, sizeof(p));
		sz = fsize(p);
		if (s < last) {
			assert_true(sz >= 4096);
			assert_true(sz < 4096 + 20 + 700);
		}
	}
	seg_path(f->path, last + 1, p, sizeof(p));
	assert_false(exists(p));

	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, N);
	assert_int_equal(c.segs_seen, last + 1);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.segments, last + 1);
	assert_int_equal(rep.first_segment, 0);
	assert_int_equal(rep.last_segment, last);

	/* Reopen: continues in the last segment, then rotates on. */
	assert_int_equal(ig_journal_open(&j, f->path, &o, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.segments, last + 1);
	assert_int_equal(ig_journal_segment(&j), last);
	assert_int_equal(ig_journal_last_seq(&j), N);
	for (uint64_t s = N + 1; s <= N + 300; s++)
		append_gen(&j, s);
	assert_true(ig_journal_segment(&j) > last);
	assert_int_equal(ig_journal_close(&j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, N + 300);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);

	/* A missing middle segment is a gap: replay stops before the next. */
	seg_path(f->path, 5, p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_SEQ_GAP);
	assert_int_equal(rep.bad_segment, 6);
	assert_int_equal(rep.bad_offset, 0);
	assert_true(rep.bad_seq > rep.last_seq + 1);
	assert_int_equal(c.n, rep.last_seq);
	assert_true(rep.files_dropped > 0);
	assert_int_equal(rep.files_dropped, rep.last_segment - 6);
}

/* ---- torn tails ----------------------------------------------------------- */

/* Writes a 40-record journal; returns its bytes and each record's end. */
static uint8_t *torn_source(struct fx *f, size_t *n, uint64_t *ends, uint64_t nrec)
{
	struct check c = {0};
	write_journal(f->path, NULL, nrec);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, NULL), 0);
	assert_int_equal(c.n, nrec);
	memcpy(ends, c.end_off, nrec * sizeof(*ends));
	return jt_read_all(f->path, n);
}

static void test_torn_tail_every_offset(void **state)
{
	struct fx *f = *state;
	const uint64_t NREC = 40;
	uint64_t ends[40];
	size_t n;
	uint8_t *src = torn_source(f, &n, ends, NREC);
	char cut_path[256];
	uint64_t start = ends[NREC - 4]; /* first byte of the third-last record */
	unsigned cuts = 0;

	assert_int_equal(ends[NREC - 1], n);
	snprintf(cut_path, sizeof(cut_path), "%s/cut", f->dir);
	for (uint64_t cut = start; cut <= n; cut++) {
		struct ig_journal_report rep;
		struct ig_journal j;
		struct check c = {0};
		uint64_t complete = 0, good_end = 64;

		for (uint64_t i = 0; i < NREC; i++)
			if (ends[i] <= cut) {
				complete = i + 1;
				good_end = ends[i];
			}
		jt_write_all(cut_path, src, (size_t)cut);
		assert_int_equal(ig_journal_replay(cut_path, check_cb, &c, &rep), 0);
		assert_int_equal(c.n, complete);
		assert_int_equal(rep.records, complete);
		assert_int_equal(rep.last_seq, complete);
		if (cut == good_end) {
			assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
			assert_int_equal(rep.bytes_dropped, 0);
		} else {
			assert_true(rep.stop == IG_JOURNAL_SHORT_RECORD ||
				    rep.stop == IG_JOURNAL_SHORT_PAYLOAD);
			assert_int_equal(rep.bad_offset, good_end);
			assert_int_equal(rep.bytes_dropped, cut - good_end);
			assert_int_equal(rep.files_dropped, 0);
			assert_string_equal(rep.file, cut_path);
		}

		/* The writer cuts the tail and goes on from the last good seq. */
		assert_int_equal(ig_journal_open(&j, cut_path, NULL, &rep), 0);
		assert_int_equal(rep.bytes_dropped, cut - good_end);
		assert_int_equal(fsize(cut_path), good_end);
		assert_int_equal(ig_journal_last_seq(&j), complete);
		append_gen(&j, complete + 1);
		assert_int_equal(ig_journal_close(&j), 0);
		memset(&c, 0, sizeof(c));
		assert_int_equal(ig_journal_replay(cut_path, check_cb, &c, &rep), 0);
		assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
		assert_int_equal(c.n, complete + 1);
		unlink(cut_path);
		cuts++;
	}
	print_message("torn tail: %u cut offsets (bytes %" PRIu64 "..%zu)\n", cuts, start, n);
	assert_true(cuts > 3 * 20);
	free(src);
}

static void test_torn_header(void **state)
{
	struct fx *f = *state;
	uint64_t ends[40];
	size_t n;
	uint8_t *src = torn_source(f, &n, ends, 40);
	char cut_path[256];

	snprintf(cut_path, sizeof(cut_path), "%s/cut", f->dir);
	for (size_t cut = 0; cut < 64; cut++) {
		struct ig_journal_report rep;
		struct ig_journal j;
		struct check c = {0};

		jt_write_all(cut_path, src, cut);
		assert_int_equal(ig_journal_replay(cut_path, check_cb, &c, &rep), 0);
		assert_int_equal(c.n, 0);
		assert_int_equal(rep.stop, IG_JOURNAL_SHORT_HEADER);
		assert_int_equal(rep.bad_offset, 0);
		assert_int_equal(rep.bytes_dropped, cut);
		/* The writer gives the file its header again. */
		assert_int_equal(ig_journal_open(&j, cut_path, NULL, &rep), 0);
		assert_int_equal(rep.stop, IG_JOURNAL_SHORT_HEADER);
		append_gen(&j, 1);
		assert_int_equal(ig_journal_close(&j), 0);
		assert_int_equal(ig_journal_replay(cut_path, check_cb, &c, &rep), 0);
		assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
		assert_int_equal(c.n, 1);
		unlink(cut_path);
	}
	free(src);
}

/* A rotation torn before the new segment's header was durable. */
static void test_torn_rotation(void **state)
{
	struct fx *f = *state;
	struct ig_journal_opts o = {.max_bytes = 2048, .buf_bytes = 4096};
	struct ig_journal_report rep;
	struct ig_journal j;
	struct check c = {0};
	char p[256];
	uint32_t last;

	assert_int_equal(ig_journal_open(&j, f->path, &o, NULL), 0);
	for (uint64_t s = 1; s <= 300; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	last = rep.last_segment;
	/* The next segment exists but holds only part of its header. */
	seg_path(f->path, last + 1, p, sizeof(p));
	jt_write_all(p, "IGJRNL", 6);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, 300);
	assert_int_equal(rep.stop, IG_JOURNAL_SHORT_HEADER);
	assert_int_equal(rep.bad_segment, last + 1);
	assert_int_equal(rep.bytes_dropped, 6);
	assert_int_equal(rep.last_seq, 300);

	assert_int_equal(ig_journal_open(&j, f->path, &o, &rep), 0);
	assert_int_equal(ig_journal_segment(&j), last + 1);
	assert_int_equal(ig_journal_last_seq(&j), 300);
	append_gen(&j, 301);
	assert_int_equal(ig_journal_close(&j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 301);
}

/* ---- bit flips ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_bit_flips(void **state)
{
	struct fx *f = *state;
	const uint64_t NREC = 40;
	uint64_t ends[40], rng = 0x1234567887654321ull;
	size_t n;
	uint8_t *src = torn_source(f, &n, ends, NREC);
	uint8_t *buf = malloc(n);
	char flip_path[256];
	unsigned tail = 0, anywhere = 0;

	assert_non_null(buf);
	snprintf(flip_path, sizeof(flip_path), "%s/flip", f->dir);
	for (int trial = 0; trial < 1000; trial++) {
		struct ig_journal_report rep;
		struct check c = {0};
		uint64_t lo = trial % 4 == 3 ? 0 : ends[NREC - 4];
		uint64_t pos = lo + rng_next(&rng) % (n - lo);
		unsigned bit = (unsigned)(rng_next(&rng) % 8);
		uint64_t expect = 0; /* records wholly before pos */

		for (uint64_t i = 0; i < NREC; i++)
			if (ends[i] <= pos)
				expect = i + 1;
		memcpy(buf, src, n);
		buf[pos] ^= (uint8_t)(1u << bit);
		jt_write_all(flip_path, buf, n);
		assert_int_equal(ig_journal_replay(flip_path, check_cb, &c, &rep), 0);
		assert_int_equal(c.n, expect);
		assert_int_equal(rep.records, expect);
		assert_int_not_equal(rep.stop, IG_JOURNAL_CLEAN);
		if (pos < 64) {
			assert_int_equal(rep.stop, IG_JOURNAL_BAD_HEADER);
			assert_int_equal(rep.bytes_dropped, n);
		} else {
			assert_int_equal(rep.bad_offset, expect ? ends[expect - 1] : 64);
			assert_int_equal(rep.bytes_dropped, n - rep.bad_offset);
		}
		if (lo == 0)
			anywhere++;
		else
			tail++;
	}
	print_message("bit flips: %u in the last 3 records, %u anywhere\n", tail, anywhere);
	unlink(flip_path);
	free(buf);
	free(src);
}

/* ---- odd files ----------------------------------------------------------- */

static void test_odd_files(void **state)
{
	struct fx *f = *state;
	struct ig_journal_report rep;
	struct ig_journal j;
	struct check c = {0};
	uint8_t garbage[4096], zeros[64] = {0};
	uint64_t rng = 99;
	size_t n;
	uint8_t *back;
	char p[256];

	/* garbage */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (uint8_t)rng_next(&rng);
	jt_write_all(f->path, garbage, sizeof(garbage));
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_BAD_HEADER);
	assert_int_equal(rep.records, 0);
	assert_int_equal(rep.bytes_dropped, sizeof(garbage));
	assert_int_equal(ig_journal_open(&j, f->path, NULL, &rep), IG_EPARSE);
	back = jt_read_all(f->path, &n);
	assert_int_equal(n, sizeof(garbage));
	assert_memory_equal(back, garbage, n);
	free(back);
	/* short garbage is not mistaken for a torn header */
	jt_write_all(f->path, "hello worl", 10);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_BAD_HEADER);
	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), IG_EPARSE);
	assert_int_equal(fsize(f->path), 10);

	/* empty file: a torn creation; the writer makes it a journal */
	jt_write_all(f->path, "", 0);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_SHORT_HEADER);
	assert_int_equal(rep.bytes_dropped, 0);
	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), 0);
	append_gen(&j, 1);
	assert_int_equal(ig_journal_close(&j), 0);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 1);

	/* 64 zero bytes: the size reached the disk, the header did not */
	jt_write_all(f->path, zeros, sizeof(zeros));
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_SHORT_HEADER);
	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), 0);
	assert_int_equal(ig_journal_close(&j), 0);

	/* header only: a good, empty journal */
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.records, 0);
	assert_int_equal(rep.last_seq, 0);
	assert_int_equal(rep.bytes_good, 64);
	assert_int_equal(fsize(f->path), 64);

	/* no journal; a directory; bad arguments */
	snprintf(p, sizeof(p), "%s/none", f->dir);
	assert_int_equal(ig_journal_verify(p, &rep), IG_ENOENT);
	snprintf(p, sizeof(p), "%s/nodir/j", f->dir);
	assert_int_equal(ig_journal_verify(p, &rep), IG_ENOENT);
	assert_int_equal(ig_journal_open(&j, p, NULL, NULL), IG_ENOENT);
	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(ig_journal_verify(p, &rep), IG_EIO);
	assert_int_equal(ig_journal_open(&j, p, NULL, NULL), IG_EIO);
	snprintf(p, sizeof(p), "%s/", f->dir);
	assert_int_equal(ig_journal_open(&j, p, NULL, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_open(&j, "", NULL, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_verify(p, &rep), IG_EINVAL);
}

/* Records with good CRCs that are still wrong. */
static void test_bad_records(void **state)
{
	struct fx *f = *state;
	struct ig_journal_report rep;
	struct ig_journal j;
	struct check c = {0};
	static uint8_t b[8192];
	uint8_t pl[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	size_t n, good;

	/* sequence gap: 1, 2, 4 */
	n = hand_header(b, 0, 0, 1);
	n += hand_gen(b + n, 1);
	n += hand_gen(b + n, 2);
	good = n;
	n += hand_gen(b + n, 4);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(rep.stop, IG_JOURNAL_SEQ_GAP);
	assert_int_equal(rep.bad_seq, 4);
	assert_int_equal(rep.bad_offset, good);
	assert_int_equal(rep.bytes_dropped, n - good);
	/* not a torn tail: the writer will not cut it */
	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), IG_EPARSE);
	assert_int_equal(fsize(f->path), n);

	/* a repeated seq (1, 2, 2) is a gap too */
	n = good;
	n += hand_gen(b + n, 2);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_SEQ_GAP);
	assert_int_equal(rep.records, 2);

	/* unknown types 0 and 99 */
	for (int k = 0; k < 2; k++) {
		n = good;
		n += hand_record(b + n, k ? 99 : 0, 3, pl, sizeof(pl));
		jt_write_all(f->path, b, n);
		assert_int_equal(ig_journal_verify(f->path, &rep), 0);
		assert_int_equal(rep.stop, IG_JOURNAL_BAD_TYPE);
		assert_int_equal(rep.records, 2);
	}

	/* a length past the limit, and one past the end of the file: both
	 * stop without reading (or allocating) that much */
	n = good;
	n += hand_record(b + n, IG_JR_MARK, 3, pl, sizeof(pl));
	le(b + good, 0xFFFFFFF0u, 4);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_BAD_LENGTH);
	le(b + good, IG_JOURNAL_MAX_PAYLOAD - 1, 4);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_SHORT_PAYLOAD);
	assert_int_equal(rep.records, 2);

	/* a header whose first_seq is 0 */
	n = hand_header(b, 0, 0, 0);
	jt_write_all(f->path, b, n);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_BAD_HEADER);

	/* a good segment whose successor starts at the wrong seq */
	n = hand_header(b, 0, 0, 1);
	n += hand_gen(b + n, 1);
	jt_write_all(f->path, b, n);
	{
		char p[256];
		size_t m = hand_header(b, 1, 0, 3);
		m += hand_gen(b + m, 3);
		seg_path(f->path, 1, p, sizeof(p));
		jt_write_all(p, b, m);
		assert_int_equal(ig_journal_verify(f->path, &rep), 0);
		assert_int_equal(rep.stop, IG_JOURNAL_SEQ_GAP);
		assert_int_equal(rep.bad_segment, 1);
		assert_int_equal(rep.bad_seq, 3);
		assert_int_equal(rep.records, 1);
		assert_int_equal(rep.bytes_dropped, m);
	}
}

static void test_api_errors(void **state)
{
	struct fx *f = *state;
	struct ig_journal j;
	struct ig_journal_record r;
	struct ig_event ev;
	uint8_t b[8] = {0};
	uint64_t seq = 0;

	assert_int_equal(ig_journal_open(&j, f->path, NULL, NULL), 0);
	assert_int_equal(ig_journal_append(&j, (enum ig_journal_type)0, b, 1, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_append(&j, IG_JR__COUNT, b, 1, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_append(&j, IG_JR_MARK, NULL, 1, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_append(&j, IG_JR_SNAPSHOT, b, IG_JOURNAL_MAX_PAYLOAD + 1, NULL),
			 IG_EINVAL);
	assert_int_equal(ig_journal_append_event(&j, IG_JR_EVENT, NULL, NULL), IG_EINVAL);
	assert_int_equal(ig_journal_last_seq(&j), 0);
	/* an empty payload is a record */
	assert_int_equal(ig_journal_append(&j, IG_JR_MARK, NULL, 0, &seq), 0);
	assert_int_equal(seq, 1);
	assert_true(ig_journal_sanity(&j));
	assert_int_equal(ig_journal_close(&j), 0);
	assert_int_equal(ig_journal_verify(f->path, NULL), 0);

	memset(&ev, 0, sizeof(ev));
	r.len = 127;
	r.payload = &ev;
	assert_int_equal(ig_journal_record_event(&r, &ev), IG_EPARSE);
	assert_string_equal(ig_journal_type_name(IG_JR_ORDER_ACCEPTED), "order_accepted");
	assert_string_equal(ig_journal_type_name(0), "unknown");
	assert_string_equal(ig_journal_stop_name(IG_JOURNAL_BAD_CRC), "bad_crc");
	assert_string_equal(ig_journal_stop_name(-1), "unknown");
	{
		char p[8];
		assert_int_equal(ig_journal_segment_path("abcdefgh", 0, p, sizeof(p)), IG_ERANGE);
		assert_int_equal(ig_journal_segment_path("a", 12, p, sizeof(p)), 0);
		assert_string_equal(p, "a.12");
	}
}

/* ---- compaction ----------------------------------------------------------- */

static int snap_cb(const struct ig_journal_record *r, void *arg)
{
	struct check *c = arg;
	if (c->n == 0) {
		/* the first record is the snapshot */
		assert_int_equal(r->type, IG_JR_SNAPSHOT);
		assert_int_equal(r->seq, 501);
		assert_int_equal(r->len, 10000);
		for (uint32_t i = 0; i < r->len; i++)
			assert_int_equal(((const uint8_t *)r->payload)[i], (uint8_t)(i * 31 + 1));
		c->n++;
		c->next = 502;
		return 0;
	}
	return check_cb(r, arg);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct ig_journal_opts o = {.max_bytes = 2048, .buf_bytes = 4096};
	struct ig_journal_report rep;
	struct ig_journal j;
	struct check c = {0};
	static uint8_t snap[10000];
	char p[256], q[256];
	uint32_t before, sseg;
	uint64_t seq = 0;

	for (size_t i = 0; i < sizeof(snap); i++)
		snap[i] = (uint8_t)(i * 31 + 1);
	assert_int_equal(ig_journal_open(&j, f->path, &o, NULL), 0);
	for (uint64_t s = 1; s <= 500; s++)
		append_gen(&j, s);
	before = ig_journal_segment(&j);
	assert_true(before >= 5);
	/* keep copies of the old segments, to play a crash before the unlinks */
	for (uint32_t s = 0; s <= before; s++) {
		size_t n;
		uint8_t *b;
		assert_int_equal(ig_journal_flush(&j), 0);
		seg_path(f->path, s, p, sizeof(p));
		b = jt_read_all(p, &n);
		snprintf(q, sizeof(q), "%s/old.%u", f->dir, s);
		jt_write_all(q, b, n);
		free(b);
	}
	/* the snapshot is bigger than the write buffer: written directly */
	assert_int_equal(ig_journal_compact(&j, snap, sizeof(snap), &seq), 0);
	assert_int_equal(seq, 501);
	sseg = ig_journal_segment(&j);
	assert_int_equal(sseg, before + 1);
	assert_int_equal(ig_journal_durable_seq(&j), 501);
	assert_int_equal(ig_journal_stats(&j)->compactions, 1);
	assert_true(ig_journal_sanity(&j));
	for (uint32_t s = 0; s < sseg; s++) {
		seg_path(f->path, s, p, sizeof(p));
		assert_false(exists(p));
	}
	for (uint64_t s = 502; s <= 600; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);

	assert_int_equal(ig_journal_replay(f->path, snap_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 100);
	assert_int_equal(rep.first_seq, 501);
	assert_int_equal(rep.last_seq, 600);
	assert_int_equal(rep.first_segment, sseg);

	/* reopen after compaction: PATH itself is gone, the sequence goes on */
	assert_false(exists(f->path));
	assert_int_equal(ig_journal_open(&j, f->path, &o, &rep), 0);
	assert_int_equal(ig_journal_last_seq(&j), 600);
	for (uint64_t s = 601; s <= 650; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);
	memset(&c, 0, sizeof(c));
	assert_int_equal(ig_journal_replay(f->path, snap_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 150);

	/* a crash after the snapshot's sync but before the unlinks: the old
	 * segments are still there, and the journal is still continuous */
	for (uint32_t s = 0; s <= before; s++) {
		size_t n;
		uint8_t *b;
		snprintf(q, sizeof(q), "%s/old.%u", f->dir, s);
		b = jt_read_all(q, &n);
		seg_path(f->path, s, p, sizeof(p));
		jt_write_all(p, b, n);
		free(b);
		unlink(q);
	}
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.first_seq, 1);
	assert_int_equal(rep.last_seq, 650);
	assert_int_equal(rep.records, 650);
}

/* ---- I/O errors ---------------------------------------------------------- */

static void test_io_errors(void **state)
{
	struct fx *f = *state;
	struct ig_journal_opts o = {.buf_bytes = 4096};
	struct ig_journal j;
	struct ig_journal_report rep;
	struct check c = {0};
	struct rlimit old, lim;
	static uint8_t big[9000];
	uint64_t s = 1, seq = 0;
	int rc = 0;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ig_journal_open(&j, f->path, &o, NULL), 0);
	lim = old;
	lim.rlim_cur = 10000; /* the file may not grow past 10000 bytes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (; s < 1000; s++) {
		uint8_t b[MAXGEN];
		uint16_t t;
		uint32_t len;
		gen(s, &t, b, &len);
		rc = ig_journal_append(&j, (enum ig_journal_type)t, b, len, &seq);
		if (rc != 0)
			break;
		assert_true(ig_journal_sanity(&j));
	}
	assert_int_equal(rc, IG_EIO);
	assert_int_equal(ig_journal_last_seq(&j), s - 1);
	assert_int_equal(ig_journal_flush(&j), IG_EIO);
	assert_int_equal(ig_journal_sync(&j), IG_EIO);
	assert_true(ig_journal_sanity(&j));
	assert_int_equal(fsize(f->path), 10000); /* a partial write reached the limit */
	/* a large record that does not fit fails whole and uses no seq */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ig_journal_flush(&j), 0);
	lim.rlim_cur = fsize(f->path) + 5000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(ig_journal_append(&j, IG_JR_SNAPSHOT, big, sizeof(big), NULL), IG_EIO);
	assert_int_equal(ig_journal_last_seq(&j), s - 1);
	assert_true(ig_journal_sanity(&j));
	/* the limit lifted: nothing of it is left in the file */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(ig_journal_close(&j), 0);
	assert_int_equal(ig_journal_verify(f->path, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(rep.last_seq, s - 1);
	/* and the journal goes on with no hole */
	assert_int_equal(ig_journal_open(&j, f->path, &o, NULL), 0);
	for (; s <= 1000; s++)
		append_gen(&j, s);
	assert_int_equal(ig_journal_close(&j), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(ig_journal_replay(f->path, check_cb, &c, &rep), 0);
	assert_int_equal(rep.stop, IG_JOURNAL_CLEAN);
	assert_int_equal(c.n, 1000);
}

/* ---- the CLI --------------------------------------------------------------- */

/* Runs ig_journal_main in a child with stdout to out (or /dev/null) and
 * stderr to /dev/null. Returns its exit code. */
static int run_cli(const char *out, int argc, const char **argv)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open("/dev/null", O_WRONLY);
		if (o < 0 || e < 0)
			_exit(99);
		dup2(o, 1);
		dup2(e, 2);
		int rc = ig_journal_main(argc, (char **)(uintptr_t)argv);
		fflush(stdout);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static size_t count_lines(const char *path, size_t *comments)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	size_t n = 0;

	assert_non_null(fp);
	*comments = 0;
	while (fgets(line, sizeof(line), fp)) {
		if (line[0] == '#')
			(*comments)++;
		else
			n++;
	}
	fclose(fp);
	return n;
}

static void test_cli(void **state)
{
	struct fx *f = *state;
	struct ig_journal_opts o = {.max_bytes = 4096};
	char out[256], cut[256], none[256];
	size_t n, comments;
	uint8_t *src;

	snprintf(out, sizeof(out), "%s/out.txt", f->dir);
	snprintf(cut, sizeof(cut), "%s/cut", f->dir);
	snprintf(none, sizeof(none), "%s/none", f->dir);
	write_journal(f->path, &o, 200);

	{
		const char *a[] = {"journal", "verify", f->path};
		assert_int_equal(run_cli(out, 3, a), 0);
		assert_int_equal(count_lines(out, &comments), 1);
	}
	{
		const char *a[] = {"journal", "verify", none};
		assert_int_equal(run_cli(NULL, 3, a), 2);
	}
	{
		const char *a[] = {"journal", "verify", f->dir};
		assert_int_equal(run_cli(NULL, 3, a), 2);
	}
	{
		const char *a1[] = {"journal"};
		const char *a2[] = {"journal", "verify"};
		const char *a3[] = {"journal", "frobnicate", f->path};
		const char *a4[] = {"journal", "verify", f->path, "--json"};
		const char *a5[] = {"journal", "--help"};
		assert_int_equal(run_cli(NULL, 1, a1), 2);
		assert_int_equal(run_cli(NULL, 2, a2), 2);
		assert_int_equal(run_cli(NULL, 3, a3), 2);
		assert_int_equal(run_cli(NULL, 4, a4), 2);
		assert_int_equal(run_cli(NULL, 2, a5), 0);
	}

	/* text dump: one line per record, plus one '#' line per segment */
	{
		const char *a[] = {"journal", "dump", f->path};
		struct ig_journal_report rep;
		assert_int_equal(run_cli(out, 3, a), 0);
		assert_int_equal(count_lines(out, &comments), 200);
		assert_int_equal(ig_journal_verify(f->path, &rep), 0);
		assert_int_equal(comments, rep.segments);
	}
	/* JSON dump: parse it back */
	{
		const char *a[] = {"journal", "dump", f->path, "--json"};
		FILE *fp;
		char line[8192];
		uint64_t want = 1;
		unsigned fills = 0, orders = 0, ts = 0, marks = 0, snaps = 0;

		assert_int_equal(run_cli(out, 4, a), 0);
		fp = fopen(out, "r");
		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp)) {
			json_error_t err;
			json_t *o2 = json_loads(line, 0, &err), *ev;
			const char *type;
			assert_non_null(o2);
			assert_int_equal(json_integer_value(json_object_get(o2, "seq")), want);
			type = json_string_value(json_object_get(o2, "type"));
			assert_non_null(type);
			assert_string_equal(type, ig_journal_type_name(
							  (int)(want % 7 == 0   ? IG_JR_SNAPSHOT
								: want % 7 == 1 ? IG_JR_TRADING_STATE
								: want % 7 == 2 ? IG_JR_MARK
								: want % 7 == 3 ? IG_JR_ORDER_ACCEPTED
								: want % 7 == 4 ? IG_JR_FILL
								: want % 7 == 5 ? IG_JR_STATE_CHANGE
										: IG_JR_EVENT)));
			ev = json_object_get(o2, "event");
			if (want % 7 == 4) {
				assert_non_null(ev);
				assert_string_equal(json_string_value(json_object_get(ev, "type")), "fill");
				assert_string_equal(json_string_value(json_object_get(ev, "px")),
						    "1.23456789");
				assert_int_equal(json_integer_value(json_object_get(ev, "trade_id")),
						 want * 3);
				assert_string_equal(json_string_value(json_object_get(ev, "liquidity")),
						    "taker");
				fills++;
			} else if (want % 7 == 3) {
				assert_string_equal(json_string_value(json_object_get(ev, "side")),
						    want % 2 ? "buy" : "sell");
				assert_int_equal(json_integer_value(json_object_get(ev, "client_id")),
						 (json_int_t)IG_CID_MAKE(1, 2, want));
				orders++;
			} else if (want % 7 == 1) {
				assert_non_null(json_object_get(o2, "trading_state"));
				ts++;
			} else if (want % 7 == 2) {
				json_t *m = json_object_get(o2, "mark");
				assert_non_null(m);
				assert_int_equal(json_integer_value(json_object_get(m, "instrument_id")),
						 want % 4);
				marks++;
			} else if (want % 7 == 0) {
				assert_non_null(json_object_get(o2, "head_hex"));
				snaps++;
			}
			json_decref(o2);
			want++;
		}
		fclose(fp);
		assert_int_equal(want, 201);
		assert_true(fills > 0 && orders > 0 && ts > 0 && marks > 0 && snaps > 0);
	}

	/* damaged: exit 1, and dump still prints the good records */
	{
		struct ig_journal_opts one = {0};
		const char *v[] = {"journal", "verify", cut};
		const char *d[] = {"journal", "dump", cut};
		write_journal(cut, &one, 30);
		src = jt_read_all(cut, &n);
		jt_write_all(cut, src, n - 3);
		free(src);
		assert_int_equal(run_cli(out, 3, v), 1);
		assert_int_equal(run_cli(out, 3, d), 1);
		assert_int_equal(count_lines(out, &comments), 29);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		T(test_format_by_hand),
		T(test_roundtrip),
		T(test_reopen_continues),
		T(test_rotation),
		T(test_torn_tail_every_offset),
		T(test_torn_header),
		T(test_torn_rotation),
		T(test_bit_flips),
		T(test_odd_files),
		T(test_bad_records),
		T(test_api_errors),
		T(test_compaction),
		T(test_io_errors),
		T(test_cli),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
