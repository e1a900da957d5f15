/* SPDX-License-Identifier: MIT */
/*
 * cli_calendar.c - `fieldd calendar import`: loads holidays, transferred working days and
 * shortened days of a business calendar from an iCalendar (RFC 5545) file with libical.
 *
 *   fieldd calendar import --calendar ID --file FILE.ics [--replace-year YYYY]
 *
 * What a VEVENT means (docs/sla.md):
 *   - every VEVENT must be all-day (DTSTART;VALUE=DATE); DTEND (exclusive) or DURATION may
 *     make it several days long, up to 31;
 *   - without a CATEGORIES value below it is a holiday: no work on its dates;
 *   - CATEGORIES:WORKDAY marks a transferred working day (a weekend day that is worked, on
 *     Monday's hours);
 *   - CATEGORIES:SHORTDAY marks a shortened pre-holiday day, by 60 minutes unless the event
 *     has X-ACS-SHORTEN-MINUTES:n; WORKDAY,SHORTDAY is a shortened transferred working day;
 *   - STATUS:CANCELLED events are skipped; recurring events (RRULE/RDATE) are refused.
 * SUMMARY becomes the exception's note and the file's name its source.
 *
 * Without --replace-year the events are merged into the calendar (a date already present is
 * overwritten) and must lie within the calendar's covered years. With --replace-year YYYY the
 * file is the complete list for that year: every event must be in YYYY, the year's existing
 * exceptions are deleted first, and the covered years grow to include YYYY when it is next to
 * them. Everything happens in one transaction with an audit_log row; the calendar's working
 * spans are rebuilt by the database's triggers before the commit.
 *
 * A bad file is refused before the database is touched, naming the file, the line where the
 * offending VEVENT begins and the reason.
 *
 * This is a command-line tool: it uses blocking libpq and prints to stdout/stderr.
 */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <libical/ical.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CAL_MAX_FILE_SIZE   (4u * 1024u * 1024u)
#define CAL_MAX_EVENT_DAYS  31
#define CAL_MAX_DATES       5000
#define CAL_DEFAULT_SHORTEN 60
#define CAL_NOTE_MAX        500

typedef struct {
    int year, month, day;
    const char *kind; /* "holiday", "workday", "short" */
    int shorten_min;
    char note[CAL_NOTE_MAX + 1];
    int line; /* where its VEVENT begins */
} cal_date_t;

typedef struct {
    const char *calendar;
    const char *file;
    const char *replace_year;
} cal_opts_t;

static const char sql_lock[] = "SELECT mode, first_year, last_year FROM business_calendar"
                               " WHERE id = $1 FOR UPDATE";

/* $1 calendar, $2 year: cover the year (the caller checked it is next to the covered ones). */
static const char sql_extend[] =
    "UPDATE business_calendar SET first_year = least(first_year, $2::int),"
    " last_year = greatest(last_year, $2::int)"
    " WHERE id = $1 AND NOT ($2::int BETWEEN first_year AND last_year)";

/* $1 calendar, $2 year. */
static const char sql_clear_year[] =
    "DELETE FROM business_calendar_exception WHERE calendar_id = $1"
    " AND day >= make_date($2::int, 1, 1) AND day < make_date($2::int + 1, 1, 1)";

/* $1 calendar, $2 the dates (jsonb array), $3 source. One row per date: true if inserted. */
static const char sql_upsert[] =
    "INSERT INTO business_calendar_exception AS e (calendar_id, day, kind, shorten_min, note,"
    "                                              source)"
    " SELECT $1, r.day, r.kind, r.shorten_min, r.note, $3"
    " FROM jsonb_to_recordset($2::jsonb) AS r (day date, kind text, shorten_min int, note text)"
    " ON CONFLICT (calendar_id, day) DO UPDATE SET kind = excluded.kind, as_weekday = NULL,"
    "   shorten_min = excluded.shorten_min, note = excluded.note, source = excluded.source"
    " RETURNING (xmax = 0)";

