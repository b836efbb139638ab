/*
 * nattel consent: the decision whether telemetry is on, NAT-compatible:
 * the same environment variables and the same consent file as the Python
 * `nat` CLI, so one decision serves both. The inputs come from
 * <nattel/options.h>; conventions are those of <nattel/nattel.h> (a
 * pointer argument must not be NULL unless its comment says what NULL
 * does; a `nattel_error *` may be NULL). Every string returned here is
 * static: it lives for the whole process.
 *
 * Thread rules: the name and text functions and nattel_consent_file_read
 * may run on any thread at any time. The writers replace the file by a
 * rename, so concurrent writers (this process, another one, the Python
 * `nat`) never leave half a file: the last rename wins.
 * nattel_prompt_ask, and nattel_consent_resolve when it may prompt,
 * change the process-wide SIGINT disposition while they wait: call them
 * on the main thread before the host starts threads (the rules are at
 * nattel_prompt_ask). With NATTEL_PROMPT_NEVER, or when a decision is
 * already known, nattel_consent_resolve touches no signal and may run on
 * any thread (it reads the options and the consent file, nothing more).
 */
#ifndef NATTEL_CONSENT_H
#define NATTEL_CONSENT_H

#include <nattel/nattel.h>
#include <nattel/options.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The prompt text version recorded with a decision (upstream PROMPT_VERSION).
 */
#define NATTEL_PROMPT_VERSION "1.0"

typedef enum nattel_consent_state {
    NATTEL_CONSENT_NEVER_ASKED = 0,
    NATTEL_CONSENT_ENABLED,
    NATTEL_CONSENT_DISABLED,
    /* nattel's own local-only mode (1.x, appended): events are built and
     * kept on this machine (STATE/local/), never sent. Never written to
     * the shared consent file, which says "disabled" meanwhile; a caller
     * that tests `== NATTEL_CONSENT_ENABLED` rightly sends nothing. */
    NATTEL_CONSENT_LOCAL
} nattel_consent_state;

/* "never_asked", "enabled", "disabled" (the upstream ConsentState values),
 * "local"; "never_asked" for a value outside the enum. Never NULL.
 */
const char *nattel_consent_state_name(nattel_consent_state s);

/* What decided the effective state, in resolution order. */
typedef enum nattel_consent_source {
    NATTEL_CONSENT_SOURCE_DO_NOT_TRACK = 0, /* DO_NOT_TRACK: always off */
    NATTEL_CONSENT_SOURCE_ENV,              /* NAT_TELEMETRY_ENABLED */
    NATTEL_CONSENT_SOURCE_FILE,             /* the consent file */
    NATTEL_CONSENT_SOURCE_PROMPT,           /* the first-run prompt, just now */
    NATTEL_CONSENT_SOURCE_NOBODY,           /* nobody could be asked: off */
    /* Appended in 1.x (the enum is public: new sources go at the end). */
    /* A machine policy (SYSCONFDIR/nattel/policy.toml or
     * NATTEL_POLICY_FILE): "off" (or a policy that cannot be read), or
     * "local" capping an "enabled" at local. It beats everything. */
    NATTEL_CONSENT_SOURCE_POLICY,
    /* nattel's own local-only choice (`nattel consent --local`, kept in
     * nattel's config.toml) while the shared file still says the
     * "disabled" nattel wrote beside it. */
    NATTEL_CONSENT_SOURCE_LOCAL_CHOICE,
    /* A CI variable is set and nothing else decided: never asked, off. */
    NATTEL_CONSENT_SOURCE_CI
} nattel_consent_source;

/* Stable token for machines: "do_not_track", "env", "file", "prompt",
 * "nobody" (also for a value outside the enum), "policy",
 * "local_choice", "ci". Never NULL. */
const char *nattel_consent_source_name(nattel_consent_source s);
/* Words for people, e.g. "the NAT_TELEMETRY_ENABLED environment variable".
 * Never NULL; a value outside the enum reads as NOBODY's text.
 */
const char *nattel_consent_source_text(nattel_consent_source s);

/* What a consent file says, read by the upstream rules. Size-versioned,
 * as nattel_flush_result: the caller sets `size` to
 * sizeof(nattel_consent_file) (NATTEL_CONSENT_FILE_INIT does) and the
 * library writes no more than that, so members added later at the end
 * keep callers built against an older header working. */
