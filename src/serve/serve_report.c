#include "serve/serve_report.h"

#include "natx/natx_error.h"
#include "natx/natx_jsonw.h"
#include "natx/natx_mem.h"
#include "natx/natx_utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void serve_report_init(serve_report *r)
{
    memset(r, 0, sizeof *r);
}

static void row_free(serve_report_row *row)
{
    free(row->command.s);
    free(row->subcommand.s);
    for (size_t i = 0; i < row->error_count; i++)
        free(row->errors[i].name.s);
}

static int text_copy(serve_text *t, const char *s, size_t len)
{
    t->s = malloc(len + 1);
    if (!t->s)
        return 0;
    if (len)
        memcpy(t->s, s, len);
    t->s[len] = '\0';
    t->len = len;
    return 1;
}

static int text_equal(const serve_text *t, const char *s, size_t len)
{
    return t->len == len && (!len || memcmp(t->s, s, len) == 0);
}

void serve_report_free(serve_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        row_free(&r->rows[i]);
    free(r->rows);
    serve_report_init(r);
}

serve_report_row *serve_report_add_row(serve_report *r, const char *command,
                                       size_t cmd_len, const char *subcommand,
                                       size_t sub_len)
{
    if (NATX_GROW(r->rows, r->cap, r->count + 1))
        return NULL;
    serve_report_row *row = &r->rows[r->count];
    memset(row, 0, sizeof *row);
    if (!text_copy(&row->command, command, cmd_len) ||
        !text_copy(&row->subcommand, subcommand, sub_len)) {
        row_free(row);
        return NULL;
    }
    row->p50_ms = row->p95_ms = -1;
    r->count++;
    return row;
}

serve_report_row *serve_report_find(serve_report *r, const char *command,
                                    size_t cmd_len, const char *subcommand,
                                    size_t sub_len)
{
    for (size_t i = 0; i < r->count; i++)
        if (text_equal(&r->rows[i].command, command, cmd_len) &&
            text_equal(&r->rows[i].subcommand, subcommand, sub_len))
            return &r->rows[i];
    return NULL;
}

