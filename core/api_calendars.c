/* SPDX-License-Identifier: MIT */
/*
 * api_calendars.c - /api/v1/calendars and /api/v1/sla-policies: the business calendars that
 * working time is measured on (weekly hours and exceptions by date) and the SLA policies that
 * name them (a default per ticket category and per-client overrides).
 *
 * Everyone reads; admin and head write. Each write is one SQL statement: it locks the
 * calendar row (so concurrent edits of one calendar take turns), changes the rows, writes the
 * audit_log row, and says in the same result what happened ("created", "updated", "missing",
 * ...). The database's triggers rebuild the calendar's working spans before the statement
 * ends, so a definition the arithmetic cannot use (overlapping hours, an exception outside the
 * covered years) fails the statement and is answered 400 naming why. See docs/sla.md.
 */
#include <stdio.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"

/* ---------------------------------------------------------------------------------------- */
/* Calendars                                                                                */

#define CAL_FIELDS                                                                                 \
    "'id', c.id, 'name', c.name, 'time_zone', c.time_zone, 'mode', c.mode,"                        \
    " 'first_year', c.first_year, 'last_year', c.last_year, 'source', c.source,"                   \
    " 'notes', c.notes, 'created_at', c.created_at, 'updated_at', c.updated_at"

#define HOUR_JSON(h)                                                                               \
    "json_build_object('weekday', " h ".iso_weekday, 'start', to_char(" h ".start_time, "          \
    "'HH24:MI'), 'end', to_char(" h ".end_time, 'HH24:MI'))"

#define EXC_JSON(e)                                                                                \
    "json_build_object('date', " e ".day, 'kind', " e ".kind, 'as_weekday', " e ".as_weekday,"     \
    " 'shorten_min', " e ".shorten_min, 'note', " e ".note, 'source', " e ".source)"

