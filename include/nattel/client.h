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
 * Conventions are those of <nattel/nattel.h>: a pointer argument must not
 * be NULL unless its comment says what NULL does; a `nattel_error *` may
 * always be NULL.
 *
 * Thread rules: an options object belongs to one thread until it is
 * handed to nattel_client_new(). A client may be used from several
 * threads: emit and consent serialize on the client's lock, so a
 * transport's send hook runs for one payload at a time; flush does not
 * take that lock (it may wait long), so a transport's flush hook may run
 * while its send hook runs on another thread (the built-in spool allows
 * it). nattel_client_free() only once every other call on the client has
 * returned. The tools' calls (nattel_delivery_status, nattel_flush_now,
 * nattel_audit_read) only read their options; processes and threads
 * share the state directory through its lock files. The first-run prompt may
 * run inside the first nattel_client_consent() or nattel_client_emit():
 * it takes over SIGINT while it waits (nattel_prompt_ask in consent.h),
 * so a host with threads resolves consent on its main thread before
 * starting them. nattel_options_from_env() reads the process environment:
 * not while another thread changes it (setenv, putenv); so do
 * nattel_client_new() and nattel_emit() when the options have no state
 * directory, and nattel_error_class_sanitize() with NULL options. The
 * client's own
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
 * `8`, `9`, `a`, `b` (variant). *out is malloc'd (caller frees). Errors:
 * the options' random source failed (NATTEL_EIO, or the hook's code),
 * NATTEL_ENOMEM; *out is then left as it was. */
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
 * leaves the machine. NULL and "" are NATTEL_EINVAL. The message says
 * which byte, never the value. */
nattel_code nattel_error_class_check(const char *s, nattel_error *err);

/* The errorClass to send: `s` when it is an identifier (or NULL), else
 * "undefined" -- the event is kept, the text is not (docs/design.md
 * section 2) -- with a debug line saying why (not the value) on the
 * options' log; NULL options read NATTEL_DEBUG from the environment.
 * Returns `s` itself (the caller's) or the static "undefined"; never
 * fails. */
const char *nattel_error_class_sanitize(const nattel_options *opts,
                                        const char *s);

/*
 * One-shot convenience over the client below: a client made from a copy
 * of `opts` (their delivery mode, NATTEL_DELIVERY_SPAWN by default)
 * resolves consent (prompting as the options allow) and, when enabled,
 * puts `ev` in an envelope of a new session (the options' client
 * version), stamped with their clock, and hands the payload to the sink
 * they select (for an http(s) endpoint: the spool in their state
 * directory, then a detached flusher). `opts` stay the caller's (must
 * not be NULL) and are only read; a transport set on them is not used
 * (the copy has none): the built-in one their endpoint selects is. Always
 * takes ownership of `ev`, whatever the outcome. *sent (may be NULL) is 1
 * when the payload reached a transport, else 0. Errors: those of
 * nattel_client_new() and nattel_client_emit(); when making the client
 * fails and `err` is NULL, the result is NATTEL_EIO whatever the cause.
 */
nattel_code nattel_emit(const nattel_options *opts, nattel_event *ev, int *sent,
                        nattel_error *err);

/* One debug line "nattel: debug: ..." on the options' log descriptor
 * when their debug setting is on (accepts NULL options: nothing), in one
 * write, cut to 1 KiB. Never fails (a failed write is ignored). */
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
 * swap it. Built-in transports (src/delivery/transports/): none (empty
 * endpoint, dry run), stdout (the log descriptor, standard error by
 * default) and the spool (the default for http(s) endpoints). The
 * flusher's libcurl sender is not a transport: it sends what the spool
 * holds.
 *
 * The caller owns a new transport until it hands it to
 * nattel_options_set_transport(); then the options, and the client made
 * from them, own it. `t` must not be NULL in the setters, which never
 * fail. The state is the host's: nattel never reads it, only passes it to
 * the hooks, and releases it only through the free hook.
 */
