#ifndef NATTEL_SENDER_H
#define NATTEL_SENDER_H

/* The sender: one POST of one envelope with libcurl, loaded with dlopen
 * on first use (nattel_sender.c is the only file that includes curl.h).
 * What the answer means is the policy's business (nattel_retry.h). */

#include <nattel/nattel.h>

#include <stddef.h>
#include <stdint.h>

typedef struct nattel__sender nattel__sender;

/* How much of an answer's body is kept (the server's reason). */
#define NATTEL__SEND_BODY_MAX 200

typedef struct nattel__send_result {
    int http_status;        /* 0: no HTTP answer; 2xx once its status
                               line arrived whole, whatever the body */
    int64_t retry_after_ms; /* -1: none */
    char reason[256];       /* network error or status text */
    /* The start of the answer's body (at most NATTEL__SEND_BODY_MAX
     * bytes, control bytes as spaces, no cut UTF-8 sequence). */
    char body[NATTEL__SEND_BODY_MAX + 1];
} nattel__send_result;

/* A sender for url; should_stop (may be NULL) is polled during a send
 * and aborts it when true. NULL on error (libcurl missing, memory). */
nattel__sender *nattel__sender_new(const char *url, int64_t connect_ms,
                                   int64_t total_ms,
                                   int (*should_stop)(void *ctx), void *ctx,
                                   nattel_error *err);
/* POSTs payload with the request header `Nattel-Event-Ids: IDS` (ids:
 * one ID per event of the payload, in order, comma-separated; NULL or ""
 * sends no such header), so a receiver that knows the header stores a
 * retried event once. */
void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         const char *ids, nattel__send_result *out);
void nattel__sender_free(nattel__sender *s);

#endif
