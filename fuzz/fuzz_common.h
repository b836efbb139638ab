/*
 * Shared by the libFuzzer targets (not itself a target: only fuzz_*.c are).
 *
 * A target defines LLVMFuzzerTestOneInput and checks properties with
 * FUZZ_CHECK, which prints what broke and aborts, so libFuzzer records the
 * input as a crash. Sanitizer reports (ASan, UBSan, leaks) abort the same way.
 */
#ifndef NATTEL_FUZZ_COMMON_H
#define NATTEL_FUZZ_COMMON_H

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__,          \
                    __LINE__, #cond);                                          \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* A failing decode must say why: at least one problem. */
static inline void fuzz_check_problems(nattel_code rc, const nattel_problems *p)
{
    if (rc == NATTEL_OK || rc == NATTEL_ENOMEM)
        return;
    FUZZ_CHECK(p->count + p->dropped > 0,
               "decode failed with %s but reported no problem",
               nattel_code_name(rc));
    FUZZ_CHECK(p->count <= NATTEL_PROBLEMS_MAX, "%zu problems kept", p->count);
    for (size_t i = 0; i < p->count; i++)
        FUZZ_CHECK(p->items[i].path && p->items[i].message &&
                       p->items[i].message[0],
                   "problem %zu without a path or a message", i);
}

/* A heap copy of the input, so ASan sees a read one byte past its end. */
static inline char *fuzz_copy(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    if (p && size)
        memcpy(p, data, size);
    return p;
}

#endif
