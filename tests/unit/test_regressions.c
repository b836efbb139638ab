/* Regression tests: one per defect found by review or fuzzing, each with
 * the input that showed it. (The reader's bare literals and deep nesting
 * are in test_json.c; DO_NOT_TRACK's exact values in test_config.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/nattel.h>
#include <nattel/telemetry.h>

#include "nattel_consent.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A valid envelope with `session` and `sent` as written (JSON text). */
static char *envelope(const char *session, const char *sent, const char *ts)
{
    static const char fmt[] =
        "{\"browserType\":\"undefined\",\"clientId\":\"184482118588404\","
        "\"clientType\":\"Native\",\"clientVariant\":\"Release\",\"clientVer\":"
        "\"1.0\",\"cpuArchitecture\":\"x86_64\",\"deviceGdprBehOptIn\":\"None\","
        "\"deviceGdprFuncOptIn\":\"None\",\"deviceGdprTechOptIn\":\"None\","
        "\"deviceId\":\"undefined\",\"deviceMake\":\"undefined\",\"deviceModel\":"
        "\"undefined\",\"deviceOS\":\"undefined\",\"deviceOSVersion\":"
        "\"undefined\",\"deviceType\":\"undefined\",\"eventProtocol\":\"1.6\","
        "\"eventSchemaVer\":\"1.5\",\"eventSysVer\":\"nat-telemetry/1.0\","
        "\"externalUserId\":\"undefined\",\"gdprBehOptIn\":\"None\","
        "\"gdprFuncOptIn\":\"None\",\"gdprTechOptIn\":\"None\",\"idpId\":"
        "\"undefined\",\"integrationId\":\"undefined\",\"productName\":"
        "\"undefined\",\"productVersion\":\"undefined\",\"sentTs\":\"%s\","
        "\"sessionId\":\"%s\",\"userId\":\"undefined\",\"events\":[{\"ts\":\"%s\","
        "\"parameters\":{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
        "\"subcommand\":\"undefined\",\"taskStatus\":\"success\",\"durationMs\":"
        "5,\"exitCode\":0,\"errorClass\":\"undefined\",\"pythonVersion\":"
        "\"undefined\"},\"name\":\"nat_cli_command\"}]}";
    size_t n = sizeof fmt + strlen(session) + strlen(sent) + strlen(ts);
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, fmt, sent, session, ts);
    return s;
}

/* Review: "\u0000" in sessionId passed validation, then the canonical
 * output and the store cut the id short. Now it is refused by path. */
static void test_nul_in_envelope_string_refused(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    char *json = envelope("\\u0000abc", "2026-11-25T10:00:00.000Z",
                          "2026-11-25T10:00:00.000Z");
    nattel_problems p;
    nattel_problems_init(&p);
    nattel_envelope *env = NULL;
    assert_int_equal(nattel_envelope_from_json(reg, json, strlen(json),
                                               NATTEL_MODE_WIRE, &env, &p),
                     NATTEL_ESCHEMA);
    assert_null(env);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.items[0].path, "sessionId");
    nattel_problems_free(&p);
    free(json);
    nattel_registry_free(reg);
}

/* Review: the timestamp pattern applies to the decoded string, so an
 * escaped (but valid) sentTs and ts are accepted and re-encoded plainly. */
static void test_escaped_timestamps_accepted(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    char *json = envelope("abc", "2026\\u002d11-25T10:00:00.000Z",
                          "2026-11-25T10:00:00.000\\u005a");
    nattel_envelope *env = NULL;
    assert_int_equal(nattel_envelope_from_json(reg, json, strlen(json),
                                               NATTEL_MODE_WIRE, &env, NULL),
                     NATTEL_OK);
    assert_string_equal(nattel_envelope_sent_ts(env), "2026-11-25T10:00:00.000Z");
    assert_int_equal(nattel_envelope_count(env), 1);
    assert_string_equal(nattel_envelope_event_ts(env, 0), "2026-11-25T10:00:00.000Z");
    nattel_envelope_free(env);
    free(json);
    nattel_registry_free(reg);
}

/* Review: floor division of INT64_MIN milliseconds overflowed (UBSan). */
static void test_format_ts_extremes(void **state)
{
    (void)state;
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(INT64_MIN, ts);
    assert_int_equal(strlen(ts), NATTEL_TS_LEN);
    nattel_format_ts(INT64_MAX, ts);
    assert_int_equal(strlen(ts), NATTEL_TS_LEN);
    nattel_format_ts(-1, ts); /* one millisecond before the epoch */
    assert_string_equal(ts, "1969-12-31T23:59:59.999Z");
    nattel_format_ts(1764064800123, ts);
    assert_string_equal(ts, "2025-11-25T10:00:00.123Z");
}

/* Review: a schema file whose second event is broken left the first one
 * registered. A failed load now leaves the registry as it was. */
static void test_failed_schema_load_is_all_or_nothing(void **state)
{
    (void)state;
    static const char schema[] =
        "{\"schemaMeta\":{\"schemaVersion\":\"2.0\"},\"definitions\":{\"events\":{"
        "\"good_event\":{\"type\":\"object\",\"additionalProperties\":false,"
        "\"properties\":{\"a\":{\"type\":\"string\"}},\"required\":[\"a\"]},"
        "\"bad_event\":{\"type\":\"object\",\"additionalProperties\":false,"
        "\"properties\":{\"b\":{\"type\":\"string\",\"pattern\":\"x\"}}}}}}";
    nattel_registry *reg = nattel_registry_new();
    size_t before = nattel_registry_count(reg);
    nattel_error err;
    assert_int_equal(nattel_registry_load_schema(reg, schema, sizeof schema - 1,
                                                 "two.json", &err),
                     NATTEL_ESCHEMA);
    assert_non_null(strstr(err.message, "pattern"));
    assert_int_equal(nattel_registry_count(reg), before);
    assert_null(nattel_registry_find(reg, "good_event", 10));
    nattel_registry_free(reg);
}

/* Review: every basic string of a consent file reserved the rest of the
 * file, so 21,000 empty strings took 700 MB. Now a hostile file reads as
 * "never asked" within a fixed budget, quickly. */
static void test_hostile_consent_file_is_cheap(void **state)
{
    (void)state;
    size_t cap = NATTEL__CONSENT_MAX_BYTES;
    char *text = malloc(cap + 1);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "[telemetry]\nconsent = \"enabled\"\n"
                                           "prompt_version = \"1.0\"\nx = [");
    while (n + 5 < cap) {
        memcpy(text + n, "\"\",", 3);
        n += 3;
    }
    text[n++] = ']';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nattel_consent_file f;
    memset(&f, 0, sizeof f);
    nattel__consent_parse(text, n, &f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Under the size cap, a list of empty strings is still valid TOML. */
    assert_int_equal(f.state, NATTEL_CONSENT_ENABLED);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 1.0); /* was 0.9 s at 64 KiB; generous bound for sanitizers */
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_in_envelope_string_refused),
        cmocka_unit_test(test_escaped_timestamps_accepted),
        cmocka_unit_test(test_format_ts_extremes),
        cmocka_unit_test(test_failed_schema_load_is_all_or_nothing),
        cmocka_unit_test(test_hostile_consent_file_is_cheap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
