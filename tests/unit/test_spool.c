/* The spool: entry names, private files, symlink refusal, bounds that
 * drop the oldest first and count it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "delivery/nattel_audit.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"
#include "natx/natx_file.h"

#include <nattel/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static int64_t fake_now = 1700000000000LL;
static int64_t fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now++; /* each event a millisecond later: a strict order */
}

static nattel_options *options_in(const char *dir)
{
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, env, &err),
                     0);
    assert_int_equal(nattel_options_set_state_dir(o, dir, &err), 0);
    assert_int_equal(nattel_options_set_endpoint(
                         o, "http://127.0.0.1:9/v1.1/events/json", &err),
                     0);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPOOL_ONLY);
    nattel_options_set_clock(o, fake_clock, NULL, NULL);
    return o;
}

static char *state_in(const char *tag)
{
    char *dir = tu_tmpdir(tag);
    char *state = malloc(strlen(dir) + 16);
    sprintf(state, "%s/a/b/state", dir);
    free(dir);
    return state;
}

/* Emits one event per command name; the client's emit result. */
static nattel_code emit_all(nattel_options *o, const char *const *cmds,
                            size_t n)
{
    nattel_error err;
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = nattel_client_emit(c, tu_event(cmds[i]), &err);
    nattel_client_free(c);
    return rc;
}

