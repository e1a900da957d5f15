/* SPDX-License-Identifier: MIT */
/*
 * diag_settings.c - the transport settings of a diagnostic session (diag.h): checked field by
 * field with a sentence naming the field, defaults filled in, and written back as the JSON
 * stored in diag_session.settings. Pure (no I/O), so it is built with or without hardware
 * support.
 */
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "errbuf.h"

#define FAIL(f, ...)                                                                               \
    do {                                                                                           \
        snprintf(field, fieldlen, "settings.%s", f);                                               \
        errbuf_printf(err, errlen, __VA_ARGS__);                                                   \
        goto fail;                                                                                 \
    } while (0)

/* An integer field within [lo, hi]; absent gives dflt. Returns 0 or ACS_EINVAL. */
static int get_int(const json_t *o, const char *key, int lo, int hi, int dflt, int *out)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return ACS_EINVAL;
    *out = (int)json_integer_value(v);
    return 0;
}

/* "host:port" with a host of letters, digits, '.', '-' and a port 1..65535. */
static int endpoint_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || strlen(s) >= DIAG_NAME_MAX)
        return 0;
    for (const char *p = s; p < colon; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '-'))
            return 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    return colon[1] != '\0' && *end == '\0' && port >= 1 && port <= 65535;
}

int diag_settings_parse(const char *transport, const json_t *settings, diag_settings_t *out,
                        json_t **normalized, char *field, size_t fieldlen, char *err, size_t errlen)
{
    static const char *const rtu_keys[] = {
        "port",  "baud",       "parity",        "data_bits", "stop_bits", "unit_from", "unit_to",
        "units", "timeout_ms", "turnaround_ms", "events",    "frames",    "repeat_s",  NULL};
    static const char *const tcp_keys[] = {"endpoints", "unit_from",  "unit_to",
                                           "units",     "timeout_ms", "events",
                                           "frames",    "repeat_s",   NULL};
    json_t *norm = NULL;
    memset(out, 0, sizeof(*out));
    if (normalized != NULL)
        *normalized = NULL;
    if (field != NULL && fieldlen > 0)
        field[0] = '\0';
    if (transport == NULL || (strcmp(transport, "rtu") != 0 && strcmp(transport, "tcp") != 0)) {
        snprintf(field, fieldlen, "transport");
        errbuf_printf(err, errlen,
                      "transport must be \"rtu\" (a serial port) or \"tcp\" "
                      "(Modbus TCP endpoints)");
        return ACS_EINVAL;
    }
    out->tcp = strcmp(transport, "tcp") == 0;
    if (settings == NULL)
        settings = norm = json_object();
    else if (!json_is_object(settings)) {
        snprintf(field, fieldlen, "settings");
        errbuf_printf(err, errlen, "settings must be a JSON object");
        return ACS_EINVAL;
    }
    const char *const *keys = out->tcp ? tcp_keys : rtu_keys;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)settings, key, v)
    {
        int known = 0;
        for (size_t i = 0; keys[i] != NULL; i++)
            known |= strcmp(keys[i], key) == 0;
        if (!known) {
            snprintf(field, fieldlen, "settings.%.200s", key);
            errbuf_printf(
                err, errlen, "unknown setting \"%s\" for transport %s (allowed: %s)", key,
                transport,
                out->tcp ? "endpoints, unit_from, unit_to, units, timeout_ms, events, repeat_s, "
                           "frames"
                         : "port, baud, parity, data_bits, stop_bits, unit_from, "
                           "unit_to, units, timeout_ms, turnaround_ms, events, repeat_s, frames");
            json_decref(norm);
            return ACS_EINVAL;
        }
    }

    int tmp;
    if (!out->tcp) {
        const json_t *port = json_object_get(settings, "port");
        if (!json_is_string(port) || json_string_length(port) == 0)
            FAIL("port", "settings.port is required for rtu: the serial device of the RS-485 "
                         "adapter, e.g. \"/dev/ttyUSB0\"");
        const char *p = json_string_value(port);
        if (strncmp(p, "/dev/", 5) != 0 || strlen(p) >= sizeof(out->port) || strstr(p, "/../"))
            FAIL("port",
                 "settings.port \"%.100s\" is not a serial device path under /dev/ "
                 "(e.g. /dev/ttyUSB0)",
                 p);
        snprintf(out->port, sizeof(out->port), "%s", p);
        if (get_int(settings, "baud", 1200, 921600, 19200, &out->baud) != 0)
            FAIL("baud", "settings.baud must be an integer from 1200 to 921600 (e.g. 9600, "
                         "19200, 115200)");
        const json_t *par = json_object_get(settings, "parity");
        out->parity = 'E';
        if (par != NULL) {
            const char *s = json_string_value(par);
            if (s == NULL || strlen(s) != 1 || strchr("NEO", s[0]) == NULL)
                FAIL("parity", "settings.parity must be one of \"N\", \"E\", \"O\" (none, "
                               "even, odd)");
            out->parity = s[0];
        }
        if (get_int(settings, "data_bits", 7, 8, 8, &out->data_bits) != 0)
            FAIL("data_bits", "settings.data_bits must be 7 or 8");
        if (get_int(settings, "stop_bits", 1, 2, 1, &out->stop_bits) != 0)
            FAIL("stop_bits", "settings.stop_bits must be 1 or 2");
        if (get_int(settings, "turnaround_ms", 0, 10000, 50, &tmp) != 0)
            FAIL("turnaround_ms", "settings.turnaround_ms must be an integer from 0 to 10000");
        out->turnaround_ms = (unsigned)tmp;
    } else {
        const json_t *eps = json_object_get(settings, "endpoints");
        if (!json_is_array(eps) || json_array_size(eps) == 0 ||
            json_array_size(eps) > DIAG_MAX_ENDPOINTS)
            FAIL("endpoints",
                 "settings.endpoints is required for tcp: 1 to %d \"host:port\" "
                 "strings, e.g. [\"10.20.0.15:502\"]",
                 DIAG_MAX_ENDPOINTS);
        size_t i;
        const json_t *e;
        json_array_foreach(eps, i, e)
        {
            const char *s = json_string_value(e);
            if (s == NULL || !endpoint_ok(s))
                FAIL("endpoints",
                     "settings.endpoints[%zu] must be \"host:port\" with a port "
                     "from 1 to 65535, e.g. \"10.20.0.15:502\"",
                     i);
            for (size_t k = 0; k < i; k++)
                if (strcmp(out->endpoints[k], s) == 0)
                    FAIL("endpoints", "settings.endpoints[%zu] \"%s\" is listed twice", i, s);
            snprintf(out->endpoints[i], sizeof(out->endpoints[i]), "%s", s);
        }
        out->nendpoints = json_array_size(eps);
    }
    int umax = out->tcp ? 255 : 247;
    if (get_int(settings, "unit_from", 1, umax, 1, &out->unit_from) != 0)
        FAIL("unit_from", "settings.unit_from must be an integer from 1 to %d", umax);
    if (get_int(settings, "unit_to", 1, umax, out->tcp ? out->unit_from : 32, &out->unit_to) != 0)
        FAIL("unit_to", "settings.unit_to must be an integer from 1 to %d", umax);
    if (out->unit_to < out->unit_from)
        FAIL("unit_to", "settings.unit_to (%d) is below unit_from (%d)", out->unit_to,
             out->unit_from);
    const json_t *units = json_object_get(settings, "units");
    if (units != NULL) {
        if (!json_is_array(units) || json_array_size(units) == 0 ||
            json_array_size(units) > DIAG_MAX_UNITS)
            FAIL("units", "settings.units must be a list of 1 to %d unit ids", DIAG_MAX_UNITS);
        size_t i;
        const json_t *u;
        json_array_foreach(units, i, u)
        {
            if (!json_is_integer(u) || json_integer_value(u) < 1 || json_integer_value(u) > umax)
                FAIL("units", "settings.units[%zu] must be a unit id from 1 to %d", i, umax);
            for (size_t k = 0; k < i; k++)
                if (out->units[k] == (int)json_integer_value(u))
                    FAIL("units", "settings.units[%zu]: unit %d is listed twice", i,
                         (int)json_integer_value(u));
            out->units[i] = (int)json_integer_value(u);
        }
        out->nunits = json_array_size(units);
    }
    if (get_int(settings, "timeout_ms", 0, 60000, 0, &tmp) != 0)
        FAIL("timeout_ms", "settings.timeout_ms must be an integer from 0 (derived) to 60000");
    out->timeout_ms = (unsigned)tmp;
    if (get_int(settings, "events", 0, 500, 20, &out->events) != 0)
        FAIL("events", "settings.events must be an integer from 0 to 500 (event-log records "
                       "read per unit)");
    if (get_int(settings, "repeat_s", 0, 3600, 0, &out->repeat_s) != 0)
        FAIL("repeat_s", "settings.repeat_s must be an integer from 0 (read each unit once) to "
                         "3600 seconds of reading the units found again and again");
    const json_t *fr = json_object_get(settings, "frames");
    if (fr != NULL && !json_is_boolean(fr))
        FAIL("frames", "settings.frames must be true or false");
    out->frames = fr == NULL || json_is_true(fr);

    if (normalized != NULL) {
        json_t *n = json_object();
        if (n == NULL)
            goto nomem;
        if (!out->tcp) {
            char par[2] = {out->parity, '\0'};
            json_object_set_new(n, "port", json_string(out->port));
            json_object_set_new(n, "baud", json_integer(out->baud));
            json_object_set_new(n, "parity", json_string(par));
            json_object_set_new(n, "data_bits", json_integer(out->data_bits));
            json_object_set_new(n, "stop_bits", json_integer(out->stop_bits));
            json_object_set_new(n, "turnaround_ms", json_integer(out->turnaround_ms));
        } else {
            json_t *a = json_array();
            for (size_t i = 0; i < out->nendpoints; i++)
                json_array_append_new(a, json_string(out->endpoints[i]));
            json_object_set_new(n, "endpoints", a);
        }
        json_object_set_new(n, "unit_from", json_integer(out->unit_from));
        json_object_set_new(n, "unit_to", json_integer(out->unit_to));
        if (out->nunits > 0) {
            json_t *a = json_array();
            for (size_t i = 0; i < out->nunits; i++)
                json_array_append_new(a, json_integer(out->units[i]));
            json_object_set_new(n, "units", a);
        }
        json_object_set_new(n, "timeout_ms", json_integer(out->timeout_ms));
        json_object_set_new(n, "events", json_integer(out->events));
        if (out->repeat_s > 0)
            json_object_set_new(n, "repeat_s", json_integer(out->repeat_s));
        json_object_set_new(n, "frames", json_boolean(out->frames));
        *normalized = n;
    }
    json_decref(norm);
    return 0;
nomem:
    json_decref(norm);
    errbuf_printf(err, errlen, "out of memory");
    return ACS_ENOMEM;
fail:
    json_decref(norm);
    return ACS_EINVAL;
}
