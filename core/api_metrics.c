/* SPDX-License-Identifier: MIT */
/*
 * api_metrics.c - the head of support's figures: GET /api/v1/metrics (SLA compliance, times
 * to first contact and resolution, repeats, reopens, first-time fix, CSAT, NPS, volume,
 * visits and projects of any period, in total and by category, client, site kind or
 * engineer) and GET /api/v1/reports/monthly (the monthly report as JSON, HTML with inline
 * SVG charts, or CSV of the tickets under it).
 *
 * Every figure is computed by the SQL functions of db/migrations/0009_metrics.sql
 * (acs_metrics, acs_report_monthly, acs_report_rows), which docs/metrics.md shows, so that a
 * figure can be reproduced in psql with the same call. This file checks the query string,
 * runs one statement, and lays out HTML (report.c) or CSV from what PostgreSQL returns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"
#include "api.h"
#include "report.h"

/* $1 from, $2 to (dates or timestamps), $3 breakdown or NULL. */
static const char sql_metrics_period[] =
    "SELECT acs_metrics(acs_period_instant($1), acs_period_instant($2), $3)::text";

/* $1 month, $3 breakdown ($2 unused, so both statements take the same parameters). */
static const char sql_metrics_month[] = "SELECT acs_metrics(b.month_from, b.month_to, $3)::text"
                                        " FROM acs_month_bounds($1) b WHERE $2::text IS NULL";

static const char sql_report[] = "SELECT acs_report_monthly($1)::text";

static const char sql_report_rows[] = "SELECT * FROM acs_report_rows($1)";

static int by_valid(const char *s)
{
    return strcmp(s, "category") == 0 || strcmp(s, "client") == 0 || strcmp(s, "site_kind") == 0 ||
           strcmp(s, "engineer") == 0;
}

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return 1;
}

/* Check query parameter "month": YYYY-MM, a year of 2000-2100, a month that has begun (by the
 * UTC clock, a day of slack for the reporting time zone). Return 0, or a negative code after
 * replying 400. */
static int check_month(api_req_t *r, const char *m)
{
    if (m == NULL) {
        api_problem(r, 400, "validation", "month", NULL,
                    "query parameter \"month\" is required: the month as YYYY-MM, e.g. 2026-10");
        return ACS_EINVAL;
    }
    int y = 0, mo = 0;
    if (strlen(m) != 7 || m[4] != '-' || !digits(m, 4) || !digits(m + 5, 2)) {
        api_problem(r, 400, "validation", "month", NULL,
                    "query parameter \"month\" must be a month as YYYY-MM (e.g. 2026-10), not "
                    "\"%s\"",
                    m);
        return ACS_EINVAL;
    }
    y = atoi(m);
    mo = atoi(m + 5);
    if (mo < 1 || mo > 12 || y < 2000 || y > 2100) {
        api_problem(r, 400, "validation", "month", NULL,
                    "query parameter \"month\" = %s: the month must be 01-12 and the year "
                    "2000-2100",
                    m);
        return ACS_EINVAL;
    }
    time_t now = time(NULL) + 24 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    if (y > tm.tm_year + 1900 || (y == tm.tm_year + 1900 && mo > tm.tm_mon + 1)) {
        api_problem(r, 400, "validation", "month", NULL,
                    "query parameter \"month\" = %s: that month has not begun; ask for the "
                    "current month or an earlier one",
                    m);
        return ACS_EINVAL;
    }
    return 0;
}

static int period_value_ok(const char *s)
{
    return jv_is_date(s) || jv_is_timestamp(s);
}

static void on_json(api_req_t *r, int err, PGresult *res)
{
    api_reply_row(r, err, res, "figure");
}

/* GET /api/v1/metrics?month=YYYY-MM | from=..&to=.. [&by=category|client|site_kind|engineer] */
static void metrics_get(api_req_t *r)
{
    static const char *const allowed[] = {"from", "to", "month", "by", NULL};
    static const char *const bounds[] = {"from", "to", NULL};
    if (api_query_check(r, allowed) != 0 ||
        api_query_check_values(r, bounds, period_value_ok,
                               "a date (YYYY-MM-DD, midnight in the reporting time zone) or an "
                               "RFC 3339 timestamp") != 0)
        return;
    const char *by = qs_get(&r->qs, "by");
    if (by != NULL && !by_valid(by)) {
        api_problem(r, 400, "validation", "by", NULL,
                    "query parameter \"by\" must be one of: category, client, site_kind, "
                    "engineer");
        return;
    }
    const char *month = qs_get(&r->qs, "month");
    const char *from = qs_get(&r->qs, "from");
    const char *to = qs_get(&r->qs, "to");
    if (month != NULL && (from != NULL || to != NULL)) {
        api_problem(r, 400, "validation", "month", NULL,
                    "give either \"month\" or \"from\" and \"to\", not both");
        return;
    }
    if (month != NULL) {
        if (check_month(r, month) != 0)
            return;
        const char *params[] = {month, NULL, by};
        api_query(r, sql_metrics_month, 3, params, on_json);
        return;
    }
    if (from == NULL || to == NULL) {
        api_problem(r, 400, "validation", from == NULL ? "from" : "to", NULL,
                    "the period is missing: give \"month\" (YYYY-MM), or \"from\" and \"to\" "
                    "(dates or RFC 3339 timestamps; \"to\" is excluded)");
        return;
    }
    const char *params[] = {from, to, by};
    api_query(r, sql_metrics_period, 3, params, on_json);
}

