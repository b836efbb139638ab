/* Configuration: every variable of docs/design.md (configuration), read into
 * the options from an envp so no test touches the process environment;
 * session ids; the sink rule; the errorClass rule; the hand-off of the
 * settings to a flusher's environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "config/nattel_options.h"

#include <nattel/client.h>
#include <nattel/options.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nattel_options *load(char **envp)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, envp, &err),
                     NATTEL_OK);
    return o;
}

static void test_defaults(void **state)
{
    (void)state;
    char *env[] = {"HOME=/home/u", NULL};
    nattel_options *opts = load(env);
    assert_int_equal(opts->env_enabled, -1);
    assert_null(opts->env_enabled_raw);
    assert_int_equal(opts->do_not_track, 0);
    assert_string_equal(opts->endpoint, NATTEL_DEFAULT_ENDPOINT);
    assert_int_equal(opts->dry_run, 0);
    assert_string_equal(opts->session_prefix, "");
    assert_string_equal(opts->consent_file,
                        "/home/u/.config/nat/telemetry.toml");
    assert_string_equal(opts->state_dir, "/home/u/.local/state/nattel");
    assert_int_equal(opts->debug, 0);
    assert_int_equal(opts->log_fd, 2);
    assert_int_equal(opts->prompt, NATTEL_PROMPT_IF_TERMINAL);
    assert_true(nattel_options_now_ms(opts) > 1600000000000LL);
    nattel_options_free(opts);
    nattel_options_free(NULL); /* accepted */
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
        nattel_options *opts = load(env);
        if (opts->env_enabled != cases[i].want)
            fail_msg("NAT_TELEMETRY_ENABLED='%s': %d, want %d", cases[i].value,
                     opts->env_enabled, cases[i].want);
        assert_string_equal(opts->env_enabled_raw, cases[i].value);
        nattel_options_free(opts);
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
        nattel_options *opts = load(env);
        if (opts->do_not_track != cases[i].want)
            fail_msg("DO_NOT_TRACK='%s': %d, want %d", cases[i].value,
                     opts->do_not_track, cases[i].want);
        nattel_options_free(opts);
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
    nattel_options *opts = load(env);
    assert_string_equal(opts->endpoint, ""); /* set-but-empty is kept */
    assert_int_equal(opts->dry_run, 1);
    assert_string_equal(opts->session_prefix, "ci-");
    assert_string_equal(opts->consent_file, "/etc/c.toml");
    assert_string_equal(opts->state_dir, "/var/s");
    assert_int_equal(opts->debug, 1);
    nattel_options_free(opts);
}

static void test_path_fallbacks(void **state)
{
    (void)state;
    char *xdg[] = {"HOME=/h", "XDG_STATE_HOME=/xs",
                   "NAT_TELEMETRY_CONSENT_FILE=", "NATTEL_STATE_DIR=", NULL};
    nattel_options *opts = load(xdg);
    assert_string_equal(opts->state_dir, "/xs/nattel");
    assert_string_equal(opts->consent_file, "/h/.config/nat/telemetry.toml");
    nattel_options_free(opts);

    char *relative[] = {"HOME=/h", "XDG_STATE_HOME=rel", NULL};
    opts = load(relative);
    assert_string_equal(opts->state_dir, "/h/.local/state/nattel");
    nattel_options_free(opts);
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
    nattel_options *opts = load(env);
    char *a = NULL, *b = NULL;
    nattel_error err;
    assert_int_equal(nattel_session_id_new(opts, &a, &err), NATTEL_OK);
    assert_int_equal(nattel_session_id_new(opts, &b, &err), NATTEL_OK);
    assert_int_equal(strlen(a), 4 + NATTEL_SESSION_HEX_LEN);
    assert_memory_equal(a, "dev-", 4);
    assert_int_equal(strspn(a + 4, "0123456789abcdef"), NATTEL_SESSION_HEX_LEN);
    assert_string_not_equal(a, b); /* 128 random bits */
    free(a);
    free(b);

    /* A fixed random source through the config seam: the version and
     * variant bits are set whatever the bytes are (issue 8: UUID4). */
    static const struct {
        int byte;
        const char *id;
    } fixed[] = {
        {0xab, "dev-abababababab4bababababababababab"},
        {0x00, "dev-00000000000040008000000000000000"},
        {0xff, "dev-ffffffffffff4fffbfffffffffffffff"},
        {0x7f, "dev-7f7f7f7f7f7f4f7fbf7f7f7f7f7f7f7f"},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        int byte = fixed[i].byte;
        nattel_options_set_random(opts, fixed_random, &byte);
        assert_int_equal(nattel_session_id_new(opts, &a, &err), NATTEL_OK);
        assert_string_equal(a, fixed[i].id);
        free(a);
    }
    nattel_options_free(opts);
}

