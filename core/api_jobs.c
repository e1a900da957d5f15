/* SPDX-License-Identifier: MIT */
/*
 * api_jobs.c - /api/v1/jobs: visits, installations and commissioning on a site, their
 * assignment to engineers, the engineer's status updates (job_fsm.h) and the outcome that
 * may resolve the job's ticket.
 *
 * Like tickets, every change is one statement that locks the job, moves it only from an
 * allowed status, and writes its job_event row (plus the assignment history, the outcome,
 * and the ticket's own transition and event when an outcome resolves it), so a failure leaves
 * nothing half-written.
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "job_fsm.h"

static const char *const kinds[] = {"visit", "installation", "commissioning", NULL};
static const char *const resolution_codes[] = {
    "repaired",    "part_replaced", "reconfigured", "firmware_updated", "no_fault_found",
    "client_side", "not_resolved",  "installed",    "commissioned",     NULL};

static const jv_field_t job_fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"kind", JV_ENUM, JV_REQUIRED, kinds, 0, 0},
    {"site_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"ticket_id", JV_UUID, JV_NULLABLE, NULL, 0, 0},
    {"project_id", JV_UUID, JV_NULLABLE, NULL, 0, 0},
    {"title", JV_STRING, 0, NULL, 0, 300},
    {"notes", JV_STRING, 0, NULL, 0, 20000},
    {"required_skills", JV_STRING_ARRAY, 0, NULL, 0, 50},
    {"priority", JV_INT, 0, NULL, 1, 5},
    {"duration_min", JV_INT, 0, NULL, 1, 10080},
    {"window_start", JV_TIMESTAMP, JV_NULLABLE, NULL, 0, 0},
    {"window_end", JV_TIMESTAMP, JV_NULLABLE, NULL, 0, 0},
};
#define NFIELDS (sizeof(job_fields) / sizeof(job_fields[0]))

static const jv_field_t note_fields[] = {
    {"note", JV_STRING, JV_NULLABLE, NULL, 0, 5000},
};

static const jv_field_t outcome_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"resolution_code", JV_ENUM, JV_REQUIRED, resolution_codes, 0, 0},
    {"resolved", JV_BOOL, JV_REQUIRED, NULL, 0, 0},
    {"notes", JV_STRING, 0, NULL, 0, 20000},
    {"parts", JV_ARRAY, 0, NULL, 0, 0},
    {"time_on_site_min", JV_INT, JV_NULLABLE, NULL, 0, 10080},
};
#define NOUTCOME (sizeof(outcome_fields) / sizeof(outcome_fields[0]))

/* $1 body, $2 actor */
static const char sql_create[] =
    "WITH b AS (SELECT $1::jsonb AS j),"
    " r AS (SELECT (jsonb_populate_record(NULL::job, jsonb_build_object('id', gen_random_uuid(),"
    "        'title', '', 'notes', '', 'required_skills', '[]'::jsonb, 'priority', 3,"
    "        'duration_min', 60) || b.j)).* FROM b),"
    " ins AS (INSERT INTO job (id, ticket_id, project_id, site_id, kind, title, notes,"
    "                          required_skills, priority, duration_min, window_start, window_end,"
    "                          created_by)"
    "         SELECT id, ticket_id, project_id, site_id, kind, title, notes, required_skills,"
    "                priority, duration_min, window_start, window_end, $2::uuid FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING *),"
    " ev AS (INSERT INTO job_event (job_id, kind, to_status, actor_id, data)"
    "        SELECT id, 'created', status, $2::uuid, (SELECT j FROM b) FROM ins)"
    " SELECT 'created', row_to_json(ins)::text, ins.id FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN acs_matches(to_jsonb(x), b.j,"
    "                  to_jsonb(jsonb_populate_record(NULL::job, b.j)))"
    "             THEN 'replay' ELSE 'conflict' END, row_to_json(x)::text, x.id"
    " FROM job x, b WHERE x.id = (b.j->>'id')::uuid AND NOT EXISTS (SELECT 1 FROM ins)";

/* $1 id, $2 role, $3 user */
static const char sql_get[] =
    "SELECT (to_jsonb(x) || jsonb_build_object("
    "   'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'job_id' ORDER BY e.id)"
    "                       FROM job_event e WHERE e.job_id = x.id), '[]'::jsonb),"
    "   'assignments', coalesce((SELECT jsonb_agg(to_jsonb(a) - 'job_id' ORDER BY a.id)"
    "                       FROM job_assignment a WHERE a.job_id = x.id), '[]'::jsonb),"
    "   'outcome', (SELECT to_jsonb(o) FROM outcome o WHERE o.job_id = x.id)))::text,"
    "  ($2::text <> 'engineer' OR x.engineer_id IS NOT DISTINCT FROM $3::uuid)"
    " FROM job x WHERE x.id = $1::uuid";

