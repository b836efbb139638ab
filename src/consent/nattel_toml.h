#ifndef NATTEL_TOML_H
#define NATTEL_TOML_H

/*
 * A strict TOML 1.0 reader, enough for the consent file: it checks the
 * whole document as Python's tomllib does (every value type, duplicate keys
 * and table redefinitions, CRLF, UTF-8) and keeps tables, arrays and string
 * values; other scalars are checked and kept only as "other".
 *
 * Limits: nesting of arrays and inline tables deeper than
 * NATTEL__TOML_MAX_DEPTH is refused (tomllib stops near 490 levels with a
 * RecursionError). Time and memory are linear in the input (keys are found
 * through a hash index) and bounded: a document that would need more than
 * NATTEL__TOML_ARENA_MAX bytes of nodes or NATTEL__TOML_STEPS_MAX lookup
 * steps (src/nattel_limits.h) is NATTEL_ELIMIT. Every valid
 * document of up to 1 MiB fits, except pathological ones (a [header] 255
 * keys deep over hundreds of thousands of keys).
 */

#include <nattel/nattel.h>

#include "nattel_limits.h"

typedef enum nattel__toml_kind {
    NATTEL__TOML_TABLE = 0,
    NATTEL__TOML_ARRAY,
    NATTEL__TOML_STRING,
    NATTEL__TOML_OTHER /* integer, float, boolean, date or time */
} nattel__toml_kind;

typedef struct nattel__toml_value nattel__toml_value;
struct nattel__toml_value {
    nattel__toml_kind kind;
    const char *key; /* in the parent table; NULL in arrays and the root */
    size_t key_len;
    const char *str; /* STRING: decoded, NUL-terminated (may hold NULs) */
    size_t str_len;
    nattel__toml_value *first, *last; /* TABLE and ARRAY members */
    nattel__toml_value *next;
    /* The reader's key index: the table this value is a member of, and
     * the next value in its hash chain. */
    const nattel__toml_value *owner;
    nattel__toml_value *hnext;
};

typedef struct nattel__toml nattel__toml;

/* Parses src[0..len). On failure (NATTEL_EPARSE) `err` says "line L,
 * column C: what"; NATTEL_ELIMIT over the limits above; NATTEL_ENOMEM when
 * out of memory. */
nattel_code nattel__toml_parse(const char *src, size_t len, nattel__toml **out,
                               nattel_error *err);
void nattel__toml_free(nattel__toml *doc);

const nattel__toml_value *nattel__toml_root(const nattel__toml *doc);
/* Member `key` of a TABLE; NULL when absent or `table` is not a table. */
const nattel__toml_value *nattel__toml_get(const nattel__toml_value *table,
                                           const char *key);

#endif
