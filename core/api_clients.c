/* SPDX-License-Identifier: MIT */
/*
 * api_clients.c - /api/v1/clients: the companies acsfield serves (create, list, get, update).
 *
 * Each write is one SQL statement: the row change and its audit_log row commit together.
 * Bodies are checked against the field table before anything reaches the database; the
 * statement then reads the fields from the body as one jsonb parameter through the table's row
 * type (jsonb_populate_record), so the column types do the conversions.
 */
#include <string.h>

#include "api.h"

static const jv_field_t client_fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"name", JV_STRING, JV_REQUIRED, NULL, 1, 300},
    {"contact_name", JV_STRING, JV_NULLABLE, NULL, 0, 300},
    {"contact_phone", JV_STRING, JV_NULLABLE, NULL, 0, 100},
    {"contact_email", JV_STRING, JV_NULLABLE, NULL, 0, 300},
    {"crm_ref", JV_STRING, JV_NULLABLE, NULL, 1, 200},
    {"notes", JV_STRING, 0, NULL, 0, 10000},
};
#define NFIELDS (sizeof(client_fields) / sizeof(client_fields[0]))

static const char sql_create[] =
    "WITH b AS (SELECT $1::jsonb AS j),"
    " r AS (SELECT (jsonb_populate_record(NULL::client,"
    "        jsonb_build_object('id', gen_random_uuid(), 'notes', '') || b.j)).* FROM b),"
    " ins AS (INSERT INTO client (id, name, contact_name, contact_phone, contact_email,"
    "                             crm_ref, notes)"
    "         SELECT id, name, contact_name, contact_phone, contact_email, crm_ref, notes FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $2::uuid, 'create', 'client', id, (SELECT j FROM b) FROM ins)"
    " SELECT 'created', row_to_json(ins)::text, ins.id FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN acs_matches(to_jsonb(c), b.j,"
    "                  to_jsonb(jsonb_populate_record(NULL::client, b.j)))"
    "             THEN 'replay' ELSE 'conflict' END, row_to_json(c)::text, c.id"
    " FROM client c, b WHERE c.id = (b.j->>'id')::uuid AND NOT EXISTS (SELECT 1 FROM ins)";

static const char sql_get[] = "SELECT row_to_json(c)::text FROM client c WHERE c.id = $1";

static const char sql_update[] =
    "WITH upd AS (UPDATE client c SET (name, contact_name, contact_phone, contact_email,"
    "                                  crm_ref, notes) ="
    "    (SELECT r.name, r.contact_name, r.contact_phone, r.contact_email, r.crm_ref, r.notes"
    "     FROM jsonb_populate_record(c, $2::jsonb) r)"
    "   WHERE c.id = $1 RETURNING c.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'update', 'client', id, $2::jsonb FROM upd)"
    " SELECT row_to_json(upd)::text FROM upd";

static const char sql_list[] =
    "WITH page AS (SELECT c.*"
    "   FROM client c"
    "   WHERE ($2::bigint IS NULL OR (c.created_at, c.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::text IS NULL OR c.name ILIKE '%' || $4 || '%')"
    "   ORDER BY c.created_at DESC, c.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"limit", "cursor", "q", NULL};
    char limit[8];
    const char *cur_ts, *cur_id;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0)
        return;
    const char *params[] = {limit, cur_ts, cur_id, qs_get(&r->qs, "q")};
    api_list_query(r, sql_list, 4, params);
}

void api_clients_register(server_t *srv)
{
    static const api_resource_t res = {"client",   "/api/v1/clients", client_fields, NFIELDS,
                                       sql_create, sql_get,           sql_update,    NULL,
                                       NULL};
    static const api_route_t routes[] = {
        {"POST", "/api/v1/clients", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_create,
         "clients.create", &res},
        {"GET", "/api/v1/clients", ROLE_ANY, list, "clients.list", NULL},
        {"GET", "/api/v1/clients/{}", ROLE_ANY, api_resource_get, "clients.get", &res},
        {"PATCH", "/api/v1/clients/{}", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_update,
         "clients.update", &res},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
