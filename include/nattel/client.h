/*
 * nattel client: the library's face for hosts that send telemetry.
 *
 * Lifecycle (as sentry-native's options/init/flush/close and libcurl's
 * opaque handles):
 *
 *   nattel_options *o = nattel_options_new();
 *   nattel_options_from_env(o, NULL, NULL, &err);    // NAT_* variables
 *   nattel_options_set_client_version(o, "1.2.3", &err);
 *   nattel_client *c = nattel_client_new(o, &err);   // takes o
 *   nattel_client_emit(c, ev, &err);                 // takes ev
 *   nattel_client_flush(c, 200, &err);               // optional
 *   nattel_client_free(c);
 *
 * Options are opaque and set through functions, so adding one never
 * changes the ABI. Every option's default is stated beside its setter.
 * Setters copy their arguments and fail (NATTEL_EINVAL) only on a value
 * that breaks the rule they state.
 *
 * What the client promises its host (docs/design.md section 1, promises
 * 3, 4 and 5):
 *  - Consent first. Consent is resolved once per client, at the first
 *    nattel_client_consent() or nattel_client_emit(). When it is off,
 *    nothing past that decision happens: no payload is built, the state
 *    directory is neither created nor read, no flusher starts.
 *  - Never in the way. In the default mode, emit writes the event into
 *    the spool (a temporary file, then rename) and, when no flusher runs
 *    and no back-off is pending, starts a detached flusher process; it
 *    never waits on the network. The "stdout" endpoint is the only sink
 *    that writes synchronously (to the log descriptor, standard error).
 *  - Never loses an event: what is spooled stays until it is delivered,
 *    rejected by the server, or dropped by a documented bound; every drop
 *    is counted and recorded in the audit log.
 *
 * Thread rules: an options object belongs to one thread until it is
 * handed to nattel_client_new(). A client may be used from several
 * threads; emit and flush serialize internally. The first-run prompt may
 * run inside the first nattel_client_consent() or nattel_client_emit():
 * it takes over SIGINT while it waits (nattel_prompt_ask in telemetry.h),
 * so a host with threads resolves consent on its main thread before
 * starting them. nattel_options_from_env() reads the process environment:
 * not while another thread changes it (setenv, putenv). The client's own
 * delivery thread blocks every signal, so the host's signals go to the
 * host's threads. Library calls use reentrant system calls (getpwuid_r).
 */
#ifndef NATTEL_CLIENT_H
#define NATTEL_CLIENT_H

#include <nattel/nattel.h>
#include <nattel/telemetry.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

typedef struct nattel_options nattel_options;

/* Options at their defaults; reads no environment. NULL when out of
 * memory. */
nattel_options *nattel_options_new(void);
void nattel_options_free(nattel_options *opts);

/*
 * Reads the NAT-compatible environment (NAT_TELEMETRY_ENABLED,
 * DO_NOT_TRACK, NAT_TELEMETRY_ENDPOINT, NAT_TELEMETRY_DRY_RUN,
 * NAT_SESSION_PREFIX, NAT_TELEMETRY_CONSENT_FILE, NATTEL_STATE_DIR,
 * NATTEL_DEBUG, NATTEL_FLUSHER, HOME, XDG_STATE_HOME) through
 * `getenv_fn(ctx, name)` (NULL: the process environment) into `opts`,
 * replacing what those variables decide. Setters called afterwards win.
 * Also NATTEL_DELIVERY: "spawn", "in-process" or "spool-only" sets the
 * delivery mode (anything else is NATTEL_EINVAL; unset or empty keeps it).
 */
nattel_code nattel_options_from_env(nattel_options *opts,
                                    nattel_getenv_fn getenv_fn, void *ctx,
                                    nattel_error *err);

/* Where payloads go: an http(s) URL, "stdout" (one JSON line per payload
 * on the log descriptor) or "" (build, send nothing). Default
 * NATTEL_DEFAULT_ENDPOINT. Anything else is NATTEL_EINVAL. */
nattel_code nattel_options_set_endpoint(nattel_options *opts, const char *url,
                                        nattel_error *err);

/* Spool, audit log and delivery state. Default: $NATTEL_STATE_DIR, else
 * $XDG_STATE_HOME/nattel, else ~/.local/state/nattel. Must be absolute. */
