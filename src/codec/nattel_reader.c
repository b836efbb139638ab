/*
 * The reader: the fast path first, the token tree and the reporting path
 * for what it declines (nattel_reader.h); and on it, the public reader
 * (include/nattel/reader.h) and nattel_event_from_json /
 * nattel_envelope_from_json.
 */
#include "codec/nattel_reader.h"

#include "codec/nattel_decode.h"
#include "json/nattel_json.h"
#include "model/nattel_error.h"
#include "model/nattel_event.h"
#include "natx/natx_buf.h"

#include <nattel/reader.h>

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- */
/* One document: fast path, then reporting path                      */
/* ---------------------------------------------------------------- */

void nattel__reader_init(nattel__reader *r, const nattel_registry *reg)
{
    /* The fast path zeroes its own (large) state; the rest is a few
     * fields: one pass over the memory, not two, for every one-shot
     * decode. */
    nattel__fastpath_init(&r->fp, reg);
    r->path = 0;
    r->slow_ev = NULL;
    r->slow_env = NULL;
    r->fast = r->canon = r->tidy = 0;
}

static void clear_slow(nattel__reader *r)
{
    nattel_event_free(r->slow_ev);
    r->slow_ev = NULL;
    nattel_envelope_free(r->slow_env);
    r->slow_env = NULL;
}

void nattel__reader_release(nattel__reader *r)
{
    clear_slow(r);
    nattel__fastpath_release(&r->fp);
}

/* A parse failure as the document's one problem. */
static nattel_code parse_failed(nattel_code rc, const nattel_error *perr,
                                nattel_problems *problems)
{
    if (problems && nattel__problem(problems, "$", "%s", perr->message))
        return NATTEL_ENOMEM;
    return rc;
}

/* The fast path's answer; 1 when it took the document. */
static int try_fast(nattel__reader *r, nattel__doc_as as,
                    const nattel_event_type *type, nattel_mode mode,
                    const char *json, size_t len, int *is_env)
{
    nattel__fast_verdict v = {0, 0, 0};
    int ok = r->path != 1 &&
             nattel__fastpath_try(&r->fp, as, type, mode, json, len, &v);
    r->canon = ok && v.canon;
    r->tidy = ok && v.tidy;
    *is_env = v.is_env;
    return ok;
}

/* The reporting path's answer, into r->slow_ev or r->slow_env. */
static nattel_code decode_slow(nattel__reader *r, nattel__doc_as as,
                               const nattel_event_type *type, nattel_mode mode,
                               const char *json, size_t len, int want_ev,
                               int want_env, nattel_problems *problems)
{
    nattel__jdoc d;
    nattel_error perr;
    nattel_code rc = nattel__json_parse(&d, json, len, &perr);
    if (rc)
        rc = parse_failed(rc, &perr, problems);
    else if (as == NATTEL__AS_ENVELOPE ||
             (as == NATTEL__AS_LINE && nattel__json_root_has(&d, "events")))
        rc = nattel__decode_envelope(&d, r->fp.reg, mode,
                                     want_env ? &r->slow_env : NULL, problems);
    else
        rc = nattel__decode_event(&d, type, mode, want_ev ? &r->slow_ev : NULL,
                                  problems);
    nattel__json_release(&d);
    return rc;
}

static nattel_code decode(nattel__reader *r, nattel__doc_as as,
                          const nattel_event_type *type, nattel_mode mode,
                          const char *json, size_t len, const nattel_event **ev,
                          const nattel_envelope **env,
                          nattel_problems *problems)
{
    int is_env = 0;
    clear_slow(r);
    if (ev)
        *ev = NULL;
    if (env)
        *env = NULL;
    r->fast = try_fast(r, as, type, mode, json, len, &is_env);
    if (r->fast) {
        if (is_env && env)
            *env = r->fp.env;
        else if (!is_env && ev)
            *ev = r->fp.pool[0];
        return NATTEL_OK;
    }
    if (r->path == 2)
        return NATTEL_EINVAL;
    nattel_code rc = decode_slow(r, as, type, mode, json, len, ev != NULL,
                                 env != NULL, problems);
    if (!rc && env)
        *env = r->slow_env;
    if (!rc && ev)
        *ev = r->slow_ev;
    return rc;
}

