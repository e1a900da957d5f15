/* SPDX-License-Identifier: MIT */
/*
 * remote_diag.c - `fieldctl diag ...`: diagnostic sessions run by fieldd (docs/diagnostics.md)
 * from the command line: start one for a job (and wait for its end), stop it, show what it
 * found, page through its raw frames, search sessions, compare a device between two sessions,
 * record a senior's verdict, and show a commissioning job's checklist.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "remote_internal.h"

static int usage_error(const char *what)
{
    fprintf(stderr, "fieldctl: diag %s (see fieldctl diag --help)\n", what);
    return 2;
}

/* "1-32" or "7" -> from, to. */
static int parse_units(const char *s, int *from, int *to)
{
    char *end;
    long a = strtol(s, &end, 10), b = a;
    if (*end == '-')
        b = strtol(end + 1, &end, 10);
    if (*end != '\0' || a < 1 || b < a || b > 255)
        return -1;
    *from = (int)a;
    *to = (int)b;
    return 0;
}

static void print_session_line(const json_t *s)
{
    char a[64];
    const json_t *f = json_object_get(s, "findings");
    const json_t *rv = json_object_get(s, "review");
    printf("%-36s %-9s %-23s %5lld %4lld/%-4lld %-13s %s\n", fctl__str(json_object_get(s, "id")),
           fctl__str(json_object_get(s, "status")),
           fctl__ts(json_object_get(s, "started_at"), a, sizeof(a)),
           (long long)json_integer_value(json_object_get(s, "units_found")),
           (long long)json_integer_value(json_object_get(f, "critical")),
           (long long)json_integer_value(json_object_get(f, "warning")),
           json_is_object(rv) ? fctl__str(json_object_get(rv, "verdict")) : "-",
           fctl__str(json_object_get(s, "engineer_name")));
}

static const char *list_header =
    "id                                   status    started                 units crit/warn "
    "verdict       engineer\n";

static void print_show(const cmd_opts_t *o, json_t *d, const void *arg)
{
    const char *id = arg;
    (void)o;
    char a[64], b[64];
    printf("session %s: %s (%s)\n", id, fctl__str(json_object_get(d, "status")),
           fctl__str(json_object_get(d, "transport")));
    printf("started %s, ended %s, by %s\n",
           fctl__ts(json_object_get(d, "started_at"), a, sizeof(a)),
           fctl__ts(json_object_get(d, "ended_at"), b, sizeof(b)),
           fctl__str(json_object_get(d, "engineer_name")));
    if (json_is_string(json_object_get(d, "reason")))
        printf("reason: %s\n", fctl__str(json_object_get(d, "reason")));
    size_t i;
    json_t *u;
    printf("\n%-18s %-5s %-8s %-16s %-10s %s\n", "bus", "unit", "model", "serial", "firmware",
           "inventory");
    json_array_foreach(json_object_get(d, "units"), i, u)
    {
        const char *inv = json_is_true(json_object_get(u, "unknown")) ? "unknown (can be added)"
                          : json_is_string(json_object_get(u, "device_id")) ? "matched"
                                                                            : "-";
        printf("%-18.18s %-5lld %-8s %-16s %-10s %s%s%s\n", fctl__str(json_object_get(u, "bus")),
               (long long)json_integer_value(json_object_get(u, "unit_id")),
               fctl__str(json_object_get(u, "model")), fctl__str(json_object_get(u, "serial")),
               fctl__str(json_object_get(u, "firmware_version")), inv,
               json_is_string(json_object_get(u, "error")) ? "; error: " : "",
               json_is_string(json_object_get(u, "error")) ? fctl__str(json_object_get(u, "error"))
                                                           : "");
    }
    json_t *fs = json_object_get(d, "findings");
    printf("\nfindings (%zu):\n", json_array_size(fs));
    json_array_foreach(fs, i, u)
    {
        printf("  %-8s %-28s %s\n", fctl__str(json_object_get(u, "severity")),
               fctl__str(json_object_get(u, "code")), fctl__str(json_object_get(u, "message")));
        if (json_is_string(json_object_get(u, "advice")))
            printf("  %-8s %-28s advice: %s\n", "", "", fctl__str(json_object_get(u, "advice")));
    }
    printf("\nreadings: %zu, event-log records: %zu, frames: %lld\n",
           json_array_size(json_object_get(d, "readings")),
           json_array_size(json_object_get(d, "event_log")),
           (long long)json_integer_value(json_object_get(d, "frame_count")));
    json_t *rv = json_object_get(d, "review");
    if (json_is_object(rv))
        printf("verdict: %s%s%s\n", fctl__str(json_object_get(rv, "verdict")),
               json_is_string(json_object_get(rv, "comment")) ? ": " : "",
               json_is_string(json_object_get(rv, "comment"))
                   ? fctl__str(json_object_get(rv, "comment"))
                   : "");
}

