/* SPDX-License-Identifier: MIT */
/*
 * plan_solve.c - routes, suggestions and the day planner (vehicle routing with time windows).
 *
 * The model: every engineer has one route, a sequence of stops in time order. Stops are the
 * engineer's bookings (fixed: they keep their start) and planned jobs. A route is simulated
 * forward from the home base: a planned job starts as soon as the engineer can be there, not
 * before its window, inside one working block (a shift minus absences) and ending inside its
 * window. Each shift starts at the home base; between shifts the engineer goes home.
 *
 * The objective is compared in order: the priority weight of jobs left out, then
 * LATE_W x lateness + travel (seconds), so one second of lateness outweighs LATE_W seconds of
 * travel. The search (docs/dispatch.md):
 *   1. construction: regret-3 insertion, and the earliest-deadline greedy baseline; the
 *      better of the two is the start, so the plan is never worse than the baseline;
 *   2. local search to a local optimum: relocate and or-opt (a run of 1-3 jobs moved to any
 *      position of any route), exchange (two jobs of two routes swap places), 2-opt* (two
 *      routes swap their tails);
 *   3. ruin and recreate: remove 5-15% of the jobs (at random, or related by place and time),
 *      reinsert with regret insertion, accept by a shrinking record-to-record threshold; the
 *      best plan found gets the local search again.
 * Every evaluation reuses the state before the first changed stop and stops simulating as
 * soon as the route's remaining states are unchanged, so a move costs a few steps, not a
 * whole route.
 */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"

#define LATE_W     10000 /* one second late weighs as much as this many seconds of travel */
#define INF_COST   INT64_MAX
#define NO_ENG     (-1)
#define DEFAULT_IT 2000

typedef struct {
    int64_t start, end;
    int32_t shift;
} block_t;

/* The problem flattened into nodes: 0..nj-1 the jobs to plan, nj..nj+ne-1 the home bases,
 * then every engineer's bookings. */
typedef struct {
    const plan_problem_t *p;
    size_t nj, ne, nf, nn;
    int32_t *T;      /* nn x nn travel seconds */
    uint8_t *compat; /* ne x nj: skills and region allow it */
    int64_t *dur, *ws, *we, *due, *fstart;
    int32_t *weight; /* per job: 6 - priority */
    size_t *fidx;    /* fixed node -> booking index */
    block_t *blocks; /* per engineer blk_n[e] blocks from blk_off[e] */
    size_t *blk_off, *blk_n;
    plan_interval_t *shifts; /* sorted copies, per engineer from sh_off[e] */
    size_t *sh_off, *sh_n;
    int32_t *fixed; /* fixed nodes sorted by start, per engineer from fx_off[e] */
    size_t *fx_off, *fx_n;
} ctx_t;

typedef struct {
    int64_t t;   /* when the engineer is free at loc */
    int32_t loc; /* node */
    int32_t k;   /* shift of the last stop, -1 none */
    int32_t bi;  /* first block ending after t */
    int32_t has; /* a stop was made */
    int64_t late, travel;
} state_t;

typedef struct {
    int64_t arrival, start, end, approach, late;
} stop_info_t;

typedef struct {
    int32_t *seq;
    state_t *st; /* st[i]: the state after stop i */
    size_t len, cap;
    int64_t late, travel; /* travel includes the way home */
} route_t;

typedef struct {
    route_t *r;     /* ne routes */
    int32_t *where; /* job -> engineer or NO_ENG */
    int64_t unw;    /* priority weight of the jobs left out */
    int64_t late, travel;
} sol_t;

typedef struct {
    int64_t unw, lt;
} cost_t;

/* ---- Small helpers ----------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
    return n == 0 ? 0 : (size_t)(rng_next(s) % n);
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int cost_less(cost_t a, cost_t b)
{
    return a.unw != b.unw ? a.unw < b.unw : a.lt < b.lt;
}

static cost_t sol_cost(const sol_t *s)
{
    cost_t c = {s->unw, s->late * LATE_W + s->travel};
    return c;
}

static int cmp_interval(const void *a, const void *b)
{
    const plan_interval_t *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* ---- Context ----------------------------------------------------------------------------- */

static void ctx_free(ctx_t *c)
{
    free(c->T);
    free(c->compat);
    free(c->dur);
    free(c->ws);
    free(c->we);
    free(c->due);
    free(c->fstart);
    free(c->weight);
    free(c->fidx);
    free(c->blocks);
    free(c->blk_off);
    free(c->blk_n);
    free(c->shifts);
    free(c->sh_off);
    free(c->sh_n);
    free(c->fixed);
    free(c->fx_off);
    free(c->fx_n);
    memset(c, 0, sizeof(*c));
}

/* The most places (jobs, home bases, bookings) one plan takes: the travel matrix of 8192
 * places is 256 MiB. */
#define MAX_NODES 8192

__attribute__((format(printf, 3, 4))) static int invalid(char *buf, size_t size, const char *fmt,
                                                         ...)
{
    if (buf != NULL && size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
    }
    return ACS_EINVAL;
}

int plan_problem_validate(const plan_problem_t *p, char *buf, size_t size)
{
    if (buf != NULL && size > 0) {
        buf[0] = '\0';
    }
    if (p == NULL || p->model == NULL) {
        return invalid(buf, size,
                       "no problem or no model given: pass a plan_problem_t whose "
                       "model points at a plan_model_t");
    }
    if ((p->n_jobs > 0 && p->jobs == NULL) || (p->n_engineers > 0 && p->engineers == NULL)) {
        return invalid(buf, size, "%zu jobs and %zu engineers announced but an array is NULL",
                       p->n_jobs, p->n_engineers);
    }
    size_t nodes = p->n_jobs + p->n_engineers;
    for (size_t e = 0; e < p->n_engineers && nodes <= MAX_NODES; e++) {
        nodes += p->engineers[e].n_bookings;
    }
    if (nodes > MAX_NODES) {
        return invalid(buf, size,
                       "the plan has more than %d places (jobs, home bases and bookings): "
                       "plan fewer jobs or fewer engineers at once",
                       MAX_NODES);
    }
    if (p->model->table != NULL && p->model->table_n > 46340) {
        return invalid(buf, size, "the travel table has %zu places, more than 46340",
                       p->model->table_n);
    }
    for (size_t i = 0; i < p->n_jobs; i++) {
        const plan_job_t *j = &p->jobs[i];
        if (j->name == NULL) {
            return invalid(buf, size, "job %zu has no name: give every job one (J-123)", i);
        }
        if (j->duration <= 0) {
            return invalid(buf, size,
                           "job %s has duration %lld s: give it a positive duration in seconds",
                           j->name, (long long)j->duration);
        }
        if (j->window_start != PLAN_NO_TIME && j->window_end != PLAN_NO_TIME &&
            j->window_end <= j->window_start) {
            return invalid(buf, size,
                           "the window of job %s ends before it starts: swap its "
                           "ends or leave one open (PLAN_NO_TIME)",
                           j->name);
        }
    }
    for (size_t e = 0; e < p->n_engineers; e++) {
        const plan_engineer_t *en = &p->engineers[e];
        if (en->name == NULL) {
            return invalid(buf, size, "engineer %zu has no name: give every engineer one", e);
        }
        if ((en->n_shifts > 0 && en->shifts == NULL) ||
            (en->n_absences > 0 && en->absences == NULL) ||
            (en->n_bookings > 0 && en->bookings == NULL) ||
            (en->n_regions > 0 && en->regions == NULL)) {
            return invalid(buf, size,
                           "engineer %s announces shifts, absences, bookings or "
                           "regions but the array is NULL",
                           en->name);
        }
        for (size_t k = 0; k < en->n_shifts; k++) {
            if (en->shifts[k].end <= en->shifts[k].start) {
                return invalid(buf, size,
                               "shift %zu of %s ends before it starts: give shifts "
                               "as [start, end) in UTC seconds",
                               k, en->name);
            }
        }
        for (size_t k = 0; k < en->n_absences; k++) {
            if (en->absences[k].end <= en->absences[k].start) {
                return invalid(buf, size, "absence %zu of %s ends before it starts", k, en->name);
            }
        }
        for (size_t b = 0; b < en->n_bookings; b++) {
            const plan_job_t *bj = en->bookings[b].job;
            if (bj == NULL || bj->duration <= 0) {
                return invalid(buf, size, "booking %zu of %s has no job or a duration <= 0", b,
                               en->name);
            }
        }
    }
    return 0;
}

