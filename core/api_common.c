/* SPDX-License-Identifier: MIT */
/*
 * api_common.c - the helpers of api.h shared by every resource: replies in JSON and
 * application/problem+json, request body and query checks, and database queries bound to a
 * request's lifetime.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"
#include "api.h"
#include "log.h"
#include "server.h"

const char *role_name(role_t role)
{
    switch (role) {
    case ROLE_ADMIN:
        return "admin";
    case ROLE_HEAD:
        return "head";
    case ROLE_DISPATCHER:
        return "dispatcher";
    case ROLE_ENGINEER:
        return "engineer";
    case ROLE_SENIOR:
        return "senior";
    }
    return NULL;
}

role_t role_parse(const char *name)
{
    static const role_t all[] = {ROLE_ADMIN, ROLE_HEAD, ROLE_DISPATCHER, ROLE_ENGINEER,
                                 ROLE_SENIOR};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(role_name(all[i]), name) == 0)
            return all[i];
    }
    return 0;
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static double elapsed_s(const api_req_t *r)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return (double)(now - r->started_ns) / 1e9;
}

/* Common tail of every reply. The request (and r with it) may be released inside
 * h2o_send_inline, so nothing touches r afterwards. */
static void reply(api_req_t *r, int status, const char *ctype, size_t ctype_len, const char *body,
                  size_t len)
{
    if (r->replied || r->req == NULL)
        return;
    r->replied = 1;
    h2o_req_t *req = r->req;
    /* A change answered here is visible to every later request of this instance at once;
     * other instances learn of it through NOTIFY. */
    if (status < 300 && r->srv->cache != NULL &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")))
        cache_invalidate(r->srv->cache);
    metrics_observe(&r->srv->metrics, r->route->name, r->route->method, status, elapsed_s(r));
    req->res.status = status;
    req->res.reason = reason_phrase(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, ctype, ctype_len);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL,
                   H2O_STRLIT("no-store"));
    h2o_send_inline(req, body, len);
}

void api_reply_json(api_req_t *r, int status, const char *body, size_t len)
{
    reply(r, status, H2O_STRLIT("application/json"), body, len);
}

void api_reply_text(api_req_t *r, int status, const char *content_type, const char *body,
                    size_t len)
{
    reply(r, status, content_type, strlen(content_type), body, len);
}

void api_reply_created(api_req_t *r, const char *location, const char *body, size_t len)
{
    if (r->req == NULL || r->replied)
        return;
    h2o_iovec_t loc = h2o_strdup(&r->req->pool, location, SIZE_MAX);
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_LOCATION, NULL, loc.base,
                   loc.len);
    api_reply_json(r, 201, body, len);
}

void api_problem(api_req_t *r, int status, const char *type, const char *field, json_t *extra,
                 const char *fmt, ...)
{
    if (r->req == NULL || r->replied) {
        if (extra != NULL)
            json_decref(extra);
        return;
    }
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);

    char type_uri[96];
    snprintf(type_uri, sizeof(type_uri), "/problems/%s", type);
    json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "type", type_uri, "title", reason_phrase(status),
                          "status", status, "detail", detail);
    if (o != NULL && field != NULL)
        json_object_set_new(o, "field", json_string(field));
    if (o != NULL && extra != NULL)
        json_object_update(o, extra);
    if (extra != NULL)
        json_decref(extra);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (text == NULL) {
        static const char fallback[] =
            "{\"type\":\"/problems/internal\",\"title\":\"Internal Server Error\","
            "\"status\":500,\"detail\":\"out of memory\"}";
        reply(r, 500, H2O_STRLIT("application/problem+json"), fallback, sizeof(fallback) - 1);
        return;
    }
    if (status == 401) {
        h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"acsfield\""));
    }
    if (status == 503) {
        h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                       H2O_STRLIT("2"));
    }
    h2o_iovec_t copy = h2o_strdup(&r->req->pool, text, SIZE_MAX);
    free(text);
    reply(r, status, H2O_STRLIT("application/problem+json"), copy.base, copy.len);
}

