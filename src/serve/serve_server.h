#ifndef SERVE_SERVER_H
#define SERVE_SERVER_H

/*
 * The HTTP side of `nattel serve`: a strict stand-in for the NeMo usage
 * telemetry ingest, on libmicrohttpd's epoll event loop with a small pool
 * of threads, so that slow or idle clients cost a socket each and never a
 * thread. With a delay (`delay_ms`, a test seam for a slow server) it runs
 * one thread per connection instead, so that a delayed answer holds back
 * only itself.
 *
 *   POST /v1.1/events/json   one envelope, validated by `reg`:
 *     200 {"accepted":N}     every event stored, in one transaction, or
 *                            stored before (exactly once: serve_store.h)
 *     400                    not JSON, nested past the reader's limit,
 *                            a bad Nattel-Event-Ids header, or a body
 *                            length told twice (two different
 *                            Content-Length, or one with
 *                            Transfer-Encoding; the connection is then
 *                            closed)
 *     413                    over the body limit (answered before reading
 *                            the body when Content-Length says so), or
 *                            over a size or count limit of the reader
 *     415                    Content-Type missing or not application/json
 *     422                    breaks the schema; each problem by path
 *     503 + Retry-After      the store cannot write now (disk full, busy,
 *                            locked): nothing stored, the sender keeps it
 *   other methods: 405 with Allow: POST; GET (and HEAD) of / and
 *   /api/v1/report: the dashboard (serve_dashboard.h), other methods there
 *   405 with Allow: GET, HEAD; other paths: 404.
 * Fault injection answers the first `fail_count` POSTs with `fail_status`
 * whatever their body, without storing.
 *
 * Past `max_connections` open connections, or `max_per_ip` from one
 * address, a new one is closed at once: held connections cannot queue
 * everyone else up behind them. A request not received whole within
 * `request_timeout_s` has its connection closed.
 */

#include <nattel/nattel.h>

#include "serve/serve_store.h"

#include <stdio.h>

#define SERVE_SERVER_PATH "/v1.1/events/json"
#define SERVE_SERVER_DEFAULT_LISTEN "127.0.0.1:8900"
#define SERVE_SERVER_DEFAULT_MAX_BODY (1024u * 1024u)
#define SERVE_SERVER_DEFAULT_MAX_CONNECTIONS 1024u
/* Connections open at once from one client address: one client cannot
 * take every slot. */
#define SERVE_SERVER_DEFAULT_MAX_PER_IP 128u
/* A request's headers and body must all arrive within this long after
 * its first byte could (the connection opened, or the previous answer
 * went): a client trickling a byte now and then is never idle. */
#define SERVE_SERVER_DEFAULT_REQUEST_TIMEOUT_S 30u
/* A connection that sends nothing for this long is closed. */
#define SERVE_SERVER_IDLE_TIMEOUT_S 15u
/* Retry-After of a 503 from the store when no retry_after is set. */
#define SERVE_SERVER_STORE_RETRY_AFTER_S 5

typedef struct serve_server_config {
    const char *listen; /* "ADDR:PORT" or "[IPV6]:PORT"; port 0 picks one */
    size_t max_body;    /* bytes; at most NATTEL_JSON_MAX_BYTES */
    int fail_status;    /* 0: no fault injection */
    long fail_count;    /* < 0: every POST */
    unsigned delay_ms;  /* before each answer */
    long retry_after;   /* seconds, on 429 and 503; < 0: no header (a
                           503 from the store always has one) */
    unsigned max_connections;   /* open at once; more are closed at accept */
    FILE *log;                  /* one line per request; NULL: quiet */
    unsigned max_per_ip;        /* open at once from one address */
    unsigned request_timeout_s; /* headers and body, whole */
} serve_server_config;

#define SERVE_SERVER_CONFIG_INIT                                               \
    {                                                                          \
        SERVE_SERVER_DEFAULT_LISTEN, SERVE_SERVER_DEFAULT_MAX_BODY, 0, -1, 0,  \
            -1, SERVE_SERVER_DEFAULT_MAX_CONNECTIONS, NULL,                    \
            SERVE_SERVER_DEFAULT_MAX_PER_IP,                                   \
            SERVE_SERVER_DEFAULT_REQUEST_TIMEOUT_S                             \
    }

typedef struct serve_server serve_server;

/* Splits "ADDR:PORT" / "[ADDR]:PORT" into host (room for `size` bytes) and
 * port. NATTEL_EINVAL says what is wrong. */
nattel_code serve_server_parse_listen(const char *listen, char *host,
                                      size_t size, unsigned *port,
                                      nattel_error *err);

/* Binds the listening socket (NATTEL_EIO: cannot, e.g. the address is in
 * use) without serving yet: a caller binds before it creates anything
 * else, so that a failed start leaves nothing behind. `reg` must outlive
 * the server. */
nattel_code serve_server_bind(const serve_server_config *cfg,
                              const nattel_registry *reg, serve_server **out,
                              nattel_error *err);

/* Starts the threads and returns once requests are being served. `store`
 * must outlive the server. */
nattel_code serve_server_start(serve_server *s, serve_store *store,
                               nattel_error *err);

/* The URL to use as NAT_TELEMETRY_ENDPOINT. */
const char *serve_server_url(const serve_server *s);

/* Stops accepting, waits up to `drain_ms` for requests in flight to be
 * answered, then closes every connection and frees the server (bound or
 * started). Accepts NULL. */
void serve_server_stop(serve_server *s, unsigned drain_ms);

#endif
