/* nattel emit: one nat_cli_command event through consent and delivery,
 * for hosts that are scripts. */
#include "commands.h"

#include <nattel/client.h>
#include <nattel/nattel.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage_text[] =
    "usage: nattel emit --command C --status S [--subcommand X]\n"
    "                   [--duration-ms N] [--exit-code N] [--error-class E]\n"
    "                   [--python-version V] [--client-version V]\n"
    "       nattel emit --event NAME [--schema FILE]... [--set "
    "FIELD=VALUE]...\n"
    "                   [--client-version V]\n"
    "\n"
    "Sends one nat_cli_command event (the first form) or one event of any\n"
    "registered type (the second), if telemetry is allowed (environment,\n"
    "consent file, or the first-run prompt on a terminal), through the sink\n"
    "NAT_TELEMETRY_ENDPOINT selects. For an http(s) endpoint the event is\n"
    "written to the spool in the state directory and a detached flusher\n"
    "sends it (NATTEL_DELIVERY=spool-only: only spooled, see 'nattel flush').\n"
    "Never waits on the network. Nothing is written to standard output.\n"
    "\n"
    "  --command C         the host's top-level command (required)\n"
    "  --status S          success, failure, completed, error, canceled,\n"
    "                      interrupted or undefined (required)\n"
    "  --subcommand X      a registered subcommand (default \"undefined\")\n"
    "  --duration-ms N     run time in ms, -1 when unknown (default -1)\n"
    "  --exit-code N       the host's exit code (default -1)\n"
    "  --error-class E     an exception class name, e.g. ValueError; one that\n"
    "                      is not an identifier is sent as \"undefined\"\n"
    "  --python-version V  (default \"undefined\": no Python)\n"
    "  --client-version V  the host's version, sent as clientVer\n"
    "                      (default \"unknown\")\n"
    "  --event NAME        the event type: nat_cli_command or one of a\n"
    "                      --schema file; its fields come from --set only\n"
    "  --schema FILE       load the event types of this schema file (the\n"
    "                      shared anonymous_events.json layout); repeatable.\n"
    "                      The event is sent at the file's schemaVersion\n"
    "  --set FIELD=VALUE   a field by its wire or C name; repeatable. VALUE "
    "is\n"
    "                      typed by the field: text for a string or an enum,\n"
    "                      JSON otherwise (42, 0.5, true, "
    "'[\"nim\",\"openai\"]')\n"
    "\n"
    "Exit status: 0 handled: spooled or sent, dropped because telemetry is\n"
    "off, or not deliverable here (a refused state directory, a write that\n"
    "failed: the reason is one line on stderr); 1 invalid value or\n"
    "configuration (e.g. NATTEL_DELIVERY); 2 usage error.\n";

typedef struct emit_args {
    nattel_cli_command cmd;
    const char *status;
    const char *duration;
    const char *exit_code;
    const char *client_ver;
    const char *event; /* --event: the generic form */
    int cli_opt;       /* the first nat_cli_command option given, 0 for none */
    nattel_registry *reg;
    const char **sets; /* --set values, in order (room for argc) */
    size_t set_count;
} emit_args;

static int parse_int(const char *name, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        tool_usage_error("emit", "%s: '%s' is %s", name, s,
                         errno == ERANGE ? "out of range for int64"
                                         : "not an integer");
        return -1;
    }
    *out = v;
    return 0;
}

enum {
    OPT_COMMAND = TOOL_OPT_LONG,
    OPT_STATUS,
    OPT_SUBCOMMAND,
    OPT_DURATION,
    OPT_EXIT_CODE,
    OPT_ERROR_CLASS,
    OPT_PYTHON_VERSION,
    OPT_CLIENT_VERSION,
    OPT_EVENT,
    OPT_SCHEMA,
    OPT_SET
};

