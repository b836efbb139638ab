/*
 * The machine-wide policy: SYSCONFDIR/nattel/policy.toml, which an
 * administrator owns, and NATTEL_POLICY_FILE, one more for containers and
 * tests. The stricter wins, so an environment variable can add a
 * restriction and never lift one; a file that is there but unusable is
 * "off", so an administrator's "no" never becomes a "yes".
 */
#include "consent/nattel_policy.h"
#include "config/nattel_options.h"
#include "consent/nattel_toml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *nattel_policy_level_name(nattel_policy_level l)
{
    switch (l) {
    case NATTEL_POLICY_LOCAL:
        return "local";
    case NATTEL_POLICY_OFF:
        return "off";
    case NATTEL_POLICY_ALLOWED:
        break;
    }
    return "allowed";
}

const char *nattel_consent_policy_path(void)
{
    return NATTEL__POLICY_PATH;
}

/* What one file says. */
typedef struct one_policy {
    int exists;
    nattel_policy_level level;
    int prompt_never;
    char endpoint[1024];
    char note[NATTEL_ERROR_MAX];
} one_policy;

static void unusable(one_policy *p, const char *path, const char *why)
{
    p->level = NATTEL_POLICY_OFF;
    snprintf(p->note, sizeof p->note,
             "%.200s cannot be used (%.200s): telemetry is off", path, why);
}

/* The whole file, bounded, opened without waiting (a FIFO does not
 * hang); follows a symlink, as /etc files often are. NULL with p set
 * when it is missing (p->exists 0) or unusable. */
static char *slurp(const char *path, size_t *len, one_policy *p)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return NULL;
    p->exists = 1;
    if (fd < 0) {
        unusable(p, path, strerror(errno));
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode))
        unusable(p, path, "not a regular file");
    else if (st.st_size > (off_t)NATTEL__POLICY_MAX_BYTES)
        unusable(p, path, "larger than 64 KiB");
    else
        buf = malloc(NATTEL__POLICY_MAX_BYTES + 1);
    size_t n = 0;
    while (buf && n <= NATTEL__POLICY_MAX_BYTES) {
        ssize_t r = read(fd, buf + n, NATTEL__POLICY_MAX_BYTES + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            break;
        if (r < 0) {
            unusable(p, path, strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        n += (size_t)r;
    }
    if (buf && n > NATTEL__POLICY_MAX_BYTES) { /* it grew */
        unusable(p, path, "larger than 64 KiB");
        free(buf);
        buf = NULL;
    }
    if (!buf && !p->note[0])
        unusable(p, path, "out of memory");
    close(fd);
    *len = n;
    return buf;
}

static int str_is(const nattel__toml_value *v, const char *s)
{
    return v->kind == NATTEL__TOML_STRING && v->str_len == strlen(s) &&
           !memcmp(v->str, s, v->str_len);
}

static int key_is(const nattel__toml_value *v, const char *k)
{
    return v->key_len == strlen(k) && !memcmp(v->key, k, v->key_len);
}

/* One setting; 0, or -1 with p->note set. */
static int apply_key(const nattel__toml_value *v, const char *path,
                     one_policy *p)
{
    char what[160];
    if (key_is(v, "telemetry") && str_is(v, "off"))
        p->level = NATTEL_POLICY_OFF;
    else if (key_is(v, "telemetry") && str_is(v, "local"))
        p->level = NATTEL_POLICY_LOCAL;
    else if (key_is(v, "telemetry") && str_is(v, "allowed"))
        p->level = NATTEL_POLICY_ALLOWED;
    else if (key_is(v, "prompt") && str_is(v, "never"))
        p->prompt_never = 1;
    else if (key_is(v, "endpoint") && v->kind == NATTEL__TOML_STRING &&
             v->str_len < sizeof p->endpoint &&
             !memchr(v->str, 0, v->str_len) &&
             (!strncmp(v->str, "https://", 8) ||
              !strncmp(v->str, "http://", 7)))
        snprintf(p->endpoint, sizeof p->endpoint, "%s", v->str);
    else {
        snprintf(what, sizeof what, "%.*s: not a known setting or value",
                 (int)(v->key_len < 60 ? v->key_len : 60), v->key);
        unusable(p, path, what);
        return -1;
    }
    return 0;
}

static void read_one(const char *path, one_policy *p)
{
    memset(p, 0, sizeof *p);
    size_t len = 0;
    char *text = slurp(path, &len, p);
    if (!text)
        return;
    nattel__toml *doc = NULL;
    nattel_error err;
    if (nattel__toml_parse(text, len, &doc, &err)) {
        unusable(p, path, err.message);
        free(text);
        return;
    }
    for (const nattel__toml_value *v = nattel__toml_root(doc)->first; v;
         v = v->next)
        if (apply_key(v, path, p))
            break;
    nattel__toml_free(doc);
    free(text);
    if (p->level == NATTEL_POLICY_OFF && !p->note[0])
        snprintf(p->note, sizeof p->note, "%.400s: telemetry = \"off\"", path);
    else if (p->level == NATTEL_POLICY_LOCAL)
        snprintf(p->note, sizeof p->note,
                 "%.400s: telemetry = \"local\" (kept here, never sent)", path);
}

/* Folds one file into the result: the stricter level wins. */
static void merge(nattel_consent_policy *out, const char *path,
                  const one_policy *p)
{
    if (!p->exists)
        return;
    if (p->level > out->level) {
        out->level = p->level;
        snprintf(out->decided_by, sizeof out->decided_by, "%s", path);
        snprintf(out->note, sizeof out->note, "%s", p->note);
    }
    out->prompt_never |= p->prompt_never;
    if (!out->endpoint[0])
        snprintf(out->endpoint, sizeof out->endpoint, "%s", p->endpoint);
}

void nattel__policy_read_paths(const char *machine, const char *extra,
                               nattel_consent_policy *out)
{
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    one_policy p;
    read_one(machine, &p);
    merge(out, machine, &p);
    if (extra && *extra) {
        read_one(extra, &p);
        merge(out, extra, &p);
    }
}

void nattel_consent_policy_read(const nattel_options *o,
                                nattel_consent_policy *out)
{
    nattel_consent_policy full;
    nattel__policy_read_paths(NATTEL__POLICY_PATH, o ? o->policy_file : NULL,
                              &full);
    size_t size = out->size;
    size_t n = size < sizeof full ? size : sizeof full;
    if (n > sizeof full.size)
        memcpy((char *)out + sizeof full.size,
               (const char *)&full + sizeof full.size, n - sizeof full.size);
    out->size = size;
}
