/* SPDX-License-Identifier: MIT */
/*
 * site.h - the site file of acs-sim: which buses to serve (Modbus TCP endpoints, RTU buses on
 * pseudo-terminals), which units sit on each, and where the control channel listens. The
 * format is described in docs/simulator.md; hardware-sim/sites/demo.json is an example.
 *
 * site_load checks the file's shape (types, ranges, unknown keys, duplicate names and unit
 * ids) and refuses a bad file with one sentence naming the file, the field and the reason:
 *   "demo.json: buses[1].units[2].unit_id: 3 is already used on bus line1"
 * What depends on profiles (the model exists, state names and values) is checked when the
 * units are built (simunit_new), with the same kind of sentence.
 */
#ifndef ACS_SIM_SITE_H
#define ACS_SIM_SITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { SITE_BUS_TCP = 0, SITE_BUS_RTU = 1 } site_bus_kind_t;

typedef struct site_unit {
    char where[96]; /* "buses[1].units[0]" */
    const char *model;
    int unit_id;
    const char *serial;   /* NULL when not given */
    const char *firmware; /* NULL when not given */
    uint32_t card_every_ms;
    json_t *state;            /* object or NULL (borrowed from the site's JSON) */
    json_t *faults;           /* object or NULL */
    int hw_rev;               /* "hardware_revision", 1..65535; 0 when not given (1) */
    const char *firmware_key; /* "firmware_key": hex or .pub path; NULL: the site's */
} site_unit_t;

typedef struct site_bus {
    char where[32]; /* "buses[1]" */
    const char *name;
    site_bus_kind_t kind;
    /* tcp */
    const char *host;
    int port;
    int foreign_silent; /* other unit ids: 0 exception 0x0B, 1 no answer */
    /* rtu */
    uint32_t baud;
    char parity; /* 'N', 'E', 'O' */
    int data_bits;
    int stop_bits;
    int pacing;
    int pace_requests; /* a request counts as arriving at the baud rate (docs/simulator.md) */
    site_unit_t *units;
    size_t nunits;
} site_bus_t;

typedef struct site {
    char *path;
    json_t *root;
    const char *name;
    char *profiles_dir; /* NULL: the drivers' default folder */
    int control_enabled;
    const char *control_host;
    int control_port;
    site_bus_t *buses;
    size_t nbuses;
    char *flash_dir;          /* "flash_dir", relative to the site file; NULL: memory only */
    const char *firmware_key; /* "firmware_key" of every unit without its own; NULL none */
} site_t;

/* Reads and checks a site file. Returns 0 and a new site in *out (free with site_free), or
 * ACS_ENOTFOUND / ACS_EINVAL / ACS_ENOMEM with *out = NULL and the sentence in err. */
int site_load(const char *path, site_t **out, char *err, size_t errlen);

/* Frees a site. NULL is a no-op. */
void site_free(site_t *site);

/* Turns a JSON state or fault value into the text decode_parse / simunit_fault read: numbers
 * in shortest form, true "on", false "off", strings as they are, arrays of strings joined
 * with ",". Returns 0, or ACS_EINVAL for another type or a text too long for buf. */
int site_value_text(const json_t *v, char *buf, size_t len);

#endif
