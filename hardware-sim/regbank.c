/* SPDX-License-Identifier: MIT */
/*
 * regbank.c - the four Modbus tables of a simulated unit (see regbank.h).
 */
#include "regbank.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

void regbank_init(regbank_t *bank)
{
    memset(bank, 0, sizeof(*bank));
}

void regbank_close(regbank_t *bank)
{
    for (int i = 0; i < REGBANK_NTABLES; i++) {
        free(bank->t[i].value);
        free(bank->t[i].flags);
    }
    regbank_init(bank);
}

/* Grows a table's span to include [lo, hi), keeping what it holds. */
static int grow(regbank_table_t *t, uint32_t lo, uint32_t hi)
{
    uint32_t nlo = lo, nhi = hi;
    if (t->count > 0) {
        if (t->start < nlo)
            nlo = t->start;
        if (t->start + t->count > nhi)
            nhi = t->start + t->count;
        if (nlo == t->start && nhi == t->start + t->count)
            return 0;
    }
    size_t n = nhi - nlo;
    uint16_t *value = calloc(n, sizeof(*value));
    uint8_t *flags = calloc(n, sizeof(*flags));
    if (value == NULL || flags == NULL) {
        free(value);
        free(flags);
        return ACS_ENOMEM;
    }
    if (t->count > 0) {
        memcpy(value + (t->start - nlo), t->value, t->count * sizeof(*value));
        memcpy(flags + (t->start - nlo), t->flags, t->count * sizeof(*flags));
    }
    free(t->value);
    free(t->flags);
    t->value = value;
    t->flags = flags;
    t->start = nlo;
    t->count = (uint32_t)n;
    return 0;
}

int regbank_define(regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint32_t count,
                   int writable)
{
    if ((unsigned)table >= REGBANK_NTABLES || count == 0 || addr > 0xFFFF || count > 0x10000 - addr)
        return ACS_EINVAL;
    if (writable && (table == REGBANK_DISCRETE || table == REGBANK_INPUT))
        return ACS_EINVAL;
    regbank_table_t *t = &bank->t[table];
    int err = grow(t, addr, addr + count);
    if (err != 0)
        return err;
    for (uint32_t i = 0; i < count; i++)
        t->flags[addr - t->start + i] |=
            (uint8_t)(REGBANK_DEFINED | (writable ? REGBANK_WRITABLE : 0));
    return 0;
}

int regbank_covers(const regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint32_t count,
                   int want_writable)
{
    if ((unsigned)table >= REGBANK_NTABLES)
        return 0;
    const regbank_table_t *t = &bank->t[table];
    if (count == 0 || t->count == 0 || addr < t->start || addr - t->start > t->count ||
        count > t->count - (addr - t->start))
        return 0;
    uint8_t need = (uint8_t)(REGBANK_DEFINED | (want_writable ? REGBANK_WRITABLE : 0));
    for (uint32_t i = 0; i < count; i++) {
        if ((t->flags[addr - t->start + i] & need) != need)
            return 0;
    }
    return 1;
}

int regbank_get(const regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint16_t *v)
{
    if (!regbank_covers(bank, table, addr, 1, 0))
        return ACS_ENOTFOUND;
    *v = bank->t[table].value[addr - bank->t[table].start];
    return 0;
}

int regbank_set(regbank_t *bank, regbank_table_id_t table, uint32_t addr, uint16_t v)
{
    if (!regbank_covers(bank, table, addr, 1, 0))
        return ACS_ENOTFOUND;
    if (table == REGBANK_COIL || table == REGBANK_DISCRETE)
        v = v != 0;
    bank->t[table].value[addr - bank->t[table].start] = v;
    return 0;
}

static const struct {
    const char *name;
    const char *alias;
    const char *alias2;
} table_names[REGBANK_NTABLES] = {
    [REGBANK_COIL] = {"coil", "co", "coils"},
    [REGBANK_DISCRETE] = {"discrete", "di", "discrete_input"},
    [REGBANK_INPUT] = {"input", "ir", "input_register"},
    [REGBANK_HOLDING] = {"holding", "hr", "holding_register"},
};

int regbank_table_parse(const char *name, regbank_table_id_t *table)
{
    for (int i = 0; i < REGBANK_NTABLES; i++) {
        if (strcmp(name, table_names[i].name) == 0 || strcmp(name, table_names[i].alias) == 0 ||
            strcmp(name, table_names[i].alias2) == 0) {
            *table = (regbank_table_id_t)i;
            return 0;
        }
    }
    return ACS_EINVAL;
}

const char *regbank_table_name(regbank_table_id_t table)
{
    return (unsigned)table < REGBANK_NTABLES ? table_names[table].name : "?";
}
