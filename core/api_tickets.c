/* SPDX-License-Identifier: MIT */
/*
 * api_tickets.c - /api/v1/tickets: clients' requests for help, their lifecycle
 * (ticket_fsm.h) and their append-only event history.
 *
 * A transition is one statement: it locks the ticket, moves it only if its current status is
 * in the action's source set (ticket_action_sources_literal), and writes the event row; when
 * nothing moved, the same statement tells why (unknown, not the engineer's, or a status the
 * action is not allowed from), so the reply never races with another writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "ticket_fsm.h"

static const char *const categories[] = {"emergency", "standard", "consultation", NULL};

static const jv_field_t ticket_fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"client_id", JV_UUID, JV_REQUIRED | JV_READONLY, NULL, 0, 0},
    {"site_id", JV_UUID, JV_REQUIRED | JV_READONLY, NULL, 0, 0},
    {"device_id", JV_UUID, JV_NULLABLE, NULL, 0, 0},
    {"category", JV_ENUM, JV_REQUIRED, categories, 0, 0},
    {"subject", JV_STRING, JV_REQUIRED, NULL, 1, 500},
    {"description", JV_STRING, 0, NULL, 0, 20000},
    {"crm_ref", JV_STRING, JV_NULLABLE, NULL, 1, 200},
    {"reporter_name", JV_STRING, JV_NULLABLE, NULL, 0, 300},
    {"reporter_phone", JV_STRING, JV_NULLABLE, NULL, 0, 100},
};
#define NFIELDS (sizeof(ticket_fields) / sizeof(ticket_fields[0]))

static const jv_field_t note_fields[] = {
    {"note", JV_STRING, JV_NULLABLE, NULL, 0, 5000},
};

/* $1 body, $2 actor. The clocks (0005_sla_clocks.sql) start with the ticket, on the test
 * clock acs_now(); a ticket on the site (and device) of one resolved within the repeat window
 * is linked to it as a repeat. */
static const char sql_create[] =
    "WITH b AS (SELECT $1::jsonb AS j),"
    " r AS (SELECT (jsonb_populate_record(NULL::ticket,"
    "        jsonb_build_object('id', gen_random_uuid(), 'description', '') || b.j)).* FROM b),"
    " t0 AS (SELECT acs_now() AS at),"
    " st AS (SELECT acs_sla_start(r.id, r.category, r.client_id, t0.at) AS s FROM r, t0"
    "        WHERE NOT EXISTS (SELECT 1 FROM ticket x WHERE x.id = r.id)),"
    " ins AS (INSERT INTO ticket (id, client_id, site_id, device_id, category, subject,"
    "                             description, crm_ref, reporter_name, reporter_phone,"
    "                             created_by, created_at, updated_at, first_contact_due,"
    "                             resolution_due, repeat_of)"
    "         SELECT r.id, r.client_id, r.site_id, r.device_id, r.category, r.subject,"
    "                r.description, r.crm_ref, r.reporter_name, r.reporter_phone, $2::uuid,"
    "                t0.at, t0.at, (st.s).fc_due, (st.s).res_due,"
    "                acs_repeat_of(r.site_id, r.device_id, t0.at)"
    "         FROM r, t0, st"
    "         ON CONFLICT (id) DO NOTHING RETURNING *),"
    " sla AS (INSERT INTO ticket_sla SELECT (st.s).* FROM st WHERE EXISTS (SELECT 1 FROM ins)),"
    " ev AS (INSERT INTO ticket_event (ticket_id, at, kind, to_status, actor_id, data)"
    "        SELECT id, created_at, 'created', status, $2::uuid,"
    "               (SELECT j FROM b) || jsonb_build_object('repeat_of', repeat_of) FROM ins)"
    " SELECT 'created', (to_jsonb(ins) || jsonb_build_object('sla',"
    "          (SELECT acs_sla_json(st.s, t0.at) FROM st, t0)))::text, ins.id FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN acs_matches(to_jsonb(t), b.j,"
    "                  to_jsonb(jsonb_populate_record(NULL::ticket, b.j)))"
    "             THEN 'replay' ELSE 'conflict' END, row_to_json(t)::text, t.id"
    " FROM ticket t, b WHERE t.id = (b.j->>'id')::uuid AND NOT EXISTS (SELECT 1 FROM ins)";

