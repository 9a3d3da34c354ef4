// Unit tests for mfa_json_pull (the JSON tokenizer under _mfa.json_loads). Built with ASan +
// UBSan by the top-level CMakeLists.txt; run by ctest. Each input ends at a guard page, so a
// read one byte past it crashes.
#include "check.h"

#include "mfa_json_pull.h"

// The tokens of s as one letter each ({ } [ ] k s i f t F n N I J, E for an error, . for done),
// stopping at the first error or done; *err_pos gets the error position.
static const char *tokens(const char *s, size_t *err_pos, const char **why) {
    static char out[512];
    static const char letters[] = "E.{}[]ksifFtnNIJ";
    size_t n = strlen(s), k = 0;
    mfa_json_pull_t p;
    mfa_json_pull_init(&p, guarded(s, n), n);
    for (;;) {
        mfa_json_token_t t = mfa_json_next(&p);
        // letters[] is in enum order except true/false, which are swapped here
        char c = t == MFA_JSON_TRUE ? 't' : t == MFA_JSON_FALSE ? 'F' : letters[t];
        out[k++] = c;
        if (t == MFA_JSON_ERROR || t == MFA_JSON_DONE || k == sizeof(out) - 1) {
            if (err_pos) {
                *err_pos = p.pos;
            }
            if (why) {
                *why = p.error;
            }
            break;
        }
    }
    out[k] = 0;
    return out;
}

static void accept(const char *s, const char *want) {
    const char *got = tokens(s, NULL, NULL);
    CHECK(strcmp(got, want) == 0, "%s: tokens %s, want %s", s, got, want);
}

static void reject(const char *s, size_t pos, const char *why) {
    size_t at = 0;
    const char *w = NULL;
    const char *got = tokens(s, &at, &w);
    size_t k = strlen(got);
    CHECK(k > 0 && got[k - 1] == 'E', "%s: accepted (%s)", s, got);
    CHECK(at == pos, "%s: error at %zu, want %zu", s, at, pos);
    CHECK(w != NULL && strcmp(w, why) == 0, "%s: error '%s', want '%s'", s, w ? w : "", why);
}

static void unescape(const char *s, const char *want, size_t want_len) {
    char quoted[128], out[128];
    snprintf(quoted, sizeof(quoted), "\"%s\"", s);
    size_t n = strlen(quoted);
    mfa_json_pull_t p;
    mfa_json_pull_init(&p, guarded(quoted, n), n);
    mfa_json_token_t t = mfa_json_next(&p);
    CHECK(t == MFA_JSON_STRING, "%s: token %d", s, t);
    if (t != MFA_JSON_STRING) {
        return;
    }
    size_t len = mfa_json_unescape((const char *)p.s + p.start, p.len, out);
    CHECK(len <= p.len, "%s: decoded longer than escaped", s);
    CHECK(len == want_len && memcmp(out, want, len) == 0, "%s: decoded wrong (%zu bytes)", s, len);
}

