/* SPDX-License-Identifier: MIT */
/*
 * test_decode.c - unit tests of decoding and encoding (drivers/decode.h) against hand-computed
 * words: every type and word order (tests/unit/fixtures/profiles/good/types.json has one
 * register of each), scales that land exactly on decimal values, negative numbers, strings
 * with padding, bitfields and enumerations, text parsing, the refusals with their sentences,
 * and event log records of the shipped TC-200 and RC-50 with their CRC-16/MODBUS checksum.
 *
 * Reference values: IEEE 754 binary32 12.5 = 0x41480000, -1.5 = 0xBFC00000; CRC-16/MODBUS of
 * "123456789" = 0x4B37 (the standard check value) and of "12345678" = 0x37DD.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "acs_error.h"
#include "decode.h"
#include "profile.h"

static profile_t *types;
static profile_set_t *shipped;

static int setup(void **state)
{
    (void)state;
    char err[512];
    if (profile_load(ACS_FIXTURES_DIR "/good/types.json", &types, err, sizeof(err)) != 0 ||
        profile_set_load_dir(ACS_PROFILE_DIR, &shipped, err, sizeof(err)) != 0) {
        print_error("%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    profile_free(types);
    profile_set_free(shipped);
    return 0;
}

static const profile_reg_t *R(const char *name)
{
    const profile_reg_t *r = profile_reg(types, name);
    if (r == NULL)
        fail_msg("no register %s in types.json", name);
    return r;
}

/* Decode two words and return the value (asserting success). */
static decode_value_t dec(const char *name, uint16_t w0, uint16_t w1)
{
    uint16_t w[2] = {w0, w1};
    decode_value_t v;
    char err[256];
    int rc = decode_value(R(name), w, 2, &v, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s: %s", name, err);
    return v;
}

/* Encode a number and compare the words written. */
static void enc(const char *name, double value, uint16_t w0, uint16_t w1)
{
    uint16_t w[2] = {0xAAAA, 0xAAAA};
    char err[256];
    int rc = decode_encode_number(R(name), value, w, 2, err, sizeof(err));
    if (rc != 0)
        fail_msg("%s <- %g: %s", name, value, err);
    assert_int_equal(w[0], w0);
    if (R(name)->words == 2)
        assert_int_equal(w[1], w1);
    else
        assert_int_equal(w[1], 0xAAAA); /* nothing past the register is touched */
}

static void fmt_is(const decode_value_t *v, const char *want)
{
    char buf[DECODE_FORMAT_MAX];
    size_t n = decode_format(v, buf, sizeof(buf));
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_integers(void **state)
{
    (void)state;
    decode_value_t v = dec("u16v", 0xFFFF, 0);
    assert_int_equal(v.kind, DECODE_INT);
    assert_int_equal(v.i, 65535);
    assert_true(v.real == 65535.0);
    assert_int_equal(v.raw[0], 0xFFFF);

    v = dec("i16v", 0xFFFF, 0);
    assert_int_equal(v.i, -1);
    v = dec("i16v", 0x8000, 0);
    assert_int_equal(v.i, -32768);
    v = dec("i16v", 0x7FFF, 0);
    assert_int_equal(v.i, 32767);

    v = dec("u32h", 0x0001, 0x0002);
    assert_int_equal(v.i, 0x00010002);
    v = dec("u32l", 0x0001, 0x0002);
    assert_int_equal(v.i, 0x00020001);
    v = dec("u32h", 0xFFFF, 0xFFFF);
    assert_int_equal(v.i, 4294967295LL);
    assert_int_equal(v.raw[0], 0xFFFF);
    assert_int_equal(v.raw[1], 0xFFFF);

    v = dec("i32h", 0xFFFF, 0xFFFE);
    assert_int_equal(v.i, -2);
    v = dec("i32l", 0xFFFE, 0xFFFF);
    assert_int_equal(v.i, -2);
    v = dec("i32h", 0x8000, 0x0000);
    assert_int_equal(v.i, -2147483648LL);
    v = dec("i32l", 0x0000, 0x8000);
    assert_int_equal(v.i, -2147483648LL);
    fmt_is(&v, "-2147483648");

    enc("u16v", 65535, 0xFFFF, 0);
    enc("i16v", -1, 0xFFFF, 0);
    enc("i16v", -32768, 0x8000, 0);
    enc("u32h", 65538, 0x0001, 0x0002);
    enc("u32l", 65538, 0x0002, 0x0001);
    enc("i32h", -2, 0xFFFF, 0xFFFE);
    enc("i32l", -2, 0xFFFE, 0xFFFF);
    enc("i32l", 2147483647, 0xFFFF, 0x7FFF);
}

static void test_floats(void **state)
{
    (void)state;
    decode_value_t v = dec("f32h", 0x4148, 0x0000);
    assert_int_equal(v.kind, DECODE_REAL);
    assert_true(v.real == 12.5);
    assert_int_equal(v.i, 0x41480000);
    fmt_is(&v, "12.5 V");
    v = dec("f32l", 0x0000, 0x4148);
    assert_true(v.real == 12.5);
    v = dec("f32h", 0xBFC0, 0x0000);
    assert_true(v.real == -1.5);
    v = dec("f32h", 0x7FC0, 0x0000);
    assert_true(isnan(v.real));
    fmt_is(&v, "nan V");

    enc("f32h", 12.5, 0x4148, 0x0000);
    enc("f32l", 12.5, 0x0000, 0x4148);
    enc("f32l", -1.5, 0x0000, 0xBFC0);
    /* 12.1 is not exact in binary32 (0x4141999A); it shows with float precision. */
    enc("f32h", 12.1, 0x4141, 0x999A);
    v = dec("f32h", 0x4141, 0x999A);
    fmt_is(&v, "12.1 V");

    /* A float32 with scale 2: the stored float is the value / 2. */
    enc("gain", 25.0, 0x4148, 0x0000);
    v = dec("gain", 0x4148, 0x0000);
    assert_true(v.real == 25.0);

    char err[256];
    uint16_t w[2] = {0, 0};
    assert_int_equal(decode_encode_number(R("f32h"), 1e39, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "f32h: 1e+39 is out of range for float32");
    assert_int_equal(decode_encode_number(R("f32h"), NAN, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "f32h: must be a finite number");
    /* A raw bit pattern (the simulator's NaN fault) is written as given. */
    assert_int_equal(decode_encode_raw(R("f32l"), 0x7FC00000, w, 2, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x0000);
    assert_int_equal(w[1], 0x7FC0);
}

static void test_scale(void **state)
{
    (void)state;
    /* 1150 * 0.01 must be exactly 11.5, the double a threshold of 11.5 parses to. */
    decode_value_t v = dec("volts", 1150, 0);
    assert_int_equal(v.kind, DECODE_REAL);
    assert_int_equal(v.i, 1150);
    assert_true(v.real == 11.5);
    v = dec("volts", 1205, 0);
    assert_true(v.real == 12.05);
    fmt_is(&v, "12.05 V");
    v = dec("volts", 1349, 0);
    assert_true(v.real == 13.49);

    v = dec("temp", 0xFF85, 0); /* -123 */
    assert_int_equal(v.i, -123);
    assert_true(v.real == -12.3);
    fmt_is(&v, "-12.3 C");
    v = dec("temp", 700, 0);
    assert_true(v.real == 70.0);
    fmt_is(&v, "70 C");

    v = dec("energy", 0xFFFF, 0xFFFF); /* low_first, i32 -1, scale 0.001 */
    assert_true(v.real == -0.001);

    enc("volts", 11.5, 1150, 0);
    enc("volts", 12.05, 1205, 0);
    enc("volts", 12.054, 1205, 0); /* rounded to the nearest step */
    enc("volts", 12.056, 1206, 0);
    enc("temp", -12.3, 0xFF85, 0);
    enc("energy", -0.001, 0xFFFF, 0xFFFF);
    enc("energy", 70000.5, 0x1F74, 0x042C); /* 70000500 = 0x042C1F74, low word first */

    char err[256];
    uint16_t w[2] = {0x1234, 0x5678};
    assert_int_equal(decode_encode_number(R("volts"), 700, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "volts: 700 is outside 0 to 655.35 (u16, scale 0.01)");
    assert_int_equal(w[0], 0x1234); /* nothing written on error */
    assert_int_equal(decode_encode_number(R("volts"), -0.01, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "volts: -0.01 is outside 0 to 655.35 (u16, scale 0.01)");
    assert_int_equal(decode_encode_number(R("u16v"), 65536, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "u16v: 65536 is outside 0 to 65535 (u16)");
    assert_int_equal(decode_encode_number(R("i16v"), -32769, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "i16v: -32769 is outside -32768 to 32767 (i16)");
    assert_int_equal(decode_encode_raw(R("u32h"), -1, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "u32h: raw value -1 is outside 0 to 4294967295 (u32)");

    /* Limits of a writable register. */
    assert_int_equal(decode_encode_number(R("limited"), 61, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "limited: 61 is above the maximum 60");
    assert_int_equal(decode_encode_number(R("limited"), 0, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "limited: 0 is below the minimum 1");
    enc("limited", 60, 60, 0);
    assert_int_equal(R("limited")->default_raw, 5);
    /* Raw writes skip the limits (the simulator sets what it wants). */
    assert_int_equal(decode_encode_raw(R("limited"), 0, w, 2, err, sizeof(err)), 0);
}

static void test_strings(void **state)
{
    (void)state;
    const profile_reg_t *r = R("label"); /* length 5: 3 registers */
    assert_int_equal(r->words, 3);
    uint16_t w[3];
    char err[256];
    decode_value_t v;

    assert_int_equal(decode_encode_string(r, "AB", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x4142);
    assert_int_equal(w[1], 0x0000);
    assert_int_equal(w[2], 0x0000);
    assert_int_equal(decode_value(r, w, 3, &v, err, sizeof(err)), 0);
    assert_int_equal(v.kind, DECODE_STRING);
    assert_string_equal(v.text, "AB");

    assert_int_equal(decode_encode_string(r, "ABCDE", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x4142);
    assert_int_equal(w[1], 0x4344);
    assert_int_equal(w[2], 0x4500); /* odd length: the last low byte is padding */
    assert_int_equal(decode_value(r, w, 3, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "ABCDE");
    fmt_is(&v, "ABCDE");

    /* Space padding is stripped, a NUL ends the text, other bytes show as '?'. */
    uint16_t sp[3] = {0x4142, 0x2020, 0x2000};
    assert_int_equal(decode_value(r, sp, 3, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "AB");
    uint16_t mid[3] = {0x4100, 0x4343, 0x4343};
    assert_int_equal(decode_value(r, mid, 3, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "A");
    uint16_t odd[3] = {0x41FF, 0x0742, 0x4300};
    assert_int_equal(decode_value(r, odd, 3, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "A??BC");
    uint16_t empty[3] = {0, 0, 0};
    assert_int_equal(decode_value(r, empty, 3, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "");

    assert_int_equal(decode_encode_string(r, "ABCDEF", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "label: \"ABCDE...\" is 6 bytes long; at most 5 fit");
    assert_int_equal(decode_encode_string(r, "A\tB", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "label: byte 1 is not printable ASCII");
    assert_int_equal(decode_encode_string(r, "AB", w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "label: needs 3 registers, got room for 2");
    assert_int_equal(decode_value(r, w, 2, &v, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "label: needs 3 registers, got 2");
    assert_string_equal(r->default_text, "AB");

    /* A 16-character serial number fills its 8 registers without a NUL. */
    const profile_t *tc = profile_set_by_product_code(shipped, "TC-200");
    const profile_reg_t *sn = profile_reg(tc, "serial_number");
    uint16_t s[8];
    assert_int_equal(decode_encode_string(sn, "TC200-2404-00417", s, 8, err, sizeof(err)), 0);
    assert_int_equal(s[0], 0x5443); /* "TC" */
    assert_int_equal(s[7], 0x3137); /* "17" */
    assert_int_equal(decode_value(sn, s, 8, &v, err, sizeof(err)), 0);
    assert_string_equal(v.text, "TC200-2404-00417");
}

static void test_bitfield(void **state)
{
    (void)state;
    const profile_reg_t *r = R("status");
    decode_value_t v = dec("status", 0x8009, 0);
    assert_int_equal(v.kind, DECODE_BITS);
    assert_int_equal(v.i, 0x8009);
    assert_true(decode_bit_is_set(&v, "door_open"));
    assert_true(decode_bit_is_set(&v, "tamper"));
    assert_true(decode_bit_is_set(&v, "fault"));
    assert_false(decode_bit_is_set(&v, "nope"));
    fmt_is(&v, "door_open,tamper,fault");
    v = dec("status", 0x0012, 0); /* bits 1 and 4 have no name */
    assert_false(decode_bit_is_set(&v, "door_open"));
    fmt_is(&v, "bit 1,bit 4");
    v = dec("status", 0, 0);
    fmt_is(&v, "none");

    uint16_t w[1];
    char err[256];
    const char *names[] = {"fault", "door_open"};
    assert_int_equal(decode_encode_bits(r, names, 2, w, 1, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x8001);
    assert_int_equal(decode_encode_bits(r, NULL, 0, w, 1, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0);
    const char *badn[] = {"door_open", "smoke"};
    assert_int_equal(decode_encode_bits(r, badn, 2, w, 1, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "status: has no bit named \"smoke\"");
    assert_int_equal(decode_encode_bits(R("u16v"), names, 1, w, 1, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "u16v: a u16 register has no named bits");
}

static void test_enum(void **state)
{
    (void)state;
    const profile_reg_t *r = R("mode");
    decode_value_t v = dec("mode", 1, 0);
    assert_int_equal(v.kind, DECODE_ENUM);
    assert_int_equal(v.i, 1);
    assert_string_equal(v.name, "free_passage");
    fmt_is(&v, "free_passage");
    v = dec("mode", 7, 0);
    assert_null(v.name);
    fmt_is(&v, "7 (not in the list)");
    v = dec("offset", 0xFFFF, 0); /* i16 enumeration with a negative value */
    assert_string_equal(v.name, "unset");
    assert_int_equal(r->default_raw, 2);

    uint16_t w[1];
    char err[256];
    assert_int_equal(decode_encode_enum(r, "locked", w, 1, err, sizeof(err)), 0);
    assert_int_equal(w[0], 2);
    assert_int_equal(decode_encode_enum(R("offset"), "unset", w, 1, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0xFFFF);
    assert_int_equal(decode_encode_enum(r, "open", w, 1, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "mode: unknown value \"open\" (normal, free_passage, locked)");
    assert_int_equal(decode_encode_enum(R("u16v"), "x", w, 1, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "u16v: is not an enumeration");
}

static void test_bits_tables(void **state)
{
    (void)state;
    decode_value_t v;
    char err[256];
    assert_int_equal(decode_bit(R("flag"), 0xFF, &v, err, sizeof(err)), 0);
    assert_int_equal(v.kind, DECODE_BOOL);
    assert_int_equal(v.i, 1);
    fmt_is(&v, "on");
    assert_int_equal(decode_bit(R("sensor"), 0, &v, err, sizeof(err)), 0);
    fmt_is(&v, "off");
    assert_int_equal(decode_bit(R("u16v"), 1, &v, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "u16v: a u16 is decoded from registers (decode_value)");
    uint16_t w[2] = {1, 0};
    assert_int_equal(decode_value(R("flag"), w, 2, &v, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "flag: a bool is decoded from a bit (decode_bit)");

    uint8_t bit = 7;
    assert_int_equal(decode_encode_bool(R("flag"), 5, &bit, err, sizeof(err)), 0);
    assert_int_equal(bit, 1);
    assert_int_equal(decode_encode_bool(R("flag"), 0, &bit, err, sizeof(err)), 0);
    assert_int_equal(bit, 0);
    assert_int_equal(decode_encode_bool(R("u16v"), 1, &bit, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_encode_number(R("flag"), 1, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "flag: a bool is a bit, not a register (decode_encode_bool)");
}

static void test_from_block(void **state)
{
    (void)state;
    /* Holding registers 0..26 of types.json read in one block. */
    uint16_t block[27] = {0};
    block[10] = 0x4148; /* f32h */
    block[14] = 1205;   /* volts */
    decode_value_t v;
    char err[256];
    assert_int_equal(decode_from_block(R("f32h"), block, 0, 27, &v, err, sizeof(err)), 0);
    assert_true(v.real == 12.5);
    assert_int_equal(decode_from_block(R("volts"), block + 10, 10, 17, &v, err, sizeof(err)), 0);
    assert_true(v.real == 12.05);
    assert_int_equal(decode_from_block(R("f32h"), block, 0, 11, &v, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "f32h: 10-11 is not inside the block read (0-10)");
    assert_int_equal(decode_from_block(R("u16v"), block + 1, 1, 5, &v, err, sizeof(err)),
                     ACS_EINVAL);
    assert_string_equal(err, "u16v: 0-0 is not inside the block read (1-5)");
    uint8_t bits[4] = {0, 1, 0, 0};
    const profile_t *tc = profile_set_by_product_code(shipped, "TC-200");
    const profile_reg_t *tamper = profile_reg(tc, "tamper"); /* discrete input 4 */
    assert_int_equal(decode_from_block(tamper, bits, 3, 4, &v, err, sizeof(err)), 0);
    assert_int_equal(v.i, 1);
}

static void test_parse(void **state)
{
    (void)state;
    uint16_t w[3] = {0, 0, 0};
    char err[256];
    assert_int_equal(decode_parse(R("volts"), " 12.5 ", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 1250);
    assert_int_equal(decode_parse(R("u16v"), "0x1F", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 31);
    assert_int_equal(decode_parse(R("i32h"), "-3", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0xFFFF);
    assert_int_equal(w[1], 0xFFFD);
    assert_int_equal(decode_parse(R("mode"), "free_passage", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 1);
    assert_int_equal(decode_parse(R("mode"), "9", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 9);
    assert_int_equal(decode_parse(R("mode"), "shut", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "mode: unknown value \"shut\" (normal, free_passage, locked)");
    assert_int_equal(decode_parse(R("status"), "tamper, fault", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x8008);
    assert_int_equal(decode_parse(R("status"), "none", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0);
    assert_int_equal(decode_parse(R("status"), "0x0003", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 3);
    assert_int_equal(decode_parse(R("status"), "tamper,smoke", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "status: has no bit named \"smoke\"");
    assert_int_equal(decode_parse(R("flag"), "ON", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 1);
    assert_int_equal(decode_parse(R("flag"), "false", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0);
    assert_int_equal(decode_parse(R("flag"), "maybe", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "flag: \"maybe\" is not on, off, true, false, 1 or 0");
    assert_int_equal(decode_parse(R("label"), "XY", w, 3, err, sizeof(err)), 0);
    assert_int_equal(w[0], 0x5859);
    assert_int_equal(decode_parse(R("volts"), "12,5", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "volts: \"12,5\" is not a number");
    assert_int_equal(decode_parse(R("volts"), "", w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "volts: \"\" is not a number");
}

static void test_crc(void **state)
{
    (void)state;
    uint16_t w[4] = {0x3132, 0x3334, 0x3536, 0x3738}; /* "12345678" */
    assert_int_equal(decode_crc16_words(w, 4), 0x37DD);
    assert_int_equal(decode_crc16_words(w, 0), 0xFFFF);
}

/* TC-200 record: seq 0x00010002, 2026-01-01T00:00:00Z, passage_entry, detail 0, 12.05 V. */
static void tc_record(uint16_t rec[8])
{
    const uint16_t words[8] = {0x0001, 0x0002, 0x6955, 0xB900, 2, 0, 1205, 0x53C3};
    memcpy(rec, words, sizeof(words));
}

static void test_event_tc200(void **state)
{
    (void)state;
    const profile_t *p = profile_set_by_product_code(shipped, "TC-200");
    uint16_t rec[8];
    decode_event_t ev;
    char err[256];

    tc_record(rec);
    assert_int_equal(decode_event(p, rec, 8, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.status, DECODE_EVENT_OK);
    assert_int_equal(ev.seq, 0x00010002);
    assert_int_equal(ev.timestamp, 1767225600);
    assert_int_equal(ev.code, 2);
    assert_string_equal(ev.event->name, "passage_entry");
    assert_int_equal(ev.checksum_read, 0x53C3);
    assert_int_equal(ev.checksum_computed, 0x53C3);
    assert_int_equal(ev.nfields, 5);
    assert_string_equal(ev.fields[4].reg->name, "supply_voltage");
    assert_true(ev.fields[4].real == 12.05);

    /* Seal writes the same checksum. */
    rec[7] = 0;
    assert_int_equal(decode_event_seal(p, rec, 8), 0);
    assert_int_equal(rec[7], 0x53C3);

    /* One flipped bit: corrupt, fields still decoded. */
    rec[4] ^= 0x0100;
    assert_int_equal(decode_event(p, rec, 8, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.status, DECODE_EVENT_CORRUPT);
    assert_int_equal(ev.checksum_read, 0x53C3);
    assert_int_not_equal(ev.checksum_computed, 0x53C3);
    assert_int_equal(ev.code, 0x0102);
    assert_null(ev.event);

    /* A changed checksum word alone is corrupt too. */
    tc_record(rec);
    rec[7] = 0x53C2;
    assert_int_equal(decode_event(p, rec, 8, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.status, DECODE_EVENT_CORRUPT);

    memset(rec, 0, sizeof(rec));
    assert_int_equal(decode_event(p, rec, 8, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.status, DECODE_EVENT_EMPTY);

    assert_int_equal(decode_event(p, rec, 7, &ev, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "TC-200 event record needs 8 words, got 7");
    assert_int_equal(decode_event(types, rec, 8, &ev, err, sizeof(err)), ACS_EINVAL);
    assert_string_equal(err, "TYPES-1 has no event log");
    assert_int_equal(decode_event_seal(p, rec, 7), ACS_EINVAL);
}

static void test_event_rc50(void **state)
{
    (void)state;
    const profile_t *p = profile_set_by_product_code(shipped, "RC-50");
    /* seq 7, 2026-01-01, card_read, UID 0xDEADBEEF, granted, 34 bits; all low word first. */
    uint16_t rec[10] = {7, 0, 0xB900, 0x6955, 2, 0xBEEF, 0xDEAD, 1, 34, 0x1414};
    decode_event_t ev;
    char err[256];
    assert_int_equal(decode_event(p, rec, 10, &ev, err, sizeof(err)), 0);
    assert_int_equal(ev.status, DECODE_EVENT_OK);
    assert_int_equal(ev.seq, 7);
    assert_int_equal(ev.timestamp, 1767225600);
    assert_string_equal(ev.event->name, "card_read");
    const profile_reg_t *uid = profile_event_field(p, "card_uid");
    assert_int_equal(ev.fields[uid->index].i, 0xDEADBEEF);
    const profile_reg_t *dec_f = profile_event_field(p, "decision");
    assert_string_equal(ev.fields[dec_f->index].name, "granted");

    /* Building the same record the simulator's way. */
    uint16_t built[10] = {0};
    assert_int_equal(
        decode_encode_raw(profile_event_field(p, "seq"), 7, built + 0, 2, err, sizeof(err)), 0);
    assert_int_equal(decode_encode_raw(profile_event_field(p, "timestamp"), 1767225600, built + 2,
                                       2, err, sizeof(err)),
                     0);
    assert_int_equal(
        decode_encode_raw(profile_event_field(p, "code"), 2, built + 4, 1, err, sizeof(err)), 0);
    assert_int_equal(decode_encode_raw(uid, 0xDEADBEEF, built + 5, 2, err, sizeof(err)), 0);
    assert_int_equal(decode_encode_enum(dec_f, "granted", built + 7, 1, err, sizeof(err)), 0);
    assert_int_equal(
        decode_encode_raw(profile_event_field(p, "card_bits"), 34, built + 8, 1, err, sizeof(err)),
        0);
    assert_int_equal(decode_event_seal(p, built, 10), 0);
    assert_memory_equal(built, rec, sizeof(rec));
}

static void test_event_slot(void **state)
{
    (void)state;
    const profile_t *p = profile_set_by_product_code(shipped, "TC-200"); /* capacity 256 */
    unsigned slot = 999;
    assert_int_equal(decode_event_slot(p, 3, 5, 0, &slot), 0);
    assert_int_equal(slot, 254); /* oldest: wrapped */
    assert_int_equal(decode_event_slot(p, 3, 5, 4, &slot), 0);
    assert_int_equal(slot, 2); /* newest: head - 1 */
    assert_int_equal(decode_event_slot(p, 10, 4, 0, &slot), 0);
    assert_int_equal(slot, 6);
    assert_int_equal(decode_event_slot(p, 0, 256, 0, &slot), 0);
    assert_int_equal(slot, 0); /* full ring: the oldest is the next to be overwritten */
    assert_int_equal(decode_event_slot(p, 0, 256, 255, &slot), 0);
    assert_int_equal(slot, 255);
    assert_int_equal(decode_event_slot(p, 256, 1, 0, &slot), ACS_EINVAL);
    assert_int_equal(decode_event_slot(p, 0, 257, 0, &slot), ACS_EINVAL);
    assert_int_equal(decode_event_slot(p, 0, 5, 5, &slot), ACS_EINVAL);
    assert_int_equal(decode_event_slot(types, 0, 1, 0, &slot), ACS_EINVAL);
}

static void test_null_args(void **state)
{
    (void)state;
    decode_value_t v;
    uint16_t w[2] = {0, 0};
    char err[128];
    assert_int_equal(decode_value(NULL, w, 2, &v, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_value(R("u16v"), NULL, 2, &v, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_value(R("u16v"), w, 2, NULL, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_value(R("u16v"), w, 0, &v, NULL, 0), ACS_EINVAL);
    assert_int_equal(decode_encode_number(NULL, 1, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_encode_string(R("label"), NULL, w, 3, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_parse(R("u16v"), NULL, w, 2, err, sizeof(err)), ACS_EINVAL);
    assert_int_equal(decode_format(NULL, err, sizeof(err)), 0);
    assert_int_equal(decode_event(NULL, w, 2, NULL, err, sizeof(err)), ACS_EINVAL);
    /* decode_format with a short buffer cuts and reports the length it needed. */
    v = dec("status", 0x8009, 0);
    char small[8];
    assert_int_equal(decode_format(&v, small, sizeof(small)), strlen("door_open,tamper,fault"));
    assert_string_equal(small, "door_op");
    assert_int_equal(decode_format(&v, NULL, 0), strlen("door_open,tamper,fault"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),    cmocka_unit_test(test_floats),
        cmocka_unit_test(test_scale),       cmocka_unit_test(test_strings),
        cmocka_unit_test(test_bitfield),    cmocka_unit_test(test_enum),
        cmocka_unit_test(test_bits_tables), cmocka_unit_test(test_from_block),
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_crc),
        cmocka_unit_test(test_event_tc200), cmocka_unit_test(test_event_rc50),
        cmocka_unit_test(test_event_slot),  cmocka_unit_test(test_null_args),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
