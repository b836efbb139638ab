/*
 * The built-in transports, one file each in this folder, over the
 * transport API (<nattel/client.h> and src/transport/). The client picks
 * one by the sink rule (config/nattel_sink.h); a host's own transport
 * replaces it (nattel_options_set_transport). Adding one: README.md here.
 */
#ifndef NATTEL_TRANSPORTS_H
#define NATTEL_TRANSPORTS_H

#include <nattel/client.h>

/* Each borrows the options, which outlive it (the client's). */
nattel_transport *nattel__transport_none_new(const nattel_options *o);
nattel_transport *nattel__transport_stdout_new(const nattel_options *o);
/* The spool, with the options' delivery mode after each write: a
 * detached flusher, a delivery thread (flush waits for it), or nothing. */
nattel_transport *nattel__transport_spool_new(const nattel_options *o);

/* The built-in transport of each sink kind, beside the constructors so a
 * new sink is one declaration and one case in this file (with -Wswitch, a
 * kind without a case does not compile). NULL when out of memory. */
static inline nattel_transport *
nattel__transport_builtin_new(nattel_sink_kind kind, const nattel_options *o)
{
    switch (kind) {
    case NATTEL_SINK_STDOUT:
        return nattel__transport_stdout_new(o);
    case NATTEL_SINK_HTTP:
        return nattel__transport_spool_new(o);
    case NATTEL_SINK_NONE:
    case NATTEL_SINK_DRY_RUN:
        break;
    }
    return nattel__transport_none_new(o);
}

#endif