/* $1 id, $2 role, $3 user */
static const char sql_get[] =
    "SELECT (to_jsonb(t) || jsonb_build_object("
    "   'sla', (SELECT acs_sla_json(s, acs_now()) FROM ticket_sla s WHERE s.ticket_id = t.id),"
    "   'events', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'ticket_id' ORDER BY e.id)"
    "                       FROM ticket_event e WHERE e.ticket_id = t.id), '[]'::jsonb),"
    "   'jobs', coalesce((SELECT jsonb_agg(jsonb_build_object('id', j.id, 'kind', j.kind,"
    "                       'status', j.status, 'engineer_id', j.engineer_id,"
    "                       'planned_start', j.planned_start) ORDER BY j.created_at, j.id)"
    "                     FROM job j WHERE j.ticket_id = t.id), '[]'::jsonb)))::text,"
    "  ($2::text <> 'engineer' OR EXISTS (SELECT 1 FROM job j WHERE j.ticket_id = t.id"
    "                                     AND j.engineer_id = $3::uuid))"
    " FROM ticket t WHERE t.id = $1::uuid";

/* $1 id, $2 body, $3 actor. A new category recomputes the clocks (acs_sla_recategorize
 * records the old and new due times as an event) before the ticket row is written. */
static const char sql_update[] =
    "WITH old AS (SELECT t.id, t.category, t.client_id FROM ticket t WHERE t.id = $1::uuid"
    "             FOR UPDATE),"
    " sla AS (SELECT acs_sla_recategorize(old.id, $2::jsonb->>'category', old.client_id,"
    "                                     acs_now(), $3::uuid) AS s FROM old"
    "         WHERE $2::jsonb->>'category' IS DISTINCT FROM old.category"
    "           AND $2::jsonb ? 'category'),"
    " upd AS (UPDATE ticket t SET (subject, description, category, device_id, crm_ref,"
    "                                  reporter_name, reporter_phone) ="
    "    (SELECT r.subject, r.description, r.category, r.device_id, r.crm_ref, r.reporter_name,"
    "            r.reporter_phone FROM jsonb_populate_record(t, $2::jsonb) r),"
    "    first_contact_due = coalesce((SELECT (s).fc_due FROM sla), t.first_contact_due),"
    "    resolution_due = CASE WHEN EXISTS (SELECT 1 FROM sla) THEN (SELECT (s).res_due FROM sla)"
    "                          ELSE t.resolution_due END"
    "   FROM old WHERE t.id = old.id RETURNING t.*),"
    " ev AS (INSERT INTO ticket_event (ticket_id, kind, from_status, to_status, actor_id, data)"
    "        SELECT id, 'updated', status, status, $3::uuid, $2::jsonb FROM upd)"
    " SELECT row_to_json(upd)::text FROM upd";

/* $1 id, $2 target status, $3 action, $4 source statuses, $5 note, $6 role, $7 actor.
 * The clocks move (acs_sla_apply) before the ticket row, and the ticket keeps their due
 * times; every time is the test clock's acs_now(). */
static const char sql_transition[] =
    "WITH cur AS (SELECT t.id, t.status,"
    "               ($6::text <> 'engineer' OR EXISTS (SELECT 1 FROM job j"
    "                  WHERE j.ticket_id = t.id AND j.engineer_id = $7::uuid)) AS mine"
    "             FROM ticket t WHERE t.id = $1::uuid FOR UPDATE),"
    " ok AS (SELECT cur.id, cur.status FROM cur"
    "        WHERE cur.mine AND cur.status = ANY ($4::text[])),"
    " t0 AS (SELECT acs_now() AS at),"
    " sla AS (SELECT acs_sla_apply(ok.id, $3, t0.at) AS s FROM ok, t0),"
    " upd AS (UPDATE ticket t SET status = $2,"
    "           first_contact_at = CASE WHEN $3 IN ('acknowledge', 'start')"
    "                                   THEN coalesce(t.first_contact_at, t0.at)"
    "                                   ELSE t.first_contact_at END,"
    "           resolved_at = CASE WHEN $3 = 'resolve' THEN t0.at"
    "                              WHEN $3 = 'reopen' THEN NULL ELSE t.resolved_at END,"
    "           closed_at = CASE WHEN $3 = 'close' THEN t0.at"
    "                            WHEN $3 = 'reopen' THEN NULL ELSE t.closed_at END,"
    "           first_contact_due = (sla.s).fc_due, resolution_due = (sla.s).res_due"
    "         FROM ok, t0, sla WHERE t.id = ok.id"
    "         RETURNING t.*, ok.status AS old_status),"
    " ev AS (INSERT INTO ticket_event (ticket_id, at, kind, from_status, to_status, actor_id,"
    "                                  note)"
    "        SELECT upd.id, t0.at, $3, upd.old_status, upd.status, $7::uuid, $5 FROM upd, t0)"
    " SELECT 'ok', (to_jsonb(upd) - 'old_status' || jsonb_build_object('sla',"
    "          acs_sla_json(sla.s, t0.at)))::text FROM upd, sla, t0"
    " UNION ALL"
    " SELECT CASE WHEN NOT cur.mine THEN 'forbidden' ELSE 'conflict' END, cur.status"
    " FROM cur WHERE NOT EXISTS (SELECT 1 FROM upd)";

