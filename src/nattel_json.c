#define NATTEL__JSMN_IMPL
#include "nattel_json.h"

#include "nattel_buf.h"
#include "nattel_error.h"
#include "nattel_utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* Verification                                                      */
/* ---------------------------------------------------------------- */

typedef struct verifier {
    nattel__jdoc *doc;
    nattel_error *err;
} verifier;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t skip_ws(const nattel__jdoc *d, size_t p)
{
    while (p < d->len && is_ws(d->src[p]))
        p++;
    return p;
}

/* Where a token's text begins and ends, quotes included. */
static size_t lex_start(const nattel__jdoc *d, unsigned t)
{
    return (size_t)d->toks[t].start - (d->toks[t].type == JSMN_STRING);
}
static size_t lex_end(const nattel__jdoc *d, unsigned t)
{
    return (size_t)d->toks[t].end + (d->toks[t].type == JSMN_STRING);
}

static nattel_code bad_byte(verifier *v, size_t p, const char *expected)
{
    const nattel__jdoc *d = v->doc;
    if (p >= d->len)
        return nattel__fail(
            v->err, NATTEL_EPARSE,
            "invalid JSON: unexpected end of input, expected %s", expected);
    unsigned char c = (unsigned char)d->src[p];
    if (c >= 0x20 && c < 0x7F)
        return nattel__fail(
            v->err, NATTEL_EPARSE,
            "invalid JSON at byte %zu: unexpected '%c', expected %s", p, c,
            expected);
    return nattel__fail(
        v->err, NATTEL_EPARSE,
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

/* An escape at s[i] (a backslash) that JSON does not allow: said with the
 * escape as written, printable bytes only. */
static nattel_code bad_escape(const nattel__jdoc *d, size_t i,
                              nattel_error *err)
{
    const char *s = d->src;
    if (i + 1 >= d->len)
        return nattel__fail(err, NATTEL_EPARSE,
                            "invalid JSON at byte %zu: unfinished escape at "
                            "end of input",
                            i);
    unsigned char e = (unsigned char)s[i + 1];
    if (e == 'u') {
        size_t k = 0; /* up to 4 printable bytes after \u, as found */
        while (k < 4 && i + 2 + k < d->len && s[i + 2 + k] > 0x20 &&
               s[i + 2 + k] < 0x7F && s[i + 2 + k] != '"')
            k++;
        return nattel__fail(
            err, NATTEL_EPARSE,
            "invalid JSON at byte %zu: invalid escape '\\u%.*s' "
            "(\\u takes 4 hex digits)",
            i, (int)k, s + i + 2);
    }
    if (e > 0x20 && e < 0x7F)
        return nattel__fail(err, NATTEL_EPARSE,
                            "invalid JSON at byte %zu: invalid escape '\\%c'",
                            i, e);
    return nattel__fail(err, NATTEL_EPARSE,
                        "invalid JSON at byte %zu: invalid escape: '\\' "
                        "followed by byte 0x%02X",
                        i, e);
}

/* Non-zero when some byte of w needs more than a copy in a JSON string: a
 * control character, '"', '\\' or a non-ASCII byte to validate. The
 * reader uses it too: inside a verified string token '"' cannot occur
 * unescaped, so there it flags exactly the bytes that need a closer look. */
static uint64_t care_bits(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t ctl = (w - ones * 0x20) & ~w & highs;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    q = (q - ones) & ~q & highs;
    bs = (bs - ones) & ~bs & highs;
    return (w & highs) | ctl | q | bs;
}

static nattel_code verify_string(verifier *v, unsigned t)
{
    nattel__jdoc *d = v->doc;
    const char *s = d->src;
    size_t i = (size_t)d->toks[t].start, end = (size_t)d->toks[t].end;
    int escaped = 0;
    while (i < end) {
        while (i + 8 <= end) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (care_bits(w))
                break;
            i += 8;
        }
        if (i >= end)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c == '\\') {
            escaped = 1;
            char e = i + 1 < end ? s[i + 1] : '\0';
            if (e == 'u') {
                unsigned cp;
                if (!read_u4(s + i + 2, end - i - 2, &cp))
                    return bad_escape(d, i, v->err);
                if (cp >= 0xDC00 && cp <= 0xDFFF)
                    return nattel__fail(
                        v->err, NATTEL_EPARSE,
                        "invalid JSON at byte %zu: lone low surrogate \\u%04X",
                        i, cp);
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    unsigned lo;
                    if (i + 12 > end || s[i + 6] != '\\' || s[i + 7] != 'u' ||
                        !read_u4(s + i + 8, end - i - 8, &lo) || lo < 0xDC00 ||
                        lo > 0xDFFF)
                        return nattel__fail(v->err, NATTEL_EPARSE,
                                            "invalid JSON at byte %zu: lone "
                                            "high surrogate \\u%04X",
                                            i, cp);
                    i += 12;
                } else {
                    i += 6;
                }
                continue;
            }
            if (!e || !strchr("\"\\/bfnrt", e))
                return bad_escape(d, i, v->err);
            i += 2;
            continue;
        }
        if (c < 0x20)
            return nattel__fail(v->err, NATTEL_EPARSE,
                                "invalid JSON at byte %zu: unescaped control "
                                "character 0x%02X in string",
                                i, c);
        if (c < 0x80) {
            i++;
            while (i < end && (unsigned char)s[i] >= 0x20 &&
                   (unsigned char)s[i] < 0x80 && s[i] != '\\')
                i++;
            continue;
        }
        /* Validate the whole non-escape run at once. */
        size_t run = i;
        while (run < end && s[run] != '\\' && (unsigned char)s[run] >= 0x20)
            run++;
        size_t ok = nattel__utf8_valid_prefix(s + i, run - i);
        if (ok != run - i)
            return nattel__fail(
                v->err, NATTEL_EPARSE,
                "invalid JSON at byte %zu: invalid UTF-8 in string", i + ok);
        i = run;
    }
    d->toks[t].size = escaped; /* see NATTEL__JESCAPED */
    return NATTEL_OK;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static nattel_code verify_primitive(verifier *v, unsigned t)
{
    const nattel__jdoc *d = v->doc;
    const char *s = d->src + d->toks[t].start;
    size_t n = (size_t)(d->toks[t].end - d->toks[t].start);
    if ((n == 4 && !memcmp(s, "true", 4)) ||
        (n == 5 && !memcmp(s, "false", 5)) || (n == 4 && !memcmp(s, "null", 4)))
        return NATTEL_OK;
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i == n)
        return NATTEL_OK;
