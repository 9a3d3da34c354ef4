// mfa_ws: the WebSocket (RFC 6455) frame layer for microfastapi.
//
// Pure C99: no MicroPython headers, no malloc. The reader's message buffer comes from the
// caller's allocator (mfa_ws_mem_t, the same calls as mfa_conn_io_t's alloc/realloc/free);
// everything else lives in the caller's structs. python/microfastapi/wsframe.py is the
// pure-Python twin: same rules, same close codes and reasons; tests/ws checks that both agree.
//
// Pieces:
// - SHA-1 and base64, for the opening handshake: mfa_ws_accept_key turns a client's
//   Sec-WebSocket-Key into the server's Sec-WebSocket-Accept.
// - Frame headers (server frames unmasked, client frames masked) and mfa_ws_mask.
// - An incremental UTF-8 validator (state carried across calls).
// - An incremental reader: fed byte slices split anywhere, it hands out one event per call
//   (a text or binary message, reassembled from its fragments; a ping, a pong, a close) or a
//   protocol error with the close code to send.
//
// The reader's rules, checked in this order as the bytes arrive (so the result depends only on
// the byte stream, never on how it was split):
// 1. First two header bytes: RSV1-3 clear (no extension is negotiated), opcode known (0-2,
//    8-10), the mask bit as the side requires (a server reads masked frames only, a client
//    unmasked ones), a control frame (8-10) final and at most 125 bytes, a continuation (0)
//    only inside a fragmented message and a text/binary frame only outside one, a close
//    payload not 1 byte long: all 1002.
// 2. Extended length: a 64-bit length with the top bit set is 1002; a data frame that would
//    take the message beyond max_message is 1009, decided from the length alone before any
//    payload is buffered (a 2^63 length costs nothing).
// 3. Payload: unmasked as it arrives. Text is validated as it arrives, so a bad byte is 1007
//    at once, even in the middle of a fragment; a sequence still open when the message ends
//    is 1007 too. A close payload: a code in 1000-1003, 1007-1014 or 3000-4999 (else 1002),
//    then a UTF-8 reason (else 1007).
// Errors are sticky: once one is reported every later feed reports it again and consumes
// nothing. A close frame ends the stream: everything after it is consumed and ignored.
//
// Memory: control payloads (at most 125 bytes) live in the reader itself. A message's buffer
// grows as its payload arrives, doubling but never past the end of the frame being read (so a
// frame that arrives whole costs one allocation of its exact size, and a header claiming a
// large length allocates nothing until payload comes), and never past max_message. It is
// freed at the next feed after the message was handed out, unless the caller took it
// (mfa_ws_reader_take). Out of memory is reported as an error (1011).

#ifndef MFA_WS_H
#define MFA_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// ---- opcodes and close codes -------------------------------------------------------------------

#define MFA_WS_OP_CONT (0)
#define MFA_WS_OP_TEXT (1)
#define MFA_WS_OP_BINARY (2)
#define MFA_WS_OP_CLOSE (8)
#define MFA_WS_OP_PING (9)
#define MFA_WS_OP_PONG (10)

#define MFA_WS_CLOSE_NORMAL (1000)
#define MFA_WS_CLOSE_PROTOCOL (1002)
#define MFA_WS_CLOSE_NO_STATUS (1005)   // reported for a close frame without payload
#define MFA_WS_CLOSE_INVALID_DATA (1007)
#define MFA_WS_CLOSE_TOO_BIG (1009)
#define MFA_WS_CLOSE_INTERNAL (1011)

#define MFA_WS_MAX_CONTROL (125)        // payload bytes of a ping, pong or close frame
#define MFA_WS_MAX_HEADER (14)          // 2 + 8 (64-bit length) + 4 (mask)

// True for a close code a peer may send (RFC 6455 7.4; 1004-1006 and 1015 are never sent).
bool mfa_ws_close_code_valid(unsigned code);

// ---- SHA-1, base64, the handshake ---------------------------------------------------------------

typedef struct _mfa_sha1_t {
    uint32_t h[5];
    uint32_t len_lo;        // message length in bytes (64-bit as two halves: no 64-bit math)
    uint32_t len_hi;
    uint8_t block[64];
    uint8_t used;           // bytes in block
} mfa_sha1_t;

void mfa_sha1_init(mfa_sha1_t *s);
void mfa_sha1_update(mfa_sha1_t *s, const uint8_t *data, size_t n);
void mfa_sha1_final(mfa_sha1_t *s, uint8_t out[20]);

