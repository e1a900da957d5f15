/* SPDX-License-Identifier: MIT */
/*
 * api_feedback.c - customer feedback on resolved tickets: CSAT (1-5) and NPS (0-10) with a
 * comment, given once per ticket.
 *
 *   POST /api/v1/feedback/{ticket}/link   issue the survey link for a resolved ticket
 *   POST /api/v1/feedback/{ticket}        record an answer given another way (the phone)
 *   GET  /api/v1/feedback/{ticket}        the survey and its answer
 *   GET  /feedback/{token}                the client's form (no login)
 *   POST /feedback/{token}                the client's answer (form-encoded, no login)
 *
 * The link carries a token of 256 random bits made like an API token (auth_token.h); only its
 * SHA-256 is stored, in csat_response.token_hash. A new link for an unanswered survey replaces
 * the old token, which then answers 404. Recording an answer is one statement that locks the
 * survey (or the ticket), writes the answer only while none is there and the ticket is still
 * resolved, and writes a 'feedback' ticket event; when nothing was written the same statement
 * says why (unknown, already answered, not resolved), so a second answer is a 409 even when
 * two arrive at once. The client's pages are small server-rendered HTML with every value
 * escaped, and no script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "api.h"
#include "auth_token.h"
#include "report.h"

/* $1 ticket, $2 token hash (bytea hex), $3 actor. */
static const char sql_link[] =
    "WITH t AS (SELECT id, number, status FROM ticket WHERE id = $1::uuid FOR UPDATE),"
    " old AS (SELECT c.responded_at FROM csat_response c JOIN t ON c.ticket_id = t.id),"
    " up AS (INSERT INTO csat_response AS c (ticket_id, token_hash, sent_by, channel, created_at)"
    "        SELECT t.id, $2::bytea, $3::uuid, 'link', acs_now() FROM t"
    "        WHERE t.status IN ('resolved', 'closed')"
    "          AND NOT EXISTS (SELECT 1 FROM old WHERE old.responded_at IS NOT NULL)"
    "        ON CONFLICT (ticket_id) DO UPDATE SET token_hash = excluded.token_hash,"
    "          sent_by = excluded.sent_by, channel = 'link', created_at = excluded.created_at"
    "        WHERE c.responded_at IS NULL RETURNING c.*)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'missing'"
    "             WHEN EXISTS (SELECT 1 FROM up) THEN 'created'"
    "             WHEN (SELECT status FROM t) NOT IN ('resolved', 'closed') THEN 'unresolved'"
    "             ELSE 'answered' END,"
    "   (SELECT number FROM t), (SELECT status FROM t),"
    "   (SELECT json_build_object('ticket_id', up.ticket_id, 'ticket_number', (SELECT number"
    "      FROM t), 'sent_at', up.created_at, 'replaced', EXISTS (SELECT 1 FROM old))"
    "    FROM up)::text";

#define FEEDBACK_JSON(c)                                                                           \
    "json_build_object('ticket_id', " c ".ticket_id, 'sent_at', CASE WHEN " c ".token_hash IS "    \
    "NOT NULL THEN " c ".created_at END, 'responded_at', " c ".responded_at, 'csat', " c           \
    ".csat, 'nps', " c ".nps, 'comment', " c ".comment, 'channel', CASE WHEN " c                   \
    ".responded_at IS NOT NULL THEN " c ".channel END)"

/* $1 ticket, $2 csat, $3 nps, $4 comment, $5 actor. */
static const char sql_record_api[] =
    "WITH t AS (SELECT id, number, status FROM ticket WHERE id = $1::uuid FOR UPDATE),"
    " old AS (SELECT c.responded_at FROM csat_response c JOIN t ON c.ticket_id = t.id),"
    " up AS (INSERT INTO csat_response AS c (ticket_id, csat, nps, comment, responded_at,"
    "                                        channel, recorded_by, created_at)"
    "        SELECT t.id, $2::int, $3::int, coalesce($4, ''), acs_now(), 'api', $5::uuid,"
    "               acs_now() FROM t"
    "        WHERE t.status IN ('resolved', 'closed')"
    "          AND NOT EXISTS (SELECT 1 FROM old WHERE old.responded_at IS NOT NULL)"
    "        ON CONFLICT (ticket_id) DO UPDATE SET csat = excluded.csat, nps = excluded.nps,"
    "          comment = excluded.comment, responded_at = excluded.responded_at,"
    "          channel = 'api', recorded_by = excluded.recorded_by"
    "        WHERE c.responded_at IS NULL RETURNING c.*),"
    " ev AS (INSERT INTO ticket_event (ticket_id, at, kind, actor_id, data)"
    "        SELECT up.ticket_id, up.responded_at, 'feedback', $5::uuid,"
    "               jsonb_build_object('csat', up.csat, 'nps', up.nps, 'channel', 'api')"
    "        FROM up)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM t) THEN 'missing'"
    "             WHEN EXISTS (SELECT 1 FROM up) THEN 'created'"
    "             WHEN (SELECT status FROM t) NOT IN ('resolved', 'closed') THEN 'unresolved'"
    "             ELSE 'answered' END,"
    "   (SELECT number FROM t), (SELECT status FROM t),"
    "   (SELECT " FEEDBACK_JSON("up") " FROM up)::text";

