/* nattel schema: the JSON Schema of the event types, and what changed
 * between two schema files (--diff). */
#include "commands.h"

#include "natx/natx_file.h"
#include "natx/natx_jsonw.h"

#include <nattel/nattel.h>

#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: nattel schema [--event NAME] [--schema FILE]...\n"
    "       nattel schema --diff OLD NEW [--json]\n"
    "       nattel schema --diff --builtin NEW [--json]\n"
    "\n"
    "Prints the JSON Schema (draft-07) of the built-in event types in the\n"
    "layout of the shared anonymous_events.json.\n"
    "\n"
    "  --event NAME   only this event type\n"
    "  --schema FILE  also the event types of this schema file\n"
    "  -h, --help     this help\n"
    "\n"
    "--diff compares two schema files in that layout (--builtin in place of\n"
    "OLD: the built-in types, as 'nattel schema' prints them): event types\n"
    "and shared types added or removed; per type kept, fields added or\n"
    "removed, kind, required, enum values, bounds and additionalProperties\n"
    "changed; schemaVersion and definitionVersion. Each change is classed\n"
    "for a sender that keeps OLD: breaking (its payloads would now be\n"
    "refused: a new required field, a removed field or enum value, a\n"
    "tighter bound, a changed kind) or compatible. Text: one line per\n"
    "change, 'breaking|compatible  CHANGE  PATH: detail', then a summary.\n"
    "  --json         one object: old, new, changed, breaking, compatible\n"
    "                 (counts) and changes (path, change, class, detail)\n"
    "\n"
    "Exit status: 0 no change; 1 something changed (a CI job that fails on\n"
    "breaking changes only tests \"breaking\" > 0 in --json, or greps\n"
    "^breaking in the text); 2 usage or I/O error, or a file that is not a\n"
    "schema in that layout.\n";

enum { OPT_EVENT = TOOL_OPT_LONG, OPT_SCHEMA, OPT_DIFF, OPT_BUILTIN, OPT_JSON };

static const struct option longopts[] = {
    {"event", required_argument, NULL, OPT_EVENT},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"diff", no_argument, NULL, OPT_DIFF},
    {"builtin", no_argument, NULL, OPT_BUILTIN},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"schema", "h", longopts, 2, 0};

typedef struct schema_args {
    nattel_registry *reg;
    const char *only;
    int diff, builtin, json, schemas;
    const char *files[2];
    int nfiles;
} schema_args;

