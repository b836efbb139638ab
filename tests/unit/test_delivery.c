/* Delivery: envelope grouping, and the flusher against a real HTTP listener on
 * 127.0.0.1 that answers what each test scripts (claims, lock, split, retry
 * limit).
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "config/nattel_options.h"
#include "delivery/nattel_audit.h"
#include "delivery/nattel_batch.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_retry.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"

#include <nattel/client.h>
#include <nattel/consent.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fake_now = 1700000000000LL;

/* ------------------------------------------------------------------ */
/* A scripted HTTP listener                                            */
/* ------------------------------------------------------------------ */

typedef struct listener {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t mu;
    int stop;
    int statuses[32]; /* answers in order; the last one repeats */
    int nstatus;
    int next;
    const char *extra; /* extra response header lines */
    size_t body_limit; /* bodies over it get 413 (0: none) */
    int requests;
    int events_ok; /* events in bodies answered 2xx */
    /* A body containing it gets 422 with a reason (NULL: none). */
    const char *reject_marker;
    int short_body; /* 2xx answers promise more body than they send */
    const char *consent_off_file; /* set to disabled at the first request */
    char ids[32][4096];           /* Nattel-Event-Ids of each request */
    char user_agent[128];
    char content_type[128];
} listener;

static size_t count_events(const char *body)
{
    size_t n = 0;
    for (const char *p = body; (p = strstr(p, "\"name\":")); p++)
        n++;
    return n;
}

static void header_value(const char *req, const char *name, char *out,
                         size_t cap)
{
    out[0] = '\0';
    const char *p = strcasestr(req, name);
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static void serve_one(listener *l, int c)
{
    static char req[1 << 20];
    char *body;
    size_t got = tu_read_request(c, req, sizeof req, &body);
    if (!body)
        return;
    size_t body_len = got - (size_t)(body - req);
    pthread_mutex_lock(&l->mu);
    header_value(req, "\r\nUser-Agent:", l->user_agent, sizeof l->user_agent);
    header_value(req, "\r\nContent-Type:", l->content_type,
                 sizeof l->content_type);
    int status;
    if (l->body_limit && body_len > l->body_limit)
        status = 413;
    else {
        status = l->statuses[l->next < l->nstatus ? l->next : l->nstatus - 1];
        if (l->next < l->nstatus)
            l->next++;
    }
    if (l->reject_marker && strstr(body, l->reject_marker))
        status = 422;
    if (l->requests < 32)
        header_value(req, "\r\nNattel-Event-Ids:", l->ids[l->requests],
                     sizeof l->ids[0]);
    if (l->consent_off_file && l->requests == 0) {
        nattel_error err;
        assert_int_equal(nattel_consent_file_write(l->consent_off_file,
                                                   NATTEL_CONSENT_DISABLED,
                                                   fake_now, &err),
                         0);
    }
    l->requests++;
    if (status >= 200 && status < 300)
        l->events_ok += (int)count_events(body);
    const char *extra = l->extra ? l->extra : "";
    int short_body = l->short_body && status < 300;
    pthread_mutex_unlock(&l->mu);
    char resp[512];
    const char *why = status == 422 ? "unknown event type: bad\x01" : "";
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n%s\r\n%s",
                     status, short_body ? (size_t)100 : strlen(why), extra,
                     short_body ? "{\"ok" : why);
    (void)!write(c, resp, (size_t)n);
}

static void *listener_main(void *arg)
{
    listener *l = arg;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        int c = tu_accept_within(l->fd, 50);
        if (c < 0)
            continue;
        serve_one(l, c);
        close(c);
    }
    return NULL;
}

