/* SPDX-License-Identifier: MIT */
/*
 * api_diag.c - /api/v1/diag: diagnostic sessions run by fieldd for a job (start, search,
 * detail, raw frames, live progress), device actions with explicit confirmation, adding
 * unknown units to the inventory, comparing two sessions of a device, senior engineers'
 * reviews, and the commissioning checklist of a job (docs/diagnostics.md).
 *
 * The work itself is diag.c's; this file checks requests, asks PostgreSQL whether the caller
 * may act (each check is part of the one statement that reads or changes the data), and
 * renders what the statements return. Built without hardware support, starting a session and
 * running an action answer 501; everything that reads or reviews stored sessions still works.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "diag.h"
#include "log.h"
#include "server.h"
#include "sse.h"

#define ROLES_RUN    (ROLE_ADMIN | ROLE_SENIOR | ROLE_ENGINEER)
#define ROLES_READ   ROLE_ANY
#define ROLES_REVIEW (ROLE_ADMIN | ROLE_SENIOR)

#ifdef ACS_WITH_HARDWARE
static const char *const transports[] = {"rtu", "tcp", NULL};
#endif
static const char *const verdicts[] = {"approved", "needs_rework", NULL};
static const char *const item_statuses[] = {"pass", "fail", NULL};

#ifdef ACS_WITH_HARDWARE
static const jv_field_t start_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"job_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"transport", JV_ENUM, JV_REQUIRED, transports, 0, 0},
    {"settings", JV_OBJECT, 0, NULL, 0, 0},
};

static const jv_field_t action_fields[] = {
    {"unit", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"action", JV_STRING, JV_REQUIRED, NULL, 1, 48},
    {"confirm", JV_BOOL, 0, NULL, 0, 0},
    {"reason", JV_STRING, 0, NULL, 0, 2000},
};
#endif

static const jv_field_t add_fields[] = {
    {"location", JV_STRING, 0, NULL, 0, 300},
    {"notes", JV_STRING, 0, NULL, 0, 10000},
};

static const jv_field_t review_fields[] = {
    {"verdict", JV_ENUM, JV_REQUIRED, verdicts, 0, 0},
    {"comment", JV_STRING, 0, NULL, 0, 10000},
};

static const jv_field_t item_fields[] = {
    {"status", JV_ENUM, JV_REQUIRED, item_statuses, 0, 0},
    {"note", JV_STRING, 0, NULL, 0, 5000},
};

static const jv_field_t override_fields[] = {
    {"reason", JV_STRING, JV_REQUIRED, NULL, 1, 5000},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------------------------- */
/* Statements                                                                                */

#ifdef ACS_WITH_HARDWARE
/* $1 id or null, $2 job, $3 transport, $4 settings, $5 role, $6 user */
static const char sql_start[] =
    "WITH j AS (SELECT x.id, x.site_id, x.ticket_id, x.status, x.engineer_id FROM job x"
    "           WHERE x.id = $2::uuid),"
    " prev AS (SELECT s.* FROM diag_session s WHERE s.id = $1::uuid),"
    " chk AS (SELECT CASE"
    "   WHEN EXISTS (SELECT 1 FROM prev) THEN"
    "     CASE WHEN (SELECT p.job_id = $2::uuid AND p.engineer_id = $6::uuid"
    "                       AND p.transport = $3 AND p.settings = $4::jsonb FROM prev p)"
    "          THEN 'replay' ELSE 'conflict' END"
    "   WHEN NOT EXISTS (SELECT 1 FROM j) THEN 'no_job'"
    "   WHEN $5 = 'engineer' AND (SELECT engineer_id FROM j) IS DISTINCT FROM $6::uuid"
    "     THEN 'forbidden'"
    "   WHEN (SELECT status FROM j) IN ('cancelled', 'done') THEN 'closed' END AS problem),"
    " ins AS (INSERT INTO diag_session (id, job_id, ticket_id, site_id, engineer_id, transport,"
    "                                   settings)"
    "         SELECT coalesce($1::uuid, gen_random_uuid()), j.id, j.ticket_id, j.site_id,"
    "                $6::uuid, $3, $4::jsonb FROM j, chk WHERE chk.problem IS NULL"
    "         RETURNING *)"
    " SELECT 'created', acs_diag_session_json(ins)::text, ins.id::text, (SELECT status FROM j)"
    " FROM ins"
    " UNION ALL"
    " SELECT chk.problem, (SELECT acs_diag_session_json(p)::text FROM prev p),"
    "        (SELECT id::text FROM prev), (SELECT status FROM j)"
    " FROM chk WHERE chk.problem IS NOT NULL";

static const char sql_fail_start[] =
    "UPDATE diag_session SET status = 'failed', reason = $2, ended_at = now()"
    " WHERE id = $1::uuid AND status = 'running'";

#endif

/* $1 limit, $2/$3 cursor, $4 site, $5 job, $6 ticket, $7 engineer, $8 serial, $9 code,
 * $10 statuses, $11 from, $12 to, $13 role, $14 user, $15 review (none | a verdict) */
static const char sql_list[] =
    "WITH page AS (SELECT s.created_at, s.id, acs_diag_session_json(s) AS j"
    "   FROM diag_session s"
    "   WHERE ($2::bigint IS NULL OR (s.created_at, s.id) < (acs_cursor_ts($2), $3::uuid))"
    "     AND ($4::uuid IS NULL OR s.site_id = $4::uuid)"
    "     AND ($5::uuid IS NULL OR s.job_id = $5::uuid)"
    "     AND ($6::uuid IS NULL OR s.ticket_id = $6::uuid)"
    "     AND ($7::uuid IS NULL OR s.engineer_id = $7::uuid)"
    "     AND ($8::text IS NULL OR EXISTS (SELECT 1 FROM diag_device d"
    "                                      WHERE d.session_id = s.id AND d.serial = $8))"
    "     AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM diag_finding f"
    "                                      WHERE f.session_id = s.id AND f.code = $9))"
    "     AND ($10::text[] IS NULL OR s.status = ANY ($10::text[]))"
    "     AND ($11::timestamptz IS NULL OR s.started_at >= $11::timestamptz)"
    "     AND ($12::timestamptz IS NULL OR s.started_at < $12::timestamptz)"
    "     AND acs_diag_visible(s, $13, $14::uuid)"
    "     AND ($15::text IS NULL OR $15 = coalesce((SELECT r.verdict FROM review r"
    "                                   WHERE r.session_id = s.id"
    "                                   ORDER BY r.created_at DESC, r.id DESC LIMIT 1), 'none'))"
    "   ORDER BY s.created_at DESC, s.id DESC LIMIT $1::int + 1)"
    " SELECT json_build_object("
    "   'items', coalesce((SELECT json_agg(p.j ORDER BY p.created_at DESC, p.id DESC)"
    "                      FROM (SELECT * FROM page ORDER BY created_at DESC, id DESC"
    "                            LIMIT $1::int) p), '[]'::json),"
    "   'next_cursor', CASE WHEN (SELECT count(*) FROM page) > $1::int THEN"
    "     (SELECT acs_cursor(p.created_at, p.id) FROM page p"
    "      ORDER BY p.created_at DESC, p.id DESC OFFSET $1::int - 1 LIMIT 1) END)::text";

