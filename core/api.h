/* SPDX-License-Identifier: MIT */
/*
 * api.h - what every HTTP API handler uses: routes, the per-request context, replies
 * (JSON and application/problem+json), body and query validation, and database queries
 * bound to the request.
 *
 * A resource lives in one file (api_tickets.c, ...) with one public api_*_register() that
 * adds its routes; everything else in it is static. A handler runs on the loop thread; it
 * either replies at once or starts a query with api_query() and replies from its callback.
 * The request context is allocated in the h2o request's pool: when the client goes away
 * before the reply, the pending query is abandoned and its callback never runs.
 */
#ifndef ACS_API_H
#define ACS_API_H

#include <h2o.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdint.h>

#include "db.h"
#include "jsonv.h"
#include "qs.h"

typedef enum {
    ROLE_ADMIN = 1u << 0,
    ROLE_HEAD = 1u << 1,
    ROLE_DISPATCHER = 1u << 2,
    ROLE_ENGINEER = 1u << 3,
    ROLE_SENIOR = 1u << 4
} role_t;

#define ROLE_ANY  (ROLE_ADMIN | ROLE_HEAD | ROLE_DISPATCHER | ROLE_ENGINEER | ROLE_SENIOR)
#define ROLE_NONE 0u /* route needs no token */

/* Role name as stored ("dispatcher"), or NULL. */
const char *role_name(role_t role);
/* Parse a role name; 0 if unknown. */
role_t role_parse(const char *name);

typedef struct api_req api_req_t;
typedef struct server server_t;
typedef void (*api_handler_fn)(api_req_t *r);

#define API_MAX_PATH_PARAMS 4

typedef struct {
    const char *method;  /* "GET", "POST", "PATCH" */
    const char *pattern; /* "/api/v1/tickets/{}" : each {} matches one path segment */
    unsigned roles;      /* roles allowed; ROLE_NONE: no token needed */
    api_handler_fn fn;
    const char *name; /* route label for metrics: "tickets.get" */
    const void *arg;  /* the handler's own data, e.g. an api_resource_t */
} api_route_t;

typedef struct {
    char id[37];
    char name[201];
    role_t role;
} api_user_t;

struct api_req {
    h2o_req_t *req; /* NULL once the client went away */
    server_t *srv;
    const api_route_t *route;
    char *path[API_MAX_PATH_PARAMS]; /* matched {} segments, decoded, NUL-terminated */
    size_t npath;
    api_user_t user;
    json_t *body; /* set by api_body_check */
    qs_t qs;      /* set by api_query_check */
    db_query_t *pending;
    uint64_t started_ns;
    int replied;
    void *data;            /* handler's own state, usually in the request pool */
    void (*data_cb)(void); /* api_query's callback while a query is pending */
    const char *cache_key; /* set by api_list_query on a cache miss */
    size_t cache_key_len;
    uint64_t cache_gen;
};

/* Routing table (http.c). Routes are matched in the order they were added. */
void api_route_add(server_t *srv, const api_route_t *route);

/* The resources; each adds its routes (api_health.c, api_clients.c, ...). */
void api_health_register(server_t *srv);
void api_clients_register(server_t *srv);
void api_sites_register(server_t *srv);
void api_devices_register(server_t *srv);
void api_tickets_register(server_t *srv);
void api_jobs_register(server_t *srv);
void api_calendars_register(server_t *srv);
void api_events_register(server_t *srv);
void api_diag_register(server_t *srv);
/* Stop running diagnostic sessions (SIGTERM): they end partial once their current Modbus
 * transaction is over. */
void api_diag_shutdown(server_t *srv);
void api_metrics_register(server_t *srv);
void api_feedback_register(server_t *srv);
void api_webhooks_register(server_t *srv);
/* Dispatch (api_dispatch.c, api_engineers.c, api_projects.c; docs/dispatch.md). */
void api_dispatch_register(server_t *srv);
void api_engineers_register(server_t *srv);
void api_projects_register(server_t *srv);
/* SIGTERM: answer the plans still running on worker threads with 503 (their result is
 * dropped when the worker ends). */
void api_dispatch_shutdown(server_t *srv);
/* Firmware images, updates and the fleet (api_firmware.c; docs/firmware.md). */
void api_firmware_register(server_t *srv);
/* SIGTERM: stop the update progress timer; running updates end and are stored. */
void api_firmware_shutdown(server_t *srv);
/* POST /api/v1/jobs/{id}/assign: the assignment checked by the planner (api_dispatch.c). */
void api_dispatch_assign(api_req_t *r);

/* --- replies (each sends exactly once; later calls are ignored) ------------------------ */

/* Send body (copied) with the given status and Content-Type application/json. */
void api_reply_json(api_req_t *r, int status, const char *body, size_t len);

/* Same, with a Location header (for 201). */
void api_reply_created(api_req_t *r, const char *location, const char *body, size_t len);

/* Send application/problem+json. `type` is the slug after "/problems/" ("validation");
 * field (may be NULL) goes into "field"; extra (may be NULL, reference stolen) is merged into
 * the object; detail is printf-formatted. */
