#ifndef NATTEL_SENDER_H
#define NATTEL_SENDER_H

/* The sender: one POST of one envelope with libcurl, loaded with dlopen
 * on first use (nattel_sender.c is the only file that includes curl.h).
 * What the answer means is the policy's business (nattel_retry.h). */

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

typedef struct nattel__sender nattel__sender;

typedef struct nattel__send_result {
    int http_status;        /* 0: no HTTP answer */
    int64_t retry_after_ms; /* -1: none */
    char reason[256];       /* network error or status text */
} nattel__send_result;

/* A sender for url; should_stop (may be NULL) is polled during a send
 * and aborts it when true. NULL on error (libcurl missing, memory). */
nattel__sender *nattel__sender_new(const char *url, int64_t connect_ms,
                                   int64_t total_ms,
                                   int (*should_stop)(void *ctx), void *ctx,
                                   nattel_error *err);
void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         nattel__send_result *out);
void nattel__sender_free(nattel__sender *s);

#endif