typedef struct nattel_transport nattel_transport;

/* Called by nattel_client_emit() with the client's lock held, once per
 * payload. The payload (`len` bytes) is borrowed for the call only: copy
 * what is to be kept. Its result is emit's result. */
typedef nattel_code (*nattel_transport_send_fn)(void *state,
                                                const char *payload, size_t len,
                                                nattel_error *err);

/* A transport whose send hook is `send` (must not be NULL). NULL when out
 * of memory. */
nattel_transport *nattel_transport_new(nattel_transport_send_fn send);
/* The state passed to every hook. Default NULL. */
void nattel_transport_set_state(nattel_transport *t, void *state);
/* Called once by nattel_client_new(); an error makes it return NULL (with
 * `err` as the hook filled it) and frees the transport without its
 * shutdown hook. */
void nattel_transport_set_startup(nattel_transport *t,
                                  nattel_code (*startup)(void *state,
                                                         nattel_error *err));
/* Called by nattel_client_flush() without the client's lock (see the
 * thread rules), with timeout_ms >= 0: waits at most that long for what
 * the transport holds. Its result is flush's result. Unset: flush
 * answers NATTEL_OK at once. */
void nattel_transport_set_flush(nattel_transport *t,
                                nattel_code (*flush)(void *state,
                                                     int64_t timeout_ms,
                                                     nattel_error *err));
/* Called once by nattel_client_free(), before free. */
void nattel_transport_set_shutdown(nattel_transport *t,
                                   void (*shutdown)(void *state));
/* Releases the state; called by nattel_transport_free(), even with a
 * NULL state. */
void nattel_transport_set_free(nattel_transport *t, void (*free_fn)(void *));
/* Runs the free hook (not the shutdown hook) and releases `t`. Passing
 * NULL returns at once with no action. */
void nattel_transport_free(nattel_transport *t);

/* Replaces the built-in transport the endpoint selects; the options take
 * ownership of `t` (NULL: back to the built-in one). A transport they
 * held before is freed (setting the same one again does nothing). The
 * next nattel_client_new() moves it into its client; nattel_emit() does
 * not use it. `opts` must not be NULL. Never fails. */
void nattel_options_set_transport(nattel_options *opts, nattel_transport *t);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

typedef struct nattel_client nattel_client;

/* A client; takes ownership of `opts` whatever the outcome (NULL `opts`:
 * NATTEL_EINVAL). Touches no network and writes nothing: consent is
 * resolved later. When the options have no state directory or no consent
 * file it reads the process environment for what is missing, as
 * nattel_options_from_env() would (so a host that set only its state
 * directory still honours the person's consent file), and the password
 * database when HOME is unset. NULL on error: NATTEL_EINVAL (that read found a
 * bad NATTEL_DELIVERY), NATTEL_ENOMEM, or a host transport's startup code. Free
 * it with nattel_client_free(). */
nattel_client *nattel_client_new(nattel_options *opts, nattel_error *err);

/*
 * The effective consent decision, resolved on the first call and cached
 * for the client's life. `allow_prompt` 0 never prompts even when the
 * options allow it (a host's own telemetry-configuration command).
 * `allow_prompt` counts only on the call that resolves (the first of this
 * and nattel_client_emit(), which allows the prompt). *state is
 * NATTEL_CONSENT_ENABLED or NATTEL_CONSENT_DISABLED; `c` and `state` must
 * not be NULL, `source` may be. Never fails: a prompt answer that could
 * not be saved still counts for this client.
 */
void nattel_client_consent(nattel_client *c, int allow_prompt,
                           nattel_consent_state *state,
                           nattel_consent_source *source);

