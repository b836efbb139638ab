/* nattel status: consent and its source, endpoint, delivery state. */
#include "commands.h"
#include "natx/natx_jsonw.h"

#include <nattel/client.h>
#include <nattel/consent.h>
#include <nattel/options.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char usage_text[] =
    "usage: nattel status [--json]\n"
    "\n"
    "Shows whether telemetry is on and what decided it, the consent file,\n"
    "the endpoint and sink, and the state directory, then one line per\n"
    "thing that stops or delays delivery, saying what, where and how to\n"
    "fix it: 'problem:' when delivery cannot happen as configured (a state\n"
    "directory that is relative, a symlink, not a directory or refused; an\n"
    "invalid endpoint; no flusher program, or one that cannot run; no\n"
    "libcurl), 'note:' when it is held back (an environment variable that\n"
    "overrides the consent file, a back-off pending). Never prompts.\n"
    "\n"
    "  --json  one JSON object on standard output: enabled (boolean),\n"
    "          source, sourceText, state (enabled, disabled, local),\n"
    "          policy (allowed, local, off), policyFile, policyNote,\n"
    "          endpoint, sink, dryRun, consentFile,\n"
    "          fileConsent, fileNote, stateDir, sessionPrefix, delivery,\n"
    "          spooled, sent, dropped, rejected (integers: events waiting\n"
    "          now; sent, dropped and rejected ever), last_delivery\n"
    "          ({ts, outcome, http_status, events} or null),\n"
    "          backoff_until (UTC time before which no flusher starts, or\n"
    "          null), diagnoses ([{severity: \"problem\" or \"note\",\n"
    "          what, text}]: the lines above, what one of state_dir,\n"
    "          endpoint, flusher, policy, consent_override, backoff)\n"
    "\n"
    "Exit status: 0 delivery can happen as configured (or telemetry sends\n"
    "nothing by design: off, an empty endpoint, dry run); 1 a 'problem:'\n"
    "line says why it cannot, or the status cannot be printed (with --json\n"
    "nothing is printed then: never half a document); 2 usage error.\n";

#define MAX_DIAGNOSES 12

/* One line of what stops or delays delivery. */
typedef struct diagnosis {
    int problem;      /* delivery cannot happen (else: a note) */
    const char *what; /* the --json key: state_dir, endpoint, ... */
    char text[640];   /* what, where, how to fix */
} diagnosis;

typedef struct status_info {
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_file file;
    nattel_consent_policy policy;
    const char *sink;
    const char *delivery;
    nattel_delivery_info *info;         /* NULL: an empty state */
    char state_error[NATTEL_ERROR_MAX]; /* why the state dir is refused */
    diagnosis diag[MAX_DIAGNOSES];
    size_t n_diag;
} status_info;

/* The delivery state of the state directory, read only (a status query
 * never creates the state directory). NULL, shown as zeros, when the
 * directory is missing or refused (a relative path included): status says
 * what is, it does not fail. */
static nattel_delivery_info *delivery_info(const nattel_options *o,
                                           status_info *s)
{
    nattel_delivery_info *info = NULL;
    nattel_error err = {NATTEL_OK, ""};
    s->state_error[0] = '\0';
    if (nattel_options_state_dir(o) && nattel_delivery_status(o, &info, &err))
        snprintf(s->state_error, sizeof s->state_error, "%s", err.message);
    return info;
}

/* What happens to a payload, in words. A sink this list does not know
 * (a new one) is named by the line above it ("sink: NAME"), so adding a
 * sink needs no change here; only the two that send nothing say so. */
static const char *sink_delivery(nattel_sink_kind kind, int spool_only)
{
    switch (kind) {
    case NATTEL_SINK_NONE:
    case NATTEL_SINK_DRY_RUN:
        return "nothing is sent";
    case NATTEL_SINK_STDOUT:
        return "each payload as one line on stderr";
    case NATTEL_SINK_HTTP:
        return spool_only
                   ? "spooled in the state directory, sent by 'nattel flush' "
                     "(NATTEL_DELIVERY=spool-only)"
                   : "spooled in the state directory, sent by a detached "
                     "flusher";
    default: /* a sink added later: its name is on the line above */
        return "handed to the sink named above";
    }
}

