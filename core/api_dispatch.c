/* SPDX-License-Identifier: MIT */
/*
 * api_dispatch.c - the dispatch API around the planning engine (plan.h, docs/dispatch.md
 * "The HTTP API"): checked assignment (POST /api/v1/jobs/{id}/assign, routed here from
 * api_jobs.c), suggestions for one job, the day plan preview and its acceptance, and the
 * travel-time table.
 *
 * An assignment is two statements and a check between them, none of which blocks the loop:
 *
 *   load (acs_dispatch_problem + fingerprint) --> plan_check() on the loop (microseconds)
 *        ^                                          | refusals and no override: 409
 *        | 'stale' (calendar changed, < 3 tries)    v
 *        +--------------------------------- write (acs_dispatch_assign): ok | conflict
 *
 * The write locks the engineer and compares the fingerprint of their calendar with the one the
 * check saw, so two dispatchers cannot double-book an engineer between check and write.
 * plan_solve() takes seconds for hundreds of jobs: the plan endpoint parses, solves and
 * renders on a libuv worker thread and only replies on the loop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acs_error.h"
#include "api.h"
#include "dispatch.h"
#include "job_fsm.h"
#include "log.h"
#include "server.h"

#define ASSIGN_TRIES     3
#define PLAN_MAX_JOBS    2000
#define PLAN_MAX_ENGS    500
#define PLAN_MAX_RUNNING 2
#define ACCEPT_MAX       2000

/* ---- One checked assignment ------------------------------------------------------------ */

typedef struct assign_op assign_op_t;

/* status 200: body is the job (with warnings); else body is a problem object. */
typedef void (*assign_done_fn)(api_req_t *r, assign_op_t *op, int status, json_t *body);

struct assign_op {
    const char *job_id, *engineer_id, *start, *end, *note, *reason;
    int override;
    int dry_run; /* GET /jobs/{id}/check: answer the check, write nothing */
    int tries;
    char sources[160];
    const char *end_resolved;
    const char *fingerprint;
    char *overridden, *warnings; /* JSON texts for the write (malloc) */
    assign_done_fn done;
    void *owner;
};

/* $1 job, $2 engineer, $3 start, $4 end (or NULL), $5 sources */
static const char sql_assign_load[] =
    "WITH k AS (SELECT x.id, x.status, x.duration_min FROM job x WHERE x.id = $1::uuid),"
    " u AS (SELECT u.id, u.time_zone FROM app_user u WHERE u.id = $2::uuid AND u.active"
    "       AND u.role IN ('engineer', 'senior')),"
    " t AS (SELECT $3::timestamptz AS s, coalesce($4::timestamptz, $3::timestamptz"
    "         + (SELECT duration_min FROM k) * interval '1 minute') AS e),"
    " c AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM k) THEN 'not_found'"
    "         WHEN (SELECT status FROM k) <> ALL ($5::text[]) THEN 'conflict'"
    "         WHEN NOT EXISTS (SELECT 1 FROM u) THEN 'no_engineer'"
    "         WHEN t.e <= t.s THEN 'bad_window' ELSE 'ok' END AS outcome, t.s, t.e FROM t)"
    " SELECT c.outcome, (SELECT status FROM k), acs_epoch(c.s), acs_epoch(c.e), c.e::text,"
    "   CASE WHEN c.outcome = 'ok' THEN acs_dispatch_problem(ARRAY[$2::uuid], ARRAY[$1::uuid],"
    "          c.s, c.e, (SELECT time_zone FROM u)) END,"
    "   CASE WHEN c.outcome = 'ok' THEN acs_dispatch_fingerprint($2::uuid, c.s, c.e) END,"
    "   (SELECT time_zone FROM u)"
    " FROM c";

static const char sql_assign_write[] =
    "SELECT outcome, body FROM acs_dispatch_assign($1::uuid, $2::uuid, $3::timestamptz,"
    " $4::timestamptz, $5::uuid, $6, $7, $8::jsonb, $9::jsonb, $10, $11::text[])";

static void assign_load(api_req_t *r, assign_op_t *op);

/* Finish with a problem object {type, status, detail, field?, ...extra}. */
static void op_fail(api_req_t *r, assign_op_t *op, int status, const char *type, const char *field,
                    json_t *extra, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void op_fail(api_req_t *r, assign_op_t *op, int status, const char *type, const char *field,
                    json_t *extra, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    json_t *o = extra != NULL ? extra : json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "status", json_integer(status));
    json_object_set_new(o, "detail", json_string(detail));
    if (field != NULL)
        json_object_set_new(o, "field", json_string(field));
    op->done(r, op, status, o);
}

static void op_db_fail(api_req_t *r, assign_op_t *op, int err, PGresult *res)
{
    if (err == ACS_EDBQUERY) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        log_error("assign %s: query failed: %s [%s]", op->job_id, msg ? msg : "?",
                  db_sqlstate(res));
        op_fail(r, op, 500, "internal", NULL, NULL, "the database refused the assignment: %s",
                msg ? msg : db_sqlstate(res));
        return;
    }
    op_fail(r, op, 503, "unavailable", NULL, NULL,
            "the database is not available (%s); retry the request", acs_strerror(err));
}

static void op_status_conflict(api_req_t *r, assign_op_t *op, const char *status)
{
    job_status_t cur;
    char allowed[160] = "none";
    if (job_status_parse(status, &cur) == 0)
        job_allowed_actions(cur, allowed, sizeof(allowed));
    json_t *arr = json_array();
    if (strcmp(allowed, "none") != 0) {
        const char *p = allowed;
        while (*p != '\0') {
            const char *end = strstr(p, ", ");
            size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
            json_array_append_new(arr, json_stringn(p, n));
            p += n + (end != NULL ? 2 : 0);
        }
    }
    op_fail(r, op, 409, "conflict", NULL,
            json_pack("{s:s, s:o}", "current_status", status, "allowed", arr),
            "job %s is %s: assign is not allowed from there (allowed: %s)", op->job_id, status,
            allowed);
}

