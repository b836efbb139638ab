/*
 * The sink rule: which sink an endpoint and dry run select. Every part of
 * nattel asks here (the options' setter, the client choosing its
 * transport, the tools). The sinks themselves are the transports in
 * src/delivery/transports/; the http(s) one is the spool and its flusher.
 * Pure: it reads no options (nattel_options_sink hands it theirs), so the
 * options can use it to check an endpoint as it is set.
 */
#include "config/nattel_sink.h"
#include "model/nattel_error.h"

#include <string.h>
#include <strings.h>

const char *nattel_sink_kind_name(nattel_sink_kind k)
{
    switch (k) {
    case NATTEL_SINK_DRY_RUN:
        return "dry_run";
    case NATTEL_SINK_STDOUT:
        return "stdout";
    case NATTEL_SINK_HTTP:
        return "http";
    case NATTEL_SINK_NONE:
        break;
    }
    return "none";
}

int nattel__is_http_url(const char *url)
{
    return !strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8);
}

nattel_code nattel__sink_rule(const char *ep, int dry_run, const char *what,
                              nattel_sink_kind *out, nattel_error *err)
{
    /* "stdout" first: upstream writes the line under dry run too. */
    if (ep && !strcmp(ep, NATTEL_ENDPOINT_STDOUT))
        *out = NATTEL_SINK_STDOUT;
    else if (!ep || (*ep && !nattel__is_http_url(ep)))
        return natx_fail(err, NATTEL_EINVAL,
                         "%s: '%s' is not an http(s) URL, \"stdout\" or empty",
                         what, ep ? ep : "(null)");
    else if (dry_run)
        *out = NATTEL_SINK_DRY_RUN;
    else if (!*ep)
        *out = NATTEL_SINK_NONE;
    else
        *out = NATTEL_SINK_HTTP;
    return NATTEL_OK;
}
