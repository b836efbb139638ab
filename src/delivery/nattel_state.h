#ifndef NATTEL_STATE_H
#define NATTEL_STATE_H

/* Delivery state, STATE/state.json: counters, the last delivery and the
 * back-off, updated under STATE/state.lock; each update also appends its
 * record to the audit log. */

#include "config/nattel_options.h"
#include "delivery/nattel_audit.h"

#include <nattel/nattel.h>

#include <stdint.h>

typedef struct nattel__state {
    int64_t sent;
    int64_t dropped; /* every event that will never be delivered */
    int64_t rejected;
    int64_t failures; /* consecutive failed attempts (back-off) */
    int64_t next_ms;  /* Unix ms before which no flusher starts; 0 none */
    int has_last;
    char last_ts[NATTEL_TS_LEN + 1];
    nattel__outcome last_outcome;
    int last_http;
    int64_t last_events;
    /* state.json is there but unusable (not a regular file, unreadable,
     * not the JSON object we write): why; "" when fine or missing. */
    char bad[200];
} nattel__state;

/* Where an unusable state.json is set aside (renamed, never deleted). */
#define NATTEL__STATE_ASIDE "state.json.bad"

/* Reads STATE/state.json; a missing or unusable file is all zeros (an
 * unusable one says why in st->bad). Counters read below 0 are 0. */
void nattel__state_read(const char *state_dir, nattel__state *st);
/* True while a back-off recorded in STATE/state.json has not run out. */
int nattel__backoff_pending(const nattel_options *o);

/* One delivery outcome: under STATE/state.lock, updates the counters
 * (saturating at INT64_MAX) and the last delivery (and, for DEFERRED, the
 * back-off by `backoff_ms`; for SENT, clears it) and appends an audit
 * record. An unusable state.json is first set aside as
 * NATTEL__STATE_ASIDE and the state rebuilt from zero. */
nattel_code nattel__record_outcome(const nattel_options *o,
                                   const nattel__record *r, nattel_error *err);

#endif
