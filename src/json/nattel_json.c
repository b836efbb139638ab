#include "json/nattel_json.h"
#include "natx/natx_mem.h"

#include "natx/natx_buf.h"
#include "model/nattel_error.h"
#include "codec/nattel_fastpath.h"
#include "natx/natx_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nattel_code nattel__json_parse(nattel__jdoc *d, const char *src, size_t len,
                               nattel_error *err)
{
    return nattel__json_tree(d, src, len, err);
}

void nattel__json_release(nattel__jdoc *d)
{
    if (d->toks && d->toks != d->small)
        free(d->toks);
    d->toks = NULL;
    d->count = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10; /* verified: a hex digit */
}

static unsigned read_u4(const char *s)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++)
        v = (v << 4) | (unsigned)hexval(s[k]);
    return v;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ---------------------------------------------------------------- */
/* Accessors                                                         */
/* ---------------------------------------------------------------- */

size_t nattel__json_decode_string(const nattel__jdoc *d, unsigned t, char *out)
{
    const char *s = d->src + d->toks[t].start;
    size_t n = (size_t)(d->toks[t].end - d->toks[t].start);
    size_t o = 0;
    if (!NATTEL__JESCAPED(&d->toks[t])) {
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
            cp = read_u4(s + i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo = read_u4(s + i + 2);
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
    if (!NATTEL__JESCAPED(&d->toks[t]))
        return raw.len == n && memcmp(raw.ptr, s, n) == 0;
    if (raw.len > NATTEL__NAME_MAX)
        return 0; /* no name we compare against is that long */
    char tmp[NATTEL__NAME_MAX + 1];
    size_t m = nattel__json_decode_string(d, t, tmp);
    return m == n && memcmp(tmp, s, n) == 0;
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

/* Runs strtod or snprintf in the "C" locale whatever the host set with
 * setlocale: JSON's decimal point is always '.'. uselocale only changes
 * this thread's locale, and only for the call. */
static locale_t c_locale_begin(locale_t *old)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    *old = c ? uselocale(c) : (locale_t)0;
    return c;
}

static void c_locale_end(locale_t c, locale_t old)
{
    if (c) {
        uselocale(old);
        freelocale(c);
    }
}

double nattel__json_strtod(const char *s)
{
    locale_t old, c = c_locale_begin(&old);
    double v = strtod(s, NULL);
    c_locale_end(c, old);
    return v;
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
    double v = nattel__json_strtod(tmp);
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

static const char hex[] = "0123456789abcdef";

/* Bytes a JSON string cannot hold as they are (RFC 8259 section 7), and
 * non-ASCII bytes, whose UTF-8 sequence must be checked. */
static const unsigned char must_escape[256] =
    {
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, /* '"' */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
        0, 0, /* '\\' */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* Copies s[0..n) to o when no byte needs care; returns the end, or NULL
 * (having written nothing that matters) when some byte does. Words are
 * read only inside s: the last one overlaps the one before. */
static char *copy_plain(char *o, const char *s, size_t n)
{
    uint64_t a, b;
    if (n < 8) {
        unsigned care = 0;
        for (size_t k = 0; k < n; k++) {
            care |= must_escape[(unsigned char)s[k]];
            o[k] = s[k];
        }
        return care ? NULL : o + n;
    }
    if (n <= 16) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (nattel__care_bits(a) | nattel__care_bits(b))
            return NULL;
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
        return o + n;
    }
    uint64_t acc = 0;
    for (size_t k = 0; k + 8 <= n; k += 8) {
        memcpy(&a, s + k, 8);
        acc |= nattel__care_bits(a);
    }
    memcpy(&b, s + n - 8, 8);
    if (acc | nattel__care_bits(b))
        return NULL;
    memcpy(o, s, n);
    return o + n;
}

char *nattel__json_write_string(char *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    /* Telemetry strings are short identifiers: a whole-string check and a
     * plain copy is the common path; the loop below handles the rest. */
    *o++ = '"';
    char *end = copy_plain(o, s, n);
    if (end) {
        *end++ = '"';
        return end;
    }
    while (i < n) {
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (nattel__care_bits(w))
                break;
            memcpy(o, &w, 8);
            o += 8;
            i += 8;
        }
        while (i < n && !must_escape[u[i]])
            *o++ = (char)u[i++];
        if (i >= n)
            break;
        unsigned char c = u[i];
        if (c >= 0x80) {
            size_t len = natx_utf8_seq(u + i, n - i);
            if (!len)
                return NULL;
            memcpy(o, s + i, len);
            o += len;
            i += len;
            continue;
        }
        i++;
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    return o;
}

nattel_code nattel__json_put_string(nattel_buf *b, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 3) / 6)
        return NATTEL_ENOMEM;
    if (natx_buf_ensure(b, NATTEL__JSON_STRING_MAX(n)))
        return NATTEL_ENOMEM;
    char *o = nattel__json_write_string(b->data + b->len, s, n);
    if (!o) {
        b->data[b->len] = '\0';
        return NATTEL_EINVAL;
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

char *nattel__json_write_int(char *o, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof tmp - p);
    memcpy(o, p, n);
    return o + n;
}

nattel_code nattel__json_put_int(nattel_buf *b, int64_t v)
{
    if (natx_buf_ensure(b, 21))
        return NATTEL_ENOMEM;
    char *o = nattel__json_write_int(b->data + b->len, v);
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

size_t nattel__json_format_double(double v, char out[NATTEL__JSON_DOUBLE_MAX],
                                  int float_mark)
{
    locale_t old, c = c_locale_begin(&old);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, NATTEL__JSON_DOUBLE_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    c_locale_end(c, old);
    /* A float reads back as a float: keep a fraction or exponent mark, as
     * Python's repr (and so pydantic) does. */
    if (float_mark && !strpbrk(out, ".e"))
        strcat(out, ".0");
    return strlen(out);
}

nattel_code nattel__json_put_double(nattel_buf *b, double v)
{
    if (!isfinite(v))
        return NATTEL_EINVAL;
    char tmp[NATTEL__JSON_DOUBLE_MAX];
    size_t n = nattel__json_format_double(v, tmp, 1);
    return nattel_buf_append(b, tmp, n);
}

nattel_code nattel__json_put_token(nattel_buf *b, const nattel__jdoc *d,
                                   unsigned t)
{
    const nattel__jtok *tok = &d->toks[t];
    nattel_code rc;
    if (tok->type == NATTEL__JSTRING) {
        nattel_str raw = nattel__json_raw(d, t);
        /* Verified strings can be copied as written, escapes and all. */
        if ((rc = NATX_PUT_LIT(b, "\"")) ||
            (rc = nattel_buf_append(b, raw.ptr, raw.len)))
            return rc;
        return NATX_PUT_LIT(b, "\"");
    }
    if (tok->type == NATTEL__JPRIMITIVE)
        return nattel_buf_append(b, d->src + tok->start,
                                 (size_t)(tok->end - tok->start));
    int is_obj = tok->type == NATTEL__JOBJECT;
    if ((rc = nattel_buf_append(b, is_obj ? "{" : "[", 1)))
        return rc;
    unsigned c = t + 1;
    for (int k = 0; k < tok->size; k++) {
        if (k && (rc = NATX_PUT_LIT(b, ",")))
            return rc;
        if (is_obj) {
            if ((rc = nattel__json_put_token(b, d, c)) ||
                (rc = NATX_PUT_LIT(b, ":")))
                return rc;
            c++;
        }
        if ((rc = nattel__json_put_token(b, d, c)))
            return rc;
        c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
    }
    return nattel_buf_append(b, is_obj ? "}" : "]", 1);
}
