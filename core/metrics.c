/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - request counters and latency histograms, rendered in the Prometheus text
 * exposition format. Routes are few and fixed, so plain arrays searched linearly are enough.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"

static const double bucket_bounds[METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  2.5};

void metrics_init(metrics_t *m)
{
    memset(m, 0, sizeof(*m));
}

void metrics_free(metrics_t *m)
{
    free(m->counters);
    free(m->hists);
    memset(m, 0, sizeof(*m));
}

static void *grow(void *arr, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(arr, ncap * elem);
    if (p != NULL)
        *cap = ncap;
    return p;
}

void metrics_observe(metrics_t *m, const char *route, const char *method, int status,
                     double seconds)
{
    metrics_counter_t *c = NULL;
    for (size_t i = 0; i < m->ncounters; i++) {
        metrics_counter_t *x = &m->counters[i];
        if (x->route == route && x->method == method && x->status == status) {
            c = x;
            break;
        }
    }
    if (c == NULL) {
        if (m->ncounters == m->cap_counters) {
            void *p = grow(m->counters, &m->cap_counters, sizeof(*m->counters));
            if (p == NULL)
                return;
            m->counters = p;
        }
        c = &m->counters[m->ncounters++];
        *c = (metrics_counter_t){.route = route, .method = method, .status = status};
    }
    c->count++;

    metrics_histogram_t *h = NULL;
    for (size_t i = 0; i < m->nhists; i++) {
        if (m->hists[i].route == route) {
            h = &m->hists[i];
            break;
        }
    }
    if (h == NULL) {
        if (m->nhists == m->cap_hists) {
            void *p = grow(m->hists, &m->cap_hists, sizeof(*m->hists));
            if (p == NULL)
                return;
            m->hists = p;
        }
        h = &m->hists[m->nhists++];
        memset(h, 0, sizeof(*h));
        h->route = route;
    }
    for (size_t b = 0; b < METRICS_BUCKETS; b++) {
        if (seconds <= bucket_bounds[b]) {
            h->buckets[b]++;
            break;
        }
    }
    h->count++;
    h->sum_seconds += seconds;
}

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    int failed;
} sbuf_t;

static void sb_printf(sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf_t *sb, const char *fmt, ...)
{
    if (sb->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            sb->failed = 1;
            return;
        }
        if ((size_t)n < sb->cap - sb->len) {
            sb->len += (size_t)n;
            return;
        }
        size_t ncap = sb->cap * 2 + (size_t)n;
        char *p = realloc(sb->buf, ncap);
        if (p == NULL) {
            sb->failed = 1;
            return;
        }
        sb->buf = p;
        sb->cap = ncap;
    }
}

