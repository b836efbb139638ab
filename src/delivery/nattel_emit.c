/* One event, end to end, for callers holding a nattel_config: the
 * one-shot form of the client. */
#include "config/nattel_options.h"
#include "model/nattel_error.h"
#include "delivery/nattel_sink.h"

#include <nattel/client.h>
#include <nattel/telemetry.h>

#include <stdlib.h>
#include <string.h>

/* Options that say what cfg says: the environment's fields, then the
 * seams a nattel_config carries. */
static nattel_options *options_from_config(const nattel_config *cfg,
                                           const char *client_ver)
{
    nattel_options *o = nattel_options_new();
    if (!o)
        return NULL;
    /* Any client_ver is sent as given, "" included, as before. */
    char *ver = client_ver ? strdup(client_ver) : NULL;
    if (nattel__options_apply_config(o, cfg, NULL) || (client_ver && !ver)) {
        free(ver);
        nattel_options_free(o);
        return NULL;
    }
    if (ver) {
        free(o->client_version);
        o->client_version = ver;
    }
    o->log_fd = cfg->log_fd;
    o->prompt = cfg->prompt;
    o->realtime_ms = cfg->now_ms;
    o->clock_ctx = cfg->clock_ctx;
    o->random_bytes = cfg->random_bytes;
    o->random_ctx = cfg->random_ctx;
    return o;
}

nattel_code nattel_emit(const nattel_config *cfg, nattel_event *ev,
                        const char *client_ver, int *sent, nattel_error *err)
{
    if (sent)
        *sent = 0;
    nattel_options *o = options_from_config(cfg, client_ver);
    nattel_client *c = o ? nattel_client_new(o, err) : NULL;
    if (!c) {
        nattel_event_free(ev);
        return o ? (err ? err->code : NATTEL_EIO)
                 : natx_fail(err, NATTEL_ENOMEM, "emit: out of memory");
    }
    nattel_consent_state state;
    nattel_client_consent(c, 1, &state, NULL);
    nattel_code rc = nattel_client_emit(c, ev, err);
    if (!rc && sent)
        *sent = state == NATTEL_CONSENT_ENABLED;
    nattel_client_free(c);
    return rc;
}
