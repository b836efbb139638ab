/* The "none" sink: an empty endpoint or dry run. The payload is built
 * (so a dry run checks everything) and dropped, with a debug line. */
#include "config/nattel_options.h"
#include "delivery/transports/nattel_transports.h"
#include "transport/nattel_transport.h"

static nattel_code send_none(void *state, const char *payload, size_t len,
                             nattel_error *err)
{
    const nattel_options *o = state;
    (void)payload;
    (void)err;
    nattel_debug(o, "payload built (%zu bytes), not sent: %s", len,
                 nattel_options_dry_run(o) ? "NAT_TELEMETRY_DRY_RUN is set"
                                           : "NAT_TELEMETRY_ENDPOINT is empty");
    return NATTEL_OK;
}

nattel_transport *nattel__transport_none_new(const nattel_options *o)
{
    nattel_transport *t = nattel_transport_new(send_none);
    if (t)
        nattel_transport_set_state(t, (void *)o);
    return t;
}
