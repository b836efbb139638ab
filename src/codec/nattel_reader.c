/* The public face of the single-pass reader (include/nattel/reader.h). */
#include "natx/natx_buf.h"
#include "model/nattel_error.h"
#include "codec/nattel_fastpath.h"

#include <nattel/reader.h>

#include <stdlib.h>

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
        out->len += nattel__reader_tidy(r->json, r->len, out->data + out->len);
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
