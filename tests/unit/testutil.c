#include "testutil.h"

#include <limits.h>
#include <locale.h>
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

int tu_comma_locale(void)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8"};
    for (size_t i = 0; i < 3; i++)
        if (setlocale(LC_ALL, names[i]) &&
            !strcmp(localeconv()->decimal_point, ","))
            return 1;
    char *dir = tu_tmpdir("locale");
    if (!dir)
        return 0;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8' >/dev/null 2>&1",
             dir);
    int ok = system(cmd) == 0 && setenv("LOCPATH", dir, 1) == 0 &&
             setlocale(LC_ALL, "de_DE.UTF-8") &&
             !strcmp(localeconv()->decimal_point, ",");
    free(dir);
    return ok;
}
