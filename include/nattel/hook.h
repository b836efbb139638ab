/*
 * nattel hook: one nat_cli_command event per run of a C command-line
 * program, in a few lines.
 *
 *   static const char *const info_subs[] = {"list-components", NULL};
 *   static const nattel_command commands[] = {
 *       {"run", NULL, 0},
 *       {"info", info_subs, 0},
 *       {"configure", NULL, NATTEL_COMMAND_CONFIGURES_TELEMETRY},
 *   };
 *   static const char *const value_opts[] = {"--log-level", NULL};
 *   static const nattel_program program = {commands, 3, value_opts, NULL};
 *
 *   nattel_invocation *inv =
 *       nattel_invocation_begin(client, &program, argc, argv, 0);
 *   int rc = dispatch(argc, argv, &error_class);
 *   nattel_invocation_end(inv, rc, error_class);
 *
 * The privacy boundary is command resolution (nattel_command_resolve):
 * the event names only strings of the program's own table, never text
 * from argv.
 *
 * The hook never fails its host: no function here returns an error, none
 * writes to standard output, none changes the exit code. An internal
 * error (out of memory, a refused event, a delivery error) is dropped and
 * said on the client's log descriptor only when its options say debug
 * (nattel_options_set_debug, or NATTEL_DEBUG through
 * nattel_options_from_env). Durations use the options' monotonic clock.
 *
 * Signal and thread rules (docs/hook.md, its API section, says more):
 *  - One invocation belongs to one thread; the client may be shared (see
 *    client.h). nattel_command_resolve is pure and reentrant.
 *  - nattel_invocation_begin may show the first-run prompt, which takes
 *    over SIGINT while it waits (nattel_prompt_ask in consent.h): call
 *    it on the main thread before starting threads.
 *  - No function here is async-signal-safe: catch a signal the usual safe
 *    way (sigwait, or a handler that sets a flag) and call
 *    nattel_invocation_end_signal from normal code.
 *
 * Pointer arguments may be NULL only where a comment says so.
 */
#ifndef NATTEL_HOOK_H
#define NATTEL_HOOK_H

#include <nattel/client.h>
#include <nattel/nattel.h>

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Command flags. */
/* The program's own telemetry-configuration command (like `nat configure`):
 * running it never shows the first-run prompt, since it is the answer. */
#define NATTEL_COMMAND_CONFIGURES_TELEMETRY 0x1u

/* One registered top-level command. */
typedef struct nattel_command {
    const char *name;
    /* The registered subcommands when the command is a group: a
     * NULL-terminated list. NULL for a leaf command. */
    const char *const *subcommands;
    unsigned flags; /* NATTEL_COMMAND_* */
} nattel_command;

/* What the hook knows of the program; static data in the usual case. */
typedef struct nattel_program {
    const nattel_command *commands;
    size_t command_count;
    /* The options that take their value in the next token ("--log-level"
     * in `prog --log-level debug run`), NULL-terminated; NULL when none.
     * Their value is skipped wherever the option appears, so it is never
     * taken for a command name. "--opt=value" needs no entry. */
    const char *const *value_options;
    /* Sent as pythonVersion; NULL: "undefined" (a host without Python). */
    const char *python_version;
} nattel_program;

/* Sent when no command was given (`prog`, `prog --help`). */
#define NATTEL_COMMAND_NONE "undefined"
/* Sent when the command token is not a registered name. */
#define NATTEL_COMMAND_UNKNOWN "unknown"
/* Sent when there is no registered subcommand to report. */
#define NATTEL_SUBCOMMAND_NONE "undefined"

typedef struct nattel_resolved {
    /* A name of the program's table (the very pointer), or one of the
     * constant strings above: never a pointer into argv. */
    const char *command;
    const char *subcommand;
    /* The registered command; NULL for NONE and UNKNOWN. */
    const nattel_command *entry;
} nattel_resolved;

