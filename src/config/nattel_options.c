/*
 * The options: defaults, setters, getters, and the one table of settings
 * that reads the NAT-compatible environment, copies, frees and hands the
 * settings to a flusher process.
 */
#include "config/nattel_options.h"
#include "nattel_limits.h"
#include "config/nattel_sink.h"
#include "model/nattel_error.h"
#include "natx/natx_utf8.h"
#include "natx/natx_clock.h"
#include "natx/natx_io.h"
#include "natx/natx_random.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* The table of settings                                               */
/* ------------------------------------------------------------------ */

typedef enum setting_kind {
    KIND_STRING,   /* char *: as set, "" included; unset: the default */
    KIND_NONEMPTY, /* char *: "" counts as unset; unset keeps the value */
    KIND_PATH,     /* char *: non-empty value, else a home-based default */
    KIND_TRUTHY,   /* int: nattel_truthy() */
    KIND_DNT,      /* int: the DO_NOT_TRACK rule */
    KIND_TRISTATE, /* char * raw value and int verdict (-1 unset) */
    KIND_INT64,    /* int64_t > 0; unset keeps the value */
    KIND_SIZE,     /* size_t > 0; unset keeps the value */
    KIND_MODE,     /* nattel_delivery_mode by name; unset keeps it */
    KIND_CI        /* char *: the first CI variable set, else NULL */
} setting_kind;

typedef struct setting {
    /* The variable: a public one, or NATTEL_HANDOFF_* (handoff = 1) that
     * only the flusher's read honours. */
    const char *var;
    int handoff;
    setting_kind kind;
    size_t off;  /* the field in struct nattel_options */
    size_t off2; /* KIND_TRISTATE: the int verdict */
    const char *def_str;
    int64_t def_num;
    /* KIND_PATH: the default under the home directory, or NULL. */
    char *(*fallback)(const char *home, nattel_getenv_fn get, void *ctx);
} setting;

#define AT(field) offsetof(struct nattel_options, field)

static char *consent_file_default(const char *home, nattel_getenv_fn get,
                                  void *ctx);
static char *state_dir_default(const char *home, nattel_getenv_fn get,
                               void *ctx);
static char *config_file_default(const char *home, nattel_getenv_fn get,
                                 void *ctx);

static const setting settings[] = {
    {"NAT_TELEMETRY_ENABLED", 0, KIND_TRISTATE, AT(env_enabled_raw),
     AT(env_enabled), NULL, -1, NULL},
    {"DO_NOT_TRACK", 0, KIND_DNT, AT(do_not_track), 0, NULL, 0, NULL},
    /* Set-but-empty is meaningful (send nothing): only unset defaults. */
    {"NAT_TELEMETRY_ENDPOINT", 0, KIND_STRING, AT(endpoint), 0,
     NATTEL_DEFAULT_ENDPOINT, 0, NULL},
    {"NAT_TELEMETRY_DRY_RUN", 0, KIND_TRUTHY, AT(dry_run), 0, NULL, 0, NULL},
    {"NAT_SESSION_PREFIX", 0, KIND_STRING, AT(session_prefix), 0, "", 0, NULL},
    {"NAT_TELEMETRY_CONSENT_FILE", 0, KIND_PATH, AT(consent_file), 0, NULL, 0,
     consent_file_default},
    {"NATTEL_STATE_DIR", 0, KIND_PATH, AT(state_dir), 0, NULL, 0,
     state_dir_default},
    {"NATTEL_DEBUG", 0, KIND_TRUTHY, AT(debug), 0, NULL, 0, NULL},
    {"NATTEL_FLUSHER", 0, KIND_NONEMPTY, AT(flusher_path), 0, NULL, 0, NULL},
    /* One more policy file; it can add a restriction, never lift one. */
    {"NATTEL_POLICY_FILE", 0, KIND_STRING, AT(policy_file), 0, NULL, 0, NULL},
    {"NATTEL_CONFIG_FILE", 0, KIND_PATH, AT(config_file), 0, NULL, 0,
     config_file_default},
    /* Read from the CI variables of docs/configuration.md; handed to a
     * flusher as CI=<the variable found>. */
    {"CI", 0, KIND_CI, AT(ci), 0, NULL, 0, NULL},
    {"NATTEL_DELIVERY", 0, KIND_MODE, AT(mode), 0, NULL, NATTEL_DELIVERY_SPAWN,
     NULL},
    {"NATTEL_HANDOFF_CLIENT_VERSION", 1, KIND_NONEMPTY, AT(client_version), 0,
     "unknown", 0, NULL},
    {"NATTEL_HANDOFF_CONNECT_MS", 1, KIND_INT64, AT(connect_ms), 0, NULL,
     NATTEL__CONNECT_MS, NULL},
    {"NATTEL_HANDOFF_TOTAL_MS", 1, KIND_INT64, AT(total_ms), 0, NULL,
     NATTEL__TOTAL_MS, NULL},
    {"NATTEL_HANDOFF_MAX_EVENTS", 1, KIND_SIZE, AT(max_events), 0, NULL,
     NATTEL__SPOOL_MAX_EVENTS, NULL},
    {"NATTEL_HANDOFF_MAX_BYTES", 1, KIND_SIZE, AT(max_bytes), 0, NULL,
     NATTEL__SPOOL_MAX_BYTES, NULL},
};

