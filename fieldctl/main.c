/* SPDX-License-Identifier: MIT */
/*
 * fieldctl - the on-site command of acsfield: scan an RS-485 line or a Modbus TCP endpoint for
 * units, identify a unit, read its whole profile as a decoded table (or JSON) with findings,
 * read its event log, run an action (only with --confirm), and show the raw frames; watch a
 * unit's values change; list the serial ports (ports.c); sweep several buses at once (sweep.c).
 *
 * Every device operation runs on a bus worker thread (drivers/bus.h) through bus_run, the
 * blocking wrapper, so fieldctl uses exactly the code path fieldd uses. Exit status: 0 on
 * success, 1 when the operation failed (the sentence is on stderr), 2 on bad usage.
 * Usage: docs/fieldctl.md, and `fieldctl COMMAND --help`.
 */
#include "acs_error.h"
#include "bus.h"
#include "device.h"
#include "errbuf.h"
#include "fieldctl.h"
#include "profile.h"
#include "remote.h"
#include "transport.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#define ERR_MAX 1024

typedef struct {
    const char *cmd;
    transport_config_t cfg;
    char host[256];
    int have_link;
    int unit;
    int first, last;
    int json, confirm, verbose, trace;
    size_t count;
    int have_count;
    unsigned interval_ms;
    const char *site;
    fieldctl_frame_sink_t sink;
    const char *profiles;
    const char *action;
    profile_set_t *set;
    char err[ERR_MAX];
} opts_t;

static const char *usage_common =
    "link (one of):\n"
    "  --port DEV            serial device of the RS-485 adapter (/dev/ttyUSB0)\n"
    "    --baud B            baud rate (default 19200)\n"
    "    --parity N|E|O      parity (default E)\n"
    "    --data-bits 7|8     (default 8)   --stop-bits 1|2 (default 1)\n"
    "  --tcp HOST:PORT       Modbus TCP endpoint\n"
    "options:\n"
    "  --timeout MS          response timeout (default: derived from the baud rate on RTU,\n"
    "                        1000 ms on TCP)\n"
    "  --turnaround MS       RTU: the device's allowance in the derived timeout (default 50)\n"
    "  --profiles DIR        device profiles (default $ACS_PROFILES or the built-in folder)\n"
    "  --trace               print every frame to stderr (one JSON object a line with --json)\n"
    "  --help                this text\n";