bad:
    return nattel__fail(v->err, NATTEL_EPARSE,
                        "invalid JSON at byte %d: '%.*s' is not a JSON value",
                        d->toks[t].start, (int)(n > 24 ? 24 : n), s);
}

/* Verifies token t and its subtree; *next gets the index past it. */
static nattel_code verify(verifier *v, unsigned t, unsigned depth,
                          unsigned *next)
{
    nattel__jdoc *d = v->doc;
    nattel__jtok *tok = &d->toks[t];
    nattel_code rc;
    if (tok->type == JSMN_STRING) {
        if ((rc = verify_string(v, t)))
            return rc;
        *next = t + 1;
        NATTEL__JNEXT(tok) = (int)*next;
        return NATTEL_OK;
    }
    if (tok->type == JSMN_PRIMITIVE) {
        if ((rc = verify_primitive(v, t)))
            return rc;
        *next = t + 1;
        NATTEL__JNEXT(tok) = (int)*next;
        return NATTEL_OK;
    }
    if (tok->type != JSMN_OBJECT && tok->type != JSMN_ARRAY)
        return bad_byte(v, (size_t)tok->start, "a JSON value");
    if (depth >= d->depth_limit)
        return nattel__fail(v->err, NATTEL_ELIMIT,
                            "JSON nested deeper than %u levels at byte %d",
                            d->depth_limit, tok->start);
    int is_obj = tok->type == JSMN_OBJECT;
    size_t p = (size_t)tok->start + 1;
    unsigned child = t + 1;
    for (int k = 0; k < tok->size; k++) {
        p = skip_ws(d, p);
        if (k > 0) {
            if (p >= d->len || d->src[p] != ',')
                return bad_byte(v, p, "',' or a closing bracket");
            p = skip_ws(d, p + 1);
        }
        if (is_obj) {
            if (child >= d->count || d->toks[child].type != JSMN_STRING ||
                lex_start(d, child) != p)
                return bad_byte(v, p, "a string key");
            if ((rc = verify_string(v, child)))
                return rc;
            p = skip_ws(d, lex_end(d, child));
            if (p >= d->len || d->src[p] != ':')
                return bad_byte(v, p, "':'");
            p = skip_ws(d, p + 1);
            child++;
        }
        if (child >= d->count || lex_start(d, child) != p)
            return bad_byte(v, p, "a JSON value");
        unsigned value = child;
        if ((rc = verify(v, value, depth + 1, &child)))
            return rc;
        p = lex_end(d, value);
    }
    p = skip_ws(d, p);
    char close = is_obj ? '}' : ']';
    if (p >= d->len || d->src[p] != close || p + 1 != (size_t)tok->end)
        return bad_byte(v, p, is_obj ? "'}'" : "']'");
    *next = child;
    NATTEL__JNEXT(tok) = (int)child;
    return NATTEL_OK;
}

