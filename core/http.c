/* SPDX-License-Identifier: MIT */
/*
 * http.c - from an h2o request to an API handler: the route table, the per-request context
 * and its lifetime, authentication and role checks.
 *
 * Every request goes through http_on_req():
 *   1. allocate the api_req_t in the request's pool, with a dispose callback that abandons a
 *      pending database query if the client goes away first, and counts the request done;
 *   2. refuse bodies over 1 MiB (413) before anything else reads them;
 *   3. match the route (404 for an unknown path, 405 with Allow for a known path);
 *   4. authenticate (auth.c) unless the route is public, then check the role (403);
 *   5. call the handler, which replies now or from a database callback.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"
#include "api.h"
#include "log.h"
#include "server.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void api_route_add(server_t *srv, const api_route_t *route)
{
    if (srv->nroutes == srv->routes_cap) {
        size_t ncap = srv->routes_cap ? srv->routes_cap * 2 : 32;
        api_route_t *p = realloc(srv->routes, ncap * sizeof(*p));
        if (p == NULL) {
            log_error("out of memory adding route %s", route->name);
            abort();
        }
        srv->routes = p;
        srv->routes_cap = ncap;
    }
    srv->routes[srv->nroutes++] = *route;
}

/* Match path against pattern; on success store the {} segments (copied into the request
 * pool) and return 1. */
static int route_match(api_req_t *r, const char *pattern, const char *path, size_t path_len)
{
    size_t pi = 0;
    size_t xi = 0;
    size_t np = 0;
    const char *seg[API_MAX_PATH_PARAMS];
    size_t seg_len[API_MAX_PATH_PARAMS];

    while (pattern[pi] != '\0') {
        if (pattern[pi] == '{') {
            size_t start = xi;
            while (xi < path_len && path[xi] != '/')
                xi++;
            if (xi == start || np == API_MAX_PATH_PARAMS)
                return 0;
            seg[np] = path + start;
            seg_len[np] = xi - start;
            np++;
            pi += 2; /* "{}" */
            continue;
        }
        if (xi >= path_len || path[xi] != pattern[pi])
            return 0;
        pi++;
        xi++;
    }
    if (xi != path_len)
        return 0;
    if (r != NULL) {
        for (size_t i = 0; i < np; i++)
            r->path[i] = h2o_strdup(&r->req->pool, seg[i], seg_len[i]).base;
        r->npath = np;
    }
    return 1;
}

static void api_req_dispose(void *p)
{
    api_req_t *r = p;
    if (r->pending != NULL) {
        db_query_abandon(r->pending);
        r->pending = NULL;
    }
    if (!r->replied && r->route != NULL) {
        /* The client went away before the reply: count it as nginx does, 499. */
        double secs = (double)(now_ns() - r->started_ns) / 1e9;
        metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 499, secs);
    }
    r->req = NULL;
    if (r->body != NULL)
        json_decref(r->body);
    qs_free(&r->qs);
    server_request_done(r->srv);
}

static int method_is(const h2o_req_t *req, const char *m)
{
    size_t n = strlen(m);
    return req->method.len == n && memcmp(req->method.base, m, n) == 0;
}

static void run_handler(api_req_t *r)
{
    if ((r->route->roles & r->user.role) == 0) {
        api_problem(r, 403, "forbidden", NULL, NULL, "role %s may not %s %s",
                    role_name(r->user.role), r->route->method, r->route->pattern);
        return;
    }
    r->route->fn(r);
}

int http_on_req(h2o_handler_t *self, h2o_req_t *req)
{
    server_t *srv = *(server_t **)(self + 1);
    api_req_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), api_req_dispose);
    memset(r, 0, sizeof(*r));
    r->req = req;
    r->srv = srv;
    r->started_ns = now_ns();
    srv->inflight++;

    const char *path = req->path_normalized.base;
    size_t path_len = req->path_normalized.len;
    const api_route_t *found = NULL;
    char allow[128] = "";
    static const api_route_t not_found = {"*", "*", ROLE_NONE, NULL, "unmatched", NULL};

    for (size_t i = 0; i < srv->nroutes; i++) {
        const api_route_t *rt = &srv->routes[i];
        if (!route_match(NULL, rt->pattern, path, path_len))
            continue;
        if (method_is(req, rt->method)) {
            found = rt;
            break;
        }
        if (strstr(allow, rt->method) == NULL) {
            size_t n = strlen(allow);
            snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", rt->method);
        }
    }
    if (found == NULL) {
        r->route = &not_found;
        if (allow[0] != '\0') {
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ALLOW, NULL,
                           h2o_strdup(&req->pool, allow, SIZE_MAX).base, strlen(allow));
            api_problem(r, 405, "method-not-allowed", NULL, NULL,
                        "method %.*s is not allowed on %.*s (allowed: %s)", (int)req->method.len,
                        req->method.base, (int)path_len, path, allow);
        } else {
            api_problem(r, 404, "not-found", NULL, NULL, "no resource at %.*s", (int)path_len,
                        path);
        }
        return 0;
    }
    r->route = found;
    route_match(r, found->pattern, path, path_len);

    if (req->entity.base != NULL && req->entity.len > SERVER_MAX_BODY) {
        api_problem(r, 413, "too-large", NULL, NULL,
                    "request body is %zu bytes; the limit is %u bytes (1 MiB)", req->entity.len,
                    SERVER_MAX_BODY);
        return 0;
    }
    if (found->roles == ROLE_NONE) {
        found->fn(r);
        return 0;
    }
    auth_request(r, run_handler);
    return 0;
}