/* $1 id, $2 role, $3 user */
static const char sql_sla[] =
    "SELECT acs_sla_json(s, acs_now())::text,"
    "  ($2::text <> 'engineer' OR EXISTS (SELECT 1 FROM job j WHERE j.ticket_id = s.ticket_id"
    "                                     AND j.engineer_id = $3::uuid))"
    " FROM ticket_sla s WHERE s.ticket_id = $1::uuid";

/* $1 limit, $2 horizon in minutes, $3 categories: open clocks, soonest due first. */
static const char sql_at_risk[] =
    "SELECT json_build_object('items', coalesce(json_agg(x ORDER BY x.next_due, x.id),"
    "                                           '[]'::json), 'now', acs_now())::text"
    " FROM (SELECT t.id, t.number, t.subject, t.category, t.status, t.client_id, t.site_id,"
    "              s.next_due, acs_sla_json(s, acs_now()) AS sla"
    "       FROM ticket_sla s JOIN ticket t ON t.id = s.ticket_id"
    "       WHERE s.next_due IS NOT NULL"
    "         AND ($2::int IS NULL OR s.next_due < acs_now() + $2::int * interval '1 minute')"
    "         AND ($3::text[] IS NULL OR s.category = ANY ($3::text[]))"
    "       ORDER BY s.next_due, s.ticket_id LIMIT $1::int) x";

/* $1 limit, $2/$3 cursor, $4 statuses, $5 categories, $6 site, $7 client, $8 device,
 * $9 created_from, $10 created_to, $11 role, $12 user */
static const char sql_list[] =
    "WITH page AS ("
    "   SELECT t.* FROM ticket t"
    "   WHERE ($2::bigint IS NULL OR (t.created_at, t.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::text[] IS NULL OR t.status = ANY ($4::text[]))"
    "     AND ($5::text[] IS NULL OR t.category = ANY ($5::text[]))"
    "     AND ($6::uuid IS NULL OR t.site_id = $6::uuid)"
    "     AND ($7::uuid IS NULL OR t.client_id = $7::uuid)"
    "     AND ($8::uuid IS NULL OR t.device_id = $8::uuid)"
    "     AND ($9::timestamptz IS NULL OR t.created_at >= $9::timestamptz)"
    "     AND ($10::timestamptz IS NULL OR t.created_at < $10::timestamptz)"
    "     AND ($11::text <> 'engineer' OR EXISTS (SELECT 1 FROM job j"
    "            WHERE j.ticket_id = t.id AND j.engineer_id = $12::uuid))"
    "   ORDER BY t.created_at DESC, t.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

/* A ticket's row (column 0) and whether the caller may see it (column 1). */
static void on_visible_row(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "ticket %s has no job assigned to you; engineers see only the tickets of "
                    "their jobs",
                    r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "ticket");
}

static void get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "ticket") != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_get, 3, params, on_visible_row);
}

static void on_transition(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) == 0) {
        api_reply_row(r, err, res, "ticket"); /* error, or 404 */
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *value = PQgetvalue(res, 0, 1);
    if (strcmp(outcome, "ok") == 0) {
        api_reply_json(r, 200, value, (size_t)PQgetlength(res, 0, 1));
        return;
    }
    if (strcmp(outcome, "forbidden") == 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "ticket %s has no job assigned to you; engineers change only the tickets "
                    "of their jobs",
                    r->path[0]);
        return;
    }
    ticket_status_t cur;
    char allowed[160] = "none";
    if (ticket_status_parse(value, &cur) == 0)
        ticket_allowed_actions(cur, allowed, sizeof(allowed));
    api_reply_transition_conflict(r, "ticket", r->path[1], value, allowed);
}

static void transition(api_req_t *r)
{
    ticket_action_t action;
    if (api_path_uuid(r, 0, "ticket") != 0)
        return;
    if (ticket_action_parse(r->path[1], &action) != 0) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "no ticket action \"%s\" (actions: acknowledge, start, wait, resume, "
                    "resolve, close, reopen)",
                    r->path[1]);
        return;
    }
    if (api_is_engineer(r) && action != TICKET_ACT_START && action != TICKET_ACT_WAIT &&
        action != TICKET_ACT_RESUME && action != TICKET_ACT_RESOLVE) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "engineers may start, wait, resume and resolve tickets, not %s",
                    ticket_action_name(action));
        return;
    }
    if (api_body_check(r, note_fields, 1, JV_CREATE, 1) != 0)
        return;

    unsigned sources = ticket_action_sources(action);
    ticket_status_t to = TICKET_NEW;
    for (int s = 0; s < TICKET_STATUS_COUNT; s++) {
        if (sources & (1u << s)) {
            ticket_transition((ticket_status_t)s, action, &to);
            break;
        }
    }
    char src[160];
    ticket_action_sources_literal(action, src, sizeof(src));
    const json_t *note = json_object_get(r->body, "note");
    const char *params[] = {r->path[0],
                            ticket_status_name(to),
                            ticket_action_name(action),
                            src,
                            json_is_string(note) ? json_string_value(note) : NULL,
                            role_name(r->user.role),
                            r->user.id};
    api_query(r, sql_transition, 7, params, on_transition);
}

