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

/* The answer's body is not needed: read and discard it. */
static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n;
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

void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         nattel__send_result *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    s->retry_after_ms = -1;
    api.easy_setopt(s->curl, CURLOPT_POSTFIELDS, payload);
    api.easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = api.easy_perform(s->curl);
    if (rc != CURLE_OK) {
        snprintf(out->reason, sizeof out->reason, "network: %s",
                 api.easy_strerror(rc));
        return;
    }
    long status = 0;
    api.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    out->http_status = (int)status;
    out->retry_after_ms = s->retry_after_ms;
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
