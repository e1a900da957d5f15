/* SPDX-License-Identifier: MIT */
/*
 * simpdu.h - the server side of the Modbus application layer in acs-sim: one request PDU in,
 * one response PDU out, against a unit's register bank. Function codes 1, 2, 3, 4, 5, 6, 15,
 * 16, 17 (report server id) and 43/14 (read device identification); everything else gets
 * exception 01. Pure: no I/O, no clock, so it is unit-tested on its own.
 *
 * Exceptions follow the specification's order of checks: 01 for an unknown function, 03 for
 * a malformed request or a quantity out of range, 02 for an address (or a span) the bank does
 * not define or a write to a read-only address, then the device's own verdict on the values
 * (hooks below), usually 03.
 */
#ifndef ACS_SIM_SIMPDU_H
#define ACS_SIM_SIMPDU_H

#include <stddef.h>
#include <stdint.h>

#include "regbank.h"

#define SIMPDU_EX_ILLEGAL_FUNCTION    0x01
#define SIMPDU_EX_ILLEGAL_ADDRESS     0x02
#define SIMPDU_EX_ILLEGAL_VALUE       0x03
#define SIMPDU_EX_DEVICE_FAILURE      0x04
#define SIMPDU_EX_GATEWAY_NO_RESPONSE 0x0B

/* Device identification objects 0x00-0x06 (VendorName, ProductCode, MajorMinorRevision,
 * VendorUrl, ProductName, ModelName, UserApplicationName). NULL = the object does not exist.
 * Objects 0-2 must exist. */
#define SIMPDU_IDENT_OBJECTS 7

typedef struct simpdu_hooks {
    /* Called before a write is stored: returns 0 to accept it or an exception code. */
    int (*check_write)(void *arg, regbank_table_id_t table, uint16_t addr, const uint16_t *vals,
                       uint16_t count);
    /* Called after a write was stored: the device acts on it (commands, settings). */
    void (*after_write)(void *arg, regbank_table_id_t table, uint16_t addr, uint16_t count);
    /* Called before values are read, so that live values can be brought up to date. */
    void (*before_read)(void *arg, regbank_table_id_t table, uint16_t addr, uint16_t count);
    void *arg;
} simpdu_hooks_t;

typedef struct simpdu_device {
    regbank_t *bank;
    const char *ident[SIMPDU_IDENT_OBJECTS];
    /* FC 17: the server id byte and the additional data after the run indicator. */
    uint8_t server_id;
    const char *server_text;
    int running; /* run indicator: 0xFF when running, 0x00 otherwise */
    simpdu_hooks_t hooks;
} simpdu_device_t;

/* Handles one request PDU (function code + data, req_len bytes). Writes the response PDU
 * (normal or exception) into resp, which must hold MBFRAME_PDU_MAX bytes. Returns its length
 * (always > 0). */
size_t simpdu_handle(simpdu_device_t *dev, const uint8_t *req, size_t req_len, uint8_t *resp);

/* Writes an exception response for function fc into resp; returns 2. */
size_t simpdu_exception(uint8_t fc, uint8_t code, uint8_t *resp);

#endif
