/* SPDX-License-Identifier: MIT */
/*
 * api_engineers.c - /api/v1/engineers: what dispatch knows about each engineer (skills, home
 * base, regions served, time zone, weekly shifts, absences) and an engineer's day.
 *
 * Dispatchers and admins edit; everyone reads, except that an engineer sees only themself.
 * Each change is one statement that also writes its audit_log row. The profile is rendered by
 * acs_engineer_profile() (db/migrations/0011_dispatch.sql); a change's reply overlays the
 * columns it changed, because a statement does not see its own writes.
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"

/* Engineers may read only themselves. Return 0, or a negative code after replying 403. */
static int check_self(api_req_t *r, const char *id)
{
    if (api_is_engineer(r) && strcmp(id, r->user.id) != 0) {
        api_problem(r, 403, "forbidden", NULL, NULL,
                    "engineers see only their own profile and day (yours is %s)", r->user.id);
        return ACS_EFORBIDDEN;
    }
    return 0;
}

static void on_engineer_row(api_req_t *r, int err, PGresult *res)
{
    if (err == ACS_EDBQUERY && strcmp(db_constraint(res), "app_user_time_zone_known") == 0) {
        api_problem(r, 400, "validation", "time_zone", NULL,
                    "%s; use a name from pg_timezone_names, e.g. Europe/Moscow",
                    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        return;
    }
    if (err == ACS_EDBQUERY && strcmp(db_constraint(res), "app_user_home_both") == 0) {
        api_problem(r, 400, "validation", "home_latitude", NULL,
                    "home_latitude and home_longitude go together: give both, or both null");
        return;
    }
    if (err == 0 && PQntuples(res) == 1 && PQgetisnull(res, 0, 0)) {
        api_problem(r, 404, "not-found", NULL, NULL, "no engineer with id %s", r->path[0]);
        return;
    }
    if (err == 0 && PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no engineer with id %s", r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "engineer");
}

/* ---- list and read --------------------------------------------------------------------- */

/* $1 only this id (engineers), $2 skill, $3 region */
static const char sql_list[] =
    "SELECT json_build_object('items', coalesce(json_agg(acs_engineer_profile(u.id)"
    "   ORDER BY u.name, u.id), '[]'::json))::text"
    " FROM app_user u WHERE u.active AND u.role IN ('engineer', 'senior')"
    "   AND ($1::uuid IS NULL OR u.id = $1::uuid)"
    "   AND ($2::text IS NULL OR $2::text = ANY (u.skills))"
    "   AND ($3::text IS NULL OR u.region = $3::text OR $3::text = ANY (u.served_regions))";

static void list(api_req_t *r)
{
    static const char *const allowed[] = {"skill", "region", NULL};
    if (api_query_check(r, allowed) != 0)
        return;
    const char *params[] = {api_is_engineer(r) ? r->user.id : NULL, qs_get(&r->qs, "skill"),
                            qs_get(&r->qs, "region")};
    api_query(r, sql_list, 3, params, on_engineer_row);
}

static const char sql_get[] = "SELECT acs_engineer_profile($1::uuid)::text";

static void get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "engineer") != 0 || check_self(r, r->path[0]) != 0)
        return;
    const char *params[] = {r->path[0]};
    api_query(r, sql_get, 1, params, on_engineer_row);
}

/* ---- edit ------------------------------------------------------------------------------ */

static const jv_field_t profile_fields[] = {
    {"skills", JV_STRING_ARRAY, 0, NULL, 0, 50},
    {"region", JV_STRING, JV_NULLABLE, NULL, 1, 100},
    {"served_regions", JV_STRING_ARRAY, 0, NULL, 0, 100},
    {"home_latitude", JV_NUMBER, JV_NULLABLE, NULL, -90, 90},
    {"home_longitude", JV_NUMBER, JV_NULLABLE, NULL, -180, 180},
    {"home_address", JV_STRING, 0, NULL, 0, 500},
    {"time_zone", JV_STRING, 0, NULL, 1, 100},
};