static int status_valid(const char *s)
{
    ticket_status_t st;
    return ticket_status_parse(s, &st) == 0;
}

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"limit",      "cursor",    "status",    "category",
                                          "site_id",    "client_id", "device_id", "created_from",
                                          "created_to", NULL};
    static const char *const uuids[] = {"site_id", "client_id", "device_id", NULL};
    static const char *const times[] = {"created_from", "created_to", NULL};
    char limit[8], statuses[160], cats[80];
    const char *cur_ts, *cur_id, *st, *ca;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0 ||
        api_query_enum_list(r, "status", status_valid,
                            "new, acknowledged, in_progress, waiting_client, resolved, closed",
                            statuses, sizeof(statuses), &st) != 0 ||
        api_query_enum_list(r, "category", ticket_category_valid,
                            "emergency, standard, consultation", cats, sizeof(cats), &ca) != 0 ||
        api_query_check_values(r, uuids, jv_is_uuid, "a UUID") != 0 ||
        api_query_check_values(r, times, jv_is_timestamp,
                               "an RFC 3339 date-time with offset, e.g. 2026-11-01T00:00:00Z") != 0)
        return;
    const char *params[] = {limit,
                            cur_ts,
                            cur_id,
                            st,
                            ca,
                            qs_get(&r->qs, "site_id"),
                            qs_get(&r->qs, "client_id"),
                            qs_get(&r->qs, "device_id"),
                            qs_get(&r->qs, "created_from"),
                            qs_get(&r->qs, "created_to"),
                            role_name(r->user.role),
                            r->user.id};
    api_list_query(r, sql_list, 12, params);
}

static void sla(api_req_t *r)
{
    if (api_path_uuid(r, 0, "ticket") != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_sla, 3, params, on_visible_row);
}

static void on_at_risk(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "at-risk list");
}

/* The open clocks that fall due first. Not cached: remaining times change by the second. */
static void at_risk(api_req_t *r)
{
    static const char *const allowed[] = {"limit", "within_minutes", "category", NULL};
    char limit[8] = "50", cats[80];
    const char *ca;
    if (api_query_check(r, allowed) != 0 ||
        api_query_enum_list(r, "category", ticket_category_valid,
                            "emergency, standard, consultation", cats, sizeof(cats), &ca) != 0)
        return;
    const char *lim = qs_get(&r->qs, "limit");
    const char *within = qs_get(&r->qs, "within_minutes");
    char *end;
    if (lim != NULL) {
        long n = strtol(lim, &end, 10);
        if (*lim == '\0' || *end != '\0' || n < 1 || n > 500) {
            api_problem(r, 400, "validation", "limit", NULL,
                        "query parameter \"limit\" must be an integer between 1 and 500");
            return;
        }
        snprintf(limit, sizeof(limit), "%ld", n);
    }
    if (within != NULL) {
        long n = strtol(within, &end, 10);
        if (*within == '\0' || *end != '\0' || n < 0 || n > 525600) {
            api_problem(r, 400, "validation", "within_minutes", NULL,
                        "query parameter \"within_minutes\" must be an integer between 0 and "
                        "525600 (a year)");
            return;
        }
    }
    const char *params[] = {limit, within, ca};
    api_query(r, sql_at_risk, 3, params, on_at_risk);
}

void api_tickets_register(server_t *srv)
{
    /* get is the ticket's own (events, jobs, and engineers' visibility) */
    static const api_resource_t res = {
        "ticket", "/api/v1/tickets", ticket_fields, NFIELDS, sql_create,
        NULL,     sql_update,        NULL,          NULL};
    static const api_route_t routes[] = {
        {"POST", "/api/v1/tickets", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_create,
         "tickets.create", &res},
        {"GET", "/api/v1/tickets", ROLE_ANY, list, "tickets.list", NULL},
        {"GET", "/api/v1/tickets/{}", ROLE_ANY, get, "tickets.get", NULL},
        {"GET", "/api/v1/tickets/{}/sla", ROLE_ANY, sla, "tickets.sla", NULL},
        {"GET", "/api/v1/sla/at-risk", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD | ROLE_SENIOR,
         at_risk, "sla.at_risk", NULL},
        {"PATCH", "/api/v1/tickets/{}", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_update,
         "tickets.update", &res},
        {"POST", "/api/v1/tickets/{}/{}",
         ROLE_ADMIN | ROLE_DISPATCHER | ROLE_SENIOR | ROLE_ENGINEER, transition,
         "tickets.transition", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
