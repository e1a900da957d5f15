/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - `fieldctl sweep --site FILE`: identify, read the whole profile of, and read the
 * event log of every unit on several buses at once. Each bus of the file gets its own bus_t
 * (drivers/bus.h): one worker thread per RS-485 line, whose units are served one after another
 * as the half-duplex line demands, and one per Modbus TCP endpoint; the lines run in
 * parallel. Results come back to a libuv loop on the main thread through bus_submit's done
 * callbacks, which print them. This is the shape fieldd's periodic sweep takes, and what
 * bench/sweep times against the line rate.
 *
 * The sweep file (JSON; unknown keys refused):
 *   {"buses": [{"name": "line1", "port": "/dev/ttyUSB0", "baud": 19200, "parity": "E",
 *               "data_bits": 8, "stop_bits": 1, "timeout": 0, "turnaround": 50,
 *               "units": [1, 2, 3]},
 *              {"name": "gate", "tcp": "10.0.0.5:502", "units": [1]}]}
 */
#include "fieldctl.h"

#include "acs_error.h"
#include "bus.h"
#include "device.h"
#include "errbuf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#define SWEEP_NAME_MAX 64

typedef struct sweep_bus {
    char name[SWEEP_NAME_MAX];
    char host[256];
    transport_config_t cfg;
    bus_t *bus;
    fieldctl_frame_sink_t sink;
} sweep_bus_t;

typedef struct sweep sweep_t;

/* One unit's work and its outcome, written on the bus worker and read on the loop thread after
 * the done callback (bus.h orders the two). */
typedef struct {
    sweep_t *sw;
    sweep_bus_t *bus;
    int unit;
    int rc;
    char err[DEVICE_MESSAGE_MAX];
    device_ident_t id;
    size_t nvalues, nrequests, nfailed, nevents, ncorrupt;
    json_t *findings; /* array of codes */
    double seconds;
} sweep_unit_t;

