/*
 * Setting one field from one JSON value: the form a person types on a
 * command line (`nattel emit --set llmProviders='["nim"]'`) and the one
 * way to set a string array. The value is parsed by the strict reader
 * alone, never pasted into a larger document, so no text of it can reach
 * another field.
 */
#include "json/nattel_json.h"
#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "natx/natx_utf8.h"

#include <stdlib.h>
#include <string.h>

/* The kind a field wants, as a person reads it. */
static const char *wanted(const nattel_field *f)
{
    switch (f->kind) {
    case NATTEL_KIND_STRING:
        return "a string";
    case NATTEL_KIND_ENUM:
        return "one of its enum values (a string)";
    case NATTEL_KIND_INT64:
        return "an integer";
    case NATTEL_KIND_NUMBER:
        return "a number";
    case NATTEL_KIND_BOOL:
        return "true or false";
    case NATTEL_KIND_STRING_ARRAY:
        return "an array of strings";
    }
    return "a value";
}

static nattel_code set_array(nattel_event *ev, size_t i, const nattel__jdoc *d,
                             nattel_error *err)
{
    const nattel_field *f = &ev->type->fields[i];
    size_t n = (size_t)d->toks[0].members;
    nattel_str *items = n ? nattel__event_alloc(ev, n * sizeof *items) : NULL;
    if (n && !items)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    unsigned t = 1;
    for (size_t k = 0; k < n; k++) {
        if (!nattel__json_is_string(d, t))
            return natx_fail(
                err, NATTEL_EINVAL, "%s.%s: item %zu is %s; expected a string",
                ev->type->name, f->wire_name, k, nattel__json_type_name(d, t));
        nattel_str raw = nattel__json_raw(d, t);
        char *s = nattel__event_alloc(ev, raw.len + 1);
        if (!s)
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
        items[k].len = nattel__json_decode_string(d, t, s);
        s[items[k].len] = '\0';
        items[k].ptr = s;
        t = (unsigned)NATTEL__JNEXT(&d->toks[t]);
    }
    ev->values[i].a.items = items;
    ev->values[i].a.count = n;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

/* A string token decoded into the event's memory (for set_string and
 * set_enum, which check it), its length in *n; NULL when out of memory. */
static char *decoded(nattel_event *ev, const nattel__jdoc *d, size_t *n)
{
    nattel_str raw = nattel__json_raw(d, 0);
    char *s = nattel__event_alloc(ev, raw.len + 1);
    if (s) {
        *n = nattel__json_decode_string(d, 0, s);
        s[*n] = '\0';
    }
    return s;
}

static nattel_code set_parsed(nattel_event *ev, size_t i, const char *field,
                              const nattel__jdoc *d, nattel_error *err)
{
    const nattel_field *f = &ev->type->fields[i];
    int64_t iv = 0;
    double dv = 0;
    switch (f->kind) {
    case NATTEL_KIND_STRING:
    case NATTEL_KIND_ENUM: {
        size_t n = 0;
        char *s = decoded(ev, d, &n);
        if (!s)
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
        /* The setters take C strings: a NUL would cut the value short. */
        if (memchr(s, '\0', n))
            return natx_fail(err, NATTEL_EINVAL, "%s.%s: holds a NUL byte",
                             ev->type->name, f->wire_name);
        return f->kind == NATTEL_KIND_STRING
                   ? nattel_event_set_string(ev, field, s, err)
                   : nattel_event_set_enum(ev, field, s, err);
    }
    case NATTEL_KIND_INT64:
        switch (nattel__json_int(d, 0, &iv)) {
        case NATTEL__JNUM_INT:
            return nattel_event_set_int(ev, field, iv, err);
        case NATTEL__JNUM_FRACTION:
            return natx_fail(err, NATTEL_EINVAL,
                             "%s.%s: not an integer; expected an integer",
                             ev->type->name, f->wire_name);
        default:
            return natx_fail(err, NATTEL_EINVAL,
                             "%s.%s: out of range for a 64-bit integer",
                             ev->type->name, f->wire_name);
        }
    case NATTEL_KIND_NUMBER:
        if (nattel__json_double(d, 0, &dv))
            return natx_fail(err, NATTEL_EINVAL, "%s.%s: too large a number",
                             ev->type->name, f->wire_name);
        return nattel_event_set_number(ev, field, dv, err);
    case NATTEL_KIND_BOOL:
        return nattel_event_set_bool(ev, field, nattel__json_lead(d, 0) == 't',
                                     err);
    case NATTEL_KIND_STRING_ARRAY:
        return set_array(ev, i, d, err);
    }
    return natx_fail(err, NATTEL_EINVAL, "%s.%s: unknown kind", ev->type->name,
                     f->wire_name);
}

/* Whether the parsed root is of the JSON type the field's kind takes. */
static int kind_fits(const nattel_field *f, const nattel__jdoc *d)
{
    switch (f->kind) {
    case NATTEL_KIND_STRING:
    case NATTEL_KIND_ENUM:
        return nattel__json_is_string(d, 0);
    case NATTEL_KIND_INT64:
    case NATTEL_KIND_NUMBER:
        return nattel__json_is_number(d, 0);
    case NATTEL_KIND_BOOL:
        return d->toks[0].type == NATTEL__JPRIMITIVE &&
               (nattel__json_lead(d, 0) == 't' ||
                nattel__json_lead(d, 0) == 'f');
    case NATTEL_KIND_STRING_ARRAY:
        return d->toks[0].type == NATTEL__JARRAY;
    }
    return 0;
}

nattel_code nattel_event_set_json(nattel_event *ev, const char *field,
                                  const char *json, size_t len,
                                  nattel_error *err)
{
    if (!ev)
        return natx_fail(err, NATTEL_EINVAL, "set_json: no event");
    int i = field
                ? nattel_event_type_field_index(ev->type, field, strlen(field))
                : -1;
    if (i < 0)
        return natx_fail(err, NATTEL_ENOTFOUND, "%s: no field '%s'",
                         ev->type->name, field ? field : "(null)");
    const nattel_field *f = &ev->type->fields[i];
    if (!json)
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: NULL value",
                         ev->type->name, f->wire_name);
    nattel__jdoc d;
    nattel_code rc = nattel__json_parse(&d, json, len, err);
    if (rc) {
        nattel__json_release(&d);
        return nattel__prefix(err, "%s.%s: not a JSON value", ev->type->name,
                              f->wire_name);
    }
    if (!kind_fits(f, &d))
        rc = natx_fail(err, NATTEL_EINVAL, "%s.%s: got %s; expected %s",
                       ev->type->name, f->wire_name,
                       nattel__json_type_name(&d, 0), wanted(f));
    else
        rc = set_parsed(ev, (size_t)i, f->wire_name, &d, err);
    nattel__json_release(&d);
    return rc;
}
