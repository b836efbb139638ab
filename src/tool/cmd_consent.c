/* nattel consent: the upstream `nat configure telemetry`. */
#include "commands.h"

#include <nattel/consent.h>

#include <stdio.h>

static const char usage_text[] =
    "usage: nattel consent [--enable | --disable | --status]\n"
    "\n"
    "Shows or changes the telemetry decision kept in the consent file\n"
    "(NAT_TELEMETRY_CONSENT_FILE, default ~/.config/nat/telemetry.toml, the\n"
    "file the Python `nat` CLI uses too).\n"
    "\n"
    "  --enable   allow anonymous usage telemetry\n"
    "  --disable  refuse it\n"
    "  --status   the effective state and what decided it (the default)\n"
    "\n"
    "The environment beats the file: DO_NOT_TRACK turns telemetry off,\n"
    "NAT_TELEMETRY_ENABLED=1|0 turns it on or off.\n"
    "\n"
    "Exit status: 0 success, 1 the decision could not be saved, 2 usage.\n";

/* Says when the environment, not the file, decides. */
static void warn_override(const nattel_options *o, nattel_consent_source source,
                          const nattel_consent_file *file)
{
    if (source == NATTEL_CONSENT_SOURCE_DO_NOT_TRACK)
        tool_error("consent",
                   "warning: DO_NOT_TRACK is set: telemetry "
                   "is off whatever the consent file says (%s)",
                   nattel_consent_state_name(file->state));
    else if (source == NATTEL_CONSENT_SOURCE_ENV)
        tool_error("consent",
                   "warning: NAT_TELEMETRY_ENABLED=%s in the "
                   "environment overrides the consent file (%s)",
                   nattel_options_env_enabled_raw(o),
                   nattel_consent_state_name(file->state));
}

static int show_status(const nattel_options *o)
{
    nattel_consent_state state;
    nattel_consent_source source;
    nattel_consent_resolve(o, &state, &source, NULL);
    nattel_consent_file file;
    nattel_consent_file_read(nattel_options_consent_file(o), &file);
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
        nattel_consent_file file;
        nattel_consent_file_read(nattel_options_consent_file(o), &file);
        warn_override(o, source, &file);
    }
    return NATTEL_EXIT_OK;
}

enum { OPT_ENABLE = TOOL_OPT_LONG, OPT_DISABLE, OPT_STATUS };

static const struct option longopts[] = {
    {"enable", no_argument, NULL, OPT_ENABLE},
    {"disable", no_argument, NULL, OPT_DISABLE},
    {"status", no_argument, NULL, OPT_STATUS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
static const tool_spec spec = {"consent", "h", longopts, 0, 0};

/* The one action; the same one twice is no conflict. */
static int take(void *ctx, int c, const char *v)
{
    int *action = ctx;
    if (*action && *action != c)
        return tool_usage_error("consent", "--%s and --%s exclude each other",
                                longopts[*action - OPT_ENABLE].name,
                                longopts[c - OPT_ENABLE].name);
    *action = c;
    return TOOL_GO;
}

int tool_cmd_consent(int argc, char **argv)
{
    int action = 0;
    int parsed = tool_parse(&spec, usage_text, argc, argv, take, &action);
    if (parsed != TOOL_GO)
        return parsed;
    nattel_options *o = tool_options_load("consent");
    if (!o)
        return NATTEL_EXIT_FAIL;
    int rc = !action || action == OPT_STATUS
                 ? show_status(o)
                 : set(o, action == OPT_ENABLE ? NATTEL_CONSENT_ENABLED
                                               : NATTEL_CONSENT_DISABLED);
    nattel_options_free(o);
    return rc;
}
