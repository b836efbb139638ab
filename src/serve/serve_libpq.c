#include "serve/serve_libpq.h"

#include "serve/serve_dl.h"

#include <dlfcn.h>
#include <pthread.h>

static pthread_once_t table_once = PTHREAD_ONCE_INIT;
static serve_libpq_api table;
static nattel_error table_err;
static nattel_code table_code;

/* `name` is the function itself: the unevaluated assignment makes the
 * compiler check the member's type against <libpq-fe.h>'s prototype,
 * without referring to the symbol (which is not linked). */
#define RESOLVE(field, name)                                                   \
    ((void)sizeof(api->field = name),                                          \
     serve_dl_sym(lib, #name, &api->field, sizeof api->field, soname,          \
                  SERVE_LIBPQ_PACKAGE, err))

static int resolve_all(void *lib, const char *soname, serve_libpq_api *api,
                       nattel_error *err)
{
    return RESOLVE(connectdb_params, PQconnectdbParams) ||
           RESOLVE(finish, PQfinish) || RESOLVE(status, PQstatus) ||
           RESOLVE(transaction_status, PQtransactionStatus) ||
           RESOLVE(error_message, PQerrorMessage) ||
           RESOLVE(set_notice_processor, PQsetNoticeProcessor) ||
           RESOLVE(exec, PQexec) || RESOLVE(exec_params, PQexecParams) ||
           RESOLVE(result_status, PQresultStatus) ||
           RESOLVE(result_error_message, PQresultErrorMessage) ||
           RESOLVE(ntuples, PQntuples) || RESOLVE(getvalue, PQgetvalue) ||
           RESOLVE(getlength, PQgetlength) || RESOLVE(getisnull, PQgetisnull) ||
           RESOLVE(clear, PQclear);
}

nattel_code serve_libpq_load_from(const char *soname, serve_libpq_api *api,
                                  nattel_error *err)
{
    void *lib = serve_dl_open(soname, SERVE_LIBPQ_PACKAGE, err);
    if (!lib)
        return NATTEL_EIO;
    if (resolve_all(lib, soname, api, err)) {
        dlclose(lib);
        return NATTEL_EIO;
    }
    return NATTEL_OK;
}

static void load_once(void)
{
    table_code = serve_libpq_load_from(SERVE_LIBPQ_SONAME, &table, &table_err);
}

const serve_libpq_api *serve_libpq_load(nattel_error *err)
{
    pthread_once(&table_once, load_once);
    if (table_code) {
        if (err)
            *err = table_err;
        return NULL;
    }
    return &table;
}