typedef struct nattel_consent_file {
    size_t size;
    /* Effective state: the written value under the current prompt_version;
     * "disabled" under a stale or missing one; NEVER_ASKED for a stale
     * "enabled", a missing or malformed file, or an unknown value;
     * DISABLED for a file over 1 MiB or too costly to read, and for one
     * that exists but cannot be read (`unreadable`). */
    nattel_consent_state state;
    int exists;    /* the file could be opened */
    int malformed; /* not TOML, or not UTF-8 */
    int stale;     /* consent set, prompt_version not current */
    /* As written (empty when absent or not a string). */
    char consent[32];
    char prompt_version[32];
    char consented_at[32];
    /* Why the state is NEVER_ASKED, or why a stale value was kept, or why
     * an unreadable file reads as disabled; "" when the file says a
     * current decision. */
    char note[NATTEL_ERROR_MAX];
    /* The path exists but could not be read: permission denied (a root
     * 0600 file read by its user), not a regular file (a FIFO or a
     * directory, opened without waiting), a read error. It reads as
     * DISABLED, with the system's reason in `note`: it may say
     * "disabled", so it is never prompted over and never replaced by the
     * prompt. */
    int unreadable;
} nattel_consent_file;

/* The machine policy as nattel_consent_policy_read found it. Size-
 * versioned as nattel_consent_file (NATTEL_CONSENT_POLICY_INIT). */
typedef enum nattel_policy_level {
    NATTEL_POLICY_ALLOWED = 0, /* no policy, or telemetry = "allowed" */
    NATTEL_POLICY_LOCAL,       /* telemetry = "local": kept here, not sent */
    NATTEL_POLICY_OFF          /* "off", or a policy file that is unusable */
} nattel_policy_level;

/* "allowed", "local", "off" ("allowed" outside the enum). Never NULL. */
const char *nattel_policy_level_name(nattel_policy_level l);

typedef struct nattel_consent_policy {
    size_t size;
    nattel_policy_level level;
    /* The file that set `level` ("" when no file restricts). */
    char decided_by[1024];
    /* Why: "telemetry = \"off\"", or what made a file unusable. */
    char note[NATTEL_ERROR_MAX];
    int prompt_never; /* prompt = "never" in either file */
    /* The organisation's endpoint ("" none): the machine policy's, else
     * the NATTEL_POLICY_FILE one's. It beats NAT_TELEMETRY_ENDPOINT. */
    char endpoint[1024];
} nattel_consent_policy;

#define NATTEL_CONSENT_POLICY_INIT                                             \
    {                                                                          \
        .size = sizeof(nattel_consent_policy)                                  \
    }

/* The machine-wide policy: SYSCONFDIR/nattel/policy.toml (SYSCONFDIR fixed
 * at build time, default /etc) and, when `opts` name one
 * (NATTEL_POLICY_FILE), that file too; the stricter wins (off > local >
 * allowed), so the environment can add a restriction, never lift one. A
 * missing file restricts nothing. A file that exists but cannot be read
 * (permission, not a regular file, over 64 KiB) or parsed (not TOML, an
 * unknown key or value) is OFF: an administrator's "no" never becomes a
 * "yes"; `note` says why. Never fails; reads two small files. `opts` may
 * be NULL (the machine policy only); `out` must not be NULL and out->size
 * set (NATTEL_CONSENT_POLICY_INIT). Any thread. */
void nattel_consent_policy_read(const nattel_options *opts,
                                nattel_consent_policy *out);
/* The machine policy's path (SYSCONFDIR/nattel/policy.toml). Static. */
const char *nattel_consent_policy_path(void);

/* Records the local-only choice (`nattel consent --local`): "disabled" in
 * the shared consent file (so the Python `nat`, and nattel before 1.x,
 * send nothing) and mode = "local" in nattel's own config file
 * (NATTEL_CONFIG_FILE, else $XDG_CONFIG_HOME/nattel/config.toml, else
 * ~/.config/nattel/config.toml) with the shared file's consented_at: a
 * later decision through the Python `nat` rewrites that file and so wins.
 * Errors: those of nattel_consent_set; NATTEL_EINVAL when no config file
 * is known. Not while another thread writes the same files. */
nattel_code nattel_consent_set_local(const nattel_options *opts,
                                     nattel_error *err);
/* An explicit revocation's clean-up (`nattel consent --disable`, and
 * --local): removes every event waiting in the spool of the options'
 * state directory (waiting up to 3 s for a flusher that is sending,
 * which stops at its next batch once consent is off) and records how
 * many and `why` (may be NULL) in the audit log. *removed (must not be
 * NULL): how many. A state directory never made is no error. Errors:
 * NATTEL_EIO (a flusher kept the spool; a system call failed). The
 * delivery layer implements it. Not on the host's path: it may wait. */