#define N_SETTINGS (sizeof settings / sizeof *settings)

static int is_string(setting_kind k)
{
    return k == KIND_STRING || k == KIND_NONEMPTY || k == KIND_PATH ||
           k == KIND_TRISTATE || k == KIND_CI;
}

static char **str_at(const nattel_options *o, const setting *s)
{
    return (char **)((char *)o + s->off);
}

static int *int_at(const nattel_options *o, size_t off)
{
    return (int *)((char *)o + off);
}

static int64_t *i64_at(const nattel_options *o, const setting *s)
{
    return (int64_t *)((char *)o + s->off);
}

static size_t *size_at(const nattel_options *o, const setting *s)
{
    return (size_t *)((char *)o + s->off);
}

/* ------------------------------------------------------------------ */
/* Defaults, copy, free                                                */
/* ------------------------------------------------------------------ */

static int set_default(nattel_options *o, const setting *s)
{
    switch (s->kind) {
    case KIND_STRING:
    case KIND_NONEMPTY:
    case KIND_PATH:
    case KIND_CI:
        *str_at(o, s) = s->def_str ? strdup(s->def_str) : NULL;
        return s->def_str && !*str_at(o, s);
    case KIND_TRISTATE:
        *int_at(o, s->off2) = (int)s->def_num;
        break;
    case KIND_TRUTHY:
    case KIND_DNT:
        *int_at(o, s->off) = (int)s->def_num;
        break;
    case KIND_INT64:
        *i64_at(o, s) = s->def_num;
        break;
    case KIND_SIZE:
        *size_at(o, s) = (size_t)s->def_num;
        break;
    case KIND_MODE:
        *(nattel_delivery_mode *)((char *)o + s->off) =
            (nattel_delivery_mode)s->def_num;
        break;
    }
    return 0;
}

nattel_options *nattel_options_new(void)
{
    nattel_options *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < N_SETTINGS; i++)
        bad |= set_default(o, &settings[i]);
    if (bad) {
        nattel_options_free(o);
        return NULL;
    }
    o->prompt = NATTEL_PROMPT_IF_TERMINAL;
    o->log_fd = 2;
    return o;
}

void nattel_options_free(nattel_options *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (is_string(settings[i].kind))
            free(*str_at(o, &settings[i]));
    nattel_transport_free(o->transport);
    free(o->event_sys_ver);
    free(o);
}

nattel_options *nattel__options_dup(const nattel_options *o)
{
    nattel_options *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *o;
    c->transport = NULL;
    c->event_sys_ver = o->event_sys_ver ? strdup(o->event_sys_ver) : NULL;
    int bad = o->event_sys_ver && !c->event_sys_ver;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (!is_string(settings[i].kind))
            continue;
        char **slot = str_at(c, &settings[i]);
        const char *src = *slot;
        *slot = src ? strdup(src) : NULL;
        bad |= src && !*slot;
    }
    if (bad) {
        nattel_options_free(c);
        return NULL;
    }
    return c;
}

