/* SPDX-License-Identifier: MIT */
/*
 * test_sim_frame.c - unit tests of acs-sim's frame layer (hardware-sim/mbframe.c) and PDU
 * server (hardware-sim/simpdu.c): the CRC-16 against its bitwise definition and known frames,
 * RTU and MBAP framing, request lengths, t3.5, and the answers and exceptions of each
 * function code over a small register bank.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "acs_error.h"
#include "mbframe.h"
#include "regbank.h"
#include "simpdu.h"

static uint16_t crc_bitwise(const uint8_t *b, size_t n)
{
    uint16_t crc = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static void crc_known_values(void **state)
{
    (void)state;
    /* "123456789" is the catalogue check value of CRC-16/MODBUS. */
    assert_int_equal(mbframe_crc16((const uint8_t *)"123456789", 9), 0x4B37);
    /* Read holding registers, unit 1, address 0, 10 registers: 01 03 00 00 00 0A C5 CD. */
    const uint8_t req[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A};
    assert_int_equal(mbframe_crc16(req, sizeof(req)), 0xCDC5);
    assert_int_equal(mbframe_crc16(req, 0), 0xFFFF);
}

static void crc_table_matches_definition(void **state)
{
    (void)state;
    uint8_t b[300];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof(b); n += 7)
        assert_int_equal(mbframe_crc16(b, n), crc_bitwise(b, n));
    for (unsigned v = 0; v < 256; v++) {
        uint8_t one = (uint8_t)v;
        assert_int_equal(mbframe_crc16(&one, 1), crc_bitwise(&one, 1));
    }
}

static void rtu_build_and_check(void **state)
{
    (void)state;
    uint8_t pdu[] = {0x03, 0x00, 0x00, 0x00, 0x0A};
    uint8_t adu[MBFRAME_RTU_MAX];
    size_t n = mbframe_rtu_build(adu, sizeof(adu), 1, pdu, sizeof(pdu));
    assert_int_equal(n, 8);
    const uint8_t want[] = {0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD};
    assert_memory_equal(adu, want, 8);
    assert_int_equal(mbframe_rtu_check(adu, n), 0);
    adu[3] ^= 0x01;
    assert_int_equal(mbframe_rtu_check(adu, n), ACS_EIO);
    adu[3] ^= 0x01;
    adu[7] ^= 0x80;
    assert_int_equal(mbframe_rtu_check(adu, n), ACS_EIO);
    assert_int_equal(mbframe_rtu_check(adu, 3), ACS_EINVAL);
    assert_int_equal(mbframe_rtu_check(adu, MBFRAME_RTU_MAX + 1), ACS_EINVAL);
    /* Too small an output buffer, an empty or oversized PDU. */
    assert_int_equal(mbframe_rtu_build(adu, 7, 1, pdu, sizeof(pdu)), 0);
    assert_int_equal(mbframe_rtu_build(adu, sizeof(adu), 1, pdu, 0), 0);
    uint8_t big[MBFRAME_PDU_MAX + 1] = {0x10};
    assert_int_equal(mbframe_rtu_build(adu, sizeof(adu), 1, big, sizeof(big)), 0);
    assert_int_equal(mbframe_rtu_build(adu, sizeof(adu), 1, big, MBFRAME_PDU_MAX), 256);
    assert_int_equal(mbframe_rtu_check(adu, 256), 0);
}

static void rtu_request_lengths(void **state)
{
    (void)state;
    const uint8_t read[] = {0x01, 0x03};
    assert_int_equal(mbframe_rtu_request_length(read, 1), 0);
    assert_int_equal(mbframe_rtu_request_length(read, 2), 8);
    const uint8_t wr[] = {0x01, 0x10, 0x00, 0x01, 0x00, 0x02, 0x04};
    assert_int_equal(mbframe_rtu_request_length(wr, 6), 0);
    assert_int_equal(mbframe_rtu_request_length(wr, 7), 9 + 4);
    const uint8_t coils[] = {0x01, 0x0F, 0x00, 0x00, 0x00, 0x0A, 0x02};
    assert_int_equal(mbframe_rtu_request_length(coils, 7), 11);
    const uint8_t id[] = {0x01, 0x11};
    assert_int_equal(mbframe_rtu_request_length(id, 2), 4);
    const uint8_t mei[] = {0x01, 0x2B};
    assert_int_equal(mbframe_rtu_request_length(mei, 2), 7);
    const uint8_t unknown[] = {0x01, 0x64};
    assert_int_equal(mbframe_rtu_request_length(unknown, 2), -1);
}

