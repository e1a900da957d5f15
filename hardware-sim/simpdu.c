/* SPDX-License-Identifier: MIT */
/*
 * simpdu.c - Modbus request PDUs answered from a register bank (see simpdu.h). One handler per
 * function code, found through a table.
 */
#include "simpdu.h"

#include <string.h>

#include "mbframe.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFF);
}

size_t simpdu_exception(uint8_t fc, uint8_t code, uint8_t *resp)
{
    resp[0] = (uint8_t)(fc | 0x80);
    resp[1] = code;
    return 2;
}

static void before_read(simpdu_device_t *dev, regbank_table_id_t t, uint16_t addr, uint16_t n)
{
    if (dev->hooks.before_read != NULL)
        dev->hooks.before_read(dev->hooks.arg, t, addr, n);
}

/* Span check shared by reads and writes: 02 unless every address exists (and is writable). */
static int span_ok(simpdu_device_t *dev, regbank_table_id_t t, uint16_t addr, uint16_t n, int write)
{
    return regbank_covers(dev->bank, t, addr, n, write);
}

/* FC 1 and 2: bits packed LSB first. */
static size_t read_bits(simpdu_device_t *dev, regbank_table_id_t t, const uint8_t *req, size_t len,
                        uint8_t *resp)
{
    if (len != 5)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), n = be16(req + 3);
    if (n < 1 || n > 2000)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (!span_ok(dev, t, addr, n, 0))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    before_read(dev, t, addr, n);
    size_t bytes = (n + 7u) / 8u;
    resp[0] = req[0];
    resp[1] = (uint8_t)bytes;
    memset(resp + 2, 0, bytes);
    const regbank_table_t *tab = &dev->bank->t[t];
    for (uint16_t i = 0; i < n; i++) {
        if (tab->value[addr - tab->start + i])
            resp[2 + i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return 2 + bytes;
}

/* FC 3 and 4. */
static size_t read_regs(simpdu_device_t *dev, regbank_table_id_t t, const uint8_t *req, size_t len,
                        uint8_t *resp)
{
    if (len != 5)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), n = be16(req + 3);
    if (n < 1 || n > 125)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (!span_ok(dev, t, addr, n, 0))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    before_read(dev, t, addr, n);
    resp[0] = req[0];
    resp[1] = (uint8_t)(2 * n);
    const regbank_table_t *tab = &dev->bank->t[t];
    for (uint16_t i = 0; i < n; i++)
        put16(resp + 2 + 2 * i, tab->value[addr - tab->start + i]);
    return 2 + 2u * n;
}

/* Stores vals after the device accepted them; answers the usual echo of address + second
 * field (value for FC 5/6, quantity for FC 15/16). */
static size_t store(simpdu_device_t *dev, regbank_table_id_t t, const uint8_t *req, uint16_t addr,
                    const uint16_t *vals, uint16_t n, uint8_t *resp)
{
    if (dev->hooks.check_write != NULL) {
        int ex = dev->hooks.check_write(dev->hooks.arg, t, addr, vals, n);
        if (ex != 0)
            return simpdu_exception(req[0], (uint8_t)ex, resp);
    }
    for (uint16_t i = 0; i < n; i++)
        regbank_set(dev->bank, t, (uint32_t)addr + i, vals[i]);
    if (dev->hooks.after_write != NULL)
        dev->hooks.after_write(dev->hooks.arg, t, addr, n);
    memcpy(resp, req, 5);
    return 5;
}

static size_t fc_read_coils(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    return read_bits(dev, REGBANK_COIL, req, len, resp);
}

static size_t fc_read_discrete(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    return read_bits(dev, REGBANK_DISCRETE, req, len, resp);
}

static size_t fc_read_holding(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    return read_regs(dev, REGBANK_HOLDING, req, len, resp);
}

static size_t fc_read_input(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    return read_regs(dev, REGBANK_INPUT, req, len, resp);
}

static size_t fc_write_coil(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len != 5)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), raw = be16(req + 3);
    if (raw != 0x0000 && raw != 0xFF00)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (!span_ok(dev, REGBANK_COIL, addr, 1, 1))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    uint16_t v = raw == 0xFF00;
    return store(dev, REGBANK_COIL, req, addr, &v, 1, resp);
}

static size_t fc_write_register(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len != 5)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), v = be16(req + 3);
    if (!span_ok(dev, REGBANK_HOLDING, addr, 1, 1))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    return store(dev, REGBANK_HOLDING, req, addr, &v, 1, resp);
}

static size_t fc_write_coils(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len < 6)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), n = be16(req + 3);
    uint8_t bytes = req[5];
    if (n < 1 || n > 0x7B0 || bytes != (n + 7u) / 8u || len != 6u + bytes)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (!span_ok(dev, REGBANK_COIL, addr, n, 1))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    uint16_t vals[0x7B0];
    for (uint16_t i = 0; i < n; i++)
        vals[i] = (req[6 + i / 8] >> (i % 8)) & 1u;
    return store(dev, REGBANK_COIL, req, addr, vals, n, resp);
}

