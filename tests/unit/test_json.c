/* The strict JSON reader (nattel__json_parse and its accessors).
 *
 * 1. Hand-picked RFC 8259 cases, each accepted or refused as the RFC says.
 * 2. The integer rule of nattel__json_int and nattel__json_double.
 * 3. A differential test against jansson (an independent parser) on a
 *    generated corpus: random valid documents, then mutated ones (byte
 *    flips, truncations, insertions, deletions, concatenations). Both must
 *    accept or both refuse each document; for accepted ones the decoded
 *    strings, integers, reals and structure must agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "json/nattel_json.h"
#include "testutil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef NATTEL_HAVE_JANSSON
#include <jansson.h>
#endif

/* ---------------------------------------------------------------- */
/* Helpers                                                           */
/* ---------------------------------------------------------------- */

static nattel_code parse_n(const char *s, size_t n, nattel_error *err)
{
    nattel__jdoc d;
    memset(&d, 0, sizeof d);
    nattel_code rc = nattel__json_parse(&d, s, n, err);
    nattel__json_release(&d);
    return rc;
}

/* Reports the case that failed, with its bytes escaped. */
static void show(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02X", c);
    }
    if (n > 0 && o + 8 >= size) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

static void expect_code(const char *s, size_t n, nattel_code want,
                        const char *file, int line)
{
    nattel_error err;
    memset(&err, 0, sizeof err);
    nattel_code rc = parse_n(s, n, &err);
    if (rc != want) {
        char shown[256];
        show(s, n, shown, sizeof shown);
        fail_msg("%s:%d: document <%s> (%zu bytes): expected %s, got %s (%s)",
                 file, line, shown, n, nattel_code_name(want),
                 nattel_code_name(rc), rc ? err.message : "accepted");
    }
    if (rc != NATTEL_OK && err.message[0] == '\0')
        fail_msg("%s:%d: refused without a message", file, line);
}

/* Literal cases: sizeof - 1 keeps embedded NUL bytes. */
#define ACCEPT(lit)                                                            \
    expect_code((lit), sizeof(lit) - 1, NATTEL_OK, __FILE__, __LINE__)
#define REJECT(lit)                                                            \
    expect_code((lit), sizeof(lit) - 1, NATTEL_EPARSE, __FILE__, __LINE__)

/* ---------------------------------------------------------------- */
/* Hand-picked cases                                                 */
/* ---------------------------------------------------------------- */

