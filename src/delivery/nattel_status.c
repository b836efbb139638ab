/* Delivery state for tools (client.h, "Delivery state, for tools"): the
 * status, an on-demand flush and the audit log, over the internals the
 * flusher itself uses. */
#include "config/nattel_options.h"
#include "config/nattel_sink.h"
#include "delivery/nattel_audit.h"
#include "nattel_limits.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"
#include "consent/nattel_consent.h"
#include "model/nattel_error.h"
#include "json/nattel_json.h"

#include "natx/natx_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nattel_delivery_info {
    size_t spooled;
    nattel__state st;
    int64_t backoff_until;
    size_t odd;  /* spool/claims entries that are not regular files */
    size_t lost; /* events not spooled (disk full), not yet counted */
    char state_note[320];
};

/* Entries of STATE/SUB that no flusher can send: what is not a regular
 * file (FIFO, directory, socket, device, symlink), dot names aside. */
static size_t count_odd(const char *state_dir, const char *sub)
{
    char dir[4096];
    if (natx_path_join(dir, sizeof dir, state_dir, sub, NULL))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d)) {
        struct stat st;
        if (de->d_name[0] != '.' &&
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            !S_ISREG(st.st_mode))
            n++;
    }
    closedir(d);
    return n;
}

static size_t count_files(const char *state_dir, const char *sub)
{
    char dir[4096];
    if (natx_path_join(dir, sizeof dir, state_dir, sub, NULL))
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    for (struct dirent *de = readdir(d); de; de = readdir(d))
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

/* What is wrong with state.json now, or was (set aside). */
static void state_note(nattel_delivery_info *info, const char *state_dir)
{
    char aside[4096];
    struct stat st;
    if (info->st.bad[0])
        snprintf(info->state_note, sizeof info->state_note,
                 "state.json cannot be used (%s): counters read as 0; the "
                 "next delivery sets it aside as %s and starts again",
                 info->st.bad, NATTEL__STATE_ASIDE);
    else if (!natx_path_join(aside, sizeof aside, state_dir,
                             NATTEL__STATE_ASIDE, NULL) &&
             lstat(aside, &st) == 0)
        snprintf(info->state_note, sizeof info->state_note,
                 "an unusable state.json was set aside as %s: counters "
                 "restarted from 0 then",
                 NATTEL__STATE_ASIDE);
}

static void clear_error(nattel_error *err)
{
    if (err) {
        err->code = NATTEL_OK;
        err->message[0] = '\0';
    }
}

nattel_code nattel_delivery_status(const nattel_options *o,
                                   nattel_delivery_info **out,
                                   nattel_error *err)
{
    *out = NULL;
    nattel_delivery_info *info = calloc(1, sizeof *info);
    if (!info)
        return natx_fail(err, NATTEL_ENOMEM, "delivery status: out of memory");
    nattel_code rc = o->state_dir ? nattel__state_dir_check(o->state_dir, err)
                                  : NATTEL_ENOTFOUND;
    if (rc == NATTEL_ENOTFOUND) {
        clear_error(err); /* nothing spooled yet: an empty state */
    } else if (rc) {
        free(info);
        return rc;
    } else {
        info->spooled = nattel__spool_count(o->state_dir);
        nattel__state_read(o->state_dir, &info->st);
        /* Drops over the bound a host made and no flusher recorded yet. */
        info->st.dropped +=
            (int64_t)nattel__spool_pending_dropped(o->state_dir);
        info->odd = count_odd(o->state_dir, "spool") +
                    count_odd(o->state_dir, "claims");
        info->lost = count_files(o->state_dir, "lost");
        state_note(info, o->state_dir);
        if (info->st.next_ms > nattel__now_real(o))
            info->backoff_until = info->st.next_ms;
    }
    *out = info;
    return NATTEL_OK;
}

void nattel_delivery_info_free(nattel_delivery_info *info)
{
    free(info);
}

size_t nattel_delivery_spooled(const nattel_delivery_info *i)
{
    return i ? i->spooled : 0;
}

int64_t nattel_delivery_sent(const nattel_delivery_info *i)
{
    return i ? i->st.sent : 0;
}

int64_t nattel_delivery_dropped(const nattel_delivery_info *i)
{
    return i ? i->st.dropped : 0;
}

int64_t nattel_delivery_rejected(const nattel_delivery_info *i)
{
    return i ? i->st.rejected : 0;
}

int64_t nattel_delivery_backoff_until(const nattel_delivery_info *i)
{
    return i ? i->backoff_until : 0;
}

const char *nattel_delivery_last_ts(const nattel_delivery_info *i)
{
    return i && i->st.has_last ? i->st.last_ts : NULL;
}

const char *nattel_delivery_last_outcome(const nattel_delivery_info *i)
{
    return i && i->st.has_last ? nattel__outcome_name(i->st.last_outcome)
                               : NULL;
}

int nattel_delivery_last_http_status(const nattel_delivery_info *i)
{
    return i && i->st.has_last ? i->st.last_http : 0;
}

int64_t nattel_delivery_last_events(const nattel_delivery_info *i)
{
    return i && i->st.has_last ? i->st.last_events : 0;
}

const char *nattel_delivery_state_note(const nattel_delivery_info *i)
{
    return i && i->state_note[0] ? i->state_note : NULL;
}

size_t nattel_delivery_unusable_entries(const nattel_delivery_info *i)
{
    return i ? i->odd : 0;
}

size_t nattel_delivery_lost_uncounted(const nattel_delivery_info *i)
{
    return i ? i->lost : 0;
}

/* ------------------------------------------------------------------ */
/* Flush now                                                           */
/* ------------------------------------------------------------------ */

/* The sink rule; an endpoint it refuses is tried as http(s), as the
 * client spools it. */
/* Whether a flush has an http(s) endpoint to send to: the machine
 * policy's endpoint beats the options' own, as in the client and the
 * flusher (flush_run reads it again), so options straight from the
 * environment flush as a host's client would. An endpoint the rule
 * refuses runs, and the flusher reports it. */
static int http_endpoint(const nattel_options *o)
{
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    const char *ep = policy.endpoint[0] ? policy.endpoint : o->endpoint;
    nattel_sink_kind kind;
    return nattel__sink_rule(ep, o->dry_run, "NAT_TELEMETRY_ENDPOINT", &kind,
                             NULL) ||
           kind == NATTEL_SINK_HTTP;
}

static nattel_code flush_run(const nattel_options *o, unsigned flags,
                             nattel_flush_result *r, nattel_error *err)
{
    int detached = (flags & NATTEL_FLUSH_FLAG_DETACHED) != 0;
    int64_t wait = (flags & NATTEL_FLUSH_FLAG_WAIT) ? NATTEL__FLUSH_WAIT_MS
                                                    : NATTEL__FLUSH_NOWAIT_MS;
    /* `nattel flush` tries now, whatever the back-off, and waits for a
     * running flusher; a detached one leaves both to the running one and
     * stays a moment for events that arrive meanwhile. */
    nattel__flush_opts fo = {.ignore_backoff = !detached,
                             .lock_wait_ms = detached ? 0 : wait,
                             .linger_ms =
                                 detached ? NATTEL__FLUSHER_LINGER_MS : 0,
                             .deadline_mono = -1};
    nattel__flush_stats st = {0};
    nattel_code rc = nattel__flush_run(o, &fo, &st, err);
    r->sent = st.sent;
    r->rejected = st.rejected;
    r->dropped = st.dropped;
    r->deferred = st.deferred;
    r->symlinks = st.symlinks;
    r->odd = st.odd;
    r->consent_revoked = st.consent_revoked;
    r->busy = st.busy;
    return rc;
}

nattel_code nattel_flush_now(const nattel_options *o, unsigned flags,
                             nattel_flush_result *out, nattel_error *err)
{
    nattel_flush_result r = {.size = out->size};
    nattel_consent_state state;
    /* A tool's run never asks. */
    (void)nattel__consent_resolve(o, 0, &state, &r.consent_source, NULL);
    nattel_code rc = NATTEL_OK;
    clear_error(err);
    if (state != NATTEL_CONSENT_ENABLED) {
        r.skipped = NATTEL_FLUSH_SKIP_CONSENT_OFF;
        r.dropped = nattel__flush_clear_revoked(o, r.consent_source);
    } else if (!http_endpoint(o))
        r.skipped = NATTEL_FLUSH_SKIP_NOT_HTTP;
    else
        rc = flush_run(o, flags, &r, err);
    r.remaining = o->state_dir ? nattel__spool_count(o->state_dir) : 0;
    size_t n = out->size < sizeof r ? out->size : sizeof r;
    memcpy(out, &r, n);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Audit log                                                           */
/* ------------------------------------------------------------------ */

/* Appends printf-style text; keeps the first error in *rc. */
static void put(nattel_buf *b, nattel_code *rc, const char *fmt, ...)
    NATX_PRINTF(3, 4);

static void put(nattel_buf *b, nattel_code *rc, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!*rc && n > 0)
        *rc = nattel_buf_append(
            b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* A member's value as text ("-" when absent), cut to cap - 1 bytes. */
static void member(const nattel__jdoc *d, const char *key, char *out,
                   size_t cap)
{
    snprintf(out, cap, "-");
    if (!d->count || d->toks[0].type != NATTEL__JOBJECT)
        return;
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end;
         k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1])) {
        if (!nattel__json_string_eq(d, k, key, strlen(key)))
            continue;
        nattel_str raw = nattel__json_raw(d, k + 1);
        if (d->toks[k + 1].type == NATTEL__JSTRING) {
            char *tmp = malloc(raw.len + 1);
            if (tmp) {
                size_t n = nattel__json_decode_string(d, k + 1, tmp);
                snprintf(out, cap, "%.*s", (int)n, tmp);
                free(tmp);
            }
        } else if (d->toks[k + 1].type == NATTEL__JPRIMITIVE) {
            snprintf(out, cap, "%.*s", (int)raw.len, raw.ptr);
        } else {
            snprintf(out, cap, "(%zu bytes)", raw.len);
        }
        return;
    }
}

