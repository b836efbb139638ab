/*
 * nattel telemetry: configuration, consent, session ids and the delivery
 * hand-off point. NAT-compatible: the same environment variables and the
 * same consent file as the Python `nat` CLI, so one decision serves both.
 *
 * Conventions are those of <nattel/nattel.h>: functions that can fail
 * return a nattel_code and fill a non-NULL `nattel_error *`.
 *
 * Nothing here reads the environment behind the caller's back: the
 * environment is read once, by nattel_config_from_env(), into a
 * nattel_config value that every other function is handed.
 */
#ifndef NATTEL_TELEMETRY_H
#define NATTEL_TELEMETRY_H

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
/* The prompt text version recorded with a decision (upstream PROMPT_VERSION).
 */
#define NATTEL_PROMPT_VERSION "1.0"
/* Random hex digits of a session id, after NAT_SESSION_PREFIX. */
#define NATTEL_SESSION_HEX_LEN 32

/* ------------------------------------------------------------------ */
/* Configuration                                                       */
/* ------------------------------------------------------------------ */

/* Looks up one environment variable; NULL when unset. */
typedef const char *(*nattel_getenv_fn)(void *ctx, const char *name);

/* A nattel_getenv_fn over an `envp` array ("NAME=value" strings, NULL
 * terminated), passed as ctx: lets tests and hosts supply an environment
 * without touching the process's own. */
const char *nattel_envp_lookup(void *envp, const char *name);

typedef enum nattel_prompt_mode {
    /* Ask when stdin, stdout and stderr are all terminals (upstream). */
    NATTEL_PROMPT_IF_TERMINAL = 0,
    /* Never ask (status queries, libraries that must not block). */
    NATTEL_PROMPT_NEVER = 1
} nattel_prompt_mode;

typedef struct nattel_config {
    /* NAT_TELEMETRY_ENABLED: -1 unset (default); 1 when "1", "true" or
     * "yes" (any case, trimmed); 0 for anything else, including "". Beats
     * the consent file and the prompt. */
    int env_enabled;
    /* The raw NAT_TELEMETRY_ENABLED value (for messages); NULL when unset. */
    char *env_enabled_raw;
    /* DO_NOT_TRACK: 1 when set to anything but "", "0" or "false" (any
     * case, trimmed); default 0. Turns telemetry off, whatever else says. */
    int do_not_track;
    /* NAT_TELEMETRY_ENDPOINT, default NATTEL_DEFAULT_ENDPOINT. "" (set but
     * empty): build, send nothing. "stdout": one JSON line per payload on
     * standard error. Never NULL. */
    char *endpoint;
    /* NAT_TELEMETRY_DRY_RUN truthy ("1", "true", "yes"): build, send
     * nothing; default 0. */
    int dry_run;
    /* NAT_SESSION_PREFIX, prepended to every session id; default "" (an
     * empty value counts as unset). Never NULL. */
    char *session_prefix;
    /* NAT_TELEMETRY_CONSENT_FILE when non-empty, else
     * $HOME/.config/nat/telemetry.toml (the file the Python `nat` uses).
     * NULL only when no home directory is known. */
    char *consent_file;
    /* NATTEL_STATE_DIR when non-empty, else $XDG_STATE_HOME/nattel when
     * that is an absolute path, else $HOME/.local/state/nattel. Spool, audit
     * log, delivery state. NULL only when no home directory is known. */
    char *state_dir;
    /* NATTEL_DEBUG truthy: debug lines on log_fd; default 0. */
    int debug;
    /* Where debug lines and the stdout sink write; default 2 (stderr). */
    int log_fd;
    /* Whether consent resolution may show the first-run prompt; default
     * NATTEL_PROMPT_IF_TERMINAL. */
    nattel_prompt_mode prompt;
    /* The prompt reads its answer from prompt_in_fd (default 0) and writes
     * its text to prompt_out_fd (default 2). The terminal test always looks
     * at descriptors 0, 1 and 2. */
    int prompt_in_fd;
    int prompt_out_fd;
    /* The clock: Unix milliseconds. Default: CLOCK_REALTIME. */
    int64_t (*now_ms)(void *ctx);
    void *clock_ctx;
    /* Fills buf with n random bytes. Default: getrandom(2), falling back to
     * /dev/urandom. */
    nattel_code (*random_bytes)(void *ctx, void *buf, size_t n,
                                nattel_error *err);
    void *random_ctx;
} nattel_config;

/*
 * Reads every variable above once, through `getenv_fn(ctx, name)` (NULL:
 * the process environment), into *cfg. HOME and XDG_STATE_HOME are read the
 * same way; without HOME the password database names the home directory.
 * Always release with nattel_config_clear(), even after an error.
 */
