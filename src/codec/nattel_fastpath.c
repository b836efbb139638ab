/*
 * The fast path: events and envelopes straight from the bytes (see
 * nattel_fastpath.h for what it takes and what it hands over).
 */
#include "codec/nattel_fastpath.h"

#include "codec/nattel_envelope.h"
#include "model/nattel_event.h"
#include "model/nattel_registry.h"
#include "natx/natx_buf.h"
#include "natx/natx_json_put.h"
#include "natx/natx_mem.h"
#include "natx/natx_utf8.h"

#include <stdlib.h>
#include <string.h>

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* ---------------------------------------------------------------- */
/* The fast path: events and envelopes straight from the bytes       */
/* ---------------------------------------------------------------- */

/* Every function below returns 1 when it took its part of the document
 * and 0 when the document must go to the reporting path instead. */

typedef struct fast {
    const char *s;
    size_t len;
    size_t p;
    /* Still byte for byte what the writer would write: no whitespace,
     * keys in wire order, every field given, values as written. */
    int canon;
    int tidy; /* the same, whitespace aside */
} fast;

static inline void fws(fast *f)
{
    /* Compact JSON is the usual: one comparison says "no whitespace". */
    while (f->p < f->len && (unsigned char)f->s[f->p] <= ' ' &&
           is_ws(f->s[f->p])) {
        f->p++;
        f->canon = 0;
    }
}

static inline int fpeek(const fast *f)
{
    return f->p < f->len ? (unsigned char)f->s[f->p] : -1;
}

/* After an object member: 1 when a ',' leads to another (whitespace after
 * it skipped), 0 at the closing '}', -1 for anything else. */
static inline int fnext_member(fast *f)
{
    fws(f);
    int c = fpeek(f);
    f->p++;
    if (c == '}')
        return 0;
    if (c != ',')
        return -1;
    fws(f);
    return 1;
}

static inline int feat(fast *f, char c)
{
    fws(f);
    if (f->p < f->len && f->s[f->p] == c) {
        f->p++;
        return 1;
    }
    return 0;
}

/* A string as written, without escapes or control characters: its bytes
 * are its value. Non-ASCII bytes are checked as UTF-8. */
static inline int plain_string(fast *f, const char **out, size_t *n)
{
    const char *s = f->s;
    if (f->p >= f->len || s[f->p] != '"')
        return 0;
    size_t i = f->p + 1, start = i;
    for (;;) {
        i = natx_json_string_run(s, f->len, i);
        if (i >= f->len)
            return 0;
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c < 0x80)
            return 0; /* an escape or a control character */
        size_t k = natx_utf8_seq((const unsigned char *)s + i, f->len - i);
        if (!k)
            return 0;
        i += k;
    }
    *out = s + start;
    *n = i - start;
    f->p = i + 1;
    return 1;
}

/* Whether NUL-terminated `name` is exactly s[0..n) (s holds no NUL). */
static inline int name_eq(const char *name, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (name[k] != s[k])
            return 0;
    return name[n] == '\0';
}

static int find_field(const nattel_event_type *t, nattel_mode mode,
                      const char *k, size_t n, size_t hint)
{
    size_t fc = t->field_count;
    size_t i = hint < fc ? hint : 0; /* keys usually come in schema order */
    for (size_t j = 0; j < fc; j++, i = i + 1 == fc ? 0 : i + 1)
        if (name_eq(t->fields[i].wire_name, k, n))
            return (int)i;
    if (mode != NATTEL_MODE_MODEL)
        return -1;
    for (i = 0; i < fc; i++)
        if (t->fields[i].c_name && name_eq(t->fields[i].c_name, k, n))
            return (int)i;
    return -1;
}

/* An integer written plainly (at most 18 digits, no fraction or
 * exponent): exactly within int64. */
