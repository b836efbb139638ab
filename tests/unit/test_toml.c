/* The strict TOML reader: what it accepts, what it refuses, and the
 * values it keeps. The generated differential corpus against Python's
 * tomllib is tests/integration/test_toml_oracle.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "consent/nattel_toml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parses(const char *src, size_t len)
{
    nattel__toml *doc = NULL;
    nattel_error err;
    nattel_code rc = nattel__toml_parse(src, len, &doc, &err);
    nattel__toml_free(doc);
    return rc == NATTEL_OK;
}

static void test_accepts(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "",
        "# only a comment",
        "\n\n  \t\n",
        "a = 1\r\nb = 2\r\n",
        "[t]\nk = \"v\" # trailing\n",
        "[ t . u ]\n",
        "[[a]]\n[[a]]\n[a.b]\n",
        "[a.b]\n[a]\n",
        "a.b.c = 1\na.b.d = 2\n",
        "\"quoted key\" = 1\n'lit' = 2\n\"\" = 3\n",
        "i = [1, 2, [3, 4], ]\n",
        "m = [\n  1, # one\n  2\n]\n",
        "t = {a = 1, b.c = \"x\", d = {e = [1]}}\n",
        "e = {}\n",
        "x = 0xDEAD_beef\no = 0o17\nb = 0b1_0\n",
        "f = [1.0, -3e10, 6.626e-34, 1_000.5, inf, -nan, +inf, 0.0]\n",
        ("d = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00.999-07:00, "
         "1979-05-27, 07:32:00]\n"),
        "d = 2024-02-29\n",
        "b = [true, false]\n",
        "s = \"\\u00e9\\U0001F600\\t\\\\\\\"\"\n",
        "s = \"\"\"\nline\\\n    joined\"\"\"\n",
        "s = '''a''b'''''\n",
        "s = \"\"\"a\"\"\"\"\"\n",
        "s = 'C:\\path'\n",
        "k = \"caf\xc3\xa9\" # \xe2\x98\x83\n",
        "[a]\nx.y = 1\n[a.z]\n",
        "[[t]]\nv = [1]\n[[t]]\nv = 2\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        if (!parses(docs[i], strlen(docs[i])))
            fail_msg("refused a well-formed document #%zu: %s", i, docs[i]);
}

static void test_refuses(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "a = 1\na = 2\n",             /* duplicate key */
        "[t]\n[t]\n",                 /* table twice */
        "a = 1\n[a]\n",               /* value then table */
        "[a]\nb.c = 1\n[a.b]\n",      /* dotted-key table reopened */
        "a.b = 1\n[a]\n",             /* ditto at the root */
        "[a.b]\nc = 1\n[a]\nb = 1\n", /* implicit table then value */
        "a = {b = 1}\n[a]\n",         /* inline tables are frozen */
        "a = {b = 1}\na.c = 2\n",
        "a = [1]\n[[a]]\n", /* static arrays too */
        "[[a]]\n[a]\n",
        "t = {a = 1, a = 2}\n",
        "t = {a = 1,}\n",  /* no trailing comma in inline tables */
        "t = {a = 1\n}\n", /* no newline either */
        "a = 1 b = 2\n",
        "a =\n",
        "= 1\n",
        "a = \"open\n",
        "a = 'open\n",
        "a = \"\"\"never closed\n",
        "a = \"bad \\x escape\"\n",
        "a = \"\\ud800\"\n", /* surrogate */
        "a = \"\\U00110000\"\n",
        "a = 00\n",
        "a = 1__0\n",
        "a = _1\n",
        "a = 1.\n",
        "a = .5\n",
        "a = 0x\n",
        "x = 0x_ff\n",
        "a = +0x1\n",
        "a = 2023-02-29\n", /* not a leap year */
        "a = 0000-01-01\n",
        "a = 1979-05-27T\n",
        "a = True\n",
        "a = [1 2]\n",
        "a = [1,,2]\n",
        "[a\n",
        "[a]]\n",
        "[[a]\n",
        "[ [a]]\n",
        "[]\n",
        "a.=1\n",
        "k\xc3\xa9 = 1\n", /* non-ASCII bare key */
        "a = 1 # ctrl \x01\n",
        "a = 1\rb = 2\n", /* lone CR */
        ("\xef\xbb\xbf"
         "a = 1\n"),      /* BOM */
        "a = \"\xff\"\n", /* not UTF-8 */
        "a = '''x''''''\n",
        "s = \"\"\"a \\ b\"\"\"\n", /* backslash + space not at line end */
        "a = \"tab\x7f\"\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++)
        if (parses(docs[i], strlen(docs[i])))
            fail_msg("accepted a malformed document #%zu: %s", i, docs[i]);
    assert_false(parses("a = \"nul\0\"\n", 11));
    assert_false(parses("a = 1\0", 6));
}

