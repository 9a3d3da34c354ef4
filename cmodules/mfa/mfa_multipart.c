// mfa_multipart: the multipart/form-data scanner. The rules are in mfa_multipart.h;
// multipart.py is the Python twin.

#include <string.h>

#include "mfa_http.h"           // mfa_http_utf8_seq_len, mfa_http_ieq
#include "mfa_multipart.h"

// ---- errors ------------------------------------------------------------------------------------

#define MFA_MP_ERR_REASON(code, status, reason) reason,
static const char *const err_reasons[] = { MFA_MP_ERRORS(MFA_MP_ERR_REASON) };
#undef MFA_MP_ERR_REASON

#define MFA_MP_ERR_STATUS(code, status, reason) status,
static const uint16_t err_status[] = { MFA_MP_ERRORS(MFA_MP_ERR_STATUS) };
#undef MFA_MP_ERR_STATUS

const char *mfa_mp_err_reason(mfa_mp_err_t err) {
    return (unsigned)err < MFA_MP_E__COUNT ? err_reasons[err] : "multipart: unknown error";
}

unsigned mfa_mp_err_status(mfa_mp_err_t err) {
    return (unsigned)err < MFA_MP_E__COUNT ? err_status[err] : 400;
}

// No snprintf: newlib's would cost the firmware several KB for one number.
size_t mfa_mp_error_text(const mfa_mp_t *p, mfa_mp_err_t err, char *out, size_t size) {
    if (size == 0) {
        return 0;
    }
    const char *r = mfa_mp_err_reason(err);
    size_t n = strlen(r);
    if (n > size - 1) {
        n = size - 1;
    }
    memcpy(out, r, n);
    if (err == MFA_MP_E_TOO_MANY_PARTS || err == MFA_MP_E_HEADER_TOO_LARGE) {
        size_t limit = err == MFA_MP_E_TOO_MANY_PARTS ? p->max_parts : p->hcap;
        char digits[24];
        size_t k = 0;
        do {
            digits[k++] = (char)('0' + limit % 10);
            limit /= 10;
        } while (limit != 0 && k < sizeof(digits));
        const char *pre = " (limit ";
        for (const char *s = pre; *s && n < size - 1; ++s) {
            out[n++] = *s;
        }
        while (k > 0 && n < size - 1) {
            out[n++] = digits[--k];
        }
        if (n < size - 1) {
            out[n++] = ')';
        }
    }
    out[n] = 0;
    return n;
}

// ---- character classes -------------------------------------------------------------------------

