#include "serve/serve_ingest.h"

#include "natx/natx_error.h"
#include "natx/natx_jsonw.h"

#include <nattel/reader.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_problems(natx_jsonw *w, const nattel_problems *ps)
{
    natx_jsonw_key(w, "problems");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < ps->count; i++) {
        const nattel_problem *p = &ps->items[i];
        natx_jsonw_begin_object(w);
        natx_jsonw_key(w, "path");
        /* A message may quote the offending input; never let it break the
         * answer's own JSON. */
        natx_jsonw_string_lossy(w, p->path ? p->path : "$",
                                p->path ? strlen(p->path) : 1);
        natx_jsonw_key(w, "message");
        natx_jsonw_string_lossy(w, p->message ? p->message : "",
                                p->message ? strlen(p->message) : 0);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
    natx_jsonw_key(w, "dropped");
    natx_jsonw_uint64(w, ps->dropped);
}

nattel_code serve_ingest_error_body(nattel_buf *out, const char *message,
                                    const nattel_problems *problems)
{
    natx_jsonw w;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "error");
    natx_jsonw_string_lossy(&w, message, strlen(message));
    if (problems)
        put_problems(&w, problems);
    natx_jsonw_end_object(&w);
    return natx_jsonw_finish(&w, NULL);
}

/* "N problems; first: PATH: MESSAGE" for the log. */
static void summarise_problems(serve_ingest_result *res,
                               const nattel_problems *ps)
{
    size_t n = ps->count + ps->dropped;
    if (!ps->count) {
        snprintf(res->summary, sizeof res->summary, "rejected");
        return;
    }
    snprintf(res->summary, sizeof res->summary, "%zu problem%s; %s: %s", n,
             n == 1 ? "" : "s", ps->items[0].path, ps->items[0].message);
}

/* The one limit of the reader that is the document's shape, not its
 * size: nesting, which no split mends. The reader says which limit it hit
 * only in its message ("JSON nested deeper than 64 levels ..."). */
static int shape_limit(const nattel_problems *ps)
{
    return ps->count && ps->items[0].message &&
           strstr(ps->items[0].message, "nested deeper");
}

static unsigned status_of(nattel_code code, const nattel_problems *ps)
{
    switch (code) {
    case NATTEL_EPARSE:
        return 400;
    case NATTEL_ESCHEMA:
        return 422;
    /* Past a size or count limit of the reader (bytes, values, events) a
     * smaller batch helps, whatever --max-body allowed: 413, on which a
     * sender splits. */
    case NATTEL_ELIMIT:
        return shape_limit(ps) ? 400 : 413;
    default:
        return 500;
    }
}

static const char *reason_of(nattel_code code)
{
    switch (code) {
    case NATTEL_EPARSE:
        return "invalid JSON";
    case NATTEL_ELIMIT:
        return "over a limit of the JSON reader";
    case NATTEL_ESCHEMA:
        return "the envelope breaks the schema";
    default:
        return "cannot decode the envelope";
    }
}

static nattel_code reject(serve_ingest_result *res, nattel_code code,
                          const nattel_problems *ps)
{
    res->status = status_of(code, ps);
    summarise_problems(res, ps);
    return serve_ingest_error_body(&res->body, reason_of(code), ps);
}

/* Whatever kept the store from writing (disk full, database busy or
 * locked by another process), the envelope was not stored and may be
 * sent again: 503, never 500, so that a sender keeps it. */
static nattel_code store_failed(serve_ingest_result *res,
                                const nattel_error *err)
{
    res->status = 503;
    snprintf(res->summary, sizeof res->summary, "%.200s", err->message);
    return serve_ingest_error_body(&res->body, err->message, NULL);
}

/* A duplicate is answered as a first delivery: the sender's copy is
 * safe either way. The log tells them apart. */
static nattel_code accepted(serve_ingest_result *res, size_t n, size_t stored)
{
    res->status = 200;
    res->accepted = n;
    res->stored = stored;
    if (stored == n)
        snprintf(res->summary, sizeof res->summary, "%zu event%s stored", n,
                 n == 1 ? "" : "s");
    else
        snprintf(res->summary, sizeof res->summary,
                 "%zu event%s stored, %zu stored before", stored,
                 stored == 1 ? "" : "s", n - stored);
    natx_jsonw w;
    natx_jsonw_init(&w, &res->body);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "accepted");
    natx_jsonw_uint64(&w, n);
    natx_jsonw_end_object(&w);
    return natx_jsonw_finish(&w, NULL);
}

/* Decoding: one reader per worker thread, kept from request to request so
 * that a warm thread allocates nothing to decode; freed when the thread
 * ends. A reader is tied to the registry it was made for: a call with
 * another registry makes a new one. */
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static int reader_key_ok;

