/*
 * What changed between two schema files in the shared layout (schemaMeta,
 * definitions.types, definitions.events), each change classed for a
 * sender that keeps the old definition: breaking when its payloads would
 * now be refused, compatible otherwise. Works on the JSON itself, not on
 * loaded types, because what it reports (definitionVersion, shared types
 * no event uses, additionalProperties) is not kept by the loader.
 */
#include "json/nattel_json.h"
#include "model/nattel_error.h"
#include "natx/natx_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A name shown in paths: at most this many bytes of it. */
#define NAME_SHOWN 120

typedef struct side {
    nattel__jdoc d;
    unsigned types;  /* definitions.types, 0 when absent */
    unsigned events; /* definitions.events */
    unsigned meta;   /* schemaMeta, 0 when absent */
} side;

typedef struct differ {
    side a, b;
    nattel_schema_diff *out;
    nattel_code rc; /* the first NATTEL_ENOMEM, sticky */
} differ;

/* Value token of `key` in object token `obj` (0: the root); 0 when
 * absent. */
static unsigned get_in(const nattel__jdoc *d, unsigned obj, const char *key)
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

/* As get_in, where 0 means "no object": never the root. */
static unsigned get(const nattel__jdoc *d, unsigned obj, const char *key)
{
    return obj ? get_in(d, obj, key) : 0;
}

/* The member of `obj` whose key equals string token `key` of doc `kd`. */
static unsigned get_tok(const nattel__jdoc *d, unsigned obj,
                        const nattel__jdoc *kd, unsigned key)
{
    nattel_str raw = nattel__json_raw(kd, key);
    char *name = malloc(raw.len + 1);
    if (!name)
        return 0;
    size_t n = nattel__json_decode_string(kd, key, name);
    unsigned v = 0;
    if (obj && d->toks[obj].type == NATTEL__JOBJECT) {
        unsigned k = obj + 1;
        for (int i = 0; i < d->toks[obj].members && !v; i++) {
            if (nattel__json_string_eq(d, k, name, n))
                v = k + 1;
            k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
        }
    }
    free(name);
    return v;
}

/* A string token as a person reads it in one line: decoded, cut at
 * NAME_SHOWN bytes, control characters as '?'. */