static const char sql_list[] =
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object(" CAL_FIELDS ","
    "   'working_spans', b.spans) ORDER BY c.id), '[]'::json))::text"
    " FROM business_calendar c LEFT JOIN business_calendar_build b ON b.calendar_id = c.id";

/* $1 id, $2 year or NULL. */
static const char sql_get[] =
    "SELECT json_build_object(" CAL_FIELDS ","
    "  'hours', coalesce((SELECT json_agg(" HOUR_JSON(
        "h") " ORDER BY h.iso_weekday, h.start_time)"
             "                     FROM business_calendar_hours h WHERE h.calendar_id = c.id), "
             "'[]'),"
             "  'exceptions', coalesce((SELECT json_agg(" EXC_JSON(
                 "e") " ORDER BY e.day)"
                      "       FROM business_calendar_exception e WHERE e.calendar_id = c.id"
                      "        AND ($2::int IS NULL OR (e.day >= make_date($2::int, 1, 1)"
                      "                                 AND e.day < make_date($2::int + 1, 1, "
                      "1)))), '[]'),"
                      "  'working_time_hours', CASE WHEN $2::int IS NOT NULL AND c.mode = 'weekly'"
                      "        AND $2::int BETWEEN c.first_year AND c.last_year"
                      "      THEN extract(epoch FROM acs_work_between(c.id,"
                      "             make_date($2::int, 1, 1)::timestamp AT TIME ZONE c.time_zone,"
                      "             make_date($2::int + 1, 1, 1)::timestamp AT TIME ZONE "
                      "c.time_zone)) / 3600 END"
                      ")::text FROM business_calendar c WHERE c.id = $1";

/* $1 id, $2 hours (jsonb array, checked), $3 actor. Hours not in the new list are deleted, the
 * others inserted or updated: the two parts touch different rows, so their order does not
 * matter, and the rebuild triggers run once both are done. */
static const char sql_put_hours[] =
    "WITH c AS (SELECT id FROM business_calendar WHERE id = $1 FOR UPDATE),"
    " h AS (SELECT (x->>'weekday')::smallint AS wd, (x->>'start')::time AS s,"
    "              (x->>'end')::time AS e FROM jsonb_array_elements($2::jsonb) x),"
    " del AS (DELETE FROM business_calendar_hours b USING c WHERE b.calendar_id = c.id"
    "         AND NOT EXISTS (SELECT 1 FROM h WHERE h.wd = b.iso_weekday AND h.s = b.start_time)"
    "         RETURNING 1),"
    " up AS (INSERT INTO business_calendar_hours (calendar_id, iso_weekday, start_time, end_time)"
    "        SELECT c.id, h.wd, h.s, h.e FROM c, h"
    "        ON CONFLICT (calendar_id, iso_weekday, start_time)"
    "        DO UPDATE SET end_time = excluded.end_time RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'update_hours', 'business_calendar', NULL,"
    "                  jsonb_build_object('calendar', c.id, 'hours', $2::jsonb) FROM c)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM c) THEN 'updated' ELSE 'missing' END,"
    "   json_build_object('id', $1::text, 'hours', coalesce((SELECT json_agg(" HOUR_JSON(
        "up") "     ORDER BY up.iso_weekday, up.start_time) FROM up), '[]'))::text";

/* $1 id, $2 body (jsonb), $3 actor. */
static const char sql_put_exception[] =
    "WITH c AS (SELECT id FROM business_calendar WHERE id = $1 FOR UPDATE),"
    " b AS (SELECT $2::jsonb AS j),"
    " old AS (SELECT 1 FROM business_calendar_exception e, b"
    "         WHERE e.calendar_id = $1 AND e.day = (b.j->>'date')::date),"
    " up AS (INSERT INTO business_calendar_exception AS e (calendar_id, day, kind, as_weekday,"
    "                                                      shorten_min, note, source)"
    "        SELECT c.id, (j->>'date')::date, j->>'kind', (j->>'as_weekday')::smallint,"
    "               coalesce((j->>'shorten_min')::int,"
    "                        CASE WHEN j->>'kind' = 'short' THEN 60 ELSE 0 END),"
    "               coalesce(j->>'note', ''), coalesce(j->>'source', '') FROM c, b"
    "        ON CONFLICT (calendar_id, day) DO UPDATE SET kind = excluded.kind,"
    "          as_weekday = excluded.as_weekday, shorten_min = excluded.shorten_min,"
    "          note = excluded.note, source = excluded.source RETURNING e.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, CASE WHEN EXISTS (SELECT 1 FROM old) THEN 'update_exception'"
    "                  ELSE 'create_exception' END, 'business_calendar', NULL,"
    "                  jsonb_build_object('calendar', up.calendar_id) || (SELECT j FROM b)"
    "           FROM up)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'missing'"
    "             WHEN EXISTS (SELECT 1 FROM old) THEN 'updated' ELSE 'created' END,"
    "   (SELECT " EXC_JSON("up") " FROM up)::text";

/* $1 id, $2 date, $3 actor. */
static const char sql_delete_exception[] =
    "WITH c AS (SELECT id FROM business_calendar WHERE id = $1 FOR UPDATE),"
    " del AS (DELETE FROM business_calendar_exception e USING c"
    "         WHERE e.calendar_id = c.id AND e.day = $2::date RETURNING e.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'delete_exception', 'business_calendar', NULL,"
    "                  jsonb_build_object('calendar', del.calendar_id, 'date', del.day,"
    "                                     'kind', del.kind) FROM del)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM c) THEN 'missing'"
    "             WHEN EXISTS (SELECT 1 FROM del) THEN 'deleted' ELSE 'no_exception' END,"
    "   (SELECT " EXC_JSON("del") " FROM del)::text";

static const char *const exception_kinds[] = {"holiday", "workday", "short", NULL};

static const jv_field_t exception_fields[] = {
    {"date", JV_DATE, JV_REQUIRED, NULL, 0, 0},
    {"kind", JV_ENUM, JV_REQUIRED, exception_kinds, 0, 0},
    {"as_weekday", JV_INT, JV_NULLABLE, NULL, 1, 7},
    {"shorten_min", JV_INT, 0, NULL, 0, 1440},
    {"note", JV_STRING, 0, NULL, 0, 500},
    {"source", JV_STRING, 0, NULL, 0, 500},
};

static const jv_field_t hours_fields[] = {
    {"hours", JV_ARRAY, JV_REQUIRED, NULL, 0, 0},
};

#define HOURS_MAX 100

/* Reply for a write statement whose row is (outcome, JSON). `location` is used for 201. */
static void reply_outcome(api_req_t *r, int err, PGresult *res, const char *location)
{
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        api_problem(r, 500, "internal", NULL, NULL, "the statement returned no outcome");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *body = PQgetvalue(res, 0, 1);
    size_t len = (size_t)PQgetlength(res, 0, 1);
    if (strcmp(outcome, "created") == 0 && location != NULL)
        api_reply_created(r, location, body, len);
    else if (strcmp(outcome, "created") == 0 || strcmp(outcome, "updated") == 0 ||
             strcmp(outcome, "deleted") == 0)
        api_reply_json(r, 200, body, len);
    else if (strcmp(outcome, "missing") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "no calendar with id %s", r->path[0]);
    else if (strcmp(outcome, "no_exception") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "calendar %s has no exception on %s",
                    r->path[0], r->path[1]);
    else if (strcmp(outcome, "no_client") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "no client with id %s", r->path[1]);
    else if (strcmp(outcome, "no_override") == 0)
        api_problem(r, 404, "not-found", NULL, NULL, "client %s has no %s SLA policy of its own",
                    r->path[1], r->path[0]);
    else if (strcmp(outcome, "bad_first_contact_calendar") == 0 ||
             strcmp(outcome, "bad_resolution_calendar") == 0) {
        const char *field = outcome + 4;
        api_problem(r, 400, "validation", field, NULL, "field \"%s\": no calendar with id %s",
                    field, json_string_value(json_object_get(r->body, field)));
    } else
        api_problem(r, 500, "internal", NULL, NULL, "unexpected outcome %s", outcome);
}

static void on_outcome(api_req_t *r, int err, PGresult *res)
{
    reply_outcome(r, err, res, r->data);
}

static void on_row(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no calendar with id %s", r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "calendar");
}

static void on_text(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "list");
}

