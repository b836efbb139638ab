/*
 * The flusher: one at a time (STATE/flusher.lock), it claims the spool by
 * renaming entries into STATE/claims, groups them into envelopes, sends
 * each batch and applies the status policy. A flusher killed at any point
 * leaves entries in claims/; the next one, holding the lock, knows their
 * owner is dead and puts them back (a duplicate of the batch in flight is
 * the worst case, never a loss).
 */
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_batch.h"
#include "nattel_limits.h"
#include "delivery/nattel_retry.h"
#include "delivery/nattel_sender.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"
#include "consent/nattel_consent.h"
#include "model/nattel_error.h"
#include "natx/natx_file.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct item {
    nattel__entry e;
    nattel_buf body;
    nattel_buf key;
    size_t events; /* in its payload, in order (their IDs) */
    int done;      /* settled: unlinked or renamed back */
} item;

typedef struct run {
    const nattel_options *o;
    const nattel__flush_opts *fo;
    nattel__flush_stats *st;
    nattel__sender *sender;
    int failure_counted; /* the back-off counts one failure per run */
    int deferred;
    int consent_off; /* decided off before a batch: nothing more leaves */
    nattel_consent_source off_by; /* who decided it off */
    const char *endpoint;         /* the policy's, else the options' */
    int claimed;                  /* entries claimed in this run (progress) */
} run;

static int stop_now(const run *r)
{
    const nattel__flush_opts *fo = r->fo;
    if (fo->should_stop && fo->should_stop(fo->stop_ctx))
        return 1;
    return fo->deadline_mono >= 0 &&
           nattel__now_mono(r->o) >= fo->deadline_mono;
}

static nattel_code move_entry(const char *dir, const char *from_sub,
                              const char *from, const char *to_sub,
                              const char *to, nattel_error *err)
{
    char a[4096], b[4096];
    nattel_code rc = natx_path_join3(a, sizeof a, dir, from_sub, from, err);
    if (!rc)
        rc = natx_path_join3(b, sizeof b, dir, to_sub, to, err);
    if (rc)
        return rc;
    if (rename(a, b) != 0)
        return natx_fail(err, errno == ENOENT ? NATTEL_ENOTFOUND : NATTEL_EIO,
                         "rename %s to %s: %s", a, b, strerror(errno));
    return NATTEL_OK;
}

static void unlink_claim(const run *r, const item *it)
{
    char p[4096];
    if (!natx_path_join3(p, sizeof p, r->o->state_dir, "claims", it->e.name,
                         NULL))
        unlink(p);
}

/* Claims left by a dead flusher go back to the spool. */
static void recover_claims(const nattel_options *o)
{
    nattel__entry *v;
    size_t n;
    if (nattel__spool_list(o->state_dir, "claims", &v, &n, NULL, NULL))
        return;
    for (size_t i = 0; i < n; i++)
        (void)move_entry(o->state_dir, "claims", v[i].name, "spool", v[i].name,
                         NULL);
    if (n)
        nattel_debug(o, "recovered %zu stale claim(s)", n);
    free(v);
}

static void record(const run *r, nattel__outcome oc, int64_t events, int http,
                   const char *reason, const nattel_buf *payload,
                   int64_t backoff_ms, int count_failure)
{
    nattel__record rec = {.outcome = oc,
                          .events = events,
                          .http_status = http,
                          .reason = reason,
                          .endpoint = r->endpoint,
                          .payload = payload ? payload->data : NULL,
                          .payload_len = payload ? payload->len : 0,
                          .backoff_ms = backoff_ms,
                          .count_failure = count_failure};
    (void)nattel__record_outcome(r->o, &rec, NULL);
}

static void settle_gone(run *r, item **its, size_t n, nattel__outcome oc,
                        int http, const char *reason, const nattel_buf *payload)
{
    for (size_t i = 0; i < n; i++) {
        unlink_claim(r, its[i]);
        its[i]->done = 1;
    }
    record(r, oc, (int64_t)n, http, reason, payload, 0, 0);
    if (oc == NATTEL__SENT)
        r->st->sent += (int64_t)n;
    else if (oc == NATTEL__REJECTED)
        r->st->rejected += (int64_t)n;
    else
        r->st->dropped += (int64_t)n;
}

