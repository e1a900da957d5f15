/* SPDX-License-Identifier: MIT */
/*
 * test_plan.c - unit tests of the planning engine's travel, checks and suggestions
 * (core/plan.h).
 *
 * Every expected figure is worked out by hand in the comment beside it. The day is Monday
 * 23 November 2026 in Moscow (UTC+3): local midnight is 1795381200 UTC seconds; sentences are
 * rendered at +3 h so they read in local time. Travel in most cases comes from a small table,
 * so that minutes are exact. The planner has its own file, test_plan_solve.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "acs_error.h"
#include "plan.h"

#define MON      1795381200LL /* Mon 23 Nov 2026 00:00 +03:00 */
#define H        3600LL
#define MIN      60LL
#define MSK      (3 * 3600)
#define AT(h, m) (MON + (h)*H + (m)*MIN) /* local clock time on Monday */

enum { SK_TURNSTILES, SK_READERS, SK_FIRMWARE, SK_COMMISSIONING };
#define BIT(s) ((uint64_t)1 << (s))

static const char *const skills[] = {"turnstiles", "readers", "firmware", "commissioning"};
static const char *const regions[] = {"Centre", "North", "South"};

/* Places: 0 Site X, 1 Site Y, 2 Site Z, 3 Petrov's home, 4 Ivanov's home.
 * X-Y 25 min, X-Z 40 min, Y-Z 30 min (one way only: Z->Y is 35 min), homes 25 min from X. */
static const int32_t table[5 * 5] = {
    /*        X     Y     Z   homeP homeI */
    /* X */ 0,    1500, 2400, 1500, 1500,
    /* Y */ 1500, 0,    1800, 600,  1200,
    /* Z */ 2400, 2100, 0,    1800, 1800,
    /* P */ 1500, 600,  1800, 0,    900,
    /* I */ 1500, 1200, 1800, 900,  0,
};

static const plan_model_t model = {
    .skill_names = skills,
    .n_skills = 4,
    .region_names = regions,
    .n_regions = 3,
    .speed_kmh = 40,
    .road_factor = 1.3,
    .table = table,
    .table_n = 5,
};

