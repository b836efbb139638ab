#include "serve/serve_dashboard.h"

#include "natx/natx_error.h"
#include "natx/natx_jsonw.h"
#include "natx/natx_mem.h"
#include "serve/serve_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The page's style and script, from src/serve/dashboard/ (made into C
 * strings by the build: serve_dashboard_assets.c). */
extern const char serve_dashboard_css[];
extern const char serve_dashboard_js[];

/* Rows the page's tables keep of the lists sorted by count. */
#define TOP_ROWS 12

int serve_dashboard_route(const char *path)
{
    if (!strcmp(path, SERVE_DASHBOARD_PAGE_PATH))
        return 1;
    if (!strcmp(path, SERVE_DASHBOARD_API_PATH))
        return 2;
    return 0;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The filter of a query; NATTEL_EINVAL names the bad parameter. */
static nattel_code to_filter(const serve_dashboard_query *q,
                             serve_usage_filter *f, nattel_error *err)
{
    memset(f, 0, sizeof *f);
    f->from = or_empty(q->from);
    f->to = or_empty(q->to);
    f->command = or_empty(q->command);
    f->command_len = strlen(f->command);
    const char *bucket = or_empty(q->bucket);
    if (*f->from && !serve_usage_time_ok(f->from))
        return natx_fail(err, NATTEL_EINVAL,
                         "from: not YYYY[-MM[-DD[THH[:MM[:SS]]]]]");
    if (*f->to && !serve_usage_time_ok(f->to))
        return natx_fail(err, NATTEL_EINVAL,
                         "to: not YYYY[-MM[-DD[THH[:MM[:SS]]]]]");
    if (*bucket && strcmp(bucket, "day") && strcmp(bucket, "hour"))
        return natx_fail(err, NATTEL_EINVAL, "bucket: not hour or day");
    if (f->command_len > SERVE_USAGE_COMMAND_MAX)
        return natx_fail(err, NATTEL_EINVAL, "command: longer than %d bytes",
                         SERVE_USAGE_COMMAND_MAX);
    f->by_hour = !strcmp(bucket, "hour");
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static void put_str(natx_jsonw *w, const char *key, const serve_text *t)
{
    natx_jsonw_key(w, key);
    natx_jsonw_string_lossy(w, t->s ? t->s : "", t->s ? t->len : 0);
}

static void put_cstr(natx_jsonw *w, const char *key, const char *s)
{
    natx_jsonw_key(w, key);
    natx_jsonw_string_lossy(w, s, strlen(s));
}

/* A count, or null when unknown (negative). */
static void put_int(natx_jsonw *w, const char *key, int64_t v)
{
    natx_jsonw_key(w, key);
    if (v < 0)
        natx_jsonw_null(w);
    else
        natx_jsonw_int64(w, v);
}

static void put_rate(natx_jsonw *w, int64_t failure, int64_t count)
{
    natx_jsonw_key(w, "failureRate");
    natx_jsonw_double(w, count ? (double)failure / (double)count : 0.0);
}

static void put_commands(natx_jsonw *w, const serve_usage *u)
{
    natx_jsonw_key(w, "commands");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < u->command_count; i++) {
        const serve_usage_command *c = &u->commands[i];
        natx_jsonw_begin_object(w);
        put_str(w, "command", &c->command);
        put_int(w, "count", c->count);
        put_int(w, "success", c->success);
        put_int(w, "failure", c->failure);
        put_int(w, "interrupted", c->interrupted);
        put_rate(w, c->failure, c->count);
        put_int(w, "p50DurationMs", c->p50_ms);
        put_int(w, "p95DurationMs", c->p95_ms);
        put_int(w, "p99DurationMs", c->p99_ms);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
}

static void put_outcomes(natx_jsonw *w, const serve_usage *u)
{
    natx_jsonw_key(w, "outcomes");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < u->outcomes.count; i++) {
        const serve_report_row *r = &u->outcomes.rows[i];
        natx_jsonw_begin_object(w);
        put_str(w, "command", &r->command);
        put_str(w, "subcommand", &r->subcommand);
        put_int(w, "count", r->count);
        put_int(w, "success", r->success);
        put_int(w, "failure", r->failure);
        put_int(w, "interrupted", r->interrupted);
        put_int(w, "other",
                r->count - r->success - r->failure - r->interrupted);
        put_rate(w, r->failure, r->count);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
}

/* A list as [{key: ..., (key2: ... | "command": ...), "count": n}]. */
static void put_list(natx_jsonw *w, const char *name, const serve_usage_list *l,
                     const char *key, const char *key2)
{
    natx_jsonw_key(w, name);
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < l->count; i++) {
        natx_jsonw_begin_object(w);
        put_str(w, key, &l->items[i].key);
        if (key2)
            put_str(w, key2, &l->items[i].key2);
        else
            put_str(w, "command", &l->items[i].command);
        put_int(w, "count", l->items[i].count);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
}

static nattel_code write_json(const serve_usage *u, const serve_usage_filter *f,
                              nattel_buf *out, nattel_error *err)
{
    natx_jsonw w;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "filter");
    natx_jsonw_begin_object(&w);
    put_cstr(&w, "from", f->from);
    put_cstr(&w, "to", f->to);
    put_cstr(&w, "command", f->command);
    put_cstr(&w, "bucket", f->by_hour ? "hour" : "day");
    natx_jsonw_end_object(&w);
    put_int(&w, "total", u->total);
    put_commands(&w, u);
    put_outcomes(&w, u);
    put_list(&w, "series", &u->series, "bucket", NULL);
    put_list(&w, "errorClasses", &u->errors, "errorClass", NULL);
    put_list(&w, "clientVersions", &u->versions, "clientVersion", NULL);
    put_list(&w, "cpuArchitectures", &u->archs, "cpuArchitecture", NULL);
    put_list(&w, "eventTypes", &u->types, "event", "schemaVersion");
    natx_jsonw_end_object(&w);
    nattel_code code = natx_jsonw_finish(&w, err);
    if (!code)
        code = nattel_buf_append(out, "\n", 1);
    return code ? natx_fail(err, code, "cannot write the report as JSON")
                : NATTEL_OK;
}

nattel_code serve_dashboard_json(serve_store *st,
                                 const serve_dashboard_query *q,
                                 nattel_buf *out, nattel_error *err)
{
    serve_usage_filter f;
    serve_usage u;
    nattel_code code = to_filter(q, &f, err);
    if (!code)
        code = serve_usage_load(st, &f, &u, err);
    if (code)
        return code;
    code = write_json(&u, &f, out, err);
    serve_usage_free(&u);
    return code;
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

typedef struct page {
    nattel_buf *out;
    nattel_code code;
} page;

static void lit(page *p, const char *s)
{
    if (!p->code)
        p->code = nattel_buf_append(p->out, s, strlen(s));
}

/* Text for HTML text and quoted attribute values: the five characters
 * that can end either as entities. */
static void esc(page *p, const char *s)
{
    for (; *s && !p->code; s++) {
        switch (*s) {
        case '&':
            lit(p, "&amp;");
            break;
        case '<':
            lit(p, "&lt;");
            break;
        case '>':
            lit(p, "&gt;");
            break;
        case '"':
            lit(p, "&quot;");
            break;
        case '\'':
            lit(p, "&#39;");
            break;
        default:
            p->code = nattel_buf_append(p->out, s, 1);
        }
    }
}

/* Stored text, whole and printable (as the report's table shows it:
 * controls and bytes that are not UTF-8 escaped), then escaped. */
static void esc_text(page *p, const serve_text *t)
{
    char *s = serve_report_printable(t);
    if (!s) {
        if (!p->code)
            p->code = NATTEL_ENOMEM;
        return;
    }
    esc(p, s);
    free(s);
}

static void num(page *p, int64_t v)
{
    char tmp[32];
    if (v < 0)
        snprintf(tmp, sizeof tmp, "-");
    else
        snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    lit(p, tmp);
}

static void rate(page *p, int64_t failure, int64_t count)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.1f%%",
             count ? 100.0 * (double)failure / (double)count : 0.0);
    lit(p, tmp);
}