static bool is_alnum(uint8_t c) {
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

// tchar (RFC 9110 5.6.2)
static bool is_tchar(uint8_t c) {
    return is_alnum(c) || (c != 0 && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL);
}

// bchars (RFC 2046 5.1.1), space included (it may not be last)
static bool is_bchar(uint8_t c) {
    return is_alnum(c) || (c != 0 && memchr("'()+_,-./:=? ", c, 13) != NULL);
}

static bool is_ws(uint8_t c) {
    return c == ' ' || c == '\t';
}

// A header value: visible ASCII, SP, HT, valid UTF-8 (as mfa_http's request headers).
static bool value_ok(const uint8_t *v, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = v[i];
        if ((c >= 0x20 && c < 0x7f) || c == '\t') {
            ++i;
        } else if (c < 0x80) {
            return false;
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

static void trim(const uint8_t **s, size_t *n) {
    while (*n && is_ws((*s)[0])) {
        ++*s;
        --*n;
    }
    while (*n && is_ws((*s)[*n - 1])) {
        --*n;
    }
}

// ---- state -------------------------------------------------------------------------------------

enum {
    ST_START,       // nothing yet
    ST_FIRST,       // matching the first delimiter (match: bytes of delim matched)
    ST_AFTER,       // a delimiter matched: "--", padding or CRLF next
    ST_DASH,        // "-" after a delimiter
    ST_PAD,         // transport padding after a delimiter
    ST_LF,          // CR after a delimiter (and its padding)
    ST_HDR,         // collecting a header block into hbuf
    ST_DATA,        // a part's content
    ST_FINAL,       // the final boundary seen, its END not yet reported
    ST_END,         // after END: the epilogue, ignored
    ST_ERROR,
};

mfa_mp_err_t mfa_mp_init(mfa_mp_t *p, const uint8_t *boundary, size_t n, uint8_t *hbuf,
    size_t hcap, size_t max_parts) {
    memset(p, 0, sizeof(*p));
    p->hbuf = hbuf;
    p->hcap = hcap;
    p->max_parts = max_parts;
    p->state = ST_START;
    bool ok = n >= 1 && n <= MFA_MP_MAX_BOUNDARY && boundary[n - 1] != ' ';
    for (size_t i = 0; ok && i < n; ++i) {
        ok = is_bchar(boundary[i]);
    }
    if (!ok) {
        p->error = MFA_MP_E_BAD_BOUNDARY;
        p->state = ST_ERROR;
        return p->error;
    }
    memcpy(p->delim, "\r\n--", 4);
    memcpy(p->delim + 4, boundary, n);
    p->dlen = (uint8_t)(4 + n);
    return MFA_MP_E_OK;
}

static size_t fail(mfa_mp_t *p, mfa_mp_err_t err, mfa_mp_event_t *ev, size_t used) {
    p->error = err;
    p->state = ST_ERROR;
    p->match = 0;
    ev->type = MFA_MP_EV_ERROR;
    ev->error = err;
    return used;
}

mfa_mp_err_t mfa_mp_finish(mfa_mp_t *p) {
    if (p->state == ST_ERROR) {
        return p->error;
    }
    if (p->state == ST_FINAL || p->state == ST_END) {
        return MFA_MP_E_OK;
    }
    p->error = MFA_MP_E_MISSING_END;
    p->state = ST_ERROR;
    return p->error;
}

// ---- headers -----------------------------------------------------------------------------------

// The Content-Disposition value v[0..n) (trimmed): form-data, then parameters (rule 3 in the
// header). Sets ev's name and filename spans (raw, inside the quotes).
static mfa_mp_err_t parse_disposition(mfa_mp_t *p, const uint8_t *v, size_t n,
    mfa_mp_event_t *ev) {
    const uint8_t *semi = memchr(v, ';', n);
    size_t i = semi ? (size_t)(semi - v) : n;
    const uint8_t *t = v;
    size_t tn = i;
    trim(&t, &tn);
    if (tn != 9 || !mfa_http_ieq((const char *)t, "form-data", 9)) {
        return MFA_MP_E_NO_NAME;
    }
    bool have_name = false;
    while (i < n) {                 // v[i] == ';'
        ++i;
        while (i < n && is_ws(v[i])) {
            ++i;
        }
        if (i == n || v[i] == ';') {
            continue;               // an empty parameter (";;", a trailing ';')
        }
        size_t ks = i;
        while (i < n && v[i] != '=' && v[i] != ';' && !is_ws(v[i])) {
            ++i;
        }
        size_t ke = i;
        while (i < n && is_ws(v[i])) {
            ++i;
        }
        if (i == n || v[i] != '=') {
            return MFA_MP_E_HEADERS;        // a parameter without '='
        }
        ++i;
        while (i < n && is_ws(v[i])) {
            ++i;
        }
        size_t vs, ve;
        bool esc = false;
        if (i < n && v[i] == '"') {
            vs = ++i;
            for (;;) {
                if (i == n) {
                    return MFA_MP_E_HEADERS;    // unterminated
                }
                if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\')) {
                    esc = true;
                    i += 2;
                } else if (v[i] == '"') {
                    break;
                } else {
                    ++i;
                }
            }
            ve = i++;
            while (i < n && is_ws(v[i])) {
                ++i;
            }
            if (i < n && v[i] != ';') {
                return MFA_MP_E_HEADERS;        // text after the closing quote
            }
        } else {
            vs = i;
            while (i < n && v[i] != ';') {
                if (v[i] == '"') {
                    return MFA_MP_E_HEADERS;
                }
                ++i;
            }
            ve = i;
            while (ve > vs && is_ws(v[ve - 1])) {
                --ve;
            }
        }
        bool star = false;
        for (size_t k = ks; k < ke; ++k) {
            if (!is_tchar(v[k])) {
                return MFA_MP_E_HEADERS;
            }
            star |= v[k] == '*';
        }
        if (ke == ks) {
            return MFA_MP_E_HEADERS;
        }
        if (star) {
            continue;       // filename*= and friends: RFC 7578 4.2 says not to use them
        }
        if (ke - ks == 4 && mfa_http_ieq((const char *)v + ks, "name", 4)) {
            if (have_name) {
                return MFA_MP_E_HEADERS;
            }
            have_name = true;
            ev->name = v + vs;
            ev->name_len = ve - vs;
            p->name_esc = esc;
        } else if (ke - ks == 8 && mfa_http_ieq((const char *)v + ks, "filename", 8)) {
            if (ev->filename != NULL) {
                return MFA_MP_E_HEADERS;
            }
            ev->filename = v + vs;
            ev->filename_len = ve - vs;
            p->filename_esc = esc;
        }
    }
    return have_name ? MFA_MP_E_OK : MFA_MP_E_NO_NAME;
}

// One header line of the block at hbuf[*pos..]: name (lower-cased here when `lower`) and the
// trimmed value. False at the end of the block.
static bool next_line(const mfa_mp_t *p, size_t *pos, mfa_mp_header_t *h, const uint8_t **colon) {
    size_t end = p->hlen - 2;     // the empty line's CRLF
    if (*pos >= end) {
        return false;
    }
    const uint8_t *line = p->hbuf + *pos;
    // Collection made sure every CR is followed by LF and every line ends with CRLF.
    const uint8_t *eol = memchr(line, '\r', end - *pos);
    size_t ln = (size_t)(eol - line);
    *pos += ln + 2;
    *colon = memchr(line, ':', ln);
    size_t nn = *colon ? (size_t)(*colon - line) : ln;
    h->name = line;
    h->name_len = nn;
    h->value = *colon ? *colon + 1 : eol;
    h->value_len = (size_t)(eol - h->value);
    trim(&h->value, &h->value_len);
    return true;
}

static mfa_mp_err_t parse_block(mfa_mp_t *p, mfa_mp_event_t *ev) {
    size_t pos = 0;
    mfa_mp_header_t h;
    const uint8_t *colon;
    const uint8_t *cd = NULL;
    size_t cd_len = 0;
    p->name_esc = p->filename_esc = 0;
    while (next_line(p, &pos, &h, &colon)) {
        // No colon, an empty name, space before the colon or at the start (obs-fold).
        if (colon == NULL || h.name_len == 0) {
            return MFA_MP_E_HEADERS;
        }
        uint8_t *name = p->hbuf + (h.name - p->hbuf);
        for (size_t i = 0; i < h.name_len; ++i) {
            if (!is_tchar(name[i])) {
                return MFA_MP_E_HEADERS;
            }
            if (name[i] >= 'A' && name[i] <= 'Z') {
                name[i] = (uint8_t)(name[i] | 0x20);
            }
        }
        if (!value_ok(h.value, h.value_len)) {
            return MFA_MP_E_HEADERS;
        }
        if (h.name_len == 19 && memcmp(name, "content-disposition", 19) == 0) {
            if (cd != NULL) {
                return MFA_MP_E_HEADERS;
            }
            cd = h.value;
            cd_len = h.value_len;
        } else if (h.name_len == 12 && memcmp(name, "content-type", 12) == 0) {
            if (ev->content_type != NULL) {
                return MFA_MP_E_HEADERS;
            }
            ev->content_type = h.value;
            ev->content_type_len = h.value_len;
        }
    }
    if (cd == NULL) {
        return MFA_MP_E_NO_NAME;
    }
    return parse_disposition(p, cd, cd_len, ev);
}

bool mfa_mp_header_next(const mfa_mp_t *p, size_t *pos, mfa_mp_header_t *h) {
    const uint8_t *colon;
    return p->hlen >= 2 && next_line(p, pos, h, &colon);
}

static size_t unescape(uint8_t *s, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\')) {
            ++i;
        }
        s[o++] = s[i];
    }
    return o;
}

