#ifndef NATTEL_TOOL_COMMANDS_H
#define NATTEL_TOOL_COMMANDS_H

/* The `nattel` tool: one function per command, the shared option parser
 * and the error line. The tool uses the public API (include/nattel/) and
 * the shared natx_* layer only; its own names are tool_*. */

#include <nattel/options.h>

#include <getopt.h>
#include <stdio.h>

/* Each command: argv[0] is the command's name. Returns the process exit
 * status: 0 success, 1 the operation's own failure, 2 usage or I/O
 * error. */

#define NATTEL_EXIT_OK 0
#define NATTEL_EXIT_FAIL 1
#define NATTEL_EXIT_USAGE 2

int tool_cmd_schema(int argc, char **argv);
int tool_cmd_validate(int argc, char **argv);
int tool_cmd_emit(int argc, char **argv);
int tool_cmd_consent(int argc, char **argv);
int tool_cmd_status(int argc, char **argv);
int tool_cmd_serve(int argc, char **argv);
int tool_cmd_report(int argc, char **argv);
int tool_cmd_flush(int argc, char **argv);
int tool_cmd_log(int argc, char **argv);
int tool_cmd_capture(int argc, char **argv);

#if defined(__GNUC__)
#define TOOL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TOOL_PRINTF(a, b)
#endif

/* "nattel CMD: message" on stderr, one line (cmd NULL: "nattel: "). */
void tool_error(const char *cmd, const char *fmt, ...) TOOL_PRINTF(2, 3);

/* A usage error: "nattel CMD: message (see 'nattel CMD --help')", one
 * line. Returns NATTEL_EXIT_USAGE. */
/* The options from the environment, for a command that never prompts
 * (it reports or is the answer); NULL after saying why. */
nattel_options *tool_options_load(const char *cmd);

int tool_usage_error(const char *cmd, const char *fmt, ...) TOOL_PRINTF(2, 3);

/* ------------------------------------------------------------------ */
/* Options: getopt_long over one table per command                     */
/* ------------------------------------------------------------------ */

/* What a command accepts. Long options without a short form use vals
 * from TOOL_OPT_LONG up, so that an error can name the option. */
typedef struct tool_spec {
    const char *cmd;       /* "emit"; NULL for the tool itself */
    const char *shortopts; /* getopt's letters, e.g. "hn:" (no '+' or ':') */
    const struct option *longopts; /* ends with an all-zero entry */
    int max_operands;              /* -1: any number */
    int stop_at_operand;           /* options end at the first operand */
} tool_spec;

#define TOOL_OPT_LONG 256

/* tool_args_next's results besides an option's val. */
#define TOOL_ARGS_END (-1)
#define TOOL_ARGS_OPERAND (-2)
#define TOOL_ARGS_BAD (-3)

typedef struct tool_args {
    const tool_spec *spec;
    int argc;
    char **argv;
    int operands; /* handed out so far */
    int ended;    /* getopt is done: the rest are operands */
    int index;    /* argv index of the last operand handed out */
    int elem;     /* argv index of the element getopt reads */
} tool_args;

/* Starts parsing argv[1..]. Returns 1 when -h/--help is among the options
 * (wherever it is: it wins over any error), else 0. A value is never taken
 * for an option: `--command --help` is a command named "--help". */
int tool_args_start(tool_args *a, const tool_spec *spec, int argc, char **argv);

/* The next option's val with *value its argument (NULL when it takes
 * none); TOOL_ARGS_OPERAND with *value the operand, in its place among
 * the options (all after "--"); TOOL_ARGS_END; or TOOL_ARGS_BAD after
 * printing the usage error (an unknown option, a missing value, too many
 * operands): the command then exits NATTEL_EXIT_USAGE. */
int tool_args_next(tool_args *a, const char **value);

/* Prints a command's help on stdout: NATTEL_EXIT_OK, or NATTEL_EXIT_USAGE
 * when standard output cannot be written. */
int tool_print_help(const char *text);

/* tool_parse's and a take function's "go on". */
#define TOOL_GO (-1)

/* Each option (its val and value) or operand (TOOL_ARGS_OPERAND and the
 * operand), in order. Returns TOOL_GO, or an exit status after saying
 * why. */
typedef int (*tool_take_fn)(void *ctx, int opt, const char *value);

/* A command's whole parse: prints `usage` for -h/--help and returns
 * NATTEL_EXIT_OK; returns NATTEL_EXIT_USAGE after a usage error, or what
 * `take` returned when that is not TOOL_GO; else TOOL_GO. */
int tool_parse(const tool_spec *spec, const char *usage, int argc, char **argv,
               tool_take_fn take, void *ctx);

/* How the completion reads a command's option table without a second
 * copy of it: while `slot` is set, tool_parse stores its spec in *slot
 * and returns NATTEL_EXIT_OK at once (nothing parsed, printed or run, as
 * every command returns what tool_parse returns unless it is TOOL_GO).
 * NULL ends probing. Not thread-safe: the tool is one thread. */
void tool_args_probe(const tool_spec **slot);

/* One row of the tool's command table (main.c). */
typedef struct tool_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} tool_command;

/* What the completion is made from, handed over by main (which owns
 * it): the command table in the order of `nattel --help`, the tool's own
 * options (--help, --version) and those of `nattel help`. */
typedef struct tool_table {
    const tool_command *commands;
    size_t n;
    const tool_spec *main_spec;
    const tool_spec *help_spec;
} tool_table;

/* Hidden (not in the table): prints the shell completion made from `t`
 * and each command's own option table. */
int tool_cmd_completion(int argc, char **argv, const tool_table *t);

#endif
