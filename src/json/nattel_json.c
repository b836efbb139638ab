#include "json/nattel_json.h"

#include "natx/natx_buf.h"
#include "natx/natx_error.h"
#include "natx/natx_json_put.h"
#include "natx/natx_mem.h"
#include "natx/natx_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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
        i = natx_json_string_run(s, len, i);
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
    t->members = 0; /* for a string: escaped = 0 */
    t->next = (int)d->count + 1;
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
    d->toks[k].escaped = escaped;
    return q + 1;
}

nattel_code nattel__json_parse(nattel__jdoc *d, const char *src, size_t len,
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
        k = push_tok(d, &cap, open == '{' ? NATTEL__JOBJECT : NATTEL__JARRAY, p,
                     p + 1, err, &rc);
        if (k < 0)
            return rc;
        stack[depth++] = (unsigned)k;
        p = skip_ws(s, len, p + 1);
        if (p < len && s[p] == (open == '{' ? '}' : ']'))
            goto close;
        d->toks[k].members = 1;
        if (open == '[')
            goto value;
        goto key;
    }
    case '"':
        p = tree_string(d, &cap, p, err, &rc);
        if (!p)
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
            top->members++;
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
        top->next = (int)d->count;
        p++;
    }
    goto after;
key:
    if (p >= len || s[p] != '"')
        return bad_byte(s, len, p, "a string key", err);
    p = tree_string(d, &cap, p, err, &rc);
    if (!p)
        return rc;
    p = skip_ws(s, len, p);
    if (p >= len || s[p] != ':')
        return bad_byte(s, len, p, "':'", err);
    p = skip_ws(s, len, p + 1);
    goto value;
}

void nattel__json_release(nattel__jdoc *d)
{
    if (d->toks && d->toks != d->small)
        free(d->toks);
    d->toks = NULL;
    d->count = 0;
}

/* A \u escape's 4 hex digits at s, already verified by the parse. */
static unsigned verified_u4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++)
        v = (v << 4) | (unsigned)hexval(s[k]);
    return v;
}

/* ---------------------------------------------------------------- */
/* Accessors                                                         */
/* ---------------------------------------------------------------- */

