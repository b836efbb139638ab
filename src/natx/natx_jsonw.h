#ifndef NATX_JSONW_H
#define NATX_JSONW_H

/*
 * One JSON writer for the objects and arrays the library, the tool and the
 * endpoint print (answers, reports, status, the schema export).
 *
 * It tracks nesting in a small fixed stack and puts the commas and colons
 * itself. It keeps the FIRST error (out of memory, invalid UTF-8, a value
 * where a key is expected, nesting past NATX_JSONW_MAX_DEPTH, ...) and
 * ignores every call after it, so a caller writes the whole document and
 * checks once, with natx_jsonw_finish(). A document that finish() accepts
 * is complete: exactly one top-level value, every container closed.
 *
 * Strings: RFC 8259 escaping ("\"", "\\", \b \f \n \r \t, other control
 * characters as \u00XX; everything else, including non-ASCII, as is).
 * Invalid UTF-8 is an error (NATTEL_EINVAL) for natx_jsonw_string();
 * natx_jsonw_string_lossy() instead replaces each byte that does not start
 * a valid sequence by U+FFFD, for text that may quote untrusted input.
 *
 * The writer appends to `out` and never resets it; on error `out` holds a
 * partial document the caller must not print.
 */

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

#define NATX_JSONW_MAX_DEPTH 32

typedef struct natx_jsonw {
    nattel_buf *out;
    nattel_code code;       /* the first error; NATTEL_OK while none */
    char why[96];           /* what the first error was */
    unsigned depth;         /* open containers */
    unsigned char top_done; /* the top-level value is written */
    /* Per open container: object or array, has items, key written. */
    unsigned char level[NATX_JSONW_MAX_DEPTH];
} natx_jsonw;

void natx_jsonw_init(natx_jsonw *w, nattel_buf *out);

void natx_jsonw_begin_object(natx_jsonw *w);
void natx_jsonw_end_object(natx_jsonw *w);
void natx_jsonw_begin_array(natx_jsonw *w);
void natx_jsonw_end_array(natx_jsonw *w);

/* An object member's name (NUL-terminated, or with a length). */
void natx_jsonw_key(natx_jsonw *w, const char *key);
void natx_jsonw_keyn(natx_jsonw *w, const char *key, size_t n);

/* Values. */
void natx_jsonw_string(natx_jsonw *w, const char *s, size_t n);
void natx_jsonw_string_lossy(natx_jsonw *w, const char *s, size_t n);
/* A NUL-terminated string, or null when s is NULL. */
void natx_jsonw_cstring(natx_jsonw *w, const char *s);
void natx_jsonw_int64(natx_jsonw *w, int64_t v);
void natx_jsonw_uint64(natx_jsonw *w, uint64_t v);
/* Shortest text that reads back as v; NATTEL_EINVAL for inf and NaN. */
void natx_jsonw_double(natx_jsonw *w, double v);
void natx_jsonw_bool(natx_jsonw *w, int v);
void natx_jsonw_null(natx_jsonw *w);
/* An already valid JSON value (not checked), e.g. a stored document. */
void natx_jsonw_raw(natx_jsonw *w, const char *json, size_t n);
/* An object member's name already escaped as JSON wants it: the text
 * between its quotes (not checked), e.g. a key copied from a document. */
void natx_jsonw_key_raw(natx_jsonw *w, const char *escaped, size_t n);
/* Claims the place of one value that the caller appends itself, whole,
 * to the returned buffer (e.g. with an encoder of its own); NULL when an
 * error is kept. The caller reports its own failure with
 * natx_jsonw_fail(). */
nattel_buf *natx_jsonw_value_out(natx_jsonw *w);

/* Records an error of the caller's own (e.g. out of memory while building
 * a value) unless one is kept already; later calls do nothing. */
void natx_jsonw_fail(natx_jsonw *w, nattel_code code, const char *why);

/* NATTEL_OK when every call succeeded and the document is complete; else
 * the first error's code, with `err` (may be NULL) saying what it was. */
nattel_code natx_jsonw_finish(const natx_jsonw *w, nattel_error *err);

#endif
