/*
 * Grouping spooled payloads into envelopes without knowing their event
 * types: payloads whose envelope members (all but sentTs and events) are
 * equal share one envelope; their events are copied as JSON, so a host's
 * own event types travel through a flusher that never registered them.
 */
#include "delivery/nattel_batch.h"
#include "model/nattel_error.h"
#include "json/nattel_json.h"
#include "natx/natx_jsonw.h"

#include <string.h>

static int key_is(const nattel__jdoc *d, unsigned k, const char *name)
{
    return nattel__json_string_eq(d, k, name, strlen(name));
}

static unsigned next_member(const nattel__jdoc *d, unsigned k)
{
    return (unsigned)NATTEL__JNEXT(&d->toks[k + 1]);
}

static nattel_code parse_envelope(nattel__jdoc *d, const char *json, size_t len,
                                  nattel_error *err)
{
    nattel_code rc = nattel__json_parse(d, json, len, err);
    if (rc)
        return rc;
    if (d->toks[0].type != NATTEL__JOBJECT)
        return natx_fail(err, NATTEL_ESCHEMA, "spool entry: not a JSON object");
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end; k = next_member(d, k))
        if (key_is(d, k, "events")) {
            if (d->toks[k + 1].type != NATTEL__JARRAY ||
                !d->toks[k + 1].members)
                return natx_fail(err, NATTEL_ESCHEMA,
                                 "spool entry: events is not a non-empty "
                                 "array");
            return NATTEL_OK;
        }
    return natx_fail(err, NATTEL_ESCHEMA, "spool entry: no events");
}

nattel_code nattel__envelope_key(const char *json, size_t len, nattel_buf *key,
                                 size_t *events, nattel_error *err)
{
    nattel__jdoc d;
    nattel_code rc = parse_envelope(&d, json, len, err);
    unsigned end = rc ? 0 : (unsigned)NATTEL__JNEXT(&d.toks[0]);
    if (events)
        *events = 0;
    for (unsigned k = 1; !rc && k < end; k = next_member(&d, k)) {
        if (key_is(&d, k, "events") && events)
            *events += (size_t)d.toks[k + 1].members;
        if (key_is(&d, k, "sentTs") || key_is(&d, k, "events"))
            continue;
        /* "key":value compactly, from the key's quote to the value's
         * end (a string value's closing quote included). */
        const nattel__jtok *v = &d.toks[k + 1];
        size_t from = (size_t)d.toks[k].start - 1;
        size_t to = (size_t)v->end + (v->type == NATTEL__JSTRING);
        if (nattel__json_compact(key, json + from, to - from, NULL) ||
            nattel_buf_append(key, ",", 1))
            rc = natx_fail(err, NATTEL_ENOMEM, "envelope key: out of memory");
    }
    nattel__json_release(&d);
    return rc;
}

/* A member's value copied from a document (re-encoded compactly). */
static void put_value(natx_jsonw *w, const nattel__jdoc *d, unsigned t)
{
    nattel_buf *out = natx_jsonw_value_out(w);
    if (out && nattel__json_put_token(out, d, t))
        natx_jsonw_fail(w, NATTEL_ENOMEM, "out of memory");
}

/* Each event of the document's events array, as array elements. */
static void put_events(natx_jsonw *w, const nattel__jdoc *d, size_t *events)
{
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end; k = next_member(d, k)) {
        if (!key_is(d, k, "events"))
            continue;
        unsigned arr = k + 1;
        unsigned aend = (unsigned)NATTEL__JNEXT(&d->toks[arr]);
        for (unsigned e = arr + 1; e < aend;
             e = (unsigned)NATTEL__JNEXT(&d->toks[e])) {
            put_value(w, d, e);
            ++*events;
        }
    }
}

static nattel_code put_all_events(natx_jsonw *w, const char *const *jsons,
                                  const size_t *lens, size_t n, size_t *events,
                                  nattel_error *err)
{
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < n; i++) {
        nattel__jdoc d;
        nattel_code rc = parse_envelope(&d, jsons[i], lens[i], err);
        if (!rc)
            put_events(w, &d, events);
        nattel__json_release(&d);
        if (rc)
            return rc;
    }
    natx_jsonw_end_array(w);
    return NATTEL_OK;
}

/* The merge through token trees: every payload parsed and verified again.
 * The reference the fast merge below must match byte for byte, and its
 * fallback for what it does not take (see skim_payload). */
