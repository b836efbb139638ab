#ifndef NATX_BUF_H
#define NATX_BUF_H

/* Internals of nattel_buf for writers that reserve room once and then
 * write directly (the JSON writer, the event encoder). */

#include <nattel/nattel.h>

/* Makes room for n more bytes (and a NUL) in b. */
nattel_code natx_buf_reserve(nattel_buf *b, size_t n);

/* natx_buf_reserve, only when the room is not already there. */
static inline nattel_code natx_buf_ensure(nattel_buf *b, size_t n)
{
    return n < b->cap - b->len ? NATTEL_OK : natx_buf_reserve(b, n);
}

#endif
