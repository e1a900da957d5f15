/* SPDX-License-Identifier: MIT */
/*
 * plan.h - the dispatch planning engine: who can do a job, who should, and a day plan.
 *
 * A pure library (libm only, no I/O, no clock except the planner's optional time limit) that
 * the service calls with data it read from PostgreSQL. Three questions are answered:
 *
 *   plan_check()    may engineer E do job J starting at S? Every violated rule is returned as
 *                   a structured reason (code + parameters) that plan_reason_format() renders
 *                   as a sentence: "Ivanov has no firmware skill".
 *   plan_suggest()  which engineers could do job J, earliest first, each with its sentence.
 *   plan_solve()    a day plan for a set of unassigned jobs over the engineers: routes with
 *                   times, lateness and travel (docs/dispatch.md describes the heuristic);
 *                   plan_greedy() is the earliest-deadline baseline it is measured against.
 *
 * Times are UTC seconds (int64_t) everywhere. Shifts arrive as UTC intervals (the service
 * converts weekly local shifts with PostgreSQL's time zones); sentences show local clock times
 * for a UTC offset that the caller passes. No time zone is parsed here.
 *
 * Ownership: every input struct and string belongs to the caller and must outlive the call.
 * Results are allocated here and released with plan_result_free() / plan_suggestions_free();
 * they name jobs and engineers by index, except reasons (plan_reason_t), which point at the
 * caller's jobs and engineers: render them while those still exist.
 * Errors are the project's ACS_E* codes (acs_error.h): 0 on success, negative on failure.
 */
#ifndef ACS_PLAN_H
#define ACS_PLAN_H

#include <stddef.h>
#include <stdint.h>

/* "No such time": a job without SLA due time or without a time window. */
#define PLAN_NO_TIME INT64_MIN

/* Skills are bits of a uint64_t: bit i is model->skill_names[i]. */
#define PLAN_SKILLS_MAX 64

typedef struct {
    double lat; /* degrees, -90..90 */
    double lon; /* degrees, -180..180 */
} plan_point_t;

typedef struct {
    int64_t start; /* UTC seconds, inclusive */
    int64_t end;   /* UTC seconds, exclusive; end > start */
} plan_interval_t;

/* What is shared by every question: names for sentences and the travel model.
 *
 * Travel from place A to place B: when both carry a table place (>= 0, < table_n) and
 * table[A * table_n + B] >= 0, that many seconds; otherwise the great-circle (haversine)
 * distance times road_factor over speed_kmh, rounded up to whole seconds. The table may be
 * asymmetric; a negative entry means "not in the table". */
typedef struct {
    const char *const *skill_names; /* n_skills names, e.g. "firmware" */
    size_t n_skills;
    const char *const *region_names; /* n_regions names, e.g. "Moscow North" */
    size_t n_regions;
    double speed_kmh;     /* > 0; 0 means the default 40 km/h */
    double road_factor;   /* >= 1; 0 means the default 1.3 (roads are not straight lines) */
    const int32_t *table; /* table_n x table_n seconds, row = from, or NULL */
    size_t table_n;
} plan_model_t;

typedef struct plan_job plan_job_t;

/* A job: a visit, an installation or a commissioning at one site. */
struct plan_job {
    const char *name;      /* shown in sentences, e.g. "J-123"; required */
    const char *id;        /* optional stable id (uuid); equal ids mean the same job */
    const char *site_name; /* e.g. "BC Severny"; NULL reads "its site" */
    plan_point_t site;
    int place;            /* index into the travel table, or -1 */
    int region;           /* index into model->region_names, or -1 for "any engineer" */
    uint64_t skills;      /* every one of these is required */
    int64_t duration;     /* seconds on site, > 0 */
    int64_t window_start; /* work starts no earlier, or PLAN_NO_TIME */
    int64_t window_end;   /* work ends no later, or PLAN_NO_TIME */
    int priority;         /* 1 (most urgent) .. 5, as job.priority in the database */
    int64_t sla_due;      /* the ticket's resolution due time, or PLAN_NO_TIME */
};

/* A job already on an engineer's calendar: it stays where it is. */
typedef struct {
    const plan_job_t *job;
    int64_t start; /* its planned start; its end is start + job->duration */
} plan_booking_t;

typedef struct {
    int64_t start, end; /* UTC, [start, end) */
    const char *kind;   /* "leave", "sick", ...; NULL reads "absence" */
} plan_absence_t;

typedef struct {
    const char *name; /* e.g. "Ivanov"; required */
    uint64_t skills;
    plan_point_t home;  /* home base: each shift starts and ends here */
    int home_place;     /* index into the travel table, or -1 */
    const int *regions; /* region indexes served; n_regions == 0 means every region */
    size_t n_regions;
    const plan_interval_t *shifts; /* UTC, any order, not overlapping */
    size_t n_shifts;
    const plan_absence_t *absences; /* any order, may overlap */
    size_t n_absences;
    const plan_booking_t *bookings; /* the engineer's existing jobs, any order */
    size_t n_bookings;
} plan_engineer_t;

