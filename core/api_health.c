/* SPDX-License-Identifier: MIT */
/*
 * api_health.c - the service's own endpoints: /healthz (no token: is the service up and
 * can it reach PostgreSQL), /metrics (Prometheus text) and /api/v1/me (who am I).
 *
 * /healthz answers from the pool's state without a query, so that a load balancer polling
 * it costs nothing; the pool learns of a lost server from its sockets within moments.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api.h"
#include "server.h"

static void healthz(api_req_t *r)
{
    db_pool_stats_t st;
    db_pool_stats(r->srv->db, &st);
    int up = db_pool_is_up(r->srv->db);
    char body[320];
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"%s\",\"database\":\"%s\",\"shutting_down\":%s,"
                     "\"pool\":{\"size\":%u,\"idle\":%u,\"busy\":%u,\"connecting\":%u,"
                     "\"down\":%u,\"queued\":%zu}}",
                     up ? "ok" : "degraded", up ? "up" : "down",
                     r->srv->shutting_down ? "true" : "false", st.size, st.idle, st.busy,
                     st.connecting, st.down, st.queued);
    if (!up) {
        h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("2"));
    }
    api_reply_json(r, up ? 200 : 503, body, (size_t)n);
}

static void metrics(api_req_t *r)
{
    metrics_gauges_t g = {.inflight = r->srv->inflight,
                          .event_streams = sse_hub_clients(r->srv->sse)};
    db_pool_stats(r->srv->db, &g.pool);
    sla_timer_stats(r->srv->sla, &g.sla);
    webhook_sender_stats(r->srv->webhooks, &g.webhooks);
    char *text;
    size_t len;
    if (metrics_render(&r->srv->metrics, &g, &text, &len) != 0) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory rendering metrics");
        return;
    }
    api_reply_text(r, 200, "text/plain; version=0.0.4", text, len);
    free(text);
}

static void on_me(api_req_t *r, int err, PGresult *res)
{
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        api_problem(r, 401, "unauthorized", NULL, NULL, "the token's user no longer exists");
        return;
    }
    api_reply_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

static void me_start(api_req_t *r)
{
    const char *params[] = {r->user.id};
    api_query(r,
              "SELECT json_build_object('id', id, 'name', name, 'role', role, 'skills', skills,"
              " 'region', region, 'email', email, 'phone', phone)::text"
              " FROM app_user WHERE id = $1",
              1, params, on_me);
}

void api_health_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/healthz", ROLE_NONE, healthz, "healthz", NULL},
        {"GET", "/metrics", ROLE_ANY, metrics, "metrics", NULL},
        {"GET", "/api/v1/me", ROLE_ANY, me_start, "me", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