/* $1 id, $2 body, $3 actor */
static const char sql_update[] =
    "WITH b AS (SELECT $2::jsonb AS j),"
    " cur AS (SELECT u.id FROM app_user u WHERE u.id = $1::uuid"
    "         AND u.role IN ('engineer', 'senior') FOR UPDATE),"
    " upd AS (UPDATE app_user u SET"
    "   skills = CASE WHEN b.j ? 'skills' THEN"
    "     ARRAY(SELECT jsonb_array_elements_text(b.j->'skills')) ELSE u.skills END,"
    "   region = CASE WHEN b.j ? 'region' THEN b.j->>'region' ELSE u.region END,"
    "   served_regions = CASE WHEN b.j ? 'served_regions' THEN"
    "     ARRAY(SELECT jsonb_array_elements_text(b.j->'served_regions')) ELSE u.served_regions END,"
    "   home_latitude = CASE WHEN b.j ? 'home_latitude' THEN (b.j->>'home_latitude')::float8"
    "     ELSE u.home_latitude END,"
    "   home_longitude = CASE WHEN b.j ? 'home_longitude' THEN (b.j->>'home_longitude')::float8"
    "     ELSE u.home_longitude END,"
    "   home_address = CASE WHEN b.j ? 'home_address' THEN b.j->>'home_address'"
    "     ELSE u.home_address END,"
    "   time_zone = CASE WHEN b.j ? 'time_zone' THEN b.j->>'time_zone' ELSE u.time_zone END"
    "   FROM b, cur WHERE u.id = cur.id RETURNING u.*),"
    " aud AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "         SELECT $3::uuid, 'engineer.update', 'user', upd.id, b.j FROM upd, b)"
    " SELECT (acs_engineer_profile(upd.id) || jsonb_build_object('skills', to_jsonb(upd.skills),"
    "   'region', upd.region, 'served_regions', to_jsonb(upd.served_regions),"
    "   'home_latitude', upd.home_latitude, 'home_longitude', upd.home_longitude,"
    "   'home_address', upd.home_address, 'time_zone', upd.time_zone,"
    "   'updated_at', upd.updated_at))::text FROM upd";

static void update(api_req_t *r)
{
    if (api_path_uuid(r, 0, "engineer") != 0 ||
        api_body_check(r, profile_fields, sizeof(profile_fields) / sizeof(profile_fields[0]),
                       JV_PATCH, 0) != 0)
        return;
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id};
    api_query(r, sql_update, 3, params, on_engineer_row);
}

/* ---- weekly shifts --------------------------------------------------------------------- */

static const jv_field_t shifts_fields[] = {
    {"shifts", JV_ARRAY, JV_REQUIRED, NULL, 0, 0},
};

static int is_clock(const char *s)
{
    /* HH:MM or HH:MM:SS, 00:00 - 23:59:59 */
    size_t n = strlen(s);
    if (n != 5 && n != 8)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int colon = i == 2 || i == 5;
        if (colon ? s[i] != ':' : (s[i] < '0' || s[i] > '9'))
            return 0;
    }
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    int sec = n == 8 ? (s[6] - '0') * 10 + (s[7] - '0') : 0;
    return h < 24 && m < 60 && sec < 60;
}

static int check_shift(api_req_t *r, size_t i, const json_t *s)
{
    const char *k;
    const json_t *v;
    if (!json_is_object(s))
        goto bad;
    json_object_foreach((json_t *)s, k, v)
    {
        if (strcmp(k, "iso_weekday") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 7)
                goto bad;
        } else if (strcmp(k, "start_time") == 0 || strcmp(k, "end_time") == 0) {
            if (!json_is_string(v) || !is_clock(json_string_value(v)))
                goto bad;
        } else if (strcmp(k, "valid_from") == 0 || strcmp(k, "valid_until") == 0) {
            if (!json_is_null(v) && (!json_is_string(v) || !jv_is_date(json_string_value(v))))
                goto bad;
        } else {
            goto bad;
        }
    }
    const char *st = json_string_value(json_object_get(s, "start_time"));
    const char *en = json_string_value(json_object_get(s, "end_time"));
    if (json_object_get(s, "iso_weekday") == NULL || st == NULL || en == NULL)
        goto bad;
    char a[16], b[16];
    snprintf(a, sizeof(a), "%s%s", st, strlen(st) == 5 ? ":00" : "");
    snprintf(b, sizeof(b), "%s%s", en, strlen(en) == 5 ? ":00" : "");
    if (strcmp(a, b) == 0) {
        api_problem(r, 400, "validation", "shifts", NULL,
                    "shifts[%zu] starts and ends at %s: a shift needs a length (an end at or "
                    "before the start ends the next day)",
                    i, st);
        return ACS_EINVAL;
    }
    return 0;
