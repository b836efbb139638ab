#include "serve/serve_server.h"

#include "natx/natx_error.h"
#include "serve/serve_dashboard.h"
#include "serve/serve_ingest.h"
#include "serve/serve_mhd.h"
#include "serve/serve_report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Past the body limit a request's bytes are read and dropped, never kept;
 * a sender that keeps going this far beyond it is cut off. */
#define DISCARD_SLACK (64u * 1024u * 1024u)
/* Threads of the event loop: a few, so that one blocked in a write to the
 * store (up to its busy timeout) leaves the others serving. */
#define POOL_SIZE 4u
/* Descriptors kept free beside the connections: the listening socket,
 * the database and its WAL, epoll and the threads' wake-up pipes. */
#define FD_RESERVE 64u
/* How often the request deadline is checked: a late request is cut
 * within this much after its deadline. */
#define WATCHDOG_TICK_MS 250

/* One open connection, for the request deadline: the watchdog cuts a
 * connection whose request has not been received whole in time. */
typedef struct conn_slot {
    struct conn_slot *prev, *next;
    int fd;
    int64_t begun_ms; /* this request's first byte could come (monotonic) */
    int answering;    /* received whole: the deadline no longer applies */
    int cut;
} conn_slot;

struct serve_server {
    serve_server_config cfg;
    const nattel_registry *reg;
    serve_store *store;
    const serve_mhd_api *mhd; /* loaded at bind */
    struct MHD_Daemon *daemon;
    int listen_fd;
    char url[128];
    atomic_long posts; /* POSTs to the endpoint so far: fault tickets */
    atomic_int stopping;
    atomic_uint connections;  /* open now */
    unsigned max_connections; /* cfg's, lowered to what the fd limit allows */
    pthread_mutex_t lock;     /* guards inflight */
    pthread_cond_t idle;
    long inflight;             /* requests begun and not yet answered */
    pthread_mutex_t conn_lock; /* guards conns and each slot */
    pthread_cond_t conn_wake;
    conn_slot *conns;
    pthread_t watchdog;
    int watchdog_running;
};

/* One request, from its headers to its completion. */
typedef struct request {
    nattel_buf body;
    unsigned status;     /* decided before the body (404, 405, 413, fault) */
    int discard;         /* read the body and keep none of it */
    int over;            /* the body went past the limit */
    int close;           /* framing in doubt: close after the answer */
    const char *message; /* of an early 400, static */
    size_t received;
} request;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static conn_slot *slot_of(serve_server *s, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        s->mhd->get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request is in: the deadline stops counting until the next one. */
static void mark_answering(serve_server *s, struct MHD_Connection *conn)
{
    conn_slot *c = slot_of(s, conn);
    if (!c)
        return;
    pthread_mutex_lock(&s->conn_lock);
    c->answering = 1;
    pthread_mutex_unlock(&s->conn_lock);
}

/* Answered: a kept-alive connection's next request gets its own time. */
static void restart_deadline(serve_server *s, struct MHD_Connection *conn)
{
    conn_slot *c = slot_of(s, conn);
    if (!c)
        return;
    pthread_mutex_lock(&s->conn_lock);
    c->answering = 0;
    c->begun_ms = mono_ms();
    pthread_mutex_unlock(&s->conn_lock);
}

/* ------------------------------------------------------------------ */
/* Log                                                                 */
/* ------------------------------------------------------------------ */

/* Client-chosen text (URL, method) with anything unprintable as '?',
 * so that one request stays one log line. */
static void printable_copy(char *out, size_t size, const char *s)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
}

static void log_request(serve_server *s, const char *method, const char *url,
                        unsigned status, const char *what)
{
    if (!s->cfg.log)
        return;
    char m[16], u[128];
    printable_copy(m, sizeof m, method);
    printable_copy(u, sizeof u, url);
    fprintf(s->cfg.log, "nattel serve: %s %s -> %u %s\n", m, u, status, what);
    fflush(s->cfg.log);
}

