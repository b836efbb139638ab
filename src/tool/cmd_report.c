/* nattel report: usage per command and subcommand from a serve database. */
#include "commands.h"

#include "serve/serve_report.h"
#include "serve/serve_store.h"

#include <nattel/nattel.h>

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: nattel report [--db FILE|URI] [--json] [--types]\n"
    "\n"
    "Usage per command and subcommand of the nat_cli_command events that\n"
    "'nattel serve' stored: how many, how many succeeded, failed and were\n"
    "interrupted, the median and 95th-percentile durations (nearest rank,\n"
    "known durations only) and the most frequent error classes.\n"
    "\n"
    "  --db FILE   database (default nattel.db); opened read-only; or a\n"
    "              PostgreSQL URI (postgresql://..., as for nattel serve)\n"
    "  --json      a JSON array of objects with the keys command,\n"
    "              subcommand, count, success, failure, interrupted,\n"
    "              p50DurationMs, p95DurationMs (null when unknown) and\n"
    "              errorClasses\n"
    "  --types     instead: every stored event counted by event name and\n"
    "              schema version, whatever its type (EVENT, SCHEMA_VERSION,\n"
    "              COUNT, tab-separated; --json: event, schemaVersion,\n"
    "              count)\n"
    "  -h, --help  this help\n"
    "\n"
    "Strings are printed exactly as stored: control characters (and NUL)\n"
    "are escaped (\\n, \\u0000), never cut or dropped.\n"
    "\n"
    "Exit status: 0 success; 1 the database cannot be read (missing, not a\n"
    "SQLite database, unreachable, not a nattel serve database) or the report "
    "cannot be\n"
    "written; 2 usage error.\n";

enum { OPT_DB = TOOL_OPT_LONG, OPT_JSON, OPT_TYPES };

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"json", no_argument, NULL, OPT_JSON},
    {"types", no_argument, NULL, OPT_TYPES},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"report", "h", longopts, 0, 0};

typedef struct report_args {
    const char *db;
    int json;
    int types;
} report_args;

static int take(void *ctx, int c, const char *v)
{
    report_args *a = ctx;
    if (c == OPT_JSON)
        a->json = 1;
    else if (c == OPT_TYPES)
        a->types = 1;
    else
        a->db = v;
    return TOOL_GO;
}

static int print_report(const serve_report *r, int json)
{
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err = {NATTEL_OK, ""};
    nattel_code code = json ? serve_report_write_json(r, &out, &err)
                            : serve_report_write_table(r, &out, &err);
    if (code) {
        tool_error("report", "%s", err.message);
        nattel_buf_free(&out);
        return NATTEL_EXIT_FAIL;
    }
    fwrite(out.data, 1, out.len, stdout);
    nattel_buf_free(&out);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        tool_error("report", "cannot write to standard output");
        return NATTEL_EXIT_FAIL;
    }
    return NATTEL_EXIT_OK;
}

static int print_types(serve_store *store, int json)
{
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err = {NATTEL_OK, ""};
    int rc = NATTEL_EXIT_OK;
    if (serve_report_types(store, json, &out, &err)) {
        tool_error("report", "%s", err.message);
        rc = NATTEL_EXIT_FAIL;
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
               fflush(stdout)) {
        tool_error("report", "cannot write to standard output");
        rc = NATTEL_EXIT_FAIL;
    }
    nattel_buf_free(&out);
    return rc;
}

int tool_cmd_report(int argc, char **argv)
{
    report_args a = {"nattel.db", 0, 0};
    int rc = tool_parse(&spec, usage, argc, argv, take, &a);
    if (rc != TOOL_GO)
        return rc;
    if (!*a.db)
        return tool_usage_error("report", "--db: the file name is empty");
    serve_store *store = NULL;
    nattel_error err = {NATTEL_OK, ""};
    serve_report report;
    serve_report_init(&report);
    nattel_code code = serve_store_open(a.db, 1, &store, &err);
    if (!code && a.types) {
        rc = print_types(store, a.json);
        serve_store_close(store);
        return rc;
    }
    if (!code)
        code = serve_report_load(store, &report, &err);
    if (code) {
        tool_error("report", "%s", err.message);
        rc = NATTEL_EXIT_FAIL;
    } else {
        rc = print_report(&report, a.json);
    }
    serve_report_free(&report);
    serve_store_close(store);
    return rc;
}