/* $1 id, $2 role, $3 user: (detail, visible) */
static const char sql_get[] =
    "SELECT (acs_diag_session_json(s) || jsonb_build_object("
    "   'units', coalesce((SELECT jsonb_agg(to_jsonb(d) - 'session_id' - 'created_at'"
    "                       - 'updated_at' || jsonb_build_object('unknown', d.device_id IS NULL)"
    "                       ORDER BY d.bus, d.unit_id)"
    "                      FROM diag_device d WHERE d.session_id = s.id), '[]'),"
    "   'unknown_units', coalesce((SELECT jsonb_agg(d.id ORDER BY d.bus, d.unit_id)"
    "                      FROM diag_device d WHERE d.session_id = s.id"
    "                        AND d.device_id IS NULL AND d.serial IS NOT NULL), '[]'),"
    "   'readings', coalesce((SELECT jsonb_agg(to_jsonb(x) - 'session_id' ORDER BY x.read_at,"
    "                          x.diag_device_id, x.name)"
    "                      FROM (SELECT DISTINCT ON (y.diag_device_id, y.name) y.*"
    "                            FROM diag_reading y WHERE y.session_id = s.id"
    "                            ORDER BY y.diag_device_id, y.name, y.read_at DESC) x), '[]'),"
    "   'passes', (SELECT count(DISTINCT (y.diag_device_id, y.read_at)) FROM diag_reading y"
    "              WHERE y.session_id = s.id),"
    "   'findings', coalesce((SELECT jsonb_agg(to_jsonb(f) - 'session_id'"
    "                          ORDER BY f.created_at, f.id)"
    "                      FROM diag_finding f WHERE f.session_id = s.id), '[]'),"
    "   'event_log', coalesce((SELECT jsonb_agg(to_jsonb(e) - 'session_id' - 'raw'"
    "                          ORDER BY e.diag_device_id, e.seq)"
    "                      FROM diag_event_log e WHERE e.session_id = s.id), '[]'),"
    "   'frame_count', (SELECT count(*) FROM diag_frame fr WHERE fr.session_id = s.id),"
    "   'reviews', coalesce((SELECT jsonb_agg(to_jsonb(r) - 'session_id'"
    "                          ORDER BY r.created_at DESC, r.id DESC)"
    "                      FROM review r WHERE r.session_id = s.id), '[]')))::text,"
    "  acs_diag_visible(s, $2, $3::uuid)"
    " FROM diag_session s WHERE s.id = $1::uuid";

/* $1 id, $2 role, $3 user, $4 after, $5 limit, $6 unit, $7 statuses */
static const char sql_frames[] =
    "WITH s AS (SELECT x.* FROM diag_session x WHERE x.id = $1::uuid),"
    " page AS (SELECT f.seq, f.at, f.direction, f.unit_id, encode(f.bytes, 'hex') AS hex,"
    "                 f.status, f.elapsed_ms, f.note AS decoded"
    "          FROM diag_frame f, s WHERE f.session_id = s.id"
    "            AND ($4::int IS NULL OR f.seq > $4::int)"
    "            AND ($6::int IS NULL OR f.unit_id = $6::int)"
    "            AND ($7::text[] IS NULL OR f.status = ANY ($7::text[]))"
    "          ORDER BY f.seq LIMIT $5::int + 1)"
    " SELECT json_build_object("
    "   'items', coalesce((SELECT json_agg(row_to_json(p) ORDER BY p.seq)"
    "                      FROM (SELECT * FROM page ORDER BY seq LIMIT $5::int) p), '[]'::json),"
    "   'next_after', CASE WHEN (SELECT count(*) FROM page) > $5::int THEN"
    "     (SELECT p.seq FROM page p ORDER BY p.seq OFFSET $5::int - 1 LIMIT 1) END)::text,"
    "  acs_diag_visible(s, $2, $3::uuid)"
    " FROM s";

/* $1 id, $2 role, $3 user: (status, reason, visible, live end event JSON) */
static const char sql_stream[] =
    "SELECT s.status, json_build_object('session_id', s.id, 'status', s.status, 'reason',"
    "         s.reason, 'units_read', (SELECT count(*) FROM diag_device d"
    "                                  WHERE d.session_id = s.id AND d.error IS NULL),"
    "         'units_failed', (SELECT count(*) FROM diag_device d"
    "                          WHERE d.session_id = s.id AND d.error IS NOT NULL))::text,"
    "       acs_diag_visible(s, $2, $3::uuid)"
    " FROM diag_session s WHERE s.id = $1::uuid";

/* $1 session, $2 role, $3 user, $4 unit, $5 name, $6 limit: a reading's history */
static const char sql_readings[] =
    "WITH s AS (SELECT x.* FROM diag_session x WHERE x.id = $1::uuid)"
    " SELECT json_build_object('items', coalesce((SELECT json_agg(json_build_object("
    "          'read_at', r.read_at, 'value_num', r.value_num, 'value_text', r.value_text,"
    "          'raw', r.raw, 'unit', r.unit) ORDER BY r.read_at)"
    "        FROM (SELECT y.* FROM diag_reading y, s WHERE y.session_id = s.id"
    "              AND y.diag_device_id = $4::uuid AND y.name = $5"
    "              ORDER BY y.read_at DESC LIMIT $6::int) r), '[]'::json))::text,"
    "  acs_diag_visible(s, $2, $3::uuid)"
    " FROM s";

#ifdef ACS_WITH_HARDWARE
/* $1 session, $2 unit, $3 role, $4 user: what an action needs, and may the caller act */
static const char sql_action_info[] =
    "SELECT s.transport, s.settings::text, d.bus, d.unit_id, d.model,"
    "       CASE WHEN $3 = 'engineer' THEN EXISTS (SELECT 1 FROM job j WHERE j.id = s.job_id"
    "                                             AND j.engineer_id = $4::uuid)"
    "            ELSE true END"
    " FROM diag_session s LEFT JOIN diag_device d ON d.id = $2::uuid AND d.session_id = s.id"
    " WHERE s.id = $1::uuid";

/* $1 session, $2 actor, $3 detail */
static const char sql_action_audit[] =
    "INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    " VALUES ($2::uuid, 'device_action', 'diag_session', $1::uuid, $3::jsonb)";

#endif

