/* nattel report: usage per command and subcommand from a serve database. */
#include "commands.h"

#include "serve/serve_dashboard.h"
#include "serve/serve_report.h"
#include "serve/serve_store.h"

#include "natx/natx_error.h"
#include "natx/natx_file.h"

#include <nattel/nattel.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: nattel report [--db FILE|URI | --local] [--json] [--types]\n"
    "       nattel report [--db FILE|URI | --local] --html FILE [--from T]\n"
    "                     [--to T] [--command NAME] [--bucket hour|day]\n"
    "\n"
    "Usage per command and subcommand of the nat_cli_command events that\n"
    "'nattel serve' stored: how many, how many succeeded, failed and were\n"
    "interrupted, the median and 95th-percentile durations (nearest rank,\n"
    "known durations only) and the most frequent error classes.\n"
    "\n"
    "  --db FILE   database (default nattel.db); opened read-only; or a\n"
    "              PostgreSQL URI (postgresql://..., as for nattel serve)\n"
    "  --local     the events kept on this machine in local-only mode\n"
    "              (`nattel consent --local`; STATE/local/ of the state\n"
    "              directory), loaded into a temporary database\n"
    "  --json      a JSON array of objects with the keys command,\n"
    "              subcommand, count, success, failure, interrupted,\n"
    "              p50DurationMs, p95DurationMs (null when unknown) and\n"
    "              errorClasses\n"
    "  --types     instead: every stored event counted by event name and\n"
    "              schema version, whatever its type (EVENT, SCHEMA_VERSION,\n"
    "              COUNT, tab-separated; --json: event, schemaVersion,\n"
    "              count)\n"
    "  --html FILE instead: the usage dashboard (as 'nattel serve' shows it\n"
    "              at /) written to FILE, self-contained, its data inside;\n"
    "              opened from disk, its filter form narrows the data it\n"
    "              holds (the command exactly, the time range the chart of\n"
    "              events over time)\n"
    "  --from T, --to T  with --html: only events from/to T, inclusive,\n"
    "              T a UTC time YYYY[-MM[-DD[THH[:MM[:SS]]]]]\n"
    "  --command NAME  with --html: only that command's events\n"
    "  --bucket hour|day  with --html: events over time per hour or day\n"
    "  -h, --help  this help\n"
    "\n"
    "Strings are printed exactly as stored: control characters (and NUL)\n"
    "are escaped (\\n, \\u0000), never cut or dropped.\n"
    "\n"
    "Exit status: 0 success; 1 the database cannot be read (missing, not a\n"
    "SQLite database, unreachable, not a nattel serve database) or the report "
    "cannot be\n"
    "written; 2 usage error.\n";

enum {
    OPT_DB = TOOL_OPT_LONG,
    OPT_JSON,
    OPT_TYPES,
    OPT_HTML,
    OPT_FROM,
    OPT_TO,
    OPT_COMMAND,
    OPT_BUCKET,
    OPT_LOCAL
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"local", no_argument, NULL, OPT_LOCAL},
    {"json", no_argument, NULL, OPT_JSON},
    {"types", no_argument, NULL, OPT_TYPES},
    {"html", required_argument, NULL, OPT_HTML},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"command", required_argument, NULL, OPT_COMMAND},
    {"bucket", required_argument, NULL, OPT_BUCKET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"report", "h", longopts, 0, 0};

typedef struct report_args {
    const char *db;
    int json;
    int types;
    int local;
    int db_given;
    const char *html;
    serve_dashboard_query q;
} report_args;

static int take(void *ctx, int c, const char *v)
{
    report_args *a = ctx;
    if (c == OPT_JSON)
        a->json = 1;
    else if (c == OPT_TYPES)
        a->types = 1;
    else if (c == OPT_HTML)
        a->html = v;
    else if (c == OPT_FROM)
        a->q.from = v;
    else if (c == OPT_TO)
        a->q.to = v;
    else if (c == OPT_COMMAND)
        a->q.command = v;
    else if (c == OPT_BUCKET)
        a->q.bucket = v;
    else if (c == OPT_LOCAL)
        a->local = 1;
    else {
        a->db = v;
        a->db_given = 1;
    }
    return TOOL_GO;
}

/* ------------------------------------------------------------ --local */

/* The local store is a folder of envelopes (the library writes them with
 * no database code on the host's path); a report loads them into a
 * temporary database through the endpoint's own store and report code, so
 * the numbers are computed exactly as for `nattel serve`'s. */