/* Constraint names of the schema, and what a violation means to the person who sent it. */
static const struct {
    const char *constraint;
    int status;
    const char *field;
    const char *detail;
} constraint_msgs[] = {
    {"site_client_id_fkey", 400, "client_id", "client %s does not exist"},
    {"device_site_id_fkey", 400, "site_id", "site %s does not exist"},
    {"project_site_id_client_id_fkey", 400, "site_id",
     "site %s does not exist or does not belong to the client"},
    {"ticket_site_id_client_id_fkey", 400, "site_id",
     "site %s does not exist or does not belong to the client"},
    {"ticket_device_id_site_id_fkey", 400, "device_id",
     "device %s does not exist or is not on the ticket's site"},
    {"job_site_id_fkey", 400, "site_id", "site %s does not exist"},
    {"job_ticket_id_fkey", 400, "ticket_id", "ticket %s does not exist"},
    {"job_project_id_fkey", 400, "project_id", "project %s does not exist"},
    {"job_ticket_site_fkey", 400, "ticket_id", "ticket %s does not exist or is on another site"},
    {"job_project_site_fkey", 400, "project_id", "project %s does not exist or is on another site"},
    {"ticket_crm_ref_key", 409, "crm_ref", "a ticket with crm_ref %s already exists"},
    {"client_crm_ref_key", 409, "crm_ref", "a client with crm_ref %s already exists"},
    /* PostgreSQL names the key as "(model, serial)=(TS-100, A1)"; key_value keeps the model. */
    {"device_model_serial_key", 409, "serial",
     "a device of model %s with this serial already exists"},
    {"site_time_zone_known", 400, "time_zone", "%s"},
};

/* The value PostgreSQL names in "Key (site_id, client_id)=(a, b) is not present", or the
 * whole detail. */
