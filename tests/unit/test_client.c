/* The client: options and their rules, consent first (off touches
 * nothing), transport hooks, and in-process delivery with a flush that
 * waits at most its timeout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spawn.h"
#include "delivery/nattel_spool.h"
#include "delivery/nattel_state.h"
#include "nattel_limits.h"

#include <nattel/client.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static nattel_options *options(char **env, const char *state_dir,
                               const char *endpoint)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, env, &err),
                     0);
    assert_int_equal(nattel_options_set_state_dir(o, state_dir, &err), 0);
    assert_int_equal(nattel_options_set_endpoint(o, endpoint, &err), 0);
    return o;
}

/* A host that sets only its state directory still reads the person's
 * consent file from the environment's default (here named by
 * NAT_TELEMETRY_CONSENT_FILE): the decision saved there counts. It was
 * ignored (no consent file), so a saved "yes" read as no decision. */
static void test_state_dir_only_reads_consent_file(void **state)
{
    (void)state;
    char *base = tu_tmpdir("client-consent-default");
    char dir[1024], file[1024];
    snprintf(dir, sizeof dir, "%s/state", base);
    snprintf(file, sizeof file, "%s/telemetry.toml", base);
    free(base);
    nattel_error err;
    assert_int_equal(
        nattel_consent_file_write(file, NATTEL_CONSENT_ENABLED, 0, &err), 0);
    unsetenv("NAT_TELEMETRY_ENABLED");
    unsetenv("DO_NOT_TRACK");
    unsetenv("CI");
    setenv("NAT_TELEMETRY_CONSENT_FILE", file, 1);
    nattel_options *o = nattel_options_new();
    assert_int_equal(nattel_options_set_state_dir(o, dir, &err), 0);
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    nattel_consent_state st;
    nattel_consent_source src;
    nattel_client_consent(c, 0, &st, &src);
    assert_int_equal(src, NATTEL_CONSENT_SOURCE_FILE);
    assert_int_equal(st, NATTEL_CONSENT_ENABLED);
    nattel_client_free(c);
    /* A bad variable the host did not ask for does not fail its client. */
    setenv("NATTEL_DELIVERY", "sideways", 1);
    o = nattel_options_new();
    assert_int_equal(nattel_options_set_state_dir(o, dir, &err), 0);
    c = nattel_client_new(o, &err);
    assert_non_null(c);
    nattel_client_free(c);
    unsetenv("NATTEL_DELIVERY");
    unsetenv("NAT_TELEMETRY_CONSENT_FILE");
}

