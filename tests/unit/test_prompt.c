/* The first-run prompt borrows SIGINT: whatever the host had (handler,
 * flags, handler mask, the thread's signal mask, a pending signal it
 * blocked) is exactly as before once the prompt returns. Real signals,
 * real pipes for the answer and the prompt text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <nattel/client.h>

#include "testutil.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t host_calls;

static void host_handler(int sig, siginfo_t *info, void *uctx)
{
    (void)sig;
    (void)info;
    (void)uctx;
    host_calls++;
}

typedef struct saved {
    struct sigaction sa;
    sigset_t mask;
} saved;

/* Installs the host's SIGINT handler with flags and a handler mask the
 * prompt does not use, and blocks SIGUSR2 in this thread. */
static void install_host(saved *before)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = host_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    assert_int_equal(sigaction(SIGINT, &sa, NULL), 0);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr2, NULL), 0);
    assert_int_equal(sigaction(SIGINT, NULL, &before->sa), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before->mask), 0);
    host_calls = 0;
}

static void assert_same_mask(const sigset_t *a, const sigset_t *b)
{
    for (int s = 1; s < SIGRTMIN; s++)
        assert_int_equal(sigismember(a, s), sigismember(b, s));
}

static void assert_restored(const saved *before)
{
    struct sigaction now;
    sigset_t mask;
    assert_int_equal(sigaction(SIGINT, NULL, &now), 0);
    assert_ptr_equal((void *)now.sa_sigaction, (void *)before->sa.sa_sigaction);
    assert_int_equal(now.sa_flags & (SA_SIGINFO | SA_RESTART),
                     before->sa.sa_flags & (SA_SIGINFO | SA_RESTART));
    assert_true(sigismember(&now.sa_mask, SIGUSR1));
    assert_same_mask(&now.sa_mask, &before->sa.sa_mask);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
    assert_same_mask(&mask, &before->mask);
}

static void restore_defaults(void)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(SIGINT, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
}

static nattel_consent_state ask_with(const char *answer)
{
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    assert_int_equal(write(in[1], answer, strlen(answer)),
                     (ssize_t)strlen(answer));
    close(in[1]);
    nattel_consent_state st = nattel_prompt_ask(in[0], out[1]);
    close(in[0]);
    close(out[0]);
    close(out[1]);
    return st;
}

static void test_answer_restores_handler_and_mask(void **state)
{
    (void)state;
    saved before;
    install_host(&before);
    assert_int_equal(ask_with("y\n"), NATTEL_CONSENT_ENABLED);
    assert_restored(&before);
    assert_int_equal(ask_with("no\n"), NATTEL_CONSENT_DISABLED);
    assert_restored(&before);
    /* The host's handler is the one that runs now. */
    assert_int_equal(raise(SIGINT), 0);
    assert_int_equal(host_calls, 1);
    restore_defaults();
}

typedef struct interrupter {
    pthread_t target;
    int out_fd;
} interrupter;

/* Waits until the prompt is shown (its handler is in place by then), then
 * sends SIGINT to the prompting thread, as a Ctrl-C would. */
static void *interrupt_prompt(void *arg)
{
    interrupter *it = arg;
    static const char tail[] = "[Y/n]: ";
    char buf[4096];
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t r = read(it->out_fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        buf[n] = '\0';
        if (strstr(buf, tail))
            break;
    }
    pthread_kill(it->target, SIGINT);
    return NULL;
}

static void test_ctrl_c_is_no_and_never_reaches_host(void **state)
{
    (void)state;
    saved before;
    install_host(&before);
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    interrupter it = {pthread_self(), out[0]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_prompt, &it), 0);
    nattel_consent_state st = nattel_prompt_ask(in[0], out[1]);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(st, NATTEL_CONSENT_DISABLED);
    assert_int_equal(host_calls, 0);
    assert_restored(&before);
    sigset_t pending;
    assert_int_equal(sigpending(&pending), 0);
    assert_false(sigismember(&pending, SIGINT));
    for (int i = 0; i < 2; i++) {
        close(in[i]);
        close(out[i]);
    }
    restore_defaults();
}

/* A host that blocks SIGINT keeps it blocked, and keeps a pending one. */
static void test_blocked_sigint_stays_blocked_and_pending(void **state)
{
    (void)state;
    saved before;
    sigset_t sigint;
    sigemptyset(&sigint);
    sigaddset(&sigint, SIGINT);
    install_host(&before);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &sigint, &before.mask), 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before.mask), 0);
    assert_int_equal(pthread_kill(pthread_self(), SIGINT), 0);
    assert_int_equal(ask_with("y\n"), NATTEL_CONSENT_ENABLED);
    assert_restored(&before);
    sigset_t pending;
    assert_int_equal(sigpending(&pending), 0);
    assert_true(sigismember(&pending, SIGINT));
    assert_int_equal(host_calls, 0);
    const struct timespec zero = {0, 0};
    assert_int_equal(sigtimedwait(&sigint, NULL, &zero), SIGINT);
    restore_defaults();
}

/* An ignored SIGINT (a background job) is still ignored afterwards. */
static void test_ignored_sigint_stays_ignored(void **state)
{
    (void)state;
    struct sigaction ign, now;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    assert_int_equal(sigaction(SIGINT, &ign, NULL), 0);
    assert_int_equal(ask_with("\n"), NATTEL_CONSENT_ENABLED);
    assert_int_equal(sigaction(SIGINT, NULL, &now), 0);
    assert_true(now.sa_handler == SIG_IGN);
    restore_defaults();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_restores_handler_and_mask),
        cmocka_unit_test(test_ctrl_c_is_no_and_never_reaches_host),
        cmocka_unit_test(test_blocked_sigint_stays_blocked_and_pending),
        cmocka_unit_test(test_ignored_sigint_stays_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