/* $1 calendar, $2 detail. */
static const char sql_audit[] =
    "INSERT INTO audit_log (actor_id, action, object_type, object_id, detail)"
    " VALUES (NULL, 'import', 'business_calendar', NULL,"
    "         jsonb_build_object('calendar', $1::text) || $2::jsonb)";

static const char sql_result[] = "SELECT first_year, last_year, spans, total_work::text"
                                 " FROM business_calendar c JOIN business_calendar_build b"
                                 " ON b.calendar_id = c.id WHERE c.id = $1";

static void usage(FILE *out)
{
    fputs("usage: fieldd calendar import --calendar ID --file FILE.ics [--replace-year YYYY]\n"
          "\n"
          "Imports the all-day events of an iCalendar file as exceptions of a business\n"
          "calendar: holidays by default, CATEGORIES:WORKDAY for a transferred working day,\n"
          "CATEGORIES:SHORTDAY for a day shortened by 60 minutes (X-ACS-SHORTEN-MINUTES:n to\n"
          "change that). See docs/sla.md.\n"
          "\n"
          "  --calendar ID        the calendar (e.g. ru-business)\n"
          "  --file FILE          the .ics file\n"
          "  --replace-year YYYY  the file is the whole of year YYYY: its exceptions are\n"
          "                       replaced, and the calendar comes to cover YYYY\n"
          "\n"
          "The database is $FIELDD_DB (a libpq conninfo string or URI).\n",
          out);
}

/* Parse `--opt VALUE` / `--opt=VALUE`. Return 0, or 2 after saying why. */
static int parse_opts(int argc, char **argv, cal_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char **slot = NULL;
        const char *name = NULL;
        static const char *const names[] = {"calendar", "file", "replace-year"};
        const char **slots[] = {&o->calendar, &o->file, &o->replace_year};
        for (size_t k = 0; k < 3; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(arg, "--", 2) == 0 && strncmp(arg + 2, names[k], n) == 0 &&
                (arg[2 + n] == '\0' || arg[2 + n] == '=')) {
                slot = slots[k];
                name = names[k];
                break;
            }
        }
        if (slot == NULL) {
            fprintf(stderr,
                    "fieldd calendar import: unexpected argument \"%s\" (options: --calendar, "
                    "--file, --replace-year)\n\n",
                    arg);
            usage(stderr);
            return 2;
        }
        const char *eq = strchr(arg, '=');
        if (eq == NULL && i + 1 >= argc) {
            fprintf(stderr, "fieldd calendar import: option --%s needs a value\n", name);
            return 2;
        }
        if (*slot != NULL) {
            fprintf(stderr, "fieldd calendar import: option --%s given twice\n", name);
            return 2;
        }
        *slot = eq ? eq + 1 : argv[++i];
    }
    if (o->calendar == NULL || o->file == NULL) {
        fputs("fieldd calendar import: --calendar and --file are required\n\n", stderr);
        usage(stderr);
        return 2;
    }
    if (o->replace_year != NULL) {
        char *end = NULL;
        long y = strtol(o->replace_year, &end, 10);
        if (end == o->replace_year || *end != '\0' || y < 2000 || y > 2100) {
            fprintf(stderr,
                    "fieldd calendar import: --replace-year must be a year from 2000 to 2100, "
                    "not \"%s\"\n",
                    o->replace_year);
            return 2;
        }
    }
    return 0;
}