struct sweep {
    const fieldctl_sweep_opts_t *o;
    sweep_bus_t *buses;
    size_t nbuses;
    sweep_unit_t *units;
    size_t nunits, remaining, failed;
    json_t *out; /* --json: the results array */
    uv_loop_t *loop;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs on the bus worker. */
static int sweep_work(transport_t *t, void *arg)
{
    sweep_unit_t *u = arg;
    const fieldctl_sweep_opts_t *o = u->sw->o;
    device_reading_t r;
    decode_event_t *ev = NULL;
    health_finding_t *f = NULL;
    size_t nf = 0;
    double t0 = now_mono();
    memset(&r, 0, sizeof(r));
    if (o->trace)
        transport_set_frame_cb(t, fieldctl_print_frame, &u->bus->sink);
    u->rc = transport_open(t, u->err, sizeof(u->err));
    if (u->rc == 0)
        u->rc = device_identify(t, o->set, u->unit, &u->id, u->err, sizeof(u->err));
    if (u->rc != 0)
        goto done;
    u->rc = device_read(t, u->id.profile, u->unit, &r, u->err, sizeof(u->err));
    if (u->rc != 0)
        goto done;
    u->nvalues = r.nvalues;
    u->nrequests = r.nrequests;
    u->nfailed = r.nfailed;
    u->rc = device_read_events(t, u->id.profile, u->unit, o->events, &ev, &u->nevents, u->err,
                               sizeof(u->err));
    if (u->rc == ACS_ENOTFOUND) /* a model without an event log */
        u->rc = 0;
    if (u->rc != 0)
        goto done;
    for (size_t i = 0; i < u->nevents; i++)
        u->ncorrupt += ev[i].status == DECODE_EVENT_CORRUPT;
    u->rc = device_findings(&r, ev, u->nevents, &f, &nf);
    if (u->rc != 0) {
        errbuf_printf(u->err, sizeof(u->err), "unit %d: cannot evaluate the health rules", u->unit);
        goto done;
    }
    u->findings = json_array();
    for (size_t i = 0; i < nf && u->findings != NULL; i++)
        json_array_append_new(u->findings, json_string(f[i].code));
done:
    u->seconds = now_mono() - t0;
    free(f);
    free(ev);
    device_reading_free(&r);
    return u->rc;
}

/* Runs on the loop thread, in submission order per bus. */
static void sweep_done(int status, void *arg)
{
    sweep_unit_t *u = arg;
    sweep_t *sw = u->sw;
    if (status != 0 && u->err[0] == '\0')
        errbuf_printf(u->err, sizeof(u->err), "unit %d on bus %s: %s", u->unit, u->bus->name,
                      acs_strerror(status));
    u->rc = status;
    if (status != 0)
        sw->failed++;
    if (sw->out != NULL) {
        json_t *j =
            status == 0
                ? json_pack("{s:s, s:i, s:b, s:s, s:s, s:s, s:i, s:i, s:i, s:i, s:i, s:O, s:f}",
                            "bus", u->bus->name, "unit", u->unit, "ok", 1, "model",
                            u->id.profile->model, "serial", u->id.serial, "revision",
                            u->id.revision, "values", (int)u->nvalues, "requests",
                            (int)u->nrequests, "failed_requests", (int)u->nfailed, "events",
                            (int)u->nevents, "corrupt_events", (int)u->ncorrupt, "findings",
                            u->findings != NULL ? u->findings : json_array(), "seconds", u->seconds)
                : json_pack("{s:s, s:i, s:b, s:s, s:f}", "bus", u->bus->name, "unit", u->unit, "ok",
                            0, "error", u->err, "seconds", u->seconds);
        json_array_append_new(sw->out, j);
    } else if (status == 0) {
        printf("%s unit %d: %s serial %s, %zu values in %zu requests", u->bus->name, u->unit,
               u->id.profile->model, u->id.serial[0] ? u->id.serial : "?", u->nvalues,
               u->nrequests);
        if (u->nfailed)
            printf(" (%zu failed)", u->nfailed);
        printf(", %zu events", u->nevents);
        if (u->ncorrupt)
            printf(" (%zu corrupt)", u->ncorrupt);
        size_t nf = u->findings != NULL ? json_array_size(u->findings) : 0;
        printf(", %zu findings", nf);
        for (size_t i = 0; i < nf; i++)
            printf("%s%s", i ? " " : ": ", json_string_value(json_array_get(u->findings, i)));
        printf(" (%.3f s)\n", u->seconds);
    } else {
        printf("%s unit %d: %s\n", u->bus->name, u->unit, u->err);
    }
    fflush(stdout);
    if (--sw->remaining == 0)
        uv_stop(sw->loop);
}

static int parse_int_field(json_t *b, const char *key, int lo, int hi, int dflt, int *out, size_t i,
                           char *err, size_t errlen)
{
    json_t *v = json_object_get(b, key);
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        errbuf_printf(err, errlen, "buses[%zu].%s: must be a whole number %d..%d", i, key, lo, hi);
        return ACS_EINVAL;
    }
    *out = (int)json_integer_value(v);
    return 0;
}