void mfa_mp_part_unescape(mfa_mp_t *p, mfa_mp_event_t *ev) {
    if (p->name_esc && ev->name != NULL) {
        ev->name_len = unescape(p->hbuf + (ev->name - p->hbuf), ev->name_len);
        p->name_esc = 0;
    }
    if (p->filename_esc && ev->filename != NULL) {
        ev->filename_len = unescape(p->hbuf + (ev->filename - p->hbuf), ev->filename_len);
        p->filename_esc = 0;
    }
}

// ---- the reader --------------------------------------------------------------------------------

// Content: the hot path. Emits the longest span that cannot be the start of a delimiter: a
// memchr for CR, then a compare (the delimiter starts with the only CR it holds, so a failed
// match can only restart at the next CR). A partial match at the end of the slice is held back
// (consumed, not reported) until the next feed decides.
static size_t scan_data(mfa_mp_t *p, const uint8_t *d, size_t n, mfa_mp_event_t *ev) {
    size_t dlen = p->dlen;
    if (p->match) {
        size_t i = 0;
        while (i < n && p->match < dlen && d[i] == p->delim[p->match]) {
            ++p->match;
            ++i;
        }
        if (p->match == dlen) {
            p->match = 0;
            p->state = ST_AFTER;
        } else if (i < n) {
            // Not a delimiter after all: the held-back bytes were content.
            ev->type = MFA_MP_EV_DATA;
            ev->data = p->delim;
            ev->len = p->match;
            p->match = 0;
        }
        return i;
    }
    const uint8_t *s = d, *end = d + n;
    while (s < end) {
        const uint8_t *cr = memchr(s, '\r', (size_t)(end - s));
        if (cr == NULL) {
            break;
        }
        size_t avail = (size_t)(end - cr);
        size_t k = avail < dlen ? avail : dlen;
        if (memcmp(cr, p->delim, k) == 0) {
            if (cr > d) {
                ev->type = MFA_MP_EV_DATA;
                ev->data = d;
                ev->len = (size_t)(cr - d);
                return ev->len;
            }
            if (k == dlen) {
                p->state = ST_AFTER;
                return dlen;
            }
            p->match = (uint8_t)k;
            return n;
        }
        s = cr + 1;
    }
    if (n) {
        ev->type = MFA_MP_EV_DATA;
        ev->data = d;
        ev->len = n;
    }
    return n;
}

