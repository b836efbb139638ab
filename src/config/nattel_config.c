/* The configuration value: every variable of docs/design.md section 4, read
 * once. Also the pieces that hang off it: the clock, the random source,
 * session ids and the debug log. */
#include "config/nattel_config.h"
#include "model/nattel_error.h"
#include "natx/natx_io.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

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

static int64_t realtime_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static nattel_code urandom_bytes(unsigned char *p, size_t n, nattel_error *err)
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return natx_fail(err, NATTEL_EIO, "open /dev/urandom: %s",
                         strerror(errno));
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            return natx_fail(err, NATTEL_EIO, "read /dev/urandom: %s",
                             strerror(e));
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return NATTEL_OK;
}

static nattel_code system_random(void *ctx, void *buf, size_t n,
                                 nattel_error *err)
{
    (void)ctx;
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) /* ENOSYS on old kernels, seccomp filters */
            return urandom_bytes(p, n, err);
        p += r;
        n -= (size_t)r;
    }
    return NATTEL_OK;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
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

static const char *home_dir(nattel_getenv_fn get, void *ctx, char **owned)
{
    const char *home = get(ctx, "HOME");
    *owned = NULL;
    if (home && *home)
        return home;
    return *owned = passwd_home();
}

static int nonempty(const char *s)
{
    return s && *s;
}

/* Paths default under the home directory; without one they stay NULL and
 * the consent file reads as "never asked" (off where nobody is asked). */
static nattel_code read_paths(nattel_config *cfg, nattel_getenv_fn get,
                              void *ctx)
{
    char *owned;
    const char *home = home_dir(get, ctx, &owned);
    const char *file = get(ctx, "NAT_TELEMETRY_CONSENT_FILE");
    const char *state = get(ctx, "NATTEL_STATE_DIR");
    const char *xdg = get(ctx, "XDG_STATE_HOME");
    if (nonempty(file))
        cfg->consent_file = strdup(file);
    else if (home)
        cfg->consent_file = join(home, "/.config/nat/telemetry.toml");
    if (nonempty(state))
        cfg->state_dir = strdup(state);
    else if (nonempty(xdg) && xdg[0] == '/') /* XDG: relative is invalid */
        cfg->state_dir = join(xdg, "/nattel");
    else if (home)
        cfg->state_dir = join(home, "/.local/state/nattel");
    int want_file = nonempty(file) || home;
    int want_state =
        nonempty(state) || (nonempty(xdg) && xdg[0] == '/') || home;
    free(owned);
    if ((want_file && !cfg->consent_file) || (want_state && !cfg->state_dir))
        return NATTEL_ENOMEM;
    return NATTEL_OK;
}

nattel_code nattel_config_from_env(nattel_config *cfg,
                                   nattel_getenv_fn getenv_fn, void *ctx,
                                   nattel_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_fd = 2;
    cfg->prompt = NATTEL_PROMPT_IF_TERMINAL;
    cfg->prompt_in_fd = 0;
    cfg->prompt_out_fd = 2;
    cfg->now_ms = realtime_ms;
    cfg->random_bytes = system_random;
    nattel_getenv_fn get = getenv_fn ? getenv_fn : process_getenv;

    const char *enabled = get(ctx, "NAT_TELEMETRY_ENABLED");
    cfg->env_enabled = enabled ? nattel_truthy(enabled) : -1;
    cfg->env_enabled_raw = dup_or_null(enabled);
    cfg->do_not_track = do_not_track(get(ctx, "DO_NOT_TRACK"));
    const char *endpoint = get(ctx, "NAT_TELEMETRY_ENDPOINT");
    /* Set-but-empty is meaningful (send nothing), so only unset defaults. */
    cfg->endpoint = strdup(endpoint ? endpoint : NATTEL_DEFAULT_ENDPOINT);
    cfg->dry_run = nattel_truthy(get(ctx, "NAT_TELEMETRY_DRY_RUN"));
    const char *prefix = get(ctx, "NAT_SESSION_PREFIX");
    cfg->session_prefix = strdup(prefix ? prefix : "");
    cfg->debug = nattel_truthy(get(ctx, "NATTEL_DEBUG"));
    if (!cfg->endpoint || !cfg->session_prefix ||
        (enabled && !cfg->env_enabled_raw) || read_paths(cfg, get, ctx))
        return natx_fail(err, NATTEL_ENOMEM, "configuration: out of memory");
    return NATTEL_OK;
}

void nattel_config_clear(nattel_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->env_enabled_raw);
    free(cfg->endpoint);
    free(cfg->session_prefix);
    free(cfg->consent_file);
    free(cfg->state_dir);
    cfg->env_enabled_raw = cfg->endpoint = cfg->session_prefix = NULL;
    cfg->consent_file = cfg->state_dir = NULL;
}

int64_t nattel_config_now_ms(const nattel_config *cfg)
{
    return cfg->now_ms ? cfg->now_ms(cfg->clock_ctx) : realtime_ms(NULL);
}

nattel_code nattel_session_id_new(const nattel_config *cfg, char **out,
                                  nattel_error *err)
{
    unsigned char raw[NATTEL_SESSION_HEX_LEN / 2];
    nattel_code rc =
        cfg->random_bytes
            ? cfg->random_bytes(cfg->random_ctx, raw, sizeof raw, err)
            : system_random(NULL, raw, sizeof raw, err);
    if (rc)
        return rc;
    /* A UUID4 (upstream's uuid.uuid4().hex): version nibble 4, variant
     * bits 10 (the 17th digit is 8, 9, a or b). */
    raw[6] = (unsigned char)((raw[6] & 0x0F) | 0x40);
    raw[8] = (unsigned char)((raw[8] & 0x3F) | 0x80);
    const char *prefix = cfg->session_prefix ? cfg->session_prefix : "";
    size_t plen = strlen(prefix);
    char *id = malloc(plen + NATTEL_SESSION_HEX_LEN + 1);
    if (!id)
        return natx_fail(err, NATTEL_ENOMEM, "session id: out of memory");
    memcpy(id, prefix, plen);
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        id[plen + 2 * i] = hex[raw[i] >> 4];
        id[plen + 2 * i + 1] = hex[raw[i] & 15];
    }
    id[plen + NATTEL_SESSION_HEX_LEN] = '\0';
    *out = id;
    return NATTEL_OK;
}

void nattel_debug(const nattel_config *cfg, const char *fmt, ...)
{
    if (!cfg || !cfg->debug)
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
    (void)natx_write_all(cfg->log_fd, line, len);
}
