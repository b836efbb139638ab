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
    /* The dashboard's (serve_usage_load, from the summary): how many
     * durations are known (>= 0), and the command's rank (1-based, by
     * bytes) among every command of the store. */
    int64_t known;
    int64_t ordinal;
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

/* `t` (not NULL) as the table shows it, in a malloc'd C string the
 * caller frees: control characters, line and bidirectional controls and
 * backslashes as JSON escapes, bytes that are not UTF-8 as \xHH. NULL
 * when out of memory. Thread-safe. */
char *serve_report_printable(const serve_text *t);

/* Every stored event counted by (event name, schema version), sorted by
 * name then version (byte order): one line per pair, "NAME VERSION COUNT"
 * under a header, or with `json` a JSON array of {"event",
 * "schemaVersion", "count"} on one line. Appended to `out`. */
nattel_code serve_report_types(serve_store *st, int json, nattel_buf *out,
                               nattel_error *err);

/* ------------------------------------------------------------------ */
/* Usage for the dashboard (serve_dashboard.h)                          */
/* ------------------------------------------------------------------ */

/* A time bound: a prefix of an ISO 8601 UTC time as the events carry it,
 * YYYY[-MM[-DD[THH[:MM[:SS]]]]], with digits where the pattern has them;
 * at most this many characters. */
#define SERVE_USAGE_TIME_MAX 19
/* A command filter longer than this many bytes matches nothing stored. */
#define SERVE_USAGE_COMMAND_MAX 256

/* What the dashboard shows, narrowed: NULL or "" fields do not narrow.
 * `from` and `to` are inclusive prefixes (to=2026-05-06 keeps all of that
 * day) checked by serve_usage_time_ok; the command is compared byte for
 * byte. Borrowed for the call. */
typedef struct serve_usage_filter {
    const char *from;
    const char *to;
    const char *command;
    size_t command_len;
    int by_hour; /* events over time per hour, else per day */
} serve_usage_filter;

/* One counted key: a time bucket, an error class, a client version, a CPU
 * architecture (with the command it was counted for), or an event name
 * and schema version (command empty). */
typedef struct serve_usage_item {
    serve_text key;
    serve_text key2;
    serve_text command;
    int64_t count;
} serve_usage_item;

typedef struct serve_usage_list {
    serve_usage_item *items;
    size_t count;
    size_t cap;
} serve_usage_list;

/* Per command: counts and nearest-rank duration percentiles (-1: no known
 * duration). */
typedef struct serve_usage_command {
    serve_text command;
    int64_t count;
    int64_t success;
    int64_t failure;
    int64_t interrupted;
    int64_t p50_ms;
    int64_t p95_ms;
    int64_t p99_ms;
    int64_t known;   /* durations known (>= 0); 0 when not counted */
    int64_t ordinal; /* as serve_report_row's */
} serve_usage_command;

typedef struct serve_usage {
    serve_report outcomes; /* per (command, subcommand); no percentiles */
    serve_usage_command *commands;
    size_t command_count;
    size_t command_cap;
    serve_usage_list series;   /* key: bucket, sorted by bucket, command */
    serve_usage_list errors;   /* key: error class, sorted by key, command */
    serve_usage_list versions; /* key: client version */
    serve_usage_list archs;    /* key: CPU architecture */
    serve_usage_list types;    /* key: event name, key2: schema version;
                                  every event type, not narrowed by command */
    int64_t total;             /* nat_cli_command events kept */
} serve_usage;

/* 1 when `s` (not NULL) is a time bound as serve_usage_filter takes. */
int serve_usage_time_ok(const char *s);

/* The nat_cli_command events (and every event, for `types`) that the
 * filter keeps, counted, in one read snapshot, through the store's
 * queries (the same SQL on both backends; the time bounds are checked
 * text of digits, the command is compared here, never put in SQL). A
 * store of layout SERVE_STORE_SUMMARY_VERSION or newer is read from its
 * per-hour summary (the hours a bound falls inside from the events, the
 * whole store's percentiles by rank through an index); an older one,
 * open read-only, by whole-store queries: the same figures.
 * `out` is initialised here and freed on failure. NATTEL_EINVAL for a
 * bad time bound; NATTEL_EIO from the store; NATTEL_ENOMEM. Thread-safe
 * as the store is. */
nattel_code serve_usage_load(serve_store *st, const serve_usage_filter *f,
                             serve_usage *out, nattel_error *err);

/* Accepts NULL and a freed usage. */
void serve_usage_free(serve_usage *u);

#endif
