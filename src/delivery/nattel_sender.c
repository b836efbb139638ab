/*
 * The sender: one POST of one envelope with libcurl. The only file that
 * includes <curl/curl.h>, and the only one that loads libcurl: with
 * dlopen, on the first send. Linking it would load libcurl and its thirty
 * TLS, HTTP/2 and Kerberos libraries into every host at start-up (3.5 MiB
 * and milliseconds of dynamic linking for each run of an instrumented
 * command), to be used only by the flusher. TLS verification stays on;
 * redirects are not followed (a redirect is not a delivery). What an
 * answer means is the policy's (nattel_retry.c).
 */
#include "delivery/nattel_sender.h"
#include "delivery/nattel_retry.h"
#include "model/nattel_error.h"
#include "natx/natx_clock.h"

#include <curl/curl.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct nattel__sender {
    CURL *curl;
    struct curl_slist *headers;
    int (*should_stop)(void *ctx);
    void *stop_ctx;
    int64_t retry_after_ms;
    /* The start of the answer's body, for the audit log's reason. */
    char body[NATTEL__SEND_BODY_MAX + 1];
    size_t body_len;
    char user_agent[64];
};

/* The libcurl calls the sender makes, resolved once. */
typedef struct curl_api {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    void (*easy_cleanup)(CURL *c);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
} curl_api;

static pthread_once_t api_once = PTHREAD_ONCE_INIT;
static curl_api api;
/* Why libcurl is not usable; "" once it is. */
static char api_error[256] = "not loaded";

/* dlsym returns void *; the function pointer it stands for is copied
 * bit for bit (POSIX guarantees the two have one representation). */
static int resolve(void *lib, const char *name, void *slot, size_t size)
{
    void *sym = dlsym(lib, name);
    if (!sym) {
        snprintf(api_error, sizeof api_error, "libcurl: no symbol %s", name);
        return -1;
    }
    memcpy(slot, &sym, size);
    return 0;
}

static void api_load(void)
{
    /* The runtime name first (libcurl4 ships it); the development link
     * as a fallback for unusual layouts. Never unloaded. */
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(api_error, sizeof api_error, "cannot load libcurl: %s",
                 e ? e : "unknown error");
        return;
    }
#define RESOLVE(field, name) resolve(lib, name, &api.field, sizeof api.field)
    if (RESOLVE(global_init, "curl_global_init") ||
        RESOLVE(easy_init, "curl_easy_init") ||
        RESOLVE(easy_setopt, "curl_easy_setopt") ||
        RESOLVE(easy_perform, "curl_easy_perform") ||
        RESOLVE(easy_getinfo, "curl_easy_getinfo") ||
        RESOLVE(easy_strerror, "curl_easy_strerror") ||
        RESOLVE(easy_cleanup, "curl_easy_cleanup") ||
        RESOLVE(slist_append, "curl_slist_append") ||
        RESOLVE(slist_free_all, "curl_slist_free_all"))
        return;
#undef RESOLVE
    CURLcode rc = api.global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(api_error, sizeof api_error, "libcurl: global init: %s",
                 api.easy_strerror(rc));
        return;
    }
    api_error[0] = '\0';
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    nattel__sender *s = ctx;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && len < 200 &&
        !strncasecmp(p, name, sizeof name - 1)) {
        char v[200];
        memcpy(v, p + sizeof name - 1, len - (sizeof name - 1));
        v[len - (sizeof name - 1)] = '\0';
        s->retry_after_ms =
            nattel__retry_after_parse(v, natx_clock_realtime_ms());
    }
    return len;
}

/* The answer's body is read whole; only its start is kept (why a server
 * refused a batch, for the audit log). */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    nattel__sender *s = ctx;
    size_t len = size * n;
    size_t room = NATTEL__SEND_BODY_MAX - s->body_len;
    size_t take = len < room ? len : room;
    memcpy(s->body + s->body_len, p, take);
    s->body_len += take;
    s->body[s->body_len] = '\0';
    return len;
}

static int on_progress(void *ctx, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
    nattel__sender *s = ctx;
    return s->should_stop && s->should_stop(s->stop_ctx);
}

/* The easy handle and its request headers; -1 when out of memory. */
static int init_handle(nattel__sender *s)
{
    struct curl_slist *h =
        api.slist_append(NULL, "Content-Type: application/json");
    if (!h)
        return -1;
    s->headers = h;
    /* No "Expect: 100-continue" round trip: envelopes are small. */
    h = api.slist_append(s->headers, "Expect:");
    if (!h)
        return -1;
    s->headers = h;
    s->curl = api.easy_init();
    return s->curl ? 0 : -1;
}

