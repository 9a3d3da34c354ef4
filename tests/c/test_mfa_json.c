// Unit tests for mfa_json (checks on json.dumps output). Built with ASan + UBSan by the top-level
// CMakeLists.txt; run by ctest. Each input is placed at the end of a heap block of its exact
// size, so ASan catches a read past it.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_json.h"

static int failures = 0, checks = 0;

static void expect(const char *s, bool suspect) {
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    checks++;
    if (mfa_json_suspect(p, n) != suspect) {
        failures++;
        fprintf(stderr, "mfa_json_suspect(%s) != %s\n", s, suspect ? "true" : "false");
    }
    free(p);
}

int main(void) {
    // What json.dumps writes for values JSON has: never suspect.
    expect("", false);
    expect("{}", false);
    expect("{\"item_id\": 42, \"q\": \"hello\"}", false);
    expect("[true, false, null, -1.5, 1e+20, 2.5E-3, 0]", false);
    expect("{\"html\": \"<b>(x)</b>\", \"t\": [1, \"<\"]}", false);  // markup inside strings
    expect("\"inf nan Infinity\"", false);
    expect("\"a \\\" <quoted> (still) inside\"", false);
    expect("{\"k\\\\\": null}", false);  // an escaped backslash ends before the quote
    expect("1e999", false);  // (json.loads' job, not this: dumps never writes it)
    // What MicroPython's json.dumps writes for values JSON does not have.
    expect("inf", true);
    expect("-inf", true);
    expect("nan", true);
    expect("{\"a\": inf}", true);
    expect("[1.0, nan]", true);
    expect("{\"x\": <Opaque object at 7f00>}", true);
    expect("[bytearray(b'ab')]", true);
    expect("nulls", true);
    expect("truefalse", true);  // not a word JSON has
    expect("\"unterminated", false);
    expect("\"ends with a backslash\\", false);
    printf("mfa_json: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
