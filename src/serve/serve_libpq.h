/*
 * libpq, loaded with dlopen when a postgresql:// store is opened, never
 * at the tool's start-up: linked, it and its Kerberos, LDAP and TLS
 * libraries would be loaded into every run of the tool, `nattel emit`
 * included. The table's members have the types of <libpq-fe.h>'s
 * prototypes; only serve_store_pg.c calls them.
 */
#ifndef SERVE_LIBPQ_H
#define SERVE_LIBPQ_H

#include <nattel/nattel.h>

#include <libpq-fe.h>

/* The runtime name (Debian package libpq5). */
#define SERVE_LIBPQ_SONAME "libpq.so.5"
#define SERVE_LIBPQ_PACKAGE "libpq5"

/* The libpq calls the PostgreSQL store makes. */
typedef struct serve_libpq_api {
    PGconn *(*connectdb_params)(const char *const *keywords,
                                const char *const *values, int expand_dbname);
    void (*finish)(PGconn *conn);
    ConnStatusType (*status)(const PGconn *conn);
    PGTransactionStatusType (*transaction_status)(const PGconn *conn);
    char *(*error_message)(const PGconn *conn);
    PQnoticeProcessor (*set_notice_processor)(PGconn *conn,
                                              PQnoticeProcessor proc,
                                              void *arg);
    PGresult *(*exec)(PGconn *conn, const char *query);
    PGresult *(*exec_params)(PGconn *conn, const char *command, int nParams,
                             const Oid *paramTypes,
                             const char *const *paramValues,
                             const int *paramLengths, const int *paramFormats,
                             int resultFormat);
    ExecStatusType (*result_status)(const PGresult *res);
    char *(*result_error_message)(const PGresult *res);
    int (*ntuples)(const PGresult *res);
    char *(*getvalue)(const PGresult *res, int tup_num, int field_num);
    int (*getlength)(const PGresult *res, int tup_num, int field_num);
    int (*getisnull)(const PGresult *res, int tup_num, int field_num);
    void (*clear)(PGresult *res);
} serve_libpq_api;

/*
 * Loads SERVE_LIBPQ_SONAME once per process (later calls return the first
 * call's outcome) and returns its table, valid until the process exits;
 * NULL when it cannot be loaded or lacks a call, with err set to one line
 * naming the library and the package to install. err may be NULL.
 * Thread-safe.
 */
const serve_libpq_api *serve_libpq_load(nattel_error *err);

/*
 * Loads the library named soname into *api (not the process's table): the
 * work of serve_libpq_load, apart so that its failures can be tested.
 * soname and api must not be NULL; err may be. A loaded library is never
 * unloaded. NATTEL_OK, or NATTEL_EIO with err set as above. Thread-safe.
 */
nattel_code serve_libpq_load_from(const char *soname, serve_libpq_api *api,
                                  nattel_error *err);

#endif
