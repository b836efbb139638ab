/*
 * products: a C host of another NeMo product sending its own event type
 * through nattel, beside NAT's nat_cli_command, with one client.
 *
 *   products SCHEMA [EVENT_SYS_VER]
 *
 * Loads the event types of SCHEMA (a file in the shared
 * anonymous_events.json layout; NeMo Guardrails' snapshot is
 * tests/data/reference/guardrails_usage_event.schema.json), builds one
 * guardrails_usage_event with nattel_event_new and the nattel_event_set_*
 * calls, and emits it and two nat_cli_command events through one client
 * configured from the environment (NAT_TELEMETRY_ENDPOINT, consent, ...).
 * The types have different schema versions (1.7 and 1.5), so they leave
 * as two envelopes, each with its own eventSchemaVer. Exit 0 when every
 * emit was handled, 1 otherwise (the error on stderr).
 */
#include <nattel/client.h>
#include <nattel/nattel.h>

#include <stdio.h>
#include <string.h>

/* The guardrails event's fields, each with the setter its kind takes. */
static nattel_code set_guardrails(nattel_event *ev, nattel_error *err)
{
    static const char *const strings[][2] = {
        {"sessionId", "example-session"},
        {"nemoguardrailsVersion", "0.11.0"},
        {"pythonVersion", "3.12.1"},
        {"platform", "linux"},
        {"osName", "Linux"},
        {"colangVersion", "2.x"}};
    static const char *const enums[][2] = {{"nemoSource", "guardrails"},
                                           {"deploymentType", "library"},
                                           {"railsEngine", "LLMRails"},
                                           {"event", "startup"}};
    static const char *const arrays[][2] = {
        {"llmProviders", "[\"nim\",\"openai\"]"},
        {"railTypesInUse", "[\"input\",\"output\"]"},
        {"builtinFeatures", "[]"}};
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; !rc && i < sizeof strings / sizeof *strings; i++)
        rc = nattel_event_set_string(ev, strings[i][0], strings[i][1], err);
    for (size_t i = 0; !rc && i < sizeof enums / sizeof *enums; i++)
        rc = nattel_event_set_enum(ev, enums[i][0], enums[i][1], err);
    for (size_t i = 0; !rc && i < sizeof arrays / sizeof *arrays; i++)
        rc = nattel_event_set_json(ev, arrays[i][0], arrays[i][1],
                                   strlen(arrays[i][1]), err);
    if (!rc)
        rc = nattel_event_set_int(ev, "numRailsConfigured", 2, err);
    if (!rc)
        rc = nattel_event_set_int(ev, "num_custom_flows", 0, err);
    if (!rc)
        rc = nattel_event_set_bool(ev, "tracingEnabled", 1, err);
    if (!rc)
        rc = nattel_event_set_bool(ev, "hasKnowledgeBase", 0, err);
    if (!rc)
        rc = nattel_event_set_bool(ev, "streamingConfigured", 0, err);
    if (!rc)
        rc = nattel_event_set_number(ev, "timestamp", 1767225600.25, err);
    return rc;
}

static nattel_code emit_cli(nattel_client *c, const char *command,
                            nattel_error *err)
{
    nattel_cli_command cmd = NATTEL_CLI_COMMAND_INIT;
    nattel_event *ev = NULL;
    cmd.command = command;
    cmd.task_status = NATTEL_TASK_STATUS_SUCCESS;
    nattel_code rc = nattel_cli_command_event(&cmd, &ev, err);
    return rc ? rc : nattel_client_emit(c, ev, err);
}

static int run(const nattel_registry *reg, nattel_options *o)
{
    nattel_error err;
    const char name[] = "guardrails_usage_event";
    const nattel_event_type *t = nattel_registry_find(reg, name, strlen(name));
    if (!t) {
        fprintf(stderr, "products: the schema has no %s\n", name);
        nattel_options_free(o);
        return 1;
    }
    nattel_client *c = nattel_client_new(o, &err); /* takes o */
    if (!c) {
        fprintf(stderr, "products: %s\n", err.message);
        return 1;
    }
    nattel_event *ev = nattel_event_new(t);
    nattel_code rc = ev ? set_guardrails(ev, &err) : NATTEL_ENOMEM;
    if (rc) {
        nattel_event_free(ev);
    } else {
        rc = emit_cli(c, "run", &err);
        if (!rc)
            rc = nattel_client_emit(c, ev, &err); /* takes ev */
        else
            nattel_event_free(ev);
    }
    if (!rc)
        rc = emit_cli(c, "eval", &err);
    if (!rc)
        rc = nattel_client_flush(c, 5000, &err);
    if (rc)
        fprintf(stderr, "products: %s\n", err.message);
    nattel_client_free(c);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: products SCHEMA [EVENT_SYS_VER]\n");
        return 2;
    }
    nattel_error err;
    nattel_registry *reg = nattel_registry_new();
    nattel_options *o = nattel_options_new();
    nattel_code rc = reg && o ? NATTEL_OK : NATTEL_ENOMEM;
    if (!rc)
        rc = nattel_registry_load_schema_file(reg, argv[1], &err);
    if (!rc)
        rc = nattel_options_from_env(o, NULL, NULL, &err);
    if (!rc && argc == 3)
        rc = nattel_options_set_event_sys_ver(o, argv[2], &err);
    int status = 1;
    if (rc) {
        fprintf(stderr, "products: %s\n",
                rc == NATTEL_ENOMEM ? "out of memory" : err.message);
        nattel_options_free(o);
    } else {
        status = run(reg, o);
    }
    /* The registry owns the loaded type: freed after every event. */
    nattel_registry_free(reg);
    return status;
}