static void listener_start(listener *l, const int *statuses, int n)
{
    memset(l, 0, sizeof *l);
    memcpy(l->statuses, statuses, (size_t)n * sizeof *statuses);
    l->nstatus = n;
    pthread_mutex_init(&l->mu, NULL);
    l->fd = tu_listen_loopback(&l->port);
    assert_true(l->fd >= 0);
    assert_int_equal(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

static void listener_stop(listener *l)
{
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}
static int64_t mono_clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Options for a fresh state directory, consent on, spool only. */
static nattel_options *options_for(const char *tag, int port)
{
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json", port);
    char state[1024];
    nattel_options *o = tu_options(env, tag, url, state, sizeof state);
    nattel_error err;
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel_options_set_clock(o, fake_clock, mono_clock, NULL);
    assert_int_equal(nattel_options_set_timeouts(o, 5000, 20000, &err), 0);
    return o;
}

/* n events of one session (one client), spooled; a copy of the options
 * for the flusher. */
static nattel_options *spool_events(const char *tag, int port, int n,
                                    const char *command)
{
    nattel_options *o = options_for(tag, port);
    nattel_options *copy = nattel__options_dup(o);
    nattel_error err;
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    for (int i = 0; i < n; i++)
        assert_int_equal(nattel_client_emit(c, tu_event(command), &err), 0);
    nattel_client_free(c);
    return copy;
}

static nattel__flush_stats flush(const nattel_options *o, int ignore_backoff)
{
    nattel__flush_opts fo = {.ignore_backoff = ignore_backoff,
                             .deadline_mono = -1};
    nattel__flush_stats st;
    nattel_error err;
    assert_int_equal(nattel__flush_run(o, &fo, &st, &err), 0);
    return st;
}

static size_t in_spool(const nattel_options *o)
{
    return nattel__spool_count(o->state_dir);
}

static size_t audit_count(const nattel_options *o, const char *outcome)
{
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel__audit_tail(o->state_dir, 0, &b, &err), 0);
    char pat[64];
    snprintf(pat, sizeof pat, "\"outcome\":\"%s\"", outcome);
    size_t n = 0;
    for (const char *p = b.data; p && (p = strstr(p, pat)); p++)
        n++;
    nattel_buf_free(&b);
    return n;
}

/* ------------------------------------------------------------------ */
/* Envelope grouping (the status policy is tested in test_retry.c)     */
/* ------------------------------------------------------------------ */

static void payload_of(const char *session, const char *ver, int64_t ts,
                       nattel_buf *out)
{
    nattel_envelope *env = nattel_envelope_new(ver, session);
    nattel_error err;
    assert_int_equal(nattel_envelope_add(env, tu_event("run"), ts, &err), 0);
    assert_int_equal(nattel_envelope_write_json(env, ts, out, &err), 0);
    nattel_envelope_free(env);
}

static void test_grouping(void **state)
{
    (void)state;
    nattel_buf a = NATTEL_BUF_INIT, b = NATTEL_BUF_INIT, c = NATTEL_BUF_INIT,
               d = NATTEL_BUF_INIT;
    payload_of("s1", "1.0", 1000, &a);
    payload_of("s1", "1.0", 2000, &b);
    payload_of("s2", "1.0", 3000, &c);
    payload_of("s1", "2.0", 4000, &d);
    nattel_buf ka = NATTEL_BUF_INIT, kb = NATTEL_BUF_INIT, kc = NATTEL_BUF_INIT,
               kd = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel__envelope_key(a.data, a.len, &ka, NULL, &err), 0);
    assert_int_equal(nattel__envelope_key(b.data, b.len, &kb, NULL, &err), 0);
    assert_int_equal(nattel__envelope_key(c.data, c.len, &kc, NULL, &err), 0);
    assert_int_equal(nattel__envelope_key(d.data, d.len, &kd, NULL, &err), 0);
    /* sentTs differs between a and b, the key does not. */
    assert_string_equal(ka.data, kb.data);
    assert_string_not_equal(ka.data, kc.data); /* another session */
    assert_string_not_equal(ka.data, kd.data); /* another client version */

    const char *js[] = {a.data, b.data};
    size_t ls[] = {a.len, b.len};
    nattel_buf m = NATTEL_BUF_INIT;
    size_t events = 0;
    assert_int_equal(
        nattel__envelope_merge(js, ls, 2, 1700000000123LL, &m, &events, &err),
        0);
    assert_int_equal(events, 2);
    /* The merged envelope is a valid envelope of both events. */
    nattel_registry *reg = nattel_registry_new();
    nattel_envelope *env = NULL;
    nattel_problems probs;
    nattel_problems_init(&probs);
    assert_int_equal(nattel_envelope_from_json(reg, m.data, m.len,
                                               NATTEL_MODE_WIRE, &env, &probs),
                     0);
    assert_int_equal(nattel_envelope_count(env), 2);
    assert_string_equal(nattel_envelope_sent_ts(env),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(nattel_envelope_session_id(env), "s1");
    assert_string_equal(nattel_envelope_event_ts(env, 0),
                        "1970-01-01T00:00:01.000Z");
    assert_string_equal(nattel_envelope_event_ts(env, 1),
                        "1970-01-01T00:00:02.000Z");
    nattel_envelope_free(env);
    nattel_problems_free(&probs);
    nattel_registry_free(reg);

    /* Not an envelope: refused, never merged. */
    assert_int_not_equal(nattel__envelope_key("{\"a\":1}", 7, &ka, NULL, &err),
                         0);
    assert_int_not_equal(nattel__envelope_key("[1,", 3, &ka, NULL, &err), 0);
    nattel_buf *all[] = {&a, &b, &c, &d, &ka, &kb, &kc, &kd, &m};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        nattel_buf_free(all[i]);
}

/* The merge's fast way (skim, splice) writes the bytes the token-tree way
 * writes, on upstream's payloads in both encodings (spaced json.dumps and
 * compact), alone and merged, and on payloads the fast way hands over. */
static void merge_same(const char *const *js, const size_t *ls, size_t n)
{
    nattel_buf fast = NATTEL_BUF_INIT, tree = NATTEL_BUF_INIT;
    size_t ef = 0, et = 0;
    nattel_error e1, e2;
    nattel_code rf =
        nattel__envelope_merge(js, ls, n, 1700000000123LL, &fast, &ef, &e1);
    nattel_code rt = nattel__envelope_merge_tree(js, ls, n, 1700000000123LL,
                                                 &tree, &et, &e2);
    assert_int_equal(rf, rt);
    assert_int_equal(ef, et);
    if (!rf) {
        assert_int_equal(fast.len, tree.len);
        assert_memory_equal(fast.data, tree.data, fast.len);
    } else {
        assert_string_equal(e1.message, e2.message);
    }
    nattel_buf_free(&fast);
    nattel_buf_free(&tree);
}

static void test_merge_fast_equals_tree(void **state)
{
    (void)state;
    const char *path = tu_reference("upstream_payloads.jsonl");
    if (!path)
        skip();
    size_t len;
    char *all = tu_read_file(path, &len);
    assert_non_null(all);
    const char *js[64];
    size_t ls[64], n = 0;
    for (char *p = all; *p && n < 60;) {
        char *nl = strchr(p, '\n');
        js[n] = p;
        ls[n] = nl ? (size_t)(nl - p) : strlen(p);
        n++;
        p += ls[n - 1] + (nl != NULL);
    }
    assert_true(n >= 20);
    for (size_t i = 0; i < n; i++) {
        merge_same(&js[i], &ls[i], 1);
        if (i + 2 <= n)
            merge_same(&js[i], &ls[i], 2);
    }
    merge_same(js, ls, n > 50 ? 50 : n);
    /* Ways the fast merge hands over to the tree (escaped keys, repeated
     * members), and what it must splice right: whitespace around and
     * inside the array, strings with escaped quotes and brackets. */
    static const char *odd[] = {
        "{\"sent\\u0054s\":\"x\",\"events\":[1]}",
        "{\"event\\u0073\":[1],\"events\":[2]}",
        "{\"events\":[1],\"events\":[2]}",
        "{\"sentTs\":\"a\",\"sentTs\":\"b\",\"events\":[1]}",
        " {\"k\" : \"a \\\" ] } , b\" , \"events\" :\t[ {\"a\" : [1 , 2]} ,\n"
        "\"s , t\" ] , \"sentTs\" : \"x\" } ",
        "{\"events\":[]}",
        "{\"events\":\"no\"}",
        "[1]",
        "{\"events\":[1,",
        "{\"a\":1 \"events\":[1]}",
    };
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        size_t l = strlen(odd[i]);
        merge_same(&odd[i], &l, 1);
        const char *two[] = {odd[i], js[0]};
        size_t tl[] = {l, ls[0]};
        merge_same(two, tl, 2);
    }
    free(all);
}