bad:
    api_problem(r, 400, "validation", "shifts", NULL,
                "shifts[%zu] must be {\"iso_weekday\": 1-7 (Monday 1), \"start_time\": \"HH:MM\", "
                "\"end_time\": \"HH:MM\", \"valid_from\"?: date, \"valid_until\"?: date}",
                i);
    return ACS_EINVAL;
}

/* $1 id, $2 shifts, $3 actor */
static const char sql_shifts[] =
    "WITH u AS (SELECT x.id FROM app_user x WHERE x.id = $1::uuid"
    "           AND x.role IN ('engineer', 'senior') FOR UPDATE),"
    " del AS (DELETE FROM engineer_shift s USING u WHERE s.engineer_id = u.id),"
    " ins AS (INSERT INTO engineer_shift (engineer_id, iso_weekday, start_time, end_time,"
    "                                     valid_from, valid_until)"
    "         SELECT u.id, (e->>'iso_weekday')::smallint, (e->>'start_time')::time,"
    "                (e->>'end_time')::time, (e->>'valid_from')::date, (e->>'valid_until')::date"
    "         FROM u, jsonb_array_elements($2::jsonb) e RETURNING *),"
    " aud AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "         SELECT $3::uuid, 'engineer.shifts', 'user', u.id,"
    "                jsonb_build_object('shifts', $2::jsonb) FROM u)"
    " SELECT (acs_engineer_profile(u.id) || jsonb_build_object('shifts', coalesce("
    "   (SELECT jsonb_agg(to_jsonb(i) - 'engineer_id' - 'created_at' - 'updated_at'"
    "      ORDER BY i.iso_weekday, i.start_time, i.id) FROM ins i), '[]'::jsonb)))::text FROM u";

static void put_shifts(api_req_t *r)
{
    if (api_path_uuid(r, 0, "engineer") != 0 ||
        api_body_check(r, shifts_fields, 1, JV_CREATE, 0) != 0)
        return;
    const json_t *shifts = json_object_get(r->body, "shifts");
    size_t n = json_array_size(shifts);
    if (n > 100) {
        api_problem(r, 400, "validation", "shifts", NULL,
                    "at most 100 shift rows per engineer (got %zu)", n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_shift(r, i, json_array_get(shifts, i)) != 0)
            return;
    }
    const char *params[] = {r->path[0], api_json_text(r, shifts), r->user.id};
    api_query(r, sql_shifts, 3, params, on_engineer_row);
}

/* ---- absences -------------------------------------------------------------------------- */

static const char *const absence_kinds[] = {"leave", "sick", "training", "other", NULL};

static const jv_field_t absence_fields[] = {
    {"id", JV_UUID, 0, NULL, 0, 0},
    {"kind", JV_ENUM, JV_REQUIRED, absence_kinds, 0, 0},
    {"starts_at", JV_TIMESTAMP, JV_REQUIRED, NULL, 0, 0},
    {"ends_at", JV_TIMESTAMP, JV_REQUIRED, NULL, 0, 0},
    {"note", JV_STRING, 0, NULL, 0, 2000},
};

