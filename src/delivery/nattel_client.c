/*
 * The client: consent once, one session, events into envelopes, payloads
 * into the transport. The built-in transports (src/delivery/transports/)
 * are picked by the sink rule; the one for an http(s) endpoint is the
 * spool, whose delivery mode decides what happens next.
 */
#include "config/nattel_options.h"
#include "codec/nattel_envelope.h"
#include "nattel_limits.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spawn.h"
#include "delivery/nattel_spool.h"
#include "delivery/transports/nattel_transports.h"
#include "transport/nattel_transport.h"
#include "natx/natx_io.h"
#include "consent/nattel_consent.h"
#include "consent/nattel_local.h"
#include "model/nattel_error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct nattel_client {
    nattel_options *o;
    pthread_mutex_t mu; /* emit and flush serialize */
    int consent_done;
    nattel_consent_state consent;
    nattel_consent_source source;
    char *session;
    nattel_transport *t;
};

const nattel_options *nattel__client_options(const nattel_client *c)
{
    return c->o;
}

/* The built-in transport the sink rule picks. An endpoint the rule
 * refuses (possible only from the environment: the setter checks) is
 * spooled as an http(s) one, as it always was; the flusher reports it. */
static nattel_code builtin_transport(nattel_client *c, nattel_error *err)
{
    nattel_sink_kind kind;
    if (nattel_options_sink(c->o, &kind, NULL))
        kind = NATTEL_SINK_HTTP;
    c->t = nattel__transport_builtin_new(kind, c->o);
    if (!c->t)
        return natx_fail(err, NATTEL_ENOMEM, "client: out of memory");
    return NATTEL_OK;
}

/* The default state directory and consent file are read from the
 * environment only when the host set none, and only here, never by
 * nattel_options_new(). Each is filled on its own: a host that chose its
 * state directory still honours the decision the person saved in the
 * shared consent file (and is not prompted over it). */
static nattel_code default_state_dir(nattel_options *o, nattel_error *err)
{
    if (o->state_dir && o->consent_file)
        return NATTEL_OK;
    nattel_options *env = nattel_options_new();
    if (!env)
        return natx_fail(err, NATTEL_ENOMEM, "client: out of memory");
    /* A host that chose its state directory asked nothing else of the
     * environment: a bad variable there (NATTEL_DELIVERY=x) does not
     * fail its client; it only goes without the default consent file. */
    int only_consent = o->state_dir != NULL;
    nattel_error ignored;
    nattel_code rc =
        nattel_options_from_env(env, NULL, NULL, only_consent ? &ignored : err);
    if (!rc && !o->state_dir && env->state_dir) {
        o->state_dir = env->state_dir;
        env->state_dir = NULL;
    }
    if (!rc && !o->consent_file && env->consent_file) {
        o->consent_file = env->consent_file;
        env->consent_file = NULL;
    }
    nattel_options_free(env);
    return only_consent ? NATTEL_OK : rc;
}

/* The organisation's endpoint of a machine policy beats
 * NAT_TELEMETRY_ENDPOINT (and reaches the flusher in the hand-off). */
nattel_code nattel_options_apply_policy_endpoint(nattel_options *o,
                                                 nattel_error *err)
{
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    if (!policy.endpoint[0])
        return NATTEL_OK;
    return nattel_options_set_endpoint(o, policy.endpoint, err);
}

nattel_client *nattel_client_new(nattel_options *opts, nattel_error *err)
{
    if (!opts) {
        natx_fail(err, NATTEL_EINVAL, "client: no options");
        return NULL;
    }
    nattel_client *c = calloc(1, sizeof *c);
    if (!c) {
        nattel_options_free(opts);
        natx_fail(err, NATTEL_ENOMEM, "client: out of memory");
        return NULL;
    }
    c->o = opts;
    pthread_mutex_init(&c->mu, NULL);
    nattel_code rc = default_state_dir(opts, err);
    if (!rc)
        rc = nattel_options_apply_policy_endpoint(opts, err);
    if (!rc && opts->transport) {
        c->t = opts->transport;
        opts->transport = NULL;
    } else if (!rc) {
        rc = builtin_transport(c, err);
    }
    if (!rc)
        rc = nattel__transport_startup(c->t, err);
    if (rc) {
        nattel_transport_free(c->t);
        c->t = NULL;
        nattel_client_free(c);
        return NULL;
    }
    return c;
}