static const struct option longopts[] = {
    {"command", required_argument, NULL, OPT_COMMAND},
    {"status", required_argument, NULL, OPT_STATUS},
    {"subcommand", required_argument, NULL, OPT_SUBCOMMAND},
    {"duration-ms", required_argument, NULL, OPT_DURATION},
    {"exit-code", required_argument, NULL, OPT_EXIT_CODE},
    {"error-class", required_argument, NULL, OPT_ERROR_CLASS},
    {"python-version", required_argument, NULL, OPT_PYTHON_VERSION},
    {"client-version", required_argument, NULL, OPT_CLIENT_VERSION},
    {"event", required_argument, NULL, OPT_EVENT},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"set", required_argument, NULL, OPT_SET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"emit", "h", longopts, 0, 0};

/* Where an option's value goes. */
static const char **slot(emit_args *a, int c)
{
    switch (c) {
    case OPT_COMMAND:
        return &a->cmd.command;
    case OPT_STATUS:
        return &a->status;
    case OPT_SUBCOMMAND:
        return &a->cmd.subcommand;
    case OPT_DURATION:
        return &a->duration;
    case OPT_EXIT_CODE:
        return &a->exit_code;
    case OPT_ERROR_CLASS:
        return &a->cmd.error_class;
    case OPT_PYTHON_VERSION:
        return &a->cmd.python_version;
    }
    return &a->client_ver; /* OPT_CLIENT_VERSION */
}

/* A message made one line: control characters (a newline in a --set
 * value an error echoes) shown as '?'. */
static const char *one_line(char *msg)
{
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return msg;
}

static int take(void *ctx, int c, const char *v)
{
    emit_args *a = ctx;
    nattel_error err;
    switch (c) {
    case OPT_EVENT:
        a->event = v;
        return TOOL_GO;
    case OPT_SET:
        a->sets[a->set_count++] = v;
        return TOOL_GO;
    case OPT_SCHEMA:
        if (nattel_registry_load_schema_file(a->reg, v, &err)) {
            tool_error("emit", "--schema: %s", one_line(err.message));
            return NATTEL_EXIT_USAGE;
        }
        return TOOL_GO;
    case OPT_CLIENT_VERSION:
        break;
    default:
        if (!a->cli_opt)
            a->cli_opt = c;
        break;
    }
    *slot(ctx, c) = v;
    return TOOL_GO;
}

/* "success, failure, ... or undefined", from the schema's enum. */
static const char *status_names(void)
{
    static char names[256];
    const nattel_enum_type *e = &nattel_task_status_enum;
    size_t n = 0;
    for (size_t i = 0; i < e->count && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s",
                              i == 0              ? ""
                              : i + 1 == e->count ? " or "
                                                  : ", ",
                              e->values[i]);
    return names;
}

/* The required options and the numbers; -1 after saying what is wrong. */
static int check_args(emit_args *a)
{
    if (!a->cmd.command || !a->status) {
        tool_usage_error("emit", "%s required",
                         !a->cmd.command && !a->status
                             ? "--command and --status are"
                         : !a->cmd.command ? "--command is"
                                           : "--status is");
        return -1;
    }
    nattel_error err;
    if (nattel_task_status_parse(a->status, &a->cmd.task_status, &err)) {
        tool_usage_error("emit", "--status '%s': not one of %s", a->status,
                         status_names());
        return -1;
    }
    if ((a->duration &&
         parse_int("--duration-ms", a->duration, &a->cmd.duration_ms)) ||
        (a->exit_code &&
         parse_int("--exit-code", a->exit_code, &a->cmd.exit_code)))
        return -1;
    if (a->cmd.duration_ms < -1) {
        tool_usage_error("emit",
                         "--duration-ms: '%s' is below -1 (-1: unknown)",
                         a->duration);
        return -1;
    }
    if (a->client_ver && !*a->client_ver) {
        tool_usage_error("emit", "--client-version: empty (leave it out for "
                                 "\"unknown\")");
        return -1;
    }
    return 0;
}

/* The event, checked; NULL after saying why. */
static nattel_event *build(emit_args *a)
{
    nattel_error err;
    nattel_event *ev = NULL;
    a->cmd.error_class = nattel_error_class_sanitize(NULL, a->cmd.error_class);
    if (nattel_cli_command_event(&a->cmd, &ev, &err)) {
        tool_error("emit", "%s", err.message);
        return NULL;
    }
    return ev;
}