static void mbap_parse_and_build(void **state)
{
    (void)state;
    const uint8_t pdu[] = {0x03, 0x00, 0x10, 0x00, 0x02};
    uint8_t adu[MBFRAME_TCP_MAX];
    size_t n = mbframe_mbap_build(adu, sizeof(adu), 0x1234, 7, pdu, sizeof(pdu));
    assert_int_equal(n, 12);
    const uint8_t want[] = {0x12, 0x34, 0x00, 0x00, 0x00, 0x06, 0x07, 0x03, 0x00, 0x10, 0x00, 0x02};
    assert_memory_equal(adu, want, n);

    mbframe_mbap_t h;
    for (size_t part = 0; part < n; part++)
        assert_int_equal(mbframe_mbap_parse(adu, part, &h), 0);
    assert_int_equal(mbframe_mbap_parse(adu, n, &h), 12);
    assert_int_equal(h.transaction, 0x1234);
    assert_int_equal(h.protocol, 0);
    assert_int_equal(h.length, 6);
    assert_int_equal(h.unit, 7);

    /* Two ADUs back to back: the first is reported alone. */
    uint8_t two[24];
    memcpy(two, adu, 12);
    memcpy(two + 12, adu, 12);
    assert_int_equal(mbframe_mbap_parse(two, sizeof(two), &h), 12);

    uint8_t bad[12];
    memcpy(bad, adu, 12);
    bad[3] = 1; /* protocol id 1 */
    assert_int_equal(mbframe_mbap_parse(bad, 12, &h), ACS_EINVAL);
    memcpy(bad, adu, 12);
    bad[5] = 1; /* length 1: no PDU */
    assert_int_equal(mbframe_mbap_parse(bad, 12, &h), ACS_EINVAL);
    bad[4] = 0x01;
    bad[5] = 0x00; /* length 256 */
    assert_int_equal(mbframe_mbap_parse(bad, 12, &h), ACS_EINVAL);
}

static void t35(void **state)
{
    (void)state;
    assert_int_equal(mbframe_t35_us(9600, 11), 4011);
    assert_int_equal(mbframe_t35_us(19200, 11), 2006);
    assert_int_equal(mbframe_t35_us(38400, 11), 1750);
    assert_int_equal(mbframe_t35_us(115200, 10), 1750);
}

/* ---- PDU server ------------------------------------------------------------------------- */

typedef struct fixture {
    regbank_t bank;
    simpdu_device_t dev;
    int writes;
} fixture_t;

static int refuse_big(void *arg, regbank_table_id_t t, uint16_t addr, const uint16_t *v, uint16_t n)
{
    (void)arg;
    (void)addr;
    for (uint16_t i = 0; i < n; i++) {
        if (t == REGBANK_HOLDING && v[i] > 1000)
            return SIMPDU_EX_ILLEGAL_VALUE;
    }
    return 0;
}

static void count_write(void *arg, regbank_table_id_t t, uint16_t addr, uint16_t n)
{
    (void)t;
    (void)addr;
    (void)n;
    ((fixture_t *)arg)->writes++;
}

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof(f));
    regbank_init(&f.bank);
    assert_int_equal(regbank_define(&f.bank, REGBANK_COIL, 0, 4, 1), 0);
    assert_int_equal(regbank_define(&f.bank, REGBANK_DISCRETE, 0, 10, 0), 0);
    assert_int_equal(regbank_define(&f.bank, REGBANK_INPUT, 0, 3, 0), 0);
    assert_int_equal(regbank_define(&f.bank, REGBANK_INPUT, 16, 2, 0), 0); /* hole 3..15 */
    assert_int_equal(regbank_define(&f.bank, REGBANK_HOLDING, 0, 2, 1), 0);
    assert_int_equal(regbank_define(&f.bank, REGBANK_HOLDING, 2, 1, 0), 0); /* read-only */
    assert_int_equal(regbank_define(&f.bank, REGBANK_INPUT, 2, 1, 1), ACS_EINVAL);
    regbank_set(&f.bank, REGBANK_INPUT, 0, 200);
    regbank_set(&f.bank, REGBANK_INPUT, 1, 3);
    regbank_set(&f.bank, REGBANK_INPUT, 17, 0xBEEF);
    regbank_set(&f.bank, REGBANK_DISCRETE, 0, 1);
    regbank_set(&f.bank, REGBANK_DISCRETE, 9, 1);
    regbank_set(&f.bank, REGBANK_HOLDING, 2, 42);
    f.dev.bank = &f.bank;
    f.dev.ident[0] = "acsfield";
    f.dev.ident[1] = "TC-200";
    f.dev.ident[2] = "2.4.0";
    f.dev.server_id = 5;
    f.dev.server_text = "acsfield TC-200";
    f.dev.running = 1;
    f.dev.hooks.check_write = refuse_big;
    f.dev.hooks.after_write = count_write;
    f.dev.hooks.arg = &f;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    regbank_close(&f->bank);
    return 0;
}

