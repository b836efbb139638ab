#ifndef NATX_ERROR_H
#define NATX_ERROR_H

/* Filling a nattel_error, for the library, the tool and the endpoint. */

#include <nattel/nattel.h>

#include <stdarg.h>

#if defined(__GNUC__)
#define NATX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NATX_PRINTF(a, b)
#endif

/* Fills `err` (may be NULL) and returns `code`, so callers can write
 * `return natx_fail(err, NATTEL_EINVAL, "...", ...);`. */
nattel_code natx_fail(nattel_error *err, nattel_code code, const char *fmt, ...)
    NATX_PRINTF(3, 4);
nattel_code natx_vfail(nattel_error *err, nattel_code code, const char *fmt,
                       va_list ap) NATX_PRINTF(3, 0);

#endif