static void resolve_consent(nattel_client *c, int allow_prompt)
{
    if (c->consent_done)
        return;
    /* A prompt answer that could not be saved still counts for this run;
     * the resolver has told the person so. */
    (void)nattel__consent_resolve(c->o, allow_prompt, &c->consent, &c->source,
                                  NULL);
    c->consent_done = 1;
}

void nattel_client_consent(nattel_client *c, int allow_prompt,
                           nattel_consent_state *state,
                           nattel_consent_source *source)
{
    pthread_mutex_lock(&c->mu);
    resolve_consent(c, allow_prompt);
    *state = c->consent;
    if (source)
        *source = c->source;
    pthread_mutex_unlock(&c->mu);
}

static nattel_code build_payload(nattel_client *c, nattel_event *ev,
                                 nattel_buf *payload, nattel_error *err)
{
    nattel_code rc = NATTEL_OK;
    if (!c->session)
        rc = nattel_session_id_new(c->o, &c->session, err);
    if (rc) {
        nattel_event_free(ev);
        return rc;
    }
    /* One event, so one schema version, per payload: the flusher merges
     * only payloads whose envelope members (eventSchemaVer, eventSysVer,
     * sessionId, ...) are equal, so types of several schema
     * versions leave as one envelope per version. */
    nattel_envelope *env =
        nattel_envelope_new(c->o->client_version, c->session);
    const char *sys = nattel_options_event_sys_ver(c->o);
    if (env &&
        nattel__envelope_set(env, NATTEL__EV_SYS_VER, sys, strlen(sys))) {
        nattel_envelope_free(env);
        env = NULL;
    }
    if (!env) {
        nattel_event_free(ev);
        return natx_fail(err, NATTEL_ENOMEM, "envelope: out of memory");
    }
    int64_t now = nattel__now_real(c->o);
    rc = nattel_envelope_add(env, ev, now, err);
    if (rc)
        nattel_event_free(ev);
    else
        rc = nattel_envelope_write_json(env, now, payload, err);
    nattel_envelope_free(env);
    return rc;
}

/* Local-only mode: the envelope is built as for sending and kept in
 * STATE/local/ for `nattel report --local`; no transport sees it, so
 * nothing is spooled and nothing is ever sent. Called with c->mu held;
 * releases it. */
static nattel_code emit_local(nattel_client *c, nattel_event *ev,
                              nattel_error *err)
{
    nattel_buf payload = NATTEL_BUF_INIT;
    nattel_code rc = build_payload(c, ev, &payload, err);
    if (!rc)
        rc = nattel__local_keep(c->o, payload.data, payload.len, err);
    if (rc)
        nattel_debug(c->o, "local mode: event not kept: %s",
                     err ? err->message : "");
    nattel_buf_free(&payload);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

nattel_code nattel_client_emit(nattel_client *c, nattel_event *ev,
                               nattel_error *err)
{
    if (!c || !ev) {
        nattel_event_free(ev);
        return natx_fail(err, NATTEL_EINVAL, "emit: no client or event");
    }
    pthread_mutex_lock(&c->mu);
    resolve_consent(c, 1);
    if (c->consent == NATTEL_CONSENT_LOCAL)
        return emit_local(c, ev, err);
    if (c->consent != NATTEL_CONSENT_ENABLED) {
        nattel_debug(c->o, "telemetry off (decided by %s): event dropped",
                     nattel_consent_source_text(c->source));
        nattel_event_free(ev);
        pthread_mutex_unlock(&c->mu);
        return NATTEL_OK;
    }
    nattel_buf payload = NATTEL_BUF_INIT;
    nattel_code rc = build_payload(c, ev, &payload, err);
    if (!rc)
        rc = nattel__transport_send(c->t, payload.data, payload.len, err);
    nattel_buf_free(&payload);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

nattel_code nattel_client_flush(nattel_client *c, int64_t timeout_ms,
                                nattel_error *err)
{
    if (!c)
        return NATTEL_OK;
    if (timeout_ms < 0)
        timeout_ms = 0;
    /* Built-in sinks without a flush hook hold nothing: the spool has it
     * all, or nothing was kept. */
    if (!nattel__transport_has_flush(c->t))
        return NATTEL_OK;
    return nattel__transport_flush(c->t, timeout_ms, err);
}

void nattel_client_free(nattel_client *c)
{
    if (!c)
        return;
    nattel__transport_shutdown(c->t);
    nattel_transport_free(c->t);
    nattel_options_free(c->o);
    free(c->session);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
