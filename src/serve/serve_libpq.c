#include "serve/serve_libpq.h"

#include "serve/serve_dl.h"

#include <pthread.h>

static serve_dl_once loaded = SERVE_DL_ONCE_INIT;
static serve_libpq_api table;

/* `name` is the function itself: the unevaluated assignment makes the
 * compiler check the member's type against <libpq-fe.h>'s prototype,
 * without referring to the symbol (which is not linked). */
#define RESOLVE(field, name)                                                   \
    ((void)sizeof(api->field = name),                                          \
     serve_dl_sym(lib, #name, &api->field, sizeof api->field, soname,          \
                  SERVE_LIBPQ_PACKAGE, err))

static int resolve_all(void *lib, const char *soname, void *table_,
                       nattel_error *err)
{
    serve_libpq_api *api = table_;
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
    return serve_dl_load(soname, SERVE_LIBPQ_PACKAGE, resolve_all, api, err);
}

static void load_once(void)
{
    loaded.code =
        serve_libpq_load_from(SERVE_LIBPQ_SONAME, &table, &loaded.err);
}

const serve_libpq_api *serve_libpq_load(nattel_error *err)
{
    pthread_once(&loaded.once, load_once);
    return serve_dl_result(&loaded, &table, err);
}
