#ifndef SERVE_STORE_H
#define SERVE_STORE_H

/*
 * The store of `nattel serve`, on SQLite (serve_store_sqlite.c, a file
 * path) or PostgreSQL (serve_store_pg.c, a postgresql:// or postgres://
 * URI): the same tables, the same exactly-once keys, the same queries.
 * This is every accepted event with its
 * envelope's metadata, its parameters as canonical JSON, and its fields as
 * typed columns in a table of its event type, as the registry describes
 * the type (a column per field, named by its C name; TEXT for strings,
 * enums and string arrays (as JSON), INTEGER for integers and booleans,
 * REAL for numbers; NOT NULL unless the field may be absent).
 *
 * SQLite: one connection, shared by the server's threads: a mutex
 * serialises its users. Concurrent writers queue and the first one free
 * stores the queue in one transaction (group commit), answering each
 * only after that COMMIT; a batch with a failing envelope is rerun one
 * envelope per transaction. Other processes
 * (`nattel report`) read alongside in WAL mode; a busy timeout covers
 * their brief locks.
 *
 * PostgreSQL: SERVE_STORE_CONNECTIONS connections, one per server thread,
 * each envelope one transaction on one of them; a connection found broken
 * is opened again on its next use, so that the store recovers by itself
 * when the server is back. Text columns collate "C" (byte order, as
 * SQLite's BINARY), so that the same query sorts the same on both. The
 * layout's version is kept in the table nattel_layout.
 *
 * Tables (schema version SERVE_STORE_SCHEMA_VERSION, kept in
 * PRAGMA user_version; a version-1, 2 or 3 database is brought forward
 * when opened writable):
 *   envelopes(id, session_id, client_ver, schema_ver, cpu_architecture,
 *             sent_ts, received_ts, event_count, body_hash UNIQUE)
 *   events(id, envelope_id, seq, session_id, client_ver, name, schema_ver,
 *          ts, received_ts, parameters, event_uid UNIQUE)
 *   <event type>(event_id, <field>...), e.g. nat_cli_command(event_id,
 *                   nemo_source, command, subcommand, task_status,
 *                   duration_ms, exit_code, error_class, python_version)
 *   the per-hour summary (layout 4; serve_store_common.h), keyed by the
 *   hour, YYYY-MM-DDTHH, and what the dashboard counts by, with a count n:
 *   usage_types(hour, name, schema_ver, n),
 *   usage_commands(hour, command, subcommand, task_status, error_class,
 *                  known, n), known: 1 for duration_ms >= 0,
 *   usage_clients(hour, command, client_ver, cpu_architecture, n);
 *   each stored envelope adds its events' counts in the transaction that
 *   stores them (serve_store_put); nothing else writes them.
 */

#include "serve/serve_store_common.h"

/* Opens (read_only: 0 creating the file and the tables when missing, with
 * the typed tables of the built-in event types) the database `db`: a
 * SQLite file, or a PostgreSQL URI (serve_store_is_pg). NATTEL_EIO names
 * the database (its password masked) and the engine's reason, e.g. a
 * PostgreSQL server that cannot be reached; NATTEL_EINVAL a database of
 * another schema version or none. The caller owns *out. */
nattel_code serve_store_open(const char *db, int read_only, serve_store **out,
                             nattel_error *err);

/* Finalises the statements and closes the connections (SQLite's last one
 * checkpoints the WAL). Accepts NULL. */
void serve_store_close(serve_store *st);

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

/* The layout version of the store as opened: SERVE_STORE_SCHEMA_VERSION
 * when writable (an older one is brought forward), as found when
 * read-only (SERVE_STORE_MIN_READ_VERSION or newer). A layout older than
 * SERVE_STORE_SUMMARY_VERSION has no summary tables. Thread-safe. */
int serve_store_layout(const serve_store *st);

/* Runs the n queries in one read transaction (one snapshot), handing each
 * row to its on_row with `ctx`. */
nattel_code serve_store_select(serve_store *st, const serve_store_query *q,
                               size_t n, void *ctx, nattel_error *err);

#endif
