/*
 * journal.h - the order journal: an append-only, checksummed, rotated file
 * of every record that changes OMS state (design.md §8, issue 5).
 *
 * On-disk format (version 1; every integer little-endian)
 * -------------------------------------------------------
 * A journal is one or more segment files. Each starts with a 64-byte
 * header:
 *
 *   off  size  field
 *     0     8  magic "IGJRNL01"
 *     8     2  format version (1)
 *    10     2  header size (64)
 *    12     4  segment index N (0 for PATH, N for PATH.N)
 *    16     8  created, CLOCK_REALTIME ns
 *    24     8  run epoch of the writer that created the segment
 *    32     8  first_seq: the sequence the segment's first record has
 *    40    20  reserved, zero
 *    60     4  CRC32C of bytes 0..59
 *
 * then records, back to back, no padding:
 *
 *   off  size  field
 *     0     4  len: payload bytes (<= IG_JOURNAL_MAX_PAYLOAD)
 *     4     2  type (enum ig_journal_type)
 *     6     2  flags (IG_JRF_*: output / derived; 0 for an input)
 *     8     8  seq
 *    16     4  CRC32C of bytes 0..15 then the payload (everything but
 *              the CRC itself: a flipped length is caught too)
 *    20   len  payload
 *
 * Sequences start at 1 (or opts.first_seq) and rise by exactly 1 from
 * record to record, within a segment and across segments: a segment's
 * first record has the header's first_seq, which is the previous
 * segment's last seq + 1.
 *
 * Payloads are the caller's bytes. By convention every order-path type
 * (ORDER_ACCEPTED .. STATE_CHANGE) and EVENT carry one struct ig_event by
 * value (128 bytes, host layout, hdr.seq zeroed: it belongs to the ring);
 * TRADING_STATE carries struct ig_journal_trading_state, MARK carries
 * struct ig_journal_mark or an event, SNAPSHOT opaque bytes. The dumper
 * decodes by type and length and prints anything else as hex.
 *
 * Rotation and compaction
 * -----------------------
 * Segment 0 is PATH itself; segment N >= 1 is "PATH.N" (decimal, no
 * leading zeros). The writer appends to the highest-numbered segment.
 * When that file has reached opts.max_bytes, the next append rotates:
 * flush, fdatasync the old segment, create PATH.(N+1) (O_EXCL) with its
 * header, fdatasync it and fsync the directory, then append there. So a
 * segment is at least max_bytes long (exceeded by at most one record),
 * except the last.
 *
 * ig_journal_compact(j, snapshot) rotates to a new segment, writes a
 * SNAPSHOT record as its first record, syncs it, and only then unlinks
 * every lower-numbered segment and fsyncs the directory. Afterwards PATH
 * itself may not exist: the journal is "PATH.K, PATH.K+1, ...", and
 * readers find the lowest segment present. A crash between the sync and
 * the unlinks leaves the old segments in place; replay then meets the
 * SNAPSHOT after them, which is still consistent (a SNAPSHOT is the whole
 * state as of the records before it: a consumer resets to it).
 *
 * Torn tails
 * ----------
 * A crash mid-write leaves a partial last record (or, mid-rotation, a new
 * segment shorter than its header). Readers check every record's length,
 * CRC, type and sequence and stop at the first bad one, reporting where
 * and why (struct ig_journal_report); they never hand a partial record to
 * the callback. The writer's open truncates such a tail (and rewrites a
 * torn segment header) before it appends, and says so in its report.
 *
 * Threads: a struct ig_journal (the writer) is owned by one thread, the
 * journal thread. The readers (replay, verify) take a path and keep no
 * state: any thread, any number of them, also on a journal being written
 * (they then see a tail that may be mid-write, and report it as torn).
 */
#ifndef IG_JOURNAL_JOURNAL_H
#define IG_JOURNAL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingenium/event.h"
#include "journal/crc32c.h"

#define IG_JOURNAL_MAGIC "IGJRNL01"
#define IG_JOURNAL_VERSION 1
#define IG_JOURNAL_HEADER_BYTES 64
#define IG_JOURNAL_RECORD_HEADER_BYTES 20
#define IG_JOURNAL_MAX_PAYLOAD (UINT32_C(64) << 20) /* 64 MiB: snapshots */
#define IG_JOURNAL_MAX_SEGMENT UINT32_C(999999999)  /* highest N in PATH.N */
#define IG_JOURNAL_DEFAULT_BUF (size_t)(1u << 20)   /* write buffer, bytes */
#define IG_JOURNAL_MIN_BUF (size_t)4096