// Standard alphabet with '=' padding, no line breaks. Writes 4 * ceil(n / 3) chars (no NUL)
// and returns that length.
size_t mfa_base64_encode(const uint8_t *src, size_t n, char *dst);

// Strict decoding: n a multiple of 4, standard alphabet only, '=' only as the last one or two
// chars (the unused bits of the last char are not checked, as in Python's base64 with
// validate=True). dst needs room for 3 * n / 4 bytes. Returns the decoded length, -1 when src
// is not base64.
ptrdiff_t mfa_base64_decode(const char *src, size_t n, uint8_t *dst);

#define MFA_WS_ACCEPT_LEN (28)

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: false unless key is exactly 24 chars of
// base64 decoding to 16 bytes; else out = base64(SHA-1(key + the RFC 6455 GUID)), 28 chars,
// no NUL.
bool mfa_ws_accept_key(const char *key, size_t key_len, char out[MFA_WS_ACCEPT_LEN]);

// ---- frames ------------------------------------------------------------------------------------

// A server frame's header (unmasked): 2, 4 or 10 bytes written to out, the count returned.
// opcode 0-15 (not checked beyond its 4 bits), len up to 2^63-1.
size_t mfa_ws_frame_header(uint8_t out[10], unsigned opcode, bool fin, uint64_t len);

// A client frame's header, with the mask key: 6, 8 or 14 bytes. The payload that follows must
// be masked with mfa_ws_mask(payload, len, mask, 0).
size_t mfa_ws_frame_header_masked(uint8_t out[MFA_WS_MAX_HEADER], unsigned opcode, bool fin,
    uint64_t len, const uint8_t mask[4]);

// XOR data[0..n) with the mask, data[0] being byte `offset` of the payload (only offset % 4
// matters: a payload unmasked in pieces passes the bytes done so far). Its own inverse.
// Word at a time once data is aligned.
void mfa_ws_mask(uint8_t *data, size_t n, const uint8_t mask[4], size_t offset);

// ---- UTF-8 -------------------------------------------------------------------------------------

// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates U+D800-DFFF, nothing
// above U+10FFFF), the state carried from one call to the next so a sequence may be split
// between calls. Once a byte is invalid the state stays invalid.
typedef struct _mfa_ws_utf8_t {
    uint8_t need;           // continuation bytes still to come; 0xff: invalid
    uint8_t lo;             // allowed range of the next continuation byte
    uint8_t hi;
} mfa_ws_utf8_t;

void mfa_ws_utf8_init(mfa_ws_utf8_t *u);

// Validate s[0..n). Returns n when every byte was acceptable so far (a sequence may still be
// open), else the index of the first invalid byte.
size_t mfa_ws_utf8_feed(mfa_ws_utf8_t *u, const uint8_t *s, size_t n);

// True when everything fed so far is complete, valid UTF-8 (no sequence left open).
bool mfa_ws_utf8_complete(const mfa_ws_utf8_t *u);

// ---- errors ------------------------------------------------------------------------------------

// X(code, close code, reason); the reasons are part of the contract (WsError.args).
#define MFA_WS_ERRORS(X) \
    X(OK, 0, "no error") \
    X(RSV, 1002, "reserved bits set") \
    X(OPCODE, 1002, "unknown opcode") \
    X(NOT_MASKED, 1002, "frame not masked") \
    X(MASKED, 1002, "masked frame") \
    X(CONTROL_FRAGMENTED, 1002, "fragmented control frame") \
    X(CONTROL_TOO_LONG, 1002, "control frame too long") \
    X(CONTINUATION, 1002, "continuation frame without a message") \
    X(UNFINISHED, 1002, "new message before the last one ended") \
    X(CLOSE_LENGTH, 1002, "close frame with a 1-byte payload") \
    X(LENGTH, 1002, "invalid frame length") \
    X(TOO_BIG, 1009, "message too big") \
    X(UTF8, 1007, "invalid UTF-8 in text message") \
    X(CLOSE_CODE, 1002, "invalid close code") \
    X(CLOSE_UTF8, 1007, "invalid UTF-8 in close reason") \
    X(NOMEM, 1011, "out of memory")

#define MFA_WS_ERR_ENUM(code, close, reason) MFA_WS_E_##code,
typedef enum _mfa_ws_err_t {
    MFA_WS_ERRORS(MFA_WS_ERR_ENUM)
    MFA_WS_E__COUNT
} mfa_ws_err_t;
#undef MFA_WS_ERR_ENUM