/*
 * Hands one event to delivery; always takes ownership of `ev`. When
 * consent is off the event is dropped (NATTEL_OK, nothing touched). Else
 * the event is put in an envelope of this client's session and handed to
 * the transport: by default, spooled. Never waits on the network.
 * Errors (the event is then not spooled): no client or event
 * (NATTEL_EINVAL); the event breaks its type's rules (NATTEL_EINVAL); no
 * state directory known, a relative one, or one refused (a symlink,
 * another user's, not a directory: NATTEL_EINVAL); not writable, the
 * random source failed, the delivery thread could not start, or the
 * "stdout" write failed (NATTEL_EIO); a payload over a spool entry's
 * size, or a state directory path too long (NATTEL_ELIMIT);
 * NATTEL_ENOMEM; or a host transport's own code.
 */
nattel_code nattel_client_emit(nattel_client *c, nattel_event *ev,
                               nattel_error *err);

/*
 * Delivers what this client holds, waiting at most `timeout_ms` (0: do
 * not wait). In NATTEL_DELIVERY_IN_PROCESS mode this sends from the
 * spool, back-off or not; what is not sent in time stays spooled and the
 * result is NATTEL_ELIMIT. In the other modes the spool holds everything
 * already: NATTEL_OK at once. A transport's own flush hook, when set,
 * decides instead. NULL `c`: NATTEL_OK; a negative timeout counts as 0.
 */
nattel_code nattel_client_flush(nattel_client *c, int64_t timeout_ms,
                                nattel_error *err);

/* Stops background work and releases the client. Accepts NULL. In
 * NATTEL_DELIVERY_IN_PROCESS mode no new batch starts; a send in flight
 * is given up to 2 s to end (its answer settles the batch), then cut
 * short (libcurl's progress callback, checked at least once a second)
 * and its batch stays spooled, not counted as a failed attempt (sent
 * again later with the same Nattel-Event-Ids, so an endpoint that keeps
 * them stores it once). Runs the transport's shutdown hook, then its
 * free hook, and frees the options the client took.
 *
 * fork(): in a child forked after an in-process client started its
 * thread, the client has no thread: nattel_client_emit spools (nothing
 * delivers until a later process or `nattel flush`), nattel_client_flush
 * returns NATTEL_OK at once and nattel_client_free returns without
 * waiting (the parent's thread and its lock are left alone). The child
 * must not fork while another of its threads is inside a call on the
 * same client (its lock would be held forever in the child). */
void nattel_client_free(nattel_client *c);

/* ------------------------------------------------------------------ */
/* Delivery state, for tools                                           */
/* ------------------------------------------------------------------ */

/* Makes the machine policy's endpoint (see nattel_consent_policy_read)
 * the options' endpoint when the policy names one, as nattel_client_new()
 * and the flusher do: the organisation's ingest beats
 * NAT_TELEMETRY_ENDPOINT, whatever that says (empty, another URL, or
 * invalid). A tool calls it after nattel_options_from_env() so that the
 * sink it shows and the flush it runs are the ones a host's client would
 * use. NATTEL_OK and no change when no policy names an endpoint or none
 * can be read; NATTEL_ENOMEM. `opts` must not be NULL; `err` may be.
 * Reads the policy file(s): for tools and setup, not a host's hot path.
 * Thread-safe for distinct options. */
nattel_code nattel_options_apply_policy_endpoint(nattel_options *opts,
                                                 nattel_error *err);

/*
 * What a host's delivery left in the state directory, for tools that show
 * or drive it (`nattel status`, `nattel flush`, `nattel log`). These
 * calls use the options' state directory, endpoint, consent inputs and
 * clock; none of them prompts or creates the state directory (they do
 * tighten a state directory looser than 0700, as every use does).
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
 * `opts` and `out` must not be NULL.
 */
nattel_code nattel_delivery_status(const nattel_options *opts,
                                   nattel_delivery_info **out,
                                   nattel_error *err);
/* Passing NULL returns at once with no action. */
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
 * (0: no answer); how many events it carried. The time lives as long as
 * the info; the outcome is a static string. */
const char *nattel_delivery_last_ts(const nattel_delivery_info *info);
const char *nattel_delivery_last_outcome(const nattel_delivery_info *info);
int nattel_delivery_last_http_status(const nattel_delivery_info *info);
int64_t nattel_delivery_last_events(const nattel_delivery_info *info);