static void test_depth_limit(void **state)
{
    (void)state;
    char doc[2 * NATTEL__TOML_MAX_DEPTH + 16];
    size_t n = 0;
    n += (size_t)snprintf(doc, sizeof doc, "a = ");
    for (int i = 0; i < NATTEL__TOML_MAX_DEPTH + 1; i++)
        doc[n++] = '[';
    for (int i = 0; i < NATTEL__TOML_MAX_DEPTH + 1; i++)
        doc[n++] = ']';
    assert_false(parses(doc, n));
    /* one level less is fine */
    memmove(doc + 4, doc + 5, n - 5);
    n -= 2;
    assert_true(parses(doc, n));
}

static const char *str_of(const nattel__toml_value *v)
{
    assert_non_null(v);
    assert_int_equal(v->kind, NATTEL__TOML_STRING);
    return v->str;
}

static void test_values(void **state)
{
    (void)state;
    const char *src = "# c\n"
                      "[telemetry]\n"
                      "basic = \"a\\tb\\u00e9\"\n"
                      "lit = 'C:\\x'\n"
                      "ml = \"\"\"\nfirst\\\n   second\"\"\"\n"
                      "mll = '''\nraw\\n'''\n"
                      "n = 5\n"
                      "[other.deep]\n"
                      "x = [1, 'two']\n";
    nattel__toml *doc;
    nattel_error err;
    assert_int_equal(nattel__toml_parse(src, strlen(src), &doc, &err),
                     NATTEL_OK);
    const nattel__toml_value *root = nattel__toml_root(doc);
    const nattel__toml_value *t = nattel__toml_get(root, "telemetry");
    assert_non_null(t);
    assert_int_equal(t->kind, NATTEL__TOML_TABLE);
    assert_string_equal(str_of(nattel__toml_get(t, "basic")), "a\tb\xc3\xa9");
    assert_string_equal(str_of(nattel__toml_get(t, "lit")), "C:\\x");
    assert_string_equal(str_of(nattel__toml_get(t, "ml")), "firstsecond");
    assert_string_equal(str_of(nattel__toml_get(t, "mll")), "raw\\n");
    assert_int_equal(nattel__toml_get(t, "n")->kind, NATTEL__TOML_OTHER);
    assert_null(nattel__toml_get(t, "missing"));
    const nattel__toml_value *x = nattel__toml_get(
        nattel__toml_get(nattel__toml_get(root, "other"), "deep"), "x");
    assert_non_null(x);
    assert_int_equal(x->kind, NATTEL__TOML_ARRAY);
    assert_int_equal(x->last->kind, NATTEL__TOML_STRING);
    nattel__toml_free(doc);
}

static void test_error_position(void **state)
{
    (void)state;
    const char *src = "a = 1\n\n[t]\nb = ?\n";
    nattel__toml *doc;
    nattel_error err;
    assert_int_equal(nattel__toml_parse(src, strlen(src), &doc, &err),
                     NATTEL_EPARSE);
    assert_non_null(strstr(err.message, "line 4, column 5"));
}