static void calendars_list(api_req_t *r)
{
    static const char *const allowed[] = {NULL};
    if (api_query_check(r, allowed) != 0)
        return;
    api_query(r, sql_list, 0, NULL, on_text);
}

static int is_year(const char *s)
{
    if (strlen(s) != 4)
        return 0;
    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return strcmp(s, "2000") >= 0 && strcmp(s, "2100") <= 0;
}

static void calendars_get(api_req_t *r)
{
    static const char *const allowed[] = {"year", NULL};
    static const char *const years[] = {"year", NULL};
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, years, is_year, "a year from 2000 to 2100") != 0)
        return;
    const char *params[] = {r->path[0], qs_get(&r->qs, "year")};
    api_query(r, sql_get, 2, params, on_row);
}

/* "HH:MM" with HH 00-23, MM 00-59, or "24:00" when end is set. */
static int is_clock(const char *s, int end)
{
    if (s == NULL || strlen(s) != 5 || s[2] != ':')
        return 0;
    for (int i = 0; i < 5; i++) {
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return 0;
    }
    int hh = (s[0] - '0') * 10 + (s[1] - '0');
    int mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (end && hh == 24 && mm == 0)
        return 1;
    return hh < 24 && mm < 60;
}

/* Check each item of body.hours: {"weekday": 1..7, "start": "HH:MM", "end": "HH:MM"}, end after
 * start, no two with the same weekday and start. Return 0, or a negative code after replying. */
static int check_hours(api_req_t *r, const json_t *hours)
{
    size_t n = json_array_size(hours);
    if (n > HOURS_MAX) {
        api_problem(r, 400, "validation", "hours", NULL, "field \"hours\" has more than %d items",
                    HOURS_MAX);
        return ACS_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(hours, i);
        const char *key;
        const json_t *v;
        if (!json_is_object(it))
            goto bad;
        json_object_foreach((json_t *)it, key, v)
        {
            if (strcmp(key, "weekday") != 0 && strcmp(key, "start") != 0 && strcmp(key, "end") != 0)
                goto bad;
        }
        const json_t *wd = json_object_get(it, "weekday");
        const char *s = json_string_value(json_object_get(it, "start"));
        const char *e = json_string_value(json_object_get(it, "end"));
        if (!json_is_integer(wd) || json_integer_value(wd) < 1 || json_integer_value(wd) > 7 ||
            !is_clock(s, 0) || !is_clock(e, 1))
            goto bad;
        if (strcmp(e, s) <= 0) {
            api_problem(r, 400, "validation", "hours", NULL,
                        "field \"hours\" item %zu: end %s is not after start %s", i, e, s);
            return ACS_EINVAL;
        }
        for (size_t j = 0; j < i; j++) {
            const json_t *o = json_array_get(hours, j);
            if (json_integer_value(json_object_get(o, "weekday")) == json_integer_value(wd) &&
                strcmp(json_string_value(json_object_get(o, "start")), s) == 0) {
                api_problem(r, 400, "validation", "hours", NULL,
                            "field \"hours\" items %zu and %zu start at the same time", j, i);
                return ACS_EINVAL;
            }
        }
        continue;
    bad:
        api_problem(r, 400, "validation", "hours", NULL,
                    "field \"hours\" item %zu must be {\"weekday\": 1 (Monday) to 7, \"start\": "
                    "\"HH:MM\", \"end\": \"HH:MM\" or \"24:00\"}",
                    i);
        return ACS_EINVAL;
    }
    return 0;
}

