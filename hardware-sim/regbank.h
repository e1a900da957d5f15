/* SPDX-License-Identifier: MIT */
/*
 * regbank.h - the register bank of one simulated unit: its four Modbus tables (coils,
 * discrete inputs, input registers, holding registers), which addresses exist and which are
 * writable. The device model (simunit.c) fills it from the unit's profile and keeps its
 * values up to date; the PDU layer (simpdu.c) reads and writes it for Modbus requests.
 *
 * Each table covers the span from its lowest to its highest defined address; addresses in the
 * span that the profile does not define are holes, and a request touching a hole gets
 * exception 02 (illegal data address), as an address outside the span does.
 */
#ifndef ACS_SIM_REGBANK_H
#define ACS_SIM_REGBANK_H

#include <stddef.h>
#include <stdint.h>

typedef enum regbank_table_id {
    REGBANK_COIL = 0,
    REGBANK_DISCRETE = 1,
    REGBANK_INPUT = 2,
    REGBANK_HOLDING = 3,
    REGBANK_NTABLES = 4
} regbank_table_id_t;

#define REGBANK_DEFINED  0x01
#define REGBANK_WRITABLE 0x02

typedef struct regbank_table {
    uint32_t start; /* first address of the span */
    uint32_t count; /* addresses in the span (0: the table is empty) */
    uint16_t *value;
    uint8_t *flags;
} regbank_table_t;

typedef struct regbank {
    regbank_table_t t[REGBANK_NTABLES];
} regbank_t;

/* Makes an empty bank (no allocation). */
void regbank_init(regbank_t *bank);

/* Frees the tables; the bank is empty again. */
void regbank_close(regbank_t *bank);

/* Defines count addresses from addr in a table (writable or not; coils and holding registers
 * only may be writable). Values start at 0. Returns 0, ACS_EINVAL for a span past 65535 or a
 * bad table, ACS_ENOMEM. */
int regbank_define(regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint32_t count,
                   int writable);

/* Returns 1 when every address of [addr, addr + count) is defined (and writable, when
 * want_writable), 0 otherwise. */
int regbank_covers(const regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint32_t count,
                   int want_writable);

/* Reads or writes one defined address. get returns 0 and sets *v, or ACS_ENOTFOUND; set
 * ignores the writable flag (it is the device's own access) and returns 0 or ACS_ENOTFOUND. */
int regbank_get(const regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint16_t *v);
int regbank_set(regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint16_t v);

/* "coil", "discrete", "input", "holding" (and the short forms "co", "di", "ir", "hr") to a
 * table id; returns 0 or ACS_EINVAL. */
int regbank_table_parse(const char *name, regbank_table_id_t *table);
const char *regbank_table_name(regbank_table_id_t table);

#endif