/* Issue 8: sessionId is uuid.uuid4().hex after the prefix: 32 lowercase
 * hex digits, the 13th `4`, the 17th one of 8, 9, a, b; the other 30
 * digits random. Checked over many ids from the system's random source. */
static void test_session_id_is_uuid4(void **state)
{
    (void)state;
    char *env[] = {"HOME=/h", NULL};
    nattel_options *opts = load(env);
    enum { N = 4000 };
    unsigned seen[32] = {0}; /* per position: which hex digits occurred */
    char **ids = calloc(N, sizeof *ids);
    assert_non_null(ids);
    nattel_error err;
    for (int k = 0; k < N; k++) {
        assert_int_equal(nattel_session_id_new(opts, &ids[k], &err), NATTEL_OK);
        const char *id = ids[k];
        assert_int_equal(strlen(id), 32);
        assert_int_equal(strspn(id, "0123456789abcdef"), 32);
        if (id[12] != '4' || !strchr("89ab", id[16]))
            fail_msg("not a UUID4: %s", id);
        for (int i = 0; i < 32; i++)
            seen[i] |= 1u << (id[i] <= '9' ? id[i] - '0' : id[i] - 'a' + 10);
    }
    for (int i = 0; i < 32; i++) {
        unsigned want = i == 12 ? 1u << 4 : i == 16 ? 0xF00u : 0xFFFFu;
        if (seen[i] != want)
            fail_msg("digit %d: digits seen %#x, want %#x", i + 1, seen[i],
                     want);
    }
    /* no two alike (122 random bits) */
    for (int k = 0; k < N; k++)
        for (int j = k + 1; j < N; j++)
            if (!strcmp(ids[k], ids[j]))
                fail_msg("ids %d and %d repeat: %s", k, j, ids[k]);
    for (int k = 0; k < N; k++)
        free(ids[k]);
    free(ids);
    nattel_options_free(opts);
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
        /* issue 8: upstream checks the sink before dry run */
        {"stdout", 1, NATTEL_OK, NATTEL_SINK_STDOUT},
        {"", 1, NATTEL_OK, NATTEL_SINK_DRY_RUN},
        {NATTEL_DEFAULT_ENDPOINT, 1, NATTEL_OK, NATTEL_SINK_DRY_RUN},
        {"ftp://x", 0, NATTEL_EINVAL, NATTEL_SINK_NONE},
        {"STDOUT", 0, NATTEL_EINVAL, NATTEL_SINK_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* Through the environment: the setter refuses what the rule
         * refuses, so only there can a bad endpoint reach the rule. */
        char var[128];
        snprintf(var, sizeof var, "NAT_TELEMETRY_ENDPOINT=%s",
                 cases[i].endpoint);
        char *env[] = {"HOME=/h", var,
                       cases[i].dry_run ? "NAT_TELEMETRY_DRY_RUN=1" : NULL,
                       NULL};
        nattel_options *opts = load(env);
        nattel_sink_kind kind = NATTEL_SINK_NONE;
        nattel_error err;
        assert_int_equal(nattel_options_sink(opts, &kind, &err), cases[i].rc);
        if (!cases[i].rc)
            assert_int_equal(kind, cases[i].kind);
        nattel_options_free(opts);
    }
}

