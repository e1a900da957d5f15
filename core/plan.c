/* SPDX-License-Identifier: MIT */
/*
 * plan.c - travel times, the assignment check and the sentences of the planning engine.
 *
 * Everything here is a pure function of its arguments. plan_check() applies the rules of an
 * assignment one by one and records each violation as a plan_reason_t; the renderers turn
 * reasons and suggestions into the sentences a dispatcher reads. The route machinery, the
 * suggestions and the planner live in plan_solve.c.
 */
#include "plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "acs_error.h"

#define EARTH_RADIUS_M    6371008.8
#define DEFAULT_SPEED_KMH 40.0
#define DEFAULT_ROAD      1.3
#define DAY_S             86400

/* The nearest shift shown in a SHIFT reason is at most this far from the job. */
#define SHIFT_NEAR_S (12 * 3600)

double plan_haversine_m(plan_point_t a, plan_point_t b)
{
    const double rad = M_PI / 180.0;
    double dlat = (b.lat - a.lat) * rad;
    double dlon = (b.lon - a.lon) * rad;
    double s1 = sin(dlat / 2.0);
    double s2 = sin(dlon / 2.0);
    double h = s1 * s1 + cos(a.lat * rad) * cos(b.lat * rad) * s2 * s2;
    if (h > 1.0) {
        h = 1.0;
    }
    return 2.0 * EARTH_RADIUS_M * asin(sqrt(h));
}

int64_t plan_travel_s(const plan_model_t *model, plan_point_t a, int place_a, plan_point_t b,
                      int place_b)
{
    double speed = DEFAULT_SPEED_KMH;
    double road = DEFAULT_ROAD;

    if (model != NULL) {
        if (model->table != NULL && place_a >= 0 && place_b >= 0 &&
            (size_t)place_a < model->table_n && (size_t)place_b < model->table_n) {
            int32_t v = model->table[(size_t)place_a * model->table_n + (size_t)place_b];
            if (v >= 0) {
                return v;
            }
        }
        if (model->speed_kmh > 0.0) {
            speed = model->speed_kmh;
        }
        if (model->road_factor >= 1.0) {
            road = model->road_factor;
        }
    }
    double seconds = plan_haversine_m(a, b) * road / (speed / 3.6);
    /* Rounding up keeps the triangle inequality that route checks rely on. */
    return (int64_t)ceil(seconds - 1e-9);
}

/* ---- Check ------------------------------------------------------------------------------ */

int plan_reason_is_refusal(plan_reason_code_t code)
{
    return code != PLAN_R_SLA_LATE;
}

static int64_t travel_between(const plan_model_t *model, const plan_job_t *from,
                              const plan_job_t *to)
{
    return plan_travel_s(model, from->site, from->place, to->site, to->place);
}

int plan__same_job(const plan_job_t *a, const plan_job_t *b)
{
    return a == b ||
           (a != NULL && b != NULL && a->id != NULL && b->id != NULL && strcmp(a->id, b->id) == 0);
}

/* Appends a reason when there is room; always counts it. */
static void add_reason(plan_reason_t *out, size_t cap, size_t *n, size_t *refusals,
                       const plan_reason_t *r)
{
    if (*n < cap) {
        out[*n] = *r;
    }
    (*n)++;
    if (plan_reason_is_refusal(r->code)) {
        (*refusals)++;
    }
}

static int64_t interval_gap(int64_t s, int64_t e, plan_interval_t iv)
{
    if (iv.end <= s) {
        return s - iv.end;
    }
    if (iv.start >= e) {
        return iv.start - e;
    }
    return 0;
}