static nattel_code retry_bare_literal(nattel__jdoc *d, nattel_error *err);

/* jsmn says only where the token it refused begins, and takes a NUL byte
 * for the end of input. When it fails, one lexical pass up to that point
 * names the first defect inside a string (a raw NUL, a bad escape) with
 * its own byte offset, or a NUL outside strings. NATTEL_OK: nothing of
 * the kind, the caller reports as before. */
static nattel_code diagnose(const nattel__jdoc *d, size_t fail_at,
                            nattel_error *err)
{
    const char *s = d->src;
    int in_string = 0;
    for (size_t i = 0; i < d->len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!in_string) {
            if (i > fail_at)
                return NATTEL_OK;
            if (c == '"')
                in_string = 1;
            else if (c == 0)
                return nattel__fail(err, NATTEL_EPARSE,
                                    "invalid JSON at byte %zu: unexpected "
                                    "byte 0x00 (NUL)",
                                    i);
            continue;
        }
        if (c == '"') {
            in_string = 0;
        } else if (c == 0) {
            return nattel__fail(err, NATTEL_EPARSE,
                                "invalid JSON at byte %zu: raw U+0000 inside "
                                "a string",
                                i);
        } else if (c == '\\') {
            unsigned cp;
            char e = i + 1 < d->len ? s[i + 1] : '\0';
            if (e == 'u' ? !read_u4(s + i + 2, d->len - i - 2, &cp)
                         : !e || !strchr("\"\\/bfnrt", e))
                return bad_escape(d, i, err);
            i += e == 'u' ? 5 : 1;
        }
    }
    return NATTEL_OK;
}

static nattel_code tokenize(nattel__jdoc *d, nattel_error *err)
{
    jsmn_parser parser;
    jsmn_init(&parser);
    unsigned cap = NATTEL__JSON_SMALL;
    d->toks = d->small;
    for (;;) {
        int r = jsmn_parse(&parser, d->src, d->len, d->toks, cap);
        if (r >= 0) {
            d->count = (unsigned)r;
            return NATTEL_OK;
        }
        if (r == JSMN_ERROR_PART || r == JSMN_ERROR_INVAL) {
            /* jsmn reports a NUL byte as the end of input (PART). */
            const char *nul = memchr(d->src, '\0', d->len);
            size_t at = r == JSMN_ERROR_INVAL ? parser.pos
                        : nul                 ? (size_t)(nul - d->src)
                                              : d->len;
            nattel_code rc = diagnose(d, at, err);
            if (rc)
                return rc;
        }
        if (r == JSMN_ERROR_PART)
            return retry_bare_literal(d, err);
        if (r == JSMN_ERROR_INVAL)
            return bad_byte(&(verifier){d, err}, parser.pos, "a JSON value");
        /* JSMN_ERROR_NOMEM: grow and resume where jsmn stopped. */
        if (cap >= NATTEL__JSON_MAX_TOKENS)
            return nattel__fail(err, NATTEL_ELIMIT,
                                "JSON document has more than %u values",
                                NATTEL__JSON_MAX_TOKENS);
        unsigned ncap = cap * 4 > NATTEL__JSON_MAX_TOKENS
                            ? NATTEL__JSON_MAX_TOKENS
                            : cap * 4;
        nattel__jtok *nt;
        if (d->toks == d->small) {
            nt = malloc(ncap * sizeof *nt);
            if (nt)
                memcpy(nt, d->small, cap * sizeof *nt);
        } else {
            nt = realloc(d->toks, ncap * sizeof *nt);
        }
        if (!nt)
            return nattel__fail(err, NATTEL_ENOMEM,
                                "out of memory reading JSON");
        d->toks = nt;
        cap = ncap;
    }
}