nattel_code nattel_config_from_env(nattel_config *cfg,
                                   nattel_getenv_fn getenv_fn, void *ctx,
                                   nattel_error *err);
void nattel_config_clear(nattel_config *cfg);

/* True for "1", "true", "yes" (any case, surrounding whitespace ignored). */
int nattel_truthy(const char *value);

/* The clock and random source of the config. */
int64_t nattel_config_now_ms(const nattel_config *cfg);

/* ------------------------------------------------------------------ */
/* Session ids                                                         */
/* ------------------------------------------------------------------ */

/* NAT_SESSION_PREFIX followed by a UUID4 in hex, as upstream's
 * uuid.uuid4().hex: NATTEL_SESSION_HEX_LEN lowercase hex digits, 122 of
 * their bits random, the 13th digit `4` (version) and the 17th one of
 * `8`, `9`, `a`, `b` (variant). *out is malloc'd (caller frees). */
nattel_code nattel_session_id_new(const nattel_config *cfg, char **out,
                                  nattel_error *err);

/* ------------------------------------------------------------------ */
/* Consent                                                             */
/* ------------------------------------------------------------------ */

typedef enum nattel_consent_state {
    NATTEL_CONSENT_NEVER_ASKED = 0,
    NATTEL_CONSENT_ENABLED,
    NATTEL_CONSENT_DISABLED
} nattel_consent_state;

/* "never_asked", "enabled", "disabled" (the upstream ConsentState values).
 */
const char *nattel_consent_state_name(nattel_consent_state s);

/* What decided the effective state, in resolution order. */
typedef enum nattel_consent_source {
    NATTEL_SOURCE_DO_NOT_TRACK = 0, /* DO_NOT_TRACK: always off */
    NATTEL_SOURCE_ENV,              /* NAT_TELEMETRY_ENABLED */
    NATTEL_SOURCE_FILE,             /* the consent file */
    NATTEL_SOURCE_PROMPT,           /* the first-run prompt, just now */
    NATTEL_SOURCE_NOBODY            /* nobody could be asked: off */
} nattel_consent_source;

/* Stable token for machines: "do_not_track", "env", "file", "prompt",
 * "nobody". */
const char *nattel_consent_source_name(nattel_consent_source s);
/* Words for people, e.g. "the NAT_TELEMETRY_ENABLED environment variable".
 */
const char *nattel_consent_source_text(nattel_consent_source s);

/* What a consent file says, read by the upstream rules. */
typedef struct nattel_consent_file {
    /* Effective state: the written value under the current prompt_version;
     * "disabled" under a stale or missing one; NEVER_ASKED for a stale
     * "enabled", a missing or malformed file, or an unknown value;
     * DISABLED for a file over 1 MiB or too costly to read. */
    nattel_consent_state state;
    int exists;    /* the file could be opened */
    int malformed; /* not TOML, or not UTF-8 */
    int stale;     /* consent set, prompt_version not current */
    /* As written (empty when absent or not a string). */
    char consent[32];
    char prompt_version[32];
    char consented_at[32];
    /* Why the state is NEVER_ASKED, or why a stale value was kept; "" when
     * the file says a current decision. */
    char note[NATTEL_ERROR_MAX];
} nattel_consent_file;

/* Reads `path` by the rules above. Never fails: a file that cannot be read
 * or parsed reads as NEVER_ASKED, with the reason in out->note. A file is
 * read whole up to 1 MiB (one fstat, one read; the TOML reader is linear
 * and its memory bounded). A larger file, or one too costly to read (see
 * src/nattel_toml.h), reads as DISABLED: it may say "disabled", so it is
 * never prompted over and never rewritten by the prompt.
 */
void nattel_consent_file_read(const char *path, nattel_consent_file *out);

/* Writes a decision (ENABLED or DISABLED) in the upstream layout, with
 * consented_at = `now_ms` and the current prompt_version: temporary file in
 * the same directory, fsync, rename, 0600; missing directories are created
 * 0700. NATTEL_EIO says which system call failed on which path. */
nattel_code nattel_consent_file_write(const char *path,
                                      nattel_consent_state state,
                                      int64_t now_ms, nattel_error *err);

/* Writes the decision to cfg->consent_file, then reads it back:
 * NATTEL_EIO when the file does not then say `state` under the current
 * prompt_version (the decision did not land). */
nattel_code nattel_consent_set(const nattel_config *cfg,
                               nattel_consent_state state, nattel_error *err);