/* $1 id, $2 target, $3 action, $4 sources, $5 note, $6 role, $7 actor */
static const char sql_transition[] =
    "WITH cur AS (SELECT x.id, x.status,"
    "               ($6::text <> 'engineer' OR x.engineer_id IS NOT DISTINCT FROM $7::uuid)"
    "                 AS mine"
    "             FROM job x WHERE x.id = $1::uuid FOR UPDATE),"
    " upd AS (UPDATE job x SET status = $2,"
    "           arrived_at = CASE WHEN $3 = 'on_site' THEN now() ELSE x.arrived_at END,"
    "           finished_at = CASE WHEN $3 IN ('done', 'needs_revisit', 'cancel') THEN now()"
    "                              ELSE x.finished_at END"
    "         FROM cur WHERE x.id = cur.id AND cur.mine AND cur.status = ANY ($4::text[])"
    "         RETURNING x.*, cur.status AS old_status),"
    " asg AS (UPDATE job_assignment a SET ended_at = now() FROM upd"
    "         WHERE $3 = 'cancel' AND a.job_id = upd.id AND a.ended_at IS NULL),"
    " ev AS (INSERT INTO job_event (job_id, kind, from_status, to_status, actor_id, note)"
    "        SELECT id, $3, old_status, status, $7::uuid, $5 FROM upd)"
    " SELECT 'ok', (to_jsonb(upd) - 'old_status')::text FROM upd"
    " UNION ALL"
    " SELECT CASE WHEN NOT cur.mine THEN 'forbidden' ELSE 'conflict' END, cur.status"
    " FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)";

/* $1 job, $2 body, $3 actor, $4 role, $5 sources */
static const char sql_outcome[] =
    "WITH b AS (SELECT $2::jsonb AS j),"
    " cur AS (SELECT x.id, x.status, x.engineer_id, x.ticket_id FROM job x"
    "         WHERE x.id = $1::uuid FOR UPDATE),"
    " prev AS (SELECT o.* FROM outcome o, cur WHERE o.job_id = cur.id),"
    " chk AS (SELECT CASE"
    "     WHEN $4::text = 'engineer' AND cur.engineer_id IS DISTINCT FROM $3::uuid"
    "       THEN 'forbidden'"
    "     WHEN EXISTS (SELECT 1 FROM prev, b WHERE prev.id = (b.j->>'id')::uuid)"
    "       THEN CASE WHEN (SELECT acs_matches(to_jsonb(prev), n.s,"
    "                         to_jsonb(jsonb_populate_record(NULL::outcome, n.s)))"
    "                       FROM prev, (SELECT (b.j - 'resolved') || jsonb_build_object("
    "                         'resolved_ticket', b.j->'resolved') AS s FROM b) n)"
    "                 THEN 'replay' ELSE 'replay_conflict' END"
    "     WHEN EXISTS (SELECT 1 FROM prev) THEN 'exists'"
    "     WHEN cur.status <> ALL ($5::text[]) THEN 'conflict' END AS problem,"
    "   cur.* FROM cur),"
    " ins AS (INSERT INTO outcome (id, job_id, ticket_id, resolution_code, resolved_ticket,"
    "                              notes, parts, time_on_site_min, recorded_by)"
    "         SELECT coalesce((b.j->>'id')::uuid, gen_random_uuid()), chk.id, chk.ticket_id,"
    "                b.j->>'resolution_code', (b.j->>'resolved')::boolean,"
    "                coalesce(b.j->>'notes', ''), coalesce(b.j->'parts', '[]'::jsonb),"
    "                (b.j->>'time_on_site_min')::int, $3::uuid"
    "         FROM chk, b WHERE chk.problem IS NULL RETURNING *),"
    " jupd AS (UPDATE job x SET status = CASE WHEN ins.resolution_code = 'not_resolved'"
    "                                    THEN 'needs_revisit' ELSE 'done' END,"
    "            finished_at = now()"
    "          FROM ins, chk WHERE x.id = ins.job_id AND chk.status = 'on_site'"
    "          RETURNING x.id, x.status),"
    " jev AS (INSERT INTO job_event (job_id, kind, from_status, to_status, actor_id, data)"
    "         SELECT ins.job_id, 'outcome', chk.status,"
    "                coalesce((SELECT status FROM jupd), chk.status), $3::uuid,"
    "                jsonb_build_object('outcome_id', ins.id, 'resolution_code',"
    "                                   ins.resolution_code, 'resolved', ins.resolved_ticket)"
    "         FROM ins, chk),"
    " tcur AS (SELECT t.id, t.status FROM ticket t, ins"
    "          WHERE t.id = ins.ticket_id AND ins.resolved_ticket"
    "            AND t.status IN ('new', 'acknowledged', 'in_progress', 'waiting_client')"
    "          FOR UPDATE OF t),"
    " t0 AS (SELECT acs_now() AS at),"
    " tsla AS (SELECT acs_sla_apply(tcur.id, 'resolve', t0.at) AS s FROM tcur, t0),"
    " tupd AS (UPDATE ticket t SET status = 'resolved', resolved_at = t0.at,"
    "            first_contact_at = coalesce(t.first_contact_at, t0.at),"
    "            first_contact_due = (tsla.s).fc_due, resolution_due = (tsla.s).res_due"
    "          FROM tcur, t0, tsla WHERE t.id = tcur.id"
    "          RETURNING t.id, tcur.status AS old_status),"
    " tev AS (INSERT INTO ticket_event (ticket_id, at, kind, from_status, to_status, actor_id,"
    "                                   data)"
    "         SELECT tupd.id, t0.at, 'resolve', tupd.old_status, 'resolved', $3::uuid,"
    "                jsonb_build_object('job_id', $1::uuid, 'outcome_id', (SELECT id FROM ins))"
    "         FROM tupd, t0)"
    " SELECT 'ok', json_build_object('outcome', row_to_json(ins),"
    "          'job_status', coalesce((SELECT status FROM jupd), (SELECT status FROM chk)),"
    "          'ticket_resolved', EXISTS (SELECT 1 FROM tupd))::text FROM ins"
    " UNION ALL"
    " SELECT chk.problem, CASE WHEN chk.problem = 'replay'"
    "          THEN json_build_object('outcome', (SELECT row_to_json(prev) FROM prev),"
    "                 'job_status', chk.status, 'ticket_resolved', false)::text"
    "          ELSE chk.status END"
    " FROM chk WHERE chk.problem IS NOT NULL";

