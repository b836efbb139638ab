/* Delivery state for tools, through the public API alone (client.h):
 * nattel_delivery_status, nattel_flush_now and nattel_audit_read on a real
 * state directory, with a port nobody listens on 127.0.0.1 for the one
 * delivery attempt and a fake real-time clock for the back-off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <nattel/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fake_now = 1760000000000;

static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

/* Options for STATE under a fresh directory; `consent` "1" or "0". */
/* Options from `env` for the tests here: spool only, never a prompt, the
 * fake clock. */
static nattel_options *options_env(char **env, const char *tag,
                                   const char *endpoint, char *state,
                                   size_t cap)
{
    nattel_error err;
    nattel_options *o = tu_options(env, tag, endpoint, state, cap);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_options_set_clock(o, fake_clock, NULL, NULL);
    assert_int_equal(nattel_options_set_timeouts(o, 5000, 20000, &err), 0);
    return o;
}

static nattel_options *options_for(const char *tag, const char *consent,
                                   const char *endpoint, char *state,
                                   size_t cap)
{
    char enabled[40];
    snprintf(enabled, sizeof enabled, "NAT_TELEMETRY_ENABLED=%s", consent);
    char *env[] = {enabled, NULL};
    return options_env(env, tag, endpoint, state, cap);
}

/* Spools n events with a client built from a copy of the options'
 * settings (the client takes its options). */
static void spool(const char *state, const char *endpoint, int n)
{
    char scratch[1024];
    nattel_options *o =
        options_for("admin-spool", "1", endpoint, scratch, sizeof scratch);
    nattel_error err;
    assert_int_equal(nattel_options_set_state_dir(o, state, &err), 0);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    for (int i = 0; i < n; i++) {
        nattel_cli_command cmd = NATTEL_CLI_COMMAND_INIT;
        cmd.command = "run";
        cmd.task_status = NATTEL_TASK_STATUS_SUCCESS;
        nattel_event *ev;
        assert_int_equal(nattel_cli_command_event(&cmd, &ev, &err), 0);
        assert_int_equal(nattel_client_emit(c, ev, &err), 0);
    }
    nattel_client_free(c);
}

static void test_status_empty(void **state)
{
    (void)state;
    char dir[1024];
    nattel_options *o =
        options_for("admin-empty", "1", "stdout", dir, sizeof dir);
    nattel_delivery_info *info = NULL;
    nattel_error err;
    /* No state directory yet: an empty state, and still none after. */
    assert_int_equal(nattel_delivery_status(o, &info, &err), NATTEL_OK);
    assert_non_null(info);
    assert_int_equal(nattel_delivery_spooled(info), 0);
    assert_int_equal(nattel_delivery_sent(info), 0);
    assert_null(nattel_delivery_last_ts(info));
    assert_null(nattel_delivery_last_outcome(info));
    assert_int_equal(nattel_delivery_backoff_until(info), 0);
    struct stat st;
    assert_int_not_equal(lstat(dir, &st), 0);
    nattel_delivery_info_free(info);
    /* Getters take NULL. */
    assert_int_equal(nattel_delivery_spooled(NULL), 0);
    assert_int_equal(nattel_delivery_dropped(NULL), 0);
    assert_int_equal(nattel_delivery_last_http_status(NULL), 0);
    /* The log of a missing directory is empty. */
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel_audit_read(o, 0, NATTEL_AUDIT_JSON, &b, &err),
                     NATTEL_OK);
    assert_int_equal(b.len, 0);
    nattel_buf_free(&b);
    assert_string_equal(nattel_options_state_dir(o), dir);
    nattel_options_free(o);
}

static void test_status_refused(void **state)
{
    (void)state;
    char dir[1024];
    nattel_options *o =
        options_for("admin-refused", "1", "stdout", dir, sizeof dir);
    char real[1100];
    snprintf(real, sizeof real, "%s-real", dir);
    assert_int_equal(mkdir(real, 0700), 0);
    assert_int_equal(symlink(real, dir), 0);
    nattel_delivery_info *info = (nattel_delivery_info *)&info;
    nattel_error err;
    nattel_code rc = nattel_delivery_status(o, &info, &err);
    assert_int_equal(rc, NATTEL_EINVAL);
    assert_int_equal(err.code, rc);
    assert_null(info);
    nattel_buf b = NATTEL_BUF_INIT;
    rc = nattel_audit_read(o, 0, NATTEL_AUDIT_TEXT, &b, &err);
    assert_int_equal(rc, NATTEL_EINVAL);
    assert_int_equal(err.code, rc);
    assert_non_null(strstr(err.message, dir));
    nattel_buf_free(&b);
    nattel_options_free(o);
}

