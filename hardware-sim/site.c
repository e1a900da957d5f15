/* SPDX-License-Identifier: MIT */
/*
 * site.c - reading and checking a site file (see site.h and docs/simulator.md).
 *
 * Each object is checked against a list of the keys it may have, so that a misspelt key is
 * refused instead of silently ignored.
 */
#include "site.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

typedef struct check {
    const site_t *site;
    char *err;
    size_t errlen;
} check_t;

__attribute__((format(printf, 3, 4))) static int fail(check_t *c, const char *field,
                                                      const char *fmt, ...)
{
    if (c->err != NULL && c->errlen > 0) {
        char reason[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        snprintf(c->err, c->errlen, "%s: %s: %s", c->site->path, field, reason);
    }
    return ACS_EINVAL;
}

/* Refuses keys of obj that are not in allowed (NULL-terminated). */
static int only_keys(check_t *c, json_t *obj, const char *where, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        int ok = 0;
        for (size_t i = 0; allowed[i] != NULL; i++)
            ok |= strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char field[160];
            snprintf(field, sizeof(field), "%s%s%s", where, *where ? "." : "", key);
            char list[256] = "";
            for (size_t i = 0; allowed[i] != NULL; i++) {
                strncat(list, allowed[i], sizeof(list) - strlen(list) - 1);
                if (allowed[i + 1] != NULL)
                    strncat(list, ", ", sizeof(list) - strlen(list) - 1);
            }
            return fail(c, field, "unknown field (allowed: %s)", list);
        }
    }
    return 0;
}

/* Optional integer field in [lo, hi]; *out keeps its default when the field is absent. */
static int get_int(check_t *c, json_t *obj, const char *where, const char *key, long lo, long hi,
                   int required, long *out)
{
    char field[160];
    snprintf(field, sizeof(field), "%s%s%s", where, *where ? "." : "", key);
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail(c, field, "is missing (an integer %ld..%ld)", lo, hi);
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(c, field, "must be an integer %ld..%ld", lo, hi);
    *out = (long)json_integer_value(v);
    return 0;
}

/* Optional string field (non-empty, at most max bytes, printable ASCII). */
static int get_str(check_t *c, json_t *obj, const char *where, const char *key, size_t max,
                   int required, const char **out)
{
    char field[160];
    snprintf(field, sizeof(field), "%s%s%s", where, *where ? "." : "", key);
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        if (required)
            return fail(c, field, "is missing (a string)");
        return 0;
    }
    if (!json_is_string(v))
        return fail(c, field, "must be a string");
    const char *s = json_string_value(v);
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return fail(c, field, "must be 1..%zu characters long", max);
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] > 0x7E)
            return fail(c, field, "must be printable ASCII");
    }
    *out = s;
    return 0;
}

static int get_bool(check_t *c, json_t *obj, const char *where, const char *key, int *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v)) {
        char field[160];
        snprintf(field, sizeof(field), "%s.%s", where, key);
        return fail(c, field, "must be true or false");
    }
    *out = json_is_true(v);
    return 0;
}

static int get_object(check_t *c, json_t *obj, const char *where, const char *key, json_t **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_object(v)) {
        char field[160];
        snprintf(field, sizeof(field), "%s.%s", where, key);
        return fail(c, field, "must be an object");
    }
    *out = v;
    return 0;
}

static int name_ok(const char *s)
{
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return 0;
    }
    return 1;
}

static const char *const unit_keys[] = {"model",
                                        "unit_id",
                                        "serial",
                                        "firmware",
                                        "state",
                                        "faults",
                                        "card_reads_every_ms",
                                        "hardware_revision",
                                        "firmware_key",
                                        NULL};