static void test_error_class(void **state)
{
    (void)state;
    /* Python identifiers, Unicode letters included (issue 8) */
    const char *good[] = {"ValueError",
                          "_x",
                          "json.JSONDecodeError",
                          "a1.b_2",
                          "Ошибка",
                          "ÉrrorÇlass",
                          "模块.错误",
                          "Δ.λ_1",
                          "e\xcc\x81x", /* e + U+0301 */
                          "ñ",
                          "ªº",
                          "ｆｕｌｌ", /* fullwidth */
                          "_0",
                          "a.b.c.d",
                          "𝔘𝔫𝔦", /* U+1D518.. */
                          "Ωmega9",
                          "x_\xe3\x80\x85"}; /* U+3005 */
    const char *bad[] = {
        "",
        "1Error",
        ".x",
        "x.",
        "a..b",
        "No such file",
        "/etc/passwd",
        "Err:msg",
        "a-b",
        "a\nb",
        "Ошибка!",
        "«E»",
        "a\xc2\xa0"
        "b", /* NBSP */
        "a\xe2\x80\x8b"
        "b", /* ZERO WIDTH SPACE */
        "a\xe2\x80\xa8"
        "b", /* LINE SEPARATOR */
        "a\xe3\x80\x80"
        "b", /* IDEOGRAPHIC SPACE */
        "a\xef\xbc\x8f"
        "b", /* FULLWIDTH SOLIDUS */
        "a\xef\xbc\x9a"
        "b",                /* FULLWIDTH COLON */
        "a\xe3\x80\x82",    /* IDEOGRAPHIC FULL STOP */
        "\xcc\x81x",        /* a combining mark first */
        "x.\xcc\x81",       /* ... of a segment */
        "\xf0\x9f\x98\x80", /* U+1F600 */
        "a\xee\x80\x80",    /* private use U+E000 */
        "a\xef\xbf\xbd",    /* U+FFFD */
        "a\xc2\x85",        /* NEL, a C1 control */
        "a\xd7\x80"
        "b",             /* U+05C0 HEBREW PUNCTUATION PASEQ */
        "Err\xff",       /* invalid UTF-8 */
        "Err\xc3",       /* truncated */
        "\xc0\xae",      /* overlong '.' */
        "a\xed\xa0\x80", /* a surrogate */
        "a\xc3\x97"
        "b", /* U+00D7 MULTIPLICATION SIGN */
    };
    nattel_error err;
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (nattel_error_class_check(good[i], &err))
            fail_msg("good[%zu] refused: %s", i, err.message);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (nattel_error_class_check(bad[i], &err) != NATTEL_EINVAL)
            fail_msg("bad[%zu] accepted", i);
        assert_null(strstr(err.message, "passwd")); /* value not echoed */
        assert_null(strstr(err.message, "No such"));
    }
    char longest[130];
    memset(longest, 'E', 128);
    longest[128] = '\0';
    assert_int_equal(nattel_error_class_check(longest, &err), NATTEL_OK);
    longest[128] = 'E';
    longest[129] = '\0';
    assert_int_equal(nattel_error_class_check(longest, &err), NATTEL_EINVAL);
    /* the bound is in bytes: 64 two-byte letters fit, 65 do not */
    char cyr[140] = "";
    for (int i = 0; i < 64; i++)
        strcat(cyr, "\xd0\x96");
    assert_int_equal(nattel_error_class_check(cyr, &err), NATTEL_OK);
    strcat(cyr, "\xd0\x96");
    assert_int_equal(nattel_error_class_check(cyr, &err), NATTEL_EINVAL);
}

/* Issue 8: a value that is not an identifier is sent as "undefined" (the
 * event kept), with a debug line saying why, never the value. */
