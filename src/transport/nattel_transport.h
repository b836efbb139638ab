/*
 * The transport of <nattel/client.h>, library-internal: how the client
 * calls a transport's hooks. The struct stays private to
 * nattel_transport.c; built-in transports (src/delivery/transports/) use
 * only the public API of client.h.
 */
#ifndef NATTEL_TRANSPORT_H
#define NATTEL_TRANSPORT_H

#include <nattel/client.h>

/* The send hook (the payload is borrowed for the call). */
nattel_code nattel__transport_send(nattel_transport *t, const char *payload,
                                   size_t len, nattel_error *err);
/* The startup hook; NATTEL_OK when there is none. */
nattel_code nattel__transport_startup(nattel_transport *t, nattel_error *err);
/* Whether a flush hook is set, and calling it. */
int nattel__transport_has_flush(const nattel_transport *t);
nattel_code nattel__transport_flush(nattel_transport *t, int64_t timeout_ms,
                                    nattel_error *err);
/* The shutdown hook, when set (accepts NULL). */
void nattel__transport_shutdown(nattel_transport *t);

#endif
