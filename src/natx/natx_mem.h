#ifndef NATX_MEM_H
#define NATX_MEM_H

/* Growable arrays and buffer shorthands, for the library, the tool and the
 * endpoint. */

#include <nattel/nattel.h>

#include <stddef.h>

/* Makes room for `need` items of `size` bytes in the array `*items_ptr`
 * (a pointer to the array's pointer, of any object type) whose capacity
 * *cap counts items: doubles the capacity (at least 8) until it holds
 * `need`. NATTEL_ENOMEM when the size would pass PTRDIFF_MAX bytes (or
 * overflow) or realloc fails; then the array and *cap are as they were. */
nattel_code natx_grow(void *items_ptr, size_t *cap, size_t need, size_t size);

/* natx_grow for an array `a` of capacity `cap`. */
#define NATX_GROW(a, cap, need) natx_grow(&(a), &(cap), (need), sizeof *(a))

/* Appends a string literal to a nattel_buf. */
#define NATX_PUT_LIT(b, lit) nattel_buf_append((b), (lit), sizeof(lit) - 1)

#endif
