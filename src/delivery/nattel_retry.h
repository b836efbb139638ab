#ifndef NATTEL_RETRY_H
#define NATTEL_RETRY_H

/*
 * The status policy, pure: what an HTTP status means for the events sent,
 * how long to wait after failures, what a server's Retry-After asks, and
 * when an event is given up. No libcurl, no files, no clock: the caller
 * passes the time and the randomness (docs/delivery.md, "Status policy";
 * docs/design.md section 6).
 *
 * Back-off after consecutive failed attempts (flusher runs):
 *
 *   10 s, 20 s, 40 s, 80 s, ... doubling, capped at 1 h (from the 10th)
 *
 * then "equal jitter": the wait is half that delay plus a random part of
 * the other half (5-10 s, 10-20 s, ..., 30-60 min), so clients that failed
 * together spread out without retrying sooner than half the delay. A
 * server's Retry-After wins when it is longer, honoured up to 6 h.
 *
 * An event is dropped on a failure once it has been tried 10 times AND
 * was spooled at least 24 h ago: both, so neither a burst of `nattel
 * flush` runs nor one long outage alone loses it.
 */

#include <stdint.h>

#define NATTEL__BACKOFF_BASE_MS 10000
#define NATTEL__BACKOFF_CAP_MS (60 * 60 * 1000)
/* The longest Retry-After honoured. */
#define NATTEL__RETRY_AFTER_CAP_MS (6 * 60 * 60 * 1000)
#define NATTEL__RETRY_MAX_ATTEMPTS 10
#define NATTEL__RETRY_MAX_AGE_MS (24 * 60 * 60 * 1000)

typedef enum nattel__policy {
    NATTEL__POLICY_DONE = 0, /* 2xx: delivered */
    NATTEL__POLICY_REJECT,   /* 400, 422: the server will never take it */
    NATTEL__POLICY_SPLIT,    /* 413: send in halves (one event: reject) */
    NATTEL__POLICY_RETRY     /* anything else: keep and try again later */
} nattel__policy;

/* What to do with a batch the server answered with http_status (0: no
 * answer, which is retried). */
nattel__policy nattel__policy_for(int http_status);

/* The delay after `failures` consecutive failures (>= 1) with `jitter` in
 * [0, 1) (anything else counts as 0), and a server's Retry-After (ms, -1
 * none) honoured up to NATTEL__RETRY_AFTER_CAP_MS. */
int64_t nattel__backoff_ms(int64_t failures, double jitter,
                           int64_t retry_after_ms);

/* Parses a Retry-After value: delta-seconds (capped at a year) or an HTTP
 * date (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", relative to now_ms;
 * 0 when past); -1 when neither. */
int64_t nattel__retry_after_parse(const char *v, int64_t now_ms);

/* True when an event failing its `attempts`-th attempt (counting this
 * one), spooled `age_ms` ago, is to be dropped, not retried. */
int nattel__retry_give_up(unsigned attempts, int64_t age_ms);

#endif
