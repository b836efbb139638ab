#ifndef NATTEL_ERROR_H
#define NATTEL_ERROR_H

#include <nattel/nattel.h>

#if defined(__GNUC__)
#define NATTEL__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NATTEL__PRINTF(a, b)
#endif

/* Fills `err` (may be NULL) and returns `code`, so callers can write
 * `return nattel__fail(err, NATTEL_EINVAL, "...", ...);`. */
nattel_code nattel__fail(nattel_error *err, nattel_code code, const char *fmt,
                         ...) NATTEL__PRINTF(3, 4);

/* Puts "PREFIX: " (formatted) before the message already in `err`, in
 * place and without overlapping copies; keeps err->code and returns it. */
nattel_code nattel__prefix(nattel_error *err, const char *fmt, ...)
    NATTEL__PRINTF(2, 3);

/* Records one problem (copying path and message); past the cap it only
 * counts. Returns NATTEL_ENOMEM when a copy fails, else NATTEL_OK. */
nattel_code nattel__problem(nattel_problems *p, const char *path,
                            const char *fmt, ...) NATTEL__PRINTF(3, 4);

#endif
