#ifndef NATTEL_CODEC_READER_H
#define NATTEL_CODEC_READER_H

/*
 * The reader: one document at a time, first through the fast path
 * (codec/nattel_fastpath.h), and when it declines, through the token tree
 * (json/nattel_json.h) and the reporting path (codec/nattel_decode.h),
 * whose verdict is the verdict. The public reader (<nattel/reader.h>) and
 * nattel_event_from_json / nattel_envelope_from_json are built on it.
 */

#include "codec/nattel_fastpath.h"

#include <nattel/nattel.h>

/* Reusable decoding state, kept between documents. */
typedef struct nattel__reader {
    nattel__fastpath fp;
    /* Test seams: 1 = every document takes the reporting path; 2 = the
     * fast path alone, NATTEL_EINVAL where it would hand over. */
    int path;
    /* Results of the reporting path, freed on the next decode. */
    nattel_event *slow_ev;
    nattel_envelope *slow_env;
    int fast;  /* whether the last result came from the fast path */
    int canon; /* ... and is, byte for byte, its own canonical form */
    int tidy;  /* ... or is, once nattel__fastpath_tidy drops whitespace */
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

/* The last decode's result, handed to the caller (freed with
 * nattel_event_free / nattel_envelope_free); NULL when out of memory. */
nattel_event *nattel__reader_take_event(nattel__reader *r);
nattel_envelope *nattel__reader_take_envelope(nattel__reader *r);

#endif
