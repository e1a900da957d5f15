/* SPDX-License-Identifier: MIT */
/*
 * remote.c - fieldctl's commands that talk to fieldd over HTTP (remote.h): a ticket's SLA state,
 * the at-risk list, SLA policies, business calendars, the monthly report, webhooks, and a
 * raw `api` command for anything else. Human-readable tables by default, the service's JSON
 * with --json. Requests go through core/httpc.h on a private libuv loop.
 */
#include "remote.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "acs_error.h"
#include "httpc.h"
#include "remote_internal.h"

/* Reports and session exports can be large; a response over this is refused. */
#define FCTL_MAX_BODY (256u * 1024u * 1024u)

typedef struct {
    uv_loop_t *loop;
    fctl_resp_t *out;
    int err;
    char why[512];
} call_t;

static void on_done(int err, const httpc_response_t *resp, const char *why, void *arg)
{
    call_t *c = arg;
    /* The client's resolver queue keeps the loop alive: stop it explicitly. */
    uv_stop(c->loop);
    c->err = err;
    if (err != 0) {
        snprintf(c->why, sizeof(c->why), "%s", why != NULL ? why : acs_strerror(err));
        return;
    }
    c->out->status = resp->status;
    c->out->body = malloc(resp->len + 1);
    if (c->out->body == NULL) {
        c->err = ACS_ENOMEM;
        snprintf(c->why, sizeof(c->why), "out of memory for a %zu-byte answer", resp->len);
        return;
    }
    memcpy(c->out->body, resp->body, resp->len + 1);
    c->out->len = resp->len;
    snprintf(c->out->content_type, sizeof(c->out->content_type), "%s", resp->content_type);
}

int fctl_api_call(const fctl_api_t *a, const char *method, const char *path, const char *body,
                  fctl_resp_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    char url[2048], headers[512];
    if ((size_t)snprintf(url, sizeof(url), "%s%s", a->base, path) >= sizeof(url)) {
        snprintf(err, errlen, "the URL %s%s is too long", a->base, path);
        return ACS_EINVAL;
    }
    int hn = snprintf(headers, sizeof(headers), "Accept: application/json, */*\r\n");
    if (a->token[0] != '\0')
        hn += snprintf(headers + hn, sizeof(headers) - (size_t)hn, "Authorization: Bearer %s\r\n",
                       a->token);
    if (body != NULL)
        snprintf(headers + hn, sizeof(headers) - (size_t)hn, "Content-Type: application/json\r\n");

    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        snprintf(err, errlen, "cannot start an event loop");
        return ACS_EIO;
    }
    httpc_t *h = NULL;
    call_t c = {&loop, out, 0, ""};
    int rc = httpc_new(&loop, a->timeout_ms, FCTL_MAX_BODY, &h);
    if (rc == 0) {
        rc = httpc_request(h, method, url, headers, body, body ? strlen(body) : 0, on_done, &c,
                           NULL);
        if (rc == ACS_EINVAL)
            snprintf(c.why, sizeof(c.why), "\"%.400s\" is not an http:// or https:// URL", url);
        else if (rc != 0)
            snprintf(c.why, sizeof(c.why), "%s", acs_strerror(rc));
        else
            uv_run(&loop, UV_RUN_DEFAULT);
        httpc_free(h);
        uv_run(&loop, UV_RUN_DEFAULT);
    } else {
        snprintf(c.why, sizeof(c.why), "cannot create an HTTP client: %s", acs_strerror(rc));
    }
    uv_loop_close(&loop);
    if (rc == 0)
        rc = c.err;
    if (rc != 0) {
        fctl_resp_free(out);
        snprintf(err, errlen, "cannot reach fieldd at %s: %s (set --api or FIELDCTL_API)", a->base,
                 c.why);
    }
    return rc;
}

void fctl_resp_free(fctl_resp_t *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* --- shared by the commands (remote_internal.h) ---------------------------------------------- */

int fctl__call(const cmd_opts_t *o, const char *method, const char *path, const char *body,
               fctl_resp_t *resp, json_t **doc)
{
    char err[1024];
    if (doc != NULL)
        *doc = NULL;
    if (fctl_api_call(&o->api, method, path, body, resp, err, sizeof(err)) != 0) {
        fprintf(stderr, "fieldctl: %s\n", err);
        return 1;
    }
    if (resp->status < 200 || resp->status > 299) {
        json_t *p = json_loads(resp->body, 0, NULL);
        const char *detail = json_string_value(json_object_get(p, "detail"));
        fprintf(stderr, "fieldctl: %s %s: %s (HTTP %d)\n", method, path,
                detail != NULL ? detail : resp->body, resp->status);
        if (resp->status == 401)
            fprintf(stderr, "fieldctl: give a token with --token, FIELDCTL_TOKEN or "
                            "FIELDCTL_TOKEN_FILE (made by `fieldd user token NAME`)\n");
        json_decref(p);
        fctl_resp_free(resp);
        return 1;
    }
    if (doc != NULL) {
        json_error_t je;
        *doc = json_loads(resp->body, 0, &je);
        if (*doc == NULL) {
            fprintf(stderr, "fieldctl: %s %s: the answer is not JSON (%s)\n", method, path,
                    je.text);
            fctl_resp_free(resp);
            return 1;
        }
    }
    return 0;
}

int fctl__show(const cmd_opts_t *o, const char *path, fctl_print_fn print, const void *arg)
{
    fctl_resp_t r;
    json_t *doc;
    if (fctl__call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json)
        fctl__print_json(doc);
    else
        print(o, doc, arg);
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
}

void fctl__print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
}

