/*
 * The strict single-pass reader: the token tree in one pass, and the fast
 * path that decodes events and envelopes straight from the bytes (see
 * nattel_reader.h for how the two fit together).
 */
#include "codec/nattel_fastpath.h"

#include "natx/natx_buf.h"
#include "codec/nattel_decode.h"
#include "codec/nattel_envelope.h"
#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "model/nattel_registry.h"
#include "natx/natx_utf8.h"
#include "natx/natx_mem.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Byte-level scanners                                               */
/* ---------------------------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const char *s, size_t len, size_t p)
{
    while (p < len && is_ws(s[p]))
        p++;
    return p;
}

static nattel_code bad_byte(const char *s, size_t len, size_t p,
                            const char *expected, nattel_error *err)
{
    if (p >= len)
        return natx_fail(err, NATTEL_EPARSE,
                         "invalid JSON: unexpected end of input, expected %s",
                         expected);
    unsigned char c = (unsigned char)s[p];
    if (c == 0)
        return natx_fail(err, NATTEL_EPARSE,
                         "invalid JSON at byte %zu: unexpected byte 0x00 "
                         "(NUL)",
                         p);
    if (c >= 0x20 && c < 0x7F)
        return natx_fail(
            err, NATTEL_EPARSE,
            "invalid JSON at byte %zu: unexpected '%c', expected %s", p, c,
            expected);
    return natx_fail(
        err, NATTEL_EPARSE,
        "invalid JSON at byte %zu: unexpected byte 0x%02X, expected %s", p, c,
        expected);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_u4(const char *s, size_t avail, unsigned *cp)
{
    if (avail < 4)
        return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[k]);
        if (h < 0)
            return 0;
        v = (v << 4) | (unsigned)h;
    }
    *cp = v;
    return 1;
}

/* An escape at s[i] (a backslash) that JSON does not allow, said with the
 * escape as written (printable bytes only). */
static nattel_code bad_escape(const char *s, size_t len, size_t i,
                              nattel_error *err)
{
    if (i + 1 >= len)
        return natx_fail(err, NATTEL_EPARSE,
                         "invalid JSON at byte %zu: unfinished escape at "
                         "end of input",
                         i);
    unsigned char e = (unsigned char)s[i + 1];
    if (e == 'u') {
        size_t k = 0; /* up to 4 printable bytes after \u, as found */
        while (k < 4 && i + 2 + k < len && s[i + 2 + k] > 0x20 &&
               s[i + 2 + k] < 0x7F && s[i + 2 + k] != '"')
            k++;
        return natx_fail(err, NATTEL_EPARSE,
                         "invalid JSON at byte %zu: invalid escape '\\u%.*s' "
                         "(\\u takes 4 hex digits)",
                         i, (int)k, s + i + 2);
    }
    if (e > 0x20 && e < 0x7F)
        return natx_fail(err, NATTEL_EPARSE,
                         "invalid JSON at byte %zu: invalid escape '\\%c'", i,
                         e);
    return natx_fail(err, NATTEL_EPARSE,
                     "invalid JSON at byte %zu: invalid escape: '\\' "
                     "followed by byte 0x%02X",
                     i, e);
}

/* The escape at s[i]: its length, or 0 with err filled. */
static size_t scan_escape(const char *s, size_t len, size_t i,
                          nattel_error *err)
{
    char e = i + 1 < len ? s[i + 1] : '\0';
    if (e == 'u') {
        unsigned cp, lo;
        if (!read_u4(s + i + 2, len - i - 2, &cp)) {
            bad_escape(s, len, i, err);
            return 0;
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            natx_fail(err, NATTEL_EPARSE,
                      "invalid JSON at byte %zu: lone low surrogate \\u%04X", i,
                      cp);
            return 0;
        }
        if (cp < 0xD800 || cp > 0xDBFF)
            return 6;
        if (i + 12 > len || s[i + 6] != '\\' || s[i + 7] != 'u' ||
            !read_u4(s + i + 8, len - i - 8, &lo) || lo < 0xDC00 ||
            lo > 0xDFFF) {
            natx_fail(err, NATTEL_EPARSE,
                      "invalid JSON at byte %zu: lone high surrogate \\u%04X",
                      i, cp);
            return 0;
        }
        return 12;
    }
    switch (e) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return 2;
    default:
        bad_escape(s, len, i, err);
        return 0;
    }
}

