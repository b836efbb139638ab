#include "natx/natx_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

nattel_code natx_grow(void *items_ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return NATTEL_OK;
    /* No object may be larger than PTRDIFF_MAX bytes; asking realloc for
     * more only fails later (or aborts under a sanitizer). */
    size_t limit = size ? (size_t)PTRDIFF_MAX / size : 0;
    if (need > limit)
        return NATTEL_ENOMEM;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n = n > limit / 2 ? limit : n * 2;
    if (n > limit)
        n = need;
    /* The array's pointer is read and written as bytes, so that any
     * object pointer type can be passed without breaking aliasing rules. */
    void *items;
    memcpy(&items, items_ptr, sizeof items);
    void *grown = realloc(items, n * size);
    if (!grown)
        return NATTEL_ENOMEM;
    memcpy(items_ptr, &grown, sizeof grown);
    *cap = n;
    return NATTEL_OK;
}