nattel_code nattel__envelope_merge_tree(const char *const *jsons,
                                        const size_t *lens, size_t n,
                                        int64_t sent_ms, nattel_buf *out,
                                        size_t *events, nattel_error *err)
{
    *events = 0;
    if (!n)
        return natx_fail(err, NATTEL_EINVAL, "envelope: no payloads");
    nattel__jdoc d;
    nattel_code rc = parse_envelope(&d, jsons[0], lens[0], err);
    unsigned end = rc ? 0 : (unsigned)NATTEL__JNEXT(&d.toks[0]);
    size_t start = out->len;
    natx_jsonw w;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_object(&w);
    for (unsigned k = 1; !rc && k < end; k = next_member(&d, k)) {
        nattel_str key = nattel__json_raw(&d, k);
        natx_jsonw_key_raw(&w, key.ptr, key.len);
        if (key_is(&d, k, "sentTs")) {
            char ts[NATTEL_TS_LEN + 1];
            nattel_format_ts(sent_ms, ts);
            natx_jsonw_string(&w, ts, NATTEL_TS_LEN);
        } else if (key_is(&d, k, "events")) {
            rc = put_all_events(&w, jsons, lens, n, events, err);
        } else {
            put_value(&w, &d, k + 1);
        }
    }
    natx_jsonw_end_object(&w);
    nattel__json_release(&d);
    if (!rc) {
        rc = natx_jsonw_finish(&w, err);
        if (rc)
            nattel__prefix(err, "envelope");
    }
    if (rc) { /* nothing half written */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

/* Envelopes have 30 members; a payload with more goes the tree's way. */
#define NATTEL__ENVELOPE_SKIM_MEMBERS 64

/* A payload's top-level members as the skim found them, and which of them
 * are sentTs and events. */
typedef struct skimmed {
    nattel__jmember m[NATTEL__ENVELOPE_SKIM_MEMBERS];
    long n;
    long sent, events;
} skimmed;

static int raw_key_is(const char *json, const nattel__jmember *m,
                      const char *name, size_t len)
{
    return m->key_len == len && !memcmp(json + m->key, name, len);
}

/* Skims one payload. 0 when the fast merge can take it: an object whose
 * keys hold no escapes (so that raw comparison means what the tree's
 * decoded comparison means), with exactly one events member, a non-empty
 * array. Otherwise -1, and the merge goes the tree's way, which reports
 * the errors. */
static int skim_payload(const char *json, size_t len, skimmed *s)
{
    s->n = nattel__json_skim_object(json, len, s->m,
                                    NATTEL__ENVELOPE_SKIM_MEMBERS);
    s->sent = s->events = -1;
    for (long j = 0; j < s->n; j++) {
        const nattel__jmember *m = &s->m[j];
        if (memchr(json + m->key, '\\', m->key_len))
            return -1;
        if (raw_key_is(json, m, "events", 6)) {
            if (s->events >= 0)
                return -1;
            s->events = j;
        } else if (raw_key_is(json, m, "sentTs", 6)) {
            if (s->sent >= 0)
                return -1;
            s->sent = j;
        }
    }
    if (s->events < 0)
        return -1;
    const nattel__jmember *ev = &s->m[s->events];
    const char *a = json + ev->val;
    size_t first = 1;
    while (first < ev->val_len && (a[first] == ' ' || a[first] == '\t' ||
                                   a[first] == '\r' || a[first] == '\n'))
        first++;
    return a[0] == '[' && first < ev->val_len - 1 ? 0 : -1;
}

/* The content of every payload's events array, joined: raw bytes with the
 * whitespace outside strings dropped, no tree. */
static nattel_code splice_events(const char *const *jsons, const size_t *lens,
                                 size_t n, const skimmed *first,
                                 nattel_buf *out, size_t *events, int *slow)
{
    skimmed one;
    for (size_t i = 0; i < n; i++) {
        const skimmed *s = i ? &one : first;
        if (i && skim_payload(jsons[i], lens[i], &one)) {
            *slow = 1;
            return NATTEL_OK;
        }
        const nattel__jmember *ev = &s->m[s->events];
        size_t commas;
        if ((i && nattel_buf_append(out, ",", 1)) ||
            nattel__json_compact(out, jsons[i] + ev->val + 1, ev->val_len - 2,
                                 &commas))
            return NATTEL_ENOMEM;
        *events += commas + 1;
    }
    return NATTEL_OK;
}

/* One member of the merged envelope: sentTs new, events spliced, every
 * other member as the first payload has it. */
static nattel_code put_member(const char *const *jsons, const size_t *lens,
                              size_t n, const skimmed *s, long j,
                              const char *ts, nattel_buf *out, size_t *events,
                              int *slow)
{
    const nattel__jmember *m = &s->m[j];
    nattel_code rc = NATTEL_OK;
    if (j == s->sent || j == s->events) {
        rc = nattel_buf_append(out, "\"", 1);
        if (!rc)
            rc = nattel_buf_append(out, jsons[0] + m->key, m->key_len);
        if (!rc)
            rc = nattel_buf_append(out, j == s->sent ? "\":\"" : "\":[", 3);
        if (!rc && j == s->sent)
            rc = nattel_buf_append(out, ts, NATTEL_TS_LEN);
        if (!rc && j == s->events)
            rc = splice_events(jsons, lens, n, s, out, events, slow);
        if (!rc)
            rc = nattel_buf_append(out, j == s->sent ? "\"" : "]", 1);
        return rc;
    }
    size_t from = m->key - 1;
    return nattel__json_compact(out, jsons[0] + from,
                                m->val + m->val_len - from, NULL);
}

nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
                                   size_t *events, nattel_error *err)
{
    *events = 0;
    if (!n)
        return natx_fail(err, NATTEL_EINVAL, "envelope: no payloads");
    skimmed s;
    if (skim_payload(jsons[0], lens[0], &s))
        return nattel__envelope_merge_tree(jsons, lens, n, sent_ms, out, events,
                                           err);
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(sent_ms, ts);
    size_t start = out->len;
    int slow = 0;
    nattel_code rc = nattel_buf_append(out, "{", 1);
    for (long j = 0; !rc && !slow && j < s.n; j++) {
        if (j)
            rc = nattel_buf_append(out, ",", 1);
        if (!rc)
            rc = put_member(jsons, lens, n, &s, j, ts, out, events, &slow);
    }
    if (!rc && !slow)
        rc = nattel_buf_append(out, "}", 1);
    if (rc || slow) { /* nothing half written */
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        *events = 0;
    }
    if (slow)
        return nattel__envelope_merge_tree(jsons, lens, n, sent_ms, out, events,
                                           err);
    return rc ? natx_fail(err, rc, "envelope: out of memory") : NATTEL_OK;
}
