/* SPDX-License-Identifier: MIT */
/*
 * test_health.c - unit tests of the health evaluation (drivers/health.h) over the shipped
 * TC-200 and RC-50 profiles: each rule kind firing and not firing exactly at its threshold
 * (thresholds are strict: 11.5 V is inside 11.5-13.5 V), the device's fault bits and bool
 * faults, rates and decreases between two readings, states, NaN readings, missing values,
 * a full findings array, and the corrupt event log finding.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "decode.h"
#include "health.h"
#include "profile.h"

static profile_set_t *set;
static const profile_t *tc, *rc;

static int setup(void **state)
{
    (void)state;
    char err[512];
    if (profile_set_load_dir(ACS_PROFILE_DIR, &set, err, sizeof(err)) != 0) {
        print_error("%s\n", err);
        return -1;
    }
    tc = profile_set_by_product_code(set, "TC-200");
    rc = profile_set_by_product_code(set, "RC-50");
    return tc != NULL && rc != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    profile_set_free(set);
    return 0;
}

/* A reading under construction: values appended by text, as decode_parse takes them. */
typedef struct {
    decode_value_t v[64];
    size_t n;
} reading_t;

static void put(reading_t *r, const profile_t *p, const char *name, const char *text)
{
    const profile_reg_t *reg = profile_reg(p, name);
    char err[256];
    uint16_t w[PROFILE_STRING_MAX];
    if (reg == NULL)
        fail_msg("no register %s", name);
    if (decode_parse(reg, text, w, PROFILE_STRING_MAX, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    int rc_ = reg->type == PROFILE_T_BOOL
                  ? decode_bit(reg, (uint8_t)w[0], &r->v[r->n], err, sizeof(err))
                  : decode_value(reg, w, PROFILE_STRING_MAX, &r->v[r->n], err, sizeof(err));
    if (rc_ != 0)
        fail_msg("%s", err);
    r->n++;
}

static health_snapshot_t snap(const reading_t *r, double at)
{
    health_snapshot_t s = {r->v, r->n, at};
    return s;
}

/* Evaluate and return the number of findings; out receives them. */
static size_t eval(const profile_t *p, const reading_t *now, const reading_t *before,
                   double seconds, health_finding_t *out, size_t cap)
{
    health_snapshot_t a = snap(now, 1000.0 + seconds), b;
    if (before != NULL)
        b = snap(before, 1000.0);
    size_t n = 99;
    int rc_ = health_evaluate(p, &a, before != NULL ? &b : NULL, out, cap, &n);
    assert_int_equal(rc_, 0);
    return n;
}

static void expect_one(const profile_t *p, const reading_t *now, const char *code,
                       const char *message)
{
    health_finding_t f[32];
    size_t n = eval(p, now, NULL, 0, f, 32);
    if (n != 1)
        fail_msg("%zu findings, expected only %s (first: %s)", n, code, n > 0 ? f[0].code : "-");
    assert_string_equal(f[0].code, code);
    assert_string_equal(f[0].message, message);
}

static void expect_none(const profile_t *p, const reading_t *now)
{
    health_finding_t f[32];
    size_t n = eval(p, now, NULL, 0, f, 32);
    if (n != 0)
        fail_msg("unexpected finding %s: %s", f[0].code, f[0].message);
}

static void test_supply_voltage(void **state)
{
    (void)state;
    static const char *const fine[] = {"11.5", "12", "13.5"};
    for (size_t i = 0; i < 3; i++) {
        reading_t r = {.n = 0};
        put(&r, tc, "supply_voltage", fine[i]);
        expect_none(tc, &r);
    }
    reading_t r = {.n = 0};
    put(&r, tc, "supply_voltage", "11.49");
    expect_one(tc, &r, "TC_SUPPLY_VOLTAGE", "supply_voltage is 11.49 V, below 11.5 V");
    r.n = 0;
    put(&r, tc, "supply_voltage", "13.51");
    expect_one(tc, &r, "TC_SUPPLY_VOLTAGE", "supply_voltage is 13.51 V, above 13.5 V");

    /* Below 10.5 V both rules fire, the critical one second (profile order). */
    r.n = 0;
    put(&r, tc, "supply_voltage", "10.4");
    health_finding_t f[8];
    assert_int_equal(eval(tc, &r, NULL, 0, f, 8), 2);
    assert_string_equal(f[0].code, "TC_SUPPLY_VOLTAGE");
    assert_int_equal(f[0].severity, PROFILE_SEV_WARNING);
    assert_string_equal(f[1].code, "TC_SUPPLY_VOLTAGE_LOW");
    assert_int_equal(f[1].severity, PROFILE_SEV_CRITICAL);
    assert_string_equal(f[1].message, "supply_voltage is 10.4 V, below 10.5 V");
    assert_true(f[1].value == 10.4);
    assert_ptr_equal(f[1].reg, profile_reg(tc, "supply_voltage"));
    assert_ptr_equal(f[1].rule, &tc->rules[1]);
    assert_null(f[1].fault);
    assert_non_null(strstr(f[1].advice, "power supply"));
    assert_string_equal(f[1].title, "Supply voltage below 10.5 V: the lock may not release");
    r.n = 0;
    put(&r, tc, "supply_voltage", "10.5");
    assert_int_equal(eval(tc, &r, NULL, 0, f, 8), 1);
}

static void test_temperature(void **state)
{
    (void)state;
    reading_t r = {.n = 0};
    put(&r, tc, "board_temperature", "70");
    expect_none(tc, &r);
    r.n = 0;
    put(&r, tc, "board_temperature", "70.1");
    expect_one(tc, &r, "TC_BOARD_TEMPERATURE", "board_temperature is 70.1 C, above 70 C");
    r.n = 0;
    put(&r, tc, "board_temperature", "-30");
    expect_none(tc, &r); /* the TC-200 rule has no lower bound */

    r.n = 0;
    put(&r, rc, "temperature", "-25");
    expect_none(rc, &r);
    r.n = 0;
    put(&r, rc, "temperature", "-25.1");
    expect_one(rc, &r, "RC_TEMPERATURE", "temperature is -25.1 C, below -25 C");
}

static void test_float_and_nan(void **state)
{
    (void)state;
    /* RC-50 supply voltage is a float32: 11.5 is exact in binary32, 11.4 is not. */
    reading_t r = {.n = 0};
    put(&r, rc, "supply_voltage", "11.5");
    expect_none(rc, &r);
    r.n = 0;
    put(&r, rc, "supply_voltage", "11.4");
    expect_one(rc, &r, "RC_SUPPLY_VOLTAGE", "supply_voltage is 11.4 V, below 11.5 V");

    /* A NaN from the device fires no rule. */
    r.n = 0;
    const profile_reg_t *reg = profile_reg(rc, "supply_voltage");
    uint16_t w[2];
    assert_int_equal(decode_encode_raw(reg, 0x7FC00000, w, 2, NULL, 0), 0);
    assert_int_equal(decode_value(reg, w, 2, &r.v[0], NULL, 0), 0);
    r.n = 1;
    assert_true(isnan(r.v[0].real));
    expect_none(rc, &r);
}

static void test_faults(void **state)
{
    (void)state;
    reading_t r = {.n = 0};
    put(&r, tc, "fault_bitmap", "motor_stall");
    expect_one(tc, &r, "TC_MOTOR_STALL",
               "fault_bitmap bit 1 (motor_stall) is set; fault_bitmap is motor_stall");

    r.n = 0;
    put(&r, tc, "fault_bitmap", "motor_overcurrent,rtc_invalid");
    health_finding_t f[8];
    assert_int_equal(eval(tc, &r, NULL, 0, f, 8), 2);
    assert_string_equal(f[0].code, "TC_MOTOR_OVERCURRENT");
    assert_int_equal(f[0].severity, PROFILE_SEV_CRITICAL);
    assert_ptr_equal(f[0].fault, profile_fault(tc, "TC_MOTOR_OVERCURRENT"));
    assert_null(f[0].rule);
    assert_true(f[0].value == 257.0);
    assert_string_equal(f[1].code, "TC_RTC_INVALID");
    assert_int_equal(f[1].severity, PROFILE_SEV_INFO);

    r.n = 0;
    put(&r, tc, "fault_bitmap", "0");
    put(&r, tc, "tamper", "off");
    put(&r, tc, "fire_alarm", "off");
    expect_none(tc, &r);
    r.n = 0;
    put(&r, tc, "tamper", "on");
    expect_one(tc, &r, "TC_TAMPER", "tamper is on");
    r.n = 0;
    put(&r, rc, "antenna_fault", "on");
    put(&r, rc, "fault_bitmap", "antenna_open");
    assert_int_equal(eval(rc, &r, NULL, 0, f, 8), 2);
    assert_string_equal(f[0].code, "RC_ANTENNA_OPEN");
    assert_string_equal(f[1].code, "RC_ANTENNA_FAULT");
}

static void test_rate(void **state)
{
    (void)state;
    reading_t a = {.n = 0}, b = {.n = 0};
    health_finding_t f[8];
    put(&a, tc, "entry_passages", "1000");
    put(&b, tc, "entry_passages", "3400"); /* 2400 in one hour: at the limit */
    assert_int_equal(eval(tc, &b, &a, 3600, f, 8), 0);
    b.n = 0;
    put(&b, tc, "entry_passages", "3401");
    assert_int_equal(eval(tc, &b, &a, 3600, f, 8), 1);
    assert_string_equal(f[0].code, "TC_PASSAGE_RATE");
    assert_string_equal(f[0].message, "entry_passages rose by 2401 in 3600 s: 2401 per hour, "
                                      "above 2400 per hour");
    assert_true(f[0].value == 2401.0);
    /* Without an earlier reading, or with time not moving forward, no rate. */
    assert_int_equal(eval(tc, &b, NULL, 0, f, 8), 0);
    assert_int_equal(eval(tc, &b, &a, 0, f, 8), 0);
    /* 100 passages in 60 s is 6000 per hour. */
    b.n = 0;
    put(&b, tc, "entry_passages", "1100");
    assert_int_equal(eval(tc, &b, &a, 60, f, 8), 1);
    assert_true(f[0].value == 6000.0);

    /* RC-50: read errors per hour, max 60. */
    a.n = b.n = 0;
    put(&a, rc, "read_errors", "10");
    put(&b, rc, "read_errors", "40"); /* 30 in 30 min = 60 per hour: at the limit */
    assert_int_equal(eval(rc, &b, &a, 1800, f, 8), 0);
    b.n = 0;
    put(&b, rc, "read_errors", "41");
    assert_int_equal(eval(rc, &b, &a, 1800, f, 8), 1);
    assert_string_equal(f[0].code, "RC_READ_ERROR_RATE");
}

static void test_decrease(void **state)
{
    (void)state;
    reading_t a = {.n = 0}, b = {.n = 0};
    health_finding_t f[8];
    put(&a, tc, "uptime", "86400");
    put(&a, tc, "entry_passages", "500");
    put(&b, tc, "uptime", "86400");
    put(&b, tc, "entry_passages", "500");
    assert_int_equal(eval(tc, &b, &a, 60, f, 8), 0);

    b.n = 0;
    put(&b, tc, "uptime", "12");
    put(&b, tc, "entry_passages", "3");
    /* Uptime and the counter went down: restart and reset; the rate rule stays quiet. */
    assert_int_equal(eval(tc, &b, &a, 60, f, 8), 2);
    assert_string_equal(f[0].code, "TC_UNEXPECTED_RESTART");
    assert_string_equal(f[0].message, "uptime went down from 86400 s to 12 s");
    assert_string_equal(f[1].code, "TC_COUNTER_RESET");
    assert_string_equal(f[1].message, "entry_passages went down from 500 to 3");
}

static void test_equals(void **state)
{
    (void)state;
    reading_t r = {.n = 0};
    put(&r, tc, "mode", "normal");
    expect_none(tc, &r);
    r.n = 0;
    put(&r, tc, "mode", "free_passage");
    expect_one(tc, &r, "TC_MODE_FREE_PASSAGE", "mode is free_passage");
    r.n = 0;
    put(&r, tc, "mode", "locked");
    expect_one(tc, &r, "TC_MODE_LOCKED", "mode is locked");
}

static void test_capacity(void **state)
{
    (void)state;
    assert_int_equal(health_max_findings(tc), 12 + 9 + 1);
    assert_int_equal(health_max_findings(NULL), 0);
    reading_t r = {.n = 0};
    put(&r, tc, "fault_bitmap", "motor_overcurrent,motor_stall,rtc_invalid");
    health_snapshot_t s = snap(&r, 0);
    health_finding_t f[2];
    size_t n = 0;
    assert_int_equal(health_evaluate(tc, &s, NULL, f, 2, &n), ACS_ETOOBIG);
    assert_int_equal(n, 3);
    assert_string_equal(f[1].code, "TC_MOTOR_STALL");
    assert_int_equal(health_evaluate(tc, &s, NULL, NULL, 0, &n), ACS_ETOOBIG);
    assert_int_equal(n, 3);
    assert_int_equal(health_evaluate(NULL, &s, NULL, f, 2, &n), ACS_EINVAL);
    assert_int_equal(health_evaluate(tc, NULL, NULL, f, 2, &n), ACS_EINVAL);
    assert_int_equal(health_evaluate(tc, &s, NULL, NULL, 2, &n), ACS_EINVAL);
    /* Nothing read: nothing found. */
    health_snapshot_t empty = {NULL, 0, 0};
    assert_int_equal(health_evaluate(tc, &empty, NULL, f, 2, &n), 0);
    assert_int_equal(n, 0);
    assert_non_null(health_find_value(&s, profile_reg(tc, "fault_bitmap")));
    assert_null(health_find_value(&s, profile_reg(tc, "uptime")));
}

static void test_event_log(void **state)
{
    (void)state;
    uint16_t good[8] = {0x0001, 0x0002, 0x6955, 0xB900, 2, 0, 1205, 0x53C3};
    uint16_t bad[8] = {0x0001, 0x0003, 0x6955, 0xB900, 2, 0, 1205, 0x53C3};
    decode_event_t ev[3];
    assert_int_equal(decode_event(tc, good, 8, &ev[0], NULL, 0), 0);
    assert_int_equal(decode_event(tc, bad, 8, &ev[1], NULL, 0), 0);
    assert_int_equal(decode_event(tc, good, 8, &ev[2], NULL, 0), 0);
    assert_int_equal(ev[1].status, DECODE_EVENT_CORRUPT);

    health_finding_t f[4];
    size_t n = 0;
    assert_int_equal(health_check_events(tc, ev, 1, f, 4, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(health_check_events(tc, ev, 3, f, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].code, "TC_EVENT_LOG_CORRUPT");
    assert_int_equal(f[0].severity, PROFILE_SEV_WARNING);
    assert_string_equal(f[0].title, "Corrupt event log entry");
    assert_null(f[0].reg);
    assert_true(f[0].value == 1.0);
    char want[HEALTH_MESSAGE_MAX];
    snprintf(want, sizeof(want),
             "1 of 3 event log records failed their checksum (first: read 0x53C3, computed "
             "0x%04X)",
             ev[1].checksum_computed);
    assert_string_equal(f[0].message, want);
    /* Appends after findings already there; ETOOBIG when full. */
    assert_int_equal(health_check_events(tc, ev, 3, f, 1, &n), ACS_ETOOBIG);
    assert_int_equal(n, 2);
    assert_int_equal(health_check_events(NULL, ev, 3, f, 4, &n), ACS_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supply_voltage), cmocka_unit_test(test_temperature),
        cmocka_unit_test(test_float_and_nan),  cmocka_unit_test(test_faults),
        cmocka_unit_test(test_rate),           cmocka_unit_test(test_decrease),
        cmocka_unit_test(test_equals),         cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_event_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