static void key_value(const PGresult *res, char *out, size_t len)
{
    const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *eq = d != NULL ? strstr(d, ")=(") : NULL;
    if (eq == NULL) {
        snprintf(out, len, "%s", d != NULL ? d : PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        return;
    }
    const char *start = eq + 3;
    const char *end = strchr(start, ')');
    size_t n = end != NULL ? (size_t)(end - start) : strlen(start);
    const char *comma = memchr(start, ',', n);
    if (comma != NULL)
        n = (size_t)(comma - start);
    snprintf(out, len, "%.*s", (int)n, start);
}

void api_reply_db_error(api_req_t *r, int err, const PGresult *res)
{
    switch (err) {
    case ACS_EDBDOWN:
    case ACS_ETIMEDOUT:
    case ACS_EBUSY:
    case ACS_ESHUTDOWN:
    case ACS_ECANCELED:
        api_problem(r, 503, "unavailable", NULL, NULL,
                    "the database is not available (%s); retry the request, with the same id "
                    "for a create",
                    acs_strerror(err));
        return;
    case ACS_EDBQUERY:
        break;
    default:
        api_problem(r, 500, "internal", NULL, NULL, "%s", acs_strerror(err));
        return;
    }
    const char *state = db_sqlstate(res);
    const char *cons = db_constraint(res);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char value[256];
    key_value(res, value, sizeof(value));
    for (size_t i = 0; i < sizeof(constraint_msgs) / sizeof(constraint_msgs[0]); i++) {
        if (strcmp(cons, constraint_msgs[i].constraint) != 0)
            continue;
        const char *arg = strcmp(cons, "site_time_zone_known") == 0 ? primary : value;
        char detail[512];
        /* The templates are the constants of constraint_msgs, each with one %s. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(detail, sizeof(detail), constraint_msgs[i].detail, arg != NULL ? arg : "");
#pragma GCC diagnostic pop
        api_problem(r, constraint_msgs[i].status,
                    constraint_msgs[i].status == 409 ? "conflict" : "validation",
                    constraint_msgs[i].field, NULL, "%s", detail);
        return;
    }
    if (strcmp(state, "23505") == 0) {
        api_problem(r, 409, "conflict", NULL, NULL, "duplicate value: %s", value);
    } else if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0) {
        api_problem(r, 400, "validation", NULL, NULL, "%s%s%s", primary ? primary : state,
                    cons[0] ? " — constraint " : "", cons);
    } else {
        log_error("%s: query failed: %s [%s]", r->route->name, primary ? primary : "?", state);
        api_problem(r, 500, "internal", NULL, NULL, "the database refused the request: %s",
                    primary ? primary : state);
    }
}

int api_body_check(api_req_t *r, const jv_field_t *fields, size_t nfields, jv_mode_t mode,
                   int allow_empty)
{
    h2o_req_t *req = r->req;
    char err[512];
    if (req->entity.base == NULL || req->entity.len == 0) {
        if (allow_empty) {
            r->body = json_object();
            return r->body != NULL ? 0 : ACS_ENOMEM;
        }
        api_problem(r, 400, "malformed-json", NULL, NULL,
                    "request body is empty; a JSON object is expected");
        return ACS_EINVAL;
    }
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct >= 0) {
        h2o_iovec_t v = req->headers.entries[ct].value;
        static const char want[] = "application/json";
        if (v.len < sizeof(want) - 1 || strncasecmp(v.base, want, sizeof(want) - 1) != 0 ||
            (v.len > sizeof(want) - 1 && v.base[sizeof(want) - 1] != ';')) {
            api_problem(r, 415, "unsupported-media-type", NULL, NULL,
                        "Content-Type %.*s is not accepted; send application/json", (int)v.len,
                        v.base);
            return ACS_EINVAL;
        }
    }
    if (jv_parse_body(req->entity.base, req->entity.len, &r->body, err, sizeof(err)) != 0) {
        api_problem(r, 400, "malformed-json", NULL, NULL, "%s", err);
        return ACS_EINVAL;
    }
    if (jv_check(r->body, fields, nfields, mode, err, sizeof(err)) != 0) {
        /* The field is the first quoted name in the sentence, when there is one. */
        char field[128] = "";
        const char *q1 = strchr(err, '"');
        const char *q2 = q1 != NULL ? strchr(q1 + 1, '"') : NULL;
        if (q2 != NULL && (size_t)(q2 - q1 - 1) < sizeof(field))
            snprintf(field, sizeof(field), "%.*s", (int)(q2 - q1 - 1), q1 + 1);
        api_problem(r, 400, "validation", field[0] ? field : NULL, NULL, "%s", err);
        return ACS_EINVAL;
    }
    return 0;
}

int api_query_check(api_req_t *r, const char *const *allowed)
{
    char err[512];
    h2o_req_t *req = r->req;
    const char *q = NULL;
    size_t qlen = 0;
    if (req->query_at != SIZE_MAX) {
        q = req->path.base + req->query_at + 1;
        qlen = req->path.len - req->query_at - 1;
    }
    if (qs_parse(&r->qs, q, qlen, err, sizeof(err)) != 0 ||
        qs_check(&r->qs, allowed, err, sizeof(err)) != 0) {
        api_problem(r, 400, "validation", NULL, NULL, "%s", err);
        return ACS_EINVAL;
    }
    return 0;
}

int api_path_uuid(api_req_t *r, size_t i, const char *what)
{
    h2o_req_t *req = r->req;
    if (req->query_at != SIZE_MAX && req->query_at + 1 < req->path.len) {
        api_problem(r, 400, "validation", NULL, NULL,
                    "%.*s takes no query parameters (got \"%.*s\")", (int)req->path_normalized.len,
                    req->path_normalized.base, (int)(req->path.len - req->query_at - 1),
                    req->path.base + req->query_at + 1);
        return ACS_EINVAL;
    }
    if (i < r->npath && jv_is_uuid(r->path[i]))
        return 0;
    api_problem(r, 404, "not-found", NULL, NULL, "no %s with id %s (ids are UUIDs)", what,
                i < r->npath ? r->path[i] : "");
    return ACS_ENOTFOUND;
}

int api_list_params(api_req_t *r, char *limit_out, const char **cursor_ts_out,
                    const char **cursor_id_out)
{
    const char *limit = qs_get(&r->qs, "limit");
    const char *cursor = qs_get(&r->qs, "cursor");
    long n = 50;
    *cursor_ts_out = NULL;
    *cursor_id_out = NULL;
    if (limit != NULL) {
        char *end;
        n = strtol(limit, &end, 10);
        if (*limit == '\0' || *end != '\0' || n < 1 || n > 200) {
            api_problem(r, 400, "validation", "limit", NULL,
                        "query parameter \"limit\" must be an integer between 1 and 200");
            return ACS_EINVAL;
        }
    }
    snprintf(limit_out, 8, "%ld", n);
    if (cursor != NULL) {
        const char *us = strchr(cursor, '_');
        size_t digits = us != NULL ? (size_t)(us - cursor) : 0;
        int ok = us != NULL && digits >= 1 && digits <= 19 && jv_is_uuid(us + 1);
        for (size_t i = 0; ok && i < digits; i++)
            ok = (cursor[i] >= '0' && cursor[i] <= '9') || (i == 0 && cursor[i] == '-');
        if (!ok) {
            api_problem(r, 400, "validation", "cursor", NULL,
                        "query parameter \"cursor\" is not a cursor this service issued");
            return ACS_EINVAL;
        }
        *cursor_ts_out = h2o_strdup(&r->req->pool, cursor, digits).base;
        *cursor_id_out = us + 1;
    }
    return 0;
}

const char *api_json_text(api_req_t *r, const json_t *v)
{
    if (v == NULL || r->req == NULL)
        return NULL;
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return NULL;
    const char *copy = h2o_strdup(&r->req->pool, s, SIZE_MAX).base;
    free(s);
    return copy;
}

static void on_query_done(int err, PGresult *res, void *arg)
{
    api_req_t *r = arg;
    api_query_cb cb = (api_query_cb)r->data_cb;
    r->pending = NULL;
    cb(r, err, res);
}

int api_query(api_req_t *r, const char *sql, int nparams, const char *const *params,
              api_query_cb cb)
{
    r->data_cb = (void (*)(void))cb;
    int err = db_query(r->srv->db, sql, nparams, params, on_query_done, r, &r->pending);
    if (err != 0) {
        api_reply_db_error(r, err == ACS_ESHUTDOWN ? ACS_ESHUTDOWN : ACS_EDBDOWN, NULL);
        return err;
    }
    return 0;
}

#define CREATE_MAX_PARAMS 4

typedef struct {
    const char *sql;
    int nparams;
    const char *params[CREATE_MAX_PARAMS];
    const char *what;
    const char *collection;
    int retried;
} create_ctx_t;

static void on_create_done(api_req_t *r, int err, PGresult *res)
{
    create_ctx_t *cc = r->data;
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1 || PQnfields(res) < 3) {
        if (!cc->retried) {
            cc->retried = 1;
            api_query(r, cc->sql, cc->nparams, cc->params, on_create_done);
            return;
        }
        api_problem(r, 500, "internal", NULL, NULL, "creating the %s returned no row", cc->what);
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    size_t len = (size_t)PQgetlength(res, 0, 1);
    const char *id = PQgetvalue(res, 0, 2);
    if (strcmp(outcome, "created") == 0) {
        char location[160];
        snprintf(location, sizeof(location), "%s/%s", cc->collection, id);
        api_reply_created(r, location, body, len);
    } else if (strcmp(outcome, "replay") == 0) {
        api_reply_json(r, 200, body, len);
    } else {
        api_problem(r, 409, "conflict", "id", NULL,
                    "%s %s already exists with different content; use a new id or PATCH it",
                    cc->what, id);
    }
}

int api_create(api_req_t *r, const char *sql, int nparams, const char *const *params,
               const char *what, const char *collection)
{
    if (nparams > CREATE_MAX_PARAMS) {
        api_problem(r, 500, "internal", NULL, NULL, "too many parameters creating a %s", what);
        return ACS_EINVAL;
    }
    create_ctx_t *cc = h2o_mem_alloc_pool(&r->req->pool, sizeof(*cc));
    memset(cc, 0, sizeof(*cc));
    cc->sql = sql;
    cc->nparams = nparams;
    cc->what = what;
    cc->collection = collection;
    for (int i = 0; i < nparams; i++)
        cc->params[i] =
            params[i] != NULL ? h2o_strdup(&r->req->pool, params[i], SIZE_MAX).base : NULL;
    r->data = cc;
    return api_query(r, sql, nparams, cc->params, on_create_done);
}

void api_reply_row(api_req_t *r, int err, PGresult *res, const char *what)
{
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no %s with id %s", what,
                    r->npath > 0 ? r->path[0] : "?");
        return;
    }
    api_reply_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
}

