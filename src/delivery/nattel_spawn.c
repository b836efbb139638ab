/*
 * Starting the flusher from a host: posix_spawn of a program (never code
 * running on in a forked copy of a possibly threaded host), in a new
 * session, stdio on /dev/null. The program forks itself into the
 * background at once and its first process exits, so the host reaps that
 * one child right away and is left with no zombie and no child to wait
 * for.
 */
/* posix_spawn_file_actions_addclosefrom_np and POSIX_SPAWN_SETSID. */
#define _GNU_SOURCE
#include "delivery/nattel_delivery.h"
#include "nattel_error.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#ifndef NATTEL_FLUSHER_INSTALL_PATH
#define NATTEL_FLUSHER_INSTALL_PATH ""
#endif
#ifndef NATTEL_FLUSHER_BUILD_PATH
#define NATTEL_FLUSHER_BUILD_PATH ""
#endif

const char *nattel__flusher_path(const nattel_options *o)
{
    if (o->flusher_path && *o->flusher_path)
        return o->flusher_path;
    static const char *const fixed[] = {NATTEL_FLUSHER_INSTALL_PATH,
                                        NATTEL_FLUSHER_BUILD_PATH};
    for (size_t i = 0; i < 2; i++)
        if (*fixed[i] && access(fixed[i], X_OK) == 0)
            return fixed[i];
    return NULL;
}

static int backoff_pending(const nattel_options *o)
{
    nattel__state st;
    nattel__state_read(o->state_dir, &st);
    int64_t now = nattel__now_real(o);
    return st.next_ms > now && st.next_ms - now <= NATTEL__RETRY_AFTER_CAP_MS +
                                                       NATTEL__BACKOFF_CAP_MS;
}

static nattel_code spawn(const nattel_options *o, const char *path,
                         nattel_error *err)
{
    char connect[24], total[24];
    snprintf(connect, sizeof connect, "%lld", (long long)o->connect_ms);
    snprintf(total, sizeof total, "%lld", (long long)o->total_ms);
    char *argv[] = {(char *)path, "--state-dir",
                    o->state_dir, "--endpoint",
                    o->endpoint,  "--connect-ms",
                    connect,      "--total-ms",
                    total,        o->debug ? "--debug" : NULL,
                    NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    for (int fd = 0; fd < 3; fd++)
        posix_spawn_file_actions_addopen(&fa, fd, "/dev/null",
                                         fd ? O_WRONLY : O_RDONLY, 0);
#if defined(__GLIBC__) &&                                                      \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    /* The host's descriptors that lack O_CLOEXEC stay with the host. */
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#ifdef POSIX_SPAWN_SETSID
    flags |= POSIX_SPAWN_SETSID;
#endif
    posix_spawnattr_setflags(&at, flags);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    pid_t pid;
    int e = posix_spawn(&pid, path, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (e)
        return nattel__fail(err, NATTEL_EIO, "flusher: spawn %s: %s", path,
                            strerror(e));
    /* The first process only forks and exits; reap it. */
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return NATTEL_OK;
}

nattel_code nattel__maybe_spawn(const nattel_options *o, nattel_error *err)
{
    nattel_config cfg;
    nattel__options_config(o, &cfg);
    if (nattel__flusher_running(o->state_dir)) {
        nattel_debug(&cfg, "a flusher is running: it will take the event");
        return NATTEL_OK;
    }
    if (backoff_pending(o)) {
        nattel_debug(&cfg, "back-off pending: the event waits in the spool");
        return NATTEL_OK;
    }
    const char *path = nattel__flusher_path(o);
    if (!path)
        return nattel__fail(err, NATTEL_ENOTFOUND,
                            "flusher: no nattel-flusher program found (set "
                            "NATTEL_FLUSHER); the event waits in the spool");
    nattel_debug(&cfg, "starting flusher %s", path);
    return spawn(o, path, err);
}
