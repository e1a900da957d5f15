/* SPDX-License-Identifier: MIT */
/*
 * device.h - what an engineer does with one unit, built on a transport (transport.h) and the
 * profile library: scan a bus for units, identify a unit, read its whole profile in the
 * fewest transactions (range.h), decode the values (decode.h), turn them into findings
 * (health.h), read its event log, and run an action - only when explicitly confirmed.
 *
 * All functions block and use the transport: call them on the bus's worker thread (bus.h) or
 * from a command-line tool, never on an event loop thread. Errors: 0 or ACS_E*, with the
 * transport's actionable sentence in err.
 */
#ifndef ACS_DEVICE_H
#define ACS_DEVICE_H

#include "decode.h"
#include "health.h"
#include "profile.h"
#include "transport.h"

#include <stddef.h>
#include <stdint.h>

#define DEVICE_MESSAGE_MAX 512

/* One unit tried by a scan. */
typedef struct {
    int unit;
    int status;          /* 0 answered; else the ACS_E* of the attempt */
    int present;         /* 1 when something answered for this unit (a value or an exception) */
    uint16_t model_code; /* input register 0 when status is 0 */
    char message[DEVICE_MESSAGE_MAX]; /* the transport's sentence when status != 0 */
} device_scan_result_t;

/* Called after each unit with its result (for a progress line). */
typedef void (*device_scan_cb)(const device_scan_result_t *r, int first, int last, void *arg);

/*
 * Try units first..last (1..247) by reading input register 0 (the model code) with the
 * transport's timeout (derived from the baud rate on RTU), going on past units that fail.
 * out must hold last - first + 1 results, one per unit tried, in order; *found counts the
 * present ones. Returns 0 (failed units are results, not errors), ACS_EINVAL for a bad range,
 * or the error that made the link itself unusable (the port cannot be opened).
 */
int device_scan(transport_t *t, int first, int last, device_scan_cb cb, void *arg,
                device_scan_result_t *out, size_t *found, char *err, size_t errlen);

typedef struct {
    int unit;
    int via_devid;                          /* 1 when FC 43/14 answered */
    char vendor[TRANSPORT_DEVID_MAX + 1];   /* FC 43 VendorName, else the profile's */
    char product[TRANSPORT_DEVID_MAX + 1];  /* FC 43 ProductCode, else the profile's model */
    char revision[TRANSPORT_DEVID_MAX + 1]; /* FC 43 revision, else fw_major.minor.patch */
    uint16_t model_code;                    /* input register 0 (0 if not read) */
    char serial[DECODE_FORMAT_MAX];         /* the serial register, decoded; "" if none */
    const profile_t *profile;               /* from the set; NULL if the model is unknown */
} device_ident_t;

/*
 * Identify `unit`: FC 43/14 first; when the unit refuses it (an exception) or garbles it,
 * input register 0 (model code) and the profile's identification registers. Returns 0 with
 * out->profile set, ACS_ENOTFOUND when the unit answers but no profile of the set matches
 * (out holds what was learnt), or the transport's error (ACS_ETIMEDOUT for a silent unit).
 */
int device_identify(transport_t *t, const profile_set_t *set, int unit, device_ident_t *out,
                    char *err, size_t errlen);

/* A whole-profile reading. */
typedef struct {
    const profile_t *profile;
    decode_value_t *values; /* the registers read, in profile order; owned, see below */
    size_t nvalues;
    size_t nrequests;               /* Modbus read transactions made */
    size_t nfailed;                 /* of those, how many failed (their registers are absent) */
    char error[DEVICE_MESSAGE_MAX]; /* the first failure's sentence, "" when none */
    double at;                      /* CLOCK_REALTIME seconds when read */
} device_reading_t;

/*
 * Read every register of p from `unit` in the requests range_plan_profile plans and decode
 * them. Returns 0 with *out filled (free with device_reading_free) - a request refused with an
 * exception leaves its registers out and is counted in nfailed - or an error with *out empty:
 * ACS_ETIMEDOUT / ACS_EIO when the unit stopped answering, ACS_ENOMEM.
 */
int device_read(transport_t *t, const profile_t *p, int unit, device_reading_t *out, char *err,
                size_t errlen);

/* Free what device_read allocated (the struct itself is the caller's). NULL is a no-op. */
void device_reading_free(device_reading_t *r);

/*
 * Findings for a reading (and optionally decoded events): faults, rules, corrupt event
 * records. Returns 0 with *out (free()) and *n, or ACS_ENOMEM / ACS_EINVAL.
 */
int device_findings(const device_reading_t *r, const decode_event_t *events, size_t nevents,
                    health_finding_t **out, size_t *n);

/*
 * Read up to `max` of the newest records of p's event log (oldest of them first): count and
 * head, then for each record one FC 06 write of the slot to the select register and one FC 04
 * read of the window. Returns 0 with *out (free()) and *n, ACS_ENOTFOUND when p has no event
 * log, ACS_EIO when count/head are impossible (a corrupt log header), or a transport error.
 */
int device_read_events(transport_t *t, const profile_t *p, int unit, size_t max,
                       decode_event_t **out, size_t *n, char *err, size_t errlen);

/*
 * Run action `name` of p on `unit`: one write (FC 05 for a coil, FC 06 / FC 16 for a holding
 * register). Refused with ACS_EFORBIDDEN and nothing sent unless `confirmed` is non-zero,
 * whatever the action's safety class. ACS_ENOTFOUND for an unknown action.
 */
int device_action(transport_t *t, const profile_t *p, int unit, const char *name, int confirmed,
                  char *err, size_t errlen);

#endif
