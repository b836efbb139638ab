#ifndef NATTEL_PLAN_H
#define NATTEL_PLAN_H

#include <nattel/nattel.h>

/*
 * A type's constant wire text, ready: what writers and readers would
 * otherwise measure and check again on every event. Static data for the
 * built-in type (model/nattel_types.c), so it is shared read-only between
 * threads with nothing to build or lock; other types have none and take
 * the general path, which writes the same bytes.
 */
typedef struct nattel__type_plan {
    const nattel_event_type *type;
    const nattel_str *keys;             /* per field: `,"wireName":` */
    const unsigned char *wlen;          /* per field: strlen(wire_name) */
    const nattel_str *const *enum_json; /* per enum field: each value as a
                                         * JSON string; NULL otherwise */
} nattel__type_plan;

/* The plan of t, or NULL when it has none. Any thread. */
const nattel__type_plan *nattel__type_plan_of(const nattel_event_type *t);

#endif
