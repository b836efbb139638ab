/*
 * nattel options: the one configuration model. Everything a host, the
 * tool or the flusher decides about telemetry lives in one opaque
 * nattel_options, filled from the NAT-compatible environment
 * (nattel_options_from_env) and set through functions, so adding a
 * setting never changes the ABI (as sentry-native's sentry_options_t).
 *
 *   nattel_options *o = nattel_options_new();
 *   nattel_options_from_env(o, NULL, NULL, &err);    // NAT_* variables
 *   nattel_options_set_client_version(o, "1.2.3", &err);
 *
 * Conventions are those of <nattel/nattel.h>: functions that can fail
 * return a nattel_code and fill a non-NULL `nattel_error *` (NULL is
 * allowed everywhere). `opts` must not be NULL, except where a comment
 * says what NULL does (nattel_options_free, nattel_options_state_dir).
 * Setters copy their arguments and fail (NATTEL_EINVAL) only on a value
 * that breaks the rule they state, or NATTEL_ENOMEM; a failed setter
 * leaves the setting as it was. Every setting's default is stated beside
 * its setter. Getters return pointers owned by the options, valid until
 * that setting is set again, nattel_options_from_env() runs (it replaces
 * every string), or the options are freed or handed to
 * nattel_client_new().
 *
 * Thread rules: an options object belongs to one thread until it is
 * handed to nattel_client_new() (which takes it). Reading it from several
 * threads at once is safe (getters, nattel_emit, the tools' calls of
 * <nattel/client.h>); changing it is not. nattel_options_from_env()
 * with the process environment: not while another thread changes it
 * (setenv, putenv). Nothing here reads the environment behind the
 * caller's back: only nattel_options_from_env() does (but
 * nattel_client_new() does when the options have no state directory or no
 * consent file; see <nattel/client.h>). The clock and random hooks, and the log
 * descriptor, are used from whichever thread makes a call, including a client's
 * delivery thread in NATTEL_DELIVERY_IN_PROCESS mode: hooks given to such
 * a client must be safe to call from another thread.
 */
#ifndef NATTEL_OPTIONS_H
#define NATTEL_OPTIONS_H

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NATTEL_DEFAULT_ENDPOINT                                                \
    "https://events.telemetry.data.nvidia.com/v1.1/events/json"
/* The endpoint value that selects the standard-error sink. */
#define NATTEL_ENDPOINT_STDOUT "stdout"

/* ------------------------------------------------------------------ */
/* The environment                                                     */
/* ------------------------------------------------------------------ */

/* Looks up one environment variable; NULL when unset. The returned string
 * must stay valid until nattel_options_from_env() returns (it is copied,
 * never kept). */
typedef const char *(*nattel_getenv_fn)(void *ctx, const char *name);

/* A nattel_getenv_fn over an `envp` array ("NAME=value" strings, NULL
 * terminated), passed as ctx: lets tests and hosts supply an environment
 * without touching the process's own. NULL `envp`: every name is unset.
 * Returns a pointer into the array's string (it lives as long as that
 * string), or NULL. */
const char *nattel_envp_lookup(void *envp, const char *name);

/* True for "1", "true", "yes" (any case, surrounding whitespace ignored).
 * NULL is false. */
int nattel_truthy(const char *value);

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

typedef struct nattel_options nattel_options;

/* Options at their defaults; reads no environment. NULL when out of
 * memory. The caller owns them: nattel_options_free(), or hand them to
 * nattel_client_new(). */
nattel_options *nattel_options_new(void);
/* Also frees a transport set on them and never handed to a client (its
 * free hook runs; its shutdown hook does not). Passing NULL returns at
 * once with no action. */
void nattel_options_free(nattel_options *opts);

