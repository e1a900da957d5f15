/* SPDX-License-Identifier: MIT */
/*
 * test_plan_solve.c - unit tests of the day planner and its greedy baseline (core/plan.h).
 *
 * Small instances whose best plan is worked out by hand (the route, its times, what is left
 * out and why), then seeded random instances where the planner must never be worse than the
 * earliest-deadline baseline and every stop it plans must pass plan_check() against the rest
 * of its engineer's day: an independent check of the planner's own feasibility rules.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "plan.h"

#define MON      1795381200LL /* Mon 23 Nov 2026 00:00 +03:00 */
#define H        3600LL
#define MIN      60LL
#define MSK      (3 * 3600)
#define AT(h, m) (MON + (h)*H + (m)*MIN)

static const char *const skills[] = {"turnstiles", "readers", "firmware", "commissioning"};
static const char *const regions[] = {"Centre", "North", "South"};

/* Places 0 home H, 1 A, 2 B, 3 C (minutes, asymmetric), 4 home G far from all.
 * The six orders of A, B, C from H and back cost 60 (A C B), 64, 66, 67, 85, 94 min. */
#define M(x) ((x)*60)
static const int32_t table[5 * 5] = {
    M(0),  M(10), M(25), M(30), M(90), /* H */
    M(12), M(0),  M(12), M(20), M(90), /* A */
    M(22), M(14), M(0),  M(9),  M(5),  /* B */
    M(35), M(21), M(8),  M(0),  M(90), /* C */
    M(90), M(90), M(5),  M(90), M(0),  /* G */
};

static const plan_model_t model = {
    .skill_names = skills,
    .n_skills = 4,
    .region_names = regions,
    .n_regions = 3,
    .table = table,
    .table_n = 5,
};

static const plan_interval_t day_shift[] = {{AT(9, 0), AT(18, 0)}};

static plan_job_t job(const char *name, int place, int64_t dur_min)
{
    plan_job_t j = {
        .name = name,
        .site_name = name,
        .place = place,
        .region = -1,
        .duration = dur_min * MIN,
        .window_start = PLAN_NO_TIME,
        .window_end = PLAN_NO_TIME,
        .priority = 3,
        .sla_due = PLAN_NO_TIME,
    };
    return j;
}

static plan_engineer_t engineer(const char *name, int home_place)
{
    plan_engineer_t e = {
        .name = name,
        .skills = ~(uint64_t)0,
        .home_place = home_place,
        .shifts = day_shift,
        .n_shifts = 1,
    };
    return e;
}

static const plan_options_t small_opts = {.seed = 7, .max_iterations = 200};

static void render(const plan_reason_t *r, char *buf, size_t size)
{
    int n = plan_reason_format(&model, r, MSK, buf, size);
    assert_true(n > 0 && (size_t)n < size);
}

/* ---- Hand-solved instances --------------------------------------------------------------- */

static void test_best_order(void **state)
{
    (void)state;
    plan_job_t jobs[3] = {job("A", 1, 30), job("B", 2, 30), job("C", 3, 30)};
    plan_engineer_t e = engineer("Petrov", 0);
    plan_problem_t p = {&model, &e, 1, jobs, 3, 0};
    plan_result_t *res = NULL;

    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_non_null(res);
    assert_int_equal(res->n_routes, 1);
    assert_int_equal(res->n_unassigned, 0);
    assert_int_equal(res->lateness, 0);
    /* H -> A -> C -> B -> H: 10 + 20 + 8 + 22 = 60 min. */
    assert_int_equal(res->travel, 60 * MIN);
    const plan_route_t *r = &res->routes[0];
    assert_int_equal(r->n_stops, 3);
    const size_t order[3] = {0, 2, 1};
    /* A 09:10-09:40, C 10:00-10:30, B 10:38-11:08 */
    const int64_t start[3] = {AT(9, 10), AT(10, 0), AT(10, 38)};
    const int64_t travel[3] = {10 * MIN, 20 * MIN, 8 * MIN};
    for (size_t i = 0; i < 3; i++) {
        assert_false(r->stops[i].fixed);
        assert_int_equal(r->stops[i].index, order[i]);
        assert_true(r->stops[i].start == start[i]);
        assert_true(r->stops[i].arrival == start[i]);
        assert_true(r->stops[i].end == start[i] + 30 * MIN);
        assert_int_equal(r->stops[i].travel, travel[i]);
        assert_int_equal(r->stops[i].lateness, 0);
    }
    plan_result_free(res);
}

