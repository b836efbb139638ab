/*
 * Delivery state: cumulative counters, the last delivery and the back-off,
 * in STATE/state.json. Every update holds STATE/state.lock, so hosts
 * dropping over the spool bound and a flusher never lose each other's
 * counts; readers need no lock (the file is replaced by rename).
 */
#include "delivery/nattel_delivery.h"
#include "model/nattel_error.h"
#include "json/nattel_json.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

const char *nattel__outcome_name(nattel__outcome o)
{
    switch (o) {
    case NATTEL__SENT:
        return "sent";
    case NATTEL__REJECTED:
        return "rejected";
    case NATTEL__DROPPED:
        return "dropped";
    case NATTEL__DEFERRED:
        break;
    }
    return "deferred";
}

static int outcome_parse(const char *s, size_t n, nattel__outcome *out)
{
    for (int i = NATTEL__SENT; i <= NATTEL__DEFERRED; i++) {
        const char *name = nattel__outcome_name((nattel__outcome)i);
        if (strlen(name) == n && !memcmp(name, s, n)) {
            *out = (nattel__outcome)i;
            return 0;
        }
    }
    return -1;
}

int64_t nattel__backoff_ms(int64_t failures, double jitter,
                           int64_t retry_after_ms)
{
    int64_t d = NATTEL__BACKOFF_BASE_MS;
    for (int64_t i = 1; i < failures && d < NATTEL__BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > NATTEL__BACKOFF_CAP_MS)
        d = NATTEL__BACKOFF_CAP_MS;
    if (jitter < 0 || jitter >= 1)
        jitter = 0;
    /* Equal jitter: never sooner than half the delay, so many clients
     * that failed together spread out without hammering early. */
    d = d / 2 + (int64_t)(jitter * (double)(d / 2));
    if (retry_after_ms > NATTEL__RETRY_AFTER_CAP_MS)
        retry_after_ms = NATTEL__RETRY_AFTER_CAP_MS;
    return retry_after_ms > d ? retry_after_ms : d;
}

static int64_t int_member(const nattel__jdoc *d, unsigned v)
{
    int64_t i = 0;
    if (!nattel__json_is_number(d, v) ||
        nattel__json_int(d, v, &i) != NATTEL__JNUM_INT)
        return 0;
    return i;
}

static int key_is(const nattel__jdoc *d, unsigned k, const char *name)
{
    return nattel__json_string_eq(d, k, name, strlen(name));
}

static void read_last(const nattel__jdoc *d, unsigned obj, nattel__state *st)
{
    if (d->toks[obj].type != NATTEL__JOBJECT)
        return;
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[obj]);
    for (unsigned k = obj + 1; k < end;
         k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1])) {
        unsigned v = k + 1;
        nattel_str raw = nattel__json_raw(d, v);
        if (key_is(d, k, "ts") && nattel__json_is_string(d, v) &&
            raw.len == NATTEL_TS_LEN) {
            memcpy(st->last_ts, raw.ptr, raw.len);
            st->last_ts[raw.len] = '\0';
            st->has_last = 1;
        } else if (key_is(d, k, "outcome") && nattel__json_is_string(d, v))
            outcome_parse(raw.ptr, raw.len, &st->last_outcome);
        else if (key_is(d, k, "http_status"))
            st->last_http = (int)int_member(d, v);
        else if (key_is(d, k, "events"))
            st->last_events = int_member(d, v);
    }
}

static void parse_state(const nattel__jdoc *d, nattel__state *st)
{
    if (!d->count || d->toks[0].type != NATTEL__JOBJECT)
        return;
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end;
         k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1])) {
        unsigned v = k + 1;
        if (key_is(d, k, "sent"))
            st->sent = int_member(d, v);
        else if (key_is(d, k, "dropped"))
            st->dropped = int_member(d, v);
        else if (key_is(d, k, "rejected"))
            st->rejected = int_member(d, v);
        else if (key_is(d, k, "failures"))
            st->failures = int_member(d, v);
        else if (key_is(d, k, "next_ms"))
            st->next_ms = int_member(d, v);
        else if (key_is(d, k, "last"))
            read_last(d, v, st);
    }
}

void nattel__state_read(const char *state_dir, nattel__state *st)
{
    memset(st, 0, sizeof *st);
    char path[4096];
    if (!state_dir ||
        nattel__path(path, sizeof path, state_dir, "state.json", NULL))
        return;
    nattel_buf b = NATTEL_BUF_INIT;
    if (!nattel__read_file(path, 64 * 1024, &b, NULL) && b.len) {
        nattel__jdoc d;
        if (!nattel__json_parse(&d, b.data, b.len, NULL))
            parse_state(&d, st);
        nattel__json_release(&d);
    }
    nattel_buf_free(&b);
}

