#ifndef NATTEL_JSON_H
#define NATTEL_JSON_H

/*
 * The strict JSON reader's document tree and the writer's primitives.
 *
 * nattel__json_parse reads a document in one strict pass (RFC 8259:
 * literals, numbers, escapes, surrogate pairs, UTF-8, control characters,
 * trailing data, a depth limit) into a flat array of tokens: the tree the
 * schema loader, the pretty-printer and the slow reporting path of the
 * decoder walk. The hot path (src/nattel_reader.c) decodes events and
 * envelopes without building it.
 */

#include <nattel/nattel.h>

#include "model/nattel_limits.h"

#include <stdint.h>

typedef enum nattel__jtype {
    NATTEL__JUNDEFINED = 0,
    NATTEL__JOBJECT = 1,
    NATTEL__JARRAY = 2,
    NATTEL__JSTRING = 4,
    NATTEL__JPRIMITIVE = 8
} nattel__jtype;

/* The kinds under their old names, from the tokenizer (jsmn) the tree
 * was first built with: the schema loader and the tree's regression
 * tests (tests/unit/test_json.c, unchanged) still spell them so. */
#define JSMN_UNDEFINED NATTEL__JUNDEFINED
#define JSMN_OBJECT NATTEL__JOBJECT
#define JSMN_ARRAY NATTEL__JARRAY
#define JSMN_STRING NATTEL__JSTRING
#define JSMN_PRIMITIVE NATTEL__JPRIMITIVE

/* One value (or key) of the document. Strings span their content, without
 * the quotes; containers span their brackets. */
typedef struct nattel__jtok {
    nattel__jtype type;
    int start;
    int end;
    int size;   /* containers: members; strings: whether escapes occur */
    int parent; /* the index just past this token's subtree */
} nattel__jtok;

#define NATTEL__JNEXT(t) ((t)->parent) /* index past the subtree */
/* A string token's `size` says whether the string holds escapes, so
 * readers can compare and copy unescaped strings as they are. */
#define NATTEL__JESCAPED(t) ((t)->size)

/* NATTEL__JSON_SMALL, NATTEL__JSON_MAX_TOKENS: src/nattel_limits.h */

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
/* strtod of a JSON number, in every locale as in "C". */
double nattel__json_strtod(const char *s);

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

/* Writer: a JSON string with RFC 8259 escaping; NATTEL_EINVAL (buffer
 * unchanged past its old length) when s is not valid UTF-8. */
nattel_code nattel__json_put_string(nattel_buf *b, const char *s, size_t n);
nattel_code nattel__json_put_int(nattel_buf *b, int64_t v);

/* The unchecked forms, for writers that reserved room first: they write at
 * `o` and return the end, or NULL for invalid UTF-8. A string needs
 * NATTEL__JSON_STRING_MAX(n) bytes, an integer 21. */
#define NATTEL__JSON_STRING_MAX(n) ((n)*6 + 2)
char *nattel__json_write_string(char *o, const char *s, size_t n);
char *nattel__json_write_int(char *o, int64_t v);

/* Shortest text that reads back as the finite v, in every locale as in
 * "C", into out; its length. With float_mark, an integral value keeps a
 * ".0" (a float reads back as a float); without, it is written as an
 * integer (-1), as JSON Schema bounds are. */
#define NATTEL__JSON_DOUBLE_MAX 40
size_t nattel__json_format_double(double v, char out[NATTEL__JSON_DOUBLE_MAX],
                                  int float_mark);
/* Shortest text that reads back as v; NATTEL_EINVAL for inf and NaN. */
nattel_code nattel__json_put_double(nattel_buf *b, double v);
/* A JSON fragment of a token, re-encoded compactly (whitespace dropped). */
nattel_code nattel__json_put_token(nattel_buf *b, const nattel__jdoc *d,
                                   unsigned t);

#endif
