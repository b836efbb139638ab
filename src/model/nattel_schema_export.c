/* JSON Schema export of the registry's event types, in the layout of the
 * shared anonymous_events.json, and the pretty-printer it uses. */
#include "natx/natx_jsonw.h"
#include "natx/natx_json_put.h"
#include "model/nattel_error.h"
#include "json/nattel_json.h"
#include "natx/natx_mem.h"
#include "model/nattel_registry.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Pretty printer                                                    */
/* ---------------------------------------------------------------- */

static nattel_code indent(nattel_buf *b, unsigned level)
{
    static const char spaces[] = "                                ";
    nattel_code rc = NATX_PUT_LIT(b, "\n");
    for (unsigned i = 0; !rc && i < level; i++)
        rc = nattel_buf_append(b, spaces, 4);
    return rc;
}

static nattel_code pretty(nattel_buf *b, const nattel__jdoc *d, unsigned t,
                          unsigned level)
{
    const nattel__jtok *tok = &d->toks[t];
    if (tok->type != NATTEL__JOBJECT && tok->type != NATTEL__JARRAY)
        return nattel__json_put_token(b, d, t);
    int is_obj = tok->type == NATTEL__JOBJECT;
    nattel_code rc = nattel_buf_append(b, is_obj ? "{" : "[", 1);
    if (tok->members == 0)
        return rc ? rc : nattel_buf_append(b, is_obj ? "}" : "]", 1);
    unsigned c = t + 1;
    for (int k = 0; !rc && k < tok->members; k++) {
        if (k)
            rc = NATX_PUT_LIT(b, ",");
        if (!rc)
            rc = indent(b, level + 1);
        if (!rc && is_obj) {
            rc = nattel__json_put_token(b, d, c);
            if (!rc)
                rc = NATX_PUT_LIT(b, ": ");
            c++;
        }
        if (!rc)
            rc = pretty(b, d, c, level + 1);
        c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
    }
    if (!rc)
        rc = indent(b, level);
    return rc ? rc : nattel_buf_append(b, is_obj ? "}" : "]", 1);
}

/* Pretty-prints compact JSON `json` with 4-space indents (as Python's
 * json.dumps(indent=4)), ending in a newline. */
