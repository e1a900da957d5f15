/* SPDX-License-Identifier: MIT */
/*
 * api_projects.c - /api/v1/projects: implementation projects (survey -> installation ->
 * commissioning -> handover), their stages with planned and actual dates and jobs, advancing
 * a project to its next stage, and the projects at risk of slipping.
 *
 * The stage machine and the risk rules are SQL (acs_project_advance(), acs_project_risks() in
 * db/migrations/0011_dispatch.sql, described in docs/dispatch.md); this file validates input,
 * runs one statement per request and maps its outcome to a reply.
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"

#define ROLES_READ  (ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD | ROLE_SENIOR)
#define ROLES_WRITE (ROLE_ADMIN | ROLE_DISPATCHER)

static const char *const stages[] = {"survey", "installation", "commissioning", "handover", NULL};

static int stage_valid(const char *s)
{
    for (size_t i = 0; stages[i] != NULL; i++) {
        if (strcmp(stages[i], s) == 0)
            return 1;
    }
    return 0;
}

static int project_stage_valid(const char *s)
{
    return stage_valid(s) || strcmp(s, "done") == 0 || strcmp(s, "cancelled") == 0;
}

static const jv_field_t create_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"client_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"site_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"name", JV_STRING, JV_REQUIRED, NULL, 1, 300},
    {"planned_start", JV_DATE, JV_NULLABLE, NULL, 0, 0},
    {"planned_end", JV_DATE, JV_NULLABLE, NULL, 0, 0},
    {"stages", JV_OBJECT, 0, NULL, 0, 0},
};

static const jv_field_t stage_fields[] = {
    {"planned_start", JV_DATE, JV_NULLABLE, NULL, 0, 0},
    {"planned_end", JV_DATE, JV_NULLABLE, NULL, 0, 0},
};

static int check_stages(api_req_t *r)
{
    const json_t *st = json_object_get(r->body, "stages");
    const char *k;
    const json_t *v;
    char err[256];
    json_object_foreach((json_t *)st, k, v)
    {
        if (!stage_valid(k)) {
            api_problem(r, 400, "validation", "stages", NULL,
                        "stages has no stage \"%s\" (stages: survey, installation, "
                        "commissioning, handover)",
                        k);
            return ACS_EINVAL;
        }
        if (!json_is_object(v) || jv_check(v, stage_fields, 2, JV_CREATE, err, sizeof(err)) != 0) {
            api_problem(r, 400, "validation", "stages", NULL,
                        "stages.%s must be {\"planned_start\": date, \"planned_end\": date}%s%s", k,
                        json_is_object(v) ? ": " : "", json_is_object(v) ? err : "");
            return ACS_EINVAL;
        }
    }
    return 0;
}

static const char sql_create[] =
    "SELECT outcome, body, id::text FROM acs_project_create($1::jsonb, $2::uuid)";

static void create(api_req_t *r)
{
    if (api_body_check(r, create_fields, sizeof(create_fields) / sizeof(create_fields[0]),
                       JV_CREATE, 0) != 0 ||
        check_stages(r) != 0)
        return;
    const char *params[] = {api_json_text(r, r->body), r->user.id};
    api_create(r, sql_create, 2, params, "project", "/api/v1/projects");
}

/* $1 limit, $2/$3 cursor, $4 stages, $5 site, $6 client */
static const char sql_list[] =
    "WITH page AS ("
    "   SELECT p.* FROM project p"
    "   WHERE ($2::bigint IS NULL OR (p.created_at, p.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::text[] IS NULL OR p.stage = ANY ($4::text[]))"
    "     AND ($5::uuid IS NULL OR p.site_id = $5::uuid)"
    "     AND ($6::uuid IS NULL OR p.client_id = $6::uuid)"
    "   ORDER BY p.created_at DESC, p.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

static int is_uuid_value(const char *s)
{
    return jv_is_uuid(s);
}

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"limit", "cursor", "stage", "site_id", "client_id", NULL};
    static const char *const uuids[] = {"site_id", "client_id", NULL};
    char limit[8], st_lit[120];
    const char *cur_ts, *cur_id, *st;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0 ||
        api_query_enum_list(r, "stage", project_stage_valid,
                            "survey, installation, commissioning, handover, done, cancelled",
                            st_lit, sizeof(st_lit), &st) != 0 ||
        api_query_check_values(r, uuids, is_uuid_value, "a UUID") != 0)
        return;
    const char *params[] = {
        limit, cur_ts, cur_id, st, qs_get(&r->qs, "site_id"), qs_get(&r->qs, "client_id")};
    api_list_query(r, sql_list, 6, params);
}

static const char sql_get[] = "SELECT acs_project_json($1::uuid)::text WHERE EXISTS"
                              " (SELECT 1 FROM project WHERE id = $1::uuid)";

static void on_project_row(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "project");
}

static void get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "project") != 0)
        return;
    const char *params[] = {r->path[0]};
    api_query(r, sql_get, 1, params, on_project_row);
}

static const jv_field_t advance_fields[] = {
    {"note", JV_STRING, JV_NULLABLE, NULL, 0, 5000},
    {"date", JV_DATE, JV_NULLABLE, NULL, 0, 0},
};