int metrics_render(const metrics_t *m, const metrics_gauges_t *g, char **out, size_t *len)
{
    const db_pool_stats_t *pool = &g->pool;
    sbuf_t sb = {.buf = malloc(4096), .cap = 4096};
    *out = NULL;
    *len = 0;
    if (sb.buf == NULL)
        return ACS_ENOMEM;
    sb.buf[0] = '\0';

    sb_printf(&sb, "# HELP fieldd_http_requests_total HTTP requests by route, method and "
                   "status.\n# TYPE fieldd_http_requests_total counter\n");
    for (size_t i = 0; i < m->ncounters; i++) {
        const metrics_counter_t *c = &m->counters[i];
        sb_printf(&sb,
                  "fieldd_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                  c->route, c->method, c->status, (unsigned long long)c->count);
    }
    sb_printf(&sb, "# HELP fieldd_http_request_duration_seconds Time from request to reply.\n"
                   "# TYPE fieldd_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->nhists; i++) {
        const metrics_histogram_t *h = &m->hists[i];
        uint64_t cum = 0;
        for (size_t b = 0; b < METRICS_BUCKETS; b++) {
            cum += h->buckets[b];
            sb_printf(&sb,
                      "fieldd_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                      h->route, bucket_bounds[b], (unsigned long long)cum);
        }
        sb_printf(&sb,
                  "fieldd_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
                  "fieldd_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                  "fieldd_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                  h->route, (unsigned long long)h->count, h->route, h->sum_seconds, h->route,
                  (unsigned long long)h->count);
    }
    sb_printf(&sb,
              "# HELP fieldd_http_inflight_requests Requests being served.\n"
              "# TYPE fieldd_http_inflight_requests gauge\nfieldd_http_inflight_requests %u\n",
              g->inflight);
    sb_printf(&sb,
              "# HELP fieldd_db_pool_connections Database connections by state.\n"
              "# TYPE fieldd_db_pool_connections gauge\n"
              "fieldd_db_pool_connections{state=\"idle\"} %u\n"
              "fieldd_db_pool_connections{state=\"busy\"} %u\n"
              "fieldd_db_pool_connections{state=\"connecting\"} %u\n"
              "fieldd_db_pool_connections{state=\"down\"} %u\n"
              "# HELP fieldd_db_queue_length Queries waiting for a connection.\n"
              "# TYPE fieldd_db_queue_length gauge\nfieldd_db_queue_length %zu\n"
              "# HELP fieldd_db_queries_total Queries by result.\n"
              "# TYPE fieldd_db_queries_total counter\n"
              "fieldd_db_queries_total{result=\"ok\"} %llu\n"
              "fieldd_db_queries_total{result=\"error\"} %llu\n"
              "fieldd_db_queries_total{result=\"unavailable\"} %llu\n"
              "# HELP fieldd_db_reconnects_total Connection attempts after a failure.\n"
              "# TYPE fieldd_db_reconnects_total counter\nfieldd_db_reconnects_total %llu\n",
              pool->idle, pool->busy, pool->connecting, pool->down, pool->queued,
              (unsigned long long)pool->queries_ok, (unsigned long long)pool->queries_failed,
              (unsigned long long)pool->queries_unavailable, (unsigned long long)pool->reconnects);
    sb_printf(&sb,
              "# HELP fieldd_sla_ticks_total Times this instance asked what fell due.\n"
              "# TYPE fieldd_sla_ticks_total counter\nfieldd_sla_ticks_total %llu\n"
              "# HELP fieldd_sla_marks_total SLA warnings and breaches this instance recorded.\n"
              "# TYPE fieldd_sla_marks_total counter\n"
              "fieldd_sla_marks_total{kind=\"warning\"} %llu\n"
              "fieldd_sla_marks_total{kind=\"breach\"} %llu\n"
              "# HELP fieldd_sla_tick_failures_total Ticks that could not reach the database.\n"
              "# TYPE fieldd_sla_tick_failures_total counter\nfieldd_sla_tick_failures_total %llu\n"
              "# HELP fieldd_event_streams Open live event streams.\n"
              "# TYPE fieldd_event_streams gauge\nfieldd_event_streams %zu\n",
              g->sla.ticks, g->sla.warnings, g->sla.breaches, g->sla.failures, g->event_streams);
    sb_printf(&sb,
              "# HELP fieldd_webhook_attempts_total Webhook POSTs this instance made, by result.\n"
              "# TYPE fieldd_webhook_attempts_total counter\n"
              "fieldd_webhook_attempts_total{result=\"delivered\"} %llu\n"
              "fieldd_webhook_attempts_total{result=\"failed\"} %llu\n"
              "# HELP fieldd_webhook_gave_up_total Webhook deliveries given up after the last "
              "attempt.\n"
              "# TYPE fieldd_webhook_gave_up_total counter\nfieldd_webhook_gave_up_total %llu\n",
              (unsigned long long)g->webhooks.delivered, (unsigned long long)g->webhooks.failed,
              (unsigned long long)g->webhooks.gave_up);
    if (sb.failed) {
        free(sb.buf);
        return ACS_ENOMEM;
    }
    *out = sb.buf;
    *len = sb.len;
    return 0;
}