static void test_flush_skipped(void **state)
{
    (void)state;
    char dir[1024];
    nattel_options *off =
        options_for("admin-off", "0", "http://127.0.0.1:9/", dir, sizeof dir);
    spool(dir, "http://127.0.0.1:9/", 2);
    nattel_flush_result r = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err;
    assert_int_equal(nattel_flush_now(off, 0, &r, &err), NATTEL_OK);
    assert_int_equal(r.skipped, NATTEL_FLUSH_SKIP_CONSENT_OFF);
    assert_int_equal(r.consent_source, NATTEL_CONSENT_SOURCE_ENV);
    assert_int_equal(r.remaining, 2);
    assert_int_equal(r.sent + r.deferred, 0);
    nattel_options_free(off);

    nattel_options *on =
        options_for("admin-stdout", "1", "stdout", dir, sizeof dir);
    spool(dir, "http://127.0.0.1:9/", 1);
    nattel_flush_result r2 = NATTEL_FLUSH_RESULT_INIT;
    assert_int_equal(nattel_flush_now(on, 0, &r2, &err), NATTEL_OK);
    assert_int_equal(r2.skipped, NATTEL_FLUSH_SKIP_NOT_HTTP);
    assert_int_equal(r2.remaining, 1);
    nattel_options_free(on);
}

/* NAT_TELEMETRY_ENDPOINT empty and a machine policy naming the
 * organisation's endpoint: nattel_flush_now sends there (here: a dead
 * port, so the batch is deferred, not skipped as "not http"), as the
 * client and the flusher do; nattel_options_apply_policy_endpoint makes
 * it the options' endpoint, and changes nothing without one. */
static void test_flush_policy_endpoint(void **state)
{
    (void)state;
    char url[128], dir[1024], pol[1200], var[1300];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json",
             tu_dead_port());
    char *tmp = tu_tmpdir("admin-policy-ep");
    snprintf(pol, sizeof pol, "%s/policy.toml", tmp);
    FILE *f = fopen(pol, "w");
    assert_non_null(f);
    fprintf(f, "telemetry = \"allowed\"\nendpoint = \"%s\"\n", url);
    assert_int_equal(fclose(f), 0);
    snprintf(var, sizeof var, "NATTEL_POLICY_FILE=%s", pol);
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", var, NULL};
    nattel_options *o =
        options_env(env, "admin-policy-ep", "", dir, sizeof dir);
    spool(dir, url, 2);
    nattel_flush_result r = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err;
    assert_int_equal(nattel_flush_now(o, 0, &r, &err), NATTEL_OK);
    assert_int_equal(r.skipped, NATTEL_FLUSH_SKIP_NONE);
    assert_int_equal(r.deferred, 2);
    assert_int_equal(r.remaining, 2);

    assert_string_equal(nattel_options_endpoint(o), "");
    assert_int_equal(nattel_options_apply_policy_endpoint(o, &err), NATTEL_OK);
    assert_string_equal(nattel_options_endpoint(o), url);
    nattel_sink_kind kind;
    assert_int_equal(nattel_options_sink(o, &kind, &err), NATTEL_OK);
    assert_int_equal(kind, NATTEL_SINK_HTTP);
    nattel_options_free(o);

    /* No policy endpoint: nothing changes. */
    char *env2[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    o = tu_options(env2, "admin-policy-none", "stdout", dir, sizeof dir);
    assert_int_equal(nattel_options_apply_policy_endpoint(o, &err), NATTEL_OK);
    assert_string_equal(nattel_options_endpoint(o), "stdout");
    nattel_options_free(o);
    free(tmp);
}

/* A caller built against a smaller nattel_flush_result: nothing past its
 * size is written. */
static void test_flush_result_size(void **state)
{
    (void)state;
    char dir[1024];
    nattel_options *o =
        options_for("admin-size", "0", "stdout", dir, sizeof dir);
    union {
        nattel_flush_result r;
        unsigned char bytes[sizeof(nattel_flush_result) + 16];
    } u;
    memset(&u, 0xAA, sizeof u);
    size_t small = offsetof(nattel_flush_result, remaining);
    u.r.size = small;
    nattel_error err;
    assert_int_equal(nattel_flush_now(o, 0, &u.r, &err), NATTEL_OK);
    assert_int_equal(u.r.size, small);
    assert_int_equal(u.r.sent, 0);
    for (size_t i = small; i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0xAA);
    nattel_options_free(o);
}

