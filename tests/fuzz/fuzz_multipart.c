// libFuzzer target: the multipart/form-data reader (mfa_mp_feed).
//
// Input: byte 0 picks the boundary (bits 0-1: "b", "xYz", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
// 70 chars), max_parts (bits 2-3: 0, 1, 3, 64), max_header (bits 4-5: 0, 16, 100, 1024) and
// the slice sizes (bits 6-7); the rest is the body. Fed whole and in slices, the events, the
// error and what finish says must be the same; every event must obey the rules (data never
// empty, inside the slice or the hold-back, never containing the delimiter; spans inside the
// header buffer; names and values valid UTF-8 without controls; PART, DATA*, PART_END in
// order, END once and last). Then the body is wrapped as the content of one part of a
// well-formed body (when it holds no delimiter) and must come back byte for byte.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_http.h"
#include "mfa_multipart.h"

#define ASSERT(c) do { if (!(c)) { abort(); } } while (0)

static const char *const boundaries[4] = {
    "b", "xYz", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "0123456789'()+_,-./:=? abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU",
};
static const size_t max_parts_of[4] = { 0, 1, 3, 64 };
static const size_t max_header_of[4] = { 0, 16, 100, 1024 };

typedef struct _digest_t {
    uint64_t h;
    int last;                   // type of the last event
    bool ended;
    mfa_mp_err_t error;
    uint8_t tail[MFA_MP_MAX_DELIM]; // the part's last content bytes (delimiter check)
    size_t tail_len;
    uint8_t *content;           // when not NULL: the content, collected
    size_t content_len;
    size_t content_cap;
} digest_t;

static void mix(digest_t *d, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; ++i) {
        d->h = (d->h ^ b[i]) * 0x100000001b3ULL;
    }
}

