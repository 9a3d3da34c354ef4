// libFuzzer target for the JSON code: any bytes, no crash, no read past the input.
// - mfa_json_suspect: text that only holds quoted strings, digits and punctuation is never
//   suspect.
// - mfa_json_pull: accepts exactly what a reference validator (below: a plain recursive-descent
//   reading of CPython's grammar, written apart from the tokenizer) accepts; every string token
//   unescapes into at most its own length, as valid UTF-8.
#include <stdint.h>
#include <string.h>

#include "mfa_json.h"
#include "mfa_json_pull.h"

// ---- the reference validator -------------------------------------------------------------------

typedef struct {
    const uint8_t *s;
    size_t n, i;
} ref_t;

static void ref_ws(ref_t *r) {
    while (r->i < r->n && strchr(" \t\n\r", r->s[r->i]) != NULL && r->s[r->i] != 0) {
        r->i++;
    }
}

static int ref_lit(ref_t *r, const char *w) {
    size_t len = strlen(w);
    if (r->n - r->i >= len && memcmp(r->s + r->i, w, len) == 0) {
        r->i += len;
        return 1;
    }
    return 0;
}

static int ref_digits(ref_t *r) {
    size_t start = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') {
        r->i++;
    }
    return r->i > start;
}

// Python's UTF-8 decoder, by code point value.
static int ref_utf8(ref_t *r) {
    uint8_t c = r->s[r->i];
    int len = c >= 0xf8 ? 0 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (len == 0 || r->n - r->i < (size_t)len) {
        return 0;
    }
    uint32_t cp = c & (0x7f >> len);
    for (int k = 1; k < len; k++) {
        uint8_t b = r->s[r->i + k];
        if ((b & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b & 0x3f);
    }
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    r->i += (size_t)len;
    return 1;
}

static int ref_string(ref_t *r) {
    r->i++;  // the opening quote
    while (r->i < r->n) {
        uint8_t c = r->s[r->i];
        if (c == '"') {
            r->i++;
            return 1;
        }
        if (c < 0x20) {
            return 0;
        }
        if (c == '\\') {
            if (r->i + 1 >= r->n) {
                return 0;
            }
            uint8_t e = r->s[r->i + 1];
            if (e == 'u') {
                if (r->n - r->i < 6) {
                    return 0;
                }
                for (int k = 2; k < 6; k++) {
                    uint8_t h = r->s[r->i + (size_t)k];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
                        return 0;
                    }
                }
                r->i += 6;
            } else if (e != 0 && strchr("\"\\/bfnrt", e) != NULL) {
                r->i += 2;
            } else {
                return 0;
            }
        } else if (c >= 0x80) {
            if (!ref_utf8(r)) {
                return 0;
            }
        } else {
            r->i++;
        }
    }
    return 0;
}

static int ref_value(ref_t *r, int depth);

static int ref_container(ref_t *r, int depth, uint8_t close) {
    if (depth >= MFA_JSON_MAX_DEPTH) {
        return 0;
    }
    r->i++;
    ref_ws(r);
    if (r->i < r->n && r->s[r->i] == close) {
        r->i++;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            if (r->i >= r->n || r->s[r->i] != '"' || !ref_string(r)) {
                return 0;
            }
            ref_ws(r);
            if (r->i >= r->n || r->s[r->i] != ':') {
                return 0;
            }
            r->i++;
        }
        if (!ref_value(r, depth + 1)) {
            return 0;
        }
        ref_ws(r);
        if (r->i >= r->n) {
            return 0;
        }
        if (r->s[r->i] == close) {
            r->i++;
            return 1;
        }
        if (r->s[r->i] != ',') {
            return 0;
        }
        r->i++;
        ref_ws(r);
    }
}

static int ref_value(ref_t *r, int depth) {
    ref_ws(r);
    if (r->i >= r->n) {
        return 0;
    }
    uint8_t c = r->s[r->i];
    if (c == '{' || c == '[') {
        return ref_container(r, depth, c == '{' ? '}' : ']');
    }
    if (c == '"') {
        return ref_string(r);
    }
    if (ref_lit(r, "true") || ref_lit(r, "false") || ref_lit(r, "null") || ref_lit(r, "NaN")
        || ref_lit(r, "Infinity") || ref_lit(r, "-Infinity")) {
        return 1;
    }
    if (c == '-') {
        r->i++;
    }
    if (r->i < r->n && r->s[r->i] == '0') {
        r->i++;
    } else if (!ref_digits(r)) {
        return 0;
    }
    size_t save = r->i;
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        if (!ref_digits(r)) {
            r->i = save;
        }
    }
    save = r->i;
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) {
            r->i++;
        }
        if (!ref_digits(r)) {
            r->i = save;
        }
    }
    return 1;
}

static int ref_valid(const uint8_t *s, size_t n) {
    ref_t r = { s, n, 0 };
    if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        r.i = 3;
    }
    if (!ref_value(&r, 0)) {
        return 0;
    }
    ref_ws(&r);
    return r.i == n;
}

// ---- the target --------------------------------------------------------------------------------

static char out[8192];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bool s = mfa_json_suspect((const char *)data, size);
    bool letters = false;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '<' || c == '(' || c == '"') {
            letters = true;
        }
    }
    if (!letters && s) {
        __builtin_trap();  // suspect without any letter, quote, '<' or '('
    }

    mfa_json_pull_t p;
    mfa_json_pull_init(&p, (const char *)data, size);
    mfa_json_token_t t;
    while ((t = mfa_json_next(&p)) != MFA_JSON_DONE && t != MFA_JSON_ERROR) {
        if ((t == MFA_JSON_STRING || t == MFA_JSON_KEY) && p.len <= sizeof(out)) {
            size_t n = mfa_json_unescape((const char *)p.s + p.start, p.len, out);
            ref_t r = { (const uint8_t *)out, n, 0 };
            if (n > p.len) {
                __builtin_trap();
            }
            while (r.i < r.n) {  // the decoded bytes are valid UTF-8
                if (out[r.i] & 0x80 ? !ref_utf8(&r) : (r.i++, 0)) {
                    __builtin_trap();
                }
            }
        }
    }
    if ((t == MFA_JSON_DONE) != (ref_valid(data, size) == 1)) {
        __builtin_trap();  // the tokenizer and the reference disagree
    }
    return 0;
}
