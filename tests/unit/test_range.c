/* SPDX-License-Identifier: MIT */
/*
 * test_range.c - unit tests of the read planner (drivers/range.h): touching and near blocks
 * merge, far ones do not, tables stay apart, the 125-register / 2000-bit limits split blocks
 * without ever splitting a 32-bit register, duplicates and unsorted input, the refusals, and
 * the plans for the shipped TC-200 and RC-50.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "profile.h"
#include "range.h"

/* Synthetic registers: a pool and pointers to them. */
static profile_reg_t pool[4000];
static const profile_reg_t *ptrs[4000];
static size_t npool;

static void reset(void)
{
    memset(pool, 0, sizeof(pool));
    npool = 0;
}

static void add(profile_table_t t, unsigned address, unsigned words)
{
    profile_reg_t *r = &pool[npool];
    r->table = t;
    r->address = (uint16_t)address;
    r->words = (uint16_t)words;
    ptrs[npool] = r;
    npool++;
}

static size_t plan(const range_opts_t *o, range_t *out, size_t cap)
{
    size_t n = 999;
    assert_int_equal(range_plan(ptrs, npool, o, out, cap, &n), 0);
    return n;
}

static void is(const range_t *r, profile_table_t t, unsigned address, unsigned count)
{
    assert_int_equal(r->table, t);
    assert_int_equal(r->address, address);
    assert_int_equal(r->count, count);
}

static void test_merge_and_gaps(void **state)
{
    (void)state;
    range_t out[16];
    reset();
    add(PROFILE_INPUT_REGISTER, 16, 1);
    add(PROFILE_INPUT_REGISTER, 0, 1);
    add(PROFILE_INPUT_REGISTER, 1, 2); /* touches 0 */
    add(PROFILE_INPUT_REGISTER, 5, 8); /* gap of 2 (3-4) */
    add(PROFILE_INPUT_REGISTER, 1, 2); /* duplicate */
    assert_int_equal(plan(NULL, out, 16), 3);
    is(&out[0], PROFILE_INPUT_REGISTER, 0, 3);
    is(&out[1], PROFILE_INPUT_REGISTER, 5, 8);
    is(&out[2], PROFILE_INPUT_REGISTER, 16, 1);

    range_opts_t o = {0, 0, 2};
    assert_int_equal(plan(&o, out, 16), 2);
    is(&out[0], PROFILE_INPUT_REGISTER, 0, 13);
    is(&out[1], PROFILE_INPUT_REGISTER, 16, 1); /* gap of 3 */
    o.max_gap = 3;
    assert_int_equal(plan(&o, out, 16), 1);
    is(&out[0], PROFILE_INPUT_REGISTER, 0, 17);
}

static void test_tables_apart(void **state)
{
    (void)state;
    range_t out[8];
    reset();
    add(PROFILE_HOLDING_REGISTER, 0, 1);
    add(PROFILE_COIL, 0, 1);
    add(PROFILE_INPUT_REGISTER, 1, 1);
    add(PROFILE_DISCRETE_INPUT, 2, 1);
    add(PROFILE_COIL, 1, 1);
    range_opts_t o = {0, 0, 100};
    assert_int_equal(plan(&o, out, 8), 4);
    is(&out[0], PROFILE_COIL, 0, 2);
    is(&out[1], PROFILE_DISCRETE_INPUT, 2, 1);
    is(&out[2], PROFILE_INPUT_REGISTER, 1, 1);
    is(&out[3], PROFILE_HOLDING_REGISTER, 0, 1);
}

static void test_register_limit(void **state)
{
    (void)state;
    range_t out[8];
    /* 130 contiguous u16: 125 + 5. */
    reset();
    for (unsigned a = 0; a < 130; a++)
        add(PROFILE_HOLDING_REGISTER, a, 1);
    assert_int_equal(plan(NULL, out, 8), 2);
    is(&out[0], PROFILE_HOLDING_REGISTER, 0, 125);
    is(&out[1], PROFILE_HOLDING_REGISTER, 125, 5);

    /* 124 u16 then a u32 at 124-125: the u32 is not split, so the first read stops at 123. */
    reset();
    for (unsigned a = 0; a < 124; a++)
        add(PROFILE_INPUT_REGISTER, a, 1);
    add(PROFILE_INPUT_REGISTER, 124, 2);
    assert_int_equal(plan(NULL, out, 8), 2);
    is(&out[0], PROFILE_INPUT_REGISTER, 0, 124);
    is(&out[1], PROFILE_INPUT_REGISTER, 124, 2);

    /* Exactly 125 fit in one. */
    reset();
    for (unsigned a = 0; a < 123; a++)
        add(PROFILE_INPUT_REGISTER, a, 1);
    add(PROFILE_INPUT_REGISTER, 123, 2);
    assert_int_equal(plan(NULL, out, 8), 1);
    is(&out[0], PROFILE_INPUT_REGISTER, 0, 125);

    /* A smaller limit, and the last possible address. */
    reset();
    add(PROFILE_HOLDING_REGISTER, 0, 8);
    add(PROFILE_HOLDING_REGISTER, 8, 8);
    add(PROFILE_HOLDING_REGISTER, 65534, 2);
    range_opts_t o = {10, 0, 0};
    assert_int_equal(plan(&o, out, 8), 3);
    is(&out[0], PROFILE_HOLDING_REGISTER, 0, 8);
    is(&out[1], PROFILE_HOLDING_REGISTER, 8, 8);
    is(&out[2], PROFILE_HOLDING_REGISTER, 65534, 2);
}

