/* The error convention: a failing call returns the code its nattel_error
 * holds, and a message that wraps another keeps it readable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/nattel.h>

#include "model/nattel_error.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

/* Loading a schema whose event is already registered once produced a
 * message formatted into itself (overlapping vsnprintf): garbled text. */
static void test_duplicate_event_message_is_whole(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel_buf schema = NATTEL_BUF_INIT;
    nattel_error err;
    assert_int_equal(nattel_registry_export_schema(reg, NULL, &schema, &err),
                     NATTEL_OK);
    nattel_code rc = nattel_registry_load_schema(reg, schema.data, schema.len,
                                                 "dup.json", &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);
    assert_string_equal(err.message,
                        "dup.json: definitions.events.nat_cli_command: event "
                        "type 'nat_cli_command' is already registered");
    nattel_buf_free(&schema);
    nattel_registry_free(reg);
}

static void test_schema_syntax_error_is_prefixed_once(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    nattel_error err;
    nattel_code rc =
        nattel_registry_load_schema(reg, "{\"a\":", 5, "bad.json", &err);
    assert_int_equal(rc, NATTEL_EPARSE);
    assert_int_equal(rc, err.code);
    assert_memory_equal(err.message, "bad.json: ", 10);
    assert_null(strstr(err.message + 10, "bad.json"));
    nattel_registry_free(reg);
}

static void test_prefix_keeps_code_and_cuts_safely(void **state)
{
    (void)state;
    nattel_error err;
    natx_fail(&err, NATTEL_ELIMIT, "inner %d", 7);
    assert_int_equal(nattel__prefix(&err, "outer %s", "x"), NATTEL_ELIMIT);
    assert_int_equal(err.code, NATTEL_ELIMIT);
    assert_string_equal(err.message, "outer x: inner 7");

    char big[NATTEL_ERROR_MAX * 2];
    memset(big, 'p', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nattel__prefix(&err, "%s", big);
    assert_int_equal(strlen(err.message), NATTEL_ERROR_MAX - 1);
    assert_int_equal(nattel__prefix(NULL, "x"), NATTEL_OK);
}

/* A sample of failing public calls: each returns exactly the code it
 * puts in the error. */
static void test_rc_equals_error_code(void **state)
{
    (void)state;
    nattel_error err;
    nattel_code rc;
    nattel_event *ev = nattel_event_new(&nattel_cli_command_type);
    assert_non_null(ev);

    memset(&err, 0, sizeof err);
    rc = nattel_event_set_int(ev, "durationMs", -2, &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);

    memset(&err, 0, sizeof err);
    rc = nattel_event_set_string(ev, "no_such_field", "x", &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);

    memset(&err, 0, sizeof err);
    rc = nattel_event_set_enum(ev, "taskStatus", "maybe", &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);

    memset(&err, 0, sizeof err);
    rc = nattel_event_check(ev, &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);
    nattel_event_free(ev);

    nattel_task_status ts;
    memset(&err, 0, sizeof err);
    rc = nattel_task_status_parse("nope", &ts, &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);

    nattel_registry *reg = nattel_registry_new();
    memset(&err, 0, sizeof err);
    rc = nattel_registry_load_schema_file(reg, "/nonexistent/x.json", &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);
    memset(&err, 0, sizeof err);
    rc = nattel_registry_load_schema(reg, "[]", 2, "arr.json", &err);
    assert_int_not_equal(rc, NATTEL_OK);
    assert_int_equal(rc, err.code);
    nattel_registry_free(reg);
}

/* A status the host never set is refused, not sent as "undefined". */
static void test_unset_task_status_is_refused(void **state)
{
    (void)state;
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "run";
    nattel_event *ev = NULL;
    nattel_error err;
    nattel_code rc = nattel_cli_command_event(&c, &ev, &err);
    assert_int_equal(rc, NATTEL_EINVAL);
    assert_int_equal(rc, err.code);
    assert_null(ev);
    assert_non_null(strstr(err.message, "taskStatus"));

    c.task_status = NATTEL_TASK_STATUS_UNDEFINED; /* said on purpose: kept */
    assert_int_equal(nattel_cli_command_event(&c, &ev, &err), NATTEL_OK);
    assert_string_equal(nattel_event_get_string(ev, "taskStatus"), "undefined");
    nattel_event_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duplicate_event_message_is_whole),
        cmocka_unit_test(test_schema_syntax_error_is_prefixed_once),
        cmocka_unit_test(test_prefix_keeps_code_and_cuts_safely),
        cmocka_unit_test(test_rc_equals_error_code),
        cmocka_unit_test(test_unset_task_status_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
