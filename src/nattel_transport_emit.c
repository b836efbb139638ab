/* One event, end to end, for callers holding a nattel_config: the
 * one-shot form of the client. */
#include "delivery/nattel_delivery.h"
#include "nattel_error.h"
#include "nattel_transport.h"

#include <nattel/client.h>
#include <nattel/telemetry.h>

#include <stdlib.h>
#include <string.h>

nattel_code nattel_error_class_check(const char *s, nattel_error *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return nattel__fail(err, NATTEL_EINVAL, "errorClass: empty");
    if (n > NATTEL_ERROR_CLASS_MAX)
        return nattel__fail(err, NATTEL_EINVAL,
                            "errorClass: %zu characters, at most %d allowed", n,
                            NATTEL_ERROR_CLASS_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alpha =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
        int ok = alpha || (i > 0 && ((c >= '0' && c <= '9') || c == '.'));
        /* The value itself is not echoed: it may be the very message or
         * path that must not travel. */
        if (!ok)
            return nattel__fail(err, NATTEL_EINVAL,
                                "errorClass: character %zu is not allowed (an "
                                "identifier such as ValueError or "
                                "json.JSONDecodeError is expected)",
                                i + 1);
    }
    return NATTEL_OK;
}

static int dup_str(char **slot, const char *v)
{
    free(*slot);
    *slot = v ? strdup(v) : NULL;
    return v && !*slot;
}

/* Options that say what cfg says. */
static nattel_options *options_from_config(const nattel_config *cfg,
                                           const char *client_ver)
{
    nattel_options *o = nattel_options_new();
    if (!o)
        return NULL;
    int bad = dup_str(&o->endpoint, cfg->endpoint ? cfg->endpoint : "");
    bad |= dup_str(&o->state_dir, cfg->state_dir);
    bad |= dup_str(&o->consent_file, cfg->consent_file);
    bad |= dup_str(&o->session_prefix,
                   cfg->session_prefix ? cfg->session_prefix : "");
    bad |= dup_str(&o->env_enabled_raw, cfg->env_enabled_raw);
    if (client_ver)
        bad |= dup_str(&o->client_version, client_ver);
    if (bad) {
        nattel_options_free(o);
        return NULL;
    }
    o->env_enabled = cfg->env_enabled;
    o->do_not_track = cfg->do_not_track;
    o->dry_run = cfg->dry_run;
    o->debug = cfg->debug;
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
                 : nattel__fail(err, NATTEL_ENOMEM, "emit: out of memory");
    }
    nattel_consent_state state;
    nattel_client_consent(c, 1, &state, NULL);
    nattel_code rc = nattel_client_emit(c, ev, err);
    if (!rc && sent)
        *sent = state == NATTEL_CONSENT_ENABLED;
    nattel_client_free(c);
    return rc;
}