static void calendars_put_hours(api_req_t *r)
{
    if (api_body_check(r, hours_fields, 1, JV_CREATE, 0) != 0 ||
        check_hours(r, json_object_get(r->body, "hours")) != 0)
        return;
    r->data = NULL;
    const char *params[] = {r->path[0], api_json_text(r, json_object_get(r->body, "hours")),
                            r->user.id};
    api_query(r, sql_put_hours, 3, params, on_outcome);
}

static void calendars_put_exception(api_req_t *r)
{
    if (api_body_check(r, exception_fields, sizeof(exception_fields) / sizeof(exception_fields[0]),
                       JV_CREATE, 0) != 0)
        return;
    const char *kind = json_string_value(json_object_get(r->body, "kind"));
    const json_t *wd = json_object_get(r->body, "as_weekday");
    const json_t *sh = json_object_get(r->body, "shorten_min");
    if (wd != NULL && !json_is_null(wd) && strcmp(kind, "workday") != 0) {
        api_problem(r, 400, "validation", "as_weekday", NULL,
                    "field \"as_weekday\" applies to kind \"workday\" only");
        return;
    }
    if (sh != NULL && strcmp(kind, "holiday") == 0 && json_integer_value(sh) != 0) {
        api_problem(r, 400, "validation", "shorten_min", NULL,
                    "field \"shorten_min\" does not apply to a holiday");
        return;
    }
    if (sh != NULL && strcmp(kind, "short") == 0 && json_integer_value(sh) == 0) {
        api_problem(r, 400, "validation", "shorten_min", NULL,
                    "field \"shorten_min\" must be at least 1 for a shortened day");
        return;
    }
    const char *date = json_string_value(json_object_get(r->body, "date"));
    const char *path = r->req->path_normalized.base;
    size_t plen = r->req->path_normalized.len;
    size_t cap = plen + 1 + strlen(date) + 1;
    char *loc = h2o_mem_alloc_pool(&r->req->pool, cap);
    snprintf(loc, cap, "%.*s/%s", (int)plen, path, date);
    r->data = loc;
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id};
    api_query(r, sql_put_exception, 3, params, on_outcome);
}

static void calendars_delete_exception(api_req_t *r)
{
    if (!jv_is_date(r->path[1])) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "calendar %s has no exception on %s (dates are YYYY-MM-DD)", r->path[0],
                    r->path[1]);
        return;
    }
    r->data = NULL;
    const char *params[] = {r->path[0], r->path[1], r->user.id};
    api_query(r, sql_delete_exception, 3, params, on_outcome);
}

/* ---------------------------------------------------------------------------------------- */
/* SLA policies                                                                             */

#define POLICY_JSON(p)                                                                             \
    "json_build_object('id', " p ".id, 'category', " p ".category, 'client_id', " p ".client_id,"  \
    " 'first_contact_target_minutes', extract(epoch FROM " p                                       \
    ".first_contact_target)::bigint / 60,"                                                         \
    " 'first_contact_calendar', " p ".first_contact_calendar,"                                     \
    " 'resolution_target_minutes', extract(epoch FROM " p ".resolution_target)::bigint / 60,"      \
    " 'resolution_calendar', " p ".resolution_calendar, 'warn_ratio', " p ".warn_ratio,"           \
    " 'notes', " p ".notes, 'created_at', " p ".created_at, 'updated_at', " p ".updated_at)"

static const char sql_policies[] =
    "SELECT json_build_object('items', coalesce(json_agg(" POLICY_JSON(
        "p") " ORDER BY p.client_id NULLS FIRST, p.category), '[]'::json))::text FROM sla_policy p"
             " WHERE $1::uuid IS NULL OR p.client_id = $1::uuid";