static const char sql_advance[] =
    "SELECT outcome, body FROM acs_project_advance($1::uuid, $2::date, $3::uuid, $4)";

static void on_advance(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "project");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    if (strcmp(outcome, "ok") == 0) {
        api_reply_json(r, 200, body, (size_t)PQgetlength(res, 0, 1));
    } else if (strcmp(outcome, "not_found") == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no project with id %s", r->path[0]);
    } else if (strcmp(outcome, "conflict") == 0) {
        api_problem(r, 409, "conflict", NULL, json_pack("{s:s}", "current_stage", body),
                    "project %s is %s: only a project in survey, installation, commissioning "
                    "or handover advances",
                    r->path[0], body);
    } else {
        json_t *jobs = json_loads(body, 0, NULL);
        char names[600] = "";
        size_t used = 0, i;
        json_t *j;
        json_array_foreach(jobs, i, j)
        {
            int w = snprintf(names + used, sizeof(names) - used, "%s%s (%s)", i ? ", " : "",
                             json_string_value(json_object_get(j, "title")),
                             json_string_value(json_object_get(j, "status")));
            if (w < 0 || (size_t)w >= sizeof(names) - used)
                break;
            used += (size_t)w;
        }
        api_problem(r, 409, "conflict", NULL,
                    json_pack("{s:o}", "open_jobs", jobs != NULL ? jobs : json_array()),
                    "project %s cannot leave its stage while its jobs are open: %s; finish or "
                    "cancel them first",
                    r->path[0], names);
    }
}

static void advance(api_req_t *r)
{
    if (api_path_uuid(r, 0, "project") != 0 ||
        api_body_check(r, advance_fields, 2, JV_CREATE, 1) != 0)
        return;
    const json_t *date = json_object_get(r->body, "date");
    const json_t *note = json_object_get(r->body, "note");
    const char *params[] = {r->path[0], json_is_string(date) ? json_string_value(date) : NULL,
                            r->user.id, json_is_string(note) ? json_string_value(note) : NULL};
    api_query(r, sql_advance, 4, params, on_advance);
}

/* $1 project, $2 stage, $3 body, $4 actor */
static const char sql_stage[] =
    "WITH b AS (SELECT $3::jsonb AS j),"
    " upd AS (UPDATE project_stage ps SET"
    "   planned_start = CASE WHEN b.j ? 'planned_start' THEN (b.j->>'planned_start')::date"
    "                   ELSE ps.planned_start END,"
    "   planned_end = CASE WHEN b.j ? 'planned_end' THEN (b.j->>'planned_end')::date"
    "                 ELSE ps.planned_end END"
    "   FROM b WHERE ps.project_id = $1::uuid AND ps.stage = $2 RETURNING ps.*),"
    " aud AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "         SELECT $4::uuid, 'project.stage', 'project', upd.project_id,"
    "                b.j || jsonb_build_object('stage', upd.stage) FROM upd, b)"
    " SELECT (to_jsonb(upd) - 'project_id')::text FROM upd";

static void on_stage(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no project with id %s", r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "project");
}

static void patch_stage(api_req_t *r)
{
    if (api_path_uuid(r, 0, "project") != 0)
        return;
    if (!stage_valid(r->path[1])) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "a project has no stage \"%s\" (stages: survey, installation, commissioning, "
                    "handover)",
                    r->path[1]);
        return;
    }
    if (api_body_check(r, stage_fields, 2, JV_PATCH, 0) != 0)
        return;
    const char *params[] = {r->path[0], r->path[1], api_json_text(r, r->body), r->user.id};
    api_query(r, sql_stage, 4, params, on_stage);
}

static const char sql_at_risk[] =
    "SELECT json_build_object('items', coalesce(json_agg(x ORDER BY x->>'name', x->>'id'),"
    "   '[]'::json))::text"
    " FROM (SELECT to_jsonb(p) || jsonb_build_object('risks', k.r) AS x"
    "       FROM project p CROSS JOIN LATERAL (SELECT acs_project_risks(p.id) AS r) k"
    "       WHERE p.stage NOT IN ('done', 'cancelled') AND jsonb_array_length(k.r) > 0) q";

static void at_risk(api_req_t *r)
{
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    api_query(r, sql_at_risk, 0, NULL, on_project_row);
}

void api_projects_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"POST", "/api/v1/projects", ROLES_WRITE, create, "projects.create", NULL},
        {"GET", "/api/v1/projects", ROLES_READ, list, "projects.list", NULL},
        /* before /projects/{}, which would take "at-risk" for an id */
        {"GET", "/api/v1/projects/at-risk", ROLES_READ, at_risk, "projects.at_risk", NULL},
        {"GET", "/api/v1/projects/{}", ROLES_READ, get, "projects.get", NULL},
        {"POST", "/api/v1/projects/{}/advance", ROLES_WRITE, advance, "projects.advance", NULL},
        {"PATCH", "/api/v1/projects/{}/stages/{}", ROLES_WRITE, patch_stage, "projects.stage",
         NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
