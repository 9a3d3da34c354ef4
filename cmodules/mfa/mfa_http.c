// mfa_http: strict HTTP/1.x request parser. The rules and their reasons are in mfa_http.h;
// python/microfastapi/parser.py implements the same rules in the same order.

#include <string.h>

#include "mfa_http.h"

// ---- errors ------------------------------------------------------------------------------------

#define MFA_HTTP_ERR_NAME(code, name, status, reason) name,
#define MFA_HTTP_ERR_STATUS(code, name, status, reason) status,
#define MFA_HTTP_ERR_REASON(code, name, status, reason) reason,

static const char *const mfa_http_err_names[] = { MFA_HTTP_ERRORS(MFA_HTTP_ERR_NAME) };
static const uint16_t mfa_http_err_statuses[] = { MFA_HTTP_ERRORS(MFA_HTTP_ERR_STATUS) };
static const char *const mfa_http_err_reasons[] = { MFA_HTTP_ERRORS(MFA_HTTP_ERR_REASON) };

const char *mfa_http_err_name(mfa_http_err_t err) {
    return (unsigned)err < MFA_HTTP_E__COUNT ? mfa_http_err_names[err] : "UNKNOWN";
}

const char *mfa_http_err_reason(mfa_http_err_t err) {
    return (unsigned)err < MFA_HTTP_E__COUNT ? mfa_http_err_reasons[err] : "unknown error";
}

int mfa_http_err_status(mfa_http_err_t err) {
    return (unsigned)err < MFA_HTTP_E__COUNT ? mfa_http_err_statuses[err] : 400;
}

// ---- character classes -------------------------------------------------------------------------

// tchar (RFC 9110 5.6.2). A table: one load per byte on a Cortex-M0+ beats a chain of compares.
static const uint8_t mfa_http_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

static inline bool is_ows(unsigned char c) {
    return c == ' ' || c == '\t';
}

static inline unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

static bool is_token(const unsigned char *s, size_t n) {
    if (n == 0) {
        return false;
    }
    for (size_t i = 0; i < n; ++i) {
        if (!mfa_http_tchar[s[i]]) {
            return false;
        }
    }
    return true;
}

bool mfa_http_ieq(const char *a, const char *b, size_t len) {
    for (size_t i = 0; i < len; ++i) {
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) {
            return false;
        }
    }
    return true;
}

// Span equals a lower-case literal, ignoring case.
static bool span_is(const unsigned char *s, size_t n, const char *lit, size_t lit_len) {
    return n == lit_len && mfa_http_ieq((const char *)s, lit, n);
}

#define SPAN_IS(s, n, lit) span_is((s), (n), (lit), sizeof(lit) - 1)

static void strip_ows(const unsigned char **s, size_t *n) {
    const unsigned char *p = *s;
    size_t len = *n;
    while (len > 0 && is_ows(p[0])) {
        ++p;
        --len;
    }
    while (len > 0 && is_ows(p[len - 1])) {
        --len;
    }
    *s = p;
    *n = len;
}

size_t mfa_http_utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf;
    // RFC 3629 table 4: the second byte's range excludes overlongs (E0, F0) and surrogates (ED)
    // and code points above U+10FFFF (F4).
    if (c < 0xc2) {
        return 0;
    } else if (c < 0xe0) {
        need = 1;
    } else if (c < 0xf0) {
        need = 2;
        if (c == 0xe0) {
            lo = 0xa0;
        } else if (c == 0xed) {
            hi = 0x9f;
        }
    } else if (c < 0xf5) {
        need = 3;
        if (c == 0xf0) {
            lo = 0x90;
        } else if (c == 0xf4) {
            hi = 0x8f;
        }
    } else {
        return 0;
    }
    if (need >= avail) {
        return 0;
    }
    if (s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t k = 2; k <= need; ++k) {
        if (s[k] < 0x80 || s[k] > 0xbf) {
            return 0;
        }
    }
    return need + 1;
}