const char *mfa_ws_err_reason(mfa_ws_err_t err);    // "message too big"
unsigned mfa_ws_err_code(mfa_ws_err_t err);          // 1009; 0 for MFA_WS_E_OK

// ---- reader ------------------------------------------------------------------------------------

// The message buffer's allocator (the calls of mfa_conn_io_t). alloc/realloc return NULL on
// failure; free and realloc are given the size that was allocated.
typedef struct _mfa_ws_mem_t {
    void *(*alloc)(void *ctx, size_t n);
    void *(*realloc)(void *ctx, void *p, size_t old_n, size_t new_n);
    void (*free)(void *ctx, void *p, size_t n);
} mfa_ws_mem_t;

// Event types: the opcode of what was received, or one of these.
#define MFA_WS_EV_NONE (0)          // every byte given was consumed, no event yet
#define MFA_WS_EV_TEXT (1)          // data/len: a whole text message (valid UTF-8)
#define MFA_WS_EV_BINARY (2)        // data/len: a whole binary message
#define MFA_WS_EV_CLOSE (8)         // code (1005: no payload), data/len: the reason (UTF-8)
#define MFA_WS_EV_PING (9)          // data/len: the payload
#define MFA_WS_EV_PONG (10)         // data/len: the payload
#define MFA_WS_EV_ERROR (-1)        // error: why; code: the close code to answer with

typedef struct _mfa_ws_event_t {
    int type;                   // MFA_WS_EV_*
    const uint8_t *data;        // into the reader, valid until the next feed (NULL when len 0)
    size_t len;
    unsigned code;              // close: the peer's code; error: the code to send
    mfa_ws_err_t error;         // error: why (mfa_ws_err_reason)
} mfa_ws_event_t;

typedef struct _mfa_ws_reader_t {
    const mfa_ws_mem_t *mem;
    void *ctx;                  // passed to mem's calls
    size_t max_message;
    uint8_t *msg;               // the message being reassembled: msg_cap bytes allocated
    size_t msg_len;
    size_t msg_cap;
    size_t frame_left;          // payload bytes of the current frame still to come
    size_t frame_end;           // msg_len once the current data frame is complete
    uint8_t hdr[MFA_WS_MAX_HEADER];
    uint8_t hdr_len;            // header bytes so far
    uint8_t hdr_need;           // header bytes in all (2 until the second byte is known)
    uint8_t mask[4];
    uint8_t mask_off;           // payload bytes of the frame unmasked so far, modulo 4
    uint8_t opcode;             // of the current frame
    uint8_t fin;
    uint8_t msg_op;             // TEXT or BINARY while a message is open, else 0
    uint8_t state;              // internal
    uint8_t client;             // reads a server's frames (unmasked) instead of a client's
    uint8_t ctl_len;
    mfa_ws_utf8_t utf8;         // over the text message so far
    mfa_ws_err_t error;         // sticky
    uint8_t ctl[MFA_WS_MAX_CONTROL];
} mfa_ws_reader_t;

// mem may be NULL when max_message is 0 (then no data frame may carry payload).
// client: false for a server reading a client's (masked) frames, true for the other way round.
void mfa_ws_reader_init(mfa_ws_reader_t *r, const mfa_ws_mem_t *mem, void *ctx,
    size_t max_message, bool client);

// Consume data[0..n) up to and including the end of the next event, and return how many bytes
// that was (the caller loops on the rest). ev->type is MFA_WS_EV_NONE when all n bytes were
// consumed without completing an event. After an error: returns 0 with the same error event
// every time. After a close event: consumes everything, reports nothing. An event's data stays
// valid until the next call.
size_t mfa_ws_reader_feed(mfa_ws_reader_t *r, const uint8_t *data, size_t n,
    mfa_ws_event_t *ev);

// Right after a TEXT or BINARY event: the message's buffer becomes the caller's (who frees it
// with the reader's mem->free and *size). Returns NULL (and *size 0) for an empty message or
// when there is no message to take.
uint8_t *mfa_ws_reader_take(mfa_ws_reader_t *r, size_t *size);

// True once a close frame or an error ended the stream.
bool mfa_ws_reader_done(const mfa_ws_reader_t *r);

// Free the message buffer. The reader may be initialised again afterwards.
void mfa_ws_reader_deinit(mfa_ws_reader_t *r);

#endif // MFA_WS_H
