// mfa_ws: the WebSocket frame layer. The rules are in mfa_ws.h; wsframe.py is the Python twin.

#include <string.h>

#include "mfa_ws.h"

// Word-at-a-time access to byte buffers (mfa_ws_mask, the UTF-8 ASCII run). may_alias: the
// buffers are written as bytes elsewhere; the loads and stores are always aligned (Cortex-M0+
// faults on unaligned word access).
#if defined(__GNUC__)
typedef size_t __attribute__((__may_alias__)) mfa_ws_word_t;
#else
typedef size_t mfa_ws_word_t;
#endif

#define WORD_SIZE (sizeof(size_t))

static bool word_aligned(const void *p) {
    return ((uintptr_t)p & (WORD_SIZE - 1)) == 0;
}

// ---- errors ------------------------------------------------------------------------------------

#define MFA_WS_ERR_REASON(code, close, reason) reason,
static const char *const err_reasons[] = { MFA_WS_ERRORS(MFA_WS_ERR_REASON) };
#undef MFA_WS_ERR_REASON

#define MFA_WS_ERR_CODE(code, close, reason) close,
static const uint16_t err_codes[] = { MFA_WS_ERRORS(MFA_WS_ERR_CODE) };
#undef MFA_WS_ERR_CODE

const char *mfa_ws_err_reason(mfa_ws_err_t err) {
    return (unsigned)err < MFA_WS_E__COUNT ? err_reasons[err] : "unknown error";
}

unsigned mfa_ws_err_code(mfa_ws_err_t err) {
    return (unsigned)err < MFA_WS_E__COUNT ? err_codes[err] : MFA_WS_CLOSE_PROTOCOL;
}

bool mfa_ws_close_code_valid(unsigned code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
           || (code >= 3000 && code <= 4999);
}

// ---- SHA-1 (FIPS 180-4) ------------------------------------------------------------------------

static uint32_t rol32(uint32_t x, unsigned n) {
    return (x << n) | (x >> (32 - n));
}

static uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

// One 64-byte block, with the message schedule in a 16-word ring (64 bytes of stack, not 320).
static void sha1_block(uint32_t h[5], const uint8_t *block) {
    uint32_t w[16];
    for (unsigned i = 0; i < 16; ++i) {
        w[i] = load_be32(block + 4 * i);
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (unsigned i = 0; i < 80; ++i) {
        if (i >= 16) {
            uint32_t x = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
            w[i & 15] = rol32(x, 1);
        }
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5a827999u;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ed9eba1u;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8f1bbcdcu;
        } else {
            f = b ^ c ^ d;
            k = 0xca62c1d6u;
        }
        uint32_t t = rol32(a, 5) + f + e + k + w[i & 15];
        e = d;
        d = c;
        c = rol32(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void mfa_sha1_init(mfa_sha1_t *s) {
    s->h[0] = 0x67452301u;
    s->h[1] = 0xefcdab89u;
    s->h[2] = 0x98badcfeu;
    s->h[3] = 0x10325476u;
    s->h[4] = 0xc3d2e1f0u;
    s->len_lo = 0;
    s->len_hi = 0;
    s->used = 0;
}

void mfa_sha1_update(mfa_sha1_t *s, const uint8_t *data, size_t n) {
    while (n > 0) {
        size_t k = 64u - s->used;
        if (k > n) {
            k = n;
        }
        memcpy(s->block + s->used, data, k);
        s->used = (uint8_t)(s->used + k);
        data += k;
        n -= k;
        uint32_t lo = s->len_lo + (uint32_t)k;
        if (lo < s->len_lo) {
            ++s->len_hi;
        }
        s->len_lo = lo;
        if (s->used == 64) {
            sha1_block(s->h, s->block);
            s->used = 0;
        }
    }
}

void mfa_sha1_final(mfa_sha1_t *s, uint8_t out[20]) {
    uint32_t bits_hi = (s->len_hi << 3) | (s->len_lo >> 29);
    uint32_t bits_lo = s->len_lo << 3;
    s->block[s->used++] = 0x80;
    if (s->used > 56) {
        memset(s->block + s->used, 0, 64u - s->used);
        sha1_block(s->h, s->block);
        s->used = 0;
    }
    memset(s->block + s->used, 0, 56u - s->used);
    store_be32(s->block + 56, bits_hi);
    store_be32(s->block + 60, bits_lo);
    sha1_block(s->h, s->block);
    for (unsigned i = 0; i < 5; ++i) {
        store_be32(out + 4 * i, s->h[i]);
    }
}

// ---- base64 (RFC 4648, section 4) --------------------------------------------------------------

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '+') {
        return 62;
    }
    if (c == '/') {
        return 63;
    }
    return -1;
}

size_t mfa_base64_encode(const uint8_t *src, size_t n, char *dst) {
    size_t o = 0;
    size_t i = 0;
    for (; n - i >= 3; i += 3) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8) | src[i + 2];
        dst[o++] = b64_alphabet[(v >> 18) & 63];
        dst[o++] = b64_alphabet[(v >> 12) & 63];
        dst[o++] = b64_alphabet[(v >> 6) & 63];
        dst[o++] = b64_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        dst[o++] = b64_alphabet[(v >> 18) & 63];
        dst[o++] = b64_alphabet[(v >> 12) & 63];
        dst[o++] = '=';
        dst[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)src[i] << 16) | ((uint32_t)src[i + 1] << 8);
        dst[o++] = b64_alphabet[(v >> 18) & 63];
        dst[o++] = b64_alphabet[(v >> 12) & 63];
        dst[o++] = b64_alphabet[(v >> 6) & 63];
        dst[o++] = '=';
    }
    return o;
}

