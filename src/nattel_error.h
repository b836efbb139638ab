#ifndef NATTEL_ERROR_H
#define NATTEL_ERROR_H

#include <nattel/nattel.h>

#include "natx/natx_error.h"

#define NATTEL__PRINTF(a, b) NATX_PRINTF(a, b)

/* Fills `err` (may be NULL) and returns `code`: natx_fail, under the
 * library's prefix, so that both share one implementation. */
#define nattel__fail natx_fail

/* Puts "PREFIX: " (formatted) before the message already in `err`, in
 * place and without overlapping copies; keeps err->code and returns it. */
nattel_code nattel__prefix(nattel_error *err, const char *fmt, ...)
    NATTEL__PRINTF(2, 3);

/* Records one problem (copying path and message); past the cap it only
 * counts. Returns NATTEL_ENOMEM when a copy fails, else NATTEL_OK. */
nattel_code nattel__problem(nattel_problems *p, const char *path,
                            const char *fmt, ...) NATTEL__PRINTF(3, 4);

#endif