/* "2026-11-24T10:15:03.5+03:00" -> "2026-11-24 10:15 +03:00"; "-" for null. */
const char *fctl__ts(const json_t *v, char *buf, size_t len)
{
    const char *s = json_string_value(v);
    if (s == NULL || strlen(s) < 16)
        return "-";
    const char *zone = strlen(s) > 19 ? s + 19 : "";
    while (*zone == '.' || (*zone >= '0' && *zone <= '9'))
        zone++;
    snprintf(buf, len, "%.10s %.5s %s", s, s + 11, zone);
    return buf;
}

/* Seconds as "2 h 05 min" / "12 min" / "-" (null). */
const char *fctl__dur(const json_t *v, char *buf, size_t len)
{
    if (!json_is_integer(v))
        return "-";
    long long s = json_integer_value(v);
    const char *sign = s < 0 ? "-" : "";
    if (s < 0)
        s = -s;
    if (s >= 3600)
        snprintf(buf, len, "%s%lld h %02lld min", sign, s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, len, "%s%lld min", sign, s / 60);
    return buf;
}

const char *fctl__str(const json_t *v)
{
    const char *s = json_string_value(v);
    return s != NULL ? s : "-";
}

int fctl__query_add(char *path, size_t cap, const char *name, const char *value)
{
    if (value == NULL)
        return 0;
    size_t n = strlen(path);
    int w = snprintf(path + n, cap - n, "%c%s=", strchr(path, '?') ? '&' : '?', name);
    if (w < 0 || (size_t)w >= cap - n)
        return -1;
    n += (size_t)w;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("-._~,:", *p) != NULL;
        if (n + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain) {
            path[n++] = (char)*p;
        } else {
            path[n++] = '%';
            path[n++] = hex[*p >> 4];
            path[n++] = hex[*p & 15];
        }
    }
    path[n] = '\0';
    return 0;
}

/* The state of one clock in a word. */
static const char *clock_state(const json_t *c)
{
    if (json_is_true(json_object_get(c, "breached")))
        return "BREACHED";
    if (json_is_true(json_object_get(c, "met")))
        return "met";
    if (json_is_true(json_object_get(c, "paused")))
        return "paused";
    if (!json_is_null(json_object_get(c, "warned_at")) && json_object_get(c, "warned_at"))
        return "warned";
    if (json_is_integer(json_object_get(c, "remaining_seconds")))
        return "running";
    return "stopped";
}

/* --- sla ------------------------------------------------------------------------------------ */

static void print_clock(const char *label, const json_t *c)
{
    char a[64], b[64], d[64], e[64];
    printf("%-14s %-9s target %s on %s\n", label, clock_state(c),
           fctl__dur(json_object_get(c, "target_seconds"), a, sizeof(a)),
           fctl__str(json_object_get(c, "calendar")));
    printf("%-14s due %s, warn at %s\n", "", fctl__ts(json_object_get(c, "due"), b, sizeof(b)),
           fctl__ts(json_object_get(c, "warn_at"), d, sizeof(d)));
    printf("%-14s remaining %s, taken %s\n", "",
           fctl__dur(json_object_get(c, "remaining_seconds"), a, sizeof(a)),
           fctl__dur(json_object_get(c, "taken_seconds"), e, sizeof(e)));
}

static void print_sla_show(const cmd_opts_t *o, json_t *doc, const void *arg)
{
    (void)o;
    const char *ticket = arg;
    printf("ticket %s (%s)\n", ticket, fctl__str(json_object_get(doc, "category")));
    print_clock("first contact", json_object_get(doc, "first_contact"));
    print_clock("resolution", json_object_get(doc, "resolution"));
}

static int sla_show(const cmd_opts_t *o, const char *ticket)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/tickets/%s/sla", ticket);
    return fctl__show(o, path, print_sla_show, ticket);
}

