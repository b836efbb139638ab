/* The built-in event types, as data (schema 1.5 of the shared NeMo Usage
 * Telemetry project). Everything else is driven from these tables. */
#include <nattel/nattel.h>

static const char *const nemo_source_values[] = {
    "inference",  "auditor",       "datadesigner",
    "evaluator",  "guardrails",    "safe-synthesizer",
    "anonymizer", "agent_toolkit", "undefined"};

static const char *const task_status_values[] = {
    "success",  "failure",     "completed", "error",
    "canceled", "interrupted", "undefined"};

const nattel_enum_type nattel_nemo_source_enum = {
    "NemoSourceEnum", "The NeMo product that created the event.",
    nemo_source_values, sizeof nemo_source_values / sizeof *nemo_source_values};

const nattel_enum_type nattel_task_status_enum = {
    "TaskStatusEnum", "Outcome of the task being reported.", task_status_values,
    sizeof task_status_values / sizeof *task_status_values};

#define RESTRICTED_INT "RestrictedTelemetryInteger"

static const nattel_field cli_command_fields[] = {
    {.c_name = "nemo_source",
     .wire_name = "nemoSource",
     .description = "The NeMo product that created the event. Always "
                    "'agent_toolkit' for this event type when NAT emits it.",
     .kind = NATTEL_KIND_ENUM,
     .enum_type = &nattel_nemo_source_enum,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.e = NATTEL_NEMO_SOURCE_AGENT_TOOLKIT}},
    {.c_name = "command",
     .wire_name = "command",
     .description = "Top-level CLI command name (e.g. 'run', 'serve', "
                    "'evaluate').",
     .kind = NATTEL_KIND_STRING},
    {.c_name = "subcommand",
     .wire_name = "subcommand",
     .description = "Second-level command name when applicable, such as "
                    "'list-components' for 'nat info list-components'. "
                    "'undefined' when no subcommand was invoked.",
     .kind = NATTEL_KIND_STRING,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.s = NATTEL_STR("undefined")}},
    {.c_name = "task_status",
     .wire_name = "taskStatus",
     .description = "Outcome of the invocation: 'success', 'failure', or "
                    "'interrupted' (Ctrl-C).",
     .kind = NATTEL_KIND_ENUM,
     .enum_type = &nattel_task_status_enum},
    {.c_name = "duration_ms",
     .wire_name = "durationMs",
     .description = "Wall-clock duration of the invocation in milliseconds. "
                    "-1 if unknown.",
     .kind = NATTEL_KIND_INT64,
     .type_ref = RESTRICTED_INT,
     .flags = NATTEL_FIELD_HAS_DEFAULT | NATTEL_FIELD_HAS_MIN,
     .default_value = {.i = -1},
     .minimum = -1},
    {.c_name = "exit_code",
     .wire_name = "exitCode",
     .description = "Process exit code (0 on success, 130 on interrupt, "
                    "non-zero on failure). -1 if unknown.",
     .kind = NATTEL_KIND_INT64,
     .type_ref = RESTRICTED_INT,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.i = -1}},
    {.c_name = "error_class",
     .wire_name = "errorClass",
     .description = "Exception (error) class name on failure, no message. "
                    "'undefined' on success or interrupt.",
     .kind = NATTEL_KIND_STRING,
     .flags = NATTEL_FIELD_HAS_DEFAULT,
     .default_value = {.s = NATTEL_STR("undefined")}},
    {.c_name = "python_version",
     .wire_name = "pythonVersion",
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