/* $1 ticket */
static const char sql_get[] =
    "SELECT " FEEDBACK_JSON("c") "::text FROM csat_response c WHERE c.ticket_id = $1::uuid";

/* $1 token hash: the survey, its ticket, and whether it was answered. */
static const char sql_form[] =
    "SELECT c.responded_at IS NOT NULL, t.number, t.subject, t.status, cl.name, s.name"
    " FROM csat_response c JOIN ticket t ON t.id = c.ticket_id"
    " JOIN client cl ON cl.id = t.client_id JOIN site s ON s.id = t.site_id"
    " WHERE c.token_hash = $1::bytea";

/* $1 token hash, $2 csat, $3 nps, $4 comment. */
static const char sql_record_link[] =
    "WITH s AS (SELECT c.id, c.ticket_id, c.responded_at FROM csat_response c"
    "           WHERE c.token_hash = $1::bytea FOR UPDATE),"
    " t AS (SELECT t.id, t.number, t.status FROM ticket t JOIN s ON t.id = s.ticket_id),"
    " up AS (UPDATE csat_response c SET csat = $2::int, nps = $3::int,"
    "          comment = coalesce($4, ''), responded_at = acs_now(), channel = 'link'"
    "        FROM s, t WHERE c.id = s.id AND s.responded_at IS NULL"
    "          AND t.status IN ('resolved', 'closed') RETURNING c.*),"
    " ev AS (INSERT INTO ticket_event (ticket_id, at, kind, data)"
    "        SELECT up.ticket_id, up.responded_at, 'feedback',"
    "               jsonb_build_object('csat', up.csat, 'nps', up.nps, 'channel', 'link')"
    "        FROM up)"
    " SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM s) THEN 'unknown'"
    "             WHEN EXISTS (SELECT 1 FROM up) THEN 'recorded'"
    "             WHEN (SELECT responded_at FROM s) IS NOT NULL THEN 'answered'"
    "             ELSE 'unresolved' END,"
    "   (SELECT number FROM t), (SELECT status FROM t)";

#define COMMENT_MAX 5000

static const jv_field_t answer_fields[] = {
    {"csat", JV_INT, JV_NULLABLE, NULL, 1, 5},
    {"nps", JV_INT, JV_NULLABLE, NULL, 0, 10},
    {"comment", JV_STRING, JV_NULLABLE, NULL, 0, COMMENT_MAX},
};

/* ---------------------------------------------------------------------------------------- */
/* The API                                                                                  */

typedef struct {
    char token[AUTH_TOKEN_STRLEN + 1];
} link_ctx_t;