/* An endpoint that is no sink ("ftp://x", "STDOUT") drops every event
 * without a word from the library: said here, once, and the event is
 * still handled (exit 0), as a refused state directory is. */
static void say_invalid_endpoint(const nattel_options *o)
{
    nattel_sink_kind kind;
    const char *e = nattel_options_endpoint(o);
    if (!nattel_options_sink(o, &kind, NULL))
        return;
    tool_error("emit",
               "NAT_TELEMETRY_ENDPOINT '%s' is invalid: the event is not "
               "sent (%s)",
               e,
               !strcasecmp(e, "stdout")
                   ? "the payload sink is spelt 'stdout', in lower case"
                   : "use an http:// or https:// URL, 'stdout' or ''");
}

/* The option's name, for messages. */
static const char *opt_name(int val)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == val)
            return o->name;
    return "?";
}

/* One --set applied; -1 after saying what is wrong, naming the option. */
static int apply_set(nattel_event *ev, const char *set, unsigned char *seen)
{
    const nattel_event_type *t = nattel_event_type_of(ev);
    const char *eq = strchr(set, '=');
    if (!eq || eq == set) {
        tool_usage_error("emit", "--set '%.60s': expected FIELD=VALUE", set);
        return -1;
    }
    size_t nlen = (size_t)(eq - set);
    int i = nattel_event_type_field_index(t, set, nlen);
    if (i < 0) {
        tool_usage_error("emit", "--set %.*s: event '%s' has no field '%.*s'",
                         (int)(nlen > 60 ? 60 : nlen), set, t->name,
                         (int)(nlen > 60 ? 60 : nlen), set);
        return -1;
    }
    const nattel_field *f = &t->fields[i];
    if (seen[i]) {
        tool_usage_error("emit", "--set %s: set twice", f->wire_name);
        return -1;
    }
    seen[i] = 1;
    const char *v = eq + 1;
    nattel_error err;
    nattel_code rc =
        f->kind == NATTEL_KIND_STRING
            ? nattel_event_set_string(ev, f->wire_name, v, &err)
        : f->kind == NATTEL_KIND_ENUM
            ? nattel_event_set_enum(ev, f->wire_name, v, &err)
            : nattel_event_set_json(ev, f->wire_name, v, strlen(v), &err);
    if (rc) {
        tool_usage_error("emit", "--set %s: %s", f->wire_name,
                         one_line(err.message));
        return -1;
    }
    return 0;
}

/* "a, b, c" of the registry's names (cut short past 400 bytes). */
static const char *known_names(const nattel_registry *reg)
{
    static char names[400];
    size_t n = 0;
    names[0] = '\0';
    for (size_t i = 0; i < nattel_registry_count(reg) && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s",
                              i ? ", " : "", nattel_registry_at(reg, i)->name);
    return names;
}

/* The --event form's event, every field from --set; NULL after saying
 * why (*status: the exit status). */
static nattel_event *build_generic(emit_args *a, int *status)
{
    *status = NATTEL_EXIT_USAGE;
    if (a->cli_opt) {
        tool_usage_error("emit",
                         "--%s: not with --event (set the field with "
                         "--set FIELD=VALUE)",
                         opt_name(a->cli_opt));
        return NULL;
    }
    const nattel_event_type *t =
        nattel_registry_find(a->reg, a->event, strlen(a->event));
    if (!t) {
        tool_usage_error("emit",
                         "--event '%.100s': no such event type (known: %s; "
                         "load others with --schema FILE)",
                         a->event, known_names(a->reg));
        return NULL;
    }
    nattel_event *ev = nattel_event_new(t);
    unsigned char *seen = calloc(t->field_count ? t->field_count : 1, 1);
    int bad = !ev || !seen;
    if (bad)
        tool_error("emit", "out of memory");
    for (size_t i = 0; i < a->set_count && !bad; i++)
        bad = apply_set(ev, a->sets[i], seen);
    free(seen);
    nattel_error err;
    if (!bad && nattel_event_check(ev, &err)) {
        tool_usage_error("emit", "--event %s: %s (give it with --set)", t->name,
                         one_line(err.message));
        bad = 1;
    }
    if (bad) {
        nattel_event_free(ev);
        return NULL;
    }
    return ev;
}

