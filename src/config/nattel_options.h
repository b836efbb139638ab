/*
 * The options of <nattel/options.h>, library-internal: the struct behind
 * the opaque type, the seams the rest of the library reads it by, and the
 * hand-off of the settings to a flusher process.
 */
#ifndef NATTEL_CONFIG_OPTIONS_H
#define NATTEL_CONFIG_OPTIONS_H

#include "model/nattel_error.h"

#include <nattel/client.h>
#include <nattel/options.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Options (the opaque struct of options.h)                            */
/* ------------------------------------------------------------------ */

/* The settings that come from the environment are listed once, in the
 * table of nattel_options.c, which reads, copies, frees and hands them
 * on; a new one is a field here and a row there. */
struct nattel_options {
    char *endpoint;     /* never NULL */
    char *state_dir;    /* NULL: none known */
    char *consent_file; /* NULL: none known */
    char *client_version;
    char *session_prefix; /* never NULL */
    char *flusher_path;
    char *policy_file;     /* NATTEL_POLICY_FILE; NULL: the machine's only */
    char *config_file;     /* nattel's own config.toml; NULL: none known */
    char *ci;              /* the CI variable found set, or NULL */
    int env_enabled;       /* -1 unset, 1 truthy, 0 anything else */
    char *env_enabled_raw; /* NAT_TELEMETRY_ENABLED as set, for messages */
    int do_not_track;
    nattel_prompt_mode prompt;
    int dry_run;
    int debug;
    int log_fd;
    int64_t connect_ms;
    int64_t total_ms;
    size_t max_events;
    size_t max_bytes;
    nattel_delivery_mode mode;
    int64_t (*realtime_ms)(void *ctx);
    int64_t (*monotonic_ms)(void *ctx);
    void *clock_ctx;
    nattel_code (*random_bytes)(void *ctx, void *buf, size_t n,
                                nattel_error *err);
    void *random_ctx;
    nattel_transport *transport;
    /* Not a setting from the environment: the host's, NULL for the
     * default (NATTEL_EVENT_SYS_VER). */
    char *event_sys_ver;
};

/* The options a client was made with (the hook's clock and debug). */
const nattel_options *nattel__client_options(const nattel_client *c);
/* A deep copy; NULL when out of memory. The transport is not copied. */
nattel_options *nattel__options_dup(const nattel_options *o);

/* The one clock and random seam: the options' hooks, else the system's
 * (natx_clock, natx_random). */
int64_t nattel__now_real(const nattel_options *o);
int64_t nattel__now_mono(const nattel_options *o);
nattel_code nattel__random(const nattel_options *o, void *buf, size_t n,
                           nattel_error *err);

/* True when `value`, trimmed of ASCII whitespace, equals `word` in any
 * case. */
int nattel__word_eq(const char *value, const char *word);

/* ------------------------------------------------------------------ */
/* Hand-off to the flusher                                             */
/* ------------------------------------------------------------------ */

/*
 * The settings reach a flusher process in its environment, never in its
 * argv (which other users can read in /proc/PID/cmdline, and an endpoint
 * URL may carry a secret): the host's environment without any variable
 * of the settings table, plus each setting under its variable. Settings
 * with no public variable travel under NATTEL_HANDOFF_* names that only
 * nattel__options_from_handoff() reads.
 */
typedef struct nattel__handoff {
    char **envp;  /* NULL-terminated, for execve */
    size_t owned; /* envp[0 .. owned) are this hand-off's own strings */
} nattel__handoff;

/* Builds the flusher's environment from `o` and `environ_` (prepared
 * before any process is started: nothing allocates after). */
nattel_code nattel__handoff_env(const nattel_options *o, char **environ_,
                                nattel__handoff *h, nattel_error *err);
void nattel__handoff_free(nattel__handoff *h);

/* nattel_options_from_env() that also reads the NATTEL_HANDOFF_*
 * settings: the flusher's side of the hand-off. */
nattel_code nattel__options_from_handoff(nattel_options *o,
                                         nattel_getenv_fn getenv_fn, void *ctx,
                                         nattel_error *err);

#endif