/* Replies shared by the two statements whose row is (outcome, number, status, JSON). */
static int reply_refusal(api_req_t *r, const char *outcome, PGresult *res)
{
    if (strcmp(outcome, "missing") == 0) {
        api_problem(r, 404, "not-found", NULL, NULL, "no ticket with id %s", r->path[0]);
    } else if (strcmp(outcome, "unresolved") == 0) {
        json_t *extra = json_pack("{s:s}", "current_status", PQgetvalue(res, 0, 2));
        api_problem(r, 409, "conflict", NULL, extra,
                    "ticket #%s is %s: feedback is asked for resolved or closed tickets only; "
                    "resolve it first",
                    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
    } else if (strcmp(outcome, "answered") == 0) {
        api_problem(r, 409, "conflict", NULL, NULL,
                    "the client of ticket #%s has already given feedback; an answer is given "
                    "once and cannot be replaced",
                    PQgetvalue(res, 0, 1));
    } else {
        return 0;
    }
    return 1;
}

static void on_link(api_req_t *r, int err, PGresult *res)
{
    link_ctx_t *c = r->data;
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        api_problem(r, 500, "internal", NULL, NULL, "issuing the link returned no outcome");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (reply_refusal(r, outcome, res))
        return;
    json_error_t jerr;
    json_t *o = json_loads(PQgetvalue(res, 0, 3), 0, &jerr);
    if (o == NULL) {
        api_problem(r, 500, "internal", NULL, NULL, "the link's row is not JSON: %s", jerr.text);
        return;
    }
    char url[16 + AUTH_TOKEN_STRLEN];
    snprintf(url, sizeof(url), "/feedback/%s", c->token);
    json_object_set_new(o, "token", json_string(c->token));
    json_object_set_new(o, "url", json_string(url));
    const char *body = api_json_text(r, o);
    json_decref(o);
    if (body == NULL) {
        api_problem(r, 500, "internal", NULL, NULL, "out of memory");
        return;
    }
    api_reply_created(r, url, body, strlen(body));
}

static void feedback_link(api_req_t *r)
{
    if (api_path_uuid(r, 0, "ticket") != 0 || api_body_check(r, NULL, 0, JV_CREATE, 1) != 0)
        return;
    link_ctx_t *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    char hex[67];
    auth_token_new(c->token);
    if (auth_token_hash(c->token, strlen(c->token), hash) != 0) {
        api_problem(r, 500, "internal", NULL, NULL, "a new token failed its own shape check");
        return;
    }
    auth_token_hash_hex(hash, hex);
    r->data = c;
    const char *params[] = {r->path[0], hex, r->user.id};
    api_query(r, sql_link, 3, params, on_link);
}

static void on_record_api(api_req_t *r, int err, PGresult *res)
{
    if (err != 0) {
        api_reply_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        api_problem(r, 500, "internal", NULL, NULL, "recording the feedback returned no outcome");
        return;
    }
    if (reply_refusal(r, PQgetvalue(res, 0, 0), res))
        return;
    char location[80];
    snprintf(location, sizeof(location), "/api/v1/feedback/%s", r->path[0]);
    api_reply_created(r, location, PQgetvalue(res, 0, 3), (size_t)PQgetlength(res, 0, 3));
}

/* Text of an integer field of the body, or NULL when absent or null. */
static const char *int_param(api_req_t *r, const char *name, char *buf, size_t len)
{
    const json_t *v = json_object_get(r->body, name);
    if (!json_is_integer(v))
        return NULL;
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    return buf;
}

static void feedback_record(api_req_t *r)
{
    if (api_path_uuid(r, 0, "ticket") != 0 ||
        api_body_check(r, answer_fields, sizeof(answer_fields) / sizeof(answer_fields[0]),
                       JV_CREATE, 0) != 0)
        return;
    char csat[24], nps[24];
    const char *p_csat = int_param(r, "csat", csat, sizeof(csat));
    const char *p_nps = int_param(r, "nps", nps, sizeof(nps));
    if (p_csat == NULL && p_nps == NULL) {
        api_problem(r, 400, "validation", "csat", NULL,
                    "an answer needs \"csat\" (1-5), \"nps\" (0-10) or both");
        return;
    }
    const char *params[] = {r->path[0], p_csat, p_nps,
                            json_string_value(json_object_get(r->body, "comment")), r->user.id};
    api_query(r, sql_record_api, 5, params, on_record_api);
}

static void on_get(api_req_t *r, int err, PGresult *res)
{
    if (err == 0 && PQntuples(res) == 0) {
        api_problem(r, 404, "not-found", NULL, NULL,
                    "ticket %s has no feedback survey (no link was issued and no answer "
                    "recorded), or there is no such ticket",
                    r->path[0]);
        return;
    }
    api_reply_row(r, err, res, "feedback");
}

static void feedback_get(api_req_t *r)
{
    if (api_path_uuid(r, 0, "ticket") != 0)
        return;
    const char *params[] = {r->path[0]};
    api_query(r, sql_get, 1, params, on_get);
}

/* ---------------------------------------------------------------------------------------- */
/* The client's pages                                                                       */

static const char page_css[] =
    "body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2733;"
    "max-width:560px;margin:32px auto;padding:0 16px}h1{font-size:22px}"
    "fieldset{border:1px solid #d5dbe1;border-radius:6px;margin:0 0 16px;padding:8px 12px}"
    "legend{font-weight:600}.scale{display:flex;flex-wrap:wrap;gap:6px}"
    ".scale label{border:1px solid #d5dbe1;border-radius:4px;padding:2px 8px}"
    "textarea{width:100%;min-height:6em;box-sizing:border-box}"
    "button{font-size:16px;padding:6px 16px}.error{color:#b42318;font-weight:600}"
    ".muted{color:#5b6773}";

typedef struct {
    uint8_t hash[AUTH_TOKEN_HASHLEN];
    char hex[67];
    const char *error; /* a message shown above the form */
} form_ctx_t;

static void page_open(report_buf_t *b, const char *title)
{
    report_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                       "<meta name=\"robots\" content=\"noindex\"><title>");
    report_buf_html(b, title);
    report_buf_printf(b, "</title><style>%s</style></head><body><h1>", page_css);
    report_buf_html(b, title);
    report_buf_puts(b, "</h1>\n");
}

