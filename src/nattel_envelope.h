#ifndef NATTEL_ENVELOPE_H
#define NATTEL_ENVELOPE_H

#include <nattel/nattel.h>

struct nattel_envelope {
    char *client_ver;
    char *session_id;
    char *schema_ver; /* of the events; NULL until the first is added */
    char *cpu_architecture;
    char *event_sys_ver;
    char sent_ts[NATTEL_TS_LEN + 1]; /* decoded envelopes only */
    size_t count;
    nattel_event *events[NATTEL_ENVELOPE_MAX_EVENTS];
    char ts[NATTEL_ENVELOPE_MAX_EVENTS][NATTEL_TS_LEN + 1];
};

/* An envelope with these exact strings (copied); NULL when out of memory. */
nattel_envelope *nattel__envelope_alloc(const char *client_ver,
                                        const char *session_id,
                                        const char *cpu_architecture,
                                        const char *event_sys_ver);

/* True when s[0..n) has the wire timestamp shape YYYY-MM-DDTHH:MM:SS.mmmZ. */
int nattel__ts_valid(const char *s, size_t n);

#endif