/* Read the whole file, NUL-terminated, into *out. Return 0, or 1 after saying why. */
static int read_file(const char *path, char **out)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    *out = NULL;
    if (fp == NULL) {
        fprintf(stderr, "fieldd calendar import: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    buf = malloc(CAL_MAX_FILE_SIZE + 1);
    if (buf == NULL) {
        fputs("fieldd calendar import: out of memory\n", stderr);
        goto fail;
    }
    len = fread(buf, 1, CAL_MAX_FILE_SIZE + 1, fp);
    if (ferror(fp)) {
        fprintf(stderr, "fieldd calendar import: cannot read %s: %s\n", path, strerror(errno));
        goto fail;
    }
    if (len > CAL_MAX_FILE_SIZE) {
        fprintf(stderr, "fieldd calendar import: %s is larger than %u bytes: not a calendar\n",
                path, CAL_MAX_FILE_SIZE);
        goto fail;
    }
    if (memchr(buf, '\0', len) != NULL) {
        fprintf(stderr, "fieldd calendar import: %s contains a NUL byte: not an iCalendar file\n",
                path);
        goto fail;
    }
    buf[len] = '\0';
    fclose(fp);
    *out = buf;
    return 0;
fail:
    free(buf);
    fclose(fp);
    return 1;
}

/* Line numbers (1-based) of the first `max` "BEGIN:VEVENT" lines of text, in order, so that
 * the n-th VEVENT libical returns can be reported by its line. Return how many were found. */
static size_t vevent_lines(const char *text, int *lines, size_t max)
{
    size_t n = 0;
    int line = 1;
    for (const char *p = text; *p && n < max; line++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= 12 && strncasecmp(p, "BEGIN:VEVENT", 12) == 0 &&
            (len == 12 || (len == 13 && p[12] == '\r')))
            lines[n++] = line;
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return n;
}

/* Return 1 if the comma-separated list has `word` (case-insensitive). */
static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == n && strncasecmp(p, word, n) == 0)
            return 1;
        p = end;
    }
    return 0;
}

typedef struct {
    const char *file;
    int line;
    const char *summary;
} where_t;