size_t mfa_mp_feed(mfa_mp_t *p, const uint8_t *data, size_t n, mfa_mp_event_t *ev) {
    memset(ev, 0, sizeof(*ev));
    if (p->state == ST_ERROR) {
        ev->type = MFA_MP_EV_ERROR;
        ev->error = p->error;
        return 0;
    }
    if (n == 0) {
        data = (const uint8_t *)"";     // no arithmetic on a NULL pointer below
    }
    size_t i = 0;
    for (;;) {
        if (p->state == ST_END) {
            return n;
        }
        if (p->state == ST_FINAL) {
            p->state = ST_END;
            ev->type = MFA_MP_EV_END;
            return i;
        }
        if (p->state == ST_DATA) {
            i += scan_data(p, data + i, n - i, ev);
            if (ev->type != MFA_MP_EV_NONE || i == n) {
                return i;
            }
            continue;
        }
        if (i == n) {
            return n;
        }
        uint8_t c = data[i];
        switch (p->state) {
            case ST_START:
                p->match = c == '\r' ? 0 : 2;   // "\r\n--boundary" or "--boundary"
                p->state = ST_FIRST;
                continue;
            case ST_FIRST:
                if (c != p->delim[p->match]) {
                    return fail(p, MFA_MP_E_NO_START, ev, i);
                }
                if (++p->match == p->dlen) {
                    p->match = 0;
                    p->state = ST_AFTER;
                }
                break;
            case ST_AFTER:
                if (c == '-') {
                    p->state = ST_DASH;
                } else if (is_ws(c)) {
                    p->state = ST_PAD;
                } else if (c == '\r') {
                    p->state = ST_LF;
                } else {
                    return fail(p, MFA_MP_E_DELIMITER, ev, i);
                }
                break;
            case ST_PAD:
                if (c == '\r') {
                    p->state = ST_LF;
                } else if (!is_ws(c)) {
                    return fail(p, MFA_MP_E_DELIMITER, ev, i);
                }
                break;
            case ST_DASH:
                if (c != '-') {
                    return fail(p, MFA_MP_E_DELIMITER, ev, i);
                }
                p->state = ST_FINAL;
                if (p->in_part) {
                    p->in_part = 0;
                    ev->type = MFA_MP_EV_PART_END;
                    return i + 1;
                }
                break;
            case ST_LF:
                if (c != '\n') {
                    return fail(p, MFA_MP_E_DELIMITER, ev, i);
                }
                if (++p->parts > p->max_parts) {
                    return fail(p, MFA_MP_E_TOO_MANY_PARTS, ev, i);
                }
                p->state = ST_HDR;
                p->hlen = 0;
                if (p->in_part) {
                    p->in_part = 0;
                    ev->type = MFA_MP_EV_PART_END;
                    return i + 1;
                }
                break;
            case ST_HDR: {
                if (p->hlen == p->hcap) {
                    return fail(p, MFA_MP_E_HEADER_TOO_LARGE, ev, i);
                }
                uint8_t *h = p->hbuf;
                size_t k = p->hlen;
                h[p->hlen++] = c;
                if (c == '\n') {
                    if (k == 0 || h[k - 1] != '\r') {
                        return fail(p, MFA_MP_E_HEADERS, ev, i);    // LF without CR
                    }
                    if (k == 1 || (k >= 3 && h[k - 2] == '\n')) {
                        // The empty line: the block is complete.
                        mfa_mp_err_t err = parse_block(p, ev);
                        if (err != MFA_MP_E_OK) {
                            return fail(p, err, ev, i);
                        }
                        ev->type = MFA_MP_EV_PART;
                        p->state = ST_DATA;
                        p->in_part = 1;
                        p->match = 0;
                        return i + 1;
                    }
                } else if (k > 0 && h[k - 1] == '\r') {
                    return fail(p, MFA_MP_E_HEADERS, ev, i);        // CR without LF
                }
                break;
            }
            default:
                return fail(p, MFA_MP_E_HEADERS, ev, i);            // not reached
        }
        ++i;
    }
}