/* $1 limit, $2/$3 cursor, $4 statuses, $5 kinds, $6 engineer, $7 ticket, $8 project,
 * $9 site, $10 from, $11 to */
static const char sql_list[] =
    "WITH page AS ("
    "   SELECT j.* FROM job j"
    "   WHERE ($2::bigint IS NULL OR (j.created_at, j.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::text[] IS NULL OR j.status = ANY ($4::text[]))"
    "     AND ($5::text[] IS NULL OR j.kind = ANY ($5::text[]))"
    "     AND ($6::uuid IS NULL OR j.engineer_id = $6::uuid)"
    "     AND ($7::uuid IS NULL OR j.ticket_id = $7::uuid)"
    "     AND ($8::uuid IS NULL OR j.project_id = $8::uuid)"
    "     AND ($9::uuid IS NULL OR j.site_id = $9::uuid)"
    "     AND ($10::timestamptz IS NULL OR j.planned_start >= $10::timestamptz)"
    "     AND ($11::timestamptz IS NULL OR j.planned_start < $11::timestamptz)"
    "   ORDER BY j.created_at DESC, j.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

static int check_create(api_req_t *r)
{
    if (!json_is_string(json_object_get(r->body, "ticket_id")) &&
        !json_is_string(json_object_get(r->body, "project_id"))) {
        api_problem(r, 400, "validation", "ticket_id", NULL,
                    "a job needs a ticket_id, a project_id, or both");
        return ACS_EINVAL;
    }
    return 0;
}

static void on_get(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "job %s is not assigned to you; engineers see only their own jobs", r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "job");
}

static void get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_get, 3, params, on_get);
}

