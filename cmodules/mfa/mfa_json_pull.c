// See mfa_json_pull.h. The grammar is CPython's json scanner (Lib/json/scanner.py and
// Modules/_json.c): NUMBER_RE = -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?, and the words true,
// false, null, NaN, Infinity, -Infinity matched as prefixes (so "truex" is true followed by
// junk, an error at the 'x').
#include <string.h>

#include "mfa_json_pull.h"

enum {
    ST_VALUE,           // a value must come (start, after ':' and after ',' in an array)
    ST_VALUE_OR_END,    // just after '['
    ST_KEY,             // after ',' in an object
    ST_KEY_OR_END,      // just after '{'
    ST_AFTER,           // after a value: ',' or the container's end (or the end of the text)
    ST_DONE,
    ST_FAILED,
};

void mfa_json_pull_init(mfa_json_pull_t *p, const char *s, size_t n) {
    memset(p, 0, sizeof(*p));
    p->s = (const uint8_t *)s;
    p->n = n;
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        p->pos = 3;
    }
    p->state = ST_VALUE;
}

static mfa_json_token_t fail(mfa_json_pull_t *p, size_t pos, const char *why) {
    p->pos = pos;
    p->error = why;
    p->state = ST_FAILED;
    return MFA_JSON_ERROR;
}

static void skip_ws(mfa_json_pull_t *p) {
    while (p->pos < p->n) {
        uint8_t c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            break;
        }
        p->pos++;
    }
}

static bool is_digit(uint8_t c) {
    return c >= '0' && c <= '9';
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// The length of the valid UTF-8 sequence at s[i] (its first byte >= 0x80), or 0: no overlong
// forms, no encoded surrogates, nothing past U+10FFFF (Python's UTF-8 decoder's rules).
static size_t utf8_len(const uint8_t *s, size_t n, size_t i) {
    uint8_t c = s[i];
    size_t len;
    uint8_t lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }
    } else {
        return 0;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) {
        return 0;
    }
    for (size_t k = 2; k < len; k++) {
        if ((s[i + k] & 0xc0) != 0x80) {
            return 0;
        }
    }
    return len;
}

// A string whose opening quote is at p->pos: sets start/len/escaped and moves past the quote.
static bool scan_string(mfa_json_pull_t *p) {
    const uint8_t *s = p->s;
    size_t n = p->n, open = p->pos, i = open + 1;
    p->escaped = false;
    for (;;) {
        if (i >= n) {
            fail(p, open, "Unterminated string starting at");
            return false;
        }
        uint8_t c = s[i];
        if (c == '"') {
            break;
        } else if (c == '\\') {
            if (i + 1 >= n) {
                fail(p, open, "Unterminated string starting at");
                return false;
            }
            uint8_t e = s[i + 1];
            if (e == 'u') {
                for (size_t k = 2; k < 6; k++) {
                    if (i + k >= n || hex_value(s[i + k]) < 0) {
                        fail(p, i + 1, "Invalid \\uXXXX escape");
                        return false;
                    }
                }
                i += 6;
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n'
                       || e == 'r' || e == 't') {
                i += 2;
            } else {
                fail(p, i, "Invalid \\escape");
                return false;
            }
            p->escaped = true;
        } else if (c < 0x20) {
            fail(p, i, "Invalid control character at");
            return false;
        } else if (c < 0x80) {
            i++;
        } else {
            size_t len = utf8_len(s, n, i);
            if (len == 0) {
                fail(p, i, "Invalid UTF-8 at");
                return false;
            }
            i += len;
        }
    }
    p->start = open + 1;
    p->len = i - open - 1;
    p->pos = i + 1;
    return true;
}

// A number at p->pos (a '-' or a digit), as NUMBER_RE matches it; anything after the match is
// left for the caller (so "01" is 0, then an error at the '1').
static mfa_json_token_t scan_number(mfa_json_pull_t *p) {
    const uint8_t *s = p->s;
    size_t n = p->n, i = p->pos;
    bool is_float = false;
    if (s[i] == '-') {
        i++;
        if (n - i >= 8 && memcmp(s + i, "Infinity", 8) == 0) {
            p->start = p->pos;
            p->len = 9;
            p->pos += 9;
            return MFA_JSON_NEG_INF;
        }
    }
    if (i >= n || !is_digit(s[i])) {
        return fail(p, p->pos, "Expecting value");
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && is_digit(s[i])) {
            i++;
        }
    }
    if (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        i += 2;
        while (i < n && is_digit(s[i])) {
            i++;
        }
        is_float = true;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) {
            j++;
        }
        if (j < n && is_digit(s[j])) {
            while (j < n && is_digit(s[j])) {
                j++;
            }
            i = j;
            is_float = true;
        }
    }
    p->start = p->pos;
    p->len = i - p->pos;
    p->pos = i;
    return is_float ? MFA_JSON_FLOAT : MFA_JSON_INT;
}

// The word w at p->pos (matched as a prefix, as CPython does) is token t; else no value is there.
static mfa_json_token_t scan_word(mfa_json_pull_t *p, const char *w, size_t len,
    mfa_json_token_t t) {
    if (p->n - p->pos >= len && memcmp(p->s + p->pos, w, len) == 0) {
        p->start = p->pos;
        p->len = len;
        p->pos += len;
        return t;
    }
    return fail(p, p->pos, "Expecting value");
}

static void set_in_object(mfa_json_pull_t *p, bool obj) {
    uint8_t bit = (uint8_t)(1u << (p->depth & 7));
    if (obj) {
        p->in_object[p->depth >> 3] |= bit;
    } else {
        p->in_object[p->depth >> 3] &= (uint8_t)~bit;
    }
}