/* Fill sw->buses and sw->units from the file. */
static int sweep_load(sweep_t *sw, json_t *root, char *err, size_t errlen)
{
    static const char *keys[] = {"name",      "port",      "tcp",     "baud",       "parity",
                                 "data_bits", "stop_bits", "timeout", "turnaround", "units"};
    json_t *buses = json_object_get(root, "buses");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(buses) ||
        json_array_size(buses) == 0) {
        errbuf_printf(err, errlen,
                      "the file must be an object with one key, \"buses\", a "
                      "non-empty array");
        return ACS_EINVAL;
    }
    sw->nbuses = json_array_size(buses);
    sw->buses = calloc(sw->nbuses, sizeof(*sw->buses));
    if (sw->buses == NULL)
        return ACS_ENOMEM;
    for (size_t i = 0; i < sw->nbuses; i++) {
        json_t *b = json_array_get(buses, i), *v;
        const char *k;
        sweep_bus_t *sb = &sw->buses[i];
        int x;
        if (!json_is_object(b)) {
            errbuf_printf(err, errlen, "buses[%zu]: must be an object", i);
            return ACS_EINVAL;
        }
        json_object_foreach(b, k, v)
        {
            size_t j = 0;
            while (j < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[j], k) != 0)
                j++;
            if (j == sizeof(keys) / sizeof(keys[0])) {
                errbuf_printf(err, errlen, "buses[%zu].%s: unknown key", i, k);
                return ACS_EINVAL;
            }
        }
        const char *name = json_string_value(json_object_get(b, "name"));
        const char *port = json_string_value(json_object_get(b, "port"));
        const char *tcp = json_string_value(json_object_get(b, "tcp"));
        json_t *units = json_object_get(b, "units");
        if ((port == NULL) == (tcp == NULL)) {
            errbuf_printf(err, errlen, "buses[%zu]: give exactly one of \"port\" or \"tcp\"", i);
            return ACS_EINVAL;
        }
        if (!json_is_array(units) || json_array_size(units) == 0) {
            errbuf_printf(err, errlen, "buses[%zu].units: must be a non-empty array of unit ids",
                          i);
            return ACS_EINVAL;
        }
        errbuf_printf(sb->name, sizeof(sb->name), "%s", name != NULL ? name : port ? port : tcp);
        if (port != NULL) {
            const char *par = json_string_value(json_object_get(b, "parity"));
            sb->cfg.kind = TRANSPORT_RTU;
            sb->cfg.device = port;
            if (parse_int_field(b, "baud", 1200, 921600, 19200, &sb->cfg.baud, i, err, errlen) ||
                parse_int_field(b, "data_bits", 7, 8, 8, &sb->cfg.data_bits, i, err, errlen) ||
                parse_int_field(b, "stop_bits", 1, 2, 1, &sb->cfg.stop_bits, i, err, errlen))
                return ACS_EINVAL;
            sb->cfg.parity = 'E';
            if (par != NULL) {
                sb->cfg.parity = (char)(par[0] & ~0x20);
                if (par[0] == '\0' || strchr("NEO", sb->cfg.parity) == NULL) {
                    errbuf_printf(err, errlen, "buses[%zu].parity: \"N\", \"E\" or \"O\"", i);
                    return ACS_EINVAL;
                }
            }
        } else {
            const char *colon = strrchr(tcp, ':');
            if (colon == NULL || colon == tcp || (size_t)(colon - tcp) >= sizeof(sb->host)) {
                errbuf_printf(err, errlen, "buses[%zu].tcp: \"%s\" is not HOST:PORT", i, tcp);
                return ACS_EINVAL;
            }
            memcpy(sb->host, tcp, (size_t)(colon - tcp));
            sb->host[colon - tcp] = '\0';
            char *end;
            long p = strtol(colon + 1, &end, 10);
            if (*end != '\0' || p < 1 || p > 65535) {
                errbuf_printf(err, errlen, "buses[%zu].tcp: \"%s\" is not HOST:PORT", i, tcp);
                return ACS_EINVAL;
            }
            sb->cfg.kind = TRANSPORT_TCP;
            sb->cfg.host = sb->host;
            sb->cfg.port = (int)p;
        }
        if (parse_int_field(b, "timeout", 0, 600000, (int)sw->o->timeout_ms, &x, i, err, errlen))
            return ACS_EINVAL;
        sb->cfg.timeout_ms = (unsigned)x;
        if (parse_int_field(b, "turnaround", 0, 60000, (int)sw->o->turnaround_ms, &x, i, err,
                            errlen))
            return ACS_EINVAL;
        sb->cfg.turnaround_ms = (unsigned)x;
        int max = port != NULL ? 247 : 255;
        for (size_t j = 0; j < json_array_size(units); j++) {
            json_t *u = json_array_get(units, j);
            if (!json_is_integer(u) || json_integer_value(u) < 1 || json_integer_value(u) > max) {
                errbuf_printf(err, errlen, "buses[%zu].units[%zu]: a unit id 1..%d", i, j, max);
                return ACS_EINVAL;
            }
            sw->nunits++;
        }
        sb->sink.out = stderr;
        sb->sink.json = sw->o->json;
        sb->sink.bus = sb->name;
    }
    sw->units = calloc(sw->nunits, sizeof(*sw->units));
    if (sw->units == NULL)
        return ACS_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < sw->nbuses; i++) {
        json_t *units = json_object_get(json_array_get(buses, i), "units");
        for (size_t j = 0; j < json_array_size(units); j++, k++) {
            sw->units[k].sw = sw;
            sw->units[k].bus = &sw->buses[i];
            sw->units[k].unit = (int)json_integer_value(json_array_get(units, j));
        }
    }
    return 0;
}

