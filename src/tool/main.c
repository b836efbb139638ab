/* nattel: the command-line tool. Dispatches to one function per command. */
#include "commands.h"

#include <nattel/nattel.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"schema", nattel__cmd_schema, "print the JSON Schema of the event types"},
    {"validate", nattel__cmd_validate,
     "validate JSON lines (envelopes or events)"},
    {"emit", nattel__cmd_emit,
     "send one nat_cli_command event (consent-gated)"},
    {"consent", nattel__cmd_consent, "show or change the telemetry decision"},
    {"status", nattel__cmd_status, "consent, endpoint and delivery state"},
    {"flush", nattel__cmd_flush, "deliver the spooled events now"},
    {"log", nattel__cmd_log, "the audit log: what was sent or dropped"},
    {"serve", nattel__cmd_serve, "run a local ingest endpoint (SQLite store)"},
    {"report", nattel__cmd_report, "usage per command from a serve database"},
};

void nattel__tool_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nattel%s%s: ", sub ? " " : "", sub ? sub : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int nattel__is_help(const char *arg)
{
    return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nattel [--version] [--help] COMMAND [ARGS...]\n"
            "\n"
            "NeMo Agent Toolkit CLI telemetry: schemas, validation, consent,\n"
            "delivery and a local ingest endpoint.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'nattel COMMAND --help' describes a command.\n"
            "Exit status: 0 success, 1 the operation failed (invalid input,\n"
            "rejected), 2 usage or I/O error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return NATTEL_EXIT_USAGE;
    }
    if (nattel__is_help(argv[1])) {
        usage(stdout);
        return NATTEL_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("nattel %s\n", NATTEL_VERSION);
        return NATTEL_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    nattel__tool_error(NULL, "unknown command '%s' (see 'nattel --help')",
                       argv[1]);
    return NATTEL_EXIT_USAGE;
}
