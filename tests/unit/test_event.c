/* The event model: schema 1.5 enums, the nat_cli_command type as
 * docs/design.md tables it, the upstream test expectations, checks of
 * types built at run time, the writer, and nattel_event_from_json in both
 * modes. Where a value can be checked by an independent parser, jansson
 * reads what we write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/nattel.h>

#include "model/nattel_event.h"
#include "testutil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NATTEL_HAVE_JANSSON
#include <jansson.h>
#endif

/* ---------------------------------------------------------------- */
/* Helpers                                                           */
/* ---------------------------------------------------------------- */

static const char *const NEMO_SOURCES[] = {
    "inference",  "auditor",       "datadesigner",
    "evaluator",  "guardrails",    "safe-synthesizer",
    "anonymizer", "agent_toolkit", "undefined"};
static const char *const TASK_STATUSES[] = {
    "success",  "failure",     "completed", "error",
    "canceled", "interrupted", "undefined"};

/* The reference payload's first event, and every field at a non-default. */
#define VALID_WIRE                                                             \
    "{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","                   \
    "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","                 \
    "\"durationMs\":1234,\"exitCode\":0,\"errorClass\":\"undefined\","         \
    "\"pythonVersion\":\"3.11.7\"}"

static char *write_event(const nattel_event *ev)
{
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_error err;
    nattel_code rc = nattel_event_write_json(ev, &b, &err);
    if (rc)
        fail_msg("write_json: %s", err.message);
    return b.data; /* the caller frees */
}

static nattel_event *cli_event(const nattel_cli_command *c)
{
    nattel_event *ev = NULL;
    nattel_error err;
    nattel_code rc = nattel_cli_command_event(c, &ev, &err);
    if (rc)
        fail_msg("nattel_cli_command_event: %s", err.message);
    return ev;
}

static void dump_problems(const char *what, const nattel_problems *p)
{
    print_message("%s: %zu problem(s)\n", what, p->count);
    for (size_t i = 0; i < p->count; i++)
        print_message("  %s: %s\n", p->items[i].path, p->items[i].message);
}

/* Decodes json; returns the code, and the event on success. */
static nattel_code decode(const char *json, nattel_mode mode,
                          nattel_event **out, nattel_problems *p)
{
    if (out)
        *out = NULL;
    nattel_problems_clear(p);
    return nattel_event_from_json(&nattel_cli_command_type, json, strlen(json),
                                  mode, out, p);
}

static void expect_valid(const char *json, nattel_mode mode, int line)
{
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_event *ev = NULL;
    nattel_code rc = decode(json, mode, &ev, &p);
    if (rc != NATTEL_OK || !ev) {
        dump_problems(json, &p);
        fail_msg("line %d: %s mode refused %s (%s)", line,
                 mode ? "model" : "wire", json, nattel_code_name(rc));
    }
    assert_int_equal(p.count, 0);
    nattel_event_free(ev);
    nattel_problems_free(&p);
}

/* A problem whose path names `field` ("field", "$.field", "x.field"). */
static int has_problem_at(const nattel_problems *p, const char *field)
{
    size_t fl = strlen(field);
    for (size_t i = 0; i < p->count; i++) {
        const char *path = p->items[i].path;
        size_t pl = strlen(path);
        if (pl >= fl && !strcmp(path + pl - fl, field) &&
            (pl == fl || path[pl - fl - 1] == '.'))
            return 1;
    }
    return 0;
}

/* Refused with code `want`; each of the NULL-terminated `fields` has a
 * problem at its path; every problem has a path and a message. */
static void expect_invalid(const char *json, nattel_mode mode, nattel_code want,
                           int line, ...)
{
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_event *ev = (nattel_event *)&p; /* must be left alone or NULLed */
    nattel_code rc = decode(json, mode, &ev, &p);
    if (rc != want) {
        dump_problems(json, &p);
        fail_msg("line %d: %s mode: %s: expected %s, got %s", line,
                 mode ? "model" : "wire", json, nattel_code_name(want),
                 nattel_code_name(rc));
    }
    if (ev != NULL && ev != (nattel_event *)&p)
        fail_msg("line %d: an event was returned for an invalid document",
                 line);
    if (p.count == 0)
        fail_msg("line %d: %s refused without a problem", line, json);
    for (size_t i = 0; i < p.count; i++) {
        assert_non_null(p.items[i].path);
        assert_non_null(p.items[i].message);
        assert_true(strlen(p.items[i].path) > 0);
        assert_true(strlen(p.items[i].message) > 0);
    }
    va_list ap;
    va_start(ap, line);
    for (const char *field = va_arg(ap, const char *); field != NULL;
         field = va_arg(ap, const char *)) {
        if (!has_problem_at(&p, field)) {
            dump_problems(json, &p);
            fail_msg("line %d: %s: no problem at '%s'", line, json, field);
        }
    }
    va_end(ap);
    nattel_problems_free(&p);
}

#define VALID(json, mode) expect_valid((json), (mode), __LINE__)
#define INVALID(json, mode, ...)                                               \
    expect_invalid((json), (mode), NATTEL_ESCHEMA, __LINE__, __VA_ARGS__,      \
                   (const char *)NULL)
#define INVALID_CODE(json, mode, code)                                         \
    expect_invalid((json), (mode), (code), __LINE__, (const char *)NULL)

/* Parameters of nat_cli_command built from a template by replacing one
 * field's JSON value (or dropping it with NULL) and appending `extra`. */
static char *params(const char *field, const char *value, const char *extra)
{
    static const char *const names[] = {
        "nemoSource", "command",  "subcommand", "taskStatus",
        "durationMs", "exitCode", "errorClass", "pythonVersion"};
    static const char *const values[] = {
        "\"agent_toolkit\"", "\"run\"",   "\"undefined\"",
        "\"success\"",       "1234",      "0",
        "\"undefined\"",     "\"3.11.7\""};
    char *out = malloc(4096);
    assert_non_null(out);
    size_t o = 0;
    out[o++] = '{';
    int first = 1;
    for (size_t i = 0; i < 8; i++) {
        const char *v = values[i];
        if (field && !strcmp(field, names[i])) {
            if (!value)
                continue;
            v = value;
        }
        o += (size_t)snprintf(out + o, 4096 - o, "%s\"%s\":%s",
                              first ? "" : ",", names[i], v);
        first = 0;
    }
    if (extra)
        o += (size_t)snprintf(out + o, 4096 - o, "%s%s", first ? "" : ",",
                              extra);
    snprintf(out + o, 4096 - o, "}");
    return out;
}

/* ---------------------------------------------------------------- */
/* Enums                                                             */
/* ---------------------------------------------------------------- */

static void test_enums_mirror_schema_1_5(void **state)
{
    (void)state;
    assert_int_equal(NATTEL_NEMO_SOURCE_COUNT, 9);
    assert_int_equal(nattel_nemo_source_enum.count, 9);
    assert_string_equal(nattel_nemo_source_enum.name, "NemoSourceEnum");
    for (size_t i = 0; i < 9; i++) {
        assert_string_equal(nattel_nemo_source_name((nattel_nemo_source)i),
                            NEMO_SOURCES[i]);
        assert_string_equal(nattel_nemo_source_enum.values[i], NEMO_SOURCES[i]);
        nattel_nemo_source v = (nattel_nemo_source)99;
        assert_int_equal(nattel_nemo_source_parse(NEMO_SOURCES[i], &v, NULL),
                         NATTEL_OK);
        assert_int_equal(v, (int)i);
    }
    assert_int_equal(NATTEL_NEMO_SOURCE_AGENT_TOOLKIT, 7);
    assert_int_equal(NATTEL_NEMO_SOURCE_SAFE_SYNTHESIZER, 5);
    assert_int_equal(NATTEL_NEMO_SOURCE_UNDEFINED, 8);

    assert_int_equal(NATTEL_TASK_STATUS_COUNT, 7);
    assert_int_equal(nattel_task_status_enum.count, 7);
    assert_string_equal(nattel_task_status_enum.name, "TaskStatusEnum");
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(nattel_task_status_name((nattel_task_status)i),
                            TASK_STATUSES[i]);
        assert_string_equal(nattel_task_status_enum.values[i],
                            TASK_STATUSES[i]);
        nattel_task_status v = (nattel_task_status)99;
        assert_int_equal(nattel_task_status_parse(TASK_STATUSES[i], &v, NULL),
                         NATTEL_OK);
        assert_int_equal(v, (int)i);
    }
    assert_int_equal(NATTEL_TASK_STATUS_INTERRUPTED, 5);
    assert_int_equal(NATTEL_TASK_STATUS_UNDEFINED, 6);

    assert_null(nattel_nemo_source_name(NATTEL_NEMO_SOURCE_COUNT));
    assert_null(nattel_nemo_source_name((nattel_nemo_source)-1));
    assert_null(nattel_task_status_name(NATTEL_TASK_STATUS_COUNT));
    assert_null(nattel_task_status_name((nattel_task_status)1000));
}

