/*
 * The client: consent once, one session, events into envelopes, payloads
 * into the transport. The built-in transport for an http(s) endpoint is
 * the spool; what happens next depends on the delivery mode: a detached
 * flusher process, a background thread of this client, or nothing.
 */
#include "config/nattel_options.h"
#include "delivery/nattel_delivery_limits.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spawn.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_transport.h"
#include "config/nattel_config.h"
#include "natx/natx_io.h"
#include "model/nattel_error.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* In-process delivery: a thread that runs the flusher when asked. */
typedef struct worker {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    uint64_t requested; /* generations of work asked for */
    uint64_t done;
    int ignore_backoff; /* the pending request is a flush */
} worker;

struct nattel_client {
    nattel_options *o;
    pthread_mutex_t mu; /* emit and flush serialize */
    int consent_done;
    nattel_consent_state consent;
    nattel_consent_source source;
    char *session;
    int prepared; /* state directory checked */
    uint32_t seq; /* orders this client's spool entries */
    nattel_transport *t;
    int builtin_spool;
    worker w;
};

const nattel_options *nattel__client_options(const nattel_client *c)
{
    return c->o;
}

typedef enum sink { SINK_NONE, SINK_STDOUT, SINK_SPOOL } sink;

static sink sink_of(const nattel_options *o)
{
    /* "stdout" beats dry run: upstream writes the line under dry run. */
    if (!strcmp(o->endpoint, NATTEL_ENDPOINT_STDOUT))
        return SINK_STDOUT;
    if (o->dry_run || !*o->endpoint)
        return SINK_NONE;
    return SINK_SPOOL;
}

static nattel_code send_none(void *state, const char *payload, size_t len,
                             nattel_error *err)
{
    nattel_client *c = state;
    nattel__options_debug(c->o, "payload built (%zu bytes), not sent: %s", len,
                          c->o->dry_run ? "NAT_TELEMETRY_DRY_RUN is set"
                                        : "NAT_TELEMETRY_ENDPOINT is empty");
    return NATTEL_OK;
}

static nattel_code send_stdout(void *state, const char *payload, size_t len,
                               nattel_error *err)
{
    nattel_client *c = state;
    /* One write of payload + newline: whole lines, never split by other
     * processes writing to the same descriptor. */
    char *line = malloc(len + 1);
    if (!line)
        return natx_fail(err, NATTEL_ENOMEM, "stdout sink: out of memory");
    memcpy(line, payload, len);
    line[len] = '\n';
    int rc = natx_write_all(c->o->log_fd, line, len + 1);
    int e = errno;
    free(line);
    if (rc)
        return natx_fail(err, NATTEL_EIO, "stdout sink: write: %s",
                         strerror(e));
    return NATTEL_OK;
}

static void worker_kick(worker *w, int flush)
{
    pthread_mutex_lock(&w->mu);
    w->requested++;
    if (flush)
        w->ignore_backoff = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static nattel_code send_spool(void *state, const char *payload, size_t len,
                              nattel_error *err)
{
    nattel_client *c = state;
    nattel_code rc;
    if (!c->prepared) {
        if ((rc = nattel__state_dir_prepare(c->o->state_dir, err)))
            return rc;
        c->prepared = 1;
    }
    if (len > NATTEL__ENTRY_MAX_BYTES)
        return natx_fail(err, NATTEL_ELIMIT,
                         "spool: a payload of %zu bytes is over the %u "
                         "bytes a spool entry may hold",
                         len, NATTEL__ENTRY_MAX_BYTES);
    if ((rc = nattel__spool_write(c->o, c->seq++, payload, len, err)))
        return rc;
    size_t dropped = 0;
    (void)nattel__spool_enforce(c->o, &dropped, NULL);
    nattel__options_debug(c->o, "event spooled (%zu bytes) in %s/spool%s", len,
                          c->o->state_dir,
                          dropped ? "; oldest dropped over the bound" : "");
    switch (c->o->mode) {
    case NATTEL_DELIVERY_SPAWN: {
        /* The event is safe in the spool: a flusher that cannot start now
         * is not the host's failure; a later command or `nattel flush`
         * delivers it. */
        nattel_error e2;
        if (nattel__maybe_spawn(c->o, &e2))
            nattel__options_debug(c->o, "%s", e2.message);
        break;
    }
    case NATTEL_DELIVERY_IN_PROCESS:
        worker_kick(&c->w, 0);
        break;
    case NATTEL_DELIVERY_SPOOL_ONLY:
        break;
    }
    return NATTEL_OK;
}

static int worker_should_stop(void *ctx)
{
    worker *w = ctx;
    pthread_mutex_lock(&w->mu);
    int stop = w->stop;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* Retries after back-off come from this periodic wake. */
#define WORKER_IDLE_MS 30000

static void *worker_main(void *arg)
{
    nattel_client *c = arg;
    worker *w = &c->w;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (w->requested == w->done) {
            struct timespec ts;
            deadline_in(&ts, WORKER_IDLE_MS);
            if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
                w->requested++;
            continue;
        }
        uint64_t gen = w->requested;
        nattel__flush_opts fo = {.ignore_backoff = w->ignore_backoff,
                                 .lock_wait_ms = 0,
                                 .deadline_mono = -1,
                                 .should_stop = worker_should_stop,
                                 .stop_ctx = w};
        w->ignore_backoff = 0;
        pthread_mutex_unlock(&w->mu);
        nattel__flush_stats st;
        (void)nattel__flush_run(c->o, &fo, &st, NULL);
        pthread_mutex_lock(&w->mu);
        w->done = gen;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static nattel_code worker_start(nattel_client *c, nattel_error *err)
{
    worker *w = &c->w;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    /* Whatever an earlier process left is this thread's first job. */
    w->requested = 1;
    /* The thread starts with every signal blocked, so the host's signals
     * (SIGINT above all) are handled by the host's own threads. */
    sigset_t all, prev;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &prev);
    int e = pthread_create(&w->thread, NULL, worker_main, c);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    if (e)
        return natx_fail(err, NATTEL_EIO, "client: pthread_create: %s",
                         strerror(e));
    w->started = 1;
    return NATTEL_OK;
}

/* Waits until the work asked for by now is done, at most timeout_ms. */
static nattel_code worker_wait(worker *w, int64_t timeout_ms)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&w->mu);
    uint64_t want = w->requested;
    int timed_out = 0;
    while (w->done < want && !timed_out)
        timed_out = pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT;
    pthread_mutex_unlock(&w->mu);
    return timed_out ? NATTEL_ELIMIT : NATTEL_OK;
}