static void test_bit_limit(void **state)
{
    (void)state;
    range_t out[8];
    reset();
    for (unsigned a = 0; a < 2500; a++)
        add(PROFILE_COIL, a, 1);
    assert_int_equal(plan(NULL, out, 8), 2);
    is(&out[0], PROFILE_COIL, 0, 2000);
    is(&out[1], PROFILE_COIL, 2000, 500);
    /* Registers keep their own limit in the same plan. */
    add(PROFILE_INPUT_REGISTER, 0, 1);
    add(PROFILE_INPUT_REGISTER, 200, 1);
    range_opts_t o = {0, 0, 500};
    assert_int_equal(plan(&o, out, 8), 4);
    is(&out[2], PROFILE_INPUT_REGISTER, 0, 1);
    is(&out[3], PROFILE_INPUT_REGISTER, 200, 1);
}

static void test_refusals(void **state)
{
    (void)state;
    range_t out[2];
    size_t n = 99;
    reset();
    for (unsigned a = 0; a < 6; a += 2)
        add(PROFILE_INPUT_REGISTER, a, 1);
    assert_int_equal(range_plan(ptrs, npool, NULL, out, 2, &n), ACS_ETOOBIG);
    assert_int_equal(n, 3);
    is(&out[1], PROFILE_INPUT_REGISTER, 2, 1);
    assert_int_equal(range_plan(ptrs, npool, NULL, NULL, 0, &n), ACS_ETOOBIG);
    assert_int_equal(n, 3);
    assert_int_equal(range_plan(ptrs, npool, NULL, out, 2, NULL), ACS_EINVAL);
    assert_int_equal(range_plan(NULL, 1, NULL, out, 2, &n), ACS_EINVAL);
    assert_int_equal(range_plan(ptrs, 0, NULL, out, 2, &n), 0);
    assert_int_equal(n, 0);

    range_opts_t o = {126, 0, 0};
    assert_int_equal(range_plan(ptrs, npool, &o, out, 2, &n), ACS_EINVAL);
    o = (range_opts_t){0, 2001, 0};
    assert_int_equal(range_plan(ptrs, npool, &o, out, 2, &n), ACS_EINVAL);
    /* A u32 cannot be read with a one-register limit. */
    reset();
    add(PROFILE_HOLDING_REGISTER, 0, 2);
    o = (range_opts_t){1, 0, 0};
    assert_int_equal(range_plan(ptrs, npool, &o, out, 2, &n), ACS_EINVAL);
    assert_int_equal(range_plan_profile(NULL, NULL, out, 2, &n), ACS_EINVAL);
}

static void test_shipped(void **state)
{
    (void)state;
    char err[512];
    profile_set_t *set = NULL;
    if (profile_set_load_dir(ACS_PROFILE_DIR, &set, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    const profile_t *tc = profile_set_by_product_code(set, "TC-200");
    range_t out[16];
    size_t n = 0;
    /* Contiguous only: the identification block (0-12) and the status block (16-30) of the
     * input registers are two reads. */
    assert_int_equal(range_plan_profile(tc, NULL, out, 16, &n), 0);
    assert_int_equal(n, 5);
    is(&out[0], PROFILE_COIL, 0, 4);
    is(&out[1], PROFILE_DISCRETE_INPUT, 0, 7);
    is(&out[2], PROFILE_INPUT_REGISTER, 0, 13);
    is(&out[3], PROFILE_INPUT_REGISTER, 16, 15);
    is(&out[4], PROFILE_HOLDING_REGISTER, 0, 7);
    /* Reading across the 3-register hole: one read per table. */
    range_opts_t o = {0, 0, 3};
    assert_int_equal(range_plan_profile(tc, &o, out, 16, &n), 0);
    assert_int_equal(n, 4);
    is(&out[2], PROFILE_INPUT_REGISTER, 0, 31);

    const profile_t *rc = profile_set_by_product_code(set, "RC-50");
    assert_int_equal(range_plan_profile(rc, &o, out, 16, &n), 0);
    assert_int_equal(n, 4);
    is(&out[0], PROFILE_COIL, 0, 3);
    is(&out[1], PROFILE_DISCRETE_INPUT, 0, 4);
    is(&out[2], PROFILE_INPUT_REGISTER, 0, 32);
    is(&out[3], PROFILE_HOLDING_REGISTER, 0, 7);
    profile_set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_and_gaps), cmocka_unit_test(test_tables_apart),
        cmocka_unit_test(test_register_limit), cmocka_unit_test(test_bit_limit),
        cmocka_unit_test(test_refusals),       cmocka_unit_test(test_shipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
