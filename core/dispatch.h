/* SPDX-License-Identifier: MIT */
/*
 * dispatch.h - the bridge between PostgreSQL and the planning engine (plan.h): turns the
 * problem document that acs_dispatch_problem() (db/migrations/0011_dispatch.sql) renders into
 * plan.h structures, and renders the engine's answers back as JSON for the API.
 *
 * Nothing here does I/O or touches the event loop, so the plan endpoint may parse, solve and
 * render on a worker thread. Times are UTC epoch seconds as in plan.h; UTC offsets come from
 * PostgreSQL (acs_utc_offsets()) as lists of [epoch, seconds east of UTC] — no time zone is
 * parsed here.
 */
#ifndef ACS_DISPATCH_H
#define ACS_DISPATCH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* From `at` (UTC seconds) on, the zone is `offset` seconds east of UTC. */
typedef struct {
    int64_t at;
    int offset;
} dispatch_offset_t;

typedef struct {
    const char *id;        /* the engineer's uuid */
    const char *time_zone; /* e.g. "Europe/Moscow" */
    int has_shifts;        /* 0: no weekly shift at all (see DISPATCH_NO_SHIFT_UNBOUNDED) */
    int has_home;
    const dispatch_offset_t *offsets;
    size_t n_offsets;
} dispatch_engineer_info_t;

/* A parsed problem: every plan.h structure and the strings they point at live as long as it. */
typedef struct {
    plan_model_t model;
    plan_problem_t problem; /* model, engineers, jobs, now */
    plan_engineer_t *engineers;
    dispatch_engineer_info_t *info; /* parallel to engineers */
    size_t n_engineers;
    plan_job_t *jobs;
    const char **job_site_ids; /* parallel to jobs */
    const char **job_status;   /* parallel to jobs */
    size_t n_jobs;
    const dispatch_offset_t *offsets; /* the caller's zone */
    size_t n_offsets;
    int64_t from, to, now;
    void *store; /* everything else, released by dispatch_problem_free() */
} dispatch_problem_t;

/* Parse options. */
#define DISPATCH_NO_SHIFT_UNBOUNDED                                                                \
    1u                        /* an engineer without any weekly shift works always                 \
                                 (assignments are then not shift-checked) */
#define DISPATCH_NEED_HOME 2u /* leave out engineers without a home base */

/* Parse the text of acs_dispatch_problem(). The travel model's speed and road factor come from
 * FIELDD_TRAVEL_SPEED_KMH and FIELDD_TRAVEL_ROAD_FACTOR when set (else plan.h's defaults).
 * A site or home base without coordinates is a place at travel 0 from every other one.
 * Returns 0 and *out (free with dispatch_problem_free()), or ACS_EINVAL / ACS_ENOMEM with
 * *out = NULL and a sentence in err (more than 64 skills, a malformed document). */
int dispatch_problem_parse(const char *text, size_t len, unsigned flags, dispatch_problem_t **out,
                           char *err, size_t errlen);

/* NULL is a no-op. */
void dispatch_problem_free(dispatch_problem_t *p);

/* The offset in force at t in a list from PostgreSQL; 0 for an empty list. */
int dispatch_offset_at(const dispatch_offset_t *offsets, size_t n, int64_t t);

/* The engineer's offset at t, or the caller's when engineer is NULL. */
int dispatch_problem_offset(const dispatch_problem_t *p, const plan_engineer_t *engineer,
                            int64_t t);

/* Index of the engineer/job with this uuid, or -1. */
long dispatch_engineer_index(const dispatch_problem_t *p, const char *id);
long dispatch_job_index(const dispatch_problem_t *p, const char *id);

/* "2026-11-25T07:00:00Z" into buf (>= 21 bytes). */
void dispatch_format_time(int64_t t, char *buf, size_t size);

/* The API's name of a reason code: "skill", "overlap", "nobody_shift", ... */
const char *dispatch_reason_code(plan_reason_code_t code);

/* {"code": ..., "sentence": ...} for a reason, rendered at its engineer's offset at the
 * reason's start (the caller's zone for a reason about nobody). New reference, NULL on ENOMEM. */
json_t *dispatch_reason_json(const dispatch_problem_t *p, const plan_reason_t *reason);

/* Solve p->problem with options and render the preview (docs/dispatch.md, "The day plan") as
 * a JSON text allocated with malloc (the caller frees it). Pure: safe on a worker thread.
 * Returns 0, or a negative ACS_E* code with a sentence in err. */
int dispatch_plan_render(const dispatch_problem_t *p, const plan_options_t *options, char **out,
                         char *err, size_t errlen);

#endif
