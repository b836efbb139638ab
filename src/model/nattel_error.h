#ifndef NATTEL_ERROR_H
#define NATTEL_ERROR_H

#include <nattel/nattel.h>

#include "natx/natx_error.h"

/* Puts "PREFIX: " (formatted) before the message already in `err`, in
 * place and without overlapping copies; keeps err->code and returns it. */
nattel_code nattel__prefix(nattel_error *err, const char *fmt, ...)
    NATX_PRINTF(2, 3);

/* Records one problem (copying path and message); past the cap it only
 * counts. Returns NATTEL_ENOMEM when a copy fails, else NATTEL_OK. */
nattel_code nattel__problem(nattel_problems *p, const char *path,
                            const char *fmt, ...) NATX_PRINTF(3, 4);

#endif