void api_problem(api_req_t *r, int status, const char *type, const char *field, json_t *extra,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Send the reply that a database error calls for: 503 with Retry-After for an unavailable
 * database, 400/409 for constraint violations (named in the detail), 500 otherwise. */
void api_reply_db_error(api_req_t *r, int err, const PGresult *res);

/* Run a create statement whose result row is (outcome, object JSON, id) and reply: outcome
 * "created" gives 201 with Location <collection>/<id>, "replay" 200 with the stored object,
 * "conflict" 409 naming the id. `what` names the resource in messages ("ticket"). When a
 * concurrent create of the same id commits while the statement waits on it, the statement's
 * snapshot cannot see that row and returns nothing: it is then run once more. The params are
 * copied. */
int api_create(api_req_t *r, const char *sql, int nparams, const char *const *params,
               const char *what, const char *collection);

/* Reply 200 with column 0 of the single row of res, or 404 "no <what> with id <path[0]>"
 * when there is no row; database errors as api_reply_db_error. */
void api_reply_row(api_req_t *r, int err, PGresult *res, const char *what);

/* 409 for an illegal transition: "<what> <id> is <status>; <action> is allowed from ...",
 * with "status" and "allowed" (array, from the comma-separated allowed_csv, "none" = []). */
void api_reply_transition_conflict(api_req_t *r, const char *what, const char *action,
                                   const char *status, const char *allowed_csv);

/* Send a text/plain reply (metrics). */
void api_reply_text(api_req_t *r, int status, const char *content_type, const char *body,
                    size_t len);

/* --- input ------------------------------------------------------------------------------ */

/* Parse and check the JSON body against fields (see jsonv.h); sets r->body. Return 0, or a
 * negative code after replying 400/415. An absent body is treated as {} when allow_empty. */
int api_body_check(api_req_t *r, const jv_field_t *fields, size_t nfields, jv_mode_t mode,
                   int allow_empty);

/* Parse the query string and check its names against allowed (NULL-terminated); sets r->qs.
 * Return 0, or a negative code after replying 400. */
int api_query_check(api_req_t *r, const char *const *allowed);

/* Check that path parameter i is a UUID; if not, reply 404 "no <what> with id ..." and
 * return a negative code. */
int api_path_uuid(api_req_t *r, size_t i, const char *what);

/* Read limit (1..200, default 50) and cursor ("<epoch-microseconds>_<uuid>") from r->qs into
 * text parameters: limit_out (size >= 8), cursor_ts_out and cursor_id_out (NULL when absent;
 * they point into the request pool). Return 0, or a negative code after replying 400. */
int api_list_params(api_req_t *r, char *limit_out, const char **cursor_ts_out,
                    const char **cursor_id_out);

/* Serialise a JSON value compactly into the request pool (NULL value gives NULL). */
const char *api_json_text(api_req_t *r, const json_t *v);

/* --- database --------------------------------------------------------------------------- */

typedef void (*api_query_cb)(api_req_t *r, int err, PGresult *res);

/* Run sql with text params for this request. cb runs on the loop unless the client went away.
 * If the query cannot even be queued, this replies 503 itself and returns a negative code
 * (cb is not called). */
int api_query(api_req_t *r, const char *sql, int nparams, const char *const *params,
              api_query_cb cb);

/* Run a list statement whose result is one row holding the whole JSON reply, and reply 200
 * with it. Replies come from the list cache (cache.h) when a fresh one is there for this
 * route, the caller's visibility (engineers see their own objects) and this query string. */
int api_list_query(api_req_t *r, const char *sql, int nparams, const char *const *params);

/*
 * A resource with the usual create / get / update, described once and served by the generic
 * handlers below (pass the description as the route's arg). Statements:
 *   sql_create: $1 body (jsonb), $2 actor; returns (outcome, object JSON, id), see api_create;
 *   sql_get:    $1 id; returns the object JSON, or no row;
 *   sql_update: $1 id, $2 body (jsonb), $3 actor; returns the object JSON, or no row.
 */
typedef struct {
    const char *what;       /* "client": used in messages */
    const char *collection; /* "/api/v1/clients": for Location */
    const jv_field_t *fields;
    size_t nfields;
    const char *sql_create;
    const char *sql_get;
    const char *sql_update;
    /* Optional: further checks of a create body after the field table's; return 0, or a
     * negative code after replying. */
    int (*check_create)(api_req_t *r);
    /* Optional: answer an update's database error specially; return 1 if it replied. */
    int (*update_error)(api_req_t *r, int err, const PGresult *res);
} api_resource_t;

void api_resource_create(api_req_t *r);
void api_resource_get(api_req_t *r);
void api_resource_update(api_req_t *r);

/* The JSON reply of every keyset-paginated list statement: its CTE `page` holds up to
 * limit + 1 rows ($1 is the limit), newest first by (created_at, id); the extra row only says
 * that there is a next page, whose cursor is the last row shown. */
#define API_LIST_REPLY                                                                             \
    " SELECT json_build_object("                                                                   \
    "   'items', coalesce((SELECT json_agg(row_to_json(p) ORDER BY p.created_at DESC, p.id DESC)"  \
    "                      FROM (SELECT * FROM page ORDER BY created_at DESC, id DESC"             \
    "                            LIMIT $1::int) p), '[]'::json),"                                  \
    "   'next_cursor', CASE WHEN (SELECT count(*) FROM page) > $1::int THEN"                       \
    "     (SELECT acs_cursor(p.created_at, p.id) FROM page p"                                      \
    "      ORDER BY p.created_at DESC, p.id DESC OFFSET $1::int - 1 LIMIT 1) END)::text"

/* Read query parameter `param` as a comma-separated list of names accepted by valid() into
 * the array literal "{a,b}" in out (*result = out), or *result = NULL when absent. Return 0,
 * or a negative code after replying 400 that lists `choices`. */
int api_query_enum_list(api_req_t *r, const char *param, int (*valid)(const char *),
                        const char *choices, char *out, size_t outlen, const char **result);

/* Check that each named query parameter, when given, satisfies ok(); else reply 400
 * "query parameter "x" must be <what>" and return a negative code. */
int api_query_check_values(api_req_t *r, const char *const *names, int (*ok)(const char *),
                           const char *what);

/* The caller's role may see only their own objects (engineer). */
static inline int api_is_engineer(const api_req_t *r)
{
    return r->user.role == ROLE_ENGINEER;
}

#endif