/* ------------------------------------------------------------------ */
/* Reading the environment                                             */
/* ------------------------------------------------------------------ */

const char *nattel_envp_lookup(void *envp, const char *name)
{
    size_t n = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (!strncmp(*e, name, n) && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

static const char *process_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

int nattel__word_eq(const char *value, const char *word)
{
    if (!value)
        return 0;
    while (isspace((unsigned char)*value))
        value++;
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    return n == strlen(word) && !strncasecmp(value, word, n);
}

int nattel_truthy(const char *value)
{
    return nattel__word_eq(value, "1") || nattel__word_eq(value, "true") ||
           nattel__word_eq(value, "yes");
}

static int do_not_track(const char *value)
{
    /* Any value but exactly "", "0" or "false" means the user opted out of
     * all tracking (consoledonottrack.com). Exact on purpose: when in doubt
     * (" 0", "FALSE"), the user asked not to be tracked. */
    return value && *value && strcmp(value, "0") != 0 &&
           strcmp(value, "false") != 0;
}

static int nonempty(const char *s)
{
    return s && *s;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

/* The password database's home of the real user, malloc'd, or NULL.
 * getpwuid_r, because a threaded host may look users up meanwhile; the
 * buffer starts at the system's suggestion and grows on ERANGE. */
static char *passwd_home(void)
{
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t cap = hint > 0 ? (size_t)hint : 1024;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf)
            return NULL;
        struct passwd pw, *found = NULL;
        int e = getpwuid_r(getuid(), &pw, buf, cap, &found);
        if (e == ERANGE && cap < (1u << 20)) {
            free(buf);
            cap *= 2;
            continue;
        }
        char *home = !e && found && found->pw_dir && *found->pw_dir
                         ? strdup(found->pw_dir)
                         : NULL;
        free(buf);
        return home;
    }
}

static char *consent_file_default(const char *home, nattel_getenv_fn get,
                                  void *ctx)
{
    (void)get;
    (void)ctx;
    return home ? join(home, "/.config/nat/telemetry.toml") : NULL;
}

/* nattel's own settings (the local-only choice), beside NAT's file. */
static char *config_file_default(const char *home, nattel_getenv_fn get,
                                 void *ctx)
{
    const char *xdg = get(ctx, "XDG_CONFIG_HOME");
    if (nonempty(xdg) && xdg[0] == '/') /* XDG: relative is invalid */
        return join(xdg, "/nattel/config.toml");
    return home ? join(home, "/.config/nattel/config.toml") : NULL;
}

/* The CI systems whose variables mark a run nobody watches (dotnet's
 * list, Guardrails' CI and PYTEST_CURRENT_TEST): docs/configuration.md
 * lists them. CI itself counts unless "", "0" or "false" (CI=false is a
 * common way to say "not CI"); the others when non-empty. */
static const char *const ci_vars[] = {"CI",
                                      "GITHUB_ACTIONS",
                                      "GITLAB_CI",
                                      "BUILDKITE",
                                      "CIRCLECI",
                                      "TRAVIS",
                                      "JENKINS_URL",
                                      "TF_BUILD",
                                      "TEAMCITY_VERSION",
                                      "CODEBUILD_BUILD_ID",
                                      "BITBUCKET_BUILD_NUMBER",
                                      "APPVEYOR",
                                      "PYTEST_CURRENT_TEST"};

static const char *ci_found(nattel_getenv_fn get, void *ctx)
{
    for (size_t i = 0; i < sizeof ci_vars / sizeof *ci_vars; i++) {
        const char *v = get(ctx, ci_vars[i]);
        if (!nonempty(v))
            continue;
        if (i == 0 && (!strcmp(v, "0") || nattel__word_eq(v, "false")))
            continue;
        return ci_vars[i];
    }
    return NULL;
}

static char *state_dir_default(const char *home, nattel_getenv_fn get,
                               void *ctx)
{
    const char *xdg = get(ctx, "XDG_STATE_HOME");
    if (nonempty(xdg) && xdg[0] == '/') /* XDG: relative is invalid */
        return join(xdg, "/nattel");
    return home ? join(home, "/.local/state/nattel") : NULL;
}

/* One read of the environment: the variables, and the home directory
 * (HOME, else the password database) looked up once, when a path needs
 * it. */
typedef struct env_reader {
    nattel_getenv_fn get;
    void *ctx;
    int home_done;
    const char *home;
    char *home_owned;
} env_reader;

static const char *reader_home(env_reader *r)
{
    if (!r->home_done) {
        const char *home = r->get(r->ctx, "HOME");
        r->home_done = 1;
        if (nonempty(home)) {
            r->home = home;
        } else {
            r->home_owned = passwd_home();
            r->home = r->home_owned;
        }
    }
    return r->home;
}

/* Replaces *slot with a copy of v (NULL stays NULL). */
static nattel_code set_str(char **slot, const char *v, const char *what,
                           nattel_error *err)
{
    char *copy = NULL;
    if (v) {
        copy = strdup(v);
        if (!copy)
            return natx_fail(err, NATTEL_ENOMEM, "%s: out of memory", what);
    }
    free(*slot);
    *slot = copy;
    return NATTEL_OK;
}

/* NATTEL_DELIVERY: "spawn", "in-process", "spool-only"; anything else is
 * an error so a typo does not silently change where events go. */
static const char *const mode_names[] = {"spawn", "in-process", "spool-only"};

static nattel_code read_mode(const setting *s, const char *v, nattel_options *o,
                             nattel_error *err)
{
    for (size_t m = 0; m < sizeof mode_names / sizeof *mode_names; m++) {
        if (!strcmp(v, mode_names[m])) {
            *(nattel_delivery_mode *)((char *)o + s->off) =
                (nattel_delivery_mode)m;
            return NATTEL_OK;
        }
    }
    return natx_fail(err, NATTEL_EINVAL,
                     "%s: '%s' is not spawn, in-process or spool-only", s->var,
                     v);
}

static nattel_code read_number(const setting *s, const char *v,
                               nattel_options *o, nattel_error *err)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n <= 0 || errno)
        return natx_fail(err, NATTEL_EINVAL,
                         "%s: '%s' is not a positive number", s->var, v);
    if (s->kind == KIND_INT64)
        *i64_at(o, s) = n;
    else
        *size_at(o, s) = (size_t)n;
    return NATTEL_OK;
}

