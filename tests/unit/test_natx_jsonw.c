/* natx_jsonw, the one JSON writer for objects and arrays.
 *
 * 1. Exact bytes for a document using every call (commas and colons put
 *    by the writer).
 * 2. String escaping: every control character, quote, backslash and
 *    non-ASCII text; read back by jansson (an independent parser).
 * 3. The first error is kept and reported once by finish(): invalid UTF-8,
 *    misuse (a value where a key is due, a key in an array, mismatched
 *    ends, a second top-level value, an unclosed or empty document),
 *    nesting past the stack, a string too large to allocate.
 * 4. Random trees written by natx_jsonw and built in jansson: jansson
 *    reads ours back equal to its own tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "natx/natx_jsonw.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NATTEL_HAVE_JANSSON
#include <jansson.h>
#endif

static void test_exact_document(void **state)
{
    (void)state;
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    natx_jsonw_init(&w, &b);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "a");
    natx_jsonw_int64(&w, 1);
    natx_jsonw_key(&w, "b");
    natx_jsonw_begin_array(&w);
    natx_jsonw_bool(&w, 1);
    natx_jsonw_bool(&w, 0);
    natx_jsonw_null(&w);
    natx_jsonw_cstring(&w, "x");
    natx_jsonw_cstring(&w, NULL);
    natx_jsonw_end_array(&w);
    natx_jsonw_keyn(&w, "cc", 1);
    natx_jsonw_begin_object(&w);
    natx_jsonw_end_object(&w);
    natx_jsonw_key(&w, "d");
    natx_jsonw_begin_array(&w);
    natx_jsonw_end_array(&w);
    natx_jsonw_key(&w, "u");
    natx_jsonw_uint64(&w, UINT64_MAX);
    natx_jsonw_key(&w, "i");
    natx_jsonw_int64(&w, INT64_MIN);
    natx_jsonw_key(&w, "f");
    natx_jsonw_double(&w, 2.5);
    natx_jsonw_key(&w, "r");
    natx_jsonw_raw(&w, "{\"k\":[1,2]}", 11);
    natx_jsonw_key(&w, "s");
    natx_jsonw_string(&w, "a\0b", 3);
    natx_jsonw_end_object(&w);
    nattel_error err = {NATTEL_OK, ""};
    assert_int_equal(natx_jsonw_finish(&w, &err), NATTEL_OK);
    assert_string_equal(b.data,
                        "{\"a\":1,\"b\":[true,false,null,\"x\",null],\"c\":{},"
                        "\"d\":[],\"u\":18446744073709551615,"
                        "\"i\":-9223372036854775808,\"f\":2.5,"
                        "\"r\":{\"k\":[1,2]},\"s\":\"a\\u0000b\"}");
    nattel_buf_free(&b);
}

/* A bare top-level value is a document too; the writer appends. */
static void test_top_level_scalar_appends(void **state)
{
    (void)state;
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_buf_append(&b, "x=", 2);
    natx_jsonw w;
    natx_jsonw_init(&w, &b);
    natx_jsonw_int64(&w, -7);
    assert_int_equal(natx_jsonw_finish(&w, NULL), NATTEL_OK);
    assert_string_equal(b.data, "x=-7");
    nattel_buf_free(&b);
}

static void test_escaping(void **state)
{
    (void)state;
    char s[64];
    size_t n = 0;
    for (int c = 0; c < 0x20; c++)
        s[n++] = (char)c;
    static const char tail[] = "\"\\/\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    memcpy(s + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    natx_jsonw_init(&w, &b);
    natx_jsonw_begin_array(&w);
    natx_jsonw_string(&w, s, n);
    natx_jsonw_end_array(&w);
    assert_int_equal(natx_jsonw_finish(&w, NULL), NATTEL_OK);
    /* No raw control byte may remain; the short forms are used. */
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] >= 0x20);
    assert_non_null(strstr(b.data, "\\u0000\\u0001"));
    assert_non_null(strstr(b.data, "\\b\\t\\n\\u000b\\f\\r"));
    assert_non_null(strstr(b.data, "\\u001f\\\"\\\\/"));
#ifdef NATTEL_HAVE_JANSSON
    json_error_t jerr;
    json_t *j = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &jerr);
    if (!j)
        fail_msg("jansson refuses %s: %s", b.data, jerr.text);
    json_t *str = json_array_get(j, 0);
    assert_int_equal(json_string_length(str), n);
    assert_memory_equal(json_string_value(str), s, n);
    json_decref(j);
#endif
    nattel_buf_free(&b);
}