nattel_code nattel_consent_clear_spool(const nattel_options *opts,
                                       const char *why, size_t *removed,
                                       nattel_error *err);

/* Forgets the local-only choice (the config file loses its mode line);
 * a missing file is no error. nattel_consent_set calls it. */
nattel_code nattel_consent_clear_local(const nattel_options *opts,
                                       nattel_error *err);

#define NATTEL_CONSENT_FILE_INIT                                               \
    {                                                                          \
        .size = sizeof(nattel_consent_file)                                    \
    }

/* Reads `path` by the rules above. Never fails: a missing file, or one
 * that cannot be parsed, reads as NEVER_ASKED, with the reason in
 * out->note. A file is read whole up to 1 MiB (one fstat, one read; the
 * TOML reader is linear and its memory bounded). A larger file, one too
 * costly to read (see src/consent/nattel_toml.h), and one that exists but
 * cannot be read (permission, not a regular file: opened without
 * blocking, so a FIFO does not hang; out->unreadable) read as DISABLED:
 * each may say "disabled", so it is never prompted over and never
 * rewritten by the prompt. A NULL `path` (no home directory known) reads
 * as NEVER_ASKED. `out` must not be NULL; it is cleared first.
 */
void nattel_consent_file_read(const char *path, nattel_consent_file *out);
/* (`out` must not be NULL and out->size must be set: a size of 0 or
 * less than a size_t writes nothing.) */

/* Writes a decision (ENABLED or DISABLED) in the upstream layout, with
 * consented_at = `now_ms` and the current prompt_version: temporary file in
 * the same directory, fsync, rename, 0600; missing directories are created
 * 0700. Errors: NATTEL_EINVAL for a `state` other than ENABLED or DISABLED,
 * a NULL or empty `path`, or a directory name over 4095 bytes;
 * NATTEL_ENOMEM; NATTEL_EIO, saying which system call failed on which
 * path (the temporary file is then removed, the old file left as it
 * was). */
nattel_code nattel_consent_file_write(const char *path,
                                      nattel_consent_state state,
                                      int64_t now_ms, nattel_error *err);

/* Writes the decision to the options' consent file, stamped with their
 * real-time clock, then reads it back; forgets a local-only choice first
 * (nattel_consent_clear_local). Errors: those of
 * nattel_consent_file_write (NATTEL_EINVAL also when the options know no
 * consent file); NATTEL_EIO when the file does not then say `state` under
 * the current prompt_version (the decision did not land). */
nattel_code nattel_consent_set(const nattel_options *opts,
                               nattel_consent_state state, nattel_error *err);

/*
 * The effective decision: a machine policy of "off" (or an unusable one:
 * off), DO_NOT_TRACK (off), NAT_TELEMETRY_ENABLED, the consent file (its
 * "disabled" with nattel's local-only choice beside it: LOCAL), a CI
 * variable (off, never asked), the first-run prompt (when the options'
 * prompt mode and the policy allow and stdin, stdout and stderr are
 * terminals: it asks on descriptor 0 and writes to 2; the answer is
 * persisted and used at once; see nattel_prompt_ask for its signal and
 * thread rules), else off because nobody can be asked. A policy of "local"
 * then caps ENABLED at LOCAL (source POLICY). *state is ENABLED, DISABLED
 * or LOCAL (send nothing; keep locally). Returns NATTEL_OK, or an error of
 * nattel_consent_set (NATTEL_EIO, NATTEL_EINVAL when no consent file is known,
 * NATTEL_ENOMEM) when a prompt answer could not be persisted: *state and
 * *source are set even then, and a line on descriptor 2 has told the person.
 * `state` and `source` must not be NULL. A prompt waits for its answer with no
 * time limit.
 */
nattel_code nattel_consent_resolve(const nattel_options *opts,
                                   nattel_consent_state *state,
                                   nattel_consent_source *source,
                                   nattel_error *err);

/* True when descriptors 0, 1 and 2 are all terminals. Never fails. */
int nattel_prompt_possible(void);

/*
 * Shows the consent prompt on out_fd and reads one line from in_fd, one
 * byte at a time so nothing past the answer is consumed. Enter, "y" and
 * "yes" (any case, trimmed) are ENABLED; anything else, end of file and
 * Ctrl-C (SIGINT while waiting) are DISABLED, as is a line over 255 bytes
 * or a read error. Does not persist. Waits with no time limit; never
 * fails.
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

/* The prompt's text: what is collected, what is not, how to change it.
 * Static, never NULL. */
const char *nattel_prompt_text(void);

#ifdef __cplusplus
}
#endif

#endif
