// A pull tokenizer for JSON text: pure C99, no MicroPython headers, no allocation, no recursion
// (unit-tested, sanitized and fuzzed on the host like mfa_http). _mfa.json_loads builds Python
// values from its tokens (modmfa_json.c).
//
// Strict like CPython's json.loads: what CPython rejects is rejected (leading zeros, "1.",
// ".5", trailing commas, control characters in strings, bad escapes, invalid UTF-8, extra
// data), and CPython's non-standard words NaN, Infinity and -Infinity are accepted as it does
// by default. Two documented differences (docs/limits.md): nesting deeper than
// MFA_JSON_MAX_DEPTH is an error (CPython stops at its recursion limit, about 1,000), and a
// lone surrogate escape (\ud800 without its pair) decodes to U+FFFD, since a MicroPython str
// holds only valid UTF-8.
#ifndef MFA_JSON_PULL_H
#define MFA_JSON_PULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MFA_JSON_MAX_DEPTH (64)

typedef enum {
    MFA_JSON_ERROR = 0,     // p->error and p->pos say what and where; every later call says so again
    MFA_JSON_DONE,          // the one top-level value was read and only whitespace follows
    MFA_JSON_OBJECT,        // '{'
    MFA_JSON_OBJECT_END,    // '}'
    MFA_JSON_ARRAY,         // '['
    MFA_JSON_ARRAY_END,     // ']'
    MFA_JSON_KEY,           // an object's key (its ':' is consumed): a string token
    MFA_JSON_STRING,        // a string value
    MFA_JSON_INT,           // -?(0|[1-9][0-9]*): the text is in start/len
    MFA_JSON_FLOAT,         // an int with a fraction and/or an exponent
    MFA_JSON_TRUE,
    MFA_JSON_FALSE,
    MFA_JSON_NULL,
    MFA_JSON_NAN,           // NaN
    MFA_JSON_INF,           // Infinity
    MFA_JSON_NEG_INF,       // -Infinity
} mfa_json_token_t;

typedef struct {
    const uint8_t *s;
    size_t n;
    size_t pos;             // next byte to read; at an error, where the error is
    // The last token: strings are the bytes between the quotes (still escaped when `escaped`),
    // numbers their text.
    size_t start;
    size_t len;
    bool escaped;
    uint8_t state;
    uint8_t depth;
    uint8_t in_object[MFA_JSON_MAX_DEPTH / 8];  // one bit per open container: object or array
    const char *error;      // CPython's wording ("Expecting value", ...); NULL until an error
} mfa_json_pull_t;

// Read JSON text s[0..n). A leading UTF-8 byte order mark is skipped (CPython's json.loads
// skips it in bytes).
void mfa_json_pull_init(mfa_json_pull_t *p, const char *s, size_t n);

// The next token.
mfa_json_token_t mfa_json_next(mfa_json_pull_t *p);

// Decode the escapes of a string token (src, n as the token gave them) into dst, which has room
// for n bytes (a decoded string is never longer than its escaped form). Returns the length.
// The token was checked by mfa_json_next, so this cannot fail.
size_t mfa_json_unescape(const char *src, size_t n, char *dst);

#endif // MFA_JSON_PULL_H
