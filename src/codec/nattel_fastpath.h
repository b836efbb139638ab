#ifndef NATTEL_READER_H
#define NATTEL_READER_H

/*
 * The strict single-pass reader.
 *
 * Two readers share the byte-level scanners below:
 * - nattel__json_tree builds the token tree (nattel__jdoc) in one pass:
 *   for the schema loader, the pretty-printer, and the reporting path.
 * - nattel__reader decodes an event or an envelope straight from the
 *   bytes, as the registry's type description says, in one walk that
 *   validates as it goes: no token array, no second pass, no allocation
 *   once its objects are warm. It takes the documents that are valid and
 *   plainly written (no escapes, keys known, values in range); at the
 *   first thing it does not take it hands the whole document to the
 *   reporting path (tree + nattel__decode_*), which finds every problem
 *   with its path. So the verdict is always the reporting path's: the
 *   fast path only ever accepts what that path accepts, with the same
 *   decoded values (tests/unit/test_reader.c and fuzz_reader check both).
 */

#include "json/nattel_json.h"

#include <stdint.h>
#include <string.h>

/* Fills d from src[0..len) (see nattel__json_parse). */
nattel_code nattel__json_tree(nattel__jdoc *d, const char *src, size_t len,
                              nattel_error *err);

/* Non-zero when some byte of w needs a closer look inside a JSON string: a
 * control character, '"', '\\' or a non-ASCII byte. The lowest flagged
 * byte is always one of them (borrows only run upward). */
static inline uint64_t nattel__care_bits(uint64_t w)
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
static inline size_t nattel__string_run(const char *s, size_t len, size_t i)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                            \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (i + 8 <= len) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t m = nattel__care_bits(w);
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

/* What the fast path needs of an event type beyond its description: the
 * lengths of the wire names, so keys are matched as they stand. */
typedef struct nattel__plan {
    const nattel_event_type *type;
    int plain; /* every wire name is a JSON string as written */
    unsigned char wlen[NATTEL__PLAN_FIELDS];
    unsigned char ehint[NATTEL__PLAN_FIELDS]; /* per enum field: the value
                                               * matched last */
} nattel__plan;

#define NATTEL__PLANS 4

/* Reusable decoding state: the objects a decode fills, kept between
 * documents so that the steady state allocates nothing. */
typedef struct nattel__reader {
    const nattel_registry *reg;
    /* Test seams: 1 = every document takes the reporting path; 2 = the
     * fast path alone, NATTEL_EINVAL where it would hand over. */
    int path;
    const nattel_event_type *guess; /* type of the last envelope item */
    nattel__plan plans[NATTEL__PLANS];
    unsigned next_plan;
    nattel_event **pool; /* events, reused by position */
    size_t pool_cap;
    nattel_event *pool_one[1];     /* the pool while it holds one event */
    char (*ts)[NATTEL_TS_LEN + 1]; /* each pooled event's timestamp */
    size_t ts_cap;
    nattel_envelope *env; /* reused; lent the pool's events */
    /* Results of the reporting path, freed on the next decode. */
    nattel_event *slow_ev;
    nattel_envelope *slow_env;
    int one_shot; /* set by the caller: one document, then released */
    int fast;     /* whether the last result came from the fast path */
    int canon;    /* ... and is, byte for byte, its own canonical form */
    int tidy;     /* ... or is, once nattel__reader_tidy drops whitespace */
} nattel__reader;

void nattel__reader_init(nattel__reader *r, const nattel_registry *reg);
void nattel__reader_release(nattel__reader *r);

/* Decodes one document. Results belong to the reader and live until its
 * next decode or release; problems as nattel_event_from_json reports
 * them (a syntax error is one problem at "$"). */
nattel_code nattel__reader_event(nattel__reader *r,
                                 const nattel_event_type *type,
                                 nattel_mode mode, const char *json, size_t len,
                                 const nattel_event **out,
                                 nattel_problems *problems);
nattel_code nattel__reader_envelope(nattel__reader *r, nattel_mode mode,
                                    const char *json, size_t len,
                                    const nattel_envelope **out,
                                    nattel_problems *problems);
/* `nattel validate`'s line: an envelope when the root object has the key
 * "events", else a parameters object of `type`. */
nattel_code nattel__reader_line(nattel__reader *r,
                                const nattel_event_type *type, nattel_mode mode,
                                const char *json, size_t len,
                                const nattel_event **ev,
                                const nattel_envelope **env,
                                nattel_problems *problems);

/* s[0..n) without the whitespace between its tokens, into out (room for
 * n bytes); its length. Only for a document the reader found `tidy`. */
size_t nattel__reader_tidy(const char *s, size_t n, char *out);

/* The last decode's result, handed to the caller (freed with
 * nattel_event_free / nattel_envelope_free); NULL when out of memory. */
nattel_event *nattel__reader_take_event(nattel__reader *r);
nattel_envelope *nattel__reader_take_envelope(nattel__reader *r);

#endif
