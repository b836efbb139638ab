#ifndef NATTEL_SPOOL_H
#define NATTEL_SPOOL_H

/*
 * The state directory and the spool. The spool module prepares the
 * directory; the files in it belong to the modules named:
 *
 *   STATE/            0700, never a symlink
 *     spool/          waiting payloads, MS-SEQ-RAND-SIZE-ATTEMPTS.json
 *                     (nattel_spool.c)
 *     claims/         payloads a flusher is sending (renamed from spool/;
 *                     nattel_flush_run.c)
 *     flusher.lock    flock: one flusher at a time (nattel_flush_run.c)
 *     state.lock      flock: serializes state.json and audit log updates
 *                     (nattel_state.c)
 *     state.json      counters, last delivery, back-off (nattel_state.c)
 *     audit.log       one JSON line per sent/rejected/dropped/deferred
 *                     (nattel_audit.c)
 *     audit.log.1     the previous audit log (rotation)
 *     spool.summary   the host's O(1) bound check: counts, the oldest
 *                     names, drops not yet recorded (nattel_spool.c)
 *     lost/           marks of events the disk had no room for
 *                     (nattel_spool.c)
 */

#include "config/nattel_options.h"

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

/* Creates (0700) or checks STATE, STATE/spool and STATE/claims: a
 * symlink, a non-directory or a directory of another user is refused. */
nattel_code nattel__state_dir_prepare(const char *dir, nattel_error *err);
/* As prepare, but creates nothing: NATTEL_ENOTFOUND when absent. */
nattel_code nattel__state_dir_check(const char *dir, nattel_error *err);

/* A spool entry's name, parsed: MS-SEQ-RAND-SIZE-ATTEMPTS[-FIRST].json.
 * Names sort by spooling time, then by the spooling client's sequence
 * number (so one client's events keep their order within a millisecond).
 * MS-SEQ-RAND, the stem, never changes for the entry's whole life: its
 * events' IDs (Nattel-Event-Ids) derive from it. */
typedef struct nattel__entry {
    char name[96];
    int64_t ms;       /* when it was spooled (Unix ms, the host's clock) */
    uint32_t seq;     /* the client's sequence number */
    char rand[17];    /* 16 hex digits: unique across processes */
    uint64_t size;    /* payload bytes */
    unsigned attempt; /* failed attempts so far */
    /* When a flusher of this machine first failed to send it (Unix ms,
     * the flusher's clock); -1 before. The retry limit's age counts from
     * here, never from MS, which a host with a wrong clock stamped. */
    int64_t first_ms;
} nattel__entry;

/* The stem of an entry's name, MS-SEQ-RAND (41 characters), in out
 * (at least 42 bytes). */
void nattel__entry_stem(const nattel__entry *e, char *out, size_t cap);

/* Parses an entry's name; -1 for anything else. */
int nattel__entry_parse(const char *name, nattel__entry *out);
/* The name of an entry (after changing e.g. its attempt). */
void nattel__entry_name(const nattel__entry *e, char *out, size_t cap);

/* Writes one payload into STATE/spool (temporary file, then rename),
 * named by the real-time clock, `seq` and random digits. */
nattel_code nattel__spool_write(const nattel_options *o, uint32_t seq,
                                const char *payload, size_t len,
                                nattel_error *err);

/* The entries of STATE/SUB (SUB "spool" or "claims"), oldest first.
 * Names that are not entries are skipped; symlinks are counted in
 * *symlinks (may be NULL) and not listed. */
nattel_code nattel__spool_list(const char *state_dir, const char *sub,
                               nattel__entry **out, size_t *count,
                               size_t *symlinks, nattel_error *err);

/* Drops the oldest entries of STATE/spool until both bounds hold;
 * *dropped (may be NULL) counts events dropped. Records each drop. */
nattel_code nattel__spool_enforce(const nattel_options *o, size_t *dropped,
                                  nattel_error *err);

/* What nattel__spool_refuse_odd found and did. */
typedef struct nattel__odd_count {
    size_t symlinks; /* removed (the link, never its target) */
    size_t others;   /* FIFOs, sockets, devices removed; directories set
                        aside as .odd-NAME */
} nattel__odd_count;

/* Removes what in STATE/spool is not a regular file: a symlink, FIFO,
 * socket or device is unlinked, a directory named like an entry is set
 * aside (renamed .odd-NAME, which no reader lists). Each is recorded
 * once as a dropped event (a flusher holding the lock does this). */
void nattel__spool_refuse_odd(const nattel_options *o, nattel__odd_count *out);

/* The host's bound check after spooling a payload of `len` bytes, in
 * O(1) of the spool's size: STATE/spool.summary counts events and bytes
 * and queues the oldest names; over a bound, the oldest are unlinked and
 * counted there as dropped, for the next flusher to record (state.json,
 * audit log: nattel__spool_take_dropped). A listing sets the summary
 * right every NATTEL__SUMMARY_RELIST emits or when its queue runs out.
 * Never waits: a summary locked for about 1 ms is left alone (the spool
 * may then pass its bound by that event until the next check). Returns
 * the events dropped. */
#define NATTEL__SUMMARY_RELIST 64
size_t nattel__spool_note(const nattel_options *o, size_t len);
/* Events hosts dropped over the bound and not yet recorded: returned and
 * reset to 0 (a flusher records them). */
size_t nattel__spool_take_dropped(const char *state_dir);
/* The same count, read only (no lock, nothing changed): for status. */
size_t nattel__spool_pending_dropped(const char *state_dir);

/* Marks one event lost before it reached the spool (the disk was full):
 * an empty file in STATE/lost, which needs no data block. */
void nattel__spool_mark_lost(const nattel_options *o);
/* Counts and removes the marks of STATE/lost: the events lost. */
size_t nattel__spool_take_lost(const char *state_dir);

/* Spooled events: entries in spool/ and claims/. */
size_t nattel__spool_count(const char *state_dir);

#endif
