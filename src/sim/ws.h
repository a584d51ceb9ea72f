/*
 * ws.h - the little of RFC 6455 (websockets) exchange-sim needs as a
 * server: the handshake's accept key, unmasked outgoing frames, and a parser
 * for masked incoming frames. No extensions, no fragmentation (a fragment
 * is refused: IG__WS_BAD_FRAGMENT), control frames at most 125 bytes.
 *
 * libwebsockets was considered and not used: its server wants to own the
 * listening socket and the HTTP handshake, while here libmicrohttpd has
 * already answered 101 on the REST port and hands over a bare socket
 * (lws can adopt a socket only before the handshake, as raw or HTTP).
 *
 * Pure functions, no state: callable from any thread.
 */
#ifndef IG_SIM_WS_H
#define IG_SIM_WS_H

#include <stddef.h>
#include <stdint.h>

#define IG__WS_OP_CONT 0x0
#define IG__WS_OP_TEXT 0x1
#define IG__WS_OP_BINARY 0x2
#define IG__WS_OP_CLOSE 0x8
#define IG__WS_OP_PING 0x9
#define IG__WS_OP_PONG 0xA

#define IG__WS_CLOSE_NORMAL 1000
#define IG__WS_CLOSE_GOING_AWAY 1001
#define IG__WS_CLOSE_PROTOCOL 1002
#define IG__WS_CLOSE_UNSUPPORTED 1003
#define IG__WS_CLOSE_POLICY 1008
#define IG__WS_CLOSE_TOO_BIG 1009
#define IG__WS_CLOSE_TRY_LATER 1013

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key: base64 of the
 * SHA-1 of key + the RFC's GUID, 28 characters and a NUL in out. Returns
 * 0, or -1 when key is not a 24-character base64 nonce. */
int ig__ws_accept_key(const char *key, char out[29]);

/* Header size for a payload of len bytes (unmasked, server to client). */
size_t ig__ws_header_len(size_t len);

/* Writes the header of a final, unmasked frame of opcode op and payload
 * length len into out (ig__ws_header_len(len) bytes). Returns that size. */
size_t ig__ws_header(uint8_t *out, int op, size_t len);

enum ig__ws_parse {
	IG__WS_NEED_MORE = 0,    /* not a whole frame yet */
	IG__WS_FRAME = 1,        /* one frame: *op, payload unmasked in place */
	IG__WS_BAD_PROTOCOL = -1,/* not masked, reserved bits, bad control frame */
	IG__WS_BAD_FRAGMENT = -2,/* a fragmented message (refused) */
	IG__WS_TOO_BIG = -3,     /* payload over max_len */
};

/*
 * Parses one client frame at the start of buf (len bytes). On
 * IG__WS_FRAME: *op, the payload at buf + *payload_off (unmasked in place),
 * *payload_len bytes, and *frame_len the bytes the frame took. Returns an
 * enum ig__ws_parse.
 */
int ig__ws_parse(uint8_t *buf, size_t len, size_t max_len, int *op, size_t *payload_off,
		 size_t *payload_len, size_t *frame_len);

#endif