// Field value (OWS stripped): no CTL but HTAB, no DEL, valid UTF-8.
static bool value_ok(const unsigned char *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = v[i];
        if (c >= 0x20 && c < 0x7f) {
            ++i;
        } else if (c < 0x80) {
            if (c != '\t') {
                return false;
            }
            ++i;
        } else {
            size_t k = mfa_http_utf8_seq_len(v + i, n - i);
            if (k == 0) {
                return false;
            }
            i += k;
        }
    }
    return true;
}

// ---- request head ------------------------------------------------------------------------------

// Index just past the first empty line (LF followed by LF or CRLF) in s[start..stop), or 0.
static size_t find_end(const unsigned char *s, size_t start, size_t stop) {
    size_t i = start;
    while (i < stop) {
        const unsigned char *lf = memchr(s + i, '\n', stop - i);
        if (lf == NULL) {
            return 0;
        }
        i = (size_t)(lf - s);
        if (i + 1 < stop && s[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < stop && s[i + 1] == '\r' && s[i + 2] == '\n') {
            return i + 3;
        }
        ++i;
    }
    return 0;
}

// The request line s[0..n) (with its CR, without LF).
static mfa_http_err_t parse_request_line(const unsigned char *s, size_t n, mfa_http_request_t *req) {
    if (n == 0 || s[n - 1] != '\r') {
        return MFA_HTTP_E_LF;
    }
    --n;
    if (memchr(s, '\r', n) != NULL) {
        return MFA_HTTP_E_CR;
    }
    const unsigned char *sp1 = memchr(s, ' ', n);
    if (sp1 == NULL) {
        return MFA_HTTP_E_REQUEST_LINE;
    }
    const unsigned char *t = sp1 + 1;
    const unsigned char *end = s + n;
    const unsigned char *sp2 = memchr(t, ' ', (size_t)(end - t));
    if (sp2 == NULL) {
        return MFA_HTTP_E_REQUEST_LINE;
    }
    const unsigned char *v = sp2 + 1;
    size_t method_len = (size_t)(sp1 - s);
    size_t target_len = (size_t)(sp2 - t);
    size_t version_len = (size_t)(end - v);
    if (method_len == 0 || target_len == 0 || version_len == 0
        || memchr(v, ' ', version_len) != NULL) {
        return MFA_HTTP_E_REQUEST_LINE;
    }
    if (!is_token(s, method_len)) {
        return MFA_HTTP_E_METHOD;
    }
    if (target_len > MFA_HTTP_MAX_TARGET) {
        return MFA_HTTP_E_TARGET_TOO_LONG;
    }
    for (size_t i = 0; i < target_len; ++i) {
        if (t[i] < 0x21 || t[i] > 0x7e) {
            return MFA_HTTP_E_TARGET;
        }
    }
    if (t[0] != '/' && !(target_len == 1 && t[0] == '*'
                         && method_len == 7 && memcmp(s, "OPTIONS", 7) == 0)) {
        return MFA_HTTP_E_TARGET;
    }
    if (version_len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.'
        || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') {
        return MFA_HTTP_E_VERSION;
    }
    if (v[5] != '1' || v[7] > '1') {
        return MFA_HTTP_E_VERSION_UNSUPPORTED;
    }
    req->method = (const char *)s;
    req->method_len = method_len;
    const unsigned char *q = memchr(t, '?', target_len);
    req->path = (const char *)t;
    if (q == NULL) {
        req->path_len = target_len;
        req->query = (const char *)(t + target_len);
        req->query_len = 0;
    } else {
        req->path_len = (size_t)(q - t);
        req->query = (const char *)(q + 1);
        req->query_len = target_len - req->path_len - 1;
    }
    req->minor_version = v[7] - '0';
    return MFA_HTTP_E_OK;
}

// One header line s[0..n) (with its CR, without LF; never empty nor just CR).
static mfa_http_err_t parse_header_line(const unsigned char *s, size_t n, mfa_http_header_t *h) {
    if (s[n - 1] != '\r') {
        return MFA_HTTP_E_LF;
    }
    --n;
    if (memchr(s, '\r', n) != NULL) {
        return MFA_HTTP_E_CR;
    }
    if (is_ows(s[0])) {
        return MFA_HTTP_E_OBS_FOLD;
    }
    const unsigned char *colon = memchr(s, ':', n);
    if (colon == NULL) {
        return MFA_HTTP_E_HEADER_LINE;
    }
    size_t name_len = (size_t)(colon - s);
    if (name_len == 0) {
        return MFA_HTTP_E_HEADER_NAME;
    }
    if (is_ows(s[name_len - 1])) {
        return MFA_HTTP_E_HEADER_SPACE;
    }
    if (!is_token(s, name_len)) {
        return MFA_HTTP_E_HEADER_NAME;
    }
    const unsigned char *v = colon + 1;
    size_t vn = n - name_len - 1;
    strip_ows(&v, &vn);
    if (!value_ok(v, vn)) {
        return MFA_HTTP_E_HEADER_VALUE;
    }
    h->name = (const char *)s;
    h->name_len = name_len;
    h->value = (const char *)v;
    h->value_len = vn;
    return MFA_HTTP_E_OK;
}

static bool parse_content_length(const unsigned char *v, size_t n, uint64_t *out) {
    if (n == 0) {
        return false;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) {
        unsigned d = (unsigned)v[i] - '0';
        if (d > 9) {
            return false;
        }
        if (x > (MFA_HTTP_MAX_CONTENT_LENGTH - d) / 10) {
            return false;
        }
        x = x * 10 + d;
    }
    *out = x;
    return true;
}

// Next element of a comma list; false at the end. Elements are OWS-stripped, may be empty.
static bool list_next(const unsigned char *s, size_t n, size_t *pos,
    const unsigned char **el, size_t *el_len) {
    if (*pos > n) {
        return false;
    }
    const unsigned char *start = s + *pos;
    const unsigned char *comma = memchr(start, ',', n - *pos);
    size_t len = comma ? (size_t)(comma - start) : n - *pos;
    *pos += len + 1;
    *el = start;
    *el_len = len;
    strip_ows(el, el_len);
    return true;
}

typedef struct _mfa_http_state_t {
    uint64_t content_length;
    bool has_cl;
    bool te_seen;
    bool chunked;
    bool conn_close;
    bool conn_keep_alive;
    bool expect;
    uint8_t hosts;
} mfa_http_state_t;

// The meaning of one valid header line.
static mfa_http_err_t header_semantics(const mfa_http_header_t *h, int minor, mfa_http_state_t *st) {
    const unsigned char *name = (const unsigned char *)h->name;
    const unsigned char *v = (const unsigned char *)h->value;
    size_t nl = h->name_len;
    size_t vn = h->value_len;
    const unsigned char *el;
    size_t el_len;
    size_t pos = 0;
    // Dispatch on length first: most headers are none of these and cost one compare.
    switch (nl) {
        case 4:
            if (SPAN_IS(name, nl, "host")) {
                if (++st->hosts > 1) {
                    return MFA_HTTP_E_HOST_MULTIPLE;
                }
            }
            break;
        case 6:
            if (SPAN_IS(name, nl, "expect") && SPAN_IS(v, vn, "100-continue")) {
                st->expect = true;
            }
            break;
        case 10:
            if (SPAN_IS(name, nl, "connection")) {
                while (list_next(v, vn, &pos, &el, &el_len)) {
                    if (SPAN_IS(el, el_len, "close")) {
                        st->conn_close = true;
                    } else if (SPAN_IS(el, el_len, "keep-alive")) {
                        st->conn_keep_alive = true;
                    }
                }
            }
            break;
        case 14:
            if (SPAN_IS(name, nl, "content-length")) {
                uint64_t x;
                if (!parse_content_length(v, vn, &x)) {
                    return MFA_HTTP_E_CONTENT_LENGTH;
                }
                if (st->has_cl && x != st->content_length) {
                    return MFA_HTTP_E_CONTENT_LENGTH_CONFLICT;
                }
                st->has_cl = true;
                st->content_length = x;
            }
            break;
        case 17:
            if (SPAN_IS(name, nl, "transfer-encoding")) {
                // RFC 9112 6.1: in HTTP/1.0 the framing is faulty; refuse rather than guess.
                if (minor == 0) {
                    return MFA_HTTP_E_TE_HTTP10;
                }
                st->te_seen = true;
                bool nonempty = false;
                while (list_next(v, vn, &pos, &el, &el_len)) {
                    if (el_len == 0) {
                        continue;
                    }
                    nonempty = true;
                    if (!SPAN_IS(el, el_len, "chunked")) {
                        return MFA_HTTP_E_TE_UNSUPPORTED;
                    }
                    if (st->chunked) {
                        return MFA_HTTP_E_TE;
                    }
                    st->chunked = true;
                }
                if (!nonempty) {
                    return MFA_HTTP_E_TE;
                }
            }
            break;
        default:
            break;
    }
    return MFA_HTTP_E_OK;
}

static int fail(mfa_http_request_t *req, mfa_http_err_t err) {
    req->error = err;
    return MFA_HTTP_ERROR;
}

static int parse_head(const char *buf, size_t len, size_t last_len,
    mfa_http_request_t *req, mfa_http_header_t *headers, size_t *num_headers);

int mfa_http_parse_request(const char *buf, size_t len, size_t last_len,
    mfa_http_request_t *req, mfa_http_header_t *headers, size_t *num_headers) {
    // Empty lines before the request line (rule 4): parse what follows them, count them in.
    size_t skip = 0;
    while (skip < 2 * MFA_HTTP_MAX_EMPTY_LINES && skip + 1 < len && buf[skip] == '\r'
           && buf[skip + 1] == '\n') {
        skip += 2;
    }
    int r = parse_head(buf + skip, len - skip, last_len > skip ? last_len - skip : 0, req,
        headers, num_headers);
    return r > 0 ? r + (int)skip : r;
}

static int parse_head(const char *buf, size_t len, size_t last_len,
    mfa_http_request_t *req, mfa_http_header_t *headers, size_t *num_headers) {
    const unsigned char *s = (const unsigned char *)buf;
    size_t capacity = *num_headers;
    memset(req, 0, sizeof(*req));
    *num_headers = 0;

    // Resume the search where the last call stopped: an end marker is at most 3 bytes long.
    size_t start = last_len > 3 ? last_len - 3 : 0;
    if (start > len) {
        start = len;
    }
    size_t stop = len > MFA_HTTP_MAX_HEAD ? MFA_HTTP_MAX_HEAD : len;
    size_t end = find_end(s, start, stop);
    if (end == 0) {
        if (len < MFA_HTTP_MAX_HEAD) {
            return MFA_HTTP_INCOMPLETE;
        }
        const unsigned char *lf = memchr(s, '\n', MFA_HTTP_MAX_HEAD);
        if (lf == NULL) {
            return fail(req, MFA_HTTP_E_TARGET_TOO_LONG);
        }
        mfa_http_err_t err = parse_request_line(s, (size_t)(lf - s), req);
        return fail(req, err != MFA_HTTP_E_OK ? err : MFA_HTTP_E_HEAD_TOO_LARGE);
    }

    // The head is s[0..end): it ends with LF, and the line before that LF (the final, empty one)
    // is either "" or "\r".
    size_t final_start = s[end - 2] == '\r' ? end - 2 : end - 1;
    const unsigned char *lf = memchr(s, '\n', end);
    size_t line_end = (size_t)(lf - s);
    mfa_http_err_t err = parse_request_line(s, line_end, req);
    if (err != MFA_HTTP_E_OK) {
        return fail(req, err);
    }
    int minor = req->minor_version;

    mfa_http_state_t st;
    memset(&st, 0, sizeof(st));
    size_t n = 0;
    size_t p = line_end + 1;
    while (p < final_start) {
        if (n >= capacity) {
            *num_headers = n;
            return fail(req, MFA_HTTP_E_TOO_MANY_HEADERS);
        }
        // Found: the line before final_start ends with the LF at final_start - 1.
        lf = memchr(s + p, '\n', final_start - p);
        line_end = (size_t)(lf - s);
        err = parse_header_line(s + p, line_end - p, &headers[n]);
        if (err == MFA_HTTP_E_OK) {
            err = header_semantics(&headers[n], minor, &st);
        }
        if (err != MFA_HTTP_E_OK) {
            *num_headers = n;
            return fail(req, err);
        }
        ++n;
        p = line_end + 1;
    }
    *num_headers = n;
    if (final_start == end - 1) {
        return fail(req, MFA_HTTP_E_LF);
    }
    if (st.te_seen && st.has_cl) {
        return fail(req, MFA_HTTP_E_CL_AND_TE);
    }
    if (minor == 1 && st.hosts == 0) {
        return fail(req, MFA_HTTP_E_HOST_MISSING);
    }

    unsigned flags = 0;
    if (st.chunked) {
        flags |= MFA_HTTP_F_CHUNKED;
    } else if (st.has_cl) {
        flags |= MFA_HTTP_F_CONTENT_LENGTH;
        req->content_length = st.content_length;
    }
    if (minor == 1) {
        if (!st.conn_close) {
            flags |= MFA_HTTP_F_KEEP_ALIVE;
        }
        if (st.expect) {
            flags |= MFA_HTTP_F_EXPECT_CONTINUE;
        }
    } else if (st.conn_keep_alive && !st.conn_close) {
        flags |= MFA_HTTP_F_KEEP_ALIVE;
    }
    req->flags = flags;
    return (int)end;
}

const mfa_http_header_t *mfa_http_find_header(const mfa_http_header_t *headers,
    size_t num_headers, const char *name, size_t name_len) {
    for (size_t i = 0; i < num_headers; ++i) {
        if (headers[i].name_len == name_len && mfa_http_ieq(headers[i].name, name, name_len)) {
            return &headers[i];
        }
    }
    return NULL;
}

// ---- helpers -----------------------------------------------------------------------------------

size_t mfa_http_unquote(const char *src, size_t len, char *dst, bool plus) {
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c == '%' && i + 2 < len) {
            int h = hexval(s[i + 1]);
            int l = hexval(s[i + 2]);
            if (h >= 0 && l >= 0) {
                dst[o++] = (char)(h * 16 + l);
                i += 3;
                continue;
            }
        }
        if (c == '+' && plus) {
            c = ' ';
        }
        dst[o++] = (char)c;
        ++i;
    }
    return o;
}

