/* nattel consent: the upstream `nat configure telemetry`. */
#include "commands.h"

#include "natx/natx_jsonw.h"

#include <nattel/consent.h>

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel consent [--enable | --local | --disable [--keep-spool] |\n"
    "                       --status [--json]]\n"
    "\n"
    "Shows or changes the telemetry decision kept in the consent file\n"
    "(NAT_TELEMETRY_CONSENT_FILE, default ~/.config/nat/telemetry.toml, the\n"
    "file the Python `nat` CLI uses too).\n"
    "\n"
    "  --enable      allow anonymous usage telemetry (only what is emitted\n"
    "                from now on is sent)\n"
    "  --local       keep events on this machine only, never send them\n"
    "                (`nattel report --local` shows them); the consent\n"
    "                file says \"disabled\", nattel's config file\n"
    "                ($XDG_CONFIG_HOME/nattel/config.toml) says local\n"
    "  --disable     refuse it, and remove the events waiting to be sent\n"
    "                (the audit log records how many)\n"
    "  --keep-spool  with --disable or --local: keep them (never sent while\n"
    "                telemetry is not enabled)\n"
    "  --status      the effective state and what decided it (the default)\n"
    "  --json        with --status: one JSON object on standard output:\n"
    "                enabled (boolean), state, source, sourceText,\n"
    "                decidedBy (the policy file, the variable or the file\n"
    "                that decided), consentFile, fileConsent,\n"
    "                fileConsentedAt, filePromptVersion, fileNote, policy\n"
    "                (allowed, local or off), policyNote, override (the\n"
    "                warning line when the environment overrides the file,\n"
    "                or null)\n"
    "\n"
    "A machine policy (/etc/nattel/policy.toml, or NATTEL_POLICY_FILE) beats\n"
    "everything: under telemetry = \"off\", --enable and --local fail. The\n"
    "environment beats the file: DO_NOT_TRACK turns telemetry off,\n"
    "NAT_TELEMETRY_ENABLED=1|0 turns it on or off.\n"
    "\n"
    "Exit status: 0 success, 1 the decision could not be saved or a policy\n"
    "forbids it, 2 usage.\n";

/* Which file or variable decided, for "decided by:". */
static void decided_by(const nattel_options *o, nattel_consent_source source,
                       const nattel_consent_policy *policy, char *out,
                       size_t size)
{
    const char *path = nattel_options_consent_file(o);
    switch (source) {
    case NATTEL_CONSENT_SOURCE_POLICY:
        snprintf(out, size, "machine policy %s (%s)", policy->decided_by,
                 policy->note);
        return;
    case NATTEL_CONSENT_SOURCE_FILE:
        snprintf(out, size, "the consent file %s", path ? path : "(none)");
        return;
    case NATTEL_CONSENT_SOURCE_LOCAL_CHOICE:
        snprintf(out, size, "your local-only choice in %s",
                 nattel_options_config_file(o));
        return;
    case NATTEL_CONSENT_SOURCE_CI:
        snprintf(out, size, "%s is set: a CI environment is never asked (off)",
                 nattel_options_ci(o));
        return;
    default:
        snprintf(out, size, "%s", nattel_consent_source_text(source));
    }
}

/* The warning when the environment, not the file, decides; "" when
 * the file does. */
static void override_text(const nattel_options *o, nattel_consent_source source,
                          const nattel_consent_file *file, char *out,
                          size_t size)
{
    out[0] = '\0';
    if (source == NATTEL_CONSENT_SOURCE_DO_NOT_TRACK)
        snprintf(out, size,
                 "warning: DO_NOT_TRACK is set: telemetry "
                 "is off whatever the consent file says (%s)",
                 nattel_consent_state_name(file->state));
    else if (source == NATTEL_CONSENT_SOURCE_ENV)
        snprintf(out, size,
                 "warning: NAT_TELEMETRY_ENABLED=%s in the "
                 "environment overrides the consent file (%s)",
                 nattel_options_env_enabled_raw(o),
                 nattel_consent_state_name(file->state));
}

static void warn_override(const nattel_options *o, nattel_consent_source source,
                          const nattel_consent_file *file)
{
    char text[512];
    override_text(o, source, file, text, sizeof text);
    if (text[0])
        tool_error("consent", "%s", text);
}

static void member(natx_jsonw *w, const char *key, const char *v)
{
    natx_jsonw_key(w, key);
    if (v)
        natx_jsonw_string_lossy(w, v, strlen(v));
    else
        natx_jsonw_null(w);
}

/* --status --json: the same facts, one object, printed at once. */
static int status_json(const nattel_options *o, nattel_consent_state state,
                       nattel_consent_source source,
                       const nattel_consent_file *file,
                       const nattel_consent_policy *policy)
{
    char by[2048];
    decided_by(o, source, policy, by, sizeof by);
    char over[512];
    override_text(o, source, file, over, sizeof over);
    nattel_buf b = NATTEL_BUF_INIT;
    natx_jsonw w;
    nattel_error err;
    natx_jsonw_init(&w, &b);
    natx_jsonw_begin_object(&w);
    natx_jsonw_key(&w, "enabled");
    natx_jsonw_bool(&w, state == NATTEL_CONSENT_ENABLED);
    member(&w, "state", nattel_consent_state_name(state));
    member(&w, "source", nattel_consent_source_name(source));
    member(&w, "sourceText", nattel_consent_source_text(source));
    member(&w, "decidedBy", by);
    member(&w, "policy", nattel_policy_level_name(policy->level));
    member(&w, "policyNote", policy->note[0] ? policy->note : NULL);
    member(&w, "consentFile", nattel_options_consent_file(o));
    member(&w, "fileConsent", nattel_consent_state_name(file->state));
    member(&w, "fileConsentedAt",
           file->consented_at[0] ? file->consented_at : NULL);
    member(&w, "filePromptVersion",
           file->prompt_version[0] ? file->prompt_version : NULL);
    member(&w, "fileNote", file->note);
    member(&w, "override", over[0] ? over : NULL);
    natx_jsonw_end_object(&w);
    int ok = !natx_jsonw_finish(&w, &err) && !nattel_buf_append(&b, "\n", 1) &&
             fwrite(b.data, 1, b.len, stdout) == b.len && !fflush(stdout);
    nattel_buf_free(&b);
    if (!ok)
        tool_error("consent", "cannot write the JSON document");
    return ok ? NATTEL_EXIT_OK : NATTEL_EXIT_FAIL;
}

static int show_status(const nattel_options *o, int json)
{
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_resolve(o, &state, &source, NULL);
    nattel_consent_file file = NATTEL_CONSENT_FILE_INIT;
    nattel_consent_file_read(nattel_options_consent_file(o), &file);
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    if (json)
        return status_json(o, state, source, &file, &policy);
    char by[2048];
    decided_by(o, source, &policy, by, sizeof by);
    printf("telemetry: %s\n", nattel_consent_state_name(state));
    printf("decided by: %s\n", by);
    if (policy.level != NATTEL_POLICY_ALLOWED &&
        source != NATTEL_CONSENT_SOURCE_POLICY)
        printf("machine policy: %s\n", policy.note);
    const char *path = nattel_options_consent_file(o);
    printf("consent file: %s\n", path ? path : "(none)");
    printf("consent file says: %s", nattel_consent_state_name(file.state));
    if (file.consented_at[0])
        printf(" (consented_at %s, prompt_version %s)", file.consented_at,
               file.prompt_version[0] ? file.prompt_version : "missing");
    printf("%s%s\n", file.note[0] ? ": " : "", file.note);
    fflush(stdout);
    warn_override(o, source, &file);
    return NATTEL_EXIT_OK;
}

/* A machine policy of "off" refuses a "yes" (and a "local"): the
 * administrator's word beats the person's. */
static int policy_refuses(const nattel_options *o, const char *what)
{
    nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
    nattel_consent_policy_read(o, &policy);
    if (policy.level != NATTEL_POLICY_OFF)
        return 0;
    tool_error("consent",
               "--%s refused: the machine policy %s turns telemetry off (%s)",
               what, policy.decided_by, policy.note);
    return 1;
}

/* Removes what waits in the spool after a revocation, and says so. */
static void clear_spool(const nattel_options *o, const char *decision)
{
    char why[128];
    snprintf(why, sizeof why,
             "consent revoked (nattel consent --%s): spooled events removed "
             "unsent",
             decision);
    size_t removed = 0;
    nattel_error err;
    if (nattel_consent_clear_spool(o, why, &removed, &err)) {
        tool_error("consent", "waiting events not removed: %s", err.message);
        return;
    }
    printf("Removed %zu waiting event%s, never sent (recorded in the audit "
           "log)\n",
           removed, removed == 1 ? "" : "s");
}

static int set(const nattel_options *o, nattel_consent_state want,
               int keep_spool)
{
    const char *name = want == NATTEL_CONSENT_ENABLED ? "enable"
                       : want == NATTEL_CONSENT_LOCAL ? "local"
                                                      : "disable";
    if (want != NATTEL_CONSENT_DISABLED && policy_refuses(o, name))
        return NATTEL_EXIT_FAIL;
    nattel_error err;
    nattel_code rc = want == NATTEL_CONSENT_LOCAL
                         ? nattel_consent_set_local(o, &err)
                         : nattel_consent_set(o, want, &err);
    if (rc) {
        tool_error("consent", "the decision (%s) was not saved: %s",
                   nattel_consent_state_name(want), err.message);
        return NATTEL_EXIT_FAIL;
    }
    if (want == NATTEL_CONSENT_LOCAL)
        printf("Telemetry local: events are kept on this machine, never sent "
               "(`nattel report --local` shows them); saved in %s, and %s "
               "says disabled\n",
               nattel_options_config_file(o), nattel_options_consent_file(o));
    else
        printf("Telemetry %s; saved in %s\n", nattel_consent_state_name(want),
               nattel_options_consent_file(o));
    if (want != NATTEL_CONSENT_ENABLED && !keep_spool)
        clear_spool(o, name);
    fflush(stdout);
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_resolve(o, &state, &source, NULL);
    if (state != want) {
        nattel_consent_file file = NATTEL_CONSENT_FILE_INIT;
        nattel_consent_file_read(nattel_options_consent_file(o), &file);
        warn_override(o, source, &file);
        if (source == NATTEL_CONSENT_SOURCE_POLICY) {
            nattel_consent_policy policy = NATTEL_CONSENT_POLICY_INIT;
            nattel_consent_policy_read(o, &policy);
            tool_error("consent", "warning: %s caps telemetry at %s",
                       policy.decided_by, nattel_consent_state_name(state));
        }
    }
    return NATTEL_EXIT_OK;
}

enum {
    OPT_ENABLE = TOOL_OPT_LONG,
    OPT_DISABLE,
    OPT_STATUS,
    OPT_LOCAL,
    OPT_JSON,
    OPT_KEEP_SPOOL
};

/* The actions first, in enum order: an error names one by its index. */
static const struct option longopts[] = {
    {"enable", no_argument, NULL, OPT_ENABLE},
    {"disable", no_argument, NULL, OPT_DISABLE},
    {"status", no_argument, NULL, OPT_STATUS},
    {"local", no_argument, NULL, OPT_LOCAL},
    {"json", no_argument, NULL, OPT_JSON},
    {"keep-spool", no_argument, NULL, OPT_KEEP_SPOOL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"consent", "h", longopts, 0, 0};

typedef struct consent_args {
    int action;
    int json;
    int keep_spool;
} consent_args;

/* The one action; the same one twice is no conflict. */
static int take(void *ctx, int c, const char *v)
{
    consent_args *a = ctx;
    int *action = &a->action;
    (void)v;
    if (c == OPT_JSON || c == OPT_KEEP_SPOOL) {
        *(c == OPT_JSON ? &a->json : &a->keep_spool) = 1;
        return TOOL_GO;
    }
    if (*action && *action != c)
        return tool_usage_error("consent", "--%s and --%s exclude each other",
                                longopts[*action - OPT_ENABLE].name,
                                longopts[c - OPT_ENABLE].name);
    *action = c;
    return TOOL_GO;
}

int tool_cmd_consent(int argc, char **argv)
{
    consent_args a = {0, 0, 0};
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (parsed != TOOL_GO)
        return parsed;
    int action = a.action;
    if (a.json && action && action != OPT_STATUS)
        return tool_usage_error("consent",
                                "--json goes with --status, not "
                                "--%s",
                                longopts[action - OPT_ENABLE].name);
    if (a.keep_spool && action != OPT_DISABLE && action != OPT_LOCAL)
        return tool_usage_error("consent",
                                "--keep-spool goes with --disable or --local");
    nattel_options *o = tool_options_load("consent");
    if (!o)
        return NATTEL_EXIT_FAIL;
    nattel_consent_state want = action == OPT_ENABLE  ? NATTEL_CONSENT_ENABLED
                                : action == OPT_LOCAL ? NATTEL_CONSENT_LOCAL
                                                      : NATTEL_CONSENT_DISABLED;
    int rc = !action || action == OPT_STATUS ? show_status(o, a.json)
                                             : set(o, want, a.keep_spool);
    nattel_options_free(o);
    return rc;
}
