#ifndef NATTEL_EVENT_H
#define NATTEL_EVENT_H

/* The event instance: a type, one value slot per field, and an arena that
 * owns the strings, all in one allocation for the common small case. */

#include <nattel/nattel.h>

#include "model/nattel_plan.h"
#include "natx/natx_mem.h"

struct nattel_event {
    const nattel_event_type *type;
    nattel_value *values;
    unsigned char *is_set;
    natx_arena arena; /* its first chunk lives in the event's allocation */
};

/* nattel_event_write_json without the type's plan: the reference the
 * planned writer must equal byte for byte (tests/unit/test_event.c). */
nattel_code nattel__event_write_json_general(const nattel_event *ev,
                                             nattel_buf *out,
                                             nattel_error *err);

/* dst (of src's type) made a copy of src, strings into dst's arena;
 * NATTEL_ENOMEM. */
nattel_code nattel__event_copy(nattel_event *dst, const nattel_event *src);
/* ev as nattel_event_new made it: defaults set, the rest unset. */
void nattel__event_reset(nattel_event *ev);

/* nattel_event_new without the defaults: values and is_set hold garbage
 * until a reader fills every field (the fast path does, and hands out
 * the event only then). NULL when out of memory. */
nattel_event *nattel__event_new_bare(const nattel_event_type *type);

/* Empties the event's arena for reuse, values and type untouched (a
 * reader refills them). Overflow chunks are kept, as one (emptied) chunk
 * at the arena's head, so that documents with long strings stop
 * allocating once the arena has grown to them. */
void nattel__event_recycle(nattel_event *ev);

/* n bytes from the event's arena; NULL when out of memory. */
void *nattel__event_alloc(nattel_event *ev, size_t n);

/* Copies s[0..n) (NUL-terminated) into field i; no checks. */
nattel_code nattel__event_put_string(nattel_event *ev, size_t i, const char *s,
                                     size_t n);

/* Why value v breaks field f's constraints, into msg; 0 when it does not. */
int nattel__field_int_violation(const nattel_field *f, int64_t v, char *msg,
                                size_t size);
int nattel__field_number_violation(const nattel_field *f, double v, char *msg,
                                   size_t size);

/* Index of `s` among the enum's values; -1 when none. */
int nattel__enum_index(const nattel_enum_type *e, const char *s, size_t n);

/* "'a', 'b' or 'c'" for messages, truncated to size. */
void nattel__enum_list(const nattel_enum_type *e, char *out, size_t size);

#endif
