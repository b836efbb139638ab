/*
 * Decoding and validation, driven by the event type tables: the wire
 * schema (NATTEL_MODE_WIRE) or the upstream model's construction rules
 * (NATTEL_MODE_MODEL). Every problem of a document is reported with its
 * path, not only the first, as pydantic's ValidationError does.
 */
#include "codec/nattel_decode.h"
#include "codec/nattel_envelope.h"
#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "json/nattel_json.h"
#include "natx/natx_utf8.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 256
#define PATH_DEPTH 16

/* One step of the path to the value being checked. The path is only
 * spelled out when a problem is reported: valid documents, the common
 * case, never pay for formatting it. */
typedef struct seg {
    const char *key; /* NULL for an array index */
    size_t len;      /* key length, or the index */
} seg;

typedef struct vctx {
    const nattel__jdoc *d;
    nattel_mode mode;
    nattel_problems *problems;
    size_t count;      /* problems found, even when not kept */
    nattel_code fatal; /* out of memory: stop */
    seg segs[PATH_DEPTH];
    size_t depth;
    unsigned dup_obj;   /* 1 + the object `dup` describes; 0 = none */
    unsigned char *dup; /* per key of that object: repeats an earlier one */
} vctx;

static void spell_path(const vctx *c, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < c->depth && i < PATH_DEPTH && o + 1 < size; i++) {
        const seg *g = &c->segs[i];
        int w = g->key ? snprintf(out + o, size - o, "%s%.*s", o ? "." : "",
                                  (int)g->len, g->key)
                       : snprintf(out + o, size - o, "[%zu]", g->len);
        if (w < 0)
            break;
        o += (size_t)w < size - o ? (size_t)w : size - o - 1;
    }
}

static void problem(vctx *c, const char *fmt, ...) NATX_PRINTF(2, 3);