static bool top_is_object(const mfa_json_pull_t *p) {
    unsigned d = p->depth - 1u;
    return (p->in_object[d >> 3] >> (d & 7)) & 1;
}

static mfa_json_token_t scan_value(mfa_json_pull_t *p) {
    uint8_t c = p->s[p->pos];
    p->state = ST_AFTER;
    switch (c) {
        case '"':
            return scan_string(p) ? MFA_JSON_STRING : MFA_JSON_ERROR;
        case '{':
        case '[':
            if (p->depth >= MFA_JSON_MAX_DEPTH) {
                return fail(p, p->pos, "Nesting too deep at");
            }
            set_in_object(p, c == '{');
            p->depth++;
            p->pos++;
            p->state = c == '{' ? ST_KEY_OR_END : ST_VALUE_OR_END;
            return c == '{' ? MFA_JSON_OBJECT : MFA_JSON_ARRAY;
        case 't':
            return scan_word(p, "true", 4, MFA_JSON_TRUE);
        case 'f':
            return scan_word(p, "false", 5, MFA_JSON_FALSE);
        case 'n':
            return scan_word(p, "null", 4, MFA_JSON_NULL);
        case 'N':
            return scan_word(p, "NaN", 3, MFA_JSON_NAN);
        case 'I':
            return scan_word(p, "Infinity", 8, MFA_JSON_INF);
        default:
            if (c == '-' || is_digit(c)) {
                return scan_number(p);
            }
            break;
    }
    return fail(p, p->pos, "Expecting value");
}

static mfa_json_token_t scan_key(mfa_json_pull_t *p) {
    if (p->s[p->pos] != '"') {
        return fail(p, p->pos, "Expecting property name enclosed in double quotes");
    }
    if (!scan_string(p)) {
        return MFA_JSON_ERROR;
    }
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != ':') {
        return fail(p, p->pos, "Expecting ':' delimiter");
    }
    p->pos++;
    p->state = ST_VALUE;
    return MFA_JSON_KEY;
}

static mfa_json_token_t close_container(mfa_json_pull_t *p) {
    bool obj = top_is_object(p);
    p->depth--;
    p->pos++;
    p->state = ST_AFTER;
    return obj ? MFA_JSON_OBJECT_END : MFA_JSON_ARRAY_END;
}

mfa_json_token_t mfa_json_next(mfa_json_pull_t *p) {
    if (p->state == ST_FAILED) {
        return MFA_JSON_ERROR;
    }
    if (p->state == ST_DONE) {
        return MFA_JSON_DONE;
    }
    skip_ws(p);
    bool at_end = p->pos >= p->n;
    uint8_t c = at_end ? 0 : p->s[p->pos];
    switch (p->state) {
        case ST_VALUE_OR_END:
            if (c == ']') {
                return close_container(p);
            }
            // fall through
        case ST_VALUE:
            if (at_end) {
                return fail(p, p->pos, "Expecting value");
            }
            return scan_value(p);
        case ST_KEY_OR_END:
            if (c == '}') {
                return close_container(p);
            }
            // fall through
        case ST_KEY:
            if (at_end) {
                return fail(p, p->pos, "Expecting property name enclosed in double quotes");
            }
            return scan_key(p);
        default: // ST_AFTER
            if (p->depth == 0) {
                if (!at_end) {
                    return fail(p, p->pos, "Extra data");
                }
                p->state = ST_DONE;
                return MFA_JSON_DONE;
            }
            if (top_is_object(p)) {
                if (c == '}') {
                    return close_container(p);
                }
                if (c != ',') {
                    return fail(p, p->pos, "Expecting ',' delimiter");
                }
                p->pos++;
                skip_ws(p);
                if (p->pos >= p->n) {
                    return fail(p, p->pos, "Expecting property name enclosed in double quotes");
                }
                return scan_key(p);
            }
            if (c == ']') {
                return close_container(p);
            }
            if (c != ',') {
                return fail(p, p->pos, "Expecting ',' delimiter");
            }
            p->pos++;
            skip_ws(p);
            if (p->pos >= p->n) {
                return fail(p, p->pos, "Expecting value");
            }
            return scan_value(p);
    }
}

static size_t put_utf8(char *d, uint32_t cp) {
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    } else if (cp < 0x800) {
        d[0] = (char)(0xc0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    } else if (cp < 0x10000) {
        d[0] = (char)(0xe0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

static uint32_t hex4(const char *s) {
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        v = (v << 4) | (uint32_t)hex_value((uint8_t)s[k]);
    }
    return v;
}

size_t mfa_json_unescape(const char *src, size_t n, char *dst) {
    size_t i = 0, o = 0;
    while (i < n) {
        char c = src[i];
        if (c != '\\') {
            dst[o++] = c;
            i++;
            continue;
        }
        char e = src[i + 1];
        i += 2;
        switch (e) {
            case 'b': dst[o++] = '\b'; break;
            case 'f': dst[o++] = '\f'; break;
            case 'n': dst[o++] = '\n'; break;
            case 'r': dst[o++] = '\r'; break;
            case 't': dst[o++] = '\t'; break;
            case 'u': {
                uint32_t cp = hex4(src + i);
                i += 4;
                if (cp >= 0xd800 && cp <= 0xdfff) {
                    uint32_t lo = 0;
                    if (cp < 0xdc00 && n - i >= 6 && src[i] == '\\' && src[i + 1] == 'u') {
                        lo = hex4(src + i + 2);
                    }
                    if (lo >= 0xdc00 && lo <= 0xdfff) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        i += 6;
                    } else {
                        cp = 0xfffd;  // a lone surrogate: not representable in UTF-8
                    }
                }
                o += put_utf8(dst + o, cp);
                break;
            }
            default: dst[o++] = e; break;  // " \ /
        }
    }
    return o;
}