static size_t fc_write_registers(simpdu_device_t *dev, const uint8_t *req, size_t len,
                                 uint8_t *resp)
{
    if (len < 6)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint16_t addr = be16(req + 1), n = be16(req + 3);
    uint8_t bytes = req[5];
    if (n < 1 || n > 123 || bytes != 2u * n || len != 6u + bytes)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    if (!span_ok(dev, REGBANK_HOLDING, addr, n, 1))
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
    uint16_t vals[123];
    for (uint16_t i = 0; i < n; i++)
        vals[i] = be16(req + 6 + 2 * i);
    return store(dev, REGBANK_HOLDING, req, addr, vals, n, resp);
}

static size_t fc_report_server_id(simpdu_device_t *dev, const uint8_t *req, size_t len,
                                  uint8_t *resp)
{
    if (len != 1)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    const char *text = dev->server_text != NULL ? dev->server_text : "";
    size_t tlen = strlen(text);
    if (tlen > MBFRAME_PDU_MAX - 4)
        tlen = MBFRAME_PDU_MAX - 4;
    resp[0] = req[0];
    resp[1] = (uint8_t)(2 + tlen);
    resp[2] = dev->server_id;
    resp[3] = dev->running ? 0xFF : 0x00;
    memcpy(resp + 4, text, tlen);
    return 4 + tlen;
}

/* Objects of each category that a stream read (codes 1-3) walks, per the specification:
 * basic 0x00-0x02, regular 0x03-0x7F, extended 0x80-0xFF (none here). */
static int last_object_for_code(uint8_t code)
{
    return code == 1 ? 2 : SIMPDU_IDENT_OBJECTS - 1;
}

static size_t fc_encapsulated(simpdu_device_t *dev, const uint8_t *req, size_t len, uint8_t *resp)
{
    if (len < 2 || req[1] != 0x0E)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_FUNCTION, resp);
    if (len != 4 || req[2] < 1 || req[2] > 4)
        return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_VALUE, resp);
    uint8_t code = req[2], first = req[3];
    int regular = 0;
    for (int i = 3; i < SIMPDU_IDENT_OBJECTS; i++)
        regular |= dev->ident[i] != NULL;
    resp[0] = req[0];
    resp[1] = 0x0E;
    resp[2] = code;
    resp[3] = regular ? 0x82 : 0x81;
    resp[4] = 0x00; /* more follows */
    resp[5] = 0x00; /* next object id */
    resp[6] = 0;    /* number of objects */
    size_t at = 7;
    if (code == 4) {
        if (first >= SIMPDU_IDENT_OBJECTS || dev->ident[first] == NULL)
            return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_ADDRESS, resp);
        size_t l = strlen(dev->ident[first]);
        if (l > MBFRAME_PDU_MAX - at - 2)
            l = MBFRAME_PDU_MAX - at - 2;
        resp[at++] = first;
        resp[at++] = (uint8_t)l;
        memcpy(resp + at, dev->ident[first], l);
        resp[6] = 1;
        return at + l;
    }
    int last = last_object_for_code(code);
    /* An object id that the category does not hold restarts the stream at object 0. */
    if (first > last || dev->ident[first] == NULL)
        first = 0;
    for (int id = first; id <= last; id++) {
        if (dev->ident[id] == NULL)
            continue;
        size_t l = strlen(dev->ident[id]);
        if (l > MBFRAME_PDU_MAX - 9)
            l = MBFRAME_PDU_MAX - 9;
        if (at + 2 + l > MBFRAME_PDU_MAX) {
            resp[4] = 0xFF;
            resp[5] = (uint8_t)id;
            break;
        }
        resp[at++] = (uint8_t)id;
        resp[at++] = (uint8_t)l;
        memcpy(resp + at, dev->ident[id], l);
        at += l;
        resp[6]++;
    }
    return at;
}

typedef size_t (*fc_handler_t)(simpdu_device_t *, const uint8_t *, size_t, uint8_t *);

static const struct {
    uint8_t fc;
    fc_handler_t handle;
} handlers[] = {
    {0x01, fc_read_coils},   {0x02, fc_read_discrete},   {0x03, fc_read_holding},
    {0x04, fc_read_input},   {0x05, fc_write_coil},      {0x06, fc_write_register},
    {0x0F, fc_write_coils},  {0x10, fc_write_registers}, {0x11, fc_report_server_id},
    {0x2B, fc_encapsulated},
};

size_t simpdu_handle(simpdu_device_t *dev, const uint8_t *req, size_t req_len, uint8_t *resp)
{
    if (req_len == 0)
        return simpdu_exception(0, SIMPDU_EX_ILLEGAL_FUNCTION, resp);
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++) {
        if (handlers[i].fc == req[0])
            return handlers[i].handle(dev, req, req_len, resp);
    }
    return simpdu_exception(req[0], SIMPDU_EX_ILLEGAL_FUNCTION, resp);
}