static void on_assign_written(api_req_t *r, int err, PGresult *res)
{
    assign_op_t *op = r->data;
    if (err != 0 || PQntuples(res) != 1) {
        op_db_fail(r, op, err != 0 ? err : ACS_EDBQUERY, res);
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "ok") == 0) {
        json_t *job = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
        if (job == NULL) {
            op_fail(r, op, 500, "internal", NULL, NULL, "the assigned job could not be read");
            return;
        }
        op->done(r, op, 200, job);
    } else if (strcmp(outcome, "stale") == 0 && ++op->tries < ASSIGN_TRIES) {
        assign_load(r, op);
    } else if (strcmp(outcome, "stale") == 0) {
        op_fail(r, op, 503, "unavailable", NULL, NULL,
                "engineer %s's calendar kept changing while job %s was being assigned; retry",
                op->engineer_id, op->job_id);
    } else if (strcmp(outcome, "conflict") == 0) {
        op_status_conflict(r, op, PQgetvalue(res, 0, 1));
    } else {
        op_fail(r, op, 404, "not-found", NULL, NULL, "no job with id %s", op->job_id);
    }
}

static char *dup_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    return s;
}

static void on_assign_loaded(api_req_t *r, int err, PGresult *res)
{
    assign_op_t *op = r->data;
    if (err != 0 || PQntuples(res) != 1) {
        op_db_fail(r, op, err != 0 ? err : ACS_EDBQUERY, res);
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "not_found") == 0) {
        op_fail(r, op, 404, "not-found", NULL, NULL, "no job with id %s", op->job_id);
        return;
    }
    if (strcmp(outcome, "conflict") == 0) {
        op_status_conflict(r, op, PQgetvalue(res, 0, 1));
        return;
    }
    if (strcmp(outcome, "no_engineer") == 0) {
        op_fail(r, op, 400, "validation", "engineer_id", NULL,
                "engineer %s does not exist, is deactivated, or is not an engineer",
                op->engineer_id);
        return;
    }
    if (strcmp(outcome, "bad_window") == 0) {
        op_fail(r, op, 400, "validation", "planned_end", NULL,
                "planned_end must be after planned_start");
        return;
    }
    int64_t start = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    int64_t end = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
    char perr[256];
    dispatch_problem_t *p = NULL;
    if (dispatch_problem_parse(PQgetvalue(res, 0, 5), (size_t)PQgetlength(res, 0, 5),
                               DISPATCH_NO_SHIFT_UNBOUNDED, &p, perr, sizeof(perr)) != 0 ||
        p->n_engineers != 1 || p->n_jobs != 1) {
        if (p != NULL)
            snprintf(perr, sizeof(perr), "the engineer or the job is missing from the problem");
        dispatch_problem_free(p);
        op_fail(r, op, 500, "internal", NULL, NULL, "cannot check the assignment: %s", perr);
        return;
    }
    /* The interval asked for is what is checked, whatever the job's estimate. */
    plan_job_t job = p->jobs[0];
    job.duration = end - start;
    plan_reason_t reasons[32];
    size_t n = 0, nref = 0;
    plan_check(&p->model, &p->engineers[0], &job, start, reasons, 32, &n, &nref);
    if (n > 32)
        n = 32;
    json_t *refusals = json_array(), *warnings = json_array();
    for (size_t i = 0; i < n; i++) {
        reasons[i].job = &p->jobs[0]; /* a pointer into p, not into this frame */
        json_t *rj = dispatch_reason_json(p, &reasons[i]);
        json_array_append_new(plan_reason_is_refusal(reasons[i].code) ? refusals : warnings, rj);
    }
    int offset = dispatch_problem_offset(p, &p->engineers[0], start);
    dispatch_problem_free(p);
    const char *tz = PQgetvalue(res, 0, 7);
    if (op->dry_run) {
        op->done(r, op, 200,
                 json_pack("{s:b, s:o, s:o, s:s, s:i}", "allowed", json_array_size(refusals) == 0,
                           "reasons", refusals, "warnings", warnings, "time_zone", tz,
                           "utc_offset_s", offset));
        return;
    }
    if (json_array_size(refusals) > 0 && !op->override) {
        char detail[1024] = "";
        size_t used = 0, i;
        json_t *x;
        json_array_foreach(refusals, i, x)
        {
            int w = snprintf(detail + used, sizeof(detail) - used, "%s%s", i ? "; " : "",
                             json_string_value(json_object_get(x, "sentence")));
            if (w < 0 || (size_t)w >= sizeof(detail) - used)
                break;
            used += (size_t)w;
        }
        op_fail(r, op, 409, "assignment-refused", NULL,
                json_pack("{s:o, s:o, s:s, s:i, s:b}", "reasons", refusals, "warnings", warnings,
                          "time_zone", tz, "utc_offset_s", offset, "override_allowed", 1),
                "%s", detail);
        return;
    }
    int overriding = json_array_size(refusals) > 0;
    free(op->overridden);
    free(op->warnings);
    op->overridden = dup_json(refusals);
    op->warnings = dup_json(warnings);
    op->end_resolved = h2o_strdup(&r->req->pool, PQgetvalue(res, 0, 4), SIZE_MAX).base;
    op->fingerprint = h2o_strdup(&r->req->pool, PQgetvalue(res, 0, 6), SIZE_MAX).base;
    const char *params[] = {op->job_id,
                            op->engineer_id,
                            op->start,
                            op->end_resolved,
                            r->user.id,
                            op->note,
                            overriding ? op->reason : NULL,
                            op->overridden,
                            op->warnings,
                            op->fingerprint,
                            op->sources};
    api_query(r, sql_assign_write, 11, params, on_assign_written);
}

static void assign_load(api_req_t *r, assign_op_t *op)
{
    r->data = op;
    const char *params[] = {op->job_id, op->engineer_id, op->start, op->end, op->sources};
    api_query(r, sql_assign_load, 5, params, on_assign_loaded);
}

static void assign_op_init(assign_op_t *op, assign_done_fn done, void *owner)
{
    memset(op, 0, sizeof(*op));
    job_action_sources_literal(JOB_ACT_ASSIGN, op->sources, sizeof(op->sources));
    op->done = done;
    op->owner = owner;
}

