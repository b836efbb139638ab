#include "serve/serve_sqlite.h"

#include "serve/serve_dl.h"
#include "natx/natx_error.h"

#include <pthread.h>

static serve_dl_once loaded = SERVE_DL_ONCE_INIT;
static serve_sqlite_api table;

/* `name` is the function itself: the unevaluated assignment makes the
 * compiler check the member's type against <sqlite3.h>'s prototype,
 * without referring to the symbol (which is not linked). */
#define RESOLVE(field, name)                                                   \
    ((void)sizeof(api->field = name),                                          \
     serve_dl_sym(lib, #name, &api->field, sizeof api->field, soname,          \
                  SERVE_SQLITE_PACKAGE, err))

/* Split in two: one chain of 27 would be a long function. */
static int resolve_db(void *lib, const char *soname, serve_sqlite_api *api,
                      nattel_error *err)
{
    return RESOLVE(open_v2, sqlite3_open_v2) || RESOLVE(close, sqlite3_close) ||
           RESOLVE(busy_timeout, sqlite3_busy_timeout) ||
           RESOLVE(extended_result_codes, sqlite3_extended_result_codes) ||
           RESOLVE(exec, sqlite3_exec) || RESOLVE(errcode, sqlite3_errcode) ||
           RESOLVE(errmsg, sqlite3_errmsg) ||
           RESOLVE(system_errno, sqlite3_system_errno) ||
           RESOLVE(db_readonly, sqlite3_db_readonly) ||
           RESOLVE(get_autocommit, sqlite3_get_autocommit) ||
           RESOLVE(changes, sqlite3_changes) ||
           RESOLVE(last_insert_rowid, sqlite3_last_insert_rowid);
}

static int resolve_stmt(void *lib, const char *soname, serve_sqlite_api *api,
                        nattel_error *err)
{
    return RESOLVE(prepare_v2, sqlite3_prepare_v2) ||
           RESOLVE(prepare_v3, sqlite3_prepare_v3) ||
           RESOLVE(bind_double, sqlite3_bind_double) ||
           RESOLVE(bind_int, sqlite3_bind_int) ||
           RESOLVE(bind_int64, sqlite3_bind_int64) ||
           RESOLVE(bind_null, sqlite3_bind_null) ||
           RESOLVE(bind_text, sqlite3_bind_text) ||
           RESOLVE(clear_bindings, sqlite3_clear_bindings) ||
           RESOLVE(step, sqlite3_step) || RESOLVE(reset, sqlite3_reset) ||
           RESOLVE(finalize, sqlite3_finalize) ||
           RESOLVE(column_type, sqlite3_column_type) ||
           RESOLVE(column_bytes, sqlite3_column_bytes) ||
           RESOLVE(column_int64, sqlite3_column_int64) ||
           RESOLVE(column_text, sqlite3_column_text);
}

/* A library older than the SQL needs would fail later, on a dashboard
 * query, with a syntax error: said here, once, naming both versions. */
nattel_code serve_sqlite_check_version(const char *soname,
                                       const serve_sqlite_api *api,
                                       nattel_error *err)
{
    if (api->libversion_number() >= SERVE_SQLITE_MIN_VERSION)
        return NATTEL_OK;
    return natx_fail(err, NATTEL_EIO,
                     "%s is SQLite %s; nattel serve needs %s or newer (the "
                     "Debian package %s of Debian 12 or later)",
                     soname, api->libversion(), SERVE_SQLITE_MIN_TEXT,
                     SERVE_SQLITE_PACKAGE);
}

/* Every call, then the version: a library too old for the store's SQL
 * is refused here, not on a later query. */
static int resolve_all(void *lib, const char *soname, void *table_,
                       nattel_error *err)
{
    serve_sqlite_api *api = table_;
    return resolve_db(lib, soname, api, err) ||
           resolve_stmt(lib, soname, api, err) ||
           RESOLVE(libversion_number, sqlite3_libversion_number) ||
           RESOLVE(libversion, sqlite3_libversion) ||
           serve_sqlite_check_version(soname, api, err);
}

nattel_code serve_sqlite_load_from(const char *soname, serve_sqlite_api *api,
                                   nattel_error *err)
{
    return serve_dl_load(soname, SERVE_SQLITE_PACKAGE, resolve_all, api, err);
}

static void load_once(void)
{
    loaded.code =
        serve_sqlite_load_from(SERVE_SQLITE_SONAME, &table, &loaded.err);
}

const serve_sqlite_api *serve_sqlite_load(nattel_error *err)
{
    pthread_once(&loaded.once, load_once);
    return serve_dl_result(&loaded, &table, err);
}