ptrdiff_t mfa_base64_decode(const char *src, size_t n, uint8_t *dst) {
    if ((n & 3) != 0) {
        return -1;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        bool last = i + 4 == n;
        int v[4];
        size_t pad = 0;
        for (size_t j = 0; j < 4; ++j) {
            char c = src[i + j];
            if (c == '=' && last && j >= 2 && (j == 3 || src[i + 3] == '=')) {
                v[j] = 0;
                ++pad;
            } else {
                v[j] = b64_value(c);
                if (v[j] < 0) {
                    return -1;
                }
            }
        }
        uint32_t x = ((uint32_t)v[0] << 18) | ((uint32_t)v[1] << 12) | ((uint32_t)v[2] << 6)
            | (uint32_t)v[3];
        dst[o++] = (uint8_t)(x >> 16);
        if (pad < 2) {
            dst[o++] = (uint8_t)(x >> 8);
        }
        if (pad < 1) {
            dst[o++] = (uint8_t)x;
        }
    }
    return (ptrdiff_t)o;
}

// ---- the handshake -----------------------------------------------------------------------------

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool mfa_ws_accept_key(const char *key, size_t key_len, char out[MFA_WS_ACCEPT_LEN]) {
    uint8_t raw[18];
    if (key_len != 24 || mfa_base64_decode(key, key_len, raw) != 16) {
        return false;
    }
    mfa_sha1_t s;
    uint8_t digest[20];
    mfa_sha1_init(&s);
    mfa_sha1_update(&s, (const uint8_t *)key, key_len);
    mfa_sha1_update(&s, (const uint8_t *)ws_guid, sizeof(ws_guid) - 1);
    mfa_sha1_final(&s, digest);
    mfa_base64_encode(digest, sizeof(digest), out);
    return true;
}

// ---- frames ------------------------------------------------------------------------------------

