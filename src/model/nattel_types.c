/* The built-in event types, as data (schema 1.5 of the shared NeMo Usage
 * Telemetry project). Everything else is driven from these tables. */
#include <nattel/nattel.h>

#include "model/nattel_plan.h"

/* Each list once, as X-macros: the type tables and the encode plan below
 * (the same names as ready JSON) are both made from it, so they cannot
 * disagree. */
#define NEMO_SOURCES(X)                                                        \
    X("inference")                                                             \
    X("auditor")                                                               \
    X("datadesigner")                                                          \
    X("evaluator")                                                             \
    X("guardrails")                                                            \
    X("safe-synthesizer")                                                      \
    X("anonymizer")                                                            \
    X("agent_toolkit")                                                         \
    X("undefined")
#define TASK_STATUSES(X)                                                       \
    X("success")                                                               \
    X("failure")                                                               \
    X("completed")                                                             \
    X("error")                                                                 \
    X("canceled")                                                              \
    X("interrupted")                                                           \
    X("undefined")
#define AS_CSTR(v) v,

static const char *const nemo_source_values[] = {NEMO_SOURCES(AS_CSTR)};
static const char *const task_status_values[] = {TASK_STATUSES(AS_CSTR)};

const nattel_enum_type nattel_nemo_source_enum = {
    "NemoSourceEnum", "The NeMo product that created the event.",
    nemo_source_values, sizeof nemo_source_values / sizeof *nemo_source_values};

const nattel_enum_type nattel_task_status_enum = {
    "TaskStatusEnum", "Outcome of the task being reported.", task_status_values,
    sizeof task_status_values / sizeof *task_status_values};

#define RESTRICTED_INT "RestrictedTelemetryInteger"

/* The wire names, each written once (the fields and the plan). */
#define W_NEMO_SOURCE "nemoSource"
#define W_COMMAND "command"
#define W_SUBCOMMAND "subcommand"
#define W_TASK_STATUS "taskStatus"
#define W_DURATION_MS "durationMs"
#define W_EXIT_CODE "exitCode"
#define W_ERROR_CLASS "errorClass"
#define W_PYTHON_VERSION "pythonVersion"

static const nattel_field cli_command_fields[] = {
    {.c_name = "nemo_source",
     .wire_name = W_NEMO_SOURCE,
     .description = "The NeMo product that created the event. Always "
                    "'agent_toolkit' for this event type when NAT emits it.",
     .kind = NATTEL_KIND_ENUM,
     .enum_type = &nattel_nemo_source_enum,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.e = NATTEL_NEMO_SOURCE_AGENT_TOOLKIT}},
    {.c_name = "command",
     .wire_name = W_COMMAND,
     .description = "Top-level CLI command name (e.g. 'run', 'serve', "
                    "'evaluate').",
     .kind = NATTEL_KIND_STRING},
    {.c_name = "subcommand",
     .wire_name = W_SUBCOMMAND,
     .description = "Second-level command name when applicable, such as "
                    "'list-components' for 'nat info list-components'. "
                    "'undefined' when no subcommand was invoked.",
     .kind = NATTEL_KIND_STRING,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.s = NATTEL_STR("undefined")}},
    {.c_name = "task_status",
     .wire_name = W_TASK_STATUS,
     .description = "Outcome of the invocation: 'success', 'failure', or "
                    "'interrupted' (Ctrl-C).",
     .kind = NATTEL_KIND_ENUM,
     .enum_type = &nattel_task_status_enum},
    {.c_name = "duration_ms",
     .wire_name = W_DURATION_MS,
     .description = "Wall-clock duration of the invocation in milliseconds. "
                    "-1 if unknown.",
     .kind = NATTEL_KIND_INT64,
     .type_ref = RESTRICTED_INT,
     .flags = NATTEL_FIELD_HAS_DEFAULT | NATTEL_FIELD_HAS_MIN,
     .default_value = {.i = -1},
     .minimum = -1},
    {.c_name = "exit_code",
     .wire_name = W_EXIT_CODE,
     .description = "Process exit code (0 on success, 130 on interrupt, "
                    "non-zero on failure). -1 if unknown.",
     .kind = NATTEL_KIND_INT64,
     .type_ref = RESTRICTED_INT,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.i = -1}},
    {.c_name = "error_class",
     .wire_name = W_ERROR_CLASS,
     .description = "Exception (error) class name on failure, no message. "
                    "'undefined' on success or interrupt.",
     .kind = NATTEL_KIND_STRING,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.s = NATTEL_STR("undefined")}},
    {.c_name = "python_version",
     .wire_name = W_PYTHON_VERSION,
     .description = "The runtime Python version, e.g. '3.11.7'. 'undefined' "
                    "where the host has no Python runtime.",
     .kind = NATTEL_KIND_STRING},
};

