#include "model/nattel_event.h"

#include "natx/natx_buf.h"
#include "natx/natx_json_put.h"
#include "model/nattel_error.h"
#include "nattel_limits.h"
#include "natx/natx_mem.h"
#include "natx/natx_utf8.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Enums and kinds                                                   */
/* ---------------------------------------------------------------- */

int nattel__enum_index(const nattel_enum_type *e, const char *s, size_t n)
{
    for (size_t i = 0; i < e->count; i++)
        if (strlen(e->values[i]) == n && memcmp(e->values[i], s, n) == 0)
            return (int)i;
    return -1;
}

void nattel__enum_list(const nattel_enum_type *e, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < e->count && o < size; i++) {
        const char *sep = i == 0 ? "" : i + 1 == e->count ? " or " : ", ";
        int w = snprintf(out + o, size - o, "%s'%s'", sep, e->values[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
}

static nattel_code parse_enum(const nattel_enum_type *e, const char *s,
                              int *out, nattel_error *err)
{
    int i = s ? nattel__enum_index(e, s, strlen(s)) : -1;
    if (i < 0) {
        char list[400];
        nattel__enum_list(e, list, sizeof list);
        return natx_fail(err, NATTEL_EINVAL, "%s: '%s' is not one of %s",
                         e->name, s ? s : "(null)", list);
    }
    *out = i;
    return NATTEL_OK;
}

const char *nattel_nemo_source_name(nattel_nemo_source v)
{
    return (unsigned)v < nattel_nemo_source_enum.count
               ? nattel_nemo_source_enum.values[v]
               : NULL;
}

const char *nattel_task_status_name(nattel_task_status v)
{
    return (unsigned)v < nattel_task_status_enum.count
               ? nattel_task_status_enum.values[v]
               : NULL;
}

nattel_code nattel_nemo_source_parse(const char *s, nattel_nemo_source *out,
                                     nattel_error *err)
{
    int i = 0;
    nattel_code rc = parse_enum(&nattel_nemo_source_enum, s, &i, err);
    if (!rc)
        *out = (nattel_nemo_source)i;
    return rc;
}

nattel_code nattel_task_status_parse(const char *s, nattel_task_status *out,
                                     nattel_error *err)
{
    int i = 0;
    nattel_code rc = parse_enum(&nattel_task_status_enum, s, &i, err);
    if (!rc)
        *out = (nattel_task_status)i;
    return rc;
}

const char *nattel_kind_name(nattel_kind kind)
{
    switch (kind) {
    case NATTEL_KIND_STRING:
        return "string";
    case NATTEL_KIND_ENUM:
        return "string";
    case NATTEL_KIND_INT64:
        return "integer";
    case NATTEL_KIND_NUMBER:
        return "number";
    case NATTEL_KIND_BOOL:
        return "boolean";
    case NATTEL_KIND_STRING_ARRAY:
        return "array";
    }
    return "unknown";
}

/* ---------------------------------------------------------------- */
/* Types                                                             */
/* ---------------------------------------------------------------- */

int nattel_event_type_field_index(const nattel_event_type *type,
                                  const char *name, size_t len)
{
    for (size_t i = 0; i < type->field_count; i++) {
        const nattel_field *f = &type->fields[i];
        if ((strlen(f->wire_name) == len && !memcmp(f->wire_name, name, len)) ||
            (f->c_name && strlen(f->c_name) == len &&
             !memcmp(f->c_name, name, len)))
            return (int)i;
    }
    return -1;
}

int nattel__field_int_violation(const nattel_field *f, int64_t v, char *msg,
                                size_t size)
{
    if ((f->flags & NATTEL_FIELD_HAS_MIN) && (double)v < f->minimum) {
        snprintf(msg, size, "%" PRId64 " is less than the minimum %.17g", v,
                 f->minimum);
        return 1;
    }
    if ((f->flags & NATTEL_FIELD_HAS_MAX) && (double)v > f->maximum) {
        snprintf(msg, size, "%" PRId64 " is greater than the maximum %.17g", v,
                 f->maximum);
        return 1;
    }
    return 0;
}

int nattel__field_number_violation(const nattel_field *f, double v, char *msg,
                                   size_t size)
{
    if (!isfinite(v)) {
        snprintf(msg, size, "%g is not a finite number", v);
        return 1;
    }
    if ((f->flags & NATTEL_FIELD_HAS_MIN) && v < f->minimum) {
        snprintf(msg, size, "%.17g is less than the minimum %.17g", v,
                 f->minimum);
        return 1;
    }
    if ((f->flags & NATTEL_FIELD_HAS_MAX) && v > f->maximum) {
        snprintf(msg, size, "%.17g is greater than the maximum %.17g", v,
                 f->maximum);
        return 1;
    }
    return 0;
}

static int valid_name(const char *s)
{
    return s && *s && natx_utf8_valid_prefix(s, strlen(s)) == strlen(s);
}

static nattel_code check_default(const nattel_event_type *type,
                                 const nattel_field *f, nattel_error *err)
{
    char msg[160];
    const nattel_value *d = &f->default_value;
    switch (f->kind) {
    case NATTEL_KIND_INT64:
        if (nattel__field_int_violation(f, d->i, msg, sizeof msg))
            goto broken;
        break;
    case NATTEL_KIND_NUMBER:
        if (nattel__field_number_violation(f, d->d, msg, sizeof msg))
            goto broken;
        break;
    case NATTEL_KIND_ENUM:
        if (d->e >= f->enum_type->count) {
            snprintf(msg, sizeof msg, "index %zu is not a member of %s", d->e,
                     f->enum_type->name);
            goto broken;
        }
        break;
    case NATTEL_KIND_STRING:
        if (!d->s.ptr ||
            natx_utf8_valid_prefix(d->s.ptr, d->s.len) != d->s.len) {
            snprintf(msg, sizeof msg, "not a valid UTF-8 string");
            goto broken;
        }
        break;
    case NATTEL_KIND_BOOL:
        if (d->b != 0 && d->b != 1) {
            snprintf(msg, sizeof msg, "%d is not a boolean", d->b);
            goto broken;
        }
        break;
    case NATTEL_KIND_STRING_ARRAY:
        if (d->a.count && !d->a.items) {
            snprintf(msg, sizeof msg, "an array of %zu items without items",
                     d->a.count);
            goto broken;
        }
        break;
    }
    return NATTEL_OK;
broken:
    return natx_fail(err, NATTEL_EINVAL,
                     "event type '%s': default of field '%s' breaks its "
                     "own constraint: %s",
                     type->name, f->wire_name, msg);
}

nattel_code nattel_event_type_check(const nattel_event_type *type,
                                    nattel_error *err)
{
    if (!type)
        return natx_fail(err, NATTEL_EINVAL, "event type is NULL");
    if (!valid_name(type->name))
        return natx_fail(err, NATTEL_EINVAL,
                         "event type has no event name (every event type "
                         "needs a non-empty name)");
    if (!valid_name(type->schema_version))
        return natx_fail(err, NATTEL_EINVAL,
                         "event type '%s' has no schema version", type->name);
    if (type->field_count > NATTEL__MAX_FIELDS)
        return natx_fail(err, NATTEL_ELIMIT,
                         "event type '%s' has %zu fields; at most %d are "
                         "supported",
                         type->name, type->field_count, NATTEL__MAX_FIELDS);
    if (type->field_count && !type->fields)
        return natx_fail(err, NATTEL_EINVAL,
                         "event type '%s' has %zu fields but no field table",
                         type->name, type->field_count);
    for (size_t i = 0; i < type->field_count; i++) {
        const nattel_field *f = &type->fields[i];
        if (!valid_name(f->wire_name))
            return natx_fail(err, NATTEL_EINVAL,
                             "event type '%s': field %zu has no wire name",
                             type->name, i);
        if ((unsigned)f->kind > NATTEL_KIND_STRING_ARRAY)
            return natx_fail(
                err, NATTEL_EINVAL,
                "event type '%s': field '%s' has an unknown kind %d",
                type->name, f->wire_name, (int)f->kind);
        if (f->kind == NATTEL_KIND_ENUM &&
            (!f->enum_type || !f->enum_type->count || !f->enum_type->values))
            return natx_fail(err, NATTEL_EINVAL,
                             "event type '%s': enum field '%s' has no values",
                             type->name, f->wire_name);
        for (size_t j = 0; j < i; j++) {
            const nattel_field *g = &type->fields[j];
            const char *names_f[2] = {f->wire_name, f->c_name};
            const char *names_g[2] = {g->wire_name, g->c_name};
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++)
                    if (names_f[a] && names_g[b] &&
                        !strcmp(names_f[a], names_g[b]))
                        return natx_fail(err, NATTEL_EINVAL,
                                         "event type '%s': two fields named "
                                         "'%s' (fields %zu and %zu)",
                                         type->name, names_f[a], j, i);
        }
        if (f->flags & NATTEL_FIELD_HAS_DEFAULT) {
            nattel_code rc = check_default(type, f, err);
            if (rc)
                return rc;
        }
    }
    return NATTEL_OK;
}

/* ---------------------------------------------------------------- */
/* Events                                                            */
/* ---------------------------------------------------------------- */

#define INLINE_ARENA 256

static void set_defaults(nattel_event *ev)
{
    const nattel_event_type *type = ev->type;
    for (size_t i = 0; i < type->field_count; i++) {
        const nattel_field *f = &type->fields[i];
        ev->is_set[i] = (f->flags & NATTEL_FIELD_HAS_DEFAULT) != 0;
        if (ev->is_set[i])
            ev->values[i] = f->default_value; /* static data: not copied */
        else
            memset(&ev->values[i], 0, sizeof ev->values[i]);
    }
}

void nattel__event_reset(nattel_event *ev)
{
    natx_arena_recycle(&ev->arena);
    set_defaults(ev);
}

/* A copy of string s in ev's arena; NULL when out of memory. */
static const char *arena_copy(nattel_event *ev, nattel_str s)
{
    char *p = nattel__event_alloc(ev, s.len + 1);
    if (p) {
        memcpy(p, s.ptr, s.len);
        p[s.len] = '\0';
    }
    return p;
}

static nattel_code copy_value(nattel_event *dst, size_t i,
                              const nattel_value *v)
{
    nattel_value *d = &dst->values[i];
    *d = *v;
    if (dst->type->fields[i].kind == NATTEL_KIND_STRING && v->s.ptr) {
        d->s.ptr = arena_copy(dst, v->s);
        return d->s.ptr ? NATTEL_OK : NATTEL_ENOMEM;
    }
    if (dst->type->fields[i].kind != NATTEL_KIND_STRING_ARRAY || !v->a.count)
        return NATTEL_OK;
    d->a.items = nattel__event_alloc(dst, v->a.count * sizeof *d->a.items);
    if (!d->a.items)
        return NATTEL_ENOMEM;
    for (size_t k = 0; k < v->a.count; k++) {
        d->a.items[k].len = v->a.items[k].len;
        d->a.items[k].ptr = arena_copy(dst, v->a.items[k]);
        if (!d->a.items[k].ptr)
            return NATTEL_ENOMEM;
    }
    return NATTEL_OK;
}

nattel_code nattel__event_copy(nattel_event *dst, const nattel_event *src)
{
    natx_arena_recycle(&dst->arena);
    for (size_t i = 0; i < src->type->field_count; i++) {
        dst->is_set[i] = src->is_set[i];
        if (!src->is_set[i]) {
            memset(&dst->values[i], 0, sizeof dst->values[i]);
            continue;
        }
        if (copy_value(dst, i, &src->values[i]))
            return NATTEL_ENOMEM;
    }
    return NATTEL_OK;
}

nattel_event *nattel_event_new(const nattel_event_type *type)
{
    nattel_event *ev = nattel__event_new_bare(type);
    if (ev)
        set_defaults(ev);
    return ev;
}

nattel_event *nattel__event_new_bare(const nattel_event_type *type)
{
    size_t n = type->field_count;
    size_t values_off = (sizeof(nattel_event) + 15) & ~(size_t)15;
    size_t set_off = values_off + n * sizeof(nattel_value);
    size_t chunk_off = (set_off + n + 15) & ~(size_t)15;
    size_t total = chunk_off + sizeof(natx_chunk) + INLINE_ARENA;
    char *mem = malloc(total);
    if (!mem)
        return NULL;
    nattel_event *ev = (nattel_event *)mem;
    ev->type = type;
    ev->values = (nattel_value *)(mem + values_off);
    ev->is_set = (unsigned char *)(mem + set_off);
    natx_chunk *first = (natx_chunk *)(mem + chunk_off);
    first->cap = INLINE_ARENA;
    natx_arena_init(&ev->arena, first, 1024, 0);
    return ev;
}

void nattel_event_free(nattel_event *ev)
{
    if (!ev)
        return;
    natx_arena_free(&ev->arena);
    free(ev);
}

void nattel__event_recycle(nattel_event *ev)
{
    natx_arena_recycle(&ev->arena);
}

void *nattel__event_alloc(nattel_event *ev, size_t n)
{
    return natx_arena_alloc(&ev->arena, n);
}

nattel_code nattel__event_put_string(nattel_event *ev, size_t i, const char *s,
                                     size_t n)
{
    char *p = nattel__event_alloc(ev, n + 1);
    if (!p)
        return NATTEL_ENOMEM;
    memcpy(p, s, n);
    p[n] = '\0';
    ev->values[i].s.ptr = p;
    ev->values[i].s.len = n;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

const nattel_event_type *nattel_event_type_of(const nattel_event *ev)
{
    return ev->type;
}

static nattel_code find_field(const nattel_event *ev, const char *name,
                              nattel_kind kind, int *index, nattel_error *err)
{
    int i =
        name ? nattel_event_type_field_index(ev->type, name, strlen(name)) : -1;
    if (i < 0)
        return natx_fail(err, NATTEL_ENOTFOUND, "%s: no field '%s'",
                         ev->type->name, name ? name : "(null)");
    const nattel_field *f = &ev->type->fields[i];
    if (f->kind != kind)
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: expected %s, got %s",
                         ev->type->name, f->wire_name,
                         f->kind == NATTEL_KIND_ENUM
                             ? "an enum value"
                             : nattel_kind_name(f->kind),
                         kind == NATTEL_KIND_ENUM ? "an enum value"
                                                  : nattel_kind_name(kind));
    *index = i;
    return NATTEL_OK;
}

nattel_code nattel_event_set_string(nattel_event *ev, const char *field,
                                    const char *value, nattel_error *err)
{
    int i;
    nattel_code rc = find_field(ev, field, NATTEL_KIND_STRING, &i, err);
    if (rc)
        return rc;
    if (!value)
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: NULL string",
                         ev->type->name, ev->type->fields[i].wire_name);
    size_t n = strlen(value);
    if (natx_utf8_valid_prefix(value, n) != n)
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: not valid UTF-8",
                         ev->type->name, ev->type->fields[i].wire_name);
    rc = nattel__event_put_string(ev, (size_t)i, value, n);
    if (rc)
        return natx_fail(err, rc, "out of memory");
    return NATTEL_OK;
}