static int validate(const plan_problem_t *p)
{
    return plan_problem_validate(p, NULL, 0);
}

static int job_compatible(const plan_engineer_t *e, const plan_job_t *j)
{
    if ((j->skills & ~e->skills) != 0) {
        return 0;
    }
    if (j->region >= 0 && e->n_regions > 0) {
        for (size_t i = 0; i < e->n_regions; i++) {
            if (e->regions[i] == j->region) {
                return 1;
            }
        }
        return 0;
    }
    return 1;
}

/* Where node n is, for the travel model. */
static void node_place(const ctx_t *c, size_t n, plan_point_t *pt, int *place)
{
    const plan_problem_t *p = c->p;
    if (n < c->nj) {
        *pt = p->jobs[n].site;
        *place = p->jobs[n].place;
    } else if (n < c->nj + c->ne) {
        *pt = p->engineers[n - c->nj].home;
        *place = p->engineers[n - c->nj].home_place;
    } else {
        size_t f = n - c->nj - c->ne, e = 0;
        while (f >= p->engineers[e].n_bookings) {
            f -= p->engineers[e].n_bookings;
            e++;
        }
        *pt = p->engineers[e].bookings[f].job->site;
        *place = p->engineers[e].bookings[f].job->place;
    }
}

static int ctx_init(ctx_t *c, const plan_problem_t *p)
{
    plan_point_t *pts = NULL;
    int *places = NULL;

    memset(c, 0, sizeof(*c));
    c->p = p;
    c->nj = p->n_jobs;
    c->ne = p->n_engineers;
    size_t n_shifts = 0, n_blocks = 0;
    for (size_t e = 0; e < c->ne; e++) {
        c->nf += p->engineers[e].n_bookings;
        n_shifts += p->engineers[e].n_shifts;
        /* each absence splits a shift at most once more */
        n_blocks += p->engineers[e].n_shifts * (1 + p->engineers[e].n_absences);
    }
    c->nn = c->nj + c->ne + c->nf;
    size_t nn = c->nn;

    c->T = malloc(sizeof(int32_t) * (nn * nn > 0 ? nn * nn : 1));
    c->compat = calloc(c->ne * c->nj + 1, 1);
    c->dur = calloc(nn + 1, sizeof(int64_t));
    c->ws = calloc(nn + 1, sizeof(int64_t));
    c->we = calloc(nn + 1, sizeof(int64_t));
    c->due = calloc(nn + 1, sizeof(int64_t));
    c->fstart = calloc(nn + 1, sizeof(int64_t));
    c->weight = calloc(c->nj + 1, sizeof(int32_t));
    c->fidx = calloc(nn + 1, sizeof(size_t));
    c->blocks = calloc(n_blocks + 1, sizeof(block_t));
    c->blk_off = calloc(c->ne + 1, sizeof(size_t));
    c->blk_n = calloc(c->ne + 1, sizeof(size_t));
    c->shifts = calloc(n_shifts + 1, sizeof(plan_interval_t));
    c->sh_off = calloc(c->ne + 1, sizeof(size_t));
    c->sh_n = calloc(c->ne + 1, sizeof(size_t));
    c->fixed = calloc(c->nf + 1, sizeof(int32_t));
    c->fx_off = calloc(c->ne + 1, sizeof(size_t));
    c->fx_n = calloc(c->ne + 1, sizeof(size_t));
    if (!c->T || !c->compat || !c->dur || !c->ws || !c->we || !c->due || !c->fstart || !c->weight ||
        !c->fidx || !c->blocks || !c->blk_off || !c->blk_n || !c->shifts || !c->sh_off ||
        !c->sh_n || !c->fixed || !c->fx_off || !c->fx_n) {
        goto fail;
    }

    for (size_t j = 0; j < c->nj; j++) {
        const plan_job_t *jb = &p->jobs[j];
        c->dur[j] = jb->duration;
        c->ws[j] = jb->window_start == PLAN_NO_TIME ? INT64_MIN / 4 : jb->window_start;
        if (p->now != 0 && c->ws[j] < p->now) {
            c->ws[j] = p->now; /* not in the past */
        }
        c->we[j] = jb->window_end == PLAN_NO_TIME ? INT64_MAX / 4 : jb->window_end;
        c->due[j] = jb->sla_due == PLAN_NO_TIME ? INT64_MAX / 4 : jb->sla_due;
        int pr = jb->priority < 1 ? 1 : jb->priority > 5 ? 5 : jb->priority;
        c->weight[j] = 6 - pr;
        for (size_t e = 0; e < c->ne; e++) {
            c->compat[e * c->nj + j] = (uint8_t)job_compatible(&p->engineers[e], jb);
        }
    }

    size_t f = c->nj + c->ne, sh = 0, bl = 0, fx = 0;
    for (size_t e = 0; e < c->ne; e++) {
        const plan_engineer_t *en = &p->engineers[e];
        /* Fixed nodes, sorted by start (insertion sort: few per engineer). */
        c->fx_off[e] = fx;
        for (size_t b = 0; b < en->n_bookings; b++, f++) {
            const plan_job_t *jb = en->bookings[b].job;
            c->dur[f] = jb->duration;
            c->fstart[f] = en->bookings[b].start;
            c->due[f] = jb->sla_due == PLAN_NO_TIME ? INT64_MAX / 4 : jb->sla_due;
            c->fidx[f] = b;
            size_t k = fx;
            while (k > c->fx_off[e] && c->fstart[c->fixed[k - 1]] > c->fstart[f]) {
                c->fixed[k] = c->fixed[k - 1];
                k--;
            }
            c->fixed[k] = (int32_t)f;
            fx++;
        }
        c->fx_n[e] = en->n_bookings;

        /* Shifts sorted; blocks are shifts minus absences. */
        c->sh_off[e] = sh;
        c->sh_n[e] = en->n_shifts;
        if (en->n_shifts > 0) {
            memcpy(&c->shifts[sh], en->shifts, en->n_shifts * sizeof(plan_interval_t));
        }
        qsort(&c->shifts[sh], en->n_shifts, sizeof(plan_interval_t), cmp_interval);
        c->blk_off[e] = bl;
        for (size_t s = 0; s < en->n_shifts; s++) {
            plan_interval_t shift = c->shifts[sh + s];
            int64_t cur = shift.start;
            while (cur < shift.end) {
                /* the earliest absence that meets [cur, shift.end) */
                int64_t a_start = shift.end, a_end = shift.end;
                for (size_t a = 0; a < en->n_absences; a++) {
                    const plan_absence_t *ab = &en->absences[a];
                    if (ab->end > cur && ab->start < shift.end && ab->start < a_start) {
                        a_start = ab->start;
                        a_end = ab->end;
                    }
                }
                if (a_start > cur) {
                    c->blocks[bl].start = cur;
                    c->blocks[bl].end = a_start < shift.end ? a_start : shift.end;
                    c->blocks[bl].shift = (int32_t)s;
                    bl++;
                }
                /* merge absences that overlap the one found */
                int moved = 1;
                while (moved) {
                    moved = 0;
                    for (size_t a = 0; a < en->n_absences; a++) {
                        const plan_absence_t *ab = &en->absences[a];
                        if (ab->start <= a_end && ab->end > a_end) {
                            a_end = ab->end;
                            moved = 1;
                        }
                    }
                }
                cur = a_end > cur ? a_end : shift.end;
                if (bl >= n_blocks) {
                    break;
                }
            }
        }
        c->blk_n[e] = bl - c->blk_off[e];
        sh += en->n_shifts;
    }

    /* The same function as plan_check() uses, so that both agree to the second. */
    pts = malloc((nn + 1) * sizeof(plan_point_t));
    places = malloc((nn + 1) * sizeof(int));
    if (pts == NULL || places == NULL) {
        goto fail;
    }
    for (size_t a = 0; a < nn; a++) {
        node_place(c, a, &pts[a], &places[a]);
    }
    for (size_t a = 0; a < nn; a++) {
        for (size_t b = 0; b < nn; b++) {
            int64_t t = a == b ? 0 : plan_travel_s(p->model, pts[a], places[a], pts[b], places[b]);
            c->T[a * nn + b] = (int32_t)(t > INT32_MAX ? INT32_MAX : t);
        }
    }
    free(pts);
    free(places);
    return 0;

fail:
    free(pts);
    free(places);
    ctx_free(c);
    return ACS_ENOMEM;
}