#define IG_JOURNAL_TYPE_MAP(XX)                                              \
	XX(EVENT, 1, "event")                   /* any struct ig_event */    \
	XX(ORDER_ACCEPTED, 2, "order_accepted") /* intent passed risk, has its client id; durable before the send */ \
	XX(SUBMITTED, 3, "submitted")           /* handed to the venue */    \
	XX(VENUE_ACK, 4, "venue_ack")           /* venue accepted it */      \
	XX(REJECT, 5, "reject")                 /* risk denial or venue rejection */ \
	XX(FILL, 6, "fill")                     /* one execution */          \
	XX(CANCEL_REQ, 7, "cancel_req")         /* cancel requested */       \
	XX(STATE_CHANGE, 8, "state_change")     /* order state transition */ \
	XX(TRADING_STATE, 9, "trading_state")   /* per strategy or global; kill switch */ \
	XX(SNAPSHOT, 10, "snapshot")            /* compacted books, opaque bytes */ \
	XX(MARK, 11, "mark")                    /* mark price */         \
	XX(INTENT, 12, "intent")                /* a strategy's order intent as the OMS received it */

enum ig_journal_type {
#define IG__JT_ENUM(name, code, str) IG_JR_##name = (code),
	IG_JOURNAL_TYPE_MAP(IG__JT_ENUM)
#undef IG__JT_ENUM
	IG_JR__COUNT
};

/* Record flags (struct ig_journal_record.flags), set by the journal stage:
 * OUTPUT  something the OMS sent to the executor (ORDER_ACCEPTED,
 *         CANCEL_REQ): written before it was forwarded; a replay
 *         regenerates it, so it is not fed back in.
 * DERIVED a consequence of an input (STATE_CHANGE, TRADING_STATE), for
 *         the reader; not replayed.
 * Records without either are OMS inputs, replayed in order. */
#define IG_JRF_OUTPUT 0x1u
#define IG_JRF_DERIVED 0x2u

/* Why a reader stopped. CLEAN: it read every byte of every segment. */
#define IG_JOURNAL_STOP_MAP(XX)                                                     \
	XX(CLEAN, "clean")                                                          \
	XX(SHORT_HEADER, "short_file_header")   /* segment shorter than 64 bytes: torn creation */ \
	XX(BAD_HEADER, "bad_file_header")       /* wrong magic, version, size or header CRC */ \
	XX(SHORT_RECORD, "short_record_header") /* fewer than 20 bytes left */   \
	XX(BAD_LENGTH, "bad_length")            /* len > IG_JOURNAL_MAX_PAYLOAD */ \
	XX(SHORT_PAYLOAD, "short_payload")      /* payload runs past end of file */ \
	XX(BAD_CRC, "bad_crc")                                                      \
	XX(BAD_TYPE, "bad_type")                /* CRC good, type unknown */     \
	XX(SEQ_GAP, "seq_gap")                  /* seq is not previous + 1 */    \
	XX(CALLBACK, "callback")                /* the callback returned non-zero */

enum ig_journal_stop {
#define IG__JS_ENUM(name, str) IG_JOURNAL_##name,
	IG_JOURNAL_STOP_MAP(IG__JS_ENUM)
#undef IG__JS_ENUM
	IG_JOURNAL__STOP_COUNT
};

/* Payload of TRADING_STATE. Host layout, fixed size. */
struct ig_journal_trading_state {
	int64_t ts_event_ns;  /* data time of the change, Unix epoch ns */
	uint16_t strategy_id; /* IG_STRATEGY_NONE: the global state */
	uint8_t state;        /* enum ig_trading_state (src/oms/oms.h) */
	uint8_t prev_state;   /* enum ig_trading_state */
	uint8_t reason;       /* enum ig_reject_reason that caused it; NONE if manual */
	uint8_t kill_switch;  /* 1 engaged, 0 clear */
	uint8_t pad[2];       /* zero */
};
_Static_assert(sizeof(struct ig_journal_trading_state) == 16, "trading state payload is 16 bytes");

/* Payload of MARK (or a struct ig_event). Host layout, fixed size. */
struct ig_journal_mark {
	int64_t px;             /* 1e-8 */
	int64_t ts_event_ns;    /* data time, Unix epoch ns */
	uint16_t instrument_id; /* index into the instrument table */
	uint8_t pad[6];         /* zero */
};
_Static_assert(sizeof(struct ig_journal_mark) == 24, "mark payload is 24 bytes");

struct ig_journal_opts {
	uint64_t max_bytes; /* rotate once a segment reaches this size; 0 = never */
	size_t buf_bytes;   /* write buffer; 0 = IG_JOURNAL_DEFAULT_BUF, min IG_JOURNAL_MIN_BUF */
	uint64_t run_epoch; /* stored in the header of each segment this writer creates */
	uint64_t first_seq; /* seq of the first record of a new journal; 0 = 1 */
};