static void test_error_class_sanitize(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    nattel_options *opts = nattel_options_new();
    assert_non_null(opts);
    nattel_options_set_debug(opts, 1);
    nattel_options_set_log_fd(opts, p[1]);
    assert_string_equal(nattel_error_class_sanitize(opts, "ValueError"),
                        "ValueError");
    assert_string_equal(nattel_error_class_sanitize(opts, "Ошибка"), "Ошибка");
    assert_null(nattel_error_class_sanitize(opts, NULL));
    const char *s = "bad value /etc/passwd";
    assert_ptr_not_equal(nattel_error_class_sanitize(opts, s), s);
    assert_string_equal(nattel_error_class_sanitize(opts, s), "undefined");
    assert_string_equal(nattel_error_class_sanitize(opts, "Err\xff"),
                        "undefined");
    close(p[1]);
    char log[4096];
    ssize_t n = read(p[0], log, sizeof log - 1);
    close(p[0]);
    assert_true(n > 0);
    log[n] = '\0';
    /* three lines for the three replaced values, none for the kept ones */
    int lines = 0;
    for (char *c = log; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 3);
    assert_non_null(strstr(log, "errorClass"));
    assert_non_null(strstr(log, "\"undefined\""));
    assert_null(strstr(log, "passwd"));
    assert_null(strstr(log, "bad value"));
    /* without debug: the same answer, no line */
    nattel_options_set_debug(opts, 0);
    assert_string_equal(nattel_error_class_sanitize(opts, s), "undefined");
    nattel_options_free(opts);
}

/* The settings reach the flusher in its environment, not its argv: every
 * setting of the table reads back the same, the host's own values of
 * those variables are replaced, the rest of its environment is kept, and
 * the private NATTEL_HANDOFF_* names count only on the flusher's side. */
static void test_handoff(void **state)
{
    (void)state;
    char *host[] = {"HOME=/h",
                    "PATH=/bin",
                    "NAT_TELEMETRY_ENDPOINT=http://old",
                    "NAT_TELEMETRY_ENABLED= Yes",
                    "NATTEL_HANDOFF_CONNECT_MS=7",
                    NULL};
    nattel_options *o = load(host);
    nattel_error err;
    assert_int_equal(o->connect_ms, 3000); /* private name: not a host's */
    assert_int_equal(
        nattel_options_set_endpoint(o, "https://u:secret@x/e", &err), 0);
    assert_int_equal(nattel_options_set_timeouts(o, 1234, 5678, &err), 0);
    assert_int_equal(nattel_options_set_spool_limits(o, 9, 4096, &err), 0);
    assert_int_equal(nattel_options_set_state_dir(o, "/s", &err), 0);
    nattel_options_set_debug(o, 1);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel__handoff h;
    assert_int_equal(nattel__handoff_env(o, host, &h, &err), 0);
    int path_kept = 0;
    for (char **e = h.envp; *e; e++) {
        path_kept |= !strcmp(*e, "PATH=/bin");
        assert_string_not_equal(*e, "NAT_TELEMETRY_ENDPOINT=http://old");
        assert_string_not_equal(*e, "NATTEL_HANDOFF_CONNECT_MS=7");
    }
    assert_true(path_kept);
    nattel_options *f = nattel_options_new();
    assert_int_equal(
        nattel__options_from_handoff(f, nattel_envp_lookup, h.envp, &err), 0);
    assert_string_equal(f->endpoint, "https://u:secret@x/e");
    assert_string_equal(f->state_dir, "/s");
    assert_string_equal(f->consent_file, "/h/.config/nat/telemetry.toml");
    assert_string_equal(f->env_enabled_raw, " Yes");
    assert_int_equal(f->env_enabled, 1);
    assert_int_equal(f->debug, 1);
    assert_int_equal(f->connect_ms, 1234);
    assert_int_equal(f->total_ms, 5678);
    assert_int_equal(f->max_events, 9);
    assert_int_equal(f->max_bytes, 4096);
    assert_int_equal(f->mode, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel_options_free(f);
    /* the public read ignores the private names */
    f = nattel_options_new();
    assert_int_equal(
        nattel_options_from_env(f, nattel_envp_lookup, h.envp, &err), 0);
    assert_int_equal(f->connect_ms, 3000);
    nattel_options_free(f);
    nattel__handoff_free(&h);
    nattel_options_free(o);
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
        cmocka_unit_test(test_session_id_is_uuid4),
        cmocka_unit_test(test_sink),
        cmocka_unit_test(test_error_class),
        cmocka_unit_test(test_error_class_sanitize),
        cmocka_unit_test(test_handoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