/* One attempt that gets no answer: deferred, back-off pending, recorded
 * in the status and the audit log. */
static void test_flush_deferred(void **state)
{
    (void)state;
    char url[128], dir[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json",
             tu_dead_port());
    nattel_options *o =
        options_for("admin-deferred", "1", url, dir, sizeof dir);
    spool(dir, url, 3);
    nattel_flush_result r = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err;
    assert_int_equal(nattel_flush_now(o, 0, &r, &err), NATTEL_OK);
    assert_int_equal(r.skipped, NATTEL_FLUSH_SKIP_NONE);
    assert_int_equal(r.deferred, 3);
    assert_int_equal(r.sent, 0);
    assert_int_equal(r.remaining, 3);
    assert_int_equal(r.busy, 0);

    nattel_delivery_info *info;
    assert_int_equal(nattel_delivery_status(o, &info, &err), NATTEL_OK);
    assert_int_equal(nattel_delivery_spooled(info), 3);
    assert_int_equal(nattel_delivery_sent(info), 0);
    assert_string_equal(nattel_delivery_last_outcome(info), "deferred");
    assert_int_equal(nattel_delivery_last_events(info), 3);
    assert_int_equal(nattel_delivery_last_http_status(info), 0);
    assert_int_equal(strlen(nattel_delivery_last_ts(info)), NATTEL_TS_LEN);
    int64_t until = nattel_delivery_backoff_until(info);
    assert_true(until > fake_now);
    nattel_delivery_info_free(info);
    /* Once the clock passes it, no back-off is pending. */
    fake_now = until + 1;
    assert_int_equal(nattel_delivery_status(o, &info, &err), NATTEL_OK);
    assert_int_equal(nattel_delivery_backoff_until(info), 0);
    nattel_delivery_info_free(info);

    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel_audit_read(o, 0, NATTEL_AUDIT_JSON, &b, &err), 0);
    assert_non_null(strstr(b.data, "\"outcome\":\"deferred\""));
    assert_int_equal(b.data[b.len - 1], '\n');
    nattel_buf_reset(&b);
    assert_int_equal(nattel_audit_read(o, 1, NATTEL_AUDIT_TEXT, &b, &err), 0);
    /* One record: its line, then the envelope indented below it. */
    /* No answer: no status ("http 0" read as one), the reason alone. */
    assert_non_null(strstr(b.data, "  deferred  3 event(s)  network: "));
    const char *nl = strchr(b.data, '\n');
    assert_non_null(nl);
    assert_true(nl[1] == '\0' || !strncmp(nl + 1, "    {", 5));
    nattel_buf_free(&b);
    nattel_options_free(o);
}

/* As the detached flusher (the nattel-flusher program), a flush keeps to
 * the back-off a failed attempt left; `nattel flush` tries anyway. */
static void test_flush_detached_keeps_backoff(void **state)
{
    (void)state;
    char url[128], dir[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json",
             tu_dead_port());
    nattel_options *o =
        options_for("admin-detached", "1", url, dir, sizeof dir);
    spool(dir, url, 2);
    nattel_flush_result r = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err;
    assert_int_equal(nattel_flush_now(o, 0, &r, &err), NATTEL_OK);
    assert_int_equal(r.deferred, 2); /* back-off now pending */

    nattel_flush_result d = NATTEL_FLUSH_RESULT_INIT;
    assert_int_equal(nattel_flush_now(o, NATTEL_FLUSH_FLAG_DETACHED, &d, &err),
                     NATTEL_OK);
    assert_int_equal(d.skipped, NATTEL_FLUSH_SKIP_NONE);
    assert_int_equal(d.deferred, 0);
    assert_int_equal(d.sent, 0);
    assert_int_equal(d.remaining, 2);

    nattel_flush_result again = NATTEL_FLUSH_RESULT_INIT;
    assert_int_equal(nattel_flush_now(o, 0, &again, &err), NATTEL_OK);
    assert_int_equal(again.deferred, 2);
    nattel_options_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_empty),
        cmocka_unit_test(test_status_refused),
        cmocka_unit_test(test_flush_skipped),
        cmocka_unit_test(test_flush_policy_endpoint),
        cmocka_unit_test(test_flush_result_size),
        cmocka_unit_test(test_flush_deferred),
        cmocka_unit_test(test_flush_detached_keeps_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
