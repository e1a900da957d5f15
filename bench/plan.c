/* SPDX-License-Identifier: MIT */
/*
 * plan.c - the day planner (core/plan.h) against its earliest-deadline greedy baseline.
 *
 * Two generated instances, seeded so that every run plans the same days: 50 jobs over 6
 * engineers and 500 jobs over 40 engineers, four working days each, in the Moscow region.
 * Sites lie in the city (60%) and in the oblast up to 60 km out, split into five regions (the
 * Centre and the four sectors around it). Engineers live up to 30 km out, serve the Centre
 * and two sectors (the small team serves every region), hold 2-6 of six skills, work 9-hour
 * shifts starting 08:00-10:00 local time; some are off sick a day or away for two hours, and
 * some already have bookings. Jobs need one or two skills and last 30-240 minutes by kind; 40%
 * have an SLA resolution due time, 30% a client window of 3-4 hours (never on a day after the
 * due time), priorities 1-5. Travel is the straight line x 1.3 at 35 km/h.
 *
 * Both methods run in this process on the same instance. The table gives the time, jobs
 * placed, late jobs, lateness and travel of each, then the ratios planner / greedy, the
 * lateness of each on the jobs both placed, a lower bound of the lateness (each job alone at
 * its earliest start) and why the planner left jobs out. Every stop of both plans is checked
 * again with plan_check() and the violations are counted: a count other than 0 makes the exit
 * status 2.
 *
 * usage: bench_plan [--seed N] [--iterations N] [--time-ms MS] [--only small|large]
 *   defaults: seed 1, 4000 ruin-and-recreate rounds, 9000 ms limit per plan (a plan stopped
 *   by the limit depends on the machine's speed; one stopped by the rounds does not).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define DAY 86400LL
#define H   3600LL
#define MIN 60LL
/* Monday 23 November 2026 00:00 in Moscow, UTC seconds. */
#define MON 1795381200LL

static const char *const skill_names[] = {"turnstiles",    "readers",  "installation",
                                          "commissioning", "firmware", "networking"};
static const char *const region_names[] = {"Centre", "North", "East", "South", "West"};
static const char *const surnames[] = {"Ivanov", "Petrov",   "Sidorov", "Smirnov",   "Kuznetsov",
                                       "Popov",  "Vasiliev", "Sokolov", "Mikhailov", "Novikov"};