static void assign_op_release(assign_op_t *op)
{
    free(op->overridden);
    free(op->warnings);
    op->overridden = op->warnings = NULL;
}

/* The reply of a single assignment. */
static void assign_reply(api_req_t *r, assign_op_t *op, int status, json_t *body)
{
    assign_op_release(op);
    if (status == 200) {
        char *text = json_dumps(body, JSON_COMPACT);
        json_decref(body);
        if (text == NULL) {
            api_problem(r, 500, "internal", NULL, NULL, "out of memory");
            return;
        }
        api_reply_json(r, 200, text, strlen(text));
        free(text);
        return;
    }
    const char *type = json_string_value(json_object_get(body, "type"));
    const char *field = json_string_value(json_object_get(body, "field"));
    char type_s[64], field_s[64], detail[1024];
    snprintf(type_s, sizeof(type_s), "%s", type != NULL ? type : "internal");
    snprintf(field_s, sizeof(field_s), "%s", field != NULL ? field : "");
    snprintf(detail, sizeof(detail), "%s", json_string_value(json_object_get(body, "detail")));
    json_object_del(body, "type");
    json_object_del(body, "status");
    json_object_del(body, "detail");
    json_object_del(body, "field");
    api_problem(r, status, type_s, field_s[0] ? field_s : NULL, body, "%s", detail);
}

static const jv_field_t assign_fields[] = {
    {"engineer_id", JV_UUID, JV_REQUIRED, NULL, 0, 0},
    {"planned_start", JV_TIMESTAMP, JV_REQUIRED, NULL, 0, 0},
    {"planned_end", JV_TIMESTAMP, JV_REQUIRED, NULL, 0, 0},
    {"note", JV_STRING, JV_NULLABLE, NULL, 0, 5000},
    {"override", JV_BOOL, 0, NULL, 0, 0},
    {"reason", JV_STRING, JV_NULLABLE, NULL, 0, 2000},
};

static const char *body_str(api_req_t *r, const char *name)
{
    const json_t *v = json_object_get(r->body, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void api_dispatch_assign(api_req_t *r)
{
    if (api_path_uuid(r, 0, "job") != 0 ||
        api_body_check(r, assign_fields, sizeof(assign_fields) / sizeof(assign_fields[0]),
                       JV_CREATE, 0) != 0)
        return;
    assign_op_t *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    assign_op_init(op, assign_reply, NULL);
    op->job_id = r->path[0];
    op->engineer_id = body_str(r, "engineer_id");
    op->start = body_str(r, "planned_start");
    op->end = body_str(r, "planned_end");
    op->note = body_str(r, "note");
    op->reason = body_str(r, "reason");
    op->override = json_is_true(json_object_get(r->body, "override"));
    if (op->override && (op->reason == NULL || op->reason[0] == '\0')) {
        api_problem(r, 400, "validation", "reason", NULL,
                    "an override needs a \"reason\" (1-2000 characters) for the audit log");
        return;
    }
    if (!op->override && op->reason != NULL) {
        api_problem(r, 400, "validation", "reason", NULL,
                    "\"reason\" goes with \"override\": true; leave it out otherwise");
        return;
    }
    assign_load(r, op);
}

/* GET /api/v1/jobs/{id}/check?engineer_id=&planned_start=&planned_end=: the assignment's
 * check without the assignment, for a board that shows the reasons before a drop. */
static void check(api_req_t *r)
{
    static const char *const allowed[] = {"engineer_id", "planned_start", "planned_end", NULL};
    static const char *const times[] = {"planned_start", "planned_end", NULL};
    static const char *const ids[] = {"engineer_id", NULL};
    if (r->npath < 1 || !jv_is_uuid(r->path[0])) {
        api_problem(r, 404, "not-found", NULL, NULL, "no job with id %s (ids are UUIDs)",
                    r->npath ? r->path[0] : "");
        return;
    }
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, ids, jv_is_uuid, "a UUID") != 0 ||
        api_query_check_values(r, times, jv_is_timestamp, "an RFC 3339 date-time with offset") != 0)
        return;
    for (size_t i = 0; allowed[i] != NULL; i++) {
        if (qs_get(&r->qs, allowed[i]) == NULL) {
            api_problem(r, 400, "validation", allowed[i], NULL,
                        "query parameter \"%s\" is required", allowed[i]);
            return;
        }
    }
    assign_op_t *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    assign_op_init(op, assign_reply, NULL);
    op->dry_run = 1;
    op->job_id = r->path[0];
    op->engineer_id = qs_get(&r->qs, "engineer_id");
    op->start = qs_get(&r->qs, "planned_start");
    op->end = qs_get(&r->qs, "planned_end");
    assign_load(r, op);
}

/* ---- Suggestions ----------------------------------------------------------------------- */

/* $1 job, $2 from, $3 to, $4 caller */
static const char sql_suggest_load[] =
    "WITH j AS (SELECT x.id, x.status, x.window_start FROM job x WHERE x.id = $1::uuid),"
    " f AS (SELECT coalesce($2::timestamptz, greatest(acs_now(),"
    "         coalesce(j.window_start, acs_now()))) AS f, j.status FROM j),"
    " h AS (SELECT f.f, coalesce($3::timestamptz, f.f + interval '7 days') AS t, f.status"
    "       FROM f),"
    " c AS (SELECT CASE WHEN h.t <= h.f THEN 'bad_period'"
    "         WHEN h.t - h.f > interval '31 days' THEN 'too_long'"
    "         WHEN h.status NOT IN ('planned', 'assigned', 'en_route') THEN 'conflict'"
    "         ELSE 'ok' END AS outcome, h.* FROM h)"
    " SELECT c.outcome, c.status, CASE WHEN c.outcome = 'ok' THEN acs_dispatch_problem("
    "   ARRAY(SELECT u.id FROM app_user u WHERE u.active AND u.role IN ('engineer', 'senior')"
    "         AND u.home_latitude IS NOT NULL ORDER BY u.name, u.id),"
    "   ARRAY[$1::uuid], c.f, c.t,"
    "   coalesce((SELECT time_zone FROM app_user WHERE id = $4::uuid), 'UTC')) END"
    " FROM c";