static size_t ask(fixture_t *f, const uint8_t *req, size_t n, uint8_t *resp)
{
    return simpdu_handle(&f->dev, req, n, resp);
}

static void expect_exception(fixture_t *f, const uint8_t *req, size_t n, uint8_t code)
{
    uint8_t resp[MBFRAME_PDU_MAX];
    assert_int_equal(ask(f, req, n, resp), 2);
    assert_int_equal(resp[0], req[0] | 0x80);
    assert_int_equal(resp[1], code);
}

static void pdu_reads(void **state)
{
    fixture_t *f = *state;
    uint8_t resp[MBFRAME_PDU_MAX];
    const uint8_t ir[] = {0x04, 0x00, 0x00, 0x00, 0x02};
    assert_int_equal(ask(f, ir, sizeof(ir), resp), 6);
    const uint8_t want_ir[] = {0x04, 0x04, 0x00, 0xC8, 0x00, 0x03};
    assert_memory_equal(resp, want_ir, 6);

    const uint8_t di[] = {0x02, 0x00, 0x00, 0x00, 0x0A};
    assert_int_equal(ask(f, di, sizeof(di), resp), 4);
    assert_int_equal(resp[1], 2);
    assert_int_equal(resp[2], 0x01);
    assert_int_equal(resp[3], 0x02);

    const uint8_t hr[] = {0x03, 0x00, 0x02, 0x00, 0x01};
    assert_int_equal(ask(f, hr, sizeof(hr), resp), 4);
    assert_int_equal(resp[3], 42);
}