static void log_mhd(void *cls, const char *fmt, va_list ap) NATX_PRINTF(2, 0);

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    serve_server *s = cls;
    if (!s->cfg.log)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    fprintf(s->cfg.log, "nattel serve: libmicrohttpd: %s\n", msg);
    fflush(s->cfg.log);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* Retry-After of an answer decided by the server itself (fault injection,
 * early refusals): only where asked for. < 0: none. */
static long asked_retry_after(const serve_server *s, unsigned status)
{
    return status == 429 || status == 503 ? s->cfg.retry_after : -1;
}

static void add_headers(serve_server *s, struct MHD_Response *r,
                        unsigned status, long retry_after, int close)
{
    s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json");
    if (status == 405)
        s->mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    if (retry_after >= 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%ld", retry_after);
        s->mhd->add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    /* Shutting down: keep-alive clients must reconnect elsewhere. After a
     * request of doubtful framing, nothing more is read from the
     * connection: what follows could be taken for another request. */
    if (close || atomic_load(&s->stopping))
        s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result send_answer(serve_server *s, struct MHD_Connection *conn,
                                   unsigned status, long retry_after,
                                   int close_after, const char *body,
                                   size_t len)
{
    mark_answering(s, conn);
    if (s->cfg.delay_ms)
        sleep_ms(s->cfg.delay_ms);
    struct MHD_Response *r = s->mhd->create_response_from_buffer(
        len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    add_headers(s, r, status, retry_after, close_after);
    enum MHD_Result ok = s->mhd->queue_response(conn, status, r);
    s->mhd->destroy_response(r);
    return ok;
}

/* An answer decided without decoding: {"error":MESSAGE}. */
static enum MHD_Result send_error(serve_server *s, struct MHD_Connection *conn,
                                  const char *method, const char *url,
                                  unsigned status, const char *message,
                                  int close_after)
{
    nattel_buf b = NATTEL_BUF_INIT;
    if (serve_ingest_error_body(&b, message, NULL) != NATTEL_OK) {
        nattel_buf_free(&b);
        return MHD_NO;
    }
    log_request(s, method, url, status, message);
    enum MHD_Result ok =
        send_answer(s, conn, status, asked_retry_after(s, status), close_after,
                    b.data, b.len);
    nattel_buf_free(&b);
    return ok;
}

static const char *early_message(serve_server *s, unsigned status, char *buf,
                                 size_t size)
{
    switch (status) {
    case 404:
        return "no such path; POST envelopes to " SERVE_SERVER_PATH;
    case 405:
        return "method not allowed; use POST";
    case 415:
        return "Content-Type must be application/json";
    case 413:
        snprintf(buf, size, "request body exceeds %zu bytes", s->cfg.max_body);
        return buf;
    default:
        snprintf(buf, size, "injected failure (--fail-status %d)",
                 s->cfg.fail_status);
        return buf;
    }
}

static enum MHD_Result send_early(serve_server *s, struct MHD_Connection *conn,
                                  const char *method, const char *url,
                                  const request *rq, unsigned status)
{
    char buf[128];
    const char *message =
        rq->message ? rq->message : early_message(s, status, buf, sizeof buf);
    return send_error(s, conn, method, url, status, message, rq->close);
}

static enum MHD_Result send_ingest(serve_server *s, struct MHD_Connection *conn,
                                   const char *method, const char *url,
                                   request *rq)
{
    serve_ingest_result res;
    const char *ids = s->mhd->lookup_connection_value(conn, MHD_HEADER_KIND,
                                                      SERVE_STORE_IDS_HEADER);
    nattel_code code = serve_ingest(s->reg, s->store, rq->body.data,
                                    rq->body.len, ids, now_ms(), &res);
    enum MHD_Result ok;
    if (code != NATTEL_OK) {
        ok = send_error(s, conn, method, url, 500, "out of memory", 0);
    } else {
        /* The store could not write: the sender must keep the events and
         * come back, so it is always told when. */
        long retry = res.status != 503 ? -1
                     : s->cfg.retry_after >= 0
                         ? s->cfg.retry_after
                         : SERVE_SERVER_STORE_RETRY_AFTER_S;
        log_request(s, method, url, res.status, res.summary);
        ok = send_answer(s, conn, res.status, retry, 0, res.body.data,
                         res.body.len);
    }
    serve_ingest_result_free(&res);
    return ok;
}

/* The dashboard's paths (serve_dashboard.h): read-only, GET and HEAD
 * only; a bad filter is a 400, the store's failure a 503. */
static enum MHD_Result send_dashboard(serve_server *s,
                                      struct MHD_Connection *conn,
                                      const char *method, const char *url)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) &&
        strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        log_request(s, method, url, 405, "method not allowed; use GET");
        struct MHD_Response *r = s->mhd->create_response_from_buffer(
            sizeof "{\"error\":\"method not allowed; use GET\"}\n" - 1,
            (void *)"{\"error\":\"method not allowed; use GET\"}\n",
            MHD_RESPMEM_PERSISTENT);
        if (!r)
            return MHD_NO;
        s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                    "application/json");
        s->mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
        enum MHD_Result ok = s->mhd->queue_response(conn, 405, r);
        s->mhd->destroy_response(r);
        return ok;
    }
    serve_dashboard_query q = {
        s->mhd->lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from"),
        s->mhd->lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "to"),
        s->mhd->lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "command"),
        s->mhd->lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "bucket")};
    nattel_buf b = NATTEL_BUF_INIT;
    nattel_error err = {NATTEL_OK, ""};
    int page = serve_dashboard_route(url) == 1;
    nattel_code code = page ? serve_dashboard_page(s->store, &q, 0, &b, &err)
                            : serve_dashboard_json(s->store, &q, &b, &err);
    if (code) {
        nattel_buf_free(&b);
        return send_error(s, conn, method, url,
                          code == NATTEL_EINVAL   ? 400
                          : code == NATTEL_ENOMEM ? 500
                                                  : 503,
                          err.message, 0);
    }
    log_request(s, method, url, 200, page ? "dashboard" : "report");
    struct MHD_Response *r = s->mhd->create_response_from_buffer(
        b.len, b.data, MHD_RESPMEM_MUST_COPY);
    nattel_buf_free(&b);
    if (!r)
        return MHD_NO;
    s->mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                page ? "text/html; charset=utf-8"
                                     : "application/json");
    s->mhd->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    s->mhd->add_response_header(r, "X-Content-Type-Options", "nosniff");
    /* As the page's own policy: it loads nothing from anywhere. */
    s->mhd->add_response_header(
        r, "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline';"
        " style-src 'unsafe-inline'; img-src data:;"
        " form-action 'self'; frame-ancestors 'none'");
    enum MHD_Result ok = s->mhd->queue_response(conn, 200, r);
    s->mhd->destroy_response(r);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Request life cycle                                                  */