/* jsmn finds the opening bracket a closing one ends by walking up from
 * the last token, which is quadratic in the nesting depth. Documents too
 * small for that to matter skip this check; larger ones are refused here,
 * in one cheap pass, when they nest deeper than the limit. Exact for valid
 * JSON, so it never refuses a document within the limit. */
static nattel_code check_depth(const nattel__jdoc *d, nattel_error *err)
{
    const char *s = d->src;
    unsigned depth = 0;
    int in_string = 0;
    for (size_t i = 0; i < d->len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
        } else if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > d->depth_limit)
                return nattel__fail(
                    err, NATTEL_ELIMIT,
                    "JSON nested deeper than %u levels at byte %zu",
                    d->depth_limit, i);
        } else if ((c == ']' || c == '}') && depth) {
            depth--;
        }
    }
    return NATTEL_OK;
}

/* In strict mode jsmn wants a delimiter after a literal, so a document
 * that is only `12` or `true` reads as truncated. Such a document gets a
 * terminated copy; positions stay the same. */
static nattel_code retry_bare_literal(nattel__jdoc *d, nattel_error *err)
{
    size_t p = skip_ws(d, 0);
    if (p >= d->len || !strchr("-0123456789tfn", d->src[p]))
        return nattel__fail(err, NATTEL_EPARSE,
                            "invalid JSON: unexpected end of input");
    d->copy = malloc(d->len + 2);
    if (!d->copy)
        return nattel__fail(err, NATTEL_ENOMEM, "out of memory reading JSON");
    memcpy(d->copy, d->src, d->len);
    d->copy[d->len] = ' ';
    d->copy[d->len + 1] = '\0';
    d->src = d->copy;
    jsmn_parser parser;
    jsmn_init(&parser);
    int r =
        jsmn_parse(&parser, d->src, d->len + 1, d->toks, NATTEL__JSON_SMALL);
    if (r < 0)
        return r == JSMN_ERROR_PART
                   ? nattel__fail(err, NATTEL_EPARSE,
                                  "invalid JSON: unexpected end of input")
                   : bad_byte(&(verifier){d, err}, parser.pos, "a JSON value");
    d->count = (unsigned)r;
    return NATTEL_OK;
}

nattel_code nattel__json_parse(nattel__jdoc *d, const char *src, size_t len,
                               nattel_error *err)
{
    d->src = src;
    d->len = len;
    d->toks = d->small;
    d->count = 0;
    d->copy = NULL;
    d->depth_limit = NATTEL_JSON_MAX_DEPTH;
    if (len > NATTEL_JSON_MAX_BYTES || len > INT32_MAX)
        return nattel__fail(
            err, NATTEL_ELIMIT,
            "JSON document of %zu bytes is over the %u-byte limit", len,
            NATTEL_JSON_MAX_BYTES);
    nattel_code rc = len > 2048 ? check_depth(d, err) : NATTEL_OK;
    if (!rc)
        rc = tokenize(d, err);
    if (rc)
        return rc;
    verifier v = {d, err};
    size_t p = skip_ws(d, 0);
    if (d->count == 0)
        return bad_byte(&v, p, "a JSON value");
    if (lex_start(d, 0) != p)
        return bad_byte(&v, p, "a JSON value");
    unsigned next;
    if ((rc = verify(&v, 0, 0, &next)))
        return rc;
    p = skip_ws(d, lex_end(d, 0));
    if (p != len || next != d->count)
        return nattel__fail(
            err, NATTEL_EPARSE,
            "invalid JSON at byte %zu: trailing data after the document", p);
    return NATTEL_OK;
}

