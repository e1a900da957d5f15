/* SPDX-License-Identifier: MIT */
/*
 * dispatch.c - the problem document of acs_dispatch_problem() as plan.h structures, and the
 * planner's answers as the API's JSON (dispatch.h).
 *
 * The document holds engineers (skills, regions, home base, shifts and absences as UTC epoch
 * intervals, bookings, UTC offsets), jobs, and the travel times between the places involved.
 * Skill and region names become the bit and index numbers of plan.h; places named in the
 * travel table get table indexes; one extra place stands for "location unknown" and is at
 * travel 0 from and to every place, so a site without coordinates never makes up a distance.
 * Every allocation of a problem hangs on one list and is released by dispatch_problem_free().
 */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acs_error.h"

#define MAX_PLACES 4096

typedef struct block {
    struct block *next;
    max_align_t data[];
} block_t;

typedef struct {
    block_t *blocks;
    json_t *root;
} store_t;

static void *store_alloc(store_t *s, size_t n, size_t size)
{
    if (n == 0)
        n = 1;
    if (size != 0 && n > (SIZE_MAX - sizeof(block_t)) / size)
        return NULL;
    block_t *b = calloc(1, sizeof(block_t) + n * size);
    if (b == NULL)
        return NULL;
    b->next = s->blocks;
    s->blocks = b;
    return b->data;
}

void dispatch_problem_free(dispatch_problem_t *p)
{
    if (p == NULL)
        return;
    store_t *s = p->store;
    if (s != NULL) {
        for (block_t *b = s->blocks; b != NULL;) {
            block_t *next = b->next;
            free(b);
            b = next;
        }
        json_decref(s->root);
        free(s);
    }
    free(p);
}

/* A list of names that become numbers (skills, regions, places). */
typedef struct {
    const char **names;
    size_t n, cap;
} names_t;

static long names_find(const names_t *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (strcmp(ns->names[i], name) == 0)
            return (long)i;
    }
    return -1;
}

static long names_add(store_t *s, names_t *ns, const char *name)
{
    long i = names_find(ns, name);
    if (i >= 0)
        return i;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 16;
        const char **nn = store_alloc(s, cap, sizeof(*nn));
        if (nn == NULL)
            return ACS_ENOMEM;
        if (ns->n > 0)
            memcpy(nn, ns->names, ns->n * sizeof(*nn));
        ns->names = nn;
        ns->cap = cap;
    }
    ns->names[ns->n] = name;
    return (long)ns->n++;
}

static int64_t jint(const json_t *o, const char *key, int64_t def)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int parse_offsets(store_t *s, const json_t *arr, const dispatch_offset_t **out, size_t *n)
{
    size_t count = json_array_size(arr);
    dispatch_offset_t *o = store_alloc(s, count, sizeof(*o));
    if (o == NULL)
        return ACS_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_array_get(arr, i);
        o[i].at = (int64_t)json_integer_value(json_array_get(e, 0));
        o[i].offset = (int)json_integer_value(json_array_get(e, 1));
    }
    *out = o;
    *n = count;
    return 0;
}

int dispatch_offset_at(const dispatch_offset_t *offsets, size_t n, int64_t t)
{
    int off = n > 0 ? offsets[0].offset : 0;
    for (size_t i = 0; i < n && offsets[i].at <= t; i++)
        off = offsets[i].offset;
    return off;
}

int dispatch_problem_offset(const dispatch_problem_t *p, const plan_engineer_t *engineer, int64_t t)
{
    if (engineer != NULL && engineer >= p->engineers && engineer < p->engineers + p->n_engineers) {
        const dispatch_engineer_info_t *in = &p->info[engineer - p->engineers];
        return dispatch_offset_at(in->offsets, in->n_offsets, t);
    }
    return dispatch_offset_at(p->offsets, p->n_offsets, t);
}