int plan_check(const plan_model_t *model, const plan_engineer_t *engineer, const plan_job_t *job,
               int64_t start, plan_reason_t *out, size_t cap, size_t *n_found, size_t *n_refusals)
{
    size_t n = 0, refusals = 0;

    if (model == NULL || engineer == NULL || job == NULL || n_found == NULL || job->duration <= 0 ||
        (out == NULL && cap > 0)) {
        return ACS_EINVAL;
    }
    int64_t end = start + job->duration;
    plan_reason_t base = {.engineer = engineer, .job = job, .start = start, .end = end};
    base.other.start = PLAN_NO_TIME;
    base.other.end = PLAN_NO_TIME;

    uint64_t missing = job->skills & ~engineer->skills;
    for (int bit = 0; bit < PLAN_SKILLS_MAX; bit++) {
        if (missing & ((uint64_t)1 << bit)) {
            plan_reason_t r = base;
            r.code = PLAN_R_SKILL;
            r.skill = bit;
            add_reason(out, cap, &n, &refusals, &r);
        }
    }

    if (job->region >= 0 && engineer->n_regions > 0) {
        int served = 0;
        for (size_t i = 0; i < engineer->n_regions; i++) {
            served |= engineer->regions[i] == job->region;
        }
        if (!served) {
            plan_reason_t r = base;
            r.code = PLAN_R_REGION;
            add_reason(out, cap, &n, &refusals, &r);
        }
    }

    int in_shift = 0;
    const plan_interval_t *nearest = NULL;
    int64_t nearest_gap = INT64_MAX;
    for (size_t i = 0; i < engineer->n_shifts; i++) {
        plan_interval_t sh = engineer->shifts[i];
        if (sh.start <= start && end <= sh.end) {
            in_shift = 1;
            break;
        }
        int64_t gap = interval_gap(start, end, sh);
        if (gap < nearest_gap) {
            nearest_gap = gap;
            nearest = &engineer->shifts[i];
        }
    }
    if (!in_shift) {
        plan_reason_t r = base;
        r.code = PLAN_R_SHIFT;
        if (nearest != NULL && nearest_gap <= SHIFT_NEAR_S) {
            r.other = *nearest;
        }
        add_reason(out, cap, &n, &refusals, &r);
    }

    for (size_t i = 0; i < engineer->n_absences; i++) {
        const plan_absence_t *a = &engineer->absences[i];
        if (a->start < end && start < a->end) {
            plan_reason_t r = base;
            r.code = PLAN_R_ABSENCE;
            r.other.start = a->start;
            r.other.end = a->end;
            r.kind = a->kind;
            add_reason(out, cap, &n, &refusals, &r);
        }
    }

    /* Bookings that meet the interval, then the travel from the booking just before and to
     * the one just after: an engineer travels from the last place, not from every place. */
    const plan_booking_t *pred = NULL, *succ = NULL;
    for (size_t i = 0; i < engineer->n_bookings; i++) {
        const plan_booking_t *b = &engineer->bookings[i];
        if (b->job == NULL || plan__same_job(b->job, job)) {
            continue;
        }
        int64_t bs = b->start, be = b->start + b->job->duration;
        if (bs < end && start < be) {
            plan_reason_t r = base;
            r.code = PLAN_R_OVERLAP;
            r.other_job = b->job;
            r.other.start = bs;
            r.other.end = be;
            r.before = bs <= start;
            r.travel =
                r.before ? travel_between(model, b->job, job) : travel_between(model, job, b->job);
            add_reason(out, cap, &n, &refusals, &r);
        } else if (be <= start) {
            if (pred == NULL || be > pred->start + pred->job->duration) {
                pred = b;
            }
        } else if (succ == NULL || bs < succ->start) {
            succ = b;
        }
    }
    if (pred != NULL) {
        int64_t t = travel_between(model, pred->job, job);
        if (pred->start + pred->job->duration + t > start) {
            plan_reason_t r = base;
            r.code = PLAN_R_OVERLAP;
            r.other_job = pred->job;
            r.other.start = pred->start;
            r.other.end = pred->start + pred->job->duration;
            r.before = 1;
            r.travel = t;
            add_reason(out, cap, &n, &refusals, &r);
        }
    }
    if (succ != NULL) {
        int64_t t = travel_between(model, job, succ->job);
        if (end + t > succ->start) {
            plan_reason_t r = base;
            r.code = PLAN_R_OVERLAP;
            r.other_job = succ->job;
            r.other.start = succ->start;
            r.other.end = succ->start + succ->job->duration;
            r.before = 0;
            r.travel = t;
            add_reason(out, cap, &n, &refusals, &r);
        }
    }

    if ((job->window_start != PLAN_NO_TIME && start < job->window_start) ||
        (job->window_end != PLAN_NO_TIME && end > job->window_end)) {
        plan_reason_t r = base;
        r.code = PLAN_R_WINDOW;
        r.other.start = job->window_start;
        r.other.end = job->window_end;
        add_reason(out, cap, &n, &refusals, &r);
    }

    if (job->sla_due != PLAN_NO_TIME && end > job->sla_due) {
        plan_reason_t r = base;
        r.code = PLAN_R_SLA_LATE;
        r.other.start = job->sla_due;
        r.travel = end - job->sla_due;
        add_reason(out, cap, &n, &refusals, &r);
    }

    *n_found = n;
    if (n_refusals != NULL) {
        *n_refusals = refusals;
    }
    return 0;
}

