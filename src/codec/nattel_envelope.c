/* Building and writing the wire envelope (event protocol 1.6). */
#include "codec/nattel_envelope.h"

#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "natx/natx_buf.h"
#include "natx/natx_jsonw.h"
#include "natx/natx_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

void nattel_format_ts(int64_t ms, char *out)
{
    int64_t secs = ms / 1000 - (ms % 1000 < 0); /* floor, no overflow */
    int milli = (int)(ms % 1000 + (ms % 1000 < 0 ? 1000 : 0));
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 ||
        tm.tm_year + 1900 < 0) {
        memcpy(out, "1970-01-01T00:00:00.000Z", NATTEL_TS_LEN + 1);
        return;
    }
    char tmp[96]; /* roomy: the compiler cannot see the ranges above */
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, milli);
    memcpy(out, tmp, NATTEL_TS_LEN);
    out[NATTEL_TS_LEN] = '\0';
}

int nattel__ts_valid(const char *s, size_t n)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (n != NATTEL_TS_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return 0;
    }
    return 1;
}

nattel_code nattel__envelope_set(nattel_envelope *env, nattel__env_val v,
                                 const char *s, size_t n)
{
    nattel_buf *b = &env->val[v];
    nattel_buf_reset(b);
    /* Appending nothing still allocates: a set value is never NULL. */
    return natx_buf_ensure(b, n) ? NATTEL_ENOMEM : nattel_buf_append(b, s, n);
}

static const char *val_of(const nattel_envelope *env, nattel__env_val v)
{
    return env->val[v].data;
}

nattel_envelope *nattel__envelope_alloc(const char *client_ver,
                                        const char *session_id,
                                        const char *cpu_architecture,
                                        const char *event_sys_ver)
{
    nattel_envelope *env = calloc(1, sizeof *env);
    if (!env)
        return NULL;
    if (nattel__envelope_set(env, NATTEL__EV_CLIENT_VER, client_ver,
                             strlen(client_ver)) ||
        nattel__envelope_set(env, NATTEL__EV_SESSION_ID, session_id,
                             strlen(session_id)) ||
        nattel__envelope_set(env, NATTEL__EV_CPU_ARCH, cpu_architecture,
                             strlen(cpu_architecture)) ||
        nattel__envelope_set(env, NATTEL__EV_SYS_VER, event_sys_ver,
                             strlen(event_sys_ver))) {
        nattel_envelope_free(env);
        return NULL;
    }
    return env;
}

void nattel__envelope_lend(nattel_envelope *env, nattel_event **events,
                           char (*ts)[NATTEL_TS_LEN + 1], size_t count)
{
    env->events = events;
    env->ts = ts;
    env->count = env->cap = count;
    env->lent = events != NULL;
}

nattel_envelope *nattel_envelope_new(const char *client_ver,
                                     const char *session_id)
{
    struct utsname u;
    const char *arch = uname(&u) == 0 && u.machine[0] ? u.machine : "undefined";
    return nattel__envelope_alloc(
        client_ver && *client_ver ? client_ver : "unknown",
        session_id && *session_id ? session_id : "undefined", arch,
        NATTEL_EVENT_SYS_VER);
}

void nattel_envelope_free(nattel_envelope *env)
{
    if (!env)
        return;
    if (!env->lent) {
        for (size_t i = 0; i < env->count; i++)
            nattel_event_free(env->events[i]);
        free(env->events);
        free(env->ts);
    }
    for (size_t v = 0; v < NATTEL__ENV_VALS; v++)
        nattel_buf_free(&env->val[v]);
    free(env);
}

