#ifndef SERVE_REPORT_H
#define SERVE_REPORT_H

/* Usage per command and subcommand, as `nattel report` shows it: read
 * from the nat_cli_command table through the store's API, and shown as
 * JSON or as a table. */

#include <nattel/nattel.h>

#include "serve/serve_store.h"

#include <stdint.h>

/* How many of the most frequent error classes a row keeps. */
#define SERVE_REPORT_TOP_ERRORS 3

/* Text exactly as stored: it may hold NUL bytes, so it carries its length
 * (and a NUL after it for convenience). */
typedef struct serve_text {
    char *s;
    size_t len;
} serve_text;

typedef struct serve_error_class_count {
    serve_text name;
    int64_t count;
} serve_error_class_count;

typedef struct serve_report_row {
    serve_text command;
    serve_text subcommand;
    int64_t count;
    int64_t success;
    int64_t failure;
    int64_t interrupted;
    /* Nearest-rank percentiles of the known durations (durationMs >= 0);
     * -1 when the row has none. */
    int64_t p50_ms;
    int64_t p95_ms;
    serve_error_class_count errors[SERVE_REPORT_TOP_ERRORS];
    size_t error_count;
} serve_report_row;

typedef struct serve_report {
    serve_report_row *rows;
    size_t count;
    size_t cap;
} serve_report;

/* Creates the index the report's queries use (a writable store). */
nattel_code serve_report_prepare(serve_store *st, nattel_error *err);

/* Usage per (command, subcommand) of the nat_cli_command events, sorted by
 * command then subcommand (byte order). `out` is initialised here. */
nattel_code serve_report_load(serve_store *st, serve_report *out,
                              nattel_error *err);

void serve_report_init(serve_report *r);
void serve_report_free(serve_report *r);

/* A new zeroed row owning copies of command and subcommand (len bytes
 * each, NULs included); NULL when out of memory. */
serve_report_row *serve_report_add_row(serve_report *r, const char *command,
                                       size_t cmd_len, const char *subcommand,
                                       size_t sub_len);

/* The row of (command, subcommand), compared byte for byte; NULL when
 * none. */
serve_report_row *serve_report_find(serve_report *r, const char *command,
                                    size_t cmd_len, const char *subcommand,
                                    size_t sub_len);

/* Appends an error class to a row unless it already holds the maximum. */
nattel_code serve_report_add_error(serve_report_row *row, const char *name,
                                   size_t len, int64_t count);

/* A JSON array of objects (command, subcommand, count, success, failure,
 * interrupted, p50DurationMs, p95DurationMs, errorClasses), one line,
 * ending in a newline. Unknown percentiles are null. Strings are whole,
 * NULs and control characters escaped; bytes that are not UTF-8 (only a
 * database written by something else holds them) become U+FFFD. */
nattel_code serve_report_write_json(const serve_report *r, nattel_buf *out,
                                    nattel_error *err);

/* A readable table with a header line. Names are whole: control
 * characters (NUL, C0, DEL, C1) and backslashes are shown as JSON escapes
 * (\n, \u0000, \\), bytes that are not UTF-8 as \xHH, so that each row
 * stays on one line, nothing drives the terminal and nothing is lost. */
nattel_code serve_report_write_table(const serve_report *r, nattel_buf *out,
                                     nattel_error *err);

/* Every stored event counted by (event name, schema version), sorted by
 * name then version (byte order): one line per pair, "NAME VERSION COUNT"
 * under a header, or with `json` a JSON array of {"event",
 * "schemaVersion", "count"} on one line. Appended to `out`. */
nattel_code serve_report_types(serve_store *st, int json, nattel_buf *out,
                               nattel_error *err);

#endif
