/*
 * Grouping spooled payloads into envelopes without knowing their event
 * types: payloads whose envelope members (all but sentTs and events) are
 * equal share one envelope; their events are copied as JSON, so a host's
 * own event types travel through a flusher that never registered them.
 */
#include "delivery/nattel_delivery.h"
#include "nattel_error.h"
#include "nattel_json.h"

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
    if (d->toks[0].type != JSMN_OBJECT)
        return nattel__fail(err, NATTEL_ESCHEMA,
                            "spool entry: not a JSON object");
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end; k = next_member(d, k))
        if (key_is(d, k, "events")) {
            if (d->toks[k + 1].type != JSMN_ARRAY || !d->toks[k + 1].size)
                return nattel__fail(err, NATTEL_ESCHEMA,
                                    "spool entry: events is not a non-empty "
                                    "array");
            return NATTEL_OK;
        }
    return nattel__fail(err, NATTEL_ESCHEMA, "spool entry: no events");
}

nattel_code nattel__envelope_key(const char *json, size_t len, nattel_buf *key,
                                 nattel_error *err)
{
    nattel__jdoc d;
    nattel_code rc = parse_envelope(&d, json, len, err);
    unsigned end = rc ? 0 : (unsigned)NATTEL__JNEXT(&d.toks[0]);
    for (unsigned k = 1; !rc && k < end; k = next_member(&d, k)) {
        if (key_is(&d, k, "sentTs") || key_is(&d, k, "events"))
            continue;
        if (nattel__json_put_token(key, &d, k) ||
            nattel_buf_append(key, ":", 1) ||
            nattel__json_put_token(key, &d, k + 1) ||
            nattel_buf_append(key, ",", 1))
            rc = nattel__fail(err, NATTEL_ENOMEM,
                              "envelope key: out of "
                              "memory");
    }
    nattel__json_release(&d);
    return rc;
}

/* Appends each event of the document's events array, comma separated. */
static nattel_code put_events(nattel_buf *out, const nattel__jdoc *d,
                              int *first, size_t *events)
{
    unsigned end = (unsigned)NATTEL__JNEXT(&d->toks[0]);
    for (unsigned k = 1; k < end; k = next_member(d, k)) {
        if (!key_is(d, k, "events"))
            continue;
        unsigned arr = k + 1;
        unsigned aend = (unsigned)NATTEL__JNEXT(&d->toks[arr]);
        for (unsigned e = arr + 1; e < aend;
             e = (unsigned)NATTEL__JNEXT(&d->toks[e])) {
            if ((!*first && nattel_buf_append(out, ",", 1)) ||
                nattel__json_put_token(out, d, e))
                return NATTEL_ENOMEM;
            *first = 0;
            ++*events;
        }
    }
    return NATTEL_OK;
}

static nattel_code put_all_events(nattel_buf *out, const char *const *jsons,
                                  const size_t *lens, size_t n, size_t *events,
                                  nattel_error *err)
{
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        nattel__jdoc d;
        nattel_code rc = parse_envelope(&d, jsons[i], lens[i], err);
        if (!rc && put_events(out, &d, &first, events))
            rc = nattel__fail(err, NATTEL_ENOMEM, "envelope: out of memory");
        nattel__json_release(&d);
        if (rc)
            return rc;
    }
    return NATTEL_OK;
}

nattel_code nattel__envelope_merge(const char *const *jsons, const size_t *lens,
                                   size_t n, int64_t sent_ms, nattel_buf *out,
                                   size_t *events, nattel_error *err)
{
    *events = 0;
    if (!n)
        return nattel__fail(err, NATTEL_EINVAL, "envelope: no payloads");
    nattel__jdoc d;
    nattel_code rc = parse_envelope(&d, jsons[0], lens[0], err);
    unsigned end = rc ? 0 : (unsigned)NATTEL__JNEXT(&d.toks[0]);
    int enomem = 0;
    if (!rc)
        enomem |= nattel_buf_append(out, "{", 1) != NATTEL_OK;
    for (unsigned k = 1; !rc && !enomem && k < end; k = next_member(&d, k)) {
        if (k > 1)
            enomem |= nattel_buf_append(out, ",", 1) != NATTEL_OK;
        enomem |= nattel__json_put_token(out, &d, k) != NATTEL_OK;
        enomem |= nattel_buf_append(out, ":", 1) != NATTEL_OK;
        if (key_is(&d, k, "sentTs")) {
            char ts[NATTEL_TS_LEN + 1];
            nattel_format_ts(sent_ms, ts);
            enomem |=
                nattel__json_put_string(out, ts, NATTEL_TS_LEN) != NATTEL_OK;
        } else if (key_is(&d, k, "events")) {
            enomem |= nattel_buf_append(out, "[", 1) != NATTEL_OK;
            if (!enomem)
                rc = put_all_events(out, jsons, lens, n, events, err);
            enomem |= nattel_buf_append(out, "]", 1) != NATTEL_OK;
        } else {
            enomem |= nattel__json_put_token(out, &d, k + 1) != NATTEL_OK;
        }
    }
    if (!rc)
        enomem |= nattel_buf_append(out, "}", 1) != NATTEL_OK;
    nattel__json_release(&d);
    if (!rc && enomem)
        rc = nattel__fail(err, NATTEL_ENOMEM, "envelope: out of memory");
    return rc;
}