struct ig_journal_stats {
	uint64_t records;   /* appended by this writer */
	uint64_t bytes;     /* record bytes appended (headers + payloads) */
	uint64_t flushes;   /* buffer writes that reached the file */
	uint64_t syncs;     /* fdatasyncs that made records durable (sync, rotation) */
	uint64_t rotations; /* segments this writer created after the first */
	uint64_t compactions;
};

/* What a reader (or the writer's open) found. */
struct ig_journal_report {
	uint64_t records;       /* good records read */
	uint64_t first_seq;     /* seq of the first good record, 0 if none */
	uint64_t last_seq;      /* seq of the last good record, 0 if none */
	uint64_t bytes_good;    /* bytes of good headers and records */
	uint32_t segments;      /* segment files found */
	uint32_t first_segment; /* lowest segment index found */
	uint32_t last_segment;  /* highest segment index found */
	uint64_t run_epoch;     /* run epoch in the last good segment header */
	int stop;               /* enum ig_journal_stop */
	char file[512];         /* the file it stopped in ("" if clean) */
	uint32_t bad_segment;   /* its segment index */
	uint64_t bad_offset;    /* byte offset of the first bad byte in it */
	uint64_t bad_seq;       /* the seq the bad record claimed (SEQ_GAP), else 0 */
	uint64_t bytes_dropped; /* bytes not read: rest of that file + later files */
	uint32_t files_dropped; /* later segment files not read */
};

/* One record, as a reader hands it to the callback. */
struct ig_journal_record {
	uint64_t seq;
	uint16_t type;        /* enum ig_journal_type */
	uint16_t flags;
	uint32_t len;         /* payload bytes */
	const void *payload;  /* valid during the callback only; not aligned */
	uint32_t segment;     /* index of the file it is in */
	uint64_t offset;      /* byte offset of its header in that file */
	uint64_t run_epoch;   /* from that file's header */
};

/* The writer. Owner: the journal thread. Fields are private. */
struct ig_journal {
	int fd;                 /* current segment, O_WRONLY */
	int dir_fd;             /* its directory, for fsync after create/unlink */
	int err;                /* sticky: IG_EIO after a failed fdatasync */
	char *path;             /* base path, malloc'd */
	char *seg_path;         /* current segment's path, malloc'd */
	size_t seg_path_cap;    /* bytes at seg_path */
	uint32_t seg;           /* current segment index */
	uint64_t seg_off;       /* bytes of the segment in the file (next write offset) */
	uint64_t seg_records;   /* records in the current segment */
	uint8_t *buf;           /* write buffer, preallocated */
	size_t buf_cap;         /* bytes */
	size_t buf_len;         /* bytes pending */
	uint64_t buf_last_seq;  /* seq of the last record in buf */
	uint64_t next_seq;      /* seq the next append gets */
	uint64_t written_seq;   /* last seq handed to the file (write(2)) */
	uint64_t durable_seq;   /* last seq covered by a successful fdatasync */
	uint64_t max_bytes;     /* rotation size, 0 = never */
	uint64_t run_epoch;
	struct ig_journal_stats stats;
};

/*
 * Opens the journal whose base path is path for appending, creating it
 * (segment 0 = path, with the parent directory existing) if no segment is
 * there. If segments exist it continues the highest one: it scans it to
 * its last good record, truncates anything after it (a torn tail) or
 * rewrites a torn segment header, fdatasyncs, and continues the sequence.
 * It refuses (IG_EPARSE, nothing changed) a file that is not a journal, or
 * a last segment whose damage is not a torn tail (a good record with a
 * wrong sequence or type).
 *
 * rep (may be NULL) gets what the scan of the last segment found: stop
 * tells whether a tail was cut, bytes_dropped how much.
 *
 * The write buffer is allocated here; appends allocate nothing. Returns 0,
 * IG_EINVAL, IG_ENOMEM, IG_EPARSE, IG_EEXIST or IG_EIO; on failure there is
 * nothing to undo. Any thread; then that thread owns j.
 */
int ig_journal_open(struct ig_journal *j, const char *path, const struct ig_journal_opts *opts,
		    struct ig_journal_report *rep);

/*
 * Appends one record of type with len payload bytes to the write buffer
 * (writing the buffer out first if it is full, and rotating first if the
 * segment has reached max_bytes). A record larger than the buffer is
 * written straight to the file. Stores its seq in *seq_out (may be NULL).
 * Nothing is durable until ig_journal_sync(). Returns 0, IG_EINVAL (bad
 * type, len > IG_JOURNAL_MAX_PAYLOAD), or IG_EIO/IG_EEXIST from a write or
 * a rotation; then the record is not in the journal and its seq is not used.
 */
int ig_journal_append(struct ig_journal *j, enum ig_journal_type type, const void *payload,
		      uint32_t len, uint64_t *seq_out);

