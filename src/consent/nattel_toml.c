/*
 * Strict TOML 1.0 reader. The rules that decide what is well-formed follow
 * the TOML specification as Python's tomllib applies it, because the
 * consent file is shared with the Python `nat`: a file one side reads, the
 * other must read the same way, and one it refuses must be refused here.
 *
 * Redefinition rules use two flags per key path, kept in a tree apart from
 * the data (array elements share their array's path):
 *  - EXPLICIT: the table was opened by a [header] (or, once the next header
 *    starts, by a dotted key), so it cannot be opened again;
 *  - FROZEN: an inline table or an array value, immutable with all below.
 */
#include "consent/nattel_toml.h"
#include "model/nattel_error.h"
#include "natx/natx_utf8.h"
#include "natx/natx_mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FLAG_FROZEN 1u
#define FLAG_EXPLICIT 2u

/* ---------------------------------------------------------------- arena */

struct nattel__toml {
    natx_arena arena; /* its bytes capped at ARENA_MAX */
    nattel__toml_value *root;
};

/* A consent file is a few hundred bytes, but one of up to 1 MiB must still
 * be read (a long comment block is legal TOML); the arena and step bounds
 * of src/nattel_limits.h leave room for that. A document over either is
 * NATTEL_ELIMIT, never a partial read. */
#define ARENA_MAX NATTEL__TOML_ARENA_MAX
#define STEPS_MAX NATTEL__TOML_STEPS_MAX

static void *arena_alloc(nattel__toml *doc, size_t n)
{
    void *p = natx_arena_alloc(&doc->arena, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void nattel__toml_free(nattel__toml *doc)
{
    if (!doc)
        return;
    natx_arena_free(&doc->arena);
    free(doc);
}

/* -------------------------------------------------------------- parser */

typedef struct kpart {
    const char *p;
    size_t n;
} kpart;

typedef struct keypath {
    kpart *parts;
    size_t count;
} keypath;

/* A node of the flag tree. Children are found through the parser's index
 * by (owner id, key), so a node with many children costs no scan; a node
 * whose subtree is forgotten takes a new id, leaving its old children
 * unreachable. */
typedef struct fnode {
    kpart key;
    unsigned flags, rflags; /* rflags apply to everything below too */
    size_t id;              /* owner id of this node's children */
    size_t owner;           /* the parent's id */
    struct fnode *hnext;    /* index chain */
} fnode;

/* Hash index of (owner, key) pairs: chains through the nodes themselves. */
typedef struct hindex {
    void **heads;
    size_t mask; /* buckets - 1; 0 before the first insert */
    size_t count;
} hindex;

typedef struct pending {
    keypath key;
    unsigned flag;
    struct pending *next;
} pending;

typedef struct parser {
    nattel__toml *doc;
    const char *s;
    size_t n, pos;
    fnode flags; /* root of the document's flag tree */
    size_t next_id;
    size_t steps; /* work done, bounded by STEPS_MAX */
    hindex fidx;  /* flag tree nodes by (owner id, key) */
    hindex vidx;  /* values by (table, key) */
    pending *pending;
    int depth;
    int failed;
    nattel_code code;
    nattel_error *err;
} parser;

#define TRY(x)                                                                 \
    do {                                                                       \
        if ((x) < 0)                                                           \
            return -1;                                                         \
    } while (0)

static int fail(parser *p, const char *what)
{
    if (p->failed)
        return -1;
    p->failed = 1;
    p->code = NATTEL_EPARSE;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->n; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)p->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    natx_fail(p->err, NATTEL_EPARSE, "line %zu, column %zu: %s", line, col,
              what);
    return -1;
}

/* Checked once per statement and per array or inline-table member: the
 * work between two checks is bounded by the key length limits. */
static int within_budget(parser *p)
{
    if (p->steps <= STEPS_MAX || p->failed)
        return p->failed ? -1 : 0;
    p->failed = 1;
    p->code = NATTEL_ELIMIT;
    natx_fail(p->err, NATTEL_ELIMIT,
              "TOML: document needs more than %u steps to read", STEPS_MAX);
    return -1;
}

static void *alloc(parser *p, size_t n)
{
    void *v = arena_alloc(p->doc, n);
    if (!v && !p->failed) {
        p->failed = 1;
        p->code = p->doc->arena.total + n + 16384 > ARENA_MAX ? NATTEL_ELIMIT
                                                              : NATTEL_ENOMEM;
        natx_fail(p->err, p->code,
                  p->code == NATTEL_ELIMIT
                      ? "TOML: document needs more than %u bytes to read"
                      : "TOML: out of memory (%u-byte budget)",
                  ARENA_MAX);
    }
    return v;
}

static int peek(const parser *p)
{
    return p->pos < p->n ? (unsigned char)p->s[p->pos] : -1;
}

static int at(const parser *p, const char *lit)
{
    size_t k = strlen(lit);
    return p->n - p->pos >= k && !memcmp(p->s + p->pos, lit, k);
}

static int is_ctrl(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_bare(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c == '-';
}

static void skip_ws(parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t'))
        p->pos++;
}

static int skip_comment(parser *p)
{
    if (peek(p) != '#')
        return 0;
    p->pos++;
    for (int c; (c = peek(p)) != -1 && c != '\n'; p->pos++)
        if (is_ctrl(c) && c != '\t')
            return fail(p, "illegal control character in a comment");
    return 0;
}

static int skip_array_ws(parser *p)
{
    for (;;) {
        size_t before = p->pos;
        while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                                 p->s[p->pos] == '\n'))
            p->pos++;
        TRY(skip_comment(p));
        if (p->pos == before)
            return 0;
    }
}