static void test_deadline_first(void **state)
{
    (void)state;
    /* From H, B is nearer than C's 30 min... but C is due 10:00: only C first is on time
     * (09:30-10:00). Then B: 10:08-10:38. Any other order is late. */
    plan_job_t jobs[2] = {job("B", 2, 30), job("C", 3, 30)};
    jobs[1].sla_due = AT(10, 0);
    plan_engineer_t e = engineer("Petrov", 0);
    plan_problem_t p = {&model, &e, 1, jobs, 2, 0};
    plan_result_t *res = NULL, *base = NULL;

    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->lateness, 0);
    assert_int_equal(res->n_late, 0);
    assert_int_equal(res->routes[0].stops[0].index, 1);
    assert_true(res->routes[0].stops[0].end == AT(10, 0));
    /* 30 + 8 + 22 */
    assert_int_equal(res->travel, 60 * MIN);

    /* The baseline takes C first too (earliest deadline), so the same here. */
    assert_int_equal(plan_greedy(&p, &base), 0);
    assert_int_equal(base->lateness, 0);
    assert_int_equal(base->routes[0].stops[0].index, 1);
    plan_result_free(base);

    /* Due 09:50 cannot be met: 10 min late, and it is reported on the stop. */
    jobs[1].sla_due = AT(9, 50);
    plan_result_free(res);
    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->lateness, 10 * MIN);
    assert_int_equal(res->n_late, 1);
    assert_int_equal(res->routes[0].stops[0].lateness, 10 * MIN);
    plan_result_free(res);
}

static void test_two_engineers(void **state)
{
    (void)state;
    /* B is 5 min from G's home, 25 min from H's; A is 10 min from H, 90 from G.
     * Best: H does A (10 + 12), G does B (5 + 5): 32 min. */
    plan_job_t jobs[2] = {job("A", 1, 60), job("B", 2, 60)};
    plan_engineer_t e[2] = {engineer("Petrov", 0), engineer("Ivanov", 4)};
    plan_problem_t p = {&model, e, 2, jobs, 2, 0};
    plan_result_t *res = NULL;

    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->travel, 32 * MIN);
    assert_int_equal(res->routes[0].n_stops, 1);
    assert_int_equal(res->routes[0].stops[0].index, 0);
    assert_int_equal(res->routes[1].n_stops, 1);
    assert_int_equal(res->routes[1].stops[0].index, 1);
    assert_true(res->routes[1].stops[0].start == AT(9, 5));
    plan_result_free(res);
}

static void test_windows_and_bookings(void **state)
{
    (void)state;
    /* Petrov has a booking at C 11:00-12:00 that stays. A must be done 13:00-15:00, B
     * before 11:00 (window end). Best: H -> B 09:25-10:25 -> C (booking, 9 min: arrival
     * 10:34) -> A (21 min) 13:00-14:00 (waits) -> H 12 min. Travel 25 + 9 + 21 + 12. */
    plan_job_t booked = job("C-1", 3, 60);
    plan_booking_t book[] = {{&booked, AT(11, 0)}};
    plan_job_t jobs[2] = {job("A", 1, 60), job("B", 2, 60)};
    jobs[0].window_start = AT(13, 0);
    jobs[0].window_end = AT(15, 0);
    jobs[1].window_end = AT(11, 0);
    plan_engineer_t e = engineer("Petrov", 0);
    e.bookings = book;
    e.n_bookings = 1;
    plan_problem_t p = {&model, &e, 1, jobs, 2, 0};
    plan_result_t *res = NULL;

    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->n_unassigned, 0);
    const plan_route_t *r = &res->routes[0];
    assert_int_equal(r->n_stops, 3);
    assert_int_equal(r->stops[0].index, 1);
    assert_true(r->stops[0].start == AT(9, 25));
    assert_true(r->stops[1].fixed);
    assert_int_equal(r->stops[1].index, 0);
    assert_true(r->stops[1].start == AT(11, 0));
    assert_true(r->stops[1].arrival == AT(10, 34));
    assert_int_equal(r->stops[2].index, 0);
    assert_true(r->stops[2].arrival == AT(12, 21));
    assert_true(r->stops[2].start == AT(13, 0));
    assert_int_equal(res->travel, (25 + 9 + 21 + 12) * MIN);
    plan_result_free(res);
}