#ifdef ACS_WITH_HARDWARE
/* $1 session, $2 role, $3 user: (status, may stop) */
static const char sql_stop_check[] =
    "SELECT s.status, CASE WHEN $2 = 'engineer' THEN s.engineer_id = $3::uuid OR EXISTS ("
    "         SELECT 1 FROM job j WHERE j.id = s.job_id AND j.engineer_id = $3::uuid)"
    "       ELSE true END"
    " FROM diag_session s WHERE s.id = $1::uuid";
#endif

/* $1 session, $2 unit, $3 body, $4 role, $5 user */
static const char sql_add_unit[] =
    "WITH s AS (SELECT x.* FROM diag_session x WHERE x.id = $1::uuid),"
    " d AS (SELECT y.* FROM diag_device y, s WHERE y.id = $2::uuid AND y.session_id = s.id"
    "       FOR UPDATE OF y),"
    " chk AS (SELECT CASE"
    "   WHEN NOT EXISTS (SELECT 1 FROM s) THEN 'no_session'"
    "   WHEN NOT EXISTS (SELECT 1 FROM d) THEN 'no_unit'"
    "   WHEN $4 = 'engineer' AND NOT EXISTS (SELECT 1 FROM job j, s WHERE j.id = s.job_id"
    "                                        AND j.engineer_id = $5::uuid) THEN 'forbidden'"
    "   WHEN (SELECT site_id FROM s) IS NULL THEN 'no_site'"
    "   WHEN (SELECT device_id FROM d) IS NOT NULL THEN 'linked'"
    "   WHEN (SELECT serial IS NULL OR kind IS NULL FROM d) THEN 'unidentified' END AS problem),"
    " dev AS (INSERT INTO device (site_id, kind, model, serial, location, bus, unit_id,"
    "                             firmware_version, notes)"
    "         SELECT s.site_id, d.kind, d.model, d.serial, coalesce($3::jsonb->>'location', ''),"
    "                d.bus, CASE WHEN d.unit_id BETWEEN 1 AND 247 THEN d.unit_id END,"
    "                d.firmware_version, coalesce($3::jsonb->>'notes', '')"
    "         FROM s, d, chk WHERE chk.problem IS NULL RETURNING *),"
    " link AS (UPDATE diag_device y SET device_id = dev.id FROM dev WHERE y.id = $2::uuid),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $5::uuid, 'create', 'device', dev.id,"
    "                  jsonb_build_object('from_diag_device', $2::uuid, 'session_id', $1::uuid)"
    "           FROM dev)"
    " SELECT 'created', row_to_json(dev)::text, dev.id::text FROM dev"
    " UNION ALL SELECT chk.problem, NULL, NULL FROM chk WHERE chk.problem IS NOT NULL";

/* $1 a, $2 b, $3 serial, $4 role, $5 user */
static const char sql_compare[] =
    "WITH sa AS (SELECT x.* FROM diag_session x WHERE x.id = $1::uuid),"
    " sb AS (SELECT x.* FROM diag_session x WHERE x.id = $2::uuid),"
    " da AS (SELECT d.* FROM diag_device d, sa WHERE d.session_id = sa.id AND d.serial = $3"
    "        ORDER BY d.found_at LIMIT 1),"
    " db AS (SELECT d.* FROM diag_device d, sb WHERE d.session_id = sb.id AND d.serial = $3"
    "        ORDER BY d.found_at LIMIT 1),"
    " ra AS (SELECT r.name, r.unit, coalesce(to_jsonb(r.value_num), to_jsonb(r.value_text)) AS v"
    "        FROM diag_reading r, da WHERE r.diag_device_id = da.id),"
    " rb AS (SELECT r.name, r.unit, coalesce(to_jsonb(r.value_num), to_jsonb(r.value_text)) AS v"
    "        FROM diag_reading r, db WHERE r.diag_device_id = db.id),"
    " fa AS (SELECT DISTINCT f.code FROM diag_finding f, da WHERE f.diag_device_id = da.id),"
    " fb AS (SELECT DISTINCT f.code FROM diag_finding f, db WHERE f.diag_device_id = db.id)"
    " SELECT CASE"
    "   WHEN NOT EXISTS (SELECT 1 FROM sa) THEN 'no_a'"
    "   WHEN NOT EXISTS (SELECT 1 FROM sb) THEN 'no_b'"
    "   WHEN NOT (SELECT acs_diag_visible(sa, $4, $5::uuid) FROM sa)"
    "     OR NOT (SELECT acs_diag_visible(sb, $4, $5::uuid) FROM sb) THEN 'forbidden'"
    "   WHEN NOT EXISTS (SELECT 1 FROM da) THEN 'unit_a'"
    "   WHEN NOT EXISTS (SELECT 1 FROM db) THEN 'unit_b' ELSE 'ok' END,"
    "  json_build_object('serial', $3, 'model', (SELECT model FROM db),"
    "   'a', (SELECT json_build_object('session_id', sa.id, 'started_at', sa.started_at,"
    "                                  'firmware_version', da.firmware_version) FROM sa, da),"
    "   'b', (SELECT json_build_object('session_id', sb.id, 'started_at', sb.started_at,"
    "                                  'firmware_version', db.firmware_version) FROM sb, db),"
    "   'firmware_changed', (SELECT da.firmware_version IS DISTINCT FROM db.firmware_version"
    "                        FROM da, db),"
    "   'readings', coalesce((SELECT json_agg(json_build_object('name', coalesce(ra.name, rb.name),"
    "                          'unit', coalesce(ra.unit, rb.unit), 'a', ra.v, 'b', rb.v,"
    "                          'changed', ra.v IS DISTINCT FROM rb.v)"
    "                          ORDER BY coalesce(ra.name, rb.name))"
    "                        FROM ra FULL JOIN rb ON ra.name = rb.name), '[]'::json),"
    "   'findings', json_build_object("
    "     'added', coalesce((SELECT json_agg(code ORDER BY code) FROM fb"
    "                        WHERE code NOT IN (SELECT code FROM fa)), '[]'::json),"
    "     'removed', coalesce((SELECT json_agg(code ORDER BY code) FROM fa"
    "                          WHERE code NOT IN (SELECT code FROM fb)), '[]'::json),"
    "     'kept', coalesce((SELECT json_agg(code ORDER BY code) FROM fa"
    "                       WHERE code IN (SELECT code FROM fb)), '[]'::json)))::text";

/* $1 session, $2 reviewer, $3 verdict, $4 comment */
static const char sql_review[] =
    "WITH s AS (SELECT x.id FROM diag_session x WHERE x.id = $1::uuid),"
    " ins AS (INSERT INTO review (session_id, reviewer_id, verdict, comment)"
    "         SELECT s.id, $2::uuid, $3, $4 FROM s RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $2::uuid, 'review', 'diag_session', ins.session_id,"
    "                  jsonb_build_object('verdict', ins.verdict, 'review_id', ins.id) FROM ins)"
    " SELECT row_to_json(ins)::text FROM ins";

