/*
 * The spool sink, the built-in transport of an http(s) endpoint: each
 * payload is written into the spool (a temporary file, then rename); what
 * delivers it depends on the delivery mode: a detached flusher process
 * (spawn), this transport's own thread (in-process; its flush hook waits
 * for it), or something else later (spool-only).
 */
#include "config/nattel_options.h"
#include "nattel_limits.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spawn.h"
#include "delivery/nattel_spool.h"
#include "delivery/transports/nattel_transports.h"
#include "transport/nattel_transport.h"
#include "model/nattel_error.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Retries after back-off come from this periodic wake. */
#define WORKER_IDLE_MS 30000

typedef struct spool_sink {
    const nattel_options *o; /* the client's */
    int prepared;            /* state directory checked */
    uint32_t seq;            /* orders this client's spool entries */
    /* In-process delivery: a thread that runs the flusher when asked. */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;
    int stop;  /* no new batch */
    int abort; /* cut the send in flight too */
    int exited;
    /* The process that started the thread: in a child forked after, the
     * thread does not exist (and its lock may be held forever). */
    _Atomic long owner;
    uint64_t requested; /* generations of work asked for */
    uint64_t done;
    int ignore_backoff; /* the pending request is a flush */
} spool_sink;

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

static void worker_kick(spool_sink *s, int flush)
{
    pthread_mutex_lock(&s->mu);
    s->requested++;
    if (flush)
        s->ignore_backoff = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static int worker_should_stop(void *ctx)
{
    spool_sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    int stop = s->stop;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

static int worker_should_abort(void *ctx)
{
    spool_sink *s = ctx;
    pthread_mutex_lock(&s->mu);
    int abort = s->abort;
    pthread_mutex_unlock(&s->mu);
    return abort;
}

/* True in a child forked after the thread started: there is no thread
 * here, and its lock and condition may be in any state. */
static int forked_child(const spool_sink *s)
{
    long owner = atomic_load(&s->owner);
    return owner != 0 && owner != (long)getpid();
}

static void *worker_main(void *arg)
{
    spool_sink *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        if (s->requested == s->done) {
            struct timespec ts;
            deadline_in(&ts, WORKER_IDLE_MS);
            if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
                s->requested++;
            continue;
        }
        uint64_t gen = s->requested;
        nattel__flush_opts fo = {.ignore_backoff = s->ignore_backoff,
                                 .lock_wait_ms = 0,
                                 .deadline_mono = -1,
                                 .should_stop = worker_should_stop,
                                 .should_abort = worker_should_abort,
                                 .stop_ctx = s};
        s->ignore_backoff = 0;
        pthread_mutex_unlock(&s->mu);
        nattel__flush_stats st;
        (void)nattel__flush_run(s->o, &fo, &st, NULL);
        pthread_mutex_lock(&s->mu);
        s->done = gen;
        pthread_cond_broadcast(&s->cv);
    }
    s->exited = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Started on the first payload, so a client whose consent is off never
 * starts a thread. */
static nattel_code worker_start(spool_sink *s, nattel_error *err)
{
    if (forked_child(s))
        return NATTEL_OK; /* no thread here: the spool keeps the events */
    pthread_mutex_lock(&s->mu);
    int started = s->started;
    pthread_mutex_unlock(&s->mu);
    if (started || s->o->mode != NATTEL_DELIVERY_IN_PROCESS)
        return NATTEL_OK;
    /* Whatever an earlier process left is this thread's first job. */
    s->requested = 1;
    /* The thread starts with every signal blocked, so the host's signals
     * (SIGINT above all) are handled by the host's own threads. */
    sigset_t all, prev;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &prev);
    int e = pthread_create(&s->thread, NULL, worker_main, s);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    if (e)
        return natx_fail(err, NATTEL_EIO, "client: pthread_create: %s",
                         strerror(e));
    pthread_mutex_lock(&s->mu);
    s->started = 1;
    atomic_store(&s->owner, (long)getpid());
    pthread_mutex_unlock(&s->mu);
    return NATTEL_OK;
}

/* After a write: a flusher, the thread, or nothing, by delivery mode. */
static void deliver_later(spool_sink *s)
{
    switch (s->o->mode) {
    case NATTEL_DELIVERY_SPAWN: {
        /* The event is safe in the spool: a flusher that cannot start now
         * is not the host's failure; a later command or `nattel flush`
         * delivers it. */
        nattel_error e2;
        if (nattel__maybe_spawn(s->o, &e2))
            nattel_debug(s->o, "%s", e2.message);
        break;
    }
    case NATTEL_DELIVERY_IN_PROCESS:
        if (!forked_child(s))
            worker_kick(s, 0);
        break;
    case NATTEL_DELIVERY_SPOOL_ONLY:
        break;
    }
}

static nattel_code prepare(spool_sink *s, size_t len, nattel_error *err)
{
    nattel_code rc = worker_start(s, err);
    if (rc)
        return rc;
    if (!s->prepared) {
        rc = nattel__state_dir_prepare(s->o->state_dir, err);
        if (rc)
            return rc;
        s->prepared = 1;
    }
    if (len > NATTEL__ENTRY_MAX_BYTES)
        return natx_fail(err, NATTEL_ELIMIT,
                         "spool: a payload of %zu bytes is over the %u "
                         "bytes a spool entry may hold",
                         len, NATTEL__ENTRY_MAX_BYTES);
    return NATTEL_OK;
}

static nattel_code send_spool(void *state, const char *payload, size_t len,
                              nattel_error *err)
{
    spool_sink *s = state;
    nattel_code rc = prepare(s, len, err);
    if (rc)
        return rc;
    rc = nattel__spool_write(s->o, s->seq++, payload, len, err);
    if (rc) {
        /* The event is lost (a full disk, most often): marked with an
         * empty file, so the next flusher counts it as dropped. */
        nattel__spool_mark_lost(s->o);
        return rc;
    }
    /* O(1) of the spool: a full spool costs the host no listing. */
    size_t dropped = nattel__spool_note(s->o, len);
    nattel_debug(s->o, "event spooled (%zu bytes) in %s/spool%s", len,
                 s->o->state_dir,
                 dropped ? "; oldest dropped over the bound" : "");
    deliver_later(s);
    return NATTEL_OK;
}

/* Waits until the work asked for by now is done, at most timeout_ms. */
static nattel_code worker_wait(spool_sink *s, int64_t timeout_ms)
{
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    pthread_mutex_lock(&s->mu);
    uint64_t want = s->requested;
    int timed_out = 0;
    while (s->done < want && !timed_out)
        timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT;
    pthread_mutex_unlock(&s->mu);
    return timed_out ? NATTEL_ELIMIT : NATTEL_OK;
}

static nattel_code flush_spool(void *state, int64_t timeout_ms,
                               nattel_error *err)
{
    spool_sink *s = state;
    if (forked_child(s))
        return NATTEL_OK; /* no thread in a forked child: spooled is all */
    /* The thread starts in a send, perhaps on another thread. */
    pthread_mutex_lock(&s->mu);
    int started = s->started;
    pthread_mutex_unlock(&s->mu);
    if (!started)
        return NATTEL_OK; /* spawn / spool-only: the spool holds it all */
    worker_kick(s, 1);
    if (worker_wait(s, timeout_ms))
        return natx_fail(err, NATTEL_ELIMIT,
                         "flush: not done within %lld ms; the rest stays "
                         "in the spool",
                         (long long)timeout_ms);
    return NATTEL_OK;
}

/* A send in flight when the client is freed is given this long to end
 * (its answer settles the batch); then it is cut, and the batch stays
 * spooled to go again, stored once by an endpoint that knows
 * Nattel-Event-Ids. */
static void shutdown_spool(void *state)
{
    spool_sink *s = state;
    if (forked_child(s))
        return; /* the thread is the parent's */
    pthread_mutex_lock(&s->mu);
    int started = s->started;
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    struct timespec ts;
    deadline_in(&ts, NATTEL__FREE_WAIT_MS);
    int timed_out = 0;
    while (started && !s->exited && !timed_out)
        timed_out = pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT;
    s->abort = 1;
    pthread_mutex_unlock(&s->mu);
    if (started)
        pthread_join(s->thread, NULL);
    s->started = 0;
}

static void free_spool(void *state)
{
    spool_sink *s = state;
    /* In a forked child the parent's thread may have held them at the
     * fork: destroying them could wait forever. */
    if (!forked_child(s)) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
    }
    free(s);
}

nattel_transport *nattel__transport_spool_new(const nattel_options *o)
{
    spool_sink *s = calloc(1, sizeof *s);
    nattel_transport *t = s ? nattel_transport_new(send_spool) : NULL;
    if (!t) {
        free(s);
        return NULL;
    }
    s->o = o;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    nattel_transport_set_state(t, s);
    nattel_transport_set_flush(t, flush_spool);
    nattel_transport_set_shutdown(t, shutdown_spool);
    nattel_transport_set_free(t, free_spool);
    return t;
}
