/* What the store's front and its backends share: the exactly-once keys,
 * the masking of a URI's password, a row's columns, the typed tables'
 * description. */
#include "serve/serve_store_common.h"

#include "natx/natx_error.h"
#include "natx/natx_jsonw.h"
#include "natx/natx_mem.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Exactly once: body hash and event IDs                               */
/* ------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t load64(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* Two lanes, each a full-avalanche mix of every 8-byte word under its
 * own constants, chained so that order counts; the length closes both.
 * Against accidental collisions only: see docs/serve.md. */
void serve_store_body_hash(const char *body, size_t len, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(body ? body : "");
    uint64_t a = 0x243f6a8885a308d3ULL, b = 0x13198a2e03707344ULL;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = load64(p + i, len - i < 8 ? len - i : 8);
        a = rotl64(a ^ mix64(w + 0xa4093822299f31d0ULL), 27) *
            0x9e3779b97f4a7c15ULL;
        b = rotl64(b + mix64(w ^ 0x082efa98ec4e6c89ULL), 31) *
                0xc2b2ae3d27d4eb4fULL +
            0x165667b19e3779f9ULL;
    }
    uint64_t h[2] = {mix64(a ^ (uint64_t)len), mix64(b + rotl64(len, 17))};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 16; i++)
            out[k * 16 + i] = hex[(h[k] >> (60 - 4 * i)) & 15];
    out[32] = '\0';
}

static int id_char(int c)
{
    return isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* Checks one ID in place, surrounding blanks already cut. */
static nattel_code check_id(const char *id, size_t index, nattel_error *err)
{
    size_t n = strlen(id);
    if (n == 0 || n > SERVE_STORE_ID_MAX)
        return natx_fail(err, NATTEL_EINVAL,
                         "%s: ID %zu has %zu characters; 1 to %d are allowed",
                         SERVE_STORE_IDS_HEADER, index + 1, n,
                         SERVE_STORE_ID_MAX);
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)id[i]))
            return natx_fail(err, NATTEL_EINVAL,
                             "%s: ID %zu holds a character outside "
                             "[A-Za-z0-9._-]",
                             SERVE_STORE_IDS_HEADER, index + 1);
    return NATTEL_OK;
}

/* Cuts blanks (optional whitespace around list items, RFC 9110). */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

nattel_code serve_store_ids_parse(const char *header, serve_store_ids *out,
                                  nattel_error *err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 1;
    for (const char *p = header; *p; p++)
        cap += *p == ',';
    out->text = strdup(header);
    out->items = calloc(cap, sizeof *out->items);
    if (!out->text || !out->items)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    char *p = out->text;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        char *id = trim(p);
        nattel_code code = check_id(id, out->count, err);
        if (code)
            return code;
        out->items[out->count++] = id;
        if (!comma)
            return NATTEL_OK;
        p = comma + 1;
    }
}

void serve_store_ids_free(serve_store_ids *ids)
{
    if (!ids)
        return;
    free(ids->items);
    free(ids->text);
    memset(ids, 0, sizeof *ids);
}

/* ------------------------------------------------------------------ */
/* The backend a --db names                                            */
/* ------------------------------------------------------------------ */

int serve_store_is_pg(const char *db)
{
    return !strncmp(db, "postgresql://", 13) || !strncmp(db, "postgres://", 11);
}

/* Copies n bytes of s, stopping short of the end of out. */
static size_t put_part(char *out, size_t size, size_t at, const char *s,
                       size_t n)
{
    for (size_t i = 0; i < n && at + 1 < size; i++)
        out[at++] = s[i];
    out[at < size ? at : size - 1] = '\0';
    return at;
}

/* The URI with what follows "password=" in its query cut out. */
static size_t mask_query(char *out, size_t size, size_t at, const char *q)
{
    while (*q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) + 1 : strlen(q);
        if (!strncmp(q, "password=", 9))
            at = put_part(out, size, at, "password=***", 12);
        else
            at = put_part(out, size, at, q, n - (amp ? 1 : 0));
        if (amp)
            at = put_part(out, size, at, "&", 1);
        q += n;
    }
    return at;
}