static nattel_code read_path(const setting *s, const char *v, nattel_options *o,
                             env_reader *r, nattel_error *err)
{
    if (nonempty(v))
        return set_str(str_at(o, s), v, s->var, err);
    /* Without a home directory (and no value) the option keeps what it
     * had: the consent file then reads as "never asked". */
    char *def = s->fallback(reader_home(r), r->get, r->ctx);
    if (def) {
        free(*str_at(o, s));
        *str_at(o, s) = def;
    }
    return NATTEL_OK;
}

static nattel_code read_setting(const setting *s, nattel_options *o,
                                env_reader *r, nattel_error *err)
{
    const char *v = r->get(r->ctx, s->var);
    switch (s->kind) {
    case KIND_STRING:
        return set_str(str_at(o, s), v ? v : s->def_str, s->var, err);
    case KIND_NONEMPTY:
        return nonempty(v) ? set_str(str_at(o, s), v, s->var, err) : NATTEL_OK;
    case KIND_PATH:
        return read_path(s, v, o, r, err);
    case KIND_TRUTHY:
        *int_at(o, s->off) = nattel_truthy(v);
        return NATTEL_OK;
    case KIND_DNT:
        *int_at(o, s->off) = do_not_track(v);
        return NATTEL_OK;
    case KIND_TRISTATE:
        *int_at(o, s->off2) = v ? nattel_truthy(v) : -1;
        return set_str(str_at(o, s), v, s->var, err);
    case KIND_INT64:
    case KIND_SIZE:
        return nonempty(v) ? read_number(s, v, o, err) : NATTEL_OK;
    case KIND_MODE:
        return nonempty(v) ? read_mode(s, v, o, err) : NATTEL_OK;
    case KIND_CI:
        return set_str(str_at(o, s), ci_found(r->get, r->ctx), s->var, err);
    }
    return NATTEL_OK;
}