size_t mfa_ws_frame_header(uint8_t out[10], unsigned opcode, bool fin, uint64_t len) {
    out[0] = (uint8_t)((fin ? 0x80u : 0u) | (opcode & 0x0fu));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffffu) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    // As two 32-bit halves: no 64-bit shift helper on a Cortex-M0+.
    uint32_t hi = (uint32_t)(len >> 32), lo = (uint32_t)len;
    out[1] = 127;
    store_be32(out + 2, hi);
    store_be32(out + 6, lo);
    return 10;
}

size_t mfa_ws_frame_header_masked(uint8_t out[MFA_WS_MAX_HEADER], unsigned opcode, bool fin,
    uint64_t len, const uint8_t mask[4]) {
    size_t n = mfa_ws_frame_header(out, opcode, fin, len);
    out[1] |= 0x80;
    memcpy(out + n, mask, 4);
    return n + 4;
}

void mfa_ws_mask(uint8_t *data, size_t n, const uint8_t mask[4], size_t offset) {
    size_t k = offset & 3;
    size_t i = 0;
    while (i < n && !word_aligned(data + i)) {
        data[i++] ^= mask[k];
        k = (k + 1) & 3;
    }
    if (n - i >= WORD_SIZE) {
        // The mask from byte k on, repeated to fill a word: byte j of it in memory is
        // mask[(k + j) % 4], whatever the byte order.
        uint8_t rep[WORD_SIZE];
        for (size_t j = 0; j < WORD_SIZE; ++j) {
            rep[j] = mask[(k + j) & 3];
        }
        size_t m;
        memcpy(&m, rep, WORD_SIZE);
        for (; n - i >= WORD_SIZE; i += WORD_SIZE) {
            *(mfa_ws_word_t *)(void *)(data + i) ^= m;
        }
        // WORD_SIZE is a multiple of 4: k is where it was.
    }
    while (i < n) {
        data[i++] ^= mask[k];
        k = (k + 1) & 3;
    }
}

// ---- UTF-8 -------------------------------------------------------------------------------------

#define UTF8_INVALID (0xff)

void mfa_ws_utf8_init(mfa_ws_utf8_t *u) {
    u->need = 0;
    u->lo = 0x80;
    u->hi = 0xbf;
}

// The ranges of RFC 3629 section 4: the lead byte fixes how many continuation bytes follow
// and narrows the first one's range (E0: A0-BF no overlongs; ED: 80-9F no surrogates; F0:
// 90-BF no overlongs; F4: 80-8F nothing above U+10FFFF). C0, C1 and F5-FF never appear.
size_t mfa_ws_utf8_feed(mfa_ws_utf8_t *u, const uint8_t *s, size_t n) {
    if (u->need == UTF8_INVALID) {
        return 0;
    }
    unsigned need = u->need, lo = u->lo, hi = u->hi;
    size_t i = 0;
    while (i < n) {
        unsigned b = s[i];
        if (need == 0) {
            if (b < 0x80) {
                ++i;
                // A run of ASCII, a word at a time.
                if (word_aligned(s + i)) {
                    const size_t high = (size_t)-1 / 0xff * 0x80; // 0x8080...80
                    while (n - i >= WORD_SIZE
                           && (*(const mfa_ws_word_t *)(const void *)(s + i) & high) == 0) {
                        i += WORD_SIZE;
                    }
                }
                continue;
            }
            lo = 0x80;
            hi = 0xbf;
            if (b >= 0xc2 && b <= 0xdf) {
                need = 1;
            } else if (b >= 0xe0 && b <= 0xef) {
                need = 2;
                if (b == 0xe0) {
                    lo = 0xa0;
                } else if (b == 0xed) {
                    hi = 0x9f;
                }
            } else if (b >= 0xf0 && b <= 0xf4) {
                need = 3;
                if (b == 0xf0) {
                    lo = 0x90;
                } else if (b == 0xf4) {
                    hi = 0x8f;
                }
            } else {
                u->need = UTF8_INVALID;
                return i;
            }
        } else {
            if (b < lo || b > hi) {
                u->need = UTF8_INVALID;
                return i;
            }
            --need;
            lo = 0x80;
            hi = 0xbf;
        }
        ++i;
    }
    u->need = (uint8_t)need;
    u->lo = (uint8_t)lo;
    u->hi = (uint8_t)hi;
    return n;
}

