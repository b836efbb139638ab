/* Transports as hook structs around an opaque state (as sentry-native's
 * sentry_transport_t): the setters of client.h and the calls the client
 * makes. */
#include "transport/nattel_transport.h"

#include <stdlib.h>

struct nattel_transport {
    void *state;
    nattel_transport_send_fn send;
    nattel_code (*startup)(void *state, nattel_error *err);
    nattel_code (*flush)(void *state, int64_t timeout_ms, nattel_error *err);
    void (*shutdown)(void *state);
    void (*free_fn)(void *state);
};

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

nattel_code nattel__transport_send(nattel_transport *t, const char *payload,
                                   size_t len, nattel_error *err)
{
    return t->send(t->state, payload, len, err);
}

nattel_code nattel__transport_startup(nattel_transport *t, nattel_error *err)
{
    return t->startup ? t->startup(t->state, err) : NATTEL_OK;
}

int nattel__transport_has_flush(const nattel_transport *t)
{
    return t->flush != NULL;
}

nattel_code nattel__transport_flush(nattel_transport *t, int64_t timeout_ms,
                                    nattel_error *err)
{
    return t->flush(t->state, timeout_ms, err);
}

void nattel__transport_shutdown(nattel_transport *t)
{
    if (t && t->shutdown)
        t->shutdown(t->state);
}