static void usage(const char *cmd)
{
    if (cmd == NULL) {
        printf("usage: fieldctl COMMAND [options]\n\n"
               "commands:\n"
               "  scan      find the units on a line (--units 1-247)\n"
               "  identify  identify a unit (FC 43/14, else its model code register)\n"
               "  read      read a unit's whole profile, decoded, with findings (--json)\n"
               "  events    read a unit's event log (--count N)\n"
               "  action    run an action on a unit (NAME --confirm)\n"
               "  trace     identify and read a unit, printing every frame with timing\n"
               "  watch     poll a unit's profile and print the values that change\n"
               "  ports     list the serial ports and recognise USB-RS485 adapters\n"
               "  sweep     identify, read and read the event log of every unit of several "
               "buses\n\n"
               "commands that talk to fieldd (`fieldctl sla --help` lists their options):\n"
               "  sla       a ticket's SLA state, the at-risk list, the SLA policies\n"
               "  calendars business calendars with their hours and holidays\n"
               "  report    the monthly report (HTML, CSV or JSON)\n"
               "  metrics   service metrics for a month or a period, by category, client, ...\n"
               "  webhooks  webhooks and their deliveries\n"
               "  api       any API call\n\n"
               "`fieldctl COMMAND --help` describes each.\n");
        return;
    }
    if (strcmp(cmd, "scan") == 0)
        printf("usage: fieldctl scan (--port DEV ... | --tcp HOST:PORT) [--units A-B] "
               "[--verbose]\n"
               "Reads input register 0 (model code) of each unit in the range (default 1-247 on "
               "RTU,\n1 on TCP) and lists the units that answer; --verbose also lists why the "
               "others did not.\nA progress line goes to stderr.\n\n");
    else if (strcmp(cmd, "identify") == 0)
        printf("usage: fieldctl identify LINK [--unit N] [--json]\n"
               "Vendor, product, firmware revision and serial number of a unit.\n\n");
    else if (strcmp(cmd, "read") == 0)
        printf("usage: fieldctl read LINK [--unit N] [--json]\n"
               "Identifies the unit, reads every register of its profile in as few requests as "
               "possible,\nand prints them decoded with units, then the findings of the health "
               "rules.\n\n");
    else if (strcmp(cmd, "events") == 0)
        printf("usage: fieldctl events LINK [--unit N] [--count N] [--json]\n"
               "The newest N (default 20) records of the unit's event log, oldest first.\n\n");
    else if (strcmp(cmd, "action") == 0)
        printf("usage: fieldctl action NAME LINK [--unit N] --confirm\n"
               "Runs one of the profile's actions (unlock_entry_once, beep, reboot, ...). "
               "Without\n--confirm nothing is sent and the command fails.\n\n");
    else if (strcmp(cmd, "trace") == 0)
        printf("usage: fieldctl trace LINK [--unit N]\n"
               "Identifies and reads a unit and prints every frame: time since the link was "
               "opened,\ndirection, status, milliseconds since the request, and the bytes in "
               "hex.\n\n");
    else if (strcmp(cmd, "watch") == 0)
        printf("usage: fieldctl watch LINK [--unit N] [--interval MS] [--count N] [--json]\n"
               "Reads the unit's whole profile every MS milliseconds (default 1000) and prints, "
               "with the\ntime, the values that changed (all of them the first time). --count N "
               "stops after N\nreadings (default: until interrupted); --json prints one object a "
               "line.\n\n");
    else if (strcmp(cmd, "ports") == 0) {
        printf("usage: fieldctl ports [--json]\n"
               "Lists the serial ports: name, description, transport (USB, native, Bluetooth), "
               "USB VID:PID,\nmanufacturer, product and serial number, marking known USB-RS485 "
               "adapters.\n");
        return;
    } else if (strcmp(cmd, "sweep") == 0) {
        printf("usage: fieldctl sweep --site FILE [--count N] [--json] [--trace]\n"
               "Identifies, reads the whole profile of, and reads the newest N (default 20) "
               "event records\nof every unit of every bus in FILE, the buses in parallel. FILE "
               "(docs/fieldctl.md):\n  {\"buses\": [{\"name\": \"line1\", \"port\": "
               "\"/dev/ttyUSB0\", \"baud\": 19200, \"parity\": \"E\",\n"
               "              \"units\": [1, 2, 3]}, {\"tcp\": \"10.0.0.5:502\", \"units\": "
               "[1]}]}\n\n");
    }
    printf("%s", usage_common);
}

/* --- frames ------------------------------------------------------------------------------ */

void fieldctl_print_frame(const transport_frame_t *f, void *arg)
{
    const fieldctl_frame_sink_t *sink = arg;
    /* Room for the longest ADU in hex plus the fixed fields; the line is built first so that
     * it leaves with one stdio call even when several bus threads trace at once. */
    char line[TRANSPORT_ADU_MAX * 3 + 256];
    size_t n = 0;
    int w;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        w = snprintf(line + n, sizeof(line) - n, __VA_ARGS__);                                     \
        if (w < 0 || (size_t)w >= sizeof(line) - n)                                                \
            goto emit;                                                                             \
        n += (size_t)w;                                                                            \
    } while (0)
    if (sink->json) {
        APPEND("{\"t\": %.6f, \"wall\": %.6f, \"dir\": \"%s\", \"status\": \"%s\", "
               "\"unit\": %d, \"ms\": %.3f, ",
               f->t, f->wall, transport_dir_name(f->dir), transport_frame_status_name(f->status),
               f->unit, f->elapsed_ms);
        if (sink->bus != NULL)
            APPEND("\"bus\": \"%s\", ", sink->bus);
        if (f->status == TRANSPORT_FRAME_EXCEPTION)
            APPEND("\"exception\": %u, ", (unsigned)f->exception);
        APPEND("\"len\": %zu, \"hex\": \"", f->len);
        for (size_t i = 0; i < f->len; i++)
            APPEND("%02x", f->bytes[i]);
        APPEND("\"}\n");
    } else {
        if (sink->bus != NULL)
            APPEND("%-8s ", sink->bus);
        APPEND("%10.6f %s %-10s", f->t, transport_dir_name(f->dir),
               transport_frame_status_name(f->status));
        if (f->dir == TRANSPORT_RX)
            APPEND(" %7.1f ms", f->elapsed_ms);
        else
            APPEND(" unit %-4d", f->unit);
        for (size_t i = 0; i < f->len; i++)
            APPEND(" %02x", f->bytes[i]);
        if (f->status == TRANSPORT_FRAME_EXCEPTION)
            APPEND("  (exception %u %s)", (unsigned)f->exception,
                   transport_exception_name(f->exception));
        APPEND("\n");
    }