static int load_unit(check_t *c, site_bus_t *bus, size_t i, json_t *ju, site_unit_t *u)
{
    snprintf(u->where, sizeof(u->where), "%s.units[%zu]", bus->where, i);
    if (!json_is_object(ju))
        return fail(c, u->where, "must be an object");
    int err = only_keys(c, ju, u->where, unit_keys);
    long id = 0, every = 0;
    if (err == 0)
        err = get_str(c, ju, u->where, "model", 32, 1, &u->model);
    if (err == 0)
        err = get_int(c, ju, u->where, "unit_id", 1, bus->kind == SITE_BUS_RTU ? 247 : 255, 1, &id);
    if (err == 0)
        err = get_str(c, ju, u->where, "serial", 32, 0, &u->serial);
    if (err == 0)
        err = get_str(c, ju, u->where, "firmware", 32, 0, &u->firmware);
    if (err == 0)
        err = get_int(c, ju, u->where, "card_reads_every_ms", 0, 86400000, 0, &every);
    if (err == 0)
        err = get_object(c, ju, u->where, "state", &u->state);
    if (err == 0)
        err = get_object(c, ju, u->where, "faults", &u->faults);
    long hw = 0;
    if (err == 0)
        err = get_int(c, ju, u->where, "hardware_revision", 1, 65535, 0, &hw);
    if (err == 0)
        err = get_str(c, ju, u->where, "firmware_key", 4000, 0, &u->firmware_key);
    if (err != 0)
        return err;
    u->hw_rev = (int)hw;
    u->unit_id = (int)id;
    u->card_every_ms = (uint32_t)every;
    for (size_t k = 0; k < i; k++) {
        if (bus->units[k].unit_id == u->unit_id) {
            char field[128];
            snprintf(field, sizeof(field), "%s.unit_id", u->where);
            return fail(c, field, "%d is already used on bus %s by %s", u->unit_id, bus->name,
                        bus->units[k].where);
        }
    }
    return 0;
}

static const char *const tcp_keys[] = {"name",          "type",  "host", "port",
                                       "foreign_units", "units", NULL};
static const char *const rtu_keys[] = {"name",      "type",      "baud",   "parity",
                                       "data_bits", "stop_bits", "pacing", "pace_requests",
                                       "units",     NULL};

static int load_bus(check_t *c, site_t *site, size_t i, json_t *jb, site_bus_t *b)
{
    snprintf(b->where, sizeof(b->where), "buses[%zu]", i);
    if (!json_is_object(jb))
        return fail(c, b->where, "must be an object");
    const char *type = NULL;
    int err = get_str(c, jb, b->where, "name", 32, 1, &b->name);
    if (err == 0)
        err = get_str(c, jb, b->where, "type", 8, 1, &type);
    if (err != 0)
        return err;
    char field[128];
    if (!name_ok(b->name)) {
        snprintf(field, sizeof(field), "%s.name", b->where);
        return fail(c, field, "\"%s\" may only hold letters, digits, '-', '_' and '.'", b->name);
    }
    for (size_t k = 0; k < i; k++) {
        if (strcmp(site->buses[k].name, b->name) == 0) {
            snprintf(field, sizeof(field), "%s.name", b->where);
            return fail(c, field, "\"%s\" is already the name of %s", b->name,
                        site->buses[k].where);
        }
    }
    if (strcmp(type, "tcp") == 0) {
        b->kind = SITE_BUS_TCP;
        b->host = "127.0.0.1";
        long port = 0;
        const char *foreign = NULL;
        err = only_keys(c, jb, b->where, tcp_keys);
        if (err == 0)
            err = get_str(c, jb, b->where, "host", 63, 0, &b->host);
        if (err == 0)
            err = get_int(c, jb, b->where, "port", 0, 65535, 0, &port);
        if (err == 0)
            err = get_str(c, jb, b->where, "foreign_units", 16, 0, &foreign);
        if (err != 0)
            return err;
        b->port = (int)port;
        if (foreign != NULL && strcmp(foreign, "exception") != 0 &&
            strcmp(foreign, "silent") != 0) {
            snprintf(field, sizeof(field), "%s.foreign_units", b->where);
            return fail(c, field, "must be \"exception\" (answer 0x0B) or \"silent\"");
        }
        b->foreign_silent = foreign != NULL && strcmp(foreign, "silent") == 0;
    } else if (strcmp(type, "rtu") == 0) {
        b->kind = SITE_BUS_RTU;
        long baud = 19200, data_bits = 8, stop_bits = 1;
        const char *parity = "even";
        err = only_keys(c, jb, b->where, rtu_keys);
        if (err == 0)
            err = get_int(c, jb, b->where, "baud", 1200, 921600, 0, &baud);
        if (err == 0)
            err = get_str(c, jb, b->where, "parity", 8, 0, &parity);
        if (err == 0)
            err = get_int(c, jb, b->where, "data_bits", 7, 8, 0, &data_bits);
        if (err == 0)
            err = get_int(c, jb, b->where, "stop_bits", 1, 2, 0, &stop_bits);
        if (err == 0)
            err = get_bool(c, jb, b->where, "pacing", &b->pacing);
        if (err == 0)
            err = get_bool(c, jb, b->where, "pace_requests", &b->pace_requests);
        if (err != 0)
            return err;
        if (strcmp(parity, "none") == 0) {
            b->parity = 'N';
        } else if (strcmp(parity, "even") == 0) {
            b->parity = 'E';
        } else if (strcmp(parity, "odd") == 0) {
            b->parity = 'O';
        } else {
            snprintf(field, sizeof(field), "%s.parity", b->where);
            return fail(c, field, "\"%s\" is not none, even or odd", parity);
        }
        b->baud = (uint32_t)baud;
        b->data_bits = (int)data_bits;
        b->stop_bits = (int)stop_bits;
    } else {
        snprintf(field, sizeof(field), "%s.type", b->where);
        return fail(c, field, "\"%s\" is not \"tcp\" or \"rtu\"", type);
    }

    json_t *units = json_object_get(jb, "units");
    snprintf(field, sizeof(field), "%s.units", b->where);
    if (!json_is_array(units) || json_array_size(units) == 0)
        return fail(c, field, "must be a non-empty array of units");
    if (b->kind == SITE_BUS_TCP && json_array_size(units) != 1)
        return fail(c, field, "a Modbus TCP endpoint is one unit; give each its own bus (has %zu)",
                    json_array_size(units));
    if (json_array_size(units) > 247)
        return fail(c, field, "an RTU bus holds at most 247 units");
    b->units = calloc(json_array_size(units), sizeof(*b->units));
    if (b->units == NULL)
        return ACS_ENOMEM;
    size_t k;
    json_t *ju;
    json_array_foreach(units, k, ju)
    {
        err = load_unit(c, b, k, ju, &b->units[k]);
        if (err != 0)
            return err;
        b->nunits++;
    }
    return 0;
}