static void shown(const nattel__jdoc *d, unsigned t, char *out, size_t cap)
{
    if (!t || !nattel__json_is_string(d, t)) {
        snprintf(out, cap, "%s", t ? nattel__json_type_name(d, t) : "none");
        return;
    }
    nattel_str raw = nattel__json_raw(d, t);
    char *s = malloc(raw.len + 1);
    if (!s) {
        snprintf(out, cap, "?");
        return;
    }
    size_t n = nattel__json_decode_string(d, t, s);
    size_t m = n < cap - 1 ? n : cap - 1;
    for (size_t i = 0; i < m; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    out[m] = '\0';
    free(s);
}

static void add(differ *df, int breaking, const char *change, const char *path,
                const char *fmt, ...) NATX_PRINTF(5, 6);

static void add(differ *df, int breaking, const char *change, const char *path,
                const char *fmt, ...)
{
    nattel_schema_diff *o = df->out;
    if (df->rc)
        return;
    char detail[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (o->count == o->cap && NATX_GROW(o->items, o->cap, o->count + 1)) {
        df->rc = NATTEL_ENOMEM;
        return;
    }
    nattel_schema_change *c = &o->items[o->count];
    c->path = strdup(path);
    c->detail = strdup(detail);
    c->change = change;
    c->breaking = breaking;
    if (!c->path || !c->detail) {
        free(c->path);
        free(c->detail);
        df->rc = NATTEL_ENOMEM;
        return;
    }
    o->count++;
    o->breaking += breaking != 0;
}

/* ---------------------------------------------------------------- */
/* A property's or shared type's shape, resolved                     */
/* ---------------------------------------------------------------- */

typedef struct shape {
    unsigned def;      /* the definition the kind came from */
    unsigned ref;      /* "$ref" token, 0 for an inline definition */
    unsigned type;     /* "type" token */
    unsigned en;       /* "enum" token */
    unsigned items;    /* "items" token */
    unsigned min, max; /* effective bounds (allOf's win over the type's) */
    unsigned local_min, local_max; /* bounds in the property's allOf */
} shape;

static unsigned resolve_ref(const side *s, unsigned ref)
{
    static const char prefix[] = "#/definitions/types/";
    const nattel__jdoc *d = &s->d;
    if (!ref || !nattel__json_is_string(d, ref) || !s->types)
        return 0;
    nattel_str raw = nattel__json_raw(d, ref);
    if (raw.len <= sizeof prefix - 1 ||
        memcmp(raw.ptr, prefix, sizeof prefix - 1))
        return 0;
    const char *name = raw.ptr + sizeof prefix - 1;
    size_t n = raw.len - (sizeof prefix - 1);
    unsigned k = s->types + 1;
    for (int i = 0; i < d->toks[s->types].members; i++) {
        if (nattel__json_string_eq(d, k, name, n))
            return k + 1;
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
    return 0;
}

static void shape_of(const side *s, unsigned def, shape *sh)
{
    const nattel__jdoc *d = &s->d;
    memset(sh, 0, sizeof *sh);
    unsigned all = get(d, def, "allOf");
    unsigned body = def;
    if (all && d->toks[all].type == NATTEL__JARRAY &&
        d->toks[all].members >= 1) {
        unsigned first = all + 1;
        sh->ref = get(d, first, "$ref");
        if (d->toks[all].members >= 2) {
            unsigned second = (unsigned)NATTEL__JNEXT(&d->toks[first]);
            sh->local_min = get(d, second, "minimum");
            sh->local_max = get(d, second, "maximum");
        }
    } else {
        sh->ref = get(d, def, "$ref");
    }
    if (sh->ref)
        body = resolve_ref(s, sh->ref);
    sh->def = body;
    sh->type = get(d, body, "type");
    sh->en = get(d, body, "enum");
    sh->items = get(d, body, "items");
    sh->min = sh->local_min ? sh->local_min : get(d, body, "minimum");
    sh->max = sh->local_max ? sh->local_max : get(d, body, "maximum");
}

/* The JSON text of a token, cut for messages. */
static void text_of(const nattel__jdoc *d, unsigned t, char *out, size_t cap)
{
    if (!t) {
        snprintf(out, cap, "none");
        return;
    }
    if (nattel__json_is_string(d, t)) {
        shown(d, t, out, cap);
        return;
    }
    int n = d->toks[t].end - d->toks[t].start;
    snprintf(out, cap, "%.*s", n > 60 ? 60 : n, d->src + d->toks[t].start);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

static int same_token(const nattel__jdoc *a, unsigned ta, const nattel__jdoc *b,
                      unsigned tb)
{
    if (!ta || !tb)
        return !ta && !tb;
    int na = a->toks[ta].end - a->toks[ta].start;
    int nb = b->toks[tb].end - b->toks[tb].start;
    return a->toks[ta].type == b->toks[tb].type && na == nb &&
           !memcmp(a->src + a->toks[ta].start, b->src + b->toks[tb].start,
                   (size_t)na);
}

/* A bound as a number; `has` 0 when absent or not a number. */
static double bound(const nattel__jdoc *d, unsigned t, int *has)
{
    double v = 0;
    *has = t && nattel__json_is_number(d, t) && !nattel__json_double(d, t, &v);
    return v;
}

/* One bound: `lower` for a minimum. Tighter (or new) is breaking. */
static void diff_bound(differ *df, const char *path, const char *name,
                       unsigned ta, unsigned tb, int lower)
{
    int ha, hb;
    double va = bound(&df->a.d, ta, &ha), vb = bound(&df->b.d, tb, &hb);
    if (ha == hb && (!ha || va == vb))
        return;
    char sa[80], sb[80];
    text_of(&df->a.d, ta, sa, sizeof sa);
    text_of(&df->b.d, tb, sb, sizeof sb);
    int tighter = hb && (!ha || (lower ? vb > va : vb < va));
    add(df, tighter, tighter ? "bound-tightened" : "bound-loosened", path,
        "%s %s -> %s", name, sa, sb);
}

static int enum_has(const nattel__jdoc *d, unsigned en, const nattel__jdoc *kd,
                    unsigned v)
{
    nattel_str raw = nattel__json_raw(kd, v);
    char *s = malloc(raw.len + 1);
    if (!s)
        return 1; /* out of memory: report nothing rather than a lie */
    size_t n = nattel__json_decode_string(kd, v, s);
    int found = 0;
    unsigned t = en + 1;
    for (int i = 0; i < d->toks[en].members && !found; i++) {
        found =
            nattel__json_is_string(d, t) && nattel__json_string_eq(d, t, s, n);
        t = (unsigned)NATTEL__JNEXT(&d->toks[t]);
    }
    free(s);
    return found;
}

/* Values of `from`'s enum missing in `to`'s, each reported. */
static void enum_missing(differ *df, const char *path, const nattel__jdoc *fd,
                         unsigned from, const nattel__jdoc *td, unsigned to,
                         int removed)
{
    unsigned t = from + 1;
    for (int i = 0; i < fd->toks[from].members; i++) {
        if (nattel__json_is_string(fd, t) && !enum_has(td, to, fd, t)) {
            char v[NAME_SHOWN + 1];
            shown(fd, t, v, sizeof v);
            add(df, removed,
                removed ? "enum-value-removed" : "enum-value-added", path,
                "enum value '%s' %s", v, removed ? "removed" : "added");
        }
        t = (unsigned)NATTEL__JNEXT(&fd->toks[t]);
    }
}

static int is_array(const nattel__jdoc *d, unsigned t)
{
    return t && d->toks[t].type == NATTEL__JARRAY;
}

/* Kind, enum values, item type and bounds of two resolved shapes. */
static void diff_shape(differ *df, const char *path, const shape *a,
                       const shape *b)
{
    const nattel__jdoc *da = &df->a.d, *db = &df->b.d;
    char sa[80], sb[80];
    if (!same_token(da, a->type, db, b->type) ||
        is_array(da, a->en) != is_array(db, b->en)) {
        text_of(da, a->type, sa, sizeof sa);
        text_of(db, b->type, sb, sizeof sb);
        add(df, 1, "kind-changed", path, "type %s%s -> %s%s", sa,
            is_array(da, a->en) ? " (enum)" : "", sb,
            is_array(db, b->en) ? " (enum)" : "");
        return;
    }
    if (is_array(da, a->en) && is_array(db, b->en)) {
        enum_missing(df, path, da, a->en, db, b->en, 1);
        enum_missing(df, path, db, b->en, da, a->en, 0);
    }
    unsigned ia = get(da, a->items, "type"), ib = get(db, b->items, "type");
    if (!same_token(da, ia, db, ib)) {
        text_of(da, ia, sa, sizeof sa);
        text_of(db, ib, sb, sizeof sb);
        add(df, 1, "kind-changed", path, "items type %s -> %s", sa, sb);
    }
    diff_bound(df, path, "minimum", a->min, b->min, 1);
    diff_bound(df, path, "maximum", a->max, b->max, 0);
}

/* Two shared types of one name. */
static void diff_type(differ *df, const char *path, unsigned ta, unsigned tb)
{
    shape a, b;
    shape_of(&df->a, ta, &a);
    shape_of(&df->b, tb, &b);
    diff_shape(df, path, &a, &b);
}

/* ---------------------------------------------------------------- */
/* Events and their properties                                       */
/* ---------------------------------------------------------------- */

static int is_required(const nattel__jdoc *d, unsigned event,
                       const nattel__jdoc *kd, unsigned key)
{
    unsigned req = get(d, event, "required");
    return is_array(d, req) && enum_has(d, req, kd, key);
}

static void key_path(char *out, size_t cap, const char *prefix,
                     const nattel__jdoc *d, unsigned key)
{
    char name[NAME_SHOWN + 1];
    shown(d, key, name, sizeof name);
    snprintf(out, cap, "%s.%s", prefix, name);
}

static void diff_property(differ *df, const char *path, unsigned pa,
                          unsigned pb)
{
    shape a, b;
    shape_of(&df->a, pa, &a);
    shape_of(&df->b, pb, &b);
    /* One shared type on both sides: its own changes are reported once,
     * under definitions.types; only the property's own bounds here. */
    if (a.ref && b.ref && same_token(&df->a.d, a.ref, &df->b.d, b.ref)) {
        diff_bound(df, path, "minimum", a.local_min, b.local_min, 1);
        diff_bound(df, path, "maximum", a.local_max, b.local_max, 0);
        return;
    }
    diff_shape(df, path, &a, &b);
}

/* Properties of `from` missing in `to`: added (new side) or removed. */
static void props_missing(differ *df, const char *path, const side *from,
                          unsigned ef, const side *to, unsigned et, int removed)
{
    const nattel__jdoc *d = &from->d;
    unsigned pf = get(d, ef, "properties"), pt = get(&to->d, et, "properties");
    if (!pf || d->toks[pf].type != NATTEL__JOBJECT)
        return;
    unsigned k = pf + 1;
    for (int i = 0; i < d->toks[pf].members; i++) {
        char fpath[600];
        key_path(fpath, sizeof fpath, path, d, k);
        if (!get_tok(&to->d, pt, d, k)) {
            int req = is_required(d, ef, d, k);
            if (removed)
                add(df, 1, "field-removed", fpath, "field removed");
            else
                add(df, req, "field-added", fpath, "field added, %s",
                    req ? "required" : "optional");
        }
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
}

static void diff_event(differ *df, const char *path, unsigned ea, unsigned eb)
{
    const nattel__jdoc *da = &df->a.d, *db = &df->b.d;
    char ppath[600], sa[80], sb[80];
    snprintf(ppath, sizeof ppath, "%s.properties", path);
    props_missing(df, ppath, &df->a, ea, &df->b, eb, 1);
    props_missing(df, ppath, &df->b, eb, &df->a, ea, 0);
    unsigned pa = get(da, ea, "properties"), pb = get(db, eb, "properties");
    if (pa && da->toks[pa].type == NATTEL__JOBJECT) {
        unsigned k = pa + 1;
        for (int i = 0; i < da->toks[pa].members; i++) {
            unsigned vb = get_tok(db, pb, da, k);
            if (vb) {
                char fpath[800];
                key_path(fpath, sizeof fpath, ppath, da, k);
                diff_property(df, fpath, k + 1, vb);
                int ra = is_required(da, ea, da, k),
                    rb = is_required(db, eb, da, k);
                if (ra != rb)
                    add(df, rb, rb ? "required-added" : "required-removed",
                        fpath, "%s",
                        rb ? "now required" : "no longer required");
            }
            k = (unsigned)NATTEL__JNEXT(&da->toks[k + 1]);
        }
    }
    unsigned aa = get(da, ea, "additionalProperties"),
             ab = get(db, eb, "additionalProperties");
    if (!same_token(da, aa, db, ab)) {
        text_of(da, aa, sa, sizeof sa);
        text_of(db, ab, sb, sizeof sb);
        /* Only false refuses a key; absent means true. */
        int closes = ab && nattel__json_lead(db, ab) == 'f';
        char apath[700];
        snprintf(apath, sizeof apath, "%s.additionalProperties", path);
        add(df, closes, "additional-properties-changed", apath, "%s -> %s", sa,
            sb);
    }
}

/* Members of object `oa` (side a) missing in `ob` (side b), or the other
 * way round; then each member both have, compared by `each`. */
static void diff_members(differ *df, const char *prefix, unsigned oa,
                         unsigned ob, const char *what, int removed_breaks,
                         void (*each)(differ *, const char *, unsigned,
                                      unsigned))
{
    const nattel__jdoc *da = &df->a.d, *db = &df->b.d;
    char path[600];
    /* Static names for the changes: the list keeps the pointer. */
    const char *removed =
        !strcmp(what, "event") ? "event-removed" : "type-removed";
    const char *added = !strcmp(what, "event") ? "event-added" : "type-added";
    unsigned k = oa ? oa + 1 : 0;
    for (int i = 0; oa && i < da->toks[oa].members; i++) {
        key_path(path, sizeof path, prefix, da, k);
        unsigned vb = get_tok(db, ob, da, k);
        if (!vb)
            add(df, removed_breaks, removed, path, "%s removed", what);
        else
            each(df, path, k + 1, vb);
        k = (unsigned)NATTEL__JNEXT(&da->toks[k + 1]);
    }
    k = ob ? ob + 1 : 0;
    for (int i = 0; ob && i < db->toks[ob].members; i++) {
        if (!get_tok(da, oa, db, k)) {
            key_path(path, sizeof path, prefix, db, k);
            add(df, 0, added, path, "%s added", what);
        }
        k = (unsigned)NATTEL__JNEXT(&db->toks[k + 1]);
    }
}

static void diff_meta(differ *df, const char *key)
{
    unsigned a = get(&df->a.d, df->a.meta, key),
             b = get(&df->b.d, df->b.meta, key);
    if (same_token(&df->a.d, a, &df->b.d, b))
        return;
    char sa[NAME_SHOWN + 1], sb[NAME_SHOWN + 1], path[64];
    text_of(&df->a.d, a, sa, sizeof sa);
    text_of(&df->b.d, b, sb, sizeof sb);
    snprintf(path, sizeof path, "schemaMeta.%s", key);
    add(df, 0,
        !strcmp(key, "schemaVersion") ? "schema-version-changed"
                                      : "definition-version-changed",
        path, "%s %s -> %s", key, sa, sb);
}

static nattel_code open_side(side *s, const char *json, size_t len,
                             const char *source, nattel_error *err)
{
    nattel_code rc = nattel__json_parse(&s->d, json, len, err);
    if (rc)
        return nattel__prefix(err, "%s", source);
    unsigned defs = get_in(&s->d, 0, "definitions");
    s->events = get(&s->d, defs, "events");
    s->types = get(&s->d, defs, "types");
    s->meta = get_in(&s->d, 0, "schemaMeta");
    if (!s->events || s->d.toks[s->events].type != NATTEL__JOBJECT)
        return natx_fail(err, NATTEL_ESCHEMA,
                         "%s: definitions.events: missing or not an object "
                         "(not a schema in the shared layout)",
                         source);
    if (s->types && s->d.toks[s->types].type != NATTEL__JOBJECT)
        return natx_fail(err, NATTEL_ESCHEMA,
                         "%s: definitions.types: not an object", source);
    return NATTEL_OK;
}

nattel_code nattel_schema_diff_run(const char *old_json, size_t old_len,
                                   const char *old_source, const char *new_json,
                                   size_t new_len, const char *new_source,
                                   nattel_schema_diff *out, nattel_error *err)
{
    if (!old_json || !new_json || !out)
        return natx_fail(err, NATTEL_EINVAL, "schema diff: NULL argument");
    memset(out, 0, sizeof *out);
    differ df;
    memset(&df, 0, sizeof df);
    df.out = out;
    nattel_code rc = open_side(&df.a, old_json, old_len,
                               old_source ? old_source : "<old>", err);
    int b_open = 0;
    if (!rc) {
        b_open = 1;
        rc = open_side(&df.b, new_json, new_len,
                       new_source ? new_source : "<new>", err);
    }
    if (!rc) {
        diff_meta(&df, "schemaVersion");
        diff_meta(&df, "definitionVersion");
        diff_members(&df, "definitions.types", df.a.types, df.b.types, "type",
                     0, diff_type);
        diff_members(&df, "definitions.events", df.a.events, df.b.events,
                     "event", 1, diff_event);
        rc = df.rc;
        if (rc)
            natx_fail(err, rc, "schema diff: out of memory");
    }
    nattel__json_release(&df.a.d);
    if (b_open)
        nattel__json_release(&df.b.d);
    if (rc)
        nattel_schema_diff_free(out);
    return rc;
}

void nattel_schema_diff_free(nattel_schema_diff *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].path);
        free(d->items[i].detail);
    }
    free(d->items);
    memset(d, 0, sizeof *d);
}