static void test_enum_unknown_string_is_an_error(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Success",          "SUCCESS",       "succes",
        "success ",         " success",      "",
        "cancelled",        "agent-toolkit", "Agent_Toolkit",
        "safe_synthesizer", "unknown",       "null"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nattel_error err;
        memset(&err, 0, sizeof err);
        nattel_task_status ts = NATTEL_TASK_STATUS_FAILURE;
        assert_int_equal(nattel_task_status_parse(bad[i], &ts, &err),
                         NATTEL_EINVAL);
        assert_int_equal(
            ts, NATTEL_TASK_STATUS_FAILURE); /* untouched, no default */
        assert_int_equal(err.code, NATTEL_EINVAL);
        assert_true(strlen(err.message) > 0);
        nattel_nemo_source ns = NATTEL_NEMO_SOURCE_AUDITOR;
        assert_int_equal(nattel_nemo_source_parse(bad[i], &ns, &err),
                         NATTEL_EINVAL);
        assert_int_equal(ns, NATTEL_NEMO_SOURCE_AUDITOR);
    }
    nattel_task_status ts = NATTEL_TASK_STATUS_FAILURE;
    assert_int_equal(nattel_task_status_parse(NULL, &ts, NULL), NATTEL_EINVAL);
}

/* ---------------------------------------------------------------- */
/* The nat_cli_command type                                          */
/* ---------------------------------------------------------------- */

static void test_cli_command_field_table(void **state)
{
    (void)state;
    const nattel_event_type *t = &nattel_cli_command_type;
    struct {
        const char *c_name, *wire;
        nattel_kind kind;
        const nattel_enum_type *e;
        int has_default;
        const char *dstr; /* string/enum default */
        int64_t dint;
        int has_min;
    } want[] = {
        {"nemo_source", "nemoSource", NATTEL_KIND_ENUM,
         &nattel_nemo_source_enum, 1, "agent_toolkit", 0, 0},
        {"command", "command", NATTEL_KIND_STRING, NULL, 0, NULL, 0, 0},
        {"subcommand", "subcommand", NATTEL_KIND_STRING, NULL, 1, "undefined",
         0, 0},
        {"task_status", "taskStatus", NATTEL_KIND_ENUM,
         &nattel_task_status_enum, 0, NULL, 0, 0},
        {"duration_ms", "durationMs", NATTEL_KIND_INT64, NULL, 1, NULL, -1, 1},
        {"exit_code", "exitCode", NATTEL_KIND_INT64, NULL, 1, NULL, -1, 0},
        {"error_class", "errorClass", NATTEL_KIND_STRING, NULL, 1, "undefined",
         0, 0},
        {"python_version", "pythonVersion", NATTEL_KIND_STRING, NULL, 0, NULL,
         0, 0},
    };
    assert_string_equal(t->name, "nat_cli_command");
    assert_string_equal(t->schema_version, "1.5");
    assert_int_equal(t->field_count, 8);
    assert_int_equal(nattel_event_type_check(t, NULL), NATTEL_OK);
    for (size_t i = 0; i < 8; i++) {
        const nattel_field *f = &t->fields[i];
        assert_string_equal(f->c_name, want[i].c_name);
        assert_string_equal(f->wire_name, want[i].wire);
        assert_int_equal(f->kind, want[i].kind);
        if (want[i].e)
            assert_ptr_equal(f->enum_type, want[i].e);
        assert_int_equal((f->flags & NATTEL_FIELD_HAS_DEFAULT) != 0,
                         want[i].has_default);
        /* On the wire every field is required. */
        assert_int_equal(f->flags & NATTEL_FIELD_WIRE_OPTIONAL, 0);
        assert_int_equal(f->flags & NATTEL_FIELD_HAS_MAX, 0);
        assert_int_equal((f->flags & NATTEL_FIELD_HAS_MIN) != 0,
                         want[i].has_min);
        if (want[i].has_min)
            assert_true(f->minimum == -1.0);
        if (want[i].has_default && want[i].kind == NATTEL_KIND_INT64)
            assert_int_equal(f->default_value.i, want[i].dint);
        if (want[i].has_default && want[i].kind == NATTEL_KIND_STRING) {
            assert_int_equal(f->default_value.s.len, strlen(want[i].dstr));
            assert_memory_equal(f->default_value.s.ptr, want[i].dstr,
                                strlen(want[i].dstr));
        }
        if (want[i].has_default && want[i].kind == NATTEL_KIND_ENUM)
            assert_string_equal(f->enum_type->values[f->default_value.e],
                                want[i].dstr);
        if (want[i].kind == NATTEL_KIND_INT64)
            assert_string_equal(f->type_ref, "RestrictedTelemetryInteger");
        /* found by either name, and by nothing else */
        assert_int_equal(nattel_event_type_field_index(t, want[i].c_name,
                                                       strlen(want[i].c_name)),
                         (int)i);
        assert_int_equal(nattel_event_type_field_index(t, want[i].wire,
                                                       strlen(want[i].wire)),
                         (int)i);
    }
    assert_int_equal(nattel_event_type_field_index(t, "durationms", 10), -1);
    assert_int_equal(nattel_event_type_field_index(t, "duration", 8), -1);
    assert_int_equal(nattel_event_type_field_index(t, "durationMsX", 11), -1);
    assert_int_equal(nattel_event_type_field_index(t, "durationMsX", 10), 4);
    assert_int_equal(nattel_event_type_field_index(t, "", 0), -1);
}

static void test_new_event_has_defaults_and_unset_required(void **state)
{
    (void)state;
    nattel_event *ev = nattel_event_new(&nattel_cli_command_type);
    assert_non_null(ev);
    assert_ptr_equal(nattel_event_type_of(ev), &nattel_cli_command_type);
    assert_string_equal(nattel_event_get_string(ev, "nemoSource"),
                        "agent_toolkit");
    assert_string_equal(nattel_event_get_string(ev, "subcommand"), "undefined");
    assert_string_equal(nattel_event_get_string(ev, "error_class"),
                        "undefined");
    int64_t v = 0;
    assert_int_equal(nattel_event_get_int(ev, "durationMs", &v), NATTEL_OK);
    assert_int_equal(v, -1);
    assert_int_equal(nattel_event_get_int(ev, "exit_code", &v), NATTEL_OK);
    assert_int_equal(v, -1);
    assert_null(nattel_event_get_string(ev, "command"));
    assert_null(nattel_event_get_string(ev, "taskStatus"));
    assert_null(nattel_event_get_string(ev, "pythonVersion"));
    assert_null(nattel_event_value(ev, 1));
    assert_null(nattel_event_value(ev, 8));
    nattel_error err;
    assert_int_equal(nattel_event_check(ev, &err), NATTEL_ESCHEMA);
    assert_non_null(strstr(err.message, "command"));
    /* The writer refuses an event with a required field unset. */
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel_event_write_json(ev, &b, &err), NATTEL_EINVAL);
    assert_int_equal(b.len, 0);
    nattel_buf_free(&b);
    nattel_event_free(ev);
    nattel_event_free(NULL);
}

