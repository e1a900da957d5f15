/* SPDX-License-Identifier: MIT */
/*
 * health.c - findings from decoded values (health.h).
 *
 * Three sources, in this order: the device's own fault bits (the firmware says something is
 * wrong), the profile's health rules over values (we judge a reading: a threshold, a rate
 * between two readings, a counter that went down, a state worth pointing out), and the event
 * log's checksums. Each finding carries the profile's code, severity, title and advice, and
 * one sentence with the register and the value that triggered it, ready for diag_finding.
 */
#include "health.h"

#include "acs_error.h"
#include "errbuf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

size_t health_max_findings(const profile_t *p)
{
    if (p == NULL)
        return 0;
    return p->nfaults + p->nrules + (p->event_log.present ? 1 : 0);
}

const decode_value_t *health_find_value(const health_snapshot_t *s, const profile_reg_t *reg)
{
    for (size_t i = 0; s != NULL && s->values != NULL && reg != NULL && i < s->nvalues; i++) {
        if (s->values[i].reg == reg)
            return &s->values[i];
    }
    return NULL;
}

/* The next finding slot, or NULL when out is full (the finding is still counted). */
static health_finding_t *next(health_finding_t *out, size_t cap, size_t *n)
{
    health_finding_t *f = *n < cap ? &out[*n] : NULL;
    (*n)++;
    if (f != NULL)
        memset(f, 0, sizeof(*f));
    return f;
}

static void from_fault(health_finding_t *f, const profile_fault_t *fault, double value)
{
    f->code = fault->code;
    f->severity = fault->severity;
    f->title = fault->title;
    f->advice = fault->advice;
    f->fault = fault;
    f->reg = fault->reg;
    f->value = value;
}

static void from_rule(health_finding_t *f, const profile_rule_t *rule, double value)
{
    f->code = rule->code;
    f->severity = rule->severity;
    f->title = rule->title;
    f->advice = rule->advice;
    f->rule = rule;
    f->reg = rule->reg;
    f->value = value;
}

/* A limit of a rule, with the register's unit: "11.5 V". */
static void fmt_limit(char *dst, size_t len, double v, const char *unit, const char *per)
{
    snprintf(dst, len, "%.10g%s%s%s", v, unit[0] != '\0' ? " " : "", unit, per);
}

static int eval_fault(const profile_fault_t *fault, const health_snapshot_t *now,
                      health_finding_t *out, size_t cap, size_t *n)
{
    const decode_value_t *v = health_find_value(now, fault->reg);
    if (v == NULL)
        return 0;
    int state;
    if (fault->bit != NULL) {
        if (v->kind != DECODE_BITS)
            return 0;
        state = (int)((v->i >> fault->bit->bit) & 1);
    } else {
        if (v->kind != DECODE_BOOL)
            return 0;
        state = v->i != 0;
    }
    if (state != fault->active_value)
        return 0;
    health_finding_t *f = next(out, cap, n);
    if (f == NULL)
        return 0;
    from_fault(f, fault, v->real);
    if (fault->bit != NULL) {
        char all[DECODE_FORMAT_MAX];
        decode_format(v, all, sizeof(all));
        errbuf_printf(f->message, sizeof(f->message), "%s bit %u (%s) is %s; %s is %s",
                      fault->reg->name, fault->bit->bit, fault->bit->name, state ? "set" : "clear",
                      fault->reg->name, all);
    } else {
        errbuf_printf(f->message, sizeof(f->message), "%s is %s", fault->reg->name,
                      state ? "on" : "off");
    }
    return 0;
}

static void eval_threshold(const profile_rule_t *rule, const decode_value_t *v,
                           health_finding_t *out, size_t cap, size_t *n)
{
    double x = v->real;
    const char *side;
    double limit;
    if (isnan(x))
        return;
    if (rule->has_min && x < rule->min) {
        side = "below";
        limit = rule->min;
    } else if (rule->has_max && x > rule->max) {
        side = "above";
        limit = rule->max;
    } else {
        return;
    }
    health_finding_t *f = next(out, cap, n);
    if (f == NULL)
        return;
    from_rule(f, rule, x);
    char val[DECODE_FORMAT_MAX], lim[64];
    decode_format(v, val, sizeof(val));
    fmt_limit(lim, sizeof(lim), limit, rule->reg->unit, "");
    errbuf_printf(f->message, sizeof(f->message), "%s is %s, %s %s", rule->reg->name, val, side,
                  lim);
}

