/* SPDX-License-Identifier: MIT */
/*
 * adapters.h - recognise USB-RS485 adapters by their USB vendor and product ids. The table of
 * known bridge chips (FTDI, WCH, Silicon Labs, Prolific) lives in adapters.c; lookup is a pure
 * function, so `fieldctl ports` and its unit test (tests/unit/test_adapters.c) share it. A new
 * adapter is one more row in the table.
 */
#ifndef ACS_ADAPTERS_H
#define ACS_ADAPTERS_H

#include <stddef.h>
#include <stdint.h>

/* One known USB-serial bridge used in RS-485 adapters. Strings are static. */
typedef struct {
    uint16_t vid;
    uint16_t pid;
    const char *chip;   /* "FTDI FT232R" */
    const char *vendor; /* "FTDI" */
} adapter_info_t;

/* The known adapter with this VID:PID, or NULL. The result points into a static table. */
const adapter_info_t *adapter_lookup(uint16_t vid, uint16_t pid);

/*
 * Write the label a person reads, "RS-485 adapter (FTDI FT232R)", into buf (len bytes, always
 * NUL-terminated when len > 0). Returns 0, ACS_ENOTFOUND when the VID:PID is not known (buf
 * holds ""), or ACS_ETOOBIG when buf is too small (buf holds a truncated label).
 */
int adapter_label(uint16_t vid, uint16_t pid, char *buf, size_t len);

/* The table itself, for listings: *n rows. */
const adapter_info_t *adapter_table(size_t *n);

#endif
