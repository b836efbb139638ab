/*
 * Loading a library the serving commands need (libmicrohttpd, libpq) with
 * dlopen, when they need it: linked, the library and its own dependencies
 * (TLS, Kerberos, LDAP: some twenty-five shared objects) would be loaded
 * into every run of the tool, `nattel emit` included. The errors name the
 * library and the Debian package that installs it, on one line.
 */
#ifndef SERVE_DL_H
#define SERVE_DL_H

#include <nattel/nattel.h>

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

#endif