/* Reads into a copy, so an error leaves `o` as it was. */
static nattel_code read_env(nattel_options *o, nattel_getenv_fn getenv_fn,
                            void *ctx, int handoff, nattel_error *err)
{
    env_reader r = {.get = getenv_fn ? getenv_fn : process_getenv, .ctx = ctx};
    nattel_options *next = nattel__options_dup(o);
    if (!next)
        return natx_fail(err, NATTEL_ENOMEM, "configuration: out of memory");
    nattel_code rc = NATTEL_OK;
    for (size_t i = 0; i < N_SETTINGS && !rc; i++)
        if (handoff || !settings[i].handoff)
            rc = read_setting(&settings[i], next, &r, err);
    free(r.home_owned);
    if (rc) {
        nattel_options_free(next);
        return rc;
    }
    /* Swap the settings in; the transport stays o's. */
    next->transport = o->transport;
    o->transport = NULL;
    nattel_options tmp = *o;
    *o = *next;
    *next = tmp;
    nattel_options_free(next);
    return NATTEL_OK;
}

nattel_code nattel_options_from_env(nattel_options *o,
                                    nattel_getenv_fn getenv_fn, void *ctx,
                                    nattel_error *err)
{
    return read_env(o, getenv_fn, ctx, 0, err);
}

nattel_code nattel__options_from_handoff(nattel_options *o,
                                         nattel_getenv_fn getenv_fn, void *ctx,
                                         nattel_error *err)
{
    return read_env(o, getenv_fn, ctx, 1, err);
}

/* ------------------------------------------------------------------ */
/* Hand-off to the flusher                                             */
/* ------------------------------------------------------------------ */

/* "VAR=value" for one setting, malloc'd; NULL value: the setting's
 * variable is left out (it reads back as unset). */
static int serialize(const nattel_options *o, const setting *s, char **out)
{
    char num[32];
    const char *v = NULL;
    *out = NULL;
    switch (s->kind) {
    case KIND_STRING:
    case KIND_NONEMPTY:
    case KIND_PATH:
    case KIND_TRISTATE:
    case KIND_CI:
        v = *str_at(o, s);
        break;
    case KIND_TRUTHY:
    case KIND_DNT:
        v = *int_at(o, s->off) ? "1" : NULL;
        break;
    case KIND_INT64:
        snprintf(num, sizeof num, "%" PRId64, *i64_at(o, s));
        v = num;
        break;
    case KIND_SIZE:
        snprintf(num, sizeof num, "%zu", *size_at(o, s));
        v = num;
        break;
    case KIND_MODE:
        v = mode_names[*(nattel_delivery_mode *)((char *)o + s->off)];
        break;
    }
    if (!v)
        return 0;
    size_t n = strlen(s->var) + 1 + strlen(v) + 1;
    *out = malloc(n);
    if (!*out)
        return 1;
    snprintf(*out, n, "%s=%s", s->var, v);
    return 0;
}

static int is_setting_var(const char *entry)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        size_t n = strlen(settings[i].var);
        if (!strncmp(entry, settings[i].var, n) && entry[n] == '=')
            return 1;
    }
    return 0;
}

nattel_code nattel__handoff_env(const nattel_options *o, char **environ_,
                                nattel__handoff *h, nattel_error *err)
{
    size_t n = 0;
    while (environ_ && environ_[n])
        n++;
    h->owned = 0;
    h->envp = calloc(n + N_SETTINGS + 1, sizeof *h->envp);
    if (!h->envp)
        return natx_fail(err, NATTEL_ENOMEM, "flusher: out of memory");
    int bad = 0;
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char *line;
        bad |= serialize(o, &settings[i], &line);
        if (line)
            h->envp[h->owned++] = line;
    }
    size_t k = h->owned;
    for (size_t i = 0; i < n; i++)
        if (!is_setting_var(environ_[i]))
            h->envp[k++] = environ_[i];
    if (bad) {
        nattel__handoff_free(h);
        return natx_fail(err, NATTEL_ENOMEM, "flusher: out of memory");
    }
    return NATTEL_OK;
}