nattel_code nattel__reader_event(nattel__reader *r,
                                 const nattel_event_type *type,
                                 nattel_mode mode, const char *json, size_t len,
                                 const nattel_event **out,
                                 nattel_problems *problems)
{
    return decode(r, NATTEL__AS_EVENT, type, mode, json, len, out, NULL,
                  problems);
}

nattel_code nattel__reader_envelope(nattel__reader *r, nattel_mode mode,
                                    const char *json, size_t len,
                                    const nattel_envelope **out,
                                    nattel_problems *problems)
{
    return decode(r, NATTEL__AS_ENVELOPE, NULL, mode, json, len, NULL, out,
                  problems);
}

nattel_code nattel__reader_line(nattel__reader *r,
                                const nattel_event_type *type, nattel_mode mode,
                                const char *json, size_t len,
                                const nattel_event **ev,
                                const nattel_envelope **env,
                                nattel_problems *problems)
{
    return decode(r, NATTEL__AS_LINE, type, mode, json, len, ev, env, problems);
}

nattel_event *nattel__reader_take_event(nattel__reader *r)
{
    if (r->fast)
        return nattel__fastpath_take_event(&r->fp);
    nattel_event *ev = r->slow_ev;
    r->slow_ev = NULL;
    return ev;
}

nattel_envelope *nattel__reader_take_envelope(nattel__reader *r)
{
    if (r->fast)
        return nattel__fastpath_take_envelope(&r->fp);
    nattel_envelope *env = r->slow_env;
    r->slow_env = NULL;
    return env;
}

/* ---------------------------------------------------------------- */
/* One-shot decoding (nattel.h)                                      */
/* ---------------------------------------------------------------- */

nattel_code nattel_event_from_json(const nattel_event_type *type,
                                   const char *json, size_t len,
                                   nattel_mode mode, nattel_event **out,
                                   nattel_problems *problems)
{
    nattel__reader r;
    const nattel_event *ev = NULL;
    nattel_event *mine = NULL;
    if (out && type && json) {
        /* The usual document straight into a new event; any other goes
         * the reader's way, filling the same event. */
        mine = nattel__event_new_bare(type);
        if (mine && nattel__fastpath_straight(type, json, len, mine)) {
            *out = mine;
            return NATTEL_OK;
        }
    }
    nattel__reader_init(&r, NULL);
    r.fp.one_shot = 1;
    if (mine) { /* the fast path's one pooled event, as in _into */
        r.fp.pool_one[0] = mine;
        r.fp.pool = r.fp.pool_one;
        r.fp.pool_cap = 1;
    }
    nattel_code rc = nattel__reader_event(&r, type, mode, json, len,
                                          out ? &ev : NULL, problems);
    if (!rc && out) {
        *out = nattel__reader_take_event(&r);
        if (!*out)
            rc = NATTEL_ENOMEM;
    }
    nattel__reader_release(&r);
    return rc;
}

nattel_code nattel_event_from_json_into(nattel_event *ev, const char *json,
                                        size_t len, nattel_mode mode,
                                        nattel_problems *problems)
{
    if (!ev || !json)
        return NATTEL_EINVAL;
    nattel__event_recycle(ev);
    if (nattel__fastpath_straight(ev->type, json, len, ev))
        return NATTEL_OK; /* the usual document, nothing set up */
    nattel__reader r;
    const nattel_event *got = NULL;
    nattel__reader_init(&r, NULL);
    r.fp.one_shot = 1;
    /* The caller's event is the fast path's one pooled event: the fast
     * path refills it in place (nattel__fastpath_release never sees it). */
    r.fp.pool_one[0] = ev;
    r.fp.pool = r.fp.pool_one;
    r.fp.pool_cap = 1;
    nattel_code rc =
        nattel__reader_event(&r, ev->type, mode, json, len, &got, problems);
    r.fp.pool_one[0] = NULL;
    if (!rc && got != ev) /* the reporting path's own event: copied */
        rc = nattel__event_copy(ev, got);
    if (rc)
        nattel__event_reset(ev);
    nattel__reader_release(&r);
    return rc;
}

nattel_code nattel_envelope_from_json(const nattel_registry *reg,
                                      const char *json, size_t len,
                                      nattel_mode mode, nattel_envelope **out,
                                      nattel_problems *problems)
{
    nattel__reader r;
    const nattel_envelope *env = NULL;
    nattel__reader_init(&r, reg);
    r.fp.one_shot = 1;
    nattel_code rc = nattel__reader_envelope(&r, mode, json, len,
                                             out ? &env : NULL, problems);
    if (!rc && out) {
        *out = nattel__reader_take_envelope(&r);
        if (!*out)
            rc = NATTEL_ENOMEM;
    }
    nattel__reader_release(&r);
    return rc;
}

