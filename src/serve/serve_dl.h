/*
 * Loading a library the serving commands need (libmicrohttpd, libpq,
 * libsqlite3) with dlopen, when they need it: linked, the libraries and
 * their own dependencies (TLS, Kerberos, LDAP: some twenty-five shared
 * objects) would be loaded into every run of the tool, `nattel emit`
 * included. Each loader (serve_mhd.c, serve_libpq.c, serve_sqlite.c)
 * resolves its calls into a table, once per process, through the two
 * calls at the end of this file. The errors name the
 * library and the Debian package that installs it, on one line.
 */
#ifndef SERVE_DL_H
#define SERVE_DL_H

#include <nattel/nattel.h>

#include <pthread.h>
#include <stddef.h>

/*
 * dlopen(soname, RTLD_NOW | RTLD_LOCAL). NULL when it cannot be loaded,
 * with err (may be NULL) set to NATTEL_EIO and "cannot load SONAME (why);
 * install the Debian package PACKAGE". soname and package must not be
 * NULL. The caller owns the handle (dlclose). Thread-safe.
 */
void *serve_dl_open(const char *soname, const char *package, nattel_error *err);

/*
 * Copies the address of the function `name` of lib into slot, a function
 * pointer of `size` bytes (POSIX gives the two one representation). -1
 * when lib lacks it, with err (may be NULL) set as serve_dl_open's, saying
 * which function is missing; 0 otherwise. Thread-safe.
 */
int serve_dl_sym(void *lib, const char *name, void *slot, size_t size,
                 const char *soname, const char *package, nattel_error *err);

/* Fills a loader's table from lib (with serve_dl_sym): 0, or -1 with err
 * set. `api` is the loader's table type. */
typedef int (*serve_dl_resolve_fn)(void *lib, const char *soname, void *api,
                                   nattel_error *err);

/*
 * Opens soname (serve_dl_open) and fills *api with resolve; on failure
 * closes the library again and returns NATTEL_EIO, err (may be NULL)
 * saying what. A loaded library is never unloaded. Thread-safe.
 */
nattel_code serve_dl_load(const char *soname, const char *package,
                          serve_dl_resolve_fn resolve, void *api,
                          nattel_error *err);

/* A loader's outcome, decided once per process (pthread_once). */
typedef struct serve_dl_once {
    pthread_once_t once;
    nattel_code code;
    nattel_error err;
} serve_dl_once;
#define SERVE_DL_ONCE_INIT                                                     \
    {                                                                          \
        PTHREAD_ONCE_INIT, NATTEL_OK,                                          \
        {                                                                      \
            NATTEL_OK, ""                                                      \
        }                                                                      \
    }

/* After pthread_once(&o->once, ...): `table` when the load succeeded;
 * NULL, with o's error copied to err (may be NULL), when it failed. */
const void *serve_dl_result(const serve_dl_once *o, const void *table,
                            nattel_error *err);

#endif