static void problem(vctx *c, const char *fmt, ...)
{
    c->count++;
    if (!c->problems)
        return;
    char msg[NATTEL_ERROR_MAX], path[PATH_MAX_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    spell_path(c, path, sizeof path);
    if (nattel__problem(c->problems, path, "%s", msg))
        c->fatal = NATTEL_ENOMEM;
}

static size_t push(vctx *c, const char *key, size_t len)
{
    size_t old = c->depth;
    if (c->depth < PATH_DEPTH) {
        c->segs[c->depth].key = key;
        c->segs[c->depth].len = len;
    }
    c->depth++;
    return old;
}

static size_t push_key(vctx *c, const char *k, size_t n)
{
    return push(c, k, n);
}

static size_t push_index(vctx *c, size_t i)
{
    return push(c, NULL, i);
}

static void pop(vctx *c, size_t old)
{
    c->depth = old;
}

/* A key token as a printable path segment: its raw JSON text (escapes
 * kept, so no control characters reach a terminal), cut at
 * NATTEL__PATH_KEY_CUT bytes. */
static size_t push_token_key(vctx *c, unsigned t)
{
    nattel_str raw = nattel__json_raw(c->d, t);
    return push_key(c, raw.ptr,
                    natx_utf8_cut(raw.ptr, raw.len, NATTEL__PATH_KEY_CUT));
}

/* The JSON text of a scalar token for messages, cut at
 * NATTEL__SHOWN_VALUE_CUT bytes. */
static void show(const nattel__jdoc *d, unsigned t, char *out, size_t size)
{
    const nattel__jtok *tok = &d->toks[t];
    if (tok->type == NATTEL__JOBJECT || tok->type == NATTEL__JARRAY) {
        snprintf(out, size, "%s",
                 tok->type == NATTEL__JOBJECT ? "an object" : "an array");
        return;
    }
    size_t start = (size_t)tok->start - (tok->type == NATTEL__JSTRING);
    size_t n = (size_t)tok->end + (tok->type == NATTEL__JSTRING) - start;
    size_t cut = natx_utf8_cut(d->src + start, n, NATTEL__SHOWN_VALUE_CUT);
    snprintf(out, size, "%.*s%s", (int)cut, d->src + start,
             cut < n ? "..." : "");
}

static void wrong_type(vctx *c, unsigned t, const char *expected)
{
    char shown[NATTEL__SHOWN_BUF];
    const char *type = nattel__json_type_name(c->d, t);
    show(c->d, t, shown, sizeof shown);
    if (!strcmp(type, "null") || !strcmp(type, "boolean") || shown[0] == 'a')
        problem(c, "expected %s, got %s", expected, shown); /* "an object" */
    else
        problem(c, "expected %s, got %s %s", expected, type, shown);
}

static const char *decode_string(vctx *c, nattel_event *ev, unsigned t,
                                 size_t *len)
{
    nattel_str raw = nattel__json_raw(c->d, t);
    char *p = nattel__event_alloc(ev, raw.len + 1);
    if (!p) {
        c->fatal = NATTEL_ENOMEM;
        return NULL;
    }
    *len = nattel__json_decode_string(c->d, t, p);
    return p;
}

static void decode_enum(vctx *c, nattel_event *ev, const nattel_field *f,
                        size_t i, unsigned t)
{
    if (!nattel__json_is_string(c->d, t)) {
        wrong_type(c, t, "a string");
        return;
    }
    const nattel_enum_type *e = f->enum_type;
    for (size_t k = 0; k < e->count; k++) {
        if (nattel__json_string_eq(c->d, t, e->values[k],
                                   strlen(e->values[k]))) {
            ev->values[i].e = k;
            ev->is_set[i] = 1;
            return;
        }
    }
    char shown[NATTEL__SHOWN_BUF], list[400];
    show(c->d, t, shown, sizeof shown);
    nattel__enum_list(e, list, sizeof list);
    problem(c, "%s is not one of %s", shown, list);
}

static void decode_int(vctx *c, nattel_event *ev, const nattel_field *f,
                       size_t i, unsigned t)
{
    char shown[NATTEL__SHOWN_BUF], msg[160];
    if (!nattel__json_is_number(c->d, t)) {
        wrong_type(c, t, "an integer");
        return;
    }
    int64_t v = 0;
    switch (nattel__json_int(c->d, t, &v)) {
    case NATTEL__JNUM_INT:
        if (nattel__field_int_violation(f, v, msg, sizeof msg)) {
            problem(c, "%s", msg);
            return;
        }
        ev->values[i].i = v;
        ev->is_set[i] = 1;
        return;
    case NATTEL__JNUM_FRACTION:
        show(c->d, t, shown, sizeof shown);
        problem(c, "expected an integer, got %s", shown);
        return;
    case NATTEL__JNUM_OUT_OF_RANGE:
        show(c->d, t, shown, sizeof shown);
        problem(c, "integer %s is out of range for int64", shown);
        return;
    }
}

static void decode_number(vctx *c, nattel_event *ev, const nattel_field *f,
                          size_t i, unsigned t)
{
    char shown[NATTEL__SHOWN_BUF], msg[160];
    double v;
    if (!nattel__json_is_number(c->d, t)) {
        wrong_type(c, t, "a number");
        return;
    }
    if (nattel__json_double(c->d, t, &v)) {
        show(c->d, t, shown, sizeof shown);
        problem(c, "number %s is out of range", shown);
        return;
    }
    if (nattel__field_number_violation(f, v, msg, sizeof msg)) {
        problem(c, "%s", msg);
        return;
    }
    ev->values[i].d = v;
    ev->is_set[i] = 1;
}

static void decode_array(vctx *c, nattel_event *ev, size_t i, unsigned t)
{
    const nattel__jtok *tok = &c->d->toks[t];
    if (tok->type != NATTEL__JARRAY) {
        wrong_type(c, t, "an array of strings");
        return;
    }
    size_t n = (size_t)tok->members, bad = 0;
    nattel_str *items = n ? nattel__event_alloc(ev, n * sizeof *items) : NULL;
    if (n && !items) {
        c->fatal = NATTEL_ENOMEM;
        return;
    }
    unsigned e = t + 1;
    for (size_t k = 0; k < n; k++) {
        if (!nattel__json_is_string(c->d, e)) {
            size_t old = push_index(c, k);
            wrong_type(c, e, "a string");
            pop(c, old);
            bad++;
        } else {
            items[k].ptr = decode_string(c, ev, e, &items[k].len);
        }
        e = (unsigned)NATTEL__JNEXT(&c->d->toks[e]);
    }
    if (bad || c->fatal)
        return;
    ev->values[i].a.items = items;
    ev->values[i].a.count = n;
    ev->is_set[i] = 1;
}

static void decode_value(vctx *c, nattel_event *ev, size_t i, unsigned t)
{
    const nattel_field *f = &ev->type->fields[i];
    switch (f->kind) {
    case NATTEL_KIND_STRING:
        if (!nattel__json_is_string(c->d, t)) {
            wrong_type(c, t, "a string");
        } else {
            size_t len;
            const char *s = decode_string(c, ev, t, &len);
            if (s) {
                ev->values[i].s.ptr = s;
                ev->values[i].s.len = len;
                ev->is_set[i] = 1;
            }
        }
        return;
    case NATTEL_KIND_ENUM:
        decode_enum(c, ev, f, i, t);
        return;
    case NATTEL_KIND_INT64:
        decode_int(c, ev, f, i, t);
        return;
    case NATTEL_KIND_NUMBER:
        decode_number(c, ev, f, i, t);
        return;
    case NATTEL_KIND_BOOL: {
        char lead = nattel__json_lead(c->d, t);
        if (c->d->toks[t].type == NATTEL__JPRIMITIVE &&
            (lead == 't' || lead == 'f')) {
            ev->values[i].b = lead == 't';
            ev->is_set[i] = 1;
        } else {
            wrong_type(c, t, "a boolean");
        }
        return;
    }
    case NATTEL_KIND_STRING_ARRAY:
        decode_array(c, ev, i, t);
        return;
    }
}

/* Which field a key names: wire names always, C names in model mode. */
/* Whether key token `key` spells `name`; unescaped keys, the usual case,
 * are compared in place. */
static int key_is(const nattel__jdoc *d, unsigned key, const char *name)
{
    const nattel__jtok *t = &d->toks[key];
    if (t->escaped)
        return nattel__json_string_eq(d, key, name, strlen(name));
    size_t n = (size_t)(t->end - t->start);
    const char *raw = d->src + t->start;
    return name[0] == raw[0] && strncmp(name, raw, n) == 0 && name[n] == '\0';
}

/* Which field a key names: wire names always, C names in model mode. */
static int field_for_key(vctx *c, const nattel_event_type *type, unsigned key,
                         size_t hint)
{
    size_t n = type->field_count;
    size_t i = hint < n ? hint : 0; /* keys usually come in schema order */
    for (size_t k = 0; k < n; k++, i = i + 1 == n ? 0 : i + 1)
        if (key_is(c->d, key, type->fields[i].wire_name))
            return (int)i;
    if (c->mode != NATTEL_MODE_MODEL)
        return -1;
    for (i = 0; i < n; i++)
        if (type->fields[i].c_name && key_is(c->d, key, type->fields[i].c_name))
            return (int)i;
    return -1;
}

/* Duplicate keys are found by sorting the object's keys once (by their
 * decoded bytes, then position): an object of 80,000 keys costs a sort,
 * not 80,000 scans of the keys before each. */
typedef struct keyref {
    const char *p;
    size_t n;
    size_t idx;
} keyref;

static int keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = m ? memcmp(x->p, y->p, m) : 0;
    if (c)
        return c;
    if (x->n != y->n)
        return x->n < y->n ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int mark_dups(vctx *c, unsigned obj)
{
    const nattel__jdoc *d = c->d;
    size_t n = (size_t)d->toks[obj].members, room = 0;
    unsigned t = obj + 1;
    for (size_t i = 0; i < n; i++) {
        if (d->toks[t].escaped)
            room += nattel__json_raw(d, t).len + 1;
        t = (unsigned)NATTEL__JNEXT(&d->toks[t + 1]);
    }
    keyref *refs = malloc((n ? n : 1) * sizeof *refs);
    char *buf = room ? malloc(room) : NULL;
    c->dup = calloc(n ? n : 1, 1);
    if (!refs || (room && !buf) || !c->dup) {
        free(refs);
        free(buf);
        c->fatal = NATTEL_ENOMEM;
        return 0;
    }
    size_t off = 0;
    t = obj + 1;
    for (size_t i = 0; i < n; i++) {
        nattel_str raw = nattel__json_raw(d, t);
        refs[i].idx = i;
        if (d->toks[t].escaped) {
            refs[i].p = buf + off;
            refs[i].n = nattel__json_decode_string(d, t, buf + off);
            off += raw.len + 1;
        } else {
            refs[i].p = raw.ptr;
            refs[i].n = raw.len;
        }
        t = (unsigned)NATTEL__JNEXT(&d->toks[t + 1]);
    }
    qsort(refs, n, sizeof *refs, keyref_cmp);
    for (size_t j = 1; j < n; j++)
        if (refs[j].n == refs[j - 1].n &&
            (!refs[j].n || !memcmp(refs[j].p, refs[j - 1].p, refs[j].n)))
            c->dup[refs[j].idx] = 1;
    free(refs);
    free(buf);
    c->dup_obj = obj + 1;
    return 1;
}

/* Whether key number k of the object at `obj` repeats an earlier key. */
static int seen_before(vctx *c, unsigned obj, size_t k)
{
    if (c->dup_obj != obj + 1) {
        free(c->dup);
        c->dup = NULL;
        c->dup_obj = 0;
        if (!mark_dups(c, obj))
            return 0;
    }
    return c->dup[k];
}

static void decode_params(vctx *c, const nattel_event_type *type, unsigned t,
                          nattel_event **out)
{
    const nattel__jtok *tok = &c->d->toks[t];
    *out = NULL;
    if (tok->type != NATTEL__JOBJECT) {
        wrong_type(c, t, "an object");
        return;
    }
    if (type->field_count > NATTEL__MAX_FIELDS) {
        problem(c, "event type '%s' has more than %d fields", type->name,
                NATTEL__MAX_FIELDS);
        return;
    }
    nattel_event *ev = nattel_event_new(type);
    if (!ev) {
        c->fatal = NATTEL_ENOMEM;
        return;
    }
    unsigned
        given[NATTEL__MAX_FIELDS]; /* key token of each field, 0 = not given */
    memset(given, 0, type->field_count * sizeof *given);
    size_t before = c->count;
    unsigned key = t + 1;
    for (int k = 0; k < tok->members && !c->fatal; k++) {
        unsigned value = key + 1;
        size_t old = push_token_key(c, key);
        int i = field_for_key(c, type, key, (size_t)k);
        if (i < 0) {
            if (seen_before(c, t, (size_t)k))
                problem(c, "duplicate key");
            else
                problem(c, "unknown field (not in %s)", type->name);
        } else if (given[i]) {
            if (seen_before(c, t, (size_t)k))
                problem(c, "duplicate key");
            else
                problem(c, "field given twice: as '%s' and as '%s'",
                        type->fields[i].wire_name, type->fields[i].c_name);
        } else {
            given[i] = key;
            decode_value(c, ev, (size_t)i, value);
        }
        pop(c, old);
        key = (unsigned)NATTEL__JNEXT(&c->d->toks[value]);
    }
    for (size_t i = 0; i < type->field_count && !c->fatal; i++) {
        const nattel_field *f = &type->fields[i];
        if (given[i])
            continue;
        int required = c->mode == NATTEL_MODE_WIRE
                           ? !(f->flags & NATTEL_FIELD_WIRE_OPTIONAL)
                           : !(f->flags & (NATTEL_FIELD_HAS_DEFAULT |
                                           NATTEL_FIELD_WIRE_OPTIONAL));
        if (required) {
            size_t old = push_key(c, f->wire_name, strlen(f->wire_name));
            problem(c, "field required");
            pop(c, old);
        }
    }
    if (c->count != before || c->fatal) {
        nattel_event_free(ev);
        return;
    }
    *out = ev;
}

static nattel_code finish(vctx *c)
{
    free(c->dup);
    c->dup = NULL;
    if (c->fatal)
        return c->fatal;
    return c->count ? NATTEL_ESCHEMA : NATTEL_OK;
}

nattel_code nattel__decode_event(const nattel__jdoc *d,
                                 const nattel_event_type *type,
                                 nattel_mode mode, nattel_event **out,
                                 nattel_problems *problems)
{
    vctx c = {.d = d, .mode = mode, .problems = problems};
    nattel_event *ev = NULL;
    decode_params(&c, type, 0, &ev);
    nattel_code rc = finish(&c);
    if (rc || !out)
        nattel_event_free(ev);
    else
        *out = ev;
    return rc;
}

/* ---------------------------------------------------------------- */
/* Envelope                                                          */
/* ---------------------------------------------------------------- */

static int env_index(const nattel__jdoc *d, unsigned key, size_t hint)
{
    for (size_t k = 0; k < NATTEL__ENV_KEYS; k++) {
        size_t i = (hint + k) % NATTEL__ENV_KEYS;
        if (nattel__json_string_eq(d, key, nattel__env_keys[i].key,
                                   nattel__env_keys[i].klen))
            return (int)i;
    }
    return -1;
}

/* A decoded string value (NUL-terminated, malloc'd); NULL when not one. */
static char *dup_string(const nattel__jdoc *d, unsigned t)
{
    nattel_str raw = nattel__json_raw(d, t);
    char *s = malloc(raw.len + 1);
    if (s)
        nattel__json_decode_string(d, t, s);
    return s;
}

/* Room for a timestamp written with every character escaped. */
#define TS_RAW_MAX (NATTEL_TS_LEN * 6 + 1)

/* A short string token decoded into buf (size bytes); its length, or
 * (size_t)-1 when it does not fit. */
static size_t decode_small(const nattel__jdoc *d, unsigned t, char *buf,
                           size_t size)
{
    if (nattel__json_raw(d, t).len >= size)
        return (size_t)-1;
    return nattel__json_decode_string(d, t, buf);
}

static void check_env_scalar(vctx *c, const nattel__env_key *k, unsigned t)
{
    if (!nattel__json_is_string(c->d, t)) {
        wrong_type(c, t, "a string");
        return;
    }
    nattel_str raw = nattel__json_raw(c->d, t);
    char shown[NATTEL__SHOWN_BUF], ts[TS_RAW_MAX];
    switch (k->rule) {
    case NATTEL__ENV_FIXED:
        if (!nattel__json_string_eq(c->d, t, k->fixed, k->flen)) {
            show(c->d, t, shown, sizeof shown);
            problem(c, "must be \"%s\", got %s", k->fixed, shown);
        }
        return;
    case NATTEL__ENV_NONEMPTY:
        if (raw.len == 0)
            problem(c, "must not be empty");
        break;
    case NATTEL__ENV_TIMESTAMP:
        if (!nattel__ts_valid(ts, decode_small(c->d, t, ts, sizeof ts))) {
            show(c->d, t, shown, sizeof shown);
            problem(c, "%s is not a UTC timestamp YYYY-MM-DDTHH:MM:SS.mmmZ",
                    shown);
        }
        return;
    default:
        break;
    }
    /* These are kept as C strings: U+0000 would silently cut them short. */
    if (c->d->toks[t].escaped) {
        char *tmp = malloc(raw.len + 1);
        if (!tmp) {
            c->fatal = NATTEL_ENOMEM;
            return;
        }
        size_t n = nattel__json_decode_string(c->d, t, tmp);
        if (memchr(tmp, '\0', n))
            problem(c, "must not contain U+0000");
        free(tmp);
    }
}

typedef struct env_state {
    const nattel_registry *reg;
    unsigned slot[NATTEL__ENV_KEYS]; /* value token of each key, 0 = absent */
    nattel_envelope *env;            /* being filled; events owned by it */
} env_state;

static void decode_item(vctx *c, env_state *s, unsigned item)
{
    const nattel__jdoc *d = c->d;
    static const char *const item_keys[3] = {"ts", "parameters", "name"};
    unsigned slot[3] = {0, 0, 0};
    if (d->toks[item].type != NATTEL__JOBJECT) {
        wrong_type(c, item, "an object");
        return;
    }
    unsigned key = item + 1;
    for (int k = 0; k < d->toks[item].members; k++) {
        unsigned value = key + 1;
        int which = -1;
        for (int j = 0; j < 3; j++)
            if (nattel__json_string_eq(d, key, item_keys[j],
                                       strlen(item_keys[j])))
                which = j;
        size_t old = push_token_key(c, key);
        if (which < 0)
            problem(c, seen_before(c, item, (size_t)k)
                           ? "duplicate key"
                           : "unknown field (not in an event)");
        else if (slot[which])
            problem(c, "duplicate key");
        else
            slot[which] = value;
        pop(c, old);
        key = (unsigned)NATTEL__JNEXT(&d->toks[value]);
    }
    for (int j = 0; j < 3; j++) {
        if (!slot[j]) {
            size_t old = push_key(c, item_keys[j], strlen(item_keys[j]));
            problem(c, "field required");
            pop(c, old);
        }
    }
    if (slot[0]) {
        size_t old = push_key(c, "ts", 2);
        nattel__env_key rule = {"ts", 2, NATTEL__ENV_TIMESTAMP,
                                NULL, 0, NATTEL__EV_NONE};
        check_env_scalar(c, &rule, slot[0]);
        pop(c, old);
    }
    const nattel_event_type *type = NULL;
    if (slot[2]) {
        size_t old = push_key(c, "name", 4);
        if (!nattel__json_is_string(d, slot[2])) {
            wrong_type(c, slot[2], "a string");
        } else {
            nattel_str raw = nattel__json_raw(d, slot[2]);
            char name[NATTEL__EVENT_NAME_MAX + 1];
            if (raw.len < sizeof name) {
                size_t n = nattel__json_decode_string(d, slot[2], name);
                type = nattel_registry_find(s->reg, name, n);
            }
            if (!type) {
                char shown[NATTEL__SHOWN_BUF];
                show(d, slot[2], shown, sizeof shown);
                problem(c, raw.len ? "unknown event %s" : "must not be empty",
                        shown);
            }
        }
        pop(c, old);
    }
    if (type && slot[1]) {
        size_t old = push_key(c, "parameters", 10);
        nattel_event *ev = NULL;
        decode_params(c, type, slot[1], &ev);
        pop(c, old);
        char ts[TS_RAW_MAX];
        if (ev && s->env && slot[0] && nattel__json_is_string(d, slot[0]) &&
            nattel__ts_valid(ts, decode_small(d, slot[0], ts, sizeof ts))) {
            if (nattel__envelope_push(s->env, ev, ts)) {
                c->fatal = NATTEL_ENOMEM;
                nattel_event_free(ev);
            }
        } else {
            nattel_event_free(ev);
        }
    } else if (slot[1] && d->toks[slot[1]].type != NATTEL__JOBJECT) {
        size_t old = push_key(c, "parameters", 10);
        wrong_type(c, slot[1], "an object");
        pop(c, old);
    }
}

static void decode_events(vctx *c, env_state *s, unsigned t)
{
    const nattel__jdoc *d = c->d;
    if (d->toks[t].type != NATTEL__JARRAY) {
        wrong_type(c, t, "an array of events");
        return;
    }
    size_t n = (size_t)d->toks[t].members;
    if (n == 0)
        problem(c, "must hold at least one event");
    unsigned item = t + 1;
    for (size_t i = 0; i < n && !c->fatal; i++) {
        size_t old = push_index(c, i);
        decode_item(c, s, item);
        pop(c, old);
        item = (unsigned)NATTEL__JNEXT(&d->toks[item]);
    }
}

/* The value token of the member that holds `v`; 0 when absent. */
static unsigned value_token(const env_state *s, nattel__env_val v)
{
    for (size_t i = 0; i < NATTEL__ENV_KEYS; i++)
        if (nattel__env_keys[i].val == v)
            return s->slot[i];
    return 0;
}

/* Every event's type must carry the envelope's eventSchemaVer. */
static void check_versions(vctx *c, env_state *s)
{
    unsigned v = value_token(s, NATTEL__EV_SCHEMA_VER);
    if (!v || !nattel__json_is_string(c->d, v) || !s->env)
        return;
    for (size_t i = 0; i < s->env->count; i++) {
        const char *want = s->env->events[i]->type->schema_version;
        if (!nattel__json_string_eq(c->d, v, want, strlen(want))) {
            size_t old =
                push_key(c, "eventSchemaVer", strlen("eventSchemaVer"));
            problem(c,
                    "events[%zu] (%s) has schema version %s; one envelope "
                    "holds one schema version",
                    i, s->env->events[i]->type->name, want);
            pop(c, old);
            return;
        }
    }
}

static void decode_envelope(vctx *c, env_state *s)
{
    const nattel__jdoc *d = c->d;
    if (d->toks[0].type != NATTEL__JOBJECT) {
        wrong_type(c, 0, "an envelope object");
        return;
    }
    unsigned key = 1;
    for (int k = 0; k < d->toks[0].members; k++) {
        unsigned value = key + 1;
        int i = env_index(d, key, (size_t)k);
        size_t old = push_token_key(c, key);
        if (i < 0)
            problem(c, seen_before(c, 0, (size_t)k)
                           ? "duplicate key"
                           : "unknown field (not in the envelope)");
        else if (s->slot[i])
            problem(c, "duplicate key");
        else
            s->slot[i] = value;
        pop(c, old);
        key = (unsigned)NATTEL__JNEXT(&d->toks[value]);
    }
    for (size_t i = 0; i < NATTEL__ENV_KEYS && !c->fatal; i++) {
        size_t old =
            push_key(c, nattel__env_keys[i].key, nattel__env_keys[i].klen);
        if (!s->slot[i])
            problem(c, "field required");
        else if (nattel__env_keys[i].rule == NATTEL__ENV_EVENTS)
            decode_events(c, s, s->slot[i]);
        else
            check_env_scalar(c, &nattel__env_keys[i], s->slot[i]);
        pop(c, old);
    }
    check_versions(c, s);
}

/* The decoded envelope's varying members, from their value tokens (every
 * one present and valid: the document passed). */
static nattel_code set_values(const nattel__jdoc *d, env_state *s)
{
    for (size_t i = 0; i < NATTEL__ENV_KEYS; i++) {
        const nattel__env_key *k = &nattel__env_keys[i];
        if (k->val == NATTEL__EV_NONE)
            continue;
        char *str = dup_string(d, s->slot[i]);
        nattel_code rc =
            str ? nattel__envelope_set(s->env, k->val, str, strlen(str))
                : NATTEL_ENOMEM;
        free(str);
        if (rc)
            return rc;
    }
    return NATTEL_OK;
}

nattel_code nattel__decode_envelope(const nattel__jdoc *d,
                                    const nattel_registry *reg,
                                    nattel_mode mode, nattel_envelope **out,
                                    nattel_problems *problems)
{
    vctx c = {.d = d, .mode = mode, .problems = problems};
    env_state s;
    memset(&s, 0, sizeof s);
    s.reg = reg;
    /* The envelope collects the decoded events as we go. */
    s.env = calloc(1, sizeof *s.env);
    if (!s.env)
        return NATTEL_ENOMEM;
    decode_envelope(&c, &s);
    nattel_code rc = finish(&c);
    if (!rc && out)
        rc = set_values(d, &s);
    if (!rc && out) {
        *out = s.env;
        s.env = NULL;
    }
    nattel_envelope_free(s.env);
    return rc;
}
