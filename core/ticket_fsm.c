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

#include <string.h>

#define BIT(s) (1u << (s))

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

static const struct {
    unsigned sources; /* BIT(status) for each state the action may start from */
    ticket_status_t to;
} transitions[TICKET_ACTION_COUNT] = {
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
    if (name == NULL || out == NULL)
        return ACS_EINVAL;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++) {
        if (strcmp(name, status_names[s]) == 0) {
            *out = (ticket_status_t)s;
            return 0;
        }
    }
    return ACS_EINVAL;
}

int ticket_action_parse(const char *name, ticket_action_t *out)
{
    if (name == NULL || out == NULL)
        return ACS_EINVAL;
    for (int a = 0; a < TICKET_ACTION_COUNT; a++) {
        if (strcmp(name, action_names[a]) == 0) {
            *out = (ticket_action_t)a;
            return 0;
        }
    }
    return ACS_EINVAL;
}

int ticket_transition(ticket_status_t from, ticket_action_t action, ticket_status_t *to)
{
    if (!status_ok(from) || !action_ok(action) || to == NULL)
        return ACS_EINVAL;
    if ((transitions[action].sources & BIT(from)) == 0)
        return ACS_ECONFLICT;
    *to = transitions[action].to;
    return 0;
}

unsigned ticket_action_sources(ticket_action_t action)
{
    return action_ok(action) ? transitions[action].sources : 0;
}

int ticket_action_sources_literal(ticket_action_t action, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    if (!action_ok(action))
        return ACS_EINVAL;
    size_t pos = 0;
    const char *sep = "";
    if (append(buf, len, &pos, "{") < 0)
        goto fail;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++) {
        if ((transitions[action].sources & BIT(s)) == 0)
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

int ticket_allowed_actions(ticket_status_t from, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return ACS_EINVAL;
    buf[0] = '\0';
    if (!status_ok(from))
        return ACS_EINVAL;
    size_t pos = 0;
    int count = 0;
    for (int a = 0; a < TICKET_ACTION_COUNT; a++) {
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

int ticket_category_valid(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++) {
        if (strcmp(name, categories[i]) == 0)
            return 1;
    }
    return 0;
}
