#ifndef NATX_UTF8_H
#define NATX_UTF8_H

/* The library's UTF-8 rules (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF), for the tool and the endpoint. */

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (avail bytes readable); 0 when
 * it is not one. */
size_t natx_utf8_seq(const unsigned char *s, size_t avail);

/* Length of the valid UTF-8 prefix of s[0..n). */
size_t natx_utf8_valid_prefix(const char *s, size_t n);

#endif