void api_reply_transition_conflict(api_req_t *r, const char *what, const char *action,
                                   const char *status, const char *allowed_csv)
{
    json_t *allowed = json_array();
    if (strcmp(allowed_csv, "none") != 0) {
        const char *p = allowed_csv;
        while (*p != '\0') {
            const char *end = strstr(p, ", ");
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
            json_array_append_new(allowed, json_stringn(p, n));
            p += n;
            if (end != NULL)
                p += 2;
        }
    }
    json_t *extra = json_pack("{s:s, s:o}", "current_status", status, "allowed", allowed);
    api_problem(r, 409, "conflict", NULL, extra,
                "%s %s is %s: %s is not allowed from there (allowed: %s)", what,
                r->npath > 0 ? r->path[0] : "?", status, action, allowed_csv);
}

static void on_list_done(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "list");
        return;
    }
    const char *body = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    if (r->cache_key != NULL)
        cache_put(r->srv->cache, r->cache_key, r->cache_key_len, r->cache_gen, uv_now(r->srv->loop),
                  body, len);
    api_reply_json(r, 200, body, len);
}

int api_list_query(api_req_t *r, const char *sql, int nparams, const char *const *params)
{
    cache_t *cache = r->srv->cache;
    if (cache != NULL && cache_enabled(cache)) {
        h2o_req_t *req = r->req;
        const char *q = req->query_at != SIZE_MAX ? req->path.base + req->query_at : "";
        size_t qlen = req->query_at != SIZE_MAX ? req->path.len - req->query_at : 0;
        /* Engineers see a list of their own; everyone else sees the same list. */
        const char *scope = api_is_engineer(r) ? r->user.id : "*";
        size_t n = strlen(r->route->name) + 1 + strlen(scope) + 1 + qlen;
        char *key = h2o_mem_alloc_pool(&req->pool, n + 1);
        snprintf(key, n + 1, "%s|%s|%.*s", r->route->name, scope, (int)qlen, q);
        size_t len;
        const char *hit = cache_get(cache, key, n, uv_now(r->srv->loop), &len);
        if (hit != NULL) {
            api_reply_json(r, 200, hit, len);
            return 0;
        }
        r->cache_key = key;
        r->cache_key_len = n;
        r->cache_gen = cache_generation(cache);
    }
    return api_query(r, sql, nparams, params, on_list_done);
}

