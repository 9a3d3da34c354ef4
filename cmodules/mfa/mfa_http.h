// mfa_http: a strict, zero-copy HTTP/1.x request parser for microfastapi.
//
// Pure C99: no MicroPython headers, no malloc, no state between calls of
// mfa_http_parse_request (the chunked decoder keeps its state in a struct the caller owns).
// Results are spans into the caller's buffer. python/microfastapi/parser.py is the pure-Python
// twin: same rules, same error codes and reasons; tests/parser checks that both agree.
//
// Shape after picohttpparser: mfa_http_parse_request returns the number of bytes of the head
// (> 0), MFA_HTTP_INCOMPLETE (-2) while the head has not fully arrived, or MFA_HTTP_ERROR (-1)
// with req->error saying why. Strictness after llhttp: every error has its own code, a name, a
// reason and the HTTP status to answer with. Lenient only where RFC 9112 says SHOULD (empty
// lines before the request line, rule 4).
//
// The rules, in the order they are checked:
//
// 1. The head is everything up to and including the first empty line (LF [CR] LF). Until it
//    has arrived, and while len < MFA_HTTP_MAX_HEAD, the result is INCOMPLETE whatever the bytes
//    so far: the result depends only on buf, last_len only avoids re-scanning bytes already
//    searched for the end of the head (a slowloris sending one byte at a time costs O(n), not
//    O(n^2)). Errors in an unfinished head therefore surface once the head is complete or too
//    long; the server's header timeout covers the rest.
// 2. No end of head within the first MFA_HTTP_MAX_HEAD bytes: 414 if not even the request line
//    ended there, else the request line's own error if it has one, else 431.
// 3. Every line ends with CRLF: a LF without CR and a CR not followed by LF are errors
//    (different parsers splitting lines differently is the root of request smuggling).
// 4. Request line: exactly `method SP request-target SP HTTP-version`, single spaces.
//    Method: a token (any token: the router answers 405/501, not the parser). Target: visible
//    ASCII (0x21-0x7E), at most MFA_HTTP_MAX_TARGET bytes (414), origin-form ('/' first) or
//    `*` with OPTIONS. Absolute-form (`GET http://host/ HTTP/1.1`) is rejected: it is only
//    sent to proxies, and a device is not one. Up to MFA_HTTP_MAX_EMPTY_LINES empty lines
//    (CRLF) before the request line are skipped (RFC 9112 2.2: a server SHOULD ignore at least
//    one; some clients send a CRLF after a POST body) and counted in the head's length; more
//    are a malformed request line. The other limits count from the request line. Version:
//    `HTTP/` DIGIT `.` DIGIT (else 400); only 1.0 and 1.1 (else 505).
// 5. Header lines, in wire order: at most *num_headers of them (431); no obs-fold (a line
//    starting with SP/HTAB: 400, RFC 9112 5.2); a token name directly followed by ':' (space
//    before the colon: 400, RFC 9112 5.1, a classic smuggling vector); the value, stripped of
//    surrounding SP/HTAB, without control characters other than HTAB and without DEL, and valid
//    UTF-8 (RFC 3629: no overlongs, no surrogates) so that the bindings can hand it out as a str.
//    Per header, as it is seen: Content-Length digits only and <= 2^63-1, several must agree;
//    Transfer-Encoding only in HTTP/1.1, a comma list whose only coding is `chunked`, once
//    (another coding: 501; chunked twice or an empty list: 400); a second Host: 400.
// 6. After the empty line: Content-Length with Transfer-Encoding: 400 (RFC 9112 6.1 allows a
//    server to reject it, and request smuggling lives there); HTTP/1.1 without Host: 400.
//
// Derived: keep-alive (1.1 unless `Connection: close`; 1.0 only with `Connection: keep-alive`
// and no close; Connection is a case-insensitive comma list), `Expect: 100-continue`
// (HTTP/1.1 only, RFC 9110 10.1.1), chunked, Content-Length.

#ifndef MFA_HTTP_H
#define MFA_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// ---- limits ----------------------------------------------------------------------------------
// Keep equal to the constants at the top of python/microfastapi/parser.py.

// Bytes of request line + headers + empty line. The server keeps the whole head in one
// per-connection buffer, so this is RAM per connection (4 KiB x max_conns).
#ifndef MFA_HTTP_MAX_HEAD
#define MFA_HTTP_MAX_HEAD (4096)
#endif

// Bytes of the request target (414 above). Costs nothing here; must stay below MAX_HEAD.
#ifndef MFA_HTTP_MAX_TARGET
#define MFA_HTTP_MAX_TARGET (2048)
#endif

// Header lines the bindings accept (431 above): the caller's mfa_http_header_t array, 16 bytes
// each on a 32-bit MCU, so 512 bytes of stack in the binding; its head object keeps 8 bytes
// per header.
#ifndef MFA_HTTP_MAX_HEADERS
#define MFA_HTTP_MAX_HEADERS (32)
#endif

