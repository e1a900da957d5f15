/* SPDX-License-Identifier: MIT */
/*
 * server.h - `fieldd serve`: the long-running service, and the state its parts share
 * (event loop, h2o context, database pool, routes, metrics, the token cache).
 */
#ifndef ACS_SERVER_H
#define ACS_SERVER_H

#include <h2o.h>
#include <uv.h>

#include "api.h"
#include "auth.h"
#include "cache.h"
#include "db.h"
#include "metrics.h"
#include "sla.h"
#include "sse.h"
#include "webhook.h"

#define SERVER_MAX_BODY (1024u * 1024u)

struct server {
    uv_loop_t *loop;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    int listening;
    db_pool_t *db;
    api_route_t *routes;
    size_t nroutes;
    size_t routes_cap;
    metrics_t metrics;
    auth_cache_t auth;
    cache_t *cache;             /* list responses; NULL when FIELDD_LIST_CACHE=0 */
    sla_timer_t *sla;           /* NULL when FIELDD_SLA_TIMER=0, and once shutting down */
    sse_hub_t *sse;             /* live event streams; NULL once shutting down */
    webhook_sender_t *webhooks; /* NULL when FIELDD_WEBHOOKS=0, and once shutting down */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    uv_timer_t drain_timer;
    unsigned inflight;
    unsigned connections;
    struct server_conn *conns; /* open client connections, for closing them at shutdown */
    int shutting_down;
    int closing_conns;
    uint64_t drain_deadline_ms;
    char listen_addr[64];
};

/* Run the service until SIGTERM/SIGINT. Return the process exit status. */
int server_main(int argc, char **argv);

/* The h2o handler that routes every request (http.c). */
int http_on_req(h2o_handler_t *self, h2o_req_t *req);

/* Called by http.c when a request's context is released (drain accounting). */
void server_request_done(server_t *srv);

#endif