static void eval_rate(const profile_rule_t *rule, const decode_value_t *v0,
                      const decode_value_t *v1, double seconds, health_finding_t *out, size_t cap,
                      size_t *n)
{
    double a = v0->real, b = v1->real;
    if (isnan(a) || isnan(b) || b < a)
        return; /* a counter that went down is a reset, not a rate: the decrease rule's job */
    double rate = (b - a) / (seconds / 3600.0);
    const char *side;
    double limit;
    if (rule->has_min && rate < rule->min) {
        side = "below";
        limit = rule->min;
    } else if (rule->has_max && rate > rule->max) {
        side = "above";
        limit = rule->max;
    } else {
        return;
    }
    health_finding_t *f = next(out, cap, n);
    if (f == NULL)
        return;
    from_rule(f, rule, rate);
    char lim[64];
    fmt_limit(lim, sizeof(lim), limit, rule->reg->unit, " per hour");
    errbuf_printf(f->message, sizeof(f->message),
                  "%s rose by %.10g in %.10g s: %.4g per hour, %s %s", rule->reg->name, b - a,
                  seconds, rate, side, lim);
}

static void eval_decrease(const profile_rule_t *rule, const decode_value_t *v0,
                          const decode_value_t *v1, health_finding_t *out, size_t cap, size_t *n)
{
    if (!(v1->real < v0->real))
        return;
    health_finding_t *f = next(out, cap, n);
    if (f == NULL)
        return;
    from_rule(f, rule, v1->real);
    char a[DECODE_FORMAT_MAX], b[DECODE_FORMAT_MAX];
    decode_format(v0, a, sizeof(a));
    decode_format(v1, b, sizeof(b));
    errbuf_printf(f->message, sizeof(f->message), "%s went down from %s to %s", rule->reg->name, a,
                  b);
}

static void eval_equals(const profile_rule_t *rule, const decode_value_t *v, health_finding_t *out,
                        size_t cap, size_t *n)
{
    if (v->kind == DECODE_STRING || v->kind == DECODE_REAL || v->i != rule->equals)
        return;
    health_finding_t *f = next(out, cap, n);
    if (f == NULL)
        return;
    from_rule(f, rule, v->real);
    char val[DECODE_FORMAT_MAX];
    decode_format(v, val, sizeof(val));
    errbuf_printf(f->message, sizeof(f->message), "%s is %s", rule->reg->name, val);
}

int health_evaluate(const profile_t *p, const health_snapshot_t *now,
                    const health_snapshot_t *before, health_finding_t *out, size_t cap, size_t *n)
{
    if (n != NULL)
        *n = 0;
    if (p == NULL || now == NULL || n == NULL || (out == NULL && cap > 0))
        return ACS_EINVAL;
    for (size_t i = 0; i < p->nfaults; i++)
        eval_fault(&p->faults[i], now, out, cap, n);
    double seconds = before != NULL ? now->at - before->at : 0;
    for (size_t i = 0; i < p->nrules; i++) {
        const profile_rule_t *rule = &p->rules[i];
        const decode_value_t *v1 = health_find_value(now, rule->reg);
        if (v1 == NULL)
            continue;
        const decode_value_t *v0 = NULL;
        if (rule->kind == PROFILE_RULE_RATE || rule->kind == PROFILE_RULE_DECREASE) {
            if (before == NULL || !(seconds > 0))
                continue;
            v0 = health_find_value(before, rule->reg);
            if (v0 == NULL)
                continue;
        }
        switch (rule->kind) {
        case PROFILE_RULE_THRESHOLD:
            eval_threshold(rule, v1, out, cap, n);
            break;
        case PROFILE_RULE_RATE:
            eval_rate(rule, v0, v1, seconds, out, cap, n);
            break;
        case PROFILE_RULE_DECREASE:
            eval_decrease(rule, v0, v1, out, cap, n);
            break;
        case PROFILE_RULE_EQUALS:
            eval_equals(rule, v1, out, cap, n);
            break;
        }
    }
    return *n > cap ? ACS_ETOOBIG : 0;
}

int health_check_events(const profile_t *p, const decode_event_t *events, size_t nevents,
                        health_finding_t *out, size_t cap, size_t *n)
{
    if (p == NULL || n == NULL || (events == NULL && nevents > 0) || (out == NULL && cap > 0))
        return ACS_EINVAL;
    const profile_event_log_t *el = &p->event_log;
    size_t bad = 0;
    const decode_event_t *first = NULL;
    for (size_t i = 0; i < nevents; i++) {
        if (events[i].status == DECODE_EVENT_CORRUPT) {
            if (first == NULL)
                first = &events[i];
            bad++;
        }
    }
    if (bad == 0 || !el->present)
        return *n > cap ? ACS_ETOOBIG : 0;
    health_finding_t *f = next(out, cap, n);
    if (f != NULL) {
        f->code = el->corrupt_code;
        f->severity = el->corrupt_severity;
        f->title = el->corrupt_title;
        f->advice = el->corrupt_advice;
        f->value = (double)bad;
        errbuf_printf(f->message, sizeof(f->message),
                      "%zu of %zu event log records failed their checksum (first: read 0x%04X, "
                      "computed 0x%04X)",
                      bad, nevents, first->checksum_read, first->checksum_computed);
    }
    return *n > cap ? ACS_ETOOBIG : 0;
}