// Chunk-size line including extensions, without CRLF. Extensions are skipped, never stored,
// but an unbounded line lets a client spin the decoder forever (cf. CVE-2024-22019 in Node).
#ifndef MFA_HTTP_MAX_CHUNK_LINE
#define MFA_HTTP_MAX_CHUNK_LINE (256)
#endif

// Empty lines (CRLF) skipped before a request line (rule 4).
#ifndef MFA_HTTP_MAX_EMPTY_LINES
#define MFA_HTTP_MAX_EMPTY_LINES (4)
#endif

// Chunked framing (size lines with their extensions and CRLFs, the CRLF after each chunk's data)
// may exceed the body's data bytes by at most this much; beyond it the body is refused (413)
// as soon as it is seen, so a body of millions of 1-byte chunks (5 bytes of framing per data
// byte) costs no more than a few KB of decoding. Chunks of 5 bytes or more never reach it; the
// allowance covers a size line at MFA_HTTP_MAX_CHUNK_LINE with its small chunk.
#ifndef MFA_HTTP_MAX_CHUNK_OVERHEAD
#define MFA_HTTP_MAX_CHUNK_OVERHEAD (1024)
#endif

#define MFA_HTTP_MAX_CONTENT_LENGTH (0x7fffffffffffffffULL)

// ---- errors ------------------------------------------------------------------------------------

// X(code, name, status, reason); the reasons are part of the contract (ParseError.args).
#define MFA_HTTP_ERRORS(X) \
    X(OK, "OK", 0, "no error") \
    X(LF, "LF", 400, "LF without CR") \
    X(CR, "CR", 400, "bare CR") \
    X(REQUEST_LINE, "REQUEST_LINE", 400, "malformed request line") \
    X(METHOD, "METHOD", 400, "invalid method") \
    X(TARGET, "TARGET", 400, "invalid request target") \
    X(TARGET_TOO_LONG, "TARGET_TOO_LONG", 414, "request target too long") \
    X(VERSION, "VERSION", 400, "invalid HTTP version") \
    X(VERSION_UNSUPPORTED, "VERSION_UNSUPPORTED", 505, "HTTP version not supported") \
    X(OBS_FOLD, "OBS_FOLD", 400, "obsolete line folding") \
    X(HEADER_LINE, "HEADER_LINE", 400, "malformed header line") \
    X(HEADER_NAME, "HEADER_NAME", 400, "invalid header name") \
    X(HEADER_SPACE, "HEADER_SPACE", 400, "whitespace before colon") \
    X(HEADER_VALUE, "HEADER_VALUE", 400, "invalid header value") \
    X(TOO_MANY_HEADERS, "TOO_MANY_HEADERS", 431, "too many headers") \
    X(HEAD_TOO_LARGE, "HEAD_TOO_LARGE", 431, "request header fields too large") \
    X(CONTENT_LENGTH, "CONTENT_LENGTH", 400, "invalid Content-Length") \
    X(CONTENT_LENGTH_CONFLICT, "CONTENT_LENGTH_CONFLICT", 400, "conflicting Content-Length") \
    X(TE, "TE", 400, "invalid Transfer-Encoding") \
    X(TE_UNSUPPORTED, "TE_UNSUPPORTED", 501, "unsupported Transfer-Encoding") \
    X(TE_HTTP10, "TE_HTTP10", 400, "Transfer-Encoding in HTTP/1.0") \
    X(CL_AND_TE, "CL_AND_TE", 400, "Content-Length with Transfer-Encoding") \
    X(HOST_MISSING, "HOST_MISSING", 400, "missing Host header") \
    X(HOST_MULTIPLE, "HOST_MULTIPLE", 400, "multiple Host headers") \
    X(CHUNK_SIZE, "CHUNK_SIZE", 400, "invalid chunk size") \
    X(CHUNK_EXT, "CHUNK_EXT", 400, "invalid chunk extension") \
    X(CHUNK_LINE_TOO_LONG, "CHUNK_LINE_TOO_LONG", 400, "chunk extension too long") \
    X(CHUNK_DATA, "CHUNK_DATA", 400, "missing CRLF after chunk data") \
    X(TRAILER, "TRAILER", 400, "invalid trailer") \
    X(TRAILER_TOO_LARGE, "TRAILER_TOO_LARGE", 431, "trailer section too large") \
    X(CHUNK_OVERHEAD, "CHUNK_OVERHEAD", 413, "chunked framing overhead too large")

#define MFA_HTTP_ERR_ENUM(code, name, status, reason) MFA_HTTP_E_##code,
typedef enum _mfa_http_err_t {
    MFA_HTTP_ERRORS(MFA_HTTP_ERR_ENUM)
    MFA_HTTP_E__COUNT
} mfa_http_err_t;
#undef MFA_HTTP_ERR_ENUM

const char *mfa_http_err_name(mfa_http_err_t err);   // "HOST_MISSING"
const char *mfa_http_err_reason(mfa_http_err_t err); // "missing Host header"
int mfa_http_err_status(mfa_http_err_t err);          // 400; 0 for MFA_HTTP_E_OK

