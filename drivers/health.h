/* SPDX-License-Identifier: MIT */
/*
 * health.h - from decoded values to findings: the device's own fault bits, the profile's
 * health rules (thresholds, rates, counter decreases, states) and corrupt event log records.
 *
 * Pure functions over caller-owned arrays: nothing is allocated, so a caller sizes its
 * findings array with health_max_findings() and never sees ACS_ETOOBIG.
 */
#ifndef ACS_HEALTH_H
#define ACS_HEALTH_H

#include "decode.h"
#include "profile.h"

#include <stddef.h>

/* Longest finding message, terminating NUL included. */
#define HEALTH_MESSAGE_MAX 256

/* Values read at one moment. values[] holds decoded registers in any order; a register that
 * was not read (or failed) is simply absent, and the rules on it do not fire. */
typedef struct {
    const decode_value_t *values;
    size_t nvalues;
    double at; /* when they were read, in seconds on any clock shared with the other snapshot */
} health_snapshot_t;

typedef struct {
    const char *code; /* finding code from the profile, e.g. "TC_SUPPLY_VOLTAGE" */
    profile_severity_t severity;
    const char *title;                /* from the profile */
    const char *advice;               /* from the profile */
    const profile_fault_t *fault;     /* the fault that fired, or NULL */
    const profile_rule_t *rule;       /* the rule that fired, or NULL */
    const profile_reg_t *reg;         /* the register that triggered it; NULL for the event log */
    double value;                     /* its engineering value (a rate: per hour; event log: the
                                         number of corrupt records) */
    char message[HEALTH_MESSAGE_MAX]; /* one sentence naming register and value:
                                         "supply_voltage is 10.8 V, below 11.5 V" */
} health_finding_t;

/* Most findings health_evaluate + health_check_events can produce for p (faults + rules + 1). */
size_t health_max_findings(const profile_t *p);

/*
 * Evaluate p's faults and rules. `now` is required; `before` (may be NULL) is an earlier
 * reading of the same unit for rate and decrease rules, which are skipped without it or
 * when now->at <= before->at. Findings are written to out[0..cap-1] in profile order (faults
 * first, then rules) and their number to *n. NaN values never fire a rule.
 * Returns 0, ACS_EINVAL (NULL p / now / n, or out NULL with cap > 0), or ACS_ETOOBIG when more
 * than cap fired (out holds the first cap, *n the number that fired).
 */
int health_evaluate(const profile_t *p, const health_snapshot_t *now,
                    const health_snapshot_t *before, health_finding_t *out, size_t cap, size_t *n);

/*
 * Append one finding (the profile's corrupt-log code) when any of the decoded event records
 * is DECODE_EVENT_CORRUPT, with value = the number of corrupt records. out, cap and n as above,
 * but *n is an in-out count of findings already in out. Returns 0, ACS_EINVAL, ACS_ETOOBIG.
 */
int health_check_events(const profile_t *p, const decode_event_t *events, size_t nevents,
                        health_finding_t *out, size_t cap, size_t *n);

/* The value of the register in a snapshot, or NULL. */
const decode_value_t *health_find_value(const health_snapshot_t *s, const profile_reg_t *reg);

#endif
