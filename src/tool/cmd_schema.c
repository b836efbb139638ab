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

enum { OPT_EVENT = TOOL_OPT_LONG, OPT_SCHEMA };

static const struct option longopts[] = {
    {"event", required_argument, NULL, OPT_EVENT},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"schema", "h", longopts, 0, 0};

int tool_cmd_schema(int argc, char **argv)
{
    const char *only = NULL, *v;
    nattel_error err;
    tool_args a;
    int c, status = NATTEL_EXIT_OK;
    if (tool_args_start(&a, &spec, argc, argv))
        return tool_print_help(usage);
    nattel_registry *reg = nattel_registry_new();
    if (!reg) {
        tool_error("schema", "out of memory");
        return NATTEL_EXIT_USAGE;
    }
    while (status == NATTEL_EXIT_OK &&
           (c = tool_args_next(&a, &v)) != TOOL_ARGS_END) {
        if (c == TOOL_ARGS_BAD) {
            status = NATTEL_EXIT_USAGE;
        } else if (c == OPT_EVENT) {
            only = v;
        } else if (c == OPT_SCHEMA &&
                   nattel_registry_load_schema_file(reg, v, &err)) {
            tool_error("schema", "%s", err.message);
            status = NATTEL_EXIT_USAGE;
        }
    }
    nattel_buf out = NATTEL_BUF_INIT;
    if (status == NATTEL_EXIT_OK) {
        if (only && !nattel_registry_find(reg, only, strlen(only))) {
            tool_error("schema", "no event type named '%s'", only);
            status = NATTEL_EXIT_USAGE;
        } else if (nattel_registry_export_schema(reg, only, &out, &err)) {
            tool_error("schema", "%s", err.message);
            status = NATTEL_EXIT_FAIL;
        } else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
                   fflush(stdout)) {
            tool_error("schema", "cannot write to standard output");
            status = NATTEL_EXIT_USAGE;
        }
    }
    nattel_buf_free(&out);
    nattel_registry_free(reg);
    return status;
}