typedef struct thread_reader {
    const nattel_registry *reg;
    nattel_reader *r;
} thread_reader;

static void thread_reader_free(void *p)
{
    thread_reader *t = p;
    nattel_reader_free(t->r);
    free(t);
}

static void reader_key_init(void)
{
    reader_key_ok = !pthread_key_create(&reader_key, thread_reader_free);
}

/* This thread's reader of reg; NULL when out of memory. */
static nattel_reader *thread_reader_of(const nattel_registry *reg)
{
    pthread_once(&reader_once, reader_key_init);
    if (!reader_key_ok)
        return NULL;
    thread_reader *t = pthread_getspecific(reader_key);
    if (t && t->reg == reg)
        return t->r;
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || pthread_setspecific(reader_key, t)) {
            free(t);
            return NULL;
        }
    }
    nattel_reader_free(t->r);
    t->reg = reg;
    t->r = nattel_reader_new(reg);
    return t->r;
}

/* The body's envelope through this thread's reader (valid until its next
 * read), or, when no reader can be had, decoded one-shot into *owned. */
static nattel_code decode_body(const nattel_registry *reg, const char *body,
                               size_t len, const nattel_envelope **env,
                               nattel_envelope **owned,
                               nattel_problems *problems)
{
    nattel_reader *r = thread_reader_of(reg);
    if (!r) {
        nattel_code rc = nattel_envelope_from_json(
            reg, body, len, NATTEL_MODE_WIRE, owned, problems);
        *env = *owned;
        return rc;
    }
    nattel_code rc = nattel_reader_read(r, NULL, NATTEL_MODE_WIRE, body, len,
                                        NULL, problems);
    *env = rc ? NULL : nattel_reader_envelope(r);
    return rc;
}

/* A Nattel-Event-Ids header that cannot be used: nothing is stored. */
static nattel_code bad_ids(serve_ingest_result *res, const nattel_error *err)
{
    res->status = 400;
    snprintf(res->summary, sizeof res->summary, "%.200s", err->message);
    return serve_ingest_error_body(&res->body, err->message, NULL);
}

/* Stores a valid envelope: 200, or 400 for unusable IDs or a value the
 * store cannot hold, or 503. */
static nattel_code store(serve_ingest_result *res, serve_store *store,
                         const serve_store_delivery *d, const char *event_ids)
{
    nattel_error err = {NATTEL_OK, ""};
    serve_store_ids ids = {0};
    serve_store_delivery dd = *d;
    nattel_code code = NATTEL_OK;
    if (event_ids) {
        code = serve_store_ids_parse(event_ids, &ids, &err);
        dd.ids = &ids;
    }
    if (!code && dd.ids && ids.count != nattel_envelope_count(d->env))
        code = natx_fail(&err, NATTEL_EINVAL, "%s holds %zu IDs for %zu events",
                         SERVE_STORE_IDS_HEADER, ids.count,
                         nattel_envelope_count(d->env));
    if (code) {
        serve_store_ids_free(&ids);
        return code == NATTEL_ENOMEM ? NATTEL_ENOMEM : bad_ids(res, &err);
    }
    size_t stored = 0;
    code = serve_store_put(store, &dd, &stored, &err);
    serve_store_ids_free(&ids);
    if (code == NATTEL_ENOMEM) {
        res->status = 500;
        snprintf(res->summary, sizeof res->summary, "out of memory");
        return NATTEL_OK;
    }
    /* The store refuses what it can never hold (a NUL in PostgreSQL
     * text): sending it again would not help. */
    if (code == NATTEL_EINVAL)
        return bad_ids(res, &err);
    if (code)
        return store_failed(res, &err);
    return accepted(res, nattel_envelope_count(d->env), stored);
}

nattel_code serve_ingest(const nattel_registry *reg, serve_store *st,
                         const char *body, size_t len, const char *event_ids,
                         int64_t received_ms, serve_ingest_result *res)
{
    memset(res, 0, sizeof *res);
    nattel_buf_init(&res->body);
    nattel_problems problems;
    nattel_problems_init(&problems);
    const nattel_envelope *env = NULL;
    nattel_envelope *owned = NULL;
    nattel_code code =
        decode_body(reg, body ? body : "", len, &env, &owned, &problems);
    if (code == NATTEL_ENOMEM) {
        res->status = 500;
        snprintf(res->summary, sizeof res->summary, "out of memory");
    } else if (code) {
        code = reject(res, code, &problems);
    } else {
        serve_store_delivery d = {env, body, len, NULL, received_ms};
        code = store(res, st, &d, event_ids);
    }
    nattel_envelope_free(owned);
    nattel_problems_free(&problems);
    return code;
}

void serve_ingest_result_free(serve_ingest_result *res)
{
    if (res)
        nattel_buf_free(&res->body);
}
