#ifndef SERVE_STORE_H
#define SERVE_STORE_H

/*
 * The SQLite store of `nattel serve`: every accepted event with its
 * envelope's metadata, its parameters as canonical JSON, and its fields as
 * typed columns in a table of its event type, as the registry describes
 * the type (a column per field, named by its C name; TEXT for strings,
 * enums and string arrays (as JSON), INTEGER for integers and booleans,
 * REAL for numbers; NOT NULL unless the field may be absent).
 *
 * One connection, shared by the server's threads: a mutex serialises the
 * writers, so each envelope is one transaction and concurrent requests
 * neither interleave nor retry. Other processes (`nattel report`) read
 * alongside in WAL mode; a busy timeout covers their brief locks.
 *
 * Tables (schema version SERVE_STORE_SCHEMA_VERSION, kept in
 * PRAGMA user_version; a version-1 database is brought forward when
 * opened writable):
 *   envelopes(id, session_id, client_ver, schema_ver, cpu_architecture,
 *             sent_ts, received_ts, event_count, body_hash UNIQUE)
 *   events(id, envelope_id, seq, session_id, client_ver, name, schema_ver,
 *          ts, received_ts, parameters, event_uid UNIQUE)
 *   <event type>(event_id, <field>...), e.g. nat_cli_command(event_id,
 *                   nemo_source, command, subcommand, task_status,
 *                   duration_ms, exit_code, error_class, python_version)
 */

#include <nattel/nattel.h>

#include <stdint.h>

#define SERVE_STORE_SCHEMA_VERSION 2
/* The oldest layout a read-only open (a report) reads as it is. */
#define SERVE_STORE_MIN_READ_VERSION 1
/* An event ID: 1 to this many characters of [A-Za-z0-9._-]. */
#define SERVE_STORE_ID_MAX 64
/* The request header that carries one ID per event. */
#define SERVE_STORE_IDS_HEADER "Nattel-Event-Ids"

typedef struct serve_store serve_store;

/* Opens (read_only: 0 creating the file and the tables when missing, with
 * the typed tables of the built-in event types) the database at `path`.
 * NATTEL_EIO names the file and SQLite's reason; NATTEL_EINVAL a database of
 * another schema version or none. */
nattel_code serve_store_open(const char *path, int read_only, serve_store **out,
                             nattel_error *err);

/* Finalises the statements and closes the connection (which checkpoints
 * the WAL). Accepts NULL. */
void serve_store_close(serve_store *st);

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

/* Stores the events of `d->env` that are new in one transaction; an
 * envelope whose body hash is stored, and events whose ID is, are not
 * stored again (enforced by UNIQUE keys). `*stored` (may be NULL) gets
 * how many events were written. NATTEL_EINVAL when the ID count differs
 * from the event count or the store is read-only; NATTEL_EIO from the
 * database (disk full, busy). Safe to call from many threads. */
nattel_code serve_store_put(serve_store *st, const serve_store_delivery *d,
                            size_t *stored, nattel_error *err);

/* Number of stored events. */
nattel_code serve_store_event_count(serve_store *st, int64_t *out,
                                    nattel_error *err);

/* Adds (when missing) the typed table of every event type of `reg`, so
 * that events of types loaded at run time get theirs. Writable stores. */
nattel_code serve_store_add_types(serve_store *st, const nattel_registry *reg,
                                  nattel_error *err);

/* Runs SQL that returns nothing (e.g. an index a reader wants). Writable
 * stores. */
nattel_code serve_store_exec(serve_store *st, const char *sql,
                             nattel_error *err);

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

/* Runs the n queries in one read transaction (one snapshot), handing each
 * row to its on_row with `ctx`. */
nattel_code serve_store_select(serve_store *st, const serve_store_query *q,
                               size_t n, void *ctx, nattel_error *err);

#endif
