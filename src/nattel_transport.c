/*
 * The delivery hand-off point and the built-in sinks. A payload reaches a
 * transport fully built; what the transport does with it is its own
 * business, so durable http(s) delivery can replace the placeholder below
 * without touching the callers.
 */
#include "nattel_transport.h"
#include "nattel_config.h"
#include "nattel_error.h"

#include <errno.h>
#include <stdlib.h>
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
    /* stdout before dry run: upstream checks the sink first, so its
     * "stdout" endpoint prints under dry run too. */
    if (!strcmp(ep, NATTEL_ENDPOINT_STDOUT))
        *out = NATTEL_SINK_STDOUT;
    else if (cfg->dry_run)
        *out = NATTEL_SINK_DRY_RUN;
    else if (!*ep)
        *out = NATTEL_SINK_NONE;
    else if (nattel__is_http_url(ep))
        *out = NATTEL_SINK_HTTP;
    else
        return nattel__fail(err, NATTEL_EINVAL,
                            "NAT_TELEMETRY_ENDPOINT: '%s' is not an http(s) "
                            "URL, \"stdout\" or empty",
                            ep);
    return NATTEL_OK;
}

/* Each sink's state: the configuration it was made from (borrowed; the
 * transport must not outlive it) and, for http, the endpoint. */
typedef struct sink {
    const nattel_config *cfg;
    nattel_sink_kind kind;
} sink;

static nattel_code send_nothing(void *state, const char *payload, size_t len,
                                nattel_error *err)
{
    sink *s = state;
    nattel_debug(s->cfg, "payload built (%zu bytes), not sent: %s", len,
                 s->kind == NATTEL_SINK_DRY_RUN
                     ? "NAT_TELEMETRY_DRY_RUN is set"
                     : "NAT_TELEMETRY_ENDPOINT is empty");
    return NATTEL_OK;
}

static nattel_code send_stdout(void *state, const char *payload, size_t len,
                               nattel_error *err)
{
    sink *s = state;
    /* One write of payload + newline: a reader gets whole lines, and other
     * processes writing to the same stderr cannot split one. */
    char *line = malloc(len + 1);
    if (!line)
        return nattel__fail(err, NATTEL_ENOMEM, "stdout sink: out of memory");
    memcpy(line, payload, len);
    line[len] = '\n';
    int rc = nattel__write_all(s->cfg->log_fd, line, len + 1);
    int e = errno;
    free(line);
    if (rc)
        return nattel__fail(err, NATTEL_EIO, "stdout sink: write: %s",
                            strerror(e));
    return NATTEL_OK;
}

static nattel_code send_http(void *state, const char *payload, size_t len,
                             nattel_error *err)
{
    sink *s = state;
    /* Durable delivery (spool + detached flusher) is not built yet; say so
     * rather than pretend the event went anywhere. */
    nattel_debug(s->cfg,
                 "event built (%zu bytes), not sent: delivery to %s is not "
                 "implemented yet",
                 len, s->cfg->endpoint);
    return NATTEL_OK;
}

nattel_code nattel_sink_for_config(const nattel_config *cfg,
                                        nattel_sink *out,
                                        nattel_error *err)
{
    memset(out, 0, sizeof *out);
    nattel_sink_kind kind;
    nattel_code rc = nattel_config_sink(cfg, &kind, err);
    if (rc)
        return rc;
    sink *s = malloc(sizeof *s);
    if (!s)
        return nattel__fail(err, NATTEL_ENOMEM, "transport: out of memory");
    s->cfg = cfg;
    s->kind = kind;
    out->state = s;
    out->free = free;
    out->send = kind == NATTEL_SINK_STDOUT ? send_stdout
                : kind == NATTEL_SINK_HTTP ? send_http
                                           : send_nothing;
    return NATTEL_OK;
}

nattel_code nattel_sink_send(nattel_sink *t, const char *payload,
                                  size_t len, nattel_error *err)
{
    if (!t || !t->send)
        return NATTEL_OK;
    return t->send(t->state, payload, len, err);
}

void nattel_sink_release(nattel_sink *t)
{
    if (!t)
        return;
    if (t->free)
        t->free(t->state);
    memset(t, 0, sizeof *t);
}