typedef void (*misuse_fn)(natx_jsonw *w);

/* Runs fn on a fresh writer over b; finish()'s code. */
static nattel_code run_writer(misuse_fn fn, nattel_buf *b, nattel_error *err)
{
    natx_jsonw w;
    natx_jsonw_init(&w, b);
    fn(&w);
    return natx_jsonw_finish(&w, err);
}

/* Each bad byte (a lone continuation, a cut sequence, an overlong form, a
 * surrogate) becomes U+FFFD. */
static void w_lossy(natx_jsonw *w)
{
    static const char bad[] = "a\x80"
                              "b\xe2\x82"
                              "c\xc0\xaf"
                              "\xed\xa0\x80"
                              "\xc3\xa9";
    natx_jsonw_string_lossy(w, bad, sizeof bad - 1);
}

static void test_lossy_strings(void **state)
{
    (void)state;
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(run_writer(w_lossy, &b, NULL), NATTEL_OK);
    assert_string_equal(b.data, "\"a\xEF\xBF\xBD"
                                "b\xEF\xBF\xBD\xEF\xBF\xBD"
                                "c\xEF\xBF\xBD\xEF\xBF\xBD"
                                "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                                "\xc3\xa9\"");
    nattel_buf_free(&b);
}

static void m_value_for_key(natx_jsonw *w)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_int64(w, 1);
}
static void m_key_in_array(natx_jsonw *w)
{
    natx_jsonw_begin_array(w);
    natx_jsonw_key(w, "k");
}
static void m_key_at_top(natx_jsonw *w)
{
    natx_jsonw_key(w, "k");
}
static void m_two_keys(natx_jsonw *w)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_key(w, "a");
    natx_jsonw_key(w, "b");
}
static void m_end_after_key(natx_jsonw *w)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_key(w, "a");
    natx_jsonw_end_object(w);
}
static void m_mismatched_end(natx_jsonw *w)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_end_array(w);
}
static void m_end_at_top(natx_jsonw *w)
{
    natx_jsonw_end_object(w);
}
static void m_two_values(natx_jsonw *w)
{
    natx_jsonw_null(w);
    natx_jsonw_null(w);
}
static void m_unclosed(natx_jsonw *w)
{
    natx_jsonw_begin_array(w);
    natx_jsonw_begin_object(w);
    natx_jsonw_end_object(w);
}
static void m_nothing(natx_jsonw *w)
{
    (void)w;
}
static void m_empty_raw(natx_jsonw *w)
{
    natx_jsonw_raw(w, "", 0);
}
static void m_nan(natx_jsonw *w)
{
    natx_jsonw_double(w, 0.0 / 0.0);
}

/* The first error stays: later calls, right or wrong, change nothing. */
static void m_invalid_utf8(natx_jsonw *w)
{
    natx_jsonw_begin_array(w);
    natx_jsonw_string(w, "a\xff", 2);
    natx_jsonw_key(w, "k");
    natx_jsonw_end_array(w);
}
static void m_too_deep(natx_jsonw *w)
{
    for (int i = 0; i <= NATX_JSONW_MAX_DEPTH; i++)
        natx_jsonw_begin_array(w);
}
/* A string whose escaped size cannot be had. */
static void m_out_of_memory(natx_jsonw *w)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_key(w, "k");
    natx_jsonw_string(w, "x", SIZE_MAX / 2);
    natx_jsonw_end_object(w);
}