static void worker_stop(worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->started = 0;
}

static nattel_code builtin_transport(nattel_client *c, nattel_error *err)
{
    sink k = sink_of(c->o);
    c->t = nattel_transport_new(k == SINK_STDOUT  ? send_stdout
                                : k == SINK_SPOOL ? send_spool
                                                  : send_none);
    if (!c->t)
        return natx_fail(err, NATTEL_ENOMEM, "client: out of memory");
    nattel_transport_set_state(c->t, c);
    c->builtin_spool = k == SINK_SPOOL;
    return NATTEL_OK;
}

/* The default state directory is read from the environment only when the
 * host set none, and only here, never by nattel_options_new(). */
static nattel_code default_state_dir(nattel_options *o, nattel_error *err)
{
    if (o->state_dir)
        return NATTEL_OK;
    nattel_config cfg;
    nattel_code rc = nattel_config_from_env(&cfg, NULL, NULL, err);
    if (!rc && cfg.state_dir) {
        o->state_dir = cfg.state_dir;
        cfg.state_dir = NULL;
    }
    if (!rc && !o->consent_file && cfg.consent_file) {
        o->consent_file = cfg.consent_file;
        cfg.consent_file = NULL;
    }
    nattel_config_clear(&cfg);
    return rc;
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
    if (!rc && opts->transport) {
        c->t = opts->transport;
        opts->transport = NULL;
    } else if (!rc) {
        rc = builtin_transport(c, err);
    }
    if (!rc && c->t->startup)
        rc = c->t->startup(c->t->state, err);
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
    nattel_config cfg;
    nattel__options_config(c->o, &cfg);
    if (!allow_prompt)
        cfg.prompt = NATTEL_PROMPT_NEVER;
    /* A prompt answer that could not be saved still counts for this run;
     * the resolver has told the person so. */
    (void)nattel_consent_resolve(&cfg, &c->consent, &c->source, NULL);
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

/* Started on the first emit with consent on, so a client that is off
 * never starts a thread nor touches the state directory. */
static nattel_code ensure_worker(nattel_client *c, nattel_error *err)
{
    if (!c->builtin_spool || c->o->mode != NATTEL_DELIVERY_IN_PROCESS ||
        c->w.started)
        return NATTEL_OK;
    return worker_start(c, err);
}

static nattel_code build_payload(nattel_client *c, nattel_event *ev,
                                 nattel_buf *payload, nattel_error *err)
{
    nattel_config cfg;
    nattel__options_config(c->o, &cfg);
    nattel_code rc;
    if (!c->session && (rc = nattel_session_id_new(&cfg, &c->session, err))) {
        nattel_event_free(ev);
        return rc;
    }
    nattel_envelope *env =
        nattel_envelope_new(c->o->client_version, c->session);
    if (!env) {
        nattel_event_free(ev);
        return natx_fail(err, NATTEL_ENOMEM, "envelope: out of memory");
    }
    int64_t now = nattel__now_real(c->o);
    if ((rc = nattel_envelope_add(env, ev, now, err)))
        nattel_event_free(ev);
    else
        rc = nattel_envelope_write_json(env, now, payload, err);
    nattel_envelope_free(env);
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
    if (c->consent != NATTEL_CONSENT_ENABLED) {
        nattel__options_debug(c->o,
                              "telemetry off (decided by %s): event dropped",
                              nattel_consent_source_text(c->source));
        nattel_event_free(ev);
        pthread_mutex_unlock(&c->mu);
        return NATTEL_OK;
    }
    nattel_buf payload = NATTEL_BUF_INIT;
    nattel_code rc = build_payload(c, ev, &payload, err);
    if (!rc)
        rc = ensure_worker(c, err);
    if (!rc)
        rc = c->t->send(c->t->state, payload.data, payload.len, err);
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
    if (c->t->flush)
        return c->t->flush(c->t->state, timeout_ms, err);
    /* The worker starts in an emit, perhaps on another thread. */
    pthread_mutex_lock(&c->mu);
    int started = c->w.started;
    pthread_mutex_unlock(&c->mu);
    if (!started)
        return NATTEL_OK; /* spawn / spool-only: the spool holds it all */
    worker_kick(&c->w, 1);
    if (worker_wait(&c->w, timeout_ms))
        return natx_fail(err, NATTEL_ELIMIT,
                         "flush: not done within %lld ms; the rest stays "
                         "in the spool",
                         (long long)timeout_ms);
    return NATTEL_OK;
}

void nattel_client_free(nattel_client *c)
{
    if (!c)
        return;
    worker_stop(&c->w);
    if (c->t && c->t->shutdown)
        c->t->shutdown(c->t->state);
    nattel_transport_free(c->t);
    nattel_options_free(c->o);
    free(c->session);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