nattel_code nattel_options_set_state_dir(nattel_options *opts, const char *dir,
                                         nattel_error *err);

/* The consent file. Default ~/.config/nat/telemetry.toml. */
nattel_code nattel_options_set_consent_file(nattel_options *opts,
                                            const char *path,
                                            nattel_error *err);

/* Sent as clientVer and productVersion's source. Default "unknown". */
nattel_code nattel_options_set_client_version(nattel_options *opts,
                                              const char *version,
                                              nattel_error *err);

/* Whether consent resolution may show the first-run prompt. Default
 * NATTEL_PROMPT_IF_TERMINAL. */
void nattel_options_set_prompt(nattel_options *opts, nattel_prompt_mode mode);

/* Build and record payloads, send nothing (NAT_TELEMETRY_DRY_RUN).
 * Default 0. */
void nattel_options_set_dry_run(nattel_options *opts, int on);

/* Debug lines ("nattel: debug: ...") on the log descriptor. Default 0
 * (NATTEL_DEBUG). */
void nattel_options_set_debug(nattel_options *opts, int on);

/* Where debug lines and the "stdout" sink write. Default 2. */
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

/* The flusher program started in NATTEL_DELIVERY_SPAWN mode. Default:
 * $NATTEL_FLUSHER (read by nattel_options_from_env), else the path fixed
 * at install time (LIBEXECDIR/nattel/nattel-flusher) when executable,
 * else the one in the build tree. When none is found, or it cannot be
 * started, the event stays spooled (a debug line says why) and emit still
 * succeeds. */
nattel_code nattel_options_set_flusher_path(nattel_options *opts,
                                            const char *path,
                                            nattel_error *err);

/* Test and host seams. The real-time clock (Unix ms) stamps events; the
 * monotonic clock (ms from any origin) measures durations and back-off.
 * Defaults: CLOCK_REALTIME and CLOCK_MONOTONIC. NULL restores a default. */
void nattel_options_set_clock(nattel_options *opts,
                              int64_t (*realtime_ms)(void *ctx),
                              int64_t (*monotonic_ms)(void *ctx), void *ctx);

/* Fills buf with n random bytes (session ids, jitter). Default
 * getrandom(2). NULL restores the default. */
void nattel_options_set_random(nattel_options *opts,
                               nattel_code (*random_bytes)(void *ctx, void *buf,
                                                           size_t n,
                                                           nattel_error *err),
                               void *ctx);

/* ------------------------------------------------------------------ */
/* Transports                                                          */
/* ------------------------------------------------------------------ */

/*
 * A transport takes complete payloads (an envelope's JSON, no newline). It
 * is a small set of hooks around an opaque state, so tests and hosts can
 * swap it. Built-in transports: none, stdout (standard error), the spool
 * (the default for http(s) endpoints) and the libcurl sender the flusher
 * uses.
 */
typedef struct nattel_transport nattel_transport;

typedef nattel_code (*nattel_transport_send_fn)(void *state,
                                                const char *payload, size_t len,
                                                nattel_error *err);

/* A transport whose send hook is `send`. NULL when out of memory. */
nattel_transport *nattel_transport_new(nattel_transport_send_fn send);
void nattel_transport_set_state(nattel_transport *t, void *state);
/* Called once by nattel_client_new(). */
void nattel_transport_set_startup(nattel_transport *t,
                                  nattel_code (*startup)(void *state,
                                                         nattel_error *err));
/* Waits at most timeout_ms for what the transport holds. */
void nattel_transport_set_flush(nattel_transport *t,
                                nattel_code (*flush)(void *state,
                                                     int64_t timeout_ms,
                                                     nattel_error *err));
/* Called once by nattel_client_free(), before free. */
void nattel_transport_set_shutdown(nattel_transport *t,
                                   void (*shutdown)(void *state));
/* Releases the state. */
void nattel_transport_set_free(nattel_transport *t, void (*free_fn)(void *));
void nattel_transport_free(nattel_transport *t);

/* Replaces the built-in transport the endpoint selects; the options take
 * ownership of `t` (NULL: back to the built-in one). */
void nattel_options_set_transport(nattel_options *opts, nattel_transport *t);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct nattel_client nattel_client;

/* A client; takes ownership of `opts` whatever the outcome. Touches no
 * file and no network: consent is resolved later. NULL on error. */