void api_resource_create(api_req_t *r)
{
    const api_resource_t *res = r->route->arg;
    if (api_body_check(r, res->fields, res->nfields, JV_CREATE, 0) != 0)
        return;
    if (res->check_create != NULL && res->check_create(r) != 0)
        return;
    const char *params[] = {api_json_text(r, r->body), r->user.id};
    api_create(r, res->sql_create, 2, params, res->what, res->collection);
}

static void on_resource_row(api_req_t *r, int err, PGresult *res)
{
    const api_resource_t *rs = r->route->arg;
    if (err != 0 && rs->update_error != NULL && r->route->fn == api_resource_update &&
        rs->update_error(r, err, res))
        return;
    api_reply_row(r, err, res, rs->what);
}

void api_resource_get(api_req_t *r)
{
    const api_resource_t *res = r->route->arg;
    if (api_path_uuid(r, 0, res->what) != 0)
        return;
    const char *params[] = {r->path[0]};
    api_query(r, res->sql_get, 1, params, on_resource_row);
}

void api_resource_update(api_req_t *r)
{
    const api_resource_t *res = r->route->arg;
    if (api_path_uuid(r, 0, res->what) != 0 ||
        api_body_check(r, res->fields, res->nfields, JV_PATCH, 0) != 0)
        return;
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id};
    api_query(r, res->sql_update, 3, params, on_resource_row);
}

int api_query_enum_list(api_req_t *r, const char *param, int (*valid)(const char *),
                        const char *choices, char *out, size_t outlen, const char **result)
{
    const char *v = qs_get(&r->qs, param);
    *result = NULL;
    if (v == NULL)
        return 0;
    size_t n = 0;
    out[n++] = '{';
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        char item[40];
        if (len == 0 || len >= sizeof(item) || n + len + 2 >= outlen)
            goto bad;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!valid(item))
            goto bad;
        if (n > 1)
            out[n++] = ',';
        memcpy(out + n, item, len);
        n += len;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    out[n++] = '}';
    out[n] = '\0';
    *result = out;
    return 0;
bad:
    api_problem(r, 400, "validation", param, NULL,
                "query parameter \"%s\" must be a comma-separated list of: %s", param, choices);
    return ACS_EINVAL;
}

int api_query_check_values(api_req_t *r, const char *const *names, int (*ok)(const char *),
                           const char *what)
{
    for (size_t i = 0; names[i] != NULL; i++) {
        const char *v = qs_get(&r->qs, names[i]);
        if (v != NULL && !ok(v)) {
            api_problem(r, 400, "validation", names[i], NULL, "query parameter \"%s\" must be %s",
                        names[i], what);
            return ACS_EINVAL;
        }
    }
    return 0;
}