/* ------------------------------------------------------------------ */

static void inflight_add(serve_server *s, long delta)
{
    pthread_mutex_lock(&s->lock);
    s->inflight += delta;
    if (s->inflight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
}

/* "application/json", any case, optionally followed by parameters
 * ("; charset=utf-8"); blanks around the media type are allowed. */
static int is_json_media_type(const char *ct)
{
    static const char json[] = "application/json";
    if (!ct)
        return 0;
    ct += strspn(ct, " \t");
    if (strncasecmp(ct, json, sizeof json - 1) != 0)
        return 0;
    ct += sizeof json - 1;
    ct += strspn(ct, " \t");
    return *ct == '\0' || *ct == ';';
}

/* Headers that say how long the body is, and ours, counted. */
typedef struct header_tally {
    unsigned lengths;   /* Content-Length headers */
    int lengths_differ; /* ... with different values */
    const char *length; /* the first one's value */
    unsigned encodings; /* Transfer-Encoding headers */
    unsigned ids;       /* Nattel-Event-Ids headers */
} header_tally;

static enum MHD_Result tally_header(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
    (void)kind;
    header_tally *t = cls;
    if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
        if (t->lengths++ && strcmp(t->length, value ? value : ""))
            t->lengths_differ = 1;
        else if (t->lengths == 1)
            t->length = value ? value : "";
    } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
        t->encodings++;
    } else if (!strcasecmp(key, SERVE_STORE_IDS_HEADER)) {
        t->ids++;
    }
    return MHD_YES;
}