long dispatch_engineer_index(const dispatch_problem_t *p, const char *id)
{
    for (size_t i = 0; i < p->n_engineers; i++) {
        if (strcmp(p->info[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

long dispatch_job_index(const dispatch_problem_t *p, const char *id)
{
    for (size_t i = 0; i < p->n_jobs; i++) {
        if (strcmp(p->jobs[i].id, id) == 0)
            return (long)i;
    }
    return -1;
}

void dispatch_format_time(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *dispatch_reason_code(plan_reason_code_t code)
{
    static const char *const names[PLAN_R_COUNT] = {
        [PLAN_R_SKILL] = "skill",
        [PLAN_R_REGION] = "region",
        [PLAN_R_SHIFT] = "shift",
        [PLAN_R_ABSENCE] = "absence",
        [PLAN_R_OVERLAP] = "overlap",
        [PLAN_R_WINDOW] = "window",
        [PLAN_R_SLA_LATE] = "sla_late",
        [PLAN_R_NOBODY_SKILLED] = "nobody_skilled",
        [PLAN_R_NOBODY_REGION] = "nobody_region",
        [PLAN_R_NOBODY_SHIFT] = "nobody_shift",
        [PLAN_R_NO_ROOM] = "no_room",
    };
    return (unsigned)code < PLAN_R_COUNT && names[code] != NULL ? names[code] : "unknown";
}

json_t *dispatch_reason_json(const dispatch_problem_t *p, const plan_reason_t *reason)
{
    char sentence[512];
    int off = dispatch_problem_offset(p, reason->engineer, reason->start);
    if (plan_reason_format(&p->model, reason, off, sentence, sizeof(sentence)) < 0)
        snprintf(sentence, sizeof(sentence), "%s", dispatch_reason_code(reason->code));
    return json_pack("{s:s, s:s}", "code", dispatch_reason_code(reason->code), "sentence",
                     sentence);
}

/* Where a place is: its table index, or the unknown place when it has no coordinates. */
static int place_of(const names_t *places, int unknown, const json_t *lat, const char *key)
{
    if (!json_is_number(lat))
        return unknown;
    long i = key != NULL ? names_find(places, key) : -1;
    return i >= 0 ? (int)i : -1;
}

static int add_skills(store_t *s, names_t *skills, const json_t *arr, uint64_t *bits, char *err,
                      size_t errlen)
{
    size_t i;
    const json_t *v;
    *bits = 0;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v))
            continue;
        long k = names_add(s, skills, json_string_value(v));
        if (k < 0) {
            snprintf(err, errlen, "out of memory reading the dispatch problem");
            return (int)k;
        }
        if (k >= PLAN_SKILLS_MAX) {
            snprintf(err, errlen,
                     "the engineers and jobs name more than %d different skills (the planner's "
                     "limit); merge skill names",
                     PLAN_SKILLS_MAX);
            return ACS_EINVAL;
        }
        *bits |= UINT64_C(1) << k;
    }
    return 0;
}

/* How an absence kind reads in "falls in Ivanov's sick leave (...)". */
static const char *absence_words(const char *kind)
{
    if (kind == NULL || strcmp(kind, "other") == 0)
        return "absence";
    if (strcmp(kind, "sick") == 0)
        return "sick leave";
    return kind; /* "leave", "training" */
}

static double env_double(const char *name, double def, double min, double max)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return def;
    char *end;
    double d = strtod(v, &end);
    return (*end == '\0' && d >= min && d <= max) ? d : def;
}

int dispatch_problem_parse(const char *text, size_t len, unsigned flags, dispatch_problem_t **out,
                           char *err, size_t errlen)
{
    int rc = ACS_ENOMEM;
    *out = NULL;
    dispatch_problem_t *p = calloc(1, sizeof(*p));
    store_t *s = calloc(1, sizeof(*s));
    if (p == NULL || s == NULL) {
        free(p);
        free(s);
        snprintf(err, errlen, "out of memory reading the dispatch problem");
        return ACS_ENOMEM;
    }
    p->store = s;
    json_error_t jerr;
    s->root = json_loadb(text, len, 0, &jerr);
    const json_t *root = s->root;
    const json_t *engs = json_object_get(root, "engineers");
    const json_t *jobs = json_object_get(root, "jobs");
    const json_t *travel = json_object_get(root, "travel");
    if (!json_is_array(engs) || !json_is_array(jobs) || !json_is_array(travel)) {
        snprintf(err, errlen, "the dispatch problem from the database is malformed (%s)",
                 jerr.text[0] ? jerr.text : "missing engineers, jobs or travel");
        rc = ACS_EINVAL;
        goto fail;
    }
    p->now = jint(root, "now", 0);
    p->from = jint(root, "from", 0);
    p->to = jint(root, "to", 0);
    if (parse_offsets(s, json_object_get(root, "offsets"), &p->offsets, &p->n_offsets) != 0)
        goto fail;

    /* Places of the travel table: every id named there, then the unknown place. */
    names_t places = {0};
    size_t i;
    const json_t *v;
    json_array_foreach(travel, i, v)
    {
        const char *a = json_string_value(json_array_get(v, 0));
        const char *b = json_string_value(json_array_get(v, 1));
        if (a == NULL || b == NULL || names_add(s, &places, a) < 0 || names_add(s, &places, b) < 0)
            goto fail;
        if (places.n >= MAX_PLACES) {
            snprintf(err, errlen,
                     "the travel-time table names more than %d places for this problem; plan "
                     "fewer jobs at once",
                     MAX_PLACES);
            rc = ACS_ETOOBIG;
            goto fail;
        }
    }
    int unknown = (int)places.n;
    size_t tn = places.n + 1;
    int32_t *table = store_alloc(s, tn * tn, sizeof(int32_t));
    if (table == NULL)
        goto fail;
    for (size_t a = 0; a < tn; a++)
        for (size_t b = 0; b < tn; b++)
            table[a * tn + b] = ((int)a == unknown || (int)b == unknown) ? 0 : -1;
    json_array_foreach(travel, i, v)
    {
        long a = names_find(&places, json_string_value(json_array_get(v, 0)));
        long b = names_find(&places, json_string_value(json_array_get(v, 1)));
        table[(size_t)a * tn + (size_t)b] = (int32_t)json_integer_value(json_array_get(v, 2));
    }
    p->model.table = table;
    p->model.table_n = tn;
    p->model.speed_kmh = env_double("FIELDD_TRAVEL_SPEED_KMH", 0, 1, 300);
    p->model.road_factor = env_double("FIELDD_TRAVEL_ROAD_FACTOR", 0, 1, 5);

    names_t skills = {0}, regions = {0};

    /* Jobs. */
    size_t nj = json_array_size(jobs);
    p->jobs = store_alloc(s, nj, sizeof(*p->jobs));
    p->job_site_ids = store_alloc(s, nj, sizeof(char *));
    p->job_status = store_alloc(s, nj, sizeof(char *));
    if (p->jobs == NULL || p->job_site_ids == NULL || p->job_status == NULL)
        goto fail;
    json_array_foreach(jobs, i, v)
    {
        plan_job_t *j = &p->jobs[i];
        j->id = jstr(v, "id");
        j->name = jstr(v, "name");
        j->site_name = jstr(v, "site");
        p->job_site_ids[i] = jstr(v, "site_id");
        p->job_status[i] = jstr(v, "status");
        const json_t *lat = json_object_get(v, "lat");
        j->site.lat = json_number_value(lat);
        j->site.lon = json_number_value(json_object_get(v, "lon"));
        j->place = place_of(&places, unknown, lat, p->job_site_ids[i]);
        const char *region = jstr(v, "region");
        j->region = -1;
        if (region != NULL) {
            long k = names_add(s, &regions, region);
            if (k < 0)
                goto fail;
            j->region = (int)k;
        }
        if ((rc = add_skills(s, &skills, json_object_get(v, "skills"), &j->skills, err, errlen)) !=
            0)
            goto fail_rc;
        j->duration = jint(v, "duration", 3600);
        j->window_start = jint(v, "ws", PLAN_NO_TIME);
        j->window_end = jint(v, "we", PLAN_NO_TIME);
        j->priority = (int)jint(v, "priority", 3);
        j->sla_due = jint(v, "sla", PLAN_NO_TIME);
        if (j->id == NULL || j->name == NULL) {
            snprintf(err, errlen, "a job of the dispatch problem has no id");
            rc = ACS_EINVAL;
            goto fail;
        }
    }
    p->n_jobs = nj;

    /* Engineers. */
    size_t ne = json_array_size(engs);
    p->engineers = store_alloc(s, ne, sizeof(*p->engineers));
    p->info = store_alloc(s, ne, sizeof(*p->info));
    if (p->engineers == NULL || p->info == NULL)
        goto fail;
    size_t k = 0;
    json_array_foreach(engs, i, v)
    {
        const json_t *home = json_object_get(v, "home");
        int has_home = json_is_array(home);
        if ((flags & DISPATCH_NEED_HOME) && !has_home)
            continue;
        plan_engineer_t *e = &p->engineers[k];
        dispatch_engineer_info_t *in = &p->info[k];
        in->id = jstr(v, "id");
        in->time_zone = jstr(v, "time_zone");
        in->has_home = has_home;
        e->name = jstr(v, "name");
        if (in->id == NULL || e->name == NULL) {
            snprintf(err, errlen, "an engineer of the dispatch problem has no id or name");
            rc = ACS_EINVAL;
            goto fail;
        }
        if ((rc = add_skills(s, &skills, json_object_get(v, "skills"), &e->skills, err, errlen)) !=
            0)
            goto fail_rc;
        const json_t *lat = json_array_get(home, 0);
        e->home.lat = json_number_value(lat);
        e->home.lon = json_number_value(json_array_get(home, 1));
        e->home_place = place_of(&places, unknown, has_home ? lat : NULL, in->id);

        const json_t *regs = json_object_get(v, "regions");
        size_t nr = json_array_size(regs);
        int *ri = store_alloc(s, nr, sizeof(int));
        if (ri == NULL)
            goto fail;
        for (size_t r = 0; r < nr; r++) {
            long x = names_add(s, &regions, json_string_value(json_array_get(regs, r)));
            if (x < 0)
                goto fail;
            ri[r] = (int)x;
        }
        e->regions = ri;
        e->n_regions = nr;

        const json_t *sh = json_object_get(v, "shifts");
        in->has_shifts = json_is_true(json_object_get(v, "has_shifts"));
        size_t ns = json_array_size(sh);
        plan_interval_t *shifts = store_alloc(s, ns + 1, sizeof(*shifts));
        if (shifts == NULL)
            goto fail;
        for (size_t r = 0; r < ns; r++) {
            const json_t *x = json_array_get(sh, r);
            shifts[r].start = (int64_t)json_integer_value(json_array_get(x, 0));
            shifts[r].end = (int64_t)json_integer_value(json_array_get(x, 1));
        }
        if (!in->has_shifts && (flags & DISPATCH_NO_SHIFT_UNBOUNDED)) {
            /* Far beyond any period asked about, and far from int64 overflow. */
            shifts[0].start = p->from - 400 * 86400;
            shifts[0].end = p->to + 400 * 86400;
            ns = 1;
        }
        e->shifts = shifts;
        e->n_shifts = ns;

        const json_t *ab = json_object_get(v, "absences");
        size_t na = json_array_size(ab);
        plan_absence_t *abs = store_alloc(s, na, sizeof(*abs));
        if (abs == NULL)
            goto fail;
        for (size_t r = 0; r < na; r++) {
            const json_t *x = json_array_get(ab, r);
            abs[r].start = (int64_t)json_integer_value(json_array_get(x, 0));
            abs[r].end = (int64_t)json_integer_value(json_array_get(x, 1));
            abs[r].kind = absence_words(json_string_value(json_array_get(x, 2)));
        }
        e->absences = abs;
        e->n_absences = na;

        const json_t *bk = json_object_get(v, "bookings");
        size_t nb = json_array_size(bk);
        plan_booking_t *books = store_alloc(s, nb, sizeof(*books));
        plan_job_t *bjobs = store_alloc(s, nb, sizeof(*bjobs));
        if (books == NULL || bjobs == NULL)
            goto fail;
        for (size_t r = 0; r < nb; r++) {
            const json_t *x = json_array_get(bk, r);
            plan_job_t *j = &bjobs[r];
            j->id = jstr(x, "id");
            j->name = jstr(x, "name");
            j->site_name = jstr(x, "site");
            const json_t *blat = json_object_get(x, "lat");
            j->site.lat = json_number_value(blat);
            j->site.lon = json_number_value(json_object_get(x, "lon"));
            j->place = place_of(&places, unknown, blat, jstr(x, "site_id"));
            j->region = -1;
            int64_t st = jint(x, "start", 0), en = jint(x, "end", 0);
            j->duration = en > st ? en - st : 1;
            j->window_start = j->window_end = j->sla_due = PLAN_NO_TIME;
            j->priority = 3;
            if (j->name == NULL)
                j->name = "?";
            books[r].job = j;
            books[r].start = st;
        }
        e->bookings = books;
        e->n_bookings = nb;
        if (parse_offsets(s, json_object_get(v, "offsets"), &in->offsets, &in->n_offsets) != 0)
            goto fail;
        k++;
    }
    p->n_engineers = k;

    p->model.skill_names = skills.names;
    p->model.n_skills = skills.n;
    p->model.region_names = regions.names;
    p->model.n_regions = regions.n;
    p->problem.model = &p->model;
    p->problem.engineers = p->engineers;
    p->problem.n_engineers = p->n_engineers;
    p->problem.jobs = p->jobs;
    p->problem.n_jobs = p->n_jobs;
    p->problem.now = p->now;
    *out = p;
    return 0;

fail:
    if (rc == ACS_ENOMEM)
        snprintf(err, errlen, "out of memory reading the dispatch problem");
fail_rc:
    dispatch_problem_free(p);
    return rc;
}

static json_t *time_json(int64_t t)
{
    char buf[32];
    dispatch_format_time(t, buf, sizeof(buf));
    return json_string(buf);
}

int dispatch_plan_render(const dispatch_problem_t *p, const plan_options_t *options, char **out,
                         char *err, size_t errlen)
{
    plan_result_t *res = NULL;
    json_t *o = NULL;
    *out = NULL;
    int rc = plan_problem_validate(&p->problem, err, errlen);
    if (rc != 0)
        return rc;
    rc = plan_solve(&p->problem, options, &res);
    if (rc != 0) {
        snprintf(err, errlen, "the planner failed: %s", acs_strerror(rc));
        return rc;
    }
    rc = ACS_ENOMEM;
    json_t *routes = json_array();
    json_t *assignments = json_array();
    json_t *unassigned = json_array();
    o = json_object();
    if (routes == NULL || assignments == NULL || unassigned == NULL || o == NULL) {
        json_decref(routes);
        json_decref(assignments);
        json_decref(unassigned);
        goto fail;
    }
    json_object_set_new(o, "routes", routes);
    json_object_set_new(o, "assignments", assignments);
    json_object_set_new(o, "unassigned", unassigned);
    size_t planned = 0;
    for (size_t r = 0; r < res->n_routes; r++) {
        const plan_route_t *rt = &res->routes[r];
        const plan_engineer_t *e = &p->engineers[rt->engineer];
        json_t *stops = json_array();
        json_t *ro = json_pack("{s:s, s:s, s:I, s:I, s:o}", "engineer_id", p->info[rt->engineer].id,
                               "name", e->name, "travel_s", (json_int_t)rt->travel, "lateness_s",
                               (json_int_t)rt->lateness, "stops", stops);
        if (ro == NULL || json_array_append_new(routes, ro) != 0)
            goto fail;
        for (size_t i = 0; i < rt->n_stops; i++) {
            const plan_stop_t *st = &rt->stops[i];
            const plan_job_t *j = st->fixed ? e->bookings[st->index].job : &p->jobs[st->index];
            json_t *so = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:I}", "job_id",
                                   j->id != NULL ? j->id : "", "name", j->name, "fixed", st->fixed,
                                   "arrival", time_json(st->arrival), "start", time_json(st->start),
                                   "end", time_json(st->end), "travel_s", (json_int_t)st->travel,
                                   "lateness_s", (json_int_t)st->lateness);
            if (so == NULL || json_array_append_new(stops, so) != 0)
                goto fail;
            if (!st->fixed) {
                planned++;
                json_t *a = json_pack("{s:s, s:s, s:o, s:o}", "job_id", j->id, "engineer_id",
                                      p->info[rt->engineer].id, "planned_start",
                                      time_json(st->start), "planned_end", time_json(st->end));
                if (a == NULL || json_array_append_new(assignments, a) != 0)
                    goto fail;
            }
        }
    }
    for (size_t i = 0; i < res->n_unassigned; i++) {
        const plan_unassigned_t *u = &res->unassigned[i];
        json_t *rj = dispatch_reason_json(p, &u->reason);
        if (rj == NULL)
            goto fail;
        json_object_set_new(rj, "job_id", json_string(p->jobs[u->job].id));
        json_object_set_new(rj, "name", json_string(p->jobs[u->job].name));
        if (json_array_append_new(unassigned, rj) != 0)
            goto fail;
    }
    json_object_set_new(o, "from", time_json(p->from));
    json_object_set_new(o, "to", time_json(p->to));
    json_object_set_new(o, "jobs", json_integer((json_int_t)p->n_jobs));
    json_object_set_new(o, "engineers", json_integer((json_int_t)p->n_engineers));
    json_object_set_new(o, "planned", json_integer((json_int_t)planned));
    json_object_set_new(o, "late", json_integer((json_int_t)res->n_late));
    json_object_set_new(o, "lateness_s", json_integer((json_int_t)res->lateness));
    json_object_set_new(o, "travel_s", json_integer((json_int_t)res->travel));
    json_object_set_new(o, "iterations", json_integer((json_int_t)res->iterations));
    json_object_set_new(o, "elapsed_ms", json_real(res->elapsed_ms));
    *out = json_dumps(o, JSON_COMPACT);
    if (*out == NULL)
        goto fail;
    rc = 0;
fail:
    if (rc != 0)
        snprintf(err, errlen, "out of memory rendering the plan");
    json_decref(o);
    plan_result_free(res);
    return rc;
}
