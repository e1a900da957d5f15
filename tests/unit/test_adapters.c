/* SPDX-License-Identifier: MIT */
/*
 * test_adapters.c - unit tests of the USB-RS485 adapter table (drivers/adapters.h): every
 * listed VID:PID is found with its chip name and label, unknown ids and near misses are not,
 * the table has no duplicate rows, and a short buffer is reported rather than overrun.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "acs_error.h"
#include "adapters.h"

static void test_known_adapters(void **state)
{
    (void)state;
    static const struct {
        uint16_t vid, pid;
        const char *label;
    } cases[] = {
        {0x0403, 0x6001, "RS-485 adapter (FTDI FT232R)"},
        {0x0403, 0x6015, "RS-485 adapter (FTDI FT-X)"},
        {0x1a86, 0x7523, "RS-485 adapter (WCH CH340)"},
        {0x1a86, 0x5523, "RS-485 adapter (WCH CH341)"},
        {0x10c4, 0xea60, "RS-485 adapter (Silicon Labs CP2102)"},
        {0x067b, 0x2303, "RS-485 adapter (Prolific PL2303)"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const adapter_info_t *a = adapter_lookup(cases[i].vid, cases[i].pid);
        assert_non_null(a);
        assert_int_equal(a->vid, cases[i].vid);
        assert_int_equal(a->pid, cases[i].pid);
        assert_int_equal(adapter_label(cases[i].vid, cases[i].pid, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].label);
    }
    size_t n;
    adapter_table(&n);
    assert_int_equal(n, sizeof(cases) / sizeof(cases[0]));
}

static void test_unknown_adapters(void **state)
{
    (void)state;
    char buf[64] = "x";
    assert_null(adapter_lookup(0, 0));
    assert_null(adapter_lookup(0x0403, 0x6010)); /* FT2232: not in the table */
    assert_null(adapter_lookup(0x6001, 0x0403)); /* VID and PID swapped */
    assert_null(adapter_lookup(0x1d6b, 0x0002)); /* a Linux root hub */
    assert_int_equal(adapter_label(0x1d6b, 0x0002, buf, sizeof(buf)), ACS_ENOTFOUND);
    assert_string_equal(buf, "");
}

static void test_table_has_no_duplicates(void **state)
{
    (void)state;
    size_t n;
    const adapter_info_t *t = adapter_table(&n);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].chip);
        assert_non_null(t[i].vendor);
        for (size_t j = i + 1; j < n; j++)
            assert_false(t[i].vid == t[j].vid && t[i].pid == t[j].pid);
        /* lookup returns the row itself */
        assert_ptr_equal(adapter_lookup(t[i].vid, t[i].pid), &t[i]);
    }
}

static void test_short_buffer(void **state)
{
    (void)state;
    char buf[10];
    memset(buf, 'z', sizeof(buf));
    assert_int_equal(adapter_label(0x0403, 0x6001, buf, sizeof(buf)), ACS_ETOOBIG);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_string_equal(buf, "RS-485 ad");
    assert_int_equal(adapter_label(0x0403, 0x6001, buf, 0), ACS_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_adapters),
        cmocka_unit_test(test_unknown_adapters),
        cmocka_unit_test(test_table_has_no_duplicates),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
