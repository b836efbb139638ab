/*
 * Delivery state: cumulative counters, the last delivery and the back-off,
 * in STATE/state.json. Every update holds STATE/state.lock, so hosts
 * dropping over the spool bound and a flusher never lose each other's
 * counts; readers need no lock (the file is replaced by rename).
 */
#include "delivery/nattel_state.h"
#include "delivery/nattel_retry.h"
#include "model/nattel_error.h"
#include "json/nattel_json.h"
#include "natx/natx_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int64_t int_member(const nattel__jdoc *d, unsigned v)
{
    int64_t i = 0;
    if (!nattel__json_is_number(d, v) ||
        nattel__json_int(d, v, &i) != NATTEL__JNUM_INT)
        return 0;
    return i < 0 ? 0 : i;
}

/* Counters never wrap: they stop at INT64_MAX. */
static int64_t sat_add(int64_t a, int64_t b)
{
    if (b < 0)
        b = 0;
    return a > INT64_MAX - b ? INT64_MAX : a + b;
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
            nattel__outcome_parse(raw.ptr, raw.len, &st->last_outcome);
        else if (key_is(d, k, "http_status"))
            st->last_http = (int)int_member(d, v);
        else if (key_is(d, k, "events"))
            st->last_events = int_member(d, v);
    }
}

static void parse_state(const nattel__jdoc *d, nattel__state *st)
{
    if (!d->count || d->toks[0].type != NATTEL__JOBJECT) {
        snprintf(st->bad, sizeof st->bad, "not a JSON object");
        return;
    }
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
            st->failures =
                int_member(d, v) > 1000000 ? 1000000 : int_member(d, v);
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
        natx_path_join(path, sizeof path, state_dir, "state.json", NULL))
        return;
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_error e;
    nattel_code rc = natx_file_read(path, 64 * 1024, &b, &e);
    if (rc && rc != NATTEL_ENOTFOUND)
        snprintf(st->bad, sizeof st->bad, "%.190s", e.message);
    if (!rc) {
        nattel__jdoc d;
        if (!nattel__json_parse(&d, b.data, b.len, &e))
            parse_state(&d, st);
        else
            snprintf(st->bad, sizeof st->bad, "not JSON: %.170s", e.message);
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
    char path[4096];
    nattel_code rc =
        natx_path_join(path, sizeof path, state_dir, "state.json", err);
    if (rc)
        return rc;
    /* Replaced by rename, so readers need no lock. Not fsynced, as it
     * never was: a host dropping over the spool bound writes it too. */
    const natx_file_write_opts wo = {.mode = 0600};
    return natx_file_write_atomic(path, body, (size_t)n, &wo, err);
}

/* An unusable state.json is kept for a look (renamed, never deleted) and
 * the state starts again from zero; `nattel status` says so. */
static void set_aside(const nattel_options *o, const char *why)
{
    char from[4096], to[4096];
    if (natx_path_join(from, sizeof from, o->state_dir, "state.json", NULL) ||
        natx_path_join(to, sizeof to, o->state_dir, NATTEL__STATE_ASIDE, NULL))
        return;
    if (rename(from, to) == 0)
        nattel_debug(o, "state.json was unusable (%s): set aside as %s", why,
                     to);
}

/* An open descriptor holding STATE/state.lock, or -1. */
static int lock_state(const char *state_dir, nattel_error *err)
{
    char path[4096];
    if (natx_path_join(path, sizeof path, state_dir, "state.lock", err))
        return -1;
    return natx_file_lock(path, 1, err);
}

static void apply(nattel__state *st, const nattel__record *r, int64_t now,
                  const char *ts)
{
    switch (r->outcome) {
    case NATTEL__SENT:
        st->sent = sat_add(st->sent, r->events);
        st->failures = 0;
        st->next_ms = 0;
        break;
    case NATTEL__REJECTED:
        st->rejected = sat_add(st->rejected, r->events);
        st->dropped = sat_add(st->dropped, r->events);
        break;
    case NATTEL__DROPPED:
        st->dropped = sat_add(st->dropped, r->events);
        break;
    case NATTEL__DEFERRED:
        if (r->count_failure)
            st->failures = sat_add(st->failures, 1);
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
    int fd = lock_state(o->state_dir, err);
    if (fd < 0)
        return NATTEL_EIO;
    int64_t now = nattel__now_real(o);
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(now, ts);
    nattel__state st;
    nattel__state_read(o->state_dir, &st);
    if (st.bad[0])
        set_aside(o, st.bad);
    apply(&st, r, now, ts);
    nattel_code rc = write_state(o->state_dir, &st, err);
    nattel_code arc = nattel__audit_append(o, r, ts, rc ? NULL : err);
    close(fd);
    return rc ? rc : arc;
}

int nattel__backoff_pending(const nattel_options *o)
{
    nattel__state st;
    nattel__state_read(o->state_dir, &st);
    int64_t now = nattel__now_real(o);
    /* A next_ms far in the future means the clock moved: ignore it. (now
     * is never near INT64_MIN: Unix ms.) */
    return st.next_ms > now && st.next_ms - now <= NATTEL__RETRY_AFTER_CAP_MS +
                                                       NATTEL__BACKOFF_CAP_MS;
}
