/* SPDX-License-Identifier: MIT */
/*
 * api_devices.c - /api/v1/devices: the turnstile and reader controllers installed on a site
 * (create, list, get, update).
 *
 * Each write is one SQL statement: the row change and its audit_log row commit together.
 * Bodies are checked against the field table before anything reaches the database; the
 * statement then reads the fields from the body as one jsonb parameter through the table's row
 * type (jsonb_populate_record), so the column types do the conversions. (model, serial) is
 * unique (constraint device_model_serial_key, a 409), and site_id must name an existing site
 * (device_site_id_fkey, a 400). A PATCH may move a device to another site, unless tickets
 * already name it on its current site.
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "fsm.h"

static const char *const device_kinds[] = {"turnstile_controller", "reader_controller", NULL};

static const jv_field_t device_fields[] = {
    {"id", JV_UUID, JV_READONLY, NULL, 0, 0},
    {"site_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"kind", JV_ENUM, JV_REQUIRED, device_kinds, 0, 0},
    {"model", JV_STRING, JV_REQUIRED, NULL, 1, 100},
    {"serial", JV_STRING, JV_REQUIRED, NULL, 1, 100},
    {"location", JV_STRING, 0, NULL, 0, 300},
    {"bus", JV_STRING, JV_NULLABLE, NULL, 1, 100},
    {"unit_id", JV_INT, JV_NULLABLE, NULL, 1, 247},
    {"firmware_version", JV_STRING, JV_NULLABLE, NULL, 1, 50},
    {"installed_on", JV_DATE, JV_NULLABLE, NULL, 0, 0},
    {"notes", JV_STRING, 0, NULL, 0, 10000},
};
#define NFIELDS (sizeof(device_fields) / sizeof(device_fields[0]))

/* Everyone who works on the hardware may record it; head only reads (docs/api.md, Roles). */
#define DEVICE_WRITERS (ROLE_ADMIN | ROLE_DISPATCHER | ROLE_SENIOR | ROLE_ENGINEER)

static const char sql_create[] =
    "WITH b AS (SELECT $1::jsonb AS j),"
    " r AS (SELECT (jsonb_populate_record(NULL::device,"
    "        jsonb_build_object('id', gen_random_uuid(), 'location', '', 'notes', '')"
    "        || b.j)).* FROM b),"
    " ins AS (INSERT INTO device (id, site_id, kind, model, serial, location, bus, unit_id,"
    "                             firmware_version, installed_on, notes)"
    "         SELECT id, site_id, kind, model, serial, location, bus, unit_id,"
    "                firmware_version, installed_on, notes FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $2::uuid, 'create', 'device', id, (SELECT j FROM b) FROM ins)"
    " SELECT 'created', row_to_json(ins)::text, ins.id FROM ins"
    " UNION ALL"
    " SELECT CASE WHEN acs_matches(to_jsonb(d), b.j,"
    "                  to_jsonb(jsonb_populate_record(NULL::device, b.j)))"
    "             THEN 'replay' ELSE 'conflict' END, row_to_json(d)::text, d.id"
    " FROM device d, b WHERE d.id = (b.j->>'id')::uuid AND NOT EXISTS (SELECT 1 FROM ins)";

static const char sql_get[] = "SELECT row_to_json(d)::text FROM device d WHERE d.id = $1";

static const char sql_update[] =
    "WITH upd AS (UPDATE device d SET (site_id, kind, model, serial, location, bus, unit_id,"
    "                                  firmware_version, installed_on, notes) ="
    "    (SELECT r.site_id, r.kind, r.model, r.serial, r.location, r.bus, r.unit_id,"
    "            r.firmware_version, r.installed_on, r.notes"
    "     FROM jsonb_populate_record(d, $2::jsonb) r)"
    "   WHERE d.id = $1 RETURNING d.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'update', 'device', id, $2::jsonb FROM upd)"
    " SELECT row_to_json(upd)::text FROM upd";

static const char sql_list[] =
    "WITH page AS (SELECT d.*"
    "   FROM device d"
    "   WHERE ($2::bigint IS NULL OR (d.created_at, d.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::uuid IS NULL OR d.site_id = $4::uuid)"
    "     AND ($5::text[] IS NULL OR d.kind = ANY ($5::text[]))"
    "     AND ($6::text IS NULL OR d.serial = $6::text)"
    "   ORDER BY d.created_at DESC, d.id DESC LIMIT $1::int + 1)" API_LIST_REPLY;

/* Tickets reference (device_id, site_id) together, so moving a device that tickets name breaks
 * ticket_device_id_site_id_fkey. The shared table in api_common.c reads that constraint the
 * other way round (a ticket naming a device of another site), so it is answered here. */
static int update_error(api_req_t *r, int err, const PGresult *res)
{
    if (err == ACS_EDBQUERY && strcmp(db_constraint(res), "ticket_device_id_site_id_fkey") == 0) {
        api_problem(r, 409, "conflict", "site_id", NULL,
                    "device %s cannot be moved to another site: tickets on its current site "
                    "refer to it, and a ticket's device must be on the ticket's site",
                    r->path[0]);
        return 1;
    }
    return 0;
}

static int kind_valid(const char *name)
{
    return fsm_index(device_kinds, 2, name) >= 0;
}

static int serial_valid(const char *serial)
{
    return serial[0] != '\0' && strlen(serial) <= 100;
}

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"site_id", "kind", "serial", "limit", "cursor", NULL};
    char limit[8];
    const char *cur_ts, *cur_id;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0)
        return;
    static const char *const uuids[] = {"site_id", NULL};
    static const char *const serials[] = {"serial", NULL};
    char kinds[64];
    const char *kind;
    if (api_query_check_values(r, uuids, jv_is_uuid, "a UUID") != 0 ||
        api_query_check_values(r, serials, serial_valid, "1 to 100 bytes long") != 0 ||
        api_query_enum_list(r, "kind", kind_valid, "turnstile_controller, reader_controller", kinds,
                            sizeof(kinds), &kind) != 0)
        return;
    const char *params[] = {
        limit, cur_ts, cur_id, qs_get(&r->qs, "site_id"), kind, qs_get(&r->qs, "serial")};
    api_list_query(r, sql_list, 6, params);
}

void api_devices_register(server_t *srv)
{
    static const api_resource_t res = {"device",    "/api/v1/devices", device_fields, NFIELDS,
                                       sql_create,  sql_get,           sql_update,    NULL,
                                       update_error};
    static const api_route_t routes[] = {
        {"POST", "/api/v1/devices", DEVICE_WRITERS, api_resource_create, "devices.create", &res},
        {"GET", "/api/v1/devices", ROLE_ANY, list, "devices.list", NULL},
        {"GET", "/api/v1/devices/{}", ROLE_ANY, api_resource_get, "devices.get", &res},
        {"PATCH", "/api/v1/devices/{}", DEVICE_WRITERS, api_resource_update, "devices.update",
         &res},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