/*
 * Reads the NAT-compatible environment through `getenv_fn(ctx, name)`
 * (NULL: the process environment) into `opts`, replacing what those
 * variables decide; setters called afterwards win. An unset variable sets
 * its default, even over a value set before, except NATTEL_FLUSHER and
 * NATTEL_DELIVERY (and the two paths when no home directory is known),
 * which then keep what was set:
 *  - NAT_TELEMETRY_ENABLED: unset (default) leaves consent to the file;
 *    "1", "true" or "yes" (any case, trimmed) turns telemetry on,
 *    anything else (including "") off. Beats the consent file and the
 *    prompt.
 *  - DO_NOT_TRACK: set to anything but exactly "", "0" or "false" turns
 *    telemetry off, whatever else says.
 *  - NAT_TELEMETRY_ENDPOINT (see nattel_options_set_endpoint): unset
 *    keeps the default; set but empty means build, send nothing.
 *  - NAT_TELEMETRY_DRY_RUN, NATTEL_DEBUG: truthy turns them on.
 *  - NAT_SESSION_PREFIX (empty counts as unset).
 *  - NAT_TELEMETRY_CONSENT_FILE when non-empty, else
 *    $HOME/.config/nat/telemetry.toml (the file the Python `nat` uses).
 *  - NATTEL_STATE_DIR when non-empty, else $XDG_STATE_HOME/nattel when
 *    that is absolute, else $HOME/.local/state/nattel. Without HOME the
 *    password database names the home directory; with none known, both
 *    paths stay unset.
 *  - NATTEL_FLUSHER (non-empty): the flusher program.
 *  - NATTEL_DELIVERY: "spawn", "in-process" or "spool-only" sets the
 *    delivery mode (anything else is NATTEL_EINVAL; unset or empty keeps
 *    it).
 * Errors: NATTEL_EINVAL (NATTEL_DELIVERY), NATTEL_ENOMEM; `opts` are then
 * unchanged (the variables are read into a copy). A set transport, the
 * clock, random and log settings are kept. No value is checked here the
 * way its setter checks it: NATTEL_STATE_DIR may be relative and
 * NAT_TELEMETRY_ENDPOINT anything (each is refused when used).
 */
nattel_code nattel_options_from_env(nattel_options *opts,
                                    nattel_getenv_fn getenv_fn, void *ctx,
                                    nattel_error *err);

/* Where payloads go: an http(s) URL, "stdout" (one JSON line per payload
 * on the log descriptor) or "" (build, send nothing). Default
 * NATTEL_DEFAULT_ENDPOINT. Anything else, NULL included, is
 * NATTEL_EINVAL. */
nattel_code nattel_options_set_endpoint(nattel_options *opts, const char *url,
                                        nattel_error *err);
/* Never NULL. */
const char *nattel_options_endpoint(const nattel_options *opts);

/* Spool, audit log and delivery state. Default: none until
 * nattel_options_from_env() or nattel_client_new() fills it from
 * $NATTEL_STATE_DIR, else $XDG_STATE_HOME/nattel, else
 * ~/.local/state/nattel. Must be absolute (NULL or relative:
 * NATTEL_EINVAL). */
nattel_code nattel_options_set_state_dir(nattel_options *opts, const char *dir,
                                         nattel_error *err);
/* The state directory, or NULL when none is known (not set, not read
 * from the environment, or no HOME and no NATTEL_STATE_DIR). Absolute
 * when set here; taken as is from NATTEL_STATE_DIR. NULL `opts`: NULL. */
const char *nattel_options_state_dir(const nattel_options *opts);

/* The consent file. Default: none until nattel_options_from_env() fills
 * it (~/.config/nat/telemetry.toml), or nattel_client_new() does, which
 * it only does when the state directory is unset too. Without one,
 * consent reads as never asked and a prompt answer cannot be saved. NULL
 * or "" is NATTEL_EINVAL. */
nattel_code nattel_options_set_consent_file(nattel_options *opts,
                                            const char *path,
                                            nattel_error *err);
/* NULL when no home directory is known and none was set. */
const char *nattel_options_consent_file(const nattel_options *opts);

/* Sent as clientVer and productVersion's source. Default "unknown".
 * NULL or "" is NATTEL_EINVAL. */
nattel_code nattel_options_set_client_version(nattel_options *opts,
                                              const char *version,
                                              nattel_error *err);