/*
 * Resolves argv (argv[0] is the program and is ignored) the way the
 * upstream `nat` CLI does:
 *
 *  - Tokens that start with '-' (but not "-" alone) are options; a
 *    token equal to one of program->value_options also consumes the next
 *    token as its value. "--" ends the options: the token after it is
 *    taken as positional.
 *  - command: the first positional token, when it equals a registered
 *    command name; "unknown" when it does not; "undefined" when there is
 *    no positional token.
 *  - subcommand: only when the command is a group and the first
 *    positional token after it equals one of that group's registered
 *    subcommands; "undefined" otherwise (a leaf's argument, an unknown
 *    token, nothing).
 *
 * Nothing else of argv is looked at. The one known, bounded exposure: a
 * value of an option that is not declared in value_options, given before
 * the command (or before the subcommand), is taken as positional; if it
 * happens to equal a registered name, that registered name is reported.
 * What leaves is still only a name from the program's own table.
 *
 * A NULL `program` or `argv`, or argc < 2, resolves to "undefined" for
 * both; a NULL argv entry ends the scan. `out` must not be NULL; its
 * strings live as long as the program's table (or are static). No I/O,
 * no allocation, never fails.
 */
void nattel_command_resolve(const nattel_program *program, int argc,
                            char *const argv[], nattel_resolved *out);

/* Begin flags. */
/* Never show the first-run prompt for this run (whatever the command). */
#define NATTEL_INVOCATION_NO_PROMPT 0x1u

typedef struct nattel_invocation nattel_invocation;

/*
 * Starts one run: resolves the command, decides consent, and records the
 * start on CLOCK_MONOTONIC. The first-run prompt is shown when it is due
 * and the options allow it, and only for a registered command that is
 * not flagged NATTEL_COMMAND_CONFIGURES_TELEMETRY, without
 * NATTEL_INVOCATION_NO_PROMPT: never before `prog --help`, a mistyped
 * command or the telemetry-configuration command (those runs are sent
 * only when consent was already given).
 * The client must outlive the invocation. NULL when `client` is NULL
 * (telemetry off) or on an internal error: the end functions accept NULL.
 * A NULL `program` resolves as no command. argv is read during the call
 * only, but the invocation keeps pointers into `program` (the resolved
 * names, python_version): the program's data must stay valid until the
 * end call. The caller ends every non-NULL invocation with exactly one of
 * nattel_invocation_end / nattel_invocation_end_signal, which free it.
 */
nattel_invocation *nattel_invocation_begin(nattel_client *client,
                                           const nattel_program *program,
                                           int argc, char *const argv[],
                                           unsigned flags);

/* The resolution begin made; NULL for a NULL invocation. Owned by `inv`:
 * valid until its end call (the names themselves live as the program's
 * table does). */
const nattel_resolved *nattel_invocation_resolved(const nattel_invocation *inv);

/*
 * Ends the run and frees `inv`: exit code 0 is a success (the error class
 * is ignored), anything else a failure with `error_class` (the host's
 * error type name, e.g. "FileNotFoundError") when it is an identifier
 * (nattel_error_class_check), else "undefined". Hands one nat_cli_command
 * event to nattel_client_emit(). Accepts NULL. `error_class` is read
 * during the call only (NULL: "undefined"). `inv` is invalid afterwards.
 */
void nattel_invocation_end(nattel_invocation *inv, int exit_code,
                           const char *error_class);

/*
 * Ends a run stopped by signal `signo` (after the host caught it):
 * interrupted, exit code 128 + signo, error class the signal's name
 * ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"; "undefined" for others).
 * Not async-signal-safe: call it from normal code (after sigwait, or
 * when a handler's flag is seen). Accepts NULL. Frees `inv` as
 * nattel_invocation_end does.
 */
void nattel_invocation_end_signal(nattel_invocation *inv, int signo);

#ifdef __cplusplus
}
#endif

#endif
