/*
 * Command resolution, the hook's privacy boundary: what it returns points
 * into the program's own table or at constant strings, so no byte typed
 * on the command line can reach an event.
 */
#include <nattel/hook.h>

#include <string.h>

static int is_option(const char *tok)
{
    return tok[0] == '-' && tok[1] != '\0';
}

static int takes_value(const nattel_program *p, const char *tok)
{
    if (!p->value_options)
        return 0;
    for (const char *const *o = p->value_options; *o; o++)
        if (!strcmp(*o, tok))
            return 1;
    return 0;
}

/* Index of the first positional token at or after `i`, or argc. */
static int next_positional(const nattel_program *p, int argc,
                           char *const argv[], int i)
{
    while (i < argc && argv[i]) {
        const char *tok = argv[i];
        if (!strcmp(tok, "--"))
            return i + 1 < argc && argv[i + 1] ? i + 1 : argc;
        if (!is_option(tok))
            return i;
        i += takes_value(p, tok) ? 2 : 1;
    }
    return argc;
}

static const nattel_command *find_command(const nattel_program *p,
                                          const char *tok)
{
    for (size_t i = 0; p->commands && i < p->command_count; i++)
        if (p->commands[i].name && !strcmp(p->commands[i].name, tok))
            return &p->commands[i];
    return NULL;
}

static const char *find_subcommand(const nattel_command *c, const char *tok)
{
    for (const char *const *s = c->subcommands; *s; s++)
        if (!strcmp(*s, tok))
            return *s;
    return NULL;
}

void nattel_command_resolve(const nattel_program *program, int argc,
                            char *const argv[], nattel_resolved *out)
{
    out->command = NATTEL_COMMAND_NONE;
    out->subcommand = NATTEL_SUBCOMMAND_NONE;
    out->entry = NULL;
    if (!program || !argv || argc < 2)
        return;
    int i = next_positional(program, argc, argv, 1);
    if (i >= argc)
        return;
    const nattel_command *c = find_command(program, argv[i]);
    if (!c) {
        out->command = NATTEL_COMMAND_UNKNOWN;
        return;
    }
    out->command = c->name;
    out->entry = c;
    if (!c->subcommands)
        return;
    int j = next_positional(program, argc, argv, i + 1);
    const char *sub = j < argc ? find_subcommand(c, argv[j]) : NULL;
    if (sub)
        out->subcommand = sub;
}
