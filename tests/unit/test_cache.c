/* SPDX-License-Identifier: MIT */
/*
 * test_cache.c - unit tests of the list response cache (core/cache.h): hits, the generation
 * rule that keeps a result computed before a change from being served after it, the TTL,
 * disabling, replacement under one key, and the bound on entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "cache.h"

#define KEY(s) (s), strlen(s)

static cache_t *new_enabled(size_t max, uint64_t ttl)
{
    cache_t *c = NULL;
    assert_int_equal(cache_new(max, ttl, &c), 0);
    assert_non_null(c);
    assert_false(cache_enabled(c));
    cache_set_enabled(c, 1);
    return c;
}

static void test_new_refuses_zero(void **state)
{
    (void)state;
    cache_t *c = (cache_t *)1;
    assert_int_equal(cache_new(0, 1000, &c), ACS_EINVAL);
    assert_null(c);
    cache_free(NULL);
}

static void test_hit_and_miss(void **state)
{
    (void)state;
    cache_t *c = new_enabled(16, 1000);
    size_t len = 99;
    assert_null(cache_get(c, KEY("tickets|*|"), 0, &len));
    assert_int_equal(cache_put(c, KEY("tickets|*|"), cache_generation(c), 0, "[1]", 3), 1);
    const char *v = cache_get(c, KEY("tickets|*|"), 10, &len);
    assert_non_null(v);
    assert_int_equal(len, 3);
    assert_memory_equal(v, "[1]", 3);
    /* A different key (another engineer's scope) misses. */
    assert_null(cache_get(c, KEY("tickets|e1|"), 10, &len));
    cache_free(c);
}

static void test_generation_rule(void **state)
{
    (void)state;
    cache_t *c = new_enabled(16, 1000);
    size_t len;
    /* A query starts, a change lands, the query's (older) result must not be stored. */
    uint64_t started = cache_generation(c);
    cache_invalidate(c);
    assert_int_equal(cache_put(c, KEY("k"), started, 0, "old", 3), 0);
    assert_null(cache_get(c, KEY("k"), 0, &len));
    /* A stored entry goes stale on the next change. */
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 0, "new", 3), 1);
    assert_non_null(cache_get(c, KEY("k"), 0, &len));
    cache_invalidate(c);
    assert_null(cache_get(c, KEY("k"), 0, &len));
    assert_int_equal(cache_count(c), 0); /* dropped when met */
    cache_free(c);
}

static void test_ttl(void **state)
{
    (void)state;
    cache_t *c = new_enabled(16, 500);
    size_t len;
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 1000, "v", 1), 1);
    assert_non_null(cache_get(c, KEY("k"), 1499, &len));
    assert_null(cache_get(c, KEY("k"), 1500, &len));
    /* A clock that went backwards does not make an entry immortal. */
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 1000, "v", 1), 1);
    assert_null(cache_get(c, KEY("k"), 999, &len));
    cache_free(c);
}

static void test_disabled(void **state)
{
    (void)state;
    cache_t *c = new_enabled(16, 1000);
    size_t len;
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 0, "v", 1), 1);
    cache_set_enabled(c, 0);
    assert_int_equal(cache_count(c), 0);
    assert_null(cache_get(c, KEY("k"), 0, &len));
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 0, "v", 1), 0);
    /* Enabling again starts a new generation: nothing from before comes back. */
    uint64_t before = cache_generation(c);
    cache_set_enabled(c, 1);
    assert_true(cache_generation(c) > before);
    assert_int_equal(cache_put(c, KEY("k"), before, 0, "v", 1), 0);
    cache_free(c);
}

static void test_replace_same_key(void **state)
{
    (void)state;
    cache_t *c = new_enabled(16, 1000);
    size_t len;
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 0, "one", 3), 1);
    assert_int_equal(cache_put(c, KEY("k"), cache_generation(c), 0, "three", 5), 1);
    assert_int_equal(cache_count(c), 1);
    const char *v = cache_get(c, KEY("k"), 0, &len);
    assert_int_equal(len, 5);
    assert_string_equal(v, "three"); /* stored NUL-terminated */
    cache_free(c);
}

static void test_bounded(void **state)
{
    (void)state;
    cache_t *c = new_enabled(8, 1000);
    char key[32];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "key-%d", i);
        assert_int_equal(cache_put(c, KEY(key), cache_generation(c), 0, "v", 1), 1);
        assert_true(cache_count(c) <= 8);
    }
    size_t len;
    assert_non_null(cache_get(c, KEY("key-99"), 0, &len)); /* the newest is always there */
    cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refuses_zero), cmocka_unit_test(test_hit_and_miss),
        cmocka_unit_test(test_generation_rule),  cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_disabled),         cmocka_unit_test(test_replace_same_key),
        cmocka_unit_test(test_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
