/* SPDX-License-Identifier: MIT */
/*
 * webhook.h - the webhook sender: takes due rows from the webhook_delivery outbox
 * (0007_webhooks.sql), POSTs each payload to its webhook's URL with an HMAC-SHA256 signature,
 * and records the outcome. Several fieldd instances may run senders on one database: a row is
 * claimed with FOR UPDATE SKIP LOCKED and a lease, so one instance at a time attempts it.
 *
 *   IDLE --poke / poll timer--> CLAIMING --rows--> SENDING (up to `concurrency` POSTs)
 *     ^                            |                  |  each answer: RECORDING its result
 *     +----- nothing due ----------+                  +--> CLAIMING again while there is room
 *
 *   transition                      function
 *   wake up (new rows, poll)        webhook_sender_poke, on_poll (static)
 *   claim due rows                  claim (static), acs_webhook_claim()
 *   POST one delivery               send_one (static), httpc_request
 *   record the attempt              on_sent (static), acs_webhook_result()
 *   stop                            webhook_sender_close
 *
 * Retries back off exponentially from retry_ms (doubling per attempt, at most retry_max_ms);
 * after max_attempts attempts a delivery is given up (gave_up_at set, visible in the API).
 */
#ifndef ACS_WEBHOOK_H
#define ACS_WEBHOOK_H

#include <stdint.h>
#include <uv.h>

#include "db.h"

typedef struct webhook_sender webhook_sender_t;

typedef struct {
    uint64_t timeout_ms;   /* each phase of one POST (connect, write, each read) */
    uint64_t retry_ms;     /* first retry delay */
    uint64_t retry_max_ms; /* longest retry delay */
    uint64_t poll_ms;      /* how often to look for due retries without a poke */
    unsigned max_attempts; /* attempts before giving up */
    unsigned concurrency;  /* POSTs in flight per instance */
} webhook_config_t;

typedef struct {
    uint64_t delivered; /* 2xx answers */
    uint64_t failed;    /* attempts that got no answer or a non-2xx one */
    uint64_t gave_up;   /* deliveries given up */
} webhook_stats_t;

/* Start a sender on loop; it looks for due rows at once. Returns 0 and *out, or ACS_ENOMEM /
 * ACS_EIO with *out = NULL. */
int webhook_sender_new(uv_loop_t *loop, db_pool_t *pool, const webhook_config_t *cfg,
                       webhook_sender_t **out);

/* New rows may be due (the 'webhook_delivery' notification). NULL is a no-op. */
void webhook_sender_poke(webhook_sender_t *s);

/* Stop: POSTs in flight are abandoned (their rows become due again when the lease runs out,
 * so a receiver may see them twice). Memory goes with the loop's next turn. NULL is a no-op. */
void webhook_sender_close(webhook_sender_t *s);

void webhook_sender_stats(const webhook_sender_t *s, webhook_stats_t *out);

#endif
