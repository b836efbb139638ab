/* The loaders of libmicrohttpd, libpq and libsqlite3 (serve_mhd.c,
 * serve_libpq.c, serve_sqlite.c):
 * a library that cannot be loaded, or that lacks a call, gives one line
 * naming it and its Debian package; the real one fills every member. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "serve/serve_libpq.h"
#include "serve/serve_mhd.h"
#include "serve/serve_sqlite.h"

#include <string.h>

/* No such file anywhere the loader looks. */
#define ABSENT "libnattel-test-absent.so.9"
/* Loads, but is not the library: libc has none of the calls. */
#define OTHER "libc.so.6"

static void assert_one_line(const nattel_error *e, const char *soname,
                            const char *package, const char *call)
{
    assert_int_equal(e->code, NATTEL_EIO);
    assert_null(strchr(e->message, '\n'));
    assert_non_null(strstr(e->message, soname));
    assert_non_null(strstr(e->message, package));
    if (call)
        assert_non_null(strstr(e->message, call));
}

/* Every member set: the table is all function pointers. */
static void assert_filled(const void *table, size_t size)
{
    void (*const *f)(void) = table;
    for (size_t i = 0; i < size / sizeof *f; i++)
        assert_non_null(f[i]);
}

static void test_mhd_absent(void **state)
{
    (void)state;
    serve_mhd_api api;
    nattel_error e = {0};
    assert_int_equal(serve_mhd_load_from(ABSENT, &api, &e), NATTEL_EIO);
    assert_one_line(&e, ABSENT, SERVE_MHD_PACKAGE, NULL);
    assert_int_equal(serve_mhd_load_from(ABSENT, &api, NULL), NATTEL_EIO);
}

static void test_mhd_lacking_a_call(void **state)
{
    (void)state;
    serve_mhd_api api;
    nattel_error e = {0};
    assert_int_equal(serve_mhd_load_from(OTHER, &api, &e), NATTEL_EIO);
    assert_one_line(&e, OTHER, SERVE_MHD_PACKAGE, "MHD_start_daemon");
}

static void test_mhd_real(void **state)
{
    (void)state;
    serve_mhd_api api;
    memset(&api, 0, sizeof api);
    nattel_error e = {0};
    assert_int_equal(serve_mhd_load_from(SERVE_MHD_SONAME, &api, &e),
                     NATTEL_OK);
    assert_filled(&api, sizeof api);
    const serve_mhd_api *once = serve_mhd_load(&e);
    assert_non_null(once);
    assert_ptr_equal(serve_mhd_load(NULL), once);
    assert_filled(once, sizeof *once);
}

static void test_libpq_absent(void **state)
{
    (void)state;
    serve_libpq_api api;
    nattel_error e = {0};
    assert_int_equal(serve_libpq_load_from(ABSENT, &api, &e), NATTEL_EIO);
    assert_one_line(&e, ABSENT, SERVE_LIBPQ_PACKAGE, NULL);
}

static void test_libpq_lacking_a_call(void **state)
{
    (void)state;
    serve_libpq_api api;
    nattel_error e = {0};
    assert_int_equal(serve_libpq_load_from(OTHER, &api, &e), NATTEL_EIO);
    assert_one_line(&e, OTHER, SERVE_LIBPQ_PACKAGE, "PQconnectdbParams");
}

static void test_libpq_real(void **state)
{
    (void)state;
    serve_libpq_api api;
    memset(&api, 0, sizeof api);
    nattel_error e = {0};
    assert_int_equal(serve_libpq_load_from(SERVE_LIBPQ_SONAME, &api, &e),
                     NATTEL_OK);
    assert_filled(&api, sizeof api);
    /* A real call through the table: a refused connection. */
    const serve_libpq_api *once = serve_libpq_load(&e);
    assert_non_null(once);
    assert_ptr_equal(serve_libpq_load(NULL), once);
    assert_filled(once, sizeof *once);
    PGconn *c = once->connectdb_params(
        (const char *const[]){"dbname", NULL},
        (const char *const[]){"postgresql://127.0.0.1:1/none", NULL}, 1);
    assert_non_null(c);
    assert_int_equal(once->status(c), CONNECTION_BAD);
    assert_non_null(strstr(once->error_message(c), "127.0.0.1"));
    once->finish(c);
}