int fieldctl_sweep(const fieldctl_sweep_opts_t *o, char *err, size_t errlen)
{
    sweep_t sw;
    uv_loop_t loop;
    json_error_t jerr;
    int rc, loop_ok = 0;
    memset(&sw, 0, sizeof(sw));
    sw.o = o;
    json_t *root = json_load_file(o->site, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        errbuf_printf(err, errlen, "%s: line %d: %s", o->site, jerr.line, jerr.text);
        return ACS_EINVAL;
    }
    char why[512] = "";
    rc = sweep_load(&sw, root, why, sizeof(why));
    if (rc != 0) {
        errbuf_printf(err, errlen, "%s: %s", o->site, why[0] ? why : acs_strerror(rc));
        goto fail;
    }
    if (uv_loop_init(&loop) != 0) {
        rc = ACS_EIO;
        errbuf_printf(err, errlen, "cannot start an event loop");
        goto fail;
    }
    loop_ok = 1;
    sw.loop = &loop;
    if (o->json && (sw.out = json_array()) == NULL) {
        rc = ACS_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < sw.nbuses; i++) {
        rc = bus_new(&loop, &sw.buses[i].cfg, &sw.buses[i].bus, err, errlen);
        if (rc != 0)
            goto fail;
    }
    double t0 = now_mono();
    for (size_t k = 0; k < sw.nunits; k++) {
        rc = bus_submit(sw.units[k].bus->bus, sweep_work, sweep_done, &sw.units[k]);
        if (rc != 0) {
            errbuf_printf(err, errlen, "cannot queue unit %d on bus %s: %s", sw.units[k].unit,
                          sw.units[k].bus->name, acs_strerror(rc));
            /* What was queued before still completes; wait for it below. */
            break;
        }
        sw.remaining++;
    }
    if (sw.remaining > 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    double spent = now_mono() - t0;
    if (rc == 0) {
        if (sw.out != NULL) {
            char *s = json_dumps(sw.out, JSON_INDENT(2));
            if (s != NULL)
                printf("%s\n", s);
            free(s);
        }
        fflush(stdout);
        fprintf(stderr, "sweep: %zu units on %zu buses in %.3f s (%zu read, %zu failed)\n",
                sw.nunits, sw.nbuses, spent, sw.nunits - sw.failed, sw.failed);
        if (sw.failed > 0) {
            rc = ACS_EIO;
            errbuf_printf(err, errlen,
                          "%zu of %zu units could not be read (each is listed with the reason)",
                          sw.failed, sw.nunits);
        }
    }
fail:
    for (size_t i = 0; i < sw.nbuses; i++)
        bus_free(sw.buses[i].bus);
    if (loop_ok) {
        /* bus_free closed each uv_async; the memory goes in the close callbacks. */
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    for (size_t k = 0; k < sw.nunits; k++)
        json_decref(sw.units[k].findings);
    free(sw.units);
    free(sw.buses);
    json_decref(sw.out);
    json_decref(root);
    return rc;
}