static void on_suggest_loaded(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) == 0) {
        api_reply_row(r, err, res, "job");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "bad_period") == 0) {
        api_problem(r, 400, "validation", "to", NULL, "\"to\" must be after \"from\"");
        return;
    }
    if (strcmp(outcome, "too_long") == 0) {
        api_problem(r, 400, "validation", "to", NULL,
                    "the search period is limited to 31 days; narrow \"from\" and \"to\"");
        return;
    }
    if (strcmp(outcome, "conflict") == 0) {
        api_problem(r, 409, "conflict", NULL,
                    json_pack("{s:s}", "current_status", PQgetvalue(res, 0, 1)),
                    "job %s is %s: suggestions are for jobs that can still be assigned", r->path[0],
                    PQgetvalue(res, 0, 1));
        return;
    }
    char perr[256];
    dispatch_problem_t *p = NULL;
    if (dispatch_problem_parse(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2),
                               DISPATCH_NEED_HOME, &p, perr, sizeof(perr)) != 0) {
        api_problem(r, 500, "internal", NULL, NULL, "%s", perr);
        return;
    }
    plan_suggestion_t *sg = NULL;
    size_t n = 0;
    long limit = (long)(intptr_t)r->data;
    json_t *items = json_array();
    if (p->n_jobs == 1 && plan_suggest(&p->problem, 0, &sg, &n) == 0) {
        for (size_t i = 0; i < n && (long)json_array_size(items) < limit; i++) {
            if (sg[i].start >= p->to)
                continue;
            const plan_engineer_t *e = &p->engineers[sg[i].engineer];
            const dispatch_engineer_info_t *in = &p->info[sg[i].engineer];
            char sentence[512], st[32], en[32];
            int off = dispatch_offset_at(in->offsets, in->n_offsets, sg[i].start);
            if (plan_suggestion_format(&p->problem, 0, &sg[i], off, sentence, sizeof(sentence)) < 0)
                sentence[0] = '\0';
            dispatch_format_time(sg[i].start, st, sizeof(st));
            dispatch_format_time(sg[i].end, en, sizeof(en));
            json_t *o = json_pack(
                "{s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:s}", "engineer_id", in->id, "name", e->name,
                "start", st, "end", en, "travel_s", (json_int_t)sg[i].travel, "time_zone",
                in->time_zone ? in->time_zone : "UTC", "utc_offset_s", off, "sentence", sentence);
            json_object_set_new(o, "sla_left_s",
                                sg[i].sla_left == PLAN_NO_TIME
                                    ? json_null()
                                    : json_integer((json_int_t)sg[i].sla_left));
            json_array_append_new(items, o);
        }
    }
    char from[32], to[32];
    dispatch_format_time(p->from, from, sizeof(from));
    dispatch_format_time(p->to, to, sizeof(to));
    plan_suggestions_free(sg);
    dispatch_problem_free(p);
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "job_id", r->path[0], "from", from, "to", to,
                          "suggestions", items);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text == NULL) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    api_reply_json(r, 200, text, strlen(text));
    free(text);
}

static int parse_limit(api_req_t *r, const char *name, long def, long min, long max, long *out)
{
    const char *v = qs_get(&r->qs, name);
    *out = def;
    if (v == NULL)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < min || n > max) {
        api_problem(r, 400, "validation", name, NULL,
                    "query parameter \"%s\" must be an integer between %ld and %ld", name, min,
                    max);
        return ACS_EINVAL;
    }
    *out = n;
    return 0;
}

static int check_times(api_req_t *r)
{
    static const char *const times[] = {"from", "to", NULL};
    return api_query_check_values(r, times, jv_is_timestamp, "an RFC 3339 date-time with offset");
}

static void suggestions(api_req_t *r)
{
    static const char *const allowed[] = {"from", "to", "limit", NULL};
    long limit;
    if (r->npath < 1 || !jv_is_uuid(r->path[0])) {
        api_problem(r, 404, "not-found", NULL, NULL, "no job with id %s (ids are UUIDs)",
                    r->npath ? r->path[0] : "");
        return;
    }
    if (api_query_check(r, allowed) != 0 || check_times(r) != 0 ||
        parse_limit(r, "limit", 10, 1, 100, &limit) != 0)
        return;
    r->data = (void *)(intptr_t)limit;
    const char *params[] = {r->path[0], qs_get(&r->qs, "from"), qs_get(&r->qs, "to"), r->user.id};
    api_query(r, sql_suggest_load, 4, params, on_suggest_loaded);
}

/* ---- The day plan ---------------------------------------------------------------------- */

/* Plans on worker threads, on this loop (one loop per process, so no lock). */
static unsigned plans_running;
typedef struct plan_ctx plan_ctx_t;
static plan_ctx_t *plans_head;