static void print_sla_at_risk(const cmd_opts_t *o, json_t *doc, const void *arg)
{
    (void)arg;
    json_t *items = json_object_get(doc, "items");
    size_t i;
    json_t *t;
    printf("%-8s %-12s %-15s %-23s %-13s %-13s %s\n", "number", "category", "status", "next due",
           "contact left", "resol. left", "subject");
    json_array_foreach(items, i, t)
    {
        const json_t *sla = json_object_get(t, "sla");
        const json_t *fc = json_object_get(sla, "first_contact");
        const json_t *rs = json_object_get(sla, "resolution");
        char a[64], b[64], c[64];
        const char *fcs = json_is_true(json_object_get(fc, "breached"))
                              ? "BREACHED"
                              : fctl__dur(json_object_get(fc, "remaining_seconds"), b, sizeof(b));
        const char *rss = json_is_true(json_object_get(rs, "breached"))
                              ? "BREACHED"
                              : fctl__dur(json_object_get(rs, "remaining_seconds"), c, sizeof(c));
        printf("%-8lld %-12s %-15s %-23s %-13s %-13s %.60s\n",
               (long long)json_integer_value(json_object_get(t, "number")),
               fctl__str(json_object_get(t, "category")), fctl__str(json_object_get(t, "status")),
               fctl__ts(json_object_get(t, "next_due"), a, sizeof(a)), fcs, rss,
               fctl__str(json_object_get(t, "subject")));
    }
    if (json_array_size(items) == 0)
        printf("(no open clock falls due%s)\n", o->within >= 0 ? " in that time" : "");
}

static int sla_at_risk(const cmd_opts_t *o)
{
    char path[256];
    int n = snprintf(path, sizeof(path), "/api/v1/sla/at-risk?limit=%d", o->limit ? o->limit : 50);
    if (o->within >= 0)
        n += snprintf(path + n, sizeof(path) - (size_t)n, "&within_minutes=%d", o->within);
    if (o->category != NULL)
        snprintf(path + n, sizeof(path) - (size_t)n, "&category=%s", o->category);
    return fctl__show(o, path, print_sla_at_risk, NULL);
}

static void print_sla_policies(const cmd_opts_t *o, json_t *doc, const void *arg)
{
    (void)o;
    (void)arg;
    size_t i;
    json_t *p;
    printf("%-13s %-38s %-26s %-26s %s\n", "category", "client", "first contact", "resolution",
           "warn at");
    json_array_foreach(json_object_get(doc, "items"), i, p)
    {
        char fc[80], rs[80];
        snprintf(fc, sizeof(fc), "%lld min on %s",
                 (long long)json_integer_value(json_object_get(p, "first_contact_target_minutes")),
                 fctl__str(json_object_get(p, "first_contact_calendar")));
        snprintf(rs, sizeof(rs), "%lld min on %s",
                 (long long)json_integer_value(json_object_get(p, "resolution_target_minutes")),
                 fctl__str(json_object_get(p, "resolution_calendar")));
        const char *client = json_string_value(json_object_get(p, "client_id"));
        printf("%-13s %-38s %-26s %-26s %.0f%%\n", fctl__str(json_object_get(p, "category")),
               client ? client : "(default)", fc, rs,
               100 * json_number_value(json_object_get(p, "warn_ratio")));
    }
}

static int sla_policies(const cmd_opts_t *o)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla-policies%s%s", o->client ? "?client_id=" : "",
             o->client ? o->client : "");
    return fctl__show(o, path, print_sla_policies, NULL);
}

/* --- calendars ------------------------------------------------------------------------------ */