static const char *const site_keys[] = {"name",      "profiles",     "control", "buses",
                                        "flash_dir", "firmware_key", NULL};

/* A folder named in the site file, relative to the site file's folder. NULL on no memory. */
static char *relative_to_site(const site_t *site, const char *dir)
{
    const char *slash = strrchr(site->path, '/');
    size_t dirlen = dir[0] == '/' || slash == NULL ? 0 : (size_t)(slash - site->path);
    size_t n = dirlen + 1 + strlen(dir) + 1;
    char *out = malloc(n);
    if (out == NULL)
        return NULL;
    if (dirlen > 0)
        snprintf(out, n, "%.*s/%s", (int)dirlen, site->path, dir);
    else
        snprintf(out, n, "%s", dir);
    return out;
}
static const char *const control_keys[] = {"host", "port", "enabled", NULL};

static int load_root(check_t *c, site_t *site)
{
    json_t *root = site->root;
    if (!json_is_object(root))
        return fail(c, "(top)", "must be a JSON object");
    int err = only_keys(c, root, "", site_keys);
    const char *profiles = NULL;
    if (err == 0)
        err = get_str(c, root, "", "name", 64, 0, &site->name);
    if (err == 0)
        err = get_str(c, root, "", "profiles", 4000, 0, &profiles);
    const char *flash_dir = NULL;
    if (err == 0)
        err = get_str(c, root, "", "flash_dir", 4000, 0, &flash_dir);
    if (err == 0)
        err = get_str(c, root, "", "firmware_key", 4000, 0, &site->firmware_key);
    if (err != 0)
        return err;
    if (flash_dir != NULL && (site->flash_dir = relative_to_site(site, flash_dir)) == NULL)
        return ACS_ENOMEM;
    if (profiles != NULL) {
        /* A relative folder is relative to the site file, so a site works from any cwd. */
        const char *slash = strrchr(site->path, '/');
        size_t dirlen = profiles[0] == '/' || slash == NULL ? 0 : (size_t)(slash - site->path);
        size_t n = dirlen + 1 + strlen(profiles) + 1;
        site->profiles_dir = malloc(n);
        if (site->profiles_dir == NULL)
            return ACS_ENOMEM;
        if (dirlen > 0)
            snprintf(site->profiles_dir, n, "%.*s/%s", (int)dirlen, site->path, profiles);
        else
            snprintf(site->profiles_dir, n, "%s", profiles);
    }

    site->control_enabled = 1;
    site->control_host = "127.0.0.1";
    json_t *ctl = json_object_get(root, "control");
    if (ctl != NULL) {
        if (!json_is_object(ctl))
            return fail(c, "control", "must be an object");
        long port = 0;
        err = only_keys(c, ctl, "control", control_keys);
        if (err == 0)
            err = get_str(c, ctl, "control", "host", 63, 0, &site->control_host);
        if (err == 0)
            err = get_int(c, ctl, "control", "port", 0, 65535, 0, &port);
        if (err == 0)
            err = get_bool(c, ctl, "control", "enabled", &site->control_enabled);
        if (err != 0)
            return err;
        site->control_port = (int)port;
    }

    json_t *buses = json_object_get(root, "buses");
    if (!json_is_array(buses) || json_array_size(buses) == 0)
        return fail(c, "buses", "must be a non-empty array of buses");
    site->buses = calloc(json_array_size(buses), sizeof(*site->buses));
    if (site->buses == NULL)
        return ACS_ENOMEM;
    size_t i;
    json_t *jb;
    json_array_foreach(buses, i, jb)
    {
        err = load_bus(c, site, i, jb, &site->buses[i]);
        site->nbuses = i + 1; /* so that site_free frees the units of a half-loaded bus */
        if (err != 0)
            return err;
    }
    return 0;
}