static void test_unassigned_reasons(void **state)
{
    (void)state;
    /* J-1 needs commissioning (nobody has it); J-2 is in North (Petrov serves Centre);
     * J-3 needs 3 h inside 09:00-14:00 but Petrov is away 10:00-12:00; J-4 (at B) and J-5 (at C),
     * an hour each, both need 12:00-14:00: after the absence Petrov starts from home, so
     * either order runs past 14:00 (12:30-13:30 at C, then B 13:38-14:38). J-5 is
     * priority 1 and gets the slot, J-4 has no room. */
    plan_job_t jobs[5] = {job("J-1", 1, 60), job("J-2", 1, 60), job("J-3", 1, 180),
                          job("J-4", 2, 60), job("J-5", 3, 60)};
    jobs[0].skills = 1u << 3;
    jobs[1].region = 1;
    jobs[2].window_start = AT(9, 0);
    jobs[2].window_end = AT(14, 0);
    jobs[3].window_start = jobs[4].window_start = AT(12, 0);
    jobs[3].window_end = jobs[4].window_end = AT(14, 0);
    jobs[3].priority = 5;
    jobs[4].priority = 1;
    const int centre[] = {0};
    const plan_absence_t away[] = {{AT(10, 0), AT(12, 0), "leave"}};
    plan_engineer_t e = engineer("Petrov", 0);
    e.skills = 0x7;
    e.regions = centre;
    e.n_regions = 1;
    e.absences = away;
    e.n_absences = 1;
    plan_problem_t p = {&model, &e, 1, jobs, 5, 0};
    plan_result_t *res = NULL;
    char buf[256];

    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->n_unassigned, 4);
    assert_int_equal(res->routes[0].n_stops, 1);
    assert_int_equal(res->routes[0].stops[0].index, 4);

    assert_int_equal(res->unassigned[0].job, 0);
    assert_int_equal(res->unassigned[0].reason.code, PLAN_R_NOBODY_SKILLED);
    render(&res->unassigned[0].reason, buf, sizeof(buf));
    assert_string_equal(buf, "no engineer has the commissioning skill");

    assert_int_equal(res->unassigned[1].reason.code, PLAN_R_NOBODY_REGION);
    render(&res->unassigned[1].reason, buf, sizeof(buf));
    assert_string_equal(buf, "no engineer with the skills of job J-2 serves region North");

    assert_int_equal(res->unassigned[2].reason.code, PLAN_R_NOBODY_SHIFT);
    render(&res->unassigned[2].reason, buf, sizeof(buf));
    assert_string_equal(buf, "no suitable engineer works long enough during the window "
                             "Mon 09:00-14:00 for job J-3 (3 h)");

    assert_int_equal(res->unassigned[3].job, 3);
    assert_int_equal(res->unassigned[3].reason.code, PLAN_R_NO_ROOM);
    render(&res->unassigned[3].reason, buf, sizeof(buf));
    assert_string_equal(buf, "the suitable engineers' days are full during the window "
                             "Mon 12:00-14:00 of job J-4");
    plan_result_free(res);
}

static void test_nobody_has_all_skills(void **state)
{
    (void)state;
    plan_job_t j = job("J-1", 1, 60);
    j.skills = 0x3; /* turnstiles and readers */
    plan_engineer_t e[2] = {engineer("Petrov", 0), engineer("Ivanov", 4)};
    e[0].skills = 0x1;
    e[1].skills = 0x2;
    plan_problem_t p = {&model, e, 2, &j, 1, 0};
    plan_result_t *res = NULL;
    char buf[256];
    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->n_unassigned, 1);
    render(&res->unassigned[0].reason, buf, sizeof(buf));
    assert_string_equal(buf, "no engineer has all the skills of job J-1 (turnstiles and readers)");
    plan_result_free(res);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    plan_job_t j = job("J-1", 1, 60);
    plan_engineer_t e = engineer("Petrov", 0);
    plan_problem_t p = {&model, &e, 1, &j, 1, 0};
    plan_result_t *res = (plan_result_t *)&p;
    assert_int_equal(plan_solve(NULL, NULL, &res), ACS_EINVAL);
    assert_null(res);
    assert_int_equal(plan_solve(&p, NULL, NULL), ACS_EINVAL);
    j.duration = 0;
    assert_int_equal(plan_solve(&p, NULL, &res), ACS_EINVAL);
    assert_int_equal(plan_greedy(&p, &res), ACS_EINVAL);
    j.duration = 60;
    j.name = NULL;
    assert_int_equal(plan_solve(&p, NULL, &res), ACS_EINVAL);
    plan_result_free(NULL);

    /* Nothing to plan: empty routes. */
    p.n_jobs = 0;
    assert_int_equal(plan_solve(&p, NULL, &res), 0);
    assert_int_equal(res->n_routes, 1);
    assert_int_equal(res->routes[0].n_stops, 0);
    assert_int_equal(res->travel, 0);
    plan_result_free(res);
}

