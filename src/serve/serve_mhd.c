#include "serve/serve_mhd.h"

#include "serve/serve_dl.h"

#include <pthread.h>

static serve_dl_once loaded = SERVE_DL_ONCE_INIT;
static serve_mhd_api table;

/* `name` is the function itself: the unevaluated assignment makes the
 * compiler check the member's type against <microhttpd.h>'s prototype,
 * without referring to the symbol (which is not linked). */
#define RESOLVE(field, name)                                                   \
    ((void)sizeof(api->field = name),                                          \
     serve_dl_sym(lib, #name, &api->field, sizeof api->field, soname,          \
                  SERVE_MHD_PACKAGE, err))

static int resolve_all(void *lib, const char *soname, void *table_,
                       nattel_error *err)
{
    serve_mhd_api *api = table_;
    return RESOLVE(start_daemon, MHD_start_daemon) ||
           RESOLVE(stop_daemon, MHD_stop_daemon) ||
           RESOLVE(quiesce_daemon, MHD_quiesce_daemon) ||
           RESOLVE(add_response_header, MHD_add_response_header) ||
           RESOLVE(create_response_from_buffer,
                   MHD_create_response_from_buffer) ||
           RESOLVE(destroy_response, MHD_destroy_response) ||
           RESOLVE(get_connection_info, MHD_get_connection_info) ||
           RESOLVE(get_connection_values, MHD_get_connection_values) ||
           RESOLVE(lookup_connection_value, MHD_lookup_connection_value) ||
           RESOLVE(queue_response, MHD_queue_response);
}

nattel_code serve_mhd_load_from(const char *soname, serve_mhd_api *api,
                                nattel_error *err)
{
    return serve_dl_load(soname, SERVE_MHD_PACKAGE, resolve_all, api, err);
}

static void load_once(void)
{
    loaded.code = serve_mhd_load_from(SERVE_MHD_SONAME, &table, &loaded.err);
}

const serve_mhd_api *serve_mhd_load(nattel_error *err)
{
    pthread_once(&loaded.once, load_once);
    return serve_dl_result(&loaded, &table, err);
}