/* ---------------------------------------------------------------- */
/* The public reader (include/nattel/reader.h)                       */
/* ---------------------------------------------------------------- */

struct nattel_reader {
    nattel__reader in;
    const char *json; /* the last document, for the canonical copy */
    size_t len;
    nattel_doc_kind kind;
    const nattel_event *ev;
    const nattel_envelope *env;
};

nattel_reader *nattel_reader_new(const nattel_registry *reg)
{
    nattel_reader *r = calloc(1, sizeof *r);
    if (r)
        nattel__reader_init(&r->in, reg);
    return r;
}

void nattel_reader_free(nattel_reader *r)
{
    if (!r)
        return;
    nattel__reader_release(&r->in);
    free(r);
}

static void forget(nattel_reader *r)
{
    r->kind = NATTEL_DOC_NONE;
    r->ev = NULL;
    r->env = NULL;
    r->json = NULL;
    r->len = 0;
}

nattel_code nattel_reader_read(nattel_reader *r, const nattel_event_type *type,
                               nattel_mode mode, const char *json, size_t len,
                               nattel_doc_kind *kind, nattel_problems *problems)
{
    forget(r);
    nattel_code rc = type ? nattel__reader_line(&r->in, type, mode, json, len,
                                                &r->ev, &r->env, problems)
                          : nattel__reader_envelope(&r->in, mode, json, len,
                                                    &r->env, problems);
    if (!rc) {
        r->kind = r->env ? NATTEL_DOC_ENVELOPE : NATTEL_DOC_EVENT;
        r->json = json;
        r->len = len;
    } else {
        r->ev = NULL;
        r->env = NULL;
    }
    if (kind)
        *kind = r->kind;
    return rc;
}

const nattel_event *nattel_reader_event(const nattel_reader *r)
{
    return r->kind == NATTEL_DOC_EVENT ? r->ev : NULL;
}

const nattel_envelope *nattel_reader_envelope(const nattel_reader *r)
{
    return r->kind == NATTEL_DOC_ENVELOPE ? r->env : NULL;
}

nattel_event *nattel_reader_take_event(nattel_reader *r)
{
    if (r->kind != NATTEL_DOC_EVENT)
        return NULL;
    forget(r);
    return nattel__reader_take_event(&r->in);
}

nattel_envelope *nattel_reader_take_envelope(nattel_reader *r)
{
    if (r->kind != NATTEL_DOC_ENVELOPE)
        return NULL;
    forget(r);
    return nattel__reader_take_envelope(&r->in);
}

nattel_code nattel_reader_write_canonical(nattel_reader *r, nattel_buf *out,
                                          nattel_error *err)
{
    if (r->kind == NATTEL_DOC_NONE)
        return natx_fail(err, NATTEL_EINVAL, "no valid document read to write");
    if (r->in.canon) /* already canonical, as the reader found on its way */
        return nattel_buf_append(out, r->json, r->len)
                   ? natx_fail(err, NATTEL_ENOMEM, "out of memory")
                   : NATTEL_OK;
    if (r->in.tidy) { /* canonical but for whitespace */
        if (natx_buf_ensure(out, r->len + 1))
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
        out->len +=
            nattel__fastpath_tidy(r->json, r->len, out->data + out->len);
        out->data[out->len] = '\0';
        return NATTEL_OK;
    }
    return r->env ? nattel_envelope_write_json(r->env, -1, out, err)
                  : nattel_event_write_json(r->ev, out, err);
}

nattel_code nattel_reader_canonical(nattel_reader *r, nattel_buf *scratch,
                                    const char **text, size_t *len,
                                    nattel_error *err)
{
    *text = NULL;
    *len = 0;
    if (r->kind != NATTEL_DOC_NONE && r->in.canon) {
        *text = r->json;
        *len = r->len;
        return NATTEL_OK;
    }
    nattel_buf_reset(scratch);
    nattel_code rc = nattel_reader_write_canonical(r, scratch, err);
    if (!rc) {
        *text = scratch->data;
        *len = scratch->len;
    }
    return rc;
}