static nattel_code write_state(const char *state_dir, const nattel__state *st,
                               nattel_error *err)
{
    char body[1024];
    int n;
    if (st->has_last)
        n = snprintf(
            body, sizeof body,
            "{\"sent\":%" PRId64 ",\"dropped\":%" PRId64
            ",\"rejected\":%" PRId64 ",\"failures\":%" PRId64
            ",\"next_ms\":%" PRId64 ",\"last\":{\"ts\":\"%s\","
            "\"outcome\":\"%s\",\"http_status\":%d,\"events\":%" PRId64 "}}\n",
            st->sent, st->dropped, st->rejected, st->failures, st->next_ms,
            st->last_ts, nattel__outcome_name(st->last_outcome), st->last_http,
            st->last_events);
    else
        n = snprintf(body, sizeof body,
                     "{\"sent\":%" PRId64 ",\"dropped\":%" PRId64
                     ",\"rejected\":%" PRId64 ",\"failures\":%" PRId64
                     ",\"next_ms\":%" PRId64 ",\"last\":null}\n",
                     st->sent, st->dropped, st->rejected, st->failures,
                     st->next_ms);
    char path[4096], tmp[4096];
    nattel_code rc;
    if ((rc = nattel__path(path, sizeof path, state_dir, "state.json", err)) ||
        (rc = nattel__path(tmp, sizeof tmp, state_dir, ".state.json.tmp", err)))
        return rc;
    /* The lock is held, so one fixed temporary name is enough. */
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return natx_fail(err, NATTEL_EIO, "open %s: %s", tmp, strerror(errno));
    ssize_t w = write(fd, body, (size_t)n);
    int e = errno;
    close(fd);
    if (w != n || rename(tmp, path) != 0)
        return natx_fail(err, NATTEL_EIO, "write %s: %s", path,
                         w != n ? strerror(e) : strerror(errno));
    return NATTEL_OK;
}

/* An open descriptor holding STATE/NAME exclusively, or -1. */
static int lock_file(const char *state_dir, const char *name, int block,
                     nattel_error *err)
{
    char path[4096];
    if (nattel__path(path, sizeof path, state_dir, name, err))
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        natx_fail(err, NATTEL_EIO, "open %s: %s", path, strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX | (block ? 0 : LOCK_NB)) != 0) {
        if (errno == EINTR)
            continue;
        if (block || errno != EWOULDBLOCK)
            natx_fail(err, NATTEL_EIO, "flock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void apply(nattel__state *st, const nattel__record *r, int64_t now,
                  const char *ts)
{
    switch (r->outcome) {
    case NATTEL__SENT:
        st->sent += r->events;
        st->failures = 0;
        st->next_ms = 0;
        break;
    case NATTEL__REJECTED:
        st->rejected += r->events;
        st->dropped += r->events;
        break;
    case NATTEL__DROPPED:
        st->dropped += r->events;
        break;
    case NATTEL__DEFERRED:
        if (r->count_failure)
            st->failures++;
        st->next_ms = now + r->backoff_ms;
        break;
    }
    st->has_last = 1;
    memcpy(st->last_ts, ts, NATTEL_TS_LEN + 1);
    st->last_outcome = r->outcome;
    st->last_http = r->http_status;
    st->last_events = r->events;
}

nattel_code nattel__record_outcome(const nattel_options *o,
                                   const nattel__record *r, nattel_error *err)
{
    int fd = lock_file(o->state_dir, "state.lock", 1, err);
    if (fd < 0)
        return NATTEL_EIO;
    int64_t now = nattel__now_real(o);
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(now, ts);
    nattel__state st;
    nattel__state_read(o->state_dir, &st);
    apply(&st, r, now, ts);
    nattel_code rc = write_state(o->state_dir, &st, err);
    nattel_code arc = nattel__audit_append(o, r, ts, rc ? NULL : err);
    close(fd);
    return rc ? rc : arc;
}

int nattel__flusher_lock(const char *state_dir, int block, nattel_error *err)
{
    return lock_file(state_dir, "flusher.lock", block, err);
}

int nattel__flusher_running(const char *state_dir)
{
    int fd = lock_file(state_dir, "flusher.lock", 0, NULL);
    if (fd < 0)
        return 1;
    close(fd);
    return 0;
}

int nattel__backoff_pending(const nattel_options *o)
{
    nattel__state st;
    nattel__state_read(o->state_dir, &st);
    int64_t now = nattel__now_real(o);
    /* A next_ms far in the future means the clock moved: ignore it. */
    return st.next_ms > now && st.next_ms - now <= NATTEL__RETRY_AFTER_CAP_MS +
                                                       NATTEL__BACKOFF_CAP_MS;
}
