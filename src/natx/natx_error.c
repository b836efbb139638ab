#include "natx_error.h"

#include <stdio.h>

nattel_code natx_vfail(nattel_error *err, nattel_code code, const char *fmt,
                       va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

nattel_code natx_fail(nattel_error *err, nattel_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    natx_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}
