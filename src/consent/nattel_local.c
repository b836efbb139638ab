/*
 * The local-only mode (Go's "local" telemetry mode): the choice lives in
 * nattel's own config file, because the shared NAT consent file must keep
 * meaning "disabled" to the Python `nat` (its reader looks only at
 * consent and prompt_version; its writer rewrites the whole file).
 */
#include "consent/nattel_local.h"
#include "config/nattel_options.h"
#include "consent/nattel_toml.h"
#include "model/nattel_error.h"
#include "natx/natx_file.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_HEAD                                                            \
    "# nattel's own settings (the Python `nat` does not read this file).\n"    \
    "# Change with `nattel consent --local | --enable | --disable`.\n"
/* A config file is a few lines. */
#define CONFIG_MAX_BYTES (64u * 1024u)

static const natx_file_write_opts private_file = {
    0600, NATX_FILE_FSYNC | NATX_FILE_SYNC_DIR | NATX_FILE_CHMOD, NULL};

static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

static nattel_code write_config(const nattel_options *o, const char *text,
                                nattel_error *err)
{
    if (!o->config_file || !*o->config_file)
        return natx_fail(err, NATTEL_EINVAL,
                         "no nattel config file: set HOME, XDG_CONFIG_HOME "
                         "or NATTEL_CONFIG_FILE");
    char *dir = parent_of(o->config_file);
    if (!dir)
        return natx_fail(err, NATTEL_ENOMEM, "config file: out of memory");
    nattel_code rc = natx_mkdirs(dir, 0700, err);
    free(dir);
    if (!rc)
        rc = natx_file_write_atomic(o->config_file, text, strlen(text),
                                    &private_file, err);
    return rc;
}

nattel_code nattel__local_write_choice(const nattel_options *o,
                                       const char *shared_consented_at,
                                       nattel_error *err)
{
    char text[512];
    snprintf(text, sizeof text,
             CONFIG_HEAD "[consent]\n"
                         "mode = \"local\"\n"
                         "shared_consented_at = \"%.64s\"\n",
             shared_consented_at);
    return write_config(o, text, err);
}

nattel_code nattel_consent_clear_local(const nattel_options *o,
                                       nattel_error *err)
{
    if (!o->config_file || access(o->config_file, F_OK) != 0)
        return NATTEL_OK; /* nothing recorded */
    return write_config(o, CONFIG_HEAD, err);
}

/* mode and shared_consented_at of [consent]; 0 when the file says local.
 * A missing, unreadable or malformed file records no local choice: the
 * shared file's "disabled" then stands, which sends nothing either. */
static int read_choice(const char *path, char *at, size_t cap)
{
    nattel_buf text = NATTEL_BUF_INIT;
    int found = -1;
    nattel__toml *doc = NULL;
    if (path && !natx_file_read(path, CONFIG_MAX_BYTES, &text, NULL) &&
        !nattel__toml_parse(text.data ? text.data : "", text.len, &doc, NULL)) {
        const nattel__toml_value *t =
            nattel__toml_get(nattel__toml_root(doc), "consent");
        const nattel__toml_value *mode = nattel__toml_get(t, "mode");
        const nattel__toml_value *v =
            nattel__toml_get(t, "shared_consented_at");
        if (mode && mode->kind == NATTEL__TOML_STRING &&
            !strcmp(mode->str, "local") && v &&
            v->kind == NATTEL__TOML_STRING && v->str_len < cap) {
            memcpy(at, v->str, v->str_len + 1);
            found = 0;
        }
    }
    nattel__toml_free(doc);
    nattel_buf_free(&text);
    return found;
}

int nattel__local_chosen(const nattel_options *o,
                         const nattel_consent_file *shared)
{
    if (shared->state != NATTEL_CONSENT_DISABLED || shared->stale ||
        shared->unreadable || !shared->consented_at[0])
        return 0;
    char at[64];
    if (read_choice(o->config_file, at, sizeof at))
        return 0;
    return !strcmp(at, shared->consented_at);
}

/* ------------------------------------------------------- the local store */

nattel_code nattel__local_dir(const nattel_options *o, char *out, size_t cap,
                              nattel_error *err)
{
    if (!o->state_dir)
        return natx_fail(err, NATTEL_EINVAL,
                         "local mode: no state directory known");
    return natx_path_join(out, cap, o->state_dir, "local", err);
}

static int is_kept(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the oldest kept envelopes (names sort by time) until fewer than
 * `max` remain, making room for one more. */
static void keep_bounded(const char *dir, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!is_kept(e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **more = realloc(names, ncap * sizeof *names);
            if (!more)
                break;
            names = more;
            cap = ncap;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            n++;
    }
    closedir(d);
    if (n) /* qsort's array may not be NULL, even for no element */
        qsort(names, n, sizeof *names, by_name);
    char p[4096];
    for (size_t i = 0; i + max <= n; i++)
        if (!natx_path_join(p, sizeof p, dir, names[i], NULL))
            unlink(p);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

nattel_code nattel__local_keep(const nattel_options *o, const char *payload,
                               size_t len, nattel_error *err)
{
    char dir[4096], path[4096], name[64];
    nattel_code rc = nattel__local_dir(o, dir, sizeof dir, err);
    if (!rc)
        rc = natx_mkdirs(dir, 0700, err);
    uint64_t r = 0;
    if (!rc)
        rc = nattel__random(o, &r, sizeof r, err);
    if (rc)
        return rc;
    keep_bounded(dir, o->max_events);
    snprintf(name, sizeof name, "%013" PRId64 "-%016" PRIx64 ".json",
             nattel__now_real(o), r);
    rc = natx_path_join(path, sizeof path, dir, name, err);
    if (!rc)
        rc = natx_file_write_atomic(path, payload, len, &private_file, err);
    return rc;
}
