#define _GNU_SOURCE /* memmem, strsignal */
/* nattel capture: runs a command with telemetry on against a private,
 * throwaway endpoint and state directory, and checks that it sent exactly
 * one valid nat_cli_command event: a host team's CI check. */
#include "commands.h"
#include "natx/natx_jsonw.h"

#include "serve/serve_server.h"
#include "serve/serve_store.h"

#include <nattel/client.h>
#include <nattel/nattel.h>
#include <nattel/options.h>

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage_text[] =
    "usage: nattel capture [--expect FIELD=VALUE]... [--json]\n"
    "                      -- COMMAND [ARG]...\n"
    "\n"
    "Runs COMMAND with telemetry on against a private endpoint and state\n"
    "directory, waits for what it sends, and checks that exactly one valid\n"
    "nat_cli_command event arrived. Nothing of yours is read or written and\n"
    "nothing is sent anywhere else: COMMAND gets NAT_TELEMETRY_ENABLED=1, a\n"
    "consent file and NATTEL_STATE_DIR in a temporary directory (under\n"
    "$TMPDIR, else /tmp; removed at the end), and\n"
    "NAT_TELEMETRY_ENDPOINT pointing at an endpoint this process serves on\n"
    "127.0.0.1 (a free port, a temporary store); DO_NOT_TRACK,\n"
    "NAT_TELEMETRY_DRY_RUN and NATTEL_DELIVERY are removed, so delivery goes\n"
    "the default way: spooled, then sent by the detached flusher.\n"
    "After COMMAND exits, capture waits up to 10 s for the spool to empty,\n"
    "then up to 5 s for the flusher to finish; events the flusher left are\n"
    "sent by capture itself, and that is a failure. Every payload is checked\n"
    "strictly against the wire schema; each event is printed as it was\n"
    "received ('event: NAME PARAMETERS'), then 'command: ...' and 'result:\n"
    "pass' or 'result: fail' on standard output, after COMMAND's own output.\n"
    "COMMAND's standard input, output and error are its own (passed\n"
    "through); its exit status is reported on the 'command:' line and in\n"
    "--json, and does not change capture's.\n"
    "\n"
    "  --expect FIELD=VALUE  the event's FIELD (wire or C name, e.g.\n"
    "                        command, taskStatus or task_status) must be\n"
    "                        VALUE, compared as text; repeatable\n"
    "  --json                instead, one JSON object as the last line of\n"
    "                        standard output: result (\"pass\"/\"fail\"),\n"
    "                        reasons (strings), events ([{name,\n"
    "                        parameters}]), rejected (the endpoint's log line\n"
    "                        of each refused payload), command ({exitStatus,\n"
    "                        signal}: one of them null)\n"
    "\n"
    "Exit status: 0 exactly one valid nat_cli_command event arrived and it\n"
    "matches every --expect; 1 otherwise (none, more than one, a payload\n"
    "refused, a field differs, COMMAND could not be run: each reason is one\n"
    "line on standard error); 2 usage error.\n";

#define MAX_EXPECT 64
/* How long the detached flusher gets to empty the spool. */
#define CAPTURE_SPOOL_WAIT_MS 10000
#define CAPTURE_POLL_MS 50

typedef struct capture_args {
    const char *expect[MAX_EXPECT];
    size_t n_expect;
    int json;
    const char *first; /* COMMAND, an element of argv */
} capture_args;

typedef struct capture_event {
    char *name;
    char *parameters;
} capture_event;

/* What happened: filled as capture goes, printed at the end. */
typedef struct capture_run {
    char dir[512]; /* the temporary directory */
    char state[600], consent[600], db[600];
    char *url;
    pid_t pid;
    int status; /* waitpid's */
    int ran;    /* the command was started */
    capture_event *events;
    size_t n_events;
    char *log; /* the endpoint's log lines */
    size_t log_len;
    nattel_buf reasons; /* one reason a line */
} capture_run;

enum { OPT_EXPECT = TOOL_OPT_LONG, OPT_JSON };

static const struct option longopts[] = {
    {"expect", required_argument, NULL, OPT_EXPECT},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"capture", "h", longopts, -1, 1};

/* FIELD must name a field of nat_cli_command: a typo is a usage error,
 * not a silent mismatch. */
static int check_expect(const char *v)
{
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return tool_usage_error("capture", "--expect '%s': not FIELD=VALUE", v);
    if (nattel_event_type_field_index(&nattel_cli_command_type, v,
                                      (size_t)(eq - v)) < 0)
        return tool_usage_error(
            "capture", "--expect '%s': nat_cli_command has no field '%.*s'", v,
            (int)(eq - v), v);
    return TOOL_GO;
}

