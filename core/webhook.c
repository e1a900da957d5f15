/* SPDX-License-Identifier: MIT */
/*
 * webhook.c - the webhook sender of webhook.h: an outbox reader on the libuv loop, with
 * libpq queries through the pool (db.h) and POSTs through httpc.h; nothing blocks.
 */
#include "webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acs_error.h"
#include "httpc.h"
#include "log.h"

typedef struct delivery delivery_t;

struct webhook_sender {
    uv_timer_t timer;
    db_pool_t *pool;
    httpc_t *http;
    webhook_config_t cfg;
    db_query_t *claim_q; /* the claim in flight, if any */
    int again;           /* poked while claiming: claim again when it ends */
    int closing;
    unsigned inflight; /* deliveries between claim and recorded result */
    delivery_t *list;
    webhook_stats_t stats;
};

struct delivery {
    webhook_sender_t *s;
    delivery_t *prev, *next;
    httpc_req_t *http;
    db_query_t *q;
    char id[24];
    int attempts;
    char url[2048];
};

static void claim(webhook_sender_t *s);

static void unlink_delivery(delivery_t *d)
{
    webhook_sender_t *s = d->s;
    if (d->prev != NULL)
        d->prev->next = d->next;
    else
        s->list = d->next;
    if (d->next != NULL)
        d->next->prev = d->prev;
    s->inflight--;
    free(d);
}

static void on_recorded(int err, PGresult *res, void *arg)
{
    delivery_t *d = arg;
    webhook_sender_t *s = d->s;
    d->q = NULL;
    if (err != 0)
        log_warn("webhook delivery %s: could not record the attempt (%s); it is retried when "
                 "its lease runs out",
                 d->id, acs_strerror(err));
    else if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "gave_up") == 0) {
        s->stats.gave_up++;
        log_warn("webhook delivery %s to %s: given up after %d attempts", d->id, d->url,
                 d->attempts);
    }
    unlink_delivery(d);
    claim(s);
}

/* Record the attempt: status 0 means no answer. */
static void record(delivery_t *d, int status, const char *error)
{
    webhook_sender_t *s = d->s;
    uint64_t delay = s->cfg.retry_ms;
    for (int i = 1; i < d->attempts && delay < s->cfg.retry_max_ms; i++)
        delay *= 2;
    if (delay > s->cfg.retry_max_ms)
        delay = s->cfg.retry_max_ms;
    char st[16], retry[40], max[16];
    snprintf(st, sizeof(st), "%d", status);
    snprintf(retry, sizeof(retry), "%llu milliseconds", (unsigned long long)delay);
    snprintf(max, sizeof(max), "%u", s->cfg.max_attempts);
    const char *params[] = {d->id, status > 0 ? st : NULL, error, retry, max};
    static const char sql[] = "SELECT acs_webhook_result($1::bigint, $2::int, $3, $4::interval,"
                              " $5::int)";
    if (db_query(s->pool, sql, 5, params, on_recorded, d, &d->q) != 0) {
        log_warn("webhook delivery %s: could not record the attempt (database unavailable); "
                 "it is retried when its lease runs out",
                 d->id);
        unlink_delivery(d);
    }
}

static void on_sent(int err, const httpc_response_t *resp, const char *why, void *arg)
{
    delivery_t *d = arg;
    d->http = NULL;
    if (err != 0) {
        d->s->stats.failed++;
        log_warn("webhook delivery %s to %s: %s (attempt %d)", d->id, d->url, why, d->attempts);
        record(d, 0, why);
        return;
    }
    if (resp->status >= 200 && resp->status <= 299) {
        d->s->stats.delivered++;
        record(d, resp->status, NULL);
        return;
    }
    d->s->stats.failed++;
    char msg[300];
    snprintf(msg, sizeof(msg), "the receiver answered %d: %.200s", resp->status, resp->body);
    log_warn("webhook delivery %s to %s: %s (attempt %d)", d->id, d->url, msg, d->attempts);
    record(d, resp->status, msg);
}

/* X-Acs-Signature: "sha256=" and the hex HMAC-SHA256 of the body under the webhook's secret. */
static void sign(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &maclen);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < maclen && i < 32; i++) {
        out[7 + 2 * i] = hex[mac[i] >> 4];
        out[8 + 2 * i] = hex[mac[i] & 15];
    }
    out[7 + 2 * (maclen < 32 ? maclen : 32)] = '\0';
}