size_t nattel__json_decode_string(const nattel__jdoc *d, unsigned t, char *out)
{
    const char *s = d->src + d->toks[t].start;
    size_t n = (size_t)(d->toks[t].end - d->toks[t].start);
    size_t o = 0;
    if (!d->toks[t].escaped) {
        memcpy(out, s, n);
        out[n] = '\0';
        return n;
    }
    for (size_t i = 0; i < n;) {
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        memcpy(out + o, s + i, run);
        o += run;
        i += run;
        if (i >= n)
            break;
        char e = s[i + 1];
        unsigned cp;
        switch (e) {
        case 'b':
            out[o++] = '\b';
            i += 2;
            continue;
        case 'f':
            out[o++] = '\f';
            i += 2;
            continue;
        case 'n':
            out[o++] = '\n';
            i += 2;
            continue;
        case 'r':
            out[o++] = '\r';
            i += 2;
            continue;
        case 't':
            out[o++] = '\t';
            i += 2;
            continue;
        case 'u':
            cp = verified_u4(s + i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = verified_u4(s + i + 2);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += natx_utf8_encode(cp, out + o);
            continue;
        default: /* '"', '\\', '/' */
            out[o++] = e;
            i += 2;
            continue;
        }
    }
    out[o] = '\0';
    return o;
}

int nattel__json_string_eq(const nattel__jdoc *d, unsigned t, const char *s,
                           size_t n)
{
    nattel_str raw = nattel__json_raw(d, t);
    if (!d->toks[t].escaped)
        return raw.len == n && memcmp(raw.ptr, s, n) == 0;
    if (raw.len > NATTEL__NAME_MAX)
        return 0; /* no name we compare against is that long */
    char tmp[NATTEL__NAME_MAX + 1];
    size_t m = nattel__json_decode_string(d, t, tmp);
    return m == n && memcmp(tmp, s, n) == 0;
}

int nattel__json_root_has(const nattel__jdoc *d, const char *key)
{
    if (!d->count || d->toks[0].type != NATTEL__JOBJECT)
        return 0;
    unsigned k = 1;
    for (int i = 0; i < d->toks[0].members; i++) {
        if (nattel__json_string_eq(d, k, key, strlen(key)))
            return 1;
        k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
    }
    return 0;
}

const char *nattel__json_type_name(const nattel__jdoc *d, unsigned t)
{
    switch (d->toks[t].type) {
    case NATTEL__JOBJECT:
        return "object";
    case NATTEL__JARRAY:
        return "array";
    case NATTEL__JSTRING:
        return "string";
    default:
        break;
    }
    switch (nattel__json_lead(d, t)) {
    case 't':
    case 'f':
        return "boolean";
    case 'n':
        return "null";
    default:
        return "number";
    }
}

nattel__jnum_class nattel__json_int(const nattel__jdoc *d, unsigned t,
                                    int64_t *out)
{
    const char *s = d->src + d->toks[t].start;
    size_t n = (size_t)(d->toks[t].end - d->toks[t].start), i = 0;
    int neg = 0;
    if (s[0] == '-') {
        neg = 1;
        i++;
    }
    /* Fast path: a plain integer of at most 18 digits. */
    if (n - i <= 18) {
        size_t k = i;
        uint64_t v = 0;
        while (k < n && is_digit(s[k]))
            v = v * 10 + (uint64_t)(s[k++] - '0');
        if (k == n) {
            *out = neg ? -(int64_t)v : (int64_t)v;
            return NATTEL__JNUM_INT;
        }
    }
    /* Exact decimal: significant digits D, value D * 10^scale. */
    const char *digits[2];
    size_t dlen[2] = {0, 0};
    size_t int_start = i;
    while (i < n && is_digit(s[i]))
        i++;
    digits[0] = s + int_start;
    dlen[0] = i - int_start;
    digits[1] = s + i;
    if (i < n && s[i] == '.') {
        i++;
        digits[1] = s + i;
        size_t fs = i;
        while (i < n && is_digit(s[i]))
            i++;
        dlen[1] = i - fs;
    }
    int64_t exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        while (i < n) {
            if (exp < 100000000)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (eneg)
            exp = -exp;
    }
    /* Concatenate integer and fraction digits virtually. */
    size_t total = dlen[0] + dlen[1];
#define DIGIT(k) ((k) < dlen[0] ? digits[0][(k)] : digits[1][(k)-dlen[0]])
    size_t first = 0;
    while (first < total && DIGIT(first) == '0')
        first++;
    if (first == total) {
        *out = 0;
        return NATTEL__JNUM_INT;
    }
    size_t last = total;
    while (last > first && DIGIT(last - 1) == '0')
        last--;
    int64_t scale = exp - (int64_t)dlen[1] + (int64_t)(total - last);
    if (scale < 0)
        return NATTEL__JNUM_FRACTION;
    int64_t ndigits = (int64_t)(last - first) + scale;
    if (ndigits > 19)
        return NATTEL__JNUM_OUT_OF_RANGE;
    uint64_t v = 0;
    for (size_t k = first; k < last; k++)
        v = v * 10 + (uint64_t)(DIGIT(k) - '0');
#undef DIGIT
    for (int64_t k = 0; k < scale; k++) {
        if (v > UINT64_MAX / 10)
            return NATTEL__JNUM_OUT_OF_RANGE;
        v *= 10;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (v > limit)
        return NATTEL__JNUM_OUT_OF_RANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return NATTEL__JNUM_INT;
}

nattel_code nattel__json_double(const nattel__jdoc *d, unsigned t, double *out)
{
    size_t n = (size_t)(d->toks[t].end - d->toks[t].start);
    char small[64];
    char *tmp = n < sizeof small ? small : malloc(n + 1);
    if (!tmp)
        return NATTEL_ENOMEM;
    memcpy(tmp, d->src + d->toks[t].start, n);
    tmp[n] = '\0';
    errno = 0;
    double v = natx_json_strtod(tmp);
    if (tmp != small)
        free(tmp);
    if (isinf(v))
        return NATTEL_ELIMIT;
    *out = v;
    return NATTEL_OK;
}

/* ---------------------------------------------------------------- */
/* Writer                                                            */
/* ---------------------------------------------------------------- */

nattel_code nattel__json_put_token(nattel_buf *b, const nattel__jdoc *d,
                                   unsigned t)
{
    const nattel__jtok *tok = &d->toks[t];
    nattel_code rc;
    if (tok->type == NATTEL__JSTRING) {
        nattel_str raw = nattel__json_raw(d, t);
        /* Verified strings can be copied as written, escapes and all. */
        rc = NATX_PUT_LIT(b, "\"");
        if (!rc)
            rc = nattel_buf_append(b, raw.ptr, raw.len);
        return rc ? rc : NATX_PUT_LIT(b, "\"");
    }
    if (tok->type == NATTEL__JPRIMITIVE)
        return nattel_buf_append(b, d->src + tok->start,
                                 (size_t)(tok->end - tok->start));
    int is_obj = tok->type == NATTEL__JOBJECT;
    rc = nattel_buf_append(b, is_obj ? "{" : "[", 1);
    unsigned c = t + 1;
    for (int k = 0; !rc && k < tok->members; k++) {
        if (k)
            rc = NATX_PUT_LIT(b, ",");
        if (!rc && is_obj) {
            rc = nattel__json_put_token(b, d, c);
            if (!rc)
                rc = NATX_PUT_LIT(b, ":");
            c++;
        }
        if (!rc)
            rc = nattel__json_put_token(b, d, c);
        c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
    }
    if (rc)
        return rc;
    return nattel_buf_append(b, is_obj ? "}" : "]", 1);
}

/* The index just past a string whose quote is at s[i], or len + 1 when it
 * is not closed. */
static size_t skip_string(const char *s, size_t len, size_t i)
{
    /* memchr to each quote (most of an envelope's bytes are strings), then
     * the backslashes before it: an odd number escape it. */
    for (size_t from = i + 1; from < len;) {
        const char *q = memchr(s + from, '"', len - from);
        if (!q)
            break;
        size_t at = (size_t)(q - s), bs = 0;
        while (at - bs > i + 1 && s[at - bs - 1] == '\\')
            bs++;
        if (!(bs & 1))
            return at + 1;
        from = at + 1;
    }
    return len + 1;
}

nattel_code nattel__json_compact(nattel_buf *b, const char *src, size_t len,
                                 size_t *commas)
{
    /* The output is never longer than the input: room once, then direct
     * writes. */
    if (natx_buf_ensure(b, len))
        return NATTEL_ENOMEM;
    char *o = b->data + b->len;
    size_t depth = 0, n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '"') {
            size_t j = skip_string(src, len, i);
            j = j > len ? len : j;
            memcpy(o, src + i, j - i);
            o += j - i;
            i = j - 1;
            continue;
        }
        if (is_ws(c))
            continue;
        if (c == '[' || c == '{')
            depth++;
        else if ((c == ']' || c == '}') && depth)
            depth--;
        else if (c == ',' && !depth)
            n++;
        *o++ = c;
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
    if (commas)
        *commas = n;
    return NATTEL_OK;
}

/* The index just past the value at s[i] (followed structurally only), or
 * len + 1 when there is none. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
    if (i >= len)
        return len + 1;
    if (s[i] == '"')
        return skip_string(s, len, i);
    if (s[i] == '{' || s[i] == '[') {
        size_t depth = 0;
        for (; i < len; i++) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, len, i);
                if (i > len)
                    return len + 1;
                i--;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && !--depth) {
                return i + 1;
            }
        }
        return len + 1;
    }
    size_t j = i;
    while (j < len && s[j] != ',' && s[j] != '}' && s[j] != ']' && !is_ws(s[j]))
        j++;
    return j == i ? len + 1 : j;
}

/* After a member's value: 1 at the next member, 0 at the object's end
 * (the document's end but whitespace), -1 otherwise. */
static int skim_after(const char *s, size_t len, size_t *i)
{
    *i = skip_ws(s, len, *i);
    if (*i < len && s[*i] == ',') {
        *i = skip_ws(s, len, *i + 1);
        return 1;
    }
    if (*i < len && s[*i] == '}')
        return skip_ws(s, len, *i + 1) == len ? 0 : -1;
    return -1;
}

long nattel__json_skim_object(const char *src, size_t len, nattel__jmember *m,
                              size_t max)
{
    size_t i = skip_ws(src, len, 0);
    if (i >= len || src[i] != '{')
        return -1;
    i = skip_ws(src, len, i + 1);
    if (i < len && src[i] == '}')
        return skip_ws(src, len, i + 1) == len ? 0 : -1;
    for (size_t n = 0;; n++) {
        if (n >= max || i >= len || src[i] != '"')
            return -1;
        size_t kend = skip_string(src, len, i);
        if (kend > len)
            return -1;
        m[n].key = i + 1;
        m[n].key_len = kend - 1 - (i + 1);
        i = skip_ws(src, len, kend);
        if (i >= len || src[i] != ':')
            return -1;
        i = skip_ws(src, len, i + 1);
        size_t vend = skip_value(src, len, i);
        if (vend > len)
            return -1;
        m[n].val = i;
        m[n].val_len = vend - i;
        i = vend;
        int more = skim_after(src, len, &i);
        if (more <= 0)
            return more ? -1 : (long)(n + 1);
    }
}