static int take(void *ctx, int c, const char *v)
{
    capture_args *a = ctx;
    if (c == OPT_JSON) {
        a->json = 1;
        return TOOL_GO;
    }
    if (c == TOOL_ARGS_OPERAND) {
        if (!a->first)
            a->first = v;
        return TOOL_GO;
    }
    if (a->n_expect == MAX_EXPECT)
        return tool_usage_error("capture", "more than %d --expect options",
                                MAX_EXPECT);
    a->expect[a->n_expect++] = v;
    return check_expect(v);
}

static void reason(capture_run *r, const char *fmt, ...) TOOL_PRINTF(2, 3);
static void reason(capture_run *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    (void)nattel_buf_append(&r->reasons, line, strlen(line) + 1);
}

/* ------------------------------------------------------------------ */
/* The private endpoint and directory                                  */
/* ------------------------------------------------------------------ */

static int make_dir(capture_run *r)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > 400)
        tmp = "/tmp";
    snprintf(r->dir, sizeof r->dir, "%s/nattel-capture.XXXXXX", tmp);
    if (!mkdtemp(r->dir)) {
        tool_error("capture", "cannot create a directory in '%s': %s", tmp,
                   strerror(errno));
        return -1;
    }
    snprintf(r->state, sizeof r->state, "%s/state", r->dir);
    snprintf(r->consent, sizeof r->consent, "%s/telemetry.toml", r->dir);
    snprintf(r->db, sizeof r->db, "%s/capture.db", r->dir);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    (void)remove(path);
    return 0;
}

static void remove_dir(const capture_run *r)
{
    if (r->dir[0])
        (void)nftw(r->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

/* Variables capture sets or removes: whatever the caller's environment
 * says about telemetry must not reach the command. */
static const char *const owned_vars[] = {
    "NAT_TELEMETRY_ENABLED", "DO_NOT_TRACK",
    "NAT_TELEMETRY_DRY_RUN", "NAT_TELEMETRY_ENDPOINT",
    "NATTEL_STATE_DIR",      "NAT_TELEMETRY_CONSENT_FILE",
    "NATTEL_DELIVERY",       NULL};

static int owned(const char *entry)
{
    for (const char *const *v = owned_vars; *v; v++) {
        size_t n = strlen(*v);
        if (!strncmp(entry, *v, n) && entry[n] == '=')
            return 1;
    }
    return 0;
}

static char *joined(const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s=%s", name, value);
    return s;
}

/* The command's environment: the caller's, with the owned variables
 * replaced. Strings from environ are borrowed; the last five are ours. */
static char **build_env(const capture_run *r, char *mine[5])
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 6, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!owned(environ[i]))
            env[k++] = environ[i];
    mine[0] = joined("NAT_TELEMETRY_ENABLED", "1");
    mine[1] = joined("NAT_TELEMETRY_ENDPOINT", r->url);
    mine[2] = joined("NATTEL_STATE_DIR", r->state);
    mine[3] = joined("NAT_TELEMETRY_CONSENT_FILE", r->consent);
    mine[4] = NULL;
    for (int i = 0; i < 4; i++) {
        if (!mine[i]) {
            free(env);
            return NULL;
        }
        env[k++] = mine[i];
    }
    return env;
}

/* posix_spawnp: nothing but exec runs in the child of this threaded
 * process, and a command that cannot be run is an error here. */
static int spawn(capture_run *r, char **argv, char **env)
{
    posix_spawnattr_t attr;
    sigset_t def, none;
    sigemptyset(&def);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGQUIT);
    sigaddset(&def, SIGPIPE);
    sigemptyset(&none);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    int e = posix_spawnp(&r->pid, argv[0], NULL, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    if (e) {
        reason(r, "cannot run '%s': %s", argv[0], strerror(e));
        return -1;
    }
    r->ran = 1;
    return 0;
}

/* Like system(3): while the command runs, ^C and ^\ are its to take;
 * capture goes on to clean up. */
static void run_command(capture_run *r, char **argv)
{
    char *mine[5] = {NULL};
    char **env = build_env(r, mine);
    if (!env) {
        reason(r, "out of memory");
        return;
    }
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    if (!spawn(r, argv, env))
        while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
            ;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    for (int i = 0; i < 4; i++)
        free(mine[i]);
    free(env);
}

/* ------------------------------------------------------------------ */
/* Waiting for delivery                                                */
/* ------------------------------------------------------------------ */