/* ---- Sentences -------------------------------------------------------------------------- */

/* An snprintf that appends and keeps counting past the end of the buffer. */
typedef struct {
    char *buf;
    size_t size;
    size_t len;
} text_t;

__attribute__((format(printf, 2, 3))) static void put(text_t *t, const char *fmt, ...)
{
    va_list ap;
    char *dst = NULL;
    size_t room = 0;

    if (t->buf != NULL && t->len < t->size) {
        dst = t->buf + t->len;
        room = t->size - t->len;
    }
    va_start(ap, fmt);
    int k = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (k > 0) {
        t->len += (size_t)k;
    }
}

static int text_done(text_t *t)
{
    if (t->buf != NULL && t->size > 0 && t->len < t->size) {
        t->buf[t->len] = '\0';
    }
    return t->len > (size_t)INT32_MAX ? INT32_MAX : (int)t->len;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static const char *const weekdays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The local day number (days since 1970-01-01) of a UTC time. */
static int64_t local_day(int64_t t, int offset)
{
    return floor_div(t + offset, DAY_S);
}

static const char *weekday_name(int64_t day)
{
    int64_t w = (day + 4) % 7; /* 1970-01-01 was a Thursday */
    return weekdays[w < 0 ? w + 7 : w];
}

/* Civil date of a day number (H. Hinnant's days_from_civil, inverted). */
static void civil(int64_t day, int *mday, int *mon)
{
    int64_t z = day + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    *mon = (int)(mp < 10 ? mp + 3 : mp - 9);
}

static void put_hhmm(text_t *t, int64_t time, int offset)
{
    int64_t s = (time + offset) - local_day(time, offset) * DAY_S;
    put(t, "%02d:%02d", (int)(s / 3600), (int)(s % 3600 / 60));
}

/* "10:40" on the local day of `ref`, "Tue 10:40" on another day. */
static void put_clock(text_t *t, int64_t time, int64_t ref, int offset)
{
    int64_t d = local_day(time, offset);
    if (ref == PLAN_NO_TIME || d != local_day(ref, offset)) {
        put(t, "%s ", weekday_name(d));
    }
    put_hhmm(t, time, offset);
}

/* "Mon 24 Nov 09:00" */
static void put_date_clock(text_t *t, int64_t time, int offset)
{
    int64_t d = local_day(time, offset);
    int mday, mon;
    civil(d, &mday, &mon);
    put(t, "%s %d %s ", weekday_name(d), mday, months[mon - 1]);
    put_hhmm(t, time, offset);
}

/* "10:00-12:00"; the end carries its weekday when it falls on another local day. */
static void put_span(text_t *t, int64_t s, int64_t e, int64_t ref, int offset)
{
    put_clock(t, s, ref, offset);
    put(t, "-");
    put_clock(t, e, s, offset);
}

/* "25 min", "1 h 20 min", "2 h", "1 d 3 h"; rounded up to the minute. */
static void put_duration(text_t *t, int64_t seconds)
{
    if (seconds < 0) {
        seconds = -seconds;
    }
    int64_t min = (seconds + 59) / 60;
    int64_t d = min / 1440, h = min % 1440 / 60, m = min % 60;
    if (d > 0) {
        put(t, "%lld d", (long long)d);
        if (h > 0) {
            put(t, " %lld h", (long long)h);
        }
    } else if (h > 0) {
        put(t, "%lld h", (long long)h);
        if (m > 0) {
            put(t, " %lld min", (long long)m);
        }
    } else {
        put(t, "%lld min", (long long)m);
    }
}

static void put_skill(text_t *t, const plan_model_t *model, int bit)
{
    if (model != NULL && bit >= 0 && (size_t)bit < model->n_skills &&
        model->skill_names[bit] != NULL) {
        put(t, "%s", model->skill_names[bit]);
    } else {
        put(t, "#%d", bit);
    }
}

static void put_region(text_t *t, const plan_model_t *model, int region)
{
    if (model != NULL && region >= 0 && (size_t)region < model->n_regions &&
        model->region_names[region] != NULL) {
        put(t, "%s", model->region_names[region]);
    } else {
        put(t, "#%d", region);
    }
}

/* "firmware", "firmware and readers", "a, b and c" */
static int put_skill_list(text_t *t, const plan_model_t *model, uint64_t skills)
{
    int total = 0, n = 0;
    for (int bit = 0; bit < PLAN_SKILLS_MAX; bit++) {
        total += (int)((skills >> bit) & 1);
    }
    for (int bit = 0; bit < PLAN_SKILLS_MAX; bit++) {
        if (!((skills >> bit) & 1)) {
            continue;
        }
        n++;
        if (n > 1) {
            put(t, n == total ? " and " : ", ");
        }
        put_skill(t, model, bit);
    }
    return total;
}

static const char *name_of(const char *s, const char *fallback)
{
    return s != NULL ? s : fallback;
}

/* "the window 13:00-17:00", "the window from 13:00", "the window until 17:00" */
static void put_window(text_t *t, plan_interval_t w, int64_t ref, int offset)
{
    if (w.start != PLAN_NO_TIME && w.end != PLAN_NO_TIME) {
        put_span(t, w.start, w.end, ref, offset);
    } else if (w.start != PLAN_NO_TIME) {
        put(t, "from ");
        put_clock(t, w.start, ref, offset);
    } else if (w.end != PLAN_NO_TIME) {
        put(t, "until ");
        put_clock(t, w.end, ref, offset);
    } else {
        put(t, "any time");
    }
}

int plan_reason_format(const plan_model_t *model, const plan_reason_t *r, int offset, char *buf,
                       size_t size)
{
    text_t t = {buf, size, 0};

    if (r == NULL || r->job == NULL || (buf == NULL && size > 0)) {
        return ACS_EINVAL;
    }
    const char *who = r->engineer != NULL ? name_of(r->engineer->name, "the engineer") : "";
    const char *jname = name_of(r->job->name, "the job");
    int64_t ref = r->start;

    switch (r->code) {
    case PLAN_R_SKILL:
        put(&t, "%s has no ", who);
        put_skill(&t, model, r->skill);
        put(&t, " skill");
        break;
    case PLAN_R_REGION:
        put(&t, "%s does not serve region ", who);
        put_region(&t, model, r->job->region);
        break;
    case PLAN_R_SHIFT:
        put_span(&t, r->start, r->end, r->start, offset);
        if (r->other.start != PLAN_NO_TIME) {
            put(&t, " is outside %s's shift (%s ", who,
                weekday_name(local_day(r->other.start, offset)));
            put_hhmm(&t, r->other.start, offset);
            put(&t, "-");
            put_clock(&t, r->other.end, r->other.start, offset);
            put(&t, ")");
        } else {
            put(&t, " is outside %s's shifts (no shift on %s)", who,
                weekday_name(local_day(r->start, offset)));
        }
        break;
    case PLAN_R_ABSENCE:
        put_span(&t, r->start, r->end, r->start, offset);
        put(&t, " falls in %s's %s (", who, name_of(r->kind, "absence"));
        put_date_clock(&t, r->other.start, offset);
        put(&t, " - ");
        put_date_clock(&t, r->other.end, offset);
        put(&t, ")");
        break;
    case PLAN_R_OVERLAP: {
        const plan_job_t *o = r->other_job;
        put(&t, "overlaps job %s ", o != NULL ? name_of(o->name, "?") : "?");
        put_span(&t, r->other.start, r->other.end, ref, offset);
        if (r->travel > 0 && o != NULL) {
            put(&t, r->before ? " plus " : " with ");
            put_duration(&t, r->travel);
            put(&t, " travel %s %s", r->before ? "from" : "to", name_of(o->site_name, "its site"));
        }
        break;
    }
    case PLAN_R_WINDOW:
        put_span(&t, r->start, r->end, r->start, offset);
        put(&t, " is outside the window of job %s (", jname);
        put_window(&t, r->other, ref, offset);
        put(&t, ")");
        break;
    case PLAN_R_SLA_LATE:
        put(&t, "ends ");
        put_clock(&t, r->end, r->end, offset);
        put(&t, ", ");
        put_duration(&t, r->travel);
        put(&t, " after the resolution deadline ");
        put_clock(&t, r->other.start, r->end, offset);
        break;
    case PLAN_R_NOBODY_SKILLED:
        if (r->skill >= 0) {
            put(&t, "no engineer has the ");
            put_skill(&t, model, r->skill);
            put(&t, " skill");
        } else {
            put(&t, "no engineer has all the skills of job %s (", jname);
            put_skill_list(&t, model, r->job->skills);
            put(&t, ")");
        }
        break;
    case PLAN_R_NOBODY_REGION:
        put(&t, "no engineer with the skills of job %s serves region ", jname);
        put_region(&t, model, r->job->region);
        break;
    case PLAN_R_NOBODY_SHIFT:
        put(&t, "no suitable engineer works long enough during ");
        if (r->other.start == PLAN_NO_TIME && r->other.end == PLAN_NO_TIME) {
            put(&t, "the planned days");
        } else {
            put(&t, "the window ");
            put_window(&t, r->other, PLAN_NO_TIME, offset);
        }
        put(&t, " for job %s (", jname);
        put_duration(&t, r->job->duration);
        put(&t, ")");
        break;
    case PLAN_R_NO_ROOM:
        put(&t, "the suitable engineers' days are full ");
        if (r->other.start == PLAN_NO_TIME && r->other.end == PLAN_NO_TIME) {
            put(&t, "for job %s", jname);
        } else {
            put(&t, "during the window ");
            put_window(&t, r->other, PLAN_NO_TIME, offset);
            put(&t, " of job %s", jname);
        }
        break;
    default:
        put(&t, "unknown reason %d", (int)r->code);
        break;
    }
    return text_done(&t);
}

int plan_suggestion_format(const plan_problem_t *p, size_t job, const plan_suggestion_t *s,
                           int offset, char *buf, size_t size)
{
    text_t t = {buf, size, 0};

    if (p == NULL || s == NULL || job >= p->n_jobs || s->engineer >= p->n_engineers ||
        (buf == NULL && size > 0)) {
        return ACS_EINVAL;
    }
    const plan_job_t *j = &p->jobs[job];
    const plan_engineer_t *e = &p->engineers[s->engineer];
    int64_t ref = j->window_start != PLAN_NO_TIME ? j->window_start : j->sla_due;
    if (ref == PLAN_NO_TIME) {
        ref = s->start;
    }

    put(&t, "%s: arrives ", name_of(e->name, "?"));
    put_clock(&t, s->start, ref, offset);
    if (s->travel > 0) {
        put(&t, " (");
        put_duration(&t, s->travel);
        put(&t, " travel)");
    } else {
        put(&t, " (no travel)");
    }
    if (s->sla_left == PLAN_NO_TIME) {
        put(&t, ", no resolution deadline");
    } else {
        put(&t, ", ");
        put_duration(&t, s->sla_left);
        put(&t, s->sla_left >= 0 ? " before the resolution deadline"
                                 : " after the resolution deadline");
    }

    if (j->skills == 0) {
        put(&t, "; no special skill needed");
    } else {
        put(&t, "; has the ");
        int total = put_skill_list(&t, p->model, j->skills);
        put(&t, total > 1 ? " skills" : " skill");
    }
    return text_done(&t);
}
