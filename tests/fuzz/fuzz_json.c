// libFuzzer target for mfa_json_suspect: any bytes, no crash, no read past the input; and text
// that only holds quoted strings, digits and punctuation is never suspect.
#include <stdint.h>
#include <string.h>

#include "mfa_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    bool s = mfa_json_suspect((const char *)data, size);
    bool letters = false;
    for (size_t i = 0; i < size; i++) {
        uint8_t c = data[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '<' || c == '(' || c == '"') {
            letters = true;
        }
    }
    if (!letters && s) {
        __builtin_trap();  // suspect without any letter, quote, '<' or '('
    }
    return 0;
}