void serve_store_mask(const char *db, char *out, size_t size)
{
    if (!size)
        return;
    out[0] = '\0';
    if (!serve_store_is_pg(db)) {
        put_part(out, size, 0, db, strlen(db));
        return;
    }
    const char *rest = strstr(db, "://") + 3;
    size_t at = put_part(out, size, 0, db, (size_t)(rest - db));
    /* user:password@host: the userinfo ends at the last '@' before the
     * path or query. */
    size_t auth_end = strcspn(rest, "/?");
    const char *at_sign = NULL;
    for (const char *p = rest; p < rest + auth_end; p++)
        if (*p == '@')
            at_sign = p;
    const char *colon =
        at_sign ? memchr(rest, ':', (size_t)(at_sign - rest)) : NULL;
    if (colon) {
        at = put_part(out, size, at, rest, (size_t)(colon - rest));
        at = put_part(out, size, at, ":***", 4);
        rest = at_sign;
    }
    const char *query = strchr(rest, '?');
    size_t before = query ? (size_t)(query - rest) + 1 : strlen(rest);
    at = put_part(out, size, at, rest, before);
    if (query)
        mask_query(out, size, at, query + 1);
}

const char *serve_store_row_text(const serve_store_row *row, int col,
                                 size_t *len)
{
    return row->ops->row_text(row, col, len);
}

int64_t serve_store_row_int(const serve_store_row *row, int col,
                            int64_t if_null)
{
    if (row->ops->row_is_null(row, col))
        return if_null;
    size_t len;
    return strtoll(row->ops->row_text(row, col, &len), NULL, 10);
}

/* ------------------------------------------------------------------ */
/* The typed tables' description, shared by the backends               */
/* ------------------------------------------------------------------ */

const char *serve_store_column_name(const nattel_field *f)
{
    return f->c_name ? f->c_name : f->wire_name;
}

int serve_store_always_set(const nattel_field *f)
{
    return !(f->flags & NATTEL_FIELD_WIRE_OPTIONAL) ||
           (f->flags & NATTEL_FIELD_HAS_DEFAULT);
}

const nattel_value *serve_store_column_value(const nattel_event *ev,
                                             const char *name,
                                             const nattel_field **field)
{
    const nattel_event_type *type = nattel_event_type_of(ev);
    for (size_t i = 0; i < type->field_count; i++) {
        const nattel_field *f = &type->fields[i];
        if (strcmp(serve_store_column_name(f), name))
            continue;
        *field = f;
        const nattel_value *v = nattel_event_value(ev, i);
        if (!v && (f->flags & NATTEL_FIELD_HAS_DEFAULT))
            v = &f->default_value;
        return v;
    }
    return NULL;
}

nattel_code serve_store_array_json(const nattel_str_array *a, nattel_buf *b)
{
    natx_jsonw w;
    natx_jsonw_init(&w, b);
    natx_jsonw_begin_array(&w);
    for (size_t i = 0; i < a->count; i++)
        natx_jsonw_string_lossy(&w, a->items[i].ptr, a->items[i].len);
    natx_jsonw_end_array(&w);
    return natx_jsonw_finish(&w, NULL) ? NATTEL_ENOMEM : NATTEL_OK;
}

void serve_store_put_ident(nattel_buf *b, const char *name, nattel_code *code)
{
    if (!*code)
        *code = NATX_PUT_LIT(b, "\"");
    for (const char *p = name; !*code && *p; p++)
        *code =
            *p == '"' ? NATX_PUT_LIT(b, "\"\"") : nattel_buf_append(b, p, 1);
    if (!*code)
        *code = NATX_PUT_LIT(b, "\"");
}

nattel_code serve_store_query_sql(const serve_store_query *q, void *ctx,
                                  const char **sql, nattel_error *err)
{
    *sql = q->sql;
    return q->make_sql ? q->make_sql(ctx, sql, err) : NATTEL_OK;
}