/* ---------------------------------------------------------------- */
/* Upstream test expectations                                        */
/* ---------------------------------------------------------------- */

static void test_serializes_by_alias_with_sentinels(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "run";
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    nattel_event *ev = cli_event(&c);
    char *json = write_event(ev);
    /* docs/design.md: wire names, schema order, sentinels, never null. */
    assert_string_equal(
        json, "{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
              "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
              "\"durationMs\":-1,\"exitCode\":-1,\"errorClass\":\"undefined\","
              "\"pythonVersion\":\"undefined\"}");
    assert_null(strstr(json, "null"));
    assert_null(strstr(json, "task_status"));
    assert_null(strstr(json, "duration_ms"));
    free(json);
    nattel_event_free(ev);
}

static void test_nemo_source_overridable(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "evaluate";
    c.task_status = NATTEL_TASK_STATUS_COMPLETED;
    c.nemo_source = NATTEL_NEMO_SOURCE_INFERENCE;
    nattel_event *ev = cli_event(&c);
    assert_string_equal(nattel_event_get_string(ev, "nemo_source"),
                        "inference");
    char *json = write_event(ev);
    assert_non_null(strstr(json, "\"nemoSource\":\"inference\""));
    free(json);
    /* and through the generic setter */
    nattel_error err;
    assert_int_equal(
        nattel_event_set_enum(ev, "nemoSource", "safe-synthesizer", &err),
        NATTEL_OK);
    json = write_event(ev);
    assert_non_null(strstr(json, "\"nemoSource\":\"safe-synthesizer\""));
    free(json);
    assert_int_equal(nattel_event_set_enum(ev, "nemoSource", "nemo", &err),
                     NATTEL_EINVAL);
    assert_string_equal(nattel_event_get_string(ev, "nemoSource"),
                        "safe-synthesizer");
    nattel_event_free(ev);
}

static void test_failure_with_error_class(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "info";
    c.subcommand = "list-components";
    c.task_status = NATTEL_TASK_STATUS_FAILURE;
    c.duration_ms = 87;
    c.exit_code = 1;
    c.error_class = "ValueError";
    c.python_version = "3.12.1";
    nattel_event *ev = cli_event(&c);
    char *json = write_event(ev);
    /* the reference payload's second event, field for field */
    assert_string_equal(
        json, "{\"nemoSource\":\"agent_toolkit\",\"command\":\"info\","
              "\"subcommand\":\"list-components\",\"taskStatus\":\"failure\","
              "\"durationMs\":87,\"exitCode\":1,\"errorClass\":\"ValueError\","
              "\"pythonVersion\":\"3.12.1\"}");
    free(json);
    nattel_event_free(ev);
}

static void test_interrupted(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "serve";
    c.task_status = NATTEL_TASK_STATUS_INTERRUPTED;
    c.duration_ms = 5012;
    c.exit_code = 130;
    c.error_class = "KeyboardInterrupt";
    c.python_version = "3.11.7";
    nattel_event *ev = cli_event(&c);
    char *json = write_event(ev);
    assert_string_equal(
        json,
        "{\"nemoSource\":\"agent_toolkit\",\"command\":\"serve\","
        "\"subcommand\":\"undefined\",\"taskStatus\":\"interrupted\","
        "\"durationMs\":5012,\"exitCode\":130,"
        "\"errorClass\":\"KeyboardInterrupt\",\"pythonVersion\":\"3.11.7\"}");
    free(json);
    nattel_event_free(ev);
}

static void test_duration_minus_two_refused(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "run";
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    c.duration_ms = -2;
    nattel_event *ev = NULL;
    nattel_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(nattel_cli_command_event(&c, &ev, &err), NATTEL_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err.message, "durationMs"));
    c.duration_ms = INT64_MIN;
    assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), NATTEL_EINVAL);
    c.duration_ms = -1;
    ev = cli_event(&c);
    assert_int_equal(nattel_event_set_int(ev, "duration_ms", -2, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_int(ev, "duration_ms", 0, &err),
                     NATTEL_OK);
    assert_int_equal(nattel_event_set_int(ev, "durationMs", INT64_MAX, &err),
                     NATTEL_OK);
    /* exitCode has no bound */
    assert_int_equal(nattel_event_set_int(ev, "exitCode", INT64_MIN, &err),
                     NATTEL_OK);
    assert_int_equal(nattel_event_set_int(ev, "exitCode", -2, &err), NATTEL_OK);
    char *json = write_event(ev);
    assert_non_null(strstr(json, "\"durationMs\":9223372036854775807"));
    assert_non_null(strstr(json, "\"exitCode\":-2"));
    free(json);
    nattel_event_free(ev);
}

static void test_cli_command_missing_required(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    nattel_event *ev = NULL;
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    assert_int_equal(nattel_cli_command_event(&c, &ev, NULL),
                     NATTEL_EINVAL); /* no command */
    c.command = "run";
    c.task_status = (nattel_task_status)42;
    assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), NATTEL_EINVAL);
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    c.nemo_source = (nattel_nemo_source)42;
    assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), NATTEL_EINVAL);
    assert_null(ev);
}