static void test_validate_messages(void **state)
{
    (void)state;
    plan_job_t j = job("J-7", 1, 60);
    plan_engineer_t e = engineer("Petrov", 0);
    plan_problem_t p = {&model, &e, 1, &j, 1, 0};
    char buf[256];
    assert_int_equal(plan_problem_validate(&p, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
    j.duration = 0;
    assert_int_equal(plan_problem_validate(&p, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "job J-7 has duration 0 s: give it a positive duration in seconds");
    j.duration = 60;
    j.window_start = AT(12, 0);
    j.window_end = AT(11, 0);
    assert_int_equal(plan_problem_validate(&p, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "the window of job J-7 ends before it starts: swap its ends or "
                             "leave one open (PLAN_NO_TIME)");
    j.window_end = PLAN_NO_TIME;
    const plan_interval_t backwards[] = {{AT(18, 0), AT(9, 0)}};
    e.shifts = backwards;
    assert_int_equal(plan_problem_validate(&p, buf, sizeof(buf)), ACS_EINVAL);
    assert_string_equal(buf, "shift 0 of Petrov ends before it starts: give shifts as [start, "
                             "end) in UTC seconds");
    assert_int_equal(plan_problem_validate(&p, NULL, 0), ACS_EINVAL);
    assert_int_equal(plan_problem_validate(NULL, buf, sizeof(buf)), ACS_EINVAL);
}

static void test_conflicting_bookings(void **state)
{
    (void)state;
    /* Petrov's two bookings overlap (the calendar is already wrong): nothing is added to his
     * day, which is shown as it is; the job goes to Ivanov although Petrov is nearer. */
    plan_job_t b1 = job("B-1", 1, 120), b2 = job("B-2", 2, 60);
    plan_booking_t book[] = {{&b1, AT(10, 0)}, {&b2, AT(11, 0)}};
    plan_job_t j = job("J-1", 1, 30);
    plan_engineer_t e[2] = {engineer("Petrov", 0), engineer("Ivanov", 4)};
    e[0].bookings = book;
    e[0].n_bookings = 2;
    plan_problem_t p = {&model, e, 2, &j, 1, 0};
    plan_result_t *res = NULL;
    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->n_unassigned, 0);
    assert_int_equal(res->routes[0].n_stops, 2);
    assert_true(res->routes[0].stops[0].fixed && res->routes[0].stops[1].fixed);
    assert_true(res->routes[0].stops[0].start == AT(10, 0));
    assert_true(res->routes[0].stops[1].start == AT(11, 0));
    assert_int_equal(res->routes[1].n_stops, 1);
    plan_result_free(res);
}

static void test_next_day_and_absence(void **state)
{
    (void)state;
    /* Monday is taken by a booking from 09:00 to 18:00, so A (due Monday) goes to Tuesday
     * 09:10-09:40, 15 h 40 min after its deadline (Monday 18:00). B must be done
     * Tuesday 12:00-14:00 and Petrov is away 10:00-12:00: he is back at 12:00, at A's
     * site, 12 min from B (travelling during the absence is his affair), so B is 12:00. */
    plan_job_t all_day = job("B-0", 2, 9 * 60);
    plan_booking_t book[] = {{&all_day, AT(9, 0)}};
    const plan_interval_t two_days[] = {{AT(9, 0), AT(18, 0)}, {AT(24 + 9, 0), AT(24 + 18, 0)}};
    const plan_absence_t away[] = {{AT(24 + 10, 0), AT(24 + 12, 0), "training"}};
    plan_job_t jobs[2] = {job("A", 1, 30), job("B", 2, 60)};
    jobs[0].sla_due = AT(18, 0);
    jobs[1].window_start = AT(24 + 12, 0);
    jobs[1].window_end = AT(24 + 14, 0);
    plan_engineer_t e = engineer("Petrov", 0);
    e.shifts = two_days;
    e.n_shifts = 2;
    e.absences = away;
    e.n_absences = 1;
    e.bookings = book;
    e.n_bookings = 1;
    plan_problem_t p = {&model, &e, 1, jobs, 2, 0};
    plan_result_t *res = NULL;
    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->n_unassigned, 0);
    const plan_route_t *r = &res->routes[0];
    assert_int_equal(r->n_stops, 3);
    assert_true(r->stops[0].fixed);
    assert_int_equal(r->stops[1].index, 0);
    assert_true(r->stops[1].start == AT(24 + 9, 10));
    assert_int_equal(r->stops[1].lateness, 15 * H + 40 * MIN); /* ends 09:40 */
    assert_int_equal(r->stops[2].index, 1);
    assert_true(r->stops[2].arrival == AT(24 + 9, 52));
    assert_true(r->stops[2].start == AT(24 + 12, 0));
    assert_int_equal(r->stops[2].travel, 12 * MIN);
    /* Monday: 25 to B-0's site, 22 back; Tuesday: 10 to A, 12 to B, 22 home. */
    assert_int_equal(res->travel, (25 + 22 + 10 + 12 + 22) * MIN);
    plan_result_free(res);
}

static void test_night_shift(void **state)
{
    (void)state;
    /* A shift from 22:00 to 06:00: a 3 h job fits at 22:10-01:10. */
    const plan_interval_t night[] = {{AT(22, 0), AT(24 + 6, 0)}};
    plan_job_t j = job("A", 1, 180);
    plan_engineer_t e = engineer("Petrov", 0);
    e.shifts = night;
    plan_problem_t p = {&model, &e, 1, &j, 1, 0};
    plan_result_t *res = NULL;
    assert_int_equal(plan_solve(&p, &small_opts, &res), 0);
    assert_int_equal(res->routes[0].n_stops, 1);
    assert_true(res->routes[0].stops[0].start == AT(22, 10));
    plan_result_free(res);
}

/* ---- Random instances -------------------------------------------------------------------- */

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

#define R_JOBS 14
#define R_ENGS 3

typedef struct {
    plan_job_t jobs[R_JOBS];
    plan_job_t booked[R_ENGS][2];
    plan_booking_t books[R_ENGS][2];
    plan_engineer_t engs[R_ENGS];
    plan_interval_t shifts[R_ENGS][2];
    plan_absence_t absences[R_ENGS][1];
    int regions[R_ENGS][2];
    char names[R_JOBS][8];
    plan_model_t model;
    plan_problem_t p;
} instance_t;

/* Moscow-like: sites within ~30 km, two days of shifts, bookings, absences, windows, SLAs. */
static void make_instance(instance_t *in, uint64_t seed)
{
    memset(in, 0, sizeof(*in));
    uint64_t s = seed;
    in->model = model;
    in->model.table = NULL;
    in->model.table_n = 0;
    in->model.speed_kmh = 30;
    for (size_t i = 0; i < R_JOBS; i++) {
        plan_job_t *j = &in->jobs[i];
        snprintf(in->names[i], sizeof(in->names[i]), "J-%zu", i);
        *j = job(in->names[i], -1, 30 + (int64_t)(lcg(&s) % 4) * 30);
        j->site.lat = 55.6 + (double)(lcg(&s) % 300) / 1000.0;
        j->site.lon = 37.4 + (double)(lcg(&s) % 400) / 1000.0;
        j->skills = (uint64_t)1 << (lcg(&s) % 4);
        j->region = (int)(lcg(&s) % 4) - 1; /* -1 .. 2 */
        j->priority = 1 + (int)(lcg(&s) % 5);
        int day = (int)(lcg(&s) % 2);
        if (lcg(&s) % 3 == 0) {
            j->window_start = AT(24 * day + 9 + (int64_t)(lcg(&s) % 6), 0);
            j->window_end = j->window_start + (2 + (int64_t)(lcg(&s) % 3)) * H;
        }
        if (lcg(&s) % 2 == 0) {
            j->sla_due = AT(9, 0) + (int64_t)(lcg(&s) % (30 * 60)) * MIN;
        }
    }
    for (size_t e = 0; e < R_ENGS; e++) {
        plan_engineer_t *en = &in->engs[e];
        en->name = e == 0 ? "Petrov" : e == 1 ? "Ivanov" : "Sidorov";
        en->home.lat = 55.6 + (double)(lcg(&s) % 300) / 1000.0;
        en->home.lon = 37.4 + (double)(lcg(&s) % 400) / 1000.0;
        en->home_place = -1;
        en->skills = ((uint64_t)1 << (lcg(&s) % 4)) | ((uint64_t)1 << (lcg(&s) % 4)) |
                     ((uint64_t)1 << (lcg(&s) % 4));
        int start = 8 + (int)(lcg(&s) % 3);
        in->shifts[e][0] = (plan_interval_t){AT(start, 0), AT(start + 9, 0)};
        in->shifts[e][1] = (plan_interval_t){AT(24 + start, 0), AT(24 + start + 9, 0)};
        en->shifts = in->shifts[e];
        en->n_shifts = 2;
        if (lcg(&s) % 2 == 0) {
            int64_t a = AT(10 + (int64_t)(lcg(&s) % 6), 0);
            in->absences[e][0] = (plan_absence_t){a, a + 2 * H, "leave"};
            en->absences = in->absences[e];
            en->n_absences = 1;
        }
        if (lcg(&s) % 2 == 0) {
            in->regions[e][0] = (int)(lcg(&s) % 3);
            in->regions[e][1] = (int)(lcg(&s) % 3);
            en->regions = in->regions[e];
            en->n_regions = 2;
        }
        /* one booking each day, early in the shift (before any absence) */
        for (int d = 0; d < 2; d++) {
            plan_job_t *b = &in->booked[e][d];
            *b = job("B", -1, 60);
            b->name = d == 0 ? "B-mon" : "B-tue";
            b->site.lat = 55.6 + (double)(lcg(&s) % 300) / 1000.0;
            b->site.lon = 37.4 + (double)(lcg(&s) % 400) / 1000.0;
            in->books[e][d].job = b;
            in->books[e][d].start = in->shifts[e][d].start + 5 * H;
        }
        en->bookings = in->books[e];
        en->n_bookings = (lcg(&s) % 3 == 0) ? 0 : 2;
    }
    in->p = (plan_problem_t){&in->model, in->engs, R_ENGS, in->jobs, R_JOBS, 0};
}

static int64_t unassigned_weight(const instance_t *in, const plan_result_t *r)
{
    int64_t w = 0;
    for (size_t i = 0; i < r->n_unassigned; i++) {
        w += 6 - in->jobs[r->unassigned[i].job].priority;
    }
    return w;
}

/* Every planned stop passes plan_check against the engineer's other stops of the route. */
static void validate_plan(const instance_t *in, const plan_result_t *res)
{
    int seen[R_JOBS] = {0};
    int64_t late = 0, travel = 0;
    for (size_t e = 0; e < res->n_routes; e++) {
        const plan_route_t *r = &res->routes[e];
        const plan_engineer_t *en = &in->engs[r->engineer];
        plan_booking_t others[R_JOBS + 4];
        int64_t route_late = 0;
        for (size_t i = 0; i < r->n_stops; i++) {
            const plan_stop_t *st = &r->stops[i];
            if (st->fixed) {
                /* bookings stay where they were */
                assert_true(st->start == en->bookings[st->index].start);
                continue;
            }
            seen[st->index]++;
            size_t n = 0;
            for (size_t k = 0; k < r->n_stops; k++) {
                if (k == i) {
                    continue;
                }
                const plan_stop_t *o = &r->stops[k];
                others[n].job = o->fixed ? en->bookings[o->index].job : &in->jobs[o->index];
                others[n].start = o->start;
                n++;
            }
            plan_engineer_t copy = *en;
            copy.bookings = others;
            copy.n_bookings = n;
            plan_reason_t reasons[8];
            size_t found = 0, refusals = 0;
            const plan_job_t *j = &in->jobs[st->index];
            assert_int_equal(
                plan_check(&in->model, &copy, j, st->start, reasons, 8, &found, &refusals), 0);
            if (refusals != 0) {
                char buf[256];
                plan_reason_format(&in->model, &reasons[0], MSK, buf, sizeof(buf));
                fail_msg("stop %s of %s: %s", j->name, en->name, buf);
            }
            /* The only warning is lateness, and it matches the stop's. */
            if (found == 1) {
                assert_int_equal(reasons[0].code, PLAN_R_SLA_LATE);
                assert_int_equal(reasons[0].travel, st->lateness);
            } else {
                assert_int_equal(st->lateness, 0);
            }
            assert_true(st->end == st->start + j->duration);
            assert_true(st->start >= st->arrival);
            route_late += st->lateness;
        }
        assert_int_equal(route_late, r->lateness);
        late += r->lateness;
        travel += r->travel;
    }
    assert_int_equal(late, res->lateness);
    assert_int_equal(travel, res->travel);
    for (size_t i = 0; i < res->n_unassigned; i++) {
        seen[res->unassigned[i].job]++;
    }
    for (size_t j = 0; j < R_JOBS; j++) {
        assert_int_equal(seen[j], 1); /* each job once: planned or left out */
    }
}

static void test_random_never_worse_than_baseline(void **state)
{
    (void)state;
    instance_t *in = malloc(sizeof(*in));
    assert_non_null(in);
    int strictly_better = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        make_instance(in, seed);
        plan_result_t *res = NULL, *base = NULL;
        plan_options_t opt = {.seed = seed, .max_iterations = 150};
        assert_int_equal(plan_solve(&in->p, &opt, &res), 0);
        assert_int_equal(plan_greedy(&in->p, &base), 0);
        validate_plan(in, res);
        validate_plan(in, base);
        int64_t wu = unassigned_weight(in, res), wb = unassigned_weight(in, base);
        assert_true(wu <= wb);
        if (wu == wb) {
            assert_true(res->lateness <= base->lateness);
            if (res->lateness == base->lateness) {
                assert_true(res->travel <= base->travel);
            }
        }
        strictly_better += wu < wb || res->lateness < base->lateness || res->travel < base->travel;
        plan_result_free(res);
        plan_result_free(base);
    }
    /* The search does find something the baseline does not, on most instances. */
    assert_true(strictly_better >= 20);
    free(in);
}

static void test_deterministic(void **state)
{
    (void)state;
    instance_t *in = malloc(sizeof(*in));
    assert_non_null(in);
    make_instance(in, 99);
    plan_options_t opt = {.seed = 5, .max_iterations = 100};
    plan_result_t *a = NULL, *b = NULL;
    assert_int_equal(plan_solve(&in->p, &opt, &a), 0);
    assert_int_equal(plan_solve(&in->p, &opt, &b), 0);
    assert_int_equal(a->lateness, b->lateness);
    assert_int_equal(a->travel, b->travel);
    assert_int_equal(a->n_unassigned, b->n_unassigned);
    for (size_t e = 0; e < a->n_routes; e++) {
        assert_int_equal(a->routes[e].n_stops, b->routes[e].n_stops);
        for (size_t i = 0; i < a->routes[e].n_stops; i++) {
            assert_int_equal(a->routes[e].stops[i].index, b->routes[e].stops[i].index);
            assert_true(a->routes[e].stops[i].start == b->routes[e].stops[i].start);
        }
    }
    plan_result_free(a);
    plan_result_free(b);
    free(in);
}

static void test_time_limit(void **state)
{
    (void)state;
    /* A limit of 1 ms stops a search of a billion rounds at once, with a valid plan. */
    instance_t *in = malloc(sizeof(*in));
    assert_non_null(in);
    make_instance(in, 3);
    plan_options_t opt = {.seed = 1, .max_iterations = 1000000000u, .time_limit_ms = 1};
    plan_result_t *res = NULL;
    assert_int_equal(plan_solve(&in->p, &opt, &res), 0);
    assert_true(res->iterations < 1000000000u);
    validate_plan(in, res);
    plan_result_free(res);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_best_order),
        cmocka_unit_test(test_deadline_first),
        cmocka_unit_test(test_two_engineers),
        cmocka_unit_test(test_windows_and_bookings),
        cmocka_unit_test(test_unassigned_reasons),
        cmocka_unit_test(test_nobody_has_all_skills),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_validate_messages),
        cmocka_unit_test(test_conflicting_bookings),
        cmocka_unit_test(test_next_day_and_absence),
        cmocka_unit_test(test_night_shift),
        cmocka_unit_test(test_random_never_worse_than_baseline),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_time_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