/* $1 job, $2 role, $3 user */
static const char sql_job[] =
    "SELECT json_build_object('job_id', j.id, 'kind', j.kind, 'status', j.status,"
    "   'sessions', coalesce((SELECT json_agg(acs_diag_session_json(s)"
    "                          ORDER BY s.created_at DESC, s.id DESC)"
    "                         FROM diag_session s WHERE s.job_id = j.id), '[]'::json),"
    "   'verdict', (SELECT json_build_object('session_id', r.session_id, 'verdict', r.verdict,"
    "                                        'comment', r.comment, 'reviewer_id', r.reviewer_id,"
    "                                        'created_at', r.created_at)"
    "               FROM review r JOIN diag_session s ON s.id = r.session_id"
    "               WHERE s.job_id = j.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1),"
    "   'checklist', acs_diag_checklist_json(j.id))::text,"
    "  ($2 <> 'engineer' OR j.engineer_id IS NOT DISTINCT FROM $3::uuid)"
    " FROM job j WHERE j.id = $1::uuid";

static const char sql_checklist[] =
    "SELECT acs_diag_checklist_json(j.id)::text,"
    "  ($2 <> 'engineer' OR j.engineer_id IS NOT DISTINCT FROM $3::uuid)"
    " FROM job j WHERE j.id = $1::uuid";

/* $1 job, $2 item, $3 status, $4 note, $5 role, $6 user */
static const char sql_tick[] =
    "WITH j AS (SELECT x.* FROM job x WHERE x.id = $1::uuid),"
    " i AS (SELECT y.* FROM diag_checklist_item y, j WHERE y.id = $2::uuid AND y.job_id = j.id"
    "       FOR UPDATE OF y),"
    " chk AS (SELECT CASE"
    "   WHEN NOT EXISTS (SELECT 1 FROM j) THEN 'no_job'"
    "   WHEN $5 = 'engineer' AND (SELECT engineer_id FROM j) IS DISTINCT FROM $6::uuid"
    "     THEN 'forbidden'"
    "   WHEN NOT EXISTS (SELECT 1 FROM i) THEN 'no_item'"
    "   WHEN (SELECT auto FROM i) THEN 'auto' END AS problem),"
    " upd AS (UPDATE diag_checklist_item y SET status = $3, note = coalesce($4, y.note),"
    "           filled_by = $6::uuid"
    "         FROM chk WHERE chk.problem IS NULL AND y.id = $2::uuid RETURNING y.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $6::uuid, 'checklist_tick', 'job', upd.job_id,"
    "                  jsonb_build_object('item_id', upd.id, 'serial', upd.serial,"
    "                                     'key', upd.key, 'status', upd.status) FROM upd)"
    " SELECT 'ok', row_to_json(upd)::text FROM upd"
    " UNION ALL SELECT chk.problem, NULL FROM chk WHERE chk.problem IS NOT NULL";

static const char sql_templates[] =
    "SELECT json_build_object('items', coalesce(json_agg(row_to_json(t) ORDER BY t.kind,"
    "                                                     t.position), '[]'::json))::text"
    " FROM diag_checklist_template_item t";

/* $1 job, $2 senior, $3 reason */
static const char sql_override[] =
    "WITH j AS (SELECT x.* FROM job x WHERE x.id = $1::uuid),"
    " ins AS (INSERT INTO diag_checklist_override (job_id, senior_id, reason, failing)"
    "         SELECT j.id, $2::uuid, $3, acs_diag_checklist_blocking(j.id) FROM j RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $2::uuid, 'checklist_override', 'job', ins.job_id,"
    "                  jsonb_build_object('reason', ins.reason, 'failing', ins.failing)"
    "           FROM ins)"
    " SELECT row_to_json(ins)::text FROM ins";

/* ---------------------------------------------------------------------------------------- */
/* Shared                                                                                    */

/* Reply column 0 of a (json, visible) row: 404 without a row, 403 when not visible. */
static void reply_visible(api_req_t *r, int err, PGresult *res, const char *what)
{
    if (err == 0 && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "%s %s belongs to a job that is not assigned to you; engineers see only "
                    "their own jobs' diagnostics",
                    what, r->path[0]);
        return;
    }
    api_reply_row(r, err, res, what);
}

static void on_session_row(api_req_t *r, int err, PGresult *res)
{
    reply_visible(r, err, res, "diagnostic session");
}

static void on_job_row(api_req_t *r, int err, PGresult *res)
{
    reply_visible(r, err, res, "job");
}

static void on_plain_row(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "list");
}

static int status_valid(const char *s)
{
    return strcmp(s, "running") == 0 || strcmp(s, "complete") == 0 || strcmp(s, "partial") == 0 ||
           strcmp(s, "failed") == 0;
}

static int frame_status_valid(const char *s)
{
    return strcmp(s, "ok") == 0 || strcmp(s, "timeout") == 0 || strcmp(s, "crc_error") == 0 ||
           strcmp(s, "exception") == 0 || strcmp(s, "unexpected") == 0;
}

static int code_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 64 || s[0] < 'A' || s[0] > 'Z')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int serial_valid(const char *s)
{
    return s[0] != '\0' && strlen(s) <= 100;
}

/* A non-negative integer query parameter within [lo, hi]; NULL when absent. Returns 0, or a
 * negative code after replying 400. */
static int query_int(api_req_t *r, const char *name, long lo, long hi, const char **out)
{
    const char *v = qs_get(&r->qs, name);
    *out = v;
    if (v == NULL)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        api_problem(r, 400, "validation", name, NULL,
                    "query parameter \"%s\" must be an integer from %ld to %ld", name, lo, hi);
        return ACS_EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Start                                                                                     */

#ifdef ACS_WITH_HARDWARE
typedef struct {
    diag_settings_t set;
} start_state_t;

static void on_fail_stored(int err, PGresult *res, void *arg)
{
    (void)res;
    if (err != 0)
        log_error("could not mark diagnostic session %s failed", (const char *)arg);
    free(arg);
}

/* Store the session that could not start as failed, with why (the reply does not wait). */
static void fail_row(api_req_t *r, const char *id, const char *why)
{
    char *copy = strdup(id);
    const char *params[] = {id, why};
    if (copy == NULL ||
        db_query(r->srv->db, sql_fail_start, 2, params, on_fail_stored, copy, NULL) != 0)
        free(copy);
}

static void on_start(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "diagnostic session");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    const char *id = PQgetvalue(res, 0, 2);
    const char *job_status = PQgetvalue(res, 0, 3);
    const char *job_id = json_string_value(json_object_get(r->body, "job_id"));
    if (strcmp(outcome, "replay") == 0) {
        api_reply_json(r, 200, body, strlen(body));
    } else if (strcmp(outcome, "conflict") == 0) {
        api_problem(r, 409, "conflict", "id", NULL,
                    "diagnostic session %s already exists with a different job, engineer or "
                    "settings",
                    id);
    } else if (strcmp(outcome, "no_job") == 0) {
        api_problem(r, 400, "validation", "job_id", NULL, "job %s does not exist", job_id);
    } else if (strcmp(outcome, "forbidden") == 0) {
        api_problem(r, 403, "forbidden", "job_id", NULL,
                    "job %s is not assigned to you; engineers run diagnostics only on their own "
                    "jobs",
                    job_id);
    } else if (strcmp(outcome, "closed") == 0) {
        api_problem(r, 409, "conflict", "job_id", json_pack("{s:s}", "current_status", job_status),
                    "job %s is %s: diagnostics run on jobs that are not done or cancelled", job_id,
                    job_status);
    } else {
        start_state_t *st = r->data;
        char msg[512];
        int rc = 0;
#ifdef ACS_WITH_HARDWARE
        rc = diag_start(id, job_id, &st->set, msg, sizeof(msg));
#else
        (void)st;
        rc = ACS_EINVAL;
        snprintf(msg, sizeof(msg), "not built with hardware support");
#endif
        if (rc == ACS_ECONFLICT) {
            fail_row(r, id, msg);
            api_problem(r, 409, "conflict", "settings", NULL, "%s", msg);
            return;
        }
        if (rc != 0) {
            fail_row(r, id, msg);
            api_problem(r, 503, "unavailable", NULL, NULL,
                        "the diagnostic session could not start: %s", msg);
            return;
        }
        char loc[80];
        snprintf(loc, sizeof(loc), "/api/v1/diag/sessions/%s", id);
        api_reply_created(r, loc, body, strlen(body));
    }
}