static void test_setters_check_name_and_kind(void **state)
{
    (void)state;
    nattel_event *ev = nattel_event_new(&nattel_cli_command_type);
    nattel_error err;
    assert_int_equal(nattel_event_set_string(ev, "nope", "x", &err),
                     NATTEL_ENOTFOUND);
    assert_int_equal(nattel_event_set_string(ev, "durationMs", "x", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_int(ev, "command", 1, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_string(ev, "taskStatus", "success", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_bool(ev, "command", 1, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_number(ev, "durationMs", 1.0, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_string(ev, "command", NULL, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_enum(ev, "task_status", "Success", &err),
                     NATTEL_EINVAL);
    assert_null(nattel_event_get_string(ev, "taskStatus"));
    nattel_event_free(ev);
}

/* ---------------------------------------------------------------- */
/* Writer                                                            */
/* ---------------------------------------------------------------- */

static void test_writer_refuses_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {"\xFF",         "a\xC0\x80",
                                      "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                      "abc\xE2\x82",  "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
        c.command = "run";
        c.task_status = NATTEL_TASK_STATUS_FAILURE;
        c.error_class = bad[i];
        nattel_event *ev = NULL;
        assert_int_equal(nattel_cli_command_event(&c, &ev, NULL),
                         NATTEL_EINVAL);
        assert_null(ev);

        c.error_class = "E";
        ev = cli_event(&c);
        assert_int_equal(
            nattel_event_set_string(ev, "pythonVersion", bad[i], NULL),
            NATTEL_EINVAL);
        /* Bypass the setter's check: the writer itself must refuse. */
        assert_int_equal(
            nattel__event_put_string(ev, 6, bad[i], strlen(bad[i])), NATTEL_OK);
        nattel_buf b = NATTEL_BUF_INIT;
        assert_int_equal(nattel_buf_append(&b, "prefix", 6), NATTEL_OK);
        nattel_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(nattel_event_write_json(ev, &b, &err), NATTEL_EINVAL);
        assert_true(strlen(err.message) > 0);
        /* nothing half-written stays in the buffer */
        assert_int_equal(b.len, 6);
        assert_memory_equal(b.data, "prefix", 6);
        nattel_buf_free(&b);
        nattel_event_free(ev);
    }
}

/* Strings that need escaping survive write → parse (jansson) intact. */
static void test_writer_escapes(void **state)
{
    (void)state;
    static const char *const strs[] = {"quote\" backslash\\ slash/",
                                       "\b\f\n\r\t",
                                       "\x01\x02\x1F\x7F",
                                       "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80",
                                       "</script>",
                                       "\xEF\xBF\xBF\xF4\x8F\xBF\xBF",
                                       ""};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
        nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
        c.command = strs[i];
        c.task_status = NATTEL_TASK_STATUS_SUCCESS;
        c.error_class = strs[i];
        nattel_event *ev = cli_event(&c);
        char *json = write_event(ev);
        /* RFC 8259: no raw control characters on the wire */
        for (const char *p = json; *p; p++)
            assert_true((unsigned char)*p >= 0x20);
#ifdef NATTEL_HAVE_JANSSON
        json_error_t jerr;
        json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
            fail_msg("jansson refuses our output %s: %s", json, jerr.text);
        assert_string_equal(json_string_value(json_object_get(j, "command")),
                            strs[i]);
        assert_string_equal(json_string_value(json_object_get(j, "errorClass")),
                            strs[i]);
        assert_int_equal(json_object_size(j), 8);
        json_decref(j);
#endif
        /* and our own reader reads back the same event */
        nattel_problems p;
        nattel_problems_init(&p);
        nattel_event *back = NULL;
        nattel_code rc =
            nattel_event_from_json(&nattel_cli_command_type, json, strlen(json),
                                   NATTEL_MODE_WIRE, &back, &p);
        if (rc) {
            dump_problems(json, &p);
            fail_msg("our output does not read back: %s", json);
        }
        assert_string_equal(nattel_event_get_string(back, "command"), strs[i]);
        char *again = write_event(back);
        assert_string_equal(again, json);
        free(again);
        nattel_event_free(back);
        nattel_problems_free(&p);
        free(json);
        nattel_event_free(ev);
    }
}

/* ---------------------------------------------------------------- */
/* Types built at run time                                           */
/* ---------------------------------------------------------------- */

static const char *const color_values[] = {"red", "green"};
static const nattel_enum_type color_enum = {"ColorEnum", "A color.",
                                            color_values, 2};

static void make_fields(nattel_field *f)
{
    memset(f, 0, 3 * sizeof *f);
    f[0].c_name = "count_ms";
    f[0].wire_name = "countMs";
    f[0].kind = NATTEL_KIND_INT64;
    f[0].flags = NATTEL_FIELD_HAS_DEFAULT | NATTEL_FIELD_HAS_MIN;
    f[0].minimum = 0;
    f[0].default_value.i = 0;
    f[1].c_name = "color";
    f[1].wire_name = "color";
    f[1].kind = NATTEL_KIND_ENUM;
    f[1].enum_type = &color_enum;
    f[1].flags = NATTEL_FIELD_HAS_DEFAULT;
    f[1].default_value.e = 1;
    f[2].c_name = "ratio";
    f[2].wire_name = "ratio";
    f[2].kind = NATTEL_KIND_NUMBER;
    f[2].flags =
        NATTEL_FIELD_HAS_MIN | NATTEL_FIELD_HAS_MAX | NATTEL_FIELD_HAS_DEFAULT;
    f[2].minimum = 0;
    f[2].maximum = 1;
    f[2].default_value.d = 0.5;
}

static void expect_type_refused(const nattel_event_type *t, const char *why,
                                int line)
{
    nattel_error err;
    memset(&err, 0, sizeof err);
    nattel_code rc = nattel_event_type_check(t, &err);
    if (rc != NATTEL_EINVAL)
        fail_msg("line %d: a type with %s: expected EINVAL, got %s", line, why,
                 nattel_code_name(rc));
    if (strlen(err.message) == 0)
        fail_msg("line %d: refused without a message", line);
    /* a registry refuses it too */
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    size_t before = nattel_registry_count(reg);
    assert_int_not_equal(nattel_registry_add(reg, t, NULL), NATTEL_OK);
    assert_int_equal(nattel_registry_count(reg), before);
    nattel_registry_free(reg);
}

static void test_runtime_type_checks(void **state)
{
    (void)state;
    nattel_field f[3];
    make_fields(f);
    nattel_event_type t = {.name = "my_event",
                           .schema_version = "1.0",
                           .fields = f,
                           .field_count = 3};
    nattel_error err;
    assert_int_equal(nattel_event_type_check(&t, &err), NATTEL_OK);

    /* registered, found by name, and a second one of the name is refused */
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    assert_non_null(nattel_registry_find(reg, "nat_cli_command", 15));
    assert_int_equal(nattel_registry_add(reg, &t, &err), NATTEL_OK);
    assert_ptr_equal(nattel_registry_find(reg, "my_event", 8), &t);
    assert_null(nattel_registry_find(reg, "my_even", 7));
    nattel_event_type t2 = t;
    assert_int_equal(nattel_registry_add(reg, &t2, &err), NATTEL_EINVAL);
    assert_int_equal(nattel_registry_add(reg, &nattel_cli_command_type, &err),
                     NATTEL_EINVAL);
    nattel_registry_free(reg);

    t.name = NULL;
    expect_type_refused(&t, "a NULL name", __LINE__);
    t.name = "";
    expect_type_refused(&t, "an empty name", __LINE__);
    t.name = "my_event";
    t.schema_version = NULL;
    expect_type_refused(&t, "no schema version", __LINE__);
    t.schema_version = "1.0";
    assert_int_equal(nattel_event_type_check(&t, NULL), NATTEL_OK);

    /* two fields of one wire name */
    make_fields(f);
    f[2].wire_name = "countMs";
    f[2].c_name = "ratio";
    expect_type_refused(&t, "two fields named countMs", __LINE__);
    /* a C name equal to another field's wire name */
    make_fields(f);
    f[2].c_name = "color";
    expect_type_refused(&t, "a C name that is another field's name", __LINE__);
    /* a field without a wire name */
    make_fields(f);
    f[1].wire_name = NULL;
    expect_type_refused(&t, "a field without a wire name", __LINE__);
    /* an enum field without an enum type */
    make_fields(f);
    f[1].enum_type = NULL;
    expect_type_refused(&t, "an enum without values", __LINE__);

    /* defaults that break their own constraint */
    make_fields(f);
    f[0].default_value.i = -1; /* minimum 0 */
    expect_type_refused(&t, "an int default under its minimum", __LINE__);
    make_fields(f);
    f[0].flags |= NATTEL_FIELD_HAS_MAX;
    f[0].maximum = 10;
    f[0].default_value.i = 11;
    expect_type_refused(&t, "an int default over its maximum", __LINE__);
    make_fields(f);
    f[1].default_value.e = 2; /* two values */
    expect_type_refused(&t, "an enum default out of range", __LINE__);
    make_fields(f);
    f[2].default_value.d = 1.5;
    expect_type_refused(&t, "a number default over its maximum", __LINE__);
    make_fields(f);
    f[2].default_value.d = NAN;
    expect_type_refused(&t, "a NaN default", __LINE__);

    /* the same bounds hold for values set later */
    make_fields(f);
    nattel_event *ev = nattel_event_new(&t);
    assert_non_null(ev);
    assert_int_equal(nattel_event_set_int(ev, "countMs", -1, NULL),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_number(ev, "ratio", 1.01, NULL),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_number(ev, "ratio", INFINITY, NULL),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_event_set_number(ev, "ratio", 1.0, NULL),
                     NATTEL_OK);
    char *json = write_event(ev);
    assert_string_equal(json,
                        "{\"countMs\":0,\"color\":\"green\",\"ratio\":1.0}");
    free(json);
    nattel_event_free(ev);
}

/* ---------------------------------------------------------------- */
/* nattel_event_from_json                                            */
/* ---------------------------------------------------------------- */

static void test_from_json_wire_valid(void **state)
{
    (void)state;
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_event *ev = NULL;
    assert_int_equal(decode(VALID_WIRE, NATTEL_MODE_WIRE, &ev, &p), NATTEL_OK);
    assert_non_null(ev);
    assert_int_equal(p.count, 0);
    assert_string_equal(nattel_event_get_string(ev, "command"), "run");
    assert_string_equal(nattel_event_get_string(ev, "taskStatus"), "success");
    assert_string_equal(nattel_event_get_string(ev, "python_version"),
                        "3.11.7");
    int64_t v;
    assert_int_equal(nattel_event_get_int(ev, "durationMs", &v), NATTEL_OK);
    assert_int_equal(v, 1234);
    assert_int_equal(nattel_event_get_int(ev, "exitCode", &v), NATTEL_OK);
    assert_int_equal(v, 0);
    char *json = write_event(ev);
    assert_string_equal(json, VALID_WIRE);
    free(json);
    nattel_event_free(ev);

    /* out may be NULL (validation only); problems may be NULL */
    assert_int_equal(nattel_event_from_json(&nattel_cli_command_type,
                                            VALID_WIRE, strlen(VALID_WIRE),
                                            NATTEL_MODE_WIRE, NULL, NULL),
                     NATTEL_OK);
    const char *bad = "{\"command\":1}";
    assert_int_equal(nattel_event_from_json(&nattel_cli_command_type, bad,
                                            strlen(bad), NATTEL_MODE_WIRE, NULL,
                                            NULL),
                     NATTEL_ESCHEMA);

    /* the reference payload's three events, whitespace and key order free */
    VALID(" { \"pythonVersion\" : \"3.11.7\" , "
          "\"errorClass\":\"KeyboardInterrupt\","
          "\"exitCode\":130,\"durationMs\":5012,\"taskStatus\":\"interrupted\","
          "\"subcommand\":\"undefined\",\"command\":\"serve\","
          "\"nemoSource\":\"agent_toolkit\"}\n",
          NATTEL_MODE_WIRE);
    for (size_t i = 0; i < 9; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", NEMO_SOURCES[i]);
        char *doc = params("nemoSource", quoted, NULL);
        VALID(doc, NATTEL_MODE_WIRE);
        free(doc);
    }
    for (size_t i = 0; i < 7; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", TASK_STATUSES[i]);
        char *doc = params("taskStatus", quoted, NULL);
        VALID(doc, NATTEL_MODE_WIRE);
        free(doc);
    }
    nattel_problems_free(&p);
}

static void test_from_json_integer_rule(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int64_t value;
    } ok[] = {
        {"12", 12},
        {"12.0", 12},
        {"1.2e1", 12},
        {"120E-1", 12},
        {"-1", -1},
        {"-1.0", -1},
        {"-0", 0},
        {"0e999999", 0},
        {"9223372036854775807", INT64_MAX},
        {"9.223372036854775807e18", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        for (int mode = 0; mode < 2; mode++) {
            char *doc = params("durationMs", ok[i].json, NULL);
            nattel_problems p;
            nattel_problems_init(&p);
            nattel_event *ev = NULL;
            nattel_code rc = decode(doc, (nattel_mode)mode, &ev, &p);
            if (rc) {
                dump_problems(doc, &p);
                fail_msg("durationMs %s refused", ok[i].json);
            }
            int64_t v = 0;
            assert_int_equal(nattel_event_get_int(ev, "durationMs", &v),
                             NATTEL_OK);
            if (v != ok[i].value)
                fail_msg("durationMs %s read as %" PRId64, ok[i].json, v);
            nattel_event_free(ev);
            nattel_problems_free(&p);
            free(doc);
        }
    }
    /* exitCode has no minimum: the int64 range only */
    char *doc = params("exitCode", "-9223372036854775808", NULL);
    VALID(doc, NATTEL_MODE_WIRE);
    free(doc);

    static const char *const bad[] = {
        "\"12\"", "12.5", "1e19", "9223372036854775808",
        "-2",     "-1.5", "-2e0", "true",
        "null",   "[12]", "{}",   "1e400",
        "\"-1\"", "0.1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (int mode = 0; mode < 2; mode++) {
            doc = params("durationMs", bad[i], NULL);
            expect_invalid(doc, (nattel_mode)mode, NATTEL_ESCHEMA, __LINE__,
                           "durationMs", (const char *)NULL);
            free(doc);
        }
    }
    doc = params("exitCode", "-9223372036854775809", NULL);
    INVALID(doc, NATTEL_MODE_WIRE, "exitCode");
    free(doc);
    doc = params("exitCode", "\"0\"", NULL);
    INVALID(doc, NATTEL_MODE_MODEL, "exitCode");
    free(doc);
}

static void test_from_json_wire_refusals(void **state)
{
    (void)state;
    const nattel_mode W = NATTEL_MODE_WIRE;
    char *doc;
    static const char *const fields[] = {
        "nemoSource", "command",  "subcommand", "taskStatus",
        "durationMs", "exitCode", "errorClass", "pythonVersion"};
    /* every field is required on the wire */
    for (size_t i = 0; i < 8; i++) {
        doc = params(fields[i], NULL, NULL);
        expect_invalid(doc, W, NATTEL_ESCHEMA, __LINE__, fields[i],
                       (const char *)NULL);
        free(doc);
    }
    /* and never null */
    for (size_t i = 0; i < 8; i++) {
        doc = params(fields[i], "null", NULL);
        expect_invalid(doc, W, NATTEL_ESCHEMA, __LINE__, fields[i],
                       (const char *)NULL);
        free(doc);
        doc = params(fields[i], "null", NULL);
        expect_invalid(doc, NATTEL_MODE_MODEL, NATTEL_ESCHEMA, __LINE__,
                       fields[i], (const char *)NULL);
        free(doc);
    }
    /* C names are not wire names */
    doc = params("taskStatus", NULL, "\"task_status\":\"success\"");
    INVALID(doc, W, "task_status", "taskStatus");
    free(doc);
    /* unknown fields */
    doc = params(NULL, NULL, "\"foo\":1");
    INVALID(doc, W, "foo");
    free(doc);
    doc = params(NULL, NULL, "\"foo\":1");
    INVALID(doc, NATTEL_MODE_MODEL, "foo");
    free(doc);
    doc = params(NULL, NULL, "\"TaskStatus\":\"success\"");
    INVALID(doc, W, "TaskStatus");
    free(doc);
    /* duplicate keys, in both modes */
    doc = params(NULL, NULL, "\"command\":\"run\"");
    INVALID(doc, W, "command");
    free(doc);
    doc = params(NULL, NULL, "\"durationMs\":5");
    INVALID(doc, NATTEL_MODE_MODEL, "durationMs");
    free(doc);
    /* a duplicate spelled with an escape is still a duplicate */
    doc = params(NULL, NULL, "\"comm\\u0061nd\":\"run\"");
    INVALID_CODE(doc, W, NATTEL_ESCHEMA);
    free(doc);
    /* but an escaped key that is a known name is that name */
    VALID("{\"nemoSource\":\"agent_toolkit\",\"comm\\u0061nd\":\"run\","
          "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
          "\"durationMs\":1,\"exitCode\":0,\"errorClass\":\"undefined\","
          "\"pythonVersion\":\"3\"}",
          W);
    /* enum values are exact */
    doc = params("taskStatus", "\"Success\"", NULL);
    INVALID(doc, W, "taskStatus");
    free(doc);
    doc = params("nemoSource", "\"agent-toolkit\"", NULL);
    INVALID(doc, W, "nemoSource");
    free(doc);
    doc = params("taskStatus", "7", NULL);
    INVALID(doc, W, "taskStatus");
    free(doc);
    /* strings are strings */
    doc = params("command", "1", NULL);
    INVALID(doc, W, "command");
    free(doc);
    doc = params("command", "[\"run\"]", NULL);
    INVALID(doc, W, "command");
    free(doc);
    doc = params("pythonVersion", "3.11", NULL);
    INVALID(doc, W, "pythonVersion");
    free(doc);
    doc = params("errorClass", "false", NULL);
    INVALID(doc, W, "errorClass");
    free(doc);
    /* not an object */
    INVALID_CODE("[]", W, NATTEL_ESCHEMA);
    INVALID_CODE("\"run\"", W, NATTEL_ESCHEMA);
    INVALID_CODE("12 ", W, NATTEL_ESCHEMA);
    INVALID_CODE("[" VALID_WIRE "]", W, NATTEL_ESCHEMA);
    /* not JSON: parse errors, still reported as problems */
    INVALID_CODE("", W, NATTEL_EPARSE);
    INVALID_CODE("{", W, NATTEL_EPARSE);
    INVALID_CODE("{\"command\":\"run\",}", W, NATTEL_EPARSE);
    INVALID_CODE(VALID_WIRE "x", W, NATTEL_EPARSE);
    INVALID_CODE(VALID_WIRE VALID_WIRE, W, NATTEL_EPARSE);
    doc = params("command", "\"\\ud800\"", NULL);
    expect_invalid(doc, W, NATTEL_EPARSE, __LINE__, (const char *)NULL);
    free(doc);
    doc = params("command", "\"a\x01\"", NULL);
    expect_invalid(doc, W, NATTEL_EPARSE, __LINE__, (const char *)NULL);
    free(doc);
    doc = params("command", "\"\xC0\xAF\"", NULL);
    expect_invalid(doc, W, NATTEL_EPARSE, __LINE__, (const char *)NULL);
    free(doc);
    doc = params("command", "\"\xED\xA0\x80\"", NULL);
    expect_invalid(doc, NATTEL_MODE_MODEL, NATTEL_EPARSE, __LINE__,
                   (const char *)NULL);
    free(doc);
    /* an escaped NUL is valid JSON and a valid string */
    doc = params("command", "\"a\\u0000b\"", NULL);
    VALID(doc, W);
    free(doc);
    /* Valid JSON that is not an object is a schema error, not a parse
     * error, scalars at the end of the input included. */
    INVALID_CODE("null", W, NATTEL_ESCHEMA);
    INVALID_CODE("12", NATTEL_MODE_MODEL, NATTEL_ESCHEMA);
    INVALID_CODE("true", W, NATTEL_ESCHEMA);
}

static void test_from_json_model_mode(void **state)
{
    (void)state;
    const nattel_mode M = NATTEL_MODE_MODEL;
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_event *ev = NULL;
    const char *min = "{\"command\":\"run\",\"taskStatus\":\"success\","
                      "\"pythonVersion\":\"3.11.7\"}";
    nattel_code rc = decode(min, M, &ev, &p);
    if (rc) {
        dump_problems(min, &p);
        fail_msg("model mode refused the required fields alone");
    }
    char *json = write_event(ev);
    assert_string_equal(
        json, "{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
              "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
              "\"durationMs\":-1,\"exitCode\":-1,\"errorClass\":\"undefined\","
              "\"pythonVersion\":\"3.11.7\"}");
    free(json);
    nattel_event_free(ev);
    /* the same document is not a wire document */
    INVALID(min, NATTEL_MODE_WIRE, "nemoSource", "subcommand", "durationMs",
            "exitCode", "errorClass");

    /* C names (populate_by_name), mixed with wire names */
    const char *cnames =
        "{\"nemo_source\":\"evaluator\",\"command\":\"eval\","
        "\"subcommand\":\"x\",\"task_status\":\"failure\","
        "\"duration_ms\":7,\"exit_code\":3,\"error_class\":\"OSError\","
        "\"python_version\":\"3.10\"}";
    rc = decode(cnames, M, &ev, &p);
    if (rc) {
        dump_problems(cnames, &p);
        fail_msg("model mode refused C names");
    }
    json = write_event(ev);
    assert_string_equal(
        json, "{\"nemoSource\":\"evaluator\",\"command\":\"eval\","
              "\"subcommand\":\"x\",\"taskStatus\":\"failure\","
              "\"durationMs\":7,\"exitCode\":3,\"errorClass\":\"OSError\","
              "\"pythonVersion\":\"3.10\"}");
    free(json);
    nattel_event_free(ev);
    VALID("{\"command\":\"run\",\"task_status\":\"success\",\"pythonVersion\":"
          "\"3\","
          "\"exit_code\":0}",
          M);

    /* required fields stay required */
    INVALID("{\"taskStatus\":\"success\",\"pythonVersion\":\"3\"}", M,
            "command");
    INVALID("{\"command\":\"run\",\"pythonVersion\":\"3\"}", M, "taskStatus");
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\"}", M,
            "pythonVersion");
    INVALID("{}", M, "command", "taskStatus", "pythonVersion");

    /* one field under both names */
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"task_status\":"
            "\"success\","
            "\"pythonVersion\":\"3\"}",
            M, "task_status");
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
            "\"3\","
            "\"duration_ms\":1,\"durationMs\":1}",
            M, "durationMs");
    /* unknown fields, duplicates and the integer rule hold here too */
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
            "\"3\","
            "\"Command\":\"x\"}",
            M, "Command");
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
            "\"3\","
            "\"exit_code\":0,\"exit_code\":1}",
            M, "exit_code");
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
            "\"3\","
            "\"durationMs\":\"12\"}",
            M, "durationMs");
    INVALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
            "\"3\","
            "\"duration_ms\":-2}",
            M, "duration_ms");
    VALID("{\"command\":\"run\",\"taskStatus\":\"success\",\"pythonVersion\":"
          "\"3\","
          "\"durationMs\":1.2e1}",
          M);
    nattel_problems_free(&p);
}