static int calendars(const cmd_opts_t *o, const char *id)
{
    static const char *const wd[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    char path[256];
    if (id == NULL)
        snprintf(path, sizeof(path), "/api/v1/calendars");
    else if (o->year > 0)
        snprintf(path, sizeof(path), "/api/v1/calendars/%s?year=%d", id, o->year);
    else
        snprintf(path, sizeof(path), "/api/v1/calendars/%s", id);
    fctl_resp_t r;
    json_t *doc;
    if (fctl__call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        fctl__print_json(doc);
    } else if (id == NULL) {
        size_t i;
        json_t *c;
        printf("%-16s %-8s %-20s %-11s %s\n", "id", "mode", "time zone", "years", "name");
        json_array_foreach(json_object_get(doc, "items"), i, c)
        {
            char years[32];
            snprintf(years, sizeof(years), "%lld-%lld",
                     (long long)json_integer_value(json_object_get(c, "first_year")),
                     (long long)json_integer_value(json_object_get(c, "last_year")));
            printf("%-16s %-8s %-20s %-11s %s\n", fctl__str(json_object_get(c, "id")),
                   fctl__str(json_object_get(c, "mode")),
                   fctl__str(json_object_get(c, "time_zone")), years,
                   fctl__str(json_object_get(c, "name")));
        }
    } else {
        printf("%s: %s (%s, %s)\n", id, fctl__str(json_object_get(doc, "name")),
               fctl__str(json_object_get(doc, "time_zone")),
               fctl__str(json_object_get(doc, "mode")));
        printf("source: %s\n", fctl__str(json_object_get(doc, "source")));
        size_t i;
        json_t *h;
        printf("weekly hours:");
        json_array_foreach(json_object_get(doc, "hours"), i, h)
        {
            json_int_t d = json_integer_value(json_object_get(h, "weekday"));
            printf("%s %s %s-%s", i ? "," : "", d >= 1 && d <= 7 ? wd[d] : "?",
                   fctl__str(json_object_get(h, "start")), fctl__str(json_object_get(h, "end")));
        }
        printf("\n");
        json_t *wt = json_object_get(doc, "working_time_hours");
        if (json_is_number(wt))
            printf("working time in %d: %g h\n", o->year, json_number_value(wt));
        json_t *ex = json_object_get(doc, "exceptions");
        if (json_array_size(ex) > 0) {
            printf("%-11s %-8s %s\n", "date", "kind", "note");
            json_array_foreach(ex, i, h)
            {
                const char *kind = fctl__str(json_object_get(h, "kind"));
                char extra[64] = "";
                if (strcmp(kind, "workday") == 0)
                    snprintf(extra, sizeof(extra), " (as %s)",
                             wd[json_integer_value(json_object_get(h, "as_weekday")) % 8]);
                else if (strcmp(kind, "short") == 0)
                    snprintf(extra, sizeof(extra), " (-%lld min)",
                             (long long)json_integer_value(json_object_get(h, "shorten_min")));
                printf("%-11s %-8s %s%s\n", fctl__str(json_object_get(h, "date")), kind,
                       json_string_value(json_object_get(h, "note"))
                           ? fctl__str(json_object_get(h, "note"))
                           : "",
                       extra);
            }
        }
    }
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
}

/* --- report, webhooks, api ------------------------------------------------------------------ */

static int write_out(const cmd_opts_t *o, const fctl_resp_t *r)
{
    FILE *f = stdout;
    if (o->output != NULL && strcmp(o->output, "-") != 0) {
        f = fopen(o->output, "wb");
        if (f == NULL) {
            fprintf(stderr, "fieldctl: cannot write %s: %s\n", o->output, strerror(errno));
            return 1;
        }
    }
    size_t w = fwrite(r->body, 1, r->len, f);
    int bad = w != r->len || (f != stdout ? fclose(f) != 0 : fflush(f) != 0);
    if (bad) {
        fprintf(stderr, "fieldctl: writing %s failed: %s\n", o->output ? o->output : "stdout",
                strerror(errno));
        return 1;
    }
    if (f != stdout)
        fprintf(stderr, "fieldctl: wrote %zu bytes to %s\n", r->len, o->output);
    return 0;
}

/* A percentage, or "-" when the figure has no base (null). */
static const char *pct(const json_t *v, char *buf, size_t len)
{
    if (!json_is_number(v))
        return "-";
    snprintf(buf, len, "%.1f%%", json_number_value(v));
    return buf;
}

/* Whole seconds from a JSON number that may carry a fraction. */
static json_t *secs(const json_t *v)
{
    return json_is_number(v) ? json_integer((json_int_t)json_number_value(v)) : json_null();
}

/* One clock's compliance and times: "87.5% met, 3 breached; median 2 h 05 min, ...". */
static void print_compliance(const char *label, const json_t *c)
{
    char a[32], b[32], d[32], e[32];
    json_t *med = secs(json_object_get(c, "median_seconds"));
    json_t *p90 = secs(json_object_get(c, "p90_seconds"));
    json_t *max = secs(json_object_get(c, "max_seconds"));
    printf("%-15s %s met, %lld breached, %lld pending; median %s, p90 %s, max %s\n", label,
           pct(json_object_get(c, "met_pct"), a, sizeof(a)),
           (long long)json_integer_value(json_object_get(c, "breached")),
           (long long)json_integer_value(json_object_get(c, "pending")),
           fctl__dur(med, b, sizeof(b)), fctl__dur(p90, d, sizeof(d)),
           fctl__dur(max, e, sizeof(e)));
    json_decref(med);
    json_decref(p90);
    json_decref(max);
}

static void print_metrics(const cmd_opts_t *o, json_t *doc, const void *arg)
{
    (void)o;
    (void)arg;
    const json_t *t = json_object_get(doc, "totals");
    char a[32], b[32], c[32], d[32], f[32];
    printf("period %s .. %s\n", fctl__str(json_object_get(doc, "from")),
           fctl__str(json_object_get(doc, "to")));
    printf("%-15s %lld opened, %lld resolved, %lld open at the end\n", "tickets",
           (long long)json_integer_value(json_object_get(t, "opened")),
           (long long)json_integer_value(json_object_get(t, "resolved")),
           (long long)json_integer_value(json_object_get(t, "backlog_at_end")));
    print_compliance("first contact", json_object_get(t, "first_contact"));
    print_compliance("resolution", json_object_get(t, "resolution"));
    const json_t *ftf = json_object_get(t, "first_time_fix");
    printf("%-15s repeats %s, reopens %s, first-time fix %s of %lld visited\n", "quality",
           pct(json_object_get(json_object_get(t, "repeats"), "rate_pct"), a, sizeof(a)),
           pct(json_object_get(json_object_get(t, "reopens"), "rate_pct"), b, sizeof(b)),
           pct(json_object_get(ftf, "rate_pct"), c, sizeof(c)),
           (long long)json_integer_value(json_object_get(ftf, "tickets_with_visits")));
    const json_t *cs = json_object_get(t, "csat"), *np = json_object_get(t, "nps");
    json_t *avg = json_object_get(cs, "average"), *score = json_object_get(np, "score");
    if (json_is_number(avg))
        snprintf(d, sizeof(d), "%.2f", json_number_value(avg));
    else
        snprintf(d, sizeof(d), "-");
    if (json_is_number(score))
        snprintf(f, sizeof(f), "%+.1f", json_number_value(score));
    else
        snprintf(f, sizeof(f), "-");
    printf("%-15s CSAT %s (%lld answers, response rate %s), NPS %s (%lld answers)\n",
           "satisfaction", d, (long long)json_integer_value(json_object_get(cs, "answers")),
           pct(json_object_get(cs, "response_rate_pct"), a, sizeof(a)), f,
           (long long)json_integer_value(json_object_get(np, "answers")));
    const json_t *vi = json_object_get(t, "visits"), *pr = json_object_get(t, "projects");
    printf("%-15s %lld visits, %lld min on site; projects %lld started, %lld finished, "
           "%lld late\n",
           "work", (long long)json_integer_value(json_object_get(vi, "count")),
           (long long)json_integer_value(json_object_get(vi, "minutes_on_site")),
           (long long)json_integer_value(json_object_get(pr, "started")),
           (long long)json_integer_value(json_object_get(pr, "finished")),
           (long long)json_integer_value(json_object_get(pr, "late")));
    const json_t *groups = json_object_get(doc, "groups");
    if (json_array_size(groups) == 0)
        return;
    printf("\n%-32s %7s %8s %9s %9s %9s %6s %6s\n", fctl__str(json_object_get(doc, "by")), "opened",
           "resolved", "contact", "resol.", "res. p90", "CSAT", "NPS");
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const json_t *rs = json_object_get(g, "resolution");
        json_t *p90 = secs(json_object_get(rs, "p90_seconds"));
        json_t *ga = json_object_get(json_object_get(g, "csat"), "average");
        json_t *gs = json_object_get(json_object_get(g, "nps"), "score");
        char cs_txt[16] = "-", np_txt[16] = "-";
        if (json_is_number(ga))
            snprintf(cs_txt, sizeof(cs_txt), "%.2f", json_number_value(ga));
        if (json_is_number(gs))
            snprintf(np_txt, sizeof(np_txt), "%+.0f", json_number_value(gs));
        printf("%-32.32s %7lld %8lld %9s %9s %9s %6s %6s\n", fctl__str(json_object_get(g, "label")),
               (long long)json_integer_value(json_object_get(g, "opened")),
               (long long)json_integer_value(json_object_get(g, "resolved")),
               pct(json_object_get(json_object_get(g, "first_contact"), "met_pct"), a, sizeof(a)),
               pct(json_object_get(rs, "met_pct"), b, sizeof(b)), fctl__dur(p90, c, sizeof(c)),
               cs_txt, np_txt);
        json_decref(p90);
    }
}

