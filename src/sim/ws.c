/*
 * ws.c - RFC 6455 framing for exchange-sim's streams (see ws.h). SHA-1 and
 * base64 come from nettle.
 */
#include "sim/ws.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int ig__ws_accept_key(const char *key, char out[29])
{
	struct sha1_ctx ctx;
	uint8_t digest[SHA1_DIGEST_SIZE];
	size_t n = key != NULL ? strlen(key) : 0;

	if (n != 24)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || (c == '=' && i >= 22)))
			return -1;
	}
	sha1_init(&ctx);
	sha1_update(&ctx, n, (const uint8_t *)key);
	sha1_update(&ctx, sizeof(ws_guid) - 1, (const uint8_t *)ws_guid);
	sha1_digest(&ctx, sizeof(digest), digest);
	base64_encode_raw((char *)out, sizeof(digest), digest);
	out[28] = '\0';
	return 0;
}

size_t ig__ws_header_len(size_t len)
{
	return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

size_t ig__ws_header(uint8_t *out, int op, size_t len)
{
	out[0] = (uint8_t)(0x80 | (op & 0x0f));
	if (len < 126) {
		out[1] = (uint8_t)len;
		return 2;
	}
	if (len <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		return 4;
	}
	out[1] = 127;
	for (int i = 0; i < 8; i++)
		out[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	return 10;
}

int ig__ws_parse(uint8_t *buf, size_t len, size_t max_len, int *op, size_t *payload_off,
		 size_t *payload_len, size_t *frame_len)
{
	size_t off = 2;
	uint64_t plen;
	uint8_t mask[4];
	int fin, opcode;

	if (len < 2)
		return IG__WS_NEED_MORE;
	fin = (buf[0] & 0x80) != 0;
	opcode = buf[0] & 0x0f;
	if ((buf[0] & 0x70) != 0 || (buf[1] & 0x80) == 0)
		return IG__WS_BAD_PROTOCOL; /* reserved bits, or an unmasked client frame */
	plen = buf[1] & 0x7f;
	if (opcode >= 0x8) {
		if (!fin || plen > 125)
			return IG__WS_BAD_PROTOCOL;
		if (opcode != IG__WS_OP_CLOSE && opcode != IG__WS_OP_PING && opcode != IG__WS_OP_PONG)
			return IG__WS_BAD_PROTOCOL;
	} else if (!fin || opcode == IG__WS_OP_CONT) {
		return IG__WS_BAD_FRAGMENT;
	} else if (opcode != IG__WS_OP_TEXT && opcode != IG__WS_OP_BINARY) {
		return IG__WS_BAD_PROTOCOL;
	}
	if (plen == 126) {
		if (len < 4)
			return IG__WS_NEED_MORE;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		off = 4;
	} else if (plen == 127) {
		if (len < 10)
			return IG__WS_NEED_MORE;
		plen = 0;
		for (int i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		off = 10;
	}
	if (plen > max_len)
		return IG__WS_TOO_BIG;
	if (len < off + 4 + plen)
		return IG__WS_NEED_MORE;
	memcpy(mask, buf + off, 4);
	off += 4;
	for (size_t i = 0; i < plen; i++)
		buf[off + i] ^= mask[i & 3];
	*op = opcode;
	*payload_off = off;
	*payload_len = (size_t)plen;
	*frame_len = off + (size_t)plen;
	return IG__WS_FRAME;
}