static size_t spooled(const nattel_options *o)
{
    nattel_delivery_info *info = NULL;
    (void)nattel_delivery_status(o, &info, NULL);
    size_t n = nattel_delivery_spooled(info);
    nattel_delivery_info_free(info);
    return n;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Options that see what the command saw, to read its spool. */
static nattel_options *command_options(const capture_run *r)
{
    const char *env[] = {NULL, NULL, NULL, NULL, NULL};
    char *mine[4] = {joined("NAT_TELEMETRY_ENABLED", "1"),
                     joined("NAT_TELEMETRY_ENDPOINT", r->url),
                     joined("NATTEL_STATE_DIR", r->state),
                     joined("NAT_TELEMETRY_CONSENT_FILE", r->consent)};
    for (int i = 0; i < 4; i++)
        env[i] = mine[i];
    nattel_options *o = nattel_options_new();
    if (o && nattel_options_from_env(o, nattel_envp_lookup, (void *)env, NULL))
        nattel_options_free(o), o = NULL;
    for (int i = 0; i < 4; i++)
        free(mine[i]);
    if (o)
        nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    return o;
}

/* The detached flusher gets CAPTURE_SPOOL_WAIT_MS to empty the spool.
 * Then one flush waits for it to let go of the state directory (up to
 * 5 s) and sends what it left: those are counted as its failure. */
static void wait_delivery(capture_run *r)
{
    nattel_options *o = command_options(r);
    if (!o) {
        reason(r, "out of memory");
        return;
    }
    long waited = 0;
    while (spooled(o) && waited < CAPTURE_SPOOL_WAIT_MS) {
        sleep_ms(CAPTURE_POLL_MS);
        waited += CAPTURE_POLL_MS;
    }
    size_t left = spooled(o);
    nattel_flush_result res = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err = {NATTEL_OK, ""};
    if (nattel_flush_now(o, 0, &res, &err))
        reason(r, "cannot read the command's spool: %s", err.message);
    if (left)
        reason(r,
               "%zu event(s) were still spooled %d s after the command "
               "exited: the detached flusher did not deliver them (capture "
               "sent them itself; see 'NATTEL_DEBUG=1')",
               left, CAPTURE_SPOOL_WAIT_MS / 1000);
    nattel_options_free(o);
}

/* ------------------------------------------------------------------ */
/* What arrived                                                        */
/* ------------------------------------------------------------------ */

static nattel_code on_event(void *ctx, const serve_store_row *row,
                            nattel_error *err)
{
    capture_run *r = ctx;
    capture_event *grown =
        realloc(r->events, (r->n_events + 1) * sizeof *r->events);
    if (!grown)
        goto oom;
    r->events = grown;
    capture_event *e = &r->events[r->n_events];
    size_t len;
    e->name = strdup(serve_store_row_text(row, 0, &len));
    e->parameters = strdup(serve_store_row_text(row, 1, &len));
    r->n_events++;
    if (e->name && e->parameters)
        return NATTEL_OK;
oom:
    snprintf(err->message, sizeof err->message, "out of memory");
    return NATTEL_ENOMEM;
}

static void read_events(capture_run *r, serve_store *store)
{
    static const serve_store_query q = {
        "SELECT name, parameters FROM events ORDER BY id", on_event, NULL};
    nattel_error err = {NATTEL_OK, ""};
    if (serve_store_select(store, &q, 1, r, &err))
        reason(r, "cannot read the received events: %s", err.message);
}

/* The log line of every request the endpoint did not answer 200: a
 * payload that broke the schema, was not JSON, or was not a POST. */
static int refused_line(const char *line, size_t n)
{
    const char *arrow = memmem(line, n, " -> ", 4);
    return arrow && strncmp(arrow + 4, "200 ", 4) != 0;
}

/* The next line of the endpoint's log from *off: 0 at the end. */
static int next_line(const capture_run *r, size_t *off, const char **p,
                     size_t *n)
{
    if (!r->log || *off >= r->log_len)
        return 0;
    *p = r->log + *off;
    const char *nl = memchr(*p, '\n', r->log_len - *off);
    *n = nl ? (size_t)(nl - *p) : r->log_len - *off;
    *off += *n + 1;
    return 1;
}

static size_t count_refused(const capture_run *r)
{
    size_t k = 0, off = 0, n;
    const char *p;
    while (next_line(r, &off, &p, &n))
        k += refused_line(p, n);
    return k;
}

/* ------------------------------------------------------------------ */
/* The verdict                                                         */
/* ------------------------------------------------------------------ */

/* A field's value as text, as --expect compares it. */
static void value_text(const nattel_field *f, const nattel_value *v, char *out,
                       size_t size)
{
    if (!v) {
        snprintf(out, size, "(unset)");
        return;
    }
    switch (f->kind) {
    case NATTEL_KIND_STRING:
        snprintf(out, size, "%.*s", (int)v->s.len, v->s.ptr);
        break;
    case NATTEL_KIND_ENUM:
        snprintf(out, size, "%s", f->enum_type->values[v->e]);
        break;
    case NATTEL_KIND_INT64:
        snprintf(out, size, "%lld", (long long)v->i);
        break;
    case NATTEL_KIND_NUMBER:
        snprintf(out, size, "%.17g", v->d);
        break;
    case NATTEL_KIND_BOOL:
        snprintf(out, size, "%s", v->b ? "true" : "false");
        break;
    default:
        snprintf(out, size, "(a list)");
    }
}

static void check_expect_one(capture_run *r, const nattel_event *ev,
                             const char *expect)
{
    const char *eq = strchr(expect, '=');
    int i = nattel_event_type_field_index(&nattel_cli_command_type, expect,
                                          (size_t)(eq - expect));
    const nattel_field *f = &nattel_cli_command_type.fields[i];
    char got[512];
    value_text(f, nattel_event_value(ev, (size_t)i), got, sizeof got);
    if (strcmp(got, eq + 1))
        reason(r, "%s is '%s', expected '%s'", f->wire_name, got, eq + 1);
}

static void check_the_event(capture_run *r, const capture_args *a,
                            const capture_event *e)
{
    nattel_event *ev = NULL;
    nattel_problems problems;
    nattel_problems_init(&problems);
    if (nattel_event_from_json(&nattel_cli_command_type, e->parameters,
                               strlen(e->parameters), NATTEL_MODE_WIRE, &ev,
                               &problems)) {
        reason(r, "the nat_cli_command event does not decode");
    } else {
        for (size_t i = 0; i < a->n_expect; i++)
            check_expect_one(r, ev, a->expect[i]);
    }
    nattel_event_free(ev);
    nattel_problems_free(&problems);
}

static void judge(capture_run *r, const capture_args *a)
{
    size_t refused = count_refused(r), k = 0;
    const capture_event *one = NULL;
    if (refused)
        reason(r, "%zu payload(s) refused by the strict check (see 'rejected')",
               refused);
    for (size_t i = 0; i < r->n_events; i++)
        if (!strcmp(r->events[i].name, nattel_cli_command_type.name))
            k++, one = &r->events[i];
    if (!k && r->ran)
        reason(r, "no nat_cli_command event arrived");
    else if (k > 1)
        reason(r, "%zu nat_cli_command events arrived, expected exactly one",
               k);
    else if (k == 1)
        check_the_event(r, a, one);
}

static int passed(const capture_run *r)
{
    return r->ran && r->reasons.len == 0;
}

static void put_command(natx_jsonw *w, const capture_run *r)
{
    natx_jsonw_key(w, "command");
    natx_jsonw_begin_object(w);
    natx_jsonw_key(w, "exitStatus");
    if (r->ran && WIFEXITED(r->status))
        natx_jsonw_int64(w, WEXITSTATUS(r->status));
    else
        natx_jsonw_null(w);
    natx_jsonw_key(w, "signal");
    if (r->ran && WIFSIGNALED(r->status))
        natx_jsonw_int64(w, WTERMSIG(r->status));
    else
        natx_jsonw_null(w);
    natx_jsonw_end_object(w);
}

static void put_lists(natx_jsonw *w, const capture_run *r)
{
    natx_jsonw_key(w, "reasons");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < r->reasons.len; i += strlen(r->reasons.data + i) + 1)
        natx_jsonw_cstring(w, r->reasons.data + i);
    natx_jsonw_end_array(w);
    natx_jsonw_key(w, "events");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < r->n_events; i++) {
        natx_jsonw_begin_object(w);
        natx_jsonw_key(w, "name");
        natx_jsonw_cstring(w, r->events[i].name);
        natx_jsonw_key(w, "parameters");
        natx_jsonw_raw(w, r->events[i].parameters,
                       strlen(r->events[i].parameters));
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
    natx_jsonw_key(w, "rejected");
    natx_jsonw_begin_array(w);
    size_t off = 0, n;
    const char *p;
    while (next_line(r, &off, &p, &n))
        if (refused_line(p, n))
            natx_jsonw_string_lossy(w, p, n);
    natx_jsonw_end_array(w);
}

