#ifndef NATTEL_TESTUTIL_H
#define NATTEL_TESTUTIL_H

/* Shared by the cmocka unit tests. Include after <setjmp.h> and <cmocka.h>. */

#include <stddef.h>

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

#endif