/* $1 job ids (or NULL), $2 engineer ids (or NULL), $3 from, $4 to, $5 caller */
static const char sql_plan_load[] =
    "WITH f AS (SELECT coalesce($3::timestamptz, acs_now()) AS f),"
    " h AS (SELECT f.f, coalesce($4::timestamptz, f.f + interval '7 days') AS t FROM f),"
    " jobs AS (SELECT CASE WHEN $1::uuid[] IS NOT NULL THEN ARRAY(SELECT i"
    "            FROM unnest($1::uuid[]) WITH ORDINALITY u(i, n) GROUP BY i ORDER BY min(n))"
    "          ELSE ARRAY("
    "            SELECT x.id FROM job x, h WHERE x.status = 'planned' AND x.engineer_id IS NULL"
    "              AND (x.window_start IS NULL OR x.window_start < h.t)"
    "              AND (x.window_end IS NULL OR x.window_end > h.f)"
    "            ORDER BY x.priority, x.created_at, x.id LIMIT 2001) END AS ids),"
    " engs AS (SELECT CASE WHEN $2::uuid[] IS NOT NULL THEN ARRAY(SELECT i"
    "            FROM unnest($2::uuid[]) WITH ORDINALITY u(i, n) GROUP BY i ORDER BY min(n))"
    "          ELSE ARRAY("
    "            SELECT u.id FROM app_user u WHERE u.active AND u.role IN ('engineer', 'senior')"
    "              AND u.home_latitude IS NOT NULL ORDER BY u.name, u.id) END AS ids),"
    " badj AS (SELECT jsonb_agg(jsonb_build_object('id', i, 'status', x.status)) AS b"
    "          FROM jobs, unnest(jobs.ids) i LEFT JOIN job x ON x.id = i"
    "          WHERE x.id IS NULL OR x.status <> 'planned'),"
    " bade AS (SELECT jsonb_agg(i) AS b FROM engs, unnest(engs.ids) i"
    "          WHERE NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = i AND u.active"
    "                            AND u.role IN ('engineer', 'senior'))),"
    " c AS (SELECT CASE WHEN h.t <= h.f THEN 'bad_period'"
    "         WHEN h.t - h.f > interval '31 days' THEN 'too_long'"
    "         WHEN cardinality(jobs.ids) > 2000 THEN 'too_many_jobs'"
    "         WHEN (SELECT b FROM badj) IS NOT NULL THEN 'bad_jobs'"
    "         WHEN (SELECT b FROM bade) IS NOT NULL THEN 'bad_engineers'"
    "         ELSE 'ok' END AS outcome, h.f, h.t, jobs.ids AS j, engs.ids AS e FROM h, jobs, engs)"
    " SELECT c.outcome, coalesce((SELECT b FROM badj), (SELECT b FROM bade))::text,"
    "   CASE WHEN c.outcome = 'ok' THEN acs_dispatch_problem(c.e, c.j, c.f, c.t,"
    "     coalesce((SELECT time_zone FROM app_user WHERE id = $5::uuid), 'UTC')) END"
    " FROM c";

struct plan_ctx {
    uv_work_t work;
    plan_ctx_t *next, *prev; /* plans_head list */
    api_req_t *r;            /* NULL once the client went away */
    plan_ctx_t **link;       /* the request pool's pointer back to this, or NULL */
    char *problem;
    size_t problem_len;
    plan_options_t options;
    char *reply;
    int rc;
    char err[512];
};

/* The request's pool slot that tells a running plan the client went away. */
static void on_plan_req_gone(void *p)
{
    plan_ctx_t **slot = p;
    if (*slot != NULL) {
        (*slot)->r = NULL;
        (*slot)->link = NULL;
    }
}

static void plan_work(uv_work_t *w)
{
    plan_ctx_t *c = w->data;
    dispatch_problem_t *p = NULL;
    c->rc = dispatch_problem_parse(c->problem, c->problem_len, DISPATCH_NEED_HOME, &p, c->err,
                                   sizeof(c->err));
    if (c->rc == 0)
        c->rc = dispatch_plan_render(p, &c->options, &c->reply, c->err, sizeof(c->err));
    dispatch_problem_free(p);
}

static void plan_after(uv_work_t *w, int status)
{
    plan_ctx_t *c = w->data;
    plans_running--;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        plans_head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    api_req_t *r = c->r;
    if (c->link != NULL)
        *c->link = NULL;
    if (r != NULL) {
        if (status != 0)
            api_problem(r, 503, "unavailable", NULL, NULL, "the plan was cancelled: %s",
                        uv_strerror(status));
        else if (c->rc == ACS_EINVAL)
            api_problem(r, 400, "validation", NULL, NULL, "%s", c->err);
        else if (c->rc != 0)
            api_problem(r, c->rc == ACS_ETOOBIG ? 400 : 500,
                        c->rc == ACS_ETOOBIG ? "validation" : "internal", NULL, NULL, "%s", c->err);
        else
            api_reply_json(r, 200, c->reply, strlen(c->reply));
    }
    free(c->problem);
    free(c->reply);
    free(c);
}

static void on_plan_loaded(api_req_t *r, int err, PGresult *res)
{
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "plan");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    const char *bad = PQgetvalue(res, 0, 1);
    if (strcmp(outcome, "bad_period") == 0) {
        api_problem(r, 400, "validation", "to", NULL, "\"to\" must be after \"from\"");
        return;
    }
    if (strcmp(outcome, "too_long") == 0) {
        api_problem(r, 400, "validation", "to", NULL,
                    "a plan covers at most 31 days; narrow \"from\" and \"to\"");
        return;
    }
    if (strcmp(outcome, "too_many_jobs") == 0) {
        api_problem(r, 400, "validation", "to", NULL,
                    "more than %d planned jobs fall in the period; plan a shorter period", 2000);
        return;
    }
    if (strcmp(outcome, "bad_jobs") == 0) {
        json_t *list = json_loads(bad, 0, NULL);
        const json_t *first = json_array_get(list, 0);
        const char *st = json_string_value(json_object_get(first, "status"));
        char detail[256];
        if (st == NULL)
            snprintf(detail, sizeof(detail), "no job with id %s",
                     json_string_value(json_object_get(first, "id")));
        else
            snprintf(detail, sizeof(detail),
                     "job %s is %s: only planned (unassigned) jobs are planned; assigned jobs "
                     "stay as they are",
                     json_string_value(json_object_get(first, "id")), st);
        api_problem(r, 400, "validation", "job_ids", json_pack("{s:o}", "jobs", list), "%s",
                    detail);
        return;
    }
    if (strcmp(outcome, "bad_engineers") == 0) {
        json_t *list = json_loads(bad, 0, NULL);
        api_problem(r, 400, "validation", "engineer_ids", json_pack("{s:o}", "engineers", list),
                    "engineer %s does not exist, is deactivated, or is not an engineer",
                    json_string_value(json_array_get(list, 0)));
        return;
    }
    if (plans_running >= PLAN_MAX_RUNNING) {
        api_problem(r, 503, "unavailable", NULL, NULL,
                    "%u plans are being computed already; retry in a few seconds", plans_running);
        return;
    }
    plan_ctx_t *c = calloc(1, sizeof(*c));
    plan_ctx_t **slot = h2o_mem_alloc_shared(&r->req->pool, sizeof(*slot), on_plan_req_gone);
    if (c == NULL || (c->problem = strdup(PQgetvalue(res, 0, 2))) == NULL) {
        free(c);
        *slot = NULL;
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    c->problem_len = (size_t)PQgetlength(res, 0, 2);
    c->options = *(const plan_options_t *)r->data;
    c->r = r;
    c->link = slot;
    *slot = c;
    c->work.data = c;
    int rc = uv_queue_work(r->srv->loop, &c->work, plan_work, plan_after);
    if (rc != 0) {
        *slot = NULL;
        free(c->problem);
        free(c);
        api_problem(r, 503, "unavailable", NULL, NULL, "cannot start the planner: %s",
                    uv_strerror(rc));
        return;
    }
    plans_running++;
    c->next = plans_head;
    if (plans_head != NULL)
        plans_head->prev = c;
    plans_head = c;
}