#undef APPEND
emit:
    if (n > 0 && line[n - 1] != '\n' && n < sizeof(line) - 1)
        line[n++] = '\n';
    line[n] = '\0';
    fputs(line, sink->out);
}

/* --- the work, run on the bus worker ----------------------------------------------------- */

static void scan_progress(const device_scan_result_t *r, int first, int last, void *arg)
{
    (void)arg;
    fprintf(stderr, "\rscan: unit %d (%d of %d) ", r->unit, r->unit - first + 1, last - first + 1);
    if (r->unit == last)
        fputc('\n', stderr);
    fflush(stderr);
}

static int do_scan(transport_t *t, opts_t *o)
{
    size_t n = (size_t)(o->last - o->first + 1), found = 0;
    device_scan_result_t *res = calloc(n, sizeof(*res));
    if (res == NULL)
        return ACS_ENOMEM;
    int rc =
        device_scan(t, o->first, o->last, scan_progress, o, res, &found, o->err, sizeof(o->err));
    json_t *arr = o->json ? json_array() : NULL;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const device_scan_result_t *r = &res[i];
        const profile_t *p =
            r->status == 0 ? profile_set_by_model_code(o->set, r->model_code) : NULL;
        if (arr != NULL) {
            if (r->present || o->verbose)
                json_array_append_new(
                    arr, json_pack("{s:i, s:b, s:i, s:s?, s:s?}", "unit", r->unit, "present",
                                   r->present, "model_code", (int)r->model_code, "model",
                                   p ? p->model : NULL, "error", r->status ? r->message : NULL));
        } else if (r->status == 0) {
            printf("unit %d: model code %u (%s)\n", r->unit, (unsigned)r->model_code,
                   p ? p->model : "no profile");
        } else if (r->present || o->verbose || r->status != ACS_ETIMEDOUT) {
            printf("unit %d: %s\n", r->unit, r->message);
        }
    }
    if (arr != NULL && rc == 0) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s != NULL)
            printf("%s\n", s);
        free(s);
    }
    json_decref(arr);
    if (rc == 0)
        fprintf(stderr, "scan: %zu of %zu units answered\n", found, n);
    free(res);
    return rc;
}

static json_t *ident_json(const device_ident_t *id)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s, s:i, s:s, s:s}", "unit", id->unit, "vendor",
                     id->vendor, "product", id->product, "revision", id->revision, "serial",
                     id->serial, "model_code", (int)id->model_code, "identified_by",
                     id->via_devid ? "fc43" : "registers", "kind",
                     id->profile ? id->profile->kind : "");
}

static void print_ident(const device_ident_t *id)
{
    printf("unit %d: %s %s, firmware %s, serial %s (model code %u, identified by %s)\n", id->unit,
           id->vendor, id->product, id->revision[0] ? id->revision : "?",
           id->serial[0] ? id->serial : "?", (unsigned)id->model_code,
           id->via_devid ? "FC 43/14" : "registers");
}

