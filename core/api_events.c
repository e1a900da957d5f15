/* SPDX-License-Identifier: MIT */
/*
 * api_events.c - GET /api/v1/events: the live event stream (Server-Sent Events, sse.h) that
 * the dispatcher's board and the head of support's screen listen to: SLA warnings, breaches
 * and escalations as they are recorded, by whichever fieldd instance recorded them.
 */
#include "api.h"
#include "server.h"
#include "sse.h"

static void events(api_req_t *r)
{
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    if (r->srv->sse == NULL || r->srv->shutting_down) {
        api_problem(r, 503, "unavailable", NULL, NULL, "the service is shutting down");
        return;
    }
    /* The stream is the reply: count it now, as it may last for hours. */
    r->replied = 1;
    metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 200, 0.0);
    sse_hub_attach(r->srv->sse, r->req);
}

void api_events_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/api/v1/events", ROLE_ANY, events, "events", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