nattel_client *nattel_client_new(nattel_options *opts, nattel_error *err);

/*
 * The effective consent decision, resolved on the first call and cached
 * for the client's life. `allow_prompt` 0 never prompts even when the
 * options allow it (a host's own telemetry-configuration command).
 * *state is NATTEL_CONSENT_ENABLED or NATTEL_CONSENT_DISABLED; `source`
 * may be NULL.
 */
void nattel_client_consent(nattel_client *c, int allow_prompt,
                           nattel_consent_state *state,
                           nattel_consent_source *source);

/*
 * Hands one event to delivery; always takes ownership of `ev`. When
 * consent is off the event is dropped (NATTEL_OK, nothing touched). Else
 * the event is put in an envelope of this client's session and handed to
 * the transport: by default, spooled. Never waits on the network.
 * Errors: the state directory refused (a symlink, another user's, not a
 * directory: NATTEL_EINVAL) or not writable (NATTEL_EIO).
 */
nattel_code nattel_client_emit(nattel_client *c, nattel_event *ev,
                               nattel_error *err);

/*
 * Delivers what this client holds, waiting at most `timeout_ms` (0: do
 * not wait). In NATTEL_DELIVERY_IN_PROCESS mode this sends from the
 * spool, back-off or not; what is not sent in time stays spooled and the
 * result is NATTEL_ELIMIT. In the other modes the spool holds everything
 * already: NATTEL_OK at once. A transport's own flush hook, when set,
 * decides instead.
 */
nattel_code nattel_client_flush(nattel_client *c, int64_t timeout_ms,
                                nattel_error *err);

/* Stops background work and releases the client. Accepts NULL. In
 * NATTEL_DELIVERY_IN_PROCESS mode a send in flight is cut short (libcurl's
 * progress callback, checked at least once a second) and its batch stays
 * spooled, not counted as a failed attempt. */
void nattel_client_free(nattel_client *c);

/* ------------------------------------------------------------------ */
/* Delivery state, for tools                                           */
/* ------------------------------------------------------------------ */

/*
 * What a host's delivery left in the state directory, for tools that show
 * or drive it (`nattel status`, `nattel flush`, `nattel log`). These
 * calls use the options' state directory, endpoint, consent inputs and
 * clock; none of them prompts or creates the state directory except
 * nattel_flush_now(), which delivers as a flusher does.
 */

/* The options' state directory (absolute), or NULL when none is known
 * (no HOME and no NATTEL_STATE_DIR). Valid until the options change. */
const char *nattel_options_state_dir(const nattel_options *opts);

/*
 * The delivery state: an opaque object read with getters, so a field can
 * be added without changing the ABI (as with nattel_options). Every
 * getter accepts NULL and then answers as for an empty state directory.
 */
typedef struct nattel_delivery_info nattel_delivery_info;

/*
 * Reads the delivery state of the options' state directory into a new
 * *out (free it with nattel_delivery_info_free). Reads only: a missing
 * state directory, or none known, is an empty state (NATTEL_OK, counts
 * 0). Errors: the directory is refused (a symlink, another user's, not a
 * directory, a relative path: NATTEL_EINVAL; NATTEL_EIO when it cannot
 * be examined), out of memory (NATTEL_ENOMEM); *out is NULL then.
 */
nattel_code nattel_delivery_status(const nattel_options *opts,
                                   nattel_delivery_info **out,
                                   nattel_error *err);
void nattel_delivery_info_free(nattel_delivery_info *info);

/* Events waiting in the spool now (including those a flusher is
 * sending). */
size_t nattel_delivery_spooled(const nattel_delivery_info *info);
/* Events ever sent (accepted by the server), ever dropped (never to be
 * delivered: bounds, retry limit, rejected), and of those dropped, ever
 * rejected by the server. Default 0. */
int64_t nattel_delivery_sent(const nattel_delivery_info *info);
int64_t nattel_delivery_dropped(const nattel_delivery_info *info);
int64_t nattel_delivery_rejected(const nattel_delivery_info *info);
/* Unix ms before which no flusher starts on its own (back-off after a
 * failed attempt), when that is later than the options' clock said at
 * nattel_delivery_status(); else 0. */
int64_t nattel_delivery_backoff_until(const nattel_delivery_info *info);