/* Issue 8 (consent files up to 1 MiB): keys are found through an index,
 * so the rules must hold as before at a size where a scan per key would
 * be quadratic: every key of a big table kept and found, a duplicate at
 * the end still caught, array-of-tables elements each with a clean slate. */
static char *big_doc(size_t keys, const char *tail, size_t *len)
{
    size_t cap = keys * 24 + strlen(tail) + 64, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n, "[big]\n");
    for (size_t i = 0; i < keys; i++)
        n += (size_t)snprintf(s + n, cap - n, "k%zu = \"v%zu\"\n", i, i);
    n += (size_t)snprintf(s + n, cap - n, "%s", tail);
    *len = n;
    return s;
}

static void test_many_keys(void **state)
{
    (void)state;
    size_t len;
    char *src = big_doc(60000, "[telemetry]\nconsent = \"disabled\"\n", &len);
    assert_true(len > 512 * 1024);
    nattel__toml *doc;
    nattel_error err;
    assert_int_equal(nattel__toml_parse(src, len, &doc, &err), NATTEL_OK);
    const nattel__toml_value *big =
        nattel__toml_get(nattel__toml_root(doc), "big");
    assert_non_null(big);
    size_t count = 0;
    for (const nattel__toml_value *v = big->first; v; v = v->next)
        count++;
    assert_int_equal(count, 60000);
    assert_string_equal(str_of(nattel__toml_get(big, "k59999")), "v59999");
    assert_string_equal(
        str_of(nattel__toml_get(
            nattel__toml_get(nattel__toml_root(doc), "telemetry"), "consent")),
        "disabled");
    nattel__toml_free(doc);
    free(src);

    /* the first key again, at the very end: a duplicate */
    src = big_doc(60000, "k0 = 1\n", &len);
    assert_int_equal(nattel__toml_parse(src, len, &doc, &err), NATTEL_EPARSE);
    assert_non_null(strstr(err.message, "duplicate key"));
    assert_non_null(strstr(err.message, "line 60002"));
    free(src);
    /* [big] opened again at the end */
    src = big_doc(60000, "[big]\n", &len);
    assert_int_equal(nattel__toml_parse(src, len, &doc, &err), NATTEL_EPARSE);
    assert_non_null(strstr(err.message, "defined twice"));
    free(src);
}

static void test_array_of_tables_resets(void **state)
{
    (void)state;
    /* each [[a]] element may define the same subtable and keys again */
    char *s = malloc(40000 * 40);
    assert_non_null(s);
    size_t n = 0;
    for (int i = 0; i < 40000; i++)
        n += (size_t)sprintf(s + n, "[[a]]\nb.c = %d\n[a.d]\ne = 1\n", i);
    assert_true(parses(s, n));
    /* but not twice within one element */
    n += (size_t)sprintf(s + n, "[a.d]\n");
    assert_false(parses(s, n));
    free(s);
}

/* A valid document that would cost depth x keys (a header 200 keys deep
 * over 60,000 keys) is refused as over the limits, not read for long. */
static void test_costly_document_limited(void **state)
{
    (void)state;
    char *s = malloc(1 << 20);
    assert_non_null(s);
    size_t n = (size_t)sprintf(s, "[a");
    for (int i = 0; i < 200; i++)
        n += (size_t)sprintf(s + n, ".a");
    n += (size_t)sprintf(s + n, "]\n");
    for (int i = 0; i < 60000; i++)
        n += (size_t)sprintf(s + n, "k%d=1\n", i);
    nattel__toml *doc;
    nattel_error err;
    assert_int_equal(nattel__toml_parse(s, n, &doc, &err), NATTEL_ELIMIT);
    assert_null(doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_error_position),
        cmocka_unit_test(test_many_keys),
        cmocka_unit_test(test_array_of_tables_resets),
        cmocka_unit_test(test_costly_document_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
