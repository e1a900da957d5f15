/* SPDX-License-Identifier: MIT */
/*
 * range.c - fewest read requests for a set of registers (range.h).
 *
 * Registers are sorted by table and address, then swept left to right: a block grows while
 * the next register starts no further than max_gap past the block's end and the block stays
 * within the per-request limit. For intervals on a line that cannot be split, starting each
 * block at the first register not yet covered and taking as many as fit is optimal: any plan
 * must start a block no later than that register, and no plan's first block can reach
 * further.
 */
#include "range.h"

#include "acs_error.h"

#include <stdlib.h>

typedef struct {
    profile_table_t table;
    unsigned start, end; /* inclusive */
} span_t;

static int cmp_span(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static void emit(range_t *out, size_t cap, size_t *n, profile_table_t t, unsigned start,
                 unsigned end)
{
    if (*n < cap) {
        out[*n].table = t;
        out[*n].address = (uint16_t)start;
        out[*n].count = (uint16_t)(end - start + 1);
    }
    (*n)++;
}

int range_plan(const profile_reg_t *const *regs, size_t nregs, const range_opts_t *opts,
               range_t *out, size_t cap, size_t *n)
{
    if (n != NULL)
        *n = 0;
    if (n == NULL || (regs == NULL && nregs > 0) || (out == NULL && cap > 0))
        return ACS_EINVAL;
    unsigned max_regs = RANGE_MAX_REGISTERS, max_bits = RANGE_MAX_BITS, gap = 0;
    if (opts != NULL) {
        if (opts->max_registers > RANGE_MAX_REGISTERS || opts->max_bits > RANGE_MAX_BITS)
            return ACS_EINVAL;
        if (opts->max_registers > 0)
            max_regs = opts->max_registers;
        if (opts->max_bits > 0)
            max_bits = opts->max_bits;
        gap = opts->max_gap;
    }
    if (nregs == 0)
        return 0;
    span_t *spans = malloc(nregs * sizeof(*spans));
    if (spans == NULL)
        return ACS_ENOMEM;
    int rc = 0;
    for (size_t i = 0; i < nregs; i++) {
        const profile_reg_t *r = regs[i];
        if (r == NULL || (unsigned)r->table >= PROFILE_NTABLES || r->words == 0) {
            rc = ACS_EINVAL;
            goto done;
        }
        unsigned limit = r->table <= PROFILE_DISCRETE_INPUT ? max_bits : max_regs;
        if (r->words > limit) {
            rc = ACS_EINVAL;
            goto done;
        }
        spans[i].table = r->table;
        spans[i].start = r->address;
        spans[i].end = (unsigned)r->address + r->words - 1;
    }
    qsort(spans, nregs, sizeof(*spans), cmp_span);
    span_t cur = spans[0];
    for (size_t i = 1; i < nregs; i++) {
        const span_t *s = &spans[i];
        unsigned limit = s->table <= PROFILE_DISCRETE_INPUT ? max_bits : max_regs;
        unsigned end = s->end > cur.end ? s->end : cur.end;
        int near = s->start <= cur.end + 1 + gap;
        if (s->table == cur.table && near && end - cur.start + 1 <= limit) {
            cur.end = end;
            continue;
        }
        emit(out, cap, n, cur.table, cur.start, cur.end);
        cur = *s;
    }
    emit(out, cap, n, cur.table, cur.start, cur.end);
    if (*n > cap)
        rc = ACS_ETOOBIG;
done:
    free(spans);
    return rc;
}

int range_plan_profile(const profile_t *p, const range_opts_t *opts, range_t *out, size_t cap,
                       size_t *n)
{
    if (n != NULL)
        *n = 0;
    if (p == NULL || n == NULL)
        return ACS_EINVAL;
    if (p->nregs == 0)
        return 0;
    const profile_reg_t **regs = malloc(p->nregs * sizeof(*regs));
    if (regs == NULL)
        return ACS_ENOMEM;
    for (size_t i = 0; i < p->nregs; i++)
        regs[i] = &p->regs[i];
    int rc = range_plan(regs, p->nregs, opts, out, cap, n);
    free(regs);
    return rc;
}