/* The last delivery attempt: its time ("YYYY-MM-DDTHH:MM:SS.mmmZ"), or
 * NULL when there was none (then the other three say 0 or NULL); its
 * outcome ("sent", "rejected", "dropped" or "deferred"); the HTTP status
 * (0: no answer); how many events it carried. Strings live as long as
 * the info. */
const char *nattel_delivery_last_ts(const nattel_delivery_info *info);
const char *nattel_delivery_last_outcome(const nattel_delivery_info *info);
int nattel_delivery_last_http_status(const nattel_delivery_info *info);
int64_t nattel_delivery_last_events(const nattel_delivery_info *info);

/* nattel_flush_now() flags. */
#define NATTEL_FLUSH_WAIT 1u /* wait up to 120 s, not 5 s, for a flusher */

/* Why nattel_flush_now() sent nothing. */
typedef enum nattel_flush_skip {
    NATTEL_FLUSH_RAN = 0,         /* it ran (see the counts) */
    NATTEL_FLUSH_CONSENT_OFF = 1, /* telemetry is off: consent_source says
                                     what decided it */
    NATTEL_FLUSH_NOT_HTTP = 2     /* the endpoint is not http(s), or dry run */
} nattel_flush_skip;

/*
 * What one nattel_flush_now() did. A plain struct, unlike the state
 * above: it is one call's answer, read at once. The caller sets `size` to
 * sizeof(nattel_flush_result) (NATTEL_FLUSH_RESULT_INIT does) and the
 * library writes only that much, so fields added later at the end keep
 * callers built against an older header working.
 */
typedef struct nattel_flush_result {
    size_t size;
    int64_t sent;     /* events accepted by the server */
    int64_t rejected; /* events the server refused */
    int64_t dropped;  /* events dropped here (bounds, retry limit,
                         unreadable), not counting the rejected ones */
    int64_t deferred; /* events kept for a later attempt */
    int64_t symlinks; /* spool entries refused and removed as symlinks */
    size_t remaining; /* events still spooled afterwards */
    int busy;         /* another flusher kept the lock for the whole wait */
    nattel_flush_skip skipped;
    nattel_consent_source consent_source;
} nattel_flush_result;

#define NATTEL_FLUSH_RESULT_INIT                                               \
    {                                                                          \
        .size = sizeof(nattel_flush_result)                                    \
    }

/*
 * Delivers the spool now, as `nattel flush` does: consent is resolved
 * from the options' inputs without a prompt, and only when it is on and
 * the endpoint is http(s) (not dry run) does a flusher run, in this
 * process, trying each batch once whatever the back-off says; an
 * endpoint that does not answer at all ends the run. A running flusher
 * is waited for up to 5 s (NATTEL_FLUSH_WAIT: 120 s); when it keeps the
 * lock, `busy` is set and nothing is sent. Creates the state directory
 * when it runs. `out` is filled whatever the result, `remaining` always.
 * Errors: the state directory is refused or cannot be created
 * (NATTEL_EINVAL, NATTEL_EIO), out of memory (NATTEL_ENOMEM).
 */
nattel_code nattel_flush_now(const nattel_options *opts, unsigned flags,
                             nattel_flush_result *out, nattel_error *err);

/* nattel_audit_read() formats. */
typedef enum nattel_audit_format {
    /* The records as stored: one JSON object per line with ts, outcome,
     * events, http_status (0: none), reason, endpoint and payload (the
     * envelope sent, or null). */
    NATTEL_AUDIT_JSON = 0,
    /* For people: per record one line (time, outcome, events, HTTP
     * status, reason) and, indented below it, the envelope as sent. */
    NATTEL_AUDIT_TEXT = 1
} nattel_audit_format;

/*
 * Appends the audit log of the options' state directory to `out`, oldest
 * record first: the last `n` records (0: all), including the previous
 * generation kept by rotation. A missing state directory or log is an
 * empty log (NATTEL_OK). Errors: no state directory known, or it is
 * refused (NATTEL_EINVAL); a log cannot be read (NATTEL_EIO); out of
 * memory (NATTEL_ENOMEM).
 */
nattel_code nattel_audit_read(const nattel_options *opts, size_t n,
                              nattel_audit_format format, nattel_buf *out,
                              nattel_error *err);

#ifdef __cplusplus
}
#endif

#endif