static void test_entry_names(void **state)
{
    (void)state;
    nattel__entry e = {.ms = 1700000000000LL,
                       .seq = 42,
                       .rand = "0123456789abcdef",
                       .size = 1035,
                       .attempt = 3};
    char name[96];
    nattel__entry_name(&e, name, sizeof name);
    assert_string_equal(
        name, "1700000000000-0000000042-0123456789abcdef-1035-3.json");
    /* Once tried here, the first try's time (the retry age) follows. */
    nattel__entry t = e;
    t.first_ms = 1700000001234LL;
    char tried[96];
    nattel__entry_name(&t, tried, sizeof tried);
    assert_string_equal(tried, "1700000000000-0000000042-0123456789abcdef-"
                               "1035-3-1700000001234.json");
    nattel__entry tb;
    assert_int_equal(nattel__entry_parse(tried, &tb), 0);
    assert_int_equal(tb.first_ms, t.first_ms);
    nattel__entry back;
    assert_int_equal(nattel__entry_parse(name, &back), 0);
    assert_int_equal(back.ms, e.ms);
    assert_int_equal(back.seq, 42);
    assert_string_equal(back.rand, e.rand);
    assert_int_equal(back.size, 1035);
    assert_int_equal(back.attempt, 3);
    /* One client's events sort in order within a millisecond, whatever
     * their random digits. */
    nattel__entry f = e;
    char later[96];
    f.seq = 1000;
    memcpy(f.rand, "0000000000000000", 17);
    nattel__entry_name(&f, later, sizeof later);
    assert_true(strcmp(name, later) < 0);
    /* Names that are not entries are never read. */
    const char *bad[] = {
        ".tmp-0123456789abcdef-1",
        "1700000000000-0000000042-0123456789abcdef-1035-3.json.x",
        "1700000000000-0000000042-0123456789ABCDEF-1035-3.json",
        "1700000000000-0000000042-0123-1035-3.json",
        "1700000000000-42-0123456789abcdef-1035-3.json",
        "x700000000000-0000000042-0123456789abcdef-1035-3.json",
        /* signs, spaces and overflow: sscanf took these */
        "1700000000000-0000000042-0123456789abcdef-+1035-3.json",
        "1700000000000-0000000042-0123456789abcdef- 1035-3.json",
        "1700000000000-0000000042-0123456789abcdef-1035--3.json",
        "1700000000000-9999999999-0123456789abcdef-1035-3.json",
        "1700000000000-0000000042-0123456789abcdef-99999999999999999999-3."
        "json",
        "notes.txt", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(nattel__entry_parse(bad[i], &back), -1);
}

static void test_private_files(void **state)
{
    (void)state;
    char *dir = state_in("spool-perm");
    mode_t old = umask(0);
    const char *cmds[] = {"run"};
    assert_int_equal(emit_all(options_in(dir), cmds, 1), 0);
    umask(old);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char p[2048];
    snprintf(p, sizeof p, "%s/spool", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    nattel__entry *v;
    size_t n;
    nattel_error err;
    assert_int_equal(nattel__spool_list(dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 1);
    snprintf(p, sizeof p, "%s/spool/%s", dir, v[0].name);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((uint64_t)st.st_size, v[0].size);
    free(v);
    /* A looser state directory is tightened. */
    assert_int_equal(chmod(dir, 0755), 0);
    assert_int_equal(emit_all(options_in(dir), cmds, 1), 0);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    free(dir);
}

static void test_symlinks_refused(void **state)
{
    (void)state;
    char *real = state_in("spool-link");
    const char *cmds[] = {"run"};
    assert_int_equal(emit_all(options_in(real), cmds, 1), 0);
    char link[2048];
    snprintf(link, sizeof link, "%s-link", real);
    assert_int_equal(symlink(real, link), 0);
    nattel_error err;
    assert_int_equal(nattel__state_dir_prepare(link, &err), NATTEL_EINVAL);
    assert_non_null(strstr(err.message, "symlink"));
    assert_int_equal(emit_all(options_in(link), cmds, 1), NATTEL_EINVAL);
    assert_int_equal(nattel__spool_count(real), 1);

    /* A symlink in the spool is never read nor followed; a flusher
     * removes the link (not its target) and records the drop. */
    char target[2048], entry[2048];
    snprintf(target, sizeof target, "%s/../secret.json", real);
    FILE *f = fopen(target, "w");
    fputs("{\"secret\":1}", f);
    fclose(f);
    snprintf(entry, sizeof entry,
             "%s/spool/0000000000001-0000000000-0123456789abcdef-12-0.json",
             real);
    assert_int_equal(symlink(target, entry), 0);
    assert_int_equal(nattel__spool_count(real), 1);
    nattel_options *o = options_in(real);
    nattel__odd_count odd;
    nattel__spool_refuse_odd(o, &odd);
    assert_int_equal(odd.symlinks, 1);
    assert_int_equal(odd.others, 0);
    struct stat st;
    assert_int_equal(lstat(entry, &st), -1);
    assert_int_equal(stat(target, &st), 0);
    nattel__state s;
    nattel__state_read(real, &s);
    assert_int_equal(s.dropped, 1);
    nattel_options_free(o);
    free(real);
}

static void test_bounds(void **state)
{
    (void)state;
    char *dir = state_in("spool-cap");
    nattel_options *o = options_in(dir);
    nattel_error err;
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    const char *cmds[] = {"c1", "c2", "c3", "c4", "c5"};
    assert_int_equal(emit_all(o, cmds, 5), 0);
    /* The newest three remain, in order; two drops counted. */
    nattel__entry *v;
    size_t n;
    assert_int_equal(nattel__spool_list(dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/spool/%s", dir, v[i].name);
        char *body = tu_read_file(p, NULL);
        char want[64];
        snprintf(want, sizeof want, "\"command\":\"c%zu\"", i + 3);
        assert_non_null(strstr(body, want));
        free(body);
        if (i)
            assert_true(strcmp(v[i - 1].name, v[i].name) < 0);
    }
    free(v);
    /* Counted by the host in STATE/spool.summary (the emit neither lists
     * the spool nor rewrites state.json); a flusher takes the count. */
    nattel__state s;
    nattel__state_read(dir, &s);
    assert_int_equal(s.dropped, 0);
    assert_int_equal(nattel__spool_pending_dropped(dir), 2);
    assert_int_equal(nattel__spool_take_dropped(dir), 2);
    assert_int_equal(nattel__spool_pending_dropped(dir), 0);

    /* The byte bound: room for two events of ~1 KB. */
    char *dir2 = state_in("spool-bytes");
    o = options_in(dir2);
    assert_int_equal(nattel_options_set_spool_limits(o, 1000, 2500, &err), 0);
    assert_int_equal(emit_all(o, cmds, 5), 0);
    assert_int_equal(nattel__spool_count(dir2), 2);
    assert_int_equal(nattel__spool_pending_dropped(dir2), 3);
    free(dir);
    free(dir2);
}

/* The host's summary can be wrong; the bound still holds. A summary of
 * garbage is rebuilt from a listing; one that says "full" after a flusher
 * sent everything drops nothing that is not there; one that says "empty"
 * while the spool is over the bound is set right within
 * NATTEL__SUMMARY_RELIST emits. */
static void test_summary_drift(void **state)
{
    (void)state;
    char *dir = state_in("spool-summary");
    nattel_options *o = options_in(dir);
    nattel_error err;
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    const char *cmds[] = {"c1", "c2", "c3", "c4", "c5"};
    assert_int_equal(emit_all(o, cmds, 3), 0);
    char p[2048];
    snprintf(p, sizeof p, "%s/spool.summary", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("garbage", f);
    fclose(f);
    o = options_in(dir);
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    assert_int_equal(emit_all(o, cmds + 3, 2), 0);
    assert_int_equal(nattel__spool_count(dir), 3);
    assert_int_equal(nattel__spool_pending_dropped(dir), 2);
    /* Everything sent meanwhile (removed behind the summary's back). */
    nattel__entry *v;
    size_t n;
    assert_int_equal(nattel__spool_list(dir, "spool", &v, &n, NULL, &err), 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(p, sizeof p, "%s/spool/%s", dir, v[i].name);
        assert_int_equal(unlink(p), 0);
    }
    free(v);
    o = options_in(dir);
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    assert_int_equal(emit_all(o, cmds, 3), 0);
    assert_int_equal(nattel__spool_count(dir), 3);
    assert_int_equal(nattel__spool_pending_dropped(dir), 2);
    /* A summary saying "empty" over a spool of 3 + 64: within
     * NATTEL__SUMMARY_RELIST emits the spool is back to its bound. */
    snprintf(p, sizeof p, "%s/spool.summary", dir);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("nattel-spool-summary-1 0 0 0 0\n", f);
    fclose(f);
    o = options_in(dir);
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    const char *many[NATTEL__SUMMARY_RELIST];
    for (size_t i = 0; i < NATTEL__SUMMARY_RELIST; i++)
        many[i] = "m";
    assert_int_equal(emit_all(o, many, NATTEL__SUMMARY_RELIST), 0);
    assert_int_equal(nattel__spool_count(dir), 3);
    free(dir);
}

static int64_t backwards_now = 1800000000000LL;
static int64_t backwards_clock(void *ctx)
{
    (void)ctx;
    return backwards_now--;
}

/* A bound lowered under a spool of 20: 17 go at once, the oldest, whether
 * picked one by one or by the sort the rest takes. The clock runs
 * backwards, so the oldest names are the last created: directory order
 * (often creation order) is no help. */
static void test_bound_lowered(void **state)
{
    (void)state;
    char *dir = state_in("spool-lowered");
    nattel_options *first = options_in(dir);
    nattel_options_set_clock(first, backwards_clock, NULL, NULL);
    const char *cmds[20] = {"c00", "c01", "c02", "c03", "c04", "c05", "c06",
                            "c07", "c08", "c09", "c10", "c11", "c12", "c13",
                            "c14", "c15", "c16", "c17", "c18", "c19"};
    assert_int_equal(emit_all(first, cmds, 20), 0);
    assert_int_equal(nattel__spool_count(dir), 20);
    nattel_options *o = options_in(dir);
    nattel_error err;
    assert_int_equal(nattel_options_set_spool_limits(o, 3, 1 << 20, &err), 0);
    size_t dropped = 0;
    assert_int_equal(nattel__spool_enforce(o, &dropped, &err), 0);
    assert_int_equal(dropped, 17);
    nattel__entry *v;
    size_t n;
    assert_int_equal(nattel__spool_list(dir, "spool", &v, &n, NULL, &err), 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/spool/%s", dir, v[i].name);
        char *body = tu_read_file(p, NULL);
        char want[64];
        /* Oldest first among the kept: c02, c01, c00. */
        snprintf(want, sizeof want, "\"command\":\"c%02zu\"", 2 - i);
        assert_non_null(strstr(body, want));
        free(body);
    }
    free(v);
    nattel_options_free(o);
    free(dir);
}

static void test_audit_rotation(void **state)
{
    (void)state;
    char *dir = state_in("spool-audit");
    nattel_options *o = options_in(dir);
    nattel_error err;
    assert_int_equal(nattel__state_dir_prepare(dir, &err), 0);
    /* Records of ~64 KiB: the log rotates, the total stays bounded. */
    size_t big = 64 * 1024;
    char *payload = malloc(big + 1);
    memset(payload, ' ', big);
    payload[0] = '{';
    payload[big - 1] = '}';
    payload[big] = '\0';
    size_t records = 2 * NATTEL__AUDIT_MAX_BYTES / big + 8;
    for (size_t i = 0; i < records; i++) {
        nattel__record r = {.outcome = NATTEL__SENT,
                            .events = 1,
                            .http_status = 200,
                            .reason = "HTTP 200",
                            .endpoint = o->endpoint,
                            .payload = payload,
                            .payload_len = big};
        assert_int_equal(nattel__record_outcome(o, &r, &err), 0);
    }
    char p[2048];
    struct stat st, st1;
    snprintf(p, sizeof p, "%s/audit.log", dir);
    assert_int_equal(stat(p, &st), 0);
    snprintf(p, sizeof p, "%s/audit.log.1", dir);
    assert_int_equal(stat(p, &st1), 0);
    assert_true((size_t)st.st_size <= NATTEL__AUDIT_MAX_BYTES);
    assert_true((size_t)st1.st_size <= NATTEL__AUDIT_MAX_BYTES);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* -n keeps the newest lines. */
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(nattel__audit_tail(dir, 2, &b, &err), 0);
    size_t lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += b.data[i] == '\n';
    assert_int_equal(lines, 2);
    nattel__state s;
    nattel__state_read(dir, &s);
    assert_int_equal(s.sent, (int64_t)records);
    nattel_buf_free(&b);
    free(payload);
    nattel_options_free(o);
    free(dir);
}

/* A FIFO (or a directory) planted where the state keeps a file is
 * refused at once, never waited on: reading it would block until some
 * writer came, and a host or a flusher would hang. */
static void test_fifo_not_read(void **state)
{
    (void)state;
    char *dir = state_in("spool-fifo");
    nattel_options *o = options_in(dir);
    nattel_error err;
    assert_int_equal(nattel__state_dir_prepare(dir, &err), 0);
    char p[2048];
    snprintf(p, sizeof p, "%s/state.json", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(20); /* a hang fails the test instead of stalling the suite */
    nattel_buf b = NATTEL_BUF_INIT;
    assert_int_equal(natx_file_read(p, 1024, &b, &err), NATTEL_EINVAL);
    assert_non_null(strstr(err.message, "a FIFO"));
    assert_non_null(strstr(err.message, p));
    assert_int_equal(b.len, 0);
    nattel__state s;
    nattel__state_read(dir, &s);
    assert_int_equal(s.sent, 0);
    /* The next update replaces it with a real state file. */
    nattel__record r = {.outcome = NATTEL__SENT, .events = 2};
    assert_int_equal(nattel__record_outcome(o, &r, &err), 0);
    nattel__state_read(dir, &s);
    assert_int_equal(s.sent, 2);
    /* The audit log as a FIFO: an error, not a hang. */
    snprintf(p, sizeof p, "%s/audit.log.1", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(nattel__audit_tail(dir, 0, &b, &err), NATTEL_EINVAL);
    /* audit.log as a FIFO when an emit drops over the spool bound (it
     * audits the drop): the write is refused, never waited on (issue 16:
     * it hung `nattel emit`). */
    snprintf(p, sizeof p, "%s/audit.log", dir);
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(nattel_options_set_spool_limits(o, 1, 1 << 20, &err), 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(nattel__spool_write(o, i, "{}", 2, &err), 0);
    size_t dropped = 0;
    assert_int_equal(nattel__spool_enforce(o, &dropped, &err), 0);
    assert_int_equal(dropped, 2);
    /* A directory is refused by name too. */
    assert_int_equal(natx_file_read(dir, 1024, &b, &err), NATTEL_EINVAL);
    assert_non_null(strstr(err.message, "a directory"));
    alarm(0);
    nattel_buf_free(&b);
    nattel_options_free(o);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entry_names),
        cmocka_unit_test(test_private_files),
        cmocka_unit_test(test_symlinks_refused),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_bound_lowered),
        cmocka_unit_test(test_summary_drift),
        cmocka_unit_test(test_audit_rotation),
        cmocka_unit_test(test_fifo_not_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