static void test_sqlite_absent(void **state)
{
    (void)state;
    serve_sqlite_api api;
    nattel_error e = {0};
    assert_int_equal(serve_sqlite_load_from(ABSENT, &api, &e), NATTEL_EIO);
    assert_one_line(&e, ABSENT, SERVE_SQLITE_PACKAGE, NULL);
    assert_int_equal(serve_sqlite_load_from(ABSENT, &api, NULL), NATTEL_EIO);
}

static void test_sqlite_lacking_a_call(void **state)
{
    (void)state;
    serve_sqlite_api api;
    nattel_error e = {0};
    assert_int_equal(serve_sqlite_load_from(OTHER, &api, &e), NATTEL_EIO);
    assert_one_line(&e, OTHER, SERVE_SQLITE_PACKAGE, "sqlite3_open_v2");
}

/* A system SQLite older than the store's SQL needs (3.34.1, Debian 11's)
 * is refused when loaded, naming both versions; the real one passes. */
static int old_number(void)
{
    return 3034001;
}

static const char *old_text(void)
{
    return "3.34.1";
}

static void test_sqlite_too_old(void **state)
{
    (void)state;
    serve_sqlite_api api = {0};
    api.libversion_number = old_number;
    api.libversion = old_text;
    nattel_error err = {NATTEL_OK, ""};
    assert_int_equal(serve_sqlite_check_version("libsqlite3.so.0", &api, &err),
                     NATTEL_EIO);
    assert_non_null(strstr(err.message, "3.34.1"));
    assert_non_null(strstr(err.message, SERVE_SQLITE_MIN_TEXT));
    assert_non_null(strstr(err.message, "libsqlite3.so.0"));
    assert_null(strchr(err.message, '\n'));
    const serve_sqlite_api *real = serve_sqlite_load(&err);
    assert_non_null(real);
    assert_true(real->libversion_number() >= SERVE_SQLITE_MIN_VERSION);
    assert_int_equal(serve_sqlite_check_version("libsqlite3.so.0", real, &err),
                     NATTEL_OK);
}

static void test_sqlite_real(void **state)
{
    (void)state;
    serve_sqlite_api api;
    memset(&api, 0, sizeof api);
    nattel_error e = {0};
    assert_int_equal(serve_sqlite_load_from(SERVE_SQLITE_SONAME, &api, &e),
                     NATTEL_OK);
    assert_filled(&api, sizeof api);
    const serve_sqlite_api *once = serve_sqlite_load(&e);
    assert_non_null(once);
    assert_ptr_equal(serve_sqlite_load(NULL), once);
    assert_filled(once, sizeof *once);
    /* Real calls through the table, on an in-memory database. */
    sqlite3 *db = NULL;
    assert_int_equal(once->open_v2(":memory:", &db,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   NULL),
                     SQLITE_OK);
    sqlite3_stmt *s = NULL;
    assert_int_equal(once->prepare_v2(db, "SELECT ?1 * 6", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(once->bind_int64(s, 1, 7), SQLITE_OK);
    assert_int_equal(once->step(s), SQLITE_ROW);
    assert_int_equal(once->column_int64(s, 0), 42);
    assert_int_equal(once->finalize(s), SQLITE_OK);
    assert_int_equal(once->exec(db, "SELECT nope", NULL, NULL, NULL),
                     SQLITE_ERROR);
    assert_non_null(strstr(once->errmsg(db), "nope"));
    assert_int_equal(once->close(db), SQLITE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mhd_absent),
        cmocka_unit_test(test_mhd_lacking_a_call),
        cmocka_unit_test(test_mhd_real),
        cmocka_unit_test(test_libpq_absent),
        cmocka_unit_test(test_libpq_lacking_a_call),
        cmocka_unit_test(test_libpq_real),
        cmocka_unit_test(test_sqlite_absent),
        cmocka_unit_test(test_sqlite_lacking_a_call),
        cmocka_unit_test(test_sqlite_real),
        cmocka_unit_test(test_sqlite_too_old),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
