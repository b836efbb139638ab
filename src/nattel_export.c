/* JSON Schema export of the registry's event types, in the layout of the
 * shared anonymous_events.json, and the pretty-printer it uses. */
#include "nattel_error.h"
#include "nattel_json.h"
#include "nattel_registry.h"

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Pretty printer                                                    */
/* ---------------------------------------------------------------- */

static nattel_code indent(nattel_buf *b, unsigned level)
{
    static const char spaces[] = "                                ";
    nattel_code rc = NATTEL__PUT_LIT(b, "\n");
    for (unsigned i = 0; !rc && i < level; i++)
        rc = nattel_buf_append(b, spaces, 4);
    return rc;
}

static nattel_code pretty(nattel_buf *b, const nattel__jdoc *d, unsigned t,
                          unsigned level)
{
    const nattel__jtok *tok = &d->toks[t];
    if (tok->type != JSMN_OBJECT && tok->type != JSMN_ARRAY)
        return nattel__json_put_token(b, d, t);
    int is_obj = tok->type == JSMN_OBJECT;
    nattel_code rc = nattel_buf_append(b, is_obj ? "{" : "[", 1);
    if (tok->size == 0)
        return rc ? rc : nattel_buf_append(b, is_obj ? "}" : "]", 1);
    unsigned c = t + 1;
    for (int k = 0; !rc && k < tok->size; k++) {
        if ((k && (rc = NATTEL__PUT_LIT(b, ","))) ||
            (rc = indent(b, level + 1)))
            break;
        if (is_obj) {
            if ((rc = nattel__json_put_token(b, d, c)) ||
                (rc = NATTEL__PUT_LIT(b, ": ")))
                break;
            c++;
        }
        rc = pretty(b, d, c, level + 1);
        c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
    }
    if (!rc)
        rc = indent(b, level);
    return rc ? rc : nattel_buf_append(b, is_obj ? "}" : "]", 1);
}

nattel_code nattel__json_pretty(const char *json, size_t len, nattel_buf *out,
                                nattel_error *err)
{
    nattel__jdoc d;
    nattel_code rc = nattel__json_parse(&d, json, len, err);
    if (!rc &&
        ((rc = pretty(out, &d, 0, 0)) || (rc = NATTEL__PUT_LIT(out, "\n"))))
        rc = nattel__fail(err, rc, "out of memory");
    nattel__json_release(&d);
    return rc;
}

/* ---------------------------------------------------------------- */
/* Export                                                            */
/* ---------------------------------------------------------------- */

