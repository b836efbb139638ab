/* nattel completion bash: the bash completion, made from the command table
 * (main.c, which hands it over) and each command's own option table, read
 * through tool_args_probe, so that a command or option added later completes
 * without anyone editing a script. Hidden: the build runs it and installs
 * its output as share/bash-completion/completions/nattel. */
#include "commands.h"

#include <string.h>

static const char usage_text[] =
    "usage: nattel completion bash\n"
    "\n"
    "Prints the bash completion of nattel, made from the tool's command\n"
    "and option tables; 'make install' installs it as\n"
    "share/bash-completion/completions/nattel. To try it in this shell:\n"
    "  source <(nattel completion bash)\n"
    "\n"
    "Exit status: 0 printed, 2 usage error or standard output cannot be\n"
    "written.\n";

static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
static const tool_spec spec = {"completion", "h", longopts, 1, 0};

/* Names go into the script unquoted: only letters, digits and '-' pass,
 * so no table entry can inject shell. */
static int plain(const char *s)
{
    return *s &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(s);
}

/* The options of `s`, long and short, separated by spaces; `valued`
 * keeps only those that take a value. Returns -1 on a name that is not
 * plain. */
static int put_options(FILE *out, const tool_spec *s, int valued)
{
    const char *sep = "";
    for (const struct option *o = s->longopts; o && o->name; o++) {
        if (!plain(o->name))
            return -1;
        if (!valued || o->has_arg == required_argument) {
            fprintf(out, "%s--%s", sep, o->name);
            sep = " ";
        }
    }
    for (const char *c = s->shortopts; *c; c++) {
        if (*c == ':')
            continue;
        int takes = c[1] == ':';
        if (!plain((char[]){*c, 0}))
            return -1;
        if (!valued || takes) {
            fprintf(out, "%s-%c", sep, *c);
            sep = " ";
        }
    }
    return 0;
}

static void put_names(FILE *out, const tool_command *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s ", t[i].name);
    fputs("help", out);
}

static const char head[] =
    "# bash completion for nattel(1), made by 'nattel completion bash'\n"
    "# from the tool's command and option tables: do not edit.\n"
    "_nattel()\n"
    "{\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "    local i at=0 cmd='' opts='' valued='' operands='' stop=''\n"
    "    COMPREPLY=()\n"
    "    # The command is the first word that is not an option (the tool's\n"
    "    # own options take no value).\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        case ${COMP_WORDS[i]} in\n"
    "        -*) ;;\n"
    "        *) cmd=${COMP_WORDS[i]}; at=$i; break ;;\n"
    "        esac\n"
    "    done\n"
    "    case $cmd in\n";

static const char tail[] =
    "    *) return ;;\n"
    "    esac\n"
    "    # A command whose options end at its first operand or '--'\n"
    "    # (capture): what follows is a command line of its own.\n"
    "    if [ -n \"$stop\" ]; then\n"
    "        for ((i = at + 1; i < COMP_CWORD; i++)); do\n"
    "            case \" $valued \" in *\" ${COMP_WORDS[i-1]} \"*) continue ;; "
    "esac\n"
    "            case ${COMP_WORDS[i]} in\n"
    "            --) i=$((i + 1)) ;;\n"
    "            -*) continue ;;\n"
    "            esac\n"
    "            declare -F _command_offset >/dev/null && _command_offset $i\n"
    "            return\n"
    "        done\n"
    "    fi\n"
    "    # An option's value: left to the default (file names).\n"
    "    case \" $valued \" in *\" $prev \"*) return ;; esac\n"
    "    if [[ $cur == -* ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
    "    elif [ -n \"$operands\" ]; then\n"
    "        COMPREPLY=($(compgen -W \"$operands\" -- \"$cur\"))\n"
    "    fi\n"
    "}\n"
    "complete -o default -F _nattel nattel\n";

/* One `case` arm: the command's options, those taking a value, the
 * words its operand completes to. */
static int put_arm(FILE *out, const char *name, const tool_spec *s,
                   const tool_command *t, size_t n, int operands_are_names)
{
    fprintf(out, "    %s%s)\n        opts='", *name ? "" : "''", name);
    if (put_options(out, s, 0))
        return -1;
    fputs("'\n        valued='", out);
    put_options(out, s, 1);
    fputs("'\n", out);
    if (operands_are_names) {
        fputs("        operands='", out);
        put_names(out, t, n);
        fputs("'\n", out);
    }
    if (s->stop_at_operand && *name)
        fputs("        stop=1\n", out);
    fputs("        ;;\n", out);
    return 0;
}

/* The spec of the command `c`, read by running it in probe mode (it
 * returns at its tool_parse); NULL when it has none. */
static const tool_spec *spec_of(const tool_command *c)
{
    const tool_spec *found = NULL;
    char name[32];
    snprintf(name, sizeof name, "%s", c->name);
    char *argv[] = {name, NULL};
    tool_args_probe(&found);
    (void)c->run(1, argv);
    tool_args_probe(NULL);
    return found;
}

static int print_bash(FILE *out, const tool_table *tab)
{
    size_t n = tab->n;
    const tool_command *t = tab->commands;
    fputs(head, out);
    if (put_arm(out, "", tab->main_spec, t, n, 1) ||
        put_arm(out, "help", tab->help_spec, t, n, 1))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const tool_spec *s = spec_of(&t[i]);
        if (!s || !plain(t[i].name)) {
            tool_error("completion", "command '%s' has no option table",
                       t[i].name);
            return -1;
        }
        if (put_arm(out, t[i].name, s, t, n, 0)) {
            tool_error("completion",
                       "command '%s': an option name is not "
                       "letters, digits and '-'",
                       t[i].name);
            return -1;
        }
    }
    fputs(tail, out);
    return 0;
}

static int take(void *ctx, int c, const char *v)
{
    (void)c;
    if (strcmp(v, "bash"))
        return tool_usage_error("completion", "'%s': the only shell is bash",
                                v);
    *(int *)ctx = 1;
    return TOOL_GO;
}

int tool_cmd_completion(int argc, char **argv, const tool_table *t)
{
    int bash = 0;
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &bash);
    if (parsed != TOOL_GO)
        return parsed;
    if (!bash)
        return tool_usage_error("completion", "which shell? (bash)");
    if (print_bash(stdout, t))
        return NATTEL_EXIT_USAGE;
    if (fflush(stdout) || ferror(stdout)) {
        tool_error("completion", "cannot write to standard output");
        return NATTEL_EXIT_USAGE;
    }
    return NATTEL_EXIT_OK;
}