static void gather(const nattel_options *o, status_info *s)
{
    nattel_consent_resolve(o, &s->state, &s->source, NULL);
    s->file.size = sizeof s->file;
    nattel_consent_file_read(nattel_options_consent_file(o), &s->file);
    s->policy.size = sizeof s->policy;
    nattel_consent_policy_read(o, &s->policy);
    nattel_sink_kind kind;
    int ok = !nattel_options_sink(o, &kind, NULL);
    s->sink = ok ? nattel_sink_kind_name(kind) : "invalid";
    int spool_only =
        nattel_options_delivery_mode(o) == NATTEL_DELIVERY_SPOOL_ONLY;
    s->delivery = ok ? sink_delivery(kind, spool_only)
                     : "invalid endpoint: nothing is sent";
    s->info = delivery_info(o, s);
}

static void diagnose(status_info *s, int problem, const char *what,
                     const char *fmt, ...) TOOL_PRINTF(4, 5);
static void diagnose(status_info *s, int problem, const char *what,
                     const char *fmt, ...)
{
    if (s->n_diag == MAX_DIAGNOSES)
        return;
    diagnosis *d = &s->diag[s->n_diag++];
    d->problem = problem;
    d->what = what;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
}

/* Where the state directory comes from, for "how to fix". */
static const char *state_dir_source(void)
{
    const char *v = getenv("NATTEL_STATE_DIR");
    return v && *v ? "NATTEL_STATE_DIR" : "$XDG_STATE_HOME or $HOME";
}

static void diagnose_state_dir(const nattel_options *o, status_info *s)
{
    const char *dir = nattel_options_state_dir(o);
    if (!dir)
        diagnose(s, 1, "state_dir",
                 "no state directory: neither HOME nor NATTEL_STATE_DIR is "
                 "known; set NATTEL_STATE_DIR to an absolute directory");
    else if (s->state_error[0])
        diagnose(s, 1, "state_dir",
                 "%s: nothing can be spooled or sent; point %s at a "
                 "directory of yours (an absolute path, not a symlink)",
                 s->state_error, state_dir_source());
}

/* "STDOUT", "Stdout": the stdout sink is spelt in lower case. */
static int stdout_miscased(const char *endpoint)
{
    return !strcasecmp(endpoint, "stdout") && strcmp(endpoint, "stdout");
}

static void diagnose_endpoint(const nattel_options *o, status_info *s)
{
    const char *endpoint = nattel_options_endpoint(o);
    nattel_sink_kind kind;
    nattel_error err = {NATTEL_OK, ""};
    if (nattel_options_sink(o, &kind, &err)) {
        diagnose(s, 1, "endpoint",
                 "NAT_TELEMETRY_ENDPOINT '%s' is invalid: nothing is sent; "
                 "%s",
                 endpoint,
                 stdout_miscased(endpoint)
                     ? "the payload sink is spelt 'stdout', in lower case"
                     : "use an http:// or https:// URL, 'stdout' or '' "
                       "(send nothing)");
        return;
    }
    if (nattel_delivery_can_send(o, &err))
        diagnose(s, 1, strstr(err.message, "libcurl") ? "libcurl" : "flusher",
                 "%s", err.message);
}

/* The environment decides over a consent file that says otherwise. */
static void diagnose_override(const nattel_options *o, status_info *s)
{
    /* A machine policy restricts: say which file and why (a policy that
     * cannot be read or parsed is off, and this is where it says so). */
    if (s->policy.level != NATTEL_POLICY_ALLOWED)
        diagnose(s, 0, "policy", "machine policy %s: telemetry %s: %s",
                 s->policy.decided_by,
                 nattel_policy_level_name(s->policy.level), s->policy.note);
    const char *file = nattel_options_consent_file(o);
    int file_on = s->file.state == NATTEL_CONSENT_ENABLED;
    int on = s->state == NATTEL_CONSENT_ENABLED;
    if (s->file.state == NATTEL_CONSENT_NEVER_ASKED || file_on == on)
        return;
    if (s->source == NATTEL_CONSENT_SOURCE_DO_NOT_TRACK)
        diagnose(s, 0, "consent_override",
                 "DO_NOT_TRACK=%s in the environment turns telemetry off "
                 "although the consent file %s says on; unset DO_NOT_TRACK "
                 "to let the file decide",
                 getenv("DO_NOT_TRACK") ? getenv("DO_NOT_TRACK") : "", file);
    else if (s->source == NATTEL_CONSENT_SOURCE_ENV)
        diagnose(s, 0, "consent_override",
                 "NAT_TELEMETRY_ENABLED=%s in the environment turns telemetry "
                 "%s although the consent file %s says %s; unset "
                 "NAT_TELEMETRY_ENABLED to let the file decide",
                 nattel_options_env_enabled_raw(o), on ? "on" : "off", file,
                 file_on ? "on" : "off");
}

