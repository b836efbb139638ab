/* natx_grow, the one growable-array helper: growth keeps the items,
 * capacity only grows, and sizes that would overflow are refused with the
 * array and its capacity as they were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "natx/natx_mem.h"

#include <stdlib.h>
#include <string.h>

typedef struct item {
    uint64_t a, b;
} item;

static void test_grows_and_keeps_items(void **state)
{
    (void)state;
    item *v = NULL;
    size_t cap = 0;
    for (size_t n = 0; n < 1000; n++) {
        assert_int_equal(NATX_GROW(v, cap, n + 1), NATTEL_OK);
        assert_true(cap >= n + 1);
        v[n].a = n;
        v[n].b = ~n;
    }
    for (size_t n = 0; n < 1000; n++) {
        assert_int_equal(v[n].a, n);
        assert_int_equal(v[n].b, ~n);
    }
    /* Room already there: nothing moves. */
    item *before = v;
    size_t cap_before = cap;
    assert_int_equal(NATX_GROW(v, cap, 10), NATTEL_OK);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);
    free(v);
}

static void test_first_growth_has_room_for_several(void **state)
{
    (void)state;
    char **v = NULL;
    size_t cap = 0;
    assert_int_equal(NATX_GROW(v, cap, 1), NATTEL_OK);
    assert_true(cap >= 8);
    /* A large first need is met at once. */
    size_t cap2 = 0;
    int *w = NULL;
    assert_int_equal(NATX_GROW(w, cap2, 1000), NATTEL_OK);
    assert_true(cap2 >= 1000);
    w[999] = 7;
    free(v);
    free(w);
}

static void test_overflow_is_refused_unchanged(void **state)
{
    (void)state;
    item *v = NULL;
    size_t cap = 0;
    assert_int_equal(NATX_GROW(v, cap, 4), NATTEL_OK);
    v[3].a = 42;
    item *before = v;
    size_t cap_before = cap;
    /* need * size overflows size_t, or passes the largest object size. */
    assert_int_equal(NATX_GROW(v, cap, SIZE_MAX / sizeof *v + 1),
                     NATTEL_ENOMEM);
    assert_int_equal(NATX_GROW(v, cap, SIZE_MAX), NATTEL_ENOMEM);
    assert_int_equal(NATX_GROW(v, cap, (size_t)PTRDIFF_MAX / sizeof *v + 1),
                     NATTEL_ENOMEM);
    assert_ptr_equal(v, before);
    assert_int_equal(cap, cap_before);
    assert_int_equal(v[3].a, 42);
    /* A zero element size is a caller's mistake, not a division by 0. */
    assert_int_equal(natx_grow(&v, &cap, cap + 1, 0), NATTEL_ENOMEM);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grows_and_keeps_items),
        cmocka_unit_test(test_first_growth_has_room_for_several),
        cmocka_unit_test(test_overflow_is_refused_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
