#include "nattel_report.h"

#include "nattel_error.h"
#include "nattel_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nattel__report_init(nattel__report *r)
{
    memset(r, 0, sizeof *r);
}

static void row_free(nattel__report_row *row)
{
    free(row->command);
    free(row->subcommand);
    for (size_t i = 0; i < row->error_count; i++)
        free(row->errors[i].name);
}

void nattel__report_free(nattel__report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        row_free(&r->rows[i]);
    free(r->rows);
    nattel__report_init(r);
}

nattel__report_row *nattel__report_add_row(nattel__report *r,
                                           const char *command,
                                           const char *subcommand)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        nattel__report_row *rows = realloc(r->rows, cap * sizeof *rows);
        if (!rows)
            return NULL;
        r->rows = rows;
        r->cap = cap;
    }
    nattel__report_row *row = &r->rows[r->count];
    memset(row, 0, sizeof *row);
    row->command = strdup(command);
    row->subcommand = strdup(subcommand);
    if (!row->command || !row->subcommand) {
        row_free(row);
        return NULL;
    }
    row->p50_ms = row->p95_ms = -1;
    r->count++;
    return row;
}

nattel__report_row *nattel__report_find(nattel__report *r, const char *command,
                                        const char *subcommand)
{
    for (size_t i = 0; i < r->count; i++)
        if (!strcmp(r->rows[i].command, command) &&
            !strcmp(r->rows[i].subcommand, subcommand))
            return &r->rows[i];
    return NULL;
}