static void test_option_rules(void **state)
{
    (void)state;
    nattel_options *o = nattel_options_new();
    nattel_error err;
    assert_int_equal(nattel_options_set_endpoint(o, "ftp://x", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_endpoint(o, "STDOUT", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_endpoint(o, "", &err), 0);
    assert_int_equal(nattel_options_set_endpoint(o, "stdout", &err), 0);
    assert_int_equal(nattel_options_set_state_dir(o, "relative/dir", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_timeouts(o, 0, 10, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_timeouts(o, 10, -1, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_spool_limits(o, 0, 10, &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_client_version(o, "", &err),
                     NATTEL_EINVAL);
    assert_int_equal(nattel_options_set_flusher_path(o, "", &err),
                     NATTEL_EINVAL);
    /* NATTEL_DELIVERY names a mode; a typo is an error, not a default. */
    char *bad[] = {"NATTEL_DELIVERY=spool_only", NULL};
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, bad, &err),
                     NATTEL_EINVAL);
    char *good[] = {"NATTEL_DELIVERY=spool-only", "NATTEL_FLUSHER=/x/f",
                    "NATTEL_STATE_DIR=/tmp/nattel-x", NULL};
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, good, &err),
                     0);
    assert_int_equal(o->mode, NATTEL_DELIVERY_SPOOL_ONLY);
    assert_string_equal(nattel__flusher_path(o), "/x/f");
    assert_string_equal(o->state_dir, "/tmp/nattel-x");
    nattel_options_free(o);
}

static void test_off_touches_nothing(void **state)
{
    (void)state;
    char *base = tu_tmpdir("client-off");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/state", base);
    char *envs[][3] = {{"NAT_TELEMETRY_ENABLED=0", NULL, NULL},
                       {"NAT_TELEMETRY_ENABLED=1", "DO_NOT_TRACK=1", NULL}};
    for (size_t i = 0; i < 2; i++) {
        nattel_options *o =
            options(envs[i], dir, "http://127.0.0.1:9/v1.1/events/json");
        nattel_error err;
        nattel_client *c = nattel_client_new(o, &err);
        assert_non_null(c);
        assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
        assert_int_equal(nattel_client_flush(c, 100, &err), 0);
        nattel_client_free(c);
        struct stat st;
        assert_int_equal(lstat(dir, &st), -1);
    }
    free(base);
}

typedef struct hooks {
    int startup, sends, flushes, shutdown, freed;
    int64_t flush_timeout;
    char last[4096];
} hooks;

static nattel_code h_startup(void *s, nattel_error *err)
{
    ((hooks *)s)->startup++;
    return NATTEL_OK;
}
static nattel_code h_send(void *s, const char *p, size_t n, nattel_error *err)
{
    hooks *h = s;
    h->sends++;
    snprintf(h->last, sizeof h->last, "%.*s", (int)n, p);
    return NATTEL_OK;
}
static nattel_code h_flush(void *s, int64_t t, nattel_error *err)
{
    ((hooks *)s)->flushes++;
    ((hooks *)s)->flush_timeout = t;
    return NATTEL_OK;
}
static void h_shutdown(void *s)
{
    ((hooks *)s)->shutdown++;
}
static void h_free(void *s)
{
    ((hooks *)s)->freed++;
}

static void test_transport_hooks(void **state)
{
    (void)state;
    hooks h = {0};
    nattel_transport *t = nattel_transport_new(h_send);
    nattel_transport_set_state(t, &h);
    nattel_transport_set_startup(t, h_startup);
    nattel_transport_set_flush(t, h_flush);
    nattel_transport_set_shutdown(t, h_shutdown);
    nattel_transport_set_free(t, h_free);
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", "NAT_SESSION_PREFIX=h-", NULL};
    nattel_options *o = options(env, "/nonexistent/never-created",
                                "http://127.0.0.1:9/v1.1/events/json");
    nattel_options_set_transport(o, t);
    nattel_error err;
    assert_int_equal(nattel_options_set_client_version(o, "7.7", &err), 0);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    assert_int_equal(h.startup, 1);
    assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    assert_int_equal(h.sends, 2);
    assert_non_null(strstr(h.last, "\"clientVer\":\"7.7\""));
    assert_non_null(strstr(h.last, "\"sessionId\":\"h-"));
    assert_int_equal(nattel_client_flush(c, 250, &err), 0);
    assert_int_equal(h.flushes, 1);
    assert_int_equal(h.flush_timeout, 250);
    nattel_client_free(c);
    assert_int_equal(h.shutdown, 1);
    assert_int_equal(h.freed, 1);
    struct stat st;
    assert_int_equal(lstat("/nonexistent/never-created", &st), -1);
}

/* A listener that answers 200 to everything, or (black hole) accepts
 * connections and never answers. */
typedef struct listener {
    int fd, port, black_hole, stop, requests;
    pthread_t thread;
    pthread_mutex_t mu;
} listener;

static void *listener_main(void *arg)
{
    listener *l = arg;
    int held[64], nheld = 0;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        int stop = l->stop;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        int c = tu_accept_within(l->fd, 50);
        if (c < 0)
            continue;
        if (l->black_hole) {
            if (nheld < 64)
                held[nheld++] = c;
            else
                close(c);
            continue;
        }
        char buf[65536], *body;
        tu_read_request(c, buf, sizeof buf, &body);
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)!write(c, ok, sizeof ok - 1);
        close(c);
        pthread_mutex_lock(&l->mu);
        l->requests++;
        pthread_mutex_unlock(&l->mu);
    }
    for (int i = 0; i < nheld; i++)
        close(held[i]);
    return NULL;
}

static void listener_start(listener *l, int black_hole)
{
    memset(l, 0, sizeof *l);
    l->black_hole = black_hole;
    pthread_mutex_init(&l->mu, NULL);
    l->fd = tu_listen_loopback(&l->port);
    assert_int_equal(pthread_create(&l->thread, NULL, listener_main, l), 0);
}

static void listener_stop(listener *l)
{
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    close(l->fd);
}

static nattel_client *in_process(const char *tag, int port, char *dir,
                                 size_t cap)
{
    char *base = tu_tmpdir(tag);
    snprintf(dir, cap, "%s/state", base);
    free(base);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json", port);
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    nattel_options *o = options(env, dir, url);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_IN_PROCESS);
    nattel_error err;
    assert_int_equal(nattel_options_set_timeouts(o, 5000, 60000, &err), 0);
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    return c;
}