void api_dispatch_shutdown(server_t *srv)
{
    (void)srv;
    /* A plan cannot be stopped midway; its preview is not needed any more (nothing was
     * written), so its client is answered now and the worker's result is dropped. */
    for (plan_ctx_t *c = plans_head; c != NULL; c = c->next) {
        api_req_t *r = c->r;
        if (r == NULL)
            continue;
        c->r = NULL;
        api_problem(r, 503, "unavailable", NULL, NULL,
                    "the service is shutting down; the plan was abandoned (nothing was written): "
                    "ask again");
    }
}

/* A JSON array of UUIDs as a PostgreSQL array literal in the request pool. */
static int uuid_array(api_req_t *r, const char *field, size_t max, const char **out)
{
    const json_t *a = json_object_get(r->body, field);
    *out = NULL;
    if (a == NULL || json_is_null(a))
        return 0;
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n == 0 || n > max) {
        api_problem(r, 400, "validation", field, NULL,
                    "field \"%s\" must be an array of 1 to %zu UUIDs", field, max);
        return ACS_EINVAL;
    }
    char *lit = h2o_mem_alloc_pool(&r->req->pool, n * 37 + 3);
    size_t used = 0;
    lit[used++] = '{';
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (s == NULL || !jv_is_uuid(s)) {
            api_problem(r, 400, "validation", field, NULL, "%s[%zu] must be a UUID", field, i);
            return ACS_EINVAL;
        }
        if (i > 0)
            lit[used++] = ',';
        memcpy(lit + used, s, 36);
        used += 36;
    }
    lit[used++] = '}';
    lit[used] = '\0';
    *out = lit;
    return 0;
}

static const jv_field_t plan_fields[] = {
    {"job_ids", JV_ARRAY, JV_NULLABLE, NULL, 0, 0},
    {"engineer_ids", JV_ARRAY, JV_NULLABLE, NULL, 0, 0},
    {"from", JV_TIMESTAMP, JV_NULLABLE, NULL, 0, 0},
    {"to", JV_TIMESTAMP, JV_NULLABLE, NULL, 0, 0},
    {"time_limit_ms", JV_INT, 0, NULL, 100, 30000},
    {"seed", JV_INT, 0, NULL, 0, 2147483647},
    {"max_iterations", JV_INT, 0, NULL, 1, 100000},
};

static void plan(api_req_t *r)
{
    const char *jobs, *engs;
    if (api_body_check(r, plan_fields, sizeof(plan_fields) / sizeof(plan_fields[0]), JV_CREATE,
                       0) != 0 ||
        uuid_array(r, "job_ids", PLAN_MAX_JOBS, &jobs) != 0 ||
        uuid_array(r, "engineer_ids", PLAN_MAX_ENGS, &engs) != 0)
        return;
    const char *from = body_str(r, "from"), *to = body_str(r, "to");
    if (jobs == NULL && (from == NULL || to == NULL)) {
        api_problem(r, 400, "validation", "job_ids", NULL,
                    "give \"job_ids\", or \"from\" and \"to\" to plan every planned, unassigned "
                    "job of that period");
        return;
    }
    plan_options_t *o = h2o_mem_alloc_pool(&r->req->pool, sizeof(*o));
    memset(o, 0, sizeof(*o));
    const json_t *v;
    o->time_limit_ms = (v = json_object_get(r->body, "time_limit_ms")) != NULL
                           ? (unsigned)json_integer_value(v)
                           : 10000;
    o->seed = (v = json_object_get(r->body, "seed")) != NULL ? (uint64_t)json_integer_value(v) : 1;
    o->max_iterations = (v = json_object_get(r->body, "max_iterations")) != NULL
                            ? (unsigned)json_integer_value(v)
                            : 0;
    r->data = o;
    const char *params[] = {jobs, engs, from, to, r->user.id};
    api_query(r, sql_plan_load, 5, params, on_plan_loaded);
}

/* ---- Accepting a plan ------------------------------------------------------------------ */

typedef struct {
    assign_op_t op;
    const json_t *items;
    size_t next;
    size_t assigned, refused;
    json_t *results;
} accept_ctx_t;

static void accept_step(api_req_t *r, accept_ctx_t *a);

static void accept_done(api_req_t *r, assign_op_t *op, int status, json_t *body)
{
    accept_ctx_t *a = op->owner;
    json_t *res = json_object();
    json_object_set_new(res, "job_id", json_string(op->job_id));
    json_object_set_new(res, "engineer_id", json_string(op->engineer_id));
    if (status == 200) {
        a->assigned++;
        json_object_set_new(res, "result", json_string("assigned"));
        json_object_set(res, "warnings", json_object_get(body, "warnings"));
        json_object_set(res, "planned_start", json_object_get(body, "planned_start"));
        json_object_set(res, "planned_end", json_object_get(body, "planned_end"));
    } else {
        a->refused += status == 409;
        json_object_set_new(res, "result", json_string(status == 409 ? "refused" : "error"));
        json_object_update(res, body);
        json_object_del(res, "type");
        json_object_del(res, "warnings");
        json_object_del(res, "time_zone");
        json_object_del(res, "override_allowed");
        json_object_del(res, "utc_offset_s");
        json_object_del(res, "allowed");
    }
    json_decref(body);
    json_array_append_new(a->results, res);
    assign_op_release(op);
    if (status == 503) {
        /* The database went away: stop here and say which were done. */
        a->next = json_array_size(a->items);
    }
    accept_step(r, a);
}

