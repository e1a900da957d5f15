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
        hn += snprintf(headers + hn, sizeof(headers) - (size_t)hn,
                       "Authorization: Bearer %s\r\n", a->token);
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

/* --- shared by the commands ----------------------------------------------------------------- */

typedef struct {
    fctl_api_t api;
    int json;
    const char *month, *format, *output, *data, *category, *client;
    int limit, within, year;
} cmd_opts_t;

/* Call and check: 2xx gives 0 and the parsed JSON in *doc (when want_json), else a message
 * from the problem+json detail on stderr and 1. */
static int call(const cmd_opts_t *o, const char *method, const char *path, const char *body,
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

static void print_json(const json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    putchar('\n');
}

/* "2026-11-24T10:15:03.5+03:00" -> "2026-11-24 10:15 +03:00"; "-" for null. */
static const char *ts(const json_t *v, char *buf, size_t len)
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
static const char *dur(const json_t *v, char *buf, size_t len)
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

static const char *str(const json_t *v)
{
    const char *s = json_string_value(v);
    return s != NULL ? s : "-";
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
           dur(json_object_get(c, "target_seconds"), a, sizeof(a)),
           str(json_object_get(c, "calendar")));
    printf("%-14s due %s, warn at %s\n", "", ts(json_object_get(c, "due"), b, sizeof(b)),
           ts(json_object_get(c, "warn_at"), d, sizeof(d)));
    printf("%-14s remaining %s, taken %s\n", "",
           dur(json_object_get(c, "remaining_seconds"), a, sizeof(a)),
           dur(json_object_get(c, "taken_seconds"), e, sizeof(e)));
}

static int sla_show(const cmd_opts_t *o, const char *ticket)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/tickets/%s/sla", ticket);
    fctl_resp_t r;
    json_t *doc;
    if (call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        print_json(doc);
    } else {
        printf("ticket %s (%s)\n", ticket, str(json_object_get(doc, "category")));
        print_clock("first contact", json_object_get(doc, "first_contact"));
        print_clock("resolution", json_object_get(doc, "resolution"));
    }
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
}

static int sla_at_risk(const cmd_opts_t *o)
{
    char path[256];
    int n = snprintf(path, sizeof(path), "/api/v1/sla/at-risk?limit=%d", o->limit ? o->limit : 50);
    if (o->within >= 0)
        n += snprintf(path + n, sizeof(path) - (size_t)n, "&within_minutes=%d", o->within);
    if (o->category != NULL)
        snprintf(path + n, sizeof(path) - (size_t)n, "&category=%s", o->category);
    fctl_resp_t r;
    json_t *doc;
    if (call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        print_json(doc);
    } else {
        json_t *items = json_object_get(doc, "items");
        size_t i;
        json_t *t;
        printf("%-8s %-12s %-15s %-22s %-13s %-13s %s\n", "number", "category", "status",
               "next due", "contact left", "resol. left", "subject");
        json_array_foreach(items, i, t)
        {
            const json_t *sla = json_object_get(t, "sla");
            const json_t *fc = json_object_get(sla, "first_contact");
            const json_t *rs = json_object_get(sla, "resolution");
            char a[64], b[64], c[64];
            const char *fcs = json_is_true(json_object_get(fc, "breached"))
                                  ? "BREACHED"
                                  : dur(json_object_get(fc, "remaining_seconds"), b, sizeof(b));
            const char *rss = json_is_true(json_object_get(rs, "breached"))
                                  ? "BREACHED"
                                  : dur(json_object_get(rs, "remaining_seconds"), c, sizeof(c));
            printf("%-8lld %-12s %-15s %-22s %-13s %-13s %.60s\n",
                   (long long)json_integer_value(json_object_get(t, "number")),
                   str(json_object_get(t, "category")), str(json_object_get(t, "status")),
                   ts(json_object_get(t, "next_due"), a, sizeof(a)), fcs, rss,
                   str(json_object_get(t, "subject")));
        }
        if (json_array_size(items) == 0)
            printf("(no open clock falls due%s)\n", o->within >= 0 ? " in that time" : "");
    }
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
}