#endif

static void start(api_req_t *r)
{
#ifndef ACS_WITH_HARDWARE
    api_problem(r, 501, "not-implemented", NULL, NULL,
                "this fieldd was built without hardware support (ACS_WITH_HARDWARE=OFF): it "
                "cannot run diagnostics; stored sessions can still be read and reviewed");
    return;
#else
    if (api_body_check(r, start_fields, N(start_fields), JV_CREATE, 0) != 0)
        return;
    start_state_t *st = h2o_mem_alloc_pool(&r->req->pool, sizeof(*st));
    char field[128], err[512];
    json_t *norm = NULL;
    if (diag_settings_parse(json_string_value(json_object_get(r->body, "transport")),
                            json_object_get(r->body, "settings"), &st->set, &norm, field,
                            sizeof(field), err, sizeof(err)) != 0) {
        api_problem(r, 400, "validation", field, NULL, "%s", err);
        return;
    }
    const char *user = diag_bus_user(&st->set);
    if (user != NULL) {
        json_decref(norm);
        api_problem(r, 409, "conflict", "settings", NULL,
                    "%s is in use by diagnostic session %s (one master per line: wait for it to "
                    "end, or stop it with POST /api/v1/diag/sessions/%s/stop)",
                    st->set.tcp ? "an endpoint of these settings" : st->set.port, user, user);
        return;
    }
    r->data = st;
    const json_t *id = json_object_get(r->body, "id");
    const char *params[] = {json_is_string(id) ? json_string_value(id) : NULL,
                            json_string_value(json_object_get(r->body, "job_id")),
                            json_string_value(json_object_get(r->body, "transport")),
                            api_json_text(r, norm),
                            role_name(r->user.role),
                            r->user.id};
    json_decref(norm);
    api_query(r, sql_start, 6, params, on_start);
#endif
}

/* ---------------------------------------------------------------------------------------- */
/* Read                                                                                      */

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"site_id", "job_id", "ticket_id", "engineer_id", "serial",
                                          "code",    "status", "from",      "to",          "review",
                                          "limit",   "cursor", NULL};
    static const char *const uuids[] = {"site_id", "job_id", "ticket_id", "engineer_id", NULL};
    static const char *const times[] = {"from", "to", NULL};
    static const char *const serials[] = {"serial", NULL};
    static const char *const codes[] = {"code", NULL};
    char limit[8], statuses[100];
    const char *cur_ts, *cur_id, *st;
    if (api_query_check(r, allowed) != 0 || api_list_params(r, limit, &cur_ts, &cur_id) != 0 ||
        api_query_check_values(r, uuids, jv_is_uuid, "a UUID") != 0 ||
        api_query_check_values(r, times, jv_is_timestamp, "an RFC 3339 date-time with offset") !=
            0 ||
        api_query_check_values(r, serials, serial_valid, "1 to 100 bytes long") != 0 ||
        api_query_check_values(r, codes, code_valid, "a finding code such as TC_SUPPLY_VOLTAGE") !=
            0 ||
        api_query_enum_list(r, "status", status_valid, "running, complete, partial, failed",
                            statuses, sizeof(statuses), &st) != 0)
        return;
    const char *review = qs_get(&r->qs, "review");
    if (review != NULL && strcmp(review, "none") != 0 && strcmp(review, "approved") != 0 &&
        strcmp(review, "needs_rework") != 0) {
        api_problem(r, 400, "validation", "review", NULL,
                    "query parameter \"review\" must be one of: none, approved, needs_rework");
        return;
    }
    const char *params[] = {limit,
                            cur_ts,
                            cur_id,
                            qs_get(&r->qs, "site_id"),
                            qs_get(&r->qs, "job_id"),
                            qs_get(&r->qs, "ticket_id"),
                            qs_get(&r->qs, "engineer_id"),
                            qs_get(&r->qs, "serial"),
                            qs_get(&r->qs, "code"),
                            st,
                            qs_get(&r->qs, "from"),
                            qs_get(&r->qs, "to"),
                            role_name(r->user.role),
                            r->user.id,
                            review};
    api_query(r, sql_list, 15, params, on_plain_row);
}

static void get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "diagnostic session") != 0 ||
        api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_get, 3, params, on_session_row);
}

/* api_path_uuid for a path that takes a query string. */
static int path_uuid_q(api_req_t *r, size_t i, const char *what)
{
    if (r->npath > i && jv_is_uuid(r->path[i]))
        return 0;
    api_problem(r, 404, "not-found", NULL, NULL, "no %s with id %s", what,
                r->npath > i ? r->path[i] : "?");
    return ACS_ENOTFOUND;
}

static void frames(api_req_t *r)
{
    static const char *const allowed[] = {"after", "limit", "unit_id", "status", NULL};
    const char *after, *lim, *unit, *st;
    char statuses[100];
    if (path_uuid_q(r, 0, "diagnostic session") != 0 || api_query_check(r, allowed) != 0 ||
        query_int(r, "after", 0, 2147483647L, &after) != 0 ||
        query_int(r, "limit", 1, 1000, &lim) != 0 || query_int(r, "unit_id", 0, 255, &unit) != 0 ||
        api_query_enum_list(r, "status", frame_status_valid,
                            "ok, timeout, crc_error, exception, unexpected", statuses,
                            sizeof(statuses), &st) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role),   r->user.id,
                            after,      lim != NULL ? lim : "200", unit,
                            st};
    api_query(r, sql_frames, 7, params, on_session_row);
}

