#include "natx/natx_utf8.h"

#include "nattel_utf8.h"

/* One validator: the library's (src/nattel_utf8.c), which the reader and
 * the JSON escaper use too. */

size_t natx_utf8_seq(const unsigned char *s, size_t avail)
{
    return nattel__utf8_seq(s, avail);
}

size_t natx_utf8_valid_prefix(const char *s, size_t n)
{
    return nattel__utf8_valid_prefix(s, n);
}
