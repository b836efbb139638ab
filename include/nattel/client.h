/*
 * nattel client: the library's face for hosts that send telemetry.
 *
 * Lifecycle (as sentry-native's options/init/flush/close and libcurl's
 * opaque handles):
 *
 *   nattel_options *o = nattel_options_new();          // <nattel/options.h>
 *   nattel_options_from_env(o, NULL, NULL, &err);    // NAT_* variables
 *   nattel_options_set_client_version(o, "1.2.3", &err);
 *   nattel_client *c = nattel_client_new(o, &err);   // takes o
 *   nattel_client_emit(c, ev, &err);                 // takes ev
 *   nattel_client_flush(c, 200, &err);               // optional
 *   nattel_client_free(c);
 *
 * The options (<nattel/options.h>) are the one configuration model;
 * consent (<nattel/consent.h>) is resolved from them.
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
 * it takes over SIGINT while it waits (nattel_prompt_ask in consent.h),
 * so a host with threads resolves consent on its main thread before
 * starting them. nattel_options_from_env() reads the process environment:
 * not while another thread changes it (setenv, putenv). The client's own
 * delivery thread blocks every signal, so the host's signals go to the
 * host's threads. Library calls use reentrant system calls (getpwuid_r).
 */
#ifndef NATTEL_CLIENT_H
#define NATTEL_CLIENT_H

#include <nattel/nattel.h>
#include <nattel/consent.h>
#include <nattel/options.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Random hex digits of a session id, after NAT_SESSION_PREFIX. */
#define NATTEL_SESSION_HEX_LEN 32

/* ------------------------------------------------------------------ */
/* Session ids                                                         */
/* ------------------------------------------------------------------ */

/* NAT_SESSION_PREFIX followed by a UUID4 in hex, as upstream's
 * uuid.uuid4().hex: NATTEL_SESSION_HEX_LEN lowercase hex digits, 122 of
 * their bits random, the 13th digit `4` (version) and the 17th one of
 * `8`, `9`, `a`, `b` (variant). *out is malloc'd (caller frees). */
nattel_code nattel_session_id_new(const nattel_options *opts, char **out,
                                  nattel_error *err);

/* ------------------------------------------------------------------ */
/* One event through consent and delivery                              */
/* ------------------------------------------------------------------ */

#define NATTEL_ERROR_CLASS_MAX 128

/* NATTEL_EINVAL unless `s` is an identifier as Python 3 allows it in a
 * (qualified) class name: names separated by single dots, each starting
 * with a letter or '_' and going on with letters, digits and '_'; at most
 * NATTEL_ERROR_CLASS_MAX bytes of valid UTF-8. Letters are the ASCII ones
 * and every code point from U+0080 up that is not in a list of control,
 * space, punctuation, symbol, private-use and emoji ranges (a practical
 * stand-in for Unicode's XID_Start; combining marks may only follow a
 * letter): `Ошибка`, `ÉrrorÇlass` and `模块.错误` pass; a space, a slash, a
 * colon or a quote never does, so nothing shaped like a message or a path
 * leaves the machine. The message says which byte, never the value. */
nattel_code nattel_error_class_check(const char *s, nattel_error *err);

/* The errorClass to send: `s` when it is an identifier (or NULL), else
 * "undefined" -- the event is kept, the text is not (docs/design.md
 * section 2) -- with a debug line saying why (not the value) on the
 * options' log; NULL options read NATTEL_DEBUG from the environment. */
const char *nattel_error_class_sanitize(const nattel_options *opts,
                                        const char *s);

/*
 * One-shot convenience over the client below: a client made from a copy
 * of `opts` (their delivery mode, NATTEL_DELIVERY_SPAWN by default)
 * resolves consent (prompting as the options allow) and, when enabled,
 * puts `ev` in an envelope of a new session (the options' client
 * version), stamped with their clock, and hands the payload to the sink
 * they select (for an http(s) endpoint: the spool in their state
 * directory, then a detached flusher). `opts` stay the caller's. Always
 * takes ownership of `ev`. *sent (may be NULL) is 1 when the payload
 * reached a transport, 0 when consent was off.
 */
nattel_code nattel_emit(const nattel_options *opts, nattel_event *ev, int *sent,
                        nattel_error *err);

/* One debug line "nattel: debug: ..." on the options' log descriptor
 * when their debug setting is on (accepts NULL: nothing). */
void nattel_debug(const nattel_options *opts, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

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

/* nattel_flush_now() flags (bits). */
/* Wait up to 120 s, not 5 s, for a running flusher. */
#define NATTEL_FLUSH_FLAG_WAIT 1u

/* Why nattel_flush_now() sent nothing. */
typedef enum nattel_flush_skip {
    NATTEL_FLUSH_SKIP_NONE = 0,        /* it ran (see the counts) */
    NATTEL_FLUSH_SKIP_CONSENT_OFF = 1, /* telemetry is off: consent_source
                                          says what decided it */
    NATTEL_FLUSH_SKIP_NOT_HTTP = 2 /* the endpoint is not http(s), or dry run */
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
 * is waited for up to 5 s (NATTEL_FLUSH_FLAG_WAIT: 120 s); when it keeps the
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
