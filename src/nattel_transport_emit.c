/* One event, end to end: consent, envelope, payload, transport. */
#include "nattel_error.h"
#include "nattel_transport.h"

#include <nattel/telemetry.h>

#include <stdlib.h>
#include <string.h>

static nattel_code deliver(const nattel_config *cfg, nattel_event *ev,
                           const char *client_ver, nattel_error *err)
{
    char *session = NULL;
    nattel_code rc = nattel_session_id_new(cfg, &session, err);
    if (rc) {
        nattel_event_free(ev);
        return rc;
    }
    nattel_envelope *env = nattel_envelope_new(client_ver, session);
    free(session);
    if (!env) {
        nattel_event_free(ev);
        return nattel__fail(err, NATTEL_ENOMEM, "envelope: out of memory");
    }
    int64_t now = nattel_config_now_ms(cfg);
    if ((rc = nattel_envelope_add(env, ev, now, err))) {
        nattel_event_free(ev);
        nattel_envelope_free(env);
        return rc;
    }
    nattel_buf payload = NATTEL_BUF_INIT;
    nattel_sink t;
    if (!(rc = nattel_envelope_write_json(env, now, &payload, err)) &&
        !(rc = nattel_sink_for_config(cfg, &t, err))) {
        rc = nattel_sink_send(&t, payload.data, payload.len, err);
        nattel_sink_release(&t);
    }
    nattel_buf_free(&payload);
    nattel_envelope_free(env);
    return rc;
}

nattel_code nattel_emit(const nattel_config *cfg, nattel_event *ev,
                        const char *client_ver, int *sent, nattel_error *err)
{
    if (sent)
        *sent = 0;
    nattel_consent_state state;
    nattel_consent_source source;
    /* A prompt answer that could not be saved still counts for this run;
     * the resolver has told the person so. */
    (void)nattel_consent_resolve(cfg, &state, &source, NULL);
    if (state != NATTEL_CONSENT_ENABLED) {
        nattel_debug(cfg, "telemetry off (decided by %s): event dropped",
                     nattel_consent_source_text(source));
        nattel_event_free(ev);
        return NATTEL_OK;
    }
    nattel_code rc = deliver(cfg, ev, client_ver, err);
    if (!rc && sent)
        *sent = 1;
    return rc;
}