/* One cell of stored text, escaped. */
static void td_text(page *p, const serve_text *t)
{
    lit(p, "<td>");
    esc_text(p, t);
    lit(p, "</td>");
}

static void td_num(page *p, int64_t v)
{
    lit(p, "<td class=n>");
    num(p, v);
    lit(p, "</td>");
}

static void section(page *p, const char *id, const char *title,
                    const char *head)
{
    lit(p, "<section id=\"");
    lit(p, id);
    lit(p, "\"><h2>");
    lit(p, title);
    lit(p, "</h2><div class=chart aria-hidden=true></div><table id=\"t-");
    lit(p, id);
    lit(p, "\"><thead><tr>");
    lit(p, head);
    lit(p, "</tr></thead><tbody>");
}

static void section_end(page *p)
{
    lit(p, "</tbody></table></section>\n");
}

static void commands_table(page *p, const serve_usage *u)
{
    section(p, "commands", "Commands: events, failure rate, duration",
            "<th>command<th>events<th>success<th>failure<th>interrupted"
            "<th>failure rate<th>p50 ms<th>p95 ms<th>p99 ms");
    for (size_t i = 0; i < u->command_count; i++) {
        const serve_usage_command *c = &u->commands[i];
        lit(p, "<tr>");
        td_text(p, &c->command);
        td_num(p, c->count);
        td_num(p, c->success);
        td_num(p, c->failure);
        td_num(p, c->interrupted);
        lit(p, "<td class=n>");
        rate(p, c->failure, c->count);
        lit(p, "</td>");
        td_num(p, c->p50_ms);
        td_num(p, c->p95_ms);
        td_num(p, c->p99_ms);
        lit(p, "</tr>");
    }
    section_end(p);
}