/* ------------------------------------------------------------- strings */

static int hex_escape(parser *p, int digits, char *out, size_t *o)
{
    unsigned long cp = 0;
    for (int i = 0; i < digits; i++) {
        int c = peek(p);
        if (!is_hex(c))
            return fail(p, "invalid hex value in a \\u or \\U escape");
        cp = cp * 16 + (unsigned long)(is_digit(c) ? c - '0'
                                       : c >= 'a'  ? c - 'a' + 10
                                                   : c - 'A' + 10);
        p->pos++;
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(p, "escaped character is not a Unicode scalar value");
    *o += natx_utf8_encode((unsigned)cp, out + *o);
    return 0;
}

/* A multi-line string's line-ending backslash: trims the newline and all
 * whitespace after it; only whitespace may sit between `\` and newline. */
static int line_ending_backslash(parser *p)
{
    skip_ws(p);
    if (peek(p) == -1)
        return 0;
    if (peek(p) != '\n')
        return fail(p, "unescaped '\\' in a string");
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                             p->s[p->pos] == '\n'))
        p->pos++;
    return 0;
}

static int escape(parser *p, int multiline, char *out, size_t *o)
{
    p->pos++; /* the backslash */
    int c = peek(p);
    if (multiline && (c == ' ' || c == '\t' || c == '\n'))
        return line_ending_backslash(p);
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = c > 0 ? strchr(from, c) : NULL;
    p->pos++;
    if (c == 'u' || c == 'U')
        return hex_escape(p, c == 'u' ? 4 : 8, out, o);
    if (!hit) {
        p->pos--;
        return fail(p, "unescaped '\\' in a string");
    }
    out[(*o)++] = to[hit - from];
    return 0;
}

/* Basic string body from p->pos (past the opening quotes). */
/* Bytes up to the end of the string that starts at p->pos: the decoded
 * text is never longer, so that (not the rest of the file) is what a
 * string needs. */
static size_t basic_span(const parser *p, int multiline)
{
    size_t i = p->pos;
    while (i < p->n) {
        char c = p->s[i];
        if (c == '\\') {
            i += 2;
        } else if (c == '"' &&
                   (!multiline || (i + 2 < p->n && p->s[i + 1] == '"' &&
                                   p->s[i + 2] == '"'))) {
            break;
        } else if (c == '\n' && !multiline) {
            break;
        } else {
            i++;
        }
    }
    return (i < p->n ? i : p->n) - p->pos;
}

static int basic_body(parser *p, int multiline, kpart *out)
{
    char *buf = alloc(p, basic_span(p, multiline) + 3);
    if (!buf)
        return -1;
    size_t o = 0;
    for (;;) {
        int c = peek(p);
        if (c == -1)
            return fail(p, "unterminated string");
        if (c == '"') {
            if (!multiline) {
                p->pos++;
                break;
            }
            if (at(p, "\"\"\"")) {
                p->pos += 3;
                break;
            }
            buf[o++] = '"';
            p->pos++;
        } else if (c == '\\') {
            TRY(escape(p, multiline, buf, &o));
        } else if (is_ctrl(c) && c != '\t' && !(multiline && c == '\n')) {
            return fail(p, "illegal control character in a string");
        } else {
            buf[o++] = (char)c;
            p->pos++;
        }
    }
    buf[o] = '\0';
    out->p = buf;
    out->n = o;
    return 0;
}

