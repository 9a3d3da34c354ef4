// Unit tests for cmodules/mfa/mfa_ws.c (run by ctest, built with ASan + UBSan).
//
// Every slice fed to the reader is copied to the end of a page followed by a PROT_NONE page,
// so reading one byte past it crashes. Every reader case is fed whole, split in two at every
// byte and one byte at a time; the events (and the error) must be the same each time.

#include "check.h"
#include "mfa_ws.h"

// ---- a counting allocator ----------------------------------------------------------------------

typedef struct _test_mem_t {
    size_t live;            // bytes allocated now
    size_t peak_block;      // largest single block
    size_t calls;           // alloc + realloc calls
    long fail_after;        // calls that succeed before all fail; -1: never fail
} test_mem_t;

static void note(test_mem_t *m, size_t n) {
    if (n > m->peak_block) {
        m->peak_block = n;
    }
}

static bool refuse(test_mem_t *m) {
    ++m->calls;
    return m->fail_after >= 0 && (long)m->calls > m->fail_after;
}

static void *t_alloc(void *ctx, size_t n) {
    test_mem_t *m = ctx;
    if (refuse(m)) {
        return NULL;
    }
    m->live += n;
    note(m, n);
    return malloc(n);
}

static void *t_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    test_mem_t *m = ctx;
    if (refuse(m)) {
        return NULL;
    }
    void *q = realloc(p, new_n);
    m->live = m->live - old_n + new_n;
    note(m, new_n);
    return q;
}

static void t_free(void *ctx, void *p, size_t n) {
    test_mem_t *m = ctx;
    m->live -= n;
    free(p);
}

static const mfa_ws_mem_t test_mem = { t_alloc, t_realloc, t_free };

static void mem_reset(test_mem_t *m) {
    memset(m, 0, sizeof(*m));
    m->fail_after = -1;
}

// ---- traces: what a reader reported, as one string ---------------------------------------------

#define TRACE_MAX (300000)

typedef struct _trace_t {
    char s[TRACE_MAX];
    size_t len;
} trace_t;

static void trace_put(trace_t *t, const char *fmt, unsigned a, unsigned b) {
    int k = snprintf(t->s + t->len, TRACE_MAX - t->len, fmt, a, b);
    if (k > 0) {
        t->len += (size_t)k;
    }
    if (t->len >= TRACE_MAX) {
        t->len = TRACE_MAX - 1;
    }
}

static void trace_str(trace_t *t, const char *s) {
    size_t k = strlen(s);
    if (t->len + k < TRACE_MAX) {
        memcpy(t->s + t->len, s, k + 1);
        t->len += k;
    }
}

// Printable ASCII as it is (but '\\' and ';'), the rest as \xHH.
static void trace_bytes(trace_t *t, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != ';') {
            trace_put(t, "%c", p[i], 0);
        } else {
            trace_put(t, "\\x%02x", p[i], 0);
        }
    }
}

static void trace_event(trace_t *t, const mfa_ws_event_t *ev) {
    switch (ev->type) {
        case MFA_WS_EV_ERROR:
            trace_put(t, "!%u ", ev->code, 0);
            trace_str(t, mfa_ws_err_reason(ev->error));
            trace_put(t, ";", 0, 0);
            break;
        case MFA_WS_EV_CLOSE:
            trace_put(t, "8:%u:", ev->code, 0);
            trace_bytes(t, ev->data, ev->len);
            trace_put(t, ";", 0, 0);
            break;
        default:
            trace_put(t, "%u:", (unsigned)ev->type, 0);
            trace_bytes(t, ev->data, ev->len);
            trace_put(t, ";", 0, 0);
            break;
    }
}

// Feed p[0..n) as one slice, looping over events as a caller does. False once the reader has
// reported an error (the caller stops feeding).
static bool feed_slice(mfa_ws_reader_t *r, const uint8_t *p, size_t n, trace_t *t) {
    const uint8_t *g = guarded(p, n);
    size_t off = 0;
    for (;;) {
        mfa_ws_event_t ev;
        size_t k = mfa_ws_reader_feed(r, g + off, n - off, &ev);
        if (k > n - off) {
            CHECK(0, "feed consumed %zu of %zu", k, n - off);
            return false;
        }
        off += k;
        if (ev.type == MFA_WS_EV_NONE) {
            CHECK(off == n, "no event but %zu bytes left", n - off);
            return true;
        }
        if (ev.type != MFA_WS_EV_ERROR && ev.type != MFA_WS_EV_CLOSE) {
            CHECK(k > 0 || off == n || ev.len == 0, "an event without consuming");
        }
        trace_event(t, &ev);
        if (ev.type == MFA_WS_EV_ERROR) {
            return false;
        }
    }
}

typedef struct _run_opts_t {
    size_t max_message;
    bool client;
} run_opts_t;

// Feed data in slices of at most `step` bytes, except that with split > 0 the first slice is
// data[0..split) and the rest goes whole.
static void run_reader(const run_opts_t *o, const uint8_t *data, size_t n, size_t split,
    size_t step, trace_t *t, test_mem_t *m) {
    mfa_ws_reader_t r;
    mfa_ws_reader_init(&r, &test_mem, m, o->max_message, o->client);
    t->len = 0;
    t->s[0] = 0;
    if (split > 0) {
        if (feed_slice(&r, data, split, t)) {
            feed_slice(&r, data + split, n - split, t);
        }
    } else {
        size_t off = 0;
        do {
            size_t k = n - off < step ? n - off : step;
            if (!feed_slice(&r, data + off, k, t)) {
                break;
            }
            off += k;
        } while (off < n);
    }
    if (mfa_ws_reader_done(&r) && r.state == 4 /* ST_ERROR */) {
        // Sticky: another feed reports the same error and consumes nothing.
        mfa_ws_event_t ev;
        CHECK(mfa_ws_reader_feed(&r, (const uint8_t *)"\x81\x00", 2, &ev) == 0
            && ev.type == MFA_WS_EV_ERROR, "error not sticky");
    }
    mfa_ws_reader_deinit(&r);
    CHECK(m->live == 0, "%zu bytes still allocated after deinit", m->live);
}

