/* SPDX-License-Identifier: MIT */
/*
 * api_sites.c - /api/v1/sites: the places where a client's access-control hardware is
 * installed (create, list, get, update).
 *
 * Each write is one SQL statement: the row change and its audit_log row commit together.
 * Bodies are checked against the field table before anything reaches the database; the
 * statement then reads the fields from the body as one jsonb parameter through the table's row
 * type (jsonb_populate_record), so the column types do the conversions. A site stays with the
 * client it was created for: tickets and projects reference (site, client) together, so
 * client_id is read-only. The time zone is checked by a trigger against the zones PostgreSQL
 * knows (constraint site_time_zone_known, answered with a 400 by api_reply_db_error).
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "fsm.h"

static const char *const site_kinds[] = {"residential_complex", "cottage_village",
                                         "business_centre", "industrial", NULL};

static const jv_field_t site_fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"client_id", JV_UUID, JV_REQUIRED | JV_READONLY, NULL, 0, 0},
    {"name", JV_STRING, JV_REQUIRED, NULL, 1, 300},
    {"kind", JV_ENUM, JV_REQUIRED, site_kinds, 0, 0},
    {"time_zone", JV_STRING, 0, NULL, 1, 64},
    {"address", JV_STRING, 0, NULL, 0, 1000},
    {"region", JV_STRING, JV_NULLABLE, NULL, 1, 100},
    {"latitude", JV_NUMBER, JV_NULLABLE, NULL, -90, 90},
    {"longitude", JV_NUMBER, JV_NULLABLE, NULL, -180, 180},
    {"access_notes", JV_STRING, 0, NULL, 0, 10000},
};
#define NFIELDS (sizeof(site_fields) / sizeof(site_fields[0]))

static const char sql_create[] =
    "WITH b AS (SELECT $1::jsonb AS j),"
    " r AS (SELECT (jsonb_populate_record(NULL::site,"
    "        jsonb_build_object('id', gen_random_uuid(), 'time_zone', 'Europe/Moscow',"
    "                           'address', '', 'access_notes', '') || b.j)).* FROM b),"
    " ins AS (INSERT INTO site (id, client_id, name, kind, time_zone, address, region,"
    "                           latitude, longitude, access_notes)"
    "         SELECT id, client_id, name, kind, time_zone, address, region, latitude,"
    "                longitude, access_notes FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $2::uuid, 'create', 'site', id, (SELECT j FROM b) FROM ins)"
    " SELECT 'created', row_to_json(ins)::text, ins.id FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN acs_matches(to_jsonb(s), b.j,"
    "                  to_jsonb(jsonb_populate_record(NULL::site, b.j)))"
    "             THEN 'replay' ELSE 'conflict' END, row_to_json(s)::text, s.id"
    " FROM site s, b WHERE s.id = (b.j->>'id')::uuid AND NOT EXISTS (SELECT 1 FROM ins)";

static const char sql_get[] = "SELECT row_to_json(s)::text FROM site s WHERE s.id = $1";

/* client_id is not in the SET list: the field table refuses it in a PATCH, and the statement
 * would not change it even if it came through. */
static const char sql_update[] =
    "WITH upd AS (UPDATE site s SET (name, kind, time_zone, address, region, latitude,"
    "                                longitude, access_notes) ="
    "    (SELECT r.name, r.kind, r.time_zone, r.address, r.region, r.latitude, r.longitude,"
    "            r.access_notes"
    "     FROM jsonb_populate_record(s, $2::jsonb) r)"
    "   WHERE s.id = $1 RETURNING s.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'update', 'site', id, $2::jsonb FROM upd)"
    " SELECT row_to_json(upd)::text FROM upd";

static const char sql_list[] =
    "WITH page AS (SELECT s.*"
    "   FROM site s"
    "   WHERE ($2::bigint IS NULL OR (s.created_at, s.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::uuid IS NULL OR s.client_id = $4::uuid)"
    "     AND ($5::text[] IS NULL OR s.kind = ANY ($5::text[]))"
    "   ORDER BY s.created_at DESC, s.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

static int kind_valid(const char *name)
{
    return fsm_index(site_kinds, 4, name) >= 0;
}

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"client_id", "kind", "limit", "cursor", NULL};
    char limit[8];
    const char *cur_ts, *cur_id;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0)
        return;
    static const char *const uuids[] = {"client_id", NULL};
    char kinds[128];
    const char *kind;
    if (api_query_check_values(r, uuids, jv_is_uuid, "a UUID") != 0 ||
        api_query_enum_list(r, "kind", kind_valid,
                            "residential_complex, cottage_village, business_centre, industrial",
                            kinds, sizeof(kinds), &kind) != 0)
        return;
    const char *params[] = {limit, cur_ts, cur_id, qs_get(&r->qs, "client_id"), kind};
    api_list_query(r, sql_list, 5, params);
}

void api_sites_register(server_t *srv)
{
    static const api_resource_t res = {"site",  "/api/v1/sites", site_fields, NFIELDS, sql_create,
                                       sql_get, sql_update,      NULL,        NULL};
    static const api_route_t routes[] = {
        {"POST", "/api/v1/sites", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_create, "sites.create",
         &res},
        {"GET", "/api/v1/sites", ROLE_ANY, list, "sites.list", NULL},
        {"GET", "/api/v1/sites/{}", ROLE_ANY, api_resource_get, "sites.get", &res},
        {"PATCH", "/api/v1/sites/{}", ROLE_ADMIN | ROLE_DISPATCHER, api_resource_update,
         "sites.update", &res},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