static void bad(const where_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Say on stderr what is wrong with the VEVENT at w. */
static void bad(const where_t *w, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fieldd calendar import: %s line %d (VEVENT \"%s\"): ", w->file, w->line,
            w->summary);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Turn one VEVENT into dates appended to dates[*n]. Return 0, 1 to skip it (cancelled), or -1
 * after saying why. */
static int event_dates(icalcomponent *ev, const where_t *w, long only_year, cal_date_t *dates,
                       size_t *n)
{
    icalproperty *p;
    char buf[64];

    for (p = icalcomponent_get_first_property(ev, ICAL_XLICERROR_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_XLICERROR_PROPERTY)) {
        bad(w, "unreadable: %s", icalproperty_get_xlicerror(p));
        return -1;
    }
    if (icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY) != NULL ||
        icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY) != NULL) {
        bad(w, "%s", "recurring events (RRULE, RDATE) are not supported: list each date");
        return -1;
    }
    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
        return 1;
    if (icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY) == NULL) {
        bad(w, "%s", "no DTSTART");
        return -1;
    }
    struct icaltimetype start = icalcomponent_get_dtstart(ev);
    if (icaltime_is_null_time(start) || !icaltime_is_valid_time(start)) {
        bad(w, "%s", "DTSTART is not a valid date");
        return -1;
    }
    if (!start.is_date) {
        bad(w,
            "DTSTART %s has a time of day: only all-day events (DTSTART;VALUE=DATE) are "
            "accepted",
            icaltime_as_ical_string(start));
        return -1;
    }
    int days = 1;
    if (icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY) != NULL ||
        icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY) != NULL) {
        struct icaltimetype end = icalcomponent_get_dtend(ev);
        if (icaltime_is_null_time(end) || !end.is_date) {
            bad(w, "%s", "DTEND/DURATION must give a date after DTSTART (all-day events)");
            return -1;
        }
        days = 0;
        struct icaltimetype t = start;
        while (icaltime_compare_date_only(t, end) < 0 && days <= CAL_MAX_EVENT_DAYS) {
            icaltime_adjust(&t, 1, 0, 0, 0);
            days++;
        }
        if (days == 0) {
            bad(w, "DTEND %s is not after DTSTART (DTEND is exclusive)",
                icaltime_as_ical_string(end));
            return -1;
        }
        if (days > CAL_MAX_EVENT_DAYS) {
            snprintf(buf, sizeof(buf), "%d", CAL_MAX_EVENT_DAYS);
            bad(w, "the event is longer than %s days", buf);
            return -1;
        }
    }

    const char *kind = "holiday";
    int shorten = 0, workday = 0, shortday = 0;
    for (p = icalcomponent_get_first_property(ev, ICAL_CATEGORIES_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_CATEGORIES_PROPERTY)) {
        const char *cats = icalproperty_get_categories(p);
        workday |= has_word(cats, "WORKDAY");
        shortday |= has_word(cats, "SHORTDAY");
    }
    for (p = icalcomponent_get_first_property(ev, ICAL_X_PROPERTY); p != NULL;
         p = icalcomponent_get_next_property(ev, ICAL_X_PROPERTY)) {
        const char *name = icalproperty_get_x_name(p);
        if (name == NULL || strcasecmp(name, "X-ACS-SHORTEN-MINUTES") != 0)
            continue;
        const char *v = icalproperty_get_x(p);
        char *end = NULL;
        long m = v ? strtol(v, &end, 10) : 0;
        if (v == NULL || end == v || *end != '\0' || m < 1 || m > 1440) {
            bad(w, "X-ACS-SHORTEN-MINUTES \"%s\" must be a number of minutes from 1 to 1440",
                v ? v : "");
            return -1;
        }
        if (!shortday) {
            bad(w, "%s", "X-ACS-SHORTEN-MINUTES needs CATEGORIES:SHORTDAY");
            return -1;
        }
        shorten = (int)m;
    }
    if (shortday && shorten == 0)
        shorten = CAL_DEFAULT_SHORTEN;
    if (workday)
        kind = "workday";
    else if (shortday)
        kind = "short";

    struct icaltimetype t = start;
    for (int d = 0; d < days; d++, icaltime_adjust(&t, 1, 0, 0, 0)) {
        if (only_year != 0 && t.year != only_year) {
            snprintf(buf, sizeof(buf), "%04d-%02d-%02d is not in %ld", t.year, t.month, t.day,
                     only_year);
            bad(w, "%s (--replace-year takes the events of that year only)", buf);
            return -1;
        }
        for (size_t i = 0; i < *n; i++) {
            if (dates[i].year == t.year && dates[i].month == t.month && dates[i].day == t.day) {
                snprintf(buf, sizeof(buf), "%04d-%02d-%02d", t.year, t.month, t.day);
                fprintf(stderr,
                        "fieldd calendar import: %s line %d (VEVENT \"%s\"): %s is already "
                        "given by the VEVENT at line %d\n",
                        w->file, w->line, w->summary, buf, dates[i].line);
                return -1;
            }
        }
        if (*n >= CAL_MAX_DATES) {
            snprintf(buf, sizeof(buf), "%d", CAL_MAX_DATES);
            bad(w, "more than %s dates in one file", buf);
            return -1;
        }
        cal_date_t *c = &dates[(*n)++];
        c->year = t.year;
        c->month = t.month;
        c->day = t.day;
        c->kind = kind;
        c->shorten_min = shorten;
        c->line = w->line;
        snprintf(c->note, sizeof(c->note), "%s", w->summary);
    }
    return 0;
}

/* Parse the file into dates. Return 0, or 1 after saying why. */
static int parse_ics(const char *path, const char *text, long only_year, cal_date_t *dates,
                     size_t *n)
{
    int rc = 1;
    int *lines = NULL;
    icalcomponent *root = icalparser_parse_string(text);
    if (root == NULL || icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT) {
        fprintf(stderr,
                "fieldd calendar import: %s line 1: not an iCalendar file (expected "
                "BEGIN:VCALENDAR ... END:VCALENDAR)\n",
                path);
        goto done;
    }
    icalproperty *err = icalcomponent_get_first_property(root, ICAL_XLICERROR_PROPERTY);
    if (err != NULL) {
        fprintf(stderr, "fieldd calendar import: %s (VCALENDAR): unreadable: %s\n", path,
                icalproperty_get_xlicerror(err));
        goto done;
    }
    size_t nev = (size_t)icalcomponent_count_components(root, ICAL_VEVENT_COMPONENT);
    lines = calloc(nev + 1, sizeof(*lines));
    if (lines == NULL) {
        fputs("fieldd calendar import: out of memory\n", stderr);
        goto done;
    }
    size_t nlines = vevent_lines(text, lines, nev);
    *n = 0;
    size_t k = 0;
    for (icalcomponent *ev = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
         ev != NULL; ev = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT), k++) {
        const char *summary = icalcomponent_get_summary(ev);
        where_t w = {path, k < nlines ? lines[k] : 0, summary ? summary : ""};
        if (event_dates(ev, &w, only_year, dates, n) < 0)
            goto done;
    }
    if (*n == 0 && only_year == 0) {
        fprintf(stderr, "fieldd calendar import: %s has no VEVENT to import\n", path);
        goto done;
    }
    rc = 0;