bool mfa_ws_utf8_complete(const mfa_ws_utf8_t *u) {
    return u->need == 0;
}

// ---- reader ------------------------------------------------------------------------------------

enum {
    ST_HEADER,
    ST_PAYLOAD,
    ST_HANDED,      // a message was handed out: its buffer goes at the next feed
    ST_CLOSED,
    ST_ERROR,
};

static bool op_is_control(unsigned op) {
    return op >= 8;
}

void mfa_ws_reader_init(mfa_ws_reader_t *r, const mfa_ws_mem_t *mem, void *ctx,
    size_t max_message, bool client) {
    memset(r, 0, sizeof(*r));
    r->mem = mem;
    r->ctx = ctx;
    r->max_message = max_message;
    r->client = client;
    r->hdr_need = 2;
    r->state = ST_HEADER;
    r->error = MFA_WS_E_OK;
    mfa_ws_utf8_init(&r->utf8);
}

static void msg_free(mfa_ws_reader_t *r) {
    if (r->msg != NULL) {
        r->mem->free(r->ctx, r->msg, r->msg_cap);
    }
    r->msg = NULL;
    r->msg_cap = 0;
    r->msg_len = 0;
}

void mfa_ws_reader_deinit(mfa_ws_reader_t *r) {
    msg_free(r);
}

bool mfa_ws_reader_done(const mfa_ws_reader_t *r) {
    return r->state == ST_CLOSED || r->state == ST_ERROR;
}

uint8_t *mfa_ws_reader_take(mfa_ws_reader_t *r, size_t *size) {
    uint8_t *p = NULL;
    *size = 0;
    if (r->state == ST_HANDED && r->msg != NULL) {
        p = r->msg;
        *size = r->msg_cap;
        r->msg = NULL;
        r->msg_cap = 0;
        r->msg_len = 0;
    }
    return p;
}

static void event_error(const mfa_ws_reader_t *r, mfa_ws_event_t *ev) {
    ev->type = MFA_WS_EV_ERROR;
    ev->code = mfa_ws_err_code(r->error);
    ev->error = r->error;
}

// Sets the sticky error and frees what the reader held.
static void fail(mfa_ws_reader_t *r, mfa_ws_err_t err, mfa_ws_event_t *ev) {
    r->error = err;
    r->state = ST_ERROR;
    msg_free(r);
    event_error(r, ev);
}

// Extended length bytes: 0, 2 or 8.
static unsigned ext_len(const mfa_ws_reader_t *r) {
    unsigned l7 = r->hdr[1] & 0x7fu;
    return l7 == 126 ? 2u : l7 == 127 ? 8u : 0u;
}

// Rule 1: the first two bytes.
static mfa_ws_err_t check_start(mfa_ws_reader_t *r) {
    unsigned b0 = r->hdr[0], b1 = r->hdr[1];
    unsigned op = b0 & 0x0fu;
    bool masked = (b1 & 0x80u) != 0;
    unsigned l7 = b1 & 0x7fu;
    if (b0 & 0x70u) {
        return MFA_WS_E_RSV;
    }
    if (!(op <= MFA_WS_OP_BINARY || (op >= MFA_WS_OP_CLOSE && op <= MFA_WS_OP_PONG))) {
        return MFA_WS_E_OPCODE;
    }
    if (!r->client && !masked) {
        return MFA_WS_E_NOT_MASKED;
    }
    if (r->client && masked) {
        return MFA_WS_E_MASKED;
    }
    if (op_is_control(op)) {
        if (!(b0 & 0x80u)) {
            return MFA_WS_E_CONTROL_FRAGMENTED;
        }
        if (l7 > MFA_WS_MAX_CONTROL) {
            return MFA_WS_E_CONTROL_TOO_LONG;
        }
        if (op == MFA_WS_OP_CLOSE && l7 == 1) {
            return MFA_WS_E_CLOSE_LENGTH;
        }
    } else if (op == MFA_WS_OP_CONT) {
        if (r->msg_op == 0) {
            return MFA_WS_E_CONTINUATION;
        }
    } else if (r->msg_op != 0) {
        return MFA_WS_E_UNFINISHED;
    }
    r->opcode = (uint8_t)op;
    r->fin = (b0 & 0x80u) != 0;
    r->hdr_need = (uint8_t)(2 + ext_len(r) + (masked ? 4 : 0));
    return MFA_WS_E_OK;
}