/* $1 engineer, $2 body, $3 actor */
static const char sql_absence[] =
    "WITH b AS (SELECT $2::jsonb || jsonb_build_object('engineer_id', $1::uuid) AS j),"
    " u AS (SELECT x.id FROM app_user x WHERE x.id = $1::uuid"
    "       AND x.role IN ('engineer', 'senior')),"
    " r AS (SELECT (jsonb_populate_record(NULL::engineer_absence,"
    "         jsonb_build_object('id', gen_random_uuid(), 'note', '') || b.j)).* FROM b),"
    " ok AS (SELECT r.* FROM r, u WHERE r.ends_at > r.starts_at),"
    " ins AS (INSERT INTO engineer_absence (id, engineer_id, kind, starts_at, ends_at, note,"
    "                                       created_by)"
    "         SELECT ok.id, ok.engineer_id, ok.kind, ok.starts_at, ok.ends_at, ok.note, $3::uuid"
    "         FROM ok ON CONFLICT (id) DO NOTHING RETURNING *),"
    " aud AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "         SELECT $3::uuid, 'engineer.absence', 'user', ins.engineer_id, to_jsonb(ins)"
    "         FROM ins)"
    " SELECT 'created', row_to_json(ins)::text, ins.id::text FROM ins"
    " UNION ALL SELECT 'no_engineer', NULL, NULL WHERE NOT EXISTS (SELECT 1 FROM u)"
    " UNION ALL SELECT 'bad_period', NULL, NULL FROM r, u WHERE r.ends_at <= r.starts_at"
    " UNION ALL SELECT CASE WHEN x.engineer_id = $1::uuid AND acs_matches(to_jsonb(x), b.j,"
    "     to_jsonb(jsonb_populate_record(NULL::engineer_absence, b.j)))"
    "   THEN 'replay' ELSE 'conflict' END, row_to_json(x)::text, x.id::text"
    " FROM engineer_absence x, b, ok WHERE x.id = ok.id AND NOT EXISTS (SELECT 1 FROM ins)";

static void on_absence(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) == 0) {
        api_reply_row(r, err, res, "engineer");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    size_t len = (size_t)PQgetlength(res, 0, 1);
    if (strcmp(outcome, "created") == 0) {
        char loc[160];
        snprintf(loc, sizeof(loc), "/api/v1/engineers/%s/absences/%s", r->path[0],
                 PQgetvalue(res, 0, 2));
        api_reply_created(r, loc, body, len);
    } else if (strcmp(outcome, "replay") == 0) {
        api_reply_json(r, 200, body, len);
    } else if (strcmp(outcome, "no_engineer") == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no engineer with id %s", r->path[0]);
    } else if (strcmp(outcome, "bad_period") == 0) {
        api_problem(r, 400, "validation", "ends_at", NULL, "ends_at must be after starts_at");
    } else {
        api_problem(r, 409, "conflict", "id", NULL,
                    "absence %s already exists with different content; use a new id",
                    PQgetvalue(res, 0, 2));
    }
}

static void add_absence(api_req_t *r)
{
    if (api_path_uuid(r, 0, "engineer") != 0 ||
        api_body_check(r, absence_fields, sizeof(absence_fields) / sizeof(absence_fields[0]),
                       JV_CREATE, 0) != 0)
        return;
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id};
    api_query(r, sql_absence, 3, params, on_absence);
}

/* $1 engineer, $2 absence, $3 actor */
static const char sql_absence_delete[] =
    "WITH del AS (DELETE FROM engineer_absence a WHERE a.id = $2::uuid"
    "             AND a.engineer_id = $1::uuid RETURNING a.*),"
    " aud AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "         SELECT $3::uuid, 'engineer.absence_delete', 'user', del.engineer_id, to_jsonb(del)"
    "         FROM del)"
    " SELECT '{\"deleted\":true}' FROM del";

static void on_absence_deleted(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "engineer %s has no absence with id %s",
                    r->path[0], r->path[1]);
        return;
    }
    api_reply_row(r, err, res, "absence");
}

static void delete_absence(api_req_t *r)
{
    if (api_path_uuid(r, 0, "engineer") != 0 || api_path_uuid(r, 1, "absence") != 0)
        return;
    const char *params[] = {r->path[0], r->path[1], r->user.id};
    api_query(r, sql_absence_delete, 3, params, on_absence_deleted);
}

/* ---- a day ----------------------------------------------------------------------------- */