static trace_t t_whole, t_other;

// Run one case whole, split at every byte and one byte at a time; every run must give `expect`
// (a trace string) when given, and the same as the whole run in any case. Returns the
// allocator's figures of the whole run.
static test_mem_t check_reader(const char *name, const run_opts_t *o, const uint8_t *data,
    size_t n, const char *expect) {
    test_mem_t m, m2;
    mem_reset(&m);
    run_reader(o, data, n, 0, n ? n : 1, &t_whole, &m);
    if (expect != NULL) {
        CHECK(strcmp(t_whole.s, expect) == 0, "%s: got   %s\n   expected %s", name, t_whole.s,
            expect);
    }
    size_t splits = n <= 4096 ? n : 64;
    for (size_t i = 1; i < splits; ++i) {
        size_t at = n <= 4096 ? i : i * (n / 64) + (i & 7);
        mem_reset(&m2);
        run_reader(o, data, n, at, 0, &t_other, &m2);
        CHECK(strcmp(t_whole.s, t_other.s) == 0, "%s split at %zu: %s vs whole %s", name, at,
            t_other.s, t_whole.s);
    }
    if (n <= 70000) {
        mem_reset(&m2);
        run_reader(o, data, n, 0, 1, &t_other, &m2);
        CHECK(strcmp(t_whole.s, t_other.s) == 0, "%s byte by byte: %s vs whole %s", name,
            t_other.s, t_whole.s);
        mem_reset(&m2);
        run_reader(o, data, n, 0, 7, &t_other, &m2);
        CHECK(strcmp(t_whole.s, t_other.s) == 0, "%s by 7: %s vs whole %s", name,
            t_other.s, t_whole.s);
    }
    return m;
}

// ---- frame building for the tests --------------------------------------------------------------

typedef struct _buf_t {
    uint8_t b[70000 * 2];
    size_t n;
} buf_t;

static buf_t in;

