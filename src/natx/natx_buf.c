#include "natx_buf.h"

#include "natx_mem.h"

#include <stdlib.h>
#include <string.h>

void nattel_buf_init(nattel_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void nattel_buf_reset(nattel_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void nattel_buf_free(nattel_buf *b)
{
    if (!b)
        return;
    free(b->data);
    nattel_buf_init(b);
}

nattel_code natx_buf_reserve(nattel_buf *b, size_t n)
{
    /* +1 keeps room for the terminating NUL callers rely on. */
    if (n >= SIZE_MAX / 2 - b->len)
        return NATTEL_ENOMEM;
    /* A first allocation of 256 bytes: most documents fit without more. */
    size_t need = b->len + n + 1;
    return NATX_GROW(b->data, b->cap, b->cap || need > 256 ? need : 256);
}

nattel_code nattel_buf_append(nattel_buf *b, const void *p, size_t n)
{
    if (n >= b->cap - b->len && natx_buf_reserve(b, n))
        return NATTEL_ENOMEM;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return NATTEL_OK;
}