static int sla_policies(const cmd_opts_t *o)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla-policies%s%s", o->client ? "?client_id=" : "",
             o->client ? o->client : "");
    fctl_resp_t r;
    json_t *doc;
    if (call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        print_json(doc);
    } else {
        size_t i;
        json_t *p;
        printf("%-13s %-38s %-26s %-26s %s\n", "category", "client", "first contact",
               "resolution", "warn at");
        json_array_foreach(json_object_get(doc, "items"), i, p)
        {
            char fc[80], rs[80];
            snprintf(fc, sizeof(fc), "%lld min on %s",
                     (long long)json_integer_value(
                         json_object_get(p, "first_contact_target_minutes")),
                     str(json_object_get(p, "first_contact_calendar")));
            snprintf(rs, sizeof(rs), "%lld min on %s",
                     (long long)json_integer_value(json_object_get(p, "resolution_target_minutes")),
                     str(json_object_get(p, "resolution_calendar")));
            const char *client = json_string_value(json_object_get(p, "client_id"));
            printf("%-13s %-38s %-26s %-26s %.0f%%\n", str(json_object_get(p, "category")),
                   client ? client : "(default)", fc, rs,
                   100 * json_number_value(json_object_get(p, "warn_ratio")));
        }
    }
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
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
    if (call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        print_json(doc);
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
            printf("%-16s %-8s %-20s %-11s %s\n", str(json_object_get(c, "id")),
                   str(json_object_get(c, "mode")), str(json_object_get(c, "time_zone")), years,
                   str(json_object_get(c, "name")));
        }
    } else {
        printf("%s: %s (%s, %s)\n", id, str(json_object_get(doc, "name")),
               str(json_object_get(doc, "time_zone")), str(json_object_get(doc, "mode")));
        printf("source: %s\n", str(json_object_get(doc, "source")));
        size_t i;
        json_t *h;
        printf("weekly hours:");
        json_array_foreach(json_object_get(doc, "hours"), i, h)
        {
            json_int_t d = json_integer_value(json_object_get(h, "weekday"));
            printf("%s %s %s-%s", i ? "," : "", d >= 1 && d <= 7 ? wd[d] : "?",
                   str(json_object_get(h, "start")), str(json_object_get(h, "end")));
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
                const char *kind = str(json_object_get(h, "kind"));
                char extra[64] = "";
                if (strcmp(kind, "workday") == 0)
                    snprintf(extra, sizeof(extra), " (as %s)",
                             wd[json_integer_value(json_object_get(h, "as_weekday")) % 8]);
                else if (strcmp(kind, "short") == 0)
                    snprintf(extra, sizeof(extra), " (-%lld min)",
                             (long long)json_integer_value(json_object_get(h, "shorten_min")));
                printf("%-11s %-8s %s%s\n", str(json_object_get(h, "date")), kind,
                       json_string_value(json_object_get(h, "note")) ? str(json_object_get(h,
                                                                                 "note"))
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
    if (call(o, "GET", path, NULL, &r, NULL) != 0)
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
        fprintf(stderr, "fieldctl: --data is not JSON: %s (line %d, column %d)\n", je.text,
                je.line, je.column);
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
    int rc = call(o, method, path, body, &r, NULL);
    free(body);
    if (rc != 0)
        return rc;
    json_t *doc = o->json || strstr(r.content_type, "json") == NULL ? NULL
                                                                    : json_loads(r.body, 0, NULL);
    if (doc != NULL)
        print_json(doc);
    else
        rc = write_out(o, &r);
    json_decref(doc);
    fctl_resp_free(&r);
    return rc;
}

static int webhooks(const cmd_opts_t *o, const char *id)
{
    char path[256];
    if (id == NULL)
        snprintf(path, sizeof(path), "/api/v1/webhooks");
    else
        snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries?limit=%d", id,
                 o->limit ? o->limit : 20);
    fctl_resp_t r;
    json_t *doc;
    if (call(o, "GET", path, NULL, &r, &doc) != 0)
        return 1;
    if (o->json) {
        print_json(doc);
    } else {
        size_t i;
        json_t *w;
        if (id == NULL)
            printf("%-36s %-6s %-9s %-7s %-7s %s\n", "id", "active", "delivered", "pending",
                   "gave up", "url");
        else
            printf("%-8s %-12s %-9s %-8s %-6s %-22s %s\n", "id", "event", "status", "attempts",
                   "last", "created", "last error");
        json_array_foreach(json_object_get(doc, "items"), i, w)
        {
            char a[64];
            if (id == NULL) {
                json_t *d = json_object_get(w, "deliveries");
                printf("%-36s %-6s %-9lld %-7lld %-7lld %s\n", str(json_object_get(w, "id")),
                       json_is_true(json_object_get(w, "active")) ? "yes" : "no",
                       (long long)json_integer_value(json_object_get(d, "delivered")),
                       (long long)json_integer_value(json_object_get(d, "pending")),
                       (long long)json_integer_value(json_object_get(d, "gave_up")),
                       str(json_object_get(w, "url")));
            } else {
                char last[16] = "-";
                if (json_is_integer(json_object_get(w, "last_status")))
                    snprintf(last, sizeof(last), "%lld",
                             (long long)json_integer_value(json_object_get(w, "last_status")));
                printf("%-8lld %-12s %-9s %-8lld %-6s %-22s %s\n",
                       (long long)json_integer_value(json_object_get(w, "id")),
                       str(json_object_get(w, "event")), str(json_object_get(w, "status")),
                       (long long)json_integer_value(json_object_get(w, "attempts")), last,
                       ts(json_object_get(w, "created_at"), a, sizeof(a)),
                       json_string_value(json_object_get(w, "last_error"))
                           ? str(json_object_get(w, "last_error"))
                           : "");
            }
        }
    }
    json_decref(doc);
    fctl_resp_free(&r);
    return 0;
}

/* --- options and dispatch ------------------------------------------------------------------- */

static const char *const api_commands[] = {"sla", "calendars", "report", "webhooks", "api", NULL};

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
           "  webhooks [ID [--limit N]]     webhooks, or one webhook's recent deliveries\n"
           "  api METHOD PATH [--data JSON|@FILE]   any API call; prints the answer\n\n"
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
    enum { O_API = 1000, O_TOKEN, O_TOKEN_FILE, O_TIMEOUT, O_JSON, O_MONTH, O_FORMAT, O_OUTPUT,
           O_DATA, O_LIMIT, O_WITHIN, O_CATEGORY, O_CLIENT, O_YEAR, O_HELP };
    static const struct option longopts[] = {
        {"api", required_argument, NULL, O_API},
        {"token", required_argument, NULL, O_TOKEN},
        {"token-file", required_argument, NULL, O_TOKEN_FILE},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"json", no_argument, NULL, O_JSON},
        {"month", required_argument, NULL, O_MONTH},
        {"format", required_argument, NULL, O_FORMAT},
        {"output", required_argument, NULL, O_OUTPUT},
        {"data", required_argument, NULL, O_DATA},
        {"limit", required_argument, NULL, O_LIMIT},
        {"within", required_argument, NULL, O_WITHIN},
        {"category", required_argument, NULL, O_CATEGORY},
        {"client", required_argument, NULL, O_CLIENT},
        {"year", required_argument, NULL, O_YEAR},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    cmd_opts_t o;
    memset(&o, 0, sizeof(o));
    o.within = -1;
    o.api.timeout_ms = 30000;
    const char *base = getenv("FIELDCTL_API");
    snprintf(o.api.base, sizeof(o.api.base), "%s",
             base != NULL && *base != '\0' ? base : "http://127.0.0.1:8080");
    const char *token = getenv("FIELDCTL_TOKEN");
    const char *token_file = getenv("FIELDCTL_TOKEN_FILE");
    if (token != NULL)
        snprintf(o.api.token, sizeof(o.api.token), "%s", token);

    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case O_API:
            snprintf(o.api.base, sizeof(o.api.base), "%s", optarg);
            break;
        case O_TOKEN:
            snprintf(o.api.token, sizeof(o.api.token), "%s", optarg);
            token_file = NULL;
            break;
        case O_TOKEN_FILE:
            token_file = optarg;
            break;
        case O_TIMEOUT:
        case O_LIMIT:
        case O_WITHIN:
        case O_YEAR:
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || v < 0 || v > 100000000) {
                fprintf(stderr, "fieldctl: --%s must be a whole number, not \"%s\"\n",
                        longopts[c - O_API].name, optarg);
                return 2;
            }
            if (c == O_TIMEOUT)
                o.api.timeout_ms = (uint64_t)(v > 0 ? v : 1);
            else if (c == O_LIMIT)
                o.limit = (int)v;
            else if (c == O_WITHIN)
                o.within = (int)v;
            else
                o.year = (int)v;
            break;
        case O_JSON:
            o.json = 1;
            break;
        case O_MONTH:
            o.month = optarg;
            break;
        case O_FORMAT:
            o.format = optarg;
            break;
        case O_OUTPUT:
            o.output = optarg;
            break;
        case O_DATA:
            o.data = optarg;
            break;
        case O_CATEGORY:
            o.category = optarg;
            break;
        case O_CLIENT:
            o.client = optarg;
            break;
        case O_HELP:
            api_usage();
            return 0;
        default:
            fprintf(stderr, "fieldctl: see fieldctl %s --help\n", argv[1]);
            return 2;
        }
    }
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
    }
    fprintf(stderr, "fieldctl: wrong use of \"%s\"\n\n", cmd);
    api_usage();
    return 2;
}