static void page_send(api_req_t *r, int status, report_buf_t *b)
{
    report_buf_puts(b, "</body></html>\n");
    if (b->failed) {
        report_buf_free(b);
        api_problem(r, 500, "internal", NULL, NULL, "out of memory rendering the page");
        return;
    }
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers,
                          H2O_STRLIT("content-security-policy"), 0, NULL,
                          H2O_STRLIT("default-src 'none'; style-src 'unsafe-inline'; "
                                     "form-action 'self'"));
    h2o_add_header_by_str(&r->req->pool, &r->req->res.headers, H2O_STRLIT("referrer-policy"), 0,
                          NULL, H2O_STRLIT("no-referrer"));
    api_reply_text(r, status, "text/html; charset=utf-8", b->data, b->len);
    report_buf_free(b);
}

/* A page with a title and one paragraph (message is plain text, escaped here). */
static void page_message(api_req_t *r, int status, const char *title, const char *message)
{
    report_buf_t b = {0};
    page_open(&b, title);
    report_buf_puts(&b, "<p>");
    report_buf_html(&b, message);
    report_buf_puts(&b, "</p>\n");
    page_send(r, status, &b);
}

static void page_db_error(api_req_t *r, int err, const PGresult *res)
{
    if (err == ACS_EDBQUERY && res != NULL && strncmp(db_sqlstate(res), "22", 2) == 0) {
        page_message(r, 400, "Your answer could not be saved",
                     "The answer contains text the service cannot store (it must be UTF-8). "
                     "Please go back, check the comment and send it again.");
        return;
    }
    h2o_add_header(&r->req->pool, &r->req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL,
                   H2O_STRLIT("30"));
    page_message(r, 503, "Please try again in a minute",
                 "The service cannot save or show your answer right now. Nothing was lost: "
                 "the link still works, please open it again in a minute.");
}

static void page_unknown(api_req_t *r)
{
    page_message(r, 404, "This link is not valid",
                 "This feedback link is unknown or was replaced by a newer one. Please use the "
                 "most recent link we sent you.");
}

static void form_html(report_buf_t *b, const char *token, PGresult *res, const char *error)
{
    report_buf_puts(b, "<p>Ticket #");
    report_buf_html(b, PQgetvalue(res, 0, 1));
    report_buf_puts(b, ": <strong>");
    report_buf_html(b, PQgetvalue(res, 0, 2));
    report_buf_puts(b, "</strong><br><span class=\"muted\">");
    report_buf_html(b, PQgetvalue(res, 0, 4));
    report_buf_puts(b, ", ");
    report_buf_html(b, PQgetvalue(res, 0, 5));
    report_buf_puts(b, "</span></p>\n");
    if (error != NULL) {
        report_buf_puts(b, "<p class=\"error\" role=\"alert\">");
        report_buf_html(b, error);
        report_buf_puts(b, "</p>\n");
    }
    report_buf_puts(b, "<form method=\"post\" action=\"/feedback/");
    report_buf_html(b, token);
    report_buf_puts(b, "\"><fieldset><legend>How satisfied are you with how we handled it?"
                       "</legend><div class=\"scale\">");
    for (int i = 1; i <= 5; i++)
        report_buf_printf(b,
                          "<label><input type=\"radio\" name=\"csat\" value=\"%d\"> %d"
                          "</label>",
                          i, i);
    report_buf_puts(b, "</div><p class=\"muted\">1 very dissatisfied, 5 very satisfied</p>"
                       "</fieldset><fieldset><legend>How likely are you to recommend us to a "
                       "colleague?</legend><div class=\"scale\">");
    for (int i = 0; i <= 10; i++)
        report_buf_printf(b,
                          "<label><input type=\"radio\" name=\"nps\" value=\"%d\"> %d"
                          "</label>",
                          i, i);
    report_buf_printf(b,
                      "</div><p class=\"muted\">0 not at all likely, 10 extremely likely</p>"
                      "</fieldset><fieldset><legend>Anything you want to tell us?</legend>"
                      "<textarea name=\"comment\" maxlength=\"%d\"></textarea></fieldset>"
                      "<button type=\"submit\">Send</button></form>\n",
                      COMMENT_MAX);
}

