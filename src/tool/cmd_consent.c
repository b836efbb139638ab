/* nattel consent: the upstream `nat configure telemetry`. */
#include "commands.h"

#include "natx/natx_jsonw.h"

#include <nattel/consent.h>

#include <stdio.h>
#include <string.h>

static const char usage_text[] =
    "usage: nattel consent [--enable | --disable | --status [--json]]\n"
    "\n"
    "Shows or changes the telemetry decision kept in the consent file\n"
    "(NAT_TELEMETRY_CONSENT_FILE, default ~/.config/nat/telemetry.toml, the\n"
    "file the Python `nat` CLI uses too).\n"
    "\n"
    "  --enable   allow anonymous usage telemetry\n"
    "  --disable  refuse it\n"
    "  --status   the effective state and what decided it (the default)\n"
    "  --json     with --status: one JSON object on standard output:\n"
    "             enabled (boolean), state, source, sourceText,\n"
    "             consentFile, fileConsent, fileConsentedAt,\n"
    "             filePromptVersion, fileNote, override (the warning\n"
    "             line when the environment overrides the file, or null)\n"
    "\n"
    "The environment beats the file: DO_NOT_TRACK turns telemetry off,\n"
    "NAT_TELEMETRY_ENABLED=1|0 turns it on or off.\n"
    "\n"
    "Exit status: 0 success, 1 the decision could not be saved, 2 usage.\n";

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
                       const nattel_consent_file *file)
{
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
    if (json)
        return status_json(o, state, source, &file);
    printf("telemetry: %s\n", nattel_consent_state_name(state));
    printf("decided by: %s\n", nattel_consent_source_text(source));
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

static int set(const nattel_options *o, nattel_consent_state want)
{
    nattel_error err;
    if (nattel_consent_set(o, want, &err)) {
        tool_error("consent", "the decision (%s) was not saved: %s",
                   nattel_consent_state_name(want), err.message);
        return NATTEL_EXIT_FAIL;
    }
    printf("Telemetry %s; saved in %s\n", nattel_consent_state_name(want),
           nattel_options_consent_file(o));
    fflush(stdout);
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_resolve(o, &state, &source, NULL);
    if (state != want) {
        nattel_consent_file file = NATTEL_CONSENT_FILE_INIT;
        nattel_consent_file_read(nattel_options_consent_file(o), &file);
        warn_override(o, source, &file);
    }
    return NATTEL_EXIT_OK;
}

enum { OPT_ENABLE = TOOL_OPT_LONG, OPT_DISABLE, OPT_STATUS, OPT_JSON };

static const struct option longopts[] = {
    {"enable", no_argument, NULL, OPT_ENABLE},
    {"disable", no_argument, NULL, OPT_DISABLE},
    {"status", no_argument, NULL, OPT_STATUS},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"consent", "h", longopts, 0, 0};

typedef struct consent_args {
    int action;
    int json;
} consent_args;

/* The one action; the same one twice is no conflict. */
static int take(void *ctx, int c, const char *v)
{
    consent_args *a = ctx;
    int *action = &a->action;
    (void)v;
    if (c == OPT_JSON) {
        a->json = 1;
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
    consent_args a = {0, 0};
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &a);
    if (parsed != TOOL_GO)
        return parsed;
    int action = a.action;
    if (a.json && action && action != OPT_STATUS)
        return tool_usage_error("consent",
                                "--json goes with --status, not "
                                "--%s",
                                longopts[action - OPT_ENABLE].name);
    nattel_options *o = tool_options_load("consent");
    if (!o)
        return NATTEL_EXIT_FAIL;
    int rc = !action || action == OPT_STATUS
                 ? show_status(o, a.json)
                 : set(o, action == OPT_ENABLE ? NATTEL_CONSENT_ENABLED
                                               : NATTEL_CONSENT_DISABLED);
    nattel_options_free(o);
    return rc;
}
