/*
 * Consent: the consent file (shared with the Python `nat`), its reading
 * rules, atomic writes, and the resolution order of docs/design.md section 4.
 */
#include "consent/nattel_consent.h"
#include "natx/natx_file.h"
#include "config/nattel_options.h"
#include "natx/natx_io.h"
#include "model/nattel_error.h"
#include "consent/nattel_toml.h"
#include "consent/nattel_local.h"
#include "consent/nattel_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *nattel_consent_state_name(nattel_consent_state s)
{
    switch (s) {
    case NATTEL_CONSENT_ENABLED:
        return "enabled";
    case NATTEL_CONSENT_DISABLED:
        return "disabled";
    case NATTEL_CONSENT_LOCAL:
        return "local";
    case NATTEL_CONSENT_NEVER_ASKED:
        break;
    }
    return "never_asked";
}

const char *nattel_consent_source_name(nattel_consent_source s)
{
    switch (s) {
    case NATTEL_CONSENT_SOURCE_DO_NOT_TRACK:
        return "do_not_track";
    case NATTEL_CONSENT_SOURCE_ENV:
        return "env";
    case NATTEL_CONSENT_SOURCE_FILE:
        return "file";
    case NATTEL_CONSENT_SOURCE_PROMPT:
        return "prompt";
    case NATTEL_CONSENT_SOURCE_POLICY:
        return "policy";
    case NATTEL_CONSENT_SOURCE_LOCAL_CHOICE:
        return "local_choice";
    case NATTEL_CONSENT_SOURCE_CI:
        return "ci";
    case NATTEL_CONSENT_SOURCE_NOBODY:
        break;
    }
    return "nobody";
}

const char *nattel_consent_source_text(nattel_consent_source s)
{
    switch (s) {
    case NATTEL_CONSENT_SOURCE_DO_NOT_TRACK:
        return "the DO_NOT_TRACK environment variable";
    case NATTEL_CONSENT_SOURCE_ENV:
        return "the NAT_TELEMETRY_ENABLED environment variable";
    case NATTEL_CONSENT_SOURCE_FILE:
        return "the consent file";
    case NATTEL_CONSENT_SOURCE_PROMPT:
        return "your answer to the first-run prompt";
    case NATTEL_CONSENT_SOURCE_POLICY:
        return "the machine policy";
    case NATTEL_CONSENT_SOURCE_LOCAL_CHOICE:
        return "your local-only choice (nattel's config file)";
    case NATTEL_CONSENT_SOURCE_CI:
        return "a CI environment: never asked (off)";
    case NATTEL_CONSENT_SOURCE_NOBODY:
        break;
    }
    return "no decision recorded and nobody could be asked (off)";
}

/* ------------------------------------------------------------ reading */

