/* The store's front: the backend a --db names, and the checks every
 * backend would repeat. */
#include "serve/serve_store.h"
#include "serve/serve_store_pg.h"
#include "serve/serve_store_sqlite.h"

#include "natx/natx_error.h"

#include <stdlib.h>

nattel_code serve_store_open(const char *db, int read_only, serve_store **out,
                             nattel_error *err)
{
    nattel_code code = serve_store_is_pg(db)
                           ? serve_store_pg_open(db, read_only, out, err)
                           : serve_store_sqlite_open(db, read_only, out, err);
    if (!code)
        (*out)->read_only = read_only;
    return code;
}

void serve_store_close(serve_store *st)
{
    if (st)
        st->ops->close(st);
}

nattel_code serve_store_put(serve_store *st, const serve_store_delivery *d,
                            size_t *stored, nattel_error *err)
{
    size_t count = 0;
    if (stored)
        *stored = 0;
    if (st->read_only)
        return natx_fail(err, NATTEL_EINVAL, "the database is open read-only");
    if (d->ids && d->ids->count != nattel_envelope_count(d->env))
        return natx_fail(err, NATTEL_EINVAL, "%s holds %zu IDs for %zu events",
                         SERVE_STORE_IDS_HEADER, d->ids->count,
                         nattel_envelope_count(d->env));
    char received[NATTEL_TS_LEN + 1];
    nattel_format_ts(d->received_ms, received);
    nattel_code code = st->ops->put(st, d, received, &count, err);
    if (stored)
        *stored = code ? 0 : count;
    return code;
}

nattel_code serve_store_event_count(serve_store *st, int64_t *out,
                                    nattel_error *err)
{
    *out = 0;
    return st->ops->event_count(st, out, err);
}

nattel_code serve_store_add_types(serve_store *st, const nattel_registry *reg,
                                  nattel_error *err)
{
    if (st->read_only)
        return natx_fail(err, NATTEL_EINVAL, "the database is open read-only");
    return st->ops->add_types(st, reg, err);
}

nattel_code serve_store_exec(serve_store *st, const char *sql,
                             nattel_error *err)
{
    if (st->read_only)
        return natx_fail(err, NATTEL_EINVAL, "the database is open read-only");
    return st->ops->exec(st, sql, err);
}

int serve_store_layout(const serve_store *st)
{
    return st->layout;
}

nattel_code serve_store_select(serve_store *st, const serve_store_query *q,
                               size_t n, void *ctx, nattel_error *err)
{
    return st->ops->select(st, q, n, ctx, err);
}
