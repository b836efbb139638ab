#ifndef NATTEL_FASTPATH_H
#define NATTEL_FASTPATH_H

/*
 * The fast path: decodes an event or an envelope straight from the bytes,
 * as the registry's type description says, in one walk that validates as
 * it goes: no token array, no second pass, no allocation once its objects
 * are warm. It takes the documents that are valid and plainly written (no
 * escapes, keys known, values in range) and declines the rest, whole; the
 * reader (codec/nattel_reader.h) then hands those to the reporting path
 * (codec/nattel_decode.h), which finds every problem with its path. So it
 * only ever accepts what that path accepts, with the same decoded values
 * (tests/unit/test_reader.c and fuzz_reader check both).
 *
 * Inside it, an event of a type with a static plan (model/nattel_plan.h)
 * first goes the straight path: the compact canonical form every writer
 * writes, each field's ready key then its value, in wire order, with no
 * bookkeeping; at the first byte that is not that form it gives up and the
 * general loop starts the object over. One-shot decodes
 * (nattel_event_from_json, _into) try it with nothing set up at all
 * (nattel__fastpath_straight).
 */

#include "model/nattel_plan.h"
#include "nattel_limits.h"

#include <nattel/nattel.h>

#include <stddef.h>

/* What the fast path needs of an event type beyond its description: the
 * lengths of the wire names, so keys are matched as they stand. */
typedef struct nattel__plan {
    const nattel_event_type *type;
    const nattel__type_plan *tp; /* the type's static plan, or NULL */
    int plain;                 /* every wire name is a JSON string as written */
    int line_straight;         /* a line may take the straight path (tp set, and
                                * the first wire name is no envelope key) */
    const unsigned char *wlen; /* per field: strlen(wire_name); wlen_own,
                                * or the static plan's */
    unsigned char wlen_own[NATTEL__PLAN_FIELDS];
    unsigned char ehint[NATTEL__PLAN_FIELDS]; /* per enum field: the value
                                               * matched last */
} nattel__plan;

#define NATTEL__PLANS 4

/* The fast path's reusable state: the objects a decode fills, kept
 * between documents so that the steady state allocates nothing. */
typedef struct nattel__fastpath {
    const nattel_registry *reg;
    const nattel_event_type *guess; /* type of the last envelope item */
    nattel__plan plans[NATTEL__PLANS];
    unsigned next_plan;
    nattel_event **pool; /* events, reused by position */
    size_t pool_cap;
    nattel_event *pool_one[1];     /* the pool while it holds one event */
    char (*ts)[NATTEL_TS_LEN + 1]; /* each pooled event's timestamp */
    size_t ts_cap;
    nattel_envelope *env; /* reused; lent the pool's events */
    int one_shot;         /* set by the caller: one document, then released */
} nattel__fastpath;

void nattel__fastpath_init(nattel__fastpath *fp, const nattel_registry *reg);
void nattel__fastpath_release(nattel__fastpath *fp);

/* What a document is read as. */
typedef enum nattel__doc_as {
    NATTEL__AS_EVENT = 1,    /* a parameters object of a given type */
    NATTEL__AS_ENVELOPE = 2, /* an envelope */
    NATTEL__AS_LINE = 3      /* `nattel validate`'s line: an envelope when
                              * the root object has the key "events", else
                              * parameters of the given type */
} nattel__doc_as;

/* What the fast path found of a document it took. */
typedef struct nattel__fast_verdict {
    int is_env; /* an envelope (fp->env), else an event (fp->pool[0]) */
    int canon;  /* byte for byte its own canonical form */
    int tidy;   /* the same once nattel__fastpath_tidy drops whitespace */
} nattel__fast_verdict;

/* Decodes json[0..len) as `as` says; 1 with the result in fp (living
 * until the next try or release) and `v` filled, 0 when the document
 * must go to the reporting path instead. */
int nattel__fastpath_try(nattel__fastpath *fp, nattel__doc_as as,
                         const nattel_event_type *type, nattel_mode mode,
                         const char *json, size_t len, nattel__fast_verdict *v);

/* The usual one-shot document, with nothing set up for it: 1 when
 * json[0..len) is, byte for byte, the compact canonical parameters of
 * type t (a type with a static plan: every field in wire order, no
 * whitespace), decoded into ev (of type t, its arena emptied by the
 * caller; its strings go there); 0 otherwise, ev's values then
 * unspecified and its arena rewound, unless the attempt had to open a
 * new chunk of it (kept, unused, until the event is recycled or freed:
 * memory, never values). What it takes,
 * nattel__fastpath_try takes too, with the same values and a canonical
 * verdict, so a 0 only means "ask nattel__fastpath_try". Any thread. */
int nattel__fastpath_straight(const nattel_event_type *t, const char *json,
                              size_t len, nattel_event *ev);

/* The last result taken, handed to the caller (freed with
 * nattel_event_free / nattel_envelope_free); NULL when out of memory. */
nattel_event *nattel__fastpath_take_event(nattel__fastpath *fp);
nattel_envelope *nattel__fastpath_take_envelope(nattel__fastpath *fp);

/* s[0..n) without the whitespace between its tokens, into out (room for
 * n bytes); its length. Only for a document the fast path found `tidy`. */
size_t nattel__fastpath_tidy(const char *s, size_t n, char *out);

#endif
