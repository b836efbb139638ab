#ifndef NATTEL_REPORT_H
#define NATTEL_REPORT_H

/* Usage per command and subcommand, as `nattel report` shows it. The store
 * computes it (nattel__store_report); this module owns the rows and their
 * two presentations. */

#include <nattel/nattel.h>

#include <stdint.h>

/* How many of the most frequent error classes a row keeps. */
#define NATTEL__REPORT_TOP_ERRORS 3

/* Text exactly as stored: it may hold NUL bytes, so it carries its length
 * (and a NUL after it for convenience). */
typedef struct nattel__text {
    char *s;
    size_t len;
} nattel__text;

typedef struct nattel__error_class_count {
    nattel__text name;
    int64_t count;
} nattel__error_class_count;

typedef struct nattel__report_row {
    nattel__text command;
    nattel__text subcommand;
    int64_t count;
    int64_t success;
    int64_t failure;
    int64_t interrupted;
    /* Nearest-rank percentiles of the known durations (durationMs >= 0);
     * -1 when the row has none. */
    int64_t p50_ms;
    int64_t p95_ms;
    nattel__error_class_count errors[NATTEL__REPORT_TOP_ERRORS];
    size_t error_count;
} nattel__report_row;

typedef struct nattel__report {
    nattel__report_row *rows;
    size_t count;
    size_t cap;
} nattel__report;

void nattel__report_init(nattel__report *r);
void nattel__report_free(nattel__report *r);

/* A new zeroed row owning copies of command and subcommand (len bytes
 * each, NULs included); NULL when out of memory. */
nattel__report_row *nattel__report_add_row(nattel__report *r,
                                           const char *command, size_t cmd_len,
                                           const char *subcommand,
                                           size_t sub_len);

/* The row of (command, subcommand), compared byte for byte; NULL when
 * none. */
nattel__report_row *nattel__report_find(nattel__report *r, const char *command,
                                        size_t cmd_len, const char *subcommand,
                                        size_t sub_len);

/* Appends an error class to a row unless it already holds the maximum. */
nattel_code nattel__report_add_error(nattel__report_row *row, const char *name,
                                     size_t len, int64_t count);

/* A JSON array of objects (command, subcommand, count, success, failure,
 * interrupted, p50DurationMs, p95DurationMs, errorClasses), one line,
 * ending in a newline. Unknown percentiles are null. Strings are whole,
 * NULs and control characters escaped; bytes that are not UTF-8 (only a
 * database written by something else holds them) become U+FFFD. */
nattel_code nattel__report_write_json(const nattel__report *r, nattel_buf *out,
                                      nattel_error *err);

/* A readable table with a header line. Names are whole: control
 * characters (NUL, C0, DEL, C1) and backslashes are shown as JSON escapes
 * (\n, \u0000, \\), bytes that are not UTF-8 as \xHH, so that each row
 * stays on one line, nothing drives the terminal and nothing is lost. */
nattel_code nattel__report_write_table(const nattel__report *r, nattel_buf *out,
                                       nattel_error *err);

#endif
