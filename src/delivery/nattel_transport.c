/* Transports as hook structs, and the built-in ones a client selects by
 * its endpoint: none, stdout (the log descriptor), the spool. */
#include "delivery/nattel_transport.h"
#include "config/nattel_config.h"
#include "model/nattel_error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

nattel_transport *nattel_transport_new(nattel_transport_send_fn send)
{
    nattel_transport *t = calloc(1, sizeof *t);
    if (t)
        t->send = send;
    return t;
}

void nattel_transport_set_state(nattel_transport *t, void *state)
{
    t->state = state;
}

void nattel_transport_set_startup(nattel_transport *t,
                                  nattel_code (*startup)(void *state,
                                                         nattel_error *err))
{
    t->startup = startup;
}

void nattel_transport_set_flush(nattel_transport *t,
                                nattel_code (*flush)(void *state,
                                                     int64_t timeout_ms,
                                                     nattel_error *err))
{
    t->flush = flush;
}

void nattel_transport_set_shutdown(nattel_transport *t,
                                   void (*shutdown)(void *state))
{
    t->shutdown = shutdown;
}

void nattel_transport_set_free(nattel_transport *t, void (*free_fn)(void *))
{
    t->free_fn = free_fn;
}

void nattel_transport_free(nattel_transport *t)
{
    if (!t)
        return;
    if (t->free_fn)
        t->free_fn(t->state);
    free(t);
}
