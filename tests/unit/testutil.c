#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <nattel/client.h>
#include <nattel/nattel.h>

#include <arpa/inet.h>
#include <limits.h>
#include <locale.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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
    while (buf) {
        r = fread(buf + n, 1, cap - n - 1, f);
        if (r == 0)
            break;
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

/* A socket bound to 127.0.0.1 at a kernel-chosen port (*port). */
static int bind_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

int tu_listen_loopback(int *port)
{
    int fd = bind_loopback(port);
    assert_int_equal(listen(fd, 64), 0);
    return fd;
}

int tu_dead_port(void)
{
    int port;
    close(bind_loopback(&port));
    return port;
}

int tu_accept_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0)
        return -1;
    return accept(fd, NULL, NULL);
}

/* Reads from c until buf holds `want` bytes or (want 0) the end of the
 * headers; returns 0 when the peer stops first. */
static int read_more(int c, char *buf, size_t cap, size_t *got, size_t want)
{
    while (*got < cap - 1 && (want ? *got < want : !strstr(buf, "\r\n\r\n"))) {
        ssize_t r = read(c, buf + *got, cap - 1 - *got);
        if (r <= 0)
            return 0;
        *got += (size_t)r;
        buf[*got] = '\0';
    }
    return 1;
}

size_t tu_read_request(int c, char *buf, size_t cap, char **body)
{
    size_t got = 0;
    buf[0] = '\0';
    *body = NULL;
    read_more(c, buf, cap, &got, 0);
    char *end = strstr(buf, "\r\n\r\n");
    if (!end)
        return got;
    *body = end + 4;
    const char *cl = strcasestr(buf, "\r\nContent-Length:");
    size_t want = (size_t)(*body - buf) + (cl ? (size_t)atol(cl + 17) : 0);
    if (!read_more(c, buf, cap, &got, want))
        *body = NULL;
    return got;
}

nattel_event *tu_event(const char *command)
{
    nattel_cli_command c = NATTEL_CLI_COMMAND_INIT;
    c.command = command;
    c.task_status = NATTEL_TASK_STATUS_SUCCESS;
    nattel_event *ev;
    nattel_error err;
    assert_int_equal(nattel_cli_command_event(&c, &ev, &err), 0);
    return ev;
}

nattel_options *tu_options(char **env, const char *tag, const char *endpoint,
                           char *state, size_t cap)
{
    nattel_error err;
    nattel_options *o = nattel_options_new();
    assert_non_null(o);
    assert_int_equal(nattel_options_from_env(o, nattel_envp_lookup, env, &err),
                     0);
    char *dir = tu_tmpdir(tag);
    snprintf(state, cap, "%s/state", dir);
    free(dir);
    assert_int_equal(nattel_options_set_state_dir(o, state, &err), 0);
    assert_int_equal(nattel_options_set_endpoint(o, endpoint, &err), 0);
    return o;
}

uint64_t tu_rnext(tu_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ULL;
}

unsigned tu_rbelow(tu_rng *r, unsigned n)
{
    return (unsigned)(tu_rnext(r) % n);
}