size_t mfa_http_utf8_sanitize(const char *src, size_t len, char *dst) {
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    size_t i = 0;
    while (i < len) {
        size_t k = mfa_http_utf8_seq_len(s + i, len - i);
        if (k == 0) {
            if (dst != NULL) {
                dst[o] = (char)0xef;
                dst[o + 1] = (char)0xbf;
                dst[o + 2] = (char)0xbd;
            }
            o += 3;
            ++i;
        } else {
            if (dst != NULL) {
                memmove(dst + o, s + i, k);
            }
            o += k;
            i += k;
        }
    }
    return o;
}

bool mfa_http_qs_next(const char *qs, size_t len, size_t *pos,
    const char **key, size_t *key_len, const char **value, size_t *value_len) {
    while (*pos < len) {
        const char *start = qs + *pos;
        const char *amp = memchr(start, '&', len - *pos);
        size_t n = amp ? (size_t)(amp - start) : len - *pos;
        *pos += n + 1;
        if (n == 0) {
            continue;
        }
        const char *eq = memchr(start, '=', n);
        *key = start;
        if (eq == NULL) {
            *key_len = n;
            *value = start + n;
            *value_len = 0;
        } else {
            *key_len = (size_t)(eq - start);
            *value = eq + 1;
            *value_len = n - *key_len - 1;
        }
        return true;
    }
    return false;
}

