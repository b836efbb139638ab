/*
 * Which sink a configuration selects. The sinks themselves are transports
 * of the client (src/delivery/nattel_client.c); the http(s) one is the
 * spool and its flusher.
 */
#include "delivery/nattel_sink.h"
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

nattel_code nattel_config_sink(const nattel_config *cfg, nattel_sink_kind *out,
                               nattel_error *err)
{
    const char *ep = cfg->endpoint ? cfg->endpoint : "";
    /* "stdout" first: upstream writes the line under dry run too. */
    if (!strcmp(ep, NATTEL_ENDPOINT_STDOUT))
        *out = NATTEL_SINK_STDOUT;
    else if (*ep && !nattel__is_http_url(ep))
        return natx_fail(err, NATTEL_EINVAL,
                         "NAT_TELEMETRY_ENDPOINT: '%s' is not an http(s) "
                         "URL, \"stdout\" or empty",
                         ep);
    else if (cfg->dry_run)
        *out = NATTEL_SINK_DRY_RUN;
    else if (!*ep)
        *out = NATTEL_SINK_NONE;
    else
        *out = NATTEL_SINK_HTTP;
    return NATTEL_OK;
}
