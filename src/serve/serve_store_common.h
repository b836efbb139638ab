#ifndef SERVE_STORE_COMMON_H
#define SERVE_STORE_COMMON_H

/* What the store's front (serve_store.h) and its backends share: the
 * constants, the delivery and query types, the exactly-once keys (IDs
 * and body hash), the masking of a URI's password, a row's columns.
 * Every function here is thread-safe. */

#include <nattel/nattel.h>

#include <stdint.h>

#define SERVE_STORE_SCHEMA_VERSION 4
/* The oldest layout a read-only open (a report) reads as it is: one
 * older than SERVE_STORE_SUMMARY_VERSION has no summary, and is read by
 * the whole-store queries. */
#define SERVE_STORE_MIN_READ_VERSION 1
/* The first layout with the per-hour summary (usage_types,
 * usage_commands, usage_clients), kept by the put path. */
#define SERVE_STORE_SUMMARY_VERSION 4
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
    /* NULL, or called (with ctx) just before the query runs, after the
     * rows of the queries before it, in the same snapshot: it sets *sql
     * to the SQL to run instead of `sql` (owned by ctx; NULL: run
     * nothing). For a query that depends on what the earlier ones read. */
    nattel_code (*make_sql)(void *ctx, const char **sql, nattel_error *err);
} serve_store_query;

/* The SQL `q` runs now (see make_sql): *sql NULL to run nothing. */
nattel_code serve_store_query_sql(const serve_store_query *q, void *ctx,
                                  const char **sql, nattel_error *err);

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
    int layout; /* the layout version as opened (read-only: as it is) */
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

/* ------------------------------------------------------------------ */
/* The per-hour summary (layout 4), the same SQL on both backends        */
/* ------------------------------------------------------------------ */

/* Its tables, keyed by the hour (the first 13 characters of an event's
 * time, YYYY-MM-DDTHH) and what the dashboard counts by, with a count n.
 * T: the text type, I: the integer type, TAIL: after each table (SQLite:
 * WITHOUT ROWID). Dropped first: a migration rebuilds them whole. */
#define SERVE_STORE_SUMMARY_DDL(T, I, TAIL)                                    \
    "DROP TABLE IF EXISTS usage_types;"                                        \
    "DROP TABLE IF EXISTS usage_commands;"                                     \
    "DROP TABLE IF EXISTS usage_clients;"                                      \
    "CREATE TABLE usage_types (hour " T " NOT NULL, name " T " NOT NULL,"      \
    " schema_ver " T " NOT NULL, n " I " NOT NULL,"                            \
    " PRIMARY KEY (hour, name, schema_ver))" TAIL ";"                          \
    "CREATE TABLE usage_commands (hour " T " NOT NULL,"                        \
    " command " T " NOT NULL, subcommand " T " NOT NULL,"                      \
    " task_status " T " NOT NULL, error_class " T " NOT NULL,"                 \
    " known " I " NOT NULL, n " I " NOT NULL,"                                 \
    " PRIMARY KEY (hour, command, subcommand, task_status, error_class,"       \
    " known))" TAIL ";"                                                        \
    "CREATE TABLE usage_clients (hour " T " NOT NULL,"                         \
    " command " T " NOT NULL, client_ver " T " NOT NULL,"                      \
    " cpu_architecture " T " NOT NULL, n " I " NOT NULL,"                      \
    " PRIMARY KEY (hour, command, client_ver, cpu_architecture))" TAIL ";"

/* The summary rows of the events WHERE selects (e: events; the put path:
 * one envelope's, "e.envelope_id = $1"; a migration: every stored one),
 * added to what the tables hold. Each statement adds one row per key,
 * in key order, so that concurrent writers (PostgreSQL) take the rows'
 * locks in one order and never deadlock. */
#define SERVE_STORE_SUMMARY_TYPES(WHERE)                                       \
    "INSERT INTO usage_types AS u (hour, name, schema_ver, n)"                 \
    " SELECT substr(e.ts, 1, 13), e.name, e.schema_ver, count(*)"              \
    " FROM events e WHERE " WHERE " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"         \
    " ON CONFLICT (hour, name, schema_ver) DO UPDATE SET n = u.n + excluded.n"
/* known: 1 for a known duration (duration_ms >= 0), which the
 * percentiles rank. */
#define SERVE_STORE_SUMMARY_COMMANDS(WHERE)                                    \
    "INSERT INTO usage_commands AS u (hour, command, subcommand,"              \
    " task_status, error_class, known, n)"                                     \
    " SELECT substr(e.ts, 1, 13), c.command, c.subcommand, c.task_status,"     \
    " c.error_class, CASE WHEN c.duration_ms >= 0 THEN 1 ELSE 0 END,"          \
    " count(*) FROM events e, nat_cli_command c"                               \
    " WHERE c.event_id = e.id AND " WHERE                                      \
    " GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"                     \
    " ON CONFLICT (hour, command, subcommand, task_status, error_class,"       \
    " known) DO UPDATE SET n = u.n + excluded.n"
#define SERVE_STORE_SUMMARY_CLIENTS(WHERE)                                     \
    "INSERT INTO usage_clients AS u (hour, command, client_ver,"               \
    " cpu_architecture, n)"                                                    \
    " SELECT substr(e.ts, 1, 13), c.command, e.client_ver,"                    \
    " v.cpu_architecture, count(*)"                                            \
    " FROM events e, nat_cli_command c, envelopes v"                           \
    " WHERE c.event_id = e.id AND v.id = e.envelope_id AND " WHERE             \
    " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"                                 \
    " ON CONFLICT (hour, command, client_ver, cpu_architecture)"               \
    " DO UPDATE SET n = u.n + excluded.n"

/* Indexes no query of this nattel reads through since the summary
 * (layout 4) counts by type, outcome and error class: each one only cost
 * every stored event a b-tree insert (a WAL page per insertion point per
 * commit), which cut the write rate at 50 events per request by more
 * than half. Both backends drop them on every writable open, so that a
 * store of layout 4 made before they went (with them) takes the same
 * shape; a no-op when they are gone. The typed table's are
 * serve_report_prepare's. */
#define SERVE_STORE_DROP_UNUSED_SQL                                            \
    "DROP INDEX IF EXISTS events_type;"                                        \
    "DROP INDEX IF EXISTS events_session;"

/* What a migration runs after the DDL: the summary of every stored
 * event. */
#define SERVE_STORE_SUMMARY_BUILD                                              \
    SERVE_STORE_SUMMARY_TYPES("1 = 1")                                         \
    ";" SERVE_STORE_SUMMARY_COMMANDS("1 = 1") ";" SERVE_STORE_SUMMARY_CLIENTS( \
        "1 = 1") ";"

#endif
