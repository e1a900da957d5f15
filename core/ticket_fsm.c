/* SPDX-License-Identifier: MIT */
/*
 * ticket_fsm.c - the ticket lifecycle of ticket_fsm.h as data.
 *
 * The whole state machine is the table `transitions` below: for each action, the set of
 * states it may start from and the one state it leads to. Every other function here reads
 * that table, so the SQL guard (ticket_action_sources_literal), the API's "allowed actions"
 * hint and the transition check cannot disagree with one another.
 *
 *   action       from                                          to              checked by
 *   acknowledge  new                                           acknowledged    ticket_transition
 *   start        new, acknowledged                             in_progress     ticket_transition
 *   wait         in_progress                                   waiting_client  ticket_transition
 *   resume       waiting_client                                in_progress     ticket_transition
 *   resolve      acknowledged, in_progress, waiting_client     resolved        ticket_transition
 *   close        resolved                                      closed          ticket_transition
 *   reopen       resolved, closed                              in_progress     ticket_transition
 */
#include "ticket_fsm.h"

#include "acs_error.h"
#include "fsm.h"

#include <string.h>

#define BIT(s) FSM_BIT(s)

static const char *const status_names[TICKET_STATUS_COUNT] = {
    [TICKET_NEW] = "new",
    [TICKET_ACKNOWLEDGED] = "acknowledged",
    [TICKET_IN_PROGRESS] = "in_progress",
    [TICKET_WAITING_CLIENT] = "waiting_client",
    [TICKET_RESOLVED] = "resolved",
    [TICKET_CLOSED] = "closed",
};

static const char *const action_names[TICKET_ACTION_COUNT] = {
    [TICKET_ACT_ACKNOWLEDGE] = "acknowledge",
    [TICKET_ACT_START] = "start",
    [TICKET_ACT_WAIT] = "wait",
    [TICKET_ACT_RESUME] = "resume",
    [TICKET_ACT_RESOLVE] = "resolve",
    [TICKET_ACT_CLOSE] = "close",
    [TICKET_ACT_REOPEN] = "reopen",
};

static const fsm_transition_t transitions[TICKET_ACTION_COUNT] = {
    [TICKET_ACT_ACKNOWLEDGE] = {BIT(TICKET_NEW), TICKET_ACKNOWLEDGED},
    [TICKET_ACT_START] = {BIT(TICKET_NEW) | BIT(TICKET_ACKNOWLEDGED), TICKET_IN_PROGRESS},
    [TICKET_ACT_WAIT] = {BIT(TICKET_IN_PROGRESS), TICKET_WAITING_CLIENT},
    [TICKET_ACT_RESUME] = {BIT(TICKET_WAITING_CLIENT), TICKET_IN_PROGRESS},
    [TICKET_ACT_RESOLVE] = {BIT(TICKET_ACKNOWLEDGED) | BIT(TICKET_IN_PROGRESS) |
                                BIT(TICKET_WAITING_CLIENT),
                            TICKET_RESOLVED},
    [TICKET_ACT_CLOSE] = {BIT(TICKET_RESOLVED), TICKET_CLOSED},
    [TICKET_ACT_REOPEN] = {BIT(TICKET_RESOLVED) | BIT(TICKET_CLOSED), TICKET_IN_PROGRESS},
};

static const fsm_t machine = {status_names,        TICKET_STATUS_COUNT, action_names,
                              TICKET_ACTION_COUNT, transitions,         NULL};

static const char *const categories[] = {"emergency", "standard", "consultation"};

/* The enums may be unsigned or signed depending on the compiler; comparing through unsigned
 * catches negative values cast into them as well. */
static int status_ok(ticket_status_t s)
{
    return (unsigned)s < TICKET_STATUS_COUNT;
}

static int action_ok(ticket_action_t a)
{
    return (unsigned)a < TICKET_ACTION_COUNT;
}

const char *ticket_status_name(ticket_status_t status)
{
    return status_ok(status) ? status_names[status] : NULL;
}

const char *ticket_action_name(ticket_action_t action)
{
    return action_ok(action) ? action_names[action] : NULL;
}

int ticket_status_parse(const char *name, ticket_status_t *out)
{
    int i = fsm_index(status_names, TICKET_STATUS_COUNT, name);
    if (i < 0 || out == NULL)
        return ACS_EINVAL;
    *out = (ticket_status_t)i;
    return 0;
}

int ticket_action_parse(const char *name, ticket_action_t *out)
{
    int i = fsm_index(action_names, TICKET_ACTION_COUNT, name);
    if (i < 0 || out == NULL)
        return ACS_EINVAL;
    *out = (ticket_action_t)i;
    return 0;
}

int ticket_transition(ticket_status_t from, ticket_action_t action, ticket_status_t *to)
{
    if (!status_ok(from) || !action_ok(action) || to == NULL)
        return ACS_EINVAL;
    if ((transitions[action].sources & BIT(from)) == 0)
        return ACS_ECONFLICT;
    *to = (ticket_status_t)transitions[action].to;
    return 0;
}

unsigned ticket_action_sources(ticket_action_t action)
{
    return action_ok(action) ? transitions[action].sources : 0;
}

int ticket_action_sources_literal(ticket_action_t action, char *buf, size_t len)
{
    if (buf != NULL && len > 0)
        buf[0] = '\0';
    if (!action_ok(action))
        return ACS_EINVAL;
    return fsm_mask_literal(&machine, transitions[action].sources, buf, len);
}

int ticket_allowed_actions(ticket_status_t from, char *buf, size_t len)
{
    return fsm_allowed_actions(&machine, status_ok(from) ? (int)from : -1, buf, len);
}

int ticket_category_valid(const char *name)
{
    return fsm_index(categories, 3, name) >= 0;
}