static int metrics(const cmd_opts_t *o)
{
    if ((o->month == NULL) == (o->from == NULL && o->to == NULL)) {
        fprintf(stderr, "fieldctl: metrics needs --month YYYY-MM, or --from and --to\n");
        return 2;
    }
    char path[512] = "/api/v1/metrics";
    if (fctl__query_add(path, sizeof(path), "month", o->month) != 0 ||
        fctl__query_add(path, sizeof(path), "from", o->from) != 0 ||
        fctl__query_add(path, sizeof(path), "to", o->to) != 0 ||
        fctl__query_add(path, sizeof(path), "by", o->by) != 0) {
        fprintf(stderr, "fieldctl: the query is too long\n");
        return 2;
    }
    return fctl__show(o, path, print_metrics, NULL);
}

static int report(const cmd_opts_t *o, const char *kind)
{
    if (strcmp(kind, "monthly") != 0) {
        fprintf(stderr, "fieldctl: unknown report \"%s\" (there is: monthly)\n", kind);
        return 2;
    }
    if (o->month == NULL) {
        fprintf(stderr, "fieldctl: report monthly needs --month YYYY-MM\n");
        return 2;
    }
    const char *format = o->format ? o->format : "html";
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/reports/monthly?month=%s&format=%s", o->month, format);
    fctl_resp_t r;
    if (fctl__call(o, "GET", path, NULL, &r, NULL) != 0)
        return 1;
    int rc = write_out(o, &r);
    fctl_resp_free(&r);
    return rc;
}