static int print_json(const capture_run *r)
{
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    nattel_error err;
    natx_jsonw_init(&w, &b);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "result");
    natx_jsonw_cstring(&w, passed(r) ? "pass" : "fail");
    put_lists(&w, r);
    put_command(&w, r);
    natx_jsonw_end_object(&w);
    int ok = !natx_jsonw_finish(&w, &err) &&
             fwrite(b.data, 1, b.len, stdout) == b.len && putchar('\n') != EOF;
    nattel_buf_free(&b);
    return ok ? 0 : -1;
}

static void print_command(const capture_run *r)
{
    if (!r->ran)
        printf("command: not run\n");
    else if (WIFEXITED(r->status))
        printf("command: exited with status %d\n", WEXITSTATUS(r->status));
    else
        printf("command: killed by signal %d (%s)\n", WTERMSIG(r->status),
               strsignal(WTERMSIG(r->status)));
}

static int print_text(const capture_run *r)
{
    for (size_t i = 0; i < r->n_events; i++)
        printf("event: %s %s\n", r->events[i].name, r->events[i].parameters);
    size_t off = 0, n;
    const char *p;
    while (next_line(r, &off, &p, &n))
        if (refused_line(p, n))
            printf("rejected: %.*s\n", (int)n, p);
    print_command(r);
    printf("result: %s\n", passed(r) ? "pass" : "fail");
    return 0;
}

