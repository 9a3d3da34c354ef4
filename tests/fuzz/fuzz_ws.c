// libFuzzer target: the WebSocket reader (mfa_ws_reader_feed), in both modes.
//
// Input: byte 0 picks the mode (bit 0: client), max_message (bits 1-2: 0, 16, 125, 4096) and
// the slice sizes (bits 3-7); the rest is the byte stream. Fed whole and in slices, the events
// and the error must be the same; every event must obey the rules (sizes, valid UTF-8 by
// mfa_http's own decoder, valid close codes); memory stays within max_message and is all
// returned. Then the stream's bytes are framed by the encoder (masked for a server, unmasked
// for a client) and must come back as one binary message.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_http.h"
#include "mfa_ws.h"

#define ASSERT(c) do { if (!(c)) { abort(); } } while (0)

typedef struct _fz_mem_t {
    size_t live;
    size_t limit;
} fz_mem_t;

static void *fz_alloc(void *ctx, size_t n) {
    fz_mem_t *m = ctx;
    m->live += n;
    ASSERT(n <= m->limit);
    return malloc(n);
}

static void *fz_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    fz_mem_t *m = ctx;
    m->live = m->live - old_n + new_n;
    ASSERT(new_n <= m->limit && new_n > old_n);
    return realloc(p, new_n);
}

static void fz_free(void *ctx, void *p, size_t n) {
    fz_mem_t *m = ctx;
    ASSERT(m->live >= n);
    m->live -= n;
    free(p);
}

static const mfa_ws_mem_t fz_mem = { fz_alloc, fz_realloc, fz_free };

typedef struct _digest_t {
    uint64_t h;
    size_t events;
    int last;               // type of the last event
} digest_t;

static void mix(digest_t *d, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; ++i) {
        d->h = (d->h ^ b[i]) * 0x100000001b3ULL;
    }
}

