// mfa_multipart: the multipart/form-data (RFC 7578, RFC 2046 5.1) scanner for microfastapi.
//
// Pure C99: no MicroPython headers, no malloc. The caller owns the state (mfa_mp_t) and the
// header buffer (max_header bytes, given at init). python/microfastapi/multipart.py is the
// pure-Python twin: same rules, same errors; tests/multipart checks that both agree, and
// against python-multipart.
//
// The body is a sequence of parts separated by delimiters. The delimiter is CRLF "--" boundary;
// the first one may come without the CRLF (the body starts with "--boundary" or with
// "\r\n--boundary": no other preamble). After a delimiter: "--" ends the body (the final
// boundary; anything after it, the epilogue, is consumed and ignored), or optional SP/HT
// (transport padding) then CRLF starts a part; anything else is 400 "bad delimiter". A part is
// a header block (lines ending in CRLF, then an empty line) and its content, which runs up to
// the next delimiter and may hold anything else (CR, LF, "--", the boundary without the CRLF
// before it, a part of the delimiter).
//
// The reader's rules, in the order they fall as the bytes arrive (so the result depends only on
// the byte stream, never on how it was split):
// 1. The body must start with the first delimiter (else NO_START); the delimiter line must be
//    as above (else DELIMITER). The line that starts part number max_parts + 1 is TOO_MANY_PARTS.
// 2. Header bytes, one at a time: a byte that would take the block (its lines and the empty
//    line, CRLFs counted) past max_header is HEADER_TOO_LARGE; a CR not followed by LF or a LF
//    without CR before it is HEADERS.
// 3. The complete block: every line `name: value` with a token name and no space before the
//    colon (a line starting with SP/HT, obs-fold, is refused: RFC 7578 senders never fold), a
//    value of visible ASCII, SP, HT and valid UTF-8 (no NUL or other control), else HEADERS;
//    Content-Disposition and Content-Type at most once each (two would let two parsers see two
//    names: HEADERS). Content-Disposition must be there, of type form-data (any case), with a
//    name parameter (NO_NAME). Its parameters: `key=token` or `key="quoted"`, keys any case,
//    SP/HT around ';' and '='; in a quoted value \" and \\ are escapes and any other backslash
//    is itself (browsers send a\b.txt as "a\b.txt" and escape '"' as %22, which stays: no
//    percent-decoding); keys with '*' (filename*=, RFC 2231) are ignored, as RFC 7578 4.2 says;
//    a parameter without '=', a key that is not a token, a quote in an unquoted value, text
//    after a closing quote, an unterminated quote or a repeated name/filename are HEADERS.
// Errors are sticky: once one is reported every later feed reports it again and consumes
// nothing.

#ifndef MFA_MULTIPART_H
#define MFA_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MFA_MP_MAX_BOUNDARY (70)    // RFC 2046 5.1.1
#define MFA_MP_MAX_DELIM (4 + MFA_MP_MAX_BOUNDARY)

// X(code, HTTP status, message); the messages are part of the contract (MultipartError.args).
// The two 413 messages get " (limit N)" appended (mfa_mp_error_text).
#define MFA_MP_ERRORS(X) \
    X(OK, 0, "no error") \
    X(NO_BOUNDARY, 400, "multipart: no boundary") \
    X(BAD_BOUNDARY, 400, "multipart: bad boundary") \
    X(NO_START, 400, "multipart: body does not start with the boundary") \
    X(DELIMITER, 400, "multipart: bad delimiter") \
    X(HEADERS, 400, "multipart: bad part headers") \
    X(NO_NAME, 400, "multipart: part without a Content-Disposition form-data name") \
    X(TOO_MANY_PARTS, 413, "multipart: too many parts") \
    X(HEADER_TOO_LARGE, 413, "multipart: part headers too large") \
    X(MISSING_END, 400, "multipart: missing final boundary")

#define MFA_MP_ERR_ENUM(code, status, reason) MFA_MP_E_##code,
typedef enum _mfa_mp_err_t {
    MFA_MP_ERRORS(MFA_MP_ERR_ENUM)
    MFA_MP_E__COUNT
} mfa_mp_err_t;
#undef MFA_MP_ERR_ENUM

const char *mfa_mp_err_reason(mfa_mp_err_t err);    // "multipart: bad delimiter"
unsigned mfa_mp_err_status(mfa_mp_err_t err);       // 400; 0 for MFA_MP_E_OK

