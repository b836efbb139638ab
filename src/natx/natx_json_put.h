#ifndef NATX_JSON_PUT_H
#define NATX_JSON_PUT_H

/*
 * The JSON text primitives every writer shares: strings with RFC 8259
 * escaping (and a UTF-8 check), integers, and doubles in the "C" locale
 * whatever the host set with setlocale. They are the floor's, so that
 * the writer (natx_jsonw.h), the event encoder and the token tree all
 * write the same bytes.
 *
 * The byte classifier below is here too: the string writer's plain-copy
 * check and the readers' string scans (the token tree, the fast path)
 * are the same question, "which bytes of this word need a closer look".
 */

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Non-zero when some byte of w needs a closer look inside a JSON string: a
 * control character, '"', '\\' or a non-ASCII byte. The lowest flagged
 * byte is always one of them (borrows only run upward). */
static inline uint64_t natx_json_care_bits(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t ctl = (w - ones * 0x20) & ~w & highs;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    q = (q - ones) & ~q & highs;
    bs = (bs - ones) & ~bs & highs;
    return (w & highs) | ctl | q | bs;
}

/* Index of the first byte at or after s[i] that is a control character,
 * '"', '\\' or non-ASCII; len when none. */
static inline size_t natx_json_string_run(const char *s, size_t len, size_t i)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t m = natx_json_care_bits(w);
        if (m)
            return i + (size_t)(__builtin_ctzll(m) >> 3);
        i += 8;
    }
#endif
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80)
            return i;
        i++;
    }
    return len;
}

/* Copies s[0..n) to o, returns o + n: short runs (a key, an enum value)
 * as two overlapping fixed-size moves instead of a memcpy call. */
static inline char *natx_put_bytes(char *o, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        memcpy(o, s, 8);
        memcpy(o + n - 8, s + n - 8, 8);
    } else if (n > 16 && n <= 32) {
        memcpy(o, s, 16);
        memcpy(o + n - 16, s + n - 16, 16);
    } else {
        memcpy(o, s, n);
    }
    return o + n;
}

/* A JSON string with RFC 8259 escaping; NATTEL_EINVAL (buffer unchanged
 * past its old length) when s is not valid UTF-8. */
nattel_code natx_json_put_string(nattel_buf *b, const char *s, size_t n);
nattel_code natx_json_put_int(nattel_buf *b, int64_t v);

/* The unchecked forms, for writers that reserved room first: they write at
 * `o` and return the end, or NULL for invalid UTF-8. A string needs
 * NATX_JSON_STRING_MAX(n) bytes, an integer 21. */
#define NATX_JSON_STRING_MAX(n) ((n)*6 + 2)
char *natx_json_write_string(char *o, const char *s, size_t n);
char *natx_json_write_int(char *o, int64_t v);

/* natx_json_write_string with its usual case inline: a plain string of 4
 * to 16 bytes (an identifier, a version) checked and copied as two
 * overlapping words; anything else through natx_json_write_string. */
static inline char *natx_json_write_short(char *o, const char *s, size_t n)
{
    if (n >= 4 && n <= 16) {
        uint64_t w1, w2; /* the first and the last 8 (or 4) bytes */
        uint32_t lo = 0, hi = 0;
        if (n >= 8) {
            memcpy(&w1, s, 8);
            memcpy(&w2, s + n - 8, 8);
        } else {
            memcpy(&lo, s, 4);
            memcpy(&hi, s + n - 4, 4);
            w1 = w2 = (uint64_t)lo | (uint64_t)hi << 32;
        }
        if (!(natx_json_care_bits(w1) | natx_json_care_bits(w2))) {
            *o++ = '"';
            if (n >= 8) {
                memcpy(o, &w1, 8);
                memcpy(o + n - 8, &w2, 8);
            } else {
                memcpy(o, &lo, 4);
                memcpy(o + n - 4, &hi, 4);
            }
            o[n] = '"';
            return o + n + 1;
        }
    }
    return natx_json_write_string(o, s, n);
}

/* Shortest text that reads back as the finite v, in every locale as in
 * "C", into out; its length. With float_mark, an integral value keeps a
 * ".0" (a float reads back as a float); without, it is written as an
 * integer (-1), as JSON Schema bounds are. */
#define NATX_JSON_DOUBLE_MAX 40
size_t natx_json_format_double(double v, char out[NATX_JSON_DOUBLE_MAX],
                               int float_mark);
/* Shortest text that reads back as v; NATTEL_EINVAL for inf and NaN. */
nattel_code natx_json_put_double(nattel_buf *b, double v);

/* strtod of a JSON number, in every locale as in "C": the reading half of
 * natx_json_format_double, which checks its text with it. */
double natx_json_strtod(const char *s);

#endif
