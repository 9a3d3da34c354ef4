// libFuzzer target: mfa_chunked_decode. Decoding the input in one call, in place, and in pieces
// whose sizes come from the input must agree on payload, consumed bytes and error.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_http.h"

#define ASSERT(c) do { if (!(c)) { abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) {
        return 0;
    }
    size_t step = (size_t)data[0] % 17 + 1;
    const char *src = (const char *)data + 1;
    size_t n = size - 1;
    char *out1 = malloc(n + 1);
    char *out2 = malloc(n + 1);
    char *copy = malloc(n + 1);
    memcpy(copy, src, n);

    mfa_chunked_t d1;
    mfa_chunked_init(&d1);
    size_t o1;
    ptrdiff_t r1 = mfa_chunked_decode(&d1, src, n, out1, &o1);
    ASSERT(o1 <= n);
    ASSERT(r1 == MFA_HTTP_INCOMPLETE || r1 == MFA_HTTP_ERROR || (r1 >= 0 && (size_t)r1 <= n));
    ASSERT((r1 >= 0) == mfa_chunked_done(&d1));

    // In place gives the same bytes.
    mfa_chunked_t d3;
    mfa_chunked_init(&d3);
    size_t o3;
    ptrdiff_t r3 = mfa_chunked_decode(&d3, copy, n, copy, &o3);
    ASSERT(r3 == r1 && d3.error == d1.error);
    ASSERT(o3 == o1 && memcmp(copy, out1, o1) == 0);

    // In pieces.
    mfa_chunked_t d2;
    mfa_chunked_init(&d2);
    size_t total = 0;
    size_t off = 0;
    ptrdiff_t r2 = MFA_HTTP_INCOMPLETE;
    while (off < n) {
        size_t k = n - off < step ? n - off : step;
        size_t o;
        r2 = mfa_chunked_decode(&d2, src + off, k, out2 + total, &o);
        total += o;
        if (r2 != MFA_HTTP_INCOMPLETE) {
            if (r2 >= 0) {
                r2 += (ptrdiff_t)off;
            }
            break;
        }
        off += k;
    }
    ASSERT(r2 == r1);
    ASSERT(d2.error == d1.error);
    if (r1 != MFA_HTTP_ERROR) {
        ASSERT(total == o1 && memcmp(out1, out2, o1) == 0);
    }
    free(out1);
    free(out2);
    free(copy);
    return 0;
}
