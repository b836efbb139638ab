/*
 * JSON Schema in the layout of the shared anonymous_events.json: loading
 * another product's event types from it, and exporting ours to it. Only
 * the constructs that layout uses are understood; anything else is refused
 * with its path, because a validator that skips a keyword it does not
 * know would accept what the ingest refuses.
 */
#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "json/nattel_json.h"
#include "nattel_limits.h"
#include "model/nattel_registry.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT64_MIN_D (-9223372036854775808.0)
#define INT64_MAX_D (9223372036854775807.0)

/* ---------------------------------------------------------------- */
/* Reading helpers                                                   */
/* ---------------------------------------------------------------- */

typedef struct loader {
    nattel_registry *reg;
    nattel__jdoc *d;
    const char *source;
    nattel_error *err;
    unsigned types; /* definitions.types token, 0 when absent */
} loader;

/* Value token of `key` in object token `obj`; 0 when absent. */
static unsigned get(const nattel__jdoc *d, unsigned obj, const char *key)
{
    if (d->toks[obj].type != NATTEL__JOBJECT)
        return 0;
    unsigned k = obj + 1;
    for (int i = 0; i < d->toks[obj].members; i++) {
        if (nattel__json_string_eq(d, k, key, strlen(key)))
            return k + 1;
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
    return 0;
}

static char *owned_string(loader *l, unsigned t)
{
    nattel_str raw = nattel__json_raw(l->d, t);
    char *s = malloc(raw.len + 1);
    if (!s)
        return NULL;
    nattel__json_decode_string(l->d, t, s);
    return nattel__registry_own(l->reg, s);
}

static nattel_code bad(loader *l, const char *path, const char *fmt, ...)
    NATX_PRINTF(3, 4);

static nattel_code bad(loader *l, const char *path, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return natx_fail(l->err, NATTEL_ESCHEMA, "%s: %s: %s", l->source, path,
                     msg);
}

static int is_type(const nattel__jdoc *d, unsigned t, const char *name)
{
    return t && nattel__json_is_string(d, t) &&
           nattel__json_string_eq(d, t, name, strlen(name));
}

/* Only these keywords may appear in a property or type definition. */
static nattel_code check_keywords(loader *l, unsigned obj, const char *path,
                                  const char *const *allowed)
{
    const nattel__jdoc *d = l->d;
    unsigned k = obj + 1;
    for (int i = 0; i < d->toks[obj].members; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = nattel__json_string_eq(d, k, *a, strlen(*a));
        if (!ok) {
            nattel_str raw = nattel__json_raw(d, k);
            return bad(l, path, "unsupported keyword '%.*s'",
                       (int)(raw.len > 60 ? 60 : raw.len), raw.ptr);
        }
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
    return NATTEL_OK;
}

static nattel_code read_bound(loader *l, unsigned t, const char *path,
                              const char *name, double *out)
{
    if (!nattel__json_is_number(l->d, t) || nattel__json_double(l->d, t, out))
        return bad(l, path, "'%s' must be a finite number", name);
    return NATTEL_OK;
}

/* The bounds `minimum` (token min) and `maximum` (max) where given. */
static nattel_code read_bounds(loader *l, unsigned min, unsigned max,
                               const char *path, nattel_field *f)
{
    nattel_code rc = NATTEL_OK;
    if (min)
        rc = read_bound(l, min, path, "minimum", &f->minimum);
    if (!rc && max)
        rc = read_bound(l, max, path, "maximum", &f->maximum);
    return rc;
}

/* An enum type from {"type": "string", "enum": [...]}. */
static nattel_code read_enum(loader *l, unsigned def, unsigned values,
                             const char *name, const char *path,
                             const nattel_enum_type **out)
{
    const nattel__jdoc *d = l->d;
    if (d->toks[values].type != NATTEL__JARRAY || d->toks[values].members == 0)
        return bad(l, path, "'enum' must be a non-empty array of strings");
    size_t n = (size_t)d->toks[values].members;
    nattel_enum_type *e = nattel__registry_own(l->reg, calloc(1, sizeof *e));
    const char **vals = nattel__registry_own(l->reg, calloc(n, sizeof *vals));
    if (!e || !vals)
        return natx_fail(l->err, NATTEL_ENOMEM, "out of memory");
    unsigned t = values + 1;
    for (size_t i = 0; i < n; i++) {
        if (!nattel__json_is_string(d, t))
            return bad(l, path, "'enum' value %zu is not a string", i);
        vals[i] = owned_string(l, t);
        if (!vals[i])
            return natx_fail(l->err, NATTEL_ENOMEM, "out of memory");
        t = (unsigned)NATTEL__JNEXT(&d->toks[t]);
    }
    unsigned desc = get(d, def, "description");
    e->name = name;
    e->description =
        desc && nattel__json_is_string(d, desc) ? owned_string(l, desc) : "";
    e->values = vals;
    e->count = n;
    *out = e;
    return NATTEL_OK;
}

static const char *const type_keywords[] = {"type",    "description", "enum",
                                            "minimum", "maximum",     "items",
                                            "title",   "$comment",    NULL};

/* Fills kind, enum type and bounds of `f` from an inline type definition. */
static nattel_code read_inline(loader *l, unsigned def, const char *path,
                               const char *enum_name, nattel_field *f)
{
    const nattel__jdoc *d = l->d;
    nattel_code rc = check_keywords(l, def, path, type_keywords);
    if (rc)
        return rc;
    unsigned type = get(d, def, "type"), en = get(d, def, "enum");
    unsigned min = get(d, def, "minimum"), max = get(d, def, "maximum");
    if (is_type(d, type, "string") && en) {
        f->kind = NATTEL_KIND_ENUM;
        return read_enum(l, def, en, enum_name, path, &f->enum_type);
    }
    if (en)
        return bad(l, path, "'enum' is supported on strings only");
    if (is_type(d, type, "string")) {
        f->kind = NATTEL_KIND_STRING;
    } else if (is_type(d, type, "integer")) {
        f->kind = NATTEL_KIND_INT64;
    } else if (is_type(d, type, "number")) {
        f->kind = NATTEL_KIND_NUMBER;
    } else if (is_type(d, type, "boolean")) {
        f->kind = NATTEL_KIND_BOOL;
    } else if (is_type(d, type, "array")) {
        unsigned items = get(d, def, "items");
        static const char *const item_kw[] = {"type", "description", NULL};
        if (!items || d->toks[items].type != NATTEL__JOBJECT ||
            !is_type(d, get(d, items, "type"), "string") ||
            check_keywords(l, items, path, item_kw))
            return bad(l, path, "only arrays of strings are supported");
        f->kind = NATTEL_KIND_STRING_ARRAY;
    } else {
        return bad(l, path,
                   "'type' must be one of string, integer, number, "
                   "boolean, array");
    }
    if ((min || max) && f->kind != NATTEL_KIND_INT64 &&
        f->kind != NATTEL_KIND_NUMBER)
        return bad(l, path, "'minimum'/'maximum' apply to numbers only");
    rc = read_bounds(l, min, max, path, f);
    if (rc)
        return rc;
    if (min)
        f->flags |= NATTEL_FIELD_HAS_MIN;
    if (max)
        f->flags |= NATTEL_FIELD_HAS_MAX;
    return NATTEL_OK;
}

/* {"$ref": "#/definitions/types/NAME"} resolved into `f`. */
static nattel_code read_ref(loader *l, unsigned ref, const char *path,
                            nattel_field *f)
{
    static const char prefix[] = "#/definitions/types/";
    const nattel__jdoc *d = l->d;
    if (!nattel__json_is_string(d, ref))
        return bad(l, path, "'$ref' must be a string");
    nattel_str raw = nattel__json_raw(d, ref);
    if (raw.len <= sizeof prefix - 1 ||
        memcmp(raw.ptr, prefix, sizeof prefix - 1) ||
        memchr(raw.ptr, '\\', raw.len))
        return bad(l, path, "'$ref' must point into #/definitions/types/");
    const char *name = raw.ptr + sizeof prefix - 1;
    size_t nlen = raw.len - (sizeof prefix - 1);
    unsigned def = 0;
    if (l->types) {
        unsigned k = l->types + 1;
        for (int i = 0; i < d->toks[l->types].members && !def; i++) {
            if (nattel__json_string_eq(d, k, name, nlen))
                def = k + 1;
            k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
        }
    }
    if (!def || d->toks[def].type != NATTEL__JOBJECT)
        return bad(l, path, "'$ref' names an unknown type '%.*s'", (int)nlen,
                   name);
    char *tname = nattel__registry_strndup(l->reg, name, nlen);
    if (!tname)
        return natx_fail(l->err, NATTEL_ENOMEM, "out of memory");
    char tpath[300];
    snprintf(tpath, sizeof tpath, "definitions.types.%s", tname);
    nattel_code rc = read_inline(l, def, tpath, tname, f);
    if (rc)
        return rc;
    /* The shared int64 type stays a reference in our export; tighter
     * bounds stay on the field. */
    if (f->kind == NATTEL_KIND_INT64 && (f->flags & NATTEL_FIELD_HAS_MIN) &&
        (f->flags & NATTEL_FIELD_HAS_MAX) && f->minimum == INT64_MIN_D &&
        f->maximum == INT64_MAX_D) {
        f->flags &= ~(NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX);
        f->type_ref = tname;
    }
    return NATTEL_OK;
}

/* camelCase wire name to the snake_case name model mode also accepts. */
static char *snake_case(loader *l, const char *wire)
{
    size_t n = strlen(wire);
    char *s = malloc(2 * n + 1), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = wire[i];
        if (c >= 'A' && c <= 'Z') {
            if (i)
                *o++ = '_';
            c = (char)(c - 'A' + 'a');
        }
        *o++ = c;
    }
    *o = '\0';
    return nattel__registry_own(l->reg, s);
}

static nattel_code read_property(loader *l, unsigned def, const char *path,
                                 nattel_field *f)
{
    const nattel__jdoc *d = l->d;
    if (d->toks[def].type != NATTEL__JOBJECT)
        return bad(l, path, "a property must be an object");
    unsigned desc = get(d, def, "description");
    f->description =
        desc && nattel__json_is_string(d, desc) ? owned_string(l, desc) : "";
    unsigned ref = get(d, def, "$ref"), all = get(d, def, "allOf");
    nattel_code rc;
    if (ref) {
        static const char *const kw[] = {"$ref", "description", NULL};
        rc = check_keywords(l, def, path, kw);
        return rc ? rc : read_ref(l, ref, path, f);
    }
    if (all) {
        /* [{"$ref": ...}, {"minimum": N, "maximum": M}] */
        static const char *const kw[] = {"allOf", "description", NULL};
        static const char *const bound_kw[] = {"minimum", "maximum", NULL};
        rc = check_keywords(l, def, path, kw);
        if (rc)
            return rc;
        if (d->toks[all].type != NATTEL__JARRAY || d->toks[all].members != 2)
            return bad(l, path, "'allOf' must be [{\"$ref\": ...}, {bounds}]");
        unsigned first = all + 1,
                 second = (unsigned)NATTEL__JNEXT(&d->toks[first]);
        unsigned r = get(d, first, "$ref");
        if (!r || d->toks[first].members != 1 ||
            d->toks[second].type != NATTEL__JOBJECT)
            return bad(l, path, "'allOf' must be [{\"$ref\": ...}, {bounds}]");
        rc = read_ref(l, r, path, f);
        if (!rc)
            rc = check_keywords(l, second, path, bound_kw);
        if (rc)
            return rc;
        if (f->kind != NATTEL_KIND_INT64 && f->kind != NATTEL_KIND_NUMBER)
            return bad(l, path, "bounds in 'allOf' apply to numbers only");
        unsigned min = get(d, second, "minimum"),
                 max = get(d, second, "maximum");
        rc = read_bounds(l, min, max, path, f);
        if (rc)
            return rc;
        f->flags |=
            (min ? NATTEL_FIELD_HAS_MIN : 0) | (max ? NATTEL_FIELD_HAS_MAX : 0);
        return NATTEL_OK;
    }
    return read_inline(l, def, path, f->wire_name, f);
}

static nattel_code read_event(loader *l, unsigned key, unsigned def,
                              const char *version)
{
    const nattel__jdoc *d = l->d;
    char path[300];
    nattel_str raw = nattel__json_raw(d, key);
    snprintf(path, sizeof path, "definitions.events.%.*s",
             (int)(raw.len > 100 ? 100 : raw.len), raw.ptr);
    if (d->toks[def].type != NATTEL__JOBJECT)
        return bad(l, path, "an event must be an object");
    static const char *const kw[] = {
        "description",          "type",     "eventMeta", "properties",
        "additionalProperties", "required", "title",     NULL};
    nattel_code rc = check_keywords(l, def, path, kw);
    if (rc)
        return rc;
    unsigned props = get(d, def, "properties"), req = get(d, def, "required");
    unsigned addl = get(d, def, "additionalProperties"),
             type = get(d, def, "type");
    if (!is_type(d, type, "object"))
        return bad(l, path, "'type' must be \"object\"");
    if (!addl || nattel__json_lead(d, addl) != 'f' ||
        d->toks[addl].type != NATTEL__JPRIMITIVE)
        return bad(l, path,
                   "'additionalProperties' must be false (strict events only)");
    if (!props || d->toks[props].type != NATTEL__JOBJECT)
        return bad(l, path, "'properties' must be an object");
    if (req && d->toks[req].type != NATTEL__JARRAY)
        return bad(l, path, "'required' must be an array of names");
    size_t n = (size_t)d->toks[props].members;
    /* Checked before the field table is built: registration would refuse
     * the type anyway, after work proportional to the count squared. */
    if (n > NATTEL__MAX_FIELDS)
        return natx_fail(l->err, NATTEL_ELIMIT,
                         "%s: %s: event '%.*s' has %zu fields; at most %d "
                         "are supported",
                         l->source, path, (int)(raw.len > 100 ? 100 : raw.len),
                         raw.ptr, n, NATTEL__MAX_FIELDS);
    nattel_event_type *et = nattel__registry_own(l->reg, calloc(1, sizeof *et));
    nattel_field *fields =
        nattel__registry_own(l->reg, calloc(n ? n : 1, sizeof *fields));
    if (et && fields)
        et->name = owned_string(l, key);
    if (!et || !fields || !et->name)
        return natx_fail(l->err, NATTEL_ENOMEM, "out of memory");
    unsigned k = props + 1;
    for (size_t i = 0; i < n; i++) {
        char fpath[400];
        nattel_str fk = nattel__json_raw(d, k);
        snprintf(fpath, sizeof fpath, "%s.properties.%.*s", path,
                 (int)(fk.len > 60 ? 60 : fk.len), fk.ptr);
        nattel_field *f = &fields[i];
        f->wire_name = owned_string(l, k);
        f->c_name = f->wire_name ? snake_case(l, f->wire_name) : NULL;
        if (!f->c_name)
            return natx_fail(l->err, NATTEL_ENOMEM, "out of memory");
        if (!strcmp(f->c_name, f->wire_name))
            f->c_name = NULL;
        f->flags = NATTEL_FIELD_WIRE_OPTIONAL;
        rc = read_property(l, k + 1, fpath, f);
        if (rc)
            return rc;
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
    if (req) {
        unsigned r = req + 1;
        for (int j = 0; j < d->toks[req].members; j++) {
            int idx = -1;
            if (nattel__json_is_string(d, r)) {
                for (size_t i = 0; i < n && idx < 0; i++)
                    if (nattel__json_string_eq(d, r, fields[i].wire_name,
                                               strlen(fields[i].wire_name)))
                        idx = (int)i;
            }
            if (idx < 0)
                return bad(
                    l, path, "'required' names %s that is not a property",
                    nattel__json_is_string(d, r) ? "a field" : "a non-string");
            fields[idx].flags &= ~NATTEL_FIELD_WIRE_OPTIONAL;
            r = (unsigned)NATTEL__JNEXT(&d->toks[r]);
        }
    }
    unsigned desc = get(d, def, "description"), meta = get(d, def, "eventMeta");
    unsigned gdpr = meta ? get(d, meta, "gdpr") : 0;
    unsigned cat = gdpr ? get(d, gdpr, "category") : 0;
    unsigned gdesc = gdpr ? get(d, gdpr, "description") : 0;
    et->description =
        desc && nattel__json_is_string(d, desc) ? owned_string(l, desc) : "";
    et->gdpr_category =
        cat && nattel__json_is_string(d, cat) ? owned_string(l, cat) : NULL;
    et->gdpr_description = gdesc && nattel__json_is_string(d, gdesc)
                               ? owned_string(l, gdesc)
                               : NULL;
    et->schema_version = version;
    et->fields = fields;
    et->field_count = n;
    if (nattel_registry_add(l->reg, et, l->err))
        return nattel__prefix(l->err, "%s: %s", l->source, path);
    return NATTEL_OK;
}

nattel_code nattel_registry_load_schema(nattel_registry *reg, const char *json,
                                        size_t len, const char *source,
                                        nattel_error *err)
{
    nattel_error local;
    if (!err)
        err = &local;
    nattel__jdoc d;
    loader l = {reg, &d, source ? source : "<schema>", err, 0};
    nattel_code rc = nattel__json_parse(&d, json, len, err);
    if (rc) {
        nattel__json_release(&d);
        return nattel__prefix(err, "%s", l.source);
    }
    unsigned defs = get(&d, 0, "definitions");
    unsigned events = defs ? get(&d, defs, "events") : 0;
    unsigned meta = get(&d, 0, "schemaMeta");
    unsigned ver = meta ? get(&d, meta, "schemaVersion") : 0;
    l.types = defs ? get(&d, defs, "types") : 0;
    const char *version = NULL;
    if (d.toks[0].type != NATTEL__JOBJECT)
        rc = bad(&l, "$", "a schema must be an object");
    else if (!events || d.toks[events].type != NATTEL__JOBJECT)
        rc = bad(&l, "definitions.events", "missing or not an object");
    else if (l.types && d.toks[l.types].type != NATTEL__JOBJECT)
        rc = bad(&l, "definitions.types", "not an object");
    else if (ver && nattel__json_is_string(&d, ver))
        version = owned_string(&l, ver);
    if (!rc && (!version || !*version))
        rc = bad(&l, "schemaMeta.schemaVersion",
                 "missing or not a non-empty string");
    if (!rc && d.toks[events].members == 0)
        rc = bad(&l, "definitions.events", "defines no event");
    /* All of a file's events, or none: a failed load leaves the registry
     * as it was (what it allocated stays owned, and is freed with it). */
    size_t before = reg->count;
    unsigned k = events + 1;
    for (int i = 0; !rc && i < d.toks[events].members; i++) {
        rc = read_event(&l, k, k + 1, version);
        k = (unsigned)NATTEL__JNEXT(&d.toks[k + 1]);
    }
    if (rc)
        reg->count = before;
    nattel__json_release(&d);
    return rc;
}

nattel_code nattel_registry_load_schema_file(nattel_registry *reg,
                                             const char *path,
                                             nattel_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return natx_fail(err, NATTEL_EIO, "cannot open schema '%s': %s", path,
                         strerror(errno));
    nattel_buf b = NATTEL_BUF_INIT;
    char chunk[65536];
    size_t n;
    nattel_code rc = NATTEL_OK;
    for (n = fread(chunk, 1, sizeof chunk, f); n > 0;
         n = fread(chunk, 1, sizeof chunk, f)) {
        if (b.len + n > NATTEL_JSON_MAX_BYTES) {
            rc = natx_fail(err, NATTEL_ELIMIT,
                           "schema '%s' is larger than %u bytes", path,
                           NATTEL_JSON_MAX_BYTES);
            break;
        }
        rc = nattel_buf_append(&b, chunk, n);
        if (rc) {
            rc = natx_fail(err, rc, "out of memory reading '%s'", path);
            break;
        }
    }
    if (!rc && ferror(f))
        rc = natx_fail(err, NATTEL_EIO, "cannot read schema '%s': %s", path,
                       strerror(errno));
    fclose(f);
    if (!rc)
        rc = nattel_registry_load_schema(reg, b.data ? b.data : "", b.len, path,
                                         err);
    nattel_buf_free(&b);
    return rc;
}
