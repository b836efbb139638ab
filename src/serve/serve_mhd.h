/*
 * libmicrohttpd, loaded with dlopen when a server starts (`nattel serve`,
 * `nattel capture`), never at the tool's start-up: linked, it and its
 * TLS libraries would be loaded into every run of the tool, `nattel emit`
 * included. The table's members have the types of <microhttpd.h>'s
 * prototypes; only serve_server.c calls them.
 */
#ifndef SERVE_MHD_H
#define SERVE_MHD_H

#include <nattel/nattel.h>

#include <microhttpd.h>

/* The runtime name (Debian package libmicrohttpd12). */
#define SERVE_MHD_SONAME "libmicrohttpd.so.12"
#define SERVE_MHD_PACKAGE "libmicrohttpd12"

/* The libmicrohttpd calls the server makes. */
typedef struct serve_mhd_api {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc,
                                       void *apc_cls,
                                       MHD_AccessHandlerCallback dh,
                                       void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *daemon);
    MHD_socket (*quiesce_daemon)(struct MHD_Daemon *daemon);
    enum MHD_Result (*add_response_header)(struct MHD_Response *response,
                                           const char *header,
                                           const char *content);
    struct MHD_Response *(*create_response_from_buffer)(
        size_t size, void *buffer, enum MHD_ResponseMemoryMode mode);
    void (*destroy_response)(struct MHD_Response *response);
    const union MHD_ConnectionInfo *(*get_connection_info)(
        struct MHD_Connection *connection,
        enum MHD_ConnectionInfoType info_type, ...);
    int (*get_connection_values)(struct MHD_Connection *connection,
                                 enum MHD_ValueKind kind,
                                 MHD_KeyValueIterator iterator,
                                 void *iterator_cls);
    const char *(*lookup_connection_value)(struct MHD_Connection *connection,
                                           enum MHD_ValueKind kind,
                                           const char *key);
    enum MHD_Result (*queue_response)(struct MHD_Connection *connection,
                                      unsigned int status_code,
                                      struct MHD_Response *response);
} serve_mhd_api;

/*
 * Loads SERVE_MHD_SONAME once per process (later calls return the first
 * call's outcome) and returns its table, valid until the process exits;
 * NULL when it cannot be loaded or lacks a call, with err set to one line
 * naming the library and the package to install. err may be NULL.
 * Thread-safe.
 */
const serve_mhd_api *serve_mhd_load(nattel_error *err);

/*
 * Loads the library named soname into *api (not the process's table): the
 * work of serve_mhd_load, apart so that its failures can be tested.
 * soname and api must not be NULL; err may be. The library is never
 * unloaded. NATTEL_OK, or NATTEL_EIO with err set as above. Thread-safe.
 */
nattel_code serve_mhd_load_from(const char *soname, serve_mhd_api *api,
                                nattel_error *err);

#endif
