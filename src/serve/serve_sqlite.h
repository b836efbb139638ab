/*
 * libsqlite3, loaded with dlopen when a SQLite store is opened, never at
 * the tool's start-up: linked, its relocations and pages were most of what
 * was left of `nattel --version`'s start-up time and memory, in every run
 * of the tool, `nattel emit` included. The table's members have the types
 * of <sqlite3.h>'s prototypes; only serve_store_sqlite.c calls them.
 * SQLITE_STATIC and SQLITE_TRANSIENT are macros, not symbols: usable as
 * they are.
 */
#ifndef SERVE_SQLITE_H
#define SERVE_SQLITE_H

#include <nattel/nattel.h>

#include <sqlite3.h>

/* The runtime name (Debian package libsqlite3-0). */
#define SERVE_SQLITE_SONAME "libsqlite3.so.0"
#define SERVE_SQLITE_PACKAGE "libsqlite3-0"
/* The oldest SQLite the store's SQL runs on: the dashboard's
 * `WITH ... AS MATERIALIZED` needs 3.35.0 (the upsert, 3.24.0). The
 * library is the system's, found at run time, so it is checked when
 * loaded rather than assumed from the headers built against. */
#define SERVE_SQLITE_MIN_VERSION 3035000
#define SERVE_SQLITE_MIN_TEXT "3.35.0"

/* The libsqlite3 calls the SQLite store makes, each sqlite3_NAME. */
typedef struct serve_sqlite_api {
    int (*open_v2)(const char *filename, sqlite3 **db, int flags,
                   const char *vfs);
    int (*close)(sqlite3 *db);
    int (*busy_timeout)(sqlite3 *db, int ms);
    int (*extended_result_codes)(sqlite3 *db, int onoff);
    int (*exec)(sqlite3 *db, const char *sql,
                int (*callback)(void *, int, char **, char **), void *arg,
                char **errmsg);
    int (*errcode)(sqlite3 *db);
    const char *(*errmsg)(sqlite3 *db);
    int (*system_errno)(sqlite3 *db);
    int (*db_readonly)(sqlite3 *db, const char *name);
    int (*get_autocommit)(sqlite3 *db);
    int (*changes)(sqlite3 *db);
    sqlite3_int64 (*last_insert_rowid)(sqlite3 *db);
    int (*prepare_v2)(sqlite3 *db, const char *sql, int bytes,
                      sqlite3_stmt **stmt, const char **tail);
    int (*prepare_v3)(sqlite3 *db, const char *sql, int bytes,
                      unsigned int flags, sqlite3_stmt **stmt,
                      const char **tail);
    int (*bind_double)(sqlite3_stmt *stmt, int col, double value);
    int (*bind_int)(sqlite3_stmt *stmt, int col, int value);
    int (*bind_int64)(sqlite3_stmt *stmt, int col, sqlite3_int64 value);
    int (*bind_null)(sqlite3_stmt *stmt, int col);
    int (*bind_text)(sqlite3_stmt *stmt, int col, const char *text, int bytes,
                     void (*destructor)(void *));
    int (*clear_bindings)(sqlite3_stmt *stmt);
    int (*step)(sqlite3_stmt *stmt);
    int (*reset)(sqlite3_stmt *stmt);
    int (*finalize)(sqlite3_stmt *stmt);
    int (*column_type)(sqlite3_stmt *stmt, int col);
    int (*column_bytes)(sqlite3_stmt *stmt, int col);
    sqlite3_int64 (*column_int64)(sqlite3_stmt *stmt, int col);
    const unsigned char *(*column_text)(sqlite3_stmt *stmt, int col);
    int (*libversion_number)(void);
    const char *(*libversion)(void);
} serve_sqlite_api;

/*
 * Loads SERVE_SQLITE_SONAME once per process (later calls return the first
 * call's outcome) and returns its table, valid until the process exits;
 * NULL when it cannot be loaded or lacks a call, with err set to one line
 * naming the library and the package to install. err may be NULL.
 * Thread-safe.
 */
const serve_sqlite_api *serve_sqlite_load(nattel_error *err);

/* NATTEL_OK when the library of *api (filled, not NULL) is at least
 * SERVE_SQLITE_MIN_VERSION; else NATTEL_EIO, err (may be NULL) one line
 * naming soname, its version and the oldest one that works. Thread-safe. */
nattel_code serve_sqlite_check_version(const char *soname,
                                       const serve_sqlite_api *api,
                                       nattel_error *err);

/*
 * Loads the library named soname into *api (not the process's table): the
 * work of serve_sqlite_load, apart so that its failures can be tested.
 * soname and api must not be NULL; err may be. A loaded library is never
 * unloaded. NATTEL_OK, or NATTEL_EIO with err set as above. Thread-safe.
 */
nattel_code serve_sqlite_load_from(const char *soname, serve_sqlite_api *api,
                                   nattel_error *err);

#endif