static int reading_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 100)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static void readings(api_req_t *r)
{
    static const char *const allowed[] = {"unit", "name", "limit", NULL};
    static const char *const uuids[] = {"unit", NULL};
    static const char *const names[] = {"name", NULL};
    const char *lim;
    if (path_uuid_q(r, 0, "diagnostic session") != 0 || api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, uuids, jv_is_uuid, "a unit id (UUID) from the session") != 0 ||
        api_query_check_values(r, names, reading_name_valid,
                               "a register name such as "
                               "supply_voltage") != 0 ||
        query_int(r, "limit", 1, 10000, &lim) != 0)
        return;
    for (size_t i = 0; i < 2; i++) {
        if (qs_get(&r->qs, allowed[i]) == NULL) {
            api_problem(r, 400, "validation", allowed[i], NULL,
                        "query parameter \"%s\" is required (readings?unit=UNIT&name=NAME)",
                        allowed[i]);
            return;
        }
    }
    const char *params[] = {r->path[0],
                            role_name(r->user.role),
                            r->user.id,
                            qs_get(&r->qs, "unit"),
                            qs_get(&r->qs, "name"),
                            lim != NULL ? lim : "1000"};
    api_query(r, sql_readings, 6, params, on_session_row);
}

static void on_stream(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "diagnostic session");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 2), "t") != 0) {
        reply_visible(r, err, res, "diagnostic session");
        return;
    }
    if (r->srv->shutting_down) {
        api_problem(r, 503, "unavailable", NULL, NULL, "the service is shutting down");
        return;
    }
    int running = strcmp(PQgetvalue(res, 0, 0), "running") == 0;
#ifdef ACS_WITH_HARDWARE
    if (running) {
        /* The stream is the reply: count it now, as it may last for minutes. */
        r->replied = 1;
        if (diag_attach(r->path[0], r->req) == 0) {
            metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 200, 0.0);
            return;
        }
        r->replied = 0;
        /* Not running here: it may have ended since the query read it (its end is committed
         * before this process lets it go), so ask once more. */
        if (r->data == NULL) {
            r->data = r;
            const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
            api_query(r, sql_stream, 3, params, on_stream);
            return;
        }
    }
#endif
    /* Over (or running in another instance): its end as the only event. */
    sse_hub_t *hub;
    if (sse_hub_new(r->srv->loop, &hub) != 0) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    r->replied = 1;
    metrics_observe(&r->srv->metrics, r->route->name, r->route->method, 200, 0.0);
    sse_hub_attach(hub, r->req);
    if (!running)
        sse_hub_publish(hub, "diag_end", PQgetvalue(res, 0, 1));
    sse_hub_close(hub);
}

static void stream(api_req_t *r)
{
    if (api_path_uuid(r, 0, "diagnostic session") != 0 ||
        api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_stream, 3, params, on_stream);
}

static void compare(api_req_t *r);

/* ---------------------------------------------------------------------------------------- */
/* Units and actions                                                                         */

static void on_add_unit(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "diagnostic session");
        return;
    }
    const char *o = PQgetvalue(res, 0, 0);
    if (strcmp(o, "created") == 0) {
        char loc[80];
        snprintf(loc, sizeof(loc), "/api/v1/devices/%s", PQgetvalue(res, 0, 2));
        api_reply_created(r, loc, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    } else if (strcmp(o, "no_session") == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no diagnostic session with id %s",
                    r->path[0]);
    } else if (strcmp(o, "no_unit") == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "diagnostic session %s has no unit with id %s",
                    r->path[0], r->path[1]);
    } else if (strcmp(o, "forbidden") == 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "diagnostic session %s is not of a job assigned to you", r->path[0]);
    } else if (strcmp(o, "no_site") == 0) {
        api_problem(r, 409, "conflict", NULL, NULL,
                    "diagnostic session %s has no site: a unit is added to a site's inventory",
                    r->path[0]);
    } else if (strcmp(o, "linked") == 0) {
        api_problem(r, 409, "conflict", NULL, NULL,
                    "unit %s is already in the inventory (it matched a device by serial number)",
                    r->path[1]);
    } else {
        api_problem(r, 409, "conflict", NULL, NULL,
                    "unit %s was not identified (no model or serial number): it cannot be added",
                    r->path[1]);
    }
}

static void add_unit(api_req_t *r)
{
    if (api_path_uuid(r, 0, "diagnostic session") != 0 || api_path_uuid(r, 1, "unit") != 0 ||
        api_body_check(r, add_fields, N(add_fields), JV_CREATE, 1) != 0)
        return;
    const char *params[] = {r->path[0], r->path[1], api_json_text(r, r->body),
                            role_name(r->user.role), r->user.id};
    api_query(r, sql_add_unit, 5, params, on_add_unit);
}

#ifdef ACS_WITH_HARDWARE
/* An action outlives nothing it does not own: the request may go away while the device
 * works, so the state is on the heap and the request's pool only holds a link to it. */
typedef struct {
    api_req_t *r; /* NULL once the client went away */
    server_t *srv;
    char session[37];
    char actor[37];
    char bus[DIAG_NAME_MAX];
    char action[64];
    char reason[2001];
    int unit;
    int rc;
    char err[600];
    diag_settings_t set;
} action_ctx_t;

static void action_unlink(void *p)
{
    action_ctx_t *c = *(action_ctx_t **)p;
    if (c != NULL)
        c->r = NULL;
}

static void on_action_audit(int err, PGresult *res, void *arg)
{
    action_ctx_t *c = arg;
    (void)res;
    if (err != 0)
        log_error("could not record device action %s on unit %d of session %s in audit_log",
                  c->action, c->unit, c->session);
    if (c->r != NULL) {
        /* The request's pool still holds the link: unhook it, then reply. */
        action_ctx_t **link = c->r->data;
        *link = NULL;
        if (c->rc == 0) {
            json_t *o = json_pack("{s:s, s:i, s:s, s:s}", "action", c->action, "unit_id", c->unit,
                                  "bus", c->bus, "result", "ok");
            char *text = json_dumps(o, JSON_COMPACT);
            api_reply_json(c->r, 200, text, strlen(text));
            free(text);
            json_decref(o);
        } else {
            api_problem(c->r, 502, "device", NULL, NULL, "action %s on unit %d of %s failed: %s",
                        c->action, c->unit, c->bus, c->err);
        }
    }
    free(c);
}

static void on_action_done(int rc, const char *errtext, void *arg)
{
    action_ctx_t *c = arg;
    c->rc = rc;
    snprintf(c->err, sizeof(c->err), "%s", errtext);
    json_t *d =
        json_pack("{s:s, s:i, s:s, s:b, s:s, s:s?, s:s?}", "bus", c->bus, "unit_id", c->unit,
                  "action", c->action, "confirmed", 1, "result", rc == 0 ? "ok" : "error", "error",
                  rc == 0 ? NULL : c->err, "reason", c->reason[0] ? c->reason : NULL);
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    const char *params[] = {c->session, c->actor, text};
    if (text == NULL ||
        db_query(c->srv->db, sql_action_audit, 3, params, on_action_audit, c, NULL) != 0)
        on_action_audit(ACS_EDBDOWN, NULL, c);
    free(text);
}

