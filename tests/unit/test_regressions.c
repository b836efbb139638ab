/* Regression tests: one per defect found by review or fuzzing, each with
 * the input that showed it. (The reader's bare literals and deep nesting
 * are in test_json.c; DO_NOT_TRACK's exact values in test_config.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/nattel.h>
#include <nattel/client.h>

#include "consent/nattel_consent.h"
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
        "\"1.0\",\"cpuArchitecture\":\"x86_64\",\"deviceGdprBehOptIn\":"
        "\"None\","
        "\"deviceGdprFuncOptIn\":\"None\",\"deviceGdprTechOptIn\":\"None\","
        "\"deviceId\":\"undefined\",\"deviceMake\":\"undefined\","
        "\"deviceModel\":"
        "\"undefined\",\"deviceOS\":\"undefined\",\"deviceOSVersion\":"
        "\"undefined\",\"deviceType\":\"undefined\",\"eventProtocol\":\"1.6\","
        "\"eventSchemaVer\":\"1.5\",\"eventSysVer\":\"nat-telemetry/1.0\","
        "\"externalUserId\":\"undefined\",\"gdprBehOptIn\":\"None\","
        "\"gdprFuncOptIn\":\"None\",\"gdprTechOptIn\":\"None\",\"idpId\":"
        "\"undefined\",\"integrationId\":\"undefined\",\"productName\":"
        "\"undefined\",\"productVersion\":\"undefined\",\"sentTs\":\"%s\","
        "\"sessionId\":\"%s\",\"userId\":\"undefined\",\"events\":[{\"ts\":\"%"
        "s\","
        "\"parameters\":{\"nemoSource\":\"agent_toolkit\",\"command\":\"run\","
        "\"subcommand\":\"undefined\",\"taskStatus\":\"success\","
        "\"durationMs\":"
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
    assert_string_equal(nattel_envelope_sent_ts(env),
                        "2026-11-25T10:00:00.000Z");
    assert_int_equal(nattel_envelope_count(env), 1);
    assert_string_equal(nattel_envelope_event_ts(env, 0),
                        "2026-11-25T10:00:00.000Z");
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
        "{\"schemaMeta\":{\"schemaVersion\":\"2.0\"},\"definitions\":{"
        "\"events\":{"
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
 * file, so 21,000 empty strings took 700 MB. Now a hostile file at the
 * size cap (1 MiB) is read whole, quickly, in bounded memory. */
static void test_hostile_consent_file_is_cheap(void **state)
{
    (void)state;
    size_t cap = NATTEL__CONSENT_MAX_BYTES;
    char *text = malloc(cap + 1);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap,
                                "[telemetry]\nconsent = \"enabled\"\n"
                                "prompt_version = \"1.0\"\nx = [");
    while (n + 5 < cap) {
        memcpy(text + n, "\"\",", 3);
        n += 3;
    }
    text[n++] = ']';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nattel_consent_file f = NATTEL_CONSENT_FILE_INIT;
    memset(&f, 0, sizeof f);
    nattel__consent_parse(text, n, &f);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Under the size cap, a list of empty strings is still valid TOML. */
    assert_int_equal(f.state, NATTEL_CONSENT_ENABLED);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs <
                1.0); /* was 0.9 s at 64 KiB; generous bound for sanitizers */
    free(text);
}

/* Issue 8: upstream's handler sends every queued event in one envelope
 * (60, 120, ...). The reader took at most 50 and the events were lost;
 * now it takes any number, and only the sender keeps the cap of 50. */
static char *envelope_of(size_t n)
{
    char *one =
        envelope("abc", "2026-11-25T10:00:00.000Z", "2026-11-25T10:00:00.000Z");
    const char *open = strstr(one, "\"events\":[") + strlen("\"events\":[");
    size_t head = (size_t)(open - one), item = strlen(open) - 2; /* "]}" */
    char *doc = malloc(head + n * (item + 1) + 3);
    assert_non_null(doc);
    memcpy(doc, one, head);
    size_t o = head;
    for (size_t i = 0; i < n; i++) {
        if (i)
            doc[o++] = ',';
        memcpy(doc + o, open, item);
        o += item;
    }
    memcpy(doc + o, "]}", 3);
    free(one);
    return doc;
}