static nattel_code json_pretty(const char *json, size_t len, nattel_buf *out,
                               nattel_error *err)
{
    nattel__jdoc d;
    nattel_code rc = nattel__json_parse(&d, json, len, err);
    if (!rc) {
        rc = pretty(out, &d, 0, 0);
        if (!rc)
            rc = NATX_PUT_LIT(out, "\n");
        if (rc)
            rc = natx_fail(err, rc, "out of memory");
    }
    nattel__json_release(&d);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Export                                                            */
/* ---------------------------------------------------------------- */

/* "key":"value"; a missing value is written as "". */
static void kv(natx_jsonw *w, const char *key, const char *value)
{
    natx_jsonw_key(w, key);
    natx_jsonw_cstring(w, value ? value : "");
}

/* "$ref":"#/definitions/<section>/<name>", built in full, so no name is
 * cut short. */
static void ref_kv(natx_jsonw *w, const char *section, const char *name)
{
    nattel_buf target = NATTEL_BUF_INIT;
    nattel_code rc = NATX_PUT_LIT(&target, "#/definitions/");
    if (!rc)
        rc = nattel_buf_append(&target, section, strlen(section));
    if (!rc)
        rc = nattel_buf_append(&target, "/", 1);
    if (!rc)
        rc = nattel_buf_append(&target, name, strlen(name));
    natx_jsonw_key(w, "$ref");
    if (rc)
        natx_jsonw_fail(w, rc, "out of memory");
    else
        natx_jsonw_string(w, target.data, target.len);
    nattel_buf_free(&target);
}

static int selected(const nattel_event_type *t, const char *only)
{
    return !only || !strcmp(only, t->name);
}

/* Whether an earlier selected field already defined shared type `name`. */
static int type_seen(const nattel_registry *reg, const char *only,
                     size_t upto_t, size_t upto_f, const char *name)
{
    for (size_t ti = 0; ti <= upto_t && ti < reg->count; ti++) {
        const nattel_event_type *t = reg->types[ti];
        if (!selected(t, only))
            continue;
        size_t nf = ti == upto_t ? upto_f : t->field_count;
        for (size_t fi = 0; fi < nf; fi++) {
            const nattel_field *f = &t->fields[fi];
            const char *n =
                f->kind == NATTEL_KIND_ENUM ? f->enum_type->name : f->type_ref;
            if (n && !strcmp(n, name))
                return 1;
        }
    }
    return 0;
}

static void put_enum_type(natx_jsonw *w, const nattel_enum_type *e)
{
    natx_jsonw_key(w, e->name);
    natx_jsonw_begin_object(w);
    kv(w, "type", "string");
    kv(w, "description", e->description);
    natx_jsonw_key(w, "enum");
    natx_jsonw_begin_array(w);
    for (size_t k = 0; k < e->count; k++)
        natx_jsonw_cstring(w, e->values[k]);
    natx_jsonw_end_array(w);
    natx_jsonw_end_object(w);
}

static void put_int_type(natx_jsonw *w, const char *name)
{
    natx_jsonw_key(w, name);
    natx_jsonw_begin_object(w);
    kv(w, "type", "integer");
    kv(w, "description",
       "Numeric count (bytes, tokens, milliseconds, exit "
       "codes), restricted to signed 64-bit integer "
       "range.");
    natx_jsonw_key(w, "maximum");
    natx_jsonw_int64(w, INT64_MAX);
    natx_jsonw_key(w, "minimum");
    natx_jsonw_int64(w, INT64_MIN);
    natx_jsonw_end_object(w);
}

static void put_shared_types(natx_jsonw *w, const nattel_registry *reg,
                             const char *only)
{
    natx_jsonw_key(w, "types");
    natx_jsonw_begin_object(w);
    for (size_t ti = 0; ti < reg->count; ti++) {
        const nattel_event_type *t = reg->types[ti];
        if (!selected(t, only))
            continue;
        for (size_t fi = 0; fi < t->field_count; fi++) {
            const nattel_field *f = &t->fields[fi];
            if (f->kind == NATTEL_KIND_ENUM) {
                if (!type_seen(reg, only, ti, fi, f->enum_type->name))
                    put_enum_type(w, f->enum_type);
            } else if (f->type_ref &&
                       !type_seen(reg, only, ti, fi, f->type_ref)) {
                put_int_type(w, f->type_ref);
            }
        }
    }
    natx_jsonw_end_object(w);
}

/* A bound as the reference writes it (-1 or 0.5: an integral bound
 * without ".0"), in every locale as in "C". */
static void put_bound(natx_jsonw *w, const char *key, double v)
{
    char tmp[NATX_JSON_DOUBLE_MAX];
    natx_jsonw_key(w, key);
    if (!isfinite(v)) {
        natx_jsonw_fail(w, NATTEL_EINVAL, "a bound that is not finite");
        return;
    }
    size_t n = natx_json_format_double(v, tmp, 0);
    natx_jsonw_raw(w, tmp, n);
}

static void put_bounds(natx_jsonw *w, const nattel_field *f)
{
    if (f->flags & NATTEL_FIELD_HAS_MIN)
        put_bound(w, "minimum", f->minimum);
    if (f->flags & NATTEL_FIELD_HAS_MAX)
        put_bound(w, "maximum", f->maximum);
}

static void put_property(natx_jsonw *w, const nattel_field *f)
{
    natx_jsonw_begin_object(w);
    kv(w, "description", f->description);
    const char *ref =
        f->kind == NATTEL_KIND_ENUM ? f->enum_type->name : f->type_ref;
    int bounded =
        (f->flags & (NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX)) != 0;
    if (ref && bounded) {
        /* {"allOf": [{"$ref": ...}, {"minimum": -1}]}, as the reference. */
        natx_jsonw_key(w, "allOf");
        natx_jsonw_begin_array(w);
        natx_jsonw_begin_object(w);
        ref_kv(w, "types", ref);
        natx_jsonw_end_object(w);
        natx_jsonw_begin_object(w);
        put_bounds(w, f);
        natx_jsonw_end_object(w);
        natx_jsonw_end_array(w);
    } else if (ref) {
        ref_kv(w, "types", ref);
    } else {
        kv(w, "type", nattel_kind_name(f->kind));
        if (f->kind == NATTEL_KIND_STRING_ARRAY) {
            natx_jsonw_key(w, "items");
            natx_jsonw_begin_object(w);
            kv(w, "type", "string");
            kv(w, "description", "");
            natx_jsonw_end_object(w);
        }
        put_bounds(w, f);
    }
    natx_jsonw_end_object(w);
}

static void put_event(natx_jsonw *w, const nattel_event_type *t)
{
    natx_jsonw_key(w, t->name);
    natx_jsonw_begin_object(w);
    kv(w, "description", t->description);
    kv(w, "type", "object");
    natx_jsonw_key(w, "eventMeta");
    natx_jsonw_begin_object(w);
    kv(w, "service", "telemetry");
    natx_jsonw_key(w, "gdpr");
    natx_jsonw_begin_object(w);
    kv(w, "category", t->gdpr_category ? t->gdpr_category : "functional");
    kv(w, "description", t->gdpr_description);
    kv(w, "personalization", "");
    natx_jsonw_end_object(w);
    natx_jsonw_end_object(w);
    natx_jsonw_key(w, "properties");
    natx_jsonw_begin_object(w);
    for (size_t i = 0; i < t->field_count; i++) {
        natx_jsonw_key(w, t->fields[i].wire_name);
        put_property(w, &t->fields[i]);
    }
    natx_jsonw_end_object(w);
    natx_jsonw_key(w, "additionalProperties");
    natx_jsonw_bool(w, 0);
    natx_jsonw_key(w, "required");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < t->field_count; i++)
        if (!(t->fields[i].flags & NATTEL_FIELD_WIRE_OPTIONAL))
            natx_jsonw_cstring(w, t->fields[i].wire_name);
    natx_jsonw_end_array(w);
    natx_jsonw_end_object(w);
}

