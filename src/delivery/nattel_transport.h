/*
 * The transport of <nattel/client.h>, library-internal: the struct behind
 * the opaque type.
 */
#ifndef NATTEL_TRANSPORT_H
#define NATTEL_TRANSPORT_H

#include <nattel/client.h>

/* ------------------------------------------------------------------ */
/* Transports                                                          */
/* ------------------------------------------------------------------ */

struct nattel_transport {
    void *state;
    nattel_transport_send_fn send;
    nattel_code (*startup)(void *state, nattel_error *err);
    nattel_code (*flush)(void *state, int64_t timeout_ms, nattel_error *err);
    void (*shutdown)(void *state);
    void (*free_fn)(void *state);
};

#endif
