/*
 * The sender: one POST of one envelope with libcurl. The only file that
 * includes <curl/curl.h>; libcurl is linked privately. TLS verification
 * stays on; redirects are not followed (a redirect is not a delivery).
 */
#include "delivery/nattel_delivery.h"
#include "nattel_error.h"

#include <curl/curl.h>

#include <ctype.h>
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

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

nattel__policy nattel__policy_for(int status)
{
    if (status >= 200 && status < 300)
        return NATTEL__POLICY_DONE;
    if (status == 400 || status == 422)
        return NATTEL__POLICY_REJECT;
    if (status == 413)
        return NATTEL__POLICY_SPLIT;
    /* 408, 429, 5xx, no answer, and anything unexpected (3xx, 401, 404):
     * kept and retried, so a misconfigured endpoint never eats events;
     * the retry limit bounds it. */
    return NATTEL__POLICY_RETRY;
}

static int month_index(const char *m)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (!strncmp(names + 3 * i, m, 3))
            return i;
    return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t nattel__retry_after_parse(const char *v, int64_t now_ms)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        char *end;
        unsigned long long s = strtoull(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end)
            return -1;
        if (s > 365ull * 86400)
            s = 365ull * 86400;
        return (int64_t)s * 1000;
    }
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT". */
    char wd[4], mon[4];
    int d, y, hh, mm, ss;
    if (sscanf(v, "%3s, %d %3s %d %d:%d:%d GMT", wd, &d, mon, &y, &hh, &mm,
               &ss) != 7)
        return -1;
    int m = month_index(mon);
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    int64_t at =
        (days_from_civil(y, m + 1, d) * 86400 + hh * 3600 + mm * 60 + ss) *
        1000;
    return at > now_ms ? at - now_ms : 0;
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
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->retry_after_ms = nattel__retry_after_parse(
            v, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
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

nattel__sender *nattel__sender_new(const char *url, int64_t connect_ms,
                                   int64_t total_ms,
                                   int (*should_stop)(void *ctx), void *ctx,
                                   nattel_error *err)
{
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        nattel__fail(err, NATTEL_EIO, "libcurl: global init: %s",
                     curl_easy_strerror(global_rc));
        return NULL;
    }
    nattel__sender *s = calloc(1, sizeof *s);
    struct curl_slist *h = NULL;
    if (s && (h = curl_slist_append(NULL, "Content-Type: application/json")))
        s->headers = h;
    /* No "Expect: 100-continue" round trip: envelopes are small. */
    if (h && (h = curl_slist_append(s->headers, "Expect:")))
        s->headers = h;
    if (!s || !h || !(s->curl = curl_easy_init())) {
        nattel__sender_free(s);
        nattel__fail(err, NATTEL_ENOMEM, "sender: out of memory");
        return NULL;
    }
    s->should_stop = should_stop;
    s->stop_ctx = ctx;
    snprintf(s->user_agent, sizeof s->user_agent, "nattel/%s", NATTEL_VERSION);
    CURL *c = s->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)total_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    return s;
}

void nattel__sender_post(nattel__sender *s, const char *payload, size_t len,
                         nattel__send_result *out)
{
    memset(out, 0, sizeof *out);
    out->retry_after_ms = -1;
    s->retry_after_ms = -1;
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(s->curl);
    if (rc != CURLE_OK) {
        snprintf(out->reason, sizeof out->reason, "network: %s",
                 curl_easy_strerror(rc));
        return;
    }
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    out->http_status = (int)status;
    out->retry_after_ms = s->retry_after_ms;
    snprintf(out->reason, sizeof out->reason, "HTTP %ld", status);
}

void nattel__sender_free(nattel__sender *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->headers);
    free(s);
}