/* The body's values as sla_policy columns, and the checks of the two calendars. */
#define POLICY_VALUES                                                                              \
    " make_interval(mins => (j->>'first_contact_target_minutes')::int),"                           \
    " j->>'first_contact_calendar',"                                                               \
    " make_interval(mins => (j->>'resolution_target_minutes')::int), j->>'resolution_calendar',"   \
    " coalesce((j->>'warn_ratio')::numeric, 0.8), coalesce(j->>'notes', '') FROM b"                \
    " WHERE EXISTS (SELECT 1 FROM business_calendar WHERE id = j->>'first_contact_calendar')"      \
    "   AND EXISTS (SELECT 1 FROM business_calendar WHERE id = j->>'resolution_calendar')"

#define POLICY_SET                                                                                 \
    " DO UPDATE SET first_contact_target = excluded.first_contact_target,"                         \
    " first_contact_calendar = excluded.first_contact_calendar,"                                   \
    " resolution_target = excluded.resolution_target,"                                             \
    " resolution_calendar = excluded.resolution_calendar, warn_ratio = excluded.warn_ratio,"       \
    " notes = excluded.notes RETURNING p.*),"                                                      \
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"          \
    "   SELECT $3::uuid, CASE WHEN EXISTS (SELECT 1 FROM old) THEN 'update' ELSE 'create' END,"    \
    "          'sla_policy', up.id, jsonb_build_object('category', up.category,"                   \
    "          'client_id', up.client_id) || (SELECT j FROM b) FROM up)"

#define POLICY_OUTCOME                                                                             \
    " SELECT CASE"                                                                                 \
    "   WHEN NOT EXISTS (SELECT 1 FROM business_calendar, b"                                       \
    "                    WHERE id = b.j->>'first_contact_calendar')"                               \
    "   THEN 'bad_first_contact_calendar'"                                                         \
    "   WHEN NOT EXISTS (SELECT 1 FROM business_calendar, b WHERE id = "                           \
    "b.j->>'resolution_calendar')"                                                                 \
    "   THEN 'bad_resolution_calendar'"                                                            \
    "   WHEN EXISTS (SELECT 1 FROM old) THEN 'updated' ELSE 'created' END,"                        \
    " (SELECT " POLICY_JSON("up") " FROM up)::text"

/* $1 category, $2 body, $3 actor. */
static const char sql_put_default[] =
    "WITH b AS (SELECT $2::jsonb AS j),"
    " old AS (SELECT 1 FROM sla_policy WHERE category = $1 AND client_id IS NULL),"
    " up AS (INSERT INTO sla_policy AS p (category, client_id, first_contact_target,"
    "          first_contact_calendar, resolution_target, resolution_calendar, warn_ratio, notes)"
    "        SELECT $1, NULL," POLICY_VALUES
    " ON CONFLICT (category) WHERE client_id IS NULL" POLICY_SET POLICY_OUTCOME;

/* $1 category, $2 body, $3 actor, $4 client. */
static const char sql_put_client[] =
    "WITH b AS (SELECT $2::jsonb AS j),"
    " cl AS (SELECT id FROM client WHERE id = $4::uuid),"
    " old AS (SELECT 1 FROM sla_policy WHERE category = $1 AND client_id = $4::uuid),"
    " up AS (INSERT INTO sla_policy AS p (category, client_id, first_contact_target,"
    "          first_contact_calendar, resolution_target, resolution_calendar, warn_ratio, notes)"
    "        SELECT $1, (SELECT id FROM cl)," POLICY_VALUES " AND EXISTS (SELECT 1 FROM cl)"
    "        ON CONFLICT (category, client_id) WHERE client_id IS NOT NULL" POLICY_SET
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM cl) THEN 'no_client' ELSE o.outcome END,"
    "        o.body FROM (" POLICY_OUTCOME ") AS o (outcome, body)";

/* $1 category, $2 client, $3 actor. */
static const char sql_delete_client[] =
    "WITH del AS (DELETE FROM sla_policy WHERE category = $1 AND client_id = $2::uuid"
    "             RETURNING *),"
    " audit AS (INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    "           SELECT $3::uuid, 'delete', 'sla_policy', del.id,"
    "                  jsonb_build_object('category', del.category, 'client_id', del.client_id)"
    "           FROM del)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM del) THEN 'deleted' ELSE 'no_override' END,"
    "   (SELECT " POLICY_JSON("del") " FROM del)::text";

