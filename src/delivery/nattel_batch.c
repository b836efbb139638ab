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
        if (nattel__json_put_token(key, &d, k) ||
            nattel_buf_append(key, ":", 1) ||
            nattel__json_put_token(key, &d, k + 1) ||
            nattel_buf_append(key, ",", 1))
            rc = natx_fail(err, NATTEL_ENOMEM,
                           "envelope key: out of "
                           "memory");
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

nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
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