static void outcomes_table(page *p, const serve_usage *u)
{
    section(p, "outcomes", "Outcomes per command and subcommand",
            "<th>command<th>subcommand<th>events<th>success<th>failure"
            "<th>interrupted<th>other<th>failure rate");
    for (size_t i = 0; i < u->outcomes.count; i++) {
        const serve_report_row *r = &u->outcomes.rows[i];
        lit(p, "<tr>");
        td_text(p, &r->command);
        td_text(p, &r->subcommand);
        td_num(p, r->count);
        td_num(p, r->success);
        td_num(p, r->failure);
        td_num(p, r->interrupted);
        td_num(p, r->count - r->success - r->failure - r->interrupted);
        lit(p, "<td class=n>");
        rate(p, r->failure, r->count);
        lit(p, "</td></tr>");
    }
    section_end(p);
}

static void series_table(page *p, const serve_usage *u, int by_hour)
{
    section(p, "series",
            by_hour ? "Events over time, per hour (UTC)"
                    : "Events over time, per day (UTC)",
            "<th>time<th>command<th>events");
    for (size_t i = 0; i < u->series.count; i++) {
        const serve_usage_item *it = &u->series.items[i];
        lit(p, "<tr>");
        td_text(p, &it->key);
        td_text(p, &it->command);
        td_num(p, it->count);
        lit(p, "</tr>");
    }
    section_end(p);
}

/* Keys summed over the commands (the list is sorted by key, so a key's
 * rows are adjacent), most frequent first, ties by key. */
typedef struct key_sum {
    const serve_text *key;
    int64_t count;
} key_sum;

static int by_count(const void *a, const void *b)
{
    const key_sum *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
    int c = memcmp(x->key->s, y->key->s, n);
    return c ? c : (x->key->len > y->key->len) - (x->key->len < y->key->len);
}

static void sums_table(page *p, const serve_usage_list *l, const char *id,
                       const char *title, const char *head)
{
    key_sum *sums = calloc(l->count ? l->count : 1, sizeof *sums);
    size_t n = 0;
    if (!sums) {
        if (!p->code)
            p->code = NATTEL_ENOMEM;
        return;
    }
    for (size_t i = 0; i < l->count; i++) {
        const serve_text *k = &l->items[i].key;
        if (n && sums[n - 1].key->len == k->len &&
            !memcmp(sums[n - 1].key->s, k->s, k->len))
            sums[n - 1].count += l->items[i].count;
        else
            sums[n++] = (key_sum){k, l->items[i].count};
    }
    qsort(sums, n, sizeof *sums, by_count);
    section(p, id, title, head);
    for (size_t i = 0; i < n && i < TOP_ROWS; i++) {
        lit(p, "<tr>");
        td_text(p, sums[i].key);
        td_num(p, sums[i].count);
        lit(p, "</tr>");
    }
    section_end(p);
    free(sums);
}

static void types_table(page *p, const serve_usage *u)
{
    section(p, "types", "Every event type, by name and schema version",
            "<th>event<th>schema version<th>events");
    for (size_t i = 0; i < u->types.count; i++) {
        const serve_usage_item *it = &u->types.items[i];
        lit(p, "<tr>");
        td_text(p, &it->key);
        td_text(p, &it->key2);
        td_num(p, it->count);
        lit(p, "</tr>");
    }
    section_end(p);
}

/* The filter form: a GET to the page itself, so that the URL keeps the
 * filters (served: the server applies them; from a file: the script). */
