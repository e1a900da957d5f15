/* SPDX-License-Identifier: MIT */
/*
 * metrics.h - counters for /metrics in the Prometheus text format: requests by route, method
 * and status, a latency histogram by route, and the database pool's state.
 */
#ifndef ACS_METRICS_H
#define ACS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "sla.h"
#include "webhook.h"

#define METRICS_BUCKETS 12

typedef struct {
    const char *route; /* static string of the route table */
    const char *method;
    int status;
    uint64_t count;
} metrics_counter_t;

typedef struct {
    const char *route;
    uint64_t buckets[METRICS_BUCKETS]; /* cumulative at render time, per bucket here */
    uint64_t count;
    double sum_seconds;
} metrics_histogram_t;

typedef struct {
    metrics_counter_t *counters;
    size_t ncounters;
    size_t cap_counters;
    metrics_histogram_t *hists;
    size_t nhists;
    size_t cap_hists;
} metrics_t;

void metrics_init(metrics_t *m);
void metrics_free(metrics_t *m);

/* Count one finished request. route and method must outlive m (static strings). */
void metrics_observe(metrics_t *m, const char *route, const char *method, int status,
                     double seconds);

/* The state of the service's parts, as of the moment of rendering. */
typedef struct {
    db_pool_stats_t pool;
    sla_stats_t sla;
    webhook_stats_t webhooks;
    unsigned inflight;
    size_t event_streams;
} metrics_gauges_t;

/* Render everything as Prometheus text into a malloc'ed NUL-terminated buffer (*out; caller
 * frees). Return 0 or ACS_ENOMEM (*out NULL). */
int metrics_render(const metrics_t *m, const metrics_gauges_t *g, char **out, size_t *len);

#endif
