#ifndef NATX_UTF8_H
#define NATX_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 prefix of s[0..n) (n when all of it is valid).
 * Rejects overlong forms, UTF-16 surrogates (U+D800..U+DFFF) and code
 * points past U+10FFFF, as RFC 3629 does. */
size_t natx_utf8_valid_prefix(const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s (avail bytes readable); 0 when
 * it is not one. */
size_t natx_utf8_seq(const unsigned char *s, size_t avail);

/* The longest prefix of s[0..n) of at most max bytes that does not end
 * inside a UTF-8 sequence (for cutting text shown in messages). */
size_t natx_utf8_cut(const char *s, size_t n, size_t max);

/* Encodes code point cp (valid, not a surrogate) into out; returns bytes. */
size_t natx_utf8_encode(unsigned cp, char *out);

#endif