/* ------------------------------------------------------------------ */
/* The flusher against a listener                                      */
/* ------------------------------------------------------------------ */

static void test_sent(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    /* 60 events of one session: two envelopes, 50 + 10. */
    nattel_options *o = spool_events("dlv-sent", l.port, 60, "run");
    assert_int_equal(in_spool(o), 60);
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.sent, 60);
    assert_int_equal(st.batches, 2);
    assert_int_equal(l.requests, 2);
    assert_int_equal(l.events_ok, 60);
    assert_int_equal(in_spool(o), 0);
    char ua[64];
    snprintf(ua, sizeof ua, "nattel/%s", NATTEL_VERSION);
    assert_string_equal(l.user_agent, ua);
    assert_string_equal(l.content_type, "application/json");
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.sent, 60);
    assert_int_equal(s.last_outcome, NATTEL__SENT);
    assert_int_equal(s.last_http, 200);
    assert_int_equal(audit_count(o, "sent"), 2);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_rejected(void **state)
{
    (void)state;
    listener l;
    const int bad[] = {400};
    listener_start(&l, bad, 1);
    nattel_options *o = spool_events("dlv-400", l.port, 3, "run");
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.rejected, 3);
    assert_int_equal(in_spool(o), 0);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.dropped, 3);
    assert_int_equal(s.rejected, 3);
    assert_int_equal(s.sent, 0);
    /* Split until each stands alone: one record per event. */
    assert_int_equal(audit_count(o, "rejected"), 3);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_split_413(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    /* One event's envelope is ~1 KB, each further event ~250 B: a limit
     * of 1.6 KB takes three events at most, so 8 must be split, and a
     * single event with a huge command cannot pass at all. */
    l.body_limit = 1600;
    nattel_options *o = spool_events("dlv-413", l.port, 8, "run");
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.sent, 8);
    assert_int_equal(l.events_ok, 8);
    /* 8 -> 413; 4 -> 413; 2 + 2 -> 200 twice; and again for the rest. */
    assert_true(l.requests >= 5);
    assert_int_equal(in_spool(o), 0);
    nattel_options_free(o);

    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    o = spool_events("dlv-413-one", l.port, 1, big);
    st = flush(o, 0);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(in_spool(o), 0);
    assert_int_equal(audit_count(o, "rejected"), 1);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_deferred_backoff(void **state)
{
    (void)state;
    listener l;
    const int seq[] = {503, 200};
    listener_start(&l, seq, 2);
    l.extra = "Retry-After: 120\r\n";
    nattel_options *o = spool_events("dlv-503", l.port, 2, "run");
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.deferred, 2);
    assert_int_equal(in_spool(o), 2);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.next_ms, fake_now + 120000); /* Retry-After */
    assert_int_equal(s.last_outcome, NATTEL__DEFERRED);
    /* The attempt is recorded in the entry's name. */
    nattel__entry *v;
    size_t n;
    nattel_error err;
    assert_int_equal(
        nattel__spool_list(o->state_dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].attempt, 1);
    free(v);
    /* Back-off pending: an automatic run sends nothing... */
    st = flush(o, 0);
    assert_int_equal(l.requests, 1);
    assert_int_equal(in_spool(o), 2);
    /* ...and `nattel flush` does. */
    st = flush(o, 1);
    assert_int_equal(st.sent, 2);
    assert_int_equal(in_spool(o), 0);
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.failures, 0);
    assert_int_equal(s.next_ms, 0);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_retry_limit(void **state)
{
    (void)state;
    listener l;
    const int down[] = {503};
    listener_start(&l, down, 1);
    int64_t start = fake_now;
    nattel_options *o = spool_events("dlv-limit", l.port, 1, "run");
    /* Ten failures within the first day: kept (age bound not reached). */
    for (int i = 0; i < NATTEL__RETRY_MAX_ATTEMPTS + 2; i++)
        flush(o, 1);
    assert_int_equal(in_spool(o), 1);
    /* A day later, the next failure drops it, recorded. */
    fake_now = start + NATTEL__RETRY_MAX_AGE_MS + 1;
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(in_spool(o), 0);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(audit_count(o, "dropped"), 1);
    fake_now = start;
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_refused_connection(void **state)
{
    (void)state;
    nattel_options *o = spool_events("dlv-refused", tu_dead_port(), 3, "run");
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.deferred, 3);
    assert_int_equal(in_spool(o), 3);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.last_http, 0);
    assert_true(s.next_ms > fake_now);
    nattel_options_free(o);
}