static void put(buf_t *b, const void *p, size_t n) {
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static const uint8_t test_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

// A frame (masked with test_mask when `masked`) appended to b; header bits beyond fin and
// opcode in `extra0` (RSV bits).
static void frame(buf_t *b, unsigned extra0, unsigned op, bool fin, const void *payload,
    size_t n, bool masked) {
    uint8_t h[MFA_WS_MAX_HEADER];
    size_t hl = masked ? mfa_ws_frame_header_masked(h, op, fin, n, test_mask)
        : mfa_ws_frame_header(h, op, fin, n);
    h[0] |= (uint8_t)extra0;
    put(b, h, hl);
    size_t at = b->n;
    put(b, payload, n);
    if (masked) {
        mfa_ws_mask(b->b + at, n, test_mask, 0);
    }
}

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

// ---- RFC 6455 section 5.7 ----------------------------------------------------------------------

static void test_rfc_examples(void) {
    run_opts_t server = { 4096, false }, client = { 70000, true };
    check_reader("single-frame unmasked text", &client, S("\x81\x05\x48\x65\x6c\x6c\x6f"),
        "1:Hello;");
    check_reader("single-frame masked text", &server,
        S("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"), "1:Hello;");
    check_reader("fragmented unmasked text", &client,
        S("\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f"), "1:Hello;");
    check_reader("unmasked ping", &client, S("\x89\x05\x48\x65\x6c\x6c\x6f"), "9:Hello;");
    check_reader("masked pong", &server, S("\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"),
        "10:Hello;");

    // The encoder gives the same bytes.
    uint8_t h[MFA_WS_MAX_HEADER];
    CHECK(mfa_ws_frame_header(h, 1, true, 5) == 2 && memcmp(h, "\x81\x05", 2) == 0, "text");
    CHECK(mfa_ws_frame_header(h, 1, false, 3) == 2 && memcmp(h, "\x01\x03", 2) == 0, "frag");
    CHECK(mfa_ws_frame_header(h, 0, true, 2) == 2 && memcmp(h, "\x80\x02", 2) == 0, "cont");
    CHECK(mfa_ws_frame_header_masked(h, 1, true, 5, test_mask) == 6
        && memcmp(h, "\x81\x85\x37\xfa\x21\x3d", 6) == 0, "masked");
    uint8_t hello[5] = { 'H', 'e', 'l', 'l', 'o' };
    mfa_ws_mask(hello, 5, test_mask, 0);
    CHECK(memcmp(hello, "\x7f\x9f\x4d\x51\x58", 5) == 0, "mask");
    CHECK(mfa_ws_frame_header(h, 2, true, 256) == 4 && memcmp(h, "\x82\x7e\x01\x00", 4) == 0,
        "256 bytes");
    CHECK(mfa_ws_frame_header(h, 2, true, 65536) == 10
        && memcmp(h, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) == 0, "64 KiB");
    CHECK(mfa_ws_frame_header(h, 2, true, 125) == 2 && h[1] == 125, "125");
    CHECK(mfa_ws_frame_header(h, 2, true, 126) == 4 && h[1] == 126 && h[3] == 126, "126");
    CHECK(mfa_ws_frame_header(h, 2, true, 65535) == 4 && h[2] == 0xff && h[3] == 0xff, "65535");
    CHECK(mfa_ws_frame_header(h, 2, true, 0x7fffffffffffffffULL) == 10 && h[2] == 0x7f
        && h[9] == 0xff, "2^63-1");

    // 256 bytes and 64 KiB of binary in one unmasked frame.
    static uint8_t payload[65536];
    for (size_t i = 0; i < sizeof(payload); ++i) {
        payload[i] = (uint8_t)(i * 7 + (i >> 8));
    }
    static trace_t want;
    want.len = 0;
    trace_put(&want, "2:", 0, 0);
    trace_bytes(&want, payload, 256);
    trace_put(&want, ";", 0, 0);
    in.n = 0;
    put(&in, "\x82\x7e\x01\x00", 4);
    put(&in, payload, 256);
    test_mem_t m = check_reader("256 bytes binary", &client, in.b, in.n, want.s);
    CHECK(m.calls == 1 && m.peak_block == 256, "one allocation of 256: %zu, %zu", m.calls,
        m.peak_block);

    want.len = 0;
    trace_put(&want, "2:", 0, 0);
    trace_bytes(&want, payload, 65536);
    trace_put(&want, ";", 0, 0);
    in.n = 0;
    put(&in, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    put(&in, payload, 65536);
    check_reader("64 KiB binary", &client, in.b, in.n, want.s);
    // The same, masked, to a server.
    in.n = 0;
    frame(&in, 0, 2, true, payload, 65536, true);
    run_opts_t big_server = { 65536, false };
    check_reader("64 KiB binary masked", &big_server, in.b, in.n, want.s);
    run_opts_t small_server = { 65535, false };
    check_reader("64 KiB binary over max", &small_server, in.b, in.n,
        "!1009 message too big;");
}

// ---- handshake, SHA-1, base64 ------------------------------------------------------------------

static void hex(const uint8_t *p, size_t n, char *out) {
    for (size_t i = 0; i < n; ++i) {
        sprintf(out + 2 * i, "%02x", p[i]);
    }
}

static void check_sha1(const char *data, size_t n, size_t repeat, const char *want) {
    mfa_sha1_t s;
    uint8_t d[20];
    char h[41];
    mfa_sha1_init(&s);
    for (size_t i = 0; i < repeat; ++i) {
        mfa_sha1_update(&s, (const uint8_t *)data, n);
    }
    mfa_sha1_final(&s, d);
    hex(d, 20, h);
    CHECK(strcmp(h, want) == 0, "sha1(%.20s x%zu) = %s, want %s", data, repeat, h, want);
}

static void test_handshake(void) {
    char out[MFA_WS_ACCEPT_LEN + 1] = { 0 };
    CHECK(mfa_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out)
        && memcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", 28) == 0, "RFC 6455 1.3: %s", out);
    CHECK(mfa_ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", 24, out), "16 zero bytes");
    CHECK(mfa_ws_accept_key("dGhlIHNhbXBsZSBub25jZR==", 24, out), "pad bits not checked");
    static const char *const bad[] = {
        "dGhlIHNhbXBsZSBub25jZQ=",          // 23
        "dGhlIHNhbXBsZSBub25jZQ===",        // 25
        "dGhlIHNhbXBsZSBub25jZQ==\r",       // 25, trailing CR
        "dGhlIHNhbXBsZSBub25jZQ",           // no padding
        "AAAAAAAAAAAAAAAAAAAAAAA=",         // 17 bytes
        "AAAAAAAAAAAAAAAAAAAAAAAA",         // 18 bytes
        "dGhlIHNhbXBsZSBub25jZ!==",         // not in the alphabet
        "dGhlIHNhbXBsZSBub25jZ-==",         // base64url
        "dGhlIHNhbXBsZSBub25jZ_==",
        "dGhlIHNhbXBs ZSBub25jZQ=",         // a space
        "dGhlIHNhbXBsZSBub25j=Q==",         // '=' inside
        "=GhlIHNhbXBsZSBub25jZQ==",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
        CHECK(!mfa_ws_accept_key(bad[i], strlen(bad[i]), out), "accepted key %s", bad[i]);
    }
    CHECK(!mfa_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 23, out), "length");

    check_sha1("", 0, 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    check_sha1("abc", 3, 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    check_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check_sha1("a", 1, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    check_sha1("0123456701234567012345670123456701234567012345670123456701234567", 64, 10,
        "dea356a2cddd90c7a7ecedc5ebb563934f460452");

    static const char *const vec[][2] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
        { "\xff\xfe\xfd", "//79" }, { "\xfb\xef", "++8=" },
    };
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); ++i) {
        char enc[16];
        uint8_t dec[16];
        size_t n = strlen(vec[i][0]);
        size_t k = mfa_base64_encode((const uint8_t *)vec[i][0], n, enc);
        CHECK(k == strlen(vec[i][1]) && memcmp(enc, vec[i][1], k) == 0, "b64 %s", vec[i][1]);
        ptrdiff_t d = mfa_base64_decode(vec[i][1], k, dec);
        CHECK(d == (ptrdiff_t)n && memcmp(dec, vec[i][0], n) == 0, "unb64 %s", vec[i][1]);
    }
    static const char *const nb64[] = { "Zg=", "Zg=a", "Z===", "====", "Zm9v=Zm9", "Zm9vY===",
        "Zm9vYg=\n", "Zm 9", "Zg==Zg==" };
    for (size_t i = 0; i < sizeof(nb64) / sizeof(nb64[0]); ++i) {
        uint8_t dec[16];
        CHECK(mfa_base64_decode(nb64[i], strlen(nb64[i]), dec) == -1, "decoded %s", nb64[i]);
    }
}

// ---- mask --------------------------------------------------------------------------------------

static void test_masking(void) {
    static uint8_t a[300], b[300];
    const uint8_t mk[4] = { 0x01, 0x82, 0x43, 0xf4 };
    for (size_t start = 0; start < 16; ++start) {
        for (size_t n = 0; n < 200; n += (n < 40 ? 1 : 13)) {
            for (size_t off = 0; off < 8; ++off) {
                for (size_t i = 0; i < n; ++i) {
                    a[start + i] = b[start + i] = (uint8_t)(i * 31 + start);
                }
                mfa_ws_mask(a + start, n, mk, off);
                for (size_t i = 0; i < n; ++i) {
                    b[start + i] ^= mk[(off + i) & 3];
                }
                CHECK(memcmp(a + start, b + start, n) == 0, "mask start %zu n %zu off %zu",
                    start, n, off);
            }
        }
    }
    // In pieces, passing the offset: the same as at once.
    for (size_t i = 0; i < 100; ++i) {
        a[i] = b[i] = (uint8_t)i;
    }
    mfa_ws_mask(a, 100, mk, 0);
    mfa_ws_mask(b, 3, mk, 0);
    mfa_ws_mask(b + 3, 50, mk, 3);
    mfa_ws_mask(b + 53, 47, mk, 53);
    CHECK(memcmp(a, b, 100) == 0, "mask in pieces");
}

// ---- UTF-8 -------------------------------------------------------------------------------------

typedef struct _utf8_case_t {
    const char *name;
    const char *s;
    size_t n;
    long bad;          // index of the first invalid byte; -1: none
    bool complete;     // when bad == -1: no sequence left open
} utf8_case_t;

#define U_OK(name, lit) { name, lit, sizeof(lit) - 1, -1, true }
#define U_OPEN(name, lit) { name, lit, sizeof(lit) - 1, -1, false }
#define U_BAD(name, lit, at) { name, lit, sizeof(lit) - 1, at, false }

// After Markus Kuhn's UTF-8 decoder capability and stress test, as Autobahn's 6.x cases use it.
static const utf8_case_t utf8_cases[] = {
    U_OK("empty", ""),
    U_OK("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
    U_OK("ascii", "Hello-\x7f\x01 world, a longer run of ASCII to cross a word or two"),
    // 2.1 first possible sequence of each length (U+0000 too)
    U_OK("U+0000", "\x00"),
    U_OK("U+0080", "\xc2\x80"),
    U_OK("U+0800", "\xe0\xa0\x80"),
    U_OK("U+10000", "\xf0\x90\x80\x80"),
    // 2.2 last possible sequence of each length
    U_OK("U+007F", "\x7f"),
    U_OK("U+07FF", "\xdf\xbf"),
    U_OK("U+FFFF", "\xef\xbf\xbf"),
    U_OK("U+10FFFF", "\xf4\x8f\xbf\xbf"),
    // 2.3 other boundaries
    U_OK("U+D7FF", "\xed\x9f\xbf"),
    U_OK("U+E000", "\xee\x80\x80"),
    U_OK("U+FFFD", "\xef\xbf\xbd"),
    U_BAD("U+110000", "\xf4\x90\x80\x80", 1),
    U_BAD("U+1FFFFF", "\xf7\xbf\xbf\xbf", 0),
    // 5.3 noncharacters are valid (Autobahn 6.23)
    U_OK("U+FFFE", "\xef\xbf\xbe"),
    U_OK("U+FDD0", "\xef\xb7\x90"),
    U_OK("U+10FFFE", "\xf4\x8f\xbf\xbe"),
    // 3.1 unexpected continuation bytes
    U_BAD("lone 80", "\x80", 0),
    U_BAD("lone bf", "\xbf", 0),
    U_BAD("80 bf", "a\x80\xbf", 1),
    U_BAD("after a sequence", "\xc2\x80\x80", 2),
    // 3.2 lonely start characters
    U_BAD("c0 space", "\xc0 ", 0),
    U_BAD("c2 space", "\xc2 ", 1),
    U_BAD("e0 space", "\xe0 ", 1),
    U_BAD("f0 space", "\xf0 ", 1),
    U_BAD("e1 80 space", "\xe1\x80 ", 2),
    // 3.3 sequences with the last byte missing, at the end: open, not invalid
    U_OPEN("c2 at end", "\xc2"),
    U_OPEN("e0 a0 at end", "\xe0\xa0"),
    U_OPEN("f0 90 80 at end", "\xf0\x90\x80"),
    U_OPEN("f4 8f bf at end", "\xf4\x8f\xbf"),
    U_OPEN("kosme then e1", "\xce\xba\xe1"),
    // 3.3 missing last byte, then more
    U_BAD("e0 80", "\xe0\x80", 1),
    U_BAD("df then ascii", "\xdf" "a", 1),
    // 3.5 impossible bytes
    U_BAD("fe", "\xfe", 0),
    U_BAD("ff", "\xff", 0),
    U_BAD("fe fe ff ff", "\xfe\xfe\xff\xff", 0),
    U_BAD("f5", "\xf5\x80\x80\x80", 0),
    U_BAD("f8 5-byte", "\xf8\x88\x80\x80\x80", 0),
    U_BAD("fc 6-byte", "\xfc\x84\x80\x80\x80\x80", 0),
    // 4.1 overlong '/'
    U_BAD("c0 af", "\xc0\xaf", 0),
    U_BAD("e0 80 af", "\xe0\x80\xaf", 1),
    U_BAD("f0 80 80 af", "\xf0\x80\x80\xaf", 1),
    U_BAD("f8 80 80 80 af", "\xf8\x80\x80\x80\xaf", 0),
    // 4.2 maximum overlongs
    U_BAD("c1 bf", "\xc1\xbf", 0),
    U_BAD("e0 9f bf", "\xe0\x9f\xbf", 1),
    U_BAD("f0 8f bf bf", "\xf0\x8f\xbf\xbf", 1),
    // 4.3 overlong NUL
    U_BAD("c0 80", "\xc0\x80", 0),
    U_BAD("e0 80 80", "\xe0\x80\x80", 1),
    // 5.1 single surrogates
    U_BAD("U+D800", "\xed\xa0\x80", 1),
    U_BAD("U+DB7F", "\xed\xad\xbf", 1),
    U_BAD("U+DC00", "\xed\xb0\x80", 1),
    U_BAD("U+DFFF", "\xed\xbf\xbf", 1),
    // 5.2 paired surrogates
    U_BAD("U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", 1),
    U_BAD("U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", 1),
    // Autobahn 6.3/6.4: valid text, then the bad byte
    U_BAD("kosme then ed a0 80", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"
        "edited", 12),
    U_BAD("ascii run then ff", "0123456789abcdef0123456789abcdef\xff", 32),
};

static void test_utf8(void) {
    for (size_t c = 0; c < sizeof(utf8_cases) / sizeof(utf8_cases[0]); ++c) {
        const utf8_case_t *uc = &utf8_cases[c];
        const uint8_t *s = (const uint8_t *)uc->s;
        size_t want = uc->bad < 0 ? uc->n : (size_t)uc->bad;
        // At once, and split in two at every byte (also: at every offset from alignment).
        for (size_t split = 0; split <= uc->n; ++split) {
            for (size_t shift = 0; shift < 8; ++shift) {
                static uint8_t tmp[128];
                memcpy(tmp + shift, s, uc->n);
                mfa_ws_utf8_t u;
                mfa_ws_utf8_init(&u);
                size_t a = mfa_ws_utf8_feed(&u, tmp + shift, split);
                size_t got = a;
                if (a == split) {
                    got = split + mfa_ws_utf8_feed(&u, tmp + shift + split, uc->n - split);
                }
                CHECK(got == want, "utf8 %s split %zu shift %zu: bad at %zu, want %zu",
                    uc->name, split, shift, got, want);
                if (uc->bad < 0) {
                    CHECK(mfa_ws_utf8_complete(&u) == uc->complete, "utf8 %s: complete",
                        uc->name);
                } else {
                    CHECK(!mfa_ws_utf8_complete(&u), "utf8 %s: invalid is not complete",
                        uc->name);
                    CHECK(mfa_ws_utf8_feed(&u, (const uint8_t *)"a", 1) == 0,
                        "utf8 %s: invalid is sticky", uc->name);
                }
            }
        }
    }
    // Every code point, encoded by hand: valid exactly outside the surrogates.
    for (uint32_t cp = 0; cp < 0x110000; cp += (cp < 0x11000 ? 1 : 0x33)) {
        uint8_t e[4];
        size_t n;
        if (cp < 0x80) {
            e[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            e[0] = (uint8_t)(0xc0 | (cp >> 6));
            e[1] = (uint8_t)(0x80 | (cp & 63));
            n = 2;
        } else if (cp < 0x10000) {
            e[0] = (uint8_t)(0xe0 | (cp >> 12));
            e[1] = (uint8_t)(0x80 | ((cp >> 6) & 63));
            e[2] = (uint8_t)(0x80 | (cp & 63));
            n = 3;
        } else {
            e[0] = (uint8_t)(0xf0 | (cp >> 18));
            e[1] = (uint8_t)(0x80 | ((cp >> 12) & 63));
            e[2] = (uint8_t)(0x80 | ((cp >> 6) & 63));
            e[3] = (uint8_t)(0x80 | (cp & 63));
            n = 4;
        }
        mfa_ws_utf8_t u;
        mfa_ws_utf8_init(&u);
        bool ok = mfa_ws_utf8_feed(&u, e, n) == n && mfa_ws_utf8_complete(&u);
        bool want = cp < 0xd800 || cp > 0xdfff;
        if (ok != want) {
            CHECK(0, "U+%04X: %d", (unsigned)cp, ok);
        }
    }
    ++checks;
}

// ---- reader cases ------------------------------------------------------------------------------

typedef struct _reader_case_t {
    const char *name;
    bool client;            // the reader reads a server's frames
    size_t max_message;
    const char *in;
    size_t n;
    const char *expect;     // the trace
} reader_case_t;

// Cases for a server (masked frames, mask 00 00 00 00 where it does not matter, so the
// payload reads as it is) and for a client (unmasked).
#define SRV(name, lit, expect) { name, false, 4096, lit, sizeof(lit) - 1, expect }
#define CLI(name, lit, expect) { name, true, 4096, lit, sizeof(lit) - 1, expect }
#define MAXED(name, client, max, lit, expect) { name, client, max, lit, sizeof(lit) - 1, expect }
#define M0 "\x00\x00\x00\x00"

static const reader_case_t reader_cases[] = {
    // events
    SRV("text", "\x81\x82" M0 "hi", "1:hi;"),
    SRV("binary", "\x82\x83" M0 "\x00\x01\xff", "2:\\x00\\x01\\xff;"),
    SRV("empty text", "\x81\x80" M0, "1:;"),
    SRV("empty binary", "\x82\x80" M0, "2:;"),
    SRV("empty fragments", "\x01\x80" M0 "\x00\x80" M0 "\x80\x80" M0, "1:;"),
    SRV("ping empty", "\x89\x80" M0, "9:;"),
    SRV("pong", "\x8a\x82" M0 "ok", "10:ok;"),
    SRV("close empty", "\x88\x80" M0, "8:1005:;"),
    SRV("close 1000", "\x88\x82" M0 "\x03\xe8", "8:1000:;"),
    SRV("close 1001 reason", "\x88\x85" M0 "\x03\xe9" "bye", "8:1001:bye;"),
    SRV("close reason utf8", "\x88\x84" M0 "\x03\xe8\xc2\xa9", "8:1000:\\xc2\\xa9;"),
    SRV("close ends the stream", "\x88\x80" M0 "\x81\x82" M0 "hi\xff\xff\xff", "8:1005:;"),
    SRV("close drops an unfinished message", "\x01\x81" M0 "a" "\x88\x80" M0, "8:1005:;"),
    SRV("two messages", "\x81\x81" M0 "a" "\x82\x81" M0 "b", "1:a;2:b;"),
    SRV("control inside fragments",
        "\x01\x82" M0 "he" "\x89\x81" M0 "p" "\x00\x81" M0 "l" "\x8a\x80" M0 "\x80\x82" M0 "lo"
        "\x89\x80" M0, "9:p;10:;1:hello;9:;"),
    SRV("utf8 split across fragments", "\x01\x81" M0 "\xe2" "\x00\x81" M0 "\x82"
        "\x80\x81" M0 "\xac", "1:\\xe2\\x82\\xac;"),
    SRV("mask applied", "\x81\x84\x01\x02\x03\x04" "\x60\x60\x60\x60", "1:abcd;"),
    SRV("16-bit length", "\x82\xfe\x00\x03" M0 "abc", "2:abc;"),
    SRV("64-bit length", "\x82\xff\x00\x00\x00\x00\x00\x00\x00\x03" M0 "abc", "2:abc;"),
    SRV("ping 125", "\x89\xfd" M0
        "0123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789012345678901234",
        "9:0123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567890123456789012345678901234;"),
    CLI("client text", "\x81\x02hi", "1:hi;"),
    CLI("client close", "\x88\x02\x0b\xb8", "8:3000:;"),
    MAXED("max 0 empty ok", false, 0, "\x81\x80" M0 "\x82\x80" M0, "1:;2:;"),
    MAXED("max exact", false, 3, "\x01\x81" M0 "a" "\x80\x82" M0 "bc", "1:abc;"),

    // 1002
    SRV("not masked", "\x81\x02hi", "!1002 frame not masked;"),
    CLI("masked to a client", "\x81\x82" M0 "hi", "!1002 masked frame;"),
    SRV("rsv1", "\xc1\x80" M0, "!1002 reserved bits set;"),
    SRV("rsv2", "\xa1\x80" M0, "!1002 reserved bits set;"),
    SRV("rsv3", "\x91\x80" M0, "!1002 reserved bits set;"),
    SRV("rsv on a ping", "\xc9\x80" M0, "!1002 reserved bits set;"),
    SRV("rsv before opcode", "\xf3\x80" M0, "!1002 reserved bits set;"),
    SRV("opcode 3", "\x83\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 4", "\x84\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 5", "\x85\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 6", "\x86\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 7", "\x87\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 11", "\x8b\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 12", "\x8c\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 13", "\x8d\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 14", "\x8e\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode 15", "\x8f\x80" M0, "!1002 unknown opcode;"),
    SRV("opcode before mask", "\x83\x00", "!1002 unknown opcode;"),
    SRV("ping 126", "\x89\xfe\x00\x7e" M0, "!1002 control frame too long;"),
    SRV("ping 64-bit", "\x89\xff\x00\x00\x00\x00\x00\x00\x00\x01" M0,
        "!1002 control frame too long;"),
    SRV("close 126", "\x88\xfe\x00\x7e", "!1002 control frame too long;"),
    SRV("ping not fin", "\x09\x80" M0, "!1002 fragmented control frame;"),
    SRV("close not fin", "\x08\x80" M0, "!1002 fragmented control frame;"),
    SRV("pong not fin", "\x0a\x80" M0, "!1002 fragmented control frame;"),
    SRV("continuation first", "\x80\x81" M0 "a", "!1002 continuation frame without a message;"),
    SRV("continuation after a message", "\x81\x81" M0 "a" "\x80\x81" M0 "a",
        "1:a;!1002 continuation frame without a message;"),
    SRV("text inside text", "\x01\x81" M0 "a" "\x81\x81" M0 "b",
        "!1002 new message before the last one ended;"),
    SRV("binary inside text", "\x01\x81" M0 "a" "\x09\x80" "\x82\x81" M0 "b",
        "!1002 fragmented control frame;"),
    SRV("binary inside binary", "\x02\x81" M0 "a" "\x89\x80" M0 "\x02\x81" M0 "b",
        "9:;!1002 new message before the last one ended;"),
    SRV("64-bit top bit", "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00",
        "!1002 invalid frame length;"),
    SRV("64-bit all ones", "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        "!1002 invalid frame length;"),
    SRV("close length 1", "\x88\x81" M0 "\x03", "!1002 close frame with a 1-byte payload;"),
    SRV("close code 0", "\x88\x82" M0 "\x00\x00", "!1002 invalid close code;"),
    SRV("close code 999", "\x88\x82" M0 "\x03\xe7", "!1002 invalid close code;"),
    SRV("close code 1004", "\x88\x82" M0 "\x03\xec", "!1002 invalid close code;"),
    SRV("close code 1005", "\x88\x82" M0 "\x03\xed", "!1002 invalid close code;"),
    SRV("close code 1006", "\x88\x82" M0 "\x03\xee", "!1002 invalid close code;"),
    SRV("close code 1015", "\x88\x82" M0 "\x03\xf7", "!1002 invalid close code;"),
    SRV("close code 1016", "\x88\x82" M0 "\x03\xf8", "!1002 invalid close code;"),
    SRV("close code 1100", "\x88\x82" M0 "\x04\x4c", "!1002 invalid close code;"),
    SRV("close code 2000", "\x88\x82" M0 "\x07\xd0", "!1002 invalid close code;"),
    SRV("close code 2999", "\x88\x82" M0 "\x0b\xb7", "!1002 invalid close code;"),
    SRV("close code 5000", "\x88\x82" M0 "\x13\x88", "!1002 invalid close code;"),
    SRV("close code 65535", "\x88\x82" M0 "\xff\xff", "!1002 invalid close code;"),
    SRV("close code before reason", "\x88\x83" M0 "\x03\xec\xff", "!1002 invalid close code;"),

    // 1007
    SRV("text bad utf8", "\x81\x81" M0 "\xff", "!1007 invalid UTF-8 in text message;"),
    SRV("text surrogate", "\x81\x83" M0 "\xed\xa0\x80", "!1007 invalid UTF-8 in text message;"),
    SRV("text overlong", "\x81\x82" M0 "\xc0\xaf", "!1007 invalid UTF-8 in text message;"),
    SRV("text above U+10FFFF", "\x81\x84" M0 "\xf4\x90\x80\x80",
        "!1007 invalid UTF-8 in text message;"),
    SRV("text truncated at end", "\x81\x82" M0 "\xe2\x82", "!1007 invalid UTF-8 in text message;"),
    SRV("fragmented truncated at end", "\x01\x81" M0 "\xe2" "\x80\x81" M0 "\x82",
        "!1007 invalid UTF-8 in text message;"),
    SRV("bad byte before the frame ends", "\x81\x8a" M0 "ab\xff",
        "!1007 invalid UTF-8 in text message;"),
    SRV("bad byte in a later fragment, early", "\x01\x81" M0 "a" "\x00\x8a" M0 "\xc0",
        "!1007 invalid UTF-8 in text message;"),
    SRV("binary is not checked", "\x82\x81" M0 "\xff", "2:\\xff;"),
    SRV("ping is not checked", "\x89\x81" M0 "\xff", "9:\\xff;"),
    SRV("close reason bad utf8", "\x88\x83" M0 "\x03\xe8\xff",
        "!1007 invalid UTF-8 in close reason;"),
    SRV("close reason truncated", "\x88\x84" M0 "\x03\xe8\xe2\x82",
        "!1007 invalid UTF-8 in close reason;"),

    // 1009
    MAXED("too big", false, 4, "\x82\x85" M0 "abcde", "!1009 message too big;"),
    MAXED("too big at the header", false, 4, "\x81\x85", "!1009 message too big;"),
    MAXED("too big fragments", false, 4, "\x01\x82" M0 "ab" "\x80\x83" M0 "cde",
        "!1009 message too big;"),
    MAXED("too big 16-bit", false, 4, "\x82\xfe\x01\x00", "!1009 message too big;"),
    MAXED("too big 2^63-1", false, 4096, "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff",
        "!1009 message too big;"),
    MAXED("too big 2^32", true, 4096, "\x82\x7f\x00\x00\x00\x01\x00\x00\x00\x00",
        "!1009 message too big;"),
    MAXED("max 0", false, 0, "\x81\x81" M0 "a", "!1009 message too big;"),
    MAXED("control frames are not counted", false, 1, "\x01\x81" M0 "a" "\x89\x85" M0 "abcde"
        "\x80\x80" M0, "9:abcde;1:a;"),
};

static void test_reader_cases(void) {
    for (size_t c = 0; c < sizeof(reader_cases) / sizeof(reader_cases[0]); ++c) {
        const reader_case_t *rc = &reader_cases[c];
        run_opts_t o = { rc->max_message, rc->client };
        check_reader(rc->name, &o, (const uint8_t *)rc->in, rc->n, rc->expect);
    }
}

// A 2^63-byte claim, or a message just under max_message, costs nothing before payload; payload
// arriving a byte at a time grows the buffer by doubling, never past the frame; the buffer is
// freed at the next feed after the message.
static void test_reader_memory(void) {
    test_mem_t m;
    mfa_ws_reader_t r;
    mfa_ws_event_t ev;

    mem_reset(&m);
    mfa_ws_reader_init(&r, &test_mem, &m, 1000000, false);
    const uint8_t claim[] = { 0x82, 0xfe, 0x0f, 0xa0, 0, 0, 0, 0 }; // 4000 bytes claimed
    CHECK(mfa_ws_reader_feed(&r, claim, sizeof(claim), &ev) == sizeof(claim)
        && ev.type == MFA_WS_EV_NONE, "header only");
    CHECK(m.calls == 0 && m.live == 0, "a header allocates nothing: %zu", m.live);
    size_t got = 0;
    for (size_t i = 0; i < 4000; ++i) {
        uint8_t b = (uint8_t)i;
        size_t k = mfa_ws_reader_feed(&r, &b, 1, &ev);
        CHECK(k == 1, "one byte");
        CHECK(m.live <= 2 * (i + 1) + 64, "%zu bytes allocated for %zu", m.live, i + 1);
        if (ev.type == MFA_WS_EV_BINARY) {
            got = ev.len;
        }
    }
    CHECK(got == 4000 && m.peak_block == 4000, "message %zu, block %zu", got, m.peak_block);
    CHECK(m.calls <= 8, "%zu allocations", m.calls);
    CHECK(mfa_ws_reader_feed(&r, NULL, 0, &ev) == 0 && ev.type == MFA_WS_EV_NONE, "empty feed");
    CHECK(m.live == 0, "released at the next feed: %zu", m.live);
    mfa_ws_reader_deinit(&r);

    // take: the buffer is the caller's.
    mem_reset(&m);
    mfa_ws_reader_init(&r, &test_mem, &m, 100, false);
    const uint8_t msg[] = { 0x82, 0x83, 0, 0, 0, 0, 'a', 'b', 'c', 0x81, 0x80, 0, 0, 0, 0 };
    size_t k = mfa_ws_reader_feed(&r, msg, sizeof(msg), &ev);
    CHECK(k == 9 && ev.type == MFA_WS_EV_BINARY && ev.len == 3, "binary");
    size_t size;
    uint8_t *p = mfa_ws_reader_take(&r, &size);
    CHECK(p != NULL && size == 3 && memcmp(p, "abc", 3) == 0, "take");
    size_t size2;
    CHECK(mfa_ws_reader_take(&r, &size2) == NULL && size2 == 0, "take twice");
    k = mfa_ws_reader_feed(&r, msg + 9, sizeof(msg) - 9, &ev);
    CHECK(k == 6 && ev.type == MFA_WS_EV_TEXT && ev.len == 0, "empty text");
    CHECK(mfa_ws_reader_take(&r, &size2) == NULL, "nothing to take for an empty message");
    CHECK(m.live == 3, "the taken block stays: %zu", m.live);
    t_free(&m, p, size);
    mfa_ws_reader_deinit(&r);
    CHECK(m.live == 0, "leak: %zu", m.live);

    // Out of memory: 1011, sticky, nothing leaked.
    for (long fail = 0; fail < 4; ++fail) {
        mem_reset(&m);
        m.fail_after = fail;
        mfa_ws_reader_init(&r, &test_mem, &m, 100000, true);
        static uint8_t big[1 + 1 + 2 + 5000];
        size_t bn = mfa_ws_frame_header(big, 2, true, 5000);
        memset(big + bn, 'x', 5000);
        size_t off = 0;
        int type = MFA_WS_EV_NONE;
        unsigned code = 0;
        while (off < bn + 5000) {
            size_t step = bn + 5000 - off < 100 ? bn + 5000 - off : 100;
            k = mfa_ws_reader_feed(&r, big + off, step, &ev);
            off += k;
            if (ev.type != MFA_WS_EV_NONE) {
                type = ev.type;
                code = ev.code;
                break;
            }
        }
        CHECK(type == MFA_WS_EV_ERROR && code == 1011 && ev.error == MFA_WS_E_NOMEM,
            "out of memory after %ld: %d %u", fail, type, code);
        CHECK(m.live == 0, "freed on error");
        mfa_ws_reader_deinit(&r);
    }

    // The reader's own fields: events point into it; a ping between fragments leaves the
    // message alone.
    mem_reset(&m);
    mfa_ws_reader_init(&r, &test_mem, &m, 100, true);
    const uint8_t seq[] = { 0x01, 0x01, 'a', 0x89, 0x01, 'p', 0x80, 0x01, 'b' };
    k = mfa_ws_reader_feed(&r, seq, sizeof(seq), &ev);
    CHECK(k == 6 && ev.type == MFA_WS_EV_PING && ev.len == 1 && ev.data[0] == 'p', "ping");
    k = mfa_ws_reader_feed(&r, seq + 6, 3, &ev);
    CHECK(k == 3 && ev.type == MFA_WS_EV_TEXT && ev.len == 2 && memcmp(ev.data, "ab", 2) == 0,
        "text after ping");
    CHECK(!mfa_ws_reader_done(&r), "not done");
    const uint8_t cl[] = { 0x88, 0x02, 0x03, 0xe8, 0x81, 0x01 };
    k = mfa_ws_reader_feed(&r, cl, sizeof(cl), &ev);
    CHECK(k == 4 && ev.type == MFA_WS_EV_CLOSE && ev.code == 1000 && ev.len == 0, "close");
    CHECK(mfa_ws_reader_done(&r), "done after close");
    k = mfa_ws_reader_feed(&r, cl + 4, 2, &ev);
    CHECK(k == 2 && ev.type == MFA_WS_EV_NONE, "ignored after close");
    mfa_ws_reader_deinit(&r);
    CHECK(m.live == 0, "leak");
}

// Every close code: valid ones are events, the rest 1002.
static void test_close_codes(void) {
    unsigned valid = 0;
    for (unsigned code = 0; code < 65536; ++code) {
        bool want = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
            || (code >= 3000 && code <= 4999);
        if (mfa_ws_close_code_valid(code) != want) {
            CHECK(0, "close code %u", code);
        }
        if (want) {
            ++valid;
        }
    }
    CHECK(valid == 4 + 8 + 2000, "%u valid codes", valid);
    unsigned sample[] = { 1000, 1003, 1007, 1014, 3000, 4999 };
    for (size_t i = 0; i < sizeof(sample) / sizeof(sample[0]); ++i) {
        uint8_t f[] = { 0x88, 0x02, (uint8_t)(sample[i] >> 8), (uint8_t)sample[i] };
        char want[32];
        snprintf(want, sizeof(want), "8:%u:;", sample[i]);
        run_opts_t o = { 0, true };
        check_reader("valid close code", &o, f, sizeof(f), want);
    }
}

// Errors: codes and reasons from the table.
static void test_errors_table(void) {
    CHECK(mfa_ws_err_code(MFA_WS_E_OK) == 0, "OK");
    CHECK(mfa_ws_err_code(MFA_WS_E_TOO_BIG) == 1009, "1009");
    CHECK(mfa_ws_err_code(MFA_WS_E_UTF8) == 1007, "1007");
    CHECK(mfa_ws_err_code(MFA_WS_E_NOMEM) == 1011, "1011");
    CHECK(strcmp(mfa_ws_err_reason(MFA_WS_E_RSV), "reserved bits set") == 0, "reason");
    CHECK(strcmp(mfa_ws_err_reason(MFA_WS_E__COUNT), "unknown error") == 0, "out of range");
}

int main(void) {
    guard_init(20); // room for the 64 KiB frame
    test_rfc_examples();
    test_handshake();
    test_masking();
    test_utf8();
    test_reader_cases();
    test_reader_memory();
    test_close_codes();
    test_errors_table();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
