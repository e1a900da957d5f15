/* SPDX-License-Identifier: MIT */
/*
 * report.c - the monthly service report of report.h: headline figures with the change from
 * the previous month, four charts drawn as inline SVG (SLA compliance over twelve months,
 * the distribution of resolution times, tickets by category, repeats by site), the breached
 * tickets and the hardest cases, on one HTML page that prints on A4 (print CSS).
 *
 * The figures come computed from PostgreSQL (acs_report_monthly, docs/metrics.md); this file
 * only lays them out. Each value is read from the JSON with a default, so a figure that is
 * null (no ticket to measure) shows as a dash instead of a misleading zero.
 */
#include "report.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

/* The three of math.h this file needs, without linking libm for them. */
static double dmax(double a, double b)
{
    return a > b ? a : b;
}

static double dmin(double a, double b)
{
    return a < b ? a : b;
}

static double dabs(double a)
{
    return a < 0 ? -a : a;
}

/* ---------------------------------------------------------------------------------------- */
/* Buffer and escaping                                                                      */

void report_buf_free(report_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static int grow(report_buf_t *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra + 1) {
        if (cap > ((size_t)-1) / 2) {
            b->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void report_buf_add(report_buf_t *b, const char *s, size_t len)
{
    if (grow(b, len) != 0)
        return;
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void report_buf_puts(report_buf_t *b, const char *s)
{
    report_buf_add(b, s, strlen(s));
}

void report_buf_printf(report_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        report_buf_add(b, small, (size_t)n);
        return;
    }
    if (grow(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void report_buf_html(report_buf_t *b, const char *s)
{
    if (s == NULL)
        return;
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        report_buf_add(b, run, (size_t)(p - run));
        report_buf_puts(b, rep);
        run = p + 1;
    }
    report_buf_puts(b, run);
}

void report_buf_csv(report_buf_t *b, const char *s)
{
    if (s == NULL)
        return;
    int formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    /* A negative number is data, not a formula. */
    if (s[0] == '-' && s[1] >= '0' && s[1] <= '9')
        formula = 0;
    int quote = formula || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        report_buf_puts(b, "\"");
    if (formula)
        report_buf_puts(b, "'");
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '"') {
            report_buf_add(b, run, (size_t)(p - run + 1));
            report_buf_puts(b, "\"");
            run = p + 1;
        }
    }
    report_buf_puts(b, run);
    if (quote)
        report_buf_puts(b, "\"");
}

/* ---------------------------------------------------------------------------------------- */
/* Reading the JSON                                                                         */

/* The value at a dotted path ("totals.first_contact.met_pct"), or NULL. */
static const json_t *at(const json_t *o, const char *path)
{
    char key[64];
    while (o != NULL && *path != '\0') {
        const char *dot = strchr(path, '.');
        size_t n = dot != NULL ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path += n + (dot != NULL);
    }
    return o;
}

/* A number at path: 1 and *v when it is one, 0 when absent or null. */
static int num(const json_t *o, const char *path, double *v)
{
    const json_t *x = at(o, path);
    if (!json_is_number(x))
        return 0;
    *v = json_number_value(x);
    return 1;
}

static double num_or(const json_t *o, const char *path, double dflt)
{
    double v;
    return num(o, path, &v) ? v : dflt;
}

static const char *str(const json_t *o, const char *path)
{
    return json_string_value(at(o, path));
}

/* ---------------------------------------------------------------------------------------- */
/* Formatting                                                                               */

typedef enum { FMT_COUNT, FMT_PCT, FMT_DURATION, FMT_SCORE, FMT_AVG } fmt_t;

/* Working time in seconds as "45 min", "3.5 h", "26 h". */
static void fmt_duration(char *out, size_t len, double s)
{
    if (s < 3600)
        snprintf(out, len, "%.0f min", s / 60);
    else if (s < 10 * 3600)
        snprintf(out, len, "%.1f h", s / 3600);
    else
        snprintf(out, len, "%.0f h", s / 3600);
}

static void fmt_value(char *out, size_t len, fmt_t f, const json_t *o, const char *path)
{
    double v;
    if (!num(o, path, &v)) {
        snprintf(out, len, "&#8212;");
        return;
    }
    switch (f) {
    case FMT_COUNT:
        snprintf(out, len, "%.0f", v);
        break;
    case FMT_PCT:
        snprintf(out, len, "%.1f %%", v);
        break;
    case FMT_DURATION:
        fmt_duration(out, len, v);
        break;
    case FMT_SCORE:
        snprintf(out, len, "%+.1f", v);
        break;
    case FMT_AVG:
        snprintf(out, len, "%.2f", v);
        break;
    }
}

/* The change from prev to cur: "+3", "-2.5 pp", "+12 min"; better says whether up is good
 * (1), bad (-1) or neither (0), for the colour. */
static void fmt_change(report_buf_t *b, fmt_t f, const json_t *cur, const json_t *prev,
                       const char *path, int better)
{
    double c, p;
    if (!num(cur, path, &c) || !num(prev, path, &p)) {
        report_buf_puts(b, "<td class=\"chg\">&#8212;</td>");
        return;
    }
    double d = c - p;
    const char *cls = "same";
    if (dabs(d) > 1e-9 && better != 0)
        cls = (d > 0) == (better > 0) ? "good" : "bad";
    char text[64];
    switch (f) {
    case FMT_COUNT:
        snprintf(text, sizeof(text), "%+.0f", d);
        break;
    case FMT_PCT:
        snprintf(text, sizeof(text), "%+.1f pp", d);
        break;
    case FMT_DURATION: {
        char dur[32];
        fmt_duration(dur, sizeof(dur), dabs(d));
        snprintf(text, sizeof(text), "%s%s", d < 0 ? "&#8722;" : "+", dur);
        break;
    }
    case FMT_SCORE:
    case FMT_AVG:
        snprintf(text, sizeof(text), "%+.2f", d);
        break;
    }
    report_buf_printf(b, "<td class=\"chg %s\">%s</td>", cls, text);
}

static const char *const month_names[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};

/* "2026-10" -> "October 2026" (or the text itself when it is not a month). */
static void month_title(char *out, size_t len, const char *month)
{
    int y, m;
    if (month != NULL && sscanf(month, "%4d-%2d", &y, &m) == 2 && m >= 1 && m <= 12)
        snprintf(out, len, "%s %d", month_names[m - 1], y);
    else
        snprintf(out, len, "%s", month != NULL ? month : "?");
}

/* "2026-10" -> "Oct 26". */
static void month_short(char *out, size_t len, const char *month)
{
    int y, m;
    if (month != NULL && sscanf(month, "%4d-%2d", &y, &m) == 2 && m >= 1 && m <= 12)
        snprintf(out, len, "%.3s %02d", month_names[m - 1], y % 100);
    else
        snprintf(out, len, "?");
}

/* Copy at most max characters (not bytes) of UTF-8 text s, with an ellipsis when cut. */
static void clip(char *out, size_t len, const char *s, size_t max)
{
    size_t i = 0, chars = 0;
    if (s == NULL)
        s = "";
    while (s[i] != '\0') {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (chars == max)
                break;
            chars++;
        }
        i++;
    }
    if (s[i] == '\0' || len < 8) {
        snprintf(out, len, "%.*s", (int)(i < len ? i : len - 1), s);
        return;
    }
    /* back to a character boundary that leaves room for the ellipsis */
    size_t keep = i < len - 4 ? i : len - 4;
    while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
        keep--;
    snprintf(out, len, "%.*s\xE2\x80\xA6", (int)keep, s);
}

/* ---------------------------------------------------------------------------------------- */
/* Charts                                                                                   */

#define CHART_W 640
#define CHART_H 260

static void svg_open(report_buf_t *b, const char *id, const char *title)
{
    report_buf_printf(b,
                      "<figure class=\"chart\" id=\"%s\"><svg xmlns=\"http://www.w3.org/2000/svg\""
                      " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\""
                      " aria-label=\"",
                      id, CHART_W, CHART_H, CHART_W, CHART_H);
    report_buf_html(b, title);
    report_buf_puts(b, "\"><title>");
    report_buf_html(b, title);
    report_buf_puts(b, "</title>");
}

static void svg_close(report_buf_t *b, const char *caption)
{
    report_buf_puts(b, "</svg><figcaption>");
    report_buf_html(b, caption);
    report_buf_puts(b, "</figcaption></figure>\n");
}

/* SLA compliance of twelve months: two lines, 0-100 %. */
static void chart_trend(report_buf_t *b, const json_t *trend)
{
    const double left = 48, right = CHART_W - 16, top = 16, bottom = CHART_H - 40;
    size_t n = json_array_size(trend);
    svg_open(b, "chart-sla-trend", "SLA compliance, last 12 months");
    for (int pct = 0; pct <= 100; pct += 25) {
        double y = bottom - (bottom - top) * pct / 100.0;
        report_buf_printf(b,
                          "<line class=\"grid\" x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
                          "<text class=\"axis\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%d %%"
                          "</text>",
                          left, y, right, y, left - 6, y + 4, pct);
    }
    double step = n > 1 ? (right - left - 20) / (double)(n - 1) : 0;
    for (size_t i = 0; i < n; i++) {
        char label[16];
        month_short(label, sizeof(label), str(json_array_get(trend, i), "month"));
        report_buf_printf(b,
                          "<text class=\"axis\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s"
                          "</text>",
                          left + 10 + step * (double)i, bottom + 18, label);
    }
    static const struct {
        const char *key, *cls, *name;
    } series[] = {{"first_contact_met_pct", "s1", "first contact"},
                  {"resolution_met_pct", "s2", "resolution"}};
    for (size_t s = 0; s < 2; s++) {
        /* a line through the months that have a figure; a month without one breaks it */
        int open = 0;
        for (size_t i = 0; i < n; i++) {
            double v;
            double x = left + 10 + step * (double)i;
            if (!num(json_array_get(trend, i), series[s].key, &v)) {
                if (open)
                    report_buf_puts(b, "\"/>");
                open = 0;
                continue;
            }
            double y = bottom - (bottom - top) * v / 100.0;
            if (!open)
                report_buf_printf(b, "<polyline class=\"line %s\" points=\"", series[s].cls);
            report_buf_printf(b, "%s%.1f,%.1f", open ? " " : "", x, y);
            open = 1;
        }
        if (open)
            report_buf_puts(b, "\"/>");
        for (size_t i = 0; i < n; i++) {
            double v;
            const json_t *m = json_array_get(trend, i);
            if (!num(m, series[s].key, &v))
                continue;
            report_buf_printf(b, "<circle class=\"dot %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\"><title>",
                              series[s].cls, left + 10 + step * (double)i,
                              bottom - (bottom - top) * v / 100.0);
            report_buf_html(b, str(m, "month"));
            report_buf_printf(b, ": %s %.1f %%</title></circle>", series[s].name, v);
        }
    }
    report_buf_printf(b,
                      "<rect class=\"s1\" x=\"%.0f\" y=\"%d\" width=\"12\" height=\"4\"/>"
                      "<text class=\"axis\" x=\"%.0f\" y=\"%d\">first contact</text>"
                      "<rect class=\"s2\" x=\"%.0f\" y=\"%d\" width=\"12\" height=\"4\"/>"
                      "<text class=\"axis\" x=\"%.0f\" y=\"%d\">resolution</text>",
                      left, CHART_H - 10, left + 16, CHART_H - 6, left + 120, CHART_H - 10,
                      left + 136, CHART_H - 6);
    svg_close(b, "Share of tickets opened each month whose SLA clock was met (of those decided).");
}

/* Vertical bars: items[i].label_key and .value_key. */
static void chart_columns(report_buf_t *b, const char *id, const char *title, const json_t *items,
                          const char *label_key, const char *value_key, const char *caption)
{
    const double left = 48, right = CHART_W - 16, top = 16, bottom = CHART_H - 40;
    size_t n = json_array_size(items);
    double max = 0;
    for (size_t i = 0; i < n; i++)
        max = dmax(max, num_or(json_array_get(items, i), value_key, 0));
    double scale_max = max > 0 ? max : 1;
    svg_open(b, id, title);
    report_buf_printf(b,
                      "<line class=\"axisline\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"/>",
                      left, bottom, right, bottom);
    report_buf_printf(b,
                      "<text class=\"axis\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.0f</text>"
                      "<text class=\"axis\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0</text>",
                      left - 6, top + 4, max, left - 6, bottom);
    double slot = n > 0 ? (right - left) / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        double v = num_or(it, value_key, 0);
        double h = (bottom - top) * v / scale_max;
        double x = left + slot * (double)i + slot * 0.15;
        char label[64];
        clip(label, sizeof(label), str(it, label_key), 14);
        report_buf_printf(b,
                          "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\"><title>",
                          x, bottom - h, slot * 0.7, h);
        report_buf_html(b, str(it, label_key));
        report_buf_printf(b, ": %.0f</title></rect>", v);
        report_buf_printf(b,
                          "<text class=\"val\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f"
                          "</text><text class=\"axis\" x=\"%.1f\" y=\"%.0f\" "
                          "text-anchor=\"middle\">",
                          x + slot * 0.35, bottom - h - 4, v, x + slot * 0.35, bottom + 18);
        report_buf_html(b, label);
        report_buf_puts(b, "</text>");
    }
    svg_close(b, caption);
}

/* Horizontal bars, for long labels (sites). */
static void chart_rows(report_buf_t *b, const char *id, const char *title, const json_t *items,
                       const char *label_key, const char *value_key, const char *caption)
{
    const double left = 230, right = CHART_W - 40, top = 12;
    size_t n = json_array_size(items);
    double max = 0;
    for (size_t i = 0; i < n; i++)
        max = dmax(max, num_or(json_array_get(items, i), value_key, 0));
    double scale_max = max > 0 ? max : 1;
    double row = n > 0 ? dmin(36, (CHART_H - 2 * top) / (double)n) : 0;
    svg_open(b, id, title);
    if (n == 0)
        report_buf_printf(b,
                          "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">none this "
                          "month</text>",
                          CHART_W / 2, CHART_H / 2);
    for (size_t i = 0; i < n; i++) {
        const json_t *it = json_array_get(items, i);
        double v = num_or(it, value_key, 0);
        double w = dmax(1, (right - left) * v / scale_max);
        double y = top + row * (double)i;
        char label[128];
        clip(label, sizeof(label), str(it, label_key), 32);
        report_buf_printf(b, "<text class=\"axis\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">",
                          left - 6, y + row * 0.65);
        report_buf_html(b, label);
        report_buf_printf(b,
                          "</text><rect class=\"bar\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" "
                          "height=\"%.1f\"><title>",
                          left, y + row * 0.15, w, row * 0.7);
        report_buf_html(b, str(it, label_key));
        report_buf_printf(b,
                          ": %.0f</title></rect><text class=\"val\" x=\"%.1f\" y=\"%.1f\">%.0f"
                          "</text>",
                          v, left + w + 4, y + row * 0.65, v);
    }
    svg_close(b, caption);
}

/* ---------------------------------------------------------------------------------------- */
/* The page                                                                                 */

static const char css[] =
    "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2733;"
    "margin:24px auto;max-width:1000px;padding:0 16px}"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #d5dbe1;padding-bottom:4px}"
    ".meta{color:#5b6773;margin:0 0 16px}"
    "table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;text-align:left;"
    "border-bottom:1px solid #e6eaee;vertical-align:top}th{background:#f3f5f7;font-weight:600}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".chg{text-align:right;white-space:nowrap}.good{color:#17803d}.bad{color:#b42318}"
    ".same{color:#5b6773}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:16px}"
    ".chart{margin:0;border:1px solid #e6eaee;border-radius:6px;padding:8px}"
    ".chart svg{width:100%;height:auto;display:block}"
    "figcaption{color:#5b6773;font-size:12px;margin-top:4px}"
    ".grid{stroke:#e6eaee}.axisline{stroke:#9aa5b1}.axis{font-size:11px;fill:#5b6773}"
    ".val{font-size:11px;fill:#1d2733}.bar{fill:#3b6fb6}"
    ".line{fill:none;stroke-width:2.5}.line.s1{stroke:#3b6fb6}.line.s2{stroke:#e07b24}"
    "rect.s1,.dot.s1{fill:#3b6fb6}rect.s2,.dot.s2{fill:#e07b24}"
    ".empty{color:#5b6773;font-style:italic}"
    "@page{size:A4;margin:14mm}"
    "@media print{body{margin:0;max-width:none;font-size:10pt}"
    ".charts{display:block}.chart{break-inside:avoid;page-break-inside:avoid;margin-bottom:8px;"
    "border:none}.chart svg{max-width:170mm}h2{break-after:avoid;page-break-after:avoid}"
    "tr{break-inside:avoid;page-break-inside:avoid}a{color:inherit;text-decoration:none}"
    "a.csv{display:none}}";

typedef struct {
    const char *label;
    const char *path;
    fmt_t fmt;
    int better; /* 1: up is good, -1: up is bad, 0: neither */
} headline_t;

static const headline_t headlines[] = {
    {"Tickets opened", "opened", FMT_COUNT, 0},
    {"Tickets resolved", "resolved", FMT_COUNT, 1},
    {"Backlog at month end", "backlog_at_end", FMT_COUNT, -1},
    {"First contact within SLA", "first_contact.met_pct", FMT_PCT, 1},
    {"First-contact breaches", "first_contact.breached", FMT_COUNT, -1},
    {"Resolution within SLA", "resolution.met_pct", FMT_PCT, 1},
    {"Resolution breaches", "resolution.breached", FMT_COUNT, -1},
    {"Time to first contact, median", "first_contact.median_seconds", FMT_DURATION, -1},
    {"Time to first contact, 90th percentile", "first_contact.p90_seconds", FMT_DURATION, -1},
    {"Time to resolution, median", "resolution.median_seconds", FMT_DURATION, -1},
    {"Time to resolution, 90th percentile", "resolution.p90_seconds", FMT_DURATION, -1},
    {"Time to resolution, longest", "resolution.max_seconds", FMT_DURATION, -1},
    {"Repeat tickets", "repeats.rate_pct", FMT_PCT, -1},
    {"Reopened tickets", "reopens.rate_pct", FMT_PCT, -1},
    {"First-time fix of visits", "first_time_fix.rate_pct", FMT_PCT, 1},
    {"CSAT, average (1-5)", "csat.average", FMT_AVG, 1},
    {"CSAT response rate", "csat.response_rate_pct", FMT_PCT, 1},
    {"NPS", "nps.score", FMT_SCORE, 1},
    {"Visits", "visits.count", FMT_COUNT, 0},
    {"Projects started", "projects.started", FMT_COUNT, 0},
    {"Projects finished", "projects.finished", FMT_COUNT, 1},
    {"Projects finished late", "projects.late", FMT_COUNT, -1},
};

static void headline_table(report_buf_t *b, const json_t *data)
{
    const json_t *cur = at(data, "totals");
    const json_t *prev = at(data, "previous");
    char m1[32], m0[32];
    month_title(m1, sizeof(m1), str(data, "month"));
    month_title(m0, sizeof(m0), str(data, "previous_month"));
    report_buf_puts(b, "<h2>Headline figures</h2><table class=\"headline\"><thead><tr>"
                       "<th>figure</th><th class=\"n\">");
    report_buf_html(b, m1);
    report_buf_puts(b, "</th><th class=\"n\">");
    report_buf_html(b, m0);
    report_buf_puts(b, "</th><th class=\"n\">change</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < sizeof(headlines) / sizeof(headlines[0]); i++) {
        const headline_t *h = &headlines[i];
        char c[64], p[64];
        fmt_value(c, sizeof(c), h->fmt, cur, h->path);
        fmt_value(p, sizeof(p), h->fmt, prev, h->path);
        report_buf_printf(b,
                          "<tr data-figure=\"%s\"><td>%s</td><td class=\"n\">%s</td>"
                          "<td class=\"n\">%s</td>",
                          h->path, h->label, c, p);
        fmt_change(b, h->fmt, cur, prev, h->path, h->better);
        report_buf_puts(b, "</tr>\n");
    }
    double minutes = num_or(cur, "visits.minutes_on_site", 0);
    report_buf_printf(b,
                      "</tbody></table><p class=\"meta\">Engineers spent %.1f hours on site in "
                      "%.0f visits. Definitions: docs/metrics.md.</p>\n",
                      minutes / 60, num_or(cur, "visits.count", 0));
}

static void category_table(report_buf_t *b, const json_t *groups)
{
    report_buf_puts(b, "<h2>By category</h2><table class=\"categories\"><thead><tr>"
                       "<th>category</th><th class=\"n\">opened</th><th class=\"n\">resolved</th>"
                       "<th class=\"n\">first contact in SLA</th>"
                       "<th class=\"n\">resolution in SLA</th>"
                       "<th class=\"n\">median resolution</th><th class=\"n\">CSAT</th>"
                       "</tr></thead><tbody>\n");
    size_t n = json_array_size(groups);
    for (size_t i = 0; i < n; i++) {
        const json_t *g = json_array_get(groups, i);
        char a[64], c[64], d[64], e[64], f[64], h[64];
        fmt_value(a, sizeof(a), FMT_COUNT, g, "opened");
        fmt_value(c, sizeof(c), FMT_COUNT, g, "resolved");
        fmt_value(d, sizeof(d), FMT_PCT, g, "first_contact.met_pct");
        fmt_value(e, sizeof(e), FMT_PCT, g, "resolution.met_pct");
        fmt_value(f, sizeof(f), FMT_DURATION, g, "resolution.median_seconds");
        fmt_value(h, sizeof(h), FMT_AVG, g, "csat.average");
        report_buf_puts(b, "<tr><td>");
        report_buf_html(b, str(g, "label"));
        report_buf_printf(b,
                          "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s"
                          "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s"
                          "</td></tr>\n",
                          a, c, d, e, f, h);
    }
    if (n == 0)
        report_buf_puts(b, "<tr><td colspan=\"7\" class=\"empty\">no tickets</td></tr>");
    report_buf_puts(b, "</tbody></table>\n");
}

/* A cell with a ticket's clock: "breached (5.2 h of 4.0 h)". */
static void clock_cell(report_buf_t *b, const json_t *t, const char *state_key,
                       const char *taken_key, const char *target_key)
{
    const char *state = str(t, state_key);
    double taken, target;
    report_buf_printf(b, "<td class=\"%s\">",
                      state != NULL && strcmp(state, "breached") == 0 ? "bad" : "");
    report_buf_html(b, state);
    if (num(t, taken_key, &taken) && num(t, target_key, &target)) {
        char d1[32], d2[32];
        fmt_duration(d1, sizeof(d1), taken);
        fmt_duration(d2, sizeof(d2), target);
        report_buf_printf(b, " (%s of %s)", d1, d2);
    }
    report_buf_puts(b, "</td>");
}

static void ticket_cells(report_buf_t *b, const json_t *t)
{
    report_buf_printf(b, "<td class=\"n\">%.0f</td><td>", num_or(t, "number", 0));
    report_buf_html(b, str(t, "subject"));
    report_buf_puts(b, "</td><td>");
    report_buf_html(b, str(t, "category"));
    report_buf_puts(b, "</td><td>");
    report_buf_html(b, str(t, "client"));
    report_buf_puts(b, "<br>");
    report_buf_html(b, str(t, "site"));
    report_buf_puts(b, "</td><td>");
    report_buf_html(b, str(t, "engineer") != NULL ? str(t, "engineer") : "\xE2\x80\x94");
    report_buf_puts(b, "</td>");
}

static void breached_table(report_buf_t *b, const json_t *list, double total)
{
    size_t n = json_array_size(list);
    report_buf_printf(b, "<h2>Breached tickets (%.0f)</h2>", total);
    if ((double)n < total)
        report_buf_printf(b,
                          "<p class=\"meta\">The first %zu by creation are listed; the CSV "
                          "of the month lists every ticket with its clocks.</p>",
                          n);
    if (n == 0) {
        report_buf_puts(b, "<p class=\"empty\">No ticket opened this month breached its SLA."
                           "</p>\n");
        return;
    }
    report_buf_puts(b, "<table class=\"breached\"><thead><tr><th class=\"n\">#</th>"
                       "<th>subject</th><th>category</th><th>client / site</th>"
                       "<th>engineer</th><th>first contact</th><th>resolution</th>"
                       "<th>status</th></tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(list, i);
        report_buf_puts(b, "<tr>");
        ticket_cells(b, t);
        clock_cell(b, t, "first_contact", "first_contact_seconds", "first_contact_target_seconds");
        clock_cell(b, t, "resolution", "resolution_seconds", "resolution_target_seconds");
        report_buf_puts(b, "<td>");
        report_buf_html(b, str(t, "status"));
        report_buf_puts(b, "</td></tr>\n");
    }
    report_buf_puts(b, "</tbody></table>\n");
}

static void hardest_table(report_buf_t *b, const json_t *list)
{
    size_t n = json_array_size(list);
    report_buf_puts(b, "<h2>Hardest cases for review</h2>");
    if (n == 0) {
        report_buf_puts(b, "<p class=\"empty\">No repeats, reopens, escalations, revisits or "
                           "complaints this month.</p>\n");
        return;
    }
    report_buf_puts(b, "<table class=\"hardest\"><thead><tr><th class=\"n\">#</th>"
                       "<th>subject</th><th>category</th><th>client / site</th>"
                       "<th>engineer</th><th>why</th><th>client's words</th>"
                       "</tr></thead><tbody>\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *t = json_array_get(list, i);
        double v;
        report_buf_puts(b, "<tr>");
        ticket_cells(b, t);
        report_buf_puts(b, "<td>");
        const char *sep = "";
        if (num(t, "escalations", &v) && v > 0) {
            report_buf_printf(b, "%s%.0f escalation%s", sep, v, v == 1 ? "" : "s");
            sep = "; ";
        }
        if (num(t, "repeat_of_number", &v)) {
            report_buf_printf(b, "%srepeat of #%.0f", sep, v);
            sep = "; ";
        }
        if (num(t, "repeated_by", &v) && v > 0) {
            report_buf_printf(b, "%srepeated %.0f time%s", sep, v, v == 1 ? "" : "s");
            sep = "; ";
        }
        if (num(t, "reopens", &v) && v > 0) {
            report_buf_printf(b, "%sreopened %.0f time%s", sep, v, v == 1 ? "" : "s");
            sep = "; ";
        }
        if (num(t, "visits", &v) && v > 1) {
            report_buf_printf(b, "%s%.0f visits", sep, v);
            sep = "; ";
        }
        if (num(t, "csat", &v))
            report_buf_printf(b, "%sCSAT %.0f", sep, v), sep = "; ";
        if (num(t, "nps", &v))
            report_buf_printf(b, "%sNPS %.0f", sep, v);
        report_buf_puts(b, "</td><td>");
        report_buf_html(b, str(t, "feedback"));
        report_buf_puts(b, "</td></tr>\n");
    }
    report_buf_puts(b, "</tbody></table>\n");
}

int report_monthly_html(const json_t *data, char **out, size_t *len)
{
    report_buf_t b = {0};
    *out = NULL;
    *len = 0;
    if (!json_is_object(data) || str(data, "month") == NULL || !json_is_object(at(data, "totals")))
        return ACS_EINVAL;
    char title[64];
    month_title(title, sizeof(title), str(data, "month"));
    report_buf_puts(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                        "<title>Service report ");
    report_buf_html(&b, title);
    report_buf_printf(&b,
                      "</title><style>%s</style></head><body>\n<header><h1>Service report: ", css);
    report_buf_html(&b, title);
    report_buf_puts(&b, "</h1><p class=\"meta\">Tickets of ");
    report_buf_html(&b, title);
    report_buf_puts(&b, " (months on the ");
    report_buf_html(&b, str(data, "time_zone"));
    report_buf_puts(&b, " calendar); generated ");
    report_buf_html(&b, str(data, "generated_at"));
    report_buf_puts(&b, ". Times are working time on each ticket's SLA calendar. "
                        "<a class=\"csv\" href=\"/api/v1/reports/monthly?format=csv&amp;month=");
    report_buf_html(&b, str(data, "month"));
    report_buf_puts(&b, "\">The month's tickets as CSV</a>.</p></header>\n");

    headline_table(&b, data);

    report_buf_puts(&b, "<h2>Charts</h2><div class=\"charts\">\n");
    chart_trend(&b, at(data, "trend"));
    chart_columns(&b, "chart-resolution", "Time to resolution", at(data, "resolution_histogram"),
                  "bucket", "count", "Tickets resolved this month by working time to resolution.");
    chart_columns(&b, "chart-categories", "Tickets by category", at(data, "by_category"), "label",
                  "opened", "Tickets opened this month by category.");
    chart_rows(&b, "chart-repeats", "Repeat tickets by site", at(data, "repeats_by_site"), "site",
               "repeats", "Sites with the most repeat tickets opened this month (top 10).");
    report_buf_puts(&b, "</div>\n");

    category_table(&b, at(data, "by_category"));
    breached_table(&b, at(data, "breached"),
                   num_or(data, "breached_total", (double)json_array_size(at(data, "breached"))));
    hardest_table(&b, at(data, "hardest"));
    report_buf_puts(&b, "</body></html>\n");

    if (b.failed) {
        report_buf_free(&b);
        return ACS_ENOMEM;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}