static bool utf8_ok(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t k = mfa_http_utf8_seq_len(s + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

static void check_event(const mfa_ws_event_t *ev, size_t max_message) {
    ASSERT(ev->len == 0 || ev->data != NULL);
    switch (ev->type) {
        case MFA_WS_EV_TEXT:
            ASSERT(utf8_ok(ev->data, ev->len));
            // fall through
        case MFA_WS_EV_BINARY:
            ASSERT(ev->len <= max_message);
            break;
        case MFA_WS_EV_PING:
        case MFA_WS_EV_PONG:
            ASSERT(ev->len <= MFA_WS_MAX_CONTROL);
            break;
        case MFA_WS_EV_CLOSE:
            ASSERT(ev->len <= MFA_WS_MAX_CONTROL - 2);
            ASSERT(ev->code == MFA_WS_CLOSE_NO_STATUS || mfa_ws_close_code_valid(ev->code));
            ASSERT(ev->code != MFA_WS_CLOSE_NO_STATUS || ev->len == 0);
            ASSERT(utf8_ok(ev->data, ev->len));
            break;
        case MFA_WS_EV_ERROR:
            ASSERT(ev->error > MFA_WS_E_OK && ev->error < MFA_WS_E__COUNT);
            ASSERT(ev->code == mfa_ws_err_code(ev->error));
            ASSERT(ev->code == 1002 || ev->code == 1007 || ev->code == 1009);
            break;
        default:
            ASSERT(0);
    }
}

// Feed data in slices whose sizes cycle through `steps` (0: the whole rest at once).
static digest_t run(const uint8_t *data, size_t n, bool client, size_t max_message,
    const size_t *steps, size_t nsteps) {
    fz_mem_t m = { 0, max_message };
    mfa_ws_reader_t r;
    mfa_ws_reader_init(&r, &fz_mem, &m, max_message, client);
    digest_t d = { 0xcbf29ce484222325ULL, 0, 0 };
    size_t off = 0, si = 0;
    bool stop = false;
    while (!stop) {
        size_t step = steps[si++ % nsteps];
        size_t k = step == 0 || step > n - off ? n - off : step;
        // Each slice in its own allocation, so ASan sees a read past it.
        uint8_t *slice = malloc(k ? k : 1);
        memcpy(slice, data + off, k);
        size_t used = 0;
        for (;;) {
            mfa_ws_event_t ev;
            size_t c = mfa_ws_reader_feed(&r, slice + used, k - used, &ev);
            ASSERT(c <= k - used);
            used += c;
            ASSERT(m.live <= max_message);
            if (ev.type == MFA_WS_EV_NONE) {
                ASSERT(used == k);
                break;
            }
            check_event(&ev, max_message);
            ++d.events;
            d.last = ev.type;
            mix(&d, &ev.type, sizeof(ev.type));
            mix(&d, &ev.code, sizeof(ev.code));
            mix(&d, &ev.len, sizeof(ev.len));
            if (ev.len) {
                mix(&d, ev.data, ev.len);
            }
            if (ev.type == MFA_WS_EV_ERROR) {
                ASSERT(mfa_ws_reader_done(&r));
                mfa_ws_event_t again;
                ASSERT(mfa_ws_reader_feed(&r, slice, k, &again) == 0);
                ASSERT(again.type == MFA_WS_EV_ERROR && again.error == ev.error);
                stop = true;
                break;
            }
            if (ev.type == MFA_WS_EV_CLOSE) {
                ASSERT(mfa_ws_reader_done(&r));
                ASSERT(m.live == 0);
            }
        }
        free(slice);
        off += k;
        if (off >= n) {
            break;
        }
    }
    mfa_ws_reader_deinit(&r);
    ASSERT(m.live == 0);
    return d;
}

static void roundtrip(const uint8_t *data, size_t n, bool client) {
    uint8_t mask[4] = { 0x11, 0x22, 0x33, 0x44 };
    if (n >= 4) {
        memcpy(mask, data, 4);
    }
    uint8_t *f = malloc(n + MFA_WS_MAX_HEADER);
    size_t hl = client ? mfa_ws_frame_header(f, MFA_WS_OP_BINARY, true, n)
        : mfa_ws_frame_header_masked(f, MFA_WS_OP_BINARY, true, n, mask);
    memcpy(f + hl, data, n);
    if (!client) {
        mfa_ws_mask(f + hl, n, mask, 0);
    }
    fz_mem_t m = { 0, n };
    mfa_ws_reader_t r;
    mfa_ws_reader_init(&r, &fz_mem, &m, n, client);
    mfa_ws_event_t ev;
    size_t c = mfa_ws_reader_feed(&r, f, hl + n, &ev);
    ASSERT(c == hl + n && ev.type == MFA_WS_EV_BINARY && ev.len == n);
    ASSERT(n == 0 || memcmp(ev.data, data, n) == 0);
    mfa_ws_reader_deinit(&r);
    ASSERT(m.live == 0);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) {
        return 0;
    }
    static const size_t maxes[4] = { 0, 16, 125, 4096 };
    unsigned ctl = data[0];
    bool client = (ctl & 1) != 0;
    size_t max_message = maxes[(ctl >> 1) & 3];
    const uint8_t *src = data + 1;
    size_t n = size - 1;

    size_t whole[1] = { 0 };
    size_t bytes[1] = { 1 };
    size_t mixed[4] = { (ctl >> 3) % 17 + 1, 1, (ctl >> 5) + 2, 3 };
    digest_t a = run(src, n, client, max_message, whole, 1);
    digest_t b = run(src, n, client, max_message, bytes, 1);
    digest_t c = run(src, n, client, max_message, mixed, 4);
    ASSERT(a.h == b.h && a.events == b.events && a.last == b.last);
    ASSERT(a.h == c.h && a.events == c.events && a.last == c.last);
    // The other mode must hold the invariants too (its result differs).
    size_t other[2] = { (ctl >> 4) + 1, 5 };
    run(src, n, !client, max_message, other, 2);
    roundtrip(src, n, client);
    return 0;
}