/* Literal string body up to `delim`; no escapes. */
static int literal_body(parser *p, const char *delim, int multiline, kpart *out)
{
    size_t start = p->pos;
    while (!at(p, delim)) {
        int c = peek(p);
        if (c == -1)
            return fail(p, "unterminated string");
        if (is_ctrl(c) && c != '\t' && !(multiline && c == '\n'))
            return fail(p, "illegal control character in a string");
        p->pos++;
    }
    size_t len = p->pos - start;
    p->pos += strlen(delim);
    char *buf = alloc(p, len + 3);
    if (!buf)
        return -1;
    memcpy(buf, p->s + start, len);
    out->p = buf;
    out->n = len;
    return 0;
}

static int one_line_string(parser *p, kpart *out)
{
    int quote = peek(p);
    p->pos++;
    if (quote == '"')
        return basic_body(p, 0, out);
    return literal_body(p, "'", 0, out);
}

static int multiline_string(parser *p, kpart *out)
{
    char q = p->s[p->pos];
    p->pos += 3;
    if (peek(p) == '\n') /* a newline right after the opening is trimmed */
        p->pos++;
    if (q == '"')
        TRY(basic_body(p, 1, out));
    else
        TRY(literal_body(p, "'''", 1, out));
    /* Up to two quotes may end the content right before the closing three
     * (room for them was reserved by the body readers). */
    char *buf = (char *)out->p;
    for (int i = 0; i < 2 && peek(p) == q; i++, p->pos++)
        buf[out->n++] = q;
    buf[out->n] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- keys */

static int key_part(parser *p, kpart *out)
{
    int c = peek(p);
    if (is_bare(c)) {
        size_t start = p->pos;
        while (is_bare(peek(p)))
            p->pos++;
        out->p = p->s + start;
        out->n = p->pos - start;
        return 0;
    }
    if (c == '"' || c == '\'')
        return one_line_string(p, out);
    return fail(p, "invalid character at the start of a key");
}

static int parse_key(parser *p, keypath *key)
{
    kpart parts[256];
    size_t count = 0;
    for (;;) {
        if (count == sizeof parts / sizeof *parts)
            return fail(p, "key has too many dotted parts");
        TRY(key_part(p, &parts[count++]));
        skip_ws(p);
        if (peek(p) != '.')
            break;
        p->pos++;
        skip_ws(p);
    }
    key->parts = alloc(p, count * sizeof *parts);
    if (!key->parts)
        return -1;
    memcpy(key->parts, parts, count * sizeof *parts);
    key->count = count;
    return 0;
}

static int kpart_eq(kpart a, kpart b)
{
    return a.n == b.n && !memcmp(a.p, b.p, a.n);
}

/* header + key[0..k) as a new path. */
static int join_path(parser *p, const keypath *header, const keypath *key,
                     size_t k, keypath *out)
{
    out->count = header->count + k;
    p->steps += out->count;
    out->parts = alloc(p, (out->count ? out->count : 1) * sizeof(kpart));
    if (!out->parts)
        return -1;
    if (header->count)
        memcpy(out->parts, header->parts, header->count * sizeof(kpart));
    if (k)
        memcpy(out->parts + header->count, key->parts, k * sizeof(kpart));
    return 0;
}

/* --------------------------------------------------------------- index */

/* A consent file may be 1 MiB, so a table of many keys must not cost a
 * scan per key: lookups by (container, key) go through these indexes. */
static size_t hash_key(uintptr_t owner, kpart k)
{
    uint64_t h =
        1469598103934665603ull ^ ((uint64_t)owner * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < k.n; i++) {
        h ^= (unsigned char)k.p[i];
        h *= 1099511628211ull;
    }
    return (size_t)(h ^ (h >> 31));
}

static void **index_slot(hindex *ix, uintptr_t owner, kpart k)
{
    return ix->mask ? &ix->heads[hash_key(owner, k) & ix->mask] : NULL;
}

static fnode *fnode_find(parser *p, size_t owner, kpart k)
{
    void **slot = index_slot(&p->fidx, owner, k);
    p->steps++;
    for (fnode *f = slot ? *slot : NULL; f; f = f->hnext, p->steps++)
        if (f->owner == owner && kpart_eq(f->key, k))
            return f;
    return NULL;
}

static nattel__toml_value *value_find(parser *p, const nattel__toml_value *t,
                                      kpart k)
{
    void **slot = index_slot(&p->vidx, (uintptr_t)t, k);
    p->steps++;
    for (nattel__toml_value *v = slot ? *slot : NULL; v;
         v = v->hnext, p->steps++)
        if (v->owner == t && v->key_len == k.n && !memcmp(v->key, k.p, k.n))
            return v;
    return NULL;
}

/* Room for one more entry: the buckets double when full. */
static int index_grow(parser *p, hindex *ix, int values)
{
    if (ix->mask && ix->count < ix->mask + 1)
        return 0;
    size_t cap = ix->mask ? (ix->mask + 1) * 2 : 64;
    void **heads = calloc(cap, sizeof *heads);
    if (!heads) {
        p->failed = 1;
        p->code = NATTEL_ENOMEM;
        natx_fail(p->err, NATTEL_ENOMEM, "TOML: out of memory");
        return -1;
    }
    for (size_t b = 0; ix->mask && b <= ix->mask; b++) {
        for (void *e = ix->heads[b], *next; e; e = next) {
            size_t h;
            if (values) {
                nattel__toml_value *v = e;
                next = v->hnext;
                h = hash_key((uintptr_t)v->owner, (kpart){v->key, v->key_len});
                v->hnext = heads[h & (cap - 1)];
            } else {
                fnode *f = e;
                next = f->hnext;
                h = hash_key(f->owner, f->key);
                f->hnext = heads[h & (cap - 1)];
            }
            heads[h & (cap - 1)] = e;
        }
    }
    free(ix->heads);
    ix->heads = heads;
    ix->mask = cap - 1;
    return 0;
}

static int fnode_index(parser *p, fnode *f)
{
    TRY(index_grow(p, &p->fidx, 0));
    void **slot = index_slot(&p->fidx, f->owner, f->key);
    f->hnext = *slot;
    *slot = f;
    p->fidx.count++;
    return 0;
}

static int value_index(parser *p, nattel__toml_value *v)
{
    TRY(index_grow(p, &p->vidx, 1));
    void **slot =
        index_slot(&p->vidx, (uintptr_t)v->owner, (kpart){v->key, v->key_len});
    v->hnext = *slot;
    *slot = v;
    p->vidx.count++;
    return 0;
}

/* --------------------------------------------------------------- flags */

static fnode *fchild(parser *p, const fnode *parent, kpart k)
{
    return fnode_find(p, parent->id, k);
}

static int flags_is(parser *p, const fnode *root, const keypath *key,
                    unsigned flag)
{
    if (!key->count)
        return 0;
    const fnode *cont = root;
    for (size_t i = 0; i + 1 < key->count; i++) {
        cont = fchild(p, cont, key->parts[i]);
        if (!cont)
            return 0;
        if (cont->rflags & flag)
            return 1;
    }
    fnode *stem = fchild(p, cont, key->parts[key->count - 1]);
    return stem && ((stem->flags | stem->rflags) & flag);
}

static int flags_set(parser *p, fnode *root, const keypath *key, unsigned flag,
                     int recursive)
{
    fnode *cont = root;
    for (size_t i = 0; i < key->count; i++) {
        fnode *f = fchild(p, cont, key->parts[i]);
        if (!f) {
            f = alloc(p, sizeof *f);
            if (!f)
                return -1;
            f->key = key->parts[i];
            f->id = p->next_id++;
            f->owner = cont->id;
            TRY(fnode_index(p, f));
        }
        cont = f;
    }
    if (recursive)
        cont->rflags |= flag;
    else
        cont->flags |= flag;
    return 0;
}

/* Forgets every flag at and below `key` (a new array-of-tables element):
 * the node's flags go, and a new id orphans everything below it. */
static void flags_unset_all(parser *p, fnode *root, const keypath *key)
{
    const fnode *cont = root;
    for (size_t i = 0; i + 1 < key->count; i++)
        if (!(cont = fchild(p, cont, key->parts[i])))
            return;
    fnode *stem = fchild(p, cont, key->parts[key->count - 1]);
    if (stem) {
        stem->flags = stem->rflags = 0;
        stem->id = p->next_id++;
    }
}

static int add_pending(parser *p, const keypath *key, unsigned flag)
{
    pending *e = alloc(p, sizeof *e);
    if (!e)
        return -1;
    e->key = *key;
    e->flag = flag;
    e->next = p->pending;
    p->pending = e;
    return 0;
}

static int finalize_pending(parser *p)
{
    for (pending *e = p->pending; e; e = e->next)
        TRY(flags_set(p, &p->flags, &e->key, e->flag, 0));
    p->pending = NULL;
    return 0;
}

/* ---------------------------------------------------------------- data */

static nattel__toml_value *new_value(parser *p, nattel__toml_kind kind)
{
    nattel__toml_value *v = alloc(p, sizeof *v);
    if (v)
        v->kind = kind;
    return v;
}

static void append(nattel__toml_value *parent, nattel__toml_value *v)
{
    if (parent->last)
        parent->last->next = v;
    else
        parent->first = v;
    parent->last = v;
}

static nattel__toml_value *find(parser *p, const nattel__toml_value *t, kpart k)
{
    return value_find(p, t, k);
}

static int put(parser *p, nattel__toml_value *t, kpart k, nattel__toml_value *v)
{
    v->key = k.p;
    v->key_len = k.n;
    v->owner = t;
    append(t, v);
    return value_index(p, v);
}

/* The table at `key` below `t`, created where missing; with access_lists
 * an array of tables stands for its last element. NULL (no error set)
 * when a non-table is in the way; the caller says so. */
static nattel__toml_value *nest(parser *p, nattel__toml_value *t,
                                const keypath *key, size_t count,
                                int access_lists, int *oom)
{
    nattel__toml_value *cont = t;
    for (size_t i = 0; i < count; i++) {
        nattel__toml_value *v = find(p, cont, key->parts[i]);
        if (!v) {
            if (!(v = new_value(p, NATTEL__TOML_TABLE)) ||
                put(p, cont, key->parts[i], v) < 0) {
                *oom = 1;
                return NULL;
            }
        }
        if (access_lists && v->kind == NATTEL__TOML_ARRAY)
            v = v->last;
        if (!v || v->kind != NATTEL__TOML_TABLE)
            return NULL;
        cont = v;
    }
    return cont;
}

/* -------------------------------------------------------------- values */

static int parse_value(parser *p, nattel__toml_value **out);

static int digits_at(const parser *p, size_t pos, size_t k)
{
    if (p->n - pos < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (!is_digit((unsigned char)p->s[pos + i]))
            return 0;
    return 1;
}

static int num2(const parser *p, size_t pos)
{
    return (p->s[pos] - '0') * 10 + (p->s[pos + 1] - '0');
}

/* HH:MM:SS(.fraction)? at pos; returns its end, or 0. */
static size_t match_time(const parser *p, size_t pos)
{
    if (!digits_at(p, pos, 2) || p->n - pos < 8 || p->s[pos + 2] != ':' ||
        !digits_at(p, pos + 3, 2) || p->s[pos + 5] != ':' ||
        !digits_at(p, pos + 6, 2))
        return 0;
    if (num2(p, pos) > 23 || num2(p, pos + 3) > 59 || num2(p, pos + 6) > 59)
        return 0;
    pos += 8;
    if (pos + 1 < p->n && p->s[pos] == '.' && is_digit(p->s[pos + 1])) {
        pos++;
        while (pos < p->n && is_digit(p->s[pos]))
            pos++;
    }
    return pos;
}

static size_t match_offset(const parser *p, size_t pos)
{
    if (pos < p->n && (p->s[pos] == 'Z' || p->s[pos] == 'z'))
        return pos + 1;
    if (pos < p->n && (p->s[pos] == '+' || p->s[pos] == '-') &&
        digits_at(p, pos + 1, 2) && p->n - pos >= 6 && p->s[pos + 3] == ':' &&
        digits_at(p, pos + 4, 2) && num2(p, pos + 1) <= 23 &&
        num2(p, pos + 4) <= 59)
        return pos + 6;
    return pos;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

/* A date, optionally with a time and an offset. Returns 1 matched (p->pos
 * moved), 0 no date here, -1 a date that does not exist. */
static int match_datetime(parser *p)
{
    size_t pos = p->pos;
    if (!digits_at(p, pos, 4) || p->n - pos < 10 || p->s[pos + 4] != '-' ||
        !digits_at(p, pos + 5, 2) || p->s[pos + 7] != '-' ||
        !digits_at(p, pos + 8, 2))
        return 0;
    int year = num2(p, pos) * 100 + num2(p, pos + 2);
    int month = num2(p, pos + 5), day = num2(p, pos + 8);
    if (month < 1 || month > 12 || day < 1 || day > 31)
        return 0;
    if (year < 1 || day > days_in_month(year, month))
        return fail(p, "invalid date");
    pos += 10;
    if (pos < p->n &&
        (p->s[pos] == 'T' || p->s[pos] == 't' || p->s[pos] == ' ')) {
        size_t end = match_time(p, pos + 1);
        if (end)
            pos = match_offset(p, end);
    }
    p->pos = pos;
    return 1;
}

/* Digits with single underscores between them, from pos; returns the end
 * (pos when there is no first digit). */
static size_t digit_run(const parser *p, size_t pos, int (*ok)(int))
{
    if (pos >= p->n || !ok((unsigned char)p->s[pos]))
        return pos;
    pos++;
    for (;;) {
        if (pos < p->n && ok((unsigned char)p->s[pos]))
            pos++;
        else if (pos + 1 < p->n && p->s[pos] == '_' &&
                 ok((unsigned char)p->s[pos + 1]))
            pos += 2;
        else
            return pos;
    }
}

static int is_oct(int c)
{
    return c >= '0' && c <= '7';
}

static int is_bin(int c)
{
    return c == '0' || c == '1';
}

/* An integer or a finite float: moves p->pos, returns 1; 0 when none. */
static int match_number(parser *p)
{
    size_t pos = p->pos;
    if (p->n - pos >= 2 && p->s[pos] == '0') {
        char r = p->s[pos + 1];
        int (*ok)(int) = r == 'x'   ? is_hex
                         : r == 'o' ? is_oct
                         : r == 'b' ? is_bin
                                    : NULL;
        size_t end = ok ? digit_run(p, pos + 2, ok) : pos + 2;
        if (ok && end > pos + 2) {
            p->pos = end;
            return 1;
        }
    }
    if (pos < p->n && (p->s[pos] == '+' || p->s[pos] == '-'))
        pos++;
    if (pos < p->n && p->s[pos] == '0')
        pos++;
    else if (pos < p->n && p->s[pos] >= '1' && p->s[pos] <= '9')
        pos = digit_run(p, pos, is_digit);
    else
        return 0;
    if (pos + 1 < p->n && p->s[pos] == '.' && is_digit(p->s[pos + 1]))
        pos = digit_run(p, pos + 1, is_digit);
    if (pos < p->n && (p->s[pos] == 'e' || p->s[pos] == 'E')) {
        size_t e = pos + 1;
        if (e < p->n && (p->s[e] == '+' || p->s[e] == '-'))
            e++;
        size_t end = digit_run(p, e, is_digit);
        if (end > e)
            pos = end;
    }
    p->pos = pos;
    return 1;
}

static int parse_array(parser *p, nattel__toml_value *arr)
{
    p->pos++;
    TRY(skip_array_ws(p));
    if (peek(p) == ']') {
        p->pos++;
        return 0;
    }
    for (;;) {
        nattel__toml_value *v;
        p->steps++;
        TRY(within_budget(p));
        TRY(parse_value(p, &v));
        append(arr, v);
        TRY(skip_array_ws(p));
        int c = peek(p);
        if (c == ']') {
            p->pos++;
            return 0;
        }
        if (c != ',')
            return fail(p, "unclosed array (expected ',' or ']')");
        p->pos++;
        TRY(skip_array_ws(p));
        if (peek(p) == ']') {
            p->pos++;
            return 0;
        }
    }
}

static int parse_key_value(parser *p, keypath *key, nattel__toml_value **v)
{
    TRY(parse_key(p, key));
    if (peek(p) != '=')
        return fail(p, "expected '=' after a key");
    p->pos++;
    skip_ws(p);
    return parse_value(p, v);
}

static int is_container(const nattel__toml_value *v)
{
    return v->kind == NATTEL__TOML_TABLE || v->kind == NATTEL__TOML_ARRAY;
}

static int parse_inline_table(parser *p, nattel__toml_value *t)
{
    fnode flags = {{NULL, 0}, 0, 0, p->next_id++, 0, NULL};
    p->pos++;
    skip_ws(p);
    if (peek(p) == '}') {
        p->pos++;
        return 0;
    }
    for (;;) {
        keypath key;
        nattel__toml_value *v;
        TRY(within_budget(p));
        TRY(parse_key_value(p, &key, &v));
        if (flags_is(p, &flags, &key, FLAG_FROZEN))
            return fail(p, "cannot change an inline table or array");
        int oom = 0;
        nattel__toml_value *parent = nest(p, t, &key, key.count - 1, 0, &oom);
        if (!parent)
            return oom ? -1 : fail(p, "cannot overwrite a value");
        kpart stem = key.parts[key.count - 1];
        if (find(p, parent, stem))
            return fail(p, "duplicate key in an inline table");
        TRY(put(p, parent, stem, v));
        skip_ws(p);
        int c = peek(p);
        if (c == '}') {
            p->pos++;
            return 0;
        }
        if (c != ',')
            return fail(p, "unclosed inline table (expected ',' or '}')");
        if (is_container(v))
            TRY(flags_set(p, &flags, &key, FLAG_FROZEN, 1));
        p->pos++;
        skip_ws(p);
    }
}

static int parse_container(parser *p, nattel__toml_kind kind,
                           nattel__toml_value **out)
{
    if (++p->depth > NATTEL__TOML_MAX_DEPTH)
        return fail(p, "arrays or inline tables nested too deeply");
    nattel__toml_value *v = new_value(p, kind);
    if (!v)
        return -1;
    TRY(kind == NATTEL__TOML_ARRAY ? parse_array(p, v)
                                   : parse_inline_table(p, v));
    p->depth--;
    *out = v;
    return 0;
}

static int parse_scalar(parser *p)
{
    int c = peek(p);
    if (c == 't' && at(p, "true")) {
        p->pos += 4;
        return 0;
    }
    if (c == 'f' && at(p, "false")) {
        p->pos += 5;
        return 0;
    }
    int dt = match_datetime(p);
    if (dt)
        return dt < 0 ? -1 : 0;
    size_t end = match_time(p, p->pos);
    if (end) {
        p->pos = end;
        return 0;
    }
    if (match_number(p))
        return 0;
    if (at(p, "inf") || at(p, "nan")) {
        p->pos += 3;
        return 0;
    }
    if (at(p, "+inf") || at(p, "-inf") || at(p, "+nan") || at(p, "-nan")) {
        p->pos += 4;
        return 0;
    }
    return fail(p, "invalid value");
}

static int parse_value(parser *p, nattel__toml_value **out)
{
    int c = peek(p);
    if (c == '[')
        return parse_container(p, NATTEL__TOML_ARRAY, out);
    if (c == '{')
        return parse_container(p, NATTEL__TOML_TABLE, out);
    nattel__toml_value *v;
    if (c == '"' || c == '\'') {
        kpart s;
        char three[4] = {(char)c, (char)c, (char)c, 0};
        TRY(at(p, three) ? multiline_string(p, &s) : one_line_string(p, &s));
        if (!(v = new_value(p, NATTEL__TOML_STRING)))
            return -1;
        v->str = s.p;
        v->str_len = s.n;
    } else {
        TRY(parse_scalar(p));
        if (!(v = new_value(p, NATTEL__TOML_OTHER)))
            return -1;
    }
    *out = v;
    return 0;
}

/* ---------------------------------------------------------- statements */

static int key_value_rule(parser *p, const keypath *header)
{
    keypath key, path;
    nattel__toml_value *v;
    TRY(parse_key_value(p, &key, &v));
    /* Tables a dotted key walks through cannot be reopened later. */
    for (size_t i = 1; i < key.count; i++) {
        TRY(join_path(p, header, &key, i, &path));
        if (flags_is(p, &p->flags, &path, FLAG_EXPLICIT))
            return fail(p, "cannot redefine a table with a dotted key");
        TRY(add_pending(p, &path, FLAG_EXPLICIT));
    }
    TRY(join_path(p, header, &key, key.count - 1, &path));
    if (flags_is(p, &p->flags, &path, FLAG_FROZEN))
        return fail(p, "cannot change an inline table or array");
    int oom = 0;
    nattel__toml_value *parent =
        nest(p, p->doc->root, &path, path.count, 1, &oom);
    if (!parent)
        return oom ? -1 : fail(p, "cannot overwrite a value");
    kpart stem = key.parts[key.count - 1];
    if (find(p, parent, stem))
        return fail(p, "duplicate key");
    if (is_container(v)) {
        TRY(join_path(p, header, &key, key.count, &path));
        TRY(flags_set(p, &p->flags, &path, FLAG_FROZEN, 1));
    }
    return put(p, parent, stem, v);
}

static int table_header(parser *p, keypath *header)
{
    keypath key;
    p->pos++;
    skip_ws(p);
    TRY(parse_key(p, &key));
    if (flags_is(p, &p->flags, &key, FLAG_EXPLICIT) ||
        flags_is(p, &p->flags, &key, FLAG_FROZEN))
        return fail(p, "table defined twice");
    TRY(flags_set(p, &p->flags, &key, FLAG_EXPLICIT, 0));
    int oom = 0;
    if (!nest(p, p->doc->root, &key, key.count, 1, &oom))
        return oom ? -1 : fail(p, "cannot overwrite a value");
    if (peek(p) != ']')
        return fail(p, "expected ']' at the end of a table header");
    p->pos++;
    *header = key;
    return 0;
}

static int array_header(parser *p, keypath *header)
{
    keypath key;
    p->pos += 2;
    skip_ws(p);
    TRY(parse_key(p, &key));
    if (flags_is(p, &p->flags, &key, FLAG_FROZEN))
        return fail(p, "cannot change an inline table or array");
    /* A new element starts with a clean slate below the array's path. */
    flags_unset_all(p, &p->flags, &key);
    TRY(flags_set(p, &p->flags, &key, FLAG_EXPLICIT, 0));
    int oom = 0;
    nattel__toml_value *parent =
        nest(p, p->doc->root, &key, key.count - 1, 1, &oom);
    if (!parent)
        return oom ? -1 : fail(p, "cannot overwrite a value");
    kpart stem = key.parts[key.count - 1];
    nattel__toml_value *arr = find(p, parent, stem);
    if (arr && arr->kind != NATTEL__TOML_ARRAY)
        return fail(p, "cannot overwrite a value with an array of tables");
    if (!arr) {
        if (!(arr = new_value(p, NATTEL__TOML_ARRAY)))
            return -1;
        TRY(put(p, parent, stem, arr));
    }
    nattel__toml_value *elem = new_value(p, NATTEL__TOML_TABLE);
    if (!elem)
        return -1;
    append(arr, elem);
    if (!at(p, "]]"))
        return fail(p, "expected ']]' at the end of an array-of-tables header");
    p->pos += 2;
    *header = key;
    return 0;
}

static int statement(parser *p, keypath *header)
{
    TRY(within_budget(p));
    int c = peek(p);
    if (is_bare(c) || c == '"' || c == '\'') {
        TRY(key_value_rule(p, header));
    } else if (c == '[') {
        TRY(finalize_pending(p));
        if (p->pos + 1 < p->n && p->s[p->pos + 1] == '[')
            TRY(array_header(p, header));
        else
            TRY(table_header(p, header));
    } else if (c != '#') {
        return fail(p, "invalid statement");
    }
    skip_ws(p);
    TRY(skip_comment(p));
    c = peek(p);
    if (c != -1 && c != '\n')
        return fail(p, "expected a newline or the end after a statement");
    return 0;
}

static int document(parser *p)
{
    keypath header = {NULL, 0};
    for (;;) {
        skip_ws(p);
        int c = peek(p);
        if (c == -1)
            return 0;
        if (c != '\n')
            TRY(statement(p, &header));
        p->pos++;
    }
}

/* CRLF reads as LF everywhere, strings included (as tomllib does); a lone
 * CR stays and is refused where it appears. */
static char *normalize(nattel__toml *doc, const char *src, size_t len,
                       size_t *out_len)
{
    char *s = arena_alloc(doc, len + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        if (!(src[i] == '\r' && i + 1 < len && src[i + 1] == '\n'))
            s[o++] = src[i];
    *out_len = o;
    return s;
}

nattel_code nattel__toml_parse(const char *src, size_t len, nattel__toml **out,
                               nattel_error *err)
{
    *out = NULL;
    size_t valid = natx_utf8_valid_prefix(src, len);
    if (valid != len)
        return natx_fail(err, NATTEL_EPARSE, "byte %zu: not UTF-8", valid);
    nattel__toml *doc = calloc(1, sizeof *doc);
    if (!doc)
        return natx_fail(err, NATTEL_ENOMEM, "TOML: out of memory");
    natx_arena_init(&doc->arena, NULL, 16384, ARENA_MAX);
    parser p = {.doc = doc, .err = err};
    p.flags.id = p.next_id++;
    p.s = normalize(doc, src, len, &p.n);
    doc->root = p.s ? new_value(&p, NATTEL__TOML_TABLE) : NULL;
    if (!doc->root) {
        nattel__toml_free(doc);
        return natx_fail(err, NATTEL_ENOMEM, "TOML: out of memory");
    }
    int rc = document(&p);
    free(p.fidx.heads);
    free(p.vidx.heads);
    if (rc < 0) {
        nattel__toml_free(doc);
        return p.code;
    }
    *out = doc;
    return NATTEL_OK;
}

const nattel__toml_value *nattel__toml_root(const nattel__toml *doc)
{
    return doc ? doc->root : NULL;
}

const nattel__toml_value *nattel__toml_get(const nattel__toml_value *table,
                                           const char *key)
{
    if (!table || table->kind != NATTEL__TOML_TABLE)
        return NULL;
    size_t n = strlen(key);
    for (const nattel__toml_value *v = table->first; v; v = v->next)
        if (v->key_len == n && !memcmp(v->key, key, n))
            return v;
    return NULL;
}