static double jitter(const nattel_options *o)
{
    uint32_t x = 0;
    if (nattel__random(o, &x, sizeof x, NULL))
        return 0.5;
    return (double)x / 4294967296.0;
}

/* A failed attempt: each event goes back with one more attempt, unless it
 * is past both retry limits. */
static void settle_retry(run *r, item **its, size_t n, int http,
                         const char *reason, int64_t retry_after_ms,
                         const nattel_buf *payload)
{
    int64_t now = nattel__now_real(r->o);
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        item *it = its[i];
        it->done = 1;
        nattel__entry e = it->e;
        e.attempt++;
        /* The age counts from this machine's first failed try, by the
         * flusher's clock: never from the host's stamp (a host whose
         * clock read 1970 would lose its events at once). A clock that
         * went back starts the count again: held longer, never lost. */
        if (e.first_ms <= 0 || e.first_ms > now)
            e.first_ms = now;
        if (nattel__retry_give_up(e.attempt, now - e.first_ms)) {
            unlink_claim(r, it);
            dropped++;
            continue;
        }
        char name[96];
        nattel__entry_name(&e, name, sizeof name);
        if (move_entry(r->o->state_dir, "claims", it->e.name, "spool", name,
                       NULL))
            it->done = 0; /* left in claims: the next flusher recovers it */
    }
    nattel__state st;
    nattel__state_read(r->o->state_dir, &st);
    int count = !r->failure_counted;
    int64_t delay =
        nattel__backoff_ms(st.failures + count, jitter(r->o), retry_after_ms);
    r->failure_counted = 1;
    r->deferred = 1;
    record(r, NATTEL__DEFERRED, (int64_t)(n - dropped), http, reason, payload,
           delay, count);
    r->st->deferred += (int64_t)(n - dropped);
    if (dropped) {
        char why[400];
        snprintf(why, sizeof why,
                 "retry limit: %d attempts over at least 24 h since the "
                 "first (last: %.255s)",
                 NATTEL__RETRY_MAX_ATTEMPTS, reason);
        record(r, NATTEL__DROPPED, (int64_t)dropped, http, why, payload, 0, 0);
        r->st->dropped += (int64_t)dropped;
    }
}

/* Consent, decided again before every batch: a revocation while a
 * flusher runs stops it at the next batch; what is left stays spooled. */
static int consent_off(run *r)
{
    if (r->consent_off)
        return 1;
    nattel_consent_state state;
    nattel_consent_source source;
    (void)nattel__consent_resolve(r->o, 0, &state, &source, NULL);
    if (state == NATTEL_CONSENT_ENABLED)
        return 0;
    r->consent_off = 1;
    r->off_by = source;
    r->st->consent_revoked = 1;
    nattel_debug(r->o, "telemetry is off now (%s): nothing more is sent",
                 nattel_consent_source_text(source));
    return 1;
}

/* Nattel-Event-Ids: STEM-INDEX for each event of each entry, in the
 * merged envelope's order. The stem never changes while the entry lives,
 * so a retry, a split or another grouping sends the same IDs. */
static nattel_code event_ids(item **its, size_t n, nattel_buf *ids)
{
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        char stem[48];
        nattel__entry_stem(&its[i]->e, stem, sizeof stem);
        for (size_t j = 0; j < its[i]->events && !rc; j++) {
            char id[72];
            int len = snprintf(id, sizeof id, "%s%s-%zu", ids->len ? "," : "",
                               stem, j);
            rc = nattel_buf_append(ids, id, (size_t)len);
        }
    }
    return rc;
}

/* Why one event (or entry) the server refused is dropped, with the start
 * of the server's answer. The status has its own field in the record. */
static void refused_reason(const nattel__send_result *res, char *out,
                           size_t cap)
{
    const char *what = res->http_status == 413 ? "over the server's body limit"
                                               : "rejected by the server";
    if (res->body[0])
        snprintf(out, cap, "%s: %s", what, res->body);
    else
        snprintf(out, cap, "%s", what);
}

