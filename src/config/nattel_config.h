#ifndef NATTEL_CONFIG_H
#define NATTEL_CONFIG_H

#include <nattel/telemetry.h>

/* True when `value`, trimmed of ASCII whitespace, equals `word` in any
 * case. */
int nattel__word_eq(const char *value, const char *word);

#endif
