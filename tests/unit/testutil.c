#include "testutil.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tu_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *tu_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

const char *tu_reference(const char *file)
{
    static char path[PATH_MAX];
    const char *dir = tu_env("NATTEL_REFERENCE_DIR");
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, R_OK) == 0 ? path : NULL;
}

char *tu_tmpdir(const char *tag)
{
    const char *base = tu_env("NATTEL_TEST_TMP");
    char tmpl[PATH_MAX];
    if (base) {
        mkdir(base, 0700);
        snprintf(tmpl, sizeof tmpl, "%s/%s-XXXXXX", base, tag);
    } else {
        snprintf(tmpl, sizeof tmpl, "/tmp/nattel-%s-XXXXXX", tag);
    }
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}