/* Never NULL. */
const char *nattel_options_client_version(const nattel_options *opts);

/* The envelope's eventSysVer, for a product other than NAT sending
 * through this client. Default NATTEL_EVENT_SYS_VER
 * ("nat-telemetry/1.0"); not read from the environment. The string is
 * copied. NULL, "" or invalid UTF-8 is NATTEL_EINVAL and leaves the
 * option as it was; NATTEL_ENOMEM. The getter never returns NULL; the
 * string is the options' until the next set or the free. (productName
 * stays "undefined": the envelope schema fixes it, for privacy.) */
nattel_code nattel_options_set_event_sys_ver(nattel_options *opts,
                                             const char *event_sys_ver,
                                             nattel_error *err);
const char *nattel_options_event_sys_ver(const nattel_options *opts);

/* Prepended to every session id (NAT_SESSION_PREFIX). Default "". NULL
 * sets "". */
nattel_code nattel_options_set_session_prefix(nattel_options *opts,
                                              const char *prefix,
                                              nattel_error *err);
/* Never NULL. */
const char *nattel_options_session_prefix(const nattel_options *opts);

/* The consent inputs of the environment, as nattel_options_from_env read
 * them: NAT_TELEMETRY_ENABLED's verdict (-1 unset, 1 on, 0 off) and raw
 * value (NULL when unset), for messages; whether DO_NOT_TRACK is set. */
int nattel_options_env_enabled(const nattel_options *opts);
const char *nattel_options_env_enabled_raw(const nattel_options *opts);
int nattel_options_do_not_track(const nattel_options *opts);

/* The consent inputs nattel adds (docs/configuration.md), as
 * nattel_options_from_env read them; each NULL when unset or unknown:
 * NATTEL_POLICY_FILE (one more policy file, which can only restrict);
 * nattel's own config file (NATTEL_CONFIG_FILE, else
 * $XDG_CONFIG_HOME/nattel/config.toml when absolute, else
 * ~/.config/nattel/config.toml), which keeps the local-only choice; the
 * name of the first CI variable found set (CI, GITHUB_ACTIONS, ...:
 * never prompted, off without another decision). */
const char *nattel_options_policy_file(const nattel_options *opts);
const char *nattel_options_config_file(const nattel_options *opts);
const char *nattel_options_ci(const nattel_options *opts);

typedef enum nattel_prompt_mode {
    /* Ask when stdin, stdout and stderr are all terminals (upstream). */
    NATTEL_PROMPT_IF_TERMINAL = 0,
    /* Never ask (status queries, libraries that must not block). */
    NATTEL_PROMPT_NEVER = 1
} nattel_prompt_mode;

/* Whether consent resolution may show the first-run prompt. Default
 * NATTEL_PROMPT_IF_TERMINAL. Never fails (nor do the other setters below
 * that return void). */
void nattel_options_set_prompt(nattel_options *opts, nattel_prompt_mode mode);

/* Build and record payloads, send nothing (NAT_TELEMETRY_DRY_RUN).
 * Default 0. */
void nattel_options_set_dry_run(nattel_options *opts, int on);
int nattel_options_dry_run(const nattel_options *opts);

/* Debug lines ("nattel: debug: ...") on the log descriptor. Default 0
 * (NATTEL_DEBUG). */
void nattel_options_set_debug(nattel_options *opts, int on);

/* Where debug lines and the "stdout" sink write. Default 2. Borrowed:
 * never closed by nattel; keep it open while the options or a client made
 * from them are used. */
void nattel_options_set_log_fd(nattel_options *opts, int fd);

/* The sender's libcurl timeouts, in milliseconds. Defaults: connect 3000,
 * total 10000. Must be positive. */
nattel_code nattel_options_set_timeouts(nattel_options *opts,
                                        int64_t connect_ms, int64_t total_ms,
                                        nattel_error *err);

/* Spool bounds: past either, the oldest events are dropped first and
 * counted. Defaults: 1000 events, 4 MiB. Must be positive. */
nattel_code nattel_options_set_spool_limits(nattel_options *opts,
                                            size_t max_events, size_t max_bytes,
                                            nattel_error *err);

