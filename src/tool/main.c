/* nattel: the command-line tool. Dispatches to one function per command. */
#include "commands.h"

#include <nattel/nattel.h>

#include <stdio.h>
#include <string.h>

typedef tool_command command;

static const command commands[] = {
    {"schema", tool_cmd_schema, "print the JSON Schema of the event types"},
    {"validate", tool_cmd_validate,
     "validate JSON lines (envelopes or events)"},
    {"emit", tool_cmd_emit, "send one nat_cli_command event (consent-gated)"},
    {"consent", tool_cmd_consent, "show or change the telemetry decision"},
    {"status", tool_cmd_status, "consent, endpoint and delivery state"},
    {"flush", tool_cmd_flush, "deliver the spooled events now"},
    {"log", tool_cmd_log, "the audit log: what was sent or dropped"},
    {"serve", tool_cmd_serve, "run a local ingest endpoint (SQLite store)"},
    {"report", tool_cmd_report, "usage per command from a serve database"},
    {"capture", tool_cmd_capture,
     "run a command, check the one event it sends (for CI)"},
};

#define NCOMMANDS (sizeof commands / sizeof *commands)

/* Returns 0, or -1 when `out` cannot be written (a full disk, a
 * closed pipe): then the help is not "printed" and the exit says so. */
static int usage(FILE *out)
{
    fprintf(out,
            "usage: nattel [--version] [--help] COMMAND [ARGS...]\n"
            "\n"
            "NeMo Agent Toolkit CLI telemetry: schemas, validation, consent,\n"
            "delivery and a local ingest endpoint.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "  %-10s %s\n"
            "\n"
            "options:\n"
            "  -V, --version  print the version and exit\n"
            "  -h, --help     this help\n"
            "\n"
            "'nattel help COMMAND' or 'nattel COMMAND --help' describes a\n"
            "command. Options take their value as --opt VALUE or "
            "--opt=VALUE.\n"
            "Exit status: 0 success, 1 the operation failed (invalid input,\n"
            "rejected), 2 usage or I/O error.\n",
            "help", "this help, or a command's ('help COMMAND')");
    if (fflush(out) || ferror(out)) {
        if (out == stdout)
            tool_error(NULL, "cannot write to standard output");
        return -1;
    }
    return 0;
}

static int print_usage(void)
{
    return usage(stdout) ? NATTEL_EXIT_USAGE : NATTEL_EXIT_OK;
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(name, commands[i].name))
            return &commands[i];
    return NULL;
}

/* Runs a command as `COMMAND --help`, so both print the same text. */
static int help_for(const command *c)
{
    char name[16], flag[] = "--help";
    snprintf(name, sizeof name, "%s", c->name);
    char *argv[] = {name, flag, NULL};
    return c->run(2, argv);
}

static const struct option help_long[] = {{"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
static const tool_spec help_spec = {"help", "h", help_long, 1, 0};

/* nattel help [COMMAND]. The tool's own help is built from the command
 * table, so this parse (like main's) prints it itself. */
static int cmd_help(int argc, char **argv)
{
    tool_args a;
    const char *name = NULL, *v;
    int c;
    if (tool_args_start(&a, &help_spec, argc, argv))
        return print_usage();
    for (c = tool_args_next(&a, &v); c != TOOL_ARGS_END;
         c = tool_args_next(&a, &v)) {
        if (c == TOOL_ARGS_BAD)
            return NATTEL_EXIT_USAGE;
        name = v;
    }
    if (!name || !strcmp(name, "help"))
        return print_usage();
    const command *cmd = find(name);
    if (!cmd)
        return tool_usage_error("help", "unknown command '%s'", name);
    return help_for(cmd);
}

static const struct option main_long[] = {{"help", no_argument, NULL, 'h'},
                                          {"version", no_argument, NULL, 'V'},
                                          {NULL, 0, NULL, 0}};
static const tool_spec main_spec = {NULL, "hV", main_long, -1, 1};

int main(int argc, char **argv)
{
    tool_args a;
    const char *v;
    int c;
    if (tool_args_start(&a, &main_spec, argc, argv))
        return print_usage();
    for (c = tool_args_next(&a, &v); c != TOOL_ARGS_OPERAND;
         c = tool_args_next(&a, &v)) {
        if (c == TOOL_ARGS_BAD)
            return NATTEL_EXIT_USAGE;
        if (c == TOOL_ARGS_END) {
            (void)usage(stderr);
            return NATTEL_EXIT_USAGE;
        }
        /* 'V': the only option left once help is out of the way */
        printf("nattel %s\n", NATTEL_VERSION);
        if (fflush(stdout) || ferror(stdout)) {
            tool_error(NULL, "cannot write to standard output");
            return NATTEL_EXIT_USAGE;
        }
        return NATTEL_EXIT_OK;
    }
    int first = a.index;
    if (!strcmp(v, "help"))
        return cmd_help(argc - first, argv + first);
    /* Hidden: for packagers and the build, not a user's daily command. */
    if (!strcmp(v, "completion")) {
        const tool_table t = {commands, NCOMMANDS, &main_spec, &help_spec};
        return tool_cmd_completion(argc - first, argv + first, &t);
    }
    const command *cmd = find(v);
    if (cmd)
        return cmd->run(argc - first, argv + first);
    return tool_usage_error(NULL, "unknown command '%s'", v);
}