static void accept_step(api_req_t *r, accept_ctx_t *a)
{
    if (a->next >= json_array_size(a->items)) {
        json_t *o = json_pack("{s:I, s:I, s:O}", "assigned", (json_int_t)a->assigned, "refused",
                              (json_int_t)a->refused, "results", a->results);
        json_decref(a->results);
        a->results = NULL;
        char *text = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        if (text == NULL) {
            api_problem(r, 500, "internal", NULL, NULL, "out of memory");
            return;
        }
        api_reply_json(r, 200, text, strlen(text));
        free(text);
        return;
    }
    const json_t *it = json_array_get(a->items, a->next++);
    assign_op_init(&a->op, accept_done, a);
    a->op.job_id = json_string_value(json_object_get(it, "job_id"));
    a->op.engineer_id = json_string_value(json_object_get(it, "engineer_id"));
    a->op.start = json_string_value(json_object_get(it, "planned_start"));
    a->op.end = json_string_value(json_object_get(it, "planned_end"));
    a->op.note = "accepted from a plan preview";
    assign_load(r, &a->op);
}

static void accept_dispose(void *p)
{
    accept_ctx_t *a = p;
    json_decref(a->results);
    assign_op_release(&a->op);
}

static const jv_field_t accept_fields[] = {
    {"assignments", JV_ARRAY, JV_REQUIRED, NULL, 0, 0},
};

static int check_accept_item(api_req_t *r, size_t i, const json_t *it)
{
    static const char *const keys[] = {"job_id", "engineer_id", "planned_start", "planned_end",
                                       NULL};
    const char *k;
    const json_t *v;
    if (!json_is_object(it))
        goto bad;
    json_object_foreach((json_t *)it, k, v)
    {
        size_t n = 0;
        while (keys[n] != NULL && strcmp(keys[n], k) != 0)
            n++;
        if (keys[n] == NULL)
            goto bad;
    }
    const char *job = json_string_value(json_object_get(it, "job_id"));
    const char *eng = json_string_value(json_object_get(it, "engineer_id"));
    const char *st = json_string_value(json_object_get(it, "planned_start"));
    const char *en = json_string_value(json_object_get(it, "planned_end"));
    if (job == NULL || !jv_is_uuid(job) || eng == NULL || !jv_is_uuid(eng) || st == NULL ||
        !jv_is_timestamp(st) || en == NULL || !jv_is_timestamp(en))
        goto bad;
    return 0;
bad:
    api_problem(r, 400, "validation", "assignments", NULL,
                "assignments[%zu] must be {\"job_id\": uuid, \"engineer_id\": uuid, "
                "\"planned_start\": date-time, \"planned_end\": date-time}",
                i);
    return ACS_EINVAL;
}

static void plan_accept(api_req_t *r)
{
    if (api_body_check(r, accept_fields, 1, JV_CREATE, 0) != 0)
        return;
    const json_t *items = json_object_get(r->body, "assignments");
    size_t n = json_array_size(items);
    if (n == 0 || n > ACCEPT_MAX) {
        api_problem(r, 400, "validation", "assignments", NULL,
                    "field \"assignments\" must hold 1 to %d entries of a plan preview",
                    ACCEPT_MAX);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_accept_item(r, i, json_array_get(items, i)) != 0)
            return;
    }
    accept_ctx_t *a = h2o_mem_alloc_shared(&r->req->pool, sizeof(*a), accept_dispose);
    memset(a, 0, sizeof(*a));
    a->items = items;
    a->results = json_array();
    accept_step(r, a);
}

/* ---- Travel times ---------------------------------------------------------------------- */

static const jv_field_t travel_fields[] = {
    {"replace", JV_BOOL, 0, NULL, 0, 0},
    {"entries", JV_ARRAY, JV_REQUIRED, NULL, 0, 0},
};

static int check_travel_entry(api_req_t *r, size_t i, const json_t *e)
{
    const char *k;
    const json_t *v;
    int from = 0, to = 0, secs = 0;
    if (!json_is_object(e))
        goto bad;
    json_object_foreach((json_t *)e, k, v)
    {
        if (strcmp(k, "seconds") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 7 * 86400)
                goto bad;
            secs = 1;
            continue;
        }
        int is_from = strcmp(k, "from_site_id") == 0 || strcmp(k, "from_engineer_id") == 0;
        int is_to = strcmp(k, "to_site_id") == 0 || strcmp(k, "to_engineer_id") == 0;
        if ((!is_from && !is_to) || !json_is_string(v) || !jv_is_uuid(json_string_value(v)))
            goto bad;
        from += is_from;
        to += is_to;
    }
    if (from == 1 && to == 1 && secs)
        return 0;
bad:
    api_problem(r, 400, "validation", "entries", NULL,
                "entries[%zu] must name one of from_site_id / from_engineer_id, one of "
                "to_site_id / to_engineer_id (UUIDs) and \"seconds\" (0-604800)",
                i);
    return ACS_EINVAL;
}

static int is_csv(api_req_t *r);

static const char sql_travel_put[] = "SELECT acs_travel_load($1::jsonb, $2::boolean)::text";

static void on_travel_put(api_req_t *r, int err, PGresult *res)
{
    if (err == ACS_EDBQUERY && strcmp(db_sqlstate(res), "23503") == 0) {
        const char *d = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        api_problem(r, 400, "validation", is_csv(r) ? "body" : "entries", NULL,
                    "a place of the travel times does not exist: %s",
                    d != NULL ? d : PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        return;
    }
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "travel times");
        return;
    }
    char body[64];
    snprintf(body, sizeof(body), "{\"loaded\":%s}", PQgetvalue(res, 0, 0));
    api_reply_json(r, 200, body, strlen(body));
}