nattel__sender *nattel__sender_new(const char *url, int64_t connect_ms,
                                   int64_t total_ms,
                                   int (*should_stop)(void *ctx), void *ctx,
                                   nattel_error *err)
{
    pthread_once(&api_once, api_load);
    if (api_error[0]) {
        natx_fail(err, NATTEL_EIO, "%s", api_error);
        return NULL;
    }
    nattel__sender *s = calloc(1, sizeof *s);
    if (!s || init_handle(s)) {
        nattel__sender_free(s);
        natx_fail(err, NATTEL_ENOMEM, "sender: out of memory");
        return NULL;
    }
    s->should_stop = should_stop;
    s->stop_ctx = ctx;
    snprintf(s->user_agent, sizeof s->user_agent, "nattel/%s", NATTEL_VERSION);
    CURL *c = s->curl;
    api.easy_setopt(c, CURLOPT_URL, url);
    api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    api.easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    api.easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    api.easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    api.easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)total_ms);
    api.easy_setopt(c, CURLOPT_USERAGENT, s->user_agent);
    api.easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    api.easy_setopt(c, CURLOPT_HEADERDATA, s);
    api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    api.easy_setopt(c, CURLOPT_WRITEDATA, s);
    api.easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    api.easy_setopt(c, CURLOPT_XFERINFODATA, s);
    api.easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return s;
}

/* The body's start as one line of printable UTF-8 for the audit log:
 * control bytes become spaces, a cut multi-byte sequence is left out. */
static void body_text(const char *b, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)b[i];
        out[k++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    /* Drop a trailing partial UTF-8 sequence (the cut of the bound). */
    size_t lead = k;
    while (lead > 0 && ((unsigned char)out[lead - 1] & 0xc0) == 0x80)
        lead--;
    if (lead > 0 && ((unsigned char)out[lead - 1] & 0x80)) {
        unsigned char c = (unsigned char)out[lead - 1];
        size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
        if (k - (lead - 1) < want)
            k = lead - 1;
    }
    out[k] = '\0';
}

/* The request headers of one post: the fixed ones and its event IDs. */
static struct curl_slist *post_headers(nattel__sender *s, const char *ids)
{
    if (!ids || !*ids)
        return NULL;
    size_t n = strlen(ids) + sizeof "Nattel-Event-Ids: ";
    char *line = malloc(n);
    if (!line)
        return NULL;
    snprintf(line, n, "Nattel-Event-Ids: %s", ids);
    struct curl_slist *h = NULL;
    for (struct curl_slist *i = s->headers; i; i = i->next) {
        struct curl_slist *more = api.slist_append(h, i->data);
        if (!more) {
            api.slist_free_all(h);
            free(line);
            return NULL;
        }
        h = more;
    }
    struct curl_slist *more = api.slist_append(h, line);
    free(line);
    if (!more)
        api.slist_free_all(h);
    return more;
}

void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         const char *ids, nattel__send_result *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    s->retry_after_ms = -1;
    s->body_len = 0;
    s->body[0] = '\0';
    struct curl_slist *h = post_headers(s, ids);
    if (ids && *ids && !h) {
        snprintf(out->reason, sizeof out->reason, "sender: out of memory");
        return;
    }
    api.easy_setopt(s->curl, CURLOPT_HTTPHEADER, h ? h : s->headers);
    api.easy_setopt(s->curl, CURLOPT_POSTFIELDS, payload);
    api.easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = api.easy_perform(s->curl);
    long status = 0;
    api.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    api.easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->headers);
    api.slist_free_all(h);
    /* A complete 2xx status line is a delivery, whatever became of the
     * body after it (short, cut, timed out): the body is not ours to
     * require, and sending again would store the events twice. */
    int delivered = status >= 200 && status < 300;
    if (rc != CURLE_OK && !delivered) {
        snprintf(out->reason, sizeof out->reason, "network: %s",
                 api.easy_strerror(rc));
        return;
    }
    out->http_status = (int)status;
    out->retry_after_ms = s->retry_after_ms;
    body_text(s->body, s->body_len, out->body, sizeof out->body);
    if (rc != CURLE_OK)
        snprintf(out->reason, sizeof out->reason,
                 "HTTP %ld (answer body cut: %s)", status,
                 api.easy_strerror(rc));
    else
        snprintf(out->reason, sizeof out->reason, "HTTP %ld", status);
}

void nattel__sender_free(nattel__sender *s)
{
    if (!s)
        return;
    if (s->curl)
        api.easy_cleanup(s->curl);
    api.slist_free_all(s->headers);
    free(s);
}