/* $1 engineer, $2 date (or NULL: today in the engineer's zone) */
static const char sql_day[] =
    "WITH u AS (SELECT x.* FROM app_user x WHERE x.id = $1::uuid"
    "           AND x.role IN ('engineer', 'senior')),"
    " d AS (SELECT u.*, coalesce($2::date, (acs_now() AT TIME ZONE u.time_zone)::date) AS day"
    "       FROM u),"
    " b AS (SELECT d.*, d.day::timestamp AT TIME ZONE d.time_zone AS f,"
    "              (d.day + 1)::timestamp AT TIME ZONE d.time_zone AS t FROM d)"
    " SELECT json_build_object('engineer_id', b.id, 'name', b.name, 'date', b.day,"
    "   'time_zone', b.time_zone, 'from', b.f, 'to', b.t,"
    "   'shifts', coalesce((SELECT json_agg(json_build_object('starts_at', i.starts_at,"
    "       'ends_at', i.ends_at) ORDER BY i.starts_at)"
    "     FROM acs_engineer_shift_intervals(b.id, b.f, b.t) i), '[]'::json),"
    "   'absences', coalesce((SELECT json_agg(to_jsonb(a) - 'engineer_id' ORDER BY a.starts_at)"
    "     FROM engineer_absence a WHERE a.engineer_id = b.id AND a.ends_at > b.f"
    "       AND a.starts_at < b.t), '[]'::json),"
    "   'jobs', coalesce((SELECT json_agg(json_build_object('id', j.id, 'title', j.title,"
    "       'kind', j.kind, 'status', j.status, 'priority', j.priority,"
    "       'planned_start', j.planned_start, 'planned_end', j.planned_end,"
    "       'duration_min', j.duration_min, 'required_skills', j.required_skills,"
    "       'notes', j.notes,"
    "       'site', json_build_object('id', s.id, 'name', s.name, 'address', s.address,"
    "         'latitude', s.latitude, 'longitude', s.longitude, 'access_notes', s.access_notes,"
    "         'time_zone', s.time_zone),"
    "       'ticket', CASE WHEN t.id IS NOT NULL THEN json_build_object('id', t.id,"
    "         'number', t.number, 'subject', t.subject, 'category', t.category,"
    "         'status', t.status, 'resolution_due', t.resolution_due) END)"
    "       ORDER BY j.planned_start, j.id)"
    "     FROM job j JOIN site s ON s.id = j.site_id LEFT JOIN ticket t ON t.id = j.ticket_id"
    "     WHERE j.engineer_id = b.id AND j.status <> 'cancelled'"
    "       AND j.planned_start >= b.f AND j.planned_start < b.t), '[]'::json))::text"
    " FROM b";

static void day_of(api_req_t *r, const char *id)
{
    static const char *const allowed[] = {"date", NULL};
    static const char *const dates[] = {"date", NULL};
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, dates, jv_is_date, "a date YYYY-MM-DD") != 0)
        return;
    const char *params[] = {id, qs_get(&r->qs, "date")};
    api_query(r, sql_day, 2, params, on_engineer_row);
}

static void my_day(api_req_t *r)
{
    day_of(r, r->user.id);
}

static void day(api_req_t *r)
{
    if (r->npath < 1 || !jv_is_uuid(r->path[0])) {
        api_problem(r, 404, "not-found", NULL, NULL, "no engineer with id %s (ids are UUIDs)",
                    r->npath ? r->path[0] : "");
        return;
    }
    if (check_self(r, r->path[0]) != 0)
        return;
    day_of(r, r->path[0]);
}

void api_engineers_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/api/v1/engineers", ROLE_ANY, list, "engineers.list", NULL},
        /* before /engineers/{}/day, which would take "me" for an id */
        {"GET", "/api/v1/engineers/me/day", ROLE_ENGINEER | ROLE_SENIOR, my_day, "engineers.my_day",
         NULL},
        {"GET", "/api/v1/engineers/{}", ROLE_ANY, get, "engineers.get", NULL},
        {"PATCH", "/api/v1/engineers/{}", ROLE_ADMIN | ROLE_DISPATCHER, update, "engineers.update",
         NULL},
        {"PUT", "/api/v1/engineers/{}/shifts", ROLE_ADMIN | ROLE_DISPATCHER, put_shifts,
         "engineers.shifts", NULL},
        {"POST", "/api/v1/engineers/{}/absences", ROLE_ADMIN | ROLE_DISPATCHER, add_absence,
         "engineers.absence_add", NULL},
        {"DELETE", "/api/v1/engineers/{}/absences/{}", ROLE_ADMIN | ROLE_DISPATCHER, delete_absence,
         "engineers.absence_delete", NULL},
        {"GET", "/api/v1/engineers/{}/day", ROLE_ANY, day, "engineers.day", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