/* Appends n bytes; keeps the first error in *rc. */
static void put_raw(nattel_buf *b, nattel_code *rc, const char *p, size_t n)
{
    if (!*rc)
        *rc = nattel_buf_append(b, p, n);
}

/* The envelope as sent, indented on the line below its record. */
static void put_payload(nattel_buf *b, nattel_code *rc, const nattel__jdoc *d)
{
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end; k = (unsigned)NATTEL__JNEXT(&d->toks[k + 1]))
        if (nattel__json_string_eq(d, k, "payload", 7) &&
            d->toks[k + 1].type == NATTEL__JOBJECT) {
            nattel_str raw = nattel__json_raw(d, k + 1);
            put_raw(b, rc, "    ", 4);
            put_raw(b, rc, raw.ptr, raw.len);
            put_raw(b, rc, "\n", 1);
        }
}

/* One record for people: time, outcome, events, status, reason. */
static void put_text(nattel_buf *b, nattel_code *rc, const char *line,
                     size_t len)
{
    nattel__jdoc d;
    if (nattel__json_parse(&d, line, len, NULL)) {
        nattel__json_release(&d);
        put(b, rc, "(unreadable record)\n");
        return;
    }
    char ts[40], outcome[16], events[24], http[16], reason[300];
    member(&d, "ts", ts, sizeof ts);
    member(&d, "outcome", outcome, sizeof outcome);
    member(&d, "events", events, sizeof events);
    member(&d, "http_status", http, sizeof http);
    member(&d, "reason", reason, sizeof reason);
    /* The server's answer once ("HTTP 200", the sender's reason for an
     * answered request, is not repeated); none when nothing answered
     * (status 0: a network error, or a drop that sent nothing). */
    char answer[24] = "";
    if (strcmp(http, "0") && strcmp(http, "-"))
        snprintf(answer, sizeof answer, "HTTP %s", http);
    const char *why = strcmp(reason, answer) ? reason : "";
    put(b, rc, "%s  %-8s  %s event(s)%s%s%s%s\n", ts, outcome, events,
        *answer ? "  " : "", answer, *why ? "  " : "", why);
    if (d.toks[0].type == NATTEL__JOBJECT)
        put_payload(b, rc, &d);
    nattel__json_release(&d);
}