static plan_job_t job(const char *name, const char *site, int place, int64_t dur_min)
{
    plan_job_t j = {
        .name = name,
        .site_name = site,
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

static const plan_interval_t petrov_shifts[] = {
    {AT(9, 0), AT(18, 0)},           /* Mon */
    {AT(24 + 9, 0), AT(24 + 18, 0)}, /* Tue */
};

static plan_engineer_t engineer(const char *name, uint64_t sk, int home_place)
{
    plan_engineer_t e = {
        .name = name,
        .skills = sk,
        .home_place = home_place,
        .shifts = petrov_shifts,
        .n_shifts = 2,
    };
    return e;
}

/* Renders reason i and compares it with the expected sentence. */
static void assert_reason(const plan_reason_t *r, const char *expected)
{
    char buf[256];
    int n = plan_reason_format(&model, r, MSK, buf, sizeof(buf));
    assert_true(n > 0 && (size_t)n < sizeof(buf));
    assert_string_equal(buf, expected);
}

/* ---- Travel ------------------------------------------------------------------------------ */

static void test_haversine(void **state)
{
    (void)state;
    /* One degree of longitude on the equator: 6371008.8 m * pi / 180 = 111195.08 m. */
    plan_point_t a = {0, 0}, b = {0, 1};
    assert_true(fabs(plan_haversine_m(a, b) - 111195.08) < 0.05);
    assert_true(plan_haversine_m(a, a) == 0.0);
    /* Moscow (Red Square) to St Petersburg (Palace Square): 633.02 km. */
    plan_point_t msk = {55.7558, 37.6173}, spb = {59.9343, 30.3351};
    assert_true(fabs(plan_haversine_m(msk, spb) - 633021.06) < 1.0);
    assert_true(fabs(plan_haversine_m(msk, spb) - plan_haversine_m(spb, msk)) < 1e-6);
}

static void test_travel_speed(void **state)
{
    (void)state;
    plan_point_t a = {0, 0}, b = {0, 1};
    /* 111195.08 m * 1.3 / (40 km/h = 11.111 m/s) = 13009.8 s, rounded up. */
    assert_int_equal(plan_travel_s(NULL, a, -1, b, -1), 13010);
    plan_model_t m = {.speed_kmh = 60, .road_factor = 1.0};
    /* 111195.08 / 16.667 = 6671.7 s */
    assert_int_equal(plan_travel_s(&m, a, -1, b, -1), 6672);
    /* 0.1 degree of latitude in Moscow: 11119.5 m * 1.3 / 11.111 = 1300.98 s */
    plan_point_t p = {55.7558, 37.6173}, q = {55.8558, 37.6173};
    assert_int_equal(plan_travel_s(&model, p, -1, q, -1), 1301);
    assert_int_equal(plan_travel_s(&model, p, -1, p, -1), 0);
}

static void test_travel_table(void **state)
{
    (void)state;
    plan_point_t a = {0, 0}, b = {0, 1};
    /* Both places known: the table, in its direction. */
    assert_int_equal(plan_travel_s(&model, a, 1, b, 2), 1800);
    assert_int_equal(plan_travel_s(&model, a, 2, b, 1), 2100);
    /* One place unknown or out of range: the straight line. */
    assert_int_equal(plan_travel_s(&model, a, -1, b, 2), 13010);
    assert_int_equal(plan_travel_s(&model, a, 1, b, 7), 13010);
    /* A negative entry means "not in the table". */
    const int32_t t2[4] = {0, -1, 300, 0};
    plan_model_t m = model;
    m.table = t2;
    m.table_n = 2;
    assert_int_equal(plan_travel_s(&m, a, 0, b, 1), 13010);
    assert_int_equal(plan_travel_s(&m, a, 1, b, 0), 300);
}

/* ---- Check ------------------------------------------------------------------------------- */

static void test_check_allowed(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 60);
    j.skills = BIT(SK_FIRMWARE);
    plan_engineer_t e = engineer("Petrov", BIT(SK_FIRMWARE) | BIT(SK_READERS), 3);
    plan_reason_t r[8];
    size_t n = 99, refusals = 99;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
    assert_int_equal(refusals, 0);
    /* Exactly the whole shift is still inside it: 09:00-18:00 with a 9 h job. */
    j.duration = 9 * H;
    assert_int_equal(plan_check(&model, &e, &j, AT(9, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(refusals, 0);
}

static void test_check_bad_arguments(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 60);
    plan_engineer_t e = engineer("Petrov", 0, 3);
    size_t n;
    assert_int_equal(plan_check(NULL, &e, &j, AT(10, 0), NULL, 0, &n, NULL), ACS_EINVAL);
    assert_int_equal(plan_check(&model, NULL, &j, AT(10, 0), NULL, 0, &n, NULL), ACS_EINVAL);
    assert_int_equal(plan_check(&model, &e, NULL, AT(10, 0), NULL, 0, &n, NULL), ACS_EINVAL);
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), NULL, 3, &n, NULL), ACS_EINVAL);
    j.duration = 0;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), NULL, 0, &n, NULL), ACS_EINVAL);
}

static void test_check_skill(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 60);
    j.skills = BIT(SK_FIRMWARE) | BIT(SK_TURNSTILES);
    plan_engineer_t e = engineer("Ivanov", BIT(SK_READERS), 4);
    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    /* Two missing skills, one reason each, in bit order. */
    assert_int_equal(n, 2);
    assert_int_equal(refusals, 2);
    assert_int_equal(r[0].code, PLAN_R_SKILL);
    assert_int_equal(r[0].skill, SK_TURNSTILES);
    assert_reason(&r[0], "Ivanov has no turnstiles skill");
    assert_reason(&r[1], "Ivanov has no firmware skill");
    assert_true(plan_reason_is_refusal(PLAN_R_SKILL));
}

static void test_check_region(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 60);
    j.region = 1; /* North */
    plan_engineer_t e = engineer("Ivanov", 0, 4);
    const int served[] = {0, 2};
    e.regions = served;
    e.n_regions = 2;
    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].code, PLAN_R_REGION);
    assert_reason(&r[0], "Ivanov does not serve region North");
    /* South is served; no region list means every region. */
    j.region = 2;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
    e.n_regions = 0;
    j.region = 1;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
}