/* Common reply of the statements that answer ("ok" | problem, job JSON | current status). */
static void reply_change(api_req_t *r, int err, PGresult *res, const char *action)
{
    /* The commissioning checklist gate (0008_diagnostics.sql): its items as JSON in DETAIL. */
    if (err == ACS_EDBQUERY && strcmp(db_sqlstate(res), "ACD01") == 0) {
        const char *items = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        json_t *failing = items != NULL ? json_loads(items, 0, NULL) : NULL;
        api_problem(r, 409, "conflict", NULL,
                    json_pack("{s:o}", "failing_items", failing != NULL ? failing : json_array()),
                    "%s", PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        return;
    }
    if (err != 0 || PQntuples(res) == 0) {
        api_reply_row(r, err, res, "job");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *value = PQgetvalue(res, 0, 1);
    size_t len = (size_t)PQgetlength(res, 0, 1);
    if (strcmp(outcome, "ok") == 0) {
        api_reply_json(r, strcmp(action, "outcome") == 0 ? 201 : 200, value, len);
    } else if (strcmp(outcome, "replay") == 0) {
        api_reply_json(r, 200, value, len);
    } else if (strcmp(outcome, "forbidden") == 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "job %s is not assigned to you; engineers change only their own jobs",
                    r->path[0]);
    } else if (strcmp(outcome, "no_engineer") == 0) {
        api_problem(r, 400, "validation", "engineer_id", NULL,
                    "engineer %s does not exist, is deactivated, or is not an engineer",
                    json_string_value(json_object_get(r->body, "engineer_id")));
    } else if (strcmp(outcome, "bad_window") == 0) {
        api_problem(r, 400, "validation", "planned_end", NULL,
                    "planned_end must be after planned_start");
    } else if (strcmp(outcome, "replay_conflict") == 0) {
        api_problem(r, 409, "conflict", "id", NULL,
                    "outcome %s of job %s was recorded with different content",
                    json_string_value(json_object_get(r->body, "id")), r->path[0]);
    } else if (strcmp(outcome, "exists") == 0) {
        api_problem(r, 409, "conflict", NULL, NULL,
                    "job %s already has an outcome; an outcome is recorded once", r->path[0]);
    } else {
        job_status_t cur;
        char allowed[160] = "none";
        if (job_status_parse(value, &cur) == 0)
            job_allowed_actions(cur, allowed, sizeof(allowed));
        if (strcmp(action, "outcome") == 0) {
            api_problem(r, 409, "conflict", NULL, json_pack("{s:s}", "current_status", value),
                        "job %s is %s: an outcome is recorded when the job is on_site, done or "
                        "needs_revisit",
                        r->path[0], value);
            return;
        }
        api_reply_transition_conflict(r, "job", action, value, allowed);
    }
}

static void on_transition(api_req_t *r, int err, PGresult *res)
{
    reply_change(r, err, res, r->path[1]);
}

static void transition(api_req_t *r)
{
    job_action_t action;
    if (api_path_uuid(r, 0, "job") != 0)
        return;
    if (job_action_parse(r->path[1], &action) != 0 || action == JOB_ACT_ASSIGN) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "no job action \"%s\" (actions: assign, en_route, on_site, done, "
                    "needs_revisit, cancel, outcome)",
                    r->path[1]);
        return;
    }
    if (action == JOB_ACT_CANCEL && (r->user.role & (ROLE_ADMIN | ROLE_DISPATCHER)) == 0) {
        api_problem(r, 403, "forbidden", NULL, NULL, "only a dispatcher or admin cancels a job");
        return;
    }
    if (api_body_check(r, note_fields, 1, JV_CREATE, 1) != 0)
        return;
    unsigned sources = job_action_sources(action);
    job_status_t to = JOB_PLANNED;
    for (int s = 0; s < JOB_STATUS_COUNT; s++) {
        if (sources & (1u << s)) {
            job_transition((job_status_t)s, action, &to);
            break;
        }
    }
    char src[160];
    job_action_sources_literal(action, src, sizeof(src));
    const json_t *note = json_object_get(r->body, "note");
    const char *params[] = {r->path[0],
                            job_status_name(to),
                            job_action_name(action),
                            src,
                            json_is_string(note) ? json_string_value(note) : NULL,
                            role_name(r->user.role),
                            r->user.id};
    api_query(r, sql_transition, 7, params, on_transition);
}

/* parts: [{"name": "...", "qty": n}, ...] */
static int check_parts(api_req_t *r)
{
    const json_t *parts = json_object_get(r->body, "parts");
    size_t i;
    const json_t *p;
    json_array_foreach(parts, i, p)
    {
        const json_t *name = json_object_get(p, "name");
        const json_t *qty = json_object_get(p, "qty");
        if (!json_is_object(p) || json_object_size(p) != 2 || !json_is_string(name) ||
            json_string_length(name) == 0 || json_string_length(name) > 200 ||
            !json_is_integer(qty) || json_integer_value(qty) < 1 ||
            json_integer_value(qty) > 100000) {
            api_problem(r, 400, "validation", "parts", NULL,
                        "parts[%zu] must be {\"name\": text of 1-200 characters, \"qty\": an "
                        "integer from 1}",
                        i);
            return ACS_EINVAL;
        }
    }
    return 0;
}

