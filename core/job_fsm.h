/* SPDX-License-Identifier: MIT */
/*
 * job_fsm.h - the job (visit, installation, commissioning) lifecycle as a pure state machine.
 *
 *   planned --assign--> assigned --en_route--> en_route --on_site--> on_site --done--> done
 *                        ^   |  \                 |                     |
 *                        |   |   +-----on_site----|-------------------->|--needs_revisit-->
 *                        +---+--------assign------+    (reassignment)         needs_revisit
 *   planned, assigned, en_route --cancel--> cancelled
 *
 *   action         from                                  to
 *   assign         planned, assigned, en_route           assigned
 *   en_route       assigned                              en_route
 *   on_site        assigned, en_route                    on_site
 *   done           on_site                               done
 *   needs_revisit  on_site                               needs_revisit
 *   cancel         planned, assigned, en_route           cancelled
 *
 * Recording an outcome is allowed from on_site, done and needs_revisit; from on_site it also
 * finishes the job (done, or needs_revisit when the outcome did not resolve the problem).
 */
#ifndef ACS_JOB_FSM_H
#define ACS_JOB_FSM_H

#include <stddef.h>

typedef enum {
    JOB_PLANNED,
    JOB_ASSIGNED,
    JOB_EN_ROUTE,
    JOB_ON_SITE,
    JOB_DONE,
    JOB_NEEDS_REVISIT,
    JOB_CANCELLED,
    JOB_STATUS_COUNT
} job_status_t;

typedef enum {
    JOB_ACT_ASSIGN,
    JOB_ACT_EN_ROUTE,
    JOB_ACT_ON_SITE,
    JOB_ACT_DONE,
    JOB_ACT_NEEDS_REVISIT,
    JOB_ACT_CANCEL,
    JOB_ACTION_COUNT
} job_action_t;

/* Names as stored and used in the API ("en_route", "needs_revisit", "cancel");
 * NULL for out-of-range values. */
const char *job_status_name(job_status_t status);
const char *job_action_name(job_action_t action);

/* Parse a name. Return 0 and set *out, or ACS_EINVAL (and leave *out unchanged). */
int job_status_parse(const char *name, job_status_t *out);
int job_action_parse(const char *name, job_action_t *out);

/* Return 0 and set *to when `action` is allowed from `from`; ACS_ECONFLICT otherwise;
 * ACS_EINVAL for out-of-range arguments. */
int job_transition(job_status_t from, job_action_t action, job_status_t *to);

/* Bit mask (1u << status) of the states from which `action` is allowed; 0 if out of range. */
unsigned job_action_sources(job_action_t action);

/* PostgreSQL array literal of the source states of `action` ("{assigned,en_route}").
 * Return the length written or ACS_EINVAL (buf then holds ""). */
int job_action_sources_literal(job_action_t action, char *buf, size_t len);

/* Comma-separated actions allowed from `from` ("en_route, on_site, assign, cancel"), "none"
 * when there are none. Return the count or ACS_EINVAL (buf then holds ""). */
int job_allowed_actions(job_status_t from, char *buf, size_t len);

/* Statuses from which an outcome may be recorded: mask and array literal. */
unsigned job_outcome_sources(void);
int job_outcome_sources_literal(char *buf, size_t len);

/* Return 1 if `name` is visit, installation or commissioning, else 0. */
int job_kind_valid(const char *name);

#endif