/* The event of either form; NULL after saying why. */
static nattel_event *make_event(emit_args *a, int *status)
{
    if (a->event)
        return build_generic(a, status);
    if (a->set_count) {
        *status = tool_usage_error("emit", "--set: only with --event NAME");
        return NULL;
    }
    if (check_args(a)) {
        *status = NATTEL_EXIT_USAGE;
        return NULL;
    }
    *status = NATTEL_EXIT_FAIL;
    return build(a);
}

/* Events a full disk cost, this one or earlier ones (the library marks them in
 * STATE/lost until a flusher counts them): said while they wait, since the
 * host's hook stays silent. The empty case costs one opendir, so an emit's path
 * does not grow with the spool (nattel_delivery_status lists it). */
static void say_lost(const char *state_dir)
{
    char path[4096];
    if (!state_dir ||
        snprintf(path, sizeof path, "%s/lost", state_dir) >= (int)sizeof path)
        return;
    DIR *d = opendir(path);
    if (!d)
        return;
    int any = 0;
    for (struct dirent *de = readdir(d); de && !any; de = readdir(d))
        any = de->d_name[0] != '.';
    closedir(d);
    nattel_options *o = any ? nattel_options_new() : NULL;
    nattel_delivery_info *info = NULL;
    nattel_error err;
    if (o && !nattel_options_set_state_dir(o, state_dir, &err) &&
        !nattel_delivery_status(o, &info, &err) &&
        nattel_delivery_lost_uncounted(info))
        tool_error("emit",
                   "%zu event(s) lost (the disk was full when they were "
                   "emitted), not counted yet: the next flush counts them as "
                   "dropped",
                   nattel_delivery_lost_uncounted(info));
    nattel_delivery_info_free(info);
    nattel_options_free(o);
}

/* Consent and delivery, as for every host. */
static int deliver(nattel_event *ev, const char *client_ver)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    nattel_code rc =
        o ? nattel_options_from_env(o, NULL, NULL, &err) : NATTEL_ENOMEM;
    if (!o)
        snprintf(err.message, sizeof err.message, "out of memory");
    if (!rc && client_ver)
        rc = nattel_options_set_client_version(o, client_ver, &err);
    /* A policy's endpoint beats an invalid NAT_TELEMETRY_ENDPOINT: the
     * client would send, so nothing is said. */
    if (!rc)
        rc = nattel_options_apply_policy_endpoint(o, &err);
    if (!rc)
        say_invalid_endpoint(o);
    char *state_dir = NULL;
    if (!rc && nattel_options_state_dir(o))
        state_dir = strdup(nattel_options_state_dir(o));
    nattel_client *c = NULL;
    if (!rc) {
        c = nattel_client_new(o, &err);
        o = NULL;
        if (!c)
            rc = err.code ? err.code : NATTEL_EIO;
    }
    int delivering = !rc;
    if (!rc)
        rc = nattel_client_emit(c, ev, &err);
    else
        nattel_event_free(ev);
    nattel_options_free(o);
    nattel_client_free(c);
    if (rc)
        tool_error("emit", "%s", err.message);
    if (delivering)
        say_lost(state_dir);
    free(state_dir);
    /* A host script's telemetry call must not fail the script for what
     * its environment does (a refused state directory, a full disk): said
     * on stderr, exit 0. Invalid values and configuration are failures. */
    return rc && !delivering ? NATTEL_EXIT_FAIL : NATTEL_EXIT_OK;
}

int tool_cmd_emit(int argc, char **argv)
{
    emit_args a = {.cmd = NATTEL_CLI_COMMAND_INIT};
    a.reg = nattel_registry_new();
    a.sets = calloc(argc > 0 ? (size_t)argc : 1, sizeof *a.sets);
    int status = NATTEL_EXIT_USAGE;
    if (!a.reg || !a.sets)
        tool_error("emit", "out of memory");
    else
        status = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (status == TOOL_GO) {
        nattel_event *ev = make_event(&a, &status);
        if (ev)
            status = deliver(ev, a.client_ver);
    }
    free(a.sets);
    nattel_registry_free(a.reg);
    return status;
}
