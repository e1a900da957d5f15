/* SPDX-License-Identifier: MIT */
/*
 * job_fsm.c - the job lifecycle of job_fsm.h as data.
 *
 * As in ticket_fsm.c, the table `transitions` is the state machine and every function reads
 * it, so that the SQL guard, the "allowed actions" hint and the check agree.
 *
 *   action         from                                  to              checked by
 *   assign         planned, assigned, en_route           assigned        job_transition
 *   en_route       assigned                              en_route        job_transition
 *   on_site        assigned, en_route                    on_site         job_transition
 *   done           on_site                               done            job_transition
 *   needs_revisit  on_site                               needs_revisit   job_transition
 *   cancel         planned, assigned, en_route           cancelled       job_transition
 *   (outcome)      on_site, done, needs_revisit          -               job_outcome_sources
 */
#include "job_fsm.h"

#include "acs_error.h"
#include "fsm.h"

#include <string.h>

#define BIT(s) FSM_BIT(s)

static const char *const status_names[JOB_STATUS_COUNT] = {
    [JOB_PLANNED] = "planned",     [JOB_ASSIGNED] = "assigned",
    [JOB_EN_ROUTE] = "en_route",   [JOB_ON_SITE] = "on_site",
    [JOB_DONE] = "done",           [JOB_NEEDS_REVISIT] = "needs_revisit",
    [JOB_CANCELLED] = "cancelled",
};

static const char *const action_names[JOB_ACTION_COUNT] = {
    [JOB_ACT_ASSIGN] = "assign",
    [JOB_ACT_EN_ROUTE] = "en_route",
    [JOB_ACT_ON_SITE] = "on_site",
    [JOB_ACT_DONE] = "done",
    [JOB_ACT_NEEDS_REVISIT] = "needs_revisit",
    [JOB_ACT_CANCEL] = "cancel",
};

static const fsm_transition_t transitions[JOB_ACTION_COUNT] = {
    [JOB_ACT_ASSIGN] = {BIT(JOB_PLANNED) | BIT(JOB_ASSIGNED) | BIT(JOB_EN_ROUTE), JOB_ASSIGNED},
    [JOB_ACT_EN_ROUTE] = {BIT(JOB_ASSIGNED), JOB_EN_ROUTE},
    [JOB_ACT_ON_SITE] = {BIT(JOB_ASSIGNED) | BIT(JOB_EN_ROUTE), JOB_ON_SITE},
    [JOB_ACT_DONE] = {BIT(JOB_ON_SITE), JOB_DONE},
    [JOB_ACT_NEEDS_REVISIT] = {BIT(JOB_ON_SITE), JOB_NEEDS_REVISIT},
    [JOB_ACT_CANCEL] = {BIT(JOB_PLANNED) | BIT(JOB_ASSIGNED) | BIT(JOB_EN_ROUTE), JOB_CANCELLED},
};

/*
 * The order in which job_allowed_actions lists actions: the next step forward first, then
 * reassignment, then cancel, so that a person reading "en_route, on_site, assign, cancel"
 * sees the usual next move before the exceptional ones.
 */
static const int display_order[JOB_ACTION_COUNT] = {
    JOB_ACT_EN_ROUTE,      JOB_ACT_ON_SITE, JOB_ACT_DONE,
    JOB_ACT_NEEDS_REVISIT, JOB_ACT_ASSIGN,  JOB_ACT_CANCEL,
};

static const unsigned outcome_sources = BIT(JOB_ON_SITE) | BIT(JOB_DONE) | BIT(JOB_NEEDS_REVISIT);

static const fsm_t machine = {status_names,     JOB_STATUS_COUNT, action_names,
                              JOB_ACTION_COUNT, transitions,      display_order};

static const char *const kinds[] = {"visit", "installation", "commissioning"};

static int status_ok(job_status_t s)
{
    return (unsigned)s < JOB_STATUS_COUNT;
}

static int action_ok(job_action_t a)
{
    return (unsigned)a < JOB_ACTION_COUNT;
}

const char *job_status_name(job_status_t status)
{
    return status_ok(status) ? status_names[status] : NULL;
}

const char *job_action_name(job_action_t action)
{
    return action_ok(action) ? action_names[action] : NULL;
}

int job_status_parse(const char *name, job_status_t *out)
{
    int i = fsm_index(status_names, JOB_STATUS_COUNT, name);
    if (i < 0 || out == NULL)
        return ACS_EINVAL;
    *out = (job_status_t)i;
    return 0;
}

int job_action_parse(const char *name, job_action_t *out)
{
    int i = fsm_index(action_names, JOB_ACTION_COUNT, name);
    if (i < 0 || out == NULL)
        return ACS_EINVAL;
    *out = (job_action_t)i;
    return 0;
}

int job_transition(job_status_t from, job_action_t action, job_status_t *to)
{
    if (!status_ok(from) || !action_ok(action) || to == NULL)
        return ACS_EINVAL;
    if ((transitions[action].sources & BIT(from)) == 0)
        return ACS_ECONFLICT;
    *to = (job_status_t)transitions[action].to;
    return 0;
}

unsigned job_action_sources(job_action_t action)
{
    return action_ok(action) ? transitions[action].sources : 0;
}

int job_action_sources_literal(job_action_t action, char *buf, size_t len)
{
    if (buf != NULL && len > 0)
        buf[0] = '\0';
    if (!action_ok(action))
        return ACS_EINVAL;
    return fsm_mask_literal(&machine, transitions[action].sources, buf, len);
}

int job_allowed_actions(job_status_t from, char *buf, size_t len)
{
    return fsm_allowed_actions(&machine, status_ok(from) ? (int)from : -1, buf, len);
}

unsigned job_outcome_sources(void)
{
    return outcome_sources;
}

int job_outcome_sources_literal(char *buf, size_t len)
{
    return fsm_mask_literal(&machine, outcome_sources, buf, len);
}

int job_kind_valid(const char *name)
{
    return fsm_index(kinds, 3, name) >= 0;
}