// Rule 2: the payload length, once all of its bytes are there.
static mfa_ws_err_t check_length(mfa_ws_reader_t *r) {
    unsigned ext = ext_len(r);
    uint64_t len = r->hdr[1] & 0x7fu;
    if (ext > 0) {
        if (ext == 8 && (r->hdr[2] & 0x80u)) {
            return MFA_WS_E_LENGTH;
        }
        len = 0;
        for (unsigned i = 0; i < ext; ++i) {
            len = (len << 8) | r->hdr[2 + i];
        }
    }
    if (op_is_control(r->opcode)) {
        r->frame_left = (size_t)len;
        return MFA_WS_E_OK;
    }
    // msg_len <= max_message always holds. 64-bit compare, no division.
    if (len > (uint64_t)(r->max_message - r->msg_len)) {
        return MFA_WS_E_TOO_BIG;
    }
    if (r->opcode != MFA_WS_OP_CONT) {
        r->msg_op = r->opcode;
        mfa_ws_utf8_init(&r->utf8);
    }
    r->frame_left = (size_t)len;
    r->frame_end = r->msg_len + (size_t)len;
    return MFA_WS_E_OK;
}

// Room for `need` bytes of message, need <= frame_end: doubling, at least 64 bytes, never
// more than the current frame can fill.
static bool msg_reserve(mfa_ws_reader_t *r, size_t need) {
    if (need <= r->msg_cap) {
        return true;
    }
    size_t cap = r->msg_cap > (size_t)-1 / 2 ? (size_t)-1 : r->msg_cap * 2;
    if (cap < 64) {
        cap = 64;
    }
    if (cap < need) {
        cap = need;
    }
    if (cap > r->frame_end) {
        cap = r->frame_end;
    }
    uint8_t *p = r->msg == NULL ? r->mem->alloc(r->ctx, cap)
        : r->mem->realloc(r->ctx, r->msg, r->msg_cap, cap);
    if (p == NULL) {
        return false;
    }
    r->msg = p;
    r->msg_cap = cap;
    return true;
}

static void next_frame(mfa_ws_reader_t *r) {
    r->state = ST_HEADER;
    r->hdr_len = 0;
    r->hdr_need = 2;
    r->mask_off = 0;
    r->ctl_len = 0;
}