/* ig_journal_append() with record flags (IG_JRF_*). */
int ig_journal_append_flags(struct ig_journal *j, enum ig_journal_type type, uint16_t flags,
			    const void *payload, uint32_t len, uint64_t *seq_out);

/* ig_journal_append() of one struct ig_event (hdr.seq written as 0). */
int ig_journal_append_event(struct ig_journal *j, enum ig_journal_type type,
			    const struct ig_event *ev, uint64_t *seq_out);

/* Writes the buffer to the file with write(2) (pwrite). Short writes and
 * EINTR are retried; on an error the unwritten bytes stay buffered and a
 * later flush retries them. Returns 0 or IG_EIO. */
int ig_journal_flush(struct ig_journal *j);

/* Flushes, then fdatasyncs the segment: every record appended so far is
 * durable and ig_journal_durable_seq() rises to it. A failed fdatasync is
 * sticky (the kernel may have dropped the dirty pages, so a retry could
 * falsely succeed): every later call returns IG_EIO. Group commit is the
 * caller's choice of when to call this. Returns 0 or IG_EIO. */
int ig_journal_sync(struct ig_journal *j);

/*
 * Compaction: rotates to a new segment whose first record is a SNAPSHOT
 * with the len bytes at snapshot (the whole state as of the records
 * before it), syncs it, then unlinks every lower segment and fsyncs the
 * directory. Stores the snapshot's seq in *seq_out (may be NULL). Returns
 * 0, IG_EINVAL or IG_EIO (if only the unlinks failed, the journal is
 * still whole and replayable; old segments remain).
 */
int ig_journal_compact(struct ig_journal *j, const void *snapshot, uint32_t len,
		       uint64_t *seq_out);

/* Flushes and syncs (unless a sticky error), closes and frees. Returns the
 * first error (0 if none); j is closed either way. */
int ig_journal_close(struct ig_journal *j);

/* Last seq made durable by ig_journal_sync() (or found on open), 0 if none. */
uint64_t ig_journal_durable_seq(const struct ig_journal *j);

/* Seq of the last record appended (buffered or not), 0 if none. */
uint64_t ig_journal_last_seq(const struct ig_journal *j);

/* Bytes appended but not yet written to the file. */
size_t ig_journal_pending(const struct ig_journal *j);

/* Current segment index (0 for PATH, N for PATH.N). */
uint32_t ig_journal_segment(const struct ig_journal *j);

const struct ig_journal_stats *ig_journal_stats(const struct ig_journal *j);

/* Invariant check for tests and assert(): sequence bookkeeping, buffer
 * bounds and open descriptors. */
bool ig_journal_sanity(const struct ig_journal *j);

/* Reader callback: return 0 to go on; anything else stops the replay,
 * which then returns that value (report stop = CALLBACK). */
typedef int (*ig_journal_fn)(const struct ig_journal_record *rec, void *arg);

/*
 * Reads every segment of the journal at path (PATH, PATH.1, ... from the
 * lowest present) in order and calls fn for each good record. Stops at the
 * first bad or partial record, or segment header, and fills rep (may be
 * NULL) with what was read and what was dropped. Never calls fn with a
 * record that failed a check. Returns 0 if the journal was readable (also
 * when it stopped at damage: see rep->stop), the callback's non-zero value,
 * IG_ENOENT (no segment), IG_EIO (a read failed, or path is not a file) or
 * IG_ENOMEM. Any thread; no state.
 */
int ig_journal_replay(const char *path, ig_journal_fn fn, void *arg,
		      struct ig_journal_report *rep);

/* ig_journal_replay() with no callback: checks every record. The journal
 * is good when it returns 0 and rep->stop == IG_JOURNAL_CLEAN. */
int ig_journal_verify(const char *path, struct ig_journal_report *rep);

/* Copies a record's payload into *ev if it is one struct ig_event.
 * Returns 0 or IG_EPARSE (wrong length). */
int ig_journal_record_event(const struct ig_journal_record *rec, struct ig_event *ev);

/* Formats the path of segment seg of the journal at path into buf.
 * Returns 0 or IG_ERANGE if cap is too small. */
int ig_journal_segment_path(const char *path, uint32_t seg, char *buf, size_t cap);

/* Names for logs, dump and JSON. Static strings; any thread. */
const char *ig_journal_type_name(int type);
const char *ig_journal_stop_name(int stop);

/* One line describing rep, e.g. "stopped: bad_crc in j.3 at offset 4180:
 * 96 bytes dropped (0 later files); last good seq 1042". */
void ig_journal_report_format(const struct ig_journal_report *rep, char *buf, size_t cap);

/* `ingenium journal verify|dump ...`; argv[0] is "journal". Returns the
 * process exit code: 0 good, 1 damaged, 2 usage or unreadable. */
int ig_journal_main(int argc, char **argv);

#endif