static bool text_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f) {
                return false;
            }
            ++i;
            continue;
        }
        size_t k = mfa_http_utf8_seq_len(s + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

static bool in(const mfa_mp_t *p, const uint8_t *s, size_t n) {
    return s >= p->hbuf && s + n <= p->hbuf + p->hcap;
}

// The content so far (its last bytes in d->tail, plus these) must not hold the delimiter.
static void check_no_delim(const mfa_mp_t *p, digest_t *d, const uint8_t *s, size_t n) {
    uint8_t win[2 * MFA_MP_MAX_DELIM];
    size_t dl = p->dlen;
    size_t pos = 0;
    while (pos < n) {
        size_t k = n - pos < dl ? n - pos : dl;
        memcpy(win, d->tail, d->tail_len);
        memcpy(win + d->tail_len, s + pos, k);
        size_t w = d->tail_len + k;
        for (size_t i = 0; i + dl <= w; ++i) {
            ASSERT(memcmp(win + i, p->delim, dl) != 0);
        }
        size_t keep = w < dl - 1 ? w : dl - 1;
        memcpy(d->tail, win + w - keep, keep);
        d->tail_len = keep;
        pos += k;
    }
}

static void on_event(mfa_mp_t *p, mfa_mp_event_t *ev, digest_t *d) {
    ASSERT(!d->ended || ev->type == MFA_MP_EV_ERROR);
    switch (ev->type) {
        case MFA_MP_EV_PART: {
            ASSERT(d->last == 0 || d->last == MFA_MP_EV_PART_END);
            size_t pos = 0;
            mfa_mp_header_t h;
            while (mfa_mp_header_next(p, &pos, &h)) {
                ASSERT(in(p, h.name, h.name_len) && in(p, h.value, h.value_len));
                ASSERT(h.name_len > 0 && text_ok(h.name, h.name_len));
                ASSERT(text_ok(h.value, h.value_len));
                for (size_t i = 0; i < h.name_len; ++i) {
                    ASSERT(!(h.name[i] >= 'A' && h.name[i] <= 'Z') && h.name[i] != ':');
                }
                mix(d, h.name, h.name_len);
                mix(d, h.value, h.value_len);
            }
            mfa_mp_part_unescape(p, ev);
            ASSERT(in(p, ev->name, ev->name_len) && text_ok(ev->name, ev->name_len));
            mix(d, "P", 1);
            mix(d, ev->name, ev->name_len);
            if (ev->filename) {
                ASSERT(in(p, ev->filename, ev->filename_len));
                ASSERT(text_ok(ev->filename, ev->filename_len));
                mix(d, ev->filename, ev->filename_len);
            }
            if (ev->content_type) {
                ASSERT(in(p, ev->content_type, ev->content_type_len));
                mix(d, ev->content_type, ev->content_type_len);
            }
            d->tail_len = 0;
            break;
        }
        case MFA_MP_EV_DATA:
            ASSERT(d->last == MFA_MP_EV_PART || d->last == MFA_MP_EV_DATA);
            ASSERT(ev->len > 0);
            if (d->last != MFA_MP_EV_DATA) {
                mix(d, "D", 1);
            }
            mix(d, ev->data, ev->len);
            check_no_delim(p, d, ev->data, ev->len);
            if (d->content) {
                ASSERT(d->content_len + ev->len <= d->content_cap);
                memcpy(d->content + d->content_len, ev->data, ev->len);
                d->content_len += ev->len;
            }
            break;
        case MFA_MP_EV_PART_END:
            ASSERT(d->last == MFA_MP_EV_PART || d->last == MFA_MP_EV_DATA);
            mix(d, "E", 1);
            break;
        case MFA_MP_EV_END:
            ASSERT(d->last == 0 || d->last == MFA_MP_EV_PART_END);
            d->ended = true;
            mix(d, "Z", 1);
            break;
        case MFA_MP_EV_ERROR:
            d->error = ev->error;
            ASSERT(ev->error > MFA_MP_E_OK && ev->error < MFA_MP_E__COUNT);
            break;
        default:
            ASSERT(0);
    }
    d->last = ev->type;
}

// False once an error was reported.
static bool feed(mfa_mp_t *p, const uint8_t *s, size_t n, digest_t *d) {
    size_t off = 0;
    for (;;) {
        mfa_mp_event_t ev;
        size_t k = mfa_mp_feed(p, s + off, n - off, &ev);
        ASSERT(k <= n - off);
        if (ev.type == MFA_MP_EV_DATA) {
            ASSERT((ev.data >= s + off && ev.data + ev.len <= s + off + k)
                || (ev.data == p->delim && ev.len < p->dlen));
        }
        off += k;
        if (ev.type == MFA_MP_EV_NONE) {
            ASSERT(off == n);
            return true;
        }
        on_event(p, &ev, d);
        if (ev.type == MFA_MP_EV_ERROR) {
            return false;
        }
    }
}

static uint8_t hbuf[1024];

static void run(const char *b, size_t mp, size_t mh, const uint8_t *s, size_t n, size_t step,
    digest_t *d) {
    mfa_mp_t p;
    d->h = 1469598103934665603ULL;
    d->last = 0;
    d->ended = false;
    d->error = MFA_MP_E_OK;
    d->tail_len = 0;
    d->content_len = 0;
    ASSERT(mfa_mp_init(&p, (const uint8_t *)b, strlen(b), hbuf, mh, mp) == MFA_MP_E_OK);
    size_t off = 0;
    bool ok = true;
    do {
        size_t k = n - off < step ? n - off : step;
        if (!feed(&p, s + off, k, d)) {
            ok = false;
            break;
        }
        off += k;
    } while (off < n);
    mfa_mp_err_t f = mfa_mp_finish(&p);
    ASSERT(ok ? (f == MFA_MP_E_OK) == d->ended : f == d->error);
    if (ok && f != MFA_MP_E_OK) {
        d->error = f;
    }
    mfa_mp_event_t ev;
    ASSERT(f == MFA_MP_E_OK || (mfa_mp_feed(&p, s, n, &ev) == 0 && ev.error == f));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) {
        return 0;
    }
    uint8_t cfg = data[0];
    const char *b = boundaries[cfg & 3];
    size_t mp = max_parts_of[(cfg >> 2) & 3];
    size_t mh = max_header_of[(cfg >> 4) & 3];
    static const size_t steps[4] = { 1, 3, 17, 4096 };
    size_t step = steps[cfg >> 6];
    const uint8_t *s = data + 1;
    size_t n = size - 1;

    digest_t whole, sliced;
    whole.content = sliced.content = NULL;
    run(b, mp, mh, s, n, n ? n : 1, &whole);
    run(b, mp, mh, s, n, step, &sliced);
    ASSERT(whole.h == sliced.h && whole.error == sliced.error && whole.ended == sliced.ended);
    if (n > 1) {
        run(b, mp, mh, s, n, n / 2, &sliced);
        ASSERT(whole.h == sliced.h && whole.error == sliced.error);
    }

    // The input as the content of one file part: it must come back as it is, unless it holds
    // the delimiter.
    size_t bl = strlen(b);
    size_t cap = n + 2 * bl + 128;
    uint8_t *body = malloc(cap);
    ASSERT(body != NULL);
    size_t m = 0;
    body[m++] = '-';
    body[m++] = '-';
    memcpy(body + m, b, bl);
    m += bl;
    const char *h = "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n\r\n";
    memcpy(body + m, h, strlen(h));
    m += strlen(h);
    memcpy(body + m, s, n);
    m += n;
    memcpy(body + m, "\r\n--", 4);
    memcpy(body + m + 4, b, bl);
    memcpy(body + m + 4 + bl, "--", 2);
    m += 6 + bl;
    // Cut short when a delimiter starts inside the content (possibly running into the one that
    // closes it).
    uint8_t delim[MFA_MP_MAX_DELIM];
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, b, bl);
    size_t cstart = m - 6 - bl - n;
    bool has_delim = false;
    for (size_t i = 0; i < n && !has_delim; ++i) {
        has_delim = memcmp(body + cstart + i, delim, 4 + bl) == 0;
    }
    uint8_t *content = malloc(n + 1);
    ASSERT(content != NULL);
    digest_t d;
    d.content = content;
    d.content_cap = n;
    run(b, 64, 1024, body, m, step, &d);
    if (!has_delim) {
        ASSERT(d.error == MFA_MP_E_OK && d.ended);
        ASSERT(d.content_len == n && memcmp(content, s, n) == 0);
    }
    free(content);
    free(body);
    return 0;
}