static void diagnose_backoff(status_info *s)
{
    int64_t until = nattel_delivery_backoff_until(s->info);
    if (!until)
        return;
    char ts[NATTEL_TS_LEN + 1];
    nattel_format_ts(until, ts);
    diagnose(s, 0, "backoff",
             "a delivery failed: no flusher starts on its own before %s "
             "(see 'nattel log'); 'nattel flush' tries now",
             ts);
}

/* What the state directory itself says: counters that cannot be trusted,
 * entries no flusher can send, events lost to a full disk, and events
 * kept while telemetry is off. Notes: none of them stops delivery. */
static void diagnose_delivery_state(status_info *s)
{
    const nattel_delivery_info *i = s->info;
    const char *note = nattel_delivery_state_note(i);
    if (note)
        diagnose(s, 0, "state_file", "%s", note);
    size_t odd = nattel_delivery_unusable_entries(i);
    if (odd)
        diagnose(s, 0, "spool_entries",
                 "%zu unusable spool entr%s (not a regular file): the next "
                 "flusher removes or sets aside each, counting it as "
                 "dropped",
                 odd, odd == 1 ? "y" : "ies");
    size_t lost = nattel_delivery_lost_uncounted(i);
    if (lost)
        diagnose(s, 0, "lost",
                 "%zu event(s) could not be spooled (the disk was full): "
                 "the next flusher counts them as dropped",
                 lost);
    /* The spooled count includes the unusable entries, said above. */
    size_t spooled = nattel_delivery_spooled(i);
    size_t waiting = spooled > odd ? spooled - odd : 0;
    if (waiting && s->state != NATTEL_CONSENT_ENABLED)
        diagnose(s, 0, "consent_off",
                 "%zu event(s) wait in the spool: telemetry is off (%s); "
                 "kept, not sent",
                 waiting, nattel_consent_source_text(s->source));
}

/* Every line of what stops or delays delivery. */
static void diagnose_all(const nattel_options *o, status_info *s)
{
    s->n_diag = 0;
    diagnose_state_dir(o, s);
    diagnose_endpoint(o, s);
    diagnose_override(o, s);
    diagnose_backoff(s);
    diagnose_delivery_state(s);
}

static int has_problem(const status_info *s)
{
    for (size_t i = 0; i < s->n_diag; i++)
        if (s->diag[i].problem)
            return 1;
    return 0;
}

static void member_int(natx_jsonw *w, const char *key, int64_t v)
{
    natx_jsonw_key(w, key);
    natx_jsonw_int64(w, v);
}

static void member_bool(natx_jsonw *w, const char *key, int v)
{
    natx_jsonw_key(w, key);
    natx_jsonw_bool(w, v);
}

/* Paths, the endpoint and the file's note come from the environment and
 * files: bytes that are not UTF-8 are shown as U+FFFD, not refused. */
static void member_str(natx_jsonw *w, const char *key, const char *v)
{
    natx_jsonw_key(w, key);
    if (v)
        natx_jsonw_string_lossy(w, v, strlen(v));
    else
        natx_jsonw_null(w);
}

static void put_last(natx_jsonw *w, const nattel_delivery_info *i)
{
    natx_jsonw_key(w, "last_delivery");
    if (!nattel_delivery_last_ts(i)) {
        natx_jsonw_null(w);
        return;
    }
    natx_jsonw_begin_object(w);
    member_str(w, "ts", nattel_delivery_last_ts(i));
    member_str(w, "outcome", nattel_delivery_last_outcome(i));
    member_int(w, "http_status", nattel_delivery_last_http_status(i));
    member_int(w, "events", nattel_delivery_last_events(i));
    natx_jsonw_end_object(w);
}

static void put_delivery(natx_jsonw *w, const status_info *s)
{
    const nattel_delivery_info *i = s->info;
    member_int(w, "spooled", (int64_t)nattel_delivery_spooled(i));
    member_int(w, "sent", nattel_delivery_sent(i));
    member_int(w, "dropped", nattel_delivery_dropped(i));
    member_int(w, "rejected", nattel_delivery_rejected(i));
    put_last(w, i);
    int64_t until = nattel_delivery_backoff_until(i);
    char when[NATTEL_TS_LEN + 1];
    if (until)
        nattel_format_ts(until, when);
    member_str(w, "backoff_until", until ? when : NULL);
}