static inline int plain_int(fast *f, int64_t *out)
{
    const char *s = f->s;
    size_t i = f->p, len = f->len;
    int neg = 0;
    if (i < len && s[i] == '-') {
        neg = 1;
        i++;
    }
    size_t d0 = i;
    uint64_t v = 0;
    while (i < len && is_digit(s[i]))
        v = v * 10 + (uint64_t)(s[i++] - '0');
    size_t nd = i - d0;
    if (nd == 0 || nd > 18 || (s[d0] == '0' && nd > 1))
        return 0;
    if (i < len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E'))
        return 0;
    if (neg && v == 0)
        f->canon = f->tidy = 0; /* written as 0 */
    *out = neg ? -(int64_t)v : (int64_t)v;
    f->p = i;
    return 1;
}

static inline int literal(fast *f, const char *lit, size_t n)
{
    if (f->len - f->p < n || memcmp(f->s + f->p, lit, n))
        return 0;
    f->p += n;
    return 1;
}

static inline int bytes_eq(const char *a, const char *b, size_t n);

/* The enum value at f->p matched as the plan's ready JSON strings (which
 * hold no escapes): the value's index, or -1 when none is there. Values
 * repeat: the one that matched last time is tried first. */
static inline int enum_by_plan(fast *f, nattel__plan *plan, size_t i,
                               const nattel_str *ej, size_t count)
{
    const char *at = f->s + f->p;
    size_t room = f->len - f->p;
    size_t h = plan->ehint[i] < count ? plan->ehint[i] : 0;
    for (size_t k = 0; k < count; k++, h = h + 1 == count ? 0 : h + 1) {
        if (ej[h].len <= room && bytes_eq(at, ej[h].ptr, ej[h].len)) {
            f->p += ej[h].len;
            plan->ehint[i] = (unsigned char)h;
            return (int)h;
        }
    }
    return -1;
}

static int fast_value(fast *f, nattel__plan *plan, size_t i, nattel_event *ev)
{
    const nattel_field *fd = &plan->type->fields[i];
    const char *s;
    size_t n;
    nattel_value *v = &ev->values[i];
    switch (fd->kind) {
    case NATTEL_KIND_STRING: {
        if (!plain_string(f, &s, &n))
            return 0;
        char *p = natx_arena_take(&ev->arena, n + 1);
        if (!p)
            return 0;
        natx_put_bytes(p, s, n);
        p[n] = '\0';
        v->s.ptr = p;
        v->s.len = n;
        return 1;
    }
    case NATTEL_KIND_ENUM: {
        const nattel_enum_type *e = fd->enum_type;
        const nattel_str *ej = plan->tp ? plan->tp->enum_json[i] : NULL;
        if (ej) {
            /* A value with no ready string equal to it is no value: the
             * ready strings are the values as written, escapes aside. */
            int h = enum_by_plan(f, plan, i, ej, e->count);
            v->e = h < 0 ? 0 : (size_t)h;
            return h >= 0;
        }
        if (!plain_string(f, &s, &n))
            return 0;
        /* Values repeat: the one that matched last time first. */
        size_t h = plan->ehint[i] < e->count ? plan->ehint[i] : 0;
        for (size_t k = 0; k < e->count;
             k++, h = h + 1 == e->count ? 0 : h + 1) {
            if (name_eq(e->values[h], s, n)) {
                v->e = h;
                plan->ehint[i] = (unsigned char)h;
                return 1;
            }
        }
        return 0;
    }
    case NATTEL_KIND_INT64: {
        int64_t x;
        if (!plain_int(f, &x))
            return 0;
        if (((fd->flags & NATTEL_FIELD_HAS_MIN) && (double)x < fd->minimum) ||
            ((fd->flags & NATTEL_FIELD_HAS_MAX) && (double)x > fd->maximum))
            return 0;
        v->i = x;
        return 1;
    }
    case NATTEL_KIND_BOOL:
        if (literal(f, "true", 4))
            v->b = 1;
        else if (literal(f, "false", 5))
            v->b = 0;
        else
            return 0;
        return 1;
    default:
        return 0; /* numbers and arrays: the reporting path */
    }
}

/* Whether a[0..n) equals b[0..n); both readable that far. */
static inline int bytes_eq(const char *a, const char *b, size_t n)
{
    uint64_t x, y, u, v;
    if (n < 8) {
        for (size_t k = 0; k < n; k++)
            if (a[k] != b[k])
                return 0;
        return 1;
    }
    for (size_t k = 0; k + 8 < n; k += 8) {
        memcpy(&x, a + k, 8);
        memcpy(&y, b + k, 8);
        if (x != y)
            return 0;
    }
    memcpy(&u, a + n - 8, 8);
    memcpy(&v, b + n - 8, 8);
    return u == v;
}

/* The key `"name"` at f->p, byte for byte. */
static inline int key_is(fast *f, const char *name, size_t n)
{
    const char *s = f->s + f->p;
    if (f->len - f->p < n + 2 || s[0] != '"' || s[n + 1] != '"' ||
        !bytes_eq(s + 1, name, n))
        return 0;
    f->p += n + 2;
    return 1;
}

/* The plan's ready key `,"name":` (from its comma when `comma`, else
 * from its quote) at f->p, byte for byte: the key and its colon in one
 * comparison. */
static inline int plan_key(fast *f, const nattel_str *key, int comma)
{
    size_t skip = comma ? 0 : 1, n = key->len - skip;
    if (f->len - f->p < n || !bytes_eq(f->s + f->p, key->ptr + skip, n))
        return 0;
    f->p += n;
    return 1;
}

/* ---------------------------------------------------------------- */
/* The straight path: the compact canonical event of a planned type  */
/* ---------------------------------------------------------------- */

/* What every writer of a type with a static plan writes, and so what
 * nearly every document is: `{"k0":v0,"k1":v1,...}`, every field in wire
 * order, no whitespace. The straight path reads exactly that, one
 * expected key after another, with the position in a register and no
 * bookkeeping (no `given` bits, no whitespace checks, no key search). At
 * the first byte that is not that form it gives up, and the caller starts
 * the general loop (fast_event) over from the object's start: what the
 * straight path takes, the general loop takes too, with the same values
 * and the same verdict (canonical and tidy), so verdicts never depend on
 * which of them ran. Values it is unsure of (an enum without ready
 * strings, "-0", numbers, arrays) make it give up too. */

static inline uint64_t load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* a[0..n) == b[0..n) for the usual key or enum value of 8 to 16 bytes as
 * two overlapping word comparisons; bytes_eq otherwise. */
static inline int short_eq(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return !((load64(a) ^ load64(b)) |
                 (load64(a + n - 8) ^ load64(b + n - 8)));
    return bytes_eq(a, b, n);
}

/* natx_put_bytes with short values (a version, a command name) also
 * copied without a call. */
static inline void st_copy(char *o, const char *s, size_t n)
{
    if (n >= 4 && n < 8) {
        memcpy(o, s, 4);
        memcpy(o + n - 4, s + n - 4, 4);
    } else if (n < 4) {
        for (size_t k = 0; k < n; k++)
            o[k] = s[k];
    } else {
        natx_put_bytes(o, s, n);
    }
}

/* A plain string value at p (as plain_string takes it) copied into the
 * event's arena; the byte after it, or NULL. */
static inline const char *st_string(const char *p, const char *end,
                                    nattel_value *v, natx_arena *a)
{
    if (p >= end || *p != '"')
        return NULL;
    const char *s = p + 1;
    size_t room = (size_t)(end - s);
    size_t i = natx_json_string_run(s, room, 0);
    while (i < room && (unsigned char)s[i] >= 0x80) {
        size_t k = natx_utf8_seq((const unsigned char *)s + i, room - i);
        if (!k)
            return NULL;
        i = natx_json_string_run(s, room, i + k);
    }
    if (i >= room || s[i] != '"')
        return NULL; /* an escape, a control character, or no end */
    char *o = natx_arena_take(a, i + 1);
    if (!o)
        return NULL;
    st_copy(o, s, i);
    o[i] = '\0';
    v->s.ptr = o;
    v->s.len = i;
    return s + i + 1;
}

/* An enum value at p matched as one of its ready JSON strings, the value
 * matched last time (*hint) first. */
static inline const char *st_enum(const char *p, const char *end,
                                  const nattel_str *ej, size_t count,
                                  unsigned char *hint, nattel_value *v)
{
    size_t room = (size_t)(end - p);
    size_t h = *hint < count ? *hint : 0;
    for (size_t k = 0; k < count; k++, h = h + 1 == count ? 0 : h + 1) {
        if (ej[h].len <= room && short_eq(p, ej[h].ptr, ej[h].len)) {
            *hint = (unsigned char)h;
            v->e = h;
            return p + ej[h].len;
        }
    }
    return NULL;
}

/* An integer as plain_int takes it, within the field's bounds; "-0"
 * (not canonical) is left to the general loop. What follows the digits
 * is not looked at: only the next key's ',' or the object's '}' can
 * follow in the compact canonical form, and the caller checks for them. */
static inline const char *st_int(const char *p, const char *end,
                                 const nattel_field *fd, nattel_value *v)
{
    int neg = p < end && *p == '-';
    const char *d0 = p + neg, *q = d0;
    uint64_t x = 0;
    while (q < end && is_digit(*q))
        x = x * 10 + (uint64_t)(*q++ - '0');
    size_t nd = (size_t)(q - d0);
    if (nd - 1 >= 18 || (*d0 == '0' && (nd > 1 || neg)))
        return NULL; /* no digit, too many, a leading zero, or "-0" */
    int64_t i = neg ? -(int64_t)x : (int64_t)x;
    if ((fd->flags & (NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX)) &&
        (((fd->flags & NATTEL_FIELD_HAS_MIN) && (double)i < fd->minimum) ||
         ((fd->flags & NATTEL_FIELD_HAS_MAX) && (double)i > fd->maximum)))
        return NULL;
    v->i = i;
    return q;
}

static inline const char *st_bool(const char *p, const char *end,
                                  nattel_value *v)
{
    size_t room = (size_t)(end - p);
    if (room >= 4 && !memcmp(p, "true", 4)) {
        v->b = 1;
        return p + 4;
    }
    if (room >= 5 && !memcmp(p, "false", 5)) {
        v->b = 0;
        return p + 5;
    }
    return NULL;
}

/* Field fd's value at p into v; the byte after it, or NULL. */
static inline const char *st_value(const char *p, const char *end,
                                   const nattel_field *fd, const nattel_str *ej,
                                   unsigned char *hint, nattel_value *v,
                                   natx_arena *a)
{
    switch (fd->kind) {
    case NATTEL_KIND_STRING:
        return st_string(p, end, v, a);
    case NATTEL_KIND_ENUM:
        return ej ? st_enum(p, end, ej, fd->enum_type->count, hint, v) : NULL;
    case NATTEL_KIND_INT64:
        return st_int(p, end, fd, v);
    case NATTEL_KIND_BOOL:
        return st_bool(p, end, v);
    default:
        return NULL; /* numbers and arrays: the general loop */
    }
}

/* The key k (`,"name":`) at p, from its comma; past it, or NULL. */
static inline const char *st_key(const char *p, const char *end,
                                 const nattel_str *k)
{
    size_t n = k->len;
    if ((size_t)(end - p) < n || !short_eq(p, k->ptr, n))
        return NULL;
    return p + n;
}

/* The event of planned type t at f->p in its compact canonical form into
 * ev (hints: per-field enum hints); 1 with f->p past its '}', 0 (f->p
 * unchanged, ev's values unspecified) at the first surprise. The caller
 * checks 0 < fc <= NATTEL__PLAN_FIELDS. */
static int straight_event(fast *f, const nattel_event_type *t,
                          const nattel__type_plan *tp, unsigned char *hints,
                          nattel_event *ev)
{
    const char *p = f->s + f->p, *end = f->s + f->len;
    size_t fc = t->field_count;
    const nattel_field *fd = t->fields;
    const nattel_str *key = tp->keys, *const *ej = tp->enum_json;
    nattel_value *v = ev->values;
    /* `{"name":`: the first key's bytes but its comma, after the brace. */
    if ((size_t)(end - p) < key->len || *p != '{' ||
        !short_eq(p + 1, key->ptr + 1, key->len - 1))
        return 0;
    p += key->len;
    for (size_t i = 0;;) {
        p = st_value(p, end, fd, *ej, hints + i, v, &ev->arena);
        if (!p)
            return 0;
        if (++i == fc)
            break;
        fd++;
        ej++;
        v++;
        p = st_key(p, end, ++key);
        if (!p)
            return 0;
    }
    if (p >= end || *p != '}')
        return 0;
    memset(ev->is_set, 1, fc);
    f->p = (size_t)(p + 1 - f->s);
    return 1;
}

/* A name that reads as itself between quotes: no quote, backslash or
 * control character, valid UTF-8, and not the key that makes a line an
 * envelope. */
static int plain_name(const char *s, size_t n)
{
    if (n == 6 && !memcmp(s, "events", 6))
        return 0;
    size_t i = natx_json_string_run(s, n, 0); /* plain ASCII: the usual */
    while (i < n) {
        if ((unsigned char)s[i] < 0x80)
            return 0; /* a control character, a quote or a backslash */
        size_t k = natx_utf8_seq((const unsigned char *)s + i, n - i);
        if (!k)
            return 0;
        i = natx_json_string_run(s, n, i + k);
    }
    return 1;
}

static nattel__plan *plan_for(nattel__fastpath *r, const nattel_event_type *t)
{
    if (r->one_shot) {
        /* One document: a type with a static plan lends its name lengths;
         * for others, matching keys by scanning them costs less than
         * measuring every name first. */
        nattel__plan *p = &r->plans[0];
        const nattel__type_plan *tp = nattel__type_plan_of(t);
        p->type = t;
        p->plain = tp && t->field_count <= NATTEL__PLAN_FIELDS;
        p->tp = p->plain ? tp : NULL;
        p->line_straight = 0; /* one-shot documents are never lines */
        if (p->plain) {
            p->wlen = tp->wlen;
            memset(p->ehint, 0, t->field_count);
        }
        return p;
    }
    for (unsigned i = 0; i < NATTEL__PLANS; i++)
        if (r->plans[i].type == t)
            return &r->plans[i];
    nattel__plan *p = &r->plans[r->next_plan++ % NATTEL__PLANS];
    p->type = t;
    memset(p->ehint, 0, sizeof p->ehint);
    p->plain = t->field_count <= NATTEL__PLAN_FIELDS;
    p->wlen = p->wlen_own;
    for (size_t i = 0; p->plain && i < t->field_count; i++) {
        size_t n = strlen(t->fields[i].wire_name);
        p->wlen_own[i] = (unsigned char)n;
        p->plain = n < 256 && plain_name(t->fields[i].wire_name, n);
    }
    p->tp = p->plain ? nattel__type_plan_of(t) : NULL;
    /* A line whose first key is the type's first wire name is read as
     * parameters, unless that name is also an envelope's key (then the
     * line goes the envelope's way first); plain_name kept out
     * "events". */
    p->line_straight =
        p->tp && t->field_count > 0 &&
        nattel__env_key_index(t->fields[0].wire_name, p->wlen_own[0], 0) < 0;
    return p;
}

/* A parameters object of type t at f->p into ev. `line`: a root object of
 * `validate`, where a key "events" makes the line an envelope. */
static int fast_event(fast *f, nattel__plan *plan, nattel_mode mode,
                      nattel_event *ev, int line)
{
    const nattel_event_type *t = plan->type;
    size_t fc = t->field_count;
    uint64_t given = 0;
    if (fc > NATTEL__PLAN_FIELDS || !feat(f, '{'))
        return 0;
    fws(f);
    if (fpeek(f) == '}') {
        f->p++;
    } else {
        const nattel__type_plan *tp = plan->tp;
        /* keyed: the member's key and colon already read as the plan's
         * ready bytes (with the comma before it, past the first). */
        int keyed = tp && fc > 0 && plan_key(f, &tp->keys[0], 0);
        for (size_t k = 0;; k++) {
            const char *key;
            size_t kn;
            int i = (int)k;
            if (!keyed) {
                if (!plan->plain || k >= fc ||
                    !key_is(f, t->fields[k].wire_name, plan->wlen[k])) {
                    f->canon = f->tidy = 0;
                    if (!plain_string(f, &key, &kn))
                        return 0;
                    if (line && kn == 6 && !memcmp(key, "events", 6))
                        return 0;
                    i = find_field(t, mode, key, kn, k);
                }
                if (f->p < f->len && f->s[f->p] == ':')
                    f->p++;
                else if (!feat(f, ':'))
                    return 0;
            }
            if (i < 0 || (given >> i) & 1)
                return 0;
            given |= (uint64_t)1 << i;
            fws(f);
            if (!fast_value(f, plan, (size_t)i, ev))
                return 0;
            /* The usual next member: the next field's key, compact. */
            keyed = tp && k + 1 < fc && plan_key(f, &tp->keys[k + 1], 1);
            if (keyed)
                continue;
            int more = fnext_member(f);
            if (more < 0)
                return 0;
            if (!more)
                break;
        }
    }
    if (given == ((uint64_t)1 << fc) - 1) {
        memset(ev->is_set, 1, fc); /* every field given: the usual */
        return 1;
    }
    for (size_t i = 0; i < fc; i++) {
        const nattel_field *fd = &t->fields[i];
        if ((given >> i) & 1) {
            ev->is_set[i] = 1;
            continue;
        }
        unsigned needs =
            mode == NATTEL_MODE_WIRE
                ? NATTEL_FIELD_WIRE_OPTIONAL
                : NATTEL_FIELD_HAS_DEFAULT | NATTEL_FIELD_WIRE_OPTIONAL;
        if (!(fd->flags & needs))
            return 0; /* required */
        f->canon = f->tidy = 0;
        ev->is_set[i] = (fd->flags & NATTEL_FIELD_HAS_DEFAULT) != 0;
        if (ev->is_set[i])
            ev->values[i] = fd->default_value;
        else
            memset(&ev->values[i], 0, sizeof ev->values[i]);
    }
    return 1;
}

/* straight_event, and when it gives up, nothing of it left: the arena
 * rewound when the straight path's strings all went to its head chunk,
 * f->p back at the object. */
static int straight_try(fast *f, const nattel_event_type *t,
                        const nattel__type_plan *tp, unsigned char *hints,
                        nattel_event *ev)
{
    if (t->field_count == 0 || t->field_count > NATTEL__PLAN_FIELDS)
        return 0;
    natx_chunk *head = ev->arena.head;
    size_t used = head ? head->used : 0;
    if (straight_event(f, t, tp, hints, ev))
        return 1;
    if (head && ev->arena.head == head)
        head->used = used;
    return 0;
}

/* One-shot decodes have no plan of their own to keep enum hints in: the
 * thread's last ones (only hints: any value is safe). */
static _Thread_local unsigned char oneshot_hints[NATTEL__PLAN_FIELDS];

/* An event of type t at f->p into ev: the straight path when t has a
 * static plan, then the general loop. One-shot decodes set up no plan
 * unless the straight path gives up. */
static int event_doc(nattel__fastpath *r, fast *f, const nattel_event_type *t,
                     nattel_mode mode, nattel_event *ev, int line)
{
    if (r->one_shot && !line) {
        const nattel__type_plan *tp = nattel__type_plan_of(t);
        if (tp && straight_try(f, t, tp, oneshot_hints, ev))
            return 1;
        return fast_event(f, plan_for(r, t), mode, ev, line);
    }
    nattel__plan *plan = plan_for(r, t);
    /* A line has had its straight try (straight_line). */
    if (plan->tp && !line && straight_try(f, t, plan->tp, plan->ehint, ev))
        return 1;
    return fast_event(f, plan, mode, ev, line);
}

/* ---------------------------------------------------------------- */
/* The reader's reusable objects                                     */
/* ---------------------------------------------------------------- */

_Static_assert(NATTEL__ENV_KEYS <= 32, "fast_envelope's `given` bits");

/* Event slot i, empty and of type t. */
static nattel_event *pool_get(nattel__fastpath *r, size_t i,
                              const nattel_event_type *t)
{
    if (i >= r->pool_cap) {
        /* One event, the usual need, is held in the reader itself. */
        int was_one = r->pool == r->pool_one;
        nattel_event **p = was_one ? NULL : r->pool;
        size_t cap = was_one ? 0 : r->pool_cap;
        if (i == 0) {
            p = r->pool_one;
            cap = 1;
        } else if (NATX_GROW(p, cap, i + 1)) {
            return NULL;
        } else if (was_one) {
            p[0] = r->pool_one[0];
        }
        memset(p + r->pool_cap, 0, (cap - r->pool_cap) * sizeof *p);
        r->pool = p;
        r->pool_cap = cap;
    }
    nattel_event *ev = r->pool[i];
    if (ev && ev->type == t) {
        nattel__event_recycle(ev);
        return ev;
    }
    nattel_event_free(ev);
    /* No defaults: the fast path fills every field before it hands the
     * event out. */
    r->pool[i] = ev = nattel__event_new_bare(t);
    return ev;
}

void nattel__fastpath_init(nattel__fastpath *r, const nattel_registry *reg)
{
    /* Field by field: the plans' tables are large, and one-shot decodes
     * set up this state for every document; a plan is unused while its
     * type is NULL (plan_for fills the rest). */
    r->reg = reg;
    r->guess = reg && reg->count ? reg->types[0] : NULL;
    for (unsigned i = 0; i < NATTEL__PLANS; i++)
        r->plans[i].type = NULL;
    r->next_plan = 0;
    r->pool = NULL;
    r->pool_cap = 0;
    r->pool_one[0] = NULL;
    r->ts = NULL;
    r->ts_cap = 0;
    r->env = NULL;
    r->one_shot = 0;
}

void nattel__fastpath_release(nattel__fastpath *r)
{
    for (size_t i = 0; i < r->pool_cap; i++)
        nattel_event_free(r->pool[i]);
    if (r->pool != r->pool_one)
        free(r->pool);
    free(r->ts);
    nattel_envelope_free(r->env); /* its events are lent: freed above */
    r->pool = NULL;
    r->pool_cap = 0;
    r->ts = NULL;
    r->env = NULL;
}

/* ---------------------------------------------------------------- */
/* Envelopes                                                         */
/* ---------------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t n;
} span;

static const nattel_event_type *find_type(const nattel_registry *reg,
                                          const char *s, size_t n)
{
    for (size_t i = 0; reg && i < reg->count; i++)
        if (name_eq(reg->types[i]->name, s, n))
            return reg->types[i];
    return NULL;
}

static int ts_slot(nattel__fastpath *r, size_t i, span ts)
{
    if (NATX_GROW(r->ts, r->ts_cap, i + 1))
        return 0;
    memcpy(r->ts[i], ts.p, NATTEL_TS_LEN);
    r->ts[i][NATTEL_TS_LEN] = '\0';
    return 1;
}

/* Past the object at f->p by its brackets and quotes alone: what it holds
 * is checked when it is decoded. */
static int skip_object(fast *f)
{
    const char *s = f->s;
    size_t i = f->p, depth = 0;
    if (i >= f->len || s[i] != '{')
        return 0;
    for (; i < f->len; i++) {
        char c = s[i];
        if (c == '"') {
            for (i++; i < f->len && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
            if (i >= f->len)
                return 0;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            f->p = i + 1;
            return 1;
        }
    }
    return 0;
}

/* One item of "events": {"ts":..., "parameters":{...}, "name":...} in any
 * order. Upstream writes the parameters before the name, so they are
 * decoded as the type of the item before (the usual case: one type); when
 * the name then says otherwise, they are decoded again as that type. */
static int fast_item(nattel__fastpath *r, fast *f, nattel_mode mode, size_t idx)
{
    const nattel_event_type *type = NULL, *as = NULL;
    size_t params_at = 0, params_end = 0;
    unsigned given = 0;
    span ts = {NULL, 0}, name;
    if (!feat(f, '{'))
        return 0;
    fws(f);
    for (;;) {
        const char *key;
        size_t kn;
        unsigned which;
        if (!plain_string(f, &key, &kn))
            return 0;
        if (kn == 2 && !memcmp(key, "ts", 2))
            which = 1;
        else if (kn == 10 && !memcmp(key, "parameters", 10))
            which = 2;
        else if (kn == 4 && !memcmp(key, "name", 4))
            which = 4;
        else
            return 0;
        if ((given & which) || !feat(f, ':'))
            return 0;
        if (which != given + 1)
            f->canon = f->tidy = 0; /* not ts, parameters, name */
        given |= which;
        fws(f);
        if (which == 1) {
            if (!plain_string(f, &ts.p, &ts.n) || !nattel__ts_valid(ts.p, ts.n))
                return 0;
        } else if (which == 2) {
            params_at = f->p;
            as = type ? type : r->guess;
            nattel_event *ev = as ? pool_get(r, idx, as) : NULL;
            if (!ev)
                return 0;
            if (!event_doc(r, f, as, mode, ev, 0)) {
                if (type)
                    return 0; /* refused by its own type */
                /* Another type's, perhaps: passed over, decoded below. */
                f->p = params_at;
                as = NULL;
                if (!skip_object(f))
                    return 0;
            }
            params_end = f->p;
        } else {
            if (!plain_string(f, &name.p, &name.n))
                return 0;
            type = find_type(r->reg, name.p, name.n);
            if (!type)
                return 0;
        }
        int more = fnext_member(f);
        if (more < 0)
            return 0;
        if (!more)
            break;
    }
    if (given != 7)
        return 0;
    if (as != type) {
        size_t end = f->p;
        f->p = params_at;
        nattel_event *ev = pool_get(r, idx, type);
        if (!ev || !event_doc(r, f, type, mode, ev, 0) || f->p != params_end)
            return 0;
        f->p = end;
    }
    r->guess = type;
    return ts_slot(r, idx, ts);
}

static int fast_events(nattel__fastpath *r, fast *f, nattel_mode mode,
                       size_t *count)
{
    if (!feat(f, '['))
        return 0;
    for (size_t i = 0;; i++) {
        if (!fast_item(r, f, mode, i))
            return 0; /* an empty array too: the reporting path says so */
        fws(f);
        int c = fpeek(f);
        f->p++;
        if (c == ']') {
            *count = i + 1;
            return 1;
        }
        if (c != ',')
            return 0;
    }
}

static int fast_scalar(fast *f, const nattel__env_key *k, span *v)
{
    if (k->rule == NATTEL__ENV_FIXED)
        return key_is(f, k->fixed, k->flen);
    if (!plain_string(f, &v->p, &v->n))
        return 0;
    switch (k->rule) {
    case NATTEL__ENV_NONEMPTY:
        return v->n > 0;
    case NATTEL__ENV_TIMESTAMP:
        return nattel__ts_valid(v->p, v->n);
    default:
        return 1;
    }
}

/* Points the reader's envelope at the values just read (v: by where the
 * envelope keeps them) and lends it the reader's events. */
static int publish(nattel__fastpath *r, const span *v, size_t count)
{
    if (!r->env) {
        r->env = calloc(1, sizeof *r->env);
        if (!r->env)
            return 0;
    }
    for (int i = 0; i < NATTEL__ENV_VALS; i++)
        if (nattel__envelope_set(r->env, (nattel__env_val)i, v[i].p, v[i].n))
            return 0;
    nattel__envelope_lend(r->env, r->pool, r->ts, count);
    return 1;
}

static int fast_envelope(nattel__fastpath *r, fast *f, nattel_mode mode)
{
    span v[NATTEL__ENV_VALS], unused;
    uint32_t given = 0;
    size_t count = 0;
    if (!feat(f, '{'))
        return 0;
    fws(f);
    for (size_t k = 0;; k++) {
        const char *key;
        size_t kn;
        int i = (int)k;
        if (k >= NATTEL__ENV_KEYS ||
            !key_is(f, nattel__env_keys[k].key, nattel__env_keys[k].klen)) {
            f->canon = f->tidy = 0;
            if (!plain_string(f, &key, &kn))
                return 0;
            i = nattel__env_key_index(key, kn, k);
        }
        if (i < 0 || (given >> i) & 1 || !feat(f, ':'))
            return 0;
        given |= (uint32_t)1 << i;
        fws(f);
        const nattel__env_key *ek = &nattel__env_keys[i];
        if (ek->rule == NATTEL__ENV_EVENTS
                ? !fast_events(r, f, mode, &count)
                : !fast_scalar(f, ek, ek->val < 0 ? &unused : &v[ek->val]))
            return 0;
        int more = fnext_member(f);
        if (more < 0)
            return 0;
        if (!more)
            break;
    }
    if (given != ((uint32_t)1 << NATTEL__ENV_KEYS) - 1)
        return 0;
    span ver = v[NATTEL__EV_SCHEMA_VER];
    for (size_t i = 0; i < count; i++)
        if (!name_eq(r->pool[i]->type->schema_version, ver.p, ver.n))
            return 0;
    return publish(r, v, count);
}

/* ---------------------------------------------------------------- */
/* Entry points                                                      */
/* ---------------------------------------------------------------- */

/* Whether the document ends at f->p (whitespace aside). */
static int at_end(fast *f)
{
    fws(f);
    return f->p == f->len;
}

/* `validate`'s usual line: the type's parameters, compact and canonical,
 * whose first key is no envelope key (plan->line_straight); 1 with the
 * event in *ev. A line that does not start with that key (an envelope)
 * leaves the reader's event slot alone. */
static int straight_line(nattel__fastpath *r, fast *f,
                         const nattel_event_type *type, nattel_event **ev)
{
    nattel__plan *plan = plan_for(r, type);
    if (!plan->line_straight)
        return 0;
    const nattel_str *k0 = &plan->tp->keys[0]; /* `,"name":` */
    if (f->len < k0->len || f->s[0] != '{' ||
        !short_eq(f->s + 1, k0->ptr + 1, k0->len - 1))
        return 0;
    *ev = pool_get(r, 0, type);
    return *ev && straight_try(f, type, plan->tp, plan->ehint, *ev);
}

int nattel__fastpath_try(nattel__fastpath *r, nattel__doc_as as,
                         const nattel_event_type *type, nattel_mode mode,
                         const char *json, size_t len, nattel__fast_verdict *v)
{
    fast f = {json, len, 0, 1, 1};
    /* Past 2 bytes a value, the token tree could meet its count limit:
     * such documents go where that limit is applied, so that verdicts
     * stay the same. */
    if (len > 2 * (size_t)NATTEL__JSON_MAX_TOKENS - 1)
        return 0;
    nattel_event *ev = NULL;
    int straight = 0;
    if (as == NATTEL__AS_LINE && type) {
        straight = straight_line(r, &f, type, &ev);
        if (straight)
            as = NATTEL__AS_EVENT;
    }
    if (as == NATTEL__AS_LINE) {
        /* The first key tells an envelope from parameters. */
        const char *key;
        size_t kn;
        if (!feat(&f, '{'))
            return 0;
        fws(&f);
        if (!plain_string(&f, &key, &kn))
            return 0;
        if (nattel__env_key_index(key, kn, 0) >= 0)
            as = NATTEL__AS_ENVELOPE;
        f.p = 0;
    }
    int ok;
    if (as == NATTEL__AS_ENVELOPE) {
        ok = fast_envelope(r, &f, mode) && at_end(&f);
    } else {
        if (!ev)
            ev = type ? pool_get(r, 0, type) : NULL;
        ok = ev &&
             (straight ||
              event_doc(r, &f, type, mode, ev, as == NATTEL__AS_LINE)) &&
             at_end(&f);
    }
    v->is_env = as == NATTEL__AS_ENVELOPE;
    v->canon = ok && f.canon;
    v->tidy = ok && f.tidy;
    return ok;
}

int nattel__fastpath_straight(const nattel_event_type *t, const char *json,
                              size_t len, nattel_event *ev)
{
    const nattel__type_plan *tp = nattel__type_plan_of(t);
    fast f = {json, len, 0, 1, 1};
    /* The same length limit as nattel__fastpath_try. */
    if (!tp || len > 2 * (size_t)NATTEL__JSON_MAX_TOKENS - 1)
        return 0;
    return straight_try(&f, t, tp, oneshot_hints, ev) && f.p == len;
}

static inline char *copy_run(char *o, const char *s, size_t k)
{
    for (; k >= 8; k -= 8, s += 8, o += 8)
        memcpy(o, s, 8);
    while (k--)
        *o++ = *s++;
    return o;
}

size_t nattel__fastpath_tidy(const char *s, size_t n, char *out)
{
    /* The fast path took the document: its strings hold no escapes or
     * control characters, so every '"' opens or closes one, and the
     * whitespace to drop lies between tokens. Runs between it are copied
     * whole; strings are crossed a word at a time. */
    char *o = out;
    size_t i = 0, start = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            size_t j = natx_json_string_run(s, n, i + 1);
            while (j < n && s[j] != '"')
                j = natx_json_string_run(s, n, j + 1); /* non-ASCII */
            i = j + 1;
        } else if (is_ws(c)) {
            o = copy_run(o, s + start, i - start);
            while (++i < n && is_ws(s[i]))
                ;
            start = i;
        } else {
            i++;
        }
    }
    if (start < n)
        o = copy_run(o, s + start, n - start);
    return (size_t)(o - out);
}

nattel_event *nattel__fastpath_take_event(nattel__fastpath *r)
{
    nattel_event *ev = r->pool_cap ? r->pool[0] : NULL;
    if (ev)
        r->pool[0] = NULL;
    return ev;
}

nattel_envelope *nattel__fastpath_take_envelope(nattel__fastpath *r)
{
    const nattel_envelope *e = r->env;
    nattel_envelope *out = calloc(1, sizeof *out);
    for (int i = 0; out && i < NATTEL__ENV_VALS; i++)
        if (nattel__envelope_set(out, (nattel__env_val)i, e->val[i].data,
                                 e->val[i].len)) {
            nattel_envelope_free(out);
            return NULL;
        }
    for (size_t i = 0; out && i < e->count; i++) {
        if (nattel__envelope_push(out, r->pool[i], e->ts[i])) {
            nattel_envelope_free(out);
            return NULL;
        }
        r->pool[i] = NULL;
    }
    if (out)
        nattel__envelope_lend(r->env, NULL, NULL, 0);
    return out;
}