/* The body of --data: inline JSON, or @FILE. Returns NULL after a message on error; the
 * caller frees. */
static char *read_data(const char *data)
{
    char *text = NULL;
    if (data[0] == '@') {
        FILE *f = fopen(data + 1, "rb");
        if (f == NULL) {
            fprintf(stderr, "fieldctl: cannot read %s: %s\n", data + 1, strerror(errno));
            return NULL;
        }
        size_t cap = 0, len = 0, n;
        char buf[65536];
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
            if (len + n + 1 > cap) {
                cap = (len + n + 1) * 2;
                char *p = realloc(text, cap);
                if (p == NULL) {
                    free(text);
                    fclose(f);
                    return NULL;
                }
                text = p;
            }
            memcpy(text + len, buf, n);
            len += n;
        }
        fclose(f);
        if (text == NULL)
            text = calloc(1, 1);
        else
            text[len] = '\0';
    } else {
        text = strdup(data);
    }
    json_error_t je;
    json_t *v = text ? json_loads(text, 0, &je) : NULL;
    if (text != NULL && v == NULL) {
        fprintf(stderr, "fieldctl: --data is not JSON: %s (line %d, column %d)\n", je.text, je.line,
                je.column);
        free(text);
        return NULL;
    }
    json_decref(v);
    return text;
}

static int raw_api(const cmd_opts_t *o, const char *method, const char *path)
{
    if (path[0] != '/') {
        fprintf(stderr, "fieldctl: the path must start with / (/api/v1/tickets)\n");
        return 2;
    }
    char *body = NULL;
    if (o->data != NULL && (body = read_data(o->data)) == NULL)
        return 1;
    fctl_resp_t r;
    int rc = fctl__call(o, method, path, body, &r, NULL);
    free(body);
    if (rc != 0)
        return rc;
    json_t *doc =
        o->json || strstr(r.content_type, "json") == NULL ? NULL : json_loads(r.body, 0, NULL);
    if (doc != NULL)
        fctl__print_json(doc);
    else
        rc = write_out(o, &r);
    json_decref(doc);
    fctl_resp_free(&r);
    return rc;
}

static void print_webhooks(const cmd_opts_t *o, json_t *doc, const void *arg)
{
    (void)o;
    const char *id = arg;
    size_t i;
    json_t *w;
    if (id == NULL)
        printf("%-36s %-6s %-9s %-7s %-7s %s\n", "id", "active", "delivered", "pending", "gave up",
               "url");
    else
        printf("%-8s %-12s %-9s %-8s %-6s %-23s %s\n", "id", "event", "status", "attempts", "last",
               "created", "last error");
    json_array_foreach(json_object_get(doc, "items"), i, w)
    {
        char a[64];
        if (id == NULL) {
            json_t *d = json_object_get(w, "deliveries");
            printf("%-36s %-6s %-9lld %-7lld %-7lld %s\n", fctl__str(json_object_get(w, "id")),
                   json_is_true(json_object_get(w, "active")) ? "yes" : "no",
                   (long long)json_integer_value(json_object_get(d, "delivered")),
                   (long long)json_integer_value(json_object_get(d, "pending")),
                   (long long)json_integer_value(json_object_get(d, "gave_up")),
                   fctl__str(json_object_get(w, "url")));
        } else {
            char last[16] = "-";
            if (json_is_integer(json_object_get(w, "last_status")))
                snprintf(last, sizeof(last), "%lld",
                         (long long)json_integer_value(json_object_get(w, "last_status")));
            printf("%-8lld %-12s %-9s %-8lld %-6s %-23s %s\n",
                   (long long)json_integer_value(json_object_get(w, "id")),
                   fctl__str(json_object_get(w, "event")), fctl__str(json_object_get(w, "status")),
                   (long long)json_integer_value(json_object_get(w, "attempts")), last,
                   fctl__ts(json_object_get(w, "created_at"), a, sizeof(a)),
                   json_string_value(json_object_get(w, "last_error"))
                       ? fctl__str(json_object_get(w, "last_error"))
                       : "");
        }
    }
}

static int webhooks(const cmd_opts_t *o, const char *id)
{
    char path[256];
    if (id == NULL)
        snprintf(path, sizeof(path), "/api/v1/webhooks");
    else
        snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries?limit=%d", id,
                 o->limit ? o->limit : 20);
    return fctl__show(o, path, print_webhooks, id);
}

/* --- options and dispatch ------------------------------------------------------------------- */

static const char *const api_commands[] = {"sla",      "calendars", "report", "metrics",
                                           "webhooks", "api",       "diag",   NULL};

