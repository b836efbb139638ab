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

/*
 * One arena allocator: memory handed out in small pieces and freed all at
 * once. Chunks of at least `min_chunk` bytes are chained; `keep` (may be
 * NULL) is a chunk the owner allocated with something else (an event's
 * first chunk lives in the event's own allocation) and is never freed.
 * Pieces are aligned to max_align_t; `total` counts the chunks' bytes and
 * an allocation past `max_total` (0: no limit) fails.
 */
typedef struct natx_chunk {
    struct natx_chunk *next;
    size_t cap;
    size_t used;
    max_align_t data[];
} natx_chunk;

typedef struct natx_arena {
    natx_chunk *head; /* the chunk allocations come from */
    natx_chunk *keep; /* the owner's chunk, at the chain's end */
    size_t min_chunk;
    size_t total;
    size_t max_total;
} natx_arena;

/* An arena over `keep` (may be NULL; else its cap set and used 0). */
void natx_arena_init(natx_arena *a, natx_chunk *keep, size_t min_chunk,
                     size_t max_total);
/* n bytes (not zeroed); NULL when out of memory or past max_total. */
void *natx_arena_alloc(natx_arena *a, size_t n);
/* natx_arena_alloc with its usual case (room in the head chunk) inline,
 * for callers that take many small pieces per document. */
static inline void *natx_arena_take(natx_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    natx_chunk *c = a->head;
    if (c && n <= c->cap &&
        (n + align - 1) / align * align <= c->cap - c->used) {
        void *p = (char *)c->data + c->used;
        c->used += (n + align - 1) / align * align;
        return p;
    }
    return natx_arena_alloc(a, n);
}
/* Empties the arena for reuse. Its own chunks stay, as one emptied chunk
 * of their total size, so that a reused arena stops allocating once it
 * has grown to what its documents need. */
void natx_arena_recycle(natx_arena *a);
/* Frees every chunk but `keep`. */
void natx_arena_free(natx_arena *a);

/* Appends a string literal to a nattel_buf. */
#define NATX_PUT_LIT(b, lit) nattel_buf_append((b), (lit), sizeof(lit) - 1)

#endif
