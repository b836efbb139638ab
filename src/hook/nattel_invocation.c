/*
 * One run of a host program, one nat_cli_command event. Nothing here may
 * fail the host: every error ends in a debug line at most.
 */
#include "config/nattel_options.h"

#include <nattel/hook.h>
#include <nattel/client.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nattel_invocation {
    nattel_client *client;
    const nattel_options *o; /* the client's: clock and debug seams */
    nattel_resolved resolved;
    const char *python_version; /* the program's, or NULL */
    int64_t start_ms;
};

static void debug(const nattel_invocation *inv, const char *fmt, ...)
    NATX_PRINTF(2, 3);
static void debug(const nattel_invocation *inv, const char *fmt, ...)
{
    if (!inv->o->debug)
        return;
    char line[NATTEL_ERROR_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nattel_debug(inv->o, "hook: %s", line);
}

nattel_invocation *nattel_invocation_begin(nattel_client *client,
                                           const nattel_program *program,
                                           int argc, char *const argv[],
                                           unsigned flags)
{
    if (!client)
        return NULL; /* telemetry off for this run */
    const nattel_options *o = nattel__client_options(client);
    nattel_invocation *inv = calloc(1, sizeof *inv);
    if (!inv) {
        nattel_debug(o, "hook: out of memory at begin: no event");
        return NULL;
    }
    inv->client = client;
    inv->o = o;
    inv->python_version = program ? program->python_version : NULL;
    nattel_command_resolve(program, argc, argv, &inv->resolved);
    /* Only a registered command is worth a question: `prog --help` or a
     * mistyped command must not meet a prompt first. */
    const nattel_command *entry = inv->resolved.entry;
    int allow_prompt = !(flags & NATTEL_INVOCATION_NO_PROMPT) && entry &&
                       !(entry->flags & NATTEL_COMMAND_CONFIGURES_TELEMETRY);
    /* Deciding now, before the command runs, keeps the prompt away from
     * the command's own output and pins "no prompt" for the configuration
     * command: the client caches this decision for the emit at the end. */
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_client_consent(client, allow_prompt, &state, &source);
    debug(inv, "command %s, subcommand %s; telemetry %s (%s)",
          inv->resolved.command, inv->resolved.subcommand,
          nattel_consent_state_name(state), nattel_consent_source_name(source));
    inv->start_ms = nattel__now_mono(o);
    return inv;
}

const nattel_resolved *nattel_invocation_resolved(const nattel_invocation *inv)
{
    return inv ? &inv->resolved : NULL;
}

static void finish(nattel_invocation *inv, nattel_task_status status,
                   int exit_code, const char *error_class)
{
    int64_t now = nattel__now_mono(inv->o);
    nattel_cli_command cc = NATTEL_CLI_COMMAND_INIT;
    cc.command = inv->resolved.command;
    cc.subcommand = inv->resolved.subcommand;
    cc.task_status = status;
    cc.duration_ms =
        inv->start_ms >= 0 && now >= inv->start_ms ? now - inv->start_ms : -1;
    cc.exit_code = exit_code;
    cc.error_class = error_class;
    cc.python_version = inv->python_version;
    nattel_error err;
    nattel_event *ev = NULL;
    if (nattel_cli_command_event(&cc, &ev, &err)) {
        /* A python_version that is not valid UTF-8, say: the event is
         * still worth sending without it. */
        debug(inv,
              "event refused (%s); retrying without "
              "pythonVersion",
              err.message);
        cc.python_version = NULL;
        if (nattel_cli_command_event(&cc, &ev, &err)) {
            debug(inv, "no event: %s", err.message);
            return;
        }
    }
    if (nattel_client_emit(inv->client, ev, &err))
        debug(inv, "emit failed: %s", err.message);
}

void nattel_invocation_end(nattel_invocation *inv, int exit_code,
                           const char *error_class)
{
    if (!inv)
        return;
    const char *cls = NULL;
    if (exit_code != 0 && error_class &&
        nattel_error_class_check(error_class, NULL) == NATTEL_OK)
        cls = error_class;
    else if (exit_code != 0 && error_class)
        debug(inv, "error class is not an identifier: sent as "
                   "\"undefined\"");
    finish(inv,
           exit_code == 0 ? NATTEL_TASK_STATUS_SUCCESS
                          : NATTEL_TASK_STATUS_FAILURE,
           exit_code, cls);
    free(inv);
}

static const char *signal_name(int signo)
{
    switch (signo) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    case SIGQUIT:
        return "SIGQUIT";
    default:
        return NULL;
    }
}

void nattel_invocation_end_signal(nattel_invocation *inv, int signo)
{
    if (!inv)
        return;
    finish(inv, NATTEL_TASK_STATUS_INTERRUPTED, 128 + signo,
           signal_name(signo));
    free(inv);
}
