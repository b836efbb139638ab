#ifndef NATTEL_TOOL_COMMANDS_H
#define NATTEL_TOOL_COMMANDS_H

/* Each subcommand of the `nattel` tool: argv[0] is the subcommand's name.
 * Returns the process exit status: 0 success, 1 the operation's own
 * failure, 2 usage or I/O error. */

#define NATTEL_EXIT_OK 0
#define NATTEL_EXIT_FAIL 1
#define NATTEL_EXIT_USAGE 2

int nattel__cmd_schema(int argc, char **argv);
int nattel__cmd_validate(int argc, char **argv);
int nattel__cmd_emit(int argc, char **argv);
int nattel__cmd_consent(int argc, char **argv);
int nattel__cmd_status(int argc, char **argv);
int nattel__cmd_serve(int argc, char **argv);
int nattel__cmd_report(int argc, char **argv);
int nattel__cmd_flush(int argc, char **argv);
int nattel__cmd_log(int argc, char **argv);

/* "nattel SUB: message" on stderr, one line. */
void nattel__tool_error(const char *sub, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* True when arg is -h or --help. */
int nattel__is_help(const char *arg);

#endif
