/* nattel schema: the JSON Schema of the event types. */
#include "commands.h"

#include <nattel/nattel.h>

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: nattel schema [--event NAME] [--schema FILE]...\n"
    "\n"
    "Prints the JSON Schema (draft-07) of the built-in event types in the\n"
    "layout of the shared anonymous_events.json.\n"
    "\n"
    "  --event NAME   only this event type\n"
    "  --schema FILE  also the event types of this schema file\n"
    "  -h, --help     this help\n";

int nattel__cmd_schema(int argc, char **argv)
{
    const char *only = NULL;
    nattel_error err;
    nattel_registry *reg = nattel_registry_new();
    int status = NATTEL_EXIT_OK;
    if (!reg) {
        nattel__tool_error("schema", "out of memory");
        return NATTEL_EXIT_USAGE;
    }
    for (int i = 1; i < argc && status == NATTEL_EXIT_OK; i++) {
        if (nattel__is_help(argv[i])) {
            fputs(usage, stdout);
            nattel_registry_free(reg);
            return NATTEL_EXIT_OK;
        } else if (!strcmp(argv[i], "--event") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strcmp(argv[i], "--schema") && i + 1 < argc) {
            if (nattel_registry_load_schema_file(reg, argv[++i], &err)) {
                nattel__tool_error("schema", "%s", err.message);
                status = NATTEL_EXIT_USAGE;
            }
        } else {
            nattel__tool_error(
                "schema",
                "unexpected argument '%s' (see 'nattel schema --help')",
                argv[i]);
            status = NATTEL_EXIT_USAGE;
        }
    }
    nattel_buf out = NATTEL_BUF_INIT;
    if (status == NATTEL_EXIT_OK) {
        if (only && !nattel_registry_find(reg, only, strlen(only))) {
            nattel__tool_error("schema", "no event type named '%s'", only);
            status = NATTEL_EXIT_USAGE;
        } else if (nattel_registry_export_schema(reg, only, &out, &err)) {
            nattel__tool_error("schema", "%s", err.message);
            status = NATTEL_EXIT_FAIL;
        } else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
                   fflush(stdout)) {
            nattel__tool_error("schema", "cannot write to standard output");
            status = NATTEL_EXIT_USAGE;
        }
    }
    nattel_buf_free(&out);
    nattel_registry_free(reg);
    return status;
}