static void test_stale_claims(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    nattel_options *o = spool_events("dlv-claims", l.port, 3, "run");
    /* A flusher killed mid-send leaves its claims behind. */
    nattel__entry *v;
    size_t n;
    nattel_error err;
    assert_int_equal(
        nattel__spool_list(o->state_dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < 2; i++) {
        char from[2048], to[2048];
        snprintf(from, sizeof from, "%s/spool/%s", o->state_dir, v[i].name);
        snprintf(to, sizeof to, "%s/claims/%s", o->state_dir, v[i].name);
        assert_int_equal(rename(from, to), 0);
    }
    free(v);
    assert_int_equal(in_spool(o), 3); /* claims count as spooled */
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.sent, 3);
    assert_int_equal(l.events_ok, 3);
    assert_int_equal(in_spool(o), 0);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_one_flusher(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    nattel_options *o = spool_events("dlv-lock", l.port, 2, "run");
    nattel_error err;
    int fd = nattel__flusher_lock(o->state_dir, 0, &err);
    assert_true(fd >= 0);
    assert_true(nattel__flusher_running(o->state_dir));
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.busy, 1);
    assert_int_equal(l.requests, 0);
    assert_int_equal(in_spool(o), 2);
    close(fd);
    assert_false(nattel__flusher_running(o->state_dir));
    st = flush(o, 1);
    assert_int_equal(st.sent, 2);
    nattel_options_free(o);
    listener_stop(&l);
}