static void test_from_json_reports_every_problem(void **state)
{
    (void)state;
    const char *doc =
        "{\"nemoSource\":\"nemo\",\"command\":5,\"taskStatus\":\"ok\","
        "\"durationMs\":-2,\"exitCode\":12.5,\"errorClass\":null,"
        "\"extra\":true,\"pythonVersion\":\"3\"}";
    for (int mode = 0; mode < 2; mode++) {
        nattel_problems p;
        nattel_problems_init(&p);
        nattel_code rc = decode(doc, (nattel_mode)mode, NULL, &p);
        assert_int_equal(rc, NATTEL_ESCHEMA);
        static const char *const where[] = {
            "nemoSource", "command",    "taskStatus", "durationMs",
            "exitCode",   "errorClass", "extra"};
        for (size_t i = 0; i < sizeof where / sizeof *where; i++)
            if (!has_problem_at(&p, where[i])) {
                dump_problems(doc, &p);
                fail_msg("%s mode: no problem at %s", mode ? "model" : "wire",
                         where[i]);
            }
        size_t expected =
            sizeof where / sizeof *where + (mode ? 0 : 1); /* + subcommand */
        if (p.count != expected) {
            dump_problems(doc, &p);
            fail_msg("%s mode: %zu problems, expected %zu",
                     mode ? "model" : "wire", p.count, expected);
        }
        assert_int_equal(p.dropped, 0);
        nattel_problems_free(&p);
    }
    /* Past NATTEL_PROBLEMS_MAX: kept ones plus a count of the rest. */
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel_buf_append(&b, "{", 1), NATTEL_OK);
    for (int i = 0; i < 150; i++) {
        char kv[32];
        int w = snprintf(kv, sizeof kv, "%s\"x%d\":%d", i ? "," : "", i, i);
        assert_int_equal(nattel_buf_append(&b, kv, (size_t)w), NATTEL_OK);
    }
    assert_int_equal(nattel_buf_append(&b, "}", 1), NATTEL_OK);
    nattel_problems p;
    nattel_problems_init(&p);
    assert_int_equal(nattel_event_from_json(&nattel_cli_command_type, b.data,
                                            b.len, NATTEL_MODE_WIRE, NULL, &p),
                     NATTEL_ESCHEMA);
    assert_int_equal(p.count, NATTEL_PROBLEMS_MAX);
    assert_int_equal(p.count + p.dropped, 150 + 8);
    nattel_problems_free(&p);
    nattel_buf_free(&b);
}