static int send_batch(run *r, item **its, size_t n);

/* A refused batch of several entries goes again in halves, until what
 * the server refuses stands alone: one bad event costs only itself. */
static int split_or_drop(run *r, item **its, size_t n,
                         const nattel__send_result *res,
                         const nattel_buf *payload)
{
    if (n > 1) {
        int stop = send_batch(r, its, n / 2);
        return stop || send_batch(r, its + n / 2, n - n / 2);
    }
    char why[400];
    refused_reason(res, why, sizeof why);
    settle_gone(r, its, n, NATTEL__REJECTED, res->http_status, why, payload);
    return 0;
}

/* The merged envelope of a batch and its event IDs; non-zero when out of
 * memory (the batch is left for a later run). */
static int build_batch(run *r, item **its, size_t n, nattel_buf *payload,
                       nattel_buf *ids)
{
    const char *jsons[NATTEL_ENVELOPE_MAX_EVENTS];
    size_t lens[NATTEL_ENVELOPE_MAX_EVENTS];
    for (size_t i = 0; i < n; i++) {
        jsons[i] = its[i]->body.data;
        lens[i] = its[i]->body.len;
    }
    size_t events;
    nattel_error err;
    return nattel__envelope_merge(jsons, lens, n, nattel__now_real(r->o),
                                  payload, &events, &err) ||
           event_ids(its, n, ids);
}

/* Sends one batch, splitting on 413, 400 and 422. Returns 1 when the run
 * should stop (deferred and back-off honoured, consent off, or asked to
 * stop). */
static int send_batch(run *r, item **its, size_t n)
{
    if (stop_now(r) || consent_off(r))
        return 1;
    nattel_buf payload = NATTEL_BUF_INIT, ids = NATTEL_BUF_INIT;
    if (build_batch(r, its, n, &payload, &ids)) {
        nattel_buf_free(&payload);
        nattel_buf_free(&ids);
        return 1; /* out of memory: leave the batch for a later run */
    }
    nattel__send_result res;
    nattel__sender_post(r->sender, payload.data, payload.len, ids.data, &res);
    nattel_buf_free(&ids);
    if (!res.http_status && stop_now(r)) {
        /* Cut short by our own shutdown: not the server's failure. The
         * batch goes back as it was. */
        nattel_buf_free(&payload);
        return 1;
    }
    r->st->batches++;
    nattel_debug(r->o, "sent %zu entries, %zu bytes: %s", n, payload.len,
                 res.reason);
    int stop = 0;
    switch (res.http_status ? nattel__policy_for(res.http_status)
                            : NATTEL__POLICY_RETRY) {
    case NATTEL__POLICY_DONE:
        settle_gone(r, its, n, NATTEL__SENT, res.http_status, res.reason,
                    &payload);
        break;
    case NATTEL__POLICY_REJECT:
    case NATTEL__POLICY_SPLIT:
        stop = split_or_drop(r, its, n, &res, &payload);
        break;
    case NATTEL__POLICY_RETRY:
        settle_retry(r, its, n, res.http_status, res.reason, res.retry_after_ms,
                     &payload);
        /* Back-off ends the run; so does an endpoint that does not answer
         * at all, even for `nattel flush`: trying every other batch against
         * a dead or black-holed endpoint would only multiply timeouts. */
        stop = !r->fo->ignore_backoff || !res.http_status;
        break;
    }
    nattel_buf_free(&payload);
    return stop;
}

static void free_items(item *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        nattel_buf_free(&v[i].body);
        nattel_buf_free(&v[i].key);
    }
    free(v);
}

/* Reads a claimed entry and its envelope key; non-zero when it cannot
 * be (missing, not a regular file, over the bound, empty, not an
 * envelope). */
static int read_claim(const run *r, item *it)
{
    char p[4096];
    nattel_error err;
    if (natx_path_join3(p, sizeof p, r->o->state_dir, "claims", it->e.name,
                        &err))
        return -1;
    if (natx_file_read(p, NATTEL__ENTRY_MAX_BYTES, &it->body, &err))
        return -1;
    if (!it->body.len)
        return -1;
    return nattel__envelope_key(it->body.data, it->body.len, &it->key,
                                &it->events, &err)
               ? -1
               : 0;
}