nattel_code nattel__envelope_push(nattel_envelope *env, nattel_event *ev,
                                  const char *ts)
{
    if (env->count == env->cap) {
        /* Two arrays of one capacity: each grows to the same need. */
        size_t cap = env->cap, ts_cap = env->cap;
        if (NATX_GROW(env->events, cap, env->count + 1) ||
            NATX_GROW(env->ts, ts_cap, env->count + 1))
            return NATTEL_ENOMEM;
        env->cap = cap < ts_cap ? cap : ts_cap;
    }
    memcpy(env->ts[env->count], ts, NATTEL_TS_LEN);
    env->ts[env->count][NATTEL_TS_LEN] = '\0';
    env->events[env->count++] = ev;
    return NATTEL_OK;
}

nattel_code nattel_envelope_add(nattel_envelope *env, nattel_event *ev,
                                int64_t ts_ms, nattel_error *err)
{
    const char *ver = ev->type->schema_version;
    if (env->count >= NATTEL_ENVELOPE_MAX_EVENTS)
        return natx_fail(err, NATTEL_ELIMIT,
                         "envelope already holds %d events (the maximum)",
                         NATTEL_ENVELOPE_MAX_EVENTS);
    const char *have = val_of(env, NATTEL__EV_SCHEMA_VER);
    if (have && strcmp(have, ver) != 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "event '%s' has schema version %s; this envelope "
                         "holds version %s",
                         ev->type->name, ver, have);
    nattel_code rc = nattel_event_check(ev, err);
    if (rc)
        return NATTEL_EINVAL;
    if (!have &&
        nattel__envelope_set(env, NATTEL__EV_SCHEMA_VER, ver, strlen(ver)))
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(ts_ms, ts);
    if (nattel__envelope_push(env, ev, ts))
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    return NATTEL_OK;
}

size_t nattel_envelope_count(const nattel_envelope *env)
{
    return env->count;
}

nattel_event *nattel_envelope_event(const nattel_envelope *env, size_t i)
{
    return i < env->count ? env->events[i] : NULL;
}

const char *nattel_envelope_event_ts(const nattel_envelope *env, size_t i)
{
    return i < env->count ? env->ts[i] : NULL;
}

const char *nattel_envelope_session_id(const nattel_envelope *env)
{
    return val_of(env, NATTEL__EV_SESSION_ID);
}

const char *nattel_envelope_client_ver(const nattel_envelope *env)
{
    return val_of(env, NATTEL__EV_CLIENT_VER);
}

const char *nattel_envelope_schema_ver(const nattel_envelope *env)
{
    return val_of(env, NATTEL__EV_SCHEMA_VER);
}

const char *nattel_envelope_cpu_architecture(const nattel_envelope *env)
{
    return val_of(env, NATTEL__EV_CPU_ARCH);
}

const char *nattel_envelope_sent_ts(const nattel_envelope *env)
{
    return val_of(env, NATTEL__EV_SENT_TS);
}

/* Keys and fixed values are literals: their lengths are known here. */
#define FIXED(k, v)                                                            \
    {                                                                          \
        k, sizeof k - 1, NATTEL__ENV_FIXED, v, sizeof v - 1, NATTEL__EV_NONE   \
    }
#define VARYING(k, rule, val)                                                  \
    {                                                                          \
        k, sizeof k - 1, rule, NULL, 0, val                                    \
    }