static void put_schema(natx_jsonw *w, const nattel_registry *reg,
                       const char *only, const char *version)
{
    natx_jsonw_begin_object(w);
    kv(w, "$schema", "http://json-schema.org/draft-07/schema#");
    kv(w, "description", "Schemas for anonymous NeMo events.");
    natx_jsonw_key(w, "schemaMeta");
    natx_jsonw_begin_object(w);
    kv(w, "clientName", "NeMo_Anonymous_Telemetry_Client");
    kv(w, "definitionVersion", "1.0");
    kv(w, "schemaVersion", version);
    kv(w, "clientId", NATTEL_CLIENT_ID);
    kv(w, "personalization", "");
    natx_jsonw_end_object(w);
    natx_jsonw_key(w, "definitions");
    natx_jsonw_begin_object(w);
    put_shared_types(w, reg, only);
    natx_jsonw_key(w, "events");
    natx_jsonw_begin_object(w);
    for (size_t i = 0; i < reg->count; i++)
        if (selected(reg->types[i], only))
            put_event(w, reg->types[i]);
    natx_jsonw_end_object(w);
    natx_jsonw_end_object(w);
    natx_jsonw_key(w, "oneOf");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < reg->count; i++) {
        if (!selected(reg->types[i], only))
            continue;
        natx_jsonw_begin_object(w);
        ref_kv(w, "events", reg->types[i]->name);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
    natx_jsonw_end_object(w);
}

nattel_code nattel_registry_export_schema(const nattel_registry *reg,
                                          const char *only, nattel_buf *out,
                                          nattel_error *err)
{
    const char *version = NULL;
    for (size_t i = 0; i < reg->count && !version; i++)
        if (selected(reg->types[i], only))
            version = reg->types[i]->schema_version;
    if (!version)
        return natx_fail(err, NATTEL_ENOTFOUND, "no event type named '%s'",
                         only ? only : "");
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    natx_jsonw_init(&w, &b);
    put_schema(&w, reg, only, version);
    nattel_code rc = natx_jsonw_finish(&w, err);
    if (rc)
        rc = nattel__prefix(err, "cannot export the schema");
    else
        rc = json_pretty(b.data, b.len, out, err);
    nattel_buf_free(&b);
    return rc;
}