int main(void) {
    guard_init(4);

    // values and structure
    accept("0", "i.");
    accept(" -12 ", "i.");
    accept("1.5e-3", "f.");
    accept("1E400", "f.");
    accept("-0.0", "f.");
    accept("\"a\"", "s.");
    accept("true", "t.");
    accept("false", "F.");
    accept("null", "n.");
    accept("NaN", "N.");
    accept("Infinity", "I.");
    accept("-Infinity", "J.");
    accept("[]", "[].");
    accept("{}", "{}.");
    accept(" [ 1 , [ ] , { } ] ", "[i[]{}].");
    accept("{\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"e\"}}", "{kik[tn]k{ks}}.");
    accept("\xef\xbb\xbf[1]", "[i].");  // a UTF-8 byte order mark, as CPython takes it in bytes
    accept("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "s.");
    accept("\"\\ud800\"", "s.");         // a lone surrogate escape is valid JSON text

    // what CPython's json.loads rejects, with its messages and positions
    reject("", 0, "Expecting value");
    reject("   ", 3, "Expecting value");
    reject("01", 1, "Extra data");
    reject("[01]", 2, "Expecting ',' delimiter");
    reject("1.", 1, "Extra data");
    reject(".5", 0, "Expecting value");
    reject("1e", 1, "Extra data");
    reject("-", 0, "Expecting value");
    reject("+1", 0, "Expecting value");
    reject("[1,]", 3, "Expecting value");
    reject("{\"a\":1,}", 7, "Expecting property name enclosed in double quotes");
    reject("{\"a\" 1}", 5, "Expecting ':' delimiter");
    reject("{1: 2}", 1, "Expecting property name enclosed in double quotes");
    reject("{'a': 2}", 1, "Expecting property name enclosed in double quotes");
    reject("[1 2]", 3, "Expecting ',' delimiter");
    reject("[1", 2, "Expecting ',' delimiter");
    reject("{", 1, "Expecting property name enclosed in double quotes");
    reject("[", 1, "Expecting value");
    reject("]", 0, "Expecting value");
    reject("tru", 0, "Expecting value");
    reject("truex", 4, "Extra data");
    reject("nan", 0, "Expecting value");
    reject("-inf", 0, "Expecting value");
    reject("[1] [2]", 4, "Extra data");
    reject("\"abc", 0, "Unterminated string starting at");
    reject("\"a\\", 0, "Unterminated string starting at");
    reject("\"a\tb\"", 2, "Invalid control character at");
    reject("\"\\x\"", 1, "Invalid \\escape");
    reject("\"\\u12g4\"", 2, "Invalid \\uXXXX escape");
    reject("\"\\u12\"", 2, "Invalid \\uXXXX escape");
    reject("\"\xff\"", 1, "Invalid UTF-8 at");
    reject("\"\xc0\x80\"", 1, "Invalid UTF-8 at");            // overlong NUL
    reject("\"\xed\xa0\x80\"", 1, "Invalid UTF-8 at");        // an encoded surrogate
    reject("\"\xf4\x90\x80\x80\"", 1, "Invalid UTF-8 at");    // past U+10FFFF
    reject("\"\xe2\x82\"", 1, "Invalid UTF-8 at");            // cut short
    reject("\x01", 0, "Expecting value");
    reject("[1]x", 3, "Extra data");

    // the depth limit: MFA_JSON_MAX_DEPTH containers open at once, not one more
    char deep[2 * MFA_JSON_MAX_DEPTH + 3];
    memset(deep, '[', MFA_JSON_MAX_DEPTH);
    memset(deep + MFA_JSON_MAX_DEPTH, ']', MFA_JSON_MAX_DEPTH);
    deep[2 * MFA_JSON_MAX_DEPTH] = 0;
    const char *t = tokens(deep, NULL, NULL);
    CHECK(t[strlen(t) - 1] == '.', "depth %d rejected", MFA_JSON_MAX_DEPTH);
    memset(deep, '[', MFA_JSON_MAX_DEPTH + 1);
    deep[MFA_JSON_MAX_DEPTH + 1] = 0;
    reject(deep, MFA_JSON_MAX_DEPTH, "Nesting too deep at");
    // after an error, the error stays
    mfa_json_pull_t p;
    mfa_json_pull_init(&p, guarded("]", 1), 1);
    CHECK(mfa_json_next(&p) == MFA_JSON_ERROR && mfa_json_next(&p) == MFA_JSON_ERROR, "sticky");

    // escapes
    unescape("plain", "plain", 5);
    unescape("\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t", 8);
    unescape("\\u0041\\u00e9\\u20AC", "A\xc3\xa9\xe2\x82\xac", 6);
    unescape("\\u0000", "\0", 1);
    unescape("\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4);       // a surrogate pair
    unescape("\\ud83d", "\xef\xbf\xbd", 3);                  // lone high -> U+FFFD
    unescape("\\ude00x", "\xef\xbf\xbdx", 4);                // lone low -> U+FFFD
    unescape("\\ud83d\\u0041", "\xef\xbf\xbd" "A", 4);       // high, then not a low one
    unescape("\\ud83d\\\\ude00", "\xef\xbf\xbd\\ude00", 9);  // the backslash is escaped

    printf("%d checks, %d failures\n", checks, failures);
    return failures != 0;
}
