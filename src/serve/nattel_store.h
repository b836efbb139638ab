#ifndef NATTEL_STORE_H
#define NATTEL_STORE_H

/*
 * The SQLite store of `nattel serve`: every accepted event with its
 * envelope's metadata, its parameters as canonical JSON, and, for
 * nat_cli_command, its fields as typed columns.
 *
 * One connection, shared by the server's threads: a mutex serialises the
 * writers, so each envelope is one transaction and concurrent requests
 * neither interleave nor retry. Other processes (`nattel report`) read
 * alongside in WAL mode; a busy timeout covers their brief locks.
 *
 * Tables (schema version SERVE_STORE_SCHEMA_VERSION, kept in
 * PRAGMA user_version):
 *   envelopes(id, session_id, client_ver, schema_ver, cpu_architecture,
 *             sent_ts, received_ts, event_count)
 *   events(id, envelope_id, seq, session_id, client_ver, name, schema_ver,
 *          ts, received_ts, parameters)
 *   nat_cli_command(event_id, nemo_source, command, subcommand,
 *                   task_status, duration_ms, exit_code, error_class,
 *                   python_version)
 */

#include <nattel/nattel.h>

#include "nattel_report.h"

#include <stdint.h>

#define SERVE_STORE_SCHEMA_VERSION 1

typedef struct serve_store serve_store;

/* Opens (read_only: 0 creating the file and the tables when missing) the
 * database at `path`. NATTEL_EIO names the file and SQLite's reason;
 * NATTEL_EINVAL a database of another schema version or none. */
nattel_code serve_store_open(const char *path, int read_only, serve_store **out,
                             nattel_error *err);

/* Finalises the statements and closes the connection (which checkpoints
 * the WAL). Accepts NULL. */
void serve_store_close(serve_store *st);

/* Stores every event of `env` in one transaction, received at
 * `received_ms` (Unix milliseconds). Safe to call from many threads. */
nattel_code serve_store_put(serve_store *st, const nattel_envelope *env,
                            int64_t received_ms, nattel_error *err);

/* Number of stored events. */
nattel_code serve_store_event_count(serve_store *st, int64_t *out,
                                    nattel_error *err);

/* Usage per (command, subcommand) of the nat_cli_command events, sorted by
 * command then subcommand (byte order). `out` is initialised here. */
nattel_code serve_store_report(serve_store *st, serve_report *out,
                               nattel_error *err);

#endif