static int do_identify(transport_t *t, opts_t *o)
{
    device_ident_t id;
    int rc = device_identify(t, o->set, o->unit, &id, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    if (o->json) {
        json_t *j = ident_json(&id);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        print_ident(&id);
    }
    return 0;
}

static json_t *value_json(const decode_value_t *v)
{
    switch (v->kind) {
    case DECODE_BOOL:
        return json_boolean(v->i);
    case DECODE_INT:
    case DECODE_BITS:
        return json_integer(v->i);
    case DECODE_REAL:
        return json_real(v->real);
    case DECODE_STRING:
        return json_string(v->text);
    case DECODE_ENUM:
        return v->name != NULL ? json_string(v->name) : json_integer(v->i);
    }
    return json_null();
}

static int do_read(transport_t *t, opts_t *o)
{
    device_ident_t id;
    device_reading_t r;
    health_finding_t *f = NULL;
    size_t nf = 0;
    char text[DECODE_FORMAT_MAX];
    int rc = device_identify(t, o->set, o->unit, &id, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    rc = device_read(t, id.profile, o->unit, &r, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    rc = device_findings(&r, NULL, 0, &f, &nf);
    if (rc != 0) {
        errbuf_printf(o->err, sizeof(o->err), "unit %d: cannot evaluate the health rules", o->unit);
        goto done;
    }
    if (o->json) {
        json_t *vals = json_array(), *finds = json_array();
        for (size_t i = 0; i < r.nvalues; i++) {
            const decode_value_t *v = &r.values[i];
            decode_format(v, text, sizeof(text));
            json_array_append_new(
                vals, json_pack("{s:s, s:s, s:i, s:o, s:s, s:s}", "name", v->reg->name, "table",
                                profile_table_name(v->reg->table), "address", (int)v->reg->address,
                                "value", value_json(v), "unit", v->unit, "text", text));
        }
        for (size_t i = 0; i < nf; i++)
            json_array_append_new(finds, json_pack("{s:s, s:s, s:s, s:s}", "code", f[i].code,
                                                   "severity", profile_severity_name(f[i].severity),
                                                   "message", f[i].message, "advice", f[i].advice));
        json_t *j = ident_json(&id);
        json_object_set_new(j, "model", json_string(id.profile->model));
        json_object_set_new(j, "requests", json_integer((json_int_t)r.nrequests));
        json_object_set_new(j, "failed_requests", json_integer((json_int_t)r.nfailed));
        json_object_set_new(j, "values", vals);
        json_object_set_new(j, "findings", finds);
        char *s = json_dumps(j, JSON_INDENT(2));
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(j);
    } else {
        print_ident(&id);
        printf("%-24s %-15s %s\n", "register", "table:address", "value");
        for (size_t i = 0; i < r.nvalues; i++) {
            const decode_value_t *v = &r.values[i];
            char where[32];
            decode_format(v, text, sizeof(text));
            errbuf_printf(where, sizeof(where), "%s:%u", profile_table_name(v->reg->table),
                          (unsigned)v->reg->address);
            printf("%-24s %-15s %s\n", v->reg->name, where, text);
        }
        printf("%zu registers in %zu requests", r.nvalues, r.nrequests);
        if (r.nfailed)
            printf(", %zu failed: %s", r.nfailed, r.error);
        printf("\nfindings: %zu\n", nf);
        for (size_t i = 0; i < nf; i++)
            printf("  %-8s %s: %s (%s)\n", profile_severity_name(f[i].severity), f[i].code,
                   f[i].message, f[i].advice);
    }
done:
    free(f);
    device_reading_free(&r);
    return rc;
}

static int do_events(transport_t *t, opts_t *o)
{
    device_ident_t id;
    decode_event_t *ev = NULL;
    size_t n = 0;
    int rc = device_identify(t, o->set, o->unit, &id, o->err, sizeof(o->err));
    if (rc == 0)
        rc = device_read_events(t, id.profile, o->unit, o->count, &ev, &n, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    static const char *status_names[] = {"ok", "empty", "corrupt"};
    json_t *arr = o->json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        const decode_event_t *e = &ev[i];
        char when[32] = "";
        time_t ts = (time_t)e->timestamp;
        struct tm tm;
        if (gmtime_r(&ts, &tm) != NULL)
            strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        const char *name = e->event != NULL ? e->event->name : "unknown";
        if (arr != NULL) {
            json_array_append_new(arr, json_pack("{s:i, s:s, s:i, s:s, s:s}", "seq", (int)e->seq,
                                                 "time", when, "code", (int)e->code, "event", name,
                                                 "status", status_names[e->status]));
        } else {
            printf("%8u %s %3u %-16s %s", (unsigned)e->seq, when, (unsigned)e->code, name,
                   status_names[e->status]);
            for (size_t k = 0; k < e->nfields; k++) {
                const char *fname = e->fields[k].reg->name;
                if (strcmp(fname, "seq") == 0 || strcmp(fname, "timestamp") == 0 ||
                    strcmp(fname, "code") == 0)
                    continue;
                char text[DECODE_FORMAT_MAX];
                decode_format(&e->fields[k], text, sizeof(text));
                printf(" %s=%s", fname, text);
            }
            putchar('\n');
        }
    }
    if (arr != NULL) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s != NULL)
            printf("%s\n", s);
        free(s);
        json_decref(arr);
    }
    free(ev);
    return 0;
}

static int do_action(transport_t *t, opts_t *o)
{
    device_ident_t id;
    /* Refuse before any traffic: an unconfirmed action sends nothing at all. */
    if (!o->confirm) {
        errbuf_printf(o->err, sizeof(o->err),
                      "action %s was not run: it needs an explicit confirmation (--confirm)",
                      o->action);
        return ACS_EFORBIDDEN;
    }
    int rc = device_identify(t, o->set, o->unit, &id, o->err, sizeof(o->err));
    if (rc == 0)
        rc = device_action(t, id.profile, o->unit, o->action, o->confirm, o->err, sizeof(o->err));
    if (rc == 0)
        printf("unit %d (%s): %s done\n", o->unit, id.profile->model, o->action);
    return rc;
}

/* "2024-05-01T10:22:03.125Z" for a CLOCK_REALTIME time in seconds. */
static void utc_ms(double at, char *buf, size_t len)
{
    time_t sec = (time_t)at;
    int ms = (int)((at - (double)sec) * 1000.0);
    struct tm tm;
    char base[32] = "?";
    if (gmtime_r(&sec, &tm) != NULL)
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    errbuf_printf(buf, len, "%s.%03dZ", base, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/*
 * Poll the unit's profile every interval and print what changed since the previous reading
 * (everything the first time). Values are compared as the text a person reads, so a change
 * below the profile's resolution is not reported. A failed poll is reported and the watch goes
 * on; the command fails only when the last poll failed.
 */
static int do_watch(transport_t *t, opts_t *o)
{
    device_ident_t id;
    char **last = NULL;
    size_t nlast = 0;
    int rc = device_identify(t, o->set, o->unit, &id, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    if (!o->json)
        print_ident(&id);
    fflush(stdout);
    for (size_t poll = 0; !o->have_count || poll < o->count; poll++) {
        device_reading_t r;
        char when[48], text[DECODE_FORMAT_MAX];
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = device_read(t, id.profile, o->unit, &r, o->err, sizeof(o->err));
        if (rc != 0) {
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            utc_ms((double)now.tv_sec + (double)now.tv_nsec / 1e9, when, sizeof(when));
            if (o->json) {
                json_t *j =
                    json_pack("{s:s, s:i, s:s}", "time", when, "unit", o->unit, "error", o->err);
                char *js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
                if (js != NULL)
                    printf("%s\n", js);
                free(js);
                json_decref(j);
            } else {
                printf("%s unit %d: %s\n", when, o->unit, o->err);
            }
        } else {
            utc_ms(r.at, when, sizeof(when));
            if (last == NULL) {
                /* The profile fixes the registers; a reading with some requests refused has
                 * fewer values, so values are matched by register, not by position. */
                nlast = id.profile->nregs;
                last = calloc(nlast, sizeof(*last));
                if (last == NULL) {
                    device_reading_free(&r);
                    rc = ACS_ENOMEM;
                    errbuf_printf(o->err, sizeof(o->err), "unit %d: out of memory", o->unit);
                    break;
                }
            }
            for (size_t i = 0; i < r.nvalues; i++) {
                const decode_value_t *v = &r.values[i];
                size_t k = (size_t)(v->reg - id.profile->regs);
                if (k >= nlast)
                    continue;
                decode_format(v, text, sizeof(text));
                if (last[k] != NULL && strcmp(last[k], text) == 0)
                    continue;
                if (o->json) {
                    json_t *j =
                        json_pack("{s:s, s:i, s:s, s:o, s:s, s:s, s:s?}", "time", when, "unit",
                                  o->unit, "name", v->reg->name, "value", value_json(v),
                                  "unit_of_measure", v->unit, "text", text, "was", last[k]);
                    char *js = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
                    if (js != NULL)
                        printf("%s\n", js);
                    free(js);
                    json_decref(j);
                } else if (last[k] == NULL) {
                    printf("%s %-24s %s\n", when, v->reg->name, text);
                } else {
                    printf("%s %-24s %s (was %s)\n", when, v->reg->name, text, last[k]);
                }
                free(last[k]);
                last[k] = strdup(text);
            }
            device_reading_free(&r);
        }
        fflush(stdout);
        if (o->have_count && poll + 1 >= o->count)
            break;
        /* The interval runs from the start of one reading to the start of the next. */
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double spent =
            (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (spent < (double)o->interval_ms)
            sleep_ms(o->interval_ms - (unsigned)spent);
    }
    for (size_t i = 0; i < nlast; i++)
        free(last[i]);
    free(last);
    return rc;
}

static int run_job(transport_t *t, void *arg)
{
    opts_t *o = arg;
    if (o->trace || strcmp(o->cmd, "trace") == 0) {
        o->sink.out = strcmp(o->cmd, "trace") == 0 ? stdout : stderr;
        o->sink.json = o->json;
        transport_set_frame_cb(t, fieldctl_print_frame, &o->sink);
    }
    int rc = transport_open(t, o->err, sizeof(o->err));
    if (rc != 0)
        return rc;
    if (strcmp(o->cmd, "scan") == 0)
        return do_scan(t, o);
    if (strcmp(o->cmd, "identify") == 0)
        return do_identify(t, o);
    if (strcmp(o->cmd, "read") == 0)
        return do_read(t, o);
    if (strcmp(o->cmd, "trace") == 0) {
        int saved = o->json;
        o->json = 0;
        rc = do_read(t, o);
        o->json = saved;
        return rc;
    }
    if (strcmp(o->cmd, "events") == 0)
        return do_events(t, o);
    if (strcmp(o->cmd, "watch") == 0)
        return do_watch(t, o);
    return do_action(t, o);
}

/* --- options ----------------------------------------------------------------------------- */

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    enum {
        O_PORT = 256,
        O_BAUD,
        O_PARITY,
        O_DATA,
        O_STOP,
        O_TCP,
        O_UNIT,
        O_UNITS,
        O_TIMEOUT,
        O_TURN,
        O_PROFILES,
        O_JSON,
        O_CONFIRM,
        O_COUNT,
        O_VERBOSE,
        O_TRACE,
        O_INTERVAL,
        O_SITE,
        O_HELP
    };
    static const struct option longopts[] = {
        {"port", required_argument, NULL, O_PORT},
        {"baud", required_argument, NULL, O_BAUD},
        {"parity", required_argument, NULL, O_PARITY},
        {"data-bits", required_argument, NULL, O_DATA},
        {"stop-bits", required_argument, NULL, O_STOP},
        {"tcp", required_argument, NULL, O_TCP},
        {"unit", required_argument, NULL, O_UNIT},
        {"units", required_argument, NULL, O_UNITS},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"turnaround", required_argument, NULL, O_TURN},
        {"profiles", required_argument, NULL, O_PROFILES},
        {"json", no_argument, NULL, O_JSON},
        {"confirm", no_argument, NULL, O_CONFIRM},
        {"count", required_argument, NULL, O_COUNT},
        {"verbose", no_argument, NULL, O_VERBOSE},
        {"trace", no_argument, NULL, O_TRACE},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"site", required_argument, NULL, O_SITE},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int c, v, have_units = 0;
    o->cfg.baud = 19200;
    o->cfg.parity = 'E';
    o->cfg.data_bits = 8;
    o->cfg.stop_bits = 1;
    o->unit = 1;
    o->count = 20;
    o->interval_ms = 1000;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        const char *a = optarg;
        switch (c) {
        case O_PORT:
            o->cfg.kind = TRANSPORT_RTU;
            o->cfg.device = a;
            o->have_link++;
            break;
        case O_BAUD:
            if (parse_int(a, 1200, 921600, &o->cfg.baud) != 0)
                goto bad_value;
            break;
        case O_PARITY:
            if (strlen(a) != 1 || strchr("NEOneo", a[0]) == NULL)
                goto bad_value;
            o->cfg.parity = (char)(a[0] & ~0x20);
            break;
        case O_DATA:
            if (parse_int(a, 7, 8, &o->cfg.data_bits) != 0)
                goto bad_value;
            break;
        case O_STOP:
            if (parse_int(a, 1, 2, &o->cfg.stop_bits) != 0)
                goto bad_value;
            break;
        case O_TCP: {
            const char *colon = strrchr(a, ':');
            if (colon == NULL || (size_t)(colon - a) >= sizeof(o->host) || colon == a ||
                parse_int(colon + 1, 1, 65535, &o->cfg.port) != 0)
                goto bad_value;
            memcpy(o->host, a, (size_t)(colon - a));
            o->host[colon - a] = '\0';
            o->cfg.kind = TRANSPORT_TCP;
            o->cfg.host = o->host;
            o->have_link++;
            break;
        }
        case O_UNIT:
            if (parse_int(a, 0, 255, &o->unit) != 0)
                goto bad_value;
            break;
        case O_UNITS: {
            char buf[32];
            errbuf_printf(buf, sizeof(buf), "%s", a);
            char *dash = strchr(buf, '-');
            if (dash != NULL)
                *dash = '\0';
            if (parse_int(buf, 1, 255, &o->first) != 0 ||
                parse_int(dash ? dash + 1 : buf, 1, 255, &o->last) != 0 || o->first > o->last)
                goto bad_value;
            have_units = 1;
            break;
        }
        case O_TIMEOUT:
            if (parse_int(a, 1, 600000, &v) != 0)
                goto bad_value;
            o->cfg.timeout_ms = (unsigned)v;
            break;
        case O_TURN:
            if (parse_int(a, 1, 60000, &v) != 0)
                goto bad_value;
            o->cfg.turnaround_ms = (unsigned)v;
            break;
        case O_PROFILES:
            o->profiles = a;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_CONFIRM:
            o->confirm = 1;
            break;
        case O_COUNT:
            if (parse_int(a, 1, 65535, &v) != 0)
                goto bad_value;
            o->count = (size_t)v;
            o->have_count = 1;
            break;
        case O_INTERVAL:
            if (parse_int(a, 10, 86400000, &v) != 0)
                goto bad_value;
            o->interval_ms = (unsigned)v;
            break;
        case O_SITE:
            o->site = a;
            break;
        case O_VERBOSE:
            o->verbose = 1;
            break;
        case O_TRACE:
            o->trace = 1;
            break;
        case O_HELP:
            usage(o->cmd);
            return 1;
        default:
            fprintf(stderr, "fieldctl %s: unknown option %s (see fieldctl %s --help)\n", o->cmd,
                    argv[optind - 1], o->cmd);
            return -1;
        }
        continue;
    bad_value:
        fprintf(stderr, "fieldctl %s: bad value \"%s\" for %s (see fieldctl %s --help)\n", o->cmd,
                a, argv[optind - 1], o->cmd);
        return -1;
    }
    if (strcmp(o->cmd, "action") == 0) {
        if (optind >= argc) {
            fprintf(stderr, "fieldctl action: which action? (fieldctl action NAME ...)\n");
            return -1;
        }
        o->action = argv[optind++];
    }
    if (optind < argc) {
        fprintf(stderr, "fieldctl %s: unexpected argument \"%s\"\n", o->cmd, argv[optind]);
        return -1;
    }
    if (strcmp(o->cmd, "ports") == 0) {
        if (o->have_link != 0) {
            fprintf(stderr, "fieldctl ports: takes no link (only --json)\n");
            return -1;
        }
        return 0;
    }
    if (strcmp(o->cmd, "sweep") == 0) {
        if (o->have_link != 0 || o->site == NULL) {
            fprintf(stderr, "fieldctl sweep: give --site FILE (the links are in the file)\n");
            return -1;
        }
        return 0;
    }
    if (o->have_link != 1) {
        fprintf(stderr, "fieldctl %s: give exactly one of --port DEV or --tcp HOST:PORT\n", o->cmd);
        return -1;
    }
    if (!have_units) {
        o->first = o->cfg.kind == TRANSPORT_TCP ? o->unit : 1;
        o->last = o->cfg.kind == TRANSPORT_TCP ? o->unit : 247;
    }
    int max = o->cfg.kind == TRANSPORT_RTU ? 247 : 255;
    if (o->last > max || (o->cfg.kind == TRANSPORT_RTU && o->unit > 247)) {
        fprintf(stderr, "fieldctl %s: unit ids on RTU are 1-247\n", o->cmd);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const char *cmds[] = {"scan",  "identify", "read",  "events", "action",
                                 "trace", "watch",    "ports", "sweep"};
    opts_t o;
    bus_t *bus = NULL;
    int status = 2;
    memset(&o, 0, sizeof(o));
    /* The first word that is neither an option nor an API option's value names the command. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--api") == 0 || strcmp(argv[i], "--token") == 0 ||
            strcmp(argv[i], "--token-file") == 0) {
            i++;
            continue;
        }
        if (argv[i][0] == '-')
            continue;
        if (fctl_is_api_command(argv[i]))
            return fctl_api_main(argc, argv);
        break;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(NULL);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i]) == 0)
            o.cmd = cmds[i];
    if (o.cmd == NULL) {
        fprintf(stderr, "fieldctl: unknown command \"%s\" (see fieldctl --help)\n", argv[1]);
        return 2;
    }
    int pr = parse_args(argc, argv, &o);
    if (pr != 0)
        return pr > 0 ? 0 : 2;

    /* Keep every descriptor of this process below FD_SETSIZE: libmodbus waits with select(). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur > FD_SETSIZE) {
        rl.rlim_cur = FD_SETSIZE;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    status = 1;
    int rc;
    if (strcmp(o.cmd, "ports") == 0) {
        rc = fieldctl_ports(o.json, o.err, sizeof(o.err));
        if (rc == 0)
            status = 0;
        goto fail;
    }
    rc = o.profiles != NULL ? profile_set_load_dir(o.profiles, &o.set, o.err, sizeof(o.err))
                            : profile_set_load_default(&o.set, o.err, sizeof(o.err));
    if (rc != 0)
        goto fail;
    if (strcmp(o.cmd, "sweep") == 0) {
        fieldctl_sweep_opts_t so = {.site = o.site,
                                    .set = o.set,
                                    .json = o.json,
                                    .trace = o.trace,
                                    .events = o.count,
                                    .timeout_ms = o.cfg.timeout_ms,
                                    .turnaround_ms = o.cfg.turnaround_ms};
        rc = fieldctl_sweep(&so, o.err, sizeof(o.err));
        if (rc == 0)
            status = 0;
        goto fail;
    }
    rc = bus_new(NULL, &o.cfg, &bus, o.err, sizeof(o.err));
    if (rc != 0)
        goto fail;
    rc = bus_run(bus, run_job, &o);
    if (rc != 0)
        goto fail;
    status = 0;
fail:
    fflush(stdout);
    if (status != 0)
        fprintf(stderr, "fieldctl %s: %s\n", o.cmd, o.err[0] != '\0' ? o.err : acs_strerror(rc));
    bus_free(bus);
    profile_set_free(o.set);
    return status;
}
