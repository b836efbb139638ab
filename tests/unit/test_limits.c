/* The limits of src/nattel_limits.h hold where input enters: a schema or
 * a registered type with too many fields is refused, naming the event and
 * the count, and one at the limit still loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/nattel.h>

#include "nattel_limits.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A schema of one event `name` with `fields` string properties. */
static char *schema_with_fields(const char *name, size_t fields)
{
    nattel_buf b = NATTEL_BUF_INIT;
    char part[256];
    snprintf(part, sizeof part,
             "{\"schemaMeta\":{\"schemaVersion\":\"1\"},\"definitions\":{"
             "\"events\":{\"%s\":{\"type\":\"object\","
             "\"additionalProperties\":false,\"properties\":{",
             name);
    assert_int_equal(nattel_buf_append(&b, part, strlen(part)), NATTEL_OK);
    for (size_t i = 0; i < fields; i++) {
        snprintf(part, sizeof part, "%s\"f%zu\":{\"type\":\"string\"}",
                 i ? "," : "", i);
        assert_int_equal(nattel_buf_append(&b, part, strlen(part)), NATTEL_OK);
    }
    assert_int_equal(nattel_buf_append(&b, "}}}}}", 6), NATTEL_OK);
    return b.data;
}

static void test_schema_over_max_fields_is_refused(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    size_t before = nattel_registry_count(reg);
    char *json = schema_with_fields("wide_event", NATTEL__MAX_FIELDS + 1);
    nattel_error err;
    nattel_code rc =
        nattel_registry_load_schema(reg, json, strlen(json), "wide.json", &err);
    assert_int_equal(rc, NATTEL_ELIMIT);
    assert_int_equal(rc, err.code);
    char want[200];
    snprintf(want, sizeof want,
             "wide.json: definitions.events.wide_event: event 'wide_event' "
             "has %d fields; at most %d are supported",
             NATTEL__MAX_FIELDS + 1, NATTEL__MAX_FIELDS);
    assert_string_equal(err.message, want);
    assert_int_equal(nattel_registry_count(reg), before);
    assert_null(nattel_registry_find(reg, "wide_event", 10));
    free(json);
    nattel_registry_free(reg);
}

static void test_schema_at_max_fields_loads(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    char *json = schema_with_fields("full_event", NATTEL__MAX_FIELDS);
    nattel_error err;
    nattel_code rc =
        nattel_registry_load_schema(reg, json, strlen(json), "full.json", &err);
    if (rc)
        print_error("%s\n", err.message);
    assert_int_equal(rc, NATTEL_OK);
    const nattel_event_type *t = nattel_registry_find(reg, "full_event", 10);
    assert_non_null(t);
    assert_int_equal(t->field_count, NATTEL__MAX_FIELDS);
    free(json);
    nattel_registry_free(reg);
}

/* A type built in C goes through the same check when registered. */
static void test_registered_type_over_max_fields_is_refused(void **state)
{
    (void)state;
    size_t n = NATTEL__MAX_FIELDS + 1;
    nattel_field *fields = calloc(n, sizeof *fields);
    char(*names)[16] = calloc(n, sizeof *names);
    assert_non_null(fields);
    assert_non_null(names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "f%zu", i);
        fields[i].wire_name = names[i];
        fields[i].kind = NATTEL_KIND_STRING;
    }
    nattel_event_type type = {0};
    type.name = "wide_c_event";
    type.schema_version = "1";
    type.fields = fields;
    type.field_count = n;
    nattel_error err;
    nattel_code rc = nattel_event_type_check(&type, &err);
    assert_int_equal(rc, NATTEL_ELIMIT);
    assert_int_equal(rc, err.code);
    assert_non_null(strstr(err.message, "'wide_c_event' has 257 fields"));

    nattel_registry *reg = nattel_registry_new();
    assert_non_null(reg);
    rc = nattel_registry_add(reg, &type, &err);
    assert_int_equal(rc, NATTEL_ELIMIT);
    assert_int_equal(rc, err.code);
    nattel_registry_free(reg);

    type.field_count = NATTEL__MAX_FIELDS;
    assert_int_equal(nattel_event_type_check(&type, &err), NATTEL_OK);
    free(names);
    free(fields);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_over_max_fields_is_refused),
        cmocka_unit_test(test_schema_at_max_fields_loads),
        cmocka_unit_test(test_registered_type_over_max_fields_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
