/* Configuration: every DESIGN.md section 4 variable, read from an envp so
 * no test touches the process environment; session ids; sink selection;
 * the errorClass rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <nattel/telemetry.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void load(nattel_config *cfg, char **envp)
{
    nattel_error err;
    assert_int_equal(
        nattel_config_from_env(cfg, nattel_envp_lookup, envp, &err), NATTEL_OK);
}

static void test_defaults(void **state)
{
    (void)state;
    char *env[] = {"HOME=/home/u", NULL};
    nattel_config cfg;
    load(&cfg, env);
    assert_int_equal(cfg.env_enabled, -1);
    assert_null(cfg.env_enabled_raw);
    assert_int_equal(cfg.do_not_track, 0);
    assert_string_equal(cfg.endpoint, NATTEL_DEFAULT_ENDPOINT);
    assert_int_equal(cfg.dry_run, 0);
    assert_string_equal(cfg.session_prefix, "");
    assert_string_equal(cfg.consent_file, "/home/u/.config/nat/telemetry.toml");
    assert_string_equal(cfg.state_dir, "/home/u/.local/state/nattel");
    assert_int_equal(cfg.debug, 0);
    assert_int_equal(cfg.log_fd, 2);
    assert_int_equal(cfg.prompt, NATTEL_PROMPT_IF_TERMINAL);
    assert_non_null(cfg.now_ms);
    assert_true(nattel_config_now_ms(&cfg) > 1600000000000LL);
    nattel_config_clear(&cfg);
    nattel_config_clear(&cfg); /* idempotent */
}

static void test_enabled_values(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int want;
    } cases[] = {{"1", 1},   {"true", 1}, {"TRUE", 1}, {" yes\t", 1},
                 {"Yes", 1}, {"0", 0},    {"", 0},     {"no", 0},
                 {"2", 0},   {"y", 0},    {"on", 0},   {"truex", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char var[64];
        snprintf(var, sizeof var, "NAT_TELEMETRY_ENABLED=%s", cases[i].value);
        char *env[] = {"HOME=/h", var, NULL};
        nattel_config cfg;
        load(&cfg, env);
        if (cfg.env_enabled != cases[i].want)
            fail_msg("NAT_TELEMETRY_ENABLED='%s': %d, want %d", cases[i].value,
                     cfg.env_enabled, cases[i].want);
        assert_string_equal(cfg.env_enabled_raw, cases[i].value);
        nattel_config_clear(&cfg);
    }
}

static void test_do_not_track(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int want;
    } cases[] = {{"1", 1},     {"true", 1}, {"yes", 1}, {"no", 1},
                 {"2", 1},     {"", 0},     {"0", 0},   {"false", 0},
                 {"FALSE", 1}, {" 0 ", 1},  {"  ", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char var[64];
        snprintf(var, sizeof var, "DO_NOT_TRACK=%s", cases[i].value);
        char *env[] = {"HOME=/h", var, NULL};
        nattel_config cfg;
        load(&cfg, env);
        if (cfg.do_not_track != cases[i].want)
            fail_msg("DO_NOT_TRACK='%s': %d, want %d", cases[i].value,
                     cfg.do_not_track, cases[i].want);
        nattel_config_clear(&cfg);
    }
}

static void test_overrides(void **state)
{
    (void)state;
    char *env[] = {"HOME=/h",
                   "NAT_TELEMETRY_ENDPOINT=",
                   "NAT_TELEMETRY_DRY_RUN= True ",
                   "NAT_SESSION_PREFIX=ci-",
                   "NAT_TELEMETRY_CONSENT_FILE=/etc/c.toml",
                   "NATTEL_STATE_DIR=/var/s",
                   "XDG_STATE_HOME=/x",
                   "NATTEL_DEBUG=1",
                   NULL};
    nattel_config cfg;
    load(&cfg, env);
    assert_string_equal(cfg.endpoint, ""); /* set-but-empty is kept */
    assert_int_equal(cfg.dry_run, 1);
    assert_string_equal(cfg.session_prefix, "ci-");
    assert_string_equal(cfg.consent_file, "/etc/c.toml");
    assert_string_equal(cfg.state_dir, "/var/s");
    assert_int_equal(cfg.debug, 1);
    nattel_config_clear(&cfg);
}

static void test_path_fallbacks(void **state)
{
    (void)state;
    char *xdg[] = {"HOME=/h", "XDG_STATE_HOME=/xs",
                   "NAT_TELEMETRY_CONSENT_FILE=", "NATTEL_STATE_DIR=", NULL};
    nattel_config cfg;
    load(&cfg, xdg);
    assert_string_equal(cfg.state_dir, "/xs/nattel");
    assert_string_equal(cfg.consent_file, "/h/.config/nat/telemetry.toml");
    nattel_config_clear(&cfg);

    char *relative[] = {"HOME=/h", "XDG_STATE_HOME=rel", NULL};
    load(&cfg, relative);
    assert_string_equal(cfg.state_dir, "/h/.local/state/nattel");
    nattel_config_clear(&cfg);
}