static void on_action_info(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "diagnostic session");
        return;
    }
    const char *action = json_string_value(json_object_get(r->body, "action"));
    if (strcmp(PQgetvalue(res, 0, 5), "t") != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "diagnostic session %s is not of a job assigned to you; engineers run "
                    "actions only on their own jobs",
                    r->path[0]);
        return;
    }
    if (PQgetisnull(res, 0, 2)) {
        api_problem(r, 400, "validation", "unit", NULL,
                    "diagnostic session %s has no unit with id %s", r->path[0],
                    json_string_value(json_object_get(r->body, "unit")));
        return;
    }
    action_ctx_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    c->r = r;
    c->srv = r->srv;
    snprintf(c->session, sizeof(c->session), "%s", r->path[0]);
    snprintf(c->actor, sizeof(c->actor), "%s", r->user.id);
    snprintf(c->bus, sizeof(c->bus), "%s", PQgetvalue(res, 0, 2));
    snprintf(c->action, sizeof(c->action), "%s", action);
    c->unit = atoi(PQgetvalue(res, 0, 3));
    const json_t *reason = json_object_get(r->body, "reason");
    snprintf(c->reason, sizeof(c->reason), "%s",
             json_is_string(reason) ? json_string_value(reason) : "");
    for (char *p = c->reason + strlen(c->reason); p > c->reason && (p[-1] == ' ' || p[-1] == '\n');)
        *--p = '\0';
    json_t *settings = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    char field[128], msg[512];
    int rc = diag_settings_parse(PQgetvalue(res, 0, 0), settings, &c->set, NULL, field,
                                 sizeof(field), msg, sizeof(msg));
    json_decref(settings);
    if (rc == 0)
        rc = diag_action(c->session, &c->set, c->bus, c->unit,
                         PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4), action,
                         c->reason[0] != '\0', on_action_done, c, msg, sizeof(msg));
    if (rc != 0) {
        if (rc == ACS_ENOTFOUND || rc == ACS_EINVAL)
            api_problem(r, 400, "validation", rc == ACS_EINVAL ? "reason" : "action", NULL, "%s",
                        msg);
        else if (rc == ACS_ECONFLICT)
            api_problem(r, 409, "conflict", NULL, NULL, "%s", msg);
        else
            api_problem(r, 503, "unavailable", NULL, NULL, "%s", msg);
        free(c);
        return;
    }
    action_ctx_t **link = h2o_mem_alloc_shared(&r->req->pool, sizeof(*link), action_unlink);
    *link = c;
    r->data = link;
}
#endif

static void action(api_req_t *r)
{
#ifndef ACS_WITH_HARDWARE
    api_problem(r, 501, "not-implemented", NULL, NULL,
                "this fieldd was built without hardware support (ACS_WITH_HARDWARE=OFF): it "
                "cannot run device actions");
#else
    if (api_path_uuid(r, 0, "diagnostic session") != 0 ||
        api_body_check(r, action_fields, N(action_fields), JV_CREATE, 0) != 0)
        return;
    const char *name = json_string_value(json_object_get(r->body, "action"));
    if (!json_is_true(json_object_get(r->body, "confirm"))) {
        api_problem(r, 400, "validation", "confirm", NULL,
                    "action %s changes what the device does (it may open a passage or "
                    "interrupt access control): send \"confirm\": true to run it",
                    name);
        return;
    }
    const char *params[] = {r->path[0], json_string_value(json_object_get(r->body, "unit")),
                            role_name(r->user.role), r->user.id};
    api_query(r, sql_action_info, 4, params, on_action_info);
#endif
}

#ifdef ACS_WITH_HARDWARE
static void on_stop_check(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "diagnostic session");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 1), "t") != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "diagnostic session %s is not of a job assigned to you", r->path[0]);
        return;
    }
    const char *status = PQgetvalue(res, 0, 0);
    char why[300];
    snprintf(why, sizeof(why), "stopped by %s", r->user.name);
    if (strcmp(status, "running") != 0 || diag_stop(r->path[0], why) != 0) {
        api_problem(r, 409, "conflict", NULL, json_pack("{s:s}", "current_status", status),
                    "diagnostic session %s is %s%s", r->path[0], status,
                    strcmp(status, "running") == 0 ? " in another fieldd instance: stop it there"
                                                   : ": only a running session can be stopped");
        return;
    }
    json_t *o = json_pack("{s:s, s:s}", "id", r->path[0], "status", "stopping");
    char *text = json_dumps(o, JSON_COMPACT);
    api_reply_json(r, 202, text, strlen(text));
    free(text);
    json_decref(o);
}
#endif

static void stop(api_req_t *r)
{
#ifndef ACS_WITH_HARDWARE
    api_problem(r, 501, "not-implemented", NULL, NULL,
                "this fieldd was built without hardware support: no session runs here");
#else
    if (api_path_uuid(r, 0, "diagnostic session") != 0 ||
        api_body_check(r, add_fields, 0, JV_CREATE, 1) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_stop_check, 3, params, on_stop_check);
#endif
}

/* ---------------------------------------------------------------------------------------- */
/* Compare and review                                                                        */

static void on_compare(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "comparison");
        return;
    }
    const char *o = PQgetvalue(res, 0, 0);
    const char *a = qs_get(&r->qs, "a"), *b = qs_get(&r->qs, "b"),
               *serial = qs_get(&r->qs, "serial");
    if (strcmp(o, "ok") == 0)
        api_reply_json(r, 200, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    else if (strcmp(o, "no_a") == 0 || strcmp(o, "no_b") == 0)
        api_problem(r, 400, "validation", o + 3, NULL, "no diagnostic session with id %s",
                    strcmp(o, "no_a") == 0 ? a : b);
    else if (strcmp(o, "forbidden") == 0)
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "engineers compare only sessions of their own jobs");
    else
        api_problem(r, 400, "validation", "serial", NULL,
                    "diagnostic session %s did not read a unit with serial %s",
                    strcmp(o, "unit_a") == 0 ? a : b, serial);
}