static void test_unreadable_entry(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    nattel_options *o = spool_events("dlv-junk", l.port, 1, "run");
    /* Half an event under an entry's name (a crash before rename cannot
     * make one; a disk error can). */
    char p[2048];
    snprintf(p, sizeof p,
             "%s/spool/0000000000001-0000000000-0123456789abcdef-5-0.json",
             o->state_dir);
    FILE *f = fopen(p, "w");
    fputs("{\"br", f);
    fclose(f);
    nattel__flush_stats st = flush(o, 0);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(in_spool(o), 0);
    assert_int_equal(audit_count(o, "dropped"), 1);
    nattel_options_free(o);
    listener_stop(&l);
}

/* Issue 16: one event the server refuses (422) costs only itself; its
 * drop records the server's reason. */
static void test_one_bad_event_alone(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    l.reject_marker = "\"badcmd\"";
    nattel_options *o = options_for("dlv-bad1", l.port);
    nattel_options *copy = nattel__options_dup(o);
    nattel_error err;
    nattel_client *c = nattel_client_new(o, &err);
    for (int i = 0; i < 6; i++)
        assert_int_equal(
            nattel_client_emit(c, tu_event(i == 3 ? "badcmd" : "run"), &err),
            0);
    nattel_client_free(c);
    nattel__flush_stats st = flush(copy, 0);
    assert_int_equal(st.sent, 5);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(l.events_ok, 5);
    assert_int_equal(in_spool(copy), 0);
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel__audit_tail(copy->state_dir, 0, &b, &err), 0);
    assert_non_null(
        strstr(b.data, "rejected by the server: unknown event type: bad "));
    assert_non_null(strstr(b.data, "\"http_status\":422"));
    nattel_buf_free(&b);
    nattel_options_free(copy);
    listener_stop(&l);
}