void nattel__handoff_free(nattel__handoff *h)
{
    if (!h->envp)
        return;
    for (size_t i = 0; i < h->owned; i++)
        free(h->envp[i]);
    free(h->envp);
    h->envp = NULL;
    h->owned = 0;
}

/* ------------------------------------------------------------------ */
/* Setters and getters                                                 */
/* ------------------------------------------------------------------ */

nattel_code nattel_options_set_endpoint(nattel_options *o, const char *url,
                                        nattel_error *err)
{
    nattel_sink_kind kind;
    nattel_code rc = nattel__sink_rule(url, 0, "endpoint", &kind, err);
    if (rc)
        return rc;
    return set_str(&o->endpoint, url, "endpoint", err);
}

const char *nattel_options_endpoint(const nattel_options *o)
{
    return o->endpoint;
}

nattel_code nattel_options_set_state_dir(nattel_options *o, const char *dir,
                                         nattel_error *err)
{
    if (!dir || dir[0] != '/')
        return natx_fail(err, NATTEL_EINVAL,
                         "state directory: '%s' is not an absolute path",
                         dir ? dir : "(null)");
    return set_str(&o->state_dir, dir, "state directory", err);
}

nattel_code nattel_options_set_consent_file(nattel_options *o, const char *path,
                                            nattel_error *err)
{
    if (!path || !*path)
        return natx_fail(err, NATTEL_EINVAL, "consent file: empty path");
    return set_str(&o->consent_file, path, "consent file", err);
}

const char *nattel_options_consent_file(const nattel_options *o)
{
    return o->consent_file;
}

nattel_code nattel_options_set_client_version(nattel_options *o,
                                              const char *version,
                                              nattel_error *err)
{
    if (!version || !*version)
        return natx_fail(err, NATTEL_EINVAL, "client version: empty");
    return set_str(&o->client_version, version, "client version", err);
}

const char *nattel_options_client_version(const nattel_options *o)
{
    return o->client_version;
}

nattel_code nattel_options_set_event_sys_ver(nattel_options *o, const char *v,
                                             nattel_error *err)
{
    if (!v || !*v || natx_utf8_valid_prefix(v, strlen(v)) != strlen(v))
        return natx_fail(err, NATTEL_EINVAL, "eventSysVer: %s",
                         v && *v ? "not valid UTF-8" : "empty");
    return set_str(&o->event_sys_ver, v, "eventSysVer", err);
}

const char *nattel_options_event_sys_ver(const nattel_options *o)
{
    return o->event_sys_ver ? o->event_sys_ver : NATTEL_EVENT_SYS_VER;
}

nattel_code nattel_options_set_session_prefix(nattel_options *o,
                                              const char *prefix,
                                              nattel_error *err)
{
    return set_str(&o->session_prefix, prefix ? prefix : "", "session prefix",
                   err);
}

const char *nattel_options_session_prefix(const nattel_options *o)
{
    return o->session_prefix;
}

int nattel_options_env_enabled(const nattel_options *o)
{
    return o->env_enabled;
}

const char *nattel_options_env_enabled_raw(const nattel_options *o)
{
    return o->env_enabled_raw;
}

int nattel_options_do_not_track(const nattel_options *o)
{
    return o->do_not_track;
}

const char *nattel_options_policy_file(const nattel_options *o)
{
    return o->policy_file && *o->policy_file ? o->policy_file : NULL;
}

const char *nattel_options_config_file(const nattel_options *o)
{
    return o->config_file;
}

const char *nattel_options_ci(const nattel_options *o)
{
    return o->ci;
}

void nattel_options_set_prompt(nattel_options *o, nattel_prompt_mode mode)
{
    o->prompt = mode;
}

void nattel_options_set_dry_run(nattel_options *o, int on)
{
    o->dry_run = !!on;
}