static void form(page *p, const serve_usage_filter *f, const serve_usage *u)
{
    lit(p, "<form id=filter method=get>"
           "<label>from <input name=from size=19 placeholder=YYYY-MM-DD"
           " value=\"");
    esc(p, f->from);
    lit(p, "\"></label> <label>to <input name=to size=19"
           " placeholder=YYYY-MM-DD value=\"");
    esc(p, f->to);
    lit(p, "\"></label> <label>command <input name=command list=command-names"
           " size=16 value=\"");
    esc(p, f->command);
    lit(p, "\"></label><datalist id=command-names>");
    for (size_t i = 0; i < u->command_count; i++) {
        lit(p, "<option value=\"");
        esc_text(p, &u->commands[i].command);
        lit(p, "\">");
    }
    lit(p, "</datalist> <label>per <select name=bucket><option value=day");
    lit(p, f->by_hour ? ">day" : " selected>day");
    lit(p, f->by_hour ? "<option value=hour selected>hour"
                      : "<option value=hour>hour");
    lit(p, "</select></label> <button>Apply</button> <a href=\"?\">clear</a>"
           "</form>\n");
}

/* The data for the script: JSON inside <script type=application/json>,
 * with <, > and & as \u escapes (they occur only inside strings), so that
 * no stored text ends the element. */
static void embed_json(page *p, const serve_usage *u,
                       const serve_usage_filter *f, int file, nattel_error *err)
{
    nattel_buf j = NATTEL_BUF_INIT;
    if (!p->code)
        p->code = write_json(u, f, &j, err);
    lit(p, "<script type=application/json id=nattel-data>");
    lit(p, file ? "{\"mode\":\"file\",\"data\":"
                : "{\"mode\":\"served\",\"data\":");
    for (size_t i = 0; i < j.len && !p->code; i++) {
        char c = j.data[i];
        if (c == '<')
            lit(p, "\\u003c");
        else if (c == '>')
            lit(p, "\\u003e");
        else if (c == '&')
            lit(p, "\\u0026");
        else if (c != '\n')
            p->code = nattel_buf_append(p->out, &c, 1);
    }
    lit(p, "}</script>\n");
    nattel_buf_free(&j);
}

static void write_page(page *p, const serve_usage *u,
                       const serve_usage_filter *f, int file, nattel_error *err)
{
    lit(p, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
           "<meta name=viewport content=\"width=device-width\">"
           /* Nothing may load from anywhere: no network, no fonts. */
           "<meta http-equiv=Content-Security-Policy content=\"default-src"
           " 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
           " img-src data:\">"
           "<title>nattel usage</title><style>");
    lit(p, serve_dashboard_css);
    lit(p, "</style></head><body><header><h1>nattel usage</h1><p id=summary>");
    num(p, u->total);
    lit(p, " command events");
    if (*f->command) {
        lit(p, " of <b>");
        esc(p, f->command);
        lit(p, "</b>");
    }
    lit(p, *f->from || *f->to ? " in the range chosen" : ", all stored");
    lit(p, ".</p>");
    form(p, f, u);
    lit(p, "<p id=file-note hidden></p></header><main>\n");
    series_table(p, u, f->by_hour);
    commands_table(p, u);
    outcomes_table(p, u);
    sums_table(p, &u->errors, "errors", "Most frequent error classes",
               "<th>error class<th>events");
    sums_table(p, &u->versions, "versions", "Client versions",
               "<th>client version<th>events");
    sums_table(p, &u->archs, "archs", "CPU architectures",
               "<th>CPU architecture<th>events");
    types_table(p, u);
    lit(p, "</main>\n");
    embed_json(p, u, f, file, err);
    lit(p, "<script>");
    lit(p, serve_dashboard_js);
    lit(p, "</script></body></html>\n");
}

nattel_code serve_dashboard_page(serve_store *st,
                                 const serve_dashboard_query *q, int file,
                                 nattel_buf *out, nattel_error *err)
{
    serve_usage_filter f;
    serve_usage u;
    nattel_code code = to_filter(q, &f, err);
    if (!code)
        code = serve_usage_load(st, &f, &u, err);
    if (code)
        return code;
    page p = {out, NATTEL_OK};
    write_page(&p, &u, &f, file, err);
    serve_usage_free(&u);
    if (p.code && p.code != NATTEL_ENOMEM && err->code)
        return p.code;
    return p.code ? natx_fail(err, p.code, "cannot write the page: %s",
                              nattel_code_name(p.code))
                  : NATTEL_OK;
}
