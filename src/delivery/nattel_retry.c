/*
 * The status policy (nattel_retry.h): status classes, back-off, the
 * Retry-After header and the retry limit, as arithmetic only.
 */
#include "delivery/nattel_retry.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int64_t nattel__backoff_ms(int64_t failures, double jitter,
                           int64_t retry_after_ms)
{
    int64_t d = NATTEL__BACKOFF_BASE_MS;
    for (int64_t i = 1; i < failures && d < NATTEL__BACKOFF_CAP_MS; i++)
        d *= 2;
    if (d > NATTEL__BACKOFF_CAP_MS)
        d = NATTEL__BACKOFF_CAP_MS;
    if (jitter < 0 || jitter >= 1)
        jitter = 0;
    /* Equal jitter: never sooner than half the delay, so many clients
     * that failed together spread out without hammering early. */
    d = d / 2 + (int64_t)(jitter * (double)(d / 2));
    if (retry_after_ms > NATTEL__RETRY_AFTER_CAP_MS)
        retry_after_ms = NATTEL__RETRY_AFTER_CAP_MS;
    return retry_after_ms > d ? retry_after_ms : d;
}

int nattel__retry_give_up(unsigned attempts, int64_t age_ms)
{
    return attempts >= NATTEL__RETRY_MAX_ATTEMPTS &&
           age_ms >= NATTEL__RETRY_MAX_AGE_MS;
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

/* delta-seconds, with nothing after it but white space. */
static int64_t delta_seconds(const char *v)
{
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
static int64_t http_date(const char *v, int64_t now_ms)
{
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

int64_t nattel__retry_after_parse(const char *v, int64_t now_ms)
{
    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v))
        return delta_seconds(v);
    return http_date(v, now_ms);
}