static void on_form(api_req_t *r, int err, PGresult *res)
{
    if (err != 0) {
        page_db_error(r, err, res);
        return;
    }
    if (PQntuples(res) != 1) {
        page_unknown(r);
        return;
    }
    form_ctx_t *c = r->data;
    if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
        page_message(r, 409, "Thank you, we have your answer",
                     "Feedback on this ticket has already been given, and an answer is given "
                     "only once.");
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 3), "resolved") != 0 &&
        strcmp(PQgetvalue(res, 0, 3), "closed") != 0) {
        page_message(r, 409, "We are still working on it",
                     "This ticket was reopened and is not resolved yet; you can give your "
                     "feedback through this link once it is.");
        return;
    }
    report_buf_t b = {0};
    page_open(&b, "How did we do?");
    form_html(&b, r->path[0], res, c->error);
    page_send(r, c->error != NULL ? 400 : 200, &b);
}

/* Hash the token of the path into a new form context; 404 page for a malformed token. */
static form_ctx_t *form_ctx(api_req_t *r)
{
    form_ctx_t *c = h2o_mem_alloc_pool(&r->req->pool, sizeof(*c));
    memset(c, 0, sizeof(*c));
    if (r->npath < 1 || auth_token_hash(r->path[0], strlen(r->path[0]), c->hash) != 0) {
        page_unknown(r);
        return NULL;
    }
    auth_token_hash_hex(c->hash, c->hex);
    r->data = c;
    return c;
}

static void form_get(api_req_t *r)
{
    form_ctx_t *c = form_ctx(r);
    if (c == NULL)
        return;
    const char *params[] = {c->hex};
    api_query(r, sql_form, 1, params, on_form);
}

static void on_record_link(api_req_t *r, int err, PGresult *res)
{
    if (err != 0) {
        page_db_error(r, err, res);
        return;
    }
    const char *outcome = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "unknown";
    if (strcmp(outcome, "recorded") == 0)
        page_message(r, 200, "Thank you!",
                     "Your feedback was recorded. It goes to the head of support, who reads "
                     "every answer.");
    else if (strcmp(outcome, "answered") == 0)
        page_message(r, 409, "Thank you, we have your answer",
                     "Feedback on this ticket has already been given, and an answer is given "
                     "only once.");
    else if (strcmp(outcome, "unresolved") == 0)
        page_message(r, 409, "We are still working on it",
                     "This ticket was reopened and is not resolved yet; you can give your "
                     "feedback through this link once it is.");
    else
        page_unknown(r);
}

/* Whether s is valid UTF-8 (no overlong forms, no surrogates). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3, cp = c & 0x07;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* An integer form value in [lo, hi]: 1 and *out; 0 when empty (not given); -1 when bad. */
static int form_int(const char *v, int lo, int hi, int *out)
{
    if (v == NULL || v[0] == '\0')
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi || end - v > 3)
        return -1;
    *out = (int)n;
    return 1;
}

/* Check the form; return NULL when it is fine, else the sentence that says what is wrong. The
 * values are copied into the pool. */
