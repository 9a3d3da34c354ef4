// libFuzzer target: mfa_http_parse_request and the helpers.
// Beyond "no crash, no sanitizer report" it checks the parser's own promises: spans lie inside
// the head, the head length is within the input and the limit, and resuming with last_len from
// any prefix that was incomplete gives the one-shot result.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_http.h"

#define ASSERT(c) do { if (!(c)) { abort(); } } while (0)

static void check_span(const char *buf, int head, const char *p, size_t n) {
    ASSERT(n == 0 || (p >= buf && p + n <= buf + head));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *buf = (const char *)data;
    mfa_http_request_t req, req2;
    mfa_http_header_t h[MFA_HTTP_MAX_HEADERS], h2[MFA_HTTP_MAX_HEADERS];
    size_t nh = MFA_HTTP_MAX_HEADERS;
    int r = mfa_http_parse_request(buf, size, 0, &req, h, &nh);
    ASSERT(r == MFA_HTTP_INCOMPLETE || r == MFA_HTTP_ERROR || (r > 0 && (size_t)r <= size
        && r <= MFA_HTTP_MAX_HEAD));
    if (r == MFA_HTTP_INCOMPLETE) {
        ASSERT(size < MFA_HTTP_MAX_HEAD);
    }
    if (r == MFA_HTTP_ERROR) {
        ASSERT(req.error > MFA_HTTP_E_OK && req.error < MFA_HTTP_E__COUNT);
        ASSERT(mfa_http_err_status(req.error) >= 400);
    }
    if (r > 0) {
        check_span(buf, r, req.method, req.method_len);
        check_span(buf, r, req.path, req.path_len);
        check_span(buf, r, req.query, req.query_len);
        ASSERT(req.minor_version == 0 || req.minor_version == 1);
        ASSERT(!((req.flags & MFA_HTTP_F_CHUNKED) && (req.flags & MFA_HTTP_F_CONTENT_LENGTH)));
        for (size_t i = 0; i < nh; ++i) {
            check_span(buf, r, h[i].name, h[i].name_len);
            check_span(buf, r, h[i].value, h[i].value_len);
            ASSERT(mfa_http_find_header(h, nh, h[i].name, h[i].name_len) <= &h[i]);
        }
    }
    // Resume: split at a point chosen by the input; if the prefix is incomplete, parsing the
    // whole input with last_len = split must give the same answer.
    if (size > 0) {
        size_t split = data[0] % (size + 1);
        size_t n1 = MFA_HTTP_MAX_HEADERS;
        if (mfa_http_parse_request(buf, split, 0, &req2, h2, &n1) == MFA_HTTP_INCOMPLETE) {
            size_t n2 = MFA_HTTP_MAX_HEADERS;
            int r2 = mfa_http_parse_request(buf, size, split, &req2, h2, &n2);
            ASSERT(r2 == r);
            if (r == MFA_HTTP_ERROR) {
                ASSERT(req2.error == req.error);
            }
            if (r > 0) {
                ASSERT(n2 == nh && req2.flags == req.flags && req2.path == req.path);
            }
        }
    }
    // Helpers on the raw input.
    if (size <= 4096) {
        static char out[3 * 4096];
        size_t m = mfa_http_unquote(buf, size, out, data[0] & 1);
        ASSERT(m <= size);
        size_t need = mfa_http_utf8_sanitize(out, m, NULL);
        ASSERT(need <= 3 * m);
        static char out2[3 * 4096];
        ASSERT(mfa_http_utf8_sanitize(out, m, out2) == need);
        // The sanitized output is valid UTF-8: sanitizing again changes nothing.
        ASSERT(mfa_http_utf8_sanitize(out2, need, NULL) == need);
        size_t pos = 0;
        const char *k, *v;
        size_t kl, vl;
        while (mfa_http_qs_next(buf, size, &pos, &k, &kl, &v, &vl)) {
            ASSERT(k >= buf && k + kl <= buf + size && v >= buf && v + vl <= buf + size);
        }
    }
    return 0;
}