static int show(const cmd_opts_t *o, const char *id)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/diag/sessions/%s", id);
    return fctl__show(o, path, print_show, id);
}

/* Poll the session until it is no longer running. */
static int wait_end(const cmd_opts_t *o, const char *id)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/diag/sessions/%s", id);
    long long last_units = -1;
    for (;;) {
        fctl_resp_t r;
        json_t *d;
        if (fctl__call(o, "GET", path, NULL, &r, &d) != 0)
            return 1;
        const char *status = fctl__str(json_object_get(d, "status"));
        long long units = json_integer_value(json_object_get(d, "units_found"));
        int running = strcmp(status, "running") == 0;
        if (units != last_units && running)
            fprintf(stderr, "fieldctl: session %s running, %lld units found so far\n", id, units);
        last_units = units;
        json_decref(d);
        fctl_resp_free(&r);
        if (!running)
            return 0;
        struct timespec ts = {0, 500 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int start(const cmd_opts_t *o)
{
    if (o->job == NULL)
        return usage_error("start needs --job JOB_ID");
    if ((o->port == NULL) == (o->ntcp == 0))
        return usage_error("start needs either --port DEV (RTU) or --tcp HOST:PORT (one or more)");
    json_t *settings = json_object();
    if (o->port != NULL) {
        json_object_set_new(settings, "port", json_string(o->port));
        if (o->baud > 0)
            json_object_set_new(settings, "baud", json_integer(o->baud));
        if (o->parity != NULL)
            json_object_set_new(settings, "parity", json_string(o->parity));
    } else {
        json_t *eps = json_array();
        for (int i = 0; i < o->ntcp; i++)
            json_array_append_new(eps, json_string(o->tcp[i]));
        json_object_set_new(settings, "endpoints", eps);
    }
    if (o->units != NULL) {
        int from, to;
        if (parse_units(o->units, &from, &to) != 0) {
            json_decref(settings);
            return usage_error("--units must be N or A-B with 1 <= A <= B <= 255");
        }
        json_object_set_new(settings, "unit_from", json_integer(from));
        json_object_set_new(settings, "unit_to", json_integer(to));
    }
    if (o->events >= 0)
        json_object_set_new(settings, "events", json_integer(o->events));
    if (o->timeout_ms_dev > 0)
        json_object_set_new(settings, "timeout_ms", json_integer(o->timeout_ms_dev));
    if (o->no_frames)
        json_object_set_new(settings, "frames", json_false());
    json_t *body = json_pack("{s:s, s:s, s:o}", "job_id", o->job, "transport",
                             o->port != NULL ? "rtu" : "tcp", "settings", settings);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    fctl_resp_t r;
    json_t *d;
    int rc = fctl__call(o, "POST", "/api/v1/diag/sessions", text, &r, &d);
    free(text);
    if (rc != 0)
        return 1;
    char id[64];
    snprintf(id, sizeof(id), "%s", fctl__str(json_object_get(d, "id")));
    if (!o->wait) {
        if (o->json)
            fctl__print_json(d);
        else
            printf("%s\n", id);
    }
    json_decref(d);
    fctl_resp_free(&r);
    if (!o->wait)
        return 0;
    if (wait_end(o, id) != 0)
        return 1;
    return show(o, id);
}

static int stop(const cmd_opts_t *o, const char *id)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/diag/sessions/%s/stop", id);
    fctl_resp_t r;
    if (fctl__call(o, "POST", path, NULL, &r, NULL) != 0)
        return 1;
    printf("session %s: stopping\n", id);
    fctl_resp_free(&r);
    return 0;
}

static void print_list(const cmd_opts_t *o, json_t *d, const void *arg)
{
    (void)o;
    (void)arg;
    size_t i;
    json_t *s;
    printf("%s", list_header);
    json_array_foreach(json_object_get(d, "items"), i, s) print_session_line(s);
    if (json_is_string(json_object_get(d, "next_cursor")))
        printf("(more: raise --limit)\n");
}

static int list(const cmd_opts_t *o)
{
    char path[2048] = "/api/v1/diag/sessions";
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", o->limit ? o->limit : 50);
    const char *q[][2] = {
        {"site_id", o->site},         {"job_id", o->job},    {"ticket_id", o->ticket},
        {"engineer_id", o->engineer}, {"serial", o->serial}, {"code", o->code},
        {"status", o->status},        {"from", o->from},     {"to", o->to},
        {"review", o->review},        {"limit", limit}};
    for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
        if (fctl__query_add(path, sizeof(path), q[i][0], q[i][1]) != 0)
            return usage_error("search: the query is too long");
    return fctl__show(o, path, print_list, NULL);
}

static void print_frames(const cmd_opts_t *o, json_t *d, const void *arg)
{
    (void)o;
    (void)arg;
    size_t i;
    json_t *f;
    printf("%-6s %-3s %-5s %-10s %8s  %-40s %s\n", "seq", "dir", "unit", "status", "ms", "decoded",
           "hex");
    json_array_foreach(json_object_get(d, "items"), i, f)
    {
        printf("%-6lld %-3s %-5lld %-10s %8.1f  %-40s %s\n",
               (long long)json_integer_value(json_object_get(f, "seq")),
               fctl__str(json_object_get(f, "direction")),
               (long long)json_integer_value(json_object_get(f, "unit_id")),
               fctl__str(json_object_get(f, "status")),
               json_number_value(json_object_get(f, "elapsed_ms")),
               fctl__str(json_object_get(f, "decoded")), fctl__str(json_object_get(f, "hex")));
    }
}

static int frames(const cmd_opts_t *o, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/diag/sessions/%s/frames", id);
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", o->limit ? o->limit : 200);
    if (fctl__query_add(path, sizeof(path), "status", o->status) != 0 ||
        fctl__query_add(path, sizeof(path), "limit", limit) != 0)
        return usage_error("frames: the query is too long");
    return fctl__show(o, path, print_frames, NULL);
}

static void print_value(const json_t *v)
{
    if (json_is_null(v) || v == NULL)
        printf("%-14s", "-");
    else if (json_is_number(v))
        printf("%-14g", json_number_value(v));
    else if (json_is_string(v))
        printf("%-14s", json_string_value(v));
    else
        printf("%-14s", json_is_true(v) ? "true" : "false");
}

static void print_codes(const char *label, const json_t *a)
{
    size_t i;
    json_t *c;
    printf("%s:", label);
    json_array_foreach(a, i, c) printf(" %s", fctl__str(c));
    printf("%s\n", json_array_size(a) == 0 ? " -" : "");
}

static void print_compare(const cmd_opts_t *o, json_t *d, const void *arg)
{
    (void)o;
    (void)arg;
    const json_t *sa = json_object_get(d, "a"), *sb = json_object_get(d, "b");
    char t1[64], t2[64];
    printf("%s %s: %s (%s) -> %s (%s)\n", fctl__str(json_object_get(d, "model")),
           fctl__str(json_object_get(d, "serial")),
           fctl__ts(json_object_get(sa, "started_at"), t1, sizeof(t1)),
           fctl__str(json_object_get(sa, "firmware_version")),
           fctl__ts(json_object_get(sb, "started_at"), t2, sizeof(t2)),
           fctl__str(json_object_get(sb, "firmware_version")));
    if (json_is_true(json_object_get(d, "firmware_changed")))
        printf("firmware changed\n");
    size_t i, changed = 0;
    json_t *rd;
    printf("\n%-28s %-14s %-14s %s\n", "reading", "before", "after", "unit");
    json_array_foreach(json_object_get(d, "readings"), i, rd)
    {
        if (!json_is_true(json_object_get(rd, "changed")))
            continue;
        changed++;
        printf("%-28s ", fctl__str(json_object_get(rd, "name")));
        print_value(json_object_get(rd, "a"));
        printf(" ");
        print_value(json_object_get(rd, "b"));
        printf(" %s\n", json_is_string(json_object_get(rd, "unit"))
                            ? fctl__str(json_object_get(rd, "unit"))
                            : "");
    }
    printf("(%zu of %zu readings changed)\n\n", changed,
           json_array_size(json_object_get(d, "readings")));
    const json_t *f = json_object_get(d, "findings");
    print_codes("findings added", json_object_get(f, "added"));
    print_codes("findings removed", json_object_get(f, "removed"));
    print_codes("findings kept", json_object_get(f, "kept"));
}

static int compare(const cmd_opts_t *o, const char *a, const char *b)
{
    if (o->serial == NULL)
        return usage_error("compare needs --serial SERIAL (the device to compare)");
    char path[1024] = "/api/v1/diag/compare";
    if (fctl__query_add(path, sizeof(path), "a", a) != 0 ||
        fctl__query_add(path, sizeof(path), "b", b) != 0 ||
        fctl__query_add(path, sizeof(path), "serial", o->serial) != 0)
        return usage_error("compare: the query is too long");
    return fctl__show(o, path, print_compare, NULL);
}

static int review(const cmd_opts_t *o, const char *id)
{
    if (o->verdict == NULL)
        return usage_error("review needs --verdict approved|needs_rework");
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/diag/sessions/%s/reviews", id);
    json_t *body = json_pack("{s:s}", "verdict", o->verdict);
    if (o->comment != NULL)
        json_object_set_new(body, "comment", json_string(o->comment));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    fctl_resp_t r;
    json_t *d;
    int rc = fctl__call(o, "POST", path, text, &r, &d);
    free(text);
    if (rc != 0)
        return 1;
    if (o->json)
        fctl__print_json(d);
    else
        printf("session %s: %s\n", id, fctl__str(json_object_get(d, "verdict")));
    json_decref(d);
    fctl_resp_free(&r);
    return 0;
}

static void print_checklist(const cmd_opts_t *o, json_t *d, const void *arg)
{
    (void)o;
    (void)arg;
    size_t i;
    json_t *it;
    printf("%-16s %-16s %-8s %-8s %-14s %s\n", "serial", "item", "required", "status", "value",
           "title");
    json_array_foreach(json_object_get(d, "items"), i, it)
    {
        printf("%-16s %-16s %-8s %-8s %-14s %s\n", fctl__str(json_object_get(it, "serial")),
               fctl__str(json_object_get(it, "key")),
               json_is_true(json_object_get(it, "required")) ? "yes" : "no",
               fctl__str(json_object_get(it, "status")), fctl__str(json_object_get(it, "value")),
               fctl__str(json_object_get(it, "title")));
    }
    size_t blocking = json_array_size(json_object_get(d, "blocking"));
    if (json_is_object(json_object_get(d, "override")))
        printf("overridden by a senior engineer: the job may be marked done\n");
    else if (blocking > 0)
        printf("%zu required item(s) not passed: the job cannot be marked done\n", blocking);
    else
        printf("no item blocks done\n");
}

static int checklist(const cmd_opts_t *o, const char *job)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/diag/jobs/%s/checklist", job);
    return fctl__show(o, path, print_checklist, NULL);
}

int fctl__diag(const cmd_opts_t *o, int nargs, char **args)
{
    const char *sub = nargs >= 2 ? args[1] : "";
    if (strcmp(sub, "start") == 0 && nargs == 2)
        return start(o);
    if (strcmp(sub, "list") == 0 && nargs == 2)
        return list(o);
    if (nargs == 3) {
        if (strcmp(sub, "show") == 0)
            return show(o, args[2]);
        if (strcmp(sub, "stop") == 0)
            return stop(o, args[2]);
        if (strcmp(sub, "frames") == 0)
            return frames(o, args[2]);
        if (strcmp(sub, "review") == 0)
            return review(o, args[2]);
        if (strcmp(sub, "checklist") == 0)
            return checklist(o, args[2]);
    }
    if (strcmp(sub, "compare") == 0 && nargs == 4)
        return compare(o, args[2], args[3]);
    return usage_error("needs one of: start, stop ID, show ID, frames ID, list, compare A B, "
                       "review ID, checklist JOB");
}
