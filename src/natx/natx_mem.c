#include "natx/natx_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

nattel_code natx_grow(void *items_ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return NATTEL_OK;
    if (!size || need > SIZE_MAX / size)
        return NATTEL_ENOMEM;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    if (n > SIZE_MAX / size)
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
