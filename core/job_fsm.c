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

#include <string.h>

#define BIT(s) (1u << (s))

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

static const struct {
    unsigned sources; /* BIT(status) for each state the action may start from */
    job_status_t to;
} transitions[JOB_ACTION_COUNT] = {
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
static const job_action_t display_order[JOB_ACTION_COUNT] = {
    JOB_ACT_EN_ROUTE,      JOB_ACT_ON_SITE, JOB_ACT_DONE,
    JOB_ACT_NEEDS_REVISIT, JOB_ACT_ASSIGN,  JOB_ACT_CANCEL,
};

static const unsigned outcome_sources = BIT(JOB_ON_SITE) | BIT(JOB_DONE) | BIT(JOB_NEEDS_REVISIT);

static const char *const kinds[] = {"visit", "installation", "commissioning"};

static int status_ok(job_status_t s)
{
    return (unsigned)s < JOB_STATUS_COUNT;
}

static int action_ok(job_action_t a)
{
    return (unsigned)a < JOB_ACTION_COUNT;
}

/* Append `s` at *pos in buf, keeping room for the NUL. Return 0, or -1 if it does not fit. */
static int append(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (n >= len - *pos)
        return -1;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 0;
}

/* Write the PostgreSQL array literal of the states in `mask`. Return its length or
 * ACS_EINVAL with buf holding "". */
static int mask_literal(unsigned mask, char *buf, size_t len)
{
    size_t pos = 0;
    const char *sep = "";
    if (append(buf, len, &pos, "{") < 0)
        goto fail;
    for (int s = 0; s < JOB_STATUS_COUNT; s++) {
        if ((mask & BIT(s)) == 0)
            continue;
        if (append(buf, len, &pos, sep) < 0 || append(buf, len, &pos, status_names[s]) < 0)
            goto fail;
        sep = ",";
    }
    if (append(buf, len, &pos, "}") < 0)
        goto fail;
    return (int)pos;
fail:
    buf[0] = '\0';
    return ACS_EINVAL;
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
    if (name == NULL || out == NULL)
        return ACS_EINVAL;
    for (int s = 0; s < JOB_STATUS_COUNT; s++) {
        if (strcmp(name, status_names[s]) == 0) {
            *out = (job_status_t)s;
            return 0;
        }
    }
    return ACS_EINVAL;
}

int job_action_parse(const char *name, job_action_t *out)
{
    if (name == NULL || out == NULL)
        return ACS_EINVAL;
    for (int a = 0; a < JOB_ACTION_COUNT; a++) {
        if (strcmp(name, action_names[a]) == 0) {
            *out = (job_action_t)a;
            return 0;
        }
    }
    return ACS_EINVAL;
}

int job_transition(job_status_t from, job_action_t action, job_status_t *to)
{
    if (!status_ok(from) || !action_ok(action) || to == NULL)
        return ACS_EINVAL;
    if ((transitions[action].sources & BIT(from)) == 0)
        return ACS_ECONFLICT;
    *to = transitions[action].to;
    return 0;
}

unsigned job_action_sources(job_action_t action)
{
    return action_ok(action) ? transitions[action].sources : 0;
}

int job_action_sources_literal(job_action_t action, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    if (!action_ok(action))
        return ACS_EINVAL;
    return mask_literal(transitions[action].sources, buf, len);
}

int job_allowed_actions(job_status_t from, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    if (!status_ok(from))
        return ACS_EINVAL;
    size_t pos = 0;
    int count = 0;
    for (int i = 0; i < JOB_ACTION_COUNT; i++) {
        job_action_t a = display_order[i];
        if ((transitions[a].sources & BIT(from)) == 0)
            continue;
        if (append(buf, len, &pos, count > 0 ? ", " : "") < 0 ||
            append(buf, len, &pos, action_names[a]) < 0)
            goto fail;
        count++;
    }
    if (count == 0 && append(buf, len, &pos, "none") < 0)
        goto fail;
    return count;
fail:
    buf[0] = '\0';
    return ACS_EINVAL;
}

unsigned job_outcome_sources(void)
{
    return outcome_sources;
}

int job_outcome_sources_literal(char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    return mask_literal(outcome_sources, buf, len);
}

int job_kind_valid(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(name, kinds[i]) == 0)
            return 1;
    }
    return 0;
}
