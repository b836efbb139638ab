/*
 * Starting the flusher from a host: fork and exec of a program (never
 * code running on in a forked copy of a possibly threaded host), in a new
 * session, stdio on /dev/null, no inherited descriptors, default signal
 * dispositions. The host reaps its one child at once and is left with no
 * zombie and no child to wait for.
 */
/* clone(2) */
#define _GNU_SOURCE
#include "config/nattel_options.h"
#include "delivery/nattel_flush_run.h"
#include "delivery/nattel_spawn.h"
#include "delivery/nattel_state.h"
#include "model/nattel_error.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef NATTEL_FLUSHER_INSTALL_PATH
#define NATTEL_FLUSHER_INSTALL_PATH ""
#endif
#ifndef NATTEL_FLUSHER_BUILD_PATH
#define NATTEL_FLUSHER_BUILD_PATH ""
#endif

/* The flusher beside the object that holds this code: dladdr names
 * libnattel.so.1 for a host linked to the shared library (PREFIX/lib) and
 * the program itself for the tool (PREFIX/bin), and both have the flusher
 * at ../libexec/nattel/ of their directory. So an installed tree that was
 * moved, or installed to another prefix than the one compiled in, still
 * finds its own flusher. Computed once: the path does not change. */
static char relative_path[4096];
static pthread_once_t relative_once = PTHREAD_ONCE_INIT;

static void find_relative(void)
{
    Dl_info info;
    if (!dladdr((void *)nattel__flusher_path, &info) || !info.dli_fname)
        return;
    const char *slash = strrchr(info.dli_fname, '/');
    if (!slash)
        return; /* a bare name: no directory to start from */
    int n = snprintf(relative_path, sizeof relative_path,
                     "%.*s/../libexec/nattel/nattel-flusher",
                     (int)(slash - info.dli_fname), info.dli_fname);
    if (n < 0 || (size_t)n >= sizeof relative_path)
        relative_path[0] = '\0';
}

const char *nattel__flusher_path(const nattel_options *o)
{
    if (o->flusher_path && *o->flusher_path)
        return o->flusher_path;
    pthread_once(&relative_once, find_relative);
    const char *const fixed[] = {relative_path, NATTEL_FLUSHER_INSTALL_PATH,
                                 NATTEL_FLUSHER_BUILD_PATH};
    for (size_t i = 0; i < 3; i++)
        if (*fixed[i] && access(fixed[i], X_OK) == 0)
            return fixed[i];
    return NULL;
}

/* What the new processes need, prepared by the host before they exist:
 * between their start and exec they call nothing that allocates. */
typedef struct launch {
    const char *path;
    char *const *argv;
    char *const *envp; /* the settings, handed on (never in argv) */
    char *stack;       /* the grandchild's stack (clone path) */
    size_t stack_size;
} launch;

/* The flusher's side of the exec: its own stdio, no inherited
 * descriptors, default signal dispositions, nothing blocked. */
static void exec_flusher(const launch *l)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        _exit(127);
    for (int i = 0; i < 3; i++)
        dup2(fd, i); /* dup2 clears O_CLOEXEC on 0, 1, 2 */
        /* The host's descriptors that lack O_CLOEXEC stay with the host. */
#if defined(SYS_close_range)
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
        for (int i = 3; i < 1024; i++)
            close(i);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(l->path, l->argv, l->envp);
    _exit(127);
}

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
/*
 * The fast path, the way glibc's posix_spawn works, twice: each step is a
 * clone(CLONE_VM | CLONE_VFORK) that shares the host's memory (no page
 * tables copied) and releases its parent as soon as its child has called
 * execve. The host waits only for two clones and an execve: no fork of
 * its memory, no wait for the flusher's dynamic loading.
 */
static int grandchild_main(void *arg)
{
    exec_flusher(arg);
    return 127;
}

static int middle_main(void *arg)
{
    const launch *l = arg;
    setsid();
    pid_t g = clone(grandchild_main, l->stack + l->stack_size,
                    CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    _exit(g < 0 ? 1 : 0);
}

static pid_t start(launch *l)
{
    enum { STACK = 64 * 1024 };
    char *stacks = malloc(2 * STACK);
    if (!stacks)
        return -1;
    l->stack = stacks + STACK;
    l->stack_size = STACK;
    /* The children run on the host's memory: no handler of the host may
     * run in them. Each resets dispositions before it unblocks. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int saved = errno;
    pid_t pid =
        clone(middle_main, stacks + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, l);
    int e = errno;
    errno = saved;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    /* CLONE_VFORK: the middle has exited (or its clone failed) by now, so
     * the stacks are free. */
    free(stacks);
    errno = e;
    return pid;
}
#else
/* fork, setsid, fork, exec: between fork and exec only async-signal-safe
 * calls, since the host may have threads. */
static pid_t start(launch *l)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (fork() != 0)
            _exit(0);
        exec_flusher(l);
    }
    return pid;
}
#endif

/* The flusher ends up in its own session, a child of init (or the
 * nearest subreaper); the host reaps its one child, the middle process,
 * which exits at once: no zombie, no child left to the host. */
static nattel_code spawn(const nattel_options *o, const char *path,
                         nattel_error *err)
{
    /* The flusher re-checks consent as this host saw it: the host's own
     * settings, handed on in its environment (an endpoint may carry a
     * secret: argv is readable by every user in /proc/PID/cmdline). */
    nattel__handoff h;
    nattel_code rc = nattel__handoff_env(o, environ, &h, err);
    if (rc)
        return rc;
    char *argv[] = {(char *)path, "--detached", NULL};
    launch l = {.path = path, .argv = argv, .envp = h.envp};
    pid_t pid = start(&l);
    int e = errno;
    nattel__handoff_free(&h);
    if (pid < 0)
        return natx_fail(err, NATTEL_EIO, "flusher: start %s: %s", path,
                         strerror(e));
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return NATTEL_OK;
}

nattel_code nattel__maybe_spawn(const nattel_options *o, nattel_error *err)
{
    if (nattel__flusher_running(o->state_dir)) {
        nattel_debug(o, "a flusher is running: it will take the event");
        return NATTEL_OK;
    }
    if (nattel__backoff_pending(o)) {
        nattel_debug(o, "back-off pending: the event waits in the spool");
        return NATTEL_OK;
    }
    const char *path = nattel__flusher_path(o);
    if (!path)
        return natx_fail(err, NATTEL_ENOTFOUND,
                         "flusher: no nattel-flusher program found (set "
                         "NATTEL_FLUSHER); the event waits in the spool");
    nattel_debug(o, "starting flusher %s", path);
    return spawn(o, path, err);
}