/* Claims every listed entry and reads it; unreadable ones are dropped and
 * recorded. Returns the number claimed in *n. */
static nattel_code claim_all(run *r, item **out, size_t *n, nattel_error *err)
{
    nattel__entry *v;
    size_t count;
    nattel_code rc =
        nattel__spool_list(r->o->state_dir, "spool", &v, &count, NULL, err);
    if (rc)
        return rc;
    item *its = calloc(count ? count : 1, sizeof *its);
    if (!its) {
        free(v);
        return natx_fail(err, NATTEL_ENOMEM, "flusher: out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < count && !rc; i++) {
        /* Gone (a host dropped it over the bound): not ours any more. Any
         * other failure (a spool not writable, a read-only file system)
         * ends the run with it: retrying could only spin. */
        nattel_code mv = move_entry(r->o->state_dir, "spool", v[i].name,
                                    "claims", v[i].name, err);
        if (mv == NATTEL_ENOTFOUND)
            continue;
        rc = mv;
        if (rc)
            break;
        item *it = &its[k++];
        it->e = v[i];
        if (read_claim(r, it)) {
            item *one = it;
            settle_gone(r, &one, 1, NATTEL__DROPPED, 0,
                        "unreadable spool entry", NULL);
        }
    }
    free(v);
    *out = its;
    *n = k;
    r->claimed += (int)(k > 0);
    if (rc)
        nattel__prefix(err, "flusher: cannot claim spool entries");
    return rc;
}

static int same_key(const item *a, const item *b)
{
    return a->key.len == b->key.len &&
           !memcmp(a->key.data, b->key.data, a->key.len);
}

/* One pass: every claimed entry, grouped (oldest first) into batches of
 * one envelope key and at most NATTEL_ENVELOPE_MAX_EVENTS. *stopped: the
 * run is to end (deferred, consent off, asked to stop). */
static nattel_code one_pass(run *r, size_t *claimed, int *stopped,
                            nattel_error *err)
{
    item *its = NULL;
    size_t n = 0;
    nattel_code rc = claim_all(r, &its, &n, err);
    if (!its)
        return rc;
    *claimed = n;
    int stop = rc != NATTEL_OK;
    item *batch[NATTEL_ENVELOPE_MAX_EVENTS];
    for (size_t i = 0; i < n && !stop; i++) {
        if (its[i].done)
            continue;
        size_t b = 0;
        batch[b++] = &its[i];
        for (size_t j = i + 1; j < n && b < NATTEL_ENVELOPE_MAX_EVENTS; j++)
            if (!its[j].done && same_key(&its[i], &its[j]))
                batch[b++] = &its[j];
        stop = send_batch(r, batch, b);
    }
    /* What was not tried goes back as it was. */
    for (size_t i = 0; i < n; i++)
        if (!its[i].done)
            (void)move_entry(r->o->state_dir, "claims", its[i].e.name, "spool",
                             its[i].e.name, NULL);
    free_items(its, n);
    *stopped = stop;
    return rc;
}

int nattel__flusher_lock(const char *state_dir, int block, nattel_error *err)
{
    char path[4096];
    if (natx_path_join(path, sizeof path, state_dir, "flusher.lock", err))
        return -1;
    return natx_file_lock(path, block, err);
}

int nattel__flusher_running(const char *state_dir)
{
    int fd = nattel__flusher_lock(state_dir, 0, NULL);
    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

/* The lock's descriptor; -1 with *failed set when it cannot be taken at
 * all (a read-only file system, say: waiting would change nothing), -1
 * alone when another flusher held it for the whole wait. */
static int take_lock(const nattel_options *o, const nattel__flush_opts *fo,
                     int *failed, nattel_error *err)
{
    int64_t until = nattel__now_mono(o) + fo->lock_wait_ms;
    *failed = 0;
    for (;;) {
        nattel_error e = {0};
        int fd = nattel__flusher_lock(o->state_dir, 0, &e);
        if (fd < 0 && e.code) {
            *failed = 1;
            if (err)
                *err = e;
            return -1;
        }
        if (fd >= 0 || fo->lock_wait_ms <= 0 || nattel__now_mono(o) >= until)
            return fd;
        if (fo->should_stop && fo->should_stop(fo->stop_ctx))
            return -1;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Events a host could not spool (disk full) are counted now. */
static void count_lost(run *r)
{
    size_t lost = nattel__spool_take_lost(r->o->state_dir);
    if (lost)
        record(r, NATTEL__DROPPED, (int64_t)lost, 0,
               "not spooled: the disk was full when the event was emitted",
               NULL, 0, 0);
    r->st->dropped += (int64_t)lost;
    /* And those hosts dropped over the spool's bound (nattel__spool_note). */
    size_t over = nattel__spool_take_dropped(r->o->state_dir);
    if (!over)
        return;
    char why[160];
    snprintf(why, sizeof why,
             "spool full (at most %zu events, %zu bytes): oldest dropped",
             r->o->max_events, r->o->max_bytes);
    record(r, NATTEL__DROPPED, (int64_t)over, 0, why, NULL, 0, 0);
    r->st->dropped += (int64_t)over;
}

/* Removes every waiting entry (spool/; claims/ went back there first,
 * under the flusher lock the caller holds) and records how many were
 * removed and why in the audit log. */
static size_t clear_locked(const nattel_options *o, const char *why)
{
    recover_claims(o);
    nattel__entry *v;
    size_t n, removed = 0;
    if (nattel__spool_list(o->state_dir, "spool", &v, &n, NULL, NULL))
        return 0;
    char p[4096];
    for (size_t i = 0; i < n; i++)
        if (!natx_path_join3(p, sizeof p, o->state_dir, "spool", v[i].name,
                             NULL) &&
            !unlink(p))
            removed++;
    free(v);
    if (removed) {
        nattel__record rec = {.outcome = NATTEL__DROPPED,
                              .events = (int64_t)removed,
                              .reason = why,
                              .endpoint = o->endpoint};
        (void)nattel__record_outcome(o, &rec, NULL);
    }
    return removed;
}

nattel_code nattel__spool_clear(const nattel_options *o, const char *why,
                                size_t *removed, nattel_error *err)
{
    *removed = 0;
    nattel_code rc = nattel__state_dir_check(o->state_dir, err);
    if (rc == NATTEL_ENOTFOUND)
        return NATTEL_OK; /* nothing was ever spooled */
    if (rc)
        return rc;
    /* A flusher sending now stops at its next batch (consent is off) and
     * lets go: wait for it a little, so its claims are cleared too. */
    nattel__flush_opts fo = {.lock_wait_ms = 3000, .deadline_mono = -1};
    int failed;
    int fd = take_lock(o, &fo, &failed, err);
    if (fd < 0)
        return failed ? (err && err->code ? err->code : NATTEL_EIO)
                      : natx_fail(err, NATTEL_EIO,
                                  "a flusher held the spool for 3 s: "
                                  "nothing removed");
    *removed = clear_locked(o, why);
    close(fd);
    return NATTEL_OK;
}

nattel_code nattel_consent_clear_spool(const nattel_options *o, const char *why,
                                       size_t *removed, nattel_error *err)
{
    return nattel__spool_clear(o, why ? why : "consent revoked", removed, err);
}

/* A policy or DO_NOT_TRACK seen by a flusher is a revocation nobody
 * typed: what waits is cleared, as `nattel consent --disable` does. A
 * consent file's "disabled" is not (it may come with --keep-spool). */
static int clears(nattel_consent_source source)
{
    return source == NATTEL_CONSENT_SOURCE_POLICY ||
           source == NATTEL_CONSENT_SOURCE_DO_NOT_TRACK;
}

static void revocation_reason(nattel_consent_source source, char *why,
                              size_t cap)
{
    snprintf(why, cap, "consent revoked by %s: spooled events removed unsent",
             nattel_consent_source_text(source));
}

static void clear_on_revocation(run *r)
{
    if (!r->consent_off || !clears(r->off_by))
        return;
    char why[256];
    revocation_reason(r->off_by, why, sizeof why);
    size_t n = clear_locked(r->o, why);
    r->st->dropped += (int64_t)n;
    if (n)
        nattel_debug(r->o, "%s (%zu)", why, n);
}

int64_t nattel__flush_clear_revoked(const nattel_options *o,
                                    nattel_consent_source source)
{
    if (!clears(source) || !o->state_dir || !nattel__spool_count(o->state_dir))
        return 0;
    char why[256];
    revocation_reason(source, why, sizeof why);
    size_t n = 0;
    nattel_error err;
    if (nattel__spool_clear(o, why, &n, &err))
        nattel_debug(o, "spool not cleared: %s", err.message);
    else if (n)
        nattel_debug(o, "%s (%zu)", why, n);
    return (int64_t)n;
}

static nattel_code run_locked(run *r, nattel_error *err)
{
    recover_claims(r->o);
    nattel__odd_count odd;
    nattel__spool_refuse_odd(r->o, &odd);
    r->st->dropped += (int64_t)(odd.symlinks + odd.others);
    r->st->symlinks += (int64_t)odd.symlinks;
    r->st->odd += (int64_t)odd.others;
    count_lost(r);
    r->sender = nattel__sender_new(
        r->endpoint, r->o->connect_ms, r->o->total_ms,
        r->fo->should_abort ? r->fo->should_abort : r->fo->should_stop,
        r->fo->stop_ctx, err);
    if (!r->sender)
        return err ? err->code : NATTEL_EIO;
    nattel_code rc = NATTEL_OK;
    /* New arrivals during a pass get another pass; a deferral ends the
     * run (each batch is tried at most once per run). An empty spool is
     * watched for linger_ms before giving up, so a burst of host commands
     * starts one flusher, not one each. */
    int64_t linger_until = -1;
    for (;;) {
        size_t claimed = 0;
        int stopped = 0;
        rc = one_pass(r, &claimed, &stopped, err);
        if (rc || stopped || r->deferred || stop_now(r))
            break;
        if (claimed) {
            linger_until = -1;
            continue;
        }
        int64_t now = nattel__now_mono(r->o);
        if (linger_until < 0)
            linger_until = now + r->fo->linger_ms;
        if (now >= linger_until)
            break;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    nattel__sender_free(r->sender);
    r->sender = NULL;
    clear_on_revocation(r);
    return rc;
}

nattel_code nattel__flush_run(const nattel_options *o,
                              const nattel__flush_opts *fo,
                              nattel__flush_stats *stats, nattel_error *err)
{
    memset(stats, 0, sizeof *stats);
    nattel_code rc = nattel__state_dir_check(o->state_dir, err);
    if (rc == NATTEL_ENOTFOUND)
        return NATTEL_OK; /* nothing was ever spooled */
    if (rc)
        return rc;
    if (!fo->ignore_backoff && nattel__backoff_pending(o)) {
        nattel_debug(o, "back-off pending: not sending now");
        return NATTEL_OK;
    }
    /* The organisation's endpoint of a machine policy beats
     * NAT_TELEMETRY_ENDPOINT. */
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    run r = {.o = o,
             .fo = fo,
             .st = stats,
             .endpoint = policy.endpoint[0] ? policy.endpoint : o->endpoint};
    nattel__flush_opts again = *fo;
    again.lock_wait_ms = 0;
    for (;;) {
        int failed;
        int fd = take_lock(o, fo, &failed, err);
        if (fd < 0 && failed)
            return err && err->code ? err->code : NATTEL_EIO;
        if (fd < 0) {
            stats->busy = 1;
            return NATTEL_OK;
        }
        r.claimed = 0;
        rc = run_locked(&r, err);
        close(fd);
        /* A host that spooled just before we let go saw the lock held and
         * started nobody: look once more now that it is free. Only after
         * a run that claimed something: entries that cannot be claimed
         * must not make the flusher spin. */
        if (rc || r.deferred || r.consent_off || stop_now(&r) || !r.claimed ||
            !nattel__spool_count(o->state_dir))
            return rc;
        fo = &again;
        r.fo = fo;
        if (nattel__flusher_running(o->state_dir))
            return rc;
    }
}
