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

typedef struct schema_args {
    nattel_registry *reg;
    const char *only;
} schema_args;

static int take(void *ctx, int opt, const char *v)
{
    schema_args *a = ctx;
    nattel_error err;
    if (opt == OPT_EVENT) {
        a->only = v;
    } else if (nattel_registry_load_schema_file(a->reg, v, &err)) {
        tool_error("schema", "%s", err.message);
        return NATTEL_EXIT_USAGE;
    }
    return TOOL_GO;
}

/* The names --event accepts, comma-separated (cut short past 512
 * bytes). */
static const char *known_names(const nattel_registry *reg)
{
    static char names[512];
    size_t n = 0;
    names[0] = '\0';
    for (size_t i = 0; i < nattel_registry_count(reg) && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s",
                              i ? ", " : "", nattel_registry_at(reg, i)->name);
    return names;
}

static int print_schema(const nattel_registry *reg, const char *only)
{
    nattel_buf out = NATTEL_BUF_INIT;
    nattel_error err;
    int status = NATTEL_EXIT_OK;
    if (only && !nattel_registry_find(reg, only, strlen(only))) {
        tool_usage_error("schema",
                         "--event '%s': no such event type (known: %s)", only,
                         known_names(reg));
        status = NATTEL_EXIT_USAGE;
    } else if (nattel_registry_export_schema(reg, only, &out, &err)) {
        tool_error("schema", "%s", err.message);
        status = NATTEL_EXIT_FAIL;
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
               fflush(stdout)) {
        tool_error("schema", "cannot write to standard output");
        status = NATTEL_EXIT_USAGE;
    }
    nattel_buf_free(&out);
    return status;
}

int tool_cmd_schema(int argc, char **argv)
{
    schema_args a = {nattel_registry_new(), NULL};
    if (!a.reg) {
        tool_error("schema", "out of memory");
        return NATTEL_EXIT_USAGE;
    }
    int status = tool_parse(&spec, usage, argc, argv, take, &a);
    if (status == TOOL_GO)
        status = print_schema(a.reg, a.only);
    nattel_registry_free(a.reg);
    return status;
}
