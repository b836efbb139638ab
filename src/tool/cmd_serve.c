/* nattel serve: the local ingest endpoint, until SIGINT or SIGTERM. */
#include "commands.h"

#include "serve/serve_server.h"
#include "serve/serve_store.h"

#include <nattel/nattel.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: nattel serve [--listen ADDR:PORT] [--db FILE] [--schema FILE]...\n"
    "                    [--max-body BYTES] [--fail-status CODE]\n"
    "                    [--fail-count N] [--delay-ms N] [--retry-after S]\n"
    "                    [--max-connections N] [--max-per-ip N]\n"
    "                    [--request-timeout S] [--quiet]\n"
    "\n"
    "A local, strict stand-in for the NeMo usage telemetry ingest. Accepts\n"
    "POST " SERVE_SERVER_PATH " (one envelope), validates it and stores\n"
    "its events in a SQLite database or in PostgreSQL. When ready it prints "
    "the URL to use\n"
    "as NAT_TELEMETRY_ENDPOINT on stdout; one log line per request goes to\n"
    "stderr. A store that cannot write (disk full, database locked) answers\n"
    "503 with Retry-After; a body that is not Content-Type application/json\n"
    "gets 415. An envelope sent again unchanged, or events whose IDs (the\n"
    "Nattel-Event-Ids header) are stored already, are stored once and\n"
    "answered 200. SIGINT or SIGTERM stops it: requests in flight are "
    "answered,\n"
    "the database is closed, the exit status is 0.\n"
    "\n"
    "  --listen ADDR:PORT  address to listen on "
    "(default " SERVE_SERVER_DEFAULT_LISTEN ");\n"
    "                      port 0 picks a free one; [IPV6]:PORT for IPv6\n"
    "  --db FILE|URI       SQLite database (default nattel.db), created if\n"
    "                      missing; or PostgreSQL: postgresql://[USER[:PW]@]\n"
    "                      [HOST][:PORT][/DB][?...] (postgres:// too; the\n"
    "                      PG* variables fill in the rest, as for psql),\n"
    "                      its tables created if missing. Several servers\n"
    "                      may share one PostgreSQL database; a password\n"
    "                      is shown as ***\n"
    "  --schema FILE       also accept the event types of this schema file\n"
    "                      (anonymous_events.json layout); repeatable\n"
    "  --max-body BYTES    largest request body (default 1048576); larger\n"
    "                      ones get 413 and are not read into memory\n"
    "  --fail-status CODE  answer POSTs with CODE (200-599), storing nothing\n"
    "  --fail-count N      ... only the first N POSTs (default: all)\n"
    "  --delay-ms N        wait N ms before each answer\n"
    "  --retry-after S     send Retry-After: S with 429 and 503 answers\n"
    "                      (a 503 from the store says 5 without it)\n"
    "  --max-connections N open connections at once (default 1024); more\n"
    "                      are closed as they arrive\n"
    "  --max-per-ip N      ... from one client address (default 128)\n"
    "  --request-timeout S a request's headers and body must arrive\n"
    "                      within S seconds (default 30), or the\n"
    "                      connection is closed\n"
    "  -q, --quiet         no log line per request\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 stopped by a signal; 1 cannot serve: the address cannot\n"
    "be bound (in use) or the database cannot be opened or written (not a\n"
    "SQLite database, another schema version, permission denied, disk\n"
    "full, PostgreSQL unreachable at start), nothing is created then; 2 usage "
    "error, including a --schema\n"
    "file that cannot be read or used.\n";

#define MAX_SCHEMAS 32
/* Beyond --delay-ms, how long requests in flight get to finish at exit. */
#define DRAIN_MS 10000u

typedef struct serve_opts {
    serve_server_config cfg;
    const char *db;
    const char *schemas[MAX_SCHEMAS];
    size_t schema_count;
    int quiet;
} serve_opts;