static void test_accepts_valid_documents(void **state)
{
    (void)state;
    ACCEPT("\"\"");
    ACCEPT("\"abc\"");
    ACCEPT("[]");
    ACCEPT("{}");
    ACCEPT("[1,2,3]");
    ACCEPT("[[],{},[[]]]");
    ACCEPT("{\"a\":1}");
    ACCEPT("{\"a\":{\"b\":[true,false,null]},\"c\":\"d\"}");
    ACCEPT(" \t\r\n[ 1 , 2 ]\n\t\r ");
    ACCEPT("{ \"a\" : 1 , \"b\" : [ ] }");
    ACCEPT("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"");
    ACCEPT("\"\\u0041\\u00e9\\u00E9\\u20AC\"");
    ACCEPT("\"\\u0000\"");          /* an escaped NUL is allowed */
    ACCEPT("\"\\ud83d\\ude00\"");   /* a surrogate pair */
    ACCEPT("\"\\uDBFF\\uDFFF\"");   /* U+10FFFF */
    ACCEPT("\"\\uFFFF\\uFFFE\"");   /* noncharacters are fine */
    ACCEPT("\"\xC3\xA9\"");         /* U+00E9 */
    ACCEPT("\"\xE2\x82\xAC\"");     /* U+20AC */
    ACCEPT("\"\xF0\x9F\x98\x80\""); /* U+1F600 */
    ACCEPT("\"\xF4\x8F\xBF\xBF\""); /* U+10FFFF */
    ACCEPT("\"\xEF\xBF\xBF\"");     /* U+FFFF */
    ACCEPT("\"\x7F\"");             /* DEL is not a control character here */
    ACCEPT("{\"a\":1,\"a\":2}");    /* duplicates are the validator's job */
    ACCEPT("{\"\":\"\"}");
    /* numbers and literals inside containers */
    ACCEPT("[0,-0,1,-1,123456789,1.5,-0.0,1e5,1E5,1e+5,1e-5,1.25E-02,0e0]");
    ACCEPT("[99999999999999999999999999,1e400,true,false,null]");
    ACCEPT("{\"a\":0}");
    ACCEPT("{\"a\":true}");
    /* RFC 8259: any value may be the document, scalars included, with or
     * without whitespace after them */
    ACCEPT("0 ");
    ACCEPT("null\n");
    ACCEPT("0");
    ACCEPT("-0");
    ACCEPT("1");
    ACCEPT("-1");
    ACCEPT("123456789");
    ACCEPT("1.5");
    ACCEPT("-0.0");
    ACCEPT("1e5");
    ACCEPT("1E5");
    ACCEPT("1e+5");
    ACCEPT("1e-5");
    ACCEPT("1.25E-02");
    ACCEPT("0e0");
    ACCEPT("99999999999999999999999999"); /* syntax has no range */
    ACCEPT("1e400");
    ACCEPT("true");
    ACCEPT("false");
    ACCEPT("null");
}

static void test_rejects_structure_errors(void **state)
{
    (void)state;
    /* trailing and extra commas */
    REJECT("[1,]");
    REJECT("[1,2,]");
    REJECT("{\"a\":1,}");
    REJECT("[,1]");
    REJECT("[,]");
    REJECT("{,}");
    REJECT("[1,,2]");
    REJECT("{\"a\":1,,\"b\":2}");
    REJECT("{,\"a\":1}");
    /* missing separators */
    REJECT("[1 2]");
    REJECT("[\"a\" \"b\"]");
    REJECT("[[] []]");
    REJECT("{\"a\" 1}");
    REJECT("{\"a\":1 \"b\":2}");
    REJECT("{\"a\"}");
    REJECT("{\"a\":}");
    REJECT("{\"a\"::1}");
    REJECT("{\"a\":1:2}");
    REJECT("{:1}");
    REJECT("[1:2]");
    REJECT("[\"a\":1]");
    REJECT("{\"a\",1}");
    /* keys must be strings */
    REJECT("{a:1}");
    REJECT("{1:2}");
    REJECT("{null:1}");
    REJECT("{'a':1}");
    REJECT("{[]:1}");
    /* brackets */
    REJECT("[");
    REJECT("]");
    REJECT("{");
    REJECT("}");
    REJECT("[1");
    REJECT("[1,");
    REJECT("{\"a\":");
    REJECT("{\"a\":1");
    REJECT("[1}");
    REJECT("{\"a\":1]");
    REJECT("[1]]");
    REJECT("{\"a\":1}}");
    REJECT("[[1]");
    /* several top-level values and trailing garbage */
    REJECT("1 2");
    REJECT("[] []");
    REJECT("{}{}");
    REJECT("[]{}");
    REJECT("\"a\"\"b\"");
    REJECT("\"a\" \"b\"");
    REJECT("true false");
    REJECT("[1]x");
    REJECT("[1] x");
    REJECT("{} ,");
    REJECT("1,2");
    REJECT("null null");
    /* empty input and whitespace only */
    REJECT("");
    REJECT(" ");
    REJECT(" \t\r\n ");
    /* whitespace RFC 8259 does not know */
    REJECT("\f[]");
    REJECT("[\v1]");
    REJECT("\xC2\xA0[]");     /* NO-BREAK SPACE */
    REJECT("\xEF\xBB\xBF[]"); /* a byte order mark */
    /* comments */
    REJECT("[1]//c");
    REJECT("/*c*/[1]");
}

static void test_rejects_bad_literals_and_numbers(void **state)
{
    (void)state;
    REJECT("01");
    REJECT("-01");
    REJECT("00");
    REJECT("00.5");
    REJECT("1.");
    REJECT("-1.");
    REJECT("1.e5");
    REJECT(".5");
    REJECT("-.5");
    REJECT("-");
    REJECT("--1");
    REJECT("- 1");
    REJECT("+1");
    REJECT("1e");
    REJECT("1e+");
    REJECT("1e-");
    REJECT("1E");
    REJECT("1e1.5");
    REJECT("1.5.5");
    REJECT("0x10");
    REJECT("1_000");
    REJECT("[01]");
    REJECT("[1.]");
    REJECT("[.5]");
    REJECT("[-]");
    REJECT("{\"a\":01}");
    REJECT("{\"a\":-}");
    REJECT("NaN");
    REJECT("-NaN");
    REJECT("Infinity");
    REJECT("-Infinity");
    REJECT("[Infinity]");
    REJECT("tru");
    REJECT("truee");
    REJECT("True");
    REJECT("TRUE");
    REJECT("nul");
    REJECT("nulll");
    REJECT("None");
    REJECT("fals");
    REJECT("undefined");
    REJECT("abc");
    REJECT("[abc]");
    REJECT("{\"a\":abc}");
    REJECT("[true1]");
    REJECT("[nullx]");
    REJECT("[1a]");
    REJECT("[-a]");
    REJECT("'a'");
    REJECT("[1.5e]");
}

static void test_rejects_bad_strings(void **state)
{
    (void)state;
    /* unterminated */
    REJECT("\"abc");
    REJECT("\"abc\\\"");
    REJECT("[\"a]");
    REJECT("\"");
    /* unescaped control characters */
    REJECT("\"\x01\"");
    REJECT("\"a\tb\"");
    REJECT("\"a\nb\"");
    REJECT("\"a\rb\"");
    REJECT("\"\x1F\"");
    REJECT("{\"\x02\":1}");
    REJECT("[\"\x1B[0m\"]");
    /* bad escapes */
    REJECT("\"\\x41\"");
    REJECT("\"\\a\"");
    REJECT("\"\\'\"");
    REJECT("\"\\0\"");
    REJECT("\"\\U0041\"");
    REJECT("\"\\u\"");
    REJECT("\"\\u1\"");
    REJECT("\"\\u12\"");
    REJECT("\"\\u123\"");
    REJECT("\"\\u12G4\"");
    REJECT("\"\\u-123\"");
    REJECT("\"\\ \"");
    REJECT("\"\\\"");
    REJECT("\"\\\x01\"");
    REJECT("{\"\\q\":1}");
    /* lone and misordered surrogates */
    REJECT("\"\\ud800\"");
    REJECT("\"\\uDBFF\"");
    REJECT("\"\\udc00\"");
    REJECT("\"\\uDFFF\"");
    REJECT("\"\\ud800x\"");
    REJECT("\"\\ud800\\n\"");
    REJECT("\"\\ud800\\u0041\"");
    REJECT("\"\\ud800\\ud800\"");
    REJECT("\"\\udc00\\ud800\"");
    REJECT("\"\\ude00\\ud83d\"");
    REJECT("\"\\ud83d\\ude0\"");
    REJECT("\"\\ud83d\\\"");
    REJECT("\"\\ud83d\\u\"");
    REJECT("{\"\\ud800\":1}");
    REJECT("[\"a\\udc00b\"]");
    /* invalid UTF-8 */
    REJECT("\"\x80\""); /* lone continuation byte */
    REJECT("\"\xBF\"");
    REJECT("\"\xC3\""); /* truncated */
    REJECT("\"\xE2\x82\"");
    REJECT("\"\xF0\x9F\x98\"");
    REJECT("\"\xC3\x41\""); /* bad continuation */
    REJECT("\"\xE2\x28\xA1\"");
    REJECT("\"\xC0\x80\"");     /* overlong NUL */
    REJECT("\"\xC0\xAF\"");     /* overlong '/' */
    REJECT("\"\xC1\xBF\"");     /* overlong 2-byte */
    REJECT("\"\xE0\x80\x80\""); /* overlong 3-byte */
    REJECT("\"\xE0\x9F\xBF\"");
    REJECT("\"\xF0\x80\x80\x80\""); /* overlong 4-byte */
    REJECT("\"\xF0\x8F\xBF\xBF\"");
    REJECT("\"\xED\xA0\x80\"");             /* UTF-8 encoded U+D800 */
    REJECT("\"\xED\xBF\xBF\"");             /* U+DFFF */
    REJECT("\"\xED\xA0\xBD\xED\xB8\x80\""); /* CESU-8 pair */
    REJECT("\"\xF4\x90\x80\x80\"");         /* U+110000 */
    REJECT("\"\xF5\x80\x80\x80\"");
    REJECT("\"\xF7\xBF\xBF\xBF\"");
    REJECT("\"\xF8\x88\x80\x80\x80\""); /* 5-byte form */
    REJECT("\"\xFE\"");
    REJECT("\"\xFF\"");
    REJECT("{\"\xFF\":1}");
    REJECT("[\"ok\",\"\xC0\x80\"]");
    /* bytes over 0x7F outside strings */
    REJECT("[\xC3\xA9]");
    REJECT("\xFF");
}

static void test_rejects_nul_bytes(void **state)
{
    (void)state;
    REJECT("\"a\0b\"");
    REJECT("\"\0\"");
    REJECT("[1]\0");
    REJECT("[1] \0");
    REJECT("\0[1]");
    REJECT("\0");
    REJECT("[\0]");
    REJECT("[1,\0 2]");
    REJECT("{\"a\":1\0}");
    REJECT("{\"a\0\":1}");
    REJECT("1\0");
    REJECT("true\0");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *nested(size_t levels, const char *open, const char *close,
                    const char *inner, size_t *len)
{
    size_t lo = strlen(open), lc = strlen(close), li = strlen(inner);
    size_t n = levels * (lo + lc) + li;
    char *s = malloc(n + 1);
    assert_non_null(s);
    size_t o = 0;
    for (size_t i = 0; i < levels; i++, o += lo)
        memcpy(s + o, open, lo);
    memcpy(s + o, inner, li);
    o += li;
    for (size_t i = 0; i < levels; i++, o += lc)
        memcpy(s + o, close, lc);
    s[o] = '\0';
    *len = o;
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    size_t n;
    char *s;
    const size_t max = NATTEL_JSON_MAX_DEPTH;
    assert_int_equal(max, 64);

    s = nested(max, "[", "]", "", &n);
    expect_code(s, n, NATTEL_OK, __FILE__, __LINE__);
    free(s);
    s = nested(max, "[", "]", "1", &n);
    expect_code(s, n, NATTEL_OK, __FILE__, __LINE__);
    free(s);
    s = nested(max, "{\"a\":", "}", "1", &n);
    expect_code(s, n, NATTEL_OK, __FILE__, __LINE__);
    free(s);

    s = nested(max + 1, "[", "]", "", &n);
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    free(s);
    s = nested(max + 1, "{\"a\":", "}", "1", &n);
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    free(s);
    s = nested(max / 2 + 1, "[{\"k\":", "}]", "0", &n);
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    free(s);
    /* Very deep input: an error, not a stack overflow, and in linear time
     * (the bound is a hundred times what a linear reader needs). */
    s = nested(100000, "[", "]", "", &n);
    double t0 = now_s();
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    double took = now_s() - t0;
    if (took > 2.0)
        fail_msg(
            "100000 nested arrays (200 KB) took %.1f s to refuse: the depth "
            "limit must bound the work, not only the result",
            took);
    free(s);
    /* Deep but broken is still refused (either code, never accepted). */
    s = nested(1000, "[", "]", "", &n);
    s[n - 1] = '}';
    nattel_code rc = parse_n(s, n, NULL);
    assert_true(rc == NATTEL_EPARSE || rc == NATTEL_ELIMIT);
    free(s);
}

/* "[0,0,...,0]" with `items` zeros. */
static char *flat_zeros(size_t items, size_t *len)
{
    size_t n = 1 + items * 2;
    char *s = malloc(n + 1);
    assert_non_null(s);
    s[0] = '[';
    for (size_t i = 0; i < items; i++) {
        s[1 + 2 * i] = '0';
        s[2 + 2 * i] = ',';
    }
    s[n - 1] = ']';
    s[n] = '\0';
    *len = n;
    return s;
}

static void test_size_and_count_limits(void **state)
{
    (void)state;
    /* Over the byte limit: refused as a limit, whatever the content. */
    size_t n = (size_t)NATTEL_JSON_MAX_BYTES + 1;
    char *s = malloc(n);
    assert_non_null(s);
    memset(s, ' ', n);
    s[0] = '[';
    s[n - 1] = ']';
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    /* Exactly at the limit is allowed. */
    expect_code(s + 1, n - 1, NATTEL_EPARSE, __FILE__, __LINE__); /* "   ]" */
    s[1] = '[';
    expect_code(s + 1, n - 1, NATTEL_OK, __FILE__, __LINE__);
    free(s);

    /* A large flat array within the limits: fine, and the subtree links hold.
     */
    s = flat_zeros(200000, &n);
    {
        nattel__jdoc d;
        memset(&d, 0, sizeof d);
        nattel_error err;
        nattel_code rc = nattel__json_parse(&d, s, n, &err);
        if (rc)
            fail_msg("200000 zeros refused: %s", err.message);
        assert_int_equal(d.count, 200001);
        assert_int_equal(d.toks[0].type, NATTEL__JARRAY);
        assert_int_equal(d.toks[0].members, 200000);
        assert_int_equal(NATTEL__JNEXT(&d.toks[0]), (int)d.count);
        nattel__json_release(&d);
    }
    free(s);
    /* More values than the reader holds: a limit, not unbounded memory. */
    s = flat_zeros(NATTEL__JSON_MAX_TOKENS + 10, &n);
    expect_code(s, n, NATTEL_ELIMIT, __FILE__, __LINE__);
    free(s);
}

static void test_tree_links_and_types(void **state)
{
    (void)state;
    const char *src = "{\"a\":[1,{\"x\":null}],\"b\":\"s\",\"c\":true,\"d\":-2."
                      "5,\"e\":false}";
    nattel__jdoc d;
    memset(&d, 0, sizeof d);
    assert_int_equal(nattel__json_parse(&d, src, strlen(src), NULL), NATTEL_OK);
    /* 0 {  1 "a"  2 [  3 1  4 {  5 "x"  6 null  7 "b" 8 "s" 9 "c" 10 true
     * 11 "d" 12 -2.5 13 "e" 14 false */
    assert_int_equal(d.count, 15);
    assert_int_equal(NATTEL__JNEXT(&d.toks[0]), 15);
    assert_int_equal(NATTEL__JNEXT(&d.toks[2]), 7);
    assert_int_equal(NATTEL__JNEXT(&d.toks[4]), 7);
    assert_int_equal(NATTEL__JNEXT(&d.toks[3]), 4);
    assert_int_equal(NATTEL__JNEXT(&d.toks[8]), 9);
    assert_string_equal(nattel__json_type_name(&d, 0), "object");
    assert_string_equal(nattel__json_type_name(&d, 2), "array");
    assert_string_equal(nattel__json_type_name(&d, 1), "string");
    assert_string_equal(nattel__json_type_name(&d, 3), "number");
    assert_string_equal(nattel__json_type_name(&d, 6), "null");
    assert_string_equal(nattel__json_type_name(&d, 10), "boolean");
    assert_string_equal(nattel__json_type_name(&d, 14), "boolean");
    assert_string_equal(nattel__json_type_name(&d, 12), "number");
    assert_true(nattel__json_is_number(&d, 12));
    assert_true(nattel__json_is_number(&d, 3));
    assert_false(nattel__json_is_number(&d, 10));
    assert_false(nattel__json_is_number(&d, 6));
    assert_false(nattel__json_is_number(&d, 8));
    assert_true(nattel__json_is_string(&d, 8));
    assert_true(nattel__json_string_eq(&d, 7, "b", 1));
    assert_false(nattel__json_string_eq(&d, 7, "bb", 2));
    assert_false(nattel__json_string_eq(&d, 7, "", 0));
    double v = 0;
    assert_int_equal(nattel__json_double(&d, 12, &v), NATTEL_OK);
    assert_true(v == -2.5);
    nattel__json_release(&d);
}

static void check_decoded(const char *json, const char *want, size_t want_len)
{
    nattel__jdoc d;
    memset(&d, 0, sizeof d);
    nattel_error err;
    nattel_code rc = nattel__json_parse(&d, json, strlen(json), &err);
    if (rc)
        fail_msg("<%s> refused: %s", json, err.message);
    assert_true(nattel__json_is_string(&d, 0));
    nattel_str raw = nattel__json_raw(&d, 0);
    char *out = malloc(raw.len + 1);
    assert_non_null(out);
    size_t n = nattel__json_decode_string(&d, 0, out);
    if (n != want_len || memcmp(out, want, n) != 0)
        fail_msg("<%s> decoded to %zu bytes, expected %zu", json, n, want_len);
    assert_int_equal(out[n], '\0');
    assert_true(nattel__json_string_eq(&d, 0, want, want_len));
    if (want_len > 0)
        assert_false(nattel__json_string_eq(&d, 0, want, want_len - 1));
    free(out);
    nattel__json_release(&d);
}

#define DECODED(json, lit) check_decoded((json), (lit), sizeof(lit) - 1)

static void test_decode_string(void **state)
{
    (void)state;
    DECODED("\"\"", "");
    DECODED("\"plain\"", "plain");
    DECODED("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t");
    DECODED("\"a\\u0041b\"", "aAb");
    DECODED("\"\\u00e9\\u00E9\"", "\xC3\xA9\xC3\xA9");
    DECODED("\"\\u0800\"", "\xE0\xA0\x80");
    DECODED("\"\\u20ac\"", "\xE2\x82\xAC");
    DECODED("\"\\uffff\"", "\xEF\xBF\xBF");
    DECODED("\"\\ud83d\\ude00\"", "\xF0\x9F\x98\x80");
    DECODED("\"\\uD800\\uDC00\"", "\xF0\x90\x80\x80");
    DECODED("\"\\udbff\\udfff\"", "\xF4\x8F\xBF\xBF");
    DECODED("\"\\u0000\"", "\0");
    DECODED("\"a\\u0000b\"", "a\0b");
    DECODED("\"\\u007f\\u0080\\u07ff\"", "\x7F\xC2\x80\xDF\xBF");
    DECODED("\"\xF0\x9F\x98\x80 and \\ud83d\\ude00\"",
            "\xF0\x9F\x98\x80 and \xF0\x9F\x98\x80");
    DECODED("\"\\\\u0041\"", "\\u0041");
}

/* nattel__json_int on one number document. */
static nattel__jnum_class classify(const char *num, int64_t *out)
{
    /* Inside an array, so this tests the accessor (top-level scalars are
     * test_accepts_valid_documents' business). */
    char doc[128];
    snprintf(doc, sizeof doc, "[%s]", num);
    nattel__jdoc d;
    memset(&d, 0, sizeof d);
    nattel_error err;
    nattel_code rc = nattel__json_parse(&d, doc, strlen(doc), &err);
    if (rc)
        fail_msg("<%s> refused: %s", doc, err.message);
    assert_true(nattel__json_is_number(&d, 1));
    *out = 0x5A5A;
    nattel__jnum_class c = nattel__json_int(&d, 1, out);
    nattel__json_release(&d);
    return c;
}

static void expect_int(const char *num, int64_t want, int line)
{
    int64_t v;
    nattel__jnum_class c = classify(num, &v);
    if (c != NATTEL__JNUM_INT)
        fail_msg("line %d: %s: expected the integer %" PRId64 ", got class %d",
                 line, num, want, (int)c);
    if (v != want)
        fail_msg("line %d: %s: expected %" PRId64 ", got %" PRId64, line, num,
                 want, v);
}

static void expect_class(const char *num, nattel__jnum_class want, int line)
{
    int64_t v;
    nattel__jnum_class c = classify(num, &v);
    if (c != want)
        fail_msg("line %d: %s: expected class %d, got %d (value %" PRId64 ")",
                 line, num, (int)want, (int)c, v);
}

#define INT_IS(num, v) expect_int((num), (v), __LINE__)
#define FRACTION(num) expect_class((num), NATTEL__JNUM_FRACTION, __LINE__)
#define OUT_OF_RANGE(num)                                                      \
    expect_class((num), NATTEL__JNUM_OUT_OF_RANGE, __LINE__)

static void test_integer_rule(void **state)
{
    (void)state;
    INT_IS("12", 12);
    INT_IS("12.0", 12);
    INT_IS("1.2e1", 12);
    INT_IS("1.2E+1", 12);
    INT_IS("120e-1", 12);
    INT_IS("1200000000000000000000e-20", 12);
    INT_IS("0.00000000000000000000000000000000012e35", 12);
    INT_IS("12.000000000000000000000000000000", 12);
    INT_IS("-12.0", -12);
    INT_IS("0", 0);
    INT_IS("-0", 0);
    INT_IS("0.0", 0);
    INT_IS("-0.0e5", 0);
    INT_IS("0e999999", 0);
    INT_IS("0e-999999", 0);
    INT_IS("0.000e99999999999999999999", 0);
    INT_IS("-1", -1);
    INT_IS("1E2", 100);
    INT_IS("1e18", 1000000000000000000);
    INT_IS("0.1e1", 1);
    INT_IS("10e-1", 1);
    INT_IS("9223372036854775807", INT64_MAX);
    INT_IS("9223372036854775807.0", INT64_MAX);
    INT_IS("92233720368547758070e-1", INT64_MAX);
    INT_IS("9.223372036854775807e18", INT64_MAX);
    INT_IS("-9223372036854775808", INT64_MIN);
    INT_IS("-9223372036854775808.000", INT64_MIN);
    INT_IS("-9.223372036854775808e18", INT64_MIN);
    INT_IS("1234567890123456789000e-3", 1234567890123456789);
    INT_IS("999999999999999999", 999999999999999999);
    INT_IS("-999999999999999999", -999999999999999999);
    INT_IS("1000000000000000000", 1000000000000000000);
    INT_IS("4611686018427387904", 4611686018427387904);

    FRACTION("12.5");
    FRACTION("-12.5");
    FRACTION("0.5");
    FRACTION("1e-1");
    FRACTION("125e-1");
    FRACTION("1.00000000000000000000001"); /* a double would round to 1 */
    FRACTION("9223372036854775807.5");
    FRACTION("123456789012345678901234567890e-12");
    FRACTION("1e-999999");
    FRACTION("1e-99999999999999999999");
    FRACTION("-0.000001");

    OUT_OF_RANGE("1e19");
    OUT_OF_RANGE("-1e19");
    OUT_OF_RANGE("9223372036854775808");
    OUT_OF_RANGE("-9223372036854775809");
    OUT_OF_RANGE("9223372036854775808.0");
    OUT_OF_RANGE("92233720368547758080e-1");
    OUT_OF_RANGE("18446744073709551615");
    OUT_OF_RANGE("18446744073709551616");
    OUT_OF_RANGE("99999999999999999999");
    OUT_OF_RANGE("100000000000000000000000000000000000000");
    OUT_OF_RANGE("1.5e19");
    OUT_OF_RANGE("12.5e30");
    OUT_OF_RANGE("1e999999");
    OUT_OF_RANGE("1e99999999999999999999");
    OUT_OF_RANGE("-1e400");
}

static void test_double(void **state)
{
    (void)state;
    const struct {
        const char *s;
        double v;
        nattel_code rc;
    } cases[] = {
        {"1.5", 1.5, NATTEL_OK},
        {"-0.25", -0.25, NATTEL_OK},
        {"1e3", 1000.0, NATTEL_OK},
        {"12", 12.0, NATTEL_OK},
        {"1.7976931348623157e308", 1.7976931348623157e308, NATTEL_OK},
        {"1e-400", 0.0, NATTEL_OK},
        {"1e400", 0, NATTEL_ELIMIT},
        {"-1e400", 0, NATTEL_ELIMIT},
        {"2e308", 0, NATTEL_ELIMIT},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[%s]", cases[k].s);
        nattel__jdoc d;
        memset(&d, 0, sizeof d);
        assert_int_equal(nattel__json_parse(&d, doc, strlen(doc), NULL),
                         NATTEL_OK);
        double v = -999;
        nattel_code rc = nattel__json_double(&d, 1, &v);
        if (rc != cases[k].rc)
            fail_msg("%s: expected code %d, got %d", cases[k].s,
                     (int)cases[k].rc, (int)rc);
        if (rc == NATTEL_OK && v != cases[k].v)
            fail_msg("%s: expected %.17g, got %.17g", cases[k].s, cases[k].v,
                     v);
        nattel__json_release(&d);
    }
}

static void test_error_messages(void **state)
{
    (void)state;
    nattel_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(parse_n("[1,]", 4, &err), NATTEL_EPARSE);
    assert_int_equal(err.code, NATTEL_EPARSE);
    /* Says where (the ',' at byte 2 or the ']' at byte 3), and does not
     * contradict itself ("unexpected ',', expected ','"). */
    if (!strstr(err.message, "byte 2") && !strstr(err.message, "byte 3"))
        fail_msg("[1,]: the message does not say where: %s", err.message);
    if (strstr(err.message, "unexpected ','") &&
        strstr(err.message, ", expected ','"))
        fail_msg("[1,]: the message contradicts itself: %s", err.message);
    memset(&err, 0, sizeof err);
    assert_int_equal(parse_n("{\"a\":\"x\x01\"}", 10, &err), NATTEL_EPARSE);
    assert_true(strlen(err.message) > 0);
    /* NULL error pointers are allowed */
    assert_int_equal(parse_n("[1,]", 4, NULL), NATTEL_EPARSE);
}

/* ---------------------------------------------------------------- */
/* Differential test against jansson                                 */
/* ---------------------------------------------------------------- */

#ifdef NATTEL_HAVE_JANSSON

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_put(sbuf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    assert_true(w >= 0 && (size_t)w < sizeof tmp);
    sb_put(b, tmp, (size_t)w);
}

static void gen_ws(tu_rng *r, sbuf *b)
{
    static const char ws[] = " \t\n\r";
    if (tu_rbelow(r, 4) == 0) {
        unsigned k = tu_rbelow(r, 3) + 1;
        for (unsigned i = 0; i < k; i++)
            sb_put(b, &ws[tu_rbelow(r, 4)], 1);
    }
}

static size_t utf8_enc(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static unsigned rand_scalar(tu_rng *r)
{
    for (;;) {
        unsigned cp;
        switch (tu_rbelow(r, 4)) {
        case 0:
            cp = 0x80 + tu_rbelow(r, 0x800 - 0x80);
            break;
        case 1:
            cp = 0x800 + tu_rbelow(r, 0x10000 - 0x800);
            break;
        case 2:
            cp = 0x10000 + tu_rbelow(r, 0x110000 - 0x10000);
            break;
        default:
            cp = 0x20 + tu_rbelow(r, 0x60);
            break;
        }
        if (cp < 0xD800 || cp > 0xDFFF)
            return cp;
    }
}

static void gen_string(tu_rng *r, sbuf *b, int is_key)
{
    static const char *const esc[] = {"\\\"", "\\\\", "\\/", "\\b",
                                      "\\f",  "\\n",  "\\r", "\\t"};
    sb_put(b, "\"", 1);
    unsigned len = tu_rbelow(r, 5) == 0 ? tu_rbelow(r, 40) : tu_rbelow(r, 8);
    for (unsigned i = 0; i < len; i++) {
        unsigned pick = tu_rbelow(r, 20);
        char tmp[16];
        if (pick < 10) {
            char c = (char)("abcxyzAZ09 _-.:,[]{}"[tu_rbelow(r, 20)]);
            sb_put(b, &c, 1);
        } else if (pick < 12) {
            sb_str(b, esc[tu_rbelow(r, 8)]);
        } else if (pick < 14) {
            unsigned cp = tu_rbelow(r, 0x10000);
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0x41;
            if (cp == 0 && is_key)
                cp = 1; /* jansson does not support NUL in keys */
            sb_fmt(b, tu_rbelow(r, 2) ? "\\u%04x" : "\\u%04X", cp);
        } else if (pick < 15) {
            unsigned cp = 0x10000 + tu_rbelow(r, 0x100000);
            unsigned v = cp - 0x10000;
            sb_fmt(b, "\\u%04X\\u%04x", 0xD800 + (v >> 10),
                   0xDC00 + (v & 0x3FF));
        } else if (pick < 16 && !is_key) {
            sb_str(b, "\\u0000");
        } else {
            size_t n = utf8_enc(rand_scalar(r), tmp);
            sb_put(b, tmp, n);
        }
    }
    sb_put(b, "\"", 1);
}

static void gen_number(tu_rng *r, sbuf *b)
{
    switch (tu_rbelow(r, 12)) {
    case 0:
        sb_fmt(b, "%d", (int)tu_rbelow(r, 10));
        break;
    case 1:
    case 2:
        sb_fmt(b, "%" PRId64,
               (int64_t)(tu_rnext(r) >> tu_rbelow(r, 64)) *
                   (tu_rbelow(r, 2) ? 1 : -1));
        break;
    case 3:
        sb_str(b, tu_rbelow(r, 2) ? "-0" : "0");
        break;
    case 4:
        sb_fmt(b, "%s%u.%0*u", tu_rbelow(r, 2) ? "-" : "", tu_rbelow(r, 1000),
               (int)tu_rbelow(r, 4) + 1, tu_rbelow(r, 1000));
        break;
    case 5:
        sb_fmt(b, "%u%c%s%u", tu_rbelow(r, 100), tu_rbelow(r, 2) ? 'e' : 'E',
               tu_rbelow(r, 3) == 0 ? "+"
               : tu_rbelow(r, 2)    ? "-"
                                    : "",
               tu_rbelow(r, 30));
        break;
    case 6:
        sb_fmt(b, "%s%u.%ue%d", tu_rbelow(r, 2) ? "-" : "", tu_rbelow(r, 10),
               tu_rbelow(r, 100000), (int)tu_rbelow(r, 40) - 20);
        break;
    case 7:
        sb_fmt(b, "%s922337203685477580%u", tu_rbelow(r, 2) ? "-" : "",
               tu_rbelow(r, 10));
        break;
    case 8:
        sb_fmt(b, "%u.0", tu_rbelow(r, 100000));
        break;
    case 9:
        sb_fmt(b, "%ue%u", tu_rbelow(r, 10), tu_rbelow(r, 400));
        break;
    case 10:
        sb_fmt(b, "0.%05u", tu_rbelow(r, 100000));
        break;
    default:
        sb_fmt(b, "%u", tu_rbelow(r, 1000000));
        break;
    }
}

static void gen_value(tu_rng *r, sbuf *b, int depth)
{
    unsigned pick = tu_rbelow(r, depth > 5 ? 6 : 9);
    if (depth == 0 && tu_rbelow(r, 8) != 0)
        pick = 6 + tu_rbelow(r, 3); /* mostly containers at the top */
    switch (pick) {
    case 0:
        sb_str(b, "true");
        break;
    case 1:
        sb_str(b, "false");
        break;
    case 2:
        sb_str(b, "null");
        break;
    case 3:
    case 4:
        gen_number(r, b);
        break;
    case 5:
        gen_string(r, b, 0);
        break;
    case 6:
    case 7: {
        sb_put(b, "{", 1);
        unsigned n = tu_rbelow(r, 5);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                sb_put(b, ",", 1);
            gen_ws(r, b);
            if (tu_rbelow(r, 6) == 0)
                sb_str(b, "\"dup\""); /* duplicate keys now and then */
            else
                gen_string(r, b, 1);
            gen_ws(r, b);
            sb_put(b, ":", 1);
            gen_ws(r, b);
            gen_value(r, b, depth + 1);
            gen_ws(r, b);
        }
        sb_put(b, "}", 1);
        break;
    }
    default: {
        sb_put(b, "[", 1);
        unsigned n = tu_rbelow(r, 5);
        for (unsigned i = 0; i < n; i++) {
            if (i)
                sb_put(b, ",", 1);
            gen_ws(r, b);
            gen_value(r, b, depth + 1);
            gen_ws(r, b);
        }
        sb_put(b, "]", 1);
        break;
    }
    }
}

static const char *const snippets[] = {",",
                                       "]",
                                       "}",
                                       "[",
                                       "{",
                                       ":",
                                       "\"",
                                       "\\",
                                       "\\u",
                                       "\\ud800",
                                       "\\udc00",
                                       "\\ud83d\\ude00",
                                       "0",
                                       "-",
                                       ".",
                                       "e",
                                       "E",
                                       "+",
                                       " ",
                                       "\t",
                                       "\n",
                                       "\x01",
                                       "\x1f",
                                       "\x7f",
                                       "\xc0\x80",
                                       "\xc3\xa9",
                                       "\xed\xa0\x80",
                                       "\xf4\x90\x80\x80",
                                       "\xf0\x9f\x98\x80",
                                       "\x80",
                                       "\xff",
                                       "true",
                                       "nul",
                                       "01",
                                       "1.",
                                       ".5",
                                       "1e",
                                       "\xef\xbb\xbf",
                                       "\\x",
                                       "\\u00",
                                       "\\u0000",
                                       "'",
                                       "/",
                                       "a",
                                       "[]",
                                       "{}",
                                       "\"k\":",
                                       "1 2"};
#define NSNIPPETS (sizeof snippets / sizeof *snippets)

static const unsigned char flip_bytes[] = {
    ',',  ']',  '}',  '[',  '{',  ':',  '"',  '\\', '0',  '1',  '-',  '.',
    'e',  ' ',  '\t', '\n', 0x00, 0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3,
    0xed, 0xf4, 0xf5, 0xff, 'u',  'a',  'n',  't',  'E',  '+',  '/'};

static void mutate(tu_rng *r, sbuf *out, const char *src, size_t n)
{
    out->n = 0;
    unsigned kind = tu_rbelow(r, 6);
    size_t pos = n ? tu_rbelow(r, (unsigned)n) : 0;
    switch (kind) {
    case 0: /* byte flip */
        sb_put(out, src, n);
        if (n) {
            unsigned char c = tu_rbelow(r, 3) == 0
                                  ? (unsigned char)tu_rbelow(r, 256)
                                  : flip_bytes[tu_rbelow(r, sizeof flip_bytes)];
            out->p[pos] = (char)c;
        }
        break;
    case 1: /* truncation */
        sb_put(out, src, pos);
        break;
    case 2: { /* insertion */
        const char *snip = snippets[tu_rbelow(r, NSNIPPETS)];
        sb_put(out, src, pos);
        sb_str(out, snip);
        sb_put(out, src + pos, n - pos);
        break;
    }
    case 3: /* deletion of 1..3 bytes */
        sb_put(out, src, pos);
        if (n) {
            size_t del = tu_rbelow(r, 3) + 1;
            if (pos + del < n)
                sb_put(out, src + pos + del, n - pos - del);
        }
        break;
    case 4: /* two top-level values */
        sb_put(out, src, n);
        sb_str(out, tu_rbelow(r, 2) ? " " : "");
        sb_put(out, src, n);
        break;
    default: /* two flips */
        sb_put(out, src, n);
        if (n) {
            out->p[pos] = (char)flip_bytes[tu_rbelow(r, sizeof flip_bytes)];
            out->p[tu_rbelow(r, (unsigned)n)] =
                (char)flip_bytes[tu_rbelow(r, sizeof flip_bytes)];
        }
        break;
    }
}

typedef struct diff_stats {
    unsigned docs, accepted, rejected, skipped, compared_values;
} diff_stats;

/* Disagreements are collected, shown (the first few) and failed at the end,
 * so one run shows every kind of difference. */
static unsigned diff_failures;

static void disagree(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void disagree(const char *fmt, ...)
{
    if (diff_failures++ < 25) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        print_error("%s\n", msg);
    }
}

static int same_value(const nattel__jdoc *d, unsigned t, json_t *j, char *why,
                      size_t size, diff_stats *st);

static int same_string(const nattel__jdoc *d, unsigned t, const char *s,
                       size_t n)
{
    nattel_str raw = nattel__json_raw(d, t);
    char *tmp = malloc(raw.len + 1);
    assert_non_null(tmp);
    size_t m = nattel__json_decode_string(d, t, tmp);
    int same = m == n && memcmp(tmp, s, n) == 0;
    free(tmp);
    return same;
}

static int same_value(const nattel__jdoc *d, unsigned t, json_t *j, char *why,
                      size_t size, diff_stats *st)
{
    const nattel__jtok *tok = &d->toks[t];
    st->compared_values++;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        if (tok->type != NATTEL__JOBJECT) {
            snprintf(why, size, "token %u: jansson has an object", t);
            return 0;
        }
        /* Keys: jansson keeps the last of duplicates. */
        unsigned c = t + 1;
        size_t distinct = 0;
        for (int k = 0; k < tok->members; k++) {
            unsigned key = c, val = c + 1;
            c = (unsigned)NATTEL__JNEXT(&d->toks[val]);
            nattel_str raw = nattel__json_raw(d, key);
            char *name = malloc(raw.len + 1);
            assert_non_null(name);
            size_t nlen = nattel__json_decode_string(d, key, name);
            /* Is there a later pair with the same key? */
            int later = 0;
            unsigned c2 = c;
            for (int k2 = k + 1; k2 < tok->members; k2++) {
                if (same_string(d, c2, name, nlen))
                    later = 1;
                c2 = (unsigned)NATTEL__JNEXT(&d->toks[c2 + 1]);
            }
            if (!later) {
                distinct++;
                json_t *jv = json_object_getn(j, name, nlen);
                if (!jv) {
                    snprintf(why, size,
                             "token %u: key missing in jansson's object", key);
                    free(name);
                    return 0;
                }
                if (!same_value(d, val, jv, why, size, st)) {
                    free(name);
                    return 0;
                }
            }
            free(name);
        }
        if (distinct != json_object_size(j)) {
            snprintf(why, size, "token %u: %zu distinct keys, jansson has %zu",
                     t, distinct, json_object_size(j));
            return 0;
        }
        if (c != (unsigned)NATTEL__JNEXT(tok)) {
            snprintf(why, size, "token %u: subtree link is %d, walked to %u", t,
                     NATTEL__JNEXT(tok), c);
            return 0;
        }
        return 1;
    }
    case JSON_ARRAY: {
        if (tok->type != NATTEL__JARRAY ||
            (size_t)tok->members != json_array_size(j)) {
            snprintf(why, size, "token %u: jansson has an array of %zu", t,
                     json_array_size(j));
            return 0;
        }
        unsigned c = t + 1;
        for (int k = 0; k < tok->members; k++) {
            if (!same_value(d, c, json_array_get(j, (size_t)k), why, size, st))
                return 0;
            c = (unsigned)NATTEL__JNEXT(&d->toks[c]);
        }
        if (c != (unsigned)NATTEL__JNEXT(tok)) {
            snprintf(why, size, "token %u: subtree link is %d, walked to %u", t,
                     NATTEL__JNEXT(tok), c);
            return 0;
        }
        return 1;
    }
    case JSON_STRING:
        if (!nattel__json_is_string(d, t) ||
            !same_string(d, t, json_string_value(j), json_string_length(j))) {
            snprintf(why, size, "token %u: strings differ", t);
            return 0;
        }
        return 1;
    case JSON_INTEGER: {
        int64_t v = 0;
        if (!nattel__json_is_number(d, t) ||
            nattel__json_int(d, t, &v) != NATTEL__JNUM_INT ||
            v != (int64_t)json_integer_value(j)) {
            snprintf(why, size, "token %u: jansson has the integer %" PRId64, t,
                     (int64_t)json_integer_value(j));
            return 0;
        }
        return 1;
    }
    case JSON_REAL: {
        double jr = json_real_value(j), v = 0;
        if (!nattel__json_is_number(d, t) ||
            nattel__json_double(d, t, &v) != NATTEL_OK ||
            memcmp(&v, &jr, sizeof v) != 0) {
            snprintf(why, size,
                     "token %u: jansson has the real %.17g, we %.17g", t, jr,
                     v);
            return 0;
        }
        int64_t i = 0;
        nattel__jnum_class cls = nattel__json_int(d, t, &i);
        if (cls == NATTEL__JNUM_INT && (double)i != jr) {
            snprintf(why, size,
                     "token %u: integer %" PRId64 " but jansson reads %.17g", t,
                     i, jr);
            return 0;
        }
        if (cls == NATTEL__JNUM_OUT_OF_RANGE &&
            fabs(jr) < 9223372036854775808.0) {
            snprintf(why, size,
                     "token %u: out of range but jansson reads %.17g", t, jr);
            return 0;
        }
        return 1;
    }
    case JSON_TRUE:
    case JSON_FALSE:
    case JSON_NULL: {
        char want = json_is_true(j) ? 't' : json_is_false(j) ? 'f' : 'n';
        if (tok->type != NATTEL__JPRIMITIVE ||
            nattel__json_lead(d, t) != want) {
            snprintf(why, size, "token %u: jansson has the literal %c...", t,
                     want);
            return 0;
        }
        return 1;
    }
    }
    snprintf(why, size, "token %u: unknown jansson type", t);
    return 0;
}