int fctl_is_api_command(const char *cmd)
{
    for (size_t i = 0; api_commands[i] != NULL; i++)
        if (strcmp(cmd, api_commands[i]) == 0)
            return 1;
    return 0;
}

static void api_usage(void)
{
    printf("usage: fieldctl [API OPTIONS] COMMAND ...   (commands that talk to fieldd)\n\n"
           "  sla show TICKET_ID            a ticket's SLA clocks: due, remaining, paused, "
           "breached\n"
           "  sla at-risk [--within MIN] [--category C] [--limit N]\n"
           "                                open clocks soonest due first\n"
           "  sla policies [--client ID]    SLA targets per category (and client overrides)\n"
           "  calendars [ID [--year YYYY]]  business calendars; one with its hours and "
           "holidays\n"
           "  report monthly --month YYYY-MM [--format html|csv|json] [--output FILE]\n"
           "  metrics (--month YYYY-MM | --from DATE --to DATE) [--by category|client|site_kind|"
           "engineer]\n"
           "                                SLA compliance, times, repeats, CSAT/NPS, volume\n"
           "  webhooks [ID [--limit N]]     webhooks, or one webhook's recent deliveries\n"
           "  api METHOD PATH [--data JSON|@FILE]   any API call; prints the answer\n"
           "  diag start --job ID (--port DEV [--baud N] [--parity E] | --tcp HOST:PORT ...)\n"
           "             [--units A-B] [--events N] [--no-frames] [--wait]\n"
           "  diag stop|show|frames SESSION     stop a session; its units, findings, readings;"
           " frames\n"
           "  diag list [--site|--job|--ticket|--engineer ID] [--serial S] [--code C]\n"
           "            [--status S] [--from T] [--to T] [--review none|approved|needs_rework]\n"
           "  diag compare A B --serial S       what changed on one device between sessions\n"
           "  diag review SESSION --verdict approved|needs_rework [--comment TEXT]\n"
           "  diag checklist JOB                a commissioning job's checklist\n\n"
           "API options:\n"
           "  --api URL          fieldd's address (default $FIELDCTL_API or "
           "http://127.0.0.1:8080)\n"
           "  --token TOKEN      bearer token (default $FIELDCTL_TOKEN)\n"
           "  --token-file FILE  read the token from FILE's first line (default "
           "$FIELDCTL_TOKEN_FILE)\n"
           "  --timeout MS       for each step of a request (default 30000)\n"
           "  --json             print the service's JSON instead of a table\n");
}

static int load_token(fctl_api_t *a, const char *file)
{
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        fprintf(stderr, "fieldctl: cannot read the token file %s: %s\n", file, strerror(errno));
        return -1;
    }
    if (fgets(a->token, sizeof(a->token), f) == NULL)
        a->token[0] = '\0';
    fclose(f);
    a->token[strcspn(a->token, "\r\n \t")] = '\0';
    if (a->token[0] == '\0') {
        fprintf(stderr, "fieldctl: the token file %s is empty\n", file);
        return -1;
    }
    return 0;
}