// ---- request head ------------------------------------------------------------------------------

#define MFA_HTTP_ERROR (-1)
#define MFA_HTTP_INCOMPLETE (-2)

#define MFA_HTTP_F_CONTENT_LENGTH (1u << 0) // content_length is valid
#define MFA_HTTP_F_CHUNKED (1u << 1)
#define MFA_HTTP_F_KEEP_ALIVE (1u << 2)
#define MFA_HTTP_F_EXPECT_CONTINUE (1u << 3)

typedef struct _mfa_http_header_t {
    const char *name;      // as on the wire (not lower-cased)
    size_t name_len;
    const char *value;     // without surrounding SP/HTAB
    size_t value_len;
} mfa_http_header_t;

typedef struct _mfa_http_request_t {
    const char *method;
    size_t method_len;
    const char *path;      // raw (not percent-decoded), without '?' and query
    size_t path_len;
    const char *query;     // after the first '?'; query_len 0 when there is none
    size_t query_len;
    int minor_version;     // 0 or 1
    unsigned flags;        // MFA_HTTP_F_*
    uint64_t content_length; // when MFA_HTTP_F_CONTENT_LENGTH (never with chunked)
    mfa_http_err_t error;  // when the call returned MFA_HTTP_ERROR
} mfa_http_request_t;

// Parse the head of the request at the start of buf[0..len).
// last_len: len at a previous call on the same buffer that returned INCOMPLETE, else 0.
// headers/num_headers: capacity in, count out (more header lines than the capacity: 431).
// Returns the head length (> 0), MFA_HTTP_INCOMPLETE or MFA_HTTP_ERROR (req->error set).
// All outputs are reset on entry, so a failed parse shows how far it got.
int mfa_http_parse_request(const char *buf, size_t len, size_t last_len,
    mfa_http_request_t *req, mfa_http_header_t *headers, size_t *num_headers);

// First header named name (case-insensitive), or NULL.
const mfa_http_header_t *mfa_http_find_header(const mfa_http_header_t *headers,
    size_t num_headers, const char *name, size_t name_len);

// Case-insensitive ASCII comparison of two spans of equal length.
bool mfa_http_ieq(const char *a, const char *b, size_t len);

// ---- helpers -----------------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[0..avail) (1..4), or 0 if none starts there.
size_t mfa_http_utf8_seq_len(const unsigned char *s, size_t avail);

// Percent-decode src into dst (dst may equal src: the output is never longer). `%` not
// followed by two hex digits is kept as it is; with plus, '+' becomes a space (query strings).
// Returns the decoded length.
size_t mfa_http_unquote(const char *src, size_t len, char *dst, bool plus);

// Copy src to dst replacing every byte that does not start a valid UTF-8 sequence with U+FFFD
// (3 bytes). dst NULL: only count. Returns the output length (at most 3 * len).
size_t mfa_http_utf8_sanitize(const char *src, size_t len, char *dst);

// Iterate over the '&'-separated pieces of a query string, skipping empty ones. Start with
// *pos = 0; returns false when done. key/value are raw spans (not decoded); a piece without
// '=' has an empty value.
bool mfa_http_qs_next(const char *qs, size_t len, size_t *pos,
    const char **key, size_t *key_len, const char **value, size_t *value_len);

// ---- chunked body ------------------------------------------------------------------------------

// Incremental decoder for a chunked request body (RFC 9112 7.1): hex size <= 2^63-1 without
// sign or spaces; chunk extensions `;name[=token|quoted-string]` with BWS around ';' and '='
// are validated and skipped, the size line at most MFA_HTTP_MAX_CHUNK_LINE bytes; CRLF
// everywhere; trailer fields checked like header lines (values may be any non-control bytes)
// and dropped, the trailer section at most MFA_HTTP_MAX_HEAD bytes (431); framing beyond the
// data by more than MFA_HTTP_MAX_CHUNK_OVERHEAD bytes: 413.
typedef struct _mfa_chunked_t {
    uint64_t size;         // bytes left in the current chunk (or the size being read)
    uint32_t count;        // bytes of the current size line / of the trailer section
    uint64_t data;         // payload bytes so far
    uint64_t framing;      // framing bytes so far (size lines, CRLFs; not the trailer)
    uint8_t state;
    uint8_t error;         // mfa_http_err_t, sticky
} mfa_chunked_t;

void mfa_chunked_init(mfa_chunked_t *d);

// Decode src[0..len), writing payload bytes to dst (room for len bytes; dst may equal src).
// *dst_len receives the payload bytes written. Returns MFA_HTTP_INCOMPLETE when all of src was
// consumed and the body continues, the number of bytes consumed (>= 0) when the body ended
// there (the rest of src is the next request), or MFA_HTTP_ERROR (d->error set; sticky).
ptrdiff_t mfa_chunked_decode(mfa_chunked_t *d, const char *src, size_t len, char *dst,
    size_t *dst_len);

bool mfa_chunked_done(const mfa_chunked_t *d);

#endif // MFA_HTTP_H
