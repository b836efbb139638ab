#ifndef NATTEL_JSON_H
#define NATTEL_JSON_H

/*
 * The strict JSON reader's document tree.
 *
 * nattel__json_parse reads a document in one strict pass (RFC 8259:
 * literals, numbers, escapes, surrogate pairs, UTF-8, control characters,
 * trailing data, a depth limit) into a flat array of tokens: the tree the
 * schema loader, the pretty-printer and the slow reporting path of the
 * decoder walk. The fast path (codec/nattel_fastpath.h) decodes events
 * and envelopes without building it.
 */

#include <nattel/nattel.h>

#include "nattel_limits.h"

#include <stdint.h>

typedef enum nattel__jtype {
    NATTEL__JUNDEFINED = 0,
    NATTEL__JOBJECT = 1,
    NATTEL__JARRAY = 2,
    NATTEL__JSTRING = 4,
    NATTEL__JPRIMITIVE = 8
} nattel__jtype;

/* One value (or key) of the document. Strings span their content, without
 * the quotes; containers span their brackets. */
typedef struct nattel__jtok {
    nattel__jtype type;
    int start;
    int end; /* the byte just past the span */
    union {
        int members; /* containers: members (an object's pairs) */
        int escaped; /* strings: whether escapes occur, so that readers
                      * compare and copy the others as they stand */
    };
    int next; /* the index just past this token's subtree */
} nattel__jtok;

/* The token after t's subtree: t's next sibling, or its parent's end. */
#define NATTEL__JNEXT(t) ((t)->next)

/* NATTEL__JSON_SMALL, NATTEL__JSON_MAX_TOKENS: model/nattel_limits.h */

typedef struct nattel__jdoc {
    const char *src;
    size_t len;
    nattel__jtok *toks;
    unsigned count;
    unsigned depth_limit; /* NATTEL_JSON_MAX_DEPTH, set by the parse */
    nattel__jtok small[NATTEL__JSON_SMALL];
} nattel__jdoc;

/* Parses and verifies src[0..len). On failure `err` says what and at which
 * byte (NATTEL_EPARSE) or which limit (NATTEL_ELIMIT). The document
 * borrows `src`. Always pair with nattel__json_release(). */
nattel_code nattel__json_parse(nattel__jdoc *doc, const char *src, size_t len,
                               nattel_error *err);
void nattel__json_release(nattel__jdoc *doc);

static inline int nattel__json_is_string(const nattel__jdoc *d, unsigned t)
{
    return d->toks[t].type == NATTEL__JSTRING;
}

/* Raw string content (between the quotes, escapes not decoded). */
static inline nattel_str nattel__json_raw(const nattel__jdoc *d, unsigned t)
{
    nattel_str s = {d->src + d->toks[t].start,
                    (size_t)(d->toks[t].end - d->toks[t].start)};
    return s;
}

/* Decodes a string token into out (room for raw length + 1 bytes); returns
 * the decoded length. The token was verified, so this cannot fail. */
size_t nattel__json_decode_string(const nattel__jdoc *d, unsigned t, char *out);

/* True when string token t decodes to exactly s[0..n). */
int nattel__json_string_eq(const nattel__jdoc *d, unsigned t, const char *s,
                           size_t n);

/* Short description of a token's JSON type: "string", "object", ... */
const char *nattel__json_type_name(const nattel__jdoc *d, unsigned t);

/* Whether the document's root is an object with key `key`. */
int nattel__json_root_has(const nattel__jdoc *d, const char *key);

typedef enum nattel__jnum_class {
    NATTEL__JNUM_INT = 0,     /* exact integer within int64: `i` */
    NATTEL__JNUM_FRACTION,    /* not an integer (12.5) */
    NATTEL__JNUM_OUT_OF_RANGE /* an integer outside int64 */
} nattel__jnum_class;

/* Classifies a number token by its exact decimal value (12, 12.0 and
 * 1.2e1 are all the integer 12). */
nattel__jnum_class nattel__json_int(const nattel__jdoc *d, unsigned t,
                                    int64_t *i);
/* The number as a double; NATTEL_ELIMIT when it overflows to infinity. */
nattel_code nattel__json_double(const nattel__jdoc *d, unsigned t, double *out);

/* Primitive literal of a token: 't', 'f', 'n', or '-'/digit for numbers. */
static inline char nattel__json_lead(const nattel__jdoc *d, unsigned t)
{
    return d->src[d->toks[t].start];
}
static inline int nattel__json_is_number(const nattel__jdoc *d, unsigned t)
{
    char c = nattel__json_lead(d, t);
    return d->toks[t].type == NATTEL__JPRIMITIVE &&
           (c == '-' || (c >= '0' && c <= '9'));
}

/* The writer's primitives (strings, numbers) are the floor's:
 * natx/natx_json_put.h. */
/* A JSON fragment of a token, re-encoded compactly (whitespace dropped). */
nattel_code nattel__json_put_token(nattel_buf *b, const nattel__jdoc *d,
                                   unsigned t);

/* Appends src[0..len), one or more verified JSON values or members (a
 * document nattel__json_parse accepted, or a span of one), with the
 * whitespace outside strings dropped: the bytes nattel__json_put_token
 * writes for the same values, in one pass without a token tree. When
 * `commas` is not NULL it receives the number of commas outside strings
 * and outside nested containers (an array's content: elements - 1).
 * NATTEL_ENOMEM only, and then `b` is as it was. */
nattel_code nattel__json_compact(nattel_buf *b, const char *src, size_t len,
                                 size_t *commas);

/* One member of a skimmed object: its key's raw content (between the
 * quotes, escapes as written) and its value's span. */
typedef struct nattel__jmember {
    size_t key, key_len;
    size_t val, val_len;
} nattel__jmember;

/* A structural skim of an object document, without verifying it: the
 * top-level members' spans in order, strings and nesting followed but
 * literals, numbers, escapes and UTF-8 not checked. For documents already
 * verified once (by nattel__json_parse); the result is meaningless, but
 * always within src[0..len), for others. Returns the member count, or -1
 * when src is not an object as far as the skim sees, or has more than
 * `max` members. */
long nattel__json_skim_object(const char *src, size_t len, nattel__jmember *m,
                              size_t max);

#endif
