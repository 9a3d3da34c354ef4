// Checks on JSON text that MicroPython's json.dumps wrote: pure C99, no MicroPython headers,
// no allocation (unit-tested, sanitized and fuzzed on the host like mfa_http).
#ifndef MFA_JSON_H
#define MFA_JSON_H

#include <stdbool.h>
#include <stddef.h>

// True when `s` (n bytes, as json.dumps wrote it) holds, outside its string literals, something
// that is not JSON: a word other than true, false and null (MicroPython writes inf, -inf and nan
// for non-finite floats), or '<' or '(' (the repr of an object json.dumps does not know). Valid
// JSON from dict/list/str/number/bool/None is never suspect; a suspect text needs a closer look
// at the values (microfastapi.response.check_json) to say what is wrong.
bool mfa_json_suspect(const char *s, size_t n);

#endif // MFA_JSON_H