const nattel_event_type nattel_cli_command_type = {
    .name = NATTEL_EVENT_NAME("nat_cli_command"),
    .schema_version = "1.5",
    .description =
        "Single invocation of a top-level NAT CLI command (e.g. 'nat run'). "
        "Carries no command arguments, option values, file paths, config "
        "contents, workflow or function names, hostnames, usernames or other "
        "user-supplied strings. The only free-form string is errorClass: the "
        "exception class name on failure, never the message.",
    .gdpr_category = "functional",
    .gdpr_description = "Command name, outcome, duration, exit code, error "
                        "class name and runtime version of one CLI "
                        "invocation.",
    .fields = cli_command_fields,
    .field_count = sizeof cli_command_fields / sizeof *cli_command_fields,
};

/* ---------------------------------------------------------------- */
/* The built-in type's plan (model/nattel_event.h)                   */
/* ---------------------------------------------------------------- */

/* `,"name":` as bytes: the literals hold no byte JSON must escape (the
 * plan test checks it against the escaping writer). */
#define KEY(w)                                                                 \
    {                                                                          \
        ",\"" w "\":", sizeof w + 3                                            \
    }
#define QUOTED(v) {"\"" v "\"", sizeof v + 1},

static const nattel_str cli_keys[] = {
    KEY(W_NEMO_SOURCE), KEY(W_COMMAND),       KEY(W_SUBCOMMAND),
    KEY(W_TASK_STATUS), KEY(W_DURATION_MS),   KEY(W_EXIT_CODE),
    KEY(W_ERROR_CLASS), KEY(W_PYTHON_VERSION)};
static const unsigned char cli_wlen[] = {
    sizeof W_NEMO_SOURCE - 1, sizeof W_COMMAND - 1,
    sizeof W_SUBCOMMAND - 1,  sizeof W_TASK_STATUS - 1,
    sizeof W_DURATION_MS - 1, sizeof W_EXIT_CODE - 1,
    sizeof W_ERROR_CLASS - 1, sizeof W_PYTHON_VERSION - 1};
static const nattel_str nemo_source_json[] = {NEMO_SOURCES(QUOTED)};
static const nattel_str task_status_json[] = {TASK_STATUSES(QUOTED)};
static const nattel_str *const cli_enum_json[] = {
    nemo_source_json, NULL, NULL, task_status_json, NULL, NULL, NULL, NULL};

_Static_assert(sizeof cli_keys / sizeof *cli_keys ==
                       sizeof cli_command_fields / sizeof *cli_command_fields &&
                   sizeof cli_wlen == sizeof cli_keys / sizeof *cli_keys &&
                   sizeof cli_enum_json / sizeof *cli_enum_json ==
                       sizeof cli_keys / sizeof *cli_keys,
               "one plan entry per field");

static const nattel__type_plan cli_plan = {&nattel_cli_command_type, cli_keys,
                                           cli_wlen, cli_enum_json};

const nattel__type_plan *nattel__type_plan_of(const nattel_event_type *t)
{
    return t == &nattel_cli_command_type ? &cli_plan : NULL;
}
