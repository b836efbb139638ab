/* The status policy (src/delivery/nattel_retry.h), pure: the status
 * classes, the back-off schedule, Retry-After (delta-seconds and the HTTP
 * date) and the retry limit. No listener, no files, no libcurl. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "delivery/nattel_retry.h"

#include <stdio.h>

/* ------------------------------------------------------------------ */
/* As they were in test_delivery.c                                     */
/* ------------------------------------------------------------------ */

static void test_policy(void **state)
{
    (void)state;
    static const struct {
        int status;
        nattel__policy want;
    } cases[] = {
        {200, NATTEL__POLICY_DONE},   {204, NATTEL__POLICY_DONE},
        {299, NATTEL__POLICY_DONE},   {400, NATTEL__POLICY_REJECT},
        {422, NATTEL__POLICY_REJECT}, {413, NATTEL__POLICY_SPLIT},
        {408, NATTEL__POLICY_RETRY},  {429, NATTEL__POLICY_RETRY},
        {500, NATTEL__POLICY_RETRY},  {503, NATTEL__POLICY_RETRY},
        {301, NATTEL__POLICY_RETRY},  {404, NATTEL__POLICY_RETRY},
        {0, NATTEL__POLICY_RETRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal(nattel__policy_for(cases[i].status), cases[i].want);
}

static void test_backoff(void **state)
{
    (void)state;
    /* Equal jitter: half the exponential delay, plus up to the other half. */
    assert_int_equal(nattel__backoff_ms(1, 0.0, -1), 5000);
    assert_int_equal(nattel__backoff_ms(1, 0.5, -1), 7500);
    assert_int_equal(nattel__backoff_ms(2, 0.0, -1), 10000);
    assert_int_equal(nattel__backoff_ms(3, 0.0, -1), 20000);
    int64_t prev = 0;
    for (int f = 1; f < 40; f++) {
        int64_t d = nattel__backoff_ms(f, 0.999, -1);
        assert_true(d >= prev);
        assert_true(d <= NATTEL__BACKOFF_CAP_MS);
        prev = d;
    }
    assert_int_equal(nattel__backoff_ms(1000, 0.0, -1),
                     NATTEL__BACKOFF_CAP_MS / 2);
    /* Retry-After wins when longer, within its cap. */
    assert_int_equal(nattel__backoff_ms(1, 0.0, 120000), 120000);
    assert_int_equal(nattel__backoff_ms(1, 0.0, 1000), 5000);
    assert_int_equal(nattel__backoff_ms(1, 0.0, INT64_MAX / 4),
                     NATTEL__RETRY_AFTER_CAP_MS);
    /* A broken jitter source never yields a negative delay. */
    assert_int_equal(nattel__backoff_ms(1, -3.0, -1), 5000);
}

static void test_retry_after(void **state)
{
    (void)state;
    assert_int_equal(nattel__retry_after_parse("120", 0), 120000);
    assert_int_equal(nattel__retry_after_parse(" 0\r\n", 0), 0);
    /* 2015-10-21T07:28:00Z = 1445412480 s. */
    int64_t now = 1445412480000LL - 30000;
    assert_int_equal(
        nattel__retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", now), 30000);
    assert_int_equal(
        nattel__retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT", now + 60000),
        0);
    assert_int_equal(nattel__retry_after_parse("soon", 0), -1);
    assert_int_equal(nattel__retry_after_parse("12abc", 0), -1);
    assert_int_equal(nattel__retry_after_parse("", 0), -1);
}

/* ------------------------------------------------------------------ */
/* The documented schedule and every status class                      */
/* ------------------------------------------------------------------ */

static void test_status_classes(void **state)
{
    (void)state;
    static const struct {
        int status;
        nattel__policy want;
    } cases[] = {
        /* no answer, and statuses outside HTTP's range: retried */
        {0, NATTEL__POLICY_RETRY},
        {-1, NATTEL__POLICY_RETRY},
        {600, NATTEL__POLICY_RETRY},
        /* 1xx never ends a request: unexpected, retried */
        {100, NATTEL__POLICY_RETRY},
        {199, NATTEL__POLICY_RETRY},
        /* every 2xx delivers */
        {200, NATTEL__POLICY_DONE},
        {201, NATTEL__POLICY_DONE},
        {202, NATTEL__POLICY_DONE},
        /* 3xx: redirects are not followed, so nothing was delivered */
        {300, NATTEL__POLICY_RETRY},
        {302, NATTEL__POLICY_RETRY},
        {399, NATTEL__POLICY_RETRY},
        /* 4xx: the payload's fault is rejected, too large is split, the
         * rest (auth, routing, throttling) is the endpoint's and retried */
        {400, NATTEL__POLICY_REJECT},
        {401, NATTEL__POLICY_RETRY},
        {403, NATTEL__POLICY_RETRY},
        {405, NATTEL__POLICY_RETRY},
        {413, NATTEL__POLICY_SPLIT},
        {415, NATTEL__POLICY_RETRY},
        {422, NATTEL__POLICY_REJECT},
        {429, NATTEL__POLICY_RETRY},
        {499, NATTEL__POLICY_RETRY},
        /* 5xx: retried */
        {500, NATTEL__POLICY_RETRY},
        {502, NATTEL__POLICY_RETRY},
        {504, NATTEL__POLICY_RETRY},
        {599, NATTEL__POLICY_RETRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal(nattel__policy_for(cases[i].status), cases[i].want);
}

static void test_schedule(void **state)
{
    (void)state;
    /* The header's schedule before jitter: 10 s doubling, capped at 1 h
     * from the 10th failure on. */
    static const int64_t delay_s[] = {10,  20,   40,   80,   160,  320,
                                      640, 1280, 2560, 3600, 3600, 3600};
    for (int i = 0; i < (int)(sizeof delay_s / sizeof *delay_s); i++) {
        int64_t d = delay_s[i] * 1000;
        /* Equal jitter: half the delay at least, ... */
        assert_int_equal(nattel__backoff_ms(i + 1, 0.0, -1), d / 2);
        /* ... half of the other half for a jitter of one half, ... */
        assert_int_equal(nattel__backoff_ms(i + 1, 0.5, -1), d / 2 + d / 4);
        /* ... and never the whole delay. */
        assert_true(nattel__backoff_ms(i + 1, 0.999999, -1) < d);
    }
    assert_int_equal(NATTEL__BACKOFF_BASE_MS, 10000);
    assert_int_equal(NATTEL__BACKOFF_CAP_MS, 3600000);
    /* A jitter of 1 or more is outside [0, 1): counted as 0. */
    assert_int_equal(nattel__backoff_ms(1, 1.0, -1), 5000);
    /* Failures far past the cap do not overflow. */
    assert_int_equal(nattel__backoff_ms(INT64_MAX, 0.0, -1), 1800000);
}

static void test_retry_after_wins(void **state)
{
    (void)state;
    /* A longer Retry-After replaces the jittered delay, up to 6 h. */
    assert_int_equal(NATTEL__RETRY_AFTER_CAP_MS, 6 * 3600 * 1000);
    assert_int_equal(nattel__backoff_ms(10, 0.0, 3 * 3600 * 1000),
                     3 * 3600 * 1000);
    assert_int_equal(nattel__backoff_ms(10, 0.0, 6 * 3600 * 1000),
                     6 * 3600 * 1000);
    assert_int_equal(nattel__backoff_ms(10, 0.0, 6 * 3600 * 1000 + 1),
                     6 * 3600 * 1000);
    /* A shorter one never shortens the back-off. */
    assert_int_equal(nattel__backoff_ms(10, 0.0, 60000), 1800000);
    assert_int_equal(nattel__backoff_ms(2, 0.0, 0), 10000);
}

static void test_retry_after_delta_seconds(void **state)
{
    (void)state;
    assert_int_equal(nattel__retry_after_parse("1", 0), 1000);
    assert_int_equal(nattel__retry_after_parse("\t30", 0), 30000);
    assert_int_equal(nattel__retry_after_parse("3600 ", 0), 3600000);
    /* Relative: the clock does not matter. */
    assert_int_equal(nattel__retry_after_parse("5", 1445412480000LL), 5000);
    /* Absurd values are capped at a year (backoff_ms caps again). */
    assert_int_equal(nattel__retry_after_parse("99999999999", 0),
                     365LL * 86400 * 1000);
}

static void test_retry_after_http_date(void **state)
{
    (void)state;
    /* RFC 9110's example: 1994-11-06T08:49:37Z = 784111777 s. */
    assert_int_equal(
        nattel__retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", 0),
        784111777000LL);
    assert_int_equal(nattel__retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT",
                                               784111777000LL - 1500),
                     1500);
    /* A leap day: 2024-02-29T00:00:00Z = 1709164800 s. */
    assert_int_equal(
        nattel__retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT", 0),
        1709164800000LL);
    /* Every month's name. */
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    int64_t prev = -1;
    for (int i = 0; i < 12; i++) {
        char v[64];
        snprintf(v, sizeof v, "Mon, 01 %s 2001 00:00:00 GMT", months[i]);
        int64_t at = nattel__retry_after_parse(v, 0);
        assert_true(at > prev);
        prev = at;
    }
    /* A date in the past means now. */
    assert_int_equal(
        nattel__retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", INT64_MAX),
        0);
}

static void test_retry_after_garbage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "-5",
        "+5",
        "1.5",
        "5 s",
        "later",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(nattel__retry_after_parse(bad[i], 0), -1);
}

static void test_give_up(void **state)
{
    (void)state;
    const int64_t day = 24LL * 3600 * 1000;
    assert_int_equal(NATTEL__RETRY_MAX_ATTEMPTS, 10);
    assert_int_equal(NATTEL__RETRY_MAX_AGE_MS, day);
    /* Both limits, never one alone. */
    assert_false(nattel__retry_give_up(9, 30 * day));
    assert_false(nattel__retry_give_up(1000, day - 1));
    assert_false(nattel__retry_give_up(1000, 0));
    assert_true(nattel__retry_give_up(10, day));
    assert_true(nattel__retry_give_up(11, 2 * day));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_status_classes),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_retry_after_wins),
        cmocka_unit_test(test_retry_after_delta_seconds),
        cmocka_unit_test(test_retry_after_http_date),
        cmocka_unit_test(test_retry_after_garbage),
        cmocka_unit_test(test_give_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
