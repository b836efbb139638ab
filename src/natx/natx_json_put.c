/* JSON text primitives (natx_json_put.h). */
#include "natx_json_put.h"

#include "natx_buf.h"
#include "natx_utf8.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

double natx_json_strtod(const char *s)
{
    locale_t old, c = c_locale_begin(&old);
    double v = strtod(s, NULL);
    c_locale_end(c, old);
    return v;
}

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
    if (n >= 4 && n < 8) {
        /* Two overlapping 4-byte halves as one word: one check. */
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        if (natx_json_care_bits((uint64_t)lo | (uint64_t)hi << 32))
            return NULL;
        memcpy(o, &lo, 4);
        memcpy(o + n - 4, &hi, 4);
        return o + n;
    }
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
        if (natx_json_care_bits(a) | natx_json_care_bits(b))
            return NULL;
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
        return o + n;
    }
    uint64_t acc = 0;
    for (size_t k = 0; k + 8 <= n; k += 8) {
        memcpy(&a, s + k, 8);
        acc |= natx_json_care_bits(a);
    }
    memcpy(&b, s + n - 8, 8);
    if (acc | natx_json_care_bits(b))
        return NULL;
    memcpy(o, s, n);
    return o + n;
}

char *natx_json_write_string(char *o, const char *s, size_t n)
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
            if (natx_json_care_bits(w))
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

nattel_code natx_json_put_string(nattel_buf *b, const char *s, size_t n)
{
    if (n > (SIZE_MAX - 3) / 6)
        return NATTEL_ENOMEM;
    if (natx_buf_ensure(b, NATX_JSON_STRING_MAX(n)))
        return NATTEL_ENOMEM;
    char *o = natx_json_write_string(b->data + b->len, s, n);
    if (!o) {
        b->data[b->len] = '\0';
        return NATTEL_EINVAL;
    }
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

char *natx_json_write_int(char *o, int64_t v)
{
    /* Durations in ms and exit codes are mostly small: no loop for them. */
    if (v >= 0 && v < 100) {
        if (v >= 10)
            *o++ = (char)('0' + v / 10);
        *o++ = (char)('0' + v % 10);
        return o;
    }
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

nattel_code natx_json_put_int(nattel_buf *b, int64_t v)
{
    if (natx_buf_ensure(b, 21))
        return NATTEL_ENOMEM;
    char *o = natx_json_write_int(b->data + b->len, v);
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

size_t natx_json_format_double(double v, char out[NATX_JSON_DOUBLE_MAX],
                               int float_mark)
{
    locale_t old, c = c_locale_begin(&old);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, NATX_JSON_DOUBLE_MAX, "%.*g", prec, v);
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

nattel_code natx_json_put_double(nattel_buf *b, double v)
{
    if (!isfinite(v))
        return NATTEL_EINVAL;
    char tmp[NATX_JSON_DOUBLE_MAX];
    size_t n = natx_json_format_double(v, tmp, 1);
    return nattel_buf_append(b, tmp, n);
}
