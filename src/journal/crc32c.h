/*
 * crc32c.h - CRC-32C (Castagnoli): the journal's record checksum.
 *
 * Polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value ~0, final
 * XOR ~0, as in iSCSI, ext4, LevelDB and RocksDB. Check value:
 * ig_crc32c(0, "123456789", 9) == 0xE3069283.
 *
 * Two implementations give the same result: a portable slicing-by-8 table
 * (8 KiB of tables, built once on first use under pthread_once), and on
 * x86-64 CPUs with SSE4.2 the crc32 instruction, picked at run time. All
 * functions are pure and may be called from any thread.
 */
#ifndef IG_JOURNAL_CRC32C_H
#define IG_JOURNAL_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Extends crc (the finished CRC of the bytes before buf, or 0 to start)
 * over len bytes at buf, and returns the finished CRC. So
 * ig_crc32c(ig_crc32c(0, a, n), b, m) == CRC of a then b. */
uint32_t ig_crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable table implementation (for tests and benchmarks). */
uint32_t ig__crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* The SSE4.2 implementation, or the table one where the CPU lacks it. */
uint32_t ig__crc32c_hw(uint32_t crc, const void *buf, size_t len);

/* True if ig_crc32c() uses the crc32 instruction. */
bool ig__crc32c_hw_available(void);

#endif