typedef struct {
    const plan_model_t *model;
    const plan_engineer_t *engineers;
    size_t n_engineers;
    const plan_job_t *jobs; /* the jobs to plan (plan_solve) or to place (plan_suggest) */
    size_t n_jobs;
    int64_t now; /* nothing is planned to start earlier (UTC seconds); 0: no such limit */
} plan_problem_t;

/* Check a problem before planning: NULL arrays with counts, jobs and engineers without a
 * name, durations <= 0, intervals that end before they start, more than 8192 places. Returns
 * 0, or ACS_EINVAL with a sentence naming the object and the fix in buf (snprintf
 * conventions; buf may be NULL). plan_solve(), plan_greedy() and plan_suggest() refuse the
 * same problems with ACS_EINVAL. */
int plan_problem_validate(const plan_problem_t *problem, char *buf, size_t size);

/* ---- Travel ---------------------------------------------------------------------------- */

/* Great-circle distance in metres between two points (mean Earth radius 6371.0088 km). */
double plan_haversine_m(plan_point_t a, plan_point_t b);

/* Travel seconds from (a, place_a) to (b, place_b) under the model (see plan_model_t). Never
 * negative. model may be NULL for the defaults without a table. */
int64_t plan_travel_s(const plan_model_t *model, plan_point_t a, int place_a, plan_point_t b,
                      int place_b);

/* ---- Assignment check ------------------------------------------------------------------ */

typedef enum {
    PLAN_R_SKILL,    /* refusal: the engineer lacks skill `skill` */
    PLAN_R_REGION,   /* refusal: the engineer does not serve the job's region */
    PLAN_R_SHIFT,    /* refusal: [start,end) is not inside one shift; `other` = the nearest
                        shift within 12 h, or other.start == PLAN_NO_TIME if none */
    PLAN_R_ABSENCE,  /* refusal: [start,end) meets absence `other` of kind `kind` */
    PLAN_R_OVERLAP,  /* refusal: too close to booking `other_job` at `other`, `travel`
                        seconds between them; `before` says the other job comes first */
    PLAN_R_WINDOW,   /* refusal: [start,end) is not inside the job's window `other` */
    PLAN_R_SLA_LATE, /* warning: ends `travel` seconds after the SLA due time */
    /* Reasons for a job left out of a day plan (engineer is NULL): */
    PLAN_R_NOBODY_SKILLED, /* no engineer has skill `skill` */
    PLAN_R_NOBODY_REGION,  /* nobody with the skills serves the job's region */
    PLAN_R_NOBODY_SHIFT,   /* nobody suitable has a working block as long as the job
                              inside its window */
    PLAN_R_NO_ROOM,        /* suitable engineers work then but their days are full */
    PLAN_R_COUNT
} plan_reason_code_t;

typedef struct {
    plan_reason_code_t code;
    const plan_engineer_t *engineer; /* whom the reason is about (NULL for NOBODY_* / NO_ROOM) */
    const plan_job_t *job;           /* the job being placed */
    int64_t start, end;              /* the proposed interval */
    int skill;                       /* SKILL, NOBODY_SKILLED: the bit number; -1 when each
                                        skill has someone but nobody has them all */
    const plan_job_t *other_job;     /* OVERLAP: the engineer's other job */
    plan_interval_t other;           /* SHIFT, ABSENCE, OVERLAP, WINDOW: the other interval */
    const char *kind;                /* ABSENCE: its kind */
    int64_t travel;                  /* OVERLAP: travel seconds; SLA_LATE: seconds late */
    int before;                      /* OVERLAP: 1 when other_job comes before this job */
} plan_reason_t;

/* Whether a reason forbids the assignment (every code except PLAN_R_SLA_LATE). */
int plan_reason_is_refusal(plan_reason_code_t code);

/* Check that `engineer` may do `job` from `start` to start + job->duration against every rule:
 * skills, region, shifts, absences, the engineer's bookings (time overlap, or too little time
 * for the travel from the booking just before or to the booking just after; a booking of the
 * same job is ignored, so a rescheduling is checked against the rest), the job's window; and
 * warns when it ends after the SLA due time. Reasons come in that order.
 *
 * Writes up to `cap` reasons to `out` and the number found to *n_found (which may exceed cap;
 * out may be NULL when cap is 0). *n_refusals (may be NULL) gets the number of refusals; the
 * assignment is allowed when it is 0.
 * Returns 0, or ACS_EINVAL for a NULL model/engineer/job/n_found or a duration <= 0. */
int plan_check(const plan_model_t *model, const plan_engineer_t *engineer, const plan_job_t *job,
               int64_t start, plan_reason_t *out, size_t cap, size_t *n_found, size_t *n_refusals);

