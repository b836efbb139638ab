/*
 * errorClass, the one free-form string of an event: what counts as an
 * identifier, and the sanitizing that sends anything else as "undefined"
 * (docs/design.md section 2).
 */
#include "model/nattel_error.h"
#include "natx/natx_utf8.h"

#include <nattel/client.h>

#include <string.h>

/* What counts as a letter beyond ASCII: a practical stand-in for Python's
 * XID_Start (no Unicode tables here). Every valid code point from U+0080
 * up is a letter unless it falls in one of the ranges below: controls,
 * spaces, punctuation and symbols of the common blocks (so no separator,
 * slash, colon or quote can hide in an identifier), private use,
 * noncharacters and emoji. Combining marks may follow a letter but not
 * begin a segment. Letters of other scripts that sit among these ranges
 * are refused (the safe side); punctuation of scripts not listed passes
 * (it cannot carry a path or message either). */
typedef struct cp_range {
    unsigned lo, hi;
} cp_range;

static const cp_range not_letters[] = {
    {0x0080, 0x00A9},    {0x00AB, 0x00B4},   {0x00B6, 0x00B9},
    {0x00BB, 0x00BF},    {0x00D7, 0x00D7},   {0x00F7, 0x00F7},
    {0x02C2, 0x02C5},    {0x02D2, 0x02DF},   {0x037E, 0x037E},
    {0x0384, 0x0385},    {0x055A, 0x055F},   {0x0589, 0x058A},
    {0x05BE, 0x05BE},    {0x05C0, 0x05C0},   {0x05C3, 0x05C3},
    {0x05C6, 0x05C6},    {0x05F3, 0x05F4},   {0x0600, 0x060F},
    {0x061B, 0x061F},    {0x066A, 0x066D},   {0x06D4, 0x06D4},
    {0x0964, 0x0965},    {0x0E3F, 0x0E3F},   {0x0E4F, 0x0E4F},
    {0x0E5A, 0x0E5B},    {0x1680, 0x1680},   {0x1800, 0x180A},
    {0x180E, 0x180E},    {0x2000, 0x206F},   {0x20A0, 0x20CF},
    {0x2190, 0x2BFF},    {0x2E00, 0x2E7F},   {0x3000, 0x3004},
    {0x3008, 0x3020},    {0x3030, 0x3030},   {0x303D, 0x303F},
    {0xE000, 0xF8FF},    {0xFD3E, 0xFD3F},   {0xFDD0, 0xFDEF},
    {0xFE10, 0xFE19},    {0xFE30, 0xFE6F},   {0xFEFF, 0xFEFF},
    {0xFF01, 0xFF0F},    {0xFF1A, 0xFF20},   {0xFF3B, 0xFF3E},
    {0xFF40, 0xFF40},    {0xFF5B, 0xFF65},   {0xFFE0, 0xFFFF},
    {0x1D000, 0x1D24F},  {0x1F000, 0x1FBFF}, {0xE0000, 0xE0FFF},
    {0xF0000, 0x10FFFF},
};

/* Combining marks: part of a letter, never the start of a segment. */
static const cp_range marks[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
};

static int in_ranges(unsigned cp, const cp_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi)
            return 1;
    return 0;
}

static unsigned decode_cp(const unsigned char *s, size_t len)
{
    if (len == 1)
        return s[0];
    unsigned cp = s[0] & (0x7Fu >> len);
    for (size_t i = 1; i < len; i++)
        cp = (cp << 6) | (s[i] & 0x3Fu);
    return cp;
}

/* NATTEL_OK when s is an identifier; otherwise why, without the value. */
nattel_code nattel_error_class_check(const char *s, nattel_error *err)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0)
        return natx_fail(err, NATTEL_EINVAL, "errorClass: empty");
    if (n > NATTEL_ERROR_CLASS_MAX)
        return natx_fail(err, NATTEL_EINVAL,
                         "errorClass: %zu bytes, at most %d allowed", n,
                         NATTEL_ERROR_CLASS_MAX);
    const unsigned char *u = (const unsigned char *)s;
    int start = 1; /* at the start of a dot-separated segment */
    for (size_t i = 0; i < n;) {
        size_t len = natx_utf8_seq(u + i, n - i);
        if (len == 0)
            return natx_fail(err, NATTEL_EINVAL,
                             "errorClass: byte %zu is not valid UTF-8", i + 1);
        unsigned cp = decode_cp(u + i, len);
        int ok;
        if (cp == '.') {
            ok = !start && i + 1 < n;
            start = 1;
        } else {
            int letter =
                cp >= 0x80
                    ? !in_ranges(cp, not_letters,
                                 sizeof not_letters / sizeof *not_letters)
                    : (cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z') ||
                          cp == '_';
            int mark = cp >= 0x80 &&
                       in_ranges(cp, marks, sizeof marks / sizeof *marks);
            int digit = cp >= '0' && cp <= '9';
            ok = letter && (!start || !mark);
            ok = ok || (!start && digit);
            start = 0;
        }
        /* The value itself is not echoed: it may be the very message or
         * path that must not travel. */
        if (!ok)
            return natx_fail(
                err, NATTEL_EINVAL,
                "errorClass: byte %zu: not an identifier (dot-separated "
                "names of letters, digits and '_', each starting with a "
                "letter or '_', such as ValueError or json.JSONDecodeError)",
                i + 1);
        i += len;
    }
    return NATTEL_OK;
}