static void compare(api_req_t *r)
{
    static const char *const allowed[] = {"a", "b", "serial", NULL};
    static const char *const uuids[] = {"a", "b", NULL};
    static const char *const serials[] = {"serial", NULL};
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, uuids, jv_is_uuid, "a session id (UUID)") != 0 ||
        api_query_check_values(r, serials, serial_valid, "1 to 100 bytes long") != 0)
        return;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (qs_get(&r->qs, allowed[i]) == NULL) {
            api_problem(r, 400, "validation", allowed[i], NULL,
                        "query parameter \"%s\" is required (compare?a=SESSION&b=SESSION&"
                        "serial=SERIAL)",
                        allowed[i]);
            return;
        }
    }
    const char *params[] = {qs_get(&r->qs, "a"), qs_get(&r->qs, "b"), qs_get(&r->qs, "serial"),
                            role_name(r->user.role), r->user.id};
    api_query(r, sql_compare, 5, params, on_compare);
}

static void on_review(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 1) {
        char loc[96];
        snprintf(loc, sizeof(loc), "/api/v1/diag/sessions/%s", r->path[0]);
        api_reply_created(r, loc, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        return;
    }
    api_reply_row(r, err, res, "diagnostic session");
}

static void review(api_req_t *r)
{
    if (api_path_uuid(r, 0, "diagnostic session") != 0 ||
        api_body_check(r, review_fields, N(review_fields), JV_CREATE, 0) != 0)
        return;
    const char *verdict = json_string_value(json_object_get(r->body, "verdict"));
    const char *comment = json_string_value(json_object_get(r->body, "comment"));
    if (comment == NULL)
        comment = "";
    int blank = 1;
    for (const char *p = comment; *p; p++)
        blank &= *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
    if (strcmp(verdict, "needs_rework") == 0 && blank) {
        api_problem(r, 400, "validation", "comment", NULL,
                    "a needs_rework verdict needs a comment saying what to redo");
        return;
    }
    const char *params[] = {r->path[0], r->user.id, verdict, comment};
    api_query(r, sql_review, 4, params, on_review);
}

/* ---------------------------------------------------------------------------------------- */
/* Jobs and checklists                                                                       */

static void job(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 || api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_job, 3, params, on_job_row);
}

static void checklist(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 || api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    const char *params[] = {r->path[0], role_name(r->user.role), r->user.id};
    api_query(r, sql_checklist, 3, params, on_job_row);
}

static void templates(api_req_t *r)
{
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    api_query(r, sql_templates, 0, NULL, on_plain_row);
}

static void on_tick(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "job");
        return;
    }
    const char *o = PQgetvalue(res, 0, 0);
    if (strcmp(o, "ok") == 0)
        api_reply_json(r, 200, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
    else if (strcmp(o, "no_job") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "no job with id %s", r->path[0]);
    else if (strcmp(o, "forbidden") == 0)
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "job %s is not assigned to you; engineers tick only their own checklists",
                    r->path[0]);
    else if (strcmp(o, "no_item") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "job %s has no checklist item %s", r->path[0],
                    r->path[1]);
    else
        api_problem(r, 409, "conflict", NULL, NULL,
                    "checklist item %s is filled from readings: fix the unit and run "
                    "diagnostics again, or ask a senior engineer to override",
                    r->path[1]);
}

static void tick(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 || api_path_uuid(r, 1, "checklist item") != 0 ||
        api_body_check(r, item_fields, N(item_fields), JV_CREATE, 0) != 0)
        return;
    const json_t *note = json_object_get(r->body, "note");
    const char *params[] = {r->path[0],
                            r->path[1],
                            json_string_value(json_object_get(r->body, "status")),
                            json_is_string(note) ? json_string_value(note) : NULL,
                            role_name(r->user.role),
                            r->user.id};
    api_query(r, sql_tick, 6, params, on_tick);
}

static void on_override(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 1) {
        char loc[96];
        snprintf(loc, sizeof(loc), "/api/v1/diag/jobs/%s/checklist", r->path[0]);
        api_reply_created(r, loc, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        return;
    }
    api_reply_row(r, err, res, "job");
}

static void override(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 ||
        api_body_check(r, override_fields, N(override_fields), JV_CREATE, 0) != 0)
        return;
    const char *reason = json_string_value(json_object_get(r->body, "reason"));
    int blank = 1;
    for (const char *p = reason; *p; p++)
        blank &= *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
    if (blank) {
        api_problem(r, 400, "validation", "reason", NULL,
                    "an override needs a reason saying why the job may be done with failing "
                    "items");
        return;
    }
    const char *params[] = {r->path[0], r->user.id, reason};
    api_query(r, sql_override, 3, params, on_override);
}

/* ---------------------------------------------------------------------------------------- */

void api_diag_shutdown(server_t *srv)
{
    (void)srv;
#ifdef ACS_WITH_HARDWARE
    diag_shutdown();
#endif
}

void api_diag_register(server_t *srv)
{
#ifdef ACS_WITH_HARDWARE
    char err[512];
    if (diag_init(srv, err, sizeof(err)) != 0)
        log_warn("diagnostics cannot run: %s", err);
#endif
    static const api_route_t routes[] = {
        {"POST", "/api/v1/diag/sessions", ROLES_RUN, start, "diag.start", NULL},
        {"GET", "/api/v1/diag/sessions", ROLES_READ, list, "diag.list", NULL},
        {"GET", "/api/v1/diag/sessions/{}", ROLES_READ, get, "diag.get", NULL},
        {"GET", "/api/v1/diag/sessions/{}/frames", ROLES_READ, frames, "diag.frames", NULL},
        {"GET", "/api/v1/diag/sessions/{}/events", ROLES_READ, stream, "diag.events", NULL},
        {"GET", "/api/v1/diag/sessions/{}/readings", ROLES_READ, readings, "diag.readings", NULL},
        {"POST", "/api/v1/diag/sessions/{}/units/{}/add",
         ROLE_ADMIN | ROLE_SENIOR | ROLE_ENGINEER | ROLE_DISPATCHER, add_unit, "diag.add_unit",
         NULL},
        {"POST", "/api/v1/diag/sessions/{}/actions", ROLES_RUN, action, "diag.action", NULL},
        {"POST", "/api/v1/diag/sessions/{}/stop", ROLES_RUN, stop, "diag.stop", NULL},
        {"POST", "/api/v1/diag/sessions/{}/reviews", ROLES_REVIEW, review, "diag.review", NULL},
        {"GET", "/api/v1/diag/compare", ROLES_READ, compare, "diag.compare", NULL},
        {"GET", "/api/v1/diag/checklist-templates", ROLES_READ, templates, "diag.templates", NULL},
        {"GET", "/api/v1/diag/jobs/{}", ROLES_READ, job, "diag.job", NULL},
        {"GET", "/api/v1/diag/jobs/{}/checklist", ROLES_READ, checklist, "diag.checklist", NULL},
        {"PUT", "/api/v1/diag/jobs/{}/checklist/{}", ROLES_RUN, tick, "diag.checklist_tick", NULL},
        {"POST", "/api/v1/diag/jobs/{}/checklist/override", ROLES_REVIEW, override,
         "diag.checklist_override", NULL},
    };
    for (size_t i = 0; i < N(routes); i++)
        api_route_add(srv, &routes[i]);
}