typedef struct {
    size_t n_jobs, n_engs;
    int days;
    plan_model_t model;
    plan_job_t *jobs;
    plan_engineer_t *engs;
    plan_job_t *booked;    /* the jobs of the bookings */
    plan_booking_t *books; /* 2 slots per engineer */
    plan_interval_t *shifts;
    plan_absence_t *absences;
    int *regions; /* 3 per engineer */
    char *names;  /* 16 bytes per job, then 24 per engineer */
    plan_problem_t p;
} instance_t;

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(void)
{
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* A point at distance r km and bearing a from the Kremlin, and its region. */
static plan_point_t place_at(double r_km, double a, int *region)
{
    const double lat0 = 55.7520, lon0 = 37.6175;
    plan_point_t p;
    p.lat = lat0 + r_km * cos(a) / 111.2;
    p.lon = lon0 + r_km * sin(a) / (111.2 * cos(lat0 * M_PI / 180.0));
    if (region != NULL) {
        if (r_km < 15.0) {
            *region = 0;
        } else {
            /* bearing 0 = north; sectors of 90 degrees centred on N, E, S, W */
            double deg = fmod(a * 180.0 / M_PI + 45.0 + 360.0, 360.0);
            *region = 1 + (int)(deg / 90.0);
        }
    }
    return p;
}

static plan_point_t random_site(int *region)
{
    double r = unit() < 0.6 ? 15.0 * sqrt(unit()) : 15.0 + 45.0 * unit();
    return place_at(r, 2.0 * M_PI * unit(), region);
}

static void instance_free(instance_t *in)
{
    free(in->jobs);
    free(in->engs);
    free(in->booked);
    free(in->books);
    free(in->shifts);
    free(in->absences);
    free(in->regions);
    free(in->names);
}

static int instance_make(instance_t *in, size_t n_jobs, size_t n_engs, int days, uint64_t seed)
{
    memset(in, 0, sizeof(*in));
    rng_state = seed * 1000003ULL + n_jobs;
    in->n_jobs = n_jobs;
    in->n_engs = n_engs;
    in->days = days;
    in->jobs = calloc(n_jobs, sizeof(plan_job_t));
    in->engs = calloc(n_engs, sizeof(plan_engineer_t));
    in->booked = calloc(n_engs * 2, sizeof(plan_job_t));
    in->books = calloc(n_engs * 2, sizeof(plan_booking_t));
    in->shifts = calloc(n_engs * (size_t)days, sizeof(plan_interval_t));
    in->absences = calloc(n_engs * 2, sizeof(plan_absence_t));
    in->regions = calloc(n_engs * 3, sizeof(int));
    in->names = calloc(n_jobs * 16 + n_engs * 24 + n_engs * 2 * 16, 1);
    if (!in->jobs || !in->engs || !in->booked || !in->books || !in->shifts || !in->absences ||
        !in->regions || !in->names) {
        instance_free(in);
        return -1;
    }
    in->model = (plan_model_t){
        .skill_names = skill_names,
        .n_skills = 6,
        .region_names = region_names,
        .n_regions = 5,
        .speed_kmh = 35.0,
        .road_factor = 1.3,
    };

    char *names = in->names;
    for (size_t i = 0; i < n_jobs; i++) {
        plan_job_t *j = &in->jobs[i];
        char *name = names + i * 16;
        snprintf(name, 16, "J-%zu", 1000 + i);
        j->name = name;
        j->site_name = name;
        j->place = -1;
        j->site = random_site(&j->region);
        /* kind: 70% visits (one skill), 15% installation, 15% commissioning */
        double kind = unit();
        if (kind < 0.70) {
            j->duration = between(3, 9) * 10 * MIN;
            j->skills = (uint64_t)1 << (unit() < 0.5 ? 0 : 1);
            if (unit() < 0.3) {
                j->skills |= (uint64_t)1 << 4; /* firmware */
            }
        } else if (kind < 0.85) {
            j->duration = between(8, 16) * 15 * MIN;
            j->skills = ((uint64_t)1 << 2) | ((uint64_t)1 << (unit() < 0.5 ? 0 : 1));
        } else {
            j->duration = between(6, 12) * 15 * MIN;
            j->skills = ((uint64_t)1 << 3) | (unit() < 0.4 ? (uint64_t)1 << 5 : 0);
        }
        j->priority = (int)between(1, 5);
        j->window_start = j->window_end = j->sla_due = PLAN_NO_TIME;
        int64_t last_day = days - 1;
        if (unit() < 0.4) {
            /* resolution due from 2 hours into the first day to 60% of the horizon */
            j->sla_due = MON + 9 * H + between(2 * 60, (int64_t)(days * 24 * 60 * 6 / 10)) * MIN;
            last_day = (j->sla_due - MON) / DAY;
        }
        if (unit() < 0.3) {
            /* a client's window, agreed no later than the day the ticket is due */
            int64_t day = between(0, last_day);
            j->window_start = MON + day * DAY + between(9, 14) * H;
            j->window_end = j->window_start + between(3, 4) * H;
            if (j->window_end < j->window_start + j->duration + H) {
                j->window_end = j->window_start + j->duration + H; /* room for the work */
            }
        }
    }

    char *enames = names + n_jobs * 16;
    char *bnames = enames + n_engs * 24;
    for (size_t e = 0; e < n_engs; e++) {
        plan_engineer_t *en = &in->engs[e];
        char *name = enames + e * 24;
        snprintf(name, 24, "%s-%zu", surnames[e % 10], e / 10 + 1);
        en->name = name;
        en->home_place = -1;
        int home_region;
        en->home = place_at(30.0 * sqrt(unit()), 2.0 * M_PI * unit(), &home_region);
        /* the Centre, the home sector and the next one clockwise */
        int sector = home_region == 0 ? (int)between(1, 4) : home_region;
        int *reg = &in->regions[e * 3];
        reg[0] = 0;
        reg[1] = sector;
        reg[2] = sector % 4 + 1;
        en->regions = reg;
        en->n_regions = n_engs < 10 ? 0 : 3; /* a small team goes everywhere */
        /* both hardware skills for most, plus 1-3 of the others */
        en->skills = unit() < 0.8 ? 0x3 : ((uint64_t)1 << between(0, 1));
        for (int k = (int)between(1, 3); k > 0; k--) {
            en->skills |= (uint64_t)1 << between(2, 5);
        }
        en->skills |= (uint64_t)1 << (2 + e % 4); /* every skill is in the team */
        int64_t start_h = between(8, 10);
        plan_interval_t *sh = &in->shifts[e * (size_t)days];
        for (int d = 0; d < days; d++) {
            sh[d].start = MON + d * DAY + start_h * H;
            sh[d].end = sh[d].start + 9 * H;
        }
        en->shifts = sh;
        en->n_shifts = (size_t)days;
        plan_absence_t *ab = &in->absences[e * 2];
        size_t na = 0;
        if (unit() < 0.1) { /* off sick one day */
            int64_t d = between(0, days - 1);
            ab[na++] = (plan_absence_t){MON + d * DAY, MON + (d + 1) * DAY, "sick"};
        }
        if (unit() < 0.1) { /* two hours away */
            int64_t d = between(0, days - 1);
            int64_t s = MON + d * DAY + between(11, 15) * H;
            ab[na++] = (plan_absence_t){s, s + 2 * H, "leave"};
        }
        en->absences = ab;
        en->n_absences = na;
        /* existing bookings: 0-2, on the first day, near home */
        size_t nb = (size_t)between(0, 2);
        for (size_t b = 0; b < nb; b++) {
            plan_job_t *bj = &in->booked[e * 2 + b];
            char *bn = bnames + (e * 2 + b) * 16;
            snprintf(bn, 16, "B-%zu", e * 2 + b);
            bj->name = bn;
            bj->site_name = bn;
            bj->place = -1;
            bj->region = reg[1];
            bj->site = random_site(NULL);
            bj->duration = 60 * MIN;
            bj->window_start = bj->window_end = bj->sla_due = PLAN_NO_TIME;
            bj->priority = 3;
            in->books[e * 2 + b].job = bj;
            in->books[e * 2 + b].start = sh[0].start + (int64_t)(1 + 4 * b) * H;
        }
        en->bookings = &in->books[e * 2];
        en->n_bookings = nb;
    }
    in->p = (plan_problem_t){&in->model, in->engs, n_engs, in->jobs, n_jobs, 0};
    return 0;
}

/* Every planned stop checked again against the rest of its engineer's day. */
static size_t count_violations(const instance_t *in, const plan_result_t *res)
{
    size_t bad = 0;
    plan_booking_t *others = malloc((in->n_jobs + 4) * sizeof(plan_booking_t));
    if (others == NULL) {
        return (size_t)-1;
    }
    for (size_t r = 0; r < res->n_routes; r++) {
        const plan_route_t *route = &res->routes[r];
        const plan_engineer_t *en = &in->engs[route->engineer];
        for (size_t i = 0; i < route->n_stops; i++) {
            const plan_stop_t *st = &route->stops[i];
            if (st->fixed) {
                continue;
            }
            size_t n = 0;
            for (size_t k = 0; k < route->n_stops; k++) {
                const plan_stop_t *o = &route->stops[k];
                if (k != i) {
                    others[n].job = o->fixed ? en->bookings[o->index].job : &in->jobs[o->index];
                    others[n].start = o->start;
                    n++;
                }
            }
            plan_engineer_t copy = *en;
            copy.bookings = others;
            copy.n_bookings = n;
            size_t found = 0, refusals = 0;
            plan_check(&in->model, &copy, &in->jobs[st->index], st->start, NULL, 0, &found,
                       &refusals);
            bad += refusals > 0;
        }
    }
    free(others);
    return bad;
}

static void row(const char *method, const plan_result_t *r, size_t n_jobs, size_t violations)
{
    printf("  %-8s %10.1f %8zu/%-4zu %9zu %11.1f %10.1f %10zu\n", method, r->elapsed_ms,
           n_jobs - r->n_unassigned, n_jobs, r->n_late, (double)r->lateness / 3600.0,
           (double)r->travel / 3600.0, violations);
}

static double ratio(double a, double b)
{
    return b == 0.0 ? (a == 0.0 ? 1.0 : INFINITY) : a / b;
}

static int run(const char *label, size_t n_jobs, size_t n_engs, int days, const plan_options_t *opt)
{
    instance_t in;
    plan_result_t *plan = NULL, *greedy = NULL;

    if (instance_make(&in, n_jobs, n_engs, days, opt->seed) != 0) {
        fprintf(stderr, "bench_plan: out of memory building the %s instance\n", label);
        return 1;
    }
    int rc = plan_greedy(&in.p, &greedy);
    if (rc == 0) {
        rc = plan_solve(&in.p, opt, &plan);
    }
    if (rc != 0) {
        fprintf(stderr, "bench_plan: planning the %s instance failed with error %d (acs_error.h)\n",
                label, rc);
        instance_free(&in);
        plan_result_free(greedy);
        return 1;
    }
    size_t vg = count_violations(&in, greedy), vp = count_violations(&in, plan);
    printf("\n%s: %zu jobs, %zu engineers, %d days (seed %llu)\n", label, n_jobs, n_engs, days,
           (unsigned long long)opt->seed);
    printf("  %-8s %10s %13s %9s %11s %10s %10s\n", "method", "time ms", "placed", "late",
           "lateness h", "travel h", "violations");
    row("greedy", greedy, n_jobs, vg);
    row("planner", plan, n_jobs, vp);
    printf("  ratio planner/greedy: time %.1fx, lateness %.3f, travel %.3f; placed %+lld; "
           "%u rounds\n",
           ratio(plan->elapsed_ms, greedy->elapsed_ms),
           ratio((double)plan->lateness, (double)greedy->lateness),
           ratio((double)plan->travel, (double)greedy->travel),
           (long long)greedy->n_unassigned - (long long)plan->n_unassigned, plan->iterations);
    /* Lateness on the jobs that both plans placed: the like-for-like comparison. */
    int64_t *late_g = calloc(n_jobs, sizeof(int64_t)), *late_p = calloc(n_jobs, sizeof(int64_t));
    if (late_g != NULL && late_p != NULL) {
        for (size_t j = 0; j < n_jobs; j++) {
            late_g[j] = late_p[j] = -1;
        }
        for (int which = 0; which < 2; which++) {
            const plan_result_t *r = which ? plan : greedy;
            int64_t *late = which ? late_p : late_g;
            for (size_t e = 0; e < r->n_routes; e++) {
                for (size_t i = 0; i < r->routes[e].n_stops; i++) {
                    const plan_stop_t *st = &r->routes[e].stops[i];
                    if (!st->fixed) {
                        late[st->index] = st->lateness;
                    }
                }
            }
        }
        int64_t cg = 0, cp = 0;
        size_t both = 0;
        for (size_t j = 0; j < n_jobs; j++) {
            if (late_g[j] >= 0 && late_p[j] >= 0) {
                both++;
                cg += late_g[j];
                cp += late_p[j];
            }
        }
        printf("  on the %zu jobs both placed: lateness greedy %.1f h, planner %.1f h\n", both,
               (double)cg / 3600.0, (double)cp / 3600.0);
    }
    free(late_g);
    free(late_p);

    /* A lower bound of the lateness: each job alone, at its earliest feasible start. */
    int64_t bound = 0;
    for (size_t j = 0; j < n_jobs; j++) {
        if (in.jobs[j].sla_due == PLAN_NO_TIME) {
            continue;
        }
        plan_problem_t one = {&in.model, in.engs, in.n_engs, &in.jobs[j], 1, 0};
        plan_suggestion_t *sg = NULL;
        size_t n = 0;
        if (plan_suggest(&one, 0, &sg, &n) == 0 && n > 0 && sg[0].end > in.jobs[j].sla_due) {
            bound += sg[0].end - in.jobs[j].sla_due;
        }
        plan_suggestions_free(sg);
    }
    printf("  lateness lower bound (each job alone, as early as it can be done): %.1f h\n",
           (double)bound / 3600.0);

    /* Why the planner left jobs out, by reason. */
    size_t why[PLAN_R_COUNT] = {0};
    for (size_t i = 0; i < plan->n_unassigned; i++) {
        why[plan->unassigned[i].reason.code]++;
    }
    printf("  planner left out: %zu nobody skilled, %zu nobody in the region, %zu nobody on "
           "shift, %zu no room\n",
           why[PLAN_R_NOBODY_SKILLED], why[PLAN_R_NOBODY_REGION], why[PLAN_R_NOBODY_SHIFT],
           why[PLAN_R_NO_ROOM]);
    for (size_t i = 0; i < plan->n_unassigned && i < 5; i++) {
        char buf[256], sk[128] = "";
        const plan_job_t *j = &in.jobs[plan->unassigned[i].job];
        for (int bit = 0; bit < 6; bit++) {
            if ((j->skills >> bit) & 1) {
                size_t len = strlen(sk);
                snprintf(sk + len, sizeof(sk) - len, "%s%s", len > 0 ? "+" : "", skill_names[bit]);
            }
        }
        plan_reason_format(&in.model, &plan->unassigned[i].reason, 3 * 3600, buf, sizeof(buf));
        printf("    %s (%lld min, %s): %s\n", j->name, (long long)(j->duration / 60), sk, buf);
    }
    int ok = vg == 0 && vp == 0;
    plan_result_free(plan);
    plan_result_free(greedy);
    instance_free(&in);
    return ok ? 0 : 2;
}

int main(int argc, char **argv)
{
    plan_options_t opt = {.seed = 1, .max_iterations = 4000, .time_limit_ms = 9000};
    const char *only = NULL;

    /* Options come in pairs: a name and its value. */
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        int number = 1;
        if (v != NULL && strcmp(a, "--seed") == 0) {
            opt.seed = strtoull(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--iterations") == 0) {
            opt.max_iterations = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--time-ms") == 0) {
            opt.time_limit_ms = (unsigned)strtoul(v, &end, 10);
        } else if (v != NULL && strcmp(a, "--only") == 0 &&
                   (strcmp(v, "small") == 0 || strcmp(v, "large") == 0)) {
            only = v;
            number = 0;
        } else {
            fprintf(stderr, "usage: bench_plan [--seed N] [--iterations N] [--time-ms MS] "
                            "[--only small|large]\n");
            return 2;
        }
        if (number && (end == v || *end != '\0')) {
            fprintf(stderr, "bench_plan: %s needs a whole number, not \"%s\"\n", a, v);
            return 2;
        }
    }
    printf("bench_plan: day planner vs earliest-deadline greedy (same process, same instance)\n");
    printf("limits: %u rounds, %u ms per plan\n", opt.max_iterations, opt.time_limit_ms);
    int rc = 0;
    if (only == NULL || strcmp(only, "small") == 0) {
        rc |= run("small", 50, 6, 4, &opt);
    }
    if (only == NULL || strcmp(only, "large") == 0) {
        rc |= run("large", 500, 40, 4, &opt);
    }
    return rc;
}