/* A body whose length two headers tell differently is read one way here
 * and maybe another way by a proxy in front: request smuggling. Refused
 * whole, and the connection closed after the answer. NULL: fine. */
static const char *framing_problem(serve_server *s, struct MHD_Connection *conn)
{
    header_tally t = {0};
    s->mhd->get_connection_values(conn, MHD_HEADER_KIND, tally_header, &t);
    if (t.lengths_differ)
        return "two different Content-Length headers";
    if (t.lengths && t.encodings)
        return "both Content-Length and Transfer-Encoding";
    if (t.ids > 1)
        return SERVE_STORE_IDS_HEADER " sent more than once";
    return NULL;
}

/* The answer that can be given from the headers alone; 0 when the body
 * decides. */
static unsigned decide_early(serve_server *s, struct MHD_Connection *conn,
                             const char *method, const char *url, request *rq)
{
    rq->message = framing_problem(s, conn);
    if (rq->message) {
        rq->close = 1;
        return 400;
    }
    if (strcmp(url, SERVE_SERVER_PATH) != 0)
        return 404;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return 405;
    if (!is_json_media_type(s->mhd->lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return 415;
    const char *cl = s->mhd->lookup_connection_value(
        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > s->cfg.max_body)
        return 413;
    long ticket = atomic_fetch_add(&s->posts, 1);
    if (s->cfg.fail_status &&
        (s->cfg.fail_count < 0 || ticket < s->cfg.fail_count)) {
        rq->discard = 1;
        rq->status = (unsigned)s->cfg.fail_status;
    }
    return 0;
}

/* Keeps body bytes up to the limit; past it drops them all. Returns 0 when
 * the sender went so far past the limit that the connection is cut. */
static int take_body(serve_server *s, request *rq, const char *data, size_t n)
{
    rq->received += n;
    if (rq->received > s->cfg.max_body + DISCARD_SLACK)
        return 0;
    if (rq->discard || rq->over)
        return 1;
    if (rq->received > s->cfg.max_body) {
        rq->over = 1;
        nattel_buf_free(&rq->body);
        return 1;
    }
    return nattel_buf_append(&rq->body, data, n) == NATTEL_OK;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    serve_server *s = cls;
    request *rq = *req_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *req_cls = rq;
        inflight_add(s, 1);
        if (serve_dashboard_route(url))
            return send_dashboard(s, conn, method, url);
        unsigned early = decide_early(s, conn, method, url, rq);
        if (early)
            return send_early(s, conn, method, url, rq, early);
        return MHD_YES;
    }
    if (*upload_size) {
        int keep = take_body(s, rq, upload, *upload_size);
        *upload_size = 0;
        return keep ? MHD_YES : MHD_NO;
    }
    if (rq->over)
        return send_early(s, conn, method, url, rq, 413);
    if (rq->status)
        return send_early(s, conn, method, url, rq, rq->status);
    return send_ingest(s, conn, method, url, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    serve_server *s = cls;
    request *rq = *req_cls;
    if (!rq)
        return;
    nattel_buf_free(&rq->body);
    free(rq);
    *req_cls = NULL;
    restart_deadline(s, conn);
    inflight_add(s, -1);
}

/* ------------------------------------------------------------------ */
/* Listening                                                           */
/* ------------------------------------------------------------------ */

nattel_code serve_server_parse_listen(const char *listen, char *host,
                                      size_t size, unsigned *port,
                                      nattel_error *err)
{
    const char *colon = strrchr(listen, ':');
    const char *h = listen;
    size_t hlen = colon ? (size_t)(colon - listen) : 0;
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    }
    if (!colon || !hlen || hlen >= size || memchr(h, ']', hlen) ||
        (strchr(listen, ':') != colon && listen[0] != '['))
        return natx_fail(err, NATTEL_EINVAL,
                         "listen address '%s' is not ADDR:PORT or "
                         "[IPV6]:PORT",
                         listen);
    char *end = NULL;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || p > 65535 || colon[1] == '-' ||
        colon[1] == '+')
        return natx_fail(err, NATTEL_EINVAL,
                         "listen address '%s': port must be 0 to 65535",
                         listen);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (unsigned)p;
    return NATTEL_OK;
}