static int report(const capture_run *r, const capture_args *a)
{
    fflush(stdout); /* nothing of ours before the command's own output */
    int bad = a->json ? print_json(r) : print_text(r);
    if (bad || fflush(stdout)) {
        tool_error("capture", "cannot write to standard output");
        return NATTEL_EXIT_USAGE;
    }
    for (size_t i = 0; i < r->reasons.len; i += strlen(r->reasons.data + i) + 1)
        tool_error("capture", "%s", r->reasons.data + i);
    return passed(r) ? NATTEL_EXIT_OK : NATTEL_EXIT_FAIL;
}

/* ------------------------------------------------------------------ */
/* The whole run                                                       */
/* ------------------------------------------------------------------ */

static int start_endpoint(capture_run *r, const nattel_registry *reg, FILE *log,
                          serve_server **server, serve_store **store)
{
    serve_server_config cfg = SERVE_SERVER_CONFIG_INIT;
    cfg.listen = "127.0.0.1:0";
    cfg.log = log;
    nattel_error err = {NATTEL_OK, ""};
    if (serve_server_bind(&cfg, reg, server, &err) ||
        serve_store_open(r->db, 0, store, &err) ||
        serve_server_start(*server, *store, &err)) {
        tool_error("capture", "cannot start the private endpoint: %s",
                   err.message);
        return -1;
    }
    r->url = strdup(serve_server_url(*server));
    return r->url ? 0 : (tool_error("capture", "out of memory"), -1);
}

static void capture_free(capture_run *r)
{
    for (size_t i = 0; i < r->n_events; i++) {
        free(r->events[i].name);
        free(r->events[i].parameters);
    }
    free(r->events);
    free(r->log);
    free(r->url);
    nattel_buf_free(&r->reasons);
}

static int capture(capture_run *r, char **argv)
{
    nattel_registry *reg = nattel_registry_new();
    FILE *log = open_memstream(&r->log, &r->log_len);
    serve_server *server = NULL;
    serve_store *store = NULL;
    int rc = 0;
    if (!reg || !log) {
        tool_error("capture", "out of memory");
        rc = -1;
    } else if (start_endpoint(r, reg, log, &server, &store)) {
        rc = -1;
    } else {
        run_command(r, argv);
        if (r->ran)
            wait_delivery(r);
    }
    serve_server_stop(server, 1000);
    if (!rc)
        read_events(r, store);
    serve_store_close(store);
    if (log)
        fclose(log);
    nattel_registry_free(reg);
    return rc;
}

int tool_cmd_capture(int argc, char **argv)
{
    capture_args a = {.n_expect = 0};
    int rc = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (rc != TOOL_GO)
        return rc;
    if (!a.first)
        return tool_usage_error("capture", "no COMMAND to run (nattel capture "
                                           "[OPTIONS] -- COMMAND [ARG]...)");
    int first = 1;
    while (argv[first] != a.first)
        first++;
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up is not our death */
    capture_run r = {.reasons = NATTEL_BUF_INIT};
    if (make_dir(&r))
        return NATTEL_EXIT_FAIL;
    if (capture(&r, argv + first)) {
        rc = NATTEL_EXIT_FAIL;
    } else {
        judge(&r, &a);
        rc = report(&r, &a);
    }
    remove_dir(&r);
    capture_free(&r);
    return rc;
}
