/* SPDX-License-Identifier: MIT */
/*
 * sla.c - the SLA timer of sla.h: one uv_timer and at most one acs_sla_tick() query in
 * flight.
 */
#include "sla.h"

#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "log.h"

#define SLA_BATCH       "1000"
#define SLA_BATCH_N     1000
#define SLA_MAX_WAIT_MS 60000
#define SLA_RETRY_MS    1000
#define SLA_POKE_MS     20

struct sla_timer {
    uv_timer_t timer;
    db_pool_t *pool;
    db_query_t *pending;
    int querying;
    int again;
    int closing;
    int failing; /* the last tick failed: say so once, not every second of an outage */
    sla_stats_t stats;
};

static void tick(sla_timer_t *t);

static void on_timer(uv_timer_t *h)
{
    tick(h->data);
}

static void arm(sla_timer_t *t, uint64_t ms)
{
    if (!t->closing)
        uv_timer_start(&t->timer, on_timer, ms, 0);
}

static void on_tick_done(int err, PGresult *res, void *arg)
{
    sla_timer_t *t = arg;
    t->pending = NULL;
    t->querying = 0;
    if (t->closing)
        return;
    if (err != 0) {
        t->stats.failures++;
        log_warn("SLA timer: could not read due clocks (%s); retrying in %d ms", acs_strerror(err),
                 SLA_RETRY_MS);
        arm(t, SLA_RETRY_MS);
        return;
    }
    t->stats.ticks++;
    uint64_t wait = SLA_MAX_WAIT_MS;
    int marks = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        const char *kind = PQgetvalue(res, i, 2);
        if (strcmp(kind, "next") == 0) {
            if (!PQgetisnull(res, i, 4)) {
                long long ms = atoll(PQgetvalue(res, i, 4));
                wait = ms < 0 ? 0 : ms > SLA_MAX_WAIT_MS ? SLA_MAX_WAIT_MS : (uint64_t)ms;
            }
            continue;
        }
        marks++;
        if (strcmp(kind, "breach") == 0) {
            t->stats.breaches++;
            log_warn("SLA breach: ticket %s, %s clock (due %s); escalated to the head of support",
                     PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 3));
        } else {
            t->stats.warnings++;
            log_info("SLA warning: ticket %s, %s clock due %s", PQgetvalue(res, i, 0),
                     PQgetvalue(res, i, 1), PQgetvalue(res, i, 3));
        }
    }
    /* A full batch may have left more behind; a poke during the query may have news. */
    if (marks >= SLA_BATCH_N || t->again)
        wait = 0;
    t->again = 0;
    arm(t, wait);
}

static void tick(sla_timer_t *t)
{
    if (t->closing)
        return;
    if (t->querying) {
        t->again = 1;
        return;
    }
    static const char sql[] =
        "SELECT x.ticket_id, x.clock, x.kind, x.due,"
        "  CASE WHEN x.kind = 'next' AND x.due IS NOT NULL"
        "       THEN ceil(extract(epoch FROM x.due - clock_timestamp()) * 1000)::bigint END"
        " FROM acs_sla_tick($1::int) x";
    const char *params[] = {SLA_BATCH};
    int err = db_query(t->pool, sql, 1, params, on_tick_done, t, &t->pending);
    if (err != 0) {
        t->stats.failures++;
        arm(t, SLA_RETRY_MS);
        return;
    }
    t->querying = 1;
}

int sla_timer_new(uv_loop_t *loop, db_pool_t *pool, sla_timer_t **out)
{
    *out = NULL;
    sla_timer_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ACS_ENOMEM;
    t->pool = pool;
    uv_timer_init(loop, &t->timer);
    t->timer.data = t;
    arm(t, 0);
    *out = t;
    return 0;
}

void sla_timer_poke(sla_timer_t *t)
{
    if (t == NULL || t->closing)
        return;
    if (t->querying) {
        t->again = 1;
        return;
    }
    arm(t, SLA_POKE_MS);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void sla_timer_close(sla_timer_t *t)
{
    if (t == NULL || t->closing)
        return;
    t->closing = 1;
    if (t->pending != NULL)
        db_query_abandon(t->pending);
    uv_close((uv_handle_t *)&t->timer, on_closed);
}

void sla_timer_stats(const sla_timer_t *t, sla_stats_t *out)
{
    if (t == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = t->stats;
}