/* Each POST names its events (Nattel-Event-Ids), one ID per event in
 * order, the same on a retry. */
static void test_event_ids(void **state)
{
    (void)state;
    listener l;
    const int answers[] = {503, 200};
    listener_start(&l, answers, 2);
    nattel_options *o = spool_events("dlv-ids", l.port, 3, "run");
    flush(o, 1);
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.sent, 3);
    assert_int_equal(l.requests, 2);
    assert_true(strlen(l.ids[0]) > 0);
    assert_string_equal(l.ids[0], l.ids[1]);
    /* Three IDs, each STEM-0, 1 to 64 characters of [A-Za-z0-9._-]. */
    int ids = 1;
    size_t len = 0;
    for (const char *p = l.ids[0]; *p; p++) {
        if (*p == ',') {
            assert_true(len >= 1 && len <= 64);
            ids++;
            len = 0;
            continue;
        }
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                               "TUVWXYZ0123456789._-",
                               *p));
        len++;
    }
    assert_int_equal(ids, 3);
    assert_true(strstr(l.ids[0], "-0,") != NULL);
    nattel_options_free(o);
    listener_stop(&l);
}

/* A complete 200 status line is a delivery, whatever the body. */
static void test_short_200_is_delivery(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    l.short_body = 1;
    nattel_options *o = spool_events("dlv-short", l.port, 2, "run");
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.sent, 2);
    assert_int_equal(st.deferred, 0);
    assert_int_equal(in_spool(o), 0);
    nattel_options_free(o);
    listener_stop(&l);
}

/* The retry limit's age counts from this machine's first try, not the
 * host's stamp: an entry stamped 1970 is kept through many failures. */
static void test_retry_age_from_first_try(void **state)
{
    (void)state;
    listener l;
    const int down[] = {503};
    listener_start(&l, down, 1);
    nattel_options *o = spool_events("dlv-1970", l.port, 1, "run");
    nattel__entry *v;
    size_t n;
    nattel_error err;
    assert_int_equal(
        nattel__spool_list(o->state_dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 1);
    nattel__entry e = v[0];
    e.ms = 0;
    char from[2048], to[2048], name[96];
    nattel__entry_name(&e, name, sizeof name);
    snprintf(from, sizeof from, "%s/spool/%s", o->state_dir, v[0].name);
    snprintf(to, sizeof to, "%s/spool/%s", o->state_dir, name);
    assert_int_equal(rename(from, to), 0);
    free(v);
    for (int i = 0; i < NATTEL__RETRY_MAX_ATTEMPTS + 2; i++)
        assert_int_equal(flush(o, 1).dropped, 0);
    assert_int_equal(in_spool(o), 1);
    nattel_options_free(o);
    listener_stop(&l);
}

/* Consent is decided before every batch: revoked during the first, the
 * second is not sent and stays spooled. */
static void test_consent_revoked_mid_flush(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    nattel_options *o = spool_events("dlv-revoke", l.port, 60, "run");
    nattel_error err;
    char consent[2048];
    snprintf(consent, sizeof consent, "%s/../telemetry.toml", o->state_dir);
    assert_int_equal(nattel_consent_file_write(consent, NATTEL_CONSENT_ENABLED,
                                               fake_now, &err),
                     0);
    o->env_enabled = -1;
    assert_int_equal(nattel_options_set_consent_file(o, consent, &err), 0);
    l.consent_off_file = consent;
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(l.requests, 1);
    assert_int_equal(st.sent, 50);
    assert_true(st.consent_revoked);
    assert_int_equal(in_spool(o), 10);
    nattel_options_free(o);
    listener_stop(&l);
}

/* A FIFO and a directory named like entries: set aside once, counted
 * once, and the flusher ends. */
static void test_odd_entries_once(void **state)
{
    (void)state;
    listener l;
    const int ok[] = {200};
    listener_start(&l, ok, 1);
    nattel_options *o = spool_events("dlv-odd", l.port, 1, "run");
    char p[2048];
    snprintf(p, sizeof p,
             "%s/spool/0000000000001-0000000000-0123456789abcdef-5-0.json",
             o->state_dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p,
             "%s/spool/0000000000002-0000000000-0123456789abcdef-5-0.json",
             o->state_dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    nattel__flush_stats st = flush(o, 1);
    assert_int_equal(st.sent, 1);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.odd, 2);
    st = flush(o, 1);
    assert_int_equal(st.dropped, 0);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.dropped, 2);
    nattel_options_free(o);
    listener_stop(&l);
}