static void put_status(natx_jsonw *w, const nattel_options *o,
                       const status_info *s)
{
    natx_jsonw_begin_object(w);
    member_bool(w, "enabled", s->state == NATTEL_CONSENT_ENABLED);
    member_str(w, "source", nattel_consent_source_name(s->source));
    member_str(w, "sourceText", nattel_consent_source_text(s->source));
    member_str(w, "state", nattel_consent_state_name(s->state));
    member_str(w, "policy", nattel_policy_level_name(s->policy.level));
    member_str(w, "policyFile",
               s->policy.decided_by[0] ? s->policy.decided_by : NULL);
    member_str(w, "policyNote", s->policy.note[0] ? s->policy.note : NULL);
    member_str(w, "endpoint",
               s->policy.endpoint[0] ? s->policy.endpoint
                                     : nattel_options_endpoint(o));
    member_str(w, "sink", s->sink);
    member_bool(w, "dryRun", nattel_options_dry_run(o));
    member_bool(w, "doNotTrack", nattel_options_do_not_track(o));
    member_str(w, "envEnabled", nattel_options_env_enabled_raw(o));
    member_str(w, "consentFile", nattel_options_consent_file(o));
    member_str(w, "fileConsent", nattel_consent_state_name(s->file.state));
    member_str(w, "fileNote", s->file.note);
    member_str(w, "stateDir", nattel_options_state_dir(o));
    member_str(w, "sessionPrefix", nattel_options_session_prefix(o));
    member_str(w, "delivery", s->delivery);
    put_delivery(w, s);
    natx_jsonw_key(w, "diagnoses");
    natx_jsonw_begin_array(w);
    for (size_t i = 0; i < s->n_diag; i++) {
        natx_jsonw_begin_object(w);
        member_str(w, "severity", s->diag[i].problem ? "problem" : "note");
        member_str(w, "what", s->diag[i].what);
        member_str(w, "text", s->diag[i].text);
        natx_jsonw_end_object(w);
    }
    natx_jsonw_end_array(w);
    natx_jsonw_end_object(w);
}

/* The whole document is built first and printed at once: never half an
 * object with exit 0. */
static int print_json(const nattel_options *o, const status_info *s)
{
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    nattel_error err;
    natx_jsonw_init(&w, &b);
    put_status(&w, o, s);
    int rc = NATTEL_EXIT_OK;
    nattel_code code = natx_jsonw_finish(&w, &err);
    if (!code) {
        code = nattel_buf_append(&b, "\n", 1);
        if (code)
            snprintf(err.message, sizeof err.message, "out of memory");
    }
    if (code) {
        tool_error("status", "the JSON document was not printed: %s",
                   err.message);
        rc = NATTEL_EXIT_FAIL;
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
        tool_error("status", "cannot write to standard output");
        rc = NATTEL_EXIT_FAIL;
    }
    nattel_buf_free(&b);
    return rc;
}

/* What decided, in words: the variable and its value, or the file. */
static void print_source(const nattel_options *o, const status_info *s)
{
    const char *dnt = getenv("DO_NOT_TRACK");
    switch (s->source) {
    case NATTEL_CONSENT_SOURCE_DO_NOT_TRACK:
        printf("decided by:    DO_NOT_TRACK=%s in the environment\n",
               dnt ? dnt : "");
        break;
    case NATTEL_CONSENT_SOURCE_ENV:
        printf("decided by:    NAT_TELEMETRY_ENABLED=%s in the environment\n",
               nattel_options_env_enabled_raw(o));
        break;
    case NATTEL_CONSENT_SOURCE_FILE:
        printf("decided by:    the consent file\n");
        break;
    case NATTEL_CONSENT_SOURCE_POLICY:
        printf("decided by:    machine policy %s (%s)\n", s->policy.decided_by,
               s->policy.note);
        break;
    case NATTEL_CONSENT_SOURCE_LOCAL_CHOICE:
        printf("decided by:    your local-only choice in %s: events are kept "
               "on this machine, never sent\n",
               nattel_options_config_file(o));
        break;
    case NATTEL_CONSENT_SOURCE_CI:
        printf("decided by:    %s is set: a CI environment is never asked, so "
               "it is off\n",
               nattel_options_ci(o));
        break;
    default:
        printf("decided by:    nobody: no decision is recorded and no one "
               "can be asked here, so it is off\n");
    }
}

