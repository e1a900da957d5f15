/* SPDX-License-Identifier: MIT */
/*
 * sla.h - the SLA timer of one fieldd instance.
 *
 * The database decides what is due (acs_sla_tick in db/migrations/0005_sla_clocks.sql) and
 * records each warning and breach exactly once however many instances ask; this timer only
 * decides when to ask: at the next due instant the database reported, at most a minute later
 * (a safety net for a missed notification), and shortly after any clock changes anywhere
 * (sla_timer_poke, called on the 'ticket_sla' notification).
 *
 *   IDLE --timer fires / poke--> QUERYING --result--> IDLE (timer armed for the next due)
 *                                    |  poke while querying: ask again as soon as it ends
 *                                    +--database unavailable--> IDLE (retry in 1 s)
 */
#ifndef ACS_SLA_H
#define ACS_SLA_H

#include <uv.h>

#include "db.h"

typedef struct sla_timer sla_timer_t;

/* Start a timer on loop that asks pool. The first tick comes at once. Return 0 and set *out,
 * or ACS_ENOMEM with *out = NULL. */
int sla_timer_new(uv_loop_t *loop, db_pool_t *pool, sla_timer_t **out);

/* Something changed: ask the database soon (debounced by a few milliseconds). */
void sla_timer_poke(sla_timer_t *t);

/* Stop for good and free when the handle has closed. A query still pending completes into
 * nothing. NULL is a no-op. */
void sla_timer_close(sla_timer_t *t);

/* Counters for /metrics. */
typedef struct {
    unsigned long long ticks;
    unsigned long long warnings;
    unsigned long long breaches;
    unsigned long long failures;
} sla_stats_t;
void sla_timer_stats(const sla_timer_t *t, sla_stats_t *out);

#endif