/* Counters saturate; an unusable state.json is set aside, not lost. */
static void test_state_saturates_and_sets_aside(void **state)
{
    (void)state;
    nattel_options *o = options_for("dlv-state", tu_dead_port());
    nattel_error err;
    assert_int_equal(nattel__state_dir_prepare(o->state_dir, &err), 0);
    char p[2048], aside[2048];
    snprintf(p, sizeof p, "%s/state.json", o->state_dir);
    snprintf(aside, sizeof aside, "%s/state.json.bad", o->state_dir);
    FILE *f = fopen(p, "w");
    fputs("{\"sent\":9223372036854775807,\"dropped\":-5}", f);
    fclose(f);
    nattel__record r = {.outcome = NATTEL__SENT, .events = 3};
    assert_int_equal(nattel__record_outcome(o, &r, &err), 0);
    nattel__state s;
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.sent, INT64_MAX);
    assert_int_equal(s.dropped, 0);
    f = fopen(p, "w");
    fputs("garbage", f);
    fclose(f);
    nattel__state_read(o->state_dir, &s);
    assert_true(s.bad[0] != '\0');
    assert_int_equal(nattel__record_outcome(o, &r, &err), 0);
    struct stat st;
    assert_int_equal(stat(aside, &st), 0);
    nattel__state_read(o->state_dir, &s);
    assert_int_equal(s.bad[0], '\0');
    assert_int_equal(s.sent, 3);
    nattel_delivery_info *info;
    assert_int_equal(nattel_delivery_status(o, &info, &err), 0);
    assert_non_null(nattel_delivery_state_note(info));
    nattel_delivery_info_free(info);
    nattel_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grouping),
        cmocka_unit_test(test_merge_fast_equals_tree),
        cmocka_unit_test(test_sent),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_split_413),
        cmocka_unit_test(test_deferred_backoff),
        cmocka_unit_test(test_retry_limit),
        cmocka_unit_test(test_refused_connection),
        cmocka_unit_test(test_stale_claims),
        cmocka_unit_test(test_one_flusher),
        cmocka_unit_test(test_unreadable_entry),
        cmocka_unit_test(test_one_bad_event_alone),
        cmocka_unit_test(test_event_ids),
        cmocka_unit_test(test_short_200_is_delivery),
        cmocka_unit_test(test_retry_age_from_first_try),
        cmocka_unit_test(test_consent_revoked_mid_flush),
        cmocka_unit_test(test_odd_entries_once),
        cmocka_unit_test(test_state_saturates_and_sets_aside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
