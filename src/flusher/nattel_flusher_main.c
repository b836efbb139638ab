/*
 * nattel-flusher: delivers the spool, detached from the host that started
 * it: one flusher run under the lock, then exit.
 *
 *   nattel-flusher --state-dir DIR --endpoint URL [--connect-ms N]
 *                  [--total-ms N] [--consent-file PATH]
 *                  [--env-enabled VALUE|unset] [--do-not-track 0|1]
 *                  [--debug] [--foreground | --detached]
 *
 * Hosts start it --detached (already in its own session, stdio on
 * /dev/null). Run by hand without either flag, it forks into the
 * background itself; --foreground stays attached (debugging).
 *
 * Consent is checked again here (never prompting): spooled events are
 * only sent while telemetry is on.
 */
#include "config/nattel_options.h"
#include "delivery/nattel_delivery_limits.h"
#include "delivery/nattel_flush_run.h"

#include <nattel/client.h>

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

static int parse_ms(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, nattel_options *o, int *foreground)
{
    nattel_error err;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--foreground") || !strcmp(a, "--detached")) {
            *foreground = 1;
            continue;
        }
        if (!strcmp(a, "--debug")) {
            nattel_options_set_debug(o, 1);
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "--state-dir")) {
            if (nattel_options_set_state_dir(o, v, &err))
                return -1;
        } else if (!strcmp(a, "--endpoint")) {
            if (nattel_options_set_endpoint(o, v, &err))
                return -1;
        } else if (!strcmp(a, "--connect-ms")) {
            if (parse_ms(v, &o->connect_ms))
                return -1;
        } else if (!strcmp(a, "--total-ms")) {
            if (parse_ms(v, &o->total_ms))
                return -1;
        } else if (!strcmp(a, "--consent-file")) {
            if (nattel_options_set_consent_file(o, v, &err))
                return -1;
        } else if (!strcmp(a, "--env-enabled")) {
            /* The host's NAT_TELEMETRY_ENABLED, or "unset". */
            free(o->env_enabled_raw);
            o->env_enabled_raw = NULL;
            o->env_enabled = -1;
            if (strcmp(v, "unset")) {
                if (!(o->env_enabled_raw = strdup(v)))
                    return -1;
                o->env_enabled = nattel_truthy(v);
            }
        } else if (!strcmp(a, "--do-not-track")) {
            o->do_not_track = !strcmp(v, "1");
        } else {
            return -1;
        }
    }
    return o->state_dir ? 0 : -1;
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
    nattel_options *o = nattel_options_new();
    nattel_error err;
    if (!o || nattel_options_from_env(o, NULL, NULL, &err) ||
        parse_args(argc, argv, o, &foreground)) {
        fprintf(stderr,
                "usage: nattel-flusher --state-dir DIR --endpoint URL "
                "[--connect-ms N] [--total-ms N] [--consent-file PATH] "
                "[--env-enabled VALUE|unset] [--do-not-track 0|1] [--debug] "
                "[--foreground | --detached]\n");
        nattel_options_free(o);
        return 2;
    }
    nattel_options_set_prompt(o, NATTEL_PROMPT_NEVER);
    nattel_config cfg;
    nattel__options_config(o, &cfg);
    nattel_consent_state state;
    nattel_consent_source source;
    (void)nattel_consent_resolve(&cfg, &state, &source, NULL);
    int rc = 0;
    if (state == NATTEL_CONSENT_ENABLED) {
        nattel__flush_opts fo = {.ignore_backoff = 0,
                                 .lock_wait_ms = 0,
                                 .linger_ms = NATTEL__FLUSHER_LINGER_MS,
                                 .deadline_mono = -1};
        nattel__flush_stats st;
        if (nattel__flush_run(o, &fo, &st, &err)) {
            nattel_debug(&cfg, "flusher: %s", err.message);
            rc = 1;
        }
    } else {
        nattel_debug(&cfg, "flusher: telemetry is off (%s): nothing sent",
                     nattel_consent_source_text(source));
    }
    nattel_options_free(o);
    return rc;
}