static void test_reader_takes_any_number_of_events(void **state)
{
    (void)state;
    nattel_registry *reg = nattel_registry_new();
    static const size_t counts[] = {50, 51, 60, 120, 1000};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        for (int mode = 0; mode < 2; mode++) {
            char *json = envelope_of(counts[k]);
            nattel_problems p;
            nattel_problems_init(&p);
            nattel_envelope *env = NULL;
            nattel_code rc = nattel_envelope_from_json(
                reg, json, strlen(json), (nattel_mode)mode, &env, &p);
            if (rc)
                fail_msg("%zu events: %s: %s", counts[k],
                         p.count ? p.items[0].path : "",
                         p.count ? p.items[0].message : nattel_code_name(rc));
            assert_int_equal(nattel_envelope_count(env), counts[k]);
            assert_string_equal(
                nattel_event_get_string(
                    nattel_envelope_event(env, counts[k] - 1), "command"),
                "run");
            /* and it writes back whole */
            nattel_buf out = NATTEL_BUF_INIT;
            assert_int_equal(nattel_envelope_write_json(env, -1, &out, NULL),
                             NATTEL_OK);
            assert_string_equal(out.data, json);
            nattel_buf_free(&out);
            nattel_envelope_free(env);
            nattel_problems_free(&p);
            free(json);
        }
    }
    nattel_registry_free(reg);

    /* The sender's batch stays at most 50. */
    nattel_envelope *env = nattel_envelope_new("1.0", "s");
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = "run";
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    for (int i = 0; i <= NATTEL_ENVELOPE_MAX_EVENTS; i++) {
        nattel_event *ev = NULL;
        assert_int_equal(nattel_cli_command_event(&c, &ev, NULL), NATTEL_OK);
        nattel_error err;
        nattel_code rc = nattel_envelope_add(env, ev, 1764064800000 + i, &err);
        if (i < NATTEL_ENVELOPE_MAX_EVENTS) {
            assert_int_equal(rc, NATTEL_OK);
        } else {
            assert_int_equal(rc, NATTEL_ELIMIT);
            nattel_event_free(ev);
        }
    }
    assert_int_equal(nattel_envelope_count(env), NATTEL_ENVELOPE_MAX_EVENTS);
    nattel_envelope_free(env);
}

/* Issue 8: an integer outside int64 is out of range, in both modes; it is
 * an integer, so never "expected an integer". */
static void test_out_of_range_integer_named(void **state)
{
    (void)state;
    static const char *const values[] = {"9223372036854775808",
                                         "-9223372036854775809", "1e19",
                                         "-1e19", "1.5e300"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        for (int mode = 0; mode < 2; mode++) {
            char json[256];
            snprintf(json, sizeof json,
                     "{\"command\":\"run\",\"taskStatus\":\"success\","
                     "\"pythonVersion\":\"3\",\"exitCode\":%s,\"nemoSource\":"
                     "\"agent_toolkit\",\"subcommand\":\"u\",\"durationMs\":1,"
                     "\"errorClass\":\"u\"}",
                     values[i]);
            nattel_problems p;
            nattel_problems_init(&p);
            assert_int_equal(nattel_event_from_json(
                                 &nattel_cli_command_type, json, strlen(json),
                                 (nattel_mode)mode, NULL, &p),
                             NATTEL_ESCHEMA);
            assert_int_equal(p.count, 1);
            assert_string_equal(p.items[0].path, "exitCode");
            if (!strstr(p.items[0].message, "out of range") ||
                strstr(p.items[0].message, "an integer"))
                fail_msg("exitCode %s: %s", values[i], p.items[0].message);
            nattel_problems_free(&p);
        }
    }
}

/* Issue 8: jsmn stops at a NUL byte as if the input ended, and refuses a
 * bad escape at the string's first byte; the message now says where the
 * byte is and what it is. */
static void test_string_defects_named(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        size_t len;
        const char *want;
    } cases[] = {
        {"{\"command\":\"a\0b\"}", 18,
         "at byte 13: raw U+0000 inside a string"},
        {"[\"\",\"\0\"]", 8, "at byte 5: raw U+0000 inside a string"},
        {"{\"a\":1\0}", 8, "at byte 6: unexpected byte 0x00"},
        {"{\"command\":\"a\\qb\"}", 18, "at byte 13: invalid escape '\\q'"},
        {"[\"ab\\u12\"]", 10, "at byte 4: invalid escape '\\u12'"},
        {"[\"\\", 3, "at byte 2: unfinished escape"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nattel_problems p;
        nattel_problems_init(&p);
        assert_int_equal(nattel_event_from_json(&nattel_cli_command_type,
                                                cases[i].json, cases[i].len,
                                                NATTEL_MODE_WIRE, NULL, &p),
                         NATTEL_EPARSE);
        assert_int_equal(p.count, 1);
        if (!strstr(p.items[0].message, cases[i].want))
            fail_msg("case %zu: want '%s', got '%s'", i, cases[i].want,
                     p.items[0].message);
        nattel_problems_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nul_in_envelope_string_refused),
        cmocka_unit_test(test_escaped_timestamps_accepted),
        cmocka_unit_test(test_format_ts_extremes),
        cmocka_unit_test(test_failed_schema_load_is_all_or_nothing),
        cmocka_unit_test(test_hostile_consent_file_is_cheap),
        cmocka_unit_test(test_reader_takes_any_number_of_events),
        cmocka_unit_test(test_out_of_range_integer_named),
        cmocka_unit_test(test_string_defects_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