/* Copies a TOML string for display: truncated, control bytes as '?'. */
static void copy_shown(char *dst, size_t cap, const nattel__toml_value *v)
{
    dst[0] = '\0';
    if (!v || v->kind != NATTEL__TOML_STRING)
        return;
    size_t n = v->str_len < cap - 1 ? v->str_len : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v->str[i];
        dst[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    dst[n] = '\0';
}

static int string_is(const nattel__toml_value *v, const char *s)
{
    return v && v->kind == NATTEL__TOML_STRING && v->str_len == strlen(s) &&
           !memcmp(v->str, s, v->str_len);
}

/* The rules, once the [telemetry] table is found. The asymmetry is on
 * purpose: a stale "disabled" stays disabled (re-asking with a default-yes
 * prompt could flip a "no" silently), a stale "enabled" is asked again
 * (a "yes" given to an older disclosure does not cover a new one). */
static void apply_rules(const nattel__toml_value *tel, nattel_consent_file *out)
{
    const nattel__toml_value *consent = nattel__toml_get(tel, "consent");
    const nattel__toml_value *version = nattel__toml_get(tel, "prompt_version");
    copy_shown(out->consent, sizeof out->consent, consent);
    copy_shown(out->prompt_version, sizeof out->prompt_version, version);
    copy_shown(out->consented_at, sizeof out->consented_at,
               nattel__toml_get(tel, "consented_at"));
    nattel_consent_state written =
        string_is(consent, "enabled")    ? NATTEL_CONSENT_ENABLED
        : string_is(consent, "disabled") ? NATTEL_CONSENT_DISABLED
                                         : NATTEL_CONSENT_NEVER_ASKED;
    if (written == NATTEL_CONSENT_NEVER_ASKED) {
        snprintf(out->note, sizeof out->note, "%s",
                 consent ? "consent is neither \"enabled\" nor \"disabled\""
                         : "no consent key in [telemetry]");
        return;
    }
    if (string_is(version, NATTEL_PROMPT_VERSION)) {
        out->state = written;
        return;
    }
    out->stale = 1;
    const char *shown = version ? out->prompt_version : "(missing)";
    if (written == NATTEL_CONSENT_DISABLED) {
        out->state = NATTEL_CONSENT_DISABLED;
        snprintf(
            out->note, sizeof out->note,
            "disabled under prompt_version %s (current %s): stays disabled",
            shown, NATTEL_PROMPT_VERSION);
    } else {
        snprintf(
            out->note, sizeof out->note,
            "enabled under prompt_version %s (current %s): to be asked again",
            shown, NATTEL_PROMPT_VERSION);
    }
}

void nattel__consent_parse(const char *text, size_t len,
                           nattel_consent_file *out)
{
    nattel__toml *doc;
    nattel_error err;
    nattel_code rc = nattel__toml_parse(text, len, &doc, &err);
    if (rc == NATTEL_EPARSE) {
        out->malformed = 1;
        snprintf(out->note, sizeof out->note, "malformed: %.480s", err.message);
        return;
    }
    if (rc) {
        /* Well-formed or not, we could not afford to find out: it may say
         * "disabled", so it must never be prompted over. */
        out->state = NATTEL_CONSENT_DISABLED;
        snprintf(out->note, sizeof out->note,
                 "not read (%.400s): reads as disabled", err.message);
        return;
    }
    const nattel__toml_value *tel =
        nattel__toml_get(nattel__toml_root(doc), "telemetry");
    if (!tel)
        snprintf(out->note, sizeof out->note, "no [telemetry] table");
    else if (tel->kind != NATTEL__TOML_TABLE)
        snprintf(out->note, sizeof out->note, "telemetry is not a table");
    else
        apply_rules(tel, out);
    nattel__toml_free(doc);
}

static void too_big(const char *path, nattel_consent_file *out)
{
    out->state = NATTEL_CONSENT_DISABLED;
    snprintf(out->note, sizeof out->note,
             "%.400s: larger than %u bytes: reads as disabled", path,
             NATTEL__CONSENT_MAX_BYTES);
}

static void unreadable(const char *path, const char *why,
                       nattel_consent_file *out)
{
    out->state = NATTEL_CONSENT_DISABLED;
    out->unreadable = 1;
    snprintf(out->note, sizeof out->note,
             "%.400s exists but cannot be read (%s): reads as disabled", path,
             why);
}

/* Reads into buf[n..cap) until EOF or full; the new count, or -1. */
static ssize_t read_into(int fd, char *buf, size_t n, size_t cap)
{
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r == 0)
            break;
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        n += (size_t)r;
    }
    return (ssize_t)n;
}

/* A regular file of at most NATTEL__CONSENT_MAX_BYTES, whole: one fstat,
 * then one read of its size plus a byte (to see a file that grew, which
 * is then read on up to the limit). NULL with out->note (and out->state
 * for a file too big) set otherwise. */
static char *slurp(const char *path, size_t *len, nattel_consent_file *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
        snprintf(out->note, sizeof out->note, "%.400s: no such file", path);
        return NULL;
    }
    if (fd < 0) {
        /* It is there but not ours to read (root's 0600 file, as sudo
         * leaves in a home): it may say "disabled", so it counts as such
         * and is never prompted over nor replaced. */
        int e = errno;
        out->exists = 1;
        unreadable(path, strerror(e), out);
        return NULL;
    }
    out->exists = 1;
    struct stat st;
    char *buf = NULL;
    ssize_t n = -1;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        unreadable(path, "not a regular file", out);
    } else if ((uintmax_t)st.st_size > NATTEL__CONSENT_MAX_BYTES) {
        too_big(path, out);
    } else {
        buf = malloc((size_t)st.st_size + 1);
        if (!buf)
            snprintf(out->note, sizeof out->note, "%.400s: out of memory",
                     path);
    }
    if (buf) {
        size_t size = (size_t)st.st_size;
        n = read_into(fd, buf, 0, size + 1);
        char *more = n > (ssize_t)size
                         ? realloc(buf, NATTEL__CONSENT_MAX_BYTES + 1)
                         : NULL;
        if (more) {
            buf = more;
            n = read_into(fd, buf, (size_t)n, NATTEL__CONSENT_MAX_BYTES + 1);
        } else if (n > (ssize_t)size) {
            n = -1; /* out of memory */
            errno = ENOMEM;
        }
        if (n < 0)
            unreadable(path, strerror(errno), out);
        else if ((size_t)n > NATTEL__CONSENT_MAX_BYTES)
            too_big(path, out);
    }
    close(fd);
    if (n < 0 || (size_t)n > NATTEL__CONSENT_MAX_BYTES) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