nattel_code nattel_event_set_enum(nattel_event *ev, const char *field,
                                  const char *value, nattel_error *err)
{
    int i = 0, e = 0;
    nattel_code rc = find_field(ev, field, NATTEL_KIND_ENUM, &i, err);
    if (rc)
        return rc;
    rc = parse_enum(ev->type->fields[i].enum_type, value, &e, err);
    if (rc)
        return rc;
    ev->values[i].e = (size_t)e;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

nattel_code nattel_event_set_int(nattel_event *ev, const char *field,
                                 int64_t value, nattel_error *err)
{
    int i;
    char msg[160];
    nattel_code rc = find_field(ev, field, NATTEL_KIND_INT64, &i, err);
    if (rc)
        return rc;
    if (nattel__field_int_violation(&ev->type->fields[i], value, msg,
                                    sizeof msg))
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: %s", ev->type->name,
                         ev->type->fields[i].wire_name, msg);
    ev->values[i].i = value;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

nattel_code nattel_event_set_number(nattel_event *ev, const char *field,
                                    double value, nattel_error *err)
{
    int i;
    char msg[160];
    nattel_code rc = find_field(ev, field, NATTEL_KIND_NUMBER, &i, err);
    if (rc)
        return rc;
    if (nattel__field_number_violation(&ev->type->fields[i], value, msg,
                                       sizeof msg))
        return natx_fail(err, NATTEL_EINVAL, "%s.%s: %s", ev->type->name,
                         ev->type->fields[i].wire_name, msg);
    ev->values[i].d = value;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

nattel_code nattel_event_set_bool(nattel_event *ev, const char *field,
                                  int value, nattel_error *err)
{
    int i;
    nattel_code rc = find_field(ev, field, NATTEL_KIND_BOOL, &i, err);
    if (rc)
        return rc;
    ev->values[i].b = value != 0;
    ev->is_set[i] = 1;
    return NATTEL_OK;
}

const nattel_value *nattel_event_value(const nattel_event *ev, size_t i)
{
    return i < ev->type->field_count && ev->is_set[i] ? &ev->values[i] : NULL;
}

const char *nattel_event_get_string(const nattel_event *ev, const char *field)
{
    int i = field
                ? nattel_event_type_field_index(ev->type, field, strlen(field))
                : -1;
    if (i < 0 || !ev->is_set[i])
        return NULL;
    const nattel_field *f = &ev->type->fields[i];
    if (f->kind == NATTEL_KIND_STRING)
        return ev->values[i].s.ptr;
    if (f->kind == NATTEL_KIND_ENUM)
        return f->enum_type->values[ev->values[i].e];
    return NULL;
}

nattel_code nattel_event_get_int(const nattel_event *ev, const char *field,
                                 int64_t *out)
{
    int i = field
                ? nattel_event_type_field_index(ev->type, field, strlen(field))
                : -1;
    if (i < 0 || !ev->is_set[i] ||
        ev->type->fields[i].kind != NATTEL_KIND_INT64)
        return NATTEL_ENOTFOUND;
    *out = ev->values[i].i;
    return NATTEL_OK;
}

nattel_code nattel_event_check(const nattel_event *ev, nattel_error *err)
{
    for (size_t i = 0; i < ev->type->field_count; i++)
        if (!ev->is_set[i] &&
            !(ev->type->fields[i].flags & NATTEL_FIELD_WIRE_OPTIONAL))
            return natx_fail(err, NATTEL_ESCHEMA, "%s.%s: field required",
                             ev->type->name, ev->type->fields[i].wire_name);
    return NATTEL_OK;
}

/* The kinds put_field does not write in place. */
static nattel_code put_other_value(nattel_buf *b, const nattel_field *f,
                                   const nattel_value *v)
{
    nattel_code rc;
    switch (f->kind) {
    case NATTEL_KIND_NUMBER:
        return natx_json_put_double(b, v->d);
    case NATTEL_KIND_BOOL:
        return v->b ? NATX_PUT_LIT(b, "true") : NATX_PUT_LIT(b, "false");
    case NATTEL_KIND_STRING_ARRAY:
        rc = NATX_PUT_LIT(b, "[");
        for (size_t k = 0; !rc && k < v->a.count; k++) {
            if (k)
                rc = NATX_PUT_LIT(b, ",");
            if (!rc)
                rc = natx_json_put_string(b, v->a.items[k].ptr,
                                          v->a.items[k].len);
        }
        return rc ? rc : NATX_PUT_LIT(b, "]");
    default: /* strings, enums and integers: put_field */
        return NATTEL_EINVAL;
    }
}

/* Writes one field, `"name":value`, preceded by a comma unless first.
 * Strings, integers and enums go straight into room reserved once per
 * field; the other kinds take the checked nattel_buf calls. */
static nattel_code put_field(nattel_buf *b, const nattel_field *f,
                             const nattel_value *v, int first)
{
    size_t klen = strlen(f->wire_name), vlen = 20; /* an int64 */
    const char *vs = NULL;
    if (f->kind == NATTEL_KIND_STRING) {
        vs = v->s.ptr;
        vlen = v->s.len;
    } else if (f->kind == NATTEL_KIND_ENUM) {
        vs = f->enum_type->values[v->e];
        vlen = strlen(vs);
    }
    if (klen > NATTEL__NAME_MAX || vlen > (SIZE_MAX >> 4) ||
        natx_buf_ensure(b, NATX_JSON_STRING_MAX(klen) +
                               NATX_JSON_STRING_MAX(vlen) + 2))
        return NATTEL_ENOMEM;
    char *o = b->data + b->len;
    if (!first)
        *o++ = ',';
    o = natx_json_write_string(o, f->wire_name, klen);
    if (!o)
        return NATTEL_EINVAL;
    *o++ = ':';
    if (vs) {
        o = natx_json_write_string(o, vs, vlen);
    } else if (f->kind == NATTEL_KIND_INT64) {
        o = natx_json_write_int(o, v->i);
    } else {
        b->len = (size_t)(o - b->data);
        return put_other_value(b, f, v);
    }
    if (!o)
        return NATTEL_EINVAL;
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

/* Why write_planned handed the event back. */
enum { PLANNED_OK, PLANNED_GENERAL, PLANNED_ENOMEM };

/* The event through its type's plan, in one pass: keys and enum values
 * copied as ready bytes, strings escaped, room reserved member by member
 * (`left` is what is reserved, so the usual event reserves once). On
 * anything but PLANNED_OK out is as it was: PLANNED_GENERAL for what the
 * general path must write or report (a required field unset, invalid
 * UTF-8, a value the plan does not write). */
static int write_planned(const nattel_event *ev, const nattel__type_plan *p,
                         nattel_buf *out)
{
    const nattel_event_type *t = ev->type;
    size_t start = out->len;
    if (natx_buf_ensure(out, 256))
        return PLANNED_ENOMEM;
    char *o = out->data + start;
    size_t left = out->cap - start;
    *o++ = '{';
    size_t skip = 1; /* no comma before the first member */
    int rc = PLANNED_OK;
    for (size_t i = 0; i < t->field_count && rc == PLANNED_OK; i++) {
        if (!ev->is_set[i]) {
            if (!(t->fields[i].flags & NATTEL_FIELD_WIRE_OPTIONAL))
                rc = PLANNED_GENERAL;
            continue;
        }
        const nattel_value *v = &ev->values[i];
        const nattel_str *key = &p->keys[i], *ej = p->enum_json[i];
        nattel_kind kind = t->fields[i].kind;
        size_t vmax; /* the value's bytes at most */
        if (ej && v->e < t->fields[i].enum_type->count)
            vmax = ej[v->e].len;
        else if (!ej && kind == NATTEL_KIND_INT64)
            vmax = 21;
        else if (!ej && kind == NATTEL_KIND_STRING &&
                 v->s.len <= (SIZE_MAX >> 4))
            vmax = NATX_JSON_STRING_MAX(v->s.len);
        else {
            rc = PLANNED_GENERAL; /* a value the plan does not write */
            continue;
        }
        size_t need = key->len + vmax + 2; /* '}', NUL */
        size_t used = (size_t)(o - (out->data + start));
        if (need > left - used) {
            out->len = start + used;
            if (natx_buf_ensure(out, need)) {
                rc = PLANNED_ENOMEM;
                continue;
            }
            out->len = start;
            o = out->data + start + used;
            left = out->cap - start;
        }
        o = natx_put_bytes(o, key->ptr + skip, key->len - skip);
        skip = 0;
        if (ej) {
            o = natx_put_bytes(o, ej[v->e].ptr, ej[v->e].len);
        } else if (kind == NATTEL_KIND_INT64) {
            o = natx_json_write_int(o, v->i);
        } else {
            o = natx_json_write_short(o, v->s.ptr, v->s.len);
            if (!o)
                rc = PLANNED_GENERAL; /* invalid UTF-8: named there */
        }
    }
    if (rc != PLANNED_OK) {
        out->len = start;
        out->data[start] = '\0';
        return rc;
    }
    *o++ = '}';
    *o = '\0';
    out->len = (size_t)(o - out->data);
    return PLANNED_OK;
}

nattel_code nattel_event_write_json(const nattel_event *ev, nattel_buf *out,
                                    nattel_error *err)
{
    const nattel_event_type *t = ev->type;
    const nattel__type_plan *p = nattel__type_plan_of(t);
    if (p) {
        int rc = write_planned(ev, p, out);
        if (rc == PLANNED_OK)
            return NATTEL_OK;
        if (rc == PLANNED_ENOMEM)
            return natx_fail(err, NATTEL_ENOMEM, "out of memory writing %s",
                             t->name);
    }
    return nattel__event_write_json_general(ev, out, err);
}

nattel_code nattel__event_write_json_general(const nattel_event *ev,
                                             nattel_buf *out, nattel_error *err)
{
    const nattel_event_type *t = ev->type;
    size_t start = out->len;
    nattel_code rc = nattel_buf_append(out, "{", 1);
    int first = 1;
    for (size_t i = 0; !rc && i < t->field_count; i++) {
        const nattel_field *f = &t->fields[i];
        if (!ev->is_set[i]) {
            if (f->flags & NATTEL_FIELD_WIRE_OPTIONAL)
                continue;
            out->len = start;
            if (out->data)
                out->data[start] = '\0';
            return natx_fail(err, NATTEL_EINVAL, "%s.%s: field required",
                             t->name, f->wire_name);
        }
        rc = put_field(out, f, &ev->values[i], first);
        if (rc) {
            out->len = start;
            out->data[start] = '\0';
            return natx_fail(err, rc,
                             rc == NATTEL_EINVAL ? "%s.%s: not valid UTF-8 or "
                                                   "not a finite number"
                                                 : "%s.%s: out of memory",
                             t->name, f->wire_name);
        }
        first = 0;
    }
    if (!rc)
        rc = nattel_buf_append(out, "}", 1);
    if (rc) {
        out->len = start;
        return natx_fail(err, rc, "out of memory writing %s", t->name);
    }
    return NATTEL_OK;
}

/* The fields of a nat_cli_command event from c, whose enums (src, st)
 * are already named; the first error. */
static nattel_code set_cli_fields(nattel_event *ev, const nattel_cli_command *c,
                                  const char *src, const char *st,
                                  nattel_error *err)
{
    nattel_code rc = nattel_event_set_enum(ev, "nemoSource", src, err);
    if (!rc)
        rc = nattel_event_set_string(ev, "command", c->command, err);
    if (!rc)
        rc = nattel_event_set_string(
            ev, "subcommand", c->subcommand ? c->subcommand : "undefined", err);
    if (!rc)
        rc = nattel_event_set_enum(ev, "taskStatus", st, err);
    if (!rc)
        rc = nattel_event_set_int(ev, "durationMs", c->duration_ms, err);
    if (!rc)
        rc = nattel_event_set_int(ev, "exitCode", c->exit_code, err);
    if (!rc)
        rc = nattel_event_set_string(
            ev, "errorClass", c->error_class ? c->error_class : "undefined",
            err);
    if (!rc)
        rc = nattel_event_set_string(
            ev, "pythonVersion",
            c->python_version ? c->python_version : "undefined", err);
    return rc;
}

nattel_code nattel_cli_command_event(const nattel_cli_command *c,
                                     nattel_event **out, nattel_error *err)
{
    if (!c || !out)
        return natx_fail(err, NATTEL_EINVAL,
                         "nattel_cli_command_event: %s is NULL",
                         c ? "out" : "the command");
    nattel_event *ev = nattel_event_new(&nattel_cli_command_type);
    if (!ev)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    nattel_code rc;
    const char *src = nattel_nemo_source_name(c->nemo_source);
    const char *st = nattel_task_status_name(c->task_status);
    if (!src)
        rc = natx_fail(err, NATTEL_EINVAL,
                       "nat_cli_command.nemoSource: %d "
                       "is not a NemoSource",
                       (int)c->nemo_source);
    else if (c->task_status == NATTEL_TASK_STATUS_UNSET)
        rc = natx_fail(err, NATTEL_EINVAL,
                       "nat_cli_command.taskStatus: field required (the "
                       "status was never set)");
    else if (!st)
        rc = natx_fail(err, NATTEL_EINVAL,
                       "nat_cli_command.taskStatus: %d "
                       "is not a TaskStatus",
                       (int)c->task_status);
    else if (!c->command)
        rc = natx_fail(err, NATTEL_EINVAL,
                       "nat_cli_command.command: field required");
    else
        rc = set_cli_fields(ev, c, src, st, err);
    if (rc) {
        nattel_event_free(ev);
        return rc;
    }
    *out = ev;
    return NATTEL_OK;
}
