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
    size_t cap; /* room in events and ts; grows, since a reader takes any
                 * number of events (only a sender stops at 50) */
    nattel_event **events;
    char (*ts)[NATTEL_TS_LEN + 1];
};

/* The envelope's keys in wire order, each with the rule the decoder checks
 * and, for fixed keys, the one value the writer writes: one table for both
 * directions, so they cannot drift apart. */
typedef enum nattel__env_rule {
    NATTEL__ENV_FIXED,     /* exactly `fixed` */
    NATTEL__ENV_NONEMPTY,  /* a non-empty string */
    NATTEL__ENV_STRING,    /* any string */
    NATTEL__ENV_TIMESTAMP, /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    NATTEL__ENV_EVENTS     /* the events array */
} nattel__env_rule;

typedef struct nattel__env_key {
    const char *key;
    nattel__env_rule rule;
    const char *fixed;
} nattel__env_key;

/* Indices of the keys whose values vary. */
enum {
    NATTEL__K_CLIENT_VER = 4,
    NATTEL__K_CPU_ARCH = 5,
    NATTEL__K_SCHEMA_VER = 16,
    NATTEL__K_SYS_VER = 17,
    NATTEL__K_SENT_TS = 26,
    NATTEL__K_SESSION_ID = 27,
    NATTEL__K_EVENTS = 29,
    NATTEL__ENV_KEYS = 30
};

extern const nattel__env_key nattel__env_keys[NATTEL__ENV_KEYS];

/* An envelope with these exact strings (copied); NULL when out of memory. */
nattel_envelope *nattel__envelope_alloc(const char *client_ver,
                                        const char *session_id,
                                        const char *cpu_architecture,
                                        const char *event_sys_ver);

/* Appends ev with its wire timestamp (NATTEL_TS_LEN bytes), growing the
 * arrays; takes ownership of ev on NATTEL_OK only. No count limit: the
 * limit is the sender's (nattel_envelope_add), not the reader's. */
nattel_code nattel__envelope_push(nattel_envelope *env, nattel_event *ev,
                                  const char *ts);

/* True when s[0..n) has the wire timestamp shape YYYY-MM-DDTHH:MM:SS.mmmZ. */
int nattel__ts_valid(const char *s, size_t n);

#endif