/* --- the monthly report ---------------------------------------------------------------- */

typedef enum { FORMAT_JSON, FORMAT_HTML, FORMAT_CSV } format_t;

typedef struct {
    format_t format;
    const char *month;
} report_ctx_t;

static void add_header(api_req_t *r, const char *name, const char *value)
{
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, name, strlen(name), 0, NULL, value,
                          strlen(value));
}

static void on_report(api_req_t *r, int err, PGresult *res)
{
    report_ctx_t *c = r->data;
    if (err != 0 || PQntuples(res) != 1) {
        api_reply_row(r, err, res, "report");
        return;
    }
    if (c->format == FORMAT_JSON) {
        api_reply_json(r, 200, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
        return;
    }
    json_error_t jerr;
    json_t *data = json_loadb(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), 0, &jerr);
    char *html = NULL;
    size_t len = 0;
    int rc = data != NULL ? report_monthly_html(data, &html, &len) : ACS_EINVAL;
    json_decref(data);
    if (rc != 0) {
        api_problem(r, 500, "internal", NULL, NULL, "rendering the report of %s failed: %s",
                    c->month, acs_strerror(rc));
        return;
    }
    /* The page is self-contained: no script, no request to anywhere. */
    add_header(r, "content-security-policy",
               "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    add_header(r, "x-content-type-options", "nosniff");
    api_reply_text(r, 200, "text/html; charset=utf-8", html, len);
    free(html);
}

static void on_report_rows(api_req_t *r, int err, PGresult *res)
{
    report_ctx_t *c = r->data;
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    report_buf_t b = {0};
    int cols = PQnfields(res);
    for (int j = 0; j < cols; j++) {
        if (j > 0)
            report_buf_puts(&b, ",");
        report_buf_csv(&b, PQfname(res, j));
    }
    report_buf_puts(&b, "\r\n");
    for (int i = 0; i < PQntuples(res); i++) {
        for (int j = 0; j < cols; j++) {
            if (j > 0)
                report_buf_puts(&b, ",");
            if (PQgetisnull(res, i, j))
                continue;
            const char *v = PQgetvalue(res, i, j);
            /* booleans as words, not PostgreSQL's t/f */
            if (PQftype(res, j) == 16 /* bool */)
                v = v[0] == 't' ? "true" : "false";
            report_buf_csv(&b, v);
        }
        report_buf_puts(&b, "\r\n");
    }
    if (b.failed) {
        report_buf_free(&b);
        api_problem(r, 500, "internal", NULL, NULL, "out of memory writing the CSV of %s",
                    c->month);
        return;
    }
    char disp[96];
    snprintf(disp, sizeof(disp), "attachment; filename=\"acsfield-report-%s.csv\"", c->month);
    add_header(r, "content-disposition", disp);
    api_reply_text(r, 200, "text/csv; charset=utf-8; header=present", b.data, b.len);
    report_buf_free(&b);
}

/* GET /api/v1/reports/monthly?month=YYYY-MM[&format=json|html|csv] */
static void report_get(api_req_t *r)
{
    static const char *const allowed[] = {"month", "format", NULL};
    if (api_query_check(r, allowed) != 0)
        return;
    const char *month = qs_get(&r->qs, "month");
    const char *format = qs_get(&r->qs, "format");
    report_ctx_t *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    if (format == NULL || strcmp(format, "json") == 0)
        c->format = FORMAT_JSON;
    else if (strcmp(format, "html") == 0)
        c->format = FORMAT_HTML;
    else if (strcmp(format, "csv") == 0)
        c->format = FORMAT_CSV;
    else {
        api_problem(r, 400, "validation", "format", NULL,
                    "query parameter \"format\" must be one of: json, html, csv");
        return;
    }
    if (check_month(r, month) != 0)
        return;
    c->month = month;
    r->data = c;
    const char *params[] = {month};
    api_query(r, c->format == FORMAT_CSV ? sql_report_rows : sql_report, 1, params,
              c->format == FORMAT_CSV ? on_report_rows : on_report);
}

void api_metrics_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"GET", "/api/v1/metrics", ROLE_ADMIN | ROLE_HEAD | ROLE_DISPATCHER, metrics_get,
         "metrics.get", NULL},
        {"GET", "/api/v1/reports/monthly", ROLE_ADMIN | ROLE_HEAD, report_get, "reports.monthly",
         NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