static void test_in_process(void **state)
{
    (void)state;
    listener l;
    listener_start(&l, 0);
    char dir[1024];
    nattel_client *c = in_process("client-inproc", l.port, dir, sizeof dir);
    nattel_error err;
    for (int i = 0; i < 3; i++)
        assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    /* Generous: the machine may be loaded; the point is that flush
     * returns once all is delivered. */
    assert_int_equal(nattel_client_flush(c, 60000, &err), 0);
    assert_int_equal(nattel__spool_count(dir), 0);
    nattel__state s;
    nattel__state_read(dir, &s);
    assert_int_equal(s.sent, 3);
    nattel_client_free(c);
    listener_stop(&l);
}

static void test_in_process_deadline(void **state)
{
    (void)state;
    listener l;
    listener_start(&l, 1);
    char dir[1024];
    nattel_client *c = in_process("client-hole", l.port, dir, sizeof dir);
    nattel_error err;
    assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    /* The server never answers: flush gives up at its deadline (60 s
     * total timeout notwithstanding) and the event stays spooled. */
    assert_int_equal(nattel_client_flush(c, 200, &err), NATTEL_ELIMIT);
    nattel_client_free(c);
    assert_int_equal(nattel__spool_count(dir), 1);
    listener_stop(&l);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* fork() while the in-process client's thread is in a send (the
 * listener never answers). In the child there is no thread: emit spools,
 * flush and free return at once (they waited 2 s, then hung forever in
 * pthread_cond_destroy). alarm() guards the child against a hang. Then
 * the parent frees its client with the send still in flight: free
 * returns within NATTEL__FREE_WAIT_MS (plus slack for a loaded machine)
 * and the event stays spooled. */
static void test_fork_and_free_in_flight(void **state)
{
    (void)state;
    listener l;
    listener_start(&l, 1);
    char dir[1024];
    nattel_client *c = in_process("client-fork", l.port, dir, sizeof dir);
    nattel_error err;
    assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    /* Let the thread claim the entry and start its send. */
    usleep(300000);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(10);
        int64_t t0 = mono_ms();
        size_t before = nattel__spool_count(dir);
        int bad = nattel_client_emit(c, tu_event("child"), &err) != 0;
        bad |= nattel__spool_count(dir) != before + 1;
        bad |= nattel_client_flush(c, 5000, &err) != 0;
        nattel_client_free(c);
        bad |= mono_ms() - t0 > 1000;
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    int64_t t0 = mono_ms();
    nattel_client_free(c);
    int64_t took = mono_ms() - t0;
    assert_true(took >= NATTEL__FREE_WAIT_MS - 100);
    assert_true(took < NATTEL__FREE_WAIT_MS + 3000);
    assert_int_equal(nattel__spool_count(dir), 2);
    listener_stop(&l);
}

/* Spawn mode from a host whose consent comes from its own options (here
 * an envp, not the process environment): the detached flusher sees the
 * host's decision and delivers. */
static void test_spawned_flusher_delivers(void **state)
{
    (void)state;
    unsetenv("NAT_TELEMETRY_ENABLED");
    listener l;
    listener_start(&l, 0);
    char *base = tu_tmpdir("client-spawn");
    char dir[1024], consent[1024], url[128];
    snprintf(dir, sizeof dir, "%s/state", base);
    snprintf(consent, sizeof consent, "%s/none.toml", base);
    free(base);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1.1/events/json", l.port);
    char *env[] = {"NAT_TELEMETRY_ENABLED=1", NULL};
    nattel_options *o = options(env, dir, url);
    nattel_error err;
    assert_int_equal(nattel_options_set_consent_file(o, consent, &err), 0);
    nattel_options_set_delivery_mode(o, NATTEL_DELIVERY_SPAWN);
    assert_non_null(nattel__flusher_path(o));
    nattel_client *c = nattel_client_new(o, &err);
    assert_non_null(c);
    assert_int_equal(nattel_client_emit(c, tu_event("run"), &err), 0);
    nattel_client_free(c);
    /* A bounded wait for another process, not a timing assertion. */
    nattel__state s = {0};
    for (int i = 0; i < 600 && s.sent < 1; i++) {
        usleep(100 * 1000);
        nattel__state_read(dir, &s);
    }
    assert_int_equal(s.sent, 1);
    assert_int_equal(nattel__spool_count(dir), 0);
    /* The flusher lingers a moment; wait for it to let go of the lock. */
    for (int i = 0; i < 600 && nattel__flusher_running(dir); i++)
        usleep(100 * 1000);
    listener_stop(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_rules),
        cmocka_unit_test(test_state_dir_only_reads_consent_file),
        cmocka_unit_test(test_off_touches_nothing),
        cmocka_unit_test(test_transport_hooks),
        cmocka_unit_test(test_in_process),
        cmocka_unit_test(test_in_process_deadline),
        cmocka_unit_test(test_fork_and_free_in_flight),
        cmocka_unit_test(test_spawned_flusher_delivers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