/* A decimal in [min, max]; 0 on success. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int bad_value(const char *opt, const char *value, const char *what)
{
    return tool_usage_error("serve", "%s: '%s' is not %s", opt, value, what);
}

/* Options that take a number (the table has no other). */
static int number_option(serve_opts *o, const char *opt, const char *value)
{
    long v = 0;
    if (!strcmp(opt, "--max-body")) {
        if (parse_long(value, 1, NATTEL_JSON_MAX_BYTES, &v))
            return bad_value(opt, value, "a size from 1 to 16777216");
        o->cfg.max_body = (size_t)v;
    } else if (!strcmp(opt, "--fail-status")) {
        if (parse_long(value, 200, 599, &v))
            return bad_value(opt, value, "an HTTP status from 200 to 599");
        o->cfg.fail_status = (int)v;
    } else if (!strcmp(opt, "--fail-count")) {
        if (parse_long(value, 0, 1000000000L, &v))
            return bad_value(opt, value, "a count from 0");
        o->cfg.fail_count = v;
    } else if (!strcmp(opt, "--delay-ms")) {
        if (parse_long(value, 0, 600000L, &v))
            return bad_value(opt, value, "milliseconds from 0 to 600000");
        o->cfg.delay_ms = (unsigned)v;
    } else if (!strcmp(opt, "--retry-after")) {
        if (parse_long(value, 0, 86400L, &v))
            return bad_value(opt, value, "seconds from 0 to 86400");
        o->cfg.retry_after = v;
    } else if (!strcmp(opt, "--max-connections")) {
        if (parse_long(value, 1, 1000000L, &v))
            return bad_value(opt, value, "a count from 1 to 1000000");
        o->cfg.max_connections = (unsigned)v;
    } else if (!strcmp(opt, "--max-per-ip")) {
        if (parse_long(value, 1, 1000000L, &v))
            return bad_value(opt, value, "a count from 1 to 1000000");
        o->cfg.max_per_ip = (unsigned)v;
    } else if (!strcmp(opt, "--request-timeout")) {
        if (parse_long(value, 1, 86400L, &v))
            return bad_value(opt, value, "seconds from 1 to 86400");
        o->cfg.request_timeout_s = (unsigned)v;
    }
    return NATTEL_EXIT_OK;
}

static int value_option(serve_opts *o, const char *opt, const char *value)
{
    if (!strcmp(opt, "--listen")) {
        o->cfg.listen = value;
    } else if (!strcmp(opt, "--db")) {
        if (!*value)
            return bad_value(opt, value, "a file name");
        o->db = value;
    } else if (!strcmp(opt, "--schema")) {
        if (o->schema_count == MAX_SCHEMAS) {
            tool_error("serve", "--schema: at most %d files", MAX_SCHEMAS);
            return NATTEL_EXIT_USAGE;
        }
        o->schemas[o->schema_count++] = value;
    } else {
        return number_option(o, opt, value);
    }
    return NATTEL_EXIT_OK;
}

enum { OPT_QUIET = 'q', OPT_VALUE = TOOL_OPT_LONG };

/* Every option with a value has a val from OPT_VALUE up, in this order;
 * value_option() takes it by its name. */
static const struct option longopts[] = {
    {"listen", required_argument, NULL, OPT_VALUE},
    {"db", required_argument, NULL, OPT_VALUE + 1},
    {"schema", required_argument, NULL, OPT_VALUE + 2},
    {"max-body", required_argument, NULL, OPT_VALUE + 3},
    {"fail-status", required_argument, NULL, OPT_VALUE + 4},
    {"fail-count", required_argument, NULL, OPT_VALUE + 5},
    {"delay-ms", required_argument, NULL, OPT_VALUE + 6},
    {"retry-after", required_argument, NULL, OPT_VALUE + 7},
    {"max-connections", required_argument, NULL, OPT_VALUE + 8},
    {"max-per-ip", required_argument, NULL, OPT_VALUE + 9},
    {"request-timeout", required_argument, NULL, OPT_VALUE + 10},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"serve", "hq", longopts, 0, 0};

static int take(void *ctx, int c, const char *v)
{
    serve_opts *o = ctx;
    if (c == OPT_QUIET) {
        o->quiet = 1;
        return TOOL_GO;
    }
    char opt[32];
    snprintf(opt, sizeof opt, "--%s", longopts[c - OPT_VALUE].name);
    int rc = value_option(o, opt, v);
    return rc == NATTEL_EXIT_OK ? TOOL_GO : rc;
}