int nattel_options_dry_run(const nattel_options *o)
{
    return o->dry_run;
}

void nattel_options_set_debug(nattel_options *o, int on)
{
    o->debug = !!on;
}

void nattel_options_set_log_fd(nattel_options *o, int fd)
{
    o->log_fd = fd;
}

nattel_code nattel_options_set_timeouts(nattel_options *o, int64_t connect_ms,
                                        int64_t total_ms, nattel_error *err)
{
    if (connect_ms <= 0 || total_ms <= 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "timeouts: connect %lld ms and total %lld ms must "
                         "be positive",
                         (long long)connect_ms, (long long)total_ms);
    o->connect_ms = connect_ms;
    o->total_ms = total_ms;
    return NATTEL_OK;
}

nattel_code nattel_options_set_spool_limits(nattel_options *o,
                                            size_t max_events, size_t max_bytes,
                                            nattel_error *err)
{
    if (!max_events || !max_bytes)
        return natx_fail(err, NATTEL_EINVAL,
                         "spool limits: %zu events and %zu bytes must be "
                         "positive",
                         max_events, max_bytes);
    o->max_events = max_events;
    o->max_bytes = max_bytes;
    return NATTEL_OK;
}

void nattel_options_set_delivery_mode(nattel_options *o,
                                      nattel_delivery_mode mode)
{
    o->mode = mode;
}

nattel_delivery_mode nattel_options_delivery_mode(const nattel_options *o)
{
    return o->mode;
}

nattel_code nattel_options_set_flusher_path(nattel_options *o, const char *path,
                                            nattel_error *err)
{
    if (!path || !*path)
        return natx_fail(err, NATTEL_EINVAL, "flusher path: empty");
    return set_str(&o->flusher_path, path, "flusher path", err);
}

void nattel_options_set_clock(nattel_options *o,
                              int64_t (*realtime_ms)(void *ctx),
                              int64_t (*monotonic_ms)(void *ctx), void *ctx)
{
    o->realtime_ms = realtime_ms;
    o->monotonic_ms = monotonic_ms;
    o->clock_ctx = ctx;
}

void nattel_options_set_random(nattel_options *o,
                               nattel_code (*random_bytes)(void *ctx, void *buf,
                                                           size_t n,
                                                           nattel_error *err),
                               void *ctx)
{
    o->random_bytes = random_bytes;
    o->random_ctx = ctx;
}

void nattel_options_set_transport(nattel_options *o, nattel_transport *t)
{
    if (o->transport != t)
        nattel_transport_free(o->transport);
    o->transport = t;
}

/* ------------------------------------------------------------------ */
/* Seams: clock, random source, debug log                              */
/* ------------------------------------------------------------------ */

int64_t nattel__now_real(const nattel_options *o)
{
    return o->realtime_ms ? o->realtime_ms(o->clock_ctx)
                          : natx_clock_realtime_ms();
}

int64_t nattel_options_now_ms(const nattel_options *o)
{
    return nattel__now_real(o);
}

int64_t nattel__now_mono(const nattel_options *o)
{
    return o->monotonic_ms ? o->monotonic_ms(o->clock_ctx)
                           : natx_clock_monotonic_ms();
}

nattel_code nattel__random(const nattel_options *o, void *buf, size_t n,
                           nattel_error *err)
{
    if (o->random_bytes)
        return o->random_bytes(o->random_ctx, buf, n, err);
    return natx_random_bytes(buf, n, err);
}

void nattel_debug(const nattel_options *o, const char *fmt, ...)
{
    if (!o || !o->debug)
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "nattel: debug: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    /* One write, so lines of concurrent processes do not interleave. */
    (void)natx_write_all(o->log_fd, line, len);
}

nattel_code nattel_options_sink(const nattel_options *o, nattel_sink_kind *out,
                                nattel_error *err)
{
    return nattel__sink_rule(o->endpoint, o->dry_run, "NAT_TELEMETRY_ENDPOINT",
                             out, err);
}

const char *nattel_options_state_dir(const nattel_options *o)
{
    return o ? o->state_dir : NULL;
}
