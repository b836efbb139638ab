#ifndef NATTEL_TESTUTIL_H
#define NATTEL_TESTUTIL_H

/* Shared by the cmocka unit tests. Include after <setjmp.h> and <cmocka.h>. */

#include <stddef.h>
#include <stdint.h>

/* A small deterministic generator (xorshift64*) for generated inputs:
 * seed .s with any non-zero value. */
typedef struct tu_rng {
    uint64_t s;
} tu_rng;
uint64_t tu_rnext(tu_rng *r);
/* A value in [0, n). */
unsigned tu_rbelow(tu_rng *r, unsigned n);

/* The value of environment variable `name`, or NULL. */
const char *tu_env(const char *name);

/* Reads a whole file into a NUL-terminated malloc'd buffer (NULL on error). */
char *tu_read_file(const char *path, size_t *len);

/* Path of a file in the shared reference folder, or NULL when the folder
 * is missing (then the test should skip, saying why). */
const char *tu_reference(const char *file);

/* A fresh empty directory under the build tree's test-tmp (malloc'd). */
char *tu_tmpdir(const char *tag);

/* Sets LC_ALL to a locale whose decimal point is ',' (one installed, or
 * one compiled with localedef into a temporary directory); 0 when there
 * is none (the test should skip, saying why). */
int tu_comma_locale(void);

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks, which
 * goes to *port (asserts bind and listen succeed). */
int tu_listen_loopback(int *port);

/* A loopback port nobody listens on: bind, learn the port, close. */
int tu_dead_port(void);

/* The next connection on listening socket fd, or -1 when none comes
 * within ms (so a listener thread can check its stop flag). */
int tu_accept_within(int fd, int ms);

/* Reads one HTTP request (headers, then a body of its Content-Length)
 * from c into buf (NUL-terminated, at most cap - 1 bytes). Returns the
 * bytes read; *body is the body's start, NULL when the peer stopped
 * before the end of the headers or of the body. */
size_t tu_read_request(int c, char *buf, size_t cap, char **body);

/* A cli_command event ("success") for `command` (asserts it builds). */
struct nattel_event;
struct nattel_event *tu_event(const char *command);

/* Options read from `env` (NULL-terminated "NAME=value" strings) with
 * a fresh state directory `<tu_tmpdir(tag)>/state` (copied to state,
 * cap bytes) and `endpoint`; asserts each step succeeds. */
struct nattel_options;
struct nattel_options *tu_options(char **env, const char *tag,
                                  const char *endpoint, char *state,
                                  size_t cap);

#endif