const nattel__env_key nattel__env_keys[] = {
    FIXED("browserType", "undefined"),
    FIXED("clientId", NATTEL_CLIENT_ID),
    FIXED("clientType", "Native"),
    FIXED("clientVariant", "Release"),
    VARYING("clientVer", NATTEL__ENV_NONEMPTY, NATTEL__EV_CLIENT_VER),
    VARYING("cpuArchitecture", NATTEL__ENV_NONEMPTY, NATTEL__EV_CPU_ARCH),
    FIXED("deviceGdprBehOptIn", "None"),
    FIXED("deviceGdprFuncOptIn", "None"),
    FIXED("deviceGdprTechOptIn", "None"),
    FIXED("deviceId", "undefined"),
    FIXED("deviceMake", "undefined"),
    FIXED("deviceModel", "undefined"),
    FIXED("deviceOS", "undefined"),
    FIXED("deviceOSVersion", "undefined"),
    FIXED("deviceType", "undefined"),
    FIXED("eventProtocol", NATTEL_EVENT_PROTOCOL),
    VARYING("eventSchemaVer", NATTEL__ENV_STRING, NATTEL__EV_SCHEMA_VER),
    VARYING("eventSysVer", NATTEL__ENV_STRING, NATTEL__EV_SYS_VER),
    FIXED("externalUserId", "undefined"),
    FIXED("gdprBehOptIn", "None"),
    FIXED("gdprFuncOptIn", "None"),
    FIXED("gdprTechOptIn", "None"),
    FIXED("idpId", "undefined"),
    FIXED("integrationId", "undefined"),
    FIXED("productName", "undefined"),
    FIXED("productVersion", "undefined"),
    VARYING("sentTs", NATTEL__ENV_TIMESTAMP, NATTEL__EV_SENT_TS),
    VARYING("sessionId", NATTEL__ENV_NONEMPTY, NATTEL__EV_SESSION_ID),
    FIXED("userId", "undefined"),
    VARYING("events", NATTEL__ENV_EVENTS, NATTEL__EV_NONE),
};

_Static_assert(sizeof nattel__env_keys / sizeof nattel__env_keys[0] ==
                   NATTEL__ENV_KEYS,
               "NATTEL__ENV_KEYS counts the table");

static nattel_code write_events(const nattel_envelope *env, natx_jsonw *w,
                                nattel_error *err)
{
    natx_jsonw_key(w, "events");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < env->count; i++) {
        const nattel_event *ev = env->events[i];
        natx_jsonw_begin_object(w);
        natx_jsonw_key(w, "ts");
        natx_jsonw_string(w, env->ts[i], NATTEL_TS_LEN);
        natx_jsonw_key(w, "parameters");
        nattel_buf *out = natx_jsonw_value_out(w);
        nattel_code rc = out ? nattel_event_write_json(ev, out, err) : 0;
        if (rc)
            return rc; /* err says which field */
        natx_jsonw_key(w, "name");
        natx_jsonw_cstring(w, ev->type->name);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
    return NATTEL_OK;
}

nattel_code nattel_envelope_write_json(const nattel_envelope *env,
                                       int64_t sent_ms, nattel_buf *out,
                                       nattel_error *err)
{
    char sent[NATTEL_TS_LEN + 1];
    const char *decoded_sent = val_of(env, NATTEL__EV_SENT_TS);
    if (env->count == 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "an envelope needs at least one event");
    if (sent_ms >= 0)
        nattel_format_ts(sent_ms, sent);
    else if (decoded_sent)
        memcpy(sent, decoded_sent, sizeof sent);
    else
        return natx_fail(err, NATTEL_EINVAL,
                         "no sentTs: pass the send time in milliseconds");
    size_t start = out->len;
    natx_jsonw w;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_object(&w);
    nattel_code rc = NATTEL_OK;
    for (size_t k = 0; k < NATTEL__ENV_KEYS; k++) {
        const nattel__env_key *e = &nattel__env_keys[k];
        if (e->rule == NATTEL__ENV_EVENTS) {
            rc = write_events(env, &w, err);
            if (rc)
                break;
            continue;
        }
        natx_jsonw_keyn(&w, e->key, e->klen);
        if (e->val == NATTEL__EV_NONE)
            natx_jsonw_string(&w, e->fixed, e->flen);
        else if (e->val == NATTEL__EV_SENT_TS)
            natx_jsonw_string(&w, sent, NATTEL_TS_LEN);
        else /* unset (no event yet) is refused above; "" is a guard */
            natx_jsonw_string(&w,
                              val_of(env, e->val) ? val_of(env, e->val) : "",
                              env->val[e->val].len);
    }
    natx_jsonw_end_object(&w);
    if (!rc) {
        rc = natx_jsonw_finish(&w, err);
        if (rc)
            nattel__prefix(err, "cannot write envelope");
    }
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