static int is_kept(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

/* One kept envelope into the store; a file that cannot be read or
 * decoded is named on stderr and skipped (the others still count). */
static void load_one(serve_store *st, const nattel_registry *reg,
                     const char *dir, const char *name)
{
    char path[4096];
    nattel_buf body = NATTEL_BUF_INIT;
    nattel_error err = {NATTEL_OK, ""};
    nattel_envelope *env = NULL;
    nattel_problems probs;
    nattel_problems_init(&probs);
    nattel_code rc = natx_path_join(path, sizeof path, dir, name, &err);
    if (!rc)
        rc = natx_file_read(path, NATTEL_JSON_MAX_BYTES, &body, &err);
    if (!rc && nattel_envelope_from_json(reg, body.data, body.len,
                                         NATTEL_MODE_WIRE, &env, &probs)) {
        rc = NATTEL_EPARSE;
        snprintf(err.message, sizeof err.message, "not a valid envelope%s%s",
                 probs.count ? ": " : "",
                 probs.count ? probs.items[0].message : "");
    }
    if (!rc) {
        serve_store_delivery d = {env, body.data, body.len, NULL, 0};
        rc = serve_store_put(st, &d, NULL, &err);
    }
    if (rc)
        tool_error("report", "%s/%s: skipped: %s", dir, name, err.message);
    nattel_envelope_free(env);
    nattel_problems_free(&probs);
    nattel_buf_free(&body);
}

static nattel_code load_local(serve_store *st, const char *dir,
                              nattel_error *err)
{
    nattel_registry *reg = nattel_registry_new();
    if (!reg)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    DIR *d = opendir(dir);
    if (d) {
        for (struct dirent *e = readdir(d); e; e = readdir(d))
            if (is_kept(e->d_name))
                load_one(st, reg, dir, e->d_name);
        closedir(d);
    }
    nattel_registry_free(reg);
    /* A folder never made: nothing was kept yet (an empty report). */
    return NATTEL_OK;
}

/* A temporary database (removed when done) holding the local events. */
static nattel_code open_local(serve_store **store, char *tmp, size_t cap,
                              nattel_error *err)
{
    nattel_options *o = tool_options_load("report");
    if (!o)
        return natx_fail(err, NATTEL_EINVAL, "cannot read the configuration");
    char dir[4096];
    const char *state = nattel_options_state_dir(o);
    nattel_code rc;
    if (state)
        rc = natx_path_join(dir, sizeof dir, state, "local", err);
    else
        rc = natx_fail(err, NATTEL_EINVAL,
                       "--local: no state directory known (set HOME or "
                       "NATTEL_STATE_DIR)");
    nattel_options_free(o);
    const char *base = getenv("TMPDIR");
    if (!rc)
        snprintf(tmp, cap, "%s/nattel-report-XXXXXX",
                 base && *base ? base : "/tmp");
    int fd = rc ? -1 : mkstemp(tmp);
    if (!rc && fd < 0)
        rc = natx_fail(err, NATTEL_EIO, "mkstemp %s: %s", tmp, strerror(errno));
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = serve_store_open(tmp, 0, store, err);
    if (!rc)
        rc = load_local(*store, dir, err);
    return rc;
}

static void remove_tmp(const char *tmp)
{
    static const char *const tails[] = {"", "-wal", "-shm", "-journal"};
    char p[4200];
    for (size_t i = 0; tmp[0] && i < sizeof tails / sizeof *tails; i++) {
        snprintf(p, sizeof p, "%s%s", tmp, tails[i]);
        unlink(p);
    }
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

/* The page in `path`, written whole or not at all (a temporary file
 * renamed over it). */
static int write_html(serve_store *store, const report_args *a)
{
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err = {NATTEL_OK, ""};
    if (serve_dashboard_page(store, &a->q, 1, &out, &err)) {
        tool_error("report", "%s", err.message);
        nattel_buf_free(&out);
        return err.code == NATTEL_EINVAL ? NATTEL_EXIT_USAGE : NATTEL_EXIT_FAIL;
    }
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", a->html);
    FILE *f = n > 0 && (size_t)n < sizeof tmp ? fopen(tmp, "wb") : NULL;
    int ok = f && fwrite(out.data, 1, out.len, f) == out.len;
    ok = f && fclose(f) == 0 && ok;
    nattel_buf_free(&out);
    if (!ok || rename(tmp, a->html) != 0) {
        tool_error("report", "--html %s: cannot write: %s", a->html,
                   strerror(errno));
        if (f)
            remove(tmp);
        return NATTEL_EXIT_FAIL;
    }
    return NATTEL_EXIT_OK;
}

int tool_cmd_report(int argc, char **argv)
{
    report_args a = {"nattel.db", 0, 0, 0, 0, NULL, {NULL, NULL, NULL, NULL}};
    int rc = tool_parse(&spec, usage, argc, argv, take, &a);
    if (rc != TOOL_GO)
        return rc;
    if (a.local && a.db_given)
        return tool_usage_error("report",
                                "--db and --local exclude each other");
    if (!*a.db)
        return tool_usage_error("report", "--db: the file name is empty");
    if (a.html && (!*a.html || a.json || a.types))
        return tool_usage_error("report", *a.html ? "--html goes alone, without"
                                                    " --json or --types"
                                                  : "--html: the file name is"
                                                    " empty");
    if (!a.html && (a.q.from || a.q.to || a.q.command || a.q.bucket))
        return tool_usage_error("report", "--from, --to, --command and"
                                          " --bucket go with --html");
    serve_store *store = NULL;
    nattel_error err = {NATTEL_OK, ""};
    serve_report report;
    serve_report_init(&report);
    char tmp[4096] = "";
    nattel_code code = a.local ? open_local(&store, tmp, sizeof tmp, &err)
                               : serve_store_open(a.db, 1, &store, &err);
    if (!code && a.html) {
        rc = write_html(store, &a);
        serve_store_close(store);
        remove_tmp(tmp);
        return rc;
    }
    if (!code && a.types) {
        rc = print_types(store, a.json);
        serve_store_close(store);
        remove_tmp(tmp);
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
    remove_tmp(tmp);
    return rc;
}