/* The string whose opening quote is s[q]: the index of its closing quote,
 * or SIZE_MAX with err filled. *escaped says whether escapes occur. */
static size_t scan_string(const char *s, size_t len, size_t q, int *escaped,
                          nattel_error *err)
{
    size_t i = q + 1;
    for (;;) {
        i = nattel__string_run(s, len, i);
        if (i >= len) {
            natx_fail(err, NATTEL_EPARSE,
                      "invalid JSON: unexpected end of input in the "
                      "string at byte %zu",
                      q);
            return SIZE_MAX;
        }
        unsigned char c = (unsigned char)s[i];
        size_t n;
        if (c == '"')
            return i;
        if (c == '\\') {
            *escaped = 1;
            n = scan_escape(s, len, i, err);
        } else if (c < 0x20) {
            if (c == 0)
                natx_fail(err, NATTEL_EPARSE,
                          "invalid JSON at byte %zu: raw U+0000 inside a "
                          "string",
                          i);
            else
                natx_fail(err, NATTEL_EPARSE,
                          "invalid JSON at byte %zu: unescaped control "
                          "character 0x%02X in string",
                          i, c);
            return SIZE_MAX;
        } else {
            n = natx_utf8_seq((const unsigned char *)s + i, len - i);
            if (!n)
                natx_fail(err, NATTEL_EPARSE,
                          "invalid JSON at byte %zu: invalid UTF-8 in "
                          "string",
                          i);
        }
        if (!n)
            return SIZE_MAX;
        i += n;
    }
}

static int is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* End of the number at s[i] by RFC 8259's grammar; i when there is none. */
static size_t scan_number(const char *s, size_t len, size_t i)
{
    size_t b = i;
    if (i < len && s[i] == '-')
        i++;
    if (i < len && s[i] == '0')
        i++;
    else if (i < len && s[i] >= '1' && s[i] <= '9')
        while (i < len && is_digit(s[i]))
            i++;
    else
        return b;
    if (i < len && s[i] == '.') {
        if (++i >= len || !is_digit(s[i]))
            return b;
        while (i < len && is_digit(s[i]))
            i++;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= len || !is_digit(s[i]))
            return b;
        while (i < len && is_digit(s[i]))
            i++;
    }
    return i;
}

static int ends_word(const char *s, size_t len, size_t i)
{
    return i >= len || is_ws(s[i]) || s[i] == ',' || s[i] == ']' || s[i] == '}';
}

/* A literal or number at s[p]: its end, or 0 with err filled. */
static size_t scan_scalar(const char *s, size_t len, size_t p,
                          nattel_error *err)
{
    size_t e = p;
    char c = s[p];
    if (c == 't' && len - p >= 4 && !memcmp(s + p, "true", 4))
        e = p + 4;
    else if (c == 'f' && len - p >= 5 && !memcmp(s + p, "false", 5))
        e = p + 5;
    else if (c == 'n' && len - p >= 4 && !memcmp(s + p, "null", 4))
        e = p + 4;
    else if (c == '-' || is_digit(c))
        e = scan_number(s, len, p);
    if (e > p && ends_word(s, len, e))
        return e;
    if (e > p && ((unsigned char)s[e] < 0x20 || (unsigned char)s[e] >= 0x7F)) {
        bad_byte(s, len, e, "',' or a closing bracket", err);
        return 0;
    }
    size_t w = p;
    while (w < len && w - p < NATTEL__SYNTAX_NEAR_CUT &&
           !ends_word(s, len, w) && s[w] != ':' &&
           (unsigned char)s[w] >= 0x20 && (unsigned char)s[w] < 0x7F)
        w++;
    if (w == p)
        w = p + 1;
    natx_fail(err, NATTEL_EPARSE,
              "invalid JSON at byte %zu: '%.*s' is not a JSON value", p,
              (int)(w - p), s + p);
    return 0;
}

