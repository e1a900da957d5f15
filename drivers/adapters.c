/* SPDX-License-Identifier: MIT */
/*
 * adapters.c - the table of USB-serial bridge chips found in USB-RS485 adapters, and its
 * lookup by VID:PID (adapters.h). Pure: no I/O, no allocation.
 */
#include "adapters.h"

#include "acs_error.h"

#include <stdio.h>

static const adapter_info_t adapters[] = {
    {0x0403, 0x6001, "FTDI FT232R", "FTDI"},
    {0x0403, 0x6015, "FTDI FT-X", "FTDI"},
    {0x1a86, 0x7523, "WCH CH340", "WCH"},
    {0x1a86, 0x5523, "WCH CH341", "WCH"},
    {0x10c4, 0xea60, "Silicon Labs CP2102", "Silicon Labs"},
    {0x067b, 0x2303, "Prolific PL2303", "Prolific"},
};

const adapter_info_t *adapter_lookup(uint16_t vid, uint16_t pid)
{
    for (size_t i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
        if (adapters[i].vid == vid && adapters[i].pid == pid)
            return &adapters[i];
    return NULL;
}

int adapter_label(uint16_t vid, uint16_t pid, char *buf, size_t len)
{
    const adapter_info_t *a = adapter_lookup(vid, pid);
    if (len > 0)
        buf[0] = '\0';
    if (a == NULL)
        return ACS_ENOTFOUND;
    int n = snprintf(buf, len, "RS-485 adapter (%s)", a->chip);
    if (n < 0 || (size_t)n >= len)
        return ACS_ETOOBIG;
    return 0;
}

const adapter_info_t *adapter_table(size_t *n)
{
    *n = sizeof(adapters) / sizeof(adapters[0]);
    return adapters;
}
