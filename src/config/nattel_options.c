/* Client options: defaults, setters and the NAT-compatible environment. */
#include "config/nattel_options.h"
#include "delivery/nattel_delivery_limits.h"
#include "model/nattel_error.h"
#include "delivery/nattel_sink.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

nattel_options *nattel_options_new(void)
{
    nattel_options *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->endpoint = strdup(NATTEL_DEFAULT_ENDPOINT);
    o->client_version = strdup("unknown");
    o->session_prefix = strdup("");
    if (!o->endpoint || !o->client_version || !o->session_prefix) {
        nattel_options_free(o);
        return NULL;
    }
    o->env_enabled = -1;
    o->prompt = NATTEL_PROMPT_IF_TERMINAL;
    o->log_fd = 2;
    o->connect_ms = NATTEL__CONNECT_MS;
    o->total_ms = NATTEL__TOTAL_MS;
    o->max_events = NATTEL__SPOOL_MAX_EVENTS;
    o->max_bytes = NATTEL__SPOOL_MAX_BYTES;
    o->mode = NATTEL_DELIVERY_SPAWN;
    return o;
}

void nattel_options_free(nattel_options *o)
{
    if (!o)
        return;
    free(o->endpoint);
    free(o->state_dir);
    free(o->consent_file);
    free(o->client_version);
    free(o->session_prefix);
    free(o->flusher_path);
    free(o->env_enabled_raw);
    nattel_transport_free(o->transport);
    free(o);
}

/* Replaces *slot with a copy of v (NULL stays NULL). */
static nattel_code set_str(char **slot, const char *v, const char *what,
                           nattel_error *err)
{
    char *copy = NULL;
    if (v && !(copy = strdup(v)))
        return natx_fail(err, NATTEL_ENOMEM, "%s: out of memory", what);
    free(*slot);
    *slot = copy;
    return NATTEL_OK;
}