typedef enum nattel_delivery_mode {
    /* Spool, then start a detached flusher process (the default: short
     * lived command-line hosts). */
    NATTEL_DELIVERY_SPAWN = 0,
    /* Spool, and deliver from a background thread of this client (long
     * running hosts). nattel_client_flush() waits at most its timeout;
     * what is left stays in the spool for a later process. */
    NATTEL_DELIVERY_IN_PROCESS = 1,
    /* Spool only; something else (`nattel flush`) delivers. */
    NATTEL_DELIVERY_SPOOL_ONLY = 2
} nattel_delivery_mode;

/* Default NATTEL_DELIVERY_SPAWN. */
void nattel_options_set_delivery_mode(nattel_options *opts,
                                      nattel_delivery_mode mode);
nattel_delivery_mode nattel_options_delivery_mode(const nattel_options *opts);

/* The flusher program started in NATTEL_DELIVERY_SPAWN mode. Default:
 * $NATTEL_FLUSHER (read by nattel_options_from_env), else the path fixed
 * at install time (LIBEXECDIR/nattel/nattel-flusher) when executable,
 * else the one in the build tree. When none is found, or it cannot be
 * started, the event stays spooled (a debug line says why) and emit still
 * succeeds. NULL or "" is NATTEL_EINVAL. */
nattel_code nattel_options_set_flusher_path(nattel_options *opts,
                                            const char *path,
                                            nattel_error *err);

/* Test and host seams. The real-time clock (Unix ms) stamps events and
 * consent decisions; the monotonic clock (ms from any origin) measures
 * durations and back-off. Defaults: CLOCK_REALTIME and CLOCK_MONOTONIC.
 * NULL restores a default. `ctx` is borrowed: it must outlive the options,
 * their copies (nattel_emit) and any client made from them. */
void nattel_options_set_clock(nattel_options *opts,
                              int64_t (*realtime_ms)(void *ctx),
                              int64_t (*monotonic_ms)(void *ctx), void *ctx);
/* The real-time clock of the options, in Unix ms. */
int64_t nattel_options_now_ms(const nattel_options *opts);

/* Fills buf with n random bytes (session ids, spool names, jitter).
 * Default getrandom(2), falling back to /dev/urandom. NULL restores the
 * default. `ctx` is borrowed, as the clock's. A code the hook returns
 * fails the call that asked (nattel_client_emit, nattel_session_id_new). */
void nattel_options_set_random(nattel_options *opts,
                               nattel_code (*random_bytes)(void *ctx, void *buf,
                                                           size_t n,
                                                           nattel_error *err),
                               void *ctx);

/* ------------------------------------------------------------------ */
/* The sink rule                                                       */
/* ------------------------------------------------------------------ */

typedef enum nattel_sink_kind {
    NATTEL_SINK_NONE = 0, /* endpoint "": build, send nothing */
    NATTEL_SINK_DRY_RUN,  /* NAT_TELEMETRY_DRY_RUN: build, send nothing */
    NATTEL_SINK_STDOUT,   /* endpoint "stdout": one line on log_fd */
    NATTEL_SINK_HTTP      /* http:// or https:// URL */
} nattel_sink_kind;

/* "none", "dry_run", "stdout", "http": a static string, never NULL
 * ("none" for a value outside the enum). */
const char *nattel_sink_kind_name(nattel_sink_kind k);

/* The sink the options select: the one rule every part of nattel asks.
 * NATTEL_EINVAL for an endpoint that is none of "", "stdout" or an
 * http(s) URL. "stdout" wins over dry run (as upstream, the line is
 * written under dry run too); dry run wins over an http(s) endpoint.
 * NATTEL_SINK_HTTP means: spooled, then delivered by the flusher (see
 * <nattel/client.h>). `out` must not be NULL; it is left unchanged on
 * error. */
nattel_code nattel_options_sink(const nattel_options *opts,
                                nattel_sink_kind *out, nattel_error *err);

#ifdef __cplusplus
}
#endif

#endif