static void test_truthy(void **state)
{
    (void)state;
    assert_true(nattel_truthy("1"));
    assert_true(nattel_truthy(" YES "));
    assert_false(nattel_truthy(NULL));
    assert_false(nattel_truthy(""));
    assert_false(nattel_truthy("1 1"));
}

static nattel_code fixed_random(void *ctx, void *buf, size_t n,
                                nattel_error *err)
{
    (void)err;
    memset(buf, *(int *)ctx, n);
    return NATTEL_OK;
}

static void test_session_id(void **state)
{
    (void)state;
    char *env[] = {"HOME=/h", "NAT_SESSION_PREFIX=dev-", NULL};
    nattel_config cfg;
    load(&cfg, env);
    char *a = NULL, *b = NULL;
    nattel_error err;
    assert_int_equal(nattel_session_id_new(&cfg, &a, &err), NATTEL_OK);
    assert_int_equal(nattel_session_id_new(&cfg, &b, &err), NATTEL_OK);
    assert_int_equal(strlen(a), 4 + NATTEL_SESSION_HEX_LEN);
    assert_memory_equal(a, "dev-", 4);
    assert_int_equal(strspn(a + 4, "0123456789abcdef"), NATTEL_SESSION_HEX_LEN);
    assert_string_not_equal(a, b); /* 128 random bits */
    free(a);
    free(b);

    int byte = 0xab;
    cfg.random_bytes = fixed_random;
    cfg.random_ctx = &byte;
    assert_int_equal(nattel_session_id_new(&cfg, &a, &err), NATTEL_OK);
    assert_string_equal(a, "dev-abababababababababababababababab");
    free(a);
    nattel_config_clear(&cfg);
}

static void test_sink(void **state)
{
    (void)state;
    static const struct {
        const char *endpoint;
        int dry_run;
        nattel_code rc;
        nattel_sink_kind kind;
    } cases[] = {
        {NATTEL_DEFAULT_ENDPOINT, 0, NATTEL_OK, NATTEL_SINK_HTTP},
        {"http://127.0.0.1:9/v1.1/events/json", 0, NATTEL_OK, NATTEL_SINK_HTTP},
        {"HTTPS://x", 0, NATTEL_OK, NATTEL_SINK_HTTP},
        {"stdout", 0, NATTEL_OK, NATTEL_SINK_STDOUT},
        {"", 0, NATTEL_OK, NATTEL_SINK_NONE},
        {"stdout", 1, NATTEL_OK, NATTEL_SINK_STDOUT},
        {NATTEL_DEFAULT_ENDPOINT, 1, NATTEL_OK, NATTEL_SINK_DRY_RUN},
        {"ftp://x", 0, NATTEL_EINVAL, NATTEL_SINK_NONE},
        {"STDOUT", 0, NATTEL_EINVAL, NATTEL_SINK_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        nattel_config cfg = {0};
        cfg.endpoint = (char *)cases[i].endpoint;
        cfg.dry_run = cases[i].dry_run;
        nattel_sink_kind kind = NATTEL_SINK_NONE;
        nattel_error err;
        assert_int_equal(nattel_config_sink(&cfg, &kind, &err), cases[i].rc);
        if (!cases[i].rc)
            assert_int_equal(kind, cases[i].kind);
    }
}

static void test_error_class(void **state)
{
    (void)state;
    const char *good[] = {"ValueError", "_x", "json.JSONDecodeError", "a1.b_2",
                          "x."};
    const char *bad[] = {
        "",        "1Error", ".x",  "No such file", "/etc/passwd",
        "Err:msg", "Ünï",    "a-b", "a\nb"};
    nattel_error err;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_int_equal(nattel_error_class_check(good[i], &err), NATTEL_OK);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(nattel_error_class_check(bad[i], &err), NATTEL_EINVAL);
        assert_null(strstr(err.message, "passwd")); /* value not echoed */
    }
    char longest[130];
    memset(longest, 'E', 128);
    longest[128] = '\0';
    assert_int_equal(nattel_error_class_check(longest, &err), NATTEL_OK);
    longest[128] = 'E';
    longest[129] = '\0';
    assert_int_equal(nattel_error_class_check(longest, &err), NATTEL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_enabled_values),
        cmocka_unit_test(test_do_not_track),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_path_fallbacks),
        cmocka_unit_test(test_truthy),
        cmocka_unit_test(test_session_id),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_error_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