/* Why the counters cannot be trusted, for people, or NULL when they can:
 * STATE/state.json is there but unusable (not a regular file, unreadable,
 * not JSON; the counters then read 0 and the next delivery sets it aside
 * as STATE/state.json.bad and starts again), or such a file was set aside
 * earlier. Lives as long as the info. */
const char *nattel_delivery_state_note(const nattel_delivery_info *info);
/* Entries in STATE/spool or STATE/claims that are not regular files (a
 * FIFO, directory, socket, device or symlink planted there): no flusher
 * sends them; the next flusher removes them, or sets a directory aside
 * as spool/.odd-NAME, counting each once as dropped. */
size_t nattel_delivery_unusable_entries(const nattel_delivery_info *info);
/* Events a host could not spool because the disk was full, marked in
 * STATE/lost and not yet counted: the next flusher adds them to
 * `dropped`. */
size_t nattel_delivery_lost_uncounted(const nattel_delivery_info *info);

/*
 * Whether delivery to an http(s) endpoint can work from here, as far as
 * a look without sending can tell: the endpoint is valid
 * (nattel_options_sink's error when not), and when it is http(s), the
 * flusher program of NATTEL_DELIVERY_SPAWN is found and can be run
 * (NATTEL_ENOTFOUND: none found, or the path does not exist;
 * NATTEL_EIO: not a regular file or not executable), and libcurl can be
 * loaded the way the sender loads it (NATTEL_EIO). The first problem
 * found is returned, its message saying what, where and how to fix it.
 * NATTEL_OK for a sink that sends nothing over the network. Consent,
 * the state directory and the server are not looked at. Loads and
 * unloads libcurl, so it is for tools (`nattel status`), not for a
 * host's path. `opts` must not be NULL; `err` may be. Thread-safe.
 */
nattel_code nattel_delivery_can_send(const nattel_options *opts,
                                     nattel_error *err);

/* nattel_flush_now() flags (bits). */
/* Wait up to 120 s, not 5 s, for a running flusher. */
#define NATTEL_FLUSH_FLAG_WAIT 1u
/* Run as the detached flusher a host starts (the nattel-flusher program
 * does exactly this): give up at once when another flusher holds the
 * lock, keep to the back-off after a failed batch, and watch an empty
 * spool for 2 s for newcomers before returning. Beats
 * NATTEL_FLUSH_FLAG_WAIT. */
#define NATTEL_FLUSH_FLAG_DETACHED 2u

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
    /* Spool entries that were neither regular files nor symlinks (a FIFO,
     * socket, device: removed; a directory: set aside as spool/.odd-NAME),
     * each counted once in `dropped`. */
    int64_t odd;
    /* Telemetry was found off before a batch (revoked while this flush
     * ran): sending stopped there; what is left stays spooled. */
    int consent_revoked;
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
 * lock, `busy` is set and nothing is sent. NATTEL_FLUSH_FLAG_DETACHED
 * runs as the detached flusher instead (see the flag). Never creates the state
 * directory: a missing one has nothing to send (NATTEL_OK). `out` is
 * filled whatever the result, `remaining` always; `opts` and `out` must
 * not be NULL and out->size must be set. A skip is not an error. Errors,
 * when a flusher runs: no state directory known, or it is refused
 * (NATTEL_EINVAL); it cannot be examined, or libcurl cannot be loaded
 * (NATTEL_EIO); out of memory (NATTEL_ENOMEM). A server that refuses or
 * does not answer is counted in `out`, not an error.
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
 * memory (NATTEL_ENOMEM; `out` may then hold part of the text). `opts`
 * and `out` must not be NULL.
 */
nattel_code nattel_audit_read(const nattel_options *opts, size_t n,
                              nattel_audit_format format, nattel_buf *out,
                              nattel_error *err);

#ifdef __cplusplus
}
#endif

#endif
