// What the C unit tests in tests/c share: the CHECK macro with its counters, and the guard page.
// Include it first (before any system header: it asks for _DEFAULT_SOURCE, for mmap's
// MAP_ANONYMOUS). Each test is one translation unit, so the static counters are its own.
//
// CHECK(cond, fmt, ...) counts a check; when cond is false it counts a failure and prints
// "FAIL file:line: " and the printf-style message. main() ends by printing the two counters and
// returning 1 when any check failed.
//
// The guard page: an input is copied to the very end of a read-write area that is followed by a
// PROT_NONE page, so a read (or write) even one byte past the input's end crashes at once instead
// of passing by luck on whatever lies after it in memory (picohttpparser's trick).

#ifndef MFA_TEST_CHECK_H
#define MFA_TEST_CHECK_H

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;
static int checks;

#define CHECK(cond, ...) do { \
        ++checks; \
        if (!(cond)) { \
            ++failures; \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__); \
            printf("\n"); \
        } \
} while (0)

// ---- guard page --------------------------------------------------------------------------------

static char *guard_base;
static size_t guard_size;   // bytes of the read-write area: the longest input guarded() takes

// Map `pages` read-write pages and a PROT_NONE page after them; exits (2) when that fails.
static inline void guard_init(size_t pages) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    guard_size = page * pages;
    guard_base = mmap(NULL, guard_size + page, PROT_READ | PROT_WRITE,
        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(guard_base + guard_size, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
}

// Copy s[0..n) so that it ends right before the PROT_NONE page; the copy is writable (for the
// in-place functions) and stays valid until the next guarded(). Exits (2) when n is too long.
static inline void *guarded(const void *s, size_t n) {
    if (n > guard_size) {
        printf("input too long for the guard area\n");
        exit(2);
    }
    char *p = guard_base + guard_size - n;
    memcpy(p, s, n);
    return p;
}

#endif
