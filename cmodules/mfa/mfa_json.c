// See mfa_json.h.
#include <string.h>

#include "mfa_json.h"

static bool is_letter(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The literal words JSON has, at s[i]: its length, or 0.
static size_t json_word(const char *s, size_t n, size_t i) {
    static const char *const words[] = { "true", "false", "null" };
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
        size_t len = strlen(words[k]);
        if (n - i >= len && memcmp(s + i, words[k], len) == 0
            && (n - i == len || !is_letter((unsigned char)s[i + len]))) {
            return len;
        }
    }
    return 0;
}

bool mfa_json_suspect(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"') {
            // A string literal: skip to its closing quote (a backslash escapes one character).
            for (i++; i < n && s[i] != '"'; i++) {
                if (s[i] == '\\') {
                    i++;
                }
            }
            i++;
        } else if (c == '<' || c == '(') {
            return true;
        } else if (is_letter(c)) {
            // An exponent's e/E follows a digit or '.'; any other letter starts a word.
            if ((c == 'e' || c == 'E') && i > 0
                && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.')) {
                i++;
                continue;
            }
            size_t len = json_word(s, n, i);
            if (len == 0) {
                return true;
            }
            i += len;
        } else {
            i++;
        }
    }
    return false;
}