/* The whole reading into a struct of this library's size. */
static void read_full(const char *path, nattel_consent_file *out)
{
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    out->state = NATTEL_CONSENT_NEVER_ASKED;
    if (!path) {
        snprintf(out->note, sizeof out->note,
                 "no consent file (no home directory)");
        return;
    }
    size_t len = 0;
    char *text = slurp(path, &len, out);
    if (!text)
        return;
    nattel__consent_parse(text, len, out);
    free(text);
}

void nattel_consent_file_read(const char *path, nattel_consent_file *out)
{
    /* Size-versioned: a caller built against an older header gets the
     * members it knows, and its `size` stays as it set it. */
    nattel_consent_file full = NATTEL_CONSENT_FILE_INIT;
    read_full(path, &full);
    size_t n = out->size < sizeof full ? out->size : sizeof full;
    size_t size = out->size;
    if (n > sizeof full.size)
        memcpy((char *)out + sizeof full.size,
               (const char *)&full + sizeof full.size, n - sizeof full.size);
    out->size = size;
}

/* ------------------------------------------------------------ writing */

size_t nattel__consent_text(nattel_consent_state state, int64_t now_ms,
                            char *out)
{
    time_t t =
        (time_t)(now_ms / 1000 - (now_ms % 1000 < 0)); /* floor, no overflow */
    struct tm tm;
    char at[32] = "1970-01-01T00:00:00Z";
    if (gmtime_r(&t, &tm))
        strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    int n = snprintf(
        out, NATTEL__CONSENT_TEXT_MAX,
        "# NeMo Agent Toolkit telemetry consent.\n"
        "# To change, run `nat configure telemetry --enable | --disable` "
        "(or `nattel consent`),\n"
        "# or set the NAT_TELEMETRY_ENABLED environment variable.\n"
        "[telemetry]\n"
        "consent = \"%s\"\n"
        "consented_at = \"%s\"\n"
        "prompt_version = \"%s\"\n",
        nattel_consent_state_name(state), at, NATTEL_PROMPT_VERSION);
    return n > 0 ? (size_t)n : 0;
}

static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

nattel_code nattel_consent_file_write(const char *path,
                                      nattel_consent_state state,
                                      int64_t now_ms, nattel_error *err)
{
    if (state != NATTEL_CONSENT_ENABLED && state != NATTEL_CONSENT_DISABLED)
        return natx_fail(err, NATTEL_EINVAL,
                         "consent file: only enabled or disabled is written");
    if (!path || !*path)
        return natx_fail(
            err, NATTEL_EINVAL,
            "no consent file: set HOME or NAT_TELEMETRY_CONSENT_FILE");
    char *dir = parent_dir(path);
    if (!dir)
        return natx_fail(err, NATTEL_ENOMEM, "consent file: out of memory");
    char text[NATTEL__CONSENT_TEXT_MAX];
    size_t len = nattel__consent_text(state, now_ms, text);
    /* A decision must survive a crash (fsync of the file and, after the
     * rename, of its directory), and the file is the person's alone. */
    const natx_file_write_opts how = {
        0600, NATX_FILE_FSYNC | NATX_FILE_SYNC_DIR | NATX_FILE_CHMOD, NULL};
    nattel_code rc = natx_mkdirs(dir, 0700, err);
    if (!rc)
        rc = natx_file_write_atomic(path, text, len, &how, err);
    free(dir);
    return rc;
}

/* Writes the shared file (ENABLED or DISABLED), leaving the local
 * choice as it is. */
static nattel_code set_shared(const nattel_options *o,
                              nattel_consent_state state, nattel_error *err)
{
    nattel_code rc = nattel_consent_file_write(o->consent_file, state,
                                               nattel__now_real(o), err);
    if (rc)
        return rc;
    /* Trust nothing: the decision counts only if it reads back. */
    nattel_consent_file back = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(o->consent_file, &back);
    if (back.state != state || back.stale)
        return natx_fail(
            err, NATTEL_EIO, "%s does not read back as %s after writing (%s)",
            o->consent_file, nattel_consent_state_name(state),
            back.note[0] ? back.note : nattel_consent_state_name(back.state));
    return NATTEL_OK;
}

nattel_code nattel_consent_set(const nattel_options *o,
                               nattel_consent_state state, nattel_error *err)
{
    nattel_code rc = nattel_consent_clear_local(o, err);
    return rc ? rc : set_shared(o, state, err);
}

