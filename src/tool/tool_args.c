/* The tool's one way to read its arguments: getopt_long with a table per
 * command, and one error line per usage error. */
#include "commands.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vline(const char *cmd, const char *hint, const char *fmt,
                  va_list ap) TOOL_PRINTF(3, 0);
static void vline(const char *cmd, const char *hint, const char *fmt,
                  va_list ap)
{
    fprintf(stderr, "nattel%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    if (hint)
        fprintf(stderr, " (see 'nattel%s%s --help')", cmd ? " " : "",
                cmd ? cmd : "");
    fputc('\n', stderr);
}

void tool_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, NULL, fmt, ap);
    va_end(ap);
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(cmd, "", fmt, ap);
    va_end(ap);
    return NATTEL_EXIT_USAGE;
}

int tool_print_help(const char *text)
{
    if (fputs(text, stdout) == EOF || fflush(stdout)) {
        tool_error(NULL, "cannot write to standard output");
        return NATTEL_EXIT_USAGE;
    }
    return NATTEL_EXIT_OK;
}

/* getopt's option string: '+' (stop at the first operand) or '-'
 * (operands in their place, whatever POSIXLY_CORRECT says), then ':' so
 * a missing value is told apart from an unknown option. */
static void optstring(const tool_spec *s, char *out, size_t cap)
{
    snprintf(out, cap, "%c:%s", s->stop_at_operand ? '+' : '-', s->shortopts);
}

/* getopt_long keeps its state in globals: optind = 0 makes glibc start
 * over (a new argv), and opterr = 0 keeps its own messages out. */
static void rewind_getopt(void)
{
    optind = 0;
    opterr = 0;
}

static const struct option *by_val(const tool_spec *s, int val)
{
    for (const struct option *o = s->longopts; o && o->name; o++)
        if (o->val == val)
            return o;
    return NULL;
}

static int in_shortopts(const tool_spec *s, int c)
{
    return c > 0 && c < TOOL_OPT_LONG && c != ':' &&
           strchr(s->shortopts, c) != NULL;
}

/* The element getopt just read, when it was a long option. */
static const char *long_element(const tool_args *a)
{
    const char *el = a->elem < a->argc ? a->argv[a->elem] : NULL;
    return el && !strncmp(el, "--", 2) && el[2] ? el : NULL;
}

/* True when the long option element `el` ("--name" or "--name=value")
 * spells `name` in full. */
static int exact(const char *el, const char *name)
{
    size_t n = strcspn(el + 2, "=");
    return strlen(name) == n && !strncmp(el + 2, name, n);
}

/* Names the option of a ':' (missing value) or '?' result, then says
 * what is wrong with it. */
static int bad_option(const tool_args *a, int c)
{
    const char *cmd = a->spec->cmd;
    const char *el = long_element(a);
    const struct option *o = by_val(a->spec, optopt);
    if (el && (!optopt || !o || !exact(el, o->name)))
        return tool_usage_error(cmd, "unknown option '%.*s'",
                                (int)strcspn(el, "="), el);
    if (c == ':' && el)
        return tool_usage_error(cmd, "option '--%s' needs a value", o->name);
    if (c == ':')
        return tool_usage_error(cmd, "option '-%c' needs a value", optopt);
    if (el && (optopt >= TOOL_OPT_LONG || in_shortopts(a->spec, optopt)))
        return tool_usage_error(cmd, "option '--%s' takes no value", o->name);
    return tool_usage_error(cmd, "unknown option '-%c'", optopt);
}

/* getopt_long, without its abbreviations: "--e" is not "--enable", so
 * an option added later never changes what a host's script means. An
 * abbreviation comes back as '?' with optopt 0, an unknown option. */
static int next_option(tool_args *a)
{
    char opts[64];
    int index = -1;
    optstring(a->spec, opts, sizeof opts);
    /* Neither ordering permutes argv: the element read next is at optind
     * (0 only before the first call, when glibc starts at 1). */
    a->elem = optind ? optind : 1;
    int c = getopt_long(a->argc, a->argv, opts, a->spec->longopts, &index);
    if (index >= 0 && !exact(a->argv[a->elem], a->spec->longopts[index].name)) {
        optind = a->elem + 1; /* a value in the next element stays there */
        optopt = 0;
        return '?';
    }
    return c;
}

int tool_args_start(tool_args *a, const tool_spec *spec, int argc, char **argv)
{
    int c, help = 0;
    *a = (tool_args){spec, argc, argv, 0, 0, 0, 0};
    rewind_getopt();
    while (!help) {
        c = next_option(a);
        if (c == -1)
            break;
        help = c == 'h';
    }
    rewind_getopt();
    return help;
}

static int operand(tool_args *a, int index, const char **value)
{
    if (a->spec->max_operands >= 0 && a->operands >= a->spec->max_operands) {
        tool_usage_error(a->spec->cmd, "unexpected argument '%s'",
                         a->argv[index]);
        return TOOL_ARGS_BAD;
    }
    a->operands++;
    a->index = index;
    *value = a->argv[index];
    return TOOL_ARGS_OPERAND;
}

int tool_args_next(tool_args *a, const char **value)
{
    *value = NULL;
    if (a->ended) {
        if (optind >= a->argc)
            return TOOL_ARGS_END;
        return operand(a, optind++, value);
    }
    int c = next_option(a);
    if (c == -1) {
        a->ended = 1;
        return tool_args_next(a, value);
    }
    if (c == 1) /* '-' ordering: an operand in its place */
        return operand(a, optind - 1, value);
    if (c == ':' || c == '?')
        return (bad_option(a, c), TOOL_ARGS_BAD);
    *value = optarg;
    return c;
}

static const tool_spec **probe_slot;

void tool_args_probe(const tool_spec **slot)
{
    probe_slot = slot;
}

int tool_parse(const tool_spec *spec, const char *usage, int argc, char **argv,
               tool_take_fn take, void *ctx)
{
    tool_args a;
    const char *v;
    int c, rc = TOOL_GO;
    if (probe_slot) {
        *probe_slot = spec;
        return NATTEL_EXIT_OK;
    }
    if (tool_args_start(&a, spec, argc, argv))
        return tool_print_help(usage);
    while (rc == TOOL_GO) {
        c = tool_args_next(&a, &v);
        if (c == TOOL_ARGS_END)
            break;
        rc = c == TOOL_ARGS_BAD ? NATTEL_EXIT_USAGE : take(ctx, c, v);
    }
    return rc;
}

nattel_options *tool_options_load(const char *cmd)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    if (!o) {
        tool_error(cmd, "out of memory");
        return NULL;
    }
    if (nattel_options_from_env(o, NULL, NULL, &err)) {
        nattel_options_free(o);
        tool_error(cmd, "%s", err.message);
        return NULL;
    }
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    return o;
}