nattel_code nattel__report_add_error(nattel__report_row *row, const char *name,
                                     int64_t count)
{
    if (row->error_count >= NATTEL__REPORT_TOP_ERRORS)
        return NATTEL_OK;
    char *copy = strdup(name);
    if (!copy)
        return NATTEL_ENOMEM;
    row->errors[row->error_count].name = copy;
    row->errors[row->error_count].count = count;
    row->error_count++;
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static nattel_code put_str(nattel_buf *b, const char *s)
{
    return nattel__json_put_string(b, s, strlen(s));
}

static nattel_code put_key_int(nattel_buf *b, const char *key, int64_t v)
{
    nattel_code code = nattel_buf_append(b, ",\"", 2);
    if (!code)
        code = nattel_buf_append(b, key, strlen(key));
    if (!code)
        code = NATTEL__PUT_LIT(b, "\":");
    if (!code)
        code = v < 0 ? NATTEL__PUT_LIT(b, "null") : nattel__json_put_int(b, v);
    return code;
}

static nattel_code put_errors_json(nattel_buf *b, const nattel__report_row *row)
{
    nattel_code code = NATTEL__PUT_LIT(b, ",\"errorClasses\":[");
    for (size_t i = 0; !code && i < row->error_count; i++) {
        if (i)
            code = NATTEL__PUT_LIT(b, ",");
        if (!code)
            code = NATTEL__PUT_LIT(b, "{\"errorClass\":");
        if (!code)
            code = put_str(b, row->errors[i].name);
        if (!code)
            code = NATTEL__PUT_LIT(b, ",\"count\":");
        if (!code)
            code = nattel__json_put_int(b, row->errors[i].count);
        if (!code)
            code = NATTEL__PUT_LIT(b, "}");
    }
    if (!code)
        code = NATTEL__PUT_LIT(b, "]");
    return code;
}

static nattel_code put_row_json(nattel_buf *b, const nattel__report_row *row)
{
    nattel_code code = NATTEL__PUT_LIT(b, "{\"command\":");
    if (!code)
        code = put_str(b, row->command);
    if (!code)
        code = NATTEL__PUT_LIT(b, ",\"subcommand\":");
    if (!code)
        code = put_str(b, row->subcommand);
    if (!code)
        code = put_key_int(b, "count", row->count);
    if (!code)
        code = put_key_int(b, "success", row->success);
    if (!code)
        code = put_key_int(b, "failure", row->failure);
    if (!code)
        code = put_key_int(b, "interrupted", row->interrupted);
    if (!code)
        code = put_key_int(b, "p50DurationMs", row->p50_ms);
    if (!code)
        code = put_key_int(b, "p95DurationMs", row->p95_ms);
    if (!code)
        code = put_errors_json(b, row);
    if (!code)
        code = NATTEL__PUT_LIT(b, "}");
    return code;
}

nattel_code nattel__report_write_json(const nattel__report *r, nattel_buf *out,
                                      nattel_error *err)
{
    nattel_code code = NATTEL__PUT_LIT(out, "[");
    for (size_t i = 0; !code && i < r->count; i++) {
        if (i)
            code = NATTEL__PUT_LIT(out, ",");
        if (!code)
            code = put_row_json(out, &r->rows[i]);
    }
    if (!code)
        code = NATTEL__PUT_LIT(out, "]\n");
    if (code)
        return nattel__fail(err, code, "cannot write the report as JSON: %s",
                            nattel_code_name(code));
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* Table                                                               */
/* ------------------------------------------------------------------ */

enum {
    COL_COMMAND,
    COL_SUBCOMMAND,
    COL_COUNT,
    COL_SUCCESS,
    COL_FAILURE,
    COL_INTERRUPTED,
    COL_P50,
    COL_P95,
    COL_ERRORS,
    COL_N
};

static const char *const headers[COL_N] = {
    "COMMAND",     "SUBCOMMAND", "COUNT",  "SUCCESS",      "FAILURE",
    "INTERRUPTED", "P50_MS",     "P95_MS", "ERROR CLASSES"};

/* Columns of text, left-aligned; the rest are numbers, right-aligned. */
static int is_text_col(int col)
{
    return col == COL_COMMAND || col == COL_SUBCOMMAND || col == COL_ERRORS;
}

/* Width on a terminal, counting each UTF-8 sequence as one column. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Copies s with control characters shown as '?'. */
static char *printable(const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    /* C0 controls, DEL and the C1 controls (U+0080..U+009F, UTF-8 C2 80 to
     * C2 9F, e.g. CSI) could drive the terminal: each becomes '?'. */
    char *o = copy;
    for (const unsigned char *p = (const unsigned char *)copy; *p; p++) {
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            *o++ = '?';
            p++;
        } else {
            *o++ = *p < 0x20 || *p == 0x7f ? '?' : (char)*p;
        }
    }
    *o = '\0';
    return copy;
}

static char *format_int(int64_t v)
{
    char tmp[32];
    if (v < 0)
        snprintf(tmp, sizeof tmp, "-");
    else
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    return strdup(tmp);
}

/* "ValueError (2), KeyError (1)"; "-" when none. */
static char *format_errors(const nattel__report_row *row)
{
    if (!row->error_count)
        return strdup("-");
    nattel_buf b = NATTEL_BUF_INIT;
    for (size_t i = 0; i < row->error_count; i++) {
        char tail[40];
        snprintf(tail, sizeof tail, " (%lld)%s",
                 (long long)row->errors[i].count,
                 i + 1 < row->error_count ? ", " : "");
        char *name = printable(row->errors[i].name);
        if (!name || nattel_buf_append(&b, name, strlen(name)) ||
            nattel_buf_append(&b, tail, strlen(tail))) {
            free(name);
            nattel_buf_free(&b);
            return NULL;
        }
        free(name);
    }
    return b.data;
}

/* The cells of one row, malloc'd; 0 when out of memory. */
static int row_cells(const nattel__report_row *row, char *cells[COL_N])
{
    cells[COL_COMMAND] = printable(row->command);
    cells[COL_SUBCOMMAND] = printable(row->subcommand);
    cells[COL_COUNT] = format_int(row->count);
    cells[COL_SUCCESS] = format_int(row->success);
    cells[COL_FAILURE] = format_int(row->failure);
    cells[COL_INTERRUPTED] = format_int(row->interrupted);
    cells[COL_P50] = format_int(row->p50_ms);
    cells[COL_P95] = format_int(row->p95_ms);
    cells[COL_ERRORS] = format_errors(row);
    for (int c = 0; c < COL_N; c++)
        if (!cells[c])
            return 0;
    return 1;
}

static nattel_code put_padded(nattel_buf *b, const char *cell, size_t width,
                              int col)
{
    size_t w = display_width(cell);
    size_t pad = width > w ? width - w : 0;
    nattel_code code = NATTEL_OK;
    if (!is_text_col(col))
        for (size_t i = 0; !code && i < pad; i++)
            code = NATTEL__PUT_LIT(b, " ");
    if (!code)
        code = nattel_buf_append(b, cell, strlen(cell));
    /* The last column is not padded: no trailing blanks. */
    if (is_text_col(col) && col != COL_N - 1)
        for (size_t i = 0; !code && i < pad; i++)
            code = NATTEL__PUT_LIT(b, " ");
    return code;
}

static nattel_code put_line(nattel_buf *b, char *const cells[COL_N],
                            const size_t widths[COL_N])
{
    nattel_code code = NATTEL_OK;
    for (int c = 0; !code && c < COL_N; c++) {
        if (c)
            code = NATTEL__PUT_LIT(b, "  ");
        if (!code)
            code = put_padded(b, cells[c], widths[c], c);
    }
    if (!code)
        code = NATTEL__PUT_LIT(b, "\n");
    return code;
}

static void free_cells(char **cells, size_t rows)
{
    for (size_t i = 0; i < rows * COL_N; i++)
        free(cells[i]);
    free(cells);
}

static nattel_code write_lines(const nattel__report *r, char **cells,
                               nattel_buf *out)
{
    size_t widths[COL_N];
    for (int c = 0; c < COL_N; c++) {
        widths[c] = display_width(headers[c]);
        for (size_t i = 0; i < r->count; i++) {
            size_t w = display_width(cells[i * COL_N + c]);
            if (w > widths[c])
                widths[c] = w;
        }
    }
    nattel_code code = put_line(out, (char *const *)headers, widths);
    for (size_t i = 0; !code && i < r->count; i++)
        code = put_line(out, &cells[i * COL_N], widths);
    return code;
}

nattel_code nattel__report_write_table(const nattel__report *r, nattel_buf *out,
                                       nattel_error *err)
{
    char **cells = calloc(r->count ? r->count * COL_N : 1, sizeof *cells);
    if (!cells)
        return nattel__fail(err, NATTEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->count; i++)
        if (!row_cells(&r->rows[i], &cells[i * COL_N])) {
            free_cells(cells, r->count);
            return nattel__fail(err, NATTEL_ENOMEM, "out of memory");
        }
    nattel_code code = write_lines(r, cells, out);
    free_cells(cells, r->count);
    if (code)
        return nattel__fail(err, code, "cannot write the report: %s",
                            nattel_code_name(code));
    return NATTEL_OK;
}