nattel_code nattel_consent_set_local(const nattel_options *o, nattel_error *err)
{
    nattel_code rc = set_shared(o, NATTEL_CONSENT_DISABLED, err);
    if (rc)
        return rc;
    nattel_consent_file shared = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(o->consent_file, &shared);
    rc = nattel__local_write_choice(o, shared.consented_at, err);
    if (!rc && !nattel__local_chosen(o, &shared))
        rc = natx_fail(err, NATTEL_EIO,
                       "%s does not read back as the local choice",
                       o->config_file);
    return rc;
}

/* --------------------------------------------------------- resolution */

/* The prompt asks on standard input and answers on standard error. */
enum { PROMPT_IN_FD = 0, PROMPT_OUT_FD = 2 };

static nattel_code ask(const nattel_options *o, nattel_consent_state *state,
                       nattel_error *err)
{
    *state = nattel_prompt_ask(PROMPT_IN_FD, PROMPT_OUT_FD);
    nattel_code rc = nattel_consent_set(o, *state, err);
    char line[1024];
    if (rc)
        snprintf(line, sizeof line,
                 "nattel: telemetry %s for this run, but the decision was not "
                 "saved: %s\n",
                 nattel_consent_state_name(*state), err ? err->message : "");
    else
        snprintf(line, sizeof line,
                 "nattel: telemetry %s; saved in %s (change it with "
                 "`nattel consent --%s`)\n",
                 nattel_consent_state_name(*state), o->consent_file,
                 *state == NATTEL_CONSENT_ENABLED ? "disable" : "enable");
    (void)natx_write_all(PROMPT_OUT_FD, line, strlen(line));
    return rc;
}

/* Layers 2 to 6 of the order (docs/design.md section 4), the policy
 * aside: it is applied around them. */
static nattel_code resolve_person(const nattel_options *o, int allow_prompt,
                                  int prompt_never, nattel_consent_state *state,
                                  nattel_consent_source *source,
                                  nattel_error *err)
{
    *state = NATTEL_CONSENT_DISABLED;
    if (o->do_not_track) {
        *source = NATTEL_CONSENT_SOURCE_DO_NOT_TRACK;
        return NATTEL_OK;
    }
    if (o->env_enabled >= 0) {
        *source = NATTEL_CONSENT_SOURCE_ENV;
        *state =
            o->env_enabled ? NATTEL_CONSENT_ENABLED : NATTEL_CONSENT_DISABLED;
        return NATTEL_OK;
    }
    nattel_consent_file file = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(o->consent_file, &file);
    if (file.state == NATTEL_CONSENT_DISABLED &&
        nattel__local_chosen(o, &file)) {
        *source = NATTEL_CONSENT_SOURCE_LOCAL_CHOICE;
        *state = NATTEL_CONSENT_LOCAL;
        return NATTEL_OK;
    }
    if (file.state != NATTEL_CONSENT_NEVER_ASKED) {
        *source = NATTEL_CONSENT_SOURCE_FILE;
        *state = file.state;
        return NATTEL_OK;
    }
    /* CI is never asked, even on a terminal (`docker run -t` gives it
     * one): nobody is there to answer. */
    if (o->ci) {
        *source = NATTEL_CONSENT_SOURCE_CI;
        return NATTEL_OK;
    }
    if (allow_prompt && !prompt_never &&
        o->prompt == NATTEL_PROMPT_IF_TERMINAL && nattel_prompt_possible()) {
        *source = NATTEL_CONSENT_SOURCE_PROMPT;
        return ask(o, state, err);
    }
    *source = NATTEL_CONSENT_SOURCE_NOBODY;
    return NATTEL_OK;
}

nattel_code nattel__consent_resolve(const nattel_options *o, int allow_prompt,
                                    nattel_consent_state *state,
                                    nattel_consent_source *source,
                                    nattel_error *err)
{
    /* The machine policy first: "off" beats everything, the environment
     * included; "local" caps any "enabled" at local. */
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    if (policy.level == NATTEL_POLICY_OFF) {
        *state = NATTEL_CONSENT_DISABLED;
        *source = NATTEL_CONSENT_SOURCE_POLICY;
        return NATTEL_OK;
    }
    nattel_code rc = resolve_person(o, allow_prompt, policy.prompt_never, state,
                                    source, err);
    if (policy.level == NATTEL_POLICY_LOCAL &&
        *state == NATTEL_CONSENT_ENABLED) {
        *state = NATTEL_CONSENT_LOCAL;
        *source = NATTEL_CONSENT_SOURCE_POLICY;
    }
    return rc;
}

nattel_code nattel_consent_resolve(const nattel_options *o,
                                   nattel_consent_state *state,
                                   nattel_consent_source *source,
                                   nattel_error *err)
{
    return nattel__consent_resolve(o, 1, state, source, err);
}