static void pdu_exceptions(void **state)
{
    fixture_t *f = *state;
    const uint8_t unknown[] = {0x07};
    expect_exception(f, unknown, 1, SIMPDU_EX_ILLEGAL_FUNCTION);
    const uint8_t fc20[] = {0x14, 0x07, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01};
    expect_exception(f, fc20, sizeof(fc20), SIMPDU_EX_ILLEGAL_FUNCTION);
    const uint8_t hole[] = {0x04, 0x00, 0x02, 0x00, 0x02}; /* 2 exists, 3 is a hole */
    expect_exception(f, hole, sizeof(hole), SIMPDU_EX_ILLEGAL_ADDRESS);
    const uint8_t past[] = {0x03, 0x00, 0x03, 0x00, 0x01};
    expect_exception(f, past, sizeof(past), SIMPDU_EX_ILLEGAL_ADDRESS);
    const uint8_t zero[] = {0x03, 0x00, 0x00, 0x00, 0x00};
    expect_exception(f, zero, sizeof(zero), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t many[] = {0x03, 0x00, 0x00, 0x00, 0x7E};
    expect_exception(f, many, sizeof(many), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t short_req[] = {0x03, 0x00, 0x00, 0x00};
    expect_exception(f, short_req, sizeof(short_req), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t ro[] = {0x06, 0x00, 0x02, 0x00, 0x01};
    expect_exception(f, ro, sizeof(ro), SIMPDU_EX_ILLEGAL_ADDRESS);
    const uint8_t big[] = {0x06, 0x00, 0x00, 0x07, 0xD0};
    expect_exception(f, big, sizeof(big), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t coil_bad[] = {0x05, 0x00, 0x00, 0x12, 0x34};
    expect_exception(f, coil_bad, sizeof(coil_bad), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t mei_other[] = {0x2B, 0x0D, 0x01, 0x00};
    expect_exception(f, mei_other, sizeof(mei_other), SIMPDU_EX_ILLEGAL_FUNCTION);
    const uint8_t mei_code[] = {0x2B, 0x0E, 0x05, 0x00};
    expect_exception(f, mei_code, sizeof(mei_code), SIMPDU_EX_ILLEGAL_VALUE);
    const uint8_t mei_obj[] = {0x2B, 0x0E, 0x04, 0x05};
    expect_exception(f, mei_obj, sizeof(mei_obj), SIMPDU_EX_ILLEGAL_ADDRESS);
    /* FC 16 whose byte count disagrees with its quantity. */
    const uint8_t wr_bad[] = {0x10, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x01};
    expect_exception(f, wr_bad, sizeof(wr_bad), SIMPDU_EX_ILLEGAL_VALUE);
    assert_int_equal(f->writes, 0);
}

static void pdu_writes(void **state)
{
    fixture_t *f = *state;
    uint8_t resp[MBFRAME_PDU_MAX];
    const uint8_t coil[] = {0x05, 0x00, 0x01, 0xFF, 0x00};
    assert_int_equal(ask(f, coil, sizeof(coil), resp), 5);
    assert_memory_equal(resp, coil, 5);
    uint16_t v;
    assert_int_equal(regbank_get(&f->bank, REGBANK_COIL, 1, &v), 0);
    assert_int_equal(v, 1);

    const uint8_t coils[] = {0x0F, 0x00, 0x00, 0x00, 0x04, 0x01, 0x0A};
    assert_int_equal(ask(f, coils, sizeof(coils), resp), 5);
    const uint8_t rd[] = {0x01, 0x00, 0x00, 0x00, 0x04};
    assert_int_equal(ask(f, rd, sizeof(rd), resp), 3);
    assert_int_equal(resp[2], 0x0A);

    const uint8_t regs[] = {0x10, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x07, 0x03, 0xE8};
    assert_int_equal(ask(f, regs, sizeof(regs), resp), 5);
    assert_int_equal(regbank_get(&f->bank, REGBANK_HOLDING, 1, &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(f->writes, 3);
}

static void pdu_identification(void **state)
{
    fixture_t *f = *state;
    uint8_t resp[MBFRAME_PDU_MAX];
    const uint8_t basic[] = {0x2B, 0x0E, 0x01, 0x00};
    size_t n = ask(f, basic, sizeof(basic), resp);
    const uint8_t want[] = {0x2B, 0x0E, 0x01, 0x81, 0x00, 0x00, 0x03, 0x00, 0x08, 'a', 'c',
                            's',  'f',  'i',  'e',  'l',  'd',  0x01, 0x06, 'T',  'C', '-',
                            '2',  '0',  '0',  0x02, 0x05, '2',  '.',  '4',  '.',  '0'};
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(resp, want, n);

    const uint8_t one[] = {0x2B, 0x0E, 0x04, 0x01};
    n = ask(f, one, sizeof(one), resp);
    assert_int_equal(n, 7 + 2 + 6);
    assert_int_equal(resp[6], 1);
    assert_int_equal(resp[7], 0x01);
    assert_memory_equal(resp + 9, "TC-200", 6);

    /* A stream starting at an object the category lacks restarts at object 0. */
    const uint8_t restart[] = {0x2B, 0x0E, 0x01, 0x40};
    n = ask(f, restart, sizeof(restart), resp);
    assert_int_equal(resp[6], 3);
    assert_int_equal(resp[7], 0x00);

    const uint8_t rsid[] = {0x11};
    n = ask(f, rsid, 1, resp);
    assert_int_equal(resp[1], 2 + strlen("acsfield TC-200"));
    assert_int_equal(resp[2], 5);
    assert_int_equal(resp[3], 0xFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc_known_values),
        cmocka_unit_test(crc_table_matches_definition),
        cmocka_unit_test(rtu_build_and_check),
        cmocka_unit_test(rtu_request_lengths),
        cmocka_unit_test(mbap_parse_and_build),
        cmocka_unit_test(t35),
        cmocka_unit_test_setup_teardown(pdu_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(pdu_exceptions, setup, teardown),
        cmocka_unit_test_setup_teardown(pdu_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(pdu_identification, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