static void check_one(const char *doc, size_t n, diff_stats *st)
{
    json_error_t jerr;
    json_t *j = json_loadb(doc, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    nattel__jdoc d;
    memset(&d, 0, sizeof d);
    nattel_error err;
    err.message[0] = '\0';
    nattel_code rc = nattel__json_parse(&d, doc, n, &err);
    st->docs++;
    if (memchr(doc, '\0', n)) {
        /* A raw NUL byte is never valid JSON (not whitespace, not allowed
         * unescaped in a string). jansson skips a NUL that follows a number
         * or literal, so it is no oracle here: the RFC is. */
        if (rc == NATTEL_OK) {
            char shown[600];
            show(doc, n, shown, sizeof shown);
            disagree("accepted a raw NUL byte: <%s>", shown);
        }
        st->rejected++;
        json_decref(j);
        nattel__json_release(&d);
        return;
    }
    if (!j) {
        enum json_error_code code = json_error_code(&jerr);
        if (code == json_error_numeric_overflow ||
            code == json_error_null_byte_in_key) {
            /* jansson limits, not JSON syntax: not comparable. */
            st->skipped++;
            nattel__json_release(&d);
            return;
        }
    }
    char shown[600];
    if ((rc == NATTEL_OK) != (j != NULL)) {
        show(doc, n, shown, sizeof shown);
        disagree(
            "disagreement on <%s> (%zu bytes): nattel %s (%s), jansson %s (%s)",
            shown, n, rc ? "refuses" : "accepts", rc ? err.message : "",
            j ? "accepts" : "refuses", j ? "" : jerr.text);
        json_decref(j);
        nattel__json_release(&d);
        return;
    }
    if (rc == NATTEL_OK) {
        char why[200];
        st->accepted++;
        if (!same_value(&d, 0, j, why, sizeof why, st)) {
            show(doc, n, shown, sizeof shown);
            disagree("values differ on <%s>: %s", shown, why);
        }
        if (NATTEL__JNEXT(&d.toks[0]) != (int)d.count)
            disagree("root subtree link %d, %u tokens",
                     NATTEL__JNEXT(&d.toks[0]), d.count);
    } else {
        st->rejected++;
        if (rc != NATTEL_EPARSE && rc != NATTEL_ELIMIT)
            disagree("refused with code %s", nattel_code_name(rc));
    }
    json_decref(j);
    nattel__json_release(&d);
}

static void test_differential_jansson(void **state)
{
    (void)state;
    tu_rng r = {0x9E3779B97F4A7C15ULL};
    sbuf doc = {NULL, 0, 0}, mut = {NULL, 0, 0};
    diff_stats valid = {0, 0, 0, 0, 0}, mutated = {0, 0, 0, 0, 0};
    /* NATTEL_DIFF_DOCS raises the corpus size for a longer hunt. */
    const char *env_n = tu_env("NATTEL_DIFF_DOCS");
    const unsigned N = env_n ? (unsigned)strtoul(env_n, NULL, 10) : 4000,
                   MUTATIONS = 4;
    if (env_n)
        r.s ^= (uint64_t)N * 0x100000001B3ULL;
    for (unsigned k = 0; k < N; k++) {
        doc.n = 0;
        gen_ws(&r, &doc);
        gen_value(&r, &doc, 0);
        gen_ws(&r, &doc);
        check_one(doc.p, doc.n, &valid);
        for (unsigned m = 0; m < MUTATIONS; m++) {
            mutate(&r, &mut, doc.p, doc.n);
            check_one(mut.p ? mut.p : "", mut.n, &mutated);
        }
    }
    /* Hand-picked documents go through the oracle too. */
    static const char *const extra[] = {"[1,]",
                                        "01",
                                        "1.",
                                        ".5",
                                        "-",
                                        "[1 2]",
                                        "{\"a\" 1}",
                                        "1 2",
                                        "[]x",
                                        "\"\\ud800\"",
                                        "\"\xc0\x80\"",
                                        "\"\xed\xa0\x80\"",
                                        "\"\xf4\x90\x80\x80\"",
                                        "\"\x01\"",
                                        "\"\\x\"",
                                        "",
                                        "  ",
                                        "{\"a\":1,\"a\":2}",
                                        "\"\\u0000\"",
                                        "[-0,0.0e0,1E-0,1e+0]",
                                        "{\"\":{\"\":[]}}",
                                        "[\"\\/\"]",
                                        "1e400",
                                        "99999999999999999999",
                                        "[nul]",
                                        "tru",
                                        "{\"a\":1:2}",
                                        "[1:2]",
                                        "{\"a\",1}",
                                        "[\"a\":1]",
                                        "{\"a\":[}",
                                        "{\"a\":{]}",
                                        "[{]}",
                                        "{[}]",
                                        "{\"a\" \"b\"}",
                                        "{\"a\":\"b\" \"c\"}",
                                        "[\"a\" ,, \"b\"]"};
    diff_stats hand = {0, 0, 0, 0, 0};
    for (size_t k = 0; k < sizeof extra / sizeof *extra; k++)
        check_one(extra[k], strlen(extra[k]), &hand);

    print_message(
        "differential vs jansson: %u valid documents (%u accepted, %u "
        "skipped), %u mutated (%u accepted, %u refused, %u skipped), %u "
        "values compared\n",
        valid.docs, valid.accepted, valid.skipped, mutated.docs,
        mutated.accepted, mutated.rejected, mutated.skipped,
        valid.compared_values + mutated.compared_values);
    if (diff_failures)
        fail_msg(
            "%u documents where nattel and jansson disagree (first ones above)",
            diff_failures);
    /* The corpus must exercise both sides, or it proves nothing. */
    assert_true(valid.accepted > N * 9 / 10);
    assert_true(mutated.rejected > mutated.docs / 4);
    assert_true(mutated.accepted > mutated.docs / 20);
    assert_true(valid.skipped + mutated.skipped <
                (valid.docs + mutated.docs) / 10);
    free(doc.p);
    free(mut.p);
}

#else

static void test_differential_jansson(void **state)
{
    (void)state;
    print_message(
        "jansson not found: the differential test against it is skipped\n");
    skip();
}

#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_valid_documents),
        cmocka_unit_test(test_rejects_structure_errors),
        cmocka_unit_test(test_rejects_bad_literals_and_numbers),
        cmocka_unit_test(test_rejects_bad_strings),
        cmocka_unit_test(test_rejects_nul_bytes),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_and_count_limits),
        cmocka_unit_test(test_tree_links_and_types),
        cmocka_unit_test(test_decode_string),
        cmocka_unit_test(test_integer_rule),
        cmocka_unit_test(test_double),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_differential_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
