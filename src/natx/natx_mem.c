#include "natx_mem.h"

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

void natx_arena_init(natx_arena *a, natx_chunk *keep, size_t min_chunk,
                     size_t max_total)
{
    a->head = a->keep = keep;
    if (keep) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->min_chunk = min_chunk;
    a->total = 0;
    a->max_total = max_total;
}

void *natx_arena_alloc(natx_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + align - 1) / align * align;
    natx_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > a->min_chunk ? n : a->min_chunk;
        if (a->max_total && cap > a->max_total - a->total)
            return NULL;
        c = malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        a->total += cap;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

void natx_arena_recycle(natx_arena *a)
{
    size_t room = 0, chunks = 0;
    for (natx_chunk *c = a->head; c && c != a->keep; c = c->next) {
        room += c->cap;
        chunks++;
    }
    if (a->keep)
        a->keep->used = 0;
    if (chunks <= 1) {
        if (a->head)
            a->head->used = 0; /* the one chunk of its own, or keep */
        return;
    }
    natx_arena_free(a);
    natx_chunk *one = malloc(sizeof *one + room);
    if (one) {
        one->cap = room;
        one->used = 0;
        one->next = a->keep;
        a->head = one;
        a->total = room;
    }
}

void natx_arena_free(natx_arena *a)
{
    natx_chunk *c = a->head;
    while (c && c != a->keep) {
        natx_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = a->keep;
    a->total = 0;
}