/* What the consent file says, in words. */
static void print_file(const nattel_options *o, const status_info *s)
{
    const char *file = nattel_options_consent_file(o);
    const nattel_consent_file *f = &s->file;
    printf("consent file:  %s: ", file ? file : "(none: no home directory)");
    /* The note names the file again ("/path: no such file"): once. */
    const char *note = f->note;
    size_t n = file ? strlen(file) : 0;
    if (n && !strncmp(note, file, n) && !strncmp(note + n, ": ", 2))
        note += n + 2;
    if (f->state == NATTEL_CONSENT_NEVER_ASKED)
        printf("no decision recorded%s%s%s\n", note[0] ? " (" : "", note,
               note[0] ? ")" : "");
    else
        printf("says %s%s%s%s%s\n",
               f->state == NATTEL_CONSENT_ENABLED ? "on" : "off",
               f->consented_at[0] ? ", decided " : "", f->consented_at,
               note[0] ? "; " : "", note);
}

/* The sink, in words: where payloads go. */
static const char *sink_words(const status_info *s)
{
    if (!strcmp(s->sink, "none"))
        return "none: the endpoint is empty, payloads are built and dropped";
    if (!strcmp(s->sink, "dry_run"))
        return "none: dry run (NAT_TELEMETRY_DRY_RUN), payloads are built "
               "and dropped";
    if (!strcmp(s->sink, "stdout"))
        return "stdout: payloads are written as lines on standard error";
    if (!strcmp(s->sink, "http"))
        return "http(s): payloads go to the endpoint above";
    return s->sink; /* "invalid", or a sink added later */
}

static void print_delivery(const status_info *s)
{
    const nattel_delivery_info *i = s->info;
    printf("spooled:       %zu event(s) waiting\n", nattel_delivery_spooled(i));
    printf("sent:          %lld\n", (long long)nattel_delivery_sent(i));
    printf("dropped:       %lld (of which rejected by the server: %lld)\n",
           (long long)nattel_delivery_dropped(i),
           (long long)nattel_delivery_rejected(i));
    if (nattel_delivery_last_ts(i))
        printf("last delivery: %s %s, %lld event(s), %s%d\n",
               nattel_delivery_last_ts(i), nattel_delivery_last_outcome(i),
               (long long)nattel_delivery_last_events(i),
               nattel_delivery_last_http_status(i) ? "HTTP " : "no answer",
               nattel_delivery_last_http_status(i));
    else
        printf("last delivery: none\n");
}

static void print_text(const nattel_options *o, const status_info *s)
{
    printf("telemetry:     %s\n", nattel_consent_state_name(s->state));
    print_source(o, s);
    print_file(o, s);
    const char *dir = nattel_options_state_dir(o);
    const char *endpoint = nattel_options_endpoint(o);
    const char *prefix = nattel_options_session_prefix(o);
    if (s->policy.endpoint[0]) /* the organisation's own ingest */
        printf("endpoint:      %s (from the machine policy)\n",
               s->policy.endpoint);
    else
        printf("endpoint:      %s\n", *endpoint ? endpoint : "(empty)");
    printf("sink:          %s\n", sink_words(s));
    printf("delivery:      %s\n", s->delivery);
    printf("state dir:     %s\n", dir ? dir : "(none)");
    print_delivery(s);
    if (*prefix)
        printf("session prefix: %s\n", prefix);
    for (size_t i = 0; i < s->n_diag; i++)
        printf("%s: %s\n", s->diag[i].problem ? "problem" : "note",
               s->diag[i].text);
}

enum { OPT_JSON = TOOL_OPT_LONG };

static const struct option longopts[] = {{"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
static const tool_spec spec = {"status", "h", longopts, 0, 0};

static int take(void *ctx, int c, const char *v)
{
    *(int *)ctx = 1; /* --json */
    return TOOL_GO;
}

int tool_cmd_status(int argc, char **argv)
{
    int json = 0;
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &json);
    if (parsed != TOOL_GO)
        return parsed;
    nattel_options *o = tool_options_load("status");
    if (!o)
        return NATTEL_EXIT_FAIL;
    /* The sink shown is the one a host's client would use. */
    nattel_error err;
    if (nattel_options_apply_policy_endpoint(o, &err)) {
        tool_error("status", "%s", err.message);
        nattel_options_free(o);
        return NATTEL_EXIT_FAIL;
    }
    status_info s;
    gather(o, &s);
    diagnose_all(o, &s);
    int rc = NATTEL_EXIT_OK;
    if (json)
        rc = print_json(o, &s);
    else
        print_text(o, &s);
    if (rc == NATTEL_EXIT_OK && has_problem(&s))
        rc = NATTEL_EXIT_FAIL;
    nattel_delivery_info_free(s.info);
    nattel_options_free(o);
    return rc;
}