static void test_from_json_limits(void **state)
{
    (void)state;
    /* a deep value inside a field: refused as a limit or a schema error,
     * never accepted and never a crash */
    nattel_buf b = NATTEL_BUF_INIT;
    char *head = params("command", NULL, "\"command\":");
    size_t hl = strlen(head) - 1; /* without the closing brace */
    assert_int_equal(nattel_buf_append(&b, head, hl), NATTEL_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(nattel_buf_append(&b, "[", 1), NATTEL_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(nattel_buf_append(&b, "]", 1), NATTEL_OK);
    assert_int_equal(nattel_buf_append(&b, "}", 1), NATTEL_OK);
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_code rc = nattel_event_from_json(&nattel_cli_command_type, b.data,
                                            b.len, NATTEL_MODE_WIRE, NULL, &p);
    assert_true(rc == NATTEL_ELIMIT || rc == NATTEL_ESCHEMA);
    assert_true(p.count > 0);
    nattel_problems_free(&p);
    nattel_buf_free(&b);
    free(head);

    /* a long string is fine (no limit below the document's) */
    size_t n = 100000;
    char *big = malloc(n + 1);
    assert_non_null(big);
    big[0] = '"';
    memset(big + 1, 'a', n - 2);
    big[n - 1] = '"';
    big[n] = '\0';
    char *doc = malloc(n + 512);
    assert_non_null(doc);
    char *t = params("errorClass", "@", NULL);
    char *at = strchr(t, '@');
    snprintf(doc, n + 512, "%.*s%s%s", (int)(at - t), t, big, at + 1);
    VALID(doc, NATTEL_MODE_WIRE);
    free(t);
    free(doc);
    free(big);
}

/* write → read → write, on generated events, with jansson reading ours. */
static void rand_string(tu_rng *r, char *out, size_t cap)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         "0",
                                         "_",
                                         "-",
                                         ".",
                                         " ",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\n",
                                         "\t",
                                         "\x01",
                                         "\x1F",
                                         "\x7F",
                                         "\xC3\xA9",
                                         "\xE2\x82\xAC",
                                         "\xF0\x9F\x98\x80",
                                         "\xEF\xBF\xBF",
                                         "undefined",
                                         "null"};
    size_t n = tu_rnext(r) % 12, o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[tu_rnext(r) % (sizeof pieces / sizeof *pieces)];
        size_t l = strlen(p);
        if (o + l + 1 > cap)
            break;
        memcpy(out + o, p, l);
        o += l;
    }
    out[o] = '\0';
}

