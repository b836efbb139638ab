#ifndef NATTEL_CONFIG_H
#define NATTEL_CONFIG_H

#include <nattel/telemetry.h>

/* True when `value`, trimmed of ASCII whitespace, equals `word` in any
 * case. */
int nattel__word_eq(const char *value, const char *word);

/* write(2) all of buf to fd, retrying short writes and EINTR; -1 on error.
 */
int nattel__write_all(int fd, const char *buf, size_t len);

#endif
