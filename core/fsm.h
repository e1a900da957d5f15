/* SPDX-License-Identifier: MIT */
/*
 * fsm.h - what the table-driven state machines (ticket_fsm.c, job_fsm.c) share: a
 * transition table of source masks, and the functions that turn it into names, PostgreSQL
 * array literals and "allowed actions" lists.
 */
#ifndef ACS_FSM_H
#define ACS_FSM_H

#include <stddef.h>

#define FSM_BIT(s) (1u << (s))

typedef struct {
    unsigned sources; /* FSM_BIT(status) for each state the action may start from */
    int to;
} fsm_transition_t;

typedef struct {
    const char *const *status_names;
    int nstatus;
    const char *const *action_names;
    int naction;
    const fsm_transition_t *transitions; /* naction entries */
    const int *display_order;            /* naction action indexes, or NULL for enum order */
} fsm_t;

/* Index of name in names[0..n), or -1 (also for NULL). */
int fsm_index(const char *const *names, int n, const char *name);

/* The PostgreSQL array literal of the statuses in mask ("{new,acknowledged}") into buf.
 * Return its length, or ACS_EINVAL with buf "" when buf is too small or NULL. */
int fsm_mask_literal(const fsm_t *m, unsigned mask, char *buf, size_t len);

/* The actions allowed from status `from`, comma-separated in display order, "none" when there
 * are none. Return their count, or ACS_EINVAL with buf "" (too small, or from out of range). */
int fsm_allowed_actions(const fsm_t *m, int from, char *buf, size_t len);

#endif