static int take(void *ctx, int opt, const char *v)
{
    schema_args *a = ctx;
    nattel_error err;
    if (opt == TOOL_ARGS_OPERAND) {
        a->files[a->nfiles++] = v;
    } else if (opt == OPT_DIFF) {
        a->diff = 1;
    } else if (opt == OPT_BUILTIN) {
        a->builtin = 1;
    } else if (opt == OPT_JSON) {
        a->json = 1;
    } else if (opt == OPT_EVENT) {
        a->only = v;
    } else {
        a->schemas++;
        if (nattel_registry_load_schema_file(a->reg, v, &err)) {
            tool_error("schema", "%s", err.message);
            return NATTEL_EXIT_USAGE;
        }
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

/* The text of a diff side: a file, or the built-in types' export. */
static int read_side(const char *path, nattel_buf *out)
{
    nattel_error err;
    if (!path) {
        nattel_registry *reg = nattel_registry_new();
        nattel_code rc =
            reg ? nattel_registry_export_schema(reg, NULL, out, &err)
                : NATTEL_ENOMEM;
        nattel_registry_free(reg);
        if (rc)
            tool_error("schema", "--builtin: cannot export the built-in "
                                 "types");
        return rc ? -1 : 0;
    }
    if (natx_file_read(path, NATTEL_JSON_MAX_BYTES, out, &err)) {
        tool_error("schema", "--diff: %s", err.message);
        return -1;
    }
    return 0;
}

static void put_change_text(nattel_buf *out, const nattel_schema_change *c)
{
    char line[2048];
    int n = snprintf(line, sizeof line, "%-10s  %-29s  %s: %s\n",
                     c->breaking ? "breaking" : "compatible", c->change,
                     c->path, c->detail);
    if (n > 0)
        nattel_buf_append(
            out, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static nattel_code put_diff_json(nattel_buf *out, const nattel_schema_diff *d,
                                 const char *old_name, const char *new_name)
{
    natx_jsonw w;
    nattel_error err;
    natx_jsonw_init(&w, out);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "old");
    natx_jsonw_string_lossy(&w, old_name, strlen(old_name));
    natx_jsonw_key(&w, "new");
    natx_jsonw_string_lossy(&w, new_name, strlen(new_name));
    natx_jsonw_key(&w, "changed");
    natx_jsonw_bool(&w, d->count > 0);
    natx_jsonw_key(&w, "breaking");
    natx_jsonw_uint64(&w, d->breaking);
    natx_jsonw_key(&w, "compatible");
    natx_jsonw_uint64(&w, d->count - d->breaking);
    natx_jsonw_key(&w, "changes");
    natx_jsonw_begin_array(&w);
    for (size_t i = 0; i < d->count; i++) {
        const nattel_schema_change *c = &d->items[i];
        natx_jsonw_begin_object(&w);
        natx_jsonw_key(&w, "path");
        natx_jsonw_string_lossy(&w, c->path, strlen(c->path));
        natx_jsonw_key(&w, "change");
        natx_jsonw_cstring(&w, c->change);
        natx_jsonw_key(&w, "class");
        natx_jsonw_cstring(&w, c->breaking ? "breaking" : "compatible");
        natx_jsonw_key(&w, "detail");
        natx_jsonw_string_lossy(&w, c->detail, strlen(c->detail));
        natx_jsonw_end_object(&w);
    }
    natx_jsonw_end_array(&w);
    natx_jsonw_end_object(&w);
    nattel_code rc = natx_jsonw_finish(&w, &err);
    return rc ? rc : nattel_buf_append(out, "\n", 1);
}

static int print_diff(const schema_args *a)
{
    const char *old_path = a->builtin ? NULL : a->files[0];
    const char *new_path = a->files[a->builtin ? 0 : 1];
    const char *old_name = old_path ? old_path : "--builtin";
    nattel_buf ob = NATTEL_BUF_INIT, nb = NATTEL_BUF_INIT,
               out = NATTEL_BUF_INIT;
    nattel_schema_diff d = {0};
    nattel_error err;
    int status = NATTEL_EXIT_USAGE;
    if (read_side(old_path, &ob) || read_side(new_path, &nb)) {
        /* said */
    } else if (nattel_schema_diff_run(ob.data ? ob.data : "", ob.len, old_name,
                                      nb.data ? nb.data : "", nb.len, new_path,
                                      &d, &err)) {
        tool_error("schema", "--diff: %s", err.message);
    } else {
        nattel_code rc = NATTEL_OK;
        if (a->json) {
            rc = put_diff_json(&out, &d, old_name, new_path);
        } else {
            for (size_t i = 0; i < d.count; i++)
                put_change_text(&out, &d.items[i]);
            char sum[160];
            int n = snprintf(sum, sizeof sum,
                             "%zu change%s: %zu breaking, %zu compatible\n",
                             d.count, d.count == 1 ? "" : "s", d.breaking,
                             d.count - d.breaking);
            rc = nattel_buf_append(&out, sum, (size_t)n);
        }
        if (rc || fwrite(out.data, 1, out.len, stdout) != out.len ||
            fflush(stdout))
            tool_error("schema", "cannot write to standard output");
        else
            status = d.count ? NATTEL_EXIT_FAIL : NATTEL_EXIT_OK;
    }
    nattel_schema_diff_free(&d);
    nattel_buf_free(&ob);
    nattel_buf_free(&nb);
    nattel_buf_free(&out);
    return status;
}

/* The combinations of options that make sense; -1 after saying why. */
static int check_modes(const schema_args *a)
{
    int want = a->builtin ? 1 : 2;
    if (!a->diff && (a->builtin || a->json || a->nfiles))
        a->nfiles ? tool_usage_error("schema",
                                     "unexpected argument '%.100s' (files "
                                     "only with --diff OLD NEW)",
                                     a->files[0])
                  : tool_usage_error("schema", "%s: only with --diff",
                                     a->builtin ? "--builtin" : "--json");
    else if (a->diff && (a->only || a->schemas))
        tool_usage_error("schema", "%s: not with --diff",
                         a->only ? "--event" : "--schema");
    else if (a->diff && a->nfiles != want)
        tool_usage_error("schema", "--diff needs %s (got %d file%s)",
                         a->builtin ? "one file after --builtin"
                                    : "two files, OLD and NEW",
                         a->nfiles, a->nfiles == 1 ? "" : "s");
    else
        return 0;
    return -1;
}

int tool_cmd_schema(int argc, char **argv)
{
    schema_args a = {nattel_registry_new(), NULL, 0, 0, 0, 0, {NULL, NULL}, 0};
    if (!a.reg) {
        tool_error("schema", "out of memory");
        return NATTEL_EXIT_USAGE;
    }
    int status = tool_parse(&spec, usage, argc, argv, take, &a);
    if (status == TOOL_GO && check_modes(&a))
        status = NATTEL_EXIT_USAGE;
    if (status == TOOL_GO)
        status = a.diff ? print_diff(&a) : print_schema(a.reg, a.only);
    nattel_registry_free(a.reg);
    return status;
}