static nattel_code bind_socket(const struct addrinfo *ai, const char *where,
                               int *out, nattel_error *err)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
               ai->ai_protocol);
    if (fd < 0)
        return natx_fail(err, NATTEL_EIO, "cannot listen on %s: %s", where,
                         strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        close(fd);
        return natx_fail(err, NATTEL_EIO, "cannot listen on %s: %s", where,
                         strerror(e));
    }
    *out = fd;
    return NATTEL_OK;
}

static nattel_code open_listener(serve_server *s, nattel_error *err)
{
    char host[256];
    unsigned port = 0;
    nattel_code code =
        serve_server_parse_listen(s->cfg.listen, host, sizeof host, &port, err);
    if (code)
        return code;
    char service[8];
    snprintf(service, sizeof service, "%u", port);
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, service, &hints, &ai);
    if (rc != 0)
        return natx_fail(err, NATTEL_EIO, "cannot listen on %s: %s",
                         s->cfg.listen, gai_strerror(rc));
    code = bind_socket(ai, s->cfg.listen, &s->listen_fd, err);
    freeaddrinfo(ai);
    return code;
}

/* The URL of the bound socket: numeric host, actual port (port 0 asked
 * the kernel for one). */
static nattel_code make_url(serve_server *s, nattel_error *err)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN], port[8];
    if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &len) != 0 ||
        getnameinfo((struct sockaddr *)&ss, len, host, sizeof host, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return natx_fail(err, NATTEL_EIO, "cannot read the address of %s: %s",
                         s->cfg.listen, strerror(errno));
    int v6 = ss.ss_family == AF_INET6;
    snprintf(s->url, sizeof s->url, "http://%s%s%s:%s%s", v6 ? "[" : "", host,
             v6 ? "]" : "", port, SERVE_SERVER_PATH);
    return NATTEL_OK;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

/* Closes a new connection at once when the limit is reached, rather than
 * leaving it in the backlog behind the held ones. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
                                 socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    serve_server *s = cls;
    return atomic_load(&s->connections) < s->max_connections ? MHD_YES : MHD_NO;
}

static void slot_open(serve_server *s, struct MHD_Connection *conn,
                      void **socket_ctx)
{
    const union MHD_ConnectionInfo *ci =
        s->mhd->get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn_slot *c = ci ? calloc(1, sizeof *c) : NULL;
    if (!c)
        return; /* no deadline for this one; the idle timeout still holds */
    c->fd = ci->connect_fd;
    c->begun_ms = mono_ms();
    pthread_mutex_lock(&s->conn_lock);
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    pthread_mutex_unlock(&s->conn_lock);
    *socket_ctx = c;
}

/* libmicrohttpd tells of the close before it closes the descriptor: once
 * the slot is gone, the watchdog cannot touch a reused number. */