static void test_first_error_is_kept(void **state)
{
    (void)state;
    static const struct {
        misuse_fn fn;
        nattel_code code;
        const char *says;
    } cases[] = {
        {m_value_for_key, NATTEL_EINVAL, "key is expected"},
        {m_key_in_array, NATTEL_EINVAL, "key outside an object"},
        {m_key_at_top, NATTEL_EINVAL, "key outside an object"},
        {m_two_keys, NATTEL_EINVAL, "value is expected"},
        {m_end_after_key, NATTEL_EINVAL, "value is due"},
        {m_mismatched_end, NATTEL_EINVAL, "outside an array"},
        {m_end_at_top, NATTEL_EINVAL, "outside an object"},
        {m_two_values, NATTEL_EINVAL, "second top-level"},
        {m_unclosed, NATTEL_EINVAL, "1 container not closed"},
        {m_nothing, NATTEL_EINVAL, "no value"},
        {m_empty_raw, NATTEL_EINVAL, "empty raw"},
        {m_nan, NATTEL_EINVAL, "not finite"},
        {m_invalid_utf8, NATTEL_EINVAL, "not valid UTF-8"},
        {m_too_deep, NATTEL_ELIMIT, "nesting deeper"},
        {m_out_of_memory, NATTEL_ENOMEM, "out of memory"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nattel_buf b = NATTEL_BUF_INIT;
        nattel_error err = {NATTEL_OK, ""};
        nattel_code rc = run_writer(cases[i].fn, &b, &err);
        if (rc != cases[i].code || err.code != rc ||
            !strstr(err.message, cases[i].says))
            fail_msg("case %zu: rc %d, message \"%s\", expected \"%s\"", i,
                     (int)rc, err.message, cases[i].says);
        nattel_buf_free(&b);
    }
}

/* NATX_JSONW_MAX_DEPTH levels are allowed (one more: m_too_deep). */
static void w_deepest(natx_jsonw *w)
{
    for (int i = 0; i < NATX_JSONW_MAX_DEPTH; i++)
        natx_jsonw_begin_array(w);
    for (int i = 0; i < NATX_JSONW_MAX_DEPTH; i++)
        natx_jsonw_end_array(w);
}

static void test_depth_limit(void **state)
{
    (void)state;
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(run_writer(w_deepest, &b, NULL), NATTEL_OK);
    assert_int_equal(b.len, 2 * NATX_JSONW_MAX_DEPTH);
    nattel_buf_free(&b);
}

#ifdef NATTEL_HAVE_JANSSON
static unsigned long rng = 12345;
static unsigned next_rand(void)
{
    rng = rng * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(rng >> 33);
}

static void random_text(char *s, size_t *n)
{
    static const char *pieces[] = {"a",    "\"",   "\\",       "\n",
                                   "\x01", "\x1f", "\xc3\xa9", "\xe2\x82\xac",
                                   " ",    "/"};
    *n = 0;
    for (unsigned k = next_rand() % 6; k; k--) {
        const char *p = pieces[next_rand() % 10];
        memcpy(s + *n, p, strlen(p));
        *n += strlen(p);
    }
}

/* Writes one random value to w and returns the same value in jansson. */
static json_t *random_value(natx_jsonw *w, int depth)
{
    char s[64];
    size_t n;
    unsigned kind = next_rand() % (depth < 5 ? 7 : 5);
    switch (kind) {
    case 0: {
        int64_t v = (int64_t)((uint64_t)next_rand() << 32 | next_rand());
        natx_jsonw_int64(w, v);
        return json_integer(v);
    }
    case 1:
        random_text(s, &n);
        natx_jsonw_string(w, s, n);
        return json_stringn(s, n);
    case 2:
        natx_jsonw_bool(w, (int)(next_rand() & 1));
        return json_boolean(w->out->data[w->out->len - 1] == 'e' &&
                            w->out->data[w->out->len - 2] == 'u');
    case 3:
        natx_jsonw_null(w);
        return json_null();
    case 4:
        natx_jsonw_raw(w, "[1,{}]", 6);
        return json_pack("[i,{}]", 1);
    case 5: {
        json_t *a = json_array();
        natx_jsonw_begin_array(w);
        for (unsigned k = next_rand() % 4; k; k--)
            json_array_append_new(a, random_value(w, depth + 1));
        natx_jsonw_end_array(w);
        return a;
    }
    default: {
        json_t *o = json_object();
        natx_jsonw_begin_object(w);
        for (unsigned k = next_rand() % 4; k; k--) {
            snprintf(s, sizeof s, "k%u", k);
            natx_jsonw_key(w, s);
            json_object_set_new(o, s, random_value(w, depth + 1));
        }
        natx_jsonw_end_object(w);
        return o;
    }
    }
}

static void test_random_trees_against_jansson(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        nattel_buf b = NATTEL_BUF_INIT;
        natx_jsonw w;
        natx_jsonw_init(&w, &b);
        json_t *want = random_value(&w, 0);
        assert_int_equal(natx_jsonw_finish(&w, NULL), NATTEL_OK);
        json_error_t jerr;
        json_t *got =
            json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!got)
            fail_msg("round %d: jansson refuses %s: %s", round, b.data,
                     jerr.text);
        if (!json_equal(got, want))
            fail_msg("round %d: %s reads back different", round, b.data);
        json_decref(got);
        json_decref(want);
        nattel_buf_free(&b);
    }
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_document),
        cmocka_unit_test(test_top_level_scalar_appends),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_lossy_strings),
        cmocka_unit_test(test_first_error_is_kept),
        cmocka_unit_test(test_depth_limit),
#ifdef NATTEL_HAVE_JANSSON
        cmocka_unit_test(test_random_trees_against_jansson),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
