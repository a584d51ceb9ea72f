/*
 * crc32c.c - CRC-32C, slicing-by-8 and SSE4.2 (see crc32c.h).
 *
 * Slicing-by-8 (Intel's, as in LevelDB's crc32c.cc): table[k][b] is the CRC
 * of byte b followed by k zero bytes, so eight input bytes are folded with
 * eight lookups and XORs instead of eight dependent shift/lookup steps. The
 * tables are computed once, under pthread_once, on first use; the choice
 * between table and instruction is made at the same time.
 */
#include "journal/crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY UINT32_C(0x82F63B78)

static uint32_t table[8][256];
static bool use_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int i = 0; i < 8; i++)
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		table[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			table[k][b] = (table[k - 1][b] >> 8) ^ table[0][table[k - 1][b] & 0xFF];
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static void ensure_init(void)
{
	pthread_once(&once, init_tables);
}

static uint32_t sw_raw(uint32_t c, const uint8_t *p, size_t n)
{
	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
		n--;
	}
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		/* The table is little-endian byte order: fold the low 4 bytes
		 * with the running CRC, then look all eight up at once. */
		uint32_t lo = (uint32_t)w ^ c;
		uint32_t hi = (uint32_t)(w >> 32);
		c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^
		    table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
		    table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^
		    table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n > 0) {
		c = (c >> 8) ^ table[0][(c ^ *p++) & 0xFF];
		n--;
	}
	return c;
}

uint32_t ig__crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	ensure_init();
	return ~sw_raw(~crc, buf, len);
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("sse4.2"))) static uint32_t hw_raw(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64;

	while (n > 0 && ((uintptr_t)p & 7) != 0) {
		c = __builtin_ia32_crc32qi(c, *p++);
		n--;
	}
	c64 = c;
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
		p += 8;
		n -= 8;
	}
	c = (uint32_t)c64;
	while (n > 0) {
		c = __builtin_ia32_crc32qi(c, *p++);
		n--;
	}
	return c;
}
#endif

uint32_t ig__crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
	ensure_init();
#if defined(__x86_64__) && defined(__GNUC__)
	if (use_hw)
		return ~hw_raw(~crc, buf, len);
#endif
	return ~sw_raw(~crc, buf, len);
}

bool ig__crc32c_hw_available(void)
{
	ensure_init();
	return use_hw;
}

uint32_t ig_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return ig__crc32c_hw(crc, buf, len);
}
