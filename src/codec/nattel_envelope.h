#ifndef NATTEL_ENVELOPE_H
#define NATTEL_ENVELOPE_H

#include <nattel/nattel.h>

/*
 * The envelope's layout has one owner, this module: one table of its 30
 * members in wire order says each key, the rule a reader checks, the one
 * value of a fixed member and where a varying member's value is kept. The
 * writer, the reporting decoder and the reader's fast path all walk it;
 * nothing else names a member by position.
 */

/* Where the value of a varying member is kept (nattel_envelope.val). */
typedef enum nattel__env_val {
    NATTEL__EV_NONE = -1, /* a fixed member, or the events */
    NATTEL__EV_CLIENT_VER = 0,
    NATTEL__EV_CPU_ARCH,
    NATTEL__EV_SCHEMA_VER, /* of the events; unset until the first is in */
    NATTEL__EV_SYS_VER,
    NATTEL__EV_SENT_TS, /* decoded envelopes only */
    NATTEL__EV_SESSION_ID,
    NATTEL__ENV_VALS
} nattel__env_val;

struct nattel_envelope {
    /* The varying members' values, NUL-terminated; data is NULL while
     * unset. Buffers, so that a reader refilling one envelope document
     * after document allocates nothing once they are large enough. */
    nattel_buf val[NATTEL__ENV_VALS];
    size_t count;
    size_t cap; /* room in events and ts; grows, since a reader takes any
                 * number of events (only a sender stops at 50) */
    nattel_event **events;
    char (*ts)[NATTEL_TS_LEN + 1];
    int lent; /* events and ts belong to a reader (nattel__envelope_lend) */
};

typedef enum nattel__env_rule {
    NATTEL__ENV_FIXED,     /* exactly `fixed` */
    NATTEL__ENV_NONEMPTY,  /* a non-empty string */
    NATTEL__ENV_STRING,    /* any string */
    NATTEL__ENV_TIMESTAMP, /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    NATTEL__ENV_EVENTS     /* the events array */
} nattel__env_rule;

typedef struct nattel__env_key {
    const char *key;
    unsigned char klen; /* strlen(key) */
    nattel__env_rule rule;
    const char *fixed;  /* NATTEL__ENV_FIXED only */
    unsigned char flen; /* strlen(fixed) */
    signed char val;    /* nattel__env_val */
} nattel__env_key;

/* Checked against the table where it is defined. */
#define NATTEL__ENV_KEYS 30

extern const nattel__env_key nattel__env_keys[NATTEL__ENV_KEYS];

/* Index in nattel__env_keys of key k[0..n), looking at `hint` first (the
 * index a canonical document has it at); -1 when none. Inline: the
 * reader asks it of every document's first key. */
static inline int nattel__env_key_index(const char *k, size_t n, size_t hint)
{
    for (size_t j = 0; j < NATTEL__ENV_KEYS; j++) {
        size_t i = (hint + j) % NATTEL__ENV_KEYS;
        const nattel__env_key *e = &nattel__env_keys[i];
        if (e->klen != n)
            continue;
        size_t c = 0;
        while (c < n && e->key[c] == k[c])
            c++;
        if (c == n)
            return (int)i;
    }
    return -1;
}

/* Sets a varying member's value to a copy of s[0..n); the envelope keeps
 * its memory for the next set. NATTEL_ENOMEM. */
nattel_code nattel__envelope_set(nattel_envelope *env, nattel__env_val v,
                                 const char *s, size_t n);

/* Points the envelope's events at a reader's arrays of `count` events and
 * their timestamps, which it does not free; undone by the next lend, and
 * by nattel__envelope_lend(env, NULL, NULL, 0). */
void nattel__envelope_lend(nattel_envelope *env, nattel_event **events,
                           char (*ts)[NATTEL_TS_LEN + 1], size_t count);

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
