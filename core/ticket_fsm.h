/* SPDX-License-Identifier: MIT */
/*
 * ticket_fsm.h - the ticket lifecycle as a pure state machine.
 *
 *   new --acknowledge--> acknowledged --start--> in_progress --wait--> waiting_client
 *    |                        |                   ^    |  ^                  |
 *    +---------start----------+-------------------+    |  +-----resume-------+
 *                             |                        |                     |
 *                             +------resolve-----------+-------resolve-------+
 *                                                      v
 *                                 closed <--close-- resolved
 *                                    |                 |
 *                                    +----reopen-------+----reopen--> in_progress
 *
 *   action       from                                          to
 *   acknowledge  new                                           acknowledged
 *   start        new, acknowledged                             in_progress
 *   wait         in_progress                                   waiting_client
 *   resume       waiting_client                                in_progress
 *   resolve      acknowledged, in_progress, waiting_client     resolved
 *   close        resolved                                      closed
 *   reopen       resolved, closed                              in_progress
 *
 * The service applies a transition in one SQL statement guarded by the source set
 * (ticket_action_sources), so two concurrent requests cannot both move the same ticket.
 */
#ifndef ACS_TICKET_FSM_H
#define ACS_TICKET_FSM_H

#include <stddef.h>

typedef enum {
    TICKET_NEW,
    TICKET_ACKNOWLEDGED,
    TICKET_IN_PROGRESS,
    TICKET_WAITING_CLIENT,
    TICKET_RESOLVED,
    TICKET_CLOSED,
    TICKET_STATUS_COUNT
} ticket_status_t;

typedef enum {
    TICKET_ACT_ACKNOWLEDGE,
    TICKET_ACT_START,
    TICKET_ACT_WAIT,
    TICKET_ACT_RESUME,
    TICKET_ACT_RESOLVE,
    TICKET_ACT_CLOSE,
    TICKET_ACT_REOPEN,
    TICKET_ACTION_COUNT
} ticket_action_t;

/* Names as stored in the database and used in the API ("waiting_client", "acknowledge").
 * An out-of-range value gives NULL. */
const char *ticket_status_name(ticket_status_t status);
const char *ticket_action_name(ticket_action_t action);

/* Parse a name. Return 0 and set *out, or ACS_EINVAL (and leave *out unchanged). */
int ticket_status_parse(const char *name, ticket_status_t *out);
int ticket_action_parse(const char *name, ticket_action_t *out);

/* Return 0 and set *to when `action` is allowed from `from`; ACS_ECONFLICT otherwise, *to
 * unchanged. ACS_EINVAL for out-of-range arguments. */
int ticket_transition(ticket_status_t from, ticket_action_t action, ticket_status_t *to);

/* Bit mask (1u << status) of the states from which `action` is allowed; 0 if out of range. */
unsigned ticket_action_sources(ticket_action_t action);

/* Write the PostgreSQL array literal of the source states of `action` into buf, e.g.
 * "{new,acknowledged}". Return the length written (excluding NUL) or ACS_EINVAL if buf is too
 * small or action out of range (buf then holds ""). */
int ticket_action_sources_literal(ticket_action_t action, char *buf, size_t len);

/* Write the actions allowed from `from` as a comma-separated list ("start, resolve") into buf,
 * "none" when there are none. Return the number of actions, or ACS_EINVAL if buf is too small
 * or `from` out of range (buf then holds ""). */
int ticket_allowed_actions(ticket_status_t from, char *buf, size_t len);

/* Ticket categories. Return 1 if `name` is emergency, standard or consultation, else 0. */
int ticket_category_valid(const char *name);

#endif