nattel_code serve_report_add_error(serve_report_row *row, const char *name,
                                   size_t len, int64_t count)
{
    if (row->error_count >= SERVE_REPORT_TOP_ERRORS)
        return NATTEL_OK;
    if (!text_copy(&row->errors[row->error_count].name, name, len))
        return NATTEL_ENOMEM;
    row->errors[row->error_count].count = count;
    row->error_count++;
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* The one index of the typed table a query reads through: the whole
 * store's percentiles, by rank, step through (command, duration_ms) from
 * the nearer end. The counts come from the summary (layout 4); the
 * covering indexes of layout 3 for outcomes and error classes are
 * dropped, as each cost every stored event a b-tree insert. A store
 * older than layout 4 read by a report is read as it is (slower). */
static const char prepare_sql[] =
    "DROP INDEX IF EXISTS nat_cli_command_by_command;"
    "DROP INDEX IF EXISTS nat_cli_command_by_outcome;"
    "DROP INDEX IF EXISTS nat_cli_command_by_error;"
    "CREATE INDEX IF NOT EXISTS nat_cli_command_by_duration"
    " ON nat_cli_command(command, duration_ms)";

nattel_code serve_report_prepare(serve_store *st, nattel_error *err)
{
    return serve_store_exec(st, prepare_sql, err);
}

/* The queries run as they are on SQLite and on PostgreSQL (counts by
 * CASE, not by summing booleans; text columns sort by bytes on both).
 * Counts and nearest-rank percentiles (rank ceil(p * n / 100) among the n
 * known durations, in ascending order) per (command, subcommand). The
 * counts come from the typed table, or from the summary (layout 4),
 * which holds them per (command, subcommand, task_status, error_class)
 * and needs no index of the typed table: the same numbers, read from a
 * few thousand rows instead of every event. */
#define COUNTS_RAW                                                             \
    "SELECT command, subcommand, count(*) AS n,"                               \
    " count(CASE WHEN task_status = 'success' THEN 1 END) AS ok,"              \
    " count(CASE WHEN task_status = 'failure' THEN 1 END) AS failed,"          \
    " count(CASE WHEN task_status = 'interrupted' THEN 1 END) AS interrupted"  \
    " FROM nat_cli_command GROUP BY command, subcommand"
#define COUNTS_SUMMARY                                                         \
    "SELECT command, subcommand, sum(n) AS n,"                                 \
    " sum(CASE WHEN task_status = 'success' THEN n ELSE 0 END) AS ok,"         \
    " sum(CASE WHEN task_status = 'failure' THEN n ELSE 0 END) AS failed,"     \
    " sum(CASE WHEN task_status = 'interrupted' THEN n ELSE 0 END)"            \
    " AS interrupted FROM usage_commands GROUP BY command, subcommand"
#define REPORT_SQL(COUNTS)                                                     \
    "WITH counts AS (" COUNTS "),"                                             \
    " known AS ("                                                              \
    "  SELECT command, subcommand, duration_ms,"                               \
    "    row_number() OVER (PARTITION BY command, subcommand"                  \
    "                       ORDER BY duration_ms) AS rank,"                    \
    "    count(*) OVER (PARTITION BY command, subcommand) AS n"                \
    "  FROM nat_cli_command WHERE duration_ms >= 0),"                          \
    " pct AS ("                                                                \
    "  SELECT command, subcommand,"                                            \
    "    max(CASE WHEN rank = (n * 50 + 99) / 100 THEN duration_ms END)"       \
    "    AS p50,"                                                              \
    "    max(CASE WHEN rank = (n * 95 + 99) / 100 THEN duration_ms END)"       \
    "    AS p95"                                                               \
    "  FROM known GROUP BY command, subcommand)"                               \
    " SELECT c.command, c.subcommand, c.n, c.ok, c.failed, c.interrupted,"     \
    "   p.p50, p.p95"                                                          \
    " FROM counts c LEFT JOIN pct p"                                           \
    "   ON p.command = c.command AND p.subcommand = c.subcommand"              \
    " ORDER BY c.command, c.subcommand"

/* Most frequent first; ties by name so that the report is deterministic. */
#define ERRORS_SQL(COUNT, TABLE)                                               \
    "SELECT command, subcommand, error_class, " COUNT " AS n"                  \
    " FROM " TABLE " WHERE error_class <> 'undefined'"                         \
    " GROUP BY command, subcommand, error_class"                               \
    " ORDER BY command, subcommand, 4 DESC, error_class"

static nattel_code read_count(void *ctx, const serve_store_row *r,
                              nattel_error *err)
{
    size_t cmd_len, sub_len;
    const char *cmd = serve_store_row_text(r, 0, &cmd_len);
    const char *sub = serve_store_row_text(r, 1, &sub_len);
    serve_report_row *row =
        serve_report_add_row(ctx, cmd, cmd_len, sub, sub_len);
    if (!row)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    row->count = serve_store_row_int(r, 2, 0);
    row->success = serve_store_row_int(r, 3, 0);
    row->failure = serve_store_row_int(r, 4, 0);
    row->interrupted = serve_store_row_int(r, 5, 0);
    row->p50_ms = serve_store_row_int(r, 6, -1);
    row->p95_ms = serve_store_row_int(r, 7, -1);
    return NATTEL_OK;
}

static nattel_code read_error(void *ctx, const serve_store_row *r,
                              nattel_error *err)
{
    size_t cmd_len, sub_len, name_len;
    const char *cmd = serve_store_row_text(r, 0, &cmd_len);
    const char *sub = serve_store_row_text(r, 1, &sub_len);
    serve_report_row *row = serve_report_find(ctx, cmd, cmd_len, sub, sub_len);
    const char *name = serve_store_row_text(r, 2, &name_len);
    if (row && serve_report_add_error(row, name, name_len,
                                      serve_store_row_int(r, 3, 0)))
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    return NATTEL_OK;
}

nattel_code serve_report_load(serve_store *st, serve_report *out,
                              nattel_error *err)
{
    static const serve_store_query raw[] = {
        {REPORT_SQL(COUNTS_RAW), read_count, NULL},
        {ERRORS_SQL("count(*)", "nat_cli_command"), read_error, NULL}};
    static const serve_store_query summary[] = {
        {REPORT_SQL(COUNTS_SUMMARY), read_count, NULL},
        {ERRORS_SQL("sum(n)", "usage_commands"), read_error, NULL}};
    const serve_store_query *q =
        serve_store_layout(st) >= SERVE_STORE_SUMMARY_VERSION ? summary : raw;
    serve_report_init(out);
    nattel_code code = serve_store_select(st, q, 2, out, err);
    if (code)
        serve_report_free(out);
    return code;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

/* The code point of a valid UTF-8 sequence of n bytes. */
static unsigned code_point(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    unsigned cp = p[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

/* Code points a terminal acts on rather than shows: C0 controls, DEL, C1
 * controls (CSI, OSC...), the line and paragraph separators, and the
 * bidirectional marks, embeddings, overrides and isolates, which reorder
 * what follows them on the line (U+202E turns "exe.txt" around). */
static int steers_terminal(unsigned cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           cp == 0x200E || cp == 0x200F || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static nattel_code put_u_escape(nattel_buf *b, unsigned cp)
{
    char esc[8];
    snprintf(esc, sizeof esc, "\\u%04x", cp);
    return nattel_buf_append(b, esc, 6);
}

/* The escapes the JSON and the table share (\n, \t, \r, \\, and a \u
 * escape for what steers a terminal), appended to b with *code set; 0
 * when code point cp needs none of them. */
static int put_shared_escape(nattel_buf *b, unsigned cp, nattel_code *code)
{
    const char *e = cp == '\n'   ? "\\n"
                    : cp == '\t' ? "\\t"
                    : cp == '\r' ? "\\r"
                    : cp == '\\' ? "\\\\"
                                 : NULL;
    if (e)
        *code = nattel_buf_append(b, e, 2);
    else if (steers_terminal(cp))
        *code = put_u_escape(b, cp);
    else
        return 0;
    return 1;
}

/* One sequence as JSON string content: what steers a terminal as a \u
 * escape (valid JSON, and harmless when the JSON is shown raw), a byte
 * that is not UTF-8 (JSON cannot carry it) as U+FFFD. */
static nattel_code put_json_char(nattel_buf *b, const unsigned char *p,
                                 size_t avail, size_t *used)
{
    size_t n = natx_utf8_seq(p, avail);
    *used = n ? n : 1;
    if (!n)
        return NATX_PUT_LIT(b, "\xEF\xBF\xBD");
    unsigned cp = code_point(p, n);
    nattel_code code;
    if (cp == '"')
        return NATX_PUT_LIT(b, "\\\"");
    if (put_shared_escape(b, cp, &code))
        return code;
    return nattel_buf_append(b, (const char *)p, n);
}

/* The text whole as a JSON string. */
static void put_text(natx_jsonw *w, const serve_text *t)
{
    nattel_buf b = NATTEL_BUF_INIT;
    const unsigned char *p = (const unsigned char *)t->s;
    nattel_code code = NATX_PUT_LIT(&b, "\"");
    for (size_t i = 0, used = 0; !code && i < t->len; i += used)
        code = put_json_char(&b, p + i, t->len - i, &used);
    if (!code)
        code = NATX_PUT_LIT(&b, "\"");
    if (code)
        natx_jsonw_fail(w, code, "out of memory");
    else
        natx_jsonw_raw(w, b.data, b.len);
    nattel_buf_free(&b);
}

/* A count, or null when unknown (negative). */
static void put_key_int(natx_jsonw *w, const char *key, int64_t v)
{
    natx_jsonw_key(w, key);
    if (v < 0)
        natx_jsonw_null(w);
    else
        natx_jsonw_int64(w, v);
}

static void put_errors_json(natx_jsonw *w, const serve_report_row *row)
{
    natx_jsonw_key(w, "errorClasses");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < row->error_count; i++) {
        natx_jsonw_begin_object(w);
        natx_jsonw_key(w, "errorClass");
        put_text(w, &row->errors[i].name);
        natx_jsonw_key(w, "count");
        natx_jsonw_int64(w, row->errors[i].count);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
}

static void put_row_json(natx_jsonw *w, const serve_report_row *row)
{
    natx_jsonw_begin_object(w);
    natx_jsonw_key(w, "command");
    put_text(w, &row->command);
    natx_jsonw_key(w, "subcommand");
    put_text(w, &row->subcommand);
    put_key_int(w, "count", row->count);
    put_key_int(w, "success", row->success);
    put_key_int(w, "failure", row->failure);
    put_key_int(w, "interrupted", row->interrupted);
    put_key_int(w, "p50DurationMs", row->p50_ms);
    put_key_int(w, "p95DurationMs", row->p95_ms);
    put_errors_json(w, row);
    natx_jsonw_end_object(w);
}

nattel_code serve_report_write_json(const serve_report *r, nattel_buf *out,
                                    nattel_error *err)
{
    natx_jsonw w;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_array(&w);
    for (size_t i = 0; i < r->count; i++)
        put_row_json(&w, &r->rows[i]);
    natx_jsonw_end_array(&w);
    nattel_code code = natx_jsonw_finish(&w, err);
    if (!code)
        code = nattel_buf_append(out, "\n", 1);
    if (code)
        return natx_fail(err, code, "cannot write the report as JSON: %s",
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

/* One byte or sequence of stored text as the table shows it. */
static nattel_code put_escaped(nattel_buf *b, const unsigned char *p,
                               size_t avail, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = natx_utf8_seq(p, avail);
    *used = n ? n : 1;
    if (!n) {
        char esc[4] = {'\\', 'x', hex[p[0] >> 4], hex[p[0] & 15]};
        return nattel_buf_append(b, esc, sizeof esc);
    }
    unsigned cp = code_point(p, n);
    nattel_code code;
    if (put_shared_escape(b, cp, &code))
        return code;
    return nattel_buf_append(b, (const char *)p, n);
}

/* The text whole, in a malloc'd C string: control characters, DEL, C1
 * controls, line separators, bidirectional controls and backslashes as
 * JSON escapes, other bytes that are not
 * UTF-8 as \xHH. NULL when out of memory. */
static char *escaped(const serve_text *t)
{
    nattel_buf b = NATTEL_BUF_INIT;
    const unsigned char *p = (const unsigned char *)t->s;
    nattel_code code = nattel_buf_append(&b, "", 0);
    for (size_t i = 0, used = 0; !code && i < t->len; i += used)
        code = put_escaped(&b, p + i, t->len - i, &used);
    if (!code)
        code = nattel_buf_append(&b, "\0", 1);
    if (code) {
        nattel_buf_free(&b);
        return NULL;
    }
    return b.data;
}

char *serve_report_printable(const serve_text *t)
{
    return escaped(t);
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
static char *format_errors(const serve_report_row *row)
{
    if (!row->error_count)
        return strdup("-");
    nattel_buf b = NATTEL_BUF_INIT;
    for (size_t i = 0; i < row->error_count; i++) {
        char tail[40];
        snprintf(tail, sizeof tail, " (%lld)%s",
                 (long long)row->errors[i].count,
                 i + 1 < row->error_count ? ", " : "");
        char *name = escaped(&row->errors[i].name);
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
static int row_cells(const serve_report_row *row, char *cells[COL_N])
{
    cells[COL_COMMAND] = escaped(&row->command);
    cells[COL_SUBCOMMAND] = escaped(&row->subcommand);
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
            code = NATX_PUT_LIT(b, " ");
    if (!code)
        code = nattel_buf_append(b, cell, strlen(cell));
    /* The last column is not padded: no trailing blanks. */
    if (is_text_col(col) && col != COL_N - 1)
        for (size_t i = 0; !code && i < pad; i++)
            code = NATX_PUT_LIT(b, " ");
    return code;
}

static nattel_code put_line(nattel_buf *b, char *const cells[COL_N],
                            const size_t widths[COL_N])
{
    nattel_code code = NATTEL_OK;
    for (int c = 0; !code && c < COL_N; c++) {
        if (c)
            code = NATX_PUT_LIT(b, "  ");
        if (!code)
            code = put_padded(b, cells[c], widths[c], c);
    }
    if (!code)
        code = NATX_PUT_LIT(b, "\n");
    return code;
}

static void free_cells(char **cells, size_t rows)
{
    for (size_t i = 0; i < rows * COL_N; i++)
        free(cells[i]);
    free(cells);
}

static nattel_code write_lines(const serve_report *r, char **cells,
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

nattel_code serve_report_write_table(const serve_report *r, nattel_buf *out,
                                     nattel_error *err)
{
    char **cells = calloc(r->count ? r->count * COL_N : 1, sizeof *cells);
    if (!cells)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->count; i++)
        if (!row_cells(&r->rows[i], &cells[i * COL_N])) {
            free_cells(cells, r->count);
            return natx_fail(err, NATTEL_ENOMEM, "out of memory");
        }
    nattel_code code = write_lines(r, cells, out);
    free_cells(cells, r->count);
    if (code)
        return natx_fail(err, code, "cannot write the report: %s",
                         nattel_code_name(code));
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* Every type by event name and schema version                         */
/* ------------------------------------------------------------------ */

static const char types_sql[] =
    "SELECT name, schema_ver, count(*) FROM events"
    " GROUP BY name, schema_ver ORDER BY name, schema_ver";
/* The same counts from the summary (layout 4), which counts every stored
 * event by type and schema version: no index of the events answers them
 * since the summary replaced events(name, schema_ver). */
static const char types_summary_sql[] =
    "SELECT name, schema_ver, sum(n) FROM usage_types"
    " GROUP BY name, schema_ver ORDER BY name, schema_ver";

typedef struct types_out {
    natx_jsonw w; /* json */
    nattel_buf *out;
    int json;
} types_out;

static nattel_code read_type(void *ctx, const serve_store_row *r,
                             nattel_error *err)
{
    types_out *t = ctx;
    size_t nlen, vlen;
    const char *name = serve_store_row_text(r, 0, &nlen);
    const char *ver = serve_store_row_text(r, 1, &vlen);
    int64_t n = serve_store_row_int(r, 2, 0);
    if (t->json) {
        natx_jsonw_begin_object(&t->w);
        natx_jsonw_key(&t->w, "event");
        natx_jsonw_string_lossy(&t->w, name ? name : "", name ? nlen : 0);
        natx_jsonw_key(&t->w, "schemaVersion");
        natx_jsonw_string_lossy(&t->w, ver ? ver : "", ver ? vlen : 0);
        put_key_int(&t->w, "count", n);
        natx_jsonw_end_object(&t->w);
        return NATTEL_OK;
    }
    serve_text tn = {(char *)(name ? name : ""), name ? nlen : 0};
    serve_text tv = {(char *)(ver ? ver : ""), ver ? vlen : 0};
    char *en = escaped(&tn), *evr = escaped(&tv);
    char line[64];
    int k = snprintf(line, sizeof line, "\t%lld\n", (long long)n);
    nattel_code code = en && evr ? NATTEL_OK : NATTEL_ENOMEM;
    if (!code)
        code = nattel_buf_append(t->out, en, strlen(en));
    if (!code)
        code = nattel_buf_append(t->out, "\t", 1);
    if (!code)
        code = nattel_buf_append(t->out, evr, strlen(evr));
    if (!code)
        code = nattel_buf_append(t->out, line, (size_t)k);
    free(en);
    free(evr);
    return code ? natx_fail(err, code, "out of memory") : NATTEL_OK;
}

nattel_code serve_report_types(serve_store *st, int json, nattel_buf *out,
                               nattel_error *err)
{
    serve_store_query q[] = {{types_sql, read_type, NULL}};
    if (serve_store_layout(st) >= SERVE_STORE_SUMMARY_VERSION)
        q[0].sql = types_summary_sql;
    types_out t = {.out = out, .json = json};
    nattel_code code;
    if (json) {
        natx_jsonw_init(&t.w, out);
        natx_jsonw_begin_array(&t.w);
    } else {
        code = NATX_PUT_LIT(out, "EVENT\tSCHEMA_VERSION\tCOUNT\n");
        if (code)
            return natx_fail(err, code, "out of memory");
    }
    code = serve_store_select(st, q, 1, &t, err);
    if (code || !json)
        return code;
    natx_jsonw_end_array(&t.w);
    code = natx_jsonw_finish(&t.w, err);
    if (!code)
        code = nattel_buf_append(out, "\n", 1);
    return code ? natx_fail(err, code, "cannot write the types as JSON")
                : NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* Usage for the dashboard                                             */
/* ------------------------------------------------------------------ */

int serve_usage_time_ok(const char *s)
{
    /* The shape of "YYYY-MM-DDTHH:MM:SS", cut after a whole part. */
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t n = strlen(s);
    if (n > SERVE_USAGE_TIME_MAX ||
        (n != 4 && n != 7 && n != 10 && n != 13 && n != 16 && n != 19))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return 0;
    return 1;
}

static void usage_list_free(serve_usage_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].key.s);
        free(l->items[i].key2.s);
        free(l->items[i].command.s);
    }
    free(l->items);
    memset(l, 0, sizeof *l);
}

void serve_usage_free(serve_usage *u)
{
    if (!u)
        return;
    serve_report_free(&u->outcomes);
    for (size_t i = 0; i < u->command_count; i++)
        free(u->commands[i].command.s);
    free(u->commands);
    usage_list_free(&u->series);
    usage_list_free(&u->errors);
    usage_list_free(&u->versions);
    usage_list_free(&u->archs);
    usage_list_free(&u->types);
    memset(u, 0, sizeof *u);
}

/* What a query's rows go into. */
typedef struct usage_ctx {
    serve_usage *u;
    const serve_usage_filter *f;
    serve_usage_list *list;
    /* Durations of the current command, for its percentiles. */
    serve_text pct_command;
    int64_t *dur;   /* value, count pairs */
    size_t dur_len; /* pairs */
    size_t dur_cap; /* int64_t slots */
    int summed;     /* the commands are summed from the outcomes */
    /* The summary's path: the commands seen so far (kept or not), the
     * last one, and the SQL of the percentiles. */
    int64_t ordinal;
    serve_text last_command;
    nattel_buf pct_sql;
} usage_ctx;

/* 1 when the filter keeps rows of this command. */
static int keeps(const serve_usage_filter *f, const char *cmd, size_t len)
{
    if (!f->command || !*f->command)
        return 1;
    return len == f->command_len && memcmp(cmd, f->command, len) == 0;
}

static nattel_code oom(nattel_error *err)
{
    return natx_fail(err, NATTEL_ENOMEM, "out of memory");
}

/* Rows: command, subcommand, task_status, count. */
static nattel_code read_outcome(void *vctx, const serve_store_row *r,
                                nattel_error *err)
{
    usage_ctx *c = vctx;
    size_t cl, sl, tl;
    const char *cmd = serve_store_row_text(r, 0, &cl);
    const char *sub = serve_store_row_text(r, 1, &sl);
    const char *status = serve_store_row_text(r, 2, &tl);
    int64_t n = serve_store_row_int(r, 3, 0);
    /* The rows come by command: count the commands, kept or not, so that
     * a kept one knows its rank among all (the percentiles' SQL). */
    if (!c->last_command.s || !text_equal(&c->last_command, cmd, cl)) {
        free(c->last_command.s);
        c->last_command.s = NULL;
        if (!text_copy(&c->last_command, cmd, cl))
            return oom(err);
        c->ordinal++;
    }
    if (!keeps(c->f, cmd, cl))
        return NATTEL_OK;
    serve_report *o = &c->u->outcomes;
    serve_report_row *row = o->count ? &o->rows[o->count - 1] : NULL;
    if (!row || !text_equal(&row->command, cmd, cl) ||
        !text_equal(&row->subcommand, sub, sl))
        row = serve_report_add_row(o, cmd, cl, sub, sl);
    if (!row)
        return oom(err);
    row->count += n;
    row->known += serve_store_row_int(r, 4, 0);
    row->ordinal = c->ordinal;
    if (tl == 7 && !memcmp(status, "success", 7))
        row->success += n;
    else if (tl == 7 && !memcmp(status, "failure", 7))
        row->failure += n;
    else if (tl == 11 && !memcmp(status, "interrupted", 11))
        row->interrupted += n;
    c->u->total += n;
    return NATTEL_OK;
}

/* The per-command rows, summed from the outcomes (sorted by command). */
static nattel_code sum_commands(serve_usage *u, nattel_error *err)
{
    for (size_t i = 0; i < u->outcomes.count; i++) {
        const serve_report_row *o = &u->outcomes.rows[i];
        serve_usage_command *c =
            u->command_count ? &u->commands[u->command_count - 1] : NULL;
        if (!c || !text_equal(&c->command, o->command.s, o->command.len)) {
            if (NATX_GROW(u->commands, u->command_cap, u->command_count + 1))
                return oom(err);
            c = &u->commands[u->command_count];
            memset(c, 0, sizeof *c);
            if (!text_copy(&c->command, o->command.s, o->command.len))
                return oom(err);
            c->p50_ms = c->p95_ms = c->p99_ms = -1;
            u->command_count++;
        }
        c->count += o->count;
        c->known += o->known;
        c->ordinal = o->ordinal;
        c->success += o->success;
        c->failure += o->failure;
        c->interrupted += o->interrupted;
    }
    return NATTEL_OK;
}

/* Nearest rank: the value at rank ceil(p * n / 100) of the n durations
 * in ascending order, from (value, count) pairs. */
static int64_t rank_value(const int64_t *pairs, size_t len, int64_t n, int p)
{
    int64_t rank = (n * p + 99) / 100, seen = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < len; i++) {
        seen += pairs[2 * i + 1];
        if (seen >= rank)
            return pairs[2 * i];
    }
    return -1;
}

static void flush_percentiles(usage_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 0; i < c->dur_len; i++)
        n += c->dur[2 * i + 1];
    for (size_t i = 0; n && i < c->u->command_count; i++) {
        serve_usage_command *cmd = &c->u->commands[i];
        if (!text_equal(&cmd->command, c->pct_command.s, c->pct_command.len))
            continue;
        cmd->p50_ms = rank_value(c->dur, c->dur_len, n, 50);
        cmd->p95_ms = rank_value(c->dur, c->dur_len, n, 95);
        cmd->p99_ms = rank_value(c->dur, c->dur_len, n, 99);
    }
    c->dur_len = 0;
}

/* Rows: command, duration_ms, count, by command then duration. */
static nattel_code read_duration(void *vctx, const serve_store_row *r,
                                 nattel_error *err)
{
    usage_ctx *c = vctx;
    size_t cl;
    const char *cmd = serve_store_row_text(r, 0, &cl);
    if (!c->summed) {
        /* The outcomes are all read: sum them per command once. */
        c->summed = 1;
        nattel_code code = sum_commands(c->u, err);
        if (code)
            return code;
    }
    if (!keeps(c->f, cmd, cl))
        return NATTEL_OK;
    if (!c->pct_command.s || !text_equal(&c->pct_command, cmd, cl)) {
        if (c->pct_command.s)
            flush_percentiles(c);
        free(c->pct_command.s);
        c->pct_command.s = NULL;
        if (!text_copy(&c->pct_command, cmd, cl))
            return oom(err);
    }
    if (NATX_GROW(c->dur, c->dur_cap, 2 * c->dur_len + 2))
        return oom(err);
    c->dur[2 * c->dur_len] = serve_store_row_int(r, 1, 0);
    c->dur[2 * c->dur_len + 1] = serve_store_row_int(r, 2, 0);
    c->dur_len++;
    return NATTEL_OK;
}

/* Rows: key, command, count (or key, key2, count for the types, which
 * are not narrowed by command). */
static nattel_code read_item(void *vctx, const serve_store_row *r,
                             nattel_error *err)
{
    usage_ctx *c = vctx;
    int typed = c->list == &c->u->types;
    size_t kl, cl;
    const char *key = serve_store_row_text(r, 0, &kl);
    const char *cmd = serve_store_row_text(r, 1, &cl);
    if (!typed && !keeps(c->f, cmd, cl))
        return NATTEL_OK;
    serve_usage_list *l = c->list;
    if (NATX_GROW(l->items, l->cap, l->count + 1))
        return oom(err);
    serve_usage_item *it = &l->items[l->count];
    memset(it, 0, sizeof *it);
    l->count++;
    int ok = text_copy(&it->key, key, kl);
    ok = ok && text_copy(typed ? &it->key2 : &it->command, cmd, cl);
    ok = ok && text_copy(typed ? &it->command : &it->key2, "", 0);
    it->count = serve_store_row_int(r, 2, 0);
    return ok ? NATTEL_OK : oom(err);
}

/* " AND e.ts >= 'FROM' AND e.ts < 'TO~'" for the bounds given. */
static nattel_code put_bounds(nattel_buf *b, const serve_usage_filter *f)
{
    char bound[64];
    nattel_code code = NATTEL_OK;
    if (f->from && *f->from) {
        snprintf(bound, sizeof bound, " AND e.ts >= '%s'", f->from);
        code = nattel_buf_append(b, bound, strlen(bound));
    }
    if (!code && f->to && *f->to) {
        snprintf(bound, sizeof bound, " AND e.ts < '%s~'", f->to);
        code = nattel_buf_append(b, bound, strlen(bound));
    }
    return code;
}

static nattel_code read_into(usage_ctx *c, serve_usage_list *l,
                             const serve_store_row *r, nattel_error *err)
{
    c->list = l;
    return read_item(c, r, err);
}

#define USAGE_READER(name, field)                                              \
    static nattel_code name(void *vctx, const serve_store_row *r,              \
                            nattel_error *err)                                 \
    {                                                                          \
        usage_ctx *c = vctx;                                                   \
        return read_into(c, &c->u->field, r, err);                             \
    }
USAGE_READER(read_series, series)
USAGE_READER(read_errors, errors)
USAGE_READER(read_versions, versions)
USAGE_READER(read_archs, archs)
USAGE_READER(read_types, types)

/* The FROM and WHERE of the nat_cli_command queries: events joined only
 * when the time or the events' columns are needed, so that a whole-store
 * count reads the one table and its indexes. The bounds are checked
 * digits; "~" sorts after every character of a time, so that `to` keeps
 * every time it is a prefix of. */
static nattel_code put_from(nattel_buf *b, const serve_usage_filter *f,
                            int join)
{
    int from = f->from && *f->from, to = f->to && *f->to;
    nattel_code code = NATX_PUT_LIT(b, " FROM nat_cli_command c");
    if (!code && (join || from || to))
        code = NATX_PUT_LIT(b, " JOIN events e ON e.id = c.event_id");
    if (!code && join == 2)
        code = NATX_PUT_LIT(b, " JOIN envelopes v ON v.id = e.envelope_id");
    if (!code)
        code = NATX_PUT_LIT(b, " WHERE 1 = 1");
    /* Said although implied, on a whole-store join: it lets the planner
     * walk the events by their type index in id order and find each row by
     * its key, rather than walk a nat_cli_command index and jump about the
     * events table. A time range is read through the events' time index. */
    if (!code && join && !from && !to)
        code = NATX_PUT_LIT(b, " AND e.name = 'nat_cli_command'");
    if (!code)
        code = put_bounds(b, f);
    return code;
}

/* "SELECT <cols>" + FROM/WHERE + "<tail>" as a NUL-terminated string. */
static nattel_code usage_sql(nattel_buf *b, const char *cols,
                             const serve_usage_filter *f, int join,
                             const char *tail)
{
    nattel_code code = NATX_PUT_LIT(b, "SELECT ");
    if (!code)
        code = nattel_buf_append(b, cols, strlen(cols));
    if (!code)
        code = put_from(b, f, join);
    if (!code)
        code = nattel_buf_append(b, tail, strlen(tail) + 1);
    return code;
}

enum {
    UQ_OUTCOMES,
    UQ_DURATIONS,
    UQ_SERIES,
    UQ_ERRORS,
    UQ_VERSIONS,
    UQ_ARCHS,
    UQ_TYPES,
    UQ_N
};

static nattel_code build_usage_sql(nattel_buf sql[UQ_N],
                                   const serve_usage_filter *f)
{
    const char *bucket = f->by_hour
                             ? "substr(e.ts, 1, 13), c.command, count(*)"
                             : "substr(e.ts, 1, 10), c.command, count(*)";
    nattel_code code = usage_sql(
        &sql[UQ_OUTCOMES], "c.command, c.subcommand, c.task_status, count(*)",
        f, 0,
        " GROUP BY c.command, c.subcommand, c.task_status ORDER BY 1, 2, 3");
    if (!code)
        code = usage_sql(&sql[UQ_DURATIONS],
                         "c.command, c.duration_ms, count(*)", f, 0,
                         " AND c.duration_ms >= 0 GROUP BY 1, 2 ORDER BY 1, 2");
    if (!code)
        code = usage_sql(&sql[UQ_SERIES], bucket, f, 1,
                         " GROUP BY 1, 2 ORDER BY 1, 2");
    if (!code)
        code = usage_sql(&sql[UQ_ERRORS], "c.error_class, c.command, count(*)",
                         f, 0,
                         " AND c.error_class <> 'undefined' GROUP BY 1, 2"
                         " ORDER BY 1, 2");
    if (!code)
        code = usage_sql(&sql[UQ_VERSIONS], "e.client_ver, c.command, count(*)",
                         f, 1, " GROUP BY 1, 2 ORDER BY 1, 2");
    if (!code)
        code =
            usage_sql(&sql[UQ_ARCHS], "v.cpu_architecture, c.command, count(*)",
                      f, 2, " GROUP BY 1, 2 ORDER BY 1, 2");
    if (!code)
        code =
            NATX_PUT_LIT(&sql[UQ_TYPES], "SELECT e.name, e.schema_ver,"
                                         " count(*) FROM events e WHERE 1 = 1");
    if (!code)
        code = put_bounds(&sql[UQ_TYPES], f);
    if (!code)
        code = nattel_buf_append(&sql[UQ_TYPES], " GROUP BY 1, 2 ORDER BY 1, 2",
                                 sizeof " GROUP BY 1, 2 ORDER BY 1, 2");
    return code;
}

/* ------------------------------------------------------------------ */
/* Usage from the per-hour summary (layout 4)                          */
/* ------------------------------------------------------------------ */

/* A time filter split in two: whole hours, read from the summary, and
 * the hours a bound falls inside (at most two), read from the events by
 * their time index. An hour is the first 13 characters of a time, and
 * every time of hour H starts with H. A bound of 13 characters or fewer
 * decides each hour whole: a time compares with it as its hour does. A
 * longer one splits its own hour, which the events answer exactly. */
typedef struct usage_span {
    nattel_buf sum;  /* " AND s.hour ..." */
    nattel_buf edge; /* "" or " AND (e.ts in an edge hour)" */
} usage_span;

#define HOUR_LEN 13

static nattel_code put_str(nattel_buf *b, const char *a, const char *x,
                           const char *z)
{
    nattel_code code = nattel_buf_append(b, a, strlen(a));
    if (!code)
        code = nattel_buf_append(b, x, strlen(x));
    if (!code)
        code = nattel_buf_append(b, z, strlen(z));
    return code;
}

/* " OR "-joined: the times of hour h that the filter keeps. The hour's
 * times are [h, h with its last digit + 1): every string that starts with
 * h and nothing else; the filter keeps [from, to + "~"). Their
 * intersection is one range, so that the time index reads that part of
 * the hour only. */
static nattel_code put_edge(nattel_buf *b, const char *h,
                            const serve_usage_filter *f)
{
    char lo[SERVE_USAGE_TIME_MAX + 1], hi[SERVE_USAGE_TIME_MAX + 2];
    memcpy(lo, h, HOUR_LEN);
    lo[HOUR_LEN] = '\0';
    memcpy(hi, lo, HOUR_LEN + 1);
    hi[HOUR_LEN - 1]++; /* a digit: '9' + 1 is ':', which sorts after it */
    if (f->from && *f->from && strcmp(f->from, lo) > 0)
        snprintf(lo, sizeof lo, "%s", f->from);
    if (f->to && *f->to) {
        char to[SERVE_USAGE_TIME_MAX + 2];
        snprintf(to, sizeof to, "%s~", f->to);
        if (strcmp(to, hi) < 0)
            memcpy(hi, to, sizeof to);
    }
    nattel_code code =
        put_str(b, b->len ? " OR (e.ts >= '" : " AND ((e.ts >= '", lo, "'");
    if (!code)
        code = put_str(b, " AND e.ts < '", hi, "')");
    return code;
}

static nattel_code span_build(usage_span *sp, const serve_usage_filter *f)
{
    const char *from = f->from && *f->from ? f->from : NULL;
    const char *to = f->to && *f->to ? f->to : NULL;
    char hour[HOUR_LEN + 1] = "";
    nattel_code code = NATTEL_OK;
    if (from && strlen(from) <= HOUR_LEN) {
        code = put_str(&sp->sum, " AND s.hour >= '", from, "'");
    } else if (from) {
        memcpy(hour, from, HOUR_LEN);
        code = put_str(&sp->sum, " AND s.hour > '", hour, "'");
        if (!code)
            code = put_edge(&sp->edge, hour, f);
    }
    /* "~" sorts after every character of a time (see put_from). */
    if (!code && to && strlen(to) < HOUR_LEN) {
        code = put_str(&sp->sum, " AND s.hour < '", to, "~'");
    } else if (!code && to) {
        int same = hour[0] && !memcmp(hour, to, HOUR_LEN);
        memcpy(hour, to, HOUR_LEN);
        code = put_str(&sp->sum, " AND s.hour < '", hour, "'");
        if (!code && !same)
            code = put_edge(&sp->edge, hour, f);
    }
    if (!code && sp->edge.len)
        code = NATX_PUT_LIT(&sp->edge, ")");
    /* Both kept as C strings, even when empty. */
    if (!code)
        code = nattel_buf_append(&sp->sum, "", 1);
    if (!code)
        code = nattel_buf_append(&sp->edge, "", 1);
    if (!code) {
        sp->sum.len--;
        sp->edge.len--;
    }
    return code;
}

/* One list from the summary: the counts of its whole hours, plus the
 * events' of the edge hours, summed per key (k1..kN), in key order. */
typedef struct summary_query {
    int keys;             /* N */
    const char *outer;    /* "k1, ..., sum(n)" */
    const char *sum_cols; /* "... AS k1, ..., s.n AS n" */
    const char *table;    /* of the summary */
    const char *sum_where;
    const char *raw_cols; /* the same keys and counts from the events */
    int join;             /* as put_from's; -1: the events alone */
    const char *raw_where;
} summary_query;

static const char *const group_by[] = {"", " GROUP BY 1", " GROUP BY 1, 2",
                                       " GROUP BY 1, 2, 3"};
static const char *const order_by[] = {"", " ORDER BY 1", " ORDER BY 1, 2",
                                       " ORDER BY 1, 2, 3"};

static nattel_code summary_sql(nattel_buf *b, const summary_query *q,
                               const usage_span *sp)
{
    nattel_code code = put_str(b, "SELECT ", q->outer, " FROM (SELECT ");
    if (!code)
        code = put_str(b, q->sum_cols, " FROM ", q->table);
    if (!code)
        code = put_str(b, " s WHERE 1 = 1", sp->sum.data, q->sum_where);
    if (!code && sp->edge.len) {
        /* The edges' ranges hold the bounds: nothing else on e.ts, so
         * that the planner reads them through the time index. */
        code = put_str(b, " UNION ALL SELECT ", q->raw_cols,
                       q->join < 0 ? " FROM events e"
                                   : " FROM nat_cli_command c"
                                     " JOIN events e ON e.id = c.event_id");
        if (!code && q->join == 2)
            code = NATX_PUT_LIT(b, " JOIN envelopes v ON v.id = e.envelope_id");
        if (!code)
            code = NATX_PUT_LIT(b, " WHERE 1 = 1");
        if (!code)
            code = put_str(b, q->raw_where, sp->edge.data, group_by[q->keys]);
    }
    if (!code)
        code = put_str(b, ") u", group_by[q->keys], order_by[q->keys]);
    if (!code)
        code = nattel_buf_append(b, "", 1);
    return code;
}

static const summary_query summary_queries[] = {
    [UQ_OUTCOMES] = {3, "k1, k2, k3, sum(n), sum(kn)",
                     "s.command AS k1, s.subcommand AS k2,"
                     " s.task_status AS k3, s.n AS n,"
                     " CASE WHEN s.known = 1 THEN s.n ELSE 0 END AS kn",
                     "usage_commands", "",
                     "c.command, c.subcommand, c.task_status, count(*),"
                     " count(CASE WHEN c.duration_ms >= 0 THEN 1 END)",
                     1, ""},
    [UQ_SERIES] = {2, "k1, k2, sum(n)", NULL, "usage_commands", "", NULL, 1,
                   ""},
    [UQ_ERRORS] = {2, "k1, k2, sum(n)",
                   "s.error_class AS k1, s.command AS k2, s.n AS n",
                   "usage_commands", " AND s.error_class <> 'undefined'",
                   "c.error_class, c.command, count(*)", 1,
                   " AND c.error_class <> 'undefined'"},
    [UQ_VERSIONS] = {2, "k1, k2, sum(n)",
                     "s.client_ver AS k1, s.command AS k2, s.n AS n",
                     "usage_clients", "", "e.client_ver, c.command, count(*)",
                     1, ""},
    [UQ_ARCHS] = {2, "k1, k2, sum(n)",
                  "s.cpu_architecture AS k1, s.command AS k2, s.n AS n",
                  "usage_clients", "",
                  "v.cpu_architecture, c.command, count(*)", 2, ""},
    [UQ_TYPES] = {2, "k1, k2, sum(n)",
                  "s.name AS k1, s.schema_ver AS k2, s.n AS n", "usage_types",
                  "", "e.name, e.schema_ver, count(*)", -1, ""},
};

/* The value of rank r (1-based) among the n known durations of the
 * command ranked `ordinal` in the store: one step through the
 * (command, duration_ms) index from the nearer end. */
static nattel_code put_rank_sql(nattel_buf *b, int64_t ordinal, int64_t n,
                                int p)
{
    int64_t r = (n * p + 99) / 100;
    if (r < 1)
        r = 1;
    int asc = r - 1 <= n - r;
    char tail[160];
    snprintf(tail, sizeof tail,
             " WHERE i = %lld) AND c.duration_ms >= 0"
             " ORDER BY c.duration_ms%s LIMIT 1 OFFSET %lld)",
             (long long)ordinal, asc ? "" : " DESC",
             (long long)(asc ? r - 1 : n - r));
    return put_str(b,
                   ", (SELECT c.duration_ms FROM nat_cli_command c"
                   " WHERE c.command = (SELECT command FROM k",
                   tail, "");
}

/* The percentiles of the whole store, once the outcomes (and so each
 * command's count of known durations) are read: a row per kept command
 * with one (its index in u->commands, p50, p95, p99). */
static nattel_code make_pct_sql(void *vctx, const char **sql, nattel_error *err)
{
    usage_ctx *c = vctx;
    serve_usage *u = c->u;
    nattel_buf *b = &c->pct_sql;
    nattel_code code = NATTEL_OK;
    if (!c->summed) {
        c->summed = 1;
        code = sum_commands(u, err);
        if (code)
            return code;
    }
    code = NATX_PUT_LIT(b, "WITH k AS MATERIALIZED (SELECT command,"
                           " row_number() OVER (ORDER BY command) AS i"
                           " FROM (SELECT DISTINCT command"
                           " FROM usage_commands) d)");
    int rows = 0;
    for (size_t i = 0; !code && i < u->command_count; i++) {
        const serve_usage_command *cmd = &u->commands[i];
        if (cmd->known <= 0)
            continue;
        char head[64];
        snprintf(head, sizeof head, "%s SELECT %zu", rows ? " UNION ALL" : "",
                 i);
        code = nattel_buf_append(b, head, strlen(head));
        for (int p = 0; !code && p < 3; p++)
            code = put_rank_sql(b, cmd->ordinal, cmd->known,
                                (int[]){50, 95, 99}[p]);
        rows++;
    }
    if (!code)
        code = nattel_buf_append(b, "", 1);
    if (code)
        return oom(err);
    *sql = rows ? b->data : NULL;
    return NATTEL_OK;
}

/* Rows: index into u->commands, p50, p95, p99. */
static nattel_code read_pct(void *vctx, const serve_store_row *r,
                            nattel_error *err)
{
    (void)err;
    usage_ctx *c = vctx;
    int64_t i = serve_store_row_int(r, 0, -1);
    if (i < 0 || (size_t)i >= c->u->command_count)
        return NATTEL_OK;
    serve_usage_command *cmd = &c->u->commands[i];
    cmd->p50_ms = serve_store_row_int(r, 1, -1);
    cmd->p95_ms = serve_store_row_int(r, 2, -1);
    cmd->p99_ms = serve_store_row_int(r, 3, -1);
    return NATTEL_OK;
}

static nattel_code build_summary_sql(nattel_buf sql[UQ_N],
                                     const serve_usage_filter *f)
{
    usage_span sp = {NATTEL_BUF_INIT, NATTEL_BUF_INIT};
    nattel_code code = span_build(&sp, f);
    summary_query series = summary_queries[UQ_SERIES];
    series.sum_cols = f->by_hour ? "s.hour AS k1, s.command AS k2, s.n AS n"
                                 : "substr(s.hour, 1, 10) AS k1,"
                                   " s.command AS k2, s.n AS n";
    series.raw_cols = f->by_hour ? "substr(e.ts, 1, 13), c.command, count(*)"
                                 : "substr(e.ts, 1, 10), c.command, count(*)";
    for (int i = 0; !code && i < UQ_N; i++) {
        if (i == UQ_DURATIONS)
            continue;
        code = summary_sql(&sql[i],
                           i == UQ_SERIES ? &series : &summary_queries[i], &sp);
    }
    /* A time range: its durations from its events, by the time index. */
    if (!code && sp.sum.len)
        code = usage_sql(&sql[UQ_DURATIONS],
                         "c.command, c.duration_ms, count(*)", f, 0,
                         " AND c.duration_ms >= 0 GROUP BY 1, 2 ORDER BY 1, 2");
    nattel_buf_free(&sp.sum);
    nattel_buf_free(&sp.edge);
    return code;
}

nattel_code serve_usage_load(serve_store *st, const serve_usage_filter *f,
                             serve_usage *out, nattel_error *err)
{
    memset(out, 0, sizeof *out);
    if ((f->from && *f->from && !serve_usage_time_ok(f->from)) ||
        (f->to && *f->to && !serve_usage_time_ok(f->to)))
        return natx_fail(err, NATTEL_EINVAL,
                         "a time bound must be YYYY[-MM[-DD[THH[:MM[:SS]]]]]");
    nattel_buf sql[UQ_N];
    for (int i = 0; i < UQ_N; i++)
        sql[i] = (nattel_buf)NATTEL_BUF_INIT;
    usage_ctx c = {.u = out, .f = f, .pct_sql = NATTEL_BUF_INIT};
    int summary = serve_store_layout(st) >= SERVE_STORE_SUMMARY_VERSION;
    nattel_code code =
        summary ? build_summary_sql(sql, f) : build_usage_sql(sql, f);
    if (code)
        code = oom(err);
    /* One read snapshot for all, so that the parts add up. */
    static nattel_code (*const readers[UQ_N])(void *, const serve_store_row *,
                                              nattel_error *) = {
        read_outcome,  read_duration, read_series, read_errors,
        read_versions, read_archs,    read_types};
    serve_store_query q[UQ_N];
    for (int i = 0; i < UQ_N; i++) {
        q[i].sql = sql[i].data;
        q[i].on_row = readers[i];
        q[i].make_sql = NULL;
    }
    /* The whole store's percentiles: by rank, once the counts are read. */
    if (summary && !sql[UQ_DURATIONS].data) {
        q[UQ_DURATIONS].on_row = read_pct;
        q[UQ_DURATIONS].make_sql = make_pct_sql;
    }
    if (!code)
        code = serve_store_select(st, q, UQ_N, &c, err);
    /* A store without durations leaves the commands to sum here. */
    if (!code && !c.summed)
        code = sum_commands(out, err);
    if (!code && c.pct_command.s)
        flush_percentiles(&c);
    free(c.pct_command.s);
    free(c.last_command.s);
    nattel_buf_free(&c.pct_sql);
    free(c.dur);
    for (int i = 0; i < UQ_N; i++)
        nattel_buf_free(&sql[i]);
    if (code)
        serve_usage_free(out);
    return code;
}
