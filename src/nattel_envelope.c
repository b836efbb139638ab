/* Building and writing the wire envelope (event protocol 1.6). */
#include "nattel_envelope.h"

#include "nattel_error.h"
#include "nattel_event.h"
#include "nattel_json.h"

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

nattel_envelope *nattel__envelope_alloc(const char *client_ver,
                                        const char *session_id,
                                        const char *cpu_architecture,
                                        const char *event_sys_ver)
{
    nattel_envelope *env = calloc(1, sizeof *env);
    if (!env)
        return NULL;
    env->client_ver = strdup(client_ver);
    env->session_id = strdup(session_id);
    env->cpu_architecture = strdup(cpu_architecture);
    env->event_sys_ver = strdup(event_sys_ver);
    if (!env->client_ver || !env->session_id || !env->cpu_architecture ||
        !env->event_sys_ver) {
        nattel_envelope_free(env);
        return NULL;
    }
    return env;
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
    for (size_t i = 0; i < env->count; i++)
        nattel_event_free(env->events[i]);
    free(env->events);
    free(env->ts);
    free(env->client_ver);
    free(env->session_id);
    free(env->schema_ver);
    free(env->cpu_architecture);
    free(env->event_sys_ver);
    free(env);
}

nattel_code nattel__envelope_push(nattel_envelope *env, nattel_event *ev,
                                  const char *ts)
{
    if (env->count == env->cap) {
        size_t ncap = env->cap ? env->cap * 2 : 4;
        nattel_event **evs = realloc(env->events, ncap * sizeof *evs);
        if (!evs)
            return NATTEL_ENOMEM;
        env->events = evs;
        char(*tss)[NATTEL_TS_LEN + 1] = realloc(env->ts, ncap * sizeof *tss);
        if (!tss)
            return NATTEL_ENOMEM;
        env->ts = tss;
        env->cap = ncap;
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
        return nattel__fail(err, NATTEL_ELIMIT,
                            "envelope already holds %d events (the maximum)",
                            NATTEL_ENVELOPE_MAX_EVENTS);
    if (env->schema_ver && strcmp(env->schema_ver, ver) != 0)
        return nattel__fail(err, NATTEL_EINVAL,
                            "event '%s' has schema version %s; this envelope "
                            "holds version %s",
                            ev->type->name, ver, env->schema_ver);
    nattel_code rc = nattel_event_check(ev, err);
    if (rc)
        return NATTEL_EINVAL;
    if (!env->schema_ver && !(env->schema_ver = strdup(ver)))
        return nattel__fail(err, NATTEL_ENOMEM, "out of memory");
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(ts_ms, ts);
    if (nattel__envelope_push(env, ev, ts))
        return nattel__fail(err, NATTEL_ENOMEM, "out of memory");
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
    return env->session_id;
}

const char *nattel_envelope_client_ver(const nattel_envelope *env)
{
    return env->client_ver;
}

const char *nattel_envelope_schema_ver(const nattel_envelope *env)
{
    return env->schema_ver;
}

const char *nattel_envelope_cpu_architecture(const nattel_envelope *env)
{
    return env->cpu_architecture;
}

const char *nattel_envelope_sent_ts(const nattel_envelope *env)
{
    return env->sent_ts[0] ? env->sent_ts : NULL;
}

#define FIXED(k, v)                                                            \
    {                                                                          \
        k, NATTEL__ENV_FIXED, v                                                \
    }

const nattel__env_key nattel__env_keys[NATTEL__ENV_KEYS] = {
    FIXED("browserType", "undefined"),
    FIXED("clientId", NATTEL_CLIENT_ID),
    FIXED("clientType", "Native"),
    FIXED("clientVariant", "Release"),
    {"clientVer", NATTEL__ENV_NONEMPTY, NULL},
    {"cpuArchitecture", NATTEL__ENV_NONEMPTY, NULL},
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
    {"eventSchemaVer", NATTEL__ENV_STRING, NULL},
    {"eventSysVer", NATTEL__ENV_STRING, NULL},
    FIXED("externalUserId", "undefined"),
    FIXED("gdprBehOptIn", "None"),
    FIXED("gdprFuncOptIn", "None"),
    FIXED("gdprTechOptIn", "None"),
    FIXED("idpId", "undefined"),
    FIXED("integrationId", "undefined"),
    FIXED("productName", "undefined"),
    FIXED("productVersion", "undefined"),
    {"sentTs", NATTEL__ENV_TIMESTAMP, NULL},
    {"sessionId", NATTEL__ENV_NONEMPTY, NULL},
    FIXED("userId", "undefined"),
    {"events", NATTEL__ENV_EVENTS, NULL},
};

/* The value of key k of the table; events are written separately. */
static const char *key_value(const nattel_envelope *env, size_t k,
                             const char *sent_ts)
{
    switch (k) {
    case NATTEL__K_CLIENT_VER:
        return env->client_ver;
    case NATTEL__K_CPU_ARCH:
        return env->cpu_architecture;
    case NATTEL__K_SCHEMA_VER:
        return env->schema_ver;
    case NATTEL__K_SYS_VER:
        return env->event_sys_ver;
    case NATTEL__K_SENT_TS:
        return sent_ts;
    case NATTEL__K_SESSION_ID:
        return env->session_id;
    default:
        return nattel__env_keys[k].fixed;
    }
}

static nattel_code put_key(nattel_buf *b, const char *key)
{
    nattel_code rc = NATTEL__PUT_LIT(b, "\"");
    if (!rc)
        rc = nattel_buf_append(b, key, strlen(key));
    if (!rc)
        rc = NATTEL__PUT_LIT(b, "\":");
    return rc;
}

static nattel_code write_events(const nattel_envelope *env, nattel_buf *b,
                                nattel_error *err)
{
    nattel_code rc = NATTEL__PUT_LIT(b, "\"events\":[");
    for (size_t i = 0; !rc && i < env->count; i++) {
        const nattel_event *ev = env->events[i];
        if ((i && (rc = NATTEL__PUT_LIT(b, ","))) ||
            (rc = NATTEL__PUT_LIT(b, "{\"ts\":\"")) ||
            (rc = nattel_buf_append(b, env->ts[i], strlen(env->ts[i]))) ||
            (rc = NATTEL__PUT_LIT(b, "\",\"parameters\":")))
            break;
        if ((rc = nattel_event_write_json(ev, b, err)))
            return rc;
        if ((rc = NATTEL__PUT_LIT(b, ",\"name\":")) ||
            (rc = nattel__json_put_string(b, ev->type->name,
                                          strlen(ev->type->name))) ||
            (rc = NATTEL__PUT_LIT(b, "}")))
            break;
    }
    if (!rc)
        rc = NATTEL__PUT_LIT(b, "]");
    return rc ? nattel__fail(err, rc, "out of memory writing an envelope")
              : NATTEL_OK;
}

nattel_code nattel_envelope_write_json(const nattel_envelope *env,
                                       int64_t sent_ms, nattel_buf *out,
                                       nattel_error *err)
{
    char sent[NATTEL_TS_LEN + 1];
    if (env->count == 0)
        return nattel__fail(err, NATTEL_EINVAL,
                            "an envelope needs at least one event");
    if (sent_ms >= 0)
        nattel_format_ts(sent_ms, sent);
    else if (env->sent_ts[0])
        memcpy(sent, env->sent_ts, sizeof sent);
    else
        return nattel__fail(err, NATTEL_EINVAL,
                            "no sentTs: pass the send time in milliseconds");
    size_t start = out->len;
    nattel_code rc = NATTEL__PUT_LIT(out, "{");
    for (size_t k = 0; !rc && k < NATTEL__K_EVENTS; k++) {
        const char *v = key_value(env, k, sent);
        if ((rc = put_key(out, nattel__env_keys[k].key)) ||
            (rc = nattel__json_put_string(out, v, strlen(v))) ||
            (rc = NATTEL__PUT_LIT(out, ",")))
            break;
    }
    if (rc) {
        out->len = start;
        return nattel__fail(err,
                            rc == NATTEL_EINVAL ? NATTEL_EINVAL : NATTEL_ENOMEM,
                            "cannot write envelope: %s",
                            rc == NATTEL_EINVAL ? "a value is not valid UTF-8"
                                                : "out of memory");
    }
    if ((rc = write_events(env, out, err)) ||
        (rc = NATTEL__PUT_LIT(out, "}"))) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        return rc;
    }
    return NATTEL_OK;
}