// Event types (the numbers are the Python tuples' first items).
#define MFA_MP_EV_NONE (0)          // every byte given was consumed, no event yet
#define MFA_MP_EV_PART (1)          // a part's header block is complete: name, filename, ...
#define MFA_MP_EV_DATA (2)          // data/len: the next bytes of the part's content (len > 0)
#define MFA_MP_EV_PART_END (3)      // the part's closing delimiter line was seen
#define MFA_MP_EV_END (4)           // the final boundary was seen
#define MFA_MP_EV_ERROR (-1)        // error: why

typedef struct _mfa_mp_event_t {
    int type;                       // MFA_MP_EV_*
    // DATA: into the slice given to feed, or into the reader (held-back bytes, at most the
    // delimiter's length), valid until the next feed.
    const uint8_t *data;
    size_t len;
    // PART: spans into the header buffer, valid until the next feed. name and filename are
    // raw (without their quotes, escapes not undone) until mfa_mp_part_unescape.
    const uint8_t *name;
    size_t name_len;
    const uint8_t *filename;        // NULL when there is no filename parameter
    size_t filename_len;
    const uint8_t *content_type;    // the Content-Type value, NULL when there is none
    size_t content_type_len;
    mfa_mp_err_t error;             // ERROR: why
} mfa_mp_event_t;

typedef struct _mfa_mp_header_t {
    const uint8_t *name;            // lower-cased
    size_t name_len;
    const uint8_t *value;           // SP/HT trimmed from both ends
    size_t value_len;
} mfa_mp_header_t;

typedef struct _mfa_mp_t {
    // "\r\n--" boundary: what is searched for, and the bytes held back across feeds (those
    // always are its first `match` bytes, so they need no buffer of their own).
    uint8_t delim[MFA_MP_MAX_DELIM];
    uint8_t dlen;
    uint8_t match;                  // delimiter bytes matched so far (held back)
    uint8_t state;                  // internal
    uint8_t in_part;                // a part is open (its PART_END not yet reported)
    uint8_t name_esc;               // the name / filename spans hold a backslash escape
    uint8_t filename_esc;
    uint8_t *hbuf;                  // the header block; hcap bytes, the caller's
    size_t hcap;
    size_t hlen;
    size_t max_parts;
    size_t parts;                   // parts started
    mfa_mp_err_t error;             // sticky
} mfa_mp_t;

// boundary[0..n): without the leading "--"; 1-70 bchars (RFC 2046: digits, letters,
// '()+_,-./:=? and space, not last). hbuf[0..hcap): the header buffer (hcap is max_header).
// Returns MFA_MP_E_BAD_BOUNDARY (and a reader that reports it on every feed) or MFA_MP_E_OK.
mfa_mp_err_t mfa_mp_init(mfa_mp_t *p, const uint8_t *boundary, size_t n, uint8_t *hbuf,
    size_t hcap, size_t max_parts);

// Consume data[0..n) up to and including the end of the next event and return how many bytes
// that was (the caller loops on the rest). ev->type is MFA_MP_EV_NONE when all n bytes were
// consumed without an event. After an error: returns 0 with the same error event every time.
// After END: consumes everything, reports nothing.
size_t mfa_mp_feed(mfa_mp_t *p, const uint8_t *data, size_t n, mfa_mp_event_t *ev);

// The body ended: MFA_MP_E_OK when the final boundary was seen, else the sticky error (or,
// when there was none, MISSING_END, which becomes sticky).
mfa_mp_err_t mfa_mp_finish(mfa_mp_t *p);

// After a PART event: the headers in order. Start with *pos = 0; false when done.
bool mfa_mp_header_next(const mfa_mp_t *p, size_t *pos, mfa_mp_header_t *h);

// After a PART event (and after reading its headers, whose Content-Disposition value this
// overwrites): undo the quoted-string escapes of name and filename in place in the header
// buffer and update ev's spans.
void mfa_mp_part_unescape(mfa_mp_t *p, mfa_mp_event_t *ev);

// The error's message as MultipartError has it ("multipart: too many parts (limit 64)"), NUL
// terminated, cut to size. Returns its length.
size_t mfa_mp_error_text(const mfa_mp_t *p, mfa_mp_err_t err, char *out, size_t size);

#endif // MFA_MULTIPART_H