/* ---------------------------------------------------------------- */
/* The token tree, in one pass                                       */
/* ---------------------------------------------------------------- */

static int push_tok(nattel__jdoc *d, unsigned *cap, nattel__jtype type,
                    size_t start, size_t end, nattel_error *err,
                    nattel_code *rc)
{
    if (d->count == *cap) {
        if (*cap >= NATTEL__JSON_MAX_TOKENS) {
            *rc = natx_fail(err, NATTEL_ELIMIT,
                            "JSON document holds more than %u values",
                            NATTEL__JSON_MAX_TOKENS);
            return -1;
        }
        /* The first tokens live in the document itself (d->small). */
        int was_small = d->toks == d->small;
        nattel__jtok *nt = was_small ? NULL : d->toks;
        size_t ncap = was_small ? 0 : *cap;
        size_t want = (size_t)*cap * 2 > NATTEL__JSON_MAX_TOKENS
                          ? NATTEL__JSON_MAX_TOKENS
                          : (size_t)*cap * 2;
        if (NATX_GROW(nt, ncap, want)) {
            *rc = natx_fail(err, NATTEL_ENOMEM, "out of memory reading JSON");
            return -1;
        }
        if (was_small)
            memcpy(nt, d->small, *cap * sizeof *nt);
        d->toks = nt;
        *cap = ncap > NATTEL__JSON_MAX_TOKENS ? NATTEL__JSON_MAX_TOKENS
                                              : (unsigned)ncap;
    }
    nattel__jtok *t = &d->toks[d->count];
    t->type = type;
    t->start = (int)start;
    t->end = (int)end;
    t->size = 0;
    t->parent = (int)d->count + 1;
    return (int)d->count++;
}

/* A string token for the string at s[p]; the index past it, or 0. */
static size_t tree_string(nattel__jdoc *d, unsigned *cap, size_t p,
                          nattel_error *err, nattel_code *rc)
{
    int escaped = 0;
    *rc = NATTEL_EPARSE;
    size_t q = scan_string(d->src, d->len, p, &escaped, err);
    if (q == SIZE_MAX)
        return 0;
    int k = push_tok(d, cap, NATTEL__JSTRING, p + 1, q, err, rc);
    if (k < 0)
        return 0;
    d->toks[k].size = escaped;
    return q + 1;
}

