#ifndef SERVE_STORE_COMMON_H
#define SERVE_STORE_COMMON_H

/* What the store's front (serve_store.h) and its backends share: the
 * constants, the delivery and query types, the exactly-once keys (IDs
 * and body hash), the masking of a URI's password, a row's columns.
 * Every function here is thread-safe. */

#include <nattel/nattel.h>

#include <stdint.h>

#define SERVE_STORE_SCHEMA_VERSION 3
/* The oldest layout a read-only open (a report) reads as it is. */
#define SERVE_STORE_MIN_READ_VERSION 1
/* An event ID: 1 to this many characters of [A-Za-z0-9._-]. */
#define SERVE_STORE_ID_MAX 64
/* The request header that carries one ID per event. */
#define SERVE_STORE_IDS_HEADER "Nattel-Event-Ids"

/* Connections a PostgreSQL store keeps: one per thread of the server. */
#define SERVE_STORE_CONNECTIONS 4u

typedef struct serve_store serve_store;

/* 1 when `db` (not NULL) names a PostgreSQL database (a postgresql:// or
 * postgres:// URI; the PG* variables fill in what it leaves out, as libpq
 * reads them), 0 for a SQLite file. */
int serve_store_is_pg(const char *db);

/* `db` (not NULL) as it may be shown: the password of a URI, in its
 * userinfo or its query, replaced by ***; cut to fit `size` bytes with
 * its NUL. Thread-safe. */
void serve_store_mask(const char *db, char *out, size_t size);

/* The IDs of a Nattel-Event-Ids header, "ID[,ID...]", split. */
typedef struct serve_store_ids {
    char *text;   /* the header's copy, cut at the commas */
    char **items; /* into text */
    size_t count;
} serve_store_ids;

/* Splits `header` (not NULL) into `out` (initialised here; release with
 * serve_store_ids_free, also after a failure). NATTEL_EINVAL names the
 * header and the first bad ID; NATTEL_ENOMEM. Thread-safe. */
nattel_code serve_store_ids_parse(const char *header, serve_store_ids *out,
                                  nattel_error *err);
/* Accepts NULL and a zeroed struct. */
void serve_store_ids_free(serve_store_ids *ids);

/* What one delivery holds, borrowed for the call. */
typedef struct serve_store_delivery {
    const nattel_envelope *env; /* decoded and valid */
    const char *body;           /* the request body as received: an */
    size_t len;                 /* unchanged resend is stored once;
                                   NULL: no body to compare */
    const serve_store_ids *ids; /* NULL, or one per event of env: an
                                   event whose ID is stored is skipped */
    int64_t received_ms;        /* Unix milliseconds */
} serve_store_delivery;

/* The 128-bit hash of `len` bytes as 32 hex digits and a NUL in `out`
 * (two independent 64-bit lanes; not cryptographic). */
void serve_store_body_hash(const char *body, size_t len, char out[33]);

/* One result row, valid during the on_row call. */
typedef struct serve_store_row serve_store_row;

/* Column `col` as text, whole (its length counts NULs within); "" for
 * NULL. */
const char *serve_store_row_text(const serve_store_row *row, int col,
                                 size_t *len);
/* Column `col` as an integer; `if_null` when it is NULL. */
int64_t serve_store_row_int(const serve_store_row *row, int col,
                            int64_t if_null);

typedef struct serve_store_query {
    const char *sql;
    /* Called per row; a code other than NATTEL_OK stops and is returned. */
    nattel_code (*on_row)(void *ctx, const serve_store_row *row,
                          nattel_error *err);
} serve_store_query;

/* ------------------------------------------------------------------ */
/* For the backends (serve_store_sqlite.c, serve_store_pg.c) and the     */
/* front (serve_store.c) only; other modules use serve_store.h.          */
/* ------------------------------------------------------------------ */

typedef struct serve_store_ops {
    void (*close)(serve_store *st);
    /* d is checked (the ID count matches); received is the timestamp. */
    nattel_code (*put)(serve_store *st, const serve_store_delivery *d,
                       const char *received, size_t *stored, nattel_error *err);
    nattel_code (*event_count)(serve_store *st, int64_t *out,
                               nattel_error *err);
    nattel_code (*add_types)(serve_store *st, const nattel_registry *reg,
                             nattel_error *err);
    nattel_code (*exec)(serve_store *st, const char *sql, nattel_error *err);
    nattel_code (*select)(serve_store *st, const serve_store_query *q, size_t n,
                          void *ctx, nattel_error *err);
    const char *(*row_text)(const serve_store_row *row, int col, size_t *len);
    int (*row_is_null)(const serve_store_row *row, int col);
} serve_store_ops;

/* The first member of every backend's store. */
struct serve_store {
    const serve_store_ops *ops;
    int read_only;
};

/* A row as a backend hands it to on_row. */
struct serve_store_row {
    const serve_store_ops *ops;
    void *result; /* sqlite3_stmt, or PGresult */
    int index;    /* the row within a PGresult */
};

/* A field's column: its C (snake_case) name, or its wire name when the
 * two are the same (then the registry keeps no C name). */
const char *serve_store_column_name(const nattel_field *f);

/* A field every stored event has a value for: required on the wire, or
 * with a default. */
int serve_store_always_set(const nattel_field *f);

/* The value of `ev` stored in column `name` (its default when absent and
 * it has one), NULL when none; *field gets its field. */
const nattel_value *serve_store_column_value(const nattel_event *ev,
                                             const char *name,
                                             const nattel_field **field);

/* A string array as JSON text, e.g. ["a","b"], appended to b. */
nattel_code serve_store_array_json(const nattel_str_array *a, nattel_buf *b);

/* An SQL identifier, quoted, whatever the name holds. */
void serve_store_put_ident(nattel_buf *b, const char *name, nattel_code *code);

#endif