/*
 * The effective decision: DO_NOT_TRACK (off), NAT_TELEMETRY_ENABLED, the
 * consent file, the first-run prompt (when cfg->prompt allows and stdin,
 * stdout and stderr are terminals; the answer is persisted and used at
 * once; see nattel_prompt_ask for its signal and thread rules), else off
 * because nobody can be asked. *state is ENABLED or
 * DISABLED. Returns NATTEL_OK, or NATTEL_EIO when a prompt answer could not
 * be persisted: *state and *source are set even then.
 */
nattel_code nattel_consent_resolve(const nattel_config *cfg,
                                   nattel_consent_state *state,
                                   nattel_consent_source *source,
                                   nattel_error *err);

/* True when descriptors 0, 1 and 2 are all terminals. */
int nattel_prompt_possible(void);

/*
 * Shows the consent prompt on out_fd and reads one line from in_fd, one
 * byte at a time so nothing past the answer is consumed. Enter, "y" and
 * "yes" (any case, trimmed) are ENABLED; anything else, end of file and
 * Ctrl-C (SIGINT while waiting) are DISABLED. Does not persist.
 *
 * Signals and threads (this and nattel_consent_resolve, which calls it):
 *  - It is meant for the main thread, before the host starts threads (or
 *    with SIGINT blocked in every other thread). It is not reentrant: one
 *    prompt at a time per process.
 *  - While it waits it replaces the process-wide SIGINT disposition with
 *    its own handler and blocks SIGINT in the calling thread except inside
 *    the wait. A SIGINT delivered to another thread meanwhile runs that
 *    handler, not the host's, and does not end the wait.
 *  - A SIGINT that arrives during the prompt answers it ("no") and is
 *    consumed; it never reaches the host's handler.
 *  - On return the previous disposition (handler, flags, mask) and the
 *    calling thread's signal mask are restored exactly.
 *  - If SIGINT is blocked in the calling thread on entry, the prompt
 *    leaves it alone: no handler is installed, Ctrl-C does not interrupt
 *    the wait, and a pending SIGINT stays pending for the host.
 */
nattel_consent_state nattel_prompt_ask(int in_fd, int out_fd);

/* The prompt's text: what is collected, what is not, how to change it. */
const char *nattel_prompt_text(void);

/* ------------------------------------------------------------------ */
/* Delivery hand-off                                                   */
/* ------------------------------------------------------------------ */

typedef enum nattel_sink_kind {
    NATTEL_SINK_NONE = 0, /* endpoint "": build, send nothing */
    NATTEL_SINK_DRY_RUN,  /* NAT_TELEMETRY_DRY_RUN: build, send nothing */
    NATTEL_SINK_STDOUT,   /* endpoint "stdout": one line on log_fd */
    NATTEL_SINK_HTTP      /* http:// or https:// URL */
} nattel_sink_kind;

/* "none", "dry_run", "stdout", "http". */
const char *nattel_sink_kind_name(nattel_sink_kind k);

/* The sink a configuration selects; NATTEL_EINVAL for an endpoint that is
 * none of "", "stdout" or an http(s) URL. "stdout" wins over dry run (as
 * upstream, the line is written under dry run too); dry run wins over an
 * http(s) endpoint. NATTEL_SINK_HTTP means: spooled, then delivered by
 * the flusher (see <nattel/client.h>). */
nattel_code nattel_config_sink(const nattel_config *cfg, nattel_sink_kind *out,
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
 * section 2) -- with a debug line saying why (not the value) on cfg's log;
 * a NULL cfg reads NATTEL_DEBUG from the environment. */
const char *nattel_error_class_sanitize(const nattel_config *cfg,
                                        const char *s);

/*
 * One-shot convenience over the client of <nattel/client.h>: a client made
 * from `cfg` (delivery mode NATTEL_DELIVERY_SPAWN) resolves consent
 * (prompting as cfg allows) and, when enabled, puts `ev` in an envelope of
 * a new session (client version `client_ver`, NULL: "unknown"), stamped
 * with cfg's clock, and hands the payload to the sink cfg selects (for an
 * http(s) endpoint: the spool in cfg->state_dir, then a detached flusher).
 * Always takes ownership of `ev`. *sent (may be NULL) is 1 when the payload
 * reached a transport, 0 when consent was off.
 */
nattel_code nattel_emit(const nattel_config *cfg, nattel_event *ev,
                        const char *client_ver, int *sent, nattel_error *err);

/* One debug line "nattel: debug: ..." on cfg->log_fd when cfg->debug. */
void nattel_debug(const nattel_config *cfg, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif
