/* SPDX-License-Identifier: MIT */
/*
 * fieldctl.h - what the files of fieldctl share: the commands that need no Modbus link (ports)
 * or several (sweep) live in files of their own and are called from main.c with the parsed
 * options they need.
 */
#ifndef ACS_FIELDCTL_H
#define ACS_FIELDCTL_H

#include "profile.h"
#include "transport.h"

#include <stddef.h>
#include <stdio.h>

/*
 * `fieldctl ports`: list the serial ports libserialport finds (name, description, transport,
 * USB VID:PID, manufacturer, product, serial number), marking known USB-RS485 adapters
 * (drivers/adapters.h). Prints a table, or a JSON array when json is non-zero; no ports is not
 * an error. Returns 0, or an ACS_E* code with a sentence in err (libserialport's SP_ERR_*
 * translated).
 */
int fieldctl_ports(int json, char *err, size_t errlen);

/* Translate a libserialport result (SP_OK or SP_ERR_*) into 0 or an ACS_E* code, writing a
 * sentence naming `what` into err for an error. */
int fieldctl_sp_error(int sp_result, const char *what, char *err, size_t errlen);

/* Where frames go: a stream, text or one JSON object per line, and the bus name (or NULL). */
typedef struct {
    FILE *out;
    int json;
    const char *bus;
} fieldctl_frame_sink_t;

/* A transport_frame_cb printing to a fieldctl_frame_sink_t (arg). Each frame is written with
 * one stdio call, so frames of several bus threads never interleave within a line. */
void fieldctl_print_frame(const transport_frame_t *f, void *arg);

/* `fieldctl sweep --site FILE`: see sweep.c. */
typedef struct {
    const char *site;         /* the sweep file (JSON, docs/fieldctl.md) */
    const profile_set_t *set; /* profiles */
    int json, trace;
    size_t events;          /* newest event records read per unit */
    unsigned timeout_ms;    /* 0 = derived (RTU) / 1000 ms (TCP), unless the file sets one */
    unsigned turnaround_ms; /* 0 = 50 ms */
} fieldctl_sweep_opts_t;

/*
 * Identify, read the whole profile of, and read the event log of every unit of every bus in
 * the sweep file, the buses in parallel (one bus_t worker each, drivers/bus.h), printing one
 * line (or JSON object) per unit. Returns 0 when every unit was read, ACS_EIO when some failed
 * (each failure is in the output with its sentence), or ACS_EINVAL / ACS_ENOMEM with a
 * sentence in err for a bad file.
 */
int fieldctl_sweep(const fieldctl_sweep_opts_t *o, char *err, size_t errlen);

#endif