/* Render a reason as one English sentence without a final full stop, clock times shown at
 * `utc_offset` seconds east of UTC:
 *   "Ivanov has no firmware skill"
 *   "10:00-12:00 is outside Petrov's shift (Mon 09:00-18:00)"
 *   "overlaps job J-123 10:30-11:30 plus 25 min travel from BC Severny"
 * Behaves as snprintf: writes at most size bytes including the NUL, returns the length the
 * whole sentence needs (>= size means it was cut), or ACS_EINVAL for a NULL reason. */
int plan_reason_format(const plan_model_t *model, const plan_reason_t *reason, int utc_offset,
                       char *buf, size_t size);

/* ---- Suggestions ----------------------------------------------------------------------- */

typedef struct {
    size_t engineer;  /* index into problem->engineers */
    int64_t start;    /* earliest feasible start (the engineer arrives then) */
    int64_t end;      /* start + duration */
    int64_t travel;   /* seconds from the previous place (a booking or the home base) */
    int64_t sla_left; /* sla_due - start (negative: after the deadline), or PLAN_NO_TIME */
} plan_suggestion_t;

/* Engineers who could do problem->jobs[job] (skills, region, a free gap in a shift with the
 * travel around their bookings, inside the window), ranked by earliest start, then shorter
 * travel, then engineer order. A booking of the job itself is ignored (a move). On success *out is
 * an array of *n_out suggestions (NULL when there are none) that the caller frees with
 * plan_suggestions_free(); on error *out is NULL. Returns 0, ACS_EINVAL (bad arguments or job
 * index), ACS_ENOMEM. */
int plan_suggest(const plan_problem_t *problem, size_t job, plan_suggestion_t **out, size_t *n_out);
void plan_suggestions_free(plan_suggestion_t *suggestions);

/* Render a suggestion, e.g. "Petrov: arrives 10:40 (25 min travel), 1 h 20 min before the
 * resolution deadline; has the firmware skill". Same conventions as plan_reason_format(). */
int plan_suggestion_format(const plan_problem_t *problem, size_t job,
                           const plan_suggestion_t *suggestion, int utc_offset, char *buf,
                           size_t size);

/* ---- Day plan -------------------------------------------------------------------------- */

typedef struct {
    uint64_t seed;           /* the same seed and iteration bound give the same plan */
    unsigned max_iterations; /* ruin-and-recreate rounds; 0 means 2000 */
    unsigned time_limit_ms;  /* 0 means none; when it stops the search first, the plan may
                                differ from run to run */
} plan_options_t;

typedef struct {
    int fixed;       /* 1: an existing booking (index into the engineer's bookings) */
    size_t index;    /* problem->jobs index, or booking index when fixed */
    int64_t arrival; /* earliest arrival on site */
    int64_t start;   /* start of work (>= arrival; later when waiting for a window) */
    int64_t end;
    int64_t travel;   /* seconds from the previous job of the same shift, or from the home
                         base for the first job of a shift */
    int64_t lateness; /* seconds after the SLA due time, 0 if none or on time */
} plan_stop_t;

typedef struct {
    size_t engineer; /* index into problem->engineers */
    plan_stop_t *stops;
    size_t n_stops;
    int64_t travel;   /* all legs including the last one back to the home base */
    int64_t lateness; /* of the planned (not fixed) stops */
} plan_route_t;

typedef struct {
    size_t job;           /* problem->jobs index */
    plan_reason_t reason; /* a PLAN_R_NOBODY_* or PLAN_R_NO_ROOM reason */
} plan_unassigned_t;

typedef struct {
    plan_route_t *routes; /* one per engineer, in problem order */
    size_t n_routes;
    plan_unassigned_t *unassigned;
    size_t n_unassigned;
    int64_t lateness;    /* total of the routes */
    size_t n_late;       /* planned jobs ending after their SLA due time */
    int64_t travel;      /* total of the routes */
    unsigned iterations; /* search rounds done */
    double elapsed_ms;
} plan_result_t;

/* Plan problem->jobs over problem->engineers, leaving every booking where it is. The plan
 * places as many jobs as it can (urgent priorities first), then minimises total SLA lateness,
 * then total travel (docs/dispatch.md). It is never worse by that order than plan_greedy().
 * On success *out holds the plan, freed with plan_result_free(); on error *out is NULL.
 * Returns 0, ACS_EINVAL (a NULL argument, or a problem plan_problem_validate() refuses),
 * ACS_ENOMEM. options may be NULL for the defaults. */
int plan_solve(const plan_problem_t *problem, const plan_options_t *options, plan_result_t **out);

/* The baseline, a dispatcher's greedy rule: jobs in earliest-deadline order (SLA due, else
 * window end, then priority), each put into the free slot of any engineer's calendar where it
 * finishes earliest, without moving a job placed before it. Same contract as plan_solve(). */
int plan_greedy(const plan_problem_t *problem, plan_result_t **out);

/* Free a plan; plan_result_free(NULL) does nothing. */
void plan_result_free(plan_result_t *result);

/* Internal, shared by plan.c and plan_solve.c: whether two jobs are the same one (the same
 * struct, or equal non-NULL ids). */
int plan__same_job(const plan_job_t *a, const plan_job_t *b);

#endif