done:
    free(lines);
    if (root != NULL)
        icalcomponent_free(root);
    return rc;
}

static PGconn *connect_db(void)
{
    const char *conninfo = getenv("FIELDD_DB");
    PGconn *conn = PQconnectdb(conninfo ? conninfo : "");
    if (conn == NULL) {
        fputs("fieldd calendar import: out of memory connecting to the database\n", stderr);
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr,
                "fieldd calendar import: cannot connect to the database: %s(set FIELDD_DB to a "
                "libpq conninfo string or URI)\n",
                PQerrorMessage(conn));
        PQfinish(conn);
        return NULL;
    }
    return conn;
}

/* Run a statement; return its result, or NULL after saying why (what = what was being done). */
static PGresult *run(PGconn *conn, const char *what, const char *sql, int nparams,
                     const char *const *params, ExecStatusType want)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == want)
        return res;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    fprintf(stderr, "fieldd calendar import: %s failed: %s", what,
            res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    if (state != NULL && strcmp(state, "42P01") == 0)
        fputs("(the database is not migrated: run `fieldd migrate` first)\n", stderr);
    PQclear(res);
    return NULL;
}

/* Build the jsonb array parameter. Return a malloc'ed string or NULL. */
static char *dates_json(const cal_date_t *dates, size_t n)
{
    json_t *arr = json_array();
    char day[16];
    for (size_t i = 0; arr != NULL && i < n; i++) {
        snprintf(day, sizeof(day), "%04d-%02d-%02d", dates[i].year, dates[i].month, dates[i].day);
        if (json_array_append_new(arr, json_pack("{s:s, s:s, s:i, s:s}", "day", day, "kind",
                                                 dates[i].kind, "shorten_min", dates[i].shorten_min,
                                                 "note", dates[i].note)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

static int calendar_import(int argc, char **argv)
{
    cal_opts_t o;
    char *text = NULL, *json = NULL, *detail = NULL;
    cal_date_t *dates = NULL;
    size_t n = 0;
    PGconn *conn = NULL;
    PGresult *res = NULL;
    int rc = parse_opts(argc, argv, &o);
    long year = 0;

    if (rc != 0)
        return rc;
    rc = 1;
    if (o.replace_year != NULL)
        year = strtol(o.replace_year, NULL, 10);
    dates = calloc(CAL_MAX_DATES, sizeof(*dates));
    if (dates == NULL) {
        fputs("fieldd calendar import: out of memory\n", stderr);
        goto done;
    }
    if (read_file(o.file, &text) != 0 || parse_ics(o.file, text, year, dates, &n) != 0)
        goto done;

    const char *base = strrchr(o.file, '/');
    base = base ? base + 1 : o.file;
    char source[300];
    snprintf(source, sizeof(source), "iCalendar import of %s", base);
    json = dates_json(dates, n);
    size_t nh = 0, nw = 0, ns = 0;
    for (size_t i = 0; i < n; i++) {
        nh += strcmp(dates[i].kind, "holiday") == 0;
        nw += strcmp(dates[i].kind, "workday") == 0;
        ns += dates[i].shorten_min > 0;
    }
    json_t *d = json_pack("{s:s, s:i, s:i, s:i, s:i}", "file", base, "dates", (int)n, "holidays",
                          (int)nh, "workdays", (int)nw, "shortened", (int)ns);
    if (d != NULL && year != 0)
        json_object_set_new(d, "replace_year", json_integer(year));
    detail = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    if (json == NULL || detail == NULL) {
        fputs("fieldd calendar import: out of memory\n", stderr);
        goto done;
    }

    conn = connect_db();
    if (conn == NULL)
        goto done;
    res = run(conn, "starting a transaction", "BEGIN", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL)
        goto done;
    PQclear(res);
    const char *p1[] = {o.calendar};
    res = run(conn, "reading the calendar", sql_lock, 1, p1, PGRES_TUPLES_OK);
    if (res == NULL)
        goto done;
    if (PQntuples(res) == 0) {
        fprintf(stderr, "fieldd calendar import: no calendar \"%s\" (see GET /api/v1/calendars)\n",
                o.calendar);
        goto done;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "always") == 0) {
        fprintf(stderr,
                "fieldd calendar import: calendar \"%s\" is 24x7: it has no holidays to import\n",
                o.calendar);
        goto done;
    }
    long first = strtol(PQgetvalue(res, 0, 1), NULL, 10);
    long last = strtol(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    res = NULL;
    if (year != 0 && (year < first - 1 || year > last + 1)) {
        fprintf(stderr,
                "fieldd calendar import: calendar \"%s\" covers %ld to %ld: it can grow by one "
                "year at a time, so import %ld first\n",
                o.calendar, first, last, year < first ? first - 1 : last + 1);
        goto done;
    }
    for (size_t i = 0; year == 0 && i < n; i++) {
        if (dates[i].year < first || dates[i].year > last) {
            fprintf(stderr,
                    "fieldd calendar import: %s line %d: %04d-%02d-%02d is outside the years "
                    "calendar \"%s\" covers (%ld to %ld); import a whole year with "
                    "--replace-year YYYY\n",
                    o.file, dates[i].line, dates[i].year, dates[i].month, dates[i].day, o.calendar,
                    first, last);
            goto done;
        }
    }
    if (year != 0) {
        const char *p2[] = {o.calendar, o.replace_year};
        res = run(conn, "extending the covered years", sql_extend, 2, p2, PGRES_COMMAND_OK);
        if (res == NULL)
            goto done;
        PQclear(res);
        res = run(conn, "deleting the year's exceptions", sql_clear_year, 2, p2, PGRES_COMMAND_OK);
        if (res == NULL)
            goto done;
        PQclear(res);
        res = NULL;
    }
    size_t added = 0, replaced = 0;
    if (n > 0) {
        const char *p3[] = {o.calendar, json, source};
        res = run(conn, "storing the exceptions", sql_upsert, 3, p3, PGRES_TUPLES_OK);
        if (res == NULL)
            goto done;
        for (int i = 0; i < PQntuples(res); i++) {
            if (strcmp(PQgetvalue(res, i, 0), "t") == 0)
                added++;
            else
                replaced++;
        }
        PQclear(res);
    }
    const char *p4[] = {o.calendar, detail};
    res = run(conn, "writing the audit log", sql_audit, 2, p4, PGRES_COMMAND_OK);
    if (res == NULL)
        goto done;
    PQclear(res);
    res = run(conn, "reading the rebuilt calendar", sql_result, 1, p1, PGRES_TUPLES_OK);
    if (res == NULL || PQntuples(res) != 1)
        goto done;
    printf("calendar %s: %zu dates imported from %s (%zu new, %zu replaced: %zu holidays, %zu "
           "working days, %zu shortened)%s%s\n"
           "covers %s to %s: %s working spans, %s of working time\n",
           o.calendar, n, base, added, replaced, nh, nw, ns, year ? "; replaced year " : "",
           year ? o.replace_year : "", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
           PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
    PQclear(res);
    res = run(conn, "committing", "COMMIT", 0, NULL, PGRES_COMMAND_OK);
    if (res == NULL)
        goto done;
    rc = 0;

done:
    PQclear(res);
    PQfinish(conn); /* an open transaction is rolled back */
    free(detail);
    free(json);
    free(dates);
    free(text);
    return rc;
}

int cli_calendar(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") == 0)
        return calendar_import(argc, argv);
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "fieldd calendar: unknown subcommand \"%s\"\n\n", sub);
    usage(stderr);
    return 2;
}