static void send_one(webhook_sender_t *s, PGresult *res, int row)
{
    delivery_t *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return; /* the lease runs out and the row is claimed again */
    d->s = s;
    snprintf(d->id, sizeof(d->id), "%s", PQgetvalue(res, row, 0));
    snprintf(d->url, sizeof(d->url), "%s", PQgetvalue(res, row, 1));
    d->attempts = atoi(PQgetvalue(res, row, 5));
    const char *secret = PQgetvalue(res, row, 2);
    const char *event = PQgetvalue(res, row, 3);
    const char *body = PQgetvalue(res, row, 4);
    size_t len = (size_t)PQgetlength(res, row, 4);
    char sig[72], headers[512];
    sign(secret, body, len, sig);
    snprintf(headers, sizeof(headers),
             "Content-Type: application/json\r\nUser-Agent: acsfield-fieldd\r\n"
             "X-Acs-Event: %s\r\nX-Acs-Delivery: %s\r\nX-Acs-Attempt: %d\r\n"
             "X-Acs-Signature: %s\r\n",
             event, d->id, d->attempts, sig);
    d->next = s->list;
    if (s->list != NULL)
        s->list->prev = d;
    s->list = d;
    s->inflight++;
    int err = httpc_request(s->http, "POST", d->url, headers, body, len, on_sent, d, &d->http);
    if (err != 0) {
        s->stats.failed++;
        char why[200];
        snprintf(why, sizeof(why), "cannot send to %.120s: %s", d->url, acs_strerror(err));
        log_warn("webhook delivery %s: %s", d->id, why);
        record(d, 0, why);
    }
}

static void on_claimed(int err, PGresult *res, void *arg)
{
    webhook_sender_t *s = arg;
    s->claim_q = NULL;
    if (s->closing)
        return;
    if (err != 0) {
        /* The poll timer tries again; an outage is logged by the pool itself. */
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        send_one(s, res, i);
    if (s->again || (n > 0 && s->inflight < s->cfg.concurrency)) {
        s->again = 0;
        claim(s);
    }
}

static void claim(webhook_sender_t *s)
{
    if (s->closing)
        return;
    if (s->claim_q != NULL) {
        s->again = 1;
        return;
    }
    if (s->inflight >= s->cfg.concurrency)
        return; /* on_recorded claims again as room frees up */
    char limit[16], lease[40];
    snprintf(limit, sizeof(limit), "%u", s->cfg.concurrency - s->inflight);
    /* Long enough for connect + write + read, each bounded by the timeout, and the record. */
    snprintf(lease, sizeof(lease), "%llu milliseconds",
             (unsigned long long)(4 * s->cfg.timeout_ms + 10000));
    const char *params[] = {limit, lease};
    static const char sql[] = "SELECT * FROM acs_webhook_claim($1::int, $2::interval)";
    db_query(s->pool, sql, 2, params, on_claimed, s, &s->claim_q);
}

static void on_poll(uv_timer_t *t)
{
    claim(t->data);
}

int webhook_sender_new(uv_loop_t *loop, db_pool_t *pool, const webhook_config_t *cfg,
                       webhook_sender_t **out)
{
    *out = NULL;
    webhook_sender_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return ACS_ENOMEM;
    s->cfg = *cfg;
    if (s->cfg.concurrency == 0)
        s->cfg.concurrency = 1;
    s->pool = pool;
    /* Receivers answer with little; a big body is a misconfigured URL, not data we need. */
    int err = httpc_new(loop, cfg->timeout_ms, 64 * 1024, &s->http);
    if (err != 0) {
        free(s);
        return err;
    }
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_timer_start(&s->timer, on_poll, 0, cfg->poll_ms);
    *out = s;
    return 0;
}

void webhook_sender_poke(webhook_sender_t *s)
{
    if (s != NULL)
        claim(s);
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void webhook_sender_close(webhook_sender_t *s)
{
    if (s == NULL || s->closing)
        return;
    s->closing = 1;
    if (s->claim_q != NULL)
        db_query_abandon(s->claim_q);
    while (s->list != NULL) {
        delivery_t *d = s->list;
        if (d->http != NULL)
            httpc_cancel(d->http);
        if (d->q != NULL)
            db_query_abandon(d->q);
        unlink_delivery(d);
    }
    httpc_free(s->http);
    uv_close((uv_handle_t *)&s->timer, on_closed);
}

void webhook_sender_stats(const webhook_sender_t *s, webhook_stats_t *out)
{
    if (s == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    *out = s->stats;
}