nattel_code nattel_options_set_endpoint(nattel_options *o, const char *url,
                                        nattel_error *err)
{
    if (!url || (*url && strcmp(url, NATTEL_ENDPOINT_STDOUT) &&
                 !nattel__is_http_url(url)))
        return natx_fail(err, NATTEL_EINVAL,
                         "endpoint: '%s' is not an http(s) URL, \"stdout\" "
                         "or empty",
                         url ? url : "(null)");
    return set_str(&o->endpoint, url, "endpoint", err);
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

nattel_code nattel_options_set_client_version(nattel_options *o,
                                              const char *version,
                                              nattel_error *err)
{
    if (!version || !*version)
        return natx_fail(err, NATTEL_EINVAL, "client version: empty");
    return set_str(&o->client_version, version, "client version", err);
}

void nattel_options_set_prompt(nattel_options *o, nattel_prompt_mode mode)
{
    o->prompt = mode;
}

void nattel_options_set_dry_run(nattel_options *o, int on)
{
    o->dry_run = !!on;
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

/* NATTEL_DELIVERY: "spawn", "in-process", "spool-only"; anything else is
 * an error so a typo does not silently change where events go. */
static nattel_code delivery_mode(const char *v, nattel_delivery_mode *out,
                                 nattel_error *err)
{
    if (!strcmp(v, "spawn"))
        *out = NATTEL_DELIVERY_SPAWN;
    else if (!strcmp(v, "in-process"))
        *out = NATTEL_DELIVERY_IN_PROCESS;
    else if (!strcmp(v, "spool-only"))
        *out = NATTEL_DELIVERY_SPOOL_ONLY;
    else
        return natx_fail(err, NATTEL_EINVAL,
                         "NATTEL_DELIVERY: '%s' is not spawn, in-process "
                         "or spool-only",
                         v);
    return NATTEL_OK;
}

static const char *process_getenv(void *ctx, const char *name)
{
    (void)ctx;
    return getenv(name);
}

/* Moves the config's strings into the options. */
nattel_code nattel__options_apply_config(nattel_options *o,
                                         const nattel_config *cfg,
                                         nattel_error *err)
{
    nattel_code rc;
    if ((rc = set_str(&o->endpoint, cfg->endpoint ? cfg->endpoint : "",
                      "endpoint", err)) ||
        (rc = set_str(&o->session_prefix,
                      cfg->session_prefix ? cfg->session_prefix : "",
                      "session prefix", err)) ||
        (rc = set_str(&o->env_enabled_raw, cfg->env_enabled_raw,
                      "NAT_TELEMETRY_ENABLED", err)) ||
        (cfg->consent_file && (rc = set_str(&o->consent_file, cfg->consent_file,
                                            "consent file", err))) ||
        (cfg->state_dir &&
         (rc = set_str(&o->state_dir, cfg->state_dir, "state dir", err))))
        return rc;
    o->env_enabled = cfg->env_enabled;
    o->do_not_track = cfg->do_not_track;
    o->dry_run = cfg->dry_run;
    o->debug = cfg->debug;
    return NATTEL_OK;
}

nattel_code nattel_options_from_env(nattel_options *o,
                                    nattel_getenv_fn getenv_fn, void *ctx,
                                    nattel_error *err)
{
    nattel_getenv_fn get = getenv_fn ? getenv_fn : process_getenv;
    nattel_config cfg;
    nattel_code rc = nattel_config_from_env(&cfg, get, ctx, err);
    if (rc) {
        nattel_config_clear(&cfg);
        return rc;
    }
    const char *flusher = get(ctx, "NATTEL_FLUSHER");
    const char *mode = get(ctx, "NATTEL_DELIVERY");
    nattel_delivery_mode m = o->mode;
    if ((mode && *mode && (rc = delivery_mode(mode, &m, err))) ||
        (flusher && *flusher &&
         (rc = set_str(&o->flusher_path, flusher, "flusher path", err)))) {
        nattel_config_clear(&cfg);
        return rc;
    }
    o->mode = m;
    rc = nattel__options_apply_config(o, &cfg, err);
    nattel_config_clear(&cfg);
    return rc;
}

void nattel__options_config(const nattel_options *o, nattel_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->env_enabled = o->env_enabled;
    cfg->env_enabled_raw = o->env_enabled_raw;
    cfg->do_not_track = o->do_not_track;
    cfg->endpoint = o->endpoint;
    cfg->dry_run = o->dry_run;
    cfg->session_prefix = o->session_prefix;
    cfg->consent_file = o->consent_file;
    cfg->state_dir = o->state_dir;
    cfg->debug = o->debug;
    cfg->log_fd = o->log_fd;
    cfg->prompt = o->prompt;
    cfg->prompt_in_fd = 0;
    cfg->prompt_out_fd = 2;
    cfg->now_ms = o->realtime_ms;
    cfg->clock_ctx = o->clock_ctx;
    cfg->random_bytes = o->random_bytes;
    cfg->random_ctx = o->random_ctx;
}

static int dup_into(char **dst, const char *src)
{
    *dst = src ? strdup(src) : NULL;
    return src && !*dst;
}

nattel_options *nattel__options_dup(const nattel_options *o)
{
    nattel_options *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *o;
    c->transport = NULL;
    int bad = dup_into(&c->endpoint, o->endpoint);
    bad |= dup_into(&c->state_dir, o->state_dir);
    bad |= dup_into(&c->consent_file, o->consent_file);
    bad |= dup_into(&c->client_version, o->client_version);
    bad |= dup_into(&c->session_prefix, o->session_prefix);
    bad |= dup_into(&c->flusher_path, o->flusher_path);
    bad |= dup_into(&c->env_enabled_raw, o->env_enabled_raw);
    if (bad) {
        nattel_options_free(c);
        return NULL;
    }
    return c;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nattel__now_real(const nattel_options *o)
{
    return o->realtime_ms ? o->realtime_ms(o->clock_ctx)
                          : clock_ms(CLOCK_REALTIME);
}

int64_t nattel__now_mono(const nattel_options *o)
{
    return o->monotonic_ms ? o->monotonic_ms(o->clock_ctx)
                           : clock_ms(CLOCK_MONOTONIC);
}

/* /dev/urandom, for kernels without getrandom(2) or a seccomp filter
 * that refuses it. */
static nattel_code urandom(unsigned char *p, size_t n, nattel_error *err)
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
            close(fd);
            return natx_fail(err, NATTEL_EIO, "read /dev/urandom: %s",
                             r < 0 ? strerror(errno) : "end of file");
        }
        p += r;
        n -= (size_t)r;
    }
    close(fd);
    return NATTEL_OK;
}

nattel_code nattel__random(const nattel_options *o, void *buf, size_t n,
                           nattel_error *err)
{
    if (o->random_bytes)
        return o->random_bytes(o->random_ctx, buf, n, err);
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, GRND_NONBLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return urandom(p, n, err);
        p += r;
        n -= (size_t)r;
    }
    return NATTEL_OK;
}

void nattel__options_debug(const nattel_options *o, const char *fmt, ...)
{
    if (!o->debug)
        return;
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nattel_config cfg;
    nattel__options_config(o, &cfg);
    nattel_debug(&cfg, "%s", line);
}