static const char *form_check(api_req_t *r, const qs_t *q, const char **csat, const char **nps,
                              const char **comment)
{
    static const char *const names[] = {"csat", "nps", "comment", NULL};
    char err[300];
    if (qs_check(q, names, err, sizeof(err)) != 0)
        return h2o_strdup(&r->req->pool, err, SIZE_MAX).base;
    int c = 0, n = 0;
    const char *vc = qs_get(q, "csat");
    const char *vn = qs_get(q, "nps");
    const char *cm = qs_get(q, "comment");
    int rc = form_int(vc, 1, 5, &c);
    int rn = form_int(vn, 0, 10, &n);
    char msg[200];
    if (rc < 0) {
        snprintf(msg, sizeof(msg),
                 "Satisfaction (csat) must be a whole number from 1 to 5; got \"%.20s\".", vc);
        return h2o_strdup(&r->req->pool, msg, SIZE_MAX).base;
    }
    if (rn < 0) {
        snprintf(msg, sizeof(msg),
                 "Recommendation (nps) must be a whole number from 0 to 10; got \"%.20s\".", vn);
        return h2o_strdup(&r->req->pool, msg, SIZE_MAX).base;
    }
    if (rc == 0 && rn == 0)
        return "Please choose a satisfaction score (csat, 1-5) or a recommendation score (nps, "
               "0-10), or both.";
    if (cm != NULL && !utf8_valid((const unsigned char *)cm, strlen(cm)))
        return "The comment is not valid UTF-8 text.";
    if (cm != NULL && utf8_chars(cm) > COMMENT_MAX) {
        snprintf(msg, sizeof(msg), "The comment is %zu characters long; at most %d fit.",
                 utf8_chars(cm), COMMENT_MAX);
        return h2o_strdup(&r->req->pool, msg, SIZE_MAX).base;
    }
    char buf[16];
    *csat = NULL;
    *nps = NULL;
    if (rc > 0) {
        snprintf(buf, sizeof(buf), "%d", c);
        *csat = h2o_strdup(&r->req->pool, buf, SIZE_MAX).base;
    }
    if (rn > 0) {
        snprintf(buf, sizeof(buf), "%d", n);
        *nps = h2o_strdup(&r->req->pool, buf, SIZE_MAX).base;
    }
    *comment = cm != NULL ? h2o_strdup(&r->req->pool, cm, SIZE_MAX).base : "";
    return NULL;
}

static void form_post(api_req_t *r)
{
    form_ctx_t *c = form_ctx(r);
    if (c == NULL)
        return;
    h2o_req_t *req = r->req;
    ssize_t ct = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (ct >= 0) {
        h2o_iovec_t v = req->headers.entries[ct].value;
        static const char want[] = "application/x-www-form-urlencoded";
        if (v.len < sizeof(want) - 1 || strncasecmp(v.base, want, sizeof(want) - 1) != 0) {
            page_message(r, 415, "Your answer could not be read",
                         "The form must be sent as application/x-www-form-urlencoded, as a "
                         "browser sends it.");
            return;
        }
    }
    qs_t q;
    char err[300];
    const char *csat = NULL, *nps = NULL, *comment = "";
    if (qs_parse(&q, req->entity.base, req->entity.base != NULL ? req->entity.len : 0, err,
                 sizeof(err)) != 0) {
        c->error = h2o_strdup(&req->pool, err, SIZE_MAX).base;
    } else {
        c->error = form_check(r, &q, &csat, &nps, &comment);
        qs_free(&q);
    }
    if (c->error != NULL) {
        /* show the form again with the reason */
        const char *params[] = {c->hex};
        api_query(r, sql_form, 1, params, on_form);
        return;
    }
    const char *params[] = {c->hex, csat, nps, comment};
    api_query(r, sql_record_link, 4, params, on_record_link);
}

void api_feedback_register(server_t *srv)
{
    static const api_route_t routes[] = {
        {"POST", "/api/v1/feedback/{}/link", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD,
         feedback_link, "feedback.link", NULL},
        {"POST", "/api/v1/feedback/{}", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD, feedback_record,
         "feedback.record", NULL},
        {"GET", "/api/v1/feedback/{}", ROLE_ADMIN | ROLE_DISPATCHER | ROLE_HEAD | ROLE_SENIOR,
         feedback_get, "feedback.get", NULL},
        {"GET", "/feedback/{}", ROLE_NONE, form_get, "feedback.form", NULL},
        {"POST", "/feedback/{}", ROLE_NONE, form_post, "feedback.answer", NULL},
    };
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        api_route_add(srv, &routes[i]);
}