/* One CSV field into out (trimmed); 0, or -1 when it is too long. */
static int csv_field(const char *p, size_t n, char *out, size_t size)
{
    while (n > 0 && (*p == ' ' || *p == '\t' || *p == '"')) {
        p++;
        n--;
    }
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '"'))
        n--;
    if (n >= size)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* A text/csv body of lines "from,to,seconds" (an optional header line starting with "from"),
 * each place a site's or an engineer's id. Return the entries, or NULL after replying 400. */
static json_t *travel_csv(api_req_t *r)
{
    const char *p = r->req->entity.base;
    size_t left = r->req->entity.len;
    json_t *entries = json_array();
    size_t line = 0;
    while (left > 0) {
        const char *nl = memchr(p, '\n', left);
        size_t n = nl != NULL ? (size_t)(nl - p) : left;
        const char *l = p;
        p += n + (nl != NULL);
        left -= n + (nl != NULL);
        line++;
        if (n > 0 && l[n - 1] == '\r')
            n--;
        if (n == 0 || (line == 1 && n >= 4 && strncasecmp(l, "from", 4) == 0))
            continue;
        const char *c1 = memchr(l, ',', n);
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ',', n - (size_t)(c1 + 1 - l)) : NULL;
        char from[64], to[64], secs[32];
        char *end;
        long sv = -1;
        if (c2 != NULL && memchr(c2 + 1, ',', n - (size_t)(c2 + 1 - l)) == NULL &&
            csv_field(l, (size_t)(c1 - l), from, sizeof(from)) == 0 &&
            csv_field(c1 + 1, (size_t)(c2 - c1 - 1), to, sizeof(to)) == 0 &&
            csv_field(c2 + 1, n - (size_t)(c2 + 1 - l), secs, sizeof(secs)) == 0) {
            sv = strtol(secs, &end, 10);
            if (secs[0] == '\0' || *end != '\0')
                sv = -1;
        }
        if (sv < 0 || sv > 7 * 86400 || !jv_is_uuid(from) || !jv_is_uuid(to)) {
            json_decref(entries);
            api_problem(r, 400, "validation", "body", NULL,
                        "CSV line %zu must be \"from,to,seconds\": two site or engineer ids and "
                        "0-604800 seconds",
                        line);
            return NULL;
        }
        if (json_array_size(entries) >= 20000) {
            json_decref(entries);
            api_problem(r, 400, "validation", "body", NULL,
                        "at most 20000 travel times per request; send them in parts");
            return NULL;
        }
        json_array_append_new(entries, json_pack("{s:s, s:s, s:I}", "from", from, "to", to,
                                                 "seconds", (json_int_t)sv));
    }
    return entries;
}

static int is_csv(api_req_t *r)
{
    ssize_t ct = h2o_find_header(&r->req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct < 0)
        return 0;
    h2o_iovec_t v = r->req->headers.entries[ct].value;
    return v.len >= 8 && strncasecmp(v.base, "text/csv", 8) == 0;
}

static void travel_put(api_req_t *r)
{
    if (is_csv(r)) {
        static const char *const allowed[] = {"replace", NULL};
        if (api_query_check(r, allowed) != 0)
            return;
        const char *rep = qs_get(&r->qs, "replace");
        if (rep != NULL && strcmp(rep, "true") != 0 && strcmp(rep, "false") != 0) {
            api_problem(r, 400, "validation", "replace", NULL,
                        "query parameter \"replace\" must be true or false");
            return;
        }
        json_t *entries = travel_csv(r);
        if (entries == NULL)
            return;
        const char *params[] = {api_json_text(r, entries),
                                rep != NULL && strcmp(rep, "true") == 0 ? "true" : "false"};
        json_decref(entries);
        api_query(r, sql_travel_put, 2, params, on_travel_put);
        return;
    }
    if (api_body_check(r, travel_fields, 2, JV_CREATE, 0) != 0)
        return;
    const json_t *entries = json_object_get(r->body, "entries");
    size_t n = json_array_size(entries);
    if (n > 20000) {
        api_problem(r, 400, "validation", "entries", NULL,
                    "at most 20000 travel times per request; send them in parts");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_travel_entry(r, i, json_array_get(entries, i)) != 0)
            return;
    }
    const char *params[] = {api_json_text(r, entries),
                            json_is_true(json_object_get(r->body, "replace")) ? "true" : "false"};
    api_query(r, sql_travel_put, 2, params, on_travel_put);
}

static const char sql_travel_get[] =
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object("
    "   'from_site_id', t.from_site_id, 'from_engineer_id', t.from_engineer_id,"
    "   'to_site_id', t.to_site_id, 'to_engineer_id', t.to_engineer_id,"
    "   'seconds', t.seconds, 'source', t.source) ORDER BY t.id), '[]'::json))::text"
    " FROM (SELECT * FROM travel_time ORDER BY id LIMIT 20000) t";

static void on_row(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "travel times");
}

static void travel_get(api_req_t *r)
{
    if (api_query_check(r, (const char *const[]){NULL}) != 0)
        return;
    api_query(r, sql_travel_get, 0, NULL, on_row);
}

void api_dispatch_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/api/v1/jobs/{}/suggestions", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD,
         suggestions, "dispatch.suggestions", NULL},
        {"GET", "/api/v1/jobs/{}/check", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD, check,
         "dispatch.check", NULL},
        {"POST", "/api/v1/dispatch/plan", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD, plan,
         "dispatch.plan", NULL},
        {"POST", "/api/v1/dispatch/plan/accept", ROLE_ADMIN | ROLE_DISPATCHER, plan_accept,
         "dispatch.accept", NULL},
        {"PUT", "/api/v1/dispatch/travel-times", ROLE_ADMIN | ROLE_DISPATCHER, travel_put,
         "dispatch.travel_put", NULL},
        {"GET", "/api/v1/dispatch/travel-times", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD,
         travel_get, "dispatch.travel_get", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
