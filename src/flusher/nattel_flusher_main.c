/*
 * nattel-flusher: delivers the spool, detached from the host that started
 * it: one flusher run under the lock, then exit.
 *
 *   nattel-flusher [--foreground | --detached]
 *
 * Its settings come from its environment, read with the host's table of
 * settings (src/config/nattel_options.c): the host hands its options on
 * there, never in argv, where other users could read them. Run by hand,
 * it reads the NAT_* environment as any host does.
 *
 * Hosts start it --detached (already in its own session, stdio on
 * /dev/null). Run by hand without either flag, it forks into the
 * background itself; --foreground stays attached (debugging).
 *
 * Consent is checked again here (never prompting): spooled events are
 * only sent while telemetry is on.
 */
#include "config/nattel_options.h"

#include <nattel/client.h>
#include <nattel/consent.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#endif

/* Descriptors a host forgot to mark O_CLOEXEC are not ours to hold. */
static void close_inherited(void)
{
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        close((int)fd);
}

/* Only the mode flags: every setting is in the environment. */
static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--foreground") && strcmp(argv[i], "--detached"))
            return -1;
    return 0;
}

static nattel_options *load(void)
{
    nattel_options *o = nattel_options_new();
    nattel_error err;
    if (!o)
        return NULL;
    if (nattel__options_from_handoff(o, NULL, NULL, &err) ||
        !nattel_options_state_dir(o)) {
        nattel_options_free(o);
        return NULL;
    }
    return o;
}

/* One run as the detached flusher (consent decided again, never
 * prompting: spooled events are only sent while telemetry is on). */
static int run(const nattel_options *o)
{
    nattel_flush_result res = NATTEL_FLUSH_RESULT_INIT;
    nattel_error err;
    nattel_code rc =
        nattel_flush_now(o, NATTEL_FLUSH_FLAG_DETACHED, &res, &err);
    if (rc) {
        nattel_debug(o, "flusher: %s", err.message);
        return 1;
    }
    if (res.skipped == NATTEL_FLUSH_SKIP_CONSENT_OFF)
        nattel_debug(o, "flusher: telemetry is off (%s): nothing sent",
                     nattel_consent_source_text(res.consent_source));
    return 0;
}

int main(int argc, char **argv)
{
    int foreground = 0, detached = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--foreground"))
            foreground = 1;
        if (!strcmp(argv[i], "--detached"))
            detached = 1;
    }
    /* Started by hand: go to the background ourselves. A host's start
     * (--detached) already did, and did not wait for our loading. */
    if (!foreground && !detached) {
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid > 0)
            _exit(0);
        close_inherited();
        (void)setsid(); /* a no-op when the host already gave us one */
    }
    nattel_options *o = parse_args(argc, argv) ? NULL : load();
    if (!o) {
        fprintf(stderr, "usage: nattel-flusher [--foreground | --detached] "
                        "(settings in the environment; a state directory "
                        "is required)\n");
        return 2;
    }
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    int rc = run(o);
    nattel_options_free(o);
    return rc;
}