void nattel__json_release(nattel__jdoc *d)
{
    if (d->toks && d->toks != d->small)
        free(d->toks);
    free(d->copy);
    d->copy = NULL;
    d->toks = NULL;
    d->count = 0;
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
            read_u4(s + i + 2, 4, &cp);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                read_u4(s + i + 2, 4, &lo);
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
            o += nattel__utf8_encode(cp, out + o);
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
    if (raw.len > 4096)
        return 0; /* no name we compare against is that long */
    char tmp[4097];
    size_t m = nattel__json_decode_string(d, t, tmp);
    return m == n && memcmp(tmp, s, n) == 0;
}

const char *nattel__json_type_name(const nattel__jdoc *d, unsigned t)
{
    switch (d->toks[t].type) {
    case JSMN_OBJECT:
        return "object";
    case JSMN_ARRAY:
        return "array";
    case JSMN_STRING:
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
    double v = strtod(tmp, NULL);
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
        if (care_bits(a) | care_bits(b))
            return NULL;
        memcpy(o, &a, 8);
        memcpy(o + n - 8, &b, 8);
        return o + n;
    }
    uint64_t acc = 0;
    for (size_t k = 0; k + 8 <= n; k += 8) {
        memcpy(&a, s + k, 8);
        acc |= care_bits(a);
    }
    memcpy(&b, s + n - 8, 8);
    if (acc | care_bits(b))
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
            if (care_bits(w))
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
            size_t len = nattel__utf8_seq(u + i, n - i);
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
    if (nattel__buf_ensure(b, NATTEL__JSON_STRING_MAX(n)))
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
    if (nattel__buf_ensure(b, 21))
        return NATTEL_ENOMEM;
    char *o = nattel__json_write_int(b->data + b->len, v);
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return NATTEL_OK;
}

nattel_code nattel__json_put_double(nattel_buf *b, double v)
{
    if (!isfinite(v))
        return NATTEL_EINVAL;
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* A float reads back as a float: keep a fraction or exponent mark, as
     * Python's repr (and so pydantic) does. */
    if (!strpbrk(tmp, ".e"))
        strcat(tmp, ".0");
    return nattel_buf_append(b, tmp, strlen(tmp));
}

nattel_code nattel__json_put_token(nattel_buf *b, const nattel__jdoc *d,
                                   unsigned t)
{
    const nattel__jtok *tok = &d->toks[t];
    nattel_code rc;
    if (tok->type == JSMN_STRING) {
        nattel_str raw = nattel__json_raw(d, t);
        /* Verified strings can be copied as written, escapes and all. */
        if ((rc = NATTEL__PUT_LIT(b, "\"")) ||
            (rc = nattel_buf_append(b, raw.ptr, raw.len)))
            return rc;
        return NATTEL__PUT_LIT(b, "\"");
    }
    if (tok->type == JSMN_PRIMITIVE)
        return nattel_buf_append(b, d->src + tok->start,
                                 (size_t)(tok->end - tok->start));
    int is_obj = tok->type == JSMN_OBJECT;
    if ((rc = nattel_buf_append(b, is_obj ? "{" : "[", 1)))
        return rc;
    unsigned c = t + 1;
    for (int k = 0; k < tok->size; k++) {
        if (k && (rc = NATTEL__PUT_LIT(b, ",")))
            return rc;
        if (is_obj) {
            if ((rc = nattel__json_put_token(b, d, c)) ||
                (rc = NATTEL__PUT_LIT(b, ":")))
                return rc;
            c++;
        }
        if ((rc = nattel__json_put_token(b, d, c)))
            return rc;
        c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
    }
    return nattel_buf_append(b, is_obj ? "}" : "]", 1);
}