static const jv_field_t policy_fields[] = {
    {"first_contact_target_minutes", JV_INT, JV_REQUIRED, NULL, 1, 525600},
    {"first_contact_calendar", JV_STRING, JV_REQUIRED, NULL, 1, 63},
    {"resolution_target_minutes", JV_INT, JV_REQUIRED, NULL, 1, 525600},
    {"resolution_calendar", JV_STRING, JV_REQUIRED, NULL, 1, 63},
    {"warn_ratio", JV_NUMBER, 0, NULL, 0.01, 0.99},
    {"notes", JV_STRING, 0, NULL, 0, 2000},
};

static int is_category(const char *s)
{
    return strcmp(s, "emergency") == 0 || strcmp(s, "standard") == 0 ||
           strcmp(s, "consultation") == 0;
}

static void policies_list(api_req_t *r)
{
    static const char *const allowed[] = {"client_id", NULL};
    static const char *const ids[] = {"client_id", NULL};
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, ids, jv_is_uuid, "a client's UUID") != 0)
        return;
    const char *params[] = {qs_get(&r->qs, "client_id")};
    api_query(r, sql_policies, 1, params, on_text);
}

/* Check the category (and client) in the path and the body. Return 0, or a negative code
 * after replying. */
static int policy_check(api_req_t *r)
{
    if (!is_category(r->path[0])) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "no SLA category %s (categories: emergency, standard, consultation)",
                    r->path[0]);
        return ACS_EINVAL;
    }
    if (r->npath > 1 && api_path_uuid(r, 1, "client") != 0)
        return ACS_EINVAL;
    return 0;
}

static void policies_put(api_req_t *r)
{
    if (policy_check(r) != 0 ||
        api_body_check(r, policy_fields, sizeof(policy_fields) / sizeof(policy_fields[0]),
                       JV_CREATE, 0) != 0)
        return;
    r->data = NULL; /* a default always exists: replies are 200 */
    const char *params[] = {r->path[0], api_json_text(r, r->body), r->user.id,
                            r->npath > 1 ? r->path[1] : NULL};
    if (r->npath > 1) {
        const char *path = r->req->path_normalized.base;
        r->data = h2o_strdup(&r->req->pool, path, r->req->path_normalized.len).base;
        api_query(r, sql_put_client, 4, params, on_outcome);
    } else {
        api_query(r, sql_put_default, 3, params, on_outcome);
    }
}

static void policies_delete(api_req_t *r)
{
    if (policy_check(r) != 0)
        return;
    r->data = NULL;
    const char *params[] = {r->path[0], r->path[1], r->user.id};
    api_query(r, sql_delete_client, 3, params, on_outcome);
}

void api_calendars_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/api/v1/calendars", ROLE_ANY, calendars_list, "calendars.list", NULL},
        {"GET", "/api/v1/calendars/{}", ROLE_ANY, calendars_get, "calendars.get", NULL},
        {"PUT", "/api/v1/calendars/{}/hours", ROLE_ADMIN | ROLE_HEAD, calendars_put_hours,
         "calendars.hours", NULL},
        {"POST", "/api/v1/calendars/{}/exceptions", ROLE_ADMIN | ROLE_HEAD, calendars_put_exception,
         "calendars.exception_put", NULL},
        {"DELETE", "/api/v1/calendars/{}/exceptions/{}", ROLE_ADMIN | ROLE_HEAD,
         calendars_delete_exception, "calendars.exception_delete", NULL},
        {"GET", "/api/v1/sla-policies", ROLE_ANY, policies_list, "sla_policies.list", NULL},
        {"PUT", "/api/v1/sla-policies/{}", ROLE_ADMIN | ROLE_HEAD, policies_put, "sla_policies.put",
         NULL},
        {"PUT", "/api/v1/sla-policies/{}/clients/{}", ROLE_ADMIN | ROLE_HEAD, policies_put,
         "sla_policies.put_client", NULL},
        {"DELETE", "/api/v1/sla-policies/{}/clients/{}", ROLE_ADMIN | ROLE_HEAD, policies_delete,
         "sla_policies.delete_client", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