/* The index of engineer e's shift containing t, or -1. */
static int32_t shift_of(const ctx_t *c, size_t e, int64_t t)
{
    const plan_interval_t *s = &c->shifts[c->sh_off[e]];
    size_t lo = 0, hi = c->sh_n[e];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (s[mid].end <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < c->sh_n[e] && s[lo].start <= t ? (int32_t)lo : -1;
}

/* ---- Route simulation -------------------------------------------------------------------- */

static state_t state_init(const ctx_t *c, size_t e)
{
    state_t s = {INT64_MIN / 4, (int32_t)(c->nj + e), -1, 0, 0, 0, 0};
    return s;
}

#define TT(c, a, b) ((int64_t)(c)->T[(size_t)(a) * (c)->nn + (size_t)(b)])

/* Visit node v after state *s. Returns 0, or -1 when v cannot be visited there. */
static int step(const ctx_t *c, size_t e, state_t *s, int32_t v, stop_info_t *info)
{
    int32_t home = (int32_t)(c->nj + e);
    int64_t start, arrival, leg, approach;
    int32_t k;

    if ((size_t)v >= c->nj) { /* a booking: it stays where it is */
        start = c->fstart[v];
        k = shift_of(c, e, start);
        approach = TT(c, s->has ? s->loc : home, v);
        if (s->has && s->t + approach > start) {
            return -1;
        }
        if (s->has && k >= 0 && k == s->k) {
            leg = approach;
            arrival = s->t + approach;
        } else {
            approach = TT(c, home, v);
            leg = (s->has ? TT(c, s->loc, home) : 0) + approach;
            arrival = start;
        }
    } else {
        const block_t *blk = &c->blocks[c->blk_off[e]];
        size_t nb = c->blk_n[e], b = (size_t)s->bi;
        int found = 0;
        int64_t dur = c->dur[v];
        if (c->compat[e * c->nj + (size_t)v] == 0) {
            return -1;
        }
        start = arrival = leg = approach = 0;
        k = -1;
        for (; b < nb; b++) {
            if (blk[b].start + dur > c->we[v]) {
                break;
            }
            if (blk[b].end <= s->t) {
                continue;
            }
            if (s->has && blk[b].shift == s->k) {
                approach = TT(c, s->loc, v);
                leg = approach;
                arrival = s->t + approach;
            } else {
                approach = TT(c, home, v);
                leg = (s->has ? TT(c, s->loc, home) : 0) + approach;
                arrival = blk[b].start + approach;
                if (s->has) {
                    arrival = max64(arrival, s->t + TT(c, s->loc, v));
                }
            }
            start = max64(max64(arrival, blk[b].start), c->ws[v]);
            if (start + dur <= blk[b].end && start + dur <= c->we[v]) {
                k = blk[b].shift;
                found = 1;
                break;
            }
        }
        if (!found) {
            return -1;
        }
    }

    int64_t end = start + c->dur[v];
    int64_t late = end > c->due[v] ? end - c->due[v] : 0;
    if ((size_t)v < c->nj) {
        s->late += late;
    }
    s->travel += leg;
    s->t = end;
    s->loc = v;
    s->k = k;
    s->has = 1;
    const block_t *blk = &c->blocks[c->blk_off[e]];
    while ((size_t)s->bi < c->blk_n[e] && blk[s->bi].end <= end) {
        s->bi++;
    }
    if (info != NULL) {
        info->arrival = arrival;
        info->start = start;
        info->end = end;
        info->approach = approach;
        info->late = late;
    }
    return 0;
}

static int64_t home_leg(const ctx_t *c, size_t e, const state_t *s)
{
    return s->has ? TT(c, s->loc, c->nj + e) : 0;
}

static state_t state_before(const ctx_t *c, size_t e, const route_t *r, size_t pos)
{
    return pos == 0 ? state_init(c, e) : r->st[pos - 1];
}

/* Re-simulate route r of engineer e. Returns 0, or -1 if it is infeasible. */
static int route_eval(const ctx_t *c, size_t e, route_t *r)
{
    state_t s = state_init(c, e);
    for (size_t i = 0; i < r->len; i++) {
        if (step(c, e, &s, r->seq[i], NULL) != 0) {
            return -1;
        }
        r->st[i] = s;
    }
    r->late = s.late;
    r->travel = s.travel + home_leg(c, e, &s);
    return 0;
}

/* The cost (LATE_W * late + travel) of route r with the stops [pos, pos + n_remove) replaced
 * by ins[0..n_ins). INF_COST when infeasible. *first_end (may be NULL) gets the end of ins[0]. */
static int64_t replace_cost(const ctx_t *c, size_t e, const route_t *r, size_t pos, size_t n_remove,
                            const int32_t *ins, size_t n_ins, int64_t *first_end)
{
    state_t s = state_before(c, e, r, pos);
    for (size_t i = 0; i < n_ins; i++) {
        if (step(c, e, &s, ins[i], NULL) != 0) {
            return INF_COST;
        }
        if (i == 0 && first_end != NULL) {
            *first_end = s.t;
        }
    }
    for (size_t i = pos + n_remove; i < r->len; i++) {
        if (step(c, e, &s, r->seq[i], NULL) != 0) {
            return INF_COST;
        }
        if (s.t == r->st[i].t && s.k == r->st[i].k) {
            /* From here on the route runs as before. */
            int64_t late = s.late + (r->late - r->st[i].late);
            int64_t travel = s.travel + (r->travel - r->st[i].travel);
            return late * LATE_W + travel;
        }
    }
    return s.late * LATE_W + s.travel + home_leg(c, e, &s);
}

/* The cost of r[0..pos) followed by tail[0..n]. INF_COST when infeasible. */
static int64_t tail_cost(const ctx_t *c, size_t e, const route_t *r, size_t pos,
                         const int32_t *tail, size_t n)
{
    state_t s = state_before(c, e, r, pos);
    for (size_t i = 0; i < n; i++) {
        if (step(c, e, &s, tail[i], NULL) != 0) {
            return INF_COST;
        }
    }
    return s.late * LATE_W + s.travel + home_leg(c, e, &s);
}

static int64_t route_cost(const route_t *r)
{
    return r->late * LATE_W + r->travel;
}

static int is_free(const ctx_t *c, int32_t v)
{
    return (size_t)v < c->nj;
}

/* ---- Solutions --------------------------------------------------------------------------- */

static void sol_free(sol_t *s, size_t ne)
{
    if (s->r != NULL) {
        for (size_t e = 0; e < ne; e++) {
            free(s->r[e].seq);
            free(s->r[e].st);
        }
    }
    free(s->r);
    free(s->where);
    memset(s, 0, sizeof(*s));
}

static int route_reserve(route_t *r, size_t need)
{
    if (need == 0) {
        need = 1; /* never a NULL sequence, even for an empty route */
    }
    if (need <= r->cap) {
        return 0;
    }
    size_t cap = r->cap * 2 > need ? r->cap * 2 : need + 8;
    int32_t *seq = realloc(r->seq, cap * sizeof(int32_t));
    if (seq == NULL) {
        return ACS_ENOMEM;
    }
    r->seq = seq;
    state_t *st = realloc(r->st, cap * sizeof(state_t));
    if (st == NULL) {
        return ACS_ENOMEM;
    }
    r->st = st;
    r->cap = cap;
    return 0;
}

static void sol_totals(const ctx_t *c, sol_t *s)
{
    s->late = s->travel = s->unw = 0;
    for (size_t e = 0; e < c->ne; e++) {
        s->late += s->r[e].late;
        s->travel += s->r[e].travel;
    }
    for (size_t j = 0; j < c->nj; j++) {
        if (s->where[j] == NO_ENG) {
            s->unw += c->weight[j];
        }
    }
}

/* A solution holding only the bookings. Fails with ACS_ENOMEM, or ACS_ECONFLICT when the
 * bookings of an engineer cannot follow each other (treated by the caller as "as given"). */
static int sol_init(const ctx_t *c, sol_t *s)
{
    memset(s, 0, sizeof(*s));
    s->r = calloc(c->ne + 1, sizeof(route_t));
    s->where = malloc((c->nj + 1) * sizeof(int32_t));
    if (s->r == NULL || s->where == NULL) {
        goto fail;
    }
    for (size_t j = 0; j < c->nj; j++) {
        s->where[j] = NO_ENG;
    }
    for (size_t e = 0; e < c->ne; e++) {
        route_t *r = &s->r[e];
        if (route_reserve(r, c->fx_n[e] + 8) != 0) {
            goto fail;
        }
        memcpy(r->seq, &c->fixed[c->fx_off[e]], c->fx_n[e] * sizeof(int32_t));
        r->len = c->fx_n[e];
        if (route_eval(c, e, r) != 0) {
            /* Bookings that already conflict: keep them, but nothing can be added. A route
             * that fails evaluation refuses every insertion below. */
            r->late = 0;
            r->travel = 0;
        }
    }
    sol_totals(c, s);
    return 0;

fail:
    sol_free(s, c->ne);
    return ACS_ENOMEM;
}

static int sol_copy(const ctx_t *c, sol_t *dst, const sol_t *src)
{
    for (size_t e = 0; e < c->ne; e++) {
        route_t *d = &dst->r[e];
        const route_t *r = &src->r[e];
        if (route_reserve(d, r->len) != 0) {
            return ACS_ENOMEM;
        }
        memcpy(d->seq, r->seq, r->len * sizeof(int32_t));
        memcpy(d->st, r->st, r->len * sizeof(state_t));
        d->len = r->len;
        d->late = r->late;
        d->travel = r->travel;
    }
    memcpy(dst->where, src->where, c->nj * sizeof(int32_t));
    dst->unw = src->unw;
    dst->late = src->late;
    dst->travel = src->travel;
    return 0;
}

static int sol_clone(const ctx_t *c, sol_t *dst, const sol_t *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->r = calloc(c->ne + 1, sizeof(route_t));
    dst->where = malloc((c->nj + 1) * sizeof(int32_t));
    if (dst->r == NULL || dst->where == NULL || sol_copy(c, dst, src) != 0) {
        sol_free(dst, c->ne);
        return ACS_ENOMEM;
    }
    return 0;
}

/* Whether the bookings of route r are consistent (the route evaluates). Routes whose
 * bookings conflict accept nothing. */
static int route_ok(const ctx_t *c, size_t e, const route_t *r)
{
    state_t s = state_init(c, e);
    for (size_t i = 0; i < r->len; i++) {
        if (step(c, e, &s, r->seq[i], NULL) != 0) {
            return 0;
        }
    }
    return 1;
}

/* Change route e: apply the edit and re-evaluate. The edit was evaluated feasible. */
static int route_replace(const ctx_t *c, sol_t *s, size_t e, size_t pos, size_t n_remove,
                         const int32_t *ins, size_t n_ins)
{
    route_t *r = &s->r[e];
    if (route_reserve(r, r->len - n_remove + n_ins) != 0) {
        return ACS_ENOMEM;
    }
    for (size_t i = pos; i < pos + n_remove; i++) {
        /* A job moving between two routes may already be recorded in its new one. */
        if ((size_t)r->seq[i] < c->nj && s->where[r->seq[i]] == (int32_t)e) {
            s->where[r->seq[i]] = NO_ENG;
        }
    }
    memmove(&r->seq[pos + n_ins], &r->seq[pos + n_remove],
            (r->len - pos - n_remove) * sizeof(int32_t));
    if (n_ins > 0) {
        memcpy(&r->seq[pos], ins, n_ins * sizeof(int32_t));
    }
    r->len = r->len - n_remove + n_ins;
    for (size_t i = 0; i < n_ins; i++) {
        s->where[ins[i]] = (int32_t)e;
    }
    route_eval(c, e, r);
    return 0;
}

/* ---- Insertion --------------------------------------------------------------------------- */

typedef struct {
    int64_t delta;
    uint32_t pos;
} ins_t;

static ins_t best_insertion(const ctx_t *c, const sol_t *s, size_t e, int32_t v,
                            const uint8_t *route_valid)
{
    ins_t best = {INF_COST, 0};
    const route_t *r = &s->r[e];
    if (!c->compat[e * c->nj + (size_t)v] || !route_valid[e]) {
        return best;
    }
    int64_t base = route_cost(r);
    for (size_t pos = 0; pos <= r->len; pos++) {
        /* Past a stop that ends after the window closes, no later position works. */
        if (pos > 0 && r->st[pos - 1].t + c->dur[v] > c->we[v]) {
            break;
        }
        int64_t cost = replace_cost(c, e, r, pos, 0, &v, 1, NULL);
        if (cost != INF_COST && cost - base < best.delta) {
            best.delta = cost - base;
            best.pos = (uint32_t)pos;
        }
    }
    return best;
}

/* Regret insertion of jobs[0..n) into s (each either inserted or left out). regret_k is 2 or
 * 3; noise > 0 perturbs the comparison of insertion costs (seeded). */
static int regret_insert(const ctx_t *c, sol_t *s, const int32_t *jobs, size_t n, int regret_k,
                         double noise, uint64_t *rng, const uint8_t *route_valid)
{
    if (n == 0) {
        return 0;
    }
    ins_t *tab = malloc(n * c->ne * sizeof(ins_t));
    uint8_t *active = malloc(n);
    if (tab == NULL || active == NULL) {
        free(tab);
        free(active);
        return ACS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        active[i] = 1;
        for (size_t e = 0; e < c->ne; e++) {
            tab[i * c->ne + e] = best_insertion(c, s, e, jobs[i], route_valid);
        }
    }
    for (;;) {
        size_t pick = n, pick_e = 0;
        double pick_score = -1.0;
        int64_t pick_c1 = INF_COST;
        int32_t pick_w = 0;
        for (size_t i = 0; i < n; i++) {
            if (!active[i]) {
                continue;
            }
            int64_t c1 = INF_COST, c2 = INF_COST, c3 = INF_COST;
            size_t e1 = 0;
            for (size_t e = 0; e < c->ne; e++) {
                int64_t d = tab[i * c->ne + e].delta;
                if (d < c1) {
                    c3 = c2;
                    c2 = c1;
                    c1 = d;
                    e1 = e;
                } else if (d < c2) {
                    c3 = c2;
                    c2 = d;
                } else if (d < c3) {
                    c3 = d;
                }
            }
            if (c1 == INF_COST) {
                continue;
            }
            /* One place left: insert before it closes. */
            double score = c2 == INF_COST ? 1e18 : (double)(c2 - c1);
            if (regret_k >= 3) {
                score += c3 == INF_COST ? 1e17 : (double)(c3 - c1);
            }
            if (noise > 0.0) {
                score *= 1.0 + noise * (rng_unit(rng) - 0.5);
            }
            int32_t w = c->weight[jobs[i]];
            if (score > pick_score ||
                (score == pick_score && (w > pick_w || (w == pick_w && c1 < pick_c1)))) {
                pick = i;
                pick_e = e1;
                pick_score = score;
                pick_c1 = c1;
                pick_w = w;
            }
        }
        if (pick == n) {
            break;
        }
        int32_t v = jobs[pick];
        if (route_replace(c, s, pick_e, tab[pick * c->ne + pick_e].pos, 0, &v, 1) != 0) {
            free(tab);
            free(active);
            return ACS_ENOMEM;
        }
        active[pick] = 0;
        for (size_t i = 0; i < n; i++) {
            if (active[i]) {
                tab[i * c->ne + pick_e] = best_insertion(c, s, pick_e, jobs[i], route_valid);
            }
        }
    }
    free(tab);
    free(active);
    sol_totals(c, s);
    return 0;
}

/* ---- Greedy baseline --------------------------------------------------------------------- */

/* Earliest-deadline order: SLA due, else window end; then priority; then input order. */
typedef struct {
    int64_t deadline;
    int32_t weight;
    int32_t job;
} edf_key_t;

static int cmp_deadline(const void *a, const void *b)
{
    const edf_key_t *x = a, *y = b;
    if (x->deadline != y->deadline) {
        return x->deadline < y->deadline ? -1 : 1;
    }
    if (x->weight != y->weight) {
        return x->weight > y->weight ? -1 : 1;
    }
    return x->job < y->job ? -1 : x->job > y->job;
}

static int greedy_build(const ctx_t *c, sol_t *s, const uint8_t *route_valid)
{
    edf_key_t *order = malloc((c->nj + 1) * sizeof(edf_key_t));
    if (order == NULL) {
        return ACS_ENOMEM;
    }
    for (size_t j = 0; j < c->nj; j++) {
        order[j].job = (int32_t)j;
        order[j].weight = c->weight[j];
        order[j].deadline = c->due[j] < INT64_MAX / 4 ? c->due[j] : c->we[j];
    }
    qsort(order, c->nj, sizeof(edf_key_t), cmp_deadline);

    int rc = 0;
    for (size_t i = 0; i < c->nj; i++) {
        int32_t v = order[i].job;
        int64_t best_end = INF_COST, best_delta = INF_COST;
        size_t best_e = 0, best_pos = 0;
        for (size_t e = 0; e < c->ne; e++) {
            const route_t *r = &s->r[e];
            if (!c->compat[e * c->nj + (size_t)v] || !route_valid[e]) {
                continue;
            }
            int64_t base = route_cost(r);
            for (size_t pos = 0; pos <= r->len; pos++) {
                /* A free slot of the calendar: the job fits without moving the next one. */
                state_t st = state_before(c, e, r, pos);
                if (step(c, e, &st, v, NULL) != 0) {
                    continue;
                }
                int64_t end = st.t;
                if (pos < r->len &&
                    (step(c, e, &st, r->seq[pos], NULL) != 0 || st.t != r->st[pos].t)) {
                    continue;
                }
                int64_t cost = replace_cost(c, e, r, pos, 0, &v, 1, NULL);
                if (cost == INF_COST) {
                    continue;
                }
                if (end < best_end || (end == best_end && cost - base < best_delta)) {
                    best_end = end;
                    best_delta = cost - base;
                    best_e = e;
                    best_pos = pos;
                }
            }
        }
        if (best_end != INF_COST) {
            rc = route_replace(c, s, best_e, best_pos, 0, &v, 1);
            if (rc != 0) {
                break;
            }
        }
    }
    free(order);
    sol_totals(c, s);
    return rc;
}

/* ---- Local search ------------------------------------------------------------------------ */

typedef struct {
    const ctx_t *c;
    const uint8_t *valid;
    uint64_t *rng;
    double deadline_ms; /* 0: none */
    int32_t *buf;       /* scratch: two halves of buf_half entries each */
    size_t buf_half;
} search_t;

static int out_of_time(const search_t *x)
{
    return x->deadline_ms > 0.0 && now_ms() > x->deadline_ms;
}

static int ensure_buf(search_t *x, size_t need)
{
    if (need <= x->buf_half) {
        return 0;
    }
    int32_t *b = realloc(x->buf, need * 2 * sizeof(int32_t));
    if (b == NULL) {
        return ACS_ENOMEM;
    }
    x->buf = b;
    x->buf_half = need;
    return 0;
}

/* Or-opt / relocate: move the run of `len` planned jobs starting at position i of route a to
 * the best position of any route. Returns 1 if it improved s, 0 if not, negative on error. */
static int try_move_run(search_t *x, sol_t *s, size_t a, size_t i, size_t len)
{
    const ctx_t *c = x->c;
    route_t *ra = &s->r[a];
    if (i + len > ra->len) {
        return 0;
    }
    for (size_t k = i; k < i + len; k++) {
        if (!is_free(c, ra->seq[k])) {
            return 0;
        }
    }
    int32_t run[3];
    memcpy(run, &ra->seq[i], len * sizeof(int32_t));
    int64_t old_a = route_cost(ra);
    int64_t new_a = replace_cost(c, a, ra, i, len, NULL, 0, NULL);
    if (new_a == INF_COST) {
        return 0;
    }
    int64_t gain_a = old_a - new_a; /* what taking the run out saves */
    int64_t best = 0;
    size_t best_b = 0, best_pos = 0;
    int found = 0;

    for (size_t b = 0; b < c->ne; b++) {
        if (!x->valid[b]) {
            continue;
        }
        int ok = 1;
        for (size_t k = 0; k < len; k++) {
            ok &= c->compat[b * c->nj + (size_t)run[k]];
        }
        if (!ok) {
            continue;
        }
        route_t *rb = &s->r[b];
        if (b == a) {
            /* Same route: build it without the run, then try every other position. */
            if (ensure_buf(x, ra->len + 4) != 0) {
                return ACS_ENOMEM;
            }
            size_t m = 0;
            for (size_t k = 0; k < ra->len; k++) {
                if (k < i || k >= i + len) {
                    x->buf[m++] = ra->seq[k];
                }
            }
            for (size_t pos = 0; pos <= m; pos++) {
                if (pos == i) {
                    continue;
                }
                size_t from = pos < i ? pos : i;
                int32_t *tail = x->buf + x->buf_half;
                size_t t = 0;
                for (size_t k = from; k <= m; k++) {
                    if (k == pos) {
                        for (size_t q = 0; q < len; q++) {
                            tail[t++] = run[q];
                        }
                    }
                    if (k < m) {
                        tail[t++] = x->buf[k];
                    }
                }
                int64_t cost = tail_cost(c, a, ra, from, tail, t);
                if (cost != INF_COST && old_a - cost > best) {
                    best = old_a - cost;
                    best_b = a;
                    best_pos = pos;
                    found = 1;
                }
            }
            continue;
        }
        int64_t base = route_cost(rb);
        for (size_t pos = 0; pos <= rb->len; pos++) {
            if (pos > 0 && rb->st[pos - 1].t + c->dur[run[0]] > c->we[run[0]]) {
                break;
            }
            int64_t cost = replace_cost(c, b, rb, pos, 0, run, len, NULL);
            if (cost == INF_COST) {
                continue;
            }
            int64_t gain = gain_a - (cost - base);
            if (gain > best) {
                best = gain;
                best_b = b;
                best_pos = pos;
                found = 1;
            }
        }
    }
    if (!found) {
        return 0;
    }
    if (best_b == a) {
        int rc = route_replace(c, s, a, i, len, NULL, 0);
        if (rc == 0) {
            rc = route_replace(c, s, a, best_pos, 0, run, len);
        }
        return rc == 0 ? 1 : rc;
    }
    int rc = route_replace(c, s, a, i, len, NULL, 0);
    if (rc == 0) {
        rc = route_replace(c, s, best_b, best_pos, 0, run, len);
    }
    return rc == 0 ? 1 : rc;
}

/* Exchange: job at a[i] trades places with a job of another route. */
static int try_exchange(search_t *x, sol_t *s, size_t a, size_t i)
{
    const ctx_t *c = x->c;
    route_t *ra = &s->r[a];
    int32_t u = ra->seq[i];
    if (!is_free(c, u)) {
        return 0;
    }
    int64_t old_a = route_cost(ra);
    for (size_t b = 0; b < c->ne; b++) {
        if (b == a || !x->valid[b] || !c->compat[b * c->nj + (size_t)u]) {
            continue;
        }
        route_t *rb = &s->r[b];
        int64_t old_b = route_cost(rb);
        for (size_t k = 0; k < rb->len; k++) {
            int32_t w = rb->seq[k];
            if (!is_free(c, w) || !c->compat[a * c->nj + (size_t)w]) {
                continue;
            }
            int64_t na = replace_cost(c, a, ra, i, 1, &w, 1, NULL);
            if (na == INF_COST) {
                continue;
            }
            int64_t nb = replace_cost(c, b, rb, k, 1, &u, 1, NULL);
            if (nb == INF_COST) {
                continue;
            }
            if (na + nb < old_a + old_b) {
                int rc = route_replace(c, s, a, i, 1, &w, 1);
                if (rc == 0) {
                    rc = route_replace(c, s, b, k, 1, &u, 1);
                }
                return rc == 0 ? 1 : rc;
            }
        }
    }
    return 0;
}

/* 2-opt*: routes a and b swap the tails after positions i and k (tails of planned jobs only,
 * since bookings stay with their engineer). */
static int try_two_opt_star(search_t *x, sol_t *s, size_t a, size_t b)
{
    const ctx_t *c = x->c;
    route_t *ra = &s->r[a], *rb = &s->r[b];
    /* The first position from which each tail holds only planned jobs. */
    size_t fa = ra->len, fb = rb->len;
    while (fa > 0 && is_free(c, ra->seq[fa - 1])) {
        fa--;
    }
    while (fb > 0 && is_free(c, rb->seq[fb - 1])) {
        fb--;
    }
    int64_t old = route_cost(ra) + route_cost(rb);
    for (size_t i = fa; i <= ra->len; i++) {
        /* the tail of a from i must suit b */
        int ok_ab = 1;
        for (size_t q = i; q < ra->len && ok_ab; q++) {
            ok_ab = c->compat[b * c->nj + (size_t)ra->seq[q]];
        }
        if (!ok_ab) {
            continue;
        }
        for (size_t k = fb; k <= rb->len; k++) {
            if (i == ra->len && k == rb->len) {
                continue;
            }
            int ok_ba = 1;
            for (size_t q = k; q < rb->len && ok_ba; q++) {
                ok_ba = c->compat[a * c->nj + (size_t)rb->seq[q]];
            }
            if (!ok_ba) {
                continue;
            }
            int64_t na = tail_cost(c, a, ra, i, &rb->seq[k], rb->len - k);
            if (na == INF_COST) {
                continue;
            }
            int64_t nb = tail_cost(c, b, rb, k, &ra->seq[i], ra->len - i);
            if (nb == INF_COST || na + nb >= old) {
                continue;
            }
            if (ensure_buf(x, ra->len + rb->len + 4) != 0) {
                return ACS_ENOMEM;
            }
            size_t ta = ra->len - i, tb = rb->len - k;
            memcpy(x->buf, &ra->seq[i], ta * sizeof(int32_t));
            memcpy(x->buf + ta, &rb->seq[k], tb * sizeof(int32_t));
            int rc = route_replace(c, s, a, i, ta, x->buf + ta, tb);
            if (rc == 0) {
                rc = route_replace(c, s, b, k, tb, x->buf, ta);
            }
            return rc == 0 ? 1 : rc;
        }
    }
    return 0;
}

/* Local search to a local optimum (or the deadline). Returns 0 or ACS_ENOMEM. */
static int local_search(search_t *x, sol_t *s)
{
    const ctx_t *c = x->c;
    int32_t *order = malloc((c->nj + 1) * sizeof(int32_t));
    if (order == NULL) {
        return ACS_ENOMEM;
    }
    int improved = 1, rc = 0;
    for (int pass = 0; improved && pass < 50 && rc >= 0; pass++) {
        improved = 0;
        for (size_t j = 0; j < c->nj; j++) {
            order[j] = (int32_t)j;
        }
        for (size_t j = c->nj; j > 1; j--) {
            size_t k = rng_below(x->rng, j);
            int32_t t = order[j - 1];
            order[j - 1] = order[k];
            order[k] = t;
        }
        for (size_t n = 0; n < c->nj && rc >= 0; n++) {
            int32_t v = order[n];
            if (s->where[v] == NO_ENG) {
                continue;
            }
            if ((n & 31) == 0 && out_of_time(x)) {
                goto done;
            }
            for (size_t len = 1; len <= 3 && rc >= 0; len++) {
                size_t a = (size_t)s->where[v], i = 0;
                while (s->r[a].seq[i] != v) {
                    i++;
                }
                rc = try_move_run(x, s, a, i, len);
                if (rc > 0) {
                    improved = 1;
                    break;
                }
            }
            if (rc < 0 || s->where[v] == NO_ENG) {
                continue;
            }
            size_t a = (size_t)s->where[v], i = 0;
            while (s->r[a].seq[i] != v) {
                i++;
            }
            rc = try_exchange(x, s, a, i);
            improved |= rc > 0;
        }
        for (size_t a = 0; a < c->ne && rc >= 0; a++) {
            if (out_of_time(x)) {
                goto done;
            }
            for (size_t b = a + 1; b < c->ne && rc >= 0; b++) {
                if (x->valid[a] && x->valid[b]) {
                    rc = try_two_opt_star(x, s, a, b);
                    improved |= rc > 0;
                }
            }
        }
        if (rc > 0) {
            rc = 0;
        }
    }
done:
    free(order);
    sol_totals(c, s);
    return rc < 0 ? rc : 0;
}

/* ---- Ruin and recreate ------------------------------------------------------------------- */

/* Remove up to q planned jobs: at random, or the ones nearest in place and time to a random
 * one. A job whose removal would make its route infeasible (the next job would then come
 * from the home base, later) stays. Returns how many were removed into removed[]. */
static size_t ruin(search_t *x, sol_t *s, size_t q, int32_t *removed, int64_t *key, int32_t *cand)
{
    const ctx_t *c = x->c;
    size_t n = 0, done = 0;
    for (size_t j = 0; j < c->nj; j++) {
        if (s->where[j] != NO_ENG) {
            cand[n++] = (int32_t)j;
        }
    }
    if (n == 0) {
        return 0;
    }
    int related = (int)(rng_next(x->rng) & 1);
    if (related) {
        int32_t seed = cand[rng_below(x->rng, n)];
        /* Half the time the seed is a late job, so that room is made around it. */
        if (rng_next(x->rng) & 1) {
            size_t n_late = 0;
            for (size_t i = 0; i < n; i++) {
                int32_t v = cand[i];
                const route_t *r = &s->r[s->where[v]];
                size_t p = 0;
                while (r->seq[p] != v) {
                    p++;
                }
                if (r->st[p].t > c->due[v] && rng_below(x->rng, ++n_late) == 0) {
                    seed = v; /* a uniform choice among the late ones */
                }
            }
        }
        const route_t *rs = &s->r[s->where[seed]];
        size_t ps = 0;
        while (rs->seq[ps] != seed) {
            ps++;
        }
        int64_t t0 = rs->st[ps].t;
        /* relatedness: travel from the seed plus half the time apart, a little noise */
        for (size_t i = 0; i < n; i++) {
            int32_t v = cand[i];
            const route_t *r = &s->r[s->where[v]];
            size_t p = 0;
            while (r->seq[p] != v) {
                p++;
            }
            int64_t dt = r->st[p].t > t0 ? r->st[p].t - t0 : t0 - r->st[p].t;
            key[v] = TT(c, seed, v) + dt / 2 + (int64_t)rng_below(x->rng, 600);
        }
    }
    for (size_t i = 0; i < n && done < q; i++) {
        /* pick the next candidate: random, or the most related left */
        size_t k = i;
        if (related) {
            for (size_t m = i + 1; m < n; m++) {
                if (key[cand[m]] < key[cand[k]]) {
                    k = m;
                }
            }
        } else {
            k = i + rng_below(x->rng, n - i);
        }
        int32_t v = cand[k];
        cand[k] = cand[i];
        cand[i] = v;

        size_t e = (size_t)s->where[v];
        route_t *r = &s->r[e];
        size_t p = 0;
        while (r->seq[p] != v) {
            p++;
        }
        if (replace_cost(c, e, r, p, 1, NULL, 0, NULL) == INF_COST) {
            continue;
        }
        route_replace(c, s, e, p, 1, NULL, 0);
        removed[done++] = v;
    }
    return done;
}

/* ---- Results ----------------------------------------------------------------------------- */

static plan_reason_t unassigned_reason(const ctx_t *c, size_t j)
{
    const plan_problem_t *p = c->p;
    const plan_job_t *jb = &p->jobs[j];
    plan_reason_t r;
    memset(&r, 0, sizeof(r));
    r.job = jb;
    r.start = r.end = PLAN_NO_TIME;
    r.other.start = jb->window_start;
    r.other.end = jb->window_end;

    uint64_t have = 0;
    for (size_t e = 0; e < c->ne; e++) {
        have |= p->engineers[e].skills;
    }
    uint64_t missing = jb->skills & ~have;
    if (missing != 0) {
        r.code = PLAN_R_NOBODY_SKILLED;
        for (int bit = 0; bit < PLAN_SKILLS_MAX; bit++) {
            if ((missing >> bit) & 1) {
                r.skill = bit;
                break;
            }
        }
        return r;
    }
    int any = 0, works = 0;
    for (size_t e = 0; e < c->ne; e++) {
        if (!c->compat[e * c->nj + j]) {
            continue;
        }
        any = 1;
        const block_t *blk = &c->blocks[c->blk_off[e]];
        for (size_t b = 0; b < c->blk_n[e]; b++) {
            int64_t s = max64(blk[b].start, c->ws[j]);
            int64_t en = blk[b].end < c->we[j] ? blk[b].end : c->we[j];
            if (en - s >= c->dur[j]) {
                works = 1;
            }
        }
    }
    if (!any) {
        /* Either nobody holds all the skills together, or nobody who does serves the region. */
        int skilled = 0;
        for (size_t e = 0; e < c->ne; e++) {
            skilled |= (jb->skills & ~p->engineers[e].skills) == 0;
        }
        r.code = skilled ? PLAN_R_NOBODY_REGION : PLAN_R_NOBODY_SKILLED;
        r.skill = -1;
        return r;
    }
    r.code = works ? PLAN_R_NO_ROOM : PLAN_R_NOBODY_SHIFT;
    return r;
}

static int build_result(const ctx_t *c, const sol_t *s, plan_result_t **out)
{
    plan_result_t *res = calloc(1, sizeof(*res));
    if (res == NULL) {
        return ACS_ENOMEM;
    }
    res->routes = calloc(c->ne + 1, sizeof(plan_route_t));
    res->unassigned = calloc(c->nj + 1, sizeof(plan_unassigned_t));
    if (res->routes == NULL || res->unassigned == NULL) {
        goto fail;
    }
    res->n_routes = c->ne;
    for (size_t e = 0; e < c->ne; e++) {
        const route_t *r = &s->r[e];
        plan_route_t *pr = &res->routes[e];
        pr->engineer = e;
        pr->stops = calloc(r->len + 1, sizeof(plan_stop_t));
        if (pr->stops == NULL) {
            goto fail;
        }
        pr->n_stops = r->len;
        state_t st = state_init(c, e);
        for (size_t i = 0; i < r->len; i++) {
            int32_t v = r->seq[i];
            stop_info_t info;
            plan_stop_t *stop = &pr->stops[i];
            if (step(c, e, &st, v, &info) != 0) {
                /* conflicting bookings: shown as given */
                info.start = info.arrival = c->fstart[v];
                info.end = info.start + c->dur[v];
                info.approach = 0;
                info.late = info.end > c->due[v] ? info.end - c->due[v] : 0;
                st.t = info.end;
                st.loc = v;
                st.has = 1;
            }
            stop->fixed = !is_free(c, v);
            stop->index = stop->fixed ? c->fidx[v] : (size_t)v;
            stop->arrival = info.arrival;
            stop->start = info.start;
            stop->end = info.end;
            stop->travel = info.approach;
            stop->lateness = info.late;
            if (!stop->fixed && info.late > 0) {
                res->n_late++;
            }
        }
        pr->travel = r->travel;
        pr->lateness = r->late;
        res->lateness += r->late;
        res->travel += r->travel;
    }
    for (size_t j = 0; j < c->nj; j++) {
        if (s->where[j] == NO_ENG) {
            plan_unassigned_t *u = &res->unassigned[res->n_unassigned++];
            u->job = j;
            u->reason = unassigned_reason(c, j);
        }
    }
    *out = res;
    return 0;

fail:
    plan_result_free(res);
    return ACS_ENOMEM;
}

void plan_result_free(plan_result_t *res)
{
    if (res == NULL) {
        return;
    }
    if (res->routes != NULL) {
        for (size_t e = 0; e < res->n_routes; e++) {
            free(res->routes[e].stops);
        }
    }
    free(res->routes);
    free(res->unassigned);
    free(res);
}

/* ---- Public entry points ----------------------------------------------------------------- */

static uint8_t *valid_routes(const ctx_t *c, const sol_t *s)
{
    uint8_t *v = malloc(c->ne + 1);
    if (v != NULL) {
        for (size_t e = 0; e < c->ne; e++) {
            v[e] = (uint8_t)route_ok(c, e, &s->r[e]);
        }
    }
    return v;
}

int plan_greedy(const plan_problem_t *problem, plan_result_t **out)
{
    ctx_t c;
    sol_t s;
    uint8_t *valid = NULL;
    double t0 = now_ms();
    int rc;

    if (out == NULL) {
        return ACS_EINVAL;
    }
    *out = NULL;
    if ((rc = validate(problem)) != 0) {
        return rc;
    }
    if ((rc = ctx_init(&c, problem)) != 0) {
        return rc;
    }
    if ((rc = sol_init(&c, &s)) != 0) {
        goto fail_ctx;
    }
    valid = valid_routes(&c, &s);
    if (valid == NULL) {
        rc = ACS_ENOMEM;
        goto fail;
    }
    if ((rc = greedy_build(&c, &s, valid)) == 0 && (rc = build_result(&c, &s, out)) == 0) {
        (*out)->elapsed_ms = now_ms() - t0;
    }
fail:
    free(valid);
    sol_free(&s, c.ne);
fail_ctx:
    ctx_free(&c);
    return rc;
}

int plan_solve(const plan_problem_t *problem, const plan_options_t *options, plan_result_t **out)
{
    ctx_t c;
    sol_t cur, best, cand, greedy;
    search_t x = {0};
    uint8_t *valid = NULL;
    int32_t *removed = NULL, *cand_buf = NULL;
    int64_t *key = NULL;
    double t0 = now_ms();
    plan_options_t opt = {0};
    int rc;

    if (out == NULL) {
        return ACS_EINVAL;
    }
    *out = NULL;
    if ((rc = validate(problem)) != 0) {
        return rc;
    }
    if (options != NULL) {
        opt = *options;
    }
    unsigned max_it = opt.max_iterations > 0 ? opt.max_iterations : DEFAULT_IT;
    uint64_t rng = opt.seed ^ 0x5eedULL;
    if ((rc = ctx_init(&c, problem)) != 0) {
        return rc;
    }
    memset(&cur, 0, sizeof(cur));
    memset(&best, 0, sizeof(best));
    memset(&cand, 0, sizeof(cand));
    memset(&greedy, 0, sizeof(greedy));
    if ((rc = sol_init(&c, &cur)) != 0) {
        goto done;
    }
    rc = ACS_ENOMEM;
    valid = valid_routes(&c, &cur);
    removed = malloc((c.nj + 1) * sizeof(int32_t));
    cand_buf = malloc((c.nj + 1) * sizeof(int32_t));
    key = malloc((c.nj + 1) * sizeof(int64_t));
    if (valid == NULL || removed == NULL || cand_buf == NULL || key == NULL ||
        sol_clone(&c, &greedy, &cur) != 0) {
        goto done;
    }
    x.c = &c;
    x.valid = valid;
    x.rng = &rng;
    x.deadline_ms = opt.time_limit_ms > 0 ? t0 + opt.time_limit_ms : 0.0;

    /* 1. Construction: regret insertion of everything, beside the greedy baseline. */
    for (size_t j = 0; j < c.nj; j++) {
        removed[j] = (int32_t)j;
    }
    if ((rc = regret_insert(&c, &cur, removed, c.nj, 3, 0.0, &rng, valid)) != 0 ||
        (rc = greedy_build(&c, &greedy, valid)) != 0) {
        goto done;
    }
    if (cost_less(sol_cost(&greedy), sol_cost(&cur)) && (rc = sol_copy(&c, &cur, &greedy)) != 0) {
        goto done;
    }

    /* 2. Local search. */
    if ((rc = local_search(&x, &cur)) != 0) {
        goto done;
    }
    if ((rc = sol_clone(&c, &best, &cur)) != 0 || (rc = sol_clone(&c, &cand, &cur)) != 0) {
        goto done;
    }

    /* 3. Ruin and recreate. */
    unsigned it = 0;
    for (; it < max_it && c.nj > 0; it++) {
        if (out_of_time(&x)) {
            break;
        }
        /* By rounds only, so that the same seed and bound give the same plan on any machine. */
        double progress = (double)it / max_it;
        if ((rc = sol_copy(&c, &cand, &cur)) != 0) {
            goto done;
        }
        /* 5-15% of the jobs, at most 60 */
        size_t lo = c.nj / 20 + 1, hi = c.nj * 3 / 20 + 2;
        if (hi > 60) {
            hi = 60;
        }
        if (lo > hi) {
            lo = hi;
        }
        size_t q = lo + rng_below(&rng, hi - lo + 1);
        size_t nr = ruin(&x, &cand, q, removed, key, cand_buf);
        /* jobs left out get another chance every round */
        for (size_t j = 0; j < c.nj; j++) {
            if (cand.where[j] == NO_ENG) {
                int dup = 0;
                for (size_t k = 0; k < nr && !dup; k++) {
                    dup = removed[k] == (int32_t)j;
                }
                if (!dup) {
                    removed[nr++] = (int32_t)j;
                }
            }
        }
        int k = (rng_next(&rng) & 1) ? 2 : 3;
        if ((rc = regret_insert(&c, &cand, removed, nr, k, 0.2, &rng, valid)) != 0) {
            goto done;
        }
        cost_t cc = sol_cost(&cand), cb = sol_cost(&best), cu = sol_cost(&cur);
        double threshold = 0.02 * (1.0 - progress);
        int accept = cost_less(cc, cu) ||
                     (cc.unw == cb.unw && (double)cc.lt <= (double)cb.lt * (1.0 + threshold));
        if (accept && (rc = sol_copy(&c, &cur, &cand)) != 0) {
            goto done;
        }
        /* No local search inside the rounds: measured, it cost half the time for less
         * than the rounds it displaced would find (docs/dispatch.md). */
        if (cost_less(cc, cb) && (rc = sol_copy(&c, &best, &cand)) != 0) {
            goto done;
        }
    }
    if ((rc = local_search(&x, &best)) != 0) {
        goto done;
    }
    /* The baseline is a floor: never hand back anything worse. */
    if (cost_less(sol_cost(&greedy), sol_cost(&best)) && (rc = sol_copy(&c, &best, &greedy)) != 0) {
        goto done;
    }
    if ((rc = build_result(&c, &best, out)) == 0) {
        (*out)->iterations = it;
        (*out)->elapsed_ms = now_ms() - t0;
    }

done:
    free(valid);
    free(removed);
    free(cand_buf);
    free(key);
    free(x.buf);
    sol_free(&cur, c.ne);
    sol_free(&best, c.ne);
    sol_free(&cand, c.ne);
    sol_free(&greedy, c.ne);
    ctx_free(&c);
    return rc;
}

/* ---- Suggestions ------------------------------------------------------------------------- */

static int cmp_suggestion(const void *a, const void *b)
{
    const plan_suggestion_t *x = a, *y = b;
    if (x->start != y->start) {
        return x->start < y->start ? -1 : 1;
    }
    if (x->travel != y->travel) {
        return x->travel < y->travel ? -1 : 1;
    }
    return x->engineer < y->engineer ? -1 : x->engineer > y->engineer;
}

int plan_suggest(const plan_problem_t *problem, size_t job, plan_suggestion_t **out, size_t *n_out)
{
    ctx_t c;
    sol_t s;
    int rc;

    if (out == NULL || n_out == NULL) {
        return ACS_EINVAL;
    }
    *out = NULL;
    *n_out = 0;
    if ((rc = validate(problem)) != 0) {
        return rc;
    }
    if (job >= problem->n_jobs) {
        return ACS_EINVAL;
    }
    /* Only this job matters: a problem of one job keeps the travel matrix small. The job's
     * own booking, if it has one (a move), is left out, as plan_check() ignores it. */
    const plan_job_t *target = &problem->jobs[job];
    size_t n_books = 0;
    for (size_t e = 0; e < problem->n_engineers; e++) {
        n_books += problem->engineers[e].n_bookings;
    }
    plan_engineer_t *engs = malloc((problem->n_engineers + 1) * sizeof(plan_engineer_t));
    plan_booking_t *books = malloc((n_books + 1) * sizeof(plan_booking_t));
    if (engs == NULL || books == NULL) {
        free(engs);
        free(books);
        return ACS_ENOMEM;
    }
    size_t nb = 0;
    for (size_t e = 0; e < problem->n_engineers; e++) {
        const plan_engineer_t *en = &problem->engineers[e];
        engs[e] = *en;
        engs[e].bookings = &books[nb];
        engs[e].n_bookings = 0;
        for (size_t b = 0; b < en->n_bookings; b++) {
            if (!plan__same_job(en->bookings[b].job, target)) {
                books[nb++] = en->bookings[b];
                engs[e].n_bookings++;
            }
        }
    }
    plan_problem_t one = *problem;
    one.jobs = target;
    one.n_jobs = 1;
    one.engineers = engs;
    rc = ctx_init(&c, &one);
    if (rc == 0 && (rc = sol_init(&c, &s)) != 0) {
        ctx_free(&c);
    }
    if (rc != 0) {
        free(engs);
        free(books);
        return rc;
    }
    plan_suggestion_t *list = calloc(c.ne + 1, sizeof(plan_suggestion_t));
    if (list == NULL) {
        rc = ACS_ENOMEM;
        goto done;
    }
    size_t n = 0;
    int32_t v = 0;
    for (size_t e = 0; e < c.ne; e++) {
        route_t *r = &s.r[e];
        if (!c.compat[e * c.nj] || !route_ok(&c, e, r)) {
            continue;
        }
        int found = 0;
        stop_info_t best = {0};
        for (size_t pos = 0; pos <= r->len; pos++) {
            if (replace_cost(&c, e, r, pos, 0, &v, 1, NULL) == INF_COST) {
                continue;
            }
            state_t st = state_before(&c, e, r, pos);
            stop_info_t info = {0};
            if (step(&c, e, &st, v, &info) != 0) {
                continue;
            }
            if (!found || info.start < best.start) {
                best = info;
                found = 1;
            }
        }
        if (found) {
            plan_suggestion_t *sg = &list[n++];
            sg->engineer = e;
            sg->start = best.start;
            sg->end = best.end;
            sg->travel = best.approach;
            sg->sla_left = problem->jobs[job].sla_due == PLAN_NO_TIME
                               ? PLAN_NO_TIME
                               : problem->jobs[job].sla_due - best.start;
        }
    }
    qsort(list, n, sizeof(*list), cmp_suggestion);
    if (n == 0) {
        free(list);
        list = NULL;
    }
    *out = list;
    *n_out = n;
    rc = 0;
done:
    sol_free(&s, c.ne);
    ctx_free(&c);
    free(engs);
    free(books);
    return rc;
}

void plan_suggestions_free(plan_suggestion_t *suggestions)
{
    free(suggestions);
}
