/* SPDX-License-Identifier: MIT */
/*
 * range.h - planning the fewest Modbus read transactions that cover a set of registers.
 *
 * A driver reads a profile's registers table by table. Each Modbus request reads one
 * contiguous block of one table, at most 125 registers (FC 03/04) or 2000 bits (FC 01/02), so
 * neighbouring registers are merged into one block. A register is never split across two
 * requests.
 *
 * Reading across a hole (an address the profile does not define) is only allowed up to
 * max_gap, which is 0 by default: acsfield devices - and acs-sim - answer a request that
 * touches a hole with exception 02 (illegal data address), as many real devices do. A larger
 * max_gap is for devices known to answer holes with zeros.
 */
#ifndef ACS_RANGE_H
#define ACS_RANGE_H

#include "profile.h"

#include <stddef.h>
#include <stdint.h>

/* Modbus limits per request. */
#define RANGE_MAX_REGISTERS 125
#define RANGE_MAX_BITS      2000

/* One read request: `count` registers or bits of `table` from `address`. */
typedef struct {
    profile_table_t table;
    uint16_t address;
    uint16_t count;
} range_t;

typedef struct {
    uint16_t max_registers; /* per request, 1..125; 0 means 125 */
    uint16_t max_bits;      /* per request, 1..2000; 0 means 2000 */
    uint16_t max_gap;       /* largest hole (unmapped registers or bits) read across to merge
                               two blocks; 0 = only touching blocks merge */
} range_opts_t;

/*
 * Plan reads for regs[0..nregs-1] (any order, any tables, duplicates allowed; event log
 * fields are not registers and must not be passed). opts may be NULL (125 / 2000, gap 0).
 * Writes the requests to out[0..cap-1], ordered by table then address, and their number to
 * *n. Returns 0; ACS_EINVAL for a NULL argument, limits above the Modbus ones, or a register
 * wider than the per-request limit; ACS_ETOOBIG when more than cap requests are needed (*n
 * then holds the number needed, out the first cap); ACS_ENOMEM.
 * The plan is the fewest requests under those limits for a greedy left-to-right sweep, which
 * is optimal for intervals on a line.
 */
int range_plan(const profile_reg_t *const *regs, size_t nregs, const range_opts_t *opts,
               range_t *out, size_t cap, size_t *n);

/* Plan reads for every register of p (the event log window excluded). Same returns. */
int range_plan_profile(const profile_t *p, const range_opts_t *opts, range_t *out, size_t cap,
                       size_t *n);

#endif
