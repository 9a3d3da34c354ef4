// Unit tests for cmodules/mfa/mfa_http.c (run by ctest, built with ASan + UBSan).
//
// Every input is copied to the end of a page followed by a PROT_NONE page, so reading one
// byte past the buffer crashes instead of passing by luck (picohttpparser's trick).

#include "check.h"
#include "mfa_http.h"

// ---- request parser ----------------------------------------------------------------------------

static int parse(const char *s, size_t n, size_t last_len, mfa_http_request_t *req,
    mfa_http_header_t *h, size_t *nh) {
    *nh = MFA_HTTP_MAX_HEADERS;
    return mfa_http_parse_request(guarded(s, n), n, last_len, req, h, nh);
}

typedef struct _parse_case_t {
    const char *name;
    const char *input;
    int expect;                 // head length, MFA_HTTP_INCOMPLETE or MFA_HTTP_ERROR
    mfa_http_err_t error;       // when MFA_HTTP_ERROR
} parse_case_t;

#define OK(name, input) { name, input, (int)sizeof(input) - 1, MFA_HTTP_E_OK }
#define OKLEN(name, input, n) { name, input, n, MFA_HTTP_E_OK }
#define INCOMPLETE(name, input) { name, input, MFA_HTTP_INCOMPLETE, MFA_HTTP_E_OK }
#define BAD(name, input, err) { name, input, MFA_HTTP_ERROR, MFA_HTTP_E_##err }