// ---- chunked body ------------------------------------------------------------------------------

// Same states, same numbers, as parser.py's ChunkedDecoder.
enum {
    S_SIZE0,      // first hex digit of a chunk size
    S_SIZE,       // further hex digits
    S_EXT_BWS,    // BWS after the size or a value: only more BWS or ';' may follow
    S_EXT_NAME0,  // after ';' (BWS allowed) before the extension name
    S_EXT_NAME,
    S_EXT_EQ_BWS, // after '=' (BWS allowed) before the value
    S_EXT_VAL,    // token value
    S_EXT_QS,     // quoted-string value
    S_EXT_QP,     // after a backslash in a quoted string
    S_EXT_AFTER,  // BWS after a name: more BWS, '=' or ';'
    S_EXT_QEND,   // after the closing quote: ';', CR or BWS
    S_SIZE_LF,    // CR seen at the end of the size line
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TR_START,   // start of a trailer line, or of the final CRLF
    S_TR_NAME,
    S_TR_VALUE,
    S_TR_LF,      // CR seen at the end of a trailer line
    S_END_LF,     // CR seen at the start of a line: the final one
    S_DONE,
};

void mfa_chunked_init(mfa_chunked_t *d) {
    memset(d, 0, sizeof(*d));
    d->state = S_SIZE0;
}