int fctl_api_main(int argc, char **argv)
{
    /* Options that take a string: long name -> where it goes. */
    cmd_opts_t o;
    memset(&o, 0, sizeof(o));
    const char *token_file = getenv("FIELDCTL_TOKEN_FILE");
    const char *api = NULL, *token = NULL;
    struct {
        const char *name;
        const char **to;
    } strs[] = {
        {"api", &api},
        {"token", &token},
        {"token-file", &token_file},
        {"month", &o.month},
        {"format", &o.format},
        {"output", &o.output},
        {"data", &o.data},
        {"category", &o.category},
        {"client", &o.client},
        {"job", &o.job},
        {"port", &o.port},
        {"parity", &o.parity},
        {"units", &o.units},
        {"site", &o.site},
        {"ticket", &o.ticket},
        {"engineer", &o.engineer},
        {"serial", &o.serial},
        {"code", &o.code},
        {"status", &o.status},
        {"from", &o.from},
        {"to", &o.to},
        {"review", &o.review},
        {"verdict", &o.verdict},
        {"comment", &o.comment},
        {"by", &o.by},
    };
    /* Options that take a whole number: name -> where, and the largest value. */
    long timeout = 30000;
    long limit = 0, within = -1, year = 0, baud = 0, events = -1, dev_timeout = 0;
    struct {
        const char *name;
        long *to;
        long max;
    } nums[] = {
        {"timeout", &timeout, 3600000},
        {"limit", &limit, 1000},
        {"within", &within, 525600},
        {"year", &year, 9999},
        {"baud", &baud, 921600},
        {"events", &events, 500},
        {"device-timeout", &dev_timeout, 60000},
    };
    enum { O_STR = 1000, O_NUM = 2000, O_JSON = 3000, O_TCP, O_NO_FRAMES, O_WAIT, O_HELP };
    const size_t nstrs = sizeof(strs) / sizeof(strs[0]), nnums = sizeof(nums) / sizeof(nums[0]);
    struct option longopts[sizeof(strs) / sizeof(strs[0]) + sizeof(nums) / sizeof(nums[0]) + 6];
    size_t k = 0;
    for (size_t i = 0; i < nstrs; i++)
        longopts[k++] = (struct option){strs[i].name, required_argument, NULL, O_STR + (int)i};
    for (size_t i = 0; i < nnums; i++)
        longopts[k++] = (struct option){nums[i].name, required_argument, NULL, O_NUM + (int)i};
    longopts[k++] = (struct option){"json", no_argument, NULL, O_JSON};
    longopts[k++] = (struct option){"tcp", required_argument, NULL, O_TCP};
    longopts[k++] = (struct option){"no-frames", no_argument, NULL, O_NO_FRAMES};
    longopts[k++] = (struct option){"wait", no_argument, NULL, O_WAIT};
    longopts[k++] = (struct option){"help", no_argument, NULL, O_HELP};
    longopts[k] = (struct option){NULL, 0, NULL, 0};

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c >= O_STR && c < O_STR + (int)nstrs) {
            *strs[c - O_STR].to = optarg;
        } else if (c >= O_NUM && c < O_NUM + (int)nnums) {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || v < 0 || v > nums[c - O_NUM].max) {
                fprintf(stderr, "fieldctl: --%s must be a whole number from 0 to %ld, not \"%s\"\n",
                        nums[c - O_NUM].name, nums[c - O_NUM].max, optarg);
                return 2;
            }
            *nums[c - O_NUM].to = v;
        } else if (c == O_JSON) {
            o.json = 1;
        } else if (c == O_TCP) {
            if (o.ntcp == FCTL_MAX_TCP) {
                fprintf(stderr, "fieldctl: at most %d --tcp endpoints\n", FCTL_MAX_TCP);
                return 2;
            }
            o.tcp[o.ntcp++] = optarg;
        } else if (c == O_NO_FRAMES) {
            o.no_frames = 1;
        } else if (c == O_WAIT) {
            o.wait = 1;
        } else if (c == O_HELP) {
            api_usage();
            return 0;
        } else {
            fprintf(stderr, "fieldctl: see fieldctl sla --help\n");
            return 2;
        }
    }
    o.api.timeout_ms = (uint64_t)(timeout > 0 ? timeout : 1);
    o.limit = (int)limit;
    o.within = (int)within;
    o.year = (int)year;
    o.baud = (int)baud;
    o.events = (int)events;
    o.timeout_ms_dev = (int)dev_timeout;
    const char *base = api != NULL ? api : getenv("FIELDCTL_API");
    snprintf(o.api.base, sizeof(o.api.base), "%s",
             base != NULL && *base != '\0' ? base : "http://127.0.0.1:8080");
    if (token == NULL)
        token = getenv("FIELDCTL_TOKEN");
    else
        token_file = NULL; /* --token wins over a token file from the environment */
    if (token != NULL)
        snprintf(o.api.token, sizeof(o.api.token), "%s", token);
    size_t len = strlen(o.api.base);
    while (len > 0 && o.api.base[len - 1] == '/')
        o.api.base[--len] = '\0';
    if (token_file != NULL && *token_file != '\0' && load_token(&o.api, token_file) != 0)
        return 1;

    /* argv[optind] is the command, then its words. */
    int nargs = argc - optind;
    char **args = argv + optind;
    if (nargs < 1) {
        api_usage();
        return 2;
    }
    const char *cmd = args[0];
    if (strcmp(cmd, "sla") == 0) {
        if (nargs == 3 && strcmp(args[1], "show") == 0)
            return sla_show(&o, args[2]);
        if (nargs == 2 && strcmp(args[1], "at-risk") == 0)
            return sla_at_risk(&o);
        if (nargs == 2 && strcmp(args[1], "policies") == 0)
            return sla_policies(&o);
    } else if (strcmp(cmd, "calendars") == 0) {
        if (nargs <= 2)
            return calendars(&o, nargs == 2 ? args[1] : NULL);
    } else if (strcmp(cmd, "report") == 0) {
        if (nargs == 2)
            return report(&o, args[1]);
    } else if (strcmp(cmd, "webhooks") == 0) {
        if (nargs <= 2)
            return webhooks(&o, nargs == 2 ? args[1] : NULL);
    } else if (strcmp(cmd, "api") == 0) {
        if (nargs == 3)
            return raw_api(&o, args[1], args[2]);
    } else if (strcmp(cmd, "diag") == 0) {
        return fctl__diag(&o, nargs, args);
    } else if (strcmp(cmd, "metrics") == 0) {
        if (nargs == 1)
            return metrics(&o);
    }
    fprintf(stderr, "fieldctl: wrong use of \"%s\"\n\n", cmd);
    api_usage();
    return 2;
}