static void slot_close(serve_server *s, void **socket_ctx)
{
    conn_slot *c = *socket_ctx;
    if (!c)
        return;
    pthread_mutex_lock(&s->conn_lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&s->conn_lock);
    free(c);
    *socket_ctx = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
    serve_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&s->connections, 1);
        slot_open(s, conn, socket_ctx);
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&s->connections, 1);
        slot_close(s, socket_ctx);
    }
}

/* Cuts (shutdown, which the event loop sees as the peer gone) every
 * connection whose request is still coming past the deadline: a client
 * that sends a byte now and then is never idle, so the idle timeout
 * alone would hold its slot for ever. */
static void cut_late(serve_server *s, int64_t now)
{
    int64_t limit = (int64_t)s->cfg.request_timeout_s * 1000;
    unsigned cut = 0;
    for (conn_slot *c = s->conns; c; c = c->next) {
        if (c->answering || c->cut || now - c->begun_ms < limit)
            continue;
        shutdown(c->fd, SHUT_RDWR);
        c->cut = 1;
        cut++;
    }
    if (cut && s->cfg.log) {
        fprintf(s->cfg.log,
                "nattel serve: closed %u connection%s whose request took "
                "over %u s\n",
                cut, cut == 1 ? "" : "s", s->cfg.request_timeout_s);
        fflush(s->cfg.log);
    }
}

static void *watchdog_main(void *arg)
{
    serve_server *s = arg;
    pthread_mutex_lock(&s->conn_lock);
    while (!atomic_load(&s->stopping)) {
        cut_late(s, mono_ms());
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->conn_wake, &s->conn_lock, &until);
    }
    pthread_mutex_unlock(&s->conn_lock);
    return NULL;
}

static void watchdog_stop(serve_server *s)
{
    if (!s->watchdog_running)
        return;
    pthread_mutex_lock(&s->conn_lock);
    atomic_store(&s->stopping, 1);
    pthread_cond_broadcast(&s->conn_wake);
    pthread_mutex_unlock(&s->conn_lock);
    pthread_join(s->watchdog, NULL);
    s->watchdog_running = 0;
}

/* Every connection is a descriptor: take the soft limit up to the hard
 * one, and serve no more connections than that leaves room for. */
static unsigned fit_connection_limit(serve_server *s)
{
    struct rlimit rl;
    unsigned want = s->cfg.max_connections;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return want;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t cur = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = cur;
    }
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want + FD_RESERVE)
        return want;
    unsigned room = rl.rlim_cur > FD_RESERVE + 1
                        ? (unsigned)(rl.rlim_cur - FD_RESERVE)
                        : 1u;
    if (s->cfg.log)
        fprintf(s->cfg.log,
                "nattel serve: at most %u connections (open file limit "
                "%llu)\n",
                room, (unsigned long long)rl.rlim_cur);
    return room;
}

static struct MHD_Daemon *start_mhd(serve_server *s, unsigned flags,
                                    unsigned pool)
{
    /* libmicrohttpd splits its own limit among the pool's threads; twice
     * ours keeps an unlucky thread from reaching its share first, so that
     * on_accept decides. A thread per connection has no pool: the pool
     * option, even of size 0, draws a warning, so it ends the list then. */
    return s->mhd->start_daemon(
        flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
        log_mhd, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_LIMIT, s->max_connections * 2,
        MHD_OPTION_CONNECTION_TIMEOUT, SERVE_SERVER_IDLE_TIMEOUT_S,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, s->cfg.max_per_ip,
        pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool,
        MHD_OPTION_END);
}