bool mfa_chunked_done(const mfa_chunked_t *d) {
    return d->state == S_DONE;
}

static inline bool is_ctl(unsigned char c) {
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

// After a whole extension element (a name, a token value, a closing quote): ';' starts another,
// CR ends the line, white space goes to `ows` (the state that says what may follow it).
static unsigned ext_end(unsigned char c, unsigned ows, mfa_http_err_t *err) {
    if (c == ';') {
        return S_EXT_NAME0;
    }
    if (c == '\r') {
        return S_SIZE_LF;
    }
    if (is_ows(c)) {
        return ows;
    }
    *err = MFA_HTTP_E_CHUNK_EXT;
    return ows;
}

// One byte of a chunk-size line: the hex size, its extensions, the LF after the CR.
static unsigned size_line_step(mfa_chunked_t *d, unsigned st, unsigned char c,
    mfa_http_err_t *err) {
    if (st != S_SIZE_LF && ++d->count > MFA_HTTP_MAX_CHUNK_LINE && c != '\r') {
        *err = MFA_HTTP_E_CHUNK_LINE_TOO_LONG;
        return st;
    }
    int h;
    switch (st) {
        case S_SIZE0:
        case S_SIZE:
            h = hexval(c);
            if (h >= 0 && d->size <= (MFA_HTTP_MAX_CONTENT_LENGTH >> 4)) {
                d->size = d->size * 16 + (unsigned)h;
                return S_SIZE;
            }
            if (h < 0 && st == S_SIZE) {
                st = ext_end(c, S_EXT_BWS, err);  // the size ends: CR, ';' or BWS
            }
            if (h >= 0 || st == S_SIZE0 || *err != MFA_HTTP_E_OK) {
                *err = MFA_HTTP_E_CHUNK_SIZE;  // too large, no digit, or not a size at all
            }
            return st;
        case S_EXT_BWS:
            if (c == ';') {
                return S_EXT_NAME0;
            }
            break;
        case S_EXT_NAME0:
            if (mfa_http_tchar[c]) {
                return S_EXT_NAME;
            }
            break;
        case S_EXT_NAME:
            if (mfa_http_tchar[c]) {
                return st;
            }
            return c == '=' ? S_EXT_EQ_BWS : ext_end(c, S_EXT_AFTER, err);
        case S_EXT_EQ_BWS:
            if (mfa_http_tchar[c]) {
                return S_EXT_VAL;
            }
            if (c == '"') {
                return S_EXT_QS;
            }
            break;
        case S_EXT_VAL:
            if (mfa_http_tchar[c]) {
                return st;
            }
            return ext_end(c, S_EXT_BWS, err);
        case S_EXT_QS:
            if (c == '"') {
                return S_EXT_QEND;
            }
            if (c == '\\') {
                return S_EXT_QP;
            }
            if (is_ctl(c)) {
                *err = MFA_HTTP_E_CHUNK_EXT;
            }
            return st;
        case S_EXT_QP:
            if (is_ctl(c)) {
                *err = MFA_HTTP_E_CHUNK_EXT;
            }
            return S_EXT_QS;
        case S_EXT_AFTER:
            if (c == '=') {
                return S_EXT_EQ_BWS;
            }
            if (c == ';') {
                return S_EXT_NAME0;
            }
            break;
        case S_EXT_QEND:
            return ext_end(c, S_EXT_BWS, err);
        default: // S_SIZE_LF
            if (c != '\n') {
                *err = MFA_HTTP_E_CR;
            }
            d->count = 0;
            return d->size == 0 ? S_TR_START : S_DATA;
    }
    // The states that allow only white space besides what was tested above.
    if (!is_ows(c)) {
        *err = MFA_HTTP_E_CHUNK_EXT;
    }
    return st;
}

// One byte of the trailer section, counted against MAX_HEAD like a head, or of the final CRLF.
static unsigned trailer_step(mfa_chunked_t *d, unsigned st, unsigned char c,
    mfa_http_err_t *err) {
    if (++d->count > MFA_HTTP_MAX_HEAD) {
        *err = MFA_HTTP_E_TRAILER_TOO_LARGE;
        return st;
    }
    switch (st) {
        case S_TR_START:
            if (c == '\r') {
                return S_END_LF;
            }
            if (mfa_http_tchar[c]) {
                return S_TR_NAME;
            }
            *err = is_ows(c) ? MFA_HTTP_E_OBS_FOLD : c == '\n' ? MFA_HTTP_E_LF : MFA_HTTP_E_TRAILER;
            return st;
        case S_TR_NAME:
            if (c == ':') {
                return S_TR_VALUE;
            }
            if (!mfa_http_tchar[c]) {
                *err = is_ows(c) ? MFA_HTTP_E_HEADER_SPACE : MFA_HTTP_E_TRAILER;
            }
            return st;
        case S_TR_VALUE:
            if (c == '\r') {
                return S_TR_LF;
            }
            if (is_ctl(c)) {
                *err = c == '\n' ? MFA_HTTP_E_LF : MFA_HTTP_E_TRAILER;
            }
            return st;
        default: // S_TR_LF, S_END_LF
            if (c != '\n') {
                *err = MFA_HTTP_E_CR;
            }
            return st == S_TR_LF ? S_TR_START : S_DONE;
    }
}

ptrdiff_t mfa_chunked_decode(mfa_chunked_t *d, const char *src, size_t len, char *dst,
    size_t *dst_len) {
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    size_t o = 0;
    unsigned st = d->state;
    mfa_http_err_t err = MFA_HTTP_E_OK;
    *dst_len = 0;
    if (d->error != MFA_HTTP_E_OK) {
        return MFA_HTTP_ERROR;
    }
    while (i < len && st != S_DONE) {
        if (st == S_DATA) {
            size_t take = len - i;
            if ((uint64_t)take > d->size) {
                take = (size_t)d->size;
            }
            // memmove: dst may be src, and the output never overtakes the input.
            memmove(dst + o, s + i, take);
            o += take;
            i += take;
            d->size -= take;
            d->data += take;
            if (d->size == 0) {
                st = S_DATA_CR;
            }
            continue;
        }
        unsigned char c = s[i++];
        if (st <= S_DATA_LF && ++d->framing > d->data + MFA_HTTP_MAX_CHUNK_OVERHEAD) {
            err = MFA_HTTP_E_CHUNK_OVERHEAD;
            break;
        }
        if (st <= S_SIZE_LF) {
            st = size_line_step(d, st, c, &err);
        } else if (st == S_DATA_CR || st == S_DATA_LF) {
            // the CRLF that ends a chunk's data
            if (c != (st == S_DATA_CR ? '\r' : '\n')) {
                err = MFA_HTTP_E_CHUNK_DATA;
            }
            st = st == S_DATA_CR ? S_DATA_LF : S_SIZE0;
        } else {
            st = trailer_step(d, st, c, &err);
        }
        if (err != MFA_HTTP_E_OK) {
            break;
        }
    }
    *dst_len = o;
    if (err != MFA_HTTP_E_OK) {
        d->error = (uint8_t)err;
        return MFA_HTTP_ERROR;
    }
    d->state = (uint8_t)st;
    if (st == S_DONE) {
        return (ptrdiff_t)i;
    }
    return MFA_HTTP_INCOMPLETE;
}