static void test_round_trip(void **state)
{
    (void)state;
    tu_rng r = {0x2545F4914F6CDD1DULL};
    for (int k = 0; k < 2000; k++) {
        char cmd[64], sub[64], ec[64], pv[64];
        rand_string(&r, cmd, sizeof cmd);
        rand_string(&r, sub, sizeof sub);
        rand_string(&r, ec, sizeof ec);
        rand_string(&r, pv, sizeof pv);
        nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
        c.nemo_source =
            (nattel_nemo_source)(tu_rnext(&r) % NATTEL_NEMO_SOURCE_COUNT);
        c.task_status =
            (nattel_task_status)(tu_rnext(&r) % NATTEL_TASK_STATUS_COUNT);
        c.command = cmd;
        c.subcommand = tu_rnext(&r) % 3 ? sub : NULL;
        c.error_class = tu_rnext(&r) % 3 ? ec : NULL;
        c.python_version = tu_rnext(&r) % 3 ? pv : NULL;
        c.duration_ms = (int64_t)(tu_rnext(&r) >> (tu_rnext(&r) % 64)) - 1;
        if (c.duration_ms < -1)
            c.duration_ms = -1;
        c.exit_code = (int64_t)tu_rnext(&r) >> (tu_rnext(&r) % 64);
        nattel_event *ev = cli_event(&c);
        char *json = write_event(ev);
#ifdef NATTEL_HAVE_JANSSON
        json_error_t jerr;
        json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
        if (!j)
            fail_msg("jansson refuses %s: %s", json, jerr.text);
        assert_string_equal(json_string_value(json_object_get(j, "command")),
                            cmd);
        assert_string_equal(json_string_value(json_object_get(j, "subcommand")),
                            c.subcommand ? sub : "undefined");
        assert_string_equal(json_string_value(json_object_get(j, "errorClass")),
                            c.error_class ? ec : "undefined");
        assert_string_equal(
            json_string_value(json_object_get(j, "pythonVersion")),
            c.python_version ? pv : "undefined");
        assert_string_equal(json_string_value(json_object_get(j, "nemoSource")),
                            NEMO_SOURCES[c.nemo_source]);
        assert_string_equal(json_string_value(json_object_get(j, "taskStatus")),
                            TASK_STATUSES[c.task_status]);
        assert_true(json_integer_value(json_object_get(j, "durationMs")) ==
                    c.duration_ms);
        assert_true(json_integer_value(json_object_get(j, "exitCode")) ==
                    c.exit_code);
        assert_int_equal(json_object_size(j), 8);
        json_decref(j);
#endif
        for (int mode = 0; mode < 2; mode++) {
            nattel_problems p;
            nattel_problems_init(&p);
            nattel_event *back = NULL;
            nattel_code rc = nattel_event_from_json(
                &nattel_cli_command_type, json, strlen(json), (nattel_mode)mode,
                &back, &p);
            if (rc) {
                dump_problems(json, &p);
                fail_msg("%s does not read back", json);
            }
            char *again = write_event(back);
            if (strcmp(again, json))
                fail_msg("round trip changed\n  %s\n  %s", json, again);
            free(again);
            nattel_event_free(back);
            nattel_problems_free(&p);
        }
        free(json);
        nattel_event_free(ev);
    }
}

/* Issue 16 "Small": a NULL command is NATTEL_EINVAL, never a crash. */
static void test_cli_command_event_null(void **state)
{
    (void)state;
    nattel_error err;
    nattel_event *ev = NULL;
    assert_int_equal(nattel_cli_command_event(NULL, &ev, &err), NATTEL_EINVAL);
    assert_null(ev);
    assert_non_null(strstr(err.message, "NULL"));
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "run";
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    assert_int_equal(nattel_cli_command_event(&c, NULL, NULL), NATTEL_EINVAL);
}

/* The built-in type's encode plan writes what the general (escaping)
 * writer writes, for every enum value and with optional strings unset. */
static void test_planned_encode_equals_general(void **state)
{
    (void)state;
    const nattel__type_plan *p = nattel__type_plan_of(&nattel_cli_command_type);
    assert_non_null(p);
    assert_null(nattel__type_plan_of(NULL));
    for (size_t i = 0; i < nattel_cli_command_type.field_count; i++) {
        const char *w = nattel_cli_command_type.fields[i].wire_name;
        char want[64];
        snprintf(want, sizeof want, ",\"%s\":", w);
        assert_int_equal(p->keys[i].len, strlen(want));
        assert_memory_equal(p->keys[i].ptr, want, strlen(want));
        assert_int_equal(p->wlen[i], strlen(w));
    }
    for (unsigned s = 0; s < nattel_nemo_source_enum.count; s++)
        for (unsigned t = 0; t < nattel_task_status_enum.count; t++) {
            nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
            c.nemo_source = (nattel_nemo_source)s;
            c.task_status = (nattel_task_status)t;
            c.command = t & 1 ? "r\"un\n\xc3\xa9" : "run";
            c.error_class = t & 2 ? NULL : "ValueError";
            c.duration_ms = (int64_t)s * 1000 - 1;
            c.exit_code = INT64_MIN + t;
            nattel_event *ev = NULL;
            assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), 0);
            nattel_buf a = NATTEL_BUF_INIT, b = NATTEL_BUF_INIT;
            assert_int_equal(nattel_buf_append(&a, "x", 1), 0);
            assert_int_equal(nattel_buf_append(&b, "x", 1), 0);
            assert_int_equal(nattel_event_write_json(ev, &a, NULL), 0);
            assert_int_equal(nattel__event_write_json_general(ev, &b, NULL), 0);
            assert_int_equal(a.len, b.len);
            assert_string_equal(a.data, b.data);
            nattel_buf_free(&a);
            nattel_buf_free(&b);
            nattel_event_free(ev);
        }
}