int site_load(const char *path, site_t **out, char *err, size_t errlen)
{
    *out = NULL;
    site_t *site = calloc(1, sizeof(*site));
    if (site == NULL || (site->path = strdup(path)) == NULL) {
        free(site);
        snprintf(err, errlen, "%s: out of memory", path);
        return ACS_ENOMEM;
    }
    json_error_t jerr;
    site->root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (site->root == NULL) {
        int rc = jerr.line < 0 ? ACS_ENOTFOUND : ACS_EINVAL;
        if (jerr.line < 0)
            snprintf(err, errlen, "%s: cannot read: %s", path, jerr.text);
        else
            snprintf(err, errlen, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
                     jerr.text);
        site_free(site);
        return rc;
    }
    check_t c = {site, err, errlen};
    int rc = load_root(&c, site);
    if (rc != 0) {
        if (rc == ACS_ENOMEM)
            snprintf(err, errlen, "%s: out of memory", path);
        site_free(site);
        return rc;
    }
    *out = site;
    return 0;
}

void site_free(site_t *site)
{
    if (site == NULL)
        return;
    for (size_t i = 0; i < site->nbuses; i++)
        free(site->buses[i].units);
    free(site->buses);
    free(site->profiles_dir);
    free(site->flash_dir);
    json_decref(site->root);
    free(site->path);
    free(site);
}

int site_value_text(const json_t *v, char *buf, size_t len)
{
    int n;
    if (json_is_true(v)) {
        n = snprintf(buf, len, "on");
    } else if (json_is_false(v)) {
        n = snprintf(buf, len, "off");
    } else if (json_is_integer(v)) {
        n = snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        n = snprintf(buf, len, "%.15g", json_real_value(v));
    } else if (json_is_string(v)) {
        n = snprintf(buf, len, "%s", json_string_value(v));
    } else if (json_is_array(v)) {
        size_t at = 0, i;
        json_t *e;
        buf[0] = '\0';
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e))
                return ACS_EINVAL;
            n = snprintf(buf + at, len - at, "%s%s", i ? "," : "", json_string_value(e));
            if (n < 0 || (size_t)n >= len - at)
                return ACS_EINVAL;
            at += (size_t)n;
        }
        return 0;
    } else {
        return ACS_EINVAL;
    }
    return n < 0 || (size_t)n >= len ? ACS_EINVAL : 0;
}
