/* nattel emit: one nat_cli_command event through consent and delivery,
 * for hosts that are scripts. */
#include "commands.h"

#include <nattel/client.h>
#include <nattel/nattel.h>
#include <nattel/telemetry.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel emit --command C --status S [--subcommand X]\n"
    "                   [--duration-ms N] [--exit-code N] [--error-class E]\n"
    "                   [--python-version V] [--client-version V]\n"
    "\n"
    "Sends one nat_cli_command event, if telemetry is allowed (environment,\n"
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
    "  --error-class E     an exception class name, e.g. ValueError; a value\n"
    "                      that is not [A-Za-z_][A-Za-z0-9_.]* of at most\n"
    "                      128 chars is sent as \"undefined\"\n"
    "  --python-version V  (default \"undefined\": no Python)\n"
    "  --client-version V  the host's version, sent as clientVer\n"
    "                      (default \"unknown\")\n"
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
} emit_args;

/* Matches "--name value" or "--name=value" at argv[*i]. 1 and *out set
 * (NULL when the value is missing), 0 when argv[*i] is another option. */
static int opt(int argc, char **argv, int *i, const char *name,
               const char **out)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n))
        return 0;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    *out = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

static int parse_int(const char *name, const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno) {
        nattel__tool_error("emit", "%s: '%s' is not an integer", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, emit_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char **slot =
            opt(argc, argv, &i, "--command", &v)       ? &a->cmd.command
            : opt(argc, argv, &i, "--status", &v)      ? &a->status
            : opt(argc, argv, &i, "--subcommand", &v)  ? &a->cmd.subcommand
            : opt(argc, argv, &i, "--duration-ms", &v) ? &a->duration
            : opt(argc, argv, &i, "--exit-code", &v)   ? &a->exit_code
            : opt(argc, argv, &i, "--error-class", &v) ? &a->cmd.error_class
            : opt(argc, argv, &i, "--python-version", &v)
                ? &a->cmd.python_version
            : opt(argc, argv, &i, "--client-version", &v) ? &a->client_ver
                                                          : NULL;
        if (!slot) {
            nattel__tool_error("emit",
                               "unknown argument '%s' (see 'nattel "
                               "emit --help')",
                               argv[i]);
            return -1;
        }
        if (!v) {
            nattel__tool_error("emit", "%s needs a value", argv[i]);
            return -1;
        }
        *slot = v;
    }
    if (!a->cmd.command || !a->status) {
        nattel__tool_error("emit", "--command and --status are required");
        return -1;
    }
    if ((a->duration &&
         parse_int("--duration-ms", a->duration, &a->cmd.duration_ms)) ||
        (a->exit_code &&
         parse_int("--exit-code", a->exit_code, &a->cmd.exit_code)))
        return -1;
    return 0;
}

/* The event, checked; NULL after saying why. */
static nattel_event *build(emit_args *a)
{
    nattel_error err;
    nattel_event *ev = NULL;
    /* A value that is not an identifier could carry a message or a path
     * off the machine: it is replaced, not sent, and not an error. */
    if (a->cmd.error_class &&
        nattel_error_class_check(a->cmd.error_class, NULL))
        a->cmd.error_class = "undefined";
    if (nattel_task_status_parse(a->status, &a->cmd.task_status, &err) ||
        nattel_cli_command_event(&a->cmd, &ev, &err)) {
        nattel__tool_error("emit", "%s", err.message);
        return NULL;
    }
    return ev;
}

int nattel__cmd_emit(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (nattel__is_help(argv[i])) {
            fputs(usage_text, stdout);
            return NATTEL_EXIT_OK;
        }
    emit_args a = {.cmd = NATTEL_CLI_COMMAND_INIT};
    if (parse_args(argc, argv, &a))
        return NATTEL_EXIT_USAGE;
    nattel_event *ev = build(&a);
    if (!ev)
        return NATTEL_EXIT_FAIL;
    nattel_error err;
    nattel_options *o = nattel_options_new();
    nattel_code rc =
        o ? nattel_options_from_env(o, NULL, NULL, &err) : NATTEL_ENOMEM;
    if (!o)
        snprintf(err.message, sizeof err.message, "out of memory");
    if (!rc && a.client_ver)
        rc = nattel_options_set_client_version(o, a.client_ver, &err);
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
        nattel__tool_error("emit", "%s", err.message);
    /* A host script's telemetry call must not fail the script for what
     * its environment does (a refused state directory, a full disk): said
     * on stderr, exit 0. Invalid values and configuration are failures. */
    return rc && !delivering ? NATTEL_EXIT_FAIL : NATTEL_EXIT_OK;
}