static void on_outcome(api_req_t *r, int err, PGresult *res)
{
    reply_change(r, err, res, "outcome");
}

static void outcome(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 ||
        api_body_check(r, outcome_fields, NOUTCOME, JV_CREATE, 0) != 0 || check_parts(r) != 0)
        return;
    const char *code = json_string_value(json_object_get(r->body, "resolution_code"));
    if (json_is_true(json_object_get(r->body, "resolved")) && strcmp(code, "not_resolved") == 0) {
        api_problem(r, 400, "validation", "resolved", NULL,
                    "resolved is true but resolution_code is not_resolved");
        return;
    }
    char src[160];
    snprintf(src, sizeof(src), "{on_site,done,needs_revisit}");
    job_outcome_sources_literal(src, sizeof(src));
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id,
                            role_name(r->user.role), src};
    api_query(r, sql_outcome, 5, params, on_outcome);
}

static int job_status_valid(const char *s)
{
    job_status_t st;
    return job_status_parse(s, &st) == 0;
}

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"limit",       "cursor",    "status",     "kind",
                                          "engineer_id", "ticket_id", "project_id", "site_id",
                                          "from",        "to",        NULL};
    static const char *const uuids[] = {"engineer_id", "ticket_id", "project_id", "site_id", NULL};
    char limit[8], statuses[200], kinds_lit[80];
    const char *cur_ts, *cur_id, *st, *kd;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0 ||
        api_query_enum_list(r, "status", job_status_valid,
                            "planned, assigned, en_route, on_site, done, needs_revisit, cancelled",
                            statuses, sizeof(statuses), &st) != 0 ||
        api_query_enum_list(r, "kind", job_kind_valid, "visit, installation, commissioning",
                            kinds_lit, sizeof(kinds_lit), &kd) != 0)
        return;
    for (size_t i = 0; uuids[i] != NULL; i++) {
        const char *v = qs_get(&r->qs, uuids[i]);
        if (v != NULL && !jv_is_uuid(v)) {
            api_problem(r, 400, "validation", uuids[i], NULL,
                        "query parameter \"%s\" must be a UUID", uuids[i]);
            return;
        }
    }
    static const char *const times[] = {"from", "to", NULL};
    for (size_t i = 0; times[i] != NULL; i++) {
        const char *v = qs_get(&r->qs, times[i]);
        if (v != NULL && !jv_is_timestamp(v)) {
            api_problem(r, 400, "validation", times[i], NULL,
                        "query parameter \"%s\" must be an RFC 3339 date-time with offset",
                        times[i]);
            return;
        }
    }
    const char *engineer = qs_get(&r->qs, "engineer_id");
    if (api_is_engineer(r)) {
        if (engineer != NULL && strcmp(engineer, r->user.id) != 0) {
            api_problem(r, 403, "forbidden", "engineer_id", NULL,
                        "engineers see only their own jobs");
            return;
        }
        engineer = r->user.id;
    }
    const char *params[] = {limit,
                            cur_ts,
                            cur_id,
                            st,
                            kd,
                            engineer,
                            qs_get(&r->qs, "ticket_id"),
                            qs_get(&r->qs, "project_id"),
                            qs_get(&r->qs, "site_id"),
                            qs_get(&r->qs, "from"),
                            qs_get(&r->qs, "to")};
    api_list_query(r, sql_list, 11, params);
}

void api_jobs_register(server_t *srv)
{
    /* get is the job's own (events, assignments, outcome, engineers' visibility); a job
     * changes through its actions, not PATCH */
    static const api_resource_t res = {"job", "/api/v1/jobs", job_fields,   NFIELDS, sql_create,
                                       NULL,  NULL,           check_create, NULL};
    static const api_route_t routes[] = {
        {"POST", "/api/v1/jobs", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_create, "jobs.create",
         &res},
        {"GET", "/api/v1/jobs", ROLE_ANY, list, "jobs.list", NULL},
        {"GET", "/api/v1/jobs/{}", ROLE_ANY, get, "jobs.get", NULL},
        /* checked by the planner, with override and history (api_dispatch.c) */
        {"POST", "/api/v1/jobs/{}/assign", ROLE_ADMIN | ROLE_DISPATCHER, api_dispatch_assign,
         "jobs.assign", NULL},
        {"POST", "/api/v1/jobs/{}/outcome",
         ROLE_ADMIN | ROLE_DISPATCHER | ROLE_SENIOR | ROLE_ENGINEER, outcome, "jobs.outcome", NULL},
        {"POST", "/api/v1/jobs/{}/{}", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_ENGINEER, transition,
         "jobs.transition", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