static nattel_code format_lines(const nattel_buf *raw,
                                nattel_audit_format format, nattel_buf *out,
                                nattel_error *err)
{
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; i < raw->len && !rc;) {
        const char *p = raw->data + i;
        const char *nl = memchr(p, '\n', raw->len - i);
        size_t len = nl ? (size_t)(nl - p) : raw->len - i;
        if (len && format == NATTEL_AUDIT_TEXT) {
            put_text(out, &rc, p, len);
        } else if (len) {
            put_raw(out, &rc, p, len);
            put_raw(out, &rc, "\n", 1);
        }
        i += len + 1;
    }
    return rc ? natx_fail(err, rc, "audit log: out of memory") : rc;
}

nattel_code nattel_audit_read(const nattel_options *o, size_t n,
                              nattel_audit_format format, nattel_buf *out,
                              nattel_error *err)
{
    nattel_code rc = nattel__state_dir_check(o->state_dir, err);
    if (rc == NATTEL_ENOTFOUND) {
        clear_error(err); /* nothing ever delivered: an empty log */
        return NATTEL_OK;
    }
    if (rc)
        return rc;
    nattel_buf raw = NATTEL_BUF_INIT;
    rc = nattel__audit_tail(o->state_dir, n, &raw, err);
    if (!rc)
        rc = format_lines(&raw, format, out, err);
    nattel_buf_free(&raw);
    return rc;
}