// The current frame's payload is complete. True when that made an event (or an error).
static bool frame_done(mfa_ws_reader_t *r, mfa_ws_event_t *ev) {
    unsigned op = r->opcode;
    if (op_is_control(op)) {
        ev->data = r->ctl_len ? r->ctl : NULL;
        ev->len = r->ctl_len;
        if (op == MFA_WS_OP_CLOSE) {
            ev->code = MFA_WS_CLOSE_NO_STATUS;
            if (r->ctl_len >= 2) {
                ev->code = ((unsigned)r->ctl[0] << 8) | r->ctl[1];
                if (!mfa_ws_close_code_valid(ev->code)) {
                    fail(r, MFA_WS_E_CLOSE_CODE, ev);
                    return true;
                }
                mfa_ws_utf8_t u;
                mfa_ws_utf8_init(&u);
                size_t n = (size_t)r->ctl_len - 2;
                if (mfa_ws_utf8_feed(&u, r->ctl + 2, n) != n || !mfa_ws_utf8_complete(&u)) {
                    fail(r, MFA_WS_E_CLOSE_UTF8, ev);
                    return true;
                }
                ev->data = n ? r->ctl + 2 : NULL;
                ev->len = n;
            }
            // The stream ends here; a message left unfinished is dropped.
            msg_free(r);
            r->msg_op = 0;
            r->state = ST_CLOSED;
        } else {
            next_frame(r);
        }
        ev->type = (int)op;
        return true;
    }
    next_frame(r);
    if (!r->fin) {
        return false;
    }
    if (r->msg_op == MFA_WS_OP_TEXT && !mfa_ws_utf8_complete(&r->utf8)) {
        fail(r, MFA_WS_E_UTF8, ev);
        return true;
    }
    ev->type = r->msg_op;
    ev->data = r->msg_len ? r->msg : NULL;
    ev->len = r->msg_len;
    r->msg_op = 0;
    r->state = ST_HANDED;
    return true;
}

size_t mfa_ws_reader_feed(mfa_ws_reader_t *r, const uint8_t *data, size_t n,
    mfa_ws_event_t *ev) {
    ev->type = MFA_WS_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->code = 0;
    ev->error = MFA_WS_E_OK;
    switch (r->state) {
        case ST_ERROR:
            event_error(r, ev);
            return 0;
        case ST_CLOSED:
            return n;
        case ST_HANDED:
            msg_free(r);
            r->state = ST_HEADER;
            break;
        default:
            break;
    }
    size_t i = 0;
    while (i < n) {
        if (r->state == ST_HEADER) {
            r->hdr[r->hdr_len++] = data[i++];
            mfa_ws_err_t err = MFA_WS_E_OK;
            if (r->hdr_len == 2) {
                err = check_start(r);
                if (err == MFA_WS_E_OK && ext_len(r) == 0) {
                    err = check_length(r);
                }
            } else if (r->hdr_len == 2 + ext_len(r)) {
                err = check_length(r);
            }
            if (err != MFA_WS_E_OK) {
                fail(r, err, ev);
                return i;
            }
            if (r->hdr_len < r->hdr_need) {
                continue;
            }
            if (r->hdr[1] & 0x80u) {
                memcpy(r->mask, r->hdr + r->hdr_need - 4, 4);
            }
            r->state = ST_PAYLOAD;
            if (r->frame_left == 0 && frame_done(r, ev)) {
                return i;
            }
            continue;
        }
        // ST_PAYLOAD
        size_t k = n - i < r->frame_left ? n - i : r->frame_left;
        bool masked = (r->hdr[1] & 0x80u) != 0;
        uint8_t *dst;
        if (op_is_control(r->opcode)) {
            dst = r->ctl + r->ctl_len;
            r->ctl_len = (uint8_t)(r->ctl_len + k);
        } else {
            if (!msg_reserve(r, r->msg_len + k)) {
                fail(r, MFA_WS_E_NOMEM, ev);
                return i;
            }
            dst = r->msg + r->msg_len;
            r->msg_len += k;
        }
        memcpy(dst, data + i, k);
        if (masked) {
            mfa_ws_mask(dst, k, r->mask, r->mask_off);
        }
        if (r->msg_op == MFA_WS_OP_TEXT && !op_is_control(r->opcode)) {
            size_t ok = mfa_ws_utf8_feed(&r->utf8, dst, k);
            if (ok != k) {
                fail(r, MFA_WS_E_UTF8, ev);
                return i + ok + 1;
            }
        }
        i += k;
        r->frame_left -= k;
        r->mask_off = (uint8_t)((r->mask_off + k) & 3);
        if (r->frame_left == 0 && frame_done(r, ev)) {
            return i;
        }
    }
    return i;
}