nattel_code nattel__json_tree(nattel__jdoc *d, const char *src, size_t len,
                              nattel_error *err)
{
    d->src = src;
    d->len = len;
    d->toks = d->small;
    d->count = 0;
    d->depth_limit = NATTEL_JSON_MAX_DEPTH;
    if (len > NATTEL_JSON_MAX_BYTES || len > INT32_MAX)
        return natx_fail(err, NATTEL_ELIMIT,
                         "JSON document of %zu bytes is over the %u-byte limit",
                         len, NATTEL_JSON_MAX_BYTES);
    const char *s = src;
    unsigned cap = NATTEL__JSON_SMALL, depth = 0;
    unsigned stack[NATTEL_JSON_MAX_DEPTH];
    nattel_code rc = NATTEL_OK;
    size_t p = skip_ws(s, len, 0);
    int k;
value:
    if (p >= len)
        return bad_byte(s, len, p, "a JSON value", err);
    switch (s[p]) {
    case '{':
    case '[': {
        char open = s[p];
        if (depth >= d->depth_limit)
            return natx_fail(err, NATTEL_ELIMIT,
                             "JSON nested deeper than %u levels at byte %zu",
                             d->depth_limit, p);
        if ((k = push_tok(d, &cap,
                          open == '{' ? NATTEL__JOBJECT : NATTEL__JARRAY, p,
                          p + 1, err, &rc)) < 0)
            return rc;
        stack[depth++] = (unsigned)k;
        p = skip_ws(s, len, p + 1);
        if (p < len && s[p] == (open == '{' ? '}' : ']'))
            goto close;
        d->toks[k].size = 1;
        if (open == '[')
            goto value;
        goto key;
    }
    case '"':
        if (!(p = tree_string(d, &cap, p, err, &rc)))
            return rc;
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
    case 't':
    case 'f':
    case 'n': {
        size_t e = scan_scalar(s, len, p, err);
        if (!e)
            return NATTEL_EPARSE;
        if (push_tok(d, &cap, NATTEL__JPRIMITIVE, p, e, err, &rc) < 0)
            return rc;
        p = e;
        break;
    }
    default:
        return bad_byte(s, len, p, "a JSON value", err);
    }
after:
    /* After a value: the next member, or the end of a container. */
    if (depth == 0) {
        p = skip_ws(s, len, p);
        if (p != len)
            return natx_fail(err, NATTEL_EPARSE,
                             "invalid JSON at byte %zu: trailing data "
                             "after the document",
                             p);
        return NATTEL_OK;
    }
    p = skip_ws(s, len, p);
    {
        nattel__jtok *top = &d->toks[stack[depth - 1]];
        int obj = top->type == NATTEL__JOBJECT;
        if (p < len && s[p] == ',') {
            p = skip_ws(s, len, p + 1);
            top->size++;
            if (obj)
                goto key;
            goto value;
        }
        if (p < len && s[p] == (obj ? '}' : ']'))
            goto close;
        return bad_byte(s, len, p, obj ? "',' or '}'" : "',' or ']'", err);
    }
close:
    /* s[p] closes the innermost container. */
    {
        nattel__jtok *top = &d->toks[stack[--depth]];
        top->end = (int)p + 1;
        top->parent = (int)d->count;
        p++;
    }
    goto after;
key:
    if (p >= len || s[p] != '"')
        return bad_byte(s, len, p, "a string key", err);
    if (!(p = tree_string(d, &cap, p, err, &rc)))
        return rc;
    p = skip_ws(s, len, p);
    if (p >= len || s[p] != ':')
        return bad_byte(s, len, p, "':'", err);
    p = skip_ws(s, len, p + 1);
    goto value;
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
        i = nattel__string_run(s, f->len, i);
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
        char *p = nattel__event_alloc(ev, n + 1);
        if (!p)
            return 0;
        memcpy(p, s, n);
        p[n] = '\0';
        v->s.ptr = p;
        v->s.len = n;
        return 1;
    }
    case NATTEL_KIND_ENUM: {
        if (!plain_string(f, &s, &n))
            return 0;
        /* Values repeat: the one that matched last time first. */
        const nattel_enum_type *e = fd->enum_type;
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

/* A name that reads as itself between quotes: no quote, backslash or
 * control character, valid UTF-8, and not the key that makes a line an
 * envelope. */
static int plain_name(const char *s, size_t n)
{
    if (n == 6 && !memcmp(s, "events", 6))
        return 0;
    size_t i = nattel__string_run(s, n, 0); /* plain ASCII: the usual */
    while (i < n) {
        if ((unsigned char)s[i] < 0x80)
            return 0; /* a control character, a quote or a backslash */
        size_t k = natx_utf8_seq((const unsigned char *)s + i, n - i);
        if (!k)
            return 0;
        i = nattel__string_run(s, n, i + k);
    }
    return 1;
}

static nattel__plan *plan_for(nattel__reader *r, const nattel_event_type *t)
{
    if (r->one_shot) {
        /* One document: matching keys by scanning them costs less than
         * measuring every name first. */
        nattel__plan *p = &r->plans[0];
        p->type = t;
        p->plain = 0;
        return p;
    }
    for (unsigned i = 0; i < NATTEL__PLANS; i++)
        if (r->plans[i].type == t)
            return &r->plans[i];
    nattel__plan *p = &r->plans[r->next_plan++ % NATTEL__PLANS];
    p->type = t;
    memset(p->ehint, 0, sizeof p->ehint);
    p->plain = t->field_count <= NATTEL__PLAN_FIELDS;
    for (size_t i = 0; p->plain && i < t->field_count; i++) {
        size_t n = strlen(t->fields[i].wire_name);
        p->wlen[i] = (unsigned char)n;
        p->plain = n < 256 && plain_name(t->fields[i].wire_name, n);
    }
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
        for (size_t k = 0;; k++) {
            const char *key;
            size_t kn;
            int i = (int)k;
            if (!plan->plain || k >= fc ||
                !key_is(f, t->fields[k].wire_name, plan->wlen[k])) {
                f->canon = f->tidy = 0;
                if (!plain_string(f, &key, &kn))
                    return 0;
                if (line && kn == 6 && !memcmp(key, "events", 6))
                    return 0;
                i = find_field(t, mode, key, kn, k);
            }
            if (i < 0 || (given >> i) & 1)
                return 0;
            given |= (uint64_t)1 << i;
            if (f->p < f->len && f->s[f->p] == ':')
                f->p++;
            else if (!feat(f, ':'))
                return 0;
            fws(f);
            if (!fast_value(f, plan, (size_t)i, ev))
                return 0;
            int more = fnext_member(f);
            if (more < 0)
                return 0;
            if (!more)
                break;
        }
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

/* ---------------------------------------------------------------- */
/* The reader's reusable objects                                     */
/* ---------------------------------------------------------------- */

_Static_assert(NATTEL__ENV_KEYS <= 32, "fast_envelope's `given` bits");

/* Event slot i, empty and of type t. */
static nattel_event *pool_get(nattel__reader *r, size_t i,
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
    r->pool[i] = ev = nattel_event_new(t);
    return ev;
}

void nattel__reader_init(nattel__reader *r, const nattel_registry *reg)
{
    memset(r, 0, sizeof *r);
    r->reg = reg;
    if (reg && reg->count)
        r->guess = reg->types[0];
    /* All-zero buffers are empty ones (NATTEL_BUF_INIT). */
}

static void clear_slow(nattel__reader *r)
{
    nattel_event_free(r->slow_ev);
    r->slow_ev = NULL;
    nattel_envelope_free(r->slow_env);
    r->slow_env = NULL;
}

void nattel__reader_release(nattel__reader *r)
{
    clear_slow(r);
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

static int ts_slot(nattel__reader *r, size_t i, span ts)
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
static int fast_item(nattel__reader *r, fast *f, nattel_mode mode, size_t idx)
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
            if (!fast_event(f, plan_for(r, as), mode, ev, 0)) {
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
            if (!plain_string(f, &name.p, &name.n) ||
                !(type = find_type(r->reg, name.p, name.n)))
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
        if (!ev || !fast_event(f, plan_for(r, type), mode, ev, 0) ||
            f->p != params_end)
            return 0;
        f->p = end;
    }
    r->guess = type;
    return ts_slot(r, idx, ts);
}

static int fast_events(nattel__reader *r, fast *f, nattel_mode mode,
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
static int publish(nattel__reader *r, const span *v, size_t count)
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

static int fast_envelope(nattel__reader *r, fast *f, nattel_mode mode)
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

/* A parse failure as the document's one problem. */
static nattel_code parse_failed(nattel_code rc, const nattel_error *perr,
                                nattel_problems *problems)
{
    if (problems && nattel__problem(problems, "$", "%s", perr->message))
        return NATTEL_ENOMEM;
    return rc;
}

/* Whether the document ends at f->p (whitespace aside). */
static int at_end(fast *f)
{
    fws(f);
    return f->p == f->len;
}

enum { AS_EVENT = 1, AS_ENVELOPE = 2, AS_LINE = 3 };

/* The fast path for `as`; 1 with the result in the reader, else 0. */
static int try_fast(nattel__reader *r, int as, const nattel_event_type *type,
                    nattel_mode mode, const char *json, size_t len, int *is_env)
{
    fast f = {json, len, 0, 1, 1};
    r->canon = r->tidy = 0;
    /* Past 2 bytes a value, the token tree could meet its count limit:
     * such documents go where that limit is applied, so that verdicts
     * stay the same. */
    if (r->path == 1 || len > 2 * (size_t)NATTEL__JSON_MAX_TOKENS - 1)
        return 0;
    if (as == AS_LINE) {
        /* The first key tells an envelope from parameters. */
        const char *key;
        size_t kn;
        if (!feat(&f, '{'))
            return 0;
        fws(&f);
        if (!plain_string(&f, &key, &kn))
            return 0;
        as = nattel__env_key_index(key, kn, 0) >= 0 ? AS_ENVELOPE : AS_LINE;
        f.p = 0;
    }
    *is_env = as == AS_ENVELOPE;
    int ok;
    if (as == AS_ENVELOPE) {
        ok = fast_envelope(r, &f, mode) && at_end(&f);
    } else {
        nattel_event *ev = type ? pool_get(r, 0, type) : NULL;
        ok = ev && fast_event(&f, plan_for(r, type), mode, ev, as == AS_LINE) &&
             at_end(&f);
    }
    r->canon = ok && f.canon;
    r->tidy = ok && f.tidy;
    return ok;
}

static nattel_code decode(nattel__reader *r, int as,
                          const nattel_event_type *type, nattel_mode mode,
                          const char *json, size_t len, const nattel_event **ev,
                          const nattel_envelope **env,
                          nattel_problems *problems)
{
    int is_env = 0;
    clear_slow(r);
    if (ev)
        *ev = NULL;
    if (env)
        *env = NULL;
    r->fast = try_fast(r, as, type, mode, json, len, &is_env);
    if (r->fast) {
        if (is_env && env)
            *env = r->env;
        else if (!is_env && ev)
            *ev = r->pool[0];
        return NATTEL_OK;
    }
    if (r->path == 2)
        return NATTEL_EINVAL;
    nattel__jdoc d;
    nattel_error perr;
    nattel_code rc = nattel__json_parse(&d, json, len, &perr);
    if (rc)
        rc = parse_failed(rc, &perr, problems);
    else if (as == AS_ENVELOPE ||
             (as == AS_LINE && nattel__json_root_has(&d, "events")))
        rc = nattel__decode_envelope(&d, r->reg, mode,
                                     env ? &r->slow_env : NULL, problems);
    else
        rc = nattel__decode_event(&d, type, mode, ev ? &r->slow_ev : NULL,
                                  problems);
    nattel__json_release(&d);
    if (!rc && env)
        *env = r->slow_env;
    if (!rc && ev)
        *ev = r->slow_ev;
    return rc;
}

nattel_code nattel__reader_event(nattel__reader *r,
                                 const nattel_event_type *type,
                                 nattel_mode mode, const char *json, size_t len,
                                 const nattel_event **out,
                                 nattel_problems *problems)
{
    return decode(r, AS_EVENT, type, mode, json, len, out, NULL, problems);
}

nattel_code nattel__reader_envelope(nattel__reader *r, nattel_mode mode,
                                    const char *json, size_t len,
                                    const nattel_envelope **out,
                                    nattel_problems *problems)
{
    return decode(r, AS_ENVELOPE, NULL, mode, json, len, NULL, out, problems);
}

nattel_code nattel__reader_line(nattel__reader *r,
                                const nattel_event_type *type, nattel_mode mode,
                                const char *json, size_t len,
                                const nattel_event **ev,
                                const nattel_envelope **env,
                                nattel_problems *problems)
{
    return decode(r, AS_LINE, type, mode, json, len, ev, env, problems);
}

static inline char *copy_run(char *o, const char *s, size_t k)
{
    for (; k >= 8; k -= 8, s += 8, o += 8)
        memcpy(o, s, 8);
    while (k--)
        *o++ = *s++;
    return o;
}

size_t nattel__reader_tidy(const char *s, size_t n, char *out)
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
            size_t j = nattel__string_run(s, n, i + 1);
            while (j < n && s[j] != '"')
                j = nattel__string_run(s, n, j + 1); /* non-ASCII */
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

nattel_event *nattel__reader_take_event(nattel__reader *r)
{
    nattel_event *ev;
    if (r->fast) {
        ev = r->pool_cap ? r->pool[0] : NULL;
        if (ev)
            r->pool[0] = NULL;
    } else {
        ev = r->slow_ev;
        r->slow_ev = NULL;
    }
    return ev;
}

nattel_envelope *nattel__reader_take_envelope(nattel__reader *r)
{
    if (!r->fast) {
        nattel_envelope *env = r->slow_env;
        r->slow_env = NULL;
        return env;
    }
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