static const parse_case_t parse_cases[] = {
    OK("simple 1.1", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    OK("simple 1.0 without host", "GET / HTTP/1.0\r\n\r\n"),
    OK("query", "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: a\r\n\r\n"),
    OK("options star", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
    OK("any token method", "M-SEARCH / HTTP/1.1\r\nHost: a\r\n\r\n"),
    OK("empty header value", "GET / HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n"),
    OK("ows around value", "GET / HTTP/1.1\r\nHost: \t a \t\r\n\r\n"),
    OK("utf-8 value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n\r\n"),
    OK("tab inside value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"),
    OK("content-length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
    OK("content-length duplicates agree", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 005\r\n\r\n"),
    OK("content-length max", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n"),
    OK("chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
    OK("chunked case, empty list elements", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n"),
    OKLEN("body after head", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi", 47),
    OKLEN("pipelined", "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n", 27),
    INCOMPLETE("empty", ""),
    INCOMPLETE("request line only", "GET / HTTP/1.1\r\n"),
    INCOMPLETE("garbage without end", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    BAD("bare LF everywhere", "GET / HTTP/1.1\nHost: a\n\n", LF),
    BAD("bare LF at end", "GET / HTTP/1.1\r\nHost: a\r\n\n", LF),
    BAD("bare LF after header", "GET / HTTP/1.1\r\nHost: a\n\r\n", LF),
    BAD("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", CR),
    BAD("bare CR in header", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", CR),
    // RFC 9112 2.2: up to MFA_HTTP_MAX_EMPTY_LINES (4) CRLFs before the request line are skipped
    OK("leading empty line", "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    OK("four leading empty lines", "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
    BAD("five leading empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", REQUEST_LINE),
    INCOMPLETE("only empty lines", "\r\n\r\n\r\n\r\n"),
    BAD("only empty lines, too many", "\r\n\r\n\r\n\r\n\r\n\r\n", REQUEST_LINE),
    BAD("leading bare LF", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", LF),
    BAD("two spaces", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", REQUEST_LINE),
    BAD("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", REQUEST_LINE),
    BAD("no version", "GET /\r\n\r\n", REQUEST_LINE),
    BAD("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", REQUEST_LINE),
    BAD("method with slash", "GE/T / HTTP/1.1\r\nHost: a\r\n\r\n", METHOD),
    BAD("absolute form", "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    BAD("star for GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    BAD("authority form", "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    BAD("DEL in target", "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    BAD("non-ascii target", "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    BAD("lower-case version", "GET / http/1.1\r\nHost: a\r\n\r\n", VERSION),
    BAD("version 1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", VERSION),
    BAD("version 1", "GET / HTTP/1\r\nHost: a\r\n\r\n", VERSION),
    BAD("version 2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", VERSION_UNSUPPORTED),
    BAD("version 0.9", "GET / HTTP/0.9\r\n\r\n", VERSION_UNSUPPORTED),
    BAD("version 1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", VERSION_UNSUPPORTED),
    BAD("h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", TARGET),
    BAD("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", OBS_FOLD),
    BAD("leading space first header", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", OBS_FOLD),
    BAD("no colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", HEADER_LINE),
    BAD("empty name", "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", HEADER_NAME),
    BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HEADER_SPACE),
    BAD("tab before colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", HEADER_SPACE),
    BAD("space inside name", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", HEADER_NAME),
    BAD("separator in name", "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", HEADER_NAME),
    BAD("DEL in value", "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", HEADER_VALUE),
    BAD("ESC in value", "GET / HTTP/1.1\r\nHost: a\x1b\r\n\r\n", HEADER_VALUE),
    BAD("latin-1 value", "GET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n", HEADER_VALUE),
    BAD("overlong utf-8", "GET / HTTP/1.1\r\nHost: a\r\nX: \xc0\xaf\r\n\r\n", HEADER_VALUE),
    BAD("surrogate utf-8", "GET / HTTP/1.1\r\nHost: a\r\nX: \xed\xa0\x80\r\n\r\n", HEADER_VALUE),
    BAD("truncated utf-8", "GET / HTTP/1.1\r\nHost: a\r\nX: \xe2\x82\r\n\r\n", HEADER_VALUE),
    BAD("above U+10FFFF", "GET / HTTP/1.1\r\nHost: a\r\nX: \xf4\x90\x80\x80\r\n\r\n", HEADER_VALUE),
    BAD("content-length sign", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length empty", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length hex", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length overflow", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length 2^64", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551621\r\n\r\n", CONTENT_LENGTH),
    BAD("content-length conflict", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", CONTENT_LENGTH_CONFLICT),
    BAD("gzip", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", TE_UNSUPPORTED),
    BAD("identity", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", TE_UNSUPPORTED),
    BAD("chunked twice", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", TE),
    BAD("te empty", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", TE),
    BAD("te in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", TE_HTTP10),
    BAD("cl and te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", CL_AND_TE),
    BAD("te and cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", CL_AND_TE),
    BAD("no host", "GET / HTTP/1.1\r\n\r\n", HOST_MISSING),
    BAD("two hosts", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HOST_MULTIPLE),
    BAD("two hosts 1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", HOST_MULTIPLE),
};

static void check_case(const parse_case_t *c) {
    size_t n = strlen(c->input); // inputs with NUL bytes are in nul_cases
    mfa_http_request_t req;
    mfa_http_header_t h[MFA_HTTP_MAX_HEADERS];
    size_t nh;
    int r = parse(c->input, n, 0, &req, h, &nh);
    CHECK(r == c->expect, "%s: returned %d, expected %d", c->name, r, c->expect);
    if (r == MFA_HTTP_ERROR && c->expect == MFA_HTTP_ERROR) {
        CHECK(req.error == c->error, "%s: error %s, expected %s", c->name,
            mfa_http_err_name(req.error), mfa_http_err_name(c->error));
    }
    // Same result when fed byte by byte with last_len.
    int rr = MFA_HTTP_INCOMPLETE;
    size_t last = 0;
    for (size_t k = 0; k <= n; ++k) {
        rr = parse(c->input, k, last, &req, h, &nh);
        if (rr != MFA_HTTP_INCOMPLETE) {
            break;
        }
        last = k;
    }
    CHECK(rr == c->expect, "%s: byte by byte returned %d, expected %d", c->name, rr, c->expect);
    if (rr > 0) {
        // Every prefix of a valid request is incomplete.
        for (size_t k = 0; k < (size_t)rr; ++k) {
            int p = parse(c->input, k, 0, &req, h, &nh);
            CHECK(p == MFA_HTTP_INCOMPLETE, "%s: prefix %zu returned %d", c->name, k, p);
        }
    }
}

// NUL-containing cases need their length: sizeof of the literal. Keep them in their own table.
typedef struct _nul_case_t {
    const char *name;
    const char *input;
    size_t len;
    mfa_http_err_t error;
} nul_case_t;

#define NUL(name, input, err) { name, input, sizeof(input) - 1, MFA_HTTP_E_##err }

static const nul_case_t nul_cases[] = {
    NUL("method with NUL", "GE\0T / HTTP/1.1\r\nHost: a\r\n\r\n", METHOD),
    NUL("NUL in target", "GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n", TARGET),
    NUL("NUL in value", "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", HEADER_VALUE),
    NUL("NUL in name", "GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n", HEADER_NAME),
    NUL("first error wins", "GET / HTTP/1.1\r\nHost : a\r\nX: \0\r\n\r\n", HEADER_SPACE),
};

static void test_nul_cases(void) {
    mfa_http_request_t req;
    mfa_http_header_t h[MFA_HTTP_MAX_HEADERS];
    size_t nh;
    for (size_t i = 0; i < sizeof(nul_cases) / sizeof(nul_cases[0]); ++i) {
        const nul_case_t *c = &nul_cases[i];
        int r = parse(c->input, c->len, 0, &req, h, &nh);
        CHECK(r == MFA_HTTP_ERROR && req.error == c->error, "%s: %d %s", c->name, r,
            mfa_http_err_name(req.error));
    }
}

static bool span_eq(const char *s, size_t n, const char *lit) {
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static void test_fields(void) {
    static const char in[] = "POST /p/a%20th?q=1&r HTTP/1.1\r\nHost: ex.com\r\n"
        "Content-Length: 12\r\nConnection: Upgrade, Close\r\nExpect: 100-Continue\r\n"
        "X-Empty:   \r\n\r\nbody";
    mfa_http_request_t req;
    mfa_http_header_t h[MFA_HTTP_MAX_HEADERS];
    size_t nh;
    int r = parse(in, sizeof(in) - 1, 0, &req, h, &nh);
    CHECK(r == (int)sizeof(in) - 1 - 4, "fields: r=%d", r);
    CHECK(span_eq(req.method, req.method_len, "POST"), "method");
    CHECK(span_eq(req.path, req.path_len, "/p/a%20th"), "path");
    CHECK(span_eq(req.query, req.query_len, "q=1&r"), "query");
    CHECK(req.minor_version == 1, "version");
    CHECK(req.flags == (MFA_HTTP_F_CONTENT_LENGTH | MFA_HTTP_F_EXPECT_CONTINUE), "flags %x", req.flags);
    CHECK(req.content_length == 12, "content_length");
    CHECK(nh == 5, "num_headers %zu", nh);
    CHECK(span_eq(h[0].name, h[0].name_len, "Host") && span_eq(h[0].value, h[0].value_len, "ex.com"), "h0");
    CHECK(span_eq(h[4].name, h[4].name_len, "X-Empty") && h[4].value_len == 0, "h4");
    const mfa_http_header_t *f = mfa_http_find_header(h, nh, "content-LENGTH", 14);
    CHECK(f == &h[1], "find_header");
    CHECK(mfa_http_find_header(h, nh, "cookie", 6) == NULL, "find_header missing");

    static const char ka10[] = "GET / HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n";
    r = parse(ka10, sizeof(ka10) - 1, 0, &req, h, &nh);
    CHECK(r > 0 && req.flags == MFA_HTTP_F_KEEP_ALIVE && req.minor_version == 0,
        "1.0 keep-alive, expect ignored: flags %x", req.flags);
    static const char ka10c[] = "GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n";
    r = parse(ka10c, sizeof(ka10c) - 1, 0, &req, h, &nh);
    CHECK(r > 0 && req.flags == 0, "1.0 keep-alive and close");
    static const char ka11[] = "GET /?#x HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n";
    r = parse(ka11, sizeof(ka11) - 1, 0, &req, h, &nh);
    CHECK(r > 0 && req.flags == MFA_HTTP_F_KEEP_ALIVE, "1.1 keep-alive");
    CHECK(span_eq(req.path, req.path_len, "/") && span_eq(req.query, req.query_len, "#x"), "empty query");
    static const char ch[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    r = parse(ch, sizeof(ch) - 1, 0, &req, h, &nh);
    CHECK(r > 0 && req.flags == (MFA_HTTP_F_CHUNKED | MFA_HTTP_F_KEEP_ALIVE), "chunked flags");

    // A failed parse reports the headers parsed so far.
    static const char bad[] = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nBad Name: 2\r\n\r\n";
    r = parse(bad, sizeof(bad) - 1, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_HEADER_NAME && nh == 2, "partial %zu", nh);
}

static void test_limits(void) {
    static char buf[MFA_HTTP_MAX_HEAD * 2];
    mfa_http_request_t req;
    mfa_http_header_t h[MFA_HTTP_MAX_HEADERS];
    size_t nh;
    int r;

    // Target of exactly MAX_TARGET bytes is fine, one more is 414.
    for (int extra = 0; extra <= 1; ++extra) {
        size_t t = MFA_HTTP_MAX_TARGET + (size_t)extra;
        size_t n = 0;
        memcpy(buf, "GET /", 5);
        n = 5;
        memset(buf + n, 'a', t - 1);
        n += t - 1;
        memcpy(buf + n, " HTTP/1.1\r\nHost: a\r\n\r\n", 22);
        n += 22;
        r = parse(buf, n, 0, &req, h, &nh);
        if (extra) {
            CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_TARGET_TOO_LONG, "414: %d", r);
        } else {
            CHECK(r == (int)n, "max target: %d %s", r, mfa_http_err_name(req.error));
        }
    }

    // A request line that never ends: incomplete below MAX_HEAD, 414 at MAX_HEAD.
    memcpy(buf, "GET /", 5);
    memset(buf + 5, 'a', sizeof(buf) - 5);
    r = parse(buf, MFA_HTTP_MAX_HEAD - 1, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_INCOMPLETE, "long line below limit: %d", r);
    r = parse(buf, MFA_HTTP_MAX_HEAD, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_TARGET_TOO_LONG, "long line: %d", r);

    // Headers that never end: 431 at MAX_HEAD; a head of exactly MAX_HEAD bytes is fine.
    size_t n = 0;
    memcpy(buf, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
    n = 28;
    memset(buf + n, 'b', MFA_HTTP_MAX_HEAD - n - 4);
    n = MFA_HTTP_MAX_HEAD - 4;
    memcpy(buf + n, "\r\n\r\n", 4);
    n += 4;
    r = parse(buf, n, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_MAX_HEAD, "head of MAX_HEAD: %d %s", r, mfa_http_err_name(req.error));
    buf[n - 1] = 'c';
    r = parse(buf, n, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_HEAD_TOO_LARGE, "431: %d", r);
    r = parse(buf, n - 1, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_INCOMPLETE, "below MAX_HEAD: %d", r);
    // ... unless the request line itself is bad.
    buf[0] = '(';
    r = parse(buf, n, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_METHOD, "bad line at limit: %d", r);

    // Header count: MAX_HEADERS fine, one more 431; a smaller capacity is honoured.
    n = 0;
    memcpy(buf, "GET / HTTP/1.1\r\n", 16);
    n = 16;
    for (int i = 0; i < MFA_HTTP_MAX_HEADERS; ++i) {
        memcpy(buf + n, "Host: a\r\n", 9);
        if (i > 0) {
            memcpy(buf + n, "X-Ab: a\r\n", 9);
        }
        n += 9;
    }
    memcpy(buf + n, "\r\n", 2);
    r = parse(buf, n + 2, 0, &req, h, &nh);
    CHECK(r == (int)n + 2 && nh == MFA_HTTP_MAX_HEADERS, "max headers: %d", r);
    nh = 4;
    r = mfa_http_parse_request(buf, n + 2, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_TOO_MANY_HEADERS && nh == 4,
        "capacity 4: %d", r);
    memcpy(buf + n, "X-Ab: a\r\n\r\n", 11);
    r = parse(buf, n + 11, 0, &req, h, &nh);
    CHECK(r == MFA_HTTP_ERROR && req.error == MFA_HTTP_E_TOO_MANY_HEADERS, "too many: %d", r);
}

static void test_errors_table(void) {
    for (int e = 0; e < MFA_HTTP_E__COUNT; ++e) {
        int st = mfa_http_err_status((mfa_http_err_t)e);
        CHECK(e == 0 ? st == 0 : (st >= 400 && st < 600), "status of %d", e);
        CHECK(strlen(mfa_http_err_name((mfa_http_err_t)e)) > 0, "name of %d", e);
        CHECK(strlen(mfa_http_err_reason((mfa_http_err_t)e)) > 0, "reason of %d", e);
    }
    CHECK(strcmp(mfa_http_err_reason(MFA_HTTP_E_HOST_MISSING), "missing Host header") == 0, "reason");
    CHECK(mfa_http_err_status(MFA_HTTP_E_VERSION_UNSUPPORTED) == 505, "505");
    CHECK(mfa_http_err_status(MFA_HTTP_E__COUNT) == 400, "out of range");
}

// ---- helpers -----------------------------------------------------------------------------------

static void test_unquote(void) {
    static const struct {
        const char *in;
        bool plus;
        const char *out;
    } cases[] = {
        { "", false, "" },
        { "abc", false, "abc" },
        { "a%20b", false, "a b" },
        { "a+b", false, "a+b" },
        { "a+b", true, "a b" },
        { "%41%4a%4A", false, "AJJ" },
        { "%", false, "%" },
        { "%4", false, "%4" },
        { "%zz", false, "%zz" },
        { "%%41", false, "%A" },
        { "100%", false, "100%" },
        { "%2B", true, "+" },
    };
    char out[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        size_t n = strlen(cases[i].in);
        const char *g = guarded(cases[i].in, n);
        size_t m = mfa_http_unquote(g, n, out, cases[i].plus);
        CHECK(m == strlen(cases[i].out) && memcmp(out, cases[i].out, m) == 0, "unquote %s", cases[i].in);
        // In place.
        char *w = guarded(cases[i].in, n);
        m = mfa_http_unquote(w, n, w, cases[i].plus);
        CHECK(m == strlen(cases[i].out) && memcmp(w, cases[i].out, m) == 0, "unquote in place %s", cases[i].in);
    }
    static const struct {
        const char *in;
        const char *out;
    } utf8[] = {
        { "abc", "abc" },
        { "\xe2\x82\xac", "\xe2\x82\xac" },
        { "\xff", "\xef\xbf\xbd" },
        { "a\xc3", "a\xef\xbf\xbd" },
        { "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd" },
        { "\xc0\xaf!", "\xef\xbf\xbd\xef\xbf\xbd!" },
    };
    for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); ++i) {
        size_t n = strlen(utf8[i].in);
        const char *g = guarded(utf8[i].in, n);
        size_t need = mfa_http_utf8_sanitize(g, n, NULL);
        size_t m = mfa_http_utf8_sanitize(g, n, out);
        CHECK(need == m && m == strlen(utf8[i].out) && memcmp(out, utf8[i].out, m) == 0, "sanitize %zu", i);
    }
}

static void test_qs(void) {
    static const char qs[] = "a=1&&b=&c&=d&e=f=g&";
    static const char *const expect[][2] = { { "a", "1" }, { "b", "" }, { "c", "" }, { "", "d" }, { "e", "f=g" } };
    const char *g = guarded(qs, sizeof(qs) - 1);
    size_t pos = 0;
    const char *k, *v;
    size_t kl, vl;
    size_t i = 0;
    while (mfa_http_qs_next(g, sizeof(qs) - 1, &pos, &k, &kl, &v, &vl)) {
        CHECK(i < 5 && span_eq(k, kl, expect[i][0]) && span_eq(v, vl, expect[i][1]), "qs piece %zu", i);
        ++i;
    }
    CHECK(i == 5, "qs count %zu", i);
    pos = 0;
    CHECK(!mfa_http_qs_next(g, 0, &pos, &k, &kl, &v, &vl), "empty qs");
}

// ---- chunked -----------------------------------------------------------------------------------

typedef struct _chunk_case_t {
    const char *name;
    const char *input;
    ptrdiff_t expect;       // consumed when done, MFA_HTTP_INCOMPLETE or MFA_HTTP_ERROR
    const char *body;       // when not an error
    mfa_http_err_t error;
} chunk_case_t;

#define CDONE(name, input, consumed, body) { name, input, consumed, body, MFA_HTTP_E_OK }
#define CMORE(name, input, body) { name, input, MFA_HTTP_INCOMPLETE, body, MFA_HTTP_E_OK }
#define CBAD(name, input, err) { name, input, MFA_HTTP_ERROR, NULL, MFA_HTTP_E_##err }

static const chunk_case_t chunk_cases[] = {
    CDONE("one chunk", "5\r\nhello\r\n0\r\n\r\n", 15, "hello"),
    CDONE("two chunks + next", "3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\nGET", 28, "abc0123456789"),
    CDONE("upper hex, leading zeros", "00B\r\nhello world\r\n000\r\n\r\n", 25, "hello world"),
    CDONE("extensions", "5;a;b=c ; d = \"e\\\"f\"\r\nhello\r\n0;z\r\n\r\n", 36, "hello"),
    CDONE("trailers", "1\r\nx\r\n0\r\nX-T: 1\r\nY:\r\n\r\n", 23, "x"),
    CDONE("empty", "0\r\n\r\n", 5, ""),
    CMORE("unfinished data", "5\r\nhel", "hel"),
    CMORE("unfinished trailers", "0\r\nX: 1\r\n", ""),
    CBAD("no size", "\r\n", CHUNK_SIZE),
    CBAD("negative", "-1\r\n", CHUNK_SIZE),
    CBAD("size overflow", "80000000000000000\r\n", CHUNK_SIZE),
    CBAD("bare LF after size", "5\nhello\r\n0\r\n\r\n", CHUNK_SIZE),
    CBAD("space then CR", "5 \r\nhello\r\n0\r\n\r\n", CHUNK_EXT),
    CBAD("ext without name", "5;\r\nhello\r\n", CHUNK_EXT),
    CBAD("ext bad value", "5;a=(\r\nhello\r\n", CHUNK_EXT),
    CBAD("ext ctl in quoted", "5;a=\"\x01\"\r\nhello\r\n", CHUNK_EXT),
    CBAD("CR without LF", "5\rhello\r\n", CR),
    CBAD("data too long", "5\r\nhello!\r\n", CHUNK_DATA),
    CBAD("bare LF after data", "5\r\nhello\n0\r\n\r\n", CHUNK_DATA),
    CBAD("trailer obs-fold", "0\r\nX: 1\r\n 2\r\n\r\n", OBS_FOLD),
    CBAD("trailer space before colon", "0\r\nX : 1\r\n\r\n", HEADER_SPACE),
    CBAD("trailer bare LF", "0\r\nX: 1\n\r\n", LF),
    CBAD("trailer bare LF end", "0\r\n\n", LF),
    CBAD("trailer NUL", "0\r\nX: \x01\r\n\r\n", TRAILER),
    CBAD("final CR without LF", "0\r\n\rx", CR),
};

static void run_chunk_case(const chunk_case_t *c, size_t step) {
    size_t n = strlen(c->input);
    char *in = guarded(c->input, n);
    char body[256];
    size_t bl = 0;
    mfa_chunked_t d;
    mfa_chunked_init(&d);
    ptrdiff_t r = MFA_HTTP_INCOMPLETE;
    size_t off = 0;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        size_t out;
        // In place: the decoder writes over its own input.
        r = mfa_chunked_decode(&d, in + off, k, in + off, &out);
        memcpy(body + bl, in + off, out);
        bl += out;
        if (r != MFA_HTTP_INCOMPLETE) {
            if (r >= 0) {
                r += (ptrdiff_t)off;
            }
            break;
        }
        off += k;
    }
    CHECK(r == c->expect, "%s (step %zu): returned %td, expected %td", c->name, step, r, c->expect);
    if (c->error != MFA_HTTP_E_OK) {
        CHECK(d.error == c->error, "%s: error %s", c->name, mfa_http_err_name((mfa_http_err_t)d.error));
        size_t out;
        CHECK(mfa_chunked_decode(&d, "0\r\n\r\n", 5, body, &out) == MFA_HTTP_ERROR, "%s: sticky", c->name);
    } else {
        CHECK(bl == strlen(c->body) && memcmp(body, c->body, bl) == 0, "%s (step %zu): body", c->name, step);
        CHECK(mfa_chunked_done(&d) == (r >= 0), "%s: done", c->name);
    }
}

static void test_chunked(void) {
    for (size_t i = 0; i < sizeof(chunk_cases) / sizeof(chunk_cases[0]); ++i) {
        run_chunk_case(&chunk_cases[i], 1 << 20);
        run_chunk_case(&chunk_cases[i], 1);
        run_chunk_case(&chunk_cases[i], 3);
    }
    // Size line limit.
    static char line[MFA_HTTP_MAX_CHUNK_LINE + 8];
    memset(line, 'a', sizeof(line));
    line[0] = '1';
    line[1] = ';';
    mfa_chunked_t d;
    mfa_chunked_init(&d);
    size_t out;
    char dst[sizeof(line)];
    ptrdiff_t r = mfa_chunked_decode(&d, line, MFA_HTTP_MAX_CHUNK_LINE, dst, &out);
    CHECK(r == MFA_HTTP_INCOMPLETE, "line at limit");
    r = mfa_chunked_decode(&d, "\r\nx\r\n", 5, dst, &out);
    CHECK(r == MFA_HTTP_INCOMPLETE && out == 1, "line at limit then CR");
    mfa_chunked_init(&d);
    r = mfa_chunked_decode(&d, line, MFA_HTTP_MAX_CHUNK_LINE + 1, dst, &out);
    CHECK(r == MFA_HTTP_ERROR && d.error == MFA_HTTP_E_CHUNK_LINE_TOO_LONG, "line too long");
    // Trailer section limit.
    mfa_chunked_init(&d);
    r = mfa_chunked_decode(&d, "0\r\n", 3, dst, &out);
    for (int i = 0; i < MFA_HTTP_MAX_HEAD / 8 && r == MFA_HTTP_INCOMPLETE; ++i) {
        r = mfa_chunked_decode(&d, "X: 1234\r\n", 9, dst, &out);
    }
    CHECK(r == MFA_HTTP_ERROR && d.error == MFA_HTTP_E_TRAILER_TOO_LARGE, "trailers too large");
    // Largest chunk size is accepted (and then waits for data).
    mfa_chunked_init(&d);
    r = mfa_chunked_decode(&d, "7fffffffffffffff\r\nab", 20, dst, &out);
    CHECK(r == MFA_HTTP_INCOMPLETE && out == 2 && d.size == 0x7fffffffffffffffULL - 2, "max size");
    // After the end, nothing more is consumed.
    mfa_chunked_init(&d);
    r = mfa_chunked_decode(&d, "0\r\n\r\n", 5, dst, &out);
    CHECK(r == 5, "done");
    r = mfa_chunked_decode(&d, "xyz", 3, dst, &out);
    CHECK(r == 0 && out == 0, "done stays done");
}

// Chunked framing beyond the data by more than MFA_HTTP_MAX_CHUNK_OVERHEAD: 413, early.
static void test_chunked_overhead(void) {
    static char buf[20000];
    mfa_chunked_t d;
    size_t out;
    // 1-byte chunks: 5 bytes of framing per data byte
    size_t n = 0;
    while (n + 6 < sizeof(buf)) {
        memcpy(buf + n, "1\r\nx\r\n", 6);
        n += 6;
    }
    mfa_chunked_init(&d);
    ptrdiff_t r = mfa_chunked_decode(&d, buf, n, buf, &out);
    CHECK(r == MFA_HTTP_ERROR && d.error == MFA_HTTP_E_CHUNK_OVERHEAD, "1-byte chunks: %d", (int)r);
    CHECK(out < 300 && mfa_http_err_status(MFA_HTTP_E_CHUNK_OVERHEAD) == 413, "stopped early: %zu", out);
    // 5-byte chunks (framing 5 per 5) never reach the limit
    n = 0;
    while (n + 10 + 5 < sizeof(buf)) {
        memcpy(buf + n, "5\r\nhello\r\n", 10);
        n += 10;
    }
    memcpy(buf + n, "0\r\n\r\n", 5);
    n += 5;
    mfa_chunked_init(&d);
    r = mfa_chunked_decode(&d, buf, n, buf, &out);
    CHECK(r == (ptrdiff_t)n && out == (n - 5) / 2, "5-byte chunks: %d", (int)r);
}

int main(void) {
    guard_init(3); // room for inputs up to two pages (MAX_HEAD + a bit)
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); ++i) {
        check_case(&parse_cases[i]);
    }
    test_nul_cases();
    test_fields();
    test_limits();
    test_errors_table();
    test_unquote();
    test_qs();
    test_chunked();
    test_chunked_overhead();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