/* The planned writer's short-string and small-integer moves, and its
 * room reserved member by member: byte for byte the general writer's for
 * every string length 0..40 with each kind of byte that needs care at
 * every position, integers around the small-number cases, and a string
 * long enough to grow the buffer in the middle of an event. Invalid
 * UTF-8 leaves the buffer as it was and is refused by both. */
static void test_planned_encode_lengths(void **state)
{
    (void)state;
    static const char bad[] = {'"', '\\', '\n', '\x01', '\x7f', '\xc3'};
    char s[4096];
    size_t written = 0, refused = 0;
    for (size_t n = 0; n <= 40; n++)
        for (size_t at = 0; at <= n; at++)
            for (size_t b = 0; b < sizeof bad; b++) {
                memset(s, 'a', n);
                s[n] = '\0';
                if (at < n)
                    s[at] = bad[b]; /* \xc3 alone: invalid UTF-8 */
                nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
                c.command = s;
                c.subcommand = n > 20 ? s + n / 2 : NULL;
                c.duration_ms = (int64_t)n * 3 + (int64_t)at; /* >= -1 */
                c.exit_code = (int64_t)(n * 5 % 111) - 1;
                c.python_version = "3.12.1";
                c.task_status = NATTEL_TASK_STATUS_FAILURE;
                nattel_event *ev = NULL;
                if (nattel_cli_command_event(&c, &ev, NULL)) {
                    refused++; /* invalid UTF-8 refused on the way in */
                    continue;
                }
                written++;
                nattel_buf a = NATTEL_BUF_INIT, g = NATTEL_BUF_INIT;
                assert_int_equal(nattel_buf_append(&a, "x", 1), 0);
                assert_int_equal(nattel_buf_append(&g, "x", 1), 0);
                nattel_code ra = nattel_event_write_json(ev, &a, NULL);
                nattel_code rg = nattel__event_write_json_general(ev, &g, NULL);
                assert_int_equal(ra, rg);
                assert_int_equal(a.len, g.len);
                assert_string_equal(a.data, g.data);
                nattel_buf_free(&a);
                nattel_buf_free(&g);
                nattel_event_free(ev);
            }
    /* Only a lone \xc3 is refused: everything else was written. */
    assert_true(written > 0);
    assert_int_equal(refused, 40 * 41 / 2);
    /* A long string: the room is reserved again in the middle. */
    memset(s, 'b', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    s[100] = '"';
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = s;
    c.subcommand = "list";
    c.python_version = "3.12.1";
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    nattel_event *ev = NULL;
    assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), 0);
    nattel_buf a = NATTEL_BUF_INIT, g = NATTEL_BUF_INIT;
    assert_int_equal(nattel_event_write_json(ev, &a, NULL), 0);
    assert_int_equal(nattel__event_write_json_general(ev, &g, NULL), 0);
    assert_int_equal(a.len, g.len);
    assert_string_equal(a.data, g.data);
    nattel_buf_free(&a);
    nattel_buf_free(&g);
    nattel_event_free(ev);
}

/* nattel_event_from_json_into: the same event as the one-shot call on the
 * fast path and on the reporting path (escapes), reset on error. */
static void test_from_json_into(void **state)
{
    (void)state;
    static const char *docs[] = {
        "{\"nemoSource\":\"agent_toolkit\",\"command\":\"info\",\"subcommand\":"
        "\"list-components\",\"taskStatus\":\"failure\",\"durationMs\":87,"
        "\"exitCode\":1,\"errorClass\":\"ValueError\",\"pythonVersion\":"
        "\"3.12.1\"}",
        "{\"command\":\"r\\u0075n\",\"taskStatus\":\"success\",\"nemoSource\":"
        "\"auditor\",\"subcommand\":\"x\",\"durationMs\":1,\"exitCode\":0,"
        "\"errorClass\":\"undefined\",\"pythonVersion\":\"3\"}",
    };
    nattel_event *into = nattel_event_new(&nattel_cli_command_type);
    assert_non_null(into);
    for (int round = 0; round < 2; round++)
        for (size_t d = 0; d < sizeof docs / sizeof *docs; d++) {
            nattel_event *one = NULL;
            assert_int_equal(nattel_event_from_json(
                                 &nattel_cli_command_type, docs[d],
                                 strlen(docs[d]), NATTEL_MODE_WIRE, &one, NULL),
                             0);
            assert_int_equal(
                nattel_event_from_json_into(into, docs[d], strlen(docs[d]),
                                            NATTEL_MODE_WIRE, NULL),
                0);
            nattel_buf a = NATTEL_BUF_INIT, b = NATTEL_BUF_INIT;
            assert_int_equal(nattel_event_write_json(one, &a, NULL), 0);
            assert_int_equal(nattel_event_write_json(into, &b, NULL), 0);
            assert_string_equal(a.data, b.data);
            nattel_buf_free(&a);
            nattel_buf_free(&b);
            nattel_event_free(one);
        }
    nattel_problems ps;
    nattel_problems_init(&ps);
    const char *bad = "{\"command\":\"run\"}";
    assert_int_equal(nattel_event_from_json_into(into, bad, strlen(bad),
                                                 NATTEL_MODE_WIRE, &ps),
                     NATTEL_ESCHEMA);
    assert_true(ps.count > 0);
    nattel_problems_free(&ps);
    assert_null(nattel_event_get_string(into, "command")); /* reset */
    assert_string_equal(nattel_event_get_string(into, "subcommand"),
                        "undefined");
    assert_int_equal(
        nattel_event_from_json_into(NULL, bad, 1, NATTEL_MODE_WIRE, NULL),
        NATTEL_EINVAL);
    assert_int_equal(
        nattel_event_from_json_into(into, NULL, 1, NATTEL_MODE_WIRE, NULL),
        NATTEL_EINVAL);
    nattel_event_free(into);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enums_mirror_schema_1_5),
        cmocka_unit_test(test_enum_unknown_string_is_an_error),
        cmocka_unit_test(test_cli_command_field_table),
        cmocka_unit_test(test_new_event_has_defaults_and_unset_required),
        cmocka_unit_test(test_serializes_by_alias_with_sentinels),
        cmocka_unit_test(test_nemo_source_overridable),
        cmocka_unit_test(test_failure_with_error_class),
        cmocka_unit_test(test_interrupted),
        cmocka_unit_test(test_duration_minus_two_refused),
        cmocka_unit_test(test_cli_command_missing_required),
        cmocka_unit_test(test_setters_check_name_and_kind),
        cmocka_unit_test(test_writer_refuses_invalid_utf8),
        cmocka_unit_test(test_writer_escapes),
        cmocka_unit_test(test_runtime_type_checks),
        cmocka_unit_test(test_from_json_wire_valid),
        cmocka_unit_test(test_from_json_integer_rule),
        cmocka_unit_test(test_from_json_wire_refusals),
        cmocka_unit_test(test_from_json_model_mode),
        cmocka_unit_test(test_from_json_reports_every_problem),
        cmocka_unit_test(test_from_json_limits),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_cli_command_event_null),
        cmocka_unit_test(test_planned_encode_equals_general),
        cmocka_unit_test(test_planned_encode_lengths),
        cmocka_unit_test(test_from_json_into),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