static nattel_code start_daemon(serve_server *s, nattel_error *err)
{
    s->max_connections = fit_connection_limit(s);
    /* ITC lets MHD_quiesce_daemon stop the accepting. */
    unsigned flags = MHD_USE_ITC | MHD_USE_ERROR_LOG;
    unsigned pool = POOL_SIZE;
    if (s->cfg.delay_ms) {
        /* A delay sleeps in the handler: with a thread per connection it
         * holds back only the answer it delays. */
        flags |= MHD_USE_INTERNAL_POLLING_THREAD |
                 MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
        pool = 0;
    } else {
        flags |= MHD_USE_EPOLL_INTERNAL_THREAD;
    }
    s->daemon = start_mhd(s, flags, pool);
    if (!s->daemon)
        return natx_fail(err, NATTEL_EIO, "cannot start the HTTP server on %s",
                         s->cfg.listen);
    return NATTEL_OK;
}

static void server_free(serve_server *s)
{
    watchdog_stop(s);
    if (s->daemon)
        s->mhd->stop_daemon(s->daemon);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    pthread_cond_destroy(&s->conn_wake);
    pthread_mutex_destroy(&s->conn_lock);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

nattel_code serve_server_bind(const serve_server_config *cfg,
                              const nattel_registry *reg, serve_server **out,
                              nattel_error *err)
{
    *out = NULL;
    if (cfg->max_body == 0 || cfg->max_body > NATTEL_JSON_MAX_BYTES)
        return natx_fail(err, NATTEL_EINVAL, "body limit must be 1 to %u bytes",
                         NATTEL_JSON_MAX_BYTES);
    if (cfg->max_connections == 0 || cfg->max_per_ip == 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "connection limits must be at least 1");
    if (cfg->request_timeout_s == 0)
        return natx_fail(err, NATTEL_EINVAL,
                         "the request timeout must be at least 1 s");
    /* Loaded here, before the port is taken: a missing library is said
     * before anything else happens. */
    const serve_mhd_api *mhd = serve_mhd_load(err);
    if (!mhd)
        return NATTEL_EIO;
    serve_server *s = calloc(1, sizeof *s);
    if (!s)
        return natx_fail(err, NATTEL_ENOMEM, "out of memory");
    s->mhd = mhd;
    s->cfg = *cfg;
    s->reg = reg;
    s->listen_fd = -1;
    atomic_init(&s->posts, 0);
    atomic_init(&s->stopping, 0);
    atomic_init(&s->connections, 0);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->conn_lock, NULL);
    pthread_cond_init(&s->conn_wake, NULL);
    nattel_code code = open_listener(s, err);
    if (!code)
        code = make_url(s, err);
    if (code) {
        server_free(s);
        return code;
    }
    *out = s;
    return NATTEL_OK;
}

nattel_code serve_server_start(serve_server *s, serve_store *store,
                               nattel_error *err)
{
    /* Events of the types loaded at start (--schema) get typed tables
     * too; the report's index is made where the data is written. */
    nattel_code code = serve_store_add_types(store, s->reg, err);
    if (!code)
        code = serve_report_prepare(store, err);
    if (code)
        return code;
    s->store = store;
    code = start_daemon(s, err);
    if (code)
        return code;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) != 0)
        return natx_fail(err, NATTEL_EIO, "cannot start a thread");
    s->watchdog_running = 1;
    return NATTEL_OK;
}

const char *serve_server_url(const serve_server *s)
{
    return s->url;
}

static void wait_idle(serve_server *s, unsigned drain_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += drain_ms / 1000;
    deadline.tv_nsec += (long)(drain_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    while (s->inflight > 0 &&
           pthread_cond_timedwait(&s->idle, &s->lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&s->lock);
}

void serve_server_stop(serve_server *s, unsigned drain_ms)
{
    if (!s)
        return;
    if (!s->daemon) {
        server_free(s);
        return;
    }
    atomic_store(&s->stopping, 1);
    /* Quiescing hands the listening socket back: closing it refuses new
     * connections while the ones in flight are answered. */
    MHD_socket fd = s->mhd->quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    /* Either closed here or still MHD's, which closes it when stopped. */
    s->listen_fd = -1;
    wait_idle(s, drain_ms);
    s->mhd->stop_daemon(s->daemon);
    s->daemon = NULL;
    server_free(s);
}