static void test_check_shift(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 120);
    plan_engineer_t e = engineer("Petrov", 0, 3);
    plan_reason_t r[8];
    size_t n, refusals;
    /* 17:00-19:00 runs past the end of Monday's 09:00-18:00. */
    assert_int_equal(plan_check(&model, &e, &j, AT(17, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].code, PLAN_R_SHIFT);
    assert_true(r[0].other.start == AT(9, 0) && r[0].other.end == AT(18, 0));
    assert_reason(&r[0], "17:00-19:00 is outside Petrov's shift (Mon 09:00-18:00)");
    /* 07:00-09:00 ends as the shift starts: still outside, the same shift named. */
    assert_int_equal(plan_check(&model, &e, &j, AT(7, 0), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "07:00-09:00 is outside Petrov's shift (Mon 09:00-18:00)");
    /* Sunday 10:00: 23 h before Monday's shift, more than 12 h from any shift. */
    assert_int_equal(plan_check(&model, &e, &j, AT(-24 + 10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_true(r[0].other.start == PLAN_NO_TIME);
    assert_reason(&r[0], "10:00-12:00 is outside Petrov's shifts (no shift on Sun)");
    /* Tuesday 08:00-10:00: Tuesday's shift is named, with its weekday. A job that runs past
     * midnight shows the weekday of its end. */
    assert_int_equal(plan_check(&model, &e, &j, AT(24 + 8, 0), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "08:00-10:00 is outside Petrov's shift (Tue 09:00-18:00)");
    j.duration = 3 * H;
    assert_int_equal(plan_check(&model, &e, &j, AT(22, 30), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "22:30-Tue 01:30 is outside Petrov's shift (Mon 09:00-18:00)");
    /* No shifts at all. */
    j.duration = 2 * H;
    e.n_shifts = 0;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "10:00-12:00 is outside Petrov's shifts (no shift on Mon)");
}

static void test_check_absence(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 120);
    plan_engineer_t e = engineer("Petrov", 0, 3);
    const plan_absence_t abs[] = {
        {AT(0, 0), AT(48, 0), "sick leave"}, /* Mon 00:00 - Wed 00:00 */
        {AT(11, 30), AT(13, 0), NULL},       /* a doctor's appointment */
        {AT(12, 0), AT(13, 0), "leave"},     /* after the job: no reason */
    };
    e.absences = abs;
    e.n_absences = 3;
    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 2);
    assert_int_equal(refusals, 2);
    assert_int_equal(r[0].code, PLAN_R_ABSENCE);
    assert_reason(&r[0],
                  "10:00-12:00 falls in Petrov's sick leave (Mon 23 Nov 00:00 - Wed 25 Nov 00:00)");
    assert_reason(&r[1],
                  "10:00-12:00 falls in Petrov's absence (Mon 23 Nov 11:30 - Mon 23 Nov 13:00)");
}

static void test_check_overlap(void **state)
{
    (void)state;
    /* J-123 at Site X 10:30-11:30; the new job at Site Y, 25 min from X. */
    plan_job_t j123 = job("J-123", "Site X", 0, 60);
    plan_job_t j9 = job("J-9", "Site Y", 1, 60);
    plan_booking_t book[] = {{&j123, AT(10, 30)}};
    plan_engineer_t e = engineer("Petrov", 0, 3);
    e.bookings = book;
    e.n_bookings = 1;
    plan_reason_t r[8];
    size_t n, refusals;

    /* 11:40 leaves 10 min after J-123 ends: 25 min are needed. */
    assert_int_equal(plan_check(&model, &e, &j9, AT(11, 40), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].code, PLAN_R_OVERLAP);
    assert_true(r[0].before);
    assert_int_equal(r[0].travel, 1500);
    assert_reason(&r[0], "overlaps job J-123 10:30-11:30 plus 25 min travel from Site X");
    /* 11:55 is exactly 11:30 + 25 min: allowed. */
    assert_int_equal(plan_check(&model, &e, &j9, AT(11, 55), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);

    /* Before it: 09:10-10:10 then 25 min to Site X = 10:35 > 10:30. */
    assert_int_equal(plan_check(&model, &e, &j9, AT(9, 10), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_false(r[0].before);
    assert_reason(&r[0], "overlaps job J-123 10:30-11:30 with 25 min travel to Site X");
    /* 09:05 ends 10:05 + 25 min = 10:30: allowed. */
    assert_int_equal(plan_check(&model, &e, &j9, AT(9, 5), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);

    /* A direct overlap at the same site: no travel in the sentence. */
    plan_job_t j10 = job("J-10", "Site X", 0, 60);
    assert_int_equal(plan_check(&model, &e, &j10, AT(11, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_reason(&r[0], "overlaps job J-123 10:30-11:30");

    /* Rescheduling J-123 itself: its own booking does not count (same pointer or same id). */
    assert_int_equal(plan_check(&model, &e, &j123, AT(11, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
    plan_job_t copy = j123;
    j123.id = "0b7c";
    copy.id = "0b7c";
    assert_int_equal(plan_check(&model, &e, &copy, AT(11, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
}

static void test_check_overlap_neighbours(void **state)
{
    (void)state;
    /* Bookings 09:00-10:00 at X and 12:00-13:00 at Z; the job at Y 10:10-11:50.
     * From X: 10:00 + 25 min = 10:25 > 10:10. To Z: 11:50 + 30 min = 12:20 > 12:00.
     * An early booking 06:00 (before the shift) is no neighbour: only the last one before
     * and the first one after need the travel. */
    plan_job_t a = job("J-1", "Site X", 0, 60), z = job("J-3", "Site Z", 2, 60);
    plan_job_t early = job("J-0", "Site Z", 2, 30);
    plan_job_t y = job("J-2", "Site Y", 1, 100);
    plan_booking_t book[] = {{&z, AT(12, 0)}, {&early, AT(6, 0)}, {&a, AT(9, 0)}};
    plan_engineer_t e = engineer("Petrov", 0, 3);
    e.bookings = book;
    e.n_bookings = 3;
    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &y, AT(10, 10), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 2);
    assert_reason(&r[0], "overlaps job J-1 09:00-10:00 plus 25 min travel from Site X");
    assert_reason(&r[1], "overlaps job J-3 12:00-13:00 with 30 min travel to Site Z");
}

static void test_check_window_and_sla(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 120);
    j.window_start = AT(13, 0);
    j.window_end = AT(17, 0);
    plan_engineer_t e = engineer("Petrov", 0, 3);
    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].code, PLAN_R_WINDOW);
    assert_reason(&r[0], "10:00-12:00 is outside the window of job J-9 (13:00-17:00)");
    /* 15:30-17:30 ends after the window. */
    assert_int_equal(plan_check(&model, &e, &j, AT(15, 30), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    /* Open-ended windows. */
    j.window_end = PLAN_NO_TIME;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "10:00-12:00 is outside the window of job J-9 (from 13:00)");
    j.window_start = PLAN_NO_TIME;
    j.window_end = AT(11, 0);
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_reason(&r[0], "10:00-12:00 is outside the window of job J-9 (until 11:00)");

    /* SLA: a warning, not a refusal. 10:00-12:00 against a deadline at 11:20. */
    j.window_end = PLAN_NO_TIME;
    j.sla_due = AT(11, 20);
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 1);
    assert_int_equal(refusals, 0);
    assert_int_equal(r[0].code, PLAN_R_SLA_LATE);
    assert_int_equal(r[0].travel, 40 * MIN);
    assert_false(plan_reason_is_refusal(PLAN_R_SLA_LATE));
    assert_reason(&r[0], "ends 12:00, 40 min after the resolution deadline 11:20");
    /* Ending exactly at the deadline is on time. */
    j.sla_due = AT(12, 0);
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 0);
}

static void test_check_every_rule(void **state)
{
    (void)state;
    /* One assignment that breaks every rule at once; the reasons come in the documented
     * order and all are counted even when the array is too small. */
    plan_job_t j123 = job("J-123", "Site X", 0, 60);
    plan_booking_t book[] = {{&j123, AT(17, 0)}};
    const plan_absence_t abs[] = {{AT(17, 30), AT(20, 0), "leave"}};
    const int served[] = {0};
    plan_job_t j = job("J-9", "Site Y", 1, 120);
    j.skills = BIT(SK_FIRMWARE);
    j.region = 2;
    j.window_start = AT(9, 0);
    j.window_end = AT(12, 0);
    j.sla_due = AT(10, 0);
    plan_engineer_t e = engineer("Petrov", 0, 3);
    e.regions = served;
    e.n_regions = 1;
    e.absences = abs;
    e.n_absences = 1;
    e.bookings = book;
    e.n_bookings = 1;

    plan_reason_t r[8];
    size_t n, refusals;
    assert_int_equal(plan_check(&model, &e, &j, AT(17, 0), r, 8, &n, &refusals), 0);
    assert_int_equal(n, 7);
    assert_int_equal(refusals, 6);
    const plan_reason_code_t want[] = {PLAN_R_SKILL,   PLAN_R_REGION,  PLAN_R_SHIFT,
                                       PLAN_R_ABSENCE, PLAN_R_OVERLAP, PLAN_R_WINDOW,
                                       PLAN_R_SLA_LATE};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(r[i].code, want[i]);
    }
    assert_reason(&r[4], "overlaps job J-123 17:00-18:00 plus 25 min travel from Site X");
    assert_reason(&r[6], "ends 19:00, 9 h after the resolution deadline 10:00");

    /* cap 2: two written, seven counted. */
    plan_reason_t few[2];
    assert_int_equal(plan_check(&model, &e, &j, AT(17, 0), few, 2, &n, NULL), 0);
    assert_int_equal(n, 7);
    assert_int_equal(few[1].code, PLAN_R_REGION);
}

static void test_format_truncates(void **state)
{
    (void)state;
    plan_job_t j = job("J-9", "Site Y", 1, 60);
    j.skills = BIT(SK_FIRMWARE);
    plan_engineer_t e = engineer("Ivanov", 0, 4);
    plan_reason_t r[2];
    size_t n;
    assert_int_equal(plan_check(&model, &e, &j, AT(10, 0), r, 2, &n, NULL), 0);
    char small[8];
    /* "Ivanov has no firmware skill" is 28 characters. */
    assert_int_equal(plan_reason_format(&model, &r[0], MSK, small, sizeof(small)), 28);
    assert_string_equal(small, "Ivanov ");
    assert_int_equal(plan_reason_format(&model, &r[0], MSK, NULL, 0), 28);
    assert_int_equal(plan_reason_format(&model, NULL, MSK, small, sizeof(small)), ACS_EINVAL);
    /* A skill without a name. */
    r[0].skill = 9;
    char buf[64];
    plan_reason_format(&model, &r[0], MSK, buf, sizeof(buf));
    assert_string_equal(buf, "Ivanov has no #9 skill");
}

/* ---- Suggestions ------------------------------------------------------------------------- */

static void test_suggest_ranking(void **state)
{
    (void)state;
    /* Job J-9 at Site Y, 60 min, firmware, due 12:00.
     *   Petrov (home P, 10 min from Y): free, arrives 09:00 + 10 min = 09:10.
     *   Ivanov (home I, 20 min from Y): booked 09:00-10:00 at Y itself: 10:00, no travel.
     *   Sidorov (home I): free but his shift starts at 10:00: 10:20.
     *   Orlov: no firmware skill. Kuznetsov: does not serve region Centre. */
    plan_job_t j9 = job("J-9", "Site Y", 1, 60);
    j9.skills = BIT(SK_FIRMWARE);
    j9.region = 0;
    j9.sla_due = AT(12, 0);
    plan_job_t other = job("J-5", "Site Y", 1, 60);
    plan_booking_t ivanov_book[] = {{&other, AT(9, 0)}};
    const plan_interval_t late_shift[] = {{AT(10, 0), AT(19, 0)}};
    const int north[] = {1};

    plan_engineer_t e[5];
    e[0] = engineer("Orlov", BIT(SK_READERS), 3);
    e[1] = engineer("Ivanov", BIT(SK_FIRMWARE), 4);
    e[1].bookings = ivanov_book;
    e[1].n_bookings = 1;
    e[2] = engineer("Sidorov", BIT(SK_FIRMWARE), 4);
    e[2].shifts = late_shift;
    e[2].n_shifts = 1;
    e[3] = engineer("Petrov", BIT(SK_FIRMWARE) | BIT(SK_READERS), 3);
    e[4] = engineer("Kuznetsov", BIT(SK_FIRMWARE), 3);
    e[4].regions = north;
    e[4].n_regions = 1;
    plan_problem_t p = {&model, e, 5, &j9, 1, 0};

    plan_suggestion_t *s = NULL;
    size_t n = 0;
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(s[0].engineer, 3);
    assert_true(s[0].start == AT(9, 10));
    assert_int_equal(s[0].travel, 600);
    assert_true(s[0].sla_left == 2 * H + 50 * MIN);
    assert_int_equal(s[1].engineer, 1);
    assert_true(s[1].start == AT(10, 0));
    assert_int_equal(s[1].travel, 0);
    assert_int_equal(s[2].engineer, 2);
    assert_true(s[2].start == AT(10, 20));

    char buf[256];
    assert_true(plan_suggestion_format(&p, 0, &s[0], MSK, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "Petrov: arrives 09:10 (10 min travel), 2 h 50 min before the "
                             "resolution deadline; has the firmware skill");
    plan_suggestion_format(&p, 0, &s[1], MSK, buf, sizeof(buf));
    assert_string_equal(buf, "Ivanov: arrives 10:00 (no travel), 2 h before the resolution "
                             "deadline; has the firmware skill");
    plan_suggestions_free(s);

    /* Asked at 09:45: nobody can start before then. Petrov at 09:45, Ivanov 10:00. */
    p.now = AT(9, 45);
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 3);
    assert_true(s[0].start == AT(9, 45));
    assert_int_equal(s[0].engineer, 3);
    plan_suggestions_free(s);
    p.now = 0;

    /* After the deadline, two skills, no deadline at all. */
    j9.sla_due = AT(9, 0);
    j9.skills = BIT(SK_FIRMWARE) | BIT(SK_READERS);
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 1);
    plan_suggestion_format(&p, 0, &s[0], MSK, buf, sizeof(buf));
    assert_string_equal(buf, "Petrov: arrives 09:10 (10 min travel), 10 min after the "
                             "resolution deadline; has the readers and firmware skills");
    plan_suggestions_free(s);
    j9.sla_due = PLAN_NO_TIME;
    j9.skills = 0;
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 4); /* Orlov too now */
    plan_suggestion_format(&p, 0, &s[0], MSK, buf, sizeof(buf));
    assert_string_equal(buf, "Orlov: arrives 09:10 (10 min travel), no resolution deadline; "
                             "no special skill needed");
    plan_suggestions_free(s);
}

static void test_suggest_gap_between_bookings(void **state)
{
    (void)state;
    /* Bookings at X 09:00-10:00 and at Z 11:00-12:00; a 30 min job at Y does not fit
     * between them (10:25 + 30 min + 30 min to Z = 11:25 > 11:00), so it goes after Z:
     * 12:00 + 35 min (Z->Y) = 12:35. With a 10 min job it fits: 10:25-10:35, +30 = 11:05,
     * still too late; with 5 min: 10:25-10:30 + 30 = 11:00 fits. */
    plan_job_t x = job("J-1", "Site X", 0, 60), z = job("J-3", "Site Z", 2, 60);
    plan_job_t y = job("J-2", "Site Y", 1, 30);
    plan_booking_t book[] = {{&z, AT(11, 0)}, {&x, AT(9, 0)}};
    plan_engineer_t e = engineer("Petrov", 0, 3);
    e.bookings = book;
    e.n_bookings = 2;
    plan_problem_t p = {&model, &e, 1, &y, 1, 0};
    plan_suggestion_t *s = NULL;
    size_t n = 0;
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 1);
    assert_true(s[0].start == AT(12, 35));
    assert_int_equal(s[0].travel, 2100);
    plan_suggestions_free(s);
    y.duration = 5 * MIN;
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_true(s[0].start == AT(10, 25));
    plan_suggestions_free(s);

    /* Moving a job: its own booking (the same id) does not block its engineer. Counted, the
     * booking at 10:25 would take the only gap and leave 12:35; ignored, 10:25 is free. */
    plan_job_t y_booked = y;
    y.id = "7f3e";
    y_booked.id = "7f3e";
    plan_booking_t book3[] = {{&z, AT(11, 0)}, {&x, AT(9, 0)}, {&y_booked, AT(10, 25)}};
    e.bookings = book3;
    e.n_bookings = 3;
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_int_equal(n, 1);
    assert_true(s[0].start == AT(10, 25));
    plan_suggestions_free(s);

    /* Nobody: NULL and 0; a bad index is refused. */
    y.skills = BIT(SK_COMMISSIONING);
    assert_int_equal(plan_suggest(&p, 0, &s, &n), 0);
    assert_null(s);
    assert_int_equal(n, 0);
    assert_int_equal(plan_suggest(&p, 1, &s, &n), ACS_EINVAL);
    plan_suggestions_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haversine),
        cmocka_unit_test(test_travel_speed),
        cmocka_unit_test(test_travel_table),
        cmocka_unit_test(test_check_allowed),
        cmocka_unit_test(test_check_bad_arguments),
        cmocka_unit_test(test_check_skill),
        cmocka_unit_test(test_check_region),
        cmocka_unit_test(test_check_shift),
        cmocka_unit_test(test_check_absence),
        cmocka_unit_test(test_check_overlap),
        cmocka_unit_test(test_check_overlap_neighbours),
        cmocka_unit_test(test_check_window_and_sla),
        cmocka_unit_test(test_check_every_rule),
        cmocka_unit_test(test_format_truncates),
        cmocka_unit_test(test_suggest_ranking),
        cmocka_unit_test(test_suggest_gap_between_bookings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