static nattel_code str(nattel_buf *b, const char *s)
{
    return nattel__json_put_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* "key":"value" with a leading comma unless first. */
static nattel_code kv(nattel_buf *b, int comma, const char *key,
                      const char *value)
{
    nattel_code rc = comma ? NATTEL__PUT_LIT(b, ",") : NATTEL_OK;
    if (!rc)
        rc = str(b, key);
    if (!rc)
        rc = NATTEL__PUT_LIT(b, ":");
    return rc ? rc : str(b, value);
}

static nattel_code key(nattel_buf *b, int comma, const char *k)
{
    nattel_code rc = comma ? NATTEL__PUT_LIT(b, ",") : NATTEL_OK;
    if (!rc)
        rc = str(b, k);
    return rc ? rc : NATTEL__PUT_LIT(b, ":");
}

/* "$ref":"#/definitions/<section>/<name>", with a leading comma unless
 * first; built in full, so no name is cut short. */
static nattel_code ref_kv(nattel_buf *b, int comma, const char *section,
                          const char *name)
{
    nattel_buf target = NATTEL_BUF_INIT;
    nattel_code rc = NATTEL__PUT_LIT(&target, "#/definitions/");
    if (!rc)
        rc = nattel_buf_append(&target, section, strlen(section));
    if (!rc)
        rc = nattel_buf_append(&target, "/", 1);
    if (!rc)
        rc = nattel_buf_append(&target, name, strlen(name));
    if (!rc)
        rc = kv(b, comma, "$ref", target.data);
    nattel_buf_free(&target);
    return rc;
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

static nattel_code put_shared_types(nattel_buf *b, const nattel_registry *reg,
                                    const char *only)
{
    nattel_code rc = NATTEL__PUT_LIT(b, "\"types\":{");
    int comma = 0;
    for (size_t ti = 0; !rc && ti < reg->count; ti++) {
        const nattel_event_type *t = reg->types[ti];
        if (!selected(t, only))
            continue;
        for (size_t fi = 0; !rc && fi < t->field_count; fi++) {
            const nattel_field *f = &t->fields[fi];
            if (f->kind == NATTEL_KIND_ENUM) {
                const nattel_enum_type *e = f->enum_type;
                if (type_seen(reg, only, ti, fi, e->name))
                    continue;
                if ((rc = key(b, comma, e->name)) ||
                    (rc = NATTEL__PUT_LIT(b, "{")) ||
                    (rc = kv(b, 0, "type", "string")) ||
                    (rc = kv(b, 1, "description", e->description)) ||
                    (rc = NATTEL__PUT_LIT(b, ",\"enum\":[")))
                    break;
                for (size_t k = 0; !rc && k < e->count; k++) {
                    if (k)
                        rc = NATTEL__PUT_LIT(b, ",");
                    if (!rc)
                        rc = str(b, e->values[k]);
                }
                if (!rc)
                    rc = NATTEL__PUT_LIT(b, "]}");
                comma = 1;
            } else if (f->type_ref &&
                       !type_seen(reg, only, ti, fi, f->type_ref)) {
                if ((rc = key(b, comma, f->type_ref)) ||
                    (rc = NATTEL__PUT_LIT(b, "{")) ||
                    (rc = kv(b, 0, "type", "integer")) ||
                    (rc = kv(b, 1, "description",
                             "Numeric count (bytes, tokens, milliseconds, exit "
                             "codes), restricted to signed 64-bit integer "
                             "range.")) ||
                    (rc = NATTEL__PUT_LIT(b,
                                          ",\"maximum\":9223372036854775807,"
                                          "\"minimum\":-9223372036854775808}")))
                    break;
                comma = 1;
            }
        }
    }
    return rc ? rc : NATTEL__PUT_LIT(b, "}");
}

/* ,"minimum":N,"maximum":M — without the first comma when `first`. */
static nattel_code put_bounds(nattel_buf *b, const nattel_field *f, int first)
{
    char tmp[64];
    nattel_code rc = NATTEL_OK;
    if (f->flags & NATTEL_FIELD_HAS_MIN) {
        snprintf(tmp, sizeof tmp, ",\"minimum\":%.17g", f->minimum);
        rc = nattel_buf_append(b, tmp + first, strlen(tmp + first));
        first = 0;
    }
    if (!rc && (f->flags & NATTEL_FIELD_HAS_MAX)) {
        snprintf(tmp, sizeof tmp, ",\"maximum\":%.17g", f->maximum);
        rc = nattel_buf_append(b, tmp + first, strlen(tmp + first));
    }
    return rc;
}

static nattel_code put_property(nattel_buf *b, const nattel_field *f)
{
    nattel_code rc = NATTEL__PUT_LIT(b, "{");
    if (!rc)
        rc = kv(b, 0, "description", f->description);
    if (rc)
        return rc;
    const char *ref =
        f->kind == NATTEL_KIND_ENUM ? f->enum_type->name : f->type_ref;
    int bounded =
        (f->flags & (NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX)) != 0;
    if (ref && bounded) {
        /* {"allOf": [{"$ref": ...}, {"minimum": -1}]}, as the reference. */
        if ((rc = NATTEL__PUT_LIT(b, ",\"allOf\":[{")) ||
            (rc = ref_kv(b, 0, "types", ref)) ||
            (rc = NATTEL__PUT_LIT(b, "},{")) || (rc = put_bounds(b, f, 1)))
            return rc;
        return NATTEL__PUT_LIT(b, "}]}");
    }
    if (ref) {
        if ((rc = ref_kv(b, 1, "types", ref)))
            return rc;
        return NATTEL__PUT_LIT(b, "}");
    }
    if ((rc = kv(b, 1, "type", nattel_kind_name(f->kind))))
        return rc;
    if (f->kind == NATTEL_KIND_STRING_ARRAY &&
        (rc = NATTEL__PUT_LIT(
             b, ",\"items\":{\"type\":\"string\",\"description\":\"\"}")))
        return rc;
    if ((rc = put_bounds(b, f, 0)))
        return rc;
    return NATTEL__PUT_LIT(b, "}");
}

static nattel_code put_event(nattel_buf *b, const nattel_event_type *t)
{
    nattel_code rc;
    if ((rc = kv(b, 0, "description", t->description)) ||
        (rc = kv(b, 1, "type", "object")) || (rc = key(b, 1, "eventMeta")) ||
        (rc = NATTEL__PUT_LIT(b, "{")) ||
        (rc = kv(b, 0, "service", "telemetry")) || (rc = key(b, 1, "gdpr")) ||
        (rc = NATTEL__PUT_LIT(b, "{")) ||
        (rc = kv(b, 0, "category",
                 t->gdpr_category ? t->gdpr_category : "functional")) ||
        (rc = kv(b, 1, "description", t->gdpr_description)) ||
        (rc = kv(b, 1, "personalization", "")) ||
        (rc = NATTEL__PUT_LIT(b, "}}")) || (rc = key(b, 1, "properties")) ||
        (rc = NATTEL__PUT_LIT(b, "{")))
        return rc;
    for (size_t i = 0; i < t->field_count; i++)
        if ((rc = key(b, i > 0, t->fields[i].wire_name)) ||
            (rc = put_property(b, &t->fields[i])))
            return rc;
    if ((rc = NATTEL__PUT_LIT(
             b, "},\"additionalProperties\":false,\"required\":[")))
        return rc;
    int comma = 0;
    for (size_t i = 0; i < t->field_count; i++) {
        if (t->fields[i].flags & NATTEL_FIELD_WIRE_OPTIONAL)
            continue;
        if ((comma && (rc = NATTEL__PUT_LIT(b, ","))) ||
            (rc = str(b, t->fields[i].wire_name)))
            return rc;
        comma = 1;
    }
    return NATTEL__PUT_LIT(b, "]");
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
        return nattel__fail(err, NATTEL_ENOTFOUND, "no event type named '%s'",
                            only ? only : "");
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_code rc;
    if ((rc = NATTEL__PUT_LIT(&b, "{")) ||
        (rc =
             kv(&b, 0, "$schema", "http://json-schema.org/draft-07/schema#")) ||
        (rc = kv(&b, 1, "description", "Schemas for anonymous NeMo events.")) ||
        (rc = key(&b, 1, "schemaMeta")) || (rc = NATTEL__PUT_LIT(&b, "{")) ||
        (rc = kv(&b, 0, "clientName", "NeMo_Anonymous_Telemetry_Client")) ||
        (rc = kv(&b, 1, "definitionVersion", "1.0")) ||
        (rc = kv(&b, 1, "schemaVersion", version)) ||
        (rc = kv(&b, 1, "clientId", NATTEL_CLIENT_ID)) ||
        (rc = kv(&b, 1, "personalization", "")) ||
        (rc = NATTEL__PUT_LIT(&b, "},\"definitions\":{")) ||
        (rc = put_shared_types(&b, reg, only)) ||
        (rc = NATTEL__PUT_LIT(&b, ",\"events\":{")))
        goto done;
    int comma = 0;
    for (size_t i = 0; i < reg->count; i++) {
        if (!selected(reg->types[i], only))
            continue;
        if ((rc = key(&b, comma, reg->types[i]->name)) ||
            (rc = NATTEL__PUT_LIT(&b, "{")) ||
            (rc = put_event(&b, reg->types[i])) ||
            (rc = NATTEL__PUT_LIT(&b, "}")))
            goto done;
        comma = 1;
    }
    if ((rc = NATTEL__PUT_LIT(&b, "}},\"oneOf\":[")))
        goto done;
    comma = 0;
    for (size_t i = 0; i < reg->count; i++) {
        if (!selected(reg->types[i], only))
            continue;
        if ((comma && (rc = NATTEL__PUT_LIT(&b, ","))) ||
            (rc = NATTEL__PUT_LIT(&b, "{")) ||
            (rc = ref_kv(&b, 0, "events", reg->types[i]->name)) ||
            (rc = NATTEL__PUT_LIT(&b, "}")))
            goto done;
        comma = 1;
    }
    if (!(rc = NATTEL__PUT_LIT(&b, "]}")))
        rc = nattel__json_pretty(b.data, b.len, out, err);
done:
    if (rc && rc != NATTEL_EPARSE)
        rc = nattel__fail(err, rc,
                          "cannot export the schema: out of memory or "
                          "invalid UTF-8 in a description");
    nattel_buf_free(&b);
    return rc;
}