static int load_schemas(const serve_opts *o, nattel_registry *reg)
{
    for (size_t i = 0; i < o->schema_count; i++) {
        nattel_error err = {NATTEL_OK, ""};
        nattel_code code =
            nattel_registry_load_schema_file(reg, o->schemas[i], &err);
        if (code) {
            tool_error("serve", "--schema '%s': %s", o->schemas[i],
                       err.message);
            return NATTEL_EXIT_USAGE;
        }
    }
    return NATTEL_EXIT_OK;
}

/* SIGINT and SIGTERM are blocked in every thread (the server's threads
 * inherit the mask) and taken synchronously by the main thread with
 * sigwait: no handler, no global state. */
static void block_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    /* A shell without job control starts background commands with SIGINT
     * ignored, and an ignored signal never reaches sigwait. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    /* A client that hangs up must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
}

static int wait_for_stop(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    return sig;
}

static int cannot_serve(const nattel_error *err)
{
    tool_error("serve", "%s", err->message);
    return NATTEL_EXIT_FAIL;
}

static int run(const serve_opts *o, serve_server *server, serve_store *store,
               const sigset_t *stop)
{
    nattel_error err = {NATTEL_OK, ""};
    if (serve_server_start(server, store, &err))
        return cannot_serve(&err);
    printf("%s\n", serve_server_url(server));
    fflush(stdout);
    char shown[512];
    serve_store_mask(o->db, shown, sizeof shown);
    if (!o->quiet)
        fprintf(stderr,
                "nattel serve: storing events in '%s'; SIGINT or SIGTERM "
                "stops\n",
                shown);
    int sig = wait_for_stop(stop);
    if (!o->quiet)
        fprintf(stderr, "nattel serve: %s received, stopping\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
    return NATTEL_EXIT_OK;
}

/* The address first, the database second: a server that cannot listen
 * leaves no database file behind. */
static int bind_and_run(const serve_opts *o, nattel_registry *reg,
                        const sigset_t *stop)
{
    serve_server *server = NULL;
    serve_store *store = NULL;
    nattel_error err = {NATTEL_OK, ""};
    int rc;
    nattel_code code = serve_server_bind(&o->cfg, reg, &server, &err);
    if (code == NATTEL_EINVAL) {
        /* --listen is not ADDR:PORT */
        tool_error("serve", "%s", err.message);
        rc = NATTEL_EXIT_USAGE;
    } else if (code)
        rc = cannot_serve(&err);
    else if (serve_store_open(o->db, 0, &store, &err))
        rc = cannot_serve(&err);
    else
        rc = run(o, server, store, stop);
    serve_server_stop(server, o->cfg.delay_ms + DRAIN_MS);
    serve_store_close(store);
    return rc;
}

int tool_cmd_serve(int argc, char **argv)
{
    serve_opts o = {SERVE_SERVER_CONFIG_INIT, "nattel.db", {NULL}, 0, 0};
    int rc = tool_parse(&spec, usage, argc, argv, take, &o);
    if (rc != TOOL_GO)
        return rc;
    o.cfg.log = o.quiet ? NULL : stderr;
    /* A wildcard address is reachable from other machines: say so, even
     * with --quiet (it is not a request log line). */
    if (!strncmp(o.cfg.listen, "0.0.0.0:", 8) ||
        !strncmp(o.cfg.listen, "[::]:", 5))
        tool_error("serve",
                   "warning: --listen %s: other machines can reach this "
                   "endpoint (127.0.0.1:PORT keeps it to this one)",
                   o.cfg.listen);
    sigset_t stop;
    block_stop_signals(&stop);
    nattel_registry *reg = nattel_registry_new();
    if (!reg) {
        tool_error("serve", "out of memory");
        return NATTEL_EXIT_FAIL;
    }
    rc = load_schemas(&o, reg);
    if (rc == NATTEL_EXIT_OK)
        rc = bind_and_run(&o, reg, &stop);
    nattel_registry_free(reg);
    return rc;
}
